#!/usr/bin/env bash
# Security and state tests (issue 10): the run lock's busy status, the state
# directory and run ids, secrets through every input kind and every sink,
# terminal escaping, approvers. The real drover binary, as separate
# processes, the way an operator (or an attacker with a runbook under
# review) meets it.
#
#   tests/security/run.sh DROVER           ends with "security: N passed, M failed"
#   tests/security/run.sh DROVER NAME...   only those scenarios
set -u
drover=$(realpath "$1"); shift
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d); trap 'cleanup' EXIT
pass=0 fail=0 scenario= pids=()
unset DROVER_SIM_FAULTS DROVER_STATE_DIR DROVER_SIM_STATE DROVER_CLOCK DROVER_TEST_SIGNAL_AT
export NO_COLOR=1 DROVER_STDLIB="$here/../../stdlib"

forget() { # forget PID: a process the scenario waited for itself (the others stay for cleanup)
	local keep=() p
	for p in "${pids[@]}"; do [ "$p" = "$1" ] || keep+=("$p"); done
	pids=("${keep[@]}")
}
cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
ok() { # ok DESCRIPTION STATUS
	if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL security $scenario: $1"; fi
}
# run_ok EXPECTED_EXIT drover-args...: output in $tmp/out and $tmp/err
run_ok() {
	local want=$1; shift
	"$drover" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	local rc=$?
	[ "$rc" = "$want" ] && return 0
	echo "    exit $rc, expected $want: drover $*"; sed 's/^/      /' "$tmp/err" | tail -8
	return 1
}
. "$here/../wait.sh"
# wait_for PID FILE: until FILE exists (made by the process PID)
wait_for() { wait_until -p "$1" test -e "$2"; }

# --- a second run while another holds the lock: busy, exit 5, not "invalid" (2) ----------------
busy() {
	local S=$tmp/busy
	"$drover" run --clock real --state-dir "$S" --run-id first "$here/gate.yaml" >"$tmp/first.out" 2>&1 </dev/null &
	local first=$!
	pids+=("$first")
	wait_for "$first" "$S/runs/first/approvals/wait.request"; ok "the first run waits at its gate" $?
	run_ok 5 run --clock real --state-dir "$S" --run-id second "$here/gate.yaml"; ok "a second run exits 5 (busy)" $?
	grep -q "^busy: run first holds the lock of this runbook and backend (pid $first on " "$tmp/err"
	ok "it says: busy: run first holds the lock (pid, host)" $?
	grep -q "^nothing was run: another run holds the lock" "$tmp/err"; ok "and that nothing ran" $?
	[ ! -e "$S/runs/second" ]; ok "the second run left no run directory" $?
	run_ok 5 run --clock real --state-dir "$S" --events - "$here/gate.yaml"; ok "with --events too" $?
	grep -q '"event":"run.end","status":"busy","exit":5' "$tmp/out"; ok "run.end says status busy, exit 5" $?
	run_ok 0 approve --state-dir "$S" first wait; ok "the first run's gate is answered" $?
	wait "$first"; ok "the first run goes on and succeeds" $?
	forget "$first"
}

# --- the state directory: planted links, other owners, run ids, owner-only files -----------------
planted() {
	local S=$tmp/planted victim=$tmp/victim
	mkdir -p "$S/runs"
	echo precious >"$victim"
	# drover used to write <file>.tmp.<pid>: plant that name for each file it replaces, for the pid it will
	# have (the subshell's, kept by exec), pointing at a file root must not overwrite
	(
		for f in sim-state.json history.json; do ln -s "$victim" "$S/$f.tmp.$BASHPID"; done
		exec "$drover" run --yes --clock virtual -q --state-dir "$S" --run-id p1 "$here/../../examples/quickstart.yaml"
	) >"$tmp/out" 2>&1 </dev/null
	ok "a run with planted temporary links succeeds" $?
	[ "$(cat "$victim")" = precious ]; ok "the planted links were not written through" $?
	[ -f "$S/sim-state.json" ] && [ ! -L "$S/sim-state.json" ]; ok "the state file is a file of its own" $?
	# a planted lock file: never opened through the link
	local lock; lock=$(ls "$S"/locks/*.lock | head -1)
	rm -f "$lock"; ln -s "$victim" "$lock"
	run_ok 2 run --yes --clock virtual -q --state-dir "$S" --run-id p2 "$here/../../examples/quickstart.yaml"
	ok "a run lock planted as a link is refused" $?
	grep -q "cannot open the run lock '$lock'" "$tmp/err"; ok "naming the lock file" $?
	[ "$(cat "$victim")" = precious ]; ok "the lock's link was not written through" $?
	# every file drover wrote is owner-only; --events too
	run_ok 0 run --yes --clock virtual -q --state-dir "$tmp/own" --events "$tmp/own-events.jsonl" \
		"$here/../../examples/quickstart.yaml"
	ok "a run with --events" $?
	local loose; loose=$(find "$tmp/own" "$tmp/own-events.jsonl" -type f -perm /077)
	[ -z "$loose" ]; ok "every file it wrote is owner-only${loose:+ (not: $loose)}" $?
	loose=$(find "$tmp/own" -type d -perm /077)
	[ -z "$loose" ]; ok "every directory it made is owner-only${loose:+ (not: $loose)}" $?
}

others() {
	local S=$tmp/others rb=$here/../../examples/quickstart.yaml
	mkdir -p "$S"; chmod 777 "$S"
	run_ok 2 run --yes --clock virtual -q --state-dir "$S" "$rb"; ok "a world-writable state directory is refused" $?
	grep -q "the state directory '$S' can be written by other users (mode 0777)" "$tmp/err"; ok "saying why" $?
	grep -q "chmod 700" "$tmp/err"; ok "and what to do" $?
	[ ! -e "$S/runs" ]; ok "nothing was written into it" $?
	chmod 700 "$S"; mkdir -p "$S/runs"; chmod 775 "$S/runs"
	run_ok 2 run --yes --clock virtual -q --state-dir "$S" "$rb"; ok "a group-writable runs/ in it is refused" $?
	grep -q "the directory '$S/runs' can be written by its group (mode 0775)" "$tmp/err"; ok "naming it" $?
	chmod 700 "$S/runs"
	if [ "$(id -u)" = 0 ]; then
		chown 65534:65534 "$S"
		run_ok 2 run --yes --clock virtual -q --state-dir "$S" "$rb"; ok "another user's state directory is refused" $?
		grep -q "the state directory '$S' belongs to .*uid 65534.*, not to" "$tmp/err"; ok "naming its owner" $?
		run_ok 2 approve --state-dir "$S" some-run step; ok "approve refuses it too" $?
		chown 0:0 "$S"
	fi
	run_ok 0 run --yes --clock virtual -q --state-dir "$S" "$rb"; ok "once owner-only, it is used" $?
}

run_ids() {
	local S=$tmp/ids/state rb=$here/../../examples/quickstart.yaml id
	mkdir -p "$tmp/ids"
	for id in "../../escape" "a/b" ".." ".hidden" "-x" "$(printf 'two\nlines')" "$(printf 'x\033]0;t\007')" \
		"$(printf 'a%.0s' $(seq 129))"; do
		run_ok 2 run --yes --clock virtual -q --state-dir "$S" --run-id "$id" "$rb"
		ok "--run-id $(printf %q "$id") is refused" $?
		grep -q "is not a run id: a run id is 1 to 128 letters, digits" "$tmp/err"; ok "  saying what a run id is" $?
	done
	! grep -q $'\033' "$tmp/err" 2>/dev/null; ok "the refusal prints no escape character" $?
	[ ! -e "$tmp/escape" ] && [ ! -e "$tmp/ids/escape" ]; ok "nothing was written outside the state directory" $?
	for cmd in resume status; do
		run_ok 2 "$cmd" --state-dir "$S" ../../escape; ok "drover $cmd ../../escape is refused" $?
	done
	run_ok 2 approve --state-dir "$S" ../../escape step; ok "drover approve ../../escape is refused" $?
	run_ok 0 run --yes --clock virtual -q --state-dir "$S" --run-id Shop_2026.01-a "$rb"; ok "a run id of the safe set runs" $?
}

# --- a read-only state directory, a full disk: the real cause, one piece of advice ---------------
# In a mount namespace of their own (unshare: as root directly, else as the root of a new user
# namespace), so the small tmpfs never outlives the test.
in_mount_ns() {
	if [ "$(id -u)" = 0 ]; then unshare --mount "$@"; else unshare --user --map-root-user --mount "$@"; fi
}

readonly_dir() {
	local D=$tmp/ro
	mkdir -p "$D"
	in_mount_ns bash -c '
		mount -t tmpfs -o size=1m tmpfs "$1" && mount -o remount,ro "$1" || exit 99
		cd "$1" && "$2" run --yes --clock virtual -q --state-dir "$1/state" "$3"' _ "$D" "$drover" \
		"$here/../../examples/quickstart.yaml" >"$tmp/out" 2>"$tmp/err" </dev/null
	local rc=$?
	[ $rc != 99 ] || echo "    cannot mount a tmpfs here: the test needs root, or user namespaces"
	[ "$rc" = 2 ]; ok "a read-only state directory: exit 2, nothing ran (got $rc)" $?
	grep -q "cannot create directory '$D/state': Read-only file system" "$tmp/err"; ok "naming the real cause" $?
	grep -q "^nothing was run: the state directory cannot be written (see above); make it writable, or give another --state-dir, then run again" "$tmp/err"
	ok "with one piece of advice" $?
	! grep -qi "another run holds the lock\|No such file" "$tmp/err"; ok "and no wrong cause" $?
}

# A disk that is full before the run starts: the journal cannot be made; nothing ran, exit 2 (as a read-only
# state directory), and the help and README say that 2 covers it (they said "invalid runbook" and, for a full
# disk, 3)
full_before_start() {
	local D=$tmp/full0
	mkdir -p "$D"
	in_mount_ns bash -c '
		mount -t tmpfs -o size=8k tmpfs "$1" || exit 99
		mkdir -m 700 "$1/state" && head -c 4096 /dev/zero >"$1/fill" || exit 98
		cd "$1" && "$2" run --yes --clock virtual -q --state-dir "$1/state" "$3"' _ "$D" "$drover" \
		"$here/../../examples/quickstart.yaml" >"$tmp/out" 2>"$tmp/err" </dev/null
	local rc=$?
	[ "$rc" = 2 ] && grep -q "No space left on device" "$tmp/err" && grep -q "^nothing was run: " "$tmp/err"
	ok "a disk full before the run: exit 2, the cause, nothing was run (got $rc)" $?
	"$drover" run --help | tr '\n' ' ' | grep -q "2 invalid runbook, parameters, secrets or backend, or a state directory that cannot be written (read-only, or a full disk before the run started; nothing ran)"
	ok "drover run --help says what exit 2 covers" $?
}

full_disk() {
	local D=$tmp/full rb=$here/../../examples/quickstart.yaml
	mkdir -p "$D"
	# 40 KiB: the run starts, and the disk fills up halfway through the failover
	in_mount_ns bash -c '
		mount -t tmpfs -o size=40k tmpfs "$1" || exit 99
		"$2" run --yes --clock virtual --state-dir "$1/state" --run-id full "$3" >"$4/full.out" 2>&1
		echo $? >"$4/full.rc"
		mount -o remount,size=4m "$1"   # room again
		"$2" resume --state-dir "$1/state" full >"$4/resume.out" 2>&1
		echo $? >"$4/resume.rc"
		"$2" sim show --state "$1/state/sim-state.json" --format json >"$4/sim.json"' _ "$D" "$drover" "$rb" "$tmp" \
		</dev/null
	[ "$(cat "$tmp/full.rc")" = 3 ]; ok "a full disk mid-run: exit 3 (internal error)" $?
	grep -q "internal error: the run's state could not be saved: .*No space left on device" "$tmp/full.out"
	ok "the summary names the real cause" $?
	[ "$(grep -c "drover resume --state-dir $D/state full" "$tmp/full.out")" = 1 ]; ok "and one piece of advice that works pasted: drover resume --state-dir $D/state full" $?
	! grep -q "then run again" "$tmp/full.out"; ok "never also 'then run again'" $?
	[ "$(cat "$tmp/resume.rc")" = 0 ]; ok "with room again, drover resume finishes the run" $?
	local n; n=$(grep -c '"operation":[[:space:]]*"failover"' "$tmp/sim.json")
	[ "$n" = 6 ]; ok "the simulator saw each of the 6 VMs failed over once (got $n)" $?
}

# --- secrets through every input kind: no stream, no file holds one -----------------------------
TOKEN='Tok3nHalfA-Tok3nHalfB' PW='p@ss w0rd/Zeta+Q'
# Every form of the two secrets a sink could hold, and each half of the token (a cut in the middle).
secret_forms() {
	local v
	for v in "$TOKEN" "$PW"; do
		printf '%s\n' "$v" "$(printf %s "$v" | base64 -w0)" "$(printf %s "$v" | base64 -w0 | tr '+/' '-_' | tr -d =)" \
			"$(jq -rn --arg v "$v" '$v|@uri')" "$(jq -rn --arg v "$v" '$v|@uri' | tr 'A-F' 'a-f')"
	done
	printf '%s\n' Tok3nHalfA Tok3nHalfB 'p@ss w0rd' 'w0rd/Zeta'
}
# no_secret WHAT FILE...: none of the forms in any of the files
no_secret() {
	local what=$1 form hits="" h; shift
	while read -r form; do
		h=$(grep -lF -- "$form" "$@" 2>/dev/null | sed "s|^|    '$form' in |")
		[ -z "$h" ] || hits+="$h"$'\n'
	done < <(secret_forms)
	[ -z "$hits" ] || printf %s "$hits"
	[ -z "$hits" ]; ok "$what: no secret, in any form" $?
}

secrets() {
	local W=$tmp/secrets S
	mkdir -p "$W"; S=$W/state
	cp "$here/secrets.yaml" "$here/secret-gate.yaml" "$W/"
	printf '%s\n' "$PW" >"$W/pw.txt"; chmod 600 "$W/pw.txt"
	node "$here/echo-server.js" "$W/port" "$W/server.log" &
	pids+=($!)
	wait_until -p "${pids[-1]}" test -s "$W/port"; ok "the loopback echo service listens" $?
	# a saved plan first (its file, its readiness metrics), then the run with every report form and its metrics
	(cd "$W" && SEC_TOKEN=$TOKEN "$drover" plan --state-dir "$S" -p port=1 -o plan.json --metrics plan.prom \
		secrets.yaml >"$W/plan.out" 2>&1 </dev/null)
	ok "plan -o and --metrics (exit $?)" $?
	(cd "$W" && SEC_TOKEN=$TOKEN "$drover" run --yes --clock virtual --state-dir "$S" --events "$W/events.jsonl" \
		--report run.json --report run.xml --report run.md --report run.html --metrics run.prom \
		-p port="$(cat "$W/port")" secrets.yaml >"$W/stdout" 2>"$W/stderr" </dev/null)
	ok "the run succeeds (exit $?)" $?
	local fmt
	for fmt in json junit markdown html; do
		"$drover" report --state-dir "$S" --format $fmt -o "$W/report.$fmt" >>"$W/reports.out" 2>&1 </dev/null
		ok "drover report --format $fmt (exit $?)" $?
	done
	grep -q 'refused \*\*\*' "$W/run.md" && grep -q 'refused \*\*\*' "$W/report.junit" && grep -q 'refused \*\*\*' "$W/run.html"
	ok "the reports hold the failure's message, redacted" $?
	grep -q '"event":"run.end","status":"succeeded"' "$W/events.jsonl"; ok "it ran to its end" $?
	# the values did reach what needed them
	grep -qF "Bearer $TOKEN" "$W/server.log" && grep -qF "$PW" "$W/server.log"
	ok "the service got the real values (headers, URL, body)" $?
	grep -qF "\"network\":\"\${secrets.token}\"" "$W/events.jsonl"; ok "an input passed on reads as its reference" $?
	grep -q '"step":"cat-first",.*"stdout":"\*\*\*\\n"' "$W/events.jsonl"
	ok "a program that prints the secret file before any step reads it: redacted" $?
	grep -q '"stdout":"[x]*\\n*"' "$W/events.jsonl" || grep -q '"truncated":true' "$W/events.jsonl"
	ok "the cut capture is marked truncated" $?
	# the approval request file, while the gate is open (the run waits for an answer)
	(cd "$W" && "$drover" run --clock real --state-dir "$S" --run-id gate --events "$W/gate.jsonl" secret-gate.yaml \
		>"$W/gate.out" 2>&1 </dev/null) &
	local gate=$!
	pids+=("$gate")
	wait_for "$gate" "$S/runs/gate/approvals/ask.request"; ok "the gate's request file is written" $?
	cp "$S/runs/gate/approvals/ask.request" "$W/request.copy"
	grep -q '"message":"go on with \${secrets.pw}?"\|"message":"go on with \*\*\*?"' "$W/request.copy"
	ok "the request file's message is redacted" $?
	run_ok 0 approve --state-dir "$S" gate ask; ok "the gate is answered" $?
	wait "$gate"; ok "the gated run ends" $?
	# every stream and every file drover wrote (the simulator's state file and its change log are the
	# service's own record of what it was asked, as ASR's jobs are: they must hold the real network name)
	cat "$S/sim-state.json" "$S/sim-state.json.changes" | grep -qF "$TOKEN"
	ok "the simulated service recorded the real network name" $?
	local files; mapfile -t files < <(find "$W" -type f ! -name pw.txt ! -name server.log ! -name port \
		! -name '*.yaml' ! -path "$S/sim-state.json" ! -path "$S/sim-state.json.changes")
	[ "${#files[@]}" -ge 22 ]; ok "scanning ${#files[@]} streams and files" $?
	no_secret "stdout, stderr, events, journals, approvals, locks, history, reports, metrics, the saved plan" "${files[@]}"
	local loose; loose=$(find "$S" "$W/events.jsonl" "$W/gate.jsonl" "$W"/run.* "$W"/report.* "$W"/plan.json -type f \
		-perm /077 ! -name '*.prom')
	[ -z "$loose" ]; ok "every file drover wrote is owner-only${loose:+ (not: $loose)}" $?
	# metrics are for node_exporter's collector: readable by all, by design; numbers and identifiers only
	[ "$(stat -c %a "$W/run.prom" "$W/plan.prom" | sort -u)" = 644 ]; ok "metrics files: mode 0644 (never writable by others)" $?
	! grep -q '\*\*\*' "$W/run.prom" "$W/plan.prom"; ok "metrics hold no free text (nothing to redact)" $?
}

# --- a secret that looks like an identifier: the journal stays whole, resume and status work ----
identifiers() {
	local W=$tmp/ident S
	mkdir -p "$W"; S=$W/state
	cat >"$W/rb.yaml" <<'YAML'
drover: 1
name: ident
backend:
  kind: sim
  vms:
    - { name: app-prod-1, primary_region: westeurope, recovery_region: northeurope }
    - { name: app-prod-2, primary_region: westeurope, recovery_region: northeurope }
secrets:
  env_name: { env: SEC_PROD }
  state: { env: SEC_STATE }
  record: { env: SEC_RECORD }
vm_sets:
  app: { match: { name: "^app-" } }
steps:
  - id: failover
    action: dr.failover
    targets: app
  - id: up
    action: dr.probe
    foreach: app
    needs: failover
  - id: note
    action: log
    needs: up
    with: { message: "logged in to ${secrets.env_name} as ${secrets.state} via ${secrets.record}" }
YAML
	export SEC_PROD=prod SEC_STATE=succeeded SEC_RECORD=task.end
	# killed right after the first intents are durable, then resumed: without --force
	{ (cd "$W" && DROVER_TEST_KILL_AT=4 exec "$drover" run --yes --clock virtual -q --state-dir "$S" --run-id id1 rb.yaml \
		>/dev/null 2>&1 </dev/null); } 2>/dev/null
	ok "the first session is killed" $([ $? = 137 ] && echo 0 || echo 1)
	run_ok 0 resume --state-dir "$S" id1; ok "resume goes on without --force" $?
	grep "per VM: " "$tmp/out" | grep -q "app-prod-1 .*app-prod-2 "; ok "the summary names the VMs whole (free text is redacted)" $?
	! grep -q "does not fit" "$tmp/out" "$tmp/err"; ok "no record 'does not fit'" $?
	local j=$S/runs/id1/journal.jsonl
	grep -q '"target":"app-prod-1"' "$j" && ! grep -q 'app-\*\*\*' "$j"; ok "VM names stay whole in the journal" $?
	grep -q '"event":"task.end"' "$j" && grep -q '"status":"succeeded"' "$j"; ok "record types and states stay whole" $?
	grep -q 'logged in to \*\*\* as \*\*\* via \*\*\*' "$j"; ok "the free text is redacted" $?
	run_ok 0 status --state-dir "$S" id1; ok "drover status reads it" $?
	grep -q 'succeeded' "$tmp/out" && ! grep -q '^ *\*\*\*' "$tmp/out"; ok "status shows states, not ***" $?
	run_ok 0 report --state-dir "$S" --format json id1; ok "drover report reads it" $?
	jq -e '[.. | objects | select(has("target")) | .target] | index("app-prod-2") != null' "$tmp/out" >/dev/null &&
		jq -e '.run.status == "succeeded" and ([.tasks[].state] | index("succeeded") != null)' "$tmp/out" >/dev/null && ! grep -q 'app-\*\*\*' "$tmp/out"
	ok "the report names the VMs and the state whole" $?
	unset SEC_PROD SEC_STATE SEC_RECORD
}

# --- secrets that cannot be read stop the run before anything runs ---------------------------
bad_secrets() {
	local W=$tmp/badsec S
	mkdir -p "$W"; S=$W/state
	cat >"$W/rb.yaml" <<'YAML'
drover: 1
name: badsec
backend:
  kind: sim
  vms: [{ name: vm-1, primary_region: westeurope, recovery_region: northeurope }]
secrets:
  pw: { file: pw.txt }
  tok: { env: SEC_NOT_SET }
vm_sets:
  all: { match: {} }
steps:
  - id: first
    action: exec
    with: { argv: [cat, pw.txt] }
  - id: failover
    action: dr.failover
    targets: all
    needs: first
  - id: use
    action: log
    needs: failover
    with: { message: "${secrets.tok} ${secrets.pw}" }
YAML
	unset SEC_NOT_SET
	local f
	for f in loose group fifo dir zero empty missing; do
		rm -rf "$W/pw.txt"
		case $f in
		loose) echo value-1234 >"$W/pw.txt"; chmod 644 "$W/pw.txt" ;;
		group) echo value-1234 >"$W/pw.txt"; chmod 640 "$W/pw.txt" ;;
		fifo) mkfifo "$W/pw.txt" ;;
		dir) mkdir "$W/pw.txt" ;;
		zero) ln -s /dev/zero "$W/pw.txt" ;;
		empty) : >"$W/pw.txt"; chmod 600 "$W/pw.txt" ;;
		missing) ;;
		esac
		(cd "$W" && timeout 20 "$drover" run --yes --clock virtual --state-dir "$S" --events "$W/ev-$f.jsonl" rb.yaml \
			>"$tmp/out" 2>"$tmp/err" </dev/null)
		local rc=$?
		[ $rc = 2 ]; ok "a secret file that is $f: exit 2 at once (got $rc)" $?
		grep -q "^secrets.pw: cannot use the file 'pw.txt'" "$tmp/err"; ok "  naming the secret and the file" $?
		grep -q "^secrets.tok: the environment variable SEC_NOT_SET is not set" "$tmp/err"; ok "  and the missing variable" $?
		grep -q "^nothing was run: the secrets above cannot be read" "$tmp/err"; ok "  nothing ran" $?
		! grep -q '"event":"task.start"' "$W/ev-$f.jsonl"; ok "  no step started (the earlier cat of the file)" $?
	done
	[ ! -e "$S/sim-state.json" ]; ok "the simulator was not even started" $?
}

# --- a runbook under review cannot drive the terminal -------------------------------------------
terminal() {
	local W=$tmp/term S
	mkdir -p "$W"; S=$W/state
	# a VM name that retitles the window, a message that clears the screen and fakes a progress line
	printf '%s\n' 'drover: 1' 'name: term' 'backend:' '  kind: sim' '  vms:' \
		'    - { name: "web-1\e]0;PWNED\a", primary_region: westeurope, recovery_region: northeurope }' \
		'vm_sets:' '  web: { match: { name: "^web-" } }' 'steps:' '  - id: failover' '    action: dr.failover' \
		'    targets: web' '  - id: ask' '    action: approve' '    needs: failover' \
		'    with: { message: "ok?\e[2J\r\n00:00:09.000 step commit succeeded" }' '  - id: say' '    action: fail' \
		'    needs: ask' '    with: { message: "oops\e[2J\n00:00:01.000 step commit succeeded: 1 succeeded" }' >"$W/rb.yaml"
	# a mistake on a line that holds escapes: the diagnostic echoes that line
	printf '%s\n' 'drover: 1' 'name: bad' 'steps:' '  - { id: a, action: "nope\e]0;PWNED\a" }' >"$W/bad.yaml"
	(cd "$W" && "$drover" validate bad.yaml >"$W/validate.out" 2>&1)
	(cd "$W" && "$drover" run --yes --clock virtual --state-dir "$S" --run-id t1 rb.yaml >"$W/plain.out" 2>&1 </dev/null)
	"$drover" status --state-dir "$S" t1 >"$W/status.out" 2>&1
	"$drover" runs --state-dir "$S" >"$W/runs.out" 2>&1
	# on a terminal (a pty), the live screen
	(cd "$W" && script -qfec "'$drover' run --yes --clock virtual --state-dir '$S' --run-id t2 rb.yaml" /dev/null \
		>"$W/live.out" 2>&1 </dev/null)
	grep -q 'web-1\\e\]0;PWNED\\x07' "$W/plain.out"; ok "the VM name shows, escaped" $?
	grep -q 'nope\\e\]0;PWNED\\x07' "$W/validate.out"; ok "the diagnostic echoes the line, escaped" $?
	local f
	for f in validate plain status runs; do
		! LC_ALL=C grep -q $'[\x01-\x08\x0b-\x1f\x7f]' "$W/$f.out"; ok "$f: no control character reaches the terminal" $?
	done
	! LC_ALL=C grep -q $'\e\]0;PWNED\|\e\[2J' "$W/live.out"; ok "live: nothing retitles the window or clears the screen" $?
	! grep -aq '^0*0:00:0[19].000 step commit succeeded' "$W/plain.out" "$W/status.out" "$W/live.out"
	ok "no fake progress line" $?
}

# --- approvers: the operating-system user who answers, never --as or $USER ----------------------
approvers() {
	local W=$tmp/appr S me; me=$(id -un)
	mkdir -p "$W"; S=$W/state
	local who=daemon # a user of every Debian system (uid 1); as root, sudo's caller is emulated below
	[ "$(id -u)" = 0 ] || who=$me
	printf '%s\n' 'drover: 1' 'name: appr' 'steps:' '  - id: ask' '    action: approve' \
		"    with: { message: 'go?', approvers: [$who], timeout: 60s }" >"$W/rb.yaml"
	"$drover" run --clock real --state-dir "$S" --run-id a1 --events "$W/ev.jsonl" "$W/rb.yaml" >"$W/run.out" 2>&1 </dev/null &
	local run=$!
	pids+=("$run")
	wait_for "$run" "$S/runs/a1/approvals/ask.request"; ok "the gate is open" $?
	if [ "$(id -u)" = 0 ]; then
		run_ok 1 approve --state-dir "$S" --as daemon a1 ask; ok "--as daemon does not make root an approver" $?
		grep -q "you are 'root' (the user running drover approve), not one of the approvers \[\"daemon\"\]; --as only adds a note" "$tmp/err"
		ok "  it says who the user is" $?
		USER=daemon run_ok 1 approve --state-dir "$S" a1 ask; ok "USER=daemon does not either" $?
		# what sudo sets when daemon runs 'sudo drover approve' (root, with SUDO_USER and SUDO_UID)
		SUDO_USER=daemon SUDO_UID=$(id -u daemon) run_ok 0 approve --state-dir "$S" --as "night shift" a1 ask
		ok "root under sudo answers as the user who ran sudo" $?
	else
		run_ok 0 approve --state-dir "$S" --as "night shift" a1 ask; ok "the approver answers as themself" $?
	fi
	wait "$run"; ok "the run ends approved" $?
	grep -q "\"event\":\"approval.granted\",\"step\":\"ask\",\"by\":\"$who\",\"via\":\"drover approve\"" "$W/ev.jsonl"
	ok "the event names the approver" $?
	grep -q '"as":"night shift"' "$W/ev.jsonl"; ok "and keeps --as as a note" $?
	forget "$run"
	USER=someone-else "$drover" run --yes --clock virtual -q --state-dir "$S" --events "$W/yes.jsonl" "$W/rb.yaml" \
		>/dev/null 2>&1 </dev/null
	grep -q "\"event\":\"approval.granted\",\"step\":\"ask\",\"by\":\"$me\",\"via\":\"--yes\"" "$W/yes.jsonl"
	ok "--yes records the operating-system user ($me), not \$USER" $?
}

scenarios=(busy planted others run_ids readonly_dir full_before_start full_disk secrets identifiers bad_secrets terminal approvers)
[ $# -gt 0 ] && scenarios=("$@")
for scenario in "${scenarios[@]}"; do "$scenario"; done
echo "security: $pass passed, $fail failed"
[ $fail = 0 ]
