#!/usr/bin/env bash
# Rekey under traffic: wireguard-go re-handshakes after REKEY_AFTER_TIME
# (120 s) during a running ping; no packet may be lost across the switch
# to the new session. Takes about 2.5 minutes (label: slow).
. "$(dirname "$0")/netns_lib.sh"

ip netns exec $NS_C ping -c 280 -i 0.5 -W 2 10.77.0.1 >$TMP/ping.txt 2>&1
tail -3 $TMP/ping.txt
recv=$(awk '/received/ { print $4 }' $TMP/ping.txt)
check "no loss across the rekey ($recv/280)" test "${recv:-0}" -ge 279
metrics
v=$(get 'evpn_wg_handshakes_total{event="response_sent"}')
check "a second handshake happened during the ping ($v)" test "${v:-0}" -ge 2
v=$(get 'evpn_wg_drops_total{reason="decrypt"}')
check "no decrypt failures ($v)" test "${v:-0}" = 0
stop_server
exit $fail
