/*
 * fuzz_expr.c - libFuzzer target for ${...} templates: the bytes are the
 * text of one scalar (NULs included, as a "\0" escape can put them there),
 * parsed with dr_template_parse, type-checked in a permissive scope and,
 * when the check passes, evaluated against fixed values; the diagnostics
 * are rendered to /dev/null.
 *
 * Scope: every reference exists. params.{n,s,b,m,l} have the static types
 * number, string, boolean, mapping, list; the rest are "any", so type
 * errors that only show at run time reach the evaluator. At evaluation a
 * reference is looked up in VALUES below; what is not there gets a fixed
 * value picked by its last segment's length (a number, a string, a list, a
 * map, null) or, one time in six, no value (the "is missing" path).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "front/diag.h"
#include "run/eval.h"
#include "front/expr.h"
#include "front/load.h"
#include "util/arena.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char VALUES[] =
	"{\"params\": {\"n\": 3, \"s\": \"db-1\", \"b\": true, \"m\": {\"a\": 1, \"b\": [1, 2], \"k\": \"v\"},"
	"  \"l\": [10, -20.5, \"x\", null, {\"a\": []}], \"big\": 1e308, \"neg\": -4, \"empty\": \"\"},"
	" \"secrets\": {\"token\": \"s3cr3t\"},"
	" \"steps\": {\"fo\": {\"outputs\": {\"ip\": \"10.0.0.7\", \"vms\": {\"web-1\": {\"ok\": true}}},"
	"                     \"status\": \"succeeded\"}},"
	" \"target\": {\"name\": \"web-1\", \"tags\": {\"tier\": \"web\"}}}";

static cJSON *values;
static cJSON *fixed[5];
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	values = cJSON_Parse(VALUES);
	fixed[0] = cJSON_CreateNumber(7);
	fixed[1] = cJSON_CreateString("text");
	fixed[2] = cJSON_Parse("[1, \"two\", [3], {\"four\": 4}]");
	fixed[3] = cJSON_Parse("{\"a\": 1, \"k\": \"v\", \"outputs\": {\"x\": 0.5}}");
	fixed[4] = cJSON_CreateNull();
	devnull = fopen("/dev/null", "w");
	if (!values || !devnull)
		abort();
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (!fixed[i])
			abort();
	return 0;
}

static bool scope_lookup(void *ctx, const char *const *path, size_t n, size_t *bad, dr_vtype *type,
			 const char **why, const char **hint)
{
	(void)ctx;
	(void)bad;
	(void)why;
	(void)hint;
	static const struct { const char *name; dr_vtype type; } params[] = {
		{"n", DR_VT_NUMBER}, {"s", DR_VT_STRING}, {"b", DR_VT_BOOL}, {"m", DR_VT_MAP}, {"l", DR_VT_LIST},
	};
	*type = DR_VT_ANY;
	if (n == 2 && strcmp(path[0], "params") == 0)
		for (size_t i = 0; i < sizeof params / sizeof params[0]; i++)
			if (strcmp(path[1], params[i].name) == 0)
				*type = params[i].type;
	return true;
}

static const cJSON *eval_lookup(void *ctx, const char *const *path, size_t n, char **err)
{
	(void)ctx;
	const cJSON *v = dr_eval_walk(values, path, n, 0, err);
	if (v)
		return v;
	size_t len = strlen(path[n - 1]);
	if (len % 6 == 5)
		return NULL; /* *err is the walker's "... is missing" */
	free(*err);
	*err = NULL;
	return fixed[len % 5];
}

static dr_node *scalar(dr_arena *a, const uint8_t *data, size_t size)
{
	dr_node *n = dr_arena_alloc(a, sizeof *n);
	char *text = dr_arena_alloc_uninit(a, size + 1);
	memcpy(text, data, size);
	text[size] = '\0';
	n->kind = DR_NODE_SCALAR;
	dr_node_set_file(n, "fuzz.yaml");
	n->line = n->col = 1;
	n->span = (int)size;
	n->u.scalar.str = text;
	n->u.scalar.len = size;
	n->style = DR_STYLE_PLAIN;
	n->u.scalar.src_map = (int)size;
	return n;
}

static void count_ref(void *ctx, const dr_expr *ref)
{
	(void)ref;
	(*(size_t *)ctx)++;
}

static void evaluate(const dr_template *t)
{
	bool read_secret = false;
	dr_eval_env env = {eval_lookup, NULL, &read_secret};
	char *err = NULL;
	cJSON *v = dr_template_eval(t, &env, &err);
	if (v) {
		(void)dr_eval_truthy(v);
		free(dr_eval_to_text(v));
		cJSON_Delete(v);
	}
	free(err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 1 << 16)
		return 0; /* a scalar this long is no more interesting, and src_map is an int */
	dr_arena *a = dr_arena_new();
	dr_diags *diags = dr_diags_new();
	dr_diags_add_source(diags, "fuzz.yaml", (const char *)data, size);
	dr_template *t = dr_template_parse(a, diags, scalar(a, data, size));
	dr_scope scope = {scope_lookup, NULL};
	if (t && dr_template_check(t, diags, &scope) == 0) {
		size_t refs = 0;
		dr_template_each_ref(t, count_ref, &refs);
		(void)dr_template_reads_secret(t);
		evaluate(t);
	}
	dr_diags_sort(diags);
	dr_diags_render_text(diags, devnull, false);
	dr_diags_render_json(diags, devnull);
	dr_diags_free(diags);
	dr_arena_free(a);
	return 0;
}
