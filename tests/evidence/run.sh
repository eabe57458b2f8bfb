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

	# The file cannot be written: said, exit 3, the old file intact.
	cp "$d/ok.prom" "$d/keep.prom"
	"$drover" plan --metrics "$d/ok.prom/x" --state-dir "$d/s1" "$root/examples/quickstart.yaml" >/dev/null 2>"$d/err"
	ok "readiness: a metrics file that cannot be written exits 3" $([ $? = 3 ] && echo 0 || echo 1)
	grep -q "cannot write '.*ok.prom/x'" "$d/err" && cmp -s "$d/ok.prom" "$d/keep.prom"
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
golden() {
	local c=$1 w=$tmp/reports/$1 f bad=0
	for f in json:json junit:xml markdown:md html:html; do
		(cd "$w" && "$drover" report --state-dir .drover --format "${f%%:*}" -o "report.${f#*:}") || bad=1
		normalise "$w/report.${f#*:}"
		if [ "${UPDATE:-0}" = 1 ]; then mkdir -p "$here/golden/$c" && cp "$w/report.${f#*:}" "$here/golden/$c/"
		elif ! diff -u "$here/golden/$c/report.${f#*:}" "$w/report.${f#*:}" >"$w/diff" 2>&1; then
			bad=1; head -20 "$w/diff" | sed 's/^/    /'; fi
	done
	ok "reports $c: json, junit, markdown and html are the golden ones" $bad
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

	case_run drill-missed 0 shop-tight.yaml drill -q --metrics metrics.prom
	golden drill-missed
	grep -q '<testcase name="RTO .* (objective 10m)" classname="shop-tight.objectives" time="0.000">' "$w/drill-missed/report.xml" &&
		grep -q '<failure message="RTO .* missed the objective 10m" type="objective"/>' "$w/drill-missed/report.xml"
	ok "reports drill-missed: a missed objective is a failed testcase" $?
	js 'd.drill.verified && d.drill.status === "clean" && d.drill.cleanup.length === 6 &&
		d.drill.cleanup.every((c) => c.state === "succeeded") && d.objectives.met === false' "$w/drill-missed/report.json"
	ok "reports drill-missed: what was cleaned up and how it was verified" $?
	grep -qx 'drover_run_objectives_met{runbook="shop-tight",mode="drill"} 0' "$w/drill-missed/metrics.prom" &&
		grep -qx 'drover_run_drill_leftovers{runbook="shop-tight",mode="drill"} 0' "$w/drill-missed/metrics.prom"
	ok "reports drill-missed: metrics say an objective was missed, nothing left behind" $?

	# Killed (SIGKILL after the 15th durable record: failovers in flight) and resumed: the same report as
	# the uninterrupted run, but for what tells the story of the stop (sessions, what resume's probes found).
	mkdir -p "$w/resumed" && cp "$here/runbooks/shop.yaml" "$w/resumed/"
	(cd "$w/resumed" && DROVER_TEST_KILL_AT=15 "$drover" run -q --yes --state-dir .drover shop.yaml >out 2>&1)
	ok "reports resumed: the run is killed" $([ $? = 137 ] && echo 0 || echo 1)
	(cd "$w/resumed" && "$drover" resume -q --yes --state-dir .drover --metrics metrics.prom shop-failover-20260101T000000Z >out 2>&1)
	ok "reports resumed: resume finishes the run" $?
	golden resumed
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

groups=(sarif github readiness diff_markdown reports html_render)
[ $# -gt 0 ] && groups=("$@")
for group in "${groups[@]}"; do
	"$group"
done
echo "evidence: $pass passed, $fail failed"
[ $fail = 0 ]
