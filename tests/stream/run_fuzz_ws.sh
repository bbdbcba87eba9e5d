#!/usr/bin/env bash
# Run the WebSocket parser fuzz target (fuzz_ws) for a bounded time.
set -uo pipefail
. "$(dirname "$0")/../lib/fuzz.sh"
# seeds: a role byte + an upgrade request, then masked frames
seeds() {
	printf '\x80GET /wg HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' >"$1/upgrade"
	printf '\x80\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58' >"$1/hello"
	printf '\x81\x02\x03abc\x89\x01p\x80\x02de\x88\x02\x03\xe8' >"$1/frag"
}
fuzz_run fuzz_ws seeds
