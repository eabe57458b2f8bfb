#!/usr/bin/env bash
# Run libFuzzer targets built by `make fuzz-build VARIANT=fuzz` (tests/fuzz/README.md).
#
#   tests/fuzz/run.sh BUILD_DIR SECONDS TARGET...     e.g. build/fuzz 60 frontend expr
#
# Each target runs SECONDS on BUILD_DIR/corpus/TARGET (kept between runs: new
# inputs accumulate there) plus seeds made afresh from the shipped runbooks
# and the golden cases, with tests/fuzz/yaml.dict. A crash, leak, UB report,
# timeout (FUZZ_TIMEOUT, default 10 s per input) or out-of-memory stops the
# target and leaves the input in BUILD_DIR/artifacts/; the script then exits
# 1. Extra libFuzzer flags may be given in FUZZ_FLAGS.
set -u
B=$1 secs=$2; shift 2
cd "$(dirname "$0")/../.."
dict=tests/fuzz/yaml.dict
mkdir -p "$B/artifacts"
failed=0

runbook_files() {
	find examples runbooks stdlib -name '*.yaml' | sort
	ls tests/golden/*/*/runbook.yaml
}

# The frontend's seeds: whole files.
seed_frontend() { # seed_frontend DIR
	local f i=0
	while read -r f; do
		cp "$f" "$1/$(printf '%04d' $i)-$(basename "$(dirname "$f")")-$(basename "$f")"
		i=$((i + 1))
	done < <(runbook_files)
}

# The expression target's seeds: the values that hold ${...}, one per file, quotes stripped.
seed_expr() { # seed_expr DIR
	local i=0 line
	while IFS= read -r line; do
		printf '%s' "$line" >"$1/$(printf '%05d' $i)"
		i=$((i + 1))
	done < <(runbook_files | xargs grep -h '\${' | sed -E 's/^[[:space:]]*(- )?([A-Za-z_]+: )?//; s/^"(.*)"$/\1/; s/^'"'"'(.*)'"'"'$/\1/' | sort -u)
}

for t in "$@"; do
	bin=$B/fuzz_$t
	seeds=$B/seeds/$t corpus=$B/corpus/$t
	rm -rf "$seeds"; mkdir -p "$seeds" "$corpus"
	"seed_$t" "$seeds"
	echo "fuzz_$t: ${secs}s, $(ls "$seeds" | wc -l) seeds, $(ls "$corpus" | wc -l) inputs in $corpus"
	log=$B/fuzz_$t.log
	# shellcheck disable=SC2086
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$bin" -max_total_time="$secs" -max_len=4096 -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 \
		-dict="$dict" -artifact_prefix="$B/artifacts/$t-" -print_final_stats=1 ${FUZZ_FLAGS:-} \
		"$corpus" "$seeds" >"$log" 2>&1
	rc=$?
	grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added|stat::peak_rss_mb)' "$log" |
		sed "s/^/  /"
	if [ $rc != 0 ]; then
		failed=1
		echo "FAIL fuzz_$t (exit $rc): see $log"
		grep -E 'ERROR: |SUMMARY: |runtime error|Test unit written' "$log" | head -5 | sed "s/^/  /"
	fi
done
exit $failed
