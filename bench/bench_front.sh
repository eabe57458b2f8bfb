#!/bin/sh
# bench/bench_front.sh BUILD_DIR - the front end's growth (issue 11, and issue 10's size limit):
# each row runs `drover validate` on inputs of one shape at two sizes (bench/gen_shapes.c),
# prints CPU time and peak RSS, the growth exponent between the sizes, and the target.
# `make bench` runs it. It prints figures; a missed target says MISS and it still exits 0.
#
# Environment: RUNS (3 per figure), CC (cc).
set -eu

BUILD=${1:?usage: bench/bench_front.sh BUILD_DIR}
CC=${CC:-cc}
cd "$(dirname "$0")/.."
BIN=$BUILD/bench
OUT=bench/out/front
DROVER=$BUILD/drover
mkdir -p "$BIN" "$OUT"
. bench/lib.sh
bench_tool gen_shapes
bench_tool rss_time
bench_tool gen_runbook
bench_tool bare_parse yaml-0.1
DROVER_STDLIB=$PWD/stdlib
export DROVER_STDLIB

gen() { # gen FILE SHAPE ARGS...
	_f=$1
	shift
	"$BIN/gen_shapes" "$@" >"$OUT/$_f"
}

echo "drover bench: the front end at two sizes (CPU ms = user + sys, median of $RUNS; RSS = peak MiB)"

gen cycle-a.yaml cycle 5000
gen cycle-b.yaml cycle 20000
measure cya "$DROVER" validate "$OUT/cycle-a.yaml"
measure cyb "$DROVER" validate "$OUT/cycle-b.yaml"
row "needs cycle (steps)" 5000 20000 "$cya_cpu" "$cyb_cpu" ms

gen chain-a.yaml chain 25000
gen chain-b.yaml chain 50000
measure cha "$DROVER" validate "$OUT/chain-a.yaml"
measure chb "$DROVER" validate "$OUT/chain-b.yaml"
row "valid chain (steps), memory" 25000 50000 "$cha_rss" "$chb_rss" MB

gen miss-a.yaml misspelt 10000
gen miss-b.yaml misspelt 20000
measure msa "$DROVER" validate "$OUT/miss-a.yaml"
measure msb "$DROVER" validate "$OUT/miss-b.yaml"
row "misspelt needs (suggestions)" 10000 20000 "$msa_cpu" "$msb_cpu" ms

gen diag-a.yaml diags 10000
gen diag-b.yaml diags 20000
measure dta "$DROVER" validate "$OUT/diag-a.yaml"
measure dtb "$DROVER" validate "$OUT/diag-b.yaml"
measure djb "$DROVER" validate --format json "$OUT/diag-b.yaml"
row "diagnostics as text" 10000 20000 "$dta_cpu" "$dtb_cpu" ms
diag_ratio=$(awk -v t="$dtb_cpu" -v j="$djb_cpu" 'BEGIN { printf "%.2f", t / j }')
echo "  20000 diagnostics: text $dtb_cpu ms, JSON $djb_cpu ms: ${diag_ratio}x"

gen reads-a.yaml reads 5000
gen reads-b.yaml reads 20000
measure rda "$DROVER" validate "$OUT/reads-a.yaml"
measure rdb "$DROVER" validate "$OUT/reads-b.yaml"
row "DR408 each checked once (pairs)" 5000 20000 "$rda_cpu" "$rdb_cpu" ms

gen late-a.yaml late 5000
gen late-b.yaml late 20000
measure lta "$DROVER" validate "$OUT/late-a.yaml"
measure ltb "$DROVER" validate "$OUT/late-b.yaml"
row "resolve's diagnostics merged (steps)" 5000 20000 "$lta_cpu" "$ltb_cpu" ms

gen lanes-a.yaml lanes 2000
gen lanes-b.yaml lanes 8000
measure lna "$DROVER" validate "$OUT/lanes-a.yaml"
measure lnb "$DROVER" validate "$OUT/lanes-b.yaml"
row "sets x steps: plan barrier (sets)" 2000 8000 "$lna_cpu" "$lnb_cpu" ms
row "sets x steps: plan barrier, memory" 2000 8000 "$lna_rss" "$lnb_rss" MB

gen expr-0.yaml expr 1 200
gen expr-a.yaml expr 100 200
gen expr-b.yaml expr 200 200
gen expr-c.yaml expr 200 1600
measure ex0 "$DROVER" validate "$OUT/expr-0.yaml"
measure exa "$DROVER" validate "$OUT/expr-a.yaml"
measure exb "$DROVER" validate "$OUT/expr-b.yaml"
measure exc "$DROVER" validate "$OUT/expr-c.yaml"
exa_mem=$(awk -v a="$exa_rss" -v z="$ex0_rss" 'BEGIN { printf "%.2f", a - z }')
exb_mem=$(awk -v a="$exb_rss" -v z="$ex0_rss" 'BEGIN { printf "%.2f", a - z }')
row "200 expressions (terms), MB over 1" 100 200 "$exa_mem" "$exb_mem" MB
echo "  1600 steps of 200 terms ($(wc -c <"$OUT/expr-c.yaml") bytes): $exc_rss MB, $exc_cpu ms"

for k in 40 80; do
	for shape in nested flat; do
		rm -rf "$OUT/$shape-$k"
		mkdir -p "$OUT/$shape-$k/stdlib"
		"$BIN/gen_shapes" "$shape" 7 "$k" "$OUT/$shape-$k"
		measure "${shape}_$k" "$DROVER" validate --stdlib "$OUT/$shape-$k/stdlib" "$OUT/$shape-$k/runbook.yaml"
	done
done
row "composites 7 deep (steps)" 5120 10240 "$nested_40_cpu" "$nested_80_cpu" ms
row "the same uses, 1 deep (steps)" 5120 10240 "$flat_40_cpu" "$flat_80_cpu" ms
nest_ratio=$(awk -v a="$nested_80_cpu" -v b="$flat_80_cpu" 'BEGIN { printf "%.2f", a / b }')
echo "  10240 steps: 7 deep $nested_80_cpu ms, 1 deep $flat_80_cpu ms: ${nest_ratio}x"

gen wide.yaml wide 160000
measure wide "$DROVER" validate "$OUT/wide.yaml"
echo "  160000 steps ($(wc -c <"$OUT/wide.yaml") bytes, under the 8 MiB limit): $wide_rss MB, $wide_cpu ms, exit $wide_exit"

"$BIN/gen_runbook" --vms 5000 --sets 100 --steps 1000 >"$OUT/big-a.yaml"
"$BIN/gen_runbook" --vms 10000 --sets 200 --steps 2000 >"$OUT/big-b.yaml"
measure bpa "$BIN/bare_parse" "$OUT/big-a.yaml"
measure bpb "$BIN/bare_parse" "$OUT/big-b.yaml"
measure vaa "$DROVER" validate "$OUT/big-a.yaml"
measure vab "$DROVER" validate "$OUT/big-b.yaml"
row "validate, bench runbook (VMs)" 5000 10000 "$vaa_cpu" "$vab_cpu" ms
val_ratio=$(awk -v v="$vab_cpu" -v b="$bpb_cpu" 'BEGIN { printf "%.2f", v / b }')
echo "  10000 VMs: validate $vab_cpu ms, bare libyaml parse $bpb_cpu ms: ${val_ratio}x; $vab_rss MB"

lin() { le "$(growth "$1" "$2" "$3" "$4")" 1.25; }
echo "targets (issue 11; growth 'linear' = exponent <= 1.25):"
printf '  %-46s %-22s %s\n' "cycle linear (SCC)" "growth $(growth "$cya_cpu" "$cyb_cpu" 5000 20000)" "$(verdict "$(lin "$cya_cpu" "$cyb_cpu" 5000 20000)")"
printf '  %-46s %-22s %s\n' "50,000-step chain <= 64 MB" "$chb_rss MB" "$(verdict "$(le "$chb_rss" 64)")"
printf '  %-46s %-22s %s\n' "10,000 misspelt needs <= 500 ms" "$msa_cpu ms" "$(verdict "$(le "$msa_cpu" 500)")"
printf '  %-46s %-22s %s\n' "text within 2x of JSON" "${diag_ratio}x" "$(verdict "$(le "$diag_ratio" 2)")"
printf '  %-46s %-22s %s\n' "DR408 dedup linear" "growth $(growth "$rda_cpu" "$rdb_cpu" 5000 20000)" "$(verdict "$(lin "$rda_cpu" "$rdb_cpu" 5000 20000)")"
printf '  %-46s %-22s %s\n' "resolve's merge linear" "growth $(growth "$lta_cpu" "$ltb_cpu" 5000 20000)" "$(verdict "$(lin "$lta_cpu" "$ltb_cpu" 5000 20000)")"
printf '  %-46s %-22s %s\n' "plan barrier linear in sets x lanes" "growth $(growth "$lna_cpu" "$lnb_cpu" 2000 8000)" "$(verdict "$(lin "$lna_cpu" "$lnb_cpu" 2000 8000)")"
printf '  %-46s %-22s %s\n' "expression memory linear" "growth $(growth "$exa_mem" "$exb_mem" 100 200)" "$(verdict "$(lin "$exa_mem" "$exb_mem" 100 200)")"
printf '  %-46s %-22s %s\n' "1,600 x 200-term steps <= 256 MB" "$exc_rss MB" "$(verdict "$(le "$exc_rss" 256)")"
printf '  %-46s %-22s %s\n' "composites linear" "growth $(growth "$nested_40_cpu" "$nested_80_cpu" 5120 10240)" "$(verdict "$(lin "$nested_40_cpu" "$nested_80_cpu" 5120 10240)")"
printf '  %-46s %-22s %s\n' "160,000 steps (size limit) <= 256 MB" "$wide_rss MB" "$(verdict "$(le "$wide_rss" 256)")"
printf '  %-46s %-22s %s\n' "validate <= 1.8x bare parse (CPU)" "${val_ratio}x" "$(verdict "$(le "$val_ratio" 1.8)")"
printf '  %-46s %-22s %s\n' "validate <= 64 MB" "$vab_rss MB" "$(verdict "$(le "$vab_rss" 64)")"
