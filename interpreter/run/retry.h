/*
 * retry.h - retry decisions and delays, as pure functions of a policy.
 *
 * The wait before attempt n+1 (after n failed attempts) is
 *     base = delay * backoff^(n-1), capped at max_delay
 * then jitter: none -> base; full -> uniform in [0, base]; equal ->
 * base/2 + uniform in [0, base - base/2]. A Retry-After hint from the action
 * replaces the result when it is larger. Randomness comes from a seeded
 * generator (splitmix64), so a seed gives the same schedule every time.
 */
#ifndef DR_RETRY_H
#define DR_RETRY_H

#include <stdbool.h>
#include <stdint.h>

#include "actions/action.h"
#include "front/runbook.h"

/* A small deterministic PRNG (splitmix64). Embedded; no cleanup. */
typedef struct dr_rng {
	uint64_t state;
} dr_rng;

void dr_rng_seed(dr_rng *r, uint64_t seed);
uint64_t dr_rng_next(dr_rng *r);
/* Uniform in [0, n] (inclusive); 0 when n <= 0. */
int64_t dr_rng_upto(dr_rng *r, int64_t n);

/* No single wait is ever longer than this (30 days), whatever the policy says. */
#define DR_RETRY_DELAY_CAP_MS INT64_C(2592000000)

/* The wait before the next attempt after `failed` failed attempts (>= 1), before jitter. */
int64_t dr_retry_base_delay(const dr_retry *r, int failed);

/* Apply the policy's jitter to base. */
int64_t dr_retry_jitter(const dr_retry *r, int64_t base, dr_rng *rng);

/*
 * The whole computation: base, jitter, then Retry-After (retry_after_ms,
 * -1 when none) when larger; *honoured (may be NULL) says whether
 * Retry-After decided the delay.
 */
int64_t dr_retry_delay(const dr_retry *r, int failed, int64_t retry_after_ms, dr_rng *rng, bool *honoured);

/*
 * Whether on: covers a failure of class cls with this message. Returns the
 * reason ("transient", "throttled", "timeout", "any", or the source of the
 * {match:} regex that found the message, then *by_match is set; by_match
 * may be NULL) or NULL when the failure is not retried. Cancellations are
 * never retried; permanent failures only by `any` or a matching regex.
 */
const char *dr_retry_covers(const dr_retry *r, dr_err_class cls, const char *message, bool *by_match);

/*
 * Why a failure of class cls was not retried although attempts were left,
 * and what to write instead, as one sentence into out (outsz >= 256): "a
 * permanent failure: ..." or "retry.on lists throttled, not transient: ...".
 * NULL when on: covers the class (the caller stopped for another reason).
 */
const char *dr_retry_why_not(const dr_retry *r, dr_err_class cls, char *out, size_t outsz);

/*
 * The built-in retry of a `dr.*` step that declares no retry: (docs/language.md,
 * "Retry"): up to DR_RETRY_BUILTIN_ATTEMPTS attempts on `throttled` only (an
 * HTTP 429: the service did not take the request, so sending it again is
 * safe), waits of 2s doubling with equal jitter up to 1m, or the service's
 * Retry-After when longer; every wait ends at the step's timeout. A declared
 * retry: (the step's, its composite's or defaults.retry) replaces it.
 */
#define DR_RETRY_BUILTIN_ATTEMPTS 5
extern const dr_retry dr_retry_builtin;

/*
 * The policy step st of rb runs with: its retry: as checked, or
 * dr_retry_builtin when st is a `dr.*` action and no retry: is declared for
 * it anywhere; *builtin (may be NULL) says which. Borrowed pointers; pure.
 */
const dr_retry *dr_retry_of_step(const dr_runbook *rb, const dr_step *st, bool *builtin);

/* "transient", "throttled", ... for a class; "none" for DR_ERRC_NONE. */
const char *dr_err_class_name(dr_err_class cls);

#endif
