/*
 * backends/azure_int.h - private to the Azure backend's files:
 *
 *   azure.c        opening (options, credential), the vtable, close
 *   azure_arm.c    the ARM client: URLs, token, headers, the limiter, send,
 *                  one retry on 401, bounded retries of reads, errors, paging
 *   azure_limit.c  token buckets per subscription (asr-api.md §2.3)
 *   azure_parse.c  ASR's JSON into the interface's types (items, points,
 *                  jobs, errors): pure functions, tested on Microsoft's payloads
 *   azure_ops.c    starting operations: bodies, the job from the LRO headers,
 *                  exactly-once (request ids, lookups), A2A switch protection,
 *                  power off; jobs
 *   azure_vm.c     VM facts from the Compute and Network APIs
 *   azure_cache.c  items of the last list, for the look before a post
 *                  (dr_backend_peek_item) of items nothing was started on
 *
 * Memory: results go to the caller's arena; what outlives a call (the
 * operations this process started, recovery point times) lives in the
 * backend under its mutex. ARM calls are made without holding it.
 */
#ifndef DR_AZURE_INT_H
#define DR_AZURE_INT_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "backends/auth.h"
#include "backends/azure.h"
#include "backends/backend.h"
#include "backends/http.h"
#include "util/index.h"

#define AZ_COMPUTE_API "2024-07-01"
#define AZ_NETWORK_API "2024-05-01"
#define AZ_POLL_DEFAULT_MS 30000
#define AZ_CACHE_TTL_MS 120000

typedef struct az_limit az_limit;

/* An operation this process sent (or found): what the service's job does not say. */
typedef struct az_rec {
	char *key; /* the idempotency key */
	char *rid; /* its client request id */
	char *item_id, *item_name;
	dr_be_op op;
	char *job_id; /* NULL: the answer was lost; the outcome is unknown until a lookup */
	char *point_id; /* the recovery point asked for; NULL: latest */
	int64_t point_ms;
	int64_t poll_ms; /* the last Retry-After for its job */
} az_rec;

typedef struct az {
	dr_backend base;
	char *endpoint; /* "https://management.azure.com", no trailing slash */
	char *api; /* the ASR api-version */
	char *subscription, *resource_group, *vault;
	char *vault_path; /* "/subscriptions/S/resourceGroups/G/providers/Microsoft.RecoveryServices/vaults/V" */
	dr_auth *auth;
	dr_http_client *http;
	az_limit *limit;
	pthread_mutex_t mu;
	az_rec *recs;
	size_t n_recs, cap_recs;
	dr_index rec_by_key, rec_by_job, rec_by_rid, rec_by_item_op; /* item_op: the lost-answer look (lost_rec) */
	char **pt_ids; /* recovery points seen: id -> time (a job's point has a time) */
	int64_t *pt_ms;
	size_t n_pts, cap_pts;
	dr_index pt_by_id;
	char **nm_names, **nm_ids; /* VM names to item ids, from the last list */
	size_t n_nm, cap_nm;
	dr_index nm_by_name, nm_by_id;
	char **jx_rids, **jx_jobs; /* the vault's recent jobs by client request id (lookups after lost answers) */
	size_t n_jx, cap_jx;
	dr_index jx_by_rid;
	int64_t jx_at, jx_since; /* when it was listed (caller's clock), and from when; -1: never */
	char **pp_keys; /* idempotency keys whose start has a reserved write token, and when it is paid */
	int64_t *pp_ready;
	bool *pp_used;
	size_t n_pp, cap_pp;
	dr_index pp_by_key;
	char **mv_old, **mv_new; /* items that moved (A2A reprotect: a new item in the other container): old -> new id */
	size_t n_mv, cap_mv;
	dr_index mv_by_old;
	struct az_cached *lc; /* items as the last list showed them (azure_cache.c) */
	size_t n_lc, cap_lc;
	dr_index lc_by_id;
	dr_azure_stats stats;
	bool caller_retries; /* one try per request, the caller retries (dr_backend_caller_retries); atomic */
} az;

/* Whether the caller retries (one try per request): dr_backend_caller_retries. */
bool az_caller_retries(az *z);

/* ---- azure_arm.c ----------------------------------------------------------------------------- */

#define AZ_RETRY_AFTER_MAX_MS 60000 /* a longer Retry-After is read as a minute */

typedef struct az_reply {
	long status;
	cJSON *json; /* the parsed body, or NULL; freed by az_reply_dispose */
	const char *location, *async_op, *ms_request_id; /* headers, in the call's arena; NULL when absent */
	int64_t retry_after_ms; /* retry-after-ms, else Retry-After; -1 when absent */
	const char *request_id; /* the x-ms-client-request-id sent */
	bool unknown; /* no answer: a POST may or may not have reached the service */
} az_reply;

typedef struct az_req {
	const char *method; /* "GET" or "POST" */
	const char *url; /* "/subscriptions/..." (the endpoint is prepended) or an absolute URL */
	const char *api; /* appended as ?api-version= (or &); NULL: the URL carries it (nextLink, LRO) */
	const char *query; /* more of the query ("$filter=..."), already encoded; may be NULL */
	const char *body; /* JSON; NULL: none */
	const char *rid; /* x-ms-client-request-id; NULL: a random one */
	int tries; /* attempts on 429, 5xx and lost answers; 0: 4 for GET (1 when the caller retries), 1 for POST */
	bool prepaid; /* the first try's limiter token was reserved (az_limit_reserve) */
} az_req;

/*
 * Send one call. 0 for a 2xx answer, with *rep; -1 with *err (the service's
 * error verbatim, its class, Retry-After and the request id) for anything
 * else, *rep then still says the status and whether the answer was lost.
 * Takes a token from the limiter, a bearer token from the credential (a
 * fresh one once on 401), retries reads (and POSTs when tries says so) on
 * 429, 5xx and lost answers, no faster than Retry-After - unless the caller
 * retries (az_caller_retries): then one try. Retry-After (retry-after-ms,
 * else Retry-After in seconds or as an HTTP date) is read up to
 * AZ_RETRY_AFTER_MAX_MS.
 */
int az_send(az *z, dr_arena *a, const az_req *r, az_reply *rep, dr_be_error *err);
void az_reply_dispose(az_reply *rep);

/* Every element of a paged list (value[], following nextLink): each(ctx, element) until it returns non-zero. */
int az_list(az *z, dr_arena *a, const char *path, const char *api, const char *query,
	    int (*each)(void *ctx, const cJSON *v), void *ctx, dr_be_error *err);

/* ---- azure_limit.c ----------------------------------------------------------------------------- */

typedef struct az_limit_cfg {
	double read_rate, read_burst, write_rate, write_burst; /* tokens per second, bucket size */
} az_limit_cfg;

/* The buckets of a subscription, shared by every backend of the process that names it. */
az_limit *az_limit_get(const char *subscription, const az_limit_cfg *cfg);
void az_limit_put(az_limit *l);
/* Take a token, waiting for one; returns how long it waited (ms), or -1 when the thread's stop flag
   (dr_backend_watch) ended the wait: nothing taken, nothing to send. */
int64_t az_limit_take(az_limit *l, bool write);
/* Reserve a token now (the bucket may go into debt); how long until it is paid (ms), i.e. when to send. */
int64_t az_limit_reserve(az_limit *l, bool write);
/* Send a request whose token was reserved (az_limit_reserve) when its time has come: it waits only while the
   service's own count (x-ms-ratelimit-remaining-*, refilled since) says nothing is left - a reserved call sent
   late, in a bunch with others, would otherwise drain the service's bucket; how long it waited (ms), or -1 as
   az_limit_take. */
int64_t az_limit_spend(az_limit *l, bool write);
/* The service's count of what is left (x-ms-ratelimit-remaining-*): never believe more than it. */
void az_limit_observe(az_limit *l, bool write, double remaining);
/* A 429: nothing leaves for ms. */
void az_limit_pause(az_limit *l, int64_t ms);

/* ---- azure_parse.c ------------------------------------------------------------------------------ */

/*
 * Every member of ASR's JSON the backend reads, once: (name, schema,
 * parent, key, type) - the OpenAPI contract's definition it starts from,
 * the members leading to its parent ("properties", "vmNics[].ipConfigs[]":
 * [] steps into an array's items; "" the schema itself), its own key and
 * its type. The readers take the key from here (AZK), and
 * tests/unit/test_azure_contract.c checks each path against
 * asr-openapi-2025-08-01.json, so a misspelt or moved member fails a test.
 * NEEDED ones make the object unusable when absent (az_parse_lacks).
 */
#define AZ_FIELDS(X) \
	X(RES_ID, "Resource", "", "id", AZ_T_STRING) \
	X(RES_NAME, "Resource", "", "name", AZ_T_STRING) \
	X(ITEM_PROPS, "ReplicationProtectedItem", "", "properties", AZ_T_OBJECT) \
	X(ITEM_FRIENDLY, "ReplicationProtectedItem", "properties", "friendlyName", AZ_T_STRING) \
	X(ITEM_PSTATE, "ReplicationProtectedItem", "properties", "protectionState", AZ_T_STRING) \
	X(ITEM_PSTATE_DESC, "ReplicationProtectedItem", "properties", "protectionStateDescription", AZ_T_STRING) \
	X(ITEM_TFO_STATE, "ReplicationProtectedItem", "properties", "testFailoverState", AZ_T_STRING) \
	X(ITEM_TFO_DESC, "ReplicationProtectedItem", "properties", "testFailoverStateDescription", AZ_T_STRING) \
	X(ITEM_ACTIVE, "ReplicationProtectedItem", "properties", "activeLocation", AZ_T_STRING) \
	X(ITEM_ALLOWED, "ReplicationProtectedItem", "properties", "allowedOperations", AZ_T_ARRAY) \
	X(ITEM_HEALTH, "ReplicationProtectedItem", "properties", "replicationHealth", AZ_T_STRING) \
	X(ITEM_SCENARIO, "ReplicationProtectedItem", "properties", "currentScenario", AZ_T_OBJECT) \
	X(ITEM_FO_POINT, "ReplicationProtectedItem", "properties", "failoverRecoveryPointId", AZ_T_STRING) \
	X(ITEM_LAST_FO, "ReplicationProtectedItem", "properties", "lastSuccessfulFailoverTime", AZ_T_STRING) \
	X(ITEM_LAST_TFO, "ReplicationProtectedItem", "properties", "lastSuccessfulTestFailoverTime", AZ_T_STRING) \
	X(ITEM_RECOVERY_CONTAINER, "ReplicationProtectedItem", "properties", "recoveryContainerId", AZ_T_STRING) \
	X(ITEM_PSD, "ReplicationProtectedItem", "properties", "providerSpecificDetails", AZ_T_OBJECT) \
	X(SCEN_NAME, "CurrentScenarioDetails", "", "scenarioName", AZ_T_STRING) \
	X(SCEN_JOB, "CurrentScenarioDetails", "", "jobId", AZ_T_STRING) \
	X(PSD_TYPE, "ReplicationProviderSpecificSettings", "", "instanceType", AZ_T_STRING) \
	X(A2A_RPO, "A2AReplicationDetails", "", "rpoInSeconds", AZ_T_INTEGER) \
	X(A2A_NICS, "A2AReplicationDetails", "", "vmNics", AZ_T_ARRAY) \
	X(A2A_IPCONFIGS, "A2AReplicationDetails", "vmNics[]", "ipConfigs", AZ_T_ARRAY) \
	X(IP_PRIMARY, "IPConfigDetails", "", "isPrimary", AZ_T_BOOLEAN) \
	X(IP_STATIC, "IPConfigDetails", "", "staticIPAddress", AZ_T_STRING) \
	X(IP_RECOVERY, "IPConfigDetails", "", "recoveryStaticIPAddress", AZ_T_STRING) \
	X(IP_TFO, "IPConfigDetails", "", "tfoStaticIPAddress", AZ_T_STRING) \
	X(A2A_PRIMARY_LOC, "A2AReplicationDetails", "", "primaryFabricLocation", AZ_T_STRING) \
	X(A2A_RECOVERY_LOC, "A2AReplicationDetails", "", "recoveryFabricLocation", AZ_T_STRING) \
	X(A2A_INITIAL_PRIMARY, "A2AReplicationDetails", "", "initialPrimaryFabricLocation", AZ_T_STRING) \
	X(A2A_INITIAL_RECOVERY, "A2AReplicationDetails", "", "initialRecoveryFabricLocation", AZ_T_STRING) \
	X(A2A_SIZE, "A2AReplicationDetails", "", "recoveryAzureVMSize", AZ_T_STRING) \
	X(A2A_SYNCED, "A2AReplicationDetails", "", "vmSyncedConfigDetails", AZ_T_OBJECT) \
	X(A2A_TAGS, "AzureToAzureVmSyncedConfigDetails", "", "tags", AZ_T_OBJECT) \
	X(A2A_VM, "A2AReplicationDetails", "", "fabricObjectId", AZ_T_STRING) \
	X(A2A_RECOVERY_VM, "A2AReplicationDetails", "", "recoveryFabricObjectId", AZ_T_STRING) \
	X(A2A_TFO_VM, "A2AReplicationDetails", "", "testFailoverRecoveryFabricObjectId", AZ_T_STRING) \
	X(A2A_RECOVERY_RG, "A2AReplicationDetails", "", "recoveryAzureResourceGroupId", AZ_T_STRING) \
	X(A2A_DISKS, "A2AReplicationDetails", "", "protectedManagedDisks", AZ_T_ARRAY) \
	X(A2A_VHDS, "A2AReplicationDetails", "", "protectedDisks", AZ_T_ARRAY) \
	X(DISK_ID, "A2AProtectedManagedDiskDetails", "", "diskId", AZ_T_STRING) \
	X(DISK_TARGET, "A2AProtectedManagedDiskDetails", "", "recoveryTargetDiskId", AZ_T_STRING) \
	X(DISK_STAGING, "A2AProtectedManagedDiskDetails", "", "primaryStagingAzureStorageAccountId", AZ_T_STRING) \
	X(DISK_REPLICA_TYPE, "A2AProtectedManagedDiskDetails", "", "recoveryReplicaDiskAccountType", AZ_T_STRING) \
	X(DISK_TARGET_TYPE, "A2AProtectedManagedDiskDetails", "", "recoveryTargetDiskAccountType", AZ_T_STRING) \
	X(MAP_POLICY, "ProtectionContainerMapping", "properties", "policyId", AZ_T_STRING) \
	X(MAP_TARGET, "ProtectionContainerMapping", "properties", "targetProtectionContainerId", AZ_T_STRING) \
	X(POINT_PROPS, "RecoveryPoint", "", "properties", AZ_T_OBJECT) \
	X(POINT_TIME, "RecoveryPoint", "properties", "recoveryPointTime", AZ_T_STRING) \
	X(POINT_TYPE, "RecoveryPoint", "properties", "recoveryPointType", AZ_T_STRING) \
	X(JOB_PROPS, "Job", "", "properties", AZ_T_OBJECT) \
	X(JOB_ACTIVITY, "Job", "properties", "activityId", AZ_T_STRING) \
	X(JOB_SCENARIO, "Job", "properties", "scenarioName", AZ_T_STRING) \
	X(JOB_FRIENDLY, "Job", "properties", "friendlyName", AZ_T_STRING) \
	X(JOB_STATE, "Job", "properties", "state", AZ_T_STRING) \
	X(JOB_STATE_DESC, "Job", "properties", "stateDescription", AZ_T_STRING) \
	X(JOB_START, "Job", "properties", "startTime", AZ_T_STRING) \
	X(JOB_END, "Job", "properties", "endTime", AZ_T_STRING) \
	X(JOB_TARGET, "Job", "properties", "targetObjectId", AZ_T_STRING) \
	X(JOB_TARGET_NAME, "Job", "properties", "targetObjectName", AZ_T_STRING) \
	X(JOB_TASKS, "Job", "properties", "tasks", AZ_T_ARRAY) \
	X(JOB_ERRORS, "Job", "properties", "errors", AZ_T_ARRAY) \
	X(JOB_CUSTOM, "Job", "properties", "customDetails", AZ_T_OBJECT) \
	X(JD_AFFECTED, "JobDetails", "", "affectedObjectDetails", AZ_T_OBJECT) \
	X(SWITCH_NEW_ITEM, "SwitchProtectionJobDetails", "", "newReplicationProtectedItemId", AZ_T_STRING) \
	X(TASK_ID, "ASRTask", "", "taskId", AZ_T_STRING) \
	X(TASK_NAME, "ASRTask", "", "name", AZ_T_STRING) \
	X(TASK_FRIENDLY, "ASRTask", "", "friendlyName", AZ_T_STRING) \
	X(TASK_STATE, "ASRTask", "", "state", AZ_T_STRING) \
	X(TASK_START, "ASRTask", "", "startTime", AZ_T_STRING) \
	X(TASK_END, "ASRTask", "", "endTime", AZ_T_STRING) \
	X(TASK_CUSTOM, "ASRTask", "", "customDetails", AZ_T_OBJECT) \
	X(TASK_ERRORS, "ASRTask", "", "errors", AZ_T_ARRAY) \
	X(TTD_TYPE, "TaskTypeDetails", "", "instanceType", AZ_T_STRING) \
	X(MANUAL_NAME, "ManualActionTaskDetails", "", "name", AZ_T_STRING) \
	X(MANUAL_INSTR, "ManualActionTaskDetails", "", "instructions", AZ_T_STRING) \
	X(JE_SERVICE, "JobErrorDetails", "", "serviceErrorDetails", AZ_T_OBJECT) \
	X(JE_PROVIDER, "JobErrorDetails", "", "providerErrorDetails", AZ_T_OBJECT) \
	X(JE_LEVEL, "JobErrorDetails", "", "errorLevel", AZ_T_STRING) \
	X(JE_TASK, "JobErrorDetails", "", "taskId", AZ_T_STRING) \
	X(SE_CODE, "ServiceError", "", "code", AZ_T_STRING) \
	X(SE_MESSAGE, "ServiceError", "", "message", AZ_T_STRING) \
	X(SE_CAUSES, "ServiceError", "", "possibleCauses", AZ_T_STRING) \
	X(SE_ACTION, "ServiceError", "", "recommendedAction", AZ_T_STRING) \
	X(PE_CODE, "ProviderError", "", "errorCode", AZ_T_INTEGER) \
	X(PE_MESSAGE, "ProviderError", "", "errorMessage", AZ_T_STRING) \
	X(PE_CAUSES, "ProviderError", "", "possibleCauses", AZ_T_STRING) \
	X(PE_ACTION, "ProviderError", "", "recommendedAction", AZ_T_STRING)

typedef enum az_type { AZ_T_STRING, AZ_T_INTEGER, AZ_T_BOOLEAN, AZ_T_ARRAY, AZ_T_OBJECT } az_type;

typedef enum az_field_id {
#define AZ_ENUM(e, schema, parent, key, type) AZF_##e,
	AZ_FIELDS(AZ_ENUM)
#undef AZ_ENUM
	AZF_COUNT
} az_field_id;

typedef struct az_field {
	const char *name; /* "ITEM_FRIENDLY" */
	const char *schema, *parent, *key;
	az_type type;
} az_field;

extern const az_field az_fields[AZF_COUNT];
#define AZK(e) (az_fields[AZF_##e].key)

/* The provider type drover drives (A2AReplicationDetails' discriminator value). */
#define AZ_PROVIDER "A2A"

/* What a ReplicationProtectedItem, RecoveryPoint or Job must have to be read (az_parse_lacks). */
typedef enum az_kind { AZ_ITEM, AZ_POINT, AZ_JOB } az_kind;

/*
 * The first member v lacks (absent, null or of another type) that an
 * object of kind k cannot be read without, as a path ("properties",
 * "properties"; a point needs only its id); NULL when it has them all.
 */
const char *az_parse_lacks(const cJSON *v, az_kind k);

/*
 * The refusal of an operation on item v (a ReplicationProtectedItem) whose
 * provider is not A2A (HyperVReplicaAzure, InMageRcm, ...): drover builds
 * only A2A's request bodies. 0 when v is A2A or says no instanceType; -1
 * with *err (400 ProviderNotSupported, permanent, naming the type, the VM
 * and that nothing was sent).
 */
int az_provider_refusal(dr_arena *a, const cJSON *v, dr_be_op op, dr_be_error *err);

/* An item from a ReplicationProtectedItem (strings in a); false when it is not one (no id). A reprotected
   A2A item the service shows from its new primary side (its initial fabric locations the other way round)
   is turned to its first direction's view, the one runs and plans speak (docs/backends.md, "Failback"). */
bool az_parse_item(dr_arena *a, const cJSON *v, dr_be_item *out);
/* An item az_parse_item could not read (the index-th of its list), as an item whose unusable says what it lacks:
   named by its friendlyName, name or id when it has one, else "unreadable-item-N"; strings in a. */
void az_parse_unreadable(dr_arena *a, const cJSON *v, size_t index, dr_be_item *out);

/* An A2A item's regions as the service reports them (pointers into the JSON; NULL when absent). */
typedef struct az_sides {
	const char *primary, *recovery; /* primaryFabricLocation, recoveryFabricLocation */
	const char *initial_primary, *initial_recovery; /* the first direction's (survive switch protection) */
	const char *active; /* activeLocation as sent */
} az_sides;

/* The sides of item v (a ReplicationProtectedItem). */
void az_parse_sides(const cJSON *v, az_sides *out);
/* True when s shows the item from the side opposite its first direction (after a reprotect). */
bool az_sides_flipped(const az_sides *s);
/* The protection state from ASR's strings (unknown: OTHER). */
dr_be_state az_parse_state(const char *protection_state, const char *test_state, const char *scenario);
/* A recovery point (strings in a); false when it has no id. Its time and properties are optional in the contract:
   without a valid recoveryPointTime it is undated (time_ms -1), which no policy picks (backend.h). */
bool az_parse_point(dr_arena *a, const cJSON *v, dr_be_point *out);
/* A listed point without an id (the index-th of its list): undated, named "unnamed-point-N"; strings in a. */
void az_parse_point_unnamed(dr_arena *a, size_t index, dr_be_point *out);
/* Sort points newest first, undated ones last. */
void az_sort_points(dr_be_point *pts, size_t n);
/* A job (op from its scenario; op_known false when the scenario is unknown); false when not a job. */
bool az_parse_job(dr_arena *a, const cJSON *v, dr_be_job *out, bool *op_known);
/* The job state of an ASR job or task state string. */
dr_be_job_state az_parse_job_state(const char *s);
/* The operation a scenarioName names; false when unknown. */
bool az_parse_scenario(const char *scenario, dr_be_op *out);
/* An ARM or ASR error body (or none) for status into *err (strings in a); returns -1. */
int az_parse_error(dr_arena *a, long status, const cJSON *body, const char *rid, dr_be_error *err);
/* The client request id a job's activityId starts with ("<rid> ActivityId: <id>"), in a. */
const char *az_parse_activity_rid(dr_arena *a, const char *activity_id);
/* The job name of a Location or Azure-AsyncOperation URL ("operationresults/{job}" or
   "replicationOperationStatus/{job}"), or of x-ms-request-id ".../replicationJobs/{job}"; NULL when none. */
const char *az_parse_job_name(dr_arena *a, const char *url);
/* A string member, or NULL. */
const char *az_str(const cJSON *o, const char *key);
/* v (n elements of size, room for *cap) with room for one more: the same, or a doubled copy in a. */
void *az_grow(dr_arena *a, void *v, size_t n, size_t *cap, size_t size);
/* o.a.b.c... (NULL-terminated path of keys), or NULL. */
const cJSON *az_path(const cJSON *o, ...) __attribute__((sentinel));

/* ---- azure_ops.c --------------------------------------------------------------------------------- */

int az_start(az *z, dr_arena *a, int64_t now_ms, const dr_be_request *req, dr_be_started *out, dr_be_error *err);
/* failoverDirection ("PrimaryToRecovery"/"RecoveryToPrimary", *out static) of run direction d (its first
   direction's terms; AUTO: away from where the VM runs) on item v as the service serves it (id: for errors),
   by region: the side of v the goal region is on. -1 with err (409 FailoverDirectionUnknown) when v's
   regions are missing, equal or contradict its initial ones, or its activeLocation is neither side. */
int az_wire_direction(dr_arena *a, const cJSON *v, const char *id, dr_be_direction d, const char **out,
		      dr_be_error *err);
/* dr_backend_pace: reserve the start's write token for its key; ms until it is paid. */
int64_t az_pace(az *z, const dr_be_request *req);
int az_get_job(az *z, dr_arena *a, int64_t now_ms, const char *job_id, dr_be_job *out, dr_be_error *err);
int az_list_jobs(az *z, dr_arena *a, int64_t now_ms, const dr_be_job_filter *f, dr_be_job **out, size_t *n,
		 dr_be_error *err);
/* The item's full id for an id or a name (names are looked up in the vault's list). */
const char *az_item_id(az *z, dr_arena *a, const char *id_or_name, dr_be_error *err);
/* Remember the names of listed items (az_item_id). */
void az_note_names(az *z, const dr_be_item *items, size_t n);
/* An item by id: GET it (ASR's data only); an id that moved (or answers 404 while the vault holds the same item
   elsewhere: A2A reprotect makes a new item in the other container) is followed to the item's id now. */
int az_fetch_item(az *z, dr_arena *a, const char *id, dr_be_item *out, dr_be_error *err);
/* Remember that the item old is now the item now (a switch protection job's newReplicationProtectedItemId). */
void az_note_moved(az *z, const char *old, const char *now);
/* The id the item old has now (in a), or NULL when it did not move. */
const char *az_moved(az *z, dr_arena *a, const char *id);
/* Remember a point's time (for jobs that used it). */
void az_note_point(az *z, const char *id, int64_t ms);
/* A record of the process's operations: by job id, else NULL (a copy in a). */
const az_rec *az_rec_of_job(az *z, dr_arena *a, const char *job_id);
void az_recs_free(az *z);

/* ---- azure_cache.c ------------------------------------------------------------------------------------- */

/* Keep an item of a list (its JSON), listed at now_ms (the caller's clock). */
void az_cache_listed(az *z, const cJSON *v, int64_t now_ms);
/* The item as a list showed it at most AZ_CACHE_TTL_MS ago, its lag aged since: true with *out; false: GET it.
   Only dr_backend_peek_item reads it. */
bool az_cache_take(az *z, dr_arena *a, const char *id, int64_t now_ms, dr_be_item *out);
/* The same copy as JSON (the caller cJSON_Deletes it), or NULL: for the failoverDirection of the post that the
   peek's look at this copy decided on (az_start, before it drops the copy). */
cJSON *az_cache_json(az *z, const char *id, int64_t now_ms);
/* The item is about to change (an operation on it): its listed copy is never served. */
void az_cache_drop(az *z, const char *id);
void az_cache_free(az *z);

/* ---- azure_vm.c -------------------------------------------------------------------------------------- */

/* Fill the VMs' power state, guest health and addresses of it from Compute and Network; what could not be
   seen for good (no access, no such VM, an address) goes to it->unseen. -1 with *err when Compute could not be
   asked (429, 5xx, a lost answer), with its class and Retry-After: the caller asks again later (dr.probe). */
int az_vm_facts(az *z, dr_arena *a, dr_be_item *it, dr_be_error *err);
/* The VM's power state from its instance view ("running", "stopping", "stopped", "deallocating",
   "deallocated", "starting", ...: PowerState/ without the prefix), in a; NULL with *err when unknown. */
const char *az_vm_power(az *z, dr_arena *a, const char *vm_id, dr_be_error *err);

#endif
