#!/bin/sh
# bench/bench_run.sh BUILD_DIR - runs at two sizes of estate (issue 11; plans: bench/bench_plan.sh):
#
#   no-op steps   N independent log steps through `drover run` (virtual clock, journal on): CPU per
#                 step, journal bytes per task attempt; N = 5,000 and 10,000 (bench/gen_shapes.c wide)
#   lifecycle     a failover of N simulated VMs in 5 dependent waves (bench/gen_waves.sh), virtual
#                 clock: CPU, peak RSS, the journal's fdatasyncs and writes (DROVER_JOURNAL_STATS);
#                 N = 5,000 and 10,000
#
# Each prints the figure at both sizes, the growth exponent, and the target. `make bench` runs
# it. It prints figures; a missed target says MISS and it still exits 0.
# Environment: RUNS (3 per figure), CC (cc).
set -eu

BUILD=${1:?usage: bench/bench_run.sh BUILD_DIR}
CC=${CC:-cc}
cd "$(dirname "$0")/.."
BIN=$BUILD/bench
OUT=bench/out/run
DROVER=$(pwd)/$BUILD/drover
mkdir -p "$BIN" "$OUT"
. bench/lib.sh
bench_tool gen_shapes
bench_tool rss_time
DROVER_STDLIB=$PWD/stdlib
export DROVER_STDLIB

# run_in NAME RUNBOOK: measure a run in a fresh state directory; NAME_stats: the journal's line
run_in() {
	# each run on a fresh state directory (a second failover of the same VMs would be refused)
	measure "$1" sh -c 'rm -rf "$1" && exec env DROVER_JOURNAL_STATS=1 "$2" run -q --yes --clock virtual --state-dir "$1" "$3"' \
		sh "$OUT/$1.state" "$DROVER" "$2"
	rm -rf "$OUT/$1.state"
	DROVER_JOURNAL_STATS=1 "$DROVER" run -q --yes --clock virtual --state-dir "$OUT/$1.state" "$2" \
		>/dev/null 2>"$OUT/$1.err" || true
	eval "$1_stats=\"\$(sed -n 's/^journal stats: //p' \"\$OUT/\$1.err\")\""
	eval "$1_journal=\$(cat \"\$OUT/\$1.state\"/runs/*/journal.jsonl | wc -c)"
	eval "$1_syncs=\$(sed -n 's/^journal stats: .* \\([0-9]*\\) syncs, .*/\\1/p' \"\$OUT/\$1.err\")"
}

echo "drover bench: runs and plans at two sizes (CPU ms = user + sys, median of $RUNS; RSS = peak MiB)"

"$BIN/gen_shapes" wide 5000 >"$OUT/noop-a.yaml"
"$BIN/gen_shapes" wide 10000 >"$OUT/noop-b.yaml"
run_in noa "$OUT/noop-a.yaml"
run_in nob "$OUT/noop-b.yaml"
row "no-op steps through drover run" 5000 10000 "$noa_cpu" "$nob_cpu" ms
echo "  exit statuses: $noa_exit $nob_exit"
us_step=$(awk -v c="$nob_cpu" 'BEGIN { printf "%.1f", c * 1000 / 10000 }')
b_task=$(awk -v b="$nob_journal" 'BEGIN { printf "%.0f", b / 10000 }')
us_marginal=$(awk -v a="$noa_cpu" -v b="$nob_cpu" 'BEGIN { printf "%.1f", (b - a) * 1000 / 5000 }')
task_recs=$(cat "$OUT"/nob.state/runs/*/journal.jsonl | awk '/"event":"task\.(start|end)"/ { s += length($0) + 1 } END { printf "%.0f", s / 10000 }')
echo "  10000 steps: $us_step us per step (whole process: load, plan, run, journal; $us_marginal us per step added from 5000 to 10000)"
echo "  journal $nob_journal bytes: $b_task per task attempt, of which $task_recs in its task.start and task.end lines (journal format 3 folds a one-task step's step.start and step.end into them; the rest: the header, mostly its shape)"
echo "  journal stats: $nob_stats"

bench/gen_waves.sh 5000 5 >"$OUT/waves-a.yaml"
bench/gen_waves.sh 10000 5 >"$OUT/waves-b.yaml"
run_in wva "$OUT/waves-a.yaml"
run_in wvb "$OUT/waves-b.yaml"
row "failover in 5 waves (VMs), CPU" 5000 10000 "$wva_cpu" "$wvb_cpu" ms
echo "  exit statuses: $wva_exit $wvb_exit"
row "failover in 5 waves (VMs), memory" 5000 10000 "$wva_rss" "$wvb_rss" MB
echo "  10000 VMs: 20000 tasks, $wvb_syncs fdatasyncs; journal stats: $wvb_stats"

lin() { le "$(growth "$1" "$2" "$3" "$4")" 1.25; }
echo "targets (issue 11; growth 'linear' = exponent <= 1.25):"
printf '  %-46s %-22s %s\n' "no-op step <= 20 us" "$us_step us" "$(verdict "$(le "$us_step" 20)")"
printf '  %-46s %-22s %s\n' "<= 200 journal bytes per task attempt" "$b_task" "$(verdict "$(le "$b_task" 200)")"
printf '  %-46s %-22s %s\n' "10,000-VM failover <= 3 s CPU" "$wvb_cpu ms" "$(verdict "$(le "$wvb_cpu" 3000)")"
printf '  %-46s %-22s %s\n' "10,000-VM failover <= 100 MB" "$wvb_rss MB" "$(verdict "$(le "$wvb_rss" 100)")"
printf '  %-46s %-22s %s\n' "fdatasyncs << tasks (<= 1% of 20,000)" "$wvb_syncs" "$(verdict "$(le "$wvb_syncs" 200)")"
printf '  %-46s %-22s %s\n' "failover linear" "growth $(growth "$wva_cpu" "$wvb_cpu" 5000 10000)" "$(verdict "$(lin "$wva_cpu" "$wvb_cpu" 5000 10000)")"
