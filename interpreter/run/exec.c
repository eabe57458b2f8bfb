/*
 * exec.c - a run from start to end: set-up (inventory, vm_sets, step runs
 * and their tasks), the scheduler loop, the phases (main steps, rollback,
 * finally), the end (status, run.end, summary) and the services actions
 * call through dr_call.run.
 *
 * The loop: launch what may run (sched_pump); when the phase is stopping and
 * nothing runs any more, settle it (what never started is cancelled); when
 * every step of the phase has ended, go to the next phase; otherwise wait
 * on the clock for a completion, a signal or the next timer, and handle
 * them. One thread does all of that; see sched.c for the transitions.
 */
#include "run/exec_int.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backends/backend.h"
#include "front/params.h"
#include "run/modes.h"
#include "run/secrets.h"
#include "util/text.h"
#include "util/xalloc.h"
#include "views/lines.h"
#include "views/progress.h"
#include "views/report_dr.h"
#include "views/summary.h"

#define DEFAULT_GRACE_MS 30000
#define MAX_WORKERS 16

void dr_exec_opts_init(dr_exec_opts *o)
{
	*o = (dr_exec_opts){
		.clock = DR_CLOCK_REAL, .view = DR_VIEW_PLAIN, .grace_ms = DEFAULT_GRACE_MS, .signal_at_ms = -1,
		.mode = DR_MODE_FAILOVER, .direction = DR_BE_DIR_PRIMARY_TO_RECOVERY, .plan_max_age_ms = 3600000,
		.start_ms = -1,
	};
}

static const char *const status_names[] = {
	[DR_RUN_SUCCEEDED] = "succeeded", [DR_RUN_FAILED] = "failed",   [DR_RUN_ROLLED_BACK] = "rolled_back",
	[DR_RUN_CANCELLED] = "cancelled", [DR_RUN_INVALID] = "invalid", [DR_RUN_INTERNAL] = "internal_error",
	[DR_RUN_BUSY] = "busy", [DR_RUN_BLOCKED] = "blocked", [DR_RUN_STALE] = "stale",
};

const char *dr_run_status_name(dr_run_status s)
{
	return status_names[s];
}

int dr_exec_exit_code(dr_run_status s)
{
	static const int codes[] = {
		[DR_RUN_SUCCEEDED] = 0, [DR_RUN_FAILED] = 1,  [DR_RUN_ROLLED_BACK] = 1,
		[DR_RUN_CANCELLED] = 4, [DR_RUN_INVALID] = 2, [DR_RUN_INTERNAL] = 3, [DR_RUN_BUSY] = 5, [DR_RUN_BLOCKED] = 1,
		[DR_RUN_STALE] = 6,
	};
	return codes[s];
}

/* --- step runs ------------------------------------------------------- */

void exec_srun_init(dr_exec *x, srun *s, const dr_step *st, const dr_action *act, phase ph)
{
	const dr_runbook *rb = x->rb;
	s->st = st;
	s->act = act;
	s->ph = ph;
	s->id = st->id.name;
	s->retry = dr_retry_of_step(rb, st, NULL);
	s->timeout = st->timeout_ms >= 0 ? st->timeout_ms : rb->default_timeout_ms;
	s->attempt_timeout = st->attempt_timeout_ms >= 0 ? st->attempt_timeout_ms : rb->default_attempt_timeout_ms;
	if (act && (act->flags & DR_AF_APPROVAL)) { /* a gate's own timeout/on_timeout decide, not defaults: */
		s->timeout = st->timeout_ms;
		s->attempt_timeout = st->attempt_timeout_ms;
	}
	s->limit = st->concurrency > 0 ? st->concurrency : rb->default_concurrency;
	s->order = x->o.order ? x->o.order : st->order ? st->order : rb->default_order;
	if (s->order == DR_ORDER_INHERIT)
		s->order = DR_ORDER_LONGEST_FIRST; /* without a history, the same as declared */
	s->on_failure = st->on_failure;
	s->allowed_failures = 0;
}

/* max_failures as a number of tasks: a count, or a percentage of the step's tasks (rounded down). */
static int64_t allowed_failures(const dr_step *st, size_t n_tasks)
{
	if (st->max_failures < 0)
		return 0;
	if (!st->max_failures_pct)
		return st->max_failures;
	return (int64_t)((uint64_t)n_tasks * (uint64_t)st->max_failures / 100);
}

void exec_srun_tasks(dr_exec *x, srun *s)
{
	size_t n = 0;
	size_t *vms = dr_bind_step_targets(x->a, &x->bind, x->rb, s->st, &n);
	bool fanned = s->st->n_targets > 0;
	s->n_tasks = fanned ? n : 1;
	s->tasks = dr_arena_calloc(x->a, s->n_tasks + 1, sizeof *s->tasks);
	for (size_t i = 0; i < s->n_tasks; i++) {
		task *t = &s->tasks[i];
		t->s = s;
		t->vm = fanned ? vms[i] : NO_VM;
		t->label = fanned ? NULL : s->id; /* step[vm]: exec_task_label, when a message needs it */
	}
	s->allowed_failures = allowed_failures(s->st, s->n_tasks);
	int64_t limit = s->limit > 0 && (x->limit <= 0 || s->limit < x->limit) ? s->limit : x->limit;
	s->timeout = dr_modes_cleanup_timeout(s->st, s->timeout, s->n_tasks, limit); /* a drill's cleanup: by its VMs */
}

const char *exec_task_label(dr_exec *x, task *t)
{
	if (!t->label) /* joined by hand: the run's events and journal name tasks by step and target apart */
		t->label = dr_arena_join(x->a, (const char *const[]){t->s->id, "[", x->vms[t->vm].name, "]"}, 4);
	return t->label;
}

/* True when every VM of to has a task in from: then to can follow from VM by VM. */
static bool covers(const srun *from, const srun *to)
{
	for (size_t i = 0; i < to->n_tasks; i++)
		if (to->tasks[i].vm == NO_VM || !sched_task_for_vm((srun *)from, to->tasks[i].vm))
			return false;
	return true;
}

void exec_srun_edge(dr_exec *x, srun *from, srun *to, bool pipe)
{
	if (from->n_succ == from->cap_succ) {
		size_t c = from->cap_succ ? 2 * from->cap_succ : 4;
		from->succ = dr_arena_grow(x->a, from->succ, from->n_succ, c, sizeof *from->succ);
		from->succ_pipe = dr_arena_grow(x->a, from->succ_pipe, from->n_succ, c, sizeof *from->succ_pipe);
		from->cap_succ = c;
	}
	pipe = pipe && covers(from, to);
	from->succ[from->n_succ] = to;
	from->succ_pipe[from->n_succ++] = pipe;
	to->deps_left++;
	for (size_t i = 0; i < to->n_tasks; i++)
		to->tasks[i].blockers++;
}

static srun *node_srun(dr_exec *x, size_t i)
{
	return i < x->n_main ? &x->main[i] : &x->fin[i - x->n_main];
}

static void build_sruns(dr_exec *x)
{
	const dr_plan *p = x->plan;
	x->n_main = p->n_main;
	x->n_fin = p->n - p->n_main;
	x->main = dr_arena_calloc(x->a, x->n_main + 1, sizeof *x->main);
	x->fin = dr_arena_calloc(x->a, x->n_fin + 1, sizeof *x->fin);
	for (size_t i = 0; i < p->n; i++) {
		srun *s = node_srun(x, i);
		const dr_step *st = p->nodes[i].step;
		exec_srun_init(x, s, st, st->action, i < p->n_main ? PH_MAIN : PH_FINALLY);
		exec_srun_tasks(x, s);
		if (x->o.mode == DR_MODE_DRILL)
			dr_modes_skips(x->rb, i, &s->skip_why);
	}
	for (size_t i = 0; i < p->n; i++)
		for (size_t d = 0; d < p->nodes[i].n_deps; d++)
			exec_srun_edge(x, node_srun(x, p->nodes[i].deps[d]), node_srun(x, i), p->nodes[i].step->pipeline);
	lookup_mark_reads(x);
}

/* --- set-up ---------------------------------------------------------- */

static uint64_t random_u64(void)
{
	uint64_t v = 0;
	if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
		v = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	return v;
}

static const char *make_run_id(dr_exec *x)
{
	if (x->o.run_id)
		return x->o.run_id;
	char ts[40], compact[24];
	dr_clock_format_wall(x->started_wall, ts, sizeof ts);
	/* 2026-01-01T00:00:00.000Z -> 20260101T000000Z */
	snprintf(compact, sizeof compact, "%.4s%.2s%.2sT%.2s%.2s%.2sZ", ts, ts + 5, ts + 8, ts + 11, ts + 14, ts + 17);
	const char *name = x->rb->name ? x->rb->name : "run";
	if (dr_clock_kind_of(x->clock) == DR_CLOCK_VIRTUAL)
		return dr_arena_printf(x->a, "%s-%s", name, compact);
	return dr_arena_printf(x->a, "%s-%s-%04x", name, compact, (unsigned)(random_u64() & 0xffff));
}

static const char *dir_of(dr_arena *a, const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	if (!slash)
		return ".";
	if (slash == path)
		return "/";
	return dr_arena_strndup(a, path, (size_t)(slash - path));
}

static dr_exec *exec_new(dr_runbook *rb, const dr_exec_opts *o)
{
	dr_exec *x = xcalloc(1, sizeof *x);
	x->rb = rb;
	x->plan = rb->plan;
	x->o = *o;
	if (x->o.grace_ms < 0)
		x->o.grace_ms = DEFAULT_GRACE_MS;
	x->a = dr_arena_new();
	x->clock = dr_clock_new(o->clock);
	dr_clock_set_rate(x->clock, o->clock_rate);
	if (o->start_ms >= 0)
		dr_clock_set_start(x->clock, o->start_ms);
	x->started_wall = dr_clock_wall_at(x->clock, 0);
	x->ev = dr_events_new(x->clock, o->events, o->events_flush);
	if (o->on_event)
		dr_events_listen(x->ev, o->on_event, o->on_event_ctx);
	if (o->on_fields)
		dr_events_listen_typed(x->ev, o->on_fields, o->on_event_ctx);
	x->seed = o->seed_given ? o->seed : o->clock == DR_CLOCK_VIRTUAL ? 1 : random_u64();
	dr_rng_seed(&x->rng, x->seed);
	x->run_id = make_run_id(x);
	if (o->run_id_out)
		dr_buf_puts(o->run_id_out, x->run_id);
	const char *env_state = getenv("DROVER_STATE_DIR");
	x->state_dir = o->state_dir ? o->state_dir : env_state && *env_state ? env_state : ".drover";
	x->run_dir = dr_arena_printf(x->a, "%s/runs/%s", x->state_dir, x->run_id);
	x->rb_dir = dir_of(x->a, rb->path);
	x->limit = o->concurrency > 0 ? o->concurrency : 0;
	x->max_workers = o->workers > 0 ? o->workers : (x->limit > 0 && x->limit < MAX_WORKERS ? (int)x->limit : MAX_WORKERS);
	x->run_deadline = rb->run_timeout_ms >= 0 ? rb->run_timeout_ms : DR_CLOCK_NEVER;
	pthread_mutex_init(&x->mu, NULL);
	dr_clock_cond_init(&x->cv);
	pthread_mutex_init(&x->jmu, NULL);
	pthread_cond_init(&x->jcv, NULL);
	pthread_mutex_init(&x->prompt_mu, NULL);
	return x;
}

static void free_task_values(srun *s)
{
	for (size_t k = 0; k < s->n_tasks; k++) {
		lookup_with_drop(&s->tasks[k]);
		cJSON_Delete(s->tasks[k].outputs);
		free(s->tasks[k].message);
		fallback_dispose(&s->tasks[k]);
	}
	cJSON_Delete(s->with_value);
	s->with_value = NULL;
}

static void exec_free(dr_exec *x)
{
	journal_finish(x);
	for (size_t i = 0; x->main && i < x->n_main; i++)
		free_task_values(&x->main[i]);
	for (size_t i = 0; x->fin && i < x->n_fin; i++)
		free_task_values(&x->fin[i]);
	for (size_t i = 0; i < x->n_units; i++)
		free_task_values(x->units[i]);
	lookup_dispose(x);
	cJSON_Delete(x->plan_points);
	cJSON_Delete(x->params);
	timers_dispose(&x->timers);
	dr_progress_free(x->view);
	dr_events_free(x->ev);
	dr_clock_free(x->clock);
	pthread_mutex_destroy(&x->mu);
	pthread_cond_destroy(&x->cv);
	pthread_mutex_destroy(&x->jmu);
	pthread_cond_destroy(&x->jcv);
	pthread_mutex_destroy(&x->prompt_mu);
	free(x->internal_error);
	free(x->state_error);
	if (x->model == &x->own_model)
		dr_runinfo_dispose(&x->own_model);
	order_dispose(x);
	sched_active_free(x);
	exec_backend_close(x);
	dr_arena_free(x->flush_a);
	dr_arena_free(x->a);
	free(x);
}

/* The inventory and vm_sets, bound as drover plan binds them (preflight.h); false with err filled. */
static bool bind_inventory(dr_exec *x, dr_buf *err)
{
	/* now, not the run's start: a resumed run's first call fixes the simulator's time (docs/backends.md) */
	if (dr_preflight_bind(&x->pf, x->a, x->rb, x->backend, dr_exec_wall(x, dr_clock_now(x->clock)), err) < 0)
		return false;
	exec_preflight_reexclude(x); /* resume: the VMs an earlier session left out stay out */
	exec_preflight_points(x); /* a saved plan's points and --recovery-point (a resume: its header's) */
	x->vms = x->pf.vms;
	x->n_vms = x->pf.n;
	x->bind = x->pf.bind;
	return true;
}

static bool bind_params(dr_exec *x, dr_buf *err)
{
	if (x->o.params) {
		x->params = cJSON_Duplicate(x->o.params, true);
		return true;
	}
	return dr_params_bind(x->rb, NULL, 0, &x->params, err) == 0;
}

static void emit_run_start(dr_exec *x)
{
	cJSON *ev = dr_event_new(x->ev, "run.start");
	cJSON_AddStringToObject(ev, "run", x->run_id);
	cJSON_AddStringToObject(ev, "runbook", x->rb->name ? x->rb->name : "");
	cJSON_AddStringToObject(ev, "file", x->rb->path ? x->rb->path : "");
	cJSON_AddStringToObject(ev, "mode", dr_mode_name(x->o.mode));
	cJSON_AddStringToObject(ev, "direction", dr_mode_direction_name(x->o.direction));
	cJSON_AddStringToObject(ev, "clock", dr_clock_kind_name(dr_clock_kind_of(x->clock)));
	cJSON_AddNumberToObject(ev, "seed", (double)x->seed);
	if (x->limit > 0)
		cJSON_AddNumberToObject(ev, "concurrency", (double)x->limit);
	else
		cJSON_AddNullToObject(ev, "concurrency");
	cJSON_AddItemToObject(ev, "params", x->params ? cJSON_Duplicate(x->params, true) : cJSON_CreateObject());
	cJSON_AddNumberToObject(ev, "steps", (double)x->n_main);
	cJSON_AddNumberToObject(ev, "finally", (double)x->n_fin);
	cJSON_AddNumberToObject(ev, "vms", (double)x->n_vms);
	if (x->o.auto_approve)
		cJSON_AddBoolToObject(ev, "auto_approve", true);
	dr_events_emit(x->ev, ev);
}

/* --- status ---------------------------------------------------------- */

static bool any_failed(const srun *runs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (runs[i].failed && !runs[i].tolerated)
			return true;
	return false;
}

static dr_run_status compute_status(const dr_exec *x)
{
	if (x->internal_error)
		return DR_RUN_INTERNAL;
	if (journal_signalled(x))
		return DR_RUN_CANCELLED; /* a signal during the replay: nothing of the session happened */
	if (journal_suspended(x))
		return DR_RUN_FAILED; /* resume stopped before the run could go on: not over, not succeeded */
	if (dr_report_dr_failed(x->model))
		return DR_RUN_FAILED; /* a drill left test VMs behind */
	if (x->cancelled)
		return DR_RUN_CANCELLED;
	if (any_failed(x->main, x->n_main) || x->run_timed_out) {
		bool complete = x->n_units && !x->rollback_failed && !x->rollback_blocked && !x->n_not_undone &&
				x->ph >= PH_FINALLY;
		return complete ? DR_RUN_ROLLED_BACK : DR_RUN_FAILED;
	}
	if (any_failed(x->fin, x->n_fin))
		return DR_RUN_FAILED;
	if (x->model->objectives_failed)
		return DR_RUN_FAILED; /* every step done, but an enforced objective was missed (objectives.enforce) */
	return DR_RUN_SUCCEEDED;
}

/* --- phases ---------------------------------------------------------- */

static void emit_rollback_end(dr_exec *x)
{
	cJSON *ev = dr_event_new(x->ev, "rollback.end");
	size_t done = 0, failed = 0;
	for (size_t i = 0; i < x->n_units; i++) {
		done += x->units[i]->state == SS_SUCCEEDED;
		failed += x->units[i]->state == SS_FAILED;
	}
	bool complete = !x->rollback_failed && !x->cancelled && !x->run_timed_out && done == x->n_units;
	cJSON_AddStringToObject(ev, "status", complete ? "complete" : "incomplete");
	cJSON_AddNumberToObject(ev, "units", (double)x->n_units);
	cJSON_AddNumberToObject(ev, "succeeded", (double)done);
	cJSON_AddNumberToObject(ev, "failed", (double)failed);
	if (!complete && x->rollback_reason)
		cJSON_AddStringToObject(ev, "reason", x->rollback_reason);
	dr_events_emit(x->ev, ev);
	if (!complete)
		x->rollback_failed = true;
}

static void start_finally(dr_exec *x)
{
	x->ph = PH_FINALLY;
	x->stopping = false;
	x->status = compute_status(x);
	sched_active_reset(x);
	sched_release_phase(x, x->fin, x->n_fin);
}

static void next_phase(dr_exec *x)
{
	if (x->ph == PH_MAIN && x->rollback_wanted && !x->cancelled && !x->run_timed_out) {
		rollback_build(x);
		if (x->n_units) {
			x->ph = PH_ROLLBACK;
			x->stopping = false;
			sched_active_reset(x);
			x->phase_left = x->n_units;
			sched_release_srun(x, x->units[0]);
			return;
		}
		emit_rollback_end(x);
	} else if (x->ph == PH_ROLLBACK) {
		emit_rollback_end(x);
	} else if (x->ph == PH_FINALLY) {
		x->ph = PH_DONE;
		return;
	}
	start_finally(x);
}

/* --- the loop -------------------------------------------------------- */

static void internal_error(dr_exec *x, const char *msg)
{
	if (!x->internal_error)
		x->internal_error = xstrdup(msg);
}

void exec_state_failed(dr_exec *x, const char *cause)
{
	if (x->state_error)
		return;
	size_t n = strlen(cause);
	while (n && cause[n - 1] == '\n')
		n--;
	x->state_error = xstrndup(cause, n);
	internal_error(x, dr_arena_printf(x->a, "the run's state could not be saved: %s; no operation was started after "
						"that",
					  x->state_error));
}

/* Wait for something to happen; hands back the mailbox. Returns false when nothing ever can. */
static bool wait_for_work(dr_exec *x, task **mail, int *signals)
{
	pthread_mutex_lock(&x->mu);
	bool ok = true;
	for (;;) {
		if (x->mb_head || x->sig_new || x->wake_new)
			break;
		int64_t next = timers_next(&x->timers);
		if (next <= dr_clock_now(x->clock))
			break;
		bool may_jump = x->busy == 0 && !x->expect_signal;
		if (may_jump && next == DR_CLOCK_NEVER && dr_clock_kind_of(x->clock) == DR_CLOCK_VIRTUAL) {
			ok = false;
			break;
		}
		dr_clock_wait(x->clock, &x->mu, &x->cv, next, may_jump);
	}
	*mail = x->mb_head;
	x->mb_head = x->mb_tail = NULL;
	*signals = x->sig_new;
	x->sig_new = 0;
	x->wake_new = false;
	int last = x->sig_last;
	pthread_mutex_unlock(&x->mu);
	if (*signals)
		x->signo = last;
	return ok;
}

static void handle(dr_exec *x, task *mail, int signals)
{
	if (signals) {
		x->expect_signal = false;
		sched_cancel_run(x, x->signo == SIGTERM ? "cancelled (SIGTERM)" : "cancelled (SIGINT)", false);
	}
	while (mail) {
		task *t = mail;
		mail = t->next;
		x->busy--;
		sched_outcome(x, t, t->result);
	}
	timer tm;
	while (timers_pop_due(&x->timers, dr_clock_now(x->clock), &tm))
		sched_fire(x, &tm);
}

static void run_loop(dr_exec *x)
{
	while (x->ph != PH_DONE) {
		int replay = journal_replay(x); /* resume: the journal's next record instead of launching */
		if (replay < 0)
			return;
		if (!replay)
			sched_pump(x);
		if (journal_turn(x))
			continue; /* held calls were issued: launch what they made ready */
		if (x->stopping && sched_phase_quiet(x))
			sched_settle_phase(x);
		if (x->phase_left == 0) {
			next_phase(x);
			continue;
		}
		if (replay)
			continue;
		task *mail;
		int signals;
		/* with a journal, journal_idle flushes the backend before it writes: no record names a job it could forget */
		if (!journal_idle(x)) {
			dr_buf why;
			dr_buf_init(&why);
			if (dr_exec_backend_flush(x, &why) < 0)
				exec_state_failed(x, why.data);
			dr_buf_dispose(&why);
		}
		if (!wait_for_work(x, &mail, &signals)) {
			internal_error(x, "the scheduler stalled: tasks wait for something that can never happen "
					  "(a bug in drover; please report it with the runbook)");
			return;
		}
		handle(x, mail, signals);
	}
}

static void arm_timers(dr_exec *x)
{
	if (x->run_deadline != DR_CLOCK_NEVER)
		timers_push(&x->timers, x->run_deadline, TM_RUN, NULL, 0);
	if (x->o.signal_at_ms >= 0)
		timers_push(&x->timers, x->o.signal_at_ms, TM_SIGNAL_HOOK, NULL, 0);
	if (x->view && x->o.view == DR_VIEW_LIVE && dr_clock_kind_of(x->clock) == DR_CLOCK_REAL)
		timers_push(&x->timers, TICK_MS, TM_TICK, NULL, 0);
}

/* --- the end --------------------------------------------------------- */

static cJSON *step_counts(const srun *runs, size_t n)
{
	size_t c[SS__COUNT] = {0};
	for (size_t i = 0; i < n; i++)
		c[runs[i].state]++;
	cJSON *o = cJSON_CreateObject();
	for (int s = 0; s < SS__COUNT; s++)
		if (c[s])
			cJSON_AddNumberToObject(o, sched_sstate_name((sstate)s), (double)c[s]);
	return o;
}

static void emit_run_end(dr_exec *x, dr_buf *err)
{
	dr_event_fields f = {.type = "run.end",
			     .status = dr_run_status_name(x->status),
			     .reason = x->stop_reason,
			     .elapsed_ms = dr_clock_now(x->clock)};
	dr_events_tell(x->ev, &f);
	cJSON *ev = dr_event_new(x->ev, "run.end");
	cJSON_AddStringToObject(ev, "status", dr_run_status_name(x->status));
	cJSON_AddNumberToObject(ev, "exit", dr_exec_exit_code(x->status));
	cJSON_AddNumberToObject(ev, "elapsed_ms", (double)dr_clock_now(x->clock));
	if (x->main) {
		cJSON_AddItemToObject(ev, "steps", step_counts(x->main, x->n_main));
		cJSON_AddItemToObject(ev, "finally", step_counts(x->fin, x->n_fin));
	}
	if (x->stop_reason)
		cJSON_AddStringToObject(ev, "reason", x->stop_reason);
	if (x->n_not_undone) {
		cJSON *a = cJSON_AddArrayToObject(ev, "not_undone");
		for (size_t i = 0; i < x->n_not_undone; i++)
			cJSON_AddItemToArray(a, cJSON_CreateString(x->not_undone[i]));
	}
	if (x->barrier_step)
		cJSON_AddStringToObject(ev, "rollback_barrier", x->barrier_step);
	if (journal_suspended(x) && !journal_signalled(x)) /* the journal keeps it as run.suspend: the run is not over */
		cJSON_AddBoolToObject(ev, "suspended", true);
	if (!(err && err->len) && x->internal_error)
		cJSON_AddStringToObject(ev, "error", x->internal_error);
	if (x->state_error) /* the journal could not record it: a resume goes on once the disk takes writes */
		cJSON_AddStringToObject(ev, "state_error", x->state_error);
	if (err && err->len) {
		cJSON_AddStringToObject(ev, "error", err->data);
		cJSON *it = cJSON_GetObjectItemCaseSensitive(ev, "error");
		size_t n = strlen(it->valuestring);
		if (n && it->valuestring[n - 1] == '\n')
			it->valuestring[n - 1] = '\0';
	}
	dr_events_emit(x->ev, ev);
}

static dr_run_status refuse(dr_exec *x, dr_buf *err, const char *why, dr_run_status st)
{
	if (st != DR_RUN_BLOCKED) /* a blocked run's err says it all (exec_preflight.c) */
		dr_buf_printf(err, "nothing was run: %s\n", why);
	x->status = x->cancelled_early		  ? DR_RUN_CANCELLED
		    : st != DR_RUN_INVALID ? st
		    : x->lock_busy	  ? DR_RUN_BUSY
		    : x->lock_stale	  ? DR_RUN_STALE
					  : st;
	emit_run_end(x, err);
	if (x->view)
		dr_progress_final(x->view);
	return x->status;
}

static int start_threads(dr_exec *x, dr_buf *err)
{
	if (!x->o.handle_signals)
		return 0;
	int rc = signals_start(x);
	if (rc)
		dr_buf_printf(err, "internal error: cannot start the signal thread: %s; nothing was run\n", strerror(rc));
	return rc;
}

/* Parameters and inventory; NULL when the run may start, else why it may not (err has the details). */
static const char *bind_all(dr_exec *x, dr_buf *err)
{
	if (!bind_params(x, err))
		return "the parameters above are wrong";
	if ((x->o.journal || x->o.resume) && lookup_load_secrets(x, err) < 0)
		return "the secrets above cannot be read; fix them, then run again";
	if (exec_backend_open(x, err) < 0)
		return "the backend could not be opened";
	if (!bind_inventory(x, err))
		return "the backend could not list the VMs it protects";
	return NULL;
}

/*
 * A signal before the run started (while drover compiled the runbook, bound the backend, checked the plan):
 * the run is refused, nothing was run (status cancelled). A resume's replay looks for itself (resume.c).
 */
static const char *signalled_before(dr_exec *x)
{
	int sig = x->o.resume || !x->o.handle_signals ? 0 : signals_pending(x);
	if (!sig)
		return NULL;
	x->cancelled_early = true;
	return sig == SIGTERM ? "cancelled (SIGTERM) before the run started; run it again when ready"
			      : "cancelled (SIGINT) before the run started; run it again when ready";
}

static void set_flag(dr_exec *x, bool *flag)
{
	pthread_mutex_lock(&x->mu);
	*flag = true;
	pthread_mutex_unlock(&x->mu);
}

/* The run model is fed unless no one reads it and the run's status does not depend on it (model_unread). */
static bool model_fed(const dr_exec *x)
{
	return !x->o.model_unread || x->o.model || x->o.screen || x->o.events || x->o.mode == DR_MODE_DRILL ||
	       x->rb->enforce == DR_ENFORCE_ALWAYS;
}

/* The run proper: the phases, then the end. */
static dr_run_status execute(dr_exec *x, dr_buf *err)
{
	arm_timers(x);
	dr_backend_caller_retries(dr_exec_backend(x), true); /* the steps' retry: is the only retry policy */
	sched_release_phase(x, x->main, x->n_main);
	run_loop(x);
	workers_stop(x);
	dr_backend_caller_retries(dr_exec_backend(x), false);
	signals_stop(x);
	dr_exec_backend_flush(x, err);
	if (model_fed(x))
		dr_report_dr_finish(x->model, x->ev, dr_exec_backend(x), dr_exec_wall(x, dr_clock_now(x->clock)),
				    x->o.mode == DR_MODE_DRILL);
	order_finish(x); /* this run's durations into the history */
	x->status = compute_status(x);
	if (x->internal_error)
		dr_buf_printf(err, "internal error: %s\n", x->internal_error);
	emit_run_end(x, NULL);
	if (x->view)
		dr_progress_final(x->view);
	if (x->o.screen)
		dr_summary_print(x->model, x->o.screen);
	return x->status;
}

/*
 * The run model every view reads (journal/runinfo.h): the runbook's steps
 * in its order (as the journal's header declares them), its objectives, a
 * resumed run's journal, then every event, folded by the first listener of
 * the stream.
 */
static void model_open(dr_exec *x)
{
	dr_runinfo *ri = x->model = x->o.model ? x->o.model : &x->own_model;
	if (ri == &x->own_model)
		dr_runinfo_init(ri);
	for (size_t i = 0; i < x->rb->n_steps; i++)
		dr_runinfo_declare_step(ri, x->rb->steps[i].id.name, NULL, x->rb->steps[i].action_name.name);
	for (size_t i = 0; i < x->rb->n_finally; i++)
		dr_runinfo_declare_step(ri, x->rb->finally_steps[i].id.name, "finally",
					x->rb->finally_steps[i].action_name.name);
	ri->rto_objective_ms = x->rb->rto_ms;
	ri->rpo_objective_ms = x->rb->rpo_ms;
	ri->enforce = dr_enforce_name(x->rb->enforce);
	ri->journal = x->o.journal || x->o.resume;
	ri->state_dir = x->state_dir; /* the commands its summary gives say --state-dir when it is not the default */
	if (x->o.resume) /* what the replay retells is the journal's: the model starts from it */
		dr_runinfo_seed(ri, x->o.resume);
	if (model_fed(x))
		dr_runinfo_listen(ri, x->ev);
}

/* err, the caller prints it: a backend's refusal may echo a secret the runbook gave it (a vault's name). */
static void redact_err(dr_exec *x, dr_buf *err)
{
	char *r = err->len ? dr_secrets_redact(dr_events_secrets(x->ev), err->data) : NULL;
	if (!r)
		return;
	dr_buf_reset(err);
	dr_buf_puts(err, r);
	free(r);
}

/* --quiet prints only the summary, and what a person must answer: a run waiting for approval says so. */
static void quiet_event(void *ctx, const cJSON *ev)
{
	const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "event");
	if (!cJSON_IsString(type) || (strcmp(type->valuestring, "approval.request") &&
				      strcmp(type->valuestring, "run.cancel") && strcmp(type->valuestring, "run.timeout")))
		return; /* a person waited on, and a stop a person caused or must know of: a line each */
	cJSON *safe = dr_lines_term_event(ev);
	dr_buf b;
	dr_buf_init(&b);
	if (dr_lines_format(&b, safe ? safe : ev, false)) {
		fprintf(ctx, "%s\n", b.data);
		fflush(ctx);
	}
	dr_buf_dispose(&b);
	cJSON_Delete(safe);
}

dr_run_status dr_exec_run(dr_runbook *rb, const dr_exec_opts *o, dr_buf *err)
{
	if (!rb || !rb->plan || !rb->plan->acyclic) {
		dr_buf_puts(err, "the runbook has errors (see 'drover validate'); nothing was run\n");
		return DR_RUN_INVALID;
	}
	dr_exec *x = exec_new(rb, o);
	model_open(x);
	if (o->screen && o->view != DR_VIEW_QUIET) {
		dr_progress_opts po = {.out = o->screen, .live = o->view == DR_VIEW_LIVE, .color = o->color,
				       .verbose = o->verbose, .model = x->model, .clock = x->clock};
		x->view = dr_progress_new(&po);
		dr_events_listen(x->ev, dr_progress_event, x->view);
	} else if (o->screen) {
		dr_events_listen(x->ev, quiet_event, o->screen);
	}
	/* signals first: a Ctrl-C while a resume reads and replays its journal counts, and a second one exits */
	bool threads = start_threads(x, err) == 0;
	const char *why = threads ? signalled_before(x) : NULL; /* a Ctrl-C while the runbook compiled */
	if (threads && !why)
		why = journal_prepare(x, err);
	if (threads && !why)
		why = bind_all(x, err);
	if (threads && !why)
		why = signalled_before(x); /* before the journal: nothing is left behind */
	x->n_main = rb->plan->n_main;
	x->n_fin = rb->plan->n - rb->plan->n_main;
	emit_run_start(x);
	if (threads && !why && !(why = journal_open(x, err)) && x->jr)
		set_flag(x, &x->journaled);
	const char *blocked = !threads || why ? NULL : exec_preflight(x, err);
	if (threads && !why && !blocked)
		why = signalled_before(x); /* the journal says it ended cancelled, with nothing run */
	if (threads && !why && !blocked)
		order_open(x); /* the duration history, for longest-first steps */
	dr_run_status st;
	if (!threads) {
		x->status = st = DR_RUN_INTERNAL;
		emit_run_end(x, err);
	} else if (why || blocked) {
		signals_stop(x);
		st = refuse(x, err, why ? why : blocked, why ? DR_RUN_INVALID : DR_RUN_BLOCKED);
	} else {
		build_sruns(x);
		set_flag(x, &x->started);
		st = execute(x, err);
	}
	redact_err(x, err);
	bool held = signals_late_prepare(x, st); /* a late Ctrl-C waits until the journal is closed */
	exec_free(x);
	if (held)
		signals_late_arm();
	return st;
}

/* --- services to actions --------------------------------------------- */

bool dr_exec_cancelled(const dr_call *call)
{
	return call && call->cancel_requested && __atomic_load_n(call->cancel_requested, __ATOMIC_RELAXED);
}

int64_t dr_exec_now(dr_exec *x)
{
	return x ? dr_clock_now(x->clock) : 0;
}

int64_t dr_exec_wall(dr_exec *x, int64_t t)
{
	return x ? dr_clock_wall_at(x->clock, t) : DR_CLOCK_VIRTUAL_EPOCH_MS + t;
}

static task *call_task(const dr_call *call)
{
	/* The call is embedded in its task (sched.c fills task->call). */
	return (task *)((char *)call - offsetof(task, call));
}

cJSON *dr_exec_event(dr_exec *x, const dr_call *call, const char *type)
{
	if (!x)
		return cJSON_CreateObject();
	task *t = call_task(call);
	return sched_event(x, type, t->s, t);
}

void dr_exec_emit(dr_exec *x, cJSON *ev)
{
	if (!x) {
		cJSON_Delete(ev);
		return;
	}
	dr_events_emit(x->ev, ev);
}

void dr_exec_wake(dr_exec *x)
{
	if (!x)
		return;
	pthread_mutex_lock(&x->mu);
	x->wake_new = true;
	pthread_cond_signal(&x->cv);
	pthread_mutex_unlock(&x->mu);
}

bool dr_exec_outputs_unread(const dr_call *call)
{
	dr_exec *x = call->run;
	const task *t = call->sched_task;
	return x && t && !t->s->outputs_read && !x->all_outputs_read && !fallback_running(t) &&
	       !dr_events_json_wanted(x->ev);
}

bool dr_exec_logs_read(dr_exec *x)
{
	return x && dr_events_json_wanted(x->ev); /* a log line is JSON only: no one reads it on the typed path */
}

void dr_exec_log(dr_exec *x, const dr_call *call, const char *level, const char *message)
{
	if (!dr_exec_logs_read(x))
		return;
	cJSON *ev = dr_exec_event(x, call, "log");
	cJSON_AddStringToObject(ev, "level", level ? level : "info");
	cJSON_AddStringToObject(ev, "message", message ? message : "");
	dr_events_emit(x->ev, ev);
}

const char *dr_exec_run_id(dr_exec *x)
{
	return x ? x->run_id : "test-run";
}

const char *dr_exec_run_dir(dr_exec *x)
{
	return x ? x->run_dir : ".drover/runs/test-run";
}

const char *dr_exec_state_dir(dr_exec *x)
{
	return x ? x->state_dir : ".drover";
}

const char *dr_exec_runbook_dir(dr_exec *x)
{
	return x ? x->rb_dir : ".";
}

bool dr_exec_auto_approve(dr_exec *x)
{
	return x && x->o.auto_approve;
}

bool dr_exec_prompt_claim(dr_exec *x, const dr_call *call)
{
	if (!x || !x->o.interactive)
		return false;
	pthread_mutex_lock(&x->prompt_mu);
	bool mine = !x->prompt_owner || x->prompt_owner == call;
	if (mine && !x->prompt_owner) {
		x->prompt_owner = call;
		if (x->view)
			dr_progress_pause(x->view, true);
	}
	pthread_mutex_unlock(&x->prompt_mu);
	return mine;
}

void dr_exec_prompt_release(dr_exec *x, const dr_call *call)
{
	if (!x)
		return;
	pthread_mutex_lock(&x->prompt_mu);
	if (x->prompt_owner == call) {
		x->prompt_owner = NULL;
		if (x->view)
			dr_progress_pause(x->view, false);
	}
	pthread_mutex_unlock(&x->prompt_mu);
}

void dr_exec_say(dr_exec *x, const char *text)
{
	if (x && x->view)
		dr_progress_say(x->view, text);
	else if (x && x->o.screen) {
		dr_buf b;
		dr_buf_init(&b);
		dr_text_escape_term(&b, text, strlen(text), DR_TEXT_KEEP_NEWLINE);
		fprintf(x->o.screen, "%s\n", b.data);
		dr_buf_dispose(&b);
	}
}

void dr_exec_task_label(const dr_call *call, char *out, size_t outsz)
{
	const char *id = call && call->step ? call->step->id.name : "?";
	if (call && call->target)
		snprintf(out, outsz, "%s[%s]", id, call->target->name);
	else
		snprintf(out, outsz, "%s", id);
}

char *dr_exec_redact(dr_exec *x, const char *text)
{
	char *r = x ? dr_secrets_redact(dr_events_secrets(x->ev), text) : NULL;
	return r ? r : xstrdup(text ? text : "");
}

char *dr_exec_redact_cut(dr_exec *x, const char *text, size_t len, size_t max, bool *cut)
{
	if (x)
		return dr_secrets_redact_cut(dr_events_secrets(x->ev), text, len, max, cut);
	size_t keep = dr_text_utf8_prefix(text, len, max);
	*cut = keep < len;
	return xstrndup(text, keep);
}

size_t dr_exec_secret_slack(dr_exec *x)
{
	return x ? dr_secrets_slack(dr_events_secrets(x->ev)) : 0;
}
