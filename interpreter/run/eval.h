/*
 * eval.h - run-time evaluation of compiled ${...} templates and of whole
 * `with:` trees, to cJSON values.
 *
 * The parser and checker (expr.h, resolve.c) compile every template once;
 * the executor evaluates them at each task start. References are answered
 * by the caller through one callback, so this module knows nothing about
 * steps, targets or the run: it only walks the expression tree.
 *
 * Semantics (docs/expressions.md, "Evaluation", is the user's version):
 *   - A whole template "${x}" keeps x's type; a mixed one is a string, each
 *     part converted by dr_eval_to_text (integral numbers without ".0",
 *     true/false, null as the empty text, lists and maps as compact JSON).
 *   - == and != are deep equality; numbers compare by value (1 == 1.0);
 *     values of different types are never equal (no coercion: "1" != 1).
 *   - < <= > >= order two numbers or two strings (bytewise); anything else
 *     is an error.
 *   - && and || short-circuit on truthiness and yield a boolean; ! negates
 *     truthiness. Falsy: false, null, 0, "", [] and {}; all else is truthy.
 *   - x[i]: a list by an integer (negative counts from the end), a map by a
 *     string. A missing field, key or index is an error, never null - except
 *     in a presence test: a reference or index chain compared with a literal
 *     null (x == null, x != null) counts as null when any part is missing.
 *   - =~ and !~ run the pattern compiled at parse time on a string.
 *
 * Thread safety: evaluation only reads the template (PCRE2 match data is
 * allocated per match), so several threads may evaluate the same compiled
 * runbook at once, each with its own env.
 *
 * Ownership: returned values and error messages are heap-allocated and
 * owned by the caller (cJSON_Delete, free). Values the lookup returns are
 * borrowed: they must stay valid and unchanged until the evaluation call
 * returns; results never alias them (whole templates return a copy).
 */
#ifndef DR_EVAL_H
#define DR_EVAL_H

#include <stdbool.h>
#include <stddef.h>

#include "front/expr.h"
#include "front/load.h"

struct cJSON;

typedef struct dr_eval_env {
	/*
	 * Resolve a reference path - path[0] is the root ("params", "secrets",
	 * "env", "steps", "target", "run", "recovery", "inputs"), n >= 1, each
	 * segment a name as written (".x" or "['x']"); numeric and computed
	 * indexes are applied by the evaluator to the value returned here.
	 * Returns a borrowed value, or NULL when the reference does not exist:
	 * then the callback may set *err to a heap message (the evaluator takes
	 * it); left NULL, the message is "<reference as written> is missing".
	 * dr_eval_walk helps to descend into a cJSON tree with the same messages.
	 */
	const struct cJSON *(*lookup)(void *ctx, const char *const *path, size_t n, char **err);
	void *ctx;
	/*
	 * Optional taint flag: when non-NULL, set to true whenever a secrets.*
	 * reference is evaluated (only evaluated ones: `false && secrets.x`
	 * reads nothing). Never reset by the evaluator.
	 */
	bool *read_secret;
} dr_eval_env;

/*
 * Evaluate template t. Returns a new value (a string for a mixed template),
 * or NULL with *err set to a heap message, e.g. "steps.fo.outputs.ip is
 * missing" or "'<' compares two numbers or two strings, not a number and a
 * string: params.n < 'x'".
 */
struct cJSON *dr_template_eval(const dr_template *t, const dr_eval_env *env, char **err);

/*
 * Evaluate a step's with: tree: maps become objects, lists arrays; scalars
 * holding a compiled template (dr_node_template) are evaluated, the others typed
 * by the YAML 1.2 core schema (null, true/false, integers and floats as
 * numbers, everything else - including quoted scalars - a string). n NULL
 * gives {}. Errors name the place: "with.url: steps.fo.outputs.ip is
 * missing", "with.argv[2]: ...". Returns NULL with *err on error.
 */
struct cJSON *dr_node_eval(const dr_node *n, const dr_eval_env *env, char **err);

/* The same with another name for the root in messages ("when", "inputs"); NULL or "" for none. */
struct cJSON *dr_node_eval_at(const dr_node *n, const char *where, const dr_eval_env *env, char **err);

/* "null", "boolean", "number", "string", "list", "mapping": for messages. */
const char *dr_eval_type_name(const struct cJSON *v);

/* The truthiness rule above (NULL is falsy). For when: conditions and assert. */
bool dr_eval_truthy(const struct cJSON *v);

/*
 * A value as text, as a mixed template shows it: strings as they are,
 * integral numbers without a fraction ("3", not "3.0"), other numbers in
 * the shortest form that reads back the same, true/false, null as "",
 * lists and maps as compact JSON. Never NULL; the caller frees it.
 */
char *dr_eval_to_text(const struct cJSON *v);

/*
 * Descend from v, the value of path[0..from), through the names
 * path[from..n) (map keys; a list takes a decimal index). Returns the
 * borrowed value, or NULL with *err set: "steps.fo.outputs.ip is missing"
 * naming the path up to the first missing segment, or "... is a string,
 * not a mapping" when the walk meets a scalar. For the lookup callback.
 */
const struct cJSON *dr_eval_walk(const struct cJSON *v, const char *const *path, size_t n, size_t from,
				 char **err);

/* True when t reads a secrets.* reference anywhere (statically, whatever the branches). */
bool dr_template_reads_secret(const dr_template *t);

/* True when any compiled template in the tree under n reads a secret: redact what it produces. */
bool dr_node_reads_secret(const dr_node *n);

#endif
