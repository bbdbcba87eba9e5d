#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The web console's own QR encoder (www/qr.js): texts of every QR version
(1 to 40, level M) and a wg-quick file, encoded with node, each decode back
with zbarimg to exactly its text."""
import os
import shutil
import subprocess
import sys
import tempfile

SRC = os.environ.get("EVPN_SOURCE_DIR") or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), "..", "..")
QR_JS = os.path.join(SRC, "plugins", "api-civetweb-rest", "www", "qr.js")
HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    for tool in ("node", "zbarimg"):
        if not shutil.which(tool):
            print("missing: " + tool)
            return 1 if os.environ.get("CI") else 77
    tmp = tempfile.mkdtemp(prefix="evpn-qr-test-")
    failures = 0
    versions = set()
    try:
        subprocess.run(["node", os.path.join(HERE, "qr_pbm.js"), QR_JS, tmp],
                       check=True)
        with open(os.path.join(tmp, "cases")) as f:
            cases = [line.split() for line in f]
        for i, n, ver in cases:
            with open(os.path.join(tmp, i + ".txt"), "rb") as f:
                want = f.read()
            p = subprocess.run(["zbarimg", "--raw", "-q", "-Sdisable",
                                "-Sqrcode.enable", "-Sbinary",
                                os.path.join(tmp, i + ".pbm")],
                               capture_output=True)
            # -Sbinary: the bytes as they are, no newline added
            if p.stdout != want:
                failures += 1
                print("FAIL - case %s (%s bytes, version %s): %r" % (
                    i, n, ver, p.stdout[:60]))
            versions.add(int(ver))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    if not failures:
        print("ok   - %d texts decode exactly" % len(cases))
    missing = set(range(1, 41)) - versions
    if missing:
        failures += 1
        print("FAIL - versions never exercised: %s" % sorted(missing))
    else:
        print("ok   - every version 1..40 exercised")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
