/*
 * test_retry.c - retry delays and decisions: the backoff schedule and its
 * cap, jitter bounds over many draws (full: [0, d]; equal: [d/2, d]), the
 * same seed giving the same draws, Retry-After winning only when larger,
 * and which failures on: covers; the policy a step runs with (a dr.* step
 * that declares no retry: gets the built-in one on throttled; anything
 * declared replaces it) and runs of it: throttled answers retried, waiting
 * Retry-After, a transient failure not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "fixture.h"
#include "front/runbook.h"
#include "run/exec.h"
#include "run/retry.h"

static dr_retry policy(int64_t delay, double backoff, int64_t max_delay, dr_jitter j)
{
	return (dr_retry){.present = true, .attempts = 10, .delay_ms = delay, .backoff = backoff,
			  .max_delay_ms = max_delay, .jitter = j,
			  .on = DR_RETRY_ON_TRANSIENT | DR_RETRY_ON_THROTTLED | DR_RETRY_ON_TIMEOUT};
}

static void backoff_schedule(void **state)
{
	(void)state;
	dr_retry r = policy(10000, 2, 60000, DR_JITTER_NONE);
	const int64_t want[] = {10000, 20000, 40000, 60000, 60000};
	for (int n = 1; n <= 5; n++)
		assert_int_equal(dr_retry_base_delay(&r, n), want[n - 1]);
	r = policy(1500, 1.5, -1, DR_JITTER_NONE);
	assert_int_equal(dr_retry_base_delay(&r, 3), 3375);
	r = policy(1000, 10, -1, DR_JITTER_NONE); /* no cap: bounded by 30 days all the same */
	assert_int_equal(dr_retry_base_delay(&r, 40), DR_RETRY_DELAY_CAP_MS);
	r = policy(5000, 1, -1, DR_JITTER_NONE);
	assert_int_equal(dr_retry_base_delay(&r, 9), 5000);
}

static void jitter_bounds(void **state)
{
	(void)state;
	dr_rng rng;
	dr_rng_seed(&rng, 12345);
	dr_retry full = policy(10000, 2, -1, DR_JITTER_FULL), equal = policy(10000, 2, -1, DR_JITTER_EQUAL);
	int64_t lo_full = INT64_MAX, hi_full = 0, lo_eq = INT64_MAX, hi_eq = 0;
	for (int i = 0; i < 20000; i++) {
		int64_t f = dr_retry_jitter(&full, 10000, &rng), e = dr_retry_jitter(&equal, 10000, &rng);
		assert_true(f >= 0 && f <= 10000);
		assert_true(e >= 5000 && e <= 10000);
		lo_full = f < lo_full ? f : lo_full;
		hi_full = f > hi_full ? f : hi_full;
		lo_eq = e < lo_eq ? e : lo_eq;
		hi_eq = e > hi_eq ? e : hi_eq;
	}
	/* The draws spread over the whole range. */
	assert_true(lo_full < 100 && hi_full > 9900);
	assert_true(lo_eq < 5100 && hi_eq > 9900);
	assert_int_equal(dr_retry_jitter(&full, 0, &rng), 0);
	assert_int_equal(dr_rng_upto(&rng, -5), 0);
}

static void same_seed_same_draws(void **state)
{
	(void)state;
	dr_rng a, b;
	dr_rng_seed(&a, 99);
	dr_rng_seed(&b, 99);
	dr_retry r = policy(10000, 2, -1, DR_JITTER_FULL);
	for (int n = 1; n < 50; n++)
		assert_int_equal(dr_retry_delay(&r, n % 8 + 1, -1, &a, NULL), dr_retry_delay(&r, n % 8 + 1, -1, &b, NULL));
	dr_rng_seed(&b, 100);
	int same = 0;
	for (int n = 0; n < 50; n++)
		same += dr_rng_next(&a) == dr_rng_next(&b);
	assert_int_equal(same, 0);
}

static void retry_after_wins_when_larger(void **state)
{
	(void)state;
	dr_rng rng;
	dr_rng_seed(&rng, 1);
	dr_retry r = policy(10000, 2, -1, DR_JITTER_NONE);
	bool honoured;
	assert_int_equal(dr_retry_delay(&r, 1, 120000, &rng, &honoured), 120000);
	assert_true(honoured);
	assert_int_equal(dr_retry_delay(&r, 1, 1000, &rng, &honoured), 10000);
	assert_false(honoured);
	assert_int_equal(dr_retry_delay(&r, 2, -1, &rng, &honoured), 20000);
	assert_false(honoured);
	r.max_delay_ms = 5000; /* max_delay caps the policy, not the service's request */
	assert_int_equal(dr_retry_delay(&r, 1, 60000, &rng, NULL), 60000);
}

static void covers_classes_and_regexes(void **state)
{
	(void)state;
	int errcode;
	PCRE2_SIZE off;
	const char *src = "quota|409";
	dr_regex re = {.source = src,
		       .code = pcre2_compile((PCRE2_SPTR)src, PCRE2_ZERO_TERMINATED, 0, &errcode, &off, NULL)};
	assert_non_null(re.code);
	dr_retry r = policy(1000, 1, -1, DR_JITTER_NONE);
	bool m;
	assert_string_equal(dr_retry_covers(&r, DR_ERRC_TRANSIENT, "x", &m), "transient");
	assert_false(m);
	assert_string_equal(dr_retry_covers(&r, DR_ERRC_TIMEOUT, "x", NULL), "timeout");
	assert_null(dr_retry_covers(&r, DR_ERRC_PERMANENT, "409 Conflict", NULL));
	assert_null(dr_retry_covers(&r, DR_ERRC_CANCELLED, "x", NULL));
	r.on = DR_RETRY_ON_THROTTLED;
	assert_null(dr_retry_covers(&r, DR_ERRC_TRANSIENT, "x", NULL));
	r.on_match = &re;
	r.n_on_match = 1;
	assert_string_equal(dr_retry_covers(&r, DR_ERRC_PERMANENT, "409 Conflict", &m), "quota|409");
	assert_true(m);
	assert_null(dr_retry_covers(&r, DR_ERRC_PERMANENT, "400 Bad Request", NULL));
	r.on = DR_RETRY_ON_ANY;
	assert_string_equal(dr_retry_covers(&r, DR_ERRC_PERMANENT, "400", NULL), "any");
	assert_null(dr_retry_covers(&r, DR_ERRC_CANCELLED, "400", NULL));
	assert_string_equal(dr_err_class_name(DR_ERRC_THROTTLED), "throttled");
	pcre2_code_free(re.code);
}


/* Which policy each step runs with: the built-in one only for a dr.* step with no retry: anywhere. */
static void builtin_policy_choice(void **state)
{
	(void)state;
	dr_runbook *rb = fx_compile(NULL, "drover: 1\nname: choice\nbackend: { kind: sim, vms: [{ name: db-1 }] }\n"
					  "vm_sets: { db: { match: { name: \"^db-\" } } }\n"
					  "steps:\n"
					  "  - { id: fo, action: dr.failover, targets: db }\n"
					  "  - { id: up, action: dr.probe, foreach: db, needs: fo }\n"
					  "  - { id: note, action: log, needs: up, with: { message: done } }\n"
					  "  - id: own\n    action: dr.commit\n    targets: db\n    needs: note\n"
					  "    retry: { attempts: 2, on: [transient] }\n");
	bool b;
	const dr_retry *r = dr_retry_of_step(rb, dr_runbook_step(rb, "fo"), &b);
	assert_true(b);
	assert_ptr_equal(r, &dr_retry_builtin);
	assert_int_equal(r->attempts, DR_RETRY_BUILTIN_ATTEMPTS);
	assert_int_equal(r->on, DR_RETRY_ON_THROTTLED); /* transient: a lost answer's resend is left to a declared retry: */
	assert_null(dr_retry_covers(r, DR_ERRC_TRANSIENT, "503", NULL));
	assert_null(dr_retry_covers(r, DR_ERRC_TIMEOUT, "timed out", NULL));
	assert_string_equal(dr_retry_covers(r, DR_ERRC_THROTTLED, "429", NULL), "throttled");
	dr_retry_of_step(rb, dr_runbook_step(rb, "up"), &b);
	assert_true(b);
	r = dr_retry_of_step(rb, dr_runbook_step(rb, "note"), &b); /* not a dr.* action: one attempt, as written */
	assert_false(b);
	assert_int_equal(r->attempts, 1);
	r = dr_retry_of_step(rb, dr_runbook_step(rb, "own"), &b); /* declared: replaces the built-in one entirely */
	assert_false(b);
	assert_int_equal(r->attempts, 2);
	assert_int_equal(r->on, DR_RETRY_ON_TRANSIENT);
	dr_runbook_free(rb);
	rb = fx_compile(NULL, "drover: 1\nname: defaults\nbackend: { kind: sim, vms: [{ name: db-1 }] }\n"
			      "vm_sets: { db: { match: { name: \"^db-\" } } }\n"
			      "defaults: { retry: { delay: 1s } }\n"
			      "steps:\n  - { id: fo, action: dr.failover, targets: db }\n");
	r = dr_retry_of_step(rb, dr_runbook_step(rb, "fo"), &b); /* defaults.retry, even without attempts: declared */
	assert_false(b);
	assert_int_equal(r->attempts, 1);
	dr_runbook_free(rb);
}

static const char throttled_yaml[] =
	"drover: 1\nname: throttled\n"
	"backend:\n  kind: sim\n  vms: [{ name: db-1 }]\n  faults:\n"
	"    - { kind: throttle, after: 0, burst: %d, retry_after: 45s }\n"
	"vm_sets: { db: { match: { name: \"^db-\" } } }\n"
	"recovery: { point: latest-processed }\n"
	"steps:\n  - { id: fo, action: dr.failover, targets: db, timeout: %s, with: { shutdown_source: false } }\n";

/* A dr.* step without retry: goes through two 429s, waiting the service's Retry-After (45 s) each time. */
static void builtin_retries_throttled(void **state)
{
	(void)state;
	char yaml[sizeof throttled_yaml + 32];
	snprintf(yaml, sizeof yaml, throttled_yaml, 2, "30m");
	fx_run r;
	fx_run_init(&r, yaml);
	r.o.state_dir = fx_newdir(); /* a simulator of its own */
	assert_int_equal(fx_run_exec(&r), DR_RUN_SUCCEEDED);
	assert_int_equal(fx_count(&r, "task.retry", "fo", "db-1"), 2);
	const cJSON *ev = fx_first(&r, "task.retry", "fo", "db-1");
	assert_string_equal(fx_str(ev, "reason"), "throttled");
	assert_int_equal((int)fx_num(ev, "delay_ms"), 45000);
	assert_int_equal((int)fx_num(ev, "attempts"), DR_RETRY_BUILTIN_ATTEMPTS);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "retry_after")));
	assert_int_equal((int)fx_num(fx_last(&r, "task.end", "fo", "db-1"), "attempt"), 3);
	fx_run_free(&r);
}

/* Bounded: throttled without end, the step fails after its attempts, or at its timeout when that comes first. */
static void builtin_retry_bounded(void **state)
{
	(void)state;
	char yaml[sizeof throttled_yaml + 32];
	snprintf(yaml, sizeof yaml, throttled_yaml, 1000, "30m");
	fx_run r;
	fx_run_init(&r, yaml);
	r.o.state_dir = fx_newdir(); /* a simulator of its own */
	if (fx_run_exec(&r) != DR_RUN_FAILED)
		fail_msg("%s\n%s", r.err ? r.err : "", r.events ? r.events : "");
	assert_int_equal(fx_count(&r, "task.retry", "fo", "db-1"), DR_RETRY_BUILTIN_ATTEMPTS - 1);
	fx_run_free(&r);
	snprintf(yaml, sizeof yaml, throttled_yaml, 1000, "1m");
	fx_run_init(&r, yaml);
	r.o.state_dir = fx_newdir(); /* a simulator of its own */
	if (fx_run_exec(&r) != DR_RUN_FAILED)
		fail_msg("%s\n%s", r.err ? r.err : "", r.events ? r.events : "");
	assert_int_equal(fx_count(&r, "task.retry", "fo", "db-1"), 2); /* at 0 and 45 s; the third wait passes 1m */
	const cJSON *end = fx_last(&r, "step.end", "fo", NULL);
	assert_true(fx_num(end, "elapsed_ms") <= 60000);
	fx_run_free(&r);
}

/* A transient failure is not retried by the built-in policy, and no retry.on advice is given for it. */
static void builtin_leaves_transient(void **state)
{
	(void)state;
	fx_run r;
	fx_run_init(&r, "drover: 1\nname: transient\n"
			"backend:\n  kind: sim\n  vms: [{ name: db-1 }]\n  faults:\n"
			"    - { kind: fail, op: failover, vms: [db-1], class: transient, times: 1 }\n"
			"vm_sets: { db: { match: { name: \"^db-\" } } }\n"
			"recovery: { point: latest-processed }\n"
			"steps:\n  - { id: fo, action: dr.failover, targets: db, with: { shutdown_source: false } }\n");
	r.o.state_dir = fx_newdir();
	if (fx_run_exec(&r) != DR_RUN_FAILED)
		fail_msg("%s\n%s", r.err ? r.err : "", r.events ? r.events : "");
	assert_int_equal(fx_count(&r, "task.retry", "fo", NULL), 0);
	assert_null(cJSON_GetObjectItemCaseSensitive(fx_last(&r, "task.end", "fo", "db-1"), "not_retried"));
	fx_run_free(&r);
}

/* dr.probe: a throttled read of the VM is asked again after the service's Retry-After, and a probe out of time on
   one gives up as transient: its time (12 s) bounds it, not 5 built-in attempts of 12 s each; the probe's own loop
   was its retry of the 429s. A written retry: on transient probes again, each attempt for the probe's time. */
static const char probe_yaml[] = "drover: 1\nname: probe\n"
				 "backend:\n  kind: sim\n  vms: [{ name: db-1 }]\n  faults:\n"
				 "    - { kind: read-fails, vms: [db-1], class: throttled, times: 5, retry_after: 20s }\n"
				 "vm_sets: { db: { match: { name: \"^db-\" } } }\n"
				 "steps:\n  - { id: up, action: dr.probe, foreach: db, with: { expect: running, timeout: 12s }%s }\n";

static void a_throttled_probe_is_bounded_by_its_time(void **state)
{
	(void)state;
	char yaml[sizeof probe_yaml + 64];
	snprintf(yaml, sizeof yaml, probe_yaml, "");
	fx_run r;
	fx_run_init(&r, yaml);
	r.o.state_dir = fx_newdir();
	if (fx_run_exec(&r) != DR_RUN_FAILED)
		fail_msg("%s\n%s", r.err ? r.err : "", r.events ? r.events : "");
	const cJSON *end = fx_last(&r, "task.end", "up", "db-1");
	assert_string_equal(fx_str(end, "class"), "transient");
	assert_non_null(strstr(fx_str(end, "message"), "gave up after 12s: the service did not answer its last read of "
						       "the VM (throttled)"));
	assert_int_equal(fx_count(&r, "task.retry", "up", "db-1"), 0); /* the built-in policy retries throttled only */
	assert_true(fx_num(fx_last(&r, "step.end", "up", NULL), "elapsed_ms") <= 12000);
	fx_run_free(&r);
	snprintf(yaml, sizeof yaml, probe_yaml, ", retry: { attempts: 5, on: [transient] }");
	fx_run_init(&r, yaml);
	r.o.state_dir = fx_newdir();
	if (fx_run_exec(&r) != DR_RUN_SUCCEEDED)
		fail_msg("%s\n%s", r.err ? r.err : "", r.events ? r.events : "");
	/* two reads an attempt (at 0 and at 12 s, its end; not every 5 s: the Retry-After is 20 s): the fifth passes */
	assert_int_equal(fx_count(&r, "task.retry", "up", "db-1"), 2);
	const cJSON *retry = fx_first(&r, "task.retry", "up", "db-1");
	assert_string_equal(fx_str(retry, "reason"), "transient");
	assert_true(fx_num(retry, "delay_ms") >= 20000); /* the last read's Retry-After */
	assert_int_equal((int)fx_num(fx_last(&r, "task.end", "up", "db-1"), "attempt"), 3);
	fx_run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(backoff_schedule),
		cmocka_unit_test(jitter_bounds),
		cmocka_unit_test(same_seed_same_draws),
		cmocka_unit_test(retry_after_wins_when_larger),
		cmocka_unit_test(covers_classes_and_regexes),
		cmocka_unit_test(builtin_policy_choice),
		cmocka_unit_test(builtin_retries_throttled),
		cmocka_unit_test(builtin_retry_bounded),
		cmocka_unit_test(builtin_leaves_transient),
		cmocka_unit_test(a_throttled_probe_is_bounded_by_its_time),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
