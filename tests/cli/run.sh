#!/usr/bin/env bash
# Command-line tests: every command, run as a user types it. Options are
# taken before and after the operands, and an unknown option is reported
# once, in one spelling. The exact messages are golden cases
# (tests/golden/cli/); this script sweeps every command of `drover --help`,
# so a command added later is covered without a new case.
#
#   tests/cli/run.sh DROVER        ends with "cli: N passed, M failed"
set -u
drover=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
root=$here/../..
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
pass=0 fail=0
unset DROVER_SIM_FAULTS DROVER_STATE_DIR DROVER_SIM_STATE DROVER_CLOCK DROVER_TEST_SIGNAL_AT POSIXLY_CORRECT
export NO_COLOR=1 DROVER_STDLIB="$root/stdlib"
. "$here/../wait.sh"
# the go-no-go gate waits in real time (a person's time): 1s instead of 1h, so the unanswered run ends soon
sed 's/^      timeout: 1h$/      timeout: 1s/' "$root/examples/quickstart.yaml" >"$tmp/rb.yaml"
cd "$tmp" || exit 1

# asked PID SCREEN JOURNAL: the run PID's gate asks its question, on its screen (SCREEN) and in its journal
# (what status, approve and resume read; the screen has it first), however long a loaded machine takes
asked() {
	wait_line -p "$1" 'answer with: ' "$2" && wait_line -p "$1" '"event":"approval.request"' "$3"
}
ok() { # ok DESCRIPTION STATUS
	if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL cli: $1"; fi
}
# run EXPECTED_EXIT drover-args...: output in out/err; prints what differs
run() {
	local want=$1; shift
	"$drover" "$@" >out 2>err </dev/null
	local rc=$?
	[ "$rc" = "$want" ] && return 0
	echo "    exit $rc, expected $want: drover $*"; sed 's/^/      /' err | head -8
	return 1
}

mapfile -t commands < <("$drover" --help | sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p')
[ "${#commands[@]}" -ge 13 ]; ok "drover --help lists the commands (${#commands[@]})" $?

# One message for an unknown option, in every command, wherever it stands.
for c in "${commands[@]}"; do
	for args in "--no-such-option" "rb.yaml --no-such-option" "-Z rb.yaml"; do
		read -ra a <<<"$args"
		opt=${a[0]}; [ "$opt" = rb.yaml ] && opt=${a[1]}
		run 2 "$c" "${a[@]}"; rc=$?
		want="drover $c: unknown option '$opt'"
		[ $rc = 0 ] && [ "$(head -1 err)" = "$want" ] && [ "$(wc -l <err)" = 3 ] &&
			grep -q "^Usage: drover $c " err && ! grep -qi "unrecogni[sz]ed\|invalid option" err && [ ! -s out ]
		rc=$?
		[ $rc = 0 ] || { echo "    drover $c $args:"; sed 's/^/      /' err; }
		ok "$c $args: one message, '$want', then the usage" $rc
	done
	# --help anywhere shows the help (exit 0), also after an operand
	run 0 "$c" rb.yaml --help && grep -q "^Usage: drover $c " out; ok "$c FILE --help shows the help" $?
done

# Every option a command takes is in its --help: each option any help names is tried on each
# command ("--OPT=x --help": parsed, nothing runs); one the command does not reject as unknown
# must be in its help (an option of the help beginning with it: getopt takes abbreviations);
# "--network is for drover drill" is a refusal too.
mapfile -t every < <(for c in "${commands[@]}"; do "$drover" "$c" --help; done | grep -oE -- '--[a-z][a-z-]*[a-z]' | sort -u)
[ "${#every[@]}" -ge 40 ]; ok "the helps name the options (${#every[@]})" $?
for c in "${commands[@]}"; do
	help=$("$drover" "$c" --help) undocumented=
	for o in "${every[@]}"; do
		"$drover" "$c" "$o=x" --help >/dev/null 2>err </dev/null
		grep -q "unknown option\|is for drover" err || grep -qF -- "$o" <<<"$help" || undocumented+=" $o"
	done
	[ -z "$undocumented" ] || echo "    drover $c takes$undocumented, which its --help does not name"
	[ -z "$undocumented" ]; ok "$c --help names every option it takes" $?
done

# Each command takes its options after its operands (and before them).
run 0 validate rb.yaml --quiet && [ ! -s out ] && [ ! -s err ]; ok "validate FILE --quiet prints nothing" $?
run 0 validate --quiet rb.yaml && [ ! -s out ]; ok "validate --quiet FILE prints nothing" $?
run 0 validate rb.yaml --format json && [ "$(cat out)" = "[]" ]; ok "validate FILE --format json" $?
run 0 graph rb.yaml --format dot && grep -q '^digraph ' out; ok "graph FILE --format dot" $?
run 0 graph rb.yaml -f json --diff rb.yaml && grep -q '"changed":[[:space:]]*false' out; ok "graph FILE -f json --diff OLD" $?
run 2 plan rb.yaml --param nope=1 --state-dir s && grep -q "no parameter 'nope'" err
ok "plan FILE --param is read" $?
run 0 plan rb.yaml --format json --state-dir s && grep -q '"runnable":[[:space:]]*true' out; ok "plan FILE --format json" $?
for c in run drill failback; do
	run 2 "$c" rb.yaml --param nope=1 --state-dir s && grep -q "no parameter 'nope'" err
	ok "$c FILE --param is read" $?
done
run 1 run rb.yaml --quiet --state-dir s && grep -qi '^run shop-failover-.* failed' out
ok "run FILE --quiet --state-dir DIR" $?
id=$(sed -n 's/^[Rr]un \([^ ]*\) .*/\1/p' out)
run 0 runs --format json --state-dir s && grep -q "\"run\":[[:space:]]*\"$id\"" out; ok "runs --format json --state-dir" $?
run 0 status "$id" --format json --state-dir s && grep -q "\"status\":[[:space:]]*\"failed\"" out
ok "status RUN-ID --format json --state-dir DIR" $?
run 2 resume "$id" --state-dir elsewhere && grep -q "no run '$id' in elsewhere/runs" err
ok "resume RUN-ID --state-dir DIR" $?
run 1 approve "$id" go-no-go --state-dir s --deny && grep -q "not waiting" err; ok "approve RUN-ID STEP --deny" $?
grep -q "^drover approve: run $id has ended: no gate of it waits for an answer any more (how each was answered: drover status --state-dir s $id)$" err
ok "approve of a run that ended says so, and where its answers are (it said only 'answered already, or not reached yet')" $?
run 0 actions check.http --format text && grep -q '^check.http - ' out; ok "actions NAME --format text" $?
run 2 actions check.http --format yaml && grep -q "format 'yaml'" err; ok "actions NAME --format is read" $?
run 0 schema --format markdown && ! grep -q '^{' out; ok "schema --format markdown" $?
run 0 sim show rb.yaml --format json --state sim.json && grep -q '"items"' out; ok "sim show FILE --format json" $?
run 0 sim reset rb.yaml --state sim2.json && [ -f sim2.json ]; ok "sim reset FILE --state FILE" $?

# The DOT graph draws finally: after the last step, not beside the first (graphviz lays it out).
run 0 graph rb.yaml --format dot && dot -Tplain out >plain 2>&1 &&
	awk '$1 == "node" { gsub(/"/, "", $2); y[$2] = $4 }
		END { exit !(("report" in y) && ("reprotect" in y) && ("failover-db" in y) &&
			     y["report"] + 0 < y["reprotect"] + 0 && y["reprotect"] + 0 < y["failover-db"] + 0) }' plain
ok "graph --format dot: the finally cluster below the last step (dot -Tplain)" $?

# sim advance: after a reprotect there is no processed point yet (the failback plan is blocked);
# moving the simulator's time forward lets replication make one, without waiting for real.
e2e=$root/tests/e2e
for r in failover commit reprotect; do "$drover" run -q --state-dir life "$e2e/$r.yaml" >/dev/null 2>&1 || echo "    $r did not run"; done
run 1 plan --direction failback --state-dir life "$e2e/failover.yaml" && grep -q 'no latest-processed recovery point' out
ok "after reprotect, the failback plan waits for a processed point" $?
run 0 sim advance 30m --state life/sim-state.json &&
	grep -q '^Simulator time advanced by 30m: 2026-01-01T01:[0-9:.]*Z -> 2026-01-01T01:[0-9:.]*Z' out
ok "sim advance 30m moves the simulator's own time (not to the wall clock)" $?
run 0 plan --direction failback --state-dir life "$e2e/failover.yaml"; ok "after sim advance the failback plan is runnable" $?
run 0 sim show --now 2026-01-01T01:00:00Z --state life/sim-state.json --format json &&
	grep -q '^	"time":[[:space:]]*"2026-01-01T01:39' out && grep -q '^				"time":[[:space:]]*"2026-01-01T01:[23]' out
ok "sim show: the simulator's time is the advanced one (never back), its newest points from that half hour" $?
run 0 sim show --state life/sim-state.json && grep -q '^Jobs: 0 in progress, [1-9][0-9]* finished$' out &&
	awk '/^JOB / { at = index($0, "DURATION"); on = 1; next } on && /^[0-9a-f]/ { n++; if (substr($0, at - 1, 2) !~ /^ [0-9]/) bad++ }
		END { exit !(n >= 6 && !bad) }' out
ok "sim show: the jobs (in progress, finished) in columns, also with a start time in milliseconds" $?
# The runs' state directory names the simulator's state too, as it does for run, plan and status.
run 0 sim show --state-dir life && grep -q '^Simulator state: life/sim-state.json$' out && grep -q '^Jobs: 0 in progress' out
ok "sim show --state-dir DIR shows DIR/sim-state.json, the state the runs given --state-dir DIR used" $?
run 1 sim show --state-dir elsewhere && grep -q 'no simulator state at elsewhere/sim-state.json' err
ok "sim show --state-dir of a directory without a state says so" $?
run 2 sim advance --state life/sim-state.json && grep -q 'advance: how far' err; ok "sim advance without a duration: usage error" $?
run 2 sim advance 0s --state life/sim-state.json; ok "sim advance 0s: usage error" $?
run 1 sim advance 1h --state nowhere.json && grep -q 'no simulator state at nowhere.json' err
ok "sim advance of a state that does not exist says so" $?

# sim reset/advance/resume while a run holds the simulator's state: busy (5, as a busy run lock), naming the
# run, and nothing changed.
sed 's/^      timeout: 1h$/      timeout: 60s/' "$root/examples/quickstart.yaml" >held.yaml
"$drover" run -q --state-dir "held state" --run-id held-1 held.yaml >held.out 2>&1 </dev/null &
held_pid=$!
asked "$held_pid" held.out "held state/runs/held-1/journal.jsonl"
before=$(md5sum <"held state/sim-state.json")
for sub in reset "reset held.yaml" "advance 1h" "resume no-such-job"; do
	read -ra a <<<"$sub"
	run 5 sim "${a[@]}" --state-dir "held state" &&
		grep -q "^drover sim ${a[0]}: busy: run held-1 holds the simulator state held state/sim-state.json (pid $held_pid on " err &&
		grep -q "; nothing was changed (the lock is held state/sim-state.json.lock)$" err
	ok "sim $sub while a run holds the simulator's state: busy, exit 5, naming the run" $?
done
look=$(sed -n 's/.*Wait for it to end (\(drover status [^)]*\)).*/\1/p' err)
(eval "\"\$drover\" ${look#drover }") 2>/dev/null | grep -q "^run held-1: running"; ok "...and the status command it prints shows the run: $look" $?
[ "$(md5sum <"held state/sim-state.json")" = "$before" ]; ok "...and the simulator's state is as it was" $?
"$drover" approve --state-dir "held state" held-1 go-no-go >/dev/null 2>&1
wait "$held_pid"; ok "the run that held the state goes on and succeeds" $?

# A run waiting for approval prints the command that answers it; with --state-dir (a folder with
# a space here) that command names it, so it works as printed, from another shell.
cat >gate.yaml <<'EOF'
drover: 1
name: gate
steps:
  - id: go-no-go
    action: approve
    with: { message: "Commit?", timeout: 60s, on_timeout: deny }
  - { id: hello, action: log, needs: [go-no-go], with: { message: hi } }
EOF
"$drover" run -q --state-dir "my state" gate.yaml >gate.out 2>&1 </dev/null &
gate_pid=$!
wait_line -p "$gate_pid" 'answer with: ' gate.out
gid=$(ls "my state/runs" | head -1)
asked "$gate_pid" gate.out "my state/runs/$gid/journal.jsonl"
answer=$(sed -n 's/^go-no-go: waiting for approval: Commit? (answer with: \(.*\))$/\1/p' gate.out)
[ "${answer#drover approve --state-dir \'my state\' }" != "$answer" ]; ok "the approve command names the run's --state-dir: $answer" $?
run 2 approve --state-dir "my state" "$gid" go-no-go-typo &&
	grep -q "^drover approve: run $gid has no step 'go-no-go-typo', so no such gate is waiting: nothing was answered; waiting for: go-no-go$" err
ok "approve of a step the run does not have: no such gate, the gates that wait are listed, exit 2" $?
run 2 approve --state-dir "my state" "$gid" go-no-og &&
	grep -q "^drover approve: run $gid has no step 'go-no-og' (did you mean 'go-no-go'?), so no such gate is waiting: nothing was answered; waiting for: go-no-go$" err
ok "approve of a misspelt gate: did you mean the gate, exit 2" $?
run 2 approve --state-dir "my state" "$gid" hello@db-1 &&
	grep -q "^drover approve: step 'hello' of run $gid is a log step, not an approval gate: nothing was answered; waiting for: go-no-go$" err
ok "approve of a step that is not a gate: says so, lists the waiting gates, exit 2" $?
"$drover" status --state-dir "my state" "$gid" >st.out 2>&1 &&
	grep -q "^  go-no-go: waiting for a person since .*: Commit?$" st.out && grep -q "^      answer with: $answer$" st.out
ok "status in another shell, while the gate waits: what was asked and how to answer, from the journal (approval.request written as the gate opens)" $?
(eval "\"\$drover\" ${answer#drover }") >/dev/null 2>&1; ok "the printed approve command answers the gate" $?
wait "$gate_pid"; ok "the run the printed command approved succeeds" $?
# The same on the virtual clock (a simulator's runbook): the clock stands still while the gate waits, and what
# the run did before it is in the journal all the same (it was written only once 1 MiB was pending).
"$drover" run -q --clock virtual --state-dir vgate --run-id vg gate.yaml >gate.out 2>&1 </dev/null &
gate_pid=$!
asked "$gate_pid" gate.out vgate/runs/vg/journal.jsonl
"$drover" status --state-dir vgate vg >st.out 2>&1 && grep -q "^  go-no-go: waiting for a person since .*: Commit?$" st.out
ok "virtual clock: status in another shell while the gate waits shows what was asked" $?
"$drover" approve --state-dir vgate vg go-no-go >/dev/null 2>vg.err; wait "$gate_pid"; ok "...and the approved run succeeds" $?
[ ! -s vg.err ]; ok "...and approving a live run's gate says nothing more" $?
# A misspelt recovery-point policy: the plan's VM rows say there is no point (they said it would be chosen at
# run time, beside the blocker), and the readiness gauge says not ready (it said 1, ready, to a dashboard).
sed '/enum: \[latest, latest-processed/d' "$root/examples/quickstart.yaml" >noenum.yaml
run 1 plan --state-dir noenum --param recovery_point=latest-procesed --metrics noenum.prom noenum.yaml &&
	grep -q "^  shop-db-1 .* NO POINT (recovery.point: not a point policy; see Blockers)$" out &&
	grep -q '^drover_readiness_vm_recovery_point_ok{.*vm="shop-db-1",verdict="no_policy"} 0$' noenum.prom
ok "a misspelt recovery.point: each VM row says NO POINT, and its readiness gauge is 0 (no_policy)" $?
"$drover" plan --format json --state-dir noenum --param recovery_point=latest-procesed noenum.yaml 2>/dev/null |
	grep -q '"verdict":[[:space:]]*"no_policy"'
ok "...and plan --format json says verdict no_policy" $?
# The run is killed while its gate waits, and someone approves it from another shell: the answer is kept, and
# approve says that no drover runs it now, with the command that goes on (it said only "approved").
"$drover" run -q --state-dir kgate --run-id kg gate.yaml >gate.out 2>&1 </dev/null &
gate_pid=$!
asked "$gate_pid" gate.out kgate/runs/kg/journal.jsonl
kill -KILL "$gate_pid"; wait "$gate_pid" 2>/dev/null
run 0 approve --state-dir kgate kg go-no-go && grep -q "^go-no-go: approved$" out &&
	grep -q "^drover approve: note: no drover is running run kg now (it stopped while the gate waited): the answer is kept, and the gate takes it when the run goes on: drover resume --state-dir kgate kg$" err
ok "approve of a killed run's gate: answered, saying no drover runs it and how to go on" $?
run 0 resume -q --state-dir kgate kg </dev/null && grep -q "^run kg succeeded after " out
ok "...and its resume takes the answer: the run succeeds" $?

# The commands resume and the run lock print about a run name its --state-dir (a folder with a
# space, so quoted) when it is not the default; pasted as argv, from another folder, each works.
pasted() { # pasted EXPECTED_EXIT COMMAND: run a printed command as a shell would split it
	local want=$1 rc
	[ "${2#drover }" != "$2" ] || { echo "    not a drover command: '$2'"; return 1; }
	(eval "\"\$drover\" ${2#drover }") >pasted.out 2>&1 </dev/null
	rc=$?
	[ "$rc" = "$want" ] && return 0
	echo "    exit $rc, expected $want: $2"; sed 's/^/      /' pasted.out | head -5
	return 1
}
mkdir -p far && cp rb.yaml far/rb.yaml && (cd far && "$drover" run -q --state-dir "far state" rb.yaml >/dev/null 2>&1)
fid=$(ls "far/far state/runs" 2>/dev/null | head -1)
cd far || exit 1
run 1 resume --state-dir "far state" "$fid"
seen=$(sed -n 's/.*nothing to resume (to see it: \(.*\))$/\1/p' err)
retry=$(sed -n 's/^to go on from its failure once the cause is fixed: \(.*\)$/\1/p' err)
[ "$seen" = "drover status --state-dir 'far state' $fid" ]; ok "resume of an ended run names status with --state-dir: $seen" $?
pasted 0 "$seen" && grep -q "^run $fid: failed" pasted.out; ok "the printed status command shows the run" $?
[ "$retry" = "drover resume --state-dir 'far state' $fid --retry-failed" ]; ok "and the retry with --state-dir: $retry" $?
pasted 1 "$retry" && grep -q "retrying the failed run" pasted.out; ok "the printed retry command retries the run" $?
run 2 resume --state-dir "far state" no-such-run
listed=$(sed -n 's/.*(to list them: \(.*\))$/\1/p' err)
pasted 0 "$listed" && grep -q "$fid" pasted.out; ok "a run not found: the printed runs command lists the runs: $listed" $?
run 2 resume --state-dir "far state"
listed=$(sed -n 's/^drover resume: which run? (to list them: \(.*\))$/\1/p' err)
latest=$(sed -n "s/^drover resume: the last run here, $fid .*, ended failed: to go on with it from where it stopped, run \(.*\) (what completed is not run again)\.\$/\1/p" err)
pasted 0 "$listed" && grep -q "$fid" pasted.out; ok "resume without a run id: the printed runs command lists the runs: $listed" $?
pasted 1 "$latest" && grep -q "retrying the failed run" pasted.out; ok "...and the printed command goes on with the last run: $latest" $?
# a task whose when: could not read the service: its message names the exact retry command
cp "$root/tests/golden/journal/retry-unstarted/runbook.yaml" unread.yaml
DROVER_SIM_FAULTS='[{kind: read-fails, vms: [db-1], class: permanent}]' run 1 run -q --state-dir "far state" --run-id unread-1 unread.yaml
grep -q "Once the service answers, retry the run (drover resume --state-dir 'far state' unread-1 --retry-failed)" out
ok "a task that could not read the service names the exact retry command (not RUN-ID)" $?
retry=$(sed -n "s/.*Once the service answers, retry the run (\(.*\)) (permanent.*/\1/p" out | head -1)
pasted 0 "$retry" && grep -q "retrying the failed run" pasted.out; ok "...which retries it once the service answers: $retry" $?
printf 'drover: 1\nname: fine\nsteps:\n  - { id: a, action: log, with: { message: hi } }\n' >fine.yaml
"$drover" run -q --state-dir "far state" --run-id fine-1 fine.yaml >/dev/null 2>&1
run 0 resume --state-dir "far state" fine-1 --retry-failed
shown=$(sed -n 's/.*nothing to retry (to see it: \(.*\))$/\1/p' err)
pasted 0 "$shown" && grep -q "^run fine-1: succeeded" pasted.out; ok "--retry-failed of a run that succeeded: the printed status works: $shown" $?
# a run killed mid-way leaves its lock: the next run names the commands that look at it and resume it
{ (DROVER_TEST_KILL_AT=4 "$drover" run -q --state-dir "cut state" --run-id cut-1 rb.yaml >/dev/null 2>&1); } 2>/dev/null
run 6 run -q --state-dir "cut state" rb.yaml
ok "a stale lock (an earlier run did not finish): exit 6, not 2 (usage) nor 5 (busy)" $?
grep -q "^nothing was run: an earlier run of this runbook against this backend did not finish" err; ok "...and nothing ran" $?
run 6 run -q --state-dir "cut state" --events - rb.yaml && grep -q '"event":"run.end","status":"stale","exit":6' out
ok "...and run.end says status stale, exit 6" $?
look=$(sed -n 's/.*Look at it (\([^)]*\)) and resume it.*/\1/p' err)
again=$(sed -n 's/.* and resume it (\([^)]*\)).*/\1/p' err)
pasted 0 "$look" && grep -q "^run cut-1: " pasted.out; ok "a stale lock: the printed status command shows the run: $look" $?
pasted 1 "$again" && grep -q "resuming run cut-1" pasted.out; ok "a stale lock: the printed resume command resumes it: $again" $?
cd .. || exit 1

# drover plan -o prints the command that runs the saved plan; as printed, it runs it.
cp "$root/tests/golden/run/plan-saved-command/runbook.yaml" saved.yaml
run 0 plan --state-dir "saved state" --param port=8080 --param "note=it's" -o saved.json saved.yaml
planned=$(sed -n 's/^drover plan: saved to saved.json; run exactly this plan with: //p' err)
(eval "\"\$drover\" ${planned#drover } -q") >out 2>&1; ok "the command plan -o prints runs the plan: $planned" $?

# "--" ends the options: a file may be called -q.yaml; "-" stays an operand.
cp rb.yaml ./-q.yaml
run 0 validate -- -q.yaml && grep -q '^-q.yaml: ok' out; ok "validate -- -q.yaml validates the file" $?
run 0 validate --quiet -- rb.yaml -q.yaml && [ ! -s out ]; ok "validate --quiet -- FILE FILE" $?
# POSIXLY_CORRECT does not change drover's command line.
POSIXLY_CORRECT=1 run 0 validate rb.yaml --quiet && [ ! -s out ]; ok "options after FILE with POSIXLY_CORRECT set" $?

# The other mistakes are one message each too.
run 2 validate rb.yaml --format && [ "$(head -1 err)" = "drover validate: option '--format' needs a value" ]
ok "a missing value: one message" $?
run 2 validate --quiet=yes rb.yaml && [ "$(head -1 err)" = "drover validate: option '--quiet' takes no value" ]
ok "a value for a flag: one message" $?
run 2 run rb.yaml --st x && [ "$(head -1 err)" = "drover run: ambiguous option '--st' (--state-dir, --stdlib)" ]
ok "an ambiguous abbreviation names the candidates" $?
# plan takes --state FILE (a simulator state) and --state-dir DIR; run only the latter: getopt took `run --state F` for
# --state-dir F, and the run used a state directory named after the file
run 2 run rb.yaml --state sim.json && [ ! -e sim.json ] &&
	[ "$(head -1 err)" = "drover run: unknown option '--state'; did you mean '--state-dir'? (long options are written in full)" ]
ok "a shortened long option is refused, naming the option it began (run --state was taken for --state-dir)" $?
run 2 plan rb.yaml --est && [ "$(head -1 err)" = "drover plan: unknown option '--est'; did you mean '--estimate'? (long options are written in full)" ]
ok "...in every command (plan --est)" $?
run 0 validate --format=json rb.yaml; ok "a long option written in full with =VALUE is taken" $?
run 2 validate --fromat json rb.yaml &&
	[ "$(head -1 err)" = "drover validate: unknown option '--fromat'; did you mean '--format'?" ]
ok "a misspelt option gets a suggestion" $?
run 2 --bogus && [ "$(head -1 err)" = "drover: unknown option '--bogus'" ]; ok "drover --bogus: unknown option" $?

# Output that cannot be written (a full disk: /dev/full) is never a silent success: exit 3 and one
# line on stderr saying what is incomplete and what is not.
full() { # full WHAT drover-args...: standard output to /dev/full
	local what=$1; shift
	"$drover" "$@" >/dev/full 2>err </dev/null
	local rc=$?
	[ $rc = 3 ] && grep -q "^drover $what: standard output could not be written ([^)]*): what it printed there is incomplete" err
	local r=$?
	[ $r = 0 ] || { echo "    exit $rc: drover $* >/dev/full"; sed 's/^/      /' err | head -4; }
	return $r
}
full validate validate rb.yaml && grep -q "Nothing else depends on that output" err
ok "validate >/dev/full: exit 3, says so, and that nothing depends on it" $?
full plan plan --state-dir full rb.yaml; ok "plan >/dev/full: exit 3, says so" $?
full graph graph rb.yaml; ok "graph >/dev/full: exit 3, says so" $?
full schema schema; ok "schema >/dev/full: exit 3, says so" $?
full runs runs --state-dir life; ok "runs >/dev/full: exit 3, says so" $?
full status status --state-dir life; ok "status >/dev/full: exit 3, says so" $?
full help --help; ok "drover --help >/dev/full: exit 3, says so" $?
full run run -q --yes --state-dir full rb.yaml && grep -q "The run is as its journal says" err
ok "run >/dev/full: exit 3, and the run is as its journal says" $?
full drill drill -q --yes --state-dir full3 rb.yaml && grep -q "The run is as its journal says" err
ok "drill >/dev/full: exit 3, and the drill is as its journal says (the CLI table says it is journaled)" $?
run 3 run -q --yes --state-dir full2 --events /dev/full rb.yaml &&
	grep -q "^drover run: the events file '/dev/full' is incomplete: a write to it failed" err &&
	grep -q "(drover status --state-dir full2 shop-failover-20260101T000000Z)" err
ok "run --events /dev/full: exit 3, the events file is incomplete, drover status shows the run" $?
"$drover" runs --state-dir life 2>err | head -1 >/dev/null; [ ! -s err ]; ok "runs | head -1: a reader that stops early is no error" $?

# A state directory drover may not read is not one without runs (as another user when run as root).
mkdir -p locked/runs/r1; chmod 711 "$tmp"; chmod 000 locked
as_other() { if [ "$(id -u)" = 0 ]; then chown 65534 locked; setpriv --reuid=65534 --regid=65534 --clear-groups "$@"; else "$@"; fi; }
as_other "$drover" runs --state-dir locked >out 2>err; rc=$?
[ $rc = 2 ] && grep -q "^drover runs: cannot read the runs in locked/runs: Permission denied; nothing was changed" err && [ ! -s out ]
ok "runs in an unreadable state directory: exit 2, says it cannot read it (not 'no runs')" $?
as_other "$drover" status --state-dir locked >out 2>err; rc=$?
[ $rc = 2 ] && grep -q "cannot read the runs in locked/runs: Permission denied" err; ok "status (the latest run) says so too" $?
as_other "$drover" status --state-dir locked r1 >out 2>err; rc=$?
[ $rc = 2 ] && grep -q "Permission denied" err && ! grep -q "no run 'r1'" err; ok "status RUN-ID says so too (not 'no run')" $?
as_other "$drover" resume --state-dir locked r1 >out 2>err; rc=$?
[ $rc = 2 ] && grep -q "^drover resume: cannot read the journal of run r1, locked/runs/r1/journal.jsonl: Permission denied. Nothing was read or changed: the run is as its last session left it. Resume it as the user that ran it" err &&
	grep -q "then resume again (drover resume --state-dir locked r1)$" err
ok "resume of a journal it may not read: which file, why, that nothing changed, what to do; exit 2 (not 'no run')" $?
chmod 700 locked "$tmp"

# An output file whose folder is missing (a typo) is refused before anything runs: exit 2, the option and the
# file named, no folder made, no run journaled (a drill must not run for an hour and then lose its evidence).
typo() { # typo OPTION-AS-NAMED drover-args...: the last output option names nosuch/x
	local opt=$1; shift
	run 2 "$@" && grep -q "^drover $1: $opt 'nosuch/x[.a-z]*': the folder 'nosuch' does not exist, and drover makes folders only in its state directory" err &&
		[ ! -e nosuch ] && [ ! -d typo/runs ]
}
typo --report run --yes --state-dir typo --report nosuch/x.json rb.yaml; ok "run --report nosuch/x.json: exit 2, nothing run or made" $?
typo --report drill --yes --state-dir typo rb.yaml --report nosuch/x.html; ok "drill --report after FILE: the same" $?
typo --metrics failback --yes --state-dir typo --metrics nosuch/x.prom rb.yaml; ok "failback --metrics: the same" $?
typo --events run --yes --state-dir typo --events nosuch/x rb.yaml; ok "run --events: the same" $?
typo --report resume --yes --state-dir life --report nosuch/x.md shop-failover-20260101T000000Z; ok "resume --report: the same" $?
typo --metrics resume --yes --state-dir life --metrics nosuch/x.prom shop-failover-20260101T000000Z; ok "resume --metrics: the same" $?
typo -o plan --state-dir typo -o nosuch/x.json rb.yaml && [ ! -s out ]; ok "plan -o: the same, no plan printed" $?
typo --metrics plan --state-dir typo --metrics nosuch/x.prom rb.yaml; ok "plan --metrics: the same" $?
typo -o report --state-dir life -o nosuch/x.json; ok "report -o: the same" $?
for opt in --port-file --audit; do # the emulator serves until stopped: a timeout stands for "it started"
	timeout 10 "$drover" emulator "$opt" nosuch/x >out 2>err </dev/null; rc=$?
	[ $rc = 2 ] && grep -q "^drover emulator: $opt 'nosuch/x': the folder 'nosuch' does not exist" err && [ ! -e nosuch ]
	ok "emulator $opt nosuch/x: exit 2 before it listens, no folder made" $?
done
grep -q "Nothing was run.$" <(run 2 run --yes --state-dir typo --report nosuch/x.json rb.yaml; cat err) &&
	grep -q "Nothing was written.$" <(run 2 plan -o nosuch/x.json rb.yaml; cat err)
ok "...and says nothing was run (a run) or written (plan, report)" $?
run 2 run --yes --state-dir typo --events . rb.yaml && grep -q "^drover run: --events '.': that is a folder: name a file in it" err
ok "run --events FOLDER: exit 2, says it is a folder" $?
mkdir -p ro && chmod 555 ro && chmod 711 "$tmp"
if [ "$(id -u)" = 0 ]; then ro_run() { setpriv --reuid=65534 --regid=65534 --clear-groups "$drover" "$@"; }; else ro_run() { "$drover" "$@"; }; fi
ro_run plan -o ro/x.json rb.yaml >out 2>err; rc=$?
[ $rc = 2 ] && grep -q "^drover plan: -o 'ro/x.json': cannot write in the folder 'ro' (Permission denied)" err && [ ! -s out ]
ok "plan -o into a folder drover may not write in: exit 2, says so" $?
chmod 700 ro "$tmp"
"$drover" run -q --yes --state-dir typo --report "$tmp/ok.json" --metrics ./ok.prom --events ok.jsonl rb.yaml >/dev/null 2>err &&
	[ -s ok.json ] && [ -s ok.prom ] && [ -s ok.jsonl ]
ok "run --report /abs, --metrics ./rel, --events bare: written" $?
"$drover" run -q --yes --state-dir own --report own/reports/r.html --metrics ./own/metrics/m.prom rb.yaml >/dev/null 2>err &&
	[ -s own/reports/r.html ] && [ -s own/metrics/m.prom ] && [ "$(stat -c %a own/reports)" = 700 ]
ok "folders in the state directory (its own tree) are made, owner-only, as the systemd and Kubernetes examples expect" $?

# An output path that is a device or a link (/dev/null, /dev/stdout) is written through, not replaced: as root the
# old rename made /dev/null a file on the whole machine. A link stands for /dev/stdout (its target is this shell's
# standard output, a file here), so the old binary breaks only the link; as an unprivileged user /dev/null itself.
ln -s /proc/self/fd/1 my-stdout
"$drover" plan --state-dir devout --metrics my-stdout rb.yaml >both.out 2>err &&
	[ -L my-stdout ] && grep -q "^plan shop-failover: failover" both.out && grep -q "^drover_readiness_check_ok{.*} 1$" both.out
ok "plan --metrics to /dev/stdout (a link to it) redirected to a file: the plan's text and the metrics, the link kept" $?
nobody=$(mktemp -d) && cp rb.yaml "$nobody/" && chmod 755 "$nobody"
if [ "$(id -u)" = 0 ]; then as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups "$drover" "$@"; }; else as_user() { "$drover" "$@"; }; fi
(cd "$nobody" && as_user plan --state-dir /nonexistent-state -o /dev/null --metrics /dev/null rb.yaml >/dev/null 2>"$tmp/err"); rc=$?
rm -rf "$nobody"
[ $rc = 0 ] && [ -c /dev/null ] || { echo "    exit $rc"; head -3 err; false; }
ok "plan -o /dev/null --metrics /dev/null as an unprivileged user: written (its folder /dev is not writable), /dev/null a device" $?

# A new user cancels a run (Ctrl-C), then runs the runbook again rather than resuming it: the refusal (the VMs
# are failed over) says that drover resume goes on with the cancelled run, with its command.
DROVER_TEST_SIGNAL_AT=10m "$drover" run -q --yes --state-dir again rb.yaml >/dev/null 2>&1; rc=$?
run 1 run -q --yes --state-dir again rb.yaml && [ $rc = 4 ] &&
	grep -q "^drover run: the last run of this runbook, shop-failover-20260101T000000Z (failover), ended cancelled: to go on with it from where it stopped, run drover resume --state-dir again shop-failover-20260101T000000Z (what completed" err
ok "run again after a cancelled run: refused, and says drover resume goes on with it (the command)" $?
run 1 run -q --yes --state-dir again rb.yaml && grep -q "^drover run: the last run of this runbook, shop-failover-20260101T000000Z (failover)" err
ok "...and again after that refusal (a refused run is not the one to resume)" $?
run 2 resume --state-dir again && grep -q "^drover resume: which run?" err &&
	grep -q "^drover resume: the last run here, shop-failover-20260101T000000Z (shop-failover, failover), ended cancelled: to go on with it from where it stopped, run drover resume --state-dir again shop-failover-20260101T000000Z" err
ok "resume without a run: a usage error (exit 2) that names the run to go on with, in that --state-dir" $?
"$drover" resume -q --yes --state-dir again shop-failover-20260101T000000Z >/dev/null 2>&1 && run 1 run -q --yes --state-dir again rb.yaml &&
	! grep -q "the last run of this runbook" err
ok "...not once that run has succeeded (resumed): nothing to go on with" $?

# drover resume of a journal it cannot take up says which file, what is wrong, the state, what to do (exit 2).
printf 'drover: 1\nname: fine\nsteps:\n  - { id: a, action: log, with: { message: hi } }\n' >one.yaml
"$drover" run -q --state-dir bad --run-id b1 one.yaml >/dev/null 2>&1
mv bad/runs/b1/journal.jsonl bad/j && mkdir bad/runs/b1/journal.jsonl
run 2 resume --state-dir bad b1 &&
	grep -q "^drover resume: the journal of run b1, bad/runs/b1/journal.jsonl, is not a file (a directory or another kind of file is in its place): nothing was read or changed. Put the journal back (from a copy), then resume again (drover resume --state-dir bad b1)$" err
ok "resume with a directory in place of the journal: says so, nothing changed, how to go on; exit 2" $?
rmdir bad/runs/b1/journal.jsonl
run 2 resume --state-dir bad b1 && grep -q "^drover resume: run 'b1' has no journal: bad/runs/b1/journal.jsonl is missing" err && ! grep -q "no run 'b1'" err
ok "resume of a run whose journal is gone: says so (not 'no run')" $?
{ echo '{not json'; tail -n +2 bad/j; } >bad/runs/b1/journal.jsonl
run 2 resume --state-dir bad b1 && grep -q "^drover resume: bad/runs/b1/journal.jsonl:1: the journal is corrupted: line 1 " err &&
	grep -q "restore the file from a copy, or look at what the run did in the service and start a new run\. Nothing was resumed\.$" err
ok "resume of a journal whose first line is damaged: the file and line, what to do, nothing resumed; exit 2" $?

# drover --help names the manual where it is: installed, or in the checkout.
"$drover" --help | grep -q "man drover (after make install; in a checkout: man docs/drover.1)" && [ -f "$root/docs/drover.1" ]
ok "drover --help says where the manual is before make install" $?

# The README says where the binary is after `make demo`, and that path is the one make builds.
grep -q '^build/default/drover validate examples/quickstart.yaml$' "$root/README.md" && grep -q 'make install' "$root/README.md" &&
	[ "$(make -s -C "$root" --no-print-directory -p -n VARIANT=default 2>/dev/null | sed -n 's/^DROVER := //p' | head -1)" = build/default/drover ]
ok "the README names the binary make builds (build/default/drover) and how to install it" $?

echo "cli: $pass passed, $fail failed"
[ $fail = 0 ]
