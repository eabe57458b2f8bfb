#!/usr/bin/env bash
# The man page as installed and read: mandoc finds nothing to warn about
# (a date, well-formed requests), an install under another PREFIX names
# that PREFIX's folders, and every environment variable drover reads is in
# ENVIRONMENT (test hooks, DROVER_TEST_*, aside).
set -u
cd "$(dirname "$0")/.."
rc=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
out=$(mandoc -Tlint -W warning docs/drover.1 2>&1) || true
[ -z "$out" ] || { echo "mandoc -Tlint docs/drover.1:"; echo "$out" | head; rc=1; }
grep -q '^\.TH DROVER 1 "[0-9]\{4\}-[0-9][0-9]-[0-9][0-9]"' docs/drover.1 || { echo "docs/drover.1: .TH has no date"; rc=1; }
make -s --no-print-directory install-man DESTDIR="$tmp" PREFIX=/opt/drover-test >/dev/null || rc=1
man=$tmp/opt/drover-test/share/man/man1/drover.1
grep -q '/opt/drover-test/share/drover/stdlib' "$man" && ! grep -q '/usr/local' "$man" ||
	{ echo "make install-man PREFIX=/opt/drover-test: the man page does not name /opt/drover-test/share/drover"; rc=1; }
env_section=$(sed -n '/^\.SH ENVIRONMENT/,/^\.SH /p' docs/drover.1)
for v in $(grep -rhoE 'getenv\("[A-Z_]+"\)' interpreter | cut -d'"' -f2 | sort -u | grep -v '^DROVER_TEST_'); do
	echo "$env_section" | grep -q "^\.B .*\b$v\b" || { echo "docs/drover.1: ENVIRONMENT does not list $v (read by drover)"; rc=1; }
done
exit $rc
