/*
 * graphdiff.c - `drover graph --diff`: compare two plans step by step and
 * edge by edge, then print the result (graphdiff.h says what is compared).
 *
 * The comparison is a table of step fields, each a predicate over two
 * checked steps, except with: and inputs, which name one field per key.
 * Drawing (Mermaid, DOT) is graph.c's: the diff hands it a marked view. The
 * text and JSON forms are here.
 */
#include "views/graphdiff.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "actions/action.h"
#include "front/expr.h"
#include "run/retry.h"
#include "util/buf.h"
#include "util/text.h"

#define NONE ((size_t)-1)

/* How deep ${inputs.X} is followed through nested composites (resolve allows 8 levels). */
enum { MAX_INPUT_DEPTH = 16 };

/* A growable list of strings in an arena. */
typedef struct strlist {
	dr_arena *a;
	const char **items;
	size_t n, cap;
} strlist;

static void strlist_add(strlist *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->items[i], s) == 0)
			return;
	if (l->n == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 8;
		l->items = dr_arena_grow(l->a, l->items, l->n, cap, sizeof *l->items);
		l->cap = cap;
	}
	l->items[l->n++] = s;
}

static bool str_same(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

/* What a field's comparison may look at besides the two steps: scratch memory, and each step's runbook. */
typedef struct cmpctx {
	dr_arena *scratch;
	const dr_runbook *ra, *rb; /* OLD's, NEW's (NULL: the steps' own policies are compared) */
} cmpctx;

/* --- YAML trees ------------------------------------------------------- */

/* Scalars are the same when their core-schema type and value are: 0x10 is 16, "16" is not. */
static bool scalar_same(const dr_node *a, const dr_node *b)
{
	int64_t ia, ib;
	double xa, xb;
	bool ba, bb;
	if (strcmp(dr_node_type_name(a), dr_node_type_name(b)) != 0)
		return false;
	if (dr_node_is_null(a))
		return true;
	if (dr_node_as_bool(a, &ba) && dr_node_as_bool(b, &bb))
		return ba == bb;
	if (dr_node_as_int(a, &ia) && dr_node_as_int(b, &ib))
		return ia == ib;
	if (dr_node_as_number(a, &xa) && dr_node_as_number(b, &xb))
		return xa == xb || (isnan(xa) && isnan(xb));
	return a->u.scalar.len == b->u.scalar.len && memcmp(a->u.scalar.str, b->u.scalar.str, a->u.scalar.len) == 0;
}

static bool node_same(const dr_node *a, const dr_node *b);

/* Mappings are the same when they have the same keys with the same values, in any order. */
static bool map_same(const dr_node *a, const dr_node *b)
{
	if (a->u.map.n != b->u.map.n)
		return false;
	for (size_t i = 0; i < a->u.map.n; i++) {
		const dr_pair *p = &a->u.map.items[i];
		if (!node_same(p->value, dr_node_get(b, dr_node_str(p->key))))
			return false;
	}
	return true;
}

/* Two trees (NULL: absent) are the same: see scalar_same and map_same; sequences item by item. */
static bool node_same(const dr_node *a, const dr_node *b)
{
	if (a == b)
		return true;
	if (!a || !b || a->kind != b->kind)
		return false;
	if (a->kind == DR_NODE_SCALAR)
		return scalar_same(a, b);
	if (a->kind == DR_NODE_MAP)
		return map_same(a, b);
	if (a->u.seq.n != b->u.seq.n)
		return false;
	for (size_t i = 0; i < a->u.seq.n; i++)
		if (!node_same(a->u.seq.items[i], b->u.seq.items[i]))
			return false;
	return true;
}

/* --- composite inputs ------------------------------------------------- */

static void on_input_ref(void *ctx, const dr_expr *e)
{
	if (e->op == DR_E_REF && e->u.ref.n >= 2 && e->u.ref.path[0] && e->u.ref.path[1] &&
	    strcmp(e->u.ref.path[0], "inputs") == 0)
		strlist_add(ctx, e->u.ref.path[1]);
}

/* Add to out the X of every ${inputs.X} in the compiled templates under n. */
static void input_refs(strlist *out, const dr_node *n)
{
	if (!n)
		return;
	if (n->kind == DR_NODE_SCALAR && dr_node_template(n))
		dr_template_each_ref(dr_node_template(n), on_input_ref, out);
	for (size_t i = 0; n->kind == DR_NODE_MAP && i < n->u.map.n; i++)
		input_refs(out, n->u.map.items[i].value);
	for (size_t i = 0; n->kind == DR_NODE_SEQ && i < n->u.seq.n; i++)
		input_refs(out, n->u.seq.items[i]);
}

/* What ${inputs.name} is in this binding: the use step's with: value, else the input's default. */
static const dr_node *input_value(const dr_inputs *in, const char *name)
{
	if (!in)
		return NULL;
	const dr_node *v = dr_node_get(in->with, name);
	if (v)
		return v;
	for (size_t i = 0; i < in->n_decl; i++)
		if (str_same(in->decl[i].name.name, name))
			return in->decl[i].default_value;
	return NULL;
}

/*
 * True when ${inputs.name} means the same in both bindings: the same value,
 * and the inputs of the enclosing use that value reads (nested composites)
 * the same too.
 */
static bool input_same(const dr_inputs *a, const dr_inputs *b, const char *name, dr_arena *scratch, int depth)
{
	const dr_node *va = input_value(a, name), *vb = input_value(b, name);
	if (!node_same(va, vb))
		return false;
	if (!a || !b || depth >= MAX_INPUT_DEPTH)
		return true;
	strlist refs = {.a = scratch};
	input_refs(&refs, va);
	for (size_t i = 0; i < refs.n; i++)
		if (!input_same(a->parent, b->parent, refs.items[i], scratch, depth + 1))
			return false;
	return true;
}

/* --- step fields ------------------------------------------------------ */

static bool is_empty_map(const dr_node *n)
{
	return !n || dr_node_is_null(n) || (n->kind == DR_NODE_MAP && n->u.map.n == 0);
}

/* with.KEY for each key added, removed or changed (NEW's keys first); "with" when one is not a mapping. */
static void with_fields(strlist *out, const dr_step *a, const dr_step *b)
{
	const dr_node *wa = is_empty_map(a->with) ? NULL : a->with, *wb = is_empty_map(b->with) ? NULL : b->with;
	if ((wa && wa->kind != DR_NODE_MAP) || (wb && wb->kind != DR_NODE_MAP)) {
		if (!node_same(wa, wb))
			strlist_add(out, "with");
		return;
	}
	for (size_t i = 0; wb && i < wb->u.map.n; i++) {
		const char *key = dr_node_str(wb->u.map.items[i].key);
		if (!node_same(dr_node_get(wa, key), wb->u.map.items[i].value))
			strlist_add(out, dr_arena_printf(out->a, "with.%s", key));
	}
	for (size_t i = 0; wa && i < wa->u.map.n; i++) {
		const char *key = dr_node_str(wa->u.map.items[i].key);
		if (!dr_node_get(wb, key))
			strlist_add(out, dr_arena_printf(out->a, "with.%s", key));
	}
}

/* inputs.X for each composite input the step reads (in with: or when:) whose value changed. */
static void input_fields(strlist *out, const dr_step *a, const dr_step *b)
{
	if (!a->inputs && !b->inputs)
		return;
	strlist refs = {.a = out->a};
	input_refs(&refs, b->with);
	input_refs(&refs, b->when);
	input_refs(&refs, a->with);
	input_refs(&refs, a->when);
	for (size_t i = 0; i < refs.n; i++)
		if (!input_same(a->inputs, b->inputs, refs.items[i], out->a, 0))
			strlist_add(out, dr_arena_printf(out->a, "inputs.%s", refs.items[i]));
}

static bool same_action(const dr_step *a, const dr_step *b, const cmpctx *c)
{
	(void)c;
	return str_same(a->action_name.name, b->action_name.name) && str_same(a->use.name, b->use.name);
}

static bool refs_same(const dr_ref *a, size_t na, const dr_ref *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!str_same(a[i].name, b[i].name))
			return false;
	return true;
}

static bool same_targets(const dr_step *a, const dr_step *b, const cmpctx *c)
{
	(void)c;
	return a->foreach == b->foreach && refs_same(a->targets, a->n_targets, b->targets, b->n_targets);
}

static bool same_pipeline(const dr_step *a, const dr_step *b, const cmpctx *c)
{
	(void)c;
	return a->pipeline == b->pipeline;
}

static bool same_when(const dr_step *a, const dr_step *b, const cmpctx *c)
{
	(void)c;
	return node_same(a->when, b->when);
}

static bool retry_same(const dr_retry *a, const dr_retry *b)
{
	if (a->attempts != b->attempts || a->delay_ms != b->delay_ms || a->backoff != b->backoff ||
	    a->max_delay_ms != b->max_delay_ms || a->jitter != b->jitter || a->on != b->on || a->n_on_match != b->n_on_match)
		return false;
	for (size_t i = 0; i < a->n_on_match; i++)
		if (!str_same(a->on_match[i].source, b->on_match[i].source))
			return false;
	return true;
}

/*
 * The policy each step runs with (dr_retry_of_step): a written retry:,
 * defaults.retry, or a dr.* step's built-in one; so a retry: added to or
 * removed from a dr.* step, or a changed defaults.retry, is a change.
 */
static bool same_retry(const dr_step *sa, const dr_step *sb, const cmpctx *c)
{
	return retry_same(dr_retry_of_step(c->ra, sa, NULL), dr_retry_of_step(c->rb, sb, NULL));
}

/* "built-in (5 attempts on throttled, delay 2s x2 up to 1m)" (in a): the policy st of rb runs with, and whence. */
static const char *retry_words(dr_arena *a, const dr_runbook *rb, const dr_step *st)
{
	static const char *const classes[] = {"transient", "throttled", "timeout", "any"};
	bool builtin;
	const dr_retry *r = dr_retry_of_step(rb, st, &builtin);
	const char *whence = builtin ? "built-in" : r->present ? "written" : rb->default_retry.present ? "defaults.retry"
												       : "none";
	char d[40], m[40];
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s (%lld attempt%s", whence, (long long)r->attempts, r->attempts == 1 ? "" : "s");
	const char *sep = " on ";
	for (size_t i = 0; r->attempts > 1 && i < sizeof classes / sizeof classes[0]; i++)
		if (r->on & (1u << i))
			dr_buf_printf(&b, "%s%s", sep, classes[i]), sep = ", ";
	for (size_t i = 0; r->attempts > 1 && i < r->n_on_match; i++)
		dr_buf_printf(&b, "%smatch '%s'", sep, r->on_match[i].source), sep = ", ";
	dr_text_human_duration(r->delay_ms, d, sizeof d);
	dr_text_human_duration(r->max_delay_ms, m, sizeof m);
	if (r->attempts > 1)
		dr_buf_printf(&b, ", delay %s", d);
	if (r->attempts > 1 && r->backoff != 1)
		dr_buf_printf(&b, " x%g", r->backoff);
	if (r->attempts > 1 && r->max_delay_ms > 0)
		dr_buf_printf(&b, " up to %s", m);
	dr_buf_putc(&b, ')');
	const char *s = dr_arena_strdup(a, b.data);
	dr_buf_dispose(&b);
	return s;
}

static bool same_timeout(const dr_step *a, const dr_step *b, const cmpctx *c)
{
	(void)c;
	return a->timeout_ms == b->timeout_ms;
}

static bool same_attempt_timeout(const dr_step *a, const dr_step *b, const cmpctx *c)
{
	(void)c;
	return a->attempt_timeout_ms == b->attempt_timeout_ms;
}

static bool same_concurrency(const dr_step *a, const dr_step *b, const cmpctx *c)
{
	(void)c;
	return a->concurrency == b->concurrency;
}

static bool same_order(const dr_step *a, const dr_step *b, const cmpctx *c)
{
	(void)c;
	return a->order == b->order;
}

static bool same_max_failures(const dr_step *a, const dr_step *b, const cmpctx *c)
{
	(void)c;
	return a->max_failures == b->max_failures && a->max_failures_pct == b->max_failures_pct;
}

static bool same_on_failure(const dr_step *a, const dr_step *b, const cmpctx *c)
{
	(void)c;
	return a->on_failure == b->on_failure;
}

static bool same_rollback(const dr_step *a, const dr_step *b, const cmpctx *c);

static bool same_finally(const dr_step *a, const dr_step *b, const cmpctx *c)
{
	(void)c;
	return a->in_finally == b->in_finally;
}

static bool same_name(const dr_step *a, const dr_step *b, const cmpctx *c)
{
	(void)c;
	return str_same(a->name, b->name);
}

static bool same_description(const dr_step *a, const dr_step *b, const cmpctx *c)
{
	(void)c;
	return str_same(a->description, b->description);
}

/*
 * The fields compared, in the order changes are named. A row has either
 * same (a predicate: the row's name when false) or each (which names its
 * own fields, like with.port).
 */
static const struct field {
	const char *name;
	bool (*same)(const dr_step *a, const dr_step *b, const cmpctx *c);
	void (*each)(strlist *out, const dr_step *a, const dr_step *b);
} fields[] = {
	{"action", same_action, NULL},
	{"with", NULL, with_fields},
	{"inputs", NULL, input_fields},
	{"targets", same_targets, NULL},
	{"pipeline", same_pipeline, NULL},
	{"when", same_when, NULL},
	{"retry", same_retry, NULL},
	{"timeout", same_timeout, NULL},
	{"attempt_timeout", same_attempt_timeout, NULL},
	{"concurrency", same_concurrency, NULL},
	{"order", same_order, NULL},
	{"max_failures", same_max_failures, NULL},
	{"on_failure", same_on_failure, NULL},
	{"rollback", same_rollback, NULL},
	{"finally", same_finally, NULL},
	{"name", same_name, NULL},
	{"description", same_description, NULL},
};

/* Add to out the name of every field in which a and b differ. */
static void step_fields(strlist *out, const dr_step *a, const dr_step *b, const cmpctx *c)
{
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		if (fields[i].each)
			fields[i].each(out, a, b);
		else if (!fields[i].same(a, b, c))
			strlist_add(out, fields[i].name);
	}
}

/*
 * Rollback lists are the same when both are absent or both written (an
 * explicit `rollback: []` turns the action's default undo off) and hold the
 * same steps: same ids, needs and fields, in the same order.
 */
static bool same_rollback(const dr_step *a, const dr_step *b, const cmpctx *c)
{
	if ((dr_node_get(a->node, "rollback") != NULL) != (dr_node_get(b->node, "rollback") != NULL) ||
	    a->n_rollback != b->n_rollback)
		return false;
	for (size_t i = 0; i < a->n_rollback; i++) {
		const dr_step *ra = &a->rollback[i], *rb = &b->rollback[i];
		if (!str_same(ra->id.name, rb->id.name) || !refs_same(ra->needs, ra->n_needs, rb->needs, rb->n_needs))
			return false;
		strlist diff = {.a = c->scratch};
		step_fields(&diff, ra, rb, c);
		if (diff.n)
			return false;
	}
	return true;
}

/* --- matching --------------------------------------------------------- */

typedef struct builder {
	dr_graphdiff *d;
	size_t *pos_new; /* NEW's node index -> index in d->steps */
	size_t *pos_old; /* OLD's node index -> index in d->steps */
} builder;

static const char *id_of(const dr_plan *p, size_t i) { return dr_graph_id(p->nodes[i].step); }

static bool is_finally(const dr_plan *p, size_t i) { return i >= p->n_main; }

/* Steps of the same use: (the same composite, written next to each other in the picture). */
static bool same_group(const dr_step *a, const dr_step *b)
{
	return a->from_composite && b->from_composite && strcmp(a->from_composite, b->from_composite) == 0;
}

/* Append NEW's node i, matched with OLD's node by id: same, changed or added. */
static void emit_new(builder *b, size_t i)
{
	dr_graphdiff *d = b->d;
	dr_graphdiff_step *s = &d->steps[d->n];
	size_t k = dr_plan_index(d->old, id_of(d->new, i));
	s->step = d->new->nodes[i].step;
	s->mark = DR_MARK_ADDED;
	if (k != NONE) {
		strlist f = {.a = d->arena};
		cmpctx c = {.scratch = d->arena, .ra = d->old->rb, .rb = d->new->rb};
		s->old = d->old->nodes[k].step;
		step_fields(&f, s->old, s->step, &c);
		if (!same_retry(s->old, s->step, &c)) {
			s->retry_old = retry_words(d->arena, d->old->rb, s->old);
			s->retry_new = retry_words(d->arena, d->new->rb, s->step);
		}
		s->fields = f.items;
		s->n_fields = f.n;
		s->mark = f.n ? DR_MARK_CHANGED : DR_MARK_SAME;
		b->pos_old[k] = d->n;
	}
	d->added += s->mark == DR_MARK_ADDED;
	d->changed += s->mark == DR_MARK_CHANGED;
	b->pos_new[i] = d->n++;
}

static void emit_old(builder *b, size_t j)
{
	dr_graphdiff *d = b->d;
	d->steps[d->n] = (dr_graphdiff_step){.step = d->old->nodes[j].step, .old = d->old->nodes[j].step,
					     .mark = DR_MARK_REMOVED};
	d->removed++;
	b->pos_old[j] = d->n++;
}

/*
 * Where OLD's removed steps of one section (steps or finally) go: right
 * after the nearest earlier OLD step of the section that NEW keeps there,
 * or first when there is none. Lists in OLD's order, linked through next
 * (indexes relative to ob), NONE-terminated.
 */
typedef struct placement {
	size_t first; /* removed steps before NEW's first */
	size_t *after; /* after[i - nb]: those after NEW's node i */
	size_t *next; /* next[j - ob]: the one after OLD's node j in its list */
} placement;

static placement place_removed(builder *b, size_t nb, size_t ne, size_t ob, size_t oe)
{
	const dr_plan *op = b->d->old, *np = b->d->new;
	placement pl = {.first = NONE, .after = dr_arena_calloc(b->d->arena, ne - nb + 1, sizeof(size_t)),
			.next = dr_arena_calloc(b->d->arena, oe - ob + 1, sizeof(size_t))};
	size_t *anchor = dr_arena_calloc(b->d->arena, oe - ob + 1, sizeof *anchor), last = NONE;
	for (size_t i = nb; i < ne; i++)
		pl.after[i - nb] = NONE;
	for (size_t j = ob; j < oe; j++) {
		size_t k = dr_plan_index(np, id_of(op, j));
		anchor[j - ob] = k == NONE ? last : NONE - 1; /* NONE - 1: kept, placed by NEW */
		if (k != NONE && is_finally(np, k) == is_finally(op, j))
			last = k;
	}
	for (size_t j = oe; j-- > ob;) {
		size_t a = anchor[j - ob];
		if (a == NONE - 1)
			continue;
		size_t *head = a == NONE ? &pl.first : &pl.after[a - nb];
		pl.next[j - ob] = *head;
		*head = j;
	}
	return pl;
}

/*
 * One section: NEW's nodes [nb, ne) in order, OLD's removed nodes of
 * [ob, oe) placed as place_removed says - except that a removed step that
 * is not of the same use: as the step it follows waits until that use's
 * group ends, so that no group is split.
 */
static void merge_section(builder *b, size_t nb, size_t ne, size_t ob, size_t oe)
{
	const dr_plan *op = b->d->old, *np = b->d->new;
	placement pl = place_removed(b, nb, ne, ob, oe);
	size_t *pending = dr_arena_calloc(b->d->arena, oe - ob + 1, sizeof *pending), n_pending = 0;
	for (size_t j = pl.first; j != NONE; j = pl.next[j - ob])
		emit_old(b, j);
	for (size_t i = nb; i < ne; i++) {
		if (n_pending && !same_group(np->nodes[i - 1].step, np->nodes[i].step)) {
			for (size_t p = 0; p < n_pending; p++)
				emit_old(b, pending[p]);
			n_pending = 0;
		}
		emit_new(b, i);
		for (size_t j = pl.after[i - nb]; j != NONE; j = pl.next[j - ob]) {
			if (same_group(np->nodes[i].step, op->nodes[j].step))
				emit_old(b, j);
			else
				pending[n_pending++] = j;
		}
	}
	for (size_t p = 0; p < n_pending; p++)
		emit_old(b, pending[p]);
}

/* --- edges ------------------------------------------------------------ */

static bool has_edge(const dr_plan *p, const char *from, const char *to)
{
	size_t f = dr_plan_index(p, from), t = dr_plan_index(p, to);
	if (f == NONE || t == NONE)
		return false;
	for (size_t k = 0; k < p->nodes[t].n_deps; k++)
		if (p->nodes[t].deps[k] == f)
			return true;
	return false;
}

static void add_edge(dr_graphdiff *d, size_t from, size_t to, dr_mark mark)
{
	d->edges[d->n_edges++] = (dr_graph_edge){.from = from, .to = to, .mark = mark};
	d->edges_added += mark == DR_MARK_ADDED;
	d->edges_removed += mark == DR_MARK_REMOVED;
}

static void compare_edges(builder *b)
{
	dr_graphdiff *d = b->d;
	const dr_plan *op = d->old, *np = d->new;
	size_t cap = 1;
	for (size_t i = 0; i < np->n; i++)
		cap += np->nodes[i].n_deps;
	for (size_t j = 0; j < op->n; j++)
		cap += op->nodes[j].n_deps;
	d->edges = dr_arena_calloc(d->arena, cap, sizeof *d->edges);
	for (size_t i = 0; i < np->n; i++)
		for (size_t k = 0; k < np->nodes[i].n_deps; k++) {
			size_t f = np->nodes[i].deps[k];
			bool kept = has_edge(op, id_of(np, f), id_of(np, i));
			add_edge(d, b->pos_new[f], b->pos_new[i], kept ? DR_MARK_SAME : DR_MARK_ADDED);
		}
	for (size_t j = 0; j < op->n; j++)
		for (size_t k = 0; k < op->nodes[j].n_deps; k++) {
			size_t f = op->nodes[j].deps[k];
			if (!has_edge(np, id_of(op, f), id_of(op, j)))
				add_edge(d, b->pos_old[f], b->pos_old[j], DR_MARK_REMOVED);
		}
}

/*
 * Compare old and new (plans of runbooks compiled without errors; see
 * graphdiff.h). Returns a new diff that borrows both plans; the caller frees
 * it with dr_graphdiff_free().
 */
dr_graphdiff *dr_graphdiff_new(const dr_plan *old, const dr_plan *new)
{
	dr_arena *a = dr_arena_new();
	dr_graphdiff *d = dr_arena_alloc(a, sizeof *d);
	d->arena = a;
	d->old = old;
	d->new = new;
	d->steps = dr_arena_calloc(a, old->n + new->n + 1, sizeof *d->steps);
	builder b = {.d = d, .pos_new = dr_arena_calloc(a, new->n + 1, sizeof(size_t)),
		     .pos_old = dr_arena_calloc(a, old->n + 1, sizeof(size_t))};
	merge_section(&b, 0, new->n_main, 0, old->n_main);
	d->n_main = d->n;
	merge_section(&b, new->n_main, new->n, old->n_main, old->n);
	compare_edges(&b);
	return d;
}

void dr_graphdiff_free(dr_graphdiff *d)
{
	if (d)
		dr_arena_free(d->arena);
}

bool dr_graphdiff_empty(const dr_graphdiff *d)
{
	return !d->added && !d->removed && !d->changed && !d->edges_added && !d->edges_removed;
}

const dr_graphdiff_step *dr_graphdiff_find(const dr_graphdiff *d, const char *id)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(dr_graph_id(d->steps[i].step), id) == 0)
			return &d->steps[i];
	return NULL;
}

/* --- printing --------------------------------------------------------- */

/* "changed: with.port, retry" (arena-owned). */
static const char *changed_note(dr_arena *a, const dr_graphdiff_step *s)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_puts(&b, "changed: ");
	for (size_t i = 0; i < s->n_fields; i++)
		dr_buf_printf(&b, "%s%s", i ? ", " : "", s->fields[i]);
	const char *note = dr_arena_strdup(a, b.data);
	dr_buf_dispose(&b);
	return note;
}

/* NEW's graph with the marks, removed steps and edges kept, and a legend: for graph.c to draw. */
static void print_drawing(const dr_graphdiff *d, dr_graph_format fmt, FILE *out)
{
	dr_graph_node *nodes = dr_arena_calloc(d->arena, d->n + 1, sizeof *nodes);
	for (size_t i = 0; i < d->n; i++) {
		const dr_graphdiff_step *s = &d->steps[i];
		nodes[i] = (dr_graph_node){.step = s->step, .mark = s->mark};
		if (s->mark == DR_MARK_ADDED)
			nodes[i].note = "added";
		else if (s->mark == DR_MARK_REMOVED)
			nodes[i].note = "removed";
		else if (s->mark == DR_MARK_CHANGED)
			nodes[i].note = changed_note(d->arena, s);
	}
	dr_graph_view v = {.name = d->new->rb ? d->new->rb->name : NULL, .nodes = nodes, .n = d->n,
			   .n_main = d->n_main, .edges = d->edges, .n_edges = d->n_edges, .legend = true};
	dr_graph_draw(&v, fmt, out);
}

static void text_step(FILE *out, const dr_graphdiff_step *s)
{
	if (s->mark == DR_MARK_ADDED) {
		dr_buf b;
		dr_buf_init(&b);
		dr_graph_describe(&b, s->step, ", ");
		fprintf(out, "+ step %s (%s)\n", dr_graph_id(s->step), b.data);
		dr_buf_dispose(&b);
	} else if (s->mark == DR_MARK_REMOVED) {
		fprintf(out, "- step %s\n", dr_graph_id(s->step));
	} else if (s->mark == DR_MARK_CHANGED) {
		fprintf(out, "~ step %s: ", dr_graph_id(s->step));
		for (size_t i = 0; i < s->n_fields; i++)
			fprintf(out, "%s%s", i ? ", " : "", s->fields[i]);
		fputc('\n', out);
		if (s->retry_old)
			fprintf(out, "    retry: %s -> %s\n", s->retry_old, s->retry_new);
	}
}

/* One line per change: steps in the picture's order, then edges; "no changes" when there are none. */
static void print_text(const dr_graphdiff *d, FILE *out)
{
	if (dr_graphdiff_empty(d)) {
		fputs("no changes to the step graph\n", out);
		return;
	}
	for (size_t i = 0; i < d->n; i++)
		text_step(out, &d->steps[i]);
	for (size_t k = 0; k < d->n_edges; k++) {
		const dr_graph_edge *e = &d->edges[k];
		if (e->mark == DR_MARK_ADDED || e->mark == DR_MARK_REMOVED)
			fprintf(out, "%c edge %s -> %s\n", e->mark == DR_MARK_ADDED ? '+' : '-',
				dr_graph_id(d->steps[e->from].step), dr_graph_id(d->steps[e->to].step));
	}
}

static cJSON *flags_json(unsigned flags)
{
	cJSON *arr = cJSON_CreateArray();
	for (unsigned bit = 1; bit && bit <= flags; bit <<= 1)
		if ((flags & bit) && dr_action_flag_name(bit))
			cJSON_AddItemToArray(arr, cJSON_CreateString(dr_action_flag_name(bit)));
	return arr;
}

/* A step as graph --format json describes a node (without needs and level), plus the changed fields. */
static cJSON *step_json(const dr_graphdiff_step *ds)
{
	const dr_step *s = ds->step;
	cJSON *o = cJSON_CreateObject();
	dr_buf b;
	dr_buf_init(&b);
	dr_graph_action(&b, s);
	cJSON_AddStringToObject(o, "id", dr_graph_id(s));
	cJSON_AddStringToObject(o, "action", b.data);
	dr_buf_dispose(&b);
	cJSON *targets = cJSON_AddArrayToObject(o, "targets");
	for (size_t t = 0; t < s->n_targets; t++)
		cJSON_AddItemToArray(targets, cJSON_CreateString(s->targets[t].name ? s->targets[t].name : "?"));
	cJSON_AddBoolToObject(o, "foreach", s->foreach);
	cJSON_AddItemToObject(o, "flags", flags_json(dr_graph_flags(s)));
	cJSON_AddBoolToObject(o, "finally", s->in_finally);
	if (s->from_composite)
		cJSON_AddStringToObject(o, "composite", s->from_composite);
	if (ds->mark == DR_MARK_CHANGED) {
		cJSON *f = cJSON_AddArrayToObject(o, "fields");
		for (size_t i = 0; i < ds->n_fields; i++)
			cJSON_AddItemToArray(f, cJSON_CreateString(ds->fields[i]));
		if (ds->retry_old) {
			cJSON *r = cJSON_AddObjectToObject(o, "retry");
			cJSON_AddStringToObject(r, "old", ds->retry_old);
			cJSON_AddStringToObject(r, "new", ds->retry_new);
		}
	}
	return o;
}

static void print_json(const dr_graphdiff *d, FILE *out)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "old", d->old->rb && d->old->rb->path ? d->old->rb->path : "");
	cJSON_AddStringToObject(root, "new", d->new->rb && d->new->rb->path ? d->new->rb->path : "");
	cJSON_AddBoolToObject(root, "changed", !dr_graphdiff_empty(d));
	cJSON *steps = cJSON_AddObjectToObject(root, "steps");
	cJSON *lists[] = {
		[DR_MARK_ADDED] = cJSON_AddArrayToObject(steps, "added"),
		[DR_MARK_REMOVED] = cJSON_AddArrayToObject(steps, "removed"),
		[DR_MARK_CHANGED] = cJSON_AddArrayToObject(steps, "changed"),
	};
	for (size_t i = 0; i < d->n; i++)
		if (d->steps[i].mark != DR_MARK_SAME)
			cJSON_AddItemToArray(lists[d->steps[i].mark], step_json(&d->steps[i]));
	cJSON *edges = cJSON_AddObjectToObject(root, "edges");
	cJSON *added = cJSON_AddArrayToObject(edges, "added"), *removed = cJSON_AddArrayToObject(edges, "removed");
	for (size_t k = 0; k < d->n_edges; k++) {
		const dr_graph_edge *e = &d->edges[k];
		if (e->mark != DR_MARK_ADDED && e->mark != DR_MARK_REMOVED)
			continue;
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "from", dr_graph_id(d->steps[e->from].step));
		cJSON_AddStringToObject(o, "to", dr_graph_id(d->steps[e->to].step));
		cJSON_AddItemToArray(e->mark == DR_MARK_ADDED ? added : removed, o);
	}
	char *s = cJSON_Print(root);
	fputs(s, out);
	fputc('\n', out);
	cJSON_free(s);
	cJSON_Delete(root);
}

void dr_graphdiff_print(const dr_graphdiff *d, dr_graph_format fmt, FILE *out)
{
	if (fmt == DR_GRAPH_MERMAID || fmt == DR_GRAPH_DOT)
		print_drawing(d, fmt, out);
	else if (fmt == DR_GRAPH_JSON)
		print_json(d, out);
	else if (fmt == DR_GRAPH_TEXT)
		print_text(d, out);
}
