/*
 * backends/azure.h - Azure Site Recovery over Azure Resource Manager: the
 * `backend: {kind: azure}` of a runbook (docs/backends.md, "The Azure
 * backend"). It implements backend.h with ARM's REST calls through the
 * HTTP layer (backends/http.h) and the credentials of backends/auth.h.
 *
 * This header holds what only the Azure backend has: opening it from the
 * runbook's options, and its counters (the benchmark and the end-to-end
 * tests read them). Everything else goes through the generic interface.
 *
 * Threads: every call may block on the network (dr_backend.remote is
 * true); any number of threads may call at once.
 */
#ifndef DR_AZURE_H
#define DR_AZURE_H

#include <stdbool.h>
#include <stdint.h>

#include "backends/backend.h"

/* What the backend did so far (every try of every call counts). */
typedef struct dr_azure_stats {
	uint64_t reads, writes; /* ARM requests sent: GET, and everything else */
	uint64_t polls; /* reads of a job's state (replicationJobs/{id} or a Compute operation) */
	uint64_t throttled; /* 429 answers */
	uint64_t retries; /* requests sent again after a 429, a 5xx or a lost answer */
	uint64_t unauthorized; /* 401 answers (a fresh token was taken) */
	uint64_t lookups; /* searches for the job a request id started (exactly once) */
	uint64_t rec_probes; /* records of earlier starts compared by a start's look for a lost answer on its item */
	int64_t limiter_wait_ms; /* time requests waited for the client-side limiter */
	uint64_t connections; /* TCP connections opened */
	int tokens; /* tokens fetched from the credential */
} dr_azure_stats;

/*
 * Open the Azure backend rb->backend describes (kind: azure). Options may
 * use ${params.X} (from params), ${env.X} and ${secrets.X}; they are
 * evaluated now. Nothing is sent until the first call. Returns NULL with
 * *err (BackendConfigInvalid: an option that cannot be evaluated).
 */
dr_backend *dr_azure_open(const dr_runbook *rb, const struct cJSON *params, dr_arena *a, dr_be_error *err);

/* True when be is the Azure backend. */
bool dr_azure_is(const dr_backend *be);

/* The URL that resumes job_id (a Suspended job: POST it), endpoint and api-version included; in a. */
const char *dr_azure_resume_url(const dr_backend *be, dr_arena *a, const char *job_id);

/* Its counters so far. */
void dr_azure_stats_get(dr_backend *be, dr_azure_stats *out);

#endif
