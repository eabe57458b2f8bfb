/*
 * test_report.c - the report built from a run model fed by hand: the
 * critical path (ties among tasks that ended together), escaping in every
 * form, and the run's metrics.
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
#include "views/report.h"

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
	cJSON *doc = dr_report_build(ri);
	dr_buf b;
	dr_buf_init(&b);
	dr_report_render(doc, f, &b);
	cJSON_Delete(doc);
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

static void test_metrics(void **state)
{
	(void)state;
	dr_runinfo ri;
	feed(&ri, NULL);
	cJSON *doc = dr_report_build(&ri);
	dr_metrics m;
	dr_metrics_init(&m);
	dr_report_metrics(doc, &m);
	assert_non_null(strstr(m.text.data, "drover_run_status{runbook=\"rb<&>\",mode=\"drill\",status=\"succeeded\"} 1\n"));
	assert_non_null(strstr(m.text.data, "drover_run_status{runbook=\"rb<&>\",mode=\"drill\",status=\"failed\"} 0\n"));
	assert_non_null(strstr(m.text.data, "drover_run_rto_seconds{runbook=\"rb<&>\",mode=\"drill\"} 350\n"));
	assert_null(strstr(m.text.data, "drover_run_objectives_met")); /* no objectives: no verdict */
	dr_metrics_dispose(&m);
	cJSON_Delete(doc);
	dr_runinfo_dispose(&ri);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_critical_path),
		cmocka_unit_test(test_escaping),
		cmocka_unit_test(test_metrics),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
