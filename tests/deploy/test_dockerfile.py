"""deploy/docker: the Dockerfile's inputs exist, its build stage runs the
script CI runs, the runtime stage is slim, non-root, healthy-checked and has
every shared library the built binaries need; the entrypoint validates the
config before it execs evpnd. It builds with Debian's docker.io 20.10 and no
registry but a locally imported base image: no `# syntax=` line (BuildKit
would pull a frontend image), no BuildKit-only flags (the legacy builder
refuses them). `evpnd` is on the image's PATH and the UAPI socket has a
writable place for the image's non-root user.
"""
import glob
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "lib"))
from checker import Checker  # noqa: E402

SRC = os.environ.get("EVPN_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
BUILD = os.environ.get("EVPN_BUILD_DIR") or os.path.join(SRC, "build")
DOCKERFILE = os.path.join(SRC, "deploy", "docker", "Dockerfile")
ENTRYPOINT = os.path.join(SRC, "deploy", "docker", "entrypoint.sh")
DEBIAN_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin",
               "/sbin", "/bin"]
# In every debian:12-slim image already.
BASE_PKGS = {"libc6", "libgcc-s1", "libstdc++6", "zlib1g"}


def instructions(path):
    """[(stage_index, INSTRUCTION, args)] with continuations joined."""
    out, stage, cur = [], -1, ""
    with open(path) as f:
        for raw in f:
            line = raw.rstrip("\n")
            if not cur and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if cur and line.lstrip().startswith("#"):
                continue
            if line.endswith("\\"):
                cur += line[:-1] + " "
                continue
            cur += line
            word, _, rest = cur.strip().partition(" ")
            word = word.upper()
            if word == "FROM":
                stage += 1
            out.append((stage, word, rest.strip()))
            cur = ""
    return out


def copy_parts(args):
    parts = shlex.split(args)
    flags = [p for p in parts if p.startswith("--")]
    rest = [p for p in parts if not p.startswith("--")]
    if args.lstrip().startswith("["):
        rest = json.loads(args[args.index("["):])
    frm = next((f.split("=", 1)[1] for f in flags if f.startswith("--from=")),
               None)
    return frm, rest[:-1], rest[-1]


def prereq_missing(c, what):
    """Missing build artifacts: fail in CI, note and go on elsewhere."""
    if os.environ.get("CI"):
        c.check(False, what)
    else:
        print("skip - " + what)


def check_portable(c):
    """Builds offline with docker.io 20.10, BuildKit or not."""
    with open(DOCKERFILE) as f:
        text = f.read()
    # Parser directives: "# key=value" lines before anything else.
    directives = []
    for line in text.splitlines():
        m = re.match(r"#\s*([A-Za-z]+)\s*=", line)
        if not m:
            break
        directives.append(m.group(1).lower())
    c.check("syntax" not in directives,
            "no '# syntax=' directive (BuildKit would pull a frontend image)",
            directives)
    flags = re.findall(r"^\s*(?:COPY|ADD|RUN)\s+.*?(--(?:chmod|link|mount|"
                       r"network|security|checksum|parents|exclude)\b)",
                       text, re.M | re.I)
    c.check(not flags, "no BuildKit-only flags (the legacy builder refuses "
            "them)", flags)
    c.check(not re.search(r"<<-?\s*['\"]?[A-Z]+", text),
            "no heredocs (BuildKit-only)")


def on_path(c, ins, last):
    """evpnd is reachable by name in the runtime stage."""
    path = list(DEBIAN_PATH)
    for s, w, a in ins:
        if s == last and w == "ENV":
            m = re.search(r"\bPATH=(\S+)", a)
            if m:
                path = [p for p in m.group(1).strip("\"'").split(":")
                        if p and "$" not in p] + path
    found = []
    for s, w, a in ins:
        if s != last:
            continue
        if w == "COPY":
            frm, srcs, dest = copy_parts(a)
            if any(os.path.basename(x) == "evpnd" for x in srcs):
                found.append(dest.rstrip("/") if dest.endswith("/evpnd")
                             else dest.rstrip("/") + "/evpnd")
        if w == "RUN":
            found += re.findall(r"ln\s+-s\w*\s+\S*/evpnd\s+(\S+)", a)
    found = [f if f.endswith("/evpnd") else f.rstrip("/") + "/evpnd"
             for f in found]
    c.check(any(os.path.dirname(f) in path for f in found),
            "evpnd is on the runtime PATH (docker exec C evpnd ...)",
            (found, path))


def uapi_writable(c, ins, last):
    """The image runs as a non-root user that cannot create
    /var/run/wireguard: the shipped config's uapi_fallback_dir must be in
    the state directory the image creates for that user."""
    env = " ".join(a for s, w, a in ins if s == last and w == "ENV")
    m = re.search(r"\bEVPN_STATE_DIR=(\S+)", env)
    state = m.group(1) if m else None
    c.check(state, "the image sets EVPN_STATE_DIR")
    runs = " ".join(a for s, w, a in ins if s == last and w == "RUN")
    c.check(state and re.search(r"install\s+-d\s+-o\s+\S+\s+-g\s+\S+\s+"
                                r"-m\s+0?700\s+" + re.escape(state or "-"),
                                runs),
            "the state dir is created 0700 for the image's user")
    with open(os.path.join(SRC, "etc", "evpn.yaml")) as f:
        yaml = f.read()
    m = re.search(r"^\s*uapi_fallback_dir:\s*(\S+)", yaml, re.M)
    c.check(m and m.group(1).startswith("${EVPN_STATE_DIR"),
            "etc/evpn.yaml puts the UAPI socket under $EVPN_STATE_DIR when "
            "/var/run/wireguard is not writable", m and m.group(1))


def main():
    c = Checker()
    ins = instructions(DOCKERFILE)
    check_portable(c)
    froms = [(s, a) for s, w, a in ins if w == "FROM"]
    c.check(len(froms) == 2, "two stages", froms)
    c.check(re.fullmatch(r"debian:12 +AS +build", froms[0][1], re.I),
            "build stage on debian:12", froms[0][1])
    c.check(froms[-1][1].split()[0] == "debian:12-slim",
            "runtime stage on debian:12-slim", froms[-1][1])
    last = froms[-1][0]
    stage_names = {s: a.split()[-1] for s, a in froms if " AS " in
                   a.upper()}

    # ---- every file the Dockerfile COPYs exists (build context = repo)
    workdir = {}
    for s, w, a in ins:
        if w == "WORKDIR":
            workdir[s] = a
        if w not in ("COPY", "ADD"):
            continue
        frm, srcs, dest = copy_parts(a)
        if frm is None:
            for p in srcs:
                hits = glob.glob(os.path.join(SRC, p))
                c.check(hits, "COPY source exists: " + p)
                if p.endswith(".sh") and hits:
                    c.check(os.access(hits[0], os.X_OK) or "--chmod" in a,
                            p + " is executable in the image")
            continue
        c.check(frm in stage_names.values(), "COPY --from names a stage: " +
                frm)
        for p in srcs:
            bdir = workdir.get(0, "/src").rstrip("/") + "/build/"
            if not c.check(p.startswith(bdir), "COPY --from=%s takes build "
                           "output: %s" % (frm, p)):
                continue
            rel = p[len(bdir):]
            if not os.path.exists(os.path.join(BUILD, "evpnd")):
                prereq_missing(c, "%s/evpnd not built: cannot check %s" %
                               (BUILD, p))
                continue
            c.check(glob.glob(os.path.join(BUILD, rel)),
                    "build produces %s (as %s/%s)" % (p, BUILD, rel))

    # ---- the build stage runs the script CI runs
    runs0 = " ".join(a for s, w, a in ins if s == 0 and w == "RUN")
    c.check(re.search(r"(^|[\s;&])(\./)?scripts/build(\s|$)", runs0),
            "build stage runs scripts/build", runs0)
    sb = os.path.join(SRC, "scripts", "build")
    c.check(os.path.isfile(sb) and os.access(sb, os.X_OK),
            "scripts/build exists and is executable")
    ci = os.path.join(SRC, ".ci", "run")
    st = os.path.join(SRC, "scripts", "test")
    read = lambda p: open(p).read() if os.path.isfile(p) else ""  # noqa
    ci_text, st_text, sb_text = read(ci), read(st), read(sb)
    c.check(re.search(r"scripts/test\b", ci_text),
            ".ci/run runs scripts/test")
    # CI builds with scripts/lib.sh's evpn_build; scripts/build is that
    # same function, so the image is built the way CI builds.
    for name, text in (("scripts/test", st_text), ("scripts/build", sb_text)):
        c.check(re.search(r"^\s*(\.|source)\s+.*lib\.sh", text, re.M) and
                re.search(r"^\s*evpn_build\s", text, re.M) and
                "EVPN_BUILD_PKGS" in text,
                "%s installs EVPN_BUILD_PKGS and builds with lib.sh's "
                "evpn_build" % name)
    lib = read(os.path.join(SRC, "scripts", "lib.sh"))
    c.check(re.search(r"^evpn_build\(\)", lib, re.M),
            "scripts/lib.sh defines evpn_build")

    # ---- runtime stage
    rt = [(w, a) for s, w, a in ins if s == last]
    users = [a for w, a in rt if w == "USER"]
    c.check(users and users[-1].split(":")[0] not in ("root", "0"),
            "runtime runs as a non-root user", users)
    expose = " ".join(a for w, a in rt if w == "EXPOSE").split()
    c.check("51820/udp" in expose and "8000/tcp" in expose,
            "EXPOSE 51820/udp 8000/tcp", expose)
    hc = " ".join(a for w, a in rt if w == "HEALTHCHECK")
    c.check("/health" in hc and "CMD" in hc, "HEALTHCHECK on /health", hc)
    ep = [a for w, a in rt if w == "ENTRYPOINT"]
    c.check(ep and "entrypoint.sh" in ep[-1], "ENTRYPOINT is entrypoint.sh")
    rruns = " ".join(a for w, a in rt if w == "RUN")
    pkgs = set(re.findall(r"\b(lib[a-z0-9.+-]+|ca-certificates|curl)\b",
                          rruns.split("install", 1)[-1]))
    c.check(not [p for p in pkgs if p.endswith("-dev")] and
            not re.search(r"\b(gcc|cmake|make|build-essential)\b", rruns),
            "no compilers or -dev packages at runtime", sorted(pkgs))
    c.check("--no-install-recommends" in rruns and
            "rm -rf /var/lib/apt/lists" in rruns, "slim apt install")
    c.check("curl" in pkgs or "curl" in hc.split()[0:0] or "curl" in rruns,
            "the health check's curl is installed")
    on_path(c, ins, last)
    uapi_writable(c, ins, last)
    # The legacy builder ignores Dockerfile.dockerignore: a local build/
    # in the context must not leak into the image's build.
    c.check(re.search(r"rm -rf [^;&]*\bbuild\b[^;&]*&&\s*(\./)?scripts/build",
                      runs0),
            "the build stage removes local build trees before scripts/build",
            runs0)
    check_libs(c, pkgs)
    check_entrypoint(c)
    c.finish()


def deb_package(path):
    cands = {path, os.path.realpath(path)}
    for p in list(cands):
        if p.startswith("/usr/lib/"):
            cands.add(p[4:])
        elif p.startswith("/lib/"):
            cands.add("/usr" + p)
    for p in cands:
        r = subprocess.run(["dpkg", "-S", p], capture_output=True, text=True)
        if r.returncode == 0:
            return r.stdout.split(":")[0].strip()
    return None


def depends_of(pkg):
    r = subprocess.run(["dpkg-query", "-W", "-f=${Depends}", pkg],
                       capture_output=True, text=True)
    return set(re.findall(r"(?:^|[,|]\s*)([a-z0-9][a-z0-9.+-]*)",
                          r.stdout))


def check_libs(c, pkgs):
    """Every shared library evpnd and the plugins link directly comes from
    a package the runtime stage installs (or its dependencies, or the
    base image)."""
    bins = [os.path.join(BUILD, "evpnd")] + sorted(
        glob.glob(os.path.join(BUILD, "plugins", "*.so")))
    bins = [b for b in bins if os.path.isfile(b)]
    if not bins or not os.path.isfile(bins[0]):
        prereq_missing(c, "no built evpnd/plugins in %s: runtime libraries "
                       "not checked" % BUILD)
        return
    allowed = set(pkgs) | BASE_PKGS
    for p in pkgs:
        allowed |= depends_of(p)
    for b in bins:
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]",
                            subprocess.run(["readelf", "-d", b],
                                           capture_output=True,
                                           text=True).stdout)
        ldd = subprocess.run(["ldd", b], capture_output=True, text=True).stdout
        where = dict(re.findall(r"^\s*(\S+) => (\S+)", ldd, re.M))
        missing = []
        for lib in needed:
            # scripts/test builds with sanitizers; the image never does
            if re.match(r"lib(asan|ubsan|lsan|tsan)\.so", lib):
                continue
            pkg = deb_package(where.get(lib, lib))
            if pkg is None or pkg.split(":")[0] not in allowed:
                missing.append("%s (%s)" % (lib, pkg))
        c.check(not missing, "runtime image has the libraries of " +
                os.path.relpath(b, BUILD), missing)


def check_entrypoint(c):
    c.check(subprocess.run(["sh", "-n", ENTRYPOINT]).returncode == 0,
            "entrypoint.sh: valid sh")
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "log")
        fake = os.path.join(tmp, "evpnd")
        with open(fake, "w") as f:
            f.write('#!/bin/sh\necho "$$ $*" >> %s\n'
                    'if [ "$1" = keygen ] && [ -n "${EVPN_KEYGEN_CONFIG_FILE'
                    ':-}" ]; then cat "$EVPN_KEYGEN_CONFIG_FILE" >> %s; fi\n'
                    '[ "$1" = check-config ] && exit "${FAKE_CHECK:-0}"\n'
                    'exit 7\n' % (log, log))
        os.chmod(fake, 0o755)

        def run(args, **env):
            if os.path.exists(log):
                os.unlink(log)
            e = dict(os.environ, EVPND=fake, EVPN_CONFIG="/x/evpn.yaml", **env)
            e.pop("EVPN_KEYGEN_CONFIG", None) if "EVPN_KEYGEN_CONFIG" not in \
                env else None
            p = subprocess.Popen(["sh", ENTRYPOINT] + args, env=e,
                                 stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            out, err = p.communicate(timeout=20)
            lines = open(log).read().splitlines() if os.path.exists(log) \
                else []
            return p.pid, p.returncode, lines, err

        pid, rc, lines, _ = run([])
        calls = [ln.split(" ", 1)[1] for ln in lines]
        c.check(calls == ["check-config -c /x/evpn.yaml",
                          "run -c /x/evpn.yaml"] and rc == 7,
                "entrypoint: check-config, then run", (calls, rc))
        c.check(lines and lines[-1].split()[0] == str(pid),
                "entrypoint execs evpnd run (same pid: gets SIGTERM)")
        pid, rc, lines, err = run([], FAKE_CHECK="1")
        c.check(rc == 1 and len(lines) == 1 and "invalid configuration"
                in err, "entrypoint: bad config, evpnd run never starts",
                (rc, lines))
        pid, rc, lines, _ = run(["keygen"],
                                EVPN_KEYGEN_CONFIG='{"ssm_prefix": "/t"}')
        c.check(len(lines) == 3 and lines[1].endswith("keygen -c "
                                                      "/x/evpn.yaml") and
                lines[2] == '{"ssm_prefix": "/t"}',
                "entrypoint keygen: config checked, keygen config handed "
                "over", lines)
        pid, rc, lines, _ = run(["--version"])
        c.check([ln.split(" ", 1)[1] for ln in lines] == ["--version"],
                "entrypoint passes --version through", lines)


if __name__ == "__main__":
    main()
