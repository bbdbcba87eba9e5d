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
SKIP=77
[ -n "${CI:-}" ] && SKIP=1 # in CI a missing prerequisite is a failure
need() {
	echo "SKIP/FAIL: $*" >&2
	exit $SKIP
}

[ "$(id -u)" = 0 ] || need "needs root (network namespaces)"
for c in ip curl dnsmasq iperf3 dig ping setpriv sha256sum; do
	command -v $c >/dev/null || need "missing $c"
done
[ -c /dev/net/tun ] || need "missing /dev/net/tun"
PY=/usr/bin/python3
[ -x $PY ] || need "missing $PY"
EVPND=$B/evpnd
TT=$B/tests/plugins/transport-tuntest.so
for f in "$EVPND" "$TT" "$B/plugins/egress-slirp.so" \
	"$B/plugins/store-file.so" "$B/plugins/api-civetweb-rest.so" \
	"$B/plugins/auth-bearer.so"; do
	[ -e "$f" ] || {
		echo "FAIL: missing $f (build evpnd, the plugins and test-transport-tuntest)"
		exit 1
	}
done

id=$$
NS_C=evsl-c-$id
NS_S=evsl-s-$id
NS_H=evsl-h-$id
TUN=evsltun$((id % 100000))
VS=evslS$((id % 100000))
VH=evslH$((id % 100000))
SRV=192.168.79.1
HOST=192.168.79.2
API_PORT=18000
TMP=$(mktemp -d)
EVPND_PID=
fail=0

cleanup() {
	netns_cleanup
	rm -rf "$TMP"
}
trap cleanup EXIT

check() { # description, command...
	local d=$1
	shift
	if "$@"; then
		echo "ok   - $d"
	else
		echo "FAIL - $d"
		fail=1
	fi
}
inC() { ip netns exec $NS_C "$@"; }
not() { ! "$@"; }
inS() { ip netns exec $NS_S "$@"; }
inH() { ip netns exec $NS_H "$@"; }

# ------------------------------------------------------------ namespaces
netns_add $NS_C || need "cannot create network namespaces"
netns_add $NS_S || exit 1
netns_add $NS_H || exit 1
netns_veth $NS_S $VS $SRV/24 $NS_H $VH $HOST/24 || exit 1
# libslirp pings through unprivileged ICMP sockets
inS sysctl -qw net.ipv4.ping_group_range="0 2147483647" || exit 1
netns_resolv $NS_S "nameserver $HOST"
netns_resolv $NS_C "nameserver 10.77.0.1"

# ------------------------------------------------------------ the "internet"
mkdir -p "$TMP/www"
head -c 50M /dev/urandom >"$TMP/www/big.bin"
echo "hello from the hosts namespace" >"$TMP/www/small.txt"
ip netns exec $NS_H $PY -m http.server --bind $HOST --directory "$TMP/www" 8080 \
	>"$TMP/http.log" 2>&1 &
netns_track $!
ip netns exec $NS_H dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts \
	--listen-address=$HOST --bind-interfaces --user=root \
	--address=/www.evpn.test/$HOST --pid-file="$TMP/dnsmasq.pid" \
	--log-facility="$TMP/dnsmasq.log" --log-queries &
netns_track $!
ip netns exec $NS_H iperf3 -s -B $HOST -p 5201 >"$TMP/iperf3-s.log" 2>&1 &
netns_track $!
# a service on the server namespace's loopback that clients must not reach
ip netns exec $NS_S $PY -m http.server --bind 127.0.0.1 --directory "$TMP/www" 18080 \
	>"$TMP/loopback-http.log" 2>&1 &
netns_track $!

# ------------------------------------------------------------ evpnd
# The TUN is made by root for nobody, in the server namespace (where evpnd
# attaches to it by name), then moved to the client namespace.
ip -n $NS_S tuntap add dev $TUN mode tun user nobody || exit 1
chmod 755 "$TMP"
mkdir -m 700 "$TMP/state" && chown nobody:nogroup "$TMP/state"
MK=evpn-slirp-test-master-key-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat >"$TMP/evpn.yaml" <<YAML
log_level: debug
plugin_dir: $B/plugins
master_key: "$MK"
network:
  pool: 10.77.0.0/16
  endpoint: 127.0.0.1:51820
  dns: [10.77.0.1]
  mtu: 1420
plugins:
  transport: { use: $TT, config: { device: $TUN } }
  egress: { use: slirp, config: { max_flows_per_peer: 20 } }
  store: { use: file, config: { dir: "$TMP/state" } }
  api: { use: civetweb-rest, config: { listen: "0.0.0.0:$API_PORT" } }
  auth: { use: bearer }
YAML
chmod 644 "$TMP/evpn.yaml"
ip netns exec $NS_S setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all \
	--bounding-set=-all "$EVPND" run -c "$TMP/evpn.yaml" \
	>"$TMP/evpnd.log" 2>&1 &
EVPND_PID=$!
netns_track $EVPND_PID
for _ in $(seq 100); do
	grep -q "ready" "$TMP/evpnd.log" && break
	kill -0 $EVPND_PID 2>/dev/null || break
	sleep 0.1
done
if ! grep -q "ready" "$TMP/evpnd.log"; then
	cat "$TMP/evpnd.log"
	echo "FAIL - evpnd did not start"
	exit 1
fi
ip -n $NS_S link set $TUN netns $NS_C || exit 1
inC ip addr add 10.77.0.2/16 dev $TUN
inC ip link set $TUN mtu 1420 txqueuelen 2000 up
inC ip route add default dev $TUN

# evpnd really is unprivileged
real=$(pgrep -P $EVPND_PID -x evpnd || echo $EVPND_PID)
check "evpnd runs as nobody" \
	test "$(awk '/^Uid:/{print $2}' /proc/$real/status)" = 65534
check "evpnd has no capabilities" \
	test "$(awk '/^CapEff:/{print $2}' /proc/$real/status)" = 0000000000000000
check "evpnd cannot gain capabilities" \
	test "$(awk '/^CapBnd:/{print $2}' /proc/$real/status)" = 0000000000000000

for _ in $(seq 50); do
	inH sh -c "exec 3<>/dev/tcp/$HOST/8080" 2>/dev/null && break
	sleep 0.1
done

# ------------------------------------------------------------ TCP
want=$(sha256sum <"$TMP/www/big.bin" | cut -d' ' -f1)
inC curl -sS -m 120 -o "$TMP/got.bin" http://$HOST:8080/big.bin
got=$(sha256sum <"$TMP/got.bin" 2>/dev/null | cut -d' ' -f1)
check "50 MB over HTTP through slirp, sha256 matches" test "$want" = "$got"

# ------------------------------------------------------------ ICMP
check "ping a host through slirp" inC ping -c 3 -i 0.2 -W 3 -q $HOST
check "ping the server address (answered by slirp)" \
	inC ping -c 2 -i 0.2 -W 3 -q 10.77.0.1

# ------------------------------------------------------------ DNS
a=$(inC dig +short +time=3 +tries=2 @10.77.0.1 www.evpn.test A)
check "DNS over UDP through slirp's forwarder ($a)" test "$a" = "$HOST"
a=$(inC dig +short +tcp +time=3 +tries=2 @10.77.0.1 www.evpn.test A)
check "DNS over TCP through slirp's forwarder ($a)" test "$a" = "$HOST"
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
refused() { # url: curl must fail with "connection refused" within 2 s
	local t0 t1 rc
	t0=$(date +%s%N)
	inC curl -sS -m 8 -o /dev/null "$1" 2>"$TMP/curl.err"
	rc=$?
	t1=$(date +%s%N)
	[ $rc = 7 ] && [ $(((t1 - t0) / 1000000)) -lt 2000 ]
}
check "cloud metadata 169.254.169.254 refused at once (TCP RST)" \
	refused http://169.254.169.254/latest/meta-data/
check "ECS credentials 169.254.170.2 refused at once" \
	refused http://169.254.170.2/v2/credentials
check "127.0.0.1 via the gateway address refused at once" \
	refused http://10.77.0.1:18080/small.txt
check "the server namespace's loopback service saw no request" \
	not grep -q GET "$TMP/loopback-http.log"
check "the API's own address refused at once" \
	refused http://$SRV:$API_PORT/health
inC ping -c 1 -W 2 169.254.169.254 >"$TMP/ping-md.log" 2>&1
check "ping to 169.254.169.254 answered 'prohibited'" \
	grep -qiE "filtered|prohibited" "$TMP/ping-md.log"
check "the API still works for the host itself" \
	inS curl -sf -m 5 -o /dev/null http://127.0.0.1:$API_PORT/health

# ------------------------------------------------------------ >16 clients
for i in $(seq 1 40); do inC ip addr add 10.77.1.$i/16 dev $TUN; done
cpids=()
for i in $(seq 1 40); do
	ip netns exec $NS_C curl -sS -m 30 --interface 10.77.1.$i -o "$TMP/c$i.txt" \
		http://$HOST:8080/small.txt 2>"$TMP/c$i.err" &
	cpids+=($!)
done
for p in "${cpids[@]}"; do wait "$p"; done
ok=0
for i in $(seq 1 40); do
	cmp -s "$TMP/c$i.txt" "$TMP/www/small.txt" && ok=$((ok + 1))
done
check "40 client addresses at once all got their answer ($ok/40)" test $ok = 40
srcs=$(grep -oE '"GET /small.txt' "$TMP/http.log" | wc -l)
check "the HTTP server saw those requests ($srcs)" test "$srcs" -ge 40

# ------------------------------------------------------------ flow limit
# One client address holds 20 TCP connections (max_flows_per_peer); the
# 21st is refused at once, and the 20 still work.
inC ip addr add 10.77.2.1/16 dev $TUN
inC $PY - $HOST <<'PYEOF' >"$TMP/limit.log" 2>&1
import socket, sys, time
host = sys.argv[1]
held = []
for i in range(20):
    s = socket.socket()
    s.bind(("10.77.2.1", 0))
    s.settimeout(5)
    s.connect((host, 8080))
    held.append(s)
t0 = time.time()
s = socket.socket()
s.bind(("10.77.2.1", 0))
s.settimeout(5)
try:
    s.connect((host, 8080))
    print("21st connection accepted")
    sys.exit(1)
except ConnectionRefusedError:
    print("21st refused after %.3f s" % (time.time() - t0))
if time.time() - t0 > 2:
    sys.exit(1)
for h in held:
    h.sendall(b"GET /small.txt HTTP/1.0\r\n\r\n")
ok = 0
for h in held:
    data = b""
    while True:
        b = h.recv(4096)
        if not b:
            break
        data += b
    ok += b"hello from the hosts namespace" in data
print("%d/20 held connections answered" % ok)
sys.exit(0 if ok == 20 else 1)
PYEOF
check "max_flows_per_peer: a new flow refused at once, held ones work ($(tail -1 "$TMP/limit.log"))" \
	test $? = 0

# ------------------------------------------------------------ metrics
inS curl -sS -m 5 -H "Authorization: Bearer $MK" \
	http://127.0.0.1:$API_PORT/metrics >"$TMP/metrics" 2>&1
metric() { # name{labels} -> value (0 if absent)
	awk -v k="$1" '$1 == k {print $2; f=1} END {if (!f) print 0}' "$TMP/metrics"
}
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

check "evpnd still running" kill -0 $EVPND_PID
if [ $fail != 0 ]; then
	echo "--- evpnd log (tail)"
	tail -40 "$TMP/evpnd.log"
	echo "--- metrics"
	grep evpn_egress "$TMP/metrics"
fi
exit $fail
