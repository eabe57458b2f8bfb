/*
 * test_check.c - the schema walker, the model builder and the semantic checks.
 *
 * Diagnostic cases are a table: a YAML text and the exact (code, line, col)
 * of every diagnostic it must produce, in position order - nothing more,
 * nothing less. Model cases load a valid runbook and assert the fields that
 * resolve, plan and exec read.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "actions/action.h"
#include "front/runbook.h"

/* ---- harness ------------------------------------------------------------ */

typedef struct want {
	dr_code code;
	int line, col;
} want;

typedef struct check_case {
	const char *name;
	const char *yaml;
	want diags[12]; /* terminated by line == 0 */
} check_case;

typedef struct loaded {
	dr_arena *a;
	dr_diags *d;
	dr_runbook *rb;
} loaded;

static loaded load(const char *yaml)
{
	loaded l = {dr_arena_new(), dr_diags_new(), NULL};
	dr_node *root = dr_load_string(l.a, l.d, "rb.yaml", yaml, strlen(yaml), NULL);
	assert_non_null(root);
	l.rb = dr_check(l.a, l.d, root, "rb.yaml");
	assert_non_null(l.rb);
	dr_diags_sort(l.d);
	return l;
}

static void unload(loaded *l)
{
	dr_diags_free(l->d);
	dr_arena_free(l->a);
}

static void dump(const loaded *l)
{
	dr_diags_render_text(l->d, stderr, false);
}

/* Run one case; on a mismatch print what was expected and what came, and return false. */
static bool run_case(const check_case *tc)
{
	loaded l = load(tc->yaml);
	size_t n = 0;
	while (tc->diags[n].line)
		n++;
	bool ok = dr_diags_count(l.d) == n;
	for (size_t i = 0; ok && i < n; i++) {
		const dr_diag *g = dr_diags_get(l.d, i);
		ok = g->code == tc->diags[i].code && g->loc.line == tc->diags[i].line && g->loc.col == tc->diags[i].col;
	}
	if (!ok) {
		fprintf(stderr, "case '%s': want", tc->name);
		for (size_t i = 0; i < n; i++)
			fprintf(stderr, " %s@%d:%d", dr_code_id(tc->diags[i].code), tc->diags[i].line, tc->diags[i].col);
		fprintf(stderr, "\ngot:\n");
		dump(&l);
	}
	unload(&l);
	return ok;
}

/* Every diagnostic has a message; hints where promised are checked by message tests below. */
static const char *first_hint(const char *yaml, dr_code code)
{
	static char buf[512];
	loaded l = load(yaml);
	buf[0] = '\0';
	for (size_t i = 0; i < dr_diags_count(l.d); i++) {
		const dr_diag *g = dr_diags_get(l.d, i);
		if (g->code == code && g->hint) {
			snprintf(buf, sizeof buf, "%s", g->hint);
			break;
		}
	}
	unload(&l);
	return buf;
}

static const char *first_msg(const char *yaml, dr_code code)
{
	static char buf[512];
	loaded l = load(yaml);
	buf[0] = '\0';
	for (size_t i = 0; i < dr_diags_count(l.d); i++) {
		const dr_diag *g = dr_diags_get(l.d, i);
		if (g->code == code) {
			snprintf(buf, sizeof buf, "%s", g->msg);
			break;
		}
	}
	unload(&l);
	return buf;
}

#define HEAD "drover: 1\nname: t\n" /* two lines: cases below start on line 3 */

/* ---- the table ---------------------------------------------------------- */

static const check_case cases[] = {
	{"valid minimal", HEAD "steps:\n  - id: a\n    action: log\n    with: { message: hi }\n", {{0}}},
	{"DR201 wrong type: list for a duration", HEAD "defaults:\n  timeout: [1]\nsteps:\n  - id: a\n"
		"    action: log\n    with: { message: hi }\n",
	 {{DR201, 4, 12}}},
	{"DR201 wrong type: mapping for a list of steps", HEAD "steps: { id: a }\n", {{DR201, 3, 8}}},
	{"DR201 wrong type: integer for a string, null for a duration",
	 HEAD "description: 5\nsteps:\n  - id: a\n    action: log\n    with: { message: hi }\n    timeout:\n",
	 {{DR201, 3, 14}, {DR201, 8, 13}}},
	{"DR201 top level not a mapping", "- a\n- b\n", {{DR201, 1, 1}}},
	{"DR201 yes is not a boolean in YAML 1.2",
	 HEAD "steps:\n  - id: a\n    action: log\n    with: { message: hi }\n    pipeline: yes\n", {{DR201, 7, 15}}},
	{"DR201 expression in targets outside a composite",
	 HEAD "vm_sets: { db: { match: { name: x } } }\nsteps:\n  - id: a\n    action: dr.failover\n"
	      "    targets: \"${params.x}\"\n",
	 {{DR201, 7, 14}}},
	{"DR202 missing name and steps", "drover: 1\ndescription: x\n", {{DR202, 1, 1}, {DR202, 1, 1}}},
	{"DR202 missing step id", HEAD "steps:\n  - action: log\n    with: { message: hi }\n", {{DR202, 4, 5}}},
	{"DR202 per-target action without targets", HEAD "steps:\n  - id: f\n    action: dr.failover\n",
	 {{DR202, 4, 5}}},
	{"DR202 required with: input missing",
	 HEAD "steps:\n  - id: a\n    action: check.tcp\n    with: { port: 22 }\n", {{DR202, 6, 11}}},
	{"DR202 with: missing altogether", HEAD "steps:\n  - id: a\n    action: log\n", {{DR202, 4, 5}}},
	{"DR202 backend kind", HEAD "backend: { seed: 1 }\nsteps:\n  - id: a\n    action: log\n"
		"    with: { message: hi }\n",
	 {{DR202, 3, 10}}},
	{"DR203 unknown keys at root, step, retry",
	 HEAD "stpes: []\nsteps:\n  - id: a\n    action: log\n    with: { message: hi }\n    timout: 5m\n"
	      "    retry: { atempts: 3 }\n",
	 {{DR203, 3, 1}, {DR203, 8, 5}, {DR203, 9, 14}}},
	{"DR203 unknown with: input", HEAD "steps:\n  - id: a\n    action: log\n    with: { message: hi, levl: 1 }\n",
	 {{DR203, 6, 26}}},
	{"DR203 azure option under sim",
	 HEAD "backend:\n  kind: sim\n  vault: v\nsteps:\n  - id: a\n    action: log\n    with: { message: hi }\n",
	 {{DR203, 5, 3}}},
	{"DR204 enums", HEAD "on_failure: rollbak\nsteps:\n  - id: a\n    action: log\n    with: { message: hi }\n"
		"    retry: { jitter: ful }\n",
	 {{DR204, 3, 13}, {DR204, 8, 22}}},
	{"DR205 ranges", HEAD "steps:\n  - id: a\n    action: log\n    with: { message: hi }\n    concurrency: 0\n"
		"    retry: { attempts: 0, backoff: 0.5 }\n    max_failures: \"150%\"\n    timeout: 0s\n",
	 {{DR205, 7, 18}, {DR205, 8, 24}, {DR205, 8, 36}, {DR205, 9, 19}, {DR205, 10, 14}}},
	{"DR205 expect min above max",
	 HEAD "vm_sets:\n  db: { match: { name: x }, expect: { min: 3, max: 2 } }\nsteps:\n  - id: a\n"
	      "    action: log\n    with: { message: hi }\n",
	 {{DR205, 4, 52}}},
	{"DR206 duration caret at the bad character",
	 HEAD "objectives: { rto: 1h30x, rpo: 45 }\nsteps:\n  - id: a\n    action: log\n    with: { message: hi }\n",
	 {{DR206, 3, 24}, {DR206, 3, 32}}},
	{"DR206 expression where a literal duration is needed",
	 HEAD "steps:\n  - id: a\n    action: log\n    with: { message: hi }\n    timeout: ${params.t}\n",
	 {{DR206, 7, 14}}},
	{"DR207 version", "drover: 2\nname: t\nsteps:\n  - id: a\n    action: log\n    with: { message: hi }\n",
	 {{DR207, 1, 9}}},
	{"DR208 duplicate ids across steps, finally and rollback",
	 HEAD "steps:\n  - id: a\n    action: log\n    with: { message: hi }\n    rollback:\n      - id: a\n"
	      "        action: log\n        with: { message: undo }\n  - id: b\n    action: log\n"
	      "    with: { message: hi }\nfinally:\n  - id: b\n    action: log\n    with: { message: bye }\n",
	 {{DR208, 8, 13}, {DR208, 15, 9}}},
	{"DR209 identifiers: name, step id, needs entry, param name",
	 "drover: 1\nname: My Runbook\nparams:\n  Port: { type: int }\nsteps:\n  - id: Step_1\n"
	 "    action: log\n    with: { message: hi }\n    needs: [ok, \"b c\"]\n",
	 {{DR209, 2, 7}, {DR209, 4, 3}, {DR209, 6, 9}, {DR209, 9, 19}}},
	{"DR210 unknown action", HEAD "steps:\n  - id: a\n    action: dr.failovr\n    targets: db\n"
		"vm_sets: { db: { match: { name: x } } }\n",
	 {{DR210, 5, 13}}},
	{"DR211 regex caret inside the pattern",
	 HEAD "vm_sets:\n  db: { match: { name: 'a(?<n' } }\n  web: { match: { tags: { tier: \"x{2,1}\" } } }\n"
	      "steps:\n  - id: a\n    action: log\n    with: { message: hi }\n    retry: { on: [{ match: \"[z-a]\" }] }\n",
	 {{DR211, 4, 30}, {DR211, 5, 39}, {DR211, 10, 32}}},
	{"DR212 unknown VM set in targets and foreach",
	 HEAD "vm_sets: { db: { match: { name: x } }, web: { match: { name: y } } }\nsteps:\n  - id: a\n"
	      "    action: dr.failover\n    targets: [db, dbs]\n  - id: b\n    action: log\n"
	      "    with: { message: hi }\n    foreach: webb\n",
	 {{DR212, 7, 19}, {DR212, 11, 14}}},
	{"DR213 action and use, neither, targets and foreach",
	 HEAD "vm_sets: { db: { match: { name: x } } }\nsteps:\n  - id: a\n    action: log\n    use: x\n"
	      "    with: { message: hi }\n  - id: b\n  - id: c\n    action: dr.failover\n    targets: db\n"
	      "    foreach: db\n",
	 {{DR213, 7, 5}, {DR213, 9, 5}, {DR213, 13, 5}}},
	{"DR213 expect count with min", HEAD "vm_sets:\n  db: { match: {}, expect: { count: 2, min: 1 } }\n"
		"steps:\n  - id: a\n    action: log\n    with: { message: hi }\n",
	 {{DR213, 4, 40}}},
	{"DR214 max_failures malformed",
	 HEAD "steps:\n  - id: a\n    action: log\n    with: { message: hi }\n    max_failures: ten\n"
	      "  - id: b\n    action: log\n    with: { message: hi }\n    max_failures: \"10 %\"\n",
	 {{DR214, 7, 19}, {DR214, 11, 22}}},
	{"DR215 param defaults and choices",
	 HEAD "params:\n  port: { type: int, default: abc }\n  rp: { default: latst, enum: [latest, custom] }\n"
	      "  wait: { type: duration, default: 5x }\n  n: { type: int, enum: [1, two] }\n"
	      "steps:\n  - id: a\n    action: log\n    with: { message: hi }\n",
	 {{DR215, 4, 31}, {DR215, 5, 18}, {DR215, 6, 37}, {DR215, 7, 29}}},
	{"DR216 secrets", HEAD "secrets:\n  a: { env: A, file: /x }\n  b: { description: x }\n  c: { env: BAD-NAME }\n"
		"steps:\n  - id: a\n    action: log\n    with: { message: hi }\n",
	 {{DR216, 4, 16}, {DR216, 5, 6}, {DR216, 6, 13}}},
	{"DR216 warning: azure client secret in clear text",
	 HEAD "backend: { kind: azure, subscription: s, resource_group: g, vault: v, client_secret: hunter2 }\n"
	      "steps:\n  - id: a\n    action: log\n    with: { message: hi }\n",
	 {{DR216, 3, 86}}},
	{"DR216 warning: credentials in clear text in headers, env and URLs",
	 HEAD "secrets: { t: { env: T } }\nsteps:\n  - id: a\n    action: check.http\n    with:\n"
	      "      url: \"https://x.example.com/h?keyboard=1&api_key=k1\"\n"
	      "      headers: { Authorization: Basic dTpw, X-Auth-Token: \"${secrets.t}\", Accept: text/plain }\n"
	      "  - id: b\n    action: exec\n    needs: a\n"
	      "    with: { argv: [x], env: { PGPASSWORD: pw1, PGUSER: dr, DB_TOKEN: \"\", SSH_KEY_PATH: /k } }\n"
	      "  - id: c\n    action: notify.webhook\n    needs: b\n"
	      "    with: { url: \"https://u:pw2@x.example.com/?code=${secrets.t}\", text: hi }\n"
	      "  - id: d\n    action: notify.webhook\n    needs: c\n"
	      "    with: { url: \"https://u@x.example.com/${secrets.t}?sig=${secrets.t}&a=1\", text: hi }\n",
	 {{DR216, 8, 56}, {DR216, 9, 33}, {DR216, 13, 43}, {DR216, 17, 29}}},
	{"DR217 timestamps", HEAD "recovery:\n  point: custom\n  time: 2024-02-30T10:00:00Z\n"
		"steps:\n  - id: a\n    action: log\n    with: { message: hi }\n",
	 {{DR217, 5, 17}}},
	{"DR217 timestamp without zone", HEAD "recovery:\n  point: custom\n  time: \"2024-05-01T10:00:00\"\n"
		"steps:\n  - id: a\n    action: log\n    with: { message: hi }\n",
	 {{DR217, 5, 29}}},
	{"DR218 empty lists", HEAD "vm_sets: { db: { match: { name: x } } }\nsteps: []\n", {{DR218, 4, 8}}},
	{"DR218 empty targets", HEAD "steps:\n  - id: a\n    action: dr.failover\n    targets: []\n", {{DR218, 6, 14}}},
	{"DR219 custom without id or time; custom as fallback",
	 HEAD "recovery:\n  point: custom\n  fallback: [latest, custom]\nsteps:\n  - id: a\n    action: log\n"
	      "    with: { message: hi }\n",
	 {{DR219, 4, 10}, {DR219, 5, 22}}},
	{"DR219 id without custom; id and time together",
	 HEAD "recovery:\n  id: rp-1\nsteps:\n  - id: a\n    action: log\n    with: { message: hi }\n",
	 {{DR219, 4, 3}}},
	{"DR219 id and time together",
	 HEAD "recovery: { point: custom, id: x, time: \"2024-05-01T10:00:00Z\" }\nsteps:\n  - id: a\n"
	      "    action: log\n    with: { message: hi }\n",
	 {{DR219, 3, 35}}},
	{"expressions accepted where the schema allows them",
	 HEAD "params: { rp: { default: latest } }\nrecovery: { point: \"${params.rp}\", id: \"${params.rp}\" }\n"
	      "steps:\n  - id: a\n    action: log\n    with: { message: \"${run.id}\" }\n    when: ${params.rp == 'x'}\n",
	 {{0}}},
	{"composite: ${inputs.X} in targets, needs and foreach",
	 "drover: 1\ncomposite: drain\ninputs:\n  set: { type: string }\nsteps:\n  - id: a\n    action: dr.failover\n"
	 "    targets: \"${inputs.set}\"\n    needs: \"${inputs.after}\"\n  - id: b\n    action: log\n"
	 "    with: { message: hi }\n    foreach: \"${inputs.set}\"\n",
	 {{0}}},
	{"composite: root keys of runbooks are unknown there",
	 "drover: 1\ncomposite: drain\nname: x\nsteps:\n  - id: a\n    action: log\n    with: { message: hi }\n",
	 {{DR203, 3, 1}}},
};

static void test_cases(void **state)
{
	(void)state;
	size_t failed = 0;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		failed += !run_case(&cases[i]);
	assert_int_equal(failed, 0);
}

/* ---- messages and hints ------------------------------------------------- */

static void test_messages(void **state)
{
	(void)state;
	assert_string_equal(first_hint(HEAD "steps:\n  - id: a\n    action: log\n    with: { message: hi }\n"
					    "    timout: 5m\n", DR203),
			    "did you mean 'timeout'?");
	assert_string_equal(first_hint(HEAD "steps:\n  - id: a\n    action: log\n    with: { message: hi }\n"
					    "    depends_on: [x]\n", DR203),
			    "did you mean 'needs'?");
	assert_string_equal(first_msg(HEAD "defaults:\n  timeout: [1]\nsteps:\n  - id: a\n    action: log\n"
					   "    with: { message: hi }\n", DR201),
			    "defaults.timeout: expected a duration like 30s, got a list");
	assert_string_equal(first_hint(HEAD "steps:\n  - id: a\n    action: dr.failovr\n", DR210),
			    "did you mean 'dr.failover'?");
	assert_string_equal(first_hint(HEAD "vm_sets: { db: { match: {} } }\nsteps:\n  - id: a\n"
					    "    action: dr.failover\n    targets: dbb\n", DR212),
			    "did you mean 'db'?");
	assert_string_equal(first_msg(HEAD "steps:\n  - id: f\n    action: dr.failover\n", DR202),
			    "steps[0]: dr.failover needs targets: (the VM sets it acts on)");
	const char *dup = HEAD "steps:\n  - id: a\n    action: log\n    with: { message: hi }\n  - id: a\n"
			       "    action: log\n    with: { message: hi }\n";
	assert_string_equal(first_hint(dup, DR208),
			    "first defined at line 4; ids must be unique across steps, finally and rollback steps");
	assert_string_equal(first_hint("drover: 1\nname: Fail Over DB\nsteps: []\n", DR209),
			    "use lowercase letters, digits, '-' and '_', starting with a letter or digit (at most 64): "
			    "e.g. 'fail-over-db'");
	assert_string_equal(first_msg("drover: 3\nname: t\nsteps: []\n", DR207),
			    "runbook format version 3 is not supported");
	assert_string_equal(first_hint(HEAD "steps:\n  - id: a\n    action: log\n    with: { message: hi }\n"
					    "    timeout: 30\n", DR206),
			    "did you mean '30s'? units are ms, s, m, h and d");
	assert_string_equal(first_hint(HEAD "backend: { kind: sim, vault: v }\nsteps: []\n", DR203),
			    "'vault' is an option of the azure backend (kind: azure)");
}

/* ---- the model ---------------------------------------------------------- */

static const char model_yaml[] =
	"drover: 1\n"
	"name: payments\n"
	"description: Fail payments over.\n"
	"backend: { kind: azure, subscription: \"${env.SUB}\", resource_group: rg, vault: v }\n"
	"params:\n"
	"  rp: { type: string, default: latest, enum: [latest, custom], description: point }\n"
	"  port: { type: int, default: 5432 }\n"
	"  wait: { type: duration }\n"
	"secrets:\n"
	"  hook: { env: HOOK_URL }\n"
	"  key: { file: key.txt }\n"
	"vm_sets:\n"
	"  db: { match: { name: '^pay-db-\\d+$', tags: { tier: '^db$' } }, exclude: { name: canary },"
	" expect: { count: 2 } }\n"
	"  web: { match: { name: '^pay-web-' }, expect: { min: 1, max: 9 } }\n"
	"recovery:\n"
	"  point: custom\n"
	"  time: 2024-05-01T14:00:00.250+02:00\n"
	"  max_age: 15m\n"
	"  fallback: [latest-app-consistent, latest]\n"
	"objectives: { rto: 45m, rpo: 1h30m }\n"
	"defaults:\n"
	"  timeout: 30m\n"
	"  attempt_timeout: 250ms\n"
	"  run_timeout: 2h\n"
	"  concurrency: 8\n"
	"  retry: { attempts: 3, delay: 10s, jitter: equal, on: [throttled, { match: 'busy|locked' }] }\n"
	"on_failure: rollback\n"
	"steps:\n"
	"  - id: down\n"
	"    action: dr.shutdown\n"
	"    targets: [db, web]\n"
	"    on_failure: continue\n"
	"    max_failures: \"10%\"\n"
	"  - id: failover-db\n"
	"    action: dr.failover\n"
	"    targets: db\n"
	"    needs: down\n"
	"    retry: { attempts: 5 }\n"
	"    timeout: 1h30m\n"
	"    concurrency: 2\n"
	"    pipeline: true\n"
	"    rollback:\n"
	"      - id: undo-db\n"
	"        action: log\n"
	"        with: { message: undo }\n"
	"  - id: db-up\n"
	"    action: check.tcp\n"
	"    foreach: db\n"
	"    needs: [failover-db, down]\n"
	"    with: { host: \"${target.recovery_ip}\", port: 5432 }\n"
	"    when: ${params.rp == 'latest'}\n"
	"    max_failures: 1\n"
	"finally:\n"
	"  - id: tell\n"
	"    action: log\n"
	"    with: { message: done }\n";

static void test_model_root(void **state)
{
	(void)state;
	loaded l = load(model_yaml);
	if (dr_diags_count(l.d))
		dump(&l);
	assert_int_equal(dr_diags_count(l.d), 0);
	dr_runbook *rb = l.rb;
	assert_int_equal(rb->version, 1);
	assert_string_equal(rb->name, "payments");
	assert_string_equal(rb->description, "Fail payments over.");
	assert_int_equal(rb->backend.kind, DR_BACKEND_AZURE);
	assert_non_null(rb->backend.node);
	assert_int_equal(rb->rto_ms, 45 * 60000);
	assert_int_equal(rb->rpo_ms, 90 * 60000);
	assert_int_equal(rb->default_timeout_ms, 30 * 60000);
	assert_int_equal(rb->default_attempt_timeout_ms, 250);
	assert_int_equal(rb->run_timeout_ms, 2 * 3600000);
	assert_int_equal(rb->default_concurrency, 8);
	assert_int_equal(rb->on_failure, DR_ONFAIL_ROLLBACK);
	assert_false(rb->is_composite);
	unload(&l);
}

static void test_model_params_secrets(void **state)
{
	(void)state;
	loaded l = load(model_yaml);
	dr_runbook *rb = l.rb;
	assert_int_equal(rb->n_params, 3);
	const dr_param *rp = dr_runbook_param(rb, "rp");
	assert_non_null(rp);
	assert_int_equal(rp->type, DR_PARAM_STRING);
	assert_string_equal(dr_node_str(rp->default_value), "latest");
	assert_string_equal(rp->choices[0], "latest");
	assert_string_equal(rp->choices[1], "custom");
	assert_null(rp->choices[2]);
	assert_string_equal(rp->description, "point");
	assert_int_equal(dr_ref_loc(&rp->name).line, 6);
	assert_int_equal(dr_ref_loc(&rp->name).col, 3);
	assert_int_equal(dr_runbook_param(rb, "port")->type, DR_PARAM_INT);
	assert_null(dr_runbook_param(rb, "wait")->default_value);
	assert_int_equal(dr_runbook_param(rb, "wait")->type, DR_PARAM_DURATION);
	assert_int_equal(rb->n_secrets, 2);
	assert_string_equal(dr_runbook_secret(rb, "hook")->env, "HOOK_URL");
	assert_null(dr_runbook_secret(rb, "hook")->file);
	assert_string_equal(dr_runbook_secret(rb, "key")->file, "key.txt");
	unload(&l);
}

static bool matches(const dr_regex *r, const char *s)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(r->code, NULL);
	int rc = pcre2_match(r->code, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

static void test_model_vm_sets(void **state)
{
	(void)state;
	loaded l = load(model_yaml);
	dr_runbook *rb = l.rb;
	assert_int_equal(rb->n_vm_sets, 2);
	const dr_vm_set *db = dr_runbook_vm_set(rb, "db");
	assert_true(db->match.present);
	assert_string_equal(db->match.name.source, "^pay-db-\\d+$");
	assert_true(matches(&db->match.name, "pay-db-12"));
	assert_false(matches(&db->match.name, "pay-db-x"));
	assert_int_equal(db->match.n_tags, 1);
	assert_string_equal(db->match.tags[0].key, "tier");
	assert_true(matches(&db->match.tags[0].value, "db"));
	assert_true(db->exclude.present);
	assert_true(matches(&db->exclude.name, "pay-db-canary"));
	assert_int_equal(db->expect_count, 2);
	assert_int_equal(db->expect_min, -1);
	assert_int_equal(db->expect_max, -1);
	const dr_vm_set *web = dr_runbook_vm_set(rb, "web");
	assert_false(web->exclude.present);
	assert_int_equal(web->expect_count, -1);
	assert_int_equal(web->expect_min, 1);
	assert_int_equal(web->expect_max, 9);
	unload(&l);
}

static void test_model_recovery(void **state)
{
	(void)state;
	loaded l = load(model_yaml);
	const dr_recovery *r = &l.rb->recovery;
	assert_true(r->present);
	assert_int_equal(r->point, DR_POINT_CUSTOM);
	assert_string_equal(dr_node_str(r->point_node), "custom");
	assert_string_equal(r->custom_time, "2024-05-01T14:00:00.250+02:00");
	assert_int_equal(r->custom_time_unix_ms, 1714564800250LL); /* 12:00:00.250Z */
	assert_null(r->custom_id);
	assert_int_equal(r->max_age_ms, 15 * 60000);
	assert_int_equal(r->n_fallback, 2);
	assert_int_equal(r->fallback[0], DR_POINT_LATEST_APP_CONSISTENT);
	assert_int_equal(r->fallback[1], DR_POINT_LATEST);
	assert_int_equal(r->loc.line, 16);
	unload(&l);

	l = load(HEAD "recovery: { point: \"${params.rp}\" }\nsteps: []\n");
	assert_int_equal(l.rb->recovery.point, DR_POINT_FROM_EXPR);
	assert_string_equal(dr_node_str(l.rb->recovery.point_node), "${params.rp}");
	assert_int_equal(l.rb->recovery.max_age_ms, -1);
	unload(&l);

	l = load(HEAD "steps: []\n");
	assert_false(l.rb->recovery.present);
	assert_int_equal(l.rb->recovery.point, DR_POINT_LATEST);
	assert_null(l.rb->recovery.point_node);
	unload(&l);
}

static void test_model_steps(void **state)
{
	(void)state;
	loaded l = load(model_yaml);
	dr_runbook *rb = l.rb;
	assert_int_equal(rb->n_steps, 3);
	assert_int_equal(rb->n_finally, 1);
	dr_step *down = dr_runbook_step(rb, "down");
	assert_string_equal(down->action_name.name, "dr.shutdown");
	assert_non_null(down->action);
	assert_null(down->use.name);
	assert_int_equal(down->n_targets, 2);
	assert_string_equal(down->targets[0].name, "db");
	assert_string_equal(down->targets[1].name, "web");
	assert_int_equal(dr_ref_loc(&down->targets[1]).line, 31);
	assert_int_equal(dr_ref_loc(&down->targets[1]).col, 19);
	assert_false(down->foreach);
	assert_int_equal(down->on_failure, DR_ONFAIL_CONTINUE);
	assert_int_equal(down->max_failures, 10);
	assert_true(down->max_failures_pct);
	assert_int_equal(down->timeout_ms, -1);
	assert_int_equal(down->concurrency, 0);
	assert_null(down->when);
	assert_int_equal(down->loc.line, 29);

	dr_step *fo = dr_runbook_step(rb, "failover-db");
	assert_int_equal(fo->n_needs, 1);
	assert_string_equal(fo->needs[0].name, "down");
	assert_int_equal(fo->timeout_ms, 90 * 60000);
	assert_int_equal(fo->concurrency, 2);
	assert_true(fo->pipeline);
	assert_int_equal(fo->on_failure, DR_ONFAIL_INHERIT);
	assert_int_equal(fo->max_failures, -1);
	assert_int_equal(fo->n_rollback, 1);
	assert_string_equal(fo->rollback[0].id.name, "undo-db");
	assert_non_null(fo->rollback[0].with);

	dr_step *up = dr_runbook_step(rb, "db-up");
	assert_true(up->foreach);
	assert_int_equal(up->n_targets, 1);
	assert_string_equal(up->targets[0].name, "db");
	assert_int_equal(up->n_needs, 2);
	assert_non_null(up->with);
	assert_int_equal(up->with->kind, DR_NODE_MAP);
	assert_non_null(up->when);
	assert_string_equal(dr_node_str(up->when), "${params.rp == 'latest'}");
	assert_int_equal(up->max_failures, 1);
	assert_false(up->max_failures_pct);

	dr_step *tell = dr_runbook_step(rb, "tell");
	assert_true(tell->in_finally);
	assert_false(up->in_finally);
	assert_ptr_equal(tell->node, tell->node);
	unload(&l);
}

static void test_model_retry(void **state)
{
	(void)state;
	/* built-in policy: the schema's defaults */
	loaded l = load(HEAD "steps:\n  - id: a\n    action: log\n    with: { message: hi }\n");
	const dr_retry *r = &l.rb->default_retry;
	assert_false(r->present);
	assert_int_equal(r->attempts, 1);
	assert_int_equal(r->delay_ms, 5000);
	assert_true(r->backoff == 2.0);
	assert_int_equal(r->max_delay_ms, -1);
	assert_int_equal(r->jitter, DR_JITTER_FULL);
	assert_int_equal(r->on, DR_RETRY_ON_TRANSIENT | DR_RETRY_ON_THROTTLED | DR_RETRY_ON_TIMEOUT);
	assert_int_equal(r->n_on_match, 0);
	assert_false(l.rb->steps[0].retry->present);
	assert_int_equal(l.rb->steps[0].retry->attempts, 1);
	assert_int_equal(l.rb->default_timeout_ms, -1);
	assert_int_equal(l.rb->default_concurrency, 0);
	assert_int_equal(l.rb->on_failure, DR_ONFAIL_STOP);
	assert_int_equal(l.rb->rto_ms, -1);
	unload(&l);

	/* defaults.retry over the built-in policy, a step's retry over defaults.retry */
	l = load(model_yaml);
	r = &l.rb->default_retry;
	assert_true(r->present);
	assert_int_equal(r->attempts, 3);
	assert_int_equal(r->delay_ms, 10000);
	assert_true(r->backoff == 2.0);
	assert_int_equal(r->jitter, DR_JITTER_EQUAL);
	assert_int_equal(r->on, DR_RETRY_ON_THROTTLED);
	assert_int_equal(r->n_on_match, 1);
	assert_string_equal(r->on_match[0].source, "busy|locked");
	assert_true(matches(&r->on_match[0], "vault is locked"));
	const dr_retry *s = dr_runbook_step(l.rb, "failover-db")->retry;
	assert_true(s->present);
	assert_int_equal(s->attempts, 5);
	assert_int_equal(s->delay_ms, 10000);
	assert_int_equal(s->jitter, DR_JITTER_EQUAL);
	assert_int_equal(s->n_on_match, 1);
	const dr_retry *d = dr_runbook_step(l.rb, "down")->retry;
	assert_false(d->present);
	assert_int_equal(d->attempts, 3);
	unload(&l);
}

static void test_model_composite(void **state)
{
	(void)state;
	loaded l = load("drover: 1\ncomposite: drain\ndescription: d\ninputs:\n  set: { type: string }\n"
			"  after: { type: string, default: x }\nsteps:\n  - id: a\n    action: dr.failover\n"
			"    targets: \"${inputs.set}\"\n    needs: \"${inputs.after}\"\n");
	assert_int_equal(dr_diags_count(l.d), 0);
	dr_runbook *rb = l.rb;
	assert_true(rb->is_composite);
	assert_string_equal(rb->composite_name, "drain");
	assert_null(rb->name);
	assert_int_equal(rb->n_inputs, 2);
	assert_string_equal(rb->inputs[0].name.name, "set");
	assert_string_equal(dr_node_str(rb->inputs[1].default_value), "x");
	assert_int_equal(rb->n_steps, 1);
	assert_int_equal(rb->steps[0].n_targets, 1);
	assert_string_equal(rb->steps[0].targets[0].name, "${inputs.set}");
	assert_string_equal(rb->steps[0].needs[0].name, "${inputs.after}");
	unload(&l);
}

/* A broken part is skipped, the rest is still built and checked. */
static void test_partial_model(void **state)
{
	(void)state;
	loaded l = load(HEAD "defaults: { timeout: [1], concurrency: 4 }\nsteps:\n  - id: a\n    action: nope\n"
			     "    timeout: 5x\n  - 7\n  - id: b\n    action: use-me\n    use: c\n    needs: a\n");
	dr_runbook *rb = l.rb;
	assert_int_equal(rb->default_timeout_ms, -1);
	assert_int_equal(rb->default_concurrency, 4);
	assert_int_equal(rb->n_steps, 2);
	assert_null(rb->steps[0].action);
	assert_string_equal(rb->steps[0].action_name.name, "nope");
	assert_int_equal(rb->steps[0].timeout_ms, -1);
	assert_null(rb->steps[1].use.name); /* action: and use: together: action kept, use dropped */
	assert_string_equal(rb->steps[1].action_name.name, "use-me");
	assert_int_equal(rb->steps[1].n_needs, 1);
	assert_true(dr_diags_errors(l.d) >= 4);
	unload(&l);

	dr_arena *a = dr_arena_new();
	dr_diags *d = dr_diags_new();
	assert_null(dr_check(a, d, NULL, "x.yaml"));
	dr_diags_free(d);
	dr_arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_messages),
		cmocka_unit_test(test_model_root),
		cmocka_unit_test(test_model_params_secrets),
		cmocka_unit_test(test_model_vm_sets),
		cmocka_unit_test(test_model_recovery),
		cmocka_unit_test(test_model_steps),
		cmocka_unit_test(test_model_retry),
		cmocka_unit_test(test_model_composite),
		cmocka_unit_test(test_partial_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
