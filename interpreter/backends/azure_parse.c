/*
 * backends/azure_parse.c - Azure Site Recovery's JSON into backend.h's
 * types, read from the OpenAPI contract's definitions (asr-api.md §1.5):
 * ReplicationProtectedItem with A2AReplicationDetails, RecoveryPoint, Job
 * with ASRTask and JobErrorDetails, and ARM's and ASR's error envelopes
 * (§2.4). Pure functions: no I/O, strings copied into the caller's arena.
 *
 * Tolerance. The service returns fields and values no example shows:
 * unknown members are ignored, unknown protection states become OTHER
 * with the raw strings kept, unknown allowed operations are ignored,
 * unknown job states count as still running, a missing optional member is
 * "not known" (-1, NULL), and member names are matched ignoring case
 * (cJSON_GetObjectItem), as the service's own serialisers do.
 */
#include "backends/azure_int.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- small readers ------------------------------------------------------------------- */

const char *az_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_IsObject(o) ? cJSON_GetObjectItem(o, key) : NULL;
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

const cJSON *az_path(const cJSON *o, ...)
{
	va_list ap;
	va_start(ap, o);
	for (const char *k; o && (k = va_arg(ap, const char *)) != NULL;)
		o = cJSON_IsObject(o) ? cJSON_GetObjectItem(o, k) : NULL;
	va_end(ap);
	return o;
}

void *az_grow(dr_arena *a, void *v, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return v;
	size_t ncap = *cap ? *cap * 2 : 64;
	void *nv = dr_arena_calloc(a, ncap, size);
	if (n)
		memcpy(nv, v, n * size);
	*cap = ncap;
	return nv;
}

static const char *dup(dr_arena *a, const char *s)
{
	return s ? dr_arena_strdup(a, s) : NULL;
}

/* A time member in Unix ms; -1 when absent or malformed (ASR's "1753-01-01" placeholder included). */
static int64_t time_of(const cJSON *o, const char *key)
{
	int64_t ms;
	const char *s = az_str(o, key);
	if (!s || !dr_backend_parse_time(s, &ms) || ms < 0)
		return -1;
	return ms;
}

static const char *last_segment(const char *id)
{
	const char *slash = id ? strrchr(id, '/') : NULL;
	return slash ? slash + 1 : id;
}

static bool ieq(const char *a, const char *b)
{
	return a && b && strcasecmp(a, b) == 0;
}

/* ---- states ------------------------------------------------------------------------------ */

/* scenarioName of a running job to the state it puts the item in. */
static const struct {
	const char *scenario;
	dr_be_op op;
	dr_be_state state;
} scenarios[] = {
	{"UnplannedFailover", DR_BE_OP_FAILOVER, DR_BE_ST_FAILING_OVER},
	{"PlannedFailover", DR_BE_OP_FAILOVER, DR_BE_ST_FAILING_OVER},
	{"Failover", DR_BE_OP_FAILOVER, DR_BE_ST_FAILING_OVER},
	{"TestFailover", DR_BE_OP_TEST_FAILOVER, DR_BE_ST_TEST_FAILING_OVER},
	{"TestFailoverCleanup", DR_BE_OP_TEST_CLEANUP, DR_BE_ST_TEST_CLEANING},
	{"CleanupTestFailover", DR_BE_OP_TEST_CLEANUP, DR_BE_ST_TEST_CLEANING},
	{"ChangeRecoveryPoint", DR_BE_OP_CHANGE_POINT, DR_BE_ST_CHANGING_POINT},
	{"ApplyRecoveryPoint", DR_BE_OP_CHANGE_POINT, DR_BE_ST_CHANGING_POINT},
	{"ChangePit", DR_BE_OP_CHANGE_POINT, DR_BE_ST_CHANGING_POINT},
	{"CommitFailover", DR_BE_OP_COMMIT, DR_BE_ST_COMMITTING},
	{"Commit", DR_BE_OP_COMMIT, DR_BE_ST_COMMITTING},
	{"CancelFailover", DR_BE_OP_CANCEL_FAILOVER, DR_BE_ST_CANCELLING},
	{"Reprotect", DR_BE_OP_REPROTECT, DR_BE_ST_REPROTECTING},
	{"ReverseReplicate", DR_BE_OP_REPROTECT, DR_BE_ST_REPROTECTING},
	{"SwitchProtection", DR_BE_OP_REPROTECT, DR_BE_ST_REPROTECTING},
	{"ShutdownVm", DR_BE_OP_SHUTDOWN, DR_BE_ST_OTHER},
};
#define N_SCENARIOS (sizeof scenarios / sizeof scenarios[0])

bool az_parse_scenario(const char *scenario, dr_be_op *out)
{
	for (size_t i = 0; scenario && i < N_SCENARIOS; i++)
		if (ieq(scenarios[i].scenario, scenario)) {
			*out = scenarios[i].op;
			return true;
		}
	return false;
}

/* protectionState strings (observed and the simulator's, asr-api.md §1.7). */
static const struct {
	const char *name;
	dr_be_state state;
} protection_states[] = {
	{"Protected", DR_BE_ST_PROTECTED},
	{"UnplannedFailoverInProgress", DR_BE_ST_FAILING_OVER},
	{"PlannedFailoverInProgress", DR_BE_ST_FAILING_OVER},
	{"UnplannedFailoverCommitPendingStatesBegin", DR_BE_ST_FAILED_OVER},
	{"PlannedFailoverCommitPendingStatesBegin", DR_BE_ST_FAILED_OVER},
	{"FailoverCommitPending", DR_BE_ST_FAILED_OVER},
	{"ChangeRecoveryPointInProgress", DR_BE_ST_CHANGING_POINT},
	{"UnplannedFailoverCommitInProgress", DR_BE_ST_COMMITTING},
	{"CancelFailoverInProgress", DR_BE_ST_CANCELLING},
	{"UnplannedFailoverCommitted", DR_BE_ST_COMMITTED},
	{"PlannedFailoverCommitted", DR_BE_ST_COMMITTED},
	{"FailoverCommitted", DR_BE_ST_COMMITTED},
	{"ReprotectInProgress", DR_BE_ST_REPROTECTING},
};

/* While protected, the test failover's progress. */
static dr_be_state test_state(const char *ts)
{
	if (ieq(ts, "WaitingForCompletion"))
		return DR_BE_ST_TEST_FAILED_OVER;
	if (ieq(ts, "InProgress"))
		return DR_BE_ST_TEST_FAILING_OVER;
	if (ieq(ts, "MarkedForDeletion") || ieq(ts, "CleanupInProgress"))
		return DR_BE_ST_TEST_CLEANING;
	return DR_BE_ST_PROTECTED;
}

/* The state a running scenario puts the item in; OTHER when none runs (or it is not the item's). */
static dr_be_state scenario_state(const char *scenario)
{
	for (size_t i = 0; scenario && i < N_SCENARIOS; i++)
		if (ieq(scenarios[i].scenario, scenario))
			return scenarios[i].state;
	return DR_BE_ST_OTHER;
}

/*
 * A test failover waiting for its cleanup wins (the service keeps its
 * scenario current until then, as Microsoft's TestFailover example shows);
 * then a running scenario; then protectionState; unknown strings are OTHER.
 */
dr_be_state az_parse_state(const char *ps, const char *ts, const char *scenario)
{
	if (ieq(ps, "Protected") && ieq(ts, "WaitingForCompletion"))
		return DR_BE_ST_TEST_FAILED_OVER;
	if (scenario_state(scenario) != DR_BE_ST_OTHER)
		return scenario_state(scenario);
	for (size_t i = 0; i < sizeof protection_states / sizeof protection_states[0]; i++)
		if (ieq(protection_states[i].name, ps))
			return protection_states[i].state == DR_BE_ST_PROTECTED ? test_state(ts) : protection_states[i].state;
	return DR_BE_ST_OTHER;
}

/* allowedOperations to the interface's mask; names it does not know are left out. */
static unsigned allowed_mask(const cJSON *arr)
{
	unsigned mask = 0;
	const cJSON *v;
	cJSON_ArrayForEach(v, arr)
	{
		if (!cJSON_IsString(v))
			continue;
		if (ieq(v->valuestring, "SwitchProtection"))
			mask |= DR_BE_OP_BIT(DR_BE_OP_REPROTECT);
		for (int i = 0; i < DR_BE_OP_COUNT; i++)
			if (ieq(dr_backend_op_asr_name((dr_be_op)i), v->valuestring))
				mask |= DR_BE_OP_BIT(i);
	}
	return mask;
}

/* ---- items --------------------------------------------------------------------------------- */

static void parse_tags(dr_arena *a, const cJSON *tags, dr_be_item *out)
{
	size_t n = (size_t)cJSON_GetArraySize(tags), k = 0;
	if (!cJSON_IsObject(tags) || !n)
		return;
	const char **keys = dr_arena_calloc(a, n, sizeof *keys), **vals = dr_arena_calloc(a, n, sizeof *vals);
	const cJSON *t;
	cJSON_ArrayForEach(t, tags)
	{
		if (!cJSON_IsString(t) || !t->string)
			continue;
		keys[k] = dr_arena_strdup(a, t->string);
		vals[k++] = dr_arena_strdup(a, t->valuestring);
	}
	out->tag_keys = keys, out->tag_values = vals, out->n_tags = k;
}

/* The primary IP configuration of the first NIC (vmNics[].ipConfigs[]): where the addresses are. */
static const cJSON *primary_ip_config(const cJSON *psd)
{
	const cJSON *nic, *ip, *first = NULL;
	cJSON_ArrayForEach(nic, cJSON_GetObjectItem(psd, "vmNics"))
	{
		cJSON_ArrayForEach(ip, cJSON_GetObjectItem(nic, "ipConfigs"))
		{
			if (cJSON_IsTrue(cJSON_GetObjectItem(ip, "isPrimary")))
				return ip;
			if (!first)
				first = ip;
		}
	}
	return first;
}

static void parse_vm_ids(dr_arena *a, const cJSON *psd, dr_be_item *out)
{
	dr_be_vm none = {.power = DR_BE_POWER_NONE, .health = DR_BE_HEALTH_UNKNOWN, .since_ms = -1};
	out->primary_vm = out->recovery_vm = out->test_vm = none;
	const char *pid = az_str(psd, "fabricObjectId"), *rid = az_str(psd, "recoveryFabricObjectId");
	const char *tid = az_str(psd, "testFailoverRecoveryFabricObjectId");
	bool testing = out->state == DR_BE_ST_TEST_FAILED_OVER || out->state == DR_BE_ST_TEST_FAILING_OVER ||
		       out->state == DR_BE_ST_TEST_CLEANING;
	out->primary_vm = (dr_be_vm){.exists = pid != NULL, .id = dup(a, pid), .region = out->primary_region,
				     .ip = out->primary_ip, .power = DR_BE_POWER_NONE, .since_ms = -1};
	out->recovery_vm = (dr_be_vm){.exists = rid != NULL, .id = dup(a, rid), .region = out->recovery_region,
				      .ip = out->recovery_ip, .power = DR_BE_POWER_NONE, .since_ms = -1};
	if (tid && testing) {
		const cJSON *ip = primary_ip_config(psd);
		const char *tip = az_str(ip, "tfoStaticIPAddress");
		bool on_recovery = out->active_location == DR_BE_PRIMARY;
		out->test_vm = (dr_be_vm){.exists = true, .id = dup(a, tid),
					  .region = on_recovery ? out->recovery_region : out->primary_region,
					  .ip = tip ? dup(a, tip) : on_recovery ? out->recovery_ip : out->primary_ip,
					  .power = DR_BE_POWER_NONE, .since_ms = -1};
	}
}

static void parse_a2a(dr_arena *a, const cJSON *psd, dr_be_item *out)
{
	const cJSON *rpo = cJSON_GetObjectItem(psd, "rpoInSeconds"), *ip = primary_ip_config(psd);
	out->primary_region = dup(a, az_str(psd, "primaryFabricLocation"));
	out->recovery_region = dup(a, az_str(psd, "recoveryFabricLocation"));
	out->size = dup(a, az_str(psd, "recoveryAzureVMSize"));
	out->rpo_ms = cJSON_IsNumber(rpo) && rpo->valuedouble >= 0 ? (int64_t)rpo->valuedouble * 1000 : -1;
	out->primary_ip = dup(a, az_str(ip, "staticIPAddress"));
	out->recovery_ip = dup(a, az_str(ip, "recoveryStaticIPAddress"));
	parse_tags(a, az_path(psd, "vmSyncedConfigDetails", "tags", NULL), out);
	parse_vm_ids(a, psd, out);
}

void az_parse_sides(const cJSON *v, az_sides *out)
{
	const cJSON *p = cJSON_GetObjectItem(v, "properties"), *psd = cJSON_GetObjectItem(p, "providerSpecificDetails");
	*out = (az_sides){.primary = az_str(psd, "primaryFabricLocation"),
			  .recovery = az_str(psd, "recoveryFabricLocation"),
			  .initial_primary = az_str(psd, "initialPrimaryFabricLocation"),
			  .initial_recovery = az_str(psd, "initialRecoveryFabricLocation"),
			  .active = az_str(p, "activeLocation")};
}

bool az_sides_flipped(const az_sides *s)
{
	return s->primary && s->recovery && !ieq(s->primary, s->recovery) && ieq(s->initial_primary, s->recovery) &&
	       ieq(s->initial_recovery, s->primary);
}

static void swap_str(const char **x, const char **y)
{
	const char *t = *x;
	*x = *y;
	*y = t;
}

/* A reprotected item seen from its new primary: back to its first direction's view. */
static void orient(const cJSON *v, dr_be_item *out)
{
	az_sides s;
	az_parse_sides(v, &s);
	if (!az_sides_flipped(&s))
		return;
	swap_str(&out->primary_region, &out->recovery_region);
	swap_str(&out->primary_ip, &out->recovery_ip);
	dr_be_vm t = out->primary_vm;
	out->primary_vm = out->recovery_vm;
	out->recovery_vm = t;
	out->active_location = out->active_location == DR_BE_PRIMARY ? DR_BE_RECOVERY : DR_BE_PRIMARY;
}

/* The running scenario's job, when the state says one runs. */
static void parse_scenario(dr_arena *a, const cJSON *p, dr_be_item *out)
{
	const cJSON *cs = cJSON_GetObjectItem(p, "currentScenario");
	const char *name = az_str(cs, "scenarioName"), *job = az_str(cs, "jobId");
	out->state = az_parse_state(out->protection_state, out->test_failover_state, name);
	if (job && !ieq(last_segment(job), "None") && scenario_state(name) == out->state && out->state != DR_BE_ST_OTHER)
		out->current_job_id = dr_arena_strdup(a, job);
}

bool az_parse_item(dr_arena *a, const cJSON *v, dr_be_item *out)
{
	const char *id = az_str(v, "id");
	const cJSON *p = cJSON_GetObjectItem(v, "properties");
	memset(out, 0, sizeof *out);
	if (!id || !cJSON_IsObject(p))
		return false;
	out->id = dr_arena_strdup(a, id);
	out->name = dup(a, az_str(p, "friendlyName") ? az_str(p, "friendlyName") : last_segment(id));
	out->protection_state = dup(a, az_str(p, "protectionState"));
	out->protection_state_description = dup(a, az_str(p, "protectionStateDescription"));
	out->test_failover_state = dup(a, az_str(p, "testFailoverState"));
	out->test_failover_state_description = dup(a, az_str(p, "testFailoverStateDescription"));
	out->active_location = ieq(az_str(p, "activeLocation"), "Recovery") ? DR_BE_RECOVERY : DR_BE_PRIMARY;
	out->allowed_ops = allowed_mask(cJSON_GetObjectItem(p, "allowedOperations"));
	out->replication_health = dup(a, az_str(p, "replicationHealth"));
	parse_scenario(a, p, out);
	out->failover_point_id = dup(a, az_str(p, "failoverRecoveryPointId"));
	out->failover_point_ms = -1;
	out->last_failover_ms = time_of(p, "lastSuccessfulFailoverTime");
	out->last_test_failover_ms = time_of(p, "lastSuccessfulTestFailoverTime");
	out->rpo_ms = -1;
	parse_a2a(a, cJSON_GetObjectItem(p, "providerSpecificDetails"), out);
	orient(v, out);
	return true;
}

/* ---- recovery points ------------------------------------------------------------------------- */

bool az_parse_point(dr_arena *a, const cJSON *v, dr_be_point *out)
{
	const char *id = az_str(v, "id"), *type;
	const cJSON *p = cJSON_GetObjectItem(v, "properties");
	memset(out, 0, sizeof *out);
	out->time_ms = time_of(p, "recoveryPointTime");
	if (!id || out->time_ms < 0)
		return false;
	type = az_str(p, "recoveryPointType");
	out->id = dr_arena_strdup(a, id);
	out->name = dup(a, az_str(v, "name") ? az_str(v, "name") : last_segment(id));
	out->type = type && strncasecmp(type, "App", 3) == 0 ? DR_BE_POINT_APP_CONSISTENT : DR_BE_POINT_CRASH_CONSISTENT;
	out->processed = true; /* the service lists the points it can recover to */
	return true;
}

static int newest_first(const void *x, const void *y)
{
	const dr_be_point *p = x, *q = y;
	return p->time_ms < q->time_ms ? 1 : p->time_ms > q->time_ms ? -1 : strcmp(p->name, q->name);
}

void az_sort_points(dr_be_point *pts, size_t n)
{
	if (n > 1)
		qsort(pts, n, sizeof *pts, newest_first);
}

/* ---- jobs -------------------------------------------------------------------------------------- */

dr_be_job_state az_parse_job_state(const char *s)
{
	static const struct {
		const char *name;
		dr_be_job_state state;
	} states[] = {
		{"NotStarted", DR_BE_JOB_NOT_STARTED}, {"InProgress", DR_BE_JOB_IN_PROGRESS},
		{"Succeeded", DR_BE_JOB_SUCCEEDED},    {"PartiallySucceeded", DR_BE_JOB_SUCCEEDED},
		{"CompletedWithInformation", DR_BE_JOB_SUCCEEDED}, {"Failed", DR_BE_JOB_FAILED},
		{"Cancelled", DR_BE_JOB_CANCELLED},    {"Canceled", DR_BE_JOB_CANCELLED},
		{"Suspended", DR_BE_JOB_SUSPENDED},    {"Skipped", DR_BE_JOB_SKIPPED},
	};
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		if (ieq(states[i].name, s))
			return states[i].state;
	return DR_BE_JOB_IN_PROGRESS; /* "Other" and anything new: not done, keep polling */
}

/* ServiceError, or ProviderError when the service gives only that. */
static void parse_job_error(dr_arena *a, const cJSON *e, dr_be_job_error *out)
{
	const cJSON *se = cJSON_GetObjectItem(e, "serviceErrorDetails"), *pe = cJSON_GetObjectItem(e, "providerErrorDetails");
	const cJSON *src = az_str(se, "code") || az_str(se, "message") ? se : pe;
	const cJSON *num = cJSON_GetObjectItem(pe, "errorCode");
	const char *code = az_str(se, "code");
	if (!code && cJSON_IsNumber(num))
		code = dr_arena_printf(a, "%.0f", num->valuedouble);
	out->warning = ieq(az_str(e, "errorLevel"), "Warning");
	out->error = (dr_be_error){
		.http_status = 0, .cls = DR_BE_ERR_PERMANENT, .code = dup(a, code ? code : "JobFailed"),
		.message = dup(a, az_str(se, "message") ? az_str(se, "message") : az_str(pe, "errorMessage")),
		.possible_causes = dup(a, az_str(src, "possibleCauses")),
		.recommended_action = dup(a, az_str(src, "recommendedAction")), .retry_after_ms = -1,
	};
}

static const char *task_name_of(const cJSON *tasks, const char *task_id)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, tasks)
	if (task_id && ieq(az_str(t, "taskId"), task_id))
		return az_str(t, "friendlyName") ? az_str(t, "friendlyName") : az_str(t, "name");
	return NULL;
}

/* A manual action's instructions (customDetails: ManualActionTaskDetails), or NULL. */
static const char *instructions_of(dr_arena *a, const cJSON *t)
{
	const cJSON *d = cJSON_GetObjectItem(t, "customDetails");
	const char *kind = az_str(d, "instanceType"), *text = az_str(d, "instructions");
	if (!kind || strcasecmp(kind, "ManualActionTaskDetails") != 0)
		return NULL;
	return dup(a, text && *text ? text : az_str(d, "name") ? az_str(d, "name") : "a manual action");
}

static void parse_tasks(dr_arena *a, const cJSON *tasks, dr_be_job *out)
{
	size_t n = (size_t)cJSON_GetArraySize(tasks), k = 0;
	const cJSON *t;
	out->tasks = n ? dr_arena_calloc(a, n, sizeof *out->tasks) : NULL;
	cJSON_ArrayForEach(t, tasks)
	{
		if (!cJSON_IsObject(t))
			continue;
		const char *name = az_str(t, "friendlyName") ? az_str(t, "friendlyName") : az_str(t, "name");
		out->tasks[k++] = (dr_be_task){.name = dup(a, name ? name : "task"),
					       .state = az_parse_job_state(az_str(t, "state")),
					       .start_ms = time_of(t, "startTime"),
					       .end_ms = time_of(t, "endTime"),
					       .instructions = instructions_of(a, t)};
	}
	out->n_tasks = k;
}

/* Errors of the job, and of its tasks when the job lists none. */
static void parse_errors(dr_arena *a, const cJSON *p, dr_be_job *out)
{
	const cJSON *tasks = cJSON_GetObjectItem(p, "tasks"), *errs = cJSON_GetObjectItem(p, "errors"), *t, *e;
	size_t n = (size_t)cJSON_GetArraySize(errs);
	cJSON_ArrayForEach(t, tasks) n += (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(t, "errors"));
	out->errors = n ? dr_arena_calloc(a, n, sizeof *out->errors) : NULL;
	cJSON_ArrayForEach(e, errs)
	{
		parse_job_error(a, e, &out->errors[out->n_errors]);
		out->errors[out->n_errors++].task = dup(a, task_name_of(tasks, az_str(e, "taskId")));
	}
	if (out->n_errors)
		return;
	cJSON_ArrayForEach(t, tasks)
	{
		cJSON_ArrayForEach(e, cJSON_GetObjectItem(t, "errors"))
		{
			parse_job_error(a, e, &out->errors[out->n_errors]);
			out->errors[out->n_errors++].task =
				dup(a, az_str(t, "friendlyName") ? az_str(t, "friendlyName") : az_str(t, "name"));
		}
	}
}

bool az_parse_job(dr_arena *a, const cJSON *v, dr_be_job *out, bool *op_known)
{
	const char *id = az_str(v, "id");
	const cJSON *p = cJSON_GetObjectItem(v, "properties");
	const cJSON *aff = az_path(p, "customDetails", "affectedObjectDetails", NULL);
	memset(out, 0, sizeof *out);
	if (!id || !cJSON_IsObject(p))
		return false;
	out->id = dr_arena_strdup(a, id);
	out->name = dup(a, az_str(v, "name") ? az_str(v, "name") : last_segment(id));
	out->scenario = dup(a, az_str(p, "scenarioName"));
	out->friendly_name = dup(a, az_str(p, "friendlyName"));
	*op_known = az_parse_scenario(out->scenario, &out->op);
	out->state = az_parse_job_state(az_str(p, "state"));
	out->state_description = dup(a, az_str(p, "stateDescription"));
	out->start_ms = time_of(p, "startTime");
	out->end_ms = dr_backend_job_done(out->state) ? time_of(p, "endTime") : -1;
	out->item_id = dup(a, az_str(aff, "ProtectedItemId") ? az_str(aff, "ProtectedItemId") : az_str(p, "targetObjectId"));
	out->item_name = dup(a, az_str(p, "targetObjectName"));
	out->point_id = dup(a, az_str(aff, "RecoveryPointId"));
	out->point_ms = -1;
	out->poll_after_ms = dr_backend_job_done(out->state) ? -1 : AZ_POLL_DEFAULT_MS;
	parse_tasks(a, cJSON_GetObjectItem(p, "tasks"), out);
	parse_errors(a, p, out);
	return true;
}

const char *az_parse_activity_rid(dr_arena *a, const char *activity_id)
{
	if (!activity_id)
		return NULL;
	const char *marker = strstr(activity_id, " ActivityId:");
	size_t n = marker ? (size_t)(marker - activity_id) : strcspn(activity_id, " ");
	return dr_arena_strndup(a, activity_id, n);
}

const char *az_parse_job_name(dr_arena *a, const char *url)
{
	static const char *const marks[] = {"/operationresults/", "/replicationOperationStatus/", "/replicationJobs/"};
	if (!url)
		return NULL;
	for (size_t i = 0; i < sizeof marks / sizeof marks[0]; i++) {
		const char *at = strcasestr(url, marks[i]);
		if (!at)
			continue;
		at += strlen(marks[i]);
		size_t n = strcspn(at, "/?#");
		if (n)
			return dr_arena_strndup(a, at, n);
	}
	return NULL;
}

/* ---- errors ------------------------------------------------------------------------------------------- */

static dr_be_errclass class_of(long status, const char *code)
{
	if (status == 429)
		return DR_BE_ERR_THROTTLED;
	if (status == 0 || status == 408 || status >= 500)
		return DR_BE_ERR_TRANSIENT;
	if (status == 401 && ieq(code, "ExpiredAuthenticationToken"))
		return DR_BE_ERR_TRANSIENT; /* a fresh token next time may do (clock skew, a short-lived token) */
	if (status == 409 && !ieq(code, "IdempotencyKeyConflict"))
		return DR_BE_ERR_TRANSIENT; /* the item is busy: ASR's OperationInProgress */
	return DR_BE_ERR_PERMANENT;
}

static const char *status_code(long status)
{
	switch (status) {
	case 400: return "BadRequest";
	case 401: return "AuthenticationFailed";
	case 403: return "AuthorizationFailed";
	case 404: return "NotFound";
	case 409: return "Conflict";
	case 429: return "TooManyRequests";
	case 500: return "InternalServerError";
	case 502: return "BadGateway";
	case 503: return "ServiceUnavailable";
	case 504: return "GatewayTimeout";
	default: return "HttpError";
	}
}

int az_parse_error(dr_arena *a, long status, const cJSON *body, const char *rid, dr_be_error *err)
{
	const cJSON *e = cJSON_GetObjectItem(body, "error");
	const cJSON *d = cJSON_GetArrayItem(cJSON_GetObjectItem(e, "details"), 0);
	if (!cJSON_IsObject(e) && cJSON_IsObject(body) && az_str(body, "code"))
		e = body; /* a bare {code, message} */
	const char *code = az_str(d, "code") ? az_str(d, "code") : az_str(e, "code");
	const char *msg = az_str(d, "message") ? az_str(d, "message") : az_str(e, "message");
	*err = (dr_be_error){
		.http_status = (int)status,
		.code = dr_arena_strdup(a, code ? code : status_code(status)),
		.message = dr_arena_strdup(a, msg ? msg : dr_arena_printf(a, "The service answered HTTP %ld.", status)),
		.possible_causes = dup(a, az_str(d, "possibleCauses") ? az_str(d, "possibleCauses") : az_str(e, "possibleCauses")),
		.recommended_action = dup(a, az_str(d, "recommendedAction") ? az_str(d, "recommendedAction")
									     : az_str(e, "recommendedAction")),
		.retry_after_ms = -1,
		.request_id = dup(a, rid),
	};
	err->cls = class_of(status, err->code);
	return -1;
}
