/*
 * test_load.c - the loader: positions, typing helpers, every load
 * diagnostic, anchors and merge keys, the alias-bomb guard, loc_at.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "front/load.h"
#include "util/buf.h"

typedef struct fx {
	dr_arena *a;
	dr_diags *d;
} fx;

static int setup(void **state)
{
	fx *f = calloc(1, sizeof *f);
	f->a = dr_arena_new();
	f->d = dr_diags_new();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fx *f = *state;
	dr_arena_free(f->a);
	dr_diags_free(f->d);
	free(f);
	return 0;
}

static dr_node *load_lim(fx *f, const char *text, const dr_load_limits *lim)
{
	return dr_load_string(f->a, f->d, "t.yaml", text, strlen(text), lim);
}

static dr_node *load(fx *f, const char *text)
{
	return load_lim(f, text, NULL);
}

/* The only diagnostic, which must have this code and place. */
static const dr_diag *only_diag(fx *f, dr_code code, int line, int col)
{
	assert_int_equal(dr_diags_count(f->d), 1);
	const dr_diag *g = dr_diags_get(f->d, 0);
	if (g->code != code)
		fail_msg("expected %s, got %s: %s", dr_code_id(code), dr_code_id(g->code), g->msg);
	assert_int_equal(g->loc.line, line);
	assert_int_equal(g->loc.col, col);
	return g;
}

static void assert_at(const dr_node *n, int line, int col)
{
	assert_non_null(n);
	assert_int_equal(n->line, line);
	assert_int_equal(n->col, col);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- positions ------------------------------------------------------- */

static void test_positions(void **state)
{
	fx *f = *state;
	dr_node *r = load(f, "name: web\n"
			     "steps:\n"
			     "  - id: a\n"
			     "    with: {x: 'q', y: [1, 2]}\n"
			     "note: |\n"
			     "  hello\n");
	assert_non_null(r);
	assert_int_equal(dr_diags_count(f->d), 0);
	assert_int_equal(r->kind, DR_NODE_MAP);
	assert_at(r, 1, 1);
	assert_int_equal(r->u.map.n, 3);
	assert_string_equal(dr_node_file(r), "t.yaml");
	const dr_pair *p = dr_node_get_pair(r, "name");
	assert_at(p->key, 1, 1);
	assert_at(p->value, 1, 7);
	assert_int_equal(p->value->span, 10 - 7);
	dr_node *steps = dr_node_get(r, "steps");
	assert_int_equal(steps->kind, DR_NODE_SEQ);
	assert_at(steps, 3, 3);
	dr_node *step = steps->u.seq.items[0];
	assert_at(step, 3, 5);
	dr_node *with = dr_node_get(step, "with");
	assert_at(with, 4, 11);
	assert_at(dr_node_get(with, "x"), 4, 15);
	assert_int_equal(dr_node_get(with, "x")->style, DR_STYLE_SINGLE);
	dr_node *y = dr_node_get(with, "y");
	assert_at(y, 4, 23);
	assert_at(y->u.seq.items[1], 4, 27);
	dr_node *note = dr_node_get(r, "note");
	assert_at(note, 5, 7);
	assert_int_equal(note->style, DR_STYLE_LITERAL);
	assert_string_equal(note->u.scalar.str, "hello\n");
	dr_loc l = dr_node_loc(p->value);
	assert_int_equal(l.len, 3);
	assert_int_equal(dr_node_loc(with).len, 1);
}

/* Columns are bytes, not characters; a BOM is skipped. */
static void test_positions_utf8_and_bom(void **state)
{
	fx *f = *state;
	dr_node *r = load(f, "\xEF\xBB\xBF"
			     "caf\xC3\xA9: cr\xC3\xA8me x\n"
			     "b: \"\xE2\x82\xAC\"\n");
	assert_non_null(r);
	const dr_pair *p = &r->u.map.items[0];
	assert_at(p->key, 1, 1);
	assert_at(p->value, 1, 8);
	assert_int_equal(p->value->span, 8);
	assert_int_equal(dr_node_loc(p->value).len, 8);
	dr_node *b = dr_node_get(r, "b");
	assert_at(b, 2, 4);
	assert_int_equal(b->span, 5);
}

/* Anchors and tags in front of a node do not move its position off the value. */
static void test_positions_skip_properties(void **state)
{
	fx *f = *state;
	dr_node *r = load(f, "a: &x !!str  v\n"
			     "b: &m\n"
			     "  k: 1\n"
			     "c: !!seq [1]\n");
	assert_non_null(r);
	assert_int_equal(dr_diags_count(f->d), 0);
	assert_at(dr_node_get(r, "a"), 1, 14);
	assert_at(dr_node_get(r, "b"), 3, 3);
	assert_at(dr_node_get(r, "c"), 4, 10);
}

/* ---- typing helpers --------------------------------------------------- */

typedef struct type_case {
	const char *yaml; /* the value as written after "v: " */
	const char *type;
	int64_t i; /* when integer */
	double x; /* when integer or number */
} type_case;

static const type_case type_cases[] = {
	{"", "null", 0, 0},
	{"~", "null", 0, 0},
	{"null", "null", 0, 0},
	{"Null", "null", 0, 0},
	{"NULL", "null", 0, 0},
	{"nULL", "string", 0, 0},
	{"true", "boolean", 0, 0},
	{"True", "boolean", 0, 0},
	{"FALSE", "boolean", 0, 0},
	{"yes", "string", 0, 0},
	{"on", "string", 0, 0},
	{"0", "integer", 0, 0},
	{"42", "integer", 42, 42},
	{"-17", "integer", -17, -17},
	{"+5", "integer", 5, 5},
	{"010", "integer", 10, 10},
	{"0o17", "integer", 15, 15},
	{"0x1F", "integer", 31, 31},
	{"0xff", "integer", 255, 255},
	{"9223372036854775807", "integer", INT64_MAX, 9223372036854775807.0},
	{"-9223372036854775808", "integer", INT64_MIN, -9223372036854775808.0},
	{"9223372036854775808", "number", 0, 9223372036854775808.0},
	{"0x8000000000000000", "string", 0, 0},
	{"0o", "string", 0, 0},
	{"0b101", "string", 0, 0},
	{"1_000", "string", 0, 0},
	{"1.5", "number", 0, 1.5},
	{"-.5", "number", 0, -0.5},
	{"1.", "number", 0, 1.0},
	{"1e3", "number", 0, 1000},
	{"2.5E-1", "number", 0, 0.25},
	{".inf", "number", 0, 1.0 / 0.0},
	{"-.Inf", "number", 0, -1.0 / 0.0},
	{".", "string", 0, 0},
	{"1e", "string", 0, 0},
	{"e3", "string", 0, 0},
	{"1.2.3", "string", 0, 0},
	{"30s", "string", 0, 0},
	{"'42'", "string", 0, 0},
	{"\"true\"", "string", 0, 0},
	{"\"\"", "string", 0, 0},
	{"!!str 42", "string", 0, 0},
	{"!!str", "string", 0, 0},
	{"!!int \"7\"", "integer", 7, 7},
	{"!!float '2.5'", "number", 0, 2.5},
	{"!!float 2", "integer", 2, 2}, /* the text stays "2": an integer, which is a number */
	{"!!null ''", "null", 0, 0},
	{"|\n  12\n", "string", 0, 0},
	{"[1]", "list", 0, 0},
	{"{a: 1}", "mapping", 0, 0},
};

static void test_typing_table(void **state)
{
	fx *f = *state;
	for (size_t c = 0; c < sizeof type_cases / sizeof *type_cases; c++) {
		const type_case *tc = &type_cases[c];
		char text[128];
		snprintf(text, sizeof text, "v: %s\n", tc->yaml);
		dr_node *r = load(f, text);
		if (!r || dr_diags_count(f->d))
			fail_msg("case '%s' did not load cleanly", tc->yaml);
		dr_node *v = dr_node_get(r, "v");
		if (strcmp(dr_node_type_name(v), tc->type) != 0)
			fail_msg("case '%s': type %s, expected %s", tc->yaml, dr_node_type_name(v), tc->type);
		int64_t i = 0;
		double x = 0;
		bool b;
		bool is_int = strcmp(tc->type, "integer") == 0, is_num = is_int || strcmp(tc->type, "number") == 0;
		assert_int_equal(dr_node_as_int(v, &i), is_int);
		assert_int_equal(dr_node_as_number(v, &x), is_num);
		assert_int_equal(dr_node_as_bool(v, &b), strcmp(tc->type, "boolean") == 0);
		assert_int_equal(dr_node_is_null(v), strcmp(tc->type, "null") == 0);
		if (is_int)
			assert_true(i == tc->i);
		if (is_num)
			assert_true(x == tc->x);
		if (v->kind == DR_NODE_SCALAR)
			assert_non_null(dr_node_str(v));
		else
			assert_null(dr_node_str(v));
	}
}

static void test_typing_values(void **state)
{
	fx *f = *state;
	dr_node *r = load(f, "t: TRUE\nf: false\nn: .NaN\ns: 'x'\n");
	bool b = false;
	double x = 0;
	assert_true(dr_node_as_bool(dr_node_get(r, "t"), &b) && b);
	assert_true(dr_node_as_bool(dr_node_get(r, "f"), &b) && !b);
	assert_true(dr_node_as_number(dr_node_get(r, "n"), &x) && x != x);
	assert_string_equal(dr_node_str(dr_node_get(r, "s")), "x");
	assert_null(dr_node_get(r, "missing"));
	assert_null(dr_node_get(dr_node_get(r, "s"), "x"));
	assert_null(dr_node_get_pair(NULL, "x"));
	assert_string_equal(dr_node_type_name(r), "mapping");
}

/* ---- anchors, aliases, merge keys ------------------------------------- */

static void test_alias_shares_node(void **state)
{
	fx *f = *state;
	dr_node *r = load(f, "base: &b {x: 1}\nuse: *b\nlist: [*b, *b]\ns: &s hello\nt: *s\n");
	assert_non_null(r);
	assert_int_equal(dr_diags_count(f->d), 0);
	dr_node *base = dr_node_get(r, "base");
	assert_ptr_equal(dr_node_get(r, "use"), base);
	assert_ptr_equal(dr_node_get(r, "list")->u.seq.items[1], base);
	assert_ptr_equal(dr_node_get(r, "t"), dr_node_get(r, "s"));
}

static void test_anchor_redefined(void **state)
{
	fx *f = *state;
	dr_node *r = load(f, "a: &x one\nb: *x\nc: &x two\nd: *x\n");
	assert_string_equal(dr_node_str(dr_node_get(r, "b")), "one");
	assert_string_equal(dr_node_str(dr_node_get(r, "d")), "two");
}

static void test_merge_single(void **state)
{
	fx *f = *state;
	dr_node *r = load(f, "base: &b {timeout: 5m, retry: 3}\n"
			     "step:\n"
			     "  <<: *b\n"
			     "  retry: 1\n"
			     "  id: x\n");
	assert_non_null(r);
	assert_int_equal(dr_diags_count(f->d), 0);
	dr_node *s = dr_node_get(r, "step");
	assert_int_equal(s->u.map.n, 3);
	assert_string_equal(dr_node_str(dr_node_get(s, "retry")), "1");
	assert_string_equal(dr_node_str(dr_node_get(s, "timeout")), "5m");
	assert_string_equal(dr_node_str(dr_node_get(s, "id")), "x");
	assert_null(dr_node_get(s, "<<"));
	/* explicit keys first, merged ones after */
	assert_string_equal(s->u.map.items[0].key->u.scalar.str, "retry");
	assert_string_equal(s->u.map.items[2].key->u.scalar.str, "timeout");
}

static void test_merge_list_earlier_wins(void **state)
{
	fx *f = *state;
	dr_node *r = load(f, "a: &a {x: a, y: a}\n"
			     "b: &b {y: b, z: b}\n"
			     "m: {<<: [*a, *b], x: own}\n");
	dr_node *m = dr_node_get(r, "m");
	assert_int_equal(dr_diags_count(f->d), 0);
	assert_int_equal(m->u.map.n, 3);
	assert_string_equal(dr_node_str(dr_node_get(m, "x")), "own");
	assert_string_equal(dr_node_str(dr_node_get(m, "y")), "a");
	assert_string_equal(dr_node_str(dr_node_get(m, "z")), "b");
}

/* A quoted "<<" is an ordinary key. */
static void test_merge_quoted_is_key(void **state)
{
	fx *f = *state;
	dr_node *r = load(f, "m: {'<<': 1}\n");
	assert_string_equal(dr_node_str(dr_node_get(dr_node_get(r, "m"), "<<")), "1");
}

/* Big maps use the hash table: duplicates and merges still work. */
static void test_big_map(void **state)
{
	fx *f = *state;
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_puts(&b, "base: &b\n");
	for (int i = 0; i < 40; i++)
		dr_buf_printf(&b, "  m%d: base\n", i);
	dr_buf_puts(&b, "big:\n  <<: *b\n");
	for (int i = 0; i < 500; i++)
		dr_buf_printf(&b, "  k%d: %d\n", i, i);
	dr_buf_puts(&b, "  m3: own\n  k250: again\n");
	dr_node *r = load(f, b.data);
	dr_buf_dispose(&b);
	assert_non_null(r);
	const dr_diag *g = only_diag(f, DR102, 545, 3);
	assert_string_equal(g->hint, "the first 'k250' is on line 294; a key may appear only once in a mapping");
	dr_node *big = dr_node_get(r, "big");
	assert_int_equal(big->u.map.n, 540);
	assert_string_equal(dr_node_str(dr_node_get(big, "k250")), "250");
	assert_string_equal(dr_node_str(dr_node_get(big, "m3")), "own");
	assert_string_equal(dr_node_str(dr_node_get(big, "m39")), "base");
}

/* ---- diagnostics, one per code ------------------------------------------ */

static void test_dr101_syntax(void **state)
{
	fx *f = *state;
	assert_null(load(f, "a: 1\nb: [1, 2\nc: 3\n"));
	const dr_diag *g = only_diag(f, DR101, 3, 2);
	assert_non_null(strstr(g->msg, "while parsing a flow sequence at line 2, column 4"));
	dr_diags_free(f->d);
	f->d = dr_diags_new();
	assert_null(load(f, "a: b: c\n"));
	g = only_diag(f, DR101, 1, 5);
	assert_string_equal(g->msg, "mapping values are not allowed in this context");
}

static void test_dr101_control_character(void **state)
{
	fx *f = *state;
	assert_null(load(f, "a: 1\nb: \x01\n"));
	const dr_diag *g = only_diag(f, DR101, 2, 4);
	assert_non_null(strstr(g->msg, "control characters"));
}

static void test_dr102_duplicate(void **state)
{
	fx *f = *state;
	dr_node *r = load(f, "a: 1\nb: 2\na: 3\n");
	assert_non_null(r);
	const dr_diag *g = only_diag(f, DR102, 3, 1);
	assert_string_equal(g->msg, "duplicate key 'a'");
	assert_string_equal(g->hint, "the first 'a' is on line 1; a key may appear only once in a mapping");
	assert_int_equal(r->u.map.n, 2);
	assert_string_equal(dr_node_str(dr_node_get(r, "a")), "1");
}

static const char bomb[] = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]\n"
			   "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
			   "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
			   "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
			   "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
			   "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
			   "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
			   "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
			   "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n"
			   "j: &j [*i, *i, *i, *i, *i, *i, *i, *i, *i, *i]\n";

static void test_dr103_alias_bomb(void **state)
{
	fx *f = *state;
	double t0 = now_ms();
	assert_null(load(f, bomb));
	double ms = now_ms() - t0;
	/* f's anchor is 1,111,111 nodes, a..f 1,234,573 with keys and root: the third *f passes 4,000,000 */
	const dr_diag *g = only_diag(f, DR103, 7, 16);
	assert_int_equal(g->loc.len, 2);
	assert_string_equal(g->msg, "this alias expands the document past 4000000 nodes");
	print_message("alias bomb refused in %.3f ms\n", ms);
	assert_true(ms < 100);
}

static void test_dr103_lower_limit_and_recursion(void **state)
{
	fx *f = *state;
	dr_load_limits lim = dr_load_default_limits;
	lim.max_expanded_nodes = 20;
	assert_null(load_lim(f, "a: &a [1, 2, 3, 4, 5]\nb: [*a, *a]\nc: *a\n", &lim));
	only_diag(f, DR103, 2, 9);
	dr_diags_free(f->d);
	f->d = dr_diags_new();
	dr_node *r = load(f, "a: &x [1, *x]\n");
	assert_non_null(r);
	only_diag(f, DR103, 1, 11);
	assert_int_equal(dr_node_get(r, "a")->u.seq.n, 1); /* the bad alias is dropped */
}

static void test_dr104_multiple_documents(void **state)
{
	fx *f = *state;
	dr_node *r = load(f, "a: 1\n---\nb: [\n");
	assert_non_null(r);
	const dr_diag *g = only_diag(f, DR104, 2, 1);
	assert_int_equal(g->loc.len, 3);
	assert_string_equal(dr_node_str(dr_node_get(r, "a")), "1");
}

static void test_dr105_not_utf8(void **state)
{
	fx *f = *state;
	assert_null(load(f, "a: 1\nname: caf\xE9 \xC3\xA9\n"));
	const dr_diag *g = only_diag(f, DR105, 2, 10);
	assert_string_equal(g->msg, "the file is not valid UTF-8 (byte 0xe9)");
}

static void test_dr106_tags(void **state)
{
	fx *f = *state;
	dr_node *r = load(f, "a: !Ref x\nb: &n !!python/object:os.system y\nc: !!map [1]\nd: !!int abc\n"
			     "e: !<tag:yaml.org,2002:str> 5\n");
	assert_non_null(r);
	assert_int_equal(dr_diags_count(f->d), 4);
	const dr_diag *g = dr_diags_get(f->d, 0);
	assert_int_equal(g->code, DR106);
	assert_int_equal(g->loc.line, 1);
	assert_int_equal(g->loc.col, 4);
	assert_int_equal(g->loc.len, 4);
	assert_string_equal(g->msg, "unsupported YAML tag '!Ref'");
	g = dr_diags_get(f->d, 1);
	assert_int_equal(g->loc.col, 7);
	assert_string_equal(g->msg, "unsupported YAML tag '!!python/object:os.system'");
	g = dr_diags_get(f->d, 2);
	assert_string_equal(g->msg, "the tag '!!map' does not fit a list");
	g = dr_diags_get(f->d, 3);
	assert_string_equal(g->msg, "'abc' is not a valid !!int value");
	assert_string_equal(dr_node_type_name(dr_node_get(r, "e")), "string");
}

static void test_dr107_too_large(void **state)
{
	fx *f = *state;
	dr_load_limits lim = dr_load_default_limits;
	lim.max_file_bytes = 8;
	assert_null(load_lim(f, "a: 123456789\n", &lim));
	const dr_diag *g = only_diag(f, DR107, 0, 0);
	assert_string_equal(g->msg, "the file is 13 bytes; the limit is 8 bytes");
}

static void test_dr107_env_override(void **state)
{
	fx *f = *state;
	char path[] = "/tmp/test_load_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "a: 123456789\n", 13), 13);
	close(fd);
	setenv("DROVER_LOAD_MAX_BYTES", "10", 1);
	dr_node *r = dr_load_file(f->a, f->d, path, NULL);
	unsetenv("DROVER_LOAD_MAX_BYTES");
	assert_null(r);
	only_diag(f, DR107, 0, 0);
	/* explicit limits ignore the variable */
	dr_diags_free(f->d);
	f->d = dr_diags_new();
	setenv("DROVER_LOAD_MAX_BYTES", "10", 1);
	r = dr_load_file(f->a, f->d, path, &dr_load_default_limits);
	unsetenv("DROVER_LOAD_MAX_BYTES");
	assert_non_null(r);
	assert_int_equal(dr_diags_count(f->d), 0);
	assert_string_equal(dr_node_file(r), path);
	unlink(path);
}

/* Line line of file as the diagnostics hold it, compared with want. */
static void assert_source_line(const fx *f, const char *file, int line, const char *want)
{
	const char *start;
	size_t len;
	assert_true(dr_diags_source_line(f->d, file, line, &start, &len));
	assert_int_equal(len, strlen(want));
	assert_memory_equal(start, want, len);
}

/*
 * The diagnostics keep a loaded file's text (the loader's mapping or buffer,
 * not a copy) after the load returned and after the file is gone; a file
 * loaded twice keeps its first text; a pipe's text (read, not mapped) too.
 */
static void test_file_text_kept_for_carets(void **state)
{
	fx *f = *state;
	static const char text[] = "\xEF\xBB\xBF" "a: 1\nb: [x,\n";
	char path[] = "/tmp/test_load_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof text - 1), sizeof text - 1);
	close(fd);
	assert_null(dr_load_file(f->a, f->d, path, NULL));
	assert_null(dr_load_file(f->a, f->d, path, NULL));
	unlink(path);
	assert_int_equal(dr_diags_count(f->d), 2);
	assert_source_line(f, path, 1, "a: 1");
	assert_source_line(f, path, 2, "b: [x,");
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(write(p[1], "c: 3\nd: {\n", 11), 11);
	close(p[1]);
	char name[64];
	snprintf(name, sizeof name, "/proc/self/fd/%d", p[0]);
	assert_null(dr_load_file(f->a, f->d, name, NULL));
	close(p[0]);
	assert_source_line(f, name, 2, "d: {");
}

/* Whether this process maps path (a line of /proc/self/maps names it). */
static bool maps_file(const char *path)
{
	FILE *m = fopen("/proc/self/maps", "r");
	assert_non_null(m);
	char line[4096];
	bool found = false;
	while (!found && fgets(line, sizeof line, m)) {
		line[strcspn(line, "\n")] = '\0';
		size_t n = strlen(line), k = strlen(path);
		found = n >= k && strcmp(line + n - k, path) == 0;
	}
	fclose(m);
	return found;
}

/*
 * A runbook changed by another process after drover loaded it, before its
 * carets are drawn (an editor saving in place during validate --watch, a
 * checkout): edited in place, then truncated. The carets show the text the
 * parse read, and nothing of the file stays mapped: a mapped page past the
 * file's new end is SIGBUS, for the parse's reads as for a caret's (the old
 * loader mapped the file, and the diagnostics kept the mapping).
 */
static void test_file_changed_after_load(void **state)
{
	fx *f = *state;
	dr_buf text;
	dr_buf_init(&text);
	for (int i = 0; i < 200; i++) /* three pages of comments before the error */
		dr_buf_printf(&text, "# %-76d\n", i);
	dr_buf_puts(&text, "a: 1\nb: @x\nc: 2\n");
	char path[] = "/tmp/test_load_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text.data, text.len), (ssize_t)text.len);
	assert_null(dr_load_file(f->a, f->d, path, NULL));
	assert_true(dr_diags_errors(f->d) > 0);
	assert_false(maps_file(path));
	/* saved in place: the same length, other bytes */
	memset(text.data, 'x', text.len);
	assert_int_equal(pwrite(fd, text.data, text.len, 0), (ssize_t)text.len);
	assert_source_line(f, path, 202, "b: @x");
	/* then cut to nothing */
	assert_int_equal(ftruncate(fd, 0), 0);
	assert_source_line(f, path, 201, "a: 1");
	assert_source_line(f, path, 202, "b: @x");
	char *out = NULL;
	size_t out_len = 0;
	FILE *o = open_memstream(&out, &out_len);
	dr_diags_render_text(f->d, o, false);
	fclose(o);
	assert_non_null(strstr(out, "\n  202 | b: @x\n"));
	free(out);
	close(fd);
	unlink(path);
	dr_buf_dispose(&text);
}

static void test_dr108_empty(void **state)
{
	fx *f = *state;
	static const char *const empties[] = {"", "# only a comment\n", "\n\n"};
	for (size_t i = 0; i < sizeof empties / sizeof *empties; i++) {
		assert_null(load(f, empties[i]));
		only_diag(f, DR108, 0, 0);
		dr_diags_free(f->d);
		f->d = dr_diags_new();
	}
	assert_null(load(f, "# c\n---\n"));
	only_diag(f, DR108, 2, 1);
}

static void test_dr109_undefined_alias(void **state)
{
	fx *f = *state;
	dr_node *r = load(f, "defaults: &defaults {a: 1}\nx: *default\ny: *zzz\n");
	assert_non_null(r);
	assert_int_equal(dr_diags_count(f->d), 2);
	const dr_diag *g = dr_diags_get(f->d, 0);
	assert_int_equal(g->code, DR109);
	assert_int_equal(g->loc.line, 2);
	assert_int_equal(g->loc.col, 4);
	assert_int_equal(g->loc.len, 8);
	assert_string_equal(g->msg, "the alias '*default' refers to no anchor");
	assert_string_equal(g->hint, "did you mean '*defaults'?");
	assert_string_equal(dr_diags_get(f->d, 1)->hint, "define '&zzz' on a node before this alias");
	assert_null(dr_node_get(r, "x")); /* the pair of a bad alias is dropped */
	assert_int_equal(r->u.map.n, 1);
	/* an alias before its anchor is undefined too */
	dr_diags_free(f->d);
	f->d = dr_diags_new();
	load(f, "a: *b\nc: &b 1\n");
	only_diag(f, DR109, 1, 4);
}

static void test_dr110_too_deep(void **state)
{
	fx *f = *state;
	dr_load_limits lim = dr_load_default_limits;
	lim.max_depth = 3;
	assert_non_null(load_lim(f, "a: {b: [c]}\n", &lim));
	assert_null(load_lim(f, "a: {b: [[c]]}\n", &lim));
	only_diag(f, DR110, 1, 9);
	/* the default limit, far below what a stack would take */
	dr_diags_free(f->d);
	f->d = dr_diags_new();
	char deep[1000];
	memset(deep, '[', 400);
	deep[400] = '\0';
	assert_null(load(f, deep));
	only_diag(f, DR110, 1, 201);
}

static void test_dr111_bad_merge(void **state)
{
	fx *f = *state;
	dr_node *r = load(f, "s: &s text\nm:\n  <<: *s\n  k: 1\nn: {<<: [{a: 1}, 3]}\n");
	assert_non_null(r);
	assert_int_equal(dr_diags_count(f->d), 2);
	const dr_diag *g = dr_diags_get(f->d, 0);
	assert_int_equal(g->code, DR111);
	assert_int_equal(g->loc.line, 3);
	assert_int_equal(g->loc.col, 3);
	assert_string_equal(g->msg, "a merge key (<<) takes a mapping or a list of mappings, not a string");
	g = dr_diags_get(f->d, 1);
	assert_int_equal(g->loc.line, 5);
	assert_int_equal(g->loc.col, 5);
	assert_int_equal(dr_node_get(r, "m")->u.map.n, 1);
	assert_string_equal(dr_node_str(dr_node_get(dr_node_get(r, "n"), "a")), "1");
}

static void test_dr112_complex_key(void **state)
{
	fx *f = *state;
	dr_node *r = load(f, "? [a, b]\n: 1\nc: 2\n");
	assert_non_null(r);
	const dr_diag *g = only_diag(f, DR112, 1, 3);
	assert_string_equal(g->msg, "a mapping key must be a scalar, not a list");
	assert_int_equal(r->u.map.n, 1);
}

static void test_dr901_io(void **state)
{
	fx *f = *state;
	assert_null(dr_load_file(f->a, f->d, "/nonexistent/missing.yaml", NULL));
	const dr_diag *g = only_diag(f, DR901, 0, 0);
	assert_string_equal(g->msg, "cannot read '/nonexistent/missing.yaml': No such file or directory");
	dr_diags_free(f->d);
	f->d = dr_diags_new();
	assert_null(dr_load_file(f->a, f->d, "/tmp", NULL));
	g = only_diag(f, DR901, 0, 0);
	assert_string_equal(g->msg, "cannot read '/tmp': Is a directory");
}

/* The file's text is registered, so carets render. */
static void test_source_registered(void **state)
{
	fx *f = *state;
	load(f, "a: 1\na: 2\n");
	char *out = NULL;
	size_t len = 0;
	FILE *m = open_memstream(&out, &len);
	dr_diags_render_text(f->d, m, false);
	fclose(m);
	assert_string_equal(out, "t.yaml:2:1: error: duplicate key 'a' [DR102]\n"
				 "    2 | a: 2\n"
				 "      | ^\n"
				 "hint: the first 'a' is on line 1; a key may appear only once in a mapping\n");
	free(out);
}

/* ---- loc_at -------------------------------------------------------------- */

static void assert_loc(dr_loc l, int line, int col, int len)
{
	if (l.line != line || l.col != col || l.len != len)
		fail_msg("loc %d:%d+%d, expected %d:%d+%d", l.line, l.col, l.len, line, col, len);
}

static void test_loc_at_plain_and_quoted(void **state)
{
	fx *f = *state;
	dr_node *r = load(f, "p: run ${params.x} now\n"
			     "s: 'it''s ${a.b}'\n"
			     "d: \"say \\\"${x}\\\" \\u00e9 ${y}\"\n"
			     "t: !!str ${z}\n"
			     "e: \"\"\n");
	assert_non_null(r);
	dr_node *p = dr_node_get(r, "p"), *s = dr_node_get(r, "s"), *d = dr_node_get(r, "d");
	assert_loc(dr_node_loc_at(p, 4, 14), 1, 8, 14);
	assert_loc(dr_node_loc_at(p, 0, 3), 1, 4, 3);
	assert_string_equal(s->u.scalar.str, "it's ${a.b}");
	assert_loc(dr_node_loc_at(s, 5, 6), 2, 11, 6);
	assert_loc(dr_node_loc_at(s, 0, 4), 2, 5, 5);
	/* say "${x}" é ${y}: \" are modelled, \u00e9 is not */
	assert_string_equal(d->u.scalar.str, "say \"${x}\" \xC3\xA9 ${y}");
	assert_loc(dr_node_loc_at(d, 5, 4), 3, 11, 4);
	dr_loc after = dr_node_loc_at(d, 14, 4);
	assert_int_equal(after.line, 3);
	assert_int_equal(after.col, 4);
	dr_node *t = dr_node_get(r, "t");
	assert_int_equal(t->style, DR_STYLE_DOUBLE);
	assert_loc(dr_node_loc_at(t, 2, 1), 4, 12, 1);
	assert_loc(dr_node_loc_at(dr_node_get(r, "e"), 0, 0), 5, 5, 1);
}

static void test_loc_at_multiline(void **state)
{
	fx *f = *state;
	dr_node *r = load(f, "p: first ${a}\n"
			     "  second ${b}\n"
			     "l: |\n"
			     "    one ${c}\n"
			     "\n"
			     "    three ${d}\n"
			     "g: >\n"
			     "  folded ${e}\n"
			     "  text\n");
	assert_non_null(r);
	dr_node *p = dr_node_get(r, "p");
	assert_string_equal(p->u.scalar.str, "first ${a} second ${b}");
	assert_loc(dr_node_loc_at(p, 6, 4), 1, 10, 4);
	assert_loc(dr_node_loc(p), 1, 4, 10);
	dr_loc far = dr_node_loc_at(p, 18, 4);
	assert_int_equal(far.line, 1);
	dr_node *l = dr_node_get(r, "l");
	assert_string_equal(l->u.scalar.str, "one ${c}\n\nthree ${d}\n");
	assert_loc(dr_node_loc_at(l, 4, 4), 4, 9, 4);
	assert_loc(dr_node_loc_at(l, 16, 4), 6, 11, 4);
	assert_loc(dr_node_loc_at(l, 10, 100), 6, 5, 10);
	dr_node *g = dr_node_get(r, "g");
	assert_loc(dr_node_loc_at(g, 7, 4), 8, 3, 1);
}

/* ---- a larger document: throughput ------------------------------------- */

static void test_throughput(void **state)
{
	fx *f = *state;
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_puts(&b, "drover: 1\nname: big\nsteps:\n");
	for (int i = 0; i < 20000; i++)
		dr_buf_printf(&b,
			      "  - id: step-%d\n    action: check.tcp\n    needs: [step-%d]\n"
			      "    with: {host: \"${target.recovery_ip}\", port: 443, timeout: 30s}\n",
			      i, i > 0 ? i - 1 : 0);
	double t0 = now_ms();
	dr_node *r = load(f, b.data);
	double ms = now_ms() - t0;
	assert_non_null(r);
	assert_int_equal(dr_diags_count(f->d), 0);
	assert_int_equal(dr_node_get(r, "steps")->u.seq.n, 20000);
	print_message("loaded %.1f MB in %.1f ms (%.0f MB/s)\n", b.len / 1e6, ms, b.len / 1e3 / ms);
	dr_buf_dispose(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_positions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_text_kept_for_carets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_changed_after_load, setup, teardown),
		cmocka_unit_test_setup_teardown(test_positions_utf8_and_bom, setup, teardown),
		cmocka_unit_test_setup_teardown(test_positions_skip_properties, setup, teardown),
		cmocka_unit_test_setup_teardown(test_typing_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_typing_values, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alias_shares_node, setup, teardown),
		cmocka_unit_test_setup_teardown(test_anchor_redefined, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_single, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_list_earlier_wins, setup, teardown),
		cmocka_unit_test_setup_teardown(test_merge_quoted_is_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_big_map, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dr101_syntax, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dr101_control_character, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dr102_duplicate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dr103_alias_bomb, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dr103_lower_limit_and_recursion, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dr104_multiple_documents, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dr105_not_utf8, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dr106_tags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dr107_too_large, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dr107_env_override, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dr108_empty, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dr109_undefined_alias, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dr110_too_deep, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dr111_bad_merge, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dr112_complex_key, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dr901_io, setup, teardown),
		cmocka_unit_test_setup_teardown(test_source_registered, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loc_at_plain_and_quoted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loc_at_multiline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_throughput, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
