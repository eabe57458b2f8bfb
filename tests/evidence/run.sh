#!/usr/bin/env bash
# Drill evidence and review, checked with the real tools that read it (docs/ci.md,
# docs/scheduling.md, docs/report.md): SARIF against the SARIF 2.1.0 schema (ajv, installed by
# `make test-npm`), metrics with promtool, JUnit with xmllint and the JUnit XSD, the HTML report
# in headless Chromium, systemd units with systemd-analyze, CI workflow files and the CronJob by
# parsing them. Each group works in its own temporary folder under the build folder.
#
#   tests/evidence/run.sh DROVER            every group; ends with "evidence: N passed, M failed"
#   tests/evidence/run.sh DROVER GROUP...   only those groups (sarif, github, ...)
set -u
drover=$(realpath "$1"); shift
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(dirname "$drover")
tmp=$(mktemp -d -p "$build" evidence.XXXXXX); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0 group=
unset DROVER_SIM_FAULTS DROVER_STATE_DIR DROVER_SIM_STATE DROVER_CLOCK DROVER_TEST_SIGNAL_AT
export NO_COLOR=1 DROVER_STDLIB="$root/stdlib"

ok() { # ok DESCRIPTION STATUS: count one check
	if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL evidence $group: $1"; fi
}
need() { # need TOOL...: each on PATH, or one failed check naming it (make deps installs them)
	local t rc=0
	for t in "$@"; do command -v "$t" >/dev/null || { echo "    $t not found: run 'make deps'"; rc=1; }; done
	ok "tools present: $*" $rc
	return $rc
}
npm_tools() { make -s -C "$root" test-npm >"$tmp/npm.log" 2>&1 || { cat "$tmp/npm.log"; return 1; }; }
sarif_check() { node "$here/sarif-check.js" "$root/build/npm" "$@"; }

# --- validate --format sarif: valid SARIF 2.1.0 that says what the text says ------------------
sarif() {
	local d=$tmp/sarif
	mkdir -p "$d"
	need node && npm_tools; ok "make test-npm installs the SARIF schema and ajv" $?
	cp "$root/tests/golden/load/utf8-columns/runbook.yaml" "$d/bad.yaml"
	cp "$root/tests/golden/plan/dr405-commit-unvalidated/runbook.yaml" "$d/warn.yaml"
	cp "$root/examples/quickstart.yaml" "$d/good.yaml"
	(cd "$d" && "$drover" validate --format sarif bad.yaml warn.yaml good.yaml missing.yaml >out.sarif 2>err)
	ok "sarif: exit 2 when a file has errors" $([ $? = 2 ] && echo 0 || echo 1)
	[ ! -s "$d/err" ]; ok "sarif: nothing on stderr" $?
	sarif_check "$d/out.sarif"; ok "sarif: the log is valid against the SARIF 2.1.0 schema" $?
	sed 's/"level":\t"warning"/"level":\t"serious"/' "$d/out.sarif" >"$d/broken.sarif"
	! sarif_check "$d/broken.sarif" >/dev/null; ok "sarif: the schema check rejects a log with a wrong level" $?
	grep -q '"startColumn":	32' "$d/out.sarif"
	ok "sarif: columns count characters (café, → before the duplicate key)" $?
	[ "$(grep -c '"ruleId":' "$d/out.sarif")" = 4 ]; ok "sarif: one result per diagnostic (1 + 2 + 0 + 1)" $?
	grep -q '"uri":	"missing.yaml"' "$d/out.sarif" && grep -q '"ruleId":	"DR901"' "$d/out.sarif"
	ok "sarif: an unreadable file is a result on the file" $?
	grep -q '"level":	"warning"' "$d/out.sarif"; ok "sarif: warnings are warnings" $?
	(cd "$d" && "$drover" validate --format sarif good.yaml >clean.sarif); ok "sarif: a valid runbook exits 0" $?
	sarif_check "$d/clean.sarif" && grep -q '"results":	\[\]' "$d/clean.sarif"
	ok "sarif: a valid runbook gives a valid log with no results" $?
}

# --- validate --format github: one annotation per diagnostic, nothing injected ----------------
github() {
	local d=$tmp/github
	mkdir -p "$d"
	cp "$root/tests/golden/check/github-annotations/runbook.yaml" "$d/"
	(cd "$d" && "$drover" validate --format github runbook.yaml >out 2>err)
	ok "github: exit 2 on errors" $([ $? = 2 ] && echo 0 || echo 1)
	[ "$(grep -c . "$d/out")" = 3 ] && ! grep -qv '^::error file=runbook.yaml,line=[0-9]*,col=' "$d/out"
	ok "github: one ::error line per diagnostic, nothing else" $?
	! grep -q '^::warning' "$d/out"; ok "github: a newline in a key cannot start a command" $?
	grep -q '100%25, pwned' "$d/out"; ok "github: % in a message is escaped" $?
	(cd "$d" && "$drover" validate --format github "$root/tests/golden/plan/dr405-commit-unvalidated/runbook.yaml" >w)
	ok "github: warnings alone exit 0" $?
	[ "$(grep -c '^::warning file=.*,line=21,col=13,endColumn=22,title=DR405 commit-unvalidated::' "$d/w")" = 1 ]
	ok "github: a warning is ::warning with its span" $?
}

groups=(sarif github)
[ $# -gt 0 ] && groups=("$@")
for group in "${groups[@]}"; do
	"$group"
done
echo "evidence: $pass passed, $fail failed"
[ $fail = 0 ]
