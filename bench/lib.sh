# shellcheck shell=sh
# bench/lib.sh - helpers the benchmarks share. Source it from the repository's top
# directory, after setting BUILD (the build directory) and, for measure, OUT and BIN.
#
# bench_need_lib       exits 1 (saying so) when $BUILD/libdrover.a is missing
# bench_link NAME      compiles bench/NAME.c against $BUILD/libdrover.a into
#                      $BUILD/bench/NAME (-O2, -Werror; CC, default cc)
# bench_tool NAME [PKG...]  compiles the stand-alone bench/NAME.c (libc, and the
#                      pkg-config packages PKG) into $BUILD/bench/NAME, likewise
# measure NAME CMD...  runs CMD $RUNS times under rss_time (quiet) and sets
#                      NAME_cpu (median user+sys ms), NAME_wall (median wall ms),
#                      NAME_rss (largest peak RSS, MB) and NAME_exit (worst exit);
#                      with MEASURE_APPEND=1 the runs are added to NAME's earlier
#                      ones and the figures are of them all (to interleave
#                      commands: RUNS=1 MEASURE_APPEND=1 measure A ...; ... B ...)
# growth A B NA NB     the growth exponent of a figure that was A at size NA and B at NB
# row LABEL NA NB A B UNIT  prints a figure at two sizes and its growth exponent
# verdict OK           PASS or MISS
#
# CPU time is the figure: the machine is shared, and wall time then measures
# the neighbours. Peak RSS is MiB (ru_maxrss / 1024).

RUNS=${RUNS:-3}
BENCH_PKGS="yaml-0.1 libcurl libcjson libpcre2-8 libmicrohttpd libcrypto"
BENCH_WARN="-Wall -Wextra -Werror -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wwrite-strings -Wformat=2 -Wvla"

bench_need_lib() {
	if [ ! -f "$BUILD/libdrover.a" ]; then
		echo "bench: $BUILD/libdrover.a not found; run make first" >&2
		exit 1
	fi
}

bench_link() {
	mkdir -p "$BUILD/bench"
	# shellcheck disable=SC2046,SC2086 # pkg-config's words
	${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -Iinterpreter -I"$BUILD" \
		$(pkg-config --cflags $BENCH_PKGS) "bench/$1.c" "$BUILD/libdrover.a" \
		$(pkg-config --libs $BENCH_PKGS) -lpthread -lm -o "$BUILD/bench/$1"
}

bench_tool() {
	_tool=$1
	shift
	mkdir -p "$BUILD/bench"
	# shellcheck disable=SC2046,SC2086 # pkg-config's words
	${CC:-cc} -std=c11 -O2 $BENCH_WARN $( [ $# = 0 ] || pkg-config --cflags "$@") "bench/$_tool.c" \
		$( [ $# = 0 ] || pkg-config --libs "$@") -o "$BUILD/bench/$_tool"
}

measure() {
	_name=$1
	shift
	_i=0
	[ "${MEASURE_APPEND:-0}" = 1 ] || : >"$OUT/$_name.runs"
	while [ "$_i" -lt "$RUNS" ]; do
		"$BIN/rss_time" -q "$@" 2>&1 >/dev/null | sed -n \
			's/^rss_time: wall_ms=\([0-9.]*\) user_ms=\([0-9.]*\) sys_ms=\([0-9.]*\) maxrss_kb=\([0-9]*\) exit=\([0-9]*\)$/\1 \2 \3 \4 \5/p' \
			>>"$OUT/$_name.runs"
		_i=$((_i + 1))
	done
	eval "$(awk '{ printf "%.1f %s %s %s\n", $2 + $3, $1, $4, $5 }' "$OUT/$_name.runs" | sort -n | awk -v n="$_name" '
		{ c[NR] = $1; w[NR] = $2; if ($3 > rss) rss = $3; if ($4 > ex) ex = $4 }
		END {
			k = int((NR + 1) / 2)
			printf "%s_cpu=%.1f %s_wall=%.1f %s_rss=%.1f %s_exit=%d\n", n, c[k], n, w[k], n, rss / 1024, n, ex
		}')"
}

growth() {
	awk -v a="$1" -v b="$2" -v na="$3" -v nb="$4" 'BEGIN {
		if (a <= 0 || b <= 0) { print "n/a"; exit }
		printf "%.2f\n", log(b / a) / log(nb / na)
	}'
}

row() {
	printf '  %-36s %8s: %9.1f %-3s %8s: %9.1f %-3s growth %s\n' "$1" "$2" "$4" "$6" "$3" "$5" "$6" \
		"$(growth "$4" "$5" "$2" "$3")"
}

verdict() {
	if [ "$1" = 1 ]; then echo PASS; else echo MISS; fi
}

# le A B: 1 when A <= B (decimals)
le() {
	awk -v a="$1" -v b="$2" 'BEGIN { print (a <= b) ? 1 : 0 }'
}
