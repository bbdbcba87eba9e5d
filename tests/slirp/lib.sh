# The set-up shared by the slirp tests (sourced; bash; after tests/lib/
# netns.sh and tests/lib/check.sh). Three namespaces, all made here:
#   client (NS_C) - a TUN device that evpnd's test transport "tuntest"
#                   reads and writes, default route into it
#   server (NS_S) - evpnd as nobody with no capabilities (file store,
#                   egress slirp, transport tuntest, API + bearer auth);
#                   veth $SRV/24 to the hosts namespace
#   hosts  (NS_H) - $HOST: the "internet" slirp's host sockets reach
#
# sl_init TAG API_PORT   names, scratch dir $TMP, clean-up on exit
# sl_up                  the namespaces (skips when they cannot be made)
# sl_evpnd               evpnd started (env SL_POOL6, SL_EGRESS_CONFIG,
#                        SL_API_LISTEN), the TUN moved to the client
# sl_www                 the files the hosts namespace serves, its DNS
# sl_http_wait           until $HOST:8080 accepts
# sl_download_check DESC the 50 MB download with its sha256 (a check)
# sl_refused URL         refused at once; sl_refusals: what the
#                        destination policy refuses (checks)
# sl_dns_checks WHAT     DNS over UDP and TCP through slirp (checks)
# sl_flow_limit          max_flows_per_peer 20 (a check)
# sl_finish              the evpnd log and metrics on failure; exit
# shellcheck shell=bash

sl_init() { # TAG API_PORT
	local id=$$ t=$1
	[ "$(id -u)" = 0 ] || need "needs root (network namespaces)"
	[ -c /dev/net/tun ] || need "missing /dev/net/tun"
	command -v unshare >/dev/null || need "missing unshare"
	PY=/usr/bin/python3
	[ -x $PY ] || need "missing $PY"
	EVPND=$B/evpnd
	TT=$B/tests/plugins/transport-tuntest.so
	need_built "$EVPND" "$TT" "$B/plugins/egress-slirp.so" \
		"$B/plugins/store-file.so" "$B/plugins/api-civetweb-rest.so" \
		"$B/plugins/auth-bearer.so"
	NS_C=ev$t-c-$id
	NS_S=ev$t-s-$id
	NS_H=ev$t-h-$id
	TUN=ev${t}tun$((id % 100000))
	VS=ev${t}S$((id % 100000))
	VH=ev${t}H$((id % 100000))
	SRV=192.168.79.1
	HOST=192.168.79.2
	API_PORT=$2
	TMP=$(mktemp -d)
	trap 'netns_cleanup; rm -rf "$TMP"' EXIT
	trap 'exit 1' INT TERM
}
inC() { ip netns exec $NS_C "$@"; }
inS() { ip netns exec $NS_S "$@"; }
inH() { ip netns exec $NS_H "$@"; }

sl_up() {
	netns_add $NS_C || need "cannot create network namespaces"
	netns_add $NS_S || exit 1
	netns_add $NS_H || exit 1
	netns_veth $NS_S $VS $SRV/24 $NS_H $VH $HOST/24 || exit 1
	# libslirp pings through unprivileged ICMP sockets
	inS sysctl -qw net.ipv4.ping_group_range="0 2147483647" || exit 1
	netns_resolv $NS_S "nameserver $HOST"
	netns_resolv $NS_C "nameserver 10.77.0.1"
}

sl_evpnd() {
	local ecfg=${SL_EGRESS_CONFIG:-"{}"}
	# The TUN is made by root for nobody, in the server namespace (where
	# evpnd attaches to it by name), then moved to the client namespace.
	# /dev/net/tun is root-only (0600) on a stock machine: root opens it
	# in the server namespace (a TUN descriptor is bound to the namespace
	# it was opened in) as descriptor 9 just before dropping to nobody, and
	# evpnd inherits it ("fd: 9"); the attach needs no privilege for a
	# device nobody owns.
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
  pool6: "${SL_POOL6:-}"
  endpoint: 127.0.0.1:51820
  dns: [10.77.0.1]
  mtu: 1420
plugins:
  transport: { use: $TT, config: { device: $TUN, fd: 9 } }
  egress: { use: slirp, config: $ecfg }
  store: { use: file, config: { dir: "$TMP/state" } }
  api: { use: civetweb-rest, config: { listen: "${SL_API_LISTEN:-127.0.0.1}:$API_PORT" } }
  auth: { use: bearer }
YAML
	chmod 644 "$TMP/evpn.yaml"
	# shellcheck disable=SC2016 # expanded by the inner shell
	ip netns exec $NS_S bash -c 'exec 9<>/dev/net/tun && exec "$@"' sl_evpnd \
		setpriv --reuid=nobody --regid=nogroup --clear-groups \
		--inh-caps=-all --bounding-set=-all "$EVPND" run -c "$TMP/evpn.yaml" \
		>"$TMP/evpnd.log" 2>&1 &
	EVPND_PID=$!
	netns_track $EVPND_PID
	if ! wait_log "$TMP/evpnd.log" ready $EVPND_PID 100; then
		cat "$TMP/evpnd.log"
		echo "FAIL - evpnd did not start"
		exit 1
	fi
	ip -n $NS_S link set $TUN netns $NS_C || exit 1
	inC ip addr add 10.77.0.2/16 dev $TUN
	inC ip link set $TUN mtu 1420 txqueuelen 2000 up
	inC ip route add default dev $TUN
}

# sl_www: $TMP/www with big.bin (50 MB) and small.txt for an HTTP server
# on $HOST:8080 (the caller starts the one it needs), and a DNS server
# answering www.evpn.test with $HOST.
sl_www() {
	mkdir -p "$TMP/www"
	head -c 50M /dev/urandom >"$TMP/www/big.bin"
	echo "hello from the hosts namespace" >"$TMP/www/small.txt"
	netns_dnsmasq $NS_H $HOST www.evpn.test "$TMP"
}

sl_http_wait() {
	for _ in $(seq 50); do
		inH sh -c "exec 3<>/dev/tcp/$HOST/8080" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# sl_download_check DESC: the client fetches big.bin; its sha256 matches.
sl_download_check() {
	local want got
	want=$(sha256sum <"$TMP/www/big.bin" | cut -d' ' -f1)
	inC curl -sS -m 120 -o "$TMP/got.bin" http://$HOST:8080/big.bin
	got=$(sha256sum <"$TMP/got.bin" 2>/dev/null | cut -d' ' -f1)
	check "$1, sha256 matches" test "$want" = "$got"
}

# sl_refused URL: the client's request to URL is refused at once (RST),
# not a hang.
sl_refused() { refused_fast $NS_C "$1" "$TMP/curl.err"; }

# sl_refusals: the cloud metadata address, the API's own address and the
# server namespace's loopback through the gateway address are refused.
sl_refusals() {
	check "cloud metadata 169.254.169.254 refused at once (TCP RST)" \
		sl_refused http://169.254.169.254/latest/meta-data/
	check "the API's own address refused at once" \
		sl_refused http://$SRV:$API_PORT/health
	check "127.0.0.1 via the gateway address refused at once" \
		sl_refused http://10.77.0.1:18080/small.txt
}

# sl_dns_checks WHAT: www.evpn.test resolved over UDP and TCP by slirp's
# forwarder at 10.77.0.1 (WHAT: how the check names it).
sl_dns_checks() {
	local a
	a=$(inC dig +short +time=3 +tries=2 @10.77.0.1 www.evpn.test A)
	check "DNS over UDP $1 ($a)" test "$a" = "$HOST"
	a=$(inC dig +short +tcp +time=3 +tries=2 @10.77.0.1 www.evpn.test A)
	check "DNS over TCP $1 ($a)" test "$a" = "$HOST"
}

# sl_flow_limit: one client address (10.77.2.1) holds 20 TCP connections
# to $HOST:8080 (max_flows_per_peer: 20); the 21st is refused at once, and
# the 20 still work.
sl_flow_limit() {
	local rc
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
# each answer up to its end (HTTP/1.0: the server closes)
ok = sum(b"hello from the hosts namespace" in h.makefile("rb").read()
         for h in held)
print("%d/20 held connections answered" % ok)
sys.exit(0 if ok == 20 else 1)
PYEOF
	rc=$? # before the $(...) below, which sets $? again
	check "max_flows_per_peer: a new flow refused at once, held ones work ($(tail -1 "$TMP/limit.log"))" \
		test $rc = 0
}

# sl_finish: evpnd still running (a check); on any failure the tail of its
# log and the egress metrics; exits with the result.
sl_finish() {
	check "evpnd still running" kill -0 $EVPND_PID
	if [ $fail != 0 ]; then
		echo "--- evpnd log (tail)"
		tail -40 "$TMP/evpnd.log"
		echo "--- metrics"
		grep evpn_egress "$TMP/metrics"
	fi
	exit $fail
}

# sl_forty PREFIX "ADDR-SUFFIX" URL: 40 more client addresses (PREFIX1 ..
# PREFIX40, e.g. "10.77.1." "/16") fetch URL (small.txt) at once - more
# clients than slirp's 16-entry ARP/NDP tables. Sets SL_OK to how many got
# it right.
sl_forty() {
	local i p cpids=()
	for i in $(seq 1 40); do
		# shellcheck disable=SC2086 # the suffix may carry "nodad"
		inC ip addr add $1$i$2 dev $TUN
	done
	for i in $(seq 1 40); do
		ip netns exec $NS_C curl -sS -m 30 --interface $1$i -o "$TMP/c$i.txt" \
			"$3" 2>"$TMP/c$i.err" &
		cpids+=($!)
	done
	for p in "${cpids[@]}"; do wait "$p"; done
	SL_OK=0
	for i in $(seq 1 40); do
		cmp -s "$TMP/c$i.txt" "$TMP/www/small.txt" && SL_OK=$((SL_OK + 1))
	done
}

# sl_fetch_metrics: GET /metrics from evpnd into $TMP/metrics, which
# metric NAME{LABELS} reads (0 when absent).
sl_fetch_metrics() {
	inS curl -sS -m 5 -H "Authorization: Bearer $MK" \
		http://127.0.0.1:$API_PORT/metrics >"$TMP/metrics" 2>&1
}
metric() { metric_in "$TMP/metrics" "$1"; }
