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
if [ ! -f "$BUILD/libdrover.a" ]; then
	echo "bench: $BUILD/libdrover.a not found; run make first" >&2
	exit 1
fi
mkdir -p "$BUILD/bench" bench/out
PKGS="yaml-0.1 libcurl libcjson libpcre2-8 libmicrohttpd libcrypto"
# shellcheck disable=SC2046 # flag lists are split into words on purpose
$CC -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Iinterpreter -I"$BUILD" $(pkg-config --cflags $PKGS) \
	bench/bench_emulator.c "$BUILD/libdrover.a" $(pkg-config --libs $PKGS) -lpthread -lm \
	-o "$BUILD/bench/bench_emulator"
"$BUILD/bench/bench_emulator" --vms "${VMS1:-250}" --vms "${VMS2:-1000}" --clients "${CLIENTS:-16}" \
	--dir bench/out/emulator
