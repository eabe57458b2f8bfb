#!/usr/bin/env bash
# Golden tests: one folder per case under tests/golden/<stage>/<case>/.
#
#   runbook.yaml ...    the inputs (any files the case needs)
#   args                drover's arguments, one per line (default: validate, runbook.yaml)
#   env                 optional VAR=value lines added to the environment
#   before              optional bash script run first, in the case folder with the same environment
#                       and DROVER set to the binary, to make state for the run (e.g. a run that fails,
#                       for a resume); its output is discarded, and it must exit 0
#   expected.stdout     expected standard output
#   expected.stderr     expected standard error
#   expected.exit       expected exit status
#
# drover runs with NO_COLOR=1 inside a scratch copy of the case folder (same relative paths, under a
# temporary directory), so that no case can change the repository: not a run's .drover/, not a
# fixture such as journal/strict-header/state that a lenient reader might rewrite. Usage:
#   tests/golden/run.sh DROVER [CASE_DIR...]      compare
#   UPDATE=1 tests/golden/run.sh DROVER [...]     rewrite the expectations
# Prints one line per failure and ends with "N passed, N failed".
set -u
drover=$(realpath "$1"); shift
root=$(cd "$(dirname "$0")" && pwd)
if [ $# -eq 0 ]; then
	mapfile -t cases < <(find "$root" -mindepth 2 -maxdepth 2 -type d | sort)
else
	cases=("$@")
fi
pass=0 fail=0 before_rc=0
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# run_case SRC NAME: run the case SRC in a fresh copy of it, $tmp/case/NAME (read-only for the case: only
# the copy is written; the expectations are read from, and UPDATE=1 writes them to, SRC).
run_case() {
	local dir=$tmp/case/$2 args=() envs=()
	rm -rf "$tmp/case" && mkdir -p "$(dirname "$dir")" && cp -a "$1" "$dir" || { before_rc=125; return; }
	rm -rf "$dir/.drover" # runs keep their journal in .drover/ (docs/journal.md): every case starts afresh
	if [ -f "$dir/args" ]; then mapfile -t args < "$dir/args"; else args=(validate runbook.yaml); fi
	[ -f "$dir/env" ] && mapfile -t envs < "$dir/env"
	before_rc=0
	if [ -f "$dir/before" ]; then
		(cd "$dir" && env NO_COLOR=1 DROVER="$drover" DROVER_STDLIB="${DROVER_STDLIB_GOLDEN:-$root/../../stdlib}" \
			"${envs[@]}" bash ./before >"$tmp/before" 2>&1 </dev/null) || before_rc=$?
	fi
	(cd "$dir" && env NO_COLOR=1 DROVER_STDLIB="${DROVER_STDLIB_GOLDEN:-$root/../../stdlib}" "${envs[@]}" \
		"$drover" "${args[@]}" >"$tmp/stdout" 2>"$tmp/stderr" </dev/null; echo $? >"$tmp/exit")
}

for dir in "${cases[@]}"; do
	dir=${dir%/}
	name=${dir#"$root"/}
	run_case "$dir" "$name"
	if [ "$before_rc" != 0 ]; then
		echo "FAIL $name: its 'before' script exited $before_rc"; sed 's/^/    /' "$tmp/before" | tail -20
		fail=$((fail + 1))
		continue
	fi
	if [ "${UPDATE:-0}" = 1 ]; then
		for f in stdout stderr exit; do cp "$tmp/$f" "$dir/expected.$f"; done
		pass=$((pass + 1))
		continue
	fi
	ok=1
	for f in stdout stderr exit; do
		if [ ! -f "$dir/expected.$f" ]; then
			echo "FAIL $name: expected.$f is missing (run with UPDATE=1 and review)"; ok=0
		elif ! diff -u "$dir/expected.$f" "$tmp/$f" >"$tmp/diff" 2>&1; then
			echo "FAIL $name: $f differs"; sed 's/^/    /' "$tmp/diff" | head -40; ok=0
		fi
	done
	if [ $ok = 1 ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "golden: $pass passed, $fail failed"
[ $fail = 0 ]
