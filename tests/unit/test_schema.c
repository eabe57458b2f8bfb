/*
 * test_schema.c - the schema tables and what is generated from them: the
 * JSON Schema (parsed back with cJSON and inspected) and the Markdown key
 * reference.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "actions/action.h"
#include "front/schema.h"

typedef void (*printer)(FILE *);

static char *capture(printer p)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	p(f);
	fclose(f);
	return out;
}

static cJSON *schema_json(void)
{
	char *text = capture(dr_schema_print_json);
	assert_true(text[strlen(text) - 1] == '\n');
	cJSON *root = cJSON_Parse(text);
	free(text);
	assert_non_null(root);
	return root;
}

static cJSON *at(cJSON *o, const char *path)
{
	char buf[256];
	snprintf(buf, sizeof buf, "%s", path);
	for (char *save = NULL, *k = strtok_r(buf, "/", &save); k; k = strtok_r(NULL, "/", &save)) {
		o = cJSON_IsArray(o) ? cJSON_GetArrayItem(o, atoi(k)) : cJSON_GetObjectItemCaseSensitive(o, k);
		if (!o)
			return NULL;
	}
	return o;
}

static bool array_has(cJSON *arr, const char *s)
{
	cJSON *it;
	cJSON_ArrayForEach(it, arr)
		if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
			return true;
	return false;
}

static void test_lookup(void **state)
{
	(void)state;
	const dr_field *f = dr_schema_field(&dr_schema_step, "timeout");
	assert_non_null(f);
	assert_int_equal(f->type->kind, DR_T_DURATION);
	assert_null(dr_schema_field(&dr_schema_step, "timout"));
	assert_null(dr_schema_field(f->type, "x")); /* not a map */
	assert_true(dr_schema_field(&dr_schema_runbook, "drover")->required);
	assert_true(dr_schema_field(&dr_schema_composite, "composite")->required);

	const char *names[4];
	assert_int_equal(dr_schema_field_names(&dr_schema_step, names, 4), 3);
	assert_string_equal(names[0], "id");
	assert_null(names[3]);
	const char *all[64];
	size_t n = dr_schema_field_names(&dr_schema_step, all, 64);
	assert_true(n > 15);
	assert_null(all[n]);

	assert_non_null(dr_schema_backend("sim"));
	assert_non_null(dr_schema_field(dr_schema_backend("azure"), "vault"));
	assert_null(dr_schema_backend("aws"));
	assert_null(dr_schema_backend(NULL));
	assert_non_null(dr_schema_field(dr_schema_backend_base(), "kind"));
}

/* Every key of every reachable mapping has a doc string (the docs are generated from them). */
static size_t undocumented(const dr_type *t, int depth)
{
	size_t n = 0;
	if (!t || depth > 8)
		return 0;
	for (const dr_field *f = t->kind == DR_T_MAP ? t->fields : NULL; f && f->name; f++) {
		if (!f->doc || !*f->doc) {
			fprintf(stderr, "field '%s' has no doc\n", f->name);
			n++;
		}
		n += undocumented(f->type, depth + 1);
	}
	n += undocumented(t->items, depth + 1);
	for (size_t i = 0; t->kind == DR_T_ONEOF && t->alts[i]; i++)
		n += undocumented(t->alts[i], depth + 1);
	return n;
}

static void test_every_field_documented(void **state)
{
	(void)state;
	assert_int_equal(undocumented(&dr_schema_runbook, 0), 0);
	assert_int_equal(undocumented(&dr_schema_composite, 0), 0);
	assert_int_equal(undocumented(dr_schema_backend("sim"), 0), 0);
	assert_int_equal(undocumented(dr_schema_backend("azure"), 0), 0);
}

static void test_json_top(void **state)
{
	(void)state;
	cJSON *root = schema_json();
	assert_string_equal(at(root, "$schema")->valuestring, "http://json-schema.org/draft-07/schema#");
	assert_non_null(at(root, "title"));
	assert_string_equal(at(root, "then/$ref")->valuestring, "#/definitions/composite");
	assert_string_equal(at(root, "else/$ref")->valuestring, "#/definitions/runbook");
	assert_true(array_has(at(root, "if/required"), "composite"));
	const char *defs[] = {"runbook", "composite", "step", "retry", "param", "secret", "vm-set", "recovery",
			      "defaults", "backend", "backend-sim", "backend-azure", "expression"};
	for (size_t i = 0; i < sizeof defs / sizeof defs[0]; i++)
		assert_non_null(at(at(root, "definitions"), defs[i]));
	cJSON_Delete(root);
}

static void test_json_runbook(void **state)
{
	(void)state;
	cJSON *root = schema_json();
	cJSON *rb = at(root, "definitions/runbook");
	assert_string_equal(at(rb, "type")->valuestring, "object");
	assert_true(cJSON_IsFalse(at(rb, "additionalProperties")));
	cJSON *req = at(rb, "required");
	assert_true(array_has(req, "drover"));
	assert_true(array_has(req, "name"));
	assert_true(array_has(req, "steps"));
	assert_false(array_has(req, "description"));
	assert_int_equal(at(rb, "properties/drover/const")->valueint, 1);
	assert_string_equal(at(rb, "properties/steps/items/$ref")->valuestring, "#/definitions/step");
	assert_int_equal(at(rb, "properties/steps/minItems")->valueint, 1);
	assert_string_equal(at(rb, "properties/on_failure/default")->valuestring, "stop");
	assert_true(array_has(at(rb, "properties/on_failure/enum"), "rollback"));
	assert_string_equal(at(rb, "properties/params/propertyNames/pattern")->valuestring, "^[a-z0-9][a-z0-9_-]*$");
	/* a $ref field keeps its doc beside an allOf */
	assert_string_equal(at(rb, "properties/recovery/allOf/0/$ref")->valuestring, "#/definitions/recovery");
	assert_non_null(at(rb, "properties/recovery/description"));
	/* every field of the table is a property, with a description */
	for (const dr_field *f = dr_schema_runbook.fields; f->name; f++) {
		cJSON *p = at(at(rb, "properties"), f->name);
		assert_non_null(p);
		assert_true(cJSON_IsString(at(p, "description")));
	}
	cJSON_Delete(root);
}

static void test_json_step(void **state)
{
	(void)state;
	cJSON *root = schema_json();
	cJSON *step = at(root, "definitions/step");
	for (const dr_field *f = dr_schema_step.fields; f->name; f++)
		assert_non_null(at(at(step, "properties"), f->name));
	assert_true(array_has(at(step, "required"), "id"));
	/* recursion through rollback: a $ref, not an endless inline copy */
	assert_string_equal(at(step, "properties/rollback/items/$ref")->valuestring, "#/definitions/step");
	assert_string_equal(at(step, "properties/retry/allOf/0/$ref")->valuestring, "#/definitions/retry");
	/* durations are patterns; expressions an alternative where allowed */
	assert_non_null(at(step, "properties/timeout/pattern"));
	assert_string_equal(at(step, "properties/when/anyOf/0/type")->valuestring, "boolean");
	assert_string_equal(at(step, "properties/when/anyOf/1/$ref")->valuestring, "#/definitions/expression");
	assert_non_null(at(step, "properties/max_failures/anyOf"));
	/* action xor use; targets and foreach exclusive */
	assert_true(array_has(at(step, "oneOf/0/required"), "action"));
	assert_true(array_has(at(step, "oneOf/1/required"), "use"));
	assert_true(array_has(at(step, "not/required"), "foreach"));
	cJSON_Delete(root);
}

static cJSON *action_rule(cJSON *step, const char *name)
{
	cJSON *rule;
	cJSON_ArrayForEach(rule, at(step, "allOf"))
	{
		cJSON *c = at(rule, "if/properties/action/const");
		if (c && strcmp(c->valuestring, name) == 0)
			return rule;
	}
	return NULL;
}

static void test_json_actions(void **state)
{
	(void)state;
	size_t n = 0;
	const dr_action *const *all = dr_action_all(&n);
	cJSON *root = schema_json();
	cJSON *step = at(root, "definitions/step");
	if (n == 0) {
		assert_null(at(step, "allOf"));
		cJSON_Delete(root);
		return;
	}
	assert_int_equal(cJSON_GetArraySize(at(step, "allOf")), (int)n);
	assert_int_equal(cJSON_GetArraySize(at(step, "properties/action/enum")), (int)n);
	for (size_t i = 0; i < n; i++) {
		cJSON *rule = action_rule(step, all[i]->name);
		assert_non_null(rule);
		cJSON *with = at(rule, "then/properties/with");
		assert_non_null(with);
		bool per_target = all[i]->flags & DR_AF_PER_TARGET;
		assert_true(per_target == (at(rule, "then/anyOf") != NULL));
		for (const dr_field *f = all[i]->input ? all[i]->input->fields : NULL; f && f->name; f++) {
			assert_non_null(at(at(with, "properties"), f->name));
			if (f->required)
				assert_true(array_has(at(with, "required"), f->name));
		}
	}
	cJSON_Delete(root);
}

static void test_json_backend_and_extras(void **state)
{
	(void)state;
	cJSON *root = schema_json();
	cJSON *b = at(root, "definitions/backend");
	assert_true(array_has(at(b, "required"), "kind"));
	assert_string_equal(at(b, "allOf/0/if/properties/kind/const")->valuestring, "sim");
	assert_string_equal(at(b, "allOf/1/if/properties/kind/const")->valuestring, "azure");
	assert_string_equal(at(b, "allOf/1/then/$ref")->valuestring, "#/definitions/backend-azure");
	cJSON *az = at(root, "definitions/backend-azure");
	assert_true(array_has(at(az, "required"), "vault"));
	assert_string_equal(at(az, "properties/api_version/default")->valuestring, "2025-08-01");
	cJSON *retry = at(root, "definitions/retry");
	assert_int_equal(at(retry, "properties/attempts/default")->valueint, 1);
	assert_int_equal(at(retry, "properties/attempts/minimum")->valueint, 1);
	assert_true(array_has(at(retry, "properties/on/default"), "throttled"));
	assert_true(array_has(at(retry, "properties/on/default"), "timeout"));
	assert_non_null(at(root, "definitions/secret/oneOf"));
	assert_non_null(at(root, "definitions/recovery/then/anyOf"));
	cJSON_Delete(root);
}

static void test_markdown(void **state)
{
	(void)state;
	char *md = capture(dr_schema_print_markdown);
	assert_non_null(strstr(md, "### runbook\n"));
	assert_non_null(strstr(md, "### step\n"));
	assert_non_null(strstr(md, "### backend-azure\n"));
	assert_non_null(strstr(md, "| Key | Type | Default | Description |"));
	assert_non_null(strstr(md, "| `id` **(required)** | [identifier](#identifiers) |"));
	assert_non_null(strstr(md, "| `rollback` | list of [step](#step) |"));
	assert_non_null(strstr(md, "| `on_failure` | one of `stop`, `continue`, `rollback` | `stop` |"));
	/* no raw | inside a cell would break the table: every table row has exactly 5 bars */
	for (char *line = md; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		if (line[0] != '|')
			continue;
		int bars = 0;
		for (char *p = line; *p && *p != '\n'; p++)
			bars += *p == '|' && (p == line || p[-1] != '\\');
		assert_int_equal(bars, 5);
	}
	free(md);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_every_field_documented),
		cmocka_unit_test(test_json_top),
		cmocka_unit_test(test_json_runbook),
		cmocka_unit_test(test_json_step),
		cmocka_unit_test(test_json_actions),
		cmocka_unit_test(test_json_backend_and_extras),
		cmocka_unit_test(test_markdown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
