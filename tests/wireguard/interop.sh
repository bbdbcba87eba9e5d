#!/usr/bin/env bash
# Interop: a stock wireguard-go + wg client in its own network namespace
# handshakes with our wireguard transport plugin (run by wg_testd with an
# echo egress) in another namespace, over a veth pair. Checks ping over IPv4
# and IPv6 through the tunnel, `wg show` on our UAPI socket, and that a
# flood of garbage datagrams is dropped, counted, and survived.
. "$(dirname "$0")/netns_lib.sh"

check "IPv4 ping through the tunnel (handshake + echo egress)" \
	ip netns exec $NS_C ping -c 3 -i 0.3 -W 3 10.77.0.1
check "IPv6 ping through the tunnel" \
	ip netns exec $NS_C ping -6 -c 3 -i 0.3 -W 3 fd77::1
check "large packets (1392-byte ICMP payload, padding near the MTU)" \
	ip netns exec $NS_C ping -c 2 -s 1392 -W 3 10.77.0.1

wg show $UAPI >$TMP/show.txt 2>&1
cat $TMP/show.txt
check "wg show lists our peer" grep -q "peer: $(cat $TMP/c.pub)" $TMP/show.txt
check "wg show has a handshake" grep -q "latest handshake:" $TMP/show.txt
check "wg show has transfer counters" grep -q "transfer:" $TMP/show.txt
check "wg show has the client's endpoint" grep -q "endpoint: 192.168.77.2:" $TMP/show.txt
check "wg show has the allowed ips" grep -q "allowed ips: 10.77.0.2/32, fd77::2/128" $TMP/show.txt
check "wg show: no server key by default (uapi_private_key: false)" \
	sh -c "! grep -q \"public key:\" $TMP/show.txt"
check "UAPI set=1 is refused, not crashed" \
	sh -c "! wg set $UAPI listen-port 1 2>/dev/null"

# --- roaming: the client changes its UDP port mid-stream; we follow
ip netns exec $NS_C ping -c 15 -i 0.2 -W 2 10.77.0.1 >$TMP/roam.txt 2>&1 &
PING_PID=$!
sleep 1
ip netns exec $NS_C wg set $WGC listen-port 40123
wait $PING_PID
recv=$(awk '/received/ { print $4 }' $TMP/roam.txt)
check "roaming: ping continues across the port change ($recv/15)" test "${recv:-0}" -ge 12
wg show $UAPI endpoints >$TMP/ep.txt
check "roaming: the server follows to :40123" grep -q "192.168.77.2:40123" $TMP/ep.txt

# --- hostile datagrams: random, truncated, oversized, bad mac1, right
# types with garbage, from many source ports
ip netns exec $NS_C python3 - <<'PY'
import os, random, socket, struct
random.seed(3)
dst = ("192.168.77.1", 51820)
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(16)]
for i in range(20000):
    s = random.choice(socks)
    kind = i % 6
    if kind == 0:
        d = os.urandom(random.randrange(0, 200))
    elif kind == 1:   # initiation-sized garbage (bad mac1)
        d = struct.pack("<I", 1) + os.urandom(144)
    elif kind == 2:   # truncated / oversized handshake messages
        d = struct.pack("<I", random.choice((1, 2, 3))) + os.urandom(random.choice((0, 10, 87, 91, 143, 147, 149, 300)))
    elif kind == 3:   # data with random indices and counters
        d = struct.pack("<IIQ", 4, random.getrandbits(32), random.getrandbits(64)) + os.urandom(random.randrange(0, 1500))
    elif kind == 4:   # cookie replies for random indices
        d = struct.pack("<II", 3, random.getrandbits(32)) + os.urandom(56)
    else:             # big datagrams
        d = os.urandom(random.choice((1500, 4000, 9000, 60000)))
    try:
        s.sendto(d, dst)
    except OSError:
        pass
PY
sleep 0.5
check "server survived the flood" kill -0 $SRV_PID
check "tunnel still works after the flood" \
	ip netns exec $NS_C ping -c 2 -i 0.3 -W 3 10.77.0.1
metrics
grep -v " 0$" $TMP/metrics | sort
for r in bad_mac1 bad_size unknown_index bad_type; do
	v=$(get "evpn_wg_drops_total{reason=\"$r\"}")
	check "drops counted: $r ($v)" test "${v:-0}" -gt 0
done
v=$(get 'evpn_wg_handshakes_total{event="response_sent"}')
check "handshake responses counted ($v)" test "${v:-0}" -ge 1
stop_server
check "UAPI socket removed on stop" test ! -e /var/run/wireguard/$UAPI.sock

# --- the server as initiator: it has a packet for a peer whose endpoint
# it knows (wireguard-go, now on port 40123) and no session
start_server --peer "$PEER_ARG@192.168.77.2:40123" --ping-to 10.77.0.2 \
	--uapi-private-key true
wg show $UAPI >$TMP/show.txt 2>&1
check "uapi_private_key: true: wg show has the server's public key" \
	grep -q "public key: $(cat $TMP/s.pub)" $TMP/show.txt
wg showconf $UAPI >$TMP/showconf.txt 2>&1
check "uapi_private_key: true: wg showconf has the private key" \
	grep -qx "PrivateKey = $(cat $TMP/s.key)" $TMP/showconf.txt
for _ in $(seq 40); do
	metrics
	[ "$(get wg_testd_echo_replies_total)" -gt 2 ] 2>/dev/null && break
	sleep 0.25
done
v=$(get 'evpn_wg_handshakes_total{event="initiation_sent"}')
check "initiator: we sent the handshake initiation ($v)" test "${v:-0}" -ge 1
v=$(get 'evpn_wg_handshakes_total{event="completed"}')
check "initiator: handshake completed ($v)" test "${v:-0}" -ge 1
v=$(get wg_testd_echo_replies_total)
check "initiator: wireguard-go's side answered our pings ($v)" test "${v:-0}" -ge 2
stop_server

# --- handshake flood with valid mac1 from many source ports: the server
# switches to cookies, and a real client still gets through
start_server --peer "$PEER_ARG" --handshake-load-threshold 50
ip netns exec $NS_C python3 - "$(cat $TMP/s.pub)" >$TMP/flood.log 2>&1 <<'PY' &
import base64, hashlib, os, socket, struct, sys, time
spub = base64.b64decode(sys.argv[1])
k = hashlib.blake2s(b"mac1----" + spub).digest()
socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(64)]
end, n = time.time() + 14, 0
while time.time() < end:
    for s in socks:
        m = struct.pack("<II", 1, n) + os.urandom(108)
        m += hashlib.blake2s(m, key=k, digest_size=16).digest() + bytes(16)
        s.sendto(m, ("192.168.77.1", 51820))
        n += 1
    time.sleep(0.02)
print("sent", n)
PY
FLOOD_PID=$!
sleep 1
readd_peer
ok=1
for _ in $(seq 8); do
	ip netns exec $NS_C ping -c 1 -W 2 10.77.0.1 >/dev/null 2>&1 && { ok=0; break; }
done
check "a real client connects during a handshake flood" test $ok = 0
metrics
v=$(get 'evpn_wg_handshakes_total{event="cookie_sent"}')
check "under load the server answered with cookies ($v)" test "${v:-0}" -gt 10
v=$(get 'evpn_wg_drops_total{reason="handshake_invalid"}')
check "flood initiations that got through mac1 failed Noise ($v)" test "${v:-0}" -gt 0
wait $FLOOD_PID
cat $TMP/flood.log
stop_server

if [ $fail != 0 ]; then
	echo "--- server log"; tail -50 $TMP/server.log
	echo "--- wireguard-go log"; tail -20 $TMP/wggo.log
fi
exit $fail
