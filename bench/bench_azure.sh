#!/bin/sh
# bench/bench_azure.sh BUILD_DIR - a whole estate failed over through the Azure
# backend (issue 9): `drover run`'s executor with backend kind azure against
# drover emulator (in the same process, ARM's token bucket on), at two sizes;
# prints requests per VM, polls per job, TCP connections, 429s and the wall
# time against the service's bound and ARM's read budget, with growth
# exponents. Builds bench/bench_azure.c against BUILD_DIR/libdrover.a into
# BUILD_DIR/bench/. It prints figures; it is not a test.
#
# Environment: VMS1 (200), VMS2 (1000), SPEED (600), CC (cc).
set -eu
BUILD=${1:?usage: bench/bench_azure.sh BUILD_DIR}
CC=${CC:-cc}
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_need_lib
mkdir -p bench/out
bench_link bench_azure
rm -rf bench/out/azure
"$BUILD/bench/bench_azure" --vms "${VMS1:-200}" --vms "${VMS2:-1000}" --speed "${SPEED:-600}" --dir bench/out/azure
