/*
 * test_actions.c - the action table: lookups, schemas and flags hold together.
 *
 * The checker, the planner and docs/actions.md all read the table, so a row
 * with a missing schema, a dangling undo or contradictory flags would break
 * them quietly; these tests make such a row fail loudly instead.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actions/action.h"
#include "front/schema.h"

static const dr_field *field(const dr_action *a, const char *name)
{
	for (const dr_field *f = a->input->fields; f && f->name; f++)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

static void test_lookup(void **state)
{
	(void)state;
	size_t n = 0;
	const dr_action *const *all = dr_action_all(&n);
	assert_true(n >= 20);
	assert_null(all[n]);
	for (size_t i = 0; i < n; i++)
		assert_ptr_equal(dr_action_find(all[i]->name), all[i]);
	assert_null(dr_action_find("dr.failovr"));
	assert_null(dr_action_find(""));
	assert_null(dr_action_find(NULL));
	assert_non_null(dr_action_find("check.http"));
	assert_non_null(dr_action_find("notify.webhook"));
	assert_non_null(dr_action_find("approve"));
}

static void test_names_unique_and_listed(void **state)
{
	(void)state;
	size_t n = 0;
	const dr_action *const *all = dr_action_all(&n);
	const char *const *names = dr_action_names();
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(names[i], all[i]->name);
		for (size_t j = i + 1; j < n; j++)
			assert_string_not_equal(all[i]->name, all[j]->name);
	}
	assert_null(names[n]);
}

static void check_type(const dr_type *t, int depth);

static void check_fields(const dr_type *map, int depth)
{
	assert_non_null(map->fields);
	for (const dr_field *f = map->fields; f->name; f++) {
		assert_non_null(f->type);
		assert_non_null(f->doc);
		assert_true(strlen(f->doc) > 0);
		if (f->required)
			assert_null(f->default_text); /* a default on a required key would never apply */
		for (const dr_field *g = f + 1; g->name; g++)
			assert_string_not_equal(f->name, g->name);
		if (f->default_text && f->type->kind == DR_T_ENUM) {
			bool found = false;
			for (const char *const *v = f->type->enum_values; *v; v++)
				found |= strcmp(*v, f->default_text) == 0;
			assert_true(found);
		}
		check_type(f->type, depth + 1);
	}
}

/* Every type is well formed: the parts its kind needs are there. */
static void check_type(const dr_type *t, int depth)
{
	assert_true(depth < 8);
	switch (t->kind) {
	case DR_T_MAP:
		check_fields(t, depth);
		break;
	case DR_T_SEQ:
	case DR_T_DICT:
		assert_non_null(t->items);
		check_type(t->items, depth + 1);
		break;
	case DR_T_ENUM:
		assert_non_null(t->enum_values);
		assert_non_null(t->enum_values[0]);
		break;
	case DR_T_ONEOF:
		assert_non_null(t->alts);
		assert_non_null(t->alts[0]);
		for (size_t i = 0; t->alts[i]; i++)
			check_type(t->alts[i], depth + 1);
		break;
	default:
		break;
	}
}

static void test_every_action_has_a_map_input(void **state)
{
	(void)state;
	size_t n = 0;
	const dr_action *const *all = dr_action_all(&n);
	for (size_t i = 0; i < n; i++) {
		const dr_action *a = all[i];
		assert_non_null(a->input);
		assert_int_equal(a->input->kind, DR_T_MAP);
		assert_non_null(a->summary);
		assert_non_null(a->outputs_doc);
		check_type(a->input, 0);
	}
}

static void test_undo_names_exist(void **state)
{
	(void)state;
	size_t n = 0;
	const dr_action *const *all = dr_action_all(&n);
	for (size_t i = 0; i < n; i++)
		if (all[i]->undo) {
			const dr_action *u = dr_action_find(all[i]->undo);
			assert_non_null(u);
			assert_true(u->flags & DR_AF_MUTATING);
			assert_null(u->undo); /* undo of an undo is not a thing */
		}
	assert_string_equal(dr_action_find("dr.failover")->undo, "dr.cancel_failover");
	assert_string_equal(dr_action_find("dr.test_failover")->undo, "dr.test_cleanup");
	assert_null(dr_action_find("dr.commit")->undo);
}

/* The flag the planner keys each DR rule on is carried by exactly the action it means. */
static void test_role_flags_unique(void **state)
{
	(void)state;
	static const struct {
		unsigned flag;
		const char *action;
	} roles[] = {
		{DR_AF_FAILOVER, "dr.failover"}, {DR_AF_TEST_FAILOVER, "dr.test_failover"},
		{DR_AF_TEST_CLEANUP, "dr.test_cleanup"}, {DR_AF_COMMIT, "dr.commit"},
		{DR_AF_REPROTECT, "dr.reprotect"}, {DR_AF_APPROVAL, "approve"},
		{DR_AF_IRREVERSIBLE, "dr.commit"},
	};
	size_t n = 0;
	const dr_action *const *all = dr_action_all(&n);
	for (size_t r = 0; r < sizeof roles / sizeof roles[0]; r++)
		for (size_t i = 0; i < n; i++)
			assert_int_equal(!!(all[i]->flags & roles[r].flag), strcmp(all[i]->name, roles[r].action) == 0);
}

static void test_flags_consistent(void **state)
{
	(void)state;
	const unsigned dr_roles = DR_AF_FAILOVER | DR_AF_TEST_FAILOVER | DR_AF_TEST_CLEANUP | DR_AF_COMMIT |
				  DR_AF_REPROTECT;
	size_t n = 0;
	const dr_action *const *all = dr_action_all(&n);
	for (size_t i = 0; i < n; i++) {
		unsigned f = all[i]->flags;
		if (f & DR_AF_IRREVERSIBLE)
			assert_true(f & DR_AF_MUTATING);
		if (f & dr_roles)
			assert_int_equal(f & (DR_AF_MUTATING | DR_AF_PER_TARGET), DR_AF_MUTATING | DR_AF_PER_TARGET);
		if (f & DR_AF_VALIDATION)
			assert_false(f & DR_AF_MUTATING);
		if (f & DR_AF_PER_TARGET)
			assert_int_equal(strncmp(all[i]->name, "dr.", 3), 0);
		if (strncmp(all[i]->name, "check.", 6) == 0)
			assert_true(f & DR_AF_VALIDATION);
	}
	const char *skipped[] = {"dr.commit", "dr.reprotect", "dr.shutdown"};
	for (size_t k = 0; k < 3; k++)
		assert_true(dr_action_find(skipped[k])->flags & DR_AF_SKIP_IN_DRILL);
	assert_false(dr_action_find("dr.failover")->flags & DR_AF_SKIP_IN_DRILL);
	assert_false(dr_action_find("dr.test_cleanup")->flags & DR_AF_SKIP_IN_DRILL);
	assert_true(dr_action_find("dr.probe")->flags & DR_AF_VALIDATION);
	assert_true(dr_action_find("assert")->flags & DR_AF_VALIDATION);
	assert_false(dr_action_find("approve")->flags & DR_AF_VALIDATION);
}

static void test_key_inputs(void **state)
{
	(void)state;
	const dr_action *tf = dr_action_find("dr.test_failover");
	assert_true(field(tf, "network")->required);
	const dr_action *ex = dr_action_find("exec");
	assert_true(field(ex, "argv")->required);
	assert_int_equal(field(ex, "argv")->type->kind, DR_T_SEQ);
	assert_true(field(ex, "argv")->type->flags & DR_TF_NONEMPTY);
	assert_int_equal(field(ex, "stdout_match")->type->kind, DR_T_REGEX);
	const dr_action *fo = dr_action_find("dr.failover");
	assert_string_equal(field(fo, "shutdown_source")->default_text, "true");
	assert_string_equal(field(fo, "direction")->default_text, "auto");
	const dr_action *http = dr_action_find("check.http");
	assert_null(field(http, "insecure")); /* TLS verification is always on */
	assert_null(field(http, "verify"));
	assert_true(field(http, "url")->required);
	assert_int_equal(field(http, "expect")->type->kind, DR_T_MAP);
	assert_true(field(dr_action_find("check.tcp"), "port")->required);
	assert_true(field(dr_action_find("assert"), "that")->type->flags & DR_TF_EXPR);
	assert_null(dr_action_find("dr.commit")->input->fields[0].name); /* no inputs */
}

static void test_flag_names(void **state)
{
	(void)state;
	for (unsigned bit = DR_AF_MUTATING; bit <= DR_AF_SKIP_IN_DRILL; bit <<= 1)
		assert_non_null(dr_action_flag_name(bit));
	assert_string_equal(dr_action_flag_name(DR_AF_IRREVERSIBLE), "irreversible");
	assert_null(dr_action_flag_name(0));
	assert_null(dr_action_flag_name(DR_AF_MUTATING | DR_AF_COMMIT));
	assert_null(dr_action_flag_name(1u << 30));
}

static char *markdown(void)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	dr_action_print_markdown(f);
	fclose(f);
	return out;
}

static void test_markdown(void **state)
{
	(void)state;
	char *md = markdown();
	assert_true(strncmp(md, "# Actions\n", 10) == 0);
	size_t n = 0;
	const dr_action *const *all = dr_action_all(&n);
	char heading[128];
	for (size_t i = 0; i < n; i++) {
		snprintf(heading, sizeof heading, "\n### `%s`\n", all[i]->name);
		assert_non_null(strstr(md, heading));
	}
	assert_non_null(strstr(md, "| `expect.status` |"));
	assert_non_null(strstr(md, "| `recovery_point.id` |"));
	assert_non_null(strstr(md, "[`dr.cancel_failover`](#drcancel_failover)"));
	assert_non_null(strstr(md, "- **Flags:** mutating, irreversible, per-target, commit, skip-in-drill, backend\n"));
	char *again = markdown();
	assert_string_equal(md, again); /* deterministic */
	free(again);
	free(md);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_names_unique_and_listed),
		cmocka_unit_test(test_every_action_has_a_map_input),
		cmocka_unit_test(test_undo_names_exist),
		cmocka_unit_test(test_role_flags_unique),
		cmocka_unit_test(test_flags_consistent),
		cmocka_unit_test(test_key_inputs),
		cmocka_unit_test(test_flag_names),
		cmocka_unit_test(test_markdown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
