/*
 * test_history.c - the duration history (history.h) and the order it gives
 * ready tasks (order.c; docs/execution.md, "Order").
 *
 *   - the file: round trip, the mean, key order, the size bound, atomic
 *     replacement (no temporary left), merges under the lock;
 *   - a bad file (missing, not JSON, cut off, foreign, malformed entries,
 *     a newer version, random damage) is ignored with a warning, never a
 *     crash; a newer version is never overwritten;
 *   - in a run: a first run learns each VM's duration, a second starts the
 *     longest expected first (unknown VMs before all), keeps the slots'
 *     last turn for the VMs with least left to do after them, and
 *     `order: declared`, --order and a history that is off change nothing;
 *     secrets never reach the file.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "run/exec.h"
#include "journal/history.h"
#include "util/fs.h"
#include "front/runbook.h"
#include "fixture.h"

/* --- fixtures ---------------------------------------------------------- */

static const char *dir; /* each test's own (fixture.h) */

static int setup(void **state)
{
	(void)state;
	dir = fx_newdir();
	return 0;
}

static char *path_of(const char *name)
{
	static char p[4][128];
	static int i;
	i = (i + 1) % 4;
	snprintf(p[i], sizeof p[i], "%s/%s", dir, name);
	return p[i];
}

static void write_file(const char *path, const char *text, size_t n)
{
	FILE *f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, n, f), n);
	fclose(f);
}

static char *read_file(const char *path)
{
	dr_buf b;
	dr_buf_init(&b);
	if (dr_fs_read_all(path, 0, &b) < 0) {
		dr_buf_dispose(&b);
		return NULL;
	}
	return dr_buf_detach(&b);
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* Load path; the return code, the warning (heap) in *warn. */
static int load(dr_history *h, const char *path, char **warn)
{
	dr_buf w;
	dr_buf_init(&w);
	int rc = dr_history_load(h, path, &w);
	*warn = dr_buf_detach(&w);
	return rc;
}

/* --- the file ----------------------------------------------------------- */

static void test_round_trip(void **state)
{
	(void)state;
	dr_history *h = dr_history_new();
	dr_history_note(h, "dr.failover", "vm-2", 300000);
	dr_history_note(h, "dr.failover", "vm-1", 100000);
	dr_history_note(h, "dr.failover", "vm-1", 200000); /* 0.3 * 200000 + 0.7 * 100000 */
	dr_history_note(h, "dr.probe", "vm \"quoted\"\n", 45000);
	assert_int_equal(dr_history_expect(h, "dr.failover", "vm-1"), 130000);
	assert_int_equal(dr_history_expect(h, "dr.failover", "vm-3"), -1);
	assert_int_equal(dr_history_expect(h, "dr.probe", "vm-1"), -1);
	dr_buf err;
	dr_buf_init(&err);
	char *p = path_of("sub/dir/history.json");
	dr_history *none = dr_history_new();
	assert_int_equal(dr_history_save(none, p, &err), -1); /* its folder is made by its owner (merge's lock), not here */
	dr_history_free(none);
	assert_non_null(strstr(err.data, "cannot be written"));
	assert_false(exists(path_of("sub")));
	dr_buf_reset(&err);
	fx_remake(path_of("sub/dir"));
	assert_int_equal(dr_history_save(h, p, &err), 0);
	assert_int_equal(err.len, 0);
	dr_buf_dispose(&err);
	dr_history_free(h);

	h = dr_history_new();
	char *warn;
	assert_int_equal(load(h, p, &warn), 0);
	assert_string_equal(warn, "");
	free(warn);
	assert_int_equal(dr_history_count(h), 3);
	const dr_history_entry *e = dr_history_at(h, 0); /* key order: action, then VM */
	assert_string_equal(e->action, "dr.failover");
	assert_string_equal(e->vm, "vm-1");
	assert_int_equal(e->ewma_ms, 130000);
	assert_int_equal(e->last_ms, 200000);
	assert_int_equal(e->n, 2);
	assert_int_equal(e->seen, 1);
	assert_string_equal(dr_history_at(h, 1)->vm, "vm-2");
	assert_string_equal(dr_history_at(h, 2)->vm, "vm \"quoted\"\n");
	assert_int_equal(dr_history_expect(h, "dr.probe", "vm \"quoted\"\n"), 45000);

	/* saving what was read writes the same entries, one update later */
	char *before = read_file(p);
	dr_buf_init(&err);
	assert_int_equal(dr_history_save(h, p, &err), 0);
	dr_buf_dispose(&err);
	char *after = read_file(p);
	assert_non_null(strstr(before, "\"updates\":1,"));
	assert_non_null(strstr(after, "\"updates\":2,"));
	assert_string_equal(strstr(before, "\"durations\""), strstr(after, "\"durations\""));
	free(before);
	free(after);
	dr_history_free(h);
}

static void test_missing_file_is_empty(void **state)
{
	(void)state;
	dr_history *h = dr_history_new();
	char *warn;
	assert_int_equal(load(h, path_of("nothing-here.json"), &warn), 0);
	assert_string_equal(warn, "");
	assert_int_equal(dr_history_count(h), 0);
	free(warn);
	dr_history_free(h);
}

/* Each bad file: ignored (-1, empty) with a warning naming the file, or partly read (1). */
static void test_bad_files_are_ignored(void **state)
{
	(void)state;
	static const struct {
		const char *text, *says;
		int rc;
	} cases[] = {
		{"", "not valid JSON", -1},
		{"{\"format\":\"drover-history\",\"version\":1,\"upd", "not valid JSON", -1},
		{"[1, 2, 3]", "not a drover duration history", -1},
		{"{\"format\":\"drover-journal\",\"version\":1}", "not a drover duration history", -1},
		{"{\"format\":\"drover-history\"}", "not a drover duration history", -1},
		{"{\"format\":\"drover-history\",\"version\":\"1\"}", "not a drover duration history", -1},
		{"{\"format\":\"drover-history\",\"version\":1,\"updates\":1}", "is damaged", -1},
		{"{\"format\":\"drover-history\",\"version\":1,\"updates\":-1,\"durations\":{}}", "is damaged", -1},
		{"{\"format\":\"drover-history\",\"version\":1,\"updates\":2,\"durations\":[]}", "is damaged", -1},
		{"{\"format\":\"drover-history\",\"version\":1,\"updates\":2,\"durations\":{\"a\":{"
		 "\"vm-1\":{\"ewma_ms\":5,\"last_ms\":5,\"n\":1,\"seen\":1},"
		 "\"vm-2\":{\"ewma_ms\":-5,\"last_ms\":5,\"n\":1,\"seen\":1},"
		 "\"vm-3\":{\"ewma_ms\":5.5,\"last_ms\":5,\"n\":1,\"seen\":1},"
		 "\"vm-4\":{\"ewma_ms\":5,\"last_ms\":5,\"n\":0,\"seen\":1},"
		 "\"vm-5\":{\"ewma_ms\":\"5\",\"last_ms\":5,\"n\":1,\"seen\":1},"
		 "\"vm-6\":[]},\"b\":7}}",
		 "6 malformed entries left out", 1},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *p = path_of("bad.json");
		write_file(p, cases[i].text, strlen(cases[i].text));
		dr_history *h = dr_history_new();
		dr_history_note(h, "x", "y", 1); /* replaced by what is read */
		char *warn;
		assert_int_equal(load(h, p, &warn), cases[i].rc);
		if (!strstr(warn, cases[i].says) || !strstr(warn, p))
			fail_msg("case %zu: warning '%s' does not say '%s'", i, warn, cases[i].says);
		assert_int_equal(dr_history_count(h), cases[i].rc < 0 ? 0 : 1);
		assert_false(dr_history_read_only(h));
		free(warn);
		dr_history_free(h);
	}
}

/* Random damage to a good file: never a crash (ASan watches), always a usable history. */
static void test_random_damage(void **state)
{
	(void)state;
	dr_history *h = dr_history_new();
	for (int i = 0; i < 20; i++) {
		char vm[16];
		snprintf(vm, sizeof vm, "vm-%d", i);
		dr_history_note(h, i % 2 ? "dr.probe" : "dr.failover", vm, 1000 * i);
	}
	dr_buf err;
	dr_buf_init(&err);
	char *p = path_of("good.json");
	assert_int_equal(dr_history_save(h, p, &err), 0);
	dr_buf_dispose(&err);
	dr_history_free(h);
	char *good = read_file(p);
	size_t n = strlen(good);
	uint64_t seed = 42;
	for (int round = 0; round < 500; round++) {
		char *bad = malloc(n + 1);
		memcpy(bad, good, n + 1);
		size_t len = n;
		for (int k = 0; k < 1 + round % 5; k++) {
			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			size_t at = (size_t)(seed >> 33) % n;
			if (round % 3 == 0)
				bad[at] = (char)(seed >> 24);
			else if (round % 3 == 1)
				len = at; /* cut off */
			else
				bad[at] = "{}[],:\"0-e"[(seed >> 20) % 10];
		}
		char *q = path_of("damaged.json");
		write_file(q, bad, len);
		dr_history *d = dr_history_new();
		char *warn;
		int rc = load(d, q, &warn);
		assert_true(rc >= -1 && rc <= 1);
		assert_true(rc == 0 || *warn);
		for (size_t i = 0; i < dr_history_count(d); i++)
			assert_true(dr_history_at(d, i)->ewma_ms >= 0);
		free(warn);
		dr_history_free(d);
		free(bad);
	}
	free(good);
}

static void test_newer_version_is_left_alone(void **state)
{
	(void)state;
	const char *text = "{\"format\":\"drover-history\",\"version\":2,\"everything\":\"else\"}";
	char *p = path_of("newer.json");
	write_file(p, text, strlen(text));
	dr_history *h = dr_history_new();
	char *warn;
	assert_int_equal(load(h, p, &warn), -1);
	assert_non_null(strstr(warn, "version 2, newer"));
	assert_true(dr_history_read_only(h));
	free(warn);
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_history_save(h, p, &err), -1);
	dr_buf_dispose(&err);
	dr_history_free(h);

	const char *actions[] = {"dr.failover"}, *vms[] = {"vm-1"};
	int64_t ms[] = {5};
	dr_buf w;
	dr_buf_init(&w);
	assert_int_equal(dr_history_merge(p, actions, vms, ms, 1, &w), -1);
	assert_non_null(strstr(w.data, "newer format version"));
	dr_buf_dispose(&w);
	char *now = read_file(p);
	assert_string_equal(now, text); /* untouched */
	free(now);
}

static void test_merge(void **state)
{
	(void)state;
	char *p = path_of("merged.json");
	const char *actions[] = {"dr.failover", "dr.failover", "dr.probe"}, *vms[] = {"vm-1", "vm-1", "vm-2"};
	int64_t ms[] = {100, 200, 50};
	dr_buf w;
	dr_buf_init(&w);
	assert_int_equal(dr_history_merge(p, actions, vms, ms, 3, &w), 0);
	assert_int_equal(dr_history_merge(p, actions + 2, vms + 2, ms + 2, 1, &w), 0);
	assert_int_equal(w.len, 0);
	dr_buf_dispose(&w);
	dr_history *h = dr_history_new();
	char *warn;
	assert_int_equal(load(h, p, &warn), 0);
	free(warn);
	const dr_history_entry *e = dr_history_get(h, "dr.failover", "vm-1");
	assert_non_null(e);
	assert_int_equal(e->n, 2);
	assert_int_equal(e->ewma_ms, 130);
	assert_int_equal(e->seen, 1);
	e = dr_history_get(h, "dr.probe", "vm-2");
	assert_int_equal(e->n, 2);
	assert_int_equal(e->seen, 2);
	dr_history_free(h);

	/* a damaged file is kept aside, then replaced */
	write_file(p, "{garbage", 8);
	dr_buf_init(&w);
	assert_int_equal(dr_history_merge(p, actions, vms, ms, 1, &w), 0);
	assert_non_null(strstr(w.data, "kept as"));
	dr_buf_dispose(&w);
	char *bad = read_file(path_of("merged.json.bad"));
	assert_string_equal(bad, "{garbage");
	free(bad);
	h = dr_history_new();
	assert_int_equal(load(h, p, &warn), 0);
	free(warn);
	assert_int_equal(dr_history_expect(h, "dr.failover", "vm-1"), 100);
	dr_history_free(h);

	/* nothing temporary is left beside it */
	DIR *d = opendir(dir);
	assert_non_null(d);
	for (struct dirent *de; (de = readdir(d));)
		if (strstr(de->d_name, "tmp"))
			fail_msg("left beside it: %s", de->d_name);
	closedir(d);
}

static void test_size_is_bounded(void **state)
{
	(void)state;
	dr_history *h = dr_history_new();
	char vm[32];
	for (int i = 0; i < DR_HISTORY_MAX_ENTRIES; i++) {
		snprintf(vm, sizeof vm, "old-%05d", i);
		dr_history_note(h, "dr.failover", vm, i);
	}
	dr_buf err;
	dr_buf_init(&err);
	char *p = path_of("big.json");
	assert_int_equal(dr_history_save(h, p, &err), 0); /* update 1: all of them */
	for (int i = 0; i < 10; i++) {
		snprintf(vm, sizeof vm, "new-%d", i);
		dr_history_note(h, "dr.failover", vm, i);
	}
	snprintf(vm, sizeof vm, "old-%05d", 7);
	dr_history_note(h, "dr.failover", vm, 7); /* seen again: kept */
	assert_int_equal(dr_history_save(h, p, &err), 0); /* update 2: 10 of the old ones go */
	dr_buf_dispose(&err);
	dr_history_free(h);
	h = dr_history_new();
	char *warn;
	assert_int_equal(load(h, p, &warn), 0);
	free(warn);
	assert_int_equal(dr_history_count(h), DR_HISTORY_MAX_ENTRIES);
	assert_int_equal(dr_history_expect(h, "dr.failover", "new-9"), 9);
	assert_int_equal(dr_history_expect(h, "dr.failover", "old-00007"), 7);
	assert_int_equal(dr_history_expect(h, "dr.failover", "old-19989"), 19989); /* of the oldest, the last in key order go */
	assert_int_equal(dr_history_expect(h, "dr.failover", "old-19990"), -1);
	assert_int_equal(dr_history_expect(h, "dr.failover", "old-19999"), -1);
	dr_history_free(h);
}

/* --- in a run ------------------------------------------------------------- */

/* yaml compiled into r, with the options o (fixture.h's run). */
static void start(fx_run *r, const char *yaml, const dr_exec_opts *o)
{
	memset(r, 0, sizeof *r);
	r->rb = fx_compile(NULL, yaml);
	r->o = *o;
}

/* yaml run with o; asserts it succeeded. */
static void run_yaml(fx_run *r, const char *yaml, const dr_exec_opts *o)
{
	start(r, yaml, o);
	assert_int_equal(fx_run_exec(r), DR_RUN_SUCCEEDED);
}

/* The targets of step's task.start events, in order, as "a b c". */
static void start_order(const fx_run *r, const char *step, char *out, size_t n)
{
	out[0] = '\0';
	for (size_t i = 0; i < r->n; i++)
		if (fx_is(r->ev[i], "task.start", step, NULL)) {
			size_t len = strlen(out);
			snprintf(out + len, n - len, "%s%s", len ? " " : "", fx_str(r->ev[i], "target"));
		}
}

static void opts(dr_exec_opts *o, dr_history_use use)
{
	dr_exec_opts_init(o);
	o->clock = DR_CLOCK_VIRTUAL;
	o->state_dir = dir;
	o->history = use;
	setenv("DROVER_SIM_STATE", ":memory:", 1);
}

/* The check step's action: sleep under another name, so the history tells the two steps apart. */
static dr_action check_action;

/* Six VMs, two failover slots; each VM's failover sleeps its tag `took`, then its check (pipelined) `check`. */
#define RUNBOOK(defaults, order)                                                                       \
	"drover: 1\nname: order\n" defaults "backend:\n  kind: sim\n  vms:\n"                          \
	"    - { name: vm-1, tags: { took: 4m, check: 1m } }\n"                                         \
	"    - { name: vm-2, tags: { took: 2m, check: 1m } }\n"                                         \
	"    - { name: vm-3, tags: { took: 9m, check: 1m } }\n"                                         \
	"    - { name: vm-4, tags: { took: 2m, check: 8m } }\n"                                         \
	"    - { name: vm-5, tags: { took: 7m, check: 1m } }\n"                                         \
	"    - { name: vm-6, tags: { took: 5m, check: 1m } }\n"                                         \
	"vm_sets:\n  all: { match: { name: \"^vm-\" } }\n"                                               \
	"steps:\n  - id: failover\n    action: sleep\n    foreach: all\n    concurrency: 2\n" order     \
	"    with: { duration: \"${target.tags.took}\" }\n"                                             \
	"  - id: check\n    action: sleep\n    foreach: all\n    needs: failover\n    pipeline: true\n" \
	"    with: { duration: \"${target.tags.check}\" }\n"

/* yaml run with o, its step 'check' as test.check; asserts it succeeded. */
static void run_with_check(fx_run *r, const char *yaml, const dr_exec_opts *o)
{
	check_action = *dr_action_find("sleep");
	check_action.name = "test.check";
	start(r, yaml, o);
	dr_step *st = dr_runbook_step(r->rb, "check");
	assert_non_null(st);
	st->action = &check_action;
	assert_int_equal(fx_run_exec(r), DR_RUN_SUCCEEDED);
}

static double run_end_ms(const fx_run *r)
{
	const cJSON *end = fx_first(r, "run.end", NULL, NULL);
	assert_non_null(end);
	return fx_num(end, "elapsed_ms");
}

/* The learnt history without vm-6: the next run does not know it. */
static void forget_vm6(void)
{
	dr_history *h = dr_history_new(), *kept = dr_history_new();
	char *warn;
	assert_int_equal(load(h, path_of("history.json"), &warn), 0);
	free(warn);
	for (size_t i = 0; i < dr_history_count(h); i++)
		if (strcmp(dr_history_at(h, i)->vm, "vm-6") != 0)
			dr_history_set(kept, dr_history_at(h, i));
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_history_save(kept, path_of("history.json"), &err), 0);
	dr_buf_dispose(&err);
	dr_history_free(h);
	dr_history_free(kept);
}

static void test_learn_then_longest_first(void **state)
{
	(void)state;
	char order[128];
	fx_run r;
	dr_exec_opts o;
	opts(&o, DR_HISTORY_UPDATE);
	run_with_check(&r, RUNBOOK("", ""), &o);
	start_order(&r, "failover", order, sizeof order);
	assert_string_equal(order, "vm-1 vm-2 vm-3 vm-4 vm-5 vm-6"); /* no history: declared */
	assert_null(strstr(r.events, "\"order\":\""));
	assert_null(strstr(r.events, "expected_ms"));
	assert_int_equal(run_end_ms(&r), 17 * 60000);
	fx_run_free(&r);
	dr_history *h = dr_history_new();
	char *warn;
	assert_int_equal(load(h, path_of("history.json"), &warn), 0);
	free(warn);
	assert_int_equal(dr_history_expect(h, "sleep", "vm-3"), 9 * 60000);
	assert_int_equal(dr_history_expect(h, "test.check", "vm-4"), 8 * 60000);
	assert_int_equal(dr_history_count(h), 12);
	dr_history_free(h);

	/*
	 * vm-6 unknown: first. Then longest chain (failover + check) first, vm-3 and vm-4 (10m each) as
	 * declared, vm-5 (8m); and the two slots' last turns go to the VMs with least to do after their
	 * failover, of the shortest chains: vm-1 (5m), vm-2 (3m). Plain LPT on the failover alone would
	 * leave vm-4 (2m, then an 8m check) for last: 23m; the declared order takes 17m.
	 */
	forget_vm6();
	opts(&o, DR_HISTORY_READ);
	char *before = read_file(path_of("history.json"));
	run_with_check(&r, RUNBOOK("", ""), &o);
	start_order(&r, "failover", order, sizeof order);
	assert_string_equal(order, "vm-6 vm-3 vm-4 vm-5 vm-1 vm-2");
	assert_non_null(strstr(r.events, "\"step\":\"failover\",\"tasks\":6,\"order\":\"longest-first\",\"known\":5}"));
	assert_non_null(strstr(r.events, "\"target\":\"vm-3\",\"attempt\":1,\"expected_ms\":540000}"));
	assert_non_null(strstr(r.events, "\"target\":\"vm-6\",\"attempt\":1}"));
	assert_null(strstr(r.events, "\"step\":\"check\",\"tasks\":6,\"order\"")); /* unlimited: not ordered */
	assert_int_equal(run_end_ms(&r), 16 * 60000);
	fx_run_free(&r);
	char *after = read_file(path_of("history.json"));
	assert_string_equal(before, after); /* read only */
	free(before);
	free(after);
}

static void test_declared_order_wins(void **state)
{
	(void)state;
	char order[128];
	fx_run r;
	dr_exec_opts o;
	opts(&o, DR_HISTORY_UPDATE);
	run_with_check(&r, RUNBOOK("", ""), &o); /* learn */
	fx_run_free(&r);

	opts(&o, DR_HISTORY_READ);
	run_with_check(&r, RUNBOOK("defaults: { order: declared }\n", ""), &o);
	start_order(&r, "failover", order, sizeof order);
	assert_string_equal(order, "vm-1 vm-2 vm-3 vm-4 vm-5 vm-6");
	assert_int_equal(r.rb->default_order, DR_ORDER_DECLARED);
	fx_run_free(&r);

	run_with_check(&r, RUNBOOK("defaults: { order: declared }\n", "    order: longest-first\n"), &o);
	start_order(&r, "failover", order, sizeof order);
	assert_string_equal(order, "vm-3 vm-4 vm-5 vm-6 vm-1 vm-2"); /* vm-6 known now (6m chain) */
	fx_run_free(&r);

	o.order = DR_ORDER_DECLARED; /* drover run --order declared */
	run_with_check(&r, RUNBOOK("", "    order: longest-first\n"), &o);
	start_order(&r, "failover", order, sizeof order);
	assert_string_equal(order, "vm-1 vm-2 vm-3 vm-4 vm-5 vm-6");
	fx_run_free(&r);
}

/* DR_HISTORY_AUTO follows the journal: without one (unit tests, plan --estimate) no file is read or written. */
static void test_no_history_without_journal(void **state)
{
	(void)state;
	char order[128];
	fx_run r;
	dr_exec_opts o;
	opts(&o, DR_HISTORY_AUTO);
	run_with_check(&r, RUNBOOK("", ""), &o);
	fx_run_free(&r);
	assert_false(exists(path_of("history.json")));

	opts(&o, DR_HISTORY_UPDATE);
	run_with_check(&r, RUNBOOK("", ""), &o);
	fx_run_free(&r);
	assert_true(exists(path_of("history.json")));
	opts(&o, DR_HISTORY_OFF);
	run_with_check(&r, RUNBOOK("", ""), &o);
	start_order(&r, "failover", order, sizeof order);
	assert_string_equal(order, "vm-1 vm-2 vm-3 vm-4 vm-5 vm-6");
	fx_run_free(&r);
}

/*
 * A VM whose name is a secret's value is never written to the history. The
 * events name it (an identifier is never redacted: issue 10), and redact the
 * secret in free text.
 */
static void test_secrets_stay_out(void **state)
{
	(void)state;
	setenv("DROVER_TEST_HISTORY_SECRET", "hunter2-vm", 1);
	const char *yaml = "drover: 1\nname: secret\nbackend:\n  kind: sim\n  vms:\n"
			   "    - { name: hunter2-vm }\n    - { name: vm-1 }\n    - { name: vm-2 }\n"
			   "secrets:\n  tok: { env: DROVER_TEST_HISTORY_SECRET }\n"
			   "vm_sets:\n  all: { match: {} }\n"
			   "steps:\n  - id: login\n    action: log\n    with: { message: \"token ${secrets.tok}\" }\n"
			   "  - id: failover\n    action: sleep\n    foreach: all\n    needs: login\n"
			   "    with: { duration: 1m }\n";
	fx_run r;
	dr_exec_opts o;
	opts(&o, DR_HISTORY_UPDATE);
	run_yaml(&r, yaml, &o);
	assert_non_null(strstr(r.events, "\"message\":\"token ***\""));
	assert_non_null(strstr(r.events, "\"target\":\"hunter2-vm\""));
	fx_run_free(&r);
	char *text = read_file(path_of("history.json"));
	assert_non_null(text);
	assert_null(strstr(text, "hunter2"));
	assert_non_null(strstr(text, "\"vm-1\""));
	free(text);
	unsetenv("DROVER_TEST_HISTORY_SECRET");
}

/* A damaged history: a warning event, the declared order, and a fresh file at the end. */
static void test_damaged_history_in_a_run(void **state)
{
	(void)state;
	char order[128];
	write_file(path_of("history.json"), "{\"format\":\"drover-history\",\"vers", 33);
	fx_run r;
	dr_exec_opts o;
	opts(&o, DR_HISTORY_UPDATE);
	run_with_check(&r, RUNBOOK("", ""), &o);
	start_order(&r, "failover", order, sizeof order);
	assert_string_equal(order, "vm-1 vm-2 vm-3 vm-4 vm-5 vm-6");
	assert_non_null(strstr(r.events, "\"event\":\"history.warning\""));
	assert_non_null(strstr(r.events, "kept as"));
	fx_run_free(&r);
	assert_true(exists(path_of("history.json.bad")));
	dr_history *h = dr_history_new();
	char *warn;
	assert_int_equal(load(h, path_of("history.json"), &warn), 0);
	free(warn);
	assert_int_equal(dr_history_count(h), 12);
	dr_history_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_round_trip, setup),
		cmocka_unit_test_setup(test_missing_file_is_empty, setup),
		cmocka_unit_test_setup(test_bad_files_are_ignored, setup),
		cmocka_unit_test_setup(test_random_damage, setup),
		cmocka_unit_test_setup(test_newer_version_is_left_alone, setup),
		cmocka_unit_test_setup(test_merge, setup),
		cmocka_unit_test_setup(test_size_is_bounded, setup),
		cmocka_unit_test_setup(test_learn_then_longest_first, setup),
		cmocka_unit_test_setup(test_declared_order_wins, setup),
		cmocka_unit_test_setup(test_no_history_without_journal, setup),
		cmocka_unit_test_setup(test_secrets_stay_out, setup),
		cmocka_unit_test_setup(test_damaged_history_in_a_run, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
