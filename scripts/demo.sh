#!/usr/bin/env bash
# demo.sh — starts a key cluster (TLS only) and a main cluster under .demo/
# and runs the seed's demo: the workflow's secretToken stored in a namespace,
# listed and read back over the TLS key link.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export DEMO=${DEMO:-$top/.demo}
export KEY_PORT=${NSVAULT_DEMO_KEY_PORT:-54331}
export MAIN_PORT=${NSVAULT_DEMO_MAIN_PORT:-54330}

if [ "$(id -u)" -eq 0 ]; then
	# PostgreSQL will not run as root: the clusters belong to postgres, who
	# must be able to reach them; where it cannot enter the checkout, they
	# live under /tmp and .demo points there
	"$top/scripts/demo-stop.sh" >/dev/null 2>&1 || true
	if runuser -u postgres -- test -x "$top" && runuser -u postgres -- test -r "$top/scripts/demo.sh"; then
		mkdir -p "$DEMO"
	else
		target=$(mktemp -d /tmp/nsvault-demo.XXXXXX)
		ln -sfn "$target" "$DEMO"
		mkdir -p "$target/scripts"
		cp -r "$top"/scripts/{demo.sh,clusters.sh,make-certs.sh,sql} "$target/scripts/"
		cp -r "$top/examples" "$target/"
		top=$target
	fi
	chown -R postgres:postgres "$(readlink -f "$DEMO")"
	# from a directory postgres may enter, or each psql says it cannot
	cd "$top"
	exec runuser -u postgres -- env DEMO="$(readlink -f "$DEMO")" NSVAULT_DEMO_FROM_ROOT=1 \
		NSVAULT_DEMO_KEY_PORT="$KEY_PORT" NSVAULT_DEMO_MAIN_PORT="$MAIN_PORT" \
		bash "$top/scripts/demo.sh"
fi

# shellcheck source=clusters.sh
. "$top/scripts/clusters.sh"
clusters_stop
rm -rf "${DEMO:?}"/{key,main,run,log,certs}
clusters_start

client=$(command -v nsvault || echo "$top/client/nsvault")
conninfo="host=$DEMO/run port=$MAIN_PORT dbname=nsvault_demo"

echo "== the workflow 'httpget' names secretToken; an administrator stores it in namespace 'demo'"
echo "\$ printf %s '...' | nsvault secret set demo secretToken"
printf %s 'demo-bearer-token-8QwFLg' | "$client" -d "$conninfo" secret set demo secretToken
echo "\$ nsvault secret list demo"
"$client" -d "$conninfo" secret list demo
main_psql -d nsvault_demo <<'SQL'
\echo '-- what the table holds: ciphertext only'
SELECT namespace, name, key_version, octet_length(ciphertext) AS bytes,
	   substr(encode(ciphertext, 'hex'), 1, 24) || '...' AS ciphertext
  FROM nsvault.secrets;
\echo '-- get_secrets: what the engine adds under .secrets before evaluating the action input'
SELECT nsvault.get_secrets('demo', ARRAY['secretToken']) AS ".secrets";
SQL

echo "== the key link, seen from the key cluster while a main session holds it"
# with the key cache off this session fetches the key itself, over the link
# (otherwise the shared cache would serve the key an earlier session fetched)
main_psql -d nsvault_demo <<SQL
SET nsvault.key_cache_seconds = 0;
SELECT nsvault.get_secret('demo', 'secretToken') \\g /dev/null
\\! $bindir/psql -X -h $DEMO/run -p $KEY_PORT -d nsvault_keys -c "SELECT a.usename, s.ssl, s.version, s.cipher FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) WHERE a.usename = 'nsvault_reader'" -c "SELECT namespace, version, octet_length(key) AS key_bytes FROM nsvault_keys.keys"
SQL

as=""
[ -n "${NSVAULT_DEMO_FROM_ROOT:-}" ] && as="runuser -u postgres -- "
cat <<EOF2
== the clusters run under $DEMO
   main: ${as}psql -h $DEMO/run -p $MAIN_PORT -d nsvault_demo
   keys: ${as}psql -h $DEMO/run -p $KEY_PORT -d nsvault_keys
   client: ${as}nsvault -d "$conninfo" secret list demo
   stop: make demo-stop
EOF2

echo "== the seed's httpget workflow, its action input made by nsvault enrich"
echo "\$ nsvault enrich --namespace demo --workflow examples/httpget.yaml --state getter --data examples/httpget-data.json"
"$client" -d "$conninfo" enrich --namespace demo --workflow "$top/examples/httpget.yaml" \
	--state getter --data "$top/examples/httpget-data.json"
