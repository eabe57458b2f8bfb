/*
 * resume.c - `drover resume`: rebuild a run's state from its journal, then
 * settle the attempts whose outcome was lost, then go on (docs/journal.md).
 *
 * Rebuilding is replaying. The scheduler starts from scratch, as for a
 * fresh run, but instead of launching what is ready it is fed the journal,
 * record by record, in the order the original run wrote them:
 *
 *   task.start (intent)  that attempt is started (no action is called)
 *   task.end (result)    that attempt ends as it ended then
 *   task.person          a person's wait begins or ends (the limits stand still)
 *   step.timeout         the step's timeout fires
 *   run.timeout          the run's timeout fires
 *
 * and the scheduler does the rest as it did then: retries, failure
 * policies, step ends, rollback units, phases. The clock is pinned to each
 * record's time while it is applied, so deadlines, retry times and event
 * times come out as they were. Everything else in the journal (skips,
 * cancellations, step ends, approvals) is the scheduler's own doing and
 * comes out again by itself. The events of the replay are emitted with
 * "replayed": true and are not journaled again.
 *
 * Cancellation is the exception: a resumed run goes on where a cancelled
 * one stopped, so a run.cancel is not replayed, nor what the cancellation
 * caused (attempts that ended "cancelled", the finally steps, run.end).
 *
 * At the end of the journal, an attempt started and never ended is
 * unknown: drover died between its intent and its result. Its action's
 * probe asks the service (done: take its outputs; running: wait for that
 * job; not started: run it now, with the same idempotency key; failed: as
 * it failed). An action without a probe that changes nothing (log, checks,
 * exec, approve) is simply called again. When any probe cannot tell, or a
 * mutating action has no probe, nothing is started: the session stops
 * (run.suspend) and says what to check.
 *
 * Retrying a failed run (--retry-failed) replays the failed run without
 * what its failure caused. The journal is cut into segments at each retry
 * (journal_int.h); in a segment that ended in a failed run and is retried:
 *
 *   the final failure of a task of a step that failed the run
 *                        (step.end failed, not tolerated, in the segment):
 *                        its step does not fail; the task waits for a new
 *                        attempt (sched_retry_failed), numbered on
 *   a result "cancelled" cut short by the stop (a held call not made, a
 *                        run timeout): not replayed; the attempt is in
 *                        flight at the end and asked about, as above
 *   step.timeout of such a step, run.timeout
 *                        not replayed: they start again from the retry
 *   finally records      not replayed: the finally steps run again at the
 *                        end; their attempts are numbered on (new keys)
 *
 * Everything else is replayed as it is: what succeeded (also the tasks
 * in flight when the run started to stop, which ended on their own),
 * approvals, failures that were tolerated. So the run never stops while
 * its journal is replayed, and the stop, the finally steps and run.end
 * of the failed run are not replayed. At the retry point (the run.resume
 * record that retried it, or the end of the replay for this session's
 * own retry) the steps cut short get their timeout again, counted from
 * there, as does the run's run_timeout, and run.retry says what runs again.
 */
#include "journal/journal_int.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "run/retry.h"
#include "util/xalloc.h"

static const char *sval(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static double nval(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* --- the VMs by name ------------------------------------------------------ */

static void index_vms(dr_exec *x, struct jrun *jr)
{
	for (size_t i = 0; i < x->n_vms; i++)
		dr_strmap_put(&jr->vm_index, x->vms[i].name, i);
}

static size_t vm_of(const struct jrun *jr, const char *name)
{
	size_t i;
	return dr_strmap_get(&jr->vm_index, name, &i) ? i : NO_VM;
}

/* --- records to tasks ----------------------------------------------------- */

static srun *unit_of(dr_exec *x, const char *step, const char *undoes)
{
	for (size_t i = 0; i < x->n_units; i++) {
		srun *u = x->units[i];
		bool same_undo = undoes ? u->undoes && !strcmp(u->undoes->id, undoes) : !u->undoes;
		if (!strcmp(u->id, step) && same_undo)
			return u;
	}
	return NULL;
}

static srun *srun_of(dr_exec *x, const cJSON *rec)
{
	const char *step = sval(rec, "step"), *ph = sval(rec, "phase");
	if (!step)
		return NULL;
	if (ph && !strcmp(ph, "rollback"))
		return unit_of(x, step, sval(rec, "undoes"));
	srun *s = sched_find(x, step);
	bool fin = ph && !strcmp(ph, "finally");
	return s && (s->ph == PH_FINALLY) == fin ? s : NULL;
}

/* The task a record is about, or NULL (with why). */
static task *task_of(dr_exec *x, const cJSON *rec, const char **why)
{
	srun *s = srun_of(x, rec);
	const char *target = sval(rec, "target");
	*why = "its step is not in the runbook (or not in this phase)";
	if (!s)
		return NULL;
	*why = "its VM is not among the step's targets";
	if (!target)
		return s->n_tasks == 1 && s->tasks[0].vm == NO_VM ? &s->tasks[0] : NULL;
	size_t vm = vm_of(x->jr, target);
	if (vm == NO_VM)
		return NULL;
	if (s->ph != PH_ROLLBACK)
		return sched_task_for_vm(s, vm);
	for (size_t k = 0; k < s->n_tasks; k++)
		if (s->tasks[k].vm == vm)
			return &s->tasks[k];
	return NULL;
}

/* What became of a record the replay was fed. */
typedef enum applied { IGNORED, APPLIED, MISMATCH } applied;

/* --- retrying a failed run (--retry-failed) ----------------------------- */

static bool failed_step_end(const cJSON *rec)
{
	const char *status = sval(rec, "status");
	return !strcmp(sval(rec, "event"), "step.end") && !sval(rec, "phase") && status && !strcmp(status, "failed") &&
	       !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "tolerated"));
}

static void add_failed(dr_exec *x, retry_seg *g, const char *id, size_t *cap)
{
	if (g->n_failed == *cap) {
		size_t c = *cap ? 2 * *cap : 8;
		g->failed = dr_arena_grow(x->a, g->failed, g->n_failed, c, sizeof *g->failed);
		*cap = c;
	}
	g->failed[g->n_failed++] = id;
}

/* Cut the journal into segments at each retry; the last is retried when this session retries. */
static void scan_segments(dr_exec *x)
{
	struct jrun *jr = x->jr;
	const dr_journal_file *f = jr->rs;
	size_t n = 1, k = 0, cap = 0;
	for (size_t i = 0; i < f->n; i++)
		n += dr_journal_is_retry(f->recs[i]);
	jr->segs = dr_arena_calloc(x->a, n, sizeof *jr->segs);
	jr->n_segs = n;
	for (size_t i = 0; i < f->n; i++) {
		const cJSON *rec = f->recs[i];
		if (dr_journal_is_retry(rec)) {
			jr->segs[k++].retried = true;
			cap = 0;
		} else if (failed_step_end(rec) && sval(rec, "step")) {
			add_failed(x, &jr->segs[k], sval(rec, "step"), &cap);
		}
	}
	jr->segs[k].retried = x->o.retry_failed;
}

/* The records being replayed belong to a failed run that is retried. */
static bool retrying(const struct jrun *jr)
{
	return jr->seg < jr->n_segs && jr->segs[jr->seg].retried;
}

/* step failed the run being retried. */
static bool failed_here(const struct jrun *jr, const char *step)
{
	const retry_seg *g = &jr->segs[jr->seg];
	for (size_t i = 0; step && i < g->n_failed; i++)
		if (!strcmp(g->failed[i], step))
			return true;
	return false;
}

/* What runs again, for run.retry: the failed tasks (waiting for a new attempt; decided_anew: those that never had one), the others by count. */
static void emit_retry(dr_exec *x)
{
	cJSON *ev = dr_event_new(x->ev, "run.retry");
	cJSON_AddStringToObject(ev, "run", x->run_id);
	cJSON *again = cJSON_AddArrayToObject(ev, "tasks"), *anew = cJSON_AddArrayToObject(ev, "decided_anew");
	size_t fresh = 0, flight = 0;
	for (size_t i = 0; i < x->n_main; i++)
		for (size_t k = 0; k < x->main[i].n_tasks; k++) {
			task *t = &x->main[i].tasks[k];
			if (t->state == TS_RETRYING)
				cJSON_AddItemToArray(again, cJSON_CreateString(exec_task_label(x, t)));
			if (t->state == TS_RETRYING && t->decide_again) /* it failed before its first attempt */
				cJSON_AddItemToArray(anew, cJSON_CreateString(exec_task_label(x, t)));
			fresh += t->state == TS_PENDING || t->state == TS_READY;
			flight += t->state == TS_RUNNING || t->state == TS_WAITING;
		}
	cJSON_AddNumberToObject(ev, "not_started", (double)fresh);
	cJSON_AddNumberToObject(ev, "in_flight", (double)flight);
	cJSON_AddNumberToObject(ev, "finally", (double)x->n_fin);
	dr_events_emit(x->ev, ev);
}

/*
 * The retry point: the steps the stop cut short get their timeout again,
 * and the run its run_timeout, counted from now (older timers are stale).
 */
static applied retry_point(dr_exec *x)
{
	int64_t now = dr_clock_now(x->clock);
	for (size_t i = 0; i < x->n_main; i++) {
		srun *s = &x->main[i];
		if (s->state != SS_RUNNING)
			continue;
		s->timeout_from = now;
		s->tgen++;
		if (s->timeout >= 0)
			timers_push(&x->timers, now + s->timeout, TM_STEP, s, s->tgen);
	}
	if (x->rb->run_timeout_ms >= 0) {
		x->run_deadline = now + x->rb->run_timeout_ms;
		timers_push(&x->timers, x->run_deadline, TM_RUN, NULL, 0);
	}
	emit_retry(x);
	x->jr->seg++;
	for (size_t i = 0; i < x->n_main; i++)
		for (size_t k = 0; k < x->main[i].n_tasks; k++)
			if (x->main[i].tasks[k].decide_again)
				sched_decide_again(x, &x->main[i].tasks[k]);
	return APPLIED;
}

/* A finally attempt of the run being retried: the finally steps run again, their attempts numbered on. */
static void keep_attempt(dr_exec *x, const cJSON *rec)
{
	const char *why;
	task *t = task_of(x, rec, &why);
	int attempt = (int)nval(rec, "attempt", 0);
	if (t && attempt > t->attempt)
		t->attempt = t->retry_base = attempt;
}

/* --- applying records ----------------------------------------------------- */

static const struct {
	const char *name;
	dr_err_class cls;
} classes[] = {
	{"permanent", DR_ERRC_PERMANENT}, {"transient", DR_ERRC_TRANSIENT}, {"throttled", DR_ERRC_THROTTLED},
	{"timeout", DR_ERRC_TIMEOUT},	  {"cancelled", DR_ERRC_CANCELLED},
};

static dr_err_class class_of(const char *name)
{
	for (size_t i = 0; name && i < sizeof classes / sizeof classes[0]; i++)
		if (!strcmp(classes[i].name, name))
			return classes[i].cls;
	return DR_ERRC_PERMANENT;
}

/* The outcome a task.end record tells. */
static dr_outcome outcome_of(const cJSON *rec)
{
	const char *status = sval(rec, "status");
	if (status && !strcmp(status, "succeeded")) {
		const cJSON *out = cJSON_GetObjectItemCaseSensitive(rec, "outputs");
		return dr_outcome_ok(out ? cJSON_Duplicate(out, true) : NULL);
	}
	dr_err_class cls = status && !strcmp(status, "cancelled") ? DR_ERRC_CANCELLED : class_of(sval(rec, "class"));
	dr_outcome o = dr_outcome_fail(cls, "%s", sval(rec, "message") ? sval(rec, "message") : "");
	o.retry_after_ms = (int64_t)nval(rec, "retry_after_ms", -1);
	return o;
}

static applied apply_intent(dr_exec *x, const cJSON *rec, const char **why)
{
	task *t = task_of(x, rec, why);
	if (!t)
		return MISMATCH;
	int attempt = (int)nval(rec, "attempt", 0);
	if (t->state != TS_READY && t->state != TS_RETRYING) {
		*why = dr_arena_printf(x->a, "the task is %s, not ready to start", sched_tstate_name(t->state));
		return MISMATCH;
	}
	if (attempt != t->attempt + 1) {
		*why = dr_arena_printf(x->a, "attempt %d follows attempt %d", attempt, t->attempt);
		return MISMATCH;
	}
	if (!sched_start_attempt(x, t)) {
		*why = "its inputs cannot be evaluated any more";
		return MISMATCH;
	}
	return APPLIED;
}

/* The task a result record ends (running that attempt), or NULL with why. */
static task *ending_task(dr_exec *x, const cJSON *rec, const char **why)
{
	int attempt = (int)nval(rec, "attempt", 0);
	task *t = task_of(x, rec, why);
	if (t && ((t->state != TS_RUNNING && t->state != TS_WAITING) || t->attempt != attempt)) {
		*why = dr_arena_printf(x->a, "the task is %s at attempt %d", sched_tstate_name(t->state), t->attempt);
		return NULL;
	}
	return t;
}

/* The task a task.end of attempt 0 ends (failed before its first attempt), READY as the replay released it; or NULL with why. */
static task *unstarted_task(dr_exec *x, const cJSON *rec, const char **why)
{
	task *t = task_of(x, rec, why);
	if (t && t->state != TS_READY) {
		*why = dr_arena_printf(x->a, "the task is %s, not ready to start", sched_tstate_name(t->state));
		return NULL;
	}
	return t;
}

static applied apply_result(dr_exec *x, const cJSON *rec, const char **why)
{
	int attempt = (int)nval(rec, "attempt", 0);
	if (attempt == 0) { /* failed before starting (when:/with:): as it failed then, nothing evaluated again */
		task *t = unstarted_task(x, rec, why);
		if (t)
			sched_fail_unstarted(x, t, outcome_of(rec));
		return t ? APPLIED : MISMATCH;
	}
	if (x->jr->after_cancel && !strcmp(sval(rec, "status") ? sval(rec, "status") : "", "cancelled"))
		return IGNORED; /* interrupted by the cancellation: settled at the end of the replay */
	task *t = ending_task(x, rec, why);
	if (!t)
		return MISMATCH;
	sched_outcome(x, t, outcome_of(rec));
	return APPLIED;
}

/* A person's wait began or ended then (task.person): the step's timeout and attempt_timeout stand still while it lasts. */
static applied apply_person(dr_exec *x, const cJSON *rec, const char **why)
{
	task *t = ending_task(x, rec, why);
	if (!t)
		return MISMATCH;
	sched_person(x, t, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "waiting")));
	return APPLIED;
}

/*
 * A record of a failed run being retried that is not replayed as it was
 * (see the top of the file); *a says what became of it. False: replay it.
 */
static bool retried_record(dr_exec *x, const cJSON *rec, const char *type, applied *a, const char **why)
{
	const char *ph = sval(rec, "phase"), *status = sval(rec, "status");
	*a = IGNORED;
	if (ph && !strcmp(ph, "finally")) {
		if (!strcmp(type, "task.start"))
			keep_attempt(x, rec);
		return true;
	}
	if (!strcmp(type, "run.timeout"))
		return true;
	if (!strcmp(type, "step.timeout"))
		return failed_here(x->jr, sval(rec, "step"));
	if (strcmp(type, "task.end") || ph || nval(rec, "attempt", 0) < 0 || !status)
		return false;
	if (nval(rec, "attempt", 0) == 0) { /* failed before its first attempt: decided anew at the retry point */
		if (strcmp(status, "failed") || !failed_here(x->jr, sval(rec, "step")))
			return false;
		task *t = unstarted_task(x, rec, why);
		*a = t ? APPLIED : MISMATCH;
		if (t)
			sched_retry_unstarted(x, t, outcome_of(rec));
		return true;
	}
	if (!strcmp(status, "cancelled"))
		return true; /* cut short by the stop: in flight when the replay ends, and asked about */
	if (strcmp(status, "failed") || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "will_retry")) ||
	    !failed_here(x->jr, sval(rec, "step")))
		return false;
	task *t = ending_task(x, rec, why);
	*a = t ? APPLIED : MISMATCH;
	if (t)
		sched_retry_failed(x, t, outcome_of(rec));
	return true;
}

static applied apply_timer(dr_exec *x, const cJSON *rec, const char *type, const char **why)
{
	if (!strcmp(type, "run.timeout")) {
		if (x->ph != PH_MAIN && x->ph != PH_ROLLBACK)
			return IGNORED;
		sched_cancel_run(x, sval(rec, "reason") ? dr_arena_strdup(x->a, sval(rec, "reason")) : "timed out", true);
		return APPLIED;
	}
	srun *s = srun_of(x, rec);
	if (!s) {
		*why = "its step is not in the runbook";
		return MISMATCH;
	}
	timer tm = {.at = dr_clock_now(x->clock), .kind = TM_STEP, .p = s};
	sched_fire(x, &tm);
	return APPLIED;
}

/*
 * A record about a step the runbook does not have (in its phase; a rollback
 * unit's by the step it undoes): the journal is of another runbook, or was
 * edited. Resume stops at it (with --force it is left aside), whether or not
 * the replay would act on it.
 */
static bool foreign(dr_exec *x, const cJSON *rec, const char **why)
{
	const char *step = sval(rec, "step"), *ph = sval(rec, "phase");
	if (!step)
		return false;
	bool rollback = ph && !strcmp(ph, "rollback");
	const char *id = rollback ? sval(rec, "undoes") : step;
	srun *s = id && x->plan ? sched_find(x, id) : NULL;
	bool fin = ph && !strcmp(ph, "finally");
	if (s && (rollback ? s->ph == PH_MAIN : (s->ph == PH_FINALLY) == fin))
		return false;
	*why = rollback ? "the step it undoes is not in the runbook" : fin ? "the runbook has no such finally step"
									   : "the runbook has no such step";
	return true;
}

static applied apply(dr_exec *x, const cJSON *rec, const char **why)
{
	struct jrun *jr = x->jr;
	const char *type = sval(rec, "event"), *ph = sval(rec, "phase");
	if (!strcmp(type, "run.resume")) {
		jr->after_cancel = false;
		return dr_journal_is_retry(rec) ? retry_point(x) : IGNORED;
	}
	if (!strcmp(type, "run.cancel")) {
		jr->after_cancel = jr->after_cancel || x->ph != PH_FINALLY;
		return IGNORED;
	}
	applied a;
	if (retrying(jr) && retried_record(x, rec, type, &a, why))
		return a;
	if (jr->after_cancel && ((ph && !strcmp(ph, "finally")) || strstr(type, "timeout")))
		return IGNORED; /* the finally steps run again when the resumed run ends; the grace period is over */
	if (jr->after_cancel && !strcmp(type, "task.person") &&
	    !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "waiting")))
		return IGNORED; /* ended by the cancellation: the wait goes on until the resumed run asks the service */
	if (!strcmp(type, "task.start"))
		return apply_intent(x, rec, why);
	if (!strcmp(type, "task.end"))
		return apply_result(x, rec, why);
	if (!strcmp(type, "task.person"))
		return apply_person(x, rec, why);
	if (!strcmp(type, "step.timeout") || !strcmp(type, "run.timeout"))
		return apply_timer(x, rec, type, why);
	return IGNORED;
}

/* --- when: as the run decided it --------------------------------------------- */

/*
 * A task's when: is decided once, by the run that first released it: a
 * replay takes that decision from the journal (a task.start: it went; a
 * task.skip "when: is false": it was skipped; a task.end of attempt 0: its
 * when: or with: could not be evaluated, and the record fails it again as
 * it failed) instead of reading what it reads (target.state, another
 * step's outputs) again, which may have changed since (a drill's cleanup
 * reads target.state, which the cleanup itself changes). A task the
 * journal says nothing of is decided now. Decisions are kept per segment
 * (journal_int.h): a retry decides anew a task that failed before its
 * first attempt, and its later segment may decide it otherwise.
 */
static void put_key(dr_buf *b, const char *ph, const char *undoes, const char *step, const char *target)
{
	dr_buf_printf(b, "%s\x1f%s\x1f%s\x1f%s", ph ? ph : "", undoes ? undoes : "", step, target ? target : "");
}

/* A task's key in decided: the segment of the decision, then the task's (put_key). */
static void put_decision_key(dr_buf *b, size_t seg, const char *ph, const char *undoes, const char *step,
			     const char *target)
{
	dr_buf_printf(b, "%zu\x1d", seg);
	put_key(b, ph, undoes, step, target);
}

/* rec's key in decided (segment seg), in x's arena. */
static char *decision_key(dr_exec *x, size_t seg, const cJSON *rec)
{
	dr_buf b;
	dr_buf_init(&b);
	put_decision_key(&b, seg, sval(rec, "phase"), sval(rec, "undoes"), sval(rec, "step"), sval(rec, "target"));
	char *key = dr_arena_strdup(x->a, b.data);
	dr_buf_dispose(&b);
	return key;
}

static bool is(const char *a, const char *b)
{
	return a && !strcmp(a, b);
}

/* What rec says of its task's when: 1 went, 0 skipped, 2 failed before its first attempt, -1 nothing. */
static int decision_of(const cJSON *rec, const char *type)
{
	if (is(type, "task.start"))
		return 1;
	if (is(type, "task.end") && nval(rec, "attempt", -1) == 0 && is(sval(rec, "status"), "failed"))
		return 2;
	return is(type, "task.skip") && is(sval(rec, "reason"), SCHED_WHEN_FALSE) ? 0 : -1;
}

/* The records the scheduler writes again by itself when the replay ends before them (told). */
static bool retold(const char *type)
{
	return is(type, "step.start") || is(type, "task.skip") || is(type, "step.end");
}

/* The start of a record's key in told: its event and status (a step.end's), then its decision_key. */
static void put_told(dr_buf *b, const cJSON *rec)
{
	const char *status = sval(rec, "status");
	dr_buf_printf(b, "%s\x1e%s\x1e", sval(rec, "event"), status ? status : "");
}

static char *told_key(dr_exec *x, const cJSON *rec)
{
	dr_buf b;
	dr_buf_init(&b);
	put_told(&b, rec);
	put_key(&b, sval(rec, "phase"), sval(rec, "undoes"), sval(rec, "step"), sval(rec, "target"));
	char *key = dr_arena_strdup(x->a, b.data);
	dr_buf_dispose(&b);
	return key;
}

/*
 * Index the decisions, except those of finally steps that run again (after
 * a cancellation of the main steps, or in a failed run being retried), as
 * apply() leaves their records aside. The step.start, task.skip and
 * step.end records past the replay's end are the scheduler's own doing
 * that it does again once the replay is over (the finally steps started,
 * one skipped, before the crash): they go to told, so that they are not
 * journaled twice (journal_told); not after a cancellation or in a failed
 * run being retried, where the steps go on and end otherwise.
 */
static void scan_decisions(dr_exec *x)
{
	struct jrun *jr = x->jr;
	const dr_journal_file *f = jr->rs;
	size_t seg = 0;
	bool cancelled = false, in_finally = false;
	for (size_t i = 0; i < f->n; i++) {
		const cJSON *rec = f->recs[i];
		const char *type = sval(rec, "event"), *ph = sval(rec, "phase"), *step = sval(rec, "step");
		seg += dr_journal_is_retry(rec);
		if (is(type, "run.resume"))
			cancelled = false;
		cancelled = cancelled || (is(type, "run.cancel") && !in_finally);
		if (!step)
			continue;
		in_finally = is(ph, "finally");
		if (in_finally && (cancelled || (seg < jr->n_segs && jr->segs[seg].retried)))
			continue;
		int d = decision_of(rec, type);
		if (d >= 0)
			dr_strmap_put(&jr->decided, decision_key(x, seg, rec), (size_t)d);
		if (i >= jr->end && retold(type) && !cancelled && !(seg < jr->n_segs && jr->segs[seg].retried))
			dr_strmap_put(&jr->told, told_key(x, rec), 1);
	}
}

static const char *phase_name(const srun *s)
{
	return s->ph == PH_FINALLY ? "finally" : s->ph == PH_ROLLBACK ? "rollback" : NULL;
}

/* t's key in told, and in decided after its segment (put_decision_key), in b. */
static void task_key(const dr_exec *x, const task *t, dr_buf *b)
{
	const srun *s = t->s;
	put_key(b, phase_name(s), s->undoes ? s->undoes->id : NULL, s->id, t->vm == NO_VM ? NULL : x->vms[t->vm].name);
}

bool journal_when_decided(dr_exec *x, const task *t, bool *go)
{
	struct jrun *jr = x->jr;
	if (!jr || !jr->decided.n || !t->s->st->when)
		return false;
	dr_buf key;
	dr_buf_init(&key);
	dr_buf_printf(&key, "%zu\x1d", jr->seg); /* put_decision_key */
	task_key(x, t, &key);
	size_t d = 0;
	bool found = dr_strmap_get(&jr->decided, key.data, &d);
	dr_buf_dispose(&key);
	if (found)
		*go = d != 0; /* 2: it failed before its first attempt: ready, and its task.end fails it as it failed */
	return found;
}

bool journal_replaying(const dr_exec *x)
{
	return x->jr && x->jr->replaying;
}

bool journal_told(dr_exec *x, const cJSON *ev, const srun *s, const task *t)
{
	struct jrun *jr = x->jr;
	if (!jr || jr->replaying || !jr->told.n)
		return false;
	dr_buf key;
	dr_buf_init(&key);
	put_told(&key, ev);
	if (t)
		task_key(x, t, &key);
	else
		put_key(&key, phase_name(s), s->undoes ? s->undoes->id : NULL, s->id, NULL);
	size_t v = 0;
	bool told = dr_strmap_get(&jr->told, key.data, &v) && v == 1;
	if (told)
		dr_strmap_put(&jr->told, key.data, 0); /* once: a later one (a finally step run again) is new */
	dr_buf_dispose(&key);
	return told;
}

/* --- stopping the session ------------------------------------------------- */

static void say(dr_exec *x, const char *text)
{
	dr_exec_say(x, text);
}

static int suspend(dr_exec *x, const char *text)
{
	struct jrun *jr = x->jr;
	jr->suspended = true;
	jr->replaying = false;
	dr_clock_unpin(x->clock);
	dr_events_set_replay(x->ev, false);
	say(x, text);
	return -1;
}

static int mismatch(dr_exec *x, size_t line, const cJSON *rec, const char *why)
{
	const char *target = sval(rec, "target");
	return suspend(x, dr_arena_printf(
				  x->a,
				  "resume stopped: %s:%zu (%s of %s%s%s%s) does not fit the runbook: %s.\n"
				  "Nothing was started. The runbook or what it reads (parameters, inventory, environment) is "
				  "not what the run had; resume with the same, or with --force to leave such records aside",
				  x->jr->rs->path, line, sval(rec, "event"), sval(rec, "step") ? sval(rec, "step") : "?",
				  target ? "[" : "", target ? target : "", target ? "]" : "", why));
}

/* The journal's line of the record the replay is at, and its last line (records and lines differ: compacted lines). */
static size_t at_line(const struct jrun *jr)
{
	return jr->next ? jr->rs->lines[jr->next - 1] : 1;
}

static size_t last_line(const struct jrun *jr)
{
	return jr->rs->n ? jr->rs->lines[jr->rs->n - 1] : 1;
}

/*
 * A signal (SIGINT, SIGTERM) came while the journal was read or replayed: the session stops before it asks the
 * service anything or starts anything, and journals nothing (journal_finish discards its run.resume): the run is
 * as its last session left it. -1, as suspend.
 */
static int stop_signalled(dr_exec *x, int sig)
{
	struct jrun *jr = x->jr;
	dr_buf c;
	dr_buf_init(&c);
	jr->signalled = true;
	x->stop_reason = sig == SIGTERM ? "cancelled (SIGTERM) while the resume replayed the journal"
					: "cancelled (SIGINT) while the resume replayed the journal";
	const char *text = dr_arena_printf(
		x->a,
		"resume stopped: cancelled (%s) while replaying the journal (at line %zu of %zu), before this session asked "
		"the service anything or started anything: the run is as its last session left it, and nothing was added "
		"to its journal. Go on with the run when ready: %s",
		sig == SIGTERM ? "SIGTERM" : "SIGINT", at_line(jr), last_line(jr), dr_journal_command(&c, "resume", x->state_dir, x->run_id));
	dr_buf_dispose(&c);
	return suspend(x, text);
}

/* The replay's clock reached the test hook's time (DROVER_TEST_SIGNAL_AT), then whether a signal came: its number. */
static int signalled(dr_exec *x)
{
	if (x->o.signal_at_ms >= 0 && dr_clock_now(x->clock) >= x->o.signal_at_ms)
		signals_hook(x);
	return signals_pending(x);
}

/* --- settling the unknown ------------------------------------------------- */

typedef struct settle {
	task *t;
	dr_probe_result pr;
	bool rerun; /* no probe, changes nothing: call it again */
} settle;

static const char *const probe_names[] = {
	[DR_PROBE_DONE] = "done",     [DR_PROBE_RUNNING] = "running", [DR_PROBE_NOT_STARTED] = "not_started",
	[DR_PROBE_FAILED] = "failed", [DR_PROBE_UNKNOWN] = "unknown",
};

static settle probe_one(dr_exec *x, task *t)
{
	const dr_action *act = t->s->act;
	settle st = {.t = t};
	if (act && act->probe) {
		t->call.now_ms = dr_clock_now(x->clock);
		t->call.state = NULL;
		st.pr = act->probe(&t->call);
	} else if (act && !(act->flags & DR_AF_MUTATING)) {
		st.rerun = true;
	} else {
		st.pr.status = DR_PROBE_UNKNOWN;
		st.pr.message = xstrdup(dr_arena_printf(x->a, "the action %s has no probe: drover cannot ask the service "
							      "whether this attempt happened",
							act ? act->name : "?"));
	}
	return st;
}

static void emit_probe(dr_exec *x, const settle *st)
{
	char key[512];
	task *t = st->t;
	cJSON *ev = sched_event(x, "task.probe", t->s, t);
	cJSON_AddNumberToObject(ev, "attempt", t->attempt);
	dr_exec_idempotency_key(&t->call, key, sizeof key);
	cJSON_AddStringToObject(ev, "key", key);
	cJSON_AddStringToObject(ev, "probe", st->rerun ? "rerun" : probe_names[st->pr.status]);
	if (st->pr.message)
		cJSON_AddStringToObject(ev, "message", st->pr.message);
	dr_events_emit(x->ev, ev);
}

/* Act on what the probe said. */
static void settle_one(dr_exec *x, settle *st)
{
	task *t = st->t;
	dr_probe_result *pr = &st->pr;
	if (st->rerun || pr->status == DR_PROBE_NOT_STARTED) {
		sched_call(x, t);
	} else if (pr->status == DR_PROBE_DONE) {
		sched_outcome(x, t, dr_outcome_ok(pr->outputs));
		pr->outputs = NULL;
	} else if (pr->status == DR_PROBE_RUNNING) {
		sched_outcome(x, t, dr_outcome_wait(pr->wait_ms > 0 ? pr->wait_ms : 1));
	} else if (pr->status == DR_PROBE_FAILED) {
		sched_outcome(x, t, dr_outcome_fail(pr->cls ? pr->cls : DR_ERRC_PERMANENT, "%s",
						    pr->message ? pr->message : "failed (found by the probe)"));
	}
	free(pr->message);
	cJSON_Delete(pr->outputs);
}

static void collect_in_flight(srun *runs, size_t n, task ***v, size_t *nv, size_t *cap)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < runs[i].n_tasks; k++) {
			task *t = &runs[i].tasks[k];
			if (t->state != TS_RUNNING && t->state != TS_WAITING)
				continue;
			if (*nv == *cap) {
				*cap = *cap ? 2 * *cap : 16;
				*v = xrealloc(*v, *cap * sizeof **v);
			}
			(*v)[(*nv)++] = t;
		}
}

/* Every task started and not ended when the journal stops. */
static task **in_flight(dr_exec *x, size_t *n)
{
	task **v = NULL;
	size_t cap = 0;
	*n = 0;
	collect_in_flight(x->main, x->n_main, &v, n, &cap);
	for (size_t u = 0; u < x->n_units; u++)
		collect_in_flight(x->units[u], 1, &v, n, &cap);
	collect_in_flight(x->fin, x->n_fin, &v, n, &cap);
	return v;
}

static int stop_for_unknown(dr_exec *x, settle *sv, size_t n)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_puts(&b, "resume stopped: drover cannot tell what became of these operations, started before it stopped:\n");
	for (size_t i = 0; i < n; i++) {
		char key[512];
		task *t = sv[i].t;
		if (sv[i].rerun || sv[i].pr.status != DR_PROBE_UNKNOWN)
			continue;
		dr_exec_idempotency_key(&t->call, key, sizeof key);
		dr_buf_printf(&b, "  %s attempt %d (%s, idempotency key %s): %s\n", exec_task_label(x, t), t->attempt,
			      t->s->act ? t->s->act->name : "?", key, sv[i].pr.message ? sv[i].pr.message : "unknown");
	}
	dr_buf_puts(&b, "Nothing was started. Look each one up in the service (its jobs, the VM's protection state; "
			"'drover sim show' for the simulator), then run ");
	dr_journal_command(&b, "resume", x->state_dir, x->run_id);
	dr_buf_puts(&b, " again");
	for (size_t i = 0; i < n; i++) {
		if (sv[i].t->call.state && sv[i].t->s->act->cancel)
			sv[i].t->s->act->cancel(&sv[i].t->call);
		sv[i].t->call.state = NULL;
		free(sv[i].pr.message);
		cJSON_Delete(sv[i].pr.outputs);
	}
	int rc = suspend(x, dr_arena_strndup(x->a, b.data, b.len));
	dr_buf_dispose(&b);
	return rc;
}

/* Probe every task in flight; act on them all unless one cannot be told. */
static int settle_all(dr_exec *x)
{
	size_t n;
	task **v = in_flight(x, &n);
	settle *sv = xcalloc(n + 1, sizeof *sv);
	size_t unknown = 0;
	for (size_t i = 0; i < n; i++) {
		sv[i] = probe_one(x, v[i]);
		emit_probe(x, &sv[i]);
		unknown += !sv[i].rerun && sv[i].pr.status == DR_PROBE_UNKNOWN;
	}
	int rc = 0;
	if (unknown) {
		rc = stop_for_unknown(x, sv, n);
	} else {
		for (size_t i = 0; i < n; i++)
			settle_one(x, &sv[i]);
	}
	free(sv);
	free(v);
	return rc;
}

/* --- the replay ----------------------------------------------------------- */

/* The records after the last one the replay acts on tell nothing new, but must fit the runbook too. */
static int check_rest(dr_exec *x)
{
	struct jrun *jr = x->jr;
	const dr_journal_file *f = jr->rs;
	for (size_t i = jr->next; i < f->n; i++) {
		const char *why = "";
		if (!foreign(x, f->recs[i], &why))
			continue;
		if (!x->o.force)
			return mismatch(x, f->lines[i], f->recs[i], why);
		jr->ignored++;
	}
	jr->next = f->n;
	return 0;
}

/* What has not started is checked against the service before anything is asked or started (exec_preflight.c). */
static int preflight(dr_exec *x)
{
	dr_buf b;
	dr_buf_init(&b);
	int rc = exec_preflight_resume(x, &b) < 0 ? suspend(x, dr_arena_strndup(x->a, b.data, b.len)) : 0;
	dr_buf_dispose(&b);
	return rc;
}

static int end_replay(dr_exec *x)
{
	struct jrun *jr = x->jr;
	int sig = signalled(x); /* the last moment before the service is asked */
	if (sig)
		return stop_signalled(x, sig);
	if (check_rest(x) < 0)
		return -1;
	jr->replaying = false;
	dr_clock_unpin(x->clock);
	dr_events_set_replay(x->ev, false);
	if (retrying(jr))
		retry_point(x); /* this session's own retry */
	if (jr->ignored && x->o.force)
		say(x, dr_arena_printf(x->a, "resume --force: %zu journal records did not fit the changed runbook and were "
					     "left aside",
				       jr->ignored));
	return preflight(x) < 0 ? -1 : settle_all(x);
}

/*
 * Apply records up to the next one that changes state. The replay ends
 * right after the last such record, before the scheduler goes on from it,
 * so that a run that ends with that record ends live (its run.end is
 * journaled); the records after it only tell what the scheduler does again.
 */
int journal_replay(dr_exec *x)
{
	struct jrun *jr = x->jr;
	if (!jr || !jr->replaying)
		return 0;
	const dr_journal_file *f = jr->rs;
	while (jr->next < jr->end) {
		size_t i = jr->next++;
		const cJSON *rec = f->recs[i];
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(rec, "t_ms");
		if (cJSON_IsNumber(t))
			dr_clock_pin(x->clock, (int64_t)t->valuedouble);
		int sig = signalled(x);
		if (sig)
			return stop_signalled(x, sig);
		const char *why = "";
		applied a = foreign(x, rec, &why) ? MISMATCH : apply(x, rec, &why);
		if (a == APPLIED) {
			jr->replayed++;
			if (jr->next == jr->end)
				return end_replay(x) < 0 ? -1 : 1;
			return 1;
		}
		if (a == MISMATCH && !x->o.force)
			return mismatch(x, f->lines[i], rec, why);
		if (a == MISMATCH)
			jr->ignored++;
	}
	return end_replay(x) < 0 ? -1 : 0;
}

static int64_t last_t(const dr_journal_file *f)
{
	return f->n ? (int64_t)nval(f->recs[f->n - 1], "t_ms", 0) : 0;
}

/* Records that may change the scheduler's state (what apply() acts on). */
static bool acts(const cJSON *rec)
{
	const char *type = sval(rec, "event");
	return !strcmp(type, "task.start") || !strcmp(type, "task.end") || !strcmp(type, "task.person") ||
	       !strcmp(type, "step.timeout") || !strcmp(type, "run.timeout") || dr_journal_is_retry(rec);
}

void resume_begin(dr_exec *x)
{
	struct jrun *jr = x->jr;
	const dr_journal_file *f = jr->rs;
	index_vms(x, jr);
	scan_segments(x);
	for (size_t i = f->n; i > 0 && !jr->end; i--)
		if (acts(f->recs[i - 1]))
			jr->end = i;
	scan_decisions(x);
	int64_t now = dr_clock_now(x->clock), down = now - last_t(f);
	cJSON *ev = dr_event_new(x->ev, "run.resume");
	cJSON_AddStringToObject(ev, "run", x->run_id);
	cJSON_AddNumberToObject(ev, "session", (double)f->sessions + 1);
	cJSON_AddNumberToObject(ev, "records", (double)f->n);
	cJSON_AddNumberToObject(ev, "stopped_at_ms", (double)last_t(f));
	cJSON_AddNumberToObject(ev, "downtime_ms", (double)(down > 0 ? down : 0));
	if (f->torn) {
		cJSON_AddNumberToObject(ev, "torn_line", (double)f->torn_line);
		cJSON_AddNumberToObject(ev, "torn_bytes", (double)f->torn_bytes);
	}
	if (x->o.force)
		cJSON_AddBoolToObject(ev, "force", true);
	if (x->o.retry_failed)
		cJSON_AddBoolToObject(ev, "retry_failed", true);
	dr_events_emit(x->ev, ev);
	jr->replaying = true;
	dr_events_set_replay(x->ev, true);
	dr_clock_pin(x->clock, 0); /* the main steps are released at the run's start, as they were */
}

void resume_dispose(struct jrun *jr)
{
	dr_strmap_dispose(&jr->vm_index);
	dr_strmap_dispose(&jr->decided);
	dr_strmap_dispose(&jr->told);
}
