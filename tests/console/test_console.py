#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The web console served by api:civetweb-rest at /, in real headless
Chromium (Debian's chromium + chromium-driver, driven through chromedriver's
W3C WebDriver HTTP API with urllib: Python stdlib only), against a real
`evpnd run` on loopback with the file store. No root needed.

Signs in, creates a user with a TTL, decodes the QR the page shows (zbarimg)
and compares it with the config the API returns, disables, enables, deletes
through the page, checks the API's errors are shown in words (401, 409, 429),
that sign-out clears the key, that a user key sees only its own user, that
the page reacts to users created elsewhere (live refresh), that a quota
and allowed IPs typed in the create form reach the API (and its 400s are
shown), that the one-time link button gives a URL that answers the config
once without a key (admin and user views), that the page's
own JavaScript logs no error, and that `console: false` turns the page off.
Screenshots land in $EVPN_BUILD_DIR/tests/ for review.
"""
import base64
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from evpnd_http import (Evpnd, check, failures, missing_build,  # noqa: E402
                        request, result)

BUILD = os.environ.get("EVPN_BUILD_DIR", "")
MASTER = "console-master-" + secrets.token_hex(16)
SKIP = 77
CHROMIUM = os.environ.get("EVPN_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("EVPN_CHROMEDRIVER", "/usr/bin/chromedriver")
ELEMENT = "element-6066-11e4-a52e-4f735466cecf"
MAX_FAILURES = 4

CONFIG = """\
plugin_dir: {plugins}
master_key: ${{EVPN_MASTER_KEY:-}}
network:
  pool: 10.78.0.0/16
  endpoint: 127.0.0.1:51820
  dns: [1.1.1.1]
  mtu: 1420
plugins:
  store: {{ use: file, config: {{ dir: {state} }} }}
  auth:
    use: bearer
    config: {{ max_failures: {maxf}, window: 60s, lockout: 5s }}
  api:
    use: civetweb-rest
    config: {{ listen: "127.0.0.1:0", console: {console} }}
"""


def need(what):
    """A missing prerequisite: skip (77), or fail in CI."""
    print("missing: " + what)
    sys.exit(1 if os.environ.get("CI") else SKIP)


# ---------------------------------------------------------------- evpnd

class Daemon(Evpnd):
    def __init__(self, tmp):
        super().__init__(BUILD, tmp, MASTER)

    def start(self, console="true"):
        cfg = os.path.join(self.tmp, "evpn.%d.yaml" % (self.runs + 1))
        with open(cfg, "w") as f:
            f.write(CONFIG.format(plugins=os.path.join(BUILD, "plugins"),
                                  state=os.path.join(self.tmp, "state"),
                                  maxf=MAX_FAILURES, console=console))
        super().start(cfg)

    def stop(self):
        """SIGTERM; checks a clean exit and a log free of sanitizer
        reports (the test build runs evpnd under ASan/UBSan)."""
        if not self.running():
            return
        rc = super().stop()
        log = self.read_log()
        check(rc == 0, "evpnd run %d exits 0 on SIGTERM (%s)" % (self.runs, rc))
        check(b"Sanitizer" not in log and b"runtime error" not in log,
              "evpnd run %d: no sanitizer report" % self.runs)
        check(MASTER.encode() not in log, "evpnd run %d: no key in the log"
              % self.runs)


D = None


def req(method, path, body=None, token=None):
    """One API request: (status, headers lower-cased, body bytes)."""
    return request(D.port, method, path, body, token=token)


def qr_text(png_bytes, tmp, name):
    """What zbarimg reads in a PNG (None when nothing)."""
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.write(png_bytes)
    # -Sbinary: the bytes as they are, without a newline added
    p = subprocess.run(["zbarimg", "--raw", "-q", "-Sdisable",
                        "-Sqrcode.enable", "-Sbinary", path],
                       capture_output=True)
    if p.returncode != 0:
        return None
    return p.stdout.decode()


# ---------------------------------------------------------------- WebDriver

class WebDriver:
    """The few W3C WebDriver commands the test needs, over urllib."""

    def __init__(self, tmp):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.log = open(os.path.join(tmp, "chromedriver.log"), "wb")
        self.proc = subprocess.Popen(
            [CHROMEDRIVER, "--port=%d" % self.port, "--allowed-ips=127.0.0.1"],
            stdout=self.log, stderr=subprocess.STDOUT)
        self.base = "http://127.0.0.1:%d" % self.port
        self.sid = None
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                if self.call("GET", "/status").get("ready"):
                    break
            except OSError:
                pass
            time.sleep(0.2)
        else:
            raise SystemExit("chromedriver did not come up")
        profile = os.path.join(tmp, "chromium-profile")
        os.mkdir(profile)
        caps = {"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:loggingPrefs": {"browser": "ALL"},
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": ["--headless", "--no-sandbox", "--disable-gpu",
                         "--disable-quic", "--no-first-run",
                         "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         "--disable-default-apps", "--disable-extensions",
                         "--window-size=1280,1000",
                         "--user-data-dir=" + profile],
            },
        }}}
        self.sid = self.call("POST", "/session", caps)["sessionId"]

    def call(self, method, path, body=None, timeout=60):
        data = json.dumps(body).encode() if body is not None else None
        if method == "POST" and data is None:
            data = b"{}"
        r = urllib.request.Request(self.base + path, data=data, method=method,
                                   headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(r, timeout=timeout) as resp:
                return json.loads(resp.read() or b"{}").get("value")
        except urllib.error.HTTPError as e:
            raise RuntimeError("webdriver %s %s: %s" % (
                method, path, e.read()[:400].decode(errors="replace")))

    def s(self, method, path, body=None):
        return self.call(method, "/session/%s%s" % (self.sid, path), body)

    def go(self, url):
        self.s("POST", "/url", {"url": url})

    def js(self, script, *args):
        return self.s("POST", "/execute/sync", {"script": script,
                                                "args": list(args)})

    def js_async(self, script, *args):
        return self.s("POST", "/execute/async", {"script": script,
                                                 "args": list(args)})

    def find(self, css):
        return self.s("POST", "/element", {"using": "css selector",
                                           "value": css})[ELEMENT]

    def click(self, css):
        self.s("POST", "/element/%s/click" % self.find(css))

    def type(self, css, text):
        e = self.find(css)
        self.s("POST", "/element/%s/clear" % e)
        self.s("POST", "/element/%s/value" % e, {"text": text})

    def text(self, css):
        return self.s("GET", "/element/%s/text" % self.find(css))

    def wait(self, cond_js, what, timeout=15, *args):
        """Waits until the expression `cond_js` is truthy in the page."""
        deadline = time.time() + timeout
        while True:
            v = self.js("return (" + cond_js + ");", *args)
            if v:
                return v
            if time.time() > deadline:
                check(False, what + " (timed out)")
                return v
            time.sleep(0.15)

    def screenshot(self, path):
        with open(path, "wb") as f:
            f.write(base64.b64decode(self.s("GET", "/screenshot")))

    def browser_log(self):
        return self.s("POST", "/se/log", {"type": "browser"}) or []

    def close(self):
        try:
            if self.sid:
                self.s("DELETE", "")
        except Exception:
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


def visible(css):
    return ("(() => { const e = document.querySelector(%s);"
            " return !!e && !e.closest('[hidden]') && e.offsetParent !== null; })()"
            % json.dumps(css))


def msg():
    return W.js("const m = document.getElementById('msg');"
                " return m.hidden ? '' : m.textContent;")


# The QR the page shows, as PNG bytes: drawn on a canvas (fetching the
# blob: URL would need connect-src blob:, which the CSP rightly refuses).
QR_JS = """
const img = document.querySelector(arguments[0]);
const done = arguments[arguments.length - 1];
const draw = () => {
  const c = document.createElement('canvas');
  c.width = img.naturalWidth; c.height = img.naturalHeight;
  c.getContext('2d').drawImage(img, 0, 0);
  done(c.toDataURL('image/png').split(',')[1]);
};
if (img.complete && img.naturalWidth) draw(); else img.onload = draw;
"""


def page_qr(css, tmp, name):
    W.wait("(() => { const i = document.querySelector(%s);"
           " return i && i.src.startsWith('blob:') && i.complete"
           " && i.naturalWidth > 0; })()" % json.dumps(css),
           "QR image %s loaded" % css)
    return qr_text(base64.b64decode(W.js_async(QR_JS, css)), tmp, name)


def row_status(cid):
    return W.js("const r = document.querySelector("
                "'#users-body tr[data-id=\"' + arguments[0] + '\"] .c-status');"
                " return r ? r.textContent : null;", cid)


W = None


# ---------------------------------------------------------------- tests

def t_served(url):
    st, h, body = req("GET", "/")
    csp = h.get("content-security-policy", "")
    check(st == 200 and h.get("content-type", "").startswith("text/html")
          and b"<title>evpn console</title>" in body,
          "GET / serves the page without a key")
    for d in ("default-src 'self'", "script-src 'self'", "style-src 'self'",
              "img-src 'self' blob:", "connect-src 'self'",
              "frame-ancestors 'none'"):
        check(d in csp, "CSP has %s" % d)
    check("unsafe" not in csp and "http" not in csp,
          "CSP allows no inline code and no other origin")
    check(h.get("x-content-type-options") == "nosniff" and
          h.get("referrer-policy") == "no-referrer",
          "nosniff and Referrer-Policy: no-referrer")
    st, h, body = req("GET", "/console/console.js")
    check(st == 200 and h.get("content-type", "").startswith(
        "text/javascript") and "content-security-policy" in h,
          "GET /console/console.js: JavaScript, same headers")
    st, _, _ = req("GET", "/console/missing.js")
    check(st == 404, "an unknown console file: 404")
    # nothing in the page points to another origin
    for f in ("/", "/console/console.js", "/console/console.css"):
        _, _, body = req("GET", f)
        check(not re.search(rb"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", body),
              "%s names no other origin" % f)


def t_bad_key():
    W.go(URL)
    W.wait(visible("#key"), "sign-in form shown")
    W.type("#key", "not-the-key")
    W.click("#signin-form button[type=submit]")
    m = W.wait("document.getElementById('msg').textContent.includes('401')",
               "a bad key shows the 401 error")
    check("not accepted" in msg(), "401 in words: %r" % msg())
    check(W.js("return sessionStorage.length") == 0,
          "a refused key is not kept")
    return m


def t_sign_in_admin():
    W.type("#key", MASTER + "\ue007")  # Enter submits: keyboard works
    W.wait(visible("#users"), "master key shows the users table")
    check(W.js("return sessionStorage.getItem('evpn.key')") == MASTER,
          "the key is in sessionStorage")
    check(W.js("return document.cookie") == "", "no cookie is set")
    check(MASTER not in W.js("return location.href"), "the key is not in the URL")
    check(W.js("return localStorage.length") == 0, "nothing in localStorage")


# Records the bodies of the page's POST /users answers (the 201s), so the
# test sees exactly what the API returned to the page.
SPY_JS = """
if (!window.__created) {
  window.__created = [];
  const orig = window.fetch;
  window.fetch = async (url, init) => {
    const res = await orig(url, init);
    if (init && init.method === 'POST' && res.status === 201)
      window.__created.push(await res.clone().json());
    return res;
  };
}
"""


def wg_pubkey(private_key):
    p = subprocess.run(["wg", "pubkey"], input=private_key.encode() + b"\n",
                       capture_output=True)
    return p.stdout.decode().strip() if p.returncode == 0 else None


def create_in_page(cid, ttl="", public_key="", quota="", ips="", rate=""):
    W.js(SPY_JS)
    n = W.js("return window.__created.length")
    W.type("#c-id", cid)
    W.type("#c-ttl", ttl)
    W.type("#c-pub", public_key)
    W.type("#c-quota", quota)
    W.type("#c-ips", ips)
    W.type("#c-rate", rate)
    W.click("#create-form button[type=submit]")
    W.wait("window.__created.length > %d && document.getElementById("
           "'created-id').textContent === %s && %s" % (
               n, json.dumps(cid), visible("#created-config")),
           "the created card shows " + cid)
    return W.js("return window.__created[window.__created.length - 1]")


def t_create(tmp):
    c = create_in_page("phone1", ttl="2h")
    shown = W.js("return document.getElementById('created-config').textContent")
    check(shown == c["config"], "the page shows the config the 201 returned")
    m = re.search(r"(?m)^PrivateKey = (\S+)$", shown)
    check(m is not None and wg_pubkey(m.group(1)) == c["public_key"],
          "it holds the private key of phone1's public key, once")
    key = W.js("return document.getElementById('created-key').textContent")
    check(key == c["api_key"] and re.fullmatch(r"[0-9a-f]{64}", key),
          "the user's API key is shown once")
    qr = page_qr("#created-qr", tmp, "created-qr.png")
    check(qr == c["config"],
          "the created QR decodes to exactly the config the API returned "
          "(%d vs %d bytes)" % (len(qr or ""), len(c["config"])))
    st, _, j = req("GET", "/users/phone1", token=MASTER)
    j = json.loads(j)
    check(st == 200 and j.get("expires_at") == c.get("expires_at") and
          j["expires_at"], "phone1 exists with the TTL's expiry")
    href = W.js("return document.getElementById('created-download').href")
    name = W.js("return document.getElementById('created-download').download")
    check(href.startswith("blob:") and name == "phone1.conf",
          "a download link for phone1.conf")
    W.wait("document.querySelector('#users-body tr[data-id=\"phone1\"]')",
           "phone1 in the users table")
    check(row_status("phone1") == "active", "phone1 is active")
    exp = W.js("return document.querySelector("
               "'tr[data-id=\"phone1\"] .c-expires').textContent")
    check(exp and exp != "never", "the table shows phone1's expiry: %r" % exp)
    addr = W.js("return document.querySelector("
                "'tr[data-id=\"phone1\"] .c-address').textContent")
    check(addr == j["address"], "the table shows phone1's address")
    hs = W.js("return document.querySelector("
              "'tr[data-id=\"phone1\"] .c-handshake').textContent")
    check(hs == "never", "no handshake yet")
    W.screenshot(os.path.join(SHOTS, "console-screenshot-created.png"))
    W.click("#created-close")
    check(W.js("return document.getElementById('created-config').textContent")
          == "", "Done forgets the shown config")
    # a user with its own public key: the 201's config (placeholder private
    # key) is exactly GET /users/{id}/config, and so is the QR
    pub = base64.b64encode(secrets.token_bytes(32)).decode()
    c = create_in_page("laptop", public_key=pub)
    st, _, cfg = req("GET", "/users/laptop/config", token=MASTER)
    check(c["public_key"] == pub and c["config"] == cfg.decode(),
          "with a public key, the 201 config is GET /users/laptop/config")
    check(page_qr("#created-qr", tmp, "laptop-qr.png") == cfg.decode(),
          "laptop's QR decodes to exactly GET /users/laptop/config")
    W.click("#created-close")
    # the same id again: the 409 in words
    W.type("#c-id", "phone1")
    W.click("#create-form button[type=submit]")
    W.wait("document.getElementById('msg').textContent.includes('409')",
           "a duplicate shows the 409 error")
    check("Conflict" in msg(), "409 in words: %r" % msg())


def cell(cid, col):
    return W.js("const c = document.querySelector('tr[data-id=\"' + arguments[0]"
                " + '\"] .c-' + arguments[1]); return c ? c.textContent : null;",
                cid, col)


def t_limits():
    """Quota, rate limit and allowed IPs through the create form; the API
    judges them."""
    c = create_in_page("capped", quota="1GB", ips="10.0.0.0/8", rate="20mbit")
    st, _, j = req("GET", "/users/capped", token=MASTER)
    j = json.loads(j)
    # the API's GB is 1000^3 (README "Data quotas": units of 1000 or 1024)
    check(st == 200 and j.get("quota") == 1000000000 and
          j.get("used_bytes") == 0, "capped has quota 1000000000, 0 used: %r"
          % {k: j.get(k) for k in ("quota", "used_bytes")})
    check(j.get("allowed_ips") == ["10.0.0.0/8"],
          "capped's allowed_ips is [10.0.0.0/8]: %r" % j.get("allowed_ips"))
    check(j.get("rate_limit") == 20000000,
          "capped's rate_limit is 20000000 bit/s: %r" % j.get("rate_limit"))
    st, _, cfg = req("GET", "/users/capped/config", token=MASTER)
    check(re.findall(r"(?m)^AllowedIPs = (.*)$", cfg.decode()) ==
          ["10.0.0.0/8"], "capped's config: AllowedIPs = 10.0.0.0/8")
    check(re.findall(r"(?m)^AllowedIPs = (.*)$", c["config"]) ==
          ["10.0.0.0/8"], "the shown (201) config has it too")
    W.click("#created-close")
    W.wait("document.querySelector('#users-body tr[data-id=\"capped\"]')",
           "capped in the users table")
    q = W.wait("(() => { const c = document.querySelector("
               "'tr[data-id=\"capped\"] .c-quota'); return c && "
               "c.textContent.includes('of 1 GB') && c.textContent; })()",
               "the table shows capped's quota")
    check(q == "0 B of 1 GB", "capped's quota cell: %r" % q)
    check(cell("phone1", "quota") == "none", "phone1 has no quota: %r"
          % cell("phone1", "quota"))
    check(cell("capped", "rate") == "20 Mbit/s", "capped's rate cell: %r"
          % cell("capped", "rate"))
    check(cell("phone1", "rate") == "none", "phone1 has no rate limit: %r"
          % cell("phone1", "rate"))
    # bad input: the API's 400 in words, and nothing is made
    W.type("#c-id", "badnet")
    W.type("#c-quota", "")
    W.type("#c-ips", "10.0.0.0/33")
    W.click("#create-form button[type=submit]")
    W.wait("document.getElementById('msg').textContent.includes('400')",
           "a bad CIDR shows the 400 error")
    check("Rejected (400)" in msg() and "10.0.0.0/33" in msg(),
          "bad CIDR 400 in words, naming it: %r" % msg())
    st, _, _ = req("GET", "/users/badnet", token=MASTER)
    check(st == 404, "no user made from a bad CIDR")
    W.type("#c-ips", "")
    W.type("#c-quota", "lots")
    W.click("#create-form button[type=submit]")
    W.wait("document.getElementById('msg').textContent.includes('quota')",
           "a bad quota shows the API's error")
    check("Rejected (400)" in msg(), "bad quota 400 in words: %r" % msg())
    W.type("#c-quota", "")
    W.type("#c-rate", "fast")
    W.click("#create-form button[type=submit]")
    W.wait("document.getElementById('msg').textContent.includes('rate_limit')",
           "a bad rate limit shows the API's error")
    check("Rejected (400)" in msg(), "bad rate limit 400 in words: %r" % msg())
    st, _, _ = req("GET", "/users/badnet", token=MASTER)
    check(st == 404, "no user made from a bad rate limit")
    # reset, not cleared by typing: an emptied required field is shown red
    W.js("document.getElementById('create-form').reset()")


def fetch_link(url):
    """GET of a one-time link with no key: (status, body)."""
    try:
        with urllib.request.urlopen(url, timeout=20) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def t_create_link():
    """Create with "Hand out by one-time link": the made private key is
    only in the link, which the created card shows."""
    W.click("#c-link")  # a click toggles the checkbox, as Space would
    c = create_in_page("handout")
    check(bool(c.get("link")) and "<paste" in c["config"],
          "the 201 has a link and a config with the placeholder key")
    url = W.js("return document.getElementById('created-link-url').value")
    check(W.js("return " + visible("#created-link-url")) and
          url == (c.get("link") or {}).get("url"),
          "the created card shows the 201's link: %r" % url)
    if not url:
        return
    check(W.js("return document.getElementById('created-config').textContent")
          == c["config"], "and the config without the private key")
    st1, body1 = fetch_link(url)
    m = re.search(r"(?m)^PrivateKey = (\S+)$", body1.decode())
    check(st1 == 200 and m is not None and
          wg_pubkey(m.group(1)) == c["public_key"],
          "GET of the link (no key): the config with handout's private key")
    check(fetch_link(url)[0] == 410, "the second GET: 410")
    W.screenshot(os.path.join(SHOTS, "console-screenshot-created-link.png"))
    W.click("#created-close")
    check(W.js("return document.getElementById('created-link-url').value")
          == "" and not W.js("return document.getElementById('c-link')"
                             ".checked"),
          "Done forgets the link; the form is reset")


def t_link(prefix, cid, token):
    """The page's one-time link button: a URL that gives the config once."""
    W.click("#%s-mklink" % prefix)
    url = W.wait("(() => { const i = document.getElementById('%s-link-url');"
                 " return !i.closest('[hidden]') && i.value; })()" % prefix,
                 "the %s one-time link is shown" % prefix)
    check(bool(url) and url.startswith(URL + "links/"),
          "%s link URL is on this origin: %r" % (prefix, url))
    exp = W.js("return document.getElementById('%s-link-exp').textContent"
               % prefix)
    check("until" in exp, "the link's expiry is shown: %r" % exp)
    check(W.js("return " + visible("#%s-link-copy" % prefix)),
          "a copy button next to it")
    W.click("#%s-link-copy" % prefix)
    W.wait("/copied|Ctrl\+C/.test(document.getElementById('msg').textContent)",
           "copy says what it did")
    if not url:
        return
    st, _, cfg = req("GET", "/users/%s/config" % cid, token=token)
    st1, body1 = fetch_link(url)
    check(st1 == 200 and body1 == cfg,
          "GET of the %s link (no key): exactly GET /users/%s/config"
          % (prefix, cid))
    st2, _ = fetch_link(url)
    check(st2 == 410, "the second GET of the link: 410 (%s)" % st2)


def t_toggle():
    W.click("tr[data-id=\"phone1\"] .toggle")
    W.wait("document.querySelector('tr[data-id=\"phone1\"] .c-status')"
           ".textContent === 'inactive'", "Disable makes phone1 inactive")
    st, _, j = req("GET", "/users/phone1", token=MASTER)
    check(json.loads(j)["status"] == "inactive", "the API says inactive")
    W.click("tr[data-id=\"phone1\"] .toggle")
    W.wait("document.querySelector('tr[data-id=\"phone1\"] .c-status')"
           ".textContent === 'active'", "Enable makes phone1 active again")
    st, _, j = req("GET", "/users/phone1", token=MASTER)
    check(json.loads(j)["status"] == "active", "the API says active")


def t_live():
    st, _, j = req("POST", "/users", {"client_id": "bob"}, token=MASTER)
    check(st == 201, "bob created through the API")
    W.wait("document.querySelector('#users-body tr[data-id=\"bob\"]')",
           "bob (made elsewhere) appears without a reload", timeout=15)
    return json.loads(j)["api_key"]


def t_detail(tmp):
    W.click("tr[data-id=\"bob\"] button:not(.toggle):not(.danger)")
    W.wait(visible("#detail"), "Config opens bob's config")
    st, _, cfg = req("GET", "/users/bob/config", token=MASTER)
    check(W.js("return document.getElementById('detail-config').textContent")
          == cfg.decode(), "the detail shows GET /users/bob/config")
    check(page_qr("#detail-qr", tmp, "detail-qr.png") == cfg.decode(),
          "bob's QR decodes to GET /users/bob/config")
    t_link("detail", "bob", MASTER)
    W.screenshot(os.path.join(SHOTS, "console-screenshot-link.png"))
    W.click("#detail-close")


def t_screens(shots):
    W.wait("document.querySelectorAll('#users-body tr').length >= 2",
           "two users listed")
    path = os.path.join(shots, "console-screenshot.png")
    W.screenshot(path)
    check(os.path.getsize(path) > 5000, "screenshot saved: " + path)
    W.s("POST", "/window/rect", {"width": 390, "height": 844})
    # phone width: no horizontal scrolling of the page itself (waited
    # for: a loaded machine lays the page out again late)
    W.wait("window.innerWidth <= 400 && "
           "document.documentElement.scrollWidth <= window.innerWidth + 1",
           "no sideways scroll at phone width")
    W.screenshot(os.path.join(shots, "console-screenshot-phone.png"))
    # the users as cards, capped's quota line among them
    W.js("document.querySelector('tr[data-id=\"capped\"]').scrollIntoView()")
    time.sleep(0.3)
    W.screenshot(os.path.join(shots, "console-screenshot-phone-users.png"))
    W.s("POST", "/window/rect", {"width": 1280, "height": 1000})


def t_reload_keeps_session():
    W.go(URL)
    W.wait(visible("#users"), "a reload in the same tab stays signed in")


def t_sign_out():
    W.click("#signout")
    W.wait(visible("#key"), "sign-out shows the sign-in form")
    check(W.js("return sessionStorage.length") == 0,
          "sign-out clears the key from sessionStorage")
    check(W.js("return document.getElementById('users-body').children.length")
          == 0, "sign-out clears the users table")


def t_user_key(bob_key, tmp):
    W.type("#key", bob_key)
    W.click("#signin-form button[type=submit]")
    W.wait(visible("#self"), "a user key shows its own view")
    check(W.js("return document.getElementById('self-id').textContent") == "bob",
          "the view is bob's")
    check(not W.js("return " + visible("#users")), "no users table for a user")
    body = W.js("return document.body.innerText")
    check("phone1" not in body and "laptop" not in body,
          "bob sees nothing of the other users")
    st, _, cfg = req("GET", "/users/bob/config", token=bob_key)
    check(W.js("return document.getElementById('self-config').textContent")
          == cfg.decode(), "bob sees his config")
    check(page_qr("#self-qr", tmp, "self-qr.png") == cfg.decode(),
          "bob's own QR decodes to his config")
    st_ = W.js("return document.querySelector('#self-info .i-status').textContent")
    check(st_ == "active", "bob sees his status")
    t_link("self", "bob", bob_key)
    W.screenshot(os.path.join(SHOTS, "console-screenshot-user.png"))
    W.click("#signout")
    W.wait(visible("#key"), "bob signs out")
    check(W.js("return sessionStorage.length") == 0, "bob's key is cleared")


def t_delete():
    W.type("#key", MASTER)
    W.click("#signin-form button[type=submit]")
    W.wait("document.querySelector('#users-body tr[data-id=\"phone1\"]')",
           "signed in again as admin")
    W.click("tr[data-id=\"phone1\"] .danger")
    W.wait("document.getElementById('confirm').open", "delete asks first")
    W.click("#confirm-cancel")
    time.sleep(0.5)
    st, _, _ = req("GET", "/users/phone1", token=MASTER)
    check(st == 200, "Cancel keeps phone1")
    W.click("tr[data-id=\"phone1\"] .danger")
    W.wait("document.getElementById('confirm').open", "delete asks again")
    W.click("#confirm-delete")
    W.wait("!document.querySelector('#users-body tr[data-id=\"phone1\"]')",
           "phone1 leaves the table")
    st, _, _ = req("GET", "/users/phone1", token=MASTER)
    check(st == 404, "phone1 is deleted in the API")
    W.click("#signout")
    W.wait(visible("#key"), "admin signs out")


def t_throttled():
    # wrong keys until the address is locked out: 429 with Retry-After
    for i in range(MAX_FAILURES + 1):
        W.type("#key", "wrong-%d" % i)
        W.click("#signin-form button[type=submit]")
        time.sleep(0.3)
        if "429" in msg():
            break
    W.wait("document.getElementById('msg').textContent.includes('429')",
           "repeated bad keys show the 429 error")
    check(re.search(r"Try again in \d+ s", msg()) is not None,
          "429 says when to try again (Retry-After): %r" % msg())


# Errors the test provokes on purpose show in the log as failed loads.
EXPECTED = re.compile(r"Failed to load resource: the server responded with a "
                      r"status of (400|401|409|429)")


def t_console_log():
    entries = W.browser_log()
    errors = [e for e in entries if e.get("level") == "SEVERE"
              and not EXPECTED.search(e.get("message", ""))]
    for e in errors:
        print("  browser: %s %s" % (e.get("source"), e.get("message")))
    check(not errors, "the page logged no console errors (%d entries)"
          % len(entries))
    check(not any("Content Security Policy" in e.get("message", "")
                  for e in entries), "no CSP violation")


def t_console_off():
    D.stop()
    D.start(console="false")
    st, _, body = req("GET", "/")
    check(st == 404, "console: false -> GET / is 404")
    st, _, _ = req("GET", "/console/console.js")
    check(st == 404, "console: false -> its files are 404")
    st, _, _ = req("GET", "/users", token=MASTER)
    check(st == 200, "console: false leaves the API on")


URL = None
SHOTS = None


def main():
    global D, W, URL
    missing = missing_build(BUILD)
    if missing:
        print("missing build outputs: %s" % missing)
        return 1
    for tool in (CHROMIUM, CHROMEDRIVER):
        if not os.access(tool, os.X_OK):
            need(tool + " (apt-get install chromium chromium-driver)")
    if not shutil.which("zbarimg"):
        need("zbarimg (apt-get install zbar-tools)")
    if not shutil.which("wg"):
        need("wg (apt-get install wireguard-tools)")
    global SHOTS
    shots = SHOTS = os.path.join(BUILD, "tests")
    os.makedirs(shots, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="evpn-console-test-")
    D = Daemon(tmp)
    try:
        D.start()
        URL = "http://127.0.0.1:%d/" % D.port
        t_served(URL)
        W = WebDriver(tmp)
        t_bad_key()
        t_sign_in_admin()
        t_create(tmp)
        t_limits()
        t_create_link()
        t_toggle()
        bob_key = t_live()
        t_detail(tmp)
        t_screens(shots)
        t_reload_keeps_session()
        t_sign_out()
        t_user_key(bob_key, tmp)
        t_delete()
        t_throttled()
        t_console_log()
        W.close()
        W = None
        t_console_off()
    except Exception as e:
        check(False, "unexpected: %r" % e)
    finally:
        if W:
            try:
                W.screenshot(os.path.join(shots, "console-failure.png"))
            except Exception:
                pass
            W.close()
        D.stop()
        if failures:
            D.dump(4000)
    shutil.rmtree(tmp, ignore_errors=True)
    return result()


if __name__ == "__main__":
    sys.exit(main())
