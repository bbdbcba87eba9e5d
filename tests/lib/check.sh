# Shared by the script tests (sourced; bash): the skip rule, prerequisite
# checks and TAP-like checks.
#
# A missing prerequisite (root, a command, network namespaces) skips the
# test with exit 77 outside CI; in CI ($CI set) it fails with exit 1, so
# nothing is skipped silently there. check() records a failure in $fail
# and goes on, so one run reports every broken check.
# shellcheck shell=bash

SKIP=77
[ -n "${CI:-}" ] && SKIP=1
fail=0

# need MESSAGE: a prerequisite is missing: skip (or fail in CI).
need() {
	echo "SKIP/FAIL: $*" >&2
	exit $SKIP
}

# need_cmds CMD...: each command must be on PATH.
need_cmds() {
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null || need "missing $c"
	done
}

# need_built FILE...: build outputs the test runs; missing ones fail (the
# build is not a prerequisite one may lack).
need_built() {
	local f
	for f in "$@"; do
		[ -e "$f" ] || {
			echo "FAIL: missing $f (build everything first)"
			exit 1
		}
	done
}

# check DESCRIPTION CMD...: "ok - ..." or "FAIL - ..." (and fail=1).
check() {
	local d=$1
	shift
	if "$@"; then
		echo "ok   - $d"
	else
		echo "FAIL - $d"
		fail=1
	fi
}
not() { ! "$@"; }

# refused_fast NS URL [ERRFILE]: curl in namespace NS gets "connection
# refused" (exit 7) within 2 s - a refusal answered at once, not a hang.
refused_fast() {
	local t0 t1 rc
	t0=$(date +%s%N)
	ip netns exec "$1" curl -sS -m 8 -o /dev/null "$2" 2>"${3:-/dev/null}"
	rc=$?
	t1=$(date +%s%N)
	[ $rc = 7 ] && [ $(((t1 - t0) / 1000000)) -lt 2000 ]
}

# metric_in FILE NAME{LABELS}: its value in a saved GET /metrics answer
# (0 when absent).
metric_in() {
	awk -v k="$2" '$1 == k { v = $2 } END { print v + 0 }' "$1"
}
