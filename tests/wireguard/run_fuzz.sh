#!/usr/bin/env bash
# Run the receive-path fuzz target for a bounded time (FUZZ_SECONDS, 30 s
# by default). Any crash, leak or sanitizer report fails the test.
set -euo pipefail
B=${EVPN_BUILD_DIR:?}
F=${EVPN_FUZZ_BIN:-$B/tests/fuzz_wg_rx}
if [ ! -x "$F" ]; then
	echo "fuzz target $F not built (scripts/test builds it with clang; or configure with EVPN_FUZZ=ON, CC=clang)"
	[ -n "${CI:-}" ] && exit 1
	exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus"
# seeds: one byte of mode + the shape of each message type
printf '\x01\x01\x00\x00\x00' >"$work/corpus/init"
head -c 148 /dev/zero | sed 's/^\x00/\x01/' >>"$work/corpus/init"
printf '\x02\x04\x00\x00\x00' >"$work/corpus/data"
head -c 60 /dev/zero >>"$work/corpus/data"
cd "$work"
"$F" -max_total_time="${FUZZ_SECONDS:-30}" -rss_limit_mb=2048 \
	-max_len=2048 -print_final_stats=1 corpus 2>&1 | tail -25
