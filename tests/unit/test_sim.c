/*
 * test_sim.c - the simulator's protection state machine (every operation in
 * every state: allowed or refused), jobs progressing with time, idempotency
 * keys, VM health, the audit log, the inventory, and a 1,000-VM failover on
 * a virtual clock.
 */
#include "test_sim_helpers.h"

#include <pthread.h>
#include <time.h>

#include "actions/action.h"
#include "fixture.h"
#include "util/arena.h"
#include "util/buf.h"

#include <unistd.h>

/* ---- the state machine ------------------------------------------------------------------ */

/* A stable state and the operations that reach it from a fresh (Protected) item. */
static const struct reach {
	const char *name;
	dr_be_op path[5];
	int n;
	dr_be_state state;
	dr_be_location active;
	unsigned allowed;
} reaches[] = {
	{"protected", {0}, 0, DR_BE_ST_PROTECTED, DR_BE_PRIMARY,
	 DR_BE_OP_BIT(DR_BE_OP_FAILOVER) | DR_BE_OP_BIT(DR_BE_OP_TEST_FAILOVER)},
	{"failed over", {DR_BE_OP_FAILOVER}, 1, DR_BE_ST_FAILED_OVER, DR_BE_RECOVERY,
	 DR_BE_OP_BIT(DR_BE_OP_COMMIT) | DR_BE_OP_BIT(DR_BE_OP_CHANGE_POINT) | DR_BE_OP_BIT(DR_BE_OP_CANCEL_FAILOVER)},
	{"committed", {DR_BE_OP_FAILOVER, DR_BE_OP_COMMIT}, 2, DR_BE_ST_COMMITTED, DR_BE_RECOVERY,
	 DR_BE_OP_BIT(DR_BE_OP_REPROTECT)},
	{"reverse protected", {DR_BE_OP_FAILOVER, DR_BE_OP_COMMIT, DR_BE_OP_REPROTECT}, 3, DR_BE_ST_PROTECTED,
	 DR_BE_RECOVERY, DR_BE_OP_BIT(DR_BE_OP_FAILOVER) | DR_BE_OP_BIT(DR_BE_OP_TEST_FAILOVER)},
	{"failed back", {DR_BE_OP_FAILOVER, DR_BE_OP_COMMIT, DR_BE_OP_REPROTECT, DR_BE_OP_FAILOVER}, 4,
	 DR_BE_ST_FAILED_OVER, DR_BE_PRIMARY,
	 DR_BE_OP_BIT(DR_BE_OP_COMMIT) | DR_BE_OP_BIT(DR_BE_OP_CHANGE_POINT) | DR_BE_OP_BIT(DR_BE_OP_CANCEL_FAILOVER)},
	{"test failed over", {DR_BE_OP_TEST_FAILOVER}, 1, DR_BE_ST_TEST_FAILED_OVER, DR_BE_PRIMARY,
	 DR_BE_OP_BIT(DR_BE_OP_TEST_CLEANUP)},
};

/* What a successful op leads to from each reachable state. */
static dr_be_state after(dr_be_op op)
{
	static const dr_be_state next[DR_BE_OP_COUNT] = {
		[DR_BE_OP_FAILOVER] = DR_BE_ST_FAILED_OVER, [DR_BE_OP_TEST_FAILOVER] = DR_BE_ST_TEST_FAILED_OVER,
		[DR_BE_OP_TEST_CLEANUP] = DR_BE_ST_PROTECTED, [DR_BE_OP_CHANGE_POINT] = DR_BE_ST_FAILED_OVER,
		[DR_BE_OP_COMMIT] = DR_BE_ST_COMMITTED, [DR_BE_OP_CANCEL_FAILOVER] = DR_BE_ST_PROTECTED,
		[DR_BE_OP_REPROTECT] = DR_BE_ST_PROTECTED,
	};
	return next[op];
}

static void drive(dr_backend *be, dr_arena *a, int64_t *t, const struct reach *r)
{
	for (int i = 0; i < r->n; i++) {
		dr_be_job j = sim_run(be, a, t, r->path[i], "vm-1");
		assert_int_equal(j.state, DR_BE_JOB_SUCCEEDED);
		*t += 30 * MINUTE; /* let points appear again after a reprotect */
	}
}

/* A request for op valid in its own right (a point for change point). */
static dr_be_request request_for(dr_backend *be, dr_arena *a, int64_t t, dr_be_op op)
{
	dr_be_request req = {.op = op, .item_id = "vm-1", .network = "drill-vnet"};
	if (op == DR_BE_OP_CHANGE_POINT) {
		dr_be_point *pts;
		size_t n;
		dr_be_error err;
		assert_int_equal(dr_backend_list_points(be, a, t, "vm-1", &pts, &n, &err), 0);
		req.point_id = n > 3 ? pts[3].id : "none";
	}
	return req;
}

static void test_every_op_in_every_state(void **state)
{
	(void)state;
	for (size_t r = 0; r < sizeof reaches / sizeof reaches[0]; r++) {
		for (int op = 0; op < DR_BE_OP_SHUTDOWN; op++) {
			dr_arena *a = dr_arena_new();
			dr_backend *be = sim_open(NULL, a);
			int64_t t = T0;
			drive(be, a, &t, &reaches[r]);
			dr_be_item it = sim_item(be, a, t, "vm-1");
			assert_int_equal(it.state, reaches[r].state);
			assert_int_equal(it.active_location, reaches[r].active);
			assert_int_equal(it.allowed_ops, reaches[r].allowed);
			dr_be_request req = request_for(be, a, t, (dr_be_op)op);
			dr_be_error err;
			const char *job = sim_start_req(be, a, t, &req, &err);
			bool allowed = reaches[r].allowed & DR_BE_OP_BIT(op);
			if (!allowed) {
				assert_null(job);
				assert_string_equal(err.code, "OperationNotAllowedInCurrentState");
				assert_int_equal(err.http_status, 400);
				assert_int_equal(err.cls, DR_BE_ERR_PERMANENT);
				assert_non_null(err.possible_causes);
				assert_non_null(err.recommended_action);
			} else {
				if (!job)
					fail_msg("%s: %s refused: %s", reaches[r].name, dr_backend_op_name(op), err.message);
				dr_be_job j = sim_wait(be, a, &t, job);
				assert_int_equal(j.state, DR_BE_JOB_SUCCEEDED);
				assert_int_equal(sim_item(be, a, t, "vm-1").state, after((dr_be_op)op));
			}
			dr_backend_close(be);
			dr_arena_free(a);
		}
	}
}

/* While a job runs nothing else may start: 409, transient, with a Retry-After. */
static void test_busy_item_refuses_everything(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open(NULL, a);
	dr_be_error err;
	const char *job = sim_start(be, a, T0, DR_BE_OP_FAILOVER, "vm-1", "k1", &err);
	assert_non_null(job);
	dr_be_item it = sim_item(be, a, T0 + 1000, "vm-1");
	assert_int_equal(it.state, DR_BE_ST_FAILING_OVER);
	assert_int_equal(it.allowed_ops, 0);
	assert_non_null(it.current_job_id);
	assert_string_equal(it.current_job_id, job);
	for (int op = 0; op < DR_BE_OP_SHUTDOWN; op++) {
		dr_be_request req = {.op = (dr_be_op)op, .item_id = "vm-1", .network = "n"};
		assert_null(sim_start_req(be, a, T0 + 1000, &req, &err));
		assert_string_equal(err.code, "OperationInProgress");
		assert_int_equal(err.http_status, 409);
		assert_int_equal(err.cls, DR_BE_ERR_TRANSIENT);
		assert_true(err.retry_after_ms >= 1000 && err.retry_after_ms <= MINUTE);
	}
	/* a shutdown is a compute operation: it may run beside the failover */
	assert_non_null(sim_start(be, a, T0 + 1000, DR_BE_OP_SHUTDOWN, "vm-1", NULL, &err));
	dr_backend_close(be);
	dr_arena_free(a);
}

/* failover -> commit -> reprotect -> failback -> commit -> reprotect, with the VMs at each step. */
static void test_full_lifecycle(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open(NULL, a);
	int64_t t = T0;
	dr_be_error err;
	dr_be_request fo = {.op = DR_BE_OP_FAILOVER, .item_id = "vm-1", .shutdown_source = true,
			    .direction = DR_BE_DIR_PRIMARY_TO_RECOVERY};
	dr_be_job j = sim_wait(be, a, &t, sim_start_req(be, a, t, &fo, &err));
	assert_int_equal(j.state, DR_BE_JOB_SUCCEEDED);
	dr_be_item it = sim_item(be, a, t, "vm-1");
	assert_int_equal(it.active_location, DR_BE_RECOVERY);
	assert_string_equal(it.protection_state, "UnplannedFailoverCommitPendingStatesBegin");
	assert_string_equal(it.protection_state_description, "Failover completed");
	assert_int_equal(it.primary_vm.power, DR_BE_POWER_STOPPED);
	assert_int_equal(it.recovery_vm.power, DR_BE_POWER_RUNNING);
	assert_string_equal(dr_backend_active_vm(&it)->ip, it.recovery_ip);
	assert_int_equal(it.rpo_ms, -1); /* replication stopped */
	assert_non_null(it.failover_point_id);
	assert_true(it.last_failover_ms == j.end_ms);

	sim_run(be, a, &t, DR_BE_OP_COMMIT, "vm-1");
	assert_string_equal(sim_item(be, a, t, "vm-1").protection_state_description, "Failover committed");
	j = sim_run(be, a, &t, DR_BE_OP_REPROTECT, "vm-1");
	assert_true(j.end_ms - j.start_ms >= 20 * MINUTE); /* seeding */
	it = sim_item(be, a, t, "vm-1");
	assert_int_equal(it.state, DR_BE_ST_PROTECTED);
	assert_int_equal(it.active_location, DR_BE_RECOVERY);
	assert_true(it.rpo_ms > 0);

	/* failback: the wrong direction is refused, the right one works */
	fo.direction = DR_BE_DIR_PRIMARY_TO_RECOVERY;
	assert_null(sim_start_req(be, a, t, &fo, &err));
	assert_string_equal(err.code, "InvalidFailoverDirection");
	assert_non_null(strstr(err.recommended_action, "Use RecoveryToPrimary (failback) for this item (from "));
	assert_non_null(strstr(err.message, "which runs in its Recovery location ("));
	fo.direction = DR_BE_DIR_RECOVERY_TO_PRIMARY;
	t += 10 * MINUTE;
	assert_int_equal(sim_wait(be, a, &t, sim_start_req(be, a, t, &fo, &err)).state, DR_BE_JOB_SUCCEEDED);
	it = sim_item(be, a, t, "vm-1");
	assert_int_equal(it.active_location, DR_BE_PRIMARY);
	assert_int_equal(it.primary_vm.power, DR_BE_POWER_RUNNING);
	assert_int_equal(it.recovery_vm.power, DR_BE_POWER_STOPPED);
	sim_run(be, a, &t, DR_BE_OP_COMMIT, "vm-1");
	sim_run(be, a, &t, DR_BE_OP_REPROTECT, "vm-1");
	it = sim_item(be, a, t, "vm-1");
	assert_int_equal(it.state, DR_BE_ST_PROTECTED);
	assert_int_equal(it.active_location, DR_BE_PRIMARY);
	dr_backend_close(be);
	dr_arena_free(a);
}

static void test_cancel_failover_restarts_source(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open(NULL, a);
	int64_t t = T0;
	dr_be_error err;
	dr_be_request fo = {.op = DR_BE_OP_FAILOVER, .item_id = "vm-1", .shutdown_source = true};
	sim_wait(be, a, &t, sim_start_req(be, a, t, &fo, &err));
	dr_be_job j = sim_run(be, a, &t, DR_BE_OP_CANCEL_FAILOVER, "vm-1");
	assert_string_equal(j.tasks[j.n_tasks - 1].name, "Start the source virtual machine");
	dr_be_item it = sim_item(be, a, t, "vm-1");
	assert_int_equal(it.state, DR_BE_ST_PROTECTED);
	assert_int_equal(it.active_location, DR_BE_PRIMARY);
	assert_false(it.recovery_vm.exists);
	assert_int_equal(it.primary_vm.power, DR_BE_POWER_RUNNING);
	assert_true(it.rpo_ms > 0); /* replicating again */
	assert_null(it.failover_point_id);
	dr_backend_close(be);
	dr_arena_free(a);
}

static void test_test_failover_and_cleanup(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open(NULL, a);
	int64_t t = T0;
	dr_be_error err;
	dr_be_request req = {.op = DR_BE_OP_TEST_FAILOVER, .item_id = "vm-1"};
	assert_null(sim_start_req(be, a, t, &req, &err));
	assert_string_equal(err.code, "NetworkIdRequired");
	dr_be_job j = sim_run(be, a, &t, DR_BE_OP_TEST_FAILOVER, "vm-1");
	assert_string_equal(j.scenario, "TestFailover");
	assert_string_equal(j.tasks[0].name, "Prerequisites check for test failover");
	dr_be_item it = sim_item(be, a, t, "vm-1");
	assert_string_equal(it.protection_state, "Protected");
	assert_string_equal(it.protection_state_description, "Cleanup test failover pending");
	assert_string_equal(it.test_failover_state, "WaitingForCompletion");
	assert_true(it.test_vm.exists);
	assert_int_equal(it.primary_vm.power, DR_BE_POWER_RUNNING); /* production untouched */
	assert_true(it.rpo_ms > 0);
	j = sim_run(be, a, &t, DR_BE_OP_TEST_CLEANUP, "vm-1");
	assert_true(j.end_ms - j.start_ms <= 3 * MINUTE);
	it = sim_item(be, a, t, "vm-1");
	assert_false(it.test_vm.exists);
	assert_string_equal(it.test_failover_state, "None");
	dr_backend_close(be);
	dr_arena_free(a);
}

static void test_unknown_ids(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open(NULL, a);
	dr_be_item it;
	dr_be_job j;
	dr_be_error err;
	assert_int_equal(dr_backend_get_item(be, a, T0, "nope", &it, &err), -1);
	assert_int_equal(err.http_status, 404);
	assert_string_equal(err.code, "ReplicationProtectedItemNotFound");
	assert_int_equal(dr_backend_get_job(be, a, T0, "nope", &j, &err), -1);
	assert_string_equal(err.code, "ReplicationJobNotFound");
	assert_null(sim_start(be, a, T0, DR_BE_OP_FAILOVER, "nope", "k", &err));
	assert_int_equal(err.http_status, 404);
	/* the item is found by its resource id too */
	dr_be_item by_name = sim_item(be, a, T0, "vm-1");
	dr_be_item by_id = sim_item(be, a, T0, by_name.id);
	assert_string_equal(by_id.name, "vm-1");
	assert_non_null(strstr(by_id.id, "/replicationProtectedItems/"));
	dr_backend_close(be);
	dr_arena_free(a);
}

/* ---- jobs ------------------------------------------------------------------------------- */

static void test_job_progresses_with_time(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open(NULL, a);
	dr_be_error err;
	dr_be_request req = {.op = DR_BE_OP_FAILOVER, .item_id = "vm-1", .shutdown_source = true};
	const char *id = sim_start_req(be, a, T0, &req, &err);
	dr_be_job j;
	assert_int_equal(dr_backend_get_job(be, a, T0, id, &j, &err), 0);
	assert_int_equal(j.state, DR_BE_JOB_IN_PROGRESS);
	assert_string_equal(j.scenario, "UnplannedFailover");
	assert_string_equal(j.friendly_name, "Failover");
	assert_string_equal(j.item_name, "vm-1");
	assert_int_equal(j.n_tasks, 5);
	assert_string_equal(j.tasks[0].name, "Prerequisites check for failover");
	assert_string_equal(j.tasks[1].name, "Shut down the source virtual machine");
	assert_string_equal(j.tasks[2].name, "Process the pending replication data");
	assert_string_equal(j.tasks[3].name, "Create the virtual machine");
	assert_string_equal(j.tasks[4].name, "Start the replica virtual machine");
	assert_int_equal(j.tasks[0].state, DR_BE_JOB_IN_PROGRESS);
	assert_int_equal(j.tasks[1].state, DR_BE_JOB_NOT_STARTED);
	assert_int_equal(j.end_ms, -1);
	/* poll_after is exactly the next change: the first task's end */
	int64_t t = T0 + j.poll_after_ms;
	assert_int_equal(dr_backend_get_job(be, a, t, id, &j, &err), 0);
	assert_int_equal(j.tasks[0].state, DR_BE_JOB_SUCCEEDED);
	assert_int_equal(j.tasks[0].end_ms, t);
	assert_int_equal(j.tasks[1].state, DR_BE_JOB_IN_PROGRESS);
	/* polling does not change anything: the same answer twice */
	dr_be_job again;
	assert_int_equal(dr_backend_get_job(be, a, t, id, &again, &err), 0);
	assert_int_equal(again.poll_after_ms, j.poll_after_ms);
	j = sim_wait(be, a, &t, id);
	assert_int_equal(j.state, DR_BE_JOB_SUCCEEDED);
	assert_string_equal(j.state_description, "Completed");
	assert_int_equal(j.end_ms, t);
	assert_int_equal(j.poll_after_ms, -1);
	int64_t took = j.end_ms - j.start_ms;
	assert_true(took >= 3 * MINUTE && took <= 8 * MINUTE + 3 * MINUTE); /* + processing for latest */
	assert_non_null(j.point_id);
	assert_true(j.point_ms <= j.start_ms && j.start_ms - j.point_ms <= 2 * MINUTE); /* latest: lowest RPO */
	dr_backend_close(be);
	dr_arena_free(a);
}

static int64_t failover_duration(uint64_t seed, const char *point_policy)
{
	char yaml[128];
	snprintf(yaml, sizeof yaml, "{kind: sim, seed: %llu, vms: [{name: vm-1}]}", (unsigned long long)seed);
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open(yaml, a);
	int64_t t = T0;
	dr_be_request req = {.op = DR_BE_OP_FAILOVER, .item_id = "vm-1"};
	if (point_policy) {
		dr_be_point *pts;
		size_t n;
		dr_be_error err;
		dr_be_choice c;
		dr_be_item it = sim_item(be, a, t, "vm-1");
		dr_be_point_query q = {.policy = DR_POINT_LATEST_PROCESSED, .max_age_ms = -1};
		assert_int_equal(dr_backend_list_points(be, a, t, "vm-1", &pts, &n, &err), 0);
		assert_int_equal(dr_backend_choose_point(&it, pts, n, &q, t, &c), DR_BE_PICK_OK);
		req.point_id = c.point_id;
	}
	dr_be_error err;
	dr_be_job j = sim_wait(be, a, &t, sim_start_req(be, a, t, &req, &err));
	dr_backend_close(be);
	dr_arena_free(a);
	return j.end_ms - j.start_ms;
}

static void test_durations_are_deterministic(void **state)
{
	(void)state;
	assert_int_equal(failover_duration(7, NULL), failover_duration(7, NULL));
	bool differs = false;
	for (uint64_t s = 1; s < 6; s++)
		differs |= failover_duration(s, NULL) != failover_duration(s + 100, NULL);
	assert_true(differs);
	/* latest processes pending data first: slower than latest-processed with the same draws */
	assert_true(failover_duration(7, NULL) > failover_duration(7, "latest-processed"));
}

/* ---- idempotency ----------------------------------------------------------------------------- */

static size_t job_count(dr_backend *be, dr_arena *a, int64_t t)
{
	dr_be_job *jobs;
	size_t n;
	dr_be_error err;
	assert_int_equal(dr_backend_list_jobs(be, a, t, NULL, &jobs, &n, &err), 0);
	return n;
}

static void test_idempotency_keys(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open("{kind: sim, vms: [{name: vm-1}, {name: vm-2}]}", a);
	dr_be_request req = {.op = DR_BE_OP_FAILOVER, .item_id = "vm-1", .idempotency_key = "run1/failover/vm-1/1"};
	dr_be_started s1, s2;
	dr_be_error err;
	assert_int_equal(dr_backend_start(be, a, T0, &req, &s1, &err), 0);
	assert_false(s1.replayed);
	/* the same key again, even after the job is done and the state has changed: the first job */
	int64_t t = T0;
	sim_wait(be, a, &t, s1.job_id);
	assert_int_equal(dr_backend_start(be, a, t, &req, &s2, &err), 0);
	assert_true(s2.replayed);
	assert_string_equal(s1.job_id, s2.job_id);
	assert_int_equal(job_count(be, a, t), 1);
	/* reused for another operation or item: refused */
	req.op = DR_BE_OP_COMMIT;
	assert_int_equal(dr_backend_start(be, a, t, &req, &s2, &err), -1);
	assert_string_equal(err.code, "IdempotencyKeyConflict");
	assert_int_equal(err.http_status, 409);
	req.op = DR_BE_OP_FAILOVER;
	req.item_id = "vm-2";
	assert_int_equal(dr_backend_start(be, a, t, &req, &s2, &err), -1);
	/* a refused call does not bind its key */
	dr_be_request commit = {.op = DR_BE_OP_COMMIT, .item_id = "vm-2", .idempotency_key = "k2"};
	assert_int_equal(dr_backend_start(be, a, t, &commit, &s2, &err), -1);
	assert_string_equal(err.code, "OperationNotAllowedInCurrentState");
	dr_be_request fo2 = {.op = DR_BE_OP_FAILOVER, .item_id = "vm-2", .idempotency_key = "k2"};
	assert_int_equal(dr_backend_start(be, a, t, &fo2, &s2, &err), 0);
	assert_false(s2.replayed);
	assert_int_equal(job_count(be, a, t), 2);
	dr_backend_close(be);
	dr_arena_free(a);
}

/* replay_only: the key's job, or 404 - never a start, even where the state allows the operation */
static void test_replay_only_never_starts(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open("{kind: sim, vms: [{name: vm-1}]}", a);
	dr_be_request ask = {.op = DR_BE_OP_FAILOVER, .item_id = "vm-1", .idempotency_key = "k1", .replay_only = true};
	dr_be_started s;
	dr_be_error err;
	assert_int_equal(dr_backend_start(be, a, T0, &ask, &s, &err), -1);
	assert_string_equal(err.code, "IdempotencyKeyNotFound");
	assert_int_equal(err.http_status, 404);
	assert_int_equal(err.cls, DR_BE_ERR_PERMANENT);
	assert_int_equal(job_count(be, a, T0), 0);
	dr_be_request go = ask;
	go.replay_only = false;
	assert_int_equal(dr_backend_start(be, a, T0, &go, &s, &err), 0);
	const char *job = s.job_id;
	assert_int_equal(dr_backend_start(be, a, T0 + MINUTE, &ask, &s, &err), 0);
	assert_true(s.replayed);
	assert_string_equal(s.job_id, job);
	assert_int_equal(job_count(be, a, T0 + MINUTE), 1);
	dr_backend_close(be);
	dr_arena_free(a);
}

static void test_audit_log(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open(NULL, a);
	dr_be_error err;
	assert_non_null(sim_start(be, a, T0, DR_BE_OP_FAILOVER, "vm-1", "k1", &err));
	assert_non_null(sim_start(be, a, T0 + 5, DR_BE_OP_FAILOVER, "vm-1", "k1", &err));
	assert_null(sim_start(be, a, T0 + 9, DR_BE_OP_COMMIT, "vm-1", "k2", &err));
	dr_sim_audit_rec *recs;
	assert_int_equal(dr_sim_audit(be, a, &recs), 3);
	assert_string_equal(recs[0].op, "failover");
	assert_string_equal(recs[0].item, "vm-1");
	assert_string_equal(recs[0].key, "k1");
	assert_string_equal(recs[0].result, "accepted");
	assert_int_equal(recs[0].time_ms, T0);
	assert_non_null(recs[0].job);
	assert_string_equal(recs[1].result, "replayed");
	assert_string_equal(recs[1].job, recs[0].job);
	assert_string_equal(recs[2].result, "refused");
	assert_string_equal(recs[2].code, "OperationInProgress");
	assert_null(recs[2].job);
	dr_backend_close(be);
	dr_arena_free(a);
}

/* ---- VMs --------------------------------------------------------------------------------------- */

static void test_vm_health_after_failover(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open(NULL, a);
	int64_t t = T0;
	dr_be_job j = sim_run(be, a, &t, DR_BE_OP_FAILOVER, "vm-1");
	dr_be_item it = sim_item(be, a, t, "vm-1");
	assert_int_equal(it.recovery_vm.power, DR_BE_POWER_RUNNING);
	assert_int_equal(it.recovery_vm.health, DR_BE_HEALTH_BOOTING);
	assert_int_equal(it.recovery_vm.since_ms, j.end_ms);
	assert_non_null(strstr(it.recovery_vm.id, "Microsoft.Compute/virtualMachines/vm-1"));
	it = sim_item(be, a, j.end_ms + 2 * MINUTE, "vm-1"); /* boot takes 30 s to 2 min */
	assert_int_equal(it.recovery_vm.health, DR_BE_HEALTH_HEALTHY);
	/* without shutdown_source the source keeps running (the disaster decides) */
	assert_int_equal(it.primary_vm.power, DR_BE_POWER_RUNNING);
	dr_backend_close(be);
	dr_arena_free(a);
}

static void test_shutdown_operation(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open(NULL, a);
	int64_t t = T0;
	dr_be_job j = sim_run(be, a, &t, DR_BE_OP_SHUTDOWN, "vm-1");
	assert_string_equal(j.tasks[0].name, "Shut down the virtual machine");
	dr_be_item it = sim_item(be, a, t, "vm-1");
	assert_int_equal(it.primary_vm.power, DR_BE_POWER_STOPPED);
	assert_int_equal(it.primary_vm.health, DR_BE_HEALTH_UNKNOWN);
	assert_int_equal(it.state, DR_BE_ST_PROTECTED); /* not a protection operation */
	/* again on a stopped VM: a quick no-op */
	j = sim_run(be, a, &t, DR_BE_OP_SHUTDOWN, "vm-1");
	assert_true(j.end_ms - j.start_ms <= 5000);
	dr_backend_close(be);
	dr_arena_free(a);
}

/* ---- inventory ----------------------------------------------------------------------------------- */

static void test_inventory_attributes_and_defaults(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open("{kind: sim, vms: [{name: db-1, tags: {tier: db, env: prod}, primary_region: eastus,"
				  " recovery_region: westus, primary_ip: 10.9.0.1, recovery_ip: 10.8.0.1, size: "
				  "Standard_E8s_v5}, {name: web-1}]}",
				  a);
	dr_be_item *items;
	size_t n;
	dr_be_error err;
	assert_int_equal(dr_backend_list_items(be, a, T0, &items, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(items[0].name, "db-1");
	assert_int_equal(items[0].n_tags, 2);
	assert_string_equal(items[0].tag_keys[1], "env");
	assert_string_equal(items[0].tag_values[1], "prod");
	assert_string_equal(items[0].primary_region, "eastus");
	assert_string_equal(items[0].recovery_ip, "10.8.0.1");
	assert_string_equal(items[0].size, "Standard_E8s_v5");
	assert_non_null(strstr(items[0].id, "asr-a2a-default-eastus"));
	assert_string_equal(items[1].primary_region, "westeurope");
	assert_string_equal(items[1].recovery_region, "northeurope");
	assert_string_equal(items[1].primary_ip, "10.1.0.5");
	assert_string_equal(items[1].size, "Standard_D2s_v5");
	dr_vm vm;
	dr_backend_item_to_vm(&items[0], &vm);
	assert_string_equal(vm.name, "db-1");
	assert_string_equal(vm.recovery_region, "westus");
	dr_backend_close(be);
	dr_arena_free(a);
}

static void test_inventory_file_and_mistakes(void **state)
{
	(void)state;
	const char *dir = fx_mkdir("sim-inv");
	fx_write("sim-inv/inv.yaml", "vms:\n  - {name: a-1, tags: {tier: app}}\n  - {name: a-2}\n");
	dr_arena *a = dr_arena_new();
	dr_sim_opts o = {.in_memory = true, .base_dir = dir};
	dr_be_error err;
	dr_diags *d;
	dr_backend *be = sim_open_opts("{kind: sim, inventory: inv.yaml, vms: [{name: b-1}]}", &o, a, &d, &err);
	assert_non_null(be);
	dr_be_item *items;
	size_t n;
	assert_int_equal(dr_backend_list_items(be, a, T0, &items, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(items[0].name, "a-1");
	assert_string_equal(items[2].name, "b-1");
	dr_backend_close(be);
	dr_diags_free(d);
	/* mistakes are diagnostics with positions: a duplicate, an unknown key, a missing file */
	be = sim_open_opts("{kind: sim, inventory: inv.yaml, vms: [{name: a-1}, {name: c, sise: x}]}", &o, a, &d, &err);
	assert_null(be);
	assert_int_equal(dr_diags_errors(d), 2);
	assert_int_equal(dr_diags_get(d, 0)->code, DR208);
	assert_int_equal(dr_diags_get(d, 1)->code, DR203);
	assert_non_null(dr_diags_get(d, 1)->hint);
	assert_int_equal(dr_diags_get(d, 1)->loc.line, 1);
	dr_diags_free(d);
	be = sim_open_opts("{kind: sim, inventory: missing.yaml}", &o, a, &d, &err);
	assert_null(be);
	assert_true(dr_diags_errors(d) >= 1);
	/* where the runbook names it (the inventory: value), not the missing file itself */
	assert_int_equal(dr_diags_get(d, 0)->code, DR901);
	assert_int_equal(dr_diags_get(d, 0)->loc.line, 1);
	assert_int_equal(dr_diags_get(d, 0)->loc.col, 24);
	dr_diags_free(d);
	dr_arena_free(a);
}

/* ---- scale -------------------------------------------------------------------------------------- */

/* 1,000 VMs fail over at once on a virtual clock, polled exactly when something changes. */
static void test_thousand_vms_on_a_virtual_clock(void **state)
{
	(void)state;
	enum { N = 1000 };
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_puts(&b, "{kind: sim, vms: [");
	for (int i = 0; i < N; i++)
		dr_buf_printf(&b, "%s{name: vm-%04d}", i ? ", " : "", i);
	dr_buf_puts(&b, "]}");
	dr_arena *a = dr_arena_new();
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	dr_backend *be = sim_open(b.data, a);
	const char *jobs[N];
	char name[16], key[32];
	dr_be_error err;
	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof name, "vm-%04d", i);
		snprintf(key, sizeof key, "k-%d", i);
		jobs[i] = sim_start(be, a, T0, DR_BE_OP_FAILOVER, name, key, &err);
		assert_non_null(jobs[i]);
	}
	/* an executor's timers: each job is polled again exactly at its poll_after */
	static int64_t next[N];
	int64_t makespan = 0;
	long polls = 0;
	for (int i = 0; i < N; i++)
		next[i] = T0;
	for (;;) {
		int k = -1;
		for (int i = 0; i < N; i++)
			if (next[i] >= 0 && (k < 0 || next[i] < next[k]))
				k = i;
		if (k < 0)
			break;
		dr_be_job j;
		assert_int_equal(dr_backend_get_job(be, a, next[k], jobs[k], &j, &err), 0);
		polls++;
		if (dr_backend_job_done(j.state)) {
			assert_int_equal(j.state, DR_BE_JOB_SUCCEEDED);
			assert_int_equal(j.end_ms, next[k]); /* seen exactly when it ended */
			makespan = j.end_ms - T0 > makespan ? j.end_ms - T0 : makespan;
			next[k] = -1;
		} else {
			next[k] += j.poll_after_ms;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	print_message("1000 VMs: %ld polls, makespan %lld s, %.3f s wall\n", polls, (long long)(makespan / 1000), secs);
	assert_true(makespan >= 3 * MINUTE && makespan <= 12 * MINUTE);
	assert_true(polls <= 7 * N); /* one poll per task change, never a busy loop */
	assert_true(secs < 5.0);
	dr_buf_dispose(&b);
	dr_backend_close(be);
	dr_arena_free(a);
}

/* Threads call one sim at once (blocking actions run on workers): every call is serialised. */
typedef struct worker {
	dr_backend *be;
	int first, n;
	int done;
} worker;

static void *work(void *p)
{
	worker *w = p;
	dr_arena *a = dr_arena_new();
	for (int i = w->first; i < w->first + w->n; i++) {
		char name[16];
		dr_be_error err;
		snprintf(name, sizeof name, "vm-%04d", i);
		const char *id = sim_start(w->be, a, T0, DR_BE_OP_TEST_FAILOVER, name, name, &err);
		dr_be_job j;
		int64_t t = T0;
		do {
			if (!id || dr_backend_get_job(w->be, a, t, id, &j, &err) < 0)
				return NULL;
			t += j.poll_after_ms > 0 ? j.poll_after_ms : 0;
		} while (!dr_backend_job_done(j.state));
		w->done++;
	}
	dr_arena_free(a);
	return NULL;
}

static void test_concurrent_callers(void **state)
{
	(void)state;
	enum { THREADS = 8, EACH = 25 };
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_puts(&b, "{kind: sim, vms: [");
	for (int i = 0; i < THREADS * EACH; i++)
		dr_buf_printf(&b, "%s{name: vm-%04d}", i ? ", " : "", i);
	dr_buf_puts(&b, "]}");
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open(b.data, a);
	pthread_t th[THREADS];
	worker w[THREADS];
	for (int i = 0; i < THREADS; i++) {
		w[i] = (worker){be, i * EACH, EACH, 0};
		pthread_create(&th[i], NULL, work, &w[i]);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].done, EACH);
	}
	dr_sim_audit_rec *recs;
	assert_int_equal(dr_sim_audit(be, a, &recs), THREADS * EACH);
	dr_buf_dispose(&b);
	dr_backend_close(be);
	dr_arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_op_in_every_state),
		cmocka_unit_test(test_busy_item_refuses_everything),
		cmocka_unit_test(test_full_lifecycle),
		cmocka_unit_test(test_cancel_failover_restarts_source),
		cmocka_unit_test(test_test_failover_and_cleanup),
		cmocka_unit_test(test_unknown_ids),
		cmocka_unit_test(test_job_progresses_with_time),
		cmocka_unit_test(test_durations_are_deterministic),
		cmocka_unit_test(test_idempotency_keys),
		cmocka_unit_test(test_replay_only_never_starts),
		cmocka_unit_test(test_audit_log),
		cmocka_unit_test(test_vm_health_after_failover),
		cmocka_unit_test(test_shutdown_operation),
		cmocka_unit_test(test_inventory_attributes_and_defaults),
		cmocka_unit_test(test_inventory_file_and_mistakes),
		cmocka_unit_test(test_thousand_vms_on_a_virtual_clock),
		cmocka_unit_test(test_concurrent_callers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
