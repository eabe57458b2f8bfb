/*
 * action.h - the action table: every action a step can name is one row.
 *
 * A row gives the action's name, its input schema (the `with:` map, checked
 * by the same code as the rest of the runbook), its flags, and what it does.
 * The checker and planner read names, schemas and flags; the executor calls
 * run() once per attempt (again after each WAIT) and cancel() when it
 * abandons a waiting attempt.
 *
 * Values at run time are cJSON trees. Ownership rule, stated once: a call's
 * `with` is borrowed for the duration of run(); an outcome's `outputs` and
 * `message` are moved to the executor, which frees them.
 */
#ifndef DR_ACTION_H
#define DR_ACTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "front/schema.h"

/* What the planner needs to know about an action (DR ordering rules). */
enum {
	DR_AF_MUTATING = 1u << 0, /* changes the protected service's state */
	DR_AF_IRREVERSIBLE = 1u << 1, /* nothing can be undone across it (commit) */
	DR_AF_PER_TARGET = 1u << 2, /* needs targets: one task per VM */
	DR_AF_VALIDATION = 1u << 3, /* checks health; counts as validation before commit */
	DR_AF_FAILOVER = 1u << 4, /* dr.failover */
	DR_AF_TEST_FAILOVER = 1u << 5, /* dr.test_failover */
	DR_AF_TEST_CLEANUP = 1u << 6, /* dr.test_cleanup */
	DR_AF_COMMIT = 1u << 7, /* dr.commit */
	DR_AF_REPROTECT = 1u << 8, /* dr.reprotect */
	DR_AF_APPROVAL = 1u << 9, /* approve */
	DR_AF_SKIP_IN_DRILL = 1u << 10, /* skipped (and reported) by `drover drill` */
	DR_AF_BLOCKING = 1u << 11, /* run() blocks (processes, network): it runs on a worker thread */
	DR_AF_BACKEND = 1u << 12, /* run() calls the run's backend: on a worker thread when the backend is remote */
	DR_AF_CHANGE_POINT = 1u << 13, /* dr.change_recovery_point: only between failover and commit (DR411) */
	DR_AF_CANCEL_FAILOVER = 1u << 14, /* dr.cancel_failover: only before commit (DR406, DR412) */
};

struct cJSON;
struct dr_step;
struct dr_exec;

/* How an attempt ended, as far as retry policies care. */
typedef enum dr_err_class {
	DR_ERRC_NONE,
	DR_ERRC_PERMANENT, /* retrying cannot help (bad input, refused operation) */
	DR_ERRC_TRANSIENT, /* may work next time (5xx, connection reset, probe not yet healthy) */
	DR_ERRC_THROTTLED, /* the service asked us to slow down (429) */
	DR_ERRC_TIMEOUT, /* the attempt ran out of time */
	DR_ERRC_CANCELLED, /* the run is being cancelled */
} dr_err_class;

typedef enum dr_act_status { DR_ACT_OK, DR_ACT_FAIL, DR_ACT_WAIT } dr_act_status;

typedef struct dr_outcome {
	dr_act_status status;
	dr_err_class cls; /* FAIL */
	char *message; /* FAIL: heap string, moved to the executor; WAIT for a person: what the person is asked, or NULL */
	struct cJSON *outputs; /* OK: an object, moved to the executor (NULL means {}) */
	int64_t retry_after_ms; /* FAIL: the service's Retry-After hint, -1 when none */
	int64_t wait_ms; /* WAIT: call run() again after this much clock time */
	bool person; /* WAIT: it waits for a person (a Suspended job): attempt_timeout and the step's timeout stand still */
} dr_outcome;

/* A VM as the executor and actions see it (bound from the backend's inventory). */
typedef struct dr_vm {
	const char *name;
	const char *id;
	const char *const *tag_keys;
	const char *const *tag_values;
	size_t n_tags;
	const char *primary_region, *recovery_region;
	const char *primary_ip, *recovery_ip;
	const char *size;
} dr_vm;

/* One call of an action for one attempt of one task. */
typedef struct dr_call {
	const struct dr_step *step;
	const dr_vm *target; /* NULL when the step is not fanned out */
	const struct cJSON *with; /* evaluated inputs: an object, never NULL */
	int attempt; /* 1-based */
	int64_t now_ms; /* clock time of this call (virtual or real) */
	int64_t deadline_ms; /* the attempt's deadline in clock time; INT64_MAX when none */
	void *state; /* the action's own, kept across WAIT calls; freed by the action on OK/FAIL or in cancel() */
	const volatile int *cancel_requested; /* non-zero: reach a safe point and return FAIL(CANCELLED) */
	struct dr_exec *run; /* services of the executor (dr_exec_* functions) */
	const struct dr_action *action; /* the action called (an undo task's is the undo action); may be NULL */
	void *sched_task; /* the executor's own: the task making this call; NULL outside its scheduler. Actions leave it alone */
} dr_call;

/*
 * What a probe found out about an attempt whose outcome was lost (a crash
 * between the journal's intent record and its result record). The probe
 * asks the service, never starts anything, and tells the resuming run:
 */
typedef enum dr_probe_status {
	DR_PROBE_DONE, /* the operation happened and succeeded: outputs are what run() would have returned */
	DR_PROBE_RUNNING, /* its job still runs: call->state holds it; call run() again after wait_ms (as after WAIT) */
	DR_PROBE_NOT_STARTED, /* nothing of this attempt happened that starting it again could repeat: run() it */
	DR_PROBE_FAILED, /* it happened and failed: cls and message, as run() would have returned them */
	DR_PROBE_UNKNOWN, /* the service cannot tell (message says why): a person must look */
} dr_probe_status;

typedef struct dr_probe_result {
	dr_probe_status status;
	struct cJSON *outputs; /* DONE: an object, moved to the caller */
	char *message; /* FAILED, UNKNOWN: heap string, moved to the caller; else NULL */
	dr_err_class cls; /* FAILED */
	int64_t wait_ms; /* RUNNING: when to call run() */
} dr_probe_result;

typedef struct dr_action {
	const char *name; /* "dr.failover" */
	const char *summary; /* one line, for docs and --help */
	const dr_type *input; /* a MAP type: the `with:` schema; NULL for no inputs */
	unsigned flags;
	const char *undo; /* name of the default undo action, or NULL */
	const char *outputs_doc; /* what the action returns, for docs */
	dr_outcome (*run)(dr_call *call); /* NULL: not executable yet (reported at run time) */
	void (*cancel)(dr_call *call); /* release call->state of an abandoned WAIT; may be NULL */
	/*
	 * Resume (journal): settle an attempt whose outcome was lost by asking
	 * the service. call is built as for run() with the lost attempt's
	 * number and inputs (the same idempotency key, dr_exec_idempotency_key)
	 * and state NULL. NULL for actions that change nothing: run them again.
	 * docs/execution.md, "Probes".
	 */
	dr_probe_result (*probe)(dr_call *call);
} dr_action;

/* Outcome constructors. dr_fail formats the message. */
dr_outcome dr_outcome_ok(struct cJSON *outputs);
dr_outcome dr_outcome_fail(dr_err_class cls, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
dr_outcome dr_outcome_wait(int64_t wait_ms);
/*
 * WAIT for a person: the service waits for someone (a job Suspended at a
 * manual action). Until the action returns anything else, the time does not
 * count against attempt_timeout or the step's timeout (the run's
 * run_timeout still counts); docs/execution.md, "Timeouts".
 */
dr_outcome dr_outcome_wait_person(int64_t wait_ms);

/* Look up an action by name; NULL when unknown. */
const dr_action *dr_action_find(const char *name);

/* Every action, in table order; *n gets the count. */
const dr_action *const *dr_action_all(size_t *n);

/* The NULL-terminated list of all action names (for suggestions). */
const char *const *dr_action_names(void);

/* The lower-case name of one DR_AF_* flag ("irreversible"); NULL for anything else. */
const char *dr_action_flag_name(unsigned flag);

/* The action reference (docs/actions.md) as Markdown, generated from the table. */
#include <stdio.h>
void dr_action_print_markdown(FILE *out);

#endif
