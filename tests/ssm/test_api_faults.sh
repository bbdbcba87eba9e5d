#!/bin/bash
# SPDX-License-Identifier: MIT
# evpnd with the ssm store under SSM faults (throttling, 500s, replies lost
# after the write happened): every user the API acknowledged (201) survives
# a restart complete, no two users share an address, and every user the
# restarted daemon lists is complete (a failed create is all or nothing).
. "$(dirname "$0")/lib.sh"

for p in evpnd plugins/auth-bearer.so plugins/api-civetweb-rest.so; do
	[ -e "$EVPN_BUILD_DIR/$p" ] || { echo "FAIL: $p not built" >&2; exit 1; }
done
start_server
with_env_creds
export AWS_ENDPOINT_URL_SSM="$URL"
EVPN_MASTER_KEY="faults-master-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
export EVPN_MASTER_KEY
cat >"$TMP/evpn.yaml" <<YAML
log_level: info
plugin_dir: $EVPN_BUILD_DIR/plugins
master_key: \${EVPN_MASTER_KEY:-}
network: { pool: 10.77.0.0/24, endpoint: "127.0.0.1:51820", dns: [1.1.1.1], mtu: 1420 }
plugins:
  store:
    use: ssm
    config: { prefix: /faults, retry_base_delay: 10ms, retry_max_delay: 200ms, max_attempts: 6 }
  auth: { use: bearer, config: { max_failures: 1000 } }
  api: { use: civetweb-rest, config: { listen: "127.0.0.1:0", threads: 8 } }
YAML
start_daemon A
ctl faults '{"throttle_rate": 0.3, "error500_rate": 0.1, "drop_after_rate": 0.1, "drop_rate": 0.05, "seed": 11}'
CREATORS=()
for i in $(seq 1 30); do
	api "$API_A" POST /users "{\"client_id\":\"f$i\"}" >"$TMP/st.f$i" &
	CREATORS+=($!)
	[ $((i % 6)) = 0 ] && { wait "${CREATORS[@]}" || true; CREATORS=(); }
done
[ ${#CREATORS[@]} = 0 ] || wait "${CREATORS[@]}" || true
acked=()
other=0
for i in $(seq 1 30); do
	case "$(cat "$TMP/st.f$i")" in
	201) acked+=("f$i") ;;
	5*) other=$((other + 1)) ;;
	*) echo "FAIL - create f$i: unexpected status $(cat "$TMP/st.f$i")" >&2; FAILS=$((FAILS + 1)) ;;
	esac
done
assert_ge "creates acknowledged under faults" "${#acked[@]}" 1
echo "info - ${#acked[@]} acknowledged, $other failed with 5xx; faults: throttle $(stat fault.throttle), 500 $(stat fault.error500), lost replies $(stat fault.drop_after), drops $(stat fault.drop)"
assert_ge "faults were injected" "$(($(stat fault.throttle) + $(stat fault.error500) + $(stat fault.drop_after)))" 10
ctl faults '{"throttle_rate": 0, "error500_rate": 0, "drop_after_rate": 0, "drop_rate": 0}'

stop_daemons
start_daemon B
api "$API_B" GET /users >/dev/null
listed=$($PY -c "import json; print(' '.join(sorted(json.load(open('$TMP/body')))))")
lost=0
for u in "${acked[@]}"; do
	case " $listed " in *" $u "*) ;; *) echo "FAIL - acknowledged user $u lost" >&2; lost=$((lost + 1)) ;; esac
	st=$(api "$API_B" GET "/users/$u")
	$PY -c "
import json, sys
j = json.load(open('$TMP/body'))
sys.exit(0 if all(j.get(k) for k in ('address', 'public_key', 'status', 'created_at')) else 1)" ||
		{ echo "FAIL - acknowledged user $u incomplete ($st)" >&2; lost=$((lost + 1)); }
done
assert_eq "every acknowledged user survives a restart, complete" "$lost" 0
half=0
for u in $listed; do
	api "$API_B" GET "/users/$u" >/dev/null
	$PY -c "
import json, sys
j = json.load(open('$TMP/body'))
sys.exit(0 if all(j.get(k) for k in ('address', 'public_key', 'status', 'created_at')) else 1)" ||
		{ echo "FAIL - listed user $u is half-written" >&2; half=$((half + 1)); }
done
assert_eq "no half-written user listed ($(echo $listed | wc -w) listed)" "$half" 0
dups=$(curl -sf "$URL/_test/dump" | $PY -c '
import json, sys
d = json.load(sys.stdin)
addr = [p["Value"] for n, p in d.items() if n.startswith("/faults/users/") and n.endswith("/address")]
print(len(addr) - len(set(addr)))')
assert_eq "no address given twice" "$dups" 0
assert_eq "no bad signature" "$(stat sig_rejected)" 0
stop_daemons
finish
