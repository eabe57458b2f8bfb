#!/bin/sh
# bench/bench_emulator.sh BUILD_DIR - `drover emulator` failing a whole estate
# over (issue 9): C clients post one unplannedFailover per VM and poll the jobs,
# at two estate sizes; prints the figures and their growth exponents (1 is
# linear). Builds bench/bench_emulator.c against BUILD_DIR/libdrover.a into
# BUILD_DIR/bench/. It prints figures; it is not a test.
#
# Environment: VMS1 (250), VMS2 (1000), CLIENTS (16), CC (cc).
set -eu
BUILD=${1:?usage: bench/bench_emulator.sh BUILD_DIR}
CC=${CC:-cc}
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_need_lib
mkdir -p bench/out
bench_link bench_emulator
"$BUILD/bench/bench_emulator" --vms "${VMS1:-250}" --vms "${VMS2:-1000}" --clients "${CLIENTS:-16}" \
	--dir bench/out/emulator
