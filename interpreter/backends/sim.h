/*
 * backends/sim.h - the embedded simulator: Azure Site Recovery in-process.
 *
 * The simulator implements backend.h with ASR's protection state machine,
 * recovery points that appear over time, jobs with tasks whose progress is
 * computed from the caller's clock, deterministic fault injection, and a
 * state file so that failover, commit, reprotect and failback can be
 * separate invocations. docs/backends.md is the user's description (states,
 * operations, timings, faults, the state file format).
 *
 * This header holds what only the sim has: opening it with its own options,
 * where its state file lives, and its audit log. Everything else goes
 * through the generic interface.
 */
#ifndef DR_SIM_H
#define DR_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/backend.h"
#include "front/load.h"

typedef struct dr_sim_opts {
	const char *state_path; /* NULL: dr_sim_state_path(NULL, NULL) */
	const char *base_dir; /* relative `inventory:` paths start here (the runbook's directory); NULL: "." */
	bool in_memory; /* no state file at all (tests, estimates) */
	bool read_only; /* load the state file but never write it or lock it */
	bool fresh; /* ignore an existing state file: start from the inventory (reset) */
	bool autosave; /* save after every accepted operation (default: on flush and close) */
	/* state_path is the state directory's own (dr_sim_state_in_dir): its folder is made when missing. Any other
	   path's folder must exist (a StateFileError names it): drover makes folders only in its state directory */
	bool make_folder;
	/* The vault the ids name (NULL: the defaults below); the emulator serves the runbook's own. */
	const char *subscription, *resource_group, *vault;
	double job_speed; /* task durations and boot times divided by this (the emulator's --speed); 0: 1 */
} dr_sim_opts;

#define DR_SIM_SUBSCRIPTION "00000000-0000-0000-0000-000000000000"
#define DR_SIM_RESOURCE_GROUP "drover-sim"
#define DR_SIM_VAULT "drover-sim-vault"

/*
 * Open a simulator. cfg is the runbook's `backend:` map (kind: sim, vms,
 * inventory, seed, speed, faults) or NULL for an empty one; faults from the
 * DROVER_SIM_FAULTS environment variable (YAML or JSON, a list like
 * backend.faults) are added to cfg's. The state file is loaded when it
 * exists (and locked unless read_only); VMs of the inventory it does not
 * know yet are added as Protected, and the inventory's attributes (tags,
 * regions, IPs, size) refresh those it knows. Mistakes in cfg, the
 * inventory file or the fault spec go to diags; an unreadable, corrupt or
 * locked state file fills *err (strings in a). Returns NULL on either.
 */
dr_backend *dr_sim_open(const dr_node *cfg, const dr_sim_opts *o, dr_arena *a, dr_diags *diags, dr_be_error *err);

/*
 * Check cfg's simulator options the way dr_sim_open would (inventory file
 * and list, fault spec including $DROVER_SIM_FAULTS) without touching any
 * state file: for `drover validate`. Returns the number of errors added to
 * diags.
 */
size_t dr_sim_check(const dr_node *cfg, const char *base_dir, dr_diags *diags);

/* True when be is a simulator. */
bool dr_sim_is(const dr_backend *be);

/*
 * The state file to use: explicit when given, else $DROVER_SIM_STATE, else
 * <state_dir>/sim-state.json with state_dir as given, else $DROVER_STATE_DIR,
 * else ".drover" (the same directory that holds the runs' journals).
 * Written into out (PATH_MAX bytes is enough); returns out.
 */
const char *dr_sim_state_path(const char *explicit_path, const char *state_dir, char *out, size_t outsz);

/* Whether dr_sim_state_path(explicit_path, dir) is the state directory's own file (neither given nor $DROVER_SIM_STATE). */
bool dr_sim_state_in_dir(const char *explicit_path);

/* A state path that means "no state file": dr_backend_open keeps the state in memory (golden tests). */
#define DR_SIM_STATE_MEMORY ":memory:"

/* The state file an open simulator uses ("" when in memory). */
const char *dr_sim_path(const dr_backend *be);

/* Remove the state file at path (absent is fine). Returns 0, or -1 with *err (message in a). */
int dr_sim_remove_state(const char *path, dr_arena *a, dr_be_error *err);

/*
 * The state's lock file ("<path>.lock") names its holder while it holds
 * it: {"pid", "host", "since"}, plus {"run", "state_dir"} once a run names
 * itself with dr_sim_lock_note_run; it is emptied when the holder lets go.
 * dr_sim_lock_holder returns that record (util/holder.h; the caller frees
 * it with cJSON_Delete), or NULL when the lock names no one (no pid);
 * *held says whether a live process holds the lock
 * now. A record while *held is false was left by a holder that stopped
 * without letting go (killed): `drover sim` refuses to change the state of
 * a run that did not finish (cli/sim.c). Reads only: it never takes the
 * lock. A busy state's StateFileLocked error names the holder the same way.
 */
struct cJSON *dr_sim_lock_holder(const char *path, bool *held);

/*
 * The record be's state lock held when be took it (util/holder.h): left by a holder that stopped without letting go
 * (killed), as dr_sim_lock_holder would have read it; NULL when the lock was empty, for another backend, a state in
 * memory or read only. Borrowed: valid until be is closed.
 */
const struct cJSON *dr_sim_lock_left(const dr_backend *be);

/*
 * When be lets go of its state lock, write back the record dr_sim_lock_left returned instead of emptying the file:
 * a run that did not finish left it, and it must outlive this holder (the next `drover sim reset` still refuses,
 * the next run still names it). No-op when there is none, or for another backend.
 */
void dr_sim_lock_keep_left(dr_backend *be);

/* Name run_id (its journal in state_dir) as the holder of be's state lock: 0, or -1 (errno). No-op for another backend, or a state in memory. */
int dr_sim_lock_note_run(dr_backend *be, const char *run_id, const char *state_dir);

/*
 * The simulator's time for a caller's now_ms. Sim time never goes back: a
 * virtual clock restarts at the same instant every run, so each session
 * continues from the time the state file last saw (now_ms + an offset
 * fixed by the session's first call).
 */
int64_t dr_sim_time(dr_backend *be, int64_t now_ms);

/*
 * Move the simulator's time forward by by_ms from its time for now_ms
 * (dr_sim_time): jobs progress, replication goes on and recovery points
 * accrue as if that much time had passed. The state is saved on close.
 * Returns the new sim time. `drover sim advance`.
 */
int64_t dr_sim_advance(dr_backend *be, int64_t now_ms, int64_t by_ms);

/* The last time the state saw (before this session's first call), -1 for a state that has none. */
int64_t dr_sim_state_time(dr_backend *be);

/*
 * dr_backend_start with the caller's activity id kept on the job (NULL:
 * none): the emulator passes the client's x-ms-client-request-id, which the
 * service returns at the start of the job's activityId.
 */
int dr_sim_start(dr_backend *be, dr_arena *a, int64_t now_ms, const dr_be_request *req, const char *activity,
		 dr_be_started *out, dr_be_error *err);

/*
 * A person resumes a job that waits for a manual action (state Suspended,
 * the fault `suspend`): the manual action ends now and the job goes on.
 * ASR's replicationJobs/{job}/resume. 0, or -1 with *err (404 unknown job,
 * 400 JobNotSuspended).
 */
int dr_sim_resume_job(dr_backend *be, dr_arena *a, int64_t now_ms, const char *job_id, dr_be_error *err);

/* The activity id job_id was started with, in a; "" when none, NULL when the job is unknown. */
const char *dr_sim_job_activity(dr_backend *be, dr_arena *a, const char *job_id);

/*
 * One page of list_items: the items at positions [from, from + max) in the
 * order list_items gives, and *total, the number of items. O(max), so a
 * client that pages through an estate costs O(estate), not O(estate^2).
 */
int dr_sim_list_items_page(dr_backend *be, dr_arena *a, int64_t now_ms, size_t from, size_t max, dr_be_item **out,
			   size_t *n, size_t *total);

/* Write the state file now, changed or not (the emulator's snapshots). 0, or -1 with *err. */
int dr_sim_save(dr_backend *be, dr_arena *a, dr_be_error *err);

/* The vault's resource id ("/Subscriptions/.../vaults/NAME") the ids of be start with. */
const char *dr_sim_vault_id(const dr_backend *be);

/* The seed in use. */
uint64_t dr_sim_seed(const dr_backend *be);

/* One mutating call, as the audit log keeps it. */
typedef struct dr_sim_audit_rec {
	int64_t time_ms;
	const char *op; /* dr_backend_op_name */
	const char *item; /* the VM's name, or the id as given when unknown */
	const char *key; /* idempotency key ("" when none) */
	const char *result; /* "accepted", "replayed", "refused", "throttled" */
	const char *job; /* the job's name (accepted, replayed), or NULL */
	const char *code; /* the error code (refused, throttled), or NULL */
} dr_sim_audit_rec;

/* The audit log, oldest first, copied into a. */
size_t dr_sim_audit(dr_backend *be, dr_arena *a, dr_sim_audit_rec **out);

#endif
