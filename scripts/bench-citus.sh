#!/usr/bin/env bash
# bench-citus.sh — make bench-citus: nsvault on Citus against a single node
# (t/bench/citus.pl: reads and writes per second through the coordinator,
# and on a worker directly), printed as a table.  Not part of make bench:
# it needs Citus (make deps-citus).  As root it runs as postgres in a copy
# of the tree (scripts/as-postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
export NSVAULT_STAGE=${NSVAULT_STAGE:-/tmp/nsvault-$(basename "$(pwd)")-bench-citus}
scripts/as-postgres.sh bash -c 'make -s installcheck REGRESS= PROVE_FLAGS=-v PROVE_TESTS=t/bench/citus.pl' 2>&1 |
	sed -n 's/^# \(\(id\|C[0-9]\) .*\)/\1/p'
[ "$(id -u)" -ne 0 ] || rm -rf "$NSVAULT_STAGE"
