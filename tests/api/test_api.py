#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Integration suite of the HTTP API (api:civetweb-rest + auth:bearer)
against a real `evpnd run` with the file store. Python stdlib only.

Needs $EVPN_BUILD_DIR/evpnd and the plugins store-file, auth-bearer and
api-civetweb-rest in $EVPN_BUILD_DIR/plugins. Loopback only.
"""
import base64
import http.client
import json
import os
import re
import secrets
import shutil
import signal
import socket
import struct
import sys
import tempfile
import threading
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from evpnd_http import (Evpnd, check, failures, missing_build,  # noqa: E402
                        request, result)

BUILD = os.environ.get("EVPN_BUILD_DIR", "")
MASTER = "test-master-" + secrets.token_hex(16)
HEX64 = re.compile(r"^[0-9a-f]{64}$")
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$")
B64KEY = re.compile(r"^[A-Za-z0-9+/]{43}=$")
CREATED_FIELDS = {"client_id", "api_key", "created_at", "status", "address",
                  "public_key", "config", "allowed_ips"}
LOCKOUT = 3  # seconds, see CONFIG

CONFIG = """\
log_level: debug
plugin_dir: {plugins}
master_key: ${{EVPN_MASTER_KEY:-}}
network:
  pool: 10.77.0.0/16
  endpoint: 127.0.0.1:51820
  dns: [1.1.1.1]
  mtu: 1420
plugins:
  store: {{ use: file, config: {{ dir: {state} }} }}
  auth:
    use: bearer
    config: {{ max_failures: 10, window: 60s, lockout: {lockout}s }}
  api:
    use: civetweb-rest
    config:
      listen: "127.0.0.1:0"
      max_body: 64k
"""


class Daemon(Evpnd):
    """evpnd on CONFIG (read when made: tests/ssm/test_api_ssm.py swaps the
    store line), up once /health answers."""

    def __init__(self, tmp):
        super().__init__(BUILD, tmp, MASTER)
        self.state = os.path.join(tmp, "state")
        self.cfg = os.path.join(tmp, "evpn.yaml")
        with open(self.cfg, "w") as f:
            f.write(CONFIG.format(plugins=os.path.join(BUILD, "plugins"),
                                  state=self.state, lockout=LOCKOUT))

    def start(self):
        super().start(self.cfg,
                      ready=lambda: req("GET", "/health")[0] in (200, 503))


D = None


def req(*a, **kw):
    """evpnd_http.request to D: (status, headers lower-cased, body bytes)."""
    return request(D.port, *a, **kw)


def jreq(*a, **kw):
    st, h, data = req(*a, **kw)
    try:
        j = json.loads(data) if data else None
    except ValueError:
        j = None
    return st, h, j


def is_error(st, h, j, status, code=None):
    ok = (st == status and isinstance(j, dict) and
          isinstance(j.get("error"), str) and isinstance(j.get("code"), str) and
          h.get("content-type", "").startswith("application/json"))
    if ok and code:
        ok = j["code"] == code
    return ok


def fake_pubkey():
    return base64.b64encode(secrets.token_bytes(32)).decode()


def create(cid, token=MASTER, timeout=20, **extra):
    body = {"client_id": cid}
    body.update(extra)
    return jreq("POST", "/users", body, token=token, timeout=timeout)


def png_size(data):
    if data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        return None
    return struct.unpack(">II", data[16:24])


# ---------------------------------------------------------------- tests

def t_health_openapi():
    st, h, j = jreq("GET", "/health")
    check(st == 200 and j == {"status": "ok"},
          "anonymous GET /health: 200, status only (%s)" % j)
    st, h, j = jreq("GET", "/health", token=MASTER)
    check(st == 200 and j and j.get("status") == "ok",
          "GET /health with the master key: 200 ok")
    check(isinstance(j.get("version"), str) and j["version"], "health version")
    check(j.get("plugins", {}).get("store") == "file" and
          j["plugins"].get("api") == "civetweb-rest" and
          j["plugins"].get("auth") == "bearer", "health lists plugins")
    check(isinstance(j.get("peers"), int), "health peers is a number")
    st, h, j = jreq("GET", "/health", token="0" * 64)
    check(is_error(st, h, j, 401), "GET /health with a wrong key: 401")

    st, h, j = jreq("GET", "/openapi.json")
    check(st == 200 and j and j.get("openapi", "").startswith("3."),
          "GET /openapi.json parses as OpenAPI 3")
    paths = (j or {}).get("paths", {})
    want = {"/health": ["get"], "/users": ["get", "post"],
            "/users/{id}": ["get", "patch", "delete"],
            "/users/{id}/config": ["get"], "/users/{id}/config.png": ["get"],
            "/metrics": ["get"], "/openapi.json": ["get"]}
    check(all(p in paths and all(m in paths[p] for m in ms)
              for p, ms in want.items()), "openapi lists every route")
    check("bearer" in j.get("components", {}).get("securitySchemes", {}),
          "openapi has the bearer security scheme")


def t_errors_basic():
    st, h, j = jreq("GET", "/users")
    check(is_error(st, h, j, 401) and
          h.get("www-authenticate", "").startswith("Bearer"),
          "no token: 401 with WWW-Authenticate: Bearer")
    st, h, j = jreq("GET", "/users", token="0" * 64)
    check(is_error(st, h, j, 401) and
          h.get("www-authenticate", "").startswith("Bearer"),
          "unknown token: 401")
    st, h, j = jreq("GET", "/users", headers={"Authorization": "Basic eDp5"})
    check(is_error(st, h, j, 401), "other scheme: 401")
    st, h, j = jreq("GET", "/nope", token=MASTER)
    check(is_error(st, h, j, 404), "unknown route: 404")
    st, h, j = jreq("GET", "/users/Bad!", token=MASTER)
    check(is_error(st, h, j, 404), "invalid id in path: 404")
    st, h, j = jreq("DELETE", "/users", token=MASTER)
    check(is_error(st, h, j, 405) and "POST" in h.get("allow", "") and
          "GET" in h.get("allow", ""), "DELETE /users: 405 with Allow")
    st, h, j = jreq("POST", "/health", {})
    check(is_error(st, h, j, 405) and h.get("allow") == "GET",
          "POST /health: 405")
    st, h, j = jreq("PUT", "/users/alice", {}, token=MASTER)
    check(is_error(st, h, j, 405) and "PATCH" in h.get("allow", ""),
          "PUT /users/{id}: 405")


def t_create():
    st, h, j = create("alice")
    check(st == 201 and j is not None, "POST /users (generated key): 201")
    check(set(j) == CREATED_FIELDS, "201 has exactly the SPEC fields: %s"
          % sorted(j))
    check(HEX64.match(j["api_key"]) is not None, "api_key is 64 hex")
    check(j["status"] == "active" and j["client_id"] == "alice",
          "status active")
    check(RFC3339.match(j["created_at"]) is not None, "created_at RFC 3339")
    check(j["address"].startswith("10.77.") and j["address"].endswith("/32"),
          "address from the pool")
    check(B64KEY.match(j["public_key"]) is not None, "public_key base64")
    m = re.search(r"^PrivateKey\s*=\s*(\S+)\s*$", j["config"], re.M)
    check(m is not None and B64KEY.match(m.group(1)) is not None,
          "generated config carries the private key")
    priv = m.group(1) if m else "none"
    check("[Peer]" in j["config"] and "Endpoint" in j["config"],
          "config is a wg-quick file")
    alice = j

    st, h, data = req("GET", "/users/alice/config", token=MASTER)
    text = data.decode(errors="replace")
    check(st == 200 and h.get("content-type", "").startswith("text/plain"),
          "GET config: 200 text/plain")
    check(priv not in text and "PrivateKey" in text,
          "stored config has a placeholder, not the private key")

    pub = fake_pubkey()
    st, h, j = create("bob", public_key=pub)
    check(st == 201 and j and j["public_key"] == pub,
          "POST /users with public_key: 201, key kept")
    check(j is not None and "expires_at" not in j, "no expires_at without ttl")
    m = re.search(r"^PrivateKey\s*=\s*(\S+)", (j or {}).get("config", ""), re.M)
    check(not (m and B64KEY.match(m.group(1))),
          "config without a private key when the client brought its own")
    bob = j

    st, h, j = create("carol", ttl="1h")
    check(st == 201 and RFC3339.match(j.get("expires_at", "")) is not None,
          "ttl: 201 with expires_at")

    st, h, j = create("alice")
    check(is_error(st, h, j, 409), "duplicate client_id: 409")
    t_public_key_in_use(bob)
    return alice, bob


def t_public_key_in_use(bob):
    # a second user with bob's key would take over bob's peer (peers are
    # known by key) and deleting it would remove bob's
    st, h, before = jreq("GET", "/users/bob", token=MASTER)
    check(st == 200, "bob readable")
    st, h, j = create("mallory", public_key=bob["public_key"])
    check(is_error(st, h, j, 409, "public_key_in_use"),
          "same public key as bob: 409 public_key_in_use (%s %s)" % (st, j))
    st, h, j = jreq("GET", "/users/mallory", token=MASTER)
    check(st == 404, "mallory was not created")
    st, h, j = jreq("DELETE", "/users/mallory", token=MASTER)
    check(st == 404, "mallory cannot be deleted (there is none)")
    st, h, after = jreq("GET", "/users/bob", token=MASTER)
    same = ("client_id", "status", "created_at", "address", "public_key")
    check(st == 200 and all(after.get(k) == before.get(k) for k in same),
          "bob's record unchanged")
    st, h, j = jreq("GET", "/users", token=MASTER)
    check(st == 200 and "mallory" not in j and "bob" in j,
          "the list has bob, not mallory")


def t_bad_requests():
    cases = [
        ("{", "bad JSON"),
        ("[1]", "array body"),
        (json.dumps({"client_id": "x1", "admin": True}), "unknown field"),
        (json.dumps({"client_id": 5}), "client_id wrong type"),
        (json.dumps({}), "client_id missing"),
        (json.dumps({"client_id": "Bad!"}), "client_id regex"),
        (json.dumps({"client_id": "a" * 64}), "client_id too long"),
        (json.dumps({"client_id": "x2", "ttl": "0s"}), "ttl 0"),
        (json.dumps({"client_id": "x3", "ttl": "forever"}), "ttl garbage"),
        (json.dumps({"client_id": "x4", "ttl": 60}), "ttl wrong type"),
        (json.dumps({"client_id": "x5", "ttl": "9999d"}), "ttl too long"),
        (json.dumps({"client_id": "x6", "public_key": "xyz"}), "bad key"),
    ]
    for body, what in cases:
        st, h, j = jreq("POST", "/users", body, token=MASTER)
        check(is_error(st, h, j, 400), "400: " + what)
    st, h, j = jreq("POST", "/users", json.dumps({"client_id": "x7"}),
                    token=MASTER, ctype="text/plain")
    check(is_error(st, h, j, 415), "text/plain body: 415")
    st, h, j = jreq("POST", "/users", json.dumps({"client_id": "x8"}),
                    token=MASTER, ctype=None)
    check(is_error(st, h, j, 415), "no Content-Type: 415")
    big = json.dumps({"client_id": "x9", "pad": "a" * 70000})
    st, h, j = jreq("POST", "/users", big, token=MASTER)
    check(is_error(st, h, j, 413), "body > 64 KiB (Content-Length): 413")
    chunks = [b"{\"client_id\":\"x10\",\"pad\":\"" + b"a" * 8192] + \
        [b"a" * 8192] * 9 + [b"\"}"]
    st, h, j = jreq("POST", "/users", chunks, token=MASTER, chunked=True)
    check(is_error(st, h, j, 413), "chunked body > 64 KiB: 413")
    st, h, j = jreq("POST", "/users", [b'{"client_id":', b'"chunky"}'],
                    token=MASTER, chunked=True)
    check(st == 201, "small chunked body: 201")
    st, h, j = jreq("GET", "/users/x9", token=MASTER)
    check(is_error(st, h, j, 404), "nothing created by refused requests")


def alive(what):
    st, _, j = jreq("GET", "/health")
    return check(st == 200 and D.proc.poll() is None,
                 "daemon still serves after %s" % what)


def t_deep_json():
    # Nesting is refused before parsing: deep JSON used to overflow the
    # small stacks of civetweb's workers (600 to 2048 levels crashed).
    for depth in (17, 600, 2048):
        body = '{"client_id":"deep%d","x":' % depth + \
            "[" * (depth - 1) + "]" * (depth - 1) + "}"
        st, h, j = jreq("POST", "/users", body, token=MASTER)
        check(is_error(st, h, j, 400, "invalid_json") and
              "nested" in j["error"],
              "POST /users nested %d deep: 400 (%s)" % (depth, j))
        alive("a body nested %d deep" % depth)
    st, h, j = jreq("POST", "/users", "[" * 600 + "]" * 600, token=MASTER)
    check(is_error(st, h, j, 400, "invalid_json"), "600 bare '[': 400")
    alive("600 bare '['")
    st, h, j = jreq("PATCH", "/users/alice", '{"status":' + "[" * 600,
                    token=MASTER)
    check(is_error(st, h, j, 400, "invalid_json"), "PATCH nested 600: 400")
    # 100,000 levels are larger than max_body: refused by size first
    st, h, j = jreq("POST", "/users", "[" * 100000 + "]" * 100000,
                    token=MASTER)
    check(is_error(st, h, j, 413), "100,000 levels: 413")
    st, h, j = jreq("POST", "/users", [b"[" * 8192] * 8, token=MASTER,
                    chunked=True)
    check(st in (400, 413) and isinstance(j, dict),
          "chunked 65,536 '[': refused (%s)" % st)
    alive("100,000 levels")
    st, h, j = jreq("GET", "/users/deep17", token=MASTER)
    check(is_error(st, h, j, 404), "nothing created by nested bodies")
    t_deep_json_every_route()


# Every route that takes a body, with a well-formed body nested too deep and
# one nested exactly to the limit. A body is only ever read on the handler's
# large stack (http.c answers 500 "not run on a handler stack" otherwise),
# so each answer here is the body check's own 400: refused before parsing
# when too deep, parsed and then refused on its field at the limit.
BODY_ROUTES = (
    ("POST", "/users", '{"client_id":"deepr","x":'),
    ("PATCH", "/users/alice", '{"allowed_ips":'),
    ("POST", "/users/alice/links", '{"ttl":'),
)


def t_deep_json_every_route():
    st, _, before = jreq("GET", "/users/alice", token=MASTER)
    check(st == 200, "alice readable before the deep bodies")
    for method, path, lead in BODY_ROUTES:
        for depth in (17, 600, 2048):
            body = lead + "[" * (depth - 1) + "]" * (depth - 1) + "}"
            st, h, j = jreq(method, path, body, token=MASTER)
            check(is_error(st, h, j, 400, "invalid_json") and
                  "nested" in j["error"],
                  "%s %s nested %d deep: 400 invalid_json (%s %s)" % (
                      method, path, depth, st, j))
        body = lead + "[" * 15 + "]" * 15 + "}"
        st, h, j = jreq(method, path, body, token=MASTER)
        check(is_error(st, h, j, 400) and j["code"] != "invalid_json",
              "%s %s nested 16 deep: parsed, its field refused (%s %s)" % (
                  method, path, st, j))
        alive("deep bodies on %s %s" % (method, path))
    st, _, after = jreq("GET", "/users/alice", token=MASTER)
    check(st == 200 and after == before,
          "alice unchanged by the deep bodies")
    st, h, j = jreq("GET", "/users/deepr", token=MASTER)
    check(is_error(st, h, j, 404), "no user created by the deep bodies")


SLOW_CONNS = 1000


def timed(what, fn):
    t0 = time.monotonic()
    try:
        st, _, j = fn()
    except (OSError, http.client.HTTPException) as e:
        st, j = repr(e), None
    return st, j, time.monotonic() - t0


def t_slowloris():
    """1,000 connections from one address that trickle a request head
    and never finish it: /health and an authenticated create must still
    answer within 1 s. Bounded: 1,000 sockets, at most about 45 s (8 s when
    the server copes), all closed."""
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = SLOW_CONNS + 200
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE,
                           (min(want, hard) if hard > 0 else want, hard))
    socks = []
    opened = 0
    deadline = time.monotonic() + 10
    try:
        for i in range(SLOW_CONNS):
            if time.monotonic() > deadline:
                break
            c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            c.settimeout(0.5)
            socks.append(c)
            try:
                c.connect(("127.0.0.1", D.port))
                c.sendall(b"POST /users HTTP/1.1\r\nHost: x\r\n")
                opened += 1
            except OSError:
                pass
        check(opened == SLOW_CONNS, "%d of %d slow connections opened"
              % (opened, SLOW_CONNS))
        worst = 0.0
        bad = []
        for rnd in range(4):
            for c in socks:  # one more header line each, never the end
                try:
                    c.send(b"X-Slow-%d: 1\r\n" % rnd)
                except OSError:
                    pass
            for what, fn in (
                    ("anonymous /health",
                     lambda: jreq("GET", "/health", timeout=3)),
                    ("create", lambda: create("slow-%d" % rnd, timeout=3))):
                st, j, dt = timed(what, fn)
                worst = max(worst, dt)
                if st not in (200, 201) or dt >= 1.0:
                    bad.append("%s round %d: %s in %.2fs" % (what, rnd,
                                                             st, dt))
            time.sleep(1.5)
        check(not bad, "with %d slow connections open, /health and a "
              "create answer within 1 s (worst %.2fs) %s"
              % (SLOW_CONNS, worst, bad[:4]))
    finally:
        for c in socks:
            c.close()
    check(D.proc.poll() is None, "daemon alive after the slow clients")
    st, _, j = jreq("GET", "/users/slow-0", token=MASTER)
    check(st == 200, "the create made during the slow attack exists")


def t_access(alice, bob):
    ak, bk = alice["api_key"], bob["api_key"]
    st, h, j = jreq("GET", "/users", token=MASTER)
    check(st == 200 and isinstance(j, list) and
          {"alice", "bob", "carol"} <= set(j) and j == sorted(j),
          "GET /users as admin: all, sorted")
    st, h, j = jreq("GET", "/users", token=ak)
    check(st == 200 and j == ["alice"], "GET /users as a user: itself")
    st, h, j = jreq("GET", "/health", token=ak)
    check(st == 200 and j == {"status": "ok"},
          "GET /health with a user key: status only (%s)" % j)

    st, h, j = jreq("GET", "/users/alice", token=MASTER)
    check(st == 200 and j and j["client_id"] == "alice" and
          j["address"] == alice["address"], "GET /users/{id} as admin")
    check(j is not None and "api_key" not in j and "config" not in j,
          "the API key is never shown again")
    check(j is not None and all(k in j for k in (
        "last_handshake", "rx_bytes", "tx_bytes", "endpoint")),
        "record has live peer fields")
    check(j is not None and (j["last_handshake"] is None or
                             RFC3339.match(j["last_handshake"])) and
          isinstance(j["rx_bytes"], int) and isinstance(j["tx_bytes"], int) and
          (j["endpoint"] is None or isinstance(j["endpoint"], str)),
          "live peer field types")
    st, h, j = jreq("GET", "/users/alice", token=ak)
    check(st == 200 and j["client_id"] == "alice", "user reads itself")
    st, h, j = jreq("GET", "/users/bob", token=ak)
    check(is_error(st, h, j, 403), "user on another user: 403")
    st, h, j = jreq("GET", "/users/nobody", token=ak)
    check(is_error(st, h, j, 403), "user on a missing user: 403 (no probing)")
    st, h, _ = req("GET", "/users/bob/config", token=ak)
    check(st == 403, "user on another user's config: 403")
    st, h, j = jreq("GET", "/metrics", token=ak)
    check(is_error(st, h, j, 403), "user key on /metrics: 403")
    st, h, j = create("mallory", token=ak)
    check(is_error(st, h, j, 403), "user key on POST /users: 403")
    st, h, j = jreq("DELETE", "/users/bob", token=ak)
    check(is_error(st, h, j, 403), "user key on DELETE: 403")
    st, h, j = jreq("PATCH", "/users/alice", {"status": "inactive"}, token=ak)
    check(is_error(st, h, j, 403), "user key on PATCH (even itself): 403")
    st, h, j = jreq("GET", "/users/nobody", token=MASTER)
    check(is_error(st, h, j, 404), "admin on a missing user: 404")
    st, h, _ = req("GET", "/users/nobody/config", token=MASTER)
    check(st == 404, "missing user's config: 404")

    for who, tok in (("admin", MASTER), ("user", ak)):
        st, h, data = req("GET", "/users/alice/config.png", token=tok)
        size = png_size(data)
        check(st == 200 and h.get("content-type") == "image/png" and
              size and size[0] == size[1] and size[0] > 100,
              "config.png as %s is a square PNG %s" % (who, size))


def t_patch_delete(bob):
    st, h, j = jreq("PATCH", "/users/bob", {"status": "inactive"},
                    token=MASTER)
    check(st == 200 and j and j["status"] == "inactive", "PATCH inactive")
    st, h, j = jreq("GET", "/users/bob", token=MASTER)
    check(st == 200 and j["status"] == "inactive", "GET shows inactive")
    st, h, j = jreq("PATCH", "/users/bob", {"status": "active"}, token=MASTER)
    check(st == 200 and j["status"] == "active", "PATCH active")
    st, h, j = jreq("PATCH", "/users/bob", {"status": "paused"}, token=MASTER)
    check(is_error(st, h, j, 400), "PATCH bad status: 400")
    st, h, j = jreq("PATCH", "/users/bob", {"status": "active", "x": 1},
                    token=MASTER)
    check(is_error(st, h, j, 400), "PATCH unknown field: 400")
    st, h, j = jreq("PATCH", "/users/bob", "{\"status\":", token=MASTER)
    check(is_error(st, h, j, 400), "PATCH bad JSON: 400")
    st, h, j = jreq("PATCH", "/users/bob", "status=active", token=MASTER,
                    ctype="application/x-www-form-urlencoded")
    check(is_error(st, h, j, 415), "PATCH form body: 415")
    st, h, j = jreq("PATCH", "/users/nobody", {"status": "active"},
                    token=MASTER)
    check(is_error(st, h, j, 404), "PATCH missing user: 404")

    st, h, data = req("DELETE", "/users/bob", token=MASTER)
    check(st == 204 and data == b"", "DELETE: 204, no body")
    st, h, j = jreq("GET", "/users/bob", token=MASTER)
    check(is_error(st, h, j, 404), "deleted user: 404")
    st, h, j = jreq("DELETE", "/users/bob", token=MASTER)
    check(is_error(st, h, j, 404), "DELETE again: 404")
    st, h, j = jreq("GET", "/users/bob", token=bob["api_key"])
    check(is_error(st, h, j, 401), "deleted user's key: 401")
    st, h, j = create("bob", public_key=fake_pubkey())
    check(st == 201, "the id can be reused after DELETE")


def t_allowed_ips(bob):
    """Split tunnels: validated CIDRs, in the record and the config."""
    st, h, j = jreq("GET", "/users/bob", token=MASTER)
    check(st == 200 and j.get("allowed_ips") == ["0.0.0.0/0", "::/0"],
          "default allowed_ips: the full tunnel (%s)" % (j or {}).get("allowed_ips"))
    st, h, j = create("split", allowed_ips=["10.0.0.0/8", "FD00::/8"])
    check(st == 201 and j.get("allowed_ips") == ["10.0.0.0/8", "fd00::/8"],
          "POST with allowed_ips: 201, normalised (%s)" % (j or {}).get("allowed_ips"))
    check(j and "AllowedIPs = 10.0.0.0/8, fd00::/8\n" in j.get("config", ""),
          "the 201 config routes only the allowed IPs")
    for bad in ("10.0.0.1/8", "10.0.0.0/33", "nope", [], ["1.2.3.0/24", 5], ""):
        st, h, j = create("split-bad", allowed_ips=bad)
        check(is_error(st, h, j, 400), "allowed_ips %r: 400" % (bad,))
    st, h, j = jreq("GET", "/users/split-bad", token=MASTER)
    check(is_error(st, h, j, 404), "a refused create leaves no user")
    st, h, j = jreq("PATCH", "/users/split",
                    {"allowed_ips": "192.168.0.0/16 172.16.0.0/12"}, token=MASTER)
    check(st == 200 and j.get("allowed_ips") == ["192.168.0.0/16", "172.16.0.0/12"]
          and j.get("status") == "active", "PATCH allowed_ips: 200, status kept")
    st, h, data = req("GET", "/users/split/config", token=MASTER)
    check(st == 200 and b"AllowedIPs = 192.168.0.0/16, 172.16.0.0/12\n" in data,
          "GET config after PATCH has the new allowed IPs")
    st, h, j = jreq("PATCH", "/users/split", {"allowed_ips": ["10.0.0.0/40"],
                                              "status": "inactive"}, token=MASTER)
    check(is_error(st, h, j, 400), "PATCH bad allowed_ips: 400")
    st, h, j = jreq("GET", "/users/split", token=MASTER)
    check(st == 200 and j["status"] == "active" and
          j["allowed_ips"] == ["192.168.0.0/16", "172.16.0.0/12"],
          "a refused PATCH changes nothing")
    st, h, j = jreq("PATCH", "/users/split", {}, token=MASTER)
    check(is_error(st, h, j, 400), "PATCH with no field: 400")
    st, h, j = jreq("DELETE", "/users/split", token=MASTER)
    check(st == 204, "split user deleted")


def t_concurrent():
    results = [None] * 50

    def one(i):
        try:
            results[i] = create("conc-%02d" % i)
        except Exception as e:  # noqa: BLE001 - reported below
            results[i] = (None, None, repr(e))

    th = [threading.Thread(target=one, args=(i,)) for i in range(50)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    ok = [r for r in results if r and r[0] == 201]
    check(len(ok) == 50, "50 concurrent creates: %d x 201 (others: %s)" %
          (len(ok), [r[0] for r in results if not r or r[0] != 201][:5]))
    addrs = {r[2]["address"] for r in ok}
    check(len(addrs) == 50, "50 distinct addresses (%d)" % len(addrs))
    return {r[2]["client_id"]: r[2]["api_key"] for r in ok}


def t_metrics():
    st, h, data = req("GET", "/metrics", token=MASTER)
    text = data.decode(errors="replace")
    check(st == 200 and h.get("content-type", "").startswith("text/plain"),
          "GET /metrics as admin: 200 text/plain")
    check(re.search(r'^evpn_api_requests_total\{[^}]*status="201"[^}]*\} [1-9]',
                    text, re.M) is not None,
          "metrics count API requests by status")


def t_throttle(user, user_key):
    src = "127.0.0.2"
    first429 = None
    for i in range(12):
        st, h, j = jreq("GET", "/users", token="f" * 64, source=src)
        if st == 429:
            first429 = (i, h, j)
            break
        if not check(st == 401, "failure %d from %s: 401" % (i + 1, src)):
            break
    check(first429 is not None and first429[0] == 10,
          "429 after 10 failures (at attempt %s)" %
          (first429[0] + 1 if first429 else None))
    if not first429:
        return
    _, h, j = first429
    ra = h.get("retry-after", "")
    check(is_error(429, h, j, 429) and ra.isdigit() and
          1 <= int(ra) <= LOCKOUT, "429 has Retry-After (%r)" % ra)
    # Everyone behind one address (a NAT, a load balancer) shares its
    # counter: a correct key must still get through, while wrong guesses
    # keep getting 429 and the lockout neither ends nor grows.
    st, h, j = jreq("GET", "/users", token=MASTER, source=src)
    check(st == 200, "locked-out address: the master key still works (%s)"
          % st)
    st, h, j = jreq("GET", "/users", token=user_key, source=src)
    check(st == 200 and j == [user], "locked-out address: a user key still "
          "works (%s)" % st)
    st, h, j = jreq("GET", "/users", token="e" * 64, source=src)
    ra2 = h.get("retry-after", "")
    check(is_error(st, h, j, 429) and ra2.isdigit() and
          int(ra2) <= int(ra or LOCKOUT),
          "a correct key resets nothing: the next wrong one is 429 (%r)" % ra2)
    st, h, j = jreq("GET", "/users", source=src)
    check(is_error(st, h, j, 401), "locked-out address, no token: 401")
    st, h, j = jreq("GET", "/users", token=MASTER)
    check(st == 200, "other addresses are not affected")
    time.sleep(int(ra) + 0.5 if ra.isdigit() else LOCKOUT + 1)
    st, h, j = jreq("GET", "/users", token="d" * 64, source=src)
    check(is_error(st, h, j, 401), "after Retry-After a wrong key is 401 again")
    st, h, j = jreq("GET", "/users", token=MASTER, source=src)
    check(st == 200, "after Retry-After the address works again")


def audit_since(mark, page=4):
    """Audit entries newer than the entry id `mark`, oldest first, read
    in pages of `page` that must chain; None when a page fails."""
    out, after = [], None
    for _ in range(200):
        path = "/audit?limit=%d" % page + ("&after=" + after if after else "")
        st, h, j = jreq("GET", path, token=MASTER)
        if st != 200 or not isinstance(j, dict):
            return None
        for e in j["entries"]:
            if e["id"] == mark:
                return out[::-1]
            out.append(e)
        after = j["next"]
        if not after:
            break
    return out[::-1]


def audit_mark():
    st, h, j = jreq("GET", "/audit?limit=1", token=MASTER)
    return j["entries"][0]["id"] if st == 200 and j["entries"] else None


LINK_TOKENS = []


def link_path(url):
    m = re.match(r"^http://127\.0\.0\.1:%d(/links/[0-9a-f]{64})$" % D.port, url or "")
    if m:
        LINK_TOKENS.append(m.group(1)[7:])
    return m.group(1) if m else None


def t_links(alice):
    """One-time config links: once, expiring, one winner of a race, QR and
    HTML on request, the private key of a generated pair only in the
    link's answer."""
    st, h, j = jreq("POST", "/users/bob/links", token=MASTER)
    path = link_path((j or {}).get("url"))
    check(st == 201 and path and RFC3339.match(j.get("expires_at", "")),
          "POST /users/bob/links (admin): 201 with url and expires_at (%s)" % j)
    st, h, data = req("GET", path or "/links/x")
    check(st == 200 and h.get("content-type", "").startswith("text/plain")
          and b"[Peer]" in data and b"<paste" in data,
          "GET link without a key: the config (placeholder key)")
    check("no-store" in h.get("cache-control", ""), "link answer: no-store")
    st, h, j = jreq("GET", path or "/links/x")
    check(is_error(st, h, j, 410, "gone"), "second GET: 410 gone")
    st, h, j = jreq("GET", "/links/" + "0" * 64)
    check(is_error(st, h, j, 404), "unknown link: 404")
    st, h, j = jreq("GET", "/links/NOTHEX")
    check(is_error(st, h, j, 404), "malformed link: 404")
    st, h, j = jreq("POST", "/users/alice/links", {"ttl": "1h"},
                    token=alice["api_key"])
    check(st == 201 and link_path(j.get("url")), "a user links its own config")
    st, h, j = jreq("POST", "/users/carol/links", token=alice["api_key"])
    check(is_error(st, h, j, 403), "... not another user's: 403")
    st, h, j = jreq("POST", "/users/nobody/links", token=MASTER)
    check(is_error(st, h, j, 404), "link for a missing user: 404")
    for bad in ({"ttl": "8d"}, {"ttl": "soon"}, {"x": 1}):
        st, h, j = jreq("POST", "/users/bob/links", bad, token=MASTER)
        check(is_error(st, h, j, 400), "link %s: 400" % bad)
    # QR and HTML by Accept
    st, h, j = jreq("POST", "/users/bob/links", token=MASTER)
    st, h, data = req("GET", link_path(j["url"]), headers={"Accept": "image/png"})
    check(st == 200 and h.get("content-type") == "image/png" and png_size(data),
          "Accept image/png: the QR code")
    st, h, j = jreq("POST", "/users/bob/links", token=MASTER)
    st, h, data = req("GET", link_path(j["url"]),
                      headers={"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    check(st == 200 and h.get("content-type", "").startswith("text/html") and
          b"data:image/png;base64," in data and b"[Peer]" in data,
          "Accept text/html: a page with the QR code")
    # expiry
    st, h, j = jreq("POST", "/users/bob/links", {"ttl": "1s"}, token=MASTER)
    p = link_path(j["url"])
    time.sleep(2.2)
    st, h, j = jreq("GET", p)
    check(is_error(st, h, j, 410), "expired link: 410")
    # a race: ten GETs at once, exactly one config
    st, h, j = jreq("POST", "/users/bob/links", token=MASTER)
    p = link_path(j["url"])
    res = [None] * 10
    go = threading.Event()

    def one(i):
        go.wait()
        res[i] = req("GET", p)[0]
    th = [threading.Thread(target=one, args=(i,)) for i in range(10)]
    for t in th:
        t.start()
    go.set()
    for t in th:
        t.join()
    check(sorted(res) == [200] + [410] * 9,
          "ten concurrent GETs: exactly one config (%s)" % sorted(res))
    # made at create: the generated private key only in the link
    st, h, j = create("linked", link=True)
    check(st == 201 and "link" in j and "<paste" in j["config"] and
          not re.search(r"^PrivateKey = [A-Za-z0-9+/]{43}=$", j["config"], re.M),
          "POST /users with link: the 201 config has no private key")
    st, h, data = req("GET", link_path((j or {}).get("link", {}).get("url")) or "/links/x")
    m = re.search(rb"^PrivateKey = ([A-Za-z0-9+/]{43}=)$", data, re.M)
    check(st == 200 and m is not None, "... the link's answer has it")
    if m:
        LINK_TOKENS.append(m.group(1).decode())
    st, h, j = create("linked2", link="30d")
    check(is_error(st, h, j, 400), "link longer than 7d: 400")
    st, h, j = jreq("DELETE", "/users/linked", token=MASTER)
    got = [(e["action"], e["actor"], e["outcome"])
           for e in (jreq("GET", "/audit?limit=30", token=MASTER)[2] or {}).get("entries", [])]
    check(("link_use", "link", "ok") in got and ("link_use", "link", "denied") in got
          and ("link_create", "user:alice", "ok") in got,
          "audit: links made and used (%s)" % got[:6])
    # a token nobody made is not an event: anyone could flood the log
    got = [e for e in (jreq("GET", "/audit?limit=500", token=MASTER)[2] or {})
           .get("entries", []) if e["action"] == "link_use"]
    check(got and not [e for e in got if e.get("status") == 404],
          "audit: unknown tokens are not recorded")


def t_quota():
    """Data quotas through the API (traffic is the core's unit test and the
    transport's): bytes in the record, PATCH raises, resets, removes."""
    st, h, j = create("quota-a", quota="10GB")
    check(st == 201 and j.get("quota") == 10000000000 and j.get("used_bytes") == 0,
          "POST with quota 10GB: 201, quota in bytes (%s)"
          % {k: (j or {}).get(k) for k in ("quota", "used_bytes")})
    st, h, j = jreq("GET", "/users/quota-a", token=MASTER)
    check(st == 200 and j.get("quota") == 10000000000 and j.get("used_bytes") == 0
          and "reason" not in j, "GET shows quota and used_bytes")
    st, h, j = jreq("PATCH", "/users/quota-a", {"quota": "1MiB"}, token=MASTER)
    check(st == 200 and j.get("quota") == 1048576 and j.get("status") == "active",
          "PATCH quota: 200, the new quota (%s)" % j)
    st, h, j = jreq("PATCH", "/users/quota-a", {"reset_usage": True}, token=MASTER)
    check(st == 200 and j.get("used_bytes") == 0, "PATCH reset_usage: 200")
    for bad in ("10XB", "0", -5, "1.5GB", True):
        st, h, j = jreq("PATCH", "/users/quota-a", {"quota": bad}, token=MASTER)
        check(is_error(st, h, j, 400), "quota %r: 400" % (bad,))
        st, h, j = create("quota-bad", quota=bad)
        check(is_error(st, h, j, 400), "create with quota %r: 400" % (bad,))
    # the maintenance thread lists it (within a few seconds): /metrics
    deadline, text = time.time() + 10, ""
    while time.time() < deadline:
        st, h, data = req("GET", "/metrics", token=MASTER)
        text = data.decode(errors="replace")
        if 'evpn_user_quota_bytes{user="quota-a"} 1048576' in text:
            break
        time.sleep(0.5)
    check('evpn_user_quota_bytes{user="quota-a"} 1048576' in text and
          'evpn_user_used_bytes{user="quota-a"} 0' in text,
          "/metrics: the user's quota and usage")
    st, h, j = jreq("PATCH", "/users/quota-a", {"quota": None}, token=MASTER)
    check(st == 200 and "quota" not in j, "PATCH quota null: no quota")
    st, h, data = req("DELETE", "/users/quota-a", token=MASTER)
    check(st == 204, "quota user deleted")


def t_rate_limit():
    """Rate limits through the API (the traffic is raw_socket.rate_limit's):
    in the 201 and the record in bits/s, changed and removed by PATCH, bad
    rates refused with 400 and nothing created or changed."""
    st, h, j = create("rate-a", rate_limit="20mbit")
    check(st == 201 and j.get("rate_limit") == 20000000
          and "rate_limit_default" not in j,
          "POST with rate_limit 20mbit: 201, rate_limit in bits/s (%s)"
          % (j or {}).get("rate_limit"))
    st, h, j = jreq("GET", "/users/rate-a", token=MASTER)
    check(st == 200 and j.get("rate_limit") == 20000000, "GET shows rate_limit")
    for rate, bps in (("500kbit", 500000), ("2MB/s", 16000000),
                      (1000000000, 1000000000), ("1.5mbit", 1500000)):
        st, h, j = jreq("PATCH", "/users/rate-a", {"rate_limit": rate},
                        token=MASTER)
        check(st == 200 and j.get("rate_limit") == bps,
              "PATCH rate_limit %r: 200, %d bit/s (%s)" % (rate, bps, j))
    for bad in ("fast", "20mbits", "-1mbit", "1kbit", "1tbit", 5, -1, 1.5,
                True, ["1mbit"], {"rate": 1}):
        st, h, j = jreq("PATCH", "/users/rate-a", {"rate_limit": bad},
                        token=MASTER)
        check(is_error(st, h, j, 400, "invalid_field") and
              "rate_limit must be" in j.get("error", ""),
              "PATCH rate_limit %r: 400 saying what a rate is" % (bad,))
        st, h, j = create("rate-bad", rate_limit=bad)
        check(is_error(st, h, j, 400), "create with rate_limit %r: 400" % (bad,))
    st, h, j = jreq("GET", "/users/rate-a", token=MASTER)
    check(j.get("rate_limit") == 1500000, "refused PATCHes changed nothing")
    st, h, j = jreq("GET", "/users/rate-bad", token=MASTER)
    check(st == 404, "refused creates created nothing")
    st, h, j = jreq("PATCH", "/users/rate-a", {"rate_limit": "0"}, token=MASTER)
    check(st == 200 and "rate_limit" not in j, "PATCH rate_limit 0: none")
    st, h, j = jreq("PATCH", "/users/rate-a", {"rate_limit": "3mbit"},
                    token=MASTER)
    st, h, j = jreq("PATCH", "/users/rate-a", {"rate_limit": None},
                    token=MASTER)
    check(st == 200 and "rate_limit" not in j,
          "PATCH rate_limit null: the default (none configured here)")
    st, h, data = req("DELETE", "/users/rate-a", token=MASTER)
    check(st == 204, "rate user deleted")


def t_audit():
    """A scripted session of 12 changes: every one in the audit log, in
    order, with actor, source and outcome, and no secret."""
    mark = audit_mark()
    st, h, a = create("au-a")
    st2, h, b = create("au-b", allowed_ips=["10.0.0.0/8"])
    if not check(st == 201 and st2 == 201, "audit: users created"):
        return
    steps = [
        ("create", "au-a", "master", "error", 409,
         lambda: create("au-a")),
        ("patch", "au-a", "master", "ok", 200,
         lambda: jreq("PATCH", "/users/au-a", {"status": "inactive"}, token=MASTER)),
        ("patch", "au-a", "master", "ok", 200,
         lambda: jreq("PATCH", "/users/au-a", {"allowed_ips": "fd00::/8"}, token=MASTER)),
        ("patch", "au-b", "user:au-a", "denied", 403,
         lambda: jreq("PATCH", "/users/au-b", {"status": "inactive"}, token=a["api_key"])),
        ("patch", "au-b", "master", "error", 400,
         lambda: jreq("PATCH", "/users/au-b", {"status": "paused"}, token=MASTER)),
        ("delete", "au-b", "user:au-b", "denied", 403,
         lambda: jreq("DELETE", "/users/au-b", token=b["api_key"])),
        ("patch", "au-b", "master", "ok", 200,
         lambda: jreq("PATCH", "/users/au-b", {"status": "inactive"}, token=MASTER)),
        ("delete", "au-a", "master", "ok", 204,
         lambda: req("DELETE", "/users/au-a", token=MASTER)),
        ("delete", "au-a", "master", "error", 404,
         lambda: req("DELETE", "/users/au-a", token=MASTER)),
        ("delete", "au-b", "master", "ok", 204,
         lambda: req("DELETE", "/users/au-b", token=MASTER)),
    ]
    want = [("create", "au-a", "master", "ok", 201),
            ("create", "au-b", "master", "ok", 201)]
    for action, target, actor, outcome, status, fn in steps:
        got = fn()[0]
        check(got == status, "audit session: %s %s by %s -> %d (%s)"
              % (action, target, actor, status, got))
        want.append((action, target, actor, outcome, status))
    # reads are not changes: not in the log
    req("GET", "/users", token=MASTER)
    entries = audit_since(mark)
    got = [(e["action"], e["target"], e["actor"], e["outcome"],
            e.get("status")) for e in entries or []]
    check(got == want, "audit: the 12 changes, in order, with actor and "
          "outcome\n   got  %s\n   want %s" % (got, want))
    check(entries and all(e["source"] == "127.0.0.1" and
                          RFC3339.match(e["time"]) for e in entries),
          "audit: source address and time on every entry")
    check(entries and "allowed_ips fd00::/8" in entries[4].get("detail", ""),
          "audit: the detail says what a PATCH changed")
    st, h, data = req("GET", "/audit?limit=500", token=MASTER)
    check(st == 200 and a["api_key"].encode() not in data and
          b["api_key"].encode() not in data and MASTER.encode() not in data
          and b"PrivateKey" not in data, "audit: no secret in the log")
    st, h, j = jreq("GET", "/audit", token=a["api_key"])
    check(is_error(st, h, j, 401) or is_error(st, h, j, 403),
          "audit: not for user keys")
    for bad in ("limit=0", "limit=501", "limit=x", "after=nope",
                "after=" + "9" * 37):
        st, h, j = jreq("GET", "/audit?" + bad, token=MASTER)
        check(is_error(st, h, j, 400), "GET /audit?%s: 400" % bad)
    with open(D.log, "rb") as f:
        log = f.read()
    check(b"audit: create au-a by master from 127.0.0.1: ok (201)" in log and
          b"audit: patch au-b by user:au-a from 127.0.0.1: denied (403)" in log,
          "audit: one log line per change")


def t_ttl():
    mark = audit_mark()
    st, h, j = create("eph", ttl="2s")
    check(st == 201 and "expires_at" in (j or {}), "ttl 2s user created")
    deadline = time.time() + 30
    st = None
    while time.time() < deadline:
        st, _, _ = req("GET", "/users/eph", token=MASTER)
        if st == 404:
            break
        time.sleep(0.5)
    check(st == 404, "ttl user disappears by itself")
    # recorded once the user's records are gone from the store, which
    # on SSM takes a moment after the user stops being served
    deadline = time.time() + 15
    while True:
        got = [(e["action"], e["target"], e["actor"])
               for e in audit_since(mark) or []]
        if ("expire", "eph", "system") in got or time.time() > deadline:
            break
        time.sleep(0.3)
    check(("create", "eph", "master") in got and ("expire", "eph", "system") in got,
          "audit: the expiry is recorded (%s)" % got)
    st, h, j = jreq("GET", "/users", token=MASTER)
    check(st == 200 and "eph" not in j, "expired user not listed")


def user_complete(cid, key=None):
    st, h, j = jreq("GET", "/users/" + cid, token=MASTER)
    if st != 200:
        return "GET %s: %s" % (cid, st)
    for k in ("client_id", "status", "created_at", "address", "public_key"):
        if not j.get(k):
            return "%s lacks %s" % (cid, k)
    if key is not None:
        st, _, _ = req("GET", "/users/" + cid, token=key)
        if st != 200:
            return "key of %s: %s" % (cid, st)
    return None


def t_restart(keys):
    code = D.stop(signal.SIGTERM)
    check(code == 0, "SIGTERM: clean exit (status %s)" % code)
    D.start()
    st, h, j = jreq("GET", "/users", token=MASTER)
    check(st == 200 and set(keys) <= set(j) and "alice" in j,
          "users persist across a restart")
    bad = [e for e in (user_complete(c, k) for c, k in keys.items()) if e]
    check(not bad, "user API keys still work after restart %s" % bad[:3])


def t_kill_burst():
    acked = {}
    lock = threading.Lock()
    stop = threading.Event()

    def burst(t):
        i = 0
        while not stop.is_set():
            cid = "burst-%d-%d" % (t, i)
            i += 1
            try:
                st, h, j = create(cid)
            except (OSError, http.client.HTTPException):
                continue
            if st == 201:
                with lock:
                    acked[cid] = j["api_key"]

    th = [threading.Thread(target=burst, args=(t,)) for t in range(6)]
    for t in th:
        t.start()
    time.sleep(1.5)
    D.proc.send_signal(signal.SIGKILL)
    D.proc.wait()
    time.sleep(0.3)
    stop.set()
    for t in th:
        t.join()
    check(len(acked) > 0, "burst acknowledged %d creates before SIGKILL"
          % len(acked))
    D.start()
    st, h, listed = jreq("GET", "/users", token=MASTER)
    check(st == 200, "list after SIGKILL restart")
    missing = [c for c in acked if c not in (listed or [])]
    check(not missing, "every acknowledged user survives SIGKILL (%d lost: %s)"
          % (len(missing), missing[:3]))
    bad = [e for e in (user_complete(c, acked.get(c))
                       for c in (listed or [])) if e]
    check(not bad, "no half user after SIGKILL %s" % bad[:3])
    # every listed user owns its address alone
    addrs = {}
    for c in listed or []:
        st, h, j = jreq("GET", "/users/" + c, token=MASTER)
        if st == 200:
            addrs.setdefault(j["address"], []).append(c)
    dup = {a: c for a, c in addrs.items() if len(c) > 1}
    check(not dup, "addresses unique after SIGKILL %s" % list(dup.items())[:2])


def t_store_gone():
    shutil.rmtree(D.state)
    st, h, j = jreq("GET", "/health")
    check(st == 503 and j == {"status": "unavailable"},
          "store removed: anonymous /health 503, status only (%s)" % j)
    st, h, j = jreq("GET", "/health", token=MASTER)
    check(st == 503 and j and j.get("status") == "unavailable" and
          "plugins" in j, "store removed: /health 503 for the admin too")
    st, h, j = create("late")
    check(st >= 500 and isinstance(j, dict) and "code" in j,
          "store removed: create fails with a 5xx error body (%s)" % st)


def t_no_secrets_logged(secrets_):
    text = b""
    for i in range(1, D.runs + 1):
        with open(os.path.join(D.tmp, "evpnd.%d.log" % i), "rb") as f:
            text += f.read()
    leaked = [s[:6] + "..." for s in secrets_ if s.encode() in text]
    check(not leaked, "no token in the daemon log (debug level) %s" % leaked)


def main():
    global D
    missing = missing_build(BUILD)
    if missing:
        print("missing build outputs: %s" % missing)
        return 1  # never a skip: these are ours to build
    tmp = tempfile.mkdtemp(prefix="evpn-api-test-")
    D = Daemon(tmp)
    try:
        D.start()
        t_health_openapi()
        t_errors_basic()
        alice, bob = t_create()
        t_bad_requests()
        t_deep_json()
        t_access(alice, bob)
        t_allowed_ips(bob)
        t_audit()
        t_quota()
        t_rate_limit()
        t_links(alice)
        t_patch_delete(bob)
        keys = t_concurrent()
        keys["alice"] = alice["api_key"]
        t_metrics()
        t_slowloris()
        t_throttle("alice", alice["api_key"])
        t_ttl()
        t_restart(keys)
        t_kill_burst()
        t_store_gone()
        t_no_secrets_logged([MASTER, alice["api_key"], bob["api_key"]] +
                            list(keys.values())[:5] + LINK_TOKENS)
    except SystemExit as e:
        failures.append(str(e))
        print("FAIL - %s" % e)
    except Exception:  # noqa: BLE001 - a crash is a failure, show it
        import traceback
        traceback.print_exc()
        failures.append("exception")
    finally:
        D.stop(signal.SIGTERM)
        if failures:
            print("---- evpnd log (tail) ----")
            D.dump()
        shutil.rmtree(tmp, ignore_errors=True)
    return result()


if __name__ == "__main__":
    sys.exit(main())
