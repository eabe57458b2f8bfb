/*
 * emulator/limits.c - ARM's request limits as token buckets (asr-api.md
 * §2.3): per subscription, reads (GET) hold 250 tokens refilled at 25 a
 * second, writes (everything else) 200 refilled at 10 a second. A request
 * takes one token or is answered 429 with the seconds until one is back in
 * Retry-After; every answer tells what is left in
 * x-ms-ratelimit-remaining-subscription-reads / -writes, as ARM does. The
 * emulator serves one subscription, so there is one pair of buckets, on
 * the wall clock. --no-limits turns them off.
 */
#include "emulator/emu_int.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static const struct {
	double burst, per_second;
	const char *header;
} buckets[2] = {
	{250, 25, "x-ms-ratelimit-remaining-subscription-reads"},
	{200, 10, "x-ms-ratelimit-remaining-subscription-writes"},
};

void emu_limits_init(dr_emu *e)
{
	e->bucket[0] = buckets[0].burst;
	e->bucket[1] = buckets[1].burst;
	e->bucket_ms = -1;
}

/* Refill both buckets for the time since the last request (mutex held). */
static void refill(dr_emu *e, int64_t now)
{
	if (e->bucket_ms >= 0 && now > e->bucket_ms)
		for (int i = 0; i < 2; i++) {
			e->bucket[i] += (double)(now - e->bucket_ms) / 1000.0 * buckets[i].per_second;
			if (e->bucket[i] > buckets[i].burst)
				e->bucket[i] = buckets[i].burst;
		}
	if (now > e->bucket_ms)
		e->bucket_ms = now;
}

bool emu_limits_take(dr_emu *e, emu_call *c)
{
	int w = strcmp(c->rq->method, "GET") != 0 && strcmp(c->rq->method, "HEAD") != 0;
	char left[32];
	if (e->o.no_limits)
		return true;
	pthread_mutex_lock(&e->mu);
	refill(e, c->rq->now_ms);
	bool ok = e->bucket[w] >= 1;
	if (ok)
		e->bucket[w] -= 1;
	else
		e->throttled++;
	double have = e->bucket[w];
	pthread_mutex_unlock(&e->mu);
	snprintf(left, sizeof left, "%d", (int)floor(have));
	emu_header(c->rs, c->a, buckets[w].header, left);
	if (ok)
		return true;
	int64_t wait_ms = (int64_t)ceil((1 - have) / buckets[w].per_second * 1000);
	snprintf(left, sizeof left, "%lld", (long long)((wait_ms + 999) / 1000));
	emu_header(c->rs, c->a, "Retry-After", left);
	emu_arm_error(c->rs, 429, "SubscriptionRequestsThrottled",
		      "Number of '%s' requests for subscription '%s' exceeded. Please try again after '%s' seconds "
		      "after additional tokens are available. Refer to https://aka.ms/arm-throttling",
		      w ? "write" : "read", e->subscription, left);
	return false;
}
