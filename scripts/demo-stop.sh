#!/usr/bin/env bash
# demo-stop.sh — stops the demo's clusters and removes them.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
DEMO=${DEMO:-$top/.demo}
[ -e "$DEMO" ] || exit 0
dir=$(readlink -f "$DEMO")
bindir=$(pg_config --bindir)

for c in main key; do
	[ -f "$dir/$c/postmaster.pid" ] || continue
	if [ "$(id -u)" -eq 0 ]; then
		# from the clusters' directory: postgres may not enter the checkout
		(cd "$dir" && runuser -u postgres -- "$bindir/pg_ctl" -D "$dir/$c" -m fast -w stop >/dev/null)
	else
		"$bindir/pg_ctl" -D "$dir/$c" -m fast -w stop >/dev/null
	fi
done
rm -rf "$dir"
[ -L "$DEMO" ] && rm -f "$DEMO"
echo "demo clusters stopped and removed"
