/*
 * expr.c - ${...} templates: scanning, parsing, regex compilation, static typing.
 *
 * A scalar's text is split into literal runs and ${...} expressions. Each
 * expression is parsed by a small recursive-descent parser that drives a
 * lexer one token ahead; every node records its span (off, len) as a byte
 * range of the scalar's text, so diagnostics point at the exact character
 * inside the YAML string. The right side of =~ and !~ is compiled with PCRE2
 * at parse time; compile errors are mapped back from the pattern to the
 * quoted literal in the source. Checking computes static types bottom-up and
 * asks a scope callback about every reference. Evaluation is not here: the
 * tree is shaped so that an evaluator is one switch over dr_expr_op.
 *
 * Memory: every node, string and table lives in the caller's arena; compiled
 * patterns are released by the arena (dr_arena_defer).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "front/expr.h"

#include <ctype.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

/*
 * Limits per expression. Checking, evaluation and the reference walks recurse
 * over the tree, and a chain (a || b || ..., a[0][0]...) is as deep as it is
 * long, so the size is bounded as well as the nesting: MAX_NODES counts the
 * values, operators and names of one ${...}.
 */
enum { MAX_DEPTH = 64, MAX_NODES = 1000 };

/* ------------------------------------------------------------------ lexer */

typedef enum tok_kind { T_EOF, T_NUM, T_STR, T_IDENT, T_OP } tok_kind;

/* Operators; two-character ones first so the longest match wins. */
enum { O_AND, O_OR, O_EQ, O_NE, O_LE, O_GE, O_MATCH, O_NOMATCH, O_LT, O_GT, O_NOT, O_MINUS,
       O_DOT, O_LBRACK, O_RBRACK, O_LPAREN, O_RPAREN };

static const struct {
	const char *text;
	int binop; /* the dr_expr_op of a binary operator, or -1 */
} op_table[] = {
	[O_AND] = {"&&", DR_E_AND},	   [O_OR] = {"||", DR_E_OR},	      [O_EQ] = {"==", DR_E_EQ},
	[O_NE] = {"!=", DR_E_NE},	   [O_LE] = {"<=", DR_E_LE},	      [O_GE] = {">=", DR_E_GE},
	[O_MATCH] = {"=~", DR_E_MATCH},	   [O_NOMATCH] = {"!~", DR_E_NOMATCH}, [O_LT] = {"<", DR_E_LT},
	[O_GT] = {">", DR_E_GT},	   [O_NOT] = {"!", -1},		      [O_MINUS] = {"-", -1},
	[O_DOT] = {".", -1},		   [O_LBRACK] = {"[", -1},	      [O_RBRACK] = {"]", -1},
	[O_LPAREN] = {"(", -1},		   [O_RPAREN] = {")", -1},
};
#define N_OPS (sizeof op_table / sizeof op_table[0])

/* Spelling mistakes people make, and what they meant. */
static const struct {
	const char *wrong, *hint;
} mistakes[] = {
	{"=", "use '==' to compare"}, {"&", "use '&&'"}, {"|", "use '||'"}, {"and", "use '&&'"},
	{"or", "use '||'"},	      {"not", "use '!'"}, {"+", "expressions have no arithmetic; write text around ${...} to join"},
};

typedef struct tok {
	tok_kind kind;
	int op; /* T_OP: index into op_table */
	size_t off, len;
	double num;
	char *str; /* T_STR: the unescaped value (NUL-terminated) */
	size_t str_len;
	size_t *map; /* T_STR: source offset of each value byte; map[str_len] is the closing quote */
} tok;

typedef struct parser {
	dr_arena *a;
	dr_diags *diags;
	const dr_node *node; /* for positions; NULL: column = offset + 1 on line 1 */
	const char *src; /* the scalar's text: offsets are relative to it */
	size_t pos, end; /* lexer position and the end of this expression */
	tok t; /* the current (lookahead) token */
	int depth;
	size_t nodes; /* values, operators and names so far (MAX_NODES) */
	bool failed; /* an error was reported: unwind, report nothing more */
} parser;

static dr_loc loc_at(const dr_node *n, size_t off, size_t len)
{
	if (n)
		return dr_node_loc_at(n, off, len ? len : 1);
	return (dr_loc){.file = NULL, .line = 1, .col = (int)off + 1, .len = len ? (int)len : 1};
}

static dr_diag *perror_at(parser *p, dr_code code, size_t off, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

/* Report the first error of an expression; later ones are consequences. Returns NULL after the first. */
static dr_diag *perror_at(parser *p, dr_code code, size_t off, size_t len, const char *fmt, ...)
{
	if (p->failed)
		return NULL;
	p->failed = true;
	va_list ap;
	va_start(ap, fmt);
	char *msg = dr_arena_vprintf(p->a, fmt, ap);
	va_end(ap);
	return dr_diag_error(p->diags, code, loc_at(p->node, off, len), "%s", msg);
}

static bool is_ident_start(char c) { return isalpha((unsigned char)c) || c == '_'; }
static bool is_ident_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

static void skip_space(parser *p)
{
	while (p->pos < p->end && p->src[p->pos] && strchr(" \t\r\n", p->src[p->pos]))
		p->pos++;
}

static void lex_number(parser *p)
{
	const char *s = p->src;
	size_t i = p->pos;
	while (i < p->end && isdigit((unsigned char)s[i]))
		i++;
	if (i + 1 < p->end && s[i] == '.' && isdigit((unsigned char)s[i + 1]))
		for (i++; i < p->end && isdigit((unsigned char)s[i]);)
			i++;
	if (i < p->end && (s[i] == 'e' || s[i] == 'E')) {
		size_t j = i + 1;
		if (j < p->end && (s[j] == '+' || s[j] == '-'))
			j++;
		if (j < p->end && isdigit((unsigned char)s[j]))
			for (i = j; i < p->end && isdigit((unsigned char)s[i]);)
				i++;
	}
	char *text = dr_arena_strndup(p->a, s + p->pos, i - p->pos);
	p->t = (tok){.kind = T_NUM, .off = p->pos, .len = i - p->pos, .num = strtod(text, NULL)};
	p->pos = i;
}

/* A backslash escapes the string's own quote and the backslash; any other stays as written (so '\d+' is a regex). */
static bool string_escape(const parser *p, size_t i, char q)
{
	return p->src[i] == '\\' && i + 1 < p->end && (p->src[i + 1] == q || p->src[i + 1] == '\\');
}

/* A quoted string, sized by a first pass to the closing quote: its own length, not the rest of the expression's. */
static void lex_string(parser *p)
{
	const char *s = p->src;
	char q = s[p->pos];
	size_t start = p->pos, i = start + 1, n = 0;
	for (; i < p->end && s[i] != q; n++)
		i += string_escape(p, i, q) ? 2 : 1;
	if (i >= p->end) {
		perror_at(p, DR301, start, 1, "unterminated string (missing closing %c)", q);
		p->t = (tok){.kind = T_EOF, .off = p->end};
		return;
	}
	char *val = dr_arena_alloc_uninit(p->a, n + 1);
	size_t *map = dr_arena_calloc(p->a, n + 1, sizeof *map);
	n = 0;
	for (i = start + 1; s[i] != q; n++) {
		bool esc = string_escape(p, i, q);
		map[n] = i;
		val[n] = s[esc ? i + 1 : i];
		i += esc ? 2 : 1;
	}
	map[n] = i;
	val[n] = '\0';
	p->t = (tok){.kind = T_STR, .off = start, .len = i + 1 - start, .str = val, .str_len = n, .map = map};
	p->pos = i + 1;
}

static void lex_ident(parser *p)
{
	size_t i = p->pos;
	while (i < p->end && is_ident_char(p->src[i]))
		i++;
	p->t = (tok){.kind = T_IDENT, .off = p->pos, .len = i - p->pos};
	p->pos = i;
}

static const char *mistake_hint(const char *s, size_t n)
{
	for (size_t i = 0; i < sizeof mistakes / sizeof mistakes[0]; i++)
		if (strlen(mistakes[i].wrong) == n && memcmp(mistakes[i].wrong, s, n) == 0)
			return mistakes[i].hint;
	return NULL;
}

static bool lex_op(parser *p)
{
	for (size_t k = 0; k < N_OPS; k++) {
		size_t n = strlen(op_table[k].text);
		if (p->pos + n <= p->end && memcmp(p->src + p->pos, op_table[k].text, n) == 0) {
			p->t = (tok){.kind = T_OP, .op = (int)k, .off = p->pos, .len = n};
			p->pos += n;
			return true;
		}
	}
	return false;
}

static void lex_bad_char(parser *p)
{
	unsigned char c = (unsigned char)p->src[p->pos];
	dr_diag *g = isprint(c) ? perror_at(p, DR301, p->pos, 1, "unexpected character '%c'", c)
				: perror_at(p, DR301, p->pos, 1, "unexpected byte 0x%02x", c);
	const char *hint = mistake_hint(p->src + p->pos, 1);
	if (g && hint)
		dr_diag_set_hint(g, "%s", hint);
	p->t = (tok){.kind = T_EOF, .off = p->end};
}

/* Move to the next token. At the end of the range the token is T_EOF at p->end. */
static void advance(parser *p)
{
	skip_space(p);
	if (p->failed || p->pos >= p->end) {
		p->t = (tok){.kind = T_EOF, .off = p->end};
		return;
	}
	char c = p->src[p->pos];
	if (isdigit((unsigned char)c))
		lex_number(p);
	else if (c == '\'' || c == '"')
		lex_string(p);
	else if (is_ident_start(c))
		lex_ident(p);
	else if (!lex_op(p))
		lex_bad_char(p);
}

static bool at_op(const parser *p, int op) { return p->t.kind == T_OP && p->t.op == op; }

/* "unexpected 'x'" for the current token, with a hint for common slips. */
static void unexpected(parser *p, const char *wanted)
{
	if (p->t.kind == T_EOF) {
		perror_at(p, DR301, p->t.off, 1, "expected %s, found the end of the expression", wanted);
		return;
	}
	int n = p->t.len > 24 ? 24 : (int)p->t.len;
	dr_diag *g = perror_at(p, DR301, p->t.off, p->t.len, "expected %s, found '%.*s%s'", wanted, n,
			       p->src + p->t.off, p->t.len > 24 ? "..." : "");
	const char *hint = mistake_hint(p->src + p->t.off, p->t.len);
	if (g && hint)
		dr_diag_set_hint(g, "%s", hint);
}

/* ----------------------------------------------------------------- parser */

/* Count one more value, operator or name at off; past MAX_NODES the parse fails (DR301). */
static void spend_node(parser *p, size_t off)
{
	if (++p->nodes == MAX_NODES + 1)
		perror_at(p, DR301, off, 1, "expression too long (more than %d values, operators and names)",
			  MAX_NODES);
}

/*
 * Room for element n of an arena array that grows by doubling (its capacity
 * is the power of two >= n): appending one at a time stays linear.
 */
static void *grow_for(dr_arena *a, void *arr, size_t n, size_t sz)
{
	if (n & (n - 1))
		return arr;
	return dr_arena_grow(a, arr, n, n ? 2 * n : 1, sz);
}

static dr_expr *new_node(parser *p, dr_expr_op op, size_t off, size_t end)
{
	spend_node(p, off);
	dr_expr *e = dr_arena_alloc(p->a, sizeof *e);
	e->op = op;
	e->type = DR_VT_ANY;
	e->off = off;
	e->len = end - off;
	return e;
}

static size_t end_of(const dr_expr *e) { return e->off + e->len; }

static dr_expr *new_string(parser *p, const tok *t)
{
	dr_expr *e = new_node(p, DR_E_LITERAL, t->off, t->off + t->len);
	e->type = e->u.lit.type = DR_VT_STRING;
	e->u.lit.str = t->str;
	return e;
}

static dr_expr *parse_expr(parser *p);

/* Append one segment (a name or a string index) to a reference path. */
static void ref_append(parser *p, dr_expr *ref, const char *name, size_t off, size_t len)
{
	size_t n = ref->u.ref.n;
	if (n)
		spend_node(p, off); /* the first segment is the reference's own node */
	ref->u.ref.path = grow_for(p->a, ref->u.ref.path, n, sizeof(char *));
	ref->u.ref.seg_off = grow_for(p->a, ref->u.ref.seg_off, n, sizeof(size_t));
	ref->u.ref.seg_len = grow_for(p->a, ref->u.ref.seg_len, n, sizeof(size_t));
	ref->u.ref.path[n] = name;
	ref->u.ref.seg_off[n] = off;
	ref->u.ref.seg_len[n] = len;
	ref->u.ref.n = n + 1;
	ref->len = off + len - ref->off;
}

static dr_expr *parse_primary_word(parser *p)
{
	tok t = p->t;
	static const struct { const char *word; dr_vtype type; bool b; } words[] = {
		{"true", DR_VT_BOOL, true}, {"false", DR_VT_BOOL, false}, {"null", DR_VT_NULL, false},
	};
	advance(p);
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++) {
		if (t.len == strlen(words[i].word) && memcmp(p->src + t.off, words[i].word, t.len) == 0) {
			dr_expr *e = new_node(p, DR_E_LITERAL, t.off, t.off + t.len);
			e->type = e->u.lit.type = words[i].type;
			e->u.lit.b = words[i].b;
			return e;
		}
	}
	dr_expr *e = new_node(p, DR_E_REF, t.off, t.off + t.len);
	ref_append(p, e, dr_arena_strndup(p->a, p->src + t.off, t.len), t.off, t.len);
	return e;
}

static dr_expr *parse_primary(parser *p)
{
	tok t = p->t;
	if (t.kind == T_NUM) {
		advance(p);
		dr_expr *e = new_node(p, DR_E_LITERAL, t.off, t.off + t.len);
		e->type = e->u.lit.type = DR_VT_NUMBER;
		e->u.lit.num = t.num;
		return e;
	}
	if (t.kind == T_STR) {
		advance(p);
		return new_string(p, &t);
	}
	if (t.kind == T_IDENT)
		return parse_primary_word(p);
	if (at_op(p, O_LPAREN)) {
		advance(p);
		dr_expr *e = parse_expr(p);
		if (!e)
			return NULL;
		if (!at_op(p, O_RPAREN)) {
			unexpected(p, "')'");
			return NULL;
		}
		advance(p);
		return e;
	}
	unexpected(p, "a value");
	return NULL;
}

/*
 * A name after '.': letters, digits, '_' and inner '-' (step ids may
 * contain '-' and start with a digit). Lexed here, not by advance(), because
 * the same characters mean something else elsewhere ("a-1" vs "x.db-1").
 */
static bool lex_segment(parser *p, size_t *off, size_t *len)
{
	skip_space(p);
	size_t i = p->pos;
	while (i < p->end && (is_ident_char(p->src[i]) ||
			      (p->src[i] == '-' && i > p->pos && i + 1 < p->end && is_ident_char(p->src[i + 1]))))
		i++;
	if (i == p->pos) {
		if (p->pos >= p->end)
			perror_at(p, DR301, p->end, 1, "expected a name after '.', found the end of the expression");
		else
			perror_at(p, DR301, p->pos, 1, "expected a name after '.'");
		return false;
	}
	*off = p->pos;
	*len = i - p->pos;
	p->pos = i;
	return true;
}

static dr_expr *index_node(parser *p, dr_expr *base, dr_expr *index, size_t end)
{
	dr_expr *e = new_node(p, DR_E_INDEX, base->off, end);
	e->u.index.base = base;
	e->u.index.index = index;
	return e;
}

static dr_expr *postfix_dot(parser *p, dr_expr *base)
{
	size_t off, len;
	if (!lex_segment(p, &off, &len))
		return NULL;
	char *name = dr_arena_strndup(p->a, p->src + off, len);
	advance(p);
	if (base->op == DR_E_REF) {
		ref_append(p, base, name, off, len);
		return base;
	}
	tok t = {.kind = T_STR, .off = off, .len = len, .str = name, .str_len = len};
	return index_node(p, base, new_string(p, &t), off + len);
}

static dr_expr *postfix_index(parser *p, dr_expr *base)
{
	advance(p);
	tok first = p->t;
	dr_expr *idx = parse_expr(p);
	if (!idx)
		return NULL;
	if (!at_op(p, O_RBRACK)) {
		unexpected(p, "']'");
		return NULL;
	}
	size_t end = p->t.off + 1;
	advance(p);
	/* a literal string index of a reference is one more path segment */
	if (base->op == DR_E_REF && idx->op == DR_E_LITERAL && idx->u.lit.type == DR_VT_STRING &&
	    first.kind == T_STR && idx->off == first.off) {
		ref_append(p, base, idx->u.lit.str, idx->off, idx->len);
		base->len = end - base->off;
		return base;
	}
	return index_node(p, base, idx, end);
}

static dr_expr *parse_postfix(parser *p)
{
	dr_expr *e = parse_primary(p);
	while (e && !p->failed) {
		if (at_op(p, O_DOT))
			e = postfix_dot(p, e);
		else if (at_op(p, O_LBRACK))
			e = postfix_index(p, e);
		else
			break;
	}
	return p->failed ? NULL : e;
}

static dr_expr *parse_unary(parser *p)
{
	if (++p->depth > MAX_DEPTH) {
		perror_at(p, DR301, p->t.off, 1, "expression nested too deeply (more than %d levels)", MAX_DEPTH);
		return NULL;
	}
	dr_expr *e;
	if (at_op(p, O_NOT) || at_op(p, O_MINUS)) {
		tok t = p->t;
		advance(p);
		dr_expr *operand = parse_unary(p);
		e = NULL;
		if (operand) {
			e = new_node(p, t.op == O_NOT ? DR_E_NOT : DR_E_NEG, t.off, end_of(operand));
			e->u.un = operand;
		}
	} else {
		e = parse_postfix(p);
	}
	p->depth--;
	return e;
}

static void free_code(void *code) { pcre2_code_free((pcre2_code *)code); }

/* Compile the pattern literal t; errors point at the character inside the quotes. */
static void *compile_regex(parser *p, const tok *t)
{
	int err;
	PCRE2_SIZE erroff;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)t->str, t->str_len, PCRE2_UTF, &err, &erroff, NULL);
	if (!code) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(err, msg, sizeof msg);
		size_t at = t->map[erroff < t->str_len ? erroff : t->str_len];
		perror_at(p, DR211, at, 1, "bad regular expression: %s", (const char *)msg);
		return NULL;
	}
	dr_arena_defer(p->a, free_code, code);
	return code;
}

/* The right side of =~ / !~: a string literal, compiled now. */
static dr_expr *parse_pattern(parser *p)
{
	tok t = p->t;
	dr_expr *rhs = parse_unary(p);
	if (!rhs)
		return NULL;
	if (t.kind != T_STR || rhs->op != DR_E_LITERAL || rhs->off != t.off) {
		perror_at(p, DR303, rhs->off, rhs->len, "the right side of a regex match must be a string literal");
		return NULL;
	}
	return rhs;
}

static bool is_cmp(const parser *p)
{
	return p->t.kind == T_OP && op_table[p->t.op].binop >= DR_E_EQ;
}

static dr_expr *binary(parser *p, int op, dr_expr *a, dr_expr *b)
{
	dr_expr *e = new_node(p, (dr_expr_op)op_table[op].binop, a->off, end_of(b));
	e->u.bin.a = a;
	e->u.bin.b = b;
	return e;
}

static dr_expr *parse_cmp(parser *p)
{
	dr_expr *a = parse_unary(p);
	if (!a || !is_cmp(p))
		return a;
	int op = p->t.op;
	advance(p);
	bool match = op == O_MATCH || op == O_NOMATCH;
	tok pat = p->t;
	dr_expr *b = match ? parse_pattern(p) : parse_unary(p);
	if (!b)
		return NULL;
	dr_expr *e = binary(p, op, a, b);
	if (match && !(e->u.bin.regex = compile_regex(p, &pat)))
		return NULL;
	if (is_cmp(p)) {
		dr_diag *g = perror_at(p, DR301, p->t.off, p->t.len, "comparisons do not chain");
		if (g)
			dr_diag_set_hint(g, "join two comparisons with '&&', or use parentheses");
		return NULL;
	}
	return e;
}

/* and := cmp ('&&' cmp)*, or := and ('||' and)*: one loop, the operand parser decides the level. */
static dr_expr *parse_chain(parser *p, int op, dr_expr *(*operand)(parser *))
{
	dr_expr *e = operand(p);
	while (e && at_op(p, op)) {
		advance(p);
		dr_expr *b = operand(p);
		e = b ? binary(p, op, e, b) : NULL;
	}
	return e;
}

static dr_expr *parse_and(parser *p) { return parse_chain(p, O_AND, parse_cmp); }

static dr_expr *parse_expr(parser *p)
{
	dr_expr *e = parse_chain(p, O_OR, parse_and);
	return p->failed ? NULL : e;
}

/* Parse src[off, end) as one whole expression. */
static dr_expr *parse_range(dr_arena *a, dr_diags *diags, const dr_node *node, const char *src, size_t off,
			    size_t end)
{
	parser p = {.a = a, .diags = diags, .node = node, .src = src, .pos = off, .end = end};
	advance(&p);
	dr_expr *e = parse_expr(&p);
	if (e && p.t.kind != T_EOF)
		unexpected(&p, "an operator or the end of the expression");
	return p.failed ? NULL : e;
}

dr_expr *dr_expr_parse(dr_arena *a, dr_diags *diags, const dr_node *where, const char *text, size_t len)
{
	size_t i = 0;
	while (i < len && text[i] && strchr(" \t\r\n", text[i]))
		i++;
	if (i == len) {
		dr_diag_error(diags, DR301, loc_at(where, 0, len), "empty expression");
		return NULL;
	}
	return parse_range(a, diags, where, text, 0, len);
}

/* --------------------------------------------------------------- templates */

typedef struct scan {
	dr_arena *a;
	dr_diags *diags;
	const dr_node *node;
	const char *s;
	size_t n;
	dr_template_part *parts;
	size_t n_parts;
	dr_buf lit; /* the literal run being collected */
	bool failed;
} scan;

static void add_part(scan *sc, const char *text, size_t text_len, dr_expr *e)
{
	sc->parts = grow_for(sc->a, sc->parts, sc->n_parts, sizeof *sc->parts);
	sc->parts[sc->n_parts++] = (dr_template_part){.text = text, .text_len = text_len, .expr = e};
}

static void flush_literal(scan *sc)
{
	if (sc->lit.len)
		add_part(sc, dr_arena_strndup(sc->a, sc->lit.data, sc->lit.len), sc->lit.len, NULL);
	dr_buf_reset(&sc->lit);
}

/*
 * The '}' that closes the ${ at dollar, skipping quoted strings; 0 when
 * there is none (reported here: an unclosed string at its quote, else the
 * unterminated ${ at the '$').
 */
static size_t find_close(scan *sc, size_t dollar)
{
	char quote = 0;
	size_t quote_at = 0;
	for (size_t i = dollar + 2; i < sc->n; i++) {
		char c = sc->s[i];
		if (quote && c == '\\')
			i++;
		else if (quote && c == quote)
			quote = 0;
		else if (!quote && (c == '\'' || c == '"'))
			quote = c, quote_at = i;
		else if (!quote && c == '}')
			return i;
	}
	if (quote)
		dr_diag_error(sc->diags, DR301, loc_at(sc->node, quote_at, 1),
			      "unterminated string in ${...} (missing closing %c)", quote);
	else
		dr_diag_error(sc->diags, DR301, loc_at(sc->node, dollar, 2), "unterminated ${ (missing '}')");
	return 0;
}

/* One ${...} at dollar; returns the offset just past its '}' (or the end on error). */
static size_t scan_expr(scan *sc, size_t dollar)
{
	size_t close = find_close(sc, dollar);
	if (!close) {
		sc->failed = true;
		return sc->n;
	}
	size_t i = dollar + 2;
	while (i < close && sc->s[i] && strchr(" \t\r\n", sc->s[i]))
		i++;
	dr_expr *e = NULL;
	if (i == close) {
		dr_diag *g = dr_diag_error(sc->diags, DR301, loc_at(sc->node, dollar, close + 1 - dollar),
					   "empty expression");
		dr_diag_set_hint(g, "write $${ for a literal '${'");
	} else {
		e = parse_range(sc->a, sc->diags, sc->node, sc->s, dollar + 2, close);
	}
	if (!e)
		sc->failed = true;
	flush_literal(sc);
	add_part(sc, NULL, 0, e);
	return close + 1;
}

dr_template *dr_template_parse(dr_arena *a, dr_diags *diags, const dr_node *scalar)
{
	if (!scalar || scalar->kind != DR_NODE_SCALAR)
		return NULL;
	scan sc = {.a = a, .diags = diags, .node = scalar, .s = scalar->u.scalar.str, .n = scalar->u.scalar.len};
	if (!sc.s || !memmem(sc.s, sc.n, "${", 2))
		return NULL;
	dr_buf_init(&sc.lit);
	size_t i = 0;
	while (i < sc.n) {
		if (sc.n - i >= 3 && memcmp(sc.s + i, "$${", 3) == 0) {
			dr_buf_append(&sc.lit, "${", 2);
			i += 3;
		} else if (sc.n - i >= 2 && memcmp(sc.s + i, "${", 2) == 0) {
			i = scan_expr(&sc, i);
		} else {
			dr_buf_putc(&sc.lit, sc.s[i++]);
		}
	}
	flush_literal(&sc);
	dr_buf_dispose(&sc.lit);
	if (sc.failed)
		return NULL;
	dr_template *t = dr_arena_alloc(a, sizeof *t);
	t->parts = sc.parts;
	t->n = sc.n_parts;
	t->whole = sc.n_parts == 1 && sc.parts[0].expr;
	t->node = scalar;
	return t;
}

/* ---------------------------------------------------------------- checking */

typedef struct checker {
	dr_diags *diags;
	const dr_node *node;
	const dr_scope *scope;
	size_t errors;
} checker;

static void cerror(checker *c, dr_code code, const dr_expr *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void cerror(checker *c, dr_code code, const dr_expr *at, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	dr_diag_error(c->diags, code, loc_at(c->node, at->off, at->len), "%s", msg);
	c->errors++;
}

static dr_vtype check_expr(checker *c, dr_expr *e);

static const char *op_text(dr_expr_op op)
{
	for (size_t k = 0; k < N_OPS; k++)
		if (op_table[k].binop == (int)op)
			return op_table[k].text;
	return op == DR_E_NOT ? "!" : op == DR_E_NEG ? "-" : "?";
}

/* A known type that is not the wanted one (ANY always passes). */
static bool wrong(dr_vtype t, dr_vtype want) { return t != DR_VT_ANY && t != want; }

static dr_vtype check_literal(checker *c, dr_expr *e)
{
	(void)c;
	return e->u.lit.type;
}

static dr_vtype check_ref(checker *c, dr_expr *e)
{
	size_t bad = 0;
	dr_vtype type = DR_VT_ANY;
	const char *why = NULL, *hint = NULL;
	if (!c->scope || !c->scope->lookup)
		return DR_VT_ANY;
	if (c->scope->lookup(c->scope->ctx, (const char *const *)e->u.ref.path, e->u.ref.n, &bad, &type, &why,
			     &hint))
		return type;
	if (bad >= e->u.ref.n)
		bad = e->u.ref.n - 1;
	dr_diag *g = dr_diag_error(c->diags, DR302, loc_at(c->node, e->u.ref.seg_off[bad], e->u.ref.seg_len[bad]),
				   "%s", why ? why : "unknown reference");
	if (hint)
		dr_diag_set_hint(g, "%s", hint);
	c->errors++;
	return DR_VT_ANY;
}

static dr_vtype check_index(checker *c, dr_expr *e)
{
	dr_vtype base = check_expr(c, e->u.index.base), idx = check_expr(c, e->u.index.index);
	if (base != DR_VT_ANY && base != DR_VT_MAP && base != DR_VT_LIST) {
		cerror(c, DR303, e->u.index.base, "cannot index a %s", dr_vtype_name(base));
		return DR_VT_ANY;
	}
	if (base == DR_VT_ANY && wrong(idx, DR_VT_STRING) && wrong(idx, DR_VT_NUMBER))
		cerror(c, DR303, e->u.index.index, "an index must be a string or a number, not a %s",
		       dr_vtype_name(idx));
	else if (base != DR_VT_ANY && wrong(idx, base == DR_VT_MAP ? DR_VT_STRING : DR_VT_NUMBER))
		cerror(c, DR303, e->u.index.index, "cannot index a %s with a %s", dr_vtype_name(base),
		       dr_vtype_name(idx));
	return DR_VT_ANY;
}

static dr_vtype check_not(checker *c, dr_expr *e)
{
	dr_vtype t = check_expr(c, e->u.un);
	if (wrong(t, DR_VT_BOOL))
		cerror(c, DR303, e->u.un, "'!' needs a boolean, but this is a %s", dr_vtype_name(t));
	return DR_VT_BOOL;
}

static dr_vtype check_neg(checker *c, dr_expr *e)
{
	dr_vtype t = check_expr(c, e->u.un);
	if (wrong(t, DR_VT_NUMBER))
		cerror(c, DR303, e->u.un, "'-' needs a number, but this is a %s", dr_vtype_name(t));
	return DR_VT_NUMBER;
}

static dr_vtype check_logic(checker *c, dr_expr *e)
{
	dr_expr *side[2] = {e->u.bin.a, e->u.bin.b};
	for (int i = 0; i < 2; i++) {
		dr_vtype t = check_expr(c, side[i]);
		if (wrong(t, DR_VT_BOOL))
			cerror(c, DR303, side[i], "'%s' needs booleans, but this is a %s", op_text(e->op),
			       dr_vtype_name(t));
	}
	return DR_VT_BOOL;
}

/* == and !=: any two values, but two known, different, non-null types can never be equal. */
static dr_vtype check_equal(checker *c, dr_expr *e)
{
	dr_vtype a = check_expr(c, e->u.bin.a), b = check_expr(c, e->u.bin.b);
	if (a != DR_VT_ANY && b != DR_VT_ANY && a != DR_VT_NULL && b != DR_VT_NULL && a != b)
		cerror(c, DR303, e, "'%s' compares a %s with a %s (never equal)", op_text(e->op), dr_vtype_name(a),
		       dr_vtype_name(b));
	return DR_VT_BOOL;
}

/* < <= > >=: two numbers or two strings. */
static dr_vtype check_order(checker *c, dr_expr *e)
{
	dr_vtype a = check_expr(c, e->u.bin.a), b = check_expr(c, e->u.bin.b);
	dr_expr *side[2] = {e->u.bin.a, e->u.bin.b};
	dr_vtype t[2] = {a, b};
	for (int i = 0; i < 2; i++) {
		if (wrong(t[i], DR_VT_NUMBER) && wrong(t[i], DR_VT_STRING)) {
			cerror(c, DR303, side[i], "'%s' orders numbers or strings, not a %s", op_text(e->op),
			       dr_vtype_name(t[i]));
			return DR_VT_BOOL;
		}
	}
	if (a != DR_VT_ANY && b != DR_VT_ANY && a != b)
		cerror(c, DR303, e, "'%s' compares a %s with a %s", op_text(e->op), dr_vtype_name(a), dr_vtype_name(b));
	return DR_VT_BOOL;
}

static dr_vtype check_match(checker *c, dr_expr *e)
{
	dr_vtype a = check_expr(c, e->u.bin.a);
	check_expr(c, e->u.bin.b);
	if (wrong(a, DR_VT_STRING))
		cerror(c, DR303, e->u.bin.a, "'%s' needs a string on its left, but this is a %s", op_text(e->op),
		       dr_vtype_name(a));
	return DR_VT_BOOL;
}

static dr_vtype (*const check_table[])(checker *, dr_expr *) = {
	[DR_E_LITERAL] = check_literal, [DR_E_REF] = check_ref,	    [DR_E_INDEX] = check_index,
	[DR_E_NOT] = check_not,		[DR_E_NEG] = check_neg,	    [DR_E_AND] = check_logic,
	[DR_E_OR] = check_logic,	[DR_E_EQ] = check_equal,    [DR_E_NE] = check_equal,
	[DR_E_LT] = check_order,	[DR_E_LE] = check_order,    [DR_E_GT] = check_order,
	[DR_E_GE] = check_order,	[DR_E_MATCH] = check_match, [DR_E_NOMATCH] = check_match,
};

/* The static type of e, also stored in e->type. A reference that does not resolve is ANY. */
static dr_vtype check_expr(checker *c, dr_expr *e)
{
	return e->type = check_table[e->op](c, e);
}

size_t dr_template_check(dr_template *t, dr_diags *diags, const dr_scope *scope)
{
	checker c = {.diags = diags, .node = t->node, .scope = scope};
	for (size_t i = 0; i < t->n; i++)
		if (t->parts[i].expr)
			check_expr(&c, t->parts[i].expr);
	return c.errors;
}

static void each_ref(const dr_expr *e, void (*fn)(void *, const dr_expr *), void *ctx)
{
	switch (e->op) {
	case DR_E_LITERAL: return;
	case DR_E_REF: fn(ctx, e); return;
	case DR_E_INDEX:
		each_ref(e->u.index.base, fn, ctx);
		each_ref(e->u.index.index, fn, ctx);
		return;
	case DR_E_NOT:
	case DR_E_NEG: each_ref(e->u.un, fn, ctx); return;
	default:
		each_ref(e->u.bin.a, fn, ctx);
		each_ref(e->u.bin.b, fn, ctx);
	}
}

void dr_template_each_ref(const dr_template *t, void (*fn)(void *ctx, const dr_expr *ref), void *ctx)
{
	for (size_t i = 0; t && i < t->n; i++)
		if (t->parts[i].expr)
			each_ref(t->parts[i].expr, fn, ctx);
}

const char *dr_vtype_name(dr_vtype t)
{
	static const char *const names[] = {
		[DR_VT_ANY] = "any", [DR_VT_NULL] = "null", [DR_VT_BOOL] = "boolean", [DR_VT_NUMBER] = "number",
		[DR_VT_STRING] = "string", [DR_VT_MAP] = "mapping", [DR_VT_LIST] = "list",
	};
	return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}
