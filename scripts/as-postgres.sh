#!/usr/bin/env bash
# as-postgres.sh — runs a command in this tree, as postgres when started as root.
#
# PostgreSQL refuses to run as root, so root's runs happen as postgres in a
# copy of the tree under /tmp that postgres owns (root's checkout may sit in
# a folder postgres cannot enter).  The copy's path is printed on stderr.
# With NSVAULT_STAGE_REUSE set, a copy an earlier call made is used as it is
# (run-tests.sh's phases share one, each leaving its results there).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
# the tests' clusters are UTF-8 whatever the caller's locale (a minimal
# system sets none, and initdb would then choose SQL_ASCII)
export LANG=C.UTF-8
unset LC_ALL LC_CTYPE LC_COLLATE

if [ "$(id -u)" -ne 0 ]; then
	cd "$top"
	exec "$@"
fi

stage=${NSVAULT_STAGE:-/tmp/nsvault-$(basename "$top")-stage}
if [ -z "${NSVAULT_STAGE_REUSE:-}" ] || [ ! -d "$stage" ]; then
	rm -rf "$stage"
	mkdir -p "$stage"
	tar -C "$top" --exclude=./.git --exclude=./tmp_check --exclude=./tmp_check_regress \
		--exclude=./tmp_check_tap --exclude=./results --exclude=./.demo --exclude=./.bench \
		--exclude=./fuzz/build --exclude=./setup.log -cf - . | tar -C "$stage" -xf -
	chown -R postgres:postgres "$stage"
	echo "as-postgres: running in $stage" >&2
fi
cd "$stage"
exec runuser -u postgres -- "$@"
