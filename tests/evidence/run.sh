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

# --- plan --metrics: readiness that promtool accepts and that says what plan says ---------------
# prom FILE METRIC VM: the value of METRIC for VM (the first sample whose labels name it)
prom() { grep "^$2{" "$1" | grep -F "vm=\"$3\"" | head -1 | awk '{print $NF}'; }
promcheck() { promtool check metrics <"$1" >"$1.lint" 2>&1 || { sed 's/^/    /' "$1.lint"; return 1; }; }
# alert_rules PROM OUT: a promtool rule test whose input series are PROM's samples, held for 30 minutes.
alert_rules() {
	{
		printf 'rule_files: [%s]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n' \
			"$root/examples/prometheus/drover-alerts.yaml"
		grep -v -e '^#' -e timestamp "$1" | awk '{ v = $NF; sub(/ [^ ]*$/, ""); gsub(/\047/, "\047\047")
			printf "      - series: \047%s\047\n        values: \047%sx30\047\n", $0, v }'
		cat <<-'EOF'
		    alert_rule_test:
		      - eval_time: 20m
		        alertname: DroverPlanBlocked
		        exp_alerts:
		          - exp_labels: { severity: page, runbook: ready-demo, mode: failover }
		            exp_annotations:
		              summary: 'ready-demo (failover) would not start: the plan is blocked'
		              description: "Run `drover plan` on the runbook: its blockers say what to fix before a disaster."
		      - eval_time: 20m
		        alertname: DroverRecoveryPointTooOld
		        exp_alerts:
		          - exp_labels: { severity: page, runbook: ready-demo, mode: failover, vm: 'app "1" \ x' }
		            exp_annotations:
		              summary: 'app "1" \ x: the recovery point ready-demo would use is older than max_age'
		              description: The point is 5m 22s old; replication is behind the RPO guard.
		          - exp_labels: { severity: page, runbook: ready-demo, mode: failover, vm: db-1 }
		            exp_annotations:
		              summary: 'db-1: the recovery point ready-demo would use is older than max_age'
		              description: The point is 4m 31s old; replication is behind the RPO guard.
		      - eval_time: 20m
		        alertname: DroverReplicationUnhealthy
		        exp_alerts: []
		      - eval_time: 20m
		        alertname: DroverReadinessCheckFailing
		        exp_alerts: []
		EOF
	} >"$2"
}

# drill_alerts PROM OUT: a promtool rule test of the drill alerts on PROM's samples, held 30 minutes.
drill_alerts() {
	{
		printf 'rule_files: [%s]\nevaluation_interval: 1m\ntests:\n  - interval: 1m\n    input_series:\n' \
			"$root/examples/prometheus/drover-alerts.yaml"
		grep -v -e '^#' "$1" | awk '{ v = $NF; sub(/ [^ ]*$/, ""); printf "      - series: \047%s\047\n        values: \047%sx30\047\n", $0, v }'
		cat <<-'EOF'
		    alert_rule_test:
		      - eval_time: 10m
		        alertname: DroverDrillObjectivesMissed
		        exp_alerts:
		          - exp_labels: { severity: ticket, runbook: shop-tight, mode: drill }
		            exp_annotations:
		              summary: the last drill of shop-tight missed its RTO or RPO objective
		      - eval_time: 10m
		        alertname: DroverDrillFailed
		        exp_alerts:
		          - exp_labels: { severity: ticket, runbook: shop-tight, mode: drill, status: succeeded }
		            exp_annotations:
		              summary: the last drill of shop-tight did not succeed
		              description: "Its report says why: drover report (the latest run), or the --report file."
		      - eval_time: 10m
		        alertname: DroverDrillLeftTestVMs
		        exp_alerts: []
		EOF
	} >"$2"
}

readiness() {
	local d=$tmp/readiness
	mkdir -p "$d"
	need promtool || return
	"$drover" plan --metrics "$d/ok.prom" --format json --state-dir "$d/s1" "$root/examples/quickstart.yaml" >"$d/ok.json"
	ok "readiness: a runnable plan exits 0" $?
	promcheck "$d/ok.prom"; ok "readiness: promtool check metrics accepts the file" $?
	grep -qx 'drover_readiness_runnable{runbook="shop-failover",mode="failover"} 1' "$d/ok.prom" &&
		grep -qx 'drover_readiness_check_ok{runbook="shop-failover",mode="failover"} 1' "$d/ok.prom" &&
		grep -qx 'drover_readiness_vms{runbook="shop-failover",mode="failover"} 6' "$d/ok.prom"
	ok "readiness: runnable, checked, 6 VMs" $?
	node -e 'const v = JSON.parse(require("fs").readFileSync(process.argv[1]));
		for (const vm of v.vms) console.log(vm.name, vm.recovery_point.age_ms / 1000)' "$d/ok.json" >"$d/ages"
	local vm age bad=0
	while read -r vm age; do
		[ "$(prom "$d/ok.prom" drover_readiness_vm_recovery_point_age_seconds "$vm")" = "$age" ] || bad=1
		[ "$(prom "$d/ok.prom" drover_readiness_vm_recovery_point_max_age_seconds "$vm")" = 3600 ] || bad=1
	done <"$d/ages"
	[ -s "$d/ages" ] && [ $bad = 0 ]; ok "readiness: each VM's point age and max_age are the plan's" $?
	[ "$(stat -c %a "$d/ok.prom")" = 644 ]; ok "readiness: node_exporter (another user) can read the file; only its owner can write it" $?

	# A tight RPO guard blocks the plan; names with quotes and backslashes stay one label value.
	cat >"$d/tight.yaml" <<-'EOF'
	drover: 1
	name: ready-demo
	backend:
	  kind: sim
	  vms: [{ name: 'app "1" \ x' }, { name: db-1 }]
	vm_sets:
	  all: { match: { name: "." } }
	recovery: { point: latest-processed, max_age: 3m }
	steps:
	  - { id: failover, action: dr.failover, targets: all }
	  - { id: up, action: dr.probe, foreach: all, needs: failover }
	EOF
	"$drover" plan --metrics "$d/tight.prom" --state-dir "$d/s2" "$d/tight.yaml" >"$d/tight.out"
	ok "readiness: a blocked plan exits 1" $([ $? = 1 ] && echo 0 || echo 1)
	promcheck "$d/tight.prom"; ok "readiness: promtool accepts escaped label values" $?
	grep -qx 'drover_readiness_runnable{runbook="ready-demo",mode="failover"} 0' "$d/tight.prom" &&
		grep -qx 'drover_readiness_blockers{runbook="ready-demo",mode="failover"} 2' "$d/tight.prom"
	ok "readiness: not runnable, 2 blockers" $?
	grep -qF 'drover_readiness_vm_recovery_point_ok{runbook="ready-demo",mode="failover",vm="app \"1\" \\ x",verdict="too_old"} 0' "$d/tight.prom" &&
		[ "$(prom "$d/tight.prom" drover_readiness_vm_blockers db-1)" = 1 ]
	ok "readiness: the too-old point and the VM's blocker, by VM" $?
	alert_rules "$d/tight.prom" "$d/alerts.yaml"
	promtool check rules "$root/examples/prometheus/drover-alerts.yaml" >"$d/alerts.out" 2>&1 &&
		promtool test rules "$d/alerts.yaml" >>"$d/alerts.out" 2>&1
	local rc=$?
	[ $rc = 0 ] || sed 's/^/    /' "$d/alerts.out" | head -30
	ok "readiness: the example alert rules fire on what drover wrote (promtool test rules)" $rc
	sed 's/\\"1\\"/"1"/' "$d/tight.prom" >"$d/unescaped.prom"
	! promtool check metrics <"$d/unescaped.prom" >/dev/null 2>&1; ok "readiness: promtool rejects an unescaped quote" $?

	# After a failover the plan is blocked by state; the state label says where the VMs are.
	cat >"$d/loose.yaml" <<-'EOF'
	drover: 1
	name: ready-demo
	backend:
	  kind: sim
	  vms: [{ name: db-1 }]
	vm_sets:
	  all: { match: { name: "." } }
	steps:
	  - { id: failover, action: dr.failover, targets: all }
	  - { id: up, action: dr.probe, foreach: all, needs: failover }
	EOF
	"$drover" run -q --yes --state-dir "$d/s3" "$d/loose.yaml" >/dev/null 2>&1; ok "readiness: a failover runs" $?
	"$drover" plan --metrics "$d/after.prom" --state-dir "$d/s3" "$d/loose.yaml" >/dev/null
	ok "readiness: a second failover is blocked" $([ $? = 1 ] && echo 0 || echo 1)
	promcheck "$d/after.prom" && grep -q 'drover_readiness_vm_state{.*vm="db-1",state="failed_over"} 1' "$d/after.prom" &&
		[ "$(prom "$d/after.prom" drover_readiness_vm_blockers db-1)" = 1 ]
	ok "readiness: the failed-over VM's state and blocker" $?

	# The backend cannot be read: the check itself says so, for an alert.
	mkdir -p "$d/s4" && echo garbage >"$d/s4/sim-state.json"
	"$drover" plan --metrics "$d/down.prom" --state-dir "$d/s4" "$root/examples/quickstart.yaml" >/dev/null 2>&1
	ok "readiness: an unreadable backend exits 2" $([ $? = 2 ] && echo 0 || echo 1)
	promcheck "$d/down.prom" && grep -qx 'drover_readiness_check_ok{runbook="shop-failover",mode="failover"} 0' "$d/down.prom"
	ok "readiness: ...and writes check_ok 0" $?

	# The file cannot be written (its folder is a file): refused before the plan, exit 2, the old file intact.
	cp "$d/ok.prom" "$d/keep.prom"
	"$drover" plan --metrics "$d/ok.prom/x" --state-dir "$d/s1" "$root/examples/quickstart.yaml" >/dev/null 2>"$d/err"
	ok "readiness: a metrics file that cannot be written exits 2" $([ $? = 2 ] && echo 0 || echo 1)
	grep -q "^drover plan: --metrics '.*ok.prom/x': '.*ok.prom' is not a folder" "$d/err" && cmp -s "$d/ok.prom" "$d/keep.prom"
	ok "readiness: ...names the file, and nothing else changed" $?
	[ -z "$(find "$d" -name '*.tmp*')" ]; ok "readiness: no temporary file left behind" $?
}

# --- graph --diff --format markdown: a comment a Markdown parser reads as drover meant it ----------
md_tables() { node "$here/md-tables.mjs" "$root/build/npm" "$@"; }
diff_markdown() {
	local d=$tmp/diff g=$root/tests/golden/graph/diff-markdown
	mkdir -p "$d"
	need node && npm_tools; ok "diff: make test-npm installs marked" $?
	"$drover" graph --diff "$g/old.yaml" --format markdown --estimate "$g/runbook.yaml" >"$d/c.md"
	ok "diff: markdown with estimates exits 0" $?
	grep -qF '**Predicted RTO: 19m41s → 23m41s**, objective 20m: **missed**' "$d/c.md" &&
		grep -qF '**+4m**: `db-warmup` is new on the critical path; `failover-app` now waits for `db-warmup`.' "$d/c.md"
	ok "diff: the comment states the change in predicted RTO and its cause" $?
	md_tables "$d/c.md" >"$d/tables"; ok "diff: every table row has as many cells as its header" $?
	node -e 'const t = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8").split("\n")[0]);
		const want = [["step added", "`db-warmup`", "`sleep`"],
			["VM set changed", "`app`", "match.name `^shop-app-` → `^shop-(app|api)-|`x``"],
			["recovery", "max_age", "1h → 30m"], ["objectives", "rto", "30m → 20m"]];
		for (const w of want) if (!t.rows.some((r) => JSON.stringify(r) === JSON.stringify(w))) {
			console.log("    missing row", JSON.stringify(w)); process.exit(1); }
		if (t.rows.length !== 6) process.exit(1)' "$d/tables"
	ok "diff: the parsed table holds each change, a regex with | and backticks intact" $?
	grep -q '^```mermaid$' "$d/c.md" && grep -q 'n3(\["db-warmup<br/>sleep<br/>added"\])\|db-warmup<br/>sleep' "$d/c.md"
	ok "diff: the Mermaid diff is in the comment" $?
	"$drover" graph --diff "$g/old.yaml" --format markdown "$g/runbook.yaml" >"$d/plain.md" && ! grep -q 'Predicted RTO' "$d/plain.md"
	ok "diff: without --estimate, no prediction" $?
	"$drover" graph --diff "$g/old.yaml" --format markdown --estimate "$g/old.yaml" >"$d/same.md" &&
		grep -q '^No change in predicted RTO.$' "$d/same.md" && grep -q '^No change to the steps' "$d/same.md"
	ok "diff: an unchanged runbook says so" $?
	sed '/^  recovery_point:$/s/recovery_point/must_give/; /    default: latest-processed/d' "$g/runbook.yaml" |
		sed 's/point: ${params.recovery_point}/point: latest/' >"$d/needs-param.yaml"
	"$drover" graph --diff "$g/old.yaml" --format markdown --estimate "$d/needs-param.yaml" >"$d/err.md" 2>"$d/err.txt"
	ok "diff: an estimate that cannot run still gives a comment" $?
	grep -q "^- after: \`.*must_give" "$d/err.md"; ok "diff: ...saying why there is no prediction" $?
	"$drover" graph --format markdown "$g/old.yaml" >/dev/null 2>&1
	ok "diff: --format markdown needs --diff (usage error)" $([ $? = 2 ] && echo 0 || echo 1)
}

# --- reports: golden reports of deterministic runs, each form checked by the tool that reads it -----
# normalise FILE: the host and user that ran the test, out of a report (they differ between machines)
normalise() {
	sed -i -e 's/^\(\t\t"host":\t\)"[^"]*"/\1"HOST"/' -e 's/^\(\t\t"user":\t\)"[^"]*"/\1"USER"/' \
		-e 's/hostname="[^"]*"/hostname="HOST"/' -e 's/<property name="user" value="[^"]*"/<property name="user" value="USER"/' \
		-e 's/ by `[^`]*` on `[^`]*`/ by `USER` on `HOST`/' \
		-e 's/user <code>[^<]*<\/code> \&middot; host <code>[^<]*<\/code>/user <code>USER<\/code> \&middot; host <code>HOST<\/code>/' "$1"
}
# golden CASE: the four forms of the case's latest run against tests/evidence/golden/CASE (UPDATE=1 rewrites)
# (golden CASE none: the four forms are written and checked by their tools, and compared by the caller)
golden() {
	local c=$1 w=$tmp/reports/$1 f bad=0
	for f in json:json junit:xml markdown:md html:html; do
		(cd "$w" && "$drover" report --state-dir .drover --format "${f%%:*}" -o "report.${f#*:}") || bad=1
		normalise "$w/report.${f#*:}"
		if [ "${2:-}" = none ]; then :
		elif [ "${UPDATE:-0}" = 1 ]; then mkdir -p "$here/golden/$c" && cp "$w/report.${f#*:}" "$here/golden/$c/"
		elif ! diff -u "$here/golden/$c/report.${f#*:}" "$w/report.${f#*:}" >"$w/diff" 2>&1; then
			bad=1; head -20 "$w/diff" | sed 's/^/    /'; fi
	done
	ok "reports $c: json, junit, markdown and html $([ "${2:-}" = none ] && echo written || echo are the golden ones)" $bad
	xmllint --noout --schema "$(cd "$root" && tests/reference-dir.sh)/junit/JUnit.xsd" "$w/report.xml" 2>"$w/xmllint" ||
		sed 's/^/    /' "$w/xmllint"
	ok "reports $c: the JUnit report is valid against JUnit.xsd (xmllint)" $?
	md_tables "$w/report.md" >/dev/null; ok "reports $c: the Markdown tables parse (marked)" $?
	promcheck "$w/metrics.prom"; ok "reports $c: promtool accepts --metrics" $?
}
# case_run CASE EXIT RUNBOOK drover-args...: run in a fresh folder with the runbook copied in
case_run() {
	local c=$1 want=$2 rb=$3 rc; shift 3
	mkdir -p "$tmp/reports/$c" && cp "$here/runbooks/$rb" "$tmp/reports/$c/"
	(cd "$tmp/reports/$c" && "$drover" "$@" --state-dir .drover "$rb" >out 2>&1); rc=$?
	[ $rc = "$want" ] || { echo "    exit $rc, expected $want: drover $*"; tail -5 "$tmp/reports/$c/out"; }
	ok "reports $c: drover $1 exits $want" $([ $rc = "$want" ] && echo 0 || echo 1)
}
js() { node -e "const d = JSON.parse(require('fs').readFileSync(process.argv[1])); process.exit(($1) ? 0 : 1)" "$2"; }
reports() {
	local w=$tmp/reports
	need xmllint promtool node && npm_tools || return
	case_run succeeded 0 shop.yaml run -q --yes --report report-run.html --metrics metrics.prom
	golden succeeded
	cmp -s "$w/succeeded/report-run.html" <(cd "$w/succeeded" && "$drover" report --state-dir .drover -f html)
	ok "reports succeeded: --report writes what drover report gives later" $?
	js 'd.objectives.met === true && d.run.status === "succeeded" && d.run.user && d.sessions.count === 1 &&
		d.tasks.filter((t) => t.critical).pop().label === d.objectives.rto.task' "$w/succeeded/report.json"
	ok "reports succeeded: objectives met; the critical path ends at the task that decided the RTO" $?
	grep -qx 'drover_run_status{runbook="shop-failover",mode="failover",status="succeeded"} 1' "$w/succeeded/metrics.prom" &&
		grep -qx 'drover_run_objectives_met{runbook="shop-failover",mode="failover"} 1' "$w/succeeded/metrics.prom"
	ok "reports succeeded: metrics say succeeded, objectives met" $?

	# a report that cannot be written when the run ends (a step made its folder a file; a folder missing at the start
	# is refused before the run, tests/cli): the run says so (exit 3) and gives the command that writes it later,
	# which works
	mkdir "$w/succeeded/lost" && printf '%s\n' 'drover: 1' 'name: gone' 'steps:' '  - id: lose-the-folder' \
		'    action: exec' '    with: { argv: [sh, -c, "rmdir lost && touch lost"] }' >"$w/succeeded/gone.yaml"
	(cd "$w/succeeded" && "$drover" run -q --yes --state-dir st2 --report lost/r.html gone.yaml >out2 2>&1)
	local rc=$? later; later=$(sed -n "s/^drover run: no report: cannot write 'lost\/r.html': .*; the run itself is as its journal says (\(drover report --state-dir st2 gone-[0-9a-zTZ-]*\))$/\1/p" "$w/succeeded/out2")
	[ $rc = 3 ] && [ -n "$later" ] && (cd "$w/succeeded" && ${later/drover/$drover} -o later.html) && [ -s "$w/succeeded/later.html" ]
	ok "reports: an unwritable --report: exit 3, and the command it gives (with --state-dir) writes the report" $?

	# a full disk while a report is written (/dev/full, written in place as the shell's > would: every write fails,
	# the text goes out as it is made): exit 3 and what failed, why, and that nothing else changed, for a file and
	# for standard output, in every form
	local f bad=0 tail="No space left on device; the run and its journal are unchanged"
	for f in json junit markdown html; do
		(cd "$w/succeeded" && "$drover" report --state-dir .drover -f $f -o /dev/full >/dev/null 2>err.full); rc=$?
		[ $rc = 3 ] && grep -qx "drover report: cannot write '/dev/full': $tail" "$w/succeeded/err.full" || bad=1
		(cd "$w/succeeded" && "$drover" report --state-dir .drover -f $f >/dev/full 2>err.full); rc=$?
		[ $rc = 3 ] && grep -qx "drover report: cannot write the report to standard output: $tail" "$w/succeeded/err.full" ||
			{ bad=1; sed 's/^/    /' "$w/succeeded/err.full"; }
	done
	[ -c /dev/full ] || bad=1
	ok "reports: a full disk (/dev/full, -o and >): exit 3, says why, in every form" $bad

	case_run rolled-back 1 shop-rollback.yaml run -q --yes --metrics metrics.prom
	golden rolled-back
	js 'd.rollback.started && d.objectives.met === false &&
		d.tasks.some((t) => t.state === "failed" && /<b>&amp; \| `x`/.test(t.attempts[0].message) &&
			t.attempts[0].recommended_action)' "$w/rolled-back/report.json"
	ok "reports rolled-back: the failure (text as the service gave it) and its recommended action, the rollback" $?
	grep -q 'type="permanent">attempt 1: failed: .*QuotaExceeded.*&lt;b&gt;&amp;amp; | `x`' "$w/rolled-back/report.xml" &&
		! grep -q '<b>' "$w/rolled-back/report.xml"
	ok "reports rolled-back: JUnit has the failure, escaped for XML" $?
	grep -q '&lt;b&gt;&amp;amp; | `x`' "$w/rolled-back/report.html" && ! grep -q '<b>&amp;' "$w/rolled-back/report.html"
	ok "reports rolled-back: the page escapes the service's text" $?

	case_run drill-missed 1 shop-tight.yaml drill -q --metrics metrics.prom
	golden drill-missed
	local rto_s; rto_s=$(node -e 'const d = JSON.parse(require("fs").readFileSync(process.argv[1])); console.log((d.objectives.rto.achieved_ms / 1000).toFixed(3))' "$w/drill-missed/report.json")
	grep -q "<testcase name=\"RTO (objective 10m)\" classname=\"shop-tight.objectives\" time=\"$rto_s\">" "$w/drill-missed/report.xml" &&
		grep -q '<failure message="RTO .* missed the objective 10m" type="objective"/>' "$w/drill-missed/report.xml"
	ok "reports drill-missed: a missed objective is a failed testcase; the RTO's testcase time is the RTO ($rto_s s)" $?
	[ "$(awk '/<testsuite name="objectives"/,/<\/testsuite>/' "$w/drill-missed/report.xml" | sed -n 's/^ *<testcase name="\([^"]*\)".*/\1/p' | tr '\n' '|')" = \
		"run status|RTO (objective 10m)|worst RPO (objective 5m)|RPO of every VM (objective 5m)|drill cleanup|" ] &&
		grep -q '<property name="rto" value="[0-9hms]*"/>' "$w/drill-missed/report.xml"
	ok "reports drill-missed: the objectives' testcases are named the same from run to run (no figure in a name; the figures are properties)" $?
	js 'd.drill.verified && d.drill.status === "clean" && d.drill.cleanup.length === 6 &&
		d.drill.cleanup.every((c) => c.state === "succeeded") && d.objectives.met === false' "$w/drill-missed/report.json"
	ok "reports drill-missed: what was cleaned up and how it was verified" $?
	grep -qx 'drover_run_objectives_met{runbook="shop-tight",mode="drill"} 0' "$w/drill-missed/metrics.prom" &&
		grep -qx 'drover_run_drill_leftovers{runbook="shop-tight",mode="drill"} 0' "$w/drill-missed/metrics.prom"
	ok "reports drill-missed: metrics say an objective was missed, nothing left behind" $?
	drill_alerts "$w/drill-missed/metrics.prom" "$w/drill-missed/alerts.yaml"
	promtool test rules "$w/drill-missed/alerts.yaml" >"$w/drill-missed/alerts.out" 2>&1
	local rc=$?
	[ $rc = 0 ] || sed 's/^/    /' "$w/drill-missed/alerts.out" | head -20
	ok "reports drill-missed: the example drill alerts fire on what drover wrote (promtool test rules)" $rc

	# Every test failover refused: no RPO was measured, which is not missed (objectives.enforce does not count
	# it): each form says "not measured" and why, never "missed"; no step that did not run is "0/N ok".
	DROVER_SIM_FAULTS='[{kind: fail, op: test_failover, class: permanent}]' case_run drill-unmeasured 1 shop-tight.yaml drill -q --metrics metrics.prom
	golden drill-unmeasured
	js 'd.objectives.rpo.worst_ms === null && d.objectives.rpo.met === null &&
		d.objectives.rpo.not_measured === "no failover completed"' "$w/drill-unmeasured/report.json"
	ok "reports drill-unmeasured: JSON: the RPO is not measured (why), no verdict" $?
	grep -q '<skipped message="worst RPO not measured: no failover completed; not judged against the objective 5m"/>' \
		"$w/drill-unmeasured/report.xml" && grep -q '<testsuite name="objectives" .* tests="4" failures="2" errors="0" skipped="1"' "$w/drill-unmeasured/report.xml"
	ok "reports drill-unmeasured: JUnit: the unmeasured RPO is a skipped testcase, not a failure" $?
	grep -q 'worst RPO not measured: no failover completed (objective 5m: not judged)' "$w/drill-unmeasured/report.md" &&
		grep -q '^| `shutdown-source` | skipped | 6 skipped | 0s |$' "$w/drill-unmeasured/report.md" &&
		grep -q '^| `db-up` | cancelled | 2 cancelled |  |$' "$w/drill-unmeasured/report.md" && ! grep -q '0/[0-9]* ok' "$w/drill-unmeasured/report.md"
	ok "reports drill-unmeasured: Markdown: RPO not measured (why); skipped and cancelled steps say so, not 0/N ok" $?
	grep -q '<td class="skipped">worst RPO not measured: no failover completed; not judged' "$w/drill-unmeasured/report.html" &&
		grep -q 'worst RPO not measured: no failover completed (objective 5m: not judged)' "$w/drill-unmeasured/report.html"
	ok "reports drill-unmeasured: HTML: the verdict and the headline say not measured, not missed" $?

	# Killed (SIGKILL after the 15th durable record: failovers in flight) and resumed: the same report as
	# the uninterrupted run, but for what tells the story of the stop (sessions, what resume's probes found).
	mkdir -p "$w/resumed" && cp "$here/runbooks/shop.yaml" "$w/resumed/"
	(cd "$w/resumed" && DROVER_TEST_KILL_AT=15 "$drover" run -q --yes --state-dir .drover shop.yaml >out 2>&1)
	ok "reports resumed: the run is killed" $([ $? = 137 ] && echo 0 || echo 1)
	(cd "$w/resumed" && "$drover" resume -q --yes --state-dir .drover --metrics metrics.prom shop-failover-20260101T000000Z >out 2>&1)
	ok "reports resumed: resume finishes the run" $?
	golden resumed none
	# the other forms, as the JSON below: the uninterrupted run's, but for the one line that says it was resumed
	sed 's/ &middot; took 1h18m37s &middot; resumed: 2 sessions, drover down 0s<\/p>$/ \&middot; took 1h18m37s<\/p>/' \
		"$w/resumed/report.html" | diff -u "$w/succeeded/report.html" - | head -20
	ok "reports resumed: the HTML report is the uninterrupted run's but for 'resumed: 2 sessions, drover down 0s'" \
		$([ "${PIPESTATUS[1]}" = 0 ] && grep -q 'resumed: 2 sessions' "$w/resumed/report.html" && echo 0 || echo 1)
	sed 's/ · took 1h18m37s · resumed (2 sessions) · runbook / · took 1h18m37s · runbook /' "$w/resumed/report.md" |
		diff -u "$w/succeeded/report.md" - | head -20
	ok "reports resumed: the Markdown report is the uninterrupted run's but for 'resumed (2 sessions)'" \
		$([ "${PIPESTATUS[1]}" = 0 ] && grep -q 'resumed (2 sessions)' "$w/resumed/report.md" && echo 0 || echo 1)
	diff -u "$w/succeeded/report.xml" "$w/resumed/report.xml" | head -20
	ok "reports resumed: the JUnit report is the uninterrupted run's" "${PIPESTATUS[0]}"
	node -e 'const f = (p) => { const d = JSON.parse(require("fs").readFileSync(p)); delete d.sessions;
			for (const t of d.tasks) for (const a of t.attempts) delete a.probe; return JSON.stringify(d); };
		process.exit(f(process.argv[1]) === f(process.argv[2]) ? 0 : 1)' "$w/succeeded/report.json" "$w/resumed/report.json"
	ok "reports resumed: the JSON report equals the uninterrupted run's (but for sessions and probes)" $?
	js 'd.sessions.count === 2 && d.tasks.some((t) => t.attempts.some((a) => a.probe))' "$w/resumed/report.json"
	ok "reports resumed: ...and says it took 2 sessions, and what the probes found" $?
}

# --- the HTML report in headless Chromium: not blank, the timeline drawn --------------------------
chromium_shot() { # chromium_shot HTML PNG
	timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$(mktemp -d -p "$tmp")" --window-size=1200,1100 --hide-scrollbars \
		--screenshot="$2" "file://$1" >"$tmp/chromium.log" 2>&1
}
html_render() {
	local w=$tmp/reports/rolled-back
	need chromium node || return
	[ -f "$w/report.html" ] || { ok "html: the rolled-back report exists (group reports first)" 1; return; }
	chromium_shot "$w/report.html" "$w/shot.png"; ok "html: chromium renders the report" $?
	node "$here/png-colors.js" "$w/shot.png" 2da44e cf222e 0550ae ffebe9 >"$w/colors" || cat "$w/colors"
	awk '$1 == "nonwhite" { exit !($2 > $4 / 10) }' "$w/colors"; ok "html: the screenshot is not blank" $?
	awk '$1 == "2da44e" { exit !($2 > 2000) }' "$w/colors" && awk '$1 == "cf222e" { exit !($2 > 100) }' "$w/colors"
	ok "html: the timeline is drawn (succeeded attempts green, the failed one red)" $?
	awk '$1 == "ffebe9" { exit !($2 > 20000) }' "$w/colors"; ok "html: the verdict at the top is red (the run failed)" $?
	! grep -Eq '(src|href)="(https?:)?//' "$w/report.html" && ! grep -q '<script' "$w/report.html"
	ok "html: self-contained (nothing fetched, no script)" $?
	if [ -n "${SHOT_DIR:-}" ]; then cp "$w/shot.png" "$SHOT_DIR/"; fi
}

# --- scheduling: the examples in examples/ are valid for their tools, and their commands work -------
yaml_json() { node "$here/yaml-json.mjs" "$root/build/npm" "$1"; }
# mapped FILE...: the examples' paths on this machine (a state dir, a textfile dir, the test runbook)
mapped() {
	sed -e "s|/usr/local/bin/drover|$drover|g" -e "s|/etc/drover/runbooks/shop.yaml|$1/shop.yaml|g" \
		-e "s|/var/lib/node_exporter/textfile|$1/textfile|g" -e "s|/var/lib/drover|$1/state|g" -e "s|/etc/drover|$1|g"
}
# exec_start UNIT: its Environment= settings exported (as systemd does), then its ExecStart= command line,
# continuation lines joined
exec_start() {
	sed -n 's/^Environment=\(.*\)/export \1;/p' "$1"
	awk '/^ExecStart=/ { on = 1; sub(/^ExecStart=/, "") } on { l = l $0; if (!sub(/\\$/, "", l)) exit } END { print l }' "$1"
}
systemd_units() {
	local d=$tmp/systemd u
	mkdir -p "$d/units" "$d/run/textfile" && cp "$here/runbooks/shop.yaml" "$d/run/"
	need systemd-analyze || return
	for u in "$root"/examples/systemd/*; do mapped "$d/run" <"$u" >"$d/units/$(basename "$u")"; done
	(cd "$d/units" && systemd-analyze verify --man=no ./*.service ./*.timer) >"$d/verify" 2>&1 || sed 's/^/    /' "$d/verify"
	ok "systemd: systemd-analyze verify accepts every unit and timer" $?
	sed 's/^OnCalendar=.*/OnCalendar=Mondy 3am/' "$d/units/drover-drill.timer" >"$d/units/bad.timer"
	! (cd "$d/units" && systemd-analyze verify --man=no ./bad.timer) >/dev/null 2>&1
	ok "systemd: ...and would reject a bad calendar (the check can fail)" $?
	grep -qx 'OnCalendar=Mon \*-\*-\* 03:00:00' "$d/units/drover-drill.timer" && grep -qx 'Persistent=true' "$d/units/drover-drill.timer" &&
		grep -qx 'Type=oneshot' "$d/units/drover-drill.service" && grep -qx 'KillSignal=SIGINT' "$d/units/drover-drill.service"
	ok "systemd: weekly, caught up after downtime, oneshot, stopped with SIGINT (drover cleans up)" $?
	(cd "$d/run" && eval "$(exec_start "$d/units/drover-drill.service")") >"$d/drill.out" 2>&1
	ok "systemd: the drill service's command runs" $?
	promcheck "$d/run/textfile/drover-shop-drill.prom" && [ -s "$d/run/state/reports/shop-drill.html" ] &&
		xmllint --noout --schema "$(cd "$root" && tests/reference-dir.sh)/junit/JUnit.xsd" "$d/run/state/reports/shop-drill.xml" 2>/dev/null
	ok "systemd: ...writing its reports (HTML, JUnit) and metrics" $?
	(cd "$d/run" && eval "$(exec_start "$d/units/drover-readiness.service")") >"$d/ready.out" 2>&1
	ok "systemd: the readiness service's command runs" $?
	promcheck "$d/run/textfile/drover-shop-readiness.prom" &&
		grep -q '^drover_readiness_runnable{runbook="shop-failover",mode="drill"} 1$' "$d/run/textfile/drover-shop-readiness.prom"
	ok "systemd: ...writing the drill's readiness" $?
}
kubernetes_cronjob() {
	local d=$tmp/k8s
	mkdir -p "$d/run" && cp "$here/runbooks/shop.yaml" "$d/run/"
	yaml_json "$root/examples/kubernetes/drover-drill.yaml" >"$d/docs.json"; ok "kubernetes: the manifest parses" $?
	node -e '
		const docs = JSON.parse(require("fs").readFileSync(process.argv[1])), bad = [];
		const need = (c, what) => { if (!c) bad.push(what); };
		const pvcs = docs.filter((d) => d.kind === "PersistentVolumeClaim").map((d) => d.metadata.name);
		const jobs = docs.filter((d) => d.kind === "CronJob");
		need(jobs.length === 2, "two CronJobs (drill, readiness)");
		for (const j of jobs) {
			const n = j.metadata.name, js = j.spec.jobTemplate.spec, pod = js.template.spec, c = pod.containers[0];
			need(j.apiVersion === "batch/v1", n + ": apiVersion batch/v1");
			need(j.spec.concurrencyPolicy === "Forbid", n + ": concurrencyPolicy Forbid");
			need(/^\S+ \S+ \S+ \S+ \S+$/.test(j.spec.schedule), n + ": a five-field schedule");
			need(js.backoffLimit === 0, n + ": backoffLimit 0");
			need(pod.restartPolicy === "Never", n + ": restartPolicy Never");
			need(c.command[0] === "drover", n + ": runs drover");
			const sd = c.command[c.command.indexOf("--state-dir") + 1];
			const m = c.volumeMounts.find((v) => v.mountPath === sd);
			const vol = m && pod.volumes.find((v) => v.name === m.name);
			need(vol && vol.persistentVolumeClaim && pvcs.includes(vol.persistentVolumeClaim.claimName),
				n + ": --state-dir " + sd + " is a mounted persistent volume claim of this file");
			const rb = c.command[c.command.length - 1];
			need(c.volumeMounts.some((v) => rb.startsWith(v.mountPath + "/") && v.readOnly), n + ": the runbook is mounted read-only");
			for (const f of ["--metrics", "--report"]) { const i = c.command.indexOf(f);
				if (i > 0) need(c.command[i + 1].startsWith(sd + "/"), n + ": " + f + " is on the state volume"); }
			console.log(JSON.stringify(c.command));
		}
		need(jobs[0] && jobs[0].spec.jobTemplate.spec.template.spec.terminationGracePeriodSeconds >= 60,
			"the drill gets time to clean up on SIGTERM");
		for (const b of bad) console.error("    missing: " + b);
		process.exit(bad.length ? 1 : 0)' "$d/docs.json" >"$d/commands" 2>"$d/err" || cat "$d/err"
	ok "kubernetes: Forbid, a state directory on a volume claim, runbooks read-only, no blind retries" $?
	local cmd rc=0
	while read -r cmd; do
		node -e 'for (const a of JSON.parse(process.argv[1])) console.log(a)' "$cmd" | mapped "$d/run" >"$d/argv"
		mapfile -t argv <"$d/argv"
		(cd "$d/run" && "$drover" "${argv[@]:1}") >>"$d/out" 2>&1 || { rc=1; tail -3 "$d/out"; }
	done <"$d/commands"
	ok "kubernetes: both containers' commands run" $rc
	promcheck "$d/run/state/metrics/drover-shop-drill.prom" && promcheck "$d/run/state/metrics/drover-shop-readiness.prom" &&
		[ -s "$d/run/state/reports/shop-drill.html" ]
	ok "kubernetes: ...writing reports and metrics on the state volume" $?
}

# --- the CI workflows of docs/ci.md: parsed, checked, and their drover steps run in a scratch repo ----
# steps WORKFLOW.json DIR: each step's run: script into DIR/<n>.sh, named in DIR/names ("n name")
steps() {
	node -e 'const fs = require("fs"), w = JSON.parse(fs.readFileSync(process.argv[1]))[0], out = process.argv[2];
		const job = Object.values(w.jobs)[0], names = [];
		job.steps.forEach((s, i) => { if (s.run) fs.writeFileSync(`${out}/${i}.sh`, s.run); names.push(`${i} ${s.name || s.uses}`); });
		fs.writeFileSync(`${out}/names`, names.join("\n") + "\n");
		fs.writeFileSync(`${out}/env`, Object.entries(job.env || {}).map(([k, v]) => `${k}=${v}`).join("\n") + "\n")' "$1" "$2"
}
# step DIR NAME: run the step named NAME (bash -e, as the runner does) in DIR/repo
step() {
	local n; n=$(awk -v want="$2" '{ i = $1; $1 = ""; sub(/^ /, "") } $0 == want { print i }' "$1/names")
	[ -n "$n" ] && (cd "$1/repo" && bash -e "$1/$n.sh") >>"$1/log" 2>&1
}
ci_pull_request() {
	local d=$tmp/ci-pr w=$root/examples/ci/runbook-review.yml
	mkdir -p "$d/repo/runbooks" "$d/runner" && need git node && npm_tools || return
	yaml_json "$w" >"$d/w.json"; ok "ci pull request: the workflow parses" $?
	node -e 'const w = JSON.parse(require("fs").readFileSync(process.argv[1]))[0], j = Object.values(w.jobs)[0], bad = [];
		const need = (c, what) => { if (!c) bad.push(what); };
		need(w.on.pull_request && w.on.pull_request.paths.some((p) => p.startsWith("runbooks/")), "runs on pull requests that touch runbooks");
		need(w.permissions["pull-requests"] === "write" && w.permissions["security-events"] === "write", "may comment and upload SARIF");
		need(j.env.BASE === "${{ github.event.pull_request.base.sha }}", "BASE is the base revision");
		const up = j.steps.find((s) => s.uses && s.uses.startsWith("github/codeql-action/upload-sarif"));
		need(up && up.with.sarif_file === "drover.sarif" && up.if === "always()", "uploads drover.sarif even when validation fails");
		need(j.steps.every((s) => !s.run || !s.run.includes("${{")), "no ${{ }} inside scripts (script injection)");
		for (const b of bad) console.log("    missing: " + b);
		process.exit(bad.length ? 1 : 0)' "$d/w.json"
	ok "ci pull request: triggers, permissions, SARIF upload, no expression in a script" $?
	steps "$d/w.json" "$d"
	cp "$here/runbooks/shop.yaml" "$d/repo/runbooks/"
	(cd "$d/repo" && git init -q && git -c user.name=t -c user.email=t@t add . && git -c user.name=t -c user.email=t@t commit -qm base)
	local base; base=$(git -C "$d/repo" rev-parse HEAD)
	cp "$root/tests/golden/graph/diff-markdown/runbook.yaml" "$d/repo/runbooks/shop.yaml"
	(cd "$d/repo" && git -c user.name=t -c user.email=t@t commit -qam change)
	export BASE=$base RUNBOOKS=runbooks RUNNER_TEMP=$d/runner PATH=$(dirname "$drover"):$PATH
	step "$d" "Validate"; ok "ci pull request: Validate passes on a valid change" $?
	step "$d" "Validate (SARIF)" && sarif_check "$d/repo/drover.sarif"; ok "ci pull request: ...and writes valid SARIF" $?
	step "$d" "Diff and estimate"; ok "ci pull request: Diff and estimate runs" $?
	grep -qF '**Predicted RTO: 19m41s → 23m41s**' "$d/repo/comment.md" && md_tables "$d/repo/comment.md" >/dev/null
	ok "ci pull request: the comment states the change in predicted RTO" $?
	printf '  - id: broken\n    action: dr.failover\n    targets: nowhere\n' >>"$d/repo/runbooks/shop.yaml"
	! step "$d" "Validate" && grep -q '^::error file=runbooks/shop.yaml,line=' "$d/log"
	ok "ci pull request: a broken runbook fails Validate with an annotation on its line" $?
	unset BASE RUNBOOKS RUNNER_TEMP
}
ci_scheduled_drill() {
	local d=$tmp/ci-drill w=$root/examples/ci/scheduled-drill.yml
	mkdir -p "$d/repo/runbooks" "$d/run/textfile" && need node promtool && npm_tools || return
	yaml_json "$w" >"$d/w.json"; ok "ci scheduled drill: the workflow parses" $?
	node -e 'const w = JSON.parse(require("fs").readFileSync(process.argv[1]))[0], j = Object.values(w.jobs)[0], bad = [];
		const need = (c, what) => { if (!c) bad.push(what); };
		need(/^\S+ \S+ \S+ \S+ \S+$/.test(w.on.schedule[0].cron), "a five-field cron schedule");
		need(w.concurrency && w.concurrency["cancel-in-progress"] === false, "never two drills at once, none cut short");
		const ju = j.steps.find((s) => s.uses && s.uses.startsWith("mikepenz/action-junit-report"));
		need(ju && ju.with.report_paths === "drill.xml" && ju.if === "always()", "JUnit results shown even when the drill fails");
		const art = j.steps.find((s) => s.uses && s.uses.startsWith("actions/upload-artifact"));
		need(art && art.if === "always()", "the evidence kept even when the drill fails");
		for (const b of bad) console.log("    missing: " + b);
		process.exit(bad.length ? 1 : 0)' "$d/w.json"
	ok "ci scheduled drill: schedule, concurrency, results and evidence kept always" $?
	steps "$d/w.json" "$d"
	cp "$here/runbooks/shop.yaml" "$d/repo/runbooks/"
	export RUNBOOK=runbooks/shop.yaml DROVER_STATE_DIR=$d/run/state METRICS=$d/run/textfile/drover-shop-drill.prom
	export GITHUB_STEP_SUMMARY=$d/summary.md PATH=$(dirname "$drover"):$PATH
	step "$d" "Plan"; ok "ci scheduled drill: Plan runs (and writes readiness)" $?
	step "$d" "Drill"; ok "ci scheduled drill: Drill runs" $?
	step "$d" "Summary"; ok "ci scheduled drill: Summary runs" $?
	xmllint --noout --schema "$(cd "$root" && tests/reference-dir.sh)/junit/JUnit.xsd" "$d/repo/drill.xml" 2>/dev/null &&
		[ -s "$d/repo/drill.html" ] && grep -q '### ✅ drover drill `shop-failover`: succeeded' "$GITHUB_STEP_SUMMARY" &&
		promcheck "$METRICS" && promcheck "$d/run/textfile/drover-shop-readiness.prom"
	ok "ci scheduled drill: JUnit, HTML, the summary and both metrics files are there and valid" $?
	unset RUNBOOK DROVER_STATE_DIR METRICS GITHUB_STEP_SUMMARY
}

# --- secrets never reach a report or a metric ----------------------------------------------------------
secrets() {
	local d=$tmp/secrets
	mkdir -p "$d"
	cat >"$d/sec.yaml" <<-'EOF'
	drover: 1
	name: secret-demo
	backend:
	  kind: sim
	  vms: [{ name: db-1 }]
	secrets:
	  token: { env: DEMO_TOKEN, description: an API token }
	vm_sets:
	  db: { match: { name: "^db-" } }
	steps:
	  - { id: failover, action: dr.failover, targets: db }
	  - { id: check, action: fail, needs: failover, with: { message: "token ${secrets.token} rejected" } }
	EOF
	(cd "$d" && DEMO_TOKEN=db-1-s3cr3t-9f2 "$drover" run -q --state-dir s --report r.json --report r.html --report r.xml \
		--report r.md --metrics m.prom sec.yaml >out 2>&1)
	ok "secrets: a run whose failure message holds a secret fails (exit 1)" $([ $? = 1 ] && echo 0 || echo 1)
	local f bad=0
	for f in json xml html md; do grep -q 'token \*\*\* rejected' "$d/r.$f" || bad=1; done
	! grep -l 's3cr3t' "$d"/r.* "$d/m.prom" && [ $bad = 0 ] && grep -q '"target":	"db-1"' "$d/r.json"
	ok "secrets: no report form and no metric holds the secret's value; the VM keeps its name" $?
}

# --- the docs show the example files as they are ----------------------------------------------------
docs_examples() {
	local md f n=0 bad=0
	for md in "$root/docs/ci.md" "$root/docs/scheduling.md"; do
		while read -r f; do
			n=$((n + 1))
			awk -v want="$f" '$0 == "<!-- file: " want " -->" { getline; on = 1; next } on && /^```$/ { exit } on' "$md" |
				cmp -s - "$root/$f" || { echo "    $(basename "$md") does not show $f as it is"; bad=1; }
		done < <(sed -n 's/^<!-- file: \(.*\) -->$/\1/p' "$md")
	done
	[ $n -ge 5 ]; ok "docs: ci.md and scheduling.md show $n example files" $?
	ok "docs: ...each exactly as it is in examples/" $bad
}

groups=(sarif github readiness diff_markdown reports html_render systemd_units kubernetes_cronjob ci_pull_request
	ci_scheduled_drill docs_examples secrets)
[ $# -gt 0 ] && groups=("$@")
for group in "${groups[@]}"; do
	"$group"
done
echo "evidence: $pass passed, $fail failed"
[ $fail = 0 ]
