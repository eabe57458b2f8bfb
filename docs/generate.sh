#!/usr/bin/env bash
# Regenerates every generated part of docs/ from the code:
#   docs/runbook.schema.json     drover schema
#   docs/actions.md              drover actions --format markdown
#   docs/language.md (section)   drover schema --format markdown, between the GENERATED markers
#   docs/diagnostics.md          docs/gen-diagnostics.sh (codes table + golden examples)
#   docs/drover.1                docs/gen-man.sh (every command's --help)
#
#   docs/generate.sh DROVER           rewrite the files (make docs)
#   docs/generate.sh DROVER --check   only report stale files; exit 1 if any
set -u
drover=$(realpath "$1"); check=${2:-}
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
stale=0

"$drover" schema > "$tmp/runbook.schema.json"
"$drover" actions --format markdown > "$tmp/actions.md"
docs/gen-diagnostics.sh > "$tmp/diagnostics.md"
docs/gen-man.sh "$drover" > "$tmp/drover.1"
begin='<!-- BEGIN GENERATED: drover schema --format markdown -->'
end='<!-- END GENERATED: drover schema --format markdown -->'
"$drover" schema --format markdown > "$tmp/ref.md"
awk -v b="$begin" -v e="$end" -v ref="$tmp/ref.md" '
	$0 == b { print; while ((getline line < ref) > 0) print line; skip = 1; next }
	$0 == e { skip = 0 }
	!skip { print }' docs/language.md > "$tmp/language.md"

for f in runbook.schema.json actions.md diagnostics.md language.md drover.1; do
	if ! cmp -s "$tmp/$f" "docs/$f"; then
		if [ "$check" = --check ]; then
			echo "docs/$f is stale: run 'make docs'"; stale=1
		else
			cp "$tmp/$f" "docs/$f"; echo "updated docs/$f"
		fi
	fi
done
exit $stale
