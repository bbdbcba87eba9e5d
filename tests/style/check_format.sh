#!/usr/bin/env bash
# Every C source and header is clang-format clean (the repo's .clang-format).
set -u
S=${EVPN_SOURCE_DIR:?}
cf=$(command -v clang-format || command -v clang-format-14) || {
	echo "clang-format is not installed"
	[ -n "${CI:-}" ] && exit 1
	exit 77
}
cd "$S"
mapfile -t files < <(find core include plugins evpnctl tests examples tools -name '*.[ch]' -not -path '*/build*' | sort)
bad=0
for f in "${files[@]}"; do
	if ! "$cf" --dry-run -Werror "$f" >/dev/null 2>&1; then
		echo "not clang-format clean: $f (run: clang-format -i $f)"
		bad=$((bad + 1))
	fi
done
echo "clang-format: $((${#files[@]} - bad)) passed, $bad failed"
[ "$bad" = 0 ]
