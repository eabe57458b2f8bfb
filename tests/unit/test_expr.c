/*
 * test_expr.c - ${...} templates: scanning, parsing, regex errors, typing.
 *
 * Tables of cases: each gives the scalar's text and what must come out. A
 * scalar here is plain, on line 1 at column 1, so a diagnostic's column is
 * the byte offset inside the text plus one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "front/expr.h"
#include "util/arena.h"

static dr_node *scalar(dr_arena *a, const char *text)
{
	dr_node *n = dr_arena_alloc(a, sizeof *n);
	n->kind = DR_NODE_SCALAR;
	dr_node_set_file(n, "t.yaml");
	n->line = 1;
	n->col = 1;
	n->span = (int)strlen(text);
	n->u.scalar.str = dr_arena_strdup(a, text);
	n->u.scalar.len = strlen(text);
	n->style = DR_STYLE_PLAIN;
	n->u.scalar.src_map = (int)strlen(text); /* all of it on line 1, as the loader would record */
	return n;
}

/* Print an expression as a fully parenthesised S-expression, for comparing shapes. */
static void show(const dr_expr *e, char *out, size_t cap);

static void showf(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void showf(char *out, size_t cap, const char *fmt, ...)
{
	size_t n = strlen(out);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out + n, cap - n, fmt, ap);
	va_end(ap);
}

static const char *op_name(dr_expr_op op)
{
	static const char *const names[] = {
		[DR_E_LITERAL] = "lit", [DR_E_REF] = "ref", [DR_E_INDEX] = "idx", [DR_E_NOT] = "!",
		[DR_E_NEG] = "neg",	[DR_E_AND] = "&&",  [DR_E_OR] = "||",	  [DR_E_EQ] = "==",
		[DR_E_NE] = "!=",	[DR_E_LT] = "<",    [DR_E_LE] = "<=",	  [DR_E_GT] = ">",
		[DR_E_GE] = ">=",	[DR_E_MATCH] = "=~", [DR_E_NOMATCH] = "!~",
	};
	return names[op];
}

static void show(const dr_expr *e, char *out, size_t cap)
{
	switch (e->op) {
	case DR_E_LITERAL:
		if (e->u.lit.type == DR_VT_STRING)
			showf(out, cap, "'%s'", e->u.lit.str);
		else if (e->u.lit.type == DR_VT_NUMBER)
			showf(out, cap, "%g", e->u.lit.num);
		else if (e->u.lit.type == DR_VT_BOOL)
			showf(out, cap, "%s", e->u.lit.b ? "true" : "false");
		else
			showf(out, cap, "null");
		return;
	case DR_E_REF:
		for (size_t i = 0; i < e->u.ref.n; i++)
			showf(out, cap, "%s%s", i ? "/" : "", e->u.ref.path[i]);
		return;
	case DR_E_INDEX:
		showf(out, cap, "(idx ");
		show(e->u.index.base, out, cap);
		showf(out, cap, " ");
		show(e->u.index.index, out, cap);
		showf(out, cap, ")");
		return;
	case DR_E_NOT:
	case DR_E_NEG:
		showf(out, cap, "(%s ", op_name(e->op));
		show(e->u.un, out, cap);
		showf(out, cap, ")");
		return;
	default:
		showf(out, cap, "(%s ", op_name(e->op));
		show(e->u.bin.a, out, cap);
		showf(out, cap, " ");
		show(e->u.bin.b, out, cap);
		showf(out, cap, ")");
	}
}

/* ------------------------------------------------------------ parse: ok */

static const struct {
	const char *text;
	const char *shape; /* the parts: literal text in [], expressions as S-expressions, joined by | */
	bool whole;
} parse_ok[] = {
	{"${params.x}", "params/x", true},
	{"a ${x} b", "[a ]|x|[ b]", false},
	{"$${x}", "[${x}]", false},
	{"cost $${a} is ${b}", "[cost ${a} is ]|b", false},
	{"$$${x}", "[$${x}]", false},
	{"$5 and ${x}", "[$5 and ]|x", false},
	{"${'a}b'}", "'a}b'", true},
	{"${\"x\\\"y\"}", "'x\"y'", true},
	{"${'it\\'s \\\\ \\d'}", "'it's \\ \\d'", true},
	{"${steps.db-1.outputs['k-1'].v}", "steps/db-1/outputs/k-1/v", true},
	{"${steps.1st.status}", "steps/1st/status", true},
	{"${a[0]}", "(idx a 0)", true},
	{"${a[0].b}", "(idx (idx a 0) 'b')", true},
	{"${a[b.c]}", "(idx a b/c)", true},
	{"${a && !b || c == 1}", "(|| (&& a (! b)) (== c 1))", true},
	{"${a || b && c}", "(|| a (&& b c))", true},
	{"${(a || b) && c}", "(&& (|| a b) c)", true},
	{"${-1.5e2}", "(neg 150)", true},
	{"${x >= 2.5}", "(>= x 2.5)", true},
	{"${x != null}", "(!= x null)", true},
	{"${true}", "true", true},
	{"${ x =~ '^a\\d+$' }", "(=~ x '^a\\d+$')", true},
	{"${x !~ \"b\"}", "(!~ x 'b')", true},
	{"${a}${b}", "a|b", false},
	{"${ a . b }", "a/b", true},
};

static void shape_of(const dr_template *t, char *out, size_t cap)
{
	out[0] = '\0';
	for (size_t i = 0; i < t->n; i++) {
		if (i)
			showf(out, cap, "|");
		if (t->parts[i].expr)
			show(t->parts[i].expr, out, cap);
		else
			showf(out, cap, "[%.*s]", (int)t->parts[i].text_len, t->parts[i].text);
	}
}

static void test_parse_ok(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof parse_ok / sizeof parse_ok[0]; i++) {
		dr_arena *a = dr_arena_new();
		dr_diags *d = dr_diags_new();
		dr_template *t = dr_template_parse(a, d, scalar(a, parse_ok[i].text));
		if (!t || dr_diags_count(d))
			fail_msg("case %zu '%s': %s", i, parse_ok[i].text,
				 dr_diags_count(d) ? dr_diags_get(d, 0)->msg : "no template");
		char got[512];
		shape_of(t, got, sizeof got);
		if (parse_ok[i].shape[0] && strcmp(got, parse_ok[i].shape) != 0)
			fail_msg("case %zu '%s': got %s, want %s", i, parse_ok[i].text, got, parse_ok[i].shape);
		assert_int_equal(t->whole, parse_ok[i].whole);
		dr_diags_free(d);
		dr_arena_free(a);
	}
}

static void test_plain_text_is_not_a_template(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_diags *d = dr_diags_new();
	assert_null(dr_template_parse(a, d, scalar(a, "no expressions, $ and { and } alone")));
	assert_null(dr_template_parse(a, d, scalar(a, "")));
	assert_int_equal(dr_diags_count(d), 0);
	dr_diags_free(d);
	dr_arena_free(a);
}

/* Spans: every node knows where it is in the scalar's text. */
static void test_spans(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_diags *d = dr_diags_new();
	/*                                0123456789012345678901234567890123 */
	dr_template *t = dr_template_parse(a, d, scalar(a, "id=${steps.db-1.outputs['x'] == 3}"));
	assert_non_null(t);
	assert_int_equal(t->n, 2);
	const dr_expr *eq = t->parts[1].expr;
	assert_int_equal(eq->op, DR_E_EQ);
	assert_int_equal(eq->off, 5);
	assert_int_equal(eq->len, 28);
	const dr_expr *ref = eq->u.bin.a;
	assert_int_equal(ref->op, DR_E_REF);
	assert_int_equal(ref->off, 5);
	assert_int_equal(ref->len, 23);
	assert_int_equal(ref->u.ref.n, 4);
	static const size_t off[] = {5, 11, 16, 24}, len[] = {5, 4, 7, 3};
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(ref->u.ref.seg_off[i], off[i]);
		assert_int_equal(ref->u.ref.seg_len[i], len[i]);
	}
	assert_int_equal(eq->u.bin.b->off, 32);
	assert_int_equal(eq->u.bin.b->len, 1);
	dr_diags_free(d);
	dr_arena_free(a);
}

/* "a - 1" is not subtraction (there is none) and "a-1" after '.' is a name. */
static void test_minus(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_diags *d = dr_diags_new();
	assert_null(dr_template_parse(a, d, scalar(a, "${a - 1}")));
	assert_int_equal(dr_diags_count(d), 1);
	assert_int_equal(dr_diags_get(d, 0)->code, DR301);
	assert_int_equal(dr_diags_get(d, 0)->loc.col, 5);
	dr_template *t = dr_template_parse(a, d, scalar(a, "${x.a-1}"));
	assert_non_null(t);
	assert_string_equal(t->parts[0].expr->u.ref.path[1], "a-1");
	t = dr_template_parse(a, d, scalar(a, "${x.a- 1}")); /* '-' must be followed by a name character */
	assert_null(t);
	dr_diags_free(d);
	dr_arena_free(a);
}

/* --------------------------------------------------------- parse: errors */

static const struct {
	const char *text;
	dr_code code;
	int col, len; /* 1-based column inside the text, span */
	const char *msg; /* a substring of the message */
	const char *hint; /* a substring of the hint, or NULL */
} parse_err[] = {
	{"${a", DR301, 1, 2, "unterminated ${", NULL},
	{"abc ${x} ${y", DR301, 10, 2, "unterminated ${", NULL},
	{"x ${a b}", DR301, 7, 1, "found 'b'", NULL},
	{"${}", DR301, 1, 3, "empty expression", "$${"},
	{"${  }", DR301, 1, 5, "empty expression", NULL},
	{"${a ==}", DR301, 7, 1, "end of the expression", NULL},
	{"${a = b}", DR301, 5, 1, "unexpected character '='", "'=='"},
	{"${a and b}", DR301, 5, 3, "found 'and'", "'&&'"},
	{"${a & b}", DR301, 5, 1, "'&'", "'&&'"},
	{"${'abc}", DR301, 3, 1, "unterminated string", NULL},
	{"${x == \"abc}", DR301, 8, 1, "unterminated string", NULL},
	{"${a < b < c}", DR301, 9, 1, "do not chain", "'&&'"},
	{"${a == b != c}", DR301, 10, 2, "do not chain", NULL},
	{"${a.}", DR301, 5, 1, "name after '.'", NULL},
	{"${a.'x'}", DR301, 5, 1, "name after '.'", NULL},
	{"${a[1}", DR301, 6, 1, "']'", NULL},
	{"${(a}", DR301, 5, 1, "')'", NULL},
	{"${@}", DR301, 3, 1, "unexpected character '@'", NULL},
	{"${a.b-}", DR301, 6, 1, "found '-'", NULL},
	{"${1 2}", DR301, 5, 1, "found '2'", NULL},
	{"${!}", DR301, 4, 1, "expected a value", NULL},
	{"${a =~ b}", DR303, 8, 1, "string literal", NULL},
	{"${a =~ ('x')}", DR303, 9, 3, "string literal", NULL},
	{"${a =~ 'x'.y}", DR303, 8, 5, "string literal", NULL},
	/* regex errors at the offending character inside the quotes */
	{"${a =~ 'x(y'}", DR211, 12, 1, "missing closing parenthesis", NULL},
	{"${a =~ 'a)b'}", DR211, 10, 1, "unmatched closing parenthesis", NULL},
	{"${a !~ \"*a\"}", DR211, 9, 1, "quantifier does not follow", NULL},
	{"${a =~ '\\'x)'}", DR211, 12, 1, "unmatched closing parenthesis", NULL},
	{"${a =~ '[a'}", DR211, 11, 1, "missing terminating ]", NULL},
	{"${a =~ 'ab\\\\'}", DR211, 13, 1, "\\ at end of pattern", NULL},
};

static void test_parse_errors(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof parse_err / sizeof parse_err[0]; i++) {
		dr_arena *a = dr_arena_new();
		dr_diags *d = dr_diags_new();
		dr_template *t = dr_template_parse(a, d, scalar(a, parse_err[i].text));
		if (t || dr_diags_count(d) != 1)
			fail_msg("case %zu '%s': %zu diagnostics, template %p", i, parse_err[i].text, dr_diags_count(d),
				 (void *)t);
		const dr_diag *g = dr_diags_get(d, 0);
		if (g->code != parse_err[i].code || g->loc.line != 1 || g->loc.col != parse_err[i].col ||
		    g->loc.len != parse_err[i].len || !strstr(g->msg, parse_err[i].msg))
			fail_msg("case %zu '%s': got %s at col %d len %d: %s", i, parse_err[i].text, dr_code_id(g->code),
				 g->loc.col, g->loc.len, g->msg);
		if (parse_err[i].hint && !(g->hint && strstr(g->hint, parse_err[i].hint)))
			fail_msg("case %zu '%s': hint %s", i, parse_err[i].text, g->hint ? g->hint : "(none)");
		dr_diags_free(d);
		dr_arena_free(a);
	}
}

/* Several broken expressions in one string are all reported. */
static void test_parse_errors_all_reported(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_diags *d = dr_diags_new();
	assert_null(dr_template_parse(a, d, scalar(a, "${a b} and ${} and ${c}")));
	assert_int_equal(dr_diags_count(d), 2);
	assert_int_equal(dr_diags_get(d, 0)->loc.col, 5);
	assert_int_equal(dr_diags_get(d, 1)->loc.col, 12);
	dr_diags_free(d);
	dr_arena_free(a);
}

static void test_too_deep(void **state)
{
	(void)state;
	char text[400] = "${";
	for (int i = 0; i < 100; i++)
		strcat(text, "(");
	strcat(text, "1");
	for (int i = 0; i < 100; i++)
		strcat(text, ")");
	strcat(text, "}");
	dr_arena *a = dr_arena_new();
	dr_diags *d = dr_diags_new();
	assert_null(dr_template_parse(a, d, scalar(a, text)));
	assert_int_equal(dr_diags_count(d), 1);
	assert_non_null(strstr(dr_diags_get(d, 0)->msg, "nested too deeply"));
	dr_diags_free(d);
	dr_arena_free(a);
}

/* "${" + head + n times rep + "}", heap-allocated. */
static char *repeated(const char *head, const char *rep, size_t n)
{
	size_t hl = strlen(head), rl = strlen(rep);
	char *s = malloc(2 + hl + n * rl + 2);
	assert_non_null(s);
	memcpy(s, "${", 2);
	memcpy(s + 2, head, hl);
	for (size_t i = 0; i < n; i++)
		memcpy(s + 2 + hl + i * rl, rep, rl);
	strcpy(s + 2 + hl + n * rl, "}");
	return s;
}

/* Parse text: NULL with one "too long" DR301, or (ok) a template without diagnostics. */
static void expect_length_verdict(const char *text, bool ok)
{
	dr_arena *a = dr_arena_new();
	dr_diags *d = dr_diags_new();
	dr_template *t = dr_template_parse(a, d, scalar(a, text));
	if (ok) {
		assert_non_null(t);
		assert_int_equal(dr_diags_count(d), 0);
	} else {
		assert_null(t);
		assert_int_equal(dr_diags_count(d), 1);
		assert_int_equal(dr_diags_get(d, 0)->code, DR301);
		assert_non_null(strstr(dr_diags_get(d, 0)->msg, "expression too long"));
	}
	dr_diags_free(d);
	dr_arena_free(a);
}

/*
 * Fuzzing regressions: a chain is as deep as it is long, and a million
 * terms overflowed the stack of the checker and the evaluator; a long
 * reference path or many ${...} in one string grew their arrays one element
 * at a time (quadratic: 200,000 names took more than 20 GB).
 */
static void test_too_long(void **state)
{
	(void)state;
	static const struct { const char *head, *rep; size_t fits, n; } cases[] = {
		{"true", "||true", 499, 1000000}, /* 2 nodes a term */
		{"params.x", "[0]", 499, 1000000},
		{"params.x", ".y", 998, 1000000}, /* 1 a name */
		{"!true", "&&!true", 332, 1000000},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *fits = repeated(cases[i].head, cases[i].rep, cases[i].fits);
		char *over = repeated(cases[i].head, cases[i].rep, cases[i].fits + 1);
		char *huge = repeated(cases[i].head, cases[i].rep, cases[i].n);
		expect_length_verdict(fits, true);
		expect_length_verdict(over, false);
		expect_length_verdict(huge, false);
		free(fits);
		free(over);
		free(huge);
	}
	size_t n = 200000;
	char *many = malloc(n * 4 + 1);
	assert_non_null(many);
	for (size_t i = 0; i < n; i++)
		memcpy(many + 4 * i, "${a}", 4);
	many[4 * n] = '\0';
	dr_arena *a = dr_arena_new();
	dr_diags *d = dr_diags_new();
	dr_template *t = dr_template_parse(a, d, scalar(a, many));
	assert_non_null(t);
	assert_int_equal(t->n, n);
	dr_diags_free(d);
	dr_arena_free(a);
	free(many);
}

static void test_bare_expression(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_diags *d = dr_diags_new();
	dr_expr *e = dr_expr_parse(a, d, NULL, "params.n > 3", 12);
	assert_non_null(e);
	assert_int_equal(e->op, DR_E_GT);
	assert_null(dr_expr_parse(a, d, NULL, "a >", 3));
	assert_int_equal(dr_diags_get(d, 0)->loc.col, 4);
	assert_null(dr_expr_parse(a, d, NULL, "  ", 2));
	assert_int_equal(dr_diags_count(d), 2);
	dr_diags_free(d);
	dr_arena_free(a);
}

/* ------------------------------------------------------------------ check */

/* A scope for tests: params.{n: number, s: string, b: bool, m: map, l: list}; steps.ID.* is any. */
static bool test_lookup(void *ctx, const char *const *path, size_t n, size_t *bad, dr_vtype *type, const char **why,
			const char **hint)
{
	(void)ctx;
	static const struct { const char *name; dr_vtype type; } params[] = {
		{"n", DR_VT_NUMBER}, {"s", DR_VT_STRING}, {"b", DR_VT_BOOL}, {"m", DR_VT_MAP}, {"l", DR_VT_LIST},
	};
	if (strcmp(path[0], "steps") == 0) {
		*type = DR_VT_ANY;
		return true;
	}
	if (strcmp(path[0], "params") != 0) {
		*bad = 0;
		*why = "unknown root";
		*hint = "did you mean 'params'?";
		return false;
	}
	for (size_t i = 0; n >= 2 && i < sizeof params / sizeof params[0]; i++) {
		if (strcmp(path[1], params[i].name) == 0 && (n == 2 || params[i].type == DR_VT_MAP)) {
			*type = n == 2 ? params[i].type : DR_VT_ANY;
			return true;
		}
	}
	*bad = n < 2 ? 0 : 1;
	*why = "unknown parameter";
	return false;
}

static const struct {
	const char *text;
	dr_vtype type; /* of the whole expression, when ok */
	dr_code code; /* 0: no error */
	int col, len;
	const char *msg;
} check_cases[] = {
	{"${params.n}", DR_VT_NUMBER, 0, 0, 0, NULL},
	{"${params.n > 2 && params.s =~ '^a'}", DR_VT_BOOL, 0, 0, 0, NULL},
	{"${steps.x.outputs.y > 1}", DR_VT_BOOL, 0, 0, 0, NULL},
	{"${steps.x.outputs.y}", DR_VT_ANY, 0, 0, 0, NULL},
	{"${params.n == null}", DR_VT_BOOL, 0, 0, 0, NULL},
	{"${params.s < 'b'}", DR_VT_BOOL, 0, 0, 0, NULL},
	{"${!params.b || steps.a.status == 'ok'}", DR_VT_BOOL, 0, 0, 0, NULL},
	{"${-params.n}", DR_VT_NUMBER, 0, 0, 0, NULL},
	{"${params.m['k']}", DR_VT_ANY, 0, 0, 0, NULL},
	{"${params.l[0]}", DR_VT_ANY, 0, 0, 0, NULL},
	{"${'x'}", DR_VT_STRING, 0, 0, 0, NULL},
	{"${params.n < 'abc'}", 0, DR303, 3, 16, "compares a number with a string"},
	{"${params.n == 'x'}", 0, DR303, 3, 15, "never equal"},
	{"${params.b > 1}", 0, DR303, 3, 8, "not a boolean"},
	{"${params.s && true}", 0, DR303, 3, 8, "'&&' needs booleans, but this is a string"},
	{"${true || 1}", 0, DR303, 11, 1, "'||' needs booleans, but this is a number"},
	{"${!params.n}", 0, DR303, 4, 8, "'!' needs a boolean"},
	{"${-params.s}", 0, DR303, 4, 8, "'-' needs a number"},
	{"${params.n =~ 'x'}", 0, DR303, 3, 8, "needs a string on its left"},
	{"${params.s[0]}", 0, DR303, 3, 8, "cannot index a string"},
	{"${params.m[0]}", 0, DR303, 12, 1, "cannot index a mapping with a number"},
	{"${steps.a.outputs[true]}", 0, DR303, 19, 4, "an index must be a string or a number, not a boolean"},
	{"${params.nope}", 0, DR302, 10, 4, "unknown parameter"},
	{"${params.n == parms.n}", 0, DR302, 15, 5, "unknown root"},
	{"${params.nope > 1}", 0, DR302, 10, 4, "unknown parameter"}, /* no DR303 cascade */
};

static void test_check(void **state)
{
	(void)state;
	dr_scope scope = {test_lookup, NULL};
	for (size_t i = 0; i < sizeof check_cases / sizeof check_cases[0]; i++) {
		dr_arena *a = dr_arena_new();
		dr_diags *d = dr_diags_new();
		dr_template *t = dr_template_parse(a, d, scalar(a, check_cases[i].text));
		assert_non_null(t);
		size_t errors = dr_template_check(t, d, &scope);
		if (!check_cases[i].code) {
			if (errors || dr_diags_count(d))
				fail_msg("case %zu '%s': %s", i, check_cases[i].text, dr_diags_get(d, 0)->msg);
			if (t->parts[0].expr->type != check_cases[i].type)
				fail_msg("case %zu '%s': type %s", i, check_cases[i].text,
					 dr_vtype_name(t->parts[0].expr->type));
		} else {
			const dr_diag *g = dr_diags_get(d, 0);
			if (errors != 1 || dr_diags_count(d) != 1 || g->code != check_cases[i].code ||
			    g->loc.col != check_cases[i].col || g->loc.len != check_cases[i].len ||
			    !strstr(g->msg, check_cases[i].msg))
				fail_msg("case %zu '%s': %zu errors; first %s at col %d len %d: %s", i,
					 check_cases[i].text, errors, g ? dr_code_id(g->code) : "-", g ? g->loc.col : 0,
					 g ? g->loc.len : 0, g ? g->msg : "");
		}
		dr_diags_free(d);
		dr_arena_free(a);
	}
}

static void test_check_hint(void **state)
{
	(void)state;
	dr_scope scope = {test_lookup, NULL};
	dr_arena *a = dr_arena_new();
	dr_diags *d = dr_diags_new();
	dr_template *t = dr_template_parse(a, d, scalar(a, "${parms.n}"));
	assert_int_equal(dr_template_check(t, d, &scope), 1);
	assert_string_equal(dr_diags_get(d, 0)->hint, "did you mean 'params'?");
	dr_diags_free(d);
	dr_arena_free(a);
}

static void count_ref(void *ctx, const dr_expr *ref)
{
	size_t *n = ctx;
	*n += ref->u.ref.n;
}

static void test_each_ref(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_diags *d = dr_diags_new();
	dr_template *t = dr_template_parse(a, d, scalar(a, "${a.b} ${!(c[d.e] == f) && g =~ 'x'}"));
	size_t n = 0;
	dr_template_each_ref(t, count_ref, &n);
	assert_int_equal(n, 2 + 1 + 2 + 1 + 1);
	dr_diags_free(d);
	dr_arena_free(a);
}

static void test_vtype_name(void **state)
{
	(void)state;
	assert_string_equal(dr_vtype_name(DR_VT_BOOL), "boolean");
	assert_string_equal(dr_vtype_name(DR_VT_ANY), "any");
	assert_string_equal(dr_vtype_name(DR_VT_LIST), "list");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_plain_text_is_not_a_template),
		cmocka_unit_test(test_spans),
		cmocka_unit_test(test_minus),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_errors_all_reported),
		cmocka_unit_test(test_too_deep),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_bare_expression),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_check_hint),
		cmocka_unit_test(test_each_ref),
		cmocka_unit_test(test_vtype_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
