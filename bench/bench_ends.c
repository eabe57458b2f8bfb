/*
 * bench_ends.c - what the run lock and drover approve read of a journal:
 * its two ends, not the lines between (journal_read.c,
 * dr_journal_read_ended and dr_journal_read_header). At two journal sizes
 * (20,000 and 80,000 lines by default), side by side in one process, the
 * CPU time of:
 *
 *   stale lock   dr_runlock_acquire finding a lock its holder left (the
 *                holder's pid is gone, its journal not ended): the refusal
 *                drover run prints (exit 6)
 *   ended, ends  dr_journal_read_ended (what the stale check now reads)
 *   ended, whole dr_journal_read of the whole journal (what it read before)
 *   header, line 1   dr_journal_read_header (drover approve's step check now)
 *   header, whole    dr_journal_read_each of the whole journal (before)
 *
 * each the best of 5, with its growth exponent over the two sizes. Target:
 * the two-ends reads do not grow with the journal (growth < 0.3).
 *
 *   bench_ends DIR [SMALL [LARGE]]   (DIR: a scratch folder it may fill)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "journal/journal.h"
#include "util/fs.h"

#define RUNBOOK "/bench/ends.yaml"
#define BACKEND "sim:/bench/ends-state.json"

static double cpu_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
	return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

/* A header of a 40-step runbook, as a run writes it (version 1: its shape as it is read back). */
static void put_header(FILE *f, const char *run)
{
	fprintf(f, "{\"t_ms\":0,\"event\":\"journal.header\",\"format\":\"%s\",\"version\":1,\"run\":\"%s\","
		   "\"runbook\":{\"path\":\"ends.yaml\",\"abs\":\"" RUNBOOK "\"},\"mode\":\"failover\","
		   "\"direction\":\"primary-to-recovery\",\"params\":{},\"backend\":{\"kind\":\"sim\",\"id\":\"" BACKEND "\"},"
		   "\"clock\":\"virtual\",\"seed\":\"1\",\"concurrency\":null,\"started_ms\":0,\"shape\":{\"steps\":{",
		DR_JOURNAL_FORMAT, run);
	for (int i = 0; i < 40; i++)
		fprintf(f, "%s\"step-%d\":{\"action\":\"dr.failover\",\"digest\":\"%016x\"}", i ? "," : "", i,
			(unsigned)i * 2654435761u);
	fputs("}}}\n", f);
}

/* path opened for writing, its folder made first; exits when it cannot be. */
static FILE *create(char *path)
{
	char *slash = strrchr(path, '/');
	*slash = '\0';
	dr_fs_mkdirs(path, NULL);
	*slash = '/';
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(1);
	}
	return f;
}

/* The journal of run in dir: lines in all, task records of a run that has not ended (a drover killed mid-run). */
static char *make_journal(const char *dir, const char *run, int lines)
{
	char *path = dr_journal_path(dir, run);
	FILE *f = create(path);
	put_header(f, run);
	for (int i = 1; i < lines; i++)
		fprintf(f, i % 2 ? "{\"t_ms\":%d,\"event\":\"task.start\",\"step\":\"step-%d\",\"target\":\"vm-%05d\",\"attempt\":1}\n"
				 : "{\"t_ms\":%d,\"event\":\"task.end\",\"step\":\"step-%d\",\"target\":\"vm-%05d\",\"attempt\":1,"
				   "\"status\":\"succeeded\"}\n",
			i, i % 40, i / 2);
	fclose(f);
	return path;
}

/* The lock of RUNBOOK and BACKEND in dir, as a drover killed mid-run leaves it (its pid no longer runs). */
static void plant_lock(const char *dir, const char *run)
{
	char *lp = dr_runlock_path(dir, RUNBOOK, BACKEND), host[256] = "?";
	gethostname(host, sizeof host - 1);
	FILE *f = create(lp);
	fprintf(f, "{\"pid\":2147483646,\"host\":\"%s\",\"run\":\"%s\",\"runbook\":\"" RUNBOOK "\",\"backend\":\"" BACKEND
		   "\",\"since\":\"2026-01-01T00:00:00.000Z\"}",
		host, run);
	fclose(f);
	free(lp);
}

typedef enum { STALE, ENDS, WHOLE, HEAD, HEAD_WHOLE, N_WAYS } way;
static const char *const names[N_WAYS] = {"stale lock (exit 6)", "ended, two ends", "ended, whole journal",
					  "header, line 1", "header, whole journal"};

static void drop(void *ctx, cJSON *rec)
{
	(void)ctx;
	cJSON_Delete(rec);
}

/* One read the way w, in ms of CPU; exits when its answer is not the one expected. */
static double once(way w, const char *dir, const char *path)
{
	dr_buf err, note;
	dr_buf_init(&err);
	dr_buf_init(&note);
	dr_journal_file f = {0};
	bool ended = true, ok;
	dr_runlock *l = NULL;
	dr_runlock_req req = {.state_dir = dir, .runbook = RUNBOOK, .backend = BACKEND, .run_id = "next"};
	double t0 = cpu_ms();
	switch (w) {
	case STALE: ok = dr_runlock_acquire(&req, &l, &note, &err) == DR_RUNLOCK_STALE; break;
	case ENDS: ok = dr_journal_read_ended(path, &ended, &err) == 0 && !ended; break;
	case WHOLE: ok = dr_journal_read(path, &f, &err) == 0 && !f.ended; break;
	case HEAD: ok = dr_journal_read_header(path, &f, &err) == 0 && f.header; break;
	default: ok = dr_journal_read_each(path, &f, drop, NULL, &err) == 0 && f.header; break;
	}
	double t = cpu_ms() - t0;
	if (!ok) {
		fprintf(stderr, "bench_ends: %s: unexpected answer: %s\n", names[w], err.len ? err.data : "");
		exit(1);
	}
	dr_runlock_release(l, false);
	dr_journal_file_dispose(&f);
	dr_buf_dispose(&err);
	dr_buf_dispose(&note);
	return t;
}

/* The best of 5 of each way, interleaved run by run. */
static void measure(const char *dir, const char *path, double best[N_WAYS])
{
	for (int w = 0; w < N_WAYS; w++)
		best[w] = 1e300;
	for (int r = 0; r < 5; r++)
		for (int w = 0; w < N_WAYS; w++) {
			double t = once((way)w, dir, path);
			best[w] = t < best[w] ? t : best[w];
		}
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: bench_ends DIR [SMALL [LARGE]]\n");
		return 2;
	}
	const char *dir = argv[1];
	int small = argc > 2 ? atoi(argv[2]) : 20000, large = argc > 3 ? atoi(argv[3]) : 80000;
	double a[N_WAYS], b[N_WAYS];
	plant_lock(dir, "held");
	char *pa = make_journal(dir, "held", small);
	measure(dir, pa, a);
	free(make_journal(dir, "held", large));
	measure(dir, pa, b);
	free(pa);
	printf("journal ends (CPU ms, best of 5): the run lock's stale check and drover approve, at %d and %d lines\n", small,
	       large);
	for (int w = 0; w < N_WAYS; w++) {
		double g = a[w] > 0 && b[w] > 0 ? log(b[w] / a[w]) / log((double)large / small) : 0;
		bool bounded = w == STALE || w == ENDS || w == HEAD;
		printf("  %-22s %9.3f ms %9.3f ms  growth %5.2f  %s\n", names[w], a[w], b[w], g,
		       bounded ? (g < 0.3 ? "target: flat (< 0.3)  ok" : "target: flat (< 0.3)  MISS") : "(before)");
	}
	return 0;
}
