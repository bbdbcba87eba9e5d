#!/usr/bin/env bash
# Two evpnd instances on one store (scale-out): a user created, disabled or
# deleted through either becomes visible on the other within the sync
# interval, without a restart or SIGHUP. The file store is shared with
# `lock: none` here; tests/ssm does the same over the SSM test server.
set -u
B=${EVPN_BUILD_DIR:?}
T=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
fails=0 passes=0
ok() { passes=$((passes + 1)); echo "ok - $*"; }
bad() { fails=$((fails + 1)); echo "not ok - $*"; }
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

export EVPN_MASTER_KEY=shared-store-master-key-0123456789
start() { # name port
	cat >"$T/$1.yaml" <<YAML
plugin_dir: $B/plugins
master_key: \${EVPN_MASTER_KEY}
network: {pool: 10.97.0.0/24}
users: {sync_interval: 1s}
plugins:
  store: {use: file, config: {dir: $T/var, lock: none}}
  api: {use: civetweb-rest, config: {listen: "127.0.0.1:$2"}}
  auth: {use: bearer}
YAML
	"$B/evpnd" run -c "$T/$1.yaml" >"$T/$1.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do curl -fs "http://127.0.0.1:$2/health" >/dev/null && return 0; sleep 0.1; done
	echo "instance $1 did not start"; cat "$T/$1.log"; exit 1
}
api() { # port method path [body]
	curl -s -o "$T/body" -w '%{http_code}' -X "$2" -H "Authorization: Bearer $EVPN_MASTER_KEY" \
		-H 'Content-Type: application/json' ${4:+-d "$4"} "http://127.0.0.1:$1$3"
}
# wait_for PORT PATH CODE: poll until GET gives CODE; prints the seconds
wait_for() {
	local t0=$(date +%s.%N) code
	for _ in $(seq 60); do
		code=$(api "$1" GET "$2")
		[ "$code" = "$3" ] && { echo "$(date +%s.%N) - $t0" | bc; return 0; }
		sleep 0.1
	done
	return 1
}
PA=$(port) PB=$(port)
start a "$PA"
start b "$PB"

[ "$(api "$PA" POST /users '{"client_id":"carol"}')" = 201 ] && ok "created on A" || bad "create on A"
if dt=$(wait_for "$PB" /users/carol 200); then ok "visible on B after ${dt}s"; else bad "not visible on B"; fi
[ "$(api "$PB" PATCH /users/carol '{"status":"inactive"}')" = 200 ] && ok "disabled on B" || bad "disable on B"
for _ in $(seq 60); do
	api "$PA" GET /users/carol >/dev/null
	grep -q '"inactive"' "$T/body" && break
	sleep 0.1
done
grep -q '"inactive"' "$T/body" && ok "inactive on A" || bad "status not synced to A"
[ "$(api "$PB" DELETE /users/carol)" = 204 ] && ok "deleted on B" || bad "delete on B"
if dt=$(wait_for "$PA" /users/carol 404); then ok "gone on A after ${dt}s"; else bad "still on A"; fi
# both create at once: distinct addresses, both visible on both
api "$PA" POST /users '{"client_id":"d1"}' >/dev/null &
c1=$!
api "$PB" POST /users '{"client_id":"d2"}' >/dev/null &
c2=$!
wait "$c1" "$c2"
sleep 2.5
a1=$(api "$PA" GET /users/d2 >/dev/null; python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["address"])' "$T/body" 2>/dev/null)
a2=$(api "$PB" GET /users/d1 >/dev/null; python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["address"])' "$T/body" 2>/dev/null)
[ -n "$a1" ] && [ -n "$a2" ] && [ "$a1" != "$a2" ] && ok "concurrent creates on both: $a1, $a2, each seen by the other" ||
	bad "concurrent creates: '$a1' '$a2'"
# a record's split tunnel and quota are kept per instance after a GET
# (not resident; a change of them moves no change marker): the instance
# that changes them shows them at once, the other within the sync interval
api "$PB" GET /users/d1 >/dev/null
extras() { python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); print(j.get("allowed_ips"), j.get("quota"))' "$T/body" 2>/dev/null; }
want="['10.0.0.0/8'] 5000000"
[ "$(api "$PA" PATCH /users/d1 '{"allowed_ips":"10.0.0.0/8","quota":"5MB"}')" = 200 ] &&
	ok "split tunnel and quota set on A" || bad "PATCH on A: $(cat "$T/body")"
api "$PA" GET /users/d1 >/dev/null
[ "$(extras)" = "$want" ] && ok "A shows them at once" || bad "A shows $(extras)"
t0=$(date +%s.%N) got=""
for _ in $(seq 50); do
	api "$PB" GET /users/d1 >/dev/null
	got=$(extras)
	[ "$got" = "$want" ] && break
	sleep 0.1
done
dt=$(echo "$(date +%s.%N) - $t0" | bc)
[ "$got" = "$want" ] && [ "$(echo "$dt < 3" | bc)" = 1 ] &&
	ok "B shows them after ${dt}s (sync interval 1 s)" || bad "B shows '$got' after ${dt}s"
# one public key, one user, across instances: the key is claimed in the
# store, so B refuses A's user's key even before B has loaded that user
K=$(python3 -c 'import base64,os; print(base64.b64encode(os.urandom(32)).decode())')
[ "$(api "$PA" POST /users "{\"client_id\":\"keyowner\",\"public_key\":\"$K\"}")" = 201 ] &&
	ok "created keyowner on A" || bad "create keyowner on A"
st=$(api "$PB" POST /users "{\"client_id\":\"mallory\",\"public_key\":\"$K\"}")
grep -q '"public_key_in_use"' "$T/body" && [ "$st" = 409 ] &&
	ok "B: the same key for mallory is 409 public_key_in_use" || bad "B: mallory with keyowner's key: $st $(cat "$T/body")"
[ "$(api "$PA" GET /users/mallory)" = 404 ] && [ "$(api "$PB" GET /users/mallory)" = 404 ] &&
	ok "mallory exists nowhere" || bad "mallory exists"
[ ! -e "$T/var/users/mallory" ] && ok "nothing of mallory stored" || bad "mallory records stored: $(ls "$T/var/users/mallory")"
api "$PA" GET /users/keyowner >/dev/null
grep -q "\"$K\"" "$T/body" && ok "keyowner keeps its key on A" || bad "keyowner changed: $(cat "$T/body")"
grep -qE "loaded [0-9]+ users? from the store index" "$T/b.log" && ok "B logged the reload" || bad "no reload logged on B"

echo "shared store: $passes passed, $fails failed"
[ "$fails" = 0 ]
