/*
 * test_progress.c - the live frame (views/progress.h) drawn from a run
 * model of 1,000 VMs and 40 steps, at several terminal sizes: it fits
 * (lines, columns), finished and pending steps fold when the steps do not
 * fit, running and failed steps are never folded away, failed and slowest
 * VMs are named; a waiting approval gives the command that answers it.
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

#include "journal/runinfo.h"
#include "run/clock.h"
#include "views/lines.h"
#include "views/progress.h"

#define VMS 1000
#define STEPS 40

static void ap(dr_runinfo *ri, const char *fmt, ...)
{
	char buf[512];
	va_list ap_;
	va_start(ap_, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap_);
	va_end(ap_);
	cJSON *r = cJSON_Parse(buf);
	assert_non_null(r);
	dr_runinfo_apply(ri, r);
	cJSON_Delete(r);
}

/* Steps s00..s39: s00..s19 done, s20 running (half its VMs done, 3 failed), s21..s39 pending. */
static void busy_run(dr_runinfo *ri)
{
	dr_runinfo_init(ri);
	char id[16];
	for (int i = 0; i < STEPS; i++) {
		snprintf(id, sizeof id, "s%02d", i);
		dr_runinfo_declare_step(ri, id, NULL, "log");
	}
	ap(ri, "{\"event\":\"run.start\",\"ts\":\"2026-01-01T00:00:00.000Z\",\"t_ms\":0,\"run\":\"big-1\",\"mode\":\"failover\"}");
	for (int i = 0; i < 20; i++) {
		ap(ri, "{\"event\":\"step.start\",\"t_ms\":%d,\"step\":\"s%02d\",\"tasks\":1}", i * 1000, i);
		ap(ri, "{\"event\":\"task.end\",\"t_ms\":%d,\"step\":\"s%02d\",\"attempt\":1,\"status\":\"succeeded\"}", i * 1000, i);
		ap(ri, "{\"event\":\"step.end\",\"t_ms\":%d,\"step\":\"s%02d\",\"status\":\"succeeded\",\"tasks\":1}", i * 1000, i);
	}
	ap(ri, "{\"event\":\"step.start\",\"t_ms\":20000,\"step\":\"s20\",\"tasks\":%d}", VMS);
	for (int v = 0; v < VMS; v++) {
		ap(ri, "{\"event\":\"task.start\",\"t_ms\":%d,\"step\":\"s20\",\"target\":\"vm-%04d\",\"attempt\":1}", 20000 + v, v);
		if (v < VMS / 2)
			ap(ri, "{\"event\":\"task.end\",\"t_ms\":30000,\"step\":\"s20\",\"target\":\"vm-%04d\",\"attempt\":1,"
			       "\"status\":\"%s\",\"class\":\"permanent\",\"message\":\"no\"}",
			   v, v % 200 == 7 ? "failed" : "succeeded");
	}
}

static int frame(dr_runinfo *ri, int rows, int cols, char **text)
{
	dr_clock *c = dr_clock_new(DR_CLOCK_VIRTUAL);
	dr_clock_rebase(c, 60000);
	dr_progress_opts o = {.out = stdout, .live = true, .model = ri, .clock = c};
	dr_progress *p = dr_progress_new(&o);
	int n = dr_progress_frame(p, rows, cols, text);
	dr_progress_free(p);
	dr_clock_free(c);
	return n;
}

/* Display columns of one line (escape sequences take none; a UTF-8 sequence takes one). */
static int columns(const char *s, const char *end)
{
	int n = 0;
	for (const char *p = s; p < end; p++) {
		if (*p == '\033') {
			while (p < end && !((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == 'K'))
				p++;
			continue;
		}
		n += ((unsigned char)*p & 0xC0) != 0x80;
	}
	return n;
}

static void check_fits(const char *text, int rows, int cols)
{
	int lines = 0;
	for (const char *p = text; *p; lines++) {
		const char *nl = strchr(p, '\n');
		assert_non_null(nl);
		if (columns(p, nl) > cols)
			fail_msg("a line of %d columns in a terminal of %d: %.*s", columns(p, nl), cols, (int)(nl - p), p);
		p = nl + 1;
	}
	assert_true(lines <= rows);
}

static void test_roomy_terminal(void **state)
{
	(void)state;
	dr_runinfo ri;
	busy_run(&ri);
	char *t;
	int n = frame(&ri, 60, 120, &t);
	check_fits(t, 60, 120);
	assert_int_equal(n, 1 + STEPS + 1); /* the head, every step, the running step's slowest VMs */
	assert_non_null(strstr(t, "s20"));
	assert_non_null(strstr(t, "  ✗ 3: vm-0007, vm-0207, vm-0407"));
	if (!strstr(t, "500 running; slowest vm-0500 40s, vm-0501 39s, vm-0502 39s" /* 39.5 s and less: rounded, as every duration a person reads */))
		fail_msg("%s", t);
	assert_non_null(strstr(t, " 500/1000 ██████████░░░░░░░░░░  50%"));
	free(t);
	dr_runinfo_dispose(&ri);
}

static void test_small_terminal_folds(void **state)
{
	(void)state;
	dr_runinfo ri;
	busy_run(&ri);
	char *t;
	int n = frame(&ri, 12, 60, &t);
	check_fits(t, 12, 60);
	assert_true(n <= 12);
	assert_non_null(strstr(t, "✓ 20 steps done"));
	assert_non_null(strstr(t, "○ 19 steps to go"));
	assert_non_null(strstr(t, "● s20")); /* the running step stays */
	assert_null(strstr(t, "slowest")); /* what goes first */
	free(t);
	n = frame(&ri, 4, 30, &t);
	check_fits(t, 4, 30);
	assert_true(n <= 4);
	free(t);
	dr_runinfo_dispose(&ri);
}

/* A gate that waits: its own line gives the command as the run recorded it, whole (with --state-dir), as the plain line does. */
static void test_approval_command(void **state)
{
	(void)state;
	dr_runinfo ri;
	dr_runinfo_init(&ri);
	dr_runinfo_declare_step(&ri, "go-no-go", NULL, "approve");
	dr_runinfo_declare_step(&ri, "gate-2", NULL, "approve");
	ap(&ri, "{\"event\":\"run.start\",\"ts\":\"2026-01-01T00:00:00.000Z\",\"t_ms\":0,\"run\":\"shop-1\",\"mode\":\"failover\"}");
	const char *req = "{\"event\":\"approval.request\",\"t_ms\":10,\"step\":\"go-no-go\",\"message\":\"Commit?\","
			  "\"command\":\"drover approve --state-dir '/srv/dr state' shop-1 go-no-go\"}";
	for (int i = 0; i < 2; i++) {
		const char *id = i ? "gate-2" : "go-no-go";
		ap(&ri, "{\"event\":\"step.start\",\"t_ms\":0,\"step\":\"%s\",\"tasks\":1}", id);
		ap(&ri, "{\"event\":\"task.start\",\"t_ms\":0,\"step\":\"%s\",\"attempt\":1}", id);
	}
	ap(&ri, "%s", req);
	/* a journal from before approval.request recorded its command */
	ap(&ri, "{\"event\":\"approval.request\",\"t_ms\":10,\"step\":\"gate-2\",\"message\":\"Go?\"}");
	char *t;
	frame(&ri, 40, 120, &t);
	check_fits(t, 40, 120);
	if (!strstr(t, "\n   answer with: drover approve --state-dir '/srv/dr state' shop-1 go-no-go\033[K\n") ||
	    !strstr(t, "\n   answer with: drover approve shop-1 gate-2\033[K\n"))
		fail_msg("%s", t);
	free(t);
	cJSON *ev = cJSON_Parse(req);
	dr_buf line;
	dr_buf_init(&line);
	assert_true(dr_lines_format(&line, ev, false));
	assert_non_null(strstr(line.data, "(answer with: drover approve --state-dir '/srv/dr state' shop-1 go-no-go)"));
	dr_buf_dispose(&line);
	cJSON_Delete(ev);
	dr_runinfo_dispose(&ri);
}

/*
 * run.retry of a retried run where one task failed an attempt and one failed
 * before its first (decided_anew): the line gives new attempts only to the
 * first, and says the other is decided anew. Before, both got "new attempts".
 */
static void test_retry_line(void **state)
{
	(void)state;
	cJSON *ev = cJSON_Parse("{\"t_ms\":0,\"event\":\"run.retry\",\"run\":\"r-1\",\"tasks\":[\"flaky\",\"note[db-1]\","
				"\"note[db-2]\"],\"decided_anew\":[\"note[db-1]\"],\"not_started\":0,\"in_flight\":0,\"finally\":0}");
	dr_buf line;
	dr_buf_init(&line);
	assert_true(dr_lines_format(&line, ev, false));
	assert_non_null(strstr(line.data, "retrying the failed run: new attempts for flaky, note[db-2]; decided anew, having "
					  "failed before a first attempt: note[db-1]; what completed is not run again"));
	cJSON_DeleteItemFromObject(ev, "decided_anew"); /* an older drover's event: every task gets new attempts */
	dr_buf_reset(&line);
	assert_true(dr_lines_format(&line, ev, false));
	assert_non_null(strstr(line.data, "new attempts for flaky, note[db-1], note[db-2]; what completed"));
	dr_buf_dispose(&line);
	cJSON_Delete(ev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roomy_terminal),
		cmocka_unit_test(test_small_terminal_folds),
		cmocka_unit_test(test_approval_command),
		cmocka_unit_test(test_retry_line),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
