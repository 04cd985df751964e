# shellcheck shell=bash
# progress.sh — sourced: one line per setup phase; the tools' output goes to a log.
#
# The setup (the ./make wrapper, deps.sh, build-install.sh, demo.sh) prints
# one line per phase, naming the log; what apt, make and initdb print is
# appended to the log instead.  When a command fails, its last lines are
# printed as well, so that the reason is on the screen.
#
# The log is setup.log in the checkout, which whoever builds there can write
# (NSVAULT_SETUP_LOG chooses another).  A process that runs as another user
# (the demo's clusters belong to postgres when root starts it) gets the
# log's open descriptor in NSVAULT_SETUP_LOG_FD, as it may not open the file
# itself.  If the log cannot be opened, a new one under /tmp is used.
#
# Callers set progress_prefix ("setup", "demo") before calling step.

setup_log=${NSVAULT_SETUP_LOG:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/setup.log}
if [ -n "${NSVAULT_SETUP_LOG_FD:-}" ] && { true >&"$NSVAULT_SETUP_LOG_FD"; } 2>/dev/null; then
	setup_log_fd=$NSVAULT_SETUP_LOG_FD
elif ! { exec {setup_log_fd}>>"$setup_log"; } 2>/dev/null; then
	setup_log=$(mktemp /tmp/nsvault-setup.XXXXXX.log)
	exec {setup_log_fd}>>"$setup_log"
fi
export NSVAULT_SETUP_LOG=$setup_log NSVAULT_SETUP_LOG_FD=$setup_log_fd

# Prints the phase's line, and marks its start in the log.
step() {
	echo "${progress_prefix:-setup}: $* (log: $setup_log)"
	echo "== $(date '+%F %T') ${progress_prefix:-setup}: $*" >&"$setup_log_fd"
}

# Runs a command with its output appended to the log; when it fails, prints
# the output's last lines on stderr and returns its status.
quietly() {
	local out status=0
	out=$(mktemp)
	"$@" >"$out" 2>&1 </dev/null || status=$?
	cat "$out" >&"$setup_log_fd"
	if [ "$status" -ne 0 ]; then
		{
			echo "${progress_prefix:-setup}: failed (exit $status): $*"
			echo "${progress_prefix:-setup}: its last lines (all of it in $setup_log):"
			tail -n 25 "$out" | sed 's/^/  | /'
		} >&2
	fi
	rm -f "$out"
	return "$status"
}
