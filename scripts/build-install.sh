#!/usr/bin/env bash
# build-install.sh — builds nsvault and installs it into the PostgreSQL tree.
set -euo pipefail
cd "$(dirname "$0")/.."
progress_prefix=setup
# shellcheck source=progress.sh
. scripts/progress.sh

# the compiler's output goes to the log: make's own -s keeps it short
step "building and installing nsvault"
quietly make -s -j2 all
if [ "$(id -u)" -eq 0 ] || [ -w "$(pg_config --pkglibdir)" ]; then
	quietly make -s install
else
	# sudo asks for its password on the terminal, not on quietly's output
	quietly sudo make -s install
fi
