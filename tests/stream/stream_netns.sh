#!/usr/bin/env bash
# WireGuard over the stream listener, in the real daemon: evpnd (file store,
# API, the test "echo" egress) in one namespace with `stream.listen` set; a
# stock wireguard-go client in another whose UDP to the server is dropped
# (nft), its endpoint pointing at a tiny UDP<->WebSocket relay (ws_relay.py)
# holding the user's API key. Ping goes through; the peer's endpoint is the
# stream's; refusals (no key, wrong key, master key, wrong path, not an
# upgrade), malformed frames and another user's tunnel on a stream each get
# their answer and counter; 1,000 idle streams are held; deleting the user
# closes its stream and its key is refused after.
set -u
# shellcheck source=SCRIPTDIR/../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
B=${EVPN_BUILD_DIR:?}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/../lib/check.sh"
# shellcheck source=SCRIPTDIR/../lib/evpnd_ns.sh
. "$(dirname "$0")/../lib/evpnd_ns.sh"

evn_init st 192.168.79 18779 nft
WS=ws://192.168.79.1:18443/wg
RELAY="python3 $HERE/ws_relay.py"

# start_relay KEY PORT LOG: a relay in the client namespace; waits for it
start_relay() {
	ip netns exec $NS_C $RELAY $WS --key "$1" --udp 127.0.0.1:$2 >"$3" 2>&1 &
	netns_track $!
	RELAY_PID=$!
	for _ in $(seq 50); do
		grep -q "ready\|refused\|Error" "$3" && break
		sleep 0.1
	done
	grep -q ready "$3"
}
probe() { # KEY-or-"" [PATH] -> HTTP status of the upgrade
	local url=ws://192.168.79.1:18443${2:-/wg}
	if [ -n "$1" ]; then
		ip netns exec $NS_C $RELAY "$url" --key "$1" --probe
	else
		ip netns exec $NS_C $RELAY "$url" --probe
	fi
}
raw() { # HEX: close code the server answers raw bytes with
	ip netns exec $NS_C $RELAY $WS --key "$BKEY" --raw "$1"
}

ulimit -n 8192
evn_up
EVN_TRANSPORT='stream: {listen: "192.168.79.1:18443", path: /wg, queue: 16k}' \
	evn_evpnd 10.78.0.0/16
check "evpnd logs the stream listener" grep -q "stream listener on TCP port 18443" $TMP/evpnd.log

evn_user alice
AKEY=$UKEY
api POST /users '{"client_id":"bob"}' >$TMP/bob.json
BKEY=$(json '["api_key"]' <$TMP/bob.json)
check "API returned keys, an address and a config" test -n "$AKEY" -a -n "$BKEY" -a -n "$ADDR" -a -n "$SPUB"

# UDP to the server is blocked: only the stream can carry the tunnel.
ip netns exec $NS_C nft -f - <<'NFT' || exit 1
table inet evst {
	chain out {
		type filter hook output priority 0;
		ip daddr 192.168.79.1 udp dport 51820 counter drop
	}
}
NFT

evn_client 10.78.0.0/16
check "UDP blocked: no tunnel over UDP" not cping -c 2 -i 0.3 -W 1 10.78.0.1
check "nft dropped the client's UDP to the server" \
	sh -c "ip netns exec $NS_C nft list table inet evst | grep -q 'packets [1-9]'"

start_relay "$AKEY" 51999 $TMP/relay_a.log
check "relay upgraded with alice's key" grep -q ready $TMP/relay_a.log
ip netns exec $NS_C wg set $WGC peer "$SPUB" endpoint 127.0.0.1:51999

# wireguard-go retries its handshake every 5 s; the one after the endpoint
# change goes over the stream
check "ping through the stream (UDP blocked)" cping_until 10.78.0.1
check "three more pings through the stream" cping -c 3 -i 0.3 -W 3 10.78.0.1
check "a bigger ping (1300 bytes) through the stream" cping -c 2 -s 1300 -W 3 10.78.0.1
wg show $UAPI >$TMP/show.txt 2>&1
cat $TMP/show.txt
check "wg show: alice's endpoint is a stream's (240.0.0.0/4)" grep -q "endpoint: 240\." $TMP/show.txt
check "/metrics: one upgrade" test "$(metric 'evpn_wg_stream_upgrades_total{result="upgraded"}')" -ge 1
check "/metrics: stream bytes in and out" sh -c \
	"test $(metric evpn_wg_stream_rx_bytes_total) -gt 0 -a $(metric evpn_wg_stream_tx_bytes_total) -gt 0"

# refusals
check "no key -> 401" test "$(probe '')" = 401
check "wrong key -> 401" test "$(probe 0000000000000000000000000000000000000000000000000000000000000000)" = 401
check "master key -> 403" test "$(probe "$KEY")" = 403
check "wrong path -> 404" test "$(probe "$BKEY" /nope)" = 404
code=$(ip netns exec $NS_C curl -s -o /dev/null -w '%{http_code}' http://192.168.79.1:18443/wg)
check "plain GET (no upgrade) -> 426" test "$code" = 426
check "/metrics: refusals counted" sh -c \
	"test $(metric 'evpn_wg_stream_upgrades_total{result="unauthorized"}') -ge 2 -a \
	$(metric 'evpn_wg_stream_upgrades_total{result="master_key_refused"}') -ge 1 -a \
	$(metric 'evpn_wg_stream_upgrades_total{result="bad_path"}') -ge 1 -a \
	$(metric 'evpn_wg_stream_upgrades_total{result="bad_upgrade"}') -ge 1"

# malformed frames get a close with the RFC's code
check "unmasked frame -> close 1002" test "$(raw 820100)" = 1002
check "reserved bit -> close 1002" test "$(raw c280aabbccdd)" = 1002
check "oversized (64-bit length) -> close 1009" test "$(raw 82ff0000000000010000aabbccdd)" = 1009
check "text message -> close 1003" test "$(raw 8181aabbccdd00)" = 1003
check "ping is answered, then close 1000 echoed" test "$(raw 8980aabbccdd8882aabbccdda953)" = 1000
check "/metrics: protocol closes counted" test "$(metric 'evpn_wg_stream_closes_total{reason="protocol_error"}')" -ge 2

# a slow client: half an upgrade, then nothing -> 408 after 10 s
read -r st secs < <(ip netns exec $NS_C $RELAY ws://192.168.79.1:18443/wg --slow)
check "slow upgrade closed with 408" test "$st" = 408
check "... after about 10 s (took ${secs}s)" test "${secs:-0}" -ge 9 -a "${secs:-99}" -le 13
check "/metrics: upgrade_timeout counted" test "$(metric 'evpn_wg_stream_upgrades_total{result="upgrade_timeout"}')" -ge 1

# back-pressure: a client that stops reading; the server's queue for its
# stream is bounded (16k here), the rest is dropped and counted
ip netns exec $NS_C $RELAY $WS --key "$AKEY" --udp 127.0.0.1:51997 --stall >$TMP/relay_s.log 2>&1 &
STALL=$!
netns_track $STALL
for _ in $(seq 50); do grep -q ready $TMP/relay_s.log && break; sleep 0.1; done
ip netns exec $NS_C wg set $WGC peer "$SPUB" endpoint 127.0.0.1:51997
ip netns exec $NS_C ping -f -c 4000 -s 1300 -W 1 10.78.0.1 >/dev/null 2>&1
check "/metrics: queue_full drops on the stalled stream" \
	test "$(metric 'evpn_wg_stream_drops_total{reason="queue_full"}')" -gt 0
rss=$(awk '/^VmRSS/ {print $2}' /proc/$SRV_PID/status)
check "evpnd alive, RSS bounded (${rss} KiB)" test "${rss:-999999}" -lt 400000
netns_stop $STALL
ip netns exec $NS_C wg set $WGC peer "$SPUB" endpoint 127.0.0.1:51999
check "alice back on her own stream" cping -c 2 -i 0.3 -W 3 10.78.0.1

# another user's key cannot carry alice's tunnel
start_relay "$BKEY" 51998 $TMP/relay_b.log
ip netns exec $NS_C wg set $WGC peer "$SPUB" endpoint 127.0.0.1:51998
cping -c 2 -i 0.3 -W 1 10.78.0.1
for _ in $(seq 30); do grep -q closed $TMP/relay_b.log && break; sleep 0.2; done
check "bob's stream carrying alice's tunnel is closed (1008)" grep -q "closed 1008" $TMP/relay_b.log
check "/metrics: peer_mismatch counted" test "$(metric 'evpn_wg_stream_closes_total{reason="peer_mismatch"}')" -ge 1
check "/metrics: wrong_source drop counted" test "$(metric 'evpn_wg_drops_total{reason="wrong_source"}')" -ge 1
ip netns exec $NS_C wg set $WGC peer "$SPUB" endpoint 127.0.0.1:51999
check "alice's own stream still carries her tunnel" cping -c 2 -i 0.3 -W 3 10.78.0.1

# many idle streams
ip netns exec $NS_C python3 - "$BKEY" >$TMP/many.log 2>&1 <<'PY' &
import base64, os, socket, sys, time
socks = []
for i in range(1000):
    s = socket.create_connection(("192.168.79.1", 18443), timeout=10)
    k = base64.b64encode(os.urandom(16)).decode()
    s.sendall(("GET /wg HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n"
               % (k, sys.argv[1])).encode())
    h = b""
    while b"\r\n\r\n" not in h:
        h += s.recv(4096)
    assert h.startswith(b"HTTP/1.1 101"), h
    socks.append(s)
print("open", len(socks), flush=True)
time.sleep(30)
PY
MANY=$!
netns_track $MANY
for _ in $(seq 200); do grep -q "open\|Error" $TMP/many.log && break; sleep 0.1; done
cat $TMP/many.log
check "1,000 idle streams upgraded" grep -q "open 1000" $TMP/many.log
check "/metrics: evpn_wg_streams >= 1001" test "$(metric evpn_wg_streams)" -ge 1001
check "tunnel still works with 1,000 idle streams" cping -c 2 -i 0.3 -W 3 10.78.0.1
kill $MANY 2>/dev/null
wait $MANY 2>/dev/null
netns_untrack $MANY
for _ in $(seq 50); do [ "$(metric evpn_wg_streams)" -le 1 ] && break; sleep 0.1; done
check "their streams are gone after the client left" test "$(metric evpn_wg_streams)" -le 1

# a deleted user's stream closes, and its key is refused
code=$(ip netns exec $NS_S curl -s -o /dev/null -w '%{http_code}' -X DELETE \
	-H "Authorization: Bearer $KEY" $API/users/alice)
check "DELETE /users/alice -> 204" test "$code" = 204
for _ in $(seq 30); do grep -q closed $TMP/relay_a.log && break; sleep 0.2; done
check "deleted user's stream is closed (1008)" grep -q "closed 1008" $TMP/relay_a.log
check "deleted user's key -> 401" test "$(probe "$AKEY")" = 401
check "evpnd still running" kill -0 $SRV_PID

if [ $fail != 0 ]; then
	echo "--- evpnd log"; tail -60 $TMP/evpnd.log
fi
exit $fail
