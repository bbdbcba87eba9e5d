#!/usr/bin/env bash
# End to end, as a user would: evpnd with the file
# store in a "server" namespace; in a "client" namespace `evpnctl setup`,
# `evpnctl create`, `evpnctl connect` (wg-quick + wireguard-go), curl through
# the tunnel to a web server in a third namespace, `evpnctl status` shows a
# recent handshake, `evpnctl disconnect` restores the client's routes and
# rules exactly, `evpnctl delete` removes the peer live.
# Egress: slirp (unprivileged evpnd) when built, else raw-socket.
set -u
# shellcheck source=SCRIPTDIR/../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
B=${EVPN_BUILD_DIR:?}
S=${EVPN_SOURCE_DIR:?}
SKIP=77
[ -n "${CI:-}" ] && SKIP=1
need() { echo "SKIP: $*" >&2; exit $SKIP; }
[ "$(id -u)" = 0 ] || need "needs root (network namespaces, wg-quick)"
for c in ip wg wg-quick wireguard-go curl python3 resolvconf; do
	command -v $c >/dev/null || need "missing $c"
done
# the full tunnel (0.0.0.0/0, ::/0): wg-quick's firewall rules
command -v nft >/dev/null ||
	{ command -v iptables-restore && command -v ip6tables-restore; } >/dev/null ||
	need "missing nft or iptables-restore/ip6tables-restore"
EVPNCTL=${EVPNCTL:-$B/evpnctl}
EGRESS=${E2E_EGRESS:-}
if [ -z "$EGRESS" ]; then
	[ -f "$B/plugins/egress-slirp.so" ] && EGRESS=slirp || EGRESS=raw-socket
fi

id=$$
NS_S=e2e-s-$id NS_C=e2e-c-$id NS_W=e2e-w-$id
NAME=e2e$((id % 100000))   # client_id and wg-quick interface name
T=$(mktemp -d)
chmod 755 "$T"
fails=0 passes=0
ok() { passes=$((passes + 1)); echo "ok - $*"; }
bad() { fails=$((fails + 1)); echo "not ok - $*"; }

cleanup() {
	set +e
	# the tunnel first: wg-quick down stops wireguard-go; then the rest
	if ip netns exec $NS_C ip link show "$NAME" >/dev/null 2>&1; then
		ip netns exec $NS_C env EVPN_CLIENT_DIR="$T/client" \
			WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go \
			"$EVPNCTL" disconnect "$NAME" >/dev/null 2>&1
	fi
	# wg-quick's wireguard-go is not our child (wggo_stop waits for it);
	# its link goes first even when the process is gone already
	wggo_adopt $NS_C "$NAME" "$(pgrep -f "wireguard-go $NAME\$" | head -1)"
	netns_cleanup
	rm -f "/var/run/wireguard/s$NAME.sock"
	rm -rf "$T"
}
trap cleanup EXIT

netns_add $NS_S || need "cannot create network namespaces"
netns_add $NS_C
netns_add $NS_W
netns_veth $NS_S es$id 10.201.0.1/24 $NS_C ec$id 10.201.0.2/24
netns_veth $NS_S ew$id 10.202.0.1/24 $NS_W ex$id 10.202.0.2/24
# resolvconf inside `ip netns exec` would rewrite the machine's own
# /etc/resolv.conf unless the namespace has its own file to bind over it.
netns_resolv $NS_C "nameserver 10.202.0.2"

# The web server, behind the VPN server.
mkdir -p "$T/www"
head -c 20000000 /dev/urandom >"$T/www/blob"
want=$(sha256sum <"$T/www/blob" | cut -d' ' -f1)
ip netns exec $NS_W python3 "$S/tests/lib/httpd.py" 10.202.0.2 8080 "$T/www" >"$T/web.log" 2>&1 &
netns_track $!

pool=10.203.0.0/24
if [ "$EGRESS" = raw-socket ]; then
	ip netns exec $NS_S sysctl -qw net.ipv4.ip_forward=1
	ip -n $NS_W route add $pool via 10.202.0.1
	egress_cfg="egress: {use: raw-socket, config: {device: tun$NAME}}"
else
	egress_cfg="egress: {use: slirp}"
fi
cat >"$T/evpn.yaml" <<YAML
plugin_dir: $B/plugins
master_key: \${EVPN_MASTER_KEY}
network:
  pool: $pool
  endpoint: 10.201.0.1:51999
  dns: [10.202.0.2]
  mtu: 1420
plugins:
  transport: {use: wireguard, config: {listen: "10.201.0.1:51999", uapi_name: s$NAME}}
  $egress_cfg
  store: {use: file, config: {dir: $T/var}}
  api: {use: civetweb-rest, config: {listen: "10.201.0.1:8111"}}
  auth: {use: bearer}
YAML
export EVPN_MASTER_KEY=e2e-master-key-$id-0123456789
ip netns exec $NS_S "$B/evpnd" run -c "$T/evpn.yaml" >"$T/evpnd.log" 2>&1 &
netns_track $!
for _ in $(seq 100); do
	ip netns exec $NS_C curl -fs http://10.201.0.1:8111/health >/dev/null 2>&1 && break
	sleep 0.1
done
ip netns exec $NS_C curl -fs http://10.201.0.1:8111/health >/dev/null ||
	{ sed 's/^/    /' "$T/evpnd.log"; echo "evpnd did not start"; exit 1; }

C() { ip netns exec $NS_C env EVPN_CLIENT_DIR="$T/client" \
	WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go "$EVPNCTL" "$@"; }

C setup http://10.201.0.1:8111 >/dev/null </dev/null && ok "evpnctl setup" || bad "evpnctl setup"
out=$(C create "$NAME" 2>&1) && ok "evpnctl create" || bad "evpnctl create: $out"
[ "$(stat -c %a "$T/client/$NAME.conf")" = 600 ] && ok "config file 0600" || bad "config mode"
grep -q "^PrivateKey = [A-Za-z0-9+/]\{43\}=" "$T/client/$NAME.conf" && ok "private key filled in locally" || bad "no private key in the conf"
priv=$(sed -n 's/^PrivateKey = //p' "$T/client/$NAME.conf")
grep -rqF "$priv" "$T/var" && bad "the client private key reached the server" || ok "the server never saw the private key"

# The API stays reachable outside the tunnel (a split route the user keeps);
# snapshot routes and rules after that, before connecting.
ip -n $NS_C rule add to 10.201.0.1 lookup main priority 100
snap() { ip -n $NS_C route show table all; ip -n $NS_C rule show; ip -n $NS_C addr show; }
# IPv6 duplicate address detection must settle first, or the link-local
# address changes state under us
for _ in $(seq 50); do
	ip -n $NS_C addr show | grep -q tentative || break
	sleep 0.1
done
before=$(snap)

out=$(C connect "$NAME" 2>&1) && ok "evpnctl connect" || bad "evpnctl connect: $out"
got=$(ip netns exec $NS_C curl -fsS --max-time 60 http://10.202.0.2:8080/blob | sha256sum | cut -d' ' -f1)
[ "$got" = "$want" ] && ok "20 MB through the tunnel, checksum right" || bad "download through the tunnel: $got"
st=$(C status "$NAME" 2>&1)
grep -qiE "handshake.*(second|minute|[0-9]{4}-)" <<<"$st" && ok "evpnctl status shows a recent handshake" ||
	bad "status: $(head -20 <<<"$st")"
out=$(C disconnect "$NAME" 2>&1) && ok "evpnctl disconnect" || bad "evpnctl disconnect: $out"
sleep 0.5
after=$(snap)
[ "$before" = "$after" ] && ok "routes, rules and addresses restored exactly" ||
	bad "namespace changed: $(diff <(echo "$before") <(echo "$after"))"

# Connect again, then delete: the peer goes at once, the tunnel stops.
C connect "$NAME" >/dev/null 2>&1
ip netns exec $NS_C curl -fs --max-time 10 -o /dev/null http://10.202.0.2:8080/ && ok "reconnected" || bad "reconnect"
out=$(C delete "$NAME" 2>&1) && ok "evpnctl delete" || bad "evpnctl delete: $out"
ip netns exec $NS_C curl -fs --max-time 4 -o /dev/null http://10.202.0.2:8080/ &&
	bad "the tunnel still works after delete" || ok "deleted user loses the tunnel at once"
wg show "s$NAME" peers 2>/dev/null | grep -q . && bad "peer still in wg show" || ok "peer gone from the server"
# the conf is kept while the interface is up (disconnect needs it)
C disconnect "$NAME" >/dev/null 2>&1 && ok "disconnect after delete" || bad "disconnect after delete"
C delete "$NAME" >/dev/null 2>&1
[ ! -e "$T/client/$NAME.conf" ] && ok "local files removed" || bad "local conf left behind"

echo "e2e ($EGRESS): $passes passed, $fails failed"
[ "$fails" = 0 ]
