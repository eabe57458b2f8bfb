/*
 * estimate.c - the predicted RTO, makespan and critical path of a plan,
 * from a run on the virtual clock (see estimate.h).
 *
 * From the run's events, read in process as they happen
 * (dr_exec_opts.on_event; dr_estimate_from_events reads the same from JSON
 * lines): every main task's first start and final end (t_ms), keyed by
 * its plan node and target in a small open-addressing table. The RTO is
 * what the run's own objectives report says (docs/execution.md,
 * "Objectives"; journal/runinfo_objectives.c): the end of the last
 * validation task that passed, else of the last failover; not reached when a
 * validation failed or was cancelled, or when no failover completed (why:
 * the run model's words). The makespan is the end of the last main task. The
 * critical path walks back from the task that decided the RTO (when it was
 * not reached, the task whose failure left it so): a task's
 * predecessor is the task of a step it needs that ended last, at or before
 * its start; when that ended earlier than the start, the task waited, and
 * the task of the same step whose end freed the slot at that instant (if
 * any) is the predecessor instead.
 */
#include "views/estimate.h"

#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "run/events.h"
#include "run/exec.h"
#include "front/plan.h"
#include "util/buf.h"
#include "util/text.h"
#include "util/xalloc.h"

typedef struct trec {
	size_t node; /* plan index */
	char *target; /* "" when not fanned out */
	int64_t start, end;
	bool ok, ended, failed, cancelled; /* failed, cancelled: how it ended, when not ok */
} trec;

typedef struct tasks {
	trec *v;
	size_t n, cap;
	size_t *slots; /* hash of (node, target): index + 1, 0 empty */
	size_t n_slots;
	int64_t run_end;
	const char *status;
	char *status_buf;
	cJSON *first_failure; /* the first task that failed for good: {task, step, at_ms, class, message} */
	char *stopped; /* why the run stopped (run.stopping's reason), NULL when it did not */
	bool stable_steps; /* the typed path: an event's step is the run's own id, the same pointer each time */
	const char *last_step; /* with stable_steps: the step of the last event, and its plan index */
	size_t last_node;
	char *unstarted; /* the first validation task cancelled before it started ("step[target]"), NULL: none */
} tasks;

static uint64_t hash_of(size_t node, const char *target)
{
	uint64_t h = 1469598103934665603ULL ^ ((uint64_t)node * 0x9e3779b97f4a7c15ULL);
	for (const char *c = target; *c; c++)
		h = (h ^ (unsigned char)*c) * 1099511628211ULL;
	return h ^ (h >> 29);
}

static void rehash(tasks *ts)
{
	free(ts->slots);
	ts->n_slots = ts->n_slots ? ts->n_slots * 2 : 1024;
	ts->slots = xcalloc(ts->n_slots, sizeof *ts->slots);
	for (size_t i = 0; i < ts->n; i++) {
		size_t h = hash_of(ts->v[i].node, ts->v[i].target) & (ts->n_slots - 1);
		while (ts->slots[h])
			h = (h + 1) & (ts->n_slots - 1);
		ts->slots[h] = i + 1;
	}
}

/* The slot of the task of plan node node on target ("": not fanned out): its record's, or the empty one for it. */
static size_t slot_of(const tasks *ts, size_t node, const char *target)
{
	size_t h = hash_of(node, target) & (ts->n_slots - 1);
	for (; ts->slots[h]; h = (h + 1) & (ts->n_slots - 1)) {
		const trec *r = &ts->v[ts->slots[h] - 1];
		if (r->node == node && strcmp(r->target, target) == 0)
			break;
	}
	return h;
}

/* The record of the task of plan node node on target, made when new. */
static trec *find(tasks *ts, size_t node, const char *target)
{
	if (!ts->n_slots || 2 * (ts->n + 1) > ts->n_slots)
		rehash(ts);
	size_t h = slot_of(ts, node, target);
	if (ts->slots[h])
		return &ts->v[ts->slots[h] - 1];
	if (ts->n == ts->cap) {
		ts->cap = ts->cap ? 2 * ts->cap : 256;
		ts->v = xrealloc(ts->v, ts->cap * sizeof *ts->v);
	}
	trec *r = &ts->v[ts->n];
	*r = (trec){.node = node, .target = xstrdup(target), .start = -1, .end = -1};
	ts->slots[h] = ++ts->n;
	return r;
}

static const char *str_of(const cJSON *c)
{
	return cJSON_IsString(c) ? c->valuestring : NULL;
}

/* Which field of an event key is, by its first letter and then one comparison; -1: not one the estimate reads. */
enum { F_TYPE, F_STEP, F_TARGET, F_STATUS, F_CLASS, F_MESSAGE, F_REASON, F_T_MS, F_ELAPSED, F_PHASE, F_RETRY };

static int field_of(const char *k)
{
	switch (k[0]) {
	case 'e':
		return !strcmp(k, "event") ? F_TYPE : !strcmp(k, "elapsed_ms") ? F_ELAPSED : -1;
	case 's':
		return !strcmp(k, "step") ? F_STEP : !strcmp(k, "status") ? F_STATUS : -1;
	case 't':
		return !strcmp(k, "target") ? F_TARGET : !strcmp(k, "t_ms") ? F_T_MS : -1;
	case 'c':
		return !strcmp(k, "class") ? F_CLASS : -1;
	case 'm':
		return !strcmp(k, "message") ? F_MESSAGE : -1;
	case 'r':
		return !strcmp(k, "reason") ? F_REASON : -1;
	case 'p':
		return !strcmp(k, "phase") ? F_PHASE : -1;
	case 'w':
		return !strcmp(k, "will_retry") ? F_RETRY : -1;
	default:
		return -1;
	}
}

/* A JSON event's fields the estimate reads (the typed path's, events.h), in one pass over it. */
static void fields(const cJSON *ev, dr_event_fields *f)
{
	*f = (dr_event_fields){.elapsed_ms = -1};
	const char **text[] = {[F_TYPE] = &f->type,	  [F_STEP] = &f->step,	     [F_TARGET] = &f->target,
			       [F_STATUS] = &f->status,	  [F_CLASS] = &f->klass,     [F_MESSAGE] = &f->message,
			       [F_REASON] = &f->reason,	  [F_PHASE] = &f->phase};
	for (const cJSON *c = ev->child; c; c = c->next) {
		int k = c->string ? field_of(c->string) : -1;
		if (k < 0)
			continue;
		if (k == F_PHASE)
			f->phase = str_of(c) ? c->valuestring : ""; /* present: not the main phase */
		else if (k <= F_REASON)
			*text[k] = str_of(c);
		else if (k == F_T_MS)
			f->t_ms = (int64_t)cJSON_GetNumberValue(c);
		else if (k == F_ELAPSED)
			f->elapsed_ms = (int64_t)cJSON_GetNumberValue(c);
		else
			f->will_retry = cJSON_IsTrue(c);
	}
}

/* The events the estimate reads: a task's start, end and cancellation, the run's stop and end. */
static bool wanted(const cJSON *ev)
{
	const char *type = str_of(cJSON_GetObjectItemCaseSensitive(ev, "event")); /* the third key: found at once */
	return type && (!strcmp(type, "task.start") || !strcmp(type, "task.end") || !strcmp(type, "task.cancel") ||
			!strcmp(type, "run.end") || !strcmp(type, "run.stopping"));
}

static bool validation(const dr_plan *p, size_t node);

static char *label_of(const char *step, const char *target)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s%s%s%s", step, *target ? "[" : "", target, *target ? "]" : "");
	return b.data;
}

/*
 * A main task cancelled before it ended: a task that started is marked (it
 * stays out of the makespan and the count, as before it was cancelled); of
 * the validations that never started, the first is kept (an RTO the run did
 * not reach: "the run was cancelled before validation ... started").
 */
static void on_cancel(tasks *ts, const dr_plan *p, size_t node, const char *target)
{
	if (!ts->n_slots)
		rehash(ts);
	size_t h = slot_of(ts, node, target);
	if (ts->slots[h]) {
		trec *r = &ts->v[ts->slots[h] - 1];
		r->cancelled = true; /* a retrying task's last failure is not its end: the run model's "cancelled" */
		r->failed = r->ok = false;
	} else if (!ts->unstarted && validation(p, node))
		ts->unstarted = label_of(p->nodes[node].step->id.name, target);
}

/* Keep the first task that failed for good (no attempt follows): which, when and why. */
static void note_failure(tasks *ts, const dr_event_fields *f)
{
	if (ts->first_failure || !f->status || strcmp(f->status, "failed") || f->will_retry)
		return;
	cJSON *o = ts->first_failure = cJSON_CreateObject();
	dr_buf label;
	dr_buf_init(&label);
	dr_buf_printf(&label, "%s%s%s%s", f->step, f->target ? "[" : "", f->target ? f->target : "", f->target ? "]" : "");
	cJSON_AddStringToObject(o, "task", label.data);
	dr_buf_dispose(&label);
	cJSON_AddStringToObject(o, "step", f->step);
	cJSON_AddNumberToObject(o, "at_ms", (double)f->t_ms);
	cJSON_AddStringToObject(o, "class", f->klass ? f->klass : "");
	cJSON_AddStringToObject(o, "message", f->message ? f->message : "");
}

/* One event, from the typed path or read from JSON. */
static void on_fields(tasks *ts, const dr_plan *p, const dr_event_fields *f)
{
	if (!f->type)
		return;
	if (!strcmp(f->type, "run.end")) {
		ts->run_end = f->elapsed_ms;
		free(ts->status_buf);
		ts->status = ts->status_buf = f->status ? xstrdup(f->status) : NULL;
		return;
	}
	if (!strcmp(f->type, "run.stopping")) {
		if (!ts->stopped && f->reason)
			ts->stopped = xstrdup(f->reason);
		return;
	}
	bool start = !strcmp(f->type, "task.start"), end = !start && !strcmp(f->type, "task.end");
	bool cancel = !start && !end && !strcmp(f->type, "task.cancel");
	if ((!start && !end && !cancel) || !f->step)
		return;
	if (end)
		note_failure(ts, f); /* of any phase: a finally step's failure fails the run too */
	if (f->phase)
		return;
	size_t node = ts->stable_steps && f->step == ts->last_step ? ts->last_node : dr_plan_index(p, f->step);
	ts->last_step = f->step; /* a step's tasks come in runs: their events too */
	ts->last_node = node;
	if (node == (size_t)-1 || node >= p->n_main)
		return;
	if (cancel) {
		on_cancel(ts, p, node, f->target ? f->target : "");
		return;
	}
	trec *r = find(ts, node, f->target ? f->target : "");
	if (start && r->start < 0)
		r->start = f->t_ms;
	if (end) {
		r->end = f->t_ms;
		r->ended = true;
		r->ok = f->status && !strcmp(f->status, "succeeded");
		r->failed = !r->ok && (!f->status || !strcmp(f->status, "failed"));
		r->cancelled = f->status && !strcmp(f->status, "cancelled");
	}
}

static void on_event(tasks *ts, const dr_plan *p, const cJSON *ev)
{
	dr_event_fields f;
	if (!wanted(ev))
		return;
	fields(ev, &f);
	on_fields(ts, p, &f);
}

static void parse(tasks *ts, const dr_plan *p, const char *text, size_t len)
{
	const char *end = text + len;
	for (const char *line = text; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));
		size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);
		cJSON *ev = cJSON_ParseWithLength(line, n);
		if (ev)
			on_event(ts, p, ev);
		cJSON_Delete(ev);
		line += n + 1;
	}
}

static bool validation(const dr_plan *p, size_t node)
{
	const dr_step *st = p->nodes[node].step;
	return st->action && (st->action->flags & DR_AF_VALIDATION);
}

static bool recovering(const dr_plan *p, size_t node)
{
	const dr_step *st = p->nodes[node].step;
	return st->action && (st->action->flags & (DR_AF_FAILOVER | DR_AF_TEST_FAILOVER));
}

static bool test_failover(const dr_plan *p, size_t node)
{
	const dr_step *st = p->nodes[node].step;
	return st->action && (st->action->flags & DR_AF_TEST_FAILOVER);
}

/* What decides the RTO, as the run model reads it (runinfo_objectives.c rto_scan). */
typedef struct rto_scan {
	trec *val, *fo; /* the last validation that passed, the last failover that succeeded */
	trec *vfail, *ffail, *vcancel; /* the first validation that failed, failover that failed, validation cancelled */
	trec *failed; /* the main task that failed for good first */
} rto_scan;

static void scan_task(const dr_plan *p, trec *r, rto_scan *s)
{
	if (r->failed && (!s->failed || r->end < s->failed->end))
		s->failed = r;
	if (validation(p, r->node)) {
		if (r->ok && (!s->val || r->end > s->val->end))
			s->val = r;
		if (r->failed && !s->vfail)
			s->vfail = r;
		if (r->cancelled && !s->vcancel)
			s->vcancel = r;
	}
	if (recovering(p, r->node)) {
		if (r->ok && (!s->fo || r->end > s->fo->end))
			s->fo = r;
		if (r->failed && !s->ffail)
			s->ffail = r;
	}
}

/*
 * The task that decides the RTO: the last validation that passed, else the
 * last failover; NULL when the RTO is not reached, and then why (*why, owned
 * by the caller) and the task whose failure left it so (*culprit: the
 * validation or failover named in *why, else the main task that failed
 * first; NULL when none failed).
 */
static trec *rto_task(tasks *ts, const dr_plan *p, char **why, trec **culprit)
{
	rto_scan s = {0};
	for (size_t i = 0; i < ts->n; i++)
		scan_task(p, &ts->v[i], &s);
	*why = NULL;
	*culprit = NULL;
	if (s.fo && !s.vfail && !s.vcancel && !ts->unstarted)
		return s.val ? s.val : s.fo;
	trec *c = s.vfail ? s.vfail : s.ffail ? s.ffail : s.fo ? s.vcancel : NULL;
	char *label = c ? label_of(p->nodes[c->node].step->id.name, c->target) : NULL;
	*culprit = c ? c : s.failed; /* else the failure that stopped the run first */
	dr_buf b;
	dr_buf_init(&b);
	if (s.vfail || s.ffail)
		dr_buf_printf(&b, "%s %s failed",
			      s.vfail ? "validation" : test_failover(p, c->node) ? "test failover" : "failover", label);
	else if (!s.fo)
		dr_buf_puts(&b, "no failover completed");
	else if (s.vcancel)
		dr_buf_printf(&b, "validation %s was cancelled", label);
	else
		dr_buf_printf(&b, "the run was cancelled before validation %s started", ts->unstarted);
	free(label);
	*why = b.data;
	return NULL;
}

/*
 * The ended tasks of each plan node, sorted by end and then by their order
 * in tasks (ts->v): what pred looks a predecessor up in, instead of every
 * task per hop of the critical path. Grouped by node in one pass; a node's
 * group is sorted when a hop first looks into it (a path looks into few).
 */
typedef struct ended_at {
	int64_t end;
	size_t i; /* index into v */
} ended_at;

typedef struct ended_index {
	const trec *v;
	ended_at *at; /* node by node */
	size_t *first; /* node k's are at[first[k] .. first[k + 1]) */
	bool *sorted; /* per node */
} ended_index;

static int by_end(const void *x, const void *y)
{
	const ended_at *a = x, *b = y;
	return a->end != b->end ? (a->end > b->end) - (a->end < b->end) : (a->i > b->i) - (a->i < b->i);
}

static void index_ended(ended_index *ix, const tasks *ts, size_t n_nodes)
{
	ix->v = ts->v;
	ix->first = xcalloc(n_nodes + 2, sizeof *ix->first);
	ix->at = xcalloc(ts->n + 1, sizeof *ix->at);
	ix->sorted = xcalloc(n_nodes + 1, sizeof *ix->sorted);
	for (size_t i = 0; i < ts->n; i++)
		if (ts->v[i].ended)
			ix->first[ts->v[i].node + 2]++;
	for (size_t k = 2; k < n_nodes + 2; k++)
		ix->first[k] += ix->first[k - 1];
	for (size_t i = 0; i < ts->n; i++) /* by node, in tasks' order; first[k + 1] ends up at node k's start */
		if (ts->v[i].ended)
			ix->at[ix->first[ts->v[i].node + 1]++] = (ended_at){ts->v[i].end, i};
}

static void index_free(ended_index *ix)
{
	free(ix->at);
	free(ix->first);
	free(ix->sorted);
}

/* In node k's tasks (sorted now if they were not), the position after the last that ended at or before t. */
static size_t ended_by(ended_index *ix, size_t k, int64_t t)
{
	if (!ix->sorted[k]) {
		qsort(ix->at + ix->first[k], ix->first[k + 1] - ix->first[k], sizeof *ix->at, by_end);
		ix->sorted[k] = true;
	}
	size_t lo = ix->first[k], hi = ix->first[k + 1];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ix->at[mid].end <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Of the tasks of the steps t needs that ended by its start, the one that ended last (the first in tasks of a tie). */
static const trec *last_need(ended_index *ix, const dr_plan *p, const trec *t)
{
	const trec *dep = NULL;
	const dr_plan_node *pn = &p->nodes[t->node];
	for (size_t d = 0; d < pn->n_deps; d++) {
		size_t k = pn->deps[d], at = ended_by(ix, k, t->start);
		if (at == ix->first[k])
			continue;
		int64_t end = ix->at[at - 1].end;
		while (at > ix->first[k] && ix->at[at - 1].end == end)
			at--; /* the first in tasks of those that ended then */
		const trec *r = &ix->v[ix->at[at].i];
		if (r != t && (!dep || r->end > dep->end || (r->end == dep->end && r < dep)))
			dep = r;
	}
	return dep;
}

/* The task of t's own step that ended as t started, having started before it (the last in tasks); NULL: none. */
static const trec *slot_before(ended_index *ix, const trec *t)
{
	size_t k = t->node;
	for (size_t at = ended_by(ix, k, t->start); at > ix->first[k] && ix->at[at - 1].end == t->start; at--) {
		const trec *r = &ix->v[ix->at[at - 1].i];
		if (r != t && r->start < t->start)
			return r;
	}
	return NULL;
}

/* T's predecessor on the critical path, and how it led to T (*via). */
static const trec *pred(ended_index *ix, const dr_plan *p, const trec *t, const char **via)
{
	const trec *dep = last_need(ix, p, t), *slot = slot_before(ix, t);
	if (dep && dep->end == t->start) {
		*via = "needs";
		return dep;
	}
	if (slot) {
		*via = "slot";
		return slot;
	}
	*via = dep ? "needs, then waited" : NULL;
	return dep;
}

static cJSON *critical_path(tasks *ts, const dr_plan *p, const trec *last)
{
	ended_index ix;
	index_ended(&ix, ts, p->n);
	cJSON *path = cJSON_CreateArray();
	for (const trec *t = last; t && cJSON_GetArraySize(path) < 100000;) {
		const char *via = NULL;
		const trec *prev = pred(&ix, p, t, &via);
		cJSON *h = cJSON_CreateObject();
		char label[600];
		snprintf(label, sizeof label, "%s%s%s%s", p->nodes[t->node].step->id.name, *t->target ? "[" : "", t->target,
			 *t->target ? "]" : "");
		cJSON_AddStringToObject(h, "task", label);
		cJSON_AddStringToObject(h, "step", p->nodes[t->node].step->id.name);
		cJSON_AddNumberToObject(h, "start_ms", (double)t->start);
		cJSON_AddNumberToObject(h, "end_ms", (double)t->end);
		if (prev && via)
			cJSON_AddStringToObject(h, "via", via); /* how the task before it led to it */
		cJSON_InsertItemInArray(path, 0, h);
		t = prev;
	}
	index_free(&ix);
	return path;
}

/* key_ms (a number), key (text) and, against an objective, key_objective_ms and key_met. */
static void add_objective(cJSON *o, const char *key, int64_t achieved, int64_t objective)
{
	char d[32], k[40];
	snprintf(k, sizeof k, "%s_ms", key);
	cJSON_AddNumberToObject(o, k, (double)achieved);
	dr_text_human_duration(achieved, d, sizeof d);
	cJSON_AddStringToObject(o, key, d);
	if (objective >= 0) {
		snprintf(k, sizeof k, "%s_objective_ms", key);
		cJSON_AddNumberToObject(o, k, (double)objective);
		snprintf(k, sizeof k, "%s_met", key);
		cJSON_AddBoolToObject(o, k, achieved <= objective);
	}
}

/*
 * rto_ms and rto (with rto_objective_ms and rto_met), or, when the run would
 * not reach it, rto_ms null, rto_not_reached (why) and, against an objective,
 * rto_met false (as the run's report has it). Returns the task the critical
 * path leads to: the one that decided the RTO, else the one whose failure
 * left it unreached (NULL: none).
 */
static trec *add_rto(cJSON *o, const dr_runbook *rb, tasks *ts)
{
	char *why;
	trec *culprit, *last = rto_task(ts, rb->plan, &why, &culprit);
	if (last) {
		add_objective(o, "rto", last->end, rb->rto_ms);
		return last;
	}
	cJSON_AddNullToObject(o, "rto_ms");
	cJSON_AddStringToObject(o, "rto_not_reached", why);
	if (rb->rto_ms >= 0) {
		cJSON_AddNumberToObject(o, "rto_objective_ms", (double)rb->rto_ms);
		cJSON_AddBoolToObject(o, "rto_met", false);
	}
	free(why);
	return culprit;
}

/* The estimate of the tasks seen (freed here). */
static cJSON *summarise(const dr_runbook *rb, tasks *ts)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "status", ts->status ? ts->status : "unknown");
	int64_t makespan = 0;
	for (size_t i = 0; i < ts->n; i++)
		if (ts->v[i].ended && ts->v[i].end > makespan)
			makespan = ts->v[i].end;
	add_objective(o, "makespan", makespan, -1);
	trec *last = add_rto(o, rb, ts);
	cJSON_AddNumberToObject(o, "tasks", (double)ts->n);
	cJSON_AddItemToObject(o, "critical_path", last ? critical_path(ts, rb->plan, last) : cJSON_CreateArray());
	if (ts->first_failure)
		cJSON_AddItemToObject(o, "first_failure", ts->first_failure);
	if (ts->stopped)
		cJSON_AddStringToObject(o, "stopped", ts->stopped);
	free(ts->stopped);
	free(ts->unstarted);
	for (size_t i = 0; i < ts->n; i++)
		free(ts->v[i].target);
	free(ts->v);
	free(ts->slots);
	free(ts->status_buf);
	return o;
}

cJSON *dr_estimate_from_events(const dr_runbook *rb, const char *events, size_t len)
{
	tasks ts = {.run_end = -1};
	parse(&ts, rb->plan, events, len);
	return summarise(rb, &ts);
}

/* --- the run ---------------------------------------------------------------- */

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

typedef struct collector {
	tasks ts;
	const dr_plan *plan;
} collector;

/* The run's events, read as they happen on the typed path: no JSON built, printed or parsed again. */
static void collect(void *ctx, const dr_event_fields *f)
{
	collector *c = ctx;
	on_fields(&c->ts, c->plan, f);
}

static void run_estimate(dr_runbook *rb, dr_backend *be, const dr_planview_opts *o, const char *dir, cJSON *est_out)
{
	collector c = {.ts = {.run_end = -1, .stable_steps = true}, .plan = rb->plan};
	dr_exec_opts xo;
	dr_exec_opts_init(&xo);
	xo.clock = DR_CLOCK_VIRTUAL;
	xo.start_ms = o->now_ms; /* the plan's "now", on the simulator's clock: where a virtual run starts too */
	xo.auto_approve = true;
	xo.rehearse = true; /* a plan runs no command and reaches no endpoint */
	xo.model_unread = true; /* the estimate reads the events (collect), no view the run model */
	xo.on_fields = collect; /* with no other reader of JSON, the run builds none for its tasks */
	xo.on_event_ctx = &c;
	xo.view = DR_VIEW_QUIET;
	xo.params = o->params;
	xo.point = o->point; /* --recovery-point: the points the run would take, and its preflight's verdict on them */
	xo.mode = o->mode;
	xo.direction = o->direction;
	xo.backend = be;
	xo.state_dir = dir;
	xo.run_id = "estimate";
	xo.history = o->history ? DR_HISTORY_READ : DR_HISTORY_OFF; /* order as the run would; never learn from a simulation */
	xo.history_path = o->history;
	dr_buf err;
	dr_buf_init(&err);
	dr_exec_run(rb, &xo, &err);
	cJSON *est = summarise(rb, &c.ts);
	if (err.len)
		cJSON_AddStringToObject(est, "error", err.data);
	cJSON *it;
	while ((it = est->child) != NULL)
		cJSON_AddItemToObject(est_out, it->string, cJSON_DetachItemViaPointer(est, it));
	cJSON_Delete(est);
	dr_buf_dispose(&err);
}

void dr_estimate_add(dr_runbook *rb, dr_backend *be, const dr_planview_opts *o, cJSON *view)
{
	cJSON *est = cJSON_AddObjectToObject(view, "estimate");
	if (!be->simulated) {
		cJSON_AddStringToObject(est, "error", "an estimate runs the plan on a simulator; this backend is not one");
		return;
	}
	char dir[] = "/tmp/drover-estimate-XXXXXX";
	if (!mkdtemp(dir)) {
		cJSON_AddStringToObject(est, "error", "cannot make a temporary state directory");
		return;
	}
	run_estimate(rb, be, o, dir, est);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
