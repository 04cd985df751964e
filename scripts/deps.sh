#!/usr/bin/env bash
# deps.sh — installs with apt whatever building and testing nsvault needs.
#
# postgresql-server-dev-15 is pinned to the installed server's version: an
# unpinned install would upgrade the server along with it.
set -euo pipefail

# jq and nodejs: test_mask masks values as the jq and node programs write them
packages=(postgresql-15 postgresql-contrib libpq-dev libipc-run-perl openssl
		  libssl-dev make gcc libjansson-dev libjq-dev libonig-dev libyaml-dev duktape-dev valgrind
		  python3 jq nodejs)
# make fuzz: clang and its libFuzzer runtime
if [ "${1:-}" = "--fuzz" ]; then
	packages+=(clang libclang-rt-dev)
fi
# make bench: arithmetic for the table, the latency plot, and GNU time for
# the client's peak RSS (bash's time keyword has no memory figure)
if [ "${1:-}" = "--bench" ]; then
	packages+=(bc gnuplot-nox time)
fi

installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

server_version() {
	dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null || true
}

missing=()
for p in "${packages[@]}"; do
	installed "$p" || missing+=("$p")
done
dev_ok=false
if installed postgresql-server-dev-15 &&
	[ "$(dpkg-query -W -f='${Version}' postgresql-server-dev-15)" = "$(server_version)" ]; then
	dev_ok=true
fi

if [ ${#missing[@]} -eq 0 ] && $dev_ok; then
	exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]} ${dev_ok/true/}${dev_ok/false/postgresql-server-dev-15}" >&2
	echo "deps: run 'make deps' as root to install them" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "deps: installing ${missing[*]} postgresql-server-dev-15"
apt-get update -qq
if [ ${#missing[@]} -gt 0 ]; then
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
apt-get install -y -qq --no-install-recommends "postgresql-server-dev-15=$(server_version)" >/dev/null
