/*
 * test_dr_actions.c - the dr.* actions end to end on the simulator and the
 * virtual clock: runbooks compiled from text, run by the executor with an
 * in-memory sim the test keeps (so it can look at items, jobs and the
 * audit log afterwards), their event streams parsed.
 *
 *   - a failover of a VM set: outputs (job, point, achieved RPO, tasks),
 *     the items' states, one accepted start per task with the run's keys;
 *   - recovery point policy: custom by time, RPO guard, fallback, change of
 *     point before commit (and refused after), the step's own override;
 *   - source shutdown failure is a warning, never a failure;
 *   - faults drive retries (transient, throttled with Retry-After, a failed
 *     job) and rollback (cancel failover of what failed over, same VMs);
 *   - an attempt that timed out goes on with its job (no second start);
 *   - reprotect refused before commit by the service, fine after;
 *   - test failover, the probe of the test VM, cleanup;
 *   - dr.probe waits for boot, gives up on an unhealthy VM;
 *   - the resume probes: not started, running, done, failed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "actions/action.h"
#include "backends/sim.h"
#include "run/exec.h"
#include "front/plan.h"
#include "front/runbook.h"
#include "fixture.h"

#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00Z: the virtual clock's epoch */

/* --- fixtures (the runs are fixture.h's) -------------------------------- */

/* Compile yaml and open its backend (the sim, in memory, kept: the test reads it); approvals granted. */
static void run_init(fx_run *r, const char *yaml)
{
	fx_run_init(r, yaml);
	fx_run_keep_backend(r);
	r->o.auto_approve = true;
}

/* Another runbook on the same simulator (a later run against the same estate). */
static void run_swap(fx_run *r, const char *yaml)
{
	fx_run_forget(r);
	dr_runbook_free(r->rb);
	r->rb = fx_compile(NULL, yaml);
	r->o.run_id = "swapped";
}

/* Forget the events of the last run and run again without the preflight. */
static void rerun_unguarded(fx_run *r, dr_be_direction dir)
{
	fx_run_forget(r);
	r->o.skip_preflight = true;
	r->o.run_id = "unguarded";
	r->o.direction = dir;
	fx_run_exec(r);
}

/* The outputs of the task that succeeded (asserts it did). */
static const cJSON *outputs_of(const fx_run *r, const char *step, const char *target)
{
	const cJSON *end = fx_last(r, "task.end", step, target);
	assert_non_null(end);
	if (strcmp(fx_str(end, "status"), "succeeded") != 0)
		fail_msg("%s[%s] %s: %s", step, target, fx_str(end, "status"), fx_str(end, "message"));
	return cJSON_GetObjectItemCaseSensitive(end, "outputs");
}

static dr_be_item item(fx_run *r, const char *name)
{
	dr_be_item it;
	dr_be_error e;
	assert_int_equal(dr_backend_get_item(r->be, r->a, T0 + 24 * 3600000, name, &it, &e), 0);
	return it;
}

/* Audit records of op (NULL: any) with this result (NULL: any). */
static size_t audits(fx_run *r, const char *op, const char *result)
{
	dr_sim_audit_rec *recs;
	size_t n = dr_sim_audit(r->be, r->a, &recs), c = 0;
	for (size_t i = 0; i < n; i++)
		c += (!op || !strcmp(recs[i].op, op)) && (!result || !strcmp(recs[i].result, result));
	return c;
}

static int64_t parse_time(const char *s)
{
	int64_t ms = 0;
	assert_true(dr_backend_parse_time(s, &ms));
	return ms;
}

#define SHOP                                                                                                       \
	"backend:\n  kind: sim\n  seed: 7\n  vms:\n"                                                               \
	"    - { name: shop-db-1, tags: { tier: db } }\n"                                                          \
	"    - { name: shop-app-1, tags: { tier: app } }\n"                                                        \
	"    - { name: shop-web-1, tags: { tier: web } }\n"                                                        \
	"vm_sets:\n  all: { match: { name: '^shop-' }, expect: { count: 3 } }\n"

/* --- failover ------------------------------------------------------------ */

static void failover_of_a_set(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: shop\n" SHOP "recovery: { point: latest-processed, max_age: 15m }\n"
		     "steps:\n  - { id: fo, action: dr.failover, targets: all }\n");
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	const char *vms[] = {"shop-db-1", "shop-app-1", "shop-web-1"};
	for (int i = 0; i < 3; i++) {
		const cJSON *o = outputs_of(&r, "fo", vms[i]);
		dr_be_item it = item(&r, vms[i]);
		assert_int_equal(it.state, DR_BE_ST_FAILED_OVER);
		assert_int_equal(it.active_location, DR_BE_RECOVERY);
		assert_string_equal(fx_str(o, "operation"), "failover");
		assert_string_equal(fx_str(o, "vm"), vms[i]);
		assert_string_equal(fx_str(o, "item_id"), it.id);
		assert_string_equal(fx_str(o, "shutdown_source"), "done");
		assert_string_equal(fx_str(o, "active_location"), "Recovery");
		assert_non_null(strstr(fx_str(o, "job_id"), "/replicationJobs/"));
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "recovery_point");
		assert_string_equal(fx_str(p, "policy"), "latest-processed");
		assert_string_equal(fx_str(p, "type"), "CrashConsistent");
		assert_string_equal(fx_str(p, "id"), it.failover_point_id);
		int64_t rpo = (int64_t)fx_num(o, "rpo_ms");
		assert_int_equal(rpo, parse_time(fx_str(o, "started_at")) - parse_time(fx_str(p, "time")));
		assert_true(rpo > 0 && rpo <= 15 * 60000);
		assert_int_equal((int64_t)fx_num(o, "duration_ms"),
				 parse_time(fx_str(o, "ended_at")) - parse_time(fx_str(o, "started_at")));
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "tasks")), 4);
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "warnings")), 0);
	}
	assert_int_equal(audits(&r, "failover", "accepted"), 3);
	assert_int_equal(audits(&r, NULL, NULL), 3);
	dr_sim_audit_rec *recs;
	dr_sim_audit(r.be, r.a, &recs);
	assert_string_equal(recs[0].key, "shop-20260101T000000Z/fo[shop-db-1]/dr.failover/1");
	/* the job is polled when it changes: its end is the task's end */
	const cJSON *end = fx_last(&r, "task.end", "fo", "shop-db-1");
	assert_int_equal((int64_t)fx_num(end, "elapsed_ms"), (int64_t)fx_num(outputs_of(&r, "fo", "shop-db-1"), "duration_ms"));
	fx_run_free(&r);
}

static void failback_direction(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: fb\n" SHOP "steps:\n  - { id: fo, action: dr.failover, targets: all }\n");
	r.o.direction = DR_BE_DIR_RECOVERY_TO_PRIMARY;
	fx_run_exec(&r); /* nothing was failed over: nothing to fail back */
	assert_int_equal(r.status, DR_RUN_BLOCKED); /* the preflight refuses it before anything starts */
	assert_non_null(strstr(r.err, "shop-db-1: step 'fo' would be refused: it is active in Primary, so a "
				      "recovery-to-primary failover is not possible"));
	assert_int_equal(audits(&r, NULL, NULL), 0);
	rerun_unguarded(&r, DR_BE_DIR_RECOVERY_TO_PRIMARY); /* and the service refuses it too */
	assert_int_equal(r.status, DR_RUN_FAILED);
	const cJSON *end = fx_last(&r, "task.end", "fo", "shop-db-1");
	assert_string_equal(fx_str(end, "class"), "permanent");
	assert_non_null(strstr(fx_str(end, "message"), "InvalidFailoverDirection"));
	assert_int_equal(audits(&r, "failover", "accepted"), 0);
	fx_run_free(&r);
}

/* --- recovery points ------------------------------------------------------ */

static void custom_time_picks_newest_at_or_before(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: t\n" SHOP "recovery: { point: custom, time: '2025-12-31T21:30:00Z' }\n"
		     "steps:\n  - { id: fo, action: dr.failover, targets: all, with: { shutdown_source: false } }\n");
	/* what the service lists before the run (the points do not move before the failover starts) */
	int64_t want[3];
	const char *vms[] = {"shop-db-1", "shop-app-1", "shop-web-1"};
	int64_t limit = parse_time("2025-12-31T21:30:00Z");
	for (int i = 0; i < 3; i++) {
		dr_be_point *pts;
		size_t n;
		dr_be_error e;
		assert_int_equal(dr_backend_list_points(r.be, r.a, T0, vms[i], &pts, &n, &e), 0);
		want[i] = -1;
		for (size_t k = 0; k < n; k++)
			if (pts[k].time_ms <= limit && pts[k].time_ms > want[i])
				want[i] = pts[k].time_ms;
		assert_true(want[i] > limit - 5 * 60000);
	}
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	for (int i = 0; i < 3; i++) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(outputs_of(&r, "fo", vms[i]), "recovery_point");
		assert_int_equal(parse_time(fx_str(p, "time")), want[i]);
		assert_string_equal(fx_str(p, "policy"), "custom");
		assert_int_equal(item(&r, vms[i]).failover_point_ms, want[i]);
	}
	fx_run_free(&r);
}

static void rpo_guard_blocks_a_stale_point(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: g\n" SHOP "recovery: { point: custom, time: '2025-12-31T21:30:00Z', max_age: 1h }\n"
		     "steps:\n  - { id: fo, action: dr.failover, targets: all }\n");
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_BLOCKED); /* the preflight sees it first */
	assert_non_null(strstr(r.err, "shop-db-1: its custom recovery point is 2h"));
	assert_non_null(strstr(r.err, "old, older than max_age 1h (the RPO guard)"));
	assert_int_equal(audits(&r, NULL, NULL), 0);
	rerun_unguarded(&r, DR_BE_DIR_PRIMARY_TO_RECOVERY); /* the failover's own guard, at run time */
	assert_int_equal(r.status, DR_RUN_FAILED);
	const cJSON *end = fx_last(&r, "task.end", "fo", "shop-db-1");
	assert_string_equal(fx_str(end, "class"), "permanent");
	assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(end, "will_retry")));
	const char *msg = fx_str(end, "message");
	assert_non_null(strstr(msg, "failover of 'shop-db-1' not started: RPO guard: the newest point at or before "
				    "2025-12-31T21:30:00Z (custom) is 2h"));
	assert_non_null(strstr(msg, "more than recovery.max_age 1h allows"));
	assert_int_equal(audits(&r, NULL, NULL), 0); /* the service was never asked to start anything */
	assert_int_equal(item(&r, "shop-db-1").state, DR_BE_ST_PROTECTED);
	fx_run_free(&r);
}

static void fallback_when_the_point_is_too_old(void **state)
{
	(void)state;
	fx_run r;
	/* app-consistent points are hourly: some VMs' newest is older than 20m, then latest-processed does */
	run_init(&r, "drover: 1\nname: f\n" SHOP
		     "recovery: { point: latest-app-consistent, max_age: 20m, fallback: [latest-processed] }\n"
		     "steps:\n  - { id: fo, action: dr.failover, targets: all, with: { shutdown_source: false } }\n");
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	int fallbacks = 0;
	const char *vms[] = {"shop-db-1", "shop-app-1", "shop-web-1"};
	for (int i = 0; i < 3; i++) {
		const cJSON *o = outputs_of(&r, "fo", vms[i]);
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "recovery_point");
		bool fb = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "fallback"));
		fallbacks += fb;
		assert_string_equal(fx_str(p, "policy"), fb ? "latest-processed" : "latest-app-consistent");
		assert_string_equal(fx_str(p, "type"), fb ? "CrashConsistent" : "ApplicationConsistent");
		assert_true(fx_num(o, "rpo_ms") <= 20 * 60000);
	}
	assert_true(fallbacks >= 1);
	fx_run_free(&r);
}

static void change_point_before_commit_not_after(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: c\n" SHOP
		     "steps:\n"
		     "  - { id: fo, action: dr.failover, targets: all, with: { recovery_point: latest-processed } }\n"
		     "  - { id: ok, action: dr.probe, foreach: all, needs: fo }\n"
		     "  - { id: change, action: dr.change_recovery_point, targets: all, needs: ok,\n"
		     "      with: { recovery_point: latest-app-consistent } }\n"
		     "  - { id: ok2, action: dr.probe, foreach: all, needs: change }\n"
		     "  - { id: commit, action: dr.commit, targets: all, needs: ok2 }\n");
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	const cJSON *o = outputs_of(&r, "change", "shop-app-1");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "recovery_point");
	assert_string_equal(fx_str(p, "type"), "ApplicationConsistent");
	assert_string_equal(fx_str(p, "policy"), "latest-app-consistent");
	/* the data lost counts from the failover's start */
	const cJSON *fo = outputs_of(&r, "fo", "shop-app-1");
	assert_int_equal((int64_t)fx_num(o, "rpo_ms"), parse_time(fx_str(fo, "started_at")) - parse_time(fx_str(p, "time")));
	outputs_of(&r, "commit", "shop-app-1");
	/* a later run that changes the point of the committed VMs (in one runbook, validate refuses it: DR411) */
	size_t calls = audits(&r, NULL, NULL);
	run_swap(&r, "drover: 1\nname: c2\n" SHOP
		     "steps:\n  - { id: again, action: dr.change_recovery_point, targets: all, with: { recovery_point: latest } }\n");
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_BLOCKED); /* the preflight: after commit, no change */
	assert_non_null(strstr(r.err, "shop-db-1: step 'again' would be refused: the service refuses "
				      "change_recovery_point in state committed (allowed: ReverseReplicate)"));
	assert_int_equal(audits(&r, NULL, NULL), calls);
	rerun_unguarded(&r, DR_BE_DIR_PRIMARY_TO_RECOVERY);
	assert_int_equal(r.status, DR_RUN_FAILED);
	const cJSON *end = fx_last(&r, "task.end", "again", "shop-db-1");
	assert_string_equal(fx_str(end, "status"), "failed");
	assert_string_equal(fx_str(end, "class"), "permanent");
	/* after commit, the service refuses: its own words */
	assert_non_null(strstr(fx_str(end, "message"), "change of recovery point of 'shop-db-1' was refused (HTTP 400): "
						   "OperationNotAllowedInCurrentState: The operation 'ChangePit' isn't allowed"));
	assert_non_null(strstr(fx_str(end, "message"), "commit deletes the recovery points"));
	assert_int_equal(item(&r, "shop-db-1").state, DR_BE_ST_COMMITTED);
	fx_run_free(&r);
}

static void expression_policy_from_params(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: e\n"
		     "params: { point: { type: string, default: latest-crash-consistent } }\n"
		     "backend:\n  kind: sim\n  vms: [{name: db-1}]\n"
		     "vm_sets: { db: { match: { name: '^db-' } } }\n"
		     "recovery: { point: '${params.point}' }\n"
		     "steps:\n  - { id: fo, action: dr.failover, targets: db, with: { shutdown_source: false } }\n");
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(outputs_of(&r, "fo", "db-1"), "recovery_point");
	assert_string_equal(fx_str(p, "policy"), "latest-crash-consistent");
	assert_string_equal(fx_str(p, "type"), "CrashConsistent");
	fx_run_free(&r);
}

static void step_override_by_time(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: o\n"
		     "backend:\n  kind: sim\n  vms: [{name: db-1}]\n"
		     "vm_sets: { db: { match: { name: '^db-' } } }\n"
		     "recovery: { point: latest, max_age: 3h }\n"
		     "steps:\n  - { id: fo, action: dr.failover, targets: db,\n"
		     "      with: { shutdown_source: false, recovery_point: { time: '2025-12-31T22:00:00Z' } } }\n");
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	const cJSON *o = outputs_of(&r, "fo", "db-1");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "recovery_point");
	assert_string_equal(fx_str(p, "policy"), "custom");
	int64_t t = parse_time(fx_str(p, "time"));
	assert_true(t <= parse_time("2025-12-31T22:00:00Z") && t > parse_time("2025-12-31T21:55:00Z"));
	assert_true(fx_num(o, "rpo_ms") > 2 * 3600000);
	fx_run_free(&r);
}

static void cancellation_waits_for_the_job(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: k\nbackend:\n  kind: sim\n  vms: [{name: db-1}]\n"
		     "vm_sets: { db: { match: { name: '^db-' } } }\n"
		     "steps:\n"
		     "  - { id: fo, action: dr.failover, targets: db }\n"
		     "  - { id: commit, action: dr.commit, targets: db, needs: fo }\n");
	r.o.signal_at_ms = 60000;
	r.o.grace_ms = 30 * 60000;
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_CANCELLED);
	/* the failover was running: it went on to its job's end, the safe point, and says so */
	outputs_of(&r, "fo", "db-1");
	const cJSON *log = fx_last(&r, "log", "fo", "db-1");
	assert_non_null(strstr(fx_str(log, "message"), "waiting for its end, the safe point"));
	assert_int_equal(item(&r, "db-1").state, DR_BE_ST_FAILED_OVER);
	assert_int_equal(fx_count(&r, "task.start", "commit", NULL), 0); /* nothing new starts */
	assert_int_equal(audits(&r, "commit", NULL), 0);
	fx_run_free(&r);
}

/* --- a job that waits for a person ------------------------------------------ */

/* The person of the tests: comes back after 20 minutes and resumes every Suspended job. */
static dr_backend *person_be;
static dr_arena *person_a;

static dr_outcome person_run(dr_call *call)
{
	if (!call->state) {
		call->state = person_be;
		return dr_outcome_wait(20 * 60000);
	}
	call->state = NULL;
	int64_t now = dr_exec_wall(call->run, call->now_ms);
	dr_be_job_filter f = {.running_only = true, .since_ms = -1};
	dr_be_job *jobs;
	size_t n = 0;
	dr_be_error e;
	assert_int_equal(dr_backend_list_jobs(person_be, person_a, now, &f, &jobs, &n, &e), 0);
	for (size_t i = 0; i < n; i++)
		if (jobs[i].state == DR_BE_JOB_SUSPENDED)
			assert_int_equal(dr_sim_resume_job(person_be, person_a, now, jobs[i].id, &e), 0);
	return dr_outcome_ok(NULL);
}

static const dr_action act_person = {.name = "test.person", .run = person_run};

/* Run r, its step 'person' played by the person of the tests. */
static void run_with_person(fx_run *r)
{
	dr_step *st = dr_runbook_step(r->rb, "person");
	assert_non_null(st);
	st->action = &act_person;
	person_be = r->be;
	r->be->held = false; /* the person of the tests acts inside the run */
	person_a = r->a;
	fx_run_exec(r);
}

#define SUSPENDING                                                                                                 \
	"backend:\n  kind: sim\n  vms: [{name: db-1}, {name: db-2}]\n"                                              \
	"  faults: [{kind: suspend, op: failover, vms: [db-1], message: 'Check the replica'}]\n"                     \
	"vm_sets: { db: { match: { name: '^db-' } } }\n"

/*
 * A person takes 20 minutes to resume a job the service suspended: the
 * step's timeout (15m) and attempt_timeout (12m) do not fail the failover
 * (they measure the service's work, not a person's), and go on afterwards.
 */
static void a_person_wait_is_not_the_steps_time(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: p\n" SUSPENDING
		     "steps:\n"
		     "  - { id: fo, action: dr.failover, targets: db, timeout: 15m, attempt_timeout: 12m }\n"
		     "  - { id: person, action: log, with: { message: back } }\n");
	run_with_person(&r);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	outputs_of(&r, "fo", "db-1");
	outputs_of(&r, "fo", "db-2");
	assert_true(fx_num(fx_last(&r, "task.end", "fo", "db-1"), "t_ms") >= 20 * 60000); /* the person's 20 minutes */
	const cJSON *told = NULL;
	for (size_t i = 0; i < r.n && !told; i++)
		if (fx_is(r.ev[i], "log", "fo", "db-1") && strstr(fx_str(r.ev[i], "message"), "waiting for a person"))
			told = r.ev[i];
	assert_non_null(told);
	assert_string_equal(fx_str(told, "level"), "warn");
	assert_non_null(strstr(fx_str(told, "message"), "Check the replica"));
	assert_non_null(strstr(fx_str(told, "message"), "The step's timeout stands still while a person is awaited"));
	assert_non_null(strstr(fx_str(fx_last(&r, "log", "fo", "db-1"), "message"), "was resumed; going on"));
	assert_int_equal(audits(&r, "failover", "accepted"), 2);
	fx_run_free(&r);
}

/* After the wait, what was left of the step's timeout still ends a job that hangs. */
static void the_steps_time_goes_on_after_the_wait(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: q\n"
		     "backend:\n  kind: sim\n  vms: [{name: db-1}]\n"
		     "  faults: [{kind: suspend, op: failover, vms: [db-1], task: 1},\n"
		     "           {kind: hang, op: failover, vms: [db-1]}]\n"
		     "vm_sets: { db: { match: { name: '^db-' } } }\n"
		     "steps:\n"
		     "  - { id: fo, action: dr.failover, targets: db, timeout: 30m }\n"
		     "  - { id: person, action: log, with: { message: back } }\n");
	run_with_person(&r);
	assert_int_equal(r.status, DR_RUN_FAILED);
	const cJSON *end = fx_last(&r, "task.end", "fo", "db-1");
	assert_string_equal(fx_str(end, "class"), "timeout");
	assert_non_null(strstr(fx_str(end, "message"), "the step's timeout (30m, all attempts, not counting "));
	assert_non_null(strstr(fx_str(end, "message"), " waiting for a person) ran out"));
	/* 30 minutes of the step's own time, plus the person's 20 (less what ran before the job was suspended) */
	assert_true(fx_num(end, "t_ms") >= 30 * 60000 + 15 * 60000);
	assert_true(fx_num(end, "t_ms") <= 50 * 60000 + 60000);
	fx_run_free(&r);
}

/*
 * Nobody comes: the run's run_timeout still ends the wait, at once and
 * saying the job is paused in the service, not failed, and what to do.
 */
static void run_timeout_ends_a_person_wait(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: n\n" SUSPENDING "defaults: { run_timeout: 1h }\n"
		     "steps:\n"
		     "  - { id: fo, action: dr.failover, targets: db, timeout: 5m }\n");
	r.be->held = false; /* as a service: a person could come; none does */
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_FAILED);
	const cJSON *end = fx_last(&r, "task.end", "fo", "db-1");
	assert_non_null(end);
	assert_true(fx_num(end, "t_ms") >= 60 * 60000); /* not the step's 5 minutes */
	const char *m = fx_str(end, "message");
	assert_string_equal(fx_str(end, "class"), "timeout");
	assert_non_null(strstr(m, "the run's timeout (run_timeout 1h) ran out: failover of 'db-1' stopped waiting: job"));
	assert_non_null(strstr(m, "has waited for a person for"));
	const char *waited = strstr(m, "has waited for a person for ") + strlen("has waited for a person for ");
	size_t wn = strcspn(waited, ",");
	assert_true(wn > 0 && waited[wn - 1] == 's' && !memmem(waited, wn, "ms", 2)); /* people's form: 58m44s, not 58m43s849ms */
	assert_non_null(strstr(m, "Check the replica"));
	assert_non_null(strstr(m, "paused in the service, not failed"));
	assert_non_null(strstr(m, "drover resume"));
	assert_non_null(strstr(fx_str(fx_last(&r, "log", "fo", "db-1"), "message"), "the run's run_timeout (1h) still counts"));
	outputs_of(&r, "fo", "db-2");
	fx_run_free(&r);
}

/*
 * The validation of the tests: it waits 20 minutes for a person, then finds
 * the VM unhealthy once (the recovery point fallback starts), then healthy.
 */
static int pv_calls;

static dr_outcome person_validation_run(dr_call *call)
{
	(void)call;
	if (++pv_calls == 1)
		return dr_outcome_wait_person(20 * 60000);
	if (pv_calls == 2)
		return dr_outcome_fail(DR_ERRC_PERMANENT, "the VM is not healthy");
	return dr_outcome_ok(NULL);
}

static const dr_action act_person_validation = {
	.name = "test.validate", .flags = DR_AF_VALIDATION | DR_AF_PER_TARGET, .run = person_validation_run};

/*
 * The recovery point fallback's change of point gets the step's time as its
 * attempts count it: a person's 20 minutes do not count against the step's
 * 10. Before, the change counted from the step's start and timed out at once.
 */
static void a_fallback_after_a_person_wait_keeps_the_steps_time(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: fp\n"
		     "backend:\n  kind: sim\n  vms: [{name: db-1}]\n"
		     "vm_sets: { db: { match: { name: '^db-' } } }\n"
		     "recovery: { point: latest-processed, fallback: [latest-app-consistent, latest-crash-consistent] }\n"
		     "steps:\n"
		     "  - { id: fo, action: dr.failover, targets: db }\n"
		     "  - { id: up, action: dr.probe, foreach: db, needs: fo, timeout: 10m }\n");
	dr_runbook_step(r.rb, "up")->action = &act_person_validation;
	pv_calls = 0;
	fx_run_exec(&r);
	const cJSON *fb = fx_last(&r, "fallback.end", "up", "db-1");
	assert_non_null(fb);
	assert_string_equal(fx_str(fb, "status"), "applied");
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	assert_int_equal(pv_calls, 3);
	assert_true(fx_num(fx_last(&r, "task.end", "up", "db-1"), "t_ms") >= 20 * 60000);
	fx_run_free(&r);
}

/* --- when:/with: that read the service ------------------------------------------ */

#define READS(fault, step)                                                                                         \
	"drover: 1\nname: reads\n"                                                                                  \
	"backend:\n  kind: sim\n  vms: [{name: db-1}, {name: db-2}]\n"                                             \
	"  faults: [" fault "]\n"                                                                                   \
	"vm_sets: { db: { match: { name: '^db-' } } }\n"                                                            \
	"steps:\n" step

/* The number of warn lines of step 'note' for VM db-1 that say the read is tried again. */
static size_t rereads(const fx_run *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++)
		n += fx_is(r->ev[i], "log", "note", "db-1") && strstr(fx_str(r->ev[i], "message"), "reading it again in");
	return n;
}

/*
 * Throttled twice while when: reads target.state: the task waits as its
 * step's retry: says (the service's Retry-After, 30s, being longer than
 * the delay), then starts as attempt 1; the other VM's task is not held up.
 * Before, the task failed at once.
 */
static void when_reads_again_when_throttled(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, READS("{kind: read-fails, vms: [db-1], class: throttled, times: 2, retry_after: 30s}",
			   "  - { id: note, action: log, foreach: db, when: \"${target.state == 'protected'}\",\n"
			   "      retry: { attempts: 3, delay: 5s, on: [throttled] }, with: { message: x } }\n"));
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	assert_int_equal(rereads(&r), 2);
	assert_non_null(strstr(fx_str(fx_last(&r, "log", "note", "db-1"), "message"), "x"));
	const cJSON *start = fx_last(&r, "task.start", "note", "db-1");
	assert_int_equal((int)fx_num(start, "attempt"), 1); /* the reads are not attempts of the action */
	assert_true(fx_num(start, "t_ms") >= 60000);
	assert_int_equal(fx_count(&r, "task.start", "note", "db-1"), 1);
	assert_true(fx_num(fx_last(&r, "task.start", "note", "db-2"), "t_ms") < 1000);
	const cJSON *warn = NULL;
	for (size_t i = 0; i < r.n && !warn; i++)
		if (fx_is(r.ev[i], "log", "note", "db-1"))
			warn = r.ev[i];
	assert_string_equal(fx_str(warn, "level"), "warn");
	assert_non_null(strstr(fx_str(warn, "message"), "target.state: the service cannot say the state of 'db-1'"));
	assert_non_null(strstr(fx_str(warn, "message"), "reading it again in 30s (read 2 of 3, the step's retry:)"));
	fx_run_free(&r);
}

/*
 * The read of the item for a job's outputs throttled with a Retry-After of
 * 12.5 s (a 6-VM estate where the simulator's draws throttle some of those
 * reads): the warn line gives the wait as a person reads durations, "13s",
 * not the exact "12s500ms" (dr_text_human_duration).
 */
static void asking_again_says_the_wait_for_people(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: ask\nbackend:\n  kind: sim\n"
		     "  vms: [{name: db-1}, {name: db-2}, {name: db-3}, {name: db-4}, {name: db-5}, {name: db-6}]\n"
		     "  faults: [{kind: read-fails, class: throttled, probability: 0.65, retry_after: 12500ms}]\n"
		     "vm_sets: { db: { match: { name: '^db-' } } }\n"
		     "steps:\n  - { id: fo, action: dr.failover, targets: db }\n");
	fx_run_exec(&r);
	size_t asked = 0;
	for (size_t i = 0; i < r.n; i++) {
		const char *m = fx_is(r.ev[i], "log", "fo", NULL) ? fx_str(r.ev[i], "message") : NULL;
		if (!m || !strstr(m, "asking again in"))
			continue;
		asked++;
		assert_non_null(strstr(m, "asking again in 13s (the service's Retry-After)"));
		assert_null(strstr(m, "ms ("));
	}
	assert_true(asked > 0);
	fx_run_free(&r);
}

/* Throttled more often than retry: allows: the task fails, saying what failed and what to do. */
static void when_read_fails_when_retries_are_used_up(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, READS("{kind: read-fails, vms: [db-1], class: throttled, times: 9}",
			   "  - { id: note, action: log, foreach: db, when: \"${target.state == 'protected'}\",\n"
			   "      retry: { attempts: 3, delay: 5s, on: [throttled] }, with: { message: x } }\n"));
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_FAILED);
	assert_int_equal(rereads(&r), 2);
	assert_int_equal(fx_count(&r, "task.start", "note", "db-1"), 0);
	const cJSON *end = fx_last(&r, "task.end", "note", "db-1");
	assert_string_equal(fx_str(end, "class"), "throttled");
	const char *m = fx_str(end, "message");
	assert_non_null(strstr(m, "when: target.state: the service cannot say the state of 'db-1': TooManyRequests"));
	assert_non_null(strstr(m, "read 3 times, as the step's retry: (attempts 3) allows"));
	assert_non_null(strstr(m, "The task did not start"));
	assert_non_null(strstr(m, "Once the service answers, run it again")); /* no journal: nothing to resume */
	assert_null(strstr(m, "RUN-ID"));
	fx_run_free(&r);
}

/* with: reads target.state too: a transient failure is read again, and the value is the service's. */
static void with_reads_again_after_a_transient_failure(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, READS("{kind: read-fails, vms: [db-1], class: transient, times: 1}",
			   "  - { id: note, action: log, foreach: db, retry: { attempts: 2, delay: 10s, jitter: none, on: [transient] },\n"
			   "      with: { message: \"state ${target.state}\" } }\n"));
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	assert_int_equal(rereads(&r), 1);
	assert_string_equal(fx_str(outputs_of(&r, "note", "db-1"), "message"), "state protected");
	assert_true(fx_num(fx_last(&r, "task.start", "note", "db-1"), "t_ms") >= 10000);
	fx_run_free(&r);
}

/* No retry:, or a refusal no retry fixes: the task fails at once, and says how to read again. */
static void a_read_fails_at_once_without_retry_or_when_refused(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, READS("{kind: read-fails, vms: [db-1], class: throttled, times: 1}",
			   "  - { id: note, action: log, foreach: db, when: \"${target.state == 'protected'}\", with: { message: x } }\n"));
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_FAILED);
	assert_int_equal(rereads(&r), 0);
	assert_non_null(strstr(fx_str(fx_last(&r, "task.end", "note", "db-1"), "message"), "the step has no retry: (attempts 1)"));
	fx_run_free(&r);
	run_init(&r, READS("{kind: read-fails, vms: [db-1], class: permanent, times: 1}",
			   "  - { id: note, action: log, foreach: db, when: \"${target.state == 'protected'}\",\n"
			   "      retry: { attempts: 3, delay: 5s, on: [any] }, with: { message: x } }\n"));
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_FAILED);
	assert_int_equal(rereads(&r), 0);
	const cJSON *end = fx_last(&r, "task.end", "note", "db-1");
	assert_string_equal(fx_str(end, "class"), "permanent");
	assert_non_null(strstr(fx_str(end, "message"), "the service refused the read"));
	fx_run_free(&r);
}

/* The step's timeout ends the wait for a read, and says which read kept the task from starting. */
static void the_steps_timeout_ends_the_wait_for_a_read(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, READS("{kind: read-fails, vms: [db-1], class: throttled}",
			   "  - { id: note, action: log, foreach: db, when: \"${target.state == 'protected'}\", timeout: 2m,\n"
			   "      retry: { attempts: 50, delay: 30s, backoff: 1, on: [throttled] }, with: { message: x } }\n"));
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_FAILED);
	const cJSON *c = fx_last(&r, "task.cancel", "note", "db-1");
	assert_non_null(c);
	assert_non_null(strstr(fx_str(c, "reason"), "not started before the step's timeout: when: target.state: the service "
						"cannot say the state of 'db-1'"));
	assert_true(fx_num(c, "t_ms") <= 2 * 60000);
	fx_run_free(&r);
}

/*
 * On the embedded simulator no one can resume a job while the run holds its
 * state: waiting would never end (on the virtual clock, simulated days went
 * by at full CPU). The task stops at once, saying the job is paused and how
 * to go on; the other VM's failover is not held up.
 */
static void a_held_simulator_does_not_wait_for_a_person(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: h\n" SUSPENDING
		     "steps:\n"
		     "  - { id: fo, action: dr.failover, targets: db }\n");
	assert_true(r.be->held);
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_FAILED);
	const cJSON *end = fx_last(&r, "task.end", "fo", "db-1");
	assert_non_null(end);
	assert_string_equal(fx_str(end, "class"), "permanent");
	assert_true(fx_num(end, "t_ms") < 60 * 60000); /* at once, not at a timeout */
	const char *m = fx_str(end, "message");
	assert_non_null(strstr(m, "no one can resume it while this run holds the simulator's state"));
	assert_non_null(strstr(m, "Check the replica"));
	assert_non_null(strstr(m, "drover sim resume"));
	assert_non_null(strstr(m, "--retry-failed"));
	outputs_of(&r, "fo", "db-2");
	assert_int_equal(audits(&r, "failover", "accepted"), 2);
	fx_run_free(&r);
}

/* --- faults ----------------------------------------------------------------- */

static void shutdown_failure_does_not_stop_failover(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: s\nbackend:\n  kind: sim\n  vms: [{name: db-1}, {name: db-2}]\n"
		     "  faults: [{ kind: shutdown-fails, vms: [db-1] }]\n"
		     "vm_sets: { db: { match: { name: '^db-' } } }\n"
		     "steps:\n  - { id: fo, action: dr.failover, targets: db }\n");
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	const cJSON *o = outputs_of(&r, "fo", "db-1");
	assert_string_equal(fx_str(o, "shutdown_source"), "failed");
	assert_string_equal(fx_str(o, "status"), "CompletedWithInformation");
	const cJSON *w = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(o, "warnings"), 0);
	assert_string_equal(fx_str(w, "code"), "SourceVmShutdownFailed");
	const cJSON *log = fx_last(&r, "log", "fo", "db-1");
	assert_string_equal(fx_str(log, "level"), "warn");
	assert_non_null(strstr(fx_str(log, "message"), "SourceVmShutdownFailed"));
	assert_string_equal(fx_str(outputs_of(&r, "fo", "db-2"), "shutdown_source"), "done");
	assert_int_equal(item(&r, "db-1").state, DR_BE_ST_FAILED_OVER);
	fx_run_free(&r);
}

static void transient_faults_are_retried(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: t\nbackend:\n  kind: sim\n  vms: [{name: db-1}]\n"
		     "  faults: [{ kind: fail, op: failover, vms: [db-1], class: transient, times: 2 }]\n"
		     "vm_sets: { db: { match: { name: '^db-' } } }\n"
		     "steps:\n  - { id: fo, action: dr.failover, targets: db,\n"
		     "      retry: { attempts: 3, delay: 10s, backoff: 2, on: [transient] } }\n");
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	assert_int_equal(fx_count(&r, "task.retry", "fo", "db-1"), 2);
	const cJSON *first = NULL;
	for (size_t i = 0; i < r.n && !first; i++)
		if (fx_is(r.ev[i], "task.end", "fo", "db-1"))
			first = r.ev[i];
	assert_string_equal(fx_str(first, "class"), "transient");
	assert_non_null(strstr(fx_str(first, "message"), "failover of 'db-1' was refused (HTTP 503): ServiceUnavailable"));
	assert_int_equal(audits(&r, "failover", "refused"), 2);
	assert_int_equal(audits(&r, "failover", "accepted"), 1);
	assert_int_equal((int)fx_num(fx_last(&r, "task.end", "fo", "db-1"), "attempt"), 3);
	fx_run_free(&r);
}

static void throttling_honours_retry_after(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: t\nbackend:\n  kind: sim\n  vms: [{name: db-1}]\n"
		     "  faults: [{ kind: throttle, after: 0, burst: 1, retry_after: 45s }]\n"
		     "vm_sets: { db: { match: { name: '^db-' } } }\n"
		     "steps:\n  - { id: fo, action: dr.failover, targets: db,\n"
		     "      retry: { attempts: 2, delay: 1s, on: [throttled] } }\n");
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	const cJSON *retry = fx_last(&r, "task.retry", "fo", "db-1");
	assert_non_null(retry);
	assert_int_equal((int64_t)fx_num(retry, "delay_ms"), 45000);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(retry, "retry_after")));
	assert_int_equal(audits(&r, "failover", "throttled"), 1);
	fx_run_free(&r);
}

static void failed_job_then_new_attempt(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: j\nbackend:\n  kind: sim\n  vms: [{name: db-1}]\n"
		     "  faults: [{ kind: fail, op: failover, at: job, vms: [db-1], times: 1, code: DiskNotFound }]\n"
		     "vm_sets: { db: { match: { name: '^db-' } } }\n"
		     "steps:\n  - { id: fo, action: dr.failover, targets: db, retry: { attempts: 2, delay: 1m, on: [any] } }\n");
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	const cJSON *first = NULL;
	for (size_t i = 0; i < r.n && !first; i++)
		if (fx_is(r.ev[i], "task.end", "fo", "db-1"))
			first = r.ev[i];
	assert_string_equal(fx_str(first, "status"), "failed");
	assert_non_null(strstr(fx_str(first, "message"), "failed at task 'Create the virtual machine': DiskNotFound"));
	assert_int_equal(audits(&r, "failover", "accepted"), 2); /* a failed job frees the item: attempt 2 starts anew */
	assert_int_equal(item(&r, "db-1").state, DR_BE_ST_FAILED_OVER);
	fx_run_free(&r);
}

static void timed_out_attempt_goes_on_with_its_job(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: a\nbackend:\n  kind: sim\n  vms: [{name: db-1}]\n"
		     "vm_sets: { db: { match: { name: '^db-' } } }\n"
		     "steps:\n  - { id: fo, action: dr.failover, targets: db, attempt_timeout: 2m,\n"
		     "      retry: { attempts: 6, delay: 5s, on: [timeout] } }\n");
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	assert_int_equal(audits(&r, "failover", "accepted"), 1); /* never a second failover */
	assert_true(audits(&r, "failover", "replayed") >= 1);
	const cJSON *log = fx_last(&r, "log", "fo", "db-1");
	assert_non_null(strstr(fx_str(log, "message"), "which attempt 1 started"));
	fx_run_free(&r);
}

static void rollback_cancels_the_failover(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: rb\non_failure: rollback\n"
		     "backend:\n  kind: sim\n  vms: [{name: app-1}, {name: app-2}, {name: app-3}]\n"
		     "  faults: [{ kind: unhealthy, vms: [app-2] }]\n"
		     "vm_sets: { app: { match: { name: '^app-' } } }\n"
		     "steps:\n"
		     "  - { id: fo, action: dr.failover, targets: app }\n"
		     "  - { id: ok, action: dr.probe, foreach: app, needs: fo, with: { timeout: 5m } }\n");
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_ROLLED_BACK);
	const cJSON *end = fx_last(&r, "task.end", "ok", "app-2");
	assert_string_equal(fx_str(end, "class"), "transient");
	assert_non_null(strstr(fx_str(end, "message"), "probe of 'app-2' gave up after 5m: the recovery VM of 'app-2' (10.2.0.5) "
						   "runs but is unhealthy: its guest never became ready"));
	const char *vms[] = {"app-1", "app-2", "app-3"};
	for (int i = 0; i < 3; i++) {
		const cJSON *undo = fx_last(&r, "task.end", "fo", vms[i]);
		assert_string_equal(fx_str(undo, "phase"), "rollback");
		assert_string_equal(fx_str(undo, "action"), "dr.cancel_failover");
		assert_string_equal(fx_str(undo, "status"), "succeeded");
		assert_string_equal(fx_str(cJSON_GetObjectItemCaseSensitive(undo, "outputs"), "operation"), "cancel_failover");
		dr_be_item it = item(&r, vms[i]);
		assert_int_equal(it.state, DR_BE_ST_PROTECTED);
		assert_int_equal(it.active_location, DR_BE_PRIMARY);
	}
	dr_sim_audit_rec *recs;
	size_t n = dr_sim_audit(r.be, r.a, &recs);
	assert_int_equal(n, 6);
	assert_string_equal(recs[5].op, "cancel_failover");
	assert_non_null(strstr(recs[5].key, "/dr.cancel_failover/1"));
	fx_run_free(&r);
}

/* --- lifecycle ----------------------------------------------------------------- */

static void reprotect_refused_before_commit_then_fine(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: rp\nparams: { commit: { type: bool, default: false } }\n"
		     "backend:\n  kind: sim\n  vms: [{name: app-1}]\n"
		     "vm_sets: { app: { match: { name: '^app-' } } }\n"
		     "steps:\n"
		     "  - { id: fo, action: dr.failover, targets: app }\n"
		     "  - { id: ok, action: dr.probe, foreach: app, needs: fo }\n"
		     "  - { id: commit, action: dr.commit, targets: app, needs: ok, when: '${params.commit}' }\n"
		     "  - { id: rp, action: dr.reprotect, targets: app, needs: commit }\n");
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_BLOCKED); /* the preflight: when: is false, the reprotect would be refused */
	assert_non_null(strstr(r.err, "app-1: step 'rp' would be refused: the service refuses reprotect in state "
				      "failed_over"));
	assert_int_equal(audits(&r, NULL, NULL), 0); /* so the VM is not failed over and left half-way */
	rerun_unguarded(&r, DR_BE_DIR_PRIMARY_TO_RECOVERY); /* the service's own refusal */
	assert_int_equal(r.status, DR_RUN_FAILED);
	const cJSON *end = fx_last(&r, "task.end", "rp", "app-1");
	assert_string_equal(fx_str(end, "class"), "permanent");
	assert_non_null(strstr(fx_str(end, "message"),
			       "reprotect of 'app-1' was refused (HTTP 400): OperationNotAllowedInCurrentState: The operation "
			       "'ReverseReplicate' isn't allowed for the protected item 'app-1' in its current state "
			       "'Failover completed'. Possible causes: "));
	assert_non_null(strstr(fx_str(end, "message"), "Recommended action: Reprotect needs the 'Failover committed' state"));
	fx_run_free(&r);

	run_init(&r, "drover: 1\nname: rp2\n"
		     "backend:\n  kind: sim\n  vms: [{name: app-1}]\n"
		     "vm_sets: { app: { match: { name: '^app-' } } }\n"
		     "steps:\n"
		     "  - { id: fo, action: dr.failover, targets: app }\n"
		     "  - { id: ok, action: dr.probe, foreach: app, needs: fo }\n"
		     "  - { id: commit, action: dr.commit, targets: app, needs: ok }\n"
		     "  - { id: rp, action: dr.reprotect, targets: app, needs: commit }\n");
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	const cJSON *o = outputs_of(&r, "rp", "app-1");
	assert_string_equal(fx_str(o, "protection_state"), "protected");
	assert_string_equal(fx_str(o, "active_location"), "Recovery");
	assert_non_null(cJSON_GetObjectItemCaseSensitive(outputs_of(&r, "commit", "app-1"), "committed_at"));
	dr_be_item it = item(&r, "app-1");
	assert_int_equal(it.state, DR_BE_ST_PROTECTED);
	assert_int_equal(it.active_location, DR_BE_RECOVERY);
	fx_run_free(&r);
}

static void test_failover_probe_cleanup(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: drill\n"
		     "backend:\n  kind: sim\n  vms: [{name: app-1}]\n"
		     "vm_sets: { app: { match: { name: '^app-' } } }\n"
		     "steps:\n"
		     "  - { id: tfo, action: dr.test_failover, targets: app, with: { network: drill-vnet } }\n"
		     "  - { id: ok, action: dr.probe, foreach: app, needs: tfo, with: { port: 22 } }\n"
		     "finally:\n"
		     "  - { id: clean, action: dr.test_cleanup, targets: app, with: { comments: 'drill ok' } }\n");
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	const cJSON *t = outputs_of(&r, "tfo", "app-1");
	assert_string_equal(fx_str(t, "network"), "drill-vnet");
	assert_non_null(strstr(fx_str(t, "test_vm_id"), "app-1-test"));
	const cJSON *p = outputs_of(&r, "ok", "app-1");
	assert_string_equal(fx_str(p, "side"), "test");
	assert_string_equal(fx_str(p, "vm_id"), fx_str(t, "test_vm_id"));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "port_open")));
	assert_true(fx_num(p, "polls") > 1); /* it waited for the boot */
	outputs_of(&r, "clean", "app-1");
	dr_be_item it = item(&r, "app-1");
	assert_int_equal(it.state, DR_BE_ST_PROTECTED);
	assert_false(it.test_vm.exists);
	fx_run_free(&r);
}

/* Reopen r's backend from the state file at path (a new session, as a new `drover run` would be). */
static void reopen(fx_run *r, const char *path)
{
	dr_backend_close(r->be);
	dr_backend_opts bo = {.state_path = path};
	r->be = fx_backend(r->rb, &bo, r->a);
}

static void failback_in_a_later_session(void **state)
{
	(void)state;
	const char *path = fx_path("life-sim.json");
	fx_run r;
	run_init(&r, "drover: 1\nname: life\nparams: { back: { type: bool, default: false } }\n"
		     "backend:\n  kind: sim\n  vms: [{name: db-1}]\n"
		     "vm_sets: { db: { match: { name: '^db-' } } }\n"
		     "recovery: { point: latest, max_age: 15m }\n"
		     "steps:\n"
		     "  - { id: fo, action: dr.failover, targets: db, with: { shutdown_source: false } }\n"
		     "  - { id: ok, action: dr.probe, foreach: db, needs: fo }\n"
		     "  - { id: commit, action: dr.commit, targets: db, needs: ok }\n"
		     "  - { id: rp, action: dr.reprotect, targets: db, needs: commit }\n");
	reopen(&r, path);
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	reopen(&r, path); /* the virtual clock restarts at 00:00; the service goes on from where it was */
	fx_run_forget(&r);
	r.o.run_id = "life-failback"; /* a run id is never reused: the idempotency keys start with it */
	r.o.direction = DR_BE_DIR_RECOVERY_TO_PRIMARY;
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	const cJSON *o = outputs_of(&r, "fo", "db-1");
	/* polled on the service's clock: the task took as long as its job, and the data lost is the lag */
	assert_int_equal((int64_t)fx_num(fx_last(&r, "task.end", "fo", "db-1"), "elapsed_ms"), (int64_t)fx_num(o, "duration_ms"));
	assert_true(fx_num(o, "rpo_ms") > 0 && fx_num(o, "rpo_ms") <= 120000);
	assert_true(parse_time(fx_str(o, "started_at")) > T0 + 20 * 60000); /* after the first session's reprotect */
	dr_be_item it = item(&r, "db-1"); /* failed back, committed, reprotected: home again */
	assert_int_equal(it.state, DR_BE_ST_PROTECTED);
	assert_int_equal(it.active_location, DR_BE_PRIMARY);
	assert_string_equal(fx_str(outputs_of(&r, "rp", "db-1"), "active_location"), "Primary");
	fx_run_free(&r);
}

/* --- resume probes --------------------------------------------------------------- */

typedef struct probe_seen {
	char step[32];
	dr_probe_status status;
	char job_id[512];
	char message[1024];
	int64_t wait_ms;
	bool state_set;
} probe_seen;

static probe_seen seen[8];
static int n_seen;

/*
 * A test action in place of `log`: probe the attempt that with.message
 * names ("STEP" or "STEP ATTEMPT") for this VM, as a resuming journal
 * would, and remember what the probe said.
 */
static dr_outcome probe_it(dr_call *call)
{
	char of[32];
	int attempt = 1;
	assert_true(sscanf(fx_str(call->with, "message"), "%31s %d", of, &attempt) >= 1);
	const dr_step *st = dr_runbook_step(dr_exec_runbook(call->run), of);
	assert_non_null(st);
	dr_call c = *call;
	c.step = st;
	c.action = st->action;
	c.attempt = attempt;
	c.state = NULL;
	dr_probe_result r = st->action->probe(&c);
	assert_true(n_seen < 8);
	probe_seen *s = &seen[n_seen++];
	memset(s, 0, sizeof *s);
	snprintf(s->step, sizeof s->step, "%s", call->step->id.name);
	s->status = r.status;
	s->wait_ms = r.wait_ms;
	s->state_set = c.state != NULL;
	if (r.outputs)
		snprintf(s->job_id, sizeof s->job_id, "%s", fx_str(r.outputs, "job_id"));
	if (r.message)
		snprintf(s->message, sizeof s->message, "%s", r.message);
	if (c.state)
		st->action->cancel(&c);
	cJSON_Delete(r.outputs);
	free(r.message);
	return dr_outcome_ok(NULL);
}

static const dr_action act_probe_it = {.name = "test.probe_it", .run = probe_it};

static void set_action(dr_runbook *rb, const char *id, const dr_action *a)
{
	dr_step *st = dr_runbook_step(rb, id);
	assert_non_null(st);
	st->action = a;
}

static const probe_seen *seen_at(const char *step)
{
	for (int i = 0; i < n_seen; i++)
		if (!strcmp(seen[i].step, step))
			return &seen[i];
	fail_msg("no probe from step %s", step);
	return NULL;
}

static void probes_tell_what_the_service_did(void **state)
{
	(void)state;
	fx_run r;
	run_init(&r, "drover: 1\nname: p\nbackend:\n  kind: sim\n  vms: [{name: app-1}, {name: tst-1}]\n"
		     "  faults: [{ kind: fail, op: test_failover, at: job, vms: [tst-1] }]\n"
		     "vm_sets: { app: { match: { name: '^app-' } }, tst: { match: { name: '^tst-' } } }\n"
		     "steps:\n"
		     "  - { id: before, action: log, foreach: app, with: { message: fo } }\n"
		     "  - { id: wait, action: sleep, with: { duration: 1m } }\n"
		     "  - { id: fo, action: dr.failover, targets: app }\n"
		     "  - { id: running, action: log, foreach: app, needs: wait, with: { message: fo } }\n"
		     "  - { id: done, action: log, foreach: app, needs: fo, with: { message: fo } }\n"
		     "  - { id: done2, action: log, foreach: app, needs: fo, with: { message: fo 2 } }\n"
		     "  - { id: c, action: log, foreach: app, needs: [done, done2], with: { message: commit } }\n"
		     "  - { id: commit, action: dr.commit, targets: app, needs: c }\n"
		     "  - { id: tfo, action: dr.test_failover, targets: tst, on_failure: continue, with: { network: n } }\n"
		     "  - { id: t, action: log, foreach: tst, needs: tfo, with: { message: tfo } }\n"
		     "finally:\n"
		     "  - { id: clean, action: dr.test_cleanup, targets: tst }\n");
	const char *probers[] = {"before", "running", "done", "done2", "c", "t"};
	for (int i = 0; i < 6; i++)
		set_action(r.rb, probers[i], &act_probe_it);
	n_seen = 0;
	fx_run_exec(&r);
	assert_int_equal(n_seen, 6);
	assert_int_equal(seen_at("before")->status, DR_PROBE_NOT_STARTED); /* nothing happened yet */
	const probe_seen *running = seen_at("running"); /* 1m in: the failover job runs */
	assert_int_equal(running->status, DR_PROBE_RUNNING);
	assert_true(running->state_set && running->wait_ms > 0);
	const char *job = fx_str(outputs_of(&r, "fo", "app-1"), "job_id");
	assert_int_equal(seen_at("done")->status, DR_PROBE_DONE); /* it ended: the outputs run() gave */
	assert_string_equal(seen_at("done")->job_id, job);
	assert_int_equal(seen_at("done2")->status, DR_PROBE_DONE); /* a lost attempt 2 would have gone on with attempt 1's job */
	assert_string_equal(seen_at("done2")->job_id, job);
	assert_int_equal(seen_at("c")->status, DR_PROBE_NOT_STARTED); /* the commit has not run: the state allows it */
	const probe_seen *t = seen_at("t"); /* the test failover's job failed; its cleanup is pending */
	assert_int_equal(t->status, DR_PROBE_FAILED);
	assert_non_null(strstr(t->message, "test failover of 'tst-1' failed: job"));
	assert_int_equal(audits(&r, "failover", "accepted"), 1);
	assert_int_equal(audits(&r, "commit", "accepted"), 1);
	fx_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(failover_of_a_set),
		cmocka_unit_test(failback_direction),
		cmocka_unit_test(custom_time_picks_newest_at_or_before),
		cmocka_unit_test(rpo_guard_blocks_a_stale_point),
		cmocka_unit_test(fallback_when_the_point_is_too_old),
		cmocka_unit_test(change_point_before_commit_not_after),
		cmocka_unit_test(expression_policy_from_params),
		cmocka_unit_test(step_override_by_time),
		cmocka_unit_test(cancellation_waits_for_the_job),
		cmocka_unit_test(shutdown_failure_does_not_stop_failover),
		cmocka_unit_test(transient_faults_are_retried),
		cmocka_unit_test(throttling_honours_retry_after),
		cmocka_unit_test(failed_job_then_new_attempt),
		cmocka_unit_test(timed_out_attempt_goes_on_with_its_job),
		cmocka_unit_test(a_person_wait_is_not_the_steps_time),
		cmocka_unit_test(the_steps_time_goes_on_after_the_wait),
		cmocka_unit_test(run_timeout_ends_a_person_wait),
		cmocka_unit_test(a_fallback_after_a_person_wait_keeps_the_steps_time),
		cmocka_unit_test(when_reads_again_when_throttled),
		cmocka_unit_test(when_read_fails_when_retries_are_used_up),
		cmocka_unit_test(asking_again_says_the_wait_for_people),
		cmocka_unit_test(with_reads_again_after_a_transient_failure),
		cmocka_unit_test(a_read_fails_at_once_without_retry_or_when_refused),
		cmocka_unit_test(the_steps_timeout_ends_the_wait_for_a_read),
		cmocka_unit_test(a_held_simulator_does_not_wait_for_a_person),
		cmocka_unit_test(rollback_cancels_the_failover),
		cmocka_unit_test(reprotect_refused_before_commit_then_fine),
		cmocka_unit_test(test_failover_probe_cleanup),
		cmocka_unit_test(failback_in_a_later_session),
		cmocka_unit_test(probes_tell_what_the_service_did),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
