/*
 * bench_status.c - `drover status` and `drover runs` against their targets
 * (issue 11, first row):
 *
 *   status  <= 2x a bare parse of the same journal (read the file, parse
 *           each line as JSON, throw it away), at N and 2N VMs x 2 steps,
 *           with the growth exponent of each;
 *   runs    100 runs of N VMs listed in <= 100 ms, reading no whole journal
 *           (bytes read by the listing, in process), with its growth in the
 *           number of runs and in the size of each run.
 *
 * The journals are made from a real one: a small run's journal (TEMPLATE,
 * written by drover on the simulator) whose records about its first VM are
 * repeated for every VM of the big one (the VM's name replaced), the
 * others kept once; 100 runs are hard links of one journal. Prints figures
 * and PASS or MISS; not a test (exit 0 on MISS).
 *
 * Times are CPU time (user + system: what the command costs, whatever else
 * the machine runs); with INSTR=1 in the environment the instructions of
 * both are also counted under valgrind (callgrind), a measure no other load
 * on the machine moves (slow: about a minute).
 *
 * Usage: bench_status --drover BIN --template JOURNAL --vms N --runs R --dir DIR
 *        bench_status --bare JOURNAL        (the bare parse alone, for valgrind)
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "journal/runinfo.h"

extern char **environ;

typedef struct opts {
	const char *drover, *tmpl, *dir;
	long vms;
	int runs;
} opts;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* CPU time (user + system) in ms: what a command costs, whatever else the machine runs. */
static double cpu_ms(const struct rusage *r)
{
	return r->ru_utime.tv_sec * 1e3 + r->ru_utime.tv_usec / 1e3 + r->ru_stime.tv_sec * 1e3 + r->ru_stime.tv_usec / 1e3;
}

static double self_cpu_ms(void)
{
	struct rusage r;
	getrusage(RUSAGE_SELF, &r);
	return cpu_ms(&r);
}

static char *slurp(const char *path, size_t *n)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "bench_status: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	fseek(f, 0, SEEK_END);
	*n = (size_t)ftell(f);
	fseek(f, 0, SEEK_SET);
	char *b = malloc(*n + 1);
	if (fread(b, 1, *n, f) != *n)
		exit(1);
	b[*n] = '\0';
	fclose(f);
	return b;
}

/* --- the big journal ------------------------------------------------------------ */

/* line with every "vm-0001" replaced by name, to f. */
static void put_renamed(FILE *f, const char *line, size_t n, const char *name)
{
	const char *p = line, *end = line + n, *hit;
	while ((hit = memmem(p, (size_t)(end - p), "vm-0001", 7))) {
		fwrite(p, 1, (size_t)(hit - p), f);
		fputs(name, f);
		p = hit + 7;
	}
	fwrite(p, 1, (size_t)(end - p), f);
}

/* The template's header, its global records, and its first VM's records once per VM. */
static void make_journal(const opts *o, long vms, const char *path)
{
	size_t n;
	char *t = slurp(o->tmpl, &n);
	FILE *f = fopen(path, "w");
	bool vm_done = false;
	for (char *p = t, *nl; p < t + n; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(t + n - p));
		size_t len = (size_t)(nl - p) + 1;
		bool first_vm = memmem(p, len, "\"vm-0001\"", 9) != NULL;
		bool other_vm = !first_vm && memmem(p, len, "\"target\":\"vm-", 13) != NULL;
		if (other_vm)
			continue;
		if (!first_vm) {
			fwrite(p, 1, len, f);
			continue;
		}
		if (vm_done)
			continue;
		/* the first VM's records, in order, for every VM */
		for (long v = 1; v <= vms; v++) {
			char name[32];
			snprintf(name, sizeof name, "vm-%04ld", v);
			for (char *q = p, *ql; q < t + n; q = ql + 1) {
				ql = memchr(q, '\n', (size_t)(t + n - q));
				if (memmem(q, (size_t)(ql - q), "\"vm-0001\"", 9))
					put_renamed(f, q, (size_t)(ql - q) + 1, name);
			}
		}
		vm_done = true;
	}
	fclose(f);
	free(t);
}

/* --- timing ---------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof *v, cmp_double);
	return v[n / 2];
}

/* Parse every line of path as JSON and throw it away: the lower bound of reading a journal (CPU ms). */
static double bare_parse(const char *path)
{
	double t0 = self_cpu_ms();
	size_t n;
	char *b = slurp(path, &n);
	for (char *p = b, *nl; p < b + n; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(b + n - p));
		cJSON_Delete(cJSON_ParseWithLength(p, (size_t)(nl - p)));
	}
	free(b);
	return self_cpu_ms() - t0;
}

/* Run drover with args, stdout to /dev/null; its wall time, and its CPU time in *cpu. */
static double run_drover(const opts *o, char *const args[], double *cpu)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	pid_t pid;
	double t0 = now_ms();
	if (posix_spawn(&pid, o->drover, &fa, NULL, args, environ) != 0)
		exit(1);
	int st;
	struct rusage ru;
	wait4(pid, &st, 0, &ru);
	double t = now_ms() - t0;
	if (cpu)
		*cpu = cpu_ms(&ru);
	posix_spawn_file_actions_destroy(&fa);
	if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fprintf(stderr, "bench_status: drover %s failed\n", args[1]);
		exit(1);
	}
	return t;
}

#define REPEAT 5

typedef struct status_fig {
	long vms;
	double bytes, bare, status, wall;
} status_fig;

static status_fig bench_status_at(const opts *o, long vms)
{
	char state[512], run[600], path[700];
	snprintf(state, sizeof state, "%s/status-%ld", o->dir, vms);
	snprintf(run, sizeof run, "%s/runs/big", state);
	snprintf(path, sizeof path, "%s/journal.jsonl", run);
	char cmd[1200];
	snprintf(cmd, sizeof cmd, "mkdir -p '%s'", run);
	if (system(cmd))
		exit(1);
	make_journal(o, vms, path);
	struct stat sb;
	stat(path, &sb);
	double bare[REPEAT], st[REPEAT], wall[REPEAT];
	char *args[] = {(char *)"drover", (char *)"status", (char *)"--state-dir", state, (char *)"big", NULL};
	for (int i = 0; i < REPEAT; i++) {
		bare[i] = bare_parse(path);
		wall[i] = run_drover(o, args, &st[i]);
	}
	return (status_fig){vms, (double)sb.st_size, median(bare, REPEAT), median(st, REPEAT), median(wall, REPEAT)};
}

/* --- runs ------------------------------------------------------------------------- */

/* Bytes this process has read so far (/proc/self/io rchar). */
static long long rchar(void)
{
	FILE *f = fopen("/proc/self/io", "r");
	char line[128];
	long long v = -1;
	while (f && fgets(line, sizeof line, f))
		if (sscanf(line, "rchar: %lld", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

typedef struct runs_fig {
	int runs;
	long vms;
	double ms, read_kb;
} runs_fig;

static runs_fig bench_runs_at(const opts *o, int runs, long vms)
{
	char state[512], src[700], cmd[4096];
	snprintf(state, sizeof state, "%s/runs-%d-%ld", o->dir, runs, vms);
	snprintf(src, sizeof src, "%s/status-%ld/runs/big/journal.jsonl", o->dir, vms);
	snprintf(cmd, sizeof cmd, "rm -rf '%s' && for i in $(seq 1 %d); do mkdir -p '%s'/runs/r$i && ln '%s' '%s'/runs/r$i/journal.jsonl; done",
		 state, runs, state, src, state);
	if (system(cmd))
		exit(1);
	double t[REPEAT];
	char *args[] = {(char *)"drover", (char *)"runs", (char *)"--state-dir", state, NULL};
	for (int i = 0; i < REPEAT; i++)
		t[i] = run_drover(o, args, NULL);
	/* what the listing reads, in process: the same calls as drover runs */
	long long r0 = rchar();
	size_t n;
	char **ids = dr_runinfo_list(state, &n);
	for (size_t i = 0; i < n; i++) {
		dr_runinfo_brief b;
		dr_buf err;
		dr_buf_init(&err);
		dr_runinfo_brief_load(state, ids[i], &b, &err);
		dr_runinfo_brief_dispose(&b);
		dr_buf_dispose(&err);
		free(ids[i]);
	}
	free(ids);
	return (runs_fig){runs, vms, median(t, REPEAT), (double)(rchar() - r0) / 1024};
}

/* --- report ------------------------------------------------------------------------ */

static double exponent(double y1, double y2, double x1, double x2)
{
	return log(y2 / y1) / log(x2 / x1);
}

/* Instructions of a command under callgrind ("Collected : N"); -1 when valgrind cannot run. */
static double instructions(const char *cmd)
{
	char line[512];
	snprintf(line, sizeof line, "valgrind --tool=callgrind --callgrind-out-file=/dev/null %s 2>&1 >/dev/null | "
				    "sed -n 's/.*Collected : //p'",
		 cmd);
	FILE *p = popen(line, "r");
	double n = -1;
	if (p && fscanf(p, "%lf", &n) != 1)
		n = -1;
	if (p)
		pclose(p);
	return n;
}

static void count_instructions(const opts *o, const char *self, long vms)
{
	char cmd[2048];
	snprintf(cmd, sizeof cmd, "%s --bare %s/status-%ld/runs/big/journal.jsonl", self, o->dir, vms);
	double bare = instructions(cmd);
	snprintf(cmd, sizeof cmd, "%s status --state-dir %s/status-%ld big", o->drover, o->dir, vms);
	double status = instructions(cmd);
	if (bare > 0 && status > 0)
		printf("  %6ld VMs, instructions (callgrind): bare parse %.2fG, status %.2fG = %.2fx  %s\n", vms, bare / 1e9,
		       status / 1e9, status / bare, status <= 2 * bare ? "PASS" : "MISS");
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--bare"))
		return bare_parse(argv[2]) < 0;
	opts o = {.vms = 10000, .runs = 100, .dir = "bench/out/status"};
	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--drover"))
			o.drover = argv[i + 1];
		else if (!strcmp(argv[i], "--template"))
			o.tmpl = argv[i + 1];
		else if (!strcmp(argv[i], "--vms"))
			o.vms = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--runs"))
			o.runs = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--dir"))
			o.dir = argv[i + 1];
	}
	if (!o.drover || !o.tmpl) {
		fputs("usage: bench_status --drover BIN --template JOURNAL [--vms N] [--runs R] [--dir DIR]\n", stderr);
		return 2;
	}
	status_fig a = bench_status_at(&o, o.vms), b = bench_status_at(&o, 2 * o.vms);
	printf("drover status (issue 11: <= 2x a bare parse of the same journal), CPU time (user + system), %d runs each, "
	       "medians:\n",
	       REPEAT);
	for (int i = 0; i < 2; i++) {
		status_fig *f = i ? &b : &a;
		printf("  %6ld VMs x 2 steps, journal %.1f MB: bare parse %.0f ms, status %.0f ms = %.2fx  %s  (status wall %.0f ms)\n",
		       f->vms, f->bytes / 1048576, f->bare, f->status, f->status / f->bare,
		       f->status <= 2 * f->bare ? "PASS" : "MISS", f->wall);
	}
	printf("  growth exponent %ld -> %ld VMs: bare parse %.2f, status %.2f (1 = linear)\n", a.vms, b.vms,
	       exponent(a.bare, b.bare, (double)a.vms, (double)b.vms), exponent(a.status, b.status, (double)a.vms, (double)b.vms));
	if (getenv("INSTR") && *getenv("INSTR") == '1') {
		count_instructions(&o, argv[0], a.vms);
		count_instructions(&o, argv[0], b.vms);
	}
	runs_fig r1 = bench_runs_at(&o, o.runs / 2, o.vms), r2 = bench_runs_at(&o, o.runs, o.vms),
		 r3 = bench_runs_at(&o, o.runs, 2 * o.vms);
	printf("drover runs (issue 11: %d runs of %ld VMs in <= 100 ms, reading no whole journal), medians:\n", o.runs, o.vms);
	for (int i = 0; i < 3; i++) {
		runs_fig *f = i == 0 ? &r1 : i == 1 ? &r2 : &r3;
		printf("  %3d runs of %6ld VMs: %.1f ms, %.0f KB read (%.1f KB a run)%s\n", f->runs, f->vms, f->ms, f->read_kb,
		       f->read_kb / f->runs, f == &r2 ? (f->ms <= 100 ? "  PASS" : "  MISS") : "");
	}
	printf("  growth exponent: in runs (%d -> %d) %.2f; in each run's VMs (%ld -> %ld) %.2f (0 = independent)\n",
	       r1.runs, r2.runs, exponent(r1.ms, r2.ms, r1.runs, r2.runs), r2.vms, r3.vms,
	       exponent(r2.ms, r3.ms, (double)r2.vms, (double)r3.vms));
	return 0;
}
