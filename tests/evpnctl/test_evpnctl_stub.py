"""evpnctl against a stub evpn API (stdlib http.server) on 127.0.0.1.

Checks what evpnctl sends (method, path, token, exact JSON fields: the
private key never leaves the client) and what it prints, writes and exits
with, including the error paths the README names: unreachable server, bad key
(401/403), name taken (409), not root, wg-quick missing, a program
wg-quick needs missing (checked before anything changes), the API key
from stdin or the environment (never echoed), a warning for plain http
to another machine, and a server config carrying hooks (PostUp...) that
must not reach wg-quick.
"""
import base64
import http.server
import json
import os
import re
import shutil
import socket
import socketserver
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import evpnctl_testlib as T  # noqa: E402

MASTER = "m" * 64
PLACEHOLDER = "PrivateKey = (client-held private key)"


class Stub:
    def __init__(self):
        self.users = {"taken": {"api_key": "k" * 64, "public_key": "x"}}
        self.requests = []
        self.fail_next = None  # (status, headers, body) for the next call
        self.omit_config = set()  # client_ids whose 201 leaves config out
        # client_id -> (lines for [Interface], lines for [Peer]): a server
        # that tries to make the client run something
        self.extra_conf = {}
        self.raw_conf = {}  # client_id -> the whole config to send
        self.lock = threading.Lock()


def make_handler(stub):
    class H(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def address_string(self):  # never a reverse DNS lookup
            return self.client_address[0]

        def send(self, status, body=None, ctype="application/json",
                 headers=()):
            data = b""
            if body is not None:
                data = (json.dumps(body) if ctype == "application/json"
                        else body).encode()
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            if status != 204:
                self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def err(self, status, msg, code, headers=()):
            self.send(status, {"error": msg, "code": code}, headers=headers)

        def principal(self):
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer "):
                return None
            tok = auth[7:]
            if tok == MASTER:
                return "admin"
            for cid, u in stub.users.items():
                if u["api_key"] == tok:
                    return cid
            return None

        def handle_any(self, method):
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n) if n else b""
            with stub.lock:
                stub.requests.append({
                    "method": method, "path": self.path,
                    "auth": self.headers.get("Authorization"),
                    "ctype": self.headers.get("Content-Type"),
                    "body": raw.decode(errors="replace")})
                if stub.fail_next:
                    st, hdrs, body = stub.fail_next
                    stub.fail_next = None
                    return self.send(st, body, headers=hdrs)
                return self.route(method, raw)

        def route(self, method, raw):
            who = self.principal()
            if who is None:
                return self.err(401, "missing or unknown token",
                                "unauthorized",
                                headers=[("WWW-Authenticate", "Bearer")])
            path = self.path
            if path == "/users" and method == "GET":
                names = sorted(stub.users) if who == "admin" else [who]
                return self.send(200, names)
            if path == "/users" and method == "POST":
                if who != "admin":
                    return self.err(403, "admin only", "forbidden")
                try:
                    req = json.loads(raw)
                except ValueError:
                    return self.err(400, "bad JSON", "bad_request")
                cid = req.get("client_id", "")
                if cid in stub.users:
                    return self.err(409, "client_id exists", "exists")
                pub = req.get("public_key")
                if not pub or len(base64.b64decode(pub)) != 32:
                    return self.err(400, "bad public_key", "bad_request")
                key = ("%064x" % (len(stub.users) + 1))
                addr = "10.77.0.%d/32" % (len(stub.users) + 2)
                stub.users[cid] = {"api_key": key, "public_key": pub,
                                   "address": addr}
                xi, xp = stub.extra_conf.get(cid, ("", ""))
                conf = ("[Interface]\n" + PLACEHOLDER + "\n"
                        "Address = %s\nDNS = 1.1.1.1\n%s\n[Peer]\n"
                        "PublicKey = %s\nAllowedIPs = 0.0.0.0/0\n"
                        "Endpoint = 127.0.0.1:51820\n%s"
                        % (addr, xi, base64.b64encode(b"S" * 32).decode(),
                           xp))
                conf = stub.raw_conf.get(cid, conf)
                stub.users[cid]["config"] = conf
                rec = {"client_id": cid, "api_key": key,
                       "created_at": "2025-01-01T00:00:00Z",
                       "status": "active", "address": addr,
                       "public_key": pub}
                if "ttl" in req:
                    rec["expires_at"] = "2025-01-01T01:00:00Z"
                if cid not in stub.omit_config:
                    rec["config"] = conf
                return self.send(201, rec)
            m = re.fullmatch(r"/users/([a-z0-9][a-z0-9_.-]*)(/config)?",
                             path)
            if not m:
                return self.err(404, "no route", "not_found")
            cid, sub = m.group(1), m.group(2)
            if who != "admin" and who != cid:
                return self.err(403, "not yours", "forbidden")
            if cid not in stub.users:
                return self.err(404, "no such user", "not_found")
            u = stub.users[cid]
            if method == "GET" and sub:
                if cid in stub.omit_config:
                    return self.err(500, "boom", "internal")
                return self.send(200, u["config"], ctype="text/plain")
            if method == "GET":
                return self.send(200, {
                    "client_id": cid, "status": "active",
                    "address": u.get("address"),
                    "public_key": u["public_key"],
                    "created_at": "2025-01-01T00:00:00Z",
                    "last_handshake": None, "rx_bytes": 123,
                    "tx_bytes": 456, "endpoint": None})
            if method == "DELETE":
                if who != "admin":
                    return self.err(403, "admin only", "forbidden")
                del stub.users[cid]
                return self.send(204)
            return self.err(405, "method", "method")

        def do_GET(self):
            self.handle_any("GET")

        def do_POST(self):
            self.handle_any("POST")

        def do_DELETE(self):
            self.handle_any("DELETE")

    return H


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    address_family = socket.AF_INET
    daemon_threads = True

    def server_bind(self):
        # HTTPServer.server_bind calls getfqdn(): a reverse DNS lookup that
        # can hang without a network. Bind plainly instead.
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]


def main():
    T.self_check_x25519()
    c = T.Checker()
    stub = Stub()
    srv = Server(("127.0.0.1", 0), make_handler(stub))
    port = srv.server_address[1]
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    if not T.wait_port(port):
        raise SystemExit("stub server did not come up")
    url = "http://127.0.0.1:%d" % port
    tmp = tempfile.mkdtemp(prefix="evpnctl-test-")
    try:
        run_checks(c, stub, url, tmp)
    finally:
        srv.shutdown()
        shutil.rmtree(tmp, ignore_errors=True)
    c.finish()


def last(stub, method=None):
    reqs = [r for r in stub.requests if method is None or
            r["method"] == method]
    return reqs[-1] if reqs else {}


def run_checks(c, stub, url, tmp):
    cdir = os.path.join(tmp, "client", "evpn")
    env = dict(os.environ, EVPN_CLIENT_DIR=cdir, HOME=tmp)
    env.pop("WG_QUICK_USERSPACE_IMPLEMENTATION", None)
    ev = lambda *a, e=env: T.run(list(a), e)  # noqa: E731

    # --help everywhere, exit 0
    for cmd in ("setup", "create", "connect", "disconnect", "list",
                "status", "delete", "config"):
        r = ev(cmd, "--help")
        c.check(r.returncode == 0 and
                r.stdout.startswith("usage: evpnctl " + cmd),
                cmd + " --help", r.stdout + r.stderr)
    r = ev("--help")
    c.check(r.returncode == 0 and "exit status" in r.stdout, "--help")
    r = ev("frobnicate")
    c.check(r.returncode == 1 and "unknown command" in r.stderr,
            "unknown command: exit 1", r.stderr)
    r = ev("create", "Bad Name")
    c.check(r.returncode == 1 and "bad name" in r.stderr, "bad name: exit 1")
    r = ev("create", "alice", "--ttl", "soon")
    c.check(r.returncode == 1 and "--ttl" in r.stderr, "bad ttl: exit 1")
    r = ev("setup", "ftp://x", "k")
    c.check(r.returncode == 1 and "bad URL" in r.stderr, "bad URL: exit 1")

    # not set up yet
    r = ev("list")
    c.check(r.returncode == 3 and "not set up" in r.stderr,
            "list before setup: exit 3", r.stderr)

    # setup against a closed port: saved, warns; list: unreachable, exit 2
    dead = "http://127.0.0.1:%d" % T.free_port()
    r = ev("setup", dead, MASTER)
    c.check(r.returncode == 0 and "unreachable" in r.stderr,
            "setup with unreachable server warns", r.stderr)
    r = ev("list")
    c.check(r.returncode == 2 and "unreachable" in r.stderr and
            "cannot connect" in r.stderr, "unreachable: exit 2", r.stderr)

    # bad key: 401 message
    r = ev("setup", url, "wrong-key")
    c.check(r.returncode == 0 and "401" in r.stderr,
            "setup with a bad key warns (401)", r.stderr)
    r = ev("list")
    c.check(r.returncode == 2 and "rejected the API key (401)" in r.stderr,
            "bad key: exit 2 with 401 message", r.stderr)

    # real setup (trailing slash must not break paths)
    r = ev("setup", url + "/", MASTER)
    c.check(r.returncode == 0 and "server OK" in r.stderr, "setup",
            r.stderr)
    cj = os.path.join(cdir, "client.json")
    c.check(T.mode(cj) == 0o600, "client.json is 0600", oct(T.mode(cj)))
    c.check(T.mode(cdir) == 0o700, "client dir is 0700")
    with open(cj) as f:
        saved = json.load(f)
    c.check(saved == {"url": url + "/", "api_key": MASTER},
            "client.json content", saved)
    c.check(last(stub)["path"] == "/users" and
            last(stub)["auth"] == "Bearer " + MASTER,
            "setup checks GET /users with the master key")

    # the key from stdin or EVPN_MASTER_KEY: never in argv, never echoed
    kdir = os.path.join(tmp, "keydir")
    kenv = dict(env, EVPN_CLIENT_DIR=kdir)
    kenv.pop("EVPN_MASTER_KEY", None)
    kjson = os.path.join(kdir, "client.json")

    def saved_key():
        with open(kjson) as f:
            return json.load(f).get("api_key")
    r = T.run(["setup", url, "-"], kenv, input=MASTER + "\n")
    c.check(r.returncode == 0 and saved_key() == MASTER and
            "server OK" in r.stderr and MASTER not in r.stdout + r.stderr,
            "setup URL - reads the key from stdin, prints it nowhere",
            r.stdout + r.stderr)
    r = T.run(["setup", url], dict(kenv, EVPN_MASTER_KEY="e" * 40),
              stdin=subprocess.DEVNULL)
    c.check(r.returncode == 0 and saved_key() == "e" * 40 and
            "e" * 40 not in r.stdout + r.stderr,
            "setup URL takes the key from EVPN_MASTER_KEY",
            r.stdout + r.stderr)
    r = T.run(["setup", url], kenv, input=MASTER + "\r\n")
    c.check(r.returncode == 0 and saved_key() == MASTER and
            MASTER not in r.stdout + r.stderr,
            "setup URL without EVPN_MASTER_KEY reads stdin", r.stderr)
    r = T.run(["setup", url, "-"], dict(kenv, EVPN_MASTER_KEY="e" * 40),
              input="bad key\n")
    c.check(r.returncode == 1 and "bad API key" in r.stderr and
            "bad key" not in r.stderr.replace("bad API key", "") and
            saved_key() == MASTER,
            "a bad key from stdin: exit 1, not echoed, nothing saved",
            r.stderr)
    r = T.run(["setup", url], kenv, stdin=subprocess.DEVNULL)
    c.check(r.returncode == 1 and "no API key" in r.stderr and
            saved_key() == MASTER, "no key at all: exit 1", r.stderr)
    r = T.run(["setup", url, MASTER], kenv)
    c.check(r.returncode == 0 and saved_key() == MASTER and
            "shell history" in r.stderr and MASTER not in r.stderr,
            "a key in argv still works, with a warning", r.stderr)

    # plain http to another machine: a warning. Nothing leaves this
    # machine: the name cannot resolve and the proxy libcurl is told to use
    # is a closed port on loopback.
    wenv = dict(kenv, EVPN_CLIENT_DIR=os.path.join(tmp, "wdir"),
                http_proxy="http://127.0.0.1:%d" % T.free_port(),
                EVPN_MASTER_KEY=MASTER)
    for k in ("no_proxy", "NO_PROXY"):
        wenv.pop(k, None)
    r = T.run(["setup", "http://evpn-test.invalid:1"], wenv,
              stdin=subprocess.DEVNULL)
    c.check(r.returncode == 0 and "not encrypted" in r.stderr and
            "https://" in r.stderr and MASTER not in r.stderr,
            "setup with http:// to another host warns", r.stderr)
    r = T.run(["list"], wenv)
    c.check(r.returncode == 2 and "not encrypted" in r.stderr,
            "every call over plain http to another host warns", r.stderr)
    r = ev("list")
    c.check(r.returncode == 0 and "not encrypted" not in r.stderr,
            "no warning for http:// to 127.0.0.1", r.stderr)

    # create alice --ttl 1h
    r = ev("create", "alice", "--ttl", "1h")
    c.check(r.returncode == 0, "create alice: exit 0", r.stderr)
    post = last(stub, "POST")
    body = json.loads(post.get("body") or "{}")
    c.check(post.get("path") == "/users" and
            post.get("ctype") == "application/json" and
            post.get("auth") == "Bearer " + MASTER, "POST /users as admin")
    c.check(sorted(body) == ["client_id", "public_key", "ttl"] and
            body["client_id"] == "alice" and body["ttl"] == "1h",
            "POST body has only client_id, public_key, ttl", body)
    key = stub.users.get("alice", {}).get("api_key")
    c.check(r.stdout.strip() == key, "create prints the user's API key",
            r.stdout)
    conf = os.path.join(cdir, "alice.conf")
    keyf = os.path.join(cdir, "alice.key")
    c.check(os.path.exists(conf) and T.mode(conf) == 0o600,
            "alice.conf exists, 0600")
    c.check(os.path.exists(keyf) and T.mode(keyf) == 0o600,
            "alice.key exists, 0600")
    with open(keyf) as f:
        c.check(f.read().strip() == key, "alice.key holds the API key")
    with open(conf) as f:
        text = f.read()
    m = re.search(r"^PrivateKey = (\S+)$", text, re.M)
    c.check(m is not None and PLACEHOLDER not in text,
            "placeholder replaced by a private key", text)
    if m:
        c.check(T.pubkey_b64(m.group(1)) == body.get("public_key"),
                "private key matches the public key sent")
        c.check(m.group(1) not in post["body"],
                "private key never sent to the server")
    c.check(text.replace(m.group(0) if m else "", PLACEHOLDER) ==
            stub.users["alice"]["config"],
            "rest of the server's config kept byte for byte")
    c.check("expires 2025-01-01T01:00:00Z" in r.stderr and
            "10.77.0." in r.stderr, "create reports address and expiry",
            r.stderr)

    # name taken (409) and local file exists
    r = ev("create", "taken")
    c.check(r.returncode == 2 and "already taken" in r.stderr and
            "409" in r.stderr, "name taken: exit 2, 409 message", r.stderr)
    c.check(not os.path.exists(os.path.join(cdir, "taken.conf")),
            "no file written after 409")
    n = len(stub.requests)
    r = ev("create", "alice")
    c.check(r.returncode == 3 and "already exists" in r.stderr and
            len(stub.requests) == n,
            "existing local conf: exit 3 before any request", r.stderr)

    # config without [Interface]... server omits config and GET config
    # fails: evpnctl rolls the user back
    stub.omit_config.add("ghost")
    r = ev("create", "ghost")
    c.check(r.returncode == 2 and "ghost" not in stub.users and
            last(stub)["method"] == "DELETE",
            "failed config fetch: user rolled back", r.stderr)
    c.check(not os.path.exists(os.path.join(cdir, "ghost.key")),
            "no files left after roll back")

    # a server that slips hooks into the config: only the keys evpnctl
    # knows are written, and it says what it dropped
    stub.extra_conf["evil"] = (
        "PostUp = id > %s/pwned\nPreDown = id\nTable = off\n"
        "SaveConfig = true\nDNS = $(id)\n[Hooks]\nPostUp = x\n"
        "[Interface]\n" % tmp, "PostDown = id\n")
    r = ev("create", "evil")
    evil = os.path.join(cdir, "evil.conf")
    with open(evil) as f:
        etext = f.read()
    c.check(r.returncode == 0 and r.stdout.strip() ==
            stub.users["evil"]["api_key"], "create evil: exit 0", r.stderr)
    c.check(not re.search(r"(?im)^\s*(PostUp|PreDown|PostDown|Table|"
                          r"SaveConfig)\b|\$\(|\[Hooks\]", etext) and
            re.search(r"(?m)^PrivateKey = \S{44}$", etext) and
            "Endpoint = 127.0.0.1:51820" in etext,
            "saved config has no hooks, Table, SaveConfig or bad values",
            etext)
    c.check("warning" in r.stderr and all(
        w in r.stderr for w in ("PostUp", "PreDown", "Table", "SaveConfig",
                                "PostDown", "[Hooks]", "DNS (bad value)")),
            "create names what it dropped", r.stderr)

    # a look-alike section gets the private key, then goes whole: nothing
    # usable is left, so no file and the user is rolled back
    stub.raw_conf["fake"] = ("[Interface] = x\nPrivateKey = x\nAddress = "
                             "10.1.1.1/32\n[Peer]\nPublicKey = %s\n"
                             % base64.b64encode(b"S" * 32).decode())
    r = ev("create", "fake")
    c.check(r.returncode == 2 and "no usable [Interface]" in r.stderr and
            "fake" not in stub.users and
            not os.path.exists(os.path.join(cdir, "fake.conf")),
            "a config with no [Interface] left: exit 2, rolled back",
            r.stderr)

    # list
    r = ev("list")
    c.check(r.returncode == 0 and r.stdout == "alice\nevil\ntaken\n",
            "list", r.stdout)

    # status uses alice's own key
    r = ev("status", "alice")
    st = last(stub)
    c.check(r.returncode == 0 and st["path"] == "/users/alice" and
            st["auth"] == "Bearer " + key,
            "status alice uses alice.key", (r.returncode, r.stderr, st))
    c.check(re.search(r"^address\s+10\.77\.0\.\d+/32$", r.stdout, re.M) and
            re.search(r"^last_handshake\s+never$", r.stdout, re.M) and
            re.search(r"^rx_bytes\s+123$", r.stdout, re.M) and
            re.search(r"^local\s+down$", r.stdout, re.M),
            "status output", r.stdout)
    r = ev("status", "nobody")
    c.check(r.returncode == 2 and "does not exist" in r.stderr,
            "status of unknown user: exit 2 (404)", r.stderr)

    # config and --qr
    r = ev("config", "alice")
    c.check(r.returncode == 0 and r.stdout == text, "config prints the file")
    r = ev("config", "alice", "--qr")
    lines = r.stdout.split("\n")[:-1]
    widths = {len(x) for x in lines}
    ok = (r.returncode == 0 and len(widths) == 1 and
          set(r.stdout) <= set(" \u2580\u2584\u2588\n"))
    if ok:
        w = widths.pop() - 2 * 2
        ok = (w - 21) % 4 == 0 and len(lines) == (w + 4 + 1) // 2
    c.check(ok, "config --qr draws a square half-block QR code",
            r.stdout[:200])
    decoded = T.qr_decode(r.stdout)
    if decoded is None:
        # zbar-tools is a test dependency: required in CI
        c.check(not os.environ.get("CI"), "zbarimg installed (zbar-tools)")
    else:
        c.check(decoded.rstrip("\n") == text.rstrip("\n"),
                "the QR code scans back to the config (zbarimg)", decoded)
    r2 = ev("config", "alice", "--qr", "--invert")
    if decoded is not None:
        d2 = T.qr_decode(r2.stdout, invert=True)
        c.check(d2.rstrip("\n") == text.rstrip("\n"),
                "the inverted QR code scans too", d2)
    c.check(r2.returncode == 0 and r2.stdout != r.stdout and
            len(r2.stdout) == len(r.stdout), "--invert swaps the blocks")
    r = ev("config", "nobody")
    c.check(r.returncode == 3 and "no config" in r.stderr,
            "config of unknown user: exit 3")

    # connect / disconnect
    fake = os.path.join(tmp, "fakebin")
    os.makedirs(fake)
    log = os.path.join(tmp, "wgq.log")
    with open(os.path.join(fake, "wg-quick"), "w") as f:
        f.write("#!/bin/sh\necho \"$1 $2 impl=$WG_QUICK_USERSPACE_"
                "IMPLEMENTATION\" >> %s\nexit ${FAKE_WGQ_STATUS:-0}\n" % log)
    os.chmod(os.path.join(fake, "wg-quick"), 0o755)

    def stubs(d, names):
        for n in names:
            with open(os.path.join(d, n), "w") as f:
                f.write("#!/bin/sh\nexit 0\n")
            os.chmod(os.path.join(d, n), 0o755)
    # all wg-quick runs for a full tunnel with DNS, whatever this machine
    # has installed
    stubs(fake, ("wg", "ip", "sysctl", "iptables-restore",
                 "ip6tables-restore", "resolvconf", "wireguard-go"))
    nowg = dict(env, PATH="/nonexistent")
    r = T.run(["connect", "alice"], nowg)
    c.check(r.returncode == 5 and "wg-quick not found" in r.stderr,
            "wg-quick missing: exit 5", r.stderr)
    fenv = dict(env, PATH=fake + ":" + os.environ.get("PATH", ""),
                WG_QUICK_USERSPACE_IMPLEMENTATION="wireguard-go")
    r = T.run(["connect", "averyveryverylongname"], fenv)
    c.check(r.returncode == 1 and "interface name" in r.stderr,
            "name too long for an interface: exit 1", r.stderr)
    r = T.run(["connect", "bob"], fenv)
    c.check(r.returncode == 3 and "no config" in r.stderr,
            "connect without a config: exit 3", r.stderr)
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        os.chmod(tmp, 0o755)  # nobody must reach the fake wg-quick
        if setpriv:
            # a copy nobody can reach, wherever the build tree lives
            exe = os.path.join(tmp, "evpnctl")
            shutil.copy(T.evpnctl_path(), exe)
            os.chmod(exe, 0o755)
            r = subprocess.run(
                [setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
                 exe, "connect", "alice"], env=fenv,
                capture_output=True, text=True, timeout=30)
            c.check(r.returncode == 4 and "needs root" in r.stderr,
                    "connect as non-root: exit 4", r.stderr)
        # an old file with hooks (saved before evpnctl filtered them)
        old = os.path.join(cdir, "old.conf")
        with open(old, "w") as f:
            f.write(text.replace("[Peer]", "PostUp = id > %s/pwned\n"
                                           "[Peer]" % tmp))
        for verb in ("connect", "disconnect"):
            r = T.run([verb, "old"], fenv)
            c.check(r.returncode == 3 and "PostUp (line" in r.stderr and
                    "as root" in r.stderr and not os.path.exists(log),
                    verb + " refuses a file with hooks: exit 3, wg-quick "
                    "not run", r.stderr)
        os.unlink(old)

        # a fresh machine: wg-quick there, iptables, sysctl and
        # resolvconf not. Told what to install; nothing run.
        bare = os.path.join(tmp, "barebin")
        os.makedirs(bare)
        shutil.copy(os.path.join(fake, "wg-quick"), bare)
        stubs(bare, ("wg", "ip", "wireguard-go"))
        benv = dict(fenv, PATH=bare)
        r = T.run(["connect", "alice"], benv)
        c.check(r.returncode == 6 and
                all(w in r.stderr for w in (
                    "iptables-restore or nft", "apt-get install iptables",
                    "nftables", "resolvconf", "apt-get install openresolv",
                    "sysctl", "procps", "nothing was changed")) and
                "ip6tables" not in r.stderr and not os.path.exists(log),
                "connect with programs missing: exit 6 before wg-quick, "
                "says what to install", r.stderr)
        stubs(bare, ("iptables-restore", "resolvconf", "sysctl"))
        r = T.run(["connect", "alice"], benv)
        c.check(r.returncode == 0 and "connected alice" in r.stdout,
                "connect once they are installed (no ip6tables needed "
                "without ::/0)", r.stderr)
        r = T.run(["disconnect", "alice"], benv)
        c.check(r.returncode == 0, "disconnect", r.stderr)
        os.unlink(log)

        r = T.run(["connect", "alice"], fenv)
        c.check(r.returncode == 0 and "connected alice" in r.stdout,
                "connect runs wg-quick", r.stderr)
        r = T.run(["disconnect", "alice"], fenv)
        c.check(r.returncode == 0, "disconnect runs wg-quick", r.stderr)
        with open(log) as f:
            calls = f.read().splitlines()
        c.check(calls == ["up %s impl=wireguard-go" % conf,
                          "down %s impl=wireguard-go" % conf],
                "wg-quick up/down with the conf path and the userspace "
                "implementation passed through", calls)
        r = T.run(["connect", "alice"], dict(fenv, FAKE_WGQ_STATUS="1"))
        c.check(r.returncode == 5 and "wg-quick up failed" in r.stderr,
                "failing wg-quick: exit 5", r.stderr)
    else:
        r = T.run(["connect", "alice"], fenv)
        c.check(r.returncode == 4 and "needs root" in r.stderr,
                "connect as non-root: exit 4", r.stderr)

    # server-side failures
    stub.fail_next = (429, [("Retry-After", "7")],
                      {"error": "slow down", "code": "rate_limited"})
    r = ev("list")
    c.check(r.returncode == 2 and "retry after 7 seconds" in r.stderr,
            "429 with Retry-After", r.stderr)
    stub.fail_next = (500, [], {"error": "kaboom", "code": "internal"})
    r = ev("list")
    c.check(r.returncode == 2 and "(500): kaboom" in r.stderr,
            "500 shows the server's error text", r.stderr)
    stub.fail_next = (503, [], {"error": "store down", "code": "unavail"})
    r = ev("status", "alice")
    c.check(r.returncode == 2 and "503" in r.stderr, "503: exit 2")

    # a user key cannot delete: 403
    with open(keyf) as f:
        ukey = f.read().strip()
    uenv = dict(env, EVPN_CLIENT_DIR=os.path.join(tmp, "userdir"))
    T.run(["setup", url, ukey], uenv)
    r = T.run(["delete", "alice"], uenv)
    c.check(r.returncode == 2 and "403" in r.stderr,
            "user key on an admin route: exit 2 (403)", r.stderr)
    r = T.run(["list"], uenv)
    c.check(r.returncode == 0 and r.stdout == "alice\n",
            "a user key lists only itself", r.stdout)

    # delete
    r = ev("delete", "alice")
    d = last(stub, "DELETE")
    c.check(r.returncode == 0 and d["path"] == "/users/alice" and
            d["auth"] == "Bearer " + MASTER, "delete alice", r.stderr)
    c.check(not os.path.exists(conf) and not os.path.exists(keyf) and
            "alice" not in stub.users, "delete removes the local files")
    r = ev("delete", "alice")
    c.check(r.returncode == 2 and "does not exist" in r.stderr,
            "deleting a missing user: exit 2", r.stderr)


if __name__ == "__main__":
    main()
