#!/bin/sh
# evpn container entrypoint: validate the configuration, then become evpnd
# (exec: evpnd replaces the shell and gets SIGTERM itself).
#   run (default)   evpnd check-config, then exec evpnd run
#   keygen          the one-shot: evpnd keygen (keygen config from
#                   $EVPN_KEYGEN_CONFIG, the JSON text, when set)
#   anything else   passed to evpnd with -c CONFIG
set -eu

EVPND="${EVPND:-/opt/evpn/build/evpnd}"
CONFIG="${EVPN_CONFIG:-/opt/evpn/etc/evpn.yaml}"

cmd="${1:-run}"
[ "$#" -gt 0 ] && shift

check_config() {
	if ! "$EVPND" check-config -c "$CONFIG"; then
		echo "entrypoint: invalid configuration $CONFIG: not starting" >&2
		exit 1
	fi
}

case "$cmd" in
run)
	check_config
	exec "$EVPND" run -c "$CONFIG" "$@"
	;;
keygen)
	if [ -n "${EVPN_KEYGEN_CONFIG:-}" ]; then
		f="$(mktemp "${TMPDIR:-/tmp}/keygen-config.XXXXXX")"
		printf '%s\n' "$EVPN_KEYGEN_CONFIG" >"$f"
		EVPN_KEYGEN_CONFIG_FILE="$f"
		export EVPN_KEYGEN_CONFIG_FILE
	fi
	check_config
	exec "$EVPND" keygen -c "$CONFIG" "$@"
	;;
-* | help)
	exec "$EVPND" "$cmd" "$@"
	;;
*)
	exec "$EVPND" "$cmd" -c "$CONFIG" "$@"
	;;
esac
