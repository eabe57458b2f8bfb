/*
 * runinfo.c - the run model (see runinfo.h): its memory, its indexes, and
 * the fold of one record into it.
 *
 * Each record type has a handler in a table. A handler finds what the
 * record is about through the indexes (a step by id, phase and the step it
 * undoes; a task by step and target; a VM by name), so a record costs the
 * same at any size of run. Task states move only through set_state, which
 * keeps the per-step counts and the in-flight count as they change: no
 * view has to count by scanning.
 */
#include "journal/runinfo.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "actions/action.h"
#include "backends/backend.h"
#include "run/events.h"
#include "util/arena.h"
#include "util/xalloc.h"

/* --- states ----------------------------------------------------------------- */

static const char *const state_names[DR_RI__STATES] = {
	[DR_RI_PENDING] = "pending",	 [DR_RI_RUNNING] = "running", [DR_RI_RETRYING] = "retrying",
	[DR_RI_SUCCEEDED] = "succeeded", [DR_RI_FAILED] = "failed",   [DR_RI_SKIPPED] = "skipped",
	[DR_RI_CANCELLED] = "cancelled", [DR_RI_ROLLED_BACK] = "rolled_back",
};

const char *dr_ri_state_name(dr_ri_state s)
{
	return s < DR_RI__STATES ? state_names[s] : "?";
}

bool dr_ri_state_final(dr_ri_state s)
{
	return s >= DR_RI_SUCCEEDED && s < DR_RI__STATES;
}

static dr_ri_state state_of(const char *name, dr_ri_state dflt)
{
	for (int s = 0; name && s < DR_RI__STATES; s++)
		if (!strcmp(state_names[s], name))
			return (dr_ri_state)s;
	return dflt;
}

/* --- reading records --------------------------------------------------------- */

static const cJSON *item(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static const char *sval(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(item(o, key));
}

static int64_t nval(const cJSON *o, const char *key, int64_t dflt)
{
	const cJSON *v = item(o, key);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : dflt;
}

static bool bval(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(item(o, key));
}

/* A copy of s owned by the model (NULL stays NULL). */
static const char *keep(dr_runinfo *ri, const char *s)
{
	return s ? dr_arena_strdup(ri->a, s) : NULL;
}

static const char *keep_field(dr_runinfo *ri, const cJSON *rec, const char *key)
{
	return keep(ri, sval(rec, key));
}

/*
 * keys[0..n) of o read in one pass over its members: out[k] the member, or
 * NULL. A record is read once, not once per key (a key absent from it, the
 * common case, cost a scan of every member); the first letter is compared
 * before the rest.
 */
static void members(const cJSON *o, const char *const *keys, int n, const cJSON **out)
{
	for (int k = 0; k < n; k++)
		out[k] = NULL;
	for (const cJSON *c = o ? o->child : NULL; c; c = c->next)
		for (int k = 0; k < n && c->string; k++)
			if (!out[k] && c->string[0] == keys[k][0] && !strcmp(c->string, keys[k])) {
				out[k] = c;
				break;
			}
}

static const char *str_of(const cJSON *c)
{
	return cJSON_GetStringValue(c);
}

static const char *keep_str(dr_runinfo *ri, const cJSON *c)
{
	return keep(ri, str_of(c));
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* Append v to a heap array of size_t. */
static void push_index(size_t **v, size_t *n, size_t val)
{
	if ((*n & (*n - 1)) == 0) /* 0, 1, 2, 4, ...: grow by doubling */
		*v = xrealloc(*v, (*n ? 2 * *n : 1) * sizeof **v);
	(*v)[(*n)++] = val;
}

/* --- memory ------------------------------------------------------------------------ */

void dr_runinfo_init(dr_runinfo *ri)
{
	*ri = (dr_runinfo){
		.a = dr_arena_new(),
		.status = "running",
		.rto_objective_ms = -1,
		.rpo_objective_ms = -1,
		.sessions = 1,
		.cancel_ms = -1,
	};
	dr_index_init(&ri->step_ix);
	dr_index_init(&ri->task_ix);
	dr_index_init(&ri->vm_ix);
	pthread_mutex_init(&ri->mu, NULL);
}

void dr_runinfo_dispose(dr_runinfo *ri)
{
	if (!ri->a)
		return;
	for (size_t i = 0; i < ri->n_tasks; i++)
		free(ri->tasks[i].attempts);
	for (size_t i = 0; i < ri->n_steps; i++)
		free(ri->steps[i].tasks);
	for (size_t i = 0; i < ri->n_vms; i++)
		free(ri->vms[i].tasks);
	cJSON_Delete((cJSON *)ri->drill.leftovers);
	free(ri->steps);
	free(ri->tasks);
	free(ri->vms);
	dr_index_dispose(&ri->step_ix);
	dr_index_dispose(&ri->task_ix);
	dr_index_dispose(&ri->vm_ix);
	dr_journal_file_dispose(&ri->f);
	dr_arena_free(ri->a);
	pthread_mutex_destroy(&ri->mu);
	*ri = (dr_runinfo){0};
}

void dr_runinfo_lock(dr_runinfo *ri)
{
	pthread_mutex_lock(&ri->mu);
}

void dr_runinfo_unlock(dr_runinfo *ri)
{
	pthread_mutex_unlock(&ri->mu);
}

/* --- steps, tasks, VMs ------------------------------------------------------------- */

static uint64_t step_hash(const char *id, const char *phase, const char *undoes)
{
	return dr_index_hash(dr_index_hash(dr_index_hash(DR_INDEX_SEED, id), phase), undoes);
}

static size_t find_step(const dr_runinfo *ri, const char *id, const char *phase, const char *undoes)
{
	uint64_t h = step_hash(id, phase, undoes);
	for (size_t pos = 0, i; (i = dr_index_next(&ri->step_ix, h, &pos)) != DR_INDEX_NONE;) {
		const dr_ri_step *s = &ri->steps[i];
		if (same(s->id, id) && same(s->phase, phase) && same(s->undoes, undoes))
			return i;
	}
	return DR_INDEX_NONE;
}

static unsigned action_flags(const char *action)
{
	const dr_action *a = action ? dr_action_find(action) : NULL;
	return a ? a->flags : 0;
}

static void set_action(dr_runinfo *ri, dr_ri_step *s, const char *action)
{
	if (!action || same(s->action, action))
		return;
	s->action = keep(ri, action);
	s->flags = action_flags(action);
}

static size_t step_at(dr_runinfo *ri, const char *id, const char *phase, const char *undoes)
{
	size_t i = ri->last_step; /* a step's records come in runs: the last one found first */
	if (i < ri->n_steps && same(ri->steps[i].id, id) && same(ri->steps[i].phase, phase) &&
	    same(ri->steps[i].undoes, undoes))
		return i;
	i = find_step(ri, id, phase, undoes);
	if (i != DR_INDEX_NONE)
		return ri->last_step = i;
	if (ri->n_steps == ri->cap_steps) {
		ri->cap_steps = ri->cap_steps ? 2 * ri->cap_steps : 16;
		ri->steps = xrealloc(ri->steps, ri->cap_steps * sizeof *ri->steps);
	}
	i = ri->n_steps++;
	ri->steps[i] = (dr_ri_step){
		.id = keep(ri, id ? id : "?"), .phase = keep(ri, phase), .undoes = keep(ri, undoes),
		.n_tasks = -1, .started_ms = -1, .ended_ms = -1,
	};
	dr_index_put(&ri->step_ix, step_hash(id ? id : "?", phase, undoes), i);
	if (undoes) { /* a rollback unit: its main step has an undo */
		size_t m = find_step(ri, undoes, NULL, NULL);
		if (m != DR_INDEX_NONE)
			ri->steps[m].has_undo = true;
	}
	return i;
}

/* The step a record is about: "step", "phase", "undoes" (and a unit's "action"), read in one pass (most are absent); *target its "target". */
static size_t step_and_target(dr_runinfo *ri, const cJSON *rec, const char **target)
{
	static const char *const keys[5] = {"step", "phase", "undoes", "action", "target"};
	const cJSON *f[5];
	members(rec, keys, 5, f);
	size_t i = step_at(ri, str_of(f[0]), str_of(f[1]), str_of(f[2]));
	if (f[2]) /* set_action after step_at: adding a step may move ri->steps */
		set_action(ri, &ri->steps[i], str_of(f[3]));
	if (target)
		*target = str_of(f[4]);
	return i;
}

static size_t step_of(dr_runinfo *ri, const cJSON *rec)
{
	return step_and_target(ri, rec, NULL);
}

void dr_runinfo_declare_step(dr_runinfo *ri, const char *id, const char *phase, const char *action)
{
	size_t i = step_at(ri, id, phase, NULL); /* before ri->steps is read: adding a step may move it */
	set_action(ri, &ri->steps[i], action);
}

static size_t vm_of(dr_runinfo *ri, const char *name)
{
	uint64_t h = dr_index_hash(DR_INDEX_SEED, name);
	for (size_t pos = 0, i; (i = dr_index_next(&ri->vm_ix, h, &pos)) != DR_INDEX_NONE;)
		if (!strcmp(ri->vms[i].name, name))
			return i;
	if (ri->n_vms == ri->cap_vms) {
		ri->cap_vms = ri->cap_vms ? 2 * ri->cap_vms : 16;
		ri->vms = xrealloc(ri->vms, ri->cap_vms * sizeof *ri->vms);
	}
	ri->vms[ri->n_vms] = (dr_ri_vm){.name = keep(ri, name)};
	dr_index_put(&ri->vm_ix, h, ri->n_vms);
	return ri->n_vms++;
}

static uint64_t task_hash(size_t step, const char *target)
{
	return dr_index_hash(DR_INDEX_SEED ^ ((uint64_t)step * UINT64_C(0x9e3779b97f4a7c15)), target);
}

static size_t find_task(const dr_runinfo *ri, size_t step, const char *target)
{
	uint64_t h = task_hash(step, target);
	for (size_t pos = 0, i; (i = dr_index_next(&ri->task_ix, h, &pos)) != DR_INDEX_NONE;)
		if (ri->tasks[i].step == step && same(ri->tasks[i].target, target))
			return i;
	return DR_INDEX_NONE;
}

static size_t new_task(dr_runinfo *ri, size_t step, const char *target)
{
	if (ri->n_tasks == ri->cap_tasks) {
		ri->cap_tasks = ri->cap_tasks ? 2 * ri->cap_tasks : 64;
		ri->tasks = xrealloc(ri->tasks, ri->cap_tasks * sizeof *ri->tasks);
	}
	size_t i = ri->n_tasks++;
	dr_ri_step *s = &ri->steps[step];
	ri->tasks[i] = (dr_ri_task){
		.step = step, .target = keep(ri, target), .vm = DR_INDEX_NONE, .state = DR_RI_PENDING,
		.action = s->action, .flags = s->flags, .mutating = (s->flags & DR_AF_MUTATING) != 0,
		.started_ms = -1, .ended_ms = -1, .job_started_ms = -1, .job_ended_ms = -1,
	};
	dr_index_put(&ri->task_ix, task_hash(step, target), i);
	push_index(&s->tasks, &s->n_task_refs, i);
	s->count[DR_RI_PENDING]++;
	if (target) {
		size_t v = vm_of(ri, target);
		ri->tasks[i].vm = v;
		ri->tasks[i].target = ri->vms[v].name;
		push_index(&ri->vms[v].tasks, &ri->vms[v].n_tasks, i);
	}
	return i;
}

static dr_ri_task *task_of(dr_runinfo *ri, const cJSON *rec)
{
	const char *target;
	size_t step = step_and_target(ri, rec, &target);
	size_t i = find_task(ri, step, target);
	if (i == DR_INDEX_NONE)
		i = new_task(ri, step, target); /* before ri->tasks is read: adding a task may move it */
	return &ri->tasks[i];
}

/* Every change of a task's state goes through here: the counts follow. */
static void set_state(dr_runinfo *ri, dr_ri_task *t, dr_ri_state st)
{
	dr_ri_step *s = &ri->steps[t->step];
	s->count[t->state]--;
	s->count[st]++;
	ri->in_flight -= t->state == DR_RI_RUNNING;
	ri->in_flight += st == DR_RI_RUNNING;
	t->state = st;
}

const dr_ri_step *dr_runinfo_find_step(const dr_runinfo *ri, const char *id, const char *phase, const char *undoes)
{
	size_t i = find_step(ri, id, phase, undoes);
	return i == DR_INDEX_NONE ? NULL : &ri->steps[i];
}

const dr_ri_task *dr_runinfo_find_task(const dr_runinfo *ri, const dr_ri_step *step, const char *target)
{
	size_t i = step ? find_task(ri, (size_t)(step - ri->steps), target) : DR_INDEX_NONE;
	return i == DR_INDEX_NONE ? NULL : &ri->tasks[i];
}

const dr_ri_step *dr_runinfo_task_step(const dr_runinfo *ri, const dr_ri_task *t)
{
	return &ri->steps[t->step];
}

const char *dr_runinfo_task_label(const dr_runinfo *ri, const dr_ri_task *t, char *out, size_t outsz)
{
	const dr_ri_step *s = &ri->steps[t->step];
	snprintf(out, outsz, "%s%s%s%s%s", s->undoes ? "undo " : "", s->undoes ? s->undoes : s->id, t->target ? "[" : "",
		 t->target ? t->target : "", t->target ? "]" : "");
	return out;
}

const char *dr_runinfo_step_label(const dr_ri_step *s, char *out, size_t outsz)
{
	if (s->undoes)
		snprintf(out, outsz, "undo %s", s->undoes);
	else if (s->phase)
		snprintf(out, outsz, "%s %s", s->phase, s->id);
	else
		snprintf(out, outsz, "%s", s->id);
	return out;
}

const dr_ri_attempt *dr_runinfo_last_attempt(const dr_ri_task *t)
{
	return t->n_attempts ? &t->attempts[t->n_attempts - 1] : NULL;
}

int64_t dr_runinfo_person_wait(const dr_ri_task *t, const char **asked)
{
	const dr_ri_attempt *a = dr_runinfo_last_attempt(t);
	const char *what = NULL;
	int64_t since = -1;
	if (t->state == DR_RI_RUNNING && t->approval.open) {
		since = t->approval.requested_ms;
		what = t->approval.message;
	} else if (t->state == DR_RI_RUNNING && (t->flags & DR_AF_APPROVAL) && a && a->state == DR_RI_RUNNING &&
		   !t->approval.decision) { /* a gate whose request the journal did not keep (drover was killed first) */
		since = a->started_ms;
	} else if (t->state == DR_RI_RUNNING && a && a->state == DR_RI_RUNNING && a->person_since_ms >= 0 &&
		   a->person_until_ms < 0) {
		since = a->person_since_ms;
		what = a->person_asked;
	}
	if (asked)
		*asked = what;
	return since;
}

bool dr_runinfo_task_interrupted(const dr_ri_task *t)
{
	const dr_ri_attempt *a = dr_runinfo_last_attempt(t);
	if (!t->mutating || !a || a->n == 0 || !a->called)
		return false;
	return t->state == DR_RI_RUNNING || (t->state == DR_RI_CANCELLED && a->state == DR_RI_CANCELLED);
}

/* --- where a cancellation found the run ------------------------------------------------ */

/* A step that had begun by `at` (a finally: step before it: finally: starts when the cancellation stops the main steps) and had not ended before it. */
static bool step_spans(const dr_ri_step *s, int64_t at)
{
	bool begun = s->started_ms >= 0 && (s->phase ? s->started_ms < at : s->started_ms <= at);
	bool done = s->state == DR_RI_SUCCEEDED || s->state == DR_RI_SKIPPED; /* not ended by the cancellation */
	return begun && (s->ended_ms < 0 || s->ended_ms > at || (s->ended_ms == at && !done));
}

static void add_index(size_t **list, size_t *n, size_t step, size_t cap)
{
	if (!*list)
		*list = xcalloc(cap, sizeof **list);
	(*list)[(*n)++] = step;
}

/* A mutating call of t went out by `at`. */
static bool changed_by(const dr_ri_task *t, int64_t at)
{
	for (size_t k = 0; t->mutating && k < t->n_attempts; k++)
		if (t->attempts[k].n > 0 && t->attempts[k].called && t->attempts[k].started_ms <= at)
			return true;
	return false;
}

/* An attempt of t waited for a person at `at` (task.person). */
static bool person_at(const dr_ri_task *t, int64_t at)
{
	for (size_t k = 0; k < t->n_attempts; k++) {
		const dr_ri_attempt *a = &t->attempts[k];
		if (a->person_since_ms >= 0 && a->person_since_ms <= at && (a->person_until_ms < 0 || a->person_until_ms >= at))
			return true;
	}
	return false;
}

bool dr_runinfo_completed_after_cancel(const dr_runinfo *ri, const dr_ri_step *s)
{
	return ri->cancel_ms >= 0 && s->state == DR_RI_SUCCEEDED && s->ended_ms > ri->cancel_ms;
}

void dr_runinfo_cancel_point(const dr_runinfo *ri, dr_ri_cancel_point *out)
{
	*out = (dr_ri_cancel_point){.changed = false};
	if (ri->cancel_ms < 0)
		return;
	for (size_t i = 0; i < ri->n_tasks; i++) {
		out->changed = out->changed || changed_by(&ri->tasks[i], ri->cancel_ms);
		if (person_at(&ri->tasks[i], ri->cancel_ms))
			add_index(&out->waiting, &out->n_waiting, i, ri->n_tasks);
	}
	for (size_t i = 0; i < ri->n_steps; i++) {
		const dr_ri_step *s = &ri->steps[i];
		if (s->undoes || !step_spans(s, ri->cancel_ms))
			continue;
		if (s->phase)
			add_index(&out->cleaning, &out->n_cleaning, i, ri->n_steps);
		else if (s->flags & DR_AF_MUTATING)
			add_index(&out->changing, &out->n_changing, i, ri->n_steps);
		else
			add_index(&out->reading, &out->n_reading, i, ri->n_steps);
	}
}

void dr_ri_cancel_point_dispose(dr_ri_cancel_point *p)
{
	free(p->changing);
	free(p->reading);
	free(p->cleaning);
	free(p->waiting);
	*p = (dr_ri_cancel_point){.changed = false};
}

/* --- attempts ------------------------------------------------------------------------ */

/* The attempt numbered n (the newest of that number), or a new one. */
static dr_ri_attempt *attempt_of(dr_ri_task *t, int n, int64_t at)
{
	if (t->n_attempts && t->attempts[t->n_attempts - 1].n == n)
		return &t->attempts[t->n_attempts - 1];
	if ((t->n_attempts & (t->n_attempts - 1)) == 0)
		t->attempts = xrealloc(t->attempts, (t->n_attempts ? 2 * t->n_attempts : 1) * sizeof *t->attempts);
	dr_ri_attempt *a = &t->attempts[t->n_attempts++];
	*a = (dr_ri_attempt){.n = n, .state = DR_RI_RUNNING, .started_ms = at, .ended_ms = -1, .called = true,
			     .retry_delay_ms = -1, .person_since_ms = -1, .person_until_ms = -1};
	return a;
}

/* "... Recommended action: X" (dr_backend_error_text): X, else NULL. */
static const char *recommended(dr_runinfo *ri, const char *message)
{
	static const char mark[] = "Recommended action: ";
	const char *p = message ? strstr(message, mark) : NULL;
	return p ? keep(ri, p + sizeof mark - 1) : NULL;
}

/* --- handlers: tasks ------------------------------------------------------------------ */

typedef void handler(dr_runinfo *ri, const cJSON *rec, int64_t at);

static void on_task_start(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	static const char *const keys[3] = {"attempt", "action", "mutating"};
	const cJSON *f[3];
	dr_ri_task *t = task_of(ri, rec);
	members(rec, keys, 3, f);
	attempt_of(t, cJSON_IsNumber(f[0]) ? (int)f[0]->valuedouble : (int)t->n_attempts + 1, at);
	if (str_of(f[1]) && !same(str_of(f[1]), t->action)) { /* the intent names it */
		t->action = keep_str(ri, f[1]);
		t->flags = action_flags(t->action);
	}
	if (f[2])
		t->mutating = cJSON_IsTrue(f[2]);
	t->started_ms = t->started_ms < 0 ? at : t->started_ms;
	t->ended_ms = -1;
	set_state(ri, t, DR_RI_RUNNING);
}

static bool sets_point(const dr_ri_task *t)
{
	return (t->flags & (DR_AF_FAILOVER | DR_AF_TEST_FAILOVER)) || same(t->action, "dr.change_recovery_point");
}

/* A rollback task undid its main task: that task is rolled back. */
static void undid(dr_runinfo *ri, const dr_ri_task *u)
{
	const dr_ri_step *s = &ri->steps[u->step];
	size_t m = s->undoes ? find_step(ri, s->undoes, NULL, NULL) : DR_INDEX_NONE;
	size_t i = m != DR_INDEX_NONE ? find_task(ri, m, u->target) : DR_INDEX_NONE;
	if (i != DR_INDEX_NONE && ri->tasks[i].state == DR_RI_SUCCEEDED)
		set_state(ri, &ri->tasks[i], DR_RI_ROLLED_BACK);
}

/* outputs.recovery_point and rpo_ms. */
static dr_ri_point point_of(dr_runinfo *ri, const cJSON *out)
{
	const cJSON *pt = item(out, "recovery_point");
	dr_ri_point p = {.set = cJSON_IsObject(pt), .rpo_ms = nval(out, "rpo_ms", -1)};
	if (p.set) {
		p.name = keep_field(ri, pt, "name");
		p.time = keep_field(ri, pt, "time");
		p.policy = keep_field(ri, pt, "policy");
	}
	return p;
}

/* A time the service gave (RFC 3339) on the run's clock; -1 when there is none. */
static int64_t service_time(const dr_runinfo *ri, const char *at)
{
	int64_t wall;
	return at && ri->started_wall && dr_backend_parse_time(at, &wall) ? wall - ri->started_wall : -1;
}

/* What views read of a succeeded attempt's outputs. */
static void task_outputs(dr_runinfo *ri, dr_ri_task *t, const cJSON *rec)
{
	static const char *const keys[3] = {"job_id", "started_at", "ended_at"};
	const cJSON *out = item(rec, "outputs"), *f[3];
	members(out, keys, 3, f);
	t->job = f[0] && str_of(f[0]) ? keep_str(ri, f[0]) : t->job;
	t->job_started_ms = service_time(ri, str_of(f[1]));
	t->job_ended_ms = service_time(ri, str_of(f[2]));
	t->point = point_of(ri, out);
	if (sets_point(t))
		t->seq = ++ri->seq;
	if (ri->steps[t->step].undoes)
		undid(ri, t);
}

static void on_task_end(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	enum { ATTEMPT, STATUS, CLASS, MESSAGE, WILL_RETRY, NOT_RETRIED, CALLED };
	static const char *const keys[7] = {"attempt", "status", "class", "message", "will_retry", "not_retried", "called"};
	const cJSON *f[7];
	dr_ri_task *t = task_of(ri, rec);
	members(rec, keys, 7, f);
	int n = cJSON_IsNumber(f[ATTEMPT]) ? (int)f[ATTEMPT]->valuedouble : 0;
	dr_ri_attempt *a = attempt_of(t, n, n ? -1 : at);
	dr_ri_state st = state_of(str_of(f[STATUS]), DR_RI_FAILED);
	a->state = st;
	a->ended_ms = at;
	a->cls = keep_str(ri, f[CLASS]);
	a->message = keep_str(ri, f[MESSAGE]);
	a->recommended_action = recommended(ri, a->message);
	a->will_retry = cJSON_IsTrue(f[WILL_RETRY]);
	a->not_retried = keep_str(ri, f[NOT_RETRIED]);
	a->called = a->called && !(f[CALLED] && !cJSON_IsTrue(f[CALLED]));
	if (a->person_since_ms >= 0 && a->person_until_ms < 0) /* a wait ends with its attempt */
		a->person_until_ms = at;
	t->started_ms = t->started_ms < 0 ? at : t->started_ms;
	t->ended_ms = a->will_retry ? -1 : at;
	set_state(ri, t, a->will_retry ? DR_RI_RETRYING : st);
	if (st == DR_RI_SUCCEEDED)
		task_outputs(ri, t, rec);
}

static void on_task_retry(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	(void)at;
	dr_ri_task *t = task_of(ri, rec);
	if (!t->n_attempts)
		return;
	dr_ri_attempt *a = &t->attempts[t->n_attempts - 1];
	a->retry_delay_ms = nval(rec, "delay_ms", -1);
	a->retry_reason = keep_field(ri, rec, "reason");
	set_state(ri, t, DR_RI_RETRYING);
}

static void on_task_note(dr_runinfo *ri, const cJSON *rec, int64_t at, dr_ri_state st)
{
	dr_ri_task *t = task_of(ri, rec);
	t->reason = keep_field(ri, rec, "reason");
	t->ended_ms = at;
	set_state(ri, t, st);
}

static void on_task_skip(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	on_task_note(ri, rec, at, DR_RI_SKIPPED);
}

static void on_task_cancel(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	on_task_note(ri, rec, at, DR_RI_CANCELLED);
}

static void on_task_giveup(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	on_task_note(ri, rec, at, DR_RI_FAILED);
}

static void on_task_probe(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	(void)at;
	dr_ri_task *t = task_of(ri, rec);
	if (t->n_attempts)
		t->attempts[t->n_attempts - 1].probe = keep_field(ri, rec, "probe");
}

/* task.person: the attempt's job began (waiting) or stopped waiting for a person. */
static void on_task_person(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	dr_ri_task *t = task_of(ri, rec);
	int n = (int)nval(rec, "attempt", t->n_attempts ? t->attempts[t->n_attempts - 1].n : 1);
	if (!t->n_attempts || t->attempts[t->n_attempts - 1].n != n)
		return; /* about an attempt the model does not hold */
	dr_ri_attempt *a = &t->attempts[t->n_attempts - 1];
	if (bval(rec, "waiting")) {
		a->person_since_ms = at;
		a->person_until_ms = -1;
		a->person_asked = keep_field(ri, rec, "message");
	} else if (a->person_since_ms >= 0 && a->person_until_ms < 0) {
		a->person_until_ms = at;
	}
}

/* --- handlers: approvals ---------------------------------------------------------------- */

/* approval.request's approvers, "alice, bob"; NULL when none are named (anyone may answer). */
static const char *approvers_of(dr_runinfo *ri, const cJSON *rec)
{
	const cJSON *e;
	dr_buf b;
	dr_buf_init(&b);
	cJSON_ArrayForEach(e, item(rec, "approvers")) if (cJSON_IsString(e))
		dr_buf_printf(&b, "%s%s", b.len ? ", " : "", e->valuestring);
	const char *r = b.len ? keep(ri, b.data) : NULL;
	dr_buf_dispose(&b);
	return r;
}

static void on_approval_request(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	dr_ri_approval *p = &task_of(ri, rec)->approval;
	ri->open_approvals += !p->open;
	*p = (dr_ri_approval){.requested = true, .open = true, .message = keep_field(ri, rec, "message"),
			      .command = keep_field(ri, rec, "command"), .approvers = approvers_of(ri, rec),
			      .requested_ms = at, .answered_ms = -1, .waited_ms = -1};
}

static void answered(dr_runinfo *ri, const cJSON *rec, int64_t at, const char *decision)
{
	dr_ri_approval *p = &task_of(ri, rec)->approval;
	ri->open_approvals -= p->open;
	p->open = false;
	p->decision = decision;
	p->by = keep_field(ri, rec, "by");
	p->via = keep_field(ri, rec, "via");
	p->at = keep_field(ri, rec, "at");
	p->comment = keep_field(ri, rec, "comment");
	p->waited_ms = nval(rec, "waited_ms", -1);
	p->answered_ms = at;
}

static void on_approval_granted(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	answered(ri, rec, at, "granted");
}

static void on_approval_denied(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	answered(ri, rec, at, "denied");
}

static void on_approval_timeout(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	(void)at;
	task_of(ri, rec)->approval.timed_out = true;
}

/* --- handlers: steps -------------------------------------------------------------------- */

/* Room for a step's tasks as it starts: the array grows by what comes, not by doubling (20,000 tasks, not 32,768). */
static void reserve_tasks(dr_runinfo *ri, int n)
{
	size_t want = ri->n_tasks + (size_t)(n < (1 << 20) ? n : 1 << 20); /* a damaged count reserves no more than this */
	if (n <= 0 || want <= ri->cap_tasks)
		return;
	ri->cap_tasks = want;
	ri->tasks = xrealloc(ri->tasks, ri->cap_tasks * sizeof *ri->tasks);
}

static void on_step_start(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	size_t i = step_of(ri, rec);
	dr_ri_step *s = &ri->steps[i];
	s->state = DR_RI_RUNNING;
	s->n_tasks = (int)nval(rec, "tasks", s->n_tasks);
	if (!s->n_task_refs)
		reserve_tasks(ri, s->n_tasks);
	s->started_ms = s->started_ms < 0 ? at : s->started_ms;
	s->ended_ms = -1;
}

/* A rollback unit's end undid its whole main step ("rolled_back": true): every completed task of it is undone. */
static void step_undone(dr_runinfo *ri, const dr_ri_step *u)
{
	size_t m = find_step(ri, u->undoes, NULL, NULL);
	if (m == DR_INDEX_NONE)
		return;
	dr_ri_step *s = &ri->steps[m];
	s->state = DR_RI_ROLLED_BACK;
	for (size_t k = 0; k < s->n_task_refs; k++)
		if (ri->tasks[s->tasks[k]].state == DR_RI_SUCCEEDED)
			set_state(ri, &ri->tasks[s->tasks[k]], DR_RI_ROLLED_BACK);
}

static void on_step_end(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	size_t i = step_of(ri, rec);
	dr_ri_step *s = &ri->steps[i];
	s->state = state_of(sval(rec, "status"), DR_RI_FAILED);
	s->n_tasks = (int)nval(rec, "tasks", s->n_tasks);
	s->reason = keep_field(ri, rec, "reason");
	s->tolerated = bval(rec, "tolerated");
	if (s->started_ms < 0 && nval(rec, "elapsed_ms", 0) > 0) /* a journal of version 2 restores a missing elapsed as 0 */
		s->started_ms = at - nval(rec, "elapsed_ms", 0);
	s->ended_ms = at;
	if (s->undoes && bval(rec, "rolled_back"))
		step_undone(ri, s);
}

/* --- handlers: the run -------------------------------------------------------------------- */

static void on_run_start(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	int64_t wall;
	ri->run = ri->run ? ri->run : keep_field(ri, rec, "run");
	ri->runbook = ri->runbook ? ri->runbook : keep_field(ri, rec, "runbook");
	ri->path = ri->path ? ri->path : keep_field(ri, rec, "file");
	ri->mode = ri->mode ? ri->mode : keep_field(ri, rec, "mode");
	ri->direction = ri->direction ? ri->direction : keep_field(ri, rec, "direction");
	ri->clock = ri->clock ? ri->clock : keep_field(ri, rec, "clock");
	if (!ri->started_wall && dr_backend_parse_time(sval(rec, "ts"), &wall))
		ri->started_wall = wall - at;
}

static void on_run_resume(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	(void)at;
	ri->sessions++;
	ri->downtime_ms += nval(rec, "downtime_ms", 0);
	ri->status = "running";
	ri->ended = false;
	ri->reason = ri->error = ri->state_error = NULL;
	ri->cancelled = ri->timed_out = false;
	ri->cancel_ms = -1;
}

static void on_run_stop(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	const char *type = sval(rec, "event");
	ri->reason = keep_field(ri, rec, "reason");
	if (!strcmp(type, "run.cancel") && ri->cancel_ms < 0)
		ri->cancel_ms = at;
	ri->cancelled = ri->cancelled || !strcmp(type, "run.cancel");
	ri->timed_out = ri->timed_out || !strcmp(type, "run.timeout");
}

static const char *status_name(const char *s)
{
	static const char *const names[] = {"succeeded",      "failed",	   "rolled_back", "cancelled", "invalid",
					    "internal_error", "suspended", "running",	  "blocked",   "busy", "stale", NULL};
	for (size_t i = 0; s && names[i]; i++)
		if (!strcmp(names[i], s))
			return names[i];
	return "failed";
}

static void on_run_end(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	(void)at;
	bool suspended = !strcmp(sval(rec, "event"), "run.suspend") || bval(rec, "suspended");
	ri->status = suspended ? "suspended" : status_name(sval(rec, "status"));
	ri->ended = true;
	ri->exit_code = (int)nval(rec, "exit", 1);
	ri->reason = sval(rec, "reason") ? keep_field(ri, rec, "reason") : ri->reason;
	ri->error = keep_field(ri, rec, "error");
	ri->state_error = keep_field(ri, rec, "state_error");
	const cJSON *nu = item(rec, "not_undone"), *e;
	ri->n_not_undone = 0;
	ri->not_undone = dr_arena_calloc(ri->a, (size_t)cJSON_GetArraySize(nu) + 1, sizeof *ri->not_undone);
	cJSON_ArrayForEach(e, nu) if (cJSON_IsString(e)) ri->not_undone[ri->n_not_undone++] = keep(ri, e->valuestring);
	ri->rollback.barrier = sval(rec, "rollback_barrier") ? keep_field(ri, rec, "rollback_barrier") : ri->rollback.barrier;
}

static void on_objectives(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	(void)at; /* the model computes the figures; an old journal's header lacks the objectives */
	if (ri->rto_objective_ms < 0)
		ri->rto_objective_ms = nval(rec, "rto_objective_ms", -1);
	if (ri->rpo_objective_ms < 0)
		ri->rpo_objective_ms = nval(rec, "rpo_objective_ms", -1);
	if (!ri->enforce)
		ri->enforce = keep_field(ri, rec, "enforce");
	ri->objectives_failed = bval(rec, "fails_run");
}

static void on_rollback(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	(void)at;
	const char *type = sval(rec, "event");
	dr_ri_rollback *r = &ri->rollback;
	if (!strcmp(type, "rollback.start")) {
		r->started = true;
		r->why = keep_field(ri, rec, "reason");
		r->tasks = (size_t)nval(rec, "tasks", 0);
		r->barrier = keep_field(ri, rec, "barrier");
	} else if (!strcmp(type, "rollback.end")) {
		r->status = keep_field(ri, rec, "status");
		r->stopped = keep_field(ri, rec, "reason");
	}
}

static void on_drill_verify(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	(void)at;
	dr_ri_drill *d = &ri->drill;
	d->verified = true;
	d->status = keep_field(ri, rec, "status");
	d->message = keep_field(ri, rec, "message");
	d->vms = (size_t)nval(rec, "vms", 0);
	cJSON_Delete((cJSON *)d->leftovers);
	const cJSON *l = item(rec, "leftovers");
	d->leftovers = cJSON_IsArray(l) ? cJSON_Duplicate(l, true) : cJSON_CreateArray();
}

static void on_fallback_end(dr_runinfo *ri, const cJSON *rec, int64_t at)
{
	(void)at;
	if (!same(sval(rec, "status"), "applied") || !cJSON_IsObject(item(rec, "outputs")))
		return;
	dr_ri_task *t = task_of(ri, rec);
	t->fallback = point_of(ri, item(rec, "outputs"));
	t->seq = ++ri->seq;
}

/* --- the fold ---------------------------------------------------------------------------- */

static const struct {
	const char *type;
	handler *fn;
} handlers[] = {
	{"task.start", on_task_start},
	{"task.end", on_task_end},
	{"task.retry", on_task_retry},
	{"task.skip", on_task_skip},
	{"task.cancel", on_task_cancel},
	{"task.giveup", on_task_giveup},
	{"task.probe", on_task_probe},
	{"task.person", on_task_person},
	{"approval.request", on_approval_request},
	{"approval.granted", on_approval_granted},
	{"approval.denied", on_approval_denied},
	{"approval.timeout", on_approval_timeout},
	{"step.start", on_step_start},
	{"step.end", on_step_end},
	{"run.start", on_run_start},
	{"run.resume", on_run_resume},
	{"run.stopping", on_run_stop},
	{"run.cancel", on_run_stop},
	{"run.timeout", on_run_stop},
	{"run.end", on_run_end},
	{"run.suspend", on_run_end},
	{"run.objectives", on_objectives},
	{"rollback.start", on_rollback},
	{"rollback.end", on_rollback},
	{"drill.verify", on_drill_verify},
	{"fallback.end", on_fallback_end},
};

static handler *handler_of(const char *type)
{
	for (size_t i = 0; type && i < sizeof handlers / sizeof handlers[0]; i++)
		if (!strcmp(handlers[i].type, type))
			return handlers[i].fn;
	return NULL;
}

/* Fold rec (its type, time and step read in one pass); a live event marked replayed is left out when live. */
static void apply(dr_runinfo *ri, const cJSON *rec, bool live)
{
	static const char *const keys[4] = {"event", "t_ms", "step", "replayed"};
	const cJSON *f[4];
	members(rec, keys, 4, f);
	if (live && cJSON_IsTrue(f[3]))
		return; /* it retells the journal the model was seeded with */
	const char *type = str_of(f[0]);
	handler *fn = handler_of(type);
	int64_t at = cJSON_IsNumber(f[1]) ? (int64_t)f[1]->valuedouble : ri->elapsed_ms;
	if (at > ri->elapsed_ms)
		ri->elapsed_ms = at;
	if (!fn)
		return;
	if (!strncmp(type, "task.", 5) || !strncmp(type, "approval.", 9) || !strcmp(type, "fallback.end") ||
	    !strncmp(type, "step.", 5)) {
		if (!str_of(f[2]))
			return; /* about no step: nothing to fold */
	}
	fn(ri, rec, at);
}

void dr_runinfo_apply(dr_runinfo *ri, const cJSON *rec)
{
	apply(ri, rec, false);
}

static void on_event(void *ctx, const cJSON *ev)
{
	dr_runinfo *ri = ctx;
	pthread_mutex_lock(&ri->mu);
	apply(ri, ev, true);
	pthread_mutex_unlock(&ri->mu);
}

void dr_runinfo_listen(dr_runinfo *ri, dr_events *events)
{
	ri->live = true;
	dr_events_listen(events, on_event, ri);
}

/* --- the header ----------------------------------------------------------------------------- */

static void header_steps(dr_runinfo *ri, const cJSON *h)
{
	const cJSON *steps = item(item(h, "shape"), "steps"), *s;
	cJSON_ArrayForEach(s, steps)
	{
		const char *phase = bval(s, "finally") ? "finally" : NULL;
		dr_runinfo_declare_step(ri, s->string, phase, sval(s, "action"));
	}
}

void dr_runinfo_apply_header(dr_runinfo *ri, const cJSON *h)
{
	const cJSON *rb = item(h, "runbook"), *obj = item(h, "objectives");
	ri->run = keep_field(ri, h, "run");
	ri->runbook = keep_field(ri, rb, "name");
	ri->path = keep_field(ri, rb, "path");
	ri->abs = keep_field(ri, rb, "abs");
	ri->digest = keep_field(ri, rb, "digest");
	ri->mode = keep_field(ri, h, "mode");
	ri->direction = keep_field(ri, h, "direction");
	ri->clock = keep_field(ri, h, "clock");
	ri->host = keep_field(ri, h, "host");
	ri->user = keep_field(ri, h, "user");
	ri->started_wall = nval(h, "started_ms", 0);
	ri->rto_objective_ms = nval(obj, "rto_ms", ri->rto_objective_ms);
	ri->rpo_objective_ms = nval(obj, "rpo_ms", ri->rpo_objective_ms);
	if (sval(obj, "enforce"))
		ri->enforce = keep_field(ri, obj, "enforce");
	ri->journal = true;
	header_steps(ri, h);
}

void dr_runinfo_seed(dr_runinfo *ri, const dr_journal_file *f)
{
	dr_runinfo_apply_header(ri, f->header);
	for (size_t i = 0; i < f->n; i++)
		dr_runinfo_apply(ri, f->recs[i]);
}

/* dr_runinfo_load's fold: each record applied once, then freed; what the model keeps is taken, not copied. */
void dr_runinfo_take(void *ctx, cJSON *rec)
{
	dr_runinfo_apply(ctx, rec);
	cJSON_Delete(rec);
}
