/*
 * test_contract.c - the OpenAPI contract checker (emulator/contract.h) on
 * Microsoft's published example requests (valid: no problem), on broken
 * ones (each problem named where it is), and on the emulator's own answers:
 * an emulator in-process, every route it serves called through
 * dr_emu_handle, each response checked against its operation's schema.
 *
 * The reference material (shared/reference) is found as
 * tests/reference-dir.sh finds it: $DROVER_REFERENCE, ../shared/reference,
 * /work/shared/reference. Missing, the tests fail.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "emulator/contract.h"
#include "emulator/emu_int.h"
#include "util/arena.h"
#include "util/buf.h"

static char ref[1024];
static dr_contract *contract;

#define V "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/drover-sim/providers/" \
	  "Microsoft.RecoveryServices/vaults/drover-sim-vault"

static bool is_dir_with_contract(const char *d)
{
	char p[1100];
	struct stat st;
	snprintf(p, sizeof p, "%s/asr-openapi-2025-08-01.json", d);
	return d && *d && stat(p, &st) == 0;
}

static int setup(void **state)
{
	(void)state;
	const char *env = getenv("DROVER_REFERENCE");
	const char *cands[] = {env ? env : "", "../shared/reference", "/work/shared/reference"};
	char err[512];
	for (size_t i = 0; i < 3 && !ref[0]; i++)
		if (is_dir_with_contract(cands[i]))
			snprintf(ref, sizeof ref, "%s", cands[i]);
	if (!ref[0]) {
		fprintf(stderr, "test_contract: reference material not found (set DROVER_REFERENCE)\n");
		return -1;
	}
	char path[1100];
	snprintf(path, sizeof path, "%s/asr-openapi-2025-08-01.json", ref);
	contract = dr_contract_load(path, err, sizeof err);
	if (!contract)
		fprintf(stderr, "test_contract: %s\n", err);
	return contract ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	dr_contract_free(contract);
	return 0;
}

static cJSON *read_json(const char *path)
{
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	dr_buf b;
	dr_buf_init(&b);
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		dr_buf_append(&b, chunk, n);
	fclose(f);
	cJSON *v = cJSON_ParseWithLength(b.data, b.len);
	dr_buf_dispose(&b);
	assert_non_null(v);
	return v;
}

static void show(const dr_contract_result *r)
{
	for (size_t i = 0; i < r->n_problems; i++)
		fprintf(stderr, "    %s\n", r->problems[i]);
}

/* The operation operationId: its method and path template (from the contract file itself). */
static bool find_operation(const cJSON *root, const char *id, const char **method, const char **path,
			   const cJSON **op)
{
	const cJSON *paths = cJSON_GetObjectItemCaseSensitive(root, "paths");
	for (const cJSON *p = paths->child; p; p = p->next)
		for (const cJSON *m = p->child; m; m = m->next) {
			const cJSON *oid = cJSON_GetObjectItemCaseSensitive(m, "operationId");
			if (cJSON_IsString(oid) && strcmp(oid->valuestring, id) == 0) {
				*method = m->string, *path = p->string, *op = m;
				return true;
			}
		}
	return false;
}

/* The template with the example's parameters put in. */
static const char *fill_path(dr_arena *a, const char *tmpl, const cJSON *params)
{
	dr_buf b;
	dr_buf_init(&b);
	for (const char *s = tmpl; *s;) {
		if (*s != '{') {
			dr_buf_putc(&b, *s++);
			continue;
		}
		const char *end = strchr(s, '}');
		char *name = dr_arena_strndup(a, s + 1, (size_t)(end - s - 1));
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(params, name);
		dr_buf_puts(&b, cJSON_IsString(v) ? v->valuestring : "missing");
		s = end + 1;
	}
	const char *r = dr_arena_strdup(a, b.data);
	dr_buf_dispose(&b);
	return r;
}

static const char *body_param(const cJSON *op)
{
	const cJSON *ps = cJSON_GetObjectItemCaseSensitive(op, "parameters");
	for (const cJSON *p = ps->child; p; p = p->next) {
		const cJSON *in = cJSON_GetObjectItemCaseSensitive(p, "in");
		if (cJSON_IsString(in) && strcmp(in->valuestring, "body") == 0)
			return cJSON_GetObjectItemCaseSensitive(p, "name")->valuestring;
	}
	return NULL;
}

/* One example file: its request passes; its 200 body (when any) is a valid answer. */
static void check_example(const cJSON *root, const char *dir, const char *file)
{
	char path[1400], id[256];
	const char *method = NULL, *tmpl = NULL;
	const cJSON *op = NULL;
	dr_arena *a = dr_arena_new();
	dr_contract_result r;
	snprintf(path, sizeof path, "%s/%s", dir, file);
	snprintf(id, sizeof id, "%.*s", (int)(strlen(file) - 5), file);
	cJSON *ex = read_json(path);
	assert_true(find_operation(root, id, &method, &tmpl, &op));
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(ex, "parameters");
	const char *bp = body_param(op), *qk[] = {"api-version"}, *qv[] = {"2025-08-01"};
	char *body = bp ? cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(params, bp)) : NULL;
	const char *p = fill_path(a, tmpl, params);
	size_t n = dr_contract_check_request(contract, a, method, p, qk, qv, 1, body, body ? strlen(body) : 0, &r);
	if (n)
		fprintf(stderr, "  %s (request):\n", file), show(&r);
	assert_int_equal(n, 0);
	assert_string_equal(r.operation_id, id);
	const cJSON *ok = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ex, "responses"), "200");
	const cJSON *rb = cJSON_GetObjectItemCaseSensitive(ok, "body");
	if (rb) {
		char *text = cJSON_PrintUnformatted(rb);
		n = dr_contract_check_response(contract, a, method, p, 200, text, strlen(text), &r);
		if (n)
			fprintf(stderr, "  %s (response):\n", file), show(&r);
		assert_int_equal(n, 0);
		cJSON_free(text);
	}
	cJSON_free(body);
	cJSON_Delete(ex);
	dr_arena_free(a);
}

static void test_published_examples_are_valid(void **state)
{
	(void)state;
	char dir[1100], cpath[1100];
	snprintf(dir, sizeof dir, "%s/asr-examples", ref);
	snprintf(cpath, sizeof cpath, "%s/asr-openapi-2025-08-01.json", ref);
	cJSON *root = read_json(cpath);
	DIR *d = opendir(dir);
	assert_non_null(d);
	int files = 0;
	for (struct dirent *e; (e = readdir(d));) {
		size_t n = strlen(e->d_name);
		if (n > 5 && strcmp(e->d_name + n - 5, ".json") == 0)
			check_example(root, dir, e->d_name), files++;
	}
	closedir(d);
	cJSON_Delete(root);
	assert_true(files >= 9);
}

/* ---- broken requests --------------------------------------------------------------------------- */

#define RPI V "/replicationFabrics/f1/replicationProtectionContainers/c1/replicationProtectedItems/i1"

static size_t post(dr_arena *a, const char *path, const char *body, dr_contract_result *r)
{
	const char *qk[] = {"api-version"}, *qv[] = {"2025-08-01"};
	return dr_contract_check_request(contract, a, "POST", path, qk, qv, 1, body, body ? strlen(body) : 0, r);
}

static bool has(const dr_contract_result *r, const char *needle)
{
	for (size_t i = 0; i < r->n_problems; i++)
		if (strstr(r->problems[i], needle))
			return true;
	show(r);
	return false;
}

static void test_broken_requests(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_contract_result r;
	assert_int_equal(post(a, RPI "/unplannedFailover",
			      "{\"properties\":{\"failoverDirection\":\"PrimaryToRecovery\",\"sourceSiteOperations\":"
			      "\"Required\",\"providerSpecificDetails\":{\"instanceType\":\"A2A\",\"recoveryPointId\":null}}}",
			      &r),
			 0);
	assert_string_equal(r.operation_id, "ReplicationProtectedItems_UnplannedFailover");
	assert_int_equal(post(a, RPI "/unplannedFailover",
			      "{\"properties\":{\"providerSpecificDetails\":{\"instanceType\":\"A3A\"}}}", &r), 1);
	assert_true(has(&r, "body.properties.providerSpecificDetails.instanceType: 'A3A' is not a subtype of "
			    "UnplannedFailoverProviderSpecificInput"));
	assert_true(has(&r, "A2A"));
	post(a, RPI "/unplannedFailover", "{\"properties\":{\"failoverDirecton\":\"PrimaryToRecovery\"}}", &r);
	assert_true(has(&r, "body.properties.failoverDirecton: no such property (the schema has: failoverDirection"));
	post(a, RPI "/unplannedFailover", "{\"properties\":{\"failoverDirection\":5}}", &r);
	assert_true(has(&r, "body.properties.failoverDirection: expected a string, not a number"));
	post(a, RPI "/unplannedFailover", "{}", &r);
	assert_true(has(&r, "body: the required property 'properties' is missing"));
	post(a, RPI "/unplannedFailover", NULL, &r);
	assert_true(has(&r, "body: the operation requires a body (UnplannedFailoverInput)"));
	post(a, RPI "/unplannedFailover", "{not json", &r);
	assert_true(has(&r, "body: not JSON"));
	post(a, RPI "/applyRecoveryPoint", "{\"properties\":{\"recoveryPointId\":\"x\"}}", &r);
	assert_true(has(&r, "body.properties: the required property 'providerSpecificDetails' is missing"));
	post(a, RPI "/failoverCommit", "{\"properties\":{}}", &r);
	assert_true(has(&r, "body: the operation takes no body"));
	post(a, RPI "/testFailoverCleanup", "{\"properties\":{\"comments\":\"" \
	     "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"}}", &r);
	assert_int_equal(r.n_problems, 0);
	post(a, V "/replicationFabrics/f1/replicationProtectionContainers/c1/switchprotection",
	     "{\"properties\":{\"replicationProtectedItemName\":\"i1\",\"providerSpecificDetails\":{\"instanceType\":"
	     "\"A2A\",\"vmManagedDisks\":[{\"diskId\":7}]}}}",
	     &r);
	assert_true(has(&r, "body.properties.providerSpecificDetails.vmManagedDisks[0].diskId: expected a string"));
	const char *qk[] = {"api-version", "$top"}, *qv[] = {"2024-04-01", "5"};
	dr_contract_check_request(contract, a, "GET",
				  "/subscriptions/not-a-uuid/resourceGroups/rg/providers/Microsoft.RecoveryServices/"
				  "vaults/v/replicationJobs",
				  qk, qv, 2, NULL, 0, &r);
	assert_true(has(&r, "path.subscriptionId: 'not-a-uuid' is not a UUID"));
	assert_true(has(&r, "query.api-version: '2024-04-01' is not the contract's version 2025-08-01"));
	assert_true(has(&r, "query.$top: the operation has no such parameter"));
	dr_contract_check_request(contract, a, "GET", V "/replicationJobs", NULL, NULL, 0, NULL, 0, &r);
	assert_true(has(&r, "query.api-version: the required query parameter is missing"));
	assert_int_equal(dr_contract_check_request(contract, a, "GET", "/no/such/route", NULL, NULL, 0, NULL, 0, &r), 0);
	assert_null(r.operation_id);
	/* case-insensitive literal segments, as ARM */
	dr_contract_check_request(contract, a, "get", "/SUBSCRIPTIONS/00000000-0000-0000-0000-000000000000/resourcegroups/"
						     "rg/PROVIDERS/microsoft.recoveryservices/vaults/v/REPLICATIONJOBS",
				  qk, qv, 1, NULL, 0, &r);
	assert_string_equal(r.operation_id, "ReplicationJobs_List");
	dr_arena_free(a);
}

static void test_definitions_enums_and_formats(void **state)
{
	(void)state;
	dr_arena *a = dr_arena_new();
	dr_contract_result r;
	const char *pt = "{\"instanceType\":\"A2A\",\"recoveryPointSyncType\":\"Sometimes\"}";
	dr_contract_check_definition(contract, a, "A2ARecoveryPointDetails", pt, strlen(pt), "x", &r);
	assert_true(has(&r, "x.recoveryPointSyncType: 'Sometimes' is not one of: MultiVmSyncRecoveryPoint, PerVmRecoveryPoint"));
	const char *job = "{\"properties\":{\"startTime\":\"yesterday\",\"tasks\":[{\"taskId\":1}]}}";
	dr_contract_check_definition(contract, a, "Job", job, strlen(job), "job", &r);
	assert_true(has(&r, "job.properties.startTime: 'yesterday' is not a date-time"));
	assert_true(has(&r, "job.properties.tasks[0].taskId: expected a string, not a number"));
	const char *pol = "{\"properties\":{\"providerSpecificDetails\":{\"instanceType\":\"A2A\",\"recoveryPointHistory\":1.5}}}";
	dr_contract_check_definition(contract, a, "Policy", pol, strlen(pol), "p", &r);
	assert_true(has(&r, "p.properties.providerSpecificDetails.recoveryPointHistory: 1.5 is not an integer"));
	const char *bad_item = "{\"id\":\"x\",\"properties\":{\"bogus\":1,\"allowedOperations\":[\"Commit\"]}}";
	dr_contract_check_response(contract, a, "GET", RPI, 200, bad_item, strlen(bad_item), &r);
	assert_int_equal(r.n_problems, 1);
	assert_true(has(&r, "body.properties.bogus: no such property"));
	dr_contract_check_response(contract, a, "GET", RPI, 203, "{}", 2, &r);
	assert_true(has(&r, "status: 203 is not a status the operation declares"));
	dr_contract_check_definition(contract, a, "NoSuchThing", "{}", 2, "q", &r);
	assert_true(has(&r, "no definition 'NoSuchThing'"));
	dr_arena_free(a);
}

/* ---- the emulator's own answers ---------------------------------------------------------------------- */

typedef struct call {
	dr_emu *e;
	dr_arena *a;
	const char *token;
	int64_t now;
} call;

/* Send one request in-process; returns the status, body and Location header into *rs (dispose it). */
static int send(call *c, const char *method, const char *path, const char *body, emu_resp *rs)
{
	const char *qk[] = {"api-version"}, *qv[] = {"2025-08-01"};
	emu_req rq = {.method = method, .path = path, .qk = qk, .qv = qv, .n_query = 1,
		      .authorization = dr_arena_printf(c->a, "Bearer %s", c->token), .client_request_id = "unit-1",
		      .body = body, .body_len = body ? strlen(body) : 0, .now_ms = c->now, .a = c->a};
	memset(rs, 0, sizeof *rs);
	dr_buf_init(&rs->body);
	dr_emu_handle(c->e, &rq, rs);
	return rs->status;
}

static const char *token(dr_emu *e, dr_arena *a, int64_t now)
{
	const char *fk[] = {"grant_type", "client_id", "client_secret", "scope"};
	const char *fv[] = {"client_credentials", DR_EMU_CLIENT_ID, DR_EMU_CLIENT_SECRET,
			    "https://management.azure.com/.default"};
	emu_req rq = {.method = "POST", .path = "/t/oauth2/v2.0/token", .fk = fk, .fv = fv, .n_form = 4,
		      .now_ms = now, .a = a};
	emu_resp rs = {0};
	dr_buf_init(&rs.body);
	dr_emu_handle(e, &rq, &rs);
	assert_int_equal(rs.status, 200);
	cJSON *o = cJSON_Parse(rs.body.data);
	const char *t = dr_arena_strdup(a, cJSON_GetObjectItemCaseSensitive(o, "access_token")->valuestring);
	cJSON_Delete(o);
	dr_buf_dispose(&rs.body);
	return t;
}

/* GET or POST path and check the answer against the contract; returns its body parsed (caller deletes). */
static cJSON *checked(call *c, const char *method, const char *path, const char *body, int want)
{
	emu_resp rs;
	dr_contract_result r;
	int status = send(c, method, path, body, &rs);
	if (status != want)
		fprintf(stderr, "  %s %s: %d %s\n", method, path, status, rs.body.data ? rs.body.data : "");
	assert_int_equal(status, want);
	size_t n = dr_contract_check_response(contract, c->a, method, path, status, rs.body.data, rs.body.len, &r);
	if (n)
		fprintf(stderr, "  %s %s:\n", method, path), show(&r);
	assert_int_equal(n, 0);
	cJSON *v = rs.body.len ? cJSON_Parse(rs.body.data) : NULL;
	dr_buf_dispose(&rs.body);
	return v;
}

static const char *str(const cJSON *o, const char *dotted, dr_arena *a)
{
	char *copy = dr_arena_strdup(a, dotted), *save = NULL;
	for (char *k = strtok_r(copy, ".", &save); k && o; k = strtok_r(NULL, ".", &save))
		o = cJSON_IsArray(o) ? cJSON_GetArrayItem(o, atoi(k)) : cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(o) ? dr_arena_strdup(a, o->valuestring) : NULL;
}

/* Poll the job until it is done, moving the clock by its Retry-After. */
static void finish_job(call *c, const char *item, const char *job)
{
	for (int i = 0; i < 200; i++) {
		cJSON *j = checked(c, "GET", dr_arena_printf(c->a, V "/replicationJobs/%s", job), NULL, 200);
		const char *state = str(j, "properties.state", c->a);
		cJSON_Delete(j);
		if (strcmp(state, "Succeeded") == 0)
			return;
		assert_string_equal(state, "InProgress");
		c->now += 5000;
	}
	fail_msg("the job on %s never finished", item);
}

static void test_emulator_answers_follow_the_contract(void **state)
{
	(void)state;
	dr_diags *d = dr_diags_new();
	char err[512];
	dr_emu_opts o = {.speed = 10, .no_limits = true};
	call c = {.a = dr_arena_new(), .now = INT64_C(1798761600000)};
	c.e = dr_emu_new(&o, d, err, sizeof err);
	assert_non_null(c.e);
	snprintf(c.e->base_url, sizeof c.e->base_url, "http://127.0.0.1:1");
	c.token = token(c.e, c.a, c.now);
	cJSON *list = checked(&c, "GET", V "/replicationProtectedItems", NULL, 200);
	const char *item = str(list, "value.0.id", c.a);
	cJSON_Delete(list);
	const char *ctr = dr_arena_strndup(c.a, item, (size_t)(strstr(item, "/replicationProtectedItems/") - item));
	cJSON_Delete(checked(&c, "GET", item, NULL, 200));
	cJSON *pts = checked(&c, "GET", dr_arena_printf(c.a, "%s/recoveryPoints", item), NULL, 200);
	const char *pt = str(pts, "value.0.name", c.a);
	cJSON_Delete(pts);
	cJSON_Delete(checked(&c, "GET", dr_arena_printf(c.a, "%s/recoveryPoints/%s", item, pt), NULL, 200));
	cJSON_Delete(checked(&c, "POST", dr_arena_printf(c.a, "%s/unplannedFailover", item),
			     "{\"properties\":{\"failoverDirection\":\"PrimaryToRecovery\",\"sourceSiteOperations\":"
			     "\"Required\",\"providerSpecificDetails\":{\"instanceType\":\"A2A\"}}}",
			     202));
	cJSON *jobs = checked(&c, "GET", V "/replicationJobs", NULL, 200);
	const char *job = str(jobs, "value.0.name", c.a);
	cJSON_Delete(jobs);
	cJSON_Delete(checked(&c, "GET", dr_arena_printf(c.a, V "/replicationJobs/%s", job), NULL, 200));
	cJSON *busy = checked(&c, "GET", item, NULL, 200); /* currentScenario of a running job */
	assert_string_equal(str(busy, "properties.currentScenario.scenarioName", c.a), "UnplannedFailover");
	cJSON_Delete(busy);
	finish_job(&c, item, job);
	cJSON_Delete(checked(&c, "GET", item, NULL, 200));
	cJSON_Delete(checked(&c, "POST", dr_arena_printf(c.a, "%s/failoverCommit", item), NULL, 202));
	jobs = checked(&c, "GET", V "/replicationJobs", NULL, 200);
	finish_job(&c, item, str(jobs, "value.0.name", c.a));
	cJSON_Delete(jobs);
	const char *paths[] = {V "/replicationFabrics", V "/replicationPolicies", V "/replicationProtectionContainers",
			       V "/replicationProtectionContainerMappings", V "/replicationPolicies/24-hour-retention-policy",
			       V "/replicationFabrics/asr-a2a-default-westeurope", ctr,
			       V "/replicationFabrics/asr-a2a-default-westeurope/replicationProtectionContainers",
			       dr_arena_printf(c.a, "%s/replicationProtectionContainerMappings", ctr),
			       dr_arena_printf(c.a, "%s/replicationProtectionContainerMappings/westeurope-to-northeurope", ctr),
			       dr_arena_printf(c.a, "%s/replicationProtectedItems", ctr)};
	for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++)
		cJSON_Delete(checked(&c, "GET", paths[i], NULL, 200));
	const char *northc = V "/replicationFabrics/asr-a2a-default-northeurope/replicationProtectionContainers/"
			       "asr-a2a-default-northeurope-container";
	cJSON_Delete(checked(&c, "POST", dr_arena_printf(c.a, "%s/switchprotection", ctr),
			     dr_arena_printf(c.a, "{\"properties\":{\"replicationProtectedItemName\":\"%s\","
						  "\"providerSpecificDetails\":{\"instanceType\":\"A2A\","
						  "\"recoveryContainerId\":\"%s\"}}}",
					     strrchr(item, '/') + 1, ctr),
			     202));
	(void)northc;
	dr_emu_free(c.e);
	dr_diags_free(d);
	dr_arena_free(c.a);
}

/* Lines of file holding needle. */
static int lines_with(const char *file, const char *needle)
{
	FILE *f = fopen(file, "r");
	char *line = NULL;
	size_t cap = 0;
	int n = 0;
	while (f && getline(&line, &cap, f) > 0)
		n += strstr(line, needle) != NULL;
	free(line);
	if (f)
		fclose(f);
	return n;
}

/* POST powerOff of vm (Compute's api-version) at the call's clock; the status, rs->audit_job set when accepted. */
static int power_off(call *c, const char *vm, emu_resp *rs)
{
	const char *qk[] = {"api-version"}, *qv[] = {"2024-07-01"};
	emu_req rq = {.method = "POST", .path = dr_arena_printf(c->a, "%s/powerOff", vm), .qk = qk, .qv = qv,
		      .n_query = 1, .authorization = dr_arena_printf(c->a, "Bearer %s", c->token),
		      .client_request_id = "unit-1", .now_ms = c->now, .a = c->a};
	memset(rs, 0, sizeof *rs);
	dr_buf_init(&rs->body);
	dr_emu_handle(c->e, &rq, rs);
	return rs->status;
}

/* A power off resent in the same millisecond (a client's silent resend on a new connection): one power off, one
   accepted line in the audit log; the resend gets the same operation (the old emulator audited it accepted twice). */
static void test_power_off_resent_in_the_same_millisecond(void **state)
{
	(void)state;
	char audit[] = "build/test-contract-audit-XXXXXX", dir[] = "build/test-contract-state-XXXXXX", err[512];
	int fd = mkstemp(audit);
	assert_true(fd >= 0);
	close(fd);
	assert_non_null(mkdtemp(dir));
	char statef[80];
	snprintf(statef, sizeof statef, "%s/state.json", dir);
	dr_diags *d = dr_diags_new();
	dr_emu_opts o = {.speed = 10, .no_limits = true, .audit_path = audit, .state_path = statef};
	call c = {.a = dr_arena_new(), .now = INT64_C(1798761600000)};
	c.e = dr_emu_new(&o, d, err, sizeof err);
	assert_non_null(c.e);
	snprintf(c.e->base_url, sizeof c.e->base_url, "http://127.0.0.1:1");
	c.token = token(c.e, c.a, c.now);
	cJSON *item = checked(&c, "GET", dr_arena_printf(c.a, "%s/replicationProtectedItems", V), NULL, 200);
	const char *vm = str(item, "value.0.properties.providerSpecificDetails.fabricObjectId", c.a);
	cJSON_Delete(item);
	assert_non_null(vm);
	emu_resp first, again;
	assert_int_equal(power_off(&c, vm, &first), 202);
	assert_int_equal(power_off(&c, vm, &again), 202); /* the same millisecond: c.now did not move */
	assert_non_null(first.audit_job);
	assert_null(again.audit_job);
	dr_buf_dispose(&first.body), dr_buf_dispose(&again.body);
	dr_emu_stats st;
	dr_emu_get_stats(c.e, &st);
	assert_int_equal(st.accepted, 1); /* the old emulator: 2 (each call that reached the log counted) */
	assert_int_equal(st.replayed, 1);
	dr_emu_free(c.e);
	assert_int_equal(lines_with(audit, "/powerOff"), 2);
	assert_int_equal(lines_with(audit, "\"accepted\":true"), 1);
	unlink(audit);
	const char *left[] = {"", ".log", ".lock", ".changes"};
	for (size_t i = 0; i < sizeof left / sizeof left[0]; i++)
		unlink(dr_arena_printf(c.a, "%s%s", statef, left[i]));
	assert_int_equal(rmdir(dir), 0);
	dr_diags_free(d);
	dr_arena_free(c.a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_published_examples_are_valid),
		cmocka_unit_test(test_broken_requests),
		cmocka_unit_test(test_definitions_enums_and_formats),
		cmocka_unit_test(test_emulator_answers_follow_the_contract),
		cmocka_unit_test(test_power_off_resent_in_the_same_millisecond),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
