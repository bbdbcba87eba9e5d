#!/bin/bash
# SPDX-License-Identifier: MIT
# Faults: throttling storms, 500s, dropped connections (before and after
# the server executed the request), a dead server. Nothing acknowledged may
# be lost, a create-only put must not report "exists" for its own
# half-seen write, and errors must be the documented ones.
. "$(dirname "$0")/lib.sh"

start_server
with_env_creds
export AWS_ENDPOINT_URL_SSM="$URL"
export EVPN_SSM_CFG_retry_base_delay=5ms EVPN_SSM_CFG_retry_max_delay=100ms
# 20 attempts: at a 50% throttle rate a call fails with p = 2^-20, so the
# storms below must get every write through.
export EVPN_SSM_CFG_max_attempts=20 EVPN_SSM_CFG_timeout=5s
acked_total=0
acked() { # ACKED = the acked= count of the last stress run; sums up
	ACKED=$(sed -n 's/.*acked=\([0-9]*\).*/\1/p' "$TMP/out")
	acked_total=$((acked_total + ACKED))
}

# --- deterministic: each fault once, on a create-only put
ctl faults '{"throttle": 1}'
check "create-only put after one throttle" 0 drv put one/throttle v create
ctl faults '{"error500": 1}'
check "create-only put after one 500" 0 drv put one/e500 v create
ctl faults '{"drop": 1}'
check "create-only put after a dropped connection" 0 drv put one/drop v create
ctl reset
ctl faults '{"drop_after": 1, "ops": ["PutParameter"]}'
check "create-only put whose reply was lost after it ran" 0 drv put one/drop-after v create
assert_eq "the retry met our own write" "$(stat err.PutParameter.ParameterAlreadyExists)" 1
assert_eq "and a read-back decided" "$(stat ok.GetParameter)" 1
ctl faults '{"drop_after": 1, "ops": ["PutParameter"]}'
check "but a lost reply does not hide a real conflict" 4 drv put one/drop-after other-value create
ctl faults '{"drop_after": 1, "ops": ["DeleteParameter"]}'
check "delete whose reply was lost after it ran" 0 drv del one/drop
ctl faults '{"ops": []}'
check "get after that delete: NOTFOUND" 3 drv get one/drop

# --- every attempt is signed anew. The first attempt's throttle answer is
# held back 1.2 s, so a retry that re-sent the first signature (same
# X-Amz-Date, same body) would repeat it exactly; the server counts repeats.
ctl reset
ctl faults '{"throttle": 1, "fault_delay": 1.2, "ops": ["PutParameter"]}'
check "put retried after a slow throttle" 0 drv put resign/k v
assert_eq "two signed attempts" "$(stat op.PutParameter)" 2
assert_eq "the retry carried a new signature" "$(stat sig_repeat)" 0
# Control: one signed request sent twice is counted as a repeat.
$PY - "$URL" "$TEST_AK" "$TEST_SK" <<'PYEOF' >>"$TMP/all-stderr" 2>&1 || FAILS=$((FAILS + 1))
import json, sys, urllib.request
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url, ak, sk = sys.argv[1:]
body = json.dumps({"Name": "/ephem-vpn/resign/k"}).encode()
r = AWSRequest(method="POST", url=url + "/", data=body, headers={
    "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonSSM.GetParameter"})
SigV4Auth(Credentials(ak, sk), "ssm", "us-east-1").add_auth(r)
for _ in range(2):
    req = urllib.request.Request(url + "/", data=body, method="POST", headers=dict(r.headers.items()))
    with urllib.request.urlopen(req) as resp:
        assert resp.status == 200
PYEOF
assert_eq "control: a re-sent signature is counted" "$(stat sig_repeat)" 1
ctl reset

# --- exhaustion: the documented error codes
ctl faults '{"throttle": 1000}'
EVPN_SSM_CFG_max_attempts=3 check "throttled on every attempt: AGAIN" 9 drv get one/throttle
ctl faults '{"throttle": 0, "error500": 1000}'
EVPN_SSM_CFG_max_attempts=3 check "500 on every attempt: UNAVAILABLE" 6 drv get one/throttle
ctl faults '{"error500": 0, "too_many_updates": 2}'
check "TooManyUpdates is retried" 0 drv put one/throttle v2
ctl reset

# --- storms: many writers, random faults; every acknowledged write survives
ctl faults '{"throttle_rate": 0.5, "seed": 7}'
check "throttling storm (50%)" 0 drv stress 60 6 storm/throttle
cat "$TMP/out"
acked
assert_eq "all writes acknowledged" "$ACKED" 60
ctl reset
ctl faults '{"throttle_rate": 0, "error500_rate": 0.3, "seed": 8}'
check "500 storm (30%)" 0 drv stress 60 6 storm/e500
cat "$TMP/out"
acked
assert_eq "all writes acknowledged" "$ACKED" 60
ctl reset
ctl faults '{"error500_rate": 0, "drop_rate": 0.15, "drop_after_rate": 0.15, "seed": 9}'
check "dropped connections (15% before, 15% after executing)" 0 drv stress 60 6 storm/drop
cat "$TMP/out"
acked
assert_eq "all writes acknowledged" "$ACKED" 60
assert_ge "lost replies hit create-only puts" "$(stat err.PutParameter.ParameterAlreadyExists)" 1
ctl reset
ctl faults '{"drop_rate": 0, "drop_after_rate": 0, "throttle_rate": 0.2, "error500_rate": 0.1, "drop_after_rate": 0.1, "page_size": 3, "empty_pages": true, "seed": 10}'
check "list under faults with small and empty pages" 0 drv list storm/
assert_eq "every acknowledged key listed" "$(wc -l <"$TMP/out")" "$acked_total"
ctl faults '{"throttle_rate": 0, "error500_rate": 0, "drop_after_rate": 0}'
assert_eq "no request had a bad signature" "$(stat sig_rejected)" 0

# --- a dead store: UNAVAILABLE, fast
stop_server
start=$(date +%s)
EVPN_SSM_CFG_max_attempts=3 check "server down: UNAVAILABLE" 6 drv put x/y z
EVPN_SSM_CFG_max_attempts=3 check "ping with server down: UNAVAILABLE" 6 drv ping
assert_ge "gave up within 10 s" $((10 - ($(date +%s) - start))) 0
finish
