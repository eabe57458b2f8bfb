/*
 * bench_shape.c - reading a journal header's runbook shape back
 * (dr_journal_expand_shape), which every read of a journal does (drover
 * status, report, resume): at two runbook sizes, the CPU time and its growth
 * exponent. A shape of N steps is built the way the journal writes it
 * (dr_journal_compact_shape: one list of the distinct digests, each step
 * naming its own by index), then expanded, each time in a process of its
 * own (a fresh heap, as a reader of a journal has); the best of 7. Linear in the
 * steps: each index is one read of an array built once (a cJSON array is a
 * list, so reading its items by index walked it: 2,070 steps of bench's
 * 10,000-VM runbook took 145 ms, growth 2.0).
 *
 *   bench_shape [SMALL [LARGE]]   (steps; default 1000 and 4000)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include <cjson/cJSON.h>

#include "journal/journal.h"

static double cpu_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* A version 1 shape of n steps, each with its own digests (as a runbook of distinct steps has). */
static cJSON *shape_of(int n)
{
	static const char *const parts[] = {"with", "needs", "targets", "when", "rollback", "policy"};
	char d[32], id[32];
	cJSON *shape = cJSON_CreateObject(), *steps = cJSON_AddObjectToObject(shape, "steps");
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof id, "step-%d", i);
		cJSON *e = cJSON_AddObjectToObject(steps, id), *p;
		cJSON_AddStringToObject(e, "action", "dr.failover");
		snprintf(d, sizeof d, "%016x", (unsigned)i * 2654435761u);
		cJSON_AddStringToObject(e, "digest", d);
		p = cJSON_AddObjectToObject(e, "parts");
		for (int k = 0; k < 6; k++) {
			snprintf(d, sizeof d, "%08x%08x", (unsigned)(i % (k + 2)), (unsigned)k);
			cJSON_AddStringToObject(p, parts[k], d);
		}
	}
	return shape;
}

/* One expansion of the compacted shape of n steps, in ms of CPU, in a process of its own (a fresh heap, as a reader has). */
static double expand_once(int n)
{
	int fd[2];
	double t = -1;
	if (pipe(fd) < 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		cJSON *shape = shape_of(n), *h = cJSON_CreateObject();
		cJSON_AddItemToObject(h, "shape", dr_journal_compact_shape(shape));
		double t0 = cpu_ms();
		dr_journal_expand_shape(h);
		t = cpu_ms() - t0;
		_exit(write(fd[1], &t, sizeof t) == sizeof t ? 0 : 1);
	}
	close(fd[1]);
	if (pid < 0 || read(fd[0], &t, sizeof t) != sizeof t)
		t = -1;
	close(fd[0]);
	waitpid(pid, NULL, 0);
	return t;
}

/* The best of 7, in ms of CPU. */
static double expand_ms(int n)
{
	double best = 1e300;
	for (int r = 0; r < 7; r++) {
		double t = expand_once(n);
		best = t >= 0 && t < best ? t : best;
	}
	return best;
}

int main(int argc, char **argv)
{
	int small = argc > 1 ? atoi(argv[1]) : 1000, large = argc > 2 ? atoi(argv[2]) : 4000;
	double a = expand_ms(small), b = expand_ms(large);
	double g = a > 0 && b > 0 ? log(b / a) / log((double)large / small) : 0;
	printf("journal header shape read back: %.2f ms at %d steps, %.2f ms at %d steps, growth %.2f   target: linear (< 1.3)  %s\n",
	       a, small, b, large, g, g < 1.3 ? "ok" : "MISS");
	return 0;
}
