#!/bin/sh
# bench/bench_status.sh BUILD_DIR - `drover status` against a bare parse of the
# same journal, and `drover runs` of 100 runs (issue 11, first row).
#
# Runs a small failover (bench/gen_waves.sh, 10 VMs, one wave) on the simulator
# to get a real journal, then bench/bench_status.c makes journals of VMS and
# 2 x VMS VMs from it (its first VM's records repeated) and times status, a
# bare parse, and the listing of RUNS runs (hard links of one journal). It
# prints figures, PASS or MISS and growth exponents; it is not a test.
#
# Environment: VMS (10000), RUNS (100), CC (cc), INSTR (1: also count instructions with
# valgrind, which no other load on the machine moves; about a minute more).
set -eu
BUILD=${1:?usage: bench/bench_status.sh BUILD_DIR}
VMS=${VMS:-10000}
RUNS=${RUNS:-100}
CC=${CC:-cc}
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_need_lib
OUT=bench/out/status
rm -rf "$OUT"
mkdir -p "$OUT/template"
bench_link bench_status
bench/gen_waves.sh 10 1 >"$OUT/template/waves.yaml"
(cd "$OUT/template" && "../../../../$BUILD/drover" run -q --yes --clock virtual --state-dir state waves.yaml >/dev/null)
"$BUILD/bench/bench_status" --drover "$BUILD/drover" --template "$(ls "$OUT"/template/state/runs/*/journal.jsonl)" \
	--vms "$VMS" --runs "$RUNS" --dir "$OUT"
rm -rf "$OUT"
