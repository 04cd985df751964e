#!/usr/bin/env bash
# run-tests.sh — runs every suite, one phase at a time, and sums them up; non-zero on any failure.
#
# Each phase prints a header and its suites' own output; a failed phase does
# not stop the ones after it.  The summary gives each phase's count, time
# and result.  As root, the database suites run as postgres in one copy of
# the tree (scripts/as-postgres.sh): it is removed when every phase passed,
# and kept, its path printed, when one failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
export NSVAULT_STAGE=${NSVAULT_STAGE:-/tmp/nsvault-$(basename "$top")-stage}
logs=$(mktemp -d /tmp/nsvault-test-logs.XXXXXX)
trap 'rm -rf "$logs"' EXIT

names=() counts=() times=() results=()

# Runs phase $1: prints its header ($2), runs the command after them with
# its output on the screen and in a log, and counts its tests with
# count_$3 from that log.
phase() {
	local name=$1 what=$2 counter=$3 start=$SECONDS status log
	shift 3
	log=$logs/${#names[@]}.log
	printf '\n== %s: %s\n' "$name" "$what"
	"$@" 2>&1 | tee "$log"
	status=${PIPESTATUS[0]}
	names+=("$name")
	counts+=("$("count_$counter" "$log")")
	times+=("$((SECONDS - start))")
	if [ "$status" -eq 0 ]; then results+=(ok); else results+=(FAILED); fi
}

# The counters: one short line from each kind of suite's own output.
count_meta() {
	local problems
	problems=$(grep -vc ' is OK$' "$1")
	if [ "$problems" -eq 0 ]; then echo "META.json is OK"; else echo "$problems problems"; fi
}
count_unit() {
	local jx programs
	jx=$(grep -m 1 -E '^[0-9]+ passed, [0-9]+ failed$' "$1")
	programs=$(sed -n 's/^\(test_[a-z_]*\): all passed$/\1/p' "$1" | paste -sd ' ')
	echo "test_jx: ${jx:-did not finish}; all passed: ${programs:-none}"
}
count_man() {
	sed -n 's/^man-check: \([0-9]* pages, no warnings\)$/\1/p' "$1" | grep . ||
		echo "$(grep -c '^man-check: ' "$1") problems"
}
count_conformance() {
	grep -m 1 -E '^[0-9]+ passed, [0-9]+ failed$' "$1" || echo "did not finish"
}
count_regress() {
	grep -m 1 -oE '(All [0-9]+ tests passed|[0-9]+ of [0-9]+ tests failed)' "$1" || echo "did not finish"
}
# prove's summary, added up over its runs: "Files=27, Tests=1650, ...",
# and a "t/….pl (Wstat: 256 Tests: 12 Failed: 1)" line per failed file
count_tap() {
	awk '/^Files=[0-9]+, Tests=[0-9]+/ { split($0, f, /[=,]/); files += f[2]; tests += f[4]; runs++ }
		/^t\/.* \(Wstat: [0-9]+ Tests: [0-9]+ Failed: [0-9]+\)$/ {
			n = $0; sub(/.*Failed: /, "", n); sub(/\)$/, "", n); bad_files++; bad_tests += n
		}
		END {
			if (!runs) { print "did not finish"; exit }
			printf "%d files, %d tests", files, tests
			if (bad_files) printf "; %d failed files, %d failed tests", bad_files, bad_tests
			printf "\n"
		}' "$1"
}
count_quickstart() {
	sed -n 's/^# quickstart: \([0-9]* of [0-9]* commands passed\).*/\1/p' "$1" | grep . || echo "did not finish"
}

# pg_regress; its differences are printed when it fails
regress() {
	scripts/as-postgres.sh bash -c '
		status=0
		make -s installcheck TAP_TESTS= || status=$?
		if [ -s regression.diffs ]; then cat regression.diffs; fi
		exit $status'
}

# t/180 as the caller too (as root, the js(…) children's descriptors can be
# seen), then all of t/ as postgres; a failed run's tmp_check is kept as
# tmp_check_tap, since the valgrind phase makes tmp_check anew
tap() {
	local status=0
	prove t/180_batch_process.pl || status=$?
	scripts/as-postgres.sh bash -c '
		rm -rf tmp_check_tap
		make -s installcheck REGRESS= || { status=$?; mv tmp_check tmp_check_tap; exit $status; }' ||
		status=$?
	return "$status"
}

# the client's end-to-end tests again, under valgrind: any invalid access or
# leak makes the client exit 99, which fails them (--vgdb=no: no pipes left
# in /tmp).  Two at a time: valgrind keeps one core busy per client, and
# each test has clusters of its own.
tap_valgrind() {
	scripts/as-postgres.sh env NSVAULT_CLIENT_WRAPPER="valgrind -q --vgdb=no --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect --soname-synonyms=somalloc=NONE" \
		make -s installcheck REGRESS= PROVE_FLAGS=-j2 \
		PROVE_TESTS="t/050_client_admin.pl t/060_client_enrich.pl t/170_client_answers.pl t/190_credential_helpers.pl t/200_mask_run.pl t/215_run_all.pl"
}

start=$SECONDS
phase metadata "the PGXN metadata: the spec's rules, the control files' versions" meta \
	python3 test/check_meta.py
phase unit "the client's unit tests (client/test/), no database" unit \
	make -s -C client unit-test
phase man "the man pages, made from the --help texts, through groff -ww" man \
	make -s -C client man-check
phase conformance "the template engine against Direktiv's answers (client/test/jx-conformance/)" conformance \
	make -s -C client conformance
# as root, one copy of the tree for the phases that run as postgres
if [ "$(id -u)" -eq 0 ]; then
	scripts/as-postgres.sh true
	export NSVAULT_STAGE_REUSE=1
fi
phase regress "pg_regress: sql/ against expected/" regress regress
phase TAP "the TAP scenarios (t/), on clusters of their own" tap tap
phase "TAP under valgrind" "the client's end-to-end tests, under valgrind" tap tap_valgrind
phase quickstart "README.md's Quick start, as written, against the demo's clusters" quickstart \
	scripts/quickstart-test.sh

failed=()
printf '\n== summary\n'
printf '%-19s %-6s %6s  %s\n' phase result time count
for i in "${!names[@]}"; do
	printf '%-19s %-6s %3dm%02ds  %s\n' "${names[$i]}" "${results[$i]}" \
		$((times[i] / 60)) $((times[i] % 60)) "${counts[$i]}"
	[ "${results[$i]}" = ok ] || failed+=("${names[$i]}")
done
total=$((SECONDS - start))
if [ ${#failed[@]} -eq 0 ]; then
	printf 'make test: all %d phases passed in %dm%02ds\n' "${#names[@]}" $((total / 60)) $((total % 60))
	[ "$(id -u)" -ne 0 ] || rm -rf "$NSVAULT_STAGE"
	exit 0
fi
printf -v list '%s, ' "${failed[@]}"
printf 'make test: %d of %d phases failed (%s) in %dm%02ds\n' "${#failed[@]}" "${#names[@]}" \
	"${list%, }" $((total / 60)) $((total % 60))
where=$top
[ "$(id -u)" -ne 0 ] || where=$NSVAULT_STAGE
kept=()
for f in regression.diffs tmp_check/log tmp_check_tap/log; do
	[ ! -e "$where/$f" ] || kept+=("$f")
done
echo "make test: the suites' files are kept in $where${kept[*]+ (${kept[*]})}"
exit 1
