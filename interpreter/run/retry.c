/*
 * retry.c - retry decisions and delays (see retry.h). No state besides the
 * caller's dr_rng; the executor calls these from its scheduler thread.
 */
#include "run/retry.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

void dr_rng_seed(dr_rng *r, uint64_t seed)
{
	r->state = seed;
}

uint64_t dr_rng_next(dr_rng *r)
{
	uint64_t z = (r->state += UINT64_C(0x9E3779B97F4A7C15));
	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

int64_t dr_rng_upto(dr_rng *r, int64_t n)
{
	if (n <= 0)
		return 0;
	/* Rejection sampling keeps it exactly uniform. */
	uint64_t span = (uint64_t)n + 1, limit = UINT64_MAX - UINT64_MAX % span, x;
	do
		x = dr_rng_next(r);
	while (x >= limit);
	return (int64_t)(x % span);
}

int64_t dr_retry_base_delay(const dr_retry *r, int failed)
{
	double d = (double)(r->delay_ms > 0 ? r->delay_ms : 0);
	double f = r->backoff >= 1 ? r->backoff : 1;
	if (failed > 1)
		d *= pow(f, failed - 1);
	if (r->max_delay_ms >= 0 && d > (double)r->max_delay_ms)
		d = (double)r->max_delay_ms;
	if (!(d < (double)DR_RETRY_DELAY_CAP_MS))
		d = (double)DR_RETRY_DELAY_CAP_MS;
	return (int64_t)llround(d);
}

int64_t dr_retry_jitter(const dr_retry *r, int64_t base, dr_rng *rng)
{
	switch (r->jitter) {
	case DR_JITTER_FULL:
		return dr_rng_upto(rng, base);
	case DR_JITTER_EQUAL:
		return base / 2 + dr_rng_upto(rng, base - base / 2);
	case DR_JITTER_NONE:
	default:
		return base;
	}
}

int64_t dr_retry_delay(const dr_retry *r, int failed, int64_t retry_after_ms, dr_rng *rng, bool *honoured)
{
	int64_t d = dr_retry_jitter(r, dr_retry_base_delay(r, failed), rng);
	bool h = retry_after_ms >= 0 && retry_after_ms > d;
	if (h)
		d = retry_after_ms < DR_RETRY_DELAY_CAP_MS ? retry_after_ms : DR_RETRY_DELAY_CAP_MS;
	if (honoured)
		*honoured = h;
	return d;
}

const dr_retry dr_retry_builtin = {
	.attempts = DR_RETRY_BUILTIN_ATTEMPTS,
	.delay_ms = 2000,
	.backoff = 2,
	.max_delay_ms = 60000,
	.jitter = DR_JITTER_EQUAL, /* never a resend at once after a 429: at least half the wait */
	.on = DR_RETRY_ON_THROTTLED,
};

/* A dr.* action: an operation of the protected service, which throttles. */
static bool is_dr_action(const dr_step *st)
{
	const char *name = st->action ? st->action->name : st->action_name.name;
	return name && strncmp(name, "dr.", 3) == 0;
}

const dr_retry *dr_retry_of_step(const dr_runbook *rb, const dr_step *st, bool *builtin)
{
	bool b = !st->retry->present && !rb->default_retry.present && is_dr_action(st);
	if (builtin)
		*builtin = b;
	return b ? &dr_retry_builtin : st->retry;
}

static const char *const class_names[] = {
	[DR_ERRC_NONE] = "none",	     [DR_ERRC_PERMANENT] = "permanent", [DR_ERRC_TRANSIENT] = "transient",
	[DR_ERRC_THROTTLED] = "throttled", [DR_ERRC_TIMEOUT] = "timeout",	  [DR_ERRC_CANCELLED] = "cancelled",
};

const char *dr_err_class_name(dr_err_class cls)
{
	if ((size_t)cls < sizeof class_names / sizeof class_names[0] && class_names[cls])
		return class_names[cls];
	return "unknown";
}

static bool regex_finds(const dr_regex *re, const char *s)
{
	if (!re->code || !s)
		return false;
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re->code, NULL);
	int rc = pcre2_match(re->code, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

/* The on: bit that covers a class, 0 for classes only `any` or a regex retry. */
static unsigned class_bit(dr_err_class cls)
{
	switch (cls) {
	case DR_ERRC_TRANSIENT: return DR_RETRY_ON_TRANSIENT;
	case DR_ERRC_THROTTLED: return DR_RETRY_ON_THROTTLED;
	case DR_ERRC_TIMEOUT: return DR_RETRY_ON_TIMEOUT;
	default: return 0;
	}
}

const char *dr_retry_covers(const dr_retry *r, dr_err_class cls, const char *message, bool *by_match)
{
	if (by_match)
		*by_match = false;
	if (cls == DR_ERRC_CANCELLED || cls == DR_ERRC_NONE)
		return NULL;
	unsigned bit = class_bit(cls);
	if (bit && (r->on & bit))
		return dr_err_class_name(cls);
	if (r->on & DR_RETRY_ON_ANY)
		return "any";
	for (size_t i = 0; i < r->n_on_match; i++)
		if (regex_finds(&r->on_match[i], message)) {
			if (by_match)
				*by_match = true;
			return r->on_match[i].source;
		}
	return NULL;
}

/* The classes on: lists, as text: "transient, throttled" (or "nothing"). */
static void on_list(const dr_retry *r, char *out, size_t outsz)
{
	static const dr_err_class order[] = {DR_ERRC_TRANSIENT, DR_ERRC_THROTTLED, DR_ERRC_TIMEOUT};
	size_t k = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof order / sizeof order[0]; i++)
		if (r->on & class_bit(order[i]))
			k += (size_t)snprintf(out + k, k < outsz ? outsz - k : 0, "%s%s", k ? ", " : "",
					      dr_err_class_name(order[i]));
	if (r->n_on_match && k < outsz)
		k += (size_t)snprintf(out + k, outsz - k, "%s%zu match: pattern%s", k ? ", " : "", r->n_on_match,
				      r->n_on_match == 1 ? "" : "s");
	if (!k)
		snprintf(out, outsz, "nothing");
}

const char *dr_retry_why_not(const dr_retry *r, dr_err_class cls, char *out, size_t outsz)
{
	char on[160];
	if (cls == DR_ERRC_CANCELLED || cls == DR_ERRC_NONE || (r->on & DR_RETRY_ON_ANY))
		return NULL;
	if (cls == DR_ERRC_PERMANENT) {
		snprintf(out, outsz, "the failure is permanent, which no retry fixes as things stand (an operation "
				     "refused in this state, a wrong input); if one can, write retry.on: [any], or "
				     "[{ match: \"...\" }] for this message");
		return out;
	}
	if (r->on & class_bit(cls))
		return NULL;
	on_list(r, on, sizeof on);
	snprintf(out, outsz, "retry.on lists %s, not %s: add %s to retry.on to retry it", on, dr_err_class_name(cls),
		 dr_err_class_name(cls));
	return out;
}
