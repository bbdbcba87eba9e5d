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
. "$(dirname "$0")/../lib/check.sh"

need_cmds ip curl dnsmasq dig ping setpriv sha256sum
[ -e /proc/net/if_inet6 ] || need "this kernel has no IPv6"
. "$(dirname "$0")/lib.sh"
sl_init s6 18006
SRV6=fd79::1
HOST6=fd79::2

# ------------------------------------------------------------ namespaces
sl_up
inS ip addr add $SRV6/64 dev $VS nodad || exit 1
inH ip addr add $HOST6/64 dev $VH nodad || exit 1

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
netns_dnsmasq $NS_H $HOST6 www6.evpn.test "$TMP"

# ------------------------------------------------------------ evpnd
# `tcp: slirp`: IPv6 TCP through libslirp itself (the default TCP relay's
# IPv6 is checked in tcprelay.sh)
SL_POOL6=fd77::/64 SL_EGRESS_CONFIG="{ tcp: slirp }" sl_evpnd
inC ip addr add fd77::2/64 dev $TUN nodad
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
refused() { refused_fast $NS_C "$1" "$TMP/curl.err"; } # at once, not a hang
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
sl_forty fd77::1: "/64 nodad" "http://[$HOST6]:8080/small.txt"
check "40 IPv6 client addresses at once all got their answer ($SL_OK/40)" \
	test $SL_OK = 40

# ------------------------------------------------------------ metrics
sl_fetch_metrics
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
# slirp ACKs every uploaded segment; those a later one of the same send
# makes redundant are merged (the upload's sha256 above proves no harm)
check "redundant pure ACKs merged during the upload ($(metric evpn_egress_acks_merged_total))" \
	test "$(metric evpn_egress_acks_merged_total)" -gt 0
check "evpnd still running" kill -0 $EVPND_PID

if [ $fail != 0 ]; then
	echo "--- evpnd log (tail)"
	tail -30 "$TMP/evpnd.log"
	echo FAIL
	exit 1
fi
echo PASS
