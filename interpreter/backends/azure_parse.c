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

/* ---- the members read (azure_int.h, AZ_FIELDS) ---------------------------------------------- */

const az_field az_fields[AZF_COUNT] = {
#define AZ_ROW(e, schema, parent, key, type) [AZF_##e] = {#e, schema, parent, key, type},
	AZ_FIELDS(AZ_ROW)
#undef AZ_ROW
};

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
	cJSON_ArrayForEach(nic, cJSON_GetObjectItem(psd, AZK(A2A_NICS)))
	{
		cJSON_ArrayForEach(ip, cJSON_GetObjectItem(nic, AZK(A2A_IPCONFIGS)))
		{
			if (cJSON_IsTrue(cJSON_GetObjectItem(ip, AZK(IP_PRIMARY))))
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
	const char *pid = az_str(psd, AZK(A2A_VM)), *rid = az_str(psd, AZK(A2A_RECOVERY_VM));
	const char *tid = az_str(psd, AZK(A2A_TFO_VM));
	bool testing = out->state == DR_BE_ST_TEST_FAILED_OVER || out->state == DR_BE_ST_TEST_FAILING_OVER ||
		       out->state == DR_BE_ST_TEST_CLEANING;
	out->primary_vm = (dr_be_vm){.exists = pid != NULL, .id = dup(a, pid), .region = out->primary_region,
				     .ip = out->primary_ip, .power = DR_BE_POWER_NONE, .since_ms = -1};
	out->recovery_vm = (dr_be_vm){.exists = rid != NULL, .id = dup(a, rid), .region = out->recovery_region,
				      .ip = out->recovery_ip, .power = DR_BE_POWER_NONE, .since_ms = -1};
	if (tid && testing) {
		const cJSON *ip = primary_ip_config(psd);
		const char *tip = az_str(ip, AZK(IP_TFO));
		bool on_recovery = out->active_location == DR_BE_PRIMARY;
		out->test_vm = (dr_be_vm){.exists = true, .id = dup(a, tid),
					  .region = on_recovery ? out->recovery_region : out->primary_region,
					  .ip = tip ? dup(a, tip) : on_recovery ? out->recovery_ip : out->primary_ip,
					  .power = DR_BE_POWER_NONE, .since_ms = -1};
	}
}

static void parse_a2a(dr_arena *a, const cJSON *psd, dr_be_item *out)
{
	const cJSON *rpo = cJSON_GetObjectItem(psd, AZK(A2A_RPO)), *ip = primary_ip_config(psd);
	out->primary_region = dup(a, az_str(psd, AZK(A2A_PRIMARY_LOC)));
	out->recovery_region = dup(a, az_str(psd, AZK(A2A_RECOVERY_LOC)));
	out->size = dup(a, az_str(psd, AZK(A2A_SIZE)));
	/* a number out of range (1e300) would overflow the cast: a lag of more than a year is "not known" */
	out->rpo_ms = cJSON_IsNumber(rpo) && rpo->valuedouble >= 0 && rpo->valuedouble < 366.0 * 86400
			      ? (int64_t)rpo->valuedouble * 1000
			      : -1;
	out->primary_ip = dup(a, az_str(ip, AZK(IP_STATIC)));
	out->recovery_ip = dup(a, az_str(ip, AZK(IP_RECOVERY)));
	parse_tags(a, az_path(psd, AZK(A2A_SYNCED), AZK(A2A_TAGS), NULL), out);
	parse_vm_ids(a, psd, out);
}

void az_parse_sides(const cJSON *v, az_sides *out)
{
	const cJSON *p = cJSON_GetObjectItem(v, AZK(ITEM_PROPS)), *psd = cJSON_GetObjectItem(p, AZK(ITEM_PSD));
	*out = (az_sides){.primary = az_str(psd, AZK(A2A_PRIMARY_LOC)),
			  .recovery = az_str(psd, AZK(A2A_RECOVERY_LOC)),
			  .initial_primary = az_str(psd, AZK(A2A_INITIAL_PRIMARY)),
			  .initial_recovery = az_str(psd, AZK(A2A_INITIAL_RECOVERY)),
			  .active = az_str(p, AZK(ITEM_ACTIVE))};
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
	const cJSON *cs = cJSON_GetObjectItem(p, AZK(ITEM_SCENARIO));
	const char *name = az_str(cs, AZK(SCEN_NAME)), *job = az_str(cs, AZK(SCEN_JOB));
	out->state = az_parse_state(out->protection_state, out->test_failover_state, name);
	if (job && !ieq(last_segment(job), "None") && scenario_state(name) == out->state && out->state != DR_BE_ST_OTHER)
		out->current_job_id = dr_arena_strdup(a, job);
}

static const char *provider_words(const char *type);

/* Why drover cannot operate an item of this provider (dr_be_item.unusable); NULL for A2A or none given. */
static const char *provider_unusable(dr_arena *a, const char *type)
{
	if (!type || ieq(type, AZ_PROVIDER))
		return NULL;
	return dr_arena_printf(a, "it is protected by %s (%s), not Azure-to-Azure (A2A), the only replication drover "
				  "drives: run its operations with Site Recovery's own tools, or leave it out of the "
				  "runbook's VM sets",
			       type, provider_words(type));
}

bool az_parse_item(dr_arena *a, const cJSON *v, dr_be_item *out)
{
	const char *id = az_str(v, AZK(RES_ID));
	const cJSON *p = cJSON_GetObjectItem(v, AZK(ITEM_PROPS));
	memset(out, 0, sizeof *out);
	if (az_parse_lacks(v, AZ_ITEM))
		return false;
	out->id = dr_arena_strdup(a, id);
	out->name = dup(a, az_str(p, AZK(ITEM_FRIENDLY)) ? az_str(p, AZK(ITEM_FRIENDLY)) : last_segment(id));
	out->protection_state = dup(a, az_str(p, AZK(ITEM_PSTATE)));
	out->protection_state_description = dup(a, az_str(p, AZK(ITEM_PSTATE_DESC)));
	out->test_failover_state = dup(a, az_str(p, AZK(ITEM_TFO_STATE)));
	out->test_failover_state_description = dup(a, az_str(p, AZK(ITEM_TFO_DESC)));
	out->active_location = ieq(az_str(p, AZK(ITEM_ACTIVE)), "Recovery") ? DR_BE_RECOVERY : DR_BE_PRIMARY;
	out->allowed_ops = allowed_mask(cJSON_GetObjectItem(p, AZK(ITEM_ALLOWED)));
	out->replication_health = dup(a, az_str(p, AZK(ITEM_HEALTH)));
	parse_scenario(a, p, out);
	out->failover_point_id = dup(a, az_str(p, AZK(ITEM_FO_POINT)));
	out->failover_point_ms = -1;
	out->last_failover_ms = time_of(p, AZK(ITEM_LAST_FO));
	out->last_test_failover_ms = time_of(p, AZK(ITEM_LAST_TFO));
	out->rpo_ms = -1;
	parse_a2a(a, cJSON_GetObjectItem(p, AZK(ITEM_PSD)), out);
	orient(v, out);
	out->unusable = provider_unusable(a, az_str(cJSON_GetObjectItem(p, AZK(ITEM_PSD)), AZK(PSD_TYPE)));
	return true;
}

void az_parse_unreadable(dr_arena *a, const cJSON *v, size_t index, dr_be_item *out)
{
	const cJSON *p = cJSON_GetObjectItem(v, AZK(ITEM_PROPS));
	const char *id = az_str(v, AZK(RES_ID)), *friendly = cJSON_IsObject(p) ? az_str(p, AZK(ITEM_FRIENDLY)) : NULL;
	const char *name = friendly ? friendly : az_str(v, AZK(RES_NAME)) ? az_str(v, AZK(RES_NAME)) : id ? last_segment(id) : NULL;
	memset(out, 0, sizeof *out);
	out->name = name ? dr_arena_strdup(a, name) : dr_arena_printf(a, "unreadable-item-%zu", index + 1);
	out->id = id ? dr_arena_strdup(a, id) : out->name;
	out->state = DR_BE_ST_OTHER;
	out->protection_state = "unknown";
	out->rpo_ms = out->failover_point_ms = out->last_failover_ms = out->last_test_failover_ms = -1;
	out->nameless = !friendly;
	out->unusable = dr_arena_printf(
		a, "the service's answer for this item (number %zu of the vault's list%s%s) lacks %s, which the contract "
		   "requires, so drover cannot read its %s: check the item in the vault (az site-recovery "
		   "protected-item show)%s",
		index + 1, id ? ", id " : "", id ? id : "", az_parse_lacks(v, AZ_ITEM),
		friendly ? "state" : "VM's name and state", friendly ? ", or leave it out of the runbook's VM sets" : "");
}

/* ---- recovery points ------------------------------------------------------------------------- */

bool az_parse_point(dr_arena *a, const cJSON *v, dr_be_point *out)
{
	const char *id = az_str(v, AZK(RES_ID)), *type;
	const cJSON *p = cJSON_GetObjectItem(v, AZK(POINT_PROPS));
	memset(out, 0, sizeof *out);
	if (az_parse_lacks(v, AZ_POINT))
		return false;
	out->time_ms = time_of(p, AZK(POINT_TIME)); /* optional: -1, undated, never chosen (backend.h) */
	type = az_str(p, AZK(POINT_TYPE));
	out->id = dr_arena_strdup(a, id);
	out->name = dup(a, az_str(v, AZK(RES_NAME)) ? az_str(v, AZK(RES_NAME)) : last_segment(id));
	out->type = type && strncasecmp(type, "App", 3) == 0 ? DR_BE_POINT_APP_CONSISTENT : DR_BE_POINT_CRASH_CONSISTENT;
	out->processed = true; /* the service lists the points it can recover to */
	return true;
}

void az_parse_point_unnamed(dr_arena *a, size_t index, dr_be_point *out)
{
	*out = (dr_be_point){.name = dr_arena_printf(a, "unnamed-point-%zu", index + 1), .time_ms = -1,
			     .type = DR_BE_POINT_CRASH_CONSISTENT};
	out->id = out->name;
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

/* The state s names; false (IN_PROGRESS: not done, keep polling) for "Other" and anything new. */
static bool job_state_known(const char *s, dr_be_job_state *out)
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
		if (ieq(states[i].name, s)) {
			*out = states[i].state;
			return true;
		}
	*out = DR_BE_JOB_IN_PROGRESS;
	return false;
}

dr_be_job_state az_parse_job_state(const char *s)
{
	dr_be_job_state st;
	job_state_known(s, &st);
	return st;
}

/* ServiceError, or ProviderError when the service gives only that. */
static void parse_job_error(dr_arena *a, const cJSON *e, dr_be_job_error *out)
{
	const cJSON *se = cJSON_GetObjectItem(e, AZK(JE_SERVICE)), *pe = cJSON_GetObjectItem(e, AZK(JE_PROVIDER));
	bool service = az_str(se, AZK(SE_CODE)) || az_str(se, AZK(SE_MESSAGE));
	const cJSON *num = cJSON_GetObjectItem(pe, AZK(PE_CODE));
	const char *code = az_str(se, AZK(SE_CODE));
	if (!code && cJSON_IsNumber(num))
		code = dr_arena_printf(a, "%.0f", num->valuedouble);
	out->warning = ieq(az_str(e, AZK(JE_LEVEL)), "Warning");
	out->error = (dr_be_error){
		.http_status = 0, .cls = DR_BE_ERR_PERMANENT, .code = dup(a, code ? code : "JobFailed"),
		.message = dup(a, az_str(se, AZK(SE_MESSAGE)) ? az_str(se, AZK(SE_MESSAGE)) : az_str(pe, AZK(PE_MESSAGE))),
		.possible_causes = dup(a, service ? az_str(se, AZK(SE_CAUSES)) : az_str(pe, AZK(PE_CAUSES))),
		.recommended_action = dup(a, service ? az_str(se, AZK(SE_ACTION)) : az_str(pe, AZK(PE_ACTION))),
		.retry_after_ms = -1,
	};
}

static const char *task_name_of(const cJSON *tasks, const char *task_id)
{
	const cJSON *t;
	cJSON_ArrayForEach(t, tasks)
	if (task_id && ieq(az_str(t, AZK(TASK_ID)), task_id))
		return az_str(t, AZK(TASK_FRIENDLY)) ? az_str(t, AZK(TASK_FRIENDLY)) : az_str(t, AZK(TASK_NAME));
	return NULL;
}

/* A manual action's instructions (customDetails: ManualActionTaskDetails), or NULL. */
static const char *instructions_of(dr_arena *a, const cJSON *t)
{
	const cJSON *d = cJSON_GetObjectItem(t, AZK(TASK_CUSTOM));
	const char *kind = az_str(d, AZK(TTD_TYPE)), *text = az_str(d, AZK(MANUAL_INSTR));
	if (!kind || strcasecmp(kind, "ManualActionTaskDetails") != 0)
		return NULL;
	return dup(a, text && *text ? text : az_str(d, AZK(MANUAL_NAME)) ? az_str(d, AZK(MANUAL_NAME)) : "a manual action");
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
		const char *name = az_str(t, AZK(TASK_FRIENDLY)) ? az_str(t, AZK(TASK_FRIENDLY)) : az_str(t, AZK(TASK_NAME));
		out->tasks[k++] = (dr_be_task){.name = dup(a, name ? name : "task"),
					       .state = az_parse_job_state(az_str(t, AZK(TASK_STATE))),
					       .start_ms = time_of(t, AZK(TASK_START)),
					       .end_ms = time_of(t, AZK(TASK_END)),
					       .instructions = instructions_of(a, t)};
	}
	out->n_tasks = k;
}

/* Errors of the job, and of its tasks when the job lists none. */
static void parse_errors(dr_arena *a, const cJSON *p, dr_be_job *out)
{
	const cJSON *tasks = cJSON_GetObjectItem(p, AZK(JOB_TASKS)), *errs = cJSON_GetObjectItem(p, AZK(JOB_ERRORS)), *t, *e;
	size_t n = (size_t)cJSON_GetArraySize(errs);
	cJSON_ArrayForEach(t, tasks) n += (size_t)cJSON_GetArraySize(cJSON_GetObjectItem(t, AZK(TASK_ERRORS)));
	out->errors = n ? dr_arena_calloc(a, n, sizeof *out->errors) : NULL;
	cJSON_ArrayForEach(e, errs)
	{
		parse_job_error(a, e, &out->errors[out->n_errors]);
		out->errors[out->n_errors++].task = dup(a, task_name_of(tasks, az_str(e, AZK(JE_TASK))));
	}
	if (out->n_errors)
		return;
	cJSON_ArrayForEach(t, tasks)
	{
		cJSON_ArrayForEach(e, cJSON_GetObjectItem(t, AZK(TASK_ERRORS)))
		{
			parse_job_error(a, e, &out->errors[out->n_errors]);
			out->errors[out->n_errors++].task =
				dup(a, az_str(t, AZK(TASK_FRIENDLY)) ? az_str(t, AZK(TASK_FRIENDLY)) : az_str(t, AZK(TASK_NAME)));
		}
	}
}

bool az_parse_job(dr_arena *a, const cJSON *v, dr_be_job *out, bool *op_known)
{
	const char *id = az_str(v, AZK(RES_ID));
	const cJSON *p = cJSON_GetObjectItem(v, AZK(JOB_PROPS));
	/* affectedObjectDetails is a map (additionalProperties: string): its keys are the service's, not the contract's */
	const cJSON *aff = az_path(p, AZK(JOB_CUSTOM), AZK(JD_AFFECTED), NULL);
	memset(out, 0, sizeof *out);
	*op_known = false;
	if (az_parse_lacks(v, AZ_JOB))
		return false;
	out->id = dr_arena_strdup(a, id);
	out->name = dup(a, az_str(v, AZK(RES_NAME)) ? az_str(v, AZK(RES_NAME)) : last_segment(id));
	out->scenario = dup(a, az_str(p, AZK(JOB_SCENARIO)));
	out->friendly_name = dup(a, az_str(p, AZK(JOB_FRIENDLY)));
	*op_known = az_parse_scenario(out->scenario, &out->op);
	if (!job_state_known(az_str(p, AZK(JOB_STATE)), &out->state)) /* "Other", a new state, or none */
		out->state_unknown = dr_arena_strdup(a, az_str(p, AZK(JOB_STATE)) ? az_str(p, AZK(JOB_STATE)) : "(none given)");
	out->state_description = dup(a, az_str(p, AZK(JOB_STATE_DESC)));
	out->start_ms = time_of(p, AZK(JOB_START));
	out->end_ms = dr_backend_job_done(out->state) ? time_of(p, AZK(JOB_END)) : -1;
	out->item_id = dup(a, az_str(aff, "ProtectedItemId") ? az_str(aff, "ProtectedItemId") : az_str(p, AZK(JOB_TARGET)));
	out->item_name = dup(a, az_str(p, AZK(JOB_TARGET_NAME)));
	out->point_id = dup(a, az_str(aff, "RecoveryPointId"));
	out->point_ms = -1;
	out->poll_after_ms = dr_backend_job_done(out->state) ? -1 : AZ_POLL_DEFAULT_MS;
	parse_tasks(a, cJSON_GetObjectItem(p, AZK(JOB_TASKS)), out);
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

/* ---- what an object cannot be read without, and the provider drover drives -------------------------------- */

const char *az_parse_lacks(const cJSON *v, az_kind k)
{
	static const az_field_id props[] = {[AZ_ITEM] = AZF_ITEM_PROPS, [AZ_POINT] = AZF_POINT_PROPS, [AZ_JOB] = AZF_JOB_PROPS};
	const cJSON *p = cJSON_IsObject(v) ? cJSON_GetObjectItem(v, az_fields[props[k]].key) : NULL;
	if (!az_str(v, AZK(RES_ID)))
		return AZK(RES_ID);
	if (k != AZ_POINT && !cJSON_IsObject(p)) /* a point's properties are optional: without them it is undated */
		return az_fields[props[k]].key;
	return NULL;
}

/* What the common provider types protect, for the refusal's words. */
static const char *provider_words(const char *type)
{
	static const struct {
		const char *type, *words;
	} known[] = {
		{"HyperVReplicaAzure", "Hyper-V VMs to Azure"},
		{"HyperVReplica2012R2", "Hyper-V VMs to a secondary site"},
		{"HyperVReplica2012", "Hyper-V VMs to a secondary site"},
		{"InMageRcm", "VMware VMs and physical servers to Azure (modernized)"},
		{"InMageAzureV2", "VMware VMs and physical servers to Azure (classic)"},
		{"InMage", "VMware VMs to a secondary site"},
		{"InMageRcmFailback", "failback of VMware VMs from Azure"},
		{"A2ACrossClusterMigration", "a cross-cluster migration"},
	};
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (ieq(known[i].type, type))
			return known[i].words;
	return "a provider drover does not know";
}

int az_provider_refusal(dr_arena *a, const cJSON *v, dr_be_op op, dr_be_error *err)
{
	const cJSON *p = cJSON_GetObjectItem(v, AZK(ITEM_PROPS));
	const char *type = az_str(cJSON_GetObjectItem(p, AZK(ITEM_PSD)), AZK(PSD_TYPE));
	if (!type || ieq(type, AZ_PROVIDER))
		return 0;
	const char *id = az_str(v, AZK(RES_ID)), *name = az_str(p, AZK(ITEM_FRIENDLY));
	return dr_backend_fail(
		err, a, 400, DR_BE_ERR_PERMANENT, "ProviderNotSupported",
		dr_arena_printf(a, "The item's providerSpecificDetails.instanceType is %s (%s); drover builds the "
				   "requests of Azure-to-Azure (A2A) replication only.",
				type, provider_words(type)),
		dr_arena_printf(a, "Run %s of this VM with Site Recovery's own tools for %s (the portal, a recovery "
				   "plan), or leave it out of the runbook's VM sets.",
				dr_backend_op_name(op), type),
		"%s of '%s' was not sent: the item is protected by %s, not A2A (nothing was asked of the service).",
		dr_backend_op_name(op), name ? name : id ? last_segment(id) : "?", type);
}
