#!/usr/bin/env bash
# fuzz.sh TARGET... — runs each libFuzzer target for FUZZ_SECONDS from its
# seed corpus in fuzz/corpus/; fails on the first crash, leaving the input
# that caused it under fuzz/build/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${FUZZ_SECONDS:-60}
mkdir -p fuzz/build/artifacts
# full stacks, so that the suppression of libjq's own leaks can match
export ASAN_OPTIONS=fast_unwind_on_malloc=0
export LSAN_OPTIONS=suppressions=$PWD/fuzz/lsan.supp
# js(...) runs in nsvault-js, which the targets do not sit beside
export NSVAULT_JS_HELPER=$PWD/client/nsvault-js

for target in "$@"; do
	name=$(basename "$target")
	corpus_name=${name#fuzz_}
	work=fuzz/build/corpus-$corpus_name
	mkdir -p "$work"
	options=(-max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048
			 -artifact_prefix=fuzz/build/artifacts/"$name"- -print_final_stats=1)
	echo "fuzz: $name for ${seconds}s"
	if ! "$target" "${options[@]}" "$work" "fuzz/corpus/$corpus_name" \
		> "fuzz/build/$name.log" 2>&1; then
		tail -40 "fuzz/build/$name.log"
		echo "fuzz: $name failed; the input is under fuzz/build/artifacts/" >&2
		exit 1
	fi
	grep -E "stat::number_of_executed_units|Done" "fuzz/build/$name.log" | tail -2
done
echo "fuzz: no crash"
