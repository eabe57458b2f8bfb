/*
 * bench_simload.c - what the simulator's state costs by itself: the part of
 * `drover plan` that `drover validate` does not do because it has no
 * backend (issue 11: plan <= 2x validate + the simulator state's load).
 *
 *   bench_simload RUNBOOK STATE_DIR [RUNS]
 *
 * Compiles the runbook once, then RUNS times (default 5) opens its backend
 * read-only as drover plan does (the state file in STATE_DIR, else a fresh
 * state: the runbook's own inventory) and closes it, timing each in CPU
 * time of the process. Prints the medians as
 *   simload: items=N open_ms=X close_ms=Y
 * Exit 1 when the runbook or the backend cannot be opened.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "backends/backend.h"
#include "front/diag.h"
#include "front/runbook.h"
#include "util/arena.h"

static double cpu_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

/* One open and close: their CPU ms in open_ms and close_ms; the item count, or -1. */
static long once(const dr_runbook *rb, const char *state_dir, double *open_ms, double *close_ms)
{
	dr_arena *a = dr_arena_new();
	dr_diags *d = dr_diags_new();
	dr_be_error e;
	dr_backend_opts bo = {.state_dir = state_dir, .read_only = true};
	double t0 = cpu_ms();
	dr_backend *be = dr_backend_open(rb, &bo, a, d, &e);
	double t1 = cpu_ms();
	long n = -1;
	if (be) {
		dr_arena *scratch = dr_arena_new();
		dr_be_item *items;
		size_t k;
		n = dr_backend_list_items(be, scratch, 0, &items, &k, &e) == 0 ? (long)k : -1;
		dr_arena_free(scratch);
	}
	double t2 = cpu_ms();
	dr_backend_close(be);
	*open_ms = t1 - t0;
	*close_ms = cpu_ms() - t2;
	dr_diags_free(d);
	dr_arena_free(a);
	return n;
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		fprintf(stderr, "usage: bench_simload RUNBOOK STATE_DIR [RUNS]\n");
		return 2;
	}
	int runs = argc > 3 ? atoi(argv[3]) : 5;
	if (runs < 1 || runs > 100)
		runs = 5;
	dr_diags *d = dr_diags_new();
	dr_runbook *rb = dr_runbook_compile(argv[1], d, getenv("DROVER_STDLIB")); /* use: tier-health */
	if (!rb || dr_diags_errors(d)) {
		dr_diags_render_text(d, stderr, false);
		fprintf(stderr, "bench_simload: %s does not compile\n", argv[1]);
		return 1;
	}
	double open_ms[100], close_ms[100];
	long n = 0;
	for (int i = 0; i < runs && n >= 0; i++)
		n = once(rb, argv[2], &open_ms[i], &close_ms[i]);
	if (n < 0) {
		fprintf(stderr, "bench_simload: cannot open the backend of %s\n", argv[1]);
		return 1;
	}
	qsort(open_ms, (size_t)runs, sizeof *open_ms, cmp_double);
	qsort(close_ms, (size_t)runs, sizeof *close_ms, cmp_double);
	printf("simload: items=%ld open_ms=%.1f close_ms=%.1f\n", n, open_ms[runs / 2], close_ms[runs / 2]);
	dr_runbook_free(rb);
	dr_diags_free(d);
	return 0;
}
