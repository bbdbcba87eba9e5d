#!/usr/bin/env bash
# The slirp egress refuses the host's own addresses - every port, and the
# API's port whatever `allow` says - including addresses added after evpnd
# started (read again on the kernel's address events, no cap on how many).
#
# Namespaces as in egress.sh (tests/slirp/lib.sh), all made here. evpnd's
# API listens on 0.0.0.0; a second service listens on 0.0.0.0:18081 in the
# server namespace. After evpnd has seen client traffic, two addresses are
# added to a veth device inside the server namespace: 192.168.78.1 (refused)
# and 192.168.78.2 (named in `allow`: its service is reachable, its API
# port is not).
set -u
# shellcheck source=SCRIPTDIR/../lib/netns.sh
. "$(dirname "$0")/../lib/netns.sh"

B=${EVPN_BUILD_DIR:?}
. "$(dirname "$0")/../lib/check.sh"

need_cmds ip curl setpriv
. "$(dirname "$0")/lib.sh"
sl_init sh 18010
HTTPD=$(dirname "$0")/../lib/httpd.py
NEW=192.168.78.1
OPEN=192.168.78.2
SVC=18081
DUM=evshd$(($$ % 100000)) # both ends in the server namespace

sl_up
mkdir -p "$TMP/www"
echo "hello from the hosts namespace" >"$TMP/www/small.txt"
echo "a service of the server itself" >"$TMP/www/svc.txt"
inH $PY "$HTTPD" $HOST 8080 "$TMP/www" >"$TMP/http.log" 2>&1 &
netns_track $!
inS $PY "$HTTPD" 0.0.0.0 $SVC "$TMP/www" >"$TMP/svc.log" 2>&1 &
netns_track $!

SL_EGRESS_CONFIG="{ allow: [$OPEN/32] }" SL_API_LISTEN=0.0.0.0 sl_evpnd
for _ in $(seq 50); do
	grep -q "httpd ready" "$TMP/http.log" && grep -q "httpd ready" "$TMP/svc.log" && break
	sleep 0.1
done

refused() { refused_fast $NS_C "$1" "$TMP/curl.err"; }
fetch() { inC curl -sS -m 10 "$1" 2>&1; }

# --- addresses the host had at start
check "the internet is reachable" \
	test "$(fetch http://$HOST:8080/small.txt)" = "hello from the hosts namespace"
check "the API on the server's address refused at once" \
	refused http://$SRV:$API_PORT/health
check "another service on the server's address refused at once" \
	refused http://$SRV:$SVC/svc.txt

# --- addresses added now, after evpnd has checked client packets
ip -n $NS_S link add $DUM type veth peer name ${DUM}p || exit 1
ip -n $NS_S addr add $NEW/32 dev $DUM || exit 1
ip -n $NS_S addr add $OPEN/32 dev $DUM || exit 1
ip -n $NS_S link set $DUM up || exit 1
check "the API on an address added later refused at once" \
	refused http://$NEW:$API_PORT/health
check "another service on an address added later refused at once" \
	refused http://$NEW:$SVC/svc.txt
check "allow opens a host address: its service answers" \
	test "$(fetch http://$OPEN:$SVC/svc.txt)" = "a service of the server itself"
check "allow never opens the API's port" \
	refused http://$OPEN:$API_PORT/health

# --- an address that goes away and comes back is known again
ip -n $NS_S addr del $NEW/32 dev $DUM
ip -n $NS_S addr add $NEW/32 dev $DUM
check "an address removed and added again is refused again" \
	refused http://$NEW:$SVC/svc.txt

check "the API still works for the host itself" \
	inS curl -sf -m 5 -o /dev/null http://127.0.0.1:$API_PORT/health
sl_fetch_metrics
check "refusals counted: api >= 3" \
	test "$(metric 'evpn_egress_refused_total{reason="api"}')" -ge 3
check "refusals counted: host >= 3" \
	test "$(metric 'evpn_egress_refused_total{reason="host"}')" -ge 3
check "evpnd still running" kill -0 $EVPND_PID
if [ $fail != 0 ]; then
	echo "--- evpnd log (tail)"
	tail -30 "$TMP/evpnd.log"
fi
exit $fail
