#!/usr/bin/env bash
# bench.sh — make bench: starts its own clusters under .bench/ and measures
# each pair of the performance issue side by side, alternating A B A B for
# ROUNDS rounds (median of each), and prints one table of the two figures,
# their ratio and the goal.  The table is also written to .bench/results.csv.
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

if [ "$(id -u)" -eq 0 ]; then
	mkdir -p "$DEMO"
	chown -R postgres:postgres "$DEMO"
	runuser -u postgres -- test -x "$top/scripts/bench.sh" ||
		{ echo "bench: postgres cannot enter $top; run make bench as a user who can" >&2; exit 1; }
	exec runuser -u postgres -- env DEMO="$DEMO" ROUNDS="$ROUNDS" SECONDS_PER_RUN="$SECONDS_PER_RUN" \
		NSVAULT_BENCH_KEY_PORT="$KEY_PORT" NSVAULT_BENCH_MAIN_PORT="$MAIN_PORT" bash "$top/scripts/bench.sh"
fi

# shellcheck source=clusters.sh
. "$top/scripts/clusters.sh"
clusters_stop
rm -rf "${DEMO:?}"/{key,main,run,log,certs,work}
clusters_start
trap clusters_stop EXIT
# the benchmark connects as bench_reader, a role with read grants only
printf 'local all bench_reader trust\n%s\n' "$(cat "$DEMO/main/pg_hba.conf")" > "$DEMO/main/pg_hba.conf"
"$bindir/pg_ctl" -D "$DEMO/main" reload >/dev/null
work=$DEMO/work
mkdir -p "$work"
client=$(command -v nsvault || echo "$top/client/nsvault")
pgbench="$bindir/pgbench"
conninfo="host=$DEMO/run port=$MAIN_PORT dbname=nsvault_demo"

echo "bench: loading data"
main_psql -d nsvault_demo <<'SQL'
SET nsvault.audit = off;
CREATE ROLE bench_reader LOGIN;
CREATE TABLE plain_secrets (namespace text, name text, value text, PRIMARY KEY (namespace, name));
GRANT SELECT ON plain_secrets TO bench_reader;
INSERT INTO plain_secrets VALUES ('demo', 'secretToken', 'demo-bearer-token-8QwFLg');
SELECT nsvault.set_secret('demo', 'secretToken', 'demo-bearer-token-8QwFLg') \g /dev/null
SELECT nsvault.set_secret('demo', 's' || i, 'value-' || i) FROM generate_series(1, 50) i \g /dev/null
SELECT nsvault.set_secret('small', 's' || i, 'value-' || i) FROM generate_series(1, 1000) i \g /dev/null
SELECT nsvault.grant_namespace('demo', 'bench_reader', 'read') \g /dev/null
SELECT nsvault.grant_namespace('small', 'bench_reader', 'read') \g /dev/null
SQL
if [ -z "${BENCH_SKIP_BIG:-}" ]; then
	echo "bench: loading 1,000,000 secrets in 10,000 namespaces"
	main_psql -d nsvault_demo <<'SQL'
SET nsvault.audit = off;
SELECT nsvault.set_secret('big' || (i % 10000), 's' || i, 'value-' || i)
  FROM generate_series(1, 1000000) i \g /dev/null
SELECT nsvault.grant_namespace('big' || n, 'bench_reader', 'read') FROM generate_series(0, 9999) n \g /dev/null
SQL
fi

names50=$(seq -s, 1 50 | sed 's/\([0-9]*\)/s\1/g')
printf '%s\n' "SELECT value FROM plain_secrets WHERE namespace = 'demo' AND name = 'secretToken';" > "$work/plain.sql"
printf '%s\n' "SELECT nsvault.get_secret('demo', 'secretToken');" > "$work/get.sql"
printf '%s\n' "SELECT nsvault.get_secrets('demo', ARRAY['secretToken']);" > "$work/get1.sql"
printf '%s\n' "SELECT nsvault.get_secrets('demo', '{$names50}');" > "$work/get50.sql"
printf '%s\n' '\set i random(1, 1000000)' "SELECT nsvault.get_secret('big' || (:i % 10000), 's' || :i);" > "$work/big.sql"
printf '%s\n' '\set i random(1, 1000)' "SELECT nsvault.get_secret('small', 's' || :i);" > "$work/small.sql"

# TPS of one pgbench run of script $1 (extra options after it), as bench_reader
tps() {
	local script=$1
	shift
	"$pgbench" -n -M prepared -c 1 -T "$SECONDS_PER_RUN" "$@" -f "$work/$script" \
		-h "$DEMO/run" -p "$MAIN_PORT" -U bench_reader nsvault_demo 2>/dev/null |
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

batch_requests() {
	local line='{"namespace": "demo", "action": {"secrets": ["secretToken"], "input": {"method": "GET", "headers": {"Authorization": "bearer jq(.secrets.secretToken)"}}}, "data": {}}'
	for _ in $(seq 5000); do echo "$line"; done > "$work/batch.jsonl"
}
batch_rps() {
	local start end
	start=$(date +%s%N)
	"$client" -d "$conninfo user=bench_reader" enrich --batch < "$work/batch.jsonl" > "$work/batch.out"
	end=$(date +%s%N)
	echo "scale=1; 5000 * 1000000000 / ($end - $start)" | bc
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

batch_requests
csv=$DEMO/results.csv
echo "id,measures,a,b,ratio,goal,met" > "$csv"
row() {
	local id=$1 what=$2 a=$3 b=$4 ratio=$5 goal=$6 met=$7
	printf '%-3s %-52s %12s %12s %7s %8s %s\n' "$id" "$what" "$a" "$b" "$ratio" "$goal" "$met"
	echo "$id,\"$what\",$a,$b,$ratio,$goal,$met" >> "$csv"
}
check() { echo "$1 $2 $3" | awk '{ if (($2 == ">=" && $1 >= $3) || ($2 == "<=" && $1 <= $3)) print "met"; else print "NOT MET" }'; }
ratio() { echo "scale=3; $1 / $2" | bc; }

echo
printf '%-3s %-52s %12s %12s %7s %8s %s\n' id measures A B A/B goal ""
read -r a b <<<"$(pair 'tps get.sql' 'tps plain.sql')"
r=$(ratio "$a" "$b"); row P1 "get_secret TPS / plain table TPS" "$a" "$b" "$r" ">= 0.90" "$(check "$r" '>=' 0.90)"
read -r a b <<<"$(pair 'tps get.sql -C' 'tps plain.sql -C')"
r=$(ratio "$a" "$b"); row P2 "the same, a new backend per transaction (-C)" "$a" "$b" "$r" ">= 0.90" "$(check "$r" '>=' 0.90)"
read -r a b <<<"$(pair 'per_run 20 enrich_once' 'per_run 20 psql_once')"
r=$(ratio "$a" "$b"); row P3 "one-shot enrich s / psql get_secret s" "$a" "$b" "$r" "<= 1.00" "$(check "$r" '<=' 1.00)"
read -r a b <<<"$(pair 'batch_rps' 'tps get1.sql')"
r=$(ratio "$a" "$b"); row P4 "enrich --batch req/s / get_secrets TPS" "$a" "$b" "$r" ">= 1.00" "$(check "$r" '>=' 1.00)"
if [ -z "${BENCH_SKIP_BIG:-}" ]; then
	read -r a b <<<"$(pair 'tps big.sql' 'tps small.sql')"
	r=$(ratio "$a" "$b"); row P5 "TPS, 1M secrets in 10k ns / 1k secrets in 1 ns" "$a" "$b" "$r" ">= 0.90" "$(check "$r" '>=' 0.90)"
fi
read -r a b <<<"$(pair 'tps get50.sql' 'tps get.sql')"
# per secret: (1 / (a * 50)) / (1 / b)
r=$(echo "scale=3; $b / ($a * 50)" | bc); row P6 "get_secrets(50) per secret / get_secret" "$a" "$b" "$r" "<= 0.20" "$(check "$r" '<=' 0.20)"
echo
echo "bench: table written to $csv"
