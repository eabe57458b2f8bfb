/*
 * emulator/emulator.c - the emulator's lifetime and the pipeline every
 * request goes through, in ARM's order:
 *
 *   faults (reset, status, delay) -> route (404/405) -> identity endpoints
 *   or: bearer token (401) -> api-version (400) -> token bucket (429) ->
 *   contract (400, with --contract) -> scope: subscription, resource group,
 *   vault (404) -> the route's handler -> headers, audit log.
 *
 * Mutating calls the simulator accepted are made durable before they are
 * answered (wal.c: a line in a write-ahead log, synced once for all the
 * calls that arrived while the previous sync ran), so an emulator killed
 * after a 202 still knows the job when it restarts.
 */
#include "emulator/emu_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backends/sim.h"
#include "front/load.h"
#include "util/fs.h"
#include "util/xalloc.h"

/* With no inventory: the quickstart's shop (examples/quickstart.yaml). */
static const char demo_vms[] =
	"- {name: shop-db-1, tags: {tier: db}, primary_ip: 10.1.0.4, recovery_ip: 10.2.0.4}\n"
	"- {name: shop-db-2, tags: {tier: db}, primary_ip: 10.1.0.5, recovery_ip: 10.2.0.5}\n"
	"- {name: shop-app-1, tags: {tier: app}, primary_ip: 10.1.1.4, recovery_ip: 10.2.1.4}\n"
	"- {name: shop-app-2, tags: {tier: app}, primary_ip: 10.1.1.5, recovery_ip: 10.2.1.5}\n"
	"- {name: shop-web-1, tags: {tier: web}, primary_ip: 10.1.2.4, recovery_ip: 10.2.2.4}\n"
	"- {name: shop-web-2, tags: {tier: web}, primary_ip: 10.1.2.5, recovery_ip: 10.2.2.5}\n";

/* ---- the simulator's configuration, as a backend: map made by hand ---------------------------- */

static dr_node *scalar(dr_arena *a, const char *text)
{
	dr_node *n = dr_arena_calloc(a, 1, sizeof *n);
	n->kind = DR_NODE_SCALAR;
	dr_node_set_file(n, "emulator");
	n->line = n->col = 1;
	n->u.scalar.str = dr_arena_strdup(a, text);
	n->u.scalar.len = strlen(text);
	return n;
}

static void put(dr_arena *a, dr_node *map, const char *key, dr_node *value)
{
	if (!value)
		return;
	dr_pair *p = &map->u.map.items[map->u.map.n++];
	p->key = scalar(a, key);
	p->value = value;
}

/* The inventory: a file with vms:, a runbook's backend (vms: and inventory:), or the demo. */
static size_t inventory(dr_emu *e, dr_arena *a, dr_node *cfg, const char **base_dir, dr_diags *d)
{
	size_t before = dr_diags_errors(d);
	if (!e->o.inventory) {
		put(a, cfg, "vms", dr_load_string(a, d, "demo", demo_vms, strlen(demo_vms), NULL));
		return 0;
	}
	dr_node *root = dr_load_file(a, d, e->o.inventory, NULL);
	if (!root)
		return dr_diags_errors(d) - before + (dr_diags_errors(d) == before);
	dr_node *backend = dr_node_get(root, "backend");
	if (!backend) {
		put(a, cfg, "inventory", scalar(a, e->o.inventory));
		return 0;
	}
	put(a, cfg, "vms", dr_node_get(backend, "vms"));
	put(a, cfg, "inventory", dr_node_get(backend, "inventory"));
	const char *slash = strrchr(e->o.inventory, '/');
	*base_dir = slash ? dr_arena_strndup(a, e->o.inventory, (size_t)(slash - e->o.inventory)) : ".";
	return 0;
}

static int open_sim(dr_emu *e, dr_arena *a, dr_diags *d, char *err, size_t errsz)
{
	dr_node *cfg = dr_arena_calloc(a, 1, sizeof *cfg), *faults = NULL;
	const char *base_dir = NULL;
	char seed[32];
	cfg->kind = DR_NODE_MAP;
	dr_node_set_file(cfg, "emulator");
	cfg->u.map.items = dr_arena_calloc(a, 6, sizeof *cfg->u.map.items);
	put(a, cfg, "kind", scalar(a, "sim"));
	size_t errors = inventory(e, a, cfg, &base_dir, d) + emu_faults_parse(e, e->o.faults, a, &faults, d);
	put(a, cfg, "faults", faults);
	snprintf(seed, sizeof seed, "%llu", (unsigned long long)e->o.seed);
	if (e->o.seed_given)
		put(a, cfg, "seed", scalar(a, seed));
	if (errors)
		return -1;
	dr_sim_opts so = {.state_path = e->o.state_path, .in_memory = !e->o.state_path, .base_dir = base_dir,
			  .subscription = e->o.subscription, .resource_group = e->o.resource_group,
			  .vault = e->o.vault, .job_speed = e->o.speed};
	dr_be_error be_err;
	e->be = dr_sim_open(cfg, &so, a, d, &be_err);
	if (!e->be && be_err.message)
		snprintf(err, errsz, "%s", dr_backend_error_text(a, &be_err));
	return e->be ? 0 : -1;
}

/* ---- lifetime ------------------------------------------------------------------------------------ */

static int open_audit(dr_emu *e, char *err, size_t errsz)
{
	if (!e->o.audit_path)
		return 0;
	e->audit_fd = open(e->o.audit_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600); /* owner-only, as every file drover writes */
	if (e->audit_fd < 0) {
		snprintf(err, errsz, "cannot open the audit log '%s': %s", e->o.audit_path, strerror(errno));
		return -1;
	}
	return 0;
}

static void copy_names(dr_emu *e)
{
	const char *id = dr_sim_vault_id(e->be); /* /Subscriptions/S/resourceGroups/R/providers/.../vaults/V */
	char buf[512];
	snprintf(buf, sizeof buf, "%s", id);
	char *parts[9] = {0};
	size_t n = 0;
	char *save = NULL;
	for (char *s = strtok_r(buf, "/", &save); s && n < 9; s = strtok_r(NULL, "/", &save))
		parts[n++] = s;
	e->vault_id = xstrdup(id);
	e->subscription = xstrdup(n > 1 ? parts[1] : "");
	e->resource_group = xstrdup(n > 3 ? parts[3] : "");
	e->vault = xstrdup(n > 7 ? parts[7] : "");
}

/* Log lines between snapshots: the estate's size, at least 256 (a snapshot costs O(VMs)). */
static size_t snapshot_every(dr_emu *e)
{
	dr_arena *a = dr_arena_new();
	dr_be_item *items;
	size_t n, total = 0;
	dr_sim_list_items_page(e->be, a, emu_wall_ms(), 0, 0, &items, &n, &total);
	dr_arena_free(a);
	return total > 256 ? total : 256;
}

/* --client ID:SECRET principals for the token endpoint. */
static int read_clients(dr_emu *e, char *err, size_t errsz)
{
	e->client_ids = xcalloc(e->o.n_clients + 1, sizeof *e->client_ids);
	e->client_secrets = xcalloc(e->o.n_clients + 1, sizeof *e->client_secrets);
	for (size_t i = 0; i < e->o.n_clients; i++) {
		const char *s = e->o.clients[i], *colon = strchr(s, ':');
		if (!colon || colon == s || !colon[1]) {
			snprintf(err, errsz, "--client: expected CLIENT_ID:SECRET (the %zu. one is not)", i + 1);
			return -1;
		}
		e->client_ids[i] = xstrndup(s, (size_t)(colon - s));
		e->client_secrets[i] = xstrdup(colon + 1);
		e->n_clients++;
	}
	return 0;
}

int64_t emu_wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

dr_emu *dr_emu_new(const dr_emu_opts *o, dr_diags *diags, char *err, size_t errsz)
{
	dr_emu *e = xcalloc(1, sizeof *e);
	dr_arena *a = dr_arena_new();
	e->o = *o;
	e->audit_fd = -1;
	e->o.page_size = o->page_size ? o->page_size : 100;
	e->o.token_lifetime_ms = o->token_lifetime_ms > 0 ? o->token_lifetime_ms : 3599000;
	e->wal_fd = -1;
	pthread_mutex_init(&e->mu, NULL);
	pthread_mutex_init(&e->flush_mu, NULL);
	pthread_mutex_init(&e->wal_mu, NULL);
	err[0] = '\0';
	int rc = read_clients(e, err, errsz);
	if (rc == 0)
		rc = emu_jwt_load_certs(e, err, errsz);
	if (rc == 0)
		rc = open_sim(e, a, diags, err, errsz);
	if (rc == 0 && o->contract_path && !(e->contract = dr_contract_load(o->contract_path, err, errsz)))
		rc = -1;
	if (rc == 0)
		rc = open_audit(e, err, errsz);
	if (rc == 0)
		rc = emu_wal_open(e, err, errsz);
	dr_arena_free(a);
	if (rc < 0) {
		dr_emu_free(e);
		return NULL;
	}
	copy_names(e);
	emu_asr_index_regions(e);
	emu_limits_init(e);
	e->wal_snapshot_every = snapshot_every(e);
	e->wall0 = emu_wall_ms();
	return e;
}

int emu_save(dr_emu *e, char *err, size_t errsz)
{
	dr_arena *a = dr_arena_new();
	dr_be_error be_err;
	dr_sim_time(e->be, emu_wall_ms()); /* a first call sets the items' times: they are saved too */
	int rc = dr_sim_save(e->be, a, &be_err);
	if (rc < 0)
		snprintf(err, errsz, "%s", dr_backend_error_text(a, &be_err));
	dr_arena_free(a);
	return rc;
}

void dr_emu_free(dr_emu *e)
{
	char err[512];
	if (!e)
		return;
	dr_emu_stop(e);
	if (e->be && e->wal_fd >= 0 && e->wal_lines > 0)
		dr_emu_flush(e, err, sizeof err); /* errors are lost here: flush first to see them */
	emu_wal_close(e);
	dr_backend_close(e->be);
	dr_contract_free(e->contract);
	if (e->audit_fd >= 0)
		close(e->audit_fd);
	emu_auth_free(e);
	emu_jwt_free(e);
	emu_asr_free_regions(e);
	emu_faults_free(e);
	free((char *)e->vault_id);
	free(e->subscription);
	free(e->resource_group);
	free(e->vault);
	pthread_mutex_destroy(&e->mu);
	pthread_mutex_destroy(&e->flush_mu);
	pthread_mutex_destroy(&e->wal_mu);
	free(e);
}

void dr_emu_get_stats(dr_emu *e, dr_emu_stats *out)
{
	pthread_mutex_lock(&e->mu);
	*out = (dr_emu_stats){.requests = e->requests, .accepted = e->accepted, .saves = e->saves, .syncs = e->syncs,
			      .throttled = e->throttled, .replayed = e->resent,
			      .log_replayed = e->wal_replayed};
	pthread_mutex_unlock(&e->mu);
}

int64_t emu_now(dr_emu *e, const emu_req *rq)
{
	(void)e;
	return rq->now_ms;
}

/* ---- the checks before a route --------------------------------------------------------------------- */

static const char *const asr_versions[] = {
	"2026-05-01", "2026-03-31-preview", "2026-02-01", "2026-01-01", "2025-08-01", "2025-02-01", "2025-01-01",
	"2024-10-01", "2024-04-01", "2024-02-01", "2024-01-01", "2023-08-01", "2023-06-01", "2023-04-01",
	"2023-02-01", "2023-01-01", "2022-10-01", "2018-07-10", "2018-01-10", "2016-08-10", NULL};
static const char *const compute_versions[] = {"2022-03-01", "2022-08-01", "2022-11-01", "2023-03-01",
					       "2023-07-01", "2023-09-01", "2024-03-01", "2024-07-01",
					       "2024-11-01", NULL};
static const char *const network_versions[] = {"2022-07-01", "2022-09-01", "2022-11-01", "2023-02-01",
					       "2023-04-01", "2023-05-01", "2023-06-01", "2023-09-01",
					       "2023-11-01", "2024-01-01", "2024-03-01", "2024-05-01", NULL};

static bool version_shape(const char *v)
{
	int y, m, d, n = 0;
	return sscanf(v, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 && (v[n] == '\0' || strcmp(v + n, "-preview") == 0);
}

static const char *versions_text(dr_arena *a, const char *const *list)
{
	dr_buf b;
	dr_buf_init(&b);
	for (size_t i = 0; list[i]; i++)
		dr_buf_printf(&b, "%s%s", i ? "," : "", list[i]);
	const char *s = dr_arena_strdup(a, b.data ? b.data : "");
	dr_buf_dispose(&b);
	return s;
}

static bool check_api_version(dr_emu *e, emu_call *c)
{
	const char *const *list = c->route->api == EMU_API_COMPUTE   ? compute_versions
				  : c->route->api == EMU_API_NETWORK ? network_versions
								     : asr_versions;
	const char *v = emu_query(c->rq, "api-version");
	(void)e;
	if (!v || !*v) {
		emu_arm_error(c->rs, 400, "MissingApiVersionParameter",
			      "The api-version query parameter (?api-version=) is required for all requests.");
		return false;
	}
	if (!version_shape(v)) {
		emu_arm_error(c->rs, 400, "InvalidApiVersionParameter",
			      "The api-version '%s' is invalid. The supported versions are '%s'.", v,
			      versions_text(c->a, list));
		return false;
	}
	for (size_t i = 0; list[i]; i++)
		if (strcmp(list[i], v) == 0) {
			c->api_version = v;
			return true;
		}
	emu_arm_error(c->rs, 400, "NoRegisteredProviderFound",
		      "No registered resource provider found for API version '%s' for this resource type. The "
		      "supported api-versions are '%s'.",
		      v, versions_text(c->a, list));
	return false;
}

static bool check_contract(dr_emu *e, emu_call *c)
{
	dr_contract_result r;
	if (!e->contract || c->route->api != EMU_API_ASR)
		return true;
	size_t n = dr_contract_check_request(e->contract, c->a, c->rq->method, c->rq->path, c->rq->qk, c->rq->qv,
					     c->rq->n_query, c->rq->body, c->rq->body_len, &r);
	if (n == 0)
		return true;
	dr_buf b;
	dr_buf_init(&b);
	for (size_t i = 0; i < n; i++)
		dr_buf_printf(&b, "%s%s", i ? "; " : "", r.problems[i]);
	emu_arm_error(c->rs, 400, "ContractViolation", "The request doesn't follow the API contract (%s): %s",
		      r.operation_id ? r.operation_id : "no operation", b.data);
	fprintf(stderr, "drover emulator: contract: %s %s: %s\n", c->rq->method, c->rq->path, b.data);
	dr_buf_dispose(&b);
	return false;
}

static bool check_scope(dr_emu *e, emu_call *c)
{
	const char *sub = emu_cap(c, "sub"), *rg = emu_cap(c, "rg"), *vault = emu_cap(c, "vault");
	if (!emu_ieq(sub, e->subscription)) {
		emu_arm_error(c->rs, 404, "SubscriptionNotFound", "The subscription '%s' could not be found.", sub);
		return false;
	}
	if (c->route->api != EMU_API_ASR || c->n_caps < 3)
		return true;
	if (!emu_ieq(rg, e->resource_group)) {
		emu_arm_error(c->rs, 404, "ResourceGroupNotFound", "Resource group '%s' could not be found.", rg);
		return false;
	}
	if (!emu_ieq(vault, e->vault)) {
		emu_arm_error(c->rs, 404, "ResourceNotFound",
			      "The Resource 'Microsoft.RecoveryServices/vaults/%s' under resource group '%s' was not "
			      "found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
			      vault, rg);
		return false;
	}
	return true;
}

/* ---- after: headers and the audit log --------------------------------------------------------------- */

static bool mutating(const emu_req *rq)
{
	return strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "HEAD") != 0;
}

static void common_headers(dr_emu *e, emu_call *c)
{
	char id[40];
	pthread_mutex_lock(&e->mu);
	uint64_t n = ++e->requests;
	pthread_mutex_unlock(&e->mu);
	snprintf(id, sizeof id, "%08llx-0000-4000-8000-%012llx", (unsigned long long)(e->wall0 & 0xffffffff),
		 (unsigned long long)n);
	emu_header(c->rs, c->a, "x-ms-request-id", id);
	emu_header(c->rs, c->a, "x-ms-correlation-request-id", id);
	if (c->rq->client_request_id)
		emu_header(c->rs, c->a, "x-ms-client-request-id", c->rq->client_request_id);
}

static void audit(dr_emu *e, const emu_call *c)
{
	size_t pl = strlen(c->rq->path);
	if (e->audit_fd < 0 || !mutating(c->rq) || (pl >= 18 && strcmp(c->rq->path + pl - 18, "/oauth2/v2.0/token") == 0))
		return; /* tokens are not calls on the service */
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "time", emu_time(c->a, c->rq->now_ms));
	cJSON_AddStringToObject(o, "method", c->rq->method);
	cJSON_AddStringToObject(o, "path", c->rq->path);
	if (c->rq->client_request_id)
		cJSON_AddStringToObject(o, "clientRequestId", c->rq->client_request_id);
	else
		cJSON_AddNullToObject(o, "clientRequestId");
	if (c->rs->reset)
		cJSON_AddNullToObject(o, "status");
	else
		cJSON_AddNumberToObject(o, "status", c->rs->status);
	/* accepted: the service started the operation, whatever the client heard (a fault may have lost the answer) */
	cJSON_AddBoolToObject(o, "accepted", c->rs->audit_job != NULL);
	if (c->rs->audit_job)
		cJSON_AddStringToObject(o, "job", c->rs->audit_job);
	if (c->rs->audit_direction)
		cJSON_AddStringToObject(o, "failoverDirection", c->rs->audit_direction);
	if (c->rs->audit_note)
		cJSON_AddStringToObject(o, "code", c->rs->audit_note);
	else if (c->rs->reset)
		cJSON_AddStringToObject(o, "code", "ConnectionReset");
	char *line = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	size_t n = strlen(line);
	line[n] = '\n'; /* replaces the NUL: one write(2) per line, appended whole */
	pthread_mutex_lock(&e->mu);
	if (dr_fs_write_all(e->audit_fd, line, n + 1) < 0)
		fprintf(stderr, "drover emulator: cannot write the audit log: %s\n", strerror(errno));
	pthread_mutex_unlock(&e->mu);
	cJSON_free(line);
}

static void no_route(emu_call *c, bool path_known)
{
	if (path_known)
		emu_arm_error(c->rs, 405, "MethodNotAllowed", "The requested resource does not support http method '%s'.",
			      c->rq->method);
	else
		emu_arm_error(c->rs, 404, "NotFound", "No HTTP resource was found that matches the request URI '%s'.",
			      c->rq->path);
}

static void route(dr_emu *e, emu_call *c)
{
	bool known;
	if (c->rq->body_too_big) {
		emu_arm_error(c->rs, 413, "RequestEntityTooLarge", "The request body is larger than %u bytes.",
			      EMU_MAX_BODY);
		return;
	}
	if (!emu_route_match(c->rq->method, c->rq->path, c, &known)) {
		no_route(c, known);
		return;
	}
	if (c->route->api == EMU_API_IDENTITY) {
		c->route->fn(e, c);
		return;
	}
	if (emu_auth_check(e, c) && check_api_version(e, c) && emu_limits_take(e, c) && check_contract(e, c) &&
	    check_scope(e, c))
		c->route->fn(e, c);
}

void dr_emu_handle(dr_emu *e, const emu_req *rq, emu_resp *rs)
{
	emu_call c = {.rq = rq, .rs = rs, .a = rq->a};
	rs->status = 500;
	if (!emu_faults_before(e, rq, rs)) {
		route(e, &c);
		emu_faults_after(e, rq, rs);
	}
	if (!rs->reset)
		common_headers(e, &c);
	audit(e, &c);
}
