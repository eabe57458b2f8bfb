/*
 * resolve.c - stage 3: expand use: of stdlib composites, then compile and
 * type-check every ${...} of the runbook.
 *
 * Expansion. A step `use: NAME` is replaced, in place, by the steps of
 * <stdlib>/NAME.yaml. Each use loads the file afresh into the runbook's
 * arena (composites are small), so every expanded step owns its nodes and
 * its compiled templates; the first load of a name reports its problems,
 * later loads of the same name are silent. Inner ids become "<use-id>.<id>"
 * (ids never contain '.', so the dots spell the nesting), inner needs are
 * prefixed, the composite's roots inherit the use step's needs, and steps
 * that needed the use step need the composite's sinks instead. targets:,
 * foreach: and needs: written exactly as "${inputs.X}" take the use step's
 * literal with: value. Composites may use composites, at most
 * MAX_NESTING deep, never themselves.
 *
 * Expressions. Every scalar holding "${" in with:, when:, recovery.point, recovery.id and
 * the backend's options is parsed once (dr_node_template) and checked in the
 * scope of its step (backend options: params, env and secrets only): the
 * roots and fields below, the step's targets (target.*), and, for steps
 * expanded from a composite, its inputs (inputs.*) and its sibling steps
 * (steps.X means the sibling "<use-id>.X"; the path is rewritten to the full
 * id so later stages need not know). A reference to a step whose id has
 * dots, steps.u.a.outputs, is normalised to the path steps / "u.a" / outputs.
 * Diagnostics of this phase are collected and merged without duplicates
 * (aliases and repeated composites would otherwise repeat them).
 */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "front/expr.h"
#include "front/runbook.h"
#include "util/buf.h"
#include "util/index.h"
#include "util/text.h"
#include "util/xalloc.h"

enum { MAX_NESTING = 8 };

/* A use: that was expanded: the use step (ids as in the final runbook) and its composite. */
typedef struct site {
	dr_step use;
	const dr_runbook *comp;
} site;

typedef enum load_state { LOAD_BUSY, LOAD_OK, LOAD_FAILED } load_state;

typedef struct loaded {
	const char *name;
	load_state state;
	const dr_node *root; /* LOAD_OK: the file's tree, copied for each later use */
} loaded;

/* An expanded use id and the sinks that replace it in needs:. */
typedef struct sinks {
	const char *use_id;
	dr_ref *refs;
	size_t n;
} sinks;

/* The uses expanded at one level (a composite's steps, or the runbook's steps and finally). */
typedef struct sinkmap {
	sinks *items;
	size_t n, cap;
} sinkmap;

typedef struct resolver {
	dr_runbook *rb;
	dr_arena *a;
	dr_diags *out; /* the caller's: a composite's first load reports here (it keeps the file's text) */
	dr_diags *diags; /* everything else, merged into out at the end, each distinct one once */
	const char *stdlib_dir;
	site *sites;
	size_t n_sites, cap_sites;
	const site **sites_by_id; /* sorted by use id after expansion, for find_site */
	loaded *cache;
	size_t n_cache, cap_cache;
	const char *stack[MAX_NESTING + 1]; /* composites being expanded, outermost first */
	size_t depth;
	const char **stdlib_names; /* NULL-terminated, sorted; listed on first need */
	const char **ids; /* every step id after expansion, sorted, NULL-terminated (heap) */
	size_t n_ids;
	dr_suggest_index *ids_ix; /* "did you mean" over ids, built on the first unknown step */
} resolver;

/* Room for one more element in an arena array with a capacity. */
static void *push(dr_arena *a, void *arr, size_t *n, size_t *cap, size_t sz)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 8;
		arr = dr_arena_grow(a, arr, *n, ncap, sz);
		*cap = ncap;
	}
	(*n)++;
	return arr;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* ------------------------------------------------------ finding composites */

static bool is_composite_name(const char *name)
{
	return name[0] && name[0] != '.' && !strchr(name, '/') && !strchr(name, '\\');
}

/* The composite names in the stdlib directory (file names without .yaml), for suggestions. */
static const char *const *stdlib_names(resolver *r)
{
	if (r->stdlib_names)
		return r->stdlib_names;
	size_t n = 0, cap = 0;
	const char **names = NULL;
	DIR *dir = opendir(r->stdlib_dir);
	for (struct dirent *e; dir && (e = readdir(dir));) {
		size_t len = strlen(e->d_name);
		if (len > 5 && e->d_name[0] != '.' && strcmp(e->d_name + len - 5, ".yaml") == 0) {
			names = push(r->a, names, &n, &cap, sizeof *names);
			names[n - 1] = dr_arena_strndup(r->a, e->d_name, len - 5);
		}
	}
	if (dir)
		closedir(dir);
	names = dr_arena_grow(r->a, names, n, n + 1, sizeof *names);
	qsort(names, n, sizeof *names, cmp_str);
	names[n] = NULL;
	return r->stdlib_names = names;
}

static loaded *cache_entry(resolver *r, const char *name)
{
	for (size_t i = 0; i < r->n_cache; i++)
		if (strcmp(r->cache[i].name, name) == 0)
			return &r->cache[i];
	r->cache = push(r->a, r->cache, &r->n_cache, &r->cap_cache, sizeof *r->cache);
	r->cache[r->n_cache - 1] = (loaded){.name = name, .state = LOAD_BUSY};
	return NULL;
}

/* The chain "a -> b -> a" for a recursion message. */
static const char *chain(resolver *r, const char *last)
{
	dr_buf b;
	dr_buf_init(&b);
	for (size_t i = 0; i < r->depth; i++)
		dr_buf_printf(&b, "%s -> ", r->stack[i]);
	dr_buf_puts(&b, last);
	char *s = dr_arena_strdup(r->a, b.data);
	dr_buf_dispose(&b);
	return s;
}

/* Why the composite of use cannot be used at all (reported), or NULL with *path set. */
static bool find_composite(resolver *r, const dr_step *use, const char **path)
{
	const char *name = use->use.name;
	if (!r->stdlib_dir) {
		dr_diag *g = dr_diag_error(r->diags, DR305, dr_ref_loc(&use->use),
					   "cannot find composite '%s': there is no stdlib directory", name);
		dr_diag_set_hint(g, "pass --stdlib DIR or set DROVER_STDLIB");
		return false;
	}
	for (size_t i = 0; i < r->depth; i++) {
		if (strcmp(r->stack[i], name) == 0) {
			dr_diag_error(r->diags, DR305, dr_ref_loc(&use->use), "composite recursion: %s", chain(r, name));
			return false;
		}
	}
	if (r->depth >= MAX_NESTING) {
		dr_diag_error(r->diags, DR305, dr_ref_loc(&use->use), "composite recursion: more than %d levels (%s)",
			      MAX_NESTING, chain(r, name));
		return false;
	}
	struct stat st;
	if (stat(r->stdlib_dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		dr_diag *g = dr_diag_error(r->diags, DR305, dr_ref_loc(&use->use),
					   "cannot find composite '%s': the stdlib directory '%s' does not exist", name,
					   r->stdlib_dir);
		dr_diag_set_hint(g, "pass --stdlib DIR or set DROVER_STDLIB");
		return false;
	}
	*path = dr_arena_printf(r->a, "%s/%s.yaml", r->stdlib_dir, name);
	if (is_composite_name(name) && stat(*path, &st) == 0 && S_ISREG(st.st_mode))
		return true;
	dr_diag *g = dr_diag_error(r->diags, DR305, dr_ref_loc(&use->use), "unknown composite '%s' (no %s.yaml in %s)", name,
				   name, r->stdlib_dir);
	const char *s = dr_text_suggest(name, stdlib_names(r));
	if (s)
		dr_diag_set_hint(g, "did you mean '%s'?", s);
	return false;
}

/* A deep copy of a node tree (strings shared, nothing compiled yet). */
static dr_node *copy_tree(dr_arena *a, const dr_node *n)
{
	dr_node *c = dr_arena_alloc(a, sizeof *c);
	*c = *n;
	c->templated = false;
	if (n->kind == DR_NODE_MAP) {
		c->u.map.items = dr_arena_calloc(a, n->u.map.n, sizeof *c->u.map.items);
		for (size_t i = 0; i < n->u.map.n; i++) {
			c->u.map.items[i].key = copy_tree(a, n->u.map.items[i].key);
			c->u.map.items[i].value = copy_tree(a, n->u.map.items[i].value);
		}
	} else if (n->kind == DR_NODE_SEQ) {
		c->u.seq.items = dr_arena_calloc(a, n->u.seq.n, sizeof *c->u.seq.items);
		for (size_t i = 0; i < n->u.seq.n; i++)
			c->u.seq.items[i] = copy_tree(a, n->u.seq.items[i]);
	}
	return c;
}

/*
 * Load and check the composite named by use, with nodes of its own (each use
 * compiles its templates in its own scope): the file is read once, later
 * uses check a copy of its tree. Problems in the file are reported on its
 * first load; NULL when it cannot be used.
 */
static dr_runbook *load_composite(resolver *r, const dr_step *use)
{
	const char *path;
	if (!find_composite(r, use, &path))
		return NULL;
	loaded *prev = cache_entry(r, use->use.name);
	if (prev && prev->state == LOAD_FAILED)
		return NULL;
	dr_diags *d = prev ? dr_diags_new() : r->out;
	size_t before = dr_diags_errors(d);
	dr_node *root = prev ? copy_tree(r->a, prev->root) : dr_load_file(r->a, d, path, NULL);
	dr_runbook *c = root ? dr_check(r->a, d, root, path) : NULL;
	if (c && !c->is_composite)
		dr_diag_error(d, DR305, dr_ref_loc(&use->use), "'%s' is not a composite action (%s has no composite: key)",
			      use->use.name, path);
	bool ok = c && c->is_composite && dr_diags_errors(d) == before;
	if (prev) {
		dr_diags_free(d);
	} else {
		loaded *e = cache_entry(r, use->use.name);
		e->state = ok ? LOAD_OK : LOAD_FAILED;
		e->root = root;
	}
	return ok ? c : NULL;
}

/* -------------------------------------------------------- composite inputs */

static const dr_param *find_input(const dr_runbook *c, const char *name)
{
	for (size_t i = 0; i < c->n_inputs; i++)
		if (strcmp(c->inputs[i].name.name, name) == 0)
			return &c->inputs[i];
	return NULL;
}

static const char **input_names(resolver *r, const dr_runbook *c)
{
	const char **names = dr_arena_calloc(r->a, c->n_inputs + 1, sizeof *names);
	for (size_t i = 0; i < c->n_inputs; i++)
		names[i] = c->inputs[i].name.name;
	return names;
}

static bool has_template(const dr_node *n)
{
	return n->kind == DR_NODE_SCALAR && n->u.scalar.str && memmem(n->u.scalar.str, n->u.scalar.len, "${", 2);
}

/* A literal with: value against its input's declared type and choices; NULL when fine. */
static const char *input_value_problem(const dr_param *in, const dr_node *v)
{
	static const char *const wanted[] = {
		[DR_PARAM_STRING] = "a string", [DR_PARAM_INT] = "an integer", [DR_PARAM_NUMBER] = "a number",
		[DR_PARAM_BOOL] = "a boolean",	[DR_PARAM_DURATION] = "a duration",
	};
	if (v->kind != DR_NODE_SCALAR) /* lists of names are string inputs too (targets, needs) */
		return in->type == DR_PARAM_STRING ? NULL : wanted[in->type];
	if (has_template(v))
		return NULL;
	int64_t i;
	double x;
	bool b;
	size_t bad;
	bool ok = true;
	switch (in->type) {
	case DR_PARAM_INT: ok = dr_node_as_int(v, &i); break;
	case DR_PARAM_NUMBER: ok = dr_node_as_number(v, &x); break;
	case DR_PARAM_BOOL: ok = dr_node_as_bool(v, &b); break;
	case DR_PARAM_DURATION: ok = dr_text_parse_duration(dr_node_str(v), &i, &bad); break;
	case DR_PARAM_STRING: break;
	}
	if (!ok)
		return wanted[in->type];
	for (size_t k = 0; in->choices && in->choices[k]; k++)
		if (strcmp(in->choices[k], dr_node_str(v)) == 0)
			return NULL;
	return in->choices ? "one of its choices" : NULL;
}

/* DR306: every with: key is an input, every input without a default is given, literals fit. */
static void check_inputs(resolver *r, const dr_step *use, const dr_runbook *c)
{
	const dr_node *with = use->with && use->with->kind == DR_NODE_MAP ? use->with : NULL;
	for (size_t i = 0; with && i < with->u.map.n; i++) {
		const dr_pair *p = &with->u.map.items[i];
		const char *key = dr_node_str(p->key);
		const dr_param *in = find_input(c, key);
		if (!in) {
			dr_diag *g = dr_diag_error(r->diags, DR306, dr_node_loc(p->key),
						   "composite '%s' has no input '%s'", use->use.name, key);
			const char *s = dr_text_suggest(key, input_names(r, c));
			if (s)
				dr_diag_set_hint(g, "did you mean '%s'?", s);
			continue;
		}
		const char *want = input_value_problem(in, p->value);
		if (want)
			dr_diag_error(r->diags, DR306, dr_node_loc(p->value), "input '%s' of composite '%s' must be %s",
				      key, use->use.name, want);
	}
	for (size_t i = 0; i < c->n_inputs; i++) {
		const dr_param *in = &c->inputs[i];
		if (!in->default_value && !dr_node_get(with, in->name.name))
			dr_diag_error(r->diags, DR306, dr_ref_loc(&use->use), "composite '%s' needs input '%s'", use->use.name,
				      in->name.name);
	}
}

/* The X of a text that is exactly "${inputs.X}" (spaces allowed inside the braces), else NULL. */
static const char *input_placeholder(dr_arena *a, const char *s)
{
	size_t n = strlen(s);
	if (n < 4 || strncmp(s, "${", 2) != 0 || s[n - 1] != '}')
		return NULL;
	size_t i = 2, end = n - 1;
	while (i < end && s[i] == ' ')
		i++;
	while (end > i && s[end - 1] == ' ')
		end--;
	if (end - i <= 7 || strncmp(s + i, "inputs.", 7) != 0)
		return NULL;
	for (size_t k = i + 7; k < end; k++)
		if (!(s[k] == '_' || s[k] == '-' || (s[k] >= 'a' && s[k] <= 'z') || (s[k] >= 'A' && s[k] <= 'Z') ||
		      (s[k] >= '0' && s[k] <= '9')))
			return NULL;
	return dr_arena_strndup(a, s + i + 7, end - i - 7);
}

/* ---------------------------------------------------------------- expansion */

/* One use: being expanded into the list of the level above. */
typedef struct expansion {
	resolver *r;
	const dr_step *use;
	const dr_runbook *comp;
	bool top; /* the level above is the runbook itself: substituted names are final */
	dr_inputs *binding; /* ${inputs.*} of this use */
} expansion;

/* "USE.ID" (arena): each level of nesting prefixes every step it expands. */
static const char *prefixed(expansion *x, const char *id)
{
	size_t a = strlen(x->use->id.name), b = strlen(id);
	char *p = dr_arena_alloc_uninit(x->r->a, a + b + 2);
	memcpy(p, x->use->id.name, a);
	p[a] = '.';
	memcpy(p + a + 1, id, b + 1);
	return p;
}

/*
 * A list of refs built on the heap, then kept in the arena at its final
 * size: nested composites rebuild every step's needs at each level, and
 * growing arena arrays one by one left a copy behind at every push.
 */
typedef struct refs {
	dr_ref *v;
	size_t n, cap;
} refs;

static void refs_add(refs *b, dr_ref ref)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 8;
		b->v = xrealloc(b->v, b->cap * sizeof *b->v);
	}
	b->v[b->n++] = ref;
}

/* The list in the arena (NULL when empty), its length in *n; b is emptied. */
static dr_ref *refs_keep(dr_arena *a, refs *b, size_t *n)
{
	dr_ref *out = b->n ? dr_arena_alloc_uninit(a, b->n * sizeof *out) : NULL;
	if (b->n)
		memcpy(out, b->v, b->n * sizeof *out);
	*n = b->n;
	free(b->v);
	*b = (refs){0};
	return out;
}

static bool substitutable(expansion *x, const dr_node *v)
{
	if (v->kind != DR_NODE_SCALAR)
		return false;
	/* a pass-through "${inputs.Y}" of an enclosing composite is substituted one level up */
	return !has_template(v) || (!x->top && input_placeholder(x->r->a, dr_node_str(v)));
}

/*
 * Substitute "${inputs.X}" written in the field `what` of an inner step by the
 * use's with: value (or the input's default): a name or a list of names.
 */
static void substitute(expansion *x, const dr_ref *ref, const char *name, const char *what, refs *out)
{
	const dr_param *in = find_input(x->comp, name);
	if (!in) {
		dr_diag *g = dr_diag_error(x->r->diags, DR302, dr_ref_loc(ref), "composite '%s' has no input '%s'",
					   x->use->use.name, name);
		const char *s = dr_text_suggest(name, input_names(x->r, x->comp));
		if (s)
			dr_diag_set_hint(g, "did you mean '%s'?", s);
		return;
	}
	const dr_node *v = dr_node_get(x->use->with, name);
	if (!v)
		v = in->default_value;
	if (!v)
		return; /* reported by check_inputs */
	bool list = v->kind == DR_NODE_SEQ;
	size_t n = list ? v->u.seq.n : 1;
	for (size_t i = 0; i < n; i++) {
		const dr_node *item = list ? v->u.seq.items[i] : v;
		if (!substitutable(x, item)) {
			dr_diag_error(x->r->diags, DR306, dr_node_loc(item),
				      "input '%s' of composite '%s' is used as %s, so it must be a literal name or list of names",
				      name, x->use->use.name, what);
			continue;
		}
		refs_add(out, (dr_ref){.name = dr_node_str(item), .node = item});
	}
}

static void adopt_needs(expansion *x, dr_step *st)
{
	refs needs = {0};
	for (size_t i = 0; i < st->n_needs; i++) {
		const char *in = input_placeholder(x->r->a, st->needs[i].name);
		if (in) {
			substitute(x, &st->needs[i], in, "step ids", &needs);
		} else {
			dr_ref ref = st->needs[i];
			ref.name = prefixed(x, ref.name);
			refs_add(&needs, ref);
		}
	}
	st->needs = refs_keep(x->r->a, &needs, &st->n_needs);
}

static void adopt_targets(expansion *x, dr_step *st)
{
	bool any = false;
	for (size_t i = 0; i < st->n_targets && !any; i++)
		any = input_placeholder(x->r->a, st->targets[i].name) != NULL;
	if (!any)
		return; /* names as written: the same list serves every level */
	refs targets = {0};
	for (size_t i = 0; i < st->n_targets; i++) {
		const char *in = input_placeholder(x->r->a, st->targets[i].name);
		size_t before = targets.n;
		if (in)
			substitute(x, &st->targets[i], in, "VM set names", &targets);
		if (!in || targets.n == before) /* kept as written when the input failed (reported): still a fan-out */
			refs_add(&targets, st->targets[i]);
	}
	if (st->foreach && targets.n > 1)
		dr_diag_error(x->r->diags, DR306, dr_ref_loc(&targets.v[1]),
			      "step '%s' has foreach: \"%s\", which takes one VM set, not a list", st->id.name,
			      st->targets[0].name);
	st->targets = refs_keep(x->r->a, &targets, &st->n_targets);
}

/* What the use step says applies to its steps unless they say otherwise. */
static void inherit(const dr_step *use, dr_step *st)
{
	if (!st->retry->present && use->retry->present)
		st->retry = use->retry;
	if (st->timeout_ms < 0)
		st->timeout_ms = use->timeout_ms;
	if (st->attempt_timeout_ms < 0)
		st->attempt_timeout_ms = use->attempt_timeout_ms;
	if (!st->concurrency)
		st->concurrency = use->concurrency;
	if (st->order == DR_ORDER_INHERIT)
		st->order = use->order;
	if (st->on_failure == DR_ONFAIL_INHERIT)
		st->on_failure = use->on_failure;
	st->in_finally = use->in_finally;
}

static void adopt_step(expansion *x, dr_step *st);

static void adopt_list(expansion *x, dr_step **steps, size_t n)
{
	dr_step *copy = dr_arena_calloc(x->r->a, n, sizeof *copy);
	memcpy(copy, *steps, n * sizeof *copy);
	for (size_t i = 0; i < n; i++)
		adopt_step(x, &copy[i]);
	*steps = copy;
}

/* The id and composite of an inner step (or inner use) as seen from the level above. */
static void adopt_identity(expansion *x, dr_step *st)
{
	st->id.name = prefixed(x, st->id.name);
	if (st->inputs) {
		/* a step of a nested use: its chain now continues in this use's binding */
		dr_inputs *root = st->inputs;
		while (root->parent)
			root = root->parent;
		if (root != x->binding)
			root->parent = x->binding;
	} else {
		st->inputs = x->binding;
	}
	if (st->from_composite) {
		st->from_composite = prefixed(x, st->from_composite);
	} else {
		st->from_composite = x->use->id.name;
		st->composite_with = x->use->with;
	}
}

/* Make an inner step (already a copy) a step of the level above. */
static void adopt_step(expansion *x, dr_step *st)
{
	adopt_identity(x, st);
	adopt_needs(x, st);
	adopt_targets(x, st);
	inherit(x->use, st);
	if (st->n_rollback)
		adopt_list(x, &st->rollback, st->n_rollback);
}

/* Sites created while expanding the composite's own uses move up a level with it. */
static void adopt_sites(expansion *x, size_t first)
{
	for (size_t i = first; i < x->r->n_sites; i++)
		adopt_identity(x, &x->r->sites[i].use);
}

static int cmp_step_id(const void *a, const void *b)
{
	return strcmp((*(const dr_step *const *)a)->id.name, (*(const dr_step *const *)b)->id.name);
}

/*
 * Roots need nothing inside the composite; sinks are needed by nothing inside
 * it. Needs are looked up in the steps sorted by id: a composite that expanded
 * nested ones holds all their steps, so a scan per need would be quadratic.
 */
static void roots_and_sinks(resolver *r, const dr_runbook *c, bool *root, bool *sink)
{
	const dr_step **by_id = dr_arena_calloc(r->a, c->n_steps + 1, sizeof *by_id);
	size_t n = 0;
	for (size_t i = 0; i < c->n_steps; i++) {
		root[i] = sink[i] = true;
		if (c->steps[i].id.name)
			by_id[n++] = &c->steps[i];
	}
	qsort(by_id, n, sizeof *by_id, cmp_step_id);
	for (size_t k = 0; k < c->n_steps; k++)
		for (size_t j = 0; j < c->steps[k].n_needs; j++) {
			dr_step key = {.id.name = c->steps[k].needs[j].name};
			const dr_step *kp = &key, **hit = key.id.name ? bsearch(&kp, by_id, n, sizeof *by_id, cmp_step_id) : NULL;
			for (; hit && hit > by_id && strcmp(hit[-1]->id.name, key.id.name) == 0; hit--)
				;
			for (; hit && hit < by_id + n && strcmp((*hit)->id.name, key.id.name) == 0; hit++) {
				sink[*hit - c->steps] = false; /* every step of that id, as the scan did */
				root[k] = false;
			}
		}
}

static void sinkmap_add(resolver *r, sinkmap *m, sinks entry)
{
	m->items = push(r->a, m->items, &m->n, &m->cap, sizeof *m->items);
	m->items[m->n - 1] = entry;
}

/* A level's list of steps being built (heap). */
typedef struct stepvec {
	dr_step *v;
	size_t n, cap;
} stepvec;

static void steps_add(stepvec *b, const dr_step *st)
{
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 16;
		b->v = xrealloc(b->v, b->cap * sizeof *b->v);
	}
	b->v[b->n++] = *st;
}

static bool expand_list(resolver *r, dr_step **steps, size_t *n, sinkmap *m, bool top, bool heap);
static void rewrite_needs(resolver *r, dr_step *steps, size_t n, sinkmap *m);

/*
 * What a use step may not say. Its when: applies to every step of the
 * composite, so those must have none of their own; inside a composite a
 * use cannot have one (its inputs would be read in the wrong scope).
 */
static void check_use_step(resolver *r, const dr_step *use, const dr_runbook *c, bool top)
{
	if (use->n_targets)
		dr_diag_error(r->diags, DR306, dr_ref_loc(&use->targets[0]),
			      "%s on a use: step has no effect; pass the VM sets to composite '%s' as an input",
			      use->foreach ? "foreach:" : "targets:", use->use.name);
	if (use->when && !top) {
		dr_diag_error(r->diags, DR306, dr_node_loc(use->when), "when: on a use: inside a composite is not supported");
		return;
	}
	for (size_t i = 0; use->when && i < c->n_steps; i++) {
		if (!c->steps[i].when)
			continue;
		dr_diag *g = dr_diag_error(r->diags, DR306, dr_node_loc(use->when),
					   "when: of use step '%s' cannot be combined with the when: of its step '%s'",
					   use->id.name, c->steps[i].id.name);
		dr_diag_set_hint(g, "move the condition into an input of composite '%s'", use->use.name);
		return;
	}
}

/*
 * Expand one use step into out (the new list of its level). Returns false
 * when it cannot be expanded; then the use step stays as it is.
 */
/* The needs of a root step of a composite: its own, then those of the use step. */
static void add_use_needs(resolver *r, dr_step *st, const dr_step *use)
{
	dr_ref *needs = dr_arena_alloc_uninit(r->a, (st->n_needs + use->n_needs) * sizeof *needs);
	if (st->n_needs)
		memcpy(needs, st->needs, st->n_needs * sizeof *needs);
	memcpy(needs + st->n_needs, use->needs, use->n_needs * sizeof *needs);
	st->needs = needs;
	st->n_needs += use->n_needs;
}

/*
 * Expand one use step into out (the new list of its level): the
 * composite's steps, expanded first into a heap list of their own, are
 * adopted by this level and that list freed - a step nested seven levels
 * deep is copied seven times, but only the last copy stays. Returns false
 * when it cannot be expanded; then the use step stays as it is.
 */
static bool expand_use(resolver *r, const dr_step *use, stepvec *out, sinkmap *m, bool top)
{
	dr_runbook *c = load_composite(r, use);
	if (!c)
		return false;
	check_inputs(r, use, c);
	check_use_step(r, use, c, top);
	size_t first_site = r->n_sites;
	r->stack[r->depth++] = use->use.name;
	sinkmap inner = {0};
	bool own = expand_list(r, &c->steps, &c->n_steps, &inner, false, true);
	rewrite_needs(r, c->steps, c->n_steps, &inner);
	r->depth--;
	dr_inputs *binding = dr_arena_alloc(r->a, sizeof *binding);
	*binding = (dr_inputs){.decl = c->inputs, .n_decl = c->n_inputs, .with = use->with, .use_id = use->id.name};
	expansion x = {.r = r, .use = use, .comp = c, .top = top, .binding = binding};
	bool *root = dr_arena_calloc(r->a, c->n_steps + 1, sizeof *root);
	bool *sink = dr_arena_calloc(r->a, c->n_steps + 1, sizeof *sink);
	roots_and_sinks(r, c, root, sink);
	refs out_sinks = {0};
	for (size_t i = 0; i < c->n_steps; i++) {
		dr_step st = c->steps[i];
		adopt_step(&x, &st);
		if (top && use->when && !st.when)
			st.when = use->when;
		if (root[i] && use->n_needs)
			add_use_needs(r, &st, use);
		if (sink[i])
			refs_add(&out_sinks, (dr_ref){.name = st.id.name, .node = use->use.node});
		steps_add(out, &st);
	}
	if (own) /* the composite's steps now live in out */
		free(c->steps);
	c->steps = NULL;
	c->n_steps = 0;
	size_t n_sinks;
	dr_ref *sinks_kept = refs_keep(r->a, &out_sinks, &n_sinks);
	adopt_sites(&x, first_site);
	r->sites = push(r->a, r->sites, &r->n_sites, &r->cap_sites, sizeof *r->sites);
	r->sites[r->n_sites - 1] = (site){.use = *use, .comp = c};
	sinkmap_add(r, m, (sinks){.use_id = use->id.name, .refs = sinks_kept, .n = n_sinks});
	return true;
}

static int cmp_sinks(const void *a, const void *b)
{
	return strcmp(((const sinks *)a)->use_id, ((const sinks *)b)->use_id);
}

static const sinks *find_sinks(const sinkmap *m, const char *id)
{
	sinks key = {.use_id = id};
	return m->n ? bsearch(&key, m->items, m->n, sizeof *m->items, cmp_sinks) : NULL;
}

/* The needs of st with each expanded use replaced by its sinks (st has at least one). */
static void replace_needs(resolver *r, dr_step *st, const sinkmap *m)
{
	refs needs = {0};
	for (size_t j = 0; j < st->n_needs; j++) {
		const sinks *e = find_sinks(m, st->needs[j].name);
		if (!e)
			refs_add(&needs, st->needs[j]);
		for (size_t t = 0; e && t < e->n; t++)
			refs_add(&needs, (dr_ref){.name = e->refs[t].name, .node = st->needs[j].node});
	}
	st->needs = refs_keep(r->a, &needs, &st->n_needs);
}

static void rewrite_list(resolver *r, dr_step *steps, size_t n, const sinkmap *m)
{
	for (size_t i = 0; i < n; i++) {
		dr_step *st = &steps[i];
		for (size_t j = 0; j < st->n_needs; j++) {
			if (find_sinks(m, st->needs[j].name)) {
				replace_needs(r, st, m);
				break;
			}
		}
		rewrite_list(r, st->rollback, st->n_rollback, m);
	}
}

/* needs: naming an expanded use step now name its composite's sinks. */
static void rewrite_needs(resolver *r, dr_step *steps, size_t n, sinkmap *m)
{
	if (!m->n)
		return;
	qsort(m->items, m->n, sizeof *m->items, cmp_sinks);
	rewrite_list(r, steps, n, m);
}

static bool any_use(const dr_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (steps[i].use.name || any_use(steps[i].rollback, steps[i].n_rollback))
			return true;
	return false;
}

/*
 * Expand every use: of a list (and of its steps' own rollback lists) into a
 * new list: on the heap when heap is true (then true is returned: the caller
 * frees it), else in the arena. The sinks of what was expanded go to m, for
 * the caller to rewrite the needs: of the level with (rewrite_needs).
 * Returns false when the list had nothing to expand (it is left as it was).
 */
static bool expand_list(resolver *r, dr_step **steps, size_t *n, sinkmap *m, bool top, bool heap)
{
	if (!any_use(*steps, *n))
		return false;
	stepvec out = {0};
	for (size_t i = 0; i < *n; i++) {
		dr_step *st = &(*steps)[i];
		if (st->use.name && st->id.name && expand_use(r, st, &out, m, top))
			continue;
		steps_add(&out, st);
		dr_step *kept = &out.v[out.n - 1];
		if (kept->n_rollback)
			expand_list(r, &kept->rollback, &kept->n_rollback, m, top, false);
	}
	if (heap) {
		*steps = out.v;
	} else {
		*steps = dr_arena_alloc_uninit(r->a, (out.n ? out.n : 1) * sizeof **steps);
		memcpy(*steps, out.v, out.n * sizeof **steps);
		free(out.v);
	}
	*n = out.n;
	return heap;
}

/* DR212 for targets that came out of composites (the checker did the others). */
static void check_expanded_targets(resolver *r, const dr_step *steps, size_t n, const char *const *sets)
{
	for (size_t i = 0; i < n; i++) {
		const dr_step *st = &steps[i];
		for (size_t k = 0; st->from_composite && k < st->n_targets; k++) {
			const char *name = st->targets[k].name;
			if (dr_runbook_vm_set(r->rb, name) || input_placeholder(r->a, name))
				continue; /* a placeholder left means its input was missing: reported */
			dr_diag *g = dr_diag_error(r->diags, DR212, dr_ref_loc(&st->targets[k]),
						   "step '%s' targets VM set '%s', which is not declared", st->id.name, name);
			const char *s = dr_text_suggest(name, sets);
			if (s)
				dr_diag_set_hint(g, "did you mean '%s'?", s);
		}
		check_expanded_targets(r, st->rollback, st->n_rollback, sets);
	}
}

static void expand_all(resolver *r)
{
	dr_runbook *rb = r->rb;
	sinkmap m = {0};
	expand_list(r, &rb->steps, &rb->n_steps, &m, true, false);
	expand_list(r, &rb->finally_steps, &rb->n_finally, &m, true, false);
	rewrite_needs(r, rb->steps, rb->n_steps, &m);
	rewrite_needs(r, rb->finally_steps, rb->n_finally, &m);
	const char **sets = dr_arena_calloc(r->a, rb->n_vm_sets + 1, sizeof *sets);
	for (size_t i = 0; i < rb->n_vm_sets; i++)
		sets[i] = rb->vm_sets[i].name.name;
	check_expanded_targets(r, rb->steps, rb->n_steps, sets);
	check_expanded_targets(r, rb->finally_steps, rb->n_finally, sets);
}

/* ------------------------------------------------------------ the step ids */

static size_t count_ids(const dr_step *steps, size_t n)
{
	size_t c = n;
	for (size_t i = 0; i < n; i++)
		c += count_ids(steps[i].rollback, steps[i].n_rollback);
	return c;
}

static void collect_ids(resolver *r, const dr_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (steps[i].id.name)
			r->ids[r->n_ids++] = steps[i].id.name;
		collect_ids(r, steps[i].rollback, steps[i].n_rollback);
	}
}

/* Heap scratch, freed when dr_resolve returns. */
static void index_ids(resolver *r)
{
	r->ids = xcalloc(count_ids(r->rb->steps, r->rb->n_steps) + count_ids(r->rb->finally_steps, r->rb->n_finally) + 1,
			 sizeof *r->ids);
	collect_ids(r, r->rb->steps, r->rb->n_steps);
	collect_ids(r, r->rb->finally_steps, r->rb->n_finally);
	qsort(r->ids, r->n_ids, sizeof *r->ids, cmp_str);
}

static bool is_step_id(const resolver *r, const char *id)
{
	return r->n_ids && bsearch(&id, r->ids, r->n_ids, sizeof *r->ids, cmp_str);
}

static int cmp_site(const void *a, const void *b)
{
	int c = strcmp((*(const site *const *)a)->use.id.name, (*(const site *const *)b)->use.id.name);
	return c ? c : *(const site *const *)a < *(const site *const *)b ? -1 : 1;
}

/* The sites sorted by use id (the first expanded first among equal ids), once expansion is done. */
static void index_sites(resolver *r)
{
	r->sites_by_id = dr_arena_calloc(r->a, r->n_sites + 1, sizeof *r->sites_by_id);
	for (size_t i = 0; i < r->n_sites; i++)
		r->sites_by_id[i] = &r->sites[i];
	qsort(r->sites_by_id, r->n_sites, sizeof *r->sites_by_id, cmp_site);
}

/* The site whose use step has this id (the first expanded), or NULL: a binary search. */
static const site *find_site(const resolver *r, const char *id)
{
	size_t lo = 0, hi = r->n_sites;
	while (id && lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(r->sites_by_id[mid]->use.id.name, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return id && lo < r->n_sites && strcmp(r->sites_by_id[lo]->use.id.name, id) == 0 ? r->sites_by_id[lo] : NULL;
}

/* ----------------------------------------------------------------- scopes */

/* Where an expression stands: what its references may name. */
typedef struct scope_ctx {
	resolver *r;
	const dr_step *step; /* NULL for recovery.point */
	bool fanout; /* the step has targets: or foreach: */
	bool in_composite; /* inputs.* exist; params.* and secrets.* do not */
	bool backend; /* a backend option: read when the backend opens, before anything runs */
	const char *comp_name;
	const dr_param *inputs;
	size_t n_inputs;
	const char *prefix; /* steps.X means steps.<prefix>.X */
} scope_ctx;

/* The answer of a lookup (mirrors dr_scope's out-parameters). */
typedef struct answer {
	size_t bad;
	dr_vtype type;
	const char *why, *hint;
} answer;

static bool yes(answer *a, dr_vtype t)
{
	a->type = t;
	return true;
}

static bool no(answer *a, size_t bad, const char *why)
{
	a->bad = bad;
	a->why = why;
	return false;
}

static void suggest(scope_ctx *s, answer *a, const char *word, const char *const *candidates)
{
	const char *best = dr_text_suggest(word, candidates);
	if (best)
		a->hint = dr_arena_printf(s->r->a, "did you mean '%s'?", best);
}

typedef struct field {
	const char *name;
	dr_vtype type;
	dr_vtype member; /* MAP fields: the type of name.KEY; DR_VT_ANY: any depth */
} field;

static const field target_fields[] = {
	{"name", DR_VT_STRING, 0},	      {"id", DR_VT_STRING, 0},		    {"tags", DR_VT_MAP, DR_VT_STRING},
	{"primary_ip", DR_VT_STRING, 0},      {"recovery_ip", DR_VT_STRING, 0},	    {"primary_region", DR_VT_STRING, 0},
	{"recovery_region", DR_VT_STRING, 0}, {"size", DR_VT_STRING, 0},	    {"state", DR_VT_STRING, 0},
	{NULL, 0, 0},
};
static const field run_fields[] = {
	{"id", DR_VT_STRING, 0},     {"name", DR_VT_STRING, 0},	      {"mode", DR_VT_STRING, 0},
	{"direction", DR_VT_STRING, 0}, {"status", DR_VT_STRING, 0},    {"started_at", DR_VT_STRING, 0},
	{"elapsed", DR_VT_STRING, 0},  {"rto", DR_VT_STRING, 0},	      {NULL, 0, 0},
};
static const field recovery_fields[] = {
	{"point", DR_VT_STRING, 0}, {"time", DR_VT_STRING, 0}, {"age", DR_VT_STRING, 0}, {NULL, 0, 0},
};
static const field step_fields[] = {
	{"outputs", DR_VT_MAP, DR_VT_ANY}, {"status", DR_VT_STRING, 0}, {NULL, 0, 0},
};

/* path[at] names a field of `what` (path[0..at) spelled out in messages). */
static bool lookup_field(scope_ctx *s, const char *const *path, size_t n, size_t at, const field *fields,
			 const char *what, answer *a)
{
	const char *names[16];
	size_t k = 0;
	for (; fields[k].name; k++)
		names[k] = fields[k].name;
	names[k] = NULL;
	if (n <= at) {
		dr_buf b;
		dr_buf_init(&b);
		for (size_t i = 0; i < k; i++)
			dr_buf_printf(&b, "%s%s", i ? ", " : "", names[i]);
		const char *why = dr_arena_printf(s->r->a, "%s needs a field: %s", what, b.data);
		dr_buf_dispose(&b);
		return no(a, at - 1, why);
	}
	const field *f = fields;
	while (f->name && strcmp(f->name, path[at]) != 0)
		f++;
	if (!f->name) {
		suggest(s, a, path[at], names);
		return no(a, at, dr_arena_printf(s->r->a, "%s has no field '%s'", what, path[at]));
	}
	if (n == at + 1)
		return yes(a, f->type);
	if (f->type == DR_VT_MAP && f->member == DR_VT_ANY)
		return yes(a, DR_VT_ANY);
	if (f->type == DR_VT_MAP && n == at + 2)
		return yes(a, f->member);
	size_t bad = f->type == DR_VT_MAP ? at + 2 : at + 1;
	return no(a, bad, dr_arena_printf(s->r->a, "%s.%s%s is a %s; it has no fields", what, path[at],
					  f->type == DR_VT_MAP ? ".KEY" : "",
					  dr_vtype_name(f->type == DR_VT_MAP ? f->member : f->type)));
}

static dr_vtype param_vtype(dr_param_type t)
{
	static const dr_vtype map[] = {
		[DR_PARAM_STRING] = DR_VT_STRING, [DR_PARAM_INT] = DR_VT_NUMBER, [DR_PARAM_NUMBER] = DR_VT_NUMBER,
		[DR_PARAM_BOOL] = DR_VT_BOOL,	  [DR_PARAM_DURATION] = DR_VT_STRING,
	};
	return map[t];
}

/* ROOT.NAME with nothing below it: params, secrets, env, inputs. */
static bool named_leaf(scope_ctx *s, const char *const *path, size_t n, dr_vtype type, answer *a)
{
	if (n == 2)
		return yes(a, type);
	return no(a, 2, dr_arena_printf(s->r->a, "%s.%s is a %s; it has no fields", path[0], path[1],
					dr_vtype_name(type)));
}

static bool need_name(scope_ctx *s, const char *const *path, size_t n, answer *a)
{
	if (n >= 2)
		return true;
	return no(a, 0, dr_arena_printf(s->r->a, "%s needs a name: %s.NAME", path[0], path[0]));
}

static bool hidden_in_composite(scope_ctx *s, const char *const *path, answer *a)
{
	a->hint = "pass the value to the composite as an input";
	return no(a, 0, dr_arena_printf(s->r->a, "%s.* cannot be used inside composite '%s'", path[0], s->comp_name));
}

static bool root_params(scope_ctx *s, const char *const *path, size_t n, answer *a)
{
	if (s->in_composite)
		return hidden_in_composite(s, path, a);
	if (!need_name(s, path, n, a))
		return false;
	const dr_param *p = dr_runbook_param(s->r->rb, path[1]);
	if (p)
		return named_leaf(s, path, n, param_vtype(p->type), a);
	const char **names = dr_arena_calloc(s->r->a, s->r->rb->n_params + 1, sizeof *names);
	for (size_t i = 0; i < s->r->rb->n_params; i++)
		names[i] = s->r->rb->params[i].name.name;
	suggest(s, a, path[1], names);
	return no(a, 1, dr_arena_printf(s->r->a, "unknown parameter '%s'", path[1]));
}

static bool root_secrets(scope_ctx *s, const char *const *path, size_t n, answer *a)
{
	if (s->in_composite)
		return hidden_in_composite(s, path, a);
	if (!need_name(s, path, n, a))
		return false;
	if (dr_runbook_secret(s->r->rb, path[1]))
		return named_leaf(s, path, n, DR_VT_STRING, a);
	const char **names = dr_arena_calloc(s->r->a, s->r->rb->n_secrets + 1, sizeof *names);
	for (size_t i = 0; i < s->r->rb->n_secrets; i++)
		names[i] = s->r->rb->secrets[i].name.name;
	suggest(s, a, path[1], names);
	return no(a, 1, dr_arena_printf(s->r->a, "unknown secret '%s'", path[1]));
}

static bool root_env(scope_ctx *s, const char *const *path, size_t n, answer *a)
{
	return need_name(s, path, n, a) && named_leaf(s, path, n, DR_VT_STRING, a);
}

static bool root_inputs(scope_ctx *s, const char *const *path, size_t n, answer *a)
{
	if (!s->in_composite)
		return no(a, 0, "inputs.* is only available inside a composite action");
	if (!need_name(s, path, n, a))
		return false;
	for (size_t i = 0; i < s->n_inputs; i++)
		if (strcmp(s->inputs[i].name.name, path[1]) == 0)
			return named_leaf(s, path, n, param_vtype(s->inputs[i].type), a);
	const char **names = dr_arena_calloc(s->r->a, s->n_inputs + 1, sizeof *names);
	for (size_t i = 0; i < s->n_inputs; i++)
		names[i] = s->inputs[i].name.name;
	suggest(s, a, path[1], names);
	return no(a, 1, dr_arena_printf(s->r->a, "composite '%s' has no input '%s'", s->comp_name, path[1]));
}

/*
 * The step named by path[1..k] (joined with '.', under the scope's prefix):
 * the longest such k, 0 when none. *id gets the full id.
 */
static size_t match_step(scope_ctx *s, const char *const *path, size_t n, const char **id)
{
	size_t best = 0;
	dr_buf b;
	dr_buf_init(&b);
	if (s->prefix)
		dr_buf_printf(&b, "%s.", s->prefix);
	for (size_t k = 1; k < n; k++) {
		dr_buf_printf(&b, "%s%s", k > 1 ? "." : "", path[k]);
		if (is_step_id(s->r, b.data)) {
			best = k;
			*id = dr_arena_strdup(s->r->a, b.data);
		}
	}
	dr_buf_dispose(&b);
	return best;
}

/* The first of the sorted ids not before key. */
static size_t lower_bound(const resolver *r, const char *key)
{
	size_t lo = 0, hi = r->n_ids;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(r->ids[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * "did you mean" for an unknown step: among every id (an index, for the
 * thousands of mistakes a big runbook may have), or inside a composite
 * among the ids of its own steps: "PREFIX.x", found where they sit in the
 * sorted ids, never past its own steps.
 */
static void suggest_step(scope_ctx *s, answer *a, const char *word)
{
	resolver *r = s->r;
	const char *best;
	if (!s->prefix) {
		if (!r->ids_ix)
			r->ids_ix = dr_suggest_index_new(r->ids);
		best = dr_suggest_index_best(r->ids_ix, word);
	} else {
		const char *from = dr_arena_printf(r->a, "%s.", s->prefix);
		size_t plen = strlen(from), lo = lower_bound(r, from), hi = lo, k = 0;
		while (hi < r->n_ids && strncmp(r->ids[hi], from, plen) == 0)
			hi++;
		const char **names = xcalloc(hi - lo + 1, sizeof *names);
		for (size_t i = lo; i < hi; i++)
			if (!strchr(r->ids[i] + plen, '.'))
				names[k++] = r->ids[i] + plen;
		best = dr_text_suggest(word, names);
		free(names);
	}
	if (best)
		a->hint = dr_arena_printf(r->a, "did you mean '%s'?", best);
}

static bool unknown_step(scope_ctx *s, const char *const *path, answer *a)
{
	const char *full = s->prefix ? dr_arena_printf(s->r->a, "%s.%s", s->prefix, path[1]) : path[1];
	const site *si = find_site(s->r, full);
	if (si) {
		a->hint = "refer to one of the steps it expanded into, e.g. steps.ID.INNER.outputs";
		return no(a, 1, dr_arena_printf(s->r->a, "'%s' is a use of composite '%s' and has no outputs itself",
						path[1], si->use.use.name));
	}
	suggest_step(s, a, path[1]);
	if (s->prefix)
		return no(a, 1, dr_arena_printf(s->r->a, "composite '%s' has no step '%s'", s->comp_name, path[1]));
	return no(a, 1, dr_arena_printf(s->r->a, "unknown step '%s'", path[1]));
}

static bool root_steps(scope_ctx *s, const char *const *path, size_t n, answer *a)
{
	if (!s->step)
		return no(a, 0, "steps.* cannot be used in recovery: (point, id): the point is chosen before any step runs");
	if (!need_name(s, path, n, a))
		return false;
	const char *id;
	size_t k = match_step(s, path, n, &id);
	if (!k)
		return unknown_step(s, path, a);
	return lookup_field(s, path, n, 1 + k, step_fields, dr_arena_printf(s->r->a, "steps.%s", id + (s->prefix ? strlen(s->prefix) + 1 : 0)), a);
}

static bool root_target(scope_ctx *s, const char *const *path, size_t n, answer *a)
{
	if (!s->fanout)
		return yes(a, DR_VT_ANY); /* DR304, reported before checking */
	return lookup_field(s, path, n, 1, target_fields, "target", a);
}

static bool root_run(scope_ctx *s, const char *const *path, size_t n, answer *a)
{
	return lookup_field(s, path, n, 1, run_fields, "run", a);
}

static bool root_recovery(scope_ctx *s, const char *const *path, size_t n, answer *a)
{
	if (!s->step)
		return no(a, 0, "recovery.* cannot be used in recovery: itself");
	return lookup_field(s, path, n, 1, recovery_fields, "recovery", a);
}

static const struct root {
	const char *name;
	bool (*lookup)(scope_ctx *s, const char *const *path, size_t n, answer *a);
} roots[] = {
	{"params", root_params}, {"secrets", root_secrets}, {"env", root_env},		 {"steps", root_steps},
	{"target", root_target}, {"run", root_run},	    {"recovery", root_recovery}, {"inputs", root_inputs},
};
#define N_ROOTS (sizeof roots / sizeof roots[0])

static bool scope_lookup(void *ctx, const char *const *path, size_t n, size_t *bad, dr_vtype *type, const char **why,
			 const char **hint)
{
	scope_ctx *s = ctx;
	answer a = {.type = DR_VT_ANY};
	bool ok = false;
	size_t i = 0;
	while (i < N_ROOTS && strcmp(roots[i].name, path[0]) != 0)
		i++;
	if (i < N_ROOTS && s->backend && i > 2) { /* roots[0..2]: params, secrets, env */
		a.hint = "write the value itself, or read it from ${params.X}, ${env.X} or ${secrets.X}";
		no(&a, 0, dr_arena_printf(s->r->a, "%s.* cannot be used in a backend option: the backend opens before "
						   "anything runs, so only params, env and secrets are known", path[0]));
	} else if (i < N_ROOTS) {
		ok = roots[i].lookup(s, path, n, &a);
	} else {
		const char *names[N_ROOTS + 1] = {NULL};
		for (size_t k = 0; k < N_ROOTS; k++)
			names[k] = roots[k].name;
		suggest(s, &a, path[0], names);
		no(&a, 0, dr_arena_printf(s->r->a, "unknown name '%s': references start with params, secrets, env, "
						   "steps, target, run, recovery or inputs", path[0]));
	}
	*bad = a.bad;
	*type = a.type;
	*why = a.why;
	*hint = a.hint;
	return ok;
}

static scope_ctx composite_scope(resolver *r, const char *from)
{
	scope_ctx s = {.r = r};
	const site *si = find_site(r, from);
	if (si) {
		s.in_composite = true;
		s.prefix = from;
		s.comp_name = si->comp->composite_name ? si->comp->composite_name : si->use.use.name;
		s.inputs = si->comp->inputs;
		s.n_inputs = si->comp->n_inputs;
	} else if (r->rb->is_composite) {
		s.in_composite = true;
		s.comp_name = r->rb->composite_name;
		s.inputs = r->rb->inputs;
		s.n_inputs = r->rb->n_inputs;
	}
	return s;
}

static scope_ctx step_scope(resolver *r, const dr_step *st)
{
	scope_ctx s = composite_scope(r, st->from_composite);
	s.step = st;
	s.fanout = st->n_targets > 0;
	return s;
}

/* ----------------------------------------------------- compiling templates */

typedef struct walk {
	scope_ctx *s;
	const dr_template *t;
	bool printed; /* the values end up in a log */
} walk;

static dr_loc ref_loc(const walk *w, const dr_expr *ref, size_t seg)
{
	return dr_node_loc_at(w->t->node, ref->u.ref.seg_off[seg], ref->u.ref.seg_len[seg]);
}

/* Before checking: DR304 for target.* outside a fan-out, DR307 for secrets that get printed. */
static void precheck_ref(void *ctx, const dr_expr *ref)
{
	walk *w = ctx;
	const char *root = ref->u.ref.path[0];
	if (strcmp(root, "target") == 0 && !w->s->fanout) {
		dr_diag *g = dr_diag_error(w->s->r->diags, DR304, ref_loc(w, ref, 0),
					   w->s->step ? "target.* is used in step '%s', which has no targets: or foreach:"
						      : "target.* is used outside a step%s",
					   w->s->step ? w->s->step->id.name : "");
		if (w->s->step)
			dr_diag_set_hint(g, "add foreach: VMSET to run the step once per VM");
	}
	if (strcmp(root, "secrets") == 0 && w->printed && ref->u.ref.n >= 2)
		dr_diag_warning(w->s->r->diags, DR307, dr_node_loc_at(w->t->node, ref->off, ref->len),
				"secret '%s' is written to the log by action '%s'", ref->u.ref.path[1],
				w->s->step->action_name.name);
}

/* After checking: steps.<segments> becomes steps.<full id> (siblings, dotted ids). */
static void normalise_ref(void *ctx, const dr_expr *cref)
{
	walk *w = ctx;
	dr_expr *ref = (dr_expr *)cref; /* the tree is ours (arena); dr_template_each_ref hands out const */
	if (strcmp(ref->u.ref.path[0], "steps") != 0 || ref->u.ref.n < 2 || !w->s->step)
		return;
	const char *id;
	size_t k = match_step(w->s, (const char *const *)ref->u.ref.path, ref->u.ref.n, &id);
	if (!k)
		return;
	size_t *off = ref->u.ref.seg_off, *len = ref->u.ref.seg_len;
	len[1] = off[k] + len[k] - off[1];
	ref->u.ref.path[1] = id;
	for (size_t i = k + 1; i < ref->u.ref.n; i++) {
		ref->u.ref.path[i - k + 1] = ref->u.ref.path[i];
		off[i - k + 1] = off[i];
		len[i - k + 1] = len[i];
	}
	ref->u.ref.n -= k - 1;
}

/* The template's static type: its expression's for a whole ${x}, else a string. */
static dr_vtype template_type(const dr_template *t)
{
	return t->whole ? t->parts[0].expr->type : DR_VT_STRING;
}

/* Compile and check one scalar (NULL when it holds no ${ or does not parse). */
static dr_template *compile_scalar(scope_ctx *s, dr_node *node, bool printed, size_t *errors)
{
	if (dr_node_template(node) || !has_template(node))
		return NULL; /* shared through an alias: compiled in its first scope */
	dr_template *t = dr_template_parse(s->r->a, s->r->diags, node);
	if (!t) {
		(*errors)++;
		return NULL;
	}
	dr_node_set_template(s->r->a, node, t);
	walk w = {.s = s, .t = t, .printed = printed};
	dr_template_each_ref(t, precheck_ref, &w);
	dr_scope scope = {scope_lookup, s};
	*errors += dr_template_check(t, s->r->diags, &scope);
	dr_template_each_ref(t, normalise_ref, &w);
	return t;
}

static void compile_tree(scope_ctx *s, const dr_node *n, bool printed)
{
	size_t errors = 0;
	if (!n)
		return;
	if (n->kind == DR_NODE_SCALAR)
		compile_scalar(s, (dr_node *)n, printed, &errors);
	for (size_t i = 0; n->kind == DR_NODE_MAP && i < n->u.map.n; i++)
		compile_tree(s, n->u.map.items[i].value, printed);
	for (size_t i = 0; n->kind == DR_NODE_SEQ && i < n->u.seq.n; i++)
		compile_tree(s, n->u.seq.items[i], printed);
}

/* A condition (when:) or a value (recovery.point) that must have a given type. */
static void compile_typed(scope_ctx *s, const dr_node *n, dr_vtype want, const char *what)
{
	size_t errors = 0;
	if (!n || n->kind != DR_NODE_SCALAR)
		return;
	dr_template *t = compile_scalar(s, (dr_node *)n, false, &errors);
	if (!t || errors)
		return;
	dr_vtype got = template_type(t);
	if (got == DR_VT_ANY || got == want)
		return;
	dr_diag *g = dr_diag_error(s->r->diags, DR303, dr_node_loc(n), "%s must be a %s, but this is a %s", what,
				   dr_vtype_name(want), dr_vtype_name(got));
	if (!t->whole)
		dr_diag_set_hint(g, "text around ${...} makes a string; write the whole value as one ${...}");
}

static void compile_steps(resolver *r, dr_step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		dr_step *st = &steps[i];
		scope_ctx s = step_scope(r, st);
		bool printed = st->action_name.name && strcmp(st->action_name.name, "log") == 0;
		compile_tree(&s, st->with, printed);
		compile_typed(&s, st->when, DR_VT_BOOL, "when:");
		compile_steps(r, st->rollback, st->n_rollback);
	}
}

/* The with: and when: of each expanded use, in the scope the use was written in. */
static void compile_sites(resolver *r)
{
	for (size_t i = 0; i < r->n_sites; i++) {
		const dr_step *use = &r->sites[i].use;
		scope_ctx s = composite_scope(r, use->from_composite);
		s.step = use;
		compile_tree(&s, use->with, false);
		compile_typed(&s, use->when, DR_VT_BOOL, "when:");
	}
}

/* recovery.point and recovery.id: ${...} of what is known before any step runs, each a string. */
static void compile_recovery(resolver *r)
{
	const dr_node *rec = r->rb->root ? dr_node_get(r->rb->root, "recovery") : NULL;
	const dr_node *n = r->rb->recovery.point_node, *id = rec ? dr_node_get(rec, "id") : NULL;
	if (!r->rb->recovery.present)
		return;
	scope_ctx s = composite_scope(r, NULL);
	if (n && has_template(n))
		compile_typed(&s, n, DR_VT_STRING, "recovery.point");
	if (id && has_template(id))
		compile_typed(&s, id, DR_VT_STRING, "recovery.id");
}

/* The backend's options (all but kind): templates of params, env and secrets. */
static void compile_backend(resolver *r)
{
	const dr_node *m = r->rb->backend.node;
	if (!m || m->kind != DR_NODE_MAP)
		return;
	scope_ctx s = composite_scope(r, NULL);
	s.backend = true;
	for (size_t i = 0; i < m->u.map.n; i++) {
		const dr_node *v = m->u.map.items[i].value;
		if (v && v->kind == DR_NODE_SCALAR && strcmp(dr_node_str(m->u.map.items[i].key), "kind") != 0)
			compile_typed(&s, v, DR_VT_STRING, dr_arena_printf(r->a, "backend.%s",
									 dr_node_str(m->u.map.items[i].key)));
	}
}

/* ------------------------------------------------------------------- merge */

static bool same_diag(const dr_diag *a, const dr_diag *b)
{
	return a->code == b->code && a->sev == b->sev && a->loc.line == b->loc.line && a->loc.col == b->loc.col &&
	       strcmp(a->loc.file, b->loc.file) == 0 && strcmp(a->msg, b->msg) == 0;
}

static uint64_t diag_hash(const dr_diag *g)
{
	return dr_index_hash(dr_index_hash(dr_diag_key(g->code, g->loc.line, g->loc.col) ^ g->sev, g->loc.file), g->msg);
}

/* Whether out (indexed by ix) already holds a diagnostic the same as g. */
static bool has_same(const dr_diags *out, const dr_index *ix, const dr_diag *g)
{
	uint64_t h = diag_hash(g);
	for (size_t pos = 0, v; (v = dr_index_next(ix, h, &pos)) != DR_INDEX_NONE;)
		if (same_diag(g, dr_diags_get(out, v)))
			return true;
	return false;
}

/* Copy the collected diagnostics to the caller's, each distinct one once (a hash index: linear). */
static void merge_late(resolver *r)
{
	size_t n = dr_diags_count(r->diags), have = dr_diags_count(r->out);
	dr_index ix;
	dr_index_init(&ix);
	for (size_t k = 0; k < have; k++)
		dr_index_put(&ix, diag_hash(dr_diags_get(r->out, k)), k);
	for (size_t i = 0; i < n; i++) {
		const dr_diag *g = dr_diags_get(r->diags, i);
		if (has_same(r->out, &ix, g))
			continue;
		dr_diag *c = dr_diag_add(r->out, g->sev, g->code, g->loc, "%s", g->msg);
		if (g->hint)
			dr_diag_set_hint(c, "%s", g->hint);
		dr_index_put(&ix, diag_hash(c), dr_diags_count(r->out) - 1);
	}
	dr_index_dispose(&ix);
}

size_t dr_resolve(dr_runbook *rb, dr_diags *diags, const char *stdlib_dir)
{
	if (!rb)
		return 0;
	size_t before = dr_diags_errors(diags);
	resolver r = {.rb = rb, .a = rb->arena, .out = diags, .diags = dr_diags_new(), .stdlib_dir = stdlib_dir};
	expand_all(&r);
	index_ids(&r);
	index_sites(&r);
	compile_sites(&r);
	compile_steps(&r, rb->steps, rb->n_steps);
	compile_steps(&r, rb->finally_steps, rb->n_finally);
	compile_recovery(&r);
	compile_backend(&r);
	merge_late(&r);
	dr_diags_free(r.diags);
	free(r.ids);
	dr_suggest_index_free(r.ids_ix);
	return dr_diags_errors(diags) - before;
}
