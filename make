#!/bin/sh
# ./make — make, on a machine that may not have it yet.
#
# A minimal Debian has no make.  As root, this installs it with apt, then
# runs it with the same arguments: "./make demo" and "./make test" work on
# a fresh machine, and are "make demo" and "make test" everywhere else.
set -e
if ! command -v make >/dev/null 2>&1; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "./make: make is missing; run this as root to install it" >&2
		exit 1
	fi
	echo "./make: installing make"
	DEBIAN_FRONTEND=noninteractive apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends make >/dev/null
fi
cd "$(dirname "$0")"
exec make "$@"
