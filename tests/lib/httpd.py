#!/usr/bin/env python3
"""Tiny static HTTP server for the namespace tests: binds one address
explicitly, serves one directory, never does reverse DNS, logs nothing."""
import functools
import http.server
import socket
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    def address_string(self):  # no reverse DNS lookup
        return self.client_address[0]

    def log_message(self, fmt, *args):
        pass


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
