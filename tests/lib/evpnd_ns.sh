# The real daemon in a network namespace, with a stock WireGuard client in
# another (sourced; bash; after tests/lib/netns.sh and tests/lib/check.sh,
# with $B the build directory). Two namespaces joined by a veth, both made
# here; nothing leaves the machine:
#   server (NS_S) - $NET.1: evpnd with the wireguard transport, the file
#                   store, the REST API on 127.0.0.1:$API_PORT, bearer auth
#                   and the test "echo" egress (answers pings to the pool's
#                   first address)
#   client (NS_C) - $NET.2: wireguard-go on the interface $WGC
# Clean-up on exit (netns_cleanup: wireguard-go's link, then its process,
# then the namespaces) also when a check fails half-way.
#
# evn_init TAG NET API_PORT [CMD...]  prerequisites (CMDs: more commands),
#                      names, $TMP, the master key $KEY, the trap
# evn_up               the namespaces (skips when they cannot be made)
# evn_evpnd POOL       evpnd started, $SRV_PID; env EVN_NETWORK and
#                      EVN_TRANSPORT: one more line of YAML under network:
#                      and under the transport's config:
# evn_user ID          a client key pair and user ID with it (see below)
# evn_client ROUTE     wireguard-go up with ID's config, ROUTE through it
# api, json, cping, cping_until, metric: see each
# shellcheck shell=bash

evn_init() { # TAG NET API_PORT [CMD...]
	local id=$$ t=$1
	[ "$(id -u)" = 0 ] || need "needs root (network namespaces)"
	need_cmds ip wg wireguard-go ping curl python3 "${@:4}"
	[ -c /dev/net/tun ] || need "missing /dev/net/tun"
	EVPND=${EVPND:-$B/evpnd}
	PLUGSRC=${EVPN_PLUGIN_SRC:-$B/plugins}
	need_built "$EVPND" "$PLUGSRC/transport-wireguard.so" \
		"$PLUGSRC/store-file.so" "$PLUGSRC/api-civetweb-rest.so" \
		"$PLUGSRC/auth-bearer.so" "$B/tests/plugins/egress-echo.so"
	NS_S=ev$t-s-$id
	NS_C=ev$t-c-$id
	WGC=ev${t}c$((id % 100000))
	UAPI=ev${t}s$((id % 100000))
	VS=veth-s$id
	VC=veth-c$id
	NET=$2
	SRV=$NET.1
	API_PORT=$3
	API=http://127.0.0.1:$API_PORT
	KEY=0123456789abcdef0123456789abcdef$id
	SRV_PID=
	TMP=$(mktemp -d)
	trap evn_cleanup EXIT
	trap 'exit 1' INT TERM
	umask 077
}

evn_cleanup() {
	netns_cleanup
	rm -f "/var/run/wireguard/$UAPI.sock"
	rm -rf "$TMP"
}

evn_up() {
	netns_add $NS_S || need "cannot create network namespaces"
	netns_add $NS_C || need "cannot create network namespaces"
	netns_veth $NS_S $VS $SRV/24 $NS_C $VC $NET.2/24 || exit 1
}

evn_evpnd() { # POOL
	local p
	mkdir -p "$TMP/plugins"
	for p in transport-wireguard store-file api-civetweb-rest auth-bearer; do
		ln -s "$PLUGSRC/$p.so" "$TMP/plugins/"
	done
	ln -s "$B/tests/plugins/egress-echo.so" "$TMP/plugins/"
	cat >"$TMP/evpn.yaml" <<YAML
log_level: debug
plugin_dir: plugins
master_key: "$KEY"
network:
  pool: $1
  endpoint: $SRV:51820
  mtu: 1420
  ${EVN_NETWORK:-}
plugins:
  transport:
    use: wireguard
    config:
      listen: "$SRV:51820"
      uapi_name: $UAPI
      ${EVN_TRANSPORT:-}
  egress:
    use: echo
  store:
    use: file
    config:
      dir: $TMP/state
  api:
    use: civetweb-rest
    config:
      listen: "127.0.0.1:$API_PORT"
  auth:
    use: bearer
YAML
	"$EVPND" keygen -c "$TMP/evpn.yaml" >"$TMP/keygen.log" 2>&1 ||
		{ cat "$TMP/keygen.log"; exit 1; }
	ip netns exec $NS_S "$EVPND" run -c "$TMP/evpn.yaml" >"$TMP/evpnd.log" 2>&1 &
	SRV_PID=$!
	netns_track $SRV_PID
	wait_log "$TMP/evpnd.log" "ready:" $SRV_PID ||
		{ cat "$TMP/evpnd.log"; echo "FAIL: evpnd did not start"; exit 1; }
}

# api METHOD PATH [JSON]: the REST API with the master key, from the server
# namespace.
api() {
	ip netns exec $NS_S curl -sS -X "$1" -H "Authorization: Bearer $KEY" \
		-H 'Content-Type: application/json' ${3:+-d "$3"} "$API$2"
}
# json EXPR: EXPR (`["address"]`, `.get("rx_bytes", 0)`) of the JSON on stdin
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
# cping ARGS...: ping from the client namespace, quietly
cping() { ip netns exec $NS_C ping "$@" >/dev/null 2>&1; }
# cping_until ADDR: ping ADDR from the client until it answers, at most 8
# tries of 2 s (wireguard-go tries a handshake again every 5 s).
cping_until() {
	local _
	for _ in 1 2 3 4 5 6 7 8; do
		cping -c 1 -W 2 "$1" && return 0
	done
	return 1
}
# metric 'name{labels}': its value in GET /metrics now (0 when absent)
metric() {
	api GET /metrics | awk -v m="$1" '$1 == m {print $2; f=1} END {if (!f) print 0}'
}

# evn_user ID: a client key pair ($TMP/c.key, $CPUB) and the user ID with
# its public key, made through the API: the answer in $TMP/ID.json, its
# config in $TMP/ID.conf, and from them ADDR (the client's address), UKEY
# (the user's API key), SPUB (the server's public key) and EP (the
# endpoint).
evn_user() {
	wg genkey >"$TMP/c.key"
	CPUB=$(wg pubkey <"$TMP/c.key")
	api POST /users "{\"client_id\":\"$1\",\"public_key\":\"$CPUB\"}" >"$TMP/$1.json"
	ADDR=$(json '["address"]' <"$TMP/$1.json")
	# shellcheck disable=SC2034 # for the caller
	UKEY=$(json '["api_key"]' <"$TMP/$1.json")
	json '["config"]' <"$TMP/$1.json" >"$TMP/$1.conf"
	SPUB=$(awk -F' = ' '/^PublicKey/ {print $2}' "$TMP/$1.conf")
	EP=$(awk -F' = ' '/^Endpoint/ {print $2}' "$TMP/$1.conf")
}

# evn_client ROUTE: wireguard-go on $WGC in the client namespace with the
# key and address of evn_user, the server ($SPUB at $EP) as its peer, and
# ROUTE (a CIDR) through it.
evn_client() {
	wggo_start $NS_C $WGC "$TMP/wggo.log" ||
		{ echo "FAIL: wireguard-go did not start"; exit 1; }
	ip netns exec $NS_C wg set $WGC private-key "$TMP/c.key" \
		peer "$SPUB" endpoint "$EP" allowed-ips "$1" || exit 1
	ip -n $NS_C addr add "$ADDR" dev $WGC
	ip -n $NS_C link set $WGC mtu 1420 up
	ip -n $NS_C route add "$1" dev $WGC
}
