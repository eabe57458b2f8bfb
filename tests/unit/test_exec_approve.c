/*
 * test_exec_approve.c - approval gates through the file handshake, as
 * `drover approve` answers them from another shell: a run on the real
 * clock waits at an `approve` step while a thread plays the other shell.
 *
 * Granted with a comment, denied, refused for someone not among the
 * approvers, every VM's gate of a fanned-out step answered at once, and the
 * file-level rules (one answer per gate; no gate, no answer).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "journal/approvals.h"
#include "run/exec.h"
#include "front/runbook.h"
#include "fixture.h"

static const char *state_dir; /* main: the fixture's folder */

/*
 * A loaded machine, made exact: while skew_clock is on, every read of the
 * monotonic clock is 1 ms later than the one before it beyond real time
 * passing (as if the reader were preempted between any two reads). This
 * file's clock_gettime is the one libdrover's objects call.
 */
static int skew_clock;
static int64_t skew_reads;

int clock_gettime(clockid_t id, struct timespec *ts)
{
	int rc = (int)syscall(SYS_clock_gettime, id, ts);
	if (rc == 0 && id == CLOCK_MONOTONIC && __atomic_load_n(&skew_clock, __ATOMIC_RELAXED)) {
		int64_t ns = ts->tv_nsec + 1000000LL * __atomic_add_fetch(&skew_reads, 1, __ATOMIC_RELAXED);
		ts->tv_sec += (time_t)(ns / 1000000000LL);
		ts->tv_nsec = (long)(ns % 1000000000LL);
	}
	return rc;
}

typedef struct answerer {
	const char *run_id, *step, *wait_for; /* wait_for: the request file to appear (a key) */
	const char *also_wait_for; /* and this one too (the gates of a fanned-out step open in any order) */
	const char *by, *comment;
	bool approve;
	bool by_hand; /* write the answer file directly, past drover approve's own check */
	int delay_ms; /* real time between the gate opening and the answer */
	int answered;
	char err[512];
} answerer;

static void *answer_main(void *arg)
{
	answerer *a = arg;
	char run_dir[256], req[512];
	snprintf(run_dir, sizeof run_dir, "%s/runs/%s", state_dir, a->run_id);
	snprintf(req, sizeof req, "%s/approvals/%s.request", run_dir, a->wait_for);
	struct stat st;
	struct timespec ts = {0, 10 * 1000000L};
	for (int i = 0; i < 500 && stat(req, &st) != 0; i++)
		nanosleep(&ts, NULL);
	snprintf(req, sizeof req, "%s/approvals/%s.request", run_dir, a->also_wait_for ? a->also_wait_for : a->wait_for);
	for (int i = 0; i < 500 && stat(req, &st) != 0; i++)
		nanosleep(&ts, NULL);
	struct timespec delay = {a->delay_ms / 1000, (long)(a->delay_ms % 1000) * 1000000L};
	nanosleep(&delay, NULL);
	cJSON *ans = cJSON_CreateObject();
	cJSON_AddBoolToObject(ans, "approved", a->approve);
	cJSON_AddStringToObject(ans, "by", a->by);
	cJSON_AddStringToObject(ans, "comment", a->comment ? a->comment : "");
	dr_buf out, err;
	dr_buf_init(&out);
	dr_buf_init(&err);
	if (a->by_hand) {
		char path[600];
		snprintf(path, sizeof path, "%s/approvals/%s.answer", run_dir, a->wait_for);
		FILE *f = fopen(path, "w");
		char *text = cJSON_PrintUnformatted(ans);
		fputs(text, f);
		fclose(f);
		free(text);
		a->answered = 1;
		for (int i = 0; i < 500 && stat(path, &st) == 0; i++) /* until the run has dealt with it */
			nanosleep(&ts, NULL);
	} else {
		a->answered = dr_approval_answer(run_dir, a->step, ans, &out, &err);
	}
	snprintf(a->err, sizeof a->err, "%s", err.data);
	dr_buf_dispose(&out);
	dr_buf_dispose(&err);
	cJSON_Delete(ans);
	return NULL;
}

typedef struct result {
	dr_run_status status;
	char *events;
} result;

static result run_on(const char *yaml, const char *run_id, answerer *answers, size_t n, dr_clock_kind clock)
{
	dr_runbook *rb = fx_compile(NULL, yaml);
	dr_exec_opts o;
	dr_exec_opts_init(&o);
	o.clock = clock;
	o.run_id = run_id;
	o.state_dir = state_dir;
	result r = {0};
	size_t len;
	o.events = open_memstream(&r.events, &len);
	pthread_t th[8];
	for (size_t i = 0; i < n; i++)
		pthread_create(&th[i], NULL, answer_main, &answers[i]);
	dr_buf err;
	dr_buf_init(&err);
	r.status = dr_exec_run(rb, &o, &err);
	for (size_t i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	fclose(o.events);
	dr_buf_dispose(&err);
	dr_runbook_free(rb);
	return r;
}

static result run_with(const char *yaml, const char *run_id, answerer *answers, size_t n)
{
	return run_on(yaml, run_id, answers, n, DR_CLOCK_REAL);
}

static const char *gate_yaml = "drover: 1\nname: gate\n"
			       "steps:\n"
			       "  - id: go\n    action: approve\n"
			       "    with: { message: 'Commit?', timeout: 30s, approvers: [alice, bob] }\n"
			       "  - { id: after, action: log, needs: go, with: { message: 'by ${steps.go.outputs.by}: ${steps.go.outputs.comment}' } }\n";

static void granted_from_another_shell(void **state)
{
	(void)state;
	answerer a = {.run_id = "t-grant", .step = "go", .wait_for = "go", .by = "alice", .comment = "ship it", .approve = true};
	result r = run_with(gate_yaml, "t-grant", &a, 1);
	assert_int_equal(a.answered, 1);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	assert_non_null(strstr(r.events, "\"event\":\"approval.request\""));
	char cmd[256];
	snprintf(cmd, sizeof cmd, "\"command\":\"drover approve --state-dir %s t-grant go\"", state_dir);
	assert_non_null(strstr(r.events, cmd));
	assert_non_null(strstr(r.events, "\"event\":\"approval.granted\",\"step\":\"go\",\"by\":\"alice\",\"via\":\"drover approve\""));
	assert_non_null(strstr(r.events, "\"message\":\"by alice: ship it\""));
	/* The gate's files are gone once it closed. */
	struct stat st;
	char dir[256];
	snprintf(dir, sizeof dir, "%s/runs/t-grant", state_dir);
	assert_int_not_equal(stat(dir, &st), 0);
	free(r.events);
}

static void denied_from_another_shell(void **state)
{
	(void)state;
	answerer a = {.run_id = "t-deny", .step = "go", .wait_for = "go", .by = "bob", .comment = "not now", .approve = false};
	result r = run_with(gate_yaml, "t-deny", &a, 1);
	assert_int_equal(r.status, DR_RUN_FAILED);
	assert_non_null(strstr(r.events, "\"event\":\"approval.denied\",\"step\":\"go\",\"by\":\"bob\""));
	assert_non_null(strstr(r.events, "\"message\":\"denied by bob: not now\""));
	assert_null(strstr(r.events, "\"event\":\"log\""));
	free(r.events);
}

/* One thread plays the other shell: each answer in order, after its gate opened. */
typedef struct script {
	answerer *a;
	size_t n;
} script;

static void *script_main(void *arg)
{
	script *sc = arg;
	for (size_t i = 0; i < sc->n; i++)
		answer_main(&sc->a[i]);
	return NULL;
}

static result run_script(const char *yaml, const char *run_id, answerer *answers, size_t n)
{
	dr_runbook *rb = fx_compile(NULL, yaml);
	dr_exec_opts o;
	dr_exec_opts_init(&o);
	o.run_id = run_id;
	o.state_dir = state_dir;
	result r = {0};
	size_t len;
	o.events = open_memstream(&r.events, &len);
	script sc = {answers, n};
	pthread_t th;
	pthread_create(&th, NULL, script_main, &sc);
	dr_buf err;
	dr_buf_init(&err);
	r.status = dr_exec_run(rb, &o, &err);
	pthread_join(th, NULL);
	fclose(o.events);
	dr_buf_dispose(&err);
	dr_runbook_free(rb);
	return r;
}

static void only_approvers_may_answer(void **state)
{
	(void)state;
	answerer a[2] = {
		{.run_id = "t-who", .step = "go", .wait_for = "go", .by = "mallory", .approve = true},
		{.run_id = "t-who", .step = "go", .wait_for = "go", .by = "bob", .approve = true},
	};
	result r = run_script(gate_yaml, "t-who", a, 2);
	assert_int_equal(a[0].answered, -1);
	assert_non_null(strstr(a[0].err, "you are 'mallory' (the user running drover approve), not one of the approvers "
					 "[\"alice\",\"bob\"]; --as only adds a note"));
	assert_int_equal(a[1].answered, 1);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	assert_non_null(strstr(r.events, "\"by\":\"bob\""));
	assert_null(strstr(r.events, "mallory"));
	free(r.events);
}

/* issue 10: the run itself checks approvers: an answer file written past drover approve is ignored. */
static void the_run_checks_approvers(void **state)
{
	(void)state;
	answerer a[2] = {
		{.run_id = "t-hand", .step = "go", .wait_for = "go", .by = "mallory", .approve = true, .by_hand = true},
		{.run_id = "t-hand", .step = "go", .wait_for = "go", .by = "alice", .approve = true},
	};
	result r = run_script(gate_yaml, "t-hand", a, 2);
	assert_int_equal(a[1].answered, 1);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	assert_non_null(strstr(r.events, "an answer by mallory (via drover approve) was ignored: not one of the approvers "
					 "[\\\"alice\\\",\\\"bob\\\"]; still waiting"));
	assert_non_null(strstr(r.events, "\"event\":\"approval.granted\",\"step\":\"go\",\"by\":\"alice\""));
	free(r.events);
}

static const char *fan_yaml = "drover: 1\nname: fan\n"
			      "backend: { kind: sim, vms: [{name: v1}, {name: v2}] }\n"
			      "vm_sets: { all: { match: { name: '^v' } } }\n"
			      "steps:\n"
			      "  - { id: go, action: approve, foreach: all, with: { message: 'ok ${target.name}?', timeout: 30s } }\n";

static void one_answer_for_every_vm(void **state)
{
	(void)state;
	answerer a = {.run_id = "t-fan", .step = "go", .wait_for = "go@v1", .also_wait_for = "go@v2", .by = "carol",
		      .approve = true};
	result r = run_with(fan_yaml, "t-fan", &a, 1);
	assert_int_equal(a.answered, 2);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	char cmd[256];
	snprintf(cmd, sizeof cmd, "\"command\":\"drover approve --state-dir %s t-fan go@v1\"", state_dir);
	assert_non_null(strstr(r.events, cmd));
	assert_non_null(strstr(r.events, "\"event\":\"approval.granted\",\"step\":\"go\",\"target\":\"v1\""));
	assert_non_null(strstr(r.events, "\"event\":\"approval.granted\",\"step\":\"go\",\"target\":\"v2\""));
	free(r.events);
}


/* A person's time is real time: on the virtual clock the gate waits for real and the clock stands still. */
static void a_person_waits_in_real_time(void **state)
{
	(void)state;
	const char *yaml = "drover: 1\nname: v\n"
			   "steps:\n  - { id: go, action: approve, with: { message: 'go?', timeout: 1h } }\n"
			   "  - { id: after, action: log, needs: go, with: { message: done } }\n";
	answerer a = {.run_id = "t-virtual", .step = "go", .wait_for = "go", .by = "alice", .approve = true, .delay_ms = 300};
	result r = run_on(yaml, "t-virtual", &a, 1, DR_CLOCK_VIRTUAL);
	assert_int_equal(a.answered, 1);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED); /* not an hour of virtual time gone in a blink */
	const char *g = strstr(r.events, "\"event\":\"approval.granted\"");
	assert_non_null(g);
	const char *w = strstr(g, "\"waited_ms\":");
	assert_non_null(w);
	assert_true(atoi(w + 12) >= 300); /* the real wait */
	assert_non_null(strstr(r.events, "\"event\":\"run.end\",\"status\":\"succeeded\",\"exit\":0,\"elapsed_ms\":0"));
	free(r.events);
}

/* A gate's own timeout and on_timeout decide, not defaults.timeout (the quickstart's trap). */
static void the_gate_timeout_wins_over_defaults(void **state)
{
	(void)state;
	const char *yaml = "drover: 1\nname: d\ndefaults: { timeout: 200ms }\n"
			   "steps:\n  - { id: go, action: approve, with: { message: 'go?', timeout: 600ms, on_timeout: approve } }\n";
	result r = run_with(yaml, "t-defaults", NULL, 0);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	assert_non_null(strstr(r.events, "\"event\":\"approval.timeout\",\"step\":\"go\",\"decision\":\"approve\",\"waited_ms\":600"));
	free(r.events);
}

/*
 * A gate decided by its timeout waited exactly its timeout, however the
 * clock is read after it ran out (the flaky golden run/approval-timeout-approve:
 * approval.granted said waited_ms 1001 on a loaded machine).
 */
static void the_timeout_is_what_it_waited(void **state)
{
	(void)state;
	const char *yaml = "drover: 1\nname: t\n"
			   "steps:\n  - { id: go, action: approve, with: { message: 'go?', timeout: 300ms, on_timeout: approve } }\n"
			   "  - { id: after, action: log, needs: go, with: { message: 'waited ${steps.go.outputs.waited_ms}' } }\n";
	__atomic_store_n(&skew_clock, 1, __ATOMIC_RELAXED);
	result r = run_on(yaml, "t-waited", NULL, 0, DR_CLOCK_VIRTUAL);
	__atomic_store_n(&skew_clock, 0, __ATOMIC_RELAXED);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	assert_non_null(strstr(r.events, "\"event\":\"approval.timeout\",\"step\":\"go\",\"decision\":\"approve\",\"waited_ms\":300}"));
	assert_non_null(strstr(r.events, "\"event\":\"approval.granted\",\"step\":\"go\",\"by\":\"timeout\""));
	const char *g = strstr(r.events, "\"event\":\"approval.granted\"");
	assert_non_null(strstr(g, "\"waited_ms\":300}"));
	assert_non_null(strstr(r.events, "\"message\":\"waited 300\""));
	free(r.events);
}

static void files_one_answer_per_gate(void **state)
{
	(void)state;
	char run_dir[256];
	snprintf(run_dir, sizeof run_dir, "%s/runs/t-files", state_dir);
	dr_buf out, err;
	dr_buf_init(&out);
	dr_buf_init(&err);
	cJSON *ans = cJSON_CreateObject();
	cJSON_AddBoolToObject(ans, "approved", true);
	cJSON_AddStringToObject(ans, "by", "dave");
	/* No gate open: nothing answered, and the message says so. */
	assert_int_equal(dr_approval_answer(run_dir, "go", ans, &out, &err), 0);
	assert_non_null(strstr(err.data, "no open approval of step 'go'"));
	dr_buf_reset(&err);
	cJSON *req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "step", "go");
	assert_int_equal(dr_approval_post(run_dir, "go", req, &err), 0);
	cJSON *got = NULL;
	assert_int_equal(dr_approval_poll(run_dir, "go", &got, &err), 0);
	assert_int_equal(dr_approval_answer(run_dir, "go", ans, &out, &err), 1);
	assert_string_equal(out.data, "go: approved\n");
	/* A second answer to the same gate is refused. */
	assert_int_equal(dr_approval_answer(run_dir, "go", ans, &out, &err), -1);
	assert_non_null(strstr(err.data, "it was answered before"));
	assert_int_equal(dr_approval_poll(run_dir, "go", &got, &err), 1);
	assert_string_equal(cJSON_GetObjectItem(got, "by")->valuestring, "dave");
	cJSON_Delete(got);
	/* The gate reopened by a resume (its request is still there) keeps the answer given meanwhile. */
	assert_int_equal(dr_approval_post(run_dir, "go", req, &err), 0);
	got = NULL;
	assert_int_equal(dr_approval_poll(run_dir, "go", &got, &err), 1);
	cJSON_Delete(got);
	/* Once the gate closed (withdrawn), a new question starts without an answer. */
	dr_approval_withdraw(run_dir, "go");
	assert_int_equal(dr_approval_answer(run_dir, "go", ans, &out, &err), 0);
	dr_buf_reset(&err);
	/* Prefixes are not matches: "go" does not answer "go-live". */
	dr_buf_reset(&err);
	assert_int_equal(dr_approval_post(run_dir, "go-live", req, &err), 0);
	assert_int_equal(dr_approval_answer(run_dir, "go-l", ans, &out, &err), 0);
	dr_approval_withdraw(run_dir, "go-live");
	dr_approval_withdraw(run_dir, "go");
	struct stat st;
	assert_int_not_equal(stat(run_dir, &st), 0);
	char *key = dr_approval_key("step", "a/b");
	assert_string_equal(key, "step@a_b");
	free(key);
	char user[64];
	dr_approval_user(user, sizeof user);
	assert_true(user[0] != '\0');
	cJSON_Delete(req);
	cJSON_Delete(ans);
	dr_buf_dispose(&out);
	dr_buf_dispose(&err);
}

int main(void)
{
	state_dir = fx_mkdir("state"); /* a folder of this process's own: other worktrees run this test at the same time */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(granted_from_another_shell),
		cmocka_unit_test(denied_from_another_shell),
		cmocka_unit_test(only_approvers_may_answer),
		cmocka_unit_test(the_run_checks_approvers),
		cmocka_unit_test(one_answer_for_every_vm),
		cmocka_unit_test(a_person_waits_in_real_time),
		cmocka_unit_test(the_gate_timeout_wins_over_defaults),
		cmocka_unit_test(the_timeout_is_what_it_waited),
		cmocka_unit_test(files_one_answer_per_gate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
