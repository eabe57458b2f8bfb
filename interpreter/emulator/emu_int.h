/*
 * emulator/emu_int.h - private to the emulator's files (the files of emulator/).
 *
 *   server.c     libmicrohttpd (the only file that includes it): requests
 *                in, responses out, connection resets and slow answers
 *   emulator.c   lifetime, the pipeline every request goes through (faults,
 *                auth, api-version, token bucket, contract, route, audit)
 *   routes.c     the route table: ARM paths matched case-insensitively
 *   asr.c        the ASR routes (items, points, jobs, operations, vault
 *                objects) over the simulator
 *   compute.c    the Compute and Network routes (VM facts, power off)
 *   payload.c    JSON bodies as the contract defines them, error envelopes
 *   auth.c       the token endpoints and bearer-token checks
 *   limits.c     ARM's token buckets
 *   faults.c     the emulator's fault spec (HTTP-level faults; job faults
 *                go to the simulator)
 *   contract.c   the OpenAPI checker (contract.h)
 *
 * A request is a plain struct (emu_req) built by server.c; handlers fill an
 * emu_resp. Strings of both live in the request's arena, freed when the
 * answer has been sent.
 */
#ifndef DR_EMU_INT_H
#define DR_EMU_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "backends/backend.h"
#include "emulator/contract.h"
#include "emulator/emulator.h"
#include "util/arena.h"
#include "util/buf.h"

struct cJSON;

#define EMU_MAX_HEADERS 16
#define EMU_MAX_CAPS 10
#define EMU_MAX_BODY (4u << 20)

typedef struct emu_req {
	const char *method;
	const char *path; /* decoded, without the query */
	const char **qk, **qv; /* query arguments, decoded */
	size_t n_query;
	const char **fk, **fv; /* an application/x-www-form-urlencoded body's fields, decoded */
	size_t n_form;
	const char *authorization, *client_request_id, *metadata, *content_type;
	const char *body; /* NUL-terminated; NULL when none */
	size_t body_len;
	bool body_too_big;
	int64_t now_ms; /* wall clock, Unix ms */
	dr_arena *a; /* the request's scratch arena */
} emu_req;

typedef struct emu_resp {
	int status;
	dr_buf body;
	const char *hk[EMU_MAX_HEADERS], *hv[EMU_MAX_HEADERS];
	size_t n_headers;
	bool reset; /* drop the connection without an answer */
	int64_t delay_ms; /* answer this much later */
	const char *audit_note; /* why, for the audit log (refusals): an error code */
	const char *audit_job; /* the job an accepted operation started, for the audit log */
	const char *audit_direction; /* the failoverDirection a (test) failover sent, for the audit log */
} emu_resp;

/* What a route serves: the ASR vault, Compute, Network, or the identity endpoints. */
typedef enum emu_api { EMU_API_ASR, EMU_API_COMPUTE, EMU_API_NETWORK, EMU_API_IDENTITY } emu_api;

typedef struct emu_call emu_call;
typedef void (*emu_handler)(dr_emu *e, emu_call *c);

typedef struct emu_route {
	const char *method;
	const char *pattern; /* "subscriptions/{sub}/.../replicationJobs/{job}" */
	emu_handler fn;
	emu_api api;
} emu_route;

/* A request matched to a route, with its captured path parameters. */
struct emu_call {
	const emu_req *rq;
	emu_resp *rs;
	const emu_route *route;
	const char *cap_k[EMU_MAX_CAPS], *cap_v[EMU_MAX_CAPS];
	size_t n_caps;
	const char *api_version;
	dr_arena *a;
};

typedef struct emu_fault emu_fault;

struct dr_emu {
	dr_emu_opts o;
	dr_backend *be; /* the simulator */
	const char *vault_id; /* "/Subscriptions/<sub>/resourceGroups/<rg>/providers/.../vaults/<v>" */
	char *subscription, *resource_group, *vault;
	dr_contract *contract; /* or NULL */
	char base_url[128]; /* "http://127.0.0.1:PORT" once started */
	void *daemon; /* struct MHD_Daemon * (server.c) */
	int audit_fd; /* -1: no audit log */
	pthread_mutex_t mu; /* tokens, buckets, fault counters, request counters */
	pthread_mutex_t flush_mu; /* group commit of the log (wal.c) */
	pthread_mutex_t wal_mu; /* the simulator's starts and the log's lines, in one order */
	uint64_t gen, flushed_gen; /* accepted operations / those made durable */
	int wal_fd; /* <state>.log, or -1 in memory */
	char *wal_path;
	size_t wal_lines, wal_snapshot_every, wal_replayed;
	uint64_t syncs;
	uint64_t requests; /* requests answered */
	uint64_t accepted, resent; /* mutating calls that started an operation / that got an earlier call's (a resend) */
	uint64_t saves, throttled; /* state file writes by emu_commit; 429s of the bucket */
	int64_t wall0; /* when the emulator started */
	/* the estate's regions and the pairs items replicate between (fixed while serving) */
	char **regions, **pair_src, **pair_dst;
	size_t n_regions, n_pairs;
	/* auth.c */
	char **client_ids, **client_secrets; /* the principals the token endpoint knows */
	size_t n_clients;
	void *certs; /* jwt.c's registered certificates */
	size_t n_certs;
	struct emu_token *tokens;
	size_t n_tokens, cap_tokens;
	uint64_t token_seq;
	/* limits.c */
	double bucket[2]; /* reads, writes: tokens left */
	int64_t bucket_ms; /* when they were last refilled */
	/* faults.c */
	emu_fault *faults;
	size_t n_faults;
};

/* ---- emulator.c ----------------------------------------------------------------------- */

/* Handle one request (server.c calls it from a connection's thread). */
void dr_emu_handle(dr_emu *e, const emu_req *rq, emu_resp *rs);
/* Rewrite the simulator's state file (when anything changed). 0, or -1 with why in err. */
int emu_save(dr_emu *e, char *err, size_t errsz);

/* ---- wal.c ------------------------------------------------------------------------------- */

/* Open <state>.log, replay it, take a snapshot. 0, or -1 with why in err. Nothing when in memory. */
int emu_wal_open(dr_emu *e, char *err, size_t errsz);
void emu_wal_close(dr_emu *e);
/* dr_sim_start for a request, its line appended to the log in the simulator's order. */
int emu_start(dr_emu *e, emu_call *c, const dr_be_request *req, dr_be_started *out, dr_be_error *err);
/*
 * A call the simulator answered with an operation (st->replayed: one an
 * earlier call started): wait until its line is on disk (group commit;
 * nothing in memory), snapshot when the log is long, then count it as
 * accepted or replayed in the stats. 0, or -1 with why in err (not counted).
 */
int emu_commit(dr_emu *e, bool replayed, char *err, size_t errsz);
/* The wall clock in Unix ms. */
int64_t emu_wall_ms(void);
/* The simulator's time for a wall time (sim time never goes back). */
int64_t emu_now(dr_emu *e, const emu_req *rq);

/* ---- routes.c ------------------------------------------------------------------------- */

/* The route for method and path: fills c's captures. NULL: no route; *path_known: the path has other methods. */
const emu_route *emu_route_match(const char *method, const char *path, emu_call *c, bool *path_known);
/* A captured path parameter ("" when absent). */
const char *emu_cap(const emu_call *c, const char *name);
/* A query argument (NULL when absent); names compare case-insensitively. */
const char *emu_query(const emu_req *rq, const char *name);
/* A form field of the body (NULL when absent). */
const char *emu_form(const emu_req *rq, const char *name);
/* True when s equals t ignoring ASCII case. */
bool emu_ieq(const char *s, const char *t);

/* ---- asr.c / compute.c: the handlers ------------------------------------------------- */

void emu_asr_items(dr_emu *e, emu_call *c);
void emu_asr_item(dr_emu *e, emu_call *c);
void emu_asr_points(dr_emu *e, emu_call *c);
void emu_asr_point(dr_emu *e, emu_call *c);
void emu_asr_operation(dr_emu *e, emu_call *c);
void emu_asr_switch(dr_emu *e, emu_call *c);
void emu_asr_planned(dr_emu *e, emu_call *c);
void emu_asr_opresult(dr_emu *e, emu_call *c);
void emu_asr_opstatus(dr_emu *e, emu_call *c);
void emu_asr_jobs(dr_emu *e, emu_call *c);
void emu_asr_job(dr_emu *e, emu_call *c);
void emu_asr_job_resume(dr_emu *e, emu_call *c);
void emu_asr_fabrics(dr_emu *e, emu_call *c);
void emu_asr_fabric(dr_emu *e, emu_call *c);
void emu_asr_containers(dr_emu *e, emu_call *c);
void emu_asr_container(dr_emu *e, emu_call *c);
void emu_asr_mappings(dr_emu *e, emu_call *c);
void emu_asr_mapping(dr_emu *e, emu_call *c);
void emu_asr_policies(dr_emu *e, emu_call *c);
void emu_asr_policy(dr_emu *e, emu_call *c);
void emu_compute_vm(dr_emu *e, emu_call *c);
void emu_compute_instance_view(dr_emu *e, emu_call *c);
void emu_compute_power_off(dr_emu *e, emu_call *c);
void emu_compute_operation(dr_emu *e, emu_call *c);
void emu_network_nic(dr_emu *e, emu_call *c);
/* Index the estate's regions and region pairs (once, at start: O(VMs)). */
void emu_asr_index_regions(dr_emu *e);
void emu_asr_free_regions(dr_emu *e);

/* ---- payload.c ------------------------------------------------------------------------ */

/* Answer status with the cJSON value (consumed) as the body. */
void emu_json(emu_resp *rs, int status, struct cJSON *v);
/* ARM's envelope: {"error":{"code","message"}}. */
void emu_arm_error(emu_resp *rs, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* ASR's envelope for a service error (code, message, possibleCauses, recommendedAction, in details[] too). */
void emu_asr_error(emu_call *c, const dr_be_error *err);
/* A header on the response (strings copied into a). */
void emu_header(emu_resp *rs, dr_arena *a, const char *name, const char *value);
/* RFC 3339 with 7 fractional digits as ASR writes them; "1753-01-01T01:01:01Z" style for -1 is the caller's. */
const char *emu_time(dr_arena *a, int64_t ms);
/* Payloads of the contract's definitions. */
/* An item as the service shows it at now_ms (the caller's time: its running job is looked up then). */
struct cJSON *emu_item_json(dr_emu *e, dr_arena *a, int64_t now_ms, const dr_be_item *it);
/* The item as the service shows it: from its new primary side after a reprotect (payload.c, "Views"). */
dr_be_item emu_view(dr_arena *a, const dr_be_item *it);
/* A failoverDirection served against emu_view(it), in the simulator's terms. */
dr_be_direction emu_sim_direction(dr_arena *a, const dr_be_item *it, dr_be_direction served);
/* A recovery point of it: its provider's details (a `provider` fault's), without its time when undated. */
struct cJSON *emu_point_json(dr_emu *e, dr_arena *a, const dr_be_item *it, const dr_be_point *p, bool undated);
struct cJSON *emu_job_json(dr_emu *e, dr_arena *a, const dr_be_job *j);
/* Fabric and container names of a region, and their ids. */
const char *emu_fabric_name(dr_arena *a, const char *region);
const char *emu_container_name(dr_arena *a, const char *region);
const char *emu_container_id(dr_emu *e, dr_arena *a, const char *region);
const char *emu_policy_id(dr_emu *e, dr_arena *a);

/* ---- auth.c ---------------------------------------------------------------------------- */

/* POST /{tenant}/oauth2/v2.0/token and GET /metadata/identity/oauth2/token. */
void emu_auth_token(dr_emu *e, emu_call *c);
void emu_auth_imds(dr_emu *e, emu_call *c);
/* Check the bearer token of an ARM request: true when accepted, else the 401 is in c->rs. */
bool emu_auth_check(dr_emu *e, emu_call *c);
void emu_auth_free(dr_emu *e);

/* ---- jwt.c ----------------------------------------------------------------------------- */

/* Load the --client-cert certificates. 0, or -1 with why in err. */
int emu_jwt_load_certs(dr_emu *e, char *err, size_t errsz);
void emu_jwt_free(dr_emu *e);
/*
 * Check a client assertion of client for tenant's token endpoint at now:
 * NULL when Entra ID would accept it, else its AADSTS description (in a).
 */
const char *emu_jwt_check(dr_emu *e, dr_arena *a, const char *jwt, const char *client, const char *tenant,
			  int64_t now_ms);

/* ---- limits.c -------------------------------------------------------------------------- */

/* Take one token for the request (reads: GET; writes: the others). False: the 429 is in c->rs. */
bool emu_limits_take(dr_emu *e, emu_call *c);
void emu_limits_init(dr_emu *e);

/* ---- faults.c --------------------------------------------------------------------------- */

/*
 * Split the spec's entries: the emulator's own kinds are kept in e->faults,
 * the simulator's are appended to *sim_faults (a list node made in a).
 * Mistakes go to diags. Returns the error count.
 */
size_t emu_faults_parse(dr_emu *e, const char *spec, dr_arena *a, struct dr_node **sim_faults, dr_diags *diags);
/* Faults that answer before the route: a reset, a status, or a delay added to rs. True: answered. */
bool emu_faults_before(dr_emu *e, const emu_req *rq, emu_resp *rs);
/* Faults with `at: after`: replace the answer of a request already handled. True: replaced. */
bool emu_faults_after(dr_emu *e, const emu_req *rq, emu_resp *rs);
/* 403 on Compute/Network for this VM (kind forbidden). True: answered. */
bool emu_faults_forbidden(dr_emu *e, emu_call *c, const char *vm);
/* The provider (instanceType) a `provider` fault serves vm's item as protected by; NULL: A2A. */
const char *emu_faults_provider(const dr_emu *e, const char *vm);
/* True when a `no-properties` fault serves vm's item without its properties. */
bool emu_faults_no_properties(const dr_emu *e, const char *vm);
/* How many of vm's newest recovery points an `undated-points` fault serves without a time (INT64_MAX: all; 0: none). */
int64_t emu_faults_undated(const dr_emu *e, const char *vm);
/* True when an `unmanaged-disks` fault serves vm's item with protectedDisks (unmanaged), no managed ones. */
bool emu_faults_unmanaged(const dr_emu *e, const char *vm);
/* The state a `job-state` fault serves vm's running jobs in (ASR's "Other", a new one); NULL: their own. */
const char *emu_faults_job_state(const dr_emu *e, const char *vm);
/* The lifetime of tokens issued now, when a token-expiry fault shortens it; else -1. */
int64_t emu_faults_token_lifetime(dr_emu *e);
void emu_faults_free(dr_emu *e);

#endif
