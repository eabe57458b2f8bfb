#!/bin/sh
# bench/bench_instr.sh BUILD_DIR - issue 11's ratio rows in instructions
# (valgrind's callgrind), which no other load on the shared machine moves:
# validate against a bare libyaml parse, plan and plan --estimate against
# validate and the simulator state's load (dr_backend_open + close, counted
# inside the plan process), 20,000 diagnostics as text against JSON, and
# composites 7 deep against the same steps 1 deep; each at two sizes, with
# the growth exponents. CPU-time versions of the same rows are in
# bench_front.sh and bench_plan.sh; bench_status.sh (INSTR=1) does the
# status row. Prints figures and PASS or MISS; it is not a test. About ten
# minutes on the 2-core machine (the estimate at 10,000 VMs is most of it).
#
# Environment: CC (cc).
set -eu
BUILD=${1:?usage: bench/bench_instr.sh BUILD_DIR}
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_need_lib
command -v valgrind >/dev/null || { echo "bench: valgrind not found" >&2; exit 1; }
BIN=$BUILD/bench
OUT=bench/out/instr
DROVER=$BUILD/drover
rm -rf "$OUT"
mkdir -p "$OUT"
bench_tool gen_runbook
bench_tool gen_shapes
bench_tool bare_parse yaml-0.1
DROVER_STDLIB=$PWD/stdlib
export DROVER_STDLIB

# instr [--toggle-collect=FN ...] -- CMD...: the instructions CMD runs (only inside FN when given)
instr() {
	_opts=
	while [ "$1" != "--" ]; do
		_opts="$_opts $1"
		shift
	done
	shift
	# shellcheck disable=SC2086 # the options are words
	valgrind --tool=callgrind --callgrind-out-file=/dev/null $_opts "$@" 2>&1 >/dev/null |
		sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
mi() { awk -v n="$1" 'BEGIN { printf "%.1f", n / 1e6 }'; } # millions
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }

echo "drover bench: issue 11's ratios in instructions (callgrind; M = millions)"
for v in 5000 10000; do
	"$BIN/gen_runbook" --vms $v --sets $((v / 50)) --steps $((v / 5)) >"$OUT/big-$v.yaml"
	eval "bare_$v=$(instr -- "$BIN/bare_parse" "$OUT/big-$v.yaml")"
	eval "val_$v=$(instr -- "$DROVER" validate "$OUT/big-$v.yaml")"
	eval "plan_$v=$(instr -- "$DROVER" plan --state-dir "$OUT/plan-$v" "$OUT/big-$v.yaml")"
	eval "load_$v=$(instr --toggle-collect=dr_backend_open --toggle-collect=dr_backend_close -- \
		"$DROVER" plan --state-dir "$OUT/load-$v" "$OUT/big-$v.yaml")"
	eval "est_$v=$(instr -- "$DROVER" plan --estimate --state-dir "$OUT/est-$v" "$OUT/big-$v.yaml")"
done
# shellcheck disable=SC2154 # set by eval above
{
	row "bare libyaml parse (VMs)" 5000 10000 "$(mi "$bare_5000")" "$(mi "$bare_10000")" M
	row "validate (VMs)" 5000 10000 "$(mi "$val_5000")" "$(mi "$val_10000")" M
	row "the simulator state's load (VMs)" 5000 10000 "$(mi "$load_5000")" "$(mi "$load_10000")" M
	row "plan (VMs)" 5000 10000 "$(mi "$plan_5000")" "$(mi "$plan_10000")" M
	row "plan --estimate (VMs)" 5000 10000 "$(mi "$est_5000")" "$(mi "$est_10000")" M
	val_ratio=$(ratio "$val_10000" "$bare_10000")
	plan_ratio=$(ratio $((plan_10000 - load_10000)) "$val_10000")
	est_ratio=$(ratio $((est_10000 - load_10000)) "$val_10000")
	echo "  5000 VMs: validate / bare $(ratio "$val_5000" "$bare_5000")x," \
		"(plan - load) / validate $(ratio $((plan_5000 - load_5000)) "$val_5000")x," \
		"(estimate - load) / validate $(ratio $((est_5000 - load_5000)) "$val_5000")x"
	echo "  10000 VMs: validate / bare ${val_ratio}x, (plan - load) / validate ${plan_ratio}x," \
		"(estimate - load) / validate ${est_ratio}x"
}

for n in 10000 20000; do
	"$BIN/gen_shapes" diags $n >"$OUT/diag-$n.yaml"
	eval "text_$n=$(instr -- "$DROVER" validate "$OUT/diag-$n.yaml")"
	eval "json_$n=$(instr -- "$DROVER" validate --format json "$OUT/diag-$n.yaml")"
done
# shellcheck disable=SC2154
{
	row "diagnostics as text" 10000 20000 "$(mi "$text_10000")" "$(mi "$text_20000")" M
	row "diagnostics as JSON" 10000 20000 "$(mi "$json_10000")" "$(mi "$json_20000")" M
	diag_ratio=$(ratio "$text_20000" "$json_20000")
}

for k in 40 80; do
	for shape in nested flat; do
		mkdir -p "$OUT/$shape-$k/stdlib"
		"$BIN/gen_shapes" "$shape" 7 "$k" "$OUT/$shape-$k"
		eval "${shape}_$k=$(instr -- "$DROVER" validate --stdlib "$OUT/$shape-$k/stdlib" "$OUT/$shape-$k/runbook.yaml")"
	done
done
# shellcheck disable=SC2154
{
	row "composites 7 deep (steps)" 5120 10240 "$(mi "$nested_40")" "$(mi "$nested_80")" M
	row "the same uses, 1 deep (steps)" 5120 10240 "$(mi "$flat_40")" "$(mi "$flat_80")" M
	nest_ratio=$(ratio "$nested_80" "$flat_80")
}

lin() { le "$(growth "$1" "$2" "$3" "$4")" 1.25; }
echo "targets (issue 11; growth 'linear' = exponent <= 1.25):"
printf '  %-46s %-22s %s\n' "validate <= 1.8x bare parse" "${val_ratio}x" "$(verdict "$(le "$val_ratio" 1.8)")"
printf '  %-46s %-22s %s\n' "plan <= 2x validate + the state's load" "${plan_ratio}x" "$(verdict "$(le "$plan_ratio" 2)")"
printf '  %-46s %-22s %s\n' "plan --estimate <= 2x validate + load" "${est_ratio}x" "$(verdict "$(le "$est_ratio" 2)")"
printf '  %-46s %-22s %s\n' "diagnostics: text within 2x of JSON" "${diag_ratio}x" "$(verdict "$(le "$diag_ratio" 2)")"
printf '  %-46s %-22s %s\n' "composites linear" "growth $(growth "$nested_40" "$nested_80" 5120 10240)" \
	"$(verdict "$(lin "$nested_40" "$nested_80" 5120 10240)")"
echo "  10240 steps: 7 deep / 1 deep ${nest_ratio}x"
rm -rf "$OUT"
