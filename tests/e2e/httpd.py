#!/usr/bin/env python3
"""A tiny HTTP file server for namespace tests: binds exactly the given
address, never does reverse DNS (http.server's default logging does), and
prints READY once listening."""
import http.server
import os
import sys


class Handler(http.server.SimpleHTTPRequestHandler):
    def address_string(self):
        return self.client_address[0]

    def log_message(self, fmt, *args):
        pass


def main():
    addr, port, root = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    os.chdir(root)
    srv = http.server.ThreadingHTTPServer((addr, port), Handler)
    print("READY", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    main()
