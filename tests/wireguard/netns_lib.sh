# Shared set-up of the WireGuard netns tests (sourced): two namespaces
# joined by a veth, our server (wg_testd + the plugin) in one, a stock
# wireguard-go client in the other, already configured for the tunnel
# 10.77.0.2 <-> 10.77.0.1 (fd77::2 <-> fd77::1).
set -u
# shellcheck source=SCRIPTDIR/../lib/netns.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/netns.sh"

B=${EVPN_BUILD_DIR:?}
SKIP=77
[ -n "${CI:-}" ] && SKIP=1   # in CI a missing prerequisite is a failure
need() { echo "SKIP/FAIL: $*" >&2; exit $SKIP; }

[ "$(id -u)" = 0 ] || need "needs root (network namespaces)"
for c in ip wg wireguard-go ping python3; do
	command -v $c >/dev/null || need "missing $c"
done
[ -c /dev/net/tun ] || need "missing /dev/net/tun"
TESTD=$B/tests/wg_testd
SO=$B/plugins/transport-wireguard.so
[ -x "$TESTD" ] && [ -f "$SO" ] || { echo "FAIL: build wg_testd and the plugin first"; exit 1; }

id=$$
NS_S=evwg-s-$id
NS_C=evwg-c-$id
WGC=evwgc$((id % 100000))
UAPI=evwgs$((id % 100000))
TMP=$(mktemp -d)
SRV_PID=
fail=0

cleanup() {
	netns_cleanup
	rm -f /var/run/wireguard/$UAPI.sock
	rm -rf "$TMP"
}
trap cleanup EXIT

check() { # description, command...
	local d=$1; shift
	if "$@"; then echo "ok   - $d"; else echo "FAIL - $d"; fail=1; fi
}

netns_add $NS_S || need "cannot create network namespaces"
netns_add $NS_C || need "cannot create network namespaces"
netns_veth $NS_S veth-s$id 192.168.77.1/24 $NS_C veth-c$id 192.168.77.2/24 || exit 1

umask 077
wg genkey >$TMP/s.key
wg pubkey <$TMP/s.key >$TMP/s.pub
wg genkey >$TMP/c.key
wg pubkey <$TMP/c.key >$TMP/c.pub
wg genpsk >$TMP/psk # wireguard-go side only when PSK test is on

# --- our server (args: extra wg_testd options)
start_server() {
	: >$TMP/server.log
	ip netns exec $NS_S "$TESTD" --plugin "$SO" --key "$(cat $TMP/s.key)" \
		--listen 192.168.77.1:51820 --uapi-name $UAPI \
		--uapi-dir /var/run/wireguard --metrics $TMP/metrics "$@" \
		2>>$TMP/server.log &
	SRV_PID=$!
	netns_track $SRV_PID
	for _ in $(seq 50); do
		grep -q "wg_testd ready" $TMP/server.log 2>/dev/null && break
		kill -0 $SRV_PID 2>/dev/null || break
		sleep 0.1
	done
	grep -q "wg_testd ready" $TMP/server.log || { cat $TMP/server.log; echo "FAIL: server did not start"; exit 1; }
}
stop_server() {
	kill $SRV_PID
	wait $SRV_PID
	rc=$?
	netns_untrack $SRV_PID
	SRV_PID=
	check "server stopped cleanly (exit $rc)" test $rc = 0
}
metrics() { # refresh $TMP/metrics
	rm -f $TMP/metrics
	kill -USR1 $SRV_PID
	for _ in $(seq 30); do [ -s $TMP/metrics ] && break; sleep 0.1; done
}
get() { awk -v k="$1" '$1 == k { print $2 }' $TMP/metrics; }
readd_peer() { # forget the session on the client side: a fresh handshake
	ip netns exec $NS_C wg set $WGC peer "$(cat $TMP/s.pub)" remove
	ip netns exec $NS_C wg set $WGC peer "$(cat $TMP/s.pub)" \
		endpoint 192.168.77.1:51820 allowed-ips 10.77.0.1/32,fd77::1/128
}
PEER_ARG="$(cat $TMP/c.pub)=10.77.0.2/32,fd77::2/128"
start_server --peer "$PEER_ARG"

# --- wireguard-go client
wggo_start $NS_C $WGC $TMP/wggo.log || { echo "FAIL: wireguard-go did not start"; exit 1; }
ip netns exec $NS_C wg set $WGC private-key $TMP/c.key \
	peer "$(cat $TMP/s.pub)" endpoint 192.168.77.1:51820 \
	allowed-ips 10.77.0.1/32,fd77::1/128 || exit 1
ip -n $NS_C addr add 10.77.0.2/32 dev $WGC
ip -n $NS_C -6 addr add fd77::2/128 dev $WGC nodad
ip -n $NS_C link set $WGC mtu 1420 up
ip -n $NS_C route add 10.77.0.1/32 dev $WGC
ip -n $NS_C -6 route add fd77::1/128 dev $WGC

