/*
 * test_report.c - the report built from a run model fed by hand: the
 * critical path (ties among tasks that ended together), escaping in every
 * form, a big run's report written as it is made, and the run's metrics.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "journal/runinfo.h"
#include "views/report.h"
#include "views/report_int.h"
#include "views/summary.h"

static void rec(dr_runinfo *ri, const char *json)
{
	cJSON *r = cJSON_Parse(json);
	assert_non_null(r);
	dr_runinfo_apply(ri, r);
	cJSON_Delete(r);
}

static void task(dr_runinfo *ri, const char *step, const char *action, const char *vm, int64_t start, int64_t end,
		 const char *status, const char *message)
{
	char buf[1024];
	snprintf(buf, sizeof buf,
		 "{\"event\":\"task.start\",\"t_ms\":%lld,\"step\":\"%s\",\"target\":\"%s\",\"attempt\":1,\"action\":\"%s\"}",
		 (long long)start, step, vm, action);
	rec(ri, buf);
	snprintf(buf, sizeof buf,
		 "{\"event\":\"task.end\",\"t_ms\":%lld,\"step\":\"%s\",\"target\":\"%s\",\"attempt\":1,\"status\":\"%s\"%s%s%s}",
		 (long long)end, step, vm, status, message ? ",\"class\":\"permanent\",\"message\":\"" : "",
		 message ? message : "", message ? "\"" : "");
	rec(ri, buf);
}

/* Two failovers, then two probes; the probe of vm1 takes no time and ends as the probe of vm2 starts. */
static void feed(dr_runinfo *ri, const char *message)
{
	dr_runinfo_init(ri);
	dr_runinfo_declare_step(ri, "fo", NULL, "dr.failover");
	dr_runinfo_declare_step(ri, "up", NULL, "dr.probe");
	rec(ri, "{\"event\":\"run.start\",\"t_ms\":0,\"run\":\"r-1\",\"runbook\":\"rb<&>\",\"mode\":\"drill\"}");
	task(ri, "fo", "dr.failover", "vm1", 0, 100000, "succeeded", NULL);
	task(ri, "fo", "dr.failover", "vm2", 0, 300000, "succeeded", NULL);
	task(ri, "up", "dr.probe", "vm1", 300000, 300000, "succeeded", NULL);
	task(ri, "up", "dr.probe", "vm2", 300000, 350000, message ? "failed" : "succeeded", message);
	rec(ri, "{\"event\":\"run.end\",\"t_ms\":350000,\"status\":\"succeeded\",\"exit\":0}");
}

static const cJSON *task_labelled(const cJSON *doc, const char *label)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, cJSON_GetObjectItem(doc, "tasks"))
		if (strcmp(cJSON_GetObjectItem(t, "label")->valuestring, label) == 0)
			return t;
	return NULL;
}

static void test_critical_path(void **state)
{
	(void)state;
	dr_runinfo ri;
	feed(&ri, NULL);
	cJSON *doc = dr_report_build(&ri);
	const cJSON *rto = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "objectives"), "rto");
	assert_string_equal(cJSON_GetObjectItem(rto, "task")->valuestring, "up[vm2]");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(task_labelled(doc, "up[vm2]"), "critical")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(task_labelled(doc, "fo[vm2]"), "critical")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(task_labelled(doc, "up[vm1]"), "critical")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(task_labelled(doc, "fo[vm1]"), "critical")));
	cJSON_Delete(doc);
	dr_runinfo_dispose(&ri);
}

static char *render(const dr_runinfo *ri, dr_report_format f)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_report_render(ri, f, &b);
	return dr_buf_detach(&b);
}

/* Text from the service and the runbook is escaped for each form. */
static void test_escaping(void **state)
{
	(void)state;
	dr_runinfo ri;
	feed(&ri, "no <b>quota</b> & \\\"x\\\" | `y`");
	char *xml = render(&ri, DR_REPORT_JUNIT), *html = render(&ri, DR_REPORT_HTML), *md = render(&ri, DR_REPORT_MARKDOWN);
	assert_non_null(strstr(xml, "message=\"no &lt;b&gt;quota&lt;/b&gt; &amp; &quot;x&quot; | `y`\""));
	assert_non_null(strstr(xml, "package=\"rb&lt;&amp;&gt;\""));
	assert_null(strstr(html, "<b>quota"));
	assert_non_null(strstr(html, "no &lt;b&gt;quota&lt;/b&gt; &amp; &quot;x&quot; | `y`"));
	assert_non_null(strstr(md, "`` no <b>quota</b> & \"x\" \\| `y` ``")); /* padded: it ends with a backtick */
	free(xml);
	free(html);
	free(md);
	dr_runinfo_dispose(&ri);
}

/*
 * A big run as a Markdown comment: 300 steps, one of them (the 250th)
 * failed on 30 of its VMs; a drill that left 30 test VMs. The table has
 * 40 rows, the failed step among them, and a row that counts the rest; the
 * failures and the leftovers name 10 and count the rest; the comment stays
 * far under GitHub's 65,536 characters. The JSON report keeps them all.
 * Before, every step and every failure got a line (116 KB at 10,000 VMs).
 */
static void test_markdown_stays_short(void **state)
{
	(void)state;
	dr_runinfo ri;
	char id[32], buf[256];
	dr_runinfo_init(&ri);
	for (int i = 0; i < 300; i++) {
		snprintf(id, sizeof id, "s%03d", i);
		dr_runinfo_declare_step(&ri, id, NULL, "log");
	}
	rec(&ri, "{\"event\":\"run.start\",\"t_ms\":0,\"run\":\"r-1\",\"runbook\":\"big\",\"mode\":\"drill\"}");
	for (int i = 0; i < 300; i++) {
		snprintf(id, sizeof id, "s%03d", i);
		snprintf(buf, sizeof buf, "{\"event\":\"step.start\",\"t_ms\":%d,\"step\":\"%s\",\"tasks\":%d}", i, id,
			 i == 250 ? 30 : 1);
		rec(&ri, buf);
		for (int v = 0; v < (i == 250 ? 30 : 1); v++) {
			snprintf(buf, sizeof buf, "vm%d", v);
			task(&ri, id, "log", buf, i, i + 1, i == 250 ? "failed" : "succeeded", i == 250 ? "boom" : NULL);
		}
		snprintf(buf, sizeof buf, "{\"event\":\"step.end\",\"t_ms\":%d,\"step\":\"%s\",\"status\":\"%s\"}", i + 1, id,
			 i == 250 ? "failed" : "succeeded");
		rec(&ri, buf);
	}
	dr_buf d;
	dr_buf_init(&d);
	dr_buf_puts(&d, "{\"event\":\"drill.verify\",\"t_ms\":400,\"status\":\"leftovers\",\"leftovers\":[");
	for (int v = 0; v < 30; v++)
		dr_buf_printf(&d, "%s{\"vm\":\"vm%d\",\"state\":\"test_failed_over\"}", v ? "," : "", v);
	dr_buf_puts(&d, "]}");
	rec(&ri, d.data);
	dr_buf_dispose(&d);
	rec(&ri, "{\"event\":\"run.end\",\"t_ms\":400,\"status\":\"failed\",\"exit\":1}");
	char *md = render(&ri, DR_REPORT_MARKDOWN), *json = render(&ri, DR_REPORT_JSON);
	size_t rows = 0;
	for (const char *p = md; (p = strstr(p, "\n| `")); p++)
		rows++;
	assert_int_equal(rows, 40);
	assert_non_null(strstr(md, "| `s250` | failed | 30 failed |"));
	assert_non_null(strstr(md, "| 260 more steps | 260 succeeded | | |"));
	assert_non_null(strstr(md, "- ... and 20 more failed tasks (the JSON and HTML reports list them all)"));
	assert_null(strstr(md, "`s250[vm10]`"));
	assert_non_null(strstr(md, "`vm9` and 20 more (the JSON report names them all)"));
	assert_true(strlen(md) < 8000);
	assert_non_null(strstr(json, "\"label\":\t\"s250[vm29]\""));
	char *xml = render(&ri, DR_REPORT_JUNIT), *summary = NULL;
	assert_non_null(strstr(xml, "30 test VMs left behind: vm0 (test_failed_over)"));
	assert_non_null(strstr(xml, "vm9 (test_failed_over) ... and 20 more (the JSON report names them all)"));
	assert_null(strstr(xml, "vm10 (test_failed_over)"));
	size_t len = 0;
	FILE *mem = open_memstream(&summary, &len);
	dr_summary_print(&ri, mem);
	fclose(mem);
	assert_non_null(strstr(summary, "DRILL LEFT 30 TEST VMS BEHIND: vm0 (test_failed_over)"));
	assert_non_null(strstr(summary, "vm9 (test_failed_over) ... and 20 more (drover report names them all)\n"));
	assert_non_null(strstr(summary, "30 test VMs are left behind (named above, the first 10; drover report names them all)"));
	free(xml);
	free(summary);
	free(md);
	free(json);
	dr_runinfo_dispose(&ri);
}

static void test_metrics(void **state)
{
	(void)state;
	dr_runinfo ri;
	feed(&ri, NULL);
	dr_metrics m;
	dr_metrics_init(&m);
	dr_report_metrics(&ri, &m);
	assert_non_null(strstr(m.text.data, "drover_run_status{runbook=\"rb<&>\",mode=\"drill\",status=\"succeeded\"} 1\n"));
	assert_non_null(strstr(m.text.data, "drover_run_status{runbook=\"rb<&>\",mode=\"drill\",status=\"failed\"} 0\n"));
	assert_non_null(strstr(m.text.data, "drover_run_rto_seconds{runbook=\"rb<&>\",mode=\"drill\"} 350\n"));
	assert_null(strstr(m.text.data, "drover_run_objectives_met")); /* no objectives: no verdict */
	dr_metrics_dispose(&m);
	dr_runinfo_dispose(&ri);
}

/*
 * A drill of 3,000 VMs (an approval gate, a failover and a probe each, 30 probes failed, a cleanup that left
 * 20 test VMs): its report is written as it is made. Each form, written to a file, never holds more than
 * 64 KiB and one item of text at once, and the file is the very text rendered whole; the JSON is the bytes
 * cJSON_Print gives for the whole document (its parse, printed again). Before, every form built the whole
 * document first and then the whole text: 640 MB at 10,000 VMs for the JSON, 475 MB for a 4 KB Markdown.
 */
static void big_drill(dr_runinfo *ri)
{
	char buf[512], vm[32];
	dr_runinfo_init(ri);
	dr_runinfo_declare_step(ri, "go", NULL, "approve");
	dr_runinfo_declare_step(ri, "fo", NULL, "dr.test_failover");
	dr_runinfo_declare_step(ri, "up", NULL, "dr.probe");
	dr_runinfo_declare_step(ri, "clean", "finally", "dr.test_cleanup");
	rec(ri, "{\"event\":\"run.start\",\"t_ms\":0,\"run\":\"r-big\",\"runbook\":\"big\",\"mode\":\"drill\"}");
	rec(ri, "{\"event\":\"task.start\",\"t_ms\":0,\"step\":\"go\",\"attempt\":1,\"action\":\"approve\"}");
	rec(ri, "{\"event\":\"approval.request\",\"t_ms\":0,\"step\":\"go\",\"message\":\"Go <now>?\"}");
	rec(ri, "{\"event\":\"approval.granted\",\"t_ms\":5000,\"step\":\"go\",\"by\":\"alice\",\"via\":\"--yes\",\"waited_ms\":5000}");
	rec(ri, "{\"event\":\"task.end\",\"t_ms\":5000,\"step\":\"go\",\"attempt\":1,\"status\":\"succeeded\"}");
	for (int v = 0; v < 3000; v++) {
		snprintf(vm, sizeof vm, "vm-%04d", v);
		task(ri, "fo", "dr.test_failover", vm, 5000, 60000 + v, "succeeded", NULL);
		task(ri, "up", "dr.probe", vm, 60000 + v, 70000 + v, v % 100 ? "succeeded" : "failed", v % 100 ? NULL : "no \\\"answer\\\"");
		task(ri, "clean", "dr.test_cleanup", vm, 80000, 90000, "succeeded", NULL);
	}
	dr_buf d;
	dr_buf_init(&d);
	dr_buf_puts(&d, "{\"event\":\"drill.verify\",\"t_ms\":95000,\"status\":\"leftovers\",\"leftovers\":[");
	for (int v = 0; v < 20; v++)
		dr_buf_printf(&d, "%s{\"vm\":\"vm-%04d\",\"state\":\"test_failed_over\"}", v ? "," : "", v);
	dr_buf_puts(&d, "]}");
	rec(ri, d.data);
	dr_buf_dispose(&d);
	snprintf(buf, sizeof buf, "{\"event\":\"run.end\",\"t_ms\":95000,\"status\":\"failed\",\"exit\":1}");
	rec(ri, buf);
}

/* The form f of ri written into a file as it is made: the text, and the most it held at once in *most. */
static char *written(const dr_runinfo *ri, dr_report_format f, size_t *most)
{
	static void (*const forms[])(dr_rep *) = {
		[DR_REPORT_JSON] = dr_report_json, [DR_REPORT_JUNIT] = dr_report_junit,
		[DR_REPORT_MARKDOWN] = dr_report_markdown, [DR_REPORT_HTML] = dr_report_html,
	};
	FILE *file = tmpfile();
	assert_non_null(file);
	dr_buf out;
	dr_buf_init(&out);
	dr_rep r;
	dr_rep_open(&r, ri, &out, fileno(file));
	forms[f](&r);
	assert_int_equal(dr_rep_close(&r), 0);
	*most = r.most;
	dr_buf_dispose(&out);
	off_t n = lseek(fileno(file), 0, SEEK_END);
	assert_true(n > 0);
	char *text = calloc((size_t)n + 1, 1);
	assert_int_equal(pread(fileno(file), text, (size_t)n, 0), n);
	fclose(file);
	return text;
}

static void test_written_as_made(void **state)
{
	(void)state;
	dr_runinfo ri;
	big_drill(&ri);
	for (dr_report_format f = DR_REPORT_JSON; f <= DR_REPORT_HTML; f++) {
		size_t most;
		char *file = written(&ri, f, &most), *whole = render(&ri, f);
		assert_string_equal(file, whole);
		assert_true(most < 64 * 1024 + 4096);
		if (f != DR_REPORT_MARKDOWN)
			assert_true(strlen(whole) > 512 * 1024); /* so it was written in pieces */
		free(file);
		free(whole);
	}
	char *json = render(&ri, DR_REPORT_JSON);
	cJSON *doc = cJSON_Parse(json);
	assert_non_null(doc);
	char *again = cJSON_Print(doc);
	assert_int_equal(strlen(json), strlen(again) + 1);
	assert_memory_equal(json, again, strlen(again));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "tasks")), 9001);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "approvals")), 1);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "drill"), "cleanup")), 3000);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "drill"), "leftovers")), 20);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "approvals"), 0), "step")->valuestring, "go");
	cJSON_free(again);
	cJSON_Delete(doc);
	free(json);
	dr_runinfo_dispose(&ri);
}

static size_t count_of(const char *text, const char *what)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
		n++;
	return n;
}

/*
 * The HTML report of a big run folds each step's table of tasks unless one of them failed or waits for a
 * person: a browser lays out only what is open (a drill of 10,000 VMs took headless Chromium minutes to draw
 * with one table of its 111,753 tasks). Every task is still in the page; a small run's steps are all open.
 * (The steps of these fed models have no step records: pending.)
 */
static void test_html_folds_big_runs(void **state)
{
	(void)state;
	dr_runinfo ri;
	big_drill(&ri);
	char *html = render(&ri, DR_REPORT_HTML);
	assert_int_equal(count_of(html, "<tr><td><code>"), 9001);
	assert_int_equal(count_of(html, "<details open>"), 1);
	assert_int_equal(count_of(html, "<details>"), 3);
	assert_non_null(strstr(html, "<details open><summary><code>up</code> <span class=\"pending\">pending</span>, "
				     "3000 tasks: 2970 succeeded, 30 failed</summary>"));
	assert_non_null(strstr(html, "<details><summary><code>clean</code> <span class=\"pending\">pending</span>, "
				     "3000 tasks: 3000 succeeded</summary>"));
	free(html);
	dr_runinfo_dispose(&ri);
	feed(&ri, "boom");
	html = render(&ri, DR_REPORT_HTML);
	assert_int_equal(count_of(html, "<details open>"), 2);
	assert_int_equal(count_of(html, "<details>"), 0);
	free(html);
	dr_runinfo_dispose(&ri);
}

/* The timeline of html: its <svg> element. */
static char *svg_of(const char *html)
{
	const char *a = strstr(html, "<svg id=\"timeline\""), *z = a ? strstr(a, "</svg>") : NULL;
	assert_non_null(z);
	return strndup(a, (size_t)(z - a));
}

/*
 * A step of more tasks than its row has lanes (a lane is at least 4 px): 1,000 failovers, 10 of them
 * failed and one still running. The tasks that need no reader share lanes, several to a lane in the
 * order they started (one bar, a tooltip that counts them: 989 in all; outlined where the critical path
 * runs through them); each failed or running task
 * keeps a lane and a tooltip of its own, and every task is still in the tables. Before, each of the
 * 1,000 had a lane of 0.17 px (a step of bench's 10,000 VMs: a row of 10,000 bars no one could see or
 * point at). A small run is drawn as before: one lane per task, nothing folded.
 */
static void test_html_timeline_folds_lanes(void **state)
{
	(void)state;
	dr_runinfo ri;
	char vm[32], msg[64], buf[256];
	dr_runinfo_init(&ri);
	dr_runinfo_declare_step(&ri, "fo", NULL, "dr.failover");
	rec(&ri, "{\"event\":\"run.start\",\"t_ms\":0,\"run\":\"r-lanes\",\"runbook\":\"lanes\",\"mode\":\"failover\"}");
	for (int v = 0; v < 999; v++) {
		snprintf(vm, sizeof vm, "vm-%04d", v);
		snprintf(msg, sizeof msg, "boom %d", v);
		task(&ri, "fo", "dr.failover", vm, (v / 10) * 60000, (v / 10) * 60000 + 50000 + v, v % 100 == 7 ? "failed" : "succeeded",
		     v % 100 == 7 ? msg : NULL);
	}
	snprintf(buf, sizeof buf, "{\"event\":\"task.start\",\"t_ms\":1000,\"step\":\"fo\",\"target\":\"vm-0999\",\"attempt\":1,"
				  "\"action\":\"dr.failover\"}");
	rec(&ri, buf);
	char *html = render(&ri, DR_REPORT_HTML), *svg = svg_of(html);
	assert_true(count_of(svg, "<rect") < 60); /* was 1,000 bars and more */
	assert_true(count_of(svg, "class=\"fold") >= 8);
	assert_non_null(strstr(svg, "class=\"fold crit\"")); /* the chain of the last tasks to end: outlined */
	size_t folded = 0;
	for (const char *p = svg; (p = strstr(p, "<title>")); p++) {
		unsigned long n;
		if (sscanf(p, "<title>%lu tasks, ", &n) == 1)
			folded += n;
	}
	assert_int_equal(folded, 989);
	for (int v = 7; v < 999; v += 100) {
		snprintf(buf, sizeof buf, "<title>fo[vm-%04d] (dr.failover) attempt 1: failed, ", v);
		assert_non_null(strstr(svg, buf));
		snprintf(buf, sizeof buf, "boom %d</title>", v);
		assert_non_null(strstr(svg, buf));
	}
	assert_non_null(strstr(svg, "<title>fo[vm-0999] (dr.failover) attempt 1: running"));
	assert_non_null(strstr(html, "several tasks in one lane"));
	assert_int_equal(count_of(html, "<tr><td><code>"), 1000);
	free(svg);
	free(html);
	dr_runinfo_dispose(&ri);
	feed(&ri, "boom");
	html = render(&ri, DR_REPORT_HTML);
	assert_null(strstr(html, "class=\"fold"));
	assert_null(strstr(html, "several tasks in one lane"));
	free(html);
	dr_runinfo_dispose(&ri);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_critical_path),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_markdown_stays_short),
		cmocka_unit_test(test_written_as_made),
		cmocka_unit_test(test_html_folds_big_runs),
		cmocka_unit_test(test_html_timeline_folds_lanes),
		cmocka_unit_test(test_metrics),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
