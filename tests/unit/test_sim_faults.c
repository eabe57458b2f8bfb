/*
 * test_sim_faults.c - fault injection: requests failing N times or with a
 * probability (deterministically), 429 bursts, jobs failing, hanging or
 * running slow, a source shutdown that fails without failing the failover,
 * VMs that come up unhealthy, faults from DROVER_SIM_FAULTS, and the
 * diagnostics of a bad fault spec.
 */
#include "test_sim_helpers.h"

#include "util/arena.h"
#include "util/buf.h"

static const char *try_failover(dr_backend *be, dr_arena *a, int64_t t, const char *vm, dr_be_error *err)
{
	return sim_start(be, a, t, DR_BE_OP_FAILOVER, vm, NULL, err);
}

static void test_fail_n_times_on_given_vms(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open("{kind: sim, vms: [{name: db-1}, {name: web-1}],"
				  " faults: [{kind: fail, op: failover, vms: '^db-', times: 2}]}",
				  a);
	dr_be_error err;
	for (int i = 0; i < 2; i++) {
		assert_null(try_failover(be, a, T0 + i, "db-1", &err));
		assert_int_equal(err.http_status, 503);
		assert_int_equal(err.cls, DR_BE_ERR_TRANSIENT);
		assert_string_equal(err.code, "ServiceUnavailable");
		assert_non_null(strstr(err.message, "injected fault"));
	}
	assert_non_null(try_failover(be, a, T0 + 2, "db-1", &err));
	assert_non_null(try_failover(be, a, T0, "web-1", &err));
	dr_backend_close(be);
	dr_arena_free(a);
}

static void test_fail_permanent_with_code(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open("{kind: sim, vms: [{name: vm-1}], faults: [{kind: fail, op: [commit, failover], "
				  "vms: [vm-1], class: permanent, code: QuotaExceeded, message: No cores left.}]}",
				  a);
	dr_be_error err;
	for (int i = 0; i < 3; i++) {
		assert_null(try_failover(be, a, T0, "vm-1", &err));
		assert_int_equal(err.http_status, 400);
		assert_int_equal(err.cls, DR_BE_ERR_PERMANENT);
		assert_string_equal(err.code, "QuotaExceeded");
		assert_string_equal(err.message, "No cores left.");
	}
	assert_non_null(sim_start(be, a, T0, DR_BE_OP_TEST_FAILOVER, "vm-1", NULL, &err));
	dr_backend_close(be);
	dr_arena_free(a);
}

/* Which of 100 VMs fail with probability 0.3: the same every time for a seed. */
static unsigned long long probability_pattern(int seed, int *fails)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "{kind: sim, seed: %d, faults: [{kind: fail, probability: 0.3}], vms: [", seed);
	for (int i = 0; i < 100; i++)
		dr_buf_printf(&b, "%s{name: v%d}", i ? "," : "", i);
	dr_buf_puts(&b, "]}");
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open(b.data, a);
	unsigned long long h = 1469598103934665603ULL;
	*fails = 0;
	for (int i = 0; i < 100; i++) {
		char name[16];
		dr_be_error err;
		snprintf(name, sizeof name, "v%d", i);
		bool failed = !try_failover(be, a, T0, name, &err);
		*fails += failed;
		h = (h ^ (unsigned)failed) * 1099511628211ULL;
	}
	dr_backend_close(be);
	dr_arena_free(a);
	dr_buf_dispose(&b);
	return h;
}

static void test_probability_is_deterministic(void **state)
{
	(void)state;
	int f1, f2, f3;
	assert_true(probability_pattern(1, &f1) == probability_pattern(1, &f2));
	assert_int_equal(f1, f2);
	assert_true(f1 > 10 && f1 < 50);
	assert_true(probability_pattern(2, &f3) != probability_pattern(1, &f1));
}

static void test_throttling_bursts(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open("{kind: sim, vms: [{name: vm-1}], faults: [{kind: throttle, after: 2, burst: 2, "
				  "every: 10, retry_after: 7s}]}",
				  a);
	dr_be_error err;
	for (int i = 0; i < 16; i++) {
		/* shutdown: always allowed, so only throttling refuses */
		char key[16];
		snprintf(key, sizeof key, "k%d", i);
		dr_be_request req = {.op = DR_BE_OP_SHUTDOWN, .item_id = "vm-1", .idempotency_key = key};
		bool throttled = !sim_start_req(be, a, T0 + i * 2 * MINUTE, &req, &err);
		/* calls 3 and 4, then 13 and 14 (1-based) */
		assert_int_equal(throttled, i == 2 || i == 3 || i == 12 || i == 13);
		if (throttled) {
			assert_int_equal(err.http_status, 429);
			assert_int_equal(err.cls, DR_BE_ERR_THROTTLED);
			assert_int_equal(err.retry_after_ms, 7000);
		}
	}
	/* a throttled call did not bind its key: its retry (call 17) starts the operation */
	dr_be_request req = {.op = DR_BE_OP_SHUTDOWN, .item_id = "vm-1", .idempotency_key = "k2"};
	dr_be_started st;
	assert_int_equal(dr_backend_start(be, a, T0 + HOUR, &req, &st, &err), 0);
	assert_false(st.replayed);
	dr_sim_audit_rec *recs;
	assert_int_equal(dr_sim_audit(be, a, &recs), 17);
	assert_string_equal(recs[2].result, "throttled");
	assert_string_equal(recs[2].code, "TooManyRequests");
	assert_string_equal(recs[16].result, "accepted");
	dr_backend_close(be);
	dr_arena_free(a);
}

static void test_job_fails_at_its_main_task(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open("{kind: sim, vms: [{name: vm-1}], faults: [{kind: fail, op: failover, at: job, "
				  "times: 1}]}",
				  a);
	int64_t t = T0;
	dr_be_job j = sim_run(be, a, &t, DR_BE_OP_FAILOVER, "vm-1");
	assert_int_equal(j.state, DR_BE_JOB_FAILED);
	assert_string_equal(j.state_description, "Failed");
	assert_int_equal(j.n_errors, 1);
	assert_string_equal(j.errors[0].task, "Create the virtual machine");
	assert_false(j.errors[0].warning);
	assert_string_equal(j.errors[0].error.code, "InjectedFault");
	assert_int_equal(j.tasks[j.n_tasks - 1].state, DR_BE_JOB_SKIPPED);
	dr_be_item it = sim_item(be, a, t, "vm-1");
	assert_int_equal(it.state, DR_BE_ST_PROTECTED); /* back where it was: failover may be retried */
	assert_true(it.rpo_ms > 0);
	assert_false(it.recovery_vm.exists);
	/* times: 1 - the retry works */
	assert_int_equal(sim_run(be, a, &t, DR_BE_OP_FAILOVER, "vm-1").state, DR_BE_JOB_SUCCEEDED);
	dr_backend_close(be);
	dr_arena_free(a);
}

static void test_job_hangs(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open("{kind: sim, vms: [{name: vm-1}], faults: [{kind: hang, op: failover}]}", a);
	dr_be_error err;
	const char *id = try_failover(be, a, T0, "vm-1", &err);
	dr_be_job j;
	assert_int_equal(dr_backend_get_job(be, a, T0 + 24 * HOUR, id, &j, &err), 0);
	assert_int_equal(j.state, DR_BE_JOB_IN_PROGRESS);
	assert_int_equal(j.poll_after_ms, 30000);
	assert_int_equal(sim_item(be, a, T0 + 24 * HOUR, "vm-1").state, DR_BE_ST_FAILING_OVER);
	assert_null(sim_start(be, a, T0 + 24 * HOUR, DR_BE_OP_COMMIT, "vm-1", NULL, &err));
	assert_string_equal(err.code, "OperationInProgress");
	assert_int_equal(err.retry_after_ms, MINUTE);
	dr_backend_close(be);
	dr_arena_free(a);
}

static int64_t reprotect_time(const char *faults)
{
	char yaml[256];
	snprintf(yaml, sizeof yaml, "{kind: sim, seed: 3, vms: [{name: vm-1}], faults: [%s]}", faults);
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open(yaml, a);
	int64_t t = T0;
	sim_run(be, a, &t, DR_BE_OP_FAILOVER, "vm-1");
	sim_run(be, a, &t, DR_BE_OP_COMMIT, "vm-1");
	dr_be_job j = sim_run(be, a, &t, DR_BE_OP_REPROTECT, "vm-1");
	dr_backend_close(be);
	dr_arena_free(a);
	return j.end_ms - j.start_ms;
}

static void test_slow_jobs(void **state)
{
	(void)state;
	int64_t normal = reprotect_time("");
	int64_t slow = reprotect_time("{kind: slow, op: reprotect, factor: 3}");
	assert_true(slow >= 3 * normal - 10 && slow <= 3 * normal + 10);
}

static void test_source_shutdown_fails_but_failover_goes_on(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open("{kind: sim, vms: [{name: vm-1}, {name: vm-2}], faults: [{kind: shutdown-fails, "
				  "vms: [vm-1]}]}",
				  a);
	int64_t t = T0;
	dr_be_error err;
	dr_be_request req = {.op = DR_BE_OP_FAILOVER, .item_id = "vm-1", .shutdown_source = true};
	dr_be_job j = sim_wait(be, a, &t, sim_start_req(be, a, t, &req, &err));
	assert_int_equal(j.state, DR_BE_JOB_SUCCEEDED);
	assert_string_equal(j.state_description, "CompletedWithInformation");
	assert_string_equal(j.tasks[1].name, "Shut down the source virtual machine");
	assert_int_equal(j.tasks[1].state, DR_BE_JOB_FAILED);
	assert_int_equal(j.n_errors, 1);
	assert_true(j.errors[0].warning);
	assert_string_equal(j.errors[0].error.code, "SourceVmShutdownFailed");
	dr_be_item it = sim_item(be, a, t, "vm-1");
	assert_int_equal(it.state, DR_BE_ST_FAILED_OVER);
	assert_int_equal(it.primary_vm.power, DR_BE_POWER_RUNNING); /* it could not be stopped */
	/* dr.shutdown of the same VM: its job fails */
	j = sim_run(be, a, &t, DR_BE_OP_SHUTDOWN, "vm-1");
	assert_int_equal(j.state, DR_BE_JOB_FAILED);
	assert_string_equal(j.errors[0].error.code, "VmShutdownFailed");
	/* another VM is not affected */
	req.item_id = "vm-2";
	j = sim_wait(be, a, &t, sim_start_req(be, a, t, &req, &err));
	assert_string_equal(j.state_description, "Completed");
	dr_backend_close(be);
	dr_arena_free(a);
}

static void test_vm_comes_up_unhealthy(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open("{kind: sim, vms: [{name: vm-1}], faults: [{kind: unhealthy, times: 1}]}", a);
	int64_t t = T0;
	sim_run(be, a, &t, DR_BE_OP_FAILOVER, "vm-1");
	dr_be_item it = sim_item(be, a, t, "vm-1");
	assert_int_equal(it.recovery_vm.health, DR_BE_HEALTH_BOOTING);
	t += 3 * MINUTE;
	it = sim_item(be, a, t, "vm-1");
	assert_int_equal(it.recovery_vm.power, DR_BE_POWER_RUNNING);
	assert_int_equal(it.recovery_vm.health, DR_BE_HEALTH_UNHEALTHY);
	/* another recovery point: the VM restarts, and this time it is healthy */
	dr_be_point *pts;
	size_t n;
	dr_be_error err;
	assert_int_equal(dr_backend_list_points(be, a, t, "vm-1", &pts, &n, &err), 0);
	dr_be_request req = {.op = DR_BE_OP_CHANGE_POINT, .item_id = "vm-1", .point_id = pts[12].id};
	sim_wait(be, a, &t, sim_start_req(be, a, t, &req, &err));
	it = sim_item(be, a, t + 3 * MINUTE, "vm-1");
	assert_int_equal(it.recovery_vm.health, DR_BE_HEALTH_HEALTHY);
	dr_backend_close(be);
	dr_arena_free(a);
}

static void test_faults_from_the_environment(void **state)
{
	(void)state;
	setenv("DROVER_SIM_FAULTS", "[{kind: fail, op: test_failover, class: throttled}]", 1);
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open(NULL, a);
	dr_be_error err;
	assert_null(sim_start(be, a, T0, DR_BE_OP_TEST_FAILOVER, "vm-1", NULL, &err));
	assert_int_equal(err.http_status, 429);
	assert_int_equal(err.retry_after_ms, 10000);
	dr_backend_close(be);
	/* a malformed variable is a diagnostic that names it */
	setenv("DROVER_SIM_FAULTS", "[{kind: nope}]", 1);
	dr_sim_opts o = {.in_memory = true};
	dr_diags *d;
	assert_null(sim_open_opts(NULL, &o, a, &d, &err));
	assert_int_equal(dr_diags_errors(d), 1);
	assert_string_equal(dr_diags_get(d, 0)->loc.file, "DROVER_SIM_FAULTS");
	dr_diags_free(d);
	unsetenv("DROVER_SIM_FAULTS");
	dr_arena_free(a);
}

static void test_bad_fault_specs(void **state)
{
	(void)state;
	static const struct {
		const char *fault;
		dr_code code;
		const char *hint; /* a substring, or NULL */
	} cases[] = {
		{"{kind: fial}", DR204, "fail"},
		{"{op: failover}", DR202, "one of"},
		{"{kind: fail, opp: failover}", DR203, "op"},
		{"{kind: fail, op: failovr}", DR204, "failover"},
		{"{kind: fail, vms: '(unclosed'}", DR211, NULL},
		{"{kind: fail, probability: 1.5}", DR205, NULL},
		{"{kind: fail, times: 0}", DR205, NULL},
		{"{kind: hang, factor: 2}", DR203, NULL},
		{"{kind: throttle, retry_after: soon}", DR206, NULL},
		{"{kind: fail, class: maybe}", DR204, NULL},
		{"{kind: read-fails, op: failover}", DR203, NULL}, /* a read is no operation */
		{"{kind: read-fail}", DR204, "read-fails"},
		{"42", DR201, NULL},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char yaml[256];
		snprintf(yaml, sizeof yaml, "{kind: sim, vms: [{name: vm-1}], faults: [%s]}", cases[i].fault);
		dr_arena *a = dr_arena_new();
		dr_sim_opts o = {.in_memory = true};
		dr_diags *d;
		dr_be_error err;
		assert_null(sim_open_opts(yaml, &o, a, &d, &err));
		if (dr_diags_errors(d) != 1 || dr_diags_get(d, 0)->code != cases[i].code)
			fail_msg("%s: expected %s, got %zu errors, first %s", cases[i].fault, dr_code_id(cases[i].code),
				 dr_diags_errors(d), dr_diags_count(d) ? dr_code_id(dr_diags_get(d, 0)->code) : "-");
		const dr_diag *g = dr_diags_get(d, 0);
		assert_string_equal(g->loc.file, "test.yaml");
		assert_int_equal(g->loc.line, 1);
		if (cases[i].hint)
			assert_non_null(g->hint && strstr(g->hint, cases[i].hint) ? g->hint : NULL);
		dr_diags_free(d);
		dr_arena_free(a);
	}
}

/* A manual action: the job waits, Suspended, with its instructions, until a person resumes it; then it goes on. */
static void test_suspended_until_resumed(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open("{kind: sim, vms: [{name: vm-1}], faults: [{kind: suspend, op: failover, "
				  "message: Check the replica.}]}",
				  a);
	dr_be_error err;
	dr_be_job j;
	const char *job = try_failover(be, a, T0, "vm-1", &err);
	assert_non_null(job);
	int64_t t = T0 + 3600 * 1000; /* an hour later: still waiting */
	assert_int_equal(dr_backend_get_job(be, a, t, job, &j, &err), 0);
	assert_int_equal(j.state, DR_BE_JOB_SUSPENDED);
	assert_string_equal(j.state_description, "Suspended");
	const dr_be_task *k = NULL;
	for (size_t i = 0; i < j.n_tasks; i++)
		if (j.tasks[i].state == DR_BE_JOB_SUSPENDED)
			k = &j.tasks[i];
	assert_non_null(k);
	assert_string_equal(k->instructions, "Check the replica.");
	assert_true(j.poll_after_ms > 0);
	assert_int_equal(dr_sim_resume_job(be, a, t, job, &err), 0);
	assert_int_equal(dr_sim_resume_job(be, a, t, job, &err), -1); /* not suspended any more */
	assert_string_equal(err.code, "JobNotSuspended");
	assert_int_equal(dr_backend_get_job(be, a, t + 3600 * 1000, job, &j, &err), 0);
	assert_int_equal(j.state, DR_BE_JOB_SUCCEEDED);
	assert_true(j.end_ms > t);
	dr_backend_close(be);
	dr_arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fail_n_times_on_given_vms),
		cmocka_unit_test(test_fail_permanent_with_code),
		cmocka_unit_test(test_probability_is_deterministic),
		cmocka_unit_test(test_throttling_bursts),
		cmocka_unit_test(test_job_fails_at_its_main_task),
		cmocka_unit_test(test_job_hangs),
		cmocka_unit_test(test_slow_jobs),
		cmocka_unit_test(test_source_shutdown_fails_but_failover_goes_on),
		cmocka_unit_test(test_vm_comes_up_unhealthy),
		cmocka_unit_test(test_faults_from_the_environment),
		cmocka_unit_test(test_bad_fault_specs),
		cmocka_unit_test(test_suspended_until_resumed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
