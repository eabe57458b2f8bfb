#!/bin/sh
# bench/bench_tasks.sh BUILD_DIR - the executor benchmark (issue 3): N no-op
# tasks in a fan-out/fan-in DAG, tasks per second and per-task overhead.
#
# Builds bench/bench_tasks.c against BUILD_DIR/libdrover.a (make builds it)
# into BUILD_DIR/bench/bench_tasks and runs it. It prints figures and says
# PASS or MISS against the target; it is not a test and exits 0 even on MISS.
#
# Environment: TASKS (10000), RUNS (5), CC (cc).
set -eu
BUILD=${1:?usage: bench/bench_tasks.sh BUILD_DIR}
TASKS=${TASKS:-10000}
RUNS=${RUNS:-5}
CC=${CC:-cc}
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_need_lib
bench_link bench_tasks
DROVER_STDLIB=${DROVER_STDLIB:-$PWD/stdlib} "$BUILD/bench/bench_tasks" --tasks "$TASKS" --runs "$RUNS"
