#!/usr/bin/env bash
# Every complete runbook example in docs/*.md and README.md (a ```yaml fence,
# not ```yaml fragment) must validate, so the docs cannot drift from the code.
set -u
drover=$(realpath "$1")
cd "$(dirname "$0")/.."
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
status=0 n=0
for md in README.md docs/*.md; do
	tag=$(echo "$md" | tr '/.' '__')
	awk -v dir="$tmp" -v src="$md" -v tag="$tag" '
		/^```yaml[ \t]*$/ { n++; file = sprintf("%s/%s.%d.yaml", dir, tag, n); on = 1; line = NR; next }
		/^```/ && on { on = 0; close(file); print file "\t" src ":" line + 1 >> dir "/index"; next }
		on { print > file }' "$md"
done
[ -f "$tmp/index" ] || { echo "no examples found"; exit 0; }
while IFS=$'\t' read -r file where; do
	n=$((n + 1))
	if ! (cd "$(dirname "$file")" && NO_COLOR=1 "$drover" validate --quiet "$(basename "$file")") >"$tmp/out" 2>&1; then
		echo "example at $where does not validate:"; sed 's/^/    /' "$tmp/out"; status=1
	fi
done < "$tmp/index"
echo "$n examples checked"
exit $status
