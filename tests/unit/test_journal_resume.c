/*
 * test_journal_resume.c - resume at every point a crash can leave, in
 * process: a runbook runs to its end with the journal on; then for every
 * prefix of its journal (every record a crash could be the last durable
 * one), and a torn half-line after it, a resumed run must finish the run
 * with each operation started exactly once.
 *
 * The "service" is a table of idempotency keys in this file. Test actions
 * (mutating, with probes) replace the steps' actions after compiling:
 *
 *   t.once     starts an operation (records its key) and succeeds
 *   t.refused  attempt 1 is refused (nothing starts), attempt 2 starts
 *   t.jobfail  attempt 1 starts and its job fails, attempt 2 starts
 *
 * Each probe answers from the table (done, failed, or not started). A
 * crash between a durable intent and the service call is modelled by a
 * service that has not seen the keys whose results are not in the prefix
 * (the "lost call" variant); otherwise it has (the "lost result" one).
 *
 * Also: every mutating call finds its intent record durable in the file
 * when it is made; a probe that cannot tell stops the resume (run.suspend,
 * nothing started) and a later resume finishes; a cancelled run resumes.
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

static bool probe_unknown; /* every probe says it cannot tell */

static dr_outcome once_run(dr_call *call)
{
	jc_start(call, false);
	return dr_outcome_ok(NULL);
}

static dr_outcome refused_run(dr_call *call)
{
	if (call->attempt == 1)
		return dr_outcome_fail(DR_ERRC_TRANSIENT, "503: try again");
	return once_run(call);
}

static dr_outcome jobfail_run(dr_call *call)
{
	return jc_start(call, true)->failed ? dr_outcome_fail(DR_ERRC_TRANSIENT, "the job failed") : dr_outcome_ok(NULL);
}

static dr_probe_result probe(dr_call *call)
{
	char key[256];
	dr_exec_idempotency_key(call, key, sizeof key);
	if (probe_unknown)
		return (dr_probe_result){.status = DR_PROBE_UNKNOWN, .message = strdup("the service is unreachable")};
	jc_op *o = jc_find(key);
	if (!o)
		return (dr_probe_result){.status = DR_PROBE_NOT_STARTED};
	if (o->failed)
		return (dr_probe_result){.status = DR_PROBE_FAILED, .cls = DR_ERRC_TRANSIENT, .message = strdup("the job failed")};
	return (dr_probe_result){.status = DR_PROBE_DONE, .outputs = cJSON_CreateObject()};
}

#define MUT (DR_AF_MUTATING | DR_AF_PER_TARGET)
static const dr_action t_once = {.name = "t.once", .flags = MUT, .run = once_run, .probe = probe};
static const dr_action t_refused = {.name = "t.refused", .flags = MUT, .run = refused_run, .probe = probe};
static const dr_action t_jobfail = {.name = "t.jobfail", .flags = MUT, .run = jobfail_run, .probe = probe};
static const dr_action t_fin = {.name = "t.fin", .flags = DR_AF_MUTATING, .run = once_run, .probe = probe};

/* --- the runbook ------------------------------------------------------------ */

static const char *const yaml =
	"drover: 1\nname: cut\n"
	"backend: { kind: sim, vms: [ { name: a }, { name: b }, { name: c } ] }\n"
	"vm_sets: { all: { match: { name: '.' } } }\n"
	"defaults: { retry: { attempts: 3, delay: 10s, on: [transient] } }\n"
	"steps:\n"
	"  - { id: one, action: log, foreach: all, with: { message: x } }\n"
	"  - { id: two, action: log, foreach: all, needs: one, concurrency: 2, with: { message: x } }\n"
	"  - { id: pause, action: sleep, needs: two, with: { duration: 1m } }\n"
	"  - { id: three, action: log, foreach: all, needs: pause, pipeline: false, with: { message: x } }\n"
	"finally:\n"
	"  - { id: fin, action: log, with: { message: done } }\n"
	"  - { id: nofin, action: log, when: \"${run.status == 'never'}\", with: { message: x } }\n";

static const char *dir; /* the fixture's (fixture.h) */

static dr_runbook *compile(void)
{
	dr_runbook *rb = fx_compile("runbook.yaml", yaml);
	rb->steps[0].action = &t_once;
	rb->steps[1].action = &t_refused;
	rb->steps[3].action = &t_jobfail;
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

static const char *const labels[] = {"one[a]", "one[b]", "one[c]", "two[a]", "two[b]", "two[c]",
				     "three[a]", "three[b]", "three[c]", "fin"};
/* Starts of a full run: one each, and the failed job of each three[*] before its retry. */
static const size_t expected_starts[] = {1, 1, 1, 1, 1, 1, 2, 2, 2, 1};

static void check_starts(const char *when)
{
	for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
		if (jc_starts_of(labels[i]) != expected_starts[i])
			fail_msg("%s: %s started %zu times, expected %zu", when, labels[i], jc_starts_of(labels[i]),
				 expected_starts[i]);
}

/* The full run: its journal (the caller frees it). */
static char *full_run(dr_runbook *rb, size_t *len)
{
	char state[128], path[256];
	snprintf(state, sizeof state, "%s/full", dir);
	snprintf(path, sizeof path, "%s/runs/cut-run/journal.jsonl", state);
	fx_rmtree(state);
	jc_n_ops = 0;
	jc_journal_file = path;
	dr_exec_opts o;
	opts(&o, state);
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_exec_run(rb, &o, &err), DR_RUN_SUCCEEDED);
	dr_buf_dispose(&err);
	jc_journal_file = NULL;
	check_starts("the full run");
	return fx_slurp(path, len);
}

/*
 * What the scheduler writes of a step or a task is in the journal once: a
 * resume after such a record was journaled (the finally step nofin skipped
 * just before the crash: its step.start, task.skip and step.end) does not
 * journal it again (status and the reports would count it twice). Each
 * (event, phase, step, target, attempt) of step.start, step.end, task.skip,
 * task.start and task.end is there once; nofin's task.skip is there.
 */
static void check_records_once(const dr_journal_file *jf, const char *what)
{
	static const char *const once[] = {"step.start", "step.end", "task.skip", "task.start", "task.end"};
	cJSON *seen = cJSON_CreateObject();
	size_t skips = 0;
	for (size_t i = 0; i < jf->n; i++) {
		const cJSON *r = jf->recs[i];
		const char *ev = fx_str(r, "event");
		bool keep = false;
		for (size_t k = 0; k < sizeof once / sizeof once[0]; k++)
			keep = keep || !strcmp(ev, once[k]);
		if (!keep)
			continue;
		char key[512];
		snprintf(key, sizeof key, "%s %s %s[%s] #%d", ev, fx_str(r, "phase"), fx_str(r, "step"), fx_str(r, "target"),
			 jc_attempt_of(r));
		if (cJSON_GetObjectItemCaseSensitive(seen, key))
			fail_msg("%s: %s is in the journal twice (line %zu)", what, key, jf->lines[i]);
		cJSON_AddTrueToObject(seen, key);
		skips += !strcmp(ev, "task.skip") && !strcmp(fx_str(r, "step"), "nofin");
	}
	cJSON_Delete(seen);
	if (skips != 1)
		fail_msg("%s: nofin's task.skip is in the journal %zu times, not once", what, skips);
}

/* Resume from text[0..n) (plus torn bytes); the run must end succeeded with every start once. */
static void resume_from(dr_runbook *rb, const char *text, size_t n, const char *torn, const char *what)
{
	char state[128], runs[160], rdir[200], path[256];
	snprintf(state, sizeof state, "%s/cut", dir);
	fx_rmtree(state);
	mkdir(state, 0700);
	snprintf(runs, sizeof runs, "%s/runs", state);
	mkdir(runs, 0700);
	snprintf(rdir, sizeof rdir, "%s/cut-run", runs);
	mkdir(rdir, 0700);
	snprintf(path, sizeof path, "%s/journal.jsonl", rdir);
	FILE *f = fopen(path, "w");
	fwrite(text, 1, n, f);
	fputs(torn, f);
	fclose(f);
	dr_journal_file jf;
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_journal_read(path, &jf, &err), 0);
	assert_int_equal(jf.torn, *torn != '\0');
	dr_exec_opts o;
	opts(&o, state);
	o.resume = &jf;
	jc_journal_file = path;
	dr_run_status st = dr_exec_run(rb, &o, &err);
	jc_journal_file = NULL;
	if (st != DR_RUN_SUCCEEDED)
		fail_msg("%s: resume ended %s: %s", what, dr_run_status_name(st), err.data);
	check_starts(what);
	dr_journal_file_dispose(&jf);
	assert_int_equal(dr_journal_read(path, &jf, &err), 0);
	assert_true(jf.ended);
	assert_false(jf.torn);
	check_records_once(&jf, what);
	dr_journal_file_dispose(&jf);
	dr_buf_dispose(&err);
}

static void test_every_cut(void **state)
{
	(void)state;
	dr_runbook *rb = compile();
	size_t len;
	char *text = full_run(rb, &len);
	jc_op *all = malloc(sizeof jc_ops);
	memcpy(all, jc_ops, sizeof jc_ops);
	size_t n_all = jc_n_ops, cuts = 0;
	jc_recs r;
	jc_recs_parse(text, len, &r);
	for (size_t off = 0; off < len; off++) {
		if (text[off] != '\n')
			continue;
		size_t n = off + 1;
		if (n == len)
			break; /* the whole journal: nothing to resume */
		for (int lost = 0; lost < 2; lost++) {
			char what[96];
			snprintf(what, sizeof what, "cut after byte %zu (%s)", n, lost ? "lost calls" : "lost results");
			jc_service_at(all, n_all, &r, n, lost);
			resume_from(rb, text, n, "", what);
			cuts++;
		}
		jc_service_at(all, n_all, &r, n, false);
		resume_from(rb, text, n, "{\"event\":\"task.e", "torn line");
	}
	assert_true(cuts > 40);
	jc_recs_free(&r);
	free(all);
	free(text);
	dr_runbook_free(rb);
}

/* A probe that cannot tell stops the resume before anything starts; a later resume goes on. */
static void test_unknown_suspends(void **state)
{
	(void)state;
	dr_runbook *rb = compile();
	size_t len;
	char *text = full_run(rb, &len);
	jc_op *all = malloc(sizeof jc_ops);
	memcpy(all, jc_ops, sizeof jc_ops);
	size_t n_all = jc_n_ops;
	/* cut right after the first intent of step two */
	const char *p = strstr(text, "\"event\":\"task.start\",\"step\":\"two\"");
	assert_non_null(p);
	size_t n = (size_t)(strchr(p, '\n') - text) + 1;
	jc_recs r;
	jc_recs_parse(text, len, &r);
	jc_service_at(all, n_all, &r, n, false);
	jc_recs_free(&r);
	size_t before = jc_n_ops;
	char sdir[128], path[256];
	snprintf(sdir, sizeof sdir, "%s/unknown", dir);
	snprintf(path, sizeof path, "%s/runs/cut-run", sdir);
	fx_remake(path);
	strcat(path, "/journal.jsonl");
	FILE *f = fopen(path, "w");
	fwrite(text, 1, n, f);
	fclose(f);
	dr_journal_file jf;
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_journal_read(path, &jf, &err), 0);
	dr_exec_opts o;
	opts(&o, sdir);
	o.resume = &jf;
	probe_unknown = true;
	FILE *screen = tmpfile();
	o.screen = screen;
	assert_int_equal(dr_exec_run(rb, &o, &err), DR_RUN_FAILED);
	o.screen = NULL;
	probe_unknown = false;
	assert_int_equal(jc_n_ops, before); /* nothing was started */
	char said[8192], again[300];
	rewind(screen);
	said[fread(said, 1, sizeof said - 1, screen)] = '\0';
	fclose(screen);
	snprintf(again, sizeof again, "then run drover resume --state-dir %s cut-run again\n", sdir);
	if (!strstr(said, again)) /* the run's own state dir, so the command works when pasted */
		fail_msg("the stop does not say '%s':\n%s", again, strstr(said, "Nothing was started") ? strstr(said, "Nothing was started") : said);
	dr_journal_file_dispose(&jf);
	assert_int_equal(dr_journal_read(path, &jf, &err), 0);
	assert_false(jf.ended);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(jf.recs[jf.n - 1], "event")), "run.suspend");
	o.resume = &jf;
	assert_int_equal(dr_exec_run(rb, &o, &err), DR_RUN_SUCCEEDED);
	check_starts("after the suspended resume");
	dr_journal_file_dispose(&jf);
	dr_buf_dispose(&err);
	free(all);
	free(text);
	dr_runbook_free(rb);
}

/* --- a person's wait (task.person) ------------------------------------------ */

#define PERSON_DONE_MS (5 * 60000) /* the person does the manual step at 5m */

/* A job that waits for a person (Suspended) until 5m, then succeeds. */
static dr_outcome person_run(dr_call *call)
{
	if (call->attempt == 1 && !jc_find("manual")) {
		assert_true(jc_n_ops < JC_MAX_OPS);
		snprintf(jc_ops[jc_n_ops].key, sizeof jc_ops[jc_n_ops].key, "manual");
		snprintf(jc_ops[jc_n_ops++].label, sizeof jc_ops[0].label, "manual");
	}
	return call->now_ms >= PERSON_DONE_MS ? dr_outcome_ok(NULL) : dr_outcome_wait_person(10000);
}

static dr_probe_result person_probe(dr_call *call)
{
	if (!jc_find("manual"))
		return (dr_probe_result){.status = DR_PROBE_NOT_STARTED};
	if (call->now_ms >= PERSON_DONE_MS)
		return (dr_probe_result){.status = DR_PROBE_DONE, .outputs = cJSON_CreateObject()};
	return (dr_probe_result){.status = DR_PROBE_RUNNING, .wait_ms = 10000};
}

static const dr_action t_person = {.name = "t.person", .flags = DR_AF_MUTATING, .run = person_run, .probe = person_probe};

/* manual waits 5m for a person, which its step's 2m timeout does not count; busy ends at 4m, while it waits. */
static const char *const person_yaml = "drover: 1\nname: person\n"
				       "steps:\n"
				       "  - { id: manual, action: log, timeout: 2m, with: { message: x } }\n"
				       "  - { id: busy, action: sleep, with: { duration: 4m } }\n"
				       "  - { id: after, action: log, needs: [manual, busy], with: { message: x } }\n";

static dr_runbook *compile_person(void)
{
	dr_runbook *rb = fx_compile("person.yaml", person_yaml);
	rb->steps[0].action = &t_person;
	return rb;
}

/* A run of rb in the state dir sub, resumed from the journal text[0..n) (n 0: a fresh run); its status. */
static dr_run_status run_person(dr_runbook *rb, const char *sub, const char *text, size_t n)
{
	char state[128], path[256];
	snprintf(state, sizeof state, "%s/%s", dir, sub);
	snprintf(path, sizeof path, "%s/runs/cut-run", state);
	fx_rmtree(n ? state : path); /* a journal to resume from: in a state directory of its own */
	if (n)
		fx_remake(path);
	strcat(path, "/journal.jsonl");
	dr_journal_file jf = {0};
	dr_buf err;
	dr_buf_init(&err);
	dr_exec_opts o;
	opts(&o, state);
	if (n) {
		FILE *f = fopen(path, "w");
		fwrite(text, 1, n, f);
		fclose(f);
		assert_int_equal(dr_journal_read(path, &jf, &err), 0);
		o.resume = &jf;
	}
	dr_run_status st = dr_exec_run(rb, &o, &err);
	if (n)
		dr_journal_file_dispose(&jf);
	dr_buf_dispose(&err);
	return st;
}

/*
 * A person's wait is journaled (task.person): drover killed during it
 * (every cut of the journal) resumes without counting the wait against the
 * step's timeout, as the run that was not killed did not. On the old code
 * the replay timed the step out (its timer fired at 2m).
 */
static void test_person_wait_resumed(void **state)
{
	(void)state;
	dr_runbook *rb = compile_person();
	jc_n_ops = 0;
	assert_int_equal(run_person(rb, "person-full", "", 0), DR_RUN_SUCCEEDED);
	char path[256];
	snprintf(path, sizeof path, "%s/person-full/runs/cut-run/journal.jsonl", dir);
	size_t len, cuts = 0, waits = 0;
	char *text = fx_slurp(path, &len);
	for (const char *p = text; (p = strstr(p, "\"event\":\"task.person\"")); p++)
		waits++;
	assert_int_equal(waits, 2); /* the wait began, and ended at 5m */
	for (size_t off = 0; off + 1 < len; off++) {
		if (text[off] != '\n')
			continue;
		const char *intent = strstr(text, "\"event\":\"task.start\",\"step\":\"manual\"");
		jc_n_ops = 0; /* the service: the job started once its intent was durable */
		if (intent && intent < text + off) {
			snprintf(jc_ops[0].key, sizeof jc_ops[0].key, "manual");
			snprintf(jc_ops[0].label, sizeof jc_ops[0].label, "manual");
			jc_n_ops = 1;
		}
		char what[64];
		snprintf(what, sizeof what, "person: cut after byte %zu", off + 1);
		if (run_person(rb, "person-cut", text, off + 1) != DR_RUN_SUCCEEDED)
			fail_msg("%s: the resumed run did not succeed", what);
		assert_int_equal(jc_starts_of("manual"), 1);
		cuts++;
	}
	assert_true(cuts > 5);
	free(text);
	dr_runbook_free(rb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_cut),
		cmocka_unit_test(test_unknown_suspends),
		cmocka_unit_test(test_person_wait_resumed),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
