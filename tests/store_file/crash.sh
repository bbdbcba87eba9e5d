#!/usr/bin/env bash
# Crash durability of the file store: a writer is killed with SIGKILL at
# random moments, several rounds; after each, every put it acknowledged must
# be in the store with its complete value, and no value may be partial.
set -euo pipefail

driver=${EVPN_BUILD_DIR:?}/tests/store_file_driver
[[ -x $driver ]] || { echo "missing $driver (build the tests)"; exit 1; }
rounds=${STORE_CRASH_ROUNDS:-8}

tmp=$(mktemp -d)
pid=
cleanup() {
	if [[ -n $pid ]]; then kill -KILL "$pid" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

state=$tmp/state
acks=$tmp/acks
: >"$acks"
total=0
for ((round = 1; round <= rounds; round++)); do
	"$driver" write "$state" "$round" 1000000 >"$tmp/out.$round" \
		2>"$tmp/err.$round" &
	pid=$!
	# 0.15 .. 0.75 s: long enough for a few hundred puts, random enough
	# to land anywhere in one.
	sleep "0.$((15 + RANDOM % 60))"
	kill -KILL "$pid" 2>/dev/null || true
	status=0
	wait "$pid" || status=$?
	pid=
	if ((status != 137)); then
		echo "round $round: writer exited with $status, not by SIGKILL:"
		cat "$tmp/err.$round"
		exit 1
	fi
	n=$(grep -c . "$tmp/out.$round" || true)
	total=$((total + n))
	cat "$tmp/out.$round" >>"$acks"
	echo "round $round: $n puts acknowledged before SIGKILL"
	if ! "$driver" verify "$state" "$acks"; then
		echo "round $round: verification FAILED"
		exit 1
	fi
	left=$(find "$state" -name '~tmp.*' | wc -l)
	if ((left != 0)); then
		echo "round $round: $left temporary files left after reopen"
		exit 1
	fi
done
if ((total == 0)); then
	echo "no put was ever acknowledged: the test proved nothing"
	exit 1
fi
echo "ok: $rounds rounds, $total acknowledged puts all durable"
