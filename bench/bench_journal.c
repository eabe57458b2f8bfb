/*
 * bench_journal.c - what the crash-safe journal costs (issue 5): N no-op
 * tasks with the journal on, tasks per second, against the same run with
 * the journal off; and what one fdatasync costs on this machine.
 *
 *   bench_journal [--tasks N] [--runs R] [--dir DIR]
 *
 * The runbook: one root step, one step fanned out over N VMs, one join
 * step, run in process on the virtual clock (as bench_tasks.c). Every
 * task's action is a no-op flagged DR_AF_MUTATING, the hard case: no call
 * may be issued before its intent record is durable, so every task costs
 * an intent record, a result record and a share of an fdatasync. Variants:
 *
 *   journal off       the executor alone
 *   journal on        no concurrency limit: a turn launches a whole level
 *                     of the DAG, one fdatasync covers its intents
 *   --concurrency C   at most C tasks at once: a sync per C intents (C = 256, 16)
 *   --concurrency 1   one fdatasync per task (on min(N, 1000) tasks)
 *
 * The journal goes to DIR (default bench/out/journal-state: the disk the
 * repository is on; a tmpfs would hide the fdatasync). Prints the figures,
 * the writer's counts (DROVER_JOURNAL_STATS) and PASS/MISS against the
 * target (>= 20,000 tasks/s with the journal on). Exit 0 unless it cannot run.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "actions/action.h"
#include "run/exec.h"
#include "front/runbook.h"

#define TARGET_TASKS_PER_S 20000.0

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static dr_outcome noop_run(dr_call *call)
{
	(void)call;
	return dr_outcome_ok(NULL);
}

static const dr_action noop = {.name = "bench.noop", .flags = DR_AF_MUTATING, .run = noop_run};

static int write_runbook(const char *path, long n)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs("drover: 1\nname: bench-journal\nbackend:\n  kind: sim\n  vms:\n", f);
	for (long i = 0; i < n; i++)
		fprintf(f, "    - { name: vm-%06ld }\n", i);
	fputs("vm_sets:\n  all: { match: { name: '^vm-' } }\n"
	      "steps:\n"
	      "  - { id: root, action: log, with: { message: start } }\n"
	      "  - { id: fan, action: log, foreach: all, needs: root, with: { message: x } }\n"
	      "  - { id: join, action: log, needs: fan, with: { message: done } }\n",
	      f);
	return fclose(f);
}

/* The writer's counts of the last run, read back from the stats line it printed to stderr. */
static char stats[256];

static void rm_state(const char *dir)
{
	char cmd[1200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "bench_journal: cannot clean %s\n", dir);
}

/* One run; returns its wall time in seconds. */
static double run_once(dr_runbook *rb, bool journal, int64_t conc, const char *dir, int r)
{
	dr_exec_opts o;
	dr_exec_opts_init(&o);
	o.clock = DR_CLOCK_VIRTUAL;
	o.journal = journal;
	o.concurrency = conc;
	o.state_dir = dir;
	char id[64];
	snprintf(id, sizeof id, "bench-%d", r);
	o.run_id = id;
	char errpath[1100];
	snprintf(errpath, sizeof errpath, "%s.stderr", dir);
	fflush(stderr);
	int saved = dup(2), fd = open(errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	dup2(fd, 2);
	dr_buf err;
	dr_buf_init(&err);
	double t0 = now_s();
	dr_run_status st = dr_exec_run(rb, &o, &err);
	double t = now_s() - t0;
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fd);
	if (st != DR_RUN_SUCCEEDED)
		fprintf(stderr, "bench_journal: run failed (%s): %s\n", dr_run_status_name(st), err.data);
	dr_buf_dispose(&err);
	FILE *f = fopen(errpath, "r");
	stats[0] = '\0';
	if (f) {
		if (fgets(stats, sizeof stats, f))
			stats[strcspn(stats, "\n")] = '\0';
		fclose(f);
	}
	remove(errpath);
	return t;
}

typedef struct variant {
	const char *name;
	bool journal;
	int64_t conc;
	long max_tasks; /* 0: all */
} variant;

static double time_variant(dr_runbook *rb, const variant *v, int runs, const char *dir, double *lo)
{
	double *t = calloc((size_t)runs, sizeof *t);
	for (int r = 0; r < runs; r++) {
		rm_state(dir);
		t[r] = run_once(rb, v->journal, v->conc, dir, r);
	}
	qsort(t, (size_t)runs, sizeof *t, cmp);
	*lo = t[0];
	double med = t[runs / 2];
	free(t);
	return med;
}

/* The cost of one small append + fdatasync on dir's file system, in ms: median and 99th percentile. */
static void fsync_cost(const char *dir, int n, double *med, double *p99)
{
	char path[1100];
	mkdir(dir, 0700);
	snprintf(path, sizeof path, "%s/fsync-probe", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0600);
	double *t = calloc((size_t)n, sizeof *t);
	const char line[] = "{\"event\":\"task.start\",\"step\":\"fan\",\"target\":\"vm-000001\",\"attempt\":1}\n";
	for (int i = 0; i < n && fd >= 0; i++) {
		double t0 = now_s();
		if (write(fd, line, sizeof line - 1) < 0 || fdatasync(fd) < 0)
			break;
		t[i] = (now_s() - t0) * 1e3;
	}
	if (fd >= 0)
		close(fd);
	remove(path);
	qsort(t, (size_t)n, sizeof *t, cmp);
	*med = t[n / 2];
	*p99 = t[n * 99 / 100];
	free(t);
}

/* Compile a runbook of n fanned-out tasks into path (kept: the journal's header digests the file). */
static dr_runbook *compile(long n, char *path)
{
	int fd = mkstemps(path, 5);
	if (fd < 0 || close(fd) != 0 || write_runbook(path, n) != 0)
		return NULL;
	dr_diags *d = dr_diags_new();
	dr_runbook *rb = dr_runbook_compile(path, d, NULL);
	if (!rb || dr_diags_errors(d)) {
		dr_diags_render_text(d, stderr, false);
		rb = NULL;
	}
	dr_diags_free(d);
	for (size_t i = 0; rb && i < rb->n_steps; i++)
		rb->steps[i].action = &noop;
	return rb;
}

int main(int argc, char **argv)
{
	long n = 10000;
	int runs = 5;
	const char *dir = "bench/out/journal-state";
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--tasks"))
			n = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--runs"))
			runs = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--dir"))
			dir = argv[i + 1];
	}
	if (n < 1 || runs < 1) {
		fputs("usage: bench_journal [--tasks N] [--runs R] [--dir DIR]\n", stderr);
		return 2;
	}
	setenv("DROVER_SIM_STATE", ":memory:", 1);
	setenv("DROVER_JOURNAL_STATS", "1", 1);
	long small = n < 1000 ? n : 1000;
	char p1[] = "/tmp/drover-bench-journal-XXXXXX.yaml", p2[] = "/tmp/drover-bench-journal-XXXXXX.yaml";
	dr_runbook *rb = compile(n, p1), *rb1 = compile(small, p2);
	if (!rb || !rb1)
		return 1;
	double fmed, fp99;
	fsync_cost(dir, 200, &fmed, &fp99);
	printf("drover bench: journal overhead, %ld mutating no-op tasks (1 root, %ld fanned out, 1 join), virtual clock, "
	       "%d runs each\n",
	       n + 2, n, runs);
	printf("  one append + fdatasync on %s: median %.3f ms, p99 %.3f ms (~%.0f syncs/s)\n", dir, fmed, fp99,
	       fmed > 0 ? 1e3 / fmed : 0);
	static const variant variants[] = {
		{"journal off", false, 0, 0},
		{"journal on", true, 0, 0},
		{"journal on, -j 256", true, 256, 0},
		{"journal on, -j 16", true, 16, 0},
		{"journal on, -j 1", true, 1, 1000},
	};
	double on_rate = 0;
	for (size_t i = 0; i < sizeof variants / sizeof variants[0]; i++) {
		const variant *v = &variants[i];
		dr_runbook *use = v->max_tasks ? rb1 : rb;
		long tasks = (v->max_tasks ? small : n) + 2;
		double lo, med = time_variant(use, v, v->max_tasks ? 1 : runs, dir, &lo);
		double rate = (double)tasks / med;
		if (i == 1)
			on_rate = rate;
		printf("  %-20s %6ld tasks %9.1f ms (best %.1f) %9.0f tasks/s %8.2f us/task\n", v->name, tasks, med * 1e3,
		       lo * 1e3, rate, med * 1e6 / (double)tasks);
		if (v->journal && stats[0])
			printf("  %-20s   %s\n", "", stats);
	}
	printf("target (issue 5):\n  >= %.0f tasks/s with the journal on     %.0f  %s\n", TARGET_TASKS_PER_S, on_rate,
	       on_rate >= TARGET_TASKS_PER_S ? "PASS" : "MISS");
	rm_state(dir);
	dr_runbook_free(rb);
	dr_runbook_free(rb1);
	unlink(p1);
	unlink(p2);
	return 0;
}
