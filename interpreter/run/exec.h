/*
 * exec.h - the executor: runs a compiled runbook's plan.
 *
 * Steps expand into tasks (one per VM of targets:/foreach:, else one); one
 * scheduler thread owns every task and step and moves them through small
 * state transitions. Actions flagged DR_AF_BLOCKING run on a worker pool;
 * the others run inline on the scheduler thread. Every wait goes through one
 * clock (clock.h), real or virtual. docs/execution.md describes the
 * semantics (states, retries, timeouts, failure policies, rollback,
 * approvals, cancellation); docs/events.md the event stream.
 *
 * The second half of this header is the executor's services to actions:
 * functions taking the dr_call's `run` (struct dr_exec *). Each accepts a
 * NULL run (an action called outside a run, e.g. by a unit test) and then
 * does nothing or answers a neutral value.
 */
#ifndef DR_EXEC_H
#define DR_EXEC_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "actions/action.h"
#include "run/clock.h"
#include "run/modes.h"
#include "front/runbook.h"
#include "util/buf.h"

struct cJSON;

typedef struct dr_exec dr_exec;

/* How a run ended. dr_exec_exit_code maps these to the process exit status. */
typedef enum dr_run_status {
	DR_RUN_SUCCEEDED, /* every step succeeded, was skipped, or failed with on_failure: continue */
	DR_RUN_FAILED, /* a step failed (stop), the run timed out, or a finally step failed */
	DR_RUN_ROLLED_BACK, /* a step failed and every completed task was undone */
	DR_RUN_CANCELLED, /* SIGINT/SIGTERM */
	DR_RUN_INVALID, /* nothing ran: bad parameters, or the backend or its inventory cannot be read */
	DR_RUN_INTERNAL, /* nothing or not everything ran: a system error (threads, files) */
	DR_RUN_BUSY, /* nothing ran: another live run holds the run lock of this runbook and backend */
	DR_RUN_BLOCKED, /* nothing ran: the preflight found blockers (docs/execution.md, "Preflight") */
	DR_RUN_STALE, /* nothing ran: an earlier run of this runbook and backend did not finish and left its lock */
} dr_run_status;

/* Whether a run reads and updates the duration history (history.h; docs/execution.md, "Order"). */
typedef enum dr_history_use {
	DR_HISTORY_AUTO, /* read and update it when the run keeps a journal (drover run, drill, failback, resume) */
	DR_HISTORY_OFF,
	DR_HISTORY_READ, /* read it to order tasks, never update it (plan --estimate) */
	DR_HISTORY_UPDATE, /* read and update it, journal or not (benchmarks, tests) */
} dr_history_use;

/* The screen: a live view on a terminal, one line per transition, or nothing but the summary. */
typedef enum dr_view_mode { DR_VIEW_PLAIN, DR_VIEW_LIVE, DR_VIEW_QUIET } dr_view_mode; /* QUIET: also a line per approval.request */

struct dr_event_fields; /* run/events.h */

typedef struct dr_exec_opts {
	dr_clock_kind clock;
	double clock_rate; /* real clock: this many times faster than real time (a simulator's backend.speed); 0: 1 */
	int64_t start_ms; /* virtual clock: the Unix ms the run starts at (the simulator's time); -1: the epoch */
	uint64_t seed; /* retry jitter */
	bool seed_given; /* false: fixed (1) on the virtual clock, random (and reported) on the real one */
	int64_t concurrency; /* global limit on running tasks; 0: none */
	bool auto_approve; /* --yes */
	bool interactive; /* approvals may prompt on the terminal */
	const char *run_id; /* NULL: <name>-<UTC time>[-<random>] */
	dr_buf *run_id_out; /* when not NULL, the run's id is appended to it once it is known (--report) */
	const char *state_dir; /* NULL: $DROVER_STATE_DIR, else ".drover" */
	const struct cJSON *params; /* typed parameter values (dr_params_bind); NULL: defaults only */
	FILE *events; /* JSON lines, or NULL */
	bool events_flush; /* flush after every event line */
	/*
	 * Also called with every event (redacted, borrowed for the call) on
	 * the emitting thread, under the stream's lock: for a caller that reads
	 * the run in process (plan --estimate) rather than printing and parsing
	 * JSON lines. NULL: none.
	 */
	void (*on_event)(void *ctx, const struct cJSON *ev);
	/*
	 * The typed path instead (events.h dr_event_fields: a task's start and
	 * end, the run's stop and end), with on_event_ctx: when neither on_event
	 * nor anything else reads JSON (no events FILE, journal, run model or
	 * screen), the run builds no JSON for tasks. NULL: none.
	 */
	void (*on_fields)(void *ctx, const struct dr_event_fields *f);
	void *on_event_ctx;
	FILE *screen; /* the human view, or NULL */
	dr_view_mode view;
	bool color;
	bool handle_signals; /* SIGINT/SIGTERM cancel the run (a signal thread; blocks them in the caller) */
	int64_t grace_ms; /* how long running tasks get to stop after a cancellation (default 30s) */
	int64_t signal_at_ms; /* test hook: send ourselves signal_at_sig at this clock time (a resume: also while it replays); -1: never */
	int signal_at_sig; /* the hook's signal: SIGINT (0 means SIGINT) or SIGTERM */
	int workers; /* worker threads for blocking actions; 0: min(16, concurrency or 16) */
	dr_run_mode mode; /* failover (default), drill or failback (modes.h); a drill's runbook is made by dr_modes_make_drill */
	dr_be_direction direction; /* which way failovers go; dr_exec_opts_init: PRIMARY_TO_RECOVERY */
	struct dr_backend *backend; /* an open backend to use, not closed by the run (plan --estimate); NULL: open rb's */
	bool journal; /* keep the crash-safe journal and take the run lock (docs/journal.md); drover run does */
	const struct dr_journal_file *resume; /* drover resume: the run's journal, replayed first (run_id is its id) */
	bool force; /* take over a stale run lock; on resume, replay onto a changed runbook */
	dr_history_use history; /* the duration history; dr_exec_opts_init: AUTO */
	const char *history_path; /* NULL: <state_dir>/history.json */
	dr_order order; /* --order: every step's order; DR_ORDER_INHERIT: the step's, else defaults.order */
	bool retry_failed; /* resume of a run that ended failed: its failed tasks get new attempts (docs/journal.md) */
	bool exclude_blocked; /* --exclude-blocked: a plan whose blockers are single VMs' runs without them */
	bool skip_preflight; /* unit tests of the actions' own run-time guards only; no command sets it */
	bool verbose; /* the screen lists every VM transition (views/progress.h) */
	/*
	 * The run model (journal/runinfo.h) to feed, for the caller to read
	 * after the run (reports): initialised with dr_runinfo_init and empty;
	 * the caller disposes it. NULL: the run keeps its own.
	 */
	struct dr_runinfo *model;
	const struct dr_point_override *point; /* --recovery-point: every failover's point (preflight.h); NULL: the runbook's */
	const struct cJSON *plan; /* --plan: a saved plan (planfile.h) the run must match and whose points it uses */
	const char *plan_path; /* its file, for messages and the journal */
	int64_t plan_max_age_ms; /* --plan-max-age; dr_exec_opts_init: 1h */
	/*
	 * A rehearsal (plan --estimate): actions that reach outside the
	 * backend (exec, check.*, notify.*: processes and the network) are
	 * not run; each task succeeds at once with the output
	 * {"not_run": "rehearsal"}. The backend's own actions, approvals and
	 * timers run as in a run.
	 */
	bool rehearse;
	/*
	 * No view of this process reads the run model (plan --estimate reads
	 * the events itself): the model is not fed, and run.objectives is not
	 * emitted, unless the run's own status depends on it (a drill's
	 * verification; objectives.enforce: always) or it has a screen, an
	 * event stream or a caller's model. The status, the tasks and every
	 * other event are the same.
	 */
	bool model_unread;
} dr_exec_opts;

/* Defaults: real clock, no limit, plain view on nothing, grace 30s, no hook. */
void dr_exec_opts_init(dr_exec_opts *o);

/*
 * Run rb (compiled without errors: rb->plan set and acyclic). Events go to
 * o->events, the human view to o->screen. Before anything starts, the run
 * checks every task it will start against the backend (preflight.h): a
 * blocked plan is refused (DR_RUN_BLOCKED) with nothing started. Problems
 * that stop the run before anything runs (blockers, parameters, the
 * backend) and system errors are appended to err as full sentences (what
 * failed, the state things are in, what is safe to do next) and also
 * reported in the events.
 */
dr_run_status dr_exec_run(dr_runbook *rb, const dr_exec_opts *o, dr_buf *err);

/*
 * For drover resume, before it reads the journal: SIGINT and SIGTERM are
 * counted from now on, not lost (or fatal) until dr_exec_run's signal
 * thread takes over, which then counts them as its own (the first cancels
 * the run once it can, as in a fresh run). A second one before that exits
 * at once, status 4, saying that this session started nothing and naming
 * the resume command (dr_journal_command of state_dir and run_id). For
 * drover run (run_id NULL), from before it compiles the runbook: the first
 * signal refuses the run before anything runs (status cancelled, "nothing
 * was run"), a second exits at once saying nothing was run. Process
 * state: call once, from the main thread, before any other thread starts.
 */
void dr_exec_signals_early(const char *state_dir, const char *run_id);

/* The process exit status for a run status (0 succeeded, 1 failed, rolled back or blocked, 2, 3, 4 cancelled, 5 busy, 6 stale). */
int dr_exec_exit_code(dr_run_status s);

/* "succeeded", "failed", "rolled_back", "cancelled", "invalid", "internal_error", "busy", "blocked", "stale". */
const char *dr_run_status_name(dr_run_status s);

/* --- services to actions ------------------------------------------------- */

/* True once the run asked this attempt to stop (cancellation or timeout): reach a safe point. */
bool dr_exec_cancelled(const dr_call *call);

/* The run's clock time now (ms), and the Unix time (ms) of a clock time. */
int64_t dr_exec_now(dr_exec *x);
int64_t dr_exec_wall(dr_exec *x, int64_t t);

/* Write a log line of the task (level: debug, info, warn, error) to the view and the events. Any thread. */
void dr_exec_log(dr_exec *x, const dr_call *call, const char *level, const char *message);
/* Whether anyone reads log lines (dr_exec_log drops them when no one does: plan --estimate), so a line said at every task need not be formatted. Any thread. */
bool dr_exec_logs_read(dr_exec *x);

/*
 * True when no one will read the outputs of this call: no template reads
 * its step's, no fallback waits on them, and nothing reads the run's JSON
 * events (plan --estimate). An action may then skip building them, but must
 * still make every call to the service that building them makes, in the
 * same order: those calls move the simulator's fault draws and can fail.
 * False outside a run. The call's thread.
 */
bool dr_exec_outputs_unread(const dr_call *call);

/*
 * A new event of this type with "step" (and "target", and "phase" outside
 * the main steps) filled in from the call; add fields, then dr_exec_emit.
 */
struct cJSON *dr_exec_event(dr_exec *x, const dr_call *call, const char *type);
/* Emit an event made by dr_exec_event (takes it). Any thread. With a NULL run, frees it. */
void dr_exec_emit(dr_exec *x, struct cJSON *ev);
/*
 * Ask the scheduler to take a turn now, so what the action emitted is in
 * the journal before the action blocks for a long time (an approval gate
 * waiting for a person: its approval.request, what was asked and how to
 * answer it, is what `drover status` and a resume read). Any thread; NULL
 * run: nothing.
 */
void dr_exec_wake(dr_exec *x);

const char *dr_exec_run_id(dr_exec *x);
/* The run's own directory under the state dir: <state>/runs/<run-id> (not created). */
const char *dr_exec_run_dir(dr_exec *x);
/* The run's state directory as given (--state-dir, $DROVER_STATE_DIR, else ".drover"). */
const char *dr_exec_state_dir(dr_exec *x);
/* The runbook's directory (default working directory of local programs). */
const char *dr_exec_runbook_dir(dr_exec *x);
/* --yes was given: approvals are granted without asking. */
bool dr_exec_auto_approve(dr_exec *x);

/*
 * The terminal, for approval prompts. dr_exec_prompt_claim returns true when
 * call may prompt (the run is interactive and no other task holds the
 * terminal); the holder releases it with dr_exec_prompt_release. While it
 * is held the live view stops redrawing. dr_exec_say prints a line on the
 * screen above the live view.
 */
bool dr_exec_prompt_claim(dr_exec *x, const dr_call *call);
void dr_exec_prompt_release(dr_exec *x, const dr_call *call);
void dr_exec_say(dr_exec *x, const char *text);

/*
 * Free text an action reports or keeps (captured output, a response body, a
 * quote in a message) with every secret of the run, in each of its forms
 * (run/secrets.h), replaced by "***": a heap string, the caller frees it.
 * An action that keeps only part of a text redacts it whole, then cuts:
 * dr_exec_redact_cut keeps at most max of the len bytes of text and never
 * leaves a secret cut in half (*cut: something was cut); to be sure a
 * secret that starts before the cut is whole, the action reads
 * dr_exec_secret_slack() bytes more than it keeps. Any thread; without a
 * run (NULL) nothing is redacted.
 */
char *dr_exec_redact(dr_exec *x, const char *text);
char *dr_exec_redact_cut(dr_exec *x, const char *text, size_t len, size_t max, bool *cut);
size_t dr_exec_secret_slack(dr_exec *x);

/* "step" or "step[vm]": how messages name the task of this call; into out. */
void dr_exec_task_label(const dr_call *call, char *out, size_t outsz);

/* --- services for the dr.* actions (docs/execution.md, "The backend") --- */

/* The run's backend: opened once per run with its state dir, or dr_exec_opts.backend. NULL without a run. */
struct dr_backend *dr_exec_backend(dr_exec *x);

/* The runbook the run executes (its recovery: policy, objectives); NULL without a run. */
const dr_runbook *dr_exec_runbook(dr_exec *x);

/*
 * Make what the backend accepted so far durable (dr_backend_flush). The
 * run calls it each time it is about to wait and at its end; the journal
 * calls it before making records that name jobs durable. Returns 0, or -1
 * with a sentence appended to err (err may be NULL).
 */
int dr_exec_backend_flush(dr_exec *x, dr_buf *err);

/*
 * Whether the run itself decides the recovery point of call (a dr.failover
 * or dr.test_failover): the point a saved plan chose for the VM's first
 * failover (custom by id), or --recovery-point. Then *q gets the query
 * (max_age not set) and no fallback policy is tried. False: the step's and
 * the runbook's policy decide.
 */
bool dr_exec_point_query(dr_exec *x, const dr_call *call, dr_be_point_query *q);

/* Which way this run's failovers go (dr_exec_opts.direction; AUTO: away from each item's active side). */
dr_be_direction dr_exec_direction(dr_exec *x);

/*
 * The idempotency key of call's attempt, "<run id>/<task label>/<action>/<attempt>",
 * e.g. "shop-20260101T000000Z/failover-db[db-1]/dr.failover/1": the same
 * attempt of the same run always gets the same key (a resumed run too), a
 * new attempt a new one, and an undo task names its undo action.
 */
void dr_exec_idempotency_key(const dr_call *call, char *out, size_t outsz);

/*
 * Evaluate a runbook value that may hold ${...} (e.g. the node of
 * recovery.point) in call's scope, as with: is. Returns a new value (the
 * caller frees it), or NULL with *err (heap). where names it in messages.
 */
struct cJSON *dr_exec_eval_node(dr_exec *x, const dr_call *call, const dr_node *node, const char *where, char **err);

#endif
