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

# The journal target's seeds: journals of tests/fuzz/journal.yaml (kept in tests/fuzz/seeds/journal/:
# a whole run, runs killed at several points, a resumed one, a rollback, a retry) and the golden cases'.
seed_journal() { # seed_journal DIR
	local f i=0
	cp tests/fuzz/seeds/journal/*.jsonl "$1/"
	while read -r f; do
		cp "$f" "$1/golden-$(printf '%03d' $i).jsonl"
		i=$((i + 1))
	done < <(find tests/golden/journal -name journal.jsonl -o -name journal.in | sort)
}

# The run target's seeds: the runbooks the front end gets (those that block are left out by the target).
seed_run() { seed_frontend "$@"; }

# graph --diff's seeds: each golden diff's OLD and NEW, and consecutive runbooks, cut by the marker line.
seed_graphdiff() { # seed_graphdiff DIR
	local d i=0 prev=""
	for d in tests/golden/graph/diff-*/; do
		[ -f "$d/old.yaml" ] && [ -f "$d/new.yaml" ] || continue
		{ cat "$d/old.yaml"; printf '\n#---8<---\n'; cat "$d/new.yaml"; } >"$1/$(printf '%04d' $i)-$(basename "$d")"
		i=$((i + 1))
	done
	while read -r f; do
		[ -n "$prev" ] && { cat "$prev"; printf '\n#---8<---\n'; cat "$f"; } >"$1/$(printf '%04d' $i)-pair"
		prev=$f i=$((i + 1))
	done < <(runbook_files)
}

# Inputs up to 4 KiB; a journal up to 16 KiB (its seeds are whole runs).
max_len() { case $1 in journal) echo 16384 ;; *) echo 4096 ;; esac; }

for t in "$@"; do
	bin=$B/fuzz_$t
	seeds=$B/seeds/$t corpus=$B/corpus/$t
	rm -rf "$seeds"; mkdir -p "$seeds" "$corpus"
	"seed_$t" "$seeds"
	echo "fuzz_$t: ${secs}s, $(ls "$seeds" | wc -l) seeds, $(ls "$corpus" | wc -l) inputs in $corpus"
	log=$B/fuzz_$t.log
	# shellcheck disable=SC2086
	ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$bin" -max_total_time="$secs" -max_len="$(max_len "$t")" -timeout="${FUZZ_TIMEOUT:-10}" -rss_limit_mb=2048 \
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
