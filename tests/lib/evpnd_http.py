# SPDX-License-Identifier: MIT
"""What the Python suites that drive a real `evpnd run` on loopback share
(tests/api/test_api.py, tests/console/test_console.py): TAP-like checks,
the daemon started from a config with its API on an ephemeral port of
127.0.0.1 (found in its log), and one HTTP request to that API. Python
stdlib only.

A suite puts this directory on sys.path (with sys.dont_write_bytecode, so
that no __pycache__ lands in the source tree) and imports it."""
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import time

PLUGINS = ("store-file", "auth-bearer", "api-civetweb-rest")

failures = []


def check(cond, what):
    """One "ok - WHAT" or "FAIL - WHAT" line; a failure is remembered in
    `failures` and the suite goes on."""
    print(("ok   - " if cond else "FAIL - ") + what, flush=True)
    if not cond:
        failures.append(what)
    return cond


def result():
    """The summary line; the suite's exit status."""
    print("%d failure(s)" % len(failures))
    return 1 if failures else 0


def missing_build(build):
    """What of evpnd and the plugins the suites load is not built in
    `build` (all of it when `build` is ""): never a skip, ours to build."""
    if not build:
        return ["EVPN_BUILD_DIR is not set"]
    need = [os.path.join(build, "evpnd")] + [
        os.path.join(build, "plugins", p + ".so") for p in PLUGINS]
    return [p for p in need if not os.path.exists(p)]


class Evpnd:
    """`evpnd run -c CFG` in `tmp` with EVPN_MASTER_KEY=master; run N logs
    to tmp/evpnd.N.log, and `port` is the API's once it listens."""

    def __init__(self, build, tmp, master):
        self.build = build
        self.tmp = tmp
        self.master = master
        self.proc = None
        self.port = None
        self.runs = 0
        self.log = None

    def start(self, cfg, ready=None):
        """Starts it and waits (30 s at most) until the log names the API's
        port and then, with `ready`, until ready() is true (an OSError from
        it: not yet). SystemExit with the log's tail when it does not come
        up."""
        self.runs += 1
        self.log = os.path.join(self.tmp, "evpnd.%d.log" % self.runs)
        env = dict(os.environ, EVPN_MASTER_KEY=self.master)
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [os.path.join(self.build, "evpnd"), "run", "-c", cfg],
                stdout=out, stderr=subprocess.STDOUT, env=env)
        deadline = time.time() + 30
        pat = re.compile(rb"listening on http://127\.0\.0\.1:(\d+)")
        while time.time() < deadline and self.proc.poll() is None:
            with open(self.log, "rb") as f:
                m = pat.search(f.read())
            if m:
                self.port = int(m.group(1))
                try:
                    if ready is None or ready():
                        return
                except OSError:
                    pass
            time.sleep(0.1)
        self.dump()
        raise SystemExit("evpnd did not come up")

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM):
        """Sends sig and waits (SIGKILL after 30 s); its exit status (that
        of the last run when it is not running; None before any)."""
        if not self.running():
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def read_log(self):
        with open(self.log, "rb") as f:
            return f.read()

    def dump(self, tail=6000):
        """The log's last `tail` bytes on stdout."""
        try:
            sys.stdout.write(self.read_log()[-tail:].decode(errors="replace"))
        except (OSError, TypeError):
            pass


def request(port, method, path, body=None, token=None,
            ctype="application/json", headers=None, source=None,
            chunked=False, timeout=20):
    """One request to 127.0.0.1:port: (status, headers lower-cased, body
    bytes). body: bytes or str as is, anything else as JSON (chunked: an
    iterable of bytes); token: a bearer token; source: the address to send
    from."""
    conn = http.client.HTTPConnection(
        "127.0.0.1", port, timeout=timeout,
        source_address=(source, 0) if source else None)
    h = dict(headers or {})
    if token is not None:
        h["Authorization"] = "Bearer " + token
    if body is not None:
        if not isinstance(body, (bytes, str)) and not chunked:
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        if ctype:
            h["Content-Type"] = ctype
    try:
        if chunked:
            h["Transfer-Encoding"] = "chunked"
            conn.request(method, path, body=iter(body), headers=h,
                         encode_chunked=True)
        else:
            conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        data = r.read()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, data
    finally:
        conn.close()
