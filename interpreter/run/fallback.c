/*
 * fallback.c - the recovery point fallback: when a VM fails its validation
 * before commit, apply the next point of recovery.fallback with
 * dr.change_recovery_point and validate again (docs/execution.md,
 * "Recovery point fallback").
 *
 * Which validations count: a task of a DR_AF_VALIDATION step fanned out
 * over VMs, whose VM was failed over by a dr.failover step the validation
 * needs (directly or not) and that succeeded, when no dr.commit of that VM
 * can have started (every commit step targeting it needs the validation),
 * outside drills (a test failover's point cannot be changed).
 *
 * The task itself carries the change: when its last attempt has failed,
 * sched.c asks fallback_begin; if a fallback point qualifies (it exists, is
 * not older than recovery.max_age and is not the point the VM already
 * runs on; the others are passed over with a note), the task's call turns
 * into a dr.change_recovery_point call (same slot, same deadlines except
 * the attempt timeout) that the scheduler drives like any action. When the
 * change succeeds the task goes back to ready and validates again with
 * fresh attempts (fallback_applied); when it fails, the task fails with
 * both messages (fallback_stop). Each fallback policy is tried at most once
 * per task.
 *
 * Resume: the journal does not keep the fallback's events yet, so while a
 * resume replays the journal no fallback starts (it must never start an
 * operation); a run that crashed during a fallback resumes from its
 * validation's failure, and a person checks the VM (drover status).
 */
#include "journal/journal_int.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backends/backend.h"
#include "util/buf.h"
#include "util/text.h"
#include "util/xalloc.h"

struct fallback {
	size_t next; /* the next index into recovery.fallback to try */
	int rounds; /* changes started */
	bool running; /* a change runs now: the task's call is dr.change_recovery_point's */
	bool over; /* no more rounds (a change failed) */
	const char *policy; /* the policy being applied */
	char *failure; /* heap: the validation failure that started the round */
	cJSON *with; /* {recovery_point: ...} of the running change */
	cJSON *outputs; /* the last successful change's outputs (the VM's point now) */
	uint64_t done_seq; /* when it succeeded, for the RPO report */
};

/* --- which validations count ---------------------------------------------- */

static size_t plan_index(const dr_exec *x, const srun *s)
{
	return (size_t)(s - x->main);
}

static bool is_main(const dr_exec *x, const srun *s)
{
	return s >= x->main && s < x->main + x->n_main;
}

/* A dr.failover step the validation needs whose task for the VM succeeded. */
static bool failed_over_upstream(dr_exec *x, const task *t)
{
	size_t v = plan_index(x, t->s);
	for (size_t i = 0; i < x->n_main; i++) {
		srun *f = &x->main[i];
		if (!f->act || !(f->act->flags & DR_AF_FAILOVER) || !dr_plan_precedes(x->plan, i, v))
			continue;
		task *ft = sched_task_for_vm(f, t->vm);
		if (ft && ft->state == TS_SUCCEEDED)
			return true;
	}
	return false;
}

/* Every commit step that targets the VM needs the validation (so none can have started). */
static bool before_every_commit(dr_exec *x, const task *t)
{
	size_t v = plan_index(x, t->s);
	for (size_t i = 0; i < x->n_main; i++) {
		srun *c = &x->main[i];
		if (c->act && (c->act->flags & DR_AF_COMMIT) && sched_task_for_vm(c, t->vm) &&
		    !dr_plan_precedes(x->plan, v, i))
			return false;
	}
	return true;
}

static bool eligible(dr_exec *x, const task *t)
{
	const srun *s = t->s;
	if (x->o.mode == DR_MODE_DRILL || !x->rb->recovery.n_fallback || x->stopping || s->timed_out)
		return false;
	if (x->point)
		return false; /* --recovery-point: the incident's decision; a failed validation is for people to judge */
	if (x->jr && x->jr->replaying)
		return false; /* a resume retells what happened; it never starts an operation (see the file's top) */
	if (!is_main(x, s) || !s->act || !(s->act->flags & DR_AF_VALIDATION) || t->vm == NO_VM)
		return false;
	if (t->cls == DR_ERRC_CANCELLED || (t->fb && (t->fb->over || t->fb->running)))
		return false;
	return dr_exec_backend(x) && failed_over_upstream(x, t) && before_every_commit(x, t);
}

/* --- choosing the next point ----------------------------------------------- */

static void note(dr_exec *x, task *t, const char *policy, const char *why)
{
	cJSON *ev = sched_event(x, "fallback.pass", t->s, t);
	cJSON_AddStringToObject(ev, "point", policy);
	cJSON_AddStringToObject(ev, "reason", why);
	dr_events_emit(x->ev, ev);
}

/*
 * Whether policy p gives VM t->vm a usable point other than the one it
 * runs on: it exists and is not older than max_age (measured at the
 * failover, when replication stopped). The point's name goes
 * to *id. On a backend error the policy is passed over with a note.
 */
static bool usable(dr_exec *x, task *t, dr_point_policy p, dr_arena *a, const char **id)
{
	dr_backend *be = dr_exec_backend(x);
	int64_t now = dr_exec_wall(x, dr_clock_now(x->clock));
	const char *name = x->vms[t->vm].id ? x->vms[t->vm].id : x->vms[t->vm].name;
	dr_be_item it;
	dr_be_point *pts = NULL;
	size_t n = 0;
	dr_be_error e;
	if (dr_backend_get_item(be, a, now, name, &it, &e) < 0 || dr_backend_list_points(be, a, now, it.id, &pts, &n, &e) < 0) {
		note(x, t, dr_point_policy_name(p), dr_backend_error_text(a, &e));
		return false;
	}
	dr_be_point_query q = {.policy = p, .max_age_ms = x->rb->recovery.max_age_ms};
	dr_be_choice c;
	/* after a failover replication stands still: ages count to when the failover started, as dr.* do */
	int64_t ref = it.last_failover_ms >= 0 ? it.last_failover_ms : dr_backend_now(be, now);
	dr_be_pick pick = dr_backend_choose_point(&it, pts, n, &q, ref, &c);
	char age[32] = "";
	dr_text_human_duration(c.age_ms > 0 ? c.age_ms : 0, age, sizeof age);
	if (pick == DR_BE_PICK_NONE || !c.point)
		note(x, t, dr_point_policy_name(p), "no such recovery point");
	else if (pick == DR_BE_PICK_TOO_OLD)
		note(x, t, dr_point_policy_name(p), dr_arena_printf(a, "the point is %s old, older than recovery.max_age", age));
	else if (it.failover_point_id && strcmp(it.failover_point_id, c.point->id) == 0)
		note(x, t, dr_point_policy_name(p), "it is the point the VM already runs on");
	else {
		*id = dr_arena_strdup(x->a, c.point->name);
		return true;
	}
	return false;
}

/* --- the round --------------------------------------------------------------- */

static void start_change(dr_exec *x, task *t, const dr_action *change, const char *point_id)
{
	struct fallback *fb = t->fb;
	fb->running = true;
	fb->rounds++;
	free(fb->failure);
	fb->failure = xstrdup(t->message ? t->message : "failed");
	fb->with = cJSON_CreateObject();
	cJSON *rp = cJSON_AddObjectToObject(fb->with, "recovery_point");
	cJSON_AddStringToObject(rp, "id", point_id);
	cJSON *ev = sched_event(x, "fallback.start", t->s, t);
	cJSON_AddNumberToObject(ev, "round", fb->rounds);
	cJSON_AddStringToObject(ev, "point", fb->policy);
	cJSON_AddStringToObject(ev, "point_id", point_id);
	cJSON_AddStringToObject(ev, "after", fb->failure);
	dr_events_emit(x->ev, ev);
	t->attempt_at = dr_clock_now(x->clock);
	t->deadline = sched_step_deadline(x, t->s); /* the step's time as its attempts count it */
	t->call.action = change;
	t->call.with = fb->with;
	t->call.state = NULL;
	t->call.attempt = fb->rounds;
	t->call.deadline_ms = t->deadline;
	sched_call(x, t);
}

bool fallback_begin(dr_exec *x, task *t)
{
	const dr_action *change = dr_action_find("dr.change_recovery_point");
	if (!change || !change->run || !eligible(x, t))
		return false;
	if (!t->fb)
		t->fb = dr_arena_calloc(x->a, 1, sizeof *t->fb);
	dr_arena *a = dr_arena_new();
	const dr_recovery *r = &x->rb->recovery;
	const char *id = NULL;
	while (t->fb->next < r->n_fallback && !id) {
		dr_point_policy p = r->fallback[t->fb->next++];
		if (usable(x, t, p, a, &id))
			t->fb->policy = dr_point_policy_name(p);
	}
	dr_arena_free(a);
	if (!id)
		return false;
	start_change(x, t, change, id);
	return true;
}

static void end_round(dr_exec *x, task *t, const char *status, const char *message)
{
	struct fallback *fb = t->fb;
	cJSON *ev = sched_event(x, "fallback.end", t->s, t);
	cJSON_AddNumberToObject(ev, "round", fb->rounds);
	cJSON_AddStringToObject(ev, "point", fb->policy);
	cJSON_AddStringToObject(ev, "status", status);
	if (message)
		cJSON_AddStringToObject(ev, "message", message);
	if (fb->outputs && !strcmp(status, "applied"))
		cJSON_AddItemToObject(ev, "outputs", cJSON_Duplicate(fb->outputs, true));
	dr_events_emit(x->ev, ev);
	cJSON_Delete(fb->with);
	fb->with = NULL;
	fb->running = false;
	t->call.action = t->s->act;
	t->call.with = t->with;
	t->call.state = NULL;
}

bool fallback_running(const task *t)
{
	return t->fb && t->fb->running;
}

void fallback_applied(dr_exec *x, task *t, cJSON *outputs)
{
	struct fallback *fb = t->fb;
	cJSON_Delete(fb->outputs);
	fb->outputs = outputs ? outputs : cJSON_CreateObject();
	cJSON *rp = cJSON_GetObjectItemCaseSensitive(fb->outputs, "recovery_point");
	if (cJSON_IsObject(rp)) { /* the change named the point by id: say which fallback policy chose it */
		cJSON_ReplaceItemInObjectCaseSensitive(rp, "policy", cJSON_CreateString(fb->policy));
		cJSON_ReplaceItemInObjectCaseSensitive(rp, "fallback", cJSON_CreateTrue());
	}
	fb->done_seq = ++x->done_seq;
	end_round(x, t, "applied", NULL);
	sched_requeue(x, t);
}

void fallback_stop(dr_exec *x, task *t, dr_err_class *cls, char **msg)
{
	struct fallback *fb = t->fb;
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "validation failed (%s), and changing to the fallback recovery point %s failed: %s",
		      fb->failure ? fb->failure : "?", fb->policy, *msg ? *msg : "?");
	end_round(x, t, "failed", *msg);
	free(*msg);
	*msg = dr_buf_detach(&b);
	fb->over = true;
	if (*cls != DR_ERRC_CANCELLED)
		*cls = DR_ERRC_PERMANENT;
}

const cJSON *fallback_point(const task *t, uint64_t *done_seq)
{
	if (!t->fb || !t->fb->outputs)
		return NULL;
	*done_seq = t->fb->done_seq;
	return t->fb->outputs;
}

void fallback_dispose(task *t)
{
	if (!t->fb)
		return;
	cJSON_Delete(t->fb->with);
	cJSON_Delete(t->fb->outputs);
	free(t->fb->failure);
	t->fb = NULL;
}
