#!/usr/bin/env bash
# The UAPI socket without root: the transport plugin (in wg_testd, on
# loopback) puts its socket in uapi_dir, or in uapi_fallback_dir when
# uapi_dir cannot be used; the socket is 0600, a directory it creates is
# 0700; `get=1` leaves the private key out unless uapi_private_key is true.
set -u
. "$(dirname "$0")/../lib/check.sh"
B=${EVPN_BUILD_DIR:?}
TESTD=$B/tests/wg_testd
SO=$B/plugins/transport-wireguard.so
need_built "$TESTD" "$SO"
need_cmds python3

TMP=$(mktemp -d)
PID=
cleanup() {
	if [ -n "$PID" ]; then
		kill "$PID" 2>/dev/null
		wait "$PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

# A server key and a peer, as base64; the private key's hex is what a
# leaking answer would carry.
python3 - "$TMP" <<'PY'
import base64, os, sys
d = sys.argv[1]
k = bytearray(os.urandom(32))
k[0] &= 248  # clamped as X25519 does: the device keeps (and shows) this
k[31] = (k[31] & 127) | 64
k = bytes(k)
open(d + "/s.key", "w").write(base64.b64encode(k).decode())
open(d + "/s.hex", "w").write(k.hex())
open(d + "/c.pub", "w").write(base64.b64encode(os.urandom(32)).decode())
PY

# start NAME [wg_testd options]: run the plugin, wait until it is ready.
start() {
	local name=$1
	shift
	: >"$TMP/log"
	"$TESTD" --plugin "$SO" --key "$(cat "$TMP/s.key")" --listen 127.0.0.1:0 \
		--uapi-name "$name" --peer "$(cat "$TMP/c.pub")=10.77.0.2/32" "$@" \
		2>>"$TMP/log" &
	PID=$!
	for _ in $(seq 100); do
		grep -q "wg_testd ready" "$TMP/log" && return 0
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$TMP/log"
	echo "FAIL: wg_testd did not start"
	exit 1
}
stop() {
	kill "$PID"
	wait "$PID"
	PID=
}
# get SOCKET: the answer to get=1
get() {
	python3 - "$1" <<'PY'
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.sendall(b"get=1\n\n")
out = b""
while not out.endswith(b"\n\n"):
    d = s.recv(65536)
    if not d:
        break
    out += d
sys.stdout.write(out.decode())
PY
}
mode() { stat -c %a "$1"; }

# --- uapi_dir usable: the socket is there, 0600; the private key withheld
mkdir -m 0755 "$TMP/run"
start evu1 --uapi-dir "$TMP/run/wg" --uapi-fallback-dir "$TMP/state/wireguard"
check "socket in uapi_dir" test -S "$TMP/run/wg/evu1.sock"
check "uapi_dir created 0700 ($(mode "$TMP/run/wg"))" test "$(mode "$TMP/run/wg")" = 700
check "socket is 0600 ($(mode "$TMP/run/wg/evu1.sock"))" \
	test "$(mode "$TMP/run/wg/evu1.sock")" = 600
check "socket owned by the daemon's user" test "$(stat -c %u "$TMP/run/wg/evu1.sock")" = "$(id -u)"
check "fallback not used" test ! -e "$TMP/state/wireguard"
get "$TMP/run/wg/evu1.sock" >"$TMP/get1"
check "get=1 answers the peer" grep -q "^allowed_ip=10.77.0.2/32$" "$TMP/get1"
check "get=1 answers the listen port" grep -q "^listen_port=[1-9]" "$TMP/get1"
check "get=1 ends with errno=0" grep -q "^errno=0$" "$TMP/get1"
check "default: no private_key line" not grep -q "private_key" "$TMP/get1"
check "default: the key's hex is nowhere in the answer" not grep -qi "$(cat "$TMP/s.hex")" "$TMP/get1"
stop
check "socket removed on stop" test ! -e "$TMP/run/wg/evu1.sock"

# --- uapi_private_key: true: the line is there (what `wg showconf` needs)
start evu2 --uapi-dir "$TMP/run/wg" --uapi-private-key true
get "$TMP/run/wg/evu2.sock" >"$TMP/get2"
check "uapi_private_key: true gives the private key" \
	grep -qx "private_key=$(cat "$TMP/s.hex")" "$TMP/get2"
stop

# --- uapi_dir unusable (below a regular file: refused even to root): the
# socket goes to uapi_fallback_dir, created 0700, with no warning
: >"$TMP/file"
start evu3 --uapi-dir "$TMP/file/wireguard" --uapi-fallback-dir "$TMP/state/wireguard"
check "fallback: socket in uapi_fallback_dir" test -S "$TMP/state/wireguard/evu3.sock"
check "fallback dir created 0700 ($(mode "$TMP/state/wireguard" 2>/dev/null))" \
	test "$(mode "$TMP/state/wireguard" 2>/dev/null)" = 700
check "fallback socket is 0600" test "$(mode "$TMP/state/wireguard/evu3.sock" 2>/dev/null)" = 600
check "fallback: said at info level, no warning" \
	not grep -q "\[warn\]" "$TMP/log"
check "fallback: the log names the socket" grep -q "UAPI socket $TMP/state/wireguard/evu3.sock" "$TMP/log"
get "$TMP/state/wireguard/evu3.sock" >"$TMP/get3" 2>/dev/null
check "fallback socket answers get=1" grep -q "^errno=0$" "$TMP/get3"
stop

# --- no fallback configured: a warning, the daemon runs without UAPI
start evu4 --uapi-dir "$TMP/file/wireguard"
check "no fallback: a warning says the UAPI is off" grep -q "\[warn\] UAPI disabled" "$TMP/log"
check "no fallback: still running" kill -0 "$PID"
stop

[ $fail = 0 ] || { echo "--- last log"; cat "$TMP/log"; }
exit $fail
