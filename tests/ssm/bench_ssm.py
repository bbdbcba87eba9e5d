#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Benchmark (run on purpose, not a timed test): SSM requests per user
creation and per evpnd start-up with N users, against the SSM test server.

  EVPN_BUILD_DIR=build EVPN_SOURCE_DIR=. python3 tests/ssm/bench_ssm.py [N]

Targets: a user creation in <= 8 SSM calls; start-up with
1,000 users in <= 1,000/10 + 10 list calls.
"""
import concurrent.futures
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

SRC = os.path.abspath(os.environ["EVPN_SOURCE_DIR"])
BUILD = os.path.abspath(os.environ["EVPN_BUILD_DIR"])
AK, SK = "AKIDEVPNBENCH001", "evpn-bench-secret-0000000000000000000000"
MASTER = "bench-master-" + secrets.token_hex(16)
N = int(sys.argv[1]) if len(sys.argv) > 1 else 1000

CONFIG = """\
log_level: info
plugin_dir: %s
master_key: ${EVPN_MASTER_KEY:-}
network: { pool: 10.77.0.0/16, endpoint: "127.0.0.1:51820", dns: [1.1.1.1], mtu: 1420 }
plugins:
  store: { use: ssm, config: { prefix: /evpn-bench } }
  auth: { use: bearer }
  api: { use: civetweb-rest, config: { listen: "127.0.0.1:0", threads: 16 } }
"""


def http(url, method="GET", body=None, token=None):
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = "Bearer " + token
    r = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                               method=method, headers=h)
    try:
        with urllib.request.urlopen(r, timeout=60) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def main():
    tmp = tempfile.mkdtemp(prefix="evpn-bench-ssm-")
    pf = os.path.join(tmp, "port")
    srv = subprocess.Popen(["/usr/bin/python3", os.path.join(SRC, "tests/ssm/ssm_server.py"),
                            "--quiet", "--port-file", pf, "--static-key", AK + ":" + SK],
                           stderr=subprocess.DEVNULL)
    daemon = None
    try:
        while not os.path.exists(pf):
            time.sleep(0.05)
        ssm = "http://127.0.0.1:%d" % int(open(pf).read())
        cfg = os.path.join(tmp, "evpn.yaml")
        open(cfg, "w").write(CONFIG % os.path.join(BUILD, "plugins"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(AWS_ACCESS_KEY_ID=AK, AWS_SECRET_ACCESS_KEY=SK, AWS_ENDPOINT_URL_SSM=ssm,
                   AWS_EC2_METADATA_DISABLED="true", EVPN_MASTER_KEY=MASTER)

        def stats():
            return json.loads(http(ssm + "/_test/stats")[1])

        def start():
            log = open(os.path.join(tmp, "evpnd.log"), "wb")
            p = subprocess.Popen([os.path.join(BUILD, "evpnd"), "run", "-c", cfg],
                                 stdout=log, stderr=subprocess.STDOUT, env=env)
            t0 = time.time()
            while True:
                m = re.search(rb"listening on http://127\.0\.0\.1:(\d+)",
                              open(os.path.join(tmp, "evpnd.log"), "rb").read())
                if m and http("http://127.0.0.1:%s/health" % m.group(1).decode())[0] == 200:
                    return p, "http://127.0.0.1:" + m.group(1).decode(), time.time() - t0
                if p.poll() is not None or time.time() - t0 > 600:
                    raise SystemExit("evpnd did not start")
                time.sleep(0.05)

        def delta(a, b):
            return {k[3:]: b.get(k, 0) - a.get(k, 0) for k in b
                    if k.startswith("op.") and b.get(k, 0) != a.get(k, 0)}

        daemon, api, _ = start()
        s0 = stats()
        for i in range(5):
            st, _ = http(api + "/users", "POST", {"client_id": "probe-%d" % i}, MASTER)
            assert st == 201, st
        s1 = stats()
        per = delta(s0, s1)
        print("%-34s %s" % ("SSM calls per user creation:", sum(per.values()) / 5))
        print("    by operation (5 creations): %s" % per)

        t0 = time.time()
        with concurrent.futures.ThreadPoolExecutor(8) as ex:
            res = list(ex.map(lambda i: http(api + "/users", "POST", {"client_id": "u%05d" % i}, MASTER)[0],
                              range(N)))
        print("%-34s %d of %d in %.1f s" % ("created users:", res.count(201), N, time.time() - t0))
        daemon.terminate()
        daemon.wait()

        s2 = stats()
        daemon, api, secs = start()
        s3 = stats()
        d = delta(s2, s3)
        print("%-34s %d (%s) in %.2f s" % ("SSM calls at start-up with %d users:" % (N + 5),
                                          sum(d.values()), d, secs))
        print("%-34s <= %d list calls" % ("target:", (N + 5) // 10 + 10))
    finally:
        if daemon:
            daemon.terminate()
            daemon.wait()
        srv.terminate()
        srv.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
