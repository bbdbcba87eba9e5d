# shellcheck shell=bash
# fuzz_run NAME SEED-WRITER: run the libFuzzer target NAME for a bounded
# time (FUZZ_SECONDS, 30 s by default) from a corpus the function
# SEED-WRITER fills (called with the corpus directory). Any crash, leak,
# time-out or sanitizer report fails (exit 1). The target comes from EVPN_FUZZ_DIR (scripts/test
# builds the targets with clang into a tree of its own) or the build tree.
fuzz_run() {
	local name=$1 seeds=$2 bin work rc
	bin=${EVPN_FUZZ_DIR:-${EVPN_BUILD_DIR:?}/tests}/$name
	if [ ! -x "$bin" ]; then
		echo "fuzz target $bin not built (scripts/test builds it with clang;" \
			"or configure with EVPN_FUZZ=ON, CC=clang)"
		[ -n "${CI:-}" ] && return 1
		return 77
	fi
	work=$(mktemp -d)
	mkdir -p "$work/corpus"
	"$seeds" "$work/corpus"
	# libFuzzer's own error exit code is 77, which ctest reads as "skipped":
	# a finding must fail the test instead.
	(cd "$work" && "$bin" -max_total_time="${FUZZ_SECONDS:-30}" -rss_limit_mb=2048 \
		-max_len=2048 -print_final_stats=1 -error_exitcode=1 \
		-timeout_exitcode=1 corpus 2>&1 | tail -25
		exit "${PIPESTATUS[0]}")
	rc=$?
	rm -rf "$work"
	return $rc
}
