#!/bin/sh
# bench/bench_reports.sh BUILD_DIR - how long `drover report` takes for a run of N VMs, in each
# format, at two sizes, and the growth exponent between them (issue 13: a 1,000-VM run's reports
# in under a second). Each size is one run of bench/gen_waves.sh's runbook (N VMs in 5 waves,
# failover and validation per VM) on the simulator's virtual clock; then each format is written
# RUNS times from the run's journal and the median is printed. It prints figures; it is not a
# test (it says MISS for a missed target and still exits 0).
#
# Then the memory of each form (peak RSS, CPU) against drover status, for a drill of bench's runbook at
# MEM_SMALL and MEM_LARGE VMs, with growth exponents.
#
# Environment: RUNS (default 3), SMALL (1000), LARGE (4000), MEM_SMALL (2500), MEM_LARGE (10000).
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

# Memory: a drill of bench's runbook (bench/gen_runbook.c) at MEM_SMALL and MEM_LARGE VMs on the simulator's
# virtual clock, its network checks (check.tcp, check.http to 10.64.x.x: some network may answer) made dr.probe,
# which the simulator answers. Its drill cleanup times out on most VMs (gen_runbook sizes it for the drilled sets
# only), so the report has failures and leftovers too. Each form's peak RSS and CPU against `drover status` of the
# same journal: the report reads the same run model and writes as it goes, a task at a time, so its memory is the
# model's (target: <= 1.25x status; what it adds, a flag per task and the objectives per VM, must stay small).
# Before (the whole document built, then the whole text): 640 MB for the JSON at 10,000 VMs, 4.3x status.
BIN=$PWD/$BUILD/bench
. bench/lib.sh
bench_tool gen_runbook
bench_tool rss_time
MEM_SMALL=${MEM_SMALL:-2500}
MEM_LARGE=${MEM_LARGE:-10000}
for n in "$MEM_SMALL" "$MEM_LARGE"; do
	"$BIN/gen_runbook" --vms "$n" --sets $((n / 50)) --steps $((n / 5)) | awk '
		/^    action: check\.(tcp|http)$/ { print "    action: dr.probe"; chk = 1; next }
		chk && /^    with:/ { skip = 1; next }
		skip && /^      / { next }
		{ skip = 0 }
		/^  - id:/ { chk = 0 }
		{ print }' >"$OUT/drill$n.yaml"
	"$DROVER" drill -q --yes --state-dir "$OUT/d$n" "$OUT/drill$n.yaml" >/dev/null 2>&1 || true # it fails: see above
	[ -n "$(find "$OUT/d$n/runs" -name journal.jsonl 2>/dev/null)" ] || { echo "bench_reports: the $n-VM drill left no journal"; exit 1; }
	echo "drill of bench's runbook, $n VMs: $(find "$OUT/d$n/runs" -name journal.jsonl -exec cat {} + | wc -c) bytes of journal," \
		"$(find "$OUT/d$n/runs" -name journal.jsonl -exec cat {} + | grep -c '"event":"task.end"') task ends"
done
echo
echo "peak RSS (MiB) and CPU (ms, user + sys, median of $RUNS) of drover report per form, and of drover status, on the same journal"
printf '%-9s %16s %16s %8s %8s %8s   %s\n' "" "${MEM_SMALL} VMs" "${MEM_LARGE} VMs" "RSS" "CPU" "RSS /" "target: RSS <= 1.25x status"
printf '%-9s %8s %7s %8s %7s %8s %8s %8s\n' command RSS CPU RSS CPU growth growth status
measure st_a "$DROVER" status --state-dir "$OUT/d$MEM_SMALL"
measure st_b "$DROVER" status --state-dir "$OUT/d$MEM_LARGE"
printf '%-9s %8.1f %7.0f %8.1f %7.0f %8s %8s\n' status "$st_a_rss" "$st_a_cpu" "$st_b_rss" "$st_b_cpu" \
	"$(growth "$st_a_rss" "$st_b_rss" "$MEM_SMALL" "$MEM_LARGE")" "$(growth "$st_a_cpu" "$st_b_cpu" "$MEM_SMALL" "$MEM_LARGE")"
for f in json junit markdown html; do
	measure rp_a "$DROVER" report --state-dir "$OUT/d$MEM_SMALL" --format "$f" -o "$OUT/m$MEM_SMALL.$f"
	measure rp_b "$DROVER" report --state-dir "$OUT/d$MEM_LARGE" --format "$f" -o "$OUT/m$MEM_LARGE.$f"
	ratio=$(awk -v a="$rp_b_rss" -v b="$st_b_rss" 'BEGIN { printf "%.2f", a / b }')
	printf '%-9s %8.1f %7.0f %8.1f %7.0f %8s %8s %7sx   %s (%s bytes at %s VMs)\n' "$f" "$rp_a_rss" "$rp_a_cpu" "$rp_b_rss" "$rp_b_cpu" \
		"$(growth "$rp_a_rss" "$rp_b_rss" "$MEM_SMALL" "$MEM_LARGE")" "$(growth "$rp_a_cpu" "$rp_b_cpu" "$MEM_SMALL" "$MEM_LARGE")" \
		"$ratio" "$(verdict "$(le "$ratio" 1.25)")" "$(wc -c <"$OUT/m$MEM_LARGE.$f")" "$MEM_LARGE"
done
# The JUnit report of the big drill against the schema CI systems read (the tests check small ones)
if command -v xmllint >/dev/null 2>&1 && xsd="$(tests/reference-dir.sh 2>/dev/null)/junit/JUnit.xsd" && [ -f "$xsd" ]; then
	t0=$(now_ms)
	if xmllint --noout --schema "$xsd" "$OUT/m$MEM_LARGE.junit" 2>"$OUT/xmllint"; then v=valid; else v="INVALID: $(head -2 "$OUT/xmllint")"; fi
	echo "junit at $MEM_LARGE VMs against JUnit.xsd (xmllint): $v, $(( $(now_ms) - t0 )) ms"
fi
# The HTML report in a browser: how long headless Chromium takes to open and draw it (a screenshot), when it is installed
if command -v chromium >/dev/null 2>&1; then
	for n in "$MEM_SMALL" "$MEM_LARGE"; do
		t0=$(now_ms)
		timeout 600 chromium --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking \
			--disable-component-update --disable-sync --user-data-dir="$OUT/chromium" --window-size=1280,1600 \
			--screenshot="$OUT/shot$n.png" "file://$OUT/m$n.html" >/dev/null 2>&1 || echo "bench_reports: chromium failed on the $n-VM report"
		echo $(( $(now_ms) - t0 )) >"$OUT/open$n"
	done
	awk -v a="$(cat "$OUT/open$MEM_SMALL")" -v b="$(cat "$OUT/open$MEM_LARGE")" -v s="$MEM_SMALL" -v l="$MEM_LARGE" 'BEGIN {
		printf "html in headless Chromium (open and draw, wall): %.1f s at %d VMs, %.1f s at %d VMs, growth %.2f   target: < 30 s at %d VMs  %s\n",
			a / 1000, s, b / 1000, l, log(b / a) / log(l / s), l, b < 30000 ? "ok" : "MISS" }'
	echo "  (one table of every task took 99-100 s at 10,000 VMs, 12-13 s at 2,500, growth 1.48; now each step's table is folded unless it needs a reader)"
fi
echo

# Every read of a journal (report, status, resume) reads the header's runbook shape back: linear in the steps
# (bench/bench_shape.c; a shape of 2,070 steps, bench's 10,000-VM runbook, took 145 ms, growth 2.0, before)
bench_link bench_shape
"$BIN/bench_shape"
