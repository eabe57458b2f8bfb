#!/usr/bin/env bash
# The whole test suite for one build variant: unit tests (cmocka), golden
# cases, consistency checks (schema, docs, diagnostics) and every shipped
# runbook. Ends with the line "N passed, N failed".
#
#   tests/run-all.sh build/default          everything
#   tests/run-all.sh build/tsan unit        only the unit tests
set -u
B=$1; only=${2:-all}
cd "$(dirname "$0")/.."
drover=$B/drover
pass=0 fail=0
log=$(mktemp); trap 'rm -f "$log"' EXIT

count() { # count NAME STATUS
	if [ "$2" = 0 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); echo "FAIL: $1"; fi
}

unit_tests() {
	local t p f up=0 uf=0
	for t in "$B"/tests/test_*; do
		[ -x "$t" ] || continue
		"$t" >"$log" 2>&1
		local rc=$?
		p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
		f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log" | awk '{s+=$1} END {print s+0}')
		if [ "$rc" != 0 ] && [ "$f" = 0 ]; then f=1; fi # crashed or sanitizer report
		pass=$((pass + p)); fail=$((fail + f)); up=$((up + p)); uf=$((uf + f))
		if [ "$rc" != 0 ]; then echo "FAIL: $(basename "$t")"; grep -E 'FAILED|ERROR|error|Sanitizer' "$log" | head -20; fi
	done
	echo "unit: $up passed, $uf failed"
}

golden_tests() {
	tests/golden/run.sh "$drover" >"$log" 2>&1
	grep -v '^golden:' "$log"
	local line; line=$(grep '^golden:' "$log")
	echo "$line"
	pass=$((pass + $(echo "$line" | sed -n 's/.* \([0-9]*\) passed.*/\1/p')))
	fail=$((fail + $(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')))
}

# script_tests NAME SCRIPT [ARGS...]: a test script, given drover and ARGS, that ends with "NAME: N passed, M failed"
script_tests() {
	"$2" "$drover" "${@:3}" >"$log" 2>&1
	grep -v "^$1: [0-9]* passed" "$log"
	local line; line=$(grep "^$1: [0-9]* passed" "$log")
	[ -n "$line" ] || line="$1: 0 passed, 1 failed ($2 did not finish)"
	echo "$line"
	pass=$((pass + $(echo "$line" | sed -n 's/.* \([0-9]*\) passed.*/\1/p')))
	fail=$((fail + $(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')))
}

shipped_runbooks() {
	local f
	for f in examples/*.yaml runbooks/*.yaml stdlib/*.yaml; do
		[ -f "$f" ] || continue
		NO_COLOR=1 "$drover" validate --quiet "$f" >"$log" 2>&1
		local rc=$?
		[ $rc = 0 ] || cat "$log"
		count "validate $f" $rc
	done
}

consistency() {
	local rc
	docs/generate.sh "$drover" --check; rc=$?
	count "generated docs are fresh (schema, actions, language reference, diagnostics)" $rc
	tests/check-diagnostics.sh >"$log" 2>&1; rc=$?
	[ $rc = 0 ] || cat "$log"
	count "every diagnostic code is documented and tested" $rc
	tests/check-doc-events.sh >"$log" 2>&1; rc=$?
	[ $rc = 0 ] || cat "$log"
	count "docs/events.md: every event has a row in a table, the example is a golden stream's" $rc
	tests/golden/check-runner.sh "$drover" >"$log" 2>&1; rc=$?
	[ $rc = 0 ] || cat "$log"
	count "the golden runner runs each case in a scratch copy: the repository's fixtures stay as they are" $rc
	tests/check-man.sh >"$log" 2>&1; rc=$?
	[ $rc = 0 ] || cat "$log"
	count "the man page: mandoc-clean, dated, the installed PREFIX, every environment variable" $rc
	tests/check-doc-examples.sh "$drover" >"$log" 2>&1; rc=$?
	[ $rc = 0 ] || cat "$log"
	count "every complete YAML example in docs/ validates" $rc
	node tests/check-doc-tutorial.mjs "$drover" >"$log" 2>&1; rc=$?
	[ $rc = 0 ] || cat "$log"
	count "docs/tutorial.md: every command, run in order from a fresh copy of examples/, prints what the page shows" $rc
}

# The crash-torture test, quick: SIGKILL drover at >= 20 points of a DR plan, resume, check the simulator.
torture_test() {
	"$B/tests/torture" --drover "$drover" --plan tests/torture/plan.yaml --seeds 32 --min-kills 20 \
		--work "$B/torture-quick" >"$log" 2>&1
	torture_count $?
	"$B/tests/torture" --drover "$drover" --plan tests/torture/rollback.yaml --seeds 8 --expect-active Primary \
		--op failover --op cancel_failover --expect-exit 1 --expect-status rolled_back \
		--work "$B/torture-quick" >"$log" 2>&1
	torture_count $?
}

torture_count() { # torture_count EXIT: the tally of the run in $log
	local rc=$1 line p f
	grep -v '^torture:' "$log"
	line=$(grep '^torture: [0-9]* seeds' "$log")
	echo "${line:-torture: did not run}"
	p=$(echo "$line" | sed -n 's/.* \([0-9]*\) passed.*/\1/p'); f=$(echo "$line" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-1}))
	if [ "$rc" != 0 ] && [ "${f:-1}" = 0 ]; then fail=$((fail + 1)); echo "FAIL: torture: too few kill points"; fi
}

unit_tests
if [ "$only" = all ]; then
	golden_tests
	torture_test
	script_tests e2e tests/e2e/run.sh
	script_tests cli tests/cli/run.sh # every command's options, before and after its operands
	script_tests evidence tests/evidence/run.sh # reports, metrics, CI formats, scheduling examples
	script_tests security tests/security/run.sh # issue 10: the lock, the state directory, secrets, the terminal
	script_tests login tests/login/run.sh "$B/tests/rdp_responder" # check.ssh, check.rdp against real servers
	script_tests emulator tests/emulator/run.sh # issue 9: the emulator on loopback, driven with curl
	script_tests azure tests/azure/run.sh # issue 9: the Azure backend end to end against the emulator
	script_tests editor tests/editor/run.sh # the JSON Schema in ajv (strict) and yaml-language-server
	script_tests screen tests/screen/run.sh # the live screen of 1,000 VMs under a real terminal (tmux)
	shipped_runbooks
	consistency
fi
echo "$pass passed, $fail failed"
[ $fail = 0 ]
