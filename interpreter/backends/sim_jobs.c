/*
 * backends/sim_jobs.c - jobs and their tasks: what each operation does, step
 * by step, and how long each step takes.
 *
 * A job is planned completely when it starts: its tasks (named like ASR's,
 * asr-api.md §1.5), each with a duration drawn from the seed, the VM and its
 * operation count, laid end to end. Faults may then stretch them, make one
 * fail or hang (sim_faults.c). Progress is never stored: the state of a job
 * at time t is read off its planned times, and sim_settle applies the
 * effects of finished tasks (a VM stops, is created, starts) and, when the
 * job is over, the state transition (sim_machine.c). That makes polling
 * free of side effects and exact on a virtual clock: poll_after_ms is the
 * time to the job's next change.
 *
 * Typical totals: failover 3-8 min (+ processing for "latest"), test
 * failover 3-8 min, cleanup ~2 min, commit ~1 min, change point 2-6 min,
 * cancel 1-4 min, reprotect 22-65 min (seeding), shutdown ~1 min; a VM
 * then needs 30 s-2 min to boot before it answers as healthy.
 */
#include "backends/sim_int.h"

#include <string.h>

#define S INT64_C(1000)

typedef enum effect {
	E_NONE,
	E_STOP_SRC, /* the source VM stops (deallocated) */
	E_STOP_DST,
	E_CREATE_DST, /* the target VM exists, stopped */
	E_START_DST, /* the target VM runs; it boots, then is healthy (or not, with a fault) */
	E_DELETE_SRC,
	E_CREATE_TEST,
	E_START_TEST,
	E_DELETE_TEST,
} effect;

enum {
	K_PREREQ_FO, K_SHUTDOWN_SRC, K_PROCESS, K_CREATE_VM, K_START_REPLICA,
	K_PREREQ_TFO, K_CREATE_TEST, K_PREPARE, K_START_TEST,
	K_PREREQ_CLEAN, K_DELETE_TEST,
	K_PREREQ_COMMIT, K_COMMIT,
	K_PREREQ_PIT, K_STOP_VM, K_APPLY, K_START_VM,
	K_PREREQ_CANCEL, K_DELETE_FO, K_START_SRC,
	K_PREREQ_RP, K_REVERSE, K_SEED, K_DELTA,
	K_SHUTDOWN,
	K_COUNT
};

static const struct task_row {
	const char *key; /* in the state file */
	const char *name; /* as the Jobs page shows it */
	int64_t lo, hi; /* duration range */
	effect eff;
	bool main; /* the task a fault fails or hangs by default */
} tasks[K_COUNT] = {
	[K_PREREQ_FO] = {"prereq_failover", "Prerequisites check for failover", 15 * S, 45 * S, E_NONE, false},
	[K_SHUTDOWN_SRC] = {"shutdown_source", "Shut down the source virtual machine", 30 * S, 90 * S, E_STOP_SRC,
			    false},
	[K_PROCESS] = {"process_data", "Process the pending replication data", 0, 0, E_NONE, false},
	[K_CREATE_VM] = {"create_vm", "Create the virtual machine", 120 * S, 300 * S, E_CREATE_DST, true},
	[K_START_REPLICA] = {"start_replica", "Start the replica virtual machine", 30 * S, 90 * S, E_START_DST, false},
	[K_PREREQ_TFO] = {"prereq_test_failover", "Prerequisites check for test failover", 15 * S, 45 * S, E_NONE,
			  false},
	[K_CREATE_TEST] = {"create_test_vm", "Create test virtual machine", 120 * S, 300 * S, E_CREATE_TEST, true},
	[K_PREPARE] = {"prepare_vm", "Preparing the virtual machine", 20 * S, 60 * S, E_NONE, false},
	[K_START_TEST] = {"start_test_vm", "Start the virtual machine", 30 * S, 90 * S, E_START_TEST, false},
	[K_PREREQ_CLEAN] = {"prereq_cleanup", "Prerequisites check for test failover cleanup", 5 * S, 15 * S,
			    E_NONE, false},
	[K_DELETE_TEST] = {"delete_test_vm", "Delete the test virtual machine", 60 * S, 120 * S, E_DELETE_TEST,
			   true},
	[K_PREREQ_COMMIT] = {"prereq_commit", "Prerequisite check", 5 * S, 15 * S, E_NONE, false},
	[K_COMMIT] = {"commit", "Commit", 20 * S, 60 * S, E_NONE, true},
	[K_PREREQ_PIT] = {"prereq_change_point", "Prerequisites check for changing the recovery point", 10 * S,
			  30 * S, E_NONE, false},
	[K_STOP_VM] = {"stop_vm", "Shut down the virtual machine", 20 * S, 60 * S, E_STOP_SRC, false},
	[K_APPLY] = {"apply_point", "Apply the recovery point", 60 * S, 180 * S, E_NONE, true},
	[K_START_VM] = {"start_vm", "Start the virtual machine", 30 * S, 90 * S, E_START_DST, false},
	[K_PREREQ_CANCEL] = {"prereq_cancel", "Prerequisites check for cancelling the failover", 10 * S, 30 * S,
			     E_NONE, false},
	[K_DELETE_FO] = {"delete_failed_over_vm", "Delete the failed-over virtual machine", 60 * S, 120 * S,
			 E_DELETE_SRC, true},
	[K_START_SRC] = {"start_source_vm", "Start the source virtual machine", 30 * S, 90 * S, E_START_DST, false},
	[K_PREREQ_RP] = {"prereq_reprotect", "Prerequisites check for reprotect", 15 * S, 45 * S, E_NONE, false},
	[K_REVERSE] = {"reverse_direction", "Update the replication direction", 60 * S, 120 * S, E_STOP_DST, false},
	[K_SEED] = {"seed", "Initial replication (seeding the other region)", 20 * SIM_MIN, 60 * SIM_MIN, E_NONE,
		    true},
	[K_DELTA] = {"delta", "Start delta replication", 30 * S, 90 * S, E_NONE, false},
	[K_SHUTDOWN] = {"shutdown_vm", "Shut down the virtual machine", 30 * S, 90 * S, E_STOP_SRC, true},
};

/* When an optional task is part of a job. */
typedef enum cond { C_ALWAYS, C_SHUTDOWN, C_PROCESS, C_DST_DOWN } cond;

static const struct plan_row {
	int kind;
	cond when;
} plans[DR_BE_OP_COUNT][SIM_MAX_TASKS + 1] = {
	[DR_BE_OP_FAILOVER] = {{K_PREREQ_FO, C_ALWAYS}, {K_SHUTDOWN_SRC, C_SHUTDOWN}, {K_PROCESS, C_PROCESS},
			       {K_CREATE_VM, C_ALWAYS}, {K_START_REPLICA, C_ALWAYS}, {-1, C_ALWAYS}},
	[DR_BE_OP_TEST_FAILOVER] = {{K_PREREQ_TFO, C_ALWAYS}, {K_PROCESS, C_PROCESS}, {K_CREATE_TEST, C_ALWAYS},
				    {K_PREPARE, C_ALWAYS}, {K_START_TEST, C_ALWAYS}, {-1, C_ALWAYS}},
	[DR_BE_OP_TEST_CLEANUP] = {{K_PREREQ_CLEAN, C_ALWAYS}, {K_DELETE_TEST, C_ALWAYS}, {-1, C_ALWAYS}},
	[DR_BE_OP_CHANGE_POINT] = {{K_PREREQ_PIT, C_ALWAYS}, {K_STOP_VM, C_ALWAYS}, {K_PROCESS, C_PROCESS},
				   {K_APPLY, C_ALWAYS}, {K_START_VM, C_ALWAYS}, {-1, C_ALWAYS}},
	[DR_BE_OP_COMMIT] = {{K_PREREQ_COMMIT, C_ALWAYS}, {K_COMMIT, C_ALWAYS}, {-1, C_ALWAYS}},
	[DR_BE_OP_CANCEL_FAILOVER] = {{K_PREREQ_CANCEL, C_ALWAYS}, {K_DELETE_FO, C_ALWAYS}, {K_START_SRC, C_DST_DOWN},
				      {-1, C_ALWAYS}},
	[DR_BE_OP_REPROTECT] = {{K_PREREQ_RP, C_ALWAYS}, {K_REVERSE, C_ALWAYS}, {K_SEED, C_ALWAYS},
				{K_DELTA, C_ALWAYS}, {-1, C_ALWAYS}},
	[DR_BE_OP_SHUTDOWN] = {{K_SHUTDOWN, C_ALWAYS}, {-1, C_ALWAYS}},
};

const char *sim_task_key(int kind)
{
	return kind >= 0 && kind < K_COUNT ? tasks[kind].key : "?";
}

const char *sim_task_name(int kind)
{
	return kind >= 0 && kind < K_COUNT ? tasks[kind].name : "?";
}

int sim_task_parse(const char *key)
{
	for (int i = 0; i < K_COUNT; i++)
		if (strcmp(tasks[i].key, key) == 0)
			return i;
	return -1;
}

int sim_task_count(void)
{
	return K_COUNT;
}

/* ---- planning ------------------------------------------------------------------- */

/* The point needs processing first: "latest", or a point the service has not processed yet. */
static bool needs_processing(const sim_item *it, const dr_be_request *req, int64_t t)
{
	int64_t when;
	bool processed = false;
	if (!req->point_id)
		return true;
	return sim_points_find(it, req->point_id, t, &when, &processed) && !processed;
}

static bool wanted(cond c, const sim_item *it, const sim_job *j, const dr_be_request *req, int64_t t)
{
	switch (c) {
	case C_SHUTDOWN: return req->shutdown_source;
	case C_PROCESS: return needs_processing(it, req, t);
	case C_DST_DOWN: return !it->vm[j->dst].running;
	default: return true;
	}
}

/* Processing pending data: 20-40 s plus a quarter of the unprocessed window, at most 10 minutes. */
static int64_t processing_time(const sim_item *it, int64_t t, uint64_t h)
{
	int64_t newest = sim_points_latest_processed(it, t);
	int64_t pending = newest == SIM_NEVER ? 0 : t - newest;
	int64_t d = sim_between(h, 20 * S, 40 * S) + pending / 4;
	return d > 10 * SIM_MIN ? 10 * SIM_MIN : d;
}

static int64_t real_duration(const sim_item *it, const sim_job *j, int kind, uint64_t h, int64_t t)
{
	const struct task_row *r = &tasks[kind];
	if (kind == K_PROCESS)
		return processing_time(it, t, h);
	if (r->eff == E_STOP_SRC && !it->vm[j->src].running)
		return sim_between(h, 2 * S, 5 * S); /* already stopped: a quick no-op */
	return sim_between(h, r->lo, r->hi);
}

/* A task's duration at the sim's job speed (the emulator's --speed), at least 1 ms. */
static int64_t duration(const sim *s, const sim_item *it, const sim_job *j, int kind, uint64_t h, int64_t t)
{
	int64_t d = real_duration(it, j, kind, h, t);
	if (s->job_speed == 1 || d == 0)
		return d;
	int64_t v = (int64_t)((double)d / s->job_speed);
	return v > 0 ? v : 1;
}

/*
 * Lay tasks [from, n) end to end from t; nothing runs after a task that
 * fails, hangs or waits for a person. Tasks after a SUSPEND keep their
 * duration in end (start SIM_NEVER) for the resume to lay them out.
 */
static void layout(sim_job *j, int from, int64_t t)
{
	int64_t at = t;
	bool waiting = false;
	for (int i = from; i < j->n_tasks; i++) {
		sim_task *k = &j->tasks[i];
		int64_t d = k->end; /* the duration, until now */
		if (at == SIM_NEVER) {
			k->start = SIM_NEVER;
			k->end = waiting ? d : SIM_NEVER;
			continue;
		}
		k->start = at;
		k->end = k->outcome == SIM_HANG || k->outcome == SIM_SUSPEND ? SIM_NEVER : at + d;
		waiting = k->outcome == SIM_SUSPEND;
		at = k->outcome == SIM_FAIL ? SIM_NEVER : k->end;
	}
}

/* The task the job waits at for a person (started, not resumed) at t, or -1. */
int sim_job_suspended_task(const sim_job *j, int64_t t)
{
	for (int i = 0; i < j->n_tasks; i++)
		if (j->tasks[i].outcome == SIM_SUSPEND && j->tasks[i].start != SIM_NEVER && j->tasks[i].start <= t)
			return i;
	return -1;
}

bool sim_job_resume(sim_job *j, int64_t t)
{
	int i = sim_job_suspended_task(j, t);
	if (i < 0)
		return false;
	j->tasks[i].outcome = SIM_OK;
	j->tasks[i].end = t; /* the manual action ends when the person resumes the job */
	layout(j, i + 1, t);
	return true;
}

void sim_jobs_plan(sim *s, sim_item *it, sim_job *j, const dr_be_request *req, int64_t t)
{
	uint64_t base = sim_mix(sim_mix(s->seed, sim_hash(it->name)), it->n_ops);
	j->n_tasks = 0;
	j->start = t;
	for (const struct plan_row *p = plans[j->op]; p->kind >= 0; p++) {
		if (!wanted(p->when, it, j, req, t))
			continue;
		sim_task *k = &j->tasks[j->n_tasks++];
		k->kind = p->kind;
		k->outcome = SIM_OK;
		k->end = duration(s, it, j, p->kind, sim_mix(base, (uint64_t)p->kind), t);
	}
	sim_faults_job(s, it, j);
	layout(j, 0, t);
}

int sim_job_main_task(const sim_job *j)
{
	for (int i = 0; i < j->n_tasks; i++)
		if (tasks[j->tasks[i].kind].main)
			return i;
	return j->n_tasks - 1;
}

int64_t sim_job_end(const sim_job *j, bool *ok)
{
	*ok = true;
	for (int i = 0; i < j->n_tasks; i++) {
		if (j->tasks[i].outcome == SIM_FAIL) {
			*ok = false;
			return j->tasks[i].end;
		}
		if (j->tasks[i].end == SIM_NEVER)
			return SIM_NEVER;
	}
	return j->n_tasks ? j->tasks[j->n_tasks - 1].end : j->start;
}

/* ---- settling: effects of tasks that ended ------------------------------------------ */

/* The boot delay hashes the job's GUID (itself drawn from the seed when the job began). */
static void start_vm(const sim *s, sim_vmst *vm, const sim_job *j, int64_t at)
{
	vm->exists = vm->running = true;
	vm->since_ms = at;
	vm->boot_ms = (int64_t)((double)sim_between(sim_mix(sim_hash(j->guid), 99), 30 * S, 120 * S) / s->job_speed);
	vm->unhealthy = j->unhealthy;
}

static void apply(const sim *s, sim_item *it, const sim_job *j, const sim_task *k)
{
	sim_vmst *src = &it->vm[j->src], *dst = &it->vm[j->dst];
	switch (tasks[k->kind].eff) {
	case E_STOP_SRC: src->running = false, src->since_ms = k->end; break;
	case E_STOP_DST: dst->running = false, dst->since_ms = k->end; break;
	case E_CREATE_DST: dst->exists = true, dst->running = false, dst->since_ms = k->end; break;
	case E_START_DST: start_vm(s, dst, j, k->end); break;
	case E_DELETE_SRC: memset(src, 0, sizeof *src), src->since_ms = k->end; break;
	case E_CREATE_TEST: it->test_vm.exists = true, it->test_vm.since_ms = k->end; break;
	case E_START_TEST: start_vm(s, &it->test_vm, j, k->end); break;
	case E_DELETE_TEST: memset(&it->test_vm, 0, sizeof it->test_vm), it->test_vm.since_ms = k->end; break;
	default: break;
	}
}

static void settle_slot(sim *s, sim_item *it, int64_t *slot, int *applied, int64_t t, bool protection)
{
	if (*slot < 0)
		return;
	sim_job *j = &s->jobs[*slot];
	while (*applied < j->n_tasks) {
		const sim_task *k = &j->tasks[*applied];
		if (k->end == SIM_NEVER || k->end > t)
			return;
		if (k->outcome == SIM_OK)
			apply(s, it, j, k);
		(*applied)++;
		if (k->outcome == SIM_FAIL)
			break;
	}
	bool ok;
	int64_t end = sim_job_end(j, &ok);
	*slot = -1;
	*applied = 0;
	if (protection)
		sim_machine_finish(s, it, j, ok, end);
}

void sim_settle(sim *s, sim_item *it, int64_t t)
{
	int64_t job = it->job, vm_job = it->vm_job;
	int applied = it->applied, vm_applied = it->vm_applied;
	settle_slot(s, it, &it->vm_job, &it->vm_applied, t, false);
	settle_slot(s, it, &it->job, &it->applied, t, true);
	if (job != it->job || vm_job != it->vm_job || applied != it->applied || vm_applied != it->vm_applied)
		sim_item_touch(s, it); /* a task's effect, a job's end: saved with the next group */
}

/* ---- the job as the service shows it -------------------------------------------------- */

static dr_be_job_state task_state(const sim_task *k, int64_t t, bool failed)
{
	if (k->start == SIM_NEVER)
		return failed ? DR_BE_JOB_SKIPPED : DR_BE_JOB_NOT_STARTED;
	if (k->start > t)
		return DR_BE_JOB_NOT_STARTED;
	if (k->outcome == SIM_SUSPEND)
		return DR_BE_JOB_SUSPENDED;
	if (k->end == SIM_NEVER || k->end > t)
		return DR_BE_JOB_IN_PROGRESS;
	return k->outcome == SIM_OK ? DR_BE_JOB_SUCCEEDED : DR_BE_JOB_FAILED;
}

static void add_error(dr_arena *a, dr_be_job *out, const sim_job *j, const sim_task *k, const sim_item *it)
{
	dr_be_job_error *e = &out->errors[out->n_errors++];
	e->task = tasks[k->kind].name;
	e->warning = k->outcome == SIM_WARN;
	if (e->warning) {
		dr_backend_fail(&e->error, a, 0, DR_BE_ERR_TRANSIENT, "SourceVmShutdownFailed",
				"The source virtual machine didn't respond to the shutdown request.",
				"Shut the source VM down yourself: two copies of the VM may be running.",
				"The source virtual machine '%s' couldn't be shut down; the failover continued.",
				it->name);
		return;
	}
	dr_backend_fail(&e->error, a, 500, DR_BE_ERR_PERMANENT, j->err_code ? j->err_code : "InternalError",
			"A fault injected into the simulator.", "Retry the operation, or remove the fault.",
			"%s", j->err_msg ? j->err_msg : "The task failed.");
}

static int64_t next_change(const sim_job *j, int64_t t)
{
	int64_t best = SIM_NEVER;
	for (int i = 0; i < j->n_tasks; i++) {
		const sim_task *k = &j->tasks[i];
		if (k->start != SIM_NEVER && k->start > t && k->start - t < best)
			best = k->start - t;
		if (k->end != SIM_NEVER && k->end > t && k->end - t < best)
			best = k->end - t;
	}
	return best == SIM_NEVER ? 30 * S : best;
}

static void view_tasks(const sim_job *j, const sim_item *it, int64_t t, bool failed, dr_arena *a,
		       dr_be_job *out)
{
	out->tasks = dr_arena_calloc(a, (size_t)j->n_tasks, sizeof *out->tasks);
	out->errors = dr_arena_calloc(a, (size_t)j->n_tasks, sizeof *out->errors);
	for (int i = 0; i < j->n_tasks; i++) {
		const sim_task *k = &j->tasks[i];
		dr_be_task *o = &out->tasks[out->n_tasks++];
		o->name = tasks[k->kind].name;
		o->state = task_state(k, t, failed);
		o->start_ms = k->start != SIM_NEVER && k->start <= t ? k->start : -1;
		o->end_ms = k->start != SIM_NEVER && k->end != SIM_NEVER && k->end <= t ? k->end : -1;
		if (o->state == DR_BE_JOB_SUSPENDED)
			o->instructions = dr_arena_strdup(a, j->err_msg ? j->err_msg : "");
		if (o->state == DR_BE_JOB_FAILED)
			add_error(a, out, j, k, it);
	}
}

void sim_job_view(sim *s, const sim_job *j, int64_t t, dr_arena *a, dr_be_job *out)
{
	const sim_item *it = &s->items[j->item];
	bool ok;
	int64_t end = sim_job_end(j, &ok);
	bool done = end != SIM_NEVER && end <= t;
	memset(out, 0, sizeof *out);
	out->name = dr_arena_strdup(a, j->guid);
	out->id = sim_job_id(s, j, a);
	out->op = j->op;
	out->scenario = sim_op_scenario(j->op);
	out->friendly_name = sim_op_friendly(j->op);
	out->item_id = sim_item_id(s, it, a);
	out->item_name = dr_arena_strdup(a, it->name);
	out->state = !done ? DR_BE_JOB_IN_PROGRESS : ok ? DR_BE_JOB_SUCCEEDED : DR_BE_JOB_FAILED;
	if (!done && sim_job_suspended_task(j, t) >= 0)
		out->state = DR_BE_JOB_SUSPENDED; /* waiting for a person */
	out->start_ms = j->start;
	out->end_ms = done ? end : -1;
	view_tasks(j, it, t, done && !ok, a, out);
	out->state_description = out->state == DR_BE_JOB_SUSPENDED ? "Suspended"
				 : !done			     ? "InProgress"
				 : !ok				     ? "Failed"
				 : out->n_errors		     ? "CompletedWithInformation"
								     : "Completed";
	out->point_id = j->point_id ? sim_child_id(a, out->item_id, "recoveryPoints", j->point_id) : NULL;
	out->point_ms = j->point_id ? j->point_ms : -1;
	out->poll_after_ms = done ? -1 : next_change(j, t);
	if (out->state == DR_BE_JOB_SUSPENDED) /* a person may resume it any time: as often as the job's pace allows */
		out->poll_after_ms = (int64_t)((double)(30 * S) / s->job_speed) > S ? (int64_t)((double)(30 * S) / s->job_speed) : S;
}
