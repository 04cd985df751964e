#!/usr/bin/env bash
# run-tests.sh — runs the unit, pg_regress and TAP suites; non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

# the template engine's unit tests need no database
make -s unit-test || exit 1

scripts/as-postgres.sh bash -c '
	status=0
	make -s installcheck || status=$?
	if [ -s regression.diffs ]; then cat regression.diffs; fi
	exit $status
'
