/*
 * test_sim_log.c - the simulator's change log (backends/sim_log.c): the
 * state replayed from a snapshot and its log is the state a writer had in
 * memory; a flush appends what changed, not the estate; snapshots come when
 * the log outgrows the state; a torn tail is left out, a damaged line before
 * a commit is an error, a log older than its snapshot (a kill between the
 * two) and a log beside an older drover's state file are never applied.
 * Kills inside the saves are in the crash-torture test (tests/torture).
 */
#include "fixture.h"
#include "test_sim_helpers.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util/arena.h"
#include "util/buf.h"
#include "util/fs.h"

static const char *dir; /* each test's own (fixture.h) */
static char path[128], logp[160];

static int setup(void **state)
{
	(void)state;
	dir = fx_newdir();
	snprintf(path, sizeof path, "%s/a/sim-state.json", dir);
	assert_int_equal(dr_fs_mkdirs_parent(path, NULL), 0); /* a state file's folder is its owner's to make */
	snprintf(logp, sizeof logp, "%s.changes", path);
	return 0;
}

#define CFG3                                                                                                          \
	"{kind: sim, seed: 9, vms: [{name: vm-1, tags: {tier: db}}, {name: vm-2}, {name: vm-3}],"                     \
	" faults: [{kind: fail, op: commit, vms: [vm-2], times: 1}, {kind: suspend, op: test_failover, vms: [vm-3]}]}"

static dr_backend *open_at(const char *cfg, const char *p, bool read_only, dr_arena *a, dr_be_error *err)
{
	dr_sim_opts o = {.state_path = p, .read_only = read_only};
	return sim_open_opts(cfg, &o, a, NULL, err);
}

static char *slurp(const char *p)
{
	dr_buf b;
	dr_buf_init(&b);
	assert_int_equal(dr_fs_read_all(p, 0, &b), 0);
	return dr_buf_detach(&b);
}

static void put_file(const char *p, const char *text)
{
	assert_int_equal(dr_fs_write_atomic(p, text, strlen(text), 0, NULL), 0);
}

static void append_file(const char *p, const char *text)
{
	FILE *f = fopen(p, "ab");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static off_t size_of(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? st.st_size : -1;
}

static ino_t inode_of(const char *p)
{
	struct stat st;
	assert_int_equal(stat(p, &st), 0);
	return st.st_ino;
}

/* The state file at p as a snapshot writes it, without its epoch (a writer's session on it). */
static cJSON *snapshot_json(const char *cfg, const char *p, dr_arena *a)
{
	dr_be_error err;
	dr_backend *be = open_at(cfg, p, false, a, &err);
	assert_non_null(be);
	assert_int_equal(dr_sim_save(be, a, &err), 0);
	dr_backend_close(be);
	char *text = slurp(p);
	cJSON *root = cJSON_Parse(text);
	free(text);
	assert_non_null(root);
	assert_non_null(cJSON_GetObjectItem(root, "epoch"));
	cJSON_DeleteItemFromObject(root, "epoch");
	return root;
}

static size_t audit_count(const char *cfg, const char *p, dr_arena *a)
{
	dr_be_error err;
	dr_backend *be = open_at(cfg, p, true, a, &err);
	assert_non_null(be);
	dr_sim_audit_rec *recs;
	size_t n = dr_sim_audit(be, a, &recs);
	dr_backend_close(be);
	return n;
}

static void copy_file(const char *from, const char *to)
{
	char *text = slurp(from);
	put_file(to, text);
	free(text);
}

/* Every kind of change, over flushes, snapshots among them: the replayed state is the writer's. */
static void test_replay_is_the_writers_state(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_be_error err;
	int64_t t = T0;
	dr_backend *be = open_at(CFG3, path, false, a, &err);
	assert_non_null(be);
	dr_be_job j = sim_run(be, a, &t, DR_BE_OP_FAILOVER, "vm-1");
	assert_int_equal(j.state, DR_BE_JOB_SUCCEEDED);
	assert_int_equal(dr_backend_flush(be, a, &err), 0);
	assert_non_null(sim_start(be, a, t, DR_BE_OP_FAILOVER, "vm-2", "k-fo-2", &err)); /* running at the flush */
	assert_int_equal(dr_backend_flush(be, a, &err), 0);
	dr_backend_close(be);

	/* a second session: the job ends, a refusal counts a fault hit, a suspended job is resumed */
	be = open_at(CFG3, path, false, a, &err);
	assert_non_null(be);
	t += 2 * HOUR;
	assert_null(sim_start(be, a, t, DR_BE_OP_COMMIT, "vm-2", "k-c-2", &err)); /* the fault, once */
	assert_int_equal(dr_backend_flush(be, a, &err), 0);
	const char *tfo = sim_start(be, a, t, DR_BE_OP_TEST_FAILOVER, "vm-3", "k-tfo-3", &err);
	assert_non_null(tfo);
	assert_int_equal(dr_backend_flush(be, a, &err), 0);
	t += 10 * MINUTE;
	dr_be_job tj;
	assert_int_equal(dr_backend_get_job(be, a, t, tfo, &tj, &err), 0);
	assert_int_equal(tj.state, DR_BE_JOB_SUSPENDED);
	assert_int_equal(dr_sim_resume_job(be, a, t, tfo, &err), 0);
	assert_non_null(sim_start(be, a, t, DR_BE_OP_COMMIT, "vm-1", "k-c-1", &err));
	assert_int_equal(dr_backend_flush(be, a, &err), 0);
	/* the files as a kill here would leave them, then the writer's own snapshot */
	char copy[160], copy_log[176];
	snprintf(copy, sizeof copy, "%s/b/sim-state.json", dir);
	*strrchr(copy, '/') = '\0';
	fx_remake(copy); /* the copies' folder */
	copy[strlen(copy)] = '/';
	snprintf(copy_log, sizeof copy_log, "%s.changes", copy);
	assert_true(size_of(logp) > 0); /* the last flushes were appended */
	copy_file(path, copy);
	copy_file(logp, copy_log);
	assert_int_equal(dr_sim_save(be, a, &err), 0);
	dr_backend_close(be);
	char *text = slurp(path);
	cJSON *mine = cJSON_Parse(text);
	free(text);
	cJSON_DeleteItemFromObject(mine, "epoch");
	cJSON *replayed = snapshot_json(CFG3, copy, a);
	char *m = cJSON_Print(mine), *r = cJSON_Print(replayed);
	assert_string_equal(r, m);
	free(m);
	free(r);
	cJSON_Delete(mine);
	cJSON_Delete(replayed);
	dr_arena_free(a);
}

static char *estate(int n)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_puts(&b, "{kind: sim, seed: 3, vms: [");
	for (int i = 0; i < n; i++)
		dr_buf_printf(&b, "%s{name: vm-%d}", i ? ", " : "", i);
	dr_buf_puts(&b, "]}");
	return dr_buf_detach(&b);
}

/* A flush appends what changed; the state file is rewritten only when the log outgrows it. */
static void test_flush_costs_what_changed(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_be_error err;
	char *cfg = estate(60);
	dr_backend *be = open_at(cfg, path, false, a, &err);
	assert_non_null(be);
	int64_t t = T0;
	assert_non_null(sim_start(be, a, t, DR_BE_OP_FAILOVER, "vm-0", "fo-0", &err));
	assert_int_equal(dr_backend_flush(be, a, &err), 0); /* no state yet: the first save is a snapshot */
	assert_int_equal(size_of(logp), 0);
	off_t state0 = size_of(path);
	assert_true(state0 > 30000);
	ino_t ino = inode_of(path);
	int snapshots = 0;
	char name[32], key[32];
	for (int i = 1; i < 60; i++) {
		snprintf(name, sizeof name, "vm-%d", i);
		snprintf(key, sizeof key, "fo-%d", i);
		off_t before = size_of(logp);
		assert_non_null(sim_start(be, a, t, DR_BE_OP_FAILOVER, name, key, &err));
		assert_int_equal(dr_backend_flush(be, a, &err), 0);
		off_t state_now = size_of(path), log_now = size_of(logp);
		if (inode_of(path) != ino) {
			snapshots++;
			ino = inode_of(path);
			assert_int_equal(log_now, 0); /* a snapshot starts an empty log */
		} else {
			/* one VM, its job and one audit record: a few KB, whatever the estate */
			assert_true(log_now - before > 0 && log_now - before < 4096);
		}
		assert_true(log_now <= state_now);
		t += MINUTE;
	}
	/* 60 groups of ~1.5 KB against a ~40-60 KB state: a snapshot every ~30 flushes */
	assert_in_range(snapshots, 1, 4);
	dr_backend_close(be);
	assert_int_equal(audit_count(cfg, path, a), 60);
	free(cfg);
	dr_arena_free(a);
}

/* A session with a group in the log: the sizes before and after it. */
static void one_group(dr_arena *a, const char *item, const char *key)
{
	dr_be_error err;
	dr_backend *be = open_at(CFG3, path, false, a, &err);
	assert_non_null(be);
	assert_non_null(sim_start(be, a, T0, DR_BE_OP_FAILOVER, item, key, &err));
	assert_int_equal(dr_backend_flush(be, a, &err), 0);
	dr_backend_close(be);
}

/* Lines after the last commit (a kill in mid-group, or before its sync) are left out. */
static void test_torn_tail(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	one_group(a, "vm-1", "fo-1"); /* the first save: a snapshot */
	one_group(a, "vm-2", "fo-2"); /* a group */
	assert_true(size_of(logp) > 0);
	assert_int_equal(audit_count(CFG3, path, a), 2);
	/* an uncommitted group (whole lines, no commit) and a torn line */
	append_file(logp, "{\"audit\":{\"time\":1767225600000,\"op\":\"failover\",\"item\":\"vm-3\",\"key\":\"x\","
			  "\"result\":\"accepted\",\"job\":null,\"code\":null}}\n{\"item\":{\"name\":\"vm-3\",\"sta");
	assert_int_equal(audit_count(CFG3, path, a), 2);
	/* zeros that never reached the disk */
	append_file(logp, "\n");
	FILE *f = fopen(logp, "ab");
	for (int i = 0; i < 100; i++)
		fputc(0, f);
	fclose(f);
	assert_int_equal(audit_count(CFG3, path, a), 2);
	/* a writer rewrites the state before it appends: nothing follows the torn tail */
	ino_t ino = inode_of(path);
	one_group(a, "vm-3", "fo-3");
	assert_true(inode_of(path) != ino);
	char *text = slurp(logp);
	assert_null(strstr(text, "\"key\":\"x\""));
	free(text);
	assert_int_equal(audit_count(CFG3, path, a), 3);
	dr_arena_free(a);
}

/* A line that cannot be read, followed by a commit, is damage a crash cannot cause: an error. */
static void test_corrupt_line(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_be_error err;
	one_group(a, "vm-1", "fo-1");
	one_group(a, "vm-2", "fo-2");
	char *text = slurp(logp);
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_puts(&b, "{\"item\": garbage\n");
	dr_buf_puts(&b, text);
	put_file(logp, b.data);
	assert_null(open_at(CFG3, path, true, a, &err));
	assert_string_equal(err.code, "StateFileCorrupt");
	assert_non_null(strstr(err.message, "sim-state.json.changes' is corrupt: line 1"));
	/* an element the log does not write, in a committed group */
	const char *commit = strstr(text, "{\"commit\"");
	assert_non_null(commit);
	dr_buf_reset(&b);
	dr_buf_puts(&b, "{\"item\":{\"name\":\"vm-1\",\"state\":\"no_such_state\"}}\n");
	dr_buf_puts(&b, commit);
	put_file(logp, b.data);
	assert_null(open_at(CFG3, path, true, a, &err));
	assert_string_equal(err.code, "StateFileCorrupt");
	assert_non_null(strstr(err.message, "line 1: item."));
	dr_buf_dispose(&b);
	free(text);
	dr_arena_free(a);
}

/* A kill after a snapshot and before its log was emptied: the old log's groups are never applied. */
static void test_stale_log_after_snapshot(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_be_error err;
	one_group(a, "vm-1", "fo-1");
	one_group(a, "vm-2", "fo-2");
	char old_log[176];
	snprintf(old_log, sizeof old_log, "%s.old", logp);
	copy_file(logp, old_log);
	dr_backend *be = open_at(CFG3, path, false, a, &err);
	assert_int_equal(dr_sim_save(be, a, &err), 0); /* snapshot: a new epoch */
	dr_backend_close(be);
	copy_file(old_log, logp); /* as if killed before the log was replaced */
	assert_int_equal(audit_count(CFG3, path, a), 2); /* not 3: fo-2's group is in the snapshot already */
	ino_t ino = inode_of(path);
	one_group(a, "vm-3", "fo-3"); /* the writer snapshots before appending to a stale log */
	assert_true(inode_of(path) != ino);
	assert_int_equal(audit_count(CFG3, path, a), 3);
	dr_arena_free(a);
}

/* A state file of an older drover (no epoch) loads; a log beside it is not its own and is ignored. */
static void test_older_state_file(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_be_error err;
	one_group(a, "vm-1", "fo-1");
	one_group(a, "vm-2", "fo-2");
	dr_backend *be = open_at(CFG3, path, false, a, &err);
	assert_int_equal(dr_sim_save(be, a, &err), 0);
	dr_backend_close(be);
	char *text = slurp(path);
	cJSON *root = cJSON_Parse(text);
	free(text);
	cJSON_DeleteItemFromObject(root, "epoch");
	text = cJSON_PrintUnformatted(root);
	put_file(path, text);
	free(text);
	cJSON_Delete(root);
	assert_int_equal(size_of(logp), 0);
	assert_int_equal(audit_count(CFG3, path, a), 2);
	ino_t ino = inode_of(path);
	one_group(a, "vm-3", "fo-3"); /* its first save gives it an epoch: a snapshot */
	assert_true(inode_of(path) != ino);
	one_group(a, "vm-3", "fo-3"); /* replayed: appended to its log */
	assert_true(size_of(logp) > 0);
	assert_int_equal(audit_count(CFG3, path, a), 4);
	dr_arena_free(a);
}

/* `sim reset` without a runbook removes the state and its log. */
static void test_remove_state_and_log(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_be_error err;
	one_group(a, "vm-1", "fo-1");
	one_group(a, "vm-2", "fo-2");
	assert_true(size_of(logp) > 0);
	assert_int_equal(dr_sim_remove_state(path, a, &err), 0);
	assert_int_equal(size_of(path), -1);
	assert_int_equal(size_of(logp), -1);
	/* a fresh start (sim reset RUNBOOK) ignores an old log: its first save is a snapshot */
	one_group(a, "vm-1", "fo-1");
	one_group(a, "vm-2", "fo-2");
	dr_sim_opts o = {.state_path = path, .fresh = true};
	dr_backend *be = sim_open_opts(CFG3, &o, a, NULL, &err);
	assert_non_null(be);
	dr_backend_close(be);
	assert_int_equal(size_of(logp), 0);
	assert_int_equal(audit_count(CFG3, path, a), 0);
	dr_arena_free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_replay_is_the_writers_state, setup),
		cmocka_unit_test_setup(test_flush_costs_what_changed, setup),
		cmocka_unit_test_setup(test_torn_tail, setup),
		cmocka_unit_test_setup(test_corrupt_line, setup),
		cmocka_unit_test_setup(test_stale_log_after_snapshot, setup),
		cmocka_unit_test_setup(test_older_state_file, setup),
		cmocka_unit_test_setup(test_remove_state_and_log, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
