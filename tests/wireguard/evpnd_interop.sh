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
. "$(dirname "$0")/../lib/check.sh"
# shellcheck source=SCRIPTDIR/../lib/evpnd_ns.sh
. "$(dirname "$0")/../lib/evpnd_ns.sh"

evn_init wgd 192.168.78 18778
evn_up
EVN_NETWORK="dns: [10.77.0.1]" evn_evpnd 10.77.0.0/16

evn_user alice
cat $TMP/alice.json; echo
check "API returned an address and a config" test -n "$ADDR" -a -n "$SPUB" -a -n "$EP"
evn_client 10.77.0.0/16

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
check "inactive user: ping fails at once" not cping -c 2 -i 0.3 -W 1 10.77.0.1
api PATCH /users/alice '{"status":"active"}' >/dev/null
# wireguard-go retries its handshake every 5 s; give it a few
check "re-activated user connects again" cping_until 10.77.0.1

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
check "... and the tunnel is cut" not cping -c 2 -i 0.3 -W 1 10.77.0.1
api GET "/audit?limit=10" >$TMP/audit.json
check "... recorded in the audit log" grep -q '"action": *"quota"' $TMP/audit.json
api PATCH /users/alice '{"quota":"10MB"}' >$TMP/q2.json
check "a higher quota: active again, reason gone" sh -c \
	"grep -q '\"status\": *\"active\"' $TMP/q2.json && ! grep -q reason $TMP/q2.json"
check "... and connects again" cping_until 10.77.0.1

code=$(ip netns exec $NS_S curl -s -o /dev/null -w '%{http_code}' -X DELETE \
	-H "Authorization: Bearer $KEY" $API/users/alice)
check "DELETE /users/alice -> 204" test "$code" = 204
check "deleted user: ping fails at once" not cping -c 2 -i 0.3 -W 1 10.77.0.1
wg show $UAPI >$TMP/show2.txt 2>&1
check "wg show: the peer is gone" sh -c "! grep -q 'peer: $CPUB' $TMP/show2.txt"
check "evpnd still running" kill -0 $SRV_PID

if [ $fail != 0 ]; then
	echo "--- evpnd log"; tail -60 $TMP/evpnd.log
fi
exit $fail
