/*
 * backends/azure_limit.c - client-side token buckets per subscription, so
 * that a thousand VMs failing over at once are paced below ARM's limits
 * instead of being throttled (asr-api.md §2.3: reads 250, refilled 25 a
 * second; writes 200, refilled 10 a second, per subscription and region).
 *
 * Each request takes a token from its bucket (reads: GET; writes: the
 * rest), waiting on the monotonic clock when the bucket is empty, or was
 * reserved one ahead (az_limit_reserve: the bucket goes into debt, and the
 * caller waits elsewhere - the executor's timers - until it is paid). The
 * service's own count (x-ms-ratelimit-remaining-subscription-reads/-writes)
 * lowers the bucket when it says less is left (another client spends the
 * same budget), and a 429 pauses every request for its Retry-After.
 *
 * A wait ends early, taking no token, when the calling thread's stop flag
 * is set (dr_backend_watch: the attempt's deadline, the step's timeout, a
 * cancel), so a 429's pause of up to a minute never holds a worker past it.
 *
 * One set of buckets per subscription for the whole process, shared by
 * every backend that names it, reference-counted. Thread-safe: one mutex
 * per subscription; waiting happens outside it.
 */
#include "backends/azure_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/xalloc.h"

#define STOP_SLICE_MS 100 /* how soon a wait sees the thread's stop flag (the step's deadline, a cancel) */

typedef struct bucket {
	double tokens, rate, burst;
} bucket;

struct az_limit {
	char *subscription;
	int refs;
	pthread_mutex_t mu;
	bucket b[2]; /* [0] reads, [1] writes */
	int64_t last_ms; /* when the buckets were last refilled */
	double left[2]; /* the service's own count of what is left (x-ms-ratelimit-remaining-*), refilled since; -1: unknown */
	int64_t paused_until_ms;
	struct az_limit *next;
};

static pthread_mutex_t registry_mu = PTHREAD_MUTEX_INITIALIZER;
static az_limit *registry;

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

az_limit *az_limit_get(const char *subscription, const az_limit_cfg *cfg)
{
	pthread_mutex_lock(&registry_mu);
	az_limit *l = registry;
	while (l && strcasecmp(l->subscription, subscription) != 0)
		l = l->next;
	if (!l) {
		l = xcalloc(1, sizeof *l);
		l->subscription = xstrdup(subscription);
		pthread_mutex_init(&l->mu, NULL);
		l->b[0] = (bucket){.tokens = cfg->read_burst, .rate = cfg->read_rate, .burst = cfg->read_burst};
		l->b[1] = (bucket){.tokens = cfg->write_burst, .rate = cfg->write_rate, .burst = cfg->write_burst};
		l->last_ms = mono_ms();
		l->left[0] = l->left[1] = -1;
		l->next = registry;
		registry = l;
	}
	l->refs++;
	pthread_mutex_unlock(&registry_mu);
	return l;
}

void az_limit_put(az_limit *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&registry_mu);
	if (--l->refs == 0) {
		az_limit **pp = &registry;
		while (*pp != l)
			pp = &(*pp)->next;
		*pp = l->next;
		pthread_mutex_destroy(&l->mu);
		free(l->subscription);
		free(l);
	}
	pthread_mutex_unlock(&registry_mu);
}

static void refill(az_limit *l, int64_t now)
{
	double secs = (double)(now - l->last_ms) / 1000.0;
	for (int i = 0; i < 2 && secs > 0; i++) {
		l->b[i].tokens += secs * l->b[i].rate;
		if (l->b[i].tokens > l->b[i].burst)
			l->b[i].tokens = l->b[i].burst;
		if (l->left[i] >= 0) /* at our own rate: the service's is at least that */
			l->left[i] += secs * l->b[i].rate;
	}
	if (now > l->last_ms)
		l->last_ms = now;
}

/* 0 when a token was taken, else how long to wait for one (ms). */
static int64_t try_take(az_limit *l, bucket *b, int64_t now)
{
	refill(l, now);
	if (now < l->paused_until_ms)
		return l->paused_until_ms - now;
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return 0;
	}
	int64_t wait = (int64_t)((1.0 - b->tokens) / b->rate * 1000.0) + 1;
	return wait > 0 ? wait : 1;
}

/* Sleep ms, in slices that look at the thread's stop flag (dr_backend_watch); false when it was set. */
static bool nap(int64_t ms)
{
	while (ms > 0) {
		if (dr_backend_stop_asked())
			return false;
		int64_t slice = ms < STOP_SLICE_MS ? ms : STOP_SLICE_MS;
		struct timespec ts = {.tv_sec = slice / 1000, .tv_nsec = (slice % 1000) * 1000000};
		nanosleep(&ts, NULL);
		ms -= slice;
	}
	return !dr_backend_stop_asked();
}

int64_t az_limit_take(az_limit *l, bool write)
{
	int64_t start = mono_ms(), wait;
	for (;;) {
		pthread_mutex_lock(&l->mu);
		wait = try_take(l, &l->b[write], mono_ms());
		pthread_mutex_unlock(&l->mu);
		if (!wait)
			return mono_ms() - start;
		if (!nap(wait))
			return -1;
	}
}

int64_t az_limit_reserve(az_limit *l, bool write)
{
	pthread_mutex_lock(&l->mu);
	int64_t now = mono_ms();
	refill(l, now);
	bucket *b = &l->b[write];
	b->tokens -= 1.0; /* a debt the refill pays off; takes wait behind it */
	int64_t wait = b->tokens >= 0 ? 0 : (int64_t)(-b->tokens / b->rate * 1000.0) + 1;
	if (now + wait < l->paused_until_ms)
		wait = l->paused_until_ms - now;
	pthread_mutex_unlock(&l->mu);
	return wait;
}

void az_limit_observe(az_limit *l, bool write, double remaining)
{
	pthread_mutex_lock(&l->mu);
	refill(l, mono_ms());
	if (remaining >= 0 && remaining < l->b[write].tokens)
		l->b[write].tokens = remaining;
	if (remaining >= 0)
		l->left[write] = remaining;
	pthread_mutex_unlock(&l->mu);
}

int64_t az_limit_spend(az_limit *l, bool write)
{
	int64_t start = mono_ms(), wait;
	for (;;) {
		pthread_mutex_lock(&l->mu);
		int64_t now = mono_ms();
		refill(l, now);
		double *left = &l->left[write];
		wait = now < l->paused_until_ms ? l->paused_until_ms - now
		       : *left < 0 || *left >= 1.0 ? 0
						   : (int64_t)((1.0 - *left) / l->b[write].rate * 1000.0) + 1;
		if (!wait && *left >= 1.0)
			*left -= 1.0;
		pthread_mutex_unlock(&l->mu);
		if (!wait)
			return mono_ms() - start;
		if (!nap(wait))
			return -1;
	}
}

void az_limit_pause(az_limit *l, int64_t ms)
{
	pthread_mutex_lock(&l->mu);
	int64_t until = mono_ms() + (ms > 0 ? ms : 1000);
	if (until > l->paused_until_ms)
		l->paused_until_ms = until;
	pthread_mutex_unlock(&l->mu);
}
