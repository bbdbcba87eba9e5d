#!/bin/bash
# SPDX-License-Identifier: MIT
# Cross-checks the SSM test server against the real AWS CLI (Debian's
# awscli, an independent client built on botocore): put/get/list/delete
# through it must behave as the ssm plugin expects, and the server must
# reject what AWS rejects.
. "$(dirname "$0")/lib.sh"

need "[ -x /usr/bin/aws ]" "awscli (apt-get install awscli)"
start_server --page-size 2 --empty-pages
with_env_creds
export AWS_DEFAULT_REGION=us-east-1 AWS_PAGER="" AWS_MAX_ATTEMPTS=5 AWS_RETRY_MODE=standard
aws() { /usr/bin/aws --endpoint-url "$URL" --output json ssm "$@" >"$TMP/out" 2>"$TMP/err"; }
jq_() { $PY -c "import json,sys; d=json.load(open('$TMP/out')); print($1)"; }

check "put-parameter String" 0 aws put-parameter --name /evpn-cli/users/a/status --value active --type String
assert_eq "version 1" "$(jq_ 'd["Version"]')" 1
check "put-parameter again without --overwrite fails" 254 aws put-parameter --name /evpn-cli/users/a/status --value x --type String
assert_grep "ParameterAlreadyExists" "ParameterAlreadyExists" "$TMP/err"
check "put-parameter --overwrite" 0 aws put-parameter --name /evpn-cli/users/a/status --value inactive --type String --overwrite
assert_eq "version 2" "$(jq_ 'd["Version"]')" 2
check "put-parameter SecureString with KMS key" 0 aws put-parameter --name /evpn-cli/master-api-key --value s3cr3t --type SecureString --key-id alias/aws/ssm
check "get-parameter --with-decryption" 0 aws get-parameter --name /evpn-cli/master-api-key --with-decryption
assert_eq "decrypted value" "$(jq_ 'd["Parameter"]["Value"]')" s3cr3t
check "get-parameter without decryption" 0 aws get-parameter --name /evpn-cli/master-api-key
[ "$(jq_ 'd["Parameter"]["Value"]')" != s3cr3t ] && echo "ok   - SecureString hidden without decryption" || { echo "FAIL - plaintext without decryption" >&2; FAILS=$((FAILS+1)); }
check "bad KMS key" 254 aws put-parameter --name /evpn-cli/x --value v --type SecureString --key-id alias/nope
assert_grep "InvalidKeyId" "InvalidKeyId" "$TMP/err"
check "get-parameter missing" 254 aws get-parameter --name /evpn-cli/nope
assert_grep "ParameterNotFound" "ParameterNotFound" "$TMP/err"

for i in $(seq -f "%02g" 1 4); do
	aws put-parameter --name "/evpn-cli/users/u$i/status" --value "s$i" --type String || FAILS=$((FAILS+1))
done
# The CLI follows NextToken across small and empty pages by itself.
check "get-parameters-by-path recursive" 0 aws get-parameters-by-path --path /evpn-cli --recursive --with-decryption
assert_eq "all 6 parameters listed" "$(jq_ 'len(d["Parameters"])')" 6
assert_eq "decrypted in listing" "$(jq_ '[p["Value"] for p in d["Parameters"] if p["Name"]=="/evpn-cli/master-api-key"][0]')" s3cr3t
check "get-parameters-by-path one level" 0 aws get-parameters-by-path --path /evpn-cli
assert_eq "non-recursive lists direct children only" "$(jq_ '[p["Name"] for p in d["Parameters"]]')" "['/evpn-cli/master-api-key']"
assert_ge "pagination used several calls" "$(stat op.GetParametersByPath)" 6
check "get-parameters" 0 aws get-parameters --names /evpn-cli/users/u01/status /evpn-cli/nope
assert_eq "get-parameters found/invalid" "$(jq_ '(len(d["Parameters"]), d["InvalidParameters"])')" "(1, ['/evpn-cli/nope'])"

check "delete-parameter" 0 aws delete-parameter --name /evpn-cli/users/a/status
check "delete-parameter again" 254 aws delete-parameter --name /evpn-cli/users/a/status
assert_grep "delete of missing: ParameterNotFound" "ParameterNotFound" "$TMP/err"
check "delete-parameters (2 + 1 missing)" 0 aws delete-parameters --names /evpn-cli/users/u01/status /evpn-cli/users/u02/status /evpn-cli/nope
assert_eq "deleted/invalid" "$(jq_ '(len(d["DeletedParameters"]), d["InvalidParameters"])')" "(2, ['/evpn-cli/nope'])"
names=$(for i in $(seq 1 11); do printf '/evpn-cli/n%d ' "$i"; done)
# shellcheck disable=SC2086
check "delete-parameters with 11 names" 254 aws delete-parameters --names $names
if ! grep -q "ValidationException\|length less than or equal to 10\|Invalid length" "$TMP/err"; then
	echo "FAIL - 11 names not rejected as invalid" >&2; FAILS=$((FAILS+1))
else
	echo "ok   - more than 10 names rejected"
fi

# Throttling injection: the CLI's own retries get through.
ctl faults '{"throttle": 2}'
check "throttled twice, then served" 0 aws get-parameter --name /evpn-cli/master-api-key
assert_eq "two throttles injected" "$(stat fault.throttle)" 2

# Signatures are really checked (with botocore): wrong secret, wrong token.
rej=$(stat sig_rejected)
AWS_SECRET_ACCESS_KEY=wrong check "wrong secret rejected" 254 aws get-parameter --name /evpn-cli/master-api-key
assert_grep "InvalidSignatureException" "InvalidSignatureException" "$TMP/err"
AWS_SESSION_TOKEN=bogus check "unexpected session token rejected" 254 aws get-parameter --name /evpn-cli/master-api-key
assert_grep "UnrecognizedClientException" "UnrecognizedClientException" "$TMP/err"
AWS_ACCESS_KEY_ID=AKIDUNKNOWN check "unknown key rejected" 254 aws get-parameter --name /evpn-cli/master-api-key
assert_ge "server counted the rejections" "$(stat sig_rejected)" $((rej + 3))
# A tampered request: a valid signature over a different body.
$PY - "$URL" "$TEST_AK" "$TEST_SK" <<'PYEOF' >"$TMP/out" 2>"$TMP/err" && echo "ok   - tampered body rejected" || { cat "$TMP/err" >&2; echo "FAIL - tampered body" >&2; FAILS=$((FAILS+1)); }
import json, sys, urllib.request, urllib.error
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
url, ak, sk = sys.argv[1:]
body = json.dumps({"Name": "/evpn-cli/master-api-key"}).encode()
r = AWSRequest(method="POST", url=url + "/", data=body, headers={
    "Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "AmazonSSM.GetParameter"})
SigV4Auth(Credentials(ak, sk), "ssm", "us-east-1").add_auth(r)
def send(data):
    req = urllib.request.Request(url + "/", data=data, method="POST", headers=dict(r.headers.items()))
    try:
        with urllib.request.urlopen(req) as resp:
            return resp.status, json.load(resp)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)
st, d = send(body)
assert st == 200, (st, d)
st, d = send(body.replace(b"master-api-key", b"master-api-kez"))
assert st == 400 and d["__type"] == "InvalidSignatureException", (st, d)
PYEOF
finish
