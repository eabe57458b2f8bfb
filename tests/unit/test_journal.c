/*
 * test_journal.c - the journal module on its own (journal.h): the writer's
 * group commit and crash hook, the reader's torn-tail and corruption rules,
 * reopening (cutting a torn tail), the digests and the diff a changed
 * runbook gets, and the run lock (busy, stale, taken over).
 */
#include <setjmp.h>
#include <errno.h>
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

#include "journal/journal.h"
#include "front/runbook.h"
#include "fixture.h"

static const char *tmpdir; /* the fixture's (fixture.h) */

static int setup(void **state)
{
	(void)state;
	tmpdir = fx_newdir();
	return 0;
}

static char *path_in(const char *fmt, const char *a)
{
	static char p[256];
	char rel[128];
	snprintf(rel, sizeof rel, fmt, a);
	snprintf(p, sizeof p, "%s/%s", tmpdir, rel);
	return p;
}

static cJSON *rec(const char *event, int i)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddNumberToObject(r, "t_ms", i);
	cJSON_AddStringToObject(r, "event", event);
	cJSON_AddNumberToObject(r, "i", i);
	return r;
}

static cJSON *header(void)
{
	cJSON *h = rec("journal.header", 0);
	cJSON_AddStringToObject(h, "format", DR_JOURNAL_FORMAT);
	cJSON_AddNumberToObject(h, "version", DR_JOURNAL_VERSION);
	cJSON_AddStringToObject(h, "run", "r1");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(h, "runbook"), "path", "runbook.yaml");
	cJSON_AddStringToObject(h, "mode", "failover");
	cJSON_AddStringToObject(h, "direction", "primary-to-recovery");
	cJSON_AddObjectToObject(h, "params");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(h, "backend"), "kind", "sim");
	cJSON_AddStringToObject(h, "clock", "virtual");
	cJSON_AddStringToObject(h, "seed", "1");
	cJSON_AddNullToObject(h, "concurrency");
	cJSON_AddNumberToObject(h, "started_ms", 0);
	cJSON_AddObjectToObject(h, "shape");
	return h;
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* --- writer ------------------------------------------------------------ */

static void test_group_commit(void **state)
{
	(void)state;
	dr_buf err;
	dr_buf_init(&err);
	cJSON *h = header();
	char *dir = strdup(path_in("runs/%s", "r1"));
	dr_journal *j = dr_journal_create(dir, h, &err);
	assert_non_null(j);
	for (int i = 1; i <= 1000; i++) {
		cJSON *r = rec("step.start", i);
		assert_int_equal(dr_journal_append(j, r), (uint64_t)i + 1);
		cJSON_Delete(r);
	}
	assert_true(dr_journal_pending(j));
	assert_int_equal(dr_journal_durable(j), 1); /* the header only */
	assert_int_equal(dr_journal_sync(j, &err), 0);
	assert_int_equal(dr_journal_durable(j), 1001);
	dr_journal_stats st;
	dr_journal_stats_get(j, &st);
	assert_int_equal(st.syncs, 2); /* the header's, then one for the 1000 records */
	assert_int_equal(st.records, 1001);
	assert_int_equal(dr_journal_close(j, &err), 0);
	/* a second create of the same journal is refused */
	assert_null(dr_journal_create(dir, h, &err));
	assert_non_null(strstr(err.data, "cannot create the journal"));
	dr_journal_file f;
	dr_buf_reset(&err);
	char *jp = dr_journal_path(tmpdir, "r1");
	assert_int_equal(dr_journal_read(jp, &f, &err), 0);
	assert_int_equal(f.n, 1000);
	assert_false(f.torn);
	assert_false(f.ended);
	dr_journal_file_dispose(&f);
	free(jp);
	free(dir);
	cJSON_Delete(h);
	dr_buf_dispose(&err);
}

static void test_kill_hook_spec(void **state)
{
	(void)state;
	dr_buf err;
	dr_buf_init(&err);
	cJSON *h = header();
	dr_journal *j = dr_journal_create(path_in("runs/%s", "hook"), h, &err);
	assert_non_null(j);
	assert_int_equal(dr_journal_set_kill_hook(j, NULL, &err), 0);
	assert_int_equal(dr_journal_set_kill_hook(j, "", &err), 0);
	assert_int_equal(dr_journal_set_kill_hook(j, "0", &err), -1);
	assert_int_equal(dr_journal_set_kill_hook(j, "3:later", &err), -1);
	assert_int_equal(dr_journal_set_kill_hook(j, "-3", &err), -1);
	assert_non_null(strstr(err.data, "expected N, N:before or N:torn"));
	assert_int_equal(dr_journal_set_kill_hook(j, "100000:torn", &err), 0); /* never reached here */
	dr_journal_close(j, &err);
	cJSON_Delete(h);
	dr_buf_dispose(&err);
}

/* --- reader ------------------------------------------------------------ */

#define HEADER_FIELDS                                                                                              \
	"\"run\":\"r\",\"runbook\":{\"path\":\"runbook.yaml\"},\"mode\":\"failover\",\"direction\":\"primary-to-recovery\","    \
	"\"params\":{},\"backend\":{\"kind\":\"sim\"},\"clock\":\"virtual\",\"seed\":\"1\",\"concurrency\":null,"           \
	"\"started_ms\":0,\"shape\":{}"
static const char *const good_header =
	"{\"t_ms\":0,\"event\":\"journal.header\",\"format\":\"drover-journal\",\"version\":1," HEADER_FIELDS "}\n";

static void test_torn_tail(void **state)
{
	(void)state;
	char text[1024];
	snprintf(text, sizeof text, "%s{\"t_ms\":1,\"event\":\"step.start\",\"step\":\"a\"}\n{\"event\":\"task.end\",\"st", good_header);
	char *p = strdup(path_in("%s", "torn.jsonl"));
	write_file(p, text);
	dr_journal_file f;
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_journal_read(p, &f, &err), 0);
	assert_int_equal(f.n, 1);
	assert_true(f.torn);
	assert_int_equal(f.torn_line, 3);
	assert_int_equal(f.torn_bytes, strlen("{\"event\":\"task.end\",\"st"));
	assert_int_equal((size_t)f.valid_bytes, strlen(good_header) + strlen("{\"t_ms\":1,\"event\":\"step.start\",\"step\":\"a\"}\n"));
	dr_journal_file_dispose(&f);
	/* a last line of zeros (a power loss after the size was updated) is torn too */
	FILE *fp = fopen(p, "w");
	fputs(good_header, fp);
	fwrite("\0\0\0\0\0\0\0\n", 1, 8, fp);
	fclose(fp);
	assert_int_equal(dr_journal_read(p, &f, &err), 0);
	assert_true(f.torn);
	assert_int_equal(f.torn_line, 2);
	/* reopening cuts the torn tail off */
	dr_journal *j = dr_journal_reopen(p, f.valid_bytes, f.version, &err);
	assert_non_null(j);
	cJSON *r = rec("run.resume", 1);
	dr_journal_append(j, r);
	cJSON_Delete(r);
	assert_int_equal(dr_journal_close(j, &err), 0);
	dr_journal_file_dispose(&f);
	assert_int_equal(dr_journal_read(p, &f, &err), 0);
	assert_false(f.torn);
	assert_int_equal(f.n, 1);
	assert_int_equal(f.sessions, 2);
	dr_journal_file_dispose(&f);
	free(p);
	dr_buf_dispose(&err);
}

static void test_corrupt_line(void **state)
{
	(void)state;
	char text[1024];
	snprintf(text, sizeof text, "%s{\"t_ms\":1,\"event\":\"step.start\"}\n{\"event\":\"task.e\n{\"t_ms\":2,\"event\":\"run.end\"}\n",
		 good_header);
	char *p = strdup(path_in("%s", "bad.jsonl"));
	write_file(p, text);
	dr_journal_file f;
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_journal_read(p, &f, &err), -1);
	assert_non_null(strstr(err.data, "bad.jsonl:3: the journal is corrupted: line 3 cannot be read"));
	assert_non_null(strstr(err.data, "A crash only ever tears the last line"));
	dr_journal_file_dispose(&f);
	/* a record without "event" in the middle is corruption too */
	snprintf(text, sizeof text, "%s{\"nope\":1}\n{\"t_ms\":2,\"event\":\"run.end\"}\n", good_header);
	write_file(p, text);
	dr_buf_reset(&err);
	assert_int_equal(dr_journal_read(p, &f, &err), -1);
	assert_non_null(strstr(err.data, ":2:"));
	assert_non_null(strstr(err.data, "it has no \"event\""));
	dr_journal_file_dispose(&f);
	/* no header, a newer version */
	write_file(p, "{\"event\":\"journal.header\",\"format\":\"drover-jou");
	dr_buf_reset(&err);
	assert_int_equal(dr_journal_read(p, &f, &err), -1);
	assert_non_null(strstr(err.data, "no complete header"));
	dr_journal_file_dispose(&f);
	write_file(p, "{\"event\":\"journal.header\",\"format\":\"drover-journal\",\"version\":7}\n");
	dr_buf_reset(&err);
	assert_int_equal(dr_journal_read(p, &f, &err), -1);
	assert_non_null(strstr(err.data, "version 7 is newer"));
	dr_journal_file_dispose(&f);
	free(p);
	dr_buf_dispose(&err);
}

/* A journal of the good header and one middle line; the reader must refuse it with why at line 2. */
static void refuses_middle(const char *line, const char *why)
{
	char text[4096];
	snprintf(text, sizeof text, "%s%s\n{\"t_ms\":9,\"event\":\"run.end\",\"status\":\"succeeded\"}\n", good_header, line);
	char *p = strdup(path_in("%s", "strict.jsonl"));
	write_file(p, text);
	dr_journal_file f;
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_journal_read(p, &f, &err), -1);
	if (!strstr(err.data, ":2: the journal is corrupted") || !strstr(err.data, why))
		fail_msg("%s: expected '%s' at line 2, got: %s", line, why, err.data);
	dr_journal_file_dispose(&f);
	dr_buf_dispose(&err);
	free(p);
}

/* A journal whose header is the good one with edit applied to its fields; the reader must refuse it with why. */
static void refuses_header(const char *fields, const char *why)
{
	char text[4096];
	snprintf(text, sizeof text, "{\"t_ms\":0,\"event\":\"journal.header\",\"format\":\"drover-journal\",\"version\":1,%s}\n",
		 fields);
	char *p = strdup(path_in("%s", "header.jsonl"));
	write_file(p, text);
	dr_journal_file f;
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_journal_read(p, &f, &err), -1);
	if (!strstr(err.data, ":1: the journal is corrupted") || !strstr(err.data, why))
		fail_msg("expected '%s' at line 1, got: %s", why, err.data);
	dr_journal_file_dispose(&f);
	dr_buf_dispose(&err);
	free(p);
}

/* Issue 10: strict where docs/journal.md says so; numbers a reader would cast out of range are errors, not UB. */
static void test_strict_reader(void **state)
{
	(void)state;
	refuses_middle("{\"t_ms\":1,\"event\":\"step.start\",\"step\":\"a\"} garbage", "more after the record");
	refuses_middle("{\"t_ms\":1,\"event\":\"step.start\",\"step\":\"a\"}{\"t_ms\":2}", "more after the record");
	refuses_middle("{\"event\":\"step.start\",\"step\":\"a\"}", "no \"t_ms\"");
	refuses_middle("{\"t_ms\":4.9e59,\"event\":\"step.start\",\"step\":\"a\"}", "\"t_ms\" is 4.9e+59");
	refuses_middle("{\"t_ms\":1e999,\"event\":\"step.start\",\"step\":\"a\"}", "\"t_ms\" is inf");
	refuses_middle("{\"t_ms\":-5,\"event\":\"step.start\",\"step\":\"a\"}", "negative");
	refuses_middle("{\"t_ms\":1.5,\"event\":\"step.start\",\"step\":\"a\"}", "\"t_ms\" is 1.5");
	refuses_middle("{\"t_ms\":1,\"event\":\"task.start\",\"step\":\"a\",\"attempt\":3e10}", "\"attempt\" is 3e+10");
	refuses_middle("{\"t_ms\":1,\"event\":\"run.resume\",\"downtime_ms\":1e300}", "\"downtime_ms\" is 1e+300");
	refuses_middle("{\"t_ms\":1,\"event\":\"step.end\",\"step\":\"a\",\"succeeded\":4294967296}", "\"succeeded\"");
	refuses_middle("{\"t_ms\":1,\"event\":\"task.start\",\"attempt\":1}", "names no \"step\"");
	refuses_middle("{\"t_ms\":1,\"event\":\"task.start\",\"step\":\"a\"}", "\"attempt\" is missing");
	refuses_middle("{\"t_ms\":1,\"event\":\"task.end\",\"step\":\"a\",\"attempt\":1,\"status\":\"fine\"}", "\"status\"");
	refuses_middle("{\"t_ms\":1,\"event\":\"task.end\",\"step\":7,\"attempt\":1,\"status\":\"failed\"}", "\"step\" is not a string");
	refuses_middle("{\"t_ms\":1,\"event\":\"step.start\",\"step\":\"a\",\"phase\":\"later\"}", "\"phase\"");
	/* outputs and params hold what actions and people gave: any JSON number */
	char text[4096];
	snprintf(text, sizeof text,
		 "%s{\"t_ms\":1,\"event\":\"task.end\",\"step\":\"a\",\"attempt\":1,\"status\":\"succeeded\","
		 "\"outputs\":{\"ratio\":0.25,\"big\":1e300}}\n",
		 good_header);
	char *p = strdup(path_in("%s", "ok.jsonl"));
	write_file(p, text);
	dr_journal_file f;
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_journal_read(p, &f, &err), 0);
	assert_int_equal(f.n, 1);
	dr_journal_file_dispose(&f);
	free(p);
	dr_buf_dispose(&err);
	/* a header must name what resume takes up again */
	refuses_header("\"run\":\"r\"", "no \"runbook\"");
	const char *const need[] = {"clock", "direction", "shape", "mode", "seed", "params", "backend", "started_ms"};
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++) {
		char fields[1024], key[40];
		snprintf(fields, sizeof fields, "%s", HEADER_FIELDS);
		snprintf(key, sizeof key, "\"%s\":", need[i]);
		char *at = strstr(fields, key);
		assert_non_null(at);
		at[1] = 'X'; /* "clock" -> "Xlock": the field is gone */
		refuses_header(fields, need[i]);
	}
	refuses_header("\"run\":\"r\",\"runbook\":{\"path\":\"r.yaml\"},\"mode\":\"failover\",\"direction\":\"primary-to-recovery\","
		       "\"params\":{},\"backend\":{},\"clock\":\"sundial\",\"seed\":\"1\",\"started_ms\":0,\"shape\":{}",
		       "\"clock\"");
}

/* Found by fuzz_journal: a version 2 journal's numbers are checked before anything converts them. */
static void test_strict_v2(void **state)
{
	(void)state;
	const char *hdr = "{\"t_ms\":0,\"event\":\"journal.header\",\"format\":\"drover-journal\",\"version\":2," HEADER_FIELDS;
	char text[4096];
	char *p = strdup(path_in("%s", "v2.jsonl"));
	dr_journal_file f;
	dr_buf err;
	dr_buf_init(&err);
	/* a digest index out of range in the compact shape: read as an unknown digest, never cast */
	const char *shape = strstr(hdr, "\"shape\":{}");
	assert_non_null(shape);
	snprintf(text, sizeof text, "%.*s\"shape\":{\"digests\":[\"d1\"],\"steps\":{\"a\":[\"log\",1.5e102,0,-1,0.5,0,0,0]}}}\n",
		 (int)(shape - hdr), hdr);
	write_file(p, text);
	assert_int_equal(dr_journal_read(p, &f, &err), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
				    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(
									     cJSON_GetObjectItemCaseSensitive(f.header, "shape"), "steps"),
								     "a"),
				    "digest")),
			    "");
	dr_journal_file_dispose(&f);
	/* a record's t_ms out of range: refused at its line (the writer's ts is not made from it) */
	snprintf(text, sizeof text, "%s}\n{\"t_ms\":1.5e102,\"event\":\"step.start\",\"step\":\"a\"}\n{\"t_ms\":1,\"event\":\"run.end\"}\n",
		 hdr);
	write_file(p, text);
	dr_buf_reset(&err);
	assert_int_equal(dr_journal_read(p, &f, &err), -1);
	assert_non_null(strstr(err.data, ":2: the journal is corrupted: line 2 is not a record drover writes (\"t_ms\" is 1.5e+102"));
	dr_journal_file_dispose(&f);
	dr_buf_dispose(&err);
	free(p);
}

static void test_sessions_and_end(void **state)
{
	(void)state;
	char text[1024];
	snprintf(text, sizeof text,
		 "%s{\"t_ms\":2,\"event\":\"run.end\",\"status\":\"cancelled\"}\n{\"t_ms\":3,\"event\":\"run.resume\"}\n{\"t_ms\":1,\"event\":\"step.start\"}\n",
		 good_header);
	char *p = strdup(path_in("%s", "sess.jsonl"));
	write_file(p, text);
	dr_journal_file f;
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_journal_read(p, &f, &err), 0);
	assert_int_equal(f.sessions, 2);
	assert_false(f.ended); /* the run.end belongs to the first session */
	dr_journal_file_dispose(&f);
	free(p);
	dr_buf_dispose(&err);
}

/* dr_journal_read_ended and dr_journal_read_header answer as dr_journal_read does, from the file's two ends. */
static void ends_agree(const char *name, const char *text, size_t len, bool head_ok)
{
	char *p = strdup(path_in("%s", name));
	FILE *fp = fopen(p, "w");
	assert_non_null(fp);
	assert_int_equal(fwrite(text, 1, len, fp), len);
	fclose(fp);
	dr_journal_file whole, head;
	dr_buf e1, e2, e3;
	dr_buf_init(&e1);
	dr_buf_init(&e2);
	dr_buf_init(&e3);
	bool ended = true;
	int rc = dr_journal_read(p, &whole, &e1), rc_end = dr_journal_read_ended(p, &ended, &e2);
	int rc_head = dr_journal_read_header(p, &head, &e3);
	if (rc != rc_end || (rc == 0 && ended != whole.ended))
		fail_msg("%s: dr_journal_read %d (ended %d: %s), dr_journal_read_ended %d (ended %d: %s)", name, rc,
			 whole.ended, e1.data ? e1.data : "", rc_end, ended, e2.data ? e2.data : "");
	if (rc_head != (head_ok ? 0 : -1))
		fail_msg("%s: dr_journal_read_header %d: %s", name, rc_head, e3.data ? e3.data : "");
	if (rc_head == 0) {
		assert_true(cJSON_Compare(head.header, whole.header, true));
		assert_int_equal(head.version, whole.version);
		assert_int_equal(head.n, 0);
	}
	if (rc < 0)
		assert_true(e2.len > 0);
	dr_journal_file_dispose(&whole);
	dr_journal_file_dispose(&head);
	dr_buf_dispose(&e1);
	dr_buf_dispose(&e2);
	dr_buf_dispose(&e3);
	free(p);
}

static void ends_agree_text(const char *name, const char *records)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s%s", good_header, records);
	ends_agree(name, b.data, b.len, true);
	dr_buf_dispose(&b);
}

static void test_read_ends(void **state)
{
	(void)state;
	const char *end = "{\"t_ms\":2,\"event\":\"run.end\",\"status\":\"succeeded\"}\n";
	ends_agree_text("only-header", "");
	ends_agree_text("ended", "{\"t_ms\":1,\"event\":\"step.start\"}\n{\"t_ms\":2,\"event\":\"run.end\"}\n");
	ends_agree_text("resumed", "{\"t_ms\":2,\"event\":\"run.end\"}\n{\"t_ms\":3,\"event\":\"run.resume\"}\n"
				   "{\"t_ms\":4,\"event\":\"step.start\"}\n");
	ends_agree_text("resumed-only", "{\"t_ms\":2,\"event\":\"run.end\"}\n{\"t_ms\":3,\"event\":\"run.resume\"}\n");
	ends_agree_text("suspended", "{\"t_ms\":2,\"event\":\"run.suspend\"}\n");
	ends_agree_text("torn-after-end", "{\"t_ms\":2,\"event\":\"run.end\"}\n{\"t_ms\":3,\"event\":\"run.re");
	ends_agree_text("torn-line-after-end", "{\"t_ms\":2,\"event\":\"run.end\"}\n{\"t_ms\":3,\"event\":\"run.re\n");
	ends_agree_text("zeros-after-end", "{\"t_ms\":2,\"event\":\"run.end\"}\n\x01\x01\x01\n");
	ends_agree_text("damaged-before-torn", "{\"t_ms\":2,\"event\":\"run.end\"}\n{\"event\":\"run.e\n{\"t_ms\":3");
	ends_agree_text("damaged-before-last", "{\"t_ms\":1,\"event\":\"run.end\"}\n{\"event\":\"run.e\n{\"t_ms\":3\n");
	ends_agree("no-header", "{\"t_ms\":0,\"event\":\"step.start\"}\n", strlen("{\"t_ms\":0,\"event\":\"step.start\"}\n"), false);
	ends_agree("torn-header", good_header, strlen(good_header) - 1, false);
	ends_agree("empty", "", 0, false);
	/* far more than the first window (4 KiB), and a last line longer than it: the window grows */
	dr_buf big;
	dr_buf_init(&big);
	dr_buf_puts(&big, good_header);
	for (int i = 0; i < 2000; i++)
		dr_buf_printf(&big, "{\"t_ms\":%d,\"event\":\"step.start\",\"step\":\"s%d\"}\n", i, i);
	dr_buf_puts(&big, "{\"t_ms\":9,\"event\":\"run.end\",\"reason\":\"");
	for (int i = 0; i < 9000; i++)
		dr_buf_putc(&big, 'x');
	dr_buf_puts(&big, "\"}\n");
	ends_agree("big-ended", big.data, big.len, true);
	dr_buf_puts(&big, end); /* then torn, with a line longer than the window before it */
	big.len -= 3;
	ends_agree("big-torn", big.data, big.len, true);
	dr_buf_dispose(&big);
	/* a missing journal: ENOENT, as the run lock's stale check reads it */
	dr_journal_file f;
	dr_buf err;
	dr_buf_init(&err);
	bool ended = true;
	errno = 0;
	assert_int_equal(dr_journal_read_ended(path_in("%s", "missing.jsonl"), &ended, &err), -1);
	assert_int_equal(errno, ENOENT);
	assert_false(ended);
	errno = 0;
	assert_int_equal(dr_journal_read_header(path_in("%s", "missing.jsonl"), &f, &err), -1);
	assert_int_equal(errno, ENOENT);
	dr_journal_file_dispose(&f);
	dr_buf_dispose(&err);
}

/* --- digests ------------------------------------------------------------ */

static const char *const rb_before = "drover: 1\nname: d\n"
				     "steps:\n"
				     "  - { id: a, action: log, with: { message: one } }\n"
				     "  - { id: b, action: log, needs: a, with: { message: two } }\n"
				     "  - { id: c, action: sleep, needs: a, with: { duration: 1m } }\n";
static const char *const rb_after = "drover: 1\nname: d\n"
				    "# a comment changes the bytes, not the shape\n"
				    "defaults: { timeout: 1h }\n"
				    "steps:\n"
				    "  - { id: a, action: log, with: { message: ONE } }\n"
				    "  - { id: c, action: sleep, needs: a, with: { duration: 1m }, retry: { attempts: 2 } }\n"
				    "  - { id: d, action: log, needs: c, with: { message: new } }\n";

/* The same run written as version 1 (what older drovers wrote) and as version 2: read back alike. */
static void test_version2_reads_as_version1(void **state)
{
	(void)state;
	static const char *const lines[] = {
		"{\"ts\":\"2026-01-01T00:00:00.005Z\",\"t_ms\":5,\"event\":\"step.start\",\"step\":\"a\",\"tasks\":1}",
		"{\"ts\":\"2026-01-01T00:00:00.005Z\",\"t_ms\":5,\"event\":\"task.start\",\"step\":\"a\",\"attempt\":1,"
		"\"action\":\"log\",\"key\":\"r1/a/log/1\"}",
		"{\"ts\":\"2026-01-01T00:00:00.005Z\",\"t_ms\":5,\"event\":\"task.start\",\"step\":\"f\",\"target\":\"vm-1\","
		"\"attempt\":2,\"action\":\"dr.failover\",\"key\":\"r1/f[vm-1]/dr.failover/2\",\"mutating\":true}",
		"{\"ts\":\"2026-01-01T00:00:01.250Z\",\"t_ms\":1250,\"event\":\"task.end\",\"step\":\"a\",\"attempt\":1,"
		"\"status\":\"succeeded\",\"elapsed_ms\":0,\"outputs\":{\"message\":\"m\",\"n\":1.5}}",
		"{\"ts\":\"2026-01-01T00:00:01.250Z\",\"t_ms\":1250,\"event\":\"step.end\",\"step\":\"a\",\"status\":"
		"\"succeeded\",\"tasks\":1,\"succeeded\":1,\"failed\":0,\"skipped\":0,\"cancelled\":0,\"elapsed_ms\":1245}",
		NULL,
	};
	cJSON *h = header();
	cJSON_ReplaceItemInObjectCaseSensitive(h, "started_ms", cJSON_CreateNumber(1767225600000.0));
	cJSON *shape = cJSON_CreateObject(), *steps = cJSON_AddObjectToObject(shape, "steps");
	cJSON *e = cJSON_AddObjectToObject(steps, "a"), *parts = cJSON_AddObjectToObject(e, "parts");
	cJSON_AddStringToObject(e, "action", "log");
	cJSON_AddStringToObject(e, "digest", "00000000000000aa");
	static const char *const names[] = {"with", "needs", "targets", "when", "rollback", "policy"};
	for (int i = 0; i < 6; i++)
		cJSON_AddStringToObject(parts, names[i], i % 2 ? "00000000000000bb" : "00000000000000cc");
	cJSON *z = cJSON_Duplicate(e, true);
	cJSON_AddBoolToObject(z, "finally", true);
	cJSON_AddItemToObject(steps, "z", z);
	cJSON_ReplaceItemInObjectCaseSensitive(h, "shape", shape);
	cJSON *v1 = cJSON_Duplicate(h, true), *v2 = cJSON_Duplicate(h, true);
	cJSON_ReplaceItemInObjectCaseSensitive(v1, "version", cJSON_CreateNumber(1));
	cJSON_ReplaceItemInObjectCaseSensitive(v2, "version", cJSON_CreateNumber(2));
	cJSON_ReplaceItemInObjectCaseSensitive(v2, "shape", dr_journal_compact_shape(shape));
	char *t1 = cJSON_PrintUnformatted(v1), *t2 = cJSON_PrintUnformatted(v2);
	dr_buf b1, b2;
	dr_buf_init(&b1);
	dr_buf_init(&b2);
	dr_buf_printf(&b1, "%s\n", t1);
	dr_buf_printf(&b2, "%s\n", t2);
	for (size_t i = 0; lines[i]; i++) {
		cJSON *r = cJSON_Parse(lines[i]);
		dr_buf_printf(&b1, "%s\n", lines[i]);
		dr_journal_compact_line(&b2, r);
		dr_buf_putc(&b2, '\n');
		cJSON_Delete(r);
	}
	assert_true(b2.len < b1.len * 3 / 4); /* what it is for */
	assert_null(strstr(b2.data + strlen(t2), "\"ts\"")); /* records carry no ts... */
	assert_non_null(strstr(b2.data, "r1/f[vm-1]/dr.failover/2")); /* ...and keep a mutating call's key */
	write_file(path_in("%s", "v1.jsonl"), b1.data);
	write_file(path_in("%s", "v2.jsonl"), b2.data);
	dr_journal_file f1, f2;
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_journal_read(path_in("%s", "v1.jsonl"), &f1, &err), 0);
	assert_int_equal(dr_journal_read(path_in("%s", "v2.jsonl"), &f2, &err), 0);
	assert_int_equal(f1.version, 1);
	assert_int_equal(f2.version, 2);
	assert_int_equal(f1.n, f2.n);
	assert_true(cJSON_Compare(cJSON_GetObjectItem(f1.header, "shape"), cJSON_GetObjectItem(f2.header, "shape"), true));
	for (size_t i = 0; i < f1.n; i++) {
		if (i == 1) /* a call that is not mutating keeps no key in version 2 */
			cJSON_DeleteItemFromObjectCaseSensitive(f1.recs[i], "key");
		assert_true(cJSON_Compare(f1.recs[i], f2.recs[i], true));
	}
	dr_journal_file_dispose(&f1);
	dr_journal_file_dispose(&f2);
	dr_buf_dispose(&err);
	dr_buf_dispose(&b1);
	dr_buf_dispose(&b2);
	cJSON_free(t1);
	cJSON_free(t2);
	cJSON_Delete(v1);
	cJSON_Delete(v2);
	cJSON_Delete(h);
}

#define TS(ms) "{\"ts\":\"2026-01-01T00:00:" ms "Z\","
/* Version 3 (docs/journal.md): a one-task step that succeeds is two lines; what cannot fold is written as in version 2. */
static void test_version3_folds_one_task_steps(void **state)
{
	(void)state;
	static const char *const in[] = { /* as the event stream has them, in order */
		TS("00.005") "\"t_ms\":5,\"event\":\"step.start\",\"step\":\"a\",\"tasks\":1}",
		TS("00.005") "\"t_ms\":5,\"event\":\"step.start\",\"step\":\"b\",\"tasks\":1}",
		TS("00.005") "\"t_ms\":5,\"event\":\"task.start\",\"step\":\"a\",\"attempt\":1,\"action\":\"log\"}",
		TS("01.250") "\"t_ms\":1250,\"event\":\"task.end\",\"step\":\"a\",\"attempt\":1,\"status\":\"succeeded\","
		"\"elapsed_ms\":1245,\"outputs\":{\"message\":\"m\"}}",
		TS("01.250") "\"t_ms\":1250,\"event\":\"step.end\",\"step\":\"a\",\"status\":\"succeeded\",\"tasks\":1,"
		"\"succeeded\":1,\"failed\":0,\"skipped\":0,\"cancelled\":0,\"elapsed_ms\":1245}",
		/* b's task starts later than b (a concurrency limit): its step.start is a line of its own */
		TS("01.250") "\"t_ms\":1250,\"event\":\"task.start\",\"step\":\"b\",\"attempt\":1,\"action\":\"log\"}",
		TS("01.300") "\"t_ms\":1300,\"event\":\"task.end\",\"step\":\"b\",\"attempt\":1,\"status\":\"failed\","
		"\"class\":\"permanent\",\"message\":\"no\",\"will_retry\":false,\"elapsed_ms\":50}",
		TS("01.300") "\"t_ms\":1300,\"event\":\"step.end\",\"step\":\"b\",\"status\":\"failed\",\"tasks\":1,"
		"\"succeeded\":0,\"failed\":1,\"skipped\":0,\"cancelled\":0,\"elapsed_ms\":1295,\"reason\":\"no\",\"tolerated\":false}",
		TS("01.300") "\"t_ms\":1300,\"event\":\"step.start\",\"step\":\"c\",\"tasks\":1}",
		TS("01.300") "\"t_ms\":1300,\"event\":\"run.stopping\",\"step\":\"b\",\"reason\":\"r\",\"policy\":\"stop\",\"running\":0}",
		TS("01.300") "\"t_ms\":1300,\"event\":\"run.cancel\",\"reason\":\"stopping\"}",
		TS("01.300") "\"t_ms\":1300,\"event\":\"task.cancel\",\"step\":\"c\",\"reason\":\"the run stopped\"}",
		TS("01.300") "\"t_ms\":1300,\"event\":\"run.end\",\"status\":\"failed\",\"exit\":1}",
		NULL,
	};
	/* read back: a's records as they were; b's step.start after a's (held for its task, which came later) */
	static const size_t order[] = {0, 2, 3, 4, 1, 5, 6, 7, 8, 9, 10, 11, 12};
	cJSON *h = header();
	cJSON_ReplaceItemInObjectCaseSensitive(h, "started_ms", cJSON_CreateNumber(1767225600000.0));
	dr_buf err;
	dr_buf_init(&err);
	dr_journal *j = dr_journal_create(path_in("runs/%s", "v3"), h, &err);
	assert_non_null(j);
	for (size_t i = 0; in[i]; i++) {
		cJSON *r = cJSON_Parse(in[i]);
		dr_journal_append(j, r);
		cJSON_Delete(r);
	}
	assert_int_equal(dr_journal_close(j, &err), 0);
	char *jp = dr_journal_path(tmpdir, "v3");
	FILE *fp = fopen(jp, "r");
	char text[8192];
	size_t n = fread(text, 1, sizeof text - 1, fp), lines = 0;
	fclose(fp);
	text[n] = '\0';
	for (size_t i = 0; i < n; i++)
		lines += text[i] == '\n';
	assert_int_equal(lines, 1 + 11); /* a's four records in two lines */
	assert_non_null(strstr(text, "{\"t_ms\":5,\"event\":\"task.start\",\"step\":\"a\",\"action\":\"log\",\"tasks\":1}\n"));
	assert_non_null(strstr(text, "{\"t_ms\":1250,\"event\":\"task.end\",\"step\":\"a\",\"status\":\"succeeded\","
				     "\"elapsed_ms\":1245,\"outputs\":{\"message\":\"m\"},\"tasks\":1}\n"));
	assert_non_null(strstr(text, "\n{\"event\":\"step.end\",\"step\":\"b\",")); /* t_ms as the line before */
	dr_journal_file f;
	assert_int_equal(dr_journal_read(jp, &f, &err), 0);
	assert_int_equal(f.version, 3);
	assert_int_equal(f.n, 13);
	for (size_t i = 0; i < f.n; i++) {
		cJSON *want = cJSON_Parse(in[order[i]]);
		if (!cJSON_Compare(want, f.recs[i], true)) {
			char *got = cJSON_PrintUnformatted(f.recs[i]);
			fail_msg("record %zu: got %s, want %s", i, got, in[order[i]]);
		}
		cJSON_Delete(want);
	}
	assert_int_equal(f.lines[0], 2); /* a's step.start and task.start: line 2 */
	assert_int_equal(f.lines[1], 2);
	assert_int_equal(f.lines[3], 3);
	dr_journal_file_dispose(&f);
	/* a resumed session's first line says its t_ms: the reader does not carry one over a session */
	j = dr_journal_reopen(jp, 1 << 20, 3, &err);
	assert_non_null(j);
	cJSON *r = cJSON_Parse(TS("01.300") "\"t_ms\":1300,\"event\":\"task.skip\",\"step\":\"d\",\"reason\":\"x\"}");
	dr_journal_append(j, r);
	cJSON_Delete(r);
	assert_int_equal(dr_journal_close(j, &err), 0);
	assert_int_equal(dr_journal_read(jp, &f, &err), 0);
	assert_int_equal(f.n, 14);
	assert_int_equal(cJSON_GetObjectItem(f.recs[13], "t_ms")->valuedouble, 1300);
	dr_journal_file_dispose(&f);
	free(jp);
	dr_buf_dispose(&err);
	cJSON_Delete(h);
}

static void test_digest_diff(void **state)
{
	(void)state;
	dr_runbook *a = fx_compile("a.yaml", rb_before), *b = fx_compile("b.yaml", rb_after);
	cJSON *da = dr_journal_runbook_digests(a), *db = dr_journal_runbook_digests(b);
	dr_buf out;
	dr_buf_init(&out);
	assert_int_equal(dr_journal_runbook_diff(da, da, &out), 0);
	assert_int_equal(out.len, 0);
	size_t n = dr_journal_runbook_diff(da, db, &out);
	assert_int_equal(n, 5);
	assert_non_null(strstr(out.data, "  ~ step a (log): with\n"));
	assert_non_null(strstr(out.data, "  - step b (log): removed\n"));
	assert_non_null(strstr(out.data, "  ~ step c (sleep): policy\n"));
	assert_non_null(strstr(out.data, "  + step d (log): added\n"));
	assert_non_null(strstr(out.data, "  ~ defaults: changed\n"));
	/* the same text with other comments and layout has the same shape */
	dr_runbook *c = fx_compile("c.yaml", "# hello\ndrover: 1\nname: d\nsteps:\n"
					  "  - id: a\n    action: log\n    with: {message: one}\n"
					  "  - {id: b, action: log, needs: a, with: {message: two}}\n"
					  "  - {id: c, action: sleep, needs: a, with: {duration: 1m}}\n");
	cJSON *dc = dr_journal_runbook_digests(c);
	dr_buf_reset(&out);
	assert_int_equal(dr_journal_runbook_diff(da, dc, &out), 0);
	char d1[40], d2[40];
	const char *pa = fx_path("a.yaml"), *pc = fx_path("c.yaml"); /* where fx_compile wrote them */
	assert_int_equal(dr_journal_file_digest(pa, d1, sizeof d1, NULL, &out), 0);
	assert_int_equal(dr_journal_file_digest(pc, d2, sizeof d2, NULL, &out), 0);
	assert_string_not_equal(d1, d2);
	assert_memory_equal(d1, "fnv1a64:", 8);
	cJSON_Delete(da);
	cJSON_Delete(db);
	cJSON_Delete(dc);
	dr_runbook_free(a);
	dr_runbook_free(b);
	dr_runbook_free(c);
	dr_buf_dispose(&out);
}

/* --- lock --------------------------------------------------------------- */

static void test_lock(void **state)
{
	(void)state;
	dr_buf err, note;
	dr_buf_init(&err);
	dr_buf_init(&note);
	dr_runlock_req req = {.state_dir = tmpdir, .runbook = "/rb.yaml", .backend = "sim:/x", .run_id = "r1"};
	dr_runlock *l1 = NULL, *l2 = NULL;
	assert_int_equal(dr_runlock_acquire(&req, &l1, &note, &err), 0);
	char *lp = dr_runlock_path(tmpdir, "/rb.yaml", "sim:/x");
	assert_true(dr_runlock_held(lp, "r1"));
	assert_false(dr_runlock_held(lp, "other"));
	/* busy: a second run of the same runbook against the same backend */
	req.run_id = "r2";
	assert_int_equal(dr_runlock_acquire(&req, &l2, &note, &err), DR_RUNLOCK_BUSY);
	assert_non_null(strstr(err.data, "busy: run r1 holds the lock of this runbook and backend (pid "));
	/* another backend is another lock */
	req.backend = "sim:/y";
	assert_int_equal(dr_runlock_acquire(&req, &l2, &note, &err), 0);
	dr_runlock_release(l2, true);
	req.backend = "sim:/x";
	/* released without the run ending: the record stays; r1 has a journal without run.end: stale */
	dr_runlock_release(l1, false);
	char *jdir = strdup(path_in("runs/%s", "r1"));
	mkdir(path_in("%s", "runs"), 0700);
	mkdir(jdir, 0700);
	char jp[300];
	snprintf(jp, sizeof jp, "%s/journal.jsonl", jdir);
	write_file(jp, good_header);
	dr_buf_reset(&err);
	assert_int_equal(dr_runlock_acquire(&req, &l2, &note, &err), DR_RUNLOCK_STALE);
	assert_non_null(strstr(err.data, "run r1 of this runbook against the same backend did not finish"));
	char resume[300];
	snprintf(resume, sizeof resume, "resume it (drover resume --state-dir %s r1)", tmpdir); /* as pasted, it works */
	if (!strstr(err.data, resume))
		fail_msg("the stale lock does not say '%s': %s", resume, err.data);
	assert_non_null(strstr(err.data, "--force"));
	/* resuming r1 takes it over, with a note */
	req.run_id = "r1";
	req.resuming = true;
	assert_int_equal(dr_runlock_acquire(&req, &l1, &note, &err), 0);
	assert_non_null(strstr(note.data, "taking over the lock left by run r1"));
	dr_runlock_release(l1, false);
	/* --force takes it over for another run */
	req.run_id = "r3";
	req.resuming = false;
	req.force = true;
	dr_buf_reset(&note);
	assert_int_equal(dr_runlock_acquire(&req, &l2, &note, &err), 0);
	assert_non_null(strstr(note.data, "--force: taking over"));
	dr_runlock_release(l2, true); /* r3 ended: the lock is left empty */
	req.force = false;
	req.run_id = "r4";
	dr_buf_reset(&err);
	assert_int_equal(dr_runlock_acquire(&req, &l2, &note, &err), 0);
	dr_runlock_release(l2, true);
	assert_false(dr_runlock_held(lp, NULL));
	free(lp);
	free(jdir);
	dr_buf_dispose(&err);
	dr_buf_dispose(&note);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_group_commit), cmocka_unit_test(test_kill_hook_spec),
		cmocka_unit_test(test_torn_tail),    cmocka_unit_test(test_corrupt_line), cmocka_unit_test(test_strict_reader), cmocka_unit_test(test_strict_v2),
		cmocka_unit_test(test_sessions_and_end), cmocka_unit_test(test_read_ends), cmocka_unit_test(test_digest_diff),
		cmocka_unit_test(test_version2_reads_as_version1), cmocka_unit_test(test_version3_folds_one_task_steps),
		cmocka_unit_test(test_lock),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
