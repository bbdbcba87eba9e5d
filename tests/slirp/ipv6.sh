#!/usr/bin/env bash
# IPv6 through the slirp egress (network.pool6), unprivileged.
#
# Like egress.sh: a client namespace whose TUN device the test transport
# "tuntest" of evpnd reads (10.77.0.2/16 and fd77::2/64, default routes into
# it), evpnd as nobody with no capabilities in a server namespace, and a
# hosts namespace behind it (192.168.79.2, fd79::2). slirp opens its host
# sockets in the server namespace, which reaches fd79::2 over its veth.
# Checks: a download and an upload over IPv6 with sha256 on both ends, DNS
# over IPv6 UDP to a dnsmasq in the hosts namespace, ping6 of the DNS
# address (answered by slirp), 40 IPv6 client addresses at once (more than
# slirp's 16-entry NDP table), refusals answered at once (a TCP RST for
# the server address's other ports, slirp's own address and the cloud
# metadata fd00:ec2::254; an IPv4-compatible address dropped; ICMPv6 "prohibited" for
# ping6 to the outside, which libslirp 4.7 cannot carry),
# counted; IPv4 keeps working beside it.
set -u
# shellcheck source=SCRIPTDIR/../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

B=${EVPN_BUILD_DIR:?}
HERE=$(cd "$(dirname "$0")" && pwd)
SKIP=77
[ -n "${CI:-}" ] && SKIP=1 # in CI a missing prerequisite is a failure
need() {
	echo "SKIP/FAIL: $*" >&2
	exit $SKIP
}

[ "$(id -u)" = 0 ] || need "needs root (network namespaces)"
for c in ip curl dnsmasq dig ping setpriv sha256sum; do
	command -v $c >/dev/null || need "missing $c"
done
[ -c /dev/net/tun ] || need "missing /dev/net/tun"
[ -e /proc/net/if_inet6 ] || need "this kernel has no IPv6"
PY=/usr/bin/python3
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
NS_C=evs6-c-$id
NS_S=evs6-s-$id
NS_H=evs6-h-$id
TUN=evs6tun$((id % 100000))
VS=evs6S$((id % 100000))
VH=evs6H$((id % 100000))
SRV=192.168.79.1
HOST=192.168.79.2
SRV6=fd79::1
HOST6=fd79::2
API_PORT=18006
TMP=$(mktemp -d)
fail=0

cleanup() {
	netns_cleanup
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

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
inS() { ip netns exec $NS_S "$@"; }
inH() { ip netns exec $NS_H "$@"; }

# ------------------------------------------------------------ namespaces
netns_add $NS_C || need "cannot create network namespaces"
netns_add $NS_S || exit 1
netns_add $NS_H || exit 1
netns_veth $NS_S $VS $SRV/24 $NS_H $VH $HOST/24 || exit 1
inS ip addr add $SRV6/64 dev $VS nodad || exit 1
inH ip addr add $HOST6/64 dev $VH nodad || exit 1
inS sysctl -qw net.ipv4.ping_group_range="0 2147483647" || exit 1
netns_resolv $NS_S "nameserver $HOST"

# ------------------------------------------------------------ the "internet"
mkdir -p "$TMP/www"
head -c 20M /dev/urandom >"$TMP/www/big.bin"
echo "hello over IPv6" >"$TMP/www/small.txt"
ip netns exec $NS_H $PY "$HERE/../lib/httpd.py" $HOST6 8080 "$TMP/www" \
	>"$TMP/http.log" 2>&1 &
netns_track $!
ip netns exec $NS_H $PY "$HERE/../lib/httpd.py" $HOST 8080 "$TMP/www" \
	>"$TMP/http4.log" 2>&1 &
netns_track $!
ip netns exec $NS_H dnsmasq -k --conf-file=/dev/null --no-resolv --no-hosts \
	--listen-address=$HOST6 --bind-interfaces --user=root \
	--address=/www6.evpn.test/$HOST6 --pid-file="$TMP/dnsmasq.pid" \
	--log-facility="$TMP/dnsmasq.log" --log-queries &
netns_track $!

# ------------------------------------------------------------ evpnd
ip -n $NS_S tuntap add dev $TUN mode tun user nobody || exit 1
chmod 755 "$TMP"
mkdir -m 700 "$TMP/state" && chown nobody:nogroup "$TMP/state"
MK=evpn-slirp6-test-master-key-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat >"$TMP/evpn.yaml" <<YAML
log_level: debug
plugin_dir: $B/plugins
master_key: "$MK"
network:
  pool: 10.77.0.0/16
  pool6: fd77::/64
  endpoint: 127.0.0.1:51820
  dns: [10.77.0.1]
  mtu: 1420
plugins:
  transport: { use: $TT, config: { device: $TUN } }
  egress: { use: slirp }
  store: { use: file, config: { dir: "$TMP/state" } }
  api: { use: civetweb-rest, config: { listen: "127.0.0.1:$API_PORT" } }
  auth: { use: bearer }
YAML
chmod 644 "$TMP/evpn.yaml"
ip netns exec $NS_S setpriv --reuid=nobody --regid=nogroup --clear-groups \
	--inh-caps=-all --bounding-set=-all "$EVPND" run -c "$TMP/evpn.yaml" \
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
inC ip addr add fd77::2/64 dev $TUN nodad
inC ip link set $TUN mtu 1420 txqueuelen 2000 up
inC ip route add default dev $TUN
inC ip -6 route add default dev $TUN
for _ in $(seq 50); do
	grep -q "httpd ready" "$TMP/http.log" 2>/dev/null && break
	sleep 0.1
done

# ------------------------------------------------------------ TCP
want=$(sha256sum <"$TMP/www/big.bin" | cut -d' ' -f1)
inC curl -sS -m 60 -o "$TMP/got.bin" "http://[$HOST6]:8080/big.bin"
got=$(sha256sum <"$TMP/got.bin" 2>/dev/null | cut -d' ' -f1)
check "20 MB download over IPv6 through slirp, sha256 matches" test "$want" = "$got"
up=$(inC curl -sS -m 60 -T "$TMP/www/big.bin" "http://[$HOST6]:8080/up")
check "20 MB upload over IPv6 through slirp, sha256 matches" test "$up" = "$want"
check "IPv4 still works beside it" \
	inC curl -sS -m 10 -o /dev/null http://$HOST:8080/small.txt

# ------------------------------------------------------------ DNS, ICMPv6
for _ in $(seq 50); do
	inH sh -c "exec 3<>/dev/udp/$HOST6/53" 2>/dev/null && break
	sleep 0.1
done
a=$(inC dig +short +time=3 +tries=2 @$HOST6 www6.evpn.test AAAA)
check "DNS over IPv6 UDP through slirp ($a)" test "$a" = "$HOST6"
check "ping6 the DNS address fd77::1 (answered by slirp)" \
	inC ping -6 -c 2 -i 0.2 -W 3 -q fd77::1

# ------------------------------------------------------------ refusals
refused() { # url: curl must fail with "connection refused" within 2 s
	local t0 t1 rc
	t0=$(date +%s%N)
	inC curl -sS -m 8 -o /dev/null "$1" 2>"$TMP/curl.err"
	rc=$?
	t1=$(date +%s%N)
	[ $rc = 7 ] && [ $(((t1 - t0) / 1000000)) -lt 2000 ]
}
# (::1 and ::ffff:0:0/96 never leave a Linux client: the unit tests cover
# them; here the destinations a client can route into the tunnel)
check "the server address's other ports [fd77::1]:$API_PORT refused at once" \
	refused "http://[fd77::1]:$API_PORT/health"
check "cloud metadata [fd00:ec2::254] refused at once" \
	refused "http://[fd00:ec2::254]/latest/meta-data/"
# IPv4-compatible and -mapped destinations are refused silently, like
# IPv4 broadcast (an answer from such a source is dropped by clients).
inC curl -sS -m 2 -o /dev/null "http://[::127.0.0.1]:$API_PORT/health" 2>/dev/null
check "IPv4-compatible [::127.0.0.1] does not get through" test $? != 0
check "the API saw no request from a client" \
	sh -c "! grep -q 'GET /health' '$TMP/evpnd.log'"
check "slirp's own address [fd77::]:$API_PORT refused at once" \
	refused "http://[fd77::]:$API_PORT/health"
inC ping -6 -c 1 -W 2 $HOST6 >"$TMP/ping6.log" 2>&1
check "ping6 to the outside answered 'prohibited' (libslirp cannot carry it)" \
	grep -qiE "prohibited|unreachable" "$TMP/ping6.log"

# ------------------------------------------------------------ >16 clients
for i in $(seq 1 40); do inC ip addr add fd77::1:$i/64 dev $TUN nodad; done
cpids=()
for i in $(seq 1 40); do
	ip netns exec $NS_C curl -sS -m 30 --interface fd77::1:$i -o "$TMP/c$i.txt" \
		"http://[$HOST6]:8080/small.txt" 2>"$TMP/c$i.err" &
	cpids+=($!)
done
for p in "${cpids[@]}"; do wait "$p"; done
ok=0
for i in $(seq 1 40); do
	cmp -s "$TMP/c$i.txt" "$TMP/www/small.txt" && ok=$((ok + 1))
done
check "40 IPv6 client addresses at once all got their answer ($ok/40)" test $ok = 40

# ------------------------------------------------------------ metrics
inS curl -sS -m 5 -H "Authorization: Bearer $MK" \
	http://127.0.0.1:$API_PORT/metrics >"$TMP/metrics" 2>&1
metric() { # name{labels} -> value (0 if absent)
	awk -v k="$1" '$1 == k {print $2; f=1} END {if (!f) print 0}' "$TMP/metrics"
}
check "refusals counted: loopback >= 2" \
	test "$(metric 'evpn_egress_refused_total{reason="loopback"}')" -ge 2
check "refusals counted: link_local >= 1" \
	test "$(metric 'evpn_egress_refused_total{reason="link_local"}')" -ge 1
check "refusals counted: special >= 1 (IPv4-compatible)" \
	test "$(metric 'evpn_egress_refused_total{reason="special"}')" -ge 1
check "refusals counted: protocol >= 1 (ping6 outside)" \
	test "$(metric 'evpn_egress_refused_total{reason="protocol"}')" -ge 1
check "nothing refused as 'ipv6' (it is carried)" \
	test "$(metric 'evpn_egress_refused_total{reason="ipv6"}')" = 0
check "evpnd still running" kill -0 $EVPND_PID

if [ $fail != 0 ]; then
	echo "--- evpnd log (tail)"
	tail -30 "$TMP/evpnd.log"
	echo FAIL
	exit 1
fi
echo PASS
