/*
 * preflight.c - bind, walk, pick points, collect blockers (see preflight.h).
 *
 * The walk goes step by step in start order and, within a step, over its
 * VMs, so its cost is the sum of the steps' VMs. Each VM carries a small
 * state (walk): its protection state, active side and allowed operations,
 * starting from what the service says now, and moved by each operation as
 * the protection state machine of docs/backends.md does:
 *
 *   failover -> failed over -> commit -> committed -> reprotect -> protected
 *   (the other way); test failover -> cleanup pending -> cleanup -> protected
 *
 * The first operation the service would refuse blocks the VM; nothing
 * after it is checked. The recovery point is picked for the VM's first
 * failover (or a drill's test failover) when the walk reaches it.
 */
#include "run/preflight.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "front/plan.h"
#include "run/eval.h"
#include "util/text.h"

#define NO_NODE ((size_t)-1)

static const char *const kind_names[DR_BLOCK__COUNT] = {
	[DR_BLOCK_VM_SET] = "vm_set", [DR_BLOCK_STATE] = "state",     [DR_BLOCK_RPO] = "rpo",
	[DR_BLOCK_NETWORK] = "network", [DR_BLOCK_BACKEND] = "backend",
};

const char *dr_preflight_kind_name(dr_blocker_kind k)
{
	return k < DR_BLOCK__COUNT ? kind_names[k] : "?";
}

static const char *const verdict_names[] = {
	[DR_PF_NO_POINT] = "",		      [DR_PF_POINT_OK] = "ok",
	[DR_PF_POINT_TOO_OLD] = "too_old",    [DR_PF_POINT_NONE] = "none",
	[DR_PF_POINT_NOT_REPLICATING] = "not_replicating", [DR_PF_POINT_AT_RUN_TIME] = "at_run_time",
	[DR_PF_POINT_NO_POLICY] = "no_policy",
};

const char *dr_preflight_verdict_name(dr_pf_verdict v)
{
	return verdict_names[v];
}

bool dr_preflight_parse_override(const char *text, dr_point_override *out)
{
	if (!text || !*text)
		return false;
	*out = (dr_point_override){.present = true, .text = text, .time_ms = -1};
	if (dr_point_policy_parse(text, &out->policy) && out->policy != DR_POINT_CUSTOM)
		return true;
	out->policy = DR_POINT_CUSTOM;
	if (!dr_backend_parse_time(text, &out->time_ms)) {
		out->time_ms = -1;
		out->id = text;
	}
	return true;
}

/* --- blockers ------------------------------------------------------------- */

__attribute__((format(printf, 5, 6))) static void block(dr_preflight *pf, dr_blocker_kind kind, size_t vm,
							  size_t node, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = dr_arena_vprintf(pf->a, fmt, ap);
	va_end(ap);
	if (pf->n_blockers == pf->cap_blockers) {
		size_t c = pf->cap_blockers ? 2 * pf->cap_blockers : 16;
		pf->blockers = dr_arena_grow(pf->a, pf->blockers, pf->n_blockers, c, sizeof *pf->blockers);
		pf->cap_blockers = c;
	}
	pf->blockers[pf->n_blockers++] = (dr_blocker){.kind = kind, .vm = vm, .node = node, .message = msg};
	if (vm != DR_PF_NO_VM && pf->vm && !pf->vm[vm].blocked) {
		pf->vm[vm].blocked = true;
		pf->n_blocked_vms++;
	}
}

bool dr_preflight_runnable(const dr_preflight *pf)
{
	return pf->n_blockers == 0;
}

bool dr_preflight_excusable(const dr_preflight *pf)
{
	for (size_t i = 0; i < pf->n_blockers; i++)
		if (pf->blockers[i].vm == DR_PF_NO_VM)
			return false;
	return true;
}

/* --- binding -------------------------------------------------------------- */

/* Plan nodes in the order they would start: main steps by wave (level), then finally by level; as written within. */
static size_t *start_order(dr_arena *a, const dr_plan *p)
{
	size_t *v = dr_arena_calloc(a, p->n + 1, sizeof *v), *count = dr_arena_calloc(a, p->n + 2, sizeof *count);
	size_t k = 0;
	for (int pass = 0; pass < 2; pass++) {
		size_t lo = pass ? p->n_main : 0, hi = pass ? p->n : p->n_main;
		memset(count, 0, (p->n + 2) * sizeof *count);
		for (size_t i = lo; i < hi; i++)
			count[(p->nodes[i].level < p->n ? p->nodes[i].level : p->n) + 1]++;
		for (size_t l = 1; l <= p->n + 1; l++)
			count[l] += count[l - 1];
		for (size_t i = lo; i < hi; i++)
			v[k + count[p->nodes[i].level < p->n ? p->nodes[i].level : p->n]++] = i;
		k += hi - lo;
	}
	return v;
}

/* Each line of msgs (one per broken expect:) as a vm_set blocker. */
static void set_blockers(dr_preflight *pf, char *msgs)
{
	for (char *line = msgs, *nl; line && *line; line = nl + 1) {
		nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		block(pf, DR_BLOCK_VM_SET, DR_PF_NO_VM, NO_NODE, "%s", line);
		if (!nl)
			break;
	}
}

/* --- arenas let go early ------------------------------------------------------- */

struct dr_pf_sub {
	dr_arena *a; /* NULL once let go */
};

static void sub_free(void *p)
{
	dr_pf_sub *s = p;
	dr_arena_free(s->a);
	s->a = NULL;
}

/* A new arena, freed with owner at the latest. */
static dr_pf_sub *sub_new(dr_arena *owner)
{
	dr_pf_sub *s = dr_arena_alloc(owner, sizeof *s);
	s->a = dr_arena_new();
	dr_arena_defer(owner, sub_free, s);
	return s;
}

static const char *keep_str(dr_arena *a, const char *s)
{
	return s ? dr_arena_strdup(a, s) : NULL;
}

/* v's strings copied into a: its own, no longer the listing's (which is let go first). */
static void keep_vm(dr_arena *a, dr_vm *v)
{
	const char **k = dr_arena_calloc(a, v->n_tags + 1, sizeof *k), **val = dr_arena_calloc(a, v->n_tags + 1, sizeof *val);
	for (size_t i = 0; i < v->n_tags; i++) {
		k[i] = keep_str(a, v->tag_keys[i]);
		val[i] = keep_str(a, v->tag_values[i]);
	}
	*v = (dr_vm){
		.name = keep_str(a, v->name), .id = keep_str(a, v->id), .tag_keys = k, .tag_values = val,
		.n_tags = v->n_tags, .primary_region = keep_str(a, v->primary_region),
		.recovery_region = keep_str(a, v->recovery_region), .primary_ip = keep_str(a, v->primary_ip),
		.recovery_ip = keep_str(a, v->recovery_ip), .size = keep_str(a, v->size),
	};
}

/* The VMs' strings in pf->a, when they were the listing's (dr_preflight_bind_view). */
static void own_vms(dr_preflight *pf)
{
	if (!pf->borrowed)
		return;
	for (size_t i = 0; i < pf->n; i++)
		keep_vm(pf->a, &pf->vms[i]);
	pf->borrowed = false;
}

void dr_preflight_compact(dr_preflight *pf)
{
	own_vms(pf);
	if (pf->listed)
		sub_free(pf->listed);
	if (pf->checked)
		sub_free(pf->checked);
	pf->items = NULL;
	pf->vm = NULL;
	pf->ops = NULL;
	pf->blockers = NULL;
	pf->n_ops = pf->cap_ops = pf->n_blockers = pf->cap_blockers = pf->n_blocked_vms = 0;
	pf->policy.done = false; /* its strings were the check's */
}

/* --- binding ----------------------------------------------------------------- */

static int bind(dr_preflight *pf, dr_arena *a, const dr_runbook *rb, dr_backend *be, int64_t now_ms, bool borrow,
		dr_buf *err)
{
	*pf = (dr_preflight){.rb = rb, .plan = rb->plan, .be = be, .a = a, .borrowed = true};
	pf->service_now = dr_backend_now(be, now_ms);
	pf->listed = sub_new(a);
	dr_be_error e;
	if (dr_backend_list_items(be, pf->listed->a, now_ms, &pf->items, &pf->n, &e) < 0) {
		dr_buf_printf(err, "cannot list the VMs the %s backend protects: %s\n", be->kind,
			      dr_backend_error_text(a, &e));
		return -1;
	}
	dr_arena_expect(a, pf->n * 192); /* the VMs, the sets' members, each step's VMs: about 190 bytes a VM */
	pf->vms = dr_arena_calloc(a, pf->n + 1, sizeof *pf->vms);
	for (size_t i = 0; i < pf->n; i++)
		dr_backend_item_to_vm(&pf->items[i], &pf->vms[i]);
	if (!borrow)
		own_vms(pf);
	dr_buf msgs;
	dr_buf_init(&msgs);
	dr_bind_sets(a, rb, pf->vms, pf->n, &pf->bind, &msgs);
	set_blockers(pf, msgs.data);
	dr_buf_dispose(&msgs);
	size_t n = pf->plan->n;
	pf->step_vms = dr_arena_calloc(a, n + 1, sizeof *pf->step_vms);
	pf->n_step_vms = dr_arena_calloc(a, n + 1, sizeof *pf->n_step_vms);
	for (size_t i = 0; i < n; i++)
		pf->step_vms[i] = dr_bind_step_targets(a, &pf->bind, rb, pf->plan->nodes[i].step, &pf->n_step_vms[i]);
	pf->order = start_order(a, pf->plan);
	return 0;
}

int dr_preflight_bind(dr_preflight *pf, dr_arena *a, const dr_runbook *rb, dr_backend *be, int64_t now_ms,
		      dr_buf *err)
{
	return bind(pf, a, rb, be, now_ms, false, err);
}

int dr_preflight_bind_view(dr_preflight *pf, dr_arena *a, const dr_runbook *rb, dr_backend *be, int64_t now_ms,
			   dr_buf *err)
{
	return bind(pf, a, rb, be, now_ms, true, err);
}

static int cmp_item_id(const void *a, const void *b)
{
	const dr_be_item *x = a, *y = b;
	return strcmp(x->id, y->id);
}

int dr_preflight_refresh(dr_preflight *pf, int64_t now_ms, dr_buf *err)
{
	dr_be_item *now;
	size_t n;
	dr_be_error e;
	if (dr_backend_list_items(pf->be, pf->listed->a, now_ms, &now, &n, &e) < 0) {
		dr_buf_printf(err, "cannot list the VMs the %s backend protects: %s\n", pf->be->kind,
			      dr_backend_error_text(pf->a, &e));
		return -1;
	}
	qsort(now, n, sizeof *now, cmp_item_id);
	for (size_t i = 0; i < pf->n; i++) {
		const dr_be_item *it = bsearch(&pf->items[i], now, n, sizeof *now, cmp_item_id);
		if (it)
			pf->items[i] = *it; /* pf->vms keeps its strings (its own, or the first listing's): both listings live in pf->listed */
	}
	pf->service_now = dr_backend_now(pf->be, now_ms);
	return 0;
}

/* Keep the indexes of v[0..*n) that are not marked. */
static void drop_marked(size_t *v, size_t *n, const unsigned char *mark)
{
	size_t k = 0;
	for (size_t i = 0; i < *n; i++)
		if (!mark[v[i]])
			v[k++] = v[i];
	*n = k;
}

void dr_preflight_exclude(dr_preflight *pf, const size_t *excluded, size_t n)
{
	unsigned char *mark = dr_arena_calloc(pf->a, pf->n + 1, 1);
	for (size_t i = 0; i < n; i++)
		if (excluded[i] < pf->n)
			mark[excluded[i]] = 1;
	for (size_t s = 0; s < pf->bind.n_sets; s++)
		drop_marked(pf->bind.members[s], &pf->bind.n_members[s], mark);
	for (size_t i = 0; i < pf->plan->n; i++)
		if (pf->step_vms[i])
			drop_marked(pf->step_vms[i], &pf->n_step_vms[i], mark);
}

/* --- the recovery point policy ---------------------------------------------- */

/* What a plan can read before anything runs: ${params...}, and ${inputs...} of a composite's steps. */
typedef struct planctx {
	const cJSON *params;
	const dr_inputs *inputs;
	const dr_be_item *target; /* a when: of a fanned-out step: the VM as the walk sees it; NULL: none */
	dr_be_state target_state; /* the state the walk predicts for it */
	cJSON *keep; /* values inputs.* and target.* evaluated, alive until the template is done */
	dr_eval_env env;
} planctx;

static const dr_param *input_decl(const dr_inputs *b, const char *name)
{
	for (size_t i = 0; i < b->n_decl; i++)
		if (strcmp(b->decl[i].name.name, name) == 0)
			return &b->decl[i];
	return NULL;
}

static const cJSON *plan_lookup(void *ctx, const char *const *path, size_t n, char **err);

/*
 * target.* as a when: can read it before the run: name, tags and the state
 * the walk predicts. Only the field asked for is made (an object holding
 * it, or none), kept until the template is done: a when: on every VM of a
 * finally step reads one field of each.
 */
static const cJSON *target_part(planctx *c, const char *field)
{
	const dr_be_item *it = c->target;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToArray(c->keep, o);
	if (strcmp(field, "name") == 0)
		cJSON_AddStringToObject(o, "name", it->name);
	else if (strcmp(field, "state") == 0)
		cJSON_AddStringToObject(o, "state", dr_backend_state_name(c->target_state));
	else if (strcmp(field, "tags") == 0) {
		cJSON *tags = cJSON_AddObjectToObject(o, "tags");
		for (size_t i = 0; i < it->n_tags; i++)
			cJSON_AddStringToObject(tags, it->tag_keys[i], it->tag_values[i]);
	}
	return o;
}


/* inputs.NAME: the use step's with: value in the scope the use sits in, else the composite's default. */
static const cJSON *plan_input(planctx *c, const char *const *path, size_t n, char **err)
{
	const dr_inputs *b = c->inputs;
	const dr_node *v = b && n >= 2 && b->with ? dr_node_get(b->with, path[1]) : NULL;
	const dr_param *decl = b && n >= 2 ? input_decl(b, path[1]) : NULL;
	if (!v && decl)
		v = decl->default_value;
	if (!v)
		return NULL;
	planctx outer = {.params = c->params, .inputs = b->parent, .target = c->target, .target_state = c->target_state,
			 .keep = c->keep};
	outer.env = (dr_eval_env){.lookup = plan_lookup, .ctx = &outer};
	cJSON *val = dr_node_eval_at(v, "inputs", &outer.env, err);
	if (!val)
		return NULL;
	cJSON_AddItemToArray(c->keep, val);
	return dr_eval_walk(val, path, n, 2, err);
}

static const cJSON *plan_lookup(void *ctx, const char *const *path, size_t n, char **err)
{
	planctx *c = ctx;
	if (n >= 2 && strcmp(path[0], "params") == 0)
		return dr_eval_walk(c->params, path, n, 1, err);
	if (strcmp(path[0], "inputs") == 0)
		return plan_input(c, path, n, err);
	if (n >= 2 && strcmp(path[0], "target") == 0 && c->target)
		return dr_eval_walk(target_part(c, path[1]), path, n, 1, err);
	return NULL;
}

/* The text of a runbook value of step st (NULL: the runbook's), evaluated; NULL with *why when not known yet. */
static const char *value_text_in(const dr_node *n, const dr_step *st, const cJSON *params, dr_arena *a,
				 const char **why)
{
	if (!n || n->kind != DR_NODE_SCALAR)
		return NULL;
	if (!dr_node_template(n))
		return dr_node_str(n);
	planctx c = {.params = params, .inputs = st ? st->inputs : NULL, .keep = cJSON_CreateArray()};
	c.env = (dr_eval_env){.lookup = plan_lookup, .ctx = &c};
	char *msg = NULL;
	cJSON *v = dr_template_eval(dr_node_template(n), &c.env, &msg);
	const char *s = v && cJSON_IsString(v) ? dr_arena_strdup(a, v->valuestring) : NULL;
	if (!s)
		*why = dr_arena_printf(a, "%s", msg ? msg : "not a string");
	free(msg);
	cJSON_Delete(v);
	cJSON_Delete(c.keep);
	return s;
}

static const char *value_text(const dr_node *n, const cJSON *params, dr_arena *a, const char **why)
{
	return value_text_in(n, NULL, params, a, why);
}

static void apply_override(const dr_point_override *ov, dr_be_point_query *q)
{
	q->policy = ov->policy;
	q->custom_id = ov->id;
	q->custom_time_ms = ov->id ? 0 : ov->time_ms;
}

/* recovery: custom with its id (maybe ${params...}) or time. */
static bool runbook_custom(const dr_runbook *rb, const cJSON *params, dr_arena *a, dr_be_point_query *q,
			   const char **why)
{
	const dr_node *rec = dr_node_get(rb->root, "recovery");
	const dr_node *id = rec ? dr_node_get(rec, "id") : NULL, *tm = rec ? dr_node_get(rec, "time") : NULL;
	if (id) {
		q->custom_id = value_text(id, params, a, why);
		if (*why)
			*why = dr_arena_printf(a, "recovery.id: %s", *why);
		return q->custom_id != NULL;
	}
	if (rb->recovery.custom_time)
		return true; /* custom_time_unix_ms, parsed by check */
	const char *t = tm ? value_text(tm, params, a, why) : NULL;
	if (t && dr_backend_parse_time(t, &q->custom_time_ms))
		return true;
	*why = dr_arena_printf(a, "recovery.time: %s", t ? "not an RFC 3339 time" : *why ? *why : "missing");
	return false;
}

/* dr_preflight_runbook_policy; *no_policy: recovery.point's text is no policy (a misspelt value). */
static bool runbook_policy(const dr_runbook *rb, const cJSON *params, const dr_point_override *ov, dr_arena *a,
			   dr_be_point_query *q, const char **why, bool *no_policy)
{
	const dr_recovery *r = &rb->recovery;
	*why = NULL;
	*no_policy = false;
	*q = (dr_be_point_query){.policy = r->present ? r->point : DR_POINT_LATEST,
				 .max_age_ms = r->present ? r->max_age_ms : -1,
				 .custom_id = r->custom_id,
				 .custom_time_ms = r->custom_time_unix_ms};
	if (ov && ov->present) {
		apply_override(ov, q);
		return true;
	}
	if (q->policy == DR_POINT_FROM_EXPR) {
		const char *s = value_text(r->point_node, params, a, why);
		if (!s || !dr_point_policy_parse(s, &q->policy)) {
			*no_policy = s != NULL;
			*why = dr_arena_printf(a, "recovery.point: %s", *why ? *why : "not a point policy");
			return false;
		}
	}
	return q->policy != DR_POINT_CUSTOM || runbook_custom(rb, params, a, q, why);
}

bool dr_preflight_runbook_policy(const dr_runbook *rb, const cJSON *params, const dr_point_override *ov,
				 dr_arena *a, dr_be_point_query *q, const char **why)
{
	bool no_policy;
	return runbook_policy(rb, params, ov, a, q, why, &no_policy);
}

/* A step's own with.recovery_point when the plan can read it; false when it has none. */
static bool step_policy(const dr_step *st, const cJSON *params, dr_arena *a, dr_be_point_query *q, bool *known)
{
	const dr_node *rp = st->with ? dr_node_get(st->with, "recovery_point") : NULL;
	const char *why = NULL;
	*known = true;
	if (!rp)
		return false;
	if (rp->kind == DR_NODE_SCALAR) {
		const char *s = value_text_in(rp, st, params, a, &why);
		*known = s && dr_point_policy_parse(s, &q->policy) && q->policy != DR_POINT_CUSTOM;
		return true;
	}
	const dr_node *id = dr_node_get(rp, "id"), *tm = dr_node_get(rp, "time");
	q->policy = DR_POINT_CUSTOM;
	q->custom_id = id ? value_text_in(id, st, params, a, &why) : NULL;
	const char *t = !id && tm ? value_text_in(tm, st, params, a, &why) : NULL;
	*known = q->custom_id || (t && dr_backend_parse_time(t, &q->custom_time_ms));
	return true;
}

/* --- choosing a point --------------------------------------------------------- */

/* A copy of p in a: the listing it comes from is freed once the choice is made. */
static const dr_be_point *keep_point(dr_arena *a, const dr_be_point *p)
{
	if (!p)
		return NULL;
	dr_be_point *k = dr_arena_alloc(a, sizeof *k);
	*k = *p;
	size_t id_len = p->id ? strlen(p->id) : 0, name_len = p->name ? strlen(p->name) : 0;
	k->id = p->id ? dr_arena_strndup(a, p->id, id_len) : NULL;
	if (p->name && p->id && name_len <= id_len && p->name == p->id + id_len - name_len)
		k->name = k->id + id_len - name_len; /* the id's last segment (the simulator's points): one copy */
	else
		k->name = p->name ? dr_arena_strndup(a, p->name, name_len) : NULL;
	return k;
}

/* Try q, then each fallback policy (not after an override); fills pt. */
static void choose(dr_preflight *pf, size_t vm, const dr_be_point *pts, size_t n, dr_be_point_query q,
		   bool fallbacks, dr_pf_point *pt)
{
	const dr_be_item *it = &pf->items[vm];
	dr_be_choice c, first_c;
	dr_be_pick first = dr_backend_choose_point(it, pts, n, &q, pf->service_now, &c), pick = first;
	first_c = c;
	pt->asked = pt->policy = q.policy;
	for (size_t f = 0; fallbacks && pick != DR_BE_PICK_OK && f < pf->rb->recovery.n_fallback; f++) {
		q.policy = pf->rb->recovery.fallback[f];
		pick = dr_backend_choose_point(it, pts, n, &q, pf->service_now, &c);
	}
	if (pick == DR_BE_PICK_OK) {
		pt->verdict = DR_PF_POINT_OK;
		pt->policy = q.policy;
		pt->fell_back = q.policy != pt->asked;
	} else {
		pt->verdict = first == DR_BE_PICK_TOO_OLD ? DR_PF_POINT_TOO_OLD : DR_PF_POINT_NONE;
		c = first_c;
	}
	if (pt->verdict != DR_PF_POINT_NONE) {
		pt->point = keep_point(pf->a, c.point);
		pt->point_id = c.point && c.point_id == c.point->id ? pt->point->id : c.point_id ? dr_arena_strdup(pf->a, c.point_id) : NULL;
		pt->time_ms = c.time_ms;
		pt->age_ms = c.age_ms;
	}
}

/* The query of VM vm's failover at node: the override, the step's own, else the runbook's; false: at run time. */
static bool query_of(dr_preflight *pf, const dr_preflight_opts *o, size_t vm, size_t node, dr_be_point_query *q,
		     dr_pf_point *pt)
{
	if (!pf->policy.done) /* the same for every VM: its parameters are evaluated once */
		pf->policy.known = runbook_policy(pf->rb, o->params, o->point, pf->a, &pf->policy.q, &pf->policy.why,
						  &pf->policy.no_policy);
	pf->policy.done = true;
	const char *why = pf->policy.why;
	bool known = pf->policy.known, no_policy = pf->policy.no_policy;
	*q = pf->policy.q;
	pt->override = o->point && o->point->present;
	if (pt->pinned) { /* the saved plan's point, under the runbook's max_age */
		q->policy = DR_POINT_CUSTOM;
		q->custom_id = o->pins[vm];
		return true;
	}
	bool step_known = true;
	if (!pt->override && step_policy(pf->plan->nodes[node].step, o->params, pf->a, q, &step_known)) {
		known = step_known;
		why = step_known ? NULL : "with.recovery_point is chosen when the step starts";
		no_policy = false;
	}
	pt->no_policy = no_policy;
	if (!known)
		pt->note = why ? why : "chosen when the run starts";
	return known;
}

/* Whether every policy choose() may try is a latest-* one: then the newest points are all it looks at. */
static bool newest_will_do(const dr_runbook *rb, const dr_be_point_query *q, bool fallbacks)
{
	if (q->policy == DR_POINT_CUSTOM)
		return false;
	for (size_t f = 0; fallbacks && f < rb->recovery.n_fallback; f++)
		if (rb->recovery.fallback[f] == DR_POINT_CUSTOM)
			return false;
	return true;
}

/* Points listed without a time are never chosen: the VM's row says how many. */
static void note_undated(dr_preflight *pf, const dr_be_point *pts, size_t n, dr_pf_point *pt)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += pts[i].time_ms < 0;
	pt->undated = k;
	if (k)
		pt->note = dr_arena_printf(pf->a, "%zu of the %zu recovery points the service lists %s no time: not chosen, "
						  "%s age is unknown",
					   k, n, k == 1 ? "has" : "have", k == 1 ? "its" : "their");
}

/* The recovery point VM vm's first failover (at node) would use. */
static void vm_point(dr_preflight *pf, const dr_preflight_opts *o, size_t vm, size_t node)
{
	const dr_be_item *it = &pf->items[vm];
	dr_pf_point *pt = &pf->vm[vm].point;
	dr_be_point_query q;
	*pt = (dr_pf_point){.node = node, .max_age_ms = -1, .pinned = o->pins && o->pins[vm]};
	if (!query_of(pf, o, vm, node, &q, pt)) {
		pt->verdict = pt->no_policy ? DR_PF_POINT_NO_POLICY : DR_PF_POINT_AT_RUN_TIME;
		return;
	}
	pt->asked = pt->policy = q.policy;
	pt->max_age_ms = q.max_age_ms;
	if (it->state != DR_BE_ST_PROTECTED) {
		pt->verdict = DR_PF_POINT_NOT_REPLICATING;
		return;
	}
	dr_be_point *pts = NULL;
	size_t n = 0;
	dr_be_error e;
	dr_arena *scratch = pf->scratch; /* emptied once the choice is kept */
	bool fallbacks = !pt->override && !pt->pinned;
	int rc = newest_will_do(pf->rb, &q, fallbacks)
			 ? dr_backend_list_newest_points(pf->be, scratch, o->now_ms, it->id, &pts, &n, &e)
			 : dr_backend_list_points(pf->be, scratch, o->now_ms, it->id, &pts, &n, &e);
	if (rc < 0) {
		pt->verdict = DR_PF_POINT_NONE;
		pt->error = dr_arena_printf(pf->a, "%s: cannot list its recovery points: %s", it->name,
					   dr_backend_error_text(pf->a, &e));
	} else {
		choose(pf, vm, pts, n, q, fallbacks, pt);
		note_undated(pf, pts, n, pt);
	}
	dr_arena_reset(scratch);
}

/* --- the walk ----------------------------------------------------------------- */

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
	bool stopped; /* refused, or (resume) in flight: nothing after is checked */
	bool failover_seen; /* its first failover was reached: the point is decided there */
	size_t refused_op; /* index into pf->ops */
	const char *unusable; /* the item's: every operation on it is refused (dr_be_item.unusable) */
} walk;

static bool step_op(const dr_step *st, dr_be_op *op)
{
	const char *name = st->action ? st->action->name : NULL;
	return name && strncmp(name, "dr.", 3) == 0 && (st->action->flags & DR_AF_MUTATING) &&
	       dr_backend_op_parse(name + 3, op);
}

static dr_be_direction step_direction(const dr_step *st, dr_be_direction dflt)
{
	const dr_node *d = st->with ? dr_node_get(st->with, "direction") : NULL;
	const char *s = d && !dr_node_template(d) ? dr_node_str(d) : NULL;
	if (s && strcmp(s, "primary-to-recovery") == 0)
		return DR_BE_DIR_PRIMARY_TO_RECOVERY;
	if (s && strcmp(s, "recovery-to-primary") == 0)
		return DR_BE_DIR_RECOVERY_TO_PRIMARY;
	return dflt;
}

/* What w's state means for op and what to do (a rerun of a failover that succeeded lands here); "" when nothing to add. */
static const char *state_next(const walk *w, dr_be_op op)
{
	bool moves = op == DR_BE_OP_FAILOVER || op == DR_BE_OP_TEST_FAILOVER, back = w->active == DR_BE_RECOVERY;
	switch (w->st) {
	case DR_BE_ST_PROTECTED:
	case DR_BE_ST_OTHER: return "";
	case DR_BE_ST_FAILED_OVER:
		return moves ? ": it already failed over, and that failover is not committed yet: nothing is left to fail "
			       "over; commit it (dr.commit), or undo it (dr.cancel_failover)"
			     : "";
	case DR_BE_ST_COMMITTED:
		if (!moves)
			return "";
		return back ? ": it already failed over, and that failover is committed: nothing is left to fail over; "
			      "to go back, reprotect it (dr.reprotect), then fail it back with drover failback"
			    : ": it already failed over, and that failover is committed: nothing is left to fail over; "
			      "reprotect it (dr.reprotect) before it can fail over again";
	case DR_BE_ST_TEST_FAILED_OVER:
		return moves ? ": a test failover of it is still up: clean it up first (dr.test_cleanup, as drover "
			       "drill's finally does)"
			     : "";
	default: return ": a job on it is still running: wait until it ends, then plan again";
	}
}

/* Why op would be refused in w's state (NULL: allowed). */
static const char *refusal(dr_preflight *pf, const walk *w, dr_be_op op, dr_be_direction dir)
{
	if (w->unusable)
		return w->unusable;
	if (op == DR_BE_OP_SHUTDOWN)
		return NULL;
	if (!(w->allowed & DR_BE_OP_BIT(op)))
		return dr_arena_printf(pf->a, "the service refuses %s in state %s (allowed: %s)%s", dr_backend_op_name(op),
				       dr_backend_state_name(w->st), dr_backend_allowed_text(pf->a, w->allowed),
				       state_next(w, op));
	bool moves = op == DR_BE_OP_FAILOVER || op == DR_BE_OP_TEST_FAILOVER;
	dr_be_location from = dir == DR_BE_DIR_RECOVERY_TO_PRIMARY ? DR_BE_RECOVERY : DR_BE_PRIMARY;
	if (moves && dir != DR_BE_DIR_AUTO && w->active != from)
		return dr_arena_printf(pf->a, "it is active in %s, so a %s %s is not possible (%s)",
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

/* Append an op to VM vm's walk; returns its index. */
static size_t add_op(dr_preflight *pf, size_t vm, size_t node, dr_be_op op, dr_be_state from)
{
	if (pf->n_ops == pf->cap_ops) {
		size_t c = pf->cap_ops ? 2 * pf->cap_ops : 64;
		pf->ops = dr_arena_grow(pf->a, pf->ops, pf->n_ops, c, sizeof *pf->ops);
		pf->cap_ops = c;
	}
	size_t k = pf->n_ops++;
	pf->ops[k] = (dr_pf_op){.node = node, .op = op, .from = from, .to = from, .next = DR_PF_NO_VM};
	dr_pf_vm *v = &pf->vm[vm];
	if (v->last_op == DR_PF_NO_VM)
		v->first_op = k;
	else
		pf->ops[v->last_op].next = k;
	v->last_op = k;
	return k;
}

typedef struct stepctx {
	size_t node;
	const dr_step *st;
	dr_be_op op;
	dr_be_direction dir;
	bool fails_over; /* a (test) failover: the VM's point is picked at the first one */
	bool fanned;
	bool tolerant; /* on_failure: continue: a refusal is the run's expected outcome, not a blocker */
} stepctx;

static dr_pf_task task_state(const dr_preflight_opts *o, const stepctx *sc, size_t vm)
{
	return o->task ? o->task(o->ctx, sc->node, sc->fanned ? vm : DR_PF_NO_VM) : DR_PF_TASK_TO_START;
}

/* The step's when: for VM vm in state st: 1 runs, 0 skipped, -1 not known before the run. */
static int when_of(const dr_preflight *pf, const dr_preflight_opts *o, const dr_step *st, size_t vm, dr_be_state state)
{
	if (!st->when)
		return 1;
	planctx c = {.params = o->params, .inputs = st->inputs, .keep = cJSON_CreateArray(), .target_state = state};
	c.target = vm == DR_PF_NO_VM ? NULL : &pf->items[vm];
	c.env = (dr_eval_env){.lookup = plan_lookup, .ctx = &c};
	char *err = NULL;
	cJSON *v = dr_node_eval_at(st->when, "when", &c.env, &err);
	int rc = v ? dr_eval_truthy(v) : -1;
	free(err);
	cJSON_Delete(v);
	cJSON_Delete(c.keep);
	return rc;
}

/* One operation of VM vm's walk: check it, record it, move on. */
static void walk_step(dr_preflight *pf, const dr_preflight_opts *o, walk *w, const stepctx *sc, size_t vm)
{
	if (w->stopped)
		return;
	dr_pf_task ts = task_state(o, sc, vm);
	if (ts != DR_PF_TASK_TO_START) {
		w->failover_seen |= sc->fails_over;
		w->stopped = pf->vm[vm].unsettled = ts == DR_PF_TASK_IN_FLIGHT;
		return; /* DONE: its effect is in the state the service reports */
	}
	int when = when_of(pf, o, sc->st, vm, w->st);
	if (when == 0)
		return; /* its when: skips it on this VM */
	size_t k = add_op(pf, vm, sc->node, sc->op, w->st);
	const char *why = refusal(pf, w, sc->op, sc->dir);
	if (why) {
		bool tolerated = sc->tolerant || when < 0; /* continue, or a when: only the run can decide */
		pf->ops[k].refused = why;
		pf->ops[k].tolerated = tolerated;
		pf->ops[k].conditional = when < 0;
		w->stopped = !tolerated;
		w->refused_op = k;
		return;
	}
	if (sc->fails_over && !w->failover_seen)
		vm_point(pf, o, vm, sc->node);
	w->failover_seen |= sc->fails_over;
	apply(w, sc->op);
	pf->ops[k].to = w->st;
}

static bool skipped(const dr_preflight *pf, const dr_preflight_opts *o, size_t node)
{
	return o->mode == DR_MODE_DRILL && dr_modes_skips(pf->rb, node, NULL);
}

/* A test failover's isolated network: known and empty is a blocker (the service would refuse). */
static void check_network(dr_preflight *pf, const dr_preflight_opts *o, const stepctx *sc)
{
	const dr_node *n = sc->st->with ? dr_node_get(sc->st->with, "network") : NULL;
	const char *why = NULL;
	const char *s = n ? value_text_in(n, sc->st, o->params, pf->a, &why) : NULL;
	if ((n && s && !*s) || (!n && !why))
		block(pf, DR_BLOCK_NETWORK, DR_PF_NO_VM, sc->node,
		      "step '%s': a test failover needs an isolated network to join (with.network), and it names none",
		      sc->st->id.name);
}

static void walk_node(dr_preflight *pf, const dr_preflight_opts *o, walk *w, size_t node)
{
	stepctx sc = {.node = node, .st = pf->plan->nodes[node].step};
	if (!step_op(sc.st, &sc.op) || skipped(pf, o, node))
		return;
	sc.dir = step_direction(sc.st, o->direction);
	sc.fails_over = (sc.st->action->flags & (DR_AF_FAILOVER | DR_AF_TEST_FAILOVER)) != 0;
	sc.fanned = sc.st->n_targets > 0;
	dr_on_failure pol = sc.st->on_failure != DR_ONFAIL_INHERIT ? sc.st->on_failure : pf->rb->on_failure;
	sc.tolerant = pol == DR_ONFAIL_CONTINUE;
	for (size_t k = 0; k < pf->n_step_vms[node]; k++)
		walk_step(pf, o, &w[pf->step_vms[node][k]], &sc, pf->step_vms[node][k]);
	if (sc.op == DR_BE_OP_TEST_FAILOVER && pf->n_step_vms[node])
		check_network(pf, o, &sc);
}

/* --- blockers per VM ----------------------------------------------------------- */

/* The policy whose name text is near (a misspelling), or NULL. */
static const char *near_policy(const char *text)
{
	const char *names[DR_POINT_CUSTOM + 1];
	for (int i = DR_POINT_LATEST; i < DR_POINT_CUSTOM; i++)
		names[i] = dr_point_policy_name((dr_point_policy)i);
	names[DR_POINT_CUSTOM] = NULL;
	return text ? dr_text_suggest(text, names) : NULL;
}

/* For --recovery-point TEXT that names no point but is near a policy's name: "; did you mean ...", else "". */
static const char *misspelt_policy(dr_preflight *pf, const dr_point_override *p)
{
	const char *near = near_policy(p->id);
	return near ? dr_arena_printf(pf->a, " (no point has that id or name: did you mean the policy %s?)", near) : "";
}

/*
 * recovery.point: ${params...} that gives no policy (a misspelt enum value or
 * default, a --param): every failover that takes its point from it would be
 * refused when it starts, after what ran before it (a shutdown of the
 * sources), so it blocks the plan. Only when a failover takes it (a VM whose
 * point is chosen at run time from recovery.point).
 */
static void policy_blocker(dr_preflight *pf, const dr_preflight_opts *o)
{
	const dr_recovery *r = &pf->rb->recovery;
	if (!r->present || r->point != DR_POINT_FROM_EXPR || (o->point && o->point->present))
		return;
	size_t vm = 0;
	while (vm < pf->n && !pf->vm[vm].point.no_policy)
		vm++;
	const char *why = NULL, *s = vm < pf->n ? value_text(r->point_node, o->params, pf->a, &why) : NULL;
	dr_point_policy p;
	if (!s || dr_point_policy_parse(s, &p))
		return;
	const char *near = near_policy(s);
	block(pf, DR_BLOCK_RPO, DR_PF_NO_VM, pf->vm[vm].point.node,
	      "recovery.point is '%s', which is no recovery point policy (latest, latest-processed, latest-app-consistent, "
	      "latest-crash-consistent or custom): each failover would be refused when it starts%s%s%s",
	      s, near ? "; did you mean " : "", near ? near : "", near ? "?" : "");
}

static void point_blocker(dr_preflight *pf, const dr_preflight_opts *o, size_t vm)
{
	const dr_pf_point *pt = &pf->vm[vm].point;
	const char *name = pf->items[vm].name;
	char max[32], age[32];
	dr_text_human_duration(pt->max_age_ms, max, sizeof max);
	dr_text_human_duration(pt->age_ms, age, sizeof age);
	if (pt->pinned && !pt->error) {
		if (pt->verdict == DR_PF_POINT_TOO_OLD)
			block(pf, DR_BLOCK_RPO, vm, pt->node,
			      "%s: the plan's recovery point %s is now %s old, older than max_age %s (the RPO guard)", name,
			      o->pins[vm], age, max);
		else
			block(pf, DR_BLOCK_RPO, vm, pt->node, "%s: the plan's recovery point %s no longer exists", name,
			      o->pins[vm]);
		return;
	}
	const char *tail = pf->rb->recovery.n_fallback && !pt->override ? ", nor does any fallback" : "";
	const char *what = pt->override ? dr_arena_printf(pf->a, "--recovery-point %s", o->point->text)
					: dr_point_policy_name(pt->asked);
	if (pt->error)
		block(pf, DR_BLOCK_BACKEND, vm, pt->node, "%s", pt->error);
	else if (pt->verdict == DR_PF_POINT_TOO_OLD)
		block(pf, DR_BLOCK_RPO, vm, pt->node,
		      "%s: its %s recovery point is %s old, older than max_age %s%s (the RPO guard)", name, what, age, max,
		      tail);
	else if (pt->undated)
		block(pf, DR_BLOCK_RPO, vm, pt->node, "%s: no %s recovery point can be chosen%s: %s", name, what, tail,
		      pt->note);
	else
		block(pf, DR_BLOCK_RPO, vm, pt->node, "%s: no %s recovery point exists%s%s%s", name, what, tail,
		      pf->items[vm].rpo_ms >= 0 && pt->asked != DR_POINT_CUSTOM
			      ? " (it replicates, so new points keep coming every few minutes: wait for one, or use latest)"
			      : "",
		      pt->override ? misspelt_policy(pf, o->point) : "");
}

static void vm_blockers(dr_preflight *pf, const dr_preflight_opts *o, const walk *w, size_t vm)
{
	if (pf->items[vm].nameless && !pf->vm[vm].in_plan && pf->bind.n_sets)
		block(pf, DR_BLOCK_VM_SET, vm, NO_NODE,
		      "%s: no VM set can tell whether this item is one of its VMs, as the vault does not say its VM's "
		      "name: %s",
		      pf->items[vm].name, pf->items[vm].unusable ? pf->items[vm].unusable : "its name is unknown");
	if (w->stopped && !pf->vm[vm].unsettled) {
		const dr_pf_op *op = &pf->ops[w->refused_op];
		pf->vm[vm].refused_op = w->refused_op;
		block(pf, DR_BLOCK_STATE, vm, op->node, "%s: step '%s' would be refused: %s", pf->items[vm].name,
		      pf->plan->nodes[op->node].step->id.name, op->refused);
	}
	if (pf->vm[vm].point.verdict == DR_PF_POINT_TOO_OLD || pf->vm[vm].point.verdict == DR_PF_POINT_NONE)
		point_blocker(pf, o, vm);
	pf->vm[vm].walked = !w->stopped && pf->vm[vm].first_op != DR_PF_NO_VM;
	pf->vm[vm].ends_in = w->st;
}

static walk *start_walks(dr_preflight *pf)
{
	walk *w = dr_arena_calloc(pf->a, pf->n + 1, sizeof *w);
	pf->vm = dr_arena_calloc(pf->a, pf->n + 1, sizeof *pf->vm);
	for (size_t i = 0; i < pf->n; i++) {
		const dr_be_item *it = &pf->items[i];
		w[i] = (walk){.st = it->state, .active = it->active_location, .allowed = it->current_job_id ? 0 : it->allowed_ops,
			      .unusable = it->unusable};
		pf->vm[i].first_op = pf->vm[i].last_op = pf->vm[i].refused_op = DR_PF_NO_VM;
	}
	for (size_t s = 0; s < pf->bind.n_sets; s++)
		for (size_t k = 0; k < pf->bind.n_members[s]; k++)
			pf->vm[pf->bind.members[s][k]].in_plan = true;
	return w;
}

/* Room for every operation the walk may record (each mutating step's VMs): one array, not a chain of copies. */
static void reserve_ops(dr_preflight *pf)
{
	size_t n = 0;
	dr_be_op op;
	for (size_t k = 0; k < pf->plan->n; k++)
		if (step_op(pf->plan->nodes[k].step, &op))
			n += pf->n_step_vms[k];
	if (n > pf->cap_ops) { /* filled as the walk records: a step's when: may skip some */
		dr_pf_op *ops = dr_arena_alloc_uninit(pf->a, n * sizeof *ops);
		if (pf->n_ops)
			memcpy(ops, pf->ops, pf->n_ops * sizeof *ops);
		pf->ops = ops;
		pf->cap_ops = n;
	}
}

static void check_all(dr_preflight *pf, const dr_preflight_opts *o)
{
	walk *w = start_walks(pf);
	reserve_ops(pf);
	size_t n_set_blockers = pf->n_blockers;
	dr_blocker *step_blockers = NULL;
	for (size_t k = 0; k < pf->plan->n; k++)
		walk_node(pf, o, w, pf->order[k]);
	/* per-step blockers (network) go after the VMs': set them aside */
	size_t n_step = pf->n_blockers - n_set_blockers;
	if (n_step) {
		step_blockers = dr_arena_calloc(pf->a, n_step, sizeof *step_blockers);
		memcpy(step_blockers, pf->blockers + n_set_blockers, n_step * sizeof *step_blockers);
		pf->n_blockers = n_set_blockers;
	}
	for (size_t i = 0; i < pf->n; i++)
		vm_blockers(pf, o, &w[i], i);
	policy_blocker(pf, o);
	for (size_t i = 0; i < n_step; i++)
		block(pf, step_blockers[i].kind, DR_PF_NO_VM, step_blockers[i].node, "%s", step_blockers[i].message);
}

void dr_preflight_check(dr_preflight *pf, const dr_preflight_opts *o)
{
	/* the check's results go in an arena of their own, which dr_preflight_compact lets go */
	if (!pf->checked)
		pf->checked = sub_new(pf->a);
	dr_arena_expect(pf->checked->a, pf->n * 704); /* a VM's walk, operations and kept point: about 700 bytes */
	dr_arena *own = pf->a;
	pf->a = pf->checked->a;
	pf->policy.done = false; /* o's parameters and override may differ from the last check's */
	pf->scratch = dr_arena_new();
	check_all(pf, o);
	dr_arena_free(pf->scratch);
	pf->scratch = NULL;
	pf->a = own;
}
