#!/bin/sh
# shellcheck disable=SC2046,SC2086 # flag lists and stats are split into words on purpose
# bench/run.sh BUILD_DIR - the front-end benchmark (`make bench` runs it as
# `bench/run.sh build/default`).
#
# Builds the bench programs into BUILD_DIR/bench/, generates a large runbook
# (bench/out/big.yaml), times a bare libyaml parse of it and `drover validate`
# of it RUNS times each, in turn, and prints the medians (wall time, start-up
# included in both), the ratio and the peak RSS against the targets of issue
# 2 (validate <= 2x bare parse, peak RSS <= 64 MB) and issue 11 (<= 1.8x). It prints figures; it is not a test: a missed target says MISS and
# the script still exits 0. It exits non-zero only when it cannot run at all.
#
# Environment: RUNS (default 5), VMS (10000), SETS (200), STEPS (2000),
# SEED (1), DRILL_PCT (10), CC (cc), DROVER_STDLIB (the repo's stdlib/).
set -eu

BUILD=${1:?usage: bench/run.sh BUILD_DIR}
RUNS=${RUNS:-5}
VMS=${VMS:-10000}
SETS=${SETS:-200}
STEPS=${STEPS:-2000}
SEED=${SEED:-1}
DRILL_PCT=${DRILL_PCT:-10}
CC=${CC:-cc}

cd "$(dirname "$0")/.."
# The generated runbook uses a stdlib composite (tier-health): the repo's.
DROVER_STDLIB=${DROVER_STDLIB:-$PWD/stdlib}
export DROVER_STDLIB
BIN=$BUILD/bench
OUT=bench/out
BIG=$OUT/big.yaml
DROVER=$BUILD/drover

if [ ! -x "$DROVER" ]; then
	echo "bench: $DROVER not found; run make first" >&2
	exit 1
fi
mkdir -p "$BIN" "$OUT"

# The bench programs: libc only, except bare_parse (libyaml).
. bench/lib.sh
bench_tool gen_runbook
bench_tool rss_time
bench_tool bare_parse yaml-0.1

"$BIN/gen_runbook" --vms "$VMS" --sets "$SETS" --steps "$STEPS" --seed "$SEED" \
	--drill-pct "$DRILL_PCT" >"$BIG"

# record NAME CMD...: run CMD once under rss_time and add its line,
# "wall_ms maxrss_kb exit user_ms sys_ms", to $OUT/NAME.runs (lib.sh's measure
# keeps only medians; this row also prints the spread).
record() {
	name=$1
	shift
	line=$("$BIN/rss_time" -q "$@" 2>&1 >/dev/null || true)
	echo "$line" | sed -n 's/^rss_time: wall_ms=\([0-9.]*\) user_ms=\([0-9.]*\) sys_ms=\([0-9.]*\) maxrss_kb=\([0-9]*\) exit=\([0-9]*\)$/\1 \4 \5 \2 \3/p' \
		>>"$OUT/$name.runs"
}

# stats NAME: "median_ms min_ms max_ms peak_rss_kb worst_exit user_ms sys_ms" of
# $OUT/NAME.runs; user and system CPU time are those of the median run.
stats() {
	sort -n "$OUT/$1.runs" | awk '
		{ t[NR] = $1; u[NR] = $4; s[NR] = $5; if ($2 > rss) rss = $2; if ($3 > ex) ex = $3 }
		END {
			if (NR == 0) { print "0 0 0 0 255 0 0"; exit }
			k = int((NR + 1) / 2)
			m = (NR % 2) ? t[k] : (t[k] + t[k + 1]) / 2
			printf "%.1f %.1f %.1f %d %d %.1f %.1f\n", m, t[1], t[NR], rss, ex, u[k], s[k]
		}'
}

# One untimed validate first: it warms the page cache and shows whether the
# generated file is accepted at all (if not, the timings mean little).
set +e
"$DROVER" validate "$BIG" >"$OUT/validate.out" 2>&1
vexit=$?
set -e
events=$("$BIN/bare_parse" "$BIG" | awk '{ print $1 }')

# The two in turn, one run of each, so a change in the machine's load
# (it is shared) hits both alike.
: >"$OUT/bare.runs"
: >"$OUT/validate.runs"
i=0
while [ "$i" -lt "$RUNS" ]; do
	record bare "$BIN/bare_parse" "$BIG"
	record validate "$DROVER" validate "$BIG"
	i=$((i + 1))
done
set -- $(stats bare)
b_med=$1 b_min=$2 b_max=$3 b_rss=$4 b_usr=$6 b_sys=$7
set -- $(stats validate)
v_med=$1 v_min=$2 v_max=$3 v_rss=$4 v_usr=$6 v_sys=$7

bytes=$(wc -c <"$BIG" | tr -d ' ')
awk -v bytes="$bytes" -v events="$events" -v runs="$RUNS" -v big="$BIG" \
	-v vms="$VMS" -v sets="$SETS" -v steps="$STEPS" -v vexit="$vexit" \
	-v b_med="$b_med" -v b_min="$b_min" -v b_max="$b_max" -v b_rss="$b_rss" \
	-v v_med="$v_med" -v v_min="$v_min" -v v_max="$v_max" -v v_rss="$v_rss" \
	-v b_usr="$b_usr" -v b_sys="$b_sys" -v v_usr="$v_usr" -v v_sys="$v_sys" '
	function verdict(ok) { return ok && vexit == 0 ? "PASS" : "MISS" }
	BEGIN {
		ratio = b_med > 0 ? v_med / b_med : 0
		rss_mb = v_rss / 1024
		printf "drover bench: %s\n", big
		printf "  input           %d VMs, %d VM sets, %d steps; %.2f MB (%d bytes), %d YAML events\n",
			vms, sets, steps, bytes / 1048576, bytes, events
		printf "  runs            %d each: median wall time (min..max), CPU of the median run, peak RSS\n", runs
		printf "  bare parse      %7.1f ms (%.1f..%.1f)  user %.1f + sys %.1f ms  peak RSS %5.1f MB\n",
			b_med, b_min, b_max, b_usr, b_sys, b_rss / 1024
		printf "  drover validate %7.1f ms (%.1f..%.1f)  user %.1f + sys %.1f ms  peak RSS %5.1f MB  exit %d\n",
			v_med, v_min, v_max, v_usr, v_sys, rss_mb, vexit
		printf "  ratio           %8.2fx validate / bare parse\n", ratio
		printf "targets (issues 2 and 11):\n"
		printf "  validate <= 2x bare parse   %6.2fx    %s\n", ratio, verdict(ratio <= 2)
		printf "  validate <= 1.8x bare parse %6.2fx    %s\n", ratio, verdict(ratio <= 1.8)
		printf "  peak RSS <= 64 MB           %6.1f MB  %s\n", rss_mb, verdict(rss_mb <= 64)
		if (vexit != 0)
			printf "  validate exit %d: the runbook was NOT accepted; figures are not meaningful (MISS)\n", vexit
	}'
if [ "$vexit" -ne 0 ]; then
	echo "first diagnostics (all in $OUT/validate.out):"
	head -n 20 "$OUT/validate.out" | sed 's/^/  /'
fi
exit 0
