/*
 * eval.c - evaluation of compiled ${...} templates and with: trees.
 *
 * One function per dr_expr_op, chosen from a table, walks the tree built by
 * expr.c. Intermediate values are cJSON trees that are either borrowed
 * (from the lookup callback, or a child of a borrowed value: never changed,
 * never freed) or owned (literals and operator results); indexing an owned
 * value detaches the child and frees the rest. The first error stops the
 * walk and becomes the message; the expression's own text, taken from the
 * scalar it was written in, names what failed.
 *
 * Nothing here is static or global; the PCRE2 codes are shared read-only,
 * match data is made per match, so evaluation is thread-safe.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "run/eval.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/xalloc.h"

/* --------------------------------------------------------------- helpers */

/* A cJSON constructor's result; out of memory aborts like xmalloc. */
static cJSON *must(cJSON *v)
{
	if (!v) {
		fputs("drover: out of memory\n", stderr);
		abort();
	}
	return v;
}

static const struct {
	cJSON_bool (*is)(const cJSON *);
	const char *name;
} type_names[] = {
	{cJSON_IsNull, "null"},	    {cJSON_IsBool, "boolean"}, {cJSON_IsNumber, "number"},
	{cJSON_IsString, "string"}, {cJSON_IsArray, "list"},   {cJSON_IsObject, "mapping"},
};

/* "number", "mapping", ... as in the checker's messages (dr_vtype_name). */
const char *dr_eval_type_name(const cJSON *v)
{
	for (size_t i = 0; v && i < sizeof type_names / sizeof type_names[0]; i++)
		if (type_names[i].is(v))
			return type_names[i].name;
	return "value";
}

static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *vformat(const char *fmt, va_list ap)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_vprintf(&b, fmt, ap);
	return dr_buf_detach(&b);
}

static bool is_name(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!(*s == '_' || *s == '-' || (*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') ||
		      (*s >= 'A' && *s <= 'Z')))
			return false;
	return true;
}

/* One path segment as it would be written after what came before: ".x", "['a b']", or "x" first. */
static void put_segment(dr_buf *b, const char *seg)
{
	if (is_name(seg)) { /* puts, not printf: a template's every key passes here, for each task */
		if (b->len)
			dr_buf_putc(b, '.');
		dr_buf_puts(b, seg);
	} else {
		dr_buf_puts(b, "['");
		dr_buf_puts(b, seg);
		dr_buf_puts(b, "']");
	}
}

static char *join_path(const char *const *path, size_t n)
{
	dr_buf b;
	dr_buf_init(&b);
	for (size_t i = 0; i < n; i++)
		put_segment(&b, path[i]);
	return dr_buf_detach(&b);
}

/* ------------------------------------------------------------ conversion */

static void put_number(dr_buf *b, double d)
{
	char s[40];
	if (d == trunc(d) && fabs(d) < 1e15) {
		dr_buf_printf(b, "%lld", (long long)d);
		return;
	}
	snprintf(s, sizeof s, "%.15g", d);
	if (strtod(s, NULL) != d)
		snprintf(s, sizeof s, "%.17g", d);
	dr_buf_puts(b, s);
}

static void put_text(dr_buf *b, const cJSON *v)
{
	if (cJSON_IsString(v)) {
		dr_buf_puts(b, v->valuestring);
	} else if (cJSON_IsNumber(v)) {
		put_number(b, v->valuedouble);
	} else if (cJSON_IsBool(v)) {
		dr_buf_puts(b, cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsArray(v) || cJSON_IsObject(v)) {
		char *json = cJSON_PrintUnformatted(v);
		if (!json)
			must(NULL);
		dr_buf_puts(b, json);
		cJSON_free(json);
	} /* null (and NULL): nothing */
}

char *dr_eval_to_text(const cJSON *v)
{
	dr_buf b;
	dr_buf_init(&b);
	put_text(&b, v);
	return dr_buf_detach(&b);
}

bool dr_eval_truthy(const cJSON *v)
{
	if (!v || cJSON_IsNull(v) || cJSON_IsFalse(v))
		return false;
	if (cJSON_IsNumber(v))
		return v->valuedouble != 0;
	if (cJSON_IsString(v))
		return v->valuestring[0] != '\0';
	if (cJSON_IsArray(v) || cJSON_IsObject(v))
		return v->child != NULL;
	return true;
}

/* Deep equality: numbers by value, no coercion between types, maps whatever their key order. */
static bool equal(const cJSON *a, const cJSON *b)
{
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
		return a->valuedouble == b->valuedouble;
	if ((a->type & 0xFF) != (b->type & 0xFF))
		return false;
	if (cJSON_IsString(a))
		return strcmp(a->valuestring, b->valuestring) == 0;
	if (cJSON_GetArraySize(a) != cJSON_GetArraySize(b))
		return false;
	const cJSON *x, *y = b->child;
	cJSON_ArrayForEach(x, a) {
		const cJSON *other = cJSON_IsObject(a) ? cJSON_GetObjectItemCaseSensitive(b, x->string) : y;
		if (!other || !equal(x, other))
			return false;
		y = y->next;
	}
	return true;
}

/* ------------------------------------------------------------- evaluator */

typedef struct ev {
	const dr_eval_env *env;
	const char *src; /* the scalar's text: expression spans index it */
	size_t src_len;
	char *err; /* the first error */
	bool lenient; /* evaluating the operand of "== null" / "!= null": missing counts as null */
	bool missed; /* the last failure was a missing field, key or index */
} ev;

/* A value in flight: borrowed ones belong to the lookup's tree. */
typedef struct val {
	cJSON *v;
	bool own;
} val;

static const val none = {NULL, false};

static void drop(val x)
{
	if (x.own)
		cJSON_Delete(x.v);
}

static val owned(cJSON *v) { return (val){must(v), true}; }

static val boolean(bool b) { return owned(cJSON_CreateBool(b)); }

/* The expression's text as written, for messages: "%.*s" arguments. */
static int span_len(const ev *c, const dr_expr *e)
{
	return c->src && e->off + e->len <= c->src_len ? (int)e->len : 10;
}

static const char *span(const ev *c, const dr_expr *e)
{
	return c->src && e->off + e->len <= c->src_len ? c->src + e->off : "expression";
}

static val fail(ev *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static val fail(ev *c, const char *fmt, ...)
{
	if (!c->err) {
		va_list ap;
		va_start(ap, fmt);
		c->err = vformat(fmt, ap);
		va_end(ap);
	}
	return none;
}

/* Something is missing: an error, except for a presence test (then the caller makes it null). */
static void miss(ev *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void miss(ev *c, const char *fmt, ...)
{
	c->missed = true;
	if (c->lenient || c->err)
		return;
	va_list ap;
	va_start(ap, fmt);
	c->err = vformat(fmt, ap);
	va_end(ap);
}

/* A reference or an index chain under a presence test evaluates missing parts to null. */
static bool chain(const dr_expr *e) { return e->op == DR_E_REF || e->op == DR_E_INDEX; }

static const char *const op_texts[] = {
	[DR_E_NOT] = "!", [DR_E_NEG] = "-",   [DR_E_AND] = "&&", [DR_E_OR] = "||",	  [DR_E_EQ] = "==",
	[DR_E_NE] = "!=", [DR_E_LT] = "<",    [DR_E_LE] = "<=",	 [DR_E_GT] = ">",	  [DR_E_GE] = ">=",
	[DR_E_MATCH] = "=~", [DR_E_NOMATCH] = "!~",
};

static val eval(ev *c, const dr_expr *e);

static val eval_literal(ev *c, const dr_expr *e)
{
	(void)c;
	switch (e->u.lit.type) {
	case DR_VT_BOOL: return boolean(e->u.lit.b);
	case DR_VT_NUMBER: return owned(cJSON_CreateNumber(e->u.lit.num));
	case DR_VT_STRING: return owned(cJSON_CreateString(e->u.lit.str));
	default: return owned(cJSON_CreateNull());
	}
}

static val eval_ref(ev *c, const dr_expr *e)
{
	const char *const *path = (const char *const *)e->u.ref.path;
	if (c->env->read_secret && strcmp(path[0], "secrets") == 0)
		*c->env->read_secret = true;
	char *msg = NULL;
	const cJSON *v = c->env->lookup ? c->env->lookup(c->env->ctx, path, e->u.ref.n, &msg) : NULL;
	if (v) {
		free(msg);
		return (val){(cJSON *)v, false};
	}
	if (c->lenient) {
		free(msg);
		return owned(cJSON_CreateNull());
	}
	if (msg && !c->err)
		c->err = msg;
	else
		free(msg);
	return fail(c, "%.*s is missing", span_len(c, e), span(c, e));
}

/* The item at a list index: an integer, negative from the end. */
static const cJSON *list_item(ev *c, const dr_expr *e, const cJSON *list, const cJSON *idx)
{
	const dr_expr *base = e->u.index.base;
	if (!cJSON_IsNumber(idx) || idx->valuedouble != trunc(idx->valuedouble)) {
		char *t = dr_eval_to_text(idx);
		fail(c, "%.*s is a list: its index must be an integer, not %s '%s'", span_len(c, base), span(c, base),
		     dr_eval_type_name(idx), t);
		free(t);
		return NULL;
	}
	int n = cJSON_GetArraySize(list);
	double i = idx->valuedouble < 0 ? idx->valuedouble + n : idx->valuedouble;
	if (i < 0 || i >= n) {
		miss(c, "%.*s has %d item%s: index %.0f is out of range", span_len(c, base), span(c, base), n,
		     n == 1 ? "" : "s", idx->valuedouble);
		return NULL;
	}
	return cJSON_GetArrayItem(list, (int)i);
}

static const cJSON *map_item(ev *c, const dr_expr *e, const cJSON *map, const cJSON *key)
{
	const dr_expr *base = e->u.index.base;
	if (!cJSON_IsString(key)) {
		char *t = dr_eval_to_text(key);
		fail(c, "%.*s is a mapping: its key must be a string, not %s '%s'", span_len(c, base), span(c, base),
		     dr_eval_type_name(key), t);
		free(t);
		return NULL;
	}
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(map, key->valuestring);
	if (!v)
		miss(c, "%.*s has no key '%s'", span_len(c, base), span(c, base), key->valuestring);
	return v;
}

/* item, a child of base, as a value of its own (detached when base is owned). */
static val take(val base, const cJSON *item)
{
	if (!item) {
		drop(base);
		return none;
	}
	if (!base.own)
		return (val){(cJSON *)item, false};
	cJSON *v = cJSON_DetachItemViaPointer(base.v, (cJSON *)item);
	cJSON_Delete(base.v);
	return (val){v, true};
}

static val eval_index(ev *c, const dr_expr *e)
{
	bool lenient = c->lenient;
	c->lenient = lenient && chain(e->u.index.base);
	val base = eval(c, e->u.index.base);
	c->lenient = false; /* the index itself must exist */
	val idx = base.v ? eval(c, e->u.index.index) : none;
	c->lenient = lenient;
	if (!idx.v) {
		drop(base);
		return none;
	}
	if (lenient && cJSON_IsNull(base.v)) { /* missing further up */
		drop(idx);
		return base;
	}
	c->missed = false;
	const cJSON *item = NULL;
	if (cJSON_IsArray(base.v))
		item = list_item(c, e, base.v, idx.v);
	else if (cJSON_IsObject(base.v))
		item = map_item(c, e, base.v, idx.v);
	else
		fail(c, "%.*s is a %s: only lists and mappings can be indexed", span_len(c, e->u.index.base),
		     span(c, e->u.index.base), dr_eval_type_name(base.v));
	drop(idx);
	if (!item && lenient && c->missed) {
		drop(base);
		return owned(cJSON_CreateNull());
	}
	return take(base, item);
}

/* Evaluate e for its truthiness only: 1, 0, or -1 on error. */
static int truth(ev *c, const dr_expr *e)
{
	val x = eval(c, e);
	if (!x.v)
		return -1;
	bool t = dr_eval_truthy(x.v);
	drop(x);
	return t;
}

static val eval_not(ev *c, const dr_expr *e)
{
	int t = truth(c, e->u.un);
	return t < 0 ? none : boolean(!t);
}

static val eval_neg(ev *c, const dr_expr *e)
{
	val x = eval(c, e->u.un);
	if (!x.v)
		return none;
	if (!cJSON_IsNumber(x.v)) {
		fail(c, "'-' needs a number, but %.*s is a %s", span_len(c, e->u.un), span(c, e->u.un), dr_eval_type_name(x.v));
		drop(x);
		return none;
	}
	double d = -x.v->valuedouble;
	drop(x);
	return owned(cJSON_CreateNumber(d));
}

/* && and ||: the right side is evaluated only when the left does not decide. */
static val eval_logic(ev *c, const dr_expr *e)
{
	int a = truth(c, e->u.bin.a);
	if (a < 0)
		return none;
	if (a == (e->op == DR_E_OR))
		return boolean(a);
	int b = truth(c, e->u.bin.b);
	return b < 0 ? none : boolean(b);
}

/* Both operands of a binary operator; false (nothing to free) on error. */
static bool operands(ev *c, const dr_expr *e, val *a, val *b)
{
	*a = eval(c, e->u.bin.a);
	if (!a->v)
		return false;
	*b = eval(c, e->u.bin.b);
	if (!b->v) {
		drop(*a);
		return false;
	}
	return true;
}

static bool null_literal(const dr_expr *e) { return e->op == DR_E_LITERAL && e->u.lit.type == DR_VT_NULL; }

/* One side of == / !=; compared with a literal null, a missing value counts as null (a presence test). */
static val equal_operand(ev *c, const dr_expr *side, const dr_expr *other)
{
	c->lenient = null_literal(other) && chain(side);
	val v = eval(c, side);
	c->lenient = false;
	return v;
}

static val eval_equal(ev *c, const dr_expr *e)
{
	val a = equal_operand(c, e->u.bin.a, e->u.bin.b);
	if (!a.v)
		return none;
	val b = equal_operand(c, e->u.bin.b, e->u.bin.a);
	if (!b.v) {
		drop(a);
		return none;
	}
	bool eq = equal(a.v, b.v);
	drop(a);
	drop(b);
	return boolean(eq == (e->op == DR_E_EQ));
}

/* <0, 0, >0 for two numbers or two strings; false when they cannot be ordered. */
static bool compare(const cJSON *a, const cJSON *b, int *out)
{
	if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
		*out = (a->valuedouble > b->valuedouble) - (a->valuedouble < b->valuedouble);
	else if (cJSON_IsString(a) && cJSON_IsString(b))
		*out = strcmp(a->valuestring, b->valuestring);
	else
		return false;
	return true;
}

static val eval_order(ev *c, const dr_expr *e)
{
	val a, b;
	if (!operands(c, e, &a, &b))
		return none;
	int cmp = 0;
	val r = none;
	if (!compare(a.v, b.v, &cmp))
		fail(c, "'%s' compares two numbers or two strings, not a %s and a %s: %.*s", op_texts[e->op],
		     dr_eval_type_name(a.v), dr_eval_type_name(b.v), span_len(c, e), span(c, e));
	else
		r = boolean(e->op == DR_E_LT ? cmp < 0 : e->op == DR_E_LE ? cmp <= 0 : e->op == DR_E_GT ? cmp > 0 : cmp >= 0);
	drop(a);
	drop(b);
	return r;
}

/* 1 match, 0 none, -1 error (reported). */
static int match(ev *c, const dr_expr *e, const char *s)
{
	const pcre2_code *code = e->u.bin.regex;
	if (!code) {
		fail(c, "%.*s: the pattern was not compiled", span_len(c, e), span(c, e));
		return -1;
	}
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(code, NULL);
	if (!md)
		must(NULL);
	int rc = pcre2_match(code, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
	pcre2_match_data_free(md);
	if (rc >= 0)
		return 1;
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	PCRE2_UCHAR msg[256];
	pcre2_get_error_message(rc, msg, sizeof msg);
	fail(c, "%.*s: cannot match: %s", span_len(c, e), span(c, e), (const char *)msg);
	return -1;
}

static val eval_match(ev *c, const dr_expr *e)
{
	val a = eval(c, e->u.bin.a);
	if (!a.v)
		return none;
	int m = -1;
	if (!cJSON_IsString(a.v))
		fail(c, "'%s' needs a string on its left, but %.*s is a %s", op_texts[e->op], span_len(c, e->u.bin.a),
		     span(c, e->u.bin.a), dr_eval_type_name(a.v));
	else
		m = match(c, e, a.v->valuestring);
	drop(a);
	return m < 0 ? none : boolean(m == (e->op == DR_E_MATCH));
}

static val (*const eval_table[])(ev *, const dr_expr *) = {
	[DR_E_LITERAL] = eval_literal, [DR_E_REF] = eval_ref,	  [DR_E_INDEX] = eval_index,
	[DR_E_NOT] = eval_not,	       [DR_E_NEG] = eval_neg,	  [DR_E_AND] = eval_logic,
	[DR_E_OR] = eval_logic,	       [DR_E_EQ] = eval_equal,	  [DR_E_NE] = eval_equal,
	[DR_E_LT] = eval_order,	       [DR_E_LE] = eval_order,	  [DR_E_GT] = eval_order,
	[DR_E_GE] = eval_order,	       [DR_E_MATCH] = eval_match, [DR_E_NOMATCH] = eval_match,
};

static val eval(ev *c, const dr_expr *e)
{
	if (!e || (size_t)e->op >= sizeof eval_table / sizeof eval_table[0])
		return fail(c, "internal error: bad expression");
	return eval_table[e->op](c, e);
}

/* ------------------------------------------------------------- templates */

static const dr_eval_env no_env = {NULL, NULL, NULL};

/* A mixed template: every part as text, joined. */
static cJSON *eval_mixed(ev *c, const dr_template *t)
{
	dr_buf b;
	dr_buf_init(&b);
	for (size_t i = 0; i < t->n; i++) {
		const dr_template_part *p = &t->parts[i];
		if (!p->expr) {
			dr_buf_append(&b, p->text, p->text_len);
			continue;
		}
		val v = eval(c, p->expr);
		if (!v.v) {
			dr_buf_dispose(&b);
			return NULL;
		}
		put_text(&b, v.v);
		drop(v);
	}
	cJSON *s = must(cJSON_CreateString(b.data));
	dr_buf_dispose(&b);
	return s;
}

cJSON *dr_template_eval(const dr_template *t, const dr_eval_env *env, char **err)
{
	const dr_node *n = t->node;
	ev c = {.env = env ? env : &no_env};
	if (n && n->kind == DR_NODE_SCALAR) {
		c.src = n->u.scalar.str;
		c.src_len = n->u.scalar.len;
	}
	cJSON *out;
	if (t->whole) {
		val v = eval(&c, t->parts[0].expr);
		out = v.own ? v.v : v.v ? must(cJSON_Duplicate(v.v, true)) : NULL;
	} else {
		out = eval_mixed(&c, t);
	}
	if (!out && !c.err)
		c.err = xstrdup("evaluation failed");
	if (err)
		*err = out ? NULL : c.err;
	else
		free(c.err);
	return out;
}

/* ------------------------------------------------------------ node trees */

/* A scalar without ${...}: typed by the YAML 1.2 core schema. */
static cJSON *literal_scalar(const dr_node *n)
{
	bool b;
	double d;
	if (dr_node_is_null(n))
		return must(cJSON_CreateNull());
	if (dr_node_as_bool(n, &b))
		return must(cJSON_CreateBool(b));
	if (dr_node_as_number(n, &d))
		return must(cJSON_CreateNumber(d));
	return must(cJSON_CreateString(n->u.scalar.str ? n->u.scalar.str : ""));
}

static cJSON *node_eval(const dr_node *n, dr_buf *where, const dr_eval_env *env, char **err);

static cJSON *scalar_eval(const dr_node *n, dr_buf *where, const dr_eval_env *env, char **err)
{
	if (!dr_node_template(n))
		return literal_scalar(n);
	char *msg = NULL;
	cJSON *v = dr_template_eval(dr_node_template(n), env, &msg);
	if (v || !where->len) {
		*err = msg;
		return v;
	}
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s: %s", where->data, msg);
	free(msg);
	*err = dr_buf_detach(&b);
	return NULL;
}

/* Evaluate child under where + segment; where is restored afterwards. */
static cJSON *child_eval(const dr_node *n, dr_buf *where, const char *key, size_t index,
			 const dr_eval_env *env, char **err)
{
	size_t saved = where->len;
	if (key)
		put_segment(where, key);
	else
		dr_buf_printf(where, "[%zu]", index);
	cJSON *v = node_eval(n, where, env, err);
	where->len = saved;
	where->data[saved] = '\0';
	return v;
}

static cJSON *map_eval(const dr_node *n, dr_buf *where, const dr_eval_env *env, char **err)
{
	cJSON *obj = must(cJSON_CreateObject());
	for (size_t i = 0; i < n->u.map.n; i++) {
		const char *key = dr_node_str(n->u.map.items[i].key);
		cJSON *v = child_eval(n->u.map.items[i].value, where, key ? key : "", 0, env, err);
		if (!v) {
			cJSON_Delete(obj);
			return NULL;
		}
		cJSON_AddItemToObject(obj, key ? key : "", v);
	}
	return obj;
}

static cJSON *seq_eval(const dr_node *n, dr_buf *where, const dr_eval_env *env, char **err)
{
	cJSON *arr = must(cJSON_CreateArray());
	for (size_t i = 0; i < n->u.seq.n; i++) {
		cJSON *v = child_eval(n->u.seq.items[i], where, NULL, i, env, err);
		if (!v) {
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddItemToArray(arr, v);
	}
	return arr;
}

static cJSON *node_eval(const dr_node *n, dr_buf *where, const dr_eval_env *env, char **err)
{
	if (!n)
		return must(cJSON_CreateNull());
	if (n->kind == DR_NODE_MAP)
		return map_eval(n, where, env, err);
	if (n->kind == DR_NODE_SEQ)
		return seq_eval(n, where, env, err);
	return scalar_eval(n, where, env, err);
}

cJSON *dr_node_eval_at(const dr_node *n, const char *where, const dr_eval_env *env, char **err)
{
	char *msg = NULL;
	if (!n)
		return must(cJSON_CreateObject());
	dr_buf b;
	dr_buf_init(&b);
	if (where)
		dr_buf_puts(&b, where);
	cJSON *v = node_eval(n, &b, env, &msg);
	dr_buf_dispose(&b);
	if (err)
		*err = msg;
	else
		free(msg);
	return v;
}

cJSON *dr_node_eval(const dr_node *n, const dr_eval_env *env, char **err)
{
	return dr_node_eval_at(n, "with", env, err);
}

/* ------------------------------------------------------ walks and secrets */

/* "steps.fo.outputs.ip is missing": the path up to and including the missing segment. */
static char *missing(const char *const *path, size_t upto)
{
	char *p = join_path(path, upto);
	dr_buf m;
	dr_buf_init(&m);
	dr_buf_printf(&m, "%s is missing", p);
	free(p);
	return dr_buf_detach(&m);
}

static char *not_a_map(const char *const *path, size_t upto, const cJSON *v, const char *field)
{
	char *p = join_path(path, upto);
	dr_buf m;
	dr_buf_init(&m);
	dr_buf_printf(&m, "%s is a %s: it has no field '%s'", p, dr_eval_type_name(v), field);
	free(p);
	return dr_buf_detach(&m);
}

/* The item of list named by a decimal segment; NULL with *e set when there is none. */
static const cJSON *list_segment(const cJSON *list, const char *const *path, size_t i, char **e)
{
	const char *seg = path[i];
	char *end = NULL;
	unsigned long k = *seg >= '0' && *seg <= '9' ? strtoul(seg, &end, 10) : 0;
	int n = cJSON_GetArraySize(list);
	if (!end || *end) {
		*e = not_a_map(path, i, list, seg);
		return NULL;
	}
	if (k >= (unsigned long)n) {
		char *p = join_path(path, i);
		dr_buf m;
		dr_buf_init(&m);
		dr_buf_printf(&m, "%s has %d item%s: index %s is out of range", p, n, n == 1 ? "" : "s", seg);
		free(p);
		*e = dr_buf_detach(&m);
		return NULL;
	}
	return cJSON_GetArrayItem(list, (int)k);
}

const cJSON *dr_eval_walk(const cJSON *v, const char *const *path, size_t n, size_t from, char **err)
{
	char *e = NULL;
	if (!v)
		e = missing(path, from);
	for (size_t i = from; v && i < n; i++) {
		if (cJSON_IsObject(v)) {
			v = cJSON_GetObjectItemCaseSensitive(v, path[i]);
			if (!v)
				e = missing(path, i + 1);
		} else if (cJSON_IsArray(v)) {
			v = list_segment(v, path, i, &e);
		} else {
			e = not_a_map(path, i, v, path[i]);
			v = NULL;
		}
	}
	if (err)
		*err = e;
	else
		free(e);
	return v;
}

static void secret_ref(void *ctx, const dr_expr *ref)
{
	if (ref->u.ref.n && strcmp(ref->u.ref.path[0], "secrets") == 0)
		*(bool *)ctx = true;
}

bool dr_template_reads_secret(const dr_template *t)
{
	bool found = false;
	if (t)
		dr_template_each_ref(t, secret_ref, &found);
	return found;
}

bool dr_node_reads_secret(const dr_node *n)
{
	if (!n)
		return false;
	if (n->kind == DR_NODE_SCALAR)
		return dr_template_reads_secret(dr_node_template(n));
	for (size_t i = 0; n->kind == DR_NODE_MAP && i < n->u.map.n; i++)
		if (dr_node_reads_secret(n->u.map.items[i].value))
			return true;
	for (size_t i = 0; n->kind == DR_NODE_SEQ && i < n->u.seq.n; i++)
		if (dr_node_reads_secret(n->u.seq.items[i]))
			return true;
	return false;
}
