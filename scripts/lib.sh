# Shared by scripts/*: dependency installation and the build.
# shellcheck shell=bash

EVPN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# Debian 12 packages: to build, to run, and to test against real peers.
EVPN_BUILD_PKGS=(build-essential cmake pkg-config clang libclang-rt-14-dev clang-format
	libsodium-dev libb2-dev libev-dev libyaml-dev libcivetweb-dev
	libcurl4-openssl-dev libslirp-dev libglib2.0-dev libjansson-dev
	libqrencode-dev libpng-dev libcmocka-dev libssl-dev)
EVPN_RUN_PKGS=(curl ca-certificates wireguard-tools)
# What `evpnctl connect` needs on a client: wg-quick (wireguard-tools), a
# WireGuard implementation where the kernel has none (wireguard-go), the
# firewall tool wg-quick calls for a full-tunnel config (iptables; its
# ip6tables-restore too) and resolvconf for the config's DNS line.
EVPN_CLIENT_PKGS=(wireguard-tools wireguard-go iptables openresolv iproute2)
# The tests' own tools (bc: test_shared_store.sh's timings; binutils:
# readelf for the plugin checks; chromium + chromium-driver: the web
# console's browser test, tests/console).
EVPN_TEST_PKGS=(python3 python3-botocore awscli iproute2
	iputils-ping iperf3 wrk dnsmasq-base dnsutils procps psmisc util-linux
	nodejs:node npm:npm jq netcat-openbsd tcpdump zbar-tools bc binutils
	coreutils findutils chromium chromium-driver nftables stunnel4 tinyproxy)
# The benchmarks' references and clients (scripts/bench-egress, bench-tunnel).
EVPN_BENCH_PKGS=(iperf3 slirp4netns wireguard-go wireguard-tools iproute2
	util-linux curl python3 build-essential)

# evpn_install_pkgs PKG...: apt-get install whatever is missing (needs root).
evpn_install_pkgs() {
	# "pkg:cmd" means: skip when cmd is already on PATH (node and npm may
	# come from another source, such as NodeSource, that conflicts with
	# Debian's packages).
	local missing=() p cmd
	for p in "$@"; do
		if [[ $p == *:* ]]; then
			cmd=${p#*:}
			p=${p%%:*}
			command -v "$cmd" >/dev/null && continue
		fi
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
			missing+=("$p")
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	echo "evpn: installing ${missing[*]}" >&2
	local sudo=
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null || {
			echo "evpn: missing packages (${missing[*]}) and not root; install them first" >&2
			return 1
		}
		sudo=sudo
	fi
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -qq >/dev/null || return 1
	$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || return 1
}

# evpn_build DIR [cmake args...]: configure and build into DIR.
evpn_build() {
	local dir=$1
	shift
	local log
	log=$(mktemp)
	if ! cmake -S "$EVPN_ROOT" -B "$dir" "$@" >"$log" 2>&1 ||
		! cmake --build "$dir" -j"$(nproc)" >>"$log" 2>&1; then
		cat "$log" >&2
		rm -f "$log"
		echo "evpn: build failed in $dir" >&2
		return 1
	fi
	rm -f "$log"
	echo "evpn: built into $dir" >&2
}
