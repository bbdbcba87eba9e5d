#!/usr/bin/env bash
# The slirp egress inside evpnd, unprivileged, with real Linux clients.
#
# Three network namespaces, all made here; nothing leaves this machine:
#   client  (NS_C) - a TUN device (10.77.0.2/16, default route into it)
#                    that the test transport "tuntest" of evpnd reads/writes
#   server  (NS_S) - evpnd run as nobody with no capabilities: store file,
#                    egress slirp, transport tuntest, API on 0.0.0.0:18000;
#                    veth 192.168.79.1/24 to the third namespace; its
#                    resolv.conf names the dnsmasq below
#   hosts   (NS_H) - 192.168.79.2: HTTP server, dnsmasq, iperf3 server
# slirp opens its host sockets in NS_S, so "the internet" is NS_H.
# Checks: 50 MB download with the right sha256, ping, DNS (UDP and TCP)
# through slirp's forwarder, UDP with iperf3 -u, refusals (cloud metadata,
# 127.0.0.1 through the gateway address, the API's own address) answered
# at once and counted, and 40 client addresses at once (more than slirp's
# 16-entry ARP table).
set -u
# shellcheck source=SCRIPTDIR/../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

B=${EVPN_BUILD_DIR:?}
. "$(dirname "$0")/../lib/check.sh"

need_cmds ip curl dnsmasq iperf3 dig ping setpriv sha256sum
. "$(dirname "$0")/lib.sh"
sl_init sl 18000

# ------------------------------------------------------------ namespaces
sl_up

# ------------------------------------------------------------ the "internet"
sl_www
# http.server, not tests/lib/httpd.py: its log shows the 40 clients' GETs
ip netns exec $NS_H $PY -m http.server --bind $HOST --directory "$TMP/www" 8080 \
	>"$TMP/http.log" 2>&1 &
netns_track $!
ip netns exec $NS_H iperf3 -s -B $HOST -p 5201 >"$TMP/iperf3-s.log" 2>&1 &
netns_track $!
# a service on the server namespace's loopback that clients must not reach
ip netns exec $NS_S $PY -m http.server --bind 127.0.0.1 --directory "$TMP/www" 18080 \
	>"$TMP/loopback-http.log" 2>&1 &
netns_track $!

# ------------------------------------------------------------ evpnd
# `tcp: slirp`: client TCP through libslirp itself (its ARP table, ACK
# merging, flow limits); the default TCP relay has its own tests
# (tcprelay.sh, tcprelay_wan.sh, ../unpriv/wg_slirp.sh)
SL_EGRESS_CONFIG="{ tcp: slirp, max_flows_per_peer: 20 }" SL_API_LISTEN=0.0.0.0 sl_evpnd

# Without the inherited descriptor, nobody cannot open the root-only node
# (or, where a host made it world-usable, cannot attach to the busy TUN):
# evpnd stops with a clear error and frees what the failed start allocated.
sed -e 's/fd: 9/fd: -1/' -e "s|$TMP/state|$TMP/state-nofd|" \
	"$TMP/evpn.yaml" >"$TMP/nofd.yaml"
mkdir -m 700 "$TMP/state-nofd" && chown nobody:nogroup "$TMP/state-nofd"
inS setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
	--bounding-set=-all "$EVPND" run -c "$TMP/nofd.yaml" >"$TMP/nofd.log" 2>&1
check "without the TUN descriptor evpnd exits 1" test $? = 1
check "... naming the TUN failure" \
	grep -Eq "/dev/net/tun: Permission denied|attach to TUN" "$TMP/nofd.log"
check "... with nothing leaked" not grep -q LeakSanitizer "$TMP/nofd.log"

# evpnd really is unprivileged
real=$(pgrep -P $EVPND_PID -x evpnd || echo $EVPND_PID)
check "evpnd runs as nobody" \
	test "$(awk '/^Uid:/{print $2}' /proc/$real/status)" = 65534
check "evpnd has no capabilities" \
	test "$(awk '/^CapEff:/{print $2}' /proc/$real/status)" = 0000000000000000
check "evpnd cannot gain capabilities" \
	test "$(awk '/^CapBnd:/{print $2}' /proc/$real/status)" = 0000000000000000

sl_http_wait

# ------------------------------------------------------------ TCP
sl_download_check "50 MB over HTTP through slirp"

# ------------------------------------------------------------ ICMP
check "ping a host through slirp" inC ping -c 3 -i 0.2 -W 3 -q $HOST
check "ping the server address (answered by slirp)" \
	inC ping -c 2 -i 0.2 -W 3 -q 10.77.0.1

# ------------------------------------------------------------ DNS
sl_dns_checks "through slirp's forwarder"
check "the client resolver (resolv.conf -> 10.77.0.1) resolves" \
	inC curl -sS -m 10 -o /dev/null http://www.evpn.test:8080/small.txt

# ------------------------------------------------------------ UDP
inC iperf3 -c $HOST -p 5201 -u -b 4M -t 4 -l 1200 -J >"$TMP/iperf3-u.json" 2>&1
udp=$($PY - "$TMP/iperf3-u.json" <<'PYEOF'
import json, sys
try:
    j = json.load(open(sys.argv[1]))
    s = j["end"]["sum"]
    print("%d %.2f" % (s["packets"] - s["lost_packets"], s["lost_percent"]))
except Exception as e:
    print("0 100")
PYEOF
)
set -- $udp
check "UDP with iperf3 -u (received $1 datagrams, $2% lost)" \
	$PY -c "import sys; sys.exit(not ($1 > 800 and $2 < 25))"

# ------------------------------------------------------------ refusals
sl_refusals
check "ECS credentials 169.254.170.2 refused at once" \
	sl_refused http://169.254.170.2/v2/credentials
check "the server namespace's loopback service saw no request" \
	not grep -q GET "$TMP/loopback-http.log"
inC ping -c 1 -W 2 169.254.169.254 >"$TMP/ping-md.log" 2>&1
check "ping to 169.254.169.254 answered 'prohibited'" \
	grep -qiE "filtered|prohibited" "$TMP/ping-md.log"
check "the API still works for the host itself" \
	inS curl -sf -m 5 -o /dev/null http://127.0.0.1:$API_PORT/health

# ------------------------------------------------------------ >16 clients
sl_forty 10.77.1. /16 http://$HOST:8080/small.txt
check "40 client addresses at once all got their answer ($SL_OK/40)" test $SL_OK = 40
srcs=$(grep -oE '"GET /small.txt' "$TMP/http.log" | wc -l)
check "the HTTP server saw those requests ($srcs)" test "$srcs" -ge 40

# ------------------------------------------------------------ flow limit
sl_flow_limit

# ------------------------------------------------------------ metrics
sl_fetch_metrics
check "refusals counted: link_local >= 3" \
	test "$(metric 'evpn_egress_refused_total{reason="link_local"}')" -ge 3
check "refusals counted: loopback >= 1" \
	test "$(metric 'evpn_egress_refused_total{reason="loopback"}')" -ge 1
check "refusals counted: api >= 1" \
	test "$(metric 'evpn_egress_refused_total{reason="api"}')" -ge 1
check "refusals counted: max_flows_per_peer >= 1" \
	test "$(metric 'evpn_egress_refused_total{reason="max_flows_per_peer"}')" -ge 1
check "slirp's ARP requests answered (> 16 clients)" \
	test "$(metric 'evpn_egress_arp_replies_total')" -gt 16
check "bytes toward clients counted (the 50 MB download at least)" \
	test "$(metric 'evpn_egress_bytes_total{dir="in"}')" -ge 50000000

sl_finish
