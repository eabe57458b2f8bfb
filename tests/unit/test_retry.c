/*
 * test_retry.c - retry delays and decisions: the backoff schedule and its
 * cap, jitter bounds over many draws (full: [0, d]; equal: [d/2, d]), the
 * same seed giving the same draws, Retry-After winning only when larger,
 * and which failures on: covers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(backoff_schedule),
		cmocka_unit_test(jitter_bounds),
		cmocka_unit_test(same_seed_same_draws),
		cmocka_unit_test(retry_after_wins_when_larger),
		cmocka_unit_test(covers_classes_and_regexes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
