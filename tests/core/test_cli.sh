#!/usr/bin/env bash
# evpnd's commands: --help/--version, check-config for each class of bad
# config (one clear FILE:LINE:COL error, exit 1), plugins, describe, keygen
# (idempotent, --force replaces), master-key (also while a daemon runs).
set -u
B=${EVPN_BUILD_DIR:?}
EVPND=$B/evpnd
TP=${EVPN_TEST_PLUGIN_DIR:-$B/tests/plugins}
PD=$B/plugins
T=$(mktemp -d)
pid=
cleanup() {
	[ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
fails=0 passes=0
ok() { passes=$((passes + 1)); echo "ok - $*"; }
bad() { fails=$((fails + 1)); echo "not ok - $*"; }

# expect STATUS PATTERN CMD...: exit status and a pattern in stdout+stderr
expect() {
	local want=$1 pat=$2 out st
	shift 2
	out=$("$@" 2>&1)
	st=$?
	if [ "$st" = "$want" ] && grep -qE -- "$pat" <<<"$out"; then
		ok "$* -> $want /$pat/"
	else
		bad "$* -> got $st, want $want /$pat/"
		printf '%s\n' "$out" | sed 's/^/    /' | head -20
	fi
}

cfg() { # name body -> path
	printf '%s' "$2" >"$T/$1.yaml"
	echo "$T/$1.yaml"
}

expect 0 'usage: evpnd' "$EVPND" --help
expect 0 '^evpnd [0-9]+\.[0-9]+\.[0-9]+' "$EVPND" --version
expect 2 'unknown command' "$EVPND" frobnicate
expect 2 'usage' "$EVPND"

good=$(cfg good "plugin_dir: $PD
network: {pool: 10.99.0.0/24}
plugins:
  store: {use: file, config: {dir: $T/var}}
")
expect 0 'OK' "$EVPND" check-config -c "$good"
EVPN_CONFIG=$good expect 0 'OK' "$EVPND" check-config
expect 1 'cannot open' "$EVPND" check-config -c "$T/nope.yaml"

# one class of error each
expect 1 "bad1.yaml:[0-9]+:[0-9]+: YAML" "$EVPND" check-config -c "$(cfg bad1 "plugins:
  store: [unclosed
")"
expect 1 "bad2.yaml:1:1: config: unknown key 'plugn_dir' \(allowed: log_level, plugin_dir, master_key, network, users, plugins\)" \
	"$EVPND" check-config -c "$(cfg bad2 "plugn_dir: x
plugins: {store: {use: file}}
")"
expect 1 "bad3.yaml:1:16: config.network.mtu: 'big' is not a valid integer" \
	"$EVPND" check-config -c "$(cfg bad3 "network: {mtu: big}
plugins: {store: {use: file}}
")"
expect 1 "bad4.yaml:2:24: plugin 'nosuch' \(store\) cannot be used: .*store-nosuch.so: No such file" \
	"$EVPND" check-config -c "$(cfg bad4 "plugin_dir: $PD
plugins: {store: {use: nosuch}}
")"
expect 1 "a 'store' entry is required" "$EVPND" check-config -c "$(cfg bad5 "plugin_dir: $PD
plugins: {}
")"
unset EVPN_TEST_UNSET
expect 1 "bad6.yaml:1:12: environment variable EVPN_TEST_UNSET is not set" \
	"$EVPND" check-config -c "$(cfg bad6 "log_level: \${EVPN_TEST_UNSET}
plugins: {store: {use: file}}
")"
expect 1 "plugins.store.config: unknown key 'directory' \(allowed: " \
	"$EVPND" check-config -c "$(cfg bad7 "plugin_dir: $PD
plugins: {store: {use: file, config: {directory: /x}}}
")"
# one shipped config for several plugins of a kind: config.<plugin-name>
expect 0 'OK' "$EVPND" check-config -c "$(cfg perplugin "plugin_dir: $PD
plugins:
  store:
    use: file
    config:
      file: {dir: $T/var}
      ssm: {prefix: /whatever}
")"
expect 1 "perplugin2.yaml:5:21: plugins.store.config.file: unknown key 'dor'" \
	"$EVPND" check-config -c "$(cfg perplugin2 "plugin_dir: $PD
plugins:
  store:
    use: file
    config: {file: {dor: x}, ssm: {}}
")"
expect 1 "store-abi1.so: built for plugin ABI 1.1, this evpnd provides 2.0: rebuild the plugin" "$EVPND" check-config -c "$(cfg bad8 "plugin_dir: $TP
plugins: {store: {use: abi1}}
")"
expect 1 "not an evpn plugin" "$EVPND" check-config -c "$(cfg bad9 "plugin_dir: $TP
plugins: {store: {use: noentry}}
")"
expect 1 "is a auth plugin, not a store plugin" "$EVPND" check-config -c "$(cfg bad10 "plugin_dir: $TP
plugins: {store: {use: wrongkind}}
")"
expect 1 "'api' requires an 'auth' entry" "$EVPND" check-config -c "$(cfg bad11 "plugin_dir: $PD
plugins: {store: {use: file}, api: {use: civetweb-rest}}
")"
expect 1 "network.pool: '10.0.0.0/30' must be an IPv4 CIDR" "$EVPND" check-config -c "$(cfg bad12 "plugin_dir: $PD
network: {pool: 10.0.0.0/30}
plugins: {store: {use: file}}
")"
expect 1 ":2:[0-9]+: network.pool6: '10.0.0.0/8' must be an IPv6 CIDR" "$EVPND" check-config -c "$(cfg bad14 "plugin_dir: $PD
network: {pool: 10.77.0.0/16, pool6: 10.0.0.0/8}
plugins: {store: {use: file}}
")"
expect 1 "network.pool6: 'fd00::/120' must be an IPv6 CIDR with room for every IPv4 pool offset \\(at most /112 for a /16" "$EVPND" check-config -c "$(cfg bad15 "plugin_dir: $PD
network: {pool: 10.77.0.0/16, pool6: fd00::/120}
plugins: {store: {use: file}}
")"
expect 1 ":2:[0-9]+: users.rate_limit: '20 megabit' must be a rate such as 20mbit" "$EVPND" check-config -c "$(cfg badrate "plugin_dir: $PD
users: {rate_limit: 20 megabit}
plugins: {store: {use: file}}
")"
expect 0 "goodrate.yaml: OK" "$EVPND" check-config -c "$(cfg goodrate "plugin_dir: $PD
users: {rate_limit: 20mbit}
plugins: {store: {use: file}}
")"
expect 0 "good6.yaml: OK" "$EVPND" check-config -c "$(cfg good6 "plugin_dir: $PD
network: {pool: 10.77.0.0/16, pool6: 'fd77::/64'}
plugins: {store: {use: file}}
")"
expect 1 "failed to initialise: I/O error" "$EVPND" run -c "$(cfg bad13 "plugin_dir: $TP
plugins: {store: {use: failcreate}}
")"
# a bad config never half-starts: no state directory was created
[ ! -e "$T/var" ] && ok "no state written by failed checks" || bad "state written by a failed check"

expect 0 'file +store +1' "$EVPND" plugins -c "$good"
expect 0 'config keys \(plugins.store.config\)' "$EVPND" describe file -c "$good"
expect 0 'dir +string +default: ./var' "$EVPND" describe store-file -c "$good"
expect 0 'pool +CIDR +default: 10.77.0.0/16' "$EVPND" describe core
expect 1 "no plugin named 'nope'" "$EVPND" describe nope -c "$good"

# keygen: creates once, idempotent, --force replaces; files are 0600
k1=$("$EVPND" keygen -c "$good" 2>/dev/null)
k2=$("$EVPND" keygen -c "$good" 2>/dev/null)
k3=$("$EVPND" keygen -c "$good" --force 2>/dev/null)
[[ "$k1" =~ ^[A-Za-z0-9+/]{43}=$ ]] && ok "keygen prints a public key" || bad "keygen output '$k1'"
[ "$k1" = "$k2" ] && ok "keygen is idempotent" || bad "keygen changed the key"
[ "$k1" != "$k3" ] && ok "keygen --force replaces" || bad "--force kept the key"
printf '{"ssm_prefix":"/x","key_algorithm":"curve25519","key_purpose":"wireguard-server","regenerate_keys":false}' >"$T/kg.json"
k4=$("$EVPND" keygen -c "$good" --keygen-config "$T/kg.json" 2>/dev/null)
[ "$k4" = "$k3" ] && ok "regenerate_keys:false changes nothing" || bad "keygen-config false replaced the key"
printf '{"key_algorithm":"curve25519","regenerate_keys":true}' >"$T/kg2.json"
k5=$("$EVPND" keygen -c "$good" --keygen-config "$T/kg2.json" 2>/dev/null)
[ "$k5" != "$k4" ] && grep -q config_sha256 "$T/var/wg/server-key-metadata" &&
	ok "regenerate_keys:true replaces and records the config hash" || bad "regenerate_keys:true"
printf '{"key_algorithm":"rsa"}' >"$T/kg3.json"
expect 1 'key_algorithm must be "curve25519"' "$EVPND" keygen -c "$good" --keygen-config "$T/kg3.json"
[ "$(stat -c %a "$T/var/wg/server-private-key")" = 600 ] && ok "private key 0600" || bad "private key mode"
[ "$(stat -c %a "$T/var")" = 700 ] && ok "state dir 0700" || bad "state dir mode"
if grep -rq "$(cat "$T/var/wg/server-private-key")" <("$EVPND" keygen -c "$good" 2>&1); then
	bad "the private key was printed"
else
	ok "the private key is never printed"
fi

m1=$("$EVPND" master-key -c "$good" 2>/dev/null)
m2=$("$EVPND" master-key -c "$good" 2>/dev/null)
[[ "$m1" =~ ^[0-9a-f]{64}$ ]] && [ "$m1" = "$m2" ] && ok "master-key stable" || bad "master-key '$m1' '$m2'"
m3=$(EVPN_MASTER_KEY=from-the-environment-123 "$EVPND" master-key -c "$(cfg env "master_key: \${EVPN_MASTER_KEY:-}
plugin_dir: $PD
plugins: {store: {use: file, config: {dir: $T/var}}}
")" 2>/dev/null)
[ "$m3" = from-the-environment-123 ] && ok "EVPN_MASTER_KEY wins" || bad "EVPN_MASTER_KEY ignored: $m3"

# the daemon: starts, master-key works beside it, a second daemon on the
# same directory is refused, SIGTERM stops it with status 0
"$EVPND" run -c "$good" >"$T/run.log" 2>&1 &
pid=$!
for _ in $(seq 50); do grep -q "ready" "$T/run.log" && break; sleep 0.1; done
grep -q ready "$T/run.log" && ok "daemon ready" || bad "daemon did not start: $(cat "$T/run.log")"
m4=$("$EVPND" master-key -c "$good" 2>/dev/null)
[ "$m4" = "$m1" ] && ok "master-key while the daemon runs" || bad "master-key beside the daemon: '$m4'"
expect 1 "lock|locked" "$EVPND" run -c "$good"
# SIGHUP reloads users from the store: add one behind the daemon's back,
# as another instance sharing the store would
u=$T/var/users/zed
mkdir -p "$u" && chmod 700 "$u"
for kv in "created-at=2026-01-01T00:00:00Z" "address=10.99.0.77/32" \
	"public-key=$k1" "api-key-hash=$(printf %064d 0)" "status=active"; do
	printf '%s' "${kv#*=}" >"$u/${kv%%=*}"
	chmod 600 "$u/${kv%%=*}"
done
printf zed >"$T/var/addresses/10.99.0.77" 2>/dev/null || { mkdir -p "$T/var/addresses"; printf zed >"$T/var/addresses/10.99.0.77"; }
kill -HUP "$pid"
for _ in $(seq 30); do grep -q "loaded 1 user " "$T/run.log" && break; sleep 0.1; done
grep -q "loaded 1 user " "$T/run.log" && ok "SIGHUP reloads users" || bad "SIGHUP: $(tail -3 "$T/run.log")"
kill -TERM "$pid"
wait "$pid"
st=$?
pid=
[ "$st" = 0 ] && grep -q stopped "$T/run.log" && ok "SIGTERM: clean stop" || bad "SIGTERM exit $st"

echo "core.cli: $passes passed, $fails failed"
[ "$fails" = 0 ]
