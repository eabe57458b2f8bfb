#!/usr/bin/env bash
# docs/events.md as a reader sees it: every table row belongs to a table
# (a blank line inside a table turns the rows after it into plain text),
# every event type the golden streams emit has a row, and every line of the
# example is the golden stream's own line.
set -u
cd "$(dirname "$0")/.."
doc=docs/events.md
rc=0
# Rows: a line starting with '|' must follow another '|' line, or open a table (header, then |---|).
awk '
	/^\|/ { if (!intable && !(getline nxt > 0 && nxt ~ /^\|[-|]+\|$/)) { printf "%s:%d: a table row outside a table (a blank line above it?)\n", FILENAME, NR; bad = 1 }
		intable = 1; next }
	{ intable = 0 }
	END { exit bad }' "$doc" || rc=1
# Every event type emitted in the golden streams has a row.
for ev in $(cat tests/golden/*/*/expected.stdout 2>/dev/null | grep -o '"event":"[a-z_.]*"' | sort -u | cut -d'"' -f4); do
	grep -Eq "^\| (\`[a-z_.]+\`, )*\`$ev\`[ ,]" "$doc" || { echo "$doc: event '$ev' (in a golden stream) has no row"; rc=1; }
done
# The example's lines are those of the golden case it names.
gold=tests/golden/run/retry-then-success/expected.stdout
while IFS= read -r line; do
	grep -qxF -- "$line" "$gold" || { echo "$doc: example line not in $gold: ${line:0:120}"; rc=1; }
done < <(awk '/^```/ { inblock = !inblock; next } inblock && /^\{"ts"/' "$doc")
exit $rc
