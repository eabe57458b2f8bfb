# tests/wait.sh - sourced by the test scripts: wait for a condition, never for a time.
#
# On the loaded 2-core machine (eight engineers' builds and suites at once) what takes milliseconds
# alone can take many seconds. So a wait ends as soon as its condition holds; it fails after a
# generous deadline (WAIT_S seconds, default 120), or at once when the process that should make the
# condition true has ended without doing so. A test that needs a condition never goes on without it.
#
#   wait_until [-p PID] [-t SECONDS] [-i SECONDS] COMMAND [ARG...]
#                        0 once COMMAND succeeds (its stderr hidden), looked at every -i seconds (0.05);
#                        else 1, saying what it waited for
#   wait_line  [-p PID] [-t SECONDS] PATTERN FILE...    until a line of a FILE matches PATTERN (grep)

wait_until() {
	local pid= limit=${WAIT_S:-120} every=0.05 ended=
	while :; do
		case $1 in
		-p) pid=$2; shift 2 ;;
		-t) limit=$2; shift 2 ;;
		-i) every=$2; shift 2 ;;
		*) break ;;
		esac
	done
	local end=$((SECONDS + limit))
	until "$@" 2>/dev/null; do
		[ -z "$ended" ] || { echo "    process $pid ended, and this never held: $*"; return 1; }
		# one more look after the process ended: it may have made the condition true on its way out
		if [ -n "$pid" ] && ! kill -0 "$pid" 2>/dev/null; then ended=1; continue; fi
		[ "$SECONDS" -lt "$end" ] || { echo "    waited ${limit}s for: $*"; return 1; }
		sleep "$every"
	done
}

wait_line() {
	local opts=()
	while [ "$1" = -p ] || [ "$1" = -t ] || [ "$1" = -i ]; do opts+=("$1" "$2"); shift 2; done
	wait_until "${opts[@]}" grep -q -- "$1" "${@:2}"
}
