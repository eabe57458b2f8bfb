/*
 * exec_int.h - private to the executor's files (exec.c, sched.c, timers.c,
 * workers.c, lookup.c, rollback.c, order.c, fallback.c, exec_backend.c, and
 * the journal's side of the run: journal_run.c, resume.c): the run-time
 * state of a run. Views never include it: they read the run model
 * (journal/runinfo.h) that the run's events feed.
 *
 * A run holds step runs (srun) grouped in phases: the main steps, the
 * rollback units (built when a rollback starts) and the finally steps. Each
 * srun holds its tasks. Only the scheduler thread touches these, except a
 * task handed to a worker: between dispatch and its completion being
 * drained from the mailbox, the worker owns the task's call and result.
 *
 * Memory: sruns, tasks and their labels live in the run's arena; a task's
 * with, outputs and message are heap values freed at the end of the run.
 */
#ifndef DR_EXEC_INT_H
#define DR_EXEC_INT_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "journal/runinfo.h"
#include "run/bind.h"
#include "run/clock.h"
#include "run/events.h"
#include "run/exec.h"
#include "run/preflight.h"
#include "front/plan.h"
#include "run/retry.h"
#include "util/arena.h"

struct cJSON;

#define NO_VM ((size_t)-1)
#define TICK_MS 250 /* live view refresh on the real clock */

typedef enum tstate {
	TS_PENDING, /* waiting for what it needs */
	TS_READY, /* in its step's ready queue */
	TS_RUNNING, /* an attempt is in the action's run() (inline or on a worker) */
	TS_WAITING, /* the action asked to be called again later (WAIT) */
	TS_RETRYING, /* a failed attempt waits for its retry delay */
	TS_SUCCEEDED,
	TS_FAILED,
	TS_SKIPPED,
	TS_CANCELLED,
	TS_ROLLED_BACK, /* succeeded, then undone by a rollback */
	TS__COUNT
} tstate;

typedef enum sstate {
	SS_PENDING, SS_RUNNING, SS_SUCCEEDED, SS_FAILED, SS_SKIPPED, SS_CANCELLED, SS_ROLLED_BACK, SS__COUNT
} sstate;

typedef enum phase { PH_MAIN, PH_ROLLBACK, PH_FINALLY, PH_DONE } phase;

typedef struct task task;
typedef struct srun srun;

struct task {
	srun *s;
	size_t vm; /* inventory index, NO_VM when the step is not fanned out */
	tstate state;
	unsigned blockers; /* needed steps (or same-VM tasks) not done yet */
	int attempt; /* attempts started */
	int retry_base; /* resume --retry-failed: attempts made before the retry; its retry: budget counts from here */
	uint32_t gen; /* bumped on every transition: older timers are stale */
	int64_t started_at, attempt_at, deadline, ended_at;
	struct cJSON *with; /* evaluated at the first attempt (or given, for undo tasks) */
	struct cJSON *outputs; /* SUCCEEDED: the action's object */
	char *message; /* the last failure, heap */
	dr_err_class cls;
	const char *why; /* skip/cancel reason (static or arena) */
	const char *not_retried; /* the last failure had attempts left but was not retried: why (arena); NULL */
	bool upstream_failed; /* pipelined: this VM's task of a needed step failed */
	bool attempt_timed_out; /* the attempt's deadline passed while it was on a worker */
	bool waited; /* the current attempt returned WAIT at least once */
	bool called; /* the current attempt's action was called (a held mutating call may be dropped: task.end "called": false) */
	int cancel; /* call.cancel_requested points here; written with __atomic */
	dr_call call;
	dr_outcome result; /* set by the worker */
	task *next; /* ready queue, job queue or mailbox link */
	task *rq_prev; /* ready queue (not ordered): the one before it, so a task started out of the queue leaves it */
	bool in_rq; /* linked in its step's ready queue (rq_head) */
	uint64_t done_seq; /* completion order, for rollback */
	task *undoes; /* rollback tasks: the task they undo */
	const char *label; /* "step" or "step[vm]": read it with exec_task_label (made when first asked) */
	struct fallback *fb; /* fallback.c: this validation's recovery point fallback; NULL until one starts */
	/* order.c: longest-first queues and the duration history */
	int64_t expect_ms; /* the history's estimate for its action on its VM; -1 unknown (set when its step starts) */
	int64_t prio; /* its rank in a longest-first queue, higher first (order.c); INT64_MAX: unknown to the history */
	uint64_t ready_seq; /* when it last became ready: equal ranks start in that order */
	bool live_attempt; /* its current attempt was started live, not retold by a resume's replay */
	/* a person's wait (dr_outcome_wait_person): not counted by attempt_timeout */
	bool person; /* its action waits for a person now, since person_since */
	/* when:/with: failed on a read the service may answer later: read again after the step's retry: delay (sched.c) */
	bool reread; /* a TM_REREAD timer is due for it */
	bool decide_again; /* resume --retry-failed: it failed before its first attempt; decided anew at the retry point */
	uint16_t reads_failed; /* such failed evaluations: with the first read, at most the step's retry.attempts */
	int64_t person_since, person_ms; /* person_ms: this attempt's waits for a person that ended */
};

struct srun {
	const dr_step *st;
	const dr_action *act;
	phase ph;
	const char *id; /* the step id as events show it */
	task *tasks;
	size_t n_tasks;
	srun **succ; /* steps that need this one */
	bool *succ_pipe; /* ... per VM (pipeline: true) rather than as a barrier */
	size_t n_succ, cap_succ;
	size_t deps_left; /* needed steps not ended yet */
	sstate state;
	/* policy, resolved from the step and the defaults */
	const dr_retry *retry;
	int64_t timeout, attempt_timeout, limit, allowed_failures;
	dr_on_failure on_failure;
	/* progress */
	size_t n_active, n_done, n_ok, n_failed, n_skipped, n_cancelled, n_undone;
	int64_t started_at, ended_at;
	int64_t timeout_from; /* its timeout counts from here: its start, or a retry's (resume --retry-failed), moved on by
			       * the time its tasks waited for a person */
	size_t n_person; /* its tasks waiting for a person now (since person_since): its timeout stands still */
	int64_t person_since, person_total; /* person_total: how long its timeout stood still, for messages */
	uint32_t tgen; /* bumped when its timeout is armed again: older step timers are stale */
	bool started, failed, timed_out, tolerated;
	const char *fail_reason;
	bool fail_counted; /* fail_reason counts its failed tasks: restated with the final count when it ends */
	task *rq_head, *rq_tail; /* ready queue */
	struct cJSON *with_value; /* a with: of literals, evaluated once for all its tasks (lookup.c); NULL: none yet */
	bool with_checked, with_literal; /* whether with: is literals, once worked out */
	bool in_active; /* has ready tasks: a step sched_pump visits (see dr_exec.ready) */
	bool in_ready; /* in dr_exec.ready or .ready_later: may launch (its own concurrency is not used up) */
	uint64_t active_seq; /* when it became active: sched_pump visits steps in this order */
	uint32_t active_phase; /* dr_exec.active_phase then: a step of an earlier phase is never visited again */
	srun *undoes; /* rollback units: the main step they undo */
	bool group_last; /* rollback units: the last unit undoing its step */
	bool has_undo; /* main steps: the rollback built units to undo it */
	uint64_t last_done; /* highest done_seq of its tasks */
	const char *skip_why; /* modes.c: a drill skips this step's tasks, for this reason; NULL: runs */
	dr_order order; /* resolved (run --order, the step's, defaults.order): DECLARED or LONGEST_FIRST */
	bool ordered; /* order.c: its ready tasks queue longest expected first (in heap, not rq_head) */
	bool outputs_read; /* a template may read its steps.ID.outputs: its tasks keep them (lookup_mark_reads) */
	size_t n_known; /* order.c: its tasks the history knows */
	task **heap;
	size_t heap_n, heap_cap;
};

typedef enum timer_kind {
	TM_RESUME, /* call a WAITING task again */
	TM_RETRY, /* a RETRYING task's delay is over */
	TM_REREAD, /* evaluate a task's when: (PENDING) or with: (READY) again after a failed read */
	TM_ATTEMPT, /* a task on a worker reached its attempt deadline */
	TM_STEP, /* a step's timeout */
	TM_RUN, /* the run's timeout */
	TM_GRACE, /* the cancellation grace period is over */
	TM_SIGNAL_HOOK, /* test hook: send SIGINT now */
	TM_TICK, /* refresh the live view (real clock only) */
} timer_kind;

typedef struct timer {
	int64_t at;
	uint64_t seq; /* ties: first scheduled, first fired */
	timer_kind kind;
	uint32_t gen;
	void *p; /* task or srun */
} timer;

typedef struct timer_heap {
	timer *v;
	size_t n, cap;
	uint64_t seq;
} timer_heap;

struct dr_exec {
	dr_runbook *rb;
	const dr_plan *plan;
	dr_exec_opts o;
	dr_arena *a;
	dr_clock *clock;
	dr_events *ev;
	dr_rng rng;
	uint64_t seed;
	const char *run_id, *run_dir, *state_dir, *rb_dir;
	int64_t started_wall;
	/* the backend (dr_exec_backend) and the inventory bound through it */
	dr_backend *backend;
	bool backend_owned; /* opened by the run: flushed and closed at its end */
	dr_preflight pf; /* the binding (x->bind, x->vms are its) and the checks of run/preflight.h */
	const char **excluded; /* resume: the VMs --exclude-blocked left out of the run (sorted) */
	size_t n_excluded;
	const dr_point_override *point; /* --recovery-point (or a resumed run's); NULL: none */
	dr_point_override point_resumed;
	struct cJSON *plan_points; /* a saved plan's points {vm: point} (heap), kept in the journal's header */
	const char **pins; /* per VM: the point of its first failover (the plan's); NULL: no plan */
	size_t *pin_node; /* per VM: the plan index of that first failover step */
	dr_binding bind;
	const dr_vm *vms;
	size_t n_vms;
	struct cJSON **vm_json; /* target.* objects, built on first use */
	/* lookup.c: the service read (target.state) that failed the last evaluation of when:/with:; NONE when none */
	dr_err_class read_cls;
	int64_t read_retry_after; /* its Retry-After, -1 when none */
	struct cJSON *params, *secrets;
	/* steps */
	srun *main; /* plan->n_main, in plan order */
	size_t n_main;
	srun *fin;
	size_t n_fin;
	srun **units; /* rollback units, in the order they run */
	size_t n_units;
	phase ph;
	size_t phase_left; /* sruns of the phase not ended */
	/* scheduling */
	/*
	 * The active steps (in_active) that may launch now, a min-heap by
	 * active_seq: sched_pump visits them in the order they became active
	 * and never walks a step whose concurrency is used up (it is put back
	 * when one of its tasks ends: sched_active_room). A step that may
	 * launch again during a pump's pass, behind the pass's cursor (pump_at),
	 * waits in ready_later for the next pass, as it would in a list walk.
	 */
	srun **ready, **ready_later;
	size_t n_ready, cap_ready, n_later, cap_later;
	uint64_t active_seq, pump_at;
	uint32_t active_phase; /* bumped by sched_active_reset */
	dr_arena *flush_a; /* dr_exec_backend_flush's scratch, reset after each flush */
	bool pumping;
	size_t n_active; /* tasks RUNNING or WAITING */
	int64_t limit;
	timer_heap timers;
	uint64_t done_seq;
	int64_t run_deadline;
	/* how the run is ending */
	bool stopping, rollback_wanted, cancelled, run_timed_out, grace_over, rollback_failed, rollback_blocked;
	bool all_outputs_read; /* lookup_mark_reads: every task keeps its outputs */
	const char *stop_reason; /* why the main steps stopped */
	const char *rollback_reason; /* why the rollback stopped */
	srun *stop_step;
	const char *barrier_step; /* the irreversible step a rollback stopped at */
	uint64_t barrier_seq; /* tasks that ended at or before this are not rolled back */
	const char **not_undone; /* mutating steps a rollback could not undo (no undo, no rollback:) */
	size_t n_not_undone;
	int signo;
	bool expect_signal; /* the signal hook fired; wait for the signal thread */
	bool hook_fired; /* the signal hook sent its signal (a resume's replay may fire it before the timer) */
	bool cancelled_early; /* a signal came before the run started: refused, nothing was run */
	bool journaled, started; /* under mu: the run's journal exists, the run has begun (a second signal's message) */
	/* mailbox: completions from workers and signals */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	task *mb_head, *mb_tail;
	int sig_new, sig_count, sig_last;
	bool wake_new; /* dr_exec_wake: take a turn (write what was emitted) */
	/* workers */
	pthread_t *workers;
	int n_workers, max_workers;
	pthread_mutex_t jmu;
	pthread_cond_t jcv;
	task *jobs_head, *jobs_tail;
	bool jobs_quit;
	size_t busy;
	/* signals */
	bool sig_thread_on, sig_quit;
	bool sig_held; /* signals_stop left SIGINT/SIGTERM blocked: signals_late_prepare/arm let them in */
	pthread_t sig_thread;
	sigset_t sig_old;
	/* what people see: the run model fed by the events (o.model, else own_model), and the screen */
	dr_runinfo *model;
	dr_runinfo own_model;
	struct dr_progress *view;
	const dr_call *prompt_owner;
	pthread_mutex_t prompt_mu;
	dr_run_status status;
	bool lock_busy; /* journal_prepare: another live run holds the run lock (status busy) */
	bool lock_stale; /* journal_prepare: an earlier run that did not finish left the run lock (status stale) */
	char *state_error; /* the first save of the run's state (journal, backend's state) that failed: why (heap) */
	char *internal_error; /* heap; set by a system error mid-run */
	struct jrun *jr; /* journal_run.c: the journal, its lock, a resume's replay; NULL without a journal */
	struct ordering *ord; /* order.c: the duration history and this run's samples; NULL without a history */
};

/*
 * exec.c: saving the run's state (the journal, the backend's state file)
 * failed: cause says what and why (a full disk, a read-only file system).
 * The run ends internal_error; nothing mutating is started after this; the
 * summary's advice is to make room and resume. The first cause is kept.
 */
void exec_state_failed(dr_exec *x, const char *cause);

/* exec.c: building step runs (also for rollback units) */
void exec_srun_init(dr_exec *x, srun *s, const dr_step *st, const dr_action *act, phase ph);
void exec_srun_tasks(dr_exec *x, srun *s);
void exec_srun_edge(dr_exec *x, srun *from, srun *to, bool pipe);
const char *exec_task_label(dr_exec *x, task *t); /* "step" or "step[vm]", in the run's arena (its thread) */

/* sched.c: the state transitions */
void sched_release_phase(dr_exec *x, srun *runs, size_t n);
void sched_release_srun(dr_exec *x, srun *s);
void sched_pump(dr_exec *x);
void sched_active_reset(dr_exec *x); /* a new phase: no step is visited any more (their flags stay) */
void sched_active_free(dr_exec *x);
void sched_outcome(dr_exec *x, task *t, dr_outcome o);
void sched_fire(dr_exec *x, const timer *tm);
void sched_cancel_run(dr_exec *x, const char *reason, bool timed_out);
void sched_settle_phase(dr_exec *x);
bool sched_phase_quiet(const dr_exec *x);
void sched_emit_step_end(dr_exec *x, srun *s);
srun *sched_find(dr_exec *x, const char *id);
task *sched_task_for_vm(srun *s, size_t vm);
const char *sched_tstate_name(tstate s);
const char *sched_sstate_name(sstate s);
struct cJSON *sched_event(dr_exec *x, const char *type, const srun *s, const task *t);

/*
 * The step's timeout and (outside finally) the run's, as they stand for an
 * attempt of s starting now: the step's counts from timeout_from (its start,
 * or a resume --retry-failed), moved on by a person's wait, and stands still
 * (DR_CLOCK_NEVER) while one lasts. Scheduler thread.
 */
int64_t sched_step_deadline(const dr_exec *x, const srun *s);
void sched_requeue(dr_exec *x, task *t); /* fallback.c: t (RUNNING) ready again with fresh attempts */
/* resume.c, --retry-failed: t's attempt ended as o (a failure); t waits for a new attempt instead of failing its step */
void sched_retry_failed(dr_exec *x, task *t, dr_outcome o);
/*
 * resume.c: t (READY, as the replay released it) failed before its first
 * attempt (its when: or with: could not be evaluated; a task.end of attempt
 * 0), its outcome o. sched_fail_unstarted: it fails as the journal says,
 * nothing evaluated again. sched_retry_unstarted (--retry-failed, a step
 * that failed the run): it waits (RETRYING, decide_again) instead of
 * failing its step, until the retry point decides it anew
 * (sched_decide_again: its when: and with: are evaluated again).
 */
void sched_fail_unstarted(dr_exec *x, task *t, dr_outcome o);
void sched_retry_unstarted(dr_exec *x, task *t, dr_outcome o);
void sched_decide_again(dr_exec *x, task *t);
/* resume.c: a task.person record: t's wait for a person began (waiting) or ended then, as the clock says */
void sched_person(dr_exec *x, task *t, bool waiting);

/* fallback.c: the recovery point fallback of failed validations (docs/execution.md) */
bool fallback_begin(dr_exec *x, task *t);
bool fallback_running(const task *t);
void fallback_applied(dr_exec *x, task *t, struct cJSON *outputs);
void fallback_stop(dr_exec *x, task *t, dr_err_class *cls, char **msg);
const struct cJSON *fallback_point(const task *t, uint64_t *done_seq);
void fallback_dispose(task *t);

/* timers.c */
void timers_push(timer_heap *h, int64_t at, timer_kind kind, void *p, uint32_t gen);
bool timers_pop_due(timer_heap *h, int64_t now, timer *out);
int64_t timers_next(const timer_heap *h);
void timers_dispose(timer_heap *h);

/* workers.c: the pool, the mailbox and the signal thread */
int workers_dispatch(dr_exec *x, task *t);
void workers_stop(dr_exec *x);
void mailbox_post(dr_exec *x, task *t);
int signals_start(dr_exec *x);
void signals_stop(dr_exec *x);
/* The signal (SIGINT, SIGTERM) that came and the loop has not taken yet (wait_for_work); 0: none. Main thread. */
int signals_pending(dr_exec *x);
/* The test hook (o.signal_at_ms): send its signal now, once, and wait until the signal thread has counted it. */
void signals_hook(dr_exec *x);
/*
 * After the run, in a command with the early handler (dr_exec_signals_early): signals_stop left the signals
 * blocked while the run's end is written. signals_late_prepare makes the handler's messages for a signal that
 * comes now (the run has ended, with status st: a first one is a note, a second exits with st's exit status) and
 * returns whether the signals are held; signals_late_arm, once the journal is closed, lets them in. Main thread.
 */
bool signals_late_prepare(dr_exec *x, dr_run_status st);
void signals_late_arm(void);

/* lookup.c: what ${...} references mean at run time */
struct cJSON *lookup_eval_with(dr_exec *x, task *t, char **err);
void lookup_with_drop(task *t); /* t->with let go (NULL after): freed unless its step's shared one */
struct cJSON *lookup_eval_node(dr_exec *x, task *t, const dr_node *node, const char *where, char **err);
int lookup_eval_when(dr_exec *x, task *t, bool *out, char **err);
/* The reason of a task skipped by its when: (task.skip), which resume reads back. */
#define SCHED_WHEN_FALSE "when: is false"
void lookup_dispose(dr_exec *x);

/*
 * Mark the steps whose outputs a template of the runbook may read
 * (${steps.ID.outputs...}, or ${steps.ID} whole: srun.outputs_read), or
 * x->all_outputs_read when a read names no step it can find (${steps}, an
 * id inside a composite's definition). Other steps' tasks give their
 * outputs to their task.end event and keep none. After the sruns are built.
 */
void lookup_mark_reads(dr_exec *x);
/* Read every declared secret and register it for redaction (before any step runs); -1 with a line per problem in err. */
int lookup_load_secrets(dr_exec *x, dr_buf *err);

/* exec_backend.c: the run's backend (dr_exec_opts.backend, or rb's opened here) */
int exec_backend_open(dr_exec *x, dr_buf *err);
void exec_backend_close(dr_exec *x);

/*
 * exec_preflight.c: the plan is the gate of the run (docs/execution.md, "Preflight").
 *   exec_preflight            fresh run, before the tasks are made: check; NULL, or why the run is refused (err says)
 *   exec_preflight_reexclude  resume, after binding: leave out the VMs an earlier session excluded
 *   exec_preflight_resume     resume, after the replay: check what has not started; -1 (text says) stops the session
 */
const char *exec_preflight(dr_exec *x, dr_buf *err);
void exec_preflight_reexclude(dr_exec *x);
void exec_preflight_points(dr_exec *x); /* after binding: x->point, x->plan_points, x->pins */
int exec_preflight_resume(dr_exec *x, dr_buf *text);

/* rollback.c */
size_t rollback_build(dr_exec *x);
void rollback_unit_done(dr_exec *x, srun *u);

/*
 * journal_run.c and resume.c: the crash-safe journal (docs/journal.md).
 * Each is a no-op when the run keeps no journal (x->jr NULL).
 *   journal_prepare  before binding: the run lock, the run id, a resumed run's clock
 *   journal_open     after binding: the header (or reopen to resume), the event listener
 *   journal_intent   after task.start: the intent record; true when the call is held until it is durable
 *   journal_turn     each turn of the loop: make held intents durable (one sync), then issue the calls
 *   journal_idle     before the loop waits: write results in groups (synced at most once a second on the
 *                    real clock; flushing the backend first); false when there is no journal
 *   journal_note_timeout  a step's timeout fired (replayed on resume)
 *   journal_replay   resume: apply the next record (1), not replaying (0), stop the session (-1)
 *   journal_suspended  the session stopped without ending the run (status failed, no run.end)
 *   journal_finish   at the end (exec_free): sync, close, release the lock
 */
struct jrun;
const char *journal_prepare(dr_exec *x, dr_buf *err);
const char *journal_open(dr_exec *x, dr_buf *err);
bool journal_intent(dr_exec *x, task *t);
bool journal_turn(dr_exec *x);
bool journal_idle(dr_exec *x);
void journal_note_timeout(dr_exec *x, srun *s);
int journal_replay(dr_exec *x);
/*
 * resume.c: what the journal says the run decided on t's when: (*go: it
 * went, or it was skipped: SCHED_WHEN_FALSE); false when the journal does
 * not say (a new task, or a finally step that runs again): decide now.
 */
bool journal_when_decided(dr_exec *x, const task *t, bool *go);
/*
 * Whether the journal being resumed already holds the record ev (a
 * step.start or step.end of s, t NULL, the same status; a task.skip of t)
 * past the replay's end (the crash came after it was written): the
 * scheduler emits it again as replayed, not journaled. True once per such
 * record.
 */
bool journal_told(dr_exec *x, const struct cJSON *ev, const srun *s, const task *t);
/* Whether a resume's replay is retelling the journal now (nothing is asked of the service then). */
bool journal_replaying(const dr_exec *x);
bool journal_suspended(const dr_exec *x);
/* The session stopped because a signal came during the replay (status cancelled; nothing journaled). */
bool journal_signalled(const dr_exec *x);
void journal_finish(dr_exec *x);
/* journal_run.c: the identity of the run's backend (dr_journal_backend_id); NULL: a simulator in memory */
const char *journal_backend_id(dr_exec *x);

/* sched.c, for the replay: start an attempt without calling the action (false: it failed early); call it. */
bool sched_start_attempt(dr_exec *x, task *t);
void sched_call(dr_exec *x, task *t);

/*
 * order.c: the order ready tasks take slots in (docs/execution.md, "Order").
 *   order_open    after run.start: read the duration history (a history.warning event when it cannot be used)
 *   order_step    when s starts: its tasks' estimates; s->ordered when they decide its queue
 *   order_push, order_pop   s's longest-first queue (s->ordered)
 *   order_started a task.start event: the estimate it was ordered by; whether the attempt is live
 *   order_sample  t succeeded: remember how long its attempt took
 *   order_finish  before run.end: merge this run's samples into the history file
 */
struct ordering;
void order_open(dr_exec *x);
void order_step(dr_exec *x, srun *s);
void order_push(dr_exec *x, srun *s, task *t);
task *order_pop(srun *s);
void order_started(dr_exec *x, task *t, struct cJSON *ev);
void order_sample(dr_exec *x, const task *t);
void order_finish(dr_exec *x);
void order_dispose(dr_exec *x);

#endif
