/*
 * backends/backend.h - one interface for every DR service.
 *
 * The dr.* actions, `drover plan` and the binder talk to the protection
 * service only through this vtable. It speaks Azure Site Recovery's notions
 * (shared/reference/asr-api.md §1.2-1.7), nothing specific to one backend:
 * replication protected items with a protection state, an active location
 * and the operations allowed in that state; recovery points; operations
 * that start jobs with tasks; errors as ASR-style data. The embedded
 * simulator (backends/sim.h) implements it now, the Azure backend later.
 *
 * Calls. Every call takes now_ms: Unix milliseconds on the caller's clock
 * (with the executor: dr_exec_wall(run, call->now_ms), real or virtual). A
 * backend never reads the system clock itself; a simulated one computes job
 * progress from now_ms. Each call returns 0, or -1 with *err filled
 * (err may not be NULL). Refusals (an operation not allowed in the item's
 * state, throttling, unknown ids) are errors too: ASR-style data with an
 * HTTP-like status and a class that retry policies read.
 *
 * Memory. Results and error strings are allocated in the arena the caller
 * passes (a scratch arena per task attempt) and stay valid until it is
 * freed; nothing returned points into the backend. A backend may be called
 * from several threads at once (it serialises internally).
 *
 * Idempotency. Every mutating call (dr_backend_start) carries a key. The
 * same key again returns the job the first call started (replayed = true)
 * and starts nothing, whatever the item's state is now; a key reused for a
 * different operation or item is refused (409). Only calls that started a
 * job bind their key: a refused or throttled call may be retried with the
 * same key. A request with replay_only set asks only that question: it
 * returns the key's job or fails (404 IdempotencyKeyNotFound) and never
 * starts anything, whatever the item's state (resume probes use it). A
 * remote service without idempotency keys (ARM) keeps this contract by
 * sending a client request id derived from the key and finding the job
 * that carries it (docs/backends.md, "Exactly once").
 *
 * Threads. A backend whose calls block on the network says so (remote):
 * the executor then runs every action that calls it on its worker pool,
 * never on the scheduler thread.
 */
#ifndef DR_BACKEND_H
#define DR_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "front/runbook.h"
#include "util/arena.h"

struct cJSON;
struct dr_vm;

/* ---- operations ----------------------------------------------------------- */

/* The mutating operations (one per dr.* action that changes the service). */
typedef enum dr_be_op {
	DR_BE_OP_FAILOVER, /* unplanned failover (ASR UnplannedFailover) */
	DR_BE_OP_TEST_FAILOVER, /* TestFailover into an isolated network */
	DR_BE_OP_TEST_CLEANUP, /* TestFailoverCleanup */
	DR_BE_OP_CHANGE_POINT, /* ChangePit (applyRecoveryPoint): only before commit */
	DR_BE_OP_COMMIT, /* Commit: deletes the recovery points; irreversible */
	DR_BE_OP_CANCEL_FAILOVER, /* CancelFailover: back to the source, only before commit */
	DR_BE_OP_REPROTECT, /* ReverseReplicate: only after commit */
	DR_BE_OP_SHUTDOWN, /* shut down the source VM (a compute operation, no ASR state change) */
	DR_BE_OP_COUNT
} dr_be_op;

/* Bit of op in a dr_be_item's allowed_ops mask. */
#define DR_BE_OP_BIT(op) (1u << (unsigned)(op))

/* "failover", "test_failover", ...: the dr.* action's name without "dr." (fault specs, audit log). */
const char *dr_backend_op_name(dr_be_op op);
/* ASR's allowedOperations name ("UnplannedFailover", "ChangePit", ...); NULL for SHUTDOWN. */
const char *dr_backend_op_asr_name(dr_be_op op);
/* Look an op up by either name; returns false when unknown. */
bool dr_backend_op_parse(const char *name, dr_be_op *out);

typedef enum dr_be_location { DR_BE_PRIMARY, DR_BE_RECOVERY } dr_be_location;

/* "Primary" or "Recovery" (ASR activeLocation). */
const char *dr_backend_location_name(dr_be_location loc);

/* Which way a failover goes. AUTO: from the item's active location to the other side. */
typedef enum dr_be_direction {
	DR_BE_DIR_AUTO,
	DR_BE_DIR_PRIMARY_TO_RECOVERY,
	DR_BE_DIR_RECOVERY_TO_PRIMARY,
} dr_be_direction;

/* "PrimaryToRecovery", "RecoveryToPrimary" or "Auto". */
const char *dr_backend_direction_name(dr_be_direction d);

/* ---- errors ------------------------------------------------------------------- */

typedef enum dr_be_errclass {
	DR_BE_ERR_NONE,
	DR_BE_ERR_PERMANENT, /* retrying cannot help: refused operation, unknown id, bad input */
	DR_BE_ERR_TRANSIENT, /* may work later: 5xx, the item is busy with another job */
	DR_BE_ERR_THROTTLED, /* 429: wait retry_after_ms */
	DR_BE_ERR_CANCELLED, /* not sent: the caller stopped the call while it waited (dr_backend_watch) */
} dr_be_errclass;

/* An ASR-style error (asr-api.md §2.4): error.code/message plus details' causes and action. */
typedef struct dr_be_error {
	int http_status; /* 400, 404, 409, 429, 500, 503; 0 for local problems (files) */
	dr_be_errclass cls;
	const char *code; /* "OperationNotAllowedInCurrentState", "TooManyRequests", ... */
	const char *message;
	const char *possible_causes; /* may be NULL */
	const char *recommended_action; /* may be NULL */
	int64_t retry_after_ms; /* the service's Retry-After hint; -1 when none */
	const char *request_id; /* the client request id of the failed call (x-ms-client-request-id); NULL when none */
} dr_be_error;

/* "permanent", "transient", "throttled" (or "none"). */
const char *dr_backend_errclass_name(dr_be_errclass c);

/* ---- protected items -------------------------------------------------------- */

/*
 * The protection state, normalised. ASR's protectionState is a free string;
 * the raw strings are in dr_be_item too. The *ING states are "a job of this
 * operation is running on the item" (ASR: currentScenario).
 */
typedef enum dr_be_state {
	DR_BE_ST_PROTECTED, /* replicating from the active location; failover and test failover allowed */
	DR_BE_ST_FAILING_OVER,
	DR_BE_ST_FAILED_OVER, /* "Failover completed": commit pending; Commit, ChangePit, CancelFailover */
	DR_BE_ST_CHANGING_POINT,
	DR_BE_ST_COMMITTING,
	DR_BE_ST_CANCELLING,
	DR_BE_ST_COMMITTED, /* "Failover committed": recovery points gone; ReverseReplicate */
	DR_BE_ST_REPROTECTING, /* seeding the other side, then deltas */
	DR_BE_ST_TEST_FAILING_OVER,
	DR_BE_ST_TEST_FAILED_OVER, /* "Cleanup test failover pending": TestFailoverCleanup */
	DR_BE_ST_TEST_CLEANING,
	DR_BE_ST_OTHER, /* a state this interface does not know (real services) */
	DR_BE_ST_COUNT
} dr_be_state;

/* "protected", "failing_over", "failed_over", ...: stable names for outputs and reports. */
const char *dr_backend_state_name(dr_be_state s);

typedef enum dr_be_power { DR_BE_POWER_NONE, DR_BE_POWER_STOPPED, DR_BE_POWER_RUNNING } dr_be_power;
typedef enum dr_be_health {
	DR_BE_HEALTH_UNKNOWN, /* no VM, or stopped */
	DR_BE_HEALTH_BOOTING, /* running, guest not ready yet */
	DR_BE_HEALTH_HEALTHY, /* running, guest heartbeat / login probe answers */
	DR_BE_HEALTH_UNHEALTHY, /* running, guest never became ready */
} dr_be_health;

/* "none", "stopped", "running" / "unknown", "booting", "healthy", "unhealthy". */
const char *dr_backend_power_name(dr_be_power p);
const char *dr_backend_health_name(dr_be_health h);

/* One virtual machine of an item as the compute service shows it (instance view). */
typedef struct dr_be_vm {
	bool exists;
	const char *id; /* the compute resource id; NULL when it does not exist */
	const char *region;
	const char *ip;
	dr_be_power power;
	dr_be_health health;
	int64_t since_ms; /* when it reached its power state; -1 unknown */
} dr_be_vm;

typedef struct dr_be_item {
	const char *id; /* the replication protected item's resource id */
	const char *name; /* the VM's name (ASR friendlyName) */
	const char *const *tag_keys;
	const char *const *tag_values;
	size_t n_tags;
	const char *primary_region, *recovery_region;
	const char *primary_ip, *recovery_ip;
	const char *size;
	dr_be_state state;
	const char *protection_state; /* ASR protectionState, e.g. "UnplannedFailoverCommitPendingStatesBegin" */
	const char *protection_state_description; /* e.g. "Failover completed" */
	const char *test_failover_state; /* "None", "WaitingForCompletion", "MarkedForDeletion", ... */
	const char *test_failover_state_description;
	dr_be_location active_location;
	unsigned allowed_ops; /* DR_BE_OP_BIT mask of the ASR operations allowed now (not SHUTDOWN) */
	const char *replication_health; /* "Normal", "Warning", "Critical" */
	int64_t rpo_ms; /* current replication lag ("latest" loses this much); -1 when not replicating */
	const char *current_job_id; /* the job running on the item (currentScenario), or NULL */
	const char *failover_point_id; /* the point the last (test) failover used; NULL when none */
	int64_t failover_point_ms; /* its time; -1 when none */
	int64_t last_failover_ms, last_test_failover_ms; /* -1 when never */
	dr_be_vm primary_vm, recovery_vm; /* the VMs in each region */
	dr_be_vm test_vm; /* the test failover's VM; exists only between test failover and cleanup */
	const char *unseen; /* what the backend could not see about the VM and why ("tags, power state:
			       no access to Microsoft.Compute (403)"); NULL when it saw everything */
	const char *unusable; /* why drover cannot operate the item at all, as a sentence ("it is protected
				 by InMageRcm ..., not A2A", "the service's answer lacks properties"): the
				 preflight refuses every operation on it; NULL when it can */
	bool nameless; /* the service's answer does not name the VM (no friendlyName; name is the item's id or
			  place in the list): no VM set can tell whether the item is one of its VMs, so the
			  preflight blocks a runbook with VM sets until it is read or excluded (unusable says why) */
} dr_be_item;

/* The VM at the item's active location (what a probe of a failed-over VM looks at). */
const dr_be_vm *dr_backend_active_vm(const dr_be_item *it);

/* ASR allowedOperations as text: "Commit, ChangePit, CancelFailover" (or "none"), in a. */
const char *dr_backend_allowed_text(dr_arena *a, unsigned allowed_ops);

/* Fill a dr_vm (actions/action.h) from an item; strings are borrowed from it. */
void dr_backend_item_to_vm(const dr_be_item *it, struct dr_vm *out);

/* ---- recovery points -------------------------------------------------------- */

typedef enum dr_be_point_type { DR_BE_POINT_CRASH_CONSISTENT, DR_BE_POINT_APP_CONSISTENT } dr_be_point_type;

/* "CrashConsistent" / "ApplicationConsistent" (ASR recoveryPointType). */
const char *dr_backend_point_type_name(dr_be_point_type t);

typedef struct dr_be_point {
	const char *id; /* full resource id: <item id>/recoveryPoints/<name> */
	const char *name;
	/*
	 * -1: undated - the service listed the point without a time (Azure's
	 * recoveryPointTime is optional in the contract). No policy picks it
	 * (dr_backend_choose_point skips it, by id too: its age and so the RPO
	 * are unknown); lists put undated points last, and the preflight counts
	 * them in the VM's recovery point (dr_pf_point.undated).
	 */
	int64_t time_ms;
	dr_be_point_type type;
	bool processed; /* false: the service is still processing it (newest points) */
} dr_be_point;

/* What to pick (the runbook's recovery: policy, or a step's recovery_point). */
typedef struct dr_be_point_query {
	dr_point_policy policy; /* never DR_POINT_FROM_EXPR: evaluate it first */
	const char *custom_id; /* CUSTOM by id: a point's id or name */
	int64_t custom_time_ms; /* CUSTOM by time (when custom_id is NULL): newest point at or before */
	int64_t max_age_ms; /* RPO guard; -1: none */
} dr_be_point_query;

typedef enum dr_be_pick {
	DR_BE_PICK_OK,
	DR_BE_PICK_NONE, /* no point matches (none of that type, none that old, unknown id, not replicating) */
	DR_BE_PICK_TOO_OLD, /* found, but older than max_age: *out is filled, for the message */
} dr_be_pick;

typedef struct dr_be_choice {
	const dr_be_point *point; /* NULL for latest: the service processes pending data first */
	const char *point_id; /* what to pass in dr_be_request.point_id (NULL for latest) */
	int64_t time_ms; /* the point's time; for latest: now - the item's rpo_ms */
	int64_t age_ms; /* now - time_ms: the RPO this choice implies */
} dr_be_choice;

/*
 * Pick a recovery point of item among pts[0..n) (any order) by q at now:
 * latest (no point: the newest data, estimated from the item's replication
 * lag), latest-processed (newest processed point), latest-app-consistent
 * and latest-crash-consistent (newest processed point of that type), custom
 * by id (that point, processed or not) or by time (newest point at or before
 * it). Then the RPO guard: age > max_age gives TOO_OLD. "latest" needs an
 * item that replicates (rpo_ms >= 0). Undated points (time_ms -1) are never
 * picked.
 */
dr_be_pick dr_backend_choose_point(const dr_be_item *item, const dr_be_point *pts, size_t n,
				   const dr_be_point_query *q, int64_t now_ms, dr_be_choice *out);

/* "ok", "none", "too_old". */
const char *dr_backend_pick_name(dr_be_pick p);

/* ---- jobs ----------------------------------------------------------------------- */

typedef enum dr_be_job_state {
	DR_BE_JOB_NOT_STARTED,
	DR_BE_JOB_IN_PROGRESS,
	DR_BE_JOB_SUCCEEDED,
	DR_BE_JOB_FAILED,
	DR_BE_JOB_CANCELLED,
	DR_BE_JOB_SKIPPED, /* tasks only: not run because an earlier task failed */
	DR_BE_JOB_SUSPENDED, /* waiting for a person (a manual action): not done; resumed in the service */
} dr_be_job_state;

/* "NotStarted", "InProgress", "Succeeded", "Failed", "Cancelled", "Skipped", "Suspended" (ASR job/task state). */
const char *dr_backend_job_state_name(dr_be_job_state s);
/* Succeeded, Failed or Cancelled. */
bool dr_backend_job_done(dr_be_job_state s);

/* An error or warning of a job (ASR JobErrorDetails). */
typedef struct dr_be_job_error {
	bool warning; /* errorLevel "Warning": the job still succeeded */
	const char *task; /* the task's name, or NULL */
	dr_be_error error;
} dr_be_job_error;

typedef struct dr_be_task {
	const char *name; /* "Prerequisites check for failover", "Start the replica virtual machine", ... */
	dr_be_job_state state;
	int64_t start_ms, end_ms; /* -1 when not started / not ended */
	const char *instructions; /* a manual action (state SUSPENDED): what the person must do; else NULL */
} dr_be_task;

typedef struct dr_be_job {
	const char *id; /* the job's resource id */
	const char *name; /* its last path segment (a GUID) */
	dr_be_op op;
	const char *scenario; /* ASR scenarioName: "UnplannedFailover", "TestFailover", "CommitFailover", ... */
	const char *friendly_name; /* "Failover", "Test failover", "Commit", ... */
	const char *item_id, *item_name;
	dr_be_job_state state;
	const char *state_description; /* "InProgress", "Completed", "CompletedWithInformation", "Failed" */
	/*
	 * The service's state when it is none this interface knows (ASR's
	 * "Other", or a state newer than the contract): state is then
	 * IN_PROGRESS - not done, followed until it ends or the step's timeout
	 * ends the wait - and the dr.* action says so once. NULL: a known state.
	 */
	const char *state_unknown;
	int64_t start_ms, end_ms; /* end -1 while running */
	dr_be_task *tasks;
	size_t n_tasks;
	dr_be_job_error *errors; /* failures, and warnings of a job that succeeded anyway */
	size_t n_errors;
	const char *point_id; /* (test) failover, change point: the recovery point used; else NULL */
	int64_t point_ms; /* its time; -1 when none */
	int64_t poll_after_ms; /* ask again after this long (Retry-After); -1 once the job is done */
} dr_be_job;

typedef struct dr_be_job_filter {
	const char *item_id; /* NULL: any item */
	bool running_only;
	int64_t since_ms; /* started at or after; -1: any time */
} dr_be_job_filter;

/* ---- starting operations -------------------------------------------------------- */

typedef struct dr_be_request {
	dr_be_op op;
	const char *item_id; /* the item's id (its name is accepted too) */
	const char *idempotency_key; /* required: see the top of this file */
	dr_be_direction direction; /* FAILOVER, TEST_FAILOVER, REPROTECT: must leave the active location */
	const char *point_id; /* FAILOVER, TEST_FAILOVER: NULL = latest; CHANGE_POINT: required */
	bool shutdown_source; /* FAILOVER: shut the source VM down first; failure does not stop the failover */
	const char *network; /* TEST_FAILOVER: the isolated network (required) */
	const char *comments; /* TEST_CLEANUP: recorded with the job */
	/* REPROTECT: what a service that reprotects by switching protection (ASR A2A) would otherwise
	   discover from the item and its container mappings; NULL = discover */
	const char *policy_id; /* the replication policy of the reverse direction */
	const char *recovery_container_id; /* the protection container replicated into (the old primary's) */
	const char *recovery_resource_group_id; /* where the VM's new replica lives (the old primary's group) */
	const char *staging_storage_id; /* the cache storage account on the side that is now the source */
	bool replay_only; /* start nothing: the job this key started, or 404 IdempotencyKeyNotFound */
} dr_be_request;

typedef struct dr_be_started {
	const char *job_id;
	bool replayed; /* the key was seen before: this is the first call's job, nothing new started */
	const char *request_id; /* the client request id the call carried (remote backends); NULL when none */
	int64_t poll_after_ms; /* the service's Retry-After for the new job: ask no sooner; -1: ask at once */
} dr_be_started;

/* ---- the vtable ------------------------------------------------------------------ */

typedef struct dr_backend dr_backend;

typedef struct dr_backend_ops {
	int (*list_items)(dr_backend *be, dr_arena *a, int64_t now_ms, dr_be_item **out, size_t *n,
			  dr_be_error *err);
	int (*get_item)(dr_backend *be, dr_arena *a, int64_t now_ms, const char *item_id, dr_be_item *out,
			dr_be_error *err);
	int (*list_points)(dr_backend *be, dr_arena *a, int64_t now_ms, const char *item_id, dr_be_point **out,
			   size_t *n, dr_be_error *err);
	/*
	 * May be NULL (then list_points serves): a subset of list_points'
	 * answer holding, for each latest-* policy (latest-processed,
	 * latest-app-consistent, latest-crash-consistent), the point it would
	 * pick from the whole list, and every point newer than it - so
	 * dr_backend_choose_point gives the same answer from either. The
	 * simulator lists a dozen points of a day's 288 (drover plan of
	 * 10,000 VMs formatted 2.9 million point ids).
	 */
	int (*list_newest_points)(dr_backend *be, dr_arena *a, int64_t now_ms, const char *item_id,
				  dr_be_point **out, size_t *n, dr_be_error *err);
	/* get_item from what the backend listed a moment ago, when it kept that (may be NULL: get_item). */
	int (*peek_item)(dr_backend *be, dr_arena *a, int64_t now_ms, const char *item_id, dr_be_item *out,
			 dr_be_error *err);
	int (*start)(dr_backend *be, dr_arena *a, int64_t now_ms, const dr_be_request *req, dr_be_started *out,
		     dr_be_error *err);
	int (*get_job)(dr_backend *be, dr_arena *a, int64_t now_ms, const char *job_id, dr_be_job *out,
		       dr_be_error *err);
	int (*list_jobs)(dr_backend *be, dr_arena *a, int64_t now_ms, const dr_be_job_filter *f, dr_be_job **out,
			 size_t *n, dr_be_error *err);
	/* Make every accepted operation durable (may be NULL: nothing to do). */
	int (*flush)(dr_backend *be, dr_arena *a, dr_be_error *err);
	/* Fill the VM facts of the item from the compute service (may be NULL: items always carry them). */
	int (*vm_facts)(dr_backend *be, dr_arena *a, int64_t now_ms, dr_be_item *it, dr_be_error *err);
	/* Reserve the call of req under the client-side rate limit; ms until it may go (may be NULL: 0). */
	int64_t (*pace)(dr_backend *be, const dr_be_request *req);
	/* From now on one try per request (on), or the backend's own bounded tries (off); may be NULL. */
	void (*caller_retries)(dr_backend *be, bool on);
	void (*close)(dr_backend *be);
} dr_backend_ops;

/* Every backend object starts with this header. */
struct dr_backend {
	const dr_backend_ops *ops;
	const char *kind; /* "sim", "azure" */
	bool simulated; /* time is simulated: the executor may run it on a virtual clock */
	double speed; /* simulated backends: the runbook's clock speed (0 = as fast as possible) */
	bool remote; /* calls block on the network: actions that call it run on the worker pool */
	/*
	 * This process holds the service's state while it has it open (the
	 * embedded simulator): no one else can act on its jobs meanwhile, such
	 * as resume a Suspended one.
	 */
	bool held;
};

/*
 * How a person resumes job j (Suspended: waiting for a manual action) on
 * this backend, as a phrase for a sentence: on the simulator the command
 * `drover sim resume JOB --state FILE` once the run has stopped; on Azure the portal's Resume and
 * the REST call (`az rest --method post --url '<endpoint><job>/resume?...'`);
 * else "in the service". In a. Thread-safe (reads only what open set).
 */
const char *dr_backend_resume_how(const dr_backend *be, dr_arena *a, const dr_be_job *j);

/*
 * Whether a person can resume a Suspended job of be while a run of this
 * process has it open: a service can (the portal, the REST call); the
 * embedded simulator cannot (be->held: the run holds its state until it
 * stops). Thread-safe.
 */
bool dr_backend_person_can_resume(const dr_backend *be);

typedef struct dr_backend_opts {
	const char *state_dir; /* the run state directory (.drover); the sim keeps sim-state.json there */
	const char *state_path; /* backends with local state (the sim): an explicit file, NULL = default */
	bool read_only; /* look, never write (drover sim show, drover plan) */
	bool in_memory; /* keep no state at all (plan --estimate, tests) */
	const struct cJSON *params; /* the run's bound parameters, for ${params.X} in backend options; may be NULL */
} dr_backend_opts;

/*
 * Open the backend rb->backend describes. Mistakes in its options
 * (inventory, faults) are diagnostics in diags (with positions); system
 * problems (state file unreadable or corrupt, locked by another process,
 * backend not available) fill *err, its strings in a. Returns NULL on
 * either. opts may be NULL. Close with dr_backend_close.
 */
dr_backend *dr_backend_open(const dr_runbook *rb, const dr_backend_opts *opts, dr_arena *a, dr_diags *diags,
			    dr_be_error *err);

/* Thin wrappers over be->ops (see dr_backend_ops). */
int dr_backend_list_items(dr_backend *be, dr_arena *a, int64_t now_ms, dr_be_item **out, size_t *n,
			  dr_be_error *err);
int dr_backend_get_item(dr_backend *be, dr_arena *a, int64_t now_ms, const char *item_id, dr_be_item *out,
			dr_be_error *err);
int dr_backend_list_points(dr_backend *be, dr_arena *a, int64_t now_ms, const char *item_id, dr_be_point **out,
			   size_t *n, dr_be_error *err);
/* The points a latest-* policy chooses from (ops->list_newest_points), else every point. */
int dr_backend_list_newest_points(dr_backend *be, dr_arena *a, int64_t now_ms, const char *item_id,
				  dr_be_point **out, size_t *n, dr_be_error *err);
int dr_backend_start(dr_backend *be, dr_arena *a, int64_t now_ms, const dr_be_request *req, dr_be_started *out,
		     dr_be_error *err);
int dr_backend_get_job(dr_backend *be, dr_arena *a, int64_t now_ms, const char *job_id, dr_be_job *out,
		       dr_be_error *err);
int dr_backend_list_jobs(dr_backend *be, dr_arena *a, int64_t now_ms, const dr_be_job_filter *f, dr_be_job **out,
			 size_t *n, dr_be_error *err);
/*
 * How long (ms of real time) until req's mutating call may go without
 * exceeding the service's rate limits. The backend reserves the slot for
 * req's idempotency key: a dr_backend_start with that key at or after that
 * time goes without waiting again. 0: now (and for a backend without a
 * client-side limiter, always). The executor's dr.* actions wait this long
 * as a WAIT - on a timer, not on a worker thread - so a thousand starts
 * paced at ARM's 10 writes a second leave the workers free for the polls.
 */
int64_t dr_backend_pace(dr_backend *be, const dr_be_request *req);
/*
 * Who retries a throttled (429), failed (5xx) or lost request. Off (the
 * default): the backend tries a read again itself, a few times, no faster
 * than Retry-After - for callers with no retry policy of their own (plan,
 * validate, the binder, the preflight, resume probes). On: every request
 * is sent once and its failure returned with its class and Retry-After,
 * for the caller's policy to retry - the executor turns it on while steps
 * run, so a step's `retry:` is the only retry policy and each retry is an
 * attempt. A no-op on backends that never retry (the simulator).
 * Thread-safe; calls in flight finish under the setting they began with.
 */
void dr_backend_caller_retries(dr_backend *be, bool on);
/*
 * The calling thread's stop flag: from now on, a wait of the backend's own
 * in this thread's calls (Azure: the subscription paused by a 429, its
 * token bucket) ends as soon as *stop is non-zero, and the call fails
 * DR_BE_ERR_CANCELLED with nothing sent. NULL (the default): waits run
 * their course. The executor's workers set it to the call's
 * cancel_requested around each action's run, which the attempt's deadline,
 * the step's timeout and a cancel all set. Thread-local; any backend.
 */
void dr_backend_watch(const volatile int *stop);
/* Whether the calling thread's stop flag (dr_backend_watch) is set. */
bool dr_backend_stop_asked(void);
/*
 * The item for a look whose conclusion the service checks again: a dr.*
 * action's look before it posts (its state, allowed operations, current
 * job), which the service refuses when it no longer holds. A backend whose
 * reads are scarce (ARM) may answer from a copy of its last list (at most
 * a couple of minutes old, never of an item it started an operation on
 * since), aging what only gets worse with time (the replication lag); the
 * others answer as get_item. Everything else - probes, resume probes,
 * target.state, the preflight, outputs - calls dr_backend_get_item, which
 * always asks the service, so another client's change (the portal, a
 * second drover) is never hidden by a copy.
 */
int dr_backend_peek_item(dr_backend *be, dr_arena *a, int64_t now_ms, const char *item_id, dr_be_item *out,
			 dr_be_error *err);
/*
 * The facts of the item's VMs that a backend may not fetch with it (each
 * is a call of its own on Azure): power state, guest health and addresses
 * of the VM at the active location and of a test failover's VM, as dr.probe
 * and the operations' outputs read them. list_items and get_item of such a
 * backend leave power NONE and health UNKNOWN; this fills them, and says in
 * it->unseen what it could not see (no access, VM absent). A backend whose
 * items always carry them (the sim) does nothing here. Returns 0, or -1
 * with *err when the service could not be asked at all.
 */
int dr_backend_vm_facts(dr_backend *be, dr_arena *a, int64_t now_ms, dr_be_item *it, dr_be_error *err);
/*
 * Make the operations accepted so far durable. The executor calls it before
 * it makes journal records that mention them durable (group commit), so a
 * journal never names a job the service could forget.
 */
int dr_backend_flush(dr_backend *be, dr_arena *a, dr_be_error *err);
/*
 * The service's time for the caller's now_ms: what the ages of recovery
 * points are measured against. Equal to now_ms except for a simulator that
 * runs ahead of a restarted virtual clock (docs/backends.md, "Sim time").
 */
int64_t dr_backend_now(dr_backend *be, int64_t now_ms);
/* Flush (errors are lost: flush first to see them) and free. NULL is a no-op. */
void dr_backend_close(dr_backend *be);

/* ---- small helpers ------------------------------------------------------------- */

/* Fill *err (strings copied into a; causes and action may be NULL). Returns -1 for `return dr_backend_fail(...)`. */
int dr_backend_fail(dr_be_error *err, dr_arena *a, int http_status, dr_be_errclass cls, const char *code,
		    const char *causes, const char *action, const char *fmt, ...) __attribute__((format(printf, 8, 9)));

/* "ShortCode: message" plus " Possible causes: ... Recommended action: ..." in a. */
const char *dr_backend_error_text(dr_arena *a, const dr_be_error *err);

/* RFC 3339 UTC with seconds, or milliseconds when not whole: "2026-01-01T00:05:00Z". out >= 32 bytes. */
void dr_backend_format_time(int64_t unix_ms, char *out, size_t outsz);
/* Parse RFC 3339 (Z or +hh:mm offset, optional fraction) into Unix ms; false when malformed. */
bool dr_backend_parse_time(const char *s, int64_t *out_ms);

#endif
