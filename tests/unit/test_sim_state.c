/*
 * test_sim_state.c - the simulator's state file: a round trip across
 * invocations (items, jobs, keys, fault counters, the audit log), time that
 * continues when a virtual clock restarts, the writer's lock, read-only
 * opens, atomic writes, and torn or corrupt files (a clear error, never a
 * crash).
 */
#include "fixture.h"
#include "test_sim_helpers.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util/arena.h"
#include "util/fs.h"
#include "util/holder.h"

static const char *dir; /* each test's own (fixture.h) */
static char path[128];

static int setup(void **state)
{
	(void)state;
	dir = fx_newdir();
	snprintf(path, sizeof path, "%s/sub/sim-state.json", dir);
	assert_int_equal(dr_fs_mkdirs_parent(path, NULL), 0); /* a state file's folder is its owner's to make */
	return 0;
}

#define CFG "{kind: sim, seed: 5, vms: [{name: vm-1}, {name: vm-2}], faults: [{kind: fail, op: commit, times: 1}]}"

static dr_backend *open_file(dr_arena *a, bool read_only, dr_be_error *err)
{
	dr_sim_opts o = {.state_path = path, .read_only = read_only};
	return sim_open_opts(CFG, &o, a, NULL, err);
}

static char *read_text(const char *p)
{
	FILE *f = fopen(p, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fseek(f, 0, SEEK_SET);
	char *buf = malloc((size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

static void write_text(const char *p, const char *text, size_t n)
{
	FILE *f = fopen(p, "wb");
	assert_non_null(f);
	fwrite(text, 1, n, f);
	fclose(f);
}

/* failover in one invocation, commit (refused once by a fault) and reprotect in the next ones. */
static void test_round_trip_across_invocations(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_be_error err;
	dr_backend *be = open_file(a, false, &err);
	assert_non_null(be);
	int64_t t = T0;
	dr_be_request req = {.op = DR_BE_OP_FAILOVER, .item_id = "vm-1", .idempotency_key = "fo-1",
			     .shutdown_source = true};
	const char *job1 = sim_start_req(be, a, t, &req, &err);
	assert_non_null(job1);
	assert_null(sim_start(be, a, t, DR_BE_OP_COMMIT, "vm-2", "c-2", &err)); /* refused by the state: */
	assert_string_equal(err.code, "OperationNotAllowedInCurrentState"); /* not a hit of the fault */
	dr_be_job j = sim_wait(be, a, &t, job1);
	assert_int_equal(dr_backend_flush(be, a, &err), 0);
	dr_backend_close(be);
	struct stat st;
	assert_int_equal(stat(path, &st), 0);
	char tmp[160];
	snprintf(tmp, sizeof tmp, "%s.tmp", path);
	assert_int_equal(stat(tmp, &st), -1); /* no temporary left behind */

	/* second invocation: the same key replays, the item is failed over, the job is there */
	be = open_file(a, false, &err);
	assert_non_null(be);
	dr_be_started s;
	assert_int_equal(dr_backend_start(be, a, t, &req, &s, &err), 0);
	assert_true(s.replayed);
	assert_string_equal(s.job_id, job1);
	dr_be_job j2;
	assert_int_equal(dr_backend_get_job(be, a, t, job1, &j2, &err), 0);
	assert_int_equal(j2.state, DR_BE_JOB_SUCCEEDED);
	assert_int_equal(j2.end_ms, j.end_ms);
	assert_int_equal(j2.n_tasks, j.n_tasks);
	dr_be_item it = sim_item(be, a, t, "vm-1");
	assert_int_equal(it.state, DR_BE_ST_FAILED_OVER);
	assert_int_equal(it.primary_vm.power, DR_BE_POWER_STOPPED);
	assert_string_equal(it.failover_point_id, j.point_id);
	/* the commit fault fires once (this is its first matching call on vm-1), then not again */
	assert_null(sim_start(be, a, t, DR_BE_OP_COMMIT, "vm-1", "c-1", &err));
	assert_string_equal(err.code, "ServiceUnavailable");
	dr_backend_close(be);

	be = open_file(a, false, &err);
	assert_non_null(sim_start(be, a, t, DR_BE_OP_COMMIT, "vm-1", "c-1", &err));
	dr_sim_audit_rec *recs;
	size_t n = dr_sim_audit(be, a, &recs);
	assert_int_equal(n, 5);
	assert_string_equal(recs[0].key, "fo-1");
	assert_string_equal(recs[2].result, "replayed");
	assert_string_equal(recs[3].code, "ServiceUnavailable");
	assert_string_equal(recs[4].result, "accepted");
	dr_backend_close(be);

	/* the sessions after the first appended their changes to the log: the state file is as the
	   first session's snapshot left it; a snapshot writes it whole (the documented JSON) */
	char logp[160];
	snprintf(logp, sizeof logp, "%s.changes", path);
	assert_int_equal(stat(logp, &st), 0);
	assert_true(st.st_size > 0);
	be = open_file(a, false, &err);
	assert_int_equal(dr_sim_save(be, a, &err), 0);
	dr_backend_close(be);
	assert_int_equal(stat(logp, &st), 0);
	assert_int_equal(st.st_size, 0);
	char *text = read_text(path);
	cJSON *root = cJSON_Parse(text);
	assert_non_null(root);
	assert_string_equal(cJSON_GetObjectItem(root, "format")->valuestring, "drover-sim-state");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "items")), 2);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "jobs")), 2);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(root, "audit")), 5);
	cJSON_Delete(root);
	free(text);
	dr_arena_free(a);
}

/* A virtual clock restarts at the same instant every run: sim time continues where it was. */
static void test_time_continues_across_invocations(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_be_error err;
	dr_backend *be = open_file(a, false, &err);
	int64_t t = T0;
	dr_be_job j = sim_run(be, a, &t, DR_BE_OP_FAILOVER, "vm-2");
	dr_backend_close(be); /* polls advanced time: saved on close even without a flush */

	be = open_file(a, false, &err);
	assert_int_equal(dr_sim_time(be, T0), j.end_ms);
	assert_int_equal(dr_sim_time(be, T0 + 1000), j.end_ms + 1000);
	assert_int_equal(dr_sim_time(be, T0 + 500), j.end_ms + 1000); /* never backwards */
	dr_be_item it = sim_item(be, a, T0, "vm-2");
	assert_int_equal(it.state, DR_BE_ST_FAILED_OVER);
	assert_true(it.allowed_ops & DR_BE_OP_BIT(DR_BE_OP_COMMIT));
	dr_backend_close(be);
	dr_arena_free(a);
}

/* The lock names its holder while held (and a run once it names itself), is emptied on close; a busy error names it. */
static void test_lock_names_holder(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_be_error err;
	bool held = true;
	dr_backend *w1 = open_file(a, false, &err);
	assert_non_null(w1);
	cJSON *h = dr_sim_lock_holder(path, &held);
	assert_true(held);
	assert_non_null(h);
	assert_int_equal(dr_holder_pid(h), (long)getpid());
	char *text = cJSON_PrintUnformatted(h);
	char pid[32];
	snprintf(pid, sizeof pid, "{\"pid\":%d,\"host\":", (int)getpid()); /* the bytes: field order */
	assert_ptr_equal(strstr(text, pid), text);
	assert_non_null(strstr(text, "\",\"since\":\""));
	assert_null(strstr(text, "\"run\""));
	free(text);
	cJSON_Delete(h);
	assert_int_equal(dr_sim_lock_note_run(w1, "r-1", "/state"), 0);
	h = dr_sim_lock_holder(path, &held);
	text = cJSON_PrintUnformatted(h);
	assert_non_null(strstr(text, "\",\"run\":\"r-1\",\"state_dir\":\"/state\"}"));
	free(text);
	cJSON_Delete(h);
	assert_null(open_file(a, false, &err));
	assert_non_null(strstr(err.message, "in use by another drover process (run r-1, pid "));
	dr_backend_close(w1);
	assert_null(dr_sim_lock_holder(path, &held)); /* let go: emptied */
	assert_false(held);
	char lock[160];
	snprintf(lock, sizeof lock, "%s.lock", path);
	write_text(lock, "{\"pid\":7,\"run\":\"r-2\"}", strlen("{\"pid\":7,\"run\":\"r-2\"}")); /* a killed holder's */
	h = dr_sim_lock_holder(path, &held);
	assert_false(held);
	assert_int_equal(dr_holder_pid(h), 7);
	assert_string_equal(dr_holder_field(h, "run"), "r-2");
	assert_string_equal(dr_holder_field(h, "host"), "?");
	cJSON_Delete(h);
	write_text(lock, "[7]", 3); /* no record: not an object */
	assert_null(dr_sim_lock_holder(path, &held));
	/* the next writer finds what a killed holder left; it lets go emptying the lock, or keeping that record */
	const char *killed = "{\"pid\":7,\"host\":\"h\",\"since\":\"s\",\"run\":\"r-2\",\"state_dir\":\"/d\"}";
	for (int keep = 0; keep < 2; keep++) {
		write_text(lock, killed, strlen(killed));
		w1 = open_file(a, false, &err);
		assert_non_null(w1);
		assert_string_equal(dr_holder_field(dr_sim_lock_left(w1), "run"), "r-2");
		if (keep)
			dr_sim_lock_keep_left(w1);
		dr_backend_close(w1);
		h = dr_sim_lock_holder(path, &held);
		if (keep) {
			text = cJSON_PrintUnformatted(h);
			assert_string_equal(text, killed); /* byte for byte */
			free(text);
		} else {
			assert_null(h);
		}
		cJSON_Delete(h);
	}
	dr_arena_free(a);
}

/* A state file's folder is made only when it is the state directory's own (make_folder); else its absence is named. */
static void test_missing_folder(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_be_error err;
	char p[256], want[512];
	snprintf(p, sizeof p, "%s/gone/deeper/sim-state.json", dir);
	dr_sim_opts o = {.state_path = p};
	assert_null(sim_open_opts(CFG, &o, a, NULL, &err));
	assert_string_equal(err.code, "StateFileError");
	snprintf(want, sizeof want, "cannot open the simulator state '%s': its folder '%s/gone/deeper' does not exist", p, dir);
	assert_string_equal(err.message, want);
	snprintf(want, sizeof want, "%s/gone", dir);
	assert_int_equal(access(want, F_OK), -1); /* nothing made */
	assert_int_equal(dr_sim_remove_state(p, a, &err), 0); /* nothing there to remove */
	o.make_folder = true;
	dr_backend *be = sim_open_opts(CFG, &o, a, NULL, &err);
	assert_non_null(be);
	dr_backend_close(be);
	assert_int_equal(access(want, F_OK), 0);
	dr_arena_free(a);
}

static void test_lock_and_read_only(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_be_error err;
	dr_backend *w1 = open_file(a, false, &err);
	assert_non_null(w1);
	assert_non_null(sim_start(w1, a, T0, DR_BE_OP_TEST_FAILOVER, "vm-1", "t1", &err));
	assert_int_equal(dr_backend_flush(w1, a, &err), 0);
	dr_backend *w2 = open_file(a, false, &err);
	assert_null(w2);
	assert_string_equal(err.code, "StateFileLocked");
	assert_non_null(strstr(err.message, path));
	/* a reader needs no lock, sees the flushed state and never writes */
	char *before = read_text(path);
	dr_backend *r = open_file(a, true, &err);
	assert_non_null(r);
	assert_int_equal(sim_item(r, a, T0 + HOUR, "vm-1").state, DR_BE_ST_TEST_FAILED_OVER);
	assert_non_null(sim_start(r, a, T0 + HOUR, DR_BE_OP_TEST_CLEANUP, "vm-1", "t2", &err));
	assert_int_equal(dr_backend_flush(r, a, &err), 0);
	dr_backend_close(r);
	char *after = read_text(path);
	assert_string_equal(before, after);
	free(before);
	free(after);
	dr_backend_close(w1);
	w2 = open_file(a, false, &err);
	assert_non_null(w2);
	dr_backend_close(w2);
	/* remove: refused while locked, fine afterwards */
	w1 = open_file(a, false, &err);
	assert_int_equal(dr_sim_remove_state(path, a, &err), -1);
	dr_backend_close(w1);
	assert_int_equal(dr_sim_remove_state(path, a, &err), 0);
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(dr_sim_remove_state(path, a, &err), 0); /* absent is fine */
	dr_arena_free(a);
}

static void expect_corrupt(dr_arena *a, const char *text, size_t n, const char *needle)
{
	write_text(path, text, n);
	dr_be_error err;
	dr_backend *be = open_file(a, false, &err);
	if (be)
		fail_msg("accepted a corrupt state: %.*s", (int)(n > 200 ? 200 : n), text);
	assert_string_equal(err.code, "StateFileCorrupt");
	assert_non_null(strstr(err.message, path));
	assert_non_null(err.recommended_action);
	if (needle && !strstr(err.message, needle))
		fail_msg("'%s' not in: %s", needle, err.message);
}

/* Every prefix of a real state file (a torn write) is refused with a clear error. */
static void test_torn_state_files(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_be_error err;
	dr_backend *be = open_file(a, false, &err);
	int64_t t = T0;
	sim_run(be, a, &t, DR_BE_OP_FAILOVER, "vm-1");
	assert_non_null(sim_start(be, a, t, DR_BE_OP_TEST_FAILOVER, "vm-2", "k", &err));
	dr_backend_close(be);
	char *full = read_text(path);
	size_t len = strlen(full);
	while (len && (full[len - 1] == '\n' || full[len - 1] == '}'))
		len--; /* a prefix must not be complete JSON */
	for (size_t n = 0; n < len; n += 1 + n / 50) {
		dr_arena *scratch = dr_arena_new();
		expect_corrupt(scratch, full, n, n ? "not valid JSON" : "empty");
		dr_arena_free(scratch);
	}
	free(full);
	dr_arena_free(a);
}

static void test_corrupt_fields(void **state)
{
	(void)state;
	static const struct {
		const char *from, *to, *needle;
	} edits[] = {
		{"\"drover-sim-state\"", "\"something-else\"", "format"},
		{"\"version\":1", "\"version\":99", "version"},
		{"\"state\":\"failed_over\"", "\"state\":\"flying\"", "items[0].state"},
		{"\"state\":\"failed_over\"", "\"state\":5", "expected a string"},
		{"\"item\":\"vm-1\"", "\"item\":\"vm-9\"", "jobs[0].item"},
		{"\"task\":\"create_vm\"", "\"task\":\"make_coffee\"", "unknown task"},
		{"\"phase\":", "\"phase\":0.5, \"x\":", "expected an integer"},
		{"\"items\":[", "\"items\":{\"a\": [", NULL},
		{"\"exists\":true", "\"exists\":\"yes\"", "exists"},
	};
	dr_arena *a = dr_arena_new();
	dr_be_error err;
	dr_backend *be = open_file(a, false, &err);
	int64_t t = T0;
	sim_run(be, a, &t, DR_BE_OP_FAILOVER, "vm-1");
	dr_backend_close(be);
	char *full = read_text(path);
	for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
		char *at = strstr(full, edits[i].from);
		if (!at)
			fail_msg("edit %zu: '%s' not in the state file", i, edits[i].from);
		size_t n = strlen(full) + strlen(edits[i].to) + 1;
		char *text = malloc(n);
		snprintf(text, n, "%.*s%s%s", (int)(at - full), full, edits[i].to, at + strlen(edits[i].from));
		dr_arena *scratch = dr_arena_new();
		expect_corrupt(scratch, text, strlen(text), edits[i].needle);
		dr_arena_free(scratch);
		free(text);
	}
	expect_corrupt(a, "[1, 2]", 6, "not a JSON object");
	expect_corrupt(a, "\xff\xfe garbage", 10, "not valid JSON");
	/* reset ignores a corrupt file and starts afresh */
	dr_sim_opts o = {.state_path = path, .fresh = true};
	be = sim_open_opts(CFG, &o, a, NULL, &err);
	assert_non_null(be);
	assert_int_equal(sim_item(be, a, T0, "vm-1").state, DR_BE_ST_PROTECTED);
	dr_backend_close(be);
	be = open_file(a, false, &err);
	assert_non_null(be);
	dr_backend_close(be);
	free(full);
	dr_arena_free(a);
}

/* The inventory grows: known VMs keep their state, new ones join as Protected. */
static void test_inventory_changes_keep_state(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_be_error err;
	dr_backend *be = open_file(a, false, &err);
	int64_t t = T0;
	sim_run(be, a, &t, DR_BE_OP_FAILOVER, "vm-1");
	dr_backend_close(be);
	dr_sim_opts o = {.state_path = path};
	be = sim_open_opts("{kind: sim, vms: [{name: vm-1, tags: {tier: db}}, {name: vm-3}]}", &o, a, NULL, &err);
	assert_non_null(be);
	dr_be_item *items;
	size_t n;
	assert_int_equal(dr_backend_list_items(be, a, t, &items, &n, &err), 0);
	assert_int_equal(n, 3); /* vm-2 stays: the vault still protects it */
	assert_int_equal(items[0].state, DR_BE_ST_FAILED_OVER);
	assert_int_equal(items[0].n_tags, 1);
	assert_string_equal(items[2].name, "vm-3");
	assert_int_equal(items[2].state, DR_BE_ST_PROTECTED);
	assert_true(items[2].primary_vm.exists);
	dr_be_point *pts;
	assert_int_equal(dr_backend_list_points(be, a, t, "vm-3", &pts, &n, &err), 0);
	assert_true(n >= 288);
	dr_backend_close(be);
	dr_arena_free(a);
}

/* Any 64-bit seed survives the file; a runbook without a seed keeps the file's. */
static void test_seed_round_trip(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_be_error err;
	dr_sim_opts o = {.state_path = path};
	dr_backend *be = sim_open_opts("{kind: sim, seed: -1, vms: [{name: vm-1}]}", &o, a, NULL, &err);
	assert_non_null(be);
	assert_true(dr_sim_seed(be) == UINT64_MAX);
	dr_sim_time(be, T0);
	dr_backend_close(be);
	be = sim_open_opts("{kind: sim, vms: [{name: vm-1}]}", &o, a, NULL, &err);
	assert_non_null(be);
	assert_true(dr_sim_seed(be) == UINT64_MAX);
	dr_backend_close(be);
	be = sim_open_opts("{kind: sim, seed: 3, vms: [{name: vm-1}]}", &o, a, NULL, &err);
	assert_int_equal(dr_sim_seed(be), 3);
	dr_backend_close(be);
	dr_arena_free(a);
}

/* dr_sim_check: the options' mistakes, no state file touched. */
/* What the emulator needs of the sim: its vault in ids, --speed, activity ids kept across invocations, jobs by item and time. */
static void test_emulator_face(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_be_error err;
	dr_be_started st;
	dr_sim_opts o = {.state_path = path, .subscription = "11111111-2222-3333-4444-555555555555",
			 .resource_group = "rg-dr", .vault = "vault-dr", .job_speed = 60};
	dr_backend *be = sim_open_opts(CFG, &o, a, NULL, &err);
	assert_non_null(be);
	assert_string_equal(dr_sim_vault_id(be), "/Subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/"
						  "rg-dr/providers/Microsoft.RecoveryServices/vaults/vault-dr");
	int64_t t = T0;
	dr_be_request req = {.op = DR_BE_OP_FAILOVER, .item_id = "vm-1", .idempotency_key = "k1"};
	assert_int_equal(dr_sim_start(be, a, t, &req, "req-1", &st, &err), 0);
	assert_non_null(strstr(st.job_id, "/vaults/vault-dr/replicationJobs/"));
	dr_be_job j = sim_wait(be, a, &t, st.job_id);
	assert_true(t - T0 < 20000); /* 3-8 minutes at 60 times the speed */
	dr_be_item it = sim_item(be, a, t, "vm-1");
	assert_non_null(strstr(it.id, "/Subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/rg-dr/"));
	assert_non_null(strstr(it.recovery_vm.id, "/subscriptions/11111111-2222-3333-4444-555555555555/"));
	assert_true(it.recovery_vm.health == DR_BE_HEALTH_BOOTING || t - j.end_ms >= 500);
	req = (dr_be_request){.op = DR_BE_OP_TEST_FAILOVER, .item_id = "vm-2", .idempotency_key = "k2", .network = "n"};
	assert_int_equal(dr_sim_start(be, a, t + 1000, &req, NULL, &st, &err), 0);
	dr_backend_close(be);

	be = open_file(a, true, &err);
	assert_non_null(be);
	const char *job1 = j.id + strlen(j.id) - 36;
	assert_string_equal(dr_sim_job_activity(be, a, job1), "req-1");
	assert_string_equal(dr_sim_job_activity(be, a, st.job_id), "");
	assert_null(dr_sim_job_activity(be, a, "no-such-job"));
	dr_be_job *jobs;
	size_t n;
	dr_be_job_filter f = {.item_id = "vm-2", .since_ms = -1};
	assert_int_equal(dr_backend_list_jobs(be, a, t + 2000, &f, &jobs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(jobs[0].item_name, "vm-2");
	f = (dr_be_job_filter){.since_ms = t + 500};
	assert_int_equal(dr_backend_list_jobs(be, a, t + 2000, &f, &jobs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(jobs[0].op, DR_BE_OP_TEST_FAILOVER);
	f = (dr_be_job_filter){.since_ms = T0};
	assert_int_equal(dr_backend_list_jobs(be, a, t + 2000, &f, &jobs, &n, &err), 0);
	assert_int_equal(n, 2);
	dr_backend_close(be);
	dr_arena_free(a);
}

static void test_check_options(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_diags *d = dr_diags_new();
	const char *yaml = "{kind: sim, vms: [{name: x}, {name: x}], faults: [{kind: slow, factor: 0}]}";
	dr_node *cfg = dr_load_string(a, d, "c.yaml", yaml, strlen(yaml), NULL);
	assert_int_equal(dr_sim_check(cfg, ".", d), 2);
	assert_int_equal(access(path, F_OK), -1);
	dr_diags_free(d);
	dr_arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_round_trip_across_invocations, setup),
		cmocka_unit_test_setup(test_time_continues_across_invocations, setup),
		cmocka_unit_test_setup(test_lock_and_read_only, setup),
		cmocka_unit_test_setup(test_lock_names_holder, setup),
		cmocka_unit_test_setup(test_missing_folder, setup),
		cmocka_unit_test_setup(test_torn_state_files, setup),
		cmocka_unit_test_setup(test_corrupt_fields, setup),
		cmocka_unit_test_setup(test_inventory_changes_keep_state, setup),
		cmocka_unit_test_setup(test_seed_round_trip, setup),
		cmocka_unit_test_setup(test_check_options, setup),
		cmocka_unit_test_setup(test_emulator_face, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
