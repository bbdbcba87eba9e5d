#!/usr/bin/env bash
# Run the receive-path fuzz target (fuzz_wg_rx) for a bounded time.
set -uo pipefail
. "$(dirname "$0")/../lib/fuzz.sh"
# seeds: one byte of mode + the shape of each message type
seeds() {
	printf '\x01\x01\x00\x00\x00' >"$1/init"
	head -c 148 /dev/zero | sed 's/^\x00/\x01/' >>"$1/init"
	printf '\x02\x04\x00\x00\x00' >"$1/data"
	head -c 60 /dev/zero >>"$1/data"
}
fuzz_run fuzz_wg_rx seeds
