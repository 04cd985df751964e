#!/usr/bin/env bash
# package.sh [OUTDIR] — builds the Debian packages (postgresql-15-nsvault,
# nsvault-client) from this checkout into OUTDIR (build/packages).
#
# dpkg-buildpackage writes its .debs into the parent of the tree it builds,
# and leaves build-15/ and debian/<package>/ in the tree: it runs in a copy
# of the checkout's files (tracked, and untracked but not ignored) under
# OUTDIR, so that nothing lands beside or inside the checkout.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-$top/build/packages}

for tool in dpkg-buildpackage pg_buildext dh; do
	if ! command -v "$tool" >/dev/null; then
		echo "package: $tool is missing: apt-get install dpkg-dev postgresql-server-dev-all debhelper" >&2
		exit 1
	fi
done

# the upstream part of debian/changelog's version names the tree's folder,
# as dpkg-source expects (nsvault-0.9.0)
version=$(cd "$top" && dpkg-parsechangelog -SVersion)
src=$out/nsvault-${version%-*}
mkdir -p "$out"
rm -rf "$src"
rm -f "$out"/*.deb "$out"/*.changes "$out"/*.buildinfo
mkdir -p "$src"
(cd "$top" && git ls-files -z --cached --others --exclude-standard) |
	(cd "$top" && xargs -0 tar -cf - --no-recursion --ignore-failed-read 2>/dev/null) | tar -xf - -C "$src"

echo "package: building in $src (log: $out/build.log)"
if ! (cd "$src" && dpkg-buildpackage -us -uc -b) >"$out/build.log" 2>&1; then
	echo "package: dpkg-buildpackage failed; its last lines:" >&2
	tail -n 25 "$out/build.log" | sed 's/^/  | /' >&2
	exit 1
fi
rm -rf "$src"
ls -1 "$out"/*.deb "$out"/*.changes
