#!/usr/bin/env bash
# build-install.sh — builds nsvault and installs it into the PostgreSQL tree.
set -euo pipefail
cd "$(dirname "$0")/.."

make -s -j2 all
if [ "$(id -u)" -eq 0 ] || [ -w "$(pg_config --pkglibdir)" ]; then
	make -s install
else
	sudo make -s install
fi
