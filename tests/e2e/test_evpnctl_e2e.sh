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
. "$S/tests/lib/check.sh"
# shellcheck source=SCRIPTDIR/../lib/e2e_ns.sh
. "$S/tests/lib/e2e_ns.sh"
# the full tunnel (0.0.0.0/0, ::/0): wg-quick's firewall rules
command -v nft >/dev/null ||
	{ command -v iptables-restore && command -v ip6tables-restore; } >/dev/null ||
	need "missing nft or iptables-restore/ip6tables-restore"
e2e_init e2e 10.20 51999 8111
fails=0 passes=0
ok() { passes=$((passes + 1)); echo "ok - $*"; }
bad() { fails=$((fails + 1)); echo "not ok - $*"; }
e2e_up
e2e_evpnd

C setup http://$SRV:$API_PORT >/dev/null </dev/null && ok "evpnctl setup" || bad "evpnctl setup"
out=$(C create "$NAME" 2>&1) && ok "evpnctl create" || bad "evpnctl create: $out"
[ "$(stat -c %a "$T/client/$NAME.conf")" = 600 ] && ok "config file 0600" || bad "config mode"
grep -q "^PrivateKey = [A-Za-z0-9+/]\{43\}=" "$T/client/$NAME.conf" && ok "private key filled in locally" || bad "no private key in the conf"
priv=$(sed -n 's/^PrivateKey = //p' "$T/client/$NAME.conf")
grep -rqF "$priv" "$T/var" && bad "the client private key reached the server" || ok "the server never saw the private key"

# The API stays reachable outside the tunnel (a split route the user keeps);
# snapshot routes and rules after that, before connecting.
ip -n $NS_C rule add to $SRV lookup main priority 100
# IPv6 duplicate address detection must settle first, or the link-local
# address changes state under us
e2e_settle
before=$(snap)

out=$(C connect "$NAME" 2>&1) && ok "evpnctl connect" || bad "evpnctl connect: $out"
got=$(ip netns exec $NS_C curl -fsS --max-time 60 http://$WEB:8080/blob | sha256sum | cut -d' ' -f1)
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
ip netns exec $NS_C curl -fs --max-time 10 -o /dev/null http://$WEB:8080/ && ok "reconnected" || bad "reconnect"
out=$(C delete "$NAME" 2>&1) && ok "evpnctl delete" || bad "evpnctl delete: $out"
ip netns exec $NS_C curl -fs --max-time 4 -o /dev/null http://$WEB:8080/ &&
	bad "the tunnel still works after delete" || ok "deleted user loses the tunnel at once"
wg show "s$NAME" peers 2>/dev/null | grep -q . && bad "peer still in wg show" || ok "peer gone from the server"
# the conf is kept while the interface is up (disconnect needs it)
C disconnect "$NAME" >/dev/null 2>&1 && ok "disconnect after delete" || bad "disconnect after delete"
C delete "$NAME" >/dev/null 2>&1
[ ! -e "$T/client/$NAME.conf" ] && ok "local files removed" || bad "local conf left behind"

echo "e2e ($EGRESS): $passes passed, $fails failed"
[ "$fails" = 0 ]
