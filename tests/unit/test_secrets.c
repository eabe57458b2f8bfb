/*
 * test_secrets.c - run/secrets.c: reading secrets from files the way an
 * operator (or a mistake) leaves them, and redacting every form a secret
 * takes on its way out, also when a text is cut (issue 10).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "front/runbook.h"
#include "run/secrets.h"
#include "util/buf.h"
#include "fixture.h"

static const char *dir; /* the fixture's (fixture.h) */

static int setup(void **state)
{
	(void)state;
	dir = fx_newdir();
	return 0;
}

static void put(const char *name, const char *text, size_t n, mode_t mode)
{
	char p[256];
	snprintf(p, sizeof p, "%s/%s", dir, name);
	unlink(p);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	close(fd);
	assert_int_equal(chmod(p, mode), 0);
}

/* The value of a secret read from file (relative to dir); NULL with the message in err. */
static char *from_file(const char *file, dr_buf *err)
{
	dr_secret sec = {.name = {.name = "pw"}, .file = file};
	dr_buf_reset(err);
	return dr_secrets_read(&sec, dir, err);
}

static void refused(const char *file, const char *why)
{
	dr_buf err;
	dr_buf_init(&err);
	char *v = from_file(file, &err);
	if (v || !strstr(err.data, why))
		fail_msg("%s: expected '%s', got %s / %s", file, why, v ? v : "(null)", err.data);
	assert_non_null(strstr(err.data, "secrets.pw: cannot use the file"));
	dr_buf_dispose(&err);
}

static void test_read_files(void **state)
{
	(void)state;
	dr_buf err;
	dr_buf_init(&err);
	put("good", "s3cr3t-value\n\n", 14, 0600);
	char *v = from_file("good", &err);
	assert_string_equal(v, "s3cr3t-value");
	free(v);
	char link[300], target[300];
	snprintf(link, sizeof link, "%s/link", dir); /* Kubernetes mounts secrets through links */
	snprintf(target, sizeof target, "%s/good", dir);
	assert_int_equal(symlink(target, link), 0);
	v = from_file("link", &err);
	assert_string_equal(v, "s3cr3t-value");
	free(v);
	put("loose", "x-value", 7, 0644);
	refused("loose", "can be read or written by other users (mode 0644): make it owner-only (chmod 600)");
	put("group", "x-value", 7, 0640);
	refused("group", "by its group (mode 0640)");
	put("empty", "", 0, 0600);
	refused("empty", "it is empty");
	put("newlines", "\n\r\n", 3, 0600);
	refused("newlines", "it is empty");
	put("nul", "ab\0cd", 5, 0600);
	refused("nul", "NUL");
	char *big = calloc(1, DR_SECRET_MAX_BYTES + 2);
	memset(big, 'x', DR_SECRET_MAX_BYTES + 1);
	put("big", big, DR_SECRET_MAX_BYTES + 1, 0600);
	free(big);
	refused("big", "more than a secret's limit of 65536");
	char sub[300];
	snprintf(sub, sizeof sub, "%s/adir", dir);
	mkdir(sub, 0700);
	refused("adir", "it is a directory");
	refused("missing", "No such file or directory");
	refused("/dev/zero", "not a regular file"); /* used to abort the run, out of memory */
	/* a FIFO without a writer: refused at once, never waited on */
	char fifo[300];
	snprintf(fifo, sizeof fifo, "%s/fifo", dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	alarm(5); /* a hang fails the test instead of blocking the suite */
	refused("fifo", "it is a FIFO");
	alarm(0);
	dr_buf_dispose(&err);
}

static void test_read_env(void **state)
{
	(void)state;
	dr_buf err;
	dr_buf_init(&err);
	dr_secret sec = {.name = {.name = "tok"}, .env = "DROVER_TEST_SECRET_ENV"};
	unsetenv("DROVER_TEST_SECRET_ENV");
	assert_null(dr_secrets_read(&sec, dir, &err));
	assert_string_equal(err.data, "secrets.tok: the environment variable DROVER_TEST_SECRET_ENV is not set\n");
	setenv("DROVER_TEST_SECRET_ENV", "", 1);
	dr_buf_reset(&err);
	assert_null(dr_secrets_read(&sec, dir, &err));
	assert_non_null(strstr(err.data, "is empty"));
	setenv("DROVER_TEST_SECRET_ENV", "t0ken-value", 1);
	char *v = dr_secrets_read(&sec, dir, &err);
	assert_string_equal(v, "t0ken-value");
	free(v);
	unsetenv("DROVER_TEST_SECRET_ENV");
	dr_buf_dispose(&err);
}

/* text after redaction (a copy either way). */
static char *red(dr_secrets *s, const char *text)
{
	char *r = dr_secrets_redact(s, text);
	return r ? r : strdup(text);
}

static void expect_clean(dr_secrets *s, const char *text, const char *secret_form)
{
	char *r = red(s, text);
	if (strstr(r, secret_form))
		fail_msg("'%s' still holds '%s' after redaction: %s", text, secret_form, r);
	assert_non_null(strstr(r, "***"));
	free(r);
}

static char *b64(const char *s)
{
	size_t n = strlen(s);
	char *out = calloc(1, 4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s, (int)n);
	return out;
}

static void test_redact_forms(void **state)
{
	(void)state;
	dr_secrets *s = dr_secrets_new();
	assert_true(dr_secrets_none(s));
	dr_secrets_add(s, "pw", "p@ss word/+\"x");
	dr_secrets_add(s, "short", "abc"); /* too short to redact */
	assert_false(dr_secrets_none(s));
	expect_clean(s, "login with p@ss word/+\"x refused", "p@ss word");
	/* base64 at every alignment, and inside user:password (HTTP Basic) */
	const char *wrapped[] = {"p@ss word/+\"x", "u:p@ss word/+\"x", "us:p@ss word/+\"x", "p@ss word/+\"x:tail"};
	for (size_t i = 0; i < sizeof wrapped / sizeof wrapped[0]; i++) {
		char *e = b64(wrapped[i]), text[256];
		snprintf(text, sizeof text, "Authorization: Basic %s", e);
		char *r = red(s, text);
		assert_non_null(strstr(r, "***"));
		/* what is left of the encoding no longer decodes to the secret */
		assert_null(strstr(r, e));
		free(r);
		free(e);
	}
	expect_clean(s, "url: https://h/?t=p%40ss%20word%2F%2B%22x", "p%40ss%20word");
	expect_clean(s, "url: https://h/?t=p%40ss%20word%2f%2b%22x", "p%40ss%20word%2f");
	expect_clean(s, "form: t=p%40ss+word%2F%2B%22x", "p%40ss+word");
	expect_clean(s, "{\"token\":\"p@ss word/+\\\"x\"}", "p@ss word/+\\\"x");
	/* a text that is the value and nothing else: the reference */
	char *r = dr_secrets_redact(s, "p@ss word/+\"x");
	assert_string_equal(r, "${secrets.pw}");
	free(r);
	assert_null(dr_secrets_redact(s, "abc is short, and nothing here is secret"));
	dr_secrets_free(s);
}

static void test_redact_cut(void **state)
{
	(void)state;
	dr_secrets *s = dr_secrets_new();
	dr_secrets_add(s, "k", "SECRETVALUE");
	bool cut;
	/* a secret across the cut: masked whole, never half */
	const char *t = "0123456789SECRETVALUE tail";
	for (size_t max = 8; max < strlen(t); max++) {
		char *r = dr_secrets_redact_cut(s, t, strlen(t), max, &cut);
		assert_true(cut);
		assert_null(strstr(r, "SECR"));
		assert_true(strlen(r) <= max + 3);
		free(r);
	}
	/* a text that ends with the start of a secret (the rest was not read): that start is dropped */
	const char *u = "output: abcdef SECRETVA";
	char *r = dr_secrets_redact_cut(s, u, strlen(u), 18, &cut);
	assert_true(cut);
	assert_string_equal(r, "output: abcdef ");
	free(r);
	/* nothing to cut */
	r = dr_secrets_redact_cut(s, "short SECRETVALUE", 17, 100, &cut);
	assert_false(cut);
	assert_string_equal(r, "short ***");
	free(r);
	assert_true(dr_secrets_slack(s) >= strlen("SECRETVALUE"));
	dr_secrets_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_files),
		cmocka_unit_test(test_read_env),
		cmocka_unit_test(test_redact_forms),
		cmocka_unit_test(test_redact_cut),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
