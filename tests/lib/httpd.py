#!/usr/bin/env python3
"""Tiny static HTTP server for the namespace tests: binds one address
explicitly, serves one directory, never does reverse DNS, logs nothing.
PUT answers the SHA-256 of the body it received (upload integrity checks)."""
import functools
import hashlib
import http.server
import socket
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    def address_string(self):  # no reverse DNS lookup
        return self.client_address[0]

    def log_message(self, fmt, *args):
        pass

    def do_PUT(self):
        left = int(self.headers.get("Content-Length", "0"))
        h = hashlib.sha256()
        while left > 0:
            chunk = self.rfile.read(min(left, 1 << 16))
            if not chunk:
                break
            h.update(chunk)
            left -= len(chunk)
        body = (h.hexdigest() + "\n").encode()
        self.send_response(200 if left == 0 else 400)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def main():
    addr, port, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    handler = functools.partial(Handler, directory=root)
    cls = http.server.ThreadingHTTPServer
    if ":" in addr:  # an IPv6 address
        class Server6(cls):
            address_family = socket.AF_INET6
        cls = Server6
    srv = cls((addr, port), handler)
    print("httpd ready", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
