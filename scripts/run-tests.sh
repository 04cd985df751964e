#!/usr/bin/env bash
# run-tests.sh — runs the unit, pg_regress and TAP suites; non-zero on any failure.
set -uo pipefail
cd "$(dirname "$0")/.."

# the PGXN metadata: the spec's rules, and the versions of the control files
python3 test/check_meta.py || exit 1

# the client's own tests need no database: the template engine's unit
# tests, and its answers against Direktiv's (client/test/)
make -s -C client check || exit 1

# the batch process and its js(...) children, as the caller (as root, the
# children's descriptors can be seen); again as postgres below
prove t/180_batch_process.pl || exit 1

# the client's end-to-end tests run a second time under valgrind: any
# invalid access or leak makes the client exit 99, which fails them
scripts/as-postgres.sh bash -c '
	status=0
	make -s installcheck || status=$?
	if [ -s regression.diffs ]; then cat regression.diffs; fi
	[ $status -eq 0 ] || exit $status
	NSVAULT_CLIENT_WRAPPER="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --soname-synonyms=somalloc=NONE" \
		make -s installcheck REGRESS= PROVE_TESTS="t/050_client_admin.pl t/060_client_enrich.pl t/170_client_answers.pl t/190_credential_helpers.pl t/200_mask_run.pl"
'
