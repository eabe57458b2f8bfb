/*
 * planview.c - `drover plan`'s view (see planview.h): bind, pick points,
 * order the operations, walk each VM through the state machine, collect
 * the blockers. Read-only: the only backend calls are list_items and
 * list_points.
 *
 * The walk uses the service's own allowed operations for each VM's first
 * operation and, after that, the protection state machine of
 * docs/backends.md (failover -> failed over -> commit -> committed ->
 * reprotect -> protected the other way; test failover -> cleanup pending ->
 * cleanup -> protected). A step with when: is assumed to run.
 */
#include "views/planview.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "actions/action.h"
#include "run/bind.h"
#include "run/eval.h"
#include "front/plan.h"
#include "util/text.h"

typedef struct pv {
	const dr_runbook *rb;
	const dr_plan *plan;
	dr_backend *be;
	const dr_planview_opts *o;
	dr_arena *a;
	int64_t service_now; /* the service's time for o->now_ms (a simulator may run ahead) */
	dr_be_item *items;
	dr_vm *vms;
	size_t n;
	dr_binding bind;
	size_t **step_vms; /* per plan node: its VMs (inventory indexes) */
	size_t *n_step_vms;
	cJSON *view, *blockers;
} pv;

static void add_time(cJSON *o, const char *key, int64_t unix_ms)
{
	char t[40];
	dr_backend_format_time(unix_ms, t, sizeof t);
	cJSON_AddStringToObject(o, key, t);
}

static void add_duration(cJSON *o, const char *key, int64_t ms)
{
	if (ms < 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	char d[32];
	dr_text_format_duration(ms >= 10000 ? (ms + 500) / 1000 * 1000 : ms, d, sizeof d); /* whole seconds */
	cJSON_AddStringToObject(o, key, d);
}

__attribute__((format(printf, 4, 5))) static void block(pv *p, const char *kind, const char *vm, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = dr_arena_vprintf(p->a, fmt, ap);
	va_end(ap);
	cJSON *b = cJSON_CreateObject();
	cJSON_AddStringToObject(b, "kind", kind);
	if (vm)
		cJSON_AddStringToObject(b, "vm", vm);
	cJSON_AddStringToObject(b, "message", msg);
	cJSON_AddItemToArray(p->blockers, b);
}

/* --- recovery point policy ------------------------------------------------- */

static const char *const policy_names[] = {
	[DR_POINT_LATEST] = "latest",
	[DR_POINT_LATEST_PROCESSED] = "latest-processed",
	[DR_POINT_LATEST_APP_CONSISTENT] = "latest-app-consistent",
	[DR_POINT_LATEST_CRASH_CONSISTENT] = "latest-crash-consistent",
	[DR_POINT_CUSTOM] = "custom",
	[DR_POINT_FROM_EXPR] = "${...}",
};

static bool policy_parse(const char *s, dr_point_policy *out)
{
	for (int i = DR_POINT_LATEST; s && i <= DR_POINT_CUSTOM; i++)
		if (strcmp(s, policy_names[i]) == 0) {
			*out = (dr_point_policy)i;
			return true;
		}
	return false;
}

/* ${params.X} and ${env.X}: all a plan can know before anything runs. */
static const cJSON *plan_lookup(void *ctx, const char *const *path, size_t n, char **err)
{
	const cJSON *params = ctx;
	if (n >= 2 && strcmp(path[0], "params") == 0)
		return dr_eval_walk(params, path, n, 1, err);
	(void)err;
	return NULL;
}

/* The policy of the runbook's recovery: (its ${...} evaluated with the parameters); false when unknown. */
static bool runbook_policy(const pv *p, dr_be_point_query *q, const char **why)
{
	const dr_recovery *r = &p->rb->recovery;
	*q = (dr_be_point_query){.policy = r->present ? r->point : DR_POINT_LATEST, .max_age_ms = r->max_age_ms,
				 .custom_id = r->custom_id, .custom_time_ms = r->custom_time_unix_ms};
	if (!r->present)
		q->max_age_ms = -1;
	if (q->policy != DR_POINT_FROM_EXPR)
		return true;
	const dr_template *t = r->point_node ? r->point_node->compiled : NULL;
	dr_eval_env env = {.lookup = plan_lookup, .ctx = (void *)p->o->params};
	char *msg = NULL;
	cJSON *v = t ? dr_template_eval(t, &env, &msg) : NULL;
	bool ok = v && cJSON_IsString(v) && policy_parse(v->valuestring, &q->policy) && q->policy != DR_POINT_CUSTOM;
	*why = ok ? NULL : dr_arena_printf(p->a, "recovery.point: %s", msg ? msg : "not a point policy");
	free(msg);
	cJSON_Delete(v);
	return ok;
}

/* A step's own with.recovery_point when written as a literal; false when it has none it can read. */
static bool step_policy(const dr_step *st, dr_be_point_query *q)
{
	const dr_node *rp = st->with ? dr_node_get(st->with, "recovery_point") : NULL;
	if (!rp)
		return false;
	if (rp->kind == DR_NODE_SCALAR && !rp->compiled)
		return policy_parse(dr_node_str(rp), &q->policy) && q->policy != DR_POINT_CUSTOM;
	if (rp->kind != DR_NODE_MAP)
		return false;
	const dr_node *id = dr_node_get(rp, "id"), *tm = dr_node_get(rp, "time");
	q->policy = DR_POINT_CUSTOM;
	q->custom_id = id && !id->compiled ? dr_node_str(id) : NULL;
	return q->custom_id || (tm && !tm->compiled && dr_backend_parse_time(dr_node_str(tm), &q->custom_time_ms));
}

static void add_choice(cJSON *o, const dr_be_point_query *q, const dr_be_choice *c)
{
	cJSON_AddStringToObject(o, "policy", policy_names[q->policy]);
	if (c->point) {
		cJSON_AddStringToObject(o, "id", c->point->name);
		cJSON_AddStringToObject(o, "type", dr_backend_point_type_name(c->point->type));
		cJSON_AddBoolToObject(o, "processed", c->point->processed);
	} else {
		cJSON_AddNullToObject(o, "id");
	}
	add_time(o, "time", c->time_ms);
	cJSON_AddNumberToObject(o, "age_ms", (double)c->age_ms);
	add_duration(o, "age", c->age_ms);
}

/* Try q, then each fallback policy; fills o. Returns the pick of the last policy tried. */
static dr_be_pick choose(pv *p, const dr_be_item *it, const dr_be_point *pts, size_t n, dr_be_point_query q,
			 cJSON *o)
{
	dr_be_choice c;
	dr_be_pick first = dr_backend_choose_point(it, pts, n, &q, p->service_now, &c), pick = first;
	dr_be_choice first_c = c;
	dr_point_policy asked = q.policy;
	for (size_t f = 0; pick != DR_BE_PICK_OK && f < p->rb->recovery.n_fallback; f++) {
		q.policy = p->rb->recovery.fallback[f];
		pick = dr_backend_choose_point(it, pts, n, &q, p->service_now, &c);
	}
	if (pick == DR_BE_PICK_OK) {
		add_choice(o, &q, &c);
		if (q.policy != asked)
			cJSON_AddStringToObject(o, "fallback_from", policy_names[asked]);
	} else if (first == DR_BE_PICK_TOO_OLD) {
		q.policy = asked;
		add_choice(o, &q, &first_c);
	} else {
		cJSON_AddStringToObject(o, "policy", policy_names[asked]);
	}
	cJSON_AddStringToObject(o, "verdict", dr_backend_pick_name(pick == DR_BE_PICK_OK ? pick : first));
	return pick == DR_BE_PICK_OK ? pick : first;
}

static void block_point(pv *p, const char *vm, const cJSON *o, dr_be_pick pick)
{
	char max[32];
	dr_text_format_duration(p->rb->recovery.max_age_ms, max, sizeof max);
	const cJSON *pol = cJSON_GetObjectItemCaseSensitive(o, "policy");
	const char *policy = cJSON_IsString(pol) ? pol->valuestring : "?";
	const char *tail = p->rb->recovery.n_fallback ? ", nor does any fallback" : "";
	if (pick == DR_BE_PICK_TOO_OLD)
		block(p, "rpo", vm, "%s: its %s recovery point is %s old, older than max_age %s%s (the RPO guard)", vm,
		      policy, cJSON_GetObjectItemCaseSensitive(o, "age")->valuestring, max, tail);
	else
		block(p, "rpo", vm, "%s: no %s recovery point exists%s", vm, policy, tail);
}

/* The recovery point the first failover step of VM vm would use, into vmo. */
static void vm_point(pv *p, size_t vm, const dr_step *st, cJSON *vmo)
{
	const dr_be_item *it = &p->items[vm];
	cJSON *o = cJSON_AddObjectToObject(vmo, "recovery_point");
	cJSON_AddStringToObject(o, "step", st->id.name);
	dr_be_point_query q;
	const char *why = NULL;
	bool known = runbook_policy(p, &q, &why);
	known = step_policy(st, &q) || known;
	if (!known) {
		cJSON_AddStringToObject(o, "verdict", "at_run_time");
		cJSON_AddStringToObject(o, "note", why ? why : "chosen when the run starts");
		return;
	}
	if (it->state != DR_BE_ST_PROTECTED) {
		cJSON_AddStringToObject(o, "policy", policy_names[q.policy]);
		cJSON_AddStringToObject(o, "verdict", "not_replicating");
		return;
	}
	dr_be_point *pts = NULL;
	size_t n = 0;
	dr_be_error e;
	if (dr_backend_list_points(p->be, p->a, p->o->now_ms, it->id, &pts, &n, &e) < 0) {
		block(p, "backend", it->name, "%s: cannot list its recovery points: %s", it->name,
		      dr_backend_error_text(p->a, &e));
		return;
	}
	dr_be_pick pick = choose(p, it, pts, n, q, o);
	if (q.max_age_ms >= 0)
		add_duration(o, "max_age", q.max_age_ms);
	if (pick != DR_BE_PICK_OK)
		block_point(p, it->name, o, pick);
}

/* --- the state machine walk ------------------------------------------------- */

static const unsigned allowed_in[DR_BE_ST_COUNT] = {
	[DR_BE_ST_PROTECTED] = DR_BE_OP_BIT(DR_BE_OP_FAILOVER) | DR_BE_OP_BIT(DR_BE_OP_TEST_FAILOVER),
	[DR_BE_ST_FAILED_OVER] = DR_BE_OP_BIT(DR_BE_OP_COMMIT) | DR_BE_OP_BIT(DR_BE_OP_CHANGE_POINT) |
				 DR_BE_OP_BIT(DR_BE_OP_CANCEL_FAILOVER),
	[DR_BE_ST_COMMITTED] = DR_BE_OP_BIT(DR_BE_OP_REPROTECT),
	[DR_BE_ST_TEST_FAILED_OVER] = DR_BE_OP_BIT(DR_BE_OP_TEST_CLEANUP),
};

static const dr_be_state after_op[DR_BE_OP_COUNT] = {
	[DR_BE_OP_FAILOVER] = DR_BE_ST_FAILED_OVER,	    [DR_BE_OP_TEST_FAILOVER] = DR_BE_ST_TEST_FAILED_OVER,
	[DR_BE_OP_TEST_CLEANUP] = DR_BE_ST_PROTECTED,	    [DR_BE_OP_CHANGE_POINT] = DR_BE_ST_FAILED_OVER,
	[DR_BE_OP_COMMIT] = DR_BE_ST_COMMITTED,		    [DR_BE_OP_CANCEL_FAILOVER] = DR_BE_ST_PROTECTED,
	[DR_BE_OP_REPROTECT] = DR_BE_ST_PROTECTED,	    [DR_BE_OP_SHUTDOWN] = DR_BE_ST_COUNT,
};

typedef struct walk {
	dr_be_state st;
	dr_be_location active;
	unsigned allowed;
	bool blocked;
	size_t blocked_at; /* plan index of the refused step */
} walk;

static bool step_op(const dr_step *st, dr_be_op *op)
{
	const char *name = st->action ? st->action->name : NULL;
	return name && strncmp(name, "dr.", 3) == 0 && (st->action->flags & DR_AF_MUTATING) &&
	       dr_backend_op_parse(name + 3, op);
}

static dr_be_direction step_direction(const pv *p, const dr_step *st)
{
	const dr_node *d = st->with ? dr_node_get(st->with, "direction") : NULL;
	const char *s = d && !d->compiled ? dr_node_str(d) : NULL;
	if (s && strcmp(s, "primary-to-recovery") == 0)
		return DR_BE_DIR_PRIMARY_TO_RECOVERY;
	if (s && strcmp(s, "recovery-to-primary") == 0)
		return DR_BE_DIR_RECOVERY_TO_PRIMARY;
	return p->o->direction;
}

/* Why op would be refused in w's state (NULL: allowed). */
static const char *refusal(pv *p, const walk *w, dr_be_op op, dr_be_direction dir)
{
	if (op == DR_BE_OP_SHUTDOWN)
		return NULL;
	if (!(w->allowed & DR_BE_OP_BIT(op)))
		return dr_arena_printf(p->a, "the service refuses %s in state %s (allowed: %s)", dr_backend_op_name(op),
				       dr_backend_state_name(w->st), dr_backend_allowed_text(p->a, w->allowed));
	bool moves = op == DR_BE_OP_FAILOVER || op == DR_BE_OP_TEST_FAILOVER;
	dr_be_location from = dir == DR_BE_DIR_RECOVERY_TO_PRIMARY ? DR_BE_RECOVERY : DR_BE_PRIMARY;
	if (moves && dir != DR_BE_DIR_AUTO && w->active != from)
		return dr_arena_printf(p->a, "it is active in %s, so a %s %s is not possible (%s)",
				       dr_backend_location_name(w->active), dr_mode_direction_name(dir),
				       dr_backend_op_name(op),
				       w->active == DR_BE_RECOVERY ? "fail it back with drover failback"
								   : "it has not failed over: use drover run");
	return NULL;
}

static void apply(walk *w, dr_be_op op)
{
	if (after_op[op] == DR_BE_ST_COUNT)
		return;
	if (op == DR_BE_OP_FAILOVER || op == DR_BE_OP_CANCEL_FAILOVER)
		w->active = w->active == DR_BE_PRIMARY ? DR_BE_RECOVERY : DR_BE_PRIMARY;
	w->st = after_op[op];
	w->allowed = allowed_in[w->st];
}

static bool node_has_vm(const pv *p, size_t node, size_t vm)
{
	for (size_t k = 0; k < p->n_step_vms[node]; k++)
		if (p->step_vms[node][k] == vm)
			return true;
	return false;
}

static bool skipped(const pv *p, size_t node, const char **why)
{
	return p->o->mode == DR_MODE_DRILL && dr_modes_skips(p->rb, node, why);
}

/* One operation of VM vm's walk: check it, record it in path, move on. */
static void walk_step(pv *p, walk *w, size_t node, size_t vm, cJSON *path)
{
	const dr_step *st = p->plan->nodes[node].step;
	dr_be_op op;
	if (w->blocked || !step_op(st, &op) || !node_has_vm(p, node, vm) || skipped(p, node, NULL))
		return;
	const char *why = refusal(p, w, op, step_direction(p, st));
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "step", st->id.name);
	cJSON_AddStringToObject(e, "op", dr_backend_op_name(op));
	cJSON_AddStringToObject(e, "from", dr_backend_state_name(w->st));
	cJSON_AddItemToArray(path, e);
	if (why) {
		w->blocked = true;
		w->blocked_at = node;
		cJSON_AddStringToObject(e, "refused", why);
		block(p, "state", p->items[vm].name, "%s: step '%s' would be refused: %s", p->items[vm].name, st->id.name,
		      why);
		return;
	}
	apply(w, op);
	cJSON_AddStringToObject(e, "to", dr_backend_state_name(w->st));
}

/* --- sections ---------------------------------------------------------------- */

/* Plan nodes in the order they would start: wave (longest path from a root), then as written. */
static size_t *node_order(pv *p)
{
	size_t n = p->plan->n, *v = dr_arena_calloc(p->a, n + 1, sizeof *v);
	size_t k = 0;
	for (size_t pass = 0; pass < 2; pass++)
		for (size_t lvl = 0; k < n && lvl <= n; lvl++)
			for (size_t i = 0; i < n; i++)
				if ((pass == 0) == (i < p->plan->n_main) && p->plan->nodes[i].level == lvl)
					v[k++] = i;
	return v;
}

/* Walk VM vm through the plan; returns the position in order of the refused step (order's size: none). */
static size_t walk_vm(pv *p, size_t vm, const size_t *order, cJSON *vmo)
{
	const dr_be_item *it = &p->items[vm];
	walk w = {.st = it->state, .active = it->active_location, .allowed = it->allowed_ops};
	if (it->current_job_id)
		w.allowed = 0;
	cJSON *path = cJSON_AddArrayToObject(vmo, "operations");
	for (size_t k = 0; k < p->plan->n; k++)
		walk_step(p, &w, order[k], vm, path);
	if (!w.blocked && cJSON_GetArraySize(path) > 0)
		cJSON_AddStringToObject(vmo, "ends_in", dr_backend_state_name(w.st));
	for (size_t k = 0; w.blocked && k < p->plan->n; k++)
		if (order[k] == w.blocked_at)
			return k;
	return p->plan->n;
}

/* The position in order of the first step that (test-)fails vm over in this mode; order's size when none. */
static size_t first_failover(const pv *p, size_t vm, const size_t *order)
{
	for (size_t k = 0; k < p->plan->n; k++) {
		const dr_step *st = p->plan->nodes[order[k]].step;
		unsigned f = st->action ? st->action->flags : 0;
		if ((f & (DR_AF_FAILOVER | DR_AF_TEST_FAILOVER)) && node_has_vm(p, order[k], vm) &&
		    !skipped(p, order[k], NULL))
			return k;
	}
	return p->plan->n;
}

static cJSON *vm_object(pv *p, size_t vm, const size_t *order)
{
	const dr_be_item *it = &p->items[vm];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", it->name);
	cJSON_AddStringToObject(o, "state", dr_backend_state_name(it->state));
	cJSON_AddStringToObject(o, "protection_state", it->protection_state_description ? it->protection_state_description : "");
	cJSON_AddStringToObject(o, "active", dr_backend_location_name(it->active_location));
	cJSON_AddStringToObject(o, "allowed", dr_backend_allowed_text(p->a, it->allowed_ops));
	cJSON_AddStringToObject(o, "replication_health", it->replication_health ? it->replication_health : "");
	if (it->current_job_id)
		cJSON_AddStringToObject(o, "running_job", it->current_job_id);
	size_t refused = walk_vm(p, vm, order, o);
	size_t fo = first_failover(p, vm, order);
	if (fo < refused) /* a refused failover has no point to choose */
		vm_point(p, vm, p->plan->nodes[order[fo]].step, o);
	return o;
}

static bool in_any_set(const pv *p, size_t vm)
{
	for (size_t s = 0; s < p->bind.n_sets; s++)
		for (size_t k = 0; k < p->bind.n_members[s]; k++)
			if (p->bind.members[s][k] == vm)
				return true;
	return false;
}

static void add_vms(pv *p, const size_t *order)
{
	cJSON *arr = cJSON_AddArrayToObject(p->view, "vms");
	for (size_t i = 0; i < p->n; i++)
		if (in_any_set(p, i))
			cJSON_AddItemToArray(arr, vm_object(p, i, order));
}

static const char *expectation(dr_arena *a, const dr_vm_set *s)
{
	if (s->expect_count >= 0)
		return dr_arena_printf(a, "exactly %lld", (long long)s->expect_count);
	if (s->expect_min >= 0 && s->expect_max >= 0)
		return dr_arena_printf(a, "%lld to %lld", (long long)s->expect_min, (long long)s->expect_max);
	if (s->expect_min >= 0)
		return dr_arena_printf(a, "at least %lld", (long long)s->expect_min);
	if (s->expect_max >= 0)
		return dr_arena_printf(a, "at most %lld", (long long)s->expect_max);
	return NULL;
}

static void add_sets(pv *p)
{
	cJSON *arr = cJSON_AddArrayToObject(p->view, "vm_sets");
	for (size_t s = 0; s < p->bind.n_sets; s++) {
		const dr_vm_set *set = &p->rb->vm_sets[s];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", set->name.name);
		cJSON *v = cJSON_AddArrayToObject(o, "vms");
		for (size_t k = 0; k < p->bind.n_members[s]; k++)
			cJSON_AddItemToArray(v, cJSON_CreateString(p->vms[p->bind.members[s][k]].name));
		const char *want = expectation(p->a, set);
		if (want)
			cJSON_AddStringToObject(o, "expect", want);
		cJSON_AddItemToArray(arr, o);
	}
}

static cJSON *ref_names(const dr_ref *r, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(r[i].name));
	return a;
}

static cJSON *op_object(pv *p, size_t node, size_t seq)
{
	const dr_plan_node *pn = &p->plan->nodes[node];
	const dr_step *st = pn->step;
	unsigned f = st->action ? st->action->flags : 0;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "order", (double)seq);
	cJSON_AddNumberToObject(o, "wave", (double)pn->level + 1);
	cJSON_AddStringToObject(o, "phase", node < p->plan->n_main ? "steps" : "finally");
	cJSON_AddStringToObject(o, "step", st->id.name);
	cJSON_AddStringToObject(o, "action", st->action ? st->action->name : st->action_name.name);
	if (st->n_targets) {
		cJSON_AddItemToObject(o, "targets", ref_names(st->targets, st->n_targets));
		cJSON_AddNumberToObject(o, "vms", (double)p->n_step_vms[node]);
	}
	cJSON *needs = cJSON_AddArrayToObject(o, "needs");
	for (size_t d = 0; d < pn->n_deps; d++)
		cJSON_AddItemToArray(needs, cJSON_CreateString(p->plan->nodes[pn->deps[d]].step->id.name));
	cJSON_AddBoolToObject(o, "mutating", (f & DR_AF_MUTATING) != 0);
	cJSON_AddBoolToObject(o, "irreversible", (f & DR_AF_IRREVERSIBLE) != 0);
	cJSON_AddBoolToObject(o, "validation", (f & DR_AF_VALIDATION) != 0);
	if (st->when)
		cJSON_AddBoolToObject(o, "conditional", true);
	const char *why;
	if (skipped(p, node, &why))
		cJSON_AddStringToObject(o, "skipped", why);
	return o;
}

static void add_operations(pv *p, const size_t *order)
{
	cJSON *ops = cJSON_AddArrayToObject(p->view, "operations");
	cJSON *irr = cJSON_AddArrayToObject(p->view, "irreversible");
	for (size_t k = 0; k < p->plan->n; k++) {
		cJSON *o = op_object(p, order[k], k + 1);
		cJSON_AddItemToArray(ops, o);
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "irreversible")) &&
		    !cJSON_HasObjectItem(o, "skipped")) {
			cJSON *i = cJSON_CreateObject();
			cJSON_AddStringToObject(i, "step", p->plan->nodes[order[k]].step->id.name);
			cJSON_AddNumberToObject(i, "vms", (double)p->n_step_vms[order[k]]);
			cJSON_AddStringToObject(i, "why", "commit deletes the recovery points: after it the recovery point "
							  "cannot be changed and no rollback crosses it");
			cJSON_AddItemToArray(irr, i);
		}
	}
}

static void add_header(pv *p)
{
	const dr_runbook *rb = p->rb;
	cJSON_AddStringToObject(p->view, "runbook", rb->name ? rb->name : "");
	cJSON_AddStringToObject(p->view, "file", rb->path ? rb->path : "");
	cJSON_AddStringToObject(p->view, "mode", dr_mode_name(p->o->mode));
	cJSON_AddStringToObject(p->view, "direction", dr_mode_direction_name(p->o->direction));
	cJSON_AddStringToObject(p->view, "backend", p->be->kind);
	add_time(p->view, "at", p->service_now);
	cJSON *r = cJSON_AddObjectToObject(p->view, "recovery");
	dr_be_point_query q;
	const char *why = NULL;
	if (runbook_policy(p, &q, &why))
		cJSON_AddStringToObject(r, "point", policy_names[q.policy]);
	else
		cJSON_AddStringToObject(r, "point", why);
	add_duration(r, "max_age", rb->recovery.present ? rb->recovery.max_age_ms : -1);
	cJSON *fb = cJSON_AddArrayToObject(r, "fallback");
	for (size_t i = 0; i < rb->recovery.n_fallback; i++)
		cJSON_AddItemToArray(fb, cJSON_CreateString(policy_names[rb->recovery.fallback[i]]));
	cJSON *obj = cJSON_AddObjectToObject(p->view, "objectives");
	add_duration(obj, "rto", rb->rto_ms);
	add_duration(obj, "rpo", rb->rpo_ms);
}

/* --- binding ------------------------------------------------------------------ */

static int bind(pv *p, dr_buf *err)
{
	dr_be_error e;
	size_t n = 0;
	if (dr_backend_list_items(p->be, p->a, p->o->now_ms, &p->items, &n, &e) < 0) {
		dr_buf_printf(err, "cannot list the VMs the %s backend protects: %s\n", p->be->kind,
			      dr_backend_error_text(p->a, &e));
		return -1;
	}
	p->n = n;
	p->vms = dr_arena_calloc(p->a, n + 1, sizeof *p->vms);
	for (size_t i = 0; i < n; i++)
		dr_backend_item_to_vm(&p->items[i], &p->vms[i]);
	dr_buf msgs;
	dr_buf_init(&msgs);
	dr_bind_sets(p->a, p->rb, p->vms, n, &p->bind, &msgs);
	for (char *line = msgs.data, *nl; line && *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		block(p, "vm_set", NULL, "%s", line);
		if (!nl)
			break;
	}
	dr_buf_dispose(&msgs);
	p->step_vms = dr_arena_calloc(p->a, p->plan->n + 1, sizeof *p->step_vms);
	p->n_step_vms = dr_arena_calloc(p->a, p->plan->n + 1, sizeof *p->n_step_vms);
	for (size_t i = 0; i < p->plan->n; i++)
		p->step_vms[i] = dr_bind_step_targets(p->a, &p->bind, p->rb, p->plan->nodes[i].step, &p->n_step_vms[i]);
	return 0;
}

cJSON *dr_planview_build(const dr_runbook *rb, dr_backend *be, const dr_planview_opts *o, dr_buf *err)
{
	pv p = {.rb = rb, .plan = rb->plan, .be = be, .o = o, .a = dr_arena_new()};
	p.service_now = dr_backend_now(be, o->now_ms);
	p.view = cJSON_CreateObject();
	add_header(&p);
	p.blockers = cJSON_CreateArray();
	if (bind(&p, err) < 0) {
		cJSON_Delete(p.blockers);
		cJSON_Delete(p.view);
		dr_arena_free(p.a);
		return NULL;
	}
	size_t *order = node_order(&p);
	add_sets(&p);
	add_vms(&p, order);
	add_operations(&p, order);
	cJSON_AddBoolToObject(p.view, "runnable", cJSON_GetArraySize(p.blockers) == 0);
	cJSON_AddItemToObject(p.view, "blockers", p.blockers);
	dr_arena_free(p.a);
	return p.view;
}

bool dr_planview_runnable(const cJSON *view)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(view, "runnable"));
}
