/*
 * runinfo.h - the run model: one description of a run, read by every view
 * (the screen, the end-of-run summary, the RTO/RPO report, `drover status`,
 * `drover runs`, reports and metrics).
 *
 * The model is a fold of the run's records (docs/journal.md, which are its
 * events, docs/events.md) applied in order by dr_runinfo_apply. The same
 * function is fed two ways:
 *
 *   from the journal   dr_runinfo_load: the header, then every record of
 *                      every session (drover status, reports after the fact);
 *   live               dr_runinfo_listen: the executor's event stream, as it
 *                      is emitted (the screen, the summary, --report). A
 *                      resumed run's model is first seeded with its journal
 *                      (dr_runinfo_seed); the events of the replay, which
 *                      retell that journal ("replayed": true), are not
 *                      applied again.
 *
 * So a run reports the same whether it is read live or from its journal:
 * the journal keeps each thing that happened once, the live model applies
 * the same records (the journal is built from the events), and a resumed
 * run's live model is the journal's fold plus what the session adds. The
 * latest record about a task decides its state. Views never read the executor's
 * structures (run/exec_int.h is private to the executor); when a view
 * needs a fact, the event and the journal record that carry it gain a field.
 *
 * Lookups are indexed (a task by step and target, a VM by name): applying a
 * record takes constant time, so a run of 10,000 VMs folds in linear time.
 *
 * Memory: the model owns everything it hands out (strings, the arrays)
 * until dr_runinfo_dispose; it copies what it keeps from a record, and of
 * an action's outputs only what views read (the job, its times, the
 * recovery point), so a run of 10,000 VMs folds in the memory of its facts.
 * Pointers into steps[], tasks[] and vms[] stay valid only until the next
 * dr_runinfo_apply (the arrays grow); keep indexes across applies.
 *
 * Threads: a model fed live is written under its mutex by whichever thread
 * emits an event; a view that reads it while the run goes on holds
 * dr_runinfo_lock around its reads. A model that is not fed (loaded, or
 * after the run ended) needs no lock.
 */
#ifndef DR_RUNINFO_H
#define DR_RUNINFO_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "journal/journal.h"
#include "util/buf.h"
#include "util/index.h"

struct cJSON;
struct dr_events;
struct dr_arena;

/* The state of a task or a step. */
typedef enum dr_ri_state {
	DR_RI_PENDING, /* not started yet (a step: never started) */
	DR_RI_RUNNING, /* an attempt is in flight: started, no result recorded */
	DR_RI_RETRYING, /* an attempt failed; the next one waits for its delay */
	DR_RI_SUCCEEDED,
	DR_RI_FAILED,
	DR_RI_SKIPPED,
	DR_RI_CANCELLED,
	DR_RI_ROLLED_BACK, /* succeeded, then undone by the rollback */
	DR_RI__STATES
} dr_ri_state;

/* "pending", "running", "retrying", "succeeded", "failed", "skipped", "cancelled", "rolled_back". */
const char *dr_ri_state_name(dr_ri_state s);

/* True for SUCCEEDED, FAILED, SKIPPED, CANCELLED and ROLLED_BACK. */
bool dr_ri_state_final(dr_ri_state s);

/* One attempt of a task (task.start .. task.end). Times are on the run's clock (t_ms); -1: unknown. */
typedef struct dr_ri_attempt {
	int n; /* 1, 2, ...; 0: the task failed before an attempt could start (its with: or when:) */
	dr_ri_state state; /* RUNNING (no result recorded), SUCCEEDED, FAILED or CANCELLED */
	int64_t started_ms, ended_ms;
	const char *cls; /* a failure's class: permanent, transient, throttled, timeout, cancelled */
	const char *message; /* a failure as the action stated it (secrets are *** already) */
	const char *recommended_action; /* the service's recommended action, when the failure carries one */
	bool will_retry; /* another attempt follows */
	const char *not_retried; /* attempts were left but none followed: why, and what to write instead (task.end) */
	bool called; /* the action was called; false when a held mutating call was dropped (task.end "called": false) */
	const char *probe; /* resume: what the service said of this attempt in flight (task.probe) */
	int64_t retry_delay_ms; /* the wait before the next attempt (task.retry); -1 */
	const char *retry_reason; /* the retry: entry that covered the failure */
	/*
	 * A person's wait during the attempt (task.person: its job waits for a
	 * manual action in the service): since its start, until its end (-1:
	 * still waiting when the records stop, e.g. drover was killed); -1, -1
	 * when it never waited. A later wait of the same attempt replaces it.
	 */
	int64_t person_since_ms, person_until_ms;
	const char *person_asked; /* what the service asks of the person (task.person's message); NULL: not said */
} dr_ri_attempt;

/* An approval gate's story (approval.*). */
typedef struct dr_ri_approval {
	bool requested, open; /* asked; still waiting for an answer */
	const char *message; /* what was asked */
	const char *command; /* how to answer it from another shell (approval.request's); NULL in older journals */
	const char *approvers; /* who may answer, "alice, bob" (approval.request's approvers); NULL: not restricted */
	const char *decision; /* "granted", "denied"; NULL while unanswered */
	const char *by, *via, *at, *comment; /* who answered, how, when (RFC 3339 on the run's clock) */
	bool timed_out; /* nobody answered in time; decision is the gate's on_timeout */
	int64_t requested_ms, answered_ms, waited_ms;
} dr_ri_approval;

/* A recovery point a task's outputs name (outputs.recovery_point, outputs.rpo_ms). */
typedef struct dr_ri_point {
	bool set; /* the outputs name one */
	const char *name, *time, *policy; /* its name, RFC 3339 time, the policy that chose it (NULL: unknown) */
	int64_t rpo_ms; /* the job's start minus the point's time; -1 when the service does not say */
} dr_ri_point;

typedef struct dr_ri_task {
	size_t step; /* index in steps[] */
	const char *target; /* the VM; NULL when the step is not fanned out */
	size_t vm; /* index in vms[]; DR_INDEX_NONE without a target */
	dr_ri_state state;
	const char *action; /* its action (for a rollback task, the undo action) */
	unsigned flags; /* DR_AF_* of the action (actions/action.h); 0 when unknown */
	bool mutating; /* the action changes the service */
	dr_ri_attempt *attempts; /* oldest first */
	size_t n_attempts;
	const char *reason; /* why it was skipped, cancelled or given up (task.skip/cancel/giveup) */
	const char *job; /* outputs.job_id, when the action started a job */
	int64_t job_started_ms, job_ended_ms; /* the job's times as the service gives them (outputs.started_at, ended_at), on the run's clock; -1 */
	dr_ri_point point; /* the recovery point its succeeded attempt's outputs name */
	dr_ri_point fallback; /* the point of a recovery point fallback applied to it (fallback.end), else not set */
	int64_t started_ms, ended_ms; /* its first attempt's start; its end (-1 while not final) */
	dr_ri_approval approval;
	uint64_t seq; /* when it last set a recovery point (completion order): the newest counts */
} dr_ri_task;

typedef struct dr_ri_step {
	const char *id;
	const char *phase; /* NULL (the main steps), "rollback" or "finally" */
	const char *undoes; /* a rollback unit: the main step it undoes */
	const char *action;
	unsigned flags; /* DR_AF_* of the action; 0 when unknown */
	dr_ri_state state; /* PENDING (never started), RUNNING, or how it ended; ROLLED_BACK when undone */
	int n_tasks; /* its tasks (step.start); -1 until it started */
	size_t count[DR_RI__STATES]; /* its tasks by state (tasks with no record yet are not counted) */
	const char *reason; /* why it failed (step.end) */
	bool tolerated; /* failed, and on_failure: continue tolerated it */
	int64_t started_ms, ended_ms; /* -1: not yet */
	size_t *tasks; /* indexes in tasks[], in the order they were first recorded */
	size_t n_task_refs;
	bool has_undo; /* a main step the rollback built units to undo */
} dr_ri_step;

typedef struct dr_ri_vm {
	const char *name;
	size_t *tasks; /* indexes in tasks[], in record order */
	size_t n_tasks;
} dr_ri_vm;

/* What the rollback did (rollback.*). */
typedef struct dr_ri_rollback {
	bool started;
	const char *why; /* the failure that asked for it */
	size_t tasks; /* completed tasks it set out to undo */
	const char *barrier; /* the irreversible step it stopped at */
	const char *status; /* "complete", "incomplete"; NULL while it runs */
	const char *stopped; /* why it stopped, when it did not complete */
} dr_ri_rollback;

/* A drill's last check (drill.verify). */
typedef struct dr_ri_drill {
	bool verified; /* the check ran */
	const char *status; /* "clean", "leftovers", "error" */
	const struct cJSON *leftovers; /* [{vm, state, test_vm_id}] */
	const char *message; /* "error": why the backend could not say */
	size_t vms; /* VMs the run targeted */
} dr_ri_drill;

typedef struct dr_runinfo {
	/* the run (journal header or run.start) */
	const char *run, *runbook, *path, *abs, *digest, *mode, *direction, *clock, *host, *user;
	int64_t started_wall; /* Unix ms of clock time 0 */
	int64_t rto_objective_ms, rpo_objective_ms; /* objectives:; -1 when none */
	const char *enforce; /* objectives.enforce: drill, always, never; NULL: not recorded (never enforced) */
	bool objectives_failed; /* run.objectives: an enforced objective was missed, so the run failed */
	/*
	 * succeeded, failed, rolled_back, cancelled, invalid, internal_error
	 * (it ended: run.end); suspended (a resume stopped, unable to settle
	 * what was in flight); from a journal also running (a live drover
	 * holds its lock) and interrupted (drover stopped without ending it:
	 * crash, kill, power loss). "running" while a live model is fed.
	 */
	const char *status;
	bool ended; /* run.end (or run.suspend) is the last word */
	int exit_code; /* an ended run's exit status */
	const char *reason; /* why it stopped (run.stopping, run.cancel, run.timeout, run.end) */
	const char *error; /* run.end: what went wrong (invalid, internal_error) */
	const char *state_error; /* run.end: why the run's state (journal, backend state) could not be saved */
	bool cancelled, timed_out; /* a run.cancel / run.timeout happened */
	int64_t cancel_ms; /* the session's first run.cancel, on the run's clock; -1: none (what ran then: dr_runinfo_cancel_point) */
	const char **not_undone; /* mutating steps the rollback could not undo */
	size_t n_not_undone;
	dr_ri_rollback rollback;
	dr_ri_drill drill;
	int64_t elapsed_ms; /* clock time of its last record */
	int64_t downtime_ms; /* between sessions (real clock) */
	size_t sessions;
	bool journal; /* the run keeps a journal (it can be resumed) */
	bool runbook_changed; /* dr_runinfo_load: the runbook file's digest differs now (or it is gone) */
	/* what it did */
	dr_ri_step *steps; /* declared steps first (runbook order), then rollback units as they appear */
	size_t n_steps;
	dr_ri_task *tasks;
	size_t n_tasks;
	dr_ri_vm *vms; /* every VM a task targeted, in order of first appearance */
	size_t n_vms;
	size_t in_flight; /* tasks RUNNING */
	size_t open_approvals;
	/* dr_runinfo_load: the journal read (its records; strings of the model do not point into it) */
	dr_journal_file f;
	const char *state_dir;
	/* private */
	struct dr_arena *a;
	dr_index step_ix, task_ix, vm_ix;
	size_t cap_steps, cap_tasks, cap_vms, last_step;
	uint64_t seq;
	bool live;
	pthread_mutex_t mu;
} dr_runinfo;

/* An empty model (status "running"). Dispose with dr_runinfo_dispose. */
void dr_runinfo_init(dr_runinfo *ri);
void dr_runinfo_dispose(dr_runinfo *ri);

/*
 * A step of the runbook, declared before any record names it, so steps
 * that never start show (pending), in the runbook's order. phase: NULL or
 * "finally"; action: its action's name (NULL: unknown). The journal's
 * header declares them on load; the executor when it starts.
 */
void dr_runinfo_declare_step(dr_runinfo *ri, const char *id, const char *phase, const char *action);

/* The run's facts from a journal header (journal.header; docs/journal.md): identity, objectives, steps. */
void dr_runinfo_apply_header(dr_runinfo *ri, const struct cJSON *header);

/* Fold a read journal: its header, then every record (a resumed run's model before its session goes on). */
void dr_runinfo_seed(dr_runinfo *ri, const dr_journal_file *f);

/* Fold one record, then free it: the callback of dr_journal_read_each (ctx: the model), as dr_runinfo_load uses it. */
void dr_runinfo_take(void *ctx, struct cJSON *rec);

/*
 * Fold one record (a journal record or an event: the same JSON, with
 * "event" and "t_ms") into the model. Records of unknown types are
 * ignored; fields are read defensively (a missing one is "unknown").
 * The record is borrowed.
 */
void dr_runinfo_apply(dr_runinfo *ri, const struct cJSON *rec);

/*
 * Feed the model live from events (a listener; at most the stream's
 * listener limit). Every event is applied under the model's mutex, except
 * the replay's ("replayed": true: seed the model with the journal instead).
 * The model must outlive the stream's last emission.
 */
void dr_runinfo_listen(dr_runinfo *ri, struct dr_events *events);

/* Hold the model still while a view reads it during a live run (not needed otherwise). */
void dr_runinfo_lock(dr_runinfo *ri);
void dr_runinfo_unlock(dr_runinfo *ri);

/*
 * Load run_id's journal under state_dir: the header and every record,
 * folded as they are read (dr_journal_read_each: ri->f keeps the header and
 * what the reader says of the file, not the records). A run without run.end
 * is running when a live drover holds its lock, else interrupted. Returns
 * 0, or -1 with err (no such run, unreadable or corrupted journal: the
 * message names the line) and the model disposed (disposing it again is
 * harmless).
 */
int dr_runinfo_load(const char *state_dir, const char *run_id, dr_runinfo *out, dr_buf *err);

/* The step (id, phase, the step it undoes) or the task (a step's, for target: NULL when not fanned out); NULL when none. */
const dr_ri_step *dr_runinfo_find_step(const dr_runinfo *ri, const char *id, const char *phase, const char *undoes);
const dr_ri_task *dr_runinfo_find_task(const dr_runinfo *ri, const dr_ri_step *step, const char *target);

/* The step of a task, and "step" / "step[vm]" / "undo step[vm]" into out (how messages name it). */
const dr_ri_step *dr_runinfo_task_step(const dr_runinfo *ri, const dr_ri_task *t);
const char *dr_runinfo_task_label(const dr_runinfo *ri, const dr_ri_task *t, char *out, size_t outsz);

/* How views name a step: "id", "finally id", "undo id" (a rollback unit), into out. */
const char *dr_runinfo_step_label(const dr_ri_step *s, char *out, size_t outsz);

/* The task's last attempt, or NULL when none was recorded. */
const dr_ri_attempt *dr_runinfo_last_attempt(const dr_ri_task *t);

/*
 * A person's wait the task is in: an open approval (its request; a gate
 * whose attempt runs, from its start, when its request was not recorded),
 * or its running attempt's job waiting for a manual action (task.person). Returns
 * when it began (the run's clock), or -1 when the task waits for no one.
 * *asked (may be NULL): what the person was asked (the gate's message, or
 * the service's words), NULL when not recorded.
 */
int64_t dr_runinfo_person_wait(const dr_ri_task *t, const char **asked);

/*
 * True when the task's last attempt may have changed the service half-way:
 * a mutating action that was called (or whose intent is durable, from a
 * journal) and whose attempt did not finish: in flight, or cancelled or
 * abandoned while it ran. Never a probe, never a task that did not start.
 */
bool dr_runinfo_task_interrupted(const dr_ri_task *t);

/* Where a cancellation found the run: the steps that were running when run.cancel came. */
typedef struct dr_ri_cancel_point {
	bool changed; /* a mutating call had gone out by then (this session or an earlier one) */
	size_t *changing, *reading, *cleaning; /* step indexes: main steps that change the service, main steps that
						  do not (validations, gates), finally: steps; in steps[] order */
	size_t n_changing, n_reading, n_cleaning;
	size_t *waiting; /* task indexes whose attempt's job waited for a person (task.person) when the cancellation came */
	size_t n_waiting;
} dr_ri_cancel_point;

/*
 * What ran when the run was cancelled (ri->cancel_ms >= 0), from the
 * steps' and the attempts' times: the same live and from the journal.
 * A step listed may have completed after the cancellation (it was let
 * finish: dr_runinfo_completed_after_cancel).
 * Linear in the steps and the attempts. The arrays are heap;
 * dr_ri_cancel_point_dispose frees them.
 */
void dr_runinfo_cancel_point(const dr_runinfo *ri, dr_ri_cancel_point *out);
void dr_ri_cancel_point_dispose(dr_ri_cancel_point *p);

/* A step that ran when the run was cancelled and completed (succeeded) after it: the cancellation let it finish. */
bool dr_runinfo_completed_after_cancel(const dr_runinfo *ri, const dr_ri_step *s);

/* --- objectives: what the run achieved (docs/execution.md, "Objectives") --- */

/* Met (1), missed (0), or no verdict (-1: no objective, or nothing to measure). */
typedef struct dr_ri_rpo {
	const char *vm;
	int64_t rpo_ms; /* the job's start minus the recovery point's time */
	const char *point, *point_time, *policy; /* the point (name, RFC 3339 time) and the policy that chose it */
	const char *step; /* the step that set it */
	int met;
} dr_ri_rpo;

typedef struct dr_ri_objectives {
	bool applies; /* the run fails VMs over, sets recovery points or declares objectives */
	bool recovers; /* it has a failover or test failover step: an RTO applies */
	/*
	 * RTO: run start to the last validation that passed (to the last
	 * failover's end, by the service's job times, when the runbook
	 * validates nothing); -1 when recovery was not reached (a failover
	 * did not complete, or a validation failed).
	 */
	int64_t rto_ms;
	const char *rto_measured_to; /* "validation" or "failover" */
	char rto_task[512]; /* the task that decided it ("step[vm]"); "" when not reached */
	/* why it was not reached: "validation app-up[shop-app-2] failed", "no failover completed"; "" otherwise */
	char rto_unreached[600];
	/*
	 * Why an RTO not reached is not judged (rto_met -1, never counted as
	 * missed): "the run was cancelled" (a person stopped it short of its
	 * objectives, as objectives.enforce does not fail it). NULL otherwise.
	 */
	const char *rto_unjudged;
	int64_t rto_objective_ms;
	int rto_met;
	dr_ri_rpo *vms; /* one per VM with a recovery point, in the order of vms[] */
	size_t n_vms;
	int64_t rpo_ms; /* the worst VM's; -1 when no VM has a point */
	/*
	 * Why no RPO was measured, when rpo_ms is -1 and the run sets points:
	 * "no failover completed", or "the service did not give the recovery
	 * point's time". NULL when measured. Not measured is not missed:
	 * rpo_met is -1 and objectives.enforce does not count it.
	 */
	const char *rpo_unmeasured;
	int64_t rpo_objective_ms;
	int rpo_met;
	bool enforced; /* objectives.enforce holds this run to them (always; drill in a drill) */
} dr_ri_objectives;

/*
 * Compute the objectives from the tasks (the same figures live and from
 * the journal). out->vms is heap; release it with dr_ri_objectives_dispose.
 * Strings point into the model.
 */
void dr_runinfo_objectives(const dr_runinfo *ri, dr_ri_objectives *out);
void dr_ri_objectives_dispose(dr_ri_objectives *o);

/*
 * An ended run's verdict: an objective it declares was missed (RTO or the
 * worst RPO over its objective, or recovery never reached while an RTO is
 * declared). Only meaningful once every step is done.
 */
bool dr_ri_objectives_missed(const dr_ri_objectives *o);

/* --- listing ------------------------------------------------------------- */

/* What `drover runs` shows of a run (heap strings; dr_runinfo_brief_dispose frees them). */
typedef struct dr_runinfo_brief {
	char *runbook, *mode, *status; /* status as in dr_runinfo */
	int64_t started_wall, elapsed_ms;
	size_t steps_done, steps_total; /* main and finally steps succeeded or skipped, of all */
	size_t in_flight; /* a run that has not ended: tasks in flight */
	bool whole; /* the journal had to be read whole (the run has not ended) */
} dr_runinfo_brief;

/*
 * A run in brief, cheaply: a run that ended is read from its journal's
 * header and last line only (run.end, run.suspend: status, time, step
 * counts); one that has not (running, interrupted: at most one per runbook
 * and backend, by the run lock) is folded whole (dr_runinfo_load). Returns
 * 0, or -1 with err as dr_runinfo_load.
 */
int dr_runinfo_brief_load(const char *state_dir, const char *run_id, dr_runinfo_brief *out, dr_buf *err);
void dr_runinfo_brief_dispose(dr_runinfo_brief *b);

/* The runs under state_dir (ids, newest first: by start time, then id), heap; the caller frees each and the array. */
char **dr_runinfo_list(const char *state_dir, size_t *n);

#endif
