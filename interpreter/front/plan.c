/*
 * plan.c - stage 4: the static step graph and the DR ordering rules.
 *
 * Nodes are rb->steps (after use: expansion) followed by rb->finally_steps.
 * Edges come from needs: only. A ${steps.X...} read does not add an edge: it
 * must already be implied by needs (DR408), so the graph a reviewer reads in
 * needs: is the graph that runs.
 *
 * Sections. finally: steps run after every step under steps: has ended, on
 * every path. So a finally step may need only other finally steps, and a
 * step may not need a finally step (DR410); a finally step may read any
 * step's outputs (they have all ended), a step may never read a finally
 * step's.
 *
 * Order and levels. order is Kahn's topological order, the lowest
 * declaration index first among ready steps, steps before finally steps.
 * With a cycle, the steps Kahn could not place follow their section's
 * prefix in declaration order, so order is always a permutation of 0..n.
 * level is the longest needs: path from a root; finally levels continue
 * after the deepest step level (they run afterwards).
 *
 * Reachability is linear in memory: Tarjan's strongly connected components
 * (dependencies first), each component's depth in the component graph, and
 * per node the OR of its ancestors' action flags and its last committing
 * ancestor, all in O(steps + needs). A question about ancestors is a walk
 * with marks that these prune: dr_plan_precedes is O(1) when depth or order
 * rule it out, and a rule's walk stops at nodes with nothing it looks for
 * above them. No n x n table: a 50,000-step chain takes a few MB.
 *
 * DR ordering rules. "Targets" are VM set names compared as sets; a step
 * without targets stands for every VM set. A rule's coverage is the union of
 * the targets of the qualifying ancestors (through needs:, transitively):
 *   DR404 reprotect needs an ancestor dr.commit covering its targets;
 *   DR405 (warning) commit needs an ancestor validation covering them;
 *   DR406 nothing downstream of a commit rolls back across it: no
 *         on_failure: rollback, no rollback: step that cancels or repeats
 *         the failover of committed targets (unless a later dr.failover, a
 *         failback, opened them again); a run-level rollback is a warning;
 *   DR407 each test failover's targets are cleaned up under finally:;
 *   DR409 pipeline: true needs every needed step to target (at least) the
 *         step's own VM sets, so each VM's task has its counterpart;
 *   DR411-DR414 the commit barrier: no change of recovery point (DR411),
 *         no cancel (DR412), no failover in the same direction (DR413) of
 *         sets after their commit; a commit comes after the failover of its
 *         sets when the runbook fails them over (DR414). One topological
 *         pass with a per-node state of set bits (check_commit_barrier); a
 *         step with when: is not judged (its condition may be the commit's
 *         status) but still moves the state.
 */
#include "front/plan.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actions/action.h"
#include "front/expr.h"
#include "util/buf.h"
#include "util/text.h"
#include "util/xalloc.h"

#define NONE ((size_t)-1)

/* A string -> index table (open addressing, heap); keys are borrowed. */
typedef struct strtab {
	const char **keys;
	size_t *vals;
	size_t cap; /* a power of two, more than twice the keys */
} strtab;

/* Step ids -> node (arena; kept for dr_plan_index): a slot holds node + 1, its key is that node's id. */
typedef struct idtab {
	uint32_t *slots;
	size_t cap; /* a power of two, more than twice the ids */
} idtab;

/* A scratch set of VM sets: s is in when stamp[s] == epoch (or full); members also in list. */
typedef struct mset {
	uint32_t *stamp, *list;
	uint32_t epoch;
	size_t n, cap; /* cap: the number of sets */
	bool full; /* every set */
} mset;

enum { M_ACC, M_WANT, M_MISS, M_OUT, M_BAD, N_MSETS };

/* The nodes with one action flag, by target set (ascending), and the untargeted ones. */
typedef struct flagix {
	size_t *start, *nodes; /* set s: nodes[start[s] .. start[s + 1]) */
	size_t *all, n_all;
} flagix;

enum { FX_COMMIT, FX_VALIDATION, FX_FAILOVER, FX_CLEANUP, N_FX };

/*
 * What the build needs and the run does not (dep_refs, the id lists,
 * members, last_commit, the targets, the scratch sets, the flag indexes, the
 * node flags) is heap, freed when dr_plan_build returns; the arena keeps the
 * graph and what reachability queries read.
 */
typedef struct plan_impl {
	dr_plan pub; /* first member: dr_plan_build hands out &pub */
	dr_runbook *rb;
	dr_arena *arena;
	dr_diags *diags;
	idtab ids; /* step id -> node */
	const char **main_ids, **finally_ids; /* NULL-terminated, for suggestions */
	dr_suggest_index *suggest[2]; /* of main_ids and finally_ids, while building */
	const dr_ref ***dep_refs; /* per node: the needs: entry behind each deps[k] */
	size_t *comp, *members, *comp_start, n_comps; /* strongly connected components (Tarjan) */
	size_t *cdepth; /* per component: the longest path of components to it */
	bool *cyclic; /* per component: a cycle (its members are their own ancestors) */
	unsigned *aflags; /* per node: the OR of its ancestors' action flags */
	size_t *last_commit; /* per node: its highest-index committing ancestor, or NONE */
	unsigned *mark, epoch; /* walk marks: mark[u] == epoch when u was reached */
	size_t *walk; /* the walk's stack */
	strtab sets; /* VM set name -> index */
	const char **set_names;
	size_t n_sets;
	uint32_t *tpool; /* node i's targets: tpool[tstart[i] .. tstart[i + 1]), ascending (none: every set) */
	size_t *tstart;
	mset m[N_MSETS];
	flagix fx[N_FX];
	unsigned *flags; /* per node: its action's DR_AF_* flags (0: unknown action or use:) */
} plan_impl;

static void mset_init(mset *m, size_t n_sets);
static void mset_free(mset *m);
static void flagix_free(flagix *fx);

/* --- small helpers ---------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static size_t table_cap(size_t n)
{
	size_t cap = 16;
	while (cap < 2 * n + 2)
		cap *= 2;
	return cap;
}

static void strtab_init(strtab *t, size_t n)
{
	t->cap = table_cap(n);
	t->keys = xcalloc(t->cap, sizeof *t->keys);
	t->vals = xcalloc(t->cap, sizeof *t->vals);
}

static size_t strtab_slot(const strtab *t, const char *key)
{
	size_t i = (size_t)hash_str(key) & (t->cap - 1);
	while (t->keys[i] && strcmp(t->keys[i], key) != 0)
		i = (i + 1) & (t->cap - 1);
	return i;
}

static size_t strtab_get(const strtab *t, const char *key)
{
	if (!key || !t->cap)
		return NONE;
	size_t i = strtab_slot(t, key);
	return t->keys[i] ? t->vals[i] : NONE;
}

/* Insert key -> val unless key is present (the first one wins). */
static void strtab_put(strtab *t, const char *key, size_t val)
{
	size_t i = strtab_slot(t, key);
	if (!t->keys[i]) {
		t->keys[i] = key;
		t->vals[i] = val;
	}
}


static dr_step *node_step(const plan_impl *pi, size_t i) { return pi->pub.nodes[i].step; }
static bool in_finally(const plan_impl *pi, size_t i) { return i >= pi->pub.n_main; }
static bool has_id(const dr_step *s) { return s->id.name && *s->id.name; }
static const char *step_id(const dr_step *s) { return has_id(s) ? s->id.name : "(no id)"; }

static const dr_action *step_action(const dr_step *s)
{
	if (s->action)
		return s->action;
	return s->action_name.name && *s->action_name.name ? dr_action_find(s->action_name.name) : NULL;
}

/*
 * A step already reported as broken: its action is unknown (DR210) or it
 * needs a step that does not exist (DR401). Not a DR_AF_* bit of any
 * action. The rule that judges what comes before a commit (DR405) says
 * nothing about it or what follows it: the mistake reported may well be
 * the missing validation, and one mistake gets one diagnostic.
 */
#define AF_BROKEN (1u << 31)

static unsigned step_flags(const dr_step *s)
{
	const dr_action *a = step_action(s);
	if (!a && !s->use.name && s->action_name.name && *s->action_name.name)
		return AF_BROKEN;
	return a ? a->flags : 0;
}

static unsigned node_flags(const plan_impl *pi, size_t i) { return pi->flags[i]; }

/* The position of the step's action: (its value), for rule diagnostics. */
static dr_loc action_loc(const dr_step *s)
{
	dr_loc l = dr_ref_loc(&s->action_name);
	return l.line > 0 ? l : s->loc;
}

/* The position of a key of the step's mapping (its value when value is true); the step when absent. */
static dr_loc key_loc(const dr_step *s, const char *key, bool value)
{
	const dr_pair *p = s->node ? dr_node_get_pair(s->node, key) : NULL;
	if (!p)
		return s->loc;
	return dr_node_loc(value ? p->value : p->key);
}

/* --- nodes and ids ---------------------------------------------------- */

static plan_impl *plan_new(dr_runbook *rb, dr_diags *diags)
{
	plan_impl *pi = dr_arena_alloc(rb->arena, sizeof *pi);
	pi->rb = rb;
	pi->arena = rb->arena;
	pi->diags = diags;
	pi->pub.rb = rb;
	pi->pub.n_main = rb->n_steps;
	pi->pub.n = rb->n_steps + rb->n_finally;
	pi->pub.acyclic = true;
	pi->pub.nodes = dr_arena_calloc(rb->arena, pi->pub.n, sizeof *pi->pub.nodes);
	pi->pub.order = dr_arena_calloc(rb->arena, pi->pub.n, sizeof *pi->pub.order);
	pi->dep_refs = xcalloc(pi->pub.n + 1, sizeof *pi->dep_refs);
	for (size_t i = 0; i < rb->n_steps; i++)
		pi->pub.nodes[i].step = &rb->steps[i];
	for (size_t i = 0; i < rb->n_finally; i++)
		pi->pub.nodes[rb->n_steps + i].step = &rb->finally_steps[i];
	pi->flags = xcalloc(pi->pub.n + 1, sizeof *pi->flags);
	for (size_t i = 0; i < pi->pub.n; i++)
		pi->flags[i] = step_flags(pi->pub.nodes[i].step);
	return pi;
}

/* The ids of nodes [lo, hi) as a NULL-terminated list. */
static const char **id_list(plan_impl *pi, size_t lo, size_t hi)
{
	const char **out = xcalloc(hi - lo + 1, sizeof *out);
	size_t k = 0;
	for (size_t i = lo; i < hi; i++)
		if (has_id(node_step(pi, i)))
			out[k++] = node_step(pi, i)->id.name;
	return out;
}

static size_t idtab_slot(const plan_impl *pi, const char *id)
{
	size_t i = (size_t)hash_str(id) & (pi->ids.cap - 1);
	while (pi->ids.slots[i] && strcmp(node_step(pi, pi->ids.slots[i] - 1)->id.name, id) != 0)
		i = (i + 1) & (pi->ids.cap - 1);
	return i;
}

static size_t id_node(const plan_impl *pi, const char *id)
{
	if (!id || !pi->ids.cap)
		return NONE;
	size_t i = idtab_slot(pi, id);
	return pi->ids.slots[i] ? pi->ids.slots[i] - 1 : NONE;
}

static void index_ids(plan_impl *pi)
{
	pi->ids.cap = table_cap(pi->pub.n);
	pi->ids.slots = dr_arena_calloc(pi->arena, pi->ids.cap, sizeof *pi->ids.slots);
	for (size_t i = 0; i < pi->pub.n; i++)
		if (has_id(node_step(pi, i))) {
			size_t k = idtab_slot(pi, node_step(pi, i)->id.name);
			if (!pi->ids.slots[k]) /* the first one wins */
				pi->ids.slots[k] = (uint32_t)i + 1;
		}
	pi->main_ids = id_list(pi, 0, pi->pub.n_main);
	pi->finally_ids = id_list(pi, pi->pub.n_main, pi->pub.n);
}

/* --- edges (needs:) --------------------------------------------------- */

static void report_unknown_need(plan_impl *pi, size_t i, const dr_ref *need)
{
	dr_diag *g = dr_diag_error(pi->diags, DR401, dr_ref_loc(need), "step '%s' needs '%s', which is not a step",
				   step_id(node_step(pi, i)), need->name);
	bool fin = in_finally(pi, i);
	if (!pi->suggest[fin]) /* built on the first unknown need: thousands of them stay linear */
		pi->suggest[fin] = dr_suggest_index_new(fin ? pi->finally_ids : pi->main_ids);
	const char *s = dr_suggest_index_best(pi->suggest[fin], need->name);
	if (s)
		dr_diag_set_hint(g, "did you mean '%s'?", s);
}

static void report_cross_section(plan_impl *pi, size_t i, const dr_ref *need)
{
	const char *id = step_id(node_step(pi, i));
	dr_diag *g;
	if (in_finally(pi, i)) {
		g = dr_diag_error(pi->diags, DR410, dr_ref_loc(need),
				  "finally step '%s' needs '%s', a step under steps:; finally steps run after every "
				  "step has ended, so they can only need other finally steps",
				  id, need->name);
		dr_diag_set_hint(g, "remove '%s' from needs:; a finally step may still read ${steps.%s.outputs}",
				 need->name, need->name);
	} else {
		g = dr_diag_error(pi->diags, DR410, dr_ref_loc(need),
				  "step '%s' needs '%s', a finally step, which runs only after every step has ended",
				  id, need->name);
		dr_diag_set_hint(g, "move '%s' under steps:, or remove it from needs:", need->name);
	}
}

/* The node a needs: entry names, or NONE after reporting why it cannot be an edge. */
static size_t need_target(plan_impl *pi, size_t i, const dr_ref *need)
{
	size_t j = id_node(pi, need->name);
	if (j == NONE) {
		report_unknown_need(pi, i, need);
		pi->flags[i] |= AF_BROKEN;
	} else if (j == i) {
		dr_diag *g = dr_diag_error(pi->diags, DR402, dr_ref_loc(need), "step '%s' needs itself", need->name);
		dr_diag_set_hint(g, "remove '%s' from its own needs:", need->name);
	} else if (in_finally(pi, i) != in_finally(pi, j)) {
		report_cross_section(pi, i, need);
	} else {
		return j;
	}
	return NONE;
}

static void add_deps(plan_impl *pi, size_t i, size_t *mark)
{
	dr_plan_node *nd = &pi->pub.nodes[i];
	const dr_step *s = nd->step;
	nd->deps = dr_arena_calloc(pi->arena, s->n_needs, sizeof *nd->deps);
	pi->dep_refs[i] = xcalloc(s->n_needs + 1, sizeof *pi->dep_refs[i]);
	for (size_t k = 0; k < s->n_needs; k++) {
		if (!s->needs[k].name || !*s->needs[k].name)
			continue; /* check reported it */
		if (pi->pub.rb->is_composite && strncmp(s->needs[k].name, "${", 2) == 0)
			continue; /* ${inputs.X}: bound when a runbook uses the composite */
		size_t j = need_target(pi, i, &s->needs[k]);
		if (j == NONE || mark[j] == i + 1)
			continue; /* reported, or a repeated need */
		mark[j] = i + 1;
		pi->dep_refs[i][nd->n_deps] = &s->needs[k];
		nd->deps[nd->n_deps++] = j;
	}
}

static void add_edges(plan_impl *pi)
{
	size_t n = pi->pub.n;
	dr_plan_node *nodes = pi->pub.nodes;
	size_t *mark = xcalloc(n + 1, sizeof *mark);
	for (size_t i = 0; i < n; i++)
		add_deps(pi, i, mark);
	free(mark);
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < nodes[i].n_deps; k++)
			nodes[nodes[i].deps[k]].n_succs++;
	for (size_t i = 0; i < n; i++) {
		nodes[i].succs = dr_arena_calloc(pi->arena, nodes[i].n_succs, sizeof *nodes[i].succs);
		nodes[i].n_succs = 0;
	}
	for (size_t i = 0; i < n; i++) /* ascending i: succs in declaration order */
		for (size_t k = 0; k < nodes[i].n_deps; k++) {
			dr_plan_node *d = &nodes[nodes[i].deps[k]];
			d->succs[d->n_succs++] = i;
		}
}

/* --- cycles ----------------------------------------------------------- */

/* A depth-first walk over needs:; path[0..depth) is the current chain. */
typedef struct dfs {
	plan_impl *pi;
	unsigned char *color; /* 0 unvisited, 1 on the path, 2 done */
	size_t *path, *next, *pos; /* pos[v]: v's index in path while on it */
	size_t depth;
} dfs;

/* Report the cycle closed by path[depth-1] needing v (v is on the path). */
static void report_cycle(dfs *d, size_t v, const dr_ref *need)
{
	plan_impl *pi = d->pi;
	dr_buf b;
	dr_buf_init(&b);
	for (size_t k = d->pos[v]; k < d->depth; k++)
		dr_buf_printf(&b, "%s -> ", step_id(node_step(pi, d->path[k])));
	dr_buf_puts(&b, step_id(node_step(pi, v)));
	dr_diag *g = dr_diag_error(pi->diags, DR403, dr_ref_loc(need), "dependency cycle: %s", b.data);
	dr_diag_set_hint(g, "'a -> b' reads 'a needs b'; remove one of these needs");
	dr_buf_dispose(&b);
	pi->pub.acyclic = false;
}

static void dfs_push(dfs *d, size_t v)
{
	d->color[v] = 1;
	d->pos[v] = d->depth;
	d->next[d->depth] = 0;
	d->path[d->depth++] = v;
}

static void dfs_from(dfs *d, size_t root)
{
	const dr_plan_node *nodes = d->pi->pub.nodes;
	dfs_push(d, root);
	while (d->depth) {
		size_t u = d->path[d->depth - 1];
		size_t k = d->next[d->depth - 1]++;
		if (k >= nodes[u].n_deps) {
			d->color[u] = 2;
			d->depth--;
			continue;
		}
		size_t v = nodes[u].deps[k];
		if (d->color[v] == 0)
			dfs_push(d, v);
		else if (d->color[v] == 1)
			report_cycle(d, v, d->pi->dep_refs[u][k]);
	}
}

/* Each back edge closes one cycle: reported once, at the need that closes it. */
static void find_cycles(plan_impl *pi)
{
	size_t n = pi->pub.n;
	dfs d = {.pi = pi, .color = xcalloc(n + 1, 1)};
	d.path = xcalloc(n + 1, sizeof *d.path);
	d.next = xcalloc(n + 1, sizeof *d.next);
	d.pos = xcalloc(n + 1, sizeof *d.pos);
	for (size_t i = 0; i < n; i++)
		if (!d.color[i])
			dfs_from(&d, i);
	free(d.color);
	free(d.path);
	free(d.next);
	free(d.pos);
}

/* --- topological order and levels ------------------------------------- */

/* A binary min-heap of node indexes: Kahn's ready set, lowest declaration first. */
typedef struct heap {
	size_t *v;
	size_t n;
} heap;

static void heap_push(heap *h, size_t x)
{
	size_t i = h->n++;
	while (i && h->v[(i - 1) / 2] > x) {
		h->v[i] = h->v[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h->v[i] = x;
}

static size_t heap_pop(heap *h)
{
	size_t top = h->v[0], x = h->v[--h->n], i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && h->v[c + 1] < h->v[c])
			c++;
		if (h->v[c] >= x)
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = x;
	return top;
}

/* Order nodes [lo, hi) (no edges leave the section) into order[*k...]. */
static void kahn_section(plan_impl *pi, size_t lo, size_t hi, size_t *indeg, heap *h, size_t *k)
{
	const dr_plan_node *nodes = pi->pub.nodes;
	size_t start = *k;
	for (size_t i = lo; i < hi; i++)
		if (!indeg[i])
			heap_push(h, i);
	while (h->n) {
		size_t u = heap_pop(h);
		pi->pub.order[(*k)++] = u;
		for (size_t s = 0; s < nodes[u].n_succs; s++)
			if (--indeg[nodes[u].succs[s]] == 0)
				heap_push(h, nodes[u].succs[s]);
	}
	if (*k - start < hi - lo) {
		pi->pub.acyclic = false;
		for (size_t i = lo; i < hi; i++) /* the cyclic rest, in declaration order */
			if (indeg[i])
				pi->pub.order[(*k)++] = i;
	}
}

static void sort_topo(plan_impl *pi)
{
	size_t n = pi->pub.n, k = 0;
	size_t *indeg = xcalloc(n + 1, sizeof *indeg);
	heap h = {.v = xcalloc(n + 1, sizeof *h.v)};
	for (size_t i = 0; i < n; i++)
		indeg[i] = pi->pub.nodes[i].n_deps;
	kahn_section(pi, 0, pi->pub.n_main, indeg, &h, &k);
	kahn_section(pi, pi->pub.n_main, n, indeg, &h, &k);
	free(indeg);
	free(h.v);
}

static void compute_levels(plan_impl *pi)
{
	dr_plan_node *nodes = pi->pub.nodes;
	size_t finally_base = 0;
	for (size_t k = 0; k < pi->pub.n; k++) {
		size_t i = pi->pub.order[k];
		size_t level = in_finally(pi, i) ? finally_base : 0;
		for (size_t d = 0; d < nodes[i].n_deps; d++)
			if (nodes[nodes[i].deps[d]].level + 1 > level)
				level = nodes[nodes[i].deps[d]].level + 1;
		nodes[i].level = level;
		if (!in_finally(pi, i) && level + 1 > finally_base)
			finally_base = level + 1;
	}
}

/* --- reachability ----------------------------------------------------- */

/*
 * Tarjan's strongly connected components over needs: (iterative). A
 * component closes after every component it needs, so comp[] numbers them
 * dependencies first: a precedes b implies comp[a] <= comp[b]. Members of one
 * component are contiguous in members[] (comp_start[c] .. comp_start[c+1]).
 */
typedef struct tarjan {
	const dr_plan_node *nodes;
	size_t *index, *low, *stack, *call, *next;
	unsigned char *on_stack;
	size_t n_index, depth, top, closed;
} tarjan;

static void tarjan_push(tarjan *t, size_t v)
{
	t->index[v] = t->low[v] = ++t->n_index; /* 0: unvisited */
	t->stack[t->top++] = v;
	t->on_stack[v] = 1;
	t->call[t->depth] = v;
	t->next[t->depth++] = 0;
}

/* v is a component's root: pop its members off the stack into comp c. */
static void tarjan_close(plan_impl *pi, tarjan *t, size_t v)
{
	size_t c = pi->n_comps++, w;
	pi->comp_start[c] = t->closed;
	do {
		w = t->stack[--t->top];
		t->on_stack[w] = 0;
		pi->comp[w] = c;
		pi->members[t->closed++] = w;
	} while (w != v);
}

static void tarjan_from(plan_impl *pi, tarjan *t, size_t root)
{
	tarjan_push(t, root);
	while (t->depth) {
		size_t u = t->call[t->depth - 1], k = t->next[t->depth - 1]++;
		if (k < t->nodes[u].n_deps) {
			size_t v = t->nodes[u].deps[k];
			if (!t->index[v])
				tarjan_push(t, v);
			else if (t->on_stack[v] && t->index[v] < t->low[u])
				t->low[u] = t->index[v];
			continue;
		}
		if (t->low[u] == t->index[u])
			tarjan_close(pi, t, u);
		if (--t->depth && t->low[u] < t->low[t->call[t->depth - 1]])
			t->low[t->call[t->depth - 1]] = t->low[u];
	}
}

static void find_components(plan_impl *pi)
{
	size_t n = pi->pub.n;
	tarjan t = {.nodes = pi->pub.nodes};
	t.index = xcalloc(n + 1, sizeof *t.index);
	t.low = xcalloc(n + 1, sizeof *t.low);
	t.stack = xcalloc(n + 1, sizeof *t.stack);
	t.call = xcalloc(n + 1, sizeof *t.call);
	t.next = xcalloc(n + 1, sizeof *t.next);
	t.on_stack = xcalloc(n + 1, 1);
	pi->comp = dr_arena_calloc(pi->arena, n + 1, sizeof *pi->comp);
	pi->members = xcalloc(n + 1, sizeof *pi->members);
	pi->comp_start = xcalloc(n + 2, sizeof *pi->comp_start);
	for (size_t i = 0; i < n; i++)
		if (!t.index[i])
			tarjan_from(pi, &t, i);
	pi->comp_start[pi->n_comps] = n;
	free(t.index);
	free(t.low);
	free(t.stack);
	free(t.call);
	free(t.next);
	free(t.on_stack);
}

static size_t max_node(size_t a, size_t b) { return a == NONE ? b : b == NONE ? a : a > b ? a : b; }

/*
 * Per component, dependencies first: its depth (longest path of components
 * to it), whether it is a cycle, and for its nodes the OR of their
 * ancestors' action flags and their last (highest index) committing
 * ancestor. A cycle's members are each other's ancestors.
 */
static void summarise_component(plan_impl *pi, size_t c)
{
	const dr_plan_node *nodes = pi->pub.nodes;
	size_t lo = pi->comp_start[c], hi = pi->comp_start[c + 1], depth = 0, last = NONE;
	unsigned flags = 0, own = 0;
	bool cyclic = hi - lo > 1;
	for (size_t m = lo; m < hi; m++) {
		size_t u = pi->members[m];
		own |= node_flags(pi, u);
		for (size_t k = 0; k < nodes[u].n_deps; k++) {
			size_t d = nodes[u].deps[k];
			if (pi->comp[d] == c)
				continue;
			depth = pi->cdepth[pi->comp[d]] + 1 > depth ? pi->cdepth[pi->comp[d]] + 1 : depth;
			flags |= pi->aflags[d] | node_flags(pi, d);
			last = max_node(last, max_node(pi->last_commit[d], node_flags(pi, d) & DR_AF_COMMIT ? d : NONE));
		}
	}
	pi->cdepth[c] = depth;
	pi->cyclic[c] = cyclic;
	for (size_t m = lo; cyclic && m < hi; m++)
		if (node_flags(pi, pi->members[m]) & DR_AF_COMMIT)
			last = max_node(last, pi->members[m]);
	for (size_t m = lo; m < hi; m++) {
		pi->aflags[pi->members[m]] = flags | (cyclic ? own : 0);
		pi->last_commit[pi->members[m]] = last;
	}
}

/* Linear in steps and needs: components, their depths, and the per-node summaries above. */
static void compute_reachability(plan_impl *pi)
{
	size_t n = pi->pub.n;
	find_components(pi);
	pi->cdepth = dr_arena_calloc(pi->arena, pi->n_comps + 1, sizeof *pi->cdepth);
	pi->cyclic = dr_arena_calloc(pi->arena, pi->n_comps + 1, sizeof *pi->cyclic);
	pi->aflags = dr_arena_calloc(pi->arena, n + 1, sizeof *pi->aflags);
	pi->last_commit = xcalloc(n + 1, sizeof *pi->last_commit);
	for (size_t c = 0; c < pi->n_comps; c++)
		summarise_component(pi, c);
	pi->mark = dr_arena_calloc(pi->arena, n + 1, sizeof *pi->mark);
	pi->walk = dr_arena_calloc(pi->arena, n + 1, sizeof *pi->walk);
}

/*
 * Walk the nodes reachable from `from` through deps (up) or succs (down),
 * each once, `from` itself only when a cycle leads back to it. expand(ctx, u)
 * says whether to go on past u (NULL: always); visit(ctx, u) false stops the
 * walk. Uses the plan's marks: one walk at a time per plan.
 */
typedef bool (*walk_fn)(void *ctx, size_t u);

static void walk_push(plan_impl *pi, size_t u, bool up, size_t *top)
{
	const dr_plan_node *nd = &pi->pub.nodes[u];
	size_t n = up ? nd->n_deps : nd->n_succs;
	const size_t *next = up ? nd->deps : nd->succs;
	for (size_t k = 0; k < n; k++)
		if (pi->mark[next[k]] != pi->epoch) {
			pi->mark[next[k]] = pi->epoch;
			pi->walk[(*top)++] = next[k];
		}
}

static void walk_from(const plan_impl *cpi, size_t from, bool up, walk_fn expand, walk_fn visit, void *ctx)
{
	plan_impl *pi = (plan_impl *)cpi; /* the marks are scratch, not the plan */
	size_t top = 0;
	if (++pi->epoch == 0) {
		memset(pi->mark, 0, pi->pub.n * sizeof *pi->mark);
		pi->epoch = 1;
	}
	walk_push(pi, from, up, &top);
	while (top) {
		size_t u = pi->walk[--top];
		if (!visit(ctx, u))
			return;
		if (!expand || expand(ctx, u))
			walk_push(pi, u, up, &top);
	}
}

/* --- targets ---------------------------------------------------------- */

/*
 * A step's targets are a list of VM set indexes (ascending, each once); a
 * step without targets stands for every set (all). Nothing is kept per step
 * and set: the lists are as long as what the runbook writes, and the scratch
 * sets (mset) are one stamp per set, emptied in constant time. A runbook of
 * 10,000 VM sets and 40,000 steps kept 50 MB of bits per step here.
 */
typedef struct setlist {
	const uint32_t *v;
	size_t n;
	bool all;
} setlist;

static void add_set_name(plan_impl *pi, const char *name)
{
	if (!name || strtab_get(&pi->sets, name) != NONE)
		return;
	strtab_put(&pi->sets, name, pi->n_sets);
	pi->set_names[pi->n_sets++] = name;
}

static void add_step_set_names(plan_impl *pi, const dr_step *s)
{
	for (size_t t = 0; t < s->n_targets; t++)
		add_set_name(pi, s->targets[t].name);
	for (size_t r = 0; r < s->n_rollback; r++)
		add_step_set_names(pi, &s->rollback[r]);
}

static size_t count_target_names(const dr_step *s)
{
	size_t c = s->n_targets;
	for (size_t r = 0; r < s->n_rollback; r++)
		c += count_target_names(&s->rollback[r]);
	return c;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* s's target indexes into out (room for s->n_targets), ascending, each once; returns how many. */
static size_t step_target_ids(const plan_impl *pi, const dr_step *s, uint32_t *out)
{
	size_t n = 0;
	for (size_t t = 0; t < s->n_targets; t++) {
		size_t b = strtab_get(&pi->sets, s->targets[t].name);
		if (b != NONE)
			out[n++] = (uint32_t)b;
	}
	if (n > 1)
		qsort(out, n, sizeof *out, cmp_u32);
	size_t k = 0;
	for (size_t j = 0; j < n; j++)
		if (!k || out[k - 1] != out[j])
			out[k++] = out[j];
	return k;
}

static setlist targets_of(const plan_impl *pi, size_t i)
{
	return (setlist){pi->tpool + pi->tstart[i], pi->tstart[i + 1] - pi->tstart[i], !node_step(pi, i)->n_targets};
}

/* The targets of a step that is not a node (a rollback: step), into buf (room for its targets). */
static setlist step_setlist(const plan_impl *pi, const dr_step *s, uint32_t *buf)
{
	return (setlist){buf, step_target_ids(pi, s, buf), !s->n_targets};
}

/* Per flag: the nodes with it by target set, ascending, and those without targets (flagix). */
static void index_flag(plan_impl *pi, flagix *fx, unsigned flag)
{
	size_t *count = xcalloc(pi->n_sets + 1, sizeof *count), total = 0;
	for (size_t i = 0; i < pi->pub.n; i++) {
		setlist t = targets_of(pi, i);
		if (!(node_flags(pi, i) & flag))
			continue;
		if (t.all)
			fx->n_all++;
		for (size_t k = 0; !t.all && k < t.n; k++, total++)
			count[t.v[k]]++;
	}
	fx->start = xcalloc(pi->n_sets + 1, sizeof *fx->start);
	fx->nodes = xcalloc(total + 1, sizeof *fx->nodes);
	fx->all = xcalloc(fx->n_all + 1, sizeof *fx->all);
	for (size_t s = 0; s < pi->n_sets; s++)
		fx->start[s + 1] = fx->start[s] + count[s];
	memset(count, 0, pi->n_sets * sizeof *count);
	for (size_t i = 0, a = 0; i < pi->pub.n; i++) {
		setlist t = targets_of(pi, i);
		if (!(node_flags(pi, i) & flag))
			continue;
		if (t.all)
			fx->all[a++] = i;
		for (size_t k = 0; !t.all && k < t.n; k++)
			fx->nodes[fx->start[t.v[k]] + count[t.v[k]]++] = i;
	}
	free(count);
}

static void flagix_free(flagix *fx)
{
	free(fx->start);
	free(fx->nodes);
	free(fx->all);
}

/* VM set names: the declared ones first, then any undeclared name a step targets (DR212 is check's). */
static void index_targets(plan_impl *pi)
{
	const dr_runbook *rb = pi->rb;
	size_t cap = rb->n_vm_sets, total = 0;
	for (size_t i = 0; i < pi->pub.n; i++) {
		cap += count_target_names(node_step(pi, i));
		total += node_step(pi, i)->n_targets;
	}
	strtab_init(&pi->sets, cap);
	pi->set_names = xcalloc(cap + 1, sizeof *pi->set_names);
	for (size_t v = 0; v < rb->n_vm_sets; v++)
		add_set_name(pi, rb->vm_sets[v].name.name);
	for (size_t i = 0; i < pi->pub.n; i++)
		add_step_set_names(pi, node_step(pi, i));
	pi->tpool = xcalloc(total + 1, sizeof *pi->tpool);
	pi->tstart = xcalloc(pi->pub.n + 1, sizeof *pi->tstart);
	for (size_t i = 0; i < pi->pub.n; i++)
		pi->tstart[i + 1] = pi->tstart[i] + step_target_ids(pi, node_step(pi, i), pi->tpool + pi->tstart[i]);
	for (int m = 0; m < N_MSETS; m++)
		mset_init(&pi->m[m], pi->n_sets);
	index_flag(pi, &pi->fx[FX_COMMIT], DR_AF_COMMIT);
	index_flag(pi, &pi->fx[FX_VALIDATION], DR_AF_VALIDATION);
	index_flag(pi, &pi->fx[FX_FAILOVER], DR_AF_FAILOVER);
	index_flag(pi, &pi->fx[FX_CLEANUP], DR_AF_TEST_CLEANUP);
}

/* --- scratch sets of VM sets ------------------------------------------ */

static void mset_init(mset *m, size_t n_sets)
{
	m->stamp = xcalloc(n_sets + 1, sizeof *m->stamp);
	m->list = xcalloc(n_sets + 1, sizeof *m->list);
	m->epoch = 1;
	m->cap = n_sets;
}

static void mset_free(mset *m)
{
	free(m->stamp);
	free(m->list);
}

static mset *mset_clear(mset *m)
{
	m->n = 0;
	m->full = false;
	if (++m->epoch == 0) {
		memset(m->stamp, 0, m->cap * sizeof *m->stamp);
		m->epoch = 1;
	}
	return m;
}

static bool mset_has(const mset *m, uint32_t s) { return m->full || m->stamp[s] == m->epoch; }
static bool mset_empty(const mset *m) { return !m->n && !(m->full && m->cap); }

/* Add s; true when it was not there. */
static bool mset_add(mset *m, uint32_t s)
{
	if (mset_has(m, s))
		return false;
	m->stamp[s] = m->epoch;
	m->list[m->n++] = s;
	return true;
}

/* Add every set of t (all: the set becomes full, in constant time). */
static void mset_add_list(mset *m, setlist t)
{
	if (t.all)
		m->full = true;
	for (size_t k = 0; !t.all && k < t.n; k++)
		mset_add(m, t.v[k]);
}

/* out = t minus b (out cleared first); true when out is not empty. */
static bool mset_minus(const plan_impl *pi, setlist t, const mset *b, mset *out)
{
	mset_clear(out);
	if (b->full)
		return false;
	for (uint32_t s = 0; t.all && s < pi->n_sets; s++)
		if (!mset_has(b, s))
			mset_add(out, s);
	for (size_t k = 0; !t.all && k < t.n; k++)
		if (!mset_has(b, t.v[k]))
			mset_add(out, t.v[k]);
	return !mset_empty(out);
}

/* Whether t and m share a set. */
static bool meets(setlist t, const mset *m)
{
	if (t.all)
		return !mset_empty(m);
	for (size_t k = 0; k < t.n; k++)
		if (mset_has(m, t.v[k]))
			return true;
	return false;
}

static bool setlist_has(setlist t, uint32_t s)
{
	return t.all || bsearch(&s, t.v, t.n, sizeof s, cmp_u32) != NULL;
}

/* "'db', 'web'" (arena) for the sets in m, in set order. */
static const char *set_list(plan_impl *pi, mset *m, bool quoted)
{
	dr_buf b;
	dr_buf_init(&b);
	if (m->full) {
		for (size_t i = 0; i < pi->n_sets; i++)
			dr_buf_printf(&b, quoted ? "%s'%s'" : "%s%s", b.len ? ", " : "", pi->set_names[i]);
	} else {
		if (m->n > 1)
			qsort(m->list, m->n, sizeof *m->list, cmp_u32);
		for (size_t k = 0; k < m->n; k++)
			dr_buf_printf(&b, quoted ? "%s'%s'" : "%s%s", b.len ? ", " : "", pi->set_names[m->list[k]]);
	}
	char *s = dr_arena_strdup(pi->arena, b.data);
	dr_buf_dispose(&b);
	return s;
}

/*
 * The first node in declaration order with fx's flag whose targets meet
 * miss and that fits (NONE when none does): per set of miss, the first
 * fitting one of its list, and the first fitting untargeted one.
 */
static size_t first_with(const plan_impl *pi, const flagix *fx, const mset *miss, bool (*fits)(const plan_impl *, size_t, size_t), size_t ctx)
{
	size_t best = NONE;
	for (size_t a = 0; a < fx->n_all && best == NONE; a++)
		if (!mset_empty(miss) && fits(pi, fx->all[a], ctx))
			best = fx->all[a];
	size_t n = miss->full ? pi->n_sets : miss->n;
	for (size_t k = 0; k < n; k++) {
		uint32_t s = miss->full ? (uint32_t)k : miss->list[k];
		for (size_t p = fx->start[s]; p < fx->start[s + 1] && fx->nodes[p] < best; p++)
			if (fits(pi, fx->nodes[p], ctx)) {
				best = fx->nodes[p];
				break;
			}
	}
	return best;
}

static bool fits_any(const plan_impl *pi, size_t j, size_t ctx)
{
	(void)pi, (void)j, (void)ctx;
	return true;
}

static bool fits_main(const plan_impl *pi, size_t j, size_t ctx)
{
	(void)ctx;
	return !in_finally(pi, j);
}

/* A walk over ancestors that collects the targets of those with one of flags. */
typedef struct cover {
	const plan_impl *pi;
	unsigned flags;
	setlist want; /* stop once acc holds all of it */
	const mset *wantm; /* want's sets, when it lists them */
	mset *acc;
	size_t got; /* sets of want in acc */
	size_t count;
} cover;

/* Go on past u only when something above it has one of the flags. */
static bool cover_expand(void *ctx, size_t u)
{
	const cover *c = ctx;
	return (c->pi->aflags[u] & c->flags) != 0;
}

static bool cover_visit(void *ctx, size_t u)
{
	cover *c = ctx;
	if (!(node_flags(c->pi, u) & c->flags))
		return true;
	setlist t = targets_of(c->pi, u);
	c->count++;
	if (t.all)
		c->acc->full = true;
	for (size_t k = 0; !t.all && k < t.n; k++)
		if (mset_add(c->acc, t.v[k]) && (c->want.all || mset_has(c->wantm, t.v[k])))
			c->got++;
	if (c->acc->full)
		return false;
	return c->want.all ? c->acc->n < c->pi->n_sets : c->got < c->want.n; /* covered: nothing more to learn */
}

/*
 * Into acc (emptied first) the targets of the ancestors of node i whose
 * action has one of flags (an untargeted one covers every set), stopping
 * once acc covers node i's own targets. Returns how many it found: 0 when
 * there are none.
 */
static size_t ancestors_cover(plan_impl *pi, size_t i, unsigned flags, mset *acc)
{
	cover c = {.pi = pi, .flags = flags, .want = targets_of(pi, i), .acc = mset_clear(acc)};
	mset *wantm = mset_clear(&pi->m[M_WANT]);
	mset_add_list(wantm, c.want);
	c.wantm = wantm;
	if (pi->aflags[i] & flags)
		walk_from(pi, i, true, cover_expand, cover_visit, &c);
	return c.count;
}

static bool mark_all(void *ctx, size_t u)
{
	(void)ctx;
	(void)u;
	return true;
}

/* j may be added to node i's needs: (same section, not downstream of i: marked by the walk). */
static bool fits_need(const plan_impl *pi, size_t j, size_t i)
{
	return j != i && in_finally(pi, j) == in_finally(pi, i) && pi->mark[j] != pi->epoch;
}

/*
 * A step with fx's flag that covers part of miss and could be added to
 * node i's needs: (same section, not downstream of i); NONE when there is none.
 * One walk marks i's descendants; then the first fitting step in declaration order.
 */
static size_t candidate_provider(plan_impl *pi, size_t i, const flagix *fx, const mset *miss)
{
	walk_from(pi, i, false, NULL, mark_all, NULL);
	return first_with(pi, fx, miss, fits_need, i);
}

/* --- DR408: reads of steps.X.* ---------------------------------------- */

typedef struct reader {
	plan_impl *pi;
	size_t i; /* the reading step's node */
	const dr_step *rollback_step; /* the read is in this one of its rollback: steps */
	const dr_node *scalar; /* the scalar whose template is walked */
} reader;

/* The node a ${steps.ID} read names: ID itself, or ID inside the reader's composite expansion. */
static size_t read_target(const reader *r, const char *id)
{
	size_t j = id_node(r->pi, id);
	const char *prefix = node_step(r->pi, r->i)->from_composite;
	if (j == NONE && prefix) {
		char *full = dr_arena_printf(r->pi->arena, "%s.%s", prefix, id);
		j = id_node(r->pi, full);
	}
	return j;
}

static bool read_is_upstream(const reader *r, size_t j)
{
	const plan_impl *pi = r->pi;
	if (j == r->i)
		return r->rollback_step != NULL; /* a step's rollback runs after it */
	if (in_finally(pi, r->i) != in_finally(pi, j))
		return in_finally(pi, r->i); /* finally reads steps: fine; the reverse never */
	return dr_plan_precedes(&pi->pub, j, r->i);
}

/* "step 'x'", or "rollback step 'u' of 'x'" when the read is in x's rollback: list. */
static const char *reader_name(const reader *r)
{
	const char *me = step_id(node_step(r->pi, r->i));
	if (r->rollback_step)
		return dr_arena_printf(r->pi->arena, "rollback step '%s' of '%s'", step_id(r->rollback_step), me);
	return dr_arena_printf(r->pi->arena, "step '%s'", me);
}

static void report_read(const reader *r, size_t j, const dr_expr *e, const char *what)
{
	plan_impl *pi = r->pi;
	dr_loc loc = dr_node_loc_at(r->scalar, e->off, e->len ? e->len : 1);
	if (dr_diags_has(pi->diags, DR408, loc.line, loc.col))
		return;
	const char *who = reader_name(r), *me = step_id(node_step(pi, r->i)), *it = step_id(node_step(pi, j));
	dr_diag *g;
	if (j == r->i) {
		g = dr_diag_error(pi->diags, DR408, loc,
				  "%s reads its own %s, but a step's outputs and status exist only after it has run",
				  who, what);
		dr_diag_set_hint(g, "read them in a later step that needs '%s'", me);
	} else if (in_finally(pi, j) && !in_finally(pi, r->i)) {
		g = dr_diag_error(pi->diags, DR408, loc,
				  "%s reads the %s of finally step '%s', which runs only after every step", who, what, it);
		dr_diag_set_hint(g, "move '%s' under steps: and add it to needs:", it);
	} else {
		g = dr_diag_error(pi->diags, DR408, loc,
				  "%s reads the %s of '%s', but '%s' does not need it, so '%s' may not have run yet", who,
				  what, it, me, it);
		if (r->rollback_step)
			dr_diag_set_hint(g, "a rollback: step may read the outputs of '%s' and of the steps it needs", me);
		else
			dr_diag_set_hint(g, "add '%s' to the needs: of '%s' (directly or through a step that needs it)",
					 it, me);
	}
}

static void on_ref(void *ctx, const dr_expr *e)
{
	const reader *r = ctx;
	if (e->op != DR_E_REF || e->u.ref.n < 2 || !e->u.ref.path[0] || strcmp(e->u.ref.path[0], "steps") != 0 ||
	    !e->u.ref.path[1])
		return;
	size_t j = read_target(r, e->u.ref.path[1]);
	if (j == NONE || read_is_upstream(r, j))
		return; /* unknown ids are resolve's (DR302) */
	const char *field = e->u.ref.n >= 3 && e->u.ref.path[2] ? e->u.ref.path[2] : "outputs";
	report_read(r, j, e, field);
}

/* Walk every compiled template under n; at the step's own level, skip its rollback: list. */
static void walk_reads(reader *r, const dr_node *n, bool step_level)
{
	if (!n)
		return;
	if (n->kind == DR_NODE_SCALAR) {
		if (dr_node_template(n)) {
			r->scalar = n;
			dr_template_each_ref(dr_node_template(n), on_ref, r);
		}
	} else if (n->kind == DR_NODE_MAP) {
		for (size_t k = 0; k < n->u.map.n; k++) {
			const dr_node *key = n->u.map.items[k].key;
			if (step_level && key && key->kind == DR_NODE_SCALAR && strcmp(key->u.scalar.str, "rollback") == 0)
				continue;
			walk_reads(r, n->u.map.items[k].value, false);
		}
	} else {
		for (size_t k = 0; k < n->u.seq.n; k++)
			walk_reads(r, n->u.seq.items[k], false);
	}
}

static void check_output_reads(plan_impl *pi)
{
	for (size_t i = 0; i < pi->pub.n; i++) {
		const dr_step *s = node_step(pi, i);
		reader r = {.pi = pi, .i = i};
		walk_reads(&r, s->node, true);
		for (size_t k = 0; k < s->n_rollback; k++) {
			r.rollback_step = &s->rollback[k];
			walk_reads(&r, s->rollback[k].node, false);
		}
	}
}

/* --- DR404: reprotect after commit ------------------------------------ */

/* The sets a rule's hint looks for: what is missing, or all of node i's targets when nothing was found. */
static const mset *wanted(plan_impl *pi, size_t i, size_t found, const mset *miss)
{
	if (found)
		return miss;
	mset *t = mset_clear(&pi->m[M_WANT]);
	mset_add_list(t, targets_of(pi, i));
	return t;
}

static void check_reprotect(plan_impl *pi)
{
	for (size_t i = 0; i < pi->pub.n; i++) {
		if (!(node_flags(pi, i) & DR_AF_REPROTECT))
			continue;
		const dr_step *s = node_step(pi, i);
		mset *covered = &pi->m[M_ACC], *miss = &pi->m[M_MISS];
		size_t commits = ancestors_cover(pi, i, DR_AF_COMMIT, covered);
		if (commits && !mset_minus(pi, targets_of(pi, i), covered, miss))
			continue;
		dr_diag *g;
		if (!commits)
			g = dr_diag_error(pi->diags, DR404, action_loc(s),
					  "reprotect step '%s' does not come after a dr.commit: reprotect is possible only "
					  "once the failover is committed",
					  step_id(s));
		else
			g = dr_diag_error(pi->diags, DR404, action_loc(s),
					  "reprotect step '%s' reprotects %s, which no dr.commit before it commits",
					  step_id(s), set_list(pi, miss, true));
		size_t c = candidate_provider(pi, i, &pi->fx[FX_COMMIT], wanted(pi, i, commits, miss));
		if (c != NONE)
			dr_diag_set_hint(g, "add '%s' to needs:", step_id(node_step(pi, c)));
		else
			dr_diag_set_hint(g, "add a dr.commit step of the same targets and make '%s' need it", step_id(s));
	}
}

/* --- DR405: validation before commit ---------------------------------- */

static void check_commit_validated(plan_impl *pi)
{
	for (size_t i = 0; i < pi->pub.n; i++) {
		if (!(node_flags(pi, i) & DR_AF_COMMIT))
			continue;
		if ((node_flags(pi, i) | pi->aflags[i]) & AF_BROKEN)
			continue;
		const dr_step *s = node_step(pi, i);
		mset *covered = &pi->m[M_ACC], *miss = &pi->m[M_MISS];
		size_t checks = ancestors_cover(pi, i, DR_AF_VALIDATION, covered);
		if (checks && !mset_minus(pi, targets_of(pi, i), covered, miss))
			continue;
		dr_diag *g;
		if (!checks)
			g = dr_diag_warning(pi->diags, DR405, action_loc(s),
					    "commit step '%s' does not come after any validation (check.*, dr.probe or "
					    "assert); committing deletes the recovery points",
					    step_id(s));
		else
			g = dr_diag_warning(pi->diags, DR405, action_loc(s),
					    "commit step '%s' commits %s, which no validation before it checks", step_id(s),
					    set_list(pi, miss, true));
		size_t c = candidate_provider(pi, i, &pi->fx[FX_VALIDATION], wanted(pi, i, checks, miss));
		if (c != NONE)
			dr_diag_set_hint(g, "add '%s' to needs:", step_id(node_step(pi, c)));
		else
			dr_diag_set_hint(g, "validate the failed-over VMs (check.*, dr.probe) and make '%s' need it",
					 step_id(s));
	}
}

/* --- DR406: nothing rolls back across a commit ------------------------ */

/* A walk for the last (highest index) committing ancestor whose targets meet bits. */
typedef struct last_commit {
	const plan_impl *pi;
	const mset *bits;
	size_t found;
} last_commit;

static bool commit_expand(void *ctx, size_t u)
{
	const last_commit *l = ctx;
	return l->pi->last_commit[u] != NONE && (l->found == NONE || l->pi->last_commit[u] > l->found);
}

static bool commit_visit(void *ctx, size_t u)
{
	last_commit *l = ctx;
	if ((node_flags(l->pi, u) & DR_AF_COMMIT) && (l->found == NONE || u > l->found) &&
	    meets(targets_of(l->pi, u), l->bits))
		l->found = u;
	return true;
}

/* The last (highest index) ancestor of node i that commits and meets bits (NULL: any); NONE if none. */
static size_t ancestor_commit(const plan_impl *pi, size_t i, const mset *bits)
{
	if (!bits || pi->last_commit[i] == NONE)
		return pi->last_commit[i];
	last_commit l = {.pi = pi, .bits = bits, .found = NONE};
	walk_from(pi, i, true, commit_expand, commit_visit, &l);
	return l.found;
}

typedef struct refail {
	const plan_impl *pi;
	mset *acc;
} refail;

static bool refail_expand(void *ctx, size_t u)
{
	const refail *r = ctx;
	return (r->pi->aflags[u] & DR_AF_FAILOVER) != 0;
}

static bool refail_visit(void *ctx, size_t u)
{
	refail *r = ctx;
	if ((node_flags(r->pi, u) & DR_AF_FAILOVER) && r->pi->last_commit[u] != NONE)
		mset_add_list(r->acc, targets_of(r->pi, u));
	return true;
}

/* Targets failed over again after a commit, at or before node i (a failback in the same runbook), into acc (emptied). */
static void refailed_targets(const plan_impl *pi, size_t i, mset *acc)
{
	refail r = {.pi = pi, .acc = mset_clear(acc)};
	refail_visit(&r, i);
	if (pi->aflags[i] & DR_AF_FAILOVER)
		walk_from(pi, i, true, refail_expand, refail_visit, &r);
}

static void report_commit_crossing_rollback(plan_impl *pi, size_t i, size_t c)
{
	const dr_step *s = node_step(pi, i), *cs = node_step(pi, c);
	dr_diag *g = dr_diag_error(pi->diags, DR406, key_loc(s, "on_failure", true),
				   "step '%s' has on_failure: rollback, but it runs after the irreversible commit '%s' "
				   "(line %d); a rollback cannot undo what was committed",
				   step_id(s), step_id(cs), cs->loc.line);
	dr_diag_set_hint(g, "use on_failure: stop (or continue) after a commit");
}

/* A rollback: step of node i that cancels or repeats a failover of committed targets. */
static void check_rollback_step(plan_impl *pi, size_t i, const dr_step *r, const mset *refailed)
{
	const dr_action *a = step_action(r);
	if (!a || !(a->flags & (DR_AF_FAILOVER | DR_AF_CANCEL_FAILOVER)))
		return;
	const dr_step *ts = r->n_targets ? r : node_step(pi, i);
	uint32_t *buf = xcalloc(ts->n_targets + 1, sizeof *buf);
	mset *live = &pi->m[M_MISS], *rt = &pi->m[M_OUT];
	mset_minus(pi, step_setlist(pi, ts, buf), refailed, live);
	free(buf);
	size_t c = ancestor_commit(pi, i, live);
	if (c == NONE)
		return;
	const dr_step *s = node_step(pi, i), *cs = node_step(pi, c);
	setlist ct = targets_of(pi, c);
	mset_clear(rt); /* what this commit made final */
	for (size_t k = 0; k < (live->full ? pi->n_sets : live->n); k++) {
		uint32_t x = live->full ? (uint32_t)k : live->list[k];
		if (setlist_has(ct, x))
			mset_add(rt, x);
	}
	dr_diag *g = dr_diag_error(pi->diags, DR406, action_loc(r),
				   "rollback step '%s' of '%s' runs %s on %s, but commit '%s' (line %d) committed them "
				   "before '%s' runs; a committed failover cannot be undone",
				   step_id(r), step_id(s), a->name, set_list(pi, rt, true), step_id(cs), cs->loc.line,
				   step_id(s));
	dr_diag_set_hint(g, "remove it from rollback:; after a commit, going back is a failback in its own run");
}

static void check_step_after_commit(plan_impl *pi, size_t i)
{
	size_t c = ancestor_commit(pi, i, NULL);
	if (c == NONE)
		return;
	const dr_step *s = node_step(pi, i);
	if (s->on_failure == DR_ONFAIL_ROLLBACK)
		report_commit_crossing_rollback(pi, i, c);
	if (!s->n_rollback)
		return;
	mset *refailed = &pi->m[M_ACC];
	refailed_targets(pi, i, refailed);
	for (size_t k = 0; k < s->n_rollback; k++)
		check_rollback_step(pi, i, &s->rollback[k], refailed);
}

/* on_failure: rollback for the whole run stops at the first commit: say so once. */
static void check_run_rollback(plan_impl *pi)
{
	const dr_runbook *rb = pi->rb;
	if (rb->on_failure != DR_ONFAIL_ROLLBACK)
		return;
	for (size_t i = 0; i < pi->pub.n_main; i++) {
		if (!(node_flags(pi, i) & DR_AF_COMMIT))
			continue;
		const dr_pair *p = rb->root ? dr_node_get_pair(rb->root, "on_failure") : NULL;
		dr_loc loc = p ? dr_node_loc(p->value) : (dr_loc){.file = rb->path};
		const dr_step *cs = node_step(pi, i);
		dr_diag *g = dr_diag_warning(pi->diags, DR406, loc,
					     "on_failure: rollback stops at the irreversible commit '%s' (line %d): a "
					     "failure after it is not rolled back",
					     step_id(cs), cs->loc.line);
		dr_diag_set_hint(g, "set on_failure: rollback on the steps before the commit and stop after it");
		return;
	}
}

static void check_rollback_across_commit(plan_impl *pi)
{
	for (size_t i = 0; i < pi->pub.n_main; i++)
		check_step_after_commit(pi, i);
	check_run_rollback(pi);
}

/* --- DR411-DR414: the commit barrier ---------------------------------- */

/*
 * What is true of each VM set once a node has run: failed over, and
 * committed, each by the direction of its failover (the run's, or a
 * with.direction a step writes). A failover reopens its sets; a commit
 * commits what is failed over. Finally steps start from what every main
 * step leaves.
 *
 * Per set s, only the nodes that act on it matter: those that fail it over,
 * cancel its failover, commit it or change its point, and those whose
 * rollback: steps change its point (they read it); untargeted ones act on
 * every set. Their states for s are computed in topological order: the
 * state before node r is the OR of the states after its nearest such
 * ancestors (a walk up from r that stops at them, and prunes nodes with
 * nothing that acts on a set above them or ordered before the set's first
 * such node), and for a finally node also of what every main node left.
 * O(targets + the walks between the nodes of one set): no state per node
 * and set (it was 48 bytes per node and 64 sets).
 *
 * One walk per set for each untargeted node that acts on sets: in a
 * runbook of many sets, an untargeted commit walks its ancestors once per
 * set that something before it acts on.
 */
enum { DIR_RUN, DIR_P2R, DIR_R2P, N_DIRS };
#define FO(d) (1u << (d))
#define CM(d) (1u << (N_DIRS + (d)))
#define FO_ANY (FO(0) | FO(1) | FO(2))
#define CM_ANY (CM(0) | CM(1) | CM(2))
#define EFFECTS (DR_AF_FAILOVER | DR_AF_CANCEL_FAILOVER | DR_AF_COMMIT)

typedef struct finding {
	size_t node;
	uint32_t set;
	unsigned kind; /* 0 DR411, 1 DR412, 2 DR413, 3 DR414, 4 DR411 of rollback step rb */
	size_t rb;
} finding;

typedef struct barrier {
	plan_impl *pi;
	size_t *pos; /* per node: its place in the topological order */
	size_t *rstart, *rnodes; /* per set: the targeted nodes that act on it, in topological order */
	size_t *all, n_all; /* the untargeted ones, in topological order */
	uint32_t *stamp; /* per node: cur when it acts on the set being done and has been */
	unsigned char *post; /* per node: the state of that set after it */
	uint32_t cur;
	uint32_t set; /* the set being done */
	size_t min_pos; /* the set's first node */
	unsigned char main_end; /* the set's state after every main node */
	unsigned char pre; /* the walk's result */
	mset all_failovers; /* sets some failover targets */
	finding *f;
	size_t n_f, cap_f;
} barrier;

static int step_dir(const dr_step *s)
{
	const dr_node *d = s->with ? dr_node_get(s->with, "direction") : NULL;
	const char *v = d && !dr_node_template(d) ? dr_node_str(d) : NULL;
	return v && !strcmp(v, "primary-to-recovery") ? DIR_P2R : v && !strcmp(v, "recovery-to-primary") ? DIR_R2P : DIR_RUN;
}

/* "line 16, column 13" of a step's action, for the second position of a message. */
static const char *where(plan_impl *pi, const dr_step *s)
{
	dr_loc l = action_loc(s);
	return dr_arena_printf(pi->arena, "line %d, column %d", l.line, l.col);
}

/* The commit that committed bits before node i: an ancestor, else (for a finally step) any main step. */
static size_t committing_step(plan_impl *pi, size_t i, const mset *bits)
{
	size_t c = ancestor_commit(pi, i, bits);
	return c != NONE ? c : first_with(pi, &pi->fx[FX_COMMIT], bits, fits_main, 0);
}

static const struct after_commit {
	dr_code code;
	const char *fmt; /* step, sets, commit, its position */
	const char *why;
} after_commit[] = {
	{DR411, "step '%s' changes the recovery point of %s after commit '%s' (%s) committed them", "the recovery points "
	 "are gone after a commit: the service refuses the change"},
	{DR412, "step '%s' cancels the failover of %s after commit '%s' (%s) committed it", "a committed failover cannot "
	 "be cancelled: the service refuses it"},
	{DR413, "step '%s' fails %s over again, in the same direction, after commit '%s' (%s) committed that failover",
	 "they are active on the other side already: the service refuses it"},
};

static void report_after_commit(plan_impl *pi, size_t i, const dr_step *s, dr_code code, mset *bad)
{
	size_t c = committing_step(pi, i, bad);
	const dr_step *cs = c != NONE ? node_step(pi, c) : s;
	const struct after_commit *m = &after_commit[code == DR411 ? 0 : code == DR412 ? 1 : 2];
	const char *msg = dr_arena_printf(pi->arena, m->fmt, step_id(s), set_list(pi, bad, true), step_id(cs),
					  where(pi, cs));
	dr_diag *g = dr_diag_error(pi->diags, code, action_loc(s), "%s; %s", msg, m->why);
	if (code == DR413)
		dr_diag_set_hint(g, "coming back is a failback: after a reprotect, in its own run (drover failback), or "
				    "with with: { direction: recovery-to-primary }");
	else if (in_finally(pi, i))
		dr_diag_set_hint(g, "a finally step runs after every step, so after the commit: give it a when: on the "
				    "commit's status, or remove it");
	else
		dr_diag_set_hint(g, "do it before the commit: make '%s' need '%s' (or remove it)", step_id(cs),
				 step_id(s));
}

static void report_commit_early(plan_impl *pi, size_t i, mset *miss)
{
	size_t f = first_with(pi, &pi->fx[FX_FAILOVER], miss, fits_any, 0);
	const dr_step *s = node_step(pi, i), *fs = node_step(pi, f);
	dr_diag *g = dr_diag_error(pi->diags, DR414, action_loc(s),
				   "commit step '%s' commits %s, but the failover '%s' (%s) of them is not before it in "
				   "needs:, so the commit could start before that failover ends",
				   step_id(s), set_list(pi, miss, true), step_id(fs), where(pi, fs));
	dr_diag_set_hint(g, "make '%s' need '%s' (directly, or through the validation of the failed-over VMs)",
			 step_id(s), step_id(fs));
}

static void found(barrier *b, size_t node, unsigned kind, size_t rb)
{
	if (b->n_f == b->cap_f) {
		b->cap_f = b->cap_f ? 2 * b->cap_f : 64;
		b->f = xrealloc(b->f, b->cap_f * sizeof *b->f);
	}
	b->f[b->n_f++] = (finding){node, b->set, kind, rb};
}

/* The targets of node i's rollback step r (its step's when it has none) include the set being done. */
static bool rollback_targets_set(const barrier *b, size_t i, const dr_step *r)
{
	const dr_step *ts = r->n_targets ? r : node_step(b->pi, i);
	if (!ts->n_targets)
		return true;
	uint32_t *buf = xcalloc(ts->n_targets, sizeof *buf);
	bool has = setlist_has(step_setlist(b->pi, ts, buf), b->set);
	free(buf);
	return has;
}

/* The rules at node r for the set being done, on the state before it. */
static void barrier_check(barrier *b, size_t r, unsigned pre)
{
	plan_impl *pi = b->pi;
	unsigned f = node_flags(pi, r);
	const dr_step *s = node_step(pi, r);
	if ((f & AF_BROKEN) || s->when)
		return; /* a when: may well be on the commit's status */
	if (setlist_has(targets_of(pi, r), b->set)) {
		if ((f & DR_AF_CHANGE_POINT) && (pre & CM_ANY))
			found(b, r, 0, 0);
		if ((f & DR_AF_CANCEL_FAILOVER) && (pre & CM_ANY))
			found(b, r, 1, 0);
		if ((f & DR_AF_FAILOVER) && (pre & CM(step_dir(s))))
			found(b, r, 2, 0);
		if ((f & DR_AF_COMMIT) && !(pre & FO_ANY) && mset_has(&b->all_failovers, b->set))
			found(b, r, 3, 0); /* a set this runbook never fails over was failed over before */
	}
	for (size_t k = 0; k < s->n_rollback && (pre & CM_ANY); k++)
		if ((step_flags(&s->rollback[k]) & DR_AF_CHANGE_POINT) && rollback_targets_set(b, r, &s->rollback[k]))
			found(b, r, 4, k);
}

/* What node r does to the set: a failover opens it in its direction, a commit closes what is open. */
static unsigned barrier_apply(const barrier *b, size_t r, unsigned st)
{
	unsigned f = node_flags(b->pi, r);
	if (!(f & EFFECTS) || !setlist_has(targets_of(b->pi, r), b->set))
		return st;
	if (f & (DR_AF_FAILOVER | DR_AF_CANCEL_FAILOVER))
		st = 0;
	if (f & DR_AF_FAILOVER)
		st |= FO(step_dir(node_step(b->pi, r)));
	if (f & DR_AF_COMMIT)
		st |= (st & FO_ANY) << N_DIRS;
	return st;
}

static bool pre_visit(void *ctx, size_t u)
{
	barrier *b = ctx;
	if (b->stamp[u] == b->cur)
		b->pre |= b->post[u];
	return true;
}

/* Past u only when it does not act on the set and something above it could. */
static bool pre_expand(void *ctx, size_t u)
{
	const barrier *b = ctx;
	return b->stamp[u] != b->cur && b->pos[u] > b->min_pos && (b->pi->aflags[u] & EFFECTS);
}

static void barrier_node(barrier *b, size_t r)
{
	b->pre = in_finally(b->pi, r) ? b->main_end : 0;
	walk_from(b->pi, r, true, pre_expand, pre_visit, b);
	barrier_check(b, r, b->pre);
	b->post[r] = (unsigned char)barrier_apply(b, r, b->pre);
	b->stamp[r] = b->cur;
	if (!in_finally(b->pi, r))
		b->main_end |= b->post[r];
}

/* The nodes that act on set s (its own and the untargeted ones), merged in topological order. */
static void barrier_set(barrier *b, uint32_t s)
{
	size_t p = b->rstart[s], pe = b->rstart[s + 1], a = 0;
	if (p == pe && !b->n_all)
		return;
	b->set = s;
	b->cur++;
	b->main_end = 0;
	b->min_pos = NONE;
	while (p < pe || a < b->n_all) {
		bool own = a == b->n_all || (p < pe && b->pos[b->rnodes[p]] < b->pos[b->all[a]]);
		size_t r = own ? b->rnodes[p++] : b->all[a++];
		if (b->min_pos == NONE)
			b->min_pos = b->pos[r];
		barrier_node(b, r);
	}
}

/* Node i's sets to act on or read: its targets when it acts, its change-point rollback steps' targets. */
static bool barrier_sets(const plan_impl *pi, size_t i, mset *out)
{
	const dr_step *s = node_step(pi, i);
	mset_clear(out);
	if (node_flags(pi, i) & (EFFECTS | DR_AF_CHANGE_POINT))
		mset_add_list(out, targets_of(pi, i));
	for (size_t k = 0; k < s->n_rollback; k++) {
		const dr_step *r = &s->rollback[k];
		if (!(step_flags(r) & DR_AF_CHANGE_POINT))
			continue;
		if (!r->n_targets) {
			mset_add_list(out, targets_of(pi, i));
			continue;
		}
		uint32_t *buf = xcalloc(r->n_targets, sizeof *buf);
		mset_add_list(out, step_setlist(pi, r, buf));
		free(buf);
	}
	return out->full || out->n;
}

/* Per set, the nodes that act on it in topological order (b->rstart, b->rnodes), and the untargeted ones. */
static void barrier_index(barrier *b)
{
	plan_impl *pi = b->pi;
	size_t n = pi->pub.n, total = 0;
	mset *m = &pi->m[M_OUT];
	b->rstart = xcalloc(pi->n_sets + 2, sizeof *b->rstart);
	for (size_t k = 0; k < n; k++) {
		size_t i = pi->pub.order[k];
		if (!barrier_sets(pi, i, m))
			continue;
		if (m->full) {
			b->all = xrealloc(b->all, (b->n_all + 1) * sizeof *b->all);
			b->all[b->n_all++] = i;
			continue;
		}
		for (size_t j = 0; j < m->n; j++, total++)
			b->rstart[m->list[j] + 2]++;
	}
	for (size_t s = 0; s < pi->n_sets; s++)
		b->rstart[s + 2] += b->rstart[s + 1];
	b->rnodes = xcalloc(total + 1, sizeof *b->rnodes);
	for (size_t k = 0; k < n; k++) {
		size_t i = pi->pub.order[k];
		if (!barrier_sets(pi, i, m) || m->full)
			continue;
		for (size_t j = 0; j < m->n; j++)
			b->rnodes[b->rstart[m->list[j] + 1]++] = i;
	}
}

static int cmp_finding(const void *pa, const void *pb, void *ctx)
{
	const finding *a = pa, *c = pb;
	const size_t *pos = ctx;
	if (a->node != c->node)
		return pos[a->node] < pos[c->node] ? -1 : 1;
	if (a->kind != c->kind)
		return a->kind < c->kind ? -1 : 1;
	if (a->rb != c->rb)
		return a->rb < c->rb ? -1 : 1;
	return a->set < c->set ? -1 : a->set > c->set;
}

/* One diagnostic per node, rule and rollback step, naming every set it found. */
static void barrier_report(barrier *b)
{
	plan_impl *pi = b->pi;
	if (b->n_f > 1)
		qsort_r(b->f, b->n_f, sizeof *b->f, cmp_finding, b->pos);
	for (size_t k = 0; k < b->n_f;) {
		const finding *g = &b->f[k];
		mset *bad = mset_clear(&pi->m[M_BAD]);
		for (; k < b->n_f && b->f[k].node == g->node && b->f[k].kind == g->kind && b->f[k].rb == g->rb; k++)
			mset_add(bad, b->f[k].set);
		const dr_step *s = node_step(pi, g->node);
		if (g->kind == 3)
			report_commit_early(pi, g->node, bad);
		else if (g->kind == 4)
			report_after_commit(pi, g->node, &s->rollback[g->rb], DR411, bad);
		else
			report_after_commit(pi, g->node, s, g->kind == 0 ? DR411 : g->kind == 1 ? DR412 : DR413, bad);
	}
}

static void check_commit_barrier(plan_impl *pi)
{
	if (!pi->pub.acyclic || !pi->pub.n)
		return; /* the order is partial; DR403 says why */
	size_t n = pi->pub.n;
	barrier b = {.pi = pi};
	b.pos = xcalloc(n + 1, sizeof *b.pos);
	for (size_t k = 0; k < n; k++)
		b.pos[pi->pub.order[k]] = k;
	b.stamp = xcalloc(n + 1, sizeof *b.stamp);
	b.post = xcalloc(n + 1, 1);
	mset_init(&b.all_failovers, pi->n_sets);
	for (size_t i = 0; i < n; i++)
		if (node_flags(pi, i) & DR_AF_FAILOVER)
			mset_add_list(&b.all_failovers, targets_of(pi, i));
	barrier_index(&b);
	for (uint32_t s = 0; s < pi->n_sets; s++)
		barrier_set(&b, s);
	barrier_report(&b);
	mset_free(&b.all_failovers);
	free(b.f);
	free(b.pos);
	free(b.stamp);
	free(b.post);
	free(b.rstart);
	free(b.rnodes);
	free(b.all);
}

/* --- DR407: drill cleanup under finally: ------------------------------ */

static void report_missing_cleanup(plan_impl *pi, size_t i, size_t cleanups, mset *miss)
{
	const dr_step *s = node_step(pi, i);
	dr_diag *g;
	if (!cleanups)
		g = dr_diag_error(pi->diags, DR407, action_loc(s),
				  "test failover '%s' has no dr.test_cleanup under finally:; the test VMs would stay up "
				  "when a later step fails",
				  step_id(s));
	else
		g = dr_diag_error(pi->diags, DR407, action_loc(s),
				  "test failover '%s' tests %s, which no dr.test_cleanup under finally: cleans up",
				  step_id(s), set_list(pi, miss, true));
	size_t j = first_with(pi, &pi->fx[FX_CLEANUP], miss, fits_main, 0);
	if (j != NONE) {
		dr_diag_set_hint(g, "'%s' is under steps: and does not run when a step before it fails; move "
				    "it to finally:",
				 step_id(node_step(pi, j)));
		return;
	}
	dr_diag_set_hint(g, "add under finally: a step with action: dr.test_cleanup and targets: [%s]",
			 set_list(pi, miss, false));
}

static void check_drill_cleanup(plan_impl *pi)
{
	if (pi->pub.rb->is_composite)
		return; /* a composite has no finally:; the runbook that uses it is checked */
	mset *cleaned = mset_clear(&pi->m[M_ACC]), *miss = &pi->m[M_MISS];
	size_t cleanups = 0;
	for (size_t j = pi->pub.n_main; j < pi->pub.n; j++)
		if (node_flags(pi, j) & DR_AF_TEST_CLEANUP) {
			mset_add_list(cleaned, targets_of(pi, j));
			cleanups++;
		}
	for (size_t i = 0; i < pi->pub.n; i++) {
		if (!(node_flags(pi, i) & DR_AF_TEST_FAILOVER))
			continue;
		if (!cleanups)
			mset_add_list(mset_clear(miss), targets_of(pi, i));
		if (!cleanups || mset_minus(pi, targets_of(pi, i), cleaned, miss))
			report_missing_cleanup(pi, i, cleanups, miss);
	}
}

/* --- DR409: pipeline: ------------------------------------------------- */

static void check_pipeline_step(plan_impl *pi, size_t i)
{
	const dr_step *s = node_step(pi, i);
	const dr_plan_node *nd = &pi->pub.nodes[i];
	if (!s->n_targets) {
		dr_diag *g = dr_diag_error(pi->diags, DR409, key_loc(s, "pipeline", false),
					   "step '%s' sets pipeline: true but has no targets: or foreach:", step_id(s));
		dr_diag_set_hint(g, "pipelining pairs each VM's task with the same VM's task in a needed step");
		return;
	}
	mset *theirs = &pi->m[M_ACC], *extra = &pi->m[M_MISS];
	for (size_t k = 0; k < nd->n_deps; k++) {
		size_t j = nd->deps[k];
		const dr_step *d = node_step(pi, j);
		if (d->n_targets) {
			mset_add_list(mset_clear(theirs), targets_of(pi, j));
			if (!mset_minus(pi, targets_of(pi, i), theirs, extra))
				continue; /* every VM of this step has its own task in d */
		}
		dr_diag *g;
		if (!d->n_targets)
			g = dr_diag_error(pi->diags, DR409, key_loc(s, "pipeline", false),
					  "step '%s' sets pipeline: true but needs '%s', which has no targets", step_id(s),
					  step_id(d));
		else
			g = dr_diag_error(pi->diags, DR409, key_loc(s, "pipeline", false),
					  "step '%s' sets pipeline: true but needs '%s', which does not target %s",
					  step_id(s), step_id(d), set_list(pi, extra, true));
		dr_diag_set_hint(g, "each VM of a pipelined step must have its own task in every step it needs; "
				    "remove pipeline: or split the step");
	}
}

static void check_pipeline(plan_impl *pi)
{
	for (size_t i = 0; i < pi->pub.n; i++)
		if (node_step(pi, i)->pipeline)
			check_pipeline_step(pi, i);
}

/* --- entry points ----------------------------------------------------- */

/* What only the build reads (see plan_impl). */
static void free_scratch(plan_impl *pi)
{
	dr_suggest_index_free(pi->suggest[0]);
	dr_suggest_index_free(pi->suggest[1]);
	pi->suggest[0] = pi->suggest[1] = NULL;
	for (size_t i = 0; i < pi->pub.n; i++)
		free(pi->dep_refs[i]);
	free(pi->dep_refs);
	free(pi->main_ids);
	free(pi->finally_ids);
	free(pi->members);
	free(pi->comp_start);
	free(pi->last_commit);
	free(pi->sets.keys);
	free(pi->sets.vals);
	free(pi->set_names);
	free(pi->tpool);
	free(pi->tstart);
	for (int m = 0; m < N_MSETS; m++)
		mset_free(&pi->m[m]);
	for (int f = 0; f < N_FX; f++)
		flagix_free(&pi->fx[f]);
	free(pi->flags);
	pi->dep_refs = NULL;
	pi->main_ids = pi->finally_ids = pi->set_names = NULL;
	pi->members = pi->comp_start = pi->last_commit = pi->tstart = NULL;
	pi->tpool = NULL;
	pi->flags = NULL;
}

/* The stages of dr_plan_build, in order; the rules only read what the first ones built. */
static void (*const stages[])(plan_impl *) = {
	index_ids, add_edges, find_cycles, sort_topo, compute_levels, compute_reachability, index_targets,
	check_output_reads, check_reprotect, check_commit_validated, check_rollback_across_commit,
	check_commit_barrier, check_drill_cleanup, check_pipeline,
};

/*
 * Build the plan of rb into rb's arena (also stored in rb->plan) and report
 * DR401-DR414 into diags. Never NULL. See the top of this file for what the
 * graph, order and levels mean.
 */
dr_plan *dr_plan_build(dr_runbook *rb, dr_diags *diags)
{
	plan_impl *pi = plan_new(rb, diags);
	for (size_t k = 0; k < sizeof stages / sizeof stages[0]; k++)
		stages[k](pi);
	free_scratch(pi);
	rb->plan = &pi->pub;
	return &pi->pub;
}

/* Index of the node with this id among steps and finally steps; (size_t)-1 when absent. */
size_t dr_plan_index(const dr_plan *p, const char *id)
{
	return p ? id_node((const plan_impl *)p, id) : NONE;
}

/* A walk up from b for a, never past components at a's depth or shallower. */
typedef struct seek {
	const plan_impl *pi;
	size_t a;
	bool found;
} seek;

static bool seek_expand(void *ctx, size_t u)
{
	const seek *k = ctx;
	return k->pi->cdepth[k->pi->comp[u]] > k->pi->cdepth[k->pi->comp[k->a]];
}

static bool seek_visit(void *ctx, size_t u)
{
	seek *k = ctx;
	size_t c = k->pi->comp[k->a];
	k->found = u == k->a || (k->pi->comp[u] == c && k->pi->cyclic[c]);
	return !k->found;
}

/*
 * True when b needs a, directly or transitively (so a ends before b starts).
 * p from dr_plan_build. Constant time when the components' order or depth
 * rules it out or they share a cycle; otherwise a walk up from b that never
 * passes a's depth. Not reentrant on one plan: one thread at a time.
 */
bool dr_plan_precedes(const dr_plan *p, size_t a, size_t b)
{
	const plan_impl *pi = (const plan_impl *)p;
	if (!p || a >= p->n || b >= p->n)
		return false;
	size_t ca = pi->comp[a], cb = pi->comp[b];
	if (ca == cb)
		return pi->cyclic[ca];
	if (ca > cb || pi->cdepth[ca] >= pi->cdepth[cb])
		return false;
	for (size_t k = 0; k < p->nodes[b].n_deps; k++)
		if (p->nodes[b].deps[k] == a)
			return true;
	seek k = {.pi = pi, .a = a};
	walk_from(pi, b, true, seek_expand, seek_visit, &k);
	return k.found;
}

typedef struct each {
	dr_plan_visit_fn fn;
	void *ctx;
} each;

static bool each_visit(void *ctx, size_t u)
{
	const each *e = ctx;
	return e->fn(e->ctx, u);
}

/* Call fn for every ancestor of node i, each once (i itself only on a cycle), until fn returns false. */
void dr_plan_each_ancestor(const dr_plan *p, size_t i, dr_plan_visit_fn fn, void *ctx)
{
	each e = {.fn = fn, .ctx = ctx};
	if (p && i < p->n)
		walk_from((const plan_impl *)p, i, true, NULL, each_visit, &e);
}

/* Call fn for every node that needs node i, directly or not, each once, until fn returns false. */
void dr_plan_each_descendant(const dr_plan *p, size_t i, dr_plan_visit_fn fn, void *ctx)
{
	each e = {.fn = fn, .ctx = ctx};
	if (p && i < p->n)
		walk_from((const plan_impl *)p, i, false, NULL, each_visit, &e);
}

/* The OR of the DR_AF_* flags of every ancestor of node i (0 when it has none). */
unsigned dr_plan_ancestor_flags(const dr_plan *p, size_t i)
{
	return p && i < p->n ? ((const plan_impl *)p)->aflags[i] : 0;
}
