/*
 * clock.c - real and virtual clocks (see clock.h).
 *
 * The virtual clock's time is one atomic integer: only the scheduler moves
 * it (in dr_clock_wait), but actions on worker threads may read it.
 */
#include "run/clock.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "util/text.h"
#include "util/xalloc.h"

struct dr_clock {
	dr_clock_kind kind;
	struct timespec origin; /* CLOCK_MONOTONIC at creation (real) */
	int64_t wall_origin; /* Unix ms at creation (real) */
	_Atomic int64_t vnow; /* virtual now */
	int64_t vstart; /* virtual: the Unix ms of time 0 */
	double rate; /* real: clock ms per real ms (1: real time) */
	_Atomic int64_t pinned; /* NOT_PINNED, or what now answers while a journal is replayed */
};

#define NOT_PINNED INT64_MIN

static int64_t ts_ms(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000 + ts->tv_nsec / 1000000;
}

dr_clock *dr_clock_new(dr_clock_kind kind)
{
	dr_clock *c = xcalloc(1, sizeof *c);
	c->kind = kind;
	clock_gettime(CLOCK_MONOTONIC, &c->origin);
	struct timespec w;
	clock_gettime(CLOCK_REALTIME, &w);
	c->wall_origin = ts_ms(&w);
	atomic_init(&c->vnow, 0);
	atomic_init(&c->pinned, NOT_PINNED);
	c->vstart = DR_CLOCK_VIRTUAL_EPOCH_MS;
	c->rate = 1;
	return c;
}

void dr_clock_set_rate(dr_clock *c, double rate)
{
	if (c->kind == DR_CLOCK_REAL && rate > 0)
		c->rate = rate;
}

void dr_clock_set_start(dr_clock *c, int64_t wall_ms)
{
	if (c->kind == DR_CLOCK_VIRTUAL)
		c->vstart = wall_ms;
}

void dr_clock_free(dr_clock *c)
{
	free(c);
}

dr_clock_kind dr_clock_kind_of(const dr_clock *c)
{
	return c->kind;
}

const char *dr_clock_kind_name(dr_clock_kind kind)
{
	return kind == DR_CLOCK_VIRTUAL ? "virtual" : "real";
}

int64_t dr_clock_now(dr_clock *c)
{
	int64_t pin = atomic_load_explicit(&c->pinned, memory_order_relaxed);
	if (pin != NOT_PINNED)
		return pin;
	if (c->kind == DR_CLOCK_VIRTUAL)
		return atomic_load_explicit(&c->vnow, memory_order_relaxed);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t ns = (int64_t)(ts.tv_sec - c->origin.tv_sec) * 1000000000 + (ts.tv_nsec - c->origin.tv_nsec);
	return c->rate == 1 ? ns / 1000000 : (int64_t)((double)ns / 1e6 * c->rate);
}

int64_t dr_clock_wall_at(dr_clock *c, int64_t t)
{
	return (c->kind == DR_CLOCK_VIRTUAL ? c->vstart : c->wall_origin) + t;
}

int64_t dr_clock_wall(dr_clock *c)
{
	if (c->kind == DR_CLOCK_VIRTUAL || c->rate != 1)
		return dr_clock_wall_at(c, dr_clock_now(c)); /* a faster clock's own timeline */
	struct timespec w;
	clock_gettime(CLOCK_REALTIME, &w);
	return ts_ms(&w);
}

int dr_clock_cond_init(pthread_cond_t *cv)
{
	pthread_condattr_t attr;
	int rc = pthread_condattr_init(&attr);
	if (rc)
		return rc;
	rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (!rc)
		rc = pthread_cond_init(cv, &attr);
	pthread_condattr_destroy(&attr);
	return rc;
}

void dr_clock_advance_to(dr_clock *c, int64_t t)
{
	if (c->kind == DR_CLOCK_VIRTUAL && t != DR_CLOCK_NEVER &&
	    t > atomic_load_explicit(&c->vnow, memory_order_relaxed))
		atomic_store_explicit(&c->vnow, t, memory_order_relaxed);
}

void dr_clock_rebase(dr_clock *c, int64_t now_ms)
{
	if (c->kind == DR_CLOCK_VIRTUAL) {
		atomic_store_explicit(&c->vnow, now_ms, memory_order_relaxed);
		return;
	}
	int64_t real_ms = c->rate == 1 ? now_ms : (int64_t)((double)now_ms / c->rate); /* real time that makes now_ms */
	int64_t ns = (int64_t)c->origin.tv_nsec - (real_ms % 1000) * 1000000;
	c->origin.tv_sec -= (time_t)(real_ms / 1000);
	if (ns < 0) {
		ns += 1000000000;
		c->origin.tv_sec--;
	}
	c->origin.tv_nsec = (long)ns;
	c->wall_origin -= real_ms; /* wall_at(0): when the run started, also for a faster clock (its timeline is wall_at(now)) */
}

void dr_clock_pin(dr_clock *c, int64_t t)
{
	atomic_store_explicit(&c->pinned, t, memory_order_relaxed);
}

void dr_clock_unpin(dr_clock *c)
{
	atomic_store_explicit(&c->pinned, NOT_PINNED, memory_order_relaxed);
}

static bool wait_virtual(dr_clock *c, pthread_mutex_t *m, pthread_cond_t *cv, int64_t deadline, bool may_jump)
{
	if (may_jump && deadline != DR_CLOCK_NEVER) {
		dr_clock_advance_to(c, deadline);
		return true;
	}
	pthread_cond_wait(cv, m);
	return deadline != DR_CLOCK_NEVER && dr_clock_now(c) >= deadline;
}

static bool wait_real(dr_clock *c, pthread_mutex_t *m, pthread_cond_t *cv, int64_t deadline)
{
	if (deadline == DR_CLOCK_NEVER) {
		pthread_cond_wait(cv, m);
		return false;
	}
	int64_t at = c->rate == 1 ? deadline : (int64_t)((double)deadline / c->rate) + 1; /* real ms since origin */
	int64_t ns = (int64_t)c->origin.tv_nsec + (at % 1000) * 1000000;
	struct timespec abs = {
		.tv_sec = c->origin.tv_sec + (time_t)(at / 1000) + (time_t)(ns / 1000000000),
		.tv_nsec = (long)(ns % 1000000000),
	};
	int rc = pthread_cond_timedwait(cv, m, &abs);
	return rc == ETIMEDOUT || dr_clock_now(c) >= deadline;
}

bool dr_clock_wait(dr_clock *c, pthread_mutex_t *m, pthread_cond_t *cv, int64_t deadline, bool may_jump)
{
	if (deadline != DR_CLOCK_NEVER && dr_clock_now(c) >= deadline)
		return true;
	if (c->kind == DR_CLOCK_VIRTUAL)
		return wait_virtual(c, m, cv, deadline, may_jump);
	return wait_real(c, m, cv, deadline);
}

void dr_clock_format_wall(int64_t wall_ms, char *out, size_t outsz)
{
	dr_text_format_utc(wall_ms, true, out, outsz);
}

void dr_clock_format_elapsed(int64_t ms, char *out, size_t outsz)
{
	if (ms < 0)
		ms = 0;
	snprintf(out, outsz, "%02lld:%02lld:%02lld.%03lld", (long long)(ms / 3600000), (long long)(ms / 60000 % 60),
		 (long long)(ms / 1000 % 60), (long long)(ms % 1000));
}
