#!/usr/bin/env bash
# The file store inside evpnd: one-shot commands, the daemon's exclusive
# lock (a second daemon fails clearly, one-shots work next to it), lock
# release on SIGTERM and on SIGKILL, permissions, a bad `lock` value.
set -euo pipefail

evpnd=${EVPN_BUILD_DIR:?}/evpnd
plugins=$EVPN_BUILD_DIR/plugins
[[ -x $evpnd ]] || { echo "missing $evpnd"; exit 1; }
[[ -f $plugins/store-file.so ]] || { echo "missing $plugins/store-file.so"; exit 1; }

tmp=$(mktemp -d)
pid=
cleanup() {
	if [[ -n $pid ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

state=$tmp/state/var
write_config() { # $1: extra store config
	cat >"$tmp/evpn.yaml" <<YAML
log_level: debug
plugin_dir: $plugins
network:
  pool: 10.77.0.0/16
  endpoint: 127.0.0.1:51820
plugins:
  store: { use: file, config: { dir: "$state" $1 } }
YAML
}
start_daemon() {
	"$evpnd" run -c "$tmp/evpn.yaml" >"$tmp/run.log" 2>&1 &
	pid=$!
	for _ in $(seq 100); do
		grep -q "ready" "$tmp/run.log" && return 0
		kill -0 "$pid" 2>/dev/null || { cat "$tmp/run.log"; fail "daemon died"; }
		sleep 0.1
	done
	cat "$tmp/run.log"
	fail "daemon not ready"
}
mode() { stat -c %a "$1"; }

write_config ""
pub=$("$evpnd" keygen -c "$tmp/evpn.yaml" 2>"$tmp/keygen.log") ||
	{ cat "$tmp/keygen.log"; fail "keygen"; }
[[ $pub =~ ^[A-Za-z0-9+/]{43}=$ ]] || fail "keygen printed '$pub'"
[[ $(mode "$state") == 700 ]] || fail "state dir mode $(mode "$state")"
[[ $(mode "$state/wg") == 700 ]] || fail "wg dir mode"
[[ $(mode "$state/wg/server-private-key") == 600 ]] || fail "key file mode"
[[ $(<"$state/wg/server-public-key") == "$pub" ]] || fail "public key file"
grep -rqF "$(<"$state/wg/server-private-key")" "$tmp/keygen.log" &&
	fail "the private key was logged"

start_daemon
echo "daemon $pid running"
# A second daemon: refused, naming the directory.
if "$evpnd" run -c "$tmp/evpn.yaml" >"$tmp/second.log" 2>&1; then
	fail "a second daemon started on the same directory"
fi
grep -q "locked" "$tmp/second.log" || { cat "$tmp/second.log"; fail "no 'locked' message"; }
grep -qF "$state" "$tmp/second.log" || fail "the message does not name $state"
grep -q "pid $pid" "$tmp/second.log" || fail "the message does not name pid $pid"
# One-shot commands work next to it.
k1=$("$evpnd" master-key -c "$tmp/evpn.yaml" 2>/dev/null) || fail "master-key while running"
k2=$("$evpnd" master-key -c "$tmp/evpn.yaml" 2>/dev/null) || fail "master-key again"
[[ -n $k1 && $k1 == "$k2" ]] || fail "master-key changed: '$k1' '$k2'"
[[ $("$evpnd" keygen -c "$tmp/evpn.yaml" 2>/dev/null) == "$pub" ]] || fail "keygen while running"
kill -TERM "$pid"
wait "$pid" || fail "daemon exit status $?"
pid=

# The lock went with the daemon, also when it is killed.
start_daemon
kill -KILL "$pid"
wait "$pid" || true
pid=
chmod 0755 "$state"
start_daemon
grep -q "tightening it to 0700" "$tmp/run.log" || fail "no warning about mode 0755"
[[ $(mode "$state") == 700 ]] || fail "mode not tightened"
kill -TERM "$pid"
wait "$pid" || fail "daemon exit status $?"
pid=
[[ $("$evpnd" master-key -c "$tmp/evpn.yaml" 2>/dev/null) == "$k1" ]] || fail "master key lost"

# A bad lock mode is one clear error.
write_config ", lock: sometimes"
if "$evpnd" run -c "$tmp/evpn.yaml" >"$tmp/bad.log" 2>&1; then
	fail "started with lock: sometimes"
fi
grep -q "exclusive, shared, none" "$tmp/bad.log" || { cat "$tmp/bad.log"; fail "no clear message for a bad lock"; }
echo "ok: evpnd with store file"
