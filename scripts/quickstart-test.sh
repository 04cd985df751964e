#!/usr/bin/env bash
# quickstart-test.sh — runs the README's Quick start, as written, against the demo's clusters.
#
# Starts scripts/demo.sh in a scratch folder, on ports of its own, and runs
# each command of the ```sh and ```sql blocks of README.md's "Quick start"
# from a folder where .demo is that demo and examples/ the checkout's:
#   - a sh command (lines joined at a trailing \) with bash, in this shell,
#     so that an export holds for the commands after it;
#   - a SQL statement with the psql command that its block's first line
#     names ("-- psql …"), the statement on standard input.
# Comment lines right after a command show its output: each must be found
# in a line of what the command prints, "…" standing for anything.  Then
# the lines the demo printed for its users (export, nsvault, psql) are run.
# Prints a TAP line per command; exit 1 if any failed.
#
# As root the commands run as root, whom the demo's pg_ident.conf map lets
# in; as another user, as that user.
set -euo pipefail
qs_top=$(cd "$(dirname "$0")/.." && pwd)
qs_key_port=${NSVAULT_QUICKSTART_KEY_PORT:-54351}
qs_main_port=${NSVAULT_QUICKSTART_MAIN_PORT:-54350}
export LANG=C.UTF-8
unset LC_ALL

# 755: as root, the demo's clusters under it belong to postgres
qs_dir=$(mktemp -d /tmp/nsvault-quickstart.XXXXXX)
chmod 755 "$qs_dir"
qs_stop() {
	DEMO=$qs_dir/.demo "$qs_top/scripts/demo-stop.sh" >/dev/null 2>&1 || true
	rm -rf "$qs_dir"
}
trap qs_stop EXIT
ln -s "$qs_top/examples" "$qs_dir/examples"

echo "# starting the demo on ports $qs_key_port and $qs_main_port"
if ! DEMO=$qs_dir/.demo NSVAULT_DEMO_KEY_PORT=$qs_key_port NSVAULT_DEMO_MAIN_PORT=$qs_main_port \
	NSVAULT_SETUP_LOG=$qs_dir/setup.log "$qs_top/scripts/demo.sh" >"$qs_dir/demo.out" 2>&1; then
	echo "not ok 1 - the demo starts"
	sed 's/^/# /' "$qs_dir/demo.out" | tail -n 40
	exit 1
fi

# README.md's Quick start, one file per code block: block-NN.sh, block-NN.sql
awk -v dir="$qs_dir" '
	/^## / { in_section = ($0 == "## Quick start"); next }
	!in_section { next }
	/^```(sh|sql)$/ { n++; file = sprintf("%s/block-%02d.%s", dir, n, substr($0, 4)); in_block = 1; next }
	/^```/ { if (in_block) close(file); in_block = 0; next }
	in_block { print > file }
' "$qs_top/README.md"
qs_blocks=("$qs_dir"/block-*)
if [ ! -e "${qs_blocks[0]}" ]; then
	echo "not ok 1 - README.md has a Quick start with sh or sql blocks"
	exit 1
fi

qs_n=0
qs_failed=0
qs_checked=0

# Prints a glob that finds the expected text $1 in a line ("…": anything).
qs_pattern() {
	local rest=$1 pat='*'
	while [[ $rest == *…* ]]; do
		pat+=$(sed 's/[][*?\\]/\\&/g' <<<"${rest%%…*}")'*'
		rest=${rest#*…}
	done
	printf '%s' "$pat$(sed 's/[][*?\\]/\\&/g' <<<"$rest")*"
}

# Runs command $1 (shown as $2; $3: psql for a SQL statement, or empty)
# and checks its output against the expected lines that follow.
qs_run() {
	local cmd=$1 shown=$2 psql=$3 status=0 line expected found problem=""
	shift 3
	qs_n=$((qs_n + 1))
	if [ -n "$psql" ]; then
		eval "$psql -X -v ON_ERROR_STOP=1" <<<"$cmd" >"$qs_dir/out" 2>"$qs_dir/err" || status=$?
	else
		eval "$cmd" </dev/null >"$qs_dir/out" 2>"$qs_dir/err" || status=$?
	fi
	[ "$status" -eq 0 ] || problem="exit status $status"
	for expected in "$@"; do
		qs_checked=$((qs_checked + 1))
		found=false
		while IFS= read -r line || [ -n "$line" ]; do
			# shellcheck disable=SC2053 # the right side is a pattern
			if [[ $line == $(qs_pattern "$expected") ]]; then found=true; break; fi
		done <"$qs_dir/out"
		$found || problem+="${problem:+; }no line with: $expected"
	done
	if [ -z "$problem" ]; then
		echo "ok $qs_n - $shown"
	else
		qs_failed=$((qs_failed + 1))
		echo "not ok $qs_n - $shown"
		echo "# $problem"
		awk '{ print "# stdout: " $0 }' "$qs_dir/out"
		awk '{ print "# stderr: " $0 }' "$qs_dir/err"
	fi
}

# Runs the commands of one block; $1: sh or sql.
qs_block() {
	local kind=$1 file=$2 line cmd="" psql="" comment statement
	local -a expected=() lines
	[ "$kind" = sh ] && comment='#' || comment='--'
	mapfile -t lines <"$file"
	# a command ends, with the expected lines after it, at the next command
	qs_flush() {
		[ -n "$cmd" ] || return 0
		qs_run "$cmd" "${psql:+$psql: }$(head -n 1 <<<"$cmd")" "$psql" ${expected[@]+"${expected[@]}"}
		cmd=""
		expected=()
	}
	statement=""
	for line in "${lines[@]}" ""; do
		if [[ $line == "$comment"* ]] && [ -z "$statement" ]; then
			line=${line#"$comment"}
			line=${line# }
			if [ -n "$cmd" ]; then
				expected+=("$line")
			elif [ "$kind" = sql ] && [ -z "$psql" ] && [[ $line == psql* ]]; then
				psql=$line
			fi
			continue
		fi
		# any other line ends the expected lines of the command before
		[ -n "$statement" ] || qs_flush
		[ -n "$line$statement" ] || continue
		statement+=${statement:+$'\n'}$line
		if [ "$kind" = sh ]; then
			# a trailing backslash continues the command
			[[ $line == *\\ ]] && continue
		else
			# a statement ends at a semicolon, before any trailing comment
			[[ $(sed 's/[[:space:]]*--.*$//; s/[[:space:]]*$//' <<<"$line") == *\; ]] || continue
			if [ -z "$psql" ]; then
				qs_n=$((qs_n + 1)) qs_failed=$((qs_failed + 1))
				echo "not ok $qs_n - ${file##*/}: no '-- psql …' line before its first statement"
				return
			fi
		fi
		cmd=$statement
		statement=""
	done
	if [ -n "$statement" ]; then
		qs_n=$((qs_n + 1)) qs_failed=$((qs_failed + 1))
		echo "not ok $qs_n - ${file##*/}: a command does not end: $(head -n 1 <<<"$statement")"
	fi
	qs_flush
}

cd "$qs_dir"
for qs_file in "${qs_blocks[@]}"; do
	echo "# README.md, Quick start: ${qs_file##*/}"
	qs_block "${qs_file##*.}" "$qs_file"
done

# what the demo printed for its users, at its end
echo "# the lines the demo printed"
while IFS= read -r qs_line; do
	qs_line=${qs_line#"   "}
	qs_line=${qs_line%%  #*}
	qs_line=${qs_line%"${qs_line##*[![:space:]]}"}
	case $qs_line in
		export\ * | nsvault\ *) qs_run "$qs_line" "$qs_line" "" ;;
		psql\ *) qs_run "SELECT current_user;" "$qs_line" "$qs_line" ;;
	esac
done < <(sed -n '/^== the clusters run under/,$p' "$qs_dir/demo.out")

echo "1..$qs_n"
echo "# quickstart: $((qs_n - qs_failed)) of $qs_n commands passed, $qs_checked outputs checked"
[ "$qs_failed" -eq 0 ]
