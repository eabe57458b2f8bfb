#!/usr/bin/env bash
# Generates docs/diagnostics.md from interpreter/front/diag_codes.h and, for the
# example of each code, the first golden case that produces it. `make check`
# fails when the committed file differs from this script's output.
#   docs/gen-diagnostics.sh > docs/diagnostics.md
set -u
cd "$(dirname "$0")/.."
cat <<'EOT'
# Diagnostics

Every mistake drover finds in a runbook is reported with its place (`file:line:col`), a severity, a
message and a stable code in brackets. Codes never change meaning; scripts and editors may match
on them. Errors make `drover validate` exit with status 2; warnings do not.

```
runbook.yaml:12:5: error: steps[0]: unknown key 'timout' [DR203]
   12 |     timout: 5m
      |     ^~~~~~
hint: did you mean 'timeout'?
```

`drover validate --format json` prints the same as a JSON array of objects with the fields
`file`, `line`, `column`, `end_column`, `severity`, `code`, `name`, `message` and `hint`.
`--format github` prints one GitHub Actions annotation per diagnostic (`::error file=…,line=…`)
and `--format sarif` one SARIF 2.1.0 log, for pull requests and code scanning (docs/ci.md).

Ranges: DR1xx loading YAML, DR2xx the schema, DR3xx expressions and references, DR4xx the step
graph and DR ordering rules, DR5xx binding to the backend's inventory (plan and run), DR9xx files. Each example below is the output of a golden test
(`tests/golden/`), so it is what drover prints today.

EOT
sed -n 's/^DR_CODE(\(DR[0-9]*\), "\([^"]*\)", "\(.*\)")$/\1|\2|\3/p' interpreter/front/diag_codes.h |
while IFS='|' read -r code name summary; do
	printf '## %s %s\n\n%s.\n\n' "$code" "$name" "$(echo "${summary:0:1}" | tr a-z A-Z)${summary:1}"
	f=$(grep -rls "\[$code\]" tests/golden --include=expected.stderr | sort | head -1)
	if [ -n "$f" ]; then
		case_dir=$(dirname "$f")
		printf 'Example (`%s`):\n\n```\n' "${case_dir#tests/golden/}"
		awk -v code="[$code]" '
			/^(  - )?[^ ].*: (error|warning|note): / { on = index($0, code) > 0 && !done; if (!on && shown) done = 1 }
			/^[0-9]+ errors?$/ { on = 0 }
			on { print; shown = 1 }' "$f"
		printf '```\n\n'
	fi
done
