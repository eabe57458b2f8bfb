/*
 * test_journal_retry.c - `drover resume --retry-failed` (docs/journal.md,
 * "Retrying a failed run"), in process.
 *
 * A runbook fails; retries go on from its failure until it succeeds. The
 * "service" is a table of idempotency keys, as in test_journal_resume.c,
 * with test actions (mutating, with probes) in place of the steps' actions:
 *
 *   t.once     starts an operation (records its key) and succeeds
 *   t.jobfail  attempt 1 starts and its job fails; later attempts succeed
 *
 * Checked: the failed tasks get new attempts (new keys) and nothing that
 * completed is started again; a failure tolerated (on_failure: continue)
 * stays as it was; the finally step runs again with a new key each time;
 * every mutating call finds its intent durable; then, for every record a
 * crash could leave last in a retry session, a resume (and retries) end the
 * run with each operation started as often as in the uninterrupted case.
 * Also: which runs may be retried (dr_journal_retry_check), and what a
 * changed runbook means for a retry (dr_journal_retry_notes).
 */
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

#include "actions/action.h"
#include "run/exec.h"
#include "journal/journal.h"
#include "front/runbook.h"
#include "fixture.h"
#include "journal_cut.h"

/* --- the service --------------------------------------------------------- */

static dr_outcome once_run(dr_call *call)
{
	jc_start(call, false);
	return dr_outcome_ok(NULL);
}

static dr_outcome jobfail_run(dr_call *call)
{
	return jc_start(call, true)->failed ? dr_outcome_fail(DR_ERRC_PERMANENT, "the job failed") : dr_outcome_ok(NULL);
}

static dr_probe_result probe(dr_call *call)
{
	char key[256];
	dr_exec_idempotency_key(call, key, sizeof key);
	jc_op *o = jc_find(key);
	if (!o)
		return (dr_probe_result){.status = DR_PROBE_NOT_STARTED};
	if (o->failed)
		return (dr_probe_result){.status = DR_PROBE_FAILED, .cls = DR_ERRC_PERMANENT, .message = strdup("the job failed")};
	return (dr_probe_result){.status = DR_PROBE_DONE, .outputs = cJSON_CreateObject()};
}

#define MUT (DR_AF_MUTATING | DR_AF_PER_TARGET)
static const dr_action t_once = {.name = "t.once", .flags = MUT, .run = once_run, .probe = probe};
static const dr_action t_jobfail = {.name = "t.jobfail", .flags = MUT, .run = jobfail_run, .probe = probe};
static const dr_action t_fin = {.name = "t.fin", .flags = DR_AF_MUTATING, .run = once_run, .probe = probe};

/* --- the runbook ------------------------------------------------------------ */

/*
 * one succeeds; opt fails and is tolerated; pause is in flight when three
 * fails (three[a]'s job fails, three[b]'s call is held in the same turn and
 * never made, three[c] never starts); four never starts; fin runs.
 */
static const char *const yaml =
	"drover: 1\nname: cut\n"
	"backend: { kind: sim, vms: [ { name: a }, { name: b }, { name: c } ] }\n"
	"vm_sets: { all: { match: { name: '.' } } }\n"
	"defaults: { retry: { attempts: 1 } }\n"
	"steps:\n"
	"  - { id: one, action: log, foreach: all, with: { message: x } }\n"
	"  - { id: opt, action: log, needs: one, on_failure: continue, with: { message: x } }\n"
	"  - { id: pause, action: sleep, needs: one, with: { duration: 1m } }\n"
	"  - { id: three, action: log, foreach: all, needs: one, concurrency: 2, with: { message: x } }\n"
	"  - { id: four, action: log, foreach: all, needs: [three, pause, opt], with: { message: x } }\n"
	"finally:\n"
	"  - { id: fin, action: log, with: { message: done } }\n";

static const char *dir; /* the fixture's (fixture.h) */

static dr_runbook *compile(void)
{
	dr_runbook *rb = fx_compile("runbook.yaml", yaml);
	rb->steps[0].action = &t_once;
	rb->steps[1].action = &t_jobfail;
	rb->steps[3].action = &t_jobfail;
	rb->steps[4].action = &t_once;
	rb->finally_steps[0].action = &t_fin;
	return rb;
}

static int setup(void **state)
{
	(void)state;
	dir = fx_newdir();
	setenv("DROVER_SIM_STATE", ":memory:", 1);
	return 0;
}

static void opts(dr_exec_opts *o, const char *state_dir)
{
	dr_exec_opts_init(o);
	o->clock = DR_CLOCK_VIRTUAL;
	o->state_dir = state_dir;
	o->journal = true;
	o->run_id = "cut-run";
}

static void write_file(const char *path, const char *text, size_t n)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fwrite(text, 1, n, f);
	fclose(f);
}

/* One session: a fresh run (resume NULL), or a resume of the journal at path (retry: --retry-failed). */
static dr_run_status session(dr_runbook *rb, const char *state, const char *path, bool resume, bool retry)
{
	dr_journal_file jf = {0};
	dr_buf err;
	dr_buf_init(&err);
	dr_exec_opts o;
	opts(&o, state);
	if (resume) {
		assert_int_equal(dr_journal_read(path, &jf, &err), 0);
		o.resume = &jf;
		o.retry_failed = retry;
	}
	jc_journal_file = path;
	dr_run_status st = dr_exec_run(rb, &o, &err);
	jc_journal_file = NULL;
	dr_journal_file_dispose(&jf);
	dr_buf_dispose(&err);
	return st;
}

/* What the journal at path says of retrying its run. */
static dr_retry_verdict verdict(const char *path)
{
	dr_journal_file jf;
	dr_buf err, msg;
	dr_buf_init(&err);
	dr_buf_init(&msg);
	assert_int_equal(dr_journal_read(path, &jf, &err), 0);
	dr_retry_verdict v = dr_journal_retry_check(&jf, NULL, "cut-run", &msg);
	dr_journal_file_dispose(&jf);
	dr_buf_dispose(&err);
	dr_buf_dispose(&msg);
	return v;
}

/* Go on (resume, then retry while it fails) until the run succeeds; returns the sessions it took. */
static int finish(dr_runbook *rb, const char *state, const char *path, const char *what)
{
	int n = 0;
	dr_retry_verdict v;
	while ((v = verdict(path)) != DR_RETRY_NOTHING) {
		if (v == DR_RETRY_REFUSED)
			fail_msg("%s: the run cannot be retried after %d sessions", what, n);
		if (++n > 8)
			fail_msg("%s: still not done after 8 sessions", what);
		session(rb, state, path, true, v == DR_RETRY_OK);
	}
	return n;
}

static const char *const labels[] = {"one[a]", "one[b]", "one[c]",   "opt",	 "three[a]",
				     "three[b]", "three[c]", "four[a]", "four[b]", "four[c]"};
/* Every operation once, but the failed ones: three's jobs fail at attempt 1 and succeed at attempt 2. */
static const size_t expected_starts[] = {1, 1, 1, 1, 2, 2, 2, 1, 1, 1};

static void check_starts(const char *when)
{
	for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
		if (jc_starts_of(labels[i]) != expected_starts[i])
			fail_msg("%s: %s started %zu times, expected %zu", when, labels[i], jc_starts_of(labels[i]),
				 expected_starts[i]);
}

/* The journal of the failed run (the caller frees it), its state dir under dir/name. */
static char *failed_run(dr_runbook *rb, const char *name, char *state, char *path, size_t *len)
{
	sprintf(state, "%s/%s", dir, name);
	sprintf(path, "%s/runs/cut-run/journal.jsonl", state);
	fx_rmtree(state);
	jc_n_ops = 0;
	assert_int_equal(session(rb, state, path, false, false), DR_RUN_FAILED);
	assert_int_equal(verdict(path), DR_RETRY_OK);
	assert_int_equal(jc_starts_of("three[a]"), 1); /* its job failed */
	assert_int_equal(jc_starts_of("three[b]"), 0); /* held in the same turn, never called */
	assert_int_equal(jc_starts_of("four[a]"), 0);
	assert_int_equal(jc_starts_of("fin"), 1);
	return fx_slurp(path, len);
}

/* Retries go on from the failure until the run succeeds; nothing completed starts again. */
static void test_retry_until_done(void **state)
{
	(void)state;
	dr_runbook *rb = compile();
	char sdir[128], path[256];
	size_t len;
	free(failed_run(rb, "until", sdir, path, &len));
	int sessions = finish(rb, sdir, path, "retrying");
	check_starts("after the retries");
	assert_int_equal(jc_starts_of("fin"), (size_t)sessions + 1); /* each session's finally: a new attempt, a new key */
	dr_runbook_free(rb);
}

/*
 * A crash anywhere in the first retry session: for every record it could
 * leave last (and a service that has or has not seen the calls whose
 * results are lost), resuming and retrying ends the run with each
 * operation started as often as without the crash.
 */
static void test_retry_every_cut(void **state)
{
	(void)state;
	dr_runbook *rb = compile();
	char sdir[128], path[256];
	size_t base_len, len;
	char *base = failed_run(rb, "cut", sdir, path, &base_len);
	session(rb, sdir, path, true, true); /* the first retry, uninterrupted */
	char *text = fx_slurp(path, &len);
	assert_true(len > base_len);
	jc_op *all = malloc(sizeof jc_ops);
	memcpy(all, jc_ops, sizeof jc_ops);
	size_t n_all = jc_n_ops, cuts = 0;
	jc_recs r;
	jc_recs_parse(text, len, &r);
	for (size_t off = base_len; off < len; off++) {
		if (text[off] != '\n' || off + 1 == len)
			continue;
		for (int lost = 0; lost < 2; lost++) {
			char what[96];
			snprintf(what, sizeof what, "cut after byte %zu (%s)", off + 1, lost ? "lost calls" : "lost results");
			jc_service_at(all, n_all, &r, off + 1, lost);
			char run_dir[300];
			snprintf(run_dir, sizeof run_dir, "%s/runs/cut-run", sdir);
			fx_remake(run_dir);
			write_file(path, text, off + 1);
			finish(rb, sdir, path, what);
			check_starts(what);
			cuts++;
		}
	}
	assert_true(cuts > 20);
	jc_recs_free(&r);
	free(all);
	free(text);
	free(base);
	dr_runbook_free(rb);
}

/* --- which runs may be retried --------------------------------------------- */

static const char *const header =
	"{\"t_ms\":1,\"event\":\"journal.header\",\"format\":\"drover-journal\",\"version\":1,\"run\":\"r\",\"mode\":\"%s\",\"direction\":\"primary-to-recovery\",\"clock\":\"virtual\",\"seed\":\"1\","
	"\"runbook\":{\"path\":\"r.yaml\"},\"params\":{},\"backend\":{},\"started_ms\":0,"
	"\"shape\":{\"steps\":{\"a\":{\"action\":\"log\",\"digest\":\"1\",\"parts\":{\"with\":\"1\",\"needs\":\"1\"}},"
	"\"b\":{\"action\":\"log\",\"digest\":\"2\",\"parts\":{\"with\":\"2\",\"needs\":\"2\"}},"
	"\"c\":{\"action\":\"log\",\"digest\":\"3\",\"parts\":{\"with\":\"3\",\"needs\":\"3\"}},"
	"\"f\":{\"action\":\"log\",\"digest\":\"4\",\"finally\":true,\"parts\":{\"with\":\"4\"}}}}}\n";

/* The verdict on a journal made of the header (mode) and these records; msg, when not NULL, gets the message. */
static dr_retry_verdict check_text(const char *mode, const char *records, dr_buf *msg)
{
	char path[160];
	snprintf(path, sizeof path, "%s/check.jsonl", dir);
	FILE *f = fopen(path, "w");
	fprintf(f, header, mode);
	fputs(records, f);
	fclose(f);
	dr_journal_file jf;
	dr_buf err, m;
	dr_buf_init(&err);
	dr_buf_init(&m);
	assert_int_equal(dr_journal_read(path, &jf, &err), 0);
	dr_retry_verdict v = dr_journal_retry_check(&jf, NULL, "r", msg ? msg : &m);
	dr_journal_file_dispose(&jf);
	dr_buf_dispose(&err);
	dr_buf_dispose(&m);
	return v;
}

#define END(st) "{\"t_ms\":1,\"event\":\"run.end\",\"ts\":\"T\",\"status\":\"" st "\",\"exit\":1}\n"
#define RETRY "{\"t_ms\":1,\"event\":\"run.resume\",\"retry_failed\":true}\n"
#define UNDO "{\"t_ms\":1,\"event\":\"task.start\",\"step\":\"undo-a\",\"phase\":\"rollback\",\"undoes\":\"a\",\"attempt\":1}\n"

static void test_retry_check(void **state)
{
	(void)state;
	dr_buf msg;
	dr_buf_init(&msg);
	assert_int_equal(check_text("failover", END("failed"), NULL), DR_RETRY_OK);
	assert_int_equal(check_text("failback", END("failed") RETRY END("failed"), NULL), DR_RETRY_OK);
	assert_int_equal(check_text("failover", END("succeeded"), &msg), DR_RETRY_NOTHING);
	assert_non_null(strstr(msg.data, "nothing to retry"));
	dr_buf_reset(&msg);
	assert_int_equal(check_text("failover", END("rolled_back"), &msg), DR_RETRY_REFUSED);
	assert_non_null(strstr(msg.data, "the undo already happened"));
	dr_buf_reset(&msg);
	assert_int_equal(check_text("failover", END("cancelled"), &msg), DR_RETRY_REFUSED);
	assert_non_null(strstr(msg.data, "a plain resume goes on with it"));
	assert_non_null(strstr(msg.data, ": drover resume r"));
	assert_int_equal(check_text("failover", END("internal_error"), NULL), DR_RETRY_REFUSED);
	assert_int_equal(check_text("drill", END("failed"), NULL), DR_RETRY_REFUSED);
	dr_buf_reset(&msg);
	assert_int_equal(check_text("failover", UNDO END("failed"), &msg), DR_RETRY_REFUSED);
	assert_non_null(strstr(msg.data, "began to undo what it had completed (a)"));
	/* a recovery point fallback restarted a validation's attempts: the journal does not keep it */
	dr_buf_reset(&msg);
	assert_int_equal(check_text("failover",
				    "{\"t_ms\":1,\"event\":\"task.start\",\"step\":\"up\",\"target\":\"v\",\"attempt\":1}\n"
				    "{\"t_ms\":1,\"event\":\"task.start\",\"step\":\"up\",\"target\":\"v\",\"attempt\":1}\n" END("failed"),
				    &msg),
			 DR_RETRY_REFUSED);
	assert_non_null(strstr(msg.data, "another recovery point for up[v]"));
	/* not ended: refused, unless a retry of it was interrupted (then a plain resume goes on with it) */
	assert_int_equal(check_text("failover", "{\"t_ms\":1,\"event\":\"task.start\",\"step\":\"a\",\"attempt\":1}\n", NULL),
			 DR_RETRY_REFUSED);
	assert_int_equal(check_text("failover", END("failed") RETRY, NULL), DR_RETRY_ONGOING);
	dr_buf_dispose(&msg);
}

/* What each change of the runbook means for the retry, from how its step ended. */
static void test_retry_notes(void **state)
{
	(void)state;
	char path[160];
	snprintf(path, sizeof path, "%s/notes.jsonl", dir);
	FILE *f = fopen(path, "w");
	fprintf(f, header, "failover");
	fputs("{\"t_ms\":1,\"event\":\"step.end\",\"step\":\"a\",\"status\":\"succeeded\",\"succeeded\":1}\n"
	      "{\"t_ms\":1,\"event\":\"step.end\",\"step\":\"b\",\"status\":\"failed\",\"failed\":1,\"tolerated\":false}\n"
	      "{\"t_ms\":1,\"event\":\"step.end\",\"step\":\"c\",\"status\":\"cancelled\",\"cancelled\":1}\n" END("failed"),
	      f);
	fclose(f);
	dr_journal_file jf;
	dr_buf err, out;
	dr_buf_init(&err);
	dr_buf_init(&out);
	assert_int_equal(dr_journal_read(path, &jf, &err), 0);
	/* now: a's needs changed, b's with, c's with, f removed, d added */
	cJSON *now = cJSON_Parse("{\"steps\":{\"a\":{\"action\":\"log\",\"digest\":\"9\",\"parts\":{\"with\":\"1\",\"needs\":\"9\"}},"
				 "\"b\":{\"action\":\"log\",\"digest\":\"8\",\"parts\":{\"with\":\"8\",\"needs\":\"2\"}},"
				 "\"c\":{\"action\":\"log\",\"digest\":\"7\",\"parts\":{\"with\":\"7\",\"needs\":\"3\"}},"
				 "\"d\":{\"action\":\"log\",\"digest\":\"6\",\"parts\":{}}}}");
	assert_int_equal(dr_journal_retry_notes(&jf, now, &out), 5);
	assert_non_null(strstr(out.data, "  ~ step a: succeeded: not run again; the change does not apply to what it "
					 "did. Its needs/targets/when changed"));
	assert_non_null(strstr(out.data, "  ~ step b: failed: its failed tasks run again, with the change\n"));
	assert_non_null(strstr(out.data, "  ~ step c: never started: runs as changed\n"));
	assert_non_null(strstr(out.data, "  - step f: removed: it does not run\n"));
	assert_non_null(strstr(out.data, "  + step d: added: runs once what it needs has ended\n"));
	cJSON_Delete(now);
	dr_journal_file_dispose(&jf);
	dr_buf_dispose(&err);
	dr_buf_dispose(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_until_done),
		cmocka_unit_test(test_retry_every_cut),
		cmocka_unit_test(test_retry_check),
		cmocka_unit_test(test_retry_notes),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
