# Shared topology of the raw-socket end-to-end test and scripts/bench-tunnel
# (sourced; bash). Three network namespaces the caller owns:
#
#   client  --veth 192.168.79.0/24--  server  --veth 192.168.80.0/24--  web
#   (.2)                              (.1)   (.1)  forwards + NAT       (.2)
#
# The server namespace runs evpnd (wireguard transport, raw-socket egress:
# a TUN device holding the pool's first address) and routes the pool to
# the web namespace, masquerading when nft exists (the README's host
# setup), else the web namespace routes the pool back. The client runs a
# stock wireguard-go configured from POST /users.
#
# The caller sets B (build dir), TMP (scratch dir), and may set TOPO_POOL,
# TOPO_API_PORT before calling topo_up, and TOPO_API_LISTEN (the API's
# address, default 127.0.0.1) and TOPO_EGRESS_ALLOW (the egress's `allow`
# list, comma-separated) and TOPO_USERS_RATE (users.rate_limit) before
# topo_evpnd, and TOPO_USER_JSON (more fields of POST /users, e.g.
# '"rate_limit":"20mbit"') before topo_client. Namespaces, wireguard-go and
# background processes are registered with tests/lib/netns.sh (callers
# hand theirs to netns_track, start wireguard-go with wggo_start), and
# topo_down stops them in its safe order.

# shellcheck source=SCRIPTDIR/../lib/netns.sh
. "$(dirname "${BASH_SOURCE[0]}")/../lib/netns.sh"

topo_init() {
	local id=$$
	NS_S=evrs-s-$id
	NS_C=evrs-c-$id
	NS_W=evrs-w-$id
	VCS=rscs$id   # server end of client<->server
	VCC=rscc$id   # client end
	VWS=rsws$id   # server end of server<->web
	VWW=rsww$id   # web end
	TUN=evrt$((id % 1000000))
	WGC=evrc$((id % 1000000))  # wireguard-go client to evpnd
	UAPI=evru$((id % 1000000)) # evpnd's UAPI name
	S_IP=192.168.79.1
	C_IP=192.168.79.2
	C_IP2=192.168.79.3
	WS_IP=192.168.80.1
	W_IP=192.168.80.2
	POOL=${TOPO_POOL:-10.77.0.0/16}
	POOL6=${TOPO_POOL6:-} # set: IPv6 too (server<->web fd80::/64, routed)
	WS_IP6=fd80::1
	W_IP6=fd80::2
	API_PORT=${TOPO_API_PORT:-18779}
	API=http://127.0.0.1:$API_PORT
	KEY=0123456789abcdef0123456789abcdef$id
	WG_PORT=51820
	NAT=none
}

# For the tests (not the benchmark): check what the topology needs, make
# the scratch dir $TMP and the namespaces, and take everything down on
# exit. A missing prerequisite skips (fails in CI; tests/lib/check.sh).
topo_test_setup() {
	[ -c /dev/net/tun ] || need "missing /dev/net/tun"
	need_built "${EVPND:-$B/evpnd}" "$B/plugins/transport-wireguard.so" \
		"$B/plugins/store-file.so" "$B/plugins/api-civetweb-rest.so" \
		"$B/plugins/auth-bearer.so" "$B/plugins/egress-raw-socket.so"
	topo_init
	TMP=$(mktemp -d)
	trap 'topo_down; rm -rf "$TMP"' EXIT
	trap 'exit 1' INT TERM
	umask 077
	topo_up
	case $? in
	0) ;;
	2) need "cannot create network namespaces" ;;
	*)
		echo "FAIL: topology"
		exit 1
		;;
	esac
}
cping() { ip netns exec "$NS_C" ping "$@" >/dev/null 2>&1; }

topo_down() {
	netns_cleanup
	rm -f "/var/run/wireguard/$UAPI.sock"
}

# Namespaces, links, forwarding and NAT. Returns non-zero when network
# namespaces cannot be created (the caller decides skip vs fail).
topo_up() {
	netns_add "$NS_S" || return 2
	netns_add "$NS_C" || return 2
	netns_add "$NS_W" || return 2
	netns_veth "$NS_S" "$VCS" $S_IP/24 "$NS_C" "$VCC" $C_IP/24 || return 1
	netns_veth "$NS_S" "$VWS" $WS_IP/24 "$NS_W" "$VWW" $W_IP/24 || return 1
	# Roaming deletes the client's first address: keep the second.
	ip netns exec "$NS_C" sysctl -qw net.ipv4.conf.all.promote_secondaries=1
	ip netns exec "$NS_C" sysctl -qw net.ipv4.conf.$VCC.promote_secondaries=1
	ip netns exec "$NS_S" sysctl -qw net.ipv4.ip_forward=1 || return 1
	if [ -n "$POOL6" ]; then
		# No NAT66: the web namespace routes the pool back.
		ip netns exec "$NS_S" sysctl -qw net.ipv6.conf.all.forwarding=1 ||
			return 1
		ip -n "$NS_S" addr add $WS_IP6/64 dev "$VWS" nodad || return 1
		ip -n "$NS_W" addr add $W_IP6/64 dev "$VWW" nodad || return 1
		ip -n "$NS_W" route add "$POOL6" via $WS_IP6 || return 1
	fi
	if command -v nft >/dev/null &&
		ip netns exec "$NS_S" nft -f - <<EOF; then
table ip evpn_nat {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		oifname "$VWS" masquerade
	}
}
EOF
		NAT=nft
	else
		ip -n "$NS_W" route add "$POOL" via $WS_IP || return 1
		NAT=route
	fi
}

# evpnd with file store, wireguard, raw-socket, API and auth in the server
# namespace: topo_evpnd [extra yaml for the top level]. Sets EVPND_PID.
topo_evpnd() {
	local evpnd=${EVPND:-$B/evpnd} p
	mkdir -p "$TMP/plugins"
	for p in transport-wireguard store-file api-civetweb-rest auth-bearer \
		egress-raw-socket; do
		ln -sf "$B/plugins/$p.so" "$TMP/plugins/"
	done
	cat >"$TMP/evpn.yaml" <<YAML
log_level: ${TOPO_LOG_LEVEL:-info}
plugin_dir: plugins
master_key: "$KEY"
network:
  pool: $POOL
  pool6: "$POOL6"
  endpoint: $S_IP:$WG_PORT
  dns: [10.77.0.1]
  mtu: 1420
${TOPO_USERS_RATE:+users:
  rate_limit: \"$TOPO_USERS_RATE\"}
plugins:
  transport:
    use: wireguard
    config:
      listen: "$S_IP:$WG_PORT"
      uapi_name: $UAPI
${TOPO_STREAM_LISTEN:+      stream:
        listen: \"$TOPO_STREAM_LISTEN\"}
  egress:
    use: raw-socket
    config:
      device: $TUN
${TOPO_EGRESS_ALLOW:+      allow: [$TOPO_EGRESS_ALLOW]}
  store:
    use: file
    config:
      dir: ${TOPO_STATE_DIR:-$TMP/state}
  api:
    use: civetweb-rest
    config:
      listen: "${TOPO_API_LISTEN:-127.0.0.1}:$API_PORT"
  auth:
    use: bearer
YAML
	if [ -z "${TOPO_SKIP_KEYGEN:-}" ]; then
		"$evpnd" keygen -c "$TMP/evpn.yaml" >"$TMP/keygen.log" 2>&1 ||
			{ cat "$TMP/keygen.log"; return 1; }
	fi
	ip netns exec "$NS_S" "$evpnd" run -c "$TMP/evpn.yaml" \
		>"$TMP/evpnd.log" 2>&1 &
	EVPND_PID=$!
	netns_track "$EVPND_PID"
	# polled every 10 ms: scripts/bench-tunnel times the start-up
	for _ in $(seq $((${TOPO_START_TIMEOUT:-10} * 100))); do
		grep -q "ready:" "$TMP/evpnd.log" && return 0
		kill -0 "$EVPND_PID" 2>/dev/null || break
		sleep 0.01
	done
	cat "$TMP/evpnd.log"
	return 1
}

api() { # METHOD PATH [JSON]
	ip netns exec "$NS_S" curl -sS -X "$1" -H "Authorization: Bearer $KEY" \
		-H 'Content-Type: application/json' ${3:+-d "$3"} "$API$2"
}
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
metric() { # NAME{LABELS}: its value from GET /metrics now (0 if absent)
	api GET /metrics | awk -v k="$1" '$1 == k { v = $2 } END { print v + 0 }'
}

# A user created through the API, and a wireguard-go client in the client
# namespace configured from the API's answer (wg set + ip, no wg-quick):
# topo_client NAME IFACE [NAMESPACE, default the client namespace]. Sets
# C_ADDR, C_ADDR6 (with TOPO_POOL6), C_PUB, SPUB.
topo_client() {
	local name=$1 ifc=$2 ep NS_C=${3:-$NS_C}
	wg genkey >"$TMP/$name.key"
	C_PUB=$(wg pubkey <"$TMP/$name.key")
	api POST /users "{\"client_id\":\"$name\",\"public_key\":\"$C_PUB\"${TOPO_USER_JSON:+,$TOPO_USER_JSON}}" \
		>"$TMP/$name.json" || return 1
	C_ADDR=$(json '["address"]' <"$TMP/$name.json") || { cat "$TMP/$name.json"; return 1; }
	json '["config"]' <"$TMP/$name.json" >"$TMP/$name.conf" || return 1
	SPUB=$(awk -F' = ' '/^PublicKey/ {print $2}' "$TMP/$name.conf")
	ep=$(awk -F' = ' '/^Endpoint/ {print $2}' "$TMP/$name.conf")
	[ -n "$C_ADDR" ] && [ -n "$SPUB" ] && [ "$ep" = "$S_IP:$WG_PORT" ] ||
		{ cat "$TMP/$name.json"; return 1; }
	wggo_start "$NS_C" "$ifc" "$TMP/wggo-$ifc.log" || return 1
	ip netns exec "$NS_C" wg set "$ifc" private-key "$TMP/$name.key" \
		peer "$SPUB" endpoint "$ep" allowed-ips "$POOL,$W_IP/32" || return 1
	ip -n "$NS_C" addr add "$C_ADDR" dev "$ifc"
	ip -n "$NS_C" link set "$ifc" mtu 1420 up
	ip -n "$NS_C" route replace "$POOL" dev "$ifc"
	ip -n "$NS_C" route add "$W_IP/32" dev "$ifc"
	# with pool6: the user's IPv6 address, and the web namespace over IPv6
	C_ADDR6=$(json '.get("address6", "")' <"$TMP/$name.json")
	if [ -n "$POOL6" ]; then
		[ -n "$C_ADDR6" ] || { cat "$TMP/$name.json"; return 1; }
		ip netns exec "$NS_C" wg set "$ifc" peer "$SPUB" \
			allowed-ips "$POOL,$W_IP/32,$POOL6,$W_IP6/128" || return 1
		ip -n "$NS_C" addr add "$C_ADDR6" dev "$ifc" nodad || return 1
		ip -n "$NS_C" route replace "$POOL6" dev "$ifc" || return 1
		ip -n "$NS_C" route add "$W_IP6/128" dev "$ifc" || return 1
	fi
}
