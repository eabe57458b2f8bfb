/*
 * bench_azure.c - a whole estate failed over through the Azure backend
 * (issue 9): `drover run`'s executor with `backend: {kind: azure}` against
 * the emulator started in this process, with ARM's token bucket on (reads
 * 250 + 25/s, writes 200 + 10/s), at two estate sizes. Per size it prints:
 *
 *   wall time of the run, against the service's own bound (the longest
 *   failover job: what the run would take with no API limit at all) and
 *   against ARM's floor (the run's reads beyond the bucket at 25 a second,
 *   its writes beyond it at 10 a second)
 *   requests per VM: reads and writes; accepted failovers per VM (target: 1)
 *   polls per job, against the job's own changes (Retry-After says when the
 *   next one comes: a client that polls no faster than that needs about
 *   one poll per change)
 *   TCP connections opened (target: at most the worker pool, 16)
 *   429s answered (target: 0, the client-side limiter paces under ARM's)
 *   time requests waited for the limiter, tokens fetched
 *   records of earlier starts each start compares in its look for a lost
 *   answer on its item (indexed: about 0, not (n-1)/2)
 *
 * then growth exponents between the sizes (log(x2/x1) / log(n2/n1)).
 *
 *   bench_azure --vms 200 --vms 1000 --speed 600 --dir bench/out/azure
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backends/azure.h"
#include "emulator/emulator.h"
#include "front/diag.h"
#include "front/runbook.h"
#include "run/exec.h"

#define MAX_SIZES 4

typedef struct result {
	size_t vms;
	double wall_ms, bound_ms, read_floor_ms, write_floor_ms;
	dr_azure_stats az;
	dr_emu_stats emu;
	long accepted_posts, posts, changes;
	dr_run_status status;
} result;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int write_inputs(const char *dir, size_t vms, char *inv, char *rbp, size_t sz)
{
	snprintf(inv, sz, "%s/inventory-%zu.yaml", dir, vms);
	snprintf(rbp, sz, "%s/failover-%zu.yaml", dir, vms);
	FILE *f = fopen(inv, "w"), *g = fopen(rbp, "w");
	if (!f || !g)
		return -1;
	fputs("vms:\n", f);
	for (size_t i = 0; i < vms; i++)
		fprintf(f, "  - {name: vm-%05zu, tags: {tier: t%zu}}\n", i, i % 7);
	fclose(f);
	fprintf(g, "drover: 1\nname: azure-bench-%zu\n"
		   "backend: {kind: azure, subscription: 00000000-0000-0000-0000-000000000000, resource_group: drover-sim,\n"
		   "          vault: drover-sim-vault, endpoint: \"${env.EMU_URL}\", credential: client_secret}\n"
		   "vm_sets: {all: {match: {name: \"^vm-\"}, expect: {count: %zu}}}\n"
		   "recovery: {point: latest-processed, max_age: 1h}\n"
		   "defaults: {timeout: 6h, retry: {attempts: 3, delay: 5s, on: [transient, throttled]}}\n"
		   "steps:\n  - {id: failover, action: dr.failover, targets: all, with: {shutdown_source: false}}\n",
		vms, vms);
	fclose(g);
	return 0;
}

/* Accepted failover POSTs and all POSTs, from the emulator's audit log. */
static void audit_counts(const char *path, long *accepted, long *posts)
{
	FILE *f = fopen(path, "r");
	char line[8192];
	*accepted = *posts = 0;
	while (f && fgets(line, sizeof line, f)) {
		if (!strstr(line, "unplannedFailover"))
			continue;
		(*posts)++;
		*accepted += strstr(line, "\"accepted\":true") != NULL;
	}
	if (f)
		fclose(f);
}

/* The service's bound: its longest failover job; and how many times the jobs change (tasks ending). */
static void job_figures(dr_backend *be, result *r)
{
	dr_arena *a = dr_arena_new();
	dr_be_job *jobs;
	size_t n;
	dr_be_error e;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	int64_t now = (int64_t)ts.tv_sec * 1000;
	dr_be_job_filter f = {.since_ms = now - 6 * 3600 * 1000};
	if (dr_backend_list_jobs(be, a, now, &f, &jobs, &n, &e) == 0)
		for (size_t i = 0; i < n; i++) {
			double d = (double)(jobs[i].end_ms - jobs[i].start_ms);
			if (jobs[i].op == DR_BE_OP_FAILOVER && d > r->bound_ms)
				r->bound_ms = d;
			r->changes += (long)jobs[i].n_tasks;
		}
	dr_arena_free(a);
}

static int bench_size(size_t vms, double speed, const char *dir, result *r)
{
	char inv[512], rbp[512], audit[512], url[160], err[512] = "";
	if (write_inputs(dir, vms, inv, rbp, sizeof inv) < 0)
		return -1;
	snprintf(audit, sizeof audit, "%s/audit-%zu.jsonl", dir, vms);
	unlink(audit);
	dr_diags *d = dr_diags_new();
	dr_emu_opts o = {.listen = "127.0.0.1:0", .inventory = inv, .speed = speed, .audit_path = audit};
	dr_emu *e = dr_emu_new(&o, d, err, sizeof err);
	if (!e || dr_emu_start(e, url, sizeof url, err, sizeof err) < 0) {
		fprintf(stderr, "bench_azure: %s\n", err);
		return -1;
	}
	setenv("EMU_URL", url, 1);
	setenv("AZURE_AUTHORITY_HOST", url, 1);
	dr_runbook *rb = dr_runbook_compile(rbp, d, NULL);
	dr_arena *a = dr_arena_new();
	dr_be_error be_err;
	dr_backend_opts bo = {0};
	dr_backend *be = rb ? dr_backend_open(rb, &bo, a, d, &be_err) : NULL;
	if (!be) {
		dr_diags_render_text(d, stderr, false);
		return -1;
	}
	dr_exec_opts x;
	dr_exec_opts_init(&x);
	char sd[600];
	snprintf(sd, sizeof sd, "%s/state-%zu", dir, vms);
	x.state_dir = sd;
	x.view = DR_VIEW_QUIET;
	x.backend = be;
	x.history = DR_HISTORY_OFF;
	dr_buf msg;
	dr_buf_init(&msg);
	double t0 = now_ms();
	r->status = dr_exec_run(rb, &x, &msg);
	r->wall_ms = now_ms() - t0;
	if (r->status != DR_RUN_SUCCEEDED)
		fprintf(stderr, "bench_azure: the run ended %s: %s\n", dr_run_status_name(r->status), msg.data ? msg.data : "");
	dr_azure_stats_get(be, &r->az);
	dr_emu_get_stats(e, &r->emu);
	audit_counts(audit, &r->accepted_posts, &r->posts);
	job_figures(be, r);
	r->vms = vms;
	/* ARM's buckets: what is over the burst goes at the refill rate */
	r->read_floor_ms = r->az.reads > 250 ? (double)(r->az.reads - 250) / 25.0 * 1000.0 : 0;
	r->write_floor_ms = r->az.writes > 200 ? (double)(r->az.writes - 200) / 10.0 * 1000.0 : 0;
	dr_buf_dispose(&msg);
	dr_backend_close(be);
	dr_arena_free(a);
	dr_runbook_free(rb);
	dr_diags_free(d);
	dr_emu_free(e);
	return 0;
}

static double per(double x, size_t n)
{
	return x / (double)(n ? n : 1);
}

static void print(const result *r, double speed)
{
	printf("  %zu VMs, one dr.failover each (emulator at --speed %g, ARM's token bucket on):\n", r->vms, speed);
	printf("    run               %9.0f ms  (%s)\n", r->wall_ms, dr_run_status_name(r->status));
	printf("    service's bound   %9.0f ms  the longest failover job; the run is %.1fx it\n", r->bound_ms,
	       r->wall_ms / (r->bound_ms > 0 ? r->bound_ms : 1));
	printf("    ARM's floor       %9.0f ms  reads beyond the bucket's 250 at 25/s; writes: %.0f ms beyond 200 at 10/s\n",
	       r->read_floor_ms, r->write_floor_ms);
	printf("    requests per VM   %9.2f reads, %.2f writes; accepted failovers per VM %.2f (posts %ld)\n",
	       per((double)r->az.reads, r->vms), per((double)r->az.writes, r->vms), per((double)r->accepted_posts, r->vms),
	       r->posts);
	printf("    polls per job     %9.2f  (each job changes %.2f times: Retry-After says when)\n",
	       per((double)r->az.polls, r->vms), per((double)r->changes, r->vms));
	printf("    TCP connections   %9llu\n", (unsigned long long)r->az.connections);
	printf("    lost-answer look  %9.2f records compared per start (%llu in all; a scan of every record: (n-1)/2)\n",
	       per((double)r->az.rec_probes, r->vms), (unsigned long long)r->az.rec_probes);
	printf("    429s              %9llu  answered by the emulator; %llu seen by drover, %llu requests retried\n",
	       (unsigned long long)r->emu.throttled, (unsigned long long)r->az.throttled,
	       (unsigned long long)r->az.retries);
	printf("    limiter waits     %9.0f ms in all (%.1f ms per request); tokens fetched %d\n",
	       (double)r->az.limiter_wait_ms,
	       per((double)r->az.limiter_wait_ms, (size_t)(r->az.reads + r->az.writes)), r->az.tokens);
}

static double exponent(double a, double b, size_t n1, size_t n2)
{
	return a > 0 && b > 0 ? log(b / a) / log((double)n2 / (double)n1) : NAN;
}

int main(int argc, char **argv)
{
	size_t sizes[MAX_SIZES], n = 0;
	double speed = 600;
	const char *dir = "bench/out/azure";
	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--vms") == 0 && n < MAX_SIZES)
			sizes[n++] = (size_t)atol(argv[i + 1]);
		else if (strcmp(argv[i], "--speed") == 0)
			speed = atof(argv[i + 1]);
		else if (strcmp(argv[i], "--dir") == 0)
			dir = argv[i + 1];
	}
	if (!n)
		sizes[n++] = 1000;
	mkdir(dir, 0755);
	setenv("AZURE_TENANT_ID", "tenant-1", 1);
	setenv("AZURE_CLIENT_ID", DR_EMU_CLIENT_ID, 1);
	setenv("AZURE_CLIENT_SECRET", DR_EMU_CLIENT_SECRET, 1);
	unsetenv("http_proxy");
	result r[MAX_SIZES] = {0};
	printf("drover bench: failover through the Azure backend against drover emulator\n");
	for (size_t i = 0; i < n; i++) {
		if (bench_size(sizes[i], speed, dir, &r[i]) < 0)
			return 1;
		print(&r[i], speed);
	}
	if (n >= 2) {
		const result *a = &r[0], *b = &r[n - 1];
		printf("growth %zu -> %zu VMs (1 is linear): run %.2f, reads %.2f, polls %.2f, connections %.2f\n", a->vms,
		       b->vms, exponent(a->wall_ms, b->wall_ms, a->vms, b->vms),
		       exponent((double)a->az.reads, (double)b->az.reads, a->vms, b->vms),
		       exponent((double)a->az.polls, (double)b->az.polls, a->vms, b->vms),
		       exponent((double)a->az.connections, (double)b->az.connections, a->vms, b->vms));
	}
	const result *big = &r[n - 1];
	printf("targets (issue 9, %zu VMs):\n", big->vms);
	printf("  one accepted failover per VM            %.2f   %s\n", per((double)big->accepted_posts, big->vms),
	       big->accepted_posts == (long)big->vms ? "PASS" : "MISS");
	printf("  TCP connections <= the worker pool (16) %llu   %s\n", (unsigned long long)big->az.connections,
	       big->az.connections <= 16 ? "PASS" : "MISS");
	printf("  429s with the limiter on                %llu   %s\n", (unsigned long long)big->emu.throttled,
	       big->emu.throttled == 0 ? "PASS" : "MISS");
	printf("  polls per job <= changes + 1            %.2f   %s\n", per((double)big->az.polls, big->vms),
	       big->az.polls <= (uint64_t)(big->changes + (long)big->vms) ? "PASS" : "MISS");
	return 0;
}
