#!/bin/sh
# bench/bench_simstate.sh BUILD_DIR [OLD_DROVER] - what the simulator's durable state costs in a run
# whose mutating calls go out in many turns of the scheduler (issue 11: "a shape that is still
# quadratic"). Each turn that issues mutating calls ends with dr_backend_flush: the simulator saves
# there. Before the change log (backends/sim_log.c) a save rewrote the whole state file, so a run
# cost turns x estate; now a save appends what changed and the state file is rewritten only when
# the log outgrows it.
#
# The shape: bench/gen_waves.sh with one wave per 50 VMs (so the waves grow with the estate, as
# bench's gen_runbook estate has one set per 50 VMs): each wave's failover goes out in a turn of
# its own, once the wave before it is validated; so N/50 turns with mutating calls, each flushed,
# and the turns that end jobs flush too. (bench's gen_runbook estate is not run for real: its checks
# connect to the VMs' recovery IPs, which only a rehearsal leaves alone.) Run with `drover run --clock
# virtual` in a fresh state directory, at SIZES (default "2500 5000"; add 10000 when there is time).
#
# Per binary and size: CPU (user + sys, median of RUNS, default 1) and wall ms, peak RSS, and from
# one run under strace (when installed): the bytes written to the simulator's state file and its
# log, the state file's rewrites (renames onto it) and the log's synced groups. Then the growth
# exponents between the first and last size. OLD_DROVER (optional): a binary built from an earlier
# commit, measured side by side in the same run (the machine is shared: compare within a run).
set -eu

BUILD=${1:?usage: bench/bench_simstate.sh BUILD_DIR [OLD_DROVER]}
OLD=${2:-}
RUNS=${RUNS:-1}
SIZES=${SIZES:-2500 5000}
CC=${CC:-cc}
cd "$(dirname "$0")/.."
BIN=$BUILD/bench
OUT=bench/out/simstate
NEW=$(pwd)/$BUILD/drover
mkdir -p "$BIN" "$OUT"
. bench/lib.sh
bench_tool rss_time
DROVER_STDLIB=$PWD/stdlib
export DROVER_STDLIB RUNS

# io NAME DROVER RUNBOOK: one run under strace; NAME_bytes, NAME_rewrites, NAME_groups
io() {
	if ! command -v strace >/dev/null 2>&1; then
		eval "$1_bytes=n/a $1_rewrites=n/a $1_groups=n/a"
		return
	fi
	rm -rf "$OUT/$1.state"
	strace -f -qq -y -s 0 -e trace=write,rename,renameat,renameat2,fdatasync -o "$OUT/$1.strace" \
		"$2" run -q --yes --clock virtual --state-dir "$OUT/$1.state" "$3" >/dev/null 2>&1 || true
	eval "$(awk -v n="$1" '
		/^[0-9]+ +write\(/ && /sim-state\.json/ { split($0, r, "= "); b += r[2] }
		/rename/ && /sim-state\.json"\) = 0/ { rw++ }
		/fdatasync\(.*sim-state\.json\.changes>\) = 0/ { g++ }
		END { printf "%s_bytes=%.1f %s_rewrites=%d %s_groups=%d\n", n, b / 1048576, n, rw, n, g }' "$OUT/$1.strace")"
	rm -rf "$OUT/$1.state" "$OUT/$1.strace"
}

# one NAME DROVER RUNBOOK
one() {
	measure "$1" sh -c 'rm -rf "$1" && exec "$2" run -q --yes --clock virtual --state-dir "$1" "$3"' \
		sh "$OUT/$1.state" "$2" "$3"
	rm -rf "$OUT/$1.state"
	io "$1" "$2" "$3"
}

echo "drover bench: the simulator's state in a run of many turns (gen_waves.sh N N/50, virtual clock;"
echo "  CPU ms = user + sys, median of $RUNS; MB written = the state file and its log, from strace)"
printf '  %-8s %6s %10s %10s %8s %10s %9s %7s %5s\n' binary VMs "CPU ms" "wall ms" "RSS MB" "MB written" rewrites groups exit
first="" last=""
for n in $SIZES; do
	bench/gen_waves.sh "$n" $((n / 50)) >"$OUT/waves-$n.yaml"
	for b in old new; do
		[ "$b" = new ] || [ -n "$OLD" ] || continue
		bin=$NEW
		[ "$b" = new ] || bin=$OLD
		one "${b}_$n" "$bin" "$OUT/waves-$n.yaml"
		eval "printf '  %-8s %6s %10s %10s %8s %10s %9s %7s %5s\n' $b $n \
			\$${b}_${n}_cpu \$${b}_${n}_wall \$${b}_${n}_rss \$${b}_${n}_bytes \$${b}_${n}_rewrites \
			\$${b}_${n}_groups \$${b}_${n}_exit"
	done
	first=${first:-$n}
	last=$n
done
[ "$first" != "$last" ] || exit 0
for b in old new; do
	[ "$b" = new ] || [ -n "$OLD" ] || continue
	eval "c1=\$${b}_${first}_cpu c2=\$${b}_${last}_cpu w1=\$${b}_${first}_bytes w2=\$${b}_${last}_bytes"
	echo "  $b: growth $first -> $last VMs (1 = linear): CPU $(growth "$c1" "$c2" "$first" "$last"), MB written $(growth "$w1" "$w2" "$first" "$last")"
done
eval "c1=\$new_${first}_cpu c2=\$new_${last}_cpu"
g=$(growth "$c1" "$c2" "$first" "$last")
printf '  %-46s %-22s %s\n' "new: linear (CPU growth <= 1.25)" "growth $g" "$(verdict "$(le "$g" 1.25)")"
