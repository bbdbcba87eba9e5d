# SPDX-License-Identifier: MIT
"""The counted checks of the Python test scripts that report as
"N passed, N failed" (tests/deploy, tests/evpnctl): one "ok - WHAT" or
"FAIL - WHAT: DETAIL" line each. A script puts this directory on sys.path
(with sys.dont_write_bytecode, so that no __pycache__ lands in the source
tree) and imports it."""
import sys


class Checker:
    """Counts checks; finish() prints the closing line and exits 1 on any
    failure."""

    def __init__(self):
        self.passed = self.failed = 0

    def check(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            print("ok   - " + what)
        else:
            self.failed += 1
            print("FAIL - %s%s" % (what, ": %s" % (detail,) if detail != ""
                                   else ""))
        sys.stdout.flush()
        return cond

    def finish(self):
        print("%d passed, %d failed" % (self.passed, self.failed))
        sys.exit(1 if self.failed else 0)
