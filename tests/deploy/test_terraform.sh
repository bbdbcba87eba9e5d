#!/bin/bash
# Parses every deploy/terraform .tf file with HashiCorp's HCL parser (npm
# @cdktf/hcl2json, cached under the build dir) and checks its structure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
src="${EVPN_SOURCE_DIR:-$(cd "$here/../.." && pwd)}"
build="${EVPN_BUILD_DIR:-$src/build}"
cache="$build/node-cache"
mod="$cache/node_modules/@cdktf/hcl2json"
HCL2JSON_VERSION=0.21.0

missing() { # a prerequisite is missing: skip outside CI, fail in CI
	echo "$1" >&2
	if [ -n "${CI:-}" ]; then exit 1; fi
	exit 77
}

command -v node >/dev/null || missing "node not found (apt-get install nodejs npm)"
if [ ! -f "$mod/package.json" ] ||
	! grep -q "\"version\": \"$HCL2JSON_VERSION\"" "$mod/package.json"; then
	command -v npm >/dev/null || missing "npm not found (apt-get install npm)"
	mkdir -p "$cache"
	npm install --prefix "$cache" --no-audit --no-fund --loglevel=error \
		"@cdktf/hcl2json@$HCL2JSON_VERSION" >&2 ||
		missing "npm install @cdktf/hcl2json failed"
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# The parser must reject broken HCL, or passing below would mean nothing.
mkdir "$tmp/bad"
printf 'resource "x" "y" {\n  a = \n' >"$tmp/bad/broken.tf"
if node "$here/parse_hcl.js" "$mod" "$tmp/bad" >/dev/null 2>"$tmp/bad.err" ||
	! grep -q "HCL parse error" "$tmp/bad.err"; then
	echo "FAIL - the HCL parser did not reject broken input:"
	cat "$tmp/bad.err"
	exit 1
fi

node "$here/parse_hcl.js" "$mod" "$src/deploy/terraform" >"$tmp/tf.json"
python3 "$here/check_terraform.py" "$tmp/tf.json" "$src/deploy/terraform"
