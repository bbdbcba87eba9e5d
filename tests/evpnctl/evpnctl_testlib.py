"""Helpers shared by the evpnctl integration tests (stdlib only)."""
import base64
import os
import socket
import stat
import subprocess
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from checker import Checker  # noqa: E402,F401  (T.Checker for the tests)

P = 2**255 - 19


def x25519(k: bytes, u: bytes) -> bytes:
    """RFC 7748 X25519, to check evpnctl's key pairs independently."""
    kb = bytearray(k)
    kb[0] &= 248
    kb[31] &= 127
    kb[31] |= 64
    n = int.from_bytes(kb, "little")
    x1 = int.from_bytes(u, "little") & ((1 << 255) - 1)
    x2, z2, x3, z3, swap = 1, 0, x1, 1, 0
    for t in reversed(range(255)):
        bit = (n >> t) & 1
        swap ^= bit
        if swap:
            x2, x3, z2, z3 = x3, x2, z3, z2
        swap = bit
        a, b = x2 + z2, x2 - z2
        aa, bb = a * a % P, b * b % P
        e = aa - bb
        c, d = x3 + z3, x3 - z3
        da, cb = d * a % P, c * b % P
        x3 = (da + cb) ** 2 % P
        z3 = x1 * (da - cb) ** 2 % P
        x2 = aa * bb % P
        z2 = e * (aa + 121665 * e) % P
    if swap:
        x2, z2 = x3, z3
    return (x2 * pow(z2, P - 2, P) % P).to_bytes(32, "little")


def pubkey_b64(priv_b64: str) -> str:
    base = (9).to_bytes(32, "little")
    return base64.b64encode(x25519(base64.b64decode(priv_b64), base)).decode()


def self_check_x25519():
    # RFC 7748 section 6.1, Alice's key pair.
    priv = bytes.fromhex(
        "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    want = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    got = x25519(priv, (9).to_bytes(32, "little")).hex()
    assert got == want, got


def evpnctl_path():
    exe = os.environ.get("EVPNCTL")
    if exe:
        return exe
    build = os.environ.get("EVPN_BUILD_DIR", "build")
    for p in (os.path.join(build, "evpnctl"),
              os.path.join(build, "evpnctl", "evpnctl")):
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return p
    raise SystemExit("evpnctl binary not found in " + build)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10.0, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


def run(args, env, timeout=60, **kw):
    return subprocess.run([evpnctl_path()] + args, env=env, timeout=timeout,
                          capture_output=True, text=True, **kw)


HALF = {" ": (False, False), "\u2580": (True, False),
        "\u2584": (False, True), "\u2588": (True, True)}


def qr_decode(text, invert=False, scale=6):
    """Decodes evpnctl's half-block QR drawing with zbarimg: turns it back
    into pixels (a PBM image) so a real QR reader checks it scans.
    Returns the decoded text, or None when zbarimg is not installed."""
    import shutil
    zbar = shutil.which("zbarimg")
    if not zbar:
        return None
    rows = []
    for line in text.rstrip("\n").split("\n"):
        top, bot = [], []
        for ch in line:
            t, b = HALF[ch]
            top.append(t)
            bot.append(b)
        rows += [top, bot]
    # drawn = light unless inverted; PBM: 1 = black (dark module)
    dark = [[(not v) if not invert else v for v in r] for r in rows]
    w = len(dark[0])
    pad = 4
    out = ["P1", "%d %d" % ((w + 2 * pad) * scale,
                           (len(dark) + 2 * pad) * scale)]
    blank = ["0"] * ((w + 2 * pad) * scale)
    for _ in range(pad * scale):
        out.append(" ".join(blank))
    for r in dark:
        px = ["0"] * (pad * scale)
        for v in r:
            px += ["1" if v else "0"] * scale
        px += ["0"] * (pad * scale)
        for _ in range(scale):
            out.append(" ".join(px))
    for _ in range(pad * scale):
        out.append(" ".join(blank))
    import tempfile
    with tempfile.NamedTemporaryFile("w", suffix=".pbm", delete=False) as f:
        f.write("\n".join(out) + "\n")
        name = f.name
    try:
        r = subprocess.run([zbar, "--raw", "-q", name], capture_output=True,
                           timeout=60)
        return r.stdout.decode("utf-8", "replace")
    finally:
        os.unlink(name)
