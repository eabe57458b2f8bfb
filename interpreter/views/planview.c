/*
 * planview.c - `drover plan`'s view (see planview.h), drawn from the
 * preflight (run/preflight.h): the same binding, walk, recovery points and
 * blockers that every run checks before its first mutating call. Read-only:
 * the only backend calls are list_items and list_points.
 */
#include "views/planview.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "actions/action.h"
#include "front/plan.h"
#include "run/planfile.h"
#include "run/preflight.h"
#include "run/retry.h"
#include "util/text.h"
#include "util/xalloc.h"

typedef struct pv {
	const dr_runbook *rb;
	const dr_plan *plan;
	dr_backend *be;
	const dr_planview_opts *o;
	dr_arena *a;
	dr_preflight pf;
	cJSON *view;
} pv;

/*
 * Keys are literals, never copied; a value that lives as long as the runbook
 * (its ids and names) or the program (the names of states, ops, policies) is
 * referred to, not copied (put_name): the view is freed before the runbook
 * (planview.h). Anything else (the backend's and the preflight's strings) is
 * copied (put_str).
 */
static cJSON *put(cJSON *o, const char *key, cJSON *v)
{
	cJSON_AddItemToObjectCS(o, key, v);
	return v;
}

static void put_str(cJSON *o, const char *key, const char *s)
{
	put(o, key, cJSON_CreateString(s));
}

static void put_name(cJSON *o, const char *key, const char *s)
{
	put(o, key, cJSON_CreateStringReference(s));
}

static void add_time(cJSON *o, const char *key, int64_t unix_ms)
{
	char t[40];
	dr_backend_format_time(unix_ms, t, sizeof t);
	put_str(o, key, t);
}

static void add_duration(cJSON *o, const char *key, int64_t ms)
{
	if (ms < 0) {
		put(o, key, cJSON_CreateNull());
		return;
	}
	char d[32];
	dr_text_human_duration(ms, d, sizeof d);
	put_str(o, key, d);
}

/* --- VMs ------------------------------------------------------------------------ */

static void add_point(const pv *p, const dr_pf_point *pt, cJSON *vmo)
{
	cJSON *o = put(vmo, "recovery_point", cJSON_CreateObject());
	put_name(o, "step", p->plan->nodes[pt->node].step->id.name);
	bool unknown = pt->verdict == DR_PF_POINT_AT_RUN_TIME || pt->verdict == DR_PF_POINT_NO_POLICY;
	if (!unknown)
		put_name(o, "policy", dr_point_policy_name(pt->policy));
	if (pt->override)
		put_str(o, "override", p->o->point->text);
	if (pt->verdict == DR_PF_POINT_OK || pt->verdict == DR_PF_POINT_TOO_OLD) {
		if (pt->point) {
			put_str(o, "id", pt->point->name);
			put_name(o, "type", dr_backend_point_type_name(pt->point->type));
			put(o, "processed", cJSON_CreateBool(pt->point->processed));
		} else {
			put(o, "id", cJSON_CreateNull());
		}
		add_time(o, "time", pt->time_ms);
		put(o, "age_ms", cJSON_CreateNumber((double)pt->age_ms));
		add_duration(o, "age", pt->age_ms);
	}
	if (pt->fell_back)
		put_name(o, "fallback_from", dr_point_policy_name(pt->asked));
	put_name(o, "verdict", dr_preflight_verdict_name(pt->verdict));
	if (pt->note)
		put_str(o, "note", pt->note);
	if (pt->undated)
		put(o, "undated_points", cJSON_CreateNumber((double)pt->undated));
	if (pt->max_age_ms >= 0 && pt->verdict != DR_PF_POINT_NOT_REPLICATING && !unknown)
		add_duration(o, "max_age", pt->max_age_ms);
}

static void add_walk(const pv *p, size_t vm, cJSON *vmo)
{
	const dr_preflight *pf = &p->pf;
	cJSON *path = put(vmo, "operations", cJSON_CreateArray());
	for (size_t k = pf->vm[vm].first_op; k != DR_PF_NO_VM; k = pf->ops[k].next) {
		const dr_pf_op *op = &pf->ops[k];
		cJSON *e = cJSON_CreateObject();
		put_name(e, "step", p->plan->nodes[op->node].step->id.name);
		put_name(e, "op", dr_backend_op_name(op->op));
		put_name(e, "from", dr_backend_state_name(op->from));
		if (op->refused)
			put_str(e, "refused", op->refused);
		if (op->tolerated)
			put(e, "tolerated", cJSON_CreateBool(true));
		if (op->conditional)
			put(e, "conditional", cJSON_CreateBool(true));
		if (!op->refused)
			put_name(e, "to", dr_backend_state_name(op->to));
		cJSON_AddItemToArray(path, e);
	}
	if (pf->vm[vm].walked)
		put_name(vmo, "ends_in", dr_backend_state_name(pf->vm[vm].ends_in));
}

static cJSON *vm_object(pv *p, size_t vm)
{
	const dr_be_item *it = &p->pf.items[vm];
	cJSON *o = cJSON_CreateObject();
	put_str(o, "name", it->name);
	put_name(o, "state", dr_backend_state_name(it->state));
	put_str(o, "protection_state", it->protection_state_description ? it->protection_state_description : "");
	put_name(o, "active", dr_backend_location_name(it->active_location));
	put_str(o, "allowed", dr_backend_allowed_text(p->a, it->allowed_ops));
	put_str(o, "replication_health", it->replication_health ? it->replication_health : "");
	if (it->current_job_id)
		put_str(o, "running_job", it->current_job_id);
	add_walk(p, vm, o);
	if (p->pf.vm[vm].point.verdict != DR_PF_NO_POINT)
		add_point(p, &p->pf.vm[vm].point, o);
	return o;
}

static void add_vms(pv *p)
{
	cJSON *arr = put(p->view, "vms", cJSON_CreateArray());
	for (size_t i = 0; i < p->pf.n; i++)
		if (p->pf.vm[i].in_plan)
			cJSON_AddItemToArray(arr, vm_object(p, i));
}

const char *dr_planview_expectation(const dr_vm_set *s, char *buf, size_t n)
{
	if (s->expect_count >= 0)
		snprintf(buf, n, "exactly %lld", (long long)s->expect_count);
	else if (s->expect_min >= 0 && s->expect_max >= 0)
		snprintf(buf, n, "%lld to %lld", (long long)s->expect_min, (long long)s->expect_max);
	else if (s->expect_min >= 0)
		snprintf(buf, n, "at least %lld", (long long)s->expect_min);
	else if (s->expect_max >= 0)
		snprintf(buf, n, "at most %lld", (long long)s->expect_max);
	else
		return NULL;
	return buf;
}

static void add_sets(pv *p)
{
	cJSON *arr = put(p->view, "vm_sets", cJSON_CreateArray());
	const dr_binding *b = &p->pf.bind;
	for (size_t s = 0; s < b->n_sets; s++) {
		const dr_vm_set *set = &p->rb->vm_sets[s];
		cJSON *o = cJSON_CreateObject();
		put_name(o, "name", set->name.name);
		cJSON *v = put(o, "vms", cJSON_CreateArray());
		for (size_t k = 0; k < b->n_members[s]; k++)
			cJSON_AddItemToArray(v, cJSON_CreateString(p->pf.vms[b->members[s][k]].name));
		char buf[64];
		const char *want = dr_planview_expectation(set, buf, sizeof buf);
		if (want)
			put_str(o, "expect", want);
		cJSON_AddItemToArray(arr, o);
	}
}

static cJSON *ref_names(const dr_ref *r, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateStringReference(r[i].name));
	return a;
}

size_t dr_planview_retry_classes(unsigned on, const char **names)
{
	static const struct { unsigned bit; const char *name; } classes[] = {
		{DR_RETRY_ON_TRANSIENT, "transient"}, {DR_RETRY_ON_THROTTLED, "throttled"},
		{DR_RETRY_ON_TIMEOUT, "timeout"}, {DR_RETRY_ON_ANY, "any"},
	};
	size_t n = 0;
	for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
		if (on & classes[i].bit)
			names[n++] = classes[i].name;
	return n;
}

/* The policy the step runs with (dr_retry_of_step): {attempts, on: [class, ..., regex source], builtin}. */
static cJSON *retry_object(const pv *p, const dr_step *st)
{
	bool builtin;
	const dr_retry *r = dr_retry_of_step(p->rb, st, &builtin);
	cJSON *o = cJSON_CreateObject(), *on = cJSON_CreateArray();
	put(o, "attempts", cJSON_CreateNumber((double)r->attempts));
	const char *names[4];
	for (size_t i = 0, n = dr_planview_retry_classes(r->on, names); i < n; i++)
		cJSON_AddItemToArray(on, cJSON_CreateStringReference(names[i]));
	for (size_t i = 0; i < r->n_on_match; i++)
		cJSON_AddItemToArray(on, cJSON_CreateStringReference(r->on_match[i].source));
	put(o, "on", on);
	put(o, "builtin", cJSON_CreateBool(builtin));
	return o;
}

static cJSON *op_object(pv *p, size_t node, size_t seq)
{
	const dr_plan_node *pn = &p->plan->nodes[node];
	const dr_step *st = pn->step;
	unsigned f = st->action ? st->action->flags : 0;
	cJSON *o = cJSON_CreateObject();
	put(o, "order", cJSON_CreateNumber((double)seq));
	put(o, "wave", cJSON_CreateNumber((double)pn->level + 1));
	put_name(o, "phase", node < p->plan->n_main ? "steps" : "finally");
	put_name(o, "step", st->id.name);
	put_name(o, "action", st->action ? st->action->name : st->action_name.name);
	if (st->n_targets) {
		put(o, "targets", ref_names(st->targets, st->n_targets));
		put(o, "vms", cJSON_CreateNumber((double)p->pf.n_step_vms[node]));
	}
	cJSON *needs = put(o, "needs", cJSON_CreateArray());
	for (size_t d = 0; d < pn->n_deps; d++)
		cJSON_AddItemToArray(needs, cJSON_CreateStringReference(p->plan->nodes[pn->deps[d]].step->id.name));
	put(o, "mutating", cJSON_CreateBool((f & DR_AF_MUTATING) != 0));
	put(o, "irreversible", cJSON_CreateBool((f & DR_AF_IRREVERSIBLE) != 0));
	put(o, "validation", cJSON_CreateBool((f & DR_AF_VALIDATION) != 0));
	put(o, "retry", retry_object(p, st));
	if (st->when)
		put(o, "conditional", cJSON_CreateBool(true));
	const char *why;
	if (p->o->mode == DR_MODE_DRILL && dr_modes_skips(p->rb, node, &why))
		put_str(o, "skipped", why);
	return o;
}

static void add_operations(pv *p)
{
	const size_t *order = p->pf.order;
	cJSON *ops = put(p->view, "operations", cJSON_CreateArray());
	cJSON *irr = put(p->view, "irreversible", cJSON_CreateArray());
	for (size_t k = 0; k < p->plan->n; k++) {
		cJSON *o = op_object(p, order[k], k + 1);
		cJSON_AddItemToArray(ops, o);
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "irreversible")) &&
		    !cJSON_HasObjectItem(o, "skipped")) {
			cJSON *i = cJSON_CreateObject();
			put_name(i, "step", p->plan->nodes[order[k]].step->id.name);
			put(i, "vms", cJSON_CreateNumber((double)p->pf.n_step_vms[order[k]]));
			put_name(i, "why", dr_planview_irreversible_why);
			cJSON_AddItemToArray(irr, i);
		}
	}
}

static void add_header(pv *p)
{
	const dr_runbook *rb = p->rb;
	put_name(p->view, "runbook", rb->name ? rb->name : "");
	put_name(p->view, "file", rb->path ? rb->path : "");
	put_name(p->view, "mode", dr_mode_name(p->o->mode));
	put_name(p->view, "direction", dr_mode_direction_name(p->o->direction));
	put_str(p->view, "backend", p->be->kind);
	add_time(p->view, "at", p->pf.service_now);
	cJSON *r = put(p->view, "recovery", cJSON_CreateObject());
	dr_be_point_query q;
	const char *why = NULL;
	if (dr_preflight_runbook_policy(rb, p->o->params, NULL, p->a, &q, &why))
		put_name(r, "point", dr_point_policy_name(q.policy));
	else
		put_str(r, "point", why);
	if (p->o->point && p->o->point->present)
		put_str(r, "override", p->o->point->text);
	add_duration(r, "max_age", rb->recovery.present ? rb->recovery.max_age_ms : -1);
	cJSON *fb = put(r, "fallback", cJSON_CreateArray());
	for (size_t i = 0; i < rb->recovery.n_fallback; i++)
		cJSON_AddItemToArray(fb, cJSON_CreateStringReference(dr_point_policy_name(rb->recovery.fallback[i])));
	cJSON *obj = put(p->view, "objectives", cJSON_CreateObject());
	add_duration(obj, "rto", rb->rto_ms);
	add_duration(obj, "rpo", rb->rpo_ms);
}

const char dr_planview_irreversible_why[] = "commit deletes the recovery points: after it the recovery point "
					   "cannot be changed and no rollback crosses it";

/* --- blockers ------------------------------------------------------------------ */

static void add_blockers(pv *p)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < p->pf.n_blockers; i++) {
		const dr_blocker *b = &p->pf.blockers[i];
		cJSON *o = cJSON_CreateObject();
		put_name(o, "kind", dr_preflight_kind_name(b->kind));
		if (b->vm != DR_PF_NO_VM)
			put_str(o, "vm", p->pf.items[b->vm].name);
		put_str(o, "message", b->message);
		cJSON_AddItemToArray(arr, o);
	}
	put(p->view, "runnable", cJSON_CreateBool(p->pf.n_blockers == 0));
	put(p->view, "blockers", arr);
}

/* The plan file of the view (plan -o), from the same preflight. */
static cJSON *saved(pv *p, dr_buf *err)
{
	const dr_planview_opts *o = p->o;
	dr_planfile_ctx c = {.rb = p->rb, .params = o->params, .mode = o->mode, .direction = o->direction,
			     .backend_id = o->backend_id, .point = o->point, .now_ms = o->now_ms};
	return dr_planfile_build(&p->pf, &c, err);
}

/* The VMs of a view made without them: the preflight they are drawn from, kept with its arena. */
struct dr_planview_vms {
	dr_preflight pf;
	dr_arena *a;
	dr_run_mode mode;
};

static dr_planview_vms *keep_vms(const pv *p)
{
	dr_planview_vms *v = xcalloc(1, sizeof *v);
	v->pf = p->pf;
	v->a = p->a;
	v->mode = p->o->mode;
	return v;
}

cJSON *dr_planview_build(const dr_runbook *rb, dr_backend *be, const dr_planview_opts *o, dr_buf *err)
{
	pv p = {.rb = rb, .plan = rb->plan, .be = be, .o = o, .a = dr_arena_new()};
	if (dr_preflight_bind_view(&p.pf, p.a, rb, be, o->now_ms, err) < 0) {
		dr_arena_free(p.a);
		return NULL;
	}
	dr_preflight_opts po = {
		.mode = o->mode, .direction = o->direction, .params = o->params, .now_ms = o->now_ms, .point = o->point,
	};
	dr_preflight_check(&p.pf, &po);
	if (o->file && !(*o->file = saved(&p, err))) {
		dr_arena_free(p.a);
		return NULL;
	}
	p.view = cJSON_CreateObject();
	add_header(&p);
	if (!o->vms) { /* the text prints these rows from the preflight (dr_planview_print_text) */
		add_sets(&p);
		add_vms(&p);
		add_operations(&p);
	}
	add_blockers(&p);
	if (o->vms)
		*o->vms = keep_vms(&p);
	else
		dr_arena_free(p.a);
	return p.view;
}

const dr_preflight *dr_planview_vms_preflight(const dr_planview_vms *v)
{
	return &v->pf;
}

dr_run_mode dr_planview_vms_mode(const dr_planview_vms *v)
{
	return v->mode;
}

void dr_planview_vms_free(dr_planview_vms *v)
{
	if (!v)
		return;
	dr_arena_free(v->a);
	free(v);
}

bool dr_planview_runnable(const cJSON *view)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(view, "runnable"));
}
