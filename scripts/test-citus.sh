#!/usr/bin/env bash
# test-citus.sh — make test-citus: the scale-out scenarios (t/citus/), each
# on a key cluster, a Citus coordinator and workers of its own on this
# machine.  Needs Citus installed (make deps-citus); as root, the tests run
# as postgres in a copy of the tree (scripts/as-postgres.sh), kept with its
# logs when a test failed.
set -euo pipefail
cd "$(dirname "$0")/.."
export NSVAULT_STAGE=${NSVAULT_STAGE:-/tmp/nsvault-$(basename "$(pwd)")-citus-stage}

scripts/as-postgres.sh bash -c 'make -s installcheck REGRESS= PROVE_TESTS="t/citus/*.pl"' || {
	status=$?
	echo "test-citus: failed; the clusters' logs are in $NSVAULT_STAGE/tmp_check/log" >&2
	exit "$status"
}
[ "$(id -u)" -ne 0 ] || rm -rf "$NSVAULT_STAGE"
