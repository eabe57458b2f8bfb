/*
 * bench_waves.c - how close the executor gets to the best schedule (issue 4):
 * a runbook of VMS simulated VMs failed over in WAVES dependent waves
 * (bench/gen_waves.sh), run in process on the virtual clock against an
 * in-memory simulator with its realistic durations, first in the declared
 * order (a learning run that records the duration history), then
 * longest-first from what it learnt (docs/execution.md, "Order"). For each
 * run, from its events:
 *
 *   achieved   the makespan: run start to the end of the last validation
 *   bound      the lower bound the dependencies and the concurrency limit
 *              allow, given the durations the tasks actually had: the waves
 *              are barriers, so it is the sum over waves of
 *                max( max_i (f_i + p_i),
 *                     max_q ( sum_{p_j >= q} f_j / C + q ),
 *                     min_{1 <= k <= min(n, C)} ( sum_j f_j + S_k ) / k )
 *              where f_i is VM i's failover task, p_i its validation
 *              (pipelined after it), C the failover step's concurrency (the
 *              last two terms only when C limits) and S_k the sum of the k
 *              smallest p: every VM whose validation takes at least q must
 *              fail over first, C at a time, and the last of them is then
 *              validated for at least q; and the failovers form at most C
 *              back-to-back chains, each ending with a VM still to be
 *              validated (bench/README.md has the proofs)
 *
 * and prints the gap, and the makespan of an ideal list scheduler with the
 * same launch order and no overhead (what the executor itself adds). As a
 * reference, it also plans each wave offline with the same history (a
 * local search over the slots' contents: see wave_plan) and reports how that
 * order would have done with the durations the run actually had.
 *
 *   bench_waves RUNBOOK OTHER_SEED_RUNBOOK CONCURRENCY OUT_DIR   (CONCURRENCY 0: no limit)
 *
 * OTHER_SEED_RUNBOOK is the same runbook on a simulator with another seed:
 * its durations are drawn anew, so a history learnt there says nothing
 * about RUNBOOK's (the worst case of a stale history). OUT_DIR gets the
 * history files. Built against the library by bench/bench_waves.sh; not
 * part of make check.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backends/backend.h"
#include "run/exec.h"
#include "journal/history.h"
#include "front/plan.h"
#include "front/runbook.h"

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
static double wave_bound(const model *m, int w, int c, double *old_formula)
{
	double *fp = calloc(2 * m->n + 2, sizeof *fp), chain = 0, best = 0, sum = 0, total = 0;
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++) {
		const vmrec *r = &m->v[i];
		if (r->wave != w || r->fo_end < 0 || r->up_end < 0)
			continue;
		fp[2 * k] = (double)(r->fo_end - r->fo_start);
		fp[2 * k + 1] = (double)(r->up_end - r->fo_end);
		if (fp[2 * k] + fp[2 * k + 1] > chain)
			chain = fp[2 * k] + fp[2 * k + 1];
		total += fp[2 * k];
		k++;
	}
	qsort(fp, k, 2 * sizeof *fp, by_tail_desc);
	for (size_t i = 0; c > 0 && i < k; i++) {
		sum += fp[2 * i];
		if (sum / c + fp[2 * i + 1] > best)
			best = sum / c + fp[2 * i + 1];
	}
	*old_formula = chain > best ? chain : best;
	/* at most min(k, c) chains of failovers; each ends with a VM still to validate: the shortest tails */
	double chains = 0, tails = 0;
	for (size_t j = 1; c > 0 && j <= k && j <= (size_t)c; j++) {
		tails += fp[2 * (k - j) + 1];
		double v = (total + tails) / (double)j;
		if (j == 1 || v < chains)
			chains = v;
	}
	free(fp);
	return *old_formula > chains ? *old_formula : chains;
}

/* A VM of a wave: its actual failover and validation durations, and what the planner believes they are. */
typedef struct job {
	const vmrec *r;
	double f, p; /* actual */
	double ef, ep; /* estimated */
	double start; /* planned */
} job;

static int by_start(const void *a, const void *b)
{
	const job *x = a, *y = b;
	return (x->start > y->start) - (x->start < y->start);
}

static int by_launch(const void *a, const void *b)
{
	const job *x = a, *y = b;
	return (x->r->fo_start > y->r->fo_start) - (x->r->fo_start < y->r->fo_start);
}

/* The wave's VMs; est (NULL: the actual durations) gives the estimates, from a history. */
static job *wave_jobs(const model *m, int w, const dr_history *est, size_t *n)
{
	job *v = calloc(m->n + 1, sizeof *v);
	size_t k = 0;
	for (size_t i = 0; i < m->n; i++) {
		const vmrec *r = &m->v[i];
		if (r->wave != w || r->fo_end < 0 || r->up_end < 0)
			continue;
		job *j = &v[k++];
		j->r = r;
		j->f = j->ef = (double)(r->fo_end - r->fo_start);
		j->p = j->ep = (double)(r->up_end - r->fo_end);
		if (est) {
			j->ef = (double)dr_history_expect(est, "dr.failover", r->name);
			j->ep = (double)dr_history_expect(est, "dr.probe", r->name);
		}
	}
	*n = k;
	return v;
}

/*
 * A list scheduler without overhead: the jobs in this order, each failover on
 * the first free of c slots the instant one frees, its validation right
 * after. Its makespan with the actual durations.
 */
static double list_schedule(const job *v, size_t k, int c)
{
	size_t slots = c > 0 && (size_t)c < k ? (size_t)c : k;
	double *free_at = calloc(slots + 1, sizeof *free_at), end = 0;
	for (size_t i = 0; i < k; i++) {
		size_t s = 0;
		for (size_t j = 1; j < slots; j++)
			if (free_at[j] < free_at[s])
				s = j;
		free_at[s] += v[i].f;
		if (free_at[s] + v[i].p > end)
			end = free_at[s] + v[i].p;
	}
	free(free_at);
	return end;
}

/* The wave as the run launched it, by an ideal list scheduler: what the executor adds is the rest. */
static double wave_ideal(const model *m, int w, int c)
{
	size_t k;
	job *v = wave_jobs(m, w, NULL, &k);
	qsort(v, k, sizeof *v, by_launch);
	double end = list_schedule(v, k, c);
	free(v);
	return end;
}

/* splitmix64: the search's and the perturbed histories' draws, the same on every machine. */
static uint64_t next_u64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* --- an offline planner, for reference ------------------------------- */

static int by_ep_desc(const void *a, const void *b)
{
	const job *x = *(job *const *)a, *y = *(job *const *)b;
	return (x->ep < y->ep) - (x->ep > y->ep);
}

static int by_efp_desc(const void *a, const void *b)
{
	const job *x = a, *y = b;
	return (x->ef + x->ep < y->ef + y->ep) - (x->ef + x->ep > y->ef + y->ep);
}

/* A slot's end (estimated): its jobs back to back, longest validation first (Jackson's rule: optimal on one slot). */
static double slot_end(job **v, size_t n)
{
	qsort(v, n, sizeof *v, by_ep_desc);
	double t = 0, e = 0;
	for (size_t i = 0; i < n; i++) {
		v[i]->start = t;
		t += v[i]->ef;
		if (t + v[i]->ep > e)
			e = t + v[i]->ep;
	}
	return e;
}

typedef struct slots {
	job **v; /* slot j's jobs at v[j * cap], n[j] of them */
	size_t *n, cap, c;
	double *end;
	job **save_a, **save_b; /* cap each: a move is undone from these */
} slots;

/* Try moving job i of slot a to slot b (j == SIZE_MAX) or swapping it with job j of b; keep it if better. */
static void try_move(slots *S, size_t a, size_t i, size_t b, size_t j)
{
	job **va = &S->v[a * S->cap], **vb = &S->v[b * S->cap];
	size_t na = S->n[a], nb = S->n[b];
	memcpy(S->save_a, va, na * sizeof *va);
	memcpy(S->save_b, vb, nb * sizeof *vb);
	if (j == SIZE_MAX) {
		vb[S->n[b]++] = va[i];
		va[i] = va[--S->n[a]];
	} else {
		job *t = va[i];
		va[i] = vb[j];
		vb[j] = t;
	}
	double ea = slot_end(va, S->n[a]), eb = slot_end(vb, S->n[b]);
	double before = S->end[a] > S->end[b] ? S->end[a] : S->end[b], after = ea > eb ? ea : eb;
	if (after < before || (after == before && ea + eb < S->end[a] + S->end[b])) {
		S->end[a] = ea;
		S->end[b] = eb;
		return;
	}
	memcpy(va, S->save_a, na * sizeof *va);
	memcpy(vb, S->save_b, nb * sizeof *vb);
	S->n[a] = na;
	S->n[b] = nb;
	slot_end(va, na); /* their planned starts as they were */
	slot_end(vb, nb);
}

/* Fill c slots with the jobs (longest estimate first, each to the least loaded), then improve by local search. */
static void plan_slots(slots *S, job *v, size_t k, uint64_t rng)
{
	qsort(v, k, sizeof *v, by_efp_desc);
	double *load = calloc(S->c + 1, sizeof *load);
	for (size_t i = 0; i < k; i++) {
		size_t s = 0;
		for (size_t j = 1; j < S->c; j++)
			if (load[j] < load[s])
				s = j;
		load[s] += v[i].ef;
		S->v[s * S->cap + S->n[s]++] = &v[i];
	}
	free(load);
	for (size_t j = 0; j < S->c; j++)
		S->end[j] = slot_end(&S->v[j * S->cap], S->n[j]);
	for (int it = 0; S->c > 1 && it < 100000; it++) {
		size_t a = 0;
		for (size_t j = 1; it % 2 == 0 && j < S->c; j++)
			if (S->end[j] > S->end[a])
				a = j;
		if (it % 2)
			a = next_u64(&rng) % S->c;
		size_t b = next_u64(&rng) % S->c;
		if (a == b || !S->n[a])
			continue;
		size_t i = next_u64(&rng) % S->n[a];
		size_t j = (next_u64(&rng) & 1) && S->n[b] ? next_u64(&rng) % S->n[b] : SIZE_MAX;
		try_move(S, a, i, b, j);
	}
}

/*
 * A reference for the executor's longest-first: plan the wave offline with
 * the estimates of est (NULL: the actual durations, a clairvoyant planner)
 * by a local search over which VMs share a slot, then run the plan's order
 * (by planned start) through an ideal list scheduler with the actual
 * durations. Far too slow and too trusting of its estimates for a run; it
 * says how much better than longest-first an order could be.
 */
static double wave_plan(const model *m, int w, int c, const dr_history *est)
{
	size_t k;
	job *v = wave_jobs(m, w, est, &k);
	size_t nc = c > 0 && (size_t)c < k ? (size_t)c : k;
	slots S = {calloc(nc * k + 1, sizeof *S.v), calloc(nc + 1, sizeof *S.n), k, nc, calloc(nc + 1, sizeof *S.end),
		   calloc(k + 1, sizeof *S.save_a), calloc(k + 1, sizeof *S.save_b)};
	plan_slots(&S, v, k, (uint64_t)w * 7919 + (uint64_t)c);
	qsort(v, k, sizeof *v, by_start);
	double end = list_schedule(v, k, c);
	free(S.v);
	free(S.n);
	free(S.end);
	free(S.save_a);
	free(S.save_b);
	free(v);
	return end;
}

/* --- runs -------------------------------------------------------------- */

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

/* How a run orders its tasks, which history it reads (NULL: none) or learns into. */
typedef struct variant {
	const char *label;
	dr_order order;
	const char *history;
	bool learn;
} variant;

/* Run rb on an in-memory simulator; the events in *text. Returns the wall ms, -1 on failure. */
static double run(dr_runbook *rb, const variant *v, char **text, size_t *len)
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
		o.order = v->order;
		o.history = !v->history ? DR_HISTORY_OFF : v->learn ? DR_HISTORY_UPDATE : DR_HISTORY_READ;
		o.history_path = v->history;
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

/* Copy the history at from to to, each estimate times a factor drawn uniformly in [1 - pct, 1 + pct]. */
static int perturb(const char *from, const char *to, double pct, uint64_t seed)
{
	dr_history *h = dr_history_new();
	dr_buf msg;
	dr_buf_init(&msg);
	int rc = dr_history_load(h, from, &msg);
	for (size_t i = 0; rc == 0 && i < dr_history_count(h); i++) {
		dr_history_entry e = *dr_history_at(h, i);
		double u = (double)(next_u64(&seed) >> 11) / 9007199254740992.0;
		e.ewma_ms = (int64_t)((double)e.ewma_ms * (1 - pct + 2 * pct * u));
		dr_history_set(h, &e);
	}
	if (rc == 0)
		rc = dr_history_save(h, to, &msg);
	if (rc)
		fprintf(stderr, "bench_waves: %s\n", msg.data);
	dr_buf_dispose(&msg);
	dr_history_free(h);
	return rc;
}

static dr_history *load(const char *path)
{
	dr_history *h = dr_history_new();
	dr_buf msg;
	dr_buf_init(&msg);
	if (dr_history_load(h, path, &msg) != 0)
		fprintf(stderr, "bench_waves: %s\n", msg.data);
	dr_buf_dispose(&msg);
	return h;
}

/* What one run achieved. */
typedef struct figures {
	double makespan, bound, old_bound, ideal, wall;
	char status[32];
	model m; /* its durations, for the offline plans */
} figures;

static int measure(dr_runbook *rb, const variant *v, int c, figures *out)
{
	char *text = NULL;
	size_t len = 0;
	*out = (figures){0};
	out->wall = run(rb, v, &text, &len);
	if (out->wall < 0)
		return -1;
	parse(&out->m, text, len);
	free(text);
	for (int w = 1; w <= out->m.waves; w++) {
		double old;
		out->bound += wave_bound(&out->m, w, c, &old);
		out->old_bound += old;
		out->ideal += wave_ideal(&out->m, w, c);
	}
	out->makespan = (double)out->m.makespan;
	snprintf(out->status, sizeof out->status, "%s", out->m.status);
	return 0;
}

static double gap_of(double makespan, double bound)
{
	return bound > 0 ? 100.0 * (makespan - bound) / bound : 0;
}

/* One row: its makespan, gap and verdict, and a RESULT line for bench_waves.sh. */
static void row(int c, const char *what, const char *history, double makespan, double bound, const figures *f)
{
	char a[32];
	fmt(makespan, a, sizeof a);
	double gap = gap_of(makespan, bound);
	printf("  %-28s %-24s %s %8.3f%%  %s", what, history, a, gap, gap <= 2 ? "PASS" : "MISS");
	if (f)
		printf("   (run %s, %.0f ms wall; the executor adds %.3f%% to an ideal list scheduler)", f->status, f->wall,
		       gap_of(f->makespan, f->ideal));
	printf("\nRESULT concurrency=%d what=%s history=%s makespan_ms=%.0f bound_ms=%.0f gap_pct=%.4f overhead_pct=%.4f\n",
	       c, what, history, makespan, bound, gap, f ? gap_of(f->makespan, f->ideal) : 0.0);
}

/* The offline planner's row for history h (NULL: clairvoyant), evaluated on the durations of f. */
static void plan_row(int c, const char *history, const dr_history *h, const figures *f)
{
	double end = 0;
	for (int w = 1; w <= f->m.waves; w++)
		end += wave_plan(&f->m, w, c, h);
	row(c, "offline plan (reference)", history, end, f->bound, NULL);
}

static char *path_in(const char *dir, const char *name)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *p = malloc(n);
	if (!p)
		abort();
	snprintf(p, n, "%s/%s", dir, name);
	remove(p);
	return p;
}

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: bench_waves RUNBOOK OTHER_SEED_RUNBOOK CONCURRENCY OUT_DIR\n");
		return 2;
	}
	int c = atoi(argv[3]);
	dr_runbook *rb = compile(argv[1]), *other = compile(argv[2]);
	const char *names[] = {"learnt", "learnt +-10%", "learnt +-25%", "another seed's"};
	char *paths[] = {path_in(argv[4], "history-learnt.json"), path_in(argv[4], "history-noise10.json"),
			 path_in(argv[4], "history-noise25.json"), path_in(argv[4], "history-other-seed.json")};
	int rc = rb && other ? 0 : 1;
	figures learning, f;
	const variant learn = {"declared", DR_ORDER_DECLARED, paths[0], true};
	if (!rc)
		rc = measure(rb, &learn, c, &learning);
	if (!rc && (perturb(paths[0], paths[1], 0.10, 10) || perturb(paths[0], paths[2], 0.25, 25)))
		rc = 1;
	char *text = NULL;
	size_t len = 0;
	const variant other_learn = {"declared", DR_ORDER_DECLARED, paths[3], true};
	if (!rc && run(other, &other_learn, &text, &len) < 0)
		rc = 1;
	free(text);
	if (!rc) {
		char b[32], o[32];
		fmt(learning.bound, b, sizeof b);
		fmt(learning.old_bound, o, sizeof o);
		printf("  lower bound %s (%.0f ms; without its third term, the earlier formula: %s)\n", b, learning.bound, o);
		printf("  %-28s %-24s %-8s %9s  2%%\n", "order", "history", "makespan", "gap");
		row(c, "declared", "none (learning run)", learning.makespan, learning.bound, &learning);
	}
	for (size_t i = 0; !rc && i < 4; i++) {
		const variant v = {"longest-first", DR_ORDER_LONGEST_FIRST, paths[i], false};
		rc = measure(rb, &v, c, &f);
		if (!rc)
			row(c, "longest-first", names[i], f.makespan, f.bound, &f);
		free(f.m.v);
	}
	for (size_t i = 0; !rc && i < 4; i++) {
		dr_history *h = load(paths[i]);
		plan_row(c, names[i], h, &learning);
		dr_history_free(h);
	}
	if (!rc)
		free(learning.m.v);
	for (size_t i = 0; i < 4; i++)
		free(paths[i]);
	dr_runbook_free(rb);
	dr_runbook_free(other);
	return rc ? 1 : 0;
}
