/*
 * test_metrics.c - the Prometheus text format: families, label escaping,
 * values, and the readiness read off a plan view.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "views/metrics.h"

static void test_family_and_escaping(void **state)
{
	(void)state;
	dr_metrics m;
	dr_metrics_init(&m);
	dr_metrics_family(&m, "drover_x", "gauge", "a \\ help\nline");
	dr_metrics_sample(&m, "drover_x", (const char *[]){"vm", "a\"b\\c\nd", "mode", NULL, NULL}, 1.5);
	dr_metrics_sample(&m, "drover_x", NULL, 1796531244.599);
	dr_metrics_sample(&m, "drover_x", (const char *[]){NULL}, NAN);
	dr_metrics_sample(&m, "drover_x", NULL, -INFINITY);
	assert_string_equal(m.text.data, "# HELP drover_x a \\\\ help\\nline\n"
					 "# TYPE drover_x gauge\n"
					 "drover_x{vm=\"a\\\"b\\\\c\\nd\",mode=\"\"} 1.5\n"
					 "drover_x 1796531244.599\n"
					 "drover_x NaN\n"
					 "drover_x -Inf\n");
	dr_metrics_dispose(&m);
}

/* Blockers are counted per VM; a VM without a point has no age sample. */
static void test_readiness(void **state)
{
	(void)state;
	cJSON *view = cJSON_Parse(
		"{\"runnable\":false,\"blockers\":[{\"kind\":\"rpo\",\"vm\":\"b\"},{\"kind\":\"state\",\"vm\":\"b\"},"
		"{\"kind\":\"set\"}],\"vms\":[{\"name\":\"a\",\"state\":\"protected\",\"replication_health\":\"Normal\","
		"\"recovery_point\":{\"age_ms\":90500,\"verdict\":\"ok\",\"max_age\":\"1h\"}},"
		"{\"name\":\"b\",\"state\":\"failed_over\",\"replication_health\":\"Critical\"}]}");
	dr_metrics m;
	dr_metrics_init(&m);
	dr_metrics_add_readiness(&m, "rb", "drill", view, 1000);
	const char *t = m.text.data;
	assert_non_null(strstr(t, "drover_readiness_runnable{runbook=\"rb\",mode=\"drill\"} 0\n"));
	assert_non_null(strstr(t, "drover_readiness_blockers{runbook=\"rb\",mode=\"drill\"} 3\n"));
	assert_non_null(strstr(t, "drover_readiness_vm_blockers{runbook=\"rb\",mode=\"drill\",vm=\"a\"} 0\n"));
	assert_non_null(strstr(t, "drover_readiness_vm_blockers{runbook=\"rb\",mode=\"drill\",vm=\"b\"} 2\n"));
	assert_non_null(strstr(t, "drover_readiness_vm_recovery_point_age_seconds{runbook=\"rb\",mode=\"drill\",vm=\"a\"} 90.5\n"));
	assert_null(strstr(t, "drover_readiness_vm_recovery_point_age_seconds{runbook=\"rb\",mode=\"drill\",vm=\"b\"}"));
	assert_non_null(strstr(t, "drover_readiness_vm_recovery_point_max_age_seconds{runbook=\"rb\",mode=\"drill\",vm=\"a\"} 3600\n"));
	assert_non_null(strstr(t, "drover_readiness_vm_replication_healthy{runbook=\"rb\",mode=\"drill\",vm=\"b\",health=\"Critical\"} 0\n"));
	assert_non_null(strstr(t, "drover_readiness_checked_timestamp_seconds{runbook=\"rb\",mode=\"drill\"} 1\n"));
	dr_metrics_dispose(&m);
	dr_metrics_init(&m);
	dr_metrics_add_readiness(&m, "rb", "failover", NULL, 0);
	assert_non_null(strstr(m.text.data, "drover_readiness_check_ok{runbook=\"rb\",mode=\"failover\"} 0\n"));
	assert_null(strstr(m.text.data, "drover_readiness_runnable"));
	dr_metrics_dispose(&m);
	cJSON_Delete(view);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_family_and_escaping),
		cmocka_unit_test(test_readiness),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
