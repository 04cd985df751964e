#!/usr/bin/env bash
# package-test.sh — builds the Debian packages, installs them with apt into a
# fresh Debian 12 minbase root and runs the demo's steps against the
# installed files; then installs 0.7.0's packages, fills a database, upgrades
# the packages and checks that ALTER EXTENSION … UPDATE keeps everything.
#
#   scripts/package-test.sh [install|upgrade|all]   (default all; as root)
#
# Not part of make test: it needs root (debootstrap, chroot, mounts) and the
# network (deb.debian.org), and takes minutes.  The minbase root is made
# once and cached under $NSVAULT_PKG_CACHE (/tmp/nsvault-package-test), as
# are the .debs apt downloads and 0.7.0's packages; each run installs into a
# fresh copy.  Ports: NSVAULT_PKG_KEY_PORT and NSVAULT_PKG_MAIN_PORT (54341,
# 54340); the roots share the host's network, so they must be free.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
what=${1:-all}
cache=${NSVAULT_PKG_CACHE:-/tmp/nsvault-package-test}
KEY_PORT=${NSVAULT_PKG_KEY_PORT:-54341}
MAIN_PORT=${NSVAULT_PKG_MAIN_PORT:-54340}
suite=bookworm
mirror=http://deb.debian.org/debian
old_tag=v0.7.0
old_version=0.7.0

case $what in
	install | upgrade | all) ;;
	*)
		echo "usage: $0 [install|upgrade|all]" >&2
		exit 2
		;;
esac
if [ "$(id -u)" -ne 0 ]; then
	echo "package-test: run as root (debootstrap, chroot and mounts need it)" >&2
	exit 1
fi
for tool in debootstrap lintian dpkg-buildpackage pg_buildext openssl; do
	if ! command -v "$tool" >/dev/null; then
		echo "package-test: $tool is missing: apt-get install debootstrap lintian" \
			"dpkg-dev debhelper postgresql-server-dev-all openssl" >&2
		exit 1
	fi
done
for port in "$KEY_PORT" "$MAIN_PORT"; do
	# the roots' clusters listen on the host's network
	if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
		echo "package-test: port $port is in use (NSVAULT_PKG_KEY_PORT, NSVAULT_PKG_MAIN_PORT)" >&2
		exit 1
	fi
done

# the terminal's stderr, for the last words of a run stopped by a signal
# while a check's output went to the log
exec {terminal_fd}>&2
work=$(mktemp -d /tmp/nsvault-package-test.XXXXXX)
log=$work/test.log
root=
failed=0
echo "package-test: working in $work (log: $log)"

# Prints a phase's line, and marks it in the log.
step() {
	echo "package-test: $*"
	echo "== $(date '+%F %T') $*" >>"$log"
}

# Runs a command with its output in the log; when it fails, prints the
# output's last lines and returns its status.
quietly() {
	local status=0 mark
	mark=$(wc -l <"$log")
	"$@" >>"$log" 2>&1 || status=$?
	if [ "$status" -ne 0 ]; then
		echo "package-test: failed (exit $status): $*" >&2
		tail -n "+$((mark + 1))" "$log" | tail -n 25 | sed 's/^/  | /' >&2
	fi
	return "$status"
}

# Records a failed check; the run goes on to report the others.
check() {
	local what=$1
	shift
	if "$@" >>"$log" 2>&1; then
		echo "  ok    $what"
	else
		echo "  FAIL  $what"
		failed=1
	fi
}

# Compares a command's output with what is expected.
check_output() {
	local what=$1 want=$2 got
	shift 2
	got=$("$@" 2>>"$log") || true
	if [ "$got" = "$want" ]; then
		echo "  ok    $what"
	else
		echo "  FAIL  $what: wanted '$want', got '$got'"
		failed=1
	fi
}

# Runs a command inside the root, with a clean environment.
in_root() {
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
		HOME=/root DEBIAN_FRONTEND=noninteractive "$@"
}
as_postgres() { in_root runuser -u postgres -- "$@"; }
# psql on a cluster of the root, as postgres, stopping at the first error;
# SQL (and any password) comes on standard input
key_psql() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$KEY_PORT" "$@"; }
main_psql() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$MAIN_PORT" "$@"; }
# one value from the main database; the query on standard input, as it may
# hold a test value
main_value() { printf '%s\n' "$1" | main_psql -At -d nsvault_demo; }
# the client, as one of the main database's login roles
client_as() {
	local role=$1
	shift
	as_postgres "$@" -d "port=$MAIN_PORT dbname=nsvault_demo user=$role"
}

# Stops the root's clusters, ends what still runs in it, and unmounts.
root_teardown() {
	local pid mnt
	[ -n "$root" ] && [ -d "$root" ] || return 0
	if [ -x "$root/usr/bin/pg_lsclusters" ]; then
		in_root pg_lsclusters -h 2>/dev/null | while read -r version cluster _; do
			in_root pg_ctlcluster "$version" "$cluster" stop -m fast </dev/null >/dev/null 2>&1 || true
		done
	fi
	# processes this test started in the root, by id
	for pid in /proc/[0-9]*; do
		pid=${pid#/proc/}
		if [ "$(readlink "/proc/$pid/root" 2>/dev/null)" = "$root" ]; then
			kill "$pid" 2>/dev/null || true
		fi
	done
	for mnt in var/cache/apt/archives dev/pts dev sys proc; do
		if mountpoint -q "$root/$mnt"; then
			umount "$root/$mnt" || umount -l "$root/$mnt" || true
		fi
	done
}

# Removes a folder, unless something is still mounted under it (rm -rf
# would go through a bind mount of /dev into the host's).
remove_tree() {
	if findmnt -rn -o TARGET | grep -qF "$1/"; then
		echo "package-test: $1 still has mounts; not removing it" >&"$terminal_fd"
		return 1
	fi
	rm -rf "$1"
}

cleanup() {
	local status=$?
	root_teardown
	if [ "$status" -eq 0 ] && [ "$failed" -eq 0 ]; then
		remove_tree "$work" || true
	else
		echo "package-test: kept $work for a look (rm -rf it when done)" >&"$terminal_fd"
	fi
	return "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Makes the cached minbase root once: debootstrap, and the suite's updates
# and security archives (postgresql-common's minor_versions may ask for a
# server release only those have).
minbase_cache() {
	local base=$cache/minbase-$suite
	if [ -f "$base/.nsvault-complete" ]; then
		return 0
	fi
	step "making the cached minbase root $base (debootstrap, once)"
	rm -rf "$base" "$base.tmp"
	mkdir -p "$cache"
	quietly debootstrap --variant=minbase "$suite" "$base.tmp" "$mirror"
	cat >"$base.tmp/etc/apt/sources.list" <<EOF
deb $mirror $suite main
deb $mirror $suite-updates main
deb http://deb.debian.org/debian-security $suite-security main
EOF
	touch "$base.tmp/.nsvault-complete"
	mv "$base.tmp" "$base"
}

# Makes a fresh root from the cache, with proc, sys, dev and the apt
# archive cache mounted, and no service started by a package's scripts.
root_fresh() {
	root_teardown
	if [ -n "$root" ]; then
		remove_tree "$root"
	fi
	root=$work/root-$1
	step "copying the minbase root to $root"
	cp -a "$cache/minbase-$suite" "$root"
	mkdir -p "$cache/apt-archives/partial"
	mount -t proc proc "$root/proc"
	mount -t sysfs sysfs "$root/sys"
	mount --bind /dev "$root/dev"
	mount --bind /dev/pts "$root/dev/pts"
	mount --bind "$cache/apt-archives" "$root/var/cache/apt/archives"
	cp /etc/resolv.conf "$root/etc/resolv.conf"
	# postgresql-common's scripts would start Debian's default cluster on
	# the host's network: the test starts its own clusters itself
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
	# keep apt's downloads for the next run
	echo 'Binary::apt::APT::Keep-Downloaded-Packages "true";' >"$root/etc/apt/apt.conf.d/90keep"
	quietly in_root apt-get update
}

# Installs the .debs of folder $1 (not the -dbgsym ones) into the root with
# apt, which pulls in their dependencies.
root_install() {
	local d
	rm -rf "$root/tmp/debs"
	mkdir -p "$root/tmp/debs"
	for d in "$1"/*.deb; do
		case $d in *-dbgsym_*) continue ;; esac
		cp "$d" "$root/tmp/debs/"
	done
	chmod -R a+rX "$root/tmp/debs"
	step "apt-get install $(cd "$root/tmp/debs" && echo ./*.deb)"
	quietly in_root sh -c 'cd /tmp/debs && apt-get install -y --no-install-recommends ./*.deb'
}

# Copies the demo's fixtures into the root: the SQL that links the key
# database, Direktiv's example, and a throwaway CA and server certificate.
root_fixtures() {
	mkdir -p "$root/tmp/fixtures"
	cp -r "$top/scripts/sql" "$top/examples" "$root/tmp/fixtures/"
	quietly bash "$top/scripts/make-certs.sh" "$root/tmp/fixtures/certs"
	chmod 755 "$root/tmp/fixtures"
	chmod -R a+rX "$root/tmp/fixtures/sql" "$root/tmp/fixtures/examples"
	in_root chown -R postgres:postgres /tmp/fixtures/certs
}

# Creates the key cluster (TLS and SCRAM over TCP) and the main cluster
# (nsvault preloaded) with Debian's pg_createcluster, as an operator would,
# and links them as scripts/clusters.sh does for the demo.
clusters_create() {
	local reader_password admin_password conf
	step "creating the key cluster (port $KEY_PORT) and the main cluster (port $MAIN_PORT)"
	# Debian's default cluster is not needed (and was never started)
	if in_root pg_lsclusters -h | grep -q '^15 *main '; then
		quietly in_root pg_dropcluster 15 main
	fi
	quietly in_root pg_createcluster 15 key -p "$KEY_PORT" --locale C.UTF-8
	conf=$root/etc/postgresql/15/key
	cat >"$conf/conf.d/nsvault.conf" <<CONF
listen_addresses = '127.0.0.1'
ssl = on
ssl_cert_file = '/tmp/fixtures/certs/server.crt'
ssl_key_file = '/tmp/fixtures/certs/server.key'
ssl_min_protocol_version = 'TLSv1.3'
password_encryption = 'scram-sha-256'
CONF
	cat >"$conf/pg_hba.conf" <<HBA
# administrator on the socket; over the network, TLS and SCRAM only
local   all           all                            peer
hostssl nsvault_keys  nsvault_reader  127.0.0.1/32   scram-sha-256
hostssl nsvault_keys  nsvault_admin   127.0.0.1/32   scram-sha-256
HBA
	quietly in_root pg_ctlcluster 15 key start

	quietly in_root pg_createcluster 15 main -p "$MAIN_PORT" --locale C.UTF-8
	conf=$root/etc/postgresql/15/main
	# what the package leaves to the operator: preloading the library
	cat >"$conf/conf.d/nsvault.conf" <<CONF
listen_addresses = ''
shared_preload_libraries = 'nsvault'
CONF
	# postgres (who runs the test's commands) may log in as app and engine
	cat >"$conf/pg_hba.conf" <<HBA
local   all   all   peer map=nsvault_test
HBA
	printf 'nsvault_test  postgres  %s\n' postgres app engine >"$conf/pg_ident.conf"
	quietly in_root pg_ctlcluster 15 main start

	# the passwords reach psql on standard input, never a command line
	reader_password=$(openssl rand -hex 24)
	admin_password=$(openssl rand -hex 24)
	quietly key_psql -d postgres -c 'CREATE DATABASE nsvault_keys'
	quietly key_psql -d nsvault_keys <<SQL
\\set reader_password '$reader_password'
\\set admin_password '$admin_password'
\\i /tmp/fixtures/sql/key-database.sql
SQL
	quietly main_psql -d postgres -c 'CREATE DATABASE nsvault_demo'
	quietly main_psql -d nsvault_demo <<SQL
\\set key_port '$KEY_PORT'
\\set ca_cert '/tmp/fixtures/certs/ca.crt'
\\set reader_password '$reader_password'
\\set admin_password '$admin_password'
\\i /tmp/fixtures/sql/link-key-database.sql
SQL
	unset reader_password admin_password
	quietly main_psql -d nsvault_demo <<'SQL'
SET client_min_messages = warning;
CREATE ROLE app LOGIN;
CREATE ROLE engine LOGIN;
SELECT nsvault.grant_namespace('demo', 'app', 'write') \g /dev/null
SELECT nsvault.grant_namespace('demo', 'engine', 'read') \g /dev/null
SELECT nsvault.harden_role('app') \g /dev/null
SQL
}

# Restarts both clusters (after a package upgrade, the new library loads).
clusters_restart() {
	quietly in_root pg_ctlcluster 15 key restart
	quietly in_root pg_ctlcluster 15 main restart
}

# The version of package $1 installed in the root.
# shellcheck disable=SC2016
package_version() { in_root dpkg-query -W -f '${Version}' "$1"; }

# Stores value $2 as secret $1 of namespace demo, as app: the value on
# standard input, as the demo does.
secret_set() { printf %s "$2" | client_as app nsvault secret set demo "$1"; }

# Is secret $1 in app's listing of namespace demo?
secret_listed() { client_as app nsvault secret list demo | cut -f1 | grep -qx "$1"; }

# The TLS version of the key link, seen by the key cluster's backend.
key_link_tls() {
	local schema
	schema=$(main_value "SELECT extnamespace::regnamespace FROM pg_extension WHERE extname = 'dblink'")
	main_value "SELECT version FROM $schema.dblink('nsvault_keydb',
		'SELECT version FROM pg_stat_ssl WHERE pid = pg_backend_pid()') AS t(version text)"
}

# The Authorization header of httpget's action input, as engine makes it.
enrich_authorization() {
	client_as engine nsvault enrich --namespace demo --workflow /tmp/fixtures/examples/httpget.yaml \
		--state getter --data /tmp/fixtures/examples/httpget-data.json |
		grep -o '"bearer [^"]*"' | tr -d '"'
}

# The demo's steps (scripts/demo.sh) against the installed client and
# extension.
demo_steps() {
	local token=demo-bearer-token-8QwFLg
	step "running the demo's steps against the installed files"
	check_output "nsvault is /usr/bin/nsvault" /usr/bin/nsvault as_postgres sh -c 'command -v nsvault'
	check_output "nsvault.so comes from postgresql-15-nsvault" \
		"postgresql-15-nsvault: /usr/lib/postgresql/15/lib/nsvault.so" \
		in_root dpkg -S /usr/lib/postgresql/15/lib/nsvault.so
	check_output "the main database has nsvault 0.8" 0.8 \
		main_value "SELECT extversion FROM pg_extension WHERE extname = 'nsvault'"
	check_output "the key database has nsvault_keys 0.2" 0.2 \
		key_psql -At -d nsvault_keys -c "SELECT extversion FROM pg_extension WHERE extname = 'nsvault_keys'"
	check "nsvault secret set (app)" secret_set secretToken "$token"
	check "nsvault secret list (app)" secret_listed secretToken
	check_output "nsvault secret get (engine)" "$token" client_as engine nsvault secret get demo secretToken
	check_output "the table holds ciphertext only" 0 \
		main_value "SELECT count(*) FROM nsvault.secrets WHERE position(convert_to('$token', 'UTF8') IN ciphertext) > 0"
	check_output "the key link is TLS 1.3" TLSv1.3 key_link_tls
	check_output "nsvault enrich of examples/httpget.yaml (engine)" "bearer $token" enrich_authorization
	check "docker-credential-nsvault --version" \
		in_root sh -c 'docker-credential-nsvault --version | grep -F 0.9.0'
	check "nsvault-credential-provider --version" \
		in_root sh -c 'nsvault-credential-provider --version | grep -F 0.9.0'
	check "the man pages are installed" in_root test -f /usr/share/man/man1/nsvault.1.gz \
		-a -f /usr/share/man/man1/docker-credential-nsvault.1.gz \
		-a -f /usr/share/man/man1/nsvault-credential-provider.1.gz
}

# Lints the packages; errors fail the test, warnings are listed.
lint() {
	local out
	step "lintian on the .changes"
	out=$(lintian --display-info "$1"/*.changes 2>&1 | grep -v '^running with root' || true)
	if [ -n "$out" ]; then
		printf '%s\n' "$out" | sed 's/^/  | /'
	else
		echo "  | (no findings)"
	fi
	if printf '%s\n' "$out" | grep -q '^E: '; then
		echo "  FAIL  lintian reports errors"
		failed=1
	else
		echo "  ok    lintian: no errors"
	fi
}

# Builds 0.7.0's packages from the tag with this checkout's debian/ (its
# changelog at 0.7.0-1), or takes them from the cache.  0.7.0's Makefile has
# no with_client: make's --assume-old (-o) skips its client targets in the
# out-of-tree build instead (debian/rules, PGXS_MAKEVARS).
build_old() {
	local key dest src
	key=$(
		git -C "$top" rev-parse "$old_tag^{commit}"
		cd "$top" && git ls-files -z debian | xargs -0 sha256sum
	)
	key=$(printf '%s' "$key" | sha256sum | cut -c1-16)
	dest=$cache/old-debs/$old_version-$key
	if ls "$dest"/*.deb >/dev/null 2>&1; then
		step "0.7.0's packages: $dest (cached)"
		old_debs=$dest
		return 0
	fi
	step "building $old_version's packages from $old_tag (log: $work/old/build.log)"
	mkdir -p "$work/old"
	src=$work/old/nsvault-$old_version
	git -C "$top" archive --prefix="nsvault-$old_version/" "$old_tag" | tar -xf - -C "$work/old"
	(cd "$top" && git ls-files -z debian | xargs -0 tar -cf - --no-recursion) | tar -xf - -C "$src"
	cat >"$src/debian/changelog" <<EOF
nsvault ($old_version-1) unstable; urgency=medium

  * $old_version, packaged with the next version's debian/ for the upgrade
    test (scripts/package-test.sh).

 -- $(cd "$top" && dpkg-parsechangelog -SMaintainer)  $(date -R)
EOF
	if ! (cd "$src" && PGXS_MAKEVARS='-o all-client -o install-client' \
		dpkg-buildpackage -us -uc -b) >"$work/old/build.log" 2>&1; then
		echo "package-test: building $old_version's packages failed; the log's end:" >&2
		tail -n 25 "$work/old/build.log" | sed 's/^/  | /' >&2
		return 1
	fi
	mkdir -p "$dest"
	cp "$work/old"/*.deb "$dest/"
	old_debs=$dest
}

# Fills the main database at 0.7: versions, metadata, a registry, grants.
fill_old() {
	step "filling the main database at $old_version"
	check_output "the main database has nsvault 0.7" 0.7 \
		main_value "SELECT extversion FROM pg_extension WHERE extname = 'nsvault'"
	quietly main_psql -d nsvault_demo <<'SQL'
SET client_min_messages = warning;
SELECT nsvault.set_secret('demo', 'secretToken', 'token-one') \g /dev/null
SELECT nsvault.set_secret('demo', 'secretToken', 'token-two') \g /dev/null
SELECT nsvault.set_secret('demo', 'dbPassword', 'db-one') \g /dev/null
SELECT nsvault.set_secret_metadata('demo', 'secretToken',
		description => 'the httpget bearer token', custom => '{"owner": "ops"}') \g /dev/null
SELECT nsvault.set_registry('demo', 'https://index.docker.io', 'admin:8QwFLg%D$qg*') \g /dev/null
CREATE ROLE auditor LOGIN;
SELECT nsvault.grant_namespace('demo', 'auditor', 'read') \g /dev/null
SQL
	check_output "0.7's client reads a version" token-one client_as engine nsvault secret get --version 1 demo secretToken
}

# Reads back what fill_old wrote, after the upgrade.
read_back() {
	check_output "secret, newest version" token-two client_as engine nsvault secret get demo secretToken
	check_output "secret, version 1" token-one client_as engine nsvault secret get --version 1 demo secretToken
	check_output "another secret" db-one client_as engine nsvault secret get demo dbPassword
	check_output "versions kept" 2 \
		main_value "SELECT count(*) FROM nsvault.list_secret_versions('demo', 'secretToken')"
	check_output "metadata" "the httpget bearer token|ops" \
		main_value "SELECT description, custom->>'owner' FROM nsvault.get_secret_metadata('demo', 'secretToken')"
	check_output "registry" "docker.io|admin|8QwFLg%D\$qg*" \
		main_value "SELECT registry, username, secret FROM nsvault.registry_credential('demo', 'alpine')"
	check_output "grants: auditor reads" t \
		main_psql -At -d nsvault_demo -c "SET ROLE auditor; SELECT nsvault.has_namespace_privilege('demo', 'read')"
	check_output "grants: engine may not write" f \
		main_psql -At -d nsvault_demo -c "SET ROLE engine; SELECT nsvault.has_namespace_privilege('demo', 'write')"
	check_output "grants: app writes" t \
		main_psql -At -d nsvault_demo -c "SET ROLE app; SELECT nsvault.has_namespace_privilege('demo', 'write')"
}

# The upgrade: 0.7.0's packages, a database filled at 0.7, the packages
# upgraded with apt, the clusters restarted, ALTER EXTENSION … UPDATE.
test_upgrade() {
	local old_debs
	build_old
	root_fresh upgrade
	root_install "$old_debs"
	check_output "postgresql-15-nsvault $old_version-1 installed" "$old_version-1" \
		package_version postgresql-15-nsvault
	root_fixtures
	clusters_create
	fill_old
	root_install "$new_debs"
	check_output "postgresql-15-nsvault upgraded" "$new_version" \
		package_version postgresql-15-nsvault
	check_output "nsvault-client upgraded" "$new_version" \
		package_version nsvault-client
	step "restarting the clusters; reading before and after ALTER EXTENSION … UPDATE"
	clusters_restart
	# the new library serves 0.7's SQL objects until the update
	check_output "before the update, the new library reads 0.7's objects" token-two \
		client_as engine nsvault secret get demo secretToken
	check "ALTER EXTENSION nsvault_keys UPDATE" \
		key_psql -d nsvault_keys -c 'ALTER EXTENSION nsvault_keys UPDATE'
	check "ALTER EXTENSION nsvault UPDATE" \
		main_psql -d nsvault_demo -c 'ALTER EXTENSION nsvault UPDATE'
	check_output "the main database has nsvault 0.8" 0.8 \
		main_value "SELECT extversion FROM pg_extension WHERE extname = 'nsvault'"
	read_back
	# and the demo's steps on the upgraded installation
	demo_steps
}

test_install() {
	root_fresh install
	root_install "$new_debs"
	root_fixtures
	clusters_create
	demo_steps
}

SECONDS=0
minbase_cache
step "building the packages (make package)"
new_debs=$top/build/packages
quietly "$top/scripts/package.sh" "$new_debs"
new_version=$(cd "$top" && dpkg-parsechangelog -SVersion)
lint "$new_debs"
if [ "$what" != upgrade ]; then
	test_install
fi
if [ "$what" != install ]; then
	test_upgrade
fi
root_teardown
if [ "$failed" -eq 0 ]; then
	echo "package-test: PASS ($what, ${SECONDS}s)"
else
	echo "package-test: FAIL ($what, ${SECONDS}s; the log: $log)"
	exit 1
fi
