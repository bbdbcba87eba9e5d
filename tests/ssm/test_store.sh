#!/bin/bash
# SPDX-License-Identifier: MIT
# Store semantics of the ssm plugin (the real .so through ssm_driver)
# against the SSM test server, which verifies every signature with botocore.
. "$(dirname "$0")/lib.sh"

start_server
with_env_creds
export AWS_ENDPOINT_URL_SSM="$URL"
export EVPN_SSM_CFG_retry_base_delay=10ms EVPN_SSM_CFG_retry_max_delay=200ms

# --- get / put / overwrite / create-only / secret
check "put String" 0 drv put users/alice/status active
assert_eq "stored under the prefix as String" "$(dump_get /ephem-vpn/users/alice/status Type)" String
check "get" 0 drv get users/alice/status
assert_eq "value" "$(cat "$TMP/out")" active
check "overwrite" 0 drv put users/alice/status inactive
check "get after overwrite" 0 drv get users/alice/status
assert_eq "overwritten value" "$(cat "$TMP/out")" inactive
check "create-only on existing key: EXISTS" 4 drv put users/alice/status x create
check "create-only on a new key" 0 drv put addresses/10.77.0.2 alice create
check "get missing: NOTFOUND" 3 drv get users/nobody/status
check "secret put" 0 drv put master-api-key 'k3y+/=value' secret
assert_eq "secret is a SecureString" "$(dump_get /ephem-vpn/master-api-key Type)" SecureString
assert_eq "with the configured KMS key" "$(dump_get /ephem-vpn/master-api-key KeyId)" alias/aws/ssm
check "secret get (decrypted)" 0 drv get master-api-key
assert_eq "secret value" "$(cat "$TMP/out")" 'k3y+/=value'
EVPN_SSM_CFG_kms_key_id=alias/evpn check "unknown KMS key: CONFIG error" 10 drv put wg/server-private-key x secret
assert_grep "KMS error is explained" "KMS key" "$TMP/err"
ctl faults '{"kms_keys": ["alias/evpn"]}'
EVPN_SSM_CFG_kms_key_id=alias/evpn check "configured KMS key used" 0 drv put wg/server-private-key x secret
assert_eq "KeyId sent" "$(dump_get /ephem-vpn/wg/server-private-key KeyId)" alias/evpn
check "key with ':' is invalid on SSM" 2 drv put addresses/fd00::2 x
check "key with '..' is invalid" 2 drv get users/../master-api-key
EVPN_SSM_CFG_prefix=/other/ check "prefix config" 0 drv put a/b c
assert_eq "custom prefix honoured" "$(dump_get /other/a/b Value)" c

# --- list: recursive, values decrypted, pagination with small and empty pages
for i in $(seq -w 1 23); do drv put "users/u$i/status" active || FAILS=$((FAILS+1)); done
ctl faults '{"page_size": 2, "empty_pages": true}'
ctl reset
check "list users/" 0 drv list users/
assert_eq "24 users' keys listed" "$(wc -l <"$TMP/out")" 24
assert_grep "keys are relative to the prefix" "^users/alice/status=inactive$" "$TMP/out"
assert_ge "small and empty pages followed (GetParametersByPath calls)" "$(stat ok.GetParametersByPath)" 24
check "list everything" 0 drv list ""
assert_grep "list decrypts SecureStrings" "^master-api-key=k3y+/=value$" "$TMP/out"
grep -q "^a/b=" "$TMP/out" && { echo "FAIL - listed another prefix" >&2; FAILS=$((FAILS+1)); } || echo "ok   - list stays inside the prefix"
check "list by string prefix" 0 drv list users/u1
assert_eq "users/u1* only" "$(cut -d/ -f2 "$TMP/out" | sort -u | tr '\n' ' ')" "u10 u11 u12 u13 u14 u15 u16 u17 u18 u19 "
check "list of an empty hierarchy" 0 drv list nothing/
assert_eq "nothing listed" "$(wc -l <"$TMP/out")" 0
ctl faults '{"page_size": 10, "empty_pages": false}'

# --- del
check "del" 0 drv del users/u01/status
check "del again: NOTFOUND" 3 drv del users/u01/status
check "get after del: NOTFOUND" 3 drv get users/u01/status

# --- batch delete: DeleteParameters, at most 10 names per call
ctl reset
keys=$(for i in $(seq -w 2 23); do printf 'users/u%s/status ' "$i"; done)
# shellcheck disable=SC2086
check "batch delete of 22 keys + 1 absent" 0 "$EVPN_BUILD_DIR/tests/ssm_delmany" $keys users/none/status
assert_eq "in 3 DeleteParameters calls" "$(stat ok.DeleteParameters)" 3
check "list after batch delete" 0 drv list users/u
assert_eq "nothing left" "$(wc -l <"$TMP/out")" 0

# --- create-only race: exactly one winner, the stored value is the winner's
check "16-thread create-only race" 0 drv race 16 addresses/10.77.0.9

# --- ping, and clear errors
check "ping" 0 drv ping
ctl faults '{"deny_prefix": "/ephem-vpn/denied"}'
check "AccessDenied: PERM" 7 drv get denied/x
assert_grep "access denied is explained" "access denied" "$TMP/err"
# A bad signature must fail: the client signs with a secret the server
# does not hold for that key id, and botocore's check rejects it.
rej=$(stat sig_rejected.InvalidSignatureException)
AWS_SECRET_ACCESS_KEY=wrong-secret check "wrong secret: PERM" 7 drv get users/alice/status
assert_grep "bad credentials are explained" "rejected the credentials" "$TMP/err"
assert_eq "rejected by the signature check" "$(stat sig_rejected.InvalidSignatureException)" $((rej + 1))

# --- endpoint precedence: config key, then AWS_ENDPOINT_URL_SSM, then AWS_ENDPOINT_URL
# (port 9 on loopback: nothing listens, a wrong choice fails fast)
drv_global_only() { (unset AWS_ENDPOINT_URL_SSM; AWS_ENDPOINT_URL="$URL" drv "$@"); }
check "AWS_ENDPOINT_URL fallback" 0 drv_global_only get users/alice/status
AWS_ENDPOINT_URL=http://127.0.0.1:9 check "AWS_ENDPOINT_URL_SSM wins over AWS_ENDPOINT_URL" 0 drv get users/alice/status
AWS_ENDPOINT_URL_SSM=http://127.0.0.1:9 EVPN_SSM_CFG_endpoint="$URL" check "config endpoint wins over the environment" 0 drv get users/alice/status
EVPN_SSM_CFG_endpoint=ftp://x check "bad endpoint URL: CONFIG" 10 drv ping
# libcurl's SigV4 (7.88) signs the path as sent and the query unsorted,
# where AWS encodes the path once more, collapses empty segments and sorts
# the query: endpoints where the two differ are refused up front, a plain
# path is fine (the test server answers SSM calls on any path).
EVPN_SSM_CFG_endpoint="$URL/ssm/v1/" check "endpoint with a plain path" 0 drv get users/alice/status
EVPN_SSM_CFG_endpoint="$URL/a%20b/" check "endpoint path with an encoded byte: CONFIG" 10 drv ping
assert_grep "endpoint refusal is explained" "path" "$TMP/err"
EVPN_SSM_CFG_endpoint="$URL/a:b/" check "endpoint path with a reserved character: CONFIG" 10 drv ping
EVPN_SSM_CFG_endpoint="$URL/x//y" check "endpoint path with an empty segment: CONFIG" 10 drv ping
EVPN_SSM_CFG_endpoint="$URL/?b=1&a=2" check "endpoint with a query: CONFIG" 10 drv ping
EVPN_SSM_CFG_endpoint="http://u:p@127.0.0.1:$PORT/" check "endpoint with user info: CONFIG" 10 drv ping
# The region is part of libcurl's "aws:amz:REGION:ssm" parameter.
EVPN_SSM_CFG_region="us-east-1:x" check "region with ':': CONFIG" 10 drv ping
assert_grep "region refusal is explained" "region" "$TMP/err"

# --- secrets never logged, even at debug level (with a session token too)
ctl reset
EVPN_SSM_LOG=debug check "debug run" 0 drv put master-api-key 'TopSecretValue' secret
EVPN_SSM_LOG=debug check "debug get" 0 drv get master-api-key
assert_grep "debug log names the signer and a masked key id" "SigV4 by libcurl, key AKID\*\*\*" "$TMP/all-stderr"
for s in "$TEST_SK" TopSecretValue 'k3y+/=value' "$TEST_AK"; do
	if grep -qF -- "$s" "$TMP/all-stderr"; then
		echo "FAIL - a secret appears in the logs" >&2; FAILS=$((FAILS+1))
	fi
done
if grep -qE "Signature=[0-9a-f]{64}" "$TMP/all-stderr"; then
	echo "FAIL - a signature appears in the logs" >&2; FAILS=$((FAILS+1))
else
	echo "ok   - no secret, key id or signature in any log line"
fi

# --- every request the plugin made carried a valid signature
assert_eq "no request rejected since the reset" "$(stat sig_rejected)" 0
finish
