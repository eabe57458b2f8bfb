/*
 * test_eval.c - evaluation of ${...} templates and with: trees.
 *
 * Table-driven: each case is a template's text and either the value it
 * must produce (as compact JSON) or a fragment of the error message. The
 * references resolve in one JSON scope (SCOPE below) through dr_eval_walk,
 * the way the executor's lookup does.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <pthread.h>

#include "run/eval.h"
#include "front/expr.h"
#include "front/load.h"
#include "util/arena.h"

static const char SCOPE[] =
	"{\"params\": {\"n\": 3, \"half\": 2.5, \"name\": \"db-1\", \"on\": true, \"off\": false,"
	"  \"nothing\": null, \"empty\": \"\", \"zero\": 0, \"list\": [10, 20, 30], \"none\": [],"
	"  \"map\": {\"a\": 1, \"b\": [1, 2]}, \"same\": {\"b\": [1, 2.0], \"a\": 1.0}, \"key\": \"a\","
	"  \"big\": 12345678901, \"frac\": 0.1, \"neg\": -4, \"nomap\": {}},"
	" \"secrets\": {\"token\": \"s3cr3t\"},"
	" \"steps\": {\"fo\": {\"outputs\": {\"ip\": \"10.0.0.7\", \"vms\": {\"web-1\": {\"ok\": true}}},"
	"                     \"status\": \"succeeded\"}},"
	" \"target\": {\"name\": \"web-1\", \"tags\": {\"tier\": \"web\", \"app id\": \"x\"}}}";

static cJSON *scope;

static const cJSON *lookup(void *ctx, const char *const *path, size_t n, char **err)
{
	return dr_eval_walk(ctx, path, n, 0, err);
}

static dr_node *scalar(dr_arena *a, const char *text)
{
	dr_node *n = dr_arena_calloc(a, 1, sizeof *n);
	n->kind = DR_NODE_SCALAR;
	dr_node_set_file(n, "t.yaml");
	n->line = n->col = 1;
	n->u.scalar.str = dr_arena_strdup(a, text);
	n->u.scalar.len = strlen(text);
	n->u.scalar.src_map = (int)strlen(text);
	return n;
}

static dr_template *compile(dr_arena *a, const char *text)
{
	dr_diags *d = dr_diags_new();
	dr_template *t = dr_template_parse(a, d, scalar(a, text));
	size_t errors = dr_diags_errors(d);
	dr_diags_free(d);
	assert_int_equal(errors, 0);
	assert_non_null(t);
	return t;
}

typedef struct ecase {
	const char *text;
	const char *json; /* expected value as compact JSON, or NULL */
	const char *err; /* expected fragment of the error, or NULL */
} ecase;

static void run_cases(const ecase *cases, size_t n)
{
	dr_arena *a = dr_arena_new();
	dr_eval_env env = {lookup, scope, NULL};
	for (size_t i = 0; i < n; i++) {
		char *err = NULL;
		cJSON *v = dr_template_eval(compile(a, cases[i].text), &env, &err);
		char *got = v ? cJSON_PrintUnformatted(v) : NULL;
		if (cases[i].json && (!got || strcmp(got, cases[i].json) != 0))
			fail_msg("%s: expected %s, got %s (error: %s)", cases[i].text, cases[i].json, got ? got : "NULL",
				 err ? err : "none");
		if (cases[i].err && (v || !err || !strstr(err, cases[i].err)))
			fail_msg("%s: expected an error with '%s', got %s / %s", cases[i].text, cases[i].err,
				 got ? got : "NULL", err ? err : "no error");
		cJSON_free(got);
		cJSON_Delete(v);
		free(err);
	}
	dr_arena_free(a);
}

#define RUN(cases) run_cases(cases, sizeof cases / sizeof cases[0])

static void test_whole_keeps_type(void **state)
{
	(void)state;
	static const ecase cases[] = {
		{"${params.n}", "3", NULL},
		{"${params.half}", "2.5", NULL},
		{"${params.on}", "true", NULL},
		{"${params.nothing}", "null", NULL},
		{"${params.list}", "[10,20,30]", NULL},
		{"${params.map}", "{\"a\":1,\"b\":[1,2]}", NULL},
		{"${ params.name }", "\"db-1\"", NULL},
		{"${steps.fo.outputs.ip}", "\"10.0.0.7\"", NULL},
		{"${steps.fo.outputs.vms['web-1'].ok}", "true", NULL},
		{"${target.tags['app id']}", "\"x\"", NULL},
		{"${42}", "42", NULL},
		{"${'a\\'b'}", "\"a'b\"", NULL},
		{"${\"x\"}", "\"x\"", NULL},
		{"${null}", "null", NULL},
		{"${false}", "false", NULL},
		{"${1.5e3}", "1500", NULL},
	};
	RUN(cases);
}

static void test_mixed_is_text(void **state)
{
	(void)state;
	static const ecase cases[] = {
		{"vm ${target.name}!", "\"vm web-1!\"", NULL},
		{"n=${params.n}", "\"n=3\"", NULL},
		{"h=${params.half}", "\"h=2.5\"", NULL},
		{"f=${params.frac}", "\"f=0.1\"", NULL},
		{"big=${params.big}", "\"big=12345678901\"", NULL},
		{"neg=${params.neg}", "\"neg=-4\"", NULL},
		{"b=${params.on}/${params.off}", "\"b=true/false\"", NULL},
		{"[${params.nothing}]", "\"[]\"", NULL},
		{"l=${params.list}", "\"l=[10,20,30]\"", NULL},
		{"m=${params.map}", "\"m={\\\"a\\\":1,\\\"b\\\":[1,2]}\"", NULL},
		{"${params.n}${params.n}", "\"33\"", NULL},
		{"$${literal} ${params.n}", "\"${literal} 3\"", NULL},
		{"x ${params.n == 3}", "\"x true\"", NULL},
	};
	RUN(cases);
}

static void test_equality(void **state)
{
	(void)state;
	static const ecase cases[] = {
		{"${1 == 1.0}", "true", NULL},
		{"${params.n == 3}", "true", NULL},
		{"${params.n != 3}", "false", NULL},
		{"${params.n == '3'}", "false", NULL},
		{"${params.name == 'db-1'}", "true", NULL},
		{"${params.name != 'db-2'}", "true", NULL},
		{"${params.on == true}", "true", NULL},
		{"${params.on == false}", "false", NULL},
		{"${params.nothing == null}", "true", NULL},
		{"${params.zero == null}", "false", NULL},
		{"${params.empty == ''}", "true", NULL},
		{"${params.map == params.same}", "true", NULL},
		{"${params.map != params.same}", "false", NULL},
		{"${params.map == params.nomap}", "false", NULL},
		{"${params.list == params.none}", "false", NULL},
		{"${params.map.b == params.same.b}", "true", NULL},
		{"${params.list[0] == 10}", "true", NULL},
	};
	RUN(cases);
}

static void test_ordering(void **state)
{
	(void)state;
	static const ecase cases[] = {
		{"${params.n < 4}", "true", NULL},
		{"${params.n < 3}", "false", NULL},
		{"${params.n <= 3}", "true", NULL},
		{"${params.n > 2.5}", "true", NULL},
		{"${params.n >= 3.5}", "false", NULL},
		{"${params.neg < 0}", "true", NULL},
		{"${'abc' < 'abd'}", "true", NULL},
		{"${'b' > 'abc'}", "true", NULL},
		{"${'a' >= 'a'}", "true", NULL},
		{"${params.name < 3}", NULL, "'<' compares two numbers or two strings, not a string and a number"},
		{"${params.on > false}", NULL, "not a boolean and a boolean"},
		{"${params.list >= 1}", NULL, "not a list and a number"},
	};
	RUN(cases);
}

static void test_logic(void **state)
{
	(void)state;
	static const ecase cases[] = {
		{"${true && true}", "true", NULL},
		{"${true && false}", "false", NULL},
		{"${false || true}", "true", NULL},
		{"${false || false}", "false", NULL},
		{"${!true}", "false", NULL},
		{"${!params.nothing}", "true", NULL},
		{"${!!params.name}", "true", NULL},
		{"${!params.empty}", "true", NULL},
		{"${!params.zero}", "true", NULL},
		{"${!params.none}", "true", NULL},
		{"${!params.nomap}", "true", NULL},
		{"${!params.list}", "false", NULL},
		{"${params.n && params.name}", "true", NULL},
		{"${params.n > 1 && params.name =~ '^db-'}", "true", NULL},
		/* short circuit: the right side would fail */
		{"${false && params.missing}", "false", NULL},
		{"${true || params.missing}", "true", NULL},
		{"${true && params.missing}", NULL, "params.missing is missing"},
		{"${false || params.missing}", NULL, "params.missing is missing"},
		{"${(params.n == 3 || false) && !(params.n == 4)}", "true", NULL},
	};
	RUN(cases);
}

static void test_negation(void **state)
{
	(void)state;
	static const ecase cases[] = {
		{"${-params.n}", "-3", NULL},
		{"${--params.n}", "3", NULL},
		{"${-params.n < 0}", "true", NULL},
		{"${-params.name}", NULL, "'-' needs a number, but params.name is a string"},
	};
	RUN(cases);
}

static void test_indexing(void **state)
{
	(void)state;
	static const ecase cases[] = {
		{"${params.list[0]}", "10", NULL},
		{"${params.list[2]}", "30", NULL},
		{"${params.list[-1]}", "30", NULL},
		{"${params.list[-3]}", "10", NULL},
		{"${params.map['a']}", "1", NULL},
		{"${params.map[params.key]}", "1", NULL},
		{"${params.map.b[1]}", "2", NULL},
		{"${params.list[3]}", NULL, "params.list has 3 items: index 3 is out of range"},
		{"${params.list[-4]}", NULL, "index -4 is out of range"},
		{"${params.list[0.5]}", NULL, "params.list is a list: its index must be an integer, not number '0.5'"},
		{"${params.list['a']}", NULL, "params.list is a list: it has no field 'a'"},
		{"${params.list[params.key]}", NULL, "its index must be an integer, not string 'a'"},
		{"${params.map[1]}", NULL, "params.map is a mapping: its key must be a string, not number '1'"},
		{"${params.map[params.name]}", NULL, "params.map has no key 'db-1'"},
		{"${params.name[0]}", NULL, "params.name is a string: only lists and mappings can be indexed"},
		{"${params.list[params.missing]}", NULL, "params.missing is missing"},
		{"${params.list[1]['x']}", NULL, "params.list[1] is a number: only lists and mappings can be indexed"},
	};
	RUN(cases);
}

static void test_missing(void **state)
{
	(void)state;
	static const ecase cases[] = {
		{"${steps.fo.outputs.ipp}", NULL, "steps.fo.outputs.ipp is missing"},
		{"${steps.fb.outputs.ip}", NULL, "steps.fb is missing"},
		{"url: ${steps.fo.outputs.ip.x}", NULL, "steps.fo.outputs.ip is a string: it has no field 'x'"},
		{"${target.tags['no such']}", NULL, "target.tags['no such'] is missing"},
		{"${params.nothing}", "null", NULL}, /* present but null is not missing */
		{"${steps.fo.outputs.nope == 1}", NULL, "steps.fo.outputs.nope is missing"},
	};
	RUN(cases);
}

/* Compared with a literal null, a missing reference or index counts as null: a presence test. */
static void test_presence(void **state)
{
	(void)state;
	static const ecase cases[] = {
		{"${steps.fo.outputs.nope == null}", "true", NULL},
		{"${steps.fo.outputs.nope != null}", "false", NULL},
		{"${steps.fo.outputs.ip != null}", "true", NULL},
		{"${null != steps.fo.outputs.ip}", "true", NULL},
		{"${null == steps.fb.outputs.ip}", "true", NULL},
		{"${params.nothing == null}", "true", NULL},
		{"${params.list[7] == null}", "true", NULL},
		{"${params.list[1] != null}", "true", NULL},
		{"${params.map['zz'].yy == null}", "true", NULL},
		{"${params.map[params.key] != null}", "true", NULL},
		{"${params.map.b[5] == null && params.map.a == 1}", "true", NULL},
		{"${steps.fo.outputs.ip.x == null}", "true", NULL},
		/* only the chain itself: the index, and other operators, must still exist */
		{"${params.map[params.zz] == null}", NULL, "params.zz is missing"},
		{"${!steps.fo.outputs.nope == null}", NULL, "steps.fo.outputs.nope is missing"},
		{"${params.list[0.5] == null}", NULL, "its index must be an integer"},
		{"${steps.fo.outputs.nope == null || steps.fo.outputs.nope == 'x'}", "true", NULL},
		{"${steps.fo.outputs.ip == null || steps.fo.outputs.nope == 'x'}", NULL, "steps.fo.outputs.nope is missing"},
	};
	RUN(cases);
}

static void test_regex(void **state)
{
	(void)state;
	static const ecase cases[] = {
		{"${params.name =~ '^db-[0-9]+$'}", "true", NULL},
		{"${params.name =~ '^web'}", "false", NULL},
		{"${params.name !~ '^web'}", "true", NULL},
		{"${params.name !~ 'db'}", "false", NULL},
		{"${steps.fo.outputs.ip =~ '^10\\.0\\.\\d+\\.\\d+$'}", "true", NULL},
		{"${'Ünïcode' =~ '^\\w+$'}", "false", NULL}, /* \w is ASCII unless UCP */
		{"${'Ünïcode' =~ '^.{7}$'}", "true", NULL}, /* UTF mode: characters, not bytes */
		{"${params.n =~ '3'}", NULL, "'=~' needs a string on its left, but params.n is a number"},
	};
	RUN(cases);
}

/* A lookup that fails with its own message, and one that reports nothing. */
static const cJSON *picky(void *ctx, const char *const *path, size_t n, char **err)
{
	(void)ctx;
	(void)n;
	char buf[128];
	snprintf(buf, sizeof buf, "no such root '%s' here", path[0]);
	*err = strdup(buf);
	return NULL;
}

static void test_lookup_messages(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	char *err = NULL;
	dr_eval_env env = {picky, NULL, NULL};
	assert_null(dr_template_eval(compile(a, "${run.id}"), &env, &err));
	assert_string_equal(err, "no such root 'run' here");
	free(err);
	dr_eval_env empty = {NULL, NULL, NULL};
	assert_null(dr_template_eval(compile(a, "x ${run.id} y"), &empty, &err));
	assert_string_equal(err, "run.id is missing");
	free(err);
	assert_null(dr_template_eval(compile(a, "${run.id}"), &empty, NULL)); /* err optional */
	dr_arena_free(a);
}

static void test_secrets(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	bool tainted = false;
	dr_eval_env env = {lookup, scope, &tainted};
	cJSON *v = dr_template_eval(compile(a, "Bearer ${secrets.token}"), &env, NULL);
	assert_string_equal(cJSON_GetStringValue(v), "Bearer s3cr3t");
	assert_true(tainted);
	cJSON_Delete(v);

	tainted = false;
	v = dr_template_eval(compile(a, "${false && secrets.token == 'x'}"), &env, NULL);
	assert_false(tainted); /* not evaluated */
	cJSON_Delete(v);
	v = dr_template_eval(compile(a, "${params.name}"), &env, NULL);
	assert_false(tainted);
	cJSON_Delete(v);

	assert_true(dr_template_reads_secret(compile(a, "${false && secrets.token == 'x'}")));
	assert_true(dr_template_reads_secret(compile(a, "a ${params.n} b ${secrets['token']}")));
	assert_false(dr_template_reads_secret(compile(a, "${params.secrets}")));
	assert_false(dr_template_reads_secret(NULL));
	dr_arena_free(a);
}

static void test_to_text_and_truthy(void **state)
{
	(void)state;
	static const struct {
		const char *json, *text;
		bool truthy;
	} cases[] = {
		{"\"x\"", "x", true},	{"\"\"", "", false},	       {"0", "0", false},	 {"-0.0", "0", false},
		{"3.0", "3", true},	{"0.1", "0.1", true},	       {"1e300", "1e+300", true}, {"true", "true", true},
		{"false", "false", false}, {"null", "", false},       {"[]", "[]", false},	 {"[1]", "[1]", true},
		{"{}", "{}", false},	{"{\"a\":\"b\"}", "{\"a\":\"b\"}", true}, {"1234567890123", "1234567890123", true},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cJSON *v = cJSON_Parse(cases[i].json);
		char *t = dr_eval_to_text(v);
		assert_string_equal(t, cases[i].text);
		assert_int_equal(dr_eval_truthy(v), cases[i].truthy);
		free(t);
		cJSON_Delete(v);
	}
	assert_false(dr_eval_truthy(NULL));
	char *t = dr_eval_to_text(NULL);
	assert_string_equal(t, "");
	free(t);
}

static void test_walk(void **state)
{
	(void)state;
	static const char *const p1[] = {"params", "list", "1"};
	static const char *const p2[] = {"params", "list", "7"};
	static const char *const p3[] = {"params", "n", "x"};
	char *err = NULL;
	const cJSON *v = dr_eval_walk(scope, p1, 3, 0, &err);
	assert_non_null(v);
	assert_null(err);
	assert_int_equal(v->valueint, 20);
	assert_null(dr_eval_walk(scope, p2, 3, 0, &err));
	assert_string_equal(err, "params.list has 3 items: index 7 is out of range");
	free(err);
	assert_null(dr_eval_walk(scope, p3, 3, 0, &err));
	assert_string_equal(err, "params.n is a number: it has no field 'x'");
	free(err);
	assert_null(dr_eval_walk(NULL, p1, 3, 2, &err));
	assert_string_equal(err, "params.list is missing");
	free(err);
	/* from: the callback already resolved the first segments */
	v = dr_eval_walk(cJSON_GetObjectItem(scope, "params"), p1, 3, 1, NULL);
	assert_int_equal(v->valueint, 20);
}

/* ------------------------------------------------------------ node trees */

/* Compile every scalar with ${ in the tree, as resolve does. */
static void compile_tree(dr_arena *a, dr_diags *d, dr_node *n)
{
	if (n->kind == DR_NODE_SCALAR && n->u.scalar.str && strstr(n->u.scalar.str, "${"))
		dr_node_set_template(a, n, dr_template_parse(a, d, n));
	for (size_t i = 0; n->kind == DR_NODE_MAP && i < n->u.map.n; i++)
		compile_tree(a, d, n->u.map.items[i].value);
	for (size_t i = 0; n->kind == DR_NODE_SEQ && i < n->u.seq.n; i++)
		compile_tree(a, d, n->u.seq.items[i]);
}

static dr_node *load_with(dr_arena *a, const char *yaml)
{
	dr_diags *d = dr_diags_new();
	dr_node *n = dr_load_string(a, d, "t.yaml", yaml, strlen(yaml), NULL);
	assert_non_null(n);
	compile_tree(a, d, n);
	assert_int_equal(dr_diags_errors(d), 0);
	dr_diags_free(d);
	return n;
}

static void check_node(const char *yaml, const char *json, const char *err_want)
{
	dr_arena *a = dr_arena_new();
	dr_eval_env env = {lookup, scope, NULL};
	char *err = NULL;
	cJSON *v = dr_node_eval(load_with(a, yaml), &env, &err);
	char *got = v ? cJSON_PrintUnformatted(v) : NULL;
	if (json && (!got || strcmp(got, json) != 0))
		fail_msg("%s: expected %s, got %s (%s)", yaml, json, got ? got : "NULL", err ? err : "");
	if (err_want && (!err || strcmp(err, err_want) != 0))
		fail_msg("%s: expected error '%s', got '%s'", yaml, err_want, err ? err : "none");
	cJSON_free(got);
	cJSON_Delete(v);
	free(err);
	dr_arena_free(a);
}

static void test_node_eval(void **state)
{
	(void)state;
	check_node("url: http://${steps.fo.outputs.ip}/\nport: 8080\nratio: 0.5\nok: true\nquoted: \"true\"\n"
		   "yes: yes\nnone: null\ntilde: ~\nn: ${params.n}\noct: 010\nhex: 0x1F\n",
		   "{\"url\":\"http://10.0.0.7/\",\"port\":8080,\"ratio\":0.5,\"ok\":true,\"quoted\":\"true\","
		   "\"yes\":\"yes\",\"none\":null,\"tilde\":null,\"n\":3,\"oct\":10,\"hex\":31}",
		   NULL);
	check_node("argv: [curl, -s, '${steps.fo.outputs.ip}', '${params.n}']\nenv: {TOKEN: '${secrets.token}'}\n",
		   "{\"argv\":[\"curl\",\"-s\",\"10.0.0.7\",3],\"env\":{\"TOKEN\":\"s3cr3t\"}}", NULL);
	check_node("url: http://${steps.fo.outputs.ipp}/\n", NULL, "with.url: steps.fo.outputs.ipp is missing");
	check_node("argv: [a, b, '${steps.x.outputs}']\n", NULL, "with.argv[2]: steps.x is missing");
	check_node("env: {'A B': '${params.nope}'}\n", NULL, "with.env['A B']: params.nope is missing");
	check_node("a: {b: [{c: '${-params.name}'}]}\n", NULL,
		   "with.a.b[0].c: '-' needs a number, but params.name is a string");
	check_node("{}\n", "{}", NULL);
}

static void test_node_eval_misc(void **state)
{
	(void)state;
	char *err = NULL;
	cJSON *v = dr_node_eval(NULL, NULL, &err);
	assert_true(cJSON_IsObject(v));
	assert_null(err);
	cJSON_Delete(v);

	dr_arena *a = dr_arena_new();
	dr_eval_env env = {lookup, scope, NULL};
	dr_node *n = load_with(a, "'${params.n > 5}'\n");
	v = dr_node_eval_at(n, "when", &env, &err);
	assert_true(cJSON_IsFalse(v));
	cJSON_Delete(v);
	n = load_with(a, "'${params.zz}'\n");
	assert_null(dr_node_eval_at(n, "when", &env, &err));
	assert_string_equal(err, "when: params.zz is missing");
	free(err);
	assert_null(dr_node_eval_at(n, NULL, &env, &err));
	assert_string_equal(err, "params.zz is missing");
	free(err);

	assert_true(dr_node_reads_secret(load_with(a, "a: [x, {b: 'k=${secrets.token}'}]\n")));
	assert_false(dr_node_reads_secret(load_with(a, "a: [x, {b: 'k=${params.n}'}]\n")));
	dr_arena_free(a);
}

/* ------------------------------------------------------------- threads */

typedef struct job {
	const dr_template *t;
	int ok;
} job;

static void *worker(void *arg)
{
	job *j = arg;
	dr_eval_env env = {lookup, scope, NULL};
	for (int i = 0; i < 2000; i++) {
		cJSON *v = dr_template_eval(j->t, &env, NULL);
		j->ok += cJSON_IsTrue(v);
		cJSON_Delete(v);
	}
	return NULL;
}

static void test_threads(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	const dr_template *t = compile(a, "${steps.fo.outputs.ip =~ '^10\\.' && params.map == params.same}");
	pthread_t th[4];
	job jobs[4];
	for (int i = 0; i < 4; i++) {
		jobs[i] = (job){t, 0};
		assert_int_equal(pthread_create(&th[i], NULL, worker, &jobs[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(jobs[i].ok, 2000);
	}
	dr_arena_free(a);
}

static int setup(void **state)
{
	(void)state;
	scope = cJSON_Parse(SCOPE);
	return scope ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	cJSON_Delete(scope);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_whole_keeps_type),
		cmocka_unit_test(test_mixed_is_text),
		cmocka_unit_test(test_equality),
		cmocka_unit_test(test_ordering),
		cmocka_unit_test(test_logic),
		cmocka_unit_test(test_negation),
		cmocka_unit_test(test_indexing),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_presence),
		cmocka_unit_test(test_regex),
		cmocka_unit_test(test_lookup_messages),
		cmocka_unit_test(test_secrets),
		cmocka_unit_test(test_to_text_and_truthy),
		cmocka_unit_test(test_walk),
		cmocka_unit_test(test_node_eval),
		cmocka_unit_test(test_node_eval_misc),
		cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
