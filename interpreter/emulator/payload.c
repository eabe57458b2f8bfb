/*
 * emulator/payload.c - response bodies in the shapes of the contract's
 * definitions (ReplicationProtectedItem with A2AReplicationDetails,
 * RecoveryPoint with A2ARecoveryPointDetails, Job with ASRTask and
 * JobErrorDetails; an item a `provider` fault gives another provider has
 * that provider's details, fabric and point details), and the two error
 * envelopes.
 *
 * Errors. ARM's own refusals (authentication, api-version, throttling,
 * unknown resources) use ARM's envelope {"error":{"code","message"}}. The
 * service's refusals use ASR's: a generic code at the top ("BadRequest",
 * "NotFound", "Conflict", ...) and the service's own code, message,
 * possible causes and recommended action in error.details[0], with the
 * client request id, as a captured ASR error shows (asr-api.md §2.4).
 *
 * Names. The simulator's items live in fabric "asr-a2a-default-<region>",
 * container "asr-a2a-default-<region>-container", one per region; each
 * container maps to the other region's under one replication policy, in
 * both directions (reprotect uses the reverse mapping).
 *
 * Views. The simulator keeps one view of an item for its whole life: its
 * primary region is where it was first protected from. A reprotect
 * (switch protection) makes the service show a new item in the other
 * region's container, seen from that side: its primary fabric is the
 * former recovery region and, once it replicates, its activeLocation is
 * Primary; only initialPrimaryFabricLocation and
 * initialRecoveryFabricLocation keep the first direction. Items whose id
 * is in their recovery region's container are served so (emu_view), and
 * failoverDirection is read back through the same mapping
 * (emu_sim_direction).
 */
#include "emulator/emu_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "backends/sim.h"

#define POLICY "24-hour-retention-policy"

void emu_header(emu_resp *rs, dr_arena *a, const char *name, const char *value)
{
	if (rs->n_headers == EMU_MAX_HEADERS)
		return;
	rs->hk[rs->n_headers] = dr_arena_strdup(a, name);
	rs->hv[rs->n_headers++] = dr_arena_strdup(a, value);
}

void emu_json(emu_resp *rs, int status, cJSON *v)
{
	char *text = cJSON_PrintUnformatted(v);
	rs->status = status;
	dr_buf_reset(&rs->body);
	dr_buf_puts(&rs->body, text);
	cJSON_free(text);
	cJSON_Delete(v);
}

void emu_arm_error(emu_resp *rs, int status, const char *code, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(e, "code", code);
	cJSON_AddStringToObject(e, "message", msg);
	rs->audit_note = code;
	emu_json(rs, status, o);
}

static const char *generic_code(int status)
{
	switch (status) {
	case 404: return "NotFound";
	case 409: return "Conflict";
	case 429: return "TooManyRequests";
	case 500: return "InternalServerError";
	case 503: return "ServiceUnavailable";
	default: return "BadRequest";
	}
}

static void put_opt(cJSON *o, const char *key, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, key, v);
}

void emu_asr_error(emu_call *c, const dr_be_error *err)
{
	int status = err->http_status ? err->http_status : 500;
	cJSON *o = cJSON_CreateObject(), *e = cJSON_AddObjectToObject(o, "error");
	cJSON_AddStringToObject(e, "code", generic_code(status));
	cJSON_AddStringToObject(e, "message", err->message ? err->message : "");
	cJSON *d = cJSON_CreateObject();
	cJSON_AddItemToArray(cJSON_AddArrayToObject(e, "details"), d);
	cJSON_AddStringToObject(d, "code", err->code ? err->code : generic_code(status));
	cJSON_AddStringToObject(d, "message", err->message ? err->message : "");
	put_opt(d, "possibleCauses", err->possible_causes);
	put_opt(d, "recommendedAction", err->recommended_action);
	put_opt(d, "clientRequestId", c->rq->client_request_id);
	cJSON_AddStringToObject(d, "activityId", c->rq->client_request_id ? c->rq->client_request_id : "");
	if (err->retry_after_ms >= 0) {
		char ra[32];
		snprintf(ra, sizeof ra, "%lld", (long long)((err->retry_after_ms + 999) / 1000));
		emu_header(c->rs, c->a, "Retry-After", ra);
	}
	c->rs->audit_note = err->code;
	emu_json(c->rs, status, o);
}

const char *emu_time(dr_arena *a, int64_t ms)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	return dr_arena_printf(a, "%04d-%02d-%02dT%02d:%02d:%02d.%03d0000Z", tm.tm_year + 1900, tm.tm_mon + 1,
			       tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

/* ---- names ------------------------------------------------------------------------------ */

const char *emu_fabric_name(dr_arena *a, const char *region)
{
	return dr_arena_printf(a, "asr-a2a-default-%s", region);
}

const char *emu_container_name(dr_arena *a, const char *region)
{
	return dr_arena_printf(a, "asr-a2a-default-%s-container", region);
}

const char *emu_container_id(dr_emu *e, dr_arena *a, const char *region)
{
	return dr_arena_printf(a, "%s/replicationFabrics/%s/replicationProtectionContainers/%s", e->vault_id,
			       emu_fabric_name(a, region), emu_container_name(a, region));
}

const char *emu_policy_id(dr_emu *e, dr_arena *a)
{
	return dr_arena_printf(a, "%s/replicationPolicies/%s", e->vault_id, POLICY);
}

/* ---- items ----------------------------------------------------------------------------- */

static const char *last_segment(const char *id)
{
	const char *s = strrchr(id, '/');
	return s ? s + 1 : id;
}

static void add_allowed(cJSON *o, unsigned ops)
{
	cJSON *arr = cJSON_AddArrayToObject(o, "allowedOperations");
	for (int i = 0; i < DR_BE_OP_COUNT; i++)
		if ((ops & DR_BE_OP_BIT(i)) && dr_backend_op_asr_name((dr_be_op)i))
			cJSON_AddItemToArray(arr, cJSON_CreateString(dr_backend_op_asr_name((dr_be_op)i)));
}

static void add_scenario(dr_emu *e, dr_arena *a, int64_t now, cJSON *o, const dr_be_item *it)
{
	cJSON *s = cJSON_AddObjectToObject(o, "currentScenario");
	dr_be_job j;
	dr_be_error err;
	if (it->current_job_id && dr_backend_get_job(e->be, a, now, it->current_job_id, &j, &err) == 0) {
		cJSON_AddStringToObject(s, "scenarioName", j.scenario);
		cJSON_AddStringToObject(s, "jobId", j.id);
		cJSON_AddStringToObject(s, "startTime", emu_time(a, j.start_ms));
		return;
	}
	cJSON_AddStringToObject(s, "scenarioName", "None");
	cJSON_AddStringToObject(s, "jobId", dr_arena_printf(a, "%s/replicationJobs/None", e->vault_id));
	cJSON_AddStringToObject(s, "startTime", "1753-01-01T01:01:01Z");
}

static const char *vm_id(dr_emu *e, dr_arena *a, const char *region, bool recovery, const char *name)
{
	return dr_arena_printf(a, "/subscriptions/%s/resourceGroups/drover-sim-%s%s/providers/Microsoft.Compute/"
				  "virtualMachines/%s",
			       e->subscription, region, recovery ? "-asr" : "", name);
}

static cJSON *nic_json(dr_emu *e, dr_arena *a, const dr_be_item *it)
{
	cJSON *nic = cJSON_CreateObject(), *ip = cJSON_CreateObject();
	cJSON_AddStringToObject(nic, "nicId",
				dr_arena_printf(a, "/subscriptions/%s/resourceGroups/drover-sim-%s/providers/"
						   "Microsoft.Network/networkInterfaces/%s-nic",
						e->subscription, it->primary_region, it->name));
	cJSON_AddStringToObject(nic, "vMNetworkName", dr_arena_printf(a, "%s-vnet", it->primary_region));
	cJSON_AddStringToObject(nic, "recoveryVMNetworkId",
				dr_arena_printf(a, "/subscriptions/%s/resourceGroups/drover-sim-%s-asr/providers/"
						   "Microsoft.Network/virtualNetworks/%s-vnet-asr",
						e->subscription, it->recovery_region, it->recovery_region));
	cJSON_AddStringToObject(nic, "selectionType", "SelectedByUser");
	cJSON_AddStringToObject(ip, "name", "ipconfig1");
	cJSON_AddBoolToObject(ip, "isPrimary", true);
	cJSON_AddStringToObject(ip, "subnetName", "default");
	cJSON_AddStringToObject(ip, "staticIPAddress", it->primary_ip);
	cJSON_AddStringToObject(ip, "ipAddressType", "Static");
	cJSON_AddBoolToObject(ip, "isSeletedForFailover", true);
	cJSON_AddStringToObject(ip, "recoverySubnetName", "default");
	cJSON_AddStringToObject(ip, "recoveryStaticIPAddress", it->recovery_ip);
	cJSON_AddStringToObject(ip, "recoveryIPAddressType", "Static");
	cJSON_AddItemToArray(cJSON_AddArrayToObject(nic, "ipConfigs"), ip);
	return nic;
}

/* An unmanaged disk (A2AProtectedDiskDetails): a page blob in a storage account. */
static cJSON *vhd_json(dr_emu *e, dr_arena *a, const dr_be_item *it)
{
	cJSON *d = cJSON_CreateObject();
	(void)e;
	cJSON_AddStringToObject(d, "diskUri", dr_arena_printf(a, "https://droversim%s.blob.core.windows.net/vhds/%s-osdisk.vhd",
							       it->primary_region, it->name));
	cJSON_AddStringToObject(d, "diskName", dr_arena_printf(a, "%s-osdisk", it->name));
	cJSON_AddStringToObject(d, "diskType", "OperatingSystem");
	cJSON_AddNumberToObject(d, "diskCapacityInBytes", 34359738368.0);
	cJSON_AddStringToObject(d, "diskState", "Protected");
	return d;
}

static cJSON *disk_json(dr_emu *e, dr_arena *a, const dr_be_item *it)
{
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "diskId",
				dr_arena_printf(a, "/subscriptions/%s/resourceGroups/drover-sim-%s/providers/"
						   "Microsoft.Compute/disks/%s-osdisk",
						e->subscription, it->primary_region, it->name));
	cJSON_AddStringToObject(d, "diskName", dr_arena_printf(a, "%s-osdisk", it->name));
	cJSON_AddStringToObject(d, "diskType", "OperatingSystem");
	cJSON_AddNumberToObject(d, "diskCapacityInBytes", 34359738368.0);
	cJSON_AddStringToObject(d, "recoveryResourceGroupId",
				dr_arena_printf(a, "/subscriptions/%s/resourceGroups/drover-sim-%s-asr", e->subscription,
						it->recovery_region));
	cJSON_AddStringToObject(d, "primaryStagingAzureStorageAccountId",
				dr_arena_printf(a, "/subscriptions/%s/resourceGroups/drover-sim-%s/providers/"
						   "Microsoft.Storage/storageAccounts/droversimcache%s",
						e->subscription, it->primary_region, it->primary_region));
	cJSON_AddStringToObject(d, "recoveryReplicaDiskAccountType", "Premium_LRS");
	cJSON_AddStringToObject(d, "recoveryTargetDiskAccountType", "Premium_LRS");
	cJSON_AddStringToObject(d, "diskState", "Protected");
	return d;
}

static void add_tags(cJSON *o, const dr_be_item *it)
{
	cJSON *sync = cJSON_AddObjectToObject(o, "vmSyncedConfigDetails");
	cJSON *tags = cJSON_AddObjectToObject(sync, "tags");
	for (size_t i = 0; i < it->n_tags; i++)
		cJSON_AddStringToObject(tags, it->tag_keys[i], it->tag_values[i]);
}

/* True when the service shows it from its first recovery region (its id is in that region's container). */
static bool reversed(dr_arena *a, const dr_be_item *it)
{
	return it->recovery_region && strcasestr(it->id, emu_container_name(a, it->recovery_region)) != NULL;
}

dr_be_item emu_view(dr_arena *a, const dr_be_item *it)
{
	dr_be_item v = *it;
	if (!reversed(a, it))
		return v;
	v.primary_region = it->recovery_region;
	v.recovery_region = it->primary_region;
	v.primary_ip = it->recovery_ip;
	v.recovery_ip = it->primary_ip;
	v.primary_vm = it->recovery_vm;
	v.recovery_vm = it->primary_vm;
	v.active_location = it->active_location == DR_BE_PRIMARY ? DR_BE_RECOVERY : DR_BE_PRIMARY;
	return v;
}

dr_be_direction emu_sim_direction(dr_arena *a, const dr_be_item *it, dr_be_direction served)
{
	if (served == DR_BE_DIR_AUTO || !reversed(a, it))
		return served;
	return served == DR_BE_DIR_PRIMARY_TO_RECOVERY ? DR_BE_DIR_RECOVERY_TO_PRIMARY : DR_BE_DIR_PRIMARY_TO_RECOVERY;
}

/* it: the served view; first: the simulator's (the first direction). */
static cJSON *a2a_json(dr_emu *e, dr_arena *a, const dr_be_item *it, const dr_be_item *first)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "instanceType", "A2A");
	cJSON_AddStringToObject(p, "lifecycleId", strrchr(it->id, '/') + 1); /* survives switch protection; the id does not */
	cJSON_AddStringToObject(p, "fabricObjectId", it->primary_vm.id ? it->primary_vm.id
								   : vm_id(e, a, it->primary_region, false, it->name));
	cJSON_AddStringToObject(p, "primaryFabricLocation", it->primary_region);
	cJSON_AddStringToObject(p, "recoveryFabricLocation", it->recovery_region);
	cJSON_AddStringToObject(p, "initialPrimaryFabricLocation", first->primary_region);
	cJSON_AddStringToObject(p, "initialRecoveryFabricLocation", first->recovery_region);
	cJSON_AddStringToObject(p, "osType", "Linux");
	cJSON_AddStringToObject(p, "recoveryAzureVMSize", it->size);
	cJSON_AddStringToObject(p, "recoveryAzureVMName", it->name);
	cJSON_AddStringToObject(p, "recoveryAzureResourceGroupId",
				dr_arena_printf(a, "/subscriptions/%s/resourceGroups/drover-sim-%s-asr",
						e->subscription, it->recovery_region));
	cJSON_AddStringToObject(p, "selectedRecoveryAzureNetworkId",
				dr_arena_printf(a, "/subscriptions/%s/resourceGroups/drover-sim-%s-asr/providers/"
						   "Microsoft.Network/virtualNetworks/%s-vnet-asr",
						e->subscription, it->recovery_region, it->recovery_region));
	cJSON_AddItemToArray(cJSON_AddArrayToObject(p, "vmNics"), nic_json(e, a, it));
	if (emu_faults_unmanaged(e, it->name))
		cJSON_AddItemToArray(cJSON_AddArrayToObject(p, "protectedDisks"), vhd_json(e, a, it));
	else
		cJSON_AddItemToArray(cJSON_AddArrayToObject(p, "protectedManagedDisks"), disk_json(e, a, it));
	add_tags(p, it);
	if (it->recovery_vm.exists)
		cJSON_AddStringToObject(p, "recoveryFabricObjectId", it->recovery_vm.id);
	if (it->test_vm.exists)
		cJSON_AddStringToObject(p, "testFailoverRecoveryFabricObjectId", it->test_vm.id);
	if (it->rpo_ms >= 0)
		cJSON_AddNumberToObject(p, "rpoInSeconds", (double)(it->rpo_ms / 1000));
	cJSON_AddStringToObject(p, "vmProtectionState", it->protection_state);
	cJSON_AddStringToObject(p, "vmProtectionStateDescription", it->protection_state_description);
	cJSON_AddStringToObject(p, "monitoringJobType", it->state == DR_BE_ST_REPROTECTING ? "InitialReplication"
										       : "None");
	return p;
}

/*
 * The details of an item a `provider` fault says another provider protects,
 * in that provider's definition of the contract (HyperVReplicaAzure-,
 * InMageRcmReplicationDetails; any other: its instanceType alone).
 */
static cJSON *foreign_json(dr_arena *a, const dr_be_item *it, const char *provider)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "instanceType", provider);
	if (strcasecmp(provider, "HyperVReplicaAzure") == 0) {
		cJSON_AddStringToObject(p, "recoveryAzureVmName", it->name);
		cJSON_AddStringToObject(p, "recoveryAzureVMSize", it->size);
		cJSON_AddStringToObject(p, "vmId", dr_arena_printf(a, "%.8s-0000-4000-8000-%012d", strrchr(it->id, '/') + 1, 0));
		cJSON_AddStringToObject(p, "vmProtectionState", it->protection_state);
		if (it->rpo_ms >= 0)
			cJSON_AddNumberToObject(p, "rpoInSeconds", (double)(it->rpo_ms / 1000));
	} else if (strcasecmp(provider, "InMageRcm") == 0) {
		cJSON_AddStringToObject(p, "targetVmName", it->name);
		cJSON_AddStringToObject(p, "targetVmSize", it->size);
		cJSON_AddStringToObject(p, "targetLocation", it->recovery_region);
		cJSON_AddStringToObject(p, "primaryNicIpAddress", it->primary_ip);
		cJSON_AddStringToObject(p, "osType", "Linux");
		if (it->rpo_ms >= 0)
			cJSON_AddNumberToObject(p, "lastRpoInSeconds", (double)(it->rpo_ms / 1000));
	}
	return p;
}

/*
 * The kind of fabric an item of this provider replicates from (the
 * contract's FabricSpecificDetails discriminators): Azure for A2A, a
 * Hyper-V site, VMware (classic) or the modernized VMware fabric; NULL
 * (left out: the member is optional) for a provider it does not know.
 */
static const char *fabric_provider(const char *provider)
{
	static const char *const map[][2] = {
		{"HyperVReplicaAzure", "HyperVSite"}, {"HyperVReplica2012R2", "HyperVSite"}, {"InMageRcm", "InMageRcm"},
		{"InMageAzureV2", "VMware"},	      {"InMage", "VMware"},
	};
	if (!provider)
		return "Azure";
	for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcasecmp(map[i][0], provider) == 0)
			return map[i][1];
	return NULL;
}

/* Names, fabrics and containers; an item of another provider has no Azure VM it protects (protectableItemId). */
static void item_names(dr_emu *e, dr_arena *a, cJSON *p, const dr_be_item *it, const char *provider)
{
	const char *fabric = fabric_provider(provider);
	cJSON_AddStringToObject(p, "friendlyName", it->name);
	if (!provider) {
		cJSON_AddStringToObject(p, "protectedItemType", "Microsoft.Compute/virtualMachines");
		cJSON_AddStringToObject(p, "protectableItemId", vm_id(e, a, it->primary_region, false, it->name));
	}
	cJSON_AddStringToObject(p, "primaryFabricFriendlyName", it->primary_region);
	if (fabric)
		cJSON_AddStringToObject(p, "primaryFabricProvider", fabric);
	cJSON_AddStringToObject(p, "recoveryFabricFriendlyName", it->recovery_region);
	cJSON_AddStringToObject(p, "recoveryFabricId",
				dr_arena_printf(a, "%s/replicationFabrics/%s", e->vault_id,
						emu_fabric_name(a, it->recovery_region)));
	cJSON_AddStringToObject(p, "primaryProtectionContainerFriendlyName",
				emu_container_name(a, it->primary_region));
	cJSON_AddStringToObject(p, "recoveryProtectionContainerFriendlyName",
				emu_container_name(a, it->recovery_region));
	/* the other side's container (the item's own is in its id: the side it is protected from) */
	bool home_primary = strcasestr(it->id, emu_container_name(a, it->primary_region)) != NULL;
	cJSON_AddStringToObject(p, "recoveryContainerId",
				emu_container_id(e, a, home_primary ? it->recovery_region : it->primary_region));
	cJSON_AddStringToObject(p, "policyId", emu_policy_id(e, a));
	cJSON_AddStringToObject(p, "policyFriendlyName", POLICY);
}

cJSON *emu_item_json(dr_emu *e, dr_arena *a, int64_t now, const dr_be_item *first)
{
	dr_be_item view = emu_view(a, first);
	const dr_be_item *it = &view;
	const char *provider = emu_faults_provider(e, it->name);
	cJSON *o = cJSON_CreateObject(), *p;
	cJSON_AddStringToObject(o, "id", it->id);
	cJSON_AddStringToObject(o, "name", last_segment(it->id));
	cJSON_AddStringToObject(o, "type", "Microsoft.RecoveryServices/vaults/replicationFabrics/"
					   "replicationProtectionContainers/replicationProtectedItems");
	if (emu_faults_no_properties(e, it->name))
		return o;
	p = cJSON_AddObjectToObject(o, "properties");
	item_names(e, a, p, it, provider);
	cJSON_AddStringToObject(p, "protectionState", it->protection_state);
	cJSON_AddStringToObject(p, "protectionStateDescription", it->protection_state_description);
	cJSON_AddStringToObject(p, "activeLocation", dr_backend_location_name(it->active_location));
	cJSON_AddStringToObject(p, "testFailoverState", it->test_failover_state);
	cJSON_AddStringToObject(p, "testFailoverStateDescription", it->test_failover_state_description);
	add_allowed(p, it->allowed_ops);
	cJSON_AddStringToObject(p, "replicationHealth", it->replication_health);
	cJSON_AddStringToObject(p, "failoverHealth", "Normal");
	cJSON_AddArrayToObject(p, "healthErrors");
	if (it->last_failover_ms >= 0)
		cJSON_AddStringToObject(p, "lastSuccessfulFailoverTime", emu_time(a, it->last_failover_ms));
	if (it->last_test_failover_ms >= 0)
		cJSON_AddStringToObject(p, "lastSuccessfulTestFailoverTime", emu_time(a, it->last_test_failover_ms));
	add_scenario(e, a, now, p, it);
	if (it->failover_point_id)
		cJSON_AddStringToObject(p, "failoverRecoveryPointId", it->failover_point_id);
	cJSON_AddItemToObject(p, "providerSpecificDetails",
			      provider ? foreign_json(a, it, provider) : a2a_json(e, a, it, first));
	return o;
}

/* ---- recovery points and jobs ------------------------------------------------------------- */

/* The point's providerSpecificDetails as its item's provider serves them (the contract has none for HyperVReplicaAzure). */
static void point_details(cJSON *p, const char *provider)
{
	if (provider && strcasecmp(provider, "HyperVReplicaAzure") == 0)
		return;
	cJSON *d = cJSON_AddObjectToObject(p, "providerSpecificDetails");
	cJSON_AddStringToObject(d, "instanceType", provider ? provider : "A2A");
	if (!provider) {
		cJSON_AddStringToObject(d, "recoveryPointSyncType", "PerVmRecoveryPoint");
		cJSON_AddArrayToObject(d, "disks");
	} else if (strcasecmp(provider, "InMageRcm") == 0 || strcasecmp(provider, "InMageAzureV2") == 0) {
		cJSON_AddStringToObject(d, "isMultiVmSyncPoint", "False");
	}
}

cJSON *emu_point_json(dr_emu *e, dr_arena *a, const dr_be_item *it, const dr_be_point *pt, bool undated)
{
	cJSON *o = cJSON_CreateObject(), *p;
	cJSON_AddStringToObject(o, "id", pt->id);
	cJSON_AddStringToObject(o, "name", pt->name);
	cJSON_AddStringToObject(o, "type", "Microsoft.RecoveryServices/vaults/replicationFabrics/"
					   "replicationProtectionContainers/replicationProtectedItems/recoveryPoints");
	p = cJSON_AddObjectToObject(o, "properties");
	if (!undated)
		cJSON_AddStringToObject(p, "recoveryPointTime", emu_time(a, pt->time_ms));
	cJSON_AddStringToObject(p, "recoveryPointType", dr_backend_point_type_name(pt->type));
	point_details(p, emu_faults_provider(e, it->name));
	return o;
}

static const char *task_state(dr_be_job_state s)
{
	return s == DR_BE_JOB_SKIPPED ? "Skipped" : dr_backend_job_state_name(s);
}

static cJSON *job_error_json(dr_arena *a, const dr_be_job_error *je, int64_t when)
{
	cJSON *o = cJSON_CreateObject(), *s = cJSON_AddObjectToObject(o, "serviceErrorDetails");
	cJSON_AddStringToObject(s, "code", je->error.code ? je->error.code : "InternalError");
	cJSON_AddStringToObject(s, "message", je->error.message ? je->error.message : "");
	put_opt(s, "possibleCauses", je->error.possible_causes);
	put_opt(s, "recommendedAction", je->error.recommended_action);
	cJSON_AddStringToObject(o, "errorLevel", je->warning ? "Warning" : "Error");
	cJSON_AddStringToObject(o, "creationTime", emu_time(a, when));
	return o;
}

static cJSON *task_json(dr_arena *a, const dr_be_job *j, size_t i)
{
	const dr_be_task *k = &j->tasks[i];
	cJSON *o = cJSON_CreateObject(), *errs;
	cJSON_AddStringToObject(o, "taskId", dr_arena_printf(a, "%s-task-%zu", j->name, i + 1));
	cJSON_AddStringToObject(o, "name", dr_arena_printf(a, "%sTask%zu", j->scenario, i + 1));
	cJSON_AddStringToObject(o, "friendlyName", k->name);
	if (k->start_ms >= 0)
		cJSON_AddStringToObject(o, "startTime", emu_time(a, k->start_ms));
	if (k->end_ms >= 0)
		cJSON_AddStringToObject(o, "endTime", emu_time(a, k->end_ms));
	cJSON_AddArrayToObject(o, "allowedActions");
	cJSON_AddStringToObject(o, "state", task_state(k->state));
	cJSON_AddStringToObject(o, "stateDescription", task_state(k->state));
	cJSON_AddStringToObject(o, "taskType", k->instructions ? "ManualActionTaskDetails" : "TaskDetails");
	if (k->instructions) { /* a manual action waits for a person */
		cJSON *d = cJSON_AddObjectToObject(o, "customDetails");
		cJSON_AddStringToObject(d, "instanceType", "ManualActionTaskDetails");
		cJSON_AddStringToObject(d, "name", k->name);
		cJSON_AddStringToObject(d, "instructions", k->instructions);
	}
	errs = cJSON_AddArrayToObject(o, "errors");
	for (size_t e = 0; e < j->n_errors; e++)
		if (j->errors[e].task && strcmp(j->errors[e].task, k->name) == 0)
			cJSON_AddItemToArray(errs, job_error_json(a, &j->errors[e], k->end_ms >= 0 ? k->end_ms : j->start_ms));
	return o;
}

static void job_details(dr_arena *a, cJSON *p, const dr_be_job *j)
{
	cJSON *d = cJSON_AddObjectToObject(p, "customDetails"), *aff;
	bool sw = j->op == DR_BE_OP_REPROTECT; /* A2A reprotect is switch protection: a new item, in the other container */
	cJSON_AddStringToObject(d, "instanceType", sw ? "SwitchProtectionJobDetails" : "AsrJobDetails");
	if (sw)
		cJSON_AddStringToObject(d, "newReplicationProtectedItemId", j->item_id);
	aff = cJSON_AddObjectToObject(d, "affectedObjectDetails");
	cJSON_AddStringToObject(aff, "ProtectedItemName", j->item_name);
	cJSON_AddStringToObject(aff, "ProtectedItemId", j->item_id);
	if (j->point_id)
		cJSON_AddStringToObject(aff, "RecoveryPointId", j->point_id);
	(void)a;
}

cJSON *emu_job_json(dr_emu *e, dr_arena *a, const dr_be_job *j)
{
	cJSON *o = cJSON_CreateObject(), *p, *tasks, *errs;
	const char *activity = dr_sim_job_activity(e->be, a, j->name);
	cJSON_AddStringToObject(o, "id", j->id);
	cJSON_AddStringToObject(o, "name", j->name);
	cJSON_AddStringToObject(o, "type", "Microsoft.RecoveryServices/vaults/replicationJobs");
	p = cJSON_AddObjectToObject(o, "properties");
	cJSON_AddStringToObject(p, "activityId", dr_arena_printf(a, "%s ActivityId: %s", activity && *activity ? activity
											      : j->name, j->name));
	cJSON_AddStringToObject(p, "scenarioName", j->scenario);
	cJSON_AddStringToObject(p, "friendlyName", j->friendly_name);
	const char *odd = j->state == DR_BE_JOB_IN_PROGRESS ? emu_faults_job_state(e, j->item_name) : NULL;
	cJSON_AddStringToObject(p, "state", odd ? odd : dr_backend_job_state_name(j->state));
	cJSON_AddStringToObject(p, "stateDescription", j->state_description);
	tasks = cJSON_AddArrayToObject(p, "tasks");
	for (size_t i = 0; i < j->n_tasks; i++)
		cJSON_AddItemToArray(tasks, task_json(a, j, i));
	errs = cJSON_AddArrayToObject(p, "errors");
	for (size_t i = 0; i < j->n_errors; i++)
		cJSON_AddItemToArray(errs, job_error_json(a, &j->errors[i], j->end_ms >= 0 ? j->end_ms : j->start_ms));
	cJSON_AddStringToObject(p, "startTime", emu_time(a, j->start_ms));
	if (j->end_ms >= 0)
		cJSON_AddStringToObject(p, "endTime", emu_time(a, j->end_ms));
	cJSON *allowed = cJSON_AddArrayToObject(p, "allowedActions");
	if (j->state == DR_BE_JOB_SUSPENDED)
		cJSON_AddItemToArray(allowed, cJSON_CreateString("Resume"));
	cJSON_AddStringToObject(p, "targetObjectId", last_segment(j->item_id));
	cJSON_AddStringToObject(p, "targetObjectName", j->item_name);
	cJSON_AddStringToObject(p, "targetInstanceType", "ProtectionEntity");
	job_details(a, p, j);
	return o;
}
