/*
 * test_modes.c - the drill transformation (modes.c) and the plan view
 * (planview.c) on an in-memory simulator: failovers become test failovers
 * into the network, what a drill skips and why, the cleanup added under
 * finally: (or not, when the runbook cleans up itself), mode names; the
 * view's sets, points, waves, irreversible steps and blockers (RPO guard,
 * state machine, vm_set expect:).
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

#include "actions/action.h"
#include "backends/backend.h"
#include "run/exec.h"
#include "run/modes.h"
#include "front/plan.h"
#include "views/planview.h"
#include "front/runbook.h"
#include "fixture.h"

#define EPOCH INT64_C(1767225600000)

static const char *shop =
	"drover: 1\nname: shop\n"
	"backend:\n  kind: sim\n  vms:\n"
	"    - { name: db-1, tags: { tier: db } }\n"
	"    - { name: db-2, tags: { tier: db } }\n"
	"    - { name: web-1, tags: { tier: web } }\n"
	"vm_sets:\n  db: { match: { tags: { tier: '^db$' } }, expect: { count: 2 } }\n"
	"  web: { match: { tags: { tier: '^web$' } } }\n"
	"recovery: { point: latest-processed, max_age: %s }\n"
	"steps:\n"
	"  - { id: stop, action: dr.shutdown, targets: [db, web], on_failure: continue }\n"
	"  - { id: fo-db, action: dr.failover, targets: db, needs: stop, with: { shutdown_source: false } }\n"
	"  - { id: up, action: dr.probe, foreach: db, needs: fo-db }\n"
	"  - { id: fo-web, action: dr.failover, targets: web, needs: up }\n"
	"  - { id: ok, action: approve, needs: fo-web, with: { message: go } }\n"
	"  - { id: commit, action: dr.commit, targets: [db, web], needs: ok }\n"
	"  - { id: reprotect, action: dr.reprotect, targets: [db, web], needs: commit }\n"
	"%s";

static dr_runbook *compile(const char *max_age, const char *finally)
{
	char text[4096];
	snprintf(text, sizeof text, shop, max_age, finally);
	return fx_compile(NULL, text);
}

static size_t idx(const dr_runbook *rb, const char *id)
{
	size_t i = dr_plan_index(rb->plan, id);
	assert_true(i != (size_t)-1);
	return i;
}

static void names(void **unused)
{
	(void)unused;
	assert_string_equal(dr_mode_name(DR_MODE_FAILOVER), "failover");
	assert_string_equal(dr_mode_name(DR_MODE_DRILL), "drill");
	assert_string_equal(dr_mode_name(DR_MODE_FAILBACK), "failback");
	assert_string_equal(dr_mode_direction_name(DR_BE_DIR_RECOVERY_TO_PRIMARY), "recovery-to-primary");
	assert_int_equal(dr_mode_default_direction(DR_MODE_FAILBACK), DR_BE_DIR_RECOVERY_TO_PRIMARY);
	assert_int_equal(dr_mode_default_direction(DR_MODE_DRILL), DR_BE_DIR_PRIMARY_TO_RECOVERY);
}

static void drill_rewrites(void **unused)
{
	(void)unused;
	dr_runbook *rb = compile("1h", "");
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_modes_make_drill(rb, "lab-net", &err), 0);
	assert_true(rb->plan->acyclic);
	const dr_step *fo = rb->plan->nodes[idx(rb, "fo-db")].step;
	assert_string_equal(fo->action->name, "dr.test_failover");
	assert_string_equal(dr_node_str(dr_node_get(fo->with, "network")), "lab-net");
	assert_null(dr_node_get(fo->with, "shutdown_source"));
	const char *why = NULL;
	assert_true(dr_modes_skips(rb, idx(rb, "commit"), &why));
	assert_non_null(strstr(why, "dr.commit"));
	assert_true(dr_modes_skips(rb, idx(rb, "reprotect"), NULL));
	assert_true(dr_modes_skips(rb, idx(rb, "stop"), NULL));
	assert_true(dr_modes_skips(rb, idx(rb, "ok"), &why)); /* the gate only guards skipped steps */
	assert_non_null(strstr(why, "gate"));
	assert_false(dr_modes_skips(rb, idx(rb, "up"), NULL));
	assert_false(dr_modes_skips(rb, idx(rb, "fo-web"), NULL));
	size_t c = idx(rb, DR_DRILL_CLEANUP_ID);
	assert_true(c >= rb->plan->n_main);
	const dr_step *cl = rb->plan->nodes[c].step;
	assert_string_equal(cl->action->name, "dr.test_cleanup");
	assert_int_equal(cl->n_targets, 2);
	assert_non_null(cl->when);
	dr_buf_dispose(&err);
	dr_runbook_free(rb);
}

static void drill_keeps_own_cleanup(void **unused)
{
	(void)unused;
	dr_runbook *rb = compile("1h", "finally:\n  - { id: mine, action: dr.test_cleanup, targets: [db, web] }\n");
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_modes_make_drill(rb, NULL, &err), 0);
	assert_true(dr_plan_index(rb->plan, DR_DRILL_CLEANUP_ID) == (size_t)-1);
	const dr_step *fo = rb->plan->nodes[idx(rb, "fo-web")].step;
	assert_string_equal(dr_node_str(dr_node_get(fo->with, "network")), DR_DRILL_DEFAULT_NETWORK);
	dr_buf_dispose(&err);
	dr_runbook_free(rb);
}

#define MIN(m) ((int64_t)(m) * 60000)

/*
 * The cleanup a drill adds is given time for what it cleans (15 minutes to
 * wait out test failovers, then 5 minutes a wave of VMs), never less than
 * defaults.timeout; no limit stays none; a runbook's own cleanup keeps what
 * it inherits (its author can set its timeout:).
 */
static void drill_cleanup_timeout_by_size(void **unused)
{
	(void)unused;
	dr_runbook *rb = compile("1h", "");
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_modes_make_drill(rb, NULL, &err), 0);
	const dr_step *cl = rb->plan->nodes[idx(rb, DR_DRILL_CLEANUP_ID)].step;
	assert_int_equal(dr_modes_cleanup_timeout(cl, MIN(30), 1000, 10), MIN(15 + 100 * 5)); /* 100 waves */
	assert_int_equal(dr_modes_cleanup_timeout(cl, MIN(30), 1001, 10), MIN(15 + 101 * 5));
	assert_int_equal(dr_modes_cleanup_timeout(cl, MIN(30), 10000, 0), MIN(30)); /* all at once: one wave */
	assert_int_equal(dr_modes_cleanup_timeout(cl, MIN(30), 3, 1), MIN(30)); /* a small drill: as before */
	assert_int_equal(dr_modes_cleanup_timeout(cl, MIN(600), 40, 4), MIN(600));
	assert_int_equal(dr_modes_cleanup_timeout(cl, -1, 1000, 10), -1);
	assert_true(dr_modes_cleanup_timeout(cl, MIN(30), SIZE_MAX, 1) > MIN(30)); /* no overflow */
	const dr_step *fo = rb->plan->nodes[idx(rb, "fo-db")].step;
	assert_int_equal(dr_modes_cleanup_timeout(fo, MIN(30), 1000, 10), MIN(30));
	dr_runbook_free(rb);
	rb = compile("1h", "finally:\n  - { id: mine, action: dr.test_cleanup, targets: [db, web] }\n");
	assert_int_equal(dr_modes_make_drill(rb, NULL, &err), 0);
	assert_int_equal(dr_modes_cleanup_timeout(rb->plan->nodes[idx(rb, "mine")].step, MIN(30), 1000, 10), MIN(30));
	dr_buf_dispose(&err);
	dr_runbook_free(rb);
}

/*
 * A drill of 40 VMs under `defaults: { timeout: 10m, concurrency: 4 }` (its
 * failover step has its own 6h): the cleanup cleans 10 waves of about 2
 * minutes. With the inherited 10m it timed out with test VMs left, and the
 * drill failed "DRILL LEFT ... TEST VMS BEHIND" (checked on the old code);
 * sized, every test VM is cleaned up and the drill passes.
 */
static void drill_cleanup_of_many_vms(void **unused)
{
	(void)unused;
	dr_buf y;
	dr_buf_init(&y);
	dr_buf_puts(&y, "drover: 1\nname: many\nbackend:\n  kind: sim\n  vms:\n");
	for (int i = 1; i <= 40; i++)
		dr_buf_printf(&y, "    - { name: vm-%02d, tags: { tier: app } }\n", i);
	dr_buf_puts(&y, "vm_sets:\n  app: { match: { tags: { tier: app } } }\n"
			"defaults: { timeout: 10m, concurrency: 4 }\nsteps:\n"
			"  - { id: fo, action: dr.failover, targets: app, timeout: 6h }\n");
	fx_run r;
	fx_run_init(&r, y.data);
	r.o.state_dir = fx_mkdir("many");
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_modes_make_drill(r.rb, NULL, &err), 0);
	r.o.mode = DR_MODE_DRILL;
	dr_run_status st = fx_run_exec(&r);
	size_t cleaned = 0, failed = 0;
	for (size_t i = 0; i < r.n; i++)
		if (fx_is(r.ev[i], "task.end", DR_DRILL_CLEANUP_ID, NULL)) {
			cleaned += !strcmp(fx_str(r.ev[i], "status"), "succeeded");
			failed += !strcmp(fx_str(r.ev[i], "status"), "failed");
		}
	const cJSON *v = fx_last(&r, "drill.verify", NULL, NULL);
	assert_non_null(v);
	assert_string_equal(fx_str(v, "status"), "clean");
	assert_int_equal(failed, 0);
	assert_int_equal(cleaned, 40);
	assert_int_equal(st, DR_RUN_SUCCEEDED);
	dr_buf_dispose(&err);
	dr_buf_dispose(&y);
	fx_run_free(&r);
}

static cJSON *view_of(dr_runbook *rb, dr_run_mode mode, dr_be_direction dir)
{
	dr_arena *a = dr_arena_new();
	dr_backend *be = fx_backend(rb, NULL, a);
	dr_planview_opts o = {.mode = mode, .direction = dir, .now_ms = EPOCH};
	dr_buf err;
	dr_buf_init(&err);
	cJSON *v = dr_planview_build(rb, be, &o, &err);
	assert_non_null(v);
	dr_buf_dispose(&err);
	dr_backend_close(be);
	dr_arena_free(a);
	return v;
}

static const cJSON *at(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	assert_non_null(v);
	return v;
}

static void view_runnable(void **unused)
{
	(void)unused;
	dr_runbook *rb = compile("1h", "");
	cJSON *v = view_of(rb, DR_MODE_FAILOVER, DR_BE_DIR_PRIMARY_TO_RECOVERY);
	assert_true(dr_planview_runnable(v));
	assert_int_equal(cJSON_GetArraySize(at(v, "vms")), 3);
	const cJSON *db1 = cJSON_GetArrayItem(at(v, "vms"), 0);
	assert_string_equal(at(at(db1, "recovery_point"), "verdict")->valuestring, "ok");
	assert_string_equal(at(db1, "ends_in")->valuestring, "protected");
	const cJSON *ops = at(v, "operations");
	assert_string_equal(at(cJSON_GetArrayItem(ops, 0), "step")->valuestring, "stop");
	assert_int_equal((int)at(cJSON_GetArrayItem(ops, 1), "wave")->valuedouble, 2);
	assert_int_equal(cJSON_GetArraySize(at(v, "irreversible")), 1);
	cJSON_Delete(v);
	dr_runbook_free(rb);
}

static void view_blockers(void **unused)
{
	(void)unused;
	dr_runbook *rb = compile("30s", ""); /* no processed point is that fresh */
	cJSON *v = view_of(rb, DR_MODE_FAILOVER, DR_BE_DIR_PRIMARY_TO_RECOVERY);
	assert_false(dr_planview_runnable(v));
	const cJSON *b = cJSON_GetArrayItem(at(v, "blockers"), 0);
	assert_string_equal(at(b, "kind")->valuestring, "rpo");
	cJSON_Delete(v);
	v = view_of(rb, DR_MODE_FAILBACK, DR_BE_DIR_RECOVERY_TO_PRIMARY); /* nothing failed over yet */
	b = cJSON_GetArrayItem(at(v, "blockers"), 0);
	assert_string_equal(at(b, "kind")->valuestring, "state");
	assert_non_null(strstr(at(b, "message")->valuestring, "active in Primary"));
	cJSON_Delete(v);
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_modes_make_drill(rb, NULL, &err), 0);
	v = view_of(rb, DR_MODE_DRILL, DR_BE_DIR_PRIMARY_TO_RECOVERY);
	const cJSON *commit = cJSON_GetArrayItem(at(v, "operations"), 5);
	assert_string_equal(at(commit, "step")->valuestring, "commit");
	assert_non_null(cJSON_GetObjectItemCaseSensitive(commit, "skipped"));
	assert_int_equal(cJSON_GetArraySize(at(v, "irreversible")), 0);
	dr_buf_dispose(&err);
	cJSON_Delete(v);
	dr_runbook_free(rb);
}

/* The view as text: made whole (its VMs printed from their objects) or without its VMs (each row printed from the
   preflight, plan's text format). */
static const dr_point_override *text_point; /* --recovery-point of text_of; NULL: none */
static const cJSON *text_params; /* --param values of text_of; NULL: none */

static char *text_of(dr_runbook *rb, dr_run_mode mode, dr_be_direction dir, bool one_at_a_time)
{
	dr_arena *a = dr_arena_new();
	dr_backend *be = fx_backend(rb, NULL, a);
	dr_planview_vms *vms = NULL;
	dr_planview_opts o = {
		.mode = mode, .direction = dir, .now_ms = EPOCH, .vms = one_at_a_time ? &vms : NULL, .point = text_point,
		.params = text_params};
	dr_buf err;
	dr_buf_init(&err);
	cJSON *v = dr_planview_build(rb, be, &o, &err);
	assert_non_null(v);
	assert_true(one_at_a_time == (vms != NULL));
	assert_true(one_at_a_time == !cJSON_HasObjectItem(v, "vms"));
	char *text = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&text, &n);
	dr_planview_print_text(v, vms, f);
	fclose(f);
	cJSON_Delete(v);
	dr_planview_vms_free(vms);
	dr_buf_dispose(&err);
	dr_backend_close(be);
	dr_arena_free(a);
	return text;
}

/*
 * plan's text prints each VM's row from the preflight, not from the view's
 * VM objects: the same text as from the whole view, a VM whose name needs
 * escaping for the terminal and blocked VMs (a failback of VMs never failed
 * over) included.
 */
/* The text both ways is the same, and says want. */
static void same_text(dr_runbook *rb, dr_run_mode mode, dr_be_direction dir, const char *want)
{
	char *whole = text_of(rb, mode, dir, false), *drawn = text_of(rb, mode, dir, true);
	assert_string_equal(drawn, whole);
	if (!strstr(drawn, want))
		fail_msg("'%s' not in:\n%s", want, drawn);
	assert_null(strstr(drawn, "\xe2\x80\xae"));
	free(whole);
	free(drawn);
}

/* shop with recovery: { point: POINT, max_age: MAX_AGE } and a VM whose name needs escaping for the terminal. */
static dr_runbook *shop_with_odd_name(const char *point, const char *max_age)
{
	char text[4096], with[4096];
	snprintf(text, sizeof text, shop, max_age, "");
	char *sets = strstr(text, "vm_sets:"), *policy = strstr(text, "latest-processed, max_age");
	snprintf(with, sizeof with, "%.*s    - { name: \"db-\\u202e3\", tags: { tier: db } }\n%.*s%s%s",
		 (int)(sets - text), text, (int)(policy - sets), sets, point, policy + strlen("latest-processed"));
	return fx_compile(NULL, with);
}

static void text_one_vm_at_a_time(void **unused)
{
	(void)unused;
	dr_runbook *rb = shop_with_odd_name("latest-processed", "1h");
	same_text(rb, DR_MODE_FAILOVER, DR_BE_DIR_PRIMARY_TO_RECOVERY, "\n  db-\\u{202e}3 "); /* escaped */
	same_text(rb, DR_MODE_FAILOVER, DR_BE_DIR_PRIMARY_TO_RECOVERY, "  ok (max_age 1h)\n");
	same_text(rb, DR_MODE_FAILBACK, DR_BE_DIR_RECOVERY_TO_PRIMARY, "BLOCKED: step 'fo-db' would be refused: ");
	dr_runbook_free(rb);
	rb = shop_with_odd_name("latest-processed", "30s"); /* no processed point is that fresh */
	same_text(rb, DR_MODE_FAILOVER, DR_BE_DIR_PRIMARY_TO_RECOVERY, "  TOO OLD\n");
	dr_runbook_free(rb);
	rb = shop_with_odd_name("latest-app-consistent", "10m, fallback: [latest-processed]");
	same_text(rb, DR_MODE_FAILOVER, DR_BE_DIR_PRIMARY_TO_RECOVERY, " (fallback: latest-app-consistent is too old)  ok (max_age 10m)");
	dr_runbook_free(rb);
	rb = fx_compile(NULL, "drover: 1\nname: edge\nbackend:\n  kind: sim\n  vms:\n"
			      "    - { name: db-1, tags: { tier: db } }\n    - { name: web-1, tags: { tier: web } }\n"
			      "vm_sets:\n  db: { match: { tags: { tier: '^db$' } } }\n  web: { match: { tags: { tier: '^web$' } } }\n"
			      "steps:\n  - { id: stop, action: dr.shutdown, targets: [db, web] }\n"
			      "  - { id: fo, action: dr.failover, targets: db, needs: stop, with: { recovery_point: \"${run.id}\" } }\n");
	same_text(rb, DR_MODE_FAILOVER, DR_BE_DIR_PRIMARY_TO_RECOVERY,
		  "  point chosen at run time (with.recovery_point is chosen when the step starts)\n");
	same_text(rb, DR_MODE_FAILOVER, DR_BE_DIR_PRIMARY_TO_RECOVERY, "web-1          protected     Primary    "
									 "(not failed over by this plan)\n");
	dr_point_override before;
	assert_true(dr_preflight_parse_override("2020-01-01T00:00:00Z", &before));
	text_point = &before; /* before every point */
	same_text(rb, DR_MODE_FAILOVER, DR_BE_DIR_PRIMARY_TO_RECOVERY, "    custom  NONE\n");
	text_point = NULL;
	dr_runbook_free(rb);
}

/*
 * plan's text prints the sets, operations and irreversible steps from the
 * preflight too (its view is made without them): the same text as from the
 * whole view, for each kind of row - expect: in its four forms, an empty
 * set, targets, when:, a built-in and a declared retry, a finally step, an
 * irreversible commit, and a drill's skipped steps and added cleanup.
 */
static void text_sets_and_operations(void **unused)
{
	(void)unused;
	dr_runbook *rb = fx_compile(NULL,
		"drover: 1\nname: ops\nparams:\n  go: { type: bool, default: true }\n"
		"backend:\n  kind: sim\n  vms:\n    - { name: db-1, tags: { tier: db } }\n"
		"    - { name: db-2, tags: { tier: db } }\n    - { name: web-1, tags: { tier: web } }\n"
		"vm_sets:\n  db: { match: { tags: { tier: '^db$' } }, expect: { min: 1, max: 3 } }\n"
		"  web: { match: { tags: { tier: '^web$' } }, expect: { min: 1 } }\n"
		"  cache: { match: { tags: { tier: '^cache$' } }, expect: { count: 0 } }\n"
		"  dbs: { match: { name: '^db-' }, expect: { max: 5 } }\n  all: { match: {} }\n"
		"steps:\n  - { id: stop, action: dr.shutdown, targets: [db, web] }\n"
		"  - { id: fo, action: dr.failover, targets: [db, web], needs: stop, when: \"${params.go}\" }\n"
		"  - { id: up, action: dr.probe, foreach: dbs, needs: fo, retry: { attempts: 3, delay: 1s } }\n"
		"  - { id: commit, action: dr.commit, targets: [db, web], needs: up }\n"
		"finally:\n  - { id: tidy, action: log, with: { message: done } }\n");
	same_text(rb, DR_MODE_FAILOVER, DR_BE_DIR_PRIMARY_TO_RECOVERY, ", expects 1 to 3: db-1, db-2\n");
	same_text(rb, DR_MODE_FAILOVER, DR_BE_DIR_PRIMARY_TO_RECOVERY, "  cache        0 VMs, expects exactly 0\n");
	same_text(rb, DR_MODE_FAILOVER, DR_BE_DIR_PRIMARY_TO_RECOVERY, "  all          3 VMs: db-1, db-2, web-1\n");
	same_text(rb, DR_MODE_FAILOVER, DR_BE_DIR_PRIMARY_TO_RECOVERY,
		  " 3 VMs (db, web) [when:]  retry: built-in (5 attempts on throttled)\n");
	same_text(rb, DR_MODE_FAILOVER, DR_BE_DIR_PRIMARY_TO_RECOVERY, " 2 VMs (dbs)\n"); /* a declared retry: not shown */
	same_text(rb, DR_MODE_FAILOVER, DR_BE_DIR_PRIMARY_TO_RECOVERY, "  IRREVERSIBLE\n   5  finally  tidy ");
	same_text(rb, DR_MODE_FAILOVER, DR_BE_DIR_PRIMARY_TO_RECOVERY, "\nIrreversible\n  commit (3 VMs): commit deletes");
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_modes_make_drill(rb, NULL, &err), 0);
	same_text(rb, DR_MODE_DRILL, DR_BE_DIR_PRIMARY_TO_RECOVERY, "  SKIPPED: ");
	same_text(rb, DR_MODE_DRILL, DR_BE_DIR_PRIMARY_TO_RECOVERY, "\nIrreversible: nothing (every operation");
	same_text(rb, DR_MODE_DRILL, DR_BE_DIR_PRIMARY_TO_RECOVERY, "  finally  " DR_DRILL_CLEANUP_ID " ");
	dr_buf_dispose(&err);
	dr_runbook_free(rb);
}

/*
 * recovery.point: ${params.point} given a misspelt policy: every VM's row and
 * its JSON say what the plan's blocker says (no point: the text is no policy),
 * not "point chosen at run time", and the blocker is said once, not per VM
 * (the preflight marks each VM's point, dr_pf_point.no_policy, and finds them by it).
 */
static void text_no_policy(void **unused)
{
	(void)unused;
	dr_runbook *rb = fx_compile(NULL, "drover: 1\nname: typo\nbackend:\n  kind: sim\n  vms:\n"
					  "    - { name: db-1 }\n    - { name: db-2 }\n"
					  "params:\n  point: { type: string, default: latest }\n"
					  "vm_sets:\n  db: { match: { name: '^db-' } }\n"
					  "recovery: { point: '${params.point}', max_age: 1h }\n"
					  "steps:\n  - { id: fo, action: dr.failover, targets: db }\n");
	cJSON *params = cJSON_Parse("{\"point\": \"latest-procesed\"}");
	text_params = params;
	same_text(rb, DR_MODE_FAILOVER, DR_BE_DIR_PRIMARY_TO_RECOVERY,
		  "db-2           protected     Primary    NO POINT (recovery.point: not a point policy; see Blockers)\n");
	char *text = text_of(rb, DR_MODE_FAILOVER, DR_BE_DIR_PRIMARY_TO_RECOVERY, true);
	assert_null(strstr(text, "chosen at run time"));
	assert_non_null(strstr(text, "Blockers (1)\n  - recovery.point is 'latest-procesed'"));
	free(text);
	dr_arena *a = dr_arena_new();
	dr_backend *be = fx_backend(rb, NULL, a);
	dr_planview_opts o = {.mode = DR_MODE_FAILOVER, .direction = DR_BE_DIR_PRIMARY_TO_RECOVERY, .now_ms = EPOCH,
			      .params = params};
	dr_buf err;
	dr_buf_init(&err);
	cJSON *v = dr_planview_build(rb, be, &o, &err);
	const cJSON *pt = at(cJSON_GetArrayItem(at(v, "vms"), 0), "recovery_point");
	assert_string_equal(at(pt, "verdict")->valuestring, "no_policy");
	assert_false(cJSON_HasObjectItem(pt, "policy"));
	assert_string_equal(at(pt, "note")->valuestring, "recovery.point: not a point policy");
	cJSON_Delete(v);
	dr_buf_dispose(&err);
	dr_backend_close(be);
	dr_arena_free(a);
	text_params = NULL;
	cJSON_Delete(params);
	dr_runbook_free(rb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names),
		cmocka_unit_test(drill_rewrites),
		cmocka_unit_test(drill_keeps_own_cleanup),
		cmocka_unit_test(drill_cleanup_timeout_by_size),
		cmocka_unit_test(drill_cleanup_of_many_vms),
		cmocka_unit_test(view_runnable),
		cmocka_unit_test(view_blockers),
		cmocka_unit_test(text_one_vm_at_a_time),
		cmocka_unit_test(text_no_policy),
		cmocka_unit_test(text_sets_and_operations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
