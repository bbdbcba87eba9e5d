#!/bin/bash
# SPDX-License-Identifier: MIT
# Two evpnd instances sharing one SSM store (the test server): concurrent
# creates through both never give two users one address (create-only
# address claims), and a user created or deleted through one becomes
# visible/gone on the other by itself within the sync interval (the users
# service polls the store's change marker; users.sync_interval: 1s here).
. "$(dirname "$0")/lib.sh"

for p in evpnd plugins/auth-bearer.so plugins/api-civetweb-rest.so; do
	[ -e "$EVPN_BUILD_DIR/$p" ] || { echo "FAIL: $p not built" >&2; exit 1; }
done
start_server --page-size 5
with_env_creds
export AWS_ENDPOINT_URL_SSM="$URL"
EVPN_MASTER_KEY="two-daemons-master-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
export EVPN_MASTER_KEY
cat >"$TMP/evpn.yaml" <<YAML
log_level: info
plugin_dir: $EVPN_BUILD_DIR/plugins
master_key: \${EVPN_MASTER_KEY:-}
network: { pool: 10.77.0.0/24, endpoint: "127.0.0.1:51820", dns: [1.1.1.1], mtu: 1420 }
users: { sync_interval: 1s }
plugins:
  store: { use: ssm, config: { prefix: /two, retry_base_delay: 20ms } }
  auth: { use: bearer, config: { max_failures: 1000 } }
  api: { use: civetweb-rest, config: { listen: "127.0.0.1:0", threads: 8 } }
YAML
start_daemon A
start_daemon B

# concurrent creates through both instances
CREATORS=()
for i in $(seq 1 12); do
	api "$API_A" POST /users "{\"client_id\":\"a$i\"}" >"$TMP/st.a$i" &
	CREATORS+=($!)
	api "$API_B" POST /users "{\"client_id\":\"b$i\"}" >"$TMP/st.b$i" &
	CREATORS+=($!)
done
wait "${CREATORS[@]}" || true
created=0
for f in "$TMP"/st.*; do [ "$(cat "$f")" = 201 ] && created=$((created + 1)); done
assert_eq "24 users created through two instances" "$created" 24
dups=$(curl -sf "$URL/_test/dump" | $PY -c '
import json, sys
d = json.load(sys.stdin)
addr = [p["Value"] for n, p in d.items() if n.startswith("/two/users/") and n.endswith("/address")]
claims = {n.rsplit("/", 1)[1]: p["Value"] for n, p in d.items() if n.startswith("/two/addresses/")}
print(len(addr) - len(set(addr)), len(addr), len(claims))')
assert_eq "no address given twice (duplicates, users, claims)" "$dups" "0 24 24"

# An instance serves the users it created (and answered 201 for) at once
# and from then on, whatever its reloads (triggered by the other
# instance's changes) listed while those creates were under way: a reload
# keeps the changes made through its own instance during its listing.
own_ok=0
for round in 1 2 3; do
	for i in $(seq 1 12); do
		[ "$(api "$API_A" GET /users/a$i)" = 200 ] && own_ok=$((own_ok + 1))
		[ "$(api "$API_B" GET /users/b$i)" = 200 ] && own_ok=$((own_ok + 1))
	done
	sleep 0.3
done
assert_eq "each instance serves its own new users throughout its reloads" "$own_ok" 72

# one public key, one user, across instances (the key is claimed in the
# store like an address)
K=$(api "$API_A" GET /users/a1 >/dev/null; $PY -c "import json; print(json.load(open('$TMP/body'))['public_key'])")
st=$(api "$API_B" POST /users "{\"client_id\":\"mallory\",\"public_key\":\"$K\"}")
code=$($PY -c "import json; print(json.load(open('$TMP/body')).get('code'))")
assert_eq "B refuses a1's public key for another user" "$st $code" "409 public_key_in_use"
n=$(curl -sf "$URL/_test/dump" | $PY -c '
import json, sys
print(sum(1 for n in json.load(sys.stdin) if n.startswith("/two/users/mallory/")))')
assert_eq "nothing of that user stored" "$n" 0

# visibility on the other instance after a reload (each instance serves
# from its in-memory copy until it reloads)
st=$(api "$API_B" GET /users/a7)
echo "info - before any reload, B answers $st for a user created on A"
# poll: a reload is asynchronous (at most 10 s)
wait_status() { # wait_status WANT URL PATH -> last status
	local st
	for _ in $(seq 100); do
		st=$(api "$2" GET "$3")
		[ "$st" = "$1" ] && break
		sleep 0.1
	done
	echo "$st"
}
st=$(wait_status 200 "$API_B" /users/a7)
assert_eq "user created on A is visible on B without a reload" "$st" 200
wait_status 200 "$API_A" /users/b3 >/dev/null
st=$(api "$API_A" DELETE /users/b3)
assert_eq "delete on A of a user created on B" "$st" 204
st=$(wait_status 404 "$API_B" /users/b3)
assert_eq "deleted user gone on B by itself" "$st" 404
st=$(api "$API_B" GET /users)
n=$($PY -c "import json; print(len(json.load(open('$TMP/body'))))")
assert_eq "B lists the 23 remaining users" "$n" 23

# one-time links across instances: made on A, spent on B, then gone on
# A too; two GETs at once, one on each instance: exactly one config
link_path() { $PY -c "import json,re; print(re.sub(r'^http://[^/]+', '', json.load(open('$TMP/body'))['url']))"; }
st=$(api "$API_A" POST /users/a2/links)
assert_eq "link made on A" "$st" 201
L=$(link_path)
assert_eq "link spent on B" "$(curl -s -o /dev/null -w '%{http_code}' "$API_B$L")" 200
assert_eq "then gone on A" "$(curl -s -o /dev/null -w '%{http_code}' "$API_A$L")" 410
for round in 1 2 3; do
	api "$API_B" POST /users/a3/links >/dev/null
	L=$(link_path)
	curl -s -o /dev/null -w '%{http_code}\n' "$API_A$L" >"$TMP/race.a" &
	pa=$!
	curl -s -o /dev/null -w '%{http_code}\n' "$API_B$L" >"$TMP/race.b" &
	pb=$!
	wait "$pa" "$pb"
	assert_eq "race $round: one config, one 410" "$(sort "$TMP/race.a" "$TMP/race.b" | tr '\n' ' ')" "200 410 "
done
# quota state is the store's: set on A, seen on B at once; a reset on B
# shows on A
st=$(api "$API_A" PATCH /users/a4 '{"quota":"5MB"}')
assert_eq "quota set on A" "$st" 200
api "$API_B" GET /users/a4 >/dev/null
assert_eq "B shows the quota and usage" \
	"$($PY -c "import json; j=json.load(open('$TMP/body')); print(j.get('quota'), j.get('used_bytes'))")" "5000000 0"
assert_eq "reset on B" "$(api "$API_B" PATCH /users/a4 '{"reset_usage":true}')" 200
# a rate limit is resident (the transport needs it with the peer): set on
# A, B has it after its next sync, and so would B's live peer
st=$(api "$API_A" PATCH /users/a5 '{"rate_limit":"20mbit"}')
assert_eq "rate limit set on A" "$st" 200
rate_records() {
	curl -sf "$URL/_test/dump" | $PY -c '
import json, sys
print(sum(1 for n in json.load(sys.stdin) if n == "/two/users/a5/rate-limit"))'
}
assert_eq "stored in SSM as users/a5/rate-limit" "$(rate_records)" 1
rate_on() { # rate_on API WANT: a5's rate_limit there once it is WANT
	local r
	for _ in $(seq 100); do
		api "$1" GET /users/a5 >/dev/null
		r=$($PY -c "import json; print(json.load(open('$TMP/body')).get('rate_limit'))")
		[ "$r" = "$2" ] && break
		sleep 0.1
	done
	echo "$r"
}
assert_eq "B serves it after its sync" "$(rate_on "$API_B" 20000000)" 20000000
st=$(api "$API_B" PATCH /users/a5 '{"rate_limit":null}')
assert_eq "removed on B" "$st" 200
assert_eq "A follows" "$(rate_on "$API_A" None)" None
assert_eq "no rate-limit record left in SSM" "$(rate_records)" 0

# the audit log is one log: B lists A's changes, newest first
api "$API_B" GET "/audit?limit=500" >/dev/null
got=$($PY -c "
import json
e = json.load(open('$TMP/body'))['entries']
ids = [x['id'] for x in e]
print(ids == sorted(ids), sum(1 for x in e if x['action'] == 'delete' and x['target'] == 'b3'),
      sum(1 for x in e if x['action'] == 'link_use' and x['outcome'] == 'ok'))")
assert_eq "B's audit log: sorted, has A's delete of b3 and the 4 links used" "$got" "True 1 4"

assert_eq "every request signed correctly" "$(stat sig_rejected)" 0
stop_daemons
finish
