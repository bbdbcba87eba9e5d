#!/usr/bin/env python3
"""A UDP <-> WebSocket relay for the stream tests (stdlib only).

relay:  ws_relay.py URL --key KEY --udp 127.0.0.1:PORT [--cafile F] [--proxy URL]
        Takes WireGuard datagrams on a local UDP port (wireguard-go's
        endpoint points there) and carries each one as a masked binary
        message over ws:// or wss:// URL, and back. Prints "ready" once the
        upgrade succeeded; exits 3 when the upgrade is refused (printing
        the status), 4 when the server closes the stream (printing the
        close code).
probe:  ws_relay.py URL --key KEY --probe
        Only the upgrade: prints the HTTP status (101 on success).
raw:    ws_relay.py URL --key KEY --raw HEX
        Upgrade, send HEX as raw bytes, print the server's close code.
stall:  relay mode with --stall: after "ready", datagrams still go to the
        server but nothing is read back (a small receive buffer), so the
        server's queue for this stream fills.
slow:   ws_relay.py URL --slow
        Send half an upgrade request and wait: prints the HTTP status the
        server closes with and the seconds it took.
"""
import argparse
import base64
import hashlib
import os
import select
import socket
import ssl
import struct
import sys
import urllib.parse

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def connect(url, cafile, proxy, rcvbuf=0):
    u = urllib.parse.urlsplit(url)
    port = u.port or (443 if u.scheme == "wss" else 80)
    if proxy:
        p = urllib.parse.urlsplit(proxy)
        s = socket.create_connection((p.hostname, p.port or 3128), timeout=10)
        s.sendall(f"CONNECT {u.hostname}:{port} HTTP/1.1\r\nHost: {u.hostname}:{port}\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            b = s.recv(1)
            if not b:
                raise SystemExit("proxy closed")
            head += b
        if b" 200" not in head.split(b"\r\n")[0]:
            raise SystemExit("proxy refused: " + head.split(b"\r\n")[0].decode())
    else:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        s.settimeout(10)
        s.connect((u.hostname, port))
    if u.scheme == "wss":
        ctx = ssl.create_default_context(cafile=cafile)
        s = ctx.wrap_socket(s, server_hostname=u.hostname)
    return s, u, port


def upgrade(s, u, port, key):
    nonce = base64.b64encode(os.urandom(16))
    req = (f"GET {u.path or '/'} HTTP/1.1\r\nHost: {u.hostname}:{port}\r\n"
           "Upgrade: websocket\r\nConnection: Upgrade\r\n"
           f"Sec-WebSocket-Key: {nonce.decode()}\r\nSec-WebSocket-Version: 13\r\n")
    if key is not None:
        req += f"Authorization: Bearer {key}\r\n"
    s.sendall((req + "\r\n").encode())
    head = b""
    while b"\r\n\r\n" not in head:
        b = s.recv(4096)
        if not b:
            return 0, b""
        head += b
    head, rest = head.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ")[1])
    if status == 101:
        want = base64.b64encode(hashlib.sha1(nonce + GUID).digest())
        if b"sec-websocket-accept: " + want.lower() not in head.lower():
            raise SystemExit("bad Sec-WebSocket-Accept")
    return status, rest


def frame(op, payload):
    mask = os.urandom(4)
    n = len(payload)
    if n < 126:
        h = struct.pack("!BB", 0x80 | op, 0x80 | n)
    elif n < 65536:
        h = struct.pack("!BBH", 0x80 | op, 0x80 | 126, n)
    else:
        h = struct.pack("!BBQ", 0x80 | op, 0x80 | 127, n)
    body = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
    return h + mask + body


def parse(buf):
    """One unmasked frame from buf: (op, payload, rest) or None."""
    if len(buf) < 2:
        return None
    op, n = buf[0] & 0x0F, buf[1] & 0x7F
    off = 2
    if n == 126:
        if len(buf) < 4:
            return None
        n, off = struct.unpack("!H", buf[2:4])[0], 4
    elif n == 127:
        if len(buf) < 10:
            return None
        n, off = struct.unpack("!Q", buf[2:10])[0], 10
    if len(buf) < off + n:
        return None
    return op, buf[off:off + n], buf[off + n:]


def close_code(s, buf):
    """Read frames until a close; its code (or 0 on EOF)."""
    s.settimeout(10)
    while True:
        f = parse(buf)
        if f:
            op, payload, buf = f
            if op == 8:
                return struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            continue
        try:
            b = s.recv(65536)
        except (socket.timeout, OSError):
            return 0
        if not b:
            return 0
        buf += b


def relay(s, buf, udp_addr, stall=False):
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    host, port = udp_addr.rsplit(":", 1)
    u.bind((host, int(port)))
    peer = None
    s.setblocking(True)
    s.settimeout(None)
    print("ready", flush=True)
    while True:
        pending = isinstance(s, ssl.SSLSocket) and s.pending()
        r = [s] if pending else select.select([u] if stall else [s, u], [], [])[0]
        if u in r:
            d, peer = u.recvfrom(65536)
            s.sendall(frame(2, d))
        if s in r:
            b = s.recv(65536)
            if not b:
                print("closed 0", flush=True)
                return 4
            buf += b
            while True:
                f = parse(buf)
                if not f:
                    break
                op, payload, buf = f
                if op == 2 and peer:
                    u.sendto(payload, peer)
                elif op == 9:
                    s.sendall(frame(10, payload))
                elif op == 8:
                    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                    print(f"closed {code}", flush=True)
                    return 4


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--key")
    ap.add_argument("--udp")
    ap.add_argument("--cafile")
    ap.add_argument("--proxy")
    ap.add_argument("--probe", action="store_true")
    ap.add_argument("--raw")
    ap.add_argument("--stall", action="store_true")
    ap.add_argument("--slow", action="store_true")
    a = ap.parse_args()
    if a.slow:
        import time
        u = urllib.parse.urlsplit(a.url)
        s = socket.create_connection((u.hostname, u.port), timeout=60)
        t0 = time.monotonic()
        s.sendall(b"GET /wg HTTP/1.1\r\nHost: h\r\n")
        head = b""
        while True:
            b = s.recv(4096)
            if not b:
                break
            head += b
        status = head.split(b" ")[1].decode() if head.startswith(b"HTTP/1.1 ") else "0"
        print(status, int(time.monotonic() - t0))
        return 0
    s, u, port = connect(a.url, a.cafile, a.proxy, 4096 if a.stall else 0)
    status, rest = upgrade(s, u, port, a.key)
    if a.probe:
        print(status)
        return 0
    if status != 101:
        print(f"refused {status}", flush=True)
        return 3
    if a.raw is not None:
        s.sendall(bytes.fromhex(a.raw))
        print(close_code(s, rest))
        return 0
    return relay(s, rest, a.udp, a.stall)


if __name__ == "__main__":
    sys.exit(main())
