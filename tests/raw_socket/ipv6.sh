#!/usr/bin/env bash
# IPv6 through the tunnel, end to end: evpnd with network.pool6 (fd77::/64)
# and the raw-socket egress in the server namespace, which routes IPv6 to
# the web namespace (fd80::/64; the web namespace routes the pool back, no
# NAT66). A stock wireguard-go client configured from POST /users gets the
# paired IPv6 address (10.77.0.2 -> fd77::2). Through the tunnel over IPv6:
# ping the server's address and the web namespace, an HTTP download with
# its checksum; packets from an IPv6 source outside the user's allowed IPs
# are dropped and counted; `wg show` lists the /128 next to the /32.
set -u

B=${EVPN_BUILD_DIR:?}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$(dirname "$0")/../lib/check.sh"

[ "$(id -u)" = 0 ] || need "needs root (network namespaces, TUN)"
need_cmds ip wg wireguard-go ping curl python3 sha256sum
[ -e /proc/net/if_inet6 ] || need "this kernel has no IPv6"

. "$HERE/topo_lib.sh"
TOPO_POOL6=fd77::/64
TOPO_API_PORT=18780
topo_test_setup

mkdir -p "$TMP/www"
head -c 5M /dev/urandom >"$TMP/www/file.bin"
ip netns exec "$NS_W" python3 "$HERE/../lib/httpd.py" $W_IP6 8080 "$TMP/www" \
	>"$TMP/httpd.log" 2>&1 &
netns_track $!

topo_evpnd || { echo "FAIL: evpnd did not start"; exit 1; }
check "the TUN device holds the server's IPv6 address fd77::1/64" \
	sh -c "ip -n $NS_S -6 addr show dev $TUN | grep -q 'inet6 fd77::1/64'"
topo_client alice "$WGC" || { echo "FAIL: client set-up"; exit 1; }
echo "# alice: $C_ADDR $C_ADDR6"
check "the API pairs 10.77.0.2 with fd77::2" \
	test "$C_ADDR $C_ADDR6" = "10.77.0.2/32 fd77::2/128"
check "the config carries both addresses" \
	grep -qx "Address = 10.77.0.2/32, fd77::2/128" "$TMP/alice.conf"
api GET /users/alice >"$TMP/get.json"
check "GET /users/alice has address6" \
	test "$(json '["address6"]' <"$TMP/get.json")" = fd77::2/128

for _ in $(seq 50); do grep -q "httpd ready" "$TMP/httpd.log" && break; sleep 0.1; done

check "IPv4 still works beside IPv6" cping -c 2 -i 0.2 -W 3 $W_IP
check "ping -6 the server's tunnel address fd77::1" \
	cping -6 -c 3 -i 0.3 -W 3 fd77::1
check "ping -6 the web namespace through the tunnel" \
	cping -6 -c 3 -i 0.3 -W 3 $W_IP6
ip netns exec "$NS_C" curl -sS --max-time 60 -o "$TMP/dl.bin" \
	"http://[$W_IP6]:8080/file.bin"
check "HTTP over IPv6 through the tunnel, sha256 matches" \
	test "$(sha256sum <"$TMP/www/file.bin")" = "$(sha256sum <"$TMP/dl.bin" 2>/dev/null)"
up=$(ip netns exec "$NS_C" curl -sS --max-time 60 -T "$TMP/www/file.bin" \
	"http://[$W_IP6]:8080/up")
want=$(sha256sum <"$TMP/www/file.bin")
check "HTTP upload over IPv6 through the tunnel, sha256 matches" \
	test "$up" = "${want%% *}"
wg show "$UAPI" allowed-ips >"$TMP/aips.txt"
check "wg show: the peer's allowed IPs are 10.77.0.2/32 and fd77::2/128" \
	grep -q "10.77.0.2/32 fd77::2/128" "$TMP/aips.txt"

# A source the user does not own (fd77::99) is dropped by the transport's
# source check, not forwarded.
before=$(metric 'evpn_wg_drops_total{reason="allowed_ips"}')
ip -n "$NS_C" addr add fd77::99/128 dev "$WGC" nodad
cping -6 -c 3 -i 0.2 -W 1 -I fd77::99 $W_IP6 &&
	{ echo "FAIL - a ping from fd77::99 was answered"; fail=1; }
after=$(metric 'evpn_wg_drops_total{reason="allowed_ips"}')
check "a spoofed IPv6 source is dropped and counted ($before -> $after)" \
	test "$after" -ge $((before + 3))
ip -n "$NS_C" addr del fd77::99/128 dev "$WGC"

# Deleting the user ends IPv6 too.
api DELETE /users/alice >/dev/null
check "deleted user: IPv6 stops at once" \
	sh -c "! ip netns exec $NS_C ping -6 -c 2 -i 0.3 -W 1 $W_IP6 >/dev/null 2>&1"

[ $fail = 0 ] && echo "PASS" || { tail -20 "$TMP/evpnd.log"; echo "FAIL"; }
exit $fail
