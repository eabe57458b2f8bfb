/*
 * test_clock.c - the run's clock: real time moves by itself and waits time
 * out; virtual time stands still until a wait may jump, then lands exactly
 * on the deadline; timestamps and elapsed times format as documented.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "run/clock.h"

typedef struct sync {
	pthread_mutex_t m;
	pthread_cond_t cv;
} sync_t;

static void sync_init(sync_t *s)
{
	pthread_mutex_init(&s->m, NULL);
	assert_int_equal(dr_clock_cond_init(&s->cv), 0);
}

static void sync_dispose(sync_t *s)
{
	pthread_mutex_destroy(&s->m);
	pthread_cond_destroy(&s->cv);
}

static void virtual_time_jumps(void **state)
{
	(void)state;
	dr_clock *c = dr_clock_new(DR_CLOCK_VIRTUAL);
	sync_t s;
	sync_init(&s);
	assert_int_equal(dr_clock_now(c), 0);
	assert_int_equal(dr_clock_wall(c), DR_CLOCK_VIRTUAL_EPOCH_MS);
	pthread_mutex_lock(&s.m);
	assert_true(dr_clock_wait(c, &s.m, &s.cv, 3600 * 1000, true));
	pthread_mutex_unlock(&s.m);
	assert_int_equal(dr_clock_now(c), 3600 * 1000);
	assert_int_equal(dr_clock_wall_at(c, 5), DR_CLOCK_VIRTUAL_EPOCH_MS + 5);
	dr_clock_advance_to(c, 10); /* never backwards */
	assert_int_equal(dr_clock_now(c), 3600 * 1000);
	/* A deadline in the past is reached at once, with or without may_jump. */
	pthread_mutex_lock(&s.m);
	assert_true(dr_clock_wait(c, &s.m, &s.cv, 1000, false));
	pthread_mutex_unlock(&s.m);
	assert_string_equal(dr_clock_kind_name(dr_clock_kind_of(c)), "virtual");
	sync_dispose(&s);
	dr_clock_free(c);
}

typedef struct poke {
	sync_t *s;
	int done;
} poke;

static void *poker(void *arg)
{
	poke *p = arg;
	struct timespec ts = {0, 20 * 1000000L};
	nanosleep(&ts, NULL);
	pthread_mutex_lock(&p->s->m);
	p->done = 1;
	pthread_cond_signal(&p->s->cv);
	pthread_mutex_unlock(&p->s->m);
	return NULL;
}

/* Without may_jump, virtual time waits for a signal and does not move. */
static void virtual_time_stands_still_while_busy(void **state)
{
	(void)state;
	dr_clock *c = dr_clock_new(DR_CLOCK_VIRTUAL);
	sync_t s;
	sync_init(&s);
	poke p = {.s = &s};
	pthread_t th;
	pthread_mutex_lock(&s.m);
	pthread_create(&th, NULL, poker, &p);
	while (!p.done)
		assert_false(dr_clock_wait(c, &s.m, &s.cv, 60000, false));
	pthread_mutex_unlock(&s.m);
	pthread_join(th, NULL);
	assert_int_equal(dr_clock_now(c), 0);
	sync_dispose(&s);
	dr_clock_free(c);
}

static void real_time_waits_out(void **state)
{
	(void)state;
	dr_clock *c = dr_clock_new(DR_CLOCK_REAL);
	sync_t s;
	sync_init(&s);
	int64_t t0 = dr_clock_now(c);
	pthread_mutex_lock(&s.m);
	while (!dr_clock_wait(c, &s.m, &s.cv, t0 + 30, true))
		;
	pthread_mutex_unlock(&s.m);
	int64_t t1 = dr_clock_now(c);
	assert_true(t1 >= t0 + 30 && t1 < t0 + 1000);
	assert_true(dr_clock_wall(c) > DR_CLOCK_VIRTUAL_EPOCH_MS - INT64_C(10) * 365 * 86400 * 1000);
	sync_dispose(&s);
	dr_clock_free(c);
}


/* A faster clock resumed: now reads what it was given, and wall_at(0) stays the run's first start (not now_ms before it). */
static void a_faster_clock_rebased_keeps_its_start(void **state)
{
	(void)state;
	dr_clock *c = dr_clock_new(DR_CLOCK_REAL);
	dr_clock_set_rate(c, 600);
	int64_t wall0 = dr_clock_wall_at(c, 0);
	dr_clock_rebase(c, 600000); /* 10 minutes of its time: 1 s of real time */
	assert_true(dr_clock_now(c) >= 600000);
	int64_t moved = wall0 - dr_clock_wall_at(c, 0);
	assert_true(moved >= 999 && moved <= 1001); /* the old rebase moved it 600,000 ms */
	dr_clock_free(c);
}

/* backend.speed: a real clock N times faster than real time; its waits last 1/N as long. */
static void a_faster_real_clock(void **state)
{
	(void)state;
	dr_clock *c = dr_clock_new(DR_CLOCK_REAL);
	dr_clock_set_rate(c, 100);
	sync_t s;
	sync_init(&s);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_mutex_lock(&s.m);
	while (!dr_clock_wait(c, &s.m, &s.cv, 3000, false)) /* 3s of clock time */
		;
	pthread_mutex_unlock(&s.m);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	int64_t real = (int64_t)(t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_true(dr_clock_now(c) >= 3000);
	assert_true(real >= 29 && real < 3000); /* about 30 ms of real time, far less than 3 s */
	assert_true(dr_clock_now(c) >= real * 100 - 100);
	/* its timestamps follow its own timeline */
	assert_true(dr_clock_wall(c) - dr_clock_wall_at(c, 0) >= 3000);
	sync_dispose(&s);
	dr_clock_free(c);
}

/* A virtual clock starts where it is told (the simulator's own time), not always at the epoch. */
static void a_virtual_clock_starts_where_told(void **state)
{
	(void)state;
	dr_clock *c = dr_clock_new(DR_CLOCK_VIRTUAL);
	assert_int_equal(dr_clock_wall_at(c, 0), DR_CLOCK_VIRTUAL_EPOCH_MS);
	dr_clock_set_start(c, DR_CLOCK_VIRTUAL_EPOCH_MS + 947940);
	dr_clock_advance_to(c, 1000);
	assert_int_equal(dr_clock_wall(c), DR_CLOCK_VIRTUAL_EPOCH_MS + 948940);
	dr_clock_free(c);
}

static void formats(void **state)
{
	(void)state;
	char buf[40];
	dr_clock_format_wall(DR_CLOCK_VIRTUAL_EPOCH_MS, buf, sizeof buf);
	assert_string_equal(buf, "2026-01-01T00:00:00.000Z");
	dr_clock_format_wall(DR_CLOCK_VIRTUAL_EPOCH_MS + 90061001, buf, sizeof buf);
	assert_string_equal(buf, "2026-01-02T01:01:01.001Z");
	dr_clock_format_wall(-1, buf, sizeof buf);
	assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
	dr_clock_format_wall(INT64_C(951782400000) + 86399999, buf, sizeof buf);
	assert_string_equal(buf, "2000-02-29T23:59:59.999Z");
	dr_clock_format_wall(INT64_C(4107542400000) - 1, buf, sizeof buf); /* 2100 is not a leap year */
	assert_string_equal(buf, "2100-02-28T23:59:59.999Z");
	dr_clock_format_wall(INT64_C(4107542400000), buf, sizeof buf);
	assert_string_equal(buf, "2100-03-01T00:00:00.000Z");
	dr_clock_format_wall(INT64_C(13574563200000), buf, sizeof buf); /* 2400 is */
	assert_string_equal(buf, "2400-02-29T00:00:00.000Z");
	dr_clock_format_wall(-INT64_C(62135596800000), buf, sizeof buf);
	assert_string_equal(buf, "0001-01-01T00:00:00.000Z");
	dr_clock_format_wall(INT64_C(253402300800000), buf, sizeof buf); /* year 10000: past the fast path */
	assert_string_equal(buf, "10000-01-01T00:00:00.000Z");
	/* the hand-made digits say what snprintf says, over times spread across the years 1 to 9999 */
	for (int64_t ms = -INT64_C(62135596800000), step = INT64_C(7919) * 86400 * 1000 + 3600000 + 61001;
	     ms < INT64_C(253402300799999); ms += step) {
		time_t secs = (time_t)(ms / 1000);
		int frac = (int)(ms % 1000);
		if (frac < 0) {
			frac += 1000;
			secs--;
		}
		struct tm tm;
		gmtime_r(&secs, &tm);
		char want[80];
		snprintf(want, sizeof want, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
			 tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
		dr_clock_format_wall(ms, buf, sizeof buf);
		assert_string_equal(buf, want);
	}
	dr_clock_format_elapsed(0, buf, sizeof buf);
	assert_string_equal(buf, "00:00:00.000");
	dr_clock_format_elapsed(3723004, buf, sizeof buf);
	assert_string_equal(buf, "01:02:03.004");
	dr_clock_format_elapsed(INT64_C(100) * 3600000, buf, sizeof buf);
	assert_string_equal(buf, "100:00:00.000");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(virtual_time_jumps),
		cmocka_unit_test(virtual_time_stands_still_while_busy),
		cmocka_unit_test(real_time_waits_out),
		cmocka_unit_test(a_faster_real_clock),
		cmocka_unit_test(a_faster_clock_rebased_keeps_its_start),
		cmocka_unit_test(a_virtual_clock_starts_where_told),
		cmocka_unit_test(formats),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
