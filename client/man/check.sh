#!/bin/sh
# check.sh — checks the man pages mkman.sh made: groff formats each without
# a warning (every warning on, at a terminal's width and a printer's), each
# has the sections every page needs, and nsvault.1 has a subsection for each
# command its help lists.  Needs groff (Debian's groff-base).
#
# Usage: man/check.sh man/PROGRAM.1 ...     (from client/, beside ./PROGRAM)
set -eu

status=0
fail() {
	echo "man-check: $page: $*" >&2
	status=1
}

for page in "$@"; do
	program=./$(basename "$page" .1)
	for device in utf8 ps; do
		warnings=$(groff -z -ww -man -T"$device" "$page" 2>&1) || fail "groff -T$device failed"
		[ -z "$warnings" ] || fail "groff -T$device: $warnings"
	done
	for section in NAME SYNOPSIS DESCRIPTION OPTIONS ENVIRONMENT 'EXIT STATUS' 'SEE ALSO'; do
		grep -qx ".SH \"$section\"" "$page" || fail "no $section section"
	done
	commands=$("$program" --help |
		sed -n '/^Commands:$/,/^$/s/^  \([a-z][a-z0-9-]*\).*/\1/p' | grep -vx help || true)
	[ -z "$commands" ] || grep -qx '.SH "FILES"' "$page" || fail "no FILES section"
	for command in $commands; do
		title=$(printf '%s %s' "$(basename "$program")" "$command" | sed 's/-/\\-/g')
		grep -qxF ".SS \"$title\"" "$page" || fail "no subsection for the command $command"
	done
done
[ "$status" -ne 0 ] || echo "man-check: $# pages, no warnings"
exit "$status"
