/*
 * sched.c - the scheduler's state transitions (docs/execution.md has the
 * diagram).
 *
 *   pending --unblocked--> ready --launch--> running --OK--> succeeded
 *      |                     ^                 |  ^
 *      |                     |                 |  +--resume-- waiting <--WAIT--+
 *      |                     +--delay over-- retrying <--FAIL, retried--------+
 *      +--when: false / upstream failed--> skipped      FAIL, final --> failed
 *   any state not yet final --stop/cancel--> cancelled
 *
 * Every function here runs on the scheduler thread. A task's gen is bumped
 * on every transition so timers set for an older state are ignored. The
 * counts of running tasks (per step and for the run) include RUNNING and
 * WAITING tasks: a task holds its concurrency slot while its action waits,
 * and gives it back while it waits for a retry.
 */
#include "run/exec_int.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "journal/journal.h"
#include "util/buf.h"
#include "util/text.h"
#include "util/xalloc.h"
#include "views/progress.h"

static const char *const tstate_names[TS__COUNT] = {
	"pending", "ready", "running", "waiting", "retrying", "succeeded", "failed", "skipped", "cancelled",
	"rolled_back",
};
static const char *const sstate_names[SS__COUNT] = {
	"pending", "running", "succeeded", "failed", "skipped", "cancelled", "rolled_back",
};

const char *sched_tstate_name(tstate s)
{
	return tstate_names[s];
}

const char *sched_sstate_name(sstate s)
{
	return sstate_names[s];
}

static bool is_final(tstate s)
{
	return s >= TS_SUCCEEDED;
}

static bool is_active(tstate s)
{
	return s == TS_RUNNING || s == TS_WAITING;
}

static void active_room(dr_exec *x, srun *s);

static int64_t now(dr_exec *x)
{
	return dr_clock_now(x->clock);
}

/* The step runs of the current phase. */
static size_t phase_size(const dr_exec *x)
{
	switch (x->ph) {
	case PH_MAIN: return x->n_main;
	case PH_ROLLBACK: return x->n_units;
	case PH_FINALLY: return x->n_fin;
	default: return 0;
	}
}

static srun *phase_at(dr_exec *x, size_t i)
{
	return x->ph == PH_MAIN ? &x->main[i] : x->ph == PH_ROLLBACK ? x->units[i] : &x->fin[i];
}

static void set_state(task *t, tstate s)
{
	t->state = s;
	t->gen++;
}

/* printf into a new heap string. */
__attribute__((format(printf, 1, 2))) static char *heap_printf(const char *fmt, ...)
{
	va_list ap;
	dr_buf b;
	dr_buf_init(&b);
	va_start(ap, fmt);
	dr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return dr_buf_detach(&b);
}

static void take_message(task *t, char *msg)
{
	free(t->message);
	t->message = msg;
}

/* --- events ---------------------------------------------------------- */

static const char *const phase_names[] = {[PH_MAIN] = NULL, [PH_ROLLBACK] = "rollback", [PH_FINALLY] = "finally"};

cJSON *sched_event(dr_exec *x, const char *type, const srun *s, const task *t)
{
	cJSON *ev = dr_event_new(x->ev, type);
	if (s) { /* the ids and names live as long as the run: the event refers to them (dr_event_add_name) */
		dr_event_add_name(ev, "step", s->id);
		if (s->ph != PH_MAIN && s->ph != PH_DONE)
			dr_event_add_name(ev, "phase", phase_names[s->ph]);
		if (s->undoes) {
			dr_event_add_name(ev, "undoes", s->undoes->id);
			dr_event_add_name(ev, "action", s->act ? s->act->name : s->st->action_name.name);
		}
	}
	if (t && t->vm != NO_VM)
		dr_event_add_name(ev, "target", x->vms[t->vm].name);
	return ev;
}

static void emit(dr_exec *x, cJSON *ev)
{
	dr_events_emit(x->ev, ev);
}

/* A task event's fields on the typed path (events.h): the step, phase and target sched_event puts in its JSON. */
static dr_event_fields task_fields(const dr_exec *x, const char *type, const task *t)
{
	const srun *s = t->s;
	return (dr_event_fields){
		.type = type, .step = s->id, .phase = s->ph != PH_MAIN && s->ph != PH_DONE ? phase_names[s->ph] : NULL,
		.target = t->vm != NO_VM ? x->vms[t->vm].name : NULL, .elapsed_ms = -1,
	};
}

/* Told on the typed path; built as JSON only when someone reads JSON (no one does in plan --estimate). */
static void emit_task_end(dr_exec *x, task *t, const char *status, bool will_retry, int64_t retry_after)
{
	dr_event_fields f = task_fields(x, "task.end", t);
	f.status = status;
	if (strcmp(status, "succeeded") != 0) {
		f.klass = dr_err_class_name(t->cls);
		f.message = t->message ? t->message : "";
		f.will_retry = will_retry;
	}
	f.elapsed_ms = now(x) - t->attempt_at;
	dr_events_tell(x->ev, &f);
	if (!dr_events_json_wanted(x->ev)) {
		if (t->outputs && !t->s->outputs_read && !x->all_outputs_read) { /* as the event would have taken them */
			cJSON_Delete(t->outputs);
			t->outputs = NULL;
		}
		return;
	}
	cJSON *ev = sched_event(x, "task.end", t->s, t);
	cJSON_AddItemToObjectCS(ev, "attempt", cJSON_CreateNumber(t->attempt));
	dr_event_add_name(ev, "status", status);
	if (t->attempt > 0 && t->live_attempt && !t->called) /* a held mutating call that was never made */
		cJSON_AddBoolToObject(ev, "called", false);
	if (strcmp(status, "succeeded") != 0) {
		cJSON_AddStringToObject(ev, "class", dr_err_class_name(t->cls));
		cJSON_AddStringToObject(ev, "message", t->message ? t->message : "");
		cJSON_AddBoolToObject(ev, "will_retry", will_retry);
		if (!will_retry && t->not_retried)
			cJSON_AddStringToObject(ev, "not_retried", t->not_retried);
		if (retry_after >= 0)
			cJSON_AddNumberToObject(ev, "retry_after_ms", (double)retry_after);
	}
	cJSON_AddNumberToObject(ev, "elapsed_ms", (double)(now(x) - t->attempt_at));
	if (t->outputs && (t->s->outputs_read || x->all_outputs_read)) {
		cJSON_AddItemToObject(ev, "outputs", cJSON_Duplicate(t->outputs, true));
	} else if (t->outputs) { /* no template reads them: the event takes them (lookup_mark_reads) */
		cJSON_AddItemToObject(ev, "outputs", t->outputs);
		t->outputs = NULL;
	}
	emit(x, ev);
}

static void emit_task_note(dr_exec *x, task *t, const char *type)
{
	if (!dr_events_json_wanted(x->ev))
		return;
	cJSON *ev = sched_event(x, type, t->s, t);
	cJSON_AddStringToObject(ev, "reason", t->why ? t->why : "");
	emit(x, ev);
}

/* --- lookups --------------------------------------------------------- */

task *sched_task_for_vm(srun *s, size_t vm)
{
	size_t lo = 0, hi = s->n_tasks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->tasks[mid].vm == vm)
			return &s->tasks[mid];
		if (s->tasks[mid].vm < vm)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

srun *sched_find(dr_exec *x, const char *id)
{
	size_t i = x->plan ? dr_plan_index(x->plan, id) : (size_t)-1;
	if (i != (size_t)-1)
		return i < x->n_main ? &x->main[i] : &x->fin[i - x->n_main];
	for (size_t u = 0; u < x->n_units; u++)
		if (!x->units[u]->undoes && strcmp(x->units[u]->id, id) == 0)
			return x->units[u];
	return NULL;
}

/* --- steps ----------------------------------------------------------- */

/* Emit ev; a resume marks it replayed when the journal has it already (the journal's hook leaves it out). */
static void emit_told(dr_exec *x, cJSON *ev, const srun *s, const task *t)
{
	if (journal_told(x, ev, s, t))
		cJSON_AddBoolToObject(ev, "replayed", true);
	emit(x, ev);
}

static void mark_started(dr_exec *x, srun *s)
{
	if (s->started)
		return;
	s->started = true;
	s->started_at = now(x);
	s->state = SS_RUNNING;
	s->timeout_from = s->started_at;
	order_step(x, s);
	cJSON *ev = sched_event(x, "step.start", s, NULL);
	cJSON_AddNumberToObject(ev, "tasks", (double)s->n_tasks);
	if (s->ordered) {
		cJSON_AddStringToObject(ev, "order", "longest-first");
		cJSON_AddNumberToObject(ev, "known", (double)s->n_known);
	}
	emit_told(x, ev, s, NULL);
	if (s->timeout >= 0)
		timers_push(&x->timers, s->started_at + s->timeout, TM_STEP, s, s->tgen);
}

static sstate final_sstate(const srun *s)
{
	if (s->n_skipped == s->n_tasks)
		return SS_SKIPPED;
	if (s->failed)
		return SS_FAILED;
	if (s->n_cancelled)
		return SS_CANCELLED;
	return SS_SUCCEEDED;
}

void sched_emit_step_end(dr_exec *x, srun *s)
{
	cJSON *ev = sched_event(x, "step.end", s, NULL);
	cJSON_AddStringToObject(ev, "status", sched_sstate_name(s->state));
	cJSON_AddNumberToObject(ev, "tasks", (double)s->n_tasks);
	cJSON_AddNumberToObject(ev, "succeeded", (double)s->n_ok);
	cJSON_AddNumberToObject(ev, "failed", (double)s->n_failed);
	cJSON_AddNumberToObject(ev, "skipped", (double)s->n_skipped);
	cJSON_AddNumberToObject(ev, "cancelled", (double)s->n_cancelled);
	if (s->started)
		cJSON_AddNumberToObject(ev, "elapsed_ms", (double)(s->ended_at - s->started_at));
	if (s->fail_reason)
		cJSON_AddStringToObject(ev, "reason", s->fail_reason);
	if (s->failed)
		cJSON_AddBoolToObject(ev, "tolerated", s->tolerated);
	if (s->undoes && s->undoes->state == SS_ROLLED_BACK && s->group_last) /* this unit's end undid its step */
		cJSON_AddBoolToObject(ev, "rolled_back", true);
	emit_told(x, ev, s, NULL);
}

static void task_unblocked(dr_exec *x, task *t);

static void unblock(dr_exec *x, task *t)
{
	if (t->blockers && --t->blockers == 0 && t->state == TS_PENDING)
		task_unblocked(x, t);
}

static void step_end(dr_exec *x, srun *s);

/* A step without tasks (its VM sets are empty) ends as soon as what it needs has ended. */
static void end_empty(dr_exec *x, srun *s)
{
	if (x->stopping || s->state != SS_PENDING)
		return; /* when stopping: settled as cancelled */
	mark_started(x, s);
	s->fail_reason = "no VM matched its targets";
	step_end(x, s);
}

/* What s's ending means for the steps that need it. */
static void release_succ(dr_exec *x, srun *s)
{
	for (size_t i = 0; i < s->n_succ; i++) {
		srun *n = s->succ[i];
		n->deps_left--;
		for (size_t k = 0; !s->succ_pipe[i] && k < n->n_tasks; k++)
			unblock(x, &n->tasks[k]);
		if (n->n_tasks == 0 && n->deps_left == 0)
			end_empty(x, n);
	}
}

static const char *counted_reason(dr_exec *x, const srun *s)
{
	return dr_arena_printf(x->a, "%zu of %zu tasks failed (max_failures allows %lld)", s->n_failed, s->n_tasks,
			       (long long)s->allowed_failures);
}

/* A step that failed when too many of its tasks had failed says how many failed in the end ("12 of 12"). */
static void restate_failure(dr_exec *x, srun *s)
{
	if (!s->fail_counted)
		return;
	s->fail_reason = counted_reason(x, s);
	if (x->stop_step == s)
		x->stop_reason = dr_arena_printf(x->a, "step '%s' failed: %s", s->id, s->fail_reason);
}

static void step_end(dr_exec *x, srun *s)
{
	s->ended_at = now(x);
	s->state = s->n_tasks ? final_sstate(s) : x->stopping ? SS_CANCELLED : SS_SKIPPED;
	restate_failure(x, s);
	if (s->ph == PH_ROLLBACK)
		rollback_unit_done(x, s); /* before its step.end, which says when it undid its step */
	sched_emit_step_end(x, s);
	x->phase_left--;
	release_succ(x, s);
}

/* --- failure policies ------------------------------------------------ */

static void finalize_retrying(dr_exec *x);

static void stop(dr_exec *x, srun *s, const char *reason, const char *policy)
{
	if (x->stopping)
		return;
	x->stopping = true;
	if (x->ph == PH_ROLLBACK) {
		x->rollback_reason = reason;
	} else {
		x->stop_step = s;
		x->stop_reason = reason;
	}
	dr_event_fields f = {.type = "run.stopping", .step = s ? s->id : NULL, .reason = reason, .elapsed_ms = -1};
	if (s && s->ph != PH_MAIN && s->ph != PH_DONE)
		f.phase = phase_names[s->ph];
	dr_events_tell(x->ev, &f);
	cJSON *ev = sched_event(x, "run.stopping", s, NULL);
	cJSON_AddStringToObject(ev, "reason", reason);
	cJSON_AddStringToObject(ev, "policy", policy);
	cJSON_AddNumberToObject(ev, "running", (double)x->n_active);
	emit(x, ev);
	finalize_retrying(x);
}

static dr_on_failure policy_of(const dr_exec *x, const srun *s)
{
	if (s->on_failure != DR_ONFAIL_INHERIT)
		return s->on_failure;
	return x->rb->on_failure != DR_ONFAIL_INHERIT ? x->rb->on_failure : DR_ONFAIL_STOP;
}

/* What the run does about a failed step (its on_failure, in its phase). */
static void apply_policy(dr_exec *x, srun *s, const char *reason)
{
	dr_on_failure p = policy_of(x, s);
	const char *why = dr_arena_printf(x->a, "step '%s' failed: %s", s->id, reason);
	if (s->ph == PH_FINALLY) {
		s->tolerated = p == DR_ONFAIL_CONTINUE; /* finally steps never stop each other */
	} else if (s->ph == PH_ROLLBACK) {
		x->rollback_failed = true;
		stop(x, s, why, "stop");
	} else if (p == DR_ONFAIL_CONTINUE) {
		s->tolerated = true;
	} else {
		x->rollback_wanted = x->rollback_wanted || p == DR_ONFAIL_ROLLBACK;
		stop(x, s, why, p == DR_ONFAIL_ROLLBACK ? "rollback" : "stop");
	}
}

static void step_failed(dr_exec *x, srun *s, const char *reason)
{
	if (s->failed)
		return;
	s->failed = true;
	s->fail_reason = reason;
	apply_policy(x, s, reason);
}

static void check_failures(dr_exec *x, srun *s)
{
	if (s->failed || (int64_t)s->n_failed <= s->allowed_failures)
		return;
	const char *reason;
	const task *t = &s->tasks[0];
	if (s->n_tasks == 1 && t->attempt > 1)
		reason = dr_arena_printf(x->a, "%s (after %d attempts)", t->message ? t->message : "failed", t->attempt);
	else if (s->n_tasks == 1)
		reason = t->message ? dr_arena_strdup(x->a, t->message) : "its task failed";
	else
		reason = counted_reason(x, s);
	s->fail_counted = s->n_tasks > 1;
	step_failed(x, s, reason);
}

/* --- finishing a task ------------------------------------------------ */

static void notify_pipelined(dr_exec *x, task *t)
{
	srun *s = t->s;
	for (size_t i = 0; i < s->n_succ; i++) {
		if (!s->succ_pipe[i])
			continue;
		task *u = sched_task_for_vm(s->succ[i], t->vm);
		if (!u)
			continue;
		if ((t->state == TS_FAILED || t->state == TS_CANCELLED) && !u->upstream_failed) {
			u->upstream_failed = true;
			u->why = dr_arena_printf(x->a, "step '%s' %s for this VM", s->id,
						 t->state == TS_FAILED ? "failed" : "was cancelled");
		}
		unblock(x, u);
	}
}

/* --- a person's wait (docs/execution.md, "Timeouts") ------------------- */

/*
 * task.person: t's wait for a person begins (waiting) or ends; journaled, so that a resume leaves it out of the limits
 * too. asked: what the service asks of the person (a begin's message), or NULL.
 */
static void emit_person(dr_exec *x, task *t, bool waiting, const char *asked)
{
	cJSON *ev = sched_event(x, "task.person", t->s, t);
	cJSON_AddNumberToObject(ev, "attempt", t->attempt);
	cJSON_AddBoolToObject(ev, "waiting", waiting);
	if (asked)
		cJSON_AddStringToObject(ev, "message", asked);
	emit(x, ev);
}

/* t's action waits for a person (asked: for what, or NULL): its attempt_timeout and its step's timeout stand still until it stops. */
static void person_begin(dr_exec *x, task *t, const char *asked)
{
	if (t->person)
		return;
	t->person = true;
	t->person_since = now(x);
	if (t->s->n_person++ == 0)
		t->s->person_since = t->person_since;
	emit_person(x, t, true, asked);
}

/* t's action no longer waits for a person: its limits go on with what was left of them. */
static void person_end(dr_exec *x, task *t)
{
	if (!t->person)
		return;
	srun *s = t->s;
	int64_t at = now(x);
	t->person = false;
	t->person_ms += at - t->person_since;
	emit_person(x, t, false, NULL);
	if (--s->n_person > 0)
		return;
	s->timeout_from += at - s->person_since;
	s->person_total += at - s->person_since;
	s->tgen++; /* the step's timer armed before is stale */
	if (s->timeout >= 0 && s->state == SS_RUNNING && !s->timed_out)
		timers_push(&x->timers, s->timeout_from + s->timeout, TM_STEP, s, s->tgen);
}

static void finish(dr_exec *x, task *t, tstate st)
{
	srun *s = t->s;
	person_end(x, t);
	if (is_active(t->state)) {
		s->n_active--;
		x->n_active--;
		active_room(x, s);
	}
	set_state(t, st);
	t->ended_at = now(x);
	t->done_seq = s->last_done = ++x->done_seq;
	s->n_done++;
	s->n_ok += st == TS_SUCCEEDED;
	s->n_failed += st == TS_FAILED;
	s->n_skipped += st == TS_SKIPPED;
	s->n_cancelled += st == TS_CANCELLED;
	notify_pipelined(x, t);
	if (st == TS_FAILED)
		check_failures(x, s); /* may stop the run, and give up its retrying tasks: the step may end in there */
	if (s->n_done == s->n_tasks && (s->state == SS_PENDING || s->state == SS_RUNNING))
		step_end(x, s);
}

static void skip(dr_exec *x, task *t, const char *why)
{
	t->why = why;
	cJSON *ev = sched_event(x, "task.skip", t->s, t);
	cJSON_AddStringToObject(ev, "reason", why ? why : "");
	emit_told(x, ev, t->s, t);
	finish(x, t, TS_SKIPPED);
}

static void cancel_task(dr_exec *x, task *t, const char *why)
{
	t->why = why;
	dr_event_fields f = task_fields(x, "task.cancel", t); /* the estimate: a validation cancelled leaves the RTO unreached */
	f.reason = why ? why : "";
	dr_events_tell(x->ev, &f);
	emit_task_note(x, t, "task.cancel");
	finish(x, t, TS_CANCELLED);
}

/* A failure before any attempt could start (evaluating when: or with:): final, never retried. */
static void fail_early_as(dr_exec *x, task *t, dr_err_class cls, char *msg)
{
	t->cls = cls;
	t->not_retried = NULL;
	t->reread = false;
	take_message(t, msg);
	emit_task_end(x, t, "failed", false, -1);
	finish(x, t, TS_FAILED);
}

static void fail_early(dr_exec *x, task *t, char *msg)
{
	fail_early_as(x, t, DR_ERRC_PERMANENT, msg);
}

/* --- when: and with: that read the service (docs/execution.md, "Retries") --- */

/* Whether t's evaluation that just failed on a read of the service (x->read_cls) is read again, per its step's retry:. */
static bool may_read_again(const dr_exec *x, const task *t, const char *msg)
{
	const srun *s = t->s;
	if (x->read_cls == DR_ERRC_NONE || x->read_cls == DR_ERRC_PERMANENT || x->stopping || s->timed_out)
		return false;
	return t->reads_failed + 1 < s->retry->attempts && dr_retry_covers(s->retry, x->read_cls, msg, NULL);
}

/*
 * t's when: or with: failed on a read the service may answer
 * later (throttled, transient): when its step's retry: allows, evaluate it
 * again after the delay retry: gives (the service's Retry-After when
 * longer), and say so. The task does not start meanwhile and holds no
 * slot; the re-reads are not attempts of its action. Takes msg when true.
 */
static bool read_again(dr_exec *x, task *t, char *msg)
{
	const srun *s = t->s;
	if (!may_read_again(x, t, msg) || journal_replaying(x))
		return false;
	t->reads_failed++;
	int64_t delay = dr_retry_delay(s->retry, t->reads_failed, x->read_retry_after, &x->rng, NULL);
	char d[32];
	dr_text_human_duration(delay, d, sizeof d);
	cJSON *ev = sched_event(x, "log", s, t);
	cJSON_AddStringToObject(ev, "level", "warn");
	cJSON_AddStringToObject(ev, "message",
				dr_arena_printf(x->a, "%s; reading it again in %s (read %d of %lld, the step's %s); "
						      "the task has not started",
						msg, d, t->reads_failed + 1, (long long)s->retry->attempts,
						s->retry == &dr_retry_builtin ? "built-in retry" : "retry:"));
	emit(x, ev);
	take_message(t, msg); /* the step's timeout says it, if it comes first */
	t->reread = true;
	timers_push(&x->timers, now(x) + delay, TM_REREAD, t, t->gen);
	return true;
}

/* The message of a task whose when:/with: failed for good: on a read of the service, what failed and what to do. */
static char *read_failed(dr_exec *x, const task *t, char *msg)
{
	const srun *s = t->s;
	char why[512];
	if (x->read_cls == DR_ERRC_NONE || x->stopping || s->timed_out)
		return msg;
	const char *next;
	if (x->read_cls == DR_ERRC_PERMANENT)
		next = "the service refused the read (check the VM's name or id and drover's access to the vault)";
	else if (t->reads_failed + 1 >= s->retry->attempts && s->retry->attempts > 1)
		next = dr_arena_printf(x->a, "read %d times, as the step's %s (attempts %lld) allows", t->reads_failed + 1,
				       s->retry == &dr_retry_builtin ? "built-in retry" : "retry:", (long long)s->retry->attempts);
	else if (s->retry == &dr_retry_builtin)
		next = "the step has no retry: (its built-in one reads again after throttled answers only); give it one "
		       "(retry: { attempts: 5, delay: 10s }) to read again after a transient answer";
	else if (s->retry->attempts <= 1)
		next = "the step has no retry: (attempts 1); give it one (retry: { attempts: 5, delay: 10s }) to read again "
		       "after a throttled or transient answer";
	else
		next = dr_retry_why_not(s->retry, x->read_cls, why, sizeof why) ? dr_arena_strdup(x->a, why) : "not retried";
	dr_buf c;
	dr_buf_init(&c);
	if (x->jr) { /* the exact command, as the summary's next: gives it */
		dr_buf_puts(&c, "retry the run (");
		dr_journal_command(&c, "resume", x->state_dir, x->run_id);
		dr_buf_puts(&c, " --retry-failed)");
	}
	char *m = heap_printf("%s; %s. The task did not start: nothing was asked of the service for it. Once the "
			      "service answers, %s",
			      msg, next, x->jr ? c.data : "run it again");
	free(msg);
	dr_buf_dispose(&c);
	return m;
}

/* t's when: or with: could not be evaluated (msg says where and why): read again later, or fail. */
static void eval_failed(dr_exec *x, task *t, char *msg)
{
	if (read_again(x, t, msg))
		return;
	dr_err_class cls = x->read_cls == DR_ERRC_NONE ? DR_ERRC_PERMANENT : x->read_cls;
	fail_early_as(x, t, cls, read_failed(x, t, msg));
}

/* A RETRYING task that will not get its next attempt: it ends with its last failure. */
static void give_up(dr_exec *x, task *t, const char *why)
{
	t->why = why;
	emit_task_note(x, t, "task.giveup");
	finish(x, t, TS_FAILED);
}

static void finalize_retrying(dr_exec *x)
{
	for (size_t i = 0; i < phase_size(x); i++) {
		srun *s = phase_at(x, i);
		for (size_t k = 0; k < s->n_tasks; k++)
			if (s->tasks[k].state == TS_RETRYING)
				give_up(x, &s->tasks[k],
					s->timed_out ? "not retried: the step's timeout ran out" : "not retried: the run is stopping");
	}
}

/* --- becoming ready -------------------------------------------------- */

/* Take t out of its step's ready queue (list); a task started there leaves it so its next link is free. */
static void unqueue(srun *s, task *t)
{
	if (!t->in_rq)
		return;
	if (t->rq_prev)
		t->rq_prev->next = t->next;
	else
		s->rq_head = t->next;
	if (t->next)
		t->next->rq_prev = t->rq_prev;
	else
		s->rq_tail = t->rq_prev;
	t->next = t->rq_prev = NULL;
	t->in_rq = false;
}

/* --- the active steps (dr_exec.ready) --------------------------------- */

static bool own_room(const srun *s)
{
	return s->limit <= 0 || (int64_t)s->n_active < s->limit;
}

static void heap_push(dr_exec *x, srun *s)
{
	if (x->n_ready == x->cap_ready) {
		x->cap_ready = x->cap_ready ? 2 * x->cap_ready : 64;
		x->ready = xrealloc(x->ready, x->cap_ready * sizeof *x->ready);
	}
	size_t i = x->n_ready++;
	while (i > 0 && x->ready[(i - 1) / 2]->active_seq > s->active_seq) {
		x->ready[i] = x->ready[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	x->ready[i] = s;
}

static srun *heap_pop(dr_exec *x)
{
	srun *top = x->ready[0], *last = x->ready[--x->n_ready];
	size_t i = 0, n = x->n_ready;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && x->ready[c + 1]->active_seq < x->ready[c]->active_seq)
			c++;
		if (x->ready[c]->active_seq >= last->active_seq)
			break;
		x->ready[i] = x->ready[c];
		i = c;
	}
	if (n)
		x->ready[i] = last;
	return top;
}

/*
 * s, active, may launch again (it became active, or one of its tasks
 * stopped counting against its concurrency): sched_pump is to visit it. A
 * pump's pass visits steps in the order they became active, as a walk of
 * a list of them would: a step behind the pass's cursor waits for the next
 * pass (ready_later).
 */
static void active_room(dr_exec *x, srun *s)
{
	if (!s->in_active || s->in_ready || s->active_phase != x->active_phase || !own_room(s))
		return;
	s->in_ready = true;
	if (!x->pumping || s->active_seq > x->pump_at) {
		heap_push(x, s);
		return;
	}
	if (x->n_later == x->cap_later) {
		x->cap_later = x->cap_later ? 2 * x->cap_later : 64;
		x->ready_later = xrealloc(x->ready_later, x->cap_later * sizeof *x->ready_later);
	}
	x->ready_later[x->n_later++] = s;
}

void sched_active_reset(dr_exec *x)
{
	x->n_ready = x->n_later = 0;
	x->active_phase++;
}

void sched_active_free(dr_exec *x)
{
	free(x->ready);
	free(x->ready_later);
	x->ready = x->ready_later = NULL;
	x->n_ready = x->n_later = x->cap_ready = x->cap_later = 0;
}

static void make_ready(dr_exec *x, task *t)
{
	srun *s = t->s;
	set_state(t, TS_READY);
	t->next = NULL;
	if (s->ordered) {
		order_push(x, s, t); /* longest expected first (order.c) */
	} else if (!t->in_rq) {
		t->rq_prev = s->rq_tail;
		if (s->rq_tail)
			s->rq_tail->next = t;
		else
			s->rq_head = t;
		s->rq_tail = t;
		t->in_rq = true;
	}
	if (s->in_active)
		return;
	s->in_active = true;
	s->active_seq = ++x->active_seq;
	s->active_phase = x->active_phase;
	active_room(x, s);
}

static void task_unblocked(dr_exec *x, task *t)
{
	if (x->stopping)
		return; /* settled as cancelled once running tasks have ended */
	mark_started(x, t->s);
	if (t->s->skip_why) {
		skip(x, t, t->s->skip_why);
		return;
	}
	if (t->upstream_failed) {
		skip(x, t, t->why);
		return;
	}
	bool go = true;
	char *err = NULL;
	if (!journal_when_decided(x, t, &go) && lookup_eval_when(x, t, &go, &err) < 0) {
		eval_failed(x, t, err);
		return;
	}
	if (!go)
		skip(x, t, SCHED_WHEN_FALSE);
	else
		make_ready(x, t);
}

void sched_release_srun(dr_exec *x, srun *s)
{
	if (s->n_tasks == 0 && s->deps_left == 0)
		end_empty(x, s);
	for (size_t k = 0; k < s->n_tasks; k++)
		if (s->tasks[k].state == TS_PENDING && s->tasks[k].blockers == 0)
			task_unblocked(x, &s->tasks[k]);
}

void sched_release_phase(dr_exec *x, srun *runs, size_t n)
{
	x->phase_left = n;
	for (size_t i = 0; i < n; i++)
		sched_release_srun(x, &runs[i]);
}

/* --- launching ------------------------------------------------------- */

static bool global_room(const dr_exec *x)
{
	return x->limit <= 0 || (int64_t)x->n_active < x->limit;
}

static bool room(const dr_exec *x, const srun *s)
{
	return global_room(x) && (s->limit <= 0 || (int64_t)s->n_active < s->limit);
}

static int64_t min64(int64_t a, int64_t b)
{
	return a < b ? a : b;
}

/*
 * The attempt's deadline: its own timeout, the step's, and (outside
 * finally) the run's. A person's wait does not count: while the task waits
 * for one its own timeout stands still, while any task of the step does the
 * step's (person_end moves them on).
 */
static int64_t attempt_deadline(const dr_exec *x, const task *t, int64_t at)
{
	const srun *s = t->s;
	int64_t d = DR_CLOCK_NEVER;
	if (s->attempt_timeout >= 0 && !t->person)
		d = at + t->person_ms + s->attempt_timeout;
	return min64(d, sched_step_deadline(x, s));
}

int64_t sched_step_deadline(const dr_exec *x, const srun *s)
{
	int64_t d = DR_CLOCK_NEVER;
	if (s->timeout >= 0 && s->n_person == 0)
		d = s->timeout_from + s->timeout;
	if (s->ph != PH_FINALLY)
		d = min64(d, x->run_deadline);
	return d;
}

/* t's deadline as things stand (a recovery point fallback's round keeps its own). */
static int64_t deadline_now(const dr_exec *x, task *t)
{
	if (!fallback_running(t))
		t->deadline = attempt_deadline(x, t, t->attempt_at);
	return t->deadline;
}

/* Whether the action blocks: it says so, or it calls a backend that answers over the network. */
static bool blocks(const dr_exec *x, const dr_action *act)
{
	return (act->flags & DR_AF_BLOCKING) || ((act->flags & DR_AF_BACKEND) && x->backend && x->backend->remote);
}

/* Whether a rehearsal leaves the action out: it runs programs or reaches the network itself. */
static bool left_out_of_rehearsal(const dr_exec *x, const dr_action *act)
{
	return x->o.rehearse && (act->flags & DR_AF_BLOCKING) && !(act->flags & (DR_AF_BACKEND | DR_AF_APPROVAL));
}

/* No one reads t's outputs: no template, no reader of JSON events, no recovery point fallback (dr_exec_outputs_unread). */
static bool outputs_unread(const dr_exec *x, const task *t)
{
	return !t->s->outputs_read && !x->all_outputs_read && !fallback_running(t) && !dr_events_json_wanted(x->ev);
}

static void call_action(dr_exec *x, task *t)
{
	t->called = true;
	t->call.now_ms = now(x);
	if (left_out_of_rehearsal(x, t->call.action)) {
		cJSON *out = NULL;
		if (!outputs_unread(x, t)) {
			out = cJSON_CreateObject();
			cJSON_AddStringToObject(out, "not_run", "rehearsal");
		}
		sched_outcome(x, t, dr_outcome_ok(out));
		return;
	}
	if (!blocks(x, t->call.action)) {
		sched_outcome(x, t, t->call.action->run(&t->call));
		return;
	}
	int rc = workers_dispatch(x, t);
	if (rc) {
		set_state(t, TS_RUNNING);
		sched_outcome(x, t, dr_outcome_fail(DR_ERRC_TRANSIENT, "cannot start a worker thread: %s", strerror(rc)));
		return;
	}
	if (t->deadline != DR_CLOCK_NEVER)
		timers_push(&x->timers, t->deadline, TM_ATTEMPT, t, t->gen);
}

static bool prepare(dr_exec *x, task *t)
{
	if (!t->s->act || !t->s->act->run) {
		const char *name = t->s->act ? t->s->act->name : t->s->st->action_name.name;
		fail_early(x, t, heap_printf("action '%s' cannot run in this build of drover (not implemented yet)",
						     name ? name : "?"));
		return false;
	}
	if (t->with)
		return true;
	char *err = NULL;
	t->with = lookup_eval_with(x, t, &err);
	if (!t->with) {
		eval_failed(x, t, err); /* read again: it stays READY, out of the queue, until then */
		return false;
	}
	return true;
}

bool sched_start_attempt(dr_exec *x, task *t)
{
	srun *s = t->s;
	unqueue(s, t); /* a resume's replay starts tasks where they wait in the queue */
	if (!prepare(x, t))
		return false;
	t->attempt++;
	set_state(t, TS_RUNNING);
	s->n_active++;
	x->n_active++;
	t->attempt_at = now(x);
	if (t->attempt == t->retry_base + 1)
		t->started_at = t->attempt_at;
	t->person_ms = 0;
	t->deadline = attempt_deadline(x, t, t->attempt_at);
	t->waited = t->attempt_timed_out = t->called = false;
	__atomic_store_n(&t->cancel, 0, __ATOMIC_RELAXED);
	t->call = (dr_call){
		.step = s->st, .target = t->vm == NO_VM ? NULL : &x->vms[t->vm], .with = t->with,
		.attempt = t->attempt, .deadline_ms = t->deadline, .cancel_requested = &t->cancel, .run = x,
		.action = s->act, .sched_task = t,
	};
	dr_event_fields f = task_fields(x, "task.start", t);
	dr_events_tell(x->ev, &f);
	if (!dr_events_json_wanted(x->ev)) {
		order_started(x, t, NULL);
		return true;
	}
	cJSON *ev = sched_event(x, "task.start", s, t);
	cJSON_AddNumberToObject(ev, "attempt", t->attempt);
	order_started(x, t, ev);
	emit(x, ev);
	return true;
}

void sched_call(dr_exec *x, task *t)
{
	call_action(x, t);
}

/* Start an attempt; a mutating call waits for its intent record to be durable (journal_turn). */
static void launch(dr_exec *x, task *t)
{
	if (sched_start_attempt(x, t) && !journal_intent(x, t))
		call_action(x, t);
}

static bool queued(const srun *s)
{
	return s->rq_head || s->heap_n;
}

static task *pop_ready(srun *s)
{
	if (s->ordered)
		return order_pop(s); /* a heap of pointers: an entry started elsewhere is passed over */
	task *t = s->rq_head;
	unqueue(s, t);
	return t;
}

/* Launch what s may launch now; returns true when anything was launched. */
static bool pump_step(dr_exec *x, srun *s)
{
	bool any = false;
	while (queued(s) && room(x, s) && !x->stopping) {
		task *t = pop_ready(s);
		if (t->state != TS_READY)
			continue; /* settled while queued (step timeout) */
		launch(x, t);
		any = true;
	}
	return any;
}

/* After a visit: a step with nothing queued is no longer active; one whose concurrency is used up waits for room. */
static void visited(dr_exec *x, srun *s)
{
	s->in_ready = false;
	if (!queued(s))
		s->in_active = false;
	else if (own_room(s))
		active_room(x, s); /* the run's own limit or its stop ended the pass: visited again next time */
}

/*
 * Passes over the active steps that may launch, in the order they became
 * active, each launching what its step may, until a pass launches nothing
 * (a launch may end tasks at once and so make room, or ready tasks).
 */
void sched_pump(dr_exec *x)
{
	bool again = true;
	while (again && !x->stopping) {
		again = false;
		x->pumping = true;
		x->pump_at = 0;
		while (x->n_ready && global_room(x) && !x->stopping) {
			srun *s = heap_pop(x);
			x->pump_at = s->active_seq; /* s stays in_ready while visited: not queued twice */
			again |= pump_step(x, s);
			visited(x, s);
		}
		x->pumping = false;
		while (x->n_later)
			heap_push(x, x->ready_later[--x->n_later]);
	}
}

/* --- outcomes -------------------------------------------------------- */

static void succeed(dr_exec *x, task *t, cJSON *outputs)
{
	if (outputs && !cJSON_IsObject(outputs)) { /* the contract says an object: keep the value anyway */
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "value", outputs);
		outputs = o;
	}
	t->outputs = outputs ? outputs : outputs_unread(x, t) ? NULL : cJSON_CreateObject(); /* NULL: as emit_task_end drops them */
	order_sample(x, t);
	emit_task_end(x, t, "succeeded", false, -1);
	if (t->undoes) {
		set_state(t->undoes, TS_ROLLED_BACK);
		t->undoes->s->n_undone++;
	}
	finish(x, t, TS_SUCCEEDED);
}

static void wait_again(dr_exec *x, task *t, int64_t wait_ms)
{
	set_state(t, TS_WAITING);
	t->waited = true;
	int64_t at = now(x) + (wait_ms > 0 ? wait_ms : 1);
	timers_push(&x->timers, min64(at, deadline_now(x, t)), TM_RESUME, t, t->gen);
}

/* Why a failed attempt is retried (the on: entry that covers it), or NULL. */
static const char *retry_reason(dr_exec *x, const task *t)
{
	const srun *s = t->s;
	if (x->stopping || s->timed_out || t->attempt - t->retry_base >= s->retry->attempts)
		return NULL;
	bool by_match;
	const char *why = dr_retry_covers(s->retry, t->cls, t->message, &by_match);
	return why && by_match ? dr_arena_printf(x->a, "match: %s", why) : why;
}

/* A failed attempt with attempts left that is not retried: why, and what to write instead (issue 8); NULL otherwise. */
static const char *not_retried(dr_exec *x, const task *t)
{
	const srun *s = t->s;
	int left = s->retry->attempts - (t->attempt - t->retry_base);
	char why[512];
	if (left <= 0 || t->cls == DR_ERRC_CANCELLED)
		return NULL;
	if (s->act && (s->act->flags & DR_AF_APPROVAL) && t->cls == DR_ERRC_PERMANENT)
		return NULL; /* a person's no (or no answer in time) is a decision: no retry.on advice */
	if (x->stopping)
		return dr_arena_printf(x->a, "%d attempt%s left, but the run is stopping", left, left == 1 ? "" : "s");
	if (s->timed_out)
		return dr_arena_printf(x->a, "%d attempt%s left, but the step's timeout ran out", left, left == 1 ? "" : "s");
	if (s->retry == &dr_retry_builtin)
		return NULL; /* no retry: was declared: the built-in one is for throttled answers alone */
	if (!dr_retry_why_not(s->retry, t->cls, why, sizeof why))
		return NULL;
	return dr_arena_printf(x->a, "%d attempt%s left, not retried: %s", left, left == 1 ? "" : "s", why);
}

static void schedule_retry(dr_exec *x, task *t, const char *why, int64_t retry_after)
{
	srun *s = t->s;
	bool honoured = false;
	int64_t delay = dr_retry_delay(s->retry, t->attempt - t->retry_base, retry_after, &x->rng, &honoured);
	set_state(t, TS_RETRYING);
	s->n_active--;
	x->n_active--;
	active_room(x, s);
	cJSON *ev = sched_event(x, "task.retry", s, t);
	cJSON_AddNumberToObject(ev, "attempt", t->attempt + 1);
	cJSON_AddNumberToObject(ev, "attempts", (double)(t->retry_base + s->retry->attempts));
	cJSON_AddNumberToObject(ev, "delay_ms", (double)delay);
	cJSON_AddStringToObject(ev, "reason", why);
	if (honoured)
		cJSON_AddBoolToObject(ev, "retry_after", true);
	emit(x, ev);
	timers_push(&x->timers, now(x) + delay, TM_RETRY, t, t->gen);
}

static void attempt_failed(dr_exec *x, task *t, dr_err_class cls, char *msg, int64_t retry_after)
{
	if (fallback_running(t))
		fallback_stop(x, t, &cls, &msg); /* the change of recovery point failed: the task fails */
	t->cls = cls;
	take_message(t, msg ? msg : xstrdup("failed (the action gave no message)"));
	if (cls == DR_ERRC_CANCELLED) {
		emit_task_end(x, t, "cancelled", false, -1);
		t->why = "cancelled while running";
		finish(x, t, TS_CANCELLED);
		return;
	}
	const char *why = retry_reason(x, t);
	t->not_retried = why ? NULL : not_retried(x, t);
	emit_task_end(x, t, "failed", why != NULL, retry_after);
	if (why)
		schedule_retry(x, t, why, retry_after);
	else if (!fallback_begin(x, t)) /* a validation before commit may try the next recovery point */
		finish(x, t, TS_FAILED);
}

/* The message of an attempt that ran out of time: which of the three limits it hit. */
/* "; not counting 20m waiting for a person" when a limit stood still that long, else "". */
static const char *person_note(char *out, size_t n, int64_t ms)
{
	char d[32];
	if (ms <= 0)
		return "";
	dr_text_human_duration(ms, d, sizeof d);
	snprintf(out, n, ", not counting %s waiting for a person", d);
	return out;
}

static char *timeout_message(const dr_exec *x, const task *t)
{
	char d[32], note[96];
	const srun *s = t->s;
	int64_t at = now((dr_exec *)x);
	if (s->timeout >= 0 && s->n_person == 0 && at >= s->timeout_from + s->timeout) {
		dr_text_human_duration(s->timeout, d, sizeof d);
		return heap_printf("the step's timeout (%s, all attempts%s) ran out", d,
				   person_note(note, sizeof note, s->person_total));
	}
	if (s->ph != PH_FINALLY && at >= x->run_deadline) {
		dr_text_human_duration(x->rb->run_timeout_ms, d, sizeof d);
		return heap_printf("the run's timeout (run_timeout %s) ran out", d);
	}
	dr_text_human_duration(s->attempt_timeout, d, sizeof d);
	return heap_printf("attempt %d timed out after %s (attempt_timeout%s)", t->attempt, d,
			   person_note(note, sizeof note, t->person_ms));
}

void sched_outcome(dr_exec *x, task *t, dr_outcome o)
{
	bool person = t->person;
	if (o.status == DR_ACT_WAIT && o.person)
		person_begin(x, t, o.message);
	else
		person_end(x, t);
	switch (o.status) {
	case DR_ACT_OK:
		free(o.message);
		if (fallback_running(t))
			fallback_applied(x, t, o.outputs); /* the new recovery point is in place: validate again */
		else
			succeed(x, t, o.outputs);
		break;
	case DR_ACT_WAIT:
		free(o.message);
		cJSON_Delete(o.outputs);
		wait_again(x, t, o.wait_ms);
		break;
	case DR_ACT_FAIL:
	default:
		cJSON_Delete(o.outputs);
		if (t->attempt_timed_out && o.cls == DR_ERRC_CANCELLED && person) {
			char *m = timeout_message(x, t); /* the run's: a person's wait counts for no other */
			attempt_failed(x, t, DR_ERRC_TIMEOUT, heap_printf("%s: %s", m, o.message ? o.message : ""), -1);
			free(m);
			free(o.message);
		} else if (t->attempt_timed_out && o.cls == DR_ERRC_CANCELLED) {
			free(o.message);
			attempt_failed(x, t, DR_ERRC_TIMEOUT, timeout_message(x, t), -1);
		} else {
			attempt_failed(x, t, o.cls, o.message, o.retry_after_ms);
		}
		break;
	}
}

/* fallback.c: t (RUNNING, its attempts used up) becomes ready again with fresh attempts. */
void sched_requeue(dr_exec *x, task *t)
{
	t->s->n_active--;
	x->n_active--;
	active_room(x, t->s);
	t->attempt = t->retry_base = 0;
	make_ready(x, t);
}

/*
 * resume --retry-failed (resume.c): t's attempt ended as o, a failure, in the
 * run being retried. Instead of failing its step, t waits for a new attempt,
 * with a fresh retry: budget and its with: evaluated again (a fix in the
 * runbook or in what it reads applies). It waits as a retry due at once, so
 * that the replay never launches it; once the replay is over, it is ready.
 */
void sched_retry_failed(dr_exec *x, task *t, dr_outcome o)
{
	cJSON_Delete(o.outputs);
	if (fallback_running(t))
		fallback_stop(x, t, &o.cls, &o.message);
	t->cls = o.cls;
	t->not_retried = NULL; /* it gets a new attempt */
	take_message(t, o.message ? o.message : xstrdup("failed (the action gave no message)"));
	emit_task_end(x, t, "failed", false, -1);
	set_state(t, TS_RETRYING);
	t->s->n_active--;
	x->n_active--;
	active_room(x, t->s);
	t->retry_base = t->attempt;
	lookup_with_drop(t);
	timers_push(&x->timers, now(x), TM_RETRY, t, t->gen);
}

void sched_person(dr_exec *x, task *t, bool waiting)
{
	if (waiting)
		person_begin(x, t, NULL); /* the journal's record says what was asked */
	else
		person_end(x, t);
}

void sched_fail_unstarted(dr_exec *x, task *t, dr_outcome o)
{
	cJSON_Delete(o.outputs);
	unqueue(t->s, t);
	fail_early_as(x, t, o.cls, o.message ? o.message : xstrdup("failed before its first attempt"));
}

void sched_retry_unstarted(dr_exec *x, task *t, dr_outcome o)
{
	cJSON_Delete(o.outputs);
	unqueue(t->s, t);
	t->cls = o.cls;
	t->not_retried = NULL;
	take_message(t, o.message ? o.message : xstrdup("failed before its first attempt"));
	emit_task_end(x, t, "failed", false, -1);
	set_state(t, TS_RETRYING);
	t->decide_again = true;
	lookup_with_drop(t);
}

void sched_decide_again(dr_exec *x, task *t)
{
	t->decide_again = false;
	set_state(t, TS_PENDING);
	task_unblocked(x, t);
}

/* --- timers ---------------------------------------------------------- */

/* Give up a WAITING attempt: the action releases its state, the attempt fails with cls. */
static void abandon(dr_exec *x, task *t, dr_err_class cls, char *msg)
{
	person_end(x, t);
	if (t->call.action->cancel)
		t->call.action->cancel(&t->call);
	t->call.state = NULL;
	attempt_failed(x, t, cls, msg, -1);
}

static void on_attempt_deadline(task *t)
{
	t->attempt_timed_out = true;
	__atomic_store_n(&t->cancel, 1, __ATOMIC_RELAXED);
}

static void on_resume(dr_exec *x, task *t)
{
	int64_t d = deadline_now(x, t);
	if (d != DR_CLOCK_NEVER && now(x) >= d && t->person)
		on_attempt_deadline(t); /* asked to stop: its answer says what is left waiting in the service */
	else if (d != DR_CLOCK_NEVER && now(x) >= d) {
		abandon(x, t, DR_ERRC_TIMEOUT, timeout_message(x, t));
		return;
	}
	t->call.deadline_ms = d;
	set_state(t, TS_RUNNING);
	call_action(x, t);
}

/* A worker's task at the deadline it had when it was dispatched: moved on by a person's wait, or reached. */
static void on_attempt_timer(dr_exec *x, task *t)
{
	int64_t d = deadline_now(x, t);
	if (now(x) >= d)
		on_attempt_deadline(t);
	else if (d != DR_CLOCK_NEVER)
		timers_push(&x->timers, d, TM_ATTEMPT, t, t->gen);
}

/* A failed read's delay is over: evaluate when: (PENDING) or with: (READY) again. */
static void on_reread(dr_exec *x, task *t)
{
	t->reread = false;
	if (x->stopping)
		return; /* settled as cancelled */
	if (t->state == TS_PENDING)
		task_unblocked(x, t);
	else if (t->state == TS_READY)
		make_ready(x, t);
}

static void on_step_timeout(dr_exec *x, srun *s)
{
	if (s->state != SS_RUNNING || s->timed_out || s->n_person > 0)
		return; /* a person is awaited: armed again, for what is left, when the wait ends (person_end) */
	journal_note_timeout(x, s);
	char d[32];
	dr_text_human_duration(s->timeout, d, sizeof d);
	s->timed_out = s->failed = true; /* failed first: the tasks settled below do not count against max_failures */
	s->fail_reason = dr_arena_printf(x->a, "timed out after %s (timeout, all attempts)", d);
	apply_policy(x, s, s->fail_reason);
	for (size_t k = 0; k < s->n_tasks && s->state == SS_RUNNING; k++) {
		task *t = &s->tasks[k];
		if (t->state == TS_WAITING)
			abandon(x, t, DR_ERRC_TIMEOUT, timeout_message(x, t));
		else if (t->state == TS_RUNNING)
			on_attempt_deadline(t);
		else if ((t->state == TS_PENDING || t->state == TS_READY) && t->reread)
			cancel_task(x, t, dr_arena_printf(x->a, "not started before the step's timeout: %s", t->message));
		else if (t->state == TS_PENDING || t->state == TS_READY)
			cancel_task(x, t, "not started before the step's timeout");
		else if (t->state == TS_RETRYING)
			give_up(x, t, "not retried: the step's timeout ran out");
	}
}

static void on_grace_over(dr_exec *x)
{
	x->grace_over = true;
	if (x->ph != PH_MAIN && x->ph != PH_ROLLBACK)
		return;
	for (size_t i = 0; i < phase_size(x); i++) {
		srun *s = phase_at(x, i);
		for (size_t k = 0; k < s->n_tasks; k++)
			if (s->tasks[k].state == TS_WAITING)
				abandon(x, &s->tasks[k], DR_ERRC_CANCELLED,
					xstrdup("abandoned: it did not stop within the cancellation grace period"));
	}
}

static void on_signal_hook(dr_exec *x)
{
	if (x->hook_fired)
		return; /* a resume's replay sent it (signals_hook) */
	x->hook_fired = true;
	int sig = x->o.signal_at_sig ? x->o.signal_at_sig : SIGINT;
	if (x->o.handle_signals && x->sig_thread_on) {
		x->expect_signal = true;
		kill(getpid(), sig);
		return;
	}
	sched_cancel_run(x, sig == SIGTERM ? "cancelled (SIGTERM)" : "cancelled (SIGINT)", false);
}

static const char *run_timeout_reason(dr_exec *x)
{
	char d[32];
	dr_text_human_duration(x->rb->run_timeout_ms, d, sizeof d);
	return dr_arena_printf(x->a, "the run's timeout (run_timeout %s) ran out", d);
}

void sched_fire(dr_exec *x, const timer *tm)
{
	task *t = tm->p;
	switch (tm->kind) {
	case TM_RESUME:
		if (t->gen == tm->gen && t->state == TS_WAITING)
			on_resume(x, t);
		break;
	case TM_RETRY:
		if (t->gen == tm->gen && t->state == TS_RETRYING)
			make_ready(x, t);
		break;
	case TM_REREAD:
		if (t->gen == tm->gen && t->reread)
			on_reread(x, t);
		break;
	case TM_ATTEMPT:
		if (t->gen == tm->gen && t->state == TS_RUNNING)
			on_attempt_timer(x, t);
		break;
	case TM_STEP:
		if (tm->gen == ((srun *)tm->p)->tgen)
			on_step_timeout(x, tm->p);
		break;
	case TM_RUN:
		if ((x->ph == PH_MAIN || x->ph == PH_ROLLBACK) && now(x) >= x->run_deadline)
			sched_cancel_run(x, run_timeout_reason(x), true);
		break;
	case TM_GRACE: on_grace_over(x); break;
	case TM_SIGNAL_HOOK: on_signal_hook(x); break;
	case TM_TICK:
		if (x->view)
			dr_progress_tick(x->view);
		timers_push(&x->timers, now(x) + TICK_MS, TM_TICK, NULL, 0);
		break;
	}
}

/* --- cancellation and settling --------------------------------------- */

/* Ask every running task of the phase to stop; wake the waiting ones so they can. */
static void request_stop_all(dr_exec *x)
{
	for (size_t i = 0; i < phase_size(x); i++) {
		srun *s = phase_at(x, i);
		for (size_t k = 0; k < s->n_tasks; k++) {
			task *t = &s->tasks[k];
			if (!is_active(t->state))
				continue;
			__atomic_store_n(&t->cancel, 1, __ATOMIC_RELAXED);
			if (t->state == TS_WAITING) {
				t->gen++;
				timers_push(&x->timers, now(x), TM_RESUME, t, t->gen);
			}
		}
	}
}

void sched_cancel_run(dr_exec *x, const char *reason, bool timed_out)
{
	cJSON *ev = sched_event(x, timed_out ? "run.timeout" : "run.cancel", NULL, NULL);
	cJSON_AddStringToObject(ev, "reason", reason);
	if (x->ph == PH_FINALLY) {
		x->cancelled = x->cancelled || !timed_out;
		cJSON_AddStringToObject(ev, "note", "finally steps are running and will finish; a second signal exits at once");
		emit(x, ev);
		return;
	}
	if (timed_out)
		x->run_timed_out = true;
	else
		x->cancelled = true;
	x->rollback_wanted = false;
	cJSON_AddNumberToObject(ev, "running", (double)x->n_active);
	cJSON_AddNumberToObject(ev, "grace_ms", (double)x->o.grace_ms);
	emit(x, ev);
	stop(x, NULL, reason, timed_out ? "timeout" : "cancel");
	request_stop_all(x);
	timers_push(&x->timers, now(x) + x->o.grace_ms, TM_GRACE, NULL, 0);
}

bool sched_phase_quiet(const dr_exec *x)
{
	return x->n_active == 0;
}

static void settle_srun(dr_exec *x, srun *s, const char *why)
{
	for (size_t k = 0; k < s->n_tasks; k++) {
		task *t = &s->tasks[k];
		if (!is_final(t->state))
			cancel_task(x, t, why);
	}
	if (s->n_tasks == 0 && (s->state == SS_PENDING || s->state == SS_RUNNING))
		step_end(x, s);
}

void sched_settle_phase(dr_exec *x)
{
	const char *r = x->ph == PH_ROLLBACK ? x->rollback_reason : x->stop_reason;
	const char *why = r ? dr_arena_printf(x->a, "not started: %s", r) : "not started";
	for (size_t i = 0; i < phase_size(x); i++)
		settle_srun(x, phase_at(x, i), why);
}
