#!/usr/bin/env bash
# deps-citus.sh — builds Citus from its build tree and installs it into the
# PostgreSQL 15 tree, once: for make test-citus, never for nsvault itself.
#
# Citus is not in Debian's archive.  Its build tree (Citus v13.2.2, AGPL-3.0,
# tests left out) is not part of this repository: it is read from
# NSVAULT_CITUS_TARBALL, by default ../shared/vendor/citus-13.2.2.tar.xz
# beside the checkout.  Skips everything when citus.so is installed.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck source=progress.sh
. "$top/scripts/progress.sh"
progress_prefix=setup

pkglibdir=$(pg_config --pkglibdir)
if [ -e "$pkglibdir/citus.so" ]; then
	exit 0
fi
tarball=${NSVAULT_CITUS_TARBALL:-$top/../shared/vendor/citus-13.2.2.tar.xz}
if [ ! -r "$tarball" ]; then
	echo "deps-citus: Citus's build tree is not at $tarball; set NSVAULT_CITUS_TARBALL to it" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps-citus: run 'make deps-citus' as root: it installs packages and writes to $pkglibdir" >&2
	exit 1
fi

# what unpacking the build tree and Citus's configure need beyond what make
# deps installs
packages=(xz-utils libzstd-dev liblz4-dev libcurl4-openssl-dev libkrb5-dev)
missing=()
for p in "${packages[@]}"; do
	[ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null)" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	step "installing Citus's build packages: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	quietly apt-get update -q
	quietly apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

build=$(mktemp -d /tmp/nsvault-citus-build.XXXXXX)
trap 'rm -rf "$build"' EXIT
step "building Citus from $(basename "$tarball") (a few minutes)"
tar -C "$build" -xJf "$tarball"
src=$(find "$build" -mindepth 1 -maxdepth 1 -type d | head -n 1)
(cd "$src" && quietly ./configure && quietly make -j"$(nproc)")
step "installing Citus into $pkglibdir"
(cd "$src" && quietly make install)
