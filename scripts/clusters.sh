# shellcheck shell=bash
# clusters.sh — sourced: starts nsvault's two throwaway clusters in a folder.
#
#   key cluster:  TCP on 127.0.0.1 with TLS and SCRAM only (hostssl), plus a
#                 private socket for its administrator (peer)
#   main cluster: private socket only; its foreign server nsvault_keydb
#                 reaches the key cluster with sslmode=verify-full
#
# Callers set DEMO (the folder), KEY_PORT and MAIN_PORT, and run as the
# user that owns the clusters (never root).

bindir=$(pg_config --bindir)
scripts_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# one line per cluster started; initdb's and pg_ctl's output go to the log
# shellcheck source=progress.sh
. "$scripts_dir/progress.sh"

# psql on one of the clusters, quiet and stopping at the first error.
key_psql() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$DEMO/run" -p "$KEY_PORT" "$@"; }
main_psql() { "$bindir/psql" -X -q -v ON_ERROR_STOP=1 -h "$DEMO/run" -p "$MAIN_PORT" "$@"; }

# Stops both clusters if they run.
clusters_stop() {
	local c
	for c in main key; do
		if [ -f "$DEMO/$c/postmaster.pid" ]; then
			"$bindir/pg_ctl" -D "$DEMO/$c" -m fast -w stop >/dev/null || true
		fi
	done
}

# Creates and starts both clusters and links them.
clusters_start() {
	local reader_password admin_password
	mkdir -p "$DEMO/run" "$DEMO/log"
	chmod 700 "$DEMO" "$DEMO/run"
	# the reader's and the key administrator's passwords live only in the
	# key cluster (as SCRAM verifiers) and in the main cluster's user
	# mappings: they reach psql on standard input, never on a command line
	# or in a file
	reader_password=$(openssl rand -hex 24)
	admin_password=$(openssl rand -hex 24)
	clusters_start_key
	clusters_start_main
	unset reader_password admin_password
}

# Starts the key cluster: TLS and SCRAM over the network.
clusters_start_key() {
	step "starting the key cluster"
	quietly bash "$scripts_dir/make-certs.sh" "$DEMO/certs"
	quietly "$bindir/initdb" -D "$DEMO/key" -A peer -E UTF8 --locale=C.UTF-8 --no-instructions
	cat >>"$DEMO/key/postgresql.conf" <<CONF
port = $KEY_PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DEMO/run'
ssl = on
ssl_cert_file = '$DEMO/certs/server.crt'
ssl_key_file = '$DEMO/certs/server.key'
ssl_min_protocol_version = 'TLSv1.3'
password_encryption = 'scram-sha-256'
CONF
	cat >"$DEMO/key/pg_hba.conf" <<HBA
# administrator on the private socket; over the network, TLS and SCRAM only
local   all           all                            peer
hostssl nsvault_keys  nsvault_reader  127.0.0.1/32   scram-sha-256
hostssl nsvault_keys  nsvault_admin   127.0.0.1/32   scram-sha-256
HBA
	clusters_pg_ctl_start key
	key_psql -d postgres -c 'CREATE DATABASE nsvault_keys'
	key_psql -d nsvault_keys <<SQL
\\set reader_password '$reader_password'
\\set admin_password '$admin_password'
\\i '$scripts_dir/sql/key-database.sql'
SQL
}

# Starts the main cluster, nsvault preloaded, linked to the key cluster.
clusters_start_main() {
	step "starting the main cluster"
	quietly "$bindir/initdb" -D "$DEMO/main" -A peer -E UTF8 --locale=C.UTF-8 --no-instructions
	# preloaded, nsvault keeps its key cache in shared memory
	cat >>"$DEMO/main/postgresql.conf" <<CONF
port = $MAIN_PORT
listen_addresses = ''
unix_socket_directories = '$DEMO/run'
shared_preload_libraries = 'nsvault'
CONF
	clusters_pg_ctl_start main
	main_psql -d postgres -c 'CREATE DATABASE nsvault_demo'
	main_psql -d nsvault_demo <<SQL
\\set key_port '$KEY_PORT'
\\set ca_cert '$DEMO/certs/ca.crt'
\\set reader_password '$reader_password'
\\set admin_password '$admin_password'
\\i '$scripts_dir/sql/link-key-database.sql'
SQL
}

# Starts cluster $1 (key or main); if it cannot, prints its server log's end.
clusters_pg_ctl_start() {
	if ! quietly "$bindir/pg_ctl" -D "$DEMO/$1" -l "$DEMO/log/$1.log" -w start; then
		echo "the $1 cluster's log, $DEMO/log/$1.log, ends:" >&2
		tail -n 15 "$DEMO/log/$1.log" | sed 's/^/  | /' >&2
		return 1
	fi
}
