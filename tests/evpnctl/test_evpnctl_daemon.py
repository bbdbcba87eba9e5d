"""evpnctl against the real evpnd (file store, civetweb-rest, bearer).

API-only daemon on 127.0.0.1: setup, create (the server's record holds the
public key of the private key written locally), list, status, config,
409/401/403 paths, delete. The tunnel itself (connect/disconnect with
wg-quick) is covered by the end-to-end test.
"""
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evpnctl_testlib as T  # noqa: E402

MASTER = "0123456789abcdef" * 4


def prerequisites(build):
    need = [os.path.join(build, "evpnd")] + [
        os.path.join(build, "plugins", p + ".so")
        for p in ("store-file", "api-civetweb-rest", "auth-bearer")]
    missing = [p for p in need if not os.path.isfile(p)]
    if missing:
        print("missing: " + ", ".join(missing))
        # Outside CI a partial build may skip; in CI it must fail.
        sys.exit(1 if os.environ.get("CI") else 77)


def api(url, path, token):
    req = urllib.request.Request(url + path,
                                 headers={"Authorization": "Bearer " + token})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.read().decode()


def main():
    T.self_check_x25519()
    build = os.environ.get("EVPN_BUILD_DIR", "build")
    prerequisites(build)
    tmp = tempfile.mkdtemp(prefix="evpnctl-daemon-")
    port = T.free_port()
    cfg = os.path.join(tmp, "evpn.yaml")
    with open(cfg, "w") as f:
        f.write("""log_level: debug
plugin_dir: %s
master_key: "%s"
network:
  pool: 10.77.0.0/24
  endpoint: 127.0.0.1:51820
  dns: [1.1.1.1]
  mtu: 1420
plugins:
  store: { use: file, config: { dir: "%s" } }
  api:   { use: civetweb-rest, config: { listen: "127.0.0.1:%d" } }
  auth:  { use: bearer, config: {} }
""" % (os.path.abspath(os.path.join(build, "plugins")), MASTER,
            os.path.join(tmp, "var"), port))
    log = open(os.path.join(tmp, "evpnd.log"), "w+")
    env = {k: v for k, v in os.environ.items() if not k.startswith("EVPN_")
           or k in ("EVPN_BUILD_DIR", "EVPN_SOURCE_DIR")}
    proc = subprocess.Popen([os.path.join(build, "evpnd"), "run", "-c", cfg],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    c = T.Checker()
    try:
        if not T.wait_port(port, 20, proc):
            log.seek(0)
            print(log.read())
            c.check(False, "evpnd answers on its API port")
        else:
            checks(c, "http://127.0.0.1:%d" % port, tmp)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
        c.check(rc == 0, "evpnd stops cleanly on SIGTERM", rc)
        if c.failed:
            log.seek(0)
            print("---- evpnd log ----\n" + log.read()[-6000:])
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)
    c.finish()


def checks(c, url, tmp):
    cdir = os.path.join(tmp, "client")
    env = dict(os.environ, EVPN_CLIENT_DIR=cdir)
    ev = lambda *a: T.run(list(a), env)  # noqa: E731

    r = ev("setup", url, "not-the-key")
    c.check(r.returncode == 0 and "401" in r.stderr,
            "setup with a bad key warns (401)", r.stderr)
    r = ev("list")
    c.check(r.returncode == 2 and "(401)" in r.stderr, "bad key: exit 2",
            r.stderr)
    r = ev("setup", url, MASTER)
    c.check(r.returncode == 0 and "server OK" in r.stderr, "setup", r.stderr)

    r = ev("create", "alice", "--ttl", "1h")
    c.check(r.returncode == 0, "create alice --ttl 1h", r.stderr)
    key = r.stdout.strip()
    c.check(re.fullmatch(r"[0-9a-f]{64}", key) is not None,
            "create prints a 64-hex API key", r.stdout)
    conf = os.path.join(cdir, "alice.conf")
    c.check(os.path.exists(conf) and T.mode(conf) == 0o600, "alice.conf 0600")
    with open(conf) as f:
        text = f.read()
    m = re.search(r"^PrivateKey = ([A-Za-z0-9+/]{43}=)$", text, re.M)
    c.check(m is not None, "alice.conf has a real private key", text)
    rec = json.loads(api(url, "/users/alice", MASTER))
    if m:
        c.check(T.pubkey_b64(m.group(1)) == rec.get("public_key"),
                "server's public key is the local private key's")
    c.check(rec.get("expires_at"), "ttl reached the server", rec)
    server_conf = api(url, "/users/alice/config", MASTER)
    c.check(m is not None and m.group(1) not in server_conf,
            "the server does not hold the private key")
    strip = lambda s: [ln for ln in s.splitlines()  # noqa: E731
                       if not ln.startswith(("PrivateKey", "#"))]
    c.check(strip(text) == strip(server_conf),
            "local config = server config + private key")

    r = ev("create", "split", "--allowed-ips", "10.0.0.0/8, fd00::/8")
    c.check(r.returncode == 0, "create --allowed-ips", r.stderr)
    with open(os.path.join(cdir, "split.conf")) as f:
        c.check("AllowedIPs = 10.0.0.0/8, fd00::/8\n" in f.read(),
                "split.conf routes only the allowed IPs")
    r = ev("create", "split2", "--allowed-ips", "10.0.0.1/8")
    c.check(r.returncode == 2 and "host bits" in r.stderr,
            "create --allowed-ips with host bits: server refuses (exit 2)",
            r.stderr)
    r = ev("create", "capped", "--quota", "10GB")
    c.check(r.returncode == 0, "create --quota 10GB", r.stderr)
    rec = json.loads(api(url, "/users/capped", MASTER))
    c.check(rec.get("quota") == 10000000000, "the quota reached the server", rec)
    r = ev("create", "capped2", "--quota", "10TiBB")
    c.check(r.returncode == 2, "a size the server refuses: exit 2", r.stderr)
    r = ev("create", "slow", "--rate-limit", "20mbit")
    c.check(r.returncode == 0, "create --rate-limit 20mbit", r.stderr)
    rec = json.loads(api(url, "/users/slow", MASTER))
    c.check(rec.get("rate_limit") == 20000000,
            "the rate limit reached the server (bits/s)", rec)
    r = ev("create", "slow2", "--rate-limit", "20 furlongs")
    c.check(r.returncode != 0 and "bad --rate-limit" in r.stderr,
            "a bad rate is refused before any request", r.stderr)
    r = ev("delete", "slow")
    c.check(r.returncode == 0, "delete slow", r.stderr)
    r = ev("delete", "capped")
    c.check(r.returncode == 0, "delete capped", r.stderr)
    r = ev("delete", "split")
    c.check(r.returncode == 0, "delete split", r.stderr)

    r = ev("create", "alice2")
    c.check(r.returncode == 0, "create alice2", r.stderr)
    os.unlink(os.path.join(cdir, "alice2.conf"))
    r = ev("create", "alice2")
    c.check(r.returncode == 2 and "(409)" in r.stderr,
            "duplicate name: exit 2 (409)", r.stderr)

    r = ev("list")
    c.check(r.returncode == 0 and r.stdout.split() == ["alice", "alice2"],
            "list", r.stdout)
    r = ev("status", "alice")
    c.check(r.returncode == 0 and
            re.search(r"^status\s+active$", r.stdout, re.M) and
            re.search(r"^address\s+10\.77\.0\.\d+/32$", r.stdout, re.M),
            "status alice (with alice's own key)", r.stdout + r.stderr)
    r = ev("config", "alice")
    c.check(r.returncode == 0 and r.stdout == text, "config alice")
    r = ev("config", "alice", "--qr")
    c.check(r.returncode == 0 and "\u2588" in r.stdout, "config --qr")

    uenv = dict(env, EVPN_CLIENT_DIR=os.path.join(tmp, "user"))
    T.run(["setup", url, key], uenv)
    r = T.run(["list"], uenv)
    c.check(r.returncode == 0 and r.stdout == "alice\n",
            "alice's key lists only alice", r.stdout + r.stderr)
    r = T.run(["delete", "alice2"], uenv)
    c.check(r.returncode == 2 and "(403)" in r.stderr,
            "alice's key cannot delete: exit 2 (403)", r.stderr)
    r = T.run(["link", "alice", "--ttl", "10m"], uenv)
    url = r.stdout.strip()
    c.check(r.returncode == 0 and re.fullmatch(r"http://\S+/links/[0-9a-f]{64}", url)
            is not None and "valid once" in r.stderr,
            "link alice with alice's key: a URL", r.stdout + r.stderr)
    if r.returncode == 0 and url.startswith("http://"):
        import urllib.error
        with urllib.request.urlopen(url) as resp:
            c.check(b"[Peer]" in resp.read(), "the link answers the config")
        try:
            urllib.request.urlopen(url)
            c.check(False, "the link works only once")
        except urllib.error.HTTPError as e:
            c.check(e.code == 410, "the link works only once (410)", str(e))
    r = T.run(["link", "alice2"], uenv)
    c.check(r.returncode == 2 and "(403)" in r.stderr,
            "alice's key cannot link alice2's config: exit 2 (403)", r.stderr)
    r = T.run(["audit"], uenv)
    c.check(r.returncode == 2 and "(403)" in r.stderr,
            "a user key cannot read the audit log: exit 2 (403)", r.stderr)

    for name in ("alice", "alice2"):
        r = ev("delete", name)
        c.check(r.returncode == 0, "delete " + name, r.stderr)
    c.check(not os.path.exists(conf), "local files removed")
    r = ev("list")
    c.check(r.returncode == 0 and r.stdout == "", "no users left", r.stdout)
    r = ev("status", "alice")
    c.check(r.returncode == 2 and "does not exist" in r.stderr,
            "status of a deleted user: exit 2 (404)", r.stderr)

    # the audit log: newest first, pages chained (--limit above a page)
    r = ev("audit", "--limit", "3")
    lines = r.stdout.splitlines()
    c.check(r.returncode == 0 and len(lines) == 3 and
            " delete " in lines[0] and " alice2 " in lines[0] and
            " master " in lines[0] and " ok " in lines[0],
            "audit --limit 3: the 3 newest, the last delete first", r.stdout)
    r = ev("audit", "--limit", "1000")
    lines = r.stdout.splitlines()
    c.check(r.returncode == 0 and any(" create " in ln and " split " in ln
                                      for ln in lines) and
            any(" denied " in ln and " user:alice " in ln for ln in lines),
            "audit: the whole session, the denied delete too", r.stdout)


if __name__ == "__main__":
    main()
