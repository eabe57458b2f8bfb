/*
 * bench_tasks.c - the executor's overhead per task: N no-op tasks in a
 * fan-out/fan-in DAG (one root step, one step fanned out over N VMs, one
 * join step), run in process on the virtual clock.
 *
 *   bench_tasks [--tasks N] [--runs R]
 *
 * Three variants, each timed R times (median, min..max of the run alone;
 * compiling the runbook is timed once and reported apart):
 *   noop        a no-op action (returns {} at once): the scheduler's own cost
 *   log         the `log` action: evaluates with:, emits a log event
 *   log+events  the same, writing every event as a JSON line to /dev/null
 * Prints tasks per second and the per-task overhead, and PASS/MISS against
 * the target (>= 100,000 no-op tasks/s). Exit 0 unless it cannot run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actions/action.h"
#include "run/exec.h"
#include "front/plan.h"
#include "front/runbook.h"

#define TARGET_TASKS_PER_S 100000.0

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int write_runbook(const char *path, long n)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs("drover: 1\nname: bench-tasks\nbackend:\n  kind: sim\n  vms:\n", f);
	for (long i = 0; i < n; i++)
		fprintf(f, "    - { name: vm-%06ld }\n", i);
	fputs("vm_sets:\n  all: { match: { name: '^vm-' } }\n"
	      "steps:\n"
	      "  - { id: root, action: log, with: { message: start } }\n"
	      "  - { id: fan, action: log, foreach: all, needs: root, with: { message: '${target.name}' } }\n"
	      "  - { id: join, action: log, needs: fan, with: { message: done } }\n",
	      f);
	return fclose(f);
}

static dr_outcome noop_run(dr_call *call)
{
	(void)call;
	return dr_outcome_ok(NULL);
}

static const dr_action noop = {.name = "bench.noop", .run = noop_run};

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

typedef struct variant {
	const char *name;
	bool use_noop, events;
} variant;

/* Time one variant R times; returns the median seconds (min/max through the pointers). */
static double time_variant(dr_runbook *rb, const variant *v, int runs, double *lo, double *hi)
{
	const dr_action *orig[3];
	for (int i = 0; i < 3; i++) {
		orig[i] = rb->steps[i].action;
		if (v->use_noop)
			rb->steps[i].action = &noop;
	}
	double *t = calloc((size_t)runs, sizeof *t);
	for (int r = 0; r < runs; r++) {
		dr_exec_opts o;
		dr_exec_opts_init(&o);
		o.clock = DR_CLOCK_VIRTUAL;
		o.events = v->events ? fopen("/dev/null", "w") : NULL;
		dr_buf err;
		dr_buf_init(&err);
		double t0 = now_s();
		dr_run_status st = dr_exec_run(rb, &o, &err);
		t[r] = now_s() - t0;
		if (st != DR_RUN_SUCCEEDED)
			fprintf(stderr, "bench_tasks: run failed (%s): %s\n", dr_run_status_name(st), err.data);
		dr_buf_dispose(&err);
		if (o.events)
			fclose(o.events);
	}
	for (int i = 0; i < 3; i++)
		rb->steps[i].action = orig[i];
	qsort(t, (size_t)runs, sizeof *t, cmp);
	*lo = t[0];
	*hi = t[runs - 1];
	double med = t[runs / 2];
	free(t);
	return med;
}

int main(int argc, char **argv)
{
	long n = 10000;
	int runs = 5;
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--tasks"))
			n = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--runs"))
			runs = atoi(argv[i + 1]);
	}
	if (n < 1 || runs < 1) {
		fputs("usage: bench_tasks [--tasks N] [--runs R]\n", stderr);
		return 2;
	}
	char path[] = "/tmp/drover-bench-tasks-XXXXXX.yaml";
	int fd = mkstemps(path, 5);
	if (fd < 0 || close(fd) != 0 || write_runbook(path, n) != 0) {
		perror("bench_tasks: cannot write the runbook");
		return 1;
	}
	dr_diags *d = dr_diags_new();
	double c0 = now_s();
	dr_runbook *rb = dr_runbook_compile(path, d, NULL);
	double compile_s = now_s() - c0;
	unlink(path);
	if (!rb || dr_diags_errors(d)) {
		dr_diags_render_text(d, stderr, false);
		return 1;
	}
	long tasks = n + 2;
	printf("drover bench: %ld tasks (1 root, %ld fanned out, 1 join), virtual clock, %d runs each\n", tasks, n, runs);
	printf("  compile (load, check, resolve, plan)  %8.1f ms (once, not in the figures below)\n", compile_s * 1e3);
	static const variant variants[] = {
		{"noop", true, false},
		{"log", false, false},
		{"log+events", false, true},
	};
	double noop_rate = 0;
	for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
		double lo, hi, med = time_variant(rb, &variants[i], runs, &lo, &hi);
		double rate = (double)tasks / med;
		if (i == 0)
			noop_rate = rate;
		printf("  %-11s %8.1f ms (%.1f..%.1f)  %10.0f tasks/s  %6.2f us/task\n", variants[i].name, med * 1e3,
		       lo * 1e3, hi * 1e3, rate, med * 1e6 / (double)tasks);
	}
	printf("target (issue 3):\n  >= %.0f no-op tasks/s       %10.0f  %s\n", TARGET_TASKS_PER_S, noop_rate,
	       noop_rate >= TARGET_TASKS_PER_S ? "PASS" : "MISS");
	dr_runbook_free(rb);
	dr_diags_free(d);
	return 0;
}
