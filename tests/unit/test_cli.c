/*
 * test_cli.c - dr_cli_parse: options anywhere among the operands, operands
 * kept in order, "--", help, one message per mistake, repeated parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <getopt.h>

#include "cli/cli.h"

static int test_cmd_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	return 0;
}

static const dr_command cmd = {.name = "t", .summary = "test", .usage = "[-q] [--format F] FILE...", .main = test_cmd_main};

static const struct option longopts[] = {
	{"format", required_argument, NULL, 'f'}, {"quiet", no_argument, NULL, 'q'},
	{"state-dir", required_argument, NULL, 256}, {"stdlib", required_argument, NULL, 257},
	{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
};

typedef struct seen {
	char log[256];
	int stop_at; /* an option letter whose callback returns 7 */
} seen;

static int on_option(void *ctx, int c, const char *arg)
{
	seen *s = ctx;
	size_t n = strlen(s->log);
	snprintf(s->log + n, sizeof s->log - n, "%s%d=%s", n ? " " : "", c, arg ? arg : "-");
	return c == s->stop_at ? 7 : -1;
}

/* Parse a copy of words (NULL-terminated); the operands, space-separated, into ops. */
static int parse(const char *const *words, seen *s, char *ops, size_t n)
{
	char *argv[32];
	int argc = 0;
	while (words[argc]) {
		argv[argc] = (char *)words[argc];
		argc++;
	}
	argv[argc] = NULL;
	int rc = dr_cli_parse(&cmd, argc, argv, "f:qh", longopts, on_option, s);
	ops[0] = '\0';
	if (rc < 0)
		for (int i = optind; i < argc; i++)
			snprintf(ops + strlen(ops), n - strlen(ops), "%s%s", i > optind ? " " : "", argv[i]);
	return rc;
}

static void test_options_anywhere(void **state)
{
	(void)state;
	seen s = {0};
	char ops[256];
	const char *w[] = {"t", "a.yaml", "--format", "json", "b.yaml", "-q", "c.yaml", "--state-dir=d", NULL};
	assert_int_equal(parse(w, &s, ops, sizeof ops), -1);
	assert_string_equal(ops, "a.yaml b.yaml c.yaml"); /* operands in their order */
	assert_string_equal(s.log, "102=json 113=- 256=d"); /* options in theirs */
}

static void test_double_dash_and_dash(void **state)
{
	(void)state;
	seen s = {0};
	char ops[256];
	const char *w[] = {"t", "-", "-q", "--", "-f", "--quiet", NULL};
	assert_int_equal(parse(w, &s, ops, sizeof ops), -1);
	assert_string_equal(ops, "- -f --quiet");
	assert_string_equal(s.log, "113=-");
}

/* Long options are written in full: a shortened one is refused (exit 2) before its callback sees it. */
static void test_abbreviation(void **state)
{
	(void)state;
	static const char *const shortened[][4] = {{"t", "--qui", "x", NULL}, {"t", "x", "--form=text", NULL}};
	for (size_t i = 0; i < sizeof shortened / sizeof shortened[0]; i++) {
		seen s = {0};
		char ops[256];
		assert_int_equal(parse(shortened[i], &s, ops, sizeof ops), DR_EXIT_INVALID);
		assert_string_equal(s.log, "");
	}
	seen s = {0};
	char ops[256];
	const char *w[] = {"t", "--quiet", "x", "--format=text", NULL};
	assert_int_equal(parse(w, &s, ops, sizeof ops), -1);
	assert_string_equal(s.log, "113=- 102=text");
	assert_string_equal(ops, "x");
}

static void test_mistakes_stop_with_2(void **state)
{
	(void)state;
	static const char *const cases[][4] = {
		{"t", "x", "--nope", NULL}, {"t", "-Z", "x", NULL}, {"t", "x", "--format", NULL},
		{"t", "--quiet=1", "x", NULL}, {"t", "--st", "x", NULL}, {"t", "-qZ", "x", NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		seen s = {0};
		char ops[256];
		assert_int_equal(parse(cases[i], &s, ops, sizeof ops), DR_EXIT_INVALID);
	}
}

static void test_callback_stops(void **state)
{
	(void)state;
	seen s = {.stop_at = 'f'};
	char ops[256];
	const char *w[] = {"t", "-q", "--format", "x", "-q", NULL};
	assert_int_equal(parse(w, &s, ops, sizeof ops), 7);
	assert_string_equal(s.log, "113=- 102=x"); /* nothing after the stop */
}

static void test_parse_twice(void **state)
{
	(void)state;
	/* a second parse in one process starts afresh (getopt's state is reset), even mid-cluster before */
	seen s1 = {.stop_at = 'q'}, s2 = {0};
	char ops[256];
	const char *w1[] = {"t", "-qf", "json", NULL};
	assert_int_equal(parse(w1, &s1, ops, sizeof ops), 7);
	const char *w2[] = {"t", "y", "-f", "text", NULL};
	assert_int_equal(parse(w2, &s2, ops, sizeof ops), -1);
	assert_string_equal(s2.log, "102=text");
	assert_string_equal(ops, "y");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_anywhere), cmocka_unit_test(test_double_dash_and_dash),
		cmocka_unit_test(test_abbreviation),	 cmocka_unit_test(test_mistakes_stop_with_2),
		cmocka_unit_test(test_callback_stops),	 cmocka_unit_test(test_parse_twice),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
