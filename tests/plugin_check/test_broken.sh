#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The checker fails what breaks the contract: a correct test store passes,
# one whose create-only is not exclusive and one whose get of a missing key
# succeeds, one whose readers can see half-written values and one that logs
# secret values each fail with the check that
# names the fault, and so does an auth plugin that makes every user the
# admin; usage errors exit 2.
set -u
B=${EVPN_BUILD_DIR:?} S=${EVPN_SOURCE_DIR:?}
. "$S/tests/lib/check.sh"
CHECK=$B/evpn-plugin-check
D=$B/tests/plugin_check
need_built "$CHECK" "$D/store-mem.so" "$D/store-broken-race.so" "$D/store-broken-notfound.so" \
	"$D/store-broken-logs.so" "$D/store-broken-torn.so" \
	"$D/auth-broken-admin.so"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT

runs() { # runs NAME: the checker on store-NAME.so; status in $T/NAME.rc
	"$CHECK" store "$D/store-$1.so" >"$T/$1.out" 2>"$T/$1.err"
	echo $? >"$T/$1.rc"
}
runs mem
runs broken-race
runs broken-notfound
runs broken-logs
runs broken-torn
check "a correct store passes (exit 0)" grep -qx 0 "$T/mem.rc"
check "a correct store: summary says 0 failed" grep -q '^[0-9]* passed, 0 failed' "$T/mem.out"
check "a racy create-only store fails (exit 1)" grep -qx 1 "$T/broken-race.rc"
check "... on the create-only race check" \
	grep -q '^FAIL - store: create-only race: exactly one winner' "$T/broken-race.out"
check "... and its summary counts the failure" grep -Eq '^[0-9]+ passed, [1-9][0-9]* failed' "$T/broken-race.out"
check "a store whose get of a missing key succeeds fails (exit 1)" grep -qx 1 "$T/broken-notfound.rc"
check "... on the NOTFOUND check" \
	grep -q '^FAIL - store: get of a missing key is NOTFOUND' "$T/broken-notfound.out"
check "a store whose readers see half-written values fails (exit 1)" grep -qx 1 "$T/broken-torn.rc"
check "... on the atomic-values check" grep -q '^FAIL - store: atomic values: 3 readers' "$T/broken-torn.out"
check "a store that logs secret values fails (exit 1)" grep -qx 1 "$T/broken-logs.rc"
check "... on the log check" grep -q '^FAIL - log: no secret in the plugin' "$T/broken-logs.out"
check "... and its captured lines never reach stderr below warn" not grep -q s3cret-value "$T/broken-logs.err"
"$CHECK" --admin-only --no-throttle auth "$D/auth-broken-admin.so" >"$T/admin.out" 2>&1
check "an auth plugin that makes users admin fails (exit 1)" test $? = 1
check "... on the user-token check" grep -q '^FAIL - auth: user token: never the admin' "$T/admin.out"
"$CHECK" >/dev/null 2>&1
check "no arguments: usage, exit 2" test $? = 2
"$CHECK" nosuchkind "$D/store-mem.so" >/dev/null 2>&1
check "unknown kind: exit 2" test $? = 2
"$CHECK" auth "$D/store-mem.so" >"$T/kind.out" 2>&1
check "a store checked as auth fails at the loader" grep -q "^FAIL - auth: loads through the core's loader.*is a store plugin" "$T/kind.out"
echo "nosuchkey: 1" >"$T/bad.yaml"
"$CHECK" store "$D/store-mem.so" "$T/bad.yaml" >"$T/bad.out" 2>&1
check "a config with an unknown key fails (exit 1)" test $? = 1
check "... naming the key and where it is" grep -q "^FAIL - store: config is valid.*bad.yaml:1:1: .*unknown key 'nosuchkey'" "$T/bad.out"
"$CHECK" store "$T/nonexistent.so" >"$T/nx.out" 2>&1
check "a missing file fails (exit 1)" test $? = 1
if [ $fail -ne 0 ]; then
	for f in "$T"/*.out; do echo "== $f"; cat "$f"; done
fi
exit $fail
