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
#include "run/planfile.h"
#include "util/text.h"

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
	case TS_RETRYING: /* a retried task's earlier attempt may have started a job (a suspended one resumed since, a
			     lost answer): its own lookup decides, as a probe does */
		return t->attempt > 0 ? DR_PF_TASK_IN_FLIGHT : DR_PF_TASK_TO_START;
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
		.point = x->point,
		.pins = x->pins,
	};
	dr_preflight_check(&x->pf, &po);
}

/* --- the points the run decides -------------------------------------------------- */

static const cJSON *header_item(const dr_exec *x, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(x->o.resume->header, key);
}

/* Per VM, the step of its first (test) failover in start order: where a plan's point applies. */
static void pin_nodes(dr_exec *x)
{
	const dr_preflight *pf = &x->pf;
	x->pin_node = dr_arena_calloc(x->a, pf->n + 1, sizeof *x->pin_node);
	for (size_t i = 0; i < pf->n; i++)
		x->pin_node[i] = (size_t)-1;
	for (size_t k = 0; k < x->plan->n; k++) {
		size_t node = pf->order[k];
		const dr_action *act = x->plan->nodes[node].step->action;
		bool skipped = x->o.mode == DR_MODE_DRILL && dr_modes_skips(x->rb, node, NULL);
		if (!act || !(act->flags & (DR_AF_FAILOVER | DR_AF_TEST_FAILOVER)) || skipped)
			continue;
		for (size_t j = 0; j < pf->n_step_vms[node]; j++)
			if (x->pin_node[pf->step_vms[node][j]] == (size_t)-1)
				x->pin_node[pf->step_vms[node][j]] = node;
	}
}

void exec_preflight_points(dr_exec *x)
{
	const char *rp = x->o.resume ? cJSON_GetStringValue(header_item(x, "recovery_point")) : NULL;
	if (rp && dr_preflight_parse_override(dr_arena_strdup(x->a, rp), &x->point_resumed))
		x->point = &x->point_resumed;
	else if (!x->o.resume && x->o.point && x->o.point->present)
		x->point = x->o.point;
	const cJSON *saved = x->o.resume ? cJSON_GetObjectItemCaseSensitive(header_item(x, "plan"), "points") : NULL;
	if (saved)
		x->plan_points = cJSON_Duplicate(saved, true);
	else if (!x->o.resume && x->o.plan)
		x->plan_points = dr_planfile_points(x->o.plan);
	if (x->plan_points) {
		x->pins = dr_planfile_pins(x->plan_points, &x->pf, x->a);
		pin_nodes(x);
	}
}

/* The plan index of the step t runs (main or finally); (size_t)-1 for a rollback unit. */
static size_t node_of(const dr_exec *x, const srun *s)
{
	if (s >= x->main && s < x->main + x->n_main)
		return (size_t)(s - x->main);
	if (s >= x->fin && s < x->fin + x->n_fin)
		return x->n_main + (size_t)(s - x->fin);
	return (size_t)-1;
}

bool dr_exec_point_query(dr_exec *x, const dr_call *call, dr_be_point_query *q)
{
	const dr_action *act = call && call->step ? call->step->action : NULL;
	if (!x || !act || !(act->flags & (DR_AF_FAILOVER | DR_AF_TEST_FAILOVER)))
		return false;
	const task *t = (const task *)((const char *)call - offsetof(task, call));
	size_t vm = t->vm;
	if (x->pins && vm != NO_VM && x->pins[vm] && node_of(x, t->s) == x->pin_node[vm]) {
		*q = (dr_be_point_query){.policy = DR_POINT_CUSTOM, .custom_id = x->pins[vm], .max_age_ms = -1};
		return true;
	}
	if (!x->point)
		return false;
	*q = (dr_be_point_query){.policy = x->point->policy, .custom_id = x->point->id, .max_age_ms = -1,
				 .custom_time_ms = x->point->id ? 0 : x->point->time_ms};
	return true;
}

/* --- events and text -------------------------------------------------------- */

static cJSON *blocker_json(const dr_exec *x, const dr_blocker *b)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "kind", dr_preflight_kind_name(b->kind));
	if (b->vm != DR_PF_NO_VM)
		cJSON_AddStringToObject(o, "vm", x->pf.vms[b->vm].name);
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

/* run.preflight's "plan": the saved plan and each way it drifted (lines of drift). */
static void add_plan(dr_exec *x, cJSON *ev, const char *drift)
{
	cJSON *p = cJSON_AddObjectToObject(ev, "plan");
	cJSON_AddStringToObject(p, "file", x->o.plan_path ? x->o.plan_path : "");
	const char *made = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x->o.plan, "created"));
	cJSON_AddStringToObject(p, "created", made ? made : "");
	cJSON *arr = cJSON_AddArrayToObject(p, "drift");
	for (const char *l = drift, *nl; l && *l; l = nl + 1) {
		nl = strchr(l, '\n');
		if (!nl)
			break;
		cJSON_AddItemToArray(arr, cJSON_CreateString(dr_arena_strndup(x->a, l, (size_t)(nl - l))));
	}
}

static void emit_preflight(dr_exec *x, const char *const *excluded, size_t n_excluded, bool resumed,
			   const char *drift)
{
	cJSON *ev = dr_event_new(x->ev, "run.preflight");
	cJSON_AddBoolToObject(ev, "runnable", (dr_preflight_runnable(&x->pf) || n_excluded) && !(drift && *drift));
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
	if (x->o.plan && !resumed)
		add_plan(x, ev, drift);
	dr_events_emit(x->ev, ev);
}

static void list_blockers(const dr_exec *x, dr_buf *b)
{
	size_t n = x->pf.n_blockers;
	dr_buf_printf(b, "Blockers (%zu), as drover plan lists them:\n", n);
	for (size_t i = 0; i < n; i++) { /* VM names and the service's words: escaped for the terminal */
		dr_buf_puts(b, "  - ");
		dr_text_escape_term(b, x->pf.blockers[i].message, strlen(x->pf.blockers[i].message), 0);
		dr_buf_putc(b, '\n');
	}
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
			names[(*n)++] = x->pf.vms[i].name;
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

/* A saved plan (--plan): how the world drifted from it, into drift; notes on stderr. Returns the count. */
static size_t plan_drift(dr_exec *x, dr_buf *drift)
{
	if (!x->o.plan)
		return 0;
	dr_planfile_ctx now = {.rb = x->rb, .params = x->params, .mode = x->o.mode, .direction = x->o.direction,
			       .backend_id = journal_backend_id(x), .point = x->point,
			       .now_ms = dr_exec_wall(x, dr_clock_now(x->clock))};
	dr_buf notes;
	dr_buf_init(&notes);
	size_t n = dr_planfile_drift(x->o.plan, &x->pf, &now, x->o.plan_max_age_ms, drift, &notes);
	if (notes.len)
		dr_exec_say(x, dr_arena_strndup(x->a, notes.data, notes.len - 1));
	dr_buf_dispose(&notes);
	return n;
}

static void refuse_drift(dr_exec *x, const char *drift, size_t n, dr_buf *err)
{
	const char *path = x->o.plan_path ? x->o.plan_path : "the plan";
	dr_buf_printf(err, "Refused: the world drifted from the saved plan %s (%zu difference%s). Nothing was started and "
			   "no operation was sent to the %s backend.\n",
		      path, n, n == 1 ? "" : "s", backend_kind(x));
	for (const char *l = drift, *nl; *l && (nl = strchr(l, '\n')); l = nl + 1)
		dr_buf_printf(err, "  - %.*s\n", (int)(nl - l), l);
}

static void refuse_blocked(dr_exec *x, dr_buf *err)
{
	dr_buf_printf(err, "Refused: the plan is blocked. Nothing was started and no operation was sent to the %s backend.\n",
		      backend_kind(x));
	list_blockers(x, err);
	if (x->o.exclude_blocked && !dr_preflight_excusable(&x->pf))
		dr_buf_puts(err, "--exclude-blocked leaves out blocked VMs only; the blockers above are not one VM's.\n");
	else if (x->o.exclude_blocked)
		dr_buf_puts(err, "--exclude-blocked: every VM this run would change is blocked; left out, nothing would be "
				 "left to run.\n");
}

static const char *refuse(dr_exec *x, const dr_buf *drift, size_t n_drift, dr_buf *err)
{
	if (n_drift)
		refuse_drift(x, drift->data, n_drift, err);
	if (!dr_preflight_runnable(&x->pf))
		refuse_blocked(x, err);
	if (x->jr) {
		dr_buf c;
		dr_buf_init(&c);
		dr_buf_printf(err, "The refusal is recorded as run %s (%s).\n", x->run_id,
			      dr_journal_command(&c, "status", x->state_dir, x->run_id));
		dr_buf_dispose(&c);
	}
	if (n_drift)
		dr_buf_printf(err, "Next: make the plan again (drover plan -o %s ...), review it, and run that plan.\n",
			      x->o.plan_path ? x->o.plan_path : "PLAN.json");
	else
		next_steps(x, err);
	return n_drift ? "the world drifted from the saved plan" : "the plan is blocked";
}

const char *exec_preflight(dr_exec *x, dr_buf *err)
{
	if (x->o.resume)
		return NULL; /* a resumed run checks after its replay (exec_preflight_resume) */
	if (x->o.skip_preflight || (!has_checks(x) && !x->o.plan)) {
		dr_preflight_compact(&x->pf);
		return NULL;
	}
	check(x, false);
	dr_buf drift;
	dr_buf_init(&drift);
	size_t n_drift = plan_drift(x, &drift);
	const char *why = NULL;
	bool excludable = dr_preflight_excusable(&x->pf) && others_to_run(x); /* all blocked: nothing left to run */
	if (!n_drift && x->o.exclude_blocked && !dr_preflight_runnable(&x->pf) && excludable) {
		size_t *idx, n;
		const char **names = blocked_names(x, &idx, &n);
		dr_preflight_exclude(&x->pf, idx, n);
		emit_preflight(x, names, n, false, drift.data);
		say_excluded(x, n);
	} else {
		emit_preflight(x, NULL, 0, false, drift.data);
		if (n_drift || !dr_preflight_runnable(&x->pf))
			why = refuse(x, &drift, n_drift, err);
	}
	dr_buf_dispose(&drift);
	if (!why)
		dr_preflight_compact(&x->pf); /* the run goes on with its VMs and binding: issue 11 */
	return why;
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
		if (bsearch(&x->pf.vms[i].name, names, n, sizeof *names, cmp_str))
			idx[k++] = i;
	dr_preflight_exclude(&x->pf, idx, k);
	x->n_excluded = n;
	x->excluded = names;
}

/* The re-check of a resume whose command is resume (dr_journal_command). */
static int resume_check(dr_exec *x, const char *resume, dr_buf *text)
{
	if (dr_preflight_refresh(&x->pf, dr_exec_wall(x, dr_clock_now(x->clock)), text) < 0) {
		dr_buf_printf(text, "resume stopped before anything was asked or started: run %s again once the "
				    "service answers",
			      resume);
		return -1;
	}
	check(x, true);
	emit_preflight(x, x->excluded, x->n_excluded, true, NULL);
	if (dr_preflight_runnable(&x->pf)) {
		dr_preflight_compact(&x->pf);
		return 0;
	}
	dr_buf_puts(text, "resume stopped: the tasks that have not started yet are blocked; nothing was started.\n");
	list_blockers(x, text);
	dr_buf_printf(text, "Next: fix what blocks them, then run %s again ('drover plan %s' shows "
			    "the whole plan; what already ran is not checked again)",
		      resume, x->rb->path ? x->rb->path : "RUNBOOK");
	return -1;
}

int exec_preflight_resume(dr_exec *x, dr_buf *text)
{
	if (x->o.skip_preflight || !has_checks(x)) {
		dr_preflight_compact(&x->pf);
		return 0;
	}
	dr_buf c;
	dr_buf_init(&c);
	dr_journal_command(&c, "resume", x->state_dir, x->run_id);
	int rc = resume_check(x, c.data, text);
	dr_buf_dispose(&c);
	return rc;
}
