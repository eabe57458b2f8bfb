/*
 * report_junit.c - the report as JUnit XML (the Ant schema CI systems read:
 * shared reference junit/JUnit.xsd), so a drill shows up as test results.
 *
 * One testsuite per step (rollback and finally steps too), one testcase
 * per task: a failed task is a <failure> with its message and the
 * service's recommended action; a skipped, cancelled, pending or rolled
 * back task is <skipped>. A last testsuite, "objectives", holds the run's
 * status, the RTO, the worst RPO, every VM's RPO (each a failure when
 * missed, skipped when nothing was measured: not judged) and, for a drill,
 * whether the cleanup left anything behind; each testcase is named the
 * same from run to run ("RTO (objective 30m)", its figure in the message
 * and, for the RTO, in its time), so a CI dashboard follows it. Runbook text is escaped
 * for XML; characters XML 1.0 cannot hold become U+FFFD.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "views/report.h"
#include "views/report_int.h"

/* s escaped for XML text and attribute values. */
static void xml(dr_buf *b, const char *s)
{
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '&')
			dr_buf_puts(b, "&amp;");
		else if (*p == '<')
			dr_buf_puts(b, "&lt;");
		else if (*p == '>')
			dr_buf_puts(b, "&gt;");
		else if (*p == '"')
			dr_buf_puts(b, "&quot;");
		else if (*p == '\'')
			dr_buf_puts(b, "&apos;");
		else if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r')
			dr_buf_puts(b, "\xef\xbf\xbd");
		else
			dr_buf_putc(b, (char)*p);
	}
}

static void seconds(dr_buf *b, const cJSON *o, const char *key)
{
	int64_t ms = dr_rep_ms(o, key);
	dr_buf_printf(b, "%.3f", ms > 0 ? (double)ms / 1000 : 0.0);
}

/* <testsuite ...> with the attributes the schema requires. */
static void suite_open(dr_buf *b, const cJSON *doc, int id, const char *name, int tests, int failures, int skipped,
		       const cJSON *span)
{
	const cJSON *run = dr_rep_obj(doc, "run");
	const char *started = dr_rep_str(run, "started");
	int64_t at = dr_rep_ms(span, "started_ms");
	if (at < 0) /* a step that never started (cancelled, skipped): when it ended */
		at = dr_rep_ms(span, "ended_ms");
	char ts[40];
	dr_rep_wall(doc, at > 0 ? at : 0, ts, sizeof ts);
	dr_buf_puts(b, "  <testsuite name=\"");
	xml(b, name);
	dr_buf_printf(b, "\" package=\"");
	xml(b, dr_rep_str(run, "runbook") ? dr_rep_str(run, "runbook") : "drover");
	dr_buf_printf(b, "\" id=\"%d\" timestamp=\"%.19s\" hostname=\"", id, started ? ts : "1970-01-01T00:00:00");
	xml(b, dr_rep_str(run, "host") ? dr_rep_str(run, "host") : "localhost");
	dr_buf_printf(b, "\" tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\" time=\"", tests, failures, skipped);
	seconds(b, span, "duration_ms");
	dr_buf_puts(b, "\">\n");
}

static void suite_close(dr_buf *b) { dr_buf_puts(b, "    <system-out/>\n    <system-err/>\n  </testsuite>\n"); }

static void testcase_open(dr_buf *b, const cJSON *doc, const char *step, const char *name, const cJSON *span)
{
	dr_buf_puts(b, "    <testcase name=\"");
	xml(b, name);
	dr_buf_puts(b, "\" classname=\"");
	xml(b, dr_rep_str(dr_rep_obj(doc, "run"), "runbook"));
	dr_buf_putc(b, '.');
	xml(b, step);
	dr_buf_puts(b, "\" time=\"");
	seconds(b, span, "duration_ms");
	dr_buf_puts(b, "\"");
}

/* The failure of a task: its last attempt's message (the attribute) and every attempt (the text). */
static void task_failure(dr_buf *b, const cJSON *task)
{
	const cJSON *attempts = dr_rep_obj(task, "attempts"), *a;
	const cJSON *last = cJSON_GetArrayItem(attempts, cJSON_GetArraySize(attempts) - 1);
	const char *msg = last ? dr_rep_str(last, "message") : NULL;
	dr_buf_puts(b, "      <failure message=\"");
	xml(b, msg ? msg : dr_rep_str(task, "reason") ? dr_rep_str(task, "reason") : "failed");
	dr_buf_puts(b, "\" type=\"");
	xml(b, last && dr_rep_str(last, "class") ? dr_rep_str(last, "class") : "failed");
	dr_buf_puts(b, "\">");
	cJSON_ArrayForEach(a, attempts)
	{
		dr_buf_printf(b, "attempt %d: %s", dr_rep_int(a, "n"), dr_rep_str(a, "state"));
		if (dr_rep_str(a, "message")) {
			dr_buf_puts(b, ": ");
			xml(b, dr_rep_str(a, "message"));
		}
		if (dr_rep_str(a, "recommended_action")) {
			dr_buf_puts(b, "\nrecommended action: ");
			xml(b, dr_rep_str(a, "recommended_action"));
		}
		dr_buf_putc(b, '\n');
	}
	dr_buf_puts(b, "</failure>\n");
}

static void task_case(dr_buf *b, const cJSON *doc, const cJSON *task)
{
	const char *state = dr_rep_str(task, "state");
	testcase_open(b, doc, dr_rep_str(task, "step"), dr_rep_str(task, "label"), task);
	if (strcmp(state, "succeeded") == 0) {
		dr_buf_puts(b, "/>\n");
		return;
	}
	dr_buf_puts(b, ">\n");
	if (strcmp(state, "failed") == 0) {
		task_failure(b, task);
	} else {
		dr_buf_puts(b, "      <skipped message=\"");
		xml(b, state);
		if (dr_rep_str(task, "reason")) {
			dr_buf_puts(b, ": ");
			xml(b, dr_rep_str(task, "reason"));
		}
		dr_buf_puts(b, "\"/>\n");
	}
	dr_buf_puts(b, "    </testcase>\n");
}

/* A step's suite: its counts off the model, then each of its tasks built in turn. */
static void step_suite(dr_rep *r, int id, size_t i)
{
	const dr_ri_step *st = &r->ri->steps[i];
	int tests = 0, failures = 0, skipped = 0;
	for (size_t k = 0; k < st->n_task_refs; k++) {
		dr_ri_state state = r->ri->tasks[st->tasks[k]].state;
		tests++;
		failures += state == DR_RI_FAILED;
		skipped += state != DR_RI_FAILED && state != DR_RI_SUCCEEDED;
	}
	char name[300];
	cJSON *step = dr_rep_step(r, i);
	dr_rep_step_name(step, name, sizeof name);
	suite_open(r->out, r->doc, id, name, tests, failures, skipped, step);
	cJSON_Delete(step);
	dr_buf_puts(r->out, "    <properties/>\n");
	for (size_t k = 0; k < st->n_task_refs; k++) {
		cJSON *t = dr_rep_task(r, st->tasks[k]);
		task_case(r->out, r->doc, t);
		cJSON_Delete(t);
		dr_rep_flush(r, false);
	}
	suite_close(r->out);
}

/* One objective testcase: passes, fails with its failure, or is skipped (not judged) with why. */
static void verdict_case(dr_buf *b, const cJSON *doc, const dr_rep_verdict *v)
{
	cJSON *span = cJSON_CreateObject(); /* the RTO's testcase takes the RTO as its time */
	if (v->ms >= 0)
		cJSON_AddNumberToObject(span, "duration_ms", (double)v->ms);
	testcase_open(b, doc, "objectives", v->check ? v->check : v->name, span);
	cJSON_Delete(span);
	if (!v->failure && !v->skipped) {
		dr_buf_puts(b, "/>\n");
		return;
	}
	dr_buf_puts(b, v->failure ? ">\n      <failure message=\"" : ">\n      <skipped message=\"");
	xml(b, v->failure ? v->failure : v->skipped);
	dr_buf_puts(b, v->failure ? "\" type=\"objective\"/>\n    </testcase>\n" : "\"/>\n    </testcase>\n");
}

static void property(dr_buf *b, const char *name, const char *value)
{
	dr_buf_printf(b, "      <property name=\"%s\" value=\"", name);
	xml(b, value ? value : "");
	dr_buf_puts(b, "\"/>\n");
}

/* The figure the testcases' names leave out (they stay the same from run to run): "19m41s", when measured. */
static void figure_property(dr_buf *b, const char *name, const cJSON *o, const char *key)
{
	char d[32];
	if (dr_rep_ms(o, key) < 0)
		return;
	dr_rep_duration(dr_rep_ms(o, key), d, sizeof d);
	property(b, name, d);
}

static void objectives_suite(dr_buf *b, const dr_rep *r, int id)
{
	size_t n;
	const cJSON *doc = r->doc;
	dr_rep_verdict *v = dr_rep_verdicts(r, &n);
	int failures = 0, skipped = 0;
	for (size_t i = 0; i < n; i++) {
		failures += v[i].failure != NULL;
		skipped += v[i].skipped != NULL;
	}
	const cJSON *run = dr_rep_obj(doc, "run");
	suite_open(b, doc, id, "objectives", (int)n, failures, skipped, run);
	dr_buf_puts(b, "    <properties>\n");
	static const char *const keys[] = {"id", "runbook", "file", "digest", "mode", "direction", "status", "user"};
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		property(b, keys[i], dr_rep_str(run, keys[i]));
	figure_property(b, "rto", dr_rep_obj(dr_rep_obj(doc, "objectives"), "rto"), "achieved_ms");
	figure_property(b, "rpo_worst", dr_rep_obj(dr_rep_obj(doc, "objectives"), "rpo"), "worst_ms");
	dr_buf_puts(b, "    </properties>\n");
	for (size_t i = 0; i < n; i++)
		verdict_case(b, doc, &v[i]);
	suite_close(b);
	dr_rep_verdicts_dispose(v, n);
}

void dr_report_junit(dr_rep *r)
{
	dr_buf_puts(r->out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites>\n");
	int id = 0;
	for (size_t i = 0; i < r->ri->n_steps; i++)
		step_suite(r, id++, i);
	objectives_suite(r->out, r, id);
	dr_buf_puts(r->out, "</testsuites>\n");
}
