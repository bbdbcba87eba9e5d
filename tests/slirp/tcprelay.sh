#!/usr/bin/env bash
# The slirp egress with `tcp: relay`: client TCP terminated by the egress's
# own relay onto host sockets (window scaling), UDP/ICMP/DNS still slirp.
# evpnd as nobody with no capabilities, the test transport tuntest (a TUN
# device in a client namespace), the "internet" in a third namespace - all
# made here, nothing leaves the machine (tests/slirp/lib.sh).
# Checks: 50 MB download and 50 MB upload with sha256 (the upload half-
# closes and then reads the answer), a host-side connect refused gives the
# client a RST at once, a server that resets mid-transfer gives the client
# a RST, 1,000 short connections in a row leave no flow behind, refusals
# of the destination policy, DNS (UDP and TCP) still through slirp, 40
# client addresses at once, max_flows_per_peer, the relay's window
# scaling seen by the client, and IPv6 (network.pool6): 10 MB each way,
# connect refused -> RST, the metadata prefix refused.
set -u
. "$(dirname "$0")/../lib/netns.sh"

B=${EVPN_BUILD_DIR:?}
. "$(dirname "$0")/../lib/check.sh"

need_cmds ip curl dnsmasq dig ss setpriv sha256sum
. "$(dirname "$0")/lib.sh"
sl_init tr 18010
sl_up
HOST6=fd79::2
inS ip addr add fd79::1/64 dev $VS nodad || exit 1
inH ip addr add $HOST6/64 dev $VH nodad || exit 1

sl_www
inH $PY "$(dirname "$0")/../lib/httpd.py" $HOST 8080 "$TMP/www" \
	>"$TMP/http.log" 2>&1 &
netns_track $!
inH $PY "$(dirname "$0")/../lib/httpd.py" $HOST6 8080 "$TMP/www" \
	>"$TMP/http6.log" 2>&1 &
netns_track $!
# port 9001: sends 4 MB, then resets the connection (SO_LINGER 0)
# port 9002: answers each connection with one line and closes it
inH $PY - $HOST <<'PYEOF' >"$TMP/servers.log" 2>&1 &
import socket, struct, sys, threading
host = sys.argv[1]
def listener(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((host, port))
    s.listen(128)
    return s
def resetter():
    s = listener(9001)
    while True:
        c, _ = s.accept()
        try:
            c.sendall(b"x" * (4 << 20))
        except OSError:
            pass
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        c.close()
def short():
    s = listener(9002)
    while True:
        c, _ = s.accept()
        c.recv(100)
        c.sendall(b"ok\n")
        c.close()
threading.Thread(target=resetter, daemon=True).start()
short()
PYEOF
netns_track $!

SL_POOL6=fd77::/64 SL_EGRESS_CONFIG="{ tcp: relay, max_flows_per_peer: 20 }" \
	SL_API_LISTEN=0.0.0.0 sl_evpnd
inC ip addr add fd77::2/64 dev $TUN nodad
inC ip -6 route add default dev $TUN
check "the relay is on" grep -q "TCP relay: MSS 1380" "$TMP/evpnd.log"

sl_http_wait

# ------------------------------------------------------------ 50 MB each way
sl_download_check "50 MB download through the relay"
want=$(sha256sum <"$TMP/www/big.bin" | cut -d' ' -f1)
up=$(inC curl -sS -m 120 -T "$TMP/www/big.bin" http://$HOST:8080/up.bin)
check "50 MB upload through the relay, sha256 matches ($up)" test "$want" = "$up"

# the client saw a scaled window (slirp never offers one)
inC $PY - $HOST <<'PYEOF' >"$TMP/wscale.log" 2>&1
import socket, subprocess, sys, time
s = socket.create_connection((sys.argv[1], 8080), timeout=5)
time.sleep(0.2)
out = subprocess.run(["ss", "-tin", "dst", sys.argv[1]], capture_output=True, text=True).stdout
print(out)
sys.exit(0 if "wscale:" in out and "rcv_space" in out else 1)
PYEOF
rc=$? # before the description's $(...), which sets $? again
check "the client's connection has window scaling ($(grep -o 'wscale:[0-9,]*' "$TMP/wscale.log" | head -1))" \
	test $rc = 0

# ------------------------------------------------------------ close and reset
check "a host-side connect refused gives the client a RST at once" \
	sl_refused http://$HOST:9/
inC $PY - $HOST <<'PYEOF' >"$TMP/reset.log" 2>&1
import socket, sys, time
s = socket.create_connection((sys.argv[1], 9001), timeout=10)
got = 0
t0 = time.time()
try:
    while True:
        b = s.recv(65536)
        if not b:
            print("EOF after %d bytes (no RST)" % got)
            sys.exit(1)
        got += len(b)
except ConnectionResetError:
    print("RST after %d bytes, %.2f s" % (got, time.time() - t0))
    sys.exit(0)
except socket.timeout:
    print("timeout after %d bytes" % got)
    sys.exit(1)
PYEOF
rc=$?
check "a server that resets mid-transfer gives the client a RST ($(tail -1 "$TMP/reset.log"))" \
	test $rc = 0

inC $PY - $HOST <<'PYEOF' >"$TMP/short.log" 2>&1
import socket, sys
ok = 0
for i in range(1000):
    s = socket.create_connection((sys.argv[1], 9002), timeout=5)
    s.sendall(b"hi\n")
    d = b""
    while True:
        b = s.recv(100)
        if not b:
            break
        d += b
    s.close()
    ok += d == b"ok\n"
print("%d/1000 answered" % ok)
sys.exit(0 if ok == 1000 else 1)
PYEOF
rc=$?
check "1,000 short connections in a row ($(tail -1 "$TMP/short.log"))" test $rc = 0
flows=x
for _ in $(seq 30); do
	sl_fetch_metrics
	flows=$(metric evpn_egress_flows)
	[ "$flows" = 0 ] && break
	sleep 0.2
done
check "... leave no flow behind (evpn_egress_flows $flows)" test "$flows" = 0

# ------------------------------------------------------------ IPv6
head -c 10M "$TMP/www/big.bin" >"$TMP/www/ten.bin"
want6=$(sha256sum <"$TMP/www/ten.bin" | cut -d' ' -f1)
inC curl -sS -m 60 -o "$TMP/got6.bin" "http://[$HOST6]:8080/ten.bin"
got=$(sha256sum <"$TMP/got6.bin" 2>/dev/null | cut -d' ' -f1)
check "10 MB download over IPv6 through the relay, sha256 matches" test "$want6" = "$got"
up=$(inC curl -sS -m 60 -T "$TMP/www/ten.bin" "http://[$HOST6]:8080/up6.bin")
check "10 MB upload over IPv6 through the relay, sha256 matches" test "$want6" = "$up"
check "IPv6: a host-side connect refused gives the client a RST at once" \
	sl_refused "http://[$HOST6]:9/"
check "IPv6: the cloud metadata fd00:ec2::254 refused at once" \
	sl_refused "http://[fd00:ec2::254]/"

# ------------------------------------------------------------ refusals
sl_refusals

# ------------------------------------------------------------ slirp's part
sl_dns_checks "still through slirp"
check "ping a host through slirp" inC ping -c 2 -i 0.2 -W 3 -q $HOST

# ------------------------------------------------------------ many clients
sl_forty 10.77.1. /16 http://$HOST:8080/small.txt
check "40 client addresses at once all got their answer ($SL_OK/40)" test $SL_OK = 40

sl_flow_limit

sl_fetch_metrics
check "refusals counted: link_local >= 1" \
	test "$(metric 'evpn_egress_refused_total{reason="link_local"}')" -ge 1
check "refusals counted: max_flows_per_peer >= 1" \
	test "$(metric 'evpn_egress_refused_total{reason="max_flows_per_peer"}')" -ge 1
check "failed connects counted" \
	test "$(metric 'evpn_egress_tcp_connect_failed_total')" -ge 1
check "bytes toward clients counted (the 50 MB download at least)" \
	test "$(metric 'evpn_egress_bytes_total{dir="in"}')" -ge 50000000
sl_finish
