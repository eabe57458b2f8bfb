#!/bin/sh
# bench/bench_journal.sh BUILD_DIR - the journal's overhead (issue 5): N
# mutating no-op tasks with the journal on (group commit) and off, tasks per
# second, and what one fdatasync costs on the disk the repository is on.
#
# Builds bench/bench_journal.c against BUILD_DIR/libdrover.a (make builds it)
# into BUILD_DIR/bench/bench_journal and runs it with its journal under
# bench/out/. It prints figures and says PASS or MISS against the target; it
# is not a test and exits 0 even on MISS.
#
# Environment: TASKS (10000), RUNS (5), CC (cc).
set -eu
BUILD=${1:?usage: bench/bench_journal.sh BUILD_DIR}
TASKS=${TASKS:-10000}
RUNS=${RUNS:-5}
CC=${CC:-cc}
cd "$(dirname "$0")/.."
. bench/lib.sh
bench_need_lib
mkdir -p bench/out
bench_link bench_journal
"$BUILD/bench/bench_journal" --tasks "$TASKS" --runs "$RUNS" --dir bench/out/journal-state
# What the run lock's stale check and drover approve read of a journal: its two ends (bench/bench_ends.c)
bench_link bench_ends
rm -rf bench/out/ends-state
"$BUILD/bench/bench_ends" bench/out/ends-state
