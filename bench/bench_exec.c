/*
 * bench_exec.c - the cost of one `exec` task: N runs of /bin/true through
 * dr_action_exec_run, one after another, as a worker thread would make them
 * (spawn, pipes, poll, reap, outputs object). Prints milliseconds per task
 * (mean, median, p99) against the target of issue 3 (<= 2 ms per task),
 * and, for scale, the floor: a bare posix_spawn + waitpid of the same
 * program (no pipes, no group, no outputs).
 *
 *   bench_exec [N] [PROGRAM]      defaults: 500, /bin/true
 *
 * Built against the library (see bench/README.md); not part of `make check`.
 * Exits non-zero only when a run fails; a missed target prints MISS.
 */
#include <cjson/cJSON.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "actions/family.h"

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* One task; its wall time in ms, or -1 when it failed. */
static double one_task(const cJSON *with)
{
	volatile int cancel = 0;
	dr_call call = {.with = with, .attempt = 1, .deadline_ms = INT64_MAX, .cancel_requested = &cancel};
	double t0 = now_ms();
	dr_outcome o = dr_action_exec_run(&call);
	double t = now_ms() - t0;
	if (o.status != DR_ACT_OK) {
		fprintf(stderr, "bench_exec: %s\n", o.message ? o.message : "failed");
		t = -1;
	}
	free(o.message);
	cJSON_Delete(o.outputs);
	return t;
}

extern char **environ;

/* The floor: ms per bare spawn and wait of prog; -1 when it cannot run. */
static double bare_spawn(const char *prog, int n)
{
	char *args[] = {(char *)prog, NULL};
	double t0 = now_ms();
	for (int i = 0; i < n; i++) {
		pid_t pid;
		int status;
		if (posix_spawn(&pid, prog, NULL, NULL, args, environ) != 0 || waitpid(pid, &status, 0) != pid)
			return -1;
	}
	return (now_ms() - t0) / n;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 500;
	const char *prog = argc > 2 ? argv[2] : "/bin/true";
	if (n < 1)
		n = 500;
	cJSON *with = cJSON_CreateObject();
	cJSON_AddItemToObject(with, "argv", cJSON_CreateStringArray(&prog, 1));
	double *t = malloc((size_t)n * sizeof *t);
	double t0 = now_ms();
	for (int i = 0; i < n; i++)
		if ((t[i] = one_task(with)) < 0)
			return 1;
	double total = now_ms() - t0;
	qsort(t, (size_t)n, sizeof *t, by_value);
	double per = total / n;
	printf("exec: %d tasks of %s in %.1f ms: %.3f ms/task (median %.3f, p99 %.3f, max %.3f) "
	       "target <= 2 ms: %s\n",
	       n, prog, total, per, t[n / 2], t[(size_t)n * 99 / 100], t[n - 1], per <= 2.0 ? "OK" : "MISS");
	printf("exec: floor (bare posix_spawn + waitpid): %.3f ms/task\n", bare_spawn(prog, n));
	free(t);
	cJSON_Delete(with);
	return 0;
}
