# End to end as a user would go: evpnd and evpnctl in network namespaces
# (sourced; bash; after tests/lib/netns.sh and tests/lib/check.sh, with $B
# the build directory and $S the source tree). Three namespaces, all made
# here; nothing leaves the machine:
#   server (NS_S) - $SRV ($NET1.1) toward the client, $NET2.1 toward the
#                   web: evpnd (file store, REST API on $SRV:$API_PORT,
#                   wireguard on $SRV:$WG_PORT, egress slirp when built,
#                   else raw-socket; E2E_EGRESS picks one)
#   client (NS_C) - $NET1.2: evpnctl, wg-quick and wireguard-go; its
#                   resolv.conf names the web namespace
#   web    (NS_W) - $WEB ($NET2.2): tests/lib/httpd.py on port 8080 serving
#                   a 20 MB blob ($want: its sha256) and taking uploads
# where NET1, NET2 and the pool are ${BASE}1.0, ${BASE}2.0 and
# ${BASE}3.0.0/24 ("10.20" -> 10.201.0.0/24, ...). The client's tunnel,
# its relay and wg-quick's wireguard-go are taken down on exit, then the
# namespaces (netns_cleanup's order), also when a check fails half-way.
#
# e2e_init TAG BASE WG_PORT API_PORT [CMD...]  prerequisites (CMDs: more
#                 commands), names ($NAME: the client_id and interface),
#                 the scratch dir $T, the trap
# e2e_up          the namespaces and the web server
# e2e_evpnd       evpnd started and answering /health; env E2E_ALLOW: the
#                 egress's `allow` list, E2E_TRANSPORT: more of the
#                 transport's config (", key: value")
# C ARGS...       evpnctl in the client namespace
# e2e_settle      wait for IPv6 address detection in the client namespace
# snap            the client namespace's routes, rules and addresses
# shellcheck shell=bash

e2e_init() { # TAG BASE WG_PORT API_PORT [CMD...]
	local id=$$ t=$1
	[ "$(id -u)" = 0 ] || need "needs root (network namespaces, wg-quick)"
	need_cmds ip wg wg-quick wireguard-go curl python3 resolvconf "${@:5}"
	EVPNCTL=${EVPNCTL:-$B/evpnctl}
	need_built "$B/evpnd" "$EVPNCTL" "$B/plugins/transport-wireguard.so"
	EGRESS=${E2E_EGRESS:-}
	if [ -z "$EGRESS" ]; then
		[ -f "$B/plugins/egress-slirp.so" ] && EGRESS=slirp || EGRESS=raw-socket
	fi
	NS_S=$t-s-$id
	NS_C=$t-c-$id
	NS_W=$t-w-$id
	NAME=$t$((id % 100000))
	VETH=$t$id
	NET1=${2}1.0
	NET2=${2}2.0
	POOL=${2}3.0.0/24
	SRV=$NET1.1
	WEB=$NET2.2
	WG_PORT=$3
	API_PORT=$4
	T=$(mktemp -d)
	chmod 755 "$T"
	trap e2e_cleanup EXIT
	trap 'exit 1' INT TERM
}

# the tunnel first (disconnect: wg-quick down stops wireguard-go; the
# relay of a stream), then the rest
e2e_cleanup() {
	set +e
	if ip netns exec $NS_C ip link show "$NAME" >/dev/null 2>&1; then
		C disconnect "$NAME" >/dev/null 2>&1
	fi
	[ -f "$T/client/$NAME.relay" ] && kill "$(cat "$T/client/$NAME.relay")" 2>/dev/null
	# wg-quick's wireguard-go is not our child (wggo_stop waits for it);
	# its link goes first even when the process is gone already
	wggo_adopt $NS_C "$NAME" "$(pgrep -f "wireguard-go $NAME\$" | head -1)"
	netns_cleanup
	rm -f "/var/run/wireguard/s$NAME.sock"
	rm -rf "$T"
}

C() {
	ip netns exec $NS_C env EVPN_CLIENT_DIR="$T/client" \
		WG_QUICK_USERSPACE_IMPLEMENTATION=wireguard-go "$EVPNCTL" "$@"
}

e2e_up() {
	netns_add $NS_S || need "cannot create network namespaces"
	netns_add $NS_C || exit 1
	netns_add $NS_W || exit 1
	netns_veth $NS_S "${VETH}s" $SRV/24 $NS_C "${VETH}c" $NET1.2/24 || exit 1
	netns_veth $NS_S "${VETH}w" $NET2.1/24 $NS_W "${VETH}x" $WEB/24 || exit 1
	# resolvconf inside `ip netns exec` (wg-quick with DNS) would rewrite
	# the machine's own /etc/resolv.conf unless the namespace has its own
	# file to bind over it
	netns_resolv $NS_C "nameserver $WEB"
	mkdir -p "$T/www"
	head -c 20000000 /dev/urandom >"$T/www/blob"
	# shellcheck disable=SC2034 # for the caller
	want=$(sha256sum <"$T/www/blob" | cut -d' ' -f1)
	ip netns exec $NS_W python3 "$S/tests/lib/httpd.py" $WEB 8080 "$T/www" >"$T/web.log" 2>&1 &
	netns_track $!
}

e2e_evpnd() {
	local allow='' egress_cfg
	[ -z "${E2E_ALLOW:-}" ] || allow="allow: $E2E_ALLOW"
	if [ "$EGRESS" = raw-socket ]; then
		ip netns exec $NS_S sysctl -qw net.ipv4.ip_forward=1
		ip -n $NS_W route add $POOL via $NET2.1
		egress_cfg="{use: raw-socket, config: {device: tun$NAME${allow:+, $allow}}}"
	else
		egress_cfg="{use: slirp, config: {$allow}}"
	fi
	cat >"$T/evpn.yaml" <<YAML
plugin_dir: $B/plugins
master_key: \${EVPN_MASTER_KEY}
network:
  pool: $POOL
  endpoint: $SRV:$WG_PORT
  dns: [$WEB]
  mtu: 1420
plugins:
  transport: {use: wireguard, config: {listen: "$SRV:$WG_PORT", uapi_name: s$NAME${E2E_TRANSPORT:-}}}
  egress: $egress_cfg
  store: {use: file, config: {dir: $T/var}}
  api: {use: civetweb-rest, config: {listen: "$SRV:$API_PORT"}}
  auth: {use: bearer}
YAML
	export EVPN_MASTER_KEY=$NAME-master-key-$$-0123456789
	ip netns exec $NS_S "$B/evpnd" run -c "$T/evpn.yaml" >"$T/evpnd.log" 2>&1 &
	netns_track $!
	for _ in $(seq 100); do
		ip netns exec $NS_C curl -fs http://$SRV:$API_PORT/health >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	sed 's/^/    /' "$T/evpnd.log"
	echo "FAIL: evpnd did not start"
	exit 1
}

e2e_settle() {
	for _ in $(seq 50); do
		ip -n $NS_C addr show | grep -q tentative || break
		sleep 0.1
	done
}

snap() {
	ip -n $NS_C route show table all
	ip -n $NS_C rule show
	ip -n $NS_C addr show
}
