/*
 * test_sim_points.c - recovery points appearing over time, their purge,
 * freeze (failover), deletion (commit) and rebirth (reprotect); the policy
 * helper (latest, latest-processed, latest-app-consistent,
 * latest-crash-consistent, custom by id, custom by time) and the RPO guard;
 * RFC 3339 times.
 */
#include "test_sim_helpers.h"

#include "util/arena.h"

void sim_guid(uint64_t a, uint64_t b, char *out); /* backends/sim_int.h, whose sim_item the helpers' would clash with */

static size_t points(dr_backend *be, dr_arena *a, int64_t t, dr_be_point **out)
{
	size_t n;
	dr_be_error err;
	assert_int_equal(dr_backend_list_points(be, a, t, "vm-1", out, &n, &err), 0);
	return n;
}

static dr_be_pick pick(dr_backend *be, dr_arena *a, int64_t t, dr_point_policy policy, const char *id,
		       int64_t custom_time, int64_t max_age, dr_be_choice *c)
{
	dr_be_point *pts;
	size_t n = points(be, a, t, &pts);
	dr_be_item it = sim_item(be, a, t, "vm-1");
	dr_be_point_query q = {.policy = policy, .custom_id = id, .custom_time_ms = custom_time, .max_age_ms = max_age};
	return dr_backend_choose_point(&it, pts, n, &q, t, c);
}

/* sim_guid writes by hand what its printf format wrote: every nibble position, both ends of each field. */
static void test_guid_as_printf(void **state)
{
	(void)state;
	uint64_t v[] = {0, UINT64_MAX, UINT64_C(0x0123456789abcdef), UINT64_C(0xfedcba9876543210), UINT64_C(0x8000000000000001)};
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		for (size_t k = 0; k < sizeof v / sizeof v[0]; k++) {
			char got[40], want[40];
			sim_guid(v[i], v[k], got);
			snprintf(want, 37, "%08x-%04x-4%03x-%04x-%012llx", (unsigned)(v[i] >> 32),
				 (unsigned)(v[i] >> 16) & 0xffffu, (unsigned)v[i] & 0xfffu,
				 0x8000u | ((unsigned)(v[k] >> 48) & 0x3fffu),
				 (unsigned long long)(v[k] & UINT64_C(0xffffffffffff)));
			assert_string_equal(got, want);
		}
}

static void test_schedule_and_retention(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open(NULL, a);
	dr_be_point *p;
	size_t n = points(be, a, T0, &p);
	assert_true(n == 288 || n == 289); /* every 5 minutes over 24 hours */
	size_t apps = 0, unprocessed = 0;
	for (size_t i = 0; i < n; i++) {
		assert_true(p[i].time_ms <= T0 && p[i].time_ms >= T0 - 24 * HOUR);
		if (i > 0)
			assert_int_equal(p[i - 1].time_ms - p[i].time_ms, 5 * MINUTE); /* newest first */
		apps += p[i].type == DR_BE_POINT_APP_CONSISTENT;
		unprocessed += !p[i].processed;
		if (!p[i].processed)
			assert_true(i < 2 && T0 - p[i].time_ms < 6 * MINUTE);
		assert_non_null(strstr(p[i].id, "/recoveryPoints/"));
		assert_string_equal(strrchr(p[i].id, '/') + 1, p[i].name);
	}
	assert_true(apps == 24 || apps == 25); /* hourly */
	assert_true(T0 - p[0].time_ms < 5 * MINUTE);
	/* time passes: new points appear, old ones are purged, the count stays */
	dr_be_point *q;
	size_t m = points(be, a, T0 + 3 * HOUR, &q);
	assert_true(m == 288 || m == 289);
	assert_true(q[m - 1].time_ms >= T0 + 3 * HOUR - 24 * HOUR);
	assert_int_equal((q[0].time_ms - p[0].time_ms) % (5 * MINUTE), 0);
	dr_backend_close(be);
	dr_arena_free(a);
}

static void test_policies(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open(NULL, a);
	int64_t t = T0 + 17 * MINUTE;
	dr_be_point *p;
	size_t n = points(be, a, t, &p);
	dr_be_item it = sim_item(be, a, t, "vm-1");
	dr_be_choice c;

	assert_int_equal(pick(be, a, t, DR_POINT_LATEST, NULL, 0, -1, &c), DR_BE_PICK_OK);
	assert_null(c.point);
	assert_null(c.point_id);
	assert_int_equal(c.time_ms, t - it.rpo_ms);
	assert_int_equal(c.age_ms, it.rpo_ms);

	size_t newest_processed = 0;
	while (!p[newest_processed].processed)
		newest_processed++;
	assert_int_equal(pick(be, a, t, DR_POINT_LATEST_PROCESSED, NULL, 0, -1, &c), DR_BE_PICK_OK);
	assert_int_equal(c.time_ms, p[newest_processed].time_ms);
	assert_string_equal(c.point_id, p[newest_processed].id);
	assert_true(c.age_ms > it.rpo_ms); /* faster failover, higher RPO */

	assert_int_equal(pick(be, a, t, DR_POINT_LATEST_APP_CONSISTENT, NULL, 0, -1, &c), DR_BE_PICK_OK);
	assert_int_equal(c.point->type, DR_BE_POINT_APP_CONSISTENT);
	assert_true(c.point->processed);
	for (size_t i = 0; i < n && p[i].time_ms > c.time_ms; i++)
		assert_true(p[i].type == DR_BE_POINT_CRASH_CONSISTENT || !p[i].processed);

	assert_int_equal(pick(be, a, t, DR_POINT_LATEST_CRASH_CONSISTENT, NULL, 0, -1, &c), DR_BE_PICK_OK);
	assert_int_equal(c.point->type, DR_BE_POINT_CRASH_CONSISTENT);
	assert_true(c.point->processed);

	/* custom by id (full id or name) */
	assert_int_equal(pick(be, a, t, DR_POINT_CUSTOM, p[40].id, 0, -1, &c), DR_BE_PICK_OK);
	assert_int_equal(c.time_ms, p[40].time_ms);
	assert_int_equal(pick(be, a, t, DR_POINT_CUSTOM, p[41].name, 0, -1, &c), DR_BE_PICK_OK);
	assert_int_equal(c.time_ms, p[41].time_ms);
	assert_int_equal(pick(be, a, t, DR_POINT_CUSTOM, "nope", 0, -1, &c), DR_BE_PICK_NONE);

	/* custom by time: the newest point at or before it */
	assert_int_equal(pick(be, a, t, DR_POINT_CUSTOM, NULL, p[10].time_ms, -1, &c), DR_BE_PICK_OK);
	assert_int_equal(c.time_ms, p[10].time_ms);
	assert_int_equal(pick(be, a, t, DR_POINT_CUSTOM, NULL, p[10].time_ms + 4 * MINUTE, -1, &c), DR_BE_PICK_OK);
	assert_int_equal(c.time_ms, p[10].time_ms);
	assert_int_equal(pick(be, a, t, DR_POINT_CUSTOM, NULL, p[n - 1].time_ms - 1, -1, &c), DR_BE_PICK_NONE);

	/* the RPO guard: found but too old */
	assert_int_equal(pick(be, a, t, DR_POINT_LATEST_APP_CONSISTENT, NULL, 0, 2 * MINUTE, &c),
			 DR_BE_PICK_TOO_OLD);
	assert_non_null(c.point);
	assert_true(c.age_ms > 2 * MINUTE);
	assert_int_equal(pick(be, a, t, DR_POINT_LATEST, NULL, 0, 15 * MINUTE, &c), DR_BE_PICK_OK);
	dr_backend_close(be);
	dr_arena_free(a);
}

/* Every latest-* policy picks the same point from the newest points as from the whole list. */
static void same_choices(dr_backend *be, dr_arena *a, int64_t t)
{
	static const dr_point_policy policies[] = {DR_POINT_LATEST_PROCESSED, DR_POINT_LATEST_APP_CONSISTENT,
						   DR_POINT_LATEST_CRASH_CONSISTENT};
	dr_be_point *all, *few;
	size_t n_all = points(be, a, t, &all), n_few;
	dr_be_error err;
	assert_int_equal(dr_backend_list_newest_points(be, a, t, "vm-1", &few, &n_few, &err), 0);
	assert_true(n_few <= n_all);
	assert_true(n_few <= 16 || n_few == n_all); /* the lag's few, back to the hourly app-consistent point */
	for (size_t i = 0; i < n_few; i++)
		assert_string_equal(few[i].id, all[i].id); /* newest first, as listed */
	dr_be_item it = sim_item(be, a, t, "vm-1");
	for (size_t k = 0; k < sizeof policies / sizeof policies[0]; k++) {
		dr_be_point_query q = {.policy = policies[k], .max_age_ms = -1};
		dr_be_choice c_all, c_few;
		dr_be_pick p_all = dr_backend_choose_point(&it, all, n_all, &q, t, &c_all);
		assert_int_equal(dr_backend_choose_point(&it, few, n_few, &q, t, &c_few), p_all);
		if (p_all == DR_BE_PICK_OK)
			assert_string_equal(c_few.point_id, c_all.point_id);
	}
}

/* drover plan asks for the newest points only: a dozen, not a day's 288, and the same choices. */
static void test_newest_points(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open(NULL, a);
	for (int64_t t = T0; t < T0 + 3 * HOUR; t += 7 * MINUTE + 13000)
		same_choices(be, a, t);
	dr_be_point *few;
	size_t n;
	dr_be_error err;
	assert_int_equal(dr_backend_list_newest_points(be, a, T0 + HOUR, "vm-1", &few, &n, &err), 0);
	assert_true(n >= 2 && n <= 16);
	assert_int_equal(dr_backend_list_newest_points(be, a, T0, "nope", &few, &n, &err), -1);
	assert_string_equal(err.code, "ReplicationProtectedItemNotFound");
	/* after a failover the window is frozen; after a commit there are none */
	int64_t t = T0;
	sim_run(be, a, &t, DR_BE_OP_FAILOVER, "vm-1");
	same_choices(be, a, t + HOUR);
	sim_run(be, a, &t, DR_BE_OP_COMMIT, "vm-1");
	assert_int_equal(dr_backend_list_newest_points(be, a, t, "vm-1", &few, &n, &err), 0);
	assert_int_equal(n, 0);
	/* reprotected: a new window, younger than an hour, may hold no app-consistent point at all */
	sim_run(be, a, &t, DR_BE_OP_REPROTECT, "vm-1");
	for (int64_t u = t; u < t + 2 * HOUR; u += 11 * MINUTE)
		same_choices(be, a, u);
	dr_backend_close(be);
	dr_arena_free(a);
}

/* The helper does not assume order (ASR lists points unsorted). */
static void test_choose_point_unsorted(void **state)
{
	(void)state;
	dr_be_point pts[] = {
		{"/x/recoveryPoints/a", "a", T0 - 10 * MINUTE, DR_BE_POINT_CRASH_CONSISTENT, true},
		{"/x/recoveryPoints/b", "b", T0 - 2 * MINUTE, DR_BE_POINT_CRASH_CONSISTENT, false},
		{"/x/recoveryPoints/c", "c", T0 - 60 * MINUTE, DR_BE_POINT_APP_CONSISTENT, true},
		{"/x/recoveryPoints/d", "d", T0 - 5 * MINUTE, DR_BE_POINT_CRASH_CONSISTENT, true},
	};
	dr_be_item it = {.rpo_ms = 30000};
	dr_be_choice c;
	dr_be_point_query q = {.policy = DR_POINT_LATEST_PROCESSED, .max_age_ms = -1};
	assert_int_equal(dr_backend_choose_point(&it, pts, 4, &q, T0, &c), DR_BE_PICK_OK);
	assert_string_equal(c.point->name, "d");
	q.policy = DR_POINT_LATEST_APP_CONSISTENT;
	assert_int_equal(dr_backend_choose_point(&it, pts, 4, &q, T0, &c), DR_BE_PICK_OK);
	assert_string_equal(c.point->name, "c");
	assert_int_equal(c.age_ms, 60 * MINUTE);
	q = (dr_be_point_query){.policy = DR_POINT_CUSTOM, .custom_time_ms = T0 - 3 * MINUTE, .max_age_ms = -1};
	assert_int_equal(dr_backend_choose_point(&it, pts, 4, &q, T0, &c), DR_BE_PICK_OK);
	assert_string_equal(c.point->name, "d");
	q = (dr_be_point_query){.policy = DR_POINT_LATEST, .max_age_ms = 10000};
	assert_int_equal(dr_backend_choose_point(&it, pts, 4, &q, T0, &c), DR_BE_PICK_TOO_OLD);
	it.rpo_ms = -1; /* not replicating: no "latest" */
	assert_int_equal(dr_backend_choose_point(&it, pts, 4, &q, T0, &c), DR_BE_PICK_NONE);
	q.policy = DR_POINT_LATEST_CRASH_CONSISTENT;
	assert_int_equal(dr_backend_choose_point(&it, NULL, 0, &q, T0, &c), DR_BE_PICK_NONE);
	assert_string_equal(dr_backend_pick_name(DR_BE_PICK_TOO_OLD), "too_old");
}

/* Failover freezes the points (change point picks among them); commit deletes them; reprotect starts anew. */
static void test_points_through_the_lifecycle(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open(NULL, a);
	int64_t t = T0;
	dr_be_point *p;
	size_t n = points(be, a, t, &p);
	/* fail over onto a custom point: the job and the item say which */
	dr_be_request req = {.op = DR_BE_OP_FAILOVER, .item_id = "vm-1", .point_id = p[30].id};
	dr_be_error err;
	int64_t start = t;
	dr_be_job j = sim_wait(be, a, &t, sim_start_req(be, a, t, &req, &err));
	assert_string_equal(j.point_id, p[30].id);
	assert_int_equal(j.point_ms, p[30].time_ms);
	for (size_t i = 0; i < j.n_tasks; i++)
		assert_string_not_equal(j.tasks[i].name, "Process the pending replication data");
	dr_be_item it = sim_item(be, a, t, "vm-1");
	assert_string_equal(it.failover_point_id, p[30].id);
	dr_be_point *frozen;
	size_t nf = points(be, a, t + HOUR, &frozen);
	assert_true(nf >= n - 1 && frozen[0].time_ms <= start);

	/* change the point: before commit only */
	req = (dr_be_request){.op = DR_BE_OP_CHANGE_POINT, .item_id = "vm-1", .point_id = frozen[50].name};
	j = sim_wait(be, a, &t, sim_start_req(be, a, t, &req, &err));
	assert_int_equal(j.state, DR_BE_JOB_SUCCEEDED);
	assert_string_equal(j.scenario, "ChangeRecoveryPoint");
	it = sim_item(be, a, t, "vm-1");
	assert_int_equal(it.failover_point_ms, frozen[50].time_ms);
	req.point_id = "0badf00d-0000-4000-8000-000000000000";
	assert_null(sim_start_req(be, a, t, &req, &err));
	assert_string_equal(err.code, "RecoveryPointNotFound");
	req.point_id = NULL;
	assert_null(sim_start_req(be, a, t, &req, &err));
	assert_string_equal(err.code, "RecoveryPointIdRequired");

	sim_run(be, a, &t, DR_BE_OP_COMMIT, "vm-1");
	assert_int_equal(points(be, a, t, &p), 0);
	dr_be_choice c;
	assert_int_equal(pick(be, a, t, DR_POINT_LATEST, NULL, 0, -1, &c), DR_BE_PICK_NONE);
	req.point_id = frozen[50].id;
	assert_null(sim_start_req(be, a, t, &req, &err));
	assert_string_equal(err.code, "OperationNotAllowedInCurrentState");

	j = sim_run(be, a, &t, DR_BE_OP_REPROTECT, "vm-1");
	assert_true(points(be, a, t + 4 * MINUTE, &p) <= 1);
	n = points(be, a, t + 2 * HOUR, &p);
	assert_true(n >= 23 && n <= 25);
	assert_true(p[n - 1].time_ms >= j.end_ms);
	dr_backend_close(be);
	dr_arena_free(a);
}

/* A point purged by retention cannot be used any more. */
static void test_expired_point_is_refused(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_backend *be = sim_open(NULL, a);
	dr_be_point *p;
	size_t n = points(be, a, T0, &p);
	dr_be_request req = {.op = DR_BE_OP_TEST_FAILOVER, .item_id = "vm-1", .point_id = p[n - 1].id,
			     .network = "n"};
	dr_be_error err;
	assert_null(sim_start_req(be, a, T0 + HOUR, &req, &err));
	assert_string_equal(err.code, "RecoveryPointNotFound");
	assert_int_equal(err.cls, DR_BE_ERR_PERMANENT);
	dr_backend_close(be);
	dr_arena_free(a);
}

static void test_times(void **state)
{
	(void)state;
	char buf[40];
	int64_t ms;
	dr_backend_format_time(T0, buf, sizeof buf);
	assert_string_equal(buf, "2026-01-01T00:00:00Z");
	dr_backend_format_time(T0 + 5250, buf, sizeof buf);
	assert_string_equal(buf, "2026-01-01T00:00:05.250Z");
	assert_true(dr_backend_parse_time("2026-01-01T00:00:05.25Z", &ms));
	assert_int_equal(ms, T0 + 5250);
	assert_true(dr_backend_parse_time("2026-01-01T02:00:00+02:00", &ms));
	assert_int_equal(ms, T0);
	assert_true(dr_backend_parse_time("2025-12-31T19:00:00-05:00", &ms));
	assert_int_equal(ms, T0);
	assert_false(dr_backend_parse_time("2026-01-01", &ms));
	assert_false(dr_backend_parse_time("2026-13-01T00:00:00Z", &ms));
	assert_false(dr_backend_parse_time("2026-01-01T00:00:00", &ms));
	assert_false(dr_backend_parse_time("2026-01-01T00:00:00Zjunk", &ms));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_guid_as_printf),
		cmocka_unit_test(test_schedule_and_retention),
		cmocka_unit_test(test_policies),
		cmocka_unit_test(test_choose_point_unsorted),
		cmocka_unit_test(test_newest_points),
		cmocka_unit_test(test_points_through_the_lifecycle),
		cmocka_unit_test(test_expired_point_is_refused),
		cmocka_unit_test(test_times),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
