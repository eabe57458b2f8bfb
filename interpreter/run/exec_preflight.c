/*
 * exec_preflight.c - the run's preflight: the plan is the gate of every
 * run (docs/execution.md, "Preflight").
 *
 * The run binds its inventory through dr_preflight_bind (the same binding
 * drover plan shows) and, before the first task starts, checks every task
 * it will start with dr_preflight_check. When anything is blocked the run
 * is refused: nothing is started, the blockers are listed as drover plan
 * lists them, and the journal keeps the refusal (run.preflight, then
 * run.end "blocked") as evidence. With --exclude-blocked a plan whose
 * blockers are all single VMs' runs without those VMs; the exclusion is
 * said on the screen, in run.preflight and so in the journal, and a
 * resumed run keeps it.
 *
 * A resumed run checks again, after its replay and before any probe or
 * call, only the tasks that have not started (a task in flight is its
 * probe's business); a blocker stops the session (run.suspend) with
 * nothing started.
 */
#include "run/exec_int.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backends/backend.h"
#include "journal/journal.h"

/* --- what the run checks -------------------------------------------------- */

/* True when the run has something to check: VM sets, or an operation on the service. */
static bool has_checks(const dr_exec *x)
{
	if (x->rb->n_vm_sets)
		return true;
	for (size_t i = 0; i < x->plan->n; i++) {
		const dr_action *a = x->plan->nodes[i].step->action;
		if (a && (a->flags & DR_AF_MUTATING))
			return true;
	}
	return false;
}

static srun *node_run(dr_exec *x, size_t node)
{
	return node < x->n_main ? &x->main[node] : &x->fin[node - x->n_main];
}

/* Resume: how far the task of node on vm got (the scheduler's state after the replay). */
static dr_pf_task task_progress(void *ctx, size_t node, size_t vm)
{
	dr_exec *x = ctx;
	srun *s = node_run(x, node);
	task *t = vm == DR_PF_NO_VM ? (s->n_tasks ? &s->tasks[0] : NULL) : sched_task_for_vm(s, vm);
	if (!t)
		return DR_PF_TASK_DONE; /* not a task of this run (an excluded VM) */
	switch (t->state) {
	case TS_PENDING:
	case TS_READY:
	case TS_RETRYING: return DR_PF_TASK_TO_START;
	case TS_RUNNING:
	case TS_WAITING: return DR_PF_TASK_IN_FLIGHT;
	default: return DR_PF_TASK_DONE;
	}
}

static void check(dr_exec *x, bool resumed)
{
	dr_preflight_opts po = {
		.mode = x->o.mode,
		.direction = x->o.direction,
		.params = x->params,
		.now_ms = dr_exec_wall(x, dr_clock_now(x->clock)),
		.task = resumed ? task_progress : NULL,
		.ctx = x,
	};
	dr_preflight_check(&x->pf, &po);
}

/* --- events and text -------------------------------------------------------- */

static cJSON *blocker_json(const dr_exec *x, const dr_blocker *b)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "kind", dr_preflight_kind_name(b->kind));
	if (b->vm != DR_PF_NO_VM)
		cJSON_AddStringToObject(o, "vm", x->pf.items[b->vm].name);
	if (b->node != (size_t)-1)
		cJSON_AddStringToObject(o, "step", x->plan->nodes[b->node].step->id.name);
	cJSON_AddStringToObject(o, "message", b->message);
	return o;
}

static size_t vms_checked(const dr_exec *x)
{
	size_t n = 0;
	for (size_t i = 0; i < x->pf.n; i++)
		n += x->pf.vm[i].in_plan;
	return n;
}

static void emit_preflight(dr_exec *x, const char *const *excluded, size_t n_excluded, bool resumed)
{
	cJSON *ev = dr_event_new(x->ev, "run.preflight");
	cJSON_AddBoolToObject(ev, "runnable", dr_preflight_runnable(&x->pf) || n_excluded);
	cJSON_AddNumberToObject(ev, "vms", (double)vms_checked(x));
	cJSON *arr = cJSON_AddArrayToObject(ev, "blockers");
	for (size_t i = 0; i < x->pf.n_blockers; i++)
		cJSON_AddItemToArray(arr, blocker_json(x, &x->pf.blockers[i]));
	if (n_excluded) {
		cJSON *ex = cJSON_AddArrayToObject(ev, "excluded");
		for (size_t i = 0; i < n_excluded; i++)
			cJSON_AddItemToArray(ex, cJSON_CreateString(excluded[i]));
	}
	if (resumed)
		cJSON_AddBoolToObject(ev, "resumed", true);
	dr_events_emit(x->ev, ev);
}

static void list_blockers(const dr_exec *x, dr_buf *b)
{
	size_t n = x->pf.n_blockers;
	dr_buf_printf(b, "Blockers (%zu), as drover plan lists them:\n", n);
	for (size_t i = 0; i < n; i++)
		dr_buf_printf(b, "  - %s\n", x->pf.blockers[i].message);
}

static const char *backend_kind(const dr_exec *x)
{
	return x->backend ? x->backend->kind : "the";
}

/* True when some VM the plan changes is not blocked: then --exclude-blocked would still do something. */
static bool others_to_run(const dr_exec *x)
{
	for (size_t i = 0; i < x->pf.n; i++)
		if (!x->pf.vm[i].blocked && x->pf.vm[i].first_op != DR_PF_NO_VM)
			return true;
	return false;
}

/* What to do next after a refusal. */
static void next_steps(const dr_exec *x, dr_buf *b)
{
	const char *file = x->rb->path ? x->rb->path : "RUNBOOK";
	dr_buf_printf(b, "Next: fix what blocks the plan and run again; 'drover plan %s' shows the whole plan", file);
	if (dr_preflight_excusable(&x->pf) && others_to_run(x))
		dr_buf_printf(b, ". To go on now without the %zu blocked VM%s (left exactly as %s), run again "
				 "with --exclude-blocked",
			      x->pf.n_blocked_vms, x->pf.n_blocked_vms == 1 ? "" : "s",
			      x->pf.n_blocked_vms == 1 ? "it is" : "they are");
	dr_buf_puts(b, ".\n");
}

/* --- a fresh run ----------------------------------------------------------- */

static const char **blocked_names(dr_exec *x, size_t **idx, size_t *n)
{
	const char **names = dr_arena_calloc(x->a, x->pf.n_blocked_vms + 1, sizeof *names);
	*idx = dr_arena_calloc(x->a, x->pf.n_blocked_vms + 1, sizeof **idx);
	*n = 0;
	for (size_t i = 0; i < x->pf.n; i++)
		if (x->pf.vm[i].blocked) {
			(*idx)[*n] = i;
			names[(*n)++] = x->pf.items[i].name;
		}
	return names;
}

static void say_excluded(dr_exec *x, size_t n)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "--exclude-blocked: %zu VM%s left out of this run, exactly as %s:", n, n == 1 ? "" : "s",
		      n == 1 ? "it is" : "they are");
	for (size_t i = 0; i < x->pf.n_blockers; i++)
		dr_buf_printf(&b, "\n  - %s", x->pf.blockers[i].message);
	dr_exec_say(x, b.data);
	dr_buf_dispose(&b);
}

const char *exec_preflight(dr_exec *x, dr_buf *err)
{
	if (x->o.resume || x->o.skip_preflight || !has_checks(x))
		return NULL; /* a resumed run checks after its replay (exec_preflight_resume) */
	check(x, false);
	if (dr_preflight_runnable(&x->pf)) {
		emit_preflight(x, NULL, 0, false);
		return NULL;
	}
	if (x->o.exclude_blocked && dr_preflight_excusable(&x->pf)) {
		size_t *idx, n;
		const char **names = blocked_names(x, &idx, &n);
		dr_preflight_exclude(&x->pf, idx, n);
		emit_preflight(x, names, n, false);
		say_excluded(x, n);
		return NULL;
	}
	emit_preflight(x, NULL, 0, false);
	dr_buf_printf(err, "Refused: the plan is blocked. Nothing was started and no operation was sent to the %s backend.\n",
		      backend_kind(x));
	list_blockers(x, err);
	if (x->o.exclude_blocked)
		dr_buf_puts(err, "--exclude-blocked leaves out blocked VMs only; the blockers above are not one VM's.\n");
	if (x->jr)
		dr_buf_printf(err, "The refusal is recorded as run %s (drover status %s).\n", x->run_id, x->run_id);
	next_steps(x, err);
	return "the plan is blocked";
}

/* --- a resumed run ----------------------------------------------------------- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The VMs the run's earlier sessions excluded (their run.preflight records), sorted, in x->a. */
static const char **journal_excluded(dr_exec *x, size_t *n)
{
	const dr_journal_file *f = x->o.resume;
	const char **v = NULL;
	size_t cap = 0;
	*n = 0;
	for (size_t i = 0; i < f->n; i++) {
		const cJSON *rec = f->recs[i], *it;
		const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "event"));
		if (!type || strcmp(type, "run.preflight"))
			continue;
		cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(rec, "excluded"))
		{
			if (!cJSON_IsString(it))
				continue;
			if (*n == cap) {
				size_t c = cap ? 2 * cap : 8;
				v = dr_arena_grow(x->a, v, *n, c, sizeof *v);
				cap = c;
			}
			v[(*n)++] = dr_arena_strdup(x->a, it->valuestring);
		}
	}
	if (*n)
		qsort(v, *n, sizeof *v, cmp_str);
	return v;
}

void exec_preflight_reexclude(dr_exec *x)
{
	size_t n, k = 0;
	const char **names = x->o.resume ? journal_excluded(x, &n) : NULL;
	if (!names)
		return;
	size_t *idx = dr_arena_calloc(x->a, n + 1, sizeof *idx);
	for (size_t i = 0; i < x->pf.n && k < n; i++)
		if (bsearch(&x->pf.items[i].name, names, n, sizeof *names, cmp_str))
			idx[k++] = i;
	dr_preflight_exclude(&x->pf, idx, k);
	x->n_excluded = n;
	x->excluded = names;
}

int exec_preflight_resume(dr_exec *x, dr_buf *text)
{
	if (x->o.skip_preflight || !has_checks(x))
		return 0;
	if (dr_preflight_refresh(&x->pf, dr_exec_wall(x, dr_clock_now(x->clock)), text) < 0) {
		dr_buf_puts(text, "resume stopped before anything was asked or started: run 'drover resume' again once the "
				  "service answers");
		return -1;
	}
	check(x, true);
	emit_preflight(x, x->excluded, x->n_excluded, true);
	if (dr_preflight_runnable(&x->pf))
		return 0;
	dr_buf_puts(text, "resume stopped: the tasks that have not started yet are blocked; nothing was started.\n");
	list_blockers(x, text);
	dr_buf_printf(text, "Next: fix what blocks them, then run 'drover resume %s' again ('drover plan %s' shows "
			    "the whole plan; what already ran is not checked again)",
		      x->run_id, x->rb->path ? x->rb->path : "RUNBOOK");
	return -1;
}
