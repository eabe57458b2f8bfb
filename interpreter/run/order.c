/*
 * order.c - which ready task takes a free concurrency slot first
 * (docs/execution.md, "Order"), and the duration history it learns from.
 *
 * A step whose order is longest-first, whose tasks can outnumber its slots
 * (its concurrency is below its task count, or the run has --concurrency)
 * and some of whose tasks the history knows, queues its ready tasks in a
 * heap instead of the FIFO list, by a rank fixed when the step starts
 * (rank_known): tasks the history does not know first, then the task
 * expected to keep its VM busy longest (its own estimate plus those of the
 * same VM's tasks in the steps that follow it with pipeline: true), except
 * that the tasks whose VMs have least left to do after them are kept for
 * the slots' last turn; equal ranks in the order they became ready. Every
 * other step keeps the FIFO, so without a history nothing changes.
 *
 * The history is read once at the start (<state-dir>/history.json, or
 * dr_exec_opts.history_path) and this run's samples (the duration of each
 * successful attempt started live, per action and VM) are merged into the
 * file at the end. Both happen only when the run asks for a history
 * (dr_exec_opts.history; by default when it keeps a journal).
 */
#include "run/exec_int.h"
#include "journal/history.h"
#include "journal/journal_int.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/xalloc.h"

typedef struct sample {
	const char *action, *vm; /* the action table's name, the inventory's (both outlive the run's end) */
	int64_t ms;
} sample;

struct ordering {
	dr_history *hist;
	const char *path;
	bool update; /* merge this run's samples into the file at the end */
	sample *v;
	size_t n, cap;
	uint64_t ready_seq;
};

static bool wanted(const dr_exec *x, bool *update)
{
	switch (x->o.history) {
	case DR_HISTORY_OFF: return false;
	case DR_HISTORY_READ: *update = false; return true;
	case DR_HISTORY_UPDATE: *update = true; return true;
	case DR_HISTORY_AUTO:
	default: *update = x->o.journal; return x->o.journal;
	}
}

static void warn_event(dr_exec *x, const char *path, const char *message)
{
	cJSON *ev = dr_event_new(x->ev, "history.warning");
	cJSON_AddStringToObject(ev, "file", path);
	cJSON_AddStringToObject(ev, "message", message);
	dr_events_emit(x->ev, ev);
}

void order_open(dr_exec *x)
{
	bool update = false;
	if (!wanted(x, &update))
		return;
	struct ordering *o = xcalloc(1, sizeof *o);
	o->update = update;
	o->path = x->o.history_path ? x->o.history_path : dr_arena_printf(x->a, "%s/history.json", x->state_dir);
	o->hist = dr_history_new();
	x->ord = o;
	dr_buf warn;
	dr_buf_init(&warn);
	int rc = dr_history_load(o->hist, o->path, &warn);
	if (rc < 0)
		dr_buf_puts(&warn, "; it is ignored: tasks start in the declared order");
	if (rc != 0)
		warn_event(x, o->path, warn.data);
	dr_buf_dispose(&warn);
}

/* --- estimates ------------------------------------------------------- */

/*
 * Actions whose durations stand in for each other when one has no history
 * for a VM: a test failover creates and boots the same VM a failover does,
 * and drills are the runs that happen often, so a first real failover is
 * ordered by what the drills measured (and a first drill by a failover).
 */
static const struct {
	const char *action, *stand_in;
} stand_ins[] = {
	{"dr.failover", "dr.test_failover"},
	{"dr.test_failover", "dr.failover"},
};

static int64_t expect_of(const dr_exec *x, const srun *s, const task *t)
{
	if (!x->ord || !s->act || t->vm == NO_VM)
		return -1;
	const char *vm = x->vms[t->vm].name;
	int64_t ms = dr_history_expect(x->ord->hist, s->act->name, vm);
	for (size_t i = 0; ms < 0 && i < sizeof stand_ins / sizeof stand_ins[0]; i++)
		if (strcmp(stand_ins[i].action, s->act->name) == 0)
			ms = dr_history_expect(x->ord->hist, stand_ins[i].stand_in, vm);
	return ms;
}

#define TAIL_VISITS 256 /* steps looked at per task: pipelined diamonds cannot make it explode */

/* How long vm stays busy after s's task, in the steps that follow s with pipeline: true (what is known). */
static int64_t tail_of(const dr_exec *x, const srun *s, size_t vm, int *visits)
{
	int64_t best = 0;
	for (size_t i = 0; i < s->n_succ && *visits > 0; i++) {
		if (!s->succ_pipe[i])
			continue;
		const srun *n = s->succ[i];
		const task *u = sched_task_for_vm((srun *)n, vm);
		if (!u)
			continue;
		--*visits;
		int64_t e = expect_of(x, n, u);
		int64_t chain = (e > 0 ? e : 0) + tail_of(x, n, vm, visits);
		if (chain > best)
			best = chain;
	}
	return best;
}

/* How many of s's tasks may run at once; 0: as many as it has (no limit binds). */
static size_t slots_of(const dr_exec *x, const srun *s)
{
	int64_t c = s->limit > 0 ? s->limit : INT64_MAX;
	if (x->limit > 0 && x->limit < c)
		c = x->limit;
	return c < (int64_t)s->n_tasks ? (size_t)c : 0;
}

typedef struct ranked {
	task *t;
	int64_t chain, tail; /* the expected time t keeps its VM busy; the part after t itself */
	bool last; /* one of the slots' last tasks */
} ranked;

/* The slots' last tasks: the known tasks whose VMs are expected to be busy shortest after them. */
static int by_tail(const void *a, const void *b)
{
	const ranked *x = a, *y = b;
	if (x->tail != y->tail)
		return x->tail < y->tail ? -1 : 1;
	if (x->chain != y->chain)
		return x->chain < y->chain ? -1 : 1;
	return x->t < y->t ? -1 : x->t > y->t;
}

/* The start order: the other tasks, then the last ones; each longest chain first, ties as declared. */
static int by_rank(const void *a, const void *b)
{
	const ranked *x = a, *y = b;
	if (x->last != y->last)
		return x->last ? 1 : -1;
	if (x->chain != y->chain)
		return x->chain > y->chain ? -1 : 1;
	return x->t < y->t ? -1 : x->t > y->t;
}

/*
 * Rank the known tasks of s (docs/execution.md, "Order"): longest expected
 * chain first (the task and the VM's pipelined tasks after it), except
 * that, when they outnumber the slots, the tasks whose VMs have the least
 * left to do after them are kept for the slots' last turn: what a wave
 * waits for is each slot's last task and what follows it.
 */
static void rank_known(dr_exec *x, srun *s, size_t slots)
{
	ranked *r = xcalloc(s->n_known + 1, sizeof *r);
	size_t n = 0;
	for (size_t k = 0; k < s->n_tasks; k++) {
		task *t = &s->tasks[k];
		if (t->expect_ms < 0)
			continue;
		int visits = TAIL_VISITS;
		r[n].t = t;
		r[n].tail = tail_of(x, s, t->vm, &visits);
		r[n].chain = t->expect_ms + r[n].tail;
		n++;
	}
	if (slots && n > slots) {
		qsort(r, n, sizeof *r, by_tail);
		for (size_t i = 0; i < slots; i++)
			r[i].last = true;
	}
	qsort(r, n, sizeof *r, by_rank);
	for (size_t i = 0; i < n; i++)
		r[i].t->prio = (int64_t)(n - i);
	free(r);
}

void order_step(dr_exec *x, srun *s)
{
	s->n_known = 0;
	for (size_t k = 0; k < s->n_tasks; k++) {
		task *t = &s->tasks[k];
		t->expect_ms = expect_of(x, s, t);
		t->prio = INT64_MAX; /* unknown: first (it may be long) */
		s->n_known += t->expect_ms >= 0;
	}
	size_t slots = slots_of(x, s);
	s->ordered = s->order == DR_ORDER_LONGEST_FIRST && s->n_known > 0 && s->n_tasks > 1 && (slots || x->limit > 0) &&
		     !s->rq_head;
	if (s->ordered)
		rank_known(x, s, slots);
}

/* --- the longest-first queue: a binary max-heap ---------------------- */

/* a goes before b: a higher rank (unknown tasks highest), or the same one and ready earlier. */
static bool before(const task *a, const task *b)
{
	return a->prio != b->prio ? a->prio > b->prio : a->ready_seq < b->ready_seq;
}

static void swap(task **v, size_t i, size_t j)
{
	task *t = v[i];
	v[i] = v[j];
	v[j] = t;
}

void order_push(dr_exec *x, srun *s, task *t)
{
	t->ready_seq = ++x->ord->ready_seq;
	if (s->heap_n == s->heap_cap) {
		size_t c = s->heap_cap ? 2 * s->heap_cap : s->n_tasks + 1;
		s->heap = dr_arena_grow(x->a, s->heap, s->heap_n, c, sizeof *s->heap);
		s->heap_cap = c;
	}
	size_t i = s->heap_n++;
	s->heap[i] = t;
	while (i > 0 && before(s->heap[i], s->heap[(i - 1) / 2])) {
		swap(s->heap, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

task *order_pop(srun *s)
{
	task *top = s->heap[0];
	s->heap[0] = s->heap[--s->heap_n];
	for (size_t i = 0;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < s->heap_n && before(s->heap[l], s->heap[m]))
			m = l;
		if (r < s->heap_n && before(s->heap[r], s->heap[m]))
			m = r;
		if (m == i)
			break;
		swap(s->heap, i, m);
		i = m;
	}
	return top;
}

/* --- samples ---------------------------------------------------------- */

static bool replaying(const dr_exec *x)
{
	return x->jr && x->jr->replaying;
}

void order_started(dr_exec *x, task *t, cJSON *ev)
{
	t->live_attempt = !replaying(x);
	if (ev && t->s->ordered && t->expect_ms >= 0)
		cJSON_AddNumberToObject(ev, "expected_ms", (double)t->expect_ms);
}

/* A name the history may hold: no secret in it (the events would redact it). */
static bool clean_name(dr_exec *x, const char *name)
{
	char *r = dr_events_redact(x->ev, name);
	bool same = strcmp(r, name) == 0;
	free(r);
	return same;
}

void order_sample(dr_exec *x, const task *t)
{
	struct ordering *o = x->ord;
	if (!o || !o->update || !t->live_attempt || replaying(x) || !t->s->act || t->vm == NO_VM)
		return;
	const char *vm = x->vms[t->vm].name;
	if (!vm || !*vm)
		return;
	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 64;
		o->v = xrealloc(o->v, o->cap * sizeof *o->v);
	}
	o->v[o->n++] = (sample){t->s->act->name, vm, dr_clock_now(x->clock) - t->attempt_at};
}

void order_finish(dr_exec *x)
{
	struct ordering *o = x->ord;
	if (!o || !o->update || !o->n)
		return;
	const char **actions = xcalloc(o->n, sizeof *actions), **vms = xcalloc(o->n, sizeof *vms);
	int64_t *ms = xcalloc(o->n, sizeof *ms);
	size_t n = 0;
	for (size_t i = 0; i < o->n; i++) {
		if (!clean_name(x, o->v[i].vm)) /* checked now: a secret may have been read after the sample */
			continue;
		actions[n] = o->v[i].action;
		vms[n] = o->v[i].vm;
		ms[n++] = o->v[i].ms;
	}
	dr_buf warn;
	dr_buf_init(&warn);
	if (n)
		dr_history_merge(o->path, actions, vms, ms, n, &warn);
	if (warn.len)
		warn_event(x, o->path, warn.data);
	dr_buf_dispose(&warn);
	free(actions);
	free(vms);
	free(ms);
}

void order_dispose(dr_exec *x)
{
	if (!x->ord)
		return;
	dr_history_free(x->ord->hist);
	free(x->ord->v);
	free(x->ord);
	x->ord = NULL;
}
