/*
 * test_graphdiff.c - `drover graph --diff`: which steps and edges are added,
 * removed or changed, what a change names, where removed steps are drawn,
 * and the four printed forms.
 *
 * Runbooks are YAML strings run through the real front end (load, check,
 * resolve, plan); composites live in a temporary stdlib directory made by
 * the group setup. Most cases are rows: an old and a new version of one
 * step and the fields the diff must name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "fixture.h"
#include "views/graphdiff.h"
#include "front/runbook.h"

static const char *stdlib_dir; /* fx_stdlib(composites) */

static const fx_file composites[] = {
	{"tier", "drover: 1\n"
		 "composite: tier\n"
		 "inputs:\n"
		 "  vms: { type: string }\n"
		 "  port: { type: int, default: 22 }\n"
		 "  note: { type: string, default: hello }\n"
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
		 "    with: { message: \"${inputs.note}\" }\n"},
	/* tier without its middle step */
	{"tier2", "drover: 1\n"
		  "composite: tier2\n"
		  "inputs:\n"
		  "  vms: { type: string }\n"
		  "  note: { type: string, default: hello }\n"
		  "steps:\n"
		  "  - id: failover\n"
		  "    action: dr.failover\n"
		  "    targets: \"${inputs.vms}\"\n"
		  "  - id: say\n"
		  "    action: log\n"
		  "    needs: failover\n"
		  "    with: { message: \"${inputs.note}\" }\n"},
	/* a composite passing its own input on to tier */
	{"outer", "drover: 1\n"
		  "composite: outer\n"
		  "inputs:\n"
		  "  sets: { type: string }\n"
		  "  port: { type: int, default: 22 }\n"
		  "steps:\n"
		  "  - id: t\n"
		  "    use: tier\n"
		  "    with: { vms: \"${inputs.sets}\", port: \"${inputs.port}\" }\n"},
};

static int make_stdlib(void **state)
{
	(void)state;
	stdlib_dir = fx_stdlib(composites, sizeof composites / sizeof composites[0]);
	return 0;
}

#define HEAD                                                                                                           \
	"drover: 1\n"                                                                                                  \
	"name: t\n"                                                                                                    \
	"vm_sets:\n"                                                                                                   \
	"  db: { match: { name: \"^db-\" } }\n"                                                                        \
	"  web: { match: { name: \"^web-\" } }\n"                                                                      \
	"steps:\n"

/* The front end on text; the runbook must have no errors. */
static dr_runbook *compile(const char *name, const char *text)
{
	dr_arena *a = dr_arena_new();
	dr_diags *d = dr_diags_new();
	dr_node *root = dr_load_string(a, d, name, text, strlen(text), NULL);
	assert_non_null(root);
	dr_runbook *rb = dr_check(a, d, root, name);
	dr_resolve(rb, d, stdlib_dir);
	rb->plan = dr_plan_build(rb, d);
	for (size_t i = 0; i < dr_diags_count(d); i++) {
		const dr_diag *g = dr_diags_get(d, i);
		if (g->sev == DR_SEV_ERROR)
			fprintf(stderr, "%s:%d:%d: %s [%s]\n", g->loc.file, g->loc.line, g->loc.col, g->msg,
				dr_code_id(g->code));
	}
	assert_int_equal(dr_diags_errors(d), 0);
	dr_diags_free(d);
	return rb;
}

typedef struct pair {
	dr_runbook *old, *new;
	dr_graphdiff *d;
} pair;

static pair diff(const char *old_text, const char *new_text)
{
	pair p = {.old = compile("old.yaml", old_text), .new = compile("new.yaml", new_text)};
	p.d = dr_graphdiff_new(p.old->plan, p.new->plan);
	assert_non_null(p.d);
	return p;
}

static void pair_free(pair *p)
{
	dr_graphdiff_free(p->d);
	dr_runbook_free(p->old);
	dr_runbook_free(p->new);
}

/* "with.port, retry": the fields of a changed step, "" for an unchanged one. */
static char *fields_of(const dr_graphdiff *d, const char *id)
{
	const dr_graphdiff_step *s = dr_graphdiff_find(d, id);
	assert_non_null(s);
	static char buf[512];
	buf[0] = '\0';
	for (size_t i = 0; i < s->n_fields; i++) {
		strcat(buf, i ? ", " : "");
		strcat(buf, s->fields[i]);
	}
	assert_true((s->mark == DR_MARK_CHANGED) == (s->n_fields > 0));
	return buf;
}

static char *print(const dr_graphdiff *d, dr_graph_format fmt)
{
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	dr_graphdiff_print(d, fmt, m);
	fclose(m);
	return out;
}

/* --- fields: one row per field, an old and a new version of step s ----------- */

static const struct row {
	const char *fields; /* what the diff must name; "" for no change */
	const char *old, *new; /* the lines of step s after its id */
} rows[] = {
	{"action", "    action: log\n    with: { message: hi }\n", "    action: approve\n    with: { message: hi }\n"},
	{"with.message", "    action: log\n    with: { message: hi }\n", "    action: log\n    with: { message: ho }\n"},
	{"with.level", "    action: log\n    with: { message: hi }\n",
	 "    action: log\n    with: { message: hi, level: warn }\n"},
	{"with.port, with.timeout",
	 "    action: check.tcp\n    foreach: db\n    with: { host: h, port: 22, timeout: 5s }\n",
	 "    action: check.tcp\n    foreach: db\n    with: { host: h, port: 23 }\n"},
	{"targets", "    action: dr.failover\n    targets: db\n", "    action: dr.failover\n    targets: [db, web]\n"},
	{"pipeline", "    action: dr.failover\n    targets: db\n",
	 "    action: dr.failover\n    targets: db\n    pipeline: true\n"},
	{"when", "    action: log\n    with: { message: hi }\n",
	 "    action: log\n    with: { message: hi }\n    when: \"${run.mode == 'drill'}\"\n"},
	{"retry", "    action: log\n    with: { message: hi }\n    retry: { attempts: 2 }\n",
	 "    action: log\n    with: { message: hi }\n    retry: { attempts: 3 }\n"},
	{"timeout", "    action: log\n    with: { message: hi }\n    timeout: 1m\n",
	 "    action: log\n    with: { message: hi }\n    timeout: 2m\n"},
	{"attempt_timeout", "    action: log\n    with: { message: hi }\n",
	 "    action: log\n    with: { message: hi }\n    attempt_timeout: 30s\n"},
	{"concurrency", "    action: dr.failover\n    targets: db\n    concurrency: 2\n",
	 "    action: dr.failover\n    targets: db\n    concurrency: 3\n"},
	{"order", "    action: dr.failover\n    targets: db\n    order: declared\n",
	 "    action: dr.failover\n    targets: db\n    order: longest-first\n"},
	{"max_failures", "    action: dr.failover\n    targets: db\n    max_failures: 1\n",
	 "    action: dr.failover\n    targets: db\n    max_failures: 1%\n"},
	{"on_failure", "    action: log\n    with: { message: hi }\n",
	 "    action: log\n    with: { message: hi }\n    on_failure: continue\n"},
	{"rollback", "    action: dr.failover\n    targets: db\n", "    action: dr.failover\n    targets: db\n    rollback: []\n"},
	{"rollback",
	 "    action: dr.failover\n    targets: db\n    rollback:\n      - id: undo\n        action: log\n        with: { message: a }\n",
	 "    action: dr.failover\n    targets: db\n    rollback:\n      - id: undo\n        action: log\n        with: { message: b }\n"},
	{"name", "    action: log\n    name: Say hi\n    with: { message: hi }\n",
	 "    action: log\n    name: Say hello\n    with: { message: hi }\n"},
	{"description", "    action: log\n    with: { message: hi }\n",
	 "    action: log\n    description: why\n    with: { message: hi }\n"},
	{"with.message, retry, timeout",
	 "    action: log\n    with: { message: hi }\n",
	 "    action: log\n    with: { message: ho }\n    retry: { attempts: 3 }\n    timeout: 1m\n"},
	/* a scalar's type is part of its value */
	{"with.expect",
	 "    action: check.http\n    with: { url: \"https://h/\", expect: { json: { /up: \"true\" } } }\n",
	 "    action: check.http\n    with: { url: \"https://h/\", expect: { json: { /up: true } } }\n"},
	/* rewritten, not changed */
	{"", "    action: log\n    with: { message: hi, level: warn }\n",
	 "    with:\n      level: \"warn\"   # a comment\n      message: 'hi'\n    action: \"log\"\n"},
	{"", "    action: log\n    with: { message: hi }\n    timeout: 5m\n", "    action: log\n    with: { message: hi }\n    timeout: 300s\n"},
	{"", "    action: check.tcp\n    foreach: db\n    with: { host: h, port: 5432 }\n",
	 "    action: check.tcp\n    foreach: db\n    with: { host: h, port: 0x1538 }\n"},
	{"", "    action: dr.failover\n    targets: db\n", "    action: dr.failover\n    targets: [db]\n"},
	{"", "    action: log\n    with: { message: hi }\n    retry: { attempts: 3, delay: 30s }\n",
	 "    action: log\n    with: { message: hi }\n    retry: { delay: 30s, attempts: 3 }\n"},
	{"", "    action: log\n    with: { message: hi }\n    when: \"${run.mode == 'drill'}\"\n",
	 "    action: log\n    with: { message: hi }\n    when: '${run.mode == ''drill''}'\n"},
};

static void test_fields(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char old_text[2048], new_text[2048];
		snprintf(old_text, sizeof old_text, "%s  - id: s\n%s", HEAD, rows[i].old);
		snprintf(new_text, sizeof new_text, "%s  - id: s\n%s", HEAD, rows[i].new);
		pair p = diff(old_text, new_text);
		const char *got = fields_of(p.d, "s");
		if (strcmp(got, rows[i].fields) != 0)
			fail_msg("row %zu: expected '%s', got '%s'", i, rows[i].fields, got);
		assert_int_equal(dr_graphdiff_empty(p.d), !*rows[i].fields);
		pair_free(&p);
	}
}

/* --- steps and edges ---------------------------------------------------------- */

static const char *const chain_old = HEAD "  - id: a\n    action: log\n    with: { message: a }\n"
					  "  - id: b\n    action: log\n    needs: a\n    with: { message: b }\n"
					  "  - id: c\n    action: log\n    needs: b\n    with: { message: c }\n"
					  "finally:\n  - id: f\n    action: log\n    with: { message: f }\n";

static const char *const chain_new = HEAD "  - id: a\n    action: log\n    with: { message: a }\n"
					  "  - id: c\n    action: log\n    needs: [a, d]\n    with: { message: c }\n"
					  "  - id: d\n    action: log\n    needs: a\n    with: { message: d }\n"
					  "finally:\n  - id: f\n    action: log\n    with: { message: f }\n"
					  "  - id: g\n    action: log\n    needs: f\n    with: { message: g }\n";

static void test_added_removed(void **state)
{
	(void)state;
	pair p = diff(chain_old, chain_new);
	const dr_graphdiff *d = p.d;
	assert_int_equal(d->added, 2);
	assert_int_equal(d->removed, 1);
	assert_int_equal(d->changed, 0);
	/* b stays where it was, after a; finally steps after the main ones */
	const char *order[] = {"a", "b", "c", "d", "f", "g"};
	const dr_mark marks[] = {DR_MARK_SAME, DR_MARK_REMOVED, DR_MARK_SAME, DR_MARK_ADDED, DR_MARK_SAME, DR_MARK_ADDED};
	assert_int_equal(d->n, 6);
	assert_int_equal(d->n_main, 4);
	for (size_t i = 0; i < d->n; i++) {
		assert_string_equal(d->steps[i].step->id.name, order[i]);
		assert_int_equal(d->steps[i].mark, marks[i]);
	}
	assert_null(dr_graphdiff_find(d, "d")->old);
	assert_ptr_equal(dr_graphdiff_find(d, "b")->step, dr_graphdiff_find(d, "b")->old);
	assert_null(dr_graphdiff_find(d, "x"));
	/* a->c and a->d and d->c and f->g added; a->b, b->c removed */
	assert_int_equal(d->edges_added, 4);
	assert_int_equal(d->edges_removed, 2);
	char *text = print(d, DR_GRAPH_TEXT);
	assert_string_equal(text, "- step b\n"
				  "+ step d (log)\n"
				  "+ step g (log)\n"
				  "+ edge a -> c\n"
				  "+ edge d -> c\n"
				  "+ edge a -> d\n"
				  "+ edge f -> g\n"
				  "- edge a -> b\n"
				  "- edge b -> c\n");
	free(text);
	pair_free(&p);
}

static void test_unchanged(void **state)
{
	(void)state;
	pair p = diff(chain_old, chain_old);
	assert_true(dr_graphdiff_empty(p.d));
	for (size_t i = 0; i < p.d->n; i++)
		assert_int_equal(p.d->steps[i].mark, DR_MARK_SAME);
	for (size_t k = 0; k < p.d->n_edges; k++)
		assert_int_equal(p.d->edges[k].mark, DR_MARK_SAME);
	char *text = print(p.d, DR_GRAPH_TEXT);
	assert_string_equal(text, "no changes to the step graph\n");
	free(text);
	char *json = print(p.d, DR_GRAPH_JSON);
	cJSON *j = cJSON_Parse(json);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "changed")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "steps"), "added")), 0);
	cJSON_Delete(j);
	free(json);
	pair_free(&p);
}

static void test_moved_to_finally(void **state)
{
	(void)state;
	pair p = diff(HEAD "  - id: a\n    action: log\n    with: { message: a }\n"
			   "  - id: b\n    action: log\n    with: { message: b }\n",
		      HEAD "  - id: a\n    action: log\n    with: { message: a }\n"
			   "finally:\n  - id: b\n    action: log\n    with: { message: b }\n");
	assert_string_equal(fields_of(p.d, "b"), "finally");
	assert_int_equal(p.d->n, 2);
	assert_int_equal(p.d->n_main, 1);
	pair_free(&p);
}

/* --- composites ---------------------------------------------------------------- */

static void test_composite_inputs(void **state)
{
	(void)state;
	pair p = diff(HEAD "  - id: db\n    use: tier\n    with: { vms: db, port: 5432 }\n",
		      HEAD "  - id: db\n    use: tier\n    with: { vms: db, port: 5433, note: hello }\n");
	/* only the step that reads inputs.port changed; note: hello is the default */
	assert_string_equal(fields_of(p.d, "db.failover"), "");
	assert_string_equal(fields_of(p.d, "db.up"), "inputs.port");
	assert_string_equal(fields_of(p.d, "db.say"), "");
	pair_free(&p);

	p = diff(HEAD "  - id: db\n    use: tier\n    with: { vms: db }\n",
		 HEAD "  - id: db\n    use: tier\n    with: { vms: web, note: bye }\n    timeout: 10m\n");
	assert_string_equal(fields_of(p.d, "db.failover"), "targets, timeout");
	assert_string_equal(fields_of(p.d, "db.up"), "targets, timeout");
	assert_string_equal(fields_of(p.d, "db.say"), "inputs.note, timeout");
	pair_free(&p);
}

static void test_nested_composite_inputs(void **state)
{
	(void)state;
	pair p = diff(HEAD "  - id: o\n    use: outer\n    with: { sets: db, port: 1 }\n",
		      HEAD "  - id: o\n    use: outer\n    with: { sets: db, port: 2 }\n");
	/* o.t.up reads inputs.port of tier, which outer's use sets to its own inputs.port */
	assert_string_equal(fields_of(p.d, "o.t.up"), "inputs.port");
	assert_string_equal(fields_of(p.d, "o.t.failover"), "");
	pair_free(&p);
}

static void test_removed_step_stays_in_its_group(void **state)
{
	(void)state;
	pair p = diff(HEAD "  - id: db\n    use: tier\n    with: { vms: db }\n"
			   "  - id: after\n    action: log\n    needs: db\n    with: { message: x }\n",
		      HEAD "  - id: db\n    use: tier2\n    with: { vms: db }\n"
			   "  - id: after\n    action: log\n    needs: db\n    with: { message: x }\n");
	const char *order[] = {"db.failover", "db.up", "db.say", "after"};
	assert_int_equal(p.d->n, 4);
	for (size_t i = 0; i < p.d->n; i++)
		assert_string_equal(p.d->steps[i].step->id.name, order[i]);
	assert_int_equal(dr_graphdiff_find(p.d, "db.up")->mark, DR_MARK_REMOVED);
	char *m = print(p.d, DR_GRAPH_MERMAID);
	/* one group for db, the removed step inside it */
	assert_non_null(strstr(m, "    subgraph u0 [\"use: db\"]\n"
				  "        n0[\"db.failover<br/>dr.failover<br/>targets: db\"]\n"
				  "        n1([\"db.up<br/>check.tcp<br/>foreach: db<br/>removed\"])\n"
				  "        n2[\"db.say<br/>log\"]\n"
				  "    end\n"));
	assert_non_null(strstr(m, "    n0 ==> n2\n")); /* added: tier2 has failover -> say */
	assert_non_null(strstr(m, "    n0 -.-> n1\n"));
	assert_non_null(strstr(m, "    n1 -.-> n2\n"));
	free(m);
	pair_free(&p);

	/* a removed plain step after a group's last step goes after the whole group */
	p = diff(HEAD "  - id: a\n    action: log\n    with: { message: x }\n"
		      "  - id: db\n    use: tier2\n    needs: a\n    with: { vms: db }\n",
		 HEAD "  - id: db\n    use: tier2\n    with: { vms: db }\n");
	assert_string_equal(p.d->steps[0].step->id.name, "a");
	pair_free(&p);
}

/* --- printed forms ------------------------------------------------------------- */

static const char *const commit_old = HEAD "  - id: fo\n    action: dr.failover\n    targets: db\n"
					   "  - id: up\n    action: dr.probe\n    foreach: db\n    needs: fo\n"
					   "  - id: old-gate\n    action: approve\n    needs: up\n    with: { message: go }\n"
					   "  - id: commit\n    action: dr.commit\n    targets: db\n    needs: old-gate\n";

static const char *const commit_new = HEAD "  - id: fo\n    action: dr.failover\n    targets: db\n"
					   "  - id: up\n    action: dr.probe\n    foreach: db\n    needs: fo\n"
					   "    retry: { attempts: 5 }\n"
					   "  - id: gate\n    action: approve\n    needs: up\n    with: { message: go }\n"
					   "  - id: commit\n    action: dr.commit\n    targets: db\n    needs: gate\n"
					   "    timeout: 10m\n";

static void test_mermaid(void **state)
{
	(void)state;
	pair p = diff(commit_old, commit_new);
	char *m = print(p.d, DR_GRAPH_MERMAID);
	assert_true(strncmp(m, "flowchart TD\n", 13) == 0);
	assert_non_null(strstr(m, "    n1([\"up<br/>dr.probe<br/>foreach: db<br/>changed: retry\"])\n"));
	assert_non_null(strstr(m, "    n2{{\"old-gate<br/>approve<br/>removed\"}}\n"));
	assert_non_null(strstr(m, "    n3{{\"gate<br/>approve<br/>added\"}}\n"));
	assert_non_null(strstr(m, "    n4[\"commit<br/>dr.commit<br/>targets: db<br/>changed: timeout\"]\n"));
	assert_non_null(strstr(m, "    n1 ==> n3\n"));
	assert_non_null(strstr(m, "    n1 -.-> n2\n"));
	assert_non_null(strstr(m, "    classDef added "));
	assert_non_null(strstr(m, "    classDef removed "));
	assert_non_null(strstr(m, "    classDef changed "));
	assert_non_null(strstr(m, "    class n1 changed\n"));
	assert_non_null(strstr(m, "    class n2 removed\n"));
	assert_non_null(strstr(m, "    class n3 added\n"));
	/* the commit keeps its irreversible marking */
	assert_non_null(strstr(m, "    class n4 irreversible_changed\n"));
	assert_non_null(strstr(m, "    classDef irreversible_changed fill:#ddf4ff,stroke:#c62828,stroke-width:3px"));
	assert_non_null(strstr(m, "    subgraph legend [\"legend\"]\n"));
	/* edges: fo->up, up->gate (added), gate->commit (added), then up->old-gate, old-gate->commit (removed) */
	assert_non_null(strstr(m, "    linkStyle 1 stroke:#1a7f37"));
	assert_non_null(strstr(m, "    linkStyle 4 stroke:#8c959f"));
	assert_null(strstr(m, "    linkStyle 0 "));
	free(m);
	pair_free(&p);
}

static void test_dot_renders(void **state)
{
	(void)state;
	pair p = diff(commit_old, commit_new);
	char *s = print(p.d, DR_GRAPH_DOT);
	assert_true(strncmp(s, "digraph \"t\" {\n", 14) == 0);
	assert_non_null(strstr(s, "    \"commit\" [label=\"commit\\ndr.commit\\ntargets: db\\nchanged: timeout\", "
				  "style=\"filled,bold\", fillcolor=\"#ddf4ff\", color=\"#c62828\", penwidth=3];\n"));
	assert_non_null(strstr(s, "    \"old-gate\" [label=\"old-gate\\napprove\\nremoved\", shape=hexagon, "
				  "style=\"filled,dashed\""));
	assert_non_null(strstr(s, "    \"up\" -> \"old-gate\" [color=\"#8c959f\", penwidth=2, style=dashed];\n"));
	assert_non_null(strstr(s, "    \"up\" -> \"gate\" [color=\"#1a7f37\", penwidth=3];\n"));
	assert_non_null(strstr(s, "subgraph \"cluster_legend\""));
	if (system("command -v dot >/dev/null 2>&1") == 0) {
		FILE *dot = popen("dot -Tsvg -o /dev/null", "w");
		assert_non_null(dot);
		fputs(s, dot);
		assert_int_equal(pclose(dot), 0);
	}
	free(s);
	pair_free(&p);
}

static void test_json(void **state)
{
	(void)state;
	pair p = diff(commit_old, commit_new);
	char *s = print(p.d, DR_GRAPH_JSON);
	cJSON *j = cJSON_Parse(s);
	assert_non_null(j);
	assert_string_equal(cJSON_GetObjectItem(j, "old")->valuestring, "old.yaml");
	assert_string_equal(cJSON_GetObjectItem(j, "new")->valuestring, "new.yaml");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "changed")));
	cJSON *steps = cJSON_GetObjectItem(j, "steps");
	cJSON *added = cJSON_GetObjectItem(steps, "added"), *removed = cJSON_GetObjectItem(steps, "removed");
	cJSON *changed = cJSON_GetObjectItem(steps, "changed");
	assert_int_equal(cJSON_GetArraySize(added), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(added, 0), "id")->valuestring, "gate");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(removed, 0), "action")->valuestring, "approve");
	assert_int_equal(cJSON_GetArraySize(changed), 2);
	cJSON *commit = cJSON_GetArrayItem(changed, 1);
	assert_string_equal(cJSON_GetObjectItem(commit, "id")->valuestring, "commit");
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(commit, "fields"), 0)->valuestring, "timeout");
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(commit, "flags"), 1)->valuestring, "irreversible");
	cJSON *edges = cJSON_GetObjectItem(j, "edges");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(edges, "added")), 2);
	cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(edges, "removed"), 1);
	assert_string_equal(cJSON_GetObjectItem(e, "from")->valuestring, "old-gate");
	assert_string_equal(cJSON_GetObjectItem(e, "to")->valuestring, "commit");
	cJSON_Delete(j);
	free(s);
	pair_free(&p);
}

static void test_text(void **state)
{
	(void)state;
	pair p = diff(commit_old, commit_new);
	char *s = print(p.d, DR_GRAPH_TEXT);
	assert_string_equal(s, "~ step up: retry\n"
			       "    retry: built-in (5 attempts on throttled, delay 2s x2 up to 1m) -> written (5 attempts on "
			       "transient, throttled, timeout, delay 5s x2)\n"
			       "- step old-gate\n"
			       "+ step gate (approve)\n"
			       "~ step commit: timeout\n"
			       "+ edge up -> gate\n"
			       "+ edge gate -> commit\n"
			       "- edge up -> old-gate\n"
			       "- edge old-gate -> commit\n");
	free(s);
	pair_free(&p);
}

/*
 * retry is the policy a step runs with: a dr.* step's built-in one when none is written, defaults.retry when
 * that is written; the diff says what it was and becomes.
 */
static void test_effective_retry(void **state)
{
	(void)state;
	const char *fo = "  - id: fo\n    action: dr.failover\n    targets: db\n";
	const char *note = "  - id: note\n    action: log\n    with: { message: hi }\n";
	char old_text[2048], new_text[2048];
	/* the built-in policy written out: the same policy, no change */
	snprintf(old_text, sizeof old_text, "%s%s", HEAD, fo);
	snprintf(new_text, sizeof new_text, "%s%s    retry: { attempts: 5, delay: 2s, backoff: 2, max_delay: 1m, jitter: equal, "
					    "on: [throttled] }\n", HEAD, fo);
	pair p = diff(old_text, new_text);
	assert_true(dr_graphdiff_empty(p.d));
	pair_free(&p);
	/* a written retry: removed from a dr.* step: it gets the built-in one */
	snprintf(old_text, sizeof old_text, "%s%s    retry: { attempts: 3, on: [transient] }\n", HEAD, fo);
	snprintf(new_text, sizeof new_text, "%s%s", HEAD, fo);
	p = diff(old_text, new_text);
	const dr_graphdiff_step *s = dr_graphdiff_find(p.d, "fo");
	assert_string_equal(fields_of(p.d, "fo"), "retry");
	assert_string_equal(s->retry_old, "written (3 attempts on transient, delay 5s x2)");
	assert_string_equal(s->retry_new, "built-in (5 attempts on throttled, delay 2s x2 up to 1m)");
	pair_free(&p);
	/* defaults.retry written: every step without its own retry: runs with it, a dr.* one and another alike */
	snprintf(old_text, sizeof old_text, "%s%s%s", HEAD, fo, note);
	char *steps = strstr(old_text, "steps:\n");
	snprintf(new_text, sizeof new_text, "%.*sdefaults: { retry: { attempts: 2, on: [transient] } }\n%s",
		 (int)(steps - old_text), old_text, steps);
	p = diff(old_text, new_text);
	assert_string_equal(fields_of(p.d, "fo"), "retry");
	assert_string_equal(fields_of(p.d, "note"), "retry");
	s = dr_graphdiff_find(p.d, "note");
	assert_string_equal(s->retry_old, "none (1 attempt)");
	assert_string_equal(s->retry_new, "defaults.retry (2 attempts on transient, delay 5s x2)");
	char *j = print(p.d, DR_GRAPH_JSON);
	assert_non_null(strstr(j, "\"retry\":\t{\n\t\t\t\t\t\"old\":\t\"built-in (5 attempts on throttled"));
	free(j);
	pair_free(&p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fields),
		cmocka_unit_test(test_effective_retry),
		cmocka_unit_test(test_added_removed),
		cmocka_unit_test(test_unchanged),
		cmocka_unit_test(test_moved_to_finally),
		cmocka_unit_test(test_composite_inputs),
		cmocka_unit_test(test_nested_composite_inputs),
		cmocka_unit_test(test_removed_step_stays_in_its_group),
		cmocka_unit_test(test_mermaid),
		cmocka_unit_test(test_dot_renders),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_text),
	};
	return cmocka_run_group_tests(tests, make_stdlib, NULL);
}
