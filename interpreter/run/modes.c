/*
 * modes.c - failover, drill and failback from one runbook (see modes.h).
 *
 * A drill is made by rewriting the compiled runbook before it runs, so the
 * executor runs an ordinary plan and the events show what a drill does:
 *
 *   dr.failover {recovery_point, direction, shutdown_source}
 *     -> dr.test_failover {recovery_point, direction, network}
 *   finally: + drill-cleanup (dr.test_cleanup of every test-failed-over set,
 *              its timeout sized from the VMs it cleans: dr_modes_cleanup_timeout)
 *
 * and the executor skips (task.skip "skipped in a drill: ...") the steps
 * dr_modes_skips names. Nodes made here have no compiled template: they are
 * literals (eval.c evaluates them as written).
 */
#include "run/modes.h"

#include <stdint.h>
#include <string.h>

#include "actions/action.h"
#include "front/expr.h"
#include "front/plan.h"

static const char *const mode_names[] = {
	[DR_MODE_FAILOVER] = "failover", [DR_MODE_DRILL] = "drill", [DR_MODE_FAILBACK] = "failback"};

const char *dr_mode_name(dr_run_mode m)
{
	return mode_names[m];
}

const char *dr_mode_direction_name(dr_be_direction d)
{
	switch (d) {
	case DR_BE_DIR_PRIMARY_TO_RECOVERY: return "primary-to-recovery";
	case DR_BE_DIR_RECOVERY_TO_PRIMARY: return "recovery-to-primary";
	default: return "auto";
	}
}

dr_be_direction dr_mode_default_direction(dr_run_mode m)
{
	return m == DR_MODE_FAILBACK ? DR_BE_DIR_RECOVERY_TO_PRIMARY : DR_BE_DIR_PRIMARY_TO_RECOVERY;
}

/* --- nodes made by hand -------------------------------------------------- */

static dr_node *scalar(dr_arena *a, const dr_node *at, const char *text)
{
	dr_node *n = dr_arena_calloc(a, 1, sizeof *n);
	n->kind = DR_NODE_SCALAR;
	if (at) {
		n->file_id = at->file_id;
		n->line = at->line;
		n->col = at->col;
	}
	n->u.scalar.str = dr_arena_strdup(a, text);
	n->u.scalar.len = strlen(text);
	n->style = DR_STYLE_DOUBLE;
	return n;
}

static dr_node *map_like(dr_arena *a, const dr_node *at, size_t cap)
{
	dr_node *n = dr_arena_calloc(a, 1, sizeof *n);
	n->kind = DR_NODE_MAP;
	if (at) {
		n->file_id = at->file_id;
		n->line = at->line;
		n->col = at->col;
		n->span = at->span;
	}
	n->u.map.items = dr_arena_calloc(a, cap + 1, sizeof *n->u.map.items);
	return n;
}

static void map_put(dr_node *m, dr_node *key, dr_node *value)
{
	m->u.map.items[m->u.map.n++] = (dr_pair){.key = key, .value = value};
}

/* A copy of map m without the pairs whose key is one of drop[] (NULL-terminated). */
static dr_node *map_without(dr_arena *a, const dr_node *m, const char *const *drop, size_t extra)
{
	size_t n = m && m->kind == DR_NODE_MAP ? m->u.map.n : 0;
	dr_node *out = map_like(a, m, n + extra);
	for (size_t i = 0; i < n; i++) {
		const char *k = dr_node_str(m->u.map.items[i].key);
		bool dropped = false;
		for (size_t d = 0; drop[d] && !dropped; d++)
			dropped = k && strcmp(k, drop[d]) == 0;
		if (!dropped)
			out->u.map.items[out->u.map.n++] = m->u.map.items[i];
	}
	return out;
}

/* --- dr.failover -> dr.test_failover ------------------------------------- */

static void to_test_failover(dr_arena *a, dr_step *st, const dr_action *tf, const char *network)
{
	static const char *const with_drop[] = {"shutdown_source", "network", NULL};
	static const char *const step_drop[] = {"rollback", NULL};
	const dr_node *at = st->with ? st->with : st->node;
	dr_node *with = map_without(a, st->with, with_drop, 1);
	map_put(with, scalar(a, at, "network"), scalar(a, at, network));
	st->with = with;
	st->action = tf;
	st->action_name.name = tf->name;
	/* its own rollback: (cancel_failover, say) does not undo a test failover; the default undo does */
	st->rollback = NULL;
	st->n_rollback = 0;
	if (st->node)
		st->node = map_without(a, st->node, step_drop, 0);
}

/* Rewrite every dr.failover among steps[0..n) and their rollback: steps. */
static void convert_steps(dr_arena *a, dr_step *steps, size_t n, const dr_action *tf, const char *network)
{
	for (size_t i = 0; i < n; i++) {
		dr_step *st = &steps[i];
		if (st->action && (st->action->flags & DR_AF_FAILOVER))
			to_test_failover(a, st, tf, network);
		convert_steps(a, st->rollback, st->n_rollback, tf, network);
	}
}

/* --- the cleanup under finally: ------------------------------------------ */

typedef struct names {
	const char **v;
	size_t n, cap;
} names;

static bool has_name(const names *l, const char *s)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return true;
	return false;
}

static void add_name(dr_arena *a, names *l, const char *s)
{
	if (has_name(l, s))
		return;
	if (l->n == l->cap) {
		size_t c = l->cap ? 2 * l->cap : 8;
		l->v = dr_arena_grow(a, l->v, l->n, c, sizeof *l->v);
		l->cap = c;
	}
	l->v[l->n++] = s;
}

static void sets_of(dr_arena *a, const dr_step *steps, size_t n, unsigned flag, names *out)
{
	for (size_t i = 0; i < n; i++)
		if (steps[i].action && (steps[i].action->flags & flag))
			for (size_t t = 0; t < steps[i].n_targets; t++)
				add_name(a, out, steps[i].targets[t].name);
}

/* The VM sets test failovers target that no finally: step cleans up. */
static names uncleaned_sets(dr_runbook *rb)
{
	names tested = {0}, cleaned = {0}, left = {0};
	sets_of(rb->arena, rb->steps, rb->n_steps, DR_AF_TEST_FAILOVER, &tested);
	sets_of(rb->arena, rb->finally_steps, rb->n_finally, DR_AF_TEST_FAILOVER, &tested);
	sets_of(rb->arena, rb->finally_steps, rb->n_finally, DR_AF_TEST_CLEANUP, &cleaned);
	for (size_t i = 0; i < tested.n; i++)
		if (!has_name(&cleaned, tested.v[i]))
			add_name(rb->arena, &left, tested.v[i]);
	return left;
}

/*
 * The cleanup waits out a test failover still running when the run stopped
 * (the service answers 409, transient, with a Retry-After) and retries
 * throttling: up to 30 attempts, 30s apart.
 */
static const dr_retry *cleanup_retry(dr_arena *a)
{
	dr_retry *r = dr_arena_alloc(a, sizeof *r);
	*r = (dr_retry){
		.present = true, .attempts = 30, .delay_ms = 30000, .backoff = 1, .max_delay_ms = -1,
		.jitter = DR_JITTER_NONE, .on = DR_RETRY_ON_TRANSIENT | DR_RETRY_ON_THROTTLED | DR_RETRY_ON_TIMEOUT,
	};
	return r;
}

static void add_cleanup(dr_runbook *rb, const names *sets, const dr_action *cleanup)
{
	dr_arena *a = rb->arena;
	rb->finally_steps = dr_arena_grow(a, rb->finally_steps, rb->n_finally, rb->n_finally + 1, sizeof *rb->finally_steps);
	dr_step *st = &rb->finally_steps[rb->n_finally++];
	dr_loc loc = rb->root ? dr_node_loc(rb->root) : (dr_loc){0};
	*st = (dr_step){
		.id = {.name = DR_DRILL_CLEANUP_ID, .node = rb->root},
		.name = "Clean up the drill's test VMs",
		.description = "Added by drover drill: deletes every test VM, on every path.",
		.action_name = {.name = cleanup->name, .node = rb->root},
		.action = cleanup,
		.retry = cleanup_retry(a),
		.timeout_ms = -1, .attempt_timeout_ms = -1, .max_failures = -1,
		.on_failure = DR_ONFAIL_INHERIT,
		.in_finally = true,
		.loc = loc,
	};
	st->targets = dr_arena_calloc(a, sets->n + 1, sizeof *st->targets);
	for (size_t i = 0; i < sets->n; i++)
		st->targets[i] = (dr_ref){.name = sets->v[i], .node = rb->root};
	st->n_targets = sets->n;
	dr_node *with = map_like(a, rb->root, 1);
	map_put(with, scalar(a, rb->root, "comments"), scalar(a, rb->root, "drover drill: cleanup of the test VMs"));
	st->with = with;
	/* only VMs in a test failover have anything to clean up (a test failover may never have started) */
	dr_node *when = scalar(a, rb->root, "${target.state =~ '^test_'}");
	dr_diags *d = dr_diags_new();
	dr_node_set_template(a, when, dr_template_parse(a, d, when));
	dr_diags_free(d);
	st->when = dr_node_template(when) ? when : NULL;
}

/*
 * The added cleanup's own step timeout: long enough to wait out a test
 * failover still running (its retry: 30 attempts 30 s apart) and then to
 * clean up every VM, one wave of `limit` VMs after another, each wave given
 * CLEANUP_WAVE_MS: over twice the service's slowest documented cleanup
 * (prerequisites 5-15 s, deleting the test VM 1-2 min; docs/backends.md).
 */
#define CLEANUP_WAIT_MS (30 * 30000)
#define CLEANUP_WAVE_MS (5 * 60000)

int64_t dr_modes_cleanup_timeout(const dr_step *st, int64_t inherited, size_t n_tasks, int64_t limit)
{
	bool added = st && st->in_finally && st->timeout_ms < 0 && st->action && (st->action->flags & DR_AF_TEST_CLEANUP) &&
		     strcmp(st->id.name, DR_DRILL_CLEANUP_ID) == 0;
	if (!added || inherited < 0) /* none inherited: no limit, the most a size could ask for */
		return inherited;
	uint64_t waves = limit > 0 ? (n_tasks + (uint64_t)limit - 1) / (uint64_t)limit : n_tasks > 0;
	uint64_t cap = (uint64_t)INT64_MAX / 2 / CLEANUP_WAVE_MS; /* a million VMs one at a time: still no overflow */
	int64_t sized = CLEANUP_WAIT_MS + (int64_t)(waves < cap ? waves : cap) * CLEANUP_WAVE_MS;
	return sized > inherited ? sized : inherited;
}

int dr_modes_make_drill(dr_runbook *rb, const char *network, dr_buf *err)
{
	const dr_action *tf = dr_action_find("dr.test_failover"), *tc = dr_action_find("dr.test_cleanup");
	if (!rb || !rb->plan || !tf || !tc) {
		dr_buf_puts(err, "the runbook cannot be drilled: it has errors or this drover lacks the test failover "
				 "actions\n");
		return -1;
	}
	network = network && *network ? network : DR_DRILL_DEFAULT_NETWORK;
	convert_steps(rb->arena, rb->steps, rb->n_steps, tf, network);
	convert_steps(rb->arena, rb->finally_steps, rb->n_finally, tf, network);
	names left = uncleaned_sets(rb);
	if (left.n)
		add_cleanup(rb, &left, tc);
	dr_diags *d = dr_diags_new();
	dr_plan_build(rb, d);
	size_t errors = dr_diags_errors(d);
	if (errors || !rb->plan->acyclic) {
		dr_buf_printf(err, "drover drill could not plan the drill (%zu problem%s; %s)\n", errors,
			      errors == 1 ? "" : "s", errors ? dr_diags_get(d, 0)->msg : "a cycle");
		dr_diags_free(d);
		return -1;
	}
	dr_diags_free(d);
	return 0;
}

/* --- what a drill skips ---------------------------------------------------- */

static bool skips(const dr_plan *p, size_t i, unsigned depth)
{
	const dr_step *st = p->nodes[i].step;
	unsigned f = st->action ? st->action->flags : 0;
	if (f & DR_AF_SKIP_IN_DRILL)
		return true;
	if (!(f & DR_AF_APPROVAL) || depth > 64 || p->nodes[i].n_succs == 0)
		return false;
	for (size_t k = 0; k < p->nodes[i].n_succs; k++)
		if (!skips(p, p->nodes[i].succs[k], depth + 1))
			return false;
	return true;
}

bool dr_modes_skips(const dr_runbook *rb, size_t i, const char **why)
{
	const dr_plan *p = rb ? rb->plan : NULL;
	if (!p || i >= p->n_main || !skips(p, i, 0))
		return false;
	const dr_step *st = p->nodes[i].step;
	if (why)
		*why = st->action && (st->action->flags & DR_AF_APPROVAL)
			       ? "skipped in a drill: the gate only guards steps a drill skips"
			       : dr_arena_printf(rb->arena, "skipped in a drill: a drill never runs %s", st->action->name);
	return true;
}

/* --- after a drill: is anything left? -------------------------------------- */

static bool in_test(const dr_be_item *it)
{
	return it->test_vm.exists || it->state == DR_BE_ST_TEST_FAILING_OVER ||
	       it->state == DR_BE_ST_TEST_FAILED_OVER || it->state == DR_BE_ST_TEST_CLEANING;
}

static bool wanted(const char *name, const char *const *vms, size_t n)
{
	if (!n)
		return true;
	for (size_t i = 0; i < n; i++)
		if (name && strcmp(vms[i], name) == 0)
			return true;
	return false;
}

long dr_modes_verify_drill(dr_backend *be, dr_arena *a, int64_t now_ms, const char *const *vms, size_t n,
			   dr_drill_leftover **out, dr_be_error *err)
{
	dr_be_item *items = NULL;
	size_t n_items = 0;
	*out = NULL;
	if (dr_backend_list_items(be, a, now_ms, &items, &n_items, err) < 0)
		return -1;
	dr_drill_leftover *v = dr_arena_calloc(a, n_items + 1, sizeof *v);
	long k = 0;
	for (size_t i = 0; i < n_items; i++) {
		const dr_be_item *it = &items[i];
		if (!wanted(it->name, vms, n) || !in_test(it))
			continue;
		v[k++] = (dr_drill_leftover){
			.vm = it->name, .state = dr_backend_state_name(it->state),
			.test_vm_id = it->test_vm.exists ? it->test_vm.id : NULL,
		};
	}
	*out = v;
	return k;
}
