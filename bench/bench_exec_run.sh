#!/bin/sh
# bench/bench_exec_run.sh BUILD_DIR - 500 `exec` tasks of /bin/true through
# `drover run` (issue 3): milliseconds per task, sequential (concurrency 1)
# and with the default worker pool. Prints figures; exits 0 even on a MISS.
#
# Environment: TASKS (500), RUNS (3).
set -eu
BUILD=${1:?usage: bench/bench_exec_run.sh BUILD_DIR}
TASKS=${TASKS:-500}
RUNS=${RUNS:-3}
cd "$(dirname "$0")/.."
out=bench/out
mkdir -p "$out"
rb=$out/exec500.yaml
{
	echo "drover: 1"
	echo "name: exec-bench"
	echo "steps:"
	i=0
	while [ $i -lt "$TASKS" ]; do
		echo "  - { id: t$i, action: exec, with: { argv: [/bin/true] } }"
		i=$((i + 1))
	done
} > "$rb"
ms() { date +%s%3N; }
run() { # run CONCURRENCY -> best wall ms of RUNS
	best=
	r=0
	while [ $r -lt "$RUNS" ]; do
		t0=$(ms)
		"$BUILD/drover" run --quiet --concurrency "$1" --state-dir "$out/state" "$rb" >/dev/null 2>&1 ||
			{ echo "bench: drover run failed" >&2; exit 1; }
		t=$(( $(ms) - t0 ))
		if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best=$t; fi
		r=$((r + 1))
	done
	echo "$best"
}
seq_ms=$(run 1)
par_ms=$(run 16)
echo "drover bench: $TASKS exec tasks of /bin/true through drover run (best of $RUNS, whole process)"
awk -v n="$TASKS" -v s="$seq_ms" -v p="$par_ms" 'BEGIN {
	printf "  concurrency 1    %6d ms   %.2f ms per task\n", s, s / n
	printf "  concurrency 16   %6d ms   %.2f ms per task\n", p, p / n
	printf "target: <= 2 ms per exec task (sequential)   %s\n", (s / n <= 2 ? "PASS" : "MISS")
}'
