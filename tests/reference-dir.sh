#!/usr/bin/env bash
# Prints the folder of the reference material the tests check drover against
# (the ASR OpenAPI contract, Microsoft's example payloads, the JUnit schema):
# $DROVER_REFERENCE when set, else shared/reference beside the checkout, else
# /work/shared/reference. The material is not part of the project; the tests
# that need it fail (not skip) when it cannot be found.
set -u
here=$(cd "$(dirname "$0")/.." && pwd)
for d in "${DROVER_REFERENCE:-}" "$here/../shared/reference" /work/shared/reference; do
	if [ -n "$d" ] && [ -f "$d/asr-openapi-2025-08-01.json" ]; then
		(cd "$d" && pwd)
		exit 0
	fi
done
echo "tests/reference-dir.sh: reference material not found; set DROVER_REFERENCE to the folder holding asr-openapi-2025-08-01.json" >&2
exit 1
