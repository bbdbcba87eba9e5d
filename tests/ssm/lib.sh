# SPDX-License-Identifier: MIT
# Shared helpers of the ssm script tests: start/stop the SSM test server on
# a free loopback port (the server binds port 0 and reports it), drive its
# side channel, and run the store through ssm_driver. Sourced, not run.

set -euo pipefail

: "${EVPN_BUILD_DIR:?EVPN_BUILD_DIR not set (run through ctest)}"
: "${EVPN_SOURCE_DIR:?EVPN_SOURCE_DIR not set (run through ctest)}"

SSM_DIR="$EVPN_SOURCE_DIR/tests/ssm"
PY=/usr/bin/python3 # Debian's python: it has python3-botocore
DRIVER="$EVPN_BUILD_DIR/tests/ssm_driver"
PLUGIN="$EVPN_BUILD_DIR/plugins/store-ssm.so"
TMP=$(mktemp -d /tmp/evpn-ssm-test.XXXXXX)
SERVER_PID=
FAILS=0

# A missing prerequisite skips outside CI and fails in CI.
need() {
	if ! eval "$1" >/dev/null 2>&1; then
		if [ -n "${CI:-}" ]; then
			echo "FAIL: missing prerequisite: $2" >&2
			exit 1
		fi
		echo "SKIP: missing prerequisite: $2" >&2
		exit 77
	fi
}

need "$PY -c 'import botocore.auth'" "python3-botocore (apt-get install python3-botocore)"
[ -x "$DRIVER" ] && [ -f "$PLUGIN" ] || { echo "FAIL: build ssm_driver and plugin-store-ssm first" >&2; exit 1; }

cleanup() {
	if [ -n "$SERVER_PID" ]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

# Test credentials: never real ones. Scrub anything AWS-ish from the
# caller's environment so no test can reach a real account or
# 169.254.x (IMDS is disabled unless a test points it at the server).
for v in $(env | sed -n 's/^\(AWS_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
export AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export HOME="$TMP"
TEST_AK=AKIDEVPNTEST0001
TEST_SK='evpn/test+secret/key0000000000000000000'

start_server() {
	rm -f "$TMP/port"
	$PY "$SSM_DIR/ssm_server.py" --port-file "$TMP/port" --quiet \
		--static-key "$TEST_AK:$TEST_SK" "$@" 2>>"$TMP/server.log" &
	SERVER_PID=$!
	for _ in $(seq 100); do
		[ -s "$TMP/port" ] && break
		kill -0 "$SERVER_PID" 2>/dev/null || { cat "$TMP/server.log" >&2; exit 1; }
		sleep 0.1
	done
	[ -s "$TMP/port" ] || { echo "FAIL: test server did not start" >&2; exit 1; }
	PORT=$(cat "$TMP/port")
	URL="http://127.0.0.1:$PORT"
}

stop_server() {
	kill "$SERVER_PID" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

ctl() { # ctl faults '{"throttle": 2}'
	curl -sf -X POST --data "${2:-{\}}" "$URL/_test/$1" >/dev/null
}

stat() { # stat KEY -> number (0 when absent)
	curl -sf "$URL/_test/stats" | $PY -c "import json,sys; print(json.load(sys.stdin).get('$1', 0))"
}

dump_get() { # dump_get NAME FIELD
	curl -sf "$URL/_test/dump" | $PY -c "import json,sys; print(json.load(sys.stdin).get('$1', {}).get('$2', 'ABSENT'))"
}

with_env_creds() {
	export AWS_ACCESS_KEY_ID=$TEST_AK AWS_SECRET_ACCESS_KEY=$TEST_SK
}

drv() { # run the driver; stdout to $TMP/out, stderr to $TMP/err; returns its status
	local rc=0
	"$DRIVER" "$PLUGIN" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	cat "$TMP/err" >>"$TMP/all-stderr"
	return $rc
}

check() { # check "description" EXPECTED_STATUS cmd...
	local what=$1 want=$2 rc=0
	shift 2
	"$@" || rc=$?
	if [ "$rc" = "$want" ]; then
		echo "ok   - $what"
	else
		echo "FAIL - $what: status $rc, expected $want" >&2
		[ -f "$TMP/err" ] && sed 's/^/       /' "$TMP/err" >&2
		FAILS=$((FAILS + 1))
	fi
}

assert_eq() { # assert_eq "description" GOT WANT
	if [ "$2" = "$3" ]; then
		echo "ok   - $1"
	else
		echo "FAIL - $1: got '$2', want '$3'" >&2
		FAILS=$((FAILS + 1))
	fi
}

assert_ge() { # assert_ge "description" GOT MIN
	if [ "$2" -ge "$3" ]; then
		echo "ok   - $1 ($2)"
	else
		echo "FAIL - $1: got $2, want >= $3" >&2
		FAILS=$((FAILS + 1))
	fi
}

assert_grep() { # assert_grep "description" PATTERN FILE
	if grep -q -- "$2" "$3"; then
		echo "ok   - $1"
	else
		echo "FAIL - $1: no '$2' in $(basename "$3")" >&2
		FAILS=$((FAILS + 1))
	fi
}

finish() {
	if [ "$FAILS" -ne 0 ]; then
		echo "$FAILS check(s) failed" >&2
		[ -f "$TMP/server.log" ] && tail -20 "$TMP/server.log" >&2
		exit 1
	fi
	echo "all checks passed"
}

# ---- evpnd helpers (need $TMP/evpn.yaml and EVPN_MASTER_KEY)
EVPND="$EVPN_BUILD_DIR/evpnd"
PIDS=()
start_daemon() { # start_daemon NAME -> sets API_<NAME>
	"$EVPND" run -c "$TMP/evpn.yaml" >"$TMP/$1.log" 2>&1 &
	PIDS+=($!)
	eval "PID_$1=$!"
	for _ in $(seq 100); do
		u=$(grep -so "listening on http://127.0.0.1:[0-9]*" "$TMP/$1.log" | head -1 | cut -d' ' -f3 || true)
		[ -n "$u" ] && curl -sf "$u/health" >/dev/null && { eval "API_$1=$u"; return 0; }
		sleep 0.1
	done
	cat "$TMP/$1.log" >&2
	echo "FAIL: evpnd $1 did not start" >&2
	exit 1
}
stop_daemons() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; done
	PIDS=()
}
trap 'stop_daemons; cleanup' EXIT
api() { # api URL METHOD PATH [BODY] -> status; body in $TMP/body
	curl -s -o "$TMP/body" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $EVPN_MASTER_KEY" \
		-H "Content-Type: application/json" ${4:+--data "$4"} "$1$3"
}

