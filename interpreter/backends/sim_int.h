/*
 * backends/sim_int.h - private to the simulator's files (sim*.c).
 *
 * One struct sim holds the whole simulated service: items (one per
 * protected VM), jobs, idempotency keys, faults and the audit log. Files:
 *
 *   sim.c            the vtable: locking, sim time, lookups, starting jobs,
 *                    idempotency, the audit log
 *   sim_machine.c    the protection state machine: states, allowed
 *                    operations, what each operation does at start and end
 *   sim_jobs.c       jobs and tasks: planning (names, durations), progress
 *                    at a time, applying task effects as time passes
 *   sim_points.c     recovery points: the schedule, ids, lookups
 *   sim_faults.c     the fault spec and the decisions it makes
 *   sim_inventory.c  VMs from the runbook's vms:/inventory: into items
 *   sim_state.c      the state file: JSON in and out, atomic writes, lock
 *   sim_log.c        the change log beside it: what changed since the last
 *                    snapshot, one group of lines per flush
 *   sim_util.c       hashing, deterministic random numbers, GUIDs
 *
 * Time. Every function takes t, the sim time of the call (dr_sim_time).
 * Nothing moves by itself: a job's tasks are planned with start and end
 * times when it starts, and sim_settle applies whatever ended by t when an
 * item is looked at, so the results are the same however often one polls.
 *
 * Memory: items, jobs and their strings are heap-allocated (xmalloc) and
 * owned by the sim; sim_free releases everything.
 */
#ifndef DR_SIM_INT_H
#define DR_SIM_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/backend.h"
#include "backends/sim.h"
#include "util/index.h"

#define SIM_NEVER INT64_MAX /* a time that never comes (a hung task, no points) */
#define SIM_UNSET INT64_MIN /* not yet known: set by the session's first call */
#define SIM_MAX_TASKS 6

#define SIM_MIN INT64_C(60000)
#define SIM_HOUR (60 * SIM_MIN)
#define SIM_POINT_EVERY (5 * SIM_MIN) /* a crash-consistent point every 5 minutes */
#define SIM_APP_EVERY 12 /* every 12th point (hourly) is app-consistent */
#define SIM_RETENTION (24 * SIM_HOUR) /* points older than this are purged */

/* ---- util: hashing, random numbers, GUIDs ------------------------------------------ */

uint64_t sim_hash(const char *s);
uint64_t sim_mix(uint64_t a, uint64_t b);
/* A deterministic draw in [lo, hi] from a hash. */
int64_t sim_between(uint64_t h, int64_t lo, int64_t hi);
/* A deterministic draw in [0, 1). */
double sim_unit(uint64_t h);
/* A GUID-shaped text from two hashes, into out (37 bytes). */
void sim_guid(uint64_t a, uint64_t b, char *out);

/* ---- the model -------------------------------------------------------------------- */

typedef struct sim_vmst {
	bool exists, running, unhealthy;
	int64_t since_ms; /* when it reached its power state */
	int64_t boot_ms; /* after starting, how long the guest takes to become ready */
} sim_vmst;

typedef struct sim_hit {
	uint64_t fault; /* sim_fault.key */
	uint32_t n;
} sim_hit;

typedef struct sim_item {
	char *name, *guid;
	char **tag_k, **tag_v;
	size_t n_tags;
	char *region[2], *ip[2], *size; /* [DR_BE_PRIMARY], [DR_BE_RECOVERY] */
	dr_be_state state;
	int active; /* dr_be_location */
	int64_t pts_since, pts_until; /* points exist for times in [since, until]; since SIM_NEVER: none */
	int64_t phase_ms; /* offset of the point schedule, in [0, SIM_POINT_EVERY) */
	int64_t lag_ms; /* how long a point takes to be processed */
	int64_t rpo_ms; /* replication lag while replicating */
	int64_t job, vm_job; /* running protection job / shutdown job: index in sim.jobs, or -1 */
	int applied, vm_applied; /* tasks of those jobs whose effects are applied */
	sim_vmst vm[2], test_vm;
	char *point_id; /* the point of the last (test) failover or change, or NULL */
	int64_t point_ms;
	char *network; /* the test failover's network, or NULL */
	int64_t last_fo_ms, last_tfo_ms; /* -1: never */
	uint64_t n_ops, n_calls; /* jobs started / mutating calls on this item: seeds of its random draws */
	sim_hit *hits;
	size_t n_hits;
	size_t *jobs; /* its jobs (indexes in sim.jobs), oldest first: list_jobs by item */
	size_t n_jobs, cap_jobs;
	bool touched; /* changed since the last save: in sim.touched */
	char *arm_id[2]; /* sim_item_id's answer with each region as its home, made on first ask (under sim.mu); NULL: not yet */
	size_t arm_id_len[2];
} sim_item;

/* FAIL: the job fails here; WARN: the task fails, the job goes on; HANG: the task never ends;
   SUSPEND: a manual action - the job is Suspended at this task until a person resumes it (dr_sim_resume_job). */
typedef enum sim_outcome { SIM_OK, SIM_FAIL, SIM_WARN, SIM_HANG, SIM_SUSPEND } sim_outcome;

typedef struct sim_task {
	int kind; /* index into the task table (sim_jobs.c) */
	sim_outcome outcome;
	int64_t start, end; /* SIM_NEVER: never (not reached, or hangs) */
} sim_task;

typedef struct sim_job {
	char *guid;
	size_t item;
	dr_be_op op;
	int src, dst; /* locations the job acts from and to */
	int64_t start;
	sim_task tasks[SIM_MAX_TASKS];
	int n_tasks;
	char *point_id; /* (test) failover, change point: the point; NULL otherwise */
	int64_t point_ms;
	char *key; /* idempotency key, or NULL */
	bool unhealthy; /* the VM it starts never becomes healthy */
	char *err_code, *err_msg; /* why its failing task fails (a fault), or NULL; a SUSPEND task: its instructions */
	char *network, *comments;
	char *activity; /* the caller's activity id (the emulator: x-ms-client-request-id), or NULL */
	bool touched; /* a saved job changed since the last save (resumed): in sim.touched_jobs */
} sim_job;

typedef enum sim_fault_kind {
	SIM_F_FAIL,
	SIM_F_THROTTLE,
	SIM_F_HANG,
	SIM_F_UNHEALTHY,
	SIM_F_SLOW,
	SIM_F_SHUTDOWN_FAILS,
	SIM_F_SUSPEND,
	SIM_F_READ_FAILS,
} sim_fault_kind;

typedef struct sim_fault {
	sim_fault_kind kind;
	uint64_t key; /* hash of the spec: fault hit counters in the state file refer to it */
	unsigned ops; /* DR_BE_OP_BIT mask; 0: the kind's default */
	void *vms_re; /* pcre2_code * over the VM name, or NULL */
	char **vms; /* or exact names */
	size_t n_vms;
	int64_t times; /* -1: every time */
	double probability;
	dr_be_errclass cls;
	bool at_job; /* fail: the job fails (else the request is refused) */
	int task; /* fail/hang at job: 1-based task; 0: the operation's main task */
	int64_t after, burst, every; /* throttle */
	int64_t retry_after_ms;
	double factor; /* slow */
	char *code, *message;
	char *spec; /* the spec as one line, for messages */
} sim_fault;

typedef struct sim_audit {
	int64_t t;
	dr_be_op op;
	char *item, *key, *job, *code;
	const char *result; /* static: "accepted", "replayed", "refused", "throttled" */
} sim_audit;

typedef struct sim {
	dr_backend base;
	pthread_mutex_t mu;
	uint64_t seed;
	bool seed_given; /* by the runbook; else the state file's seed is kept */
	char *path; /* state file, or NULL in memory */
	char *vault_id; /* "/Subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.RecoveryServices/vaults/<v>" */
	char *subscription; /* of the VMs' compute ids */
	double job_speed; /* planned task durations and boot times are divided by this (>= 1 speeds up) */
	int lock_fd;
	struct cJSON *lock_left; /* the record found under the free lock when it was taken (dr_sim_lock_left) */
	bool keep_left; /* lets go by writing lock_left back (dr_sim_lock_keep_left), not by emptying the file */
	bool read_only, autosave, dirty;
	int64_t created_ms, last_ms, offset; /* SIM_UNSET until the first call */
	bool time_set;
	uint64_t calls; /* mutating calls, for throttling bursts */
	uint64_t reads; /* reads a read-fails fault was asked about, for its draws (not saved) */
	sim_item *items;
	size_t n_items, cap_items;
	sim_job *jobs;
	size_t n_jobs, cap_jobs;
	dr_strmap item_by_name, item_by_guid, job_by_guid, job_by_key;
	sim_fault *faults;
	size_t n_faults;
	sim_audit *audit;
	size_t n_audit, cap_audit;
	/* What the last save left out (sim_log.c): changed items, changed saved jobs, and the counts of
	   jobs and audit records saved (those after them are new). */
	size_t *touched, n_touched, cap_touched;
	size_t *touched_jobs, n_touched_jobs, cap_touched_jobs;
	size_t saved_jobs, saved_audit;
	/* The change log: "<path>.changes" (sim_log.c). */
	char *log_path;
	int log_fd; /* open for appending, or -1: the next save is a snapshot */
	uint64_t epoch; /* of the state file; the log's groups name it. 0: none (no file, or an older drover's) */
	uint64_t log_bytes, state_bytes; /* the log's size; the state file's at its last snapshot */
	bool need_snapshot; /* the next save rewrites the state file (fresh, stale or torn log, old format) */
	uint64_t saves; /* saves of this session (the crash hook counts them) */
} sim;


/* ---- sim.c ---------------------------------------------------------------------------- */

sim_item *sim_item_add(sim *s, const char *name);
/* Room for more items (and their lookups) without growing: an inventory's size is known before its VMs are added. */
void sim_items_reserve(sim *s, size_t more);
sim_item *sim_item_find(sim *s, const char *id_or_name);
sim_job *sim_job_new(sim *s);
/* Append job (an index in s->jobs) to the item's own list. */
void sim_item_add_job(sim_item *it, size_t job);
sim_job *sim_job_find(sim *s, const char *id_or_name);
void sim_free(sim *s);
/* Remember that it / a saved job changed: the next save logs it (O(1), once per save). */
void sim_item_touch(sim *s, sim_item *it);
void sim_job_touch(sim *s, sim_job *j);
/* Give items whose times are SIM_UNSET their initial state at t (first call of a session). */
void sim_init_new_items(sim *s, int64_t t);

/* ---- sim_machine.c ---------------------------------------------------------------------- */

/* The ASR strings and allowed operations of a state. */
typedef struct sim_state_info {
	const char *protection, *description, *tfo, *tfo_description;
	unsigned allowed;
} sim_state_info;

const sim_state_info *sim_state_info_of(dr_be_state st);
bool sim_state_parse(const char *name, dr_be_state *out);
/* Check that req may start now on it (item settled); 0, or -1 with *err. */
int sim_machine_check(sim *s, sim_item *it, const dr_be_request *req, int64_t t, dr_arena *a, dr_be_error *err);
/* Move the item into the operation's running state; fill the job's locations and point. */
void sim_machine_begin(sim *s, sim_item *it, sim_job *j, const dr_be_request *req, int64_t t);
/* A job ended at end (ok or not): the item's new state. */
void sim_machine_finish(sim *s, sim_item *it, sim_job *j, bool ok, int64_t end);
/* ASR scenarioName and friendlyName of an op's jobs. */
const char *sim_op_scenario(dr_be_op op);
const char *sim_op_friendly(dr_be_op op);

/* ---- sim_jobs.c ------------------------------------------------------------------------- */

/* Plan j's tasks from its start (j->op, src, dst, point set; faults applied by sim_faults_job). */
void sim_jobs_plan(sim *s, sim_item *it, sim_job *j, const dr_be_request *req, int64_t t);
/* Apply the effects of it's jobs' tasks that ended by t, and finish jobs that ended. */
void sim_settle(sim *s, sim_item *it, int64_t t);
/* When j ends (SIM_NEVER: not planned to), and whether it succeeds. */
int64_t sim_job_end(const sim_job *j, bool *ok);
/* The task job j waits at for a person at t (a SUSPEND task started and not resumed), or -1. */
int sim_job_suspended_task(const sim_job *j, int64_t t);
/* A person resumed j at t: its manual action ends, the tasks after it run from t. False: not suspended. */
bool sim_job_resume(sim_job *j, int64_t t);
/* The job's view at t, in a. */
void sim_job_view(sim *s, const sim_job *j, int64_t t, dr_arena *a, dr_be_job *out);
/* The index of the task the job fails at / the op's main task. */
int sim_job_main_task(const sim_job *j);
/* Task table: stable key (state file) and display name; lookup by key (-1 unknown). */
const char *sim_task_key(int kind);
const char *sim_task_name(int kind);
int sim_task_parse(const char *key);
int sim_task_count(void);

/* ---- sim_points.c ----------------------------------------------------------------------- */

/* The points of it at t, newest first, in a. */
size_t sim_points_list(const sim *s, const sim_item *it, int64_t t, dr_arena *a, dr_be_point **out);
/*
 * The newest points of it at t, newest first, up to and including the
 * newest processed point of each type: what a latest-* policy chooses from
 * (the same choice as from sim_points_list's). Their count; strings in a.
 */
size_t sim_points_newest(const sim *s, const sim_item *it, int64_t t, dr_arena *a, dr_be_point **out);
/* Find a listed point by id or name at t: its time and processed state; false when none. */
bool sim_points_find(const sim_item *it, const char *id, int64_t t, int64_t *time_ms, bool *processed);
/* The newest processed point's time at t, or SIM_NEVER when none. */
int64_t sim_points_latest_processed(const sim_item *it, int64_t t);
/* The point name of it at time_ms (a GUID encoding the time). */
void sim_points_name(const sim_item *it, int64_t time_ms, char *out);
/* True when the item replicates at t (points keep coming). */
bool sim_points_replicating(const sim_item *it);
/* The item's resource id, in a. */
const char *sim_item_id(const sim *s, const sim_item *it, dr_arena *a);
/* Forget the ids sim_item_id made for it: call after its regions change. */
void sim_item_forget_ids(sim_item *it);
/* Job j's ARM id (the vault's replicationJobs/<guid>), in a. */
const char *sim_job_id(const sim *s, const sim_job *j, dr_arena *a);

/* A child's ARM id: parent, the collection ("replicationJobs", "recoveryPoints") and name, joined by '/'. */
const char *sim_child_id(dr_arena *a, const char *parent, const char *collection, const char *name);

/* ---- sim_faults.c ------------------------------------------------------------------------ */

/* Parse a fault list node into s->faults (appending); problems to diags. Returns the error count. */
size_t sim_faults_parse(sim *s, const dr_node *list, dr_diags *diags);
/* A throttling burst covering this call (s->calls already counted), or NULL. */
const sim_fault *sim_faults_throttle(sim *s, dr_be_op op);
/* A request fault firing for this call (counted as a hit), or NULL. */
const sim_fault *sim_faults_request(sim *s, sim_item *it, dr_be_op op);
/* A read-fails fault that fires for this read of it (counts the hit), or NULL; mutex held. */
const sim_fault *sim_faults_read(sim *s, sim_item *it);
/* Apply job faults (hang, fail at job, slow, shutdown-fails, unhealthy) to a planned job. */
void sim_faults_job(sim *s, sim_item *it, sim_job *j);
void sim_faults_free(sim *s);
/* A fault hit counter of an item (created at 0). */
uint32_t *sim_item_hits(sim_item *it, uint64_t fault);

/* ---- sim_inventory.c ---------------------------------------------------------------------- */

/* Add/refresh items from cfg's inventory: file and vms: list. Returns the error count (diags). */
size_t sim_inventory_load(sim *s, const dr_node *cfg, const char *base_dir, dr_diags *diags);

/* ---- sim_state.c -------------------------------------------------------------------------- */

/*
 * Load the state file into a fresh s, then replay its change log over it
 * (sim_log_replay); 1 when the file is absent (its log is then ignored), 0
 * loaded, -1 corrupt or unreadable (*err).
 */
int sim_state_load(sim *s, const char *path, dr_arena *a, dr_be_error *err);
/*
 * Save what changed since the last save: one group appended to the change
 * log and synced, or a snapshot (the whole state written atomically, a new
 * epoch, then an empty log) when one is due. 0, or -1 with *err.
 */
int sim_state_save(sim *s, dr_arena *a, dr_be_error *err);
/* Rewrite the whole state file (a new epoch) and start an empty log. 0, or -1 with *err. */
int sim_state_snapshot(sim *s, dr_arena *a, dr_be_error *err);
/* Take the writer's lock beside path, making its folder only when make_folder (dr_sim_opts). 0, or -1 with *err. */
int sim_state_lock(sim *s, bool make_folder, dr_arena *a, dr_be_error *err);
void sim_state_unlock(sim *s);

/* For sim_log.c: one element as the state file writes it, and reading one back. */
struct cJSON;
struct cJSON *sim_state_item_json(const sim *s, const sim_item *it);
struct cJSON *sim_state_job_json(const sim *s, const sim_job *j);
struct cJSON *sim_state_audit_json(const sim_audit *r);
/*
 * Apply one committed group of the log (its lines parsed, in order: items,
 * jobs, audit records; the commit line's head) to s: an item or a job
 * replaces the one of its name or GUID, or is added. 0, or -1 with *err
 * naming where (path:line).
 */
int sim_state_apply(sim *s, struct cJSON *const *lines, const size_t *lineno, size_t n, const struct cJSON *commit,
		    const char *path, dr_arena *a, dr_be_error *err);

/* ---- sim_log.c ------------------------------------------------------------------------------ */

/* The log's path for a state file: "<path>.changes" (malloc'd). */
char *sim_log_path(const char *state_path);
/*
 * Replay the committed groups of s's epoch from the log over the loaded
 * state. A torn tail (lines after the last commit) is left out; a line
 * that cannot be read before a commit is corruption. Groups of another
 * epoch (a snapshot taken after them) are skipped. fd: the log, opened
 * before the state file was read, or -1 when there is none. A writer (not
 * read_only) opens it for appending, or marks a snapshot due when there is
 * none or its tail is torn or stale.
 * 0, or -1 with *err.
 */
int sim_log_replay(sim *s, int fd, dr_arena *a, dr_be_error *err);
/*
 * Append what changed since the last save as one group, one write, one
 * fdatasync; a snapshot instead when one is due or the log would outgrow
 * the state file. 0, or -1 with *err.
 */
int sim_log_save(sim *s, dr_arena *a, dr_be_error *err);
/* After a snapshot: replace the log by an empty one (atomically) and reopen it. 0, or -1 (errno). */
int sim_log_restart(sim *s);
/* Forget what was touched: everything is saved. */
void sim_log_saved(sim *s);
/* The crash hook of the tests ($DROVER_TEST_SIM_KILL, docs/backends.md): die here when it says so. */
void sim_log_hook(sim *s, const char *where);

#endif
