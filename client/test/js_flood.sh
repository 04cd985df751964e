#!/bin/sh
# js_flood.sh — stands in for nsvault-js in test_jx: it writes to its
# standard error, which must reach nothing, then answers with more text
# (32 MB) than the test's memory limit (8 MB) lets the client read.
echo "js_flood.sh: this must not be seen" >&2
printf R
exec /usr/bin/head -c 33554432 /dev/zero
