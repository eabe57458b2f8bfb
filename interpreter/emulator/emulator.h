/*
 * emulator/emulator.h - `drover emulator`: Azure Site Recovery's wire
 * protocol served on loopback over the simulator core.
 *
 * One simulator (backends/sim.h), two faces: the embedded backend answers
 * drover in-process; the emulator answers HTTP clients with the ARM routes
 * of ASR, Compute and Network, a token endpoint and an instance-metadata
 * endpoint, so the Azure backend is tested end to end without the internet.
 * docs/emulator.md is the user's description (routes, options, faults,
 * audit log, CI).
 *
 * Lifetime: dr_emu_new opens the simulator (state file, inventory, faults)
 * and the optional contract; dr_emu_start serves on a thread pool of its
 * own (libmicrohttpd, thread per connection) until dr_emu_stop; dr_emu_free
 * saves the state and releases everything. The struct is opaque; every
 * request is handled under the emulator's own locks, so any number of
 * connections may be served at once.
 */
#ifndef DR_EMULATOR_H
#define DR_EMULATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "front/diag.h"

typedef struct dr_emu dr_emu;

typedef struct dr_emu_opts {
	const char *listen; /* "127.0.0.1:PORT" (PORT 0: a free one); loopback only */
	const char *state_path; /* the simulator's state file; NULL: in memory */
	const char *inventory; /* a file with a vms: list, or a runbook with backend.vms/inventory; NULL: demo */
	const char *faults; /* the fault spec (YAML or JSON list, or @FILE); NULL: none */
	const char *audit_path; /* JSON lines of every mutating call; NULL: none */
	const char *contract_path; /* the OpenAPI (Swagger 2.0) file requests are checked against; NULL: none */
	double speed; /* jobs run this many times faster than the service's; 0: 1 */
	uint64_t seed; /* of every random draw (faults, durations) */
	bool seed_given;
	const char *subscription, *resource_group, *vault; /* the vault served; NULL: the simulator's defaults */
	size_t page_size; /* items and jobs per page before a nextLink; 0: 100 */
	bool no_limits; /* no token bucket (no 429 unless a fault says so) */
	int64_t token_lifetime_ms; /* of the tokens it issues; 0: 3599 s */
	const char *const *clients; /* "CLIENT_ID:SECRET" principals; NULL: DR_EMU_CLIENT_ID with DR_EMU_CLIENT_SECRET */
	size_t n_clients;
	const char *const *client_certs; /* "CLIENT_ID:FILE.pem": the certificate a client's assertions are signed with */
	size_t n_client_certs;
} dr_emu_opts;

/* The principal the token endpoint knows when none is given (documented, like a well-known test key). */
#define DR_EMU_CLIENT_ID "drover-emulator-client"
#define DR_EMU_CLIENT_SECRET "drover-emulator-secret"

/*
 * Open an emulator. Mistakes in the options' files and specs (inventory,
 * faults) go to diags with positions; system problems (state file locked
 * or corrupt, contract unreadable, audit file) are written into err.
 * Returns NULL on either. The caller frees with dr_emu_free.
 */
dr_emu *dr_emu_new(const dr_emu_opts *o, dr_diags *diags, char *err, size_t errsz);

/*
 * Start serving on o->listen. On success, writes the base URL
 * ("http://127.0.0.1:PORT") into url and returns 0; on failure (address in
 * use, not loopback) writes why into err and returns -1.
 */
int dr_emu_start(dr_emu *e, char *url, size_t urlsz, char *err, size_t errsz);

/* Stop serving: waits for the requests in progress. Safe when not started. */
void dr_emu_stop(dr_emu *e);

/* Make the simulator's state durable now. 0, or -1 with why in err. */
int dr_emu_flush(dr_emu *e, char *err, size_t errsz);

/* What the emulator did so far (for benchmarks and tests). */
typedef struct dr_emu_stats {
	uint64_t requests; /* answered (or reset) */
	uint64_t accepted; /* mutating calls that started an operation (with or without a state file) */
	uint64_t replayed; /* mutating calls answered with the operation an earlier call started (a power off resent
			      in the same millisecond): started nothing, so not accepted */
	uint64_t syncs; /* fdatasyncs of the log that made calls durable (group commit: syncs <= accepted + replayed) */
	uint64_t saves; /* snapshots: rewrites of the state file (one per estate-size calls, and at start and stop) */
	uint64_t log_replayed; /* log lines replayed at start */
	uint64_t throttled; /* 429s of the token bucket */
} dr_emu_stats;

void dr_emu_get_stats(dr_emu *e, dr_emu_stats *out);

/* Stop, save the state (errors are lost: flush first to see them) and free. NULL is a no-op. */
void dr_emu_free(dr_emu *e);

#endif
