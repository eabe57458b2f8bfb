/*
 * test_diag.c - collecting, sorting and rendering diagnostics.
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

#include "front/diag.h"

static char *render(dr_diags *d, bool json)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (json)
		dr_diags_render_json(d, f);
	else
		dr_diags_render_text(d, f, false);
	fclose(f);
	return out;
}

static const char src[] = "drover: 1\nsteps:\n  - id: a\n    timout: 5m\n";

static void test_text_caret_and_hint(void **state)
{
	(void)state;
	dr_diags *d = dr_diags_new();
	dr_diags_add_source(d, "rb.yaml", src, sizeof src - 1);
	dr_diag *g = dr_diag_error(d, DR203, (dr_loc){"rb.yaml", 4, 5, 6}, "unknown key '%s' in a step", "timout");
	dr_diag_set_hint(g, "did you mean '%s'?", "timeout");
	char *out = render(d, false);
	assert_string_equal(out, "rb.yaml:4:5: error: unknown key 'timout' in a step [DR203]\n"
				 "    4 |     timout: 5m\n"
				 "      |     ^~~~~~\n"
				 "hint: did you mean 'timeout'?\n");
	free(out);
	dr_diags_free(d);
}

static void test_sorted_and_counted(void **state)
{
	(void)state;
	dr_diags *d = dr_diags_new();
	dr_diag_warning(d, DR405, (dr_loc){"b.yaml", 1, 1, 1}, "w");
	dr_diag_error(d, DR201, (dr_loc){"a.yaml", 9, 3, 1}, "late");
	dr_diag_error(d, DR202, (dr_loc){"a.yaml", 2, 7, 1}, "early");
	assert_int_equal(dr_diags_errors(d), 2);
	assert_int_equal(dr_diags_warnings(d), 1);
	dr_diags_sort(d);
	assert_string_equal(dr_diags_get(d, 0)->msg, "early");
	assert_string_equal(dr_diags_get(d, 1)->msg, "late");
	assert_string_equal(dr_diags_get(d, 2)->msg, "w");
	assert_true(dr_diags_has(d, DR201, 9, 3));
	assert_false(dr_diags_has(d, DR201, 9, 4));
	assert_string_equal(dr_code_id(DR403), "DR403");
	assert_string_equal(dr_code_name(DR403), "dependency-cycle");
	dr_diags_free(d);
}

/* dr_diags_has indexes the list on its first call: items added after it, and a sort, are seen. */
static void test_has_after_adds_and_sort(void **state)
{
	(void)state;
	dr_diags *d = dr_diags_new();
	for (int i = 1; i <= 300; i++)
		dr_diag_error(d, DR408, (dr_loc){"a.yaml", 301 - i, 5, 1}, "r%d", i);
	assert_true(dr_diags_has(d, DR408, 300, 5));
	assert_false(dr_diags_has(d, DR408, 300, 6));
	assert_false(dr_diags_has(d, DR407, 300, 5));
	assert_false(dr_diags_has(d, DR408, 301, 5));
	dr_diag_error(d, DR408, (dr_loc){"a.yaml", 301, 5, 1}, "added after the index");
	assert_true(dr_diags_has(d, DR408, 301, 5));
	dr_diags_sort(d);
	for (int line = 1; line <= 301; line++)
		assert_true(dr_diags_has(d, DR408, line, 5));
	dr_diag_warning(d, DR405, (dr_loc){"a.yaml", 7, 1, 1}, "w");
	assert_true(dr_diags_has(d, DR405, 7, 1));
	assert_false(dr_diags_has(d, DR405, 8, 1));
	dr_diags_free(d);
}

static void test_json(void **state)
{
	(void)state;
	dr_diags *d = dr_diags_new();
	dr_diag_error(d, DR206, (dr_loc){"rb.yaml", 4, 13, 2}, "bad \"duration\"");
	char *out = render(d, true);
	cJSON *arr = cJSON_Parse(out);
	assert_non_null(arr);
	assert_int_equal(cJSON_GetArraySize(arr), 1);
	cJSON *o = cJSON_GetArrayItem(arr, 0);
	assert_string_equal(cJSON_GetObjectItem(o, "code")->valuestring, "DR206");
	assert_string_equal(cJSON_GetObjectItem(o, "message")->valuestring, "bad \"duration\"");
	assert_int_equal(cJSON_GetObjectItem(o, "end_column")->valueint, 15);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(o, "hint")));
	cJSON_Delete(arr);
	free(out);
	dr_diags_free(d);
}

static void test_whole_file_and_missing_source(void **state)
{
	(void)state;
	dr_diags *d = dr_diags_new();
	dr_diag_error(d, DR901, (dr_loc){"gone.yaml", 0, 0, 0}, "cannot read: No such file");
	dr_diag_error(d, DR201, (dr_loc){"nosrc.yaml", 3, 1, 1}, "x");
	char *out = render(d, false);
	assert_string_equal(out, "gone.yaml: error: cannot read: No such file [DR901]\n"
				 "nosrc.yaml:3:1: error: x [DR201]\n");
	free(out);
	dr_diags_free(d);
}

static char *render_ci(dr_diags *d, bool sarif)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	if (sarif)
		dr_diags_render_sarif(d, "9.9.9", f);
	else
		dr_diags_render_github(d, f);
	fclose(f);
	return out;
}

/* Annotations: characters for columns, properties and message escaped so nothing starts a command. */
static void test_github(void **state)
{
	(void)state;
	static const char text[] = "name: caf\xc3\xa9\n  x: \xe2\x86\x92 bad\n";
	dr_diags *d = dr_diags_new();
	dr_diags_add_source(d, "a,b:c.yaml", text, sizeof text - 1);
	dr_diag *g = dr_diag_error(d, DR203, (dr_loc){"a,b:c.yaml", 2, 9, 3}, "100%% bad\n::error::x");
	dr_diag_set_hint(g, "h");
	dr_diag_warning(d, DR405, (dr_loc){"a,b:c.yaml", 0, 0, 0}, "w");
	char *out = render_ci(d, false);
	assert_string_equal(out, "::error file=a%2Cb%3Ac.yaml,line=2,col=7,endColumn=10,title=DR203 unknown-key::"
				 "100%25 bad%0A::error::x%0Ahint: h\n"
				 "::warning file=a%2Cb%3Ac.yaml,title=DR405 commit-unvalidated::w\n");
	free(out);
	dr_diags_free(d);
}

static void test_sarif(void **state)
{
	(void)state;
	static const char text[] = "x: \xe2\x86\x92 bad\n";
	dr_diags *d = dr_diags_new();
	dr_diags_add_source(d, "my runbook.yaml", text, sizeof text - 1);
	dr_diag_error(d, DR203, (dr_loc){"my runbook.yaml", 1, 7, 3}, "bad");
	dr_diag_error(d, DR901, (dr_loc){"/abs/gone.yaml", 0, 0, 0}, "gone");
	dr_diag_error(d, DR203, (dr_loc){"my runbook.yaml", 1, 1, 1}, "again");
	char *out = render_ci(d, true);
	cJSON *log = cJSON_Parse(out);
	assert_non_null(log);
	assert_string_equal(cJSON_GetObjectItem(log, "version")->valuestring, "2.1.0");
	cJSON *run = cJSON_GetArrayItem(cJSON_GetObjectItem(log, "runs"), 0);
	cJSON *rules = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(run, "tool"), "driver"), "rules");
	assert_int_equal(cJSON_GetArraySize(rules), 2); /* DR203 once, DR901 */
	cJSON *results = cJSON_GetObjectItem(run, "results");
	cJSON *r0 = cJSON_GetArrayItem(results, 0), *r1 = cJSON_GetArrayItem(results, 1);
	cJSON *phys = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r0, "locations"), 0), "physicalLocation");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(phys, "artifactLocation"), "uri")->valuestring,
			    "my%20runbook.yaml");
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(phys, "region"), "startColumn")->valueint, 5);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(phys, "region"), "endColumn")->valueint, 8);
	phys = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(r1, "locations"), 0), "physicalLocation");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(phys, "artifactLocation"), "uri")->valuestring,
			    "file:///abs/gone.yaml");
	assert_null(cJSON_GetObjectItem(phys, "region"));
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(results, 2), "ruleIndex")->valueint, 0);
	cJSON_Delete(log);
	free(out);
	dr_diags_free(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_caret_and_hint), cmocka_unit_test(test_sorted_and_counted),
		cmocka_unit_test(test_json), cmocka_unit_test(test_has_after_adds_and_sort), cmocka_unit_test(test_whole_file_and_missing_source),
		cmocka_unit_test(test_github), cmocka_unit_test(test_sarif),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
