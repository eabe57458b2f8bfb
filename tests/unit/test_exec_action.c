/*
 * test_exec_action.c - the `exec` action against real processes.
 *
 * Each call is built by hand: a with: object written as JSON, a deadline,
 * a cancellation flag. The table cases give what must come out (status,
 * class, outputs, a fragment of the message); the tests after it cover what
 * a table cannot: timeouts that must kill grandchildren, cancellation from
 * another thread, blocked signals, descriptors, concurrency.
 *
 * The test process makes itself a child subreaper, so processes orphaned
 * by a killed group are reparented here and their fate can be read with
 * waitpid.
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
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actions/family.h"
#include "front/runbook.h"

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Run exec with the with: object given as JSON; deadline_left < 0: no deadline. */
static dr_outcome run_with(const char *json, int64_t deadline_left, const volatile int *cancel,
			   const dr_step *step)
{
	cJSON *with = cJSON_Parse(json);
	if (!with)
		fail_msg("bad JSON in test: %s", json);
	dr_call call = {
		.step = step,
		.with = with,
		.attempt = 1,
		.now_ms = 5000,
		.deadline_ms = deadline_left < 0 ? INT64_MAX : 5000 + deadline_left,
		.cancel_requested = cancel,
	};
	dr_outcome o = dr_action_exec_run(&call);
	cJSON_Delete(with);
	return o;
}

static void outcome_dispose(dr_outcome *o)
{
	free(o->message);
	cJSON_Delete(o->outputs);
}

static const char *str_out(const dr_outcome *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o->outputs, key));
}

static double num_out(const dr_outcome *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o->outputs, key);
	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

/* ---------------------------------------------------------------- table */

#define OK_ -1 /* cls of a case that succeeds */

typedef struct xcase {
	const char *with;
	int cls; /* OK_ or a dr_err_class */
	int exit_code; /* OK: expected exit_code (-1: null) */
	const char *out, *err; /* OK: expected stdout, stderr (NULL: not checked) */
	const char *msg; /* FAIL: fragment of the message */
} xcase;

static const xcase cases[] = {
	{"{\"argv\": [\"/bin/true\"]}", OK_, 0, "", "", NULL},
	{"{\"argv\": [\"true\"]}", OK_, 0, "", "", NULL}, /* PATH lookup */
	{"{\"argv\": [\"sh\", \"-c\", \"echo out; echo err >&2\"]}", OK_, 0, "out\n", "err\n", NULL},
	{"{\"argv\": [\"printf\", \"%s|\", \"a b\", \"$HOME\", \"*\", \";\"]}", OK_, 0, "a b|$HOME|*|;|", "", NULL},
	{"{\"argv\": [\"printf\", \"%s-%s-%s\", 7, true, 2.5]}", OK_, 0, "7-true-2.5", "", NULL},
	{"{\"argv\": [\"cat\"]}", OK_, 0, "", "", NULL}, /* stdin is /dev/null */
	/* exit status expectations: a failed run is transient (a plain retry: retries it), unless retry_exit lists
	 * the statuses that are */
	{"{\"argv\": [\"sh\", \"-c\", \"echo first >&2; echo boom >&2; exit 3\"]}", DR_ERRC_TRANSIENT, 0, NULL, NULL,
	 "sh exited with status 3 (expected 0); stderr: boom"},
	{"{\"argv\": [\"sh\", \"-c\", \"echo only-out; exit 1\"]}", DR_ERRC_TRANSIENT, 0, NULL, NULL,
	 "sh exited with status 1 (expected 0); stdout: only-out"},
	{"{\"argv\": [\"sh\", \"-c\", \"exit 3\"], \"expect_exit\": [0, 3]}", OK_, 3, "", "", NULL},
	{"{\"argv\": [\"sh\", \"-c\", \"exit 0\"], \"expect_exit\": 4}", DR_ERRC_TRANSIENT, 0, NULL, NULL,
	 "status 0 (expected 4)"},
	{"{\"argv\": [\"sh\", \"-c\", \"exit 1\"], \"expect_exit\": [0, 2]}", DR_ERRC_TRANSIENT, 0, NULL, NULL,
	 "(expected 0, 2)"},
	{"{\"argv\": [\"sh\", \"-c\", \"exit 75\"], \"retry_exit\": [75, 76]}", DR_ERRC_TRANSIENT, 0, NULL, NULL,
	 "status 75"},
	{"{\"argv\": [\"sh\", \"-c\", \"exit 77\"], \"retry_exit\": 75}", DR_ERRC_PERMANENT, 0, NULL, NULL,
	 "sh exited with status 77 (expected 0; retry_exit lists 75)"},
	{"{\"argv\": [\"sh\", \"-c\", \"kill -9 $$\"]}", DR_ERRC_TRANSIENT, 0, NULL, NULL, "sh was killed by SIGKILL"},
	/* output expectations */
	{"{\"argv\": [\"echo\", \"status: healthy\"], \"stdout_match\": \"^status: (healthy|ok)$\"}", OK_, 0,
	 "status: healthy\n", "", NULL},
	{"{\"argv\": [\"echo\", \"status: sick\"], \"stdout_match\": \"healthy\"}", DR_ERRC_TRANSIENT, 0, NULL, NULL,
	 "standard output of echo does not match /healthy/"},
	{"{\"argv\": [\"sh\", \"-c\", \"echo a; echo warn >&2\"], \"stderr_match\": \"(?m)^warn$\"}", OK_, 0, "a\n",
	 "warn\n", NULL},
	{"{\"argv\": [\"sh\", \"-c\", \"echo a\"], \"stderr_match\": \"x\"}", DR_ERRC_TRANSIENT, 0, NULL, NULL,
	 "standard error of sh does not match /x/"},
	{"{\"argv\": [\"printf\", \"\\\\377ok\\\\000!\"]}", OK_, 0, "\xEF\xBF\xBDok\xEF\xBF\xBD!", "", NULL},
	/* environment */
	{"{\"argv\": [\"sh\", \"-c\", \"echo \\\"$FOO $N $B\\\"\"], \"env\": {\"FOO\": \"bar baz\", \"N\": 5, \"B\": false}}",
	 OK_, 0, "bar baz 5 false\n", "", NULL},
	{"{\"argv\": [\"sh\", \"-c\", \"echo ${EXEC_TEST_VAR-unset}\"], \"env\": {\"EXEC_TEST_VAR\": null}}", OK_, 0,
	 "unset\n", "", NULL},
	{"{\"argv\": [\"sh\", \"-c\", \"echo $EXEC_TEST_VAR\"]}", OK_, 0, "inherited\n", "", NULL},
	{"{\"argv\": [\"sh\", \"-c\", \"echo $EXEC_TEST_VAR\"], \"env\": {\"EXEC_TEST_VAR\": \"over\"}}", OK_, 0,
	 "over\n", "", NULL},
	/* working directory */
	{"{\"argv\": [\"pwd\"], \"cwd\": \"/\"}", OK_, 0, "/\n", "", NULL},
	{"{\"argv\": [\"pwd\"], \"cwd\": \"/no/such/dir\"}", DR_ERRC_PERMANENT, 0, NULL, NULL,
	 "with.cwd: '/no/such/dir': No such file or directory"},
	{"{\"argv\": [\"pwd\"], \"cwd\": \"/etc/passwd\"}", DR_ERRC_PERMANENT, 0, NULL, NULL,
	 "with.cwd: '/etc/passwd' is not a directory"},
	/* programs that cannot start */
	{"{\"argv\": [\"drover-no-such-command\", \"x\"]}", DR_ERRC_PERMANENT, 0, NULL, NULL,
	 "command not found: drover-no-such-command"},
	{"{\"argv\": [\"/no/such/program\"]}", DR_ERRC_PERMANENT, 0, NULL, NULL, "command not found: /no/such/program"},
	{"{\"argv\": [\"/etc/passwd\"]}", DR_ERRC_PERMANENT, 0, NULL, NULL, "permission denied: /etc/passwd"},
	/* inputs the checker would have refused, or that evaluated badly */
	{"{}", DR_ERRC_PERMANENT, 0, NULL, NULL, "with.argv: a non-empty list"},
	{"{\"argv\": []}", DR_ERRC_PERMANENT, 0, NULL, NULL, "with.argv: a non-empty list"},
	{"{\"argv\": [\"\"]}", DR_ERRC_PERMANENT, 0, NULL, NULL, "with.argv[0]: the program name is empty"},
	{"{\"argv\": [\"echo\", [1]]}", DR_ERRC_PERMANENT, 0, NULL, NULL, "with.argv[1]: an argument is text, not a list"},
	{"{\"argv\": [\"echo\", null]}", DR_ERRC_PERMANENT, 0, NULL, NULL, "with.argv[1]: an argument is text, not a null"},
	{"{\"argv\": [\"true\"], \"env\": {\"A=B\": \"x\"}}", DR_ERRC_PERMANENT, 0, NULL, NULL,
	 "with.env: 'A=B' is not a variable name"},
	{"{\"argv\": [\"true\"], \"env\": {\"A\": {}}}", DR_ERRC_PERMANENT, 0, NULL, NULL,
	 "with.env.A: a value is text, not a mapping"},
	{"{\"argv\": [\"true\"], \"expect_exit\": 256}", DR_ERRC_PERMANENT, 0, NULL, NULL,
	 "with.expect_exit: an exit status is an integer from 0 to 255"},
	{"{\"argv\": [\"true\"], \"timeout\": \"soon\"}", DR_ERRC_PERMANENT, 0, NULL, NULL,
	 "with.timeout: a duration like 30s is required"},
	{"{\"argv\": [\"true\"], \"max_output\": 0}", DR_ERRC_PERMANENT, 0, NULL, NULL, "with.max_output:"},
	{"{\"argv\": [\"true\"], \"stdout_match\": \"(\"}", DR_ERRC_PERMANENT, 0, NULL, NULL,
	 "with.stdout_match: bad regular expression at offset 1"},
};

static void check_case(const xcase *c, const dr_outcome *o)
{
	if (c->cls == OK_) {
		if (o->status != DR_ACT_OK)
			fail_msg("%s: expected OK, got FAIL: %s", c->with, o->message);
		assert_int_equal(num_out(o, "exit_code"), c->exit_code);
		assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o->outputs, "signal")));
		assert_true(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(o->outputs, "truncated")));
		assert_true(num_out(o, "duration_ms") >= 0);
		if (c->out)
			assert_string_equal(str_out(o, "stdout"), c->out);
		if (c->err)
			assert_string_equal(str_out(o, "stderr"), c->err);
		return;
	}
	if (o->status != DR_ACT_FAIL || (int)o->cls != c->cls || !o->message || !strstr(o->message, c->msg))
		fail_msg("%s: expected FAIL class %d with '%s', got status %d class %d: %s", c->with, c->cls, c->msg,
			 o->status, o->cls, o->message ? o->message : "(no message)");
	assert_null(o->outputs);
	assert_int_equal(o->retry_after_ms, -1);
}

static void test_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		dr_outcome o = run_with(cases[i].with, -1, NULL, NULL);
		check_case(&cases[i], &o);
		outcome_dispose(&o);
	}
}

/* ----------------------------------------------------------- truncation */

static void test_truncation(void **state)
{
	(void)state;
	/* 2 MB through a pipe of 64 KiB: the reader must keep up, keep 1000 bytes, and say so */
	dr_outcome o = run_with("{\"argv\": [\"sh\", \"-c\", \"head -c 2000000 /dev/zero | tr '\\\\0' a; echo e >&2\"],"
				" \"max_output\": 1000, \"stdout_match\": \"^a{1000}$\"}",
				10000, NULL, NULL);
	if (o.status != DR_ACT_OK)
		fail_msg("%s", o.message);
	assert_int_equal(strlen(str_out(&o, "stdout")), 1000);
	assert_string_equal(str_out(&o, "stderr"), "e\n");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o.outputs, "truncated")));
	outcome_dispose(&o);

	o = run_with("{\"argv\": [\"echo\", \"0123456789\"], \"max_output\": 4, \"stdout_match\": \"6\"}", -1, NULL, NULL);
	assert_int_equal(o.status, DR_ACT_FAIL);
	assert_non_null(strstr(o.message, "only the first max_output bytes are kept"));
	outcome_dispose(&o);
}

/* ------------------------------------------------------------- timeouts */

static char tmpdir[64];

/* The pid written to file by the test's shell, waiting for it to appear. */
static pid_t read_pid(const char *file)
{
	for (int i = 0; i < 200; i++) {
		FILE *f = fopen(file, "r");
		int pid = 0;
		if (f) {
			int n = fscanf(f, "%d", &pid);
			fclose(f);
			if (n == 1 && pid > 0)
				return pid;
		}
		usleep(10000);
	}
	fail_msg("no pid in %s", file);
	return -1;
}

/*
 * The background process pid ends by signal sig within 2 s. Orphaned, it is
 * reparented to us (the subreaper) and we read how it ended; when it died
 * before its shell, the shell reaped it: then it must simply be gone.
 */
static void assert_killed(pid_t pid, int sig)
{
	int status = 0;
	for (int i = 0; i < 200; i++) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			assert_true(WIFSIGNALED(status));
			assert_int_equal(WTERMSIG(status), sig);
			return;
		}
		if (r < 0 && errno == ECHILD) {
			assert_int_equal(kill(pid, 0), -1);
			assert_int_equal(errno, ESRCH);
			return;
		}
		assert_int_equal(r, 0);
		usleep(10000);
	}
	kill(pid, SIGKILL);
	fail_msg("process %d is still running", (int)pid);
}

/* A shell that starts a background sleep (its pid to a file) and waits on a foreground one. */
static char *sleeper_with(const char *pidfile, const char *prelude, const char *extra)
{
	static const char fmt[] = "{\"argv\": [\"sh\", \"-c\", \"%s sleep 30 & echo $! > %s; sleep 30\"]%s}";
	size_t n = sizeof fmt + strlen(pidfile) + strlen(prelude) + strlen(extra);
	char *s = malloc(n);
	snprintf(s, n, fmt, prelude, pidfile, extra);
	unlink(pidfile);
	return s;
}

static void test_timeout_kills_group(void **state)
{
	(void)state;
	char pidfile[128];
	snprintf(pidfile, sizeof pidfile, "%s/bg1", tmpdir);
	char *with = sleeper_with(pidfile, "", ", \"timeout\": \"300ms\"");
	int64_t t0 = mono_ms();
	dr_outcome o = run_with(with, -1, NULL, NULL);
	int64_t took = mono_ms() - t0;
	assert_int_equal(o.status, DR_ACT_FAIL);
	assert_int_equal(o.cls, DR_ERRC_TIMEOUT);
	assert_string_equal(o.message, "sh timed out after 300ms (with.timeout); its process group was sent SIGTERM");
	assert_true(took >= 300 && took < 2000);
	assert_killed(read_pid(pidfile), SIGTERM); /* the grandchild too */
	outcome_dispose(&o);
	free(with);
}

static void test_timeout_sigkill_after_grace(void **state)
{
	(void)state;
	char pidfile[128];
	snprintf(pidfile, sizeof pidfile, "%s/bg2", tmpdir);
	/* SIGTERM ignored by the shell and (inherited) by both sleeps */
	char *with = sleeper_with(pidfile, "trap '' TERM;", ", \"timeout\": \"200ms\", \"kill_grace\": \"300ms\"");
	int64_t t0 = mono_ms();
	dr_outcome o = run_with(with, -1, NULL, NULL);
	int64_t took = mono_ms() - t0;
	assert_int_equal(o.cls, DR_ERRC_TIMEOUT);
	assert_non_null(strstr(o.message, "was sent SIGTERM and, 300ms later, SIGKILL"));
	assert_true(took >= 500 && took < 2500);
	assert_killed(read_pid(pidfile), SIGKILL);
	outcome_dispose(&o);
	free(with);
}

static void test_deadline(void **state)
{
	(void)state;
	int64_t t0 = mono_ms();
	dr_outcome o = run_with("{\"argv\": [\"sleep\", \"30\"], \"timeout\": \"1m\"}", 250, NULL, NULL);
	int64_t took = mono_ms() - t0;
	assert_int_equal(o.cls, DR_ERRC_TIMEOUT);
	assert_string_equal(o.message, "sleep timed out after 250ms (the attempt's deadline); its process group was sent SIGTERM");
	assert_true(took >= 250 && took < 2000);
	outcome_dispose(&o);

	o = run_with("{\"argv\": [\"true\"]}", 0, NULL, NULL);
	assert_int_equal(o.cls, DR_ERRC_TIMEOUT);
	assert_string_equal(o.message, "true was not started: no time left (the attempt's deadline)");
	outcome_dispose(&o);

	/* a deadline far away does not get in the way */
	o = run_with("{\"argv\": [\"true\"], \"timeout\": 5000}", 60000, NULL, NULL);
	assert_int_equal(o.status, DR_ACT_OK);
	outcome_dispose(&o);
}

/* SIGTERM blocked in the calling thread must not be blocked in the child. */
static void test_signal_mask_not_inherited(void **state)
{
	(void)state;
	sigset_t term, old;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, &old);
	int64_t t0 = mono_ms();
	dr_outcome o = run_with("{\"argv\": [\"sleep\", \"30\"], \"timeout\": \"100ms\", \"kill_grace\": \"5s\"}", -1, NULL,
				NULL);
	int64_t took = mono_ms() - t0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	assert_int_equal(o.cls, DR_ERRC_TIMEOUT);
	assert_null(strstr(o.message, "SIGKILL"));
	assert_true(took < 2000);
	outcome_dispose(&o);
}

/* --------------------------------------------------------- cancellation */

typedef struct canceller {
	volatile int *flag;
	int after_ms;
} canceller;

static void *cancel_later(void *arg)
{
	canceller *c = arg;
	usleep((useconds_t)c->after_ms * 1000);
	__atomic_store_n(c->flag, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void test_cancel(void **state)
{
	(void)state;
	volatile int flag = 0;
	canceller c = {&flag, 200};
	pthread_t th;
	char pidfile[128];
	snprintf(pidfile, sizeof pidfile, "%s/bg3", tmpdir);
	char *with = sleeper_with(pidfile, "", "");
	int64_t t0 = mono_ms();
	pthread_create(&th, NULL, cancel_later, &c);
	dr_outcome o = run_with(with, -1, &flag, NULL);
	int64_t took = mono_ms() - t0;
	pthread_join(th, NULL);
	assert_int_equal(o.status, DR_ACT_FAIL);
	assert_int_equal(o.cls, DR_ERRC_CANCELLED);
	assert_string_equal(o.message, "cancelled while sh was running; its process group was sent SIGTERM");
	assert_true(took >= 200 && took < 2000);
	assert_killed(read_pid(pidfile), SIGTERM);
	outcome_dispose(&o);
	free(with);

	o = run_with("{\"argv\": [\"true\"]}", -1, &flag, NULL); /* already cancelled */
	assert_int_equal(o.cls, DR_ERRC_CANCELLED);
	outcome_dispose(&o);
	dr_action_exec_cancel(NULL); /* nothing to release */
}

/* ------------------------------------------------------------ the rest */

/* Background processes left by a program that exits do not hold the step. */
static void test_background_left_running(void **state)
{
	(void)state;
	char pidfile[128];
	snprintf(pidfile, sizeof pidfile, "%s/bg4", tmpdir);
	char with[512];
	snprintf(with, sizeof with, "{\"argv\": [\"sh\", \"-c\", \"sleep 30 & echo $! > %s; echo done\"]}", pidfile);
	int64_t t0 = mono_ms();
	dr_outcome o = run_with(with, -1, NULL, NULL);
	assert_true(mono_ms() - t0 < 1000);
	assert_int_equal(o.status, DR_ACT_OK);
	assert_string_equal(str_out(&o, "stdout"), "done\n");
	pid_t bg = read_pid(pidfile);
	assert_int_equal(kill(bg, 0), 0); /* still there, as a shell would leave it */
	kill(bg, SIGKILL);
	assert_killed(bg, SIGKILL);
	outcome_dispose(&o);
}

/* Only 0, 1, 2 are open in the child (ls opens the directory as 3). */
static void test_descriptors(void **state)
{
	(void)state;
	int leaky = open("/dev/null", O_RDONLY); /* no O_CLOEXEC */
	assert_true(leaky > 2);
	dr_outcome o = run_with("{\"argv\": [\"ls\", \"/proc/self/fd\"]}", -1, NULL, NULL);
	close(leaky);
	assert_int_equal(o.status, DR_ACT_OK);
	assert_string_equal(str_out(&o, "stdout"), "0\n1\n2\n3\n");
	outcome_dispose(&o);
}

static void test_cwd_relative_to_step(void **state)
{
	(void)state;
	char sub[128], file[128];
	snprintf(sub, sizeof sub, "%s/sub", tmpdir);
	snprintf(file, sizeof file, "%s/runbook.yaml", tmpdir);
	mkdir(sub, 0700);
	dr_step step;
	memset(&step, 0, sizeof step);
	step.loc.file = file;

	char want[160];
	dr_outcome o = run_with("{\"argv\": [\"pwd\"]}", -1, NULL, &step);
	snprintf(want, sizeof want, "%s\n", tmpdir);
	assert_string_equal(str_out(&o, "stdout"), want);
	outcome_dispose(&o);

	o = run_with("{\"argv\": [\"pwd\"], \"cwd\": \"sub\"}", -1, NULL, &step);
	snprintf(want, sizeof want, "%s\n", sub);
	assert_string_equal(str_out(&o, "stdout"), want);
	outcome_dispose(&o);

	/* a relative program path is found from there too */
	char script[160];
	snprintf(script, sizeof script, "%s/hello.sh", sub);
	FILE *f = fopen(script, "w");
	fputs("#!/bin/sh\necho hello from $(basename $(pwd))\n", f);
	fclose(f);
	chmod(script, 0700);
	o = run_with("{\"argv\": [\"./sub/hello.sh\"]}", -1, NULL, &step);
	if (o.status != DR_ACT_OK)
		fail_msg("%s", o.message);
	snprintf(want, sizeof want, "hello from %s\n", strrchr(tmpdir, '/') + 1); /* run in the step's directory */
	assert_string_equal(str_out(&o, "stdout"), want);
	outcome_dispose(&o);
	unlink(script);
	rmdir(sub);
}

typedef struct par {
	int i;
	dr_outcome o;
} par;

static void *run_one(void *arg)
{
	par *p = arg;
	char with[160];
	snprintf(with, sizeof with, "{\"argv\": [\"sh\", \"-c\", \"sleep 0.3; echo %d; echo e%d >&2\"]}", p->i, p->i);
	p->o = run_with(with, -1, NULL, NULL);
	return NULL;
}

/* Several workers at once: outputs do not mix, the waits overlap. */
static void test_concurrent(void **state)
{
	(void)state;
	enum { N = 6 };
	par ps[N];
	pthread_t th[N];
	int64_t t0 = mono_ms();
	for (int i = 0; i < N; i++) {
		ps[i].i = i;
		pthread_create(&th[i], NULL, run_one, &ps[i]);
	}
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	int64_t took = mono_ms() - t0;
	for (int i = 0; i < N; i++) {
		char want[16];
		assert_int_equal(ps[i].o.status, DR_ACT_OK);
		snprintf(want, sizeof want, "%d\n", i);
		assert_string_equal(str_out(&ps[i].o, "stdout"), want);
		snprintf(want, sizeof want, "e%d\n", i);
		assert_string_equal(str_out(&ps[i].o, "stderr"), want);
		outcome_dispose(&ps[i].o);
	}
	assert_true(took < 300 * N / 2);
}

static int setup(void **state)
{
	(void)state;
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	setenv("EXEC_TEST_VAR", "inherited", 1);
	snprintf(tmpdir, sizeof tmpdir, "/tmp/drover-exec-XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	static const char *const files[] = {"bg1", "bg2", "bg3", "bg4"};
	char path[128];
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", tmpdir, files[i]);
		unlink(path);
	}
	rmdir(tmpdir);
	while (waitpid(-1, NULL, WNOHANG) > 0) /* orphans reparented to us */
		;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_timeout_kills_group),
		cmocka_unit_test(test_timeout_sigkill_after_grace),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_signal_mask_not_inherited),
		cmocka_unit_test(test_cancel),
		cmocka_unit_test(test_background_left_running),
		cmocka_unit_test(test_descriptors),
		cmocka_unit_test(test_cwd_relative_to_step),
		cmocka_unit_test(test_concurrent),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
