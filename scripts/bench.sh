#!/usr/bin/env bash
# bench.sh — make bench: starts its own clusters under .bench/ and measures
# each pair of the performance issue side by side, alternating A B A B for
# ROUNDS rounds (median of each), and prints one table of the two figures,
# their ratio and the goal.  The table is also written to .bench/results.csv.
# Its last row, M4, is nsvault mask's seconds over 200 MB of text with 50
# random secrets over grep -F -f's with the same values.
#
# After the table, reports without a goal (also in results.csv, with goal
# "report" and met "-"):
#   audit writer  W1  the audit writer's CPU (utime + stime) per read event
#                     it inserted, in µs, over a -c 8 load of get_secret
#   client CPU    C4  the client's CPU (utime + stime) per request, in µs,
#                     over P4's enrich --batch runs; C10 the same over P10's
#                     two (A: 1,000 distinct templates, B: one)
#   memory        M1  the client's peak RSS (kB) over the 5,000-request
#                     enrich --batch run (GNU time's %M)
#                 M2  one bench_reader backend's growth (kB) after touching
#                     10,000 namespaces: all its memory contexts / the
#                     "nsvault key cache" context ("-" when the cache is in
#                     shared memory and so not the backend's own)
#                 M3  the same backend's RssAnon growth (kB), which also sees
#                     what is malloc'd outside memory contexts (libpq of
#                     dblink, OpenSSL)
#                 P5, P5r, M2 and M3 need the big data set: not with
#                 BENCH_SKIP_BIG
#   latency       .bench/latency.csv (n,get_secrets_ms,n_get_secret_ms): ms
#                 per action needing N secrets, for N in 1 2 5 10 20 50, as
#                 one get_secrets call and as N get_secret calls, and its
#                 plot .bench/latency.png (skipped if gnuplot is missing)
#
# BENCH_ROWS="P1 P7 W1" runs only those rows; the reports and the latency
# curve then run only when named too (M1 M2 M3 W1, LAT for the curve), and
# the big data set is loaded only for P5, P5r, M2 or M3.
#
# Figures are only comparable within one run: these machines are noisy, so
# only the ratios mean anything.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export DEMO=${BENCH_DIR:-$top/.bench}
export KEY_PORT=${NSVAULT_BENCH_KEY_PORT:-54341}
export MAIN_PORT=${NSVAULT_BENCH_MAIN_PORT:-54340}
ROUNDS=${ROUNDS:-3}
SECONDS_PER_RUN=${SECONDS_PER_RUN:-5}

# BENCH_ROWS: the ids to run, all when unset or empty.  An unknown id is an
# error, so that a typo does not quietly run nothing.
all_rows="P1 P2 P1a P2a P7 P8 P3 P4 P4js P10 P5 P5r P6 P9 M4 W1 M1 M2 M3 LAT"
read -ra rows <<<"${BENCH_ROWS:-}"
for id in "${rows[@]}"; do
	[[ " $all_rows " == *" $id "* ]] || { echo "bench: unknown row $id in BENCH_ROWS (rows: $all_rows)" >&2; exit 1; }
done
want() { [ "${#rows[@]}" -eq 0 ] || [[ " ${rows[*]} " == *" $1 "* ]]; }
# the 1,000,000 secrets take minutes to load: only for the rows that read them
big=
if [ -z "${BENCH_SKIP_BIG:-}" ] && { want P5 || want P5r || want M2 || want M3; }; then big=1; fi

if [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$DEMO"
	chown -R postgres:postgres "$DEMO"
	runuser -u postgres -- test -x "$top/scripts/bench.sh" ||
		{ echo "bench: postgres cannot enter $top; run make bench as a user who can" >&2; exit 1; }
	# postgres writes to root's setup log through the descriptor opened here
	# shellcheck source=progress.sh
	. "$top/scripts/progress.sh"
	exec runuser -u postgres -- env DEMO="$DEMO" ROUNDS="$ROUNDS" SECONDS_PER_RUN="$SECONDS_PER_RUN" \
		NSVAULT_BENCH_KEY_PORT="$KEY_PORT" NSVAULT_BENCH_MAIN_PORT="$MAIN_PORT" \
		NSVAULT_SETUP_LOG="$NSVAULT_SETUP_LOG" NSVAULT_SETUP_LOG_FD="$NSVAULT_SETUP_LOG_FD" \
		bash "$top/scripts/bench.sh"
fi

progress_prefix=bench
# shellcheck source=clusters.sh
. "$top/scripts/clusters.sh"
clusters_stop
rm -rf "${DEMO:?}"/{key,main,run,log,certs,work}
clusters_start
trap clusters_stop EXIT
# the benchmark connects as bench_reader, a role with read grants only (and
# as bench_unaudited, the same with nsvault.audit off, for reference rows),
# and for P9 as bench_writer, with a write grant on one namespace
printf 'local all bench_reader,bench_unaudited,bench_writer trust\n%s\n' "$(cat "$DEMO/main/pg_hba.conf")" > "$DEMO/main/pg_hba.conf"
# room for the 1,000,000-secret table and its index (about 250 MB), so that
# P5 measures nsvault rather than reads from the OS page cache
echo "shared_buffers = 1GB" >> "$DEMO/main/postgresql.conf"
"$bindir/pg_ctl" -D "$DEMO/main" -l "$DEMO/log/main.log" -w restart >/dev/null
work=$DEMO/work
mkdir -p "$work"
client=$(command -v nsvault || echo "$top/client/nsvault")
pgbench="$bindir/pgbench"
conninfo="host=$DEMO/run port=$MAIN_PORT dbname=nsvault_demo"

echo "bench: loading data"
main_psql -d nsvault_demo <<'SQL'
SET nsvault.audit = off;
CREATE ROLE bench_reader LOGIN;
-- M2 reads the reader's own pg_backend_memory_contexts, which PG 15 grants
-- only to pg_read_all_stats; it adds no access to secrets or tables
GRANT pg_read_all_stats TO bench_reader;
CREATE TABLE plain_secrets (namespace text, name text, value text, PRIMARY KEY (namespace, name));
GRANT SELECT ON plain_secrets TO bench_reader;
INSERT INTO plain_secrets VALUES ('demo', 'secretToken', 'demo-bearer-token-8QwFLg');
SELECT nsvault.set_secret('demo', 'secretToken', 'demo-bearer-token-8QwFLg') \g /dev/null
-- P8 reads version 1 of a secret that has three
SELECT nsvault.set_secret('demo', 'rotated', 'rotated-value-' || i) FROM generate_series(1, 3) i \g /dev/null
SELECT nsvault.set_secret('demo', 's' || i, 'value-' || i) FROM generate_series(1, 50) i \g /dev/null
SELECT nsvault.set_secret('small', 's' || i, 'value-' || i) FROM generate_series(1, 1000) i \g /dev/null
SELECT nsvault.grant_namespace('demo', 'bench_reader', 'read') \g /dev/null
SELECT nsvault.grant_namespace('small', 'bench_reader', 'read') \g /dev/null
CREATE ROLE bench_unaudited LOGIN IN ROLE bench_reader;
ALTER ROLE bench_unaudited SET nsvault.audit = off;
-- P9: bench_writer updates one of 1,000 existing names on each side, so that
-- both sides measure updates (nsvault keeps its default of the newest 10
-- versions a secret and removes older ones, as it does for a user)
CREATE ROLE bench_writer LOGIN;
SELECT nsvault.set_secret('write_ns', 'w' || i, md5(random()::text) || md5(random()::text))
  FROM generate_series(1, 1000) i \g /dev/null
SELECT nsvault.grant_namespace('write_ns', 'bench_writer', 'write') \g /dev/null
CREATE TABLE plain_writes (namespace text, name text, value text, PRIMARY KEY (namespace, name));
GRANT SELECT, INSERT, UPDATE ON plain_writes TO bench_writer;
INSERT INTO plain_writes SELECT 'write_ns', 'w' || i, md5(random()::text) || md5(random()::text)
  FROM generate_series(1, 1000) i;
SQL
if [ -n "$big" ]; then
	echo "bench: loading 1,000,000 secrets in 10,000 namespaces"
	main_psql -d nsvault_demo <<'SQL'
SET nsvault.audit = off;
SELECT nsvault.set_secret('big' || (i % 10000), 's' || i, 'value-' || i)
  FROM generate_series(1, 1000000) i \g /dev/null
SELECT nsvault.grant_namespace('big' || n, 'bench_reader', 'read') FROM generate_series(0, 9999) n \g /dev/null
CREATE EXTENSION pg_prewarm;
SQL
	if want P5; then
		# P5's baseline: the same pairs and values in a plain table, its
		# primary key made before the rows go in, as nsvault's was, so that
		# the two indexes are built alike (not plain_secrets: P1's baseline
		# stays a one-row table)
		echo "bench: loading the same 1,000,000 rows into a plain table"
		main_psql -d nsvault_demo <<'SQL'
CREATE TABLE plain_big (namespace text, name text, value text, PRIMARY KEY (namespace, name));
GRANT SELECT ON plain_big TO bench_reader;
INSERT INTO plain_big SELECT 'big' || (i % 10000), 's' || i, 'value-' || i
  FROM generate_series(1, 1000000) i;
SELECT pg_prewarm('plain_big'), pg_prewarm('plain_big_pkey') \g /dev/null
SQL
	fi
	# vacuumed now, so that autovacuum does not run into the timed pairs
	main_psql -d nsvault_demo -c "VACUUM ANALYZE" \
		-c "SELECT pg_prewarm('nsvault.secrets'), pg_prewarm('nsvault.secrets_pkey')" >/dev/null
fi

names50=$(seq -s, 1 50 | sed 's/\([0-9]*\)/s\1/g')
printf '%s\n' "SELECT value FROM plain_secrets WHERE namespace = 'demo' AND name = 'secretToken';" > "$work/plain.sql"
printf '%s\n' "SELECT nsvault.get_secret('demo', 'secretToken');" > "$work/get.sql"
printf '%s\n' "SELECT nsvault.get_secret('demo', 'rotated', 1);" > "$work/get_old.sql"
printf '%s\n' "SELECT nsvault.get_secrets('demo', ARRAY['secretToken']);" > "$work/get1.sql"
printf '%s\n' "SELECT nsvault.get_secrets('demo', '{$names50}');" > "$work/get50.sql"
printf '%s\n' '\set i random(1, 1000000)' "SELECT nsvault.get_secret('big' || (:i % 10000), 's' || :i);" > "$work/big.sql"
printf '%s\n' '\set i random(1, 1000)' "SELECT nsvault.get_secret('small', 's' || :i);" > "$work/small.sql"
printf '%s\n' '\set i random(1, 1000000)' \
	"SELECT value FROM plain_big WHERE namespace = 'big' || (:i % 10000) AND name = 's' || :i;" > "$work/plain_big.sql"
# P9: the same random name and the same 64-character random value on both sides
value64='md5(random()::text) || md5(random()::text)'
printf '%s\n' '\set i random(1, 1000)' "SELECT nsvault.set_secret('write_ns', 'w' || :i, $value64);" > "$work/set.sql"
printf '%s\n' '\set i random(1, 1000)' "INSERT INTO plain_writes VALUES ('write_ns', 'w' || :i, $value64)
  ON CONFLICT (namespace, name) DO UPDATE SET value = excluded.value;" > "$work/plain_set.sql"

# TPS of one pgbench run of script $1 (extra options after it), as bench_reader
# (as BENCH_ROLE when set)
tps() {
	local script=$1
	shift
	"$pgbench" -n -M prepared -c 1 -T "$SECONDS_PER_RUN" "$@" -f "$work/$script" \
		-h "$DEMO/run" -p "$MAIN_PORT" -U "${BENCH_ROLE:-bench_reader}" nsvault_demo 2>/dev/null |
		sed -n 's/^tps = \([0-9.]*\).*/\1/p'
}

# wall seconds of N runs of a command line, per run
per_run() {
	local n=$1
	shift
	local start end
	start=$(date +%s%N)
	for _ in $(seq "$n"); do "$@" >/dev/null; done
	end=$(date +%s%N)
	echo "scale=6; ($end - $start) / 1000000000 / $n" | bc
}

enrich_once() { "$client" -d "$conninfo user=bench_reader" enrich --namespace demo \
	--workflow "$top/examples/httpget.yaml" --state getter --data "$top/examples/httpget-data.json"; }
psql_once() { "$bindir/psql" -X -A -t -d "$conninfo user=bench_reader" \
	-c "SELECT nsvault.get_secret('demo', 'secretToken')"; }

# 5,000 requests with the header of Direktiv's httpget example written by
# template $1, into file $2
batch_requests() {
	local line='{"namespace": "demo", "action": {"secrets": ["secretToken"], "input": {"method": "GET", "headers": {"Authorization": "bearer '"$1"'"}}}, "data": {}}'
	for _ in $(seq 5000); do echo "$line"; done > "$work/$2"
}
# 100,000 requests, each with its own data (.i), into file $2: Direktiv's
# httpget example's header written by template $1, and for P10 a field "n" written by
# jq(.i + K), with K = the request's number mod $3 (1: the same template
# throughout, 1000: 1,000 distinct templates, each first met within the
# first 1,000 requests and used 100 times in all)
own_data_requests() {
	awk -v auth="$1" -v kinds="${3:-}" 'BEGIN {
		for (i = 0; i < 100000; i++) {
			n = (kinds == "") ? "" : sprintf(", \"n\": \"jq(.i + %d)\"", i % kinds)
			printf "{\"namespace\": \"demo\", \"action\": {\"secrets\": [\"secretToken\"], \"input\": {\"method\": \"GET\", \"headers\": {\"Authorization\": \"bearer %s\"}%s}}, \"data\": {\"i\": %d}}\n", auth, n, i
		}
	}' > "$work/$2"
}
# requests per second of enrich --batch over the file $1 (default
# batch.jsonl); the client's CPU per request (µs) is added to cpu-$1
batch_rps() {
	local file=${1:-batch.jsonl} requests real user sys TIMEFORMAT='%R %U %S'
	requests=$(wc -l < "$work/$file")
	read -r real user sys < <({ time "$client" -d "$conninfo user=bench_reader" enrich --batch \
		< "$work/$file" > "$work/batch.out" 2> "$work/batch.err"; } 2>&1)
	echo "scale=2; ($user + $sys) * 1000000 / $requests" | bc >> "$work/cpu-$file"
	echo "scale=1; $requests / $real" | bc
}

# Latency: one script per N and variant, the N names taken from demo's s1..s50.
# The N get_secret calls are N statements of one script, each its own
# transaction (pgbench adds no BEGIN), as a client reading N secrets one by
# one would do; a script run is one action, so ms per action = 1000 / TPS.
latency_ns="1 2 5 10 20 50"
latency_scripts() {
	local n k
	for n in $latency_ns; do
		printf '%s\n' "SELECT nsvault.get_secrets('demo', ARRAY[$(seq -s, 1 "$n" | sed "s/\([0-9]*\)/'s\1'/g")]);" \
			> "$work/gets$n.sql"
		for k in $(seq "$n"); do echo "SELECT nsvault.get_secret('demo', 's$k');"; done > "$work/each$n.sql"
	done
}
ms_per_run() { printf "%.4f\n" "$(echo "scale=6; 1000 / $(tps "$1")" | bc)"; }

# Draws the latency CSV $1 into the PNG $2.  pngcairo with noenhanced so
# that the underscores in function names stay underscores.
latency_plot() {
	gnuplot <<GP
set terminal pngcairo noenhanced size 900,560 font 'sans,11'
set output '$2'
set datafile separator ','
set title "nsvault: latency of one action against the secrets it needs\n(pgbench -M prepared -c 1, median of $ROUNDS runs of ${SECONDS_PER_RUN} s)"
set xlabel 'secrets per action (N)'
set ylabel 'ms per action'
set xtics (1, 5, 10, 20, 50)
set xrange [0:52]
set yrange [0:*]
set grid
set key top left Left reverse
plot '$1' skip 1 using 1:2 with linespoints lw 2 pt 7 title "get_secrets('demo', ARRAY[s1..sN]): one call", \
     '' skip 1 using 1:3 with linespoints lw 2 pt 5 title "N x get_secret('demo', 'sK'): N calls"
GP
}

# Peak resident set (kB) of the client over one 5,000-request enrich --batch
# run.  GNU time's %M is the ru_maxrss the kernel keeps for the process's
# whole life, where sampling VmRSS from /proc could miss a short peak; -o
# keeps it apart from the client's own stderr, and the last line skips the
# "Command exited with non-zero status" line time writes on a failure.
batch_peak_kb() {
	/usr/bin/time -f %M -o "$work/batch.time" \
		"$client" -d "$conninfo user=bench_reader" enrich --batch < "$work/batch.jsonl" > "$work/batch.out"
	tail -n 1 "$work/batch.time"
}

# Memory of one bench_reader backend before and after it touches the 10,000
# big namespaces (namespace bigN holds s(i) for i % 10000 = N, so 's' ||
# (n + 10000) exists in each), all in ONE session so that the growth is what
# the backend keeps.  A first get_secret and a first read of the view come
# before "before", so that loading the extension, its one-time setup and the
# view's catalog lookups are not counted as growth.  Prints "ctx TOTAL
# KEYCACHE" (bytes; KEYCACHE empty when no such context) and "rss KB" (the
# backend's RssAnon, read by psql's shell escape, the pid reaching the shell
# through \setenv), once before and once after.  The dynahash context of
# the per-backend key cache is named "dynahash" and identified by the table's
# name, hence the ident.
backend_memory() {
	"$bindir/psql" -X -q -A -t -F ' ' -v ON_ERROR_STOP=1 -d "$conninfo user=bench_reader" <<'SQL'
SELECT nsvault.get_secret('demo', 's1') \g /dev/null
SELECT pg_backend_pid() AS pid \gset
\setenv NSVAULT_BENCH_PID :pid
\set mem 'SELECT ''ctx'', sum(total_bytes), sum(total_bytes) FILTER (WHERE ident = ''nsvault key cache'' OR name = ''nsvault key cache'') FROM pg_backend_memory_contexts'
:mem \g /dev/null
:mem;
\! awk '$1 == "RssAnon:" { print "rss", $2 }' "/proc/$NSVAULT_BENCH_PID/status"
SELECT count(nsvault.get_secret('big' || n, 's' || (n + 10000))) FROM generate_series(0, 9999) n \g /dev/null
:mem;
\! awk '$1 == "RssAnon:" { print "rss", $2 }' "/proc/$NSVAULT_BENCH_PID/status"
SQL
}

median() { sort -g | awk '{a[NR] = $1} END {print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }

# Runs "A" and "B" alternately ROUNDS times; prints "medianA medianB".
pair() {
	local a=$1 b=$2 as=() bs=()
	for _ in $(seq "$ROUNDS"); do
		as+=("$(eval "$a")")
		bs+=("$(eval "$b")")
	done
	echo "$(printf '%s\n' "${as[@]}" | median) $(printf '%s\n' "${bs[@]}" | median)"
}

batch_requests 'jq(.secrets.secretToken)' batch.jsonl
batch_requests 'js(return data.secrets.secretToken)' batch-js.jsonl
want P4 && own_data_requests 'jq(.secrets.secretToken)' batch-own.jsonl
want P10 && own_data_requests 'jq(.secrets.secretToken)' batch-distinct.jsonl 1000
want P10 && own_data_requests 'jq(.secrets.secretToken)' batch-one.jsonl 1
rm -f "$work"/cpu-*
latency_scripts
csv=$DEMO/results.csv
echo "id,measures,a,b,ratio,goal,met" > "$csv"
row() {
	local id=$1 what=$2 a=$3 b=$4 ratio=$5 goal=$6 met=$7
	printf '%-4s %-52s %12s %12s %7s %8s %s\n' "$id" "$what" "$a" "$b" "$ratio" "$goal" "$met"
	echo "$id,\"$what\",$a,$b,$ratio,$goal,$met" >> "$csv"
}
check() { echo "$1 $2 $3" | awk '{ if (($2 == ">=" && $1 >= $3) || ($2 == "<=" && $1 <= $3)) print "met"; else print "NOT MET" }'; }
ratio() { echo "scale=3; $1 / $2" | bc; }

echo
printf '%-4s %-52s %12s %12s %7s %8s %s\n' id measures A B A/B goal ""
# Runs row $1 ("$2" in the table) when wanted: A and B alternately, their
# ratio against the goal "$5 $6" (or "report" for a reference row).
ratio_row() {
	local id=$1 what=$2 a_cmd=$3 b_cmd=$4 op=$5 goal=${6:-} a b r
	want "$id" || return 0
	read -r a b <<<"$(pair "$a_cmd" "$b_cmd")"
	r=$(ratio "$a" "$b")
	if [ "$op" = report ]; then
		row "$id" "$what" "$a" "$b" "$r" report -
	else
		row "$id" "$what" "$a" "$b" "$r" "$op $goal" "$(check "$r" "$op" "$goal")"
	fi
}
ratio_row P1 "get_secret TPS / plain table TPS" 'tps get.sql' 'tps plain.sql' '>=' 0.90
ratio_row P2 "the same, a new backend per transaction (-C)" 'tps get.sql -C' 'tps plain.sql -C' '>=' 0.90
# reference rows: what recording each read costs P1 and P2
ratio_row P1a "P1 with nsvault.audit = off (reference)" \
	'BENCH_ROLE=bench_unaudited tps get.sql' 'tps plain.sql' '>=' 0.90
ratio_row P2a "P2 with nsvault.audit = off (reference)" \
	'BENCH_ROLE=bench_unaudited tps get.sql -C' 'tps plain.sql -C' '>=' 0.90
# eight clients on two cores: neither the audit queue nor the shared key
# cache may make readers wait for each other
ratio_row P7 "P1 with 8 clients (-c 8 -j 2)" 'tps get.sql -c 8 -j 2' 'tps plain.sql -c 8 -j 2' '>=' 0.85
ratio_row P8 "get_secret of an old version TPS / plain table TPS" 'tps get_old.sql' 'tps plain.sql' '>=' 0.85
ratio_row P3 "one-shot enrich s / psql get_secret s" 'per_run 20 enrich_once' 'per_run 20 psql_once' '<=' 1.00
# P4 and P10 over 100,000 requests, each with its own data, so that the
# client's start and its connection weigh little
ratio_row P4 "enrich --batch req/s / get_secrets TPS" 'batch_rps batch-own.jsonl' 'tps get1.sql' '>=' 3.00
# the same with js(...): each expression runs in a process of its own (nsvault-js)
ratio_row P4js "P4 with a js(...) template (reference)" 'batch_rps batch-js.jsonl' 'tps get1.sql' report
# P10: 1,000 distinct jq templates (compiled as they are first met) against
# one, the same requests otherwise
ratio_row P10 "--batch req/s, 1,000 distinct jq / one template" \
	'batch_rps batch-distinct.jsonl' 'batch_rps batch-one.jsonl' '>=' 0.50
# P5: the same 1,000,000 rows in 10,000 namespaces on both sides, so that
# the ratio is what nsvault adds to a large table, not what the large table
# costs; P5r, for reference, is the large store against a small one
if [ -n "$big" ]; then
	ratio_row P5 "get_secret TPS / plain TPS, both 1M rows in 10k ns" 'tps big.sql' 'tps plain_big.sql' '>=' 0.90
	ratio_row P5r "TPS, 1M secrets in 10k ns / 1k in 1 ns (reference)" 'tps big.sql' 'tps small.sql' report
fi
if want P6; then
	read -r a b <<<"$(pair 'tps get50.sql' 'tps get.sql')"
	# per secret: (1 / (a * 50)) / (1 / b)
	r=$(echo "scale=3; $b / ($a * 50)" | bc); row P6 "get_secrets(50) per secret / get_secret" "$a" "$b" "$r" "<= 0.20" "$(check "$r" '<=' 0.20)"
fi
# P9: writes, as bench_writer with the audit on (a write's event is inserted
# in the write's own transaction)
ratio_row P9 "set_secret TPS / plain table upsert TPS" \
	'BENCH_ROLE=bench_writer tps set.sql' 'BENCH_ROLE=bench_writer tps plain_set.sql' '>=' 0.60

# M4: nsvault mask over 200 MB of log text that holds 50 secrets here and
# there, against grep -F -f with the same 50 values (written to the work
# directory, which only the bench reads).  The values are random base64 of
# 20 to 64 characters, as tokens and passwords are: values that shared a
# prefix ("value-1" to "value-50") would favour mask's filter of where a
# match may start.  Each writes to a file, removed before it is timed:
# truncating the last round's 200 MB of output is not mask's work.
mask_secrets() {
	main_psql -d nsvault_demo <<'SQL'
SET nsvault.audit = off;
SELECT nsvault.set_secret('mask', 'm' || i,
	substr(encode(decode(md5(random()::text) || md5(random()::text) || md5(random()::text)
		|| md5(random()::text), 'hex'), 'base64'), 1, 20 + floor(random() * 45)::int))
  FROM generate_series(1, 50) i \g /dev/null
SELECT nsvault.grant_namespace('mask', 'bench_reader', 'read') \g /dev/null
SQL
}
mask_text() {
	local names=$1 out=$2
	"$bindir/psql" -X -A -t -d "$conninfo user=bench_reader" \
		-c "SELECT v FROM jsonb_each_text(nsvault.get_secrets('mask', '{$names}')) AS s(k, v)" > "$work/mask.patterns"
	perl -e 'my @v = map { chomp; $_ } <STDIN>; my ($n, $size) = (0, 0);
		while ($size < 200 * 1024 * 1024) {
			my $line = sprintf("2024-05-01T12:%02d:%02d worker-%d request %d served in %dms%s\n",
				$n % 60, $n % 59, $n % 17, $n, $n % 997, $n % 1000 ? "" : " token=$v[$n % @v]");
			print $line; $size += length($line); $n++ }' < "$work/mask.patterns" > "$out"
}
mask_seconds() {
	local start end
	rm -f "$work/mask.out"
	start=$(date +%s%N)
	"$client" -d "$conninfo user=bench_reader" mask --namespace mask \
		$(printf -- '--secret m%d ' $(seq 50)) < "$work/mask.txt" > "$work/mask.out"
	end=$(date +%s%N)
	echo "scale=3; ($end - $start) / 1000000000" | bc
}
grep_seconds() {
	local start end
	rm -f "$work/grep.out"
	start=$(date +%s%N)
	grep -F -f "$work/mask.patterns" "$work/mask.txt" > "$work/grep.out"
	end=$(date +%s%N)
	echo "scale=3; ($end - $start) / 1000000000" | bc
}
if want M4; then
	mask_secrets
	mask_text "$(seq -s, 1 50 | sed 's/\([0-9]*\)/m\1/g')" "$work/mask.txt"
	ratio_row M4 "mask s / grep -F -f s, 200 MB, 50 random secrets" mask_seconds grep_seconds '<=' 2.00
	rm -f "$work/mask.txt" "$work/mask.out" "$work/grep.out" "$work/mask.patterns"
fi

# The reports: figures with no goal, so no ratio column.
mem_row() {
	local id=$1 what=$2 a=$3 b=$4
	printf '%-3s %-52s %12s %12s\n' "$id" "$what" "$a" "$b"
	echo "$id,\"$what\",$a,$b,-,report,-" >> "$csv"
}

# W1: the audit writer's CPU per read event.  The writer's utime + stime
# (fields 14 and 15 of /proc/PID/stat, in clock ticks) and the trail's row
# count, before and after a -c 8 read load, each read once the writer has
# caught up.  Ticks are 10 ms, so the load runs at least 10 s whatever
# SECONDS_PER_RUN says, for the writer's CPU to span many ticks.
audit_count() { main_psql -d nsvault_demo -A -t -c 'SELECT count(*) FROM nsvault.audit_events'; }
# The trail's count once it has stopped growing: the writer naps 200 ms
# between rounds, so a count unchanged over a second means an empty queue.
audit_settled() {
	local n m
	n=$(audit_count)
	for _ in $(seq 120); do
		sleep 1
		m=$(audit_count)
		[ "$m" = "$n" ] && { echo "$m"; return 0; }
		n=$m
	done
	echo "bench: the audit trail still grows after two minutes" >&2
	return 1
}
# The database's audit writer's pid; it starts on a read and leaves after
# 30 s without events, so the caller reads first.
writer_pid() {
	local pid
	for _ in $(seq 50); do
		pid=$(main_psql -d nsvault_demo -A -t -c \
			"SELECT pid FROM pg_stat_activity WHERE backend_type = 'nsvault audit writer' AND datname = 'nsvault_demo'")
		[ -n "$pid" ] && { echo "$pid"; return 0; }
		sleep 0.2
	done
	echo "bench: no audit writer after a read" >&2
	return 1
}
# utime + stime of process $1, in ticks (the fields after the command name,
# which is in parentheses and may hold spaces, start at field 3)
cpu_ticks() {
	local stat
	stat=$(cat "/proc/$1/stat")
	awk '{ print $12 + $13 }' <<<"${stat##*) }"
}
# Prints "µs-per-event events" for one load.
writer_us_per_event() {
	local pid n0 n1 t0 t1
	psql_once >/dev/null
	pid=$(writer_pid)
	n0=$(audit_settled)
	t0=$(cpu_ticks "$pid")
	SECONDS_PER_RUN=$((SECONDS_PER_RUN > 10 ? SECONDS_PER_RUN : 10)) tps get.sql -c 8 -j 2 >/dev/null
	n1=$(audit_settled)
	t1=$(cpu_ticks "$pid")
	# the same writer throughout, or its ticks are not all the window's
	[ "$(writer_pid)" = "$pid" ] || { echo "bench: the audit writer changed during W1" >&2; return 1; }
	echo "$(echo "scale=2; ($t1 - $t0) * 1000000 / $(getconf CLK_TCK) / ($n1 - $n0)" | bc) $((n1 - n0))"
}
if want W1; then
	echo
	printf '%-3s %-52s %12s %12s\n' id "audit writer (reported, no goal)" A B
	us=() evs=()
	for _ in $(seq "$ROUNDS"); do
		read -r u e <<<"$(writer_us_per_event)"
		us+=("$u")
		evs+=("$e")
	done
	mem_row W1 "audit writer CPU µs per read event / events" \
		"$(printf '%s\n' "${us[@]}" | median)" "$(printf '%s\n' "${evs[@]}" | median)"
fi

# C4, C10: the client's CPU per request over the rounds of P4 and P10
if want P4 || want P10; then
	echo
	printf '%-3s %-52s %12s %12s\n' id "client CPU, µs per request (reported, no goal)" A B
	cpu_median() { median < "$work/cpu-$1"; }
	want P4 && mem_row C4 "P4's enrich --batch, 100,000 requests" "$(cpu_median batch-own.jsonl)" -
	want P10 && mem_row C10 "P10's: 1,000 distinct templates / one" \
		"$(cpu_median batch-distinct.jsonl)" "$(cpu_median batch-one.jsonl)"
fi

kb_growth() { echo "($2 - $1) / 1024" | bc; }
if want M1 || { [ -n "$big" ] && { want M2 || want M3; }; }; then
	echo
	printf '%-3s %-52s %12s %12s\n' id "memory, kB (reported, no goal)" A B
fi
if want M1; then
	if [ -x /usr/bin/time ]; then
		kbs=()
		for _ in $(seq "$ROUNDS"); do kbs+=("$(batch_peak_kb)"); done
		mem_row M1 "client peak RSS, enrich --batch of 5,000 requests" "$(printf '%s\n' "${kbs[@]}" | median)" -
	else
		echo "M1  skipped: /usr/bin/time (package time) is missing; scripts/deps.sh --bench installs it"
	fi
fi
if [ -n "$big" ] && { want M2 || want M3; }; then
	backend_memory > "$work/memory.out"
	# the psql output and the shell escape's are separate streams, so each
	# tag is read in its own order: first line before, second after
	read -r ctx0 ctx1 <<<"$(awk '$1 == "ctx" { printf "%s ", $2 }' "$work/memory.out")"
	read -r kc0 kc1 <<<"$(awk '$1 == "ctx" && NF == 3 { printf "%s ", $3 }' "$work/memory.out")"
	read -r rss0 rss1 <<<"$(awk '$1 == "rss" { printf "%s ", $2 }' "$work/memory.out")"
	kc=-
	[ -n "${kc1:-}" ] && kc=$(kb_growth "${kc0:-0}" "$kc1")
	want M2 && mem_row M2 "backend growth, 10k ns: all contexts / key cache" "$(kb_growth "$ctx0" "$ctx1")" "$kc"
	want M3 && mem_row M3 "backend RssAnon growth, 10k ns" "$((rss1 - rss0))" -
fi

echo
echo "bench: table written to $csv"

# The latency curve, after the table so that the table comes first.
want LAT || exit 0
latency_csv=$DEMO/latency.csv
echo "n,get_secrets_ms,n_get_secret_ms" > "$latency_csv"
echo
printf '%-40s %6s %14s %16s\n' "latency, ms per action" N get_secrets "N x get_secret"
for n in $latency_ns; do
	read -r a b <<<"$(pair "ms_per_run gets$n.sql" "ms_per_run each$n.sql")"
	printf '%-40s %6s %14s %16s\n' "" "$n" "$a" "$b"
	echo "$n,$a,$b" >> "$latency_csv"
done
echo "bench: latency written to $latency_csv"
if command -v gnuplot >/dev/null; then
	latency_plot "$latency_csv" "$DEMO/latency.png"
	echo "bench: latency plot written to $DEMO/latency.png"
else
	echo "bench: gnuplot is missing, no latency plot (scripts/deps.sh --bench installs gnuplot-nox)"
fi
