/*
 * test_azure_parse.c - the Azure backend's reading of ASR's JSON
 * (backends/azure_parse.c) on Microsoft's published payloads
 * (shared/reference/asr-examples/, found by tests/reference-dir.sh: the
 * test fails when they are missing) and on payloads made here from the
 * OpenAPI contract's definitions with fields, states and values no example
 * shows: unknown ones must never break parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <dirent.h>

#include "backends/azure_int.h"

static char refdir[1024];

static int find_reference(void **state)
{
	(void)state;
	FILE *p = popen("tests/reference-dir.sh", "r");
	if (!p || !fgets(refdir, sizeof refdir, p)) {
		fprintf(stderr, "test_azure_parse: the reference material is missing (tests/reference-dir.sh)\n");
		if (p)
			pclose(p);
		return -1; /* fail, never skip */
	}
	pclose(p);
	refdir[strcspn(refdir, "\n")] = '\0';
	return 0;
}

static cJSON *load(const char *rel)
{
	char path[1200];
	snprintf(path, sizeof path, "%s/%s", refdir, rel);
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	static char buf[4 << 20];
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	cJSON *j = cJSON_Parse(buf);
	assert_non_null(j);
	return j;
}

static const cJSON *body(const cJSON *example, const char *status)
{
	return az_path(example, "responses", status, "body", NULL);
}

static int64_t t(const char *s)
{
	int64_t ms;
	assert_true(dr_backend_parse_time(s, &ms));
	return ms;
}

#define OP(x) DR_BE_OP_BIT(DR_BE_OP_##x)

/* ---- Microsoft's examples -------------------------------------------------------------------- */

static void test_item_get(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	cJSON *ex = load("asr-examples/ReplicationProtectedItems_Get.json");
	dr_be_item it;
	assert_true(az_parse_item(a, body(ex, "200"), &it));
	assert_string_equal(it.name, "vm1");
	assert_non_null(strstr(it.id, "/replicationProtectedItems/f8491e4f-817a-40dd-a90c-af773978c75b"));
	assert_int_equal(it.state, DR_BE_ST_PROTECTED);
	assert_string_equal(it.protection_state, "Protected");
	assert_int_equal(it.active_location, DR_BE_PRIMARY);
	/* PlannedFailover and DisableProtection are not drover's operations: left out */
	assert_int_equal(it.allowed_ops, OP(FAILOVER) | OP(TEST_FAILOVER));
	assert_null(it.current_job_id); /* scenario None, job .../replicationJobs/None */
	assert_string_equal(it.replication_health, "Normal");
	assert_int_equal(it.rpo_ms, -1); /* Hyper-V: no rpoInSeconds */
	assert_int_equal(it.last_failover_ms, -1);
	cJSON_Delete(ex);
	dr_arena_free(a);
}

static void test_item_after_unplanned_failover(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	cJSON *ex = load("asr-examples/ReplicationProtectedItems_UnplannedFailover.json");
	dr_be_item it;
	assert_true(az_parse_item(a, body(ex, "200"), &it));
	assert_int_equal(it.state, DR_BE_ST_FAILED_OVER);
	assert_string_equal(it.protection_state_description, "Failover completed");
	assert_int_equal(it.active_location, DR_BE_RECOVERY);
	assert_int_equal(it.allowed_ops, OP(COMMIT) | OP(CHANGE_POINT));
	assert_int_equal(it.last_failover_ms, t("2017-04-26T08:42:33.099Z"));
	assert_int_equal(it.last_test_failover_ms, t("2017-04-25T09:57:57.035Z"));
	/* the 202's headers name the job */
	const char *async = az_str(az_path(ex, "responses", "202", "headers", NULL), "Azure-AsyncOperation");
	assert_string_equal(az_parse_job_name(a, async), "a93f3cd5-9035-4b1e-a2c9-b16df6d5d34b");
	cJSON_Delete(ex);
	dr_arena_free(a);
}

static void test_item_test_failover_waits_for_cleanup(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	cJSON *ex = load("asr-examples/ReplicationProtectedItems_TestFailover.json");
	dr_be_item it;
	assert_true(az_parse_item(a, body(ex, "200"), &it));
	/* currentScenario stays TestFailover until the cleanup: waiting, not running */
	assert_int_equal(it.state, DR_BE_ST_TEST_FAILED_OVER);
	assert_null(it.current_job_id);
	assert_int_equal(it.allowed_ops, OP(TEST_CLEANUP));
	cJSON_Delete(ex);
	ex = load("asr-examples/ReplicationProtectedItems_TestFailoverCleanup.json");
	assert_true(az_parse_item(a, body(ex, "200"), &it));
	assert_int_equal(it.state, DR_BE_ST_TEST_CLEANING); /* MarkedForDeletion */
	assert_int_equal(it.allowed_ops, OP(FAILOVER) | OP(TEST_FAILOVER));
	cJSON_Delete(ex);
	dr_arena_free(a);
}

static void test_item_unknown_state_is_other(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	cJSON *ex = load("asr-examples/ReplicationProtectedItems_FailoverCommit.json");
	dr_be_item it;
	assert_true(az_parse_item(a, body(ex, "200"), &it));
	assert_int_equal(it.state, DR_BE_ST_OTHER); /* PlannedFailoverStatesBegin: not a state drover knows */
	assert_string_equal(it.protection_state, "PlannedFailoverStatesBegin");
	assert_int_equal(it.active_location, DR_BE_RECOVERY);
	assert_int_equal(it.allowed_ops, 0); /* CompleteMigration, DisableProtection, Failback */
	cJSON_Delete(ex);
	dr_arena_free(a);
}

static void test_recovery_points_sorted(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	cJSON *ex = load("asr-examples/RecoveryPoints_ListByReplicationProtectedItems.json");
	const cJSON *v;
	dr_be_point pts[4];
	size_t n = 0;
	cJSON_ArrayForEach(v, cJSON_GetObjectItem(body(ex, "200"), "value")) assert_true(az_parse_point(a, v, &pts[n++]));
	assert_int_equal(n, 2);
	az_sort_points(pts, n);
	assert_string_equal(pts[0].name, "34cb2d05-e730-4d3f-b96b-a60a5e92acb2"); /* listed second, newer */
	assert_int_equal(pts[0].time_ms, t("2017-04-26T07:37:30.972Z"));
	assert_int_equal(pts[1].time_ms, t("2017-04-26T06:37:50.808Z"));
	assert_int_equal(pts[0].type, DR_BE_POINT_CRASH_CONSISTENT);
	assert_true(pts[0].processed);
	cJSON_Delete(ex);
	dr_arena_free(a);
}

static void test_job_get(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	cJSON *ex = load("asr-examples/ReplicationJobs_Get.json");
	dr_be_job j;
	bool known;
	assert_true(az_parse_job(a, body(ex, "200"), &j, &known));
	assert_false(known); /* DeleteRecoveryPlan: not an item operation */
	assert_string_equal(j.name, "32ea4b9e-de62-49a1-b062-7864d5c3b897");
	assert_int_equal(j.state, DR_BE_JOB_SUCCEEDED);
	assert_string_equal(j.state_description, "Completed");
	assert_int_equal(j.start_ms, t("2017-04-27T11:25:56.800Z"));
	assert_int_equal(j.end_ms, t("2017-04-27T11:25:57Z"));
	assert_int_equal(j.n_tasks, 1);
	assert_string_equal(j.tasks[0].name, "Delete a recovery plan task");
	assert_int_equal(j.tasks[0].state, DR_BE_JOB_SUCCEEDED);
	assert_int_equal(j.n_errors, 0);
	assert_string_equal(j.item_name, "RPtest1");
	assert_int_equal(j.poll_after_ms, -1);
	const char *activity = az_str(az_path(body(ex, "200"), "properties", NULL), "activityId");
	assert_string_equal(az_parse_activity_rid(a, activity), "fc8e9c8f-0e76-4b6b-8e7e-d37c1b31eba0");
	cJSON_Delete(ex);
	dr_arena_free(a);
}

static void test_job_list(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	cJSON *ex = load("asr-examples/ReplicationJobs_List.json");
	const cJSON *v;
	int n = 0;
	cJSON_ArrayForEach(v, cJSON_GetObjectItem(body(ex, "200"), "value"))
	{
		dr_be_job j;
		bool known;
		assert_true(az_parse_job(a, v, &j, &known));
		assert_int_equal(j.state, DR_BE_JOB_SUCCEEDED);
		assert_non_null(j.scenario);
		n++;
	}
	assert_int_equal(n, 3);
	cJSON_Delete(ex);
	dr_arena_free(a);
}

/* Every body of every published example parses by its resource type (lists element by element). */
static void parse_any(dr_arena *a, const cJSON *b, int *parsed)
{
	const char *type = az_str(b, "type"), *id = az_str(b, "id");
	dr_be_item it;
	dr_be_point pt;
	dr_be_job j;
	bool known;
	if (type && strstr(type, "recoveryPoints"))
		*parsed += az_parse_point(a, b, &pt);
	else if (type && strstr(type, "replicationProtectedItems"))
		*parsed += az_parse_item(a, b, &it);
	else if (id && strstr(id, "/replicationJobs/"))
		*parsed += az_parse_job(a, b, &j, &known);
}

static void test_every_example_parses(void **state)
{
	(void)state;
	char dir[1200];
	snprintf(dir, sizeof dir, "%s/asr-examples", refdir);
	DIR *d = opendir(dir);
	assert_non_null(d);
	int files = 0, parsed = 0;
	dr_arena *a = dr_arena_new();
	for (struct dirent *e; (e = readdir(d)) != NULL;) {
		if (!strstr(e->d_name, ".json"))
			continue;
		char rel[300];
		snprintf(rel, sizeof rel, "asr-examples/%s", e->d_name);
		cJSON *ex = load(rel), *r;
		files++;
		cJSON_ArrayForEach(r, cJSON_GetObjectItem(ex, "responses"))
		{
			const cJSON *b = cJSON_GetObjectItem(r, "body"), *v;
			if (cJSON_GetObjectItem(b, "value"))
				cJSON_ArrayForEach(v, cJSON_GetObjectItem(b, "value")) parse_any(a, v, &parsed);
			else if (b)
				parse_any(a, b, &parsed);
		}
		cJSON_Delete(ex);
	}
	closedir(d);
	dr_arena_free(a);
	assert_int_equal(files, 9);
	assert_int_equal(parsed, 12); /* 6 items, 2 points, 1 + 3 jobs (the 202s have no body) */
}

/* ---- made from the contract: what no example shows -------------------------------------------------- */

static const char a2a_item[] = "{\"id\": \"/Subscriptions/s/resourceGroups/g/providers/Microsoft.RecoveryServices/vaults/v/"
	"replicationFabrics/f/replicationProtectionContainers/c/replicationProtectedItems/vm-1-guid\","
	"\"name\": \"vm-1-guid\", \"futureTopLevel\": {\"x\": [1, 2]},"
	"\"properties\": {\"friendlyName\": \"db-1\", \"protectionState\": \"UnplannedFailoverCommitPendingStatesBegin\","
	"\"activeLocation\": \"Recovery\", \"testFailoverState\": \"None\","
	"\"allowedOperations\": [\"Commit\", \"ChangePit\", \"CancelFailover\", \"DisableProtection\", \"TeleportVm\", 7],"
	"\"replicationHealth\": \"Warning\", \"failoverRecoveryPointId\": \"/x/recoveryPoints/p1\","
	"\"currentScenario\": {\"scenarioName\": \"None\", \"jobId\": \"/x/replicationJobs/None\", \"startTime\": \"1753-01-01T01:01:01Z\"},"
	"\"lastSuccessfulFailoverTime\": \"2026-01-01T01:00:00+01:00\","
	"\"providerSpecificDetails\": {\"instanceType\": \"A2A\", \"fabricObjectId\": \"/subscriptions/s/resourceGroups/rg-we/providers/Microsoft.Compute/virtualMachines/db-1\","
	"\"recoveryFabricObjectId\": \"/subscriptions/s/resourceGroups/rg-ne-asr/providers/Microsoft.Compute/virtualMachines/db-1\","
	"\"primaryFabricLocation\": \"westeurope\", \"recoveryFabricLocation\": \"northeurope\", \"recoveryAzureVMSize\": \"Standard_D4s_v5\","
	"\"rpoInSeconds\": 95, \"vmSyncedConfigDetails\": {\"tags\": {\"tier\": \"db\", \"owner\": \"payments\", \"bad\": 3}},"
	"\"vmNics\": [{\"ipConfigs\": [{\"isPrimary\": false, \"staticIPAddress\": \"10.1.9.9\"},"
	"{\"isPrimary\": true, \"staticIPAddress\": \"10.1.0.4\", \"recoveryStaticIPAddress\": \"10.2.0.4\", \"newField\": true}]}],"
	"\"someNewA2AField\": {\"nested\": null}}}}";

/* An A2A item with these regions and activeLocation (NULL: absent); the initial ones too when given. */
static cJSON *sided(const char *p, const char *r, const char *ip, const char *ir, const char *active)
{
	cJSON *v = cJSON_Parse(a2a_item), *props = cJSON_GetObjectItem(v, "properties");
	cJSON *psd = cJSON_GetObjectItem(props, "providerSpecificDetails");
	const char *keys[] = {"primaryFabricLocation", "recoveryFabricLocation", "initialPrimaryFabricLocation",
			      "initialRecoveryFabricLocation"}, *vals[] = {p, r, ip, ir};
	for (int i = 0; i < 4; i++) {
		cJSON_DeleteItemFromObject(psd, keys[i]);
		if (vals[i])
			cJSON_AddStringToObject(psd, keys[i], vals[i]);
	}
	cJSON_DeleteItemFromObject(props, "activeLocation");
	if (active)
		cJSON_AddStringToObject(props, "activeLocation", active);
	return v;
}

/* The direction run direction d sends on that item, or the error's code. */
static const char *sent(dr_arena *a, cJSON *v, dr_be_direction d)
{
	const char *out = NULL;
	dr_be_error err = {0};
	int rc = az_wire_direction(a, v, "/x/rpi", d, &out, &err);
	cJSON_Delete(v);
	return rc == 0 ? out : err.code;
}

static void test_failover_direction_by_region(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	const dr_be_direction P2R = DR_BE_DIR_PRIMARY_TO_RECOVERY, R2P = DR_BE_DIR_RECOVERY_TO_PRIMARY;
	/* the first direction: failover and failback as named */
	assert_string_equal(sent(a, sided("westeurope", "northeurope", "westeurope", "northeurope", "Primary"), P2R),
			    "PrimaryToRecovery");
	assert_string_equal(sent(a, sided("westeurope", "northeurope", "westeurope", "northeurope", "Recovery"), R2P),
			    "RecoveryToPrimary");
	/* reprotected, served from its new primary (northeurope): failback goes Primary to Recovery */
	assert_string_equal(sent(a, sided("northeurope", "westeurope", "westeurope", "northeurope", "Primary"), R2P),
			    "PrimaryToRecovery");
	/* failed back, before the second reprotect: failing over again goes Recovery to Primary */
	assert_string_equal(sent(a, sided("northeurope", "westeurope", "westeurope", "NorthEurope", "Recovery"), P2R),
			    "RecoveryToPrimary");
	/* no initial regions: the item's own view; a VM already there is sent so, for the service to refuse */
	assert_string_equal(sent(a, sided("westeurope", "northeurope", NULL, NULL, "Primary"), P2R), "PrimaryToRecovery");
	assert_string_equal(sent(a, sided("northeurope", "westeurope", NULL, NULL, "Primary"), R2P), "RecoveryToPrimary");
	assert_string_equal(sent(a, sided("westeurope", "northeurope", NULL, NULL, "Recovery"), DR_BE_DIR_AUTO),
			    "RecoveryToPrimary");
	/* unknown or contradictory: an error, never a guess */
	const char *bad = "FailoverDirectionUnknown";
	assert_string_equal(sent(a, sided(NULL, "northeurope", NULL, NULL, "Primary"), P2R), bad);
	assert_string_equal(sent(a, sided("westeurope", "", NULL, NULL, "Primary"), P2R), bad);
	assert_string_equal(sent(a, sided("westeurope", "WestEurope", NULL, NULL, "Primary"), P2R), bad);
	assert_string_equal(sent(a, sided("westeurope", "northeurope", NULL, NULL, "Elsewhere"), P2R), bad);
	assert_string_equal(sent(a, sided("westeurope", "northeurope", NULL, NULL, NULL), P2R), bad);
	assert_string_equal(sent(a, sided("westeurope", "northeurope", "westeurope", NULL, "Primary"), P2R), bad);
	assert_string_equal(sent(a, sided("westeurope", "northeurope", "eastus", "westus", "Primary"), P2R), bad);
	assert_string_equal(sent(a, sided("westeurope", "northeurope", "westeurope", "westeurope", "Primary"), P2R), bad);
	dr_arena_free(a);
}

/* A reprotected item served from its new primary reads as the first direction's view. */
static void test_reprotected_item_in_first_view(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	cJSON *v = sided("northeurope", "westeurope", "westeurope", "northeurope", "Primary");
	dr_be_item it;
	assert_true(az_parse_item(a, v, &it));
	assert_string_equal(it.primary_region, "westeurope");
	assert_string_equal(it.recovery_region, "northeurope");
	assert_int_equal(it.active_location, DR_BE_RECOVERY); /* runs in northeurope: the first recovery region */
	assert_string_equal(it.primary_ip, "10.2.0.4");
	assert_string_equal(dr_backend_active_vm(&it)->id,
			    "/subscriptions/s/resourceGroups/rg-we/providers/Microsoft.Compute/virtualMachines/db-1");
	cJSON_Delete(v);
	v = sided("westeurope", "northeurope", "westeurope", "northeurope", "Primary"); /* the first view: as served */
	assert_true(az_parse_item(a, v, &it));
	assert_string_equal(it.primary_region, "westeurope");
	assert_int_equal(it.active_location, DR_BE_PRIMARY);
	cJSON_Delete(v);
	dr_arena_free(a);
}

static void test_a2a_item_from_the_contract(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	cJSON *j = cJSON_Parse(a2a_item);
	dr_be_item it;
	assert_true(az_parse_item(a, j, &it));
	assert_string_equal(it.name, "db-1");
	assert_int_equal(it.state, DR_BE_ST_FAILED_OVER);
	assert_int_equal(it.allowed_ops, OP(COMMIT) | OP(CHANGE_POINT) | OP(CANCEL_FAILOVER)); /* TeleportVm, 7: ignored */
	assert_int_equal(it.rpo_ms, 95000);
	assert_string_equal(it.primary_region, "westeurope");
	assert_string_equal(it.recovery_region, "northeurope");
	assert_string_equal(it.size, "Standard_D4s_v5");
	assert_string_equal(it.primary_ip, "10.1.0.4");
	assert_string_equal(it.recovery_ip, "10.2.0.4");
	assert_int_equal(it.n_tags, 2); /* a tag that is not a string is left out */
	assert_string_equal(it.tag_keys[0], "tier");
	assert_string_equal(it.tag_values[1], "payments");
	assert_string_equal(it.failover_point_id, "/x/recoveryPoints/p1");
	assert_int_equal(it.last_failover_ms, t("2026-01-01T00:00:00Z"));
	assert_string_equal(it.primary_vm.id, "/subscriptions/s/resourceGroups/rg-we/providers/Microsoft.Compute/virtualMachines/db-1");
	assert_true(it.recovery_vm.exists);
	assert_string_equal(it.recovery_vm.ip, "10.2.0.4");
	assert_int_equal(it.recovery_vm.power, DR_BE_POWER_NONE); /* Compute's to say (az_vm_facts) */
	assert_false(it.test_vm.exists);
	cJSON_Delete(j);
	dr_arena_free(a);
}

static void test_states_from_strings(void **state)
{
	(void)state;
	assert_int_equal(az_parse_state("Protected", "None", "None"), DR_BE_ST_PROTECTED);
	assert_int_equal(az_parse_state("Protected", "None", "UnplannedFailover"), DR_BE_ST_FAILING_OVER);
	assert_int_equal(az_parse_state("protected", "waitingforcompletion", NULL), DR_BE_ST_TEST_FAILED_OVER);
	assert_int_equal(az_parse_state("Protected", "InProgress", NULL), DR_BE_ST_TEST_FAILING_OVER);
	assert_int_equal(az_parse_state("UnplannedFailoverCommitPendingStatesBegin", "None", "CommitFailover"),
			 DR_BE_ST_COMMITTING);
	assert_int_equal(az_parse_state("UnplannedFailoverCommitted", NULL, "SwitchProtection"), DR_BE_ST_REPROTECTING);
	assert_int_equal(az_parse_state("UnplannedFailoverCommitted", NULL, NULL), DR_BE_ST_COMMITTED);
	assert_int_equal(az_parse_state("ReprotectInProgress", NULL, "None"), DR_BE_ST_REPROTECTING);
	assert_int_equal(az_parse_state("UnprotectedStatesBegin", NULL, "None"), DR_BE_ST_OTHER);
	assert_int_equal(az_parse_state(NULL, NULL, NULL), DR_BE_ST_OTHER);
	assert_int_equal(az_parse_state("Protected", NULL, "ShutdownVm"), DR_BE_ST_PROTECTED); /* a VM job */
}

/* A resource of the contract's definition name, every member filled (below). */
static cJSON *resource(const cJSON *c, const char *name, const char *psd);

/* The interface's operations are exactly the contract's names for them (ReplicationProtectedItemOperation). */
static void test_operations_are_the_contracts(void **state)
{
	(void)state;
	cJSON *c = load("asr-openapi-2025-08-01.json");
	const cJSON *e = az_path(c, "definitions", "ReplicationProtectedItemOperation", "enum", NULL), *v;
	assert_non_null(e);
	unsigned seen = 0;
	cJSON_ArrayForEach(v, e)
	{
		char item[256];
		snprintf(item, sizeof item, "{\"id\": \"/x\", \"properties\": {\"allowedOperations\": [\"%s\"]}}",
			 v->valuestring);
		cJSON *j = cJSON_Parse(item);
		dr_arena *a = dr_arena_new();
		dr_be_item it;
		assert_true(az_parse_item(a, j, &it));
		seen |= it.allowed_ops;
		cJSON_Delete(j);
		dr_arena_free(a);
	}
	/* every ASR operation drover starts is in the contract's enum (shutdown is Compute's) */
	for (int op = 0; op < DR_BE_OP_COUNT; op++)
		if (op != DR_BE_OP_SHUTDOWN)
			assert_true(seen & DR_BE_OP_BIT(op));
	/* and every job state the contract's description names maps */
	const char *desc = az_str(az_path(c, "definitions", "JobProperties", "properties", "state", NULL), "description");
	assert_non_null(strstr(desc, "Suspended"));
	assert_int_equal(az_parse_job_state("Suspended"), DR_BE_JOB_SUSPENDED);
	assert_int_equal(az_parse_job_state("NotStarted"), DR_BE_JOB_NOT_STARTED);
	assert_int_equal(az_parse_job_state("Cancelled"), DR_BE_JOB_CANCELLED);
	assert_int_equal(az_parse_job_state("Other"), DR_BE_JOB_IN_PROGRESS); /* not done: keep polling */
	assert_int_equal(az_parse_job_state("SomethingNew"), DR_BE_JOB_IN_PROGRESS);
	/* a job in such a state says which (the dr.* action tells the operator once); a known one does not */
	const char *states[] = {"Other", "Paused", NULL, "InProgress", "Succeeded"};
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
		dr_arena *a = dr_arena_new();
		cJSON *job = resource(c, "Job", NULL), *p = cJSON_GetObjectItem(job, "properties");
		cJSON_DeleteItemFromObject(p, "state");
		if (states[i])
			cJSON_AddStringToObject(p, "state", states[i]);
		dr_be_job j;
		bool known;
		assert_true(az_parse_job(a, job, &j, &known));
		if (i < 3) {
			assert_int_equal(j.state, DR_BE_JOB_IN_PROGRESS);
			assert_string_equal(j.state_unknown, states[i] ? states[i] : "(none given)");
			assert_int_equal(j.end_ms, -1);
		} else {
			assert_null(j.state_unknown);
		}
		cJSON_Delete(job);
		dr_arena_free(a);
	}
	cJSON_Delete(c);
}

static const char failed_job[] = "{\"id\": \"/S/replicationJobs/j1\", \"name\": \"j1\", \"properties\": {"
	"\"activityId\": \"7b1c0f3e-aaaa-5bbb-8ccc-000000000001 ActivityId: 99\", \"scenarioName\": \"UnplannedFailover\","
	"\"friendlyName\": \"Failover\", \"state\": \"Failed\", \"stateDescription\": \"Failed\","
	"\"startTime\": \"2026-01-01T00:00:00Z\", \"endTime\": \"2026-01-01T00:05:00.5Z\","
	"\"tasks\": [{\"taskId\": \"t1\", \"friendlyName\": \"Prerequisites check for failover\", \"state\": \"Succeeded\"},"
	"{\"taskId\": \"t2\", \"name\": \"CreateVmTask\", \"state\": \"Failed\", \"unknownTaskField\": 1},"
	"{\"taskId\": \"t3\", \"friendlyName\": \"Start the replica virtual machine\", \"state\": \"Skipped\"}],"
	"\"errors\": [{\"providerErrorDetails\": {\"errorCode\": 70094, \"errorMessage\": \"The VM size is not available.\","
	"\"possibleCauses\": \"Capacity.\", \"recommendedAction\": \"Pick another size.\"}, \"errorLevel\": \"Error\", \"taskId\": \"t2\"},"
	"{\"serviceErrorDetails\": {\"code\": \"SourceVmShutdownFailed\", \"message\": \"Could not shut down.\"},"
	"\"errorLevel\": \"Warning\"}],"
	"\"customDetails\": {\"instanceType\": \"FailoverJobDetails\", \"protectedItemDetails\": []},"
	"\"targetObjectId\": \"vm-1-guid\", \"targetObjectName\": \"db-1\"}}";

static void test_failed_job_errors(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	cJSON *j = cJSON_Parse(failed_job);
	dr_be_job job;
	bool known;
	assert_true(az_parse_job(a, j, &job, &known));
	assert_true(known);
	assert_int_equal(job.op, DR_BE_OP_FAILOVER);
	assert_int_equal(job.state, DR_BE_JOB_FAILED);
	assert_int_equal(job.end_ms, t("2026-01-01T00:05:00.500Z"));
	assert_int_equal(job.n_tasks, 3);
	assert_string_equal(job.tasks[1].name, "CreateVmTask"); /* no friendlyName: its name */
	assert_int_equal(job.tasks[2].state, DR_BE_JOB_SKIPPED);
	assert_int_equal(job.n_errors, 2);
	assert_false(job.errors[0].warning);
	assert_string_equal(job.errors[0].error.code, "70094");
	assert_string_equal(job.errors[0].error.message, "The VM size is not available.");
	assert_string_equal(job.errors[0].error.recommended_action, "Pick another size.");
	assert_string_equal(job.errors[0].task, "CreateVmTask");
	assert_true(job.errors[1].warning);
	assert_string_equal(job.errors[1].error.code, "SourceVmShutdownFailed");
	assert_string_equal(job.item_id, "vm-1-guid");
	assert_string_equal(az_parse_activity_rid(a, az_str(az_path(j, "properties", NULL), "activityId")),
			    "7b1c0f3e-aaaa-5bbb-8ccc-000000000001");
	cJSON_Delete(j);
	dr_arena_free(a);
}

static void test_malformed_is_refused_not_crashed(void **state)
{
	(void)state;
	const char *bad[] = {"{}", "[]", "{\"id\": 5}", "{\"id\": \"/x\"}", "{\"id\": \"/x\", \"properties\": []}",
			     "{\"id\": \"/x\", \"properties\": {\"recoveryPointTime\": \"yesterday\"}}", "null"};
	dr_arena *a = dr_arena_new();
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		cJSON *j = cJSON_Parse(bad[i]);
		dr_be_item it;
		dr_be_point pt;
		dr_be_job job;
		bool known;
		/* a point needs only its id: one without properties or a time is read, undated (never chosen) */
		assert_true(az_parse_point(a, j, &pt) == (i >= 3 && i <= 5));
		if (i >= 3 && i <= 5)
			assert_int_equal(pt.time_ms, -1);
		if (i != 4 && i != 5) {
			assert_false(az_parse_item(a, j, &it));
			assert_false(az_parse_job(a, j, &job, &known));
		}
		cJSON_Delete(j);
	}
	/* wrong types inside an item: ignored */
	cJSON *j = cJSON_Parse("{\"id\": \"/x\", \"properties\": {\"allowedOperations\": \"Commit\", \"activeLocation\": 1,"
			       "\"providerSpecificDetails\": {\"vmNics\": {\"a\": 1}, \"rpoInSeconds\": \"95\","
			       "\"vmSyncedConfigDetails\": {\"tags\": [\"x\"]}}}}");
	dr_be_item it;
	assert_true(az_parse_item(a, j, &it));
	assert_int_equal(it.allowed_ops, 0);
	assert_int_equal(it.rpo_ms, -1);
	assert_int_equal(it.n_tags, 0);
	assert_int_equal(it.state, DR_BE_ST_OTHER);
	cJSON_Delete(j);
	dr_arena_free(a);
}

static void test_errors(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_be_error e;
	cJSON *j = cJSON_Parse("{\"error\": {\"code\": \"BadRequest\", \"message\": \"top\", \"details\": [{\"code\": "
			       "\"OperationNotAllowedInCurrentState\", \"message\": \"Commit isn't allowed.\", "
			       "\"possibleCauses\": \"It is Protected.\", \"recommendedAction\": \"Fail over first.\", "
			       "\"clientRequestId\": \"r\", \"activityId\": \"x\"}]}}");
	assert_int_equal(az_parse_error(a, 400, j, "rid-1", &e), -1);
	assert_string_equal(e.code, "OperationNotAllowedInCurrentState");
	assert_string_equal(e.message, "Commit isn't allowed.");
	assert_string_equal(e.possible_causes, "It is Protected.");
	assert_string_equal(e.recommended_action, "Fail over first.");
	assert_string_equal(e.request_id, "rid-1");
	assert_int_equal(e.cls, DR_BE_ERR_PERMANENT);
	assert_int_equal(e.http_status, 400);
	cJSON_Delete(j);
	j = cJSON_Parse("{\"error\": {\"code\": \"ExpiredAuthenticationToken\", \"message\": \"The access token expired.\"}}");
	az_parse_error(a, 401, j, NULL, &e);
	assert_string_equal(e.code, "ExpiredAuthenticationToken");
	assert_null(e.recommended_action);
	cJSON_Delete(j);
	az_parse_error(a, 503, NULL, NULL, &e);
	assert_string_equal(e.code, "ServiceUnavailable");
	assert_int_equal(e.cls, DR_BE_ERR_TRANSIENT);
	az_parse_error(a, 429, NULL, NULL, &e);
	assert_int_equal(e.cls, DR_BE_ERR_THROTTLED);
	j = cJSON_Parse("{\"error\": {\"code\": \"Conflict\", \"details\": [{\"code\": \"OperationInProgress\"}]}}");
	az_parse_error(a, 409, j, NULL, &e);
	assert_int_equal(e.cls, DR_BE_ERR_TRANSIENT); /* busy: later it may work */
	cJSON_Delete(j);
	dr_arena_free(a);
}

static void test_job_names_from_headers(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	assert_string_equal(az_parse_job_name(a, "https://management.azure.com/Subscriptions/s/resourceGroups/g/providers/"
					      "Microsoft.RecoveryServices/vaults/v/replicationRecoveryPlans/p/"
					      "OperationResults/0a1b?api-version=2022-10-01"),
			    "0a1b");
	assert_string_equal(az_parse_job_name(a, "/Subscriptions/s/x/vaults/v/replicationJobs/abc"), "abc");
	assert_null(az_parse_job_name(a, "https://management.azure.com/somewhere/else?x=1"));
	assert_null(az_parse_job_name(a, NULL));
	dr_arena_free(a);
}

/* A job waiting at a manual action (the contract's ManualActionTaskDetails): Suspended, with its instructions. */
static void test_suspended_job_manual_action(void **state)
{
	(void)state;
	cJSON *c = load("asr-openapi-2025-08-01.json");
	assert_non_null(az_path(c, "definitions", "ManualActionTaskDetails", "properties", "instructions", NULL));
	cJSON_Delete(c);
	static const char job[] = "{\"id\": \"/S/replicationJobs/j2\", \"name\": \"j2\", \"properties\": {"
		"\"scenarioName\": \"UnplannedFailover\", \"state\": \"Suspended\", \"stateDescription\": \"Suspended\","
		"\"startTime\": \"2026-01-01T00:00:00Z\", \"allowedActions\": [\"Resume\"],"
		"\"tasks\": [{\"taskId\": \"t1\", \"friendlyName\": \"Prerequisites check for failover\", \"state\": \"Succeeded\"},"
		"{\"taskId\": \"t2\", \"friendlyName\": \"Check the database\", \"state\": \"Suspended\","
		"\"customDetails\": {\"instanceType\": \"ManualActionTaskDetails\", \"name\": \"Check the database\","
		"\"instructions\": \"Confirm the replica is consistent, then resume.\", \"observation\": \"\"}},"
		"{\"taskId\": \"t3\", \"friendlyName\": \"A step\", \"state\": \"Suspended\","
		"\"customDetails\": {\"instanceType\": \"ManualActionTaskDetails\", \"name\": \"Only a name\"}},"
		"{\"taskId\": \"t4\", \"friendlyName\": \"Later\", \"state\": \"NotStarted\","
		"\"customDetails\": {\"instanceType\": \"SomeFutureTaskDetails\", \"instructions\": \"not a manual action\"}}],"
		"\"customDetails\": {\"instanceType\": \"SwitchProtectionJobDetails\", \"newReplicationProtectedItemId\": \"/x/new\"},"
		"\"targetObjectId\": \"vm-1-guid\", \"targetObjectName\": \"db-1\"}}";
	cJSON *j = cJSON_Parse(job);
	dr_arena *a = dr_arena_new();
	dr_be_job out;
	bool op_known;
	assert_true(az_parse_job(a, j, &out, &op_known));
	assert_int_equal(out.state, DR_BE_JOB_SUSPENDED);
	assert_false(dr_backend_job_done(out.state));
	assert_int_equal(out.n_tasks, 4);
	assert_null(out.tasks[0].instructions);
	assert_int_equal(out.tasks[1].state, DR_BE_JOB_SUSPENDED);
	assert_string_equal(out.tasks[1].instructions, "Confirm the replica is consistent, then resume.");
	assert_string_equal(out.tasks[2].instructions, "Only a name");
	assert_null(out.tasks[3].instructions); /* another kind of task details */
	cJSON_Delete(j);
	dr_arena_free(a);
}

/* ---- the members the parser reads, against the contract (AZ_FIELDS) ------------------------------------ */

/* A schema with its local $ref followed ("#/definitions/X"); NULL for another file's (common types). */
static const cJSON *resolved(const cJSON *c, const cJSON *s)
{
	for (int hops = 0; s && hops < 16; hops++) {
		const char *ref = az_str(s, "$ref");
		if (!ref)
			return s;
		s = strncmp(ref, "#/definitions/", 14) == 0 ? az_path(c, "definitions", ref + 14, NULL) : NULL;
	}
	return s;
}

/* Property key of schema s, its allOf included (case-sensitive, as the contract spells it). */
static const cJSON *prop_of(const cJSON *c, const cJSON *s, const char *key, int depth)
{
	s = resolved(c, s);
	if (!s || depth > 16)
		return NULL;
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(s, "properties"), key), *m;
	if (p)
		return p;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(s, "allOf")) if ((p = prop_of(c, m, key, depth + 1)))
		return p;
	return NULL;
}

static const char *type_name(az_type t)
{
	static const char *const names[] = {"string", "integer", "boolean", "array", "object"};
	return names[t];
}

/* The JSON type of schema s ("object" when it only has properties, allOf or additionalProperties). */
static const char *schema_type(const cJSON *c, const cJSON *s)
{
	s = resolved(c, s);
	const char *t = az_str(s, "type");
	if (t)
		return t;
	return cJSON_GetObjectItem(s, "properties") || cJSON_GetObjectItem(s, "allOf") ? "object" : "unknown";
}

/* NULL when f's path exists in the contract with f's type, else why not (in buf). */
static const char *field_check(const cJSON *c, const az_field *f, char *buf, size_t n)
{
	const cJSON *s = az_path(c, "definitions", f->schema, NULL);
	if (!s)
		return snprintf(buf, n, "%s: no definition %s", f->name, f->schema), buf;
	char parent[256];
	snprintf(parent, sizeof parent, "%s", f->parent);
	for (char *seg = strtok(parent, "."); seg; seg = strtok(NULL, ".")) {
		size_t len = strlen(seg);
		bool items = len > 2 && strcmp(seg + len - 2, "[]") == 0;
		if (items)
			seg[len - 2] = '\0';
		if (!(s = prop_of(c, s, seg, 0)))
			return snprintf(buf, n, "%s: %s has no member %s", f->name, f->schema, seg), buf;
		if (items && strcmp(schema_type(c, s), "array") != 0)
			return snprintf(buf, n, "%s: %s.%s is not an array", f->name, f->schema, seg), buf;
		if (items)
			s = cJSON_GetObjectItem(resolved(c, s), "items");
	}
	const cJSON *p = prop_of(c, s, f->key, 0);
	if (!p)
		return snprintf(buf, n, "%s: %s%s%s has no member '%s'", f->name, f->schema, *f->parent ? "." : "", f->parent,
				f->key), buf;
	if (strcmp(schema_type(c, p), type_name(f->type)) != 0)
		return snprintf(buf, n, "%s: '%s' is %s in the contract, read as %s", f->name, f->key, schema_type(c, p),
				type_name(f->type)), buf;
	return NULL;
}

/* Every member the parser reads (one table, azure_int.h's AZ_FIELDS) is in the contract, with that type. */
static void test_fields_read_are_the_contracts(void **state)
{
	(void)state;
	cJSON *c = load("asr-openapi-2025-08-01.json");
	char why[512];
	int bad = 0;
	for (size_t i = 0; i < AZF_COUNT; i++) {
		const char *w = field_check(c, &az_fields[i], why, sizeof why);
		if (w)
			fprintf(stderr, "  not in the contract: %s\n", w), bad++;
	}
	assert_int_equal(bad, 0);
	/* the check can fail: a misspelt member, a wrong type, an array step through a non-array */
	az_field typo = az_fields[AZF_A2A_INITIAL_PRIMARY], wrong = az_fields[AZF_ITEM_FRIENDLY],
		 step = az_fields[AZF_A2A_IPCONFIGS];
	typo.key = "initialPrimaryFabricLocaton";
	wrong.type = AZ_T_INTEGER;
	step.parent = "primaryFabricLocation[]";
	assert_non_null(field_check(c, &typo, why, sizeof why));
	assert_non_null(strstr(why, "initialPrimaryFabricLocaton"));
	assert_non_null(field_check(c, &wrong, why, sizeof why));
	assert_non_null(field_check(c, &step, why, sizeof why));
	/* the provider and task types the parser compares instanceType with are the contract's discriminators */
	assert_string_equal(az_str(az_path(c, "definitions", "A2AReplicationDetails", NULL), "x-ms-discriminator-value"),
			    AZ_PROVIDER);
	assert_string_equal(az_str(az_path(c, "definitions", "ManualActionTaskDetails", NULL), "x-ms-discriminator-value"),
			    "ManualActionTaskDetails");
	cJSON_Delete(c);
}

/* A payload for schema s from the contract: every property (allOf included), typed sample values. */
static cJSON *generated(const cJSON *c, const cJSON *s, int depth)
{
	s = resolved(c, s);
	const char *type = schema_type(c, s);
	const cJSON *en = cJSON_GetObjectItem(s, "enum");
	if (cJSON_IsArray(en) && cJSON_IsString(cJSON_GetArrayItem(en, 0)))
		return cJSON_CreateString(cJSON_GetArrayItem(en, 0)->valuestring);
	if (strcmp(type, "string") == 0)
		return cJSON_CreateString(az_str(s, "format") && strcmp(az_str(s, "format"), "date-time") == 0
						  ? "2026-12-06T10:00:00Z" : "x");
	if (strcmp(type, "integer") == 0 || strcmp(type, "number") == 0)
		return cJSON_CreateNumber(7);
	if (strcmp(type, "boolean") == 0)
		return cJSON_CreateTrue();
	if (strcmp(type, "array") == 0) {
		cJSON *arr = cJSON_CreateArray();
		if (depth < 6)
			cJSON_AddItemToArray(arr, generated(c, cJSON_GetObjectItem(s, "items"), depth + 1));
		return arr;
	}
	cJSON *o = cJSON_CreateObject();
	const cJSON *m, *p;
	if (depth >= 6 || !s)
		return o;
	cJSON_ArrayForEach(m, cJSON_GetObjectItem(s, "allOf"))
	{
		cJSON *base = generated(c, m, depth + 1), *x;
		cJSON_ArrayForEach(x, base) if (!cJSON_GetObjectItem(o, x->string))
			cJSON_AddItemToObject(o, x->string, cJSON_Duplicate(x, true));
		cJSON_Delete(base);
	}
	cJSON_ArrayForEach(p, cJSON_GetObjectItem(s, "properties"))
	{
		cJSON_DeleteItemFromObjectCaseSensitive(o, p->string);
		cJSON_AddItemToObject(o, p->string, generated(c, p, depth + 1));
	}
	if (!cJSON_GetObjectItem(s, "properties") && cJSON_IsObject(cJSON_GetObjectItem(s, "additionalProperties")))
		cJSON_AddStringToObject(o, "someKey", "x");
	return o;
}

/* A resource of definition name: generated, with an ARM id and name; psd: the item's provider (NULL: none). */
static cJSON *resource(const cJSON *c, const char *name, const char *psd)
{
	cJSON *v = generated(c, az_path(c, "definitions", name, NULL), 0);
	cJSON_DeleteItemFromObject(v, "id");
	cJSON_DeleteItemFromObject(v, "name");
	cJSON_AddStringToObject(v, "id", "/subscriptions/s/resourceGroups/g/providers/Microsoft.RecoveryServices/vaults/v/x/r-1");
	cJSON_AddStringToObject(v, "name", "r-1");
	cJSON *props = cJSON_GetObjectItem(v, "properties");
	if (psd) {
		cJSON *d = generated(c, az_path(c, "definitions", psd, NULL), 0);
		const char *type = az_str(az_path(c, "definitions", psd, NULL), "x-ms-discriminator-value");
		cJSON_DeleteItemFromObject(d, "instanceType");
		cJSON_AddStringToObject(d, "instanceType", type);
		cJSON_ReplaceItemInObject(props, "providerSpecificDetails", d);
	}
	return v;
}

/* Parse v as kind k: never a crash; true when read, else az_parse_lacks names what is missing. */
static bool parses(const cJSON *v, az_kind k)
{
	dr_arena *a = dr_arena_new();
	dr_be_item it;
	dr_be_point pt;
	dr_be_job j;
	bool known, ok = k == AZ_ITEM ? az_parse_item(a, v, &it) : k == AZ_POINT ? az_parse_point(a, v, &pt)
										 : az_parse_job(a, v, &j, &known);
	dr_be_error e = {0};
	if (ok && k == AZ_ITEM)
		az_provider_refusal(a, v, DR_BE_OP_FAILOVER, &e);
	dr_arena_free(a);
	assert_true(ok == (az_parse_lacks(v, k) == NULL));
	return ok;
}

typedef struct mutations {
	cJSON *root;
	az_kind k;
	int variants, refused;
} mutations;

/* Each member of o (under root) absent, null, of another type, and next to an unknown member: parse each. */
static void mutate(mutations *m, cJSON *o, const char *path)
{
	cJSON *x = o ? o->child : NULL;
	for (; x; x = x->next) {
		char here[512];
		snprintf(here, sizeof here, "%s%s%s", path, *path ? "." : "", x->string ? x->string : "[]");
		cJSON *saved = cJSON_Duplicate(x, true);
		cJSON *alts[] = {cJSON_CreateNull(), cJSON_CreateNumber(1e300), cJSON_CreateString(""),
				 cJSON_CreateObject(), cJSON_CreateArray()};
		for (size_t i = 0; i < sizeof alts / sizeof alts[0]; i++) {
			cJSON *dup = cJSON_Duplicate(alts[i], true);
			if (x->string)
				cJSON_ReplaceItemViaPointer(o, x, dup);
			else
				cJSON_ReplaceItemViaPointer(o, x, dup);
			x = dup;
			m->variants++;
			if (!parses(m->root, m->k))
				m->refused++;
			cJSON_Delete(alts[i]);
		}
		cJSON_ReplaceItemViaPointer(o, x, saved);
		x = saved;
		if (cJSON_IsObject(x) || cJSON_IsArray(x)) {
			cJSON_AddItemToObject(x, "unknownMemberFromTheFuture", cJSON_CreateString("x")); /* arrays: an extra item */
			m->variants++;
			parses(m->root, m->k);
			mutate(m, x, here);
		}
	}
}

/* Payloads made from the contract's schemas, each member absent, null, mistyped, or beside an unknown one: never a
   crash, never read when a needed member is gone, and then az_parse_lacks names it. */
static void test_generated_payloads(void **state)
{
	(void)state;
	cJSON *c = load("asr-openapi-2025-08-01.json");
	const struct {
		const char *def, *psd;
		az_kind k;
	} cases[] = {{"ReplicationProtectedItem", "A2AReplicationDetails", AZ_ITEM},
		     {"ReplicationProtectedItem", "HyperVReplicaAzureReplicationDetails", AZ_ITEM},
		     {"ReplicationProtectedItem", "InMageRcmReplicationDetails", AZ_ITEM},
		     {"RecoveryPoint", NULL, AZ_POINT},
		     {"Job", NULL, AZ_JOB}};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		cJSON *v = resource(c, cases[i].def, cases[i].psd);
		assert_true(parses(v, cases[i].k)); /* everything present */
		mutations m = {.root = v, .k = cases[i].k};
		mutate(&m, v, "");
		fprintf(stderr, "  %s (%s): %d variants, %d not read\n", cases[i].def, cases[i].psd ? cases[i].psd : "-", m.variants, m.refused);
		assert_true(m.variants > 20);
		assert_true(m.refused > 0); /* id and properties are needed: their variants are refused */
		cJSON_Delete(v);
	}
	/* the missing member is named: a point's time and properties are optional in the contract, its id is not */
	cJSON *v = resource(c, "RecoveryPoint", NULL);
	cJSON_DeleteItemFromObject(cJSON_GetObjectItem(v, "properties"), "recoveryPointTime");
	assert_null(az_parse_lacks(v, AZ_POINT));
	cJSON_DeleteItemFromObject(v, "properties");
	assert_null(az_parse_lacks(v, AZ_POINT));
	cJSON_DeleteItemFromObject(v, "id");
	assert_string_equal(az_parse_lacks(v, AZ_POINT), "id");
	cJSON_Delete(v);
	cJSON_Delete(c);
}

/* A point of the contract's shape with name and time (NULL: no recoveryPointTime) and type. */
static cJSON *point_of(const cJSON *c, const char *name, const char *time, const char *type)
{
	cJSON *v = resource(c, "RecoveryPoint", NULL), *p = cJSON_GetObjectItem(v, "properties");
	cJSON_ReplaceItemInObject(v, "name", cJSON_CreateString(name));
	cJSON_DeleteItemFromObject(p, "recoveryPointTime");
	if (time)
		cJSON_AddStringToObject(p, "recoveryPointTime", time);
	cJSON_ReplaceItemInObject(p, "recoveryPointType", cJSON_CreateString(type));
	return v;
}

/* recoveryPointTime is optional in the contract: a point without one is listed (undated, last), never chosen -
   not as the latest, not by time, not by its id (its age, and so the RPO, is unknown). */
static void test_undated_points(void **state)
{
	(void)state;
	cJSON *c = load("asr-openapi-2025-08-01.json");
	dr_arena *a = dr_arena_new();
	cJSON *raw[] = {point_of(c, "p-undated", NULL, "ApplicationConsistent"),
			point_of(c, "p-new", "2026-12-06T10:00:00Z", "CrashConsistent"),
			point_of(c, "p-old", "2026-12-06T09:00:00Z", "ApplicationConsistent"),
			point_of(c, "p-bad", "not a time", "CrashConsistent")};
	dr_be_point pts[4];
	for (size_t i = 0; i < 4; i++) {
		cJSON_ReplaceItemInObject(raw[i], "id", cJSON_CreateString(dr_arena_printf(a, "/item/recoveryPoints/%s",
											    az_str(raw[i], "name"))));
		assert_true(az_parse_point(a, raw[i], &pts[i]));
	}
	assert_int_equal(pts[0].time_ms, -1);
	assert_int_equal(pts[3].time_ms, -1); /* a time that is no time: undated too */
	az_sort_points(pts, 4);
	assert_string_equal(pts[0].name, "p-new");
	assert_string_equal(pts[1].name, "p-old");
	assert_int_equal(pts[2].time_ms, -1);
	assert_int_equal(pts[3].time_ms, -1);
	dr_be_item it = {.name = "vm", .rpo_ms = 60000};
	dr_be_choice ch;
	int64_t now = t("2026-12-06T11:00:00Z");
	dr_be_point_query q = {.policy = DR_POINT_LATEST_PROCESSED, .max_age_ms = -1};
	assert_int_equal(dr_backend_choose_point(&it, pts, 4, &q, now, &ch), DR_BE_PICK_OK);
	assert_string_equal(ch.point->name, "p-new");
	q.policy = DR_POINT_LATEST_APP_CONSISTENT; /* the undated app-consistent point is not the newest one */
	assert_int_equal(dr_backend_choose_point(&it, pts, 4, &q, now, &ch), DR_BE_PICK_OK);
	assert_string_equal(ch.point->name, "p-old");
	q = (dr_be_point_query){.policy = DR_POINT_CUSTOM, .custom_time_ms = INT64_MAX, .max_age_ms = -1};
	assert_int_equal(dr_backend_choose_point(&it, pts, 4, &q, now, &ch), DR_BE_PICK_OK);
	assert_string_equal(ch.point->name, "p-new");
	q.custom_id = "p-undated"; /* by id: its age cannot be known, so neither can the RPO */
	assert_int_equal(dr_backend_choose_point(&it, pts, 4, &q, now, &ch), DR_BE_PICK_NONE);
	q = (dr_be_point_query){.policy = DR_POINT_LATEST_PROCESSED, .max_age_ms = 3600000};
	assert_int_equal(dr_backend_choose_point(&it, pts + 2, 2, &q, now, &ch), DR_BE_PICK_NONE); /* only undated */
	/* a listed point without an id: undated, named by its place */
	dr_be_point un;
	cJSON_DeleteItemFromObject(raw[1], "id");
	assert_false(az_parse_point(a, raw[1], &un));
	assert_string_equal(az_parse_lacks(raw[1], AZ_POINT), "id");
	az_parse_point_unnamed(a, 6, &un);
	assert_string_equal(un.name, "unnamed-point-7");
	assert_int_equal(un.time_ms, -1);
	for (size_t i = 0; i < 4; i++)
		cJSON_Delete(raw[i]);
	dr_arena_free(a);
	cJSON_Delete(c);
}

/* An item of another provider is read (plans list it), but an operation on it is refused, naming the type. */
static void test_other_providers_are_refused_by_name(void **state)
{
	(void)state;
	cJSON *c = load("asr-openapi-2025-08-01.json");
	dr_arena *a = dr_arena_new();
	const char *types[][2] = {{"HyperVReplicaAzureReplicationDetails", "HyperVReplicaAzure"},
				  {"InMageRcmReplicationDetails", "InMageRcm"}};
	for (size_t i = 0; i < 2; i++) {
		cJSON *v = resource(c, "ReplicationProtectedItem", types[i][0]);
		cJSON_ReplaceItemInObject(cJSON_GetObjectItem(v, "properties"), "friendlyName", cJSON_CreateString("hv-1"));
		dr_be_item it;
		dr_be_error e = {0};
		assert_true(az_parse_item(a, v, &it));
		assert_int_equal(az_provider_refusal(a, v, DR_BE_OP_FAILOVER, &e), -1);
		assert_string_equal(e.code, "ProviderNotSupported");
		assert_int_equal(e.cls, DR_BE_ERR_PERMANENT);
		assert_non_null(strstr(e.message, types[i][1]));
		assert_non_null(strstr(e.message, "'hv-1'"));
		assert_non_null(strstr(e.message, "nothing was asked"));
		/* and the plan knows before any operation starts: the preflight refuses the item's operations */
		assert_non_null(it.unusable);
		assert_non_null(strstr(it.unusable, types[i][1]));
		assert_non_null(strstr(it.unusable, "not Azure-to-Azure (A2A)"));
		cJSON_Delete(v);
	}
	cJSON *v = resource(c, "ReplicationProtectedItem", "A2AReplicationDetails");
	dr_be_error e = {0};
	assert_int_equal(az_provider_refusal(a, v, DR_BE_OP_FAILOVER, &e), 0);
	dr_be_item it;
	assert_true(az_parse_item(a, v, &it));
	assert_null(it.unusable);
	cJSON_Delete(v);
	dr_arena_free(a);
	cJSON_Delete(c);
}

/* An item the list cannot read is kept, named as well as it can be, with what it lacks; never dropped silently. */
static void test_unreadable_item_is_named_not_dropped(void **state)
{
	(void)state;
	cJSON *c = load("asr-openapi-2025-08-01.json");
	dr_arena *a = dr_arena_new();
	cJSON *v = resource(c, "ReplicationProtectedItem", "A2AReplicationDetails");
	cJSON_ReplaceItemInObject(v, "name", cJSON_CreateString("db-9-item"));
	cJSON_DeleteItemFromObject(v, "properties");
	dr_be_item it;
	assert_false(az_parse_item(a, v, &it));
	az_parse_unreadable(a, v, 6, &it);
	assert_string_equal(it.name, "db-9-item");
	assert_non_null(it.id);
	assert_int_equal(it.state, DR_BE_ST_OTHER);
	assert_int_equal(it.allowed_ops, 0);
	assert_non_null(strstr(it.unusable, "number 7 of the vault's list, id "));
	assert_non_null(strstr(it.unusable, "lacks properties"));
	assert_true(it.nameless); /* no friendlyName: no VM set can tell whether it is theirs (the preflight blocks) */
	cJSON *v2 = resource(c, "ReplicationProtectedItem", "A2AReplicationDetails");
	cJSON_DeleteItemFromObject(v2, "id");
	az_parse_unreadable(a, v2, 0, &it); /* its friendlyName read: a VM set can match it by name */
	assert_false(it.nameless);
	assert_string_equal(it.name, cJSON_GetObjectItem(cJSON_GetObjectItem(v2, "properties"), "friendlyName")->valuestring);
	cJSON_Delete(v2);
	cJSON_DeleteItemFromObject(v, "id");
	cJSON_DeleteItemFromObject(v, "name");
	az_parse_unreadable(a, v, 2, &it); /* nothing to name it by: its place in the list */
	assert_string_equal(it.name, "unreadable-item-3");
	assert_string_equal(it.id, "unreadable-item-3");
	assert_non_null(strstr(it.unusable, "lacks id"));
	cJSON_Delete(v);
	dr_arena_free(a);
	cJSON_Delete(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_item_get),
		cmocka_unit_test(test_unreadable_item_is_named_not_dropped),
		cmocka_unit_test(test_item_after_unplanned_failover),
		cmocka_unit_test(test_item_test_failover_waits_for_cleanup),
		cmocka_unit_test(test_item_unknown_state_is_other),
		cmocka_unit_test(test_recovery_points_sorted),
		cmocka_unit_test(test_job_get),
		cmocka_unit_test(test_job_list),
		cmocka_unit_test(test_every_example_parses),
		cmocka_unit_test(test_a2a_item_from_the_contract),
		cmocka_unit_test(test_states_from_strings),
		cmocka_unit_test(test_operations_are_the_contracts),
		cmocka_unit_test(test_failed_job_errors),
		cmocka_unit_test(test_malformed_is_refused_not_crashed),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_failover_direction_by_region),
		cmocka_unit_test(test_reprotected_item_in_first_view),
		cmocka_unit_test(test_job_names_from_headers),
		cmocka_unit_test(test_suspended_job_manual_action),
		cmocka_unit_test(test_fields_read_are_the_contracts),
		cmocka_unit_test(test_generated_payloads),
		cmocka_unit_test(test_undated_points),
		cmocka_unit_test(test_other_providers_are_refused_by_name),
	};
	return cmocka_run_group_tests(tests, find_reference, NULL);
}
