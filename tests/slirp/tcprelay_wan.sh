#!/usr/bin/env bash
# `tcp: relay` over a long, lossy path: a wireguard-go client reaches
# evpnd (transport wireguard, egress slirp with the TCP relay, as nobody
# with no capabilities) through tests/bench/udp_delay, which delays each
# direction by 25 ms (a 50 ms round trip) and then also drops 1 % of the
# datagrams each way (a fixed seed: the same run loses the same ones).
# Checks: 50 MB download and 50 MB upload with sha256 at 50 ms; 4 MB each
# way with 1 % and with 10 % loss completes intact; retransmissions were
# needed.
# Namespaces, all made here (nothing leaves the machine):
#   server (NS_S) evpnd; veth 10.204.0.1 to the client, 192.168.79.1 to H
#   hosts  (NS_H) 192.168.79.2: tests/lib/httpd.py (GET, PUT -> sha256)
#   client (NS_C) 10.204.0.2: wireguard-go, udp_delay on 127.0.0.1
set -u
. "$(dirname "$0")/../lib/netns.sh"

B=${EVPN_BUILD_DIR:?}
. "$(dirname "$0")/../lib/check.sh"

[ "$(id -u)" = 0 ] || need "needs root (network namespaces)"
need_cmds ip wg wireguard-go curl setpriv sha256sum
[ -c /dev/net/tun ] || need "missing /dev/net/tun (for wireguard-go)"
need_built "$B/evpnd" "$B/tests/udp_delay" "$B/plugins/egress-slirp.so" \
	"$B/plugins/transport-wireguard.so" "$B/plugins/store-file.so" \
	"$B/plugins/api-civetweb-rest.so" "$B/plugins/auth-bearer.so"
PY=/usr/bin/python3
id=$$
s=$((id % 100000))
NS_S=evtw-s-$id NS_H=evtw-h-$id NS_C=evtw-c-$id
WG=evtw$s
HOST=192.168.79.2
API_PORT=18020
TMP=$(mktemp -d)
trap 'netns_cleanup; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM
inS() { ip netns exec $NS_S "$@"; }
inH() { ip netns exec $NS_H "$@"; }
inC() { ip netns exec $NS_C "$@"; }

netns_add $NS_S || need "cannot create network namespaces"
netns_add $NS_H || exit 1
netns_add $NS_C || exit 1
netns_veth $NS_S evtwa$s 192.168.79.1/24 $NS_H evtwb$s $HOST/24 || exit 1
netns_veth $NS_S evtwc$s 10.204.0.1/24 $NS_C evtwd$s 10.204.0.2/24 || exit 1

mkdir -p "$TMP/www"
head -c 50M /dev/urandom >"$TMP/www/big.bin"
head -c 4M "$TMP/www/big.bin" >"$TMP/www/four.bin"
inH $PY "$(dirname "$0")/../lib/httpd.py" $HOST 8080 "$TMP/www" >"$TMP/http.log" 2>&1 &
netns_track $!

chmod 755 "$TMP"
mkdir -m 700 "$TMP/state" && chown nobody:nogroup "$TMP/state"
MK=evpn-tcprelay-wan-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat >"$TMP/evpn.yaml" <<YAML
log_level: info
plugin_dir: $B/plugins
master_key: "$MK"
network: { pool: 10.81.0.0/16, endpoint: "10.204.0.1:51830", dns: [10.81.0.1], mtu: 1420 }
plugins:
  transport: { use: wireguard, config: { listen: "10.204.0.1:51830", uapi_name: "" } }
  egress: { use: slirp, config: { tcp: relay } }
  store: { use: file, config: { dir: "$TMP/state" } }
  api: { use: civetweb-rest, config: { listen: "127.0.0.1:$API_PORT" } }
  auth: { use: bearer }
YAML
chmod 644 "$TMP/evpn.yaml"
inS setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
	--bounding-set=-all "$B/evpnd" run -c "$TMP/evpn.yaml" >"$TMP/evpnd.log" 2>&1 &
EVPND_PID=$!
netns_track $EVPND_PID
for _ in $(seq 100); do
	grep -q "ready" "$TMP/evpnd.log" && break
	kill -0 $EVPND_PID 2>/dev/null || break
	sleep 0.1
done
grep -q "ready" "$TMP/evpnd.log" || { cat "$TMP/evpnd.log"; echo "FAIL - evpnd did not start"; exit 1; }

# a user through the API; wireguard-go with its keys
wg genkey >"$TMP/c.key"
pub=$(wg pubkey <"$TMP/c.key")
inS curl -sS -m 10 -H "Authorization: Bearer $MK" -H 'Content-Type: application/json' \
	-d "{\"client_id\":\"wan\",\"public_key\":\"$pub\"}" \
	http://127.0.0.1:$API_PORT/users >"$TMP/user.json" || { echo "FAIL - POST /users"; exit 1; }
addr=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["address"])' "$TMP/user.json")
spub=$($PY -c 'import json,sys
for l in json.load(open(sys.argv[1]))["config"].splitlines():
    if l.startswith("PublicKey"): print(l.split("=", 1)[1].strip())' "$TMP/user.json")
wggo_start $NS_C $WG "$TMP/wggo.log" || exit 1
delay_start() { # LOSS_PCT
	inC "$B/tests/udp_delay" 127.0.0.1:51900 10.204.0.1:51830 25 25 "$1" 7 \
		>"$TMP/delay.log" 2>&1 &
	DPID=$!
	netns_track $DPID
	for _ in $(seq 50); do grep -q ready "$TMP/delay.log" && break; sleep 0.1; done
	# `ip netns exec` may run it as a child of its own
	DREAL=$(pgrep -P $DPID -x udp_delay || echo $DPID)
}
delay_stop() { # SIGTERM: it prints what it dropped and lost, then exits
	kill $DREAL 2>/dev/null
	for _ in $(seq 50); do kill -0 $DREAL 2>/dev/null || break; sleep 0.1; done
	netns_stop $DPID
}
delay_start 0
inC wg set $WG private-key "$TMP/c.key" peer "$spub" endpoint 127.0.0.1:51900 \
	allowed-ips 0.0.0.0/0 persistent-keepalive 0 || exit 1
inC ip addr add "$addr" dev $WG
inC ip link set $WG mtu 1420 up
inC ip route add $HOST/32 dev $WG
# the first request also makes the WireGuard handshake; the second's TCP
# connect (SYN to SYN-ACK, through the relay) takes one round trip
inC curl -sS -m 10 -o /dev/null http://$HOST:8080/four.bin
rtt=$(inC curl -sS -m 10 -o /dev/null -w '%{time_connect}' http://$HOST:8080/four.bin)
check "a TCP connect through the delay relay takes one 50 ms round trip (${rtt:-none} s)" \
	$PY -c "import sys; sys.exit(not (0.045 <= float('${rtt:-0}') <= 0.090))"

transfer() { # FILE LABEL TIMEOUT: download and upload, sha256 each
	local want got up t0 t1
	want=$(sha256sum <"$TMP/www/$1" | cut -d' ' -f1)
	t0=$(date +%s%N)
	inC curl -sS -m $3 -o "$TMP/got.bin" http://$HOST:8080/$1 2>"$TMP/curl.err"
	t1=$(date +%s%N)
	got=$(sha256sum <"$TMP/got.bin" 2>/dev/null | cut -d' ' -f1)
	check "$2: download, sha256 matches ($(((t1 - t0) / 1000000)) ms)" test "$want" = "$got"
	rm -f "$TMP/got.bin"
	t0=$(date +%s%N)
	up=$(inC curl -sS -m $3 -T "$TMP/www/$1" http://$HOST:8080/up.bin 2>"$TMP/curl.err")
	t1=$(date +%s%N)
	check "$2: upload, sha256 matches ($(((t1 - t0) / 1000000)) ms)" test "$want" = "$up"
}
transfer big.bin "50 MB at 50 ms" 150

delay_stop
delay_start 1
transfer four.bin "4 MB at 50 ms with 1 % loss" 240
delay_stop
check "the relay saw the loss (lost datagrams: $(tail -1 "$TMP/delay.log"))" \
	grep -q "lost [1-9]" "$TMP/delay.log"
# heavy loss: holes lost again, timeouts, tail losses - a segment the
# relay declared lost and then forgot, or a window kept shut after a
# timeout, stalls the transfer at its end until backed-off timeouts give
# it a chance (about 100 s); it takes 1-4 s here, so 60 s says "stalled"
delay_start 10
transfer four.bin "4 MB at 50 ms with 10 % loss" 60
delay_stop
inS curl -sS -m 5 -H "Authorization: Bearer $MK" http://127.0.0.1:$API_PORT/metrics >"$TMP/metrics"
check "retransmissions toward the client were counted" \
	test "$(metric_in "$TMP/metrics" evpn_egress_tcp_retransmits_total)" -gt 0
check "evpnd still running" kill -0 $EVPND_PID
if [ $fail != 0 ]; then
	tail -20 "$TMP/evpnd.log"
	grep evpn_egress "$TMP/metrics"
fi
exit $fail
