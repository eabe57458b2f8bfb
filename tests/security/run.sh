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
# wait_for FILE: until it exists (10 s at most)
wait_for() {
	local i
	for i in $(seq 100); do [ -e "$1" ] && return 0; sleep 0.1; done
	return 1
}

# --- a second run while another holds the lock: busy, exit 5, not "invalid" (2) ----------------
busy() {
	local S=$tmp/busy
	"$drover" run --clock real --state-dir "$S" --run-id first "$here/gate.yaml" >"$tmp/first.out" 2>&1 </dev/null &
	local first=$!
	pids+=("$first")
	wait_for "$S/runs/first/approvals"; ok "the first run waits at its gate" $?
	run_ok 5 run --clock real --state-dir "$S" --run-id second "$here/gate.yaml"; ok "a second run exits 5 (busy)" $?
	grep -q "^busy: run first holds the lock of this runbook and backend (pid $first on " "$tmp/err"
	ok "it says: busy: run first holds the lock (pid, host)" $?
	grep -q "^nothing was run: another run holds the lock" "$tmp/err"; ok "and that nothing ran" $?
	[ ! -e "$S/runs/second" ]; ok "the second run left no run directory" $?
	run_ok 5 run --clock real --state-dir "$S" --events - "$here/gate.yaml"; ok "with --events too" $?
	grep -q '"event":"run.end","status":"busy","exit":5' "$tmp/out"; ok "run.end says status busy, exit 5" $?
	run_ok 0 approve --state-dir "$S" first wait; ok "the first run's gate is answered" $?
	wait "$first"; ok "the first run goes on and succeeds" $?
	pids=()
}

scenarios=(busy)
[ $# -gt 0 ] && scenarios=("$@")
for scenario in "${scenarios[@]}"; do "$scenario"; done
echo "security: $pass passed, $fail failed"
[ $fail = 0 ]
