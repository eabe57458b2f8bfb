#!/bin/sh
# bench/bench_reports.sh BUILD_DIR - how long `drover report` takes for a run of N VMs, in each
# format, at two sizes, and the growth exponent between them (issue 13: a 1,000-VM run's reports
# in under a second). Each size is one run of bench/gen_waves.sh's runbook (N VMs in 5 waves,
# failover and validation per VM) on the simulator's virtual clock; then each format is written
# RUNS times from the run's journal and the median is printed. It prints figures; it is not a
# test (it says MISS for a missed target and still exits 0).
#
# Environment: RUNS (default 3), SMALL (1000), LARGE (4000).
set -eu
BUILD=${1:?usage: bench/bench_reports.sh BUILD_DIR}
RUNS=${RUNS:-3}
SMALL=${SMALL:-1000}
LARGE=${LARGE:-4000}
cd "$(dirname "$0")/.."
DROVER=$PWD/$BUILD/drover
OUT=$(mktemp -d "$PWD/$BUILD/bench-reports.XXXXXX")
trap 'rm -rf "$OUT"' EXIT

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# median_ms N FORMAT: the median time of RUNS reports of the run of N VMs
median_ms() {
	i=0
	while [ $i -lt "$RUNS" ]; do
		t0=$(now_ms)
		"$DROVER" report --state-dir "$OUT/s$1" --format "$2" -o "$OUT/r$1.$2" >/dev/null
		echo $(( $(now_ms) - t0 ))
		i=$((i + 1))
	done | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'
}

for n in "$SMALL" "$LARGE"; do
	bench/gen_waves.sh "$n" 5 >"$OUT/waves$n.yaml"
	t0=$(now_ms)
	"$DROVER" run -q --yes --state-dir "$OUT/s$n" "$OUT/waves$n.yaml" >/dev/null 2>&1 || {
		echo "bench_reports: the $n-VM run failed"; exit 1; }
	echo "run of $n VMs (virtual clock): $(( $(now_ms) - t0 )) ms; its journal: $(find "$OUT/s$n/runs" -type f -name 'journal*' -exec cat {} + | wc -c) bytes"
	find "$OUT/s$n/runs" -type f -name 'journal*' -exec grep -h '"event":"run.objectives"' {} + | wc -c >"$OUT/obj$n"
done
# run.objectives: one record per run, which names the worst VMs only (issue 11: it listed every VM, 1.6 MB at 10,000)
awk -v a="$(cat "$OUT/obj$SMALL")" -v b="$(cat "$OUT/obj$LARGE")" -v s="$SMALL" -v l="$LARGE" 'BEGIN {
	e = (a > 0 && b > 0) ? log(b / a) / log(l / s) : 0
	printf "run.objectives record: %d bytes at %d VMs, %d bytes at %d VMs, exponent %.2f   target: 0 (the same size at any estate)  %s\n",
		a, s, b, l, e, e < 0.1 ? "ok" : "MISS" }'
# the JUnit report's size, and its objectives suite's (one check for every VM's RPO: the same at any estate)
for n in "$SMALL" "$LARGE"; do
	"$DROVER" report --state-dir "$OUT/s$n" --format junit -o "$OUT/size$n.xml" >/dev/null
	wc -c <"$OUT/size$n.xml" >"$OUT/jb$n"
	awk '/<testsuite name="objectives"/,/<\/testsuite>/' "$OUT/size$n.xml" >"$OUT/js$n"
	wc -c <"$OUT/js$n" >"$OUT/jo$n"
	grep -c '<testcase' "$OUT/js$n" >"$OUT/jc$n" || true
done
awk -v a="$(cat "$OUT/jb$SMALL")" -v b="$(cat "$OUT/jb$LARGE")" -v oa="$(cat "$OUT/jo$SMALL")" -v ob="$(cat "$OUT/jo$LARGE")" \
	-v ca="$(cat "$OUT/jc$SMALL")" -v cb="$(cat "$OUT/jc$LARGE")" -v s="$SMALL" -v l="$LARGE" 'BEGIN {
	g = log(l / s)
	printf "JUnit report: %d bytes at %d VMs, %d at %d VMs, exponent %.2f   (a testcase per task: linear)\n", a, s, b, l, log(b / a) / g
	e = log(ob / oa) / g
	printf "JUnit objectives suite: %d bytes, %d testcases at %d VMs; %d bytes, %d testcases at %d VMs; exponent %.2f   target: 0  %s\n",
		oa, ca, s, ob, cb, l, e, e < 0.1 ? "ok" : "MISS" }'
echo
printf '%-9s %10s %10s %9s   %s\n' format "${SMALL} VMs" "${LARGE} VMs" exponent "target: ${SMALL} VMs < 1000 ms"
for f in json junit markdown html; do
	a=$(median_ms "$SMALL" "$f")
	b=$(median_ms "$LARGE" "$f")
	awk -v f="$f" -v a="$a" -v b="$b" -v s="$SMALL" -v l="$LARGE" 'BEGIN {
		e = (a > 0 && b > 0) ? log(b / a) / log(l / s) : 0
		printf "%-9s %7d ms %7d ms %9.2f   %s\n", f, a, b, e, a < 1000 ? "ok" : "MISS" }'
done
# Every read of a journal (report, status, resume) reads the header's runbook shape back: linear in the steps
# (bench/bench_shape.c; a shape of 2,070 steps, bench's 10,000-VM runbook, took 145 ms, growth 2.0, before)
BIN=$PWD/$BUILD/bench
. bench/lib.sh
bench_link bench_shape
"$BIN/bench_shape"
