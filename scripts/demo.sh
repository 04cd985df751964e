#!/usr/bin/env bash
# demo.sh — starts a key cluster (TLS only) and a main cluster under .demo/
# and runs Direktiv's httpget example: the workflow's secretToken stored in a
# namespace, listed and read back over the TLS key link.
#
# It leaves the login roles app (write on namespace demo) and engine (read)
# and a service file, .demo/pg_service.conf, that the README's Quick start
# uses.  The user who ran it, and root, may log in as either over the
# private socket (peer authentication through a pg_ident.conf map).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export DEMO=${DEMO:-$top/.demo}
export KEY_PORT=${NSVAULT_DEMO_KEY_PORT:-54331}
export MAIN_PORT=${NSVAULT_DEMO_MAIN_PORT:-54330}
progress_prefix=demo

if [ "$(id -u)" -eq 0 ]; then
	# PostgreSQL will not run as root: the clusters belong to postgres, who
	# must be able to reach them; where it cannot enter the checkout, they
	# live under /tmp and .demo points there
	"$top/scripts/demo-stop.sh" >/dev/null 2>&1 || true
	# postgres writes to root's log (in the checkout) through the
	# descriptor opened here
	# shellcheck source=progress.sh
	. "$top/scripts/progress.sh"
	if runuser -u postgres -- test -x "$top" && runuser -u postgres -- test -r "$top/scripts/demo.sh"; then
		mkdir -p "$DEMO"
	else
		target=$(mktemp -d /tmp/nsvault-demo.XXXXXX)
		ln -sfn "$target" "$DEMO"
		mkdir -p "$target/scripts"
		cp -r "$top"/scripts/{demo.sh,clusters.sh,progress.sh,make-certs.sh,sql} "$target/scripts/"
		cp -r "$top/examples" "$target/"
		top=$target
	fi
	chown -R postgres:postgres "$(readlink -f "$DEMO")"
	# from a directory postgres may enter, or each psql says it cannot
	cd "$top"
	exec runuser -u postgres -- env DEMO="$(readlink -f "$DEMO")" \
		NSVAULT_DEMO_KEY_PORT="$KEY_PORT" NSVAULT_DEMO_MAIN_PORT="$MAIN_PORT" \
		NSVAULT_SETUP_LOG="$NSVAULT_SETUP_LOG" NSVAULT_SETUP_LOG_FD="$NSVAULT_SETUP_LOG_FD" \
		bash "$top/scripts/demo.sh"
fi

# shellcheck source=clusters.sh
. "$top/scripts/clusters.sh"
clusters_stop
rm -rf "${DEMO:?}"/{key,main,run,log,certs,pg_service.conf}
clusters_start

owner=$(id -un)
# Lets the owner log in as itself, app and engine, and root as any of them
# (root may become any user anyway); the key cluster knows only its owner.
demo_logins() {
	local c=$1 user system
	shift
	{
		echo "# the demo's logins over the private socket (scripts/demo.sh)"
		for user in "$owner" "$@"; do
			for system in "$owner" root; do
				printf 'nsvault_demo  %-10s %s\n' "$system" "$user"
			done
		done
	} >"$DEMO/$c/pg_ident.conf"
	sed -i 's/^local\( .*\)peer$/local\1peer map=nsvault_demo/' "$DEMO/$c/pg_hba.conf"
}
demo_logins key
demo_logins main app engine
main_psql -d nsvault_demo <<'SQL'
SET client_min_messages = warning;
CREATE ROLE app LOGIN;
CREATE ROLE engine LOGIN;
SELECT nsvault.grant_namespace('demo', 'app', 'write') \g /dev/null
SELECT nsvault.grant_namespace('demo', 'engine', 'read') \g /dev/null
-- keep the writer's bind parameters (values) out of the server log
SELECT nsvault.harden_role('app') \g /dev/null
SELECT pg_reload_conf() \g /dev/null
SQL
key_psql -d postgres -c 'SELECT pg_reload_conf()' >/dev/null

# the service file the Quick start names: libpq reads it from PGSERVICEFILE
cat >"$DEMO/pg_service.conf" <<EOF2
# the demo's clusters (scripts/demo.sh): PGSERVICEFILE=$DEMO/pg_service.conf
[nsvault-demo]
host=$DEMO/run
port=$MAIN_PORT
dbname=nsvault_demo

[nsvault-demo-admin]
host=$DEMO/run
port=$MAIN_PORT
dbname=nsvault_demo
user=$owner

[nsvault-demo-keys]
host=$DEMO/run
port=$KEY_PORT
dbname=nsvault_keys
user=$owner
EOF2
chmod 644 "$DEMO/pg_service.conf"
export PGSERVICEFILE=$DEMO/pg_service.conf

step "running the demo"
client=$(command -v nsvault || echo "$top/client/nsvault")
as_app='service=nsvault-demo user=app'
as_engine='service=nsvault-demo user=engine'

echo "== the workflow 'httpget' names secretToken; app, which may write namespace 'demo', stores it"
echo "\$ printf %s '...' | nsvault -d '$as_app' secret set demo secretToken"
printf %s 'demo-bearer-token-8QwFLg' | "$client" -d "$as_app" secret set demo secretToken
echo "\$ nsvault -d '$as_app' secret list demo"
"$client" -d "$as_app" secret list demo
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

echo "== Direktiv's httpget example: engine, which may read namespace 'demo', makes the action's input"
echo "\$ nsvault -d '$as_engine' enrich --namespace demo --workflow examples/httpget.yaml --state getter --data examples/httpget-data.json"
"$client" -d "$as_engine" enrich --namespace demo --workflow "$top/examples/httpget.yaml" \
	--state getter --data "$top/examples/httpget-data.json"

cat <<EOF2
== the clusters run under $DEMO; as $owner or root (README.md, Quick start):
   export PGSERVICEFILE=$DEMO/pg_service.conf
   # app may write namespace demo, engine may read it
   nsvault -d '$as_app' secret list demo
   nsvault -d '$as_engine' secret get demo secretToken
   psql '$as_app'
   # the main cluster and the key cluster as their owner, $owner
   psql service=nsvault-demo-admin
   psql service=nsvault-demo-keys
   # stop and remove them
   make demo-stop
EOF2
