#!/usr/bin/env bash
# deps.sh — installs with apt whatever building and testing nsvault needs.
#
# postgresql-server-dev-15 is pinned to the installed server's version: an
# unpinned install would upgrade the server along with it.  Installing
# postgresql-15 makes Debian's own cluster 15/main on port 5432; when this
# run made it, it is stopped and disabled (a cluster that was there before
# is left alone: it may hold someone's data).  Installing pgbouncer likewise
# starts and enables its service on port 6432; when this run installed it,
# it is stopped and disabled (the tests start their own).
set -euo pipefail

# jq and nodejs: test_mask masks values as the jq and node programs write them;
# groff-base: the man pages are checked with groff; pgbouncer: t/240 runs
# nsvault behind it
packages=(postgresql-15 postgresql-contrib libpq-dev libipc-run-perl openssl
		  libssl-dev make gcc libjansson-dev libjq-dev libonig-dev libyaml-dev duktape-dev valgrind
		  python3 jq nodejs groff-base pgbouncer)
# make fuzz: clang and its libFuzzer runtime
if [ "${1:-}" = "--fuzz" ]; then
	packages+=(clang libclang-rt-dev)
fi
# make bench: arithmetic for the table, the latency plot, and GNU time for
# the client's peak RSS (bash's time keyword has no memory figure)
if [ "${1:-}" = "--bench" ]; then
	packages+=(bc gnuplot-nox time)
fi

installed() {
	[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]
}

server_version() {
	dpkg-query -W -f='${Version}' postgresql-15 2>/dev/null || true
}

missing=()
for p in "${packages[@]}"; do
	installed "$p" || missing+=("$p")
done
dev_ok=false
if installed postgresql-server-dev-15 &&
	[ "$(dpkg-query -W -f='${Version}' postgresql-server-dev-15)" = "$(server_version)" ]; then
	dev_ok=true
fi

if [ ${#missing[@]} -eq 0 ] && $dev_ok; then
	exit 0
fi

# the development files are installed after the server, pinned to its version
wanted=("${missing[@]}")
$dev_ok || wanted+=(postgresql-server-dev-15)
if [ "$(id -u)" -ne 0 ]; then
	echo "setup: missing packages: ${wanted[*]}" >&2
	echo "setup: run 'make deps' as root to install them" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive
progress_prefix=setup
# shellcheck source=progress.sh
. "$(dirname "$0")/progress.sh"
step "installing packages: ${wanted[*]}"
main_cluster_before=false
[ -e /etc/postgresql/15/main ] && main_cluster_before=true
pgbouncer_before=false
installed pgbouncer && pgbouncer_before=true
quietly apt-get update -q
if [ ${#missing[@]} -gt 0 ]; then
	quietly apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
$dev_ok || quietly apt-get install -y -q --no-install-recommends "postgresql-server-dev-15=$(server_version)"

if ! $main_cluster_before && [ -e /etc/postgresql/15/main ]; then
	step "stopping and disabling the cluster 15/main (port 5432) that installing postgresql-15 made"
	# it may not be running (in a chroot, nothing starts it)
	if pg_ctlcluster 15 main status >/dev/null 2>&1; then
		quietly pg_ctlcluster 15 main stop
	fi
	# neither the boot nor pg_ctlcluster starts a disabled cluster
	echo disabled >/etc/postgresql/15/main/start.conf
fi

if ! $pgbouncer_before && installed pgbouncer; then
	step "stopping and disabling the pgbouncer service (port 6432) that installing pgbouncer started"
	# it may not be running (in a chroot, nothing starts it)
	if /etc/init.d/pgbouncer status >/dev/null 2>&1; then
		quietly /etc/init.d/pgbouncer stop
	fi
	# the boot does not start a disabled service; a machine where this
	# cannot be done (no init system to ask) runs the tests all the same
	if command -v systemctl >/dev/null; then
		quietly systemctl disable pgbouncer.service || echo "setup: pgbouncer's service is left enabled" >&2
	else
		quietly update-rc.d pgbouncer disable || echo "setup: pgbouncer's service is left enabled" >&2
	fi
fi
