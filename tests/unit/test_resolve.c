/*
 * test_resolve.c - resolve: use: expansion of composites and the scopes
 * ${...} are checked in.
 *
 * Runbooks are YAML strings run through the real loader and checker; the
 * composites live in a temporary stdlib directory made by the group setup.
 * Expectations name a code, a line:col and part of the message.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "fixture.h"
#include "front/expr.h"
#include "front/runbook.h"

static const char *stdlib_dir; /* fx_stdlib(composites) */

static const fx_file composites[] = {
	{"tier", "drover: 1\n"
		 "composite: tier\n"
		 "description: fail a tier over and check it\n"
		 "inputs:\n"
		 "  vms: { type: string }\n"
		 "  port: { type: int, default: 22 }\n"
		 "steps:\n"
		 "  - id: failover\n"
		 "    action: dr.failover\n"
		 "    targets: \"${inputs.vms}\"\n"
		 "  - id: up\n"
		 "    action: check.tcp\n"
		 "    foreach: \"${inputs.vms}\"\n"
		 "    needs: failover\n"
		 "    with: { host: \"${target.recovery_ip}\", port: \"${inputs.port}\" }\n"
		 "  - id: say\n"
		 "    action: log\n"
		 "    needs: up\n"
		 "    with: { message: \"${steps.up.status} on ${inputs.vms}\" }\n"},
	{"outer", "drover: 1\n"
		  "composite: outer\n"
		  "inputs:\n"
		  "  sets: { type: string }\n"
		  "steps:\n"
		  "  - id: pre\n"
		  "    action: log\n"
		  "    with: { message: \"pre ${inputs.sets}\" }\n"
		  "  - id: t\n"
		  "    use: tier\n"
		  "    needs: pre\n"
		  "    with: { vms: \"${inputs.sets}\" }\n"
		  "  - id: post\n"
		  "    action: log\n"
		  "    needs: t\n"
		  "    with: { message: \"${steps.t.say.status}\" }\n"},
	{"loop-a", "drover: 1\ncomposite: loop-a\nsteps:\n  - id: x\n    use: loop-b\n"},
	{"loop-b", "drover: 1\ncomposite: loop-b\nsteps:\n  - id: y\n    use: loop-a\n"},
	{"broken", "drover: 1\n"
		   "composite: broken\n"
		   "steps:\n"
		   "  - id: b\n"
		   "    action: log\n"
		   "    with: { message: \"${inputs.nope}\" }\n"},
	{"gated", "drover: 1\n"
		  "composite: gated\n"
		  "inputs:\n"
		  "  after: { type: string }\n"
		  "  vms: { type: string }\n"
		  "steps:\n"
		  "  - id: wait\n"
		  "    action: log\n"
		  "    needs: \"${inputs.after}\"\n"
		  "    with: { message: waiting }\n"
		  "  - id: go\n"
		  "    action: dr.failover\n"
		  "    targets: ${inputs.vms}\n"
		  "    needs: wait\n"
		  "    rollback:\n"
		  "      - id: undo\n"
		  "        action: log\n"
		  "        with: { message: \"undo ${steps.go.status}\" }\n"},
	{"typo", "drover: 1\n"
		 "composite: typo\n"
		 "steps:\n"
		 "  - id: alphabet\n"
		 "    action: log\n"
		 "    with: { message: hi }\n"
		 "  - id: reader\n"
		 "    action: log\n"
		 "    needs: alphabet\n"
		 "    with: { message: \"${steps.alphabat.status}\" }\n"},
	{"plain", "drover: 1\nname: plain\nsteps:\n  - id: p\n    action: log\n    with: { message: hi }\n"},
	{"guarded", "drover: 1\n"
		    "composite: guarded\n"
		    "steps:\n"
		    "  - id: g\n"
		    "    action: log\n"
		    "    when: \"${run.mode == 'drill'}\"\n"
		    "    with: { message: hi }\n"},
};

static int make_stdlib(void **state)
{
	(void)state;
	stdlib_dir = fx_stdlib(composites, sizeof composites / sizeof composites[0]);
	return 0;
}

typedef struct fx {
	dr_arena *a;
	dr_diags *d;
	dr_runbook *rb;
} fx;

/* Load, check and resolve text; the front end's first three stages. */
static fx compile(const char *text, const char *lib)
{
	fx f = {.a = dr_arena_new(), .d = dr_diags_new()};
	dr_node *root = dr_load_string(f.a, f.d, "rb.yaml", text, strlen(text), NULL);
	assert_non_null(root);
	f.rb = dr_check(f.a, f.d, root, "rb.yaml");
	dr_resolve(f.rb, f.d, lib);
	return f;
}

static void done(fx *f)
{
	dr_diags_free(f->d);
	dr_arena_free(f->a);
}

static void dump(const fx *f)
{
	for (size_t i = 0; i < dr_diags_count(f->d); i++) {
		const dr_diag *g = dr_diags_get(f->d, i);
		fprintf(stderr, "  %s:%d:%d %s %s%s%s\n", g->loc.file, g->loc.line, g->loc.col, dr_code_id(g->code),
			g->msg, g->hint ? " | hint: " : "", g->hint ? g->hint : "");
	}
}

/* The diagnostics must be exactly these, in any order (file NULL: rb.yaml). */
typedef struct want {
	dr_code code;
	const char *file;
	int line, col;
	const char *msg, *hint;
} want;

static bool matches(const dr_diag *g, const want *w)
{
	const char *file = w->file ? w->file : "rb.yaml";
	size_t fl = strlen(g->loc.file), wl = strlen(file);
	return g->code == w->code && g->loc.line == w->line && g->loc.col == w->col && fl >= wl &&
	       strcmp(g->loc.file + fl - wl, file) == 0 && strstr(g->msg, w->msg) &&
	       (!w->hint || (g->hint && strstr(g->hint, w->hint)));
}

static void expect(const fx *f, const want *w, size_t n)
{
	bool ok = dr_diags_count(f->d) == n;
	for (size_t i = 0; ok && i < n; i++) {
		bool found = false;
		for (size_t k = 0; k < dr_diags_count(f->d) && !found; k++)
			found = matches(dr_diags_get(f->d, k), &w[i]);
		if (!found) {
			fprintf(stderr, "missing: %s %d:%d %s\n", dr_code_id(w[i].code), w[i].line, w[i].col, w[i].msg);
			ok = false;
		}
	}
	if (!ok) {
		fprintf(stderr, "got %zu diagnostics, want %zu:\n", dr_diags_count(f->d), n);
		dump(f);
		fail();
	}
}

#define EXPECT(f, ...)                                                    \
	do {                                                              \
		const want w_[] = {__VA_ARGS__};                          \
		expect(f, w_, sizeof w_ / sizeof w_[0]);                  \
	} while (0)

#define HEAD                                                                              \
	"drover: 1\n"                                                                     \
	"name: t\n"                                                                       \
	"params:\n"                                                                       \
	"  n: { type: int, default: 3 }\n"                                                \
	"  url: { type: string, default: \"http://x\" }\n"                                \
	"  go: { type: bool, default: true }\n"                                           \
	"  wait: { type: duration, default: 5m }\n"                                       \
	"secrets:\n"                                                                      \
	"  tok: { env: TOK }\n"                                                           \
	"vm_sets:\n"                                                                      \
	"  db: { match: { name: \"^db\" } }\n"                                            \
	"  app: { match: { name: \"^app\" } }\n"                                          \
	"steps:\n"                                                                        \
	"  - id: first\n"                                                                 \
	"    action: log\n"                                                               \
	"    with: { message: start }\n"
/* HEAD is 16 lines: the cases' own steps start on line 17. */

/* ------------------------------------------------------------- the scopes */

static const dr_template *with_template(const dr_runbook *rb, const char *step, const char *key)
{
	const dr_step *s = dr_runbook_step(rb, step);
	assert_non_null(s);
	const dr_node *v = dr_node_get(s->with, key);
	assert_non_null(v);
	return dr_node_template(v);
}

static void test_types(void **state)
{
	(void)state;
	fx f = compile(HEAD "  - id: s\n"
			    "    action: log\n"
			    "    foreach: db\n"
			    "    needs: first\n"
			    "    with:\n"
			    "      message: \"${params.n}\"\n"
			    "      a: \"${params.url}\"\n"
			    "      b: \"${params.go}\"\n"
			    "      c: \"${params.wait}\"\n"
			    "      d: \"${secrets.tok}\"\n"
			    "      e: \"${env.HOME}\"\n"
			    "      f: \"${steps.first.outputs}\"\n"
			    "      g: \"${steps.first.outputs.x[0]}\"\n"
			    "      h: \"${steps.first.status}\"\n"
			    "      i: \"${target.tags.tier}\"\n"
			    "      j: \"${target.tags}\"\n"
			    "      k: \"${run.elapsed} ${recovery.age}\"\n"
			    "      l: \"${params.n > 2 && target.name =~ '^db-'}\"\n",
		       NULL);
	static const struct { const char *key; dr_vtype type; } cases[] = {
		{"message", DR_VT_NUMBER}, {"a", DR_VT_STRING}, {"b", DR_VT_BOOL}, {"c", DR_VT_STRING},
		{"d", DR_VT_STRING},	   {"e", DR_VT_STRING}, {"f", DR_VT_MAP},  {"g", DR_VT_ANY},
		{"h", DR_VT_STRING},	   {"i", DR_VT_STRING}, {"j", DR_VT_MAP},  {"l", DR_VT_BOOL},
	};
	/* only warnings: the log prints a secret, and log has no inputs a..l (checker) */
	for (size_t i = 0; i < dr_diags_count(f.d); i++) {
		const dr_diag *g = dr_diags_get(f.d, i);
		if (g->code != DR307 && g->code != DR203)
			dump(&f), fail();
	}
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const dr_template *t = with_template(f.rb, "s", cases[i].key);
		assert_non_null(t);
		assert_true(t->whole);
		if (t->parts[0].expr->type != cases[i].type)
			fail_msg("%s: %s", cases[i].key, dr_vtype_name(t->parts[0].expr->type));
	}
	assert_false(with_template(f.rb, "s", "k")->whole);
	done(&f);
}

static void test_unknown_references(void **state)
{
	(void)state;
	fx f = compile(HEAD "  - id: s\n"
			    "    action: log\n"
			    "    foreach: db\n"
			    "    with: { message: \"${params.nn}${secret.tok}${steps.frist.status}${steps.first.statu}\" }\n"
			    "  - id: t\n"
			    "    action: log\n"
			    "    foreach: db\n"
			    "    with: { message: \"${target.nam}${run.bogus}${recovery.point.x}${target.tags.a.b}\" }\n"
			    "  - id: u\n"
			    "    action: log\n"
			    "    with: { message: \"${inputs.x}${steps}${steps.first}${params.n.x}${env}\" }\n",
		       NULL);
	EXPECT(&f, {DR302, NULL, 20, 32, "unknown parameter 'nn'", "'n'"},
	       {DR302, NULL, 20, 37, "unknown name 'secret'", "'secrets'"},
	       {DR302, NULL, 20, 56, "unknown step 'frist'", "'first'"},
	       {DR302, NULL, 20, 83, "steps.first has no field 'statu'", "'status'"},
	       {DR302, NULL, 24, 32, "target has no field 'nam'", "'name'"},
	       {DR302, NULL, 24, 42, "run has no field 'bogus'", NULL},
	       {DR302, NULL, 24, 65, "recovery.point is a string", NULL},
	       {DR302, NULL, 24, 83, "target.tags.KEY is a string", NULL},
	       {DR302, NULL, 27, 25, "only available inside a composite", NULL},
	       {DR302, NULL, 27, 36, "steps needs a name", NULL},
	       {DR302, NULL, 27, 50, "steps.first needs a field: outputs, status", NULL},
	       {DR302, NULL, 27, 67, "params.n is a number; it has no fields", NULL},
	       {DR302, NULL, 27, 71, "env needs a name", NULL});
	done(&f);
}

static void test_types_and_conditions(void **state)
{
	(void)state;
	fx f = compile(HEAD "  - id: s\n"
			    "    action: log\n"
			    "    when: \"${params.n < 'x'}\"\n"
			    "    with: { message: \"${!params.url}\" }\n"
			    "  - id: t\n"
			    "    action: log\n"
			    "    when: \"${params.url}\"\n"
			    "    with: { message: hi }\n"
			    "  - id: u\n"
			    "    action: log\n"
			    "    when: \"go ${params.go}\"\n"
			    "    with: { message: \"${params.url =~ 'a(b'}\" }\n"
			    "  - id: v\n"
			    "    action: log\n"
			    "    when: \"${params.go && steps.first.status == 'ok'}\"\n"
			    "    with: { message: \"${params.n\" }\n",
		       NULL);
	EXPECT(&f, {DR303, NULL, 19, 14, "'<' compares a number with a string", NULL},
	       {DR303, NULL, 20, 26, "'!' needs a boolean, but this is a string", NULL},
	       {DR303, NULL, 23, 11, "when: must be a boolean, but this is a string", NULL},
	       {DR303, NULL, 27, 11, "when: must be a boolean", "text around"},
	       {DR211, NULL, 28, 43, "missing closing parenthesis", NULL},
	       {DR301, NULL, 32, 23, "unterminated ${", NULL});
	done(&f);
}

static void test_target_outside_fanout(void **state)
{
	(void)state;
	fx f = compile(HEAD "  - id: s\n"
			    "    action: log\n"
			    "    with: { message: \"on ${target.name}\" }\n"
			    "  - id: t\n"
			    "    action: log\n"
			    "    targets: [db, app]\n"
			    "    with: { message: \"on ${target.name}\" }\n",
		       NULL);
	EXPECT(&f, {DR304, NULL, 19, 28, "step 's', which has no targets", "foreach:"});
	done(&f);
}

static void test_secret_in_log(void **state)
{
	(void)state;
	fx f = compile(HEAD "  - id: s\n"
			    "    action: log\n"
			    "    with: { message: \"token ${secrets.tok}\" }\n"
			    "  - id: t\n"
			    "    action: notify.webhook\n"
			    "    with: { url: \"${secrets.tok}\", text: hi }\n",
		       NULL);
	EXPECT(&f, {DR307, NULL, 19, 31, "secret 'tok' is written to the log", NULL});
	assert_int_equal(dr_diags_get(f.d, 0)->sev, DR_SEV_WARNING);
	done(&f);
}

static void test_recovery_point(void **state)
{
	(void)state;
	fx f = compile("drover: 1\n"
		       "name: t\n"
		       "params:\n"
		       "  p: { type: string, default: latest }\n"
		       "  n: { type: int, default: 1 }\n"
		       "recovery:\n"
		       "  point: \"${steps.a.status}${recovery.age}${target.name}${params.p}\"\n"
		       "steps:\n"
		       "  - id: a\n"
		       "    action: log\n"
		       "    with: { message: hi }\n",
		       NULL);
	EXPECT(&f, {DR302, NULL, 7, 13, "steps.* cannot be used in recovery: (point, id)", NULL},
	       {DR302, NULL, 7, 30, "recovery.* cannot be used in recovery: itself", NULL},
	       {DR304, NULL, 7, 45, "target.* is used outside a step", NULL});
	done(&f);
	f = compile("drover: 1\nname: t\nparams:\n  n: { type: int, default: 1 }\n"
		    "recovery:\n  point: \"${params.n}\"\n"
		    "steps:\n  - id: a\n    action: log\n    with: { message: hi }\n",
		    NULL);
	EXPECT(&f, {DR303, NULL, 6, 10, "recovery.point must be a string, but this is a number", NULL});
	done(&f);
}

/* --------------------------------------------------------------- use: */

static const dr_step *step_at(const dr_runbook *rb, size_t i) { return &rb->steps[i]; }

static void assert_needs(const dr_step *s, const char *const *ids)
{
	size_t n = 0;
	while (ids[n])
		n++;
	if (s->n_needs != n)
		fail_msg("%s: %zu needs, want %zu", s->id.name, s->n_needs, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(s->needs[i].name, ids[i]);
}

static void test_expansion(void **state)
{
	(void)state;
	fx f = compile(HEAD "  - id: dbs\n"
			    "    use: tier\n"
			    "    needs: first\n"
			    "    timeout: 10m\n"
			    "    with: { vms: db, port: 5432 }\n"
			    "  - id: last\n"
			    "    action: log\n"
			    "    needs: dbs\n"
			    "    with: { message: \"${steps.dbs.up.outputs.x} ${steps['dbs.say'].status}\" }\n",
		       stdlib_dir);
	expect(&f, NULL, 0);
	const dr_runbook *rb = f.rb;
	assert_int_equal(rb->n_steps, 5);
	static const char *const ids[] = {"first", "dbs.failover", "dbs.up", "dbs.say", "last"};
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(step_at(rb, i)->id.name, ids[i]);
	assert_needs(step_at(rb, 1), (const char *[]){"first", NULL});
	assert_needs(step_at(rb, 2), (const char *[]){"dbs.failover", NULL});
	assert_needs(step_at(rb, 3), (const char *[]){"dbs.up", NULL});
	assert_needs(step_at(rb, 4), (const char *[]){"dbs.say", NULL});
	const dr_step *up = step_at(rb, 2);
	assert_true(up->foreach);
	assert_int_equal(up->n_targets, 1);
	assert_string_equal(up->targets[0].name, "db");
	assert_int_equal(dr_ref_loc(&up->targets[0]).line, 21); /* where the user wrote it */
	assert_string_equal(up->from_composite, "dbs");
	assert_non_null(up->composite_with);
	assert_int_equal(up->timeout_ms, 600000); /* inherited from the use step */
	assert_null(step_at(rb, 0)->from_composite);
	/* inside the composite, steps.up is the sibling: the path names the full id */
	const dr_node *msg = dr_node_get(step_at(rb, 3)->with, "message");
	const dr_expr *ref = ((const dr_template *)dr_node_template(msg))->parts[0].expr;
	assert_int_equal(ref->u.ref.n, 3);
	assert_string_equal(ref->u.ref.path[1], "dbs.up");
	/* a dotted id written with dots is one path segment afterwards */
	const dr_template *t = dr_node_template(dr_node_get(step_at(rb, 4)->with, "message"));
	ref = t->parts[0].expr;
	assert_int_equal(ref->u.ref.n, 4);
	assert_string_equal(ref->u.ref.path[1], "dbs.up");
	assert_string_equal(ref->u.ref.path[2], "outputs");
	assert_int_equal(ref->u.ref.seg_len[1], 6);
	assert_string_equal(t->parts[2].expr->u.ref.path[1], "dbs.say");
	done(&f);
}

static void test_nested_expansion(void **state)
{
	(void)state;
	fx f = compile(HEAD "  - id: apps\n"
			    "    use: outer\n"
			    "    needs: first\n"
			    "    with: { sets: [app, db] }\n"
			    "  - id: last\n"
			    "    action: log\n"
			    "    needs: [apps]\n"
			    "    with: { message: done }\n",
		       stdlib_dir);
	EXPECT(&f, {DR306, NULL, 20, 25, "step 'apps.t.up' has foreach", NULL});
	done(&f);
	f = compile(HEAD "  - id: apps\n"
			 "    use: outer\n"
			 "    needs: first\n"
			 "    with: { sets: app }\n"
			 "  - id: last\n"
			 "    action: log\n"
			 "    needs: [apps]\n"
			 "    with: { message: done }\n",
		    stdlib_dir);
	expect(&f, NULL, 0);
	const dr_runbook *rb = f.rb;
	static const char *const ids[] = {"first", "apps.pre", "apps.t.failover", "apps.t.up", "apps.t.say",
					  "apps.post", "last"};
	assert_int_equal(rb->n_steps, 7);
	for (size_t i = 0; i < 7; i++)
		assert_string_equal(step_at(rb, i)->id.name, ids[i]);
	assert_needs(step_at(rb, 1), (const char *[]){"first", NULL});
	assert_needs(step_at(rb, 2), (const char *[]){"apps.pre", NULL});
	assert_needs(step_at(rb, 5), (const char *[]){"apps.t.say", NULL});
	assert_needs(step_at(rb, 6), (const char *[]){"apps.post", NULL});
	assert_string_equal(step_at(rb, 3)->targets[0].name, "app");
	assert_string_equal(step_at(rb, 3)->from_composite, "apps.t");
	assert_string_equal(step_at(rb, 1)->from_composite, "apps");
	const dr_template *t = dr_node_template(dr_node_get(step_at(rb, 5)->with, "message"));
	assert_string_equal(t->parts[0].expr->u.ref.path[1], "apps.t.say");
	done(&f);
}

/* needs: from an input (outer ids, not renamed), rollback steps renamed, finally: expanded too. */
static void test_needs_input_rollback_finally(void **state)
{
	(void)state;
	fx f = compile(HEAD "  - id: b\n"
			    "    action: log\n"
			    "    with: { message: b }\n"
			    "  - id: g\n"
			    "    use: gated\n"
			    "    needs: first\n"
			    "    with: { after: [b], vms: [db, app] }\n"
			    "finally:\n"
			    "  - id: f\n"
			    "    use: tier\n"
			    "    with: { vms: db }\n"
			    "  - id: z\n"
			    "    action: log\n"
			    "    needs: f\n"
			    "    with: { message: \"${steps.f.say.status}\" }\n",
		       stdlib_dir);
	expect(&f, NULL, 0);
	const dr_step *wait = dr_runbook_step(f.rb, "g.wait");
	assert_non_null(wait);
	assert_needs(wait, (const char *[]){"b", "first", NULL});
	const dr_step *go = dr_runbook_step(f.rb, "g.go");
	assert_int_equal(go->n_targets, 2);
	assert_int_equal(go->n_rollback, 1);
	assert_string_equal(go->rollback[0].id.name, "g.undo");
	assert_string_equal(go->rollback[0].from_composite, "g");
	const dr_template *t = dr_node_template(dr_node_get(go->rollback[0].with, "message"));
	assert_string_equal(t->parts[1].expr->u.ref.path[1], "g.go");
	assert_int_equal(f.rb->n_finally, 4);
	assert_true(dr_runbook_step(f.rb, "f.up")->in_finally);
	assert_needs(dr_runbook_step(f.rb, "z"), (const char *[]){"f.say", NULL});
	done(&f);
}

/* A composite used twice reports its own problems once. */
static void test_repeated_use_reports_once(void **state)
{
	(void)state;
	fx f = compile(HEAD "  - id: a\n    use: broken\n  - id: b\n    use: broken\n", stdlib_dir);
	EXPECT(&f, {DR302, "broken.yaml", 6, 32, "composite 'broken' has no input 'nope'", NULL});
	done(&f);
}

/*
 * A misspelt sibling inside a composite is suggested from that composite's
 * own steps (found by the sorted ids' prefix), not from the runbook's.
 */
static void test_composite_sibling_suggestion(void **state)
{
	(void)state;
	fx f = compile(HEAD "  - id: alphabat\n"
			    "    action: log\n"
			    "    with: { message: top }\n"
			    "  - id: a\n"
			    "    use: typo\n"
			    "  - id: b\n"
			    "    use: typo\n",
		       stdlib_dir);
	EXPECT(&f, {DR302, "typo.yaml", 10, 31, "composite 'typo' has no step 'alphabat'", "'alphabet'"});
	done(&f);
}

static void test_composite_errors(void **state)
{
	(void)state;
	fx f = compile(HEAD "  - id: a\n"
			    "    use: teir\n"
			    "  - id: b\n"
			    "    use: tier\n"
			    "    with: { vms: dbx, prot: 1 }\n"
			    "  - id: c\n"
			    "    use: tier\n"
			    "    with: { port: abc }\n"
			    "  - id: d\n"
			    "    use: loop-a\n"
			    "  - id: e\n"
			    "    use: plain\n"
			    "  - id: f\n"
			    "    use: tier\n"
			    "    targets: db\n"
			    "    with: { vms: \"${params.url}\" }\n",
		       stdlib_dir);
	EXPECT(&f, {DR305, NULL, 18, 10, "unknown composite 'teir'", "'tier'"},
	       {DR212, NULL, 21, 18, "step 'b.failover' targets VM set 'dbx'", "'db'"},
	       {DR212, NULL, 21, 18, "step 'b.up' targets VM set 'dbx'", "'db'"},
	       {DR306, NULL, 21, 23, "composite 'tier' has no input 'prot'", "'port'"},
	       {DR306, NULL, 23, 10, "composite 'tier' needs input 'vms'", NULL},
	       {DR306, NULL, 24, 19, "input 'port' of composite 'tier' must be an integer", NULL},
	       {DR305, "loop-b.yaml", 5, 10, "composite recursion: loop-a -> loop-b -> loop-a", NULL},
	       {DR305, NULL, 28, 10, "'plain' is not a composite action", NULL},
	       {DR306, NULL, 31, 14, "targets: on a use: step has no effect", NULL},
	       {DR306, NULL, 32, 18, "is used as VM set names, so it must be a literal name", NULL});
	done(&f);
}

static void test_no_stdlib(void **state)
{
	(void)state;
	fx f = compile(HEAD "  - id: a\n    use: tier\n", NULL);
	EXPECT(&f, {DR305, NULL, 18, 10, "there is no stdlib directory", "--stdlib"});
	assert_string_equal(step_at(f.rb, 1)->id.name, "a"); /* left as it was */
	done(&f);
}

static void test_use_when(void **state)
{
	(void)state;
	fx f = compile(HEAD "  - id: a\n"
			    "    use: tier\n"
			    "    when: \"${params.go}\"\n"
			    "    with: { vms: db }\n"
			    "  - id: b\n"
			    "    use: guarded\n"
			    "    when: \"${params.go}\"\n",
		       stdlib_dir);
	EXPECT(&f, {DR306, NULL, 23, 11, "cannot be combined with the when: of its step 'g'", NULL});
	for (size_t i = 1; i <= 3; i++)
		assert_int_equal(step_at(f.rb, i)->when->line, 19);
	done(&f);
}

/* A composite validated on its own: inputs.* are its own, targets stay placeholders. */
static void test_composite_file(void **state)
{
	(void)state;
	fx f = compile(composites[0].text, NULL);
	expect(&f, NULL, 0);
	assert_true(f.rb->is_composite);
	done(&f);
	f = compile("drover: 1\ncomposite: c\ninputs:\n  a: { type: int }\nsteps:\n"
		    "  - id: s\n    action: log\n    with: { message: \"${inputs.b}${params.x}${inputs.a < 'z'}\" }\n",
		    NULL);
	EXPECT(&f, {DR302, NULL, 8, 32, "composite 'c' has no input 'b'", NULL},
	       {DR302, NULL, 8, 36, "params.* cannot be used inside composite 'c'", "as an input"},
	       {DR303, NULL, 8, 47, "'<' compares a number with a string", NULL});
	done(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_types),
		cmocka_unit_test(test_unknown_references),
		cmocka_unit_test(test_types_and_conditions),
		cmocka_unit_test(test_target_outside_fanout),
		cmocka_unit_test(test_secret_in_log),
		cmocka_unit_test(test_recovery_point),
		cmocka_unit_test(test_expansion),
		cmocka_unit_test(test_nested_expansion),
		cmocka_unit_test(test_needs_input_rollback_finally),
		cmocka_unit_test(test_repeated_use_reports_once), cmocka_unit_test(test_composite_sibling_suggestion),
		cmocka_unit_test(test_composite_errors),
		cmocka_unit_test(test_no_stdlib),
		cmocka_unit_test(test_use_when),
		cmocka_unit_test(test_composite_file),
	};
	return cmocka_run_group_tests(tests, make_stdlib, NULL);
}
