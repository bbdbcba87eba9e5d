# Network-namespace test set-up shared by the netns tests and benchmarks
# (sourced; bash). Everything made through these functions is recorded, and
# netns_cleanup takes it down again in the one safe order:
#
#   1. wireguard-go: its link first (`ip link del`: the process then leaves
#      its read loop), then the process (kill, wait until it is gone), then
#      its UAPI socket - a wireguard-go left running while its namespace is
#      deleted keeps a dead TUN device and spins;
#   2. the other background processes (netns_track), newest first;
#   3. whatever still runs in the namespaces (`ip netns pids`): TERM, then
#      KILL after a second;
#   4. the namespaces, newest first, and the /etc/netns/<ns> directories
#      that netns_resolv made.
#
# Start background processes in a namespace with `ip netns exec NS CMD... &`
# written out in the script (never through a shell function: that forks a
# subshell, and $! would be the subshell's pid, not the process's), then
# hand $! to netns_track. Callers keep their own `trap cleanup EXIT` with
# netns_cleanup in it.
# shellcheck shell=bash

NETNS_LIST=()   # namespaces netns_add made
NETNS_ETC=()    # /etc/netns/<ns> directories netns_resolv made
NETNS_PIDS=()   # background processes (netns_track)
NETNS_WGGO=()   # "ns iface pid" per wireguard-go (pid "-": unknown)
WGGO_PID=       # the wireguard-go wggo_start / wggo_spawn started last

# netns_add NAME: create namespace NAME with its loopback up, and register
# it for netns_cleanup. Fails (nothing registered) when it cannot be made.
netns_add() {
	ip netns add "$1" || return
	NETNS_LIST+=("$1")
	ip -n "$1" link set lo up
}

# netns_veth NS1 IF1 ADDR1 NS2 IF2 ADDR2: a veth pair IF1 (in NS1) <-> IF2
# (in NS2), both up; ADDRn (CIDR) is left out when empty. The pair goes
# with its namespaces.
netns_veth() {
	ip link add "$2" type veth peer name "$5" || return
	ip link set "$2" netns "$1" || return
	ip link set "$5" netns "$4" || return
	[ -z "$3" ] || ip -n "$1" addr add "$3" dev "$2" || return
	[ -z "$6" ] || ip -n "$4" addr add "$6" dev "$5" || return
	ip -n "$1" link set "$2" up && ip -n "$4" link set "$5" up
}

# netns_resolv NS CONTENT: /etc/netns/NS/resolv.conf holding CONTENT (one
# line), which `ip netns exec NS` binds over /etc/resolv.conf. Needed
# before anything resolvconf-like (wg-quick with DNS) runs in NS, or it
# rewrites the machine's own file. Removed by netns_cleanup.
netns_resolv() {
	mkdir -p "/etc/netns/$1" || return
	NETNS_ETC+=("/etc/netns/$1")
	printf '%s\n' "$2" >"/etc/netns/$1/resolv.conf"
}

# netns_track PID...: background processes for netns_cleanup to stop.
netns_track() {
	NETNS_PIDS+=("$@")
}

# netns_untrack PID: forget PID (the caller stopped it itself).
netns_untrack() {
	local p keep=()
	for p in "${NETNS_PIDS[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	NETNS_PIDS=("${keep[@]}")
}

# netns_stop PID: stop a tracked process now (kill, wait) and forget it.
netns_stop() {
	kill "$1" 2>/dev/null
	wait "$1" 2>/dev/null
	netns_untrack "$1"
}

# wait_log FILE PATTERN PID [TENTHS]: wait until FILE has a line that
# matches PATTERN (grep), at most TENTHS tenths of a second (50); gives up
# early when PID has exited. Fails when PATTERN never came.
wait_log() {
	local _
	for _ in $(seq "${4:-50}"); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || break
		sleep 0.1
	done
	grep -q "$2" "$1" 2>/dev/null
}

# wggo_spawn NS IFACE LOG: start `wireguard-go -f IFACE` in NS, output to
# LOG, without waiting for it; sets WGGO_PID. See wggo_wait.
wggo_spawn() {
	WG_I_PREFER_BUGGY_USERSPACE_TO_POLISHED_KMOD=1 \
		ip netns exec "$1" wireguard-go -f "$2" >"$3" 2>&1 &
	WGGO_PID=$!
	NETNS_WGGO+=("$1 $2 $WGGO_PID")
}

# wggo_wait IFACE [PID]: wait (up to 10 s) until wireguard-go serves
# IFACE's UAPI socket - its link exists by then and `wg set` works. Gives
# up early when PID has exited.
wggo_wait() {
	local _
	for _ in $(seq 100); do
		[ -S "/var/run/wireguard/$1.sock" ] && return 0
		[ -z "${2:-}" ] || kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# wggo_start NS IFACE LOG: wggo_spawn + wggo_wait; sets WGGO_PID. On
# failure prints LOG and returns 1.
wggo_start() {
	wggo_spawn "$@"
	wggo_wait "$2" "$WGGO_PID" && return 0
	cat "$3"
	return 1
}

# wggo_adopt NS IFACE PID: register a wireguard-go that something else
# started (wg-quick); PID may be empty when unknown (then only its link is
# deleted, and the sweep of step 3 ends the process).
wggo_adopt() {
	NETNS_WGGO+=("$1 $2 ${3:--}")
}

# wggo_stop NS IFACE PID: link first, then the process (waited for even
# when it is not our child), then its UAPI socket.
wggo_stop() {
	local _
	ip -n "$1" link del "$2" 2>/dev/null
	if [ "$3" != - ]; then
		kill "$3" 2>/dev/null
		wait "$3" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$3" 2>/dev/null || break
			sleep 0.1
		done
	fi
	rm -f "/var/run/wireguard/$2.sock"
}

# wggo_stop_all: every registered wireguard-go (wggo_stop).
wggo_stop_all() {
	local e ns ifc pid
	for e in "${NETNS_WGGO[@]}"; do
		read -r ns ifc pid <<<"$e"
		wggo_stop "$ns" "$ifc" "$pid"
	done
	NETNS_WGGO=()
}

# netns_sweep: end what still runs in the registered namespaces.
netns_sweep() {
	local n p left i
	for ((i = 0; i <= 10; i++)); do
		left=$(for n in "${NETNS_LIST[@]}"; do ip netns pids "$n"; done 2>/dev/null)
		[ -n "$left" ] || return 0
		[ $i = 10 ] && break
		# TERM at once, KILL when a second did not do
		[ $i = 0 ] && for p in $left; do kill "$p" 2>/dev/null; done
		sleep 0.1
	done
	for p in $left; do kill -9 "$p" 2>/dev/null; done
}

# netns_cleanup: take everything down, in the order above. Idempotent; for
# the caller's EXIT trap.
netns_cleanup() {
	local i
	set +e
	wggo_stop_all
	for ((i = ${#NETNS_PIDS[@]} - 1; i >= 0; i--)); do
		kill "${NETNS_PIDS[i]}" 2>/dev/null
		wait "${NETNS_PIDS[i]}" 2>/dev/null
	done
	NETNS_PIDS=()
	netns_sweep
	for ((i = ${#NETNS_LIST[@]} - 1; i >= 0; i--)); do
		ip netns del "${NETNS_LIST[i]}" 2>/dev/null
	done
	NETNS_LIST=()
	[ ${#NETNS_ETC[@]} = 0 ] || rm -rf "${NETNS_ETC[@]}"
	NETNS_ETC=()
}

# netns_dnsmasq NS ADDR NAME DIR: a test DNS server in NS on ADDR that
# answers NAME with ADDR (A or AAAA) and nothing else, logging its queries
# to DIR/dnsmasq.log; tracked for netns_cleanup.
netns_dnsmasq() {
	ip netns exec "$1" dnsmasq -k --conf-file=/dev/null --no-resolv \
		--no-hosts --listen-address="$2" --bind-interfaces --user=root \
		--address="/$3/$2" --pid-file="$4/dnsmasq.pid" \
		--log-facility="$4/dnsmasq.log" --log-queries &
	netns_track $!
}

# netns_udp_rx NS: "in-datagrams rcvbuf-errors", NS's UDP counters so far.
# netns_udp_drop_pct BEFORE AFTER: of the datagrams that reached NS's UDP
# sockets between two netns_udp_rx readings, the % dropped because the
# socket was full (its reader fell behind: that side set the rate).
netns_udp_rx() {
	ip netns exec "$1" nstat -asz UdpInDatagrams UdpRcvbufErrors 2>/dev/null |
		awk '/UdpInDatagrams/ {i = $2} /UdpRcvbufErrors/ {e = $2}
			END {print i + 0, e + 0}'
}
netns_udp_drop_pct() {
	local u0 e0 u1 e1
	read -r u0 e0 <<<"$1"
	read -r u1 e1 <<<"$2"
	awk -v d=$((e1 - e0)) -v n=$((u1 - u0)) \
		'BEGIN {printf "%.1f\n", d + n ? 100 * d / (d + n) : 0}'
}
