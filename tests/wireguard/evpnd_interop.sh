#!/usr/bin/env bash
# The wireguard transport inside the real daemon: evpnd (file store, REST
# API, the test "echo" egress) in one network namespace, a stock
# wireguard-go client in another. A user created through the API connects
# with the configuration the API returns; ping goes through the tunnel;
# `wg show` and GET /users/{id} show the live peer; a disabled user's
# session stops at once and it cannot handshake; a data quota reached by
# real traffic cuts the tunnel with reason "quota" and raising it brings
# it back; a deleted user loses the tunnel at once.
set -u
# shellcheck source=SCRIPTDIR/../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

B=${EVPN_BUILD_DIR:?}
EVPND=${EVPND:-$B/evpnd}
PLUGSRC=${EVPN_PLUGIN_SRC:-$B/plugins}
. "$(dirname "$0")/../lib/check.sh"

[ "$(id -u)" = 0 ] || need "needs root (network namespaces)"
need_cmds ip wg wireguard-go ping curl python3
[ -c /dev/net/tun ] || need "missing /dev/net/tun"
need_built "$EVPND" "$PLUGSRC/transport-wireguard.so" "$PLUGSRC/store-file.so" \
	"$PLUGSRC/api-civetweb-rest.so" "$PLUGSRC/auth-bearer.so" \
	"$B/tests/plugins/egress-echo.so"

id=$$
NS_S=evwgd-s-$id
NS_C=evwgd-c-$id
WGC=evwdc$((id % 100000))
UAPI=evwds$((id % 100000))
TMP=$(mktemp -d)
KEY=0123456789abcdef0123456789abcdef$id
API=http://127.0.0.1:18778
SRV_PID=

cleanup() {
	netns_cleanup
	rm -f /var/run/wireguard/$UAPI.sock
	rm -rf "$TMP"
}
trap cleanup EXIT

api() { # METHOD PATH [JSON]
	ip netns exec $NS_S curl -sS -X "$1" -H "Authorization: Bearer $KEY" \
		-H 'Content-Type: application/json' ${3:+-d "$3"} "$API$2"
}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
cping() { ip netns exec $NS_C ping "$@" >/dev/null 2>&1; }

umask 077
netns_add $NS_S || need "cannot create network namespaces"
netns_add $NS_C || need "cannot create network namespaces"
netns_veth $NS_S veth-s$id 192.168.78.1/24 $NS_C veth-c$id 192.168.78.2/24 || exit 1

mkdir -p $TMP/plugins
for p in transport-wireguard store-file api-civetweb-rest auth-bearer; do
	ln -s "$PLUGSRC/$p.so" $TMP/plugins/
done
ln -s "$B/tests/plugins/egress-echo.so" $TMP/plugins/
cat >$TMP/evpn.yaml <<YAML
log_level: debug
plugin_dir: plugins
master_key: "$KEY"
network:
  pool: 10.77.0.0/16
  endpoint: 192.168.78.1:51820
  dns: [10.77.0.1]
  mtu: 1420
plugins:
  transport:
    use: wireguard
    config:
      listen: "192.168.78.1:51820"
      uapi_name: $UAPI
  egress:
    use: echo
  store:
    use: file
    config:
      dir: ./state
  api:
    use: civetweb-rest
    config:
      listen: "127.0.0.1:18778"
  auth:
    use: bearer
YAML
"$EVPND" keygen -c $TMP/evpn.yaml >$TMP/keygen.log 2>&1 || { cat $TMP/keygen.log; exit 1; }
ip netns exec $NS_S "$EVPND" run -c $TMP/evpn.yaml >$TMP/evpnd.log 2>&1 &
SRV_PID=$!
netns_track $SRV_PID
for _ in $(seq 50); do
	grep -q "ready:" $TMP/evpnd.log && break
	kill -0 $SRV_PID 2>/dev/null || break
	sleep 0.1
done
grep -q "ready:" $TMP/evpnd.log || { cat $TMP/evpnd.log; echo "FAIL: evpnd did not start"; exit 1; }

wg genkey >$TMP/c.key
CPUB=$(wg pubkey <$TMP/c.key)
api POST /users "{\"client_id\":\"alice\",\"public_key\":\"$CPUB\"}" >$TMP/user.json
cat $TMP/user.json; echo
ADDR=$(json '["address"]' <$TMP/user.json)
json '["config"]' <$TMP/user.json >$TMP/alice.conf
SPUB=$(awk -F' = ' '/^PublicKey/ {print $2}' $TMP/alice.conf)
EP=$(awk -F' = ' '/^Endpoint/ {print $2}' $TMP/alice.conf)
check "API returned an address and a config" test -n "$ADDR" -a -n "$SPUB" -a -n "$EP"

wggo_start $NS_C $WGC $TMP/wggo.log
ip netns exec $NS_C wg set $WGC private-key $TMP/c.key \
	peer "$SPUB" endpoint "$EP" allowed-ips 10.77.0.0/16 || exit 1
ip -n $NS_C addr add "$ADDR" dev $WGC
ip -n $NS_C link set $WGC mtu 1420 up
ip -n $NS_C route add 10.77.0.0/16 dev $WGC

check "ping through evpnd (handshake with the API-created user)" \
	cping -c 3 -i 0.3 -W 3 10.77.0.1
wg show $UAPI >$TMP/show.txt 2>&1
cat $TMP/show.txt
check "wg show: peer with a handshake" grep -q "latest handshake:" $TMP/show.txt
check "wg show: transfer counters" grep -q "transfer:" $TMP/show.txt
api GET /users/alice >$TMP/alice.json
cat $TMP/alice.json; echo
check "GET /users/alice has rx_bytes > 0" \
	test "$(json '.get("rx_bytes", 0)' <$TMP/alice.json)" -gt 0
check "GET /users/alice has an endpoint" \
	grep -q '"endpoint": *"192.168.78.2:' $TMP/alice.json
api GET /metrics >$TMP/metrics.txt
check "/metrics has the transport's drop counters" \
	grep -q 'evpn_wg_drops_total{reason="replay"}' $TMP/metrics.txt

# disabled: the live session stops at once, and no new handshake
api PATCH /users/alice '{"status":"inactive"}' >/dev/null
check "inactive user: ping fails at once" sh -c "! ip netns exec $NS_C ping -c 2 -i 0.3 -W 1 10.77.0.1 >/dev/null 2>&1"
api PATCH /users/alice '{"status":"active"}' >/dev/null
# wireguard-go retries its handshake every 5 s; give it a few
ok=1
for _ in 1 2 3 4 5 6 7 8; do
	cping -c 1 -W 2 10.77.0.1 && { ok=0; break; }
done
check "re-activated user connects again" test $ok = 0

# a data quota: 200 kB, reached by pings of 1,200 bytes (about 2.5 kB a
# round trip through the tunnel, rx + tx)
api PATCH /users/alice '{"quota":"200KB","reset_usage":true}' >$TMP/q.json
check "PATCH quota 200KB" grep -q '"quota": *200000' $TMP/q.json
sleep 1.5 # the maintenance thread picks the new quota up within a second
ip netns exec $NS_C ping -c 150 -i 0.02 -s 1200 -W 1 10.77.0.1 >/dev/null 2>&1
st=
for _ in $(seq 40); do
	api GET /users/alice >$TMP/aq.json
	st=$(json '.get("status")' <$TMP/aq.json)
	[ "$st" = inactive ] && break
	sleep 0.25
done
cat $TMP/aq.json; echo
check "quota reached by real traffic: inactive" test "$st" = inactive
check "... with reason quota" grep -q '"reason": *"quota"' $TMP/aq.json
check "... used_bytes at least the quota" \
	test "$(json '.get("used_bytes", 0)' <$TMP/aq.json)" -ge 200000
check "... and the tunnel is cut" sh -c "! ip netns exec $NS_C ping -c 2 -i 0.3 -W 1 10.77.0.1 >/dev/null 2>&1"
api GET "/audit?limit=10" >$TMP/audit.json
check "... recorded in the audit log" grep -q '"action": *"quota"' $TMP/audit.json
api PATCH /users/alice '{"quota":"10MB"}' >$TMP/q2.json
check "a higher quota: active again, reason gone" sh -c \
	"grep -q '\"status\": *\"active\"' $TMP/q2.json && ! grep -q reason $TMP/q2.json"
ok=1
for _ in 1 2 3 4 5 6 7 8; do
	cping -c 1 -W 2 10.77.0.1 && { ok=0; break; }
done
check "... and connects again" test $ok = 0

code=$(ip netns exec $NS_S curl -s -o /dev/null -w '%{http_code}' -X DELETE \
	-H "Authorization: Bearer $KEY" $API/users/alice)
check "DELETE /users/alice -> 204" test "$code" = 204
check "deleted user: ping fails at once" sh -c "! ip netns exec $NS_C ping -c 2 -i 0.3 -W 1 10.77.0.1 >/dev/null 2>&1"
wg show $UAPI >$TMP/show2.txt 2>&1
check "wg show: the peer is gone" sh -c "! grep -q 'peer: $CPUB' $TMP/show2.txt"
check "evpnd still running" kill -0 $SRV_PID

if [ $fail != 0 ]; then
	echo "--- evpnd log"; tail -60 $TMP/evpnd.log
fi
exit $fail
