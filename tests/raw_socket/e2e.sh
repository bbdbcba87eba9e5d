#!/usr/bin/env bash
# raw-socket egress end to end. evpnd (file store, wireguard transport,
# raw-socket egress, REST API + bearer auth) in a server namespace that
# forwards (and NATs) to a web namespace; a stock wireguard-go client in a
# client namespace, configured from POST /users. Through the tunnel: ping,
# a 50 MB HTTP download (sha256 checked), iperf3 TCP both ways and UDP;
# roaming (the client's source address and port change mid-ping and the
# server follows); a disabled user cannot handshake; a deleted user loses
# the tunnel at once.
set -u

B=${EVPN_BUILD_DIR:?}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/../lib/check.sh"

[ "$(id -u)" = 0 ] || need "needs root (network namespaces, TUN)"
need_cmds ip wg wireguard-go ping curl python3 iperf3 sha256sum

. "$HERE/topo_lib.sh"
topo_test_setup
echo "# NAT in the server namespace: $NAT"

# --- web namespace: HTTP and iperf3 servers
mkdir -p "$TMP/www"
head -c 50M /dev/urandom >"$TMP/www/big.bin"
ip netns exec "$NS_W" python3 "$HERE/../lib/httpd.py" $W_IP 8080 "$TMP/www" \
	>"$TMP/httpd.log" 2>&1 &
netns_track $!
ip netns exec "$NS_W" iperf3 -s -B $W_IP -p 5201 >"$TMP/iperf3s.log" 2>&1 &
netns_track $!

# --- evpnd + client
topo_evpnd || { echo "FAIL: evpnd did not start"; exit 1; }
check "raw-socket egress created its TUN device" \
	ip -n "$NS_S" link show "$TUN"
topo_client alice "$WGC" || { echo "FAIL: client set-up"; exit 1; }
echo "# alice: $C_ADDR"

for _ in $(seq 50); do grep -q "httpd ready" "$TMP/httpd.log" && break; sleep 0.1; done

# --- traffic
check "ping the server's tunnel address" cping -c 3 -i 0.3 -W 3 10.77.0.1
check "ping the web namespace through the tunnel" cping -c 5 -i 0.2 -W 3 $W_IP
ip netns exec "$NS_C" curl -sS --max-time 120 -o "$TMP/dl.bin" \
	http://$W_IP:8080/big.bin
want=$(sha256sum <"$TMP/www/big.bin")
got=$(sha256sum <"$TMP/dl.bin" 2>/dev/null)
check "50 MB over HTTP through the tunnel, sha256 matches" test "$want" = "$got"
# The other way: the client's TCP segments reach the web namespace merged
# into TSO super-packets (gro.c); the server hashes what it received.
gro0=$(metric evpn_egress_gro_packets_total)
up=$(ip netns exec "$NS_C" curl -sS --max-time 120 -T "$TMP/www/big.bin" \
	http://$W_IP:8080/up)
check "50 MB uploaded through the tunnel, sha256 matches" \
	test "$up" = "${want%% *}"
gro1=$(metric evpn_egress_gro_packets_total)
echo "# TSO super-packets written to the TUN device (upload): $((gro1 - gro0))"
check "the upload went out as merged super-packets" test "$gro1" -gt "$gro0"
rm -f "$TMP/dl.bin"

iperf() { # name, iperf3 client args...; sets BPS (receiver side), LOSS
	local name=$1; shift
	BPS=0 LOSS=100
	ip netns exec "$NS_C" timeout 40 iperf3 -c $W_IP -p 5201 -t 3 -J \
		--connect-timeout 5000 "$@" >"$TMP/$name.json" 2>&1 || return 1
	read -r BPS LOSS < <(python3 - "$TMP/$name.json" <<'EOF'
import json, sys
e = json.load(open(sys.argv[1]))["end"]
if "sum_received" in e:
    print(int(e["sum_received"]["bits_per_second"]), 0)
else:
    s = e["sum"]
    print(int(s["bits_per_second"] * (100 - s["lost_percent"]) / 100),
          s["lost_percent"])
EOF
)
	echo "# iperf3 $name: $((BPS / 1000000)) Mbit/s (loss $LOSS%)"
	[ "$BPS" -gt 0 ]
}
check "iperf3 TCP client -> web" iperf tcp_up
check "iperf3 TCP web -> client (-R)" iperf tcp_down -R
gso=$(metric evpn_egress_gso_packets_total)
echo "# TSO super-packets read from the TUN device: $gso"
check "iperf3 UDP client -> web, 50 Mbit/s" iperf udp_up -u -b 50M
check "iperf3 UDP: loss under 10%" python3 -c "import sys; sys.exit(not $LOSS < 10)"
check "iperf3 UDP web -> client (-R), 50 Mbit/s" iperf udp_down -u -b 50M -R
check "iperf3 UDP -R: loss under 10%" python3 -c "import sys; sys.exit(not $LOSS < 10)"

# --- roaming: new source address and port in the middle of a ping
wg show "$UAPI" endpoints >"$TMP/ep1.txt"
check "server sees the client at $C_IP" grep -q "$C_IP:" "$TMP/ep1.txt"
ip netns exec "$NS_C" ping -c 30 -i 0.1 -W 1 $W_IP >"$TMP/roam.txt" 2>&1 &
roam_pid=$!
sleep 1
# The old address goes (the new one is promoted to primary), then a new
# port: wireguard-go rebinds and forgets its cached source address.
ip -n "$NS_C" addr add $C_IP2/24 dev "$VCC"
ip -n "$NS_C" addr del $C_IP/24 dev "$VCC"
ip netns exec "$NS_C" wg set "$WGC" listen-port 40123
wait $roam_pid
cat "$TMP/roam.txt" | tail -2
recv=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$TMP/roam.txt")
check "ping continued across the move (>= 25 of 30 replies)" \
	test "${recv:-0}" -ge 25
wg show "$UAPI" endpoints >"$TMP/ep2.txt"
cat "$TMP/ep2.txt"
check "server follows the client to $C_IP2:40123" \
	grep -q "$C_IP2:40123" "$TMP/ep2.txt"
check "ping after the move" cping -c 2 -i 0.2 -W 2 $W_IP

# --- a disabled user cannot handshake
api PATCH /users/alice '{"status":"inactive"}' >/dev/null
check "inactive user: the session stops at once" \
	sh -c "! ip netns exec $NS_C ping -c 2 -i 0.3 -W 1 $W_IP >/dev/null 2>&1"
before=$(metric 'evpn_wg_drops_total{reason="peer_disabled"}')
# forget the session on the client: the next packet needs a new handshake
ip netns exec "$NS_C" wg set "$WGC" peer "$SPUB" remove
ip netns exec "$NS_C" wg set "$WGC" peer "$SPUB" endpoint $S_IP:$WG_PORT \
	allowed-ips "$POOL,$W_IP/32"
check "inactive user: no handshake, no traffic" \
	sh -c "! ip netns exec $NS_C ping -c 3 -i 1 -W 2 $W_IP >/dev/null 2>&1"
after=$(metric 'evpn_wg_drops_total{reason="peer_disabled"}')
check "inactive user: initiations dropped as peer_disabled ($before -> $after)" \
	test "$after" -gt "$before"
hs=$(ip netns exec "$NS_C" wg show "$WGC" latest-handshakes | awk '{print $2}')
check "inactive user: the client has no handshake" test "${hs:-0}" = 0
api PATCH /users/alice '{"status":"active"}' >/dev/null
ok=1
for _ in $(seq 8); do # wireguard-go retries its handshake every 5 s
	cping -c 1 -W 2 $W_IP && { ok=0; break; }
done
check "re-activated user connects again" test $ok = 0

# --- a deleted user loses the tunnel at once
check "ping before the delete" cping -c 1 -W 2 $W_IP
code=$(ip netns exec "$NS_S" curl -s -o /dev/null -w '%{http_code}' -X DELETE \
	-H "Authorization: Bearer $KEY" $API/users/alice)
check "DELETE /users/alice -> 204" test "$code" = 204
check "deleted user: ping fails at once" \
	sh -c "! ip netns exec $NS_C ping -c 2 -i 0.3 -W 1 $W_IP >/dev/null 2>&1"
wg show "$UAPI" >"$TMP/show.txt" 2>&1
check "wg show: the peer is gone" sh -c "! grep -q 'peer: $C_PUB' $TMP/show.txt"
check "evpnd still running" kill -0 "$EVPND_PID"

if [ $fail != 0 ]; then
	echo "--- evpnd log"
	tail -60 "$TMP/evpnd.log"
fi
exit $fail
