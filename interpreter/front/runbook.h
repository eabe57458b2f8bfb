/*
 * runbook.h - the checked runbook: what check.c builds from the node tree and
 * what resolve, plan, bind and exec read. Nothing here is a YAML type; values
 * that stay dynamic (with: inputs, defaults) are kept as dr_node pointers
 * into the tree, which lives in the same arena.
 *
 * Ownership: a dr_runbook and everything it points to belongs to rb->arena;
 * dr_runbook_free() releases it all.
 */
#ifndef DR_RUNBOOK_H
#define DR_RUNBOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "front/diag.h"
#include "front/load.h"
#include "util/arena.h"

struct dr_action;
struct dr_template;
struct dr_plan;

/*
 * A name with the node it was written at (for diagnostics: dr_ref_loc);
 * node NULL for a name made by hand with no place.
 */
typedef struct dr_ref {
	const char *name;
	const dr_node *node;
} dr_ref;

/* Where r was written (the whole node's position); {0} when it has no node. */
dr_loc dr_ref_loc(const dr_ref *r);

typedef enum dr_param_type {
	DR_PARAM_STRING, DR_PARAM_INT, DR_PARAM_NUMBER, DR_PARAM_BOOL, DR_PARAM_DURATION,
} dr_param_type;

typedef struct dr_param {
	dr_ref name;
	dr_param_type type;
	const dr_node *default_value; /* NULL: required at run time (--param) */
	const char *const *choices; /* NULL-terminated enum, or NULL */
	const char *description;
} dr_param;

typedef struct dr_secret {
	dr_ref name;
	const char *env; /* exactly one of env, file */
	const char *file;
	const char *description;
} dr_secret;

/* A compiled PCRE2 pattern with its source (pcre2_code is opaque here). */
typedef struct dr_regex {
	const char *source;
	void *code; /* pcre2_code_8 *; freed with the arena */
	dr_loc loc;
} dr_regex;

typedef struct dr_tag_match {
	const char *key;
	dr_regex value;
} dr_tag_match;

typedef struct dr_vm_filter {
	bool present;
	dr_regex name; /* name.source == NULL: any name */
	dr_tag_match *tags;
	size_t n_tags;
} dr_vm_filter;

typedef struct dr_vm_set {
	dr_ref name;
	dr_vm_filter match;
	dr_vm_filter exclude;
	int64_t expect_count, expect_min, expect_max; /* -1 when not given */
	const char *description;
} dr_vm_set;

typedef enum dr_point_policy {
	DR_POINT_LATEST,
	DR_POINT_LATEST_PROCESSED,
	DR_POINT_LATEST_APP_CONSISTENT,
	DR_POINT_LATEST_CRASH_CONSISTENT,
	DR_POINT_CUSTOM,
	DR_POINT_FROM_EXPR, /* point: ${...}, decided at bind time */
} dr_point_policy;

/* "latest", "latest-processed", "latest-app-consistent", "latest-crash-consistent", "custom"; "" for FROM_EXPR. */
const char *dr_point_policy_name(dr_point_policy p);

/* The policy named s (as dr_point_policy_name gives it, not ""); false when s names none. */
bool dr_point_policy_parse(const char *s, dr_point_policy *out);

typedef struct dr_recovery {
	bool present;
	dr_point_policy point;
	const dr_node *point_node; /* the node of point: (expression or name) */
	const char *custom_id; /* custom by id */
	const char *custom_time; /* custom by time, RFC 3339 as written */
	int64_t custom_time_unix_ms;
	int64_t max_age_ms; /* -1: no RPO guard */
	dr_point_policy *fallback;
	size_t n_fallback;
	dr_loc loc;
} dr_recovery;

typedef enum dr_jitter { DR_JITTER_NONE, DR_JITTER_FULL, DR_JITTER_EQUAL } dr_jitter;

/* Outcome classes a retry may react to. */
enum {
	DR_RETRY_ON_TRANSIENT = 1u << 0,
	DR_RETRY_ON_THROTTLED = 1u << 1,
	DR_RETRY_ON_TIMEOUT = 1u << 2,
	DR_RETRY_ON_ANY = 1u << 3,
};

typedef struct dr_retry {
	bool present; /* false: inherit defaults.retry */
	int64_t attempts; /* total attempts, >= 1 */
	int64_t delay_ms;
	double backoff; /* >= 1 */
	int64_t max_delay_ms; /* -1: none */
	dr_jitter jitter;
	unsigned on; /* DR_RETRY_ON_* */
	dr_regex *on_match; /* regexes over the error message */
	size_t n_on_match;
} dr_retry;

typedef enum dr_on_failure { DR_ONFAIL_INHERIT, DR_ONFAIL_STOP, DR_ONFAIL_CONTINUE, DR_ONFAIL_ROLLBACK } dr_on_failure;

/* objectives.enforce: which runs a missed objective fails (docs/language.md, "objectives"). */
typedef enum dr_enforce { DR_ENFORCE_DRILL, DR_ENFORCE_ALWAYS, DR_ENFORCE_NEVER } dr_enforce;

/* "drill", "always", "never": as a runbook writes it. */
const char *dr_enforce_name(dr_enforce e);

/* In what order a step's ready tasks take free concurrency slots (docs/execution.md, "Order"). */
typedef enum dr_order { DR_ORDER_INHERIT, DR_ORDER_DECLARED, DR_ORDER_LONGEST_FIRST } dr_order;

typedef struct dr_step dr_step;

/*
 * What ${inputs.X} means in a step expanded from a composite: the
 * composite's declared inputs (with their defaults) and the use step's
 * with:, whose values are evaluated in the parent binding (NULL: the
 * runbook's own scope). Nested composites chain through parent.
 */
typedef struct dr_inputs {
	const struct dr_param *decl;
	size_t n_decl;
	const dr_node *with;
	struct dr_inputs *parent;
	const char *use_id;
} dr_inputs;

/* Fields ordered so that no padding is left: a big runbook is 160,000 of these. */
struct dr_step {
	dr_ref id;
	const char *name; /* display name, or NULL */
	const char *description;
	dr_ref action_name; /* "" when use: is given */
	const struct dr_action *action; /* NULL when unknown or use: */
	dr_ref use; /* composite name, or name == NULL */
	const dr_node *with; /* the with: map node, or NULL */
	dr_ref *needs;
	size_t n_needs;
	dr_ref *targets; /* VM set names (targets: or foreach:) */
	size_t n_targets;
	const dr_node *when; /* NULL: always */
	const dr_retry *retry; /* its retry:, else defaults.retry with present false (shared); never NULL after check */
	int64_t timeout_ms; /* -1: inherit */
	int64_t attempt_timeout_ms; /* -1: inherit; per attempt */
	int64_t concurrency; /* 0: unlimited / inherit */
	int64_t max_failures; /* -1: 0 allowed (default) */
	dr_order order; /* INHERIT: defaults.order */
	dr_on_failure on_failure;
	bool foreach; /* written as foreach: */
	bool pipeline; /* per-target pipelining with needed steps of the same targets */
	bool max_failures_pct; /* max_failures is a percentage */
	bool in_finally; /* declared under finally: */
	dr_step *rollback; /* the step's own rollback steps */
	size_t n_rollback;
	const char *from_composite; /* set on steps expanded from use:, the use step's id */
	const dr_node *composite_with; /* the use step's with: (binds ${inputs.*}) */
	dr_inputs *inputs; /* the full binding of ${inputs.*}, or NULL outside composites */
	dr_loc loc; /* the step's mapping */
	const dr_node *node; /* the step's mapping node */
};

typedef enum dr_backend_kind { DR_BACKEND_SIM, DR_BACKEND_AZURE } dr_backend_kind;

typedef struct dr_backend_cfg {
	dr_backend_kind kind;
	const dr_node *node; /* the whole backend: map, for the backend's own options */
} dr_backend_cfg;

typedef struct dr_runbook {
	dr_arena *arena;
	const char *path;
	const dr_node *root;
	int64_t version;
	const char *name;
	const char *description;
	dr_backend_cfg backend;
	dr_param *params;
	size_t n_params;
	dr_secret *secrets;
	size_t n_secrets;
	dr_vm_set *vm_sets;
	size_t n_vm_sets;
	dr_recovery recovery;
	int64_t rto_ms, rpo_ms; /* -1 when not set */
	dr_enforce enforce; /* objectives.enforce (default drill) */
	/* defaults: */
	int64_t default_timeout_ms; /* -1 none */
	int64_t default_attempt_timeout_ms;
	int64_t run_timeout_ms; /* defaults.run_timeout, -1 none */
	dr_retry default_retry;
	int64_t default_concurrency; /* 0: unlimited */
	dr_order default_order; /* INHERIT: longest-first */
	dr_on_failure on_failure;
	dr_step *steps; /* after resolve: composite uses expanded in place */
	size_t n_steps;
	dr_step *finally_steps;
	size_t n_finally;
	/* composite files only: */
	bool is_composite;
	dr_param *inputs; /* composite inputs, same shape as params */
	size_t n_inputs;
	const char *composite_name;
	/* after plan: */
	struct dr_plan *plan;
} dr_runbook;

/*
 * The front end in one call: load, check, resolve, plan. Diagnostics of
 * every stage go to diags; stages after a failed one still run where they
 * can, so one pass reports as much as possible. Returns the runbook (even
 * with errors, for tools that want partial results) or NULL when the file
 * could not be loaded at all. The caller frees it with dr_runbook_free().
 * stdlib_dir may be NULL (then $DROVER_STDLIB, then the installed stdlib).
 */
dr_runbook *dr_runbook_compile(const char *path, dr_diags *diags, const char *stdlib_dir);

void dr_runbook_free(dr_runbook *rb);

/* Find a step by id among steps and finally steps; NULL when absent. */
dr_step *dr_runbook_step(const dr_runbook *rb, const char *id);
const dr_vm_set *dr_runbook_vm_set(const dr_runbook *rb, const char *name);
const dr_param *dr_runbook_param(const dr_runbook *rb, const char *name);
const dr_secret *dr_runbook_secret(const dr_runbook *rb, const char *name);

/* Stage entry points, each in its own file. */

/* check.c: validate root against the schema and build the model. Returns NULL only if root is NULL. */
dr_runbook *dr_check(dr_arena *a, dr_diags *diags, const dr_node *root, const char *path);

/* resolve.c: expand use:, compile and type-check every ${...}; returns the number of errors added. */
size_t dr_resolve(dr_runbook *rb, dr_diags *diags, const char *stdlib_dir);

#endif
