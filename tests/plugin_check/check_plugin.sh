#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# evpn-plugin-check against one first-party plugin ($CHECK_PLUGIN, e.g.
# store-file), with the config that plugin needs to run here: a temporary
# directory, the SSM test server on loopback, a network namespace for the
# TUN egress. The checker prints one line per check; any FAIL fails this.
set -u
B=${EVPN_BUILD_DIR:?} S=${EVPN_SOURCE_DIR:?}
. "$S/tests/lib/check.sh"
P=${CHECK_PLUGIN:?}
CHECK=$B/evpn-plugin-check
SO=$B/plugins/$P.so
need_built "$CHECK" "$SO"
T=$(mktemp -d /tmp/evpn-plugin-check.XXXXXX)
srv=
cleanup() {
	if [ -n "$srv" ]; then
		kill "$srv" 2>/dev/null
		wait "$srv" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
kind=${P%%-*}
args=()

case $P in
store-file)
	echo "dir: $T/var" >"$T/config.yaml"
	;;
store-ssm)
	PY=/usr/bin/python3 # Debian's python: it has python3-botocore
	$PY -c 'import botocore.auth' 2>/dev/null || need "python3-botocore"
	for v in $(env | sed -n 's/^\(AWS_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
	export AWS_EC2_METADATA_DISABLED=true HOME=$T
	export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
	export AWS_ACCESS_KEY_ID=AKIDEVPNTEST0001
	export AWS_SECRET_ACCESS_KEY='evpn/test+secret/key0000000000000000000'
	$PY "$S/tests/ssm/ssm_server.py" --port-file "$T/port" --quiet \
		--static-key "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" 2>"$T/server.log" &
	srv=$!
	for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.1; done
	[ -s "$T/port" ] || { echo "FAIL: SSM test server did not start"; cat "$T/server.log"; exit 1; }
	printf 'endpoint: http://127.0.0.1:%s\nretry_base_delay: 10ms\n' "$(cat "$T/port")" >"$T/config.yaml"
	;;
auth-bearer)
	printf 'max_failures: 5\nwindow: 60s\nlockout: 60s\n' >"$T/config.yaml"
	;;
egress-slirp)
	echo "{}" >"$T/config.yaml"
	echo "allow_loopback: true" >"$T/reach.yaml"
	args=(--reach-config "$T/reach.yaml")
	;;
egress-raw-socket)
	# A TUN device: root, and a network namespace of its own so that the
	# host's network is never touched.
	[ "$(id -u)" = 0 ] || need "root (TUN device)"
	[ -c /dev/net/tun ] || need "/dev/net/tun"
	command -v unshare >/dev/null || need "unshare"
	# Reach: UDP/TCP servers on the device's own address (the kernel
	# does not route a TUN's packets to 127.0.0.1), opened with `allow`.
	printf 'device: evpnchk%s\n' $$ >"$T/config.yaml"
	printf 'device: evpnchk%s\nallow: [10.77.0.1/32]\n' $$ >"$T/reach.yaml"
	args=(--reach-config "$T/reach.yaml" --reach-address 10.77.0.1)
	;;
transport-wireguard)
	printf 'listen: "127.0.0.1:0"\nuapi_name: ""\n' >"$T/config.yaml"
	;;
api-civetweb-rest)
	printf 'listen: "127.0.0.1:0"\nthreads: 2\n' >"$T/config.yaml"
	;;
*)
	echo "FAIL: no recipe for plugin $P"
	exit 1
	;;
esac

run=("$CHECK" "${args[@]}" "$kind" "$SO" "$T/config.yaml")
# The TUN device lives and dies with a network namespace of the checker's
# own (loopback up for the refusal servers).
[ "$P" = egress-raw-socket ] &&
	run=(unshare -n sh -c 'ip link set lo up && exec "$@"' sh "${run[@]}")
"${run[@]}" >"$T/out" 2>"$T/err"
rc=$?
cat "$T/out"
if [ $rc -ne 0 ] || grep -q '^FAIL' "$T/out" || ! tail -1 "$T/out" | grep -q ' 0 failed'; then
	echo "FAIL: evpn-plugin-check $kind $P exited $rc"
	sed 's/^/    /' "$T/err"
	exit 1
fi
exit 0
