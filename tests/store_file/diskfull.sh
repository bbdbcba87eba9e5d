#!/usr/bin/env bash
# Disk full: on a small tmpfs, puts must fail with EVPN_ERR_IO, keep the old
# values and leave no temporary files. Needs to mount a tmpfs: as root, or
# in a user+mount namespace (unshare -rm) where the kernel allows that.
set -euo pipefail

driver=${EVPN_BUILD_DIR:?}/tests/store_file_driver
[[ -x $driver ]] || { echo "missing $driver (build the tests)"; exit 1; }

tmp=$(mktemp -d)
mnt=$tmp/mnt
mkdir "$mnt"
mounted=
cleanup() {
	if [[ -n $mounted ]]; then umount "$mnt" 2>/dev/null || true; fi
	rm -rf "$tmp"
}
trap cleanup EXIT

if [[ $(id -u) -eq 0 ]]; then
	mount -t tmpfs -o size=512k,mode=0700 evpn-fstore-test "$mnt"
	mounted=1
	"$driver" fill "$mnt/state"
	exit $?
fi
if unshare -rm true 2>/dev/null; then
	exec unshare -rm bash -c '
		set -e
		mount -t tmpfs -o size=512k,mode=0700 evpn-fstore-test "$1"
		"$2" fill "$1/state"' _ "$mnt" "$driver"
fi
if [[ -n ${CI:-} ]]; then
	echo "cannot mount a tmpfs (not root, no user namespaces) in CI"
	exit 1
fi
echo "SKIP: cannot mount a tmpfs (not root, no user namespaces)"
exit 77
