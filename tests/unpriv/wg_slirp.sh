#!/usr/bin/env bash
# The proof that evpn needs no privilege: the SHIPPED
# etc/evpn.yaml, defaults untouched (transport wireguard, egress slirp,
# store file), steered only through the environment variables it reads, run
# by `nobody` with every capability dropped, in a mount namespace where
# /dev/net/tun does not exist; real wireguard-go clients in other network
# namespaces get all their traffic out through it.
#
# Namespaces, all made here (nothing can leave this machine: the server
# namespace has no default route, only the two links below):
#   server (NS_S)  evpnd; bridge 10.201.0.1/24 to the clients, veth
#                  192.168.79.1/24 to the hosts; API on 192.168.79.1; its
#                  resolv.conf names the dnsmasq below (slirp's forwarder)
#   hosts  (NS_H)  192.168.79.2: HTTP server, dnsmasq (one test record,
#                  no upstream), iperf3 server - "the internet"
#   client (NS_C)  10.201.0.2: one client with wg-quick + wireguard-go,
#                  the config exactly as POST /users returned it
#   many   (NS_M)  10.201.0.3: 40 more wireguard-go clients (wg setconf),
#                  one user each - more than libslirp's 16-entry ARP table
set -u
# shellcheck source=SCRIPTDIR/../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

B=${EVPN_BUILD_DIR:?}
S=${EVPN_SOURCE_DIR:?}
. "$(dirname "$0")/../lib/check.sh"

[ "$(id -u)" = 0 ] || need "needs root (network namespaces)"
for c in ip wg wg-quick wireguard-go resolvconf curl dnsmasq iperf3 dig \
	getent ping setpriv unshare sha256sum; do
	command -v $c >/dev/null || need "missing $c"
done
[ -c /dev/net/tun ] || need "missing /dev/net/tun (for the wireguard-go clients)"
PY=/usr/bin/python3
[ -x $PY ] || need "missing $PY"
for f in "$B/evpnd" "$B/plugins/transport-wireguard.so" \
	"$B/plugins/egress-slirp.so" "$B/plugins/store-file.so" \
	"$B/plugins/api-civetweb-rest.so" "$B/plugins/auth-bearer.so" \
	"$S/etc/evpn.yaml"; do
	[ -e "$f" ] || {
		echo "FAIL: missing $f (build evpnd and the plugins)"
		exit 1
	}
done

# The shipped file keeps one config block per plugin of a kind (file and
# ssm, slirp and raw-socket); the core takes that form only when every block
# names an installed plugin, so the whole plugin set must be built.
if ! out=$(EVPN_PLUGIN_DIR="$B/plugins" "$B/evpnd" check-config \
	-c "$S/etc/evpn.yaml" 2>&1); then
	echo "$out"
	echo "FAIL: the shipped etc/evpn.yaml does not validate with $B/plugins"
	exit 1
fi

NCLIENTS=${UNPRIV_CLIENTS:-40}
id=$$
sfx=$((id % 100000))
NS_S=uwg-s-$id
NS_H=uwg-h-$id
NS_C=uwg-c-$id
NS_M=uwg-m-$id
BR=uwgbr$sfx
SRV=10.201.0.1
HOSTS_SIDE=192.168.79.1
HOST=192.168.79.2
WG_PORT=51821
API_PORT=18000
POOL=10.78.0.0/16
GW=10.78.0.1
CNAME=uwc$sfx # interface names: unique, <= 15 characters
mname() { echo "uwm${sfx}x$1"; }
TMP=$(mktemp -d)
EVPND_PID=

cleanup() {
	set +e
	if [ -e "$TMP/cfg/$CNAME.conf" ]; then
		# wg-quick down also takes the DNS entry out of resolvconf's state
		ip netns exec $NS_C wg-quick down "$TMP/cfg/$CNAME.conf" \
			>/dev/null 2>&1
		# its wireguard-go is not our child: wggo_stop waits for it
		wggo_adopt $NS_C $CNAME "$(cat "$TMP/wggo-$CNAME.pid" 2>/dev/null)"
	fi
	netns_cleanup
	[ -n "${UNPRIV_KEEP_LOG:-}" ] && cp "$TMP/evpnd.log" "$UNPRIV_KEEP_LOG"
	rm -rf "$TMP"
}
trap cleanup EXIT
trap "exit 1" INT TERM

quiet() { "$@" >/dev/null 2>&1; }
inS() { ip netns exec $NS_S "$@"; }
inH() { ip netns exec $NS_H "$@"; }
inC() { ip netns exec $NS_C "$@"; }
inM() { ip netns exec $NS_M "$@"; }
ms() { echo $(($(date +%s%N) / 1000000)); }
T0=$(ms)

# ------------------------------------------------------------ namespaces
netns_add $NS_S || need "cannot create network namespaces"
for n in $NS_H $NS_C $NS_M; do netns_add $n || exit 1; done
netns_veth $NS_S uws$sfx $HOSTS_SIDE/24 $NS_H uwh$sfx $HOST/24 || exit 1
ip -n $NS_S link add $BR type bridge
ip -n $NS_S addr add $SRV/24 dev $BR
ip -n $NS_S link set $BR up
for l in "c $NS_C 10.201.0.2" "m $NS_M 10.201.0.3"; do
	set -- $l
	netns_veth $NS_S uwb$1$sfx "" $2 uwv$1$sfx $3/24 || exit 1
	ip -n $NS_S link set uwb$1$sfx master $BR
done
# libslirp pings through unprivileged ICMP sockets (a per-namespace sysctl)
inS sysctl -qw net.ipv4.ping_group_range="0 2147483647" || exit 1
netns_resolv $NS_S "nameserver $HOST"
# wg-quick's resolvconf writes the client's /etc/resolv.conf: inside
# `ip netns exec` that must be this file, not the machine's
netns_resolv $NS_C "# replaced by wg-quick"

# ------------------------------------------------------------ the "internet"
mkdir -p "$TMP/www" "$TMP/cfg"
chmod 700 "$TMP/cfg"
head -c 50M /dev/urandom >"$TMP/www/big.bin"
head -c 256K /dev/urandom >"$TMP/www/mid.bin"
echo "hello from the hosts namespace" >"$TMP/www/small.txt"
ip netns exec $NS_H $PY -m http.server --bind $HOST --directory "$TMP/www" 8080 \
	>"$TMP/http.log" 2>&1 &
netns_track $!
netns_dnsmasq $NS_H $HOST www.evpn.test "$TMP"
ip netns exec $NS_H iperf3 -s -B $HOST -p 5201 >"$TMP/iperf3-s.log" 2>&1 &
netns_track $!
# uploads: PUT answers the sha256 of what arrived
ip netns exec $NS_H $PY "$(dirname "$0")/../lib/httpd.py" $HOST 8081 "$TMP/www" \
	>"$TMP/httpd-up.log" 2>&1 &
netns_track $!
# a service on the server's loopback that clients must never reach
ip netns exec $NS_S $PY -m http.server --bind 127.0.0.1 --directory "$TMP/www" 18080 \
	>"$TMP/loopback-http.log" 2>&1 &
netns_track $!

# ------------------------------------------------------------ evpnd
chmod 755 "$TMP"
mkdir -m 700 "$TMP/state" && chown nobody:nogroup "$TMP/state"
MK=evpn-unpriv-master-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
# Only the variables the shipped file reads; everything else its defaults.
# A fresh mount namespace hides /dev/net behind an empty tmpfs, then
# setpriv drops to nobody with no capabilities; the exec chain keeps
# evpnd's pid = $! (no shell function here: that would fork).
ip netns exec $NS_S env -u EVPN_EGRESS -u EVPN_STORE -u EVPN_MTU -u EVPN_CONFIG \
	EVPN_STATE_DIR="$TMP/state" WG_PORT=$WG_PORT \
	API_HOST=$HOSTS_SIDE API_PORT=$API_PORT \
	VPN_ENDPOINT=$SRV:$WG_PORT EVPN_POOL=$POOL EVPN_DNS=$GW \
	EVPN_PLUGIN_DIR="$B/plugins" EVPN_MASTER_KEY="$MK" \
	unshare --mount --propagation private sh -c \
	'mount -t tmpfs -o size=16k,mode=755 evpn-no-tun /dev/net && exec "$@"' \
	sh setpriv --reuid=nobody --regid=nogroup --clear-groups \
	--inh-caps=-all --bounding-set=-all \
	"$B/evpnd" run -c "$S/etc/evpn.yaml" >"$TMP/evpnd.log" 2>&1 &
EVPND_PID=$!
netns_track $EVPND_PID
API=http://$HOSTS_SIDE:$API_PORT
for _ in $(seq 100); do
	inS curl -sf -m 2 -o /dev/null $API/health 2>/dev/null && break
	kill -0 $EVPND_PID 2>/dev/null || break
	sleep 0.1
done
if ! inS curl -sf -m 2 -o /dev/null $API/health; then
	cat "$TMP/evpnd.log"
	echo "FAIL - evpnd did not start"
	exit 1
fi
st=/proc/$EVPND_PID/status
check "the process is evpnd ($(cat /proc/$EVPND_PID/comm))" \
	test "$(cat /proc/$EVPND_PID/comm)" = evpnd
check "evpnd runs as nobody (real, effective, saved uid and gid)" \
	awk '/^[UG]id:/ {n++; for (i = 2; i <= 5; i++) if ($i != 65534) bad = 1}
		END {exit bad || n != 2}' $st
check "evpnd has no supplementary groups" \
	test -z "$(awk '/^Groups:/{print $2}' $st)"
for c in CapInh CapPrm CapEff CapBnd CapAmb; do
	check "evpnd $c = 0" test "$(awk -v k=$c: '$1 == k {print $2}' $st)" = 0000000000000000
done
check "evpnd sees no /dev/net/tun" not test -e /proc/$EVPND_PID/root/dev/net/tun
check "evpnd holds no TUN file descriptor" \
	not sh -c "ls -l /proc/$EVPND_PID/fd | grep -q -e /dev/net/tun -e tun"
check "evpnd's network namespace has no default route (nothing leaves)" \
	test -z "$(inS ip route show default)"
check "evpnd's state dir belongs to nobody" \
	test "$(stat -c %U "$TMP/state/$(ls "$TMP/state" | head -1)")" = nobody
check "UAPI socket in the state dir (uapi_fallback_dir), 0600, nobody's" \
	test "$(stat -c '%a %U' "$TMP/state/wireguard/evpn0.sock" 2>&1)" = "600 nobody"
check "no UAPI warning" not grep -q "UAPI disabled" "$TMP/evpnd.log"
check "the shipped defaults: egress slirp, store file" \
	inS $PY -c 'import json,sys,urllib.request as u
r = u.Request(sys.argv[1] + "/health", headers={"Authorization": "Bearer " + sys.argv[2]})
p = json.load(u.urlopen(r, timeout=5))["plugins"]
sys.exit(not (p.get("egress") == "slirp" and p.get("store") == "file" and p.get("transport") == "wireguard"))' $API "$MK"

api() { inS curl -sS -m 10 -H "Authorization: Bearer $MK" "$@"; }
mkuser() { # client_id conf: create the user, keep its wg-quick config
	api -X POST -H 'Content-Type: application/json' \
		-d "{\"client_id\":\"$1\"}" $API/users >"$TMP/u-$1.json" &&
		$PY -c 'import json,os,sys
c = json.load(open(sys.argv[1]))["config"]
os.umask(0o077)
open(sys.argv[2], "w").write(c)' "$TMP/u-$1.json" "$2"
}
confval() { # conf key -> first value
	sed -n "s/^$2 *= *//p" "$1" | head -1 | cut -d, -f1 | tr -d ' '
}

# ------------------------------------------------------------ one client, wg-quick
check "POST /users (main)" mkuser main "$TMP/cfg/$CNAME.conf"
DNS=$(confval "$TMP/cfg/$CNAME.conf" DNS)
check "the client config names the server address as DNS ($DNS)" test "$DNS" = $GW
# wg-quick starts the userspace implementation it is told; this one keeps
# wireguard-go in the foreground and remembers its pid for the clean-up
cat >"$TMP/wggo-fg" <<EOF
#!/bin/sh
WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 wireguard-go -f "\$1" \
	>"$TMP/wggo-\$1.log" 2>&1 </dev/null &
echo \$! >"$TMP/wggo-\$1.pid"
for i in \$(seq 50); do
	[ -S "/var/run/wireguard/\$1.sock" ] && exit 0
	sleep 0.1
done
exit 1
EOF
chmod 755 "$TMP/wggo-fg"
inC env WG_QUICK_USERSPACE_IMPLEMENTATION="$TMP/wggo-fg" \
	wg-quick up "$TMP/cfg/$CNAME.conf" >"$TMP/wg-quick.log" 2>&1
check "wg-quick up with wireguard-go" test $? = 0 -a -s "$TMP/wggo-$CNAME.pid"

want=$(sha256sum <"$TMP/www/big.bin" | cut -d' ' -f1)
t=$(ms)
inC curl -sS -m 90 -o "$TMP/got.bin" http://$HOST:8080/big.bin
t=$(($(ms) - t))
got=$(sha256sum <"$TMP/got.bin" 2>/dev/null | cut -d' ' -f1)
check "50 MB over HTTP through WireGuard + slirp, sha256 right ($((400000 / (t + 1))) Mbit/s)" \
	test "$want" = "$got"
rm -f "$TMP/got.bin"
t=$(ms)
up=$(inC curl -sS -m 90 -T "$TMP/www/big.bin" http://$HOST:8081/up)
t=$(($(ms) - t))
check "50 MB upload through WireGuard + slirp, sha256 right ($((400000 / (t + 1))) Mbit/s)" \
	test "$up" = "$want"
check "wg show: a handshake with the server" \
	test "$(inC wg show $CNAME latest-handshakes | awk '{print $2}')" -gt 0

check "ping a host through the tunnel" quiet inC ping -c 3 -i 0.2 -W 3 $HOST
check "ping the server address" quiet inC ping -c 2 -i 0.2 -W 3 $GW

a=$(inC dig +short +time=3 +tries=2 @"$DNS" www.evpn.test A)
check "DNS through the tunnel: @$DNS answers www.evpn.test ($a)" test "$a" = $HOST
a=$(inC dig +short +tcp +time=3 +tries=2 @"$DNS" www.evpn.test A)
check "DNS over TCP through the tunnel ($a)" test "$a" = $HOST
check "wg-quick set the client's resolver to $DNS" \
	grep -q "^nameserver $DNS" /etc/netns/$NS_C/resolv.conf
a=$(inC getent ahostsv4 www.evpn.test | awk 'NR == 1 {print $1}')
check "the client's resolver resolves through the tunnel ($a)" test "$a" = $HOST
check "the test record came from dnsmasq in the hosts namespace" \
	grep -q "query\[A\] www.evpn.test" "$TMP/dnsmasq.log"

inC iperf3 -c $HOST -p 5201 -u -b 8M -t 3 -l 1200 -J >"$TMP/iperf3-u.json" 2>&1
udp=$($PY - "$TMP/iperf3-u.json" <<'PYEOF'
import json, sys
try:
    s = json.load(open(sys.argv[1]))["end"]["sum"]
    print("%d %.2f" % (s["packets"] - s["lost_packets"], s["lost_percent"]))
except Exception:
    print("0 100")
PYEOF
)
set -- $udp
check "UDP with iperf3 -u (8 Mbit/s: $1 datagrams arrived, $2% lost)" \
	$PY -c "import sys; sys.exit(not ($1 > 1500 and $2 < 25))"

# ------------------------------------------------------------ refusals
refused() { # url: curl must fail with "connection refused" within 2 s
	local t0 rc
	t0=$(ms)
	inC curl -sS -m 8 -o /dev/null "$1" 2>"$TMP/curl.err"
	rc=$?
	[ $rc = 7 ] && [ $(($(ms) - t0)) -lt 2000 ] ||
		{ echo "     curl exit $rc after $(($(ms) - t0)) ms: $(cat "$TMP/curl.err")"; false; }
}
check "cloud metadata 169.254.169.254 refused at once" \
	refused http://169.254.169.254/latest/meta-data/
check "ECS credentials 169.254.170.2 refused at once" \
	refused http://169.254.170.2/v2/credentials
check "the server's loopback via the gateway address refused at once" \
	refused http://$GW:18080/small.txt
check "the loopback service saw no request" \
	not grep -q GET "$TMP/loopback-http.log"
check "the API's address ($HOSTS_SIDE:$API_PORT) refused at once" \
	refused http://$HOSTS_SIDE:$API_PORT/health
t=$(ms)
inC ping -c 1 -W 3 169.254.169.254 >"$TMP/ping-md.log" 2>&1
check "ping 169.254.169.254: 'prohibited' at once" \
	test $(($(ms) - t)) -lt 2000 -a -n "$(grep -iE 'filtered|prohibited' "$TMP/ping-md.log")"

# ------------------------------------------------------------ 40 clients
# One user and one wireguard-go each. Their first handshakes are spread
# out: all 40 come from one source address (10.201.0.3), and the server's
# per-source handshake limit (20/s, burst 5, as in the Linux module) would
# otherwise delay most of them by rounds of 5 s retries.
ok=0
for i in $(seq 1 $NCLIENTS); do
	mkuser m$i "$TMP/cfg/$(mname $i).conf" && ok=$((ok + 1))
done
check "POST /users for $NCLIENTS more users" test $ok = $NCLIENTS
for i in $(seq 1 $NCLIENTS); do
	n=$(mname $i)
	wggo_spawn $NS_M $n "$TMP/wggo-$n.log"
done
ok=0
for i in $(seq 1 $NCLIENTS); do
	n=$(mname $i)
	c="$TMP/cfg/$n.conf"
	wggo_wait $n
	wg-quick strip "$c" >"$c.wg" &&
		inM wg setconf $n "$c.wg" &&
		inM ip addr add "$(confval "$c" Address)" dev $n &&
		inM ip link set $n mtu "$(confval "$c" MTU)" up &&
		ok=$((ok + 1))
done
check "$NCLIENTS wireguard-go clients configured (wg setconf + ip)" test $ok = $NCLIENTS
ok=0
for i in $(seq 1 $NCLIENTS); do
	inM ping -c 1 -W 6 -I "$(mname $i)" $GW >/dev/null 2>&1 && ok=$((ok + 1))
	sleep 0.05
done
check "each of the $NCLIENTS clients pings the server ($ok)" test $ok = $NCLIENTS
want=$(sha256sum <"$TMP/www/mid.bin" | cut -d' ' -f1)
cpids=()
for i in $(seq 1 $NCLIENTS); do
	inM curl -sS -m 45 --interface "$(mname $i)" -o "$TMP/m$i.bin" \
		http://$HOST:8080/mid.bin 2>"$TMP/m$i.err" &
	cpids+=($!)
done
for p in "${cpids[@]}"; do wait "$p"; done
ok=0
for i in $(seq 1 $NCLIENTS); do
	[ "$(sha256sum <"$TMP/m$i.bin" 2>/dev/null | cut -d' ' -f1)" = "$want" ] &&
		ok=$((ok + 1))
done
check "$NCLIENTS clients downloading at once all got 256 KiB intact ($ok)" \
	test $ok = $NCLIENTS
ok=0
for i in $(seq 1 $NCLIENTS); do
	api $API/users/m$i >"$TMP/s-m$i.json" 2>/dev/null
	$PY -c 'import json,sys
j = json.load(open(sys.argv[1]))
sys.exit(not (j.get("last_handshake") and j.get("rx_bytes", 0) > 0 and
              j.get("tx_bytes", 0) > 262144))' \
		"$TMP/s-m$i.json" 2>/dev/null && ok=$((ok + 1))
done
check "the API shows each of the $NCLIENTS users' peer carried it ($ok)" \
	test $ok = $NCLIENTS

# ------------------------------------------------------------ metrics
api $API/metrics >"$TMP/metrics" 2>&1
metric() { metric_in "$TMP/metrics" "$1"; }
check "refusals counted: link_local >= 3" \
	test "$(metric 'evpn_egress_refused_total{reason="link_local"}')" -ge 3
check "refusals counted: loopback >= 1" \
	test "$(metric 'evpn_egress_refused_total{reason="loopback"}')" -ge 1
check "refusals counted: api >= 1" \
	test "$(metric 'evpn_egress_refused_total{reason="api"}')" -ge 1
check "slirp's ARP requests answered for > 16 clients" \
	test "$(metric 'evpn_egress_arp_replies_total')" -gt 16
# the shipped default: client TCP through the egress's relay, not slirp's
check "client TCP went through the TCP relay (the default)" \
	grep -q "TCP relay: MSS" "$TMP/evpnd.log"
check "evpnd still running" kill -0 $EVPND_PID
# SIGTERM is the clean stop (SPEC), with 41 peers and their flows open
t=$(ms)
kill $EVPND_PID
wait $EVPND_PID
rc=$?
t=$(($(ms) - t))
netns_untrack $EVPND_PID
EVPND_PID=
check "evpnd stops on SIGTERM with exit 0 ($rc) within 5 s ($t ms)" \
	test $rc = 0 -a $t -lt 5000
check "whole test under 4 minutes ($((($(ms) - T0) / 1000)) s)" \
	test $(($(ms) - T0)) -lt 240000
grep -E "Z (warn|error) " "$TMP/evpnd.log" | sort -u -k3 | head -10 |
	sed 's/^/# evpnd: /'
if [ $fail != 0 ]; then
	echo "--- evpnd log (tail)"
	tail -40 "$TMP/evpnd.log"
	echo "--- wg-quick"
	cat "$TMP/wg-quick.log"
	echo "--- metrics"
	grep -E "evpn_(egress|wg)" "$TMP/metrics"
fi
exit $fail
