#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The whole HTTP API suite (tests/api/test_api.py) with EVPN_STORE=ssm:
evpnd runs with the `ssm` store against the SSM test server (which checks
every signature with python3-botocore). The suite is imported unchanged;
only its daemon config gets the ssm store block, and its "store removed"
step stops the SSM server instead of deleting the file store's directory.
Afterwards the SSM layout of docs/store-layout.md is checked in the server's dump.
Stdlib only (the server itself runs under /usr/bin/python3).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

SRC = os.environ.get("EVPN_SOURCE_DIR", "")
BUILD = os.environ.get("EVPN_BUILD_DIR", "")
PY = "/usr/bin/python3"
AK, SK = "AKIDEVPNAPITEST1", "evpn-api-test-secret-000000000000000000"


def need_botocore():
    ok = subprocess.run([PY, "-c", "import botocore.auth"],
                        capture_output=True).returncode == 0
    if not ok:
        print("missing prerequisite: python3-botocore")
        sys.exit(1 if os.environ.get("CI") else 77)


class SsmServer:
    def __init__(self, tmp):
        self.tmp = tmp
        self.proc = None
        self.port = None

    def start(self):
        pf = os.path.join(self.tmp, "ssm.port")
        self.log = open(os.path.join(self.tmp, "ssm.log"), "ab")
        self.proc = subprocess.Popen(
            [PY, os.path.join(SRC, "tests/ssm/ssm_server.py"), "--quiet",
             "--port-file", pf, "--static-key", AK + ":" + SK, "--page-size", "4"],
            stdout=self.log, stderr=self.log)
        for _ in range(100):
            if os.path.exists(pf):
                self.port = int(open(pf).read())
                return
            time.sleep(0.1)
        raise SystemExit("SSM test server did not start")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)

    def get(self, path):
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (self.port, path)) as r:
            return json.load(r)


def main():
    if not SRC or not BUILD:
        print("EVPN_SOURCE_DIR/EVPN_BUILD_DIR not set")
        return 1
    need_botocore()
    tmp = tempfile.mkdtemp(prefix="evpn-api-ssm-")
    srv = SsmServer(tmp)
    srv.start()
    for v in [k for k in os.environ if k.startswith("AWS_")]:
        del os.environ[v]
    os.environ.update({
        "AWS_ACCESS_KEY_ID": AK, "AWS_SECRET_ACCESS_KEY": SK,
        "AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:%d" % srv.port,
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    sys.dont_write_bytecode = True  # no __pycache__ in tests/api
    sys.path.insert(0, os.path.join(SRC, "tests/api"))
    import test_api as suite  # noqa: E402

    old = "  store: {{ use: file, config: {{ dir: {state} }} }}\n"
    if old not in suite.CONFIG:
        print("FAIL - tests/api/test_api.py changed its store line; update this wrapper")
        return 1
    suite.CONFIG = suite.CONFIG.replace(
        old,
        "  store:\n    use: ssm\n    config:\n      prefix: /evpn-api\n"
        "      retry_base_delay: 20ms\n      retry_max_delay: 500ms\n"
        "      max_attempts: 3\n      timeout: 5s\n")
    suite.CONFIG = suite.CONFIG.replace("# {state}", "")

    class ShutilProxy:
        """t_store_gone() removes the file store's directory; for SSM the
        equivalent is the endpoint going away."""
        def __getattr__(self, name):
            return getattr(shutil, name)

        def rmtree(self, path, *a, **kw):
            if suite.D is not None and path == suite.D.state:
                srv.stop()
                return None
            return shutil.rmtree(path, *a, **kw)

    suite.shutil = ShutilProxy()

    # The suite expects {"plugins": {"store": "file"}} from /health; here
    # it must say "ssm". Check that, then show the suite what it expects.
    health_store = []
    real_jreq = suite.jreq

    def jreq(method, path, *a, **kw):
        st, h, j = real_jreq(method, path, *a, **kw)
        if path == "/health" and isinstance(j, dict) and \
                isinstance(j.get("plugins"), dict) and "store" in j["plugins"]:
            health_store.append(j["plugins"]["store"])
            j["plugins"]["store"] = "file"
        return st, h, j

    suite.jreq = jreq
    dump = {}
    real_store_gone = suite.t_store_gone

    def store_gone_with_layout_check():
        # before the store goes away: the SPEC layout and the signatures
        dump.update(srv.get("/_test/dump"))
        dump["__stats"] = srv.get("/_test/stats")
        real_store_gone()

    suite.t_store_gone = store_gone_with_layout_check
    rc = suite.main()

    fails = 0

    def check(cond, what):
        nonlocal fails
        print(("ok   - " if cond else "FAIL - ") + what)
        fails += 0 if cond else 1

    check(health_store and set(health_store) == {"ssm"},
          "/health reports store ssm %s" % sorted(set(health_store)))
    stats = dump.pop("__stats", {})
    names = set(dump)
    check(any(n.startswith("/evpn-api/users/alice/") for n in names),
          "users stored under {prefix}/users/{id}/ (%d parameters)" % len(names))
    for leaf in ("api-key-hash", "created-at", "status", "public-key", "address"):
        check("/evpn-api/users/alice/" + leaf in names, "alice has " + leaf)
    check(any(n.startswith("/evpn-api/addresses/") for n in names),
          "address claims under {prefix}/addresses/")
    secure = sorted(n for n, p in dump.items() if p["Type"] == "SecureString")
    check(any(n.endswith("server-private-key") or n.endswith("master-api-key")
              for n in secure) or not any("private" in n for n in names),
          "secrets are SecureStrings %s" % secure[:4])
    check(stats.get("sig_rejected", 0) == 0,
          "every request evpnd sent had a valid signature (%d requests)"
          % stats.get("requests", 0))
    srv.stop()
    shutil.rmtree(tmp, ignore_errors=True)
    return 1 if rc or fails else 0


if __name__ == "__main__":
    sys.exit(main())
