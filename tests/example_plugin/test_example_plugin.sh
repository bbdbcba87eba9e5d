#!/usr/bin/env bash
# Third-party plugin path: `cmake --install` the headers and evpn-plugin.pc
# into a temporary prefix, build the example plugin out of tree with
# pkg-config alone, check it with the installed evpn-plugin-check, and run
# evpnd with it as the auth plugin.
set -u
B=${EVPN_BUILD_DIR:?} S=${EVPN_SOURCE_DIR:?}
T=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; [ -f "$T/log" ] && sed 's/^/    /' "$T/log"; exit 1; }

cmake --install "$B" --prefix "$T/prefix" >/dev/null || fail "cmake --install"
for f in include/evpn/plugin.h include/evpn/host.h include/evpn/store.h bin/evpnd bin/evpn-plugin-check; do
	[ -e "$T/prefix/$f" ] || fail "not installed: $f"
done
pc=$(find "$T/prefix" -name evpn-plugin.pc | head -1)
[ -n "$pc" ] || fail "evpn-plugin.pc not installed"
ls "$(dirname "$pc")/../evpn/plugins/"*.so >/dev/null 2>&1 || fail "plugins not installed"
export PKG_CONFIG_PATH=$(dirname "$pc")
cflags=$(pkg-config --cflags evpn-plugin) || fail "pkg-config evpn-plugin"
# The .pc names the ABI the installed headers declare.
hdr_abi=$(awk '/^#define EVPN_ABI_MAJOR /{M=$3} /^#define EVPN_ABI_MINOR /{m=$3} END{print M "." m}' \
	"$S/include/evpn/plugin.h")
pc_abi=$(pkg-config --variable=abi_major evpn-plugin).$(pkg-config --variable=abi_minor evpn-plugin)
[ "$pc_abi" = "$hdr_abi" ] || fail "evpn-plugin.pc says ABI $pc_abi, the header $hdr_abi"
pkg-config --print-provides evpn-plugin >/dev/null || fail "pkg-config cannot read evpn-plugin.pc"
grep -q "(ABI $hdr_abi)" "$pc" || fail "evpn-plugin.pc description does not name ABI $hdr_abi"
# Same sanitizer flags as the host, or the build signature check refuses it.
san=
grep -q 'EVPN_SANITIZE:BOOL=ON' "$B/CMakeCache.txt" && san="-fsanitize=address,undefined"
cc -std=c11 -Wall -Wextra -Werror $san -shared -o "$T/auth-static.so" \
	"$S/examples/auth-static/auth-static.c" $cflags $(pkg-config --libs libsodium) ||
	fail "out-of-tree build"

# The installed checker runs the auth contract on it. The example knows
# one admin token, no user keys, and does not throttle: the flags say so
# and those checks are reported as skipped.
echo "token: example-token-0123456789" >"$T/static.yaml"
chk=$(pkg-config --variable=plugin_check evpn-plugin) || fail "pkg-config plugin_check"
[ -x "$chk" ] || fail "pkg-config names no installed checker: '$chk'"
"$chk" --token example-token-0123456789 --admin-only \
	--no-throttle auth "$T/auth-static.so" "$T/static.yaml" >"$T/check.out" 2>&1 ||
	{ cat "$T/check.out"; fail "evpn-plugin-check auth on the example"; }
grep -q '^[0-9]* passed, 0 failed, 3 skipped$' "$T/check.out" || { cat "$T/check.out"; fail "checker summary"; }
grep -q '^ok   - auth: master token: OK as admin' "$T/check.out" || fail "checker did not check the token"
# And it fails an auth plugin that accepts what it must not: the example
# checked against a master token it does not know refuses the admin.
"$chk" --admin-only --no-throttle auth "$T/auth-static.so" \
	"$T/static.yaml" >"$T/check2.out" 2>&1 && fail "checker passed a plugin that refuses the master token"
grep -q '^FAIL - auth: master token' "$T/check2.out" || fail "checker: no FAIL line for the master token"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$T/evpn.yaml" <<YAML
plugin_dir: $B/plugins
network: {pool: 10.98.0.0/24}
plugins:
  store: {use: file, config: {dir: $T/var}}
  api: {use: civetweb-rest, config: {listen: "127.0.0.1:$port"}}
  auth: {use: $T/auth-static.so, config: {token: example-token-0123456789}}
YAML
"$B/evpnd" describe static -c "$T/evpn.yaml" >/dev/null 2>&1 # not in plugin_dir: fine
"$B/evpnd" run -c "$T/evpn.yaml" >"$T/log" 2>&1 &
pid=$!
for _ in $(seq 100); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
grep -q "\[auth/static\] example static-token auth ready" "$T/log" || fail "example plugin not loaded"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer example-token-0123456789' "http://127.0.0.1:$port/users")
[ "$code" = 200 ] || fail "token refused: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong-token-xxxxxxxxxx' "http://127.0.0.1:$port/users")
[ "$code" = 401 ] || fail "wrong token: $code"
grep -q example-token "$T/log" && fail "the token was logged"
echo "example plugin: 2 passed, 0 failed"
