#!/bin/sh
# ./make — make, on a machine that may not have it yet.
#
# A minimal Debian has no make.  As root, this installs it with apt, then
# runs it with the same arguments: "./make demo" and "./make test" work on
# a fresh machine, and are "make demo" and "make test" everywhere else.
set -e
top=$(cd "$(dirname "$0")" && pwd)
if ! command -v make >/dev/null 2>&1; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "./make: make is missing; run this as root to install it" >&2
		exit 1
	fi
	# apt's output goes to the setup's log (scripts/progress.sh)
	log=${NSVAULT_SETUP_LOG:-$top/setup.log}
	echo "setup: installing make (log: $log)"
	if ! {
		DEBIAN_FRONTEND=noninteractive apt-get update -q &&
			DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends make
	} >>"$log" 2>&1 </dev/null; then
		echo "setup: installing make failed; the log's last lines:" >&2
		tail -n 25 "$log" | sed 's/^/  | /' >&2
		exit 1
	fi
fi
cd "$top"
exec make "$@"
