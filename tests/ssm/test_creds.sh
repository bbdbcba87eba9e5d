#!/bin/bash
# SPDX-License-Identifier: MIT
# Credential chain of the ssm plugin against the test server's credential
# endpoints: environment, ECS container (relative URI against an overridden
# agent address, full URI + token / token file), EC2 IMDSv2, refresh before
# Expiration, and expiry mid-run. Nothing here contacts 169.254.x: the
# container base and the IMDS endpoint point at the loopback test server.
. "$(dirname "$0")/lib.sh"

start_server
export AWS_ENDPOINT_URL_SSM="$URL"
export EVPN_SSM_CFG_retry_base_delay=10ms EVPN_SSM_CFG_retry_max_delay=100ms
export EVPN_SSM_CFG_container_endpoint="$URL"

# --- environment, with and without a session token
with_env_creds
check "env credentials" 0 drv put env/k v
AWS_SESSION_TOKEN=bogus check "env session token is sent (and refused here)" 7 drv get env/k
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY

# --- no source at all: a clear error, no network
check "no credentials: PERM" 7 drv get env/k
assert_grep "missing credentials explained" "no AWS credentials" "$TMP/err"

# --- ECS container, relative URI (the agent address is overridden)
ctl reset
AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/task-1234 \
	check "container relative URI: put+get in one process" 0 drv put c/k v1 --then get c/k --then list c/
assert_eq "value through container credentials" "$(head -1 "$TMP/out")" v1
assert_eq "credentials fetched once and cached" "$(stat vend.container)" 1
assert_eq "session token accepted by botocore check" "$(stat sig_rejected)" 0

# --- ECS container, full URI + authorization token / token file
ctl reset
AWS_CONTAINER_CREDENTIALS_FULL_URI="$URL/full/credentials" AWS_CONTAINER_AUTHORIZATION_TOKEN=evpn-test-container-token \
	check "container full URI + token" 0 drv get c/k
assert_eq "full-URI credentials vended" "$(stat vend.container_full)" 1
printf 'evpn-test-container-token\n' >"$TMP/token"
AWS_CONTAINER_CREDENTIALS_FULL_URI="$URL/full/credentials" AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE="$TMP/token" \
	check "container full URI + token file" 0 drv get c/k
AWS_CONTAINER_CREDENTIALS_FULL_URI="$URL/full/credentials" AWS_CONTAINER_AUTHORIZATION_TOKEN=wrong \
	check "container full URI, wrong token: PERM" 7 drv get c/k
assert_eq "wrong token refused by the endpoint" "$(stat vend.container_full_denied)" 1
AWS_CONTAINER_CREDENTIALS_FULL_URI="http://example.invalid/creds" \
	check "full URI over plain HTTP to a non-loopback host refused" 10 drv get c/k

# --- EC2 IMDSv2 (token PUT, then role, then credentials)
ctl reset
AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="$URL" \
	check "IMDSv2 credentials" 0 drv get c/k --then put c/imds v
assert_eq "IMDSv2 token fetched" "$(stat vend.imds_token)" 1
assert_eq "IMDS credentials fetched once" "$(stat vend.imds)" 1
assert_eq "no IMDSv1 (tokenless) request" "$(stat vend.imds_unauthorized)" 0
AWS_EC2_METADATA_DISABLED=true AWS_EC2_METADATA_SERVICE_ENDPOINT="$URL" \
	check "AWS_EC2_METADATA_DISABLED=true turns IMDS off" 7 drv get c/k

# --- order: environment before container before IMDS
ctl reset
AWS_ACCESS_KEY_ID=$TEST_AK AWS_SECRET_ACCESS_KEY=$TEST_SK AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/x \
	AWS_EC2_METADATA_DISABLED=false AWS_EC2_METADATA_SERVICE_ENDPOINT="$URL" check "env first" 0 drv get c/k
assert_eq "env used, no vend" "$(stat vend.container)$(stat vend.imds)" 00
AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/x AWS_EC2_METADATA_DISABLED=false \
	AWS_EC2_METADATA_SERVICE_ENDPOINT="$URL" check "container before IMDS" 0 drv get c/k
assert_eq "container used, IMDS not" "$(stat vend.container)$(stat vend.imds_token)" 10

# --- refresh before Expiration: credentials valid 302 s, refreshed 300 s
# before expiry, so after 3 s the next call must fetch new ones.
ctl reset
ctl faults '{"vend_ttl": 302}'
AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/t \
	check "calls across the refresh point" 0 drv get c/k --then sleep 3 --then get c/k
assert_eq "refreshed before expiry" "$(stat vend.container)" 2
assert_eq "never sent expired credentials" "$(stat sig_rejected)" 0

# --- expiry mid-run (revoked early): ExpiredTokenException -> refresh -> retry
ctl reset
ctl faults '{"vend_ttl": 3600}'
(sleep 1.5; ctl expire) &
expirer=$!
AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/t \
	check "credentials expire mid-run" 0 drv put c/k v2 --then sleep 3 --then put c/k v3 --then get c/k
wait "$expirer"
assert_eq "value written after the refresh" "$(tail -1 "$TMP/out")" v3
assert_eq "server saw the expired token once" "$(stat sig_rejected.ExpiredTokenException)" 1
assert_eq "and new credentials were fetched" "$(stat vend.container)" 2

# --- credential endpoint down: UNAVAILABLE, not PERM
stop_server
AWS_CONTAINER_CREDENTIALS_RELATIVE_URI=/v2/credentials/t EVPN_SSM_CFG_max_attempts=2 \
	check "credential endpoint down: UNAVAILABLE" 6 drv get c/k
finish
