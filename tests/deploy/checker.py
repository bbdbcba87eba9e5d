# SPDX-License-Identifier: MIT
"""The checks of the deploy/ tests (check_terraform.py, test_dockerfile.py):
one "ok - WHAT" or "FAIL - WHAT: DETAIL" line each, counted."""
import sys


class Checker:
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
