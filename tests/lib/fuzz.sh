# shellcheck shell=bash
# fuzz_run NAME SEED-WRITER: run the libFuzzer target NAME for a bounded
# time (FUZZ_SECONDS, 30 s by default) from a corpus the function
# SEED-WRITER fills (called with the corpus directory). Any crash, leak,
# time-out or sanitizer report fails (exit 1). The target comes from
# EVPN_FUZZ_DIR (scripts/test builds the targets with clang into a tree of
# its own) or the build tree; without it the test skips (fails in CI).
# shellcheck source=SCRIPTDIR/check.sh
. "$(dirname "${BASH_SOURCE[0]}")/check.sh"

fuzz_run() {
	local name=$1 seeds=$2 bin
	bin=${EVPN_FUZZ_DIR:-${EVPN_BUILD_DIR:?}/tests}/$name
	[ -x "$bin" ] || need "fuzz target $bin not built (scripts/test builds" \
		"it with clang; or configure with EVPN_FUZZ=ON, CC=clang)"
	FUZZ_WORK=$(mktemp -d)
	trap 'rm -rf "$FUZZ_WORK"' EXIT
	mkdir "$FUZZ_WORK/corpus"
	"$seeds" "$FUZZ_WORK/corpus"
	# libFuzzer's own error exit code is 77, which ctest reads as "skipped":
	# a finding must fail the test instead.
	cd "$FUZZ_WORK" || return 1
	"$bin" -max_total_time="${FUZZ_SECONDS:-30}" -rss_limit_mb=2048 \
		-max_len=2048 -print_final_stats=1 -error_exitcode=1 \
		-timeout_exitcode=1 corpus 2>&1 | tail -25
	return "${PIPESTATUS[0]}"
}
