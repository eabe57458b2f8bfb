#!/usr/bin/env bash
# The editor schema with the real tools editors and CI use: ajv (strict mode)
# and yaml-language-server over LSP. Installs them first (make test-npm:
# tests/npm/package-lock.json pins them, into build/npm); a failed install
# fails these tests.
#
#   tests/editor/run.sh DROVER      ends with "editor: N passed, M failed"
set -u
drover=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
tally() { # tally NAME LOG: add "NAME: N passed, M failed" of LOG
	local line; line=$(grep "^$1: [0-9]* passed" "$2")
	grep -v "^$1: [0-9]* passed" "$2"
	[ -n "$line" ] || { line="$1: 0 passed, 1 failed"; echo "FAIL $1 did not finish"; }
	pass=$((pass + $(echo "$line" | sed -n 's/.* \([0-9]*\) passed.*/\1/p')))
	fail=$((fail + $(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')))
}
if ! make -s -C "$root" --no-print-directory test-npm >"$tmp/npm.log" 2>&1; then
	echo "FAIL editor: make test-npm could not install ajv and yaml-language-server:"; tail -20 "$tmp/npm.log"
	echo "editor: 0 passed, 1 failed"; exit 1
fi
modules=$root/build/npm/node_modules
"$drover" schema >"$tmp/runbook.schema.json"
cmp -s "$tmp/runbook.schema.json" "$root/docs/runbook.schema.json"
if [ $? = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL editor: docs/runbook.schema.json is not drover schema's output"; fi
node "$here/schema-check.mjs" "$modules" "$tmp/runbook.schema.json" "$root" >"$tmp/schema.log" 2>&1
tally editor-schema "$tmp/schema.log"
mkdir -p "$tmp/work"
timeout 120 node "$here/lsp-check.mjs" "$modules" "$tmp/runbook.schema.json" "$tmp/work" \
	"$root"/examples/*.yaml "$root"/runbooks/*.yaml "$root"/stdlib/*.yaml >"$tmp/lsp.log" 2>&1
tally editor-lsp "$tmp/lsp.log"
echo "editor: $pass passed, $fail failed"
[ $fail = 0 ]
