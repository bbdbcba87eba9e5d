#!/usr/bin/env bash
# End to end over the stream, as a user behind a UDP-blocking network would
# see it: evpnd (file store, stream listener on 127.0.0.1) with stunnel in
# front as the TLS terminator (port 443, a test CA) in a "server"
# namespace; in a "client" namespace UDP to the server is dropped (nft) and
# `evpnctl connect` (auto) falls back to the stream after its UDP wait; a
# 20 MB download and upload (sha256) pass through the full tunnel to a web
# server in a third namespace; disconnect restores routes, rules and
# addresses exactly and stops the relay. Then the same through an HTTP
# CONNECT proxy (tinyproxy) with direct TCP to the server dropped too; a
# wrong key and a deleted user's key are refused with nothing left behind.
set -u
# shellcheck source=SCRIPTDIR/../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"
B=${EVPN_BUILD_DIR:?}
S=${EVPN_SOURCE_DIR:?}
. "$S/tests/lib/check.sh"
# shellcheck source=SCRIPTDIR/../lib/e2e_ns.sh
. "$S/tests/lib/e2e_ns.sh"
e2e_init se 10.21 51998 8112 nft stunnel4 tinyproxy openssl
e2e_up
# the stream listener on every address: stunnel reaches it on loopback;
# `allow` opens the server's web-side address, which the egress must
# still refuse as the stream's front door
E2E_ALLOW="[$NET2.1/32]" E2E_TRANSPORT=', stream: {listen: "0.0.0.0:18444", path: /wg}' \
	e2e_evpnd

# the TLS terminator: a test certificate for the server's address
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-keyout "$T/tls.key" -out "$T/tls.crt" -days 1 -subj /CN=evpn-test \
	-addext "subjectAltName=IP:$SRV" >/dev/null 2>&1 || exit 1
cat >"$T/stunnel.conf" <<EOF2
foreground = yes
pid =
[wg]
accept = $SRV:443
connect = 127.0.0.1:18444
cert = $T/tls.crt
key = $T/tls.key
EOF2
ip netns exec $NS_S stunnel4 "$T/stunnel.conf" >"$T/stunnel.log" 2>&1 &
netns_track $!
# the HTTP CONNECT proxy
cat >"$T/tinyproxy.conf" <<EOF2
Port 3128
Listen $SRV
Timeout 600
Allow $NET1.0/24
ConnectPort 443
MaxClients 20
EOF2
ip netns exec $NS_S tinyproxy -d -c "$T/tinyproxy.conf" >"$T/tinyproxy.log" 2>&1 &
netns_track $!

for _ in $(seq 50); do
	ip netns exec $NS_C curl -s --cacert "$T/tls.crt" -o /dev/null https://$SRV/ && break
	sleep 0.1
done
code=$(ip netns exec $NS_C curl -s --cacert "$T/tls.crt" -o /dev/null -w '%{http_code}' https://$SRV/wg)
check "stunnel forwards TLS to the stream listener (plain GET -> 426)" test "$code" = 426

C setup http://$SRV:$API_PORT >/dev/null </dev/null
check "evpnctl create" C create "$NAME"
check "the user's key is kept (NAME.key)" test -s "$T/client/$NAME.key"

# UDP to the server is dropped from here on
ip netns exec $NS_C nft -f - <<NFT || exit 1
table inet evse {
	chain out {
		type filter hook output priority 0;
		ip daddr $SRV udp dport $WG_PORT counter drop
	}
}
NFT
e2e_settle
before=$(snap)

out=$(C connect "$NAME" --cacert "$T/tls.crt" 2>&1)
rc=$?
echo "$out"
check "evpnctl connect (auto) succeeds" test $rc = 0
check "it fell back to the stream" grep -q "(over https)" <<<"$out"
check "a relay is running" kill -0 "$(cat "$T/client/$NAME.relay" 2>/dev/null)"
check "the peer's endpoint is the local relay" sh -c \
	"ip netns exec $NS_C wg show $NAME endpoints | grep -q '127.0.0.1:'"
got=$(ip netns exec $NS_C curl -fsS --max-time 120 http://$WEB:8080/blob | sha256sum | cut -d' ' -f1)
check "20 MB download through the stream, sha256 right" test "$got" = "$want"
up=$(ip netns exec $NS_C curl -fsS --max-time 120 -T "$T/www/blob" http://$WEB:8080/up)
check "20 MB upload through the stream, sha256 right" test "$up" = "$want"
# the stream listener is one of the server's front doors: the egress
# refuses tunnel clients' packets to it (as to the API's port), even on
# an address `allow` opens (10.212.0.1 here; the server's other address,
# since its own subnet would bypass the tunnel).
code=$(ip netns exec $NS_C curl -s --max-time 5 -o /dev/null -w '%{http_code}' http://$NET2.1:18444/wg)
check "the stream port is not reachable through the tunnel (got $code)" test "$code" = 000
check "UDP to the server was dropped (nft counter)" sh -c \
	"ip netns exec $NS_C nft list table inet evse | grep -q 'packets [1-9]'"
relay_pid=$(cat "$T/client/$NAME.relay")
check "evpnctl disconnect" C disconnect "$NAME"
check "the relay stopped" sh -c "! kill -0 $relay_pid 2>/dev/null"
check "the relay's pid file is gone" test ! -e "$T/client/$NAME.relay"
sleep 0.5
after=$(snap)
check "routes, rules and addresses restored exactly" test "$before" = "$after" ||
	diff <(echo "$before") <(echo "$after")

# Through an HTTP CONNECT proxy, direct TCP to the server dropped as well.
ip netns exec $NS_C nft add rule inet evse out ip daddr $SRV tcp dport 443 counter drop
out=$(C connect "$NAME" --over https --proxy http://$SRV:3128 --cacert "$T/tls.crt" 2>&1)
rc=$?
echo "$out"
check "evpnctl connect --over https --proxy" test $rc = 0
got=$(ip netns exec $NS_C curl -fsS --max-time 120 http://$WEB:8080/blob | sha256sum | cut -d' ' -f1)
check "20 MB download through the proxy and the stream, sha256 right" test "$got" = "$want"
up=$(ip netns exec $NS_C curl -fsS --max-time 120 -T "$T/www/blob" http://$WEB:8080/up)
check "20 MB upload through the proxy and the stream, sha256 right" test "$up" = "$want"
check "tinyproxy carried it (CONNECT logged)" grep -q "CONNECT" "$T/tinyproxy.log"
check "disconnect (proxy)" C disconnect "$NAME"
sleep 0.5
after=$(snap)
check "restored exactly after the proxy run" test "$before" = "$after"
# the proxy from HTTPS_PROXY, as curl takes it (direct TCP still dropped)
n0=$(grep -c CONNECT "$T/tinyproxy.log")
out=$(HTTPS_PROXY=http://$SRV:3128 C connect "$NAME" --over https --cacert "$T/tls.crt" 2>&1)
rc=$?
echo "$out"
check "connect with HTTPS_PROXY (no --proxy)" test $rc = 0
check "a request through the tunnel" ip netns exec $NS_C curl -fsS --max-time 20 -o /dev/null http://$WEB:8080/
check "disconnect (HTTPS_PROXY)" C disconnect "$NAME"
check "HTTPS_PROXY's proxy carried it" test "$(grep -c CONNECT "$T/tinyproxy.log")" -gt "$n0"
sleep 0.5
check "restored exactly after the HTTPS_PROXY run" test "$before" = "$(snap)"
ip netns exec $NS_C nft flush chain inet evse out
ip netns exec $NS_C nft add rule inet evse out ip daddr $SRV udp dport $WG_PORT counter drop

# A wrong key: refused, nothing left behind.
cp "$T/client/$NAME.key" "$T/good.key"
printf 'not-the-key\n' >"$T/client/$NAME.key"
out=$(C connect "$NAME" --over https --cacert "$T/tls.crt" 2>&1)
rc=$?
echo "$out"
check "wrong key: connect fails (exit 2)" test $rc = 2
check "wrong key: says 401" grep -q "401" <<<"$out"
check "wrong key: interface gone again" sh -c "! ip -n $NS_C link show $NAME >/dev/null 2>&1"
check "wrong key: namespace restored exactly" test "$before" = "$(snap)"
cp "$T/good.key" "$T/client/$NAME.key"

# A deleted user's key: refused.
code=$(ip netns exec $NS_C curl -s -o /dev/null -w '%{http_code}' -X DELETE \
	-H "Authorization: Bearer $EVPN_MASTER_KEY" http://$SRV:$API_PORT/users/$NAME)
check "user deleted on the server" test "$code" = 204
out=$(C connect "$NAME" --over https --cacert "$T/tls.crt" 2>&1)
rc=$?
echo "$out"
check "deleted user: connect fails (exit 2)" test $rc = 2
check "deleted user: says 401" grep -q 401 <<<"$out"
check "deleted user: namespace restored exactly" test "$before" = "$(snap)"

# An unverifiable certificate is refused (no --cacert: the system CAs).
cp "$T/good.key" "$T/client/$NAME.key"
out=$(C connect "$NAME" --over https 2>&1)
rc=$?
echo "$out"
check "unknown CA: connect fails (exit 2)" test $rc = 2
check "unknown CA: says why (certificate)" grep -qi "certificate" <<<"$out"
check "unknown CA: namespace restored exactly" test "$before" = "$(snap)"

[ $fail = 0 ] || { echo "--- evpnd"; tail -40 "$T/evpnd.log"; echo "--- stunnel"; tail "$T/stunnel.log"; }
exit $fail
