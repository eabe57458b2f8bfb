#!/usr/bin/env bash
# Every code in interpreter/front/diag_codes.h must be documented in
# docs/diagnostics.md and produced by at least one golden case.
set -u
cd "$(dirname "$0")/.."
status=0
for code in $(sed -n 's/^DR_CODE(\(DR[0-9]*\),.*/\1/p' interpreter/front/diag_codes.h); do
	if ! grep -q "^## $code " docs/diagnostics.md 2>/dev/null; then
		echo "$code is not documented in docs/diagnostics.md"; status=1
	fi
	if ! grep -rqs "\[$code\]\|\"$code\"" tests/golden --include=expected.stderr --include=expected.stdout; then
		echo "$code has no golden case"; status=1
	fi
done
exit $status
