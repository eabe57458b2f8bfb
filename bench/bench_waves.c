/*
 * bench_waves.c - how close the executor gets to the best schedule (issue 4):
 * a runbook of VMS simulated VMs failed over in WAVES dependent waves
 * (bench/gen_waves.sh), run in process on the virtual clock against an
 * in-memory simulator with its realistic durations. From the run's events:
 *
 *   achieved   the makespan: run start to the end of the last validation
 *   bound      the lower bound the dependencies and the concurrency limit
 *              allow, given the durations the tasks actually had: the waves
 *              are barriers, so it is the sum over waves of
 *                max( max_i (f_i + p_i),  max_q ( sum_{p_j >= q} f_j / C + q ) )
 *              where f_i is VM i's failover task, p_i its validation
 *              (pipelined after it) and C the failover step's concurrency
 *              (the second term only when C limits): every VM whose
 *              validation takes at least q must fail over first, C at a
 *              time, and the last of them is then validated for at least q
 *
 * and prints both, the gap, and the wall time of the run.
 *
 *   bench_waves RUNBOOK CONCURRENCY      (CONCURRENCY 0: no limit)
 *
 * Built against the library by bench/bench_waves.sh; not part of make check.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/backend.h"
#include "exec.h"
#include "plan.h"
#include "runbook.h"

typedef struct vmrec {
	char name[64];
	int wave;
	int64_t fo_start, fo_end, up_end;
} vmrec;

typedef struct model {
	vmrec *v;
	size_t n, cap;
	int waves;
	int64_t makespan;
	char status[32];
} model;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static vmrec *vm_of(model *m, const char *name)
{
	for (size_t i = m->n; i-- > 0;) /* recent first: events of one wave come together */
		if (strcmp(m->v[i].name, name) == 0)
			return &m->v[i];
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 1024;
		m->v = realloc(m->v, m->cap * sizeof *m->v);
		if (!m->v)
			abort();
	}
	vmrec *r = &m->v[m->n++];
	memset(r, 0, sizeof *r);
	snprintf(r->name, sizeof r->name, "%s", name);
	r->fo_start = r->fo_end = r->up_end = -1;
	return r;
}

static const char *sv(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static void on_event(model *m, const cJSON *ev)
{
	const char *type = sv(ev, "event"), *step = sv(ev, "step"), *target = sv(ev, "target");
	int64_t t = (int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ev, "t_ms"));
	if (!strcmp(type, "run.end"))
		snprintf(m->status, sizeof m->status, "%s", sv(ev, "status"));
	if (!*target || (strcmp(type, "task.start") && strcmp(type, "task.end")))
		return;
	int wave = 0;
	bool fo = sscanf(step, "failover-w%d", &wave) == 1, up = !fo && sscanf(step, "up-w%d", &wave) == 1;
	if (!fo && !up)
		return;
	vmrec *r = vm_of(m, target);
	r->wave = wave;
	if (wave > m->waves)
		m->waves = wave;
	bool end = !strcmp(type, "task.end") && !strcmp(sv(ev, "status"), "succeeded");
	if (fo && !strcmp(type, "task.start") && r->fo_start < 0)
		r->fo_start = t;
	if (fo && end)
		r->fo_end = t;
	if (up && end)
		r->up_end = t;
	if (end && t > m->makespan)
		m->makespan = t;
}

static void parse(model *m, const char *text, size_t len)
{
	for (const char *p = text, *e = text + len; p < e;) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(e - p);
		cJSON *ev = cJSON_ParseWithLength(p, n);
		if (ev)
			on_event(m, ev);
		cJSON_Delete(ev);
		p += n + 1;
	}
}

static int by_tail_desc(const void *a, const void *b)
{
	const double *x = a, *y = b;
	return (x[1] < y[1]) - (x[1] > y[1]);
}

/* The bound of one wave: its VMs' failover (f) and validation (p) durations, concurrency c. */
static double wave_bound(const model *m, int w, int c, double *work_term)
{
	double *fp = calloc(2 * m->n + 2, sizeof *fp), chain = 0, best = 0, sum = 0;
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++) {
		const vmrec *r = &m->v[i];
		if (r->wave != w || r->fo_end < 0 || r->up_end < 0)
			continue;
		fp[2 * k] = (double)(r->fo_end - r->fo_start);
		fp[2 * k + 1] = (double)(r->up_end - r->fo_end);
		if (fp[2 * k] + fp[2 * k + 1] > chain)
			chain = fp[2 * k] + fp[2 * k + 1];
		k++;
	}
	qsort(fp, k, 2 * sizeof *fp, by_tail_desc);
	for (size_t i = 0; c > 0 && i < k; i++) {
		sum += fp[2 * i];
		if (sum / c + fp[2 * i + 1] > best)
			best = sum / c + fp[2 * i + 1];
	}
	free(fp);
	*work_term = best;
	return chain > best ? chain : best;
}

static int by_start(const void *a, const void *b)
{
	const vmrec *x = *(vmrec *const *)a, *y = *(vmrec *const *)b;
	return (x->fo_start > y->fo_start) - (x->fo_start < y->fo_start);
}

/*
 * The same wave as an ideal list scheduler would run it with these
 * durations: the VMs in the order the run launched them, each failover on
 * the first free of c slots the instant one frees, its validation right
 * after, no overhead at all. The run's own wave time over this is what the
 * executor adds (dispatch, polling, barrier release).
 */
static double wave_ideal(const model *m, int w, int c)
{
	vmrec **v = calloc(m->n + 1, sizeof *v);
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].wave == w && m->v[i].fo_end >= 0 && m->v[i].up_end >= 0)
			v[k++] = &m->v[i];
	qsort(v, k, sizeof *v, by_start);
	size_t slots = c > 0 && (size_t)c < k ? (size_t)c : k;
	double *free_at = calloc(slots + 1, sizeof *free_at), end = 0;
	for (size_t i = 0; i < k; i++) {
		size_t s = 0;
		for (size_t j = 1; j < slots; j++)
			if (free_at[j] < free_at[s])
				s = j;
		double f = (double)(v[i]->fo_end - v[i]->fo_start), p = (double)(v[i]->up_end - v[i]->fo_end);
		free_at[s] += f;
		if (free_at[s] + p > end)
			end = free_at[s] + p;
	}
	free(free_at);
	free(v);
	return end;
}

static dr_runbook *compile(const char *path)
{
	dr_diags *d = dr_diags_new();
	dr_runbook *rb = dr_runbook_compile(path, d, NULL);
	if (!rb || dr_diags_errors(d)) {
		dr_diags_render_text(d, stderr, false);
		dr_runbook_free(rb);
		rb = NULL;
	}
	dr_diags_free(d);
	return rb;
}

/* Run rb on an in-memory simulator; the events in *text. Returns the wall ms, -1 on failure. */
static double run(dr_runbook *rb, char **text, size_t *len)
{
	dr_arena *a = dr_arena_new();
	dr_diags *d = dr_diags_new();
	dr_be_error e;
	dr_backend_opts bo = {.in_memory = true};
	dr_backend *be = dr_backend_open(rb, &bo, a, d, &e);
	double ms = -1;
	if (be) {
		FILE *ev = open_memstream(text, len);
		dr_exec_opts o;
		dr_exec_opts_init(&o);
		o.clock = DR_CLOCK_VIRTUAL;
		o.events = ev;
		o.view = DR_VIEW_QUIET;
		o.backend = be;
		o.auto_approve = true;
		o.state_dir = "bench/out/waves-state";
		dr_buf err;
		dr_buf_init(&err);
		double t0 = now_ms();
		dr_exec_run(rb, &o, &err);
		ms = now_ms() - t0;
		fclose(ev);
		if (err.len)
			fprintf(stderr, "bench_waves: %s", err.data);
		dr_buf_dispose(&err);
	} else {
		fprintf(stderr, "bench_waves: cannot open the simulator: %s\n", e.message ? e.message : "?");
	}
	dr_backend_close(be);
	dr_diags_free(d);
	dr_arena_free(a);
	return ms;
}

static void fmt(double ms, char *out, size_t n)
{
	long long s = (long long)(ms / 1000 + 0.5);
	snprintf(out, n, "%lldh%02lldm%02llds", s / 3600, s / 60 % 60, s % 60);
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: bench_waves RUNBOOK CONCURRENCY\n");
		return 2;
	}
	int c = atoi(argv[2]);
	dr_runbook *rb = compile(argv[1]);
	char *text = NULL;
	size_t len = 0;
	double wall = rb ? run(rb, &text, &len) : -1;
	if (wall < 0)
		return 1;
	model m = {0};
	parse(&m, text, len);
	double bound = 0, ideal = 0;
	char a[32], b[32];
	for (int w = 1; w <= m.waves; w++) {
		double work, wb = wave_bound(&m, w, c, &work);
		bound += wb;
		ideal += wave_ideal(&m, w, c);
		fmt(wb, a, sizeof a);
		fmt(work, b, sizeof b);
		if (c > 0)
			printf("  wave %d  bound %s (work over the limit: %s)\n", w, a, b);
		else
			printf("  wave %d  bound %s (the longest failover + validation)\n", w, a);
	}
	fmt((double)m.makespan, a, sizeof a);
	fmt(bound, b, sizeof b);
	double gap = bound > 0 ? 100.0 * ((double)m.makespan - bound) / bound : 0;
	printf("  %zu VMs, %d waves, concurrency %s: run %s, %.0f ms wall, %zu events bytes\n", m.n, m.waves,
	       c > 0 ? argv[2] : "unlimited", m.status, wall, len);
	printf("  achieved makespan %s (%lld ms)\n  lower bound       %s (%.0f ms)\n  gap               %.3f%%\n", a,
	       (long long)m.makespan, b, bound, gap);
	double over = ideal > 0 ? 100.0 * ((double)m.makespan - ideal) / ideal : 0;
	fmt(ideal, b, sizeof b);
	printf("  ideal list schedule of the same launch order, no overhead: %s; the executor adds %.3f%%\n", b, over);
	printf("RESULT makespan_ms=%lld bound_ms=%.0f gap_pct=%.4f ideal_ms=%.0f overhead_pct=%.4f wall_ms=%.0f status=%s\n",
	       (long long)m.makespan, bound, gap, ideal, over, wall, m.status);
	free(m.v);
	free(text);
	dr_runbook_free(rb);
	return 0;
}
