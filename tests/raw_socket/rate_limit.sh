#!/usr/bin/env bash
# Per-user rate limits end to end, in the raw-socket topology (topo_lib.sh):
# a user created with "rate_limit":"20mbit" and a stock wireguard-go
# client; iperf3 TCP for 5 s each way lands within 10 % of 20 Mbit/s and
# the drops show in /metrics. A PATCH on the live peer takes effect at
# once: 8mbit is measured within 10 % too, "0" lifts the limit. A user
# without one of its own gets users.rate_limit; a bad rate is a 400.
set -u

B=${EVPN_BUILD_DIR:?}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/../lib/check.sh"

[ "$(id -u)" = 0 ] || need "needs root (network namespaces, TUN)"
need_cmds ip wg wireguard-go curl python3 iperf3

. "$HERE/topo_lib.sh"
TOPO_API_PORT=18781
topo_test_setup

ip netns exec "$NS_W" iperf3 -s -B $W_IP -p 5201 >"$TMP/iperf3s.log" 2>&1 &
netns_track $!

TOPO_USERS_RATE=3mbit
topo_evpnd || { echo "FAIL: evpnd did not start"; exit 1; }

# --- the API: the default, the user's own, bad input
api POST /users '{"client_id":"bob"}' >"$TMP/bob.json"
check "a user without a limit of its own gets users.rate_limit" \
	test "$(json '.get("rate_limit")' <"$TMP/bob.json")" = 3000000
check "... marked as the default" \
	test "$(json '.get("rate_limit_default")' <"$TMP/bob.json")" = True
ip netns exec "$NS_S" curl -s -o "$TMP/bad.json" -w '%{http_code}' \
	-X POST -H "Authorization: Bearer $KEY" \
	-H 'Content-Type: application/json' \
	-d '{"client_id":"carol","rate_limit":"fast"}' "$API/users" >"$TMP/bad.code"
check "a bad rate is refused with 400" test "$(cat "$TMP/bad.code")" = 400
check "... saying what a rate looks like" grep -q "rate_limit must be" "$TMP/bad.json"
check "... and nothing is created" \
	test "$(api GET /users/carol | json '.get("code", "")')" = not_found

TOPO_USER_JSON='"rate_limit":"20mbit"'
topo_client alice "$WGC" || { echo "FAIL: client set-up"; exit 1; }
api GET /users/alice >"$TMP/alice.json"
check "the record shows the user's own limit in bits/s" \
	test "$(json '.get("rate_limit")' <"$TMP/alice.json")" = 20000000
check "... not the default" \
	test "$(json '.get("rate_limit_default", False)' <"$TMP/alice.json")" = False
for _ in $(seq 30); do cping -c 1 -W 1 $W_IP && break; done
check "the tunnel is up" cping -c 2 -i 0.2 -W 2 $W_IP

iperf() { # name, iperf3 client args...: sets BPS, the receiver's bits/s
	local name=$1; shift
	BPS=0
	ip netns exec "$NS_C" timeout 40 iperf3 -c $W_IP -p 5201 -t 5 -J \
		--connect-timeout 5000 "$@" >"$TMP/$name.json" 2>&1 || return 1
	BPS=$(python3 -c 'import json, sys
j = json.load(open(sys.argv[1]))
print(int(j["end"]["sum_received"]["bits_per_second"]))
# each second and the retransmissions, to see how TCP got along
print(" ".join("%.1f" % (i["sum"]["bits_per_second"] / 1e6)
               for i in j["intervals"]), "Mbit/s; retransmits",
      j["end"]["sum_sent"].get("retransmits", "?"), file=sys.stderr)' \
		"$TMP/$name.json" 2>"$TMP/$name.txt") || return 1
	echo "# iperf3 $name: $BPS bit/s (per second: $(cat "$TMP/$name.txt"))"
}
near() { # measured set: within 10 %
	python3 -c 'import sys; m, s = int(sys.argv[1]), int(sys.argv[2])
sys.exit(not abs(m - s) <= s * 0.10)' "$1" "$2"
}

rx0=$(metric 'evpn_transport_rate_limited_packets_total{direction="rx"}')
tx0=$(metric 'evpn_transport_rate_limited_packets_total{direction="tx"}')
check "iperf3 TCP client -> web at 20mbit" iperf up20
check "up: within 10 % of 20 Mbit/s ($BPS)" near "$BPS" 20000000
UP20=$BPS
check "iperf3 TCP web -> client (-R) at 20mbit" iperf down20 -R
check "down: within 10 % of 20 Mbit/s ($BPS)" near "$BPS" 20000000
DOWN20=$BPS
rx1=$(metric 'evpn_transport_rate_limited_packets_total{direction="rx"}')
tx1=$(metric 'evpn_transport_rate_limited_packets_total{direction="tx"}')
check "drops counted as rate-limited, rx ($rx0 -> $rx1)" test "$rx1" -gt "$rx0"
check "drops counted as rate-limited, tx ($tx0 -> $tx1)" test "$tx1" -gt "$tx0"

# --- PATCH on the live peer: the session stays, the limit changes at once
hs0=$(ip netns exec "$NS_C" wg show "$WGC" latest-handshakes | awk '{print $2}')
api PATCH /users/alice '{"rate_limit":"8mbit"}' >"$TMP/patch.json"
check "PATCH answers the new limit" \
	test "$(json '.get("rate_limit")' <"$TMP/patch.json")" = 8000000
check "iperf3 TCP up after PATCH 8mbit" iperf up8
check "up: within 10 % of 8 Mbit/s ($BPS)" near "$BPS" 8000000
UP8=$BPS
check "iperf3 TCP down after PATCH 8mbit" iperf down8 -R
check "down: within 10 % of 8 Mbit/s ($BPS)" near "$BPS" 8000000
DOWN8=$BPS
hs1=$(ip netns exec "$NS_C" wg show "$WGC" latest-handshakes | awk '{print $2}')
check "the PATCH did not need a new handshake" test "$hs0" = "$hs1"
api PATCH /users/alice '{"rate_limit":"0"}' >"$TMP/patch0.json"
check "PATCH 0: no limit in the record" \
	test "$(json '.get("rate_limit", 0)' <"$TMP/patch0.json")" = 0
check "iperf3 TCP down without a limit" iperf down0 -R
check "without a limit: well over 20 Mbit/s ($BPS)" test "$BPS" -gt 40000000
api PATCH /users/alice '{"rate_limit":null}' >"$TMP/patchnull.json"
check "PATCH null: back to users.rate_limit" \
	test "$(json '.get("rate_limit")' <"$TMP/patchnull.json")" = 3000000
check "iperf3 TCP up at the default 3mbit" iperf up3
check "up: within 10 % of 3 Mbit/s ($BPS)" near "$BPS" 3000000
UP3=$BPS

echo "# set 20mbit: up $UP20, down $DOWN20; set 8mbit: up $UP8, down $DOWN8; default 3mbit: up $UP3"
check "evpnd still running" kill -0 "$EVPND_PID"
if [ $fail != 0 ]; then
	echo "--- evpnd log"
	tail -40 "$TMP/evpnd.log"
fi
exit $fail
