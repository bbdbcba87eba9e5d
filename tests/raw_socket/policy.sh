#!/usr/bin/env bash
# The raw-socket egress's destination policy (the one the slirp egress
# runs too): with the README's forwarding + MASQUERADE set-up a client
# must still not reach the cloud metadata address, the host's own
# services and the API, nor other clients; `allow` opens what it names
# (never the API's port).
#
# The topology of e2e.sh (tests/raw_socket/topo_lib.sh), all namespaces
# made here, plus:
#   - 169.254.169.254 and 169.254.170.2 on the web namespace's veth, an
#     HTTP server on both (the server namespace routes 169.254.0.0/16
#     there), so "reachable" would be observable;
#   - the API on 0.0.0.0 and a service on 0.0.0.0:18082 in the server
#     namespace;
#   - two more clients, bob and carol, each in a namespace of its own,
#     with an HTTP server on their tunnel address.
# allow: 169.254.170.2, the server's web-side address, and alice + bob
# (10.77.0.2/31: client-to-client needs both directions). carol, the
# metadata address, the server's tunnel address stay refused.
set -u

B=${EVPN_BUILD_DIR:?}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/../lib/check.sh"

[ "$(id -u)" = 0 ] || need "needs root (network namespaces, TUN)"
need_cmds ip wg wireguard-go curl python3

TOPO_API_PORT=18781
TOPO_API_LISTEN=0.0.0.0
TOPO_EGRESS_ALLOW=${TOPO_EGRESS_ALLOW-"169.254.170.2/32, 192.168.80.1/32, 10.77.0.2/31"}
. "$HERE/topo_lib.sh"
topo_test_setup
HTTPD=$HERE/../lib/httpd.py
MD=169.254.169.254
ECS=169.254.170.2
SVC=18082
NS_B=evrs-b-$$
NS_D=evrs-d-$$
WGB=evrb$(($$ % 1000000))
WGD=evrd$(($$ % 1000000))

# --- link-local addresses behind the server, reachable without the policy
ip -n "$NS_W" addr add $MD/32 dev "$VWW" || exit 1
ip -n "$NS_W" addr add $ECS/32 dev "$VWW" || exit 1
ip -n "$NS_S" route add 169.254.0.0/16 via $W_IP || exit 1
mkdir -p "$TMP/www"
echo "web" >"$TMP/www/w.txt"
ip netns exec "$NS_W" python3 "$HTTPD" 0.0.0.0 8080 "$TMP/www" >"$TMP/w.log" 2>&1 &
netns_track $!
ip netns exec "$NS_S" python3 "$HTTPD" 0.0.0.0 $SVC "$TMP/www" >"$TMP/s.log" 2>&1 &
netns_track $!

# --- evpnd, then alice (client namespace), bob and carol (their own)
topo_evpnd || { echo "FAIL: evpnd did not start"; exit 1; }
topo_client alice "$WGC" || { echo "FAIL: client alice"; exit 1; }
A_ADDR=${C_ADDR%/*}
ip netns exec "$NS_C" wg set "$WGC" peer "$SPUB" \
	allowed-ips "$POOL,$W_IP/32,169.254.0.0/16,$WS_IP/32"
ip -n "$NS_C" route add 169.254.0.0/16 dev "$WGC"
ip -n "$NS_C" route add $WS_IP/32 dev "$WGC"
extra() { # NAME IFACE NAMESPACE N: a client with its own link to the server
	netns_add "$3" || return 1
	netns_veth "$NS_S" rsx$4$$ 192.168.8$4.1/24 "$3" rsy$4$$ 192.168.8$4.2/24 ||
		return 1
	ip -n "$3" route add $S_IP/32 via 192.168.8$4.1 || return 1
	topo_client "$1" "$2" "$3" || return 1
	ip netns exec "$3" python3 "$HTTPD" "${C_ADDR%/*}" 8080 "$TMP/www" \
		>"$TMP/$1-httpd.log" 2>&1 &
	netns_track $!
}
extra bob "$WGB" "$NS_B" 1 || { echo "FAIL: client bob"; exit 1; }
B_ADDR=${C_ADDR%/*}
extra carol "$WGD" "$NS_D" 2 || { echo "FAIL: client carol"; exit 1; }
D_ADDR=${C_ADDR%/*}
echo "# alice $A_ADDR, bob $B_ADDR, carol $D_ADDR"
check "alice and bob are 10.77.0.2/31 (the allow list)" \
	test "$A_ADDR $B_ADDR" = "10.77.0.2 10.77.0.3"
for f in w s bob-httpd carol-httpd; do
	for _ in $(seq 50); do grep -q "httpd ready" "$TMP/$f.log" && break; sleep 0.1; done
done

refused() { refused_fast "$NS_C" "$1" "$TMP/curl.err"; }
fetch() { ip netns exec "$NS_C" curl -sS -m 10 "$1" 2>&1; }
# a first packet brings the tunnel up (handshake) before timing refusals
cping -c 2 -i 0.3 -W 3 $W_IP
check "the web namespace is reachable" test "$(fetch http://$W_IP:8080/w.txt)" = web
check "ping the server's tunnel address" cping -c 1 -W 3 10.77.0.1

# --- cloud metadata: refused, while allow opens 169.254.170.2
check "cloud metadata $MD refused at once" refused http://$MD:8080/w.txt
check "allow opens $ECS" test "$(fetch http://$ECS:8080/w.txt)" = web

# --- the host's own services
check "a service on the server's tunnel address refused at once" \
	refused http://10.77.0.1:$SVC/w.txt
check "the API on the server's tunnel address refused at once" \
	refused http://10.77.0.1:$TOPO_API_PORT/health
check "allow opens a host address: its service answers" \
	test "$(fetch http://$WS_IP:$SVC/w.txt)" = web
check "allow never opens the API's port" \
	refused http://$WS_IP:$TOPO_API_PORT/health

# --- other clients
ip netns exec "$NS_D" ping -c 1 -W 3 10.77.0.1 >/dev/null 2>&1 # carol's handshake
ip netns exec "$NS_B" ping -c 1 -W 3 10.77.0.1 >/dev/null 2>&1 # bob's
check "another client (carol) refused at once" refused http://$D_ADDR:8080/w.txt
check "allow opens client-to-client (alice <-> bob)" \
	test "$(fetch http://$B_ADDR:8080/w.txt)" = web

for r in link_local host api client; do
	v=$(metric "evpn_egress_refused_total{reason=\"$r\"}")
	check "refusals counted: $r ($v)" test "$v" -ge 1
done
check "evpnd still running" kill -0 "$EVPND_PID"
if [ $fail != 0 ]; then
	echo "--- evpnd log"
	tail -30 "$TMP/evpnd.log"
fi
exit $fail
