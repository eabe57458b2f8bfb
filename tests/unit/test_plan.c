/*
 * test_plan.c - the step graph (needs:, cycles, order, levels, reachability),
 * the DR ordering rules DR404-DR410, and the graph printers.
 *
 * Runbooks are built by hand as dr_runbook structs (steps with ids, actions,
 * targets and needs), so these tests depend only on plan.c, graph.c and the
 * action table. Step k of the declaration (steps, then finally) sits on line
 * k + 1, which is how the tests tell where a diagnostic points.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "actions/action.h"
#include "front/expr.h"
#include "front/plan.h"
#include "front/runbook.h"

#define CAP 4096

typedef struct fx {
	dr_arena *a;
	dr_runbook *rb;
	dr_diags *d;
	dr_plan *p;
} fx;

static fx *fx_new(void)
{
	fx *f = calloc(1, sizeof *f);
	f->a = dr_arena_new();
	f->d = dr_diags_new();
	f->rb = dr_arena_alloc(f->a, sizeof *f->rb);
	f->rb->arena = f->a;
	f->rb->path = "rb.yaml";
	f->rb->name = "test-plan";
	f->rb->steps = dr_arena_calloc(f->a, CAP, sizeof(dr_step));
	f->rb->finally_steps = dr_arena_calloc(f->a, 64, sizeof(dr_step));
	return f;
}

static void fx_free(fx *f)
{
	dr_diags_free(f->d);
	dr_arena_free(f->a);
	free(f);
}

/* A scalar node at line:col, len columns long, in rb.yaml: the place a ref was written. */
static const dr_node *pos_node(dr_arena *a, int line, int col, int len)
{
	dr_node *n = dr_arena_calloc(a, 1, sizeof *n);
	n->kind = DR_NODE_SCALAR;
	dr_node_set_file(n, "rb.yaml");
	n->line = line;
	n->col = col;
	n->span = len;
	n->u.scalar.str = "";
	return n;
}

/* Split "a, b" into refs on line `line`, columns 20, 30, ... */
static dr_ref *refs(dr_arena *a, const char *csv, int line, size_t *n)
{
	*n = 0;
	if (!csv || !*csv)
		return NULL;
	dr_ref *out = dr_arena_calloc(a, 32, sizeof *out);
	char *copy = dr_arena_strdup(a, csv), *save = NULL;
	for (char *tok = strtok_r(copy, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		out[*n].name = tok;
		out[*n].node = pos_node(a, line, 20 + 10 * (int)*n, (int)strlen(tok));
		(*n)++;
	}
	return out;
}

static int next_line(const fx *f) { return (int)(f->rb->n_steps + f->rb->n_finally) + 1; }

/* Add a step (to finally: when fin) and return it for further tweaks. */
static dr_step *add(fx *f, bool fin, const char *id, const char *action, const char *targets, const char *needs)
{
	int line = next_line(f);
	dr_step *s = fin ? &f->rb->finally_steps[f->rb->n_finally++] : &f->rb->steps[f->rb->n_steps++];
	s->id = (dr_ref){id, pos_node(f->a, line, 7, (int)strlen(id))};
	s->action_name = (dr_ref){action, pos_node(f->a, line, 11, (int)strlen(action))};
	s->action = dr_action_find(action);
	s->targets = refs(f->a, targets, line, &s->n_targets);
	s->needs = refs(f->a, needs, line, &s->n_needs);
	s->in_finally = fin;
	s->loc = (dr_loc){"rb.yaml", line, 3, 1};
	s->timeout_ms = s->attempt_timeout_ms = s->max_failures = -1;
	return s;
}

static dr_step *step(fx *f, const char *id, const char *action, const char *targets, const char *needs)
{
	return add(f, false, id, action, targets, needs);
}

static dr_step *fin(fx *f, const char *id, const char *action, const char *targets, const char *needs)
{
	return add(f, true, id, action, targets, needs);
}

static void vm_sets(fx *f, const char *csv)
{
	size_t n;
	dr_ref *names = refs(f->a, csv, 1, &n);
	f->rb->vm_sets = dr_arena_calloc(f->a, n + 1, sizeof(dr_vm_set));
	for (size_t i = 0; i < n; i++)
		f->rb->vm_sets[i].name = names[i];
	f->rb->n_vm_sets = n;
}

static dr_plan *build(fx *f)
{
	f->p = dr_plan_build(f->rb, f->d);
	assert_non_null(f->p);
	assert_ptr_equal(f->rb->plan, f->p);
	return f->p;
}

static size_t count(const fx *f, dr_code code)
{
	size_t c = 0;
	for (size_t i = 0; i < dr_diags_count(f->d); i++)
		c += dr_diags_get(f->d, i)->code == code;
	return c;
}

/* The first diagnostic with this code (fails the test when there is none). */
static const dr_diag *first(const fx *f, dr_code code)
{
	for (size_t i = 0; i < dr_diags_count(f->d); i++)
		if (dr_diags_get(f->d, i)->code == code)
			return dr_diags_get(f->d, i);
	fail_msg("no diagnostic %s", dr_code_id(code));
	return NULL;
}

static size_t idx(const fx *f, const char *id) { return dr_plan_index(f->p, id); }

/* --- graph basics ----------------------------------------------------- */

static void test_chain_order_levels(void **state)
{
	(void)state;
	fx *f = fx_new();
	step(f, "c", "log", NULL, "b");
	step(f, "a", "log", NULL, NULL);
	step(f, "b", "log", NULL, "a");
	step(f, "d", "log", NULL, "a, c");
	fin(f, "report", "log", NULL, NULL);
	dr_plan *p = build(f);
	assert_int_equal(dr_diags_count(f->d), 0);
	assert_true(p->acyclic);
	assert_int_equal(p->n, 5);
	assert_int_equal(p->n_main, 4);
	const char *want[] = {"a", "b", "c", "d", "report"};
	for (size_t k = 0; k < 5; k++)
		assert_string_equal(p->nodes[p->order[k]].step->id.name, want[k]);
	assert_int_equal(p->nodes[idx(f, "a")].level, 0);
	assert_int_equal(p->nodes[idx(f, "b")].level, 1);
	assert_int_equal(p->nodes[idx(f, "c")].level, 2);
	assert_int_equal(p->nodes[idx(f, "d")].level, 3);
	assert_int_equal(p->nodes[idx(f, "report")].level, 4); /* finally after the deepest step */
	assert_true(dr_plan_precedes(p, idx(f, "a"), idx(f, "d")));
	assert_true(dr_plan_precedes(p, idx(f, "b"), idx(f, "d")));
	assert_false(dr_plan_precedes(p, idx(f, "d"), idx(f, "a")));
	assert_false(dr_plan_precedes(p, idx(f, "a"), idx(f, "a")));
	assert_false(dr_plan_precedes(p, idx(f, "a"), idx(f, "report")));
	assert_false(dr_plan_precedes(p, 0, 99));
	assert_int_equal(idx(f, "nope"), (size_t)-1);
	/* succs are in declaration order */
	const dr_plan_node *a = &p->nodes[idx(f, "a")];
	assert_int_equal(a->n_succs, 2);
	assert_int_equal(a->succs[0], idx(f, "b"));
	assert_int_equal(a->succs[1], idx(f, "d"));
	fx_free(f);
}

static void test_order_stable_by_declaration(void **state)
{
	(void)state;
	fx *f = fx_new();
	step(f, "z", "log", NULL, NULL);
	step(f, "y", "log", NULL, "z");
	step(f, "x", "log", NULL, NULL);
	step(f, "w", "log", NULL, "x");
	dr_plan *p = build(f);
	const char *want[] = {"z", "y", "x", "w"};
	for (size_t k = 0; k < 4; k++)
		assert_string_equal(p->nodes[p->order[k]].step->id.name, want[k]);
	fx_free(f);
}

static void test_unknown_need_suggests(void **state)
{
	(void)state;
	fx *f = fx_new();
	step(f, "failover-db", "log", NULL, NULL);
	step(f, "check", "log", NULL, "failover-bd, nothing-like-it");
	dr_plan *p = build(f);
	assert_int_equal(count(f, DR401), 2);
	const dr_diag *g = first(f, DR401);
	assert_string_equal(g->msg, "step 'check' needs 'failover-bd', which is not a step");
	assert_string_equal(g->hint, "did you mean 'failover-db'?");
	assert_int_equal(g->loc.line, 2);
	assert_int_equal(g->loc.col, 20);
	assert_null(dr_diags_get(f->d, 1)->hint);
	assert_int_equal(p->nodes[1].n_deps, 0);
	fx_free(f);
}

static void test_self_and_repeated_needs(void **state)
{
	(void)state;
	fx *f = fx_new();
	step(f, "a", "log", NULL, NULL);
	step(f, "b", "log", NULL, "b, a, a");
	dr_plan *p = build(f);
	assert_int_equal(dr_diags_count(f->d), 1);
	assert_string_equal(first(f, DR402)->msg, "step 'b' needs itself");
	assert_int_equal(p->nodes[1].n_deps, 1); /* the repeated need is one edge */
	assert_int_equal(p->nodes[0].n_succs, 1);
	assert_true(p->acyclic);
	fx_free(f);
}

static void test_cycle_reported_once(void **state)
{
	(void)state;
	fx *f = fx_new();
	step(f, "start", "log", NULL, NULL);
	step(f, "a", "log", NULL, "c, start");
	step(f, "b", "log", NULL, "a");
	step(f, "c", "log", NULL, "b");
	step(f, "after", "log", NULL, "c");
	dr_plan *p = build(f);
	assert_false(p->acyclic);
	assert_int_equal(count(f, DR403), 1);
	const dr_diag *g = first(f, DR403);
	assert_string_equal(g->msg, "dependency cycle: a -> c -> b -> a");
	assert_int_equal(g->loc.line, 3); /* b (line 3) needing a closes it */
	/* order is still a permutation, the placeable steps first */
	assert_string_equal(p->nodes[p->order[0]].step->id.name, "start");
	unsigned seen = 0;
	for (size_t k = 0; k < p->n; k++)
		seen |= 1u << p->order[k];
	assert_int_equal(seen, 0x1f);
	fx_free(f);
}

static void test_two_cycles(void **state)
{
	(void)state;
	fx *f = fx_new();
	step(f, "a", "log", NULL, "b");
	step(f, "b", "log", NULL, "a, c");
	step(f, "c", "log", NULL, "b");
	step(f, "solo", "log", NULL, "solo2");
	step(f, "solo2", "log", NULL, "solo");
	build(f);
	assert_int_equal(count(f, DR403), 3);
	assert_string_equal(dr_diags_get(f->d, 0)->msg, "dependency cycle: a -> b -> a");
	assert_string_equal(dr_diags_get(f->d, 1)->msg, "dependency cycle: b -> c -> b");
	assert_string_equal(dr_diags_get(f->d, 2)->msg, "dependency cycle: solo -> solo2 -> solo");
	fx_free(f);
}

static void test_needs_across_finally(void **state)
{
	(void)state;
	fx *f = fx_new();
	step(f, "work", "log", NULL, "notify");
	fin(f, "cleanup", "log", NULL, NULL);
	fin(f, "notify", "log", NULL, "cleanup, work");
	dr_plan *p = build(f);
	assert_int_equal(count(f, DR410), 2);
	assert_int_equal(count(f, DR401), 0);
	assert_non_null(strstr(dr_diags_get(f->d, 0)->msg, "a finally step"));
	assert_non_null(strstr(dr_diags_get(f->d, 1)->msg, "finally step 'notify' needs 'work'"));
	assert_int_equal(p->nodes[idx(f, "notify")].n_deps, 1);
	assert_true(dr_plan_precedes(p, idx(f, "cleanup"), idx(f, "notify")));
	fx_free(f);
}

/* --- DR rules --------------------------------------------------------- */

static void test_reprotect_needs_commit(void **state)
{
	(void)state;
	fx *f = fx_new();
	vm_sets(f, "db, web");
	step(f, "fo", "dr.failover", "db, web", NULL);
	step(f, "probe", "dr.probe", "db, web", "fo");
	step(f, "commit-db", "dr.commit", "db", "probe");
	step(f, "commit-web", "dr.commit", "web", "probe");
	step(f, "rp-early", "dr.reprotect", "db", "fo");
	step(f, "rp-half", "dr.reprotect", "db, web", "commit-db");
	step(f, "rp-ok", "dr.reprotect", "web, db", "commit-db, commit-web");
	build(f);
	assert_int_equal(count(f, DR404), 2);
	const dr_diag *g = first(f, DR404);
	assert_int_equal(g->loc.line, 5);
	assert_int_equal(g->loc.col, 11);
	assert_non_null(strstr(g->msg, "does not come after a dr.commit"));
	assert_string_equal(g->hint, "add 'commit-db' to needs:");
	g = dr_diags_get(f->d, 1);
	assert_string_equal(g->msg, "reprotect step 'rp-half' reprotects 'web', which no dr.commit before it commits");
	assert_string_equal(g->hint, "add 'commit-web' to needs:");
	assert_int_equal(count(f, DR405), 0);
	fx_free(f);
}

static void test_untargeted_commit_covers_all(void **state)
{
	(void)state;
	fx *f = fx_new();
	vm_sets(f, "db");
	step(f, "ok", "check.http", NULL, NULL);
	step(f, "commit", "dr.commit", NULL, "ok");
	step(f, "rp", "dr.reprotect", "db", "commit");
	build(f);
	assert_int_equal(dr_diags_count(f->d), 0);
	fx_free(f);
}

static void test_commit_needs_validation(void **state)
{
	(void)state;
	fx *f = fx_new();
	vm_sets(f, "db, app, web");
	step(f, "fo", "dr.failover", "db, app, web", NULL);
	step(f, "db-up", "check.tcp", "db", "fo");
	dr_step *s = step(f, "app-up", "dr.probe", "app", "fo");
	s->foreach = true;
	step(f, "gate", "approve", NULL, "db-up, app-up");
	step(f, "commit", "dr.commit", "db, app, web", "gate");
	step(f, "commit2", "dr.commit", "db", "fo");
	build(f);
	assert_int_equal(count(f, DR405), 2);
	const dr_diag *g = first(f, DR405);
	assert_int_equal(g->sev, DR_SEV_WARNING);
	assert_string_equal(g->msg, "commit step 'commit' commits 'web', which no validation before it checks");
	assert_string_equal(g->hint, "validate the failed-over VMs (check.*, dr.probe) and make 'commit' need it");
	g = dr_diags_get(f->d, 1);
	assert_non_null(strstr(g->msg, "'commit2' does not come after any validation"));
	assert_string_equal(g->hint, "add 'db-up' to needs:");
	assert_int_equal(dr_diags_errors(f->d), 0);
	fx_free(f);
}

static void test_approve_is_not_validation(void **state)
{
	(void)state;
	fx *f = fx_new();
	step(f, "gate", "approve", NULL, NULL);
	step(f, "commit", "dr.commit", NULL, "gate");
	build(f);
	assert_int_equal(count(f, DR405), 1);
	fx_free(f);
}

static void test_rollback_after_commit(void **state)
{
	(void)state;
	fx *f = fx_new();
	vm_sets(f, "db, web");
	step(f, "fo", "dr.failover", "db, web", NULL);
	step(f, "ok", "check.http", NULL, "fo");
	step(f, "commit", "dr.commit", "db", "ok");
	dr_step *rp = step(f, "rp", "dr.reprotect", "db", "commit");
	rp->on_failure = DR_ONFAIL_ROLLBACK;
	dr_step *before = step(f, "before", "log", NULL, "fo");
	before->on_failure = DR_ONFAIL_ROLLBACK; /* fine: nothing committed yet */
	build(f);
	assert_int_equal(count(f, DR406), 1);
	const dr_diag *g = first(f, DR406);
	assert_string_equal(g->msg, "step 'rp' has on_failure: rollback, but it runs after the irreversible commit "
				    "'commit' (line 3); a rollback cannot undo what was committed");
	assert_int_equal(g->loc.line, 4);
	fx_free(f);
}

static void test_rollback_list_across_commit(void **state)
{
	(void)state;
	fx *f = fx_new();
	vm_sets(f, "db, web");
	step(f, "fo", "dr.failover", "db, web", NULL);
	step(f, "ok", "check.http", NULL, "fo");
	step(f, "commit", "dr.commit", "db", "ok");
	dr_step *s = step(f, "later", "log", NULL, "commit");
	s->rollback = dr_arena_calloc(f->a, 3, sizeof(dr_step));
	s->n_rollback = 3;
	s->rollback[0] = (dr_step){.id = {"undo-db", pos_node(f->a, 40, 9, 7)},
				   .action_name = {"dr.cancel_failover", pos_node(f->a, 41, 17, 18)},
				   .action = dr_action_find("dr.cancel_failover")};
	s->rollback[0].targets = refs(f->a, "db", 42, &s->rollback[0].n_targets);
	s->rollback[1] = s->rollback[0]; /* web was never committed: fine */
	s->rollback[1].targets = refs(f->a, "web", 43, &s->rollback[1].n_targets);
	s->rollback[2] = (dr_step){.id = {"say", pos_node(f->a, 44, 9, 3)}, .action_name = {"log", pos_node(f->a, 45, 17, 3)}};
	build(f);
	assert_int_equal(count(f, DR406), 1);
	const dr_diag *g = first(f, DR406);
	assert_int_equal(g->loc.line, 41);
	assert_string_equal(g->msg, "rollback step 'undo-db' of 'later' runs dr.cancel_failover on 'db', but commit "
				    "'commit' (line 3) committed them before 'later' runs; a committed failover cannot "
				    "be undone");
	fx_free(f);
}

static void test_failback_rollback_allowed(void **state)
{
	(void)state;
	fx *f = fx_new();
	vm_sets(f, "db");
	step(f, "fo", "dr.failover", "db", NULL);
	step(f, "ok", "dr.probe", "db", "fo");
	step(f, "commit", "dr.commit", "db", "ok");
	step(f, "rp", "dr.reprotect", "db", "commit");
	dr_step *back = step(f, "failback", "dr.failover", "db", "rp");
	back->rollback = dr_arena_calloc(f->a, 1, sizeof(dr_step));
	back->n_rollback = 1;
	back->rollback[0] = (dr_step){.id = {"cancel", pos_node(f->a, 40, 9, 6)},
				      .action_name = {"dr.cancel_failover", pos_node(f->a, 41, 17, 18)},
				      .action = dr_action_find("dr.cancel_failover")};
	build(f);
	/* the failback opens the VMs again: its rollback may cancel it (no DR406) ... */
	assert_int_equal(count(f, DR406), 0);
	/* ... but without with: direction it runs in the run's direction, the committed one (DR413) */
	assert_int_equal(count(f, DR413), 1);
	assert_int_equal(dr_diags_count(f->d), 1);
	fx_free(f);
}

static void test_run_level_rollback_warns(void **state)
{
	(void)state;
	fx *f = fx_new();
	f->rb->on_failure = DR_ONFAIL_ROLLBACK;
	step(f, "fo", "dr.failover", NULL, NULL);
	step(f, "ok", "check.tcp", NULL, "fo");
	step(f, "commit", "dr.commit", NULL, "ok");
	step(f, "commit-again", "dr.commit", NULL, "ok");
	build(f);
	assert_int_equal(count(f, DR406), 1);
	const dr_diag *g = first(f, DR406);
	assert_int_equal(g->sev, DR_SEV_WARNING);
	assert_int_equal(g->loc.line, 0); /* no node tree: the whole file */
	assert_non_null(strstr(g->msg, "stops at the irreversible commit 'commit' (line 3)"));
	fx_free(f);
}

static void test_drill_cleanup_in_finally(void **state)
{
	(void)state;
	fx *f = fx_new();
	vm_sets(f, "db, app");
	step(f, "tfo", "dr.test_failover", "db, app", NULL);
	step(f, "ok", "dr.probe", "db, app", "tfo");
	fin(f, "cleanup", "dr.test_cleanup", "app, db", NULL);
	build(f);
	assert_int_equal(dr_diags_count(f->d), 0);
	fx_free(f);
}

static void test_drill_cleanup_missing(void **state)
{
	(void)state;
	fx *f = fx_new();
	vm_sets(f, "db, app");
	step(f, "tfo", "dr.test_failover", "db, app", NULL);
	step(f, "ok", "dr.probe", "db, app", "tfo");
	step(f, "cleanup-app", "dr.test_cleanup", "app", "ok");
	fin(f, "cleanup-db", "dr.test_cleanup", "db", NULL);
	step(f, "tfo2", "dr.test_failover", "app", NULL);
	build(f);
	assert_int_equal(count(f, DR407), 2);
	const dr_diag *g = first(f, DR407);
	assert_string_equal(g->msg, "test failover 'tfo' tests 'app', which no dr.test_cleanup under finally: cleans up");
	assert_string_equal(g->hint, "'cleanup-app' is under steps: and does not run when a step before it fails; "
				     "move it to finally:");
	fx_free(f);
}

static void test_drill_without_any_cleanup(void **state)
{
	(void)state;
	fx *f = fx_new();
	vm_sets(f, "db");
	step(f, "tfo", "dr.test_failover", "db", NULL);
	build(f);
	const dr_diag *g = first(f, DR407);
	assert_non_null(strstr(g->msg, "has no dr.test_cleanup under finally:"));
	assert_string_equal(g->hint, "add under finally: a step with action: dr.test_cleanup and targets: [db]");
	fx_free(f);
}

static void test_pipeline_targets(void **state)
{
	(void)state;
	fx *f = fx_new();
	vm_sets(f, "db, web");
	step(f, "fo", "dr.failover", "db", NULL);
	step(f, "fo-all", "dr.failover", "db, web", NULL);
	step(f, "up", "check.tcp", "db", "fo, fo-all")->pipeline = true; /* a subset: fine */
	step(f, "up2", "check.tcp", "db, web", "fo, fo-all")->pipeline = true;
	step(f, "loose", "log", NULL, "fo")->pipeline = true;
	step(f, "after-log", "check.tcp", "db", "loose")->pipeline = true;
	build(f);
	assert_int_equal(count(f, DR409), 3);
	assert_string_equal(dr_diags_get(f->d, 0)->msg,
			    "step 'up2' sets pipeline: true but needs 'fo', which does not target 'web'");
	assert_string_equal(dr_diags_get(f->d, 1)->msg, "step 'loose' sets pipeline: true but has no targets: or foreach:");
	assert_string_equal(dr_diags_get(f->d, 2)->msg,
			    "step 'after-log' sets pipeline: true but needs 'loose', which has no targets");
	fx_free(f);
}

/* --- DR408: reads of steps.X.outputs ---------------------------------- */

static dr_node *scalar(dr_arena *a, const char *text, int line)
{
	dr_node *n = dr_arena_alloc(a, sizeof *n);
	n->kind = DR_NODE_SCALAR;
	dr_node_set_file(n, "rb.yaml");
	n->line = line;
	n->col = 20;
	n->span = (int)strlen(text);
	n->u.scalar.str = dr_arena_strdup(a, text);
	n->u.scalar.len = strlen(text);
	n->style = DR_STYLE_PLAIN;
	return n;
}

/* Give s a node tree {with: {message: text}}, the scalar compiled as resolve would. */
static void with_message(fx *f, dr_step *s, const char *text)
{
	dr_node *val = scalar(f->a, text, s->loc.line);
	dr_node_set_template(f->a, val, dr_template_parse(f->a, f->d, val));
	assert_non_null(dr_node_template(val));
	dr_node *inner = dr_arena_alloc(f->a, sizeof *inner);
	inner->kind = DR_NODE_MAP;
	inner->u.map.items = dr_arena_calloc(f->a, 1, sizeof(dr_pair));
	inner->u.map.items[0] = (dr_pair){scalar(f->a, "message", s->loc.line), val};
	inner->u.map.n = 1;
	dr_node *top = dr_arena_alloc(f->a, sizeof *top);
	top->kind = DR_NODE_MAP;
	top->u.map.items = dr_arena_calloc(f->a, 1, sizeof(dr_pair));
	top->u.map.items[0] = (dr_pair){scalar(f->a, "with", s->loc.line), inner};
	top->u.map.n = 1;
	s->node = top;
	s->with = inner;
}

static void test_output_reads(void **state)
{
	(void)state;
	fx *f = fx_new();
	step(f, "a", "log", NULL, NULL);
	step(f, "b", "log", NULL, "a");
	with_message(f, step(f, "c", "log", NULL, "b"), "${steps.a.outputs.message}"); /* transitive: fine */
	with_message(f, step(f, "d", "log", NULL, NULL), "x ${steps.b.outputs.message} y");
	with_message(f, step(f, "e", "log", NULL, NULL), "${steps.e.status}");
	with_message(f, step(f, "g", "log", NULL, NULL), "${steps.report.status}");
	with_message(f, fin(f, "report", "log", NULL, NULL), "${steps.d.status} ${steps.late.outputs.x}");
	fin(f, "late", "log", NULL, NULL);
	build(f);
	assert_int_equal(count(f, DR408), 4);
	const dr_diag *g = first(f, DR408);
	assert_string_equal(g->msg, "step 'd' reads the outputs of 'b', but 'd' does not need it, so 'b' may not have "
				    "run yet");
	assert_string_equal(g->hint, "add 'b' to the needs: of 'd' (directly or through a step that needs it)");
	assert_int_equal(g->loc.line, 4);
	assert_non_null(strstr(dr_diags_get(f->d, 1)->msg, "step 'e' reads its own status"));
	assert_non_null(strstr(dr_diags_get(f->d, 2)->msg, "of finally step 'report'"));
	assert_non_null(strstr(dr_diags_get(f->d, 3)->msg, "step 'report' reads the outputs of 'late'"));
	fx_free(f);
}

/* --- from YAML: load, check, resolve, plan ------------------------------ */

static fx *from_yaml(const char *text)
{
	fx *f = calloc(1, sizeof *f);
	f->a = dr_arena_new();
	f->d = dr_diags_new();
	dr_node *root = dr_load_string(f->a, f->d, "rb.yaml", text, strlen(text), NULL);
	assert_non_null(root);
	f->rb = dr_check(f->a, f->d, root, "rb.yaml");
	assert_non_null(f->rb);
	dr_resolve(f->rb, f->d, NULL);
	assert_int_equal(dr_diags_errors(f->d), 0); /* the earlier stages accept the case */
	build(f);
	return f;
}

static void test_yaml_reads_and_rollback_reads(void **state)
{
	(void)state;
	fx *f = from_yaml("drover: 1\n"
			  "name: reads\n"
			  "vm_sets:\n"
			  "  db: { match: { name: \"^db-\" } }\n"
			  "steps:\n"
			  "  - id: failover\n"
			  "    action: dr.failover\n"
			  "    targets: db\n"
			  "    rollback:\n"
			  "      - id: say\n"
			  "        action: log\n"
			  "        with: { message: \"undo ${steps.failover.outputs.job_id} ${steps.other.status}\" }\n"
			  "  - id: other\n"
			  "    action: log\n"
			  "    with: { message: \"job ${steps.failover.outputs.job_id}\" }\n");
	assert_int_equal(dr_diags_count(f->d), 2);
	const dr_diag *g = dr_diags_get(f->d, 0);
	assert_int_equal(g->code, DR408); /* the rollback step reads 'other', which the step does not need */
	assert_int_equal(g->loc.line, 12);
	assert_int_equal(g->loc.col, 67);
	assert_string_equal(g->msg, "rollback step 'say' of 'failover' reads the status of 'other', but 'failover' "
				    "does not need it, so 'other' may not have run yet");
	g = dr_diags_get(f->d, 1);
	assert_int_equal(g->loc.line, 15);
	assert_int_equal(g->loc.col, 29);
	assert_int_equal(g->loc.len, (int)strlen("steps.failover.outputs.job_id"));
	fx_free(f);
}

static void test_yaml_valid_flow_is_quiet(void **state)
{
	(void)state;
	fx *f = from_yaml("drover: 1\n"
			  "name: flow\n"
			  "vm_sets:\n"
			  "  db: { match: { name: \"^db-\" } }\n"
			  "  web: { match: { name: \"^web-\" } }\n"
			  "steps:\n"
			  "  - { id: failover, action: dr.failover, targets: [db, web] }\n"
			  "  - { id: db-up, action: dr.probe, foreach: db, needs: failover, pipeline: true }\n"
			  "  - { id: web-up, action: dr.probe, foreach: web, needs: failover, pipeline: true }\n"
			  "  - { id: commit, action: dr.commit, targets: [web, db], needs: [db-up, web-up] }\n"
			  "  - { id: reprotect, action: dr.reprotect, targets: [db, web], needs: commit }\n"
			  "finally:\n"
			  "  - id: tell\n"
			  "    action: log\n"
			  "    with: { message: \"${steps.commit.status}\" }\n");
	assert_int_equal(dr_diags_count(f->d), 0);
	assert_int_equal(f->p->n, 6);
	assert_int_equal(f->p->nodes[dr_plan_index(f->p, "reprotect")].level, 3);
	assert_int_equal(f->p->nodes[dr_plan_index(f->p, "tell")].level, 4);
	fx_free(f);
}

/* --- scale ------------------------------------------------------------ */

static void test_two_thousand_steps_fast(void **state)
{
	(void)state;
	fx *f = fx_new();
	char id[32], needs[64];
	uint64_t seed = 42;
	for (int i = 0; i < 2000; i++) {
		snprintf(id, sizeof id, "s%d", i);
		needs[0] = 0;
		for (int k = 0; k < 3 && i > 0; k++) {
			seed = seed * 6364136223846793005u + 1442695040888963407u;
			size_t len = strlen(needs);
			snprintf(needs + len, sizeof needs - len, "%ss%d", k ? ", " : "", (int)((seed >> 33) % (uint64_t)i));
		}
		step(f, dr_arena_strdup(f->a, id), i % 10 ? "check.http" : "log", NULL, needs);
	}
	clock_t t0 = clock();
	dr_plan *p = build(f);
	double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
	assert_true(secs < 1.0);
	assert_true(p->acyclic);
	assert_int_equal(dr_diags_count(f->d), 0);
	for (size_t k = 0; k < p->n; k++) /* order is topological */
		for (size_t d = 0; d < p->nodes[p->order[k]].n_deps; d++)
			assert_true(dr_plan_precedes(p, p->nodes[p->order[k]].deps[d], p->order[k]));
	fx_free(f);
}

/* Brute force: reach[b * n + a] when b needs a through a path (Floyd-Warshall style closure). */
static unsigned char *closure(const dr_plan *p)
{
	size_t n = p->n;
	unsigned char *r = calloc(n * n, 1);
	for (size_t b = 0; b < n; b++)
		for (size_t d = 0; d < p->nodes[b].n_deps; d++)
			r[b * n + p->nodes[b].deps[d]] = 1;
	for (size_t k = 0; k < n; k++)
		for (size_t b = 0; b < n; b++)
			if (r[b * n + k])
				for (size_t a = 0; a < n; a++)
					r[b * n + a] |= r[k * n + a];
	return r;
}

typedef struct seen {
	unsigned char *hit;
	size_t calls;
} seen;

static bool note(void *ctx, size_t u)
{
	seen *s = ctx;
	s->hit[u]++;
	s->calls++;
	return true;
}

/* Random graphs, some with cycles: precedes, each_ancestor and ancestor_flags agree with a closure. */
static void test_reachability_matches_closure(void **state)
{
	(void)state;
	uint64_t seed = 7;
	for (int round = 0; round < 40; round++) {
		fx *f = fx_new();
		int n = 5 + round * 2;
		char id[32], needs[128];
		for (int i = 0; i < n; i++) {
			snprintf(id, sizeof id, "s%d", i);
			needs[0] = 0;
			for (int k = 0; k < 3; k++) {
				seed = seed * 6364136223846793005u + 1442695040888963407u;
				int j = (int)((seed >> 33) % (uint64_t)n);
				bool back = round % 3 == 0 || j < i; /* a third of the rounds may close cycles */
				size_t len = strlen(needs);
				if (j != i && back)
					snprintf(needs + len, sizeof needs - len, "%ss%d", len ? ", " : "", j);
			}
			const char *act = i % 7 == 3 ? "dr.commit" : i % 5 == 1 ? "dr.failover" : "log";
			step(f, dr_arena_strdup(f->a, id), act, NULL, dr_arena_strdup(f->a, needs));
		}
		dr_plan *p = build(f);
		unsigned char *r = closure(p);
		for (size_t b = 0; b < p->n; b++) {
			unsigned flags = 0;
			seen s = {.hit = calloc(p->n, 1)};
			dr_plan_each_ancestor(p, b, note, &s);
			for (size_t a = 0; a < p->n; a++) {
				assert_int_equal(dr_plan_precedes(p, a, b), r[b * p->n + a]);
				assert_int_equal(s.hit[a], r[b * p->n + a]); /* each ancestor once, nothing else */
				if (r[b * p->n + a])
					flags |= p->nodes[a].step->action->flags;
			}
			assert_int_equal(dr_plan_ancestor_flags(p, b), flags);
			free(s.hit);
		}
		free(r);
		fx_free(f);
	}
}

/* A 50,000-step chain: every step precedes the last; memory stays linear (no n x n table). */
static void test_long_chain_reachability(void **state)
{
	(void)state;
	fx *f = fx_new();
	enum { N = 50000 };
	f->rb->steps = dr_arena_calloc(f->a, N, sizeof(dr_step));
	char id[32], need[32];
	for (int i = 0; i < N; i++) {
		snprintf(id, sizeof id, "s%d", i);
		snprintf(need, sizeof need, "s%d", i - 1);
		step(f, dr_arena_strdup(f->a, id), i == N / 2 ? "dr.commit" : "log", NULL,
		     i ? dr_arena_strdup(f->a, need) : NULL);
	}
	dr_plan *p = build(f);
	assert_true(p->acyclic);
	assert_true(dr_plan_precedes(p, 0, N - 1));
	assert_true(dr_plan_precedes(p, N / 2, N - 1));
	assert_false(dr_plan_precedes(p, N - 1, 0));
	assert_int_equal(dr_plan_ancestor_flags(p, N - 1) & DR_AF_COMMIT, DR_AF_COMMIT);
	assert_int_equal(dr_plan_ancestor_flags(p, N / 2) & DR_AF_COMMIT, 0);
	seen s = {.hit = calloc(N, 1)};
	dr_plan_each_descendant(p, N / 2, note, &s);
	assert_int_equal(s.calls, N - N / 2 - 1);
	free(s.hit);
	fx_free(f);
}

/* --- graph output ----------------------------------------------------- */

static fx *sample(void)
{
	fx *f = fx_new();
	vm_sets(f, "db, web");
	step(f, "failover-db", "dr.failover", "db", NULL);
	step(f, "db-up", "check.tcp", "db", "failover-db")->foreach = true;
	step(f, "go", "approve", NULL, "db-up");
	step(f, "commit", "dr.commit", "db", "go");
	step(f, "x.\"quoted\"", "log", NULL, "commit");
	fin(f, "tell", "notify.webhook", NULL, NULL);
	build(f);
	return f;
}

static char *graph(const fx *f, dr_graph_format fmt)
{
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	dr_plan_print_graph(f->p, fmt, m);
	fclose(m);
	return out;
}

static void test_graph_mermaid(void **state)
{
	(void)state;
	fx *f = sample();
	char *s = graph(f, DR_GRAPH_MERMAID);
	assert_true(strncmp(s, "flowchart TD\n", 13) == 0);
	assert_non_null(strstr(s, "    n0[\"failover-db<br/>dr.failover<br/>targets: db\"]\n"));
	assert_non_null(strstr(s, "    n1([\"db-up<br/>check.tcp<br/>foreach: db\"])\n"));
	assert_non_null(strstr(s, "    n2{{\"go<br/>approve\"}}\n"));
	assert_non_null(strstr(s, "x.#quot;quoted#quot;"));
	assert_non_null(strstr(s, "    subgraph finally [\"finally (always runs)\"]\n        n5[\"tell<br/>notify.webhook\"]\n    end\n"));
	assert_non_null(strstr(s, "    n0 --> n1\n"));
	assert_non_null(strstr(s, "    class n3 irreversible\n"));
	free(s);
	fx_free(f);
}

static void test_graph_dot_renders(void **state)
{
	(void)state;
	fx *f = sample();
	char *s = graph(f, DR_GRAPH_DOT);
	assert_true(strncmp(s, "digraph \"test-plan\" {\n", 22) == 0);
	assert_non_null(strstr(s, "    \"failover-db\" -> \"db-up\";\n"));
	assert_non_null(strstr(s, "\"x.\\\"quoted\\\"\" [label=\"x.\\\"quoted\\\"\\nlog\"];"));
	assert_non_null(strstr(s, "subgraph \"cluster_finally\""));
	assert_non_null(strstr(s, "penwidth=3"));
	if (access("/usr/bin/dot", X_OK) == 0 || system("command -v dot >/dev/null 2>&1") == 0) {
		FILE *dot = popen("dot -Tsvg -o /dev/null", "w");
		assert_non_null(dot);
		fputs(s, dot);
		assert_int_equal(pclose(dot), 0);
	}
	free(s);
	fx_free(f);
}

static void test_graph_json(void **state)
{
	(void)state;
	fx *f = sample();
	char *s = graph(f, DR_GRAPH_JSON);
	cJSON *j = cJSON_Parse(s);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "name")->valuestring, "test-plan");
	cJSON *nodes = cJSON_GetObjectItem(j, "nodes");
	assert_int_equal(cJSON_GetArraySize(nodes), 6);
	cJSON *commit = cJSON_GetArrayItem(nodes, 3);
	assert_string_equal(cJSON_GetObjectItem(commit, "id")->valuestring, "commit");
	assert_int_equal(cJSON_GetObjectItem(commit, "level")->valueint, 3);
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(commit, "needs"), 0)->valuestring, "go");
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(commit, "flags"), 1)->valuestring, "irreversible");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(nodes, 5), "finally")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "edges")), 4);
	cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "edges"), 0);
	assert_string_equal(cJSON_GetObjectItem(e, "from")->valuestring, "failover-db");
	assert_string_equal(cJSON_GetObjectItem(e, "to")->valuestring, "db-up");
	cJSON_Delete(j);
	free(s);
	fx_free(f);
}

static void test_empty_runbook(void **state)
{
	(void)state;
	fx *f = fx_new();
	dr_plan *p = build(f);
	assert_int_equal(p->n, 0);
	assert_true(p->acyclic);
	char *s = graph(f, DR_GRAPH_DOT);
	assert_string_equal(s, "digraph \"test-plan\" {\n    graph [rankdir=TB, fontname=\"Helvetica\"];\n"
			       "    node [shape=box, fontname=\"Helvetica\"];\n    edge [fontname=\"Helvetica\"];\n}\n");
	free(s);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chain_order_levels),
		cmocka_unit_test(test_reachability_matches_closure),
		cmocka_unit_test(test_long_chain_reachability),
		cmocka_unit_test(test_order_stable_by_declaration),
		cmocka_unit_test(test_unknown_need_suggests),
		cmocka_unit_test(test_self_and_repeated_needs),
		cmocka_unit_test(test_cycle_reported_once),
		cmocka_unit_test(test_two_cycles),
		cmocka_unit_test(test_needs_across_finally),
		cmocka_unit_test(test_reprotect_needs_commit),
		cmocka_unit_test(test_untargeted_commit_covers_all),
		cmocka_unit_test(test_commit_needs_validation),
		cmocka_unit_test(test_approve_is_not_validation),
		cmocka_unit_test(test_rollback_after_commit),
		cmocka_unit_test(test_rollback_list_across_commit),
		cmocka_unit_test(test_failback_rollback_allowed),
		cmocka_unit_test(test_run_level_rollback_warns),
		cmocka_unit_test(test_drill_cleanup_in_finally),
		cmocka_unit_test(test_drill_cleanup_missing),
		cmocka_unit_test(test_drill_without_any_cleanup),
		cmocka_unit_test(test_pipeline_targets),
		cmocka_unit_test(test_output_reads),
		cmocka_unit_test(test_yaml_reads_and_rollback_reads),
		cmocka_unit_test(test_yaml_valid_flow_is_quiet),
		cmocka_unit_test(test_two_thousand_steps_fast),
		cmocka_unit_test(test_graph_mermaid),
		cmocka_unit_test(test_graph_dot_renders),
		cmocka_unit_test(test_graph_json),
		cmocka_unit_test(test_empty_runbook),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
