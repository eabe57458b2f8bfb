/*
 * expr.h - ${...} expressions: parsed and type-checked once, evaluated many times.
 *
 * A string containing ${...} is a template: literal text and expressions.
 * A string that is exactly one ${x} keeps x's type (a number stays a
 * number); otherwise parts are converted to text and joined.
 *
 * Grammar (lowest precedence first):
 *   expr   := or
 *   or     := and ( '||' and )*
 *   and    := cmp ( '&&' cmp )*
 *   cmp    := unary ( ('=='|'!='|'<'|'<='|'>'|'>='|'=~'|'!~') unary )?
 *   unary  := '!' unary | '-' unary | postfix
 *   postfix:= primary ( '.' IDENT | '[' expr ']' )*
 *   primary:= NUMBER | STRING ('...' or "...") | true | false | null
 *            | IDENT  (a root: params secrets env steps target run recovery inputs)
 *            | '(' expr ')'
 * Identifiers after '.' may contain '-' (step ids do). The right side of
 * =~ and !~ must be a string literal; it is compiled with PCRE2 at parse time.
 * "$${" in a template is a literal "${".
 */
#ifndef DR_EXPR_H
#define DR_EXPR_H

#include <stdbool.h>
#include <stddef.h>

#include "front/diag.h"
#include "front/load.h"
#include "util/arena.h"

typedef enum dr_vtype {
	DR_VT_ANY, DR_VT_NULL, DR_VT_BOOL, DR_VT_NUMBER, DR_VT_STRING, DR_VT_MAP, DR_VT_LIST,
} dr_vtype;

typedef enum dr_expr_op {
	DR_E_LITERAL, DR_E_REF, DR_E_INDEX, DR_E_NOT, DR_E_NEG,
	DR_E_AND, DR_E_OR, DR_E_EQ, DR_E_NE, DR_E_LT, DR_E_LE, DR_E_GT, DR_E_GE, DR_E_MATCH, DR_E_NOMATCH,
} dr_expr_op;

typedef struct dr_expr dr_expr;

struct dr_expr {
	dr_expr_op op;
	dr_vtype type; /* static type after checking (DR_VT_ANY when unknown until run time) */
	size_t off, len; /* span inside the scalar's text, for diagnostics */
	union {
		struct { dr_vtype type; bool b; double num; const char *str; } lit;
		struct {
			/*
			 * path[0] is the root: "params", "steps", ... A literal string
			 * index is a segment too (a["k"] is a.k). After resolve, a
			 * steps.* path has the full step id in path[1] ("dbs.up").
			 */
			const char **path;
			size_t n;
			size_t *seg_off, *seg_len; /* span of each path segment inside the scalar's text */
		} ref;
		struct { dr_expr *base; dr_expr *index; } index;
		struct { dr_expr *a; dr_expr *b; void *regex; /* pcre2_code_8 * for MATCH and NOMATCH */ } bin;
		dr_expr *un;
	} u;
};

typedef struct dr_template_part {
	const char *text; /* literal text, or NULL for an expression */
	size_t text_len;
	dr_expr *expr;
} dr_template_part;

typedef struct dr_template {
	dr_template_part *parts;
	size_t n;
	bool whole; /* exactly one ${...} and nothing else: keeps its type */
	const dr_node *node; /* the scalar it came from */
} dr_template;

/*
 * Parse the scalar node's text as a template. Returns NULL when the text has
 * no ${ (a plain literal). Syntax errors (DR301) go to diags at their exact
 * position inside the string, and the result is NULL. Everything lives in a.
 */
dr_template *dr_template_parse(dr_arena *a, dr_diags *diags, const dr_node *scalar);

/* Parse a bare expression (no ${ }), e.g. for tests; off positions are relative to text. */
dr_expr *dr_expr_parse(dr_arena *a, dr_diags *diags, const dr_node *where, const char *text, size_t len);

/*
 * The scope a template is checked in: a callback that returns the static
 * type of a reference path, or false when the reference does not exist
 * (then *why gets a message and *hint a suggestion, both optional).
 */
typedef struct dr_scope {
	bool (*lookup)(void *ctx, const char *const *path, size_t n, size_t *bad_segment, dr_vtype *type,
		       const char **why, const char **hint);
	void *ctx;
} dr_scope;

/*
 * Type-check every expression of t against scope: unknown references
 * (DR302) and type mismatches (DR303) go to diags at their position.
 * Returns the number of errors added.
 */
size_t dr_template_check(dr_template *t, dr_diags *diags, const dr_scope *scope);

/* Walk every reference in t: fn(ctx, ref expr). For plan (step dependencies). */
void dr_template_each_ref(const dr_template *t, void (*fn)(void *ctx, const dr_expr *ref), void *ctx);

const char *dr_vtype_name(dr_vtype t);

#endif
