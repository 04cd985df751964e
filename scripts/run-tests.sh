#!/usr/bin/env bash
# run-tests.sh — runs the pg_regress and TAP suites; non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

scripts/as-postgres.sh bash -c '
	status=0
	make -s installcheck || status=$?
	if [ -s regression.diffs ]; then cat regression.diffs; fi
	exit $status
'
