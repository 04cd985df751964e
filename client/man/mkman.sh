#!/bin/sh
# mkman.sh — writes a program's man page on standard output, made from what
# the program prints: its --help, its --version and, for a program whose
# help has a "Commands:" section (nsvault), each command's --help.  The
# hand-written parts (NAME, ENVIRONMENT, FILES, SEE ALSO) come from an
# include file, as help2man's do.  sh, sed and awk only: no python.
#
# Usage: man/mkman.sh PROGRAM INCLUDE > PAGE      e.g. ./nsvault man/nsvault.h2m
set -eu

program=$1
include=$2
name=$(basename "$program")
here=$(dirname "$0")
texts=$(mktemp)
trap 'rm -f "$texts"' EXIT

help=$("$program" --help)
version=$("$program" --version)
# help2man's date: the build's, or SOURCE_DATE_EPOCH's for a reproducible one
if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	date=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%d)
else
	date=$(date -u +%Y-%m-%d)
fi

# the first word of each entry of "Commands:", but help (it prints the
# program's own help)
commands=$(printf '%s\n' "$help" |
	sed -n '/^Commands:$/,/^$/s/^  \([a-z][a-z0-9-]*\).*/\1/p' | grep -vx help || true)

printf '@@ main\n%s\n' "$help" > "$texts"
for command in $commands; do
	printf '@@ command %s\n' "$command" >> "$texts"
	"$program" "$command" --help >> "$texts"
done

LC_ALL=C awk -v include="$include" -v name="$name" -v version="$version" -v date="$date" \
	-f "$here/help2roff.awk" "$include" "$texts"
