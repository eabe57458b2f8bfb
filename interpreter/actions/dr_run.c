/*
 * actions/dr_run.c - the dr.* operations, run through the run's backend.
 *
 * Every operation (failover, test failover, test cleanup, change of
 * recovery point, commit, cancel failover, reprotect, shutdown) is the same
 * small machine on one VM (the task's target, an item of the service):
 *
 *   first call:  look the item up; choose the recovery point (dr_point.c)
 *                and the direction where the operation takes them; start
 *                it with the attempt's idempotency key; keep the job id in
 *                call->state; poll at once
 *   next calls:  get the job; while it runs, WAIT for its poll_after_ms
 *                (on a virtual clock, exactly when it next changes)
 *   job ended:   Succeeded -> OK with the outputs below (warnings, such as
 *                a failed source shutdown, are logged and listed, never a
 *                failure); Failed -> FAIL with the job's ASR error
 *
 * A refused start fails with the service's ASR error verbatim (code,
 * message, possible causes, recommended action) and its class: permanent
 * (not allowed in the item's state, unknown point), transient (the item is
 * busy, 5xx) or throttled (429, with Retry-After).
 *
 * Retries and resume never start an operation twice. A later attempt whose
 * item is busy, or in a state that no longer allows the operation, first
 * replays the keys of the earlier attempts: a start with a key the service
 * has seen returns that key's job and starts nothing, and in that item
 * state a start with an unknown key is refused anyway. So an attempt that
 * timed out while its job ran goes on with that job instead of failing on
 * "OperationInProgress". The probes (resume) use the same replay, only
 * when starting cannot happen, and tell the journal what the service did.
 *
 * Cancellation: an operation that has not started does not start; one that
 * runs goes on to its job's end (the safe point: a service job cannot be
 * stopped halfway) unless the run's grace period abandons it first.
 */
#include "actions/dr_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "run/exec.h"
#include "util/buf.h"
#include "util/text.h"
#include "util/xalloc.h"

#define KEY_MAX 512
#define POLL_DEFAULT_MS 30000
#define SUSPEND_POLL_MS 10000 /* a person may resume a suspended job at any time: look this often at least */

typedef struct opctx opctx;

/* What differs between the operations. */
typedef struct opdef {
	dr_be_op op;
	bool points; /* chooses a recovery point at start */
	void (*request)(opctx *c, dr_be_request *req); /* fields of its own (direction, network, ...) */
	void (*extras)(opctx *c, const dr_be_job *j, cJSON *out); /* outputs of its own */
} opdef;

/* What an operation keeps across WAITs (call->state). */
typedef struct opstate {
	char *job_id;
	char *policy, *point_type; /* the recovery point choice, for the outputs; NULL when none or unknown */
	bool fallback;
	bool shutdown_source; /* failover: asked to shut the source down */
	char *network; /* test failover */
	char *request_id; /* the start call's client request id (remote backends), for the outputs */
	bool told_cancel, told_suspended, told_unknown;
	int64_t suspended_at; /* the run's clock when the job was first seen Suspended */
	bool paced; /* waited for the backend's rate limit: start at the next call (no job yet) */
	bool picked; /* the recovery point was chosen before that wait: point_id (NULL: latest), pick_ms, pick_age */
	char *point_id;
	int64_t pick_ms, pick_age;
} opstate;

struct opctx {
	dr_call *call;
	const opdef *d;
	dr_backend *be;
	dr_arena *a; /* scratch for this call */
	int64_t now; /* Unix ms on the run's clock */
	const char *vm, *item_id;
	const char *verb; /* "failover", for messages */
	opstate *st;
	dr_be_error unread; /* the outputs' read of the item failed transient or throttled (code set): ask again */
};

/* ---- small helpers ------------------------------------------------------------------------ */

__attribute__((format(printf, 2, 3))) static char *heap_printf(dr_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	const char *s = dr_arena_vprintf(a, fmt, ap);
	va_end(ap);
	return xstrdup(s);
}

static void free_state(opstate *st)
{
	if (!st)
		return;
	free(st->job_id);
	free(st->policy);
	free(st->point_type);
	free(st->network);
	free(st->request_id);
	free(st->point_id);
	free(st);
}

/* The outcome for a backend error: the ASR error verbatim, its class and Retry-After. */
static dr_outcome refused(opctx *c, const char *doing, const dr_be_error *e)
{
	dr_outcome o = dr_outcome_fail(dr_op_errclass(e->cls), "%s of '%s' %s (HTTP %d%s%s): %s", c->verb, c->vm, doing,
				       e->http_status, e->request_id ? ", request id " : "", e->request_id ? e->request_id : "",
				       dr_backend_error_text(c->a, e));
	o.retry_after_ms = e->retry_after_ms;
	return o;
}

static const char *with_str(const dr_call *call, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(call->with, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool with_bool(const dr_call *call, const char *key, bool def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(call->with, key);
	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : def;
}

static const char *time_text(dr_arena *a, int64_t ms)
{
	char t[40];
	if (ms < 0)
		return NULL;
	dr_backend_format_time(ms, t, sizeof t);
	return dr_arena_strdup(a, t);
}

/*
 * A string member under key, a literal: the key is not copied (nor freed
 * with the object: cJSON_StringIsConst), the value is. A job's outputs are
 * some twenty members (its tasks too), built at every task's end.
 */
static void add_str(cJSON *o, const char *key, const char *v)
{
	if (!o) /* outputs no one reads: see outputs() */
		return;
	cJSON_AddItemToObjectCS(o, key, cJSON_CreateString(v));
}

static void add_time(cJSON *o, const char *key, dr_arena *a, int64_t ms)
{
	const char *t = time_text(a, ms);
	if (t)
		add_str(o, key, t);
	else
		cJSON_AddNullToObject(o, key);
}

static const char *last_segment(const char *id)
{
	const char *slash = id ? strrchr(id, '/') : NULL;
	return slash ? slash + 1 : id;
}

/* A job's name for people: its id's last segment without a query (Compute's operation URL has ?api-version=). */
static const char *job_name(dr_arena *a, const char *job_id)
{
	const char *q = job_id ? strchr(job_id, '?') : NULL;
	return last_segment(q ? dr_arena_strndup(a, job_id, (size_t)(q - job_id)) : job_id);
}

static void log_line(opctx *c, const char *level, const char *msg)
{
	dr_exec_log(c->call->run, c->call, level, msg);
}

static void key_of(const dr_call *call, int attempt, char *out)
{
	dr_call k = *call;
	k.attempt = attempt;
	dr_exec_idempotency_key(&k, out, KEY_MAX);
}

/* ---- direction ---------------------------------------------------------------------------- */

static dr_be_direction reverse(dr_be_direction d)
{
	return d == DR_BE_DIR_PRIMARY_TO_RECOVERY   ? DR_BE_DIR_RECOVERY_TO_PRIMARY
	       : d == DR_BE_DIR_RECOVERY_TO_PRIMARY ? DR_BE_DIR_PRIMARY_TO_RECOVERY
						    : DR_BE_DIR_AUTO;
}

/* with.direction, else the run's: primary-to-recovery unless `drover failback` says otherwise. */
static dr_be_direction direction(const opctx *c)
{
	const char *d = with_str(c->call, "direction");
	if (d && strcmp(d, "primary-to-recovery") == 0)
		return DR_BE_DIR_PRIMARY_TO_RECOVERY;
	if (d && strcmp(d, "recovery-to-primary") == 0)
		return DR_BE_DIR_RECOVERY_TO_PRIMARY;
	return dr_exec_direction(c->call->run);
}

/* ---- requests of each operation ----------------------------------------------------------- */

static void req_failover(opctx *c, dr_be_request *req)
{
	req->direction = direction(c);
	req->shutdown_source = c->st->shutdown_source = with_bool(c->call, "shutdown_source", true);
}

static void req_test_failover(opctx *c, dr_be_request *req)
{
	req->direction = direction(c);
	req->network = with_str(c->call, "network");
	free(c->st->network);
	c->st->network = req->network ? xstrdup(req->network) : NULL;
}

static void req_cleanup(opctx *c, dr_be_request *req)
{
	req->comments = with_str(c->call, "comments");
}

/* Reprotect replicates back: from where the run's failovers went, to where they came from. */
static void req_reprotect(opctx *c, dr_be_request *req)
{
	req->direction = reverse(dr_exec_direction(c->call->run));
	req->policy_id = with_str(c->call, "policy");
	req->recovery_container_id = with_str(c->call, "recovery_container");
	req->recovery_resource_group_id = with_str(c->call, "recovery_resource_group");
	req->staging_storage_id = with_str(c->call, "staging_storage");
}

/* ---- outputs ------------------------------------------------------------------------------- */

static bool item_now(opctx *c, dr_be_item *it)
{
	dr_be_error e;
	if (dr_backend_get_item(c->be, c->a, c->now, c->item_id, it, &e) == 0)
		return true;
	if (e.cls != DR_BE_ERR_PERMANENT && !c->unread.code)
		c->unread = e;
	return false;
}

/* The item with its VMs' facts (power, addresses): the outputs that name a VM's state. */
static bool item_with_vms(opctx *c, dr_be_item *it)
{
	dr_be_error e;
	if (!item_now(c, it))
		return false;
	dr_backend_vm_facts(c->be, c->a, c->now, it, &e); /* a fact Compute did not answer stays unknown */
	return true;
}

/* Whether the job shut the source down: asked for (run), else seen in its tasks (a probe's view). */
static bool shutdown_asked(const opctx *c, const dr_be_job *j)
{
	if (c->st)
		return c->st->shutdown_source;
	for (size_t i = 0; i < j->n_tasks; i++)
		if (strncmp(j->tasks[i].name, "Shut down", 9) == 0)
			return true;
	return false;
}

static void out_failover(opctx *c, const dr_be_job *j, cJSON *out)
{
	bool asked = shutdown_asked(c, j), failed = false;
	for (size_t i = 0; i < j->n_errors; i++)
		failed |= j->errors[i].warning && j->errors[i].error.code &&
			  strcmp(j->errors[i].error.code, "SourceVmShutdownFailed") == 0;
	const char *how = !asked ? "skipped" : failed ? "failed" : "done";
	add_str(out, "shutdown_source", how);
	dr_be_item it;
	if (item_now(c, &it))
		add_str(out, "active_location", dr_backend_location_name(it.active_location));
}

static void out_test_failover(opctx *c, const dr_be_job *j, cJSON *out)
{
	(void)j;
	dr_be_item it;
	if (c->st && c->st->network)
		add_str(out, "network", c->st->network);
	if (item_with_vms(c, &it) && it.test_vm.exists) {
		add_str(out, "test_vm_id", it.test_vm.id);
		add_str(out, "test_vm_ip", it.test_vm.ip ? it.test_vm.ip : "");
	} else {
		cJSON_AddNullToObject(out, "test_vm_id");
	}
}

static void out_commit(opctx *c, const dr_be_job *j, cJSON *out)
{
	add_time(out, "committed_at", c->a, j->end_ms);
}

static void out_location(opctx *c, const dr_be_job *j, cJSON *out)
{
	(void)j;
	dr_be_item it;
	if (item_now(c, &it))
		add_str(out, "active_location", dr_backend_location_name(it.active_location));
}

static void out_reprotect(opctx *c, const dr_be_job *j, cJSON *out)
{
	(void)j;
	dr_be_item it;
	if (!item_now(c, &it))
		return;
	add_str(out, "protection_state", dr_backend_state_name(it.state));
	add_str(out, "active_location", dr_backend_location_name(it.active_location));
}

static void out_shutdown(opctx *c, const dr_be_job *j, cJSON *out)
{
	(void)j;
	dr_be_item it;
	if (item_with_vms(c, &it))
		add_str(out, "state", dr_backend_power_name(dr_backend_active_vm(&it)->power));
}

static const opdef op_failover = {DR_BE_OP_FAILOVER, true, req_failover, out_failover};
static const opdef op_test_failover = {DR_BE_OP_TEST_FAILOVER, true, req_test_failover, out_test_failover};
static const opdef op_test_cleanup = {DR_BE_OP_TEST_CLEANUP, false, req_cleanup, NULL};
static const opdef op_change_point = {DR_BE_OP_CHANGE_POINT, true, NULL, NULL};
static const opdef op_commit = {DR_BE_OP_COMMIT, false, NULL, out_commit};
static const opdef op_cancel = {DR_BE_OP_CANCEL_FAILOVER, false, NULL, out_location};
static const opdef op_reprotect = {DR_BE_OP_REPROTECT, false, req_reprotect, out_reprotect};
static const opdef op_shutdown = {DR_BE_OP_SHUTDOWN, false, NULL, out_shutdown};

/* The point's type when the run did not choose it itself (adopted jobs, probes): ask the list. */
static const char *point_type(opctx *c, const dr_be_job *j)
{
	if (c->st && c->st->point_type)
		return c->st->point_type;
	dr_be_point *pts;
	size_t n;
	dr_be_error e;
	if (dr_backend_list_points(c->be, c->a, c->now, c->item_id, &pts, &n, &e) < 0)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (strcmp(pts[i].name, last_segment(j->point_id)) == 0)
			return dr_backend_point_type_name(pts[i].type);
	return NULL;
}

static void add_point(opctx *c, const dr_be_job *j, cJSON *out)
{
	if (!j->point_id)
		return;
	cJSON *p = cJSON_AddObjectToObject(out, "recovery_point");
	add_str(p, "id", j->point_id);
	add_str(p, "name", last_segment(j->point_id));
	add_time(p, "time", c->a, j->point_ms);
	const char *type = point_type(c, j);
	if (type)
		add_str(p, "type", type);
	else
		cJSON_AddNullToObject(p, "type");
	if (c->st && c->st->policy) {
		add_str(p, "policy", c->st->policy);
		cJSON_AddBoolToObject(p, "fallback", c->st->fallback);
	}
	int64_t from = j->op == DR_BE_OP_CHANGE_POINT ? dr_point_failover_start(c->be, c->a, c->item_id, c->now, j->start_ms)
						      : j->start_ms;
	if (j->point_ms >= 0)
		cJSON_AddNumberToObject(out, "rpo_ms", (double)(from - j->point_ms));
	else
		cJSON_AddNullToObject(out, "rpo_ms"); /* the service did not say when the point was taken */
}

static cJSON *task_list(const dr_be_job *j)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < j->n_tasks; i++) {
		cJSON *t = cJSON_CreateObject();
		add_str(t, "name", j->tasks[i].name);
		add_str(t, "state", dr_backend_job_state_name(j->tasks[i].state));
		cJSON_AddItemToArray(a, t);
	}
	return a;
}

/* The job's warnings (a job that succeeded anyway), each logged as a warn line too. */
static cJSON *warnings(opctx *c, const dr_be_job *j)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < j->n_errors; i++) {
		const dr_be_job_error *w = &j->errors[i];
		if (!w->warning)
			continue;
		cJSON *o = cJSON_CreateObject();
		add_str(o, "code", w->error.code ? w->error.code : "");
		add_str(o, "message", w->error.message ? w->error.message : "");
		if (w->task)
			add_str(o, "task", w->task);
		if (w->error.recommended_action)
			add_str(o, "recommended_action", w->error.recommended_action);
		cJSON_AddItemToArray(a, o);
		log_line(c, "warn", dr_arena_printf(c->a, "%s of '%s' succeeded with a warning: %s", c->verb, c->vm,
						    dr_backend_error_text(c->a, &w->error)));
	}
	return a;
}

/*
 * The job's outputs; NULL when no one reads them (dr_exec_outputs_unread:
 * plan --estimate), after the same reads of the service that building them
 * makes (the point's type and age, the item's state), in the same order.
 */
static cJSON *outputs(opctx *c, const dr_be_job *j)
{
	if (dr_exec_outputs_unread(c->call)) {
		add_point(c, j, NULL);
		if (c->d->extras)
			c->d->extras(c, j, NULL);
		return NULL;
	}
	cJSON *o = cJSON_CreateObject();
	add_str(o, "job_id", j->id);
	add_str(o, "item_id", j->item_id);
	add_str(o, "vm", c->vm);
	add_str(o, "operation", dr_backend_op_name(j->op));
	add_str(o, "status", j->state_description ? j->state_description : "");
	if (c->st && c->st->request_id)
		add_str(o, "request_id", c->st->request_id);
	add_point(c, j, o);
	add_time(o, "started_at", c->a, j->start_ms);
	add_time(o, "ended_at", c->a, j->end_ms);
	cJSON_AddNumberToObject(o, "duration_ms", (double)(j->end_ms - j->start_ms));
	cJSON_AddItemToObject(o, "tasks", task_list(j));
	cJSON_AddItemToObject(o, "warnings", warnings(c, j));
	if (c->d->extras)
		c->d->extras(c, j, o);
	return o;
}

/* A failed job: its first error (not a warning), verbatim, with the task it failed at. */
static const dr_be_job_error *job_error(const dr_be_job *j)
{
	for (size_t i = 0; i < j->n_errors; i++)
		if (!j->errors[i].warning)
			return &j->errors[i];
	return NULL;
}

static dr_outcome job_failed(opctx *c, const dr_be_job *j)
{
	const dr_be_job_error *e = job_error(j);
	if (!e)
		return dr_outcome_fail(DR_ERRC_PERMANENT, "%s of '%s' failed: job %s ended %s", c->verb, c->vm, j->name,
				       dr_backend_job_state_name(j->state));
	dr_outcome o = dr_outcome_fail(dr_op_errclass(e->error.cls), "%s of '%s' failed: job %s failed at task '%s': %s",
				       c->verb, c->vm, j->name, e->task ? e->task : "?",
				       dr_backend_error_text(c->a, &e->error));
	o.retry_after_ms = e->error.retry_after_ms;
	return o;
}

/* ---- the machine ----------------------------------------------------------------------------- */

static dr_outcome finish(opctx *c, dr_outcome o)
{
	free_state(c->st);
	c->call->state = NULL;
	c->st = NULL;
	return o;
}

/* "at task 'Manual action': Check the replica" of a suspended job, or "". */
static const char *manual_text(opctx *c, const dr_be_job *j)
{
	for (size_t i = 0; i < j->n_tasks; i++)
		if (j->tasks[i].state == DR_BE_JOB_SUSPENDED)
			return dr_arena_printf(c->a, " at task '%s'%s%s", j->tasks[i].name, j->tasks[i].instructions ? ": " : "",
					       j->tasks[i].instructions ? j->tasks[i].instructions : "");
	return "";
}

/* What still bounds a person's wait, for the line that says the job waits. */
static const char *wait_bound(opctx *c)
{
	const dr_runbook *rb = c->call->run ? dr_exec_runbook(c->call->run) : NULL;
	char d[32];
	if (!rb || rb->run_timeout_ms < 0)
		return "drover waits for it as long as it takes (Ctrl-C stops the run; the job stays paused)";
	dr_text_human_duration(rb->run_timeout_ms, d, sizeof d);
	return dr_arena_printf(c->a, "the run's run_timeout (%s) still counts", d);
}

/*
 * A job waits for a person (a manual action): not done, not failed. Say so
 * once (screen and events), with what to do; then wait as a person's wait:
 * the step's timeout and attempt_timeout stand still (the run's run_timeout
 * does not). When the run stops meanwhile (run_timeout, a signal), stop at
 * once - a paused job is a safe point - saying the job is paused in the
 * service: resumed later, `drover resume` finds it and goes on. A backend
 * no one can act on during the run (the embedded simulator, whose state the
 * run holds) is not waited on: the task fails at once with that advice.
 */
static dr_outcome suspended(opctx *c, const dr_be_job *j, int64_t wait)
{
	if (!dr_backend_person_can_resume(c->be))
		return finish(c, dr_outcome_fail(DR_ERRC_PERMANENT,
						 "%s of '%s' cannot go on in this run: job %s is Suspended, waiting for a "
						 "person%s, and no one can resume it while this run holds the simulator's "
						 "state. The job is paused, not failed: do the manual step, resume the job %s, "
						 "then `drover resume` with --retry-failed goes on with it, posting nothing again",
						 c->verb, c->vm, j->name, manual_text(c, j), dr_backend_resume_how(c->be, c->a, j)));
	if (!c->st->told_suspended) {
		c->st->told_suspended = true;
		c->st->suspended_at = c->call->now_ms;
		log_line(c, "warn", dr_arena_printf(c->a, "%s of '%s' is waiting for a person: job %s is Suspended%s. Do it, "
							  "then resume the job %s and drover goes on. The step's timeout stands "
							  "still while a person is awaited; %s",
						    c->verb, c->vm, j->name, manual_text(c, j), dr_backend_resume_how(c->be, c->a, j),
						    wait_bound(c)));
	}
	if (dr_exec_cancelled(c->call)) {
		char d[40];
		dr_text_human_duration(c->call->now_ms - c->st->suspended_at, d, sizeof d);
		return finish(c, dr_outcome_fail(DR_ERRC_CANCELLED,
						 "%s of '%s' stopped waiting: job %s has waited for a person for %s, "
						 "Suspended%s. The job is paused in the service, not failed: "
						 "do the manual step and resume the job %s, then `drover resume` (with "
						 "--retry-failed if the run failed) goes on with it, posting nothing again; "
						 "or cancel the job in the service",
						 c->verb, c->vm, j->name, d, manual_text(c, j), dr_backend_resume_how(c->be, c->a, j)));
	}
	dr_outcome o = dr_outcome_wait_person(wait);
	o.message = xstrdup(dr_arena_printf(c->a, "job %s is Suspended%s. Do it, then resume the job %s", j->name, manual_text(c, j),
					    dr_backend_resume_how(c->be, c->a, j)));
	return o;
}

/*
 * A read while following the job (its state, or the item for the outputs
 * once it succeeded) failed transient or throttled: not an attempt of the
 * operation, which runs in the service, so it is asked again after the
 * service's Retry-After (else POLL_DEFAULT_MS), one request each time, the
 * step's timeout bounding the whole; said in a warn line each time.
 */
static dr_outcome ask_again(opctx *c, const char *what, const dr_be_error *e)
{
	int64_t wait = e->retry_after_ms > 0 ? e->retry_after_ms : POLL_DEFAULT_MS;
	char d[40];
	dr_text_human_duration(wait, d, sizeof d);
	log_line(c, "warn",
		 dr_arena_printf(c->a, "%s of '%s': reading %s failed (%s %d %s); asking again in %s%s", c->verb, c->vm,
				 what, dr_backend_errclass_name(e->cls), e->http_status, e->code ? e->code : "",
				 d, e->retry_after_ms > 0 ? " (the service's Retry-After)" : ""));
	return dr_outcome_wait(wait);
}

static dr_outcome poll(opctx *c)
{
	dr_be_job j;
	dr_be_error e;
	if (dr_backend_get_job(c->be, c->a, c->now, c->st->job_id, &j, &e) < 0) {
		if (e.cls != DR_BE_ERR_PERMANENT) /* the service hiccupped: ask again later */
			return ask_again(c, dr_arena_printf(c->a, "its job %s", job_name(c->a, c->st->job_id)), &e);
		return finish(c, refused(c, "cannot be followed: reading its job failed", &e));
	}
	if (c->st->told_suspended && j.state != DR_BE_JOB_SUSPENDED) {
		c->st->told_suspended = false;
		log_line(c, "info", dr_arena_printf(c->a, "%s of '%s': job %s was resumed; going on", c->verb, c->vm, j.name));
	}
	if (j.state_unknown && !c->st->told_unknown) {
		c->st->told_unknown = true;
		log_line(c, "warn", dr_arena_printf(c->a, "%s of '%s': job %s is in state '%s'%s%s%s, which drover does not know; "
							  "following it as running until it ends (the step's timeout bounds the wait)",
						    c->verb, c->vm, j.name, j.state_unknown, j.state_description ? " (" : "",
						    j.state_description ? j.state_description : "", j.state_description ? ")" : ""));
	}
	if (!dr_backend_job_done(j.state)) {
		int64_t wait = j.poll_after_ms > 0 ? j.poll_after_ms : POLL_DEFAULT_MS;
		if (j.state == DR_BE_JOB_SUSPENDED)
			return suspended(c, &j, wait < SUSPEND_POLL_MS ? wait : SUSPEND_POLL_MS);
		if (dr_exec_cancelled(c->call) && !c->st->told_cancel) {
			c->st->told_cancel = true;
			log_line(c, "warn", dr_arena_printf(c->a, "%s of '%s' is running in the service (job %s); waiting "
								  "for its end, the safe point", c->verb, c->vm, j.name));
		}
		return dr_outcome_wait(wait);
	}
	if (j.state == DR_BE_JOB_SUCCEEDED) {
		cJSON *out = outputs(c, &j);
		if (!c->unread.code)
			return finish(c, dr_outcome_ok(out));
		cJSON_Delete(out); /* the job is done; its outputs need the item */
		return ask_again(c, dr_arena_printf(c->a, "the item for the outputs of job %s", j.name), &c->unread);
	}
	return finish(c, job_failed(c, &j));
}

/* "onto the newest processed point (latest-processed, taken ..., 4m12s old)" for the start line. */
static const char *point_phrase(opctx *c, const dr_point_pick *p)
{
	char age[40];
	if (!p->policy)
		return "";
	dr_text_human_duration(p->age_ms, age, sizeof age);
	if (!p->point_id)
		return dr_arena_printf(c->a, " onto the latest data (%s%s: the service processes pending data first; "
					     "estimated RPO %s)", p->policy, p->fallback ? ", a fallback" : "", age);
	return dr_arena_printf(c->a, " onto recovery point %s (%s%s, %s, taken %s, %s old)", last_segment(p->point_id),
			       p->policy, p->fallback ? ", a fallback" : "", p->type, time_text(c->a, p->time_ms), age);
}

static void keep_pick(opctx *c, const dr_point_pick *p)
{
	free(c->st->policy), free(c->st->point_type), free(c->st->point_id);
	c->st->policy = xstrdup(p->policy);
	c->st->point_type = xstrdup(p->type);
	c->st->fallback = p->fallback;
	c->st->point_id = p->point_id ? xstrdup(p->point_id) : NULL;
	c->st->pick_ms = p->time_ms, c->st->pick_age = p->age_ms;
	c->st->picked = true;
}

/* The choice made before the rate limit's wait: the same point, not a second list of them. */
static void kept_pick(opctx *c, dr_point_pick *p)
{
	*p = (dr_point_pick){.point_id = c->st->point_id, .policy = c->st->policy, .type = c->st->point_type,
			     .time_ms = c->st->pick_ms, .age_ms = c->st->pick_age, .fallback = c->st->fallback};
}

/* A minimal request that only a replay can accept here (see the top of the file). */
static bool replayed(opctx *c, int attempt, dr_be_started *out)
{
	char key[KEY_MAX];
	dr_be_error e;
	key_of(c->call, attempt, key);
	dr_be_request req = {.op = c->d->op, .item_id = c->item_id, .idempotency_key = key, .replay_only = true};
	return dr_backend_start(c->be, c->a, c->now, &req, out, &e) == 0;
}

/* Whether a start with an unknown key would be refused now: a job runs, or the state forbids op. */
static bool start_impossible(const opctx *c, const dr_be_item *it)
{
	if (c->d->op == DR_BE_OP_SHUTDOWN)
		return false;
	return it->current_job_id || !(it->allowed_ops & DR_BE_OP_BIT(c->d->op));
}

/* Attempts after the first: go on with an earlier attempt's job when there is one. */
static bool adopt(opctx *c, const dr_be_item *it)
{
	dr_be_started s;
	if (c->call->attempt < 2 || !start_impossible(c, it))
		return false;
	for (int k = c->call->attempt - 1; k >= 1; k--) {
		if (!replayed(c, k, &s))
			continue;
		c->st->job_id = xstrdup(s.job_id);
		if (c->d->request) { /* what this attempt would have asked, for the outputs */
			dr_be_request ignored = {0};
			c->d->request(c, &ignored);
		}
		log_line(c, "info", dr_arena_printf(c->a, "%s of '%s': going on with job %s, which attempt %d started",
						    c->verb, c->vm, job_name(c->a, s.job_id), k));
		return true;
	}
	return false;
}

/* A choice refused on begin()'s peeked item: the service's item now decides (a copy never refuses). */
static bool chosen_fresh(opctx *c, dr_point_pick *pick, char **msg, dr_err_class *cls)
{
	dr_be_item it;
	dr_be_error e;
	if (dr_backend_get_item(c->be, c->a, c->now, c->item_id, &it, &e) < 0)
		return false;
	free(*msg);
	*msg = NULL;
	return dr_point_choose(c->call, c->be, c->a, &it, c->d->op, c->now, pick, msg, cls) == 0;
}

static dr_outcome start(opctx *c, const dr_be_item *it)
{
	char key[KEY_MAX];
	dr_point_pick pick = {0};
	char *msg = NULL;
	dr_err_class cls;
	dr_be_request req = {.op = c->d->op, .item_id = it->id, .idempotency_key = key};
	key_of(c->call, c->call->attempt, key);
	/* no point to choose when the service will refuse anyway: its own error says more (busy, wrong state) */
	if (c->d->points && c->st->picked && c->st->paced) {
		kept_pick(c, &pick); /* chosen when the write slot was reserved: posting now must not wait for a read */
		req.point_id = pick.point_id;
	} else if (c->d->points && !start_impossible(c, it)) {
		/* a list the service did not answer (throttled, transient) is the attempt's failure, not asked twice */
		if (dr_point_choose(c->call, c->be, c->a, it, c->d->op, c->now, &pick, &msg, &cls) < 0 &&
		    (cls != DR_ERRC_PERMANENT || !chosen_fresh(c, &pick, &msg, &cls))) {
			dr_outcome o = dr_outcome_fail(cls, "%s of '%s' not started: %s", c->verb, c->vm, msg);
			o.retry_after_ms = cls == DR_ERRC_PERMANENT ? -1 : pick.retry_after_ms;
			free(msg);
			return finish(c, o);
		}
		req.point_id = pick.point_id;
		keep_pick(c, &pick);
	}
	if (c->d->request)
		c->d->request(c, &req);
	int64_t pace = c->st->paced ? 0 : dr_backend_pace(c->be, &req);
	if (pace > 0) { /* the service's rate limit: wait on a timer, the slot is reserved */
		c->st->paced = true;
		return dr_outcome_wait(pace);
	}
	dr_be_started s;
	dr_be_error e;
	if (dr_backend_start(c->be, c->a, c->now, &req, &s, &e) < 0)
		return finish(c, refused(c, "was refused", &e));
	c->st->job_id = xstrdup(s.job_id);
	c->st->request_id = s.request_id ? xstrdup(s.request_id) : NULL;
	if (dr_exec_logs_read(c->call->run)) /* formatted only when read: said for every task */
		log_line(c, "info", dr_arena_printf(c->a, "%s of '%s' %s: job %s%s%s%s", c->verb, c->vm,
						    s.replayed ? "was already started with this key" : "started",
						    job_name(c->a, s.job_id), s.request_id ? " (request id " : "",
						    s.request_id ? dr_arena_printf(c->a, "%s)", s.request_id) : "",
						    point_phrase(c, &pick)));
	if (s.poll_after_ms > 0)
		return dr_outcome_wait(s.poll_after_ms); /* the service said when to ask (Retry-After) */
	return poll(c);
}

/*
 * A test failover cleanup of an item that has no test failover: its test
 * failover never started (an earlier step failed, a VM was excluded), or
 * its test VM is gone already. The service would refuse the cleanup in
 * that state; there is nothing to clean, so the task succeeds at once and
 * says so, sending nothing. A test failover still starting, a cleanup in
 * progress or a state this interface does not know is not "nothing".
 */
static bool nothing_to_clean(const opctx *c, const dr_be_item *it)
{
	if (c->d->op != DR_BE_OP_TEST_CLEANUP || it->test_vm.exists || (it->allowed_ops & DR_BE_OP_BIT(DR_BE_OP_TEST_CLEANUP)))
		return false;
	return it->state != DR_BE_ST_TEST_FAILING_OVER && it->state != DR_BE_ST_TEST_FAILED_OVER &&
	       it->state != DR_BE_ST_TEST_CLEANING && it->state != DR_BE_ST_OTHER;
}

static dr_outcome not_needed(opctx *c, const dr_be_item *it)
{
	const char *why = dr_arena_printf(c->a, "it has no test failover (%s, no test VM, as the service says)",
					  dr_backend_state_name(it->state));
	log_line(c, "info", dr_arena_printf(c->a, "%s of '%s' not needed: %s; nothing was sent", c->verb, c->vm, why));
	cJSON *out = cJSON_CreateObject();
	cJSON_AddBoolToObject(out, "cleaned", false);
	add_str(out, "reason", dr_arena_printf(c->a, "nothing to clean up: %s", why));
	add_str(out, "protection_state", dr_backend_state_name(it->state));
	return finish(c, dr_outcome_ok(out));
}

static dr_outcome begin(opctx *c)
{
	dr_be_item it;
	dr_be_error e;
	if (dr_exec_cancelled(c->call)) /* finish: a paced call keeps a state to free */
		return finish(c, dr_outcome_fail(DR_ERRC_CANCELLED, "%s of '%s' not started: the run is stopping", c->verb,
						  c->vm));
	if (dr_backend_peek_item(c->be, c->a, c->now, c->item_id, &it, &e) < 0) /* the post is checked again */
		return finish(c, refused(c, "cannot start: looking the VM up failed", &e));
	c->item_id = it.id;
	if (!c->st)
		c->st = c->call->state = xcalloc(1, sizeof *c->st);
	if (!c->st->paced && adopt(c, &it))
		return poll(c);
	if (nothing_to_clean(c, &it))
		return not_needed(c, &it);
	return start(c, &it);
}

/* The context of one call; -1 with *o set when the call cannot work at all. */
static int ctx_init(opctx *c, dr_call *call, const opdef *d, dr_outcome *o)
{
	static const char *const verbs[DR_BE_OP_COUNT] = {
		[DR_BE_OP_FAILOVER] = "failover", [DR_BE_OP_TEST_FAILOVER] = "test failover",
		[DR_BE_OP_TEST_CLEANUP] = "test failover cleanup", [DR_BE_OP_CHANGE_POINT] = "change of recovery point",
		[DR_BE_OP_COMMIT] = "commit", [DR_BE_OP_CANCEL_FAILOVER] = "cancel failover",
		[DR_BE_OP_REPROTECT] = "reprotect", [DR_BE_OP_SHUTDOWN] = "shutdown",
	};
	*c = (opctx){.call = call, .d = d, .be = dr_exec_backend(call->run), .st = call->state, .verb = verbs[d->op]};
	if (!call->target) {
		*o = dr_outcome_fail(DR_ERRC_PERMANENT, "%s needs targets: (it acts on each VM of a VM set)",
				     call->action ? call->action->name : c->verb);
		return -1;
	}
	c->vm = call->target->name;
	c->item_id = call->target->id ? call->target->id : call->target->name;
	if (!c->be) {
		*o = dr_outcome_fail(DR_ERRC_PERMANENT, "%s of '%s': no backend (dr.* actions run inside a run)", c->verb,
				     c->vm);
		return -1;
	}
	c->a = dr_arena_new();
	c->now = dr_exec_wall(call->run, call->now_ms);
	return 0;
}

static dr_outcome op_run(dr_call *call, const opdef *d)
{
	opctx c;
	dr_outcome o;
	if (ctx_init(&c, call, d, &o) < 0) {
		free_state(call->state);
		call->state = NULL;
		return o;
	}
	o = c.st && c.st->job_id ? poll(&c) : begin(&c); /* no job yet: paced, start now */
	dr_arena_free(c.a);
	return o;
}

void dr_op_cancel(dr_call *call)
{
	free_state(call->state);
	call->state = NULL;
}

/* ---- probes (resume) --------------------------------------------------------------------------- */

static dr_probe_result probe_is(dr_probe_status s, char *msg)
{
	return (dr_probe_result){.status = s, .message = msg, .wait_ms = -1};
}

/* What the replayed job of an earlier start says. */
static dr_probe_result probe_job(opctx *c, const char *job_id)
{
	dr_be_job j;
	dr_be_error e;
	if (dr_backend_get_job(c->be, c->a, c->now, job_id, &j, &e) < 0)
		return probe_is(DR_PROBE_UNKNOWN, heap_printf(c->a, "%s of '%s': its job %s cannot be read: %s", c->verb,
							      c->vm, job_name(c->a, job_id), dr_backend_error_text(c->a, &e)));
	if (!dr_backend_job_done(j.state)) {
		c->st = c->call->state = xcalloc(1, sizeof *c->st);
		c->st->job_id = xstrdup(job_id);
		dr_probe_result r = probe_is(DR_PROBE_RUNNING, NULL);
		r.wait_ms = j.poll_after_ms > 0 ? j.poll_after_ms : POLL_DEFAULT_MS;
		return r;
	}
	if (j.state == DR_BE_JOB_SUCCEEDED) {
		dr_probe_result r = probe_is(DR_PROBE_DONE, NULL);
		r.outputs = outputs(c, &j);
		return r;
	}
	dr_outcome o = job_failed(c, &j);
	dr_probe_result r = probe_is(DR_PROBE_FAILED, o.message);
	r.cls = o.cls;
	return r;
}

/* A shutdown job runs on the VM when the service lists one for the item. */
static bool shutdown_running(opctx *c)
{
	dr_be_job *jobs;
	size_t n;
	dr_be_error e;
	dr_be_job_filter f = {.item_id = c->item_id, .running_only = true, .since_ms = -1};
	if (dr_backend_list_jobs(c->be, c->a, c->now, &f, &jobs, &n, &e) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (jobs[i].op == DR_BE_OP_SHUTDOWN)
			return true;
	return false;
}

static dr_probe_result probe_item(opctx *c)
{
	dr_be_item it;
	dr_be_error e;
	if (dr_backend_get_item(c->be, c->a, c->now, c->item_id, &it, &e) < 0)
		return probe_is(DR_PROBE_UNKNOWN, heap_printf(c->a, "%s of '%s': the service cannot be asked: %s", c->verb,
							      c->vm, dr_backend_error_text(c->a, &e)));
	c->item_id = it.id;
	bool impossible = c->d->op == DR_BE_OP_SHUTDOWN ? shutdown_running(c) : start_impossible(c, &it);
	if (!impossible) /* a start now replays a key the service knows, or is a first start */
		return probe_is(DR_PROBE_NOT_STARTED, NULL);
	for (int k = c->call->attempt; k >= 1; k--) {
		char key[KEY_MAX];
		dr_be_started s;
		key_of(c->call, k, key);
		dr_be_request req = {.op = c->d->op, .item_id = c->item_id, .idempotency_key = key, .replay_only = true};
		if (dr_backend_start(c->be, c->a, c->now, &req, &s, &e) == 0)
			return probe_job(c, s.job_id);
		if (e.cls != DR_BE_ERR_PERMANENT)
			return probe_is(DR_PROBE_UNKNOWN, heap_printf(c->a, "%s of '%s': the service did not answer: %s",
								      c->verb, c->vm, dr_backend_error_text(c->a, &e)));
	}
	return probe_is(DR_PROBE_NOT_STARTED, NULL); /* the service knows none of this task's keys */
}

static dr_probe_result op_probe(dr_call *call, const opdef *d)
{
	opctx c;
	dr_outcome o;
	if (ctx_init(&c, call, d, &o) < 0) {
		dr_probe_result r = probe_is(DR_PROBE_UNKNOWN, o.message);
		return r;
	}
	c.st = NULL;
	dr_probe_result r = probe_item(&c);
	dr_arena_free(c.a);
	return r;
}

/* ---- the rows' functions ----------------------------------------------------------------------- */

#define DR_OP(name, def)                                                                                           \
	dr_outcome dr_##name##_run(dr_call *call)                                                                    \
	{                                                                                                            \
		return op_run(call, &def);                                                                           \
	}                                                                                                            \
	dr_probe_result dr_##name##_probe(dr_call *call)                                                             \
	{                                                                                                            \
		return op_probe(call, &def);                                                                         \
	}
DR_OP(failover, op_failover)
DR_OP(test_failover, op_test_failover)
DR_OP(test_cleanup, op_test_cleanup)
DR_OP(change_point, op_change_point)
DR_OP(commit, op_commit)
DR_OP(cancel_failover, op_cancel)
DR_OP(reprotect, op_reprotect)
DR_OP(shutdown, op_shutdown)
