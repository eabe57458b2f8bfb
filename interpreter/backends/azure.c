/*
 * backends/azure.c - the Azure backend (contract in azure.h): its options
 * evaluated when it opens, the credential, the HTTP client and the
 * subscription's limiter it keeps, and the vtable's read calls; the
 * operations and jobs are in azure_ops.c, the wire in azure_arm.c.
 *
 * Options (docs/backends.md, "The Azure backend"): subscription,
 * resource_group, vault (required), endpoint (ARM's base URL), api_version,
 * credential (auto or one kind) with tenant, client_id, client_secret,
 * client_certificate. Text options may be ${params.X}, ${env.X} or
 * ${secrets.X}; a secret is read from its env: or file: as a run reads it.
 */
#include "backends/azure_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/runbook.h"
#include "run/eval.h"
#include "run/secrets.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define DEFAULT_ENDPOINT "https://management.azure.com"
#define DEFAULT_API "2025-08-01"

static const dr_backend_ops azure_ops;

static az *of(dr_backend *be)
{
	return (az *)be;
}

bool dr_azure_is(const dr_backend *be)
{
	return be && be->ops == &azure_ops;
}

/* ---- options -------------------------------------------------------------------------------------- */

typedef struct cfg_ctx {
	const dr_runbook *rb;
	const cJSON *params;
	cJSON *scratch; /* values made for the lookup, freed with it */
} cfg_ctx;

/*
 * A secret's value from its env: or file: (relative to the runbook), read as a run reads it
 * (run/secrets.h: a file regular, owner-only, capped, never waited on), also by drover plan.
 */
static const cJSON *secret_value(cfg_ctx *c, const char *name, char **err)
{
	const dr_secret *s = dr_runbook_secret(c->rb, name);
	dr_buf b;
	dr_buf_init(&b);
	char *value = NULL;
	if (!s)
		dr_buf_printf(&b, "secrets.%s is not declared under secrets:", name);
	else
		value = dr_secrets_read_runbook(c->rb, s, &b);
	if (!value) {
		while (b.len && b.data[b.len - 1] == '\n')
			b.data[--b.len] = '\0';
		*err = dr_buf_detach(&b);
		return NULL;
	}
	dr_buf_dispose(&b);
	cJSON *v = cJSON_CreateString(value);
	explicit_bzero(value, strlen(value));
	free(value);
	cJSON_AddItemToArray(c->scratch, v);
	return v;
}

static const cJSON *cfg_lookup(void *ctx, const char *const *path, size_t n, char **err)
{
	cfg_ctx *c = ctx;
	if (strcmp(path[0], "params") == 0)
		return dr_eval_walk(c->params, path, n, 1, err);
	if (n >= 2 && strcmp(path[0], "env") == 0) {
		const char *v = getenv(path[1]);
		if (!v)
			return NULL;
		cJSON *s = cJSON_CreateString(v);
		cJSON_AddItemToArray(c->scratch, s);
		return dr_eval_walk(s, path, n, 2, err);
	}
	if (n >= 2 && strcmp(path[0], "secrets") == 0)
		return secret_value(c, path[1], err);
	return NULL;
}

/* The option's text: a literal, or its ${...} evaluated (heap); NULL with *why when absent or it fails. */
static char *option(cfg_ctx *c, const char *key, const char *def, char **why)
{
	const dr_node *n = dr_node_get(c->rb->backend.node, key);
	*why = NULL;
	if (!n || dr_node_is_null(n))
		return def ? xstrdup(def) : NULL;
	if (!dr_node_template(n))
		return xstrdup(dr_node_str(n));
	dr_eval_env env = {.lookup = cfg_lookup, .ctx = c};
	char *err = NULL;
	cJSON *v = dr_template_eval(dr_node_template(n), &env, &err);
	char *out = cJSON_IsString(v) && v->valuestring[0] ? xstrdup(v->valuestring) : NULL;
	if (!out) {
		dr_buf b;
		dr_buf_init(&b);
		dr_buf_printf(&b, "%s:%d:%d: backend.%s: %s", dr_node_file(n) ? dr_node_file(n) : "runbook", n->line, n->col, key,
			      err ? err : "the value is empty");
		*why = dr_buf_detach(&b);
	}
	if (v && cJSON_IsString(v))
		explicit_bzero(v->valuestring, strlen(v->valuestring));
	cJSON_Delete(v);
	free(err);
	return out;
}

typedef struct options {
	char *subscription, *resource_group, *vault, *endpoint, *api, *credential;
	char *tenant, *client_id, *client_secret, *certificate;
} options;

static void options_dispose(options *o)
{
	if (o->client_secret)
		explicit_bzero(o->client_secret, strlen(o->client_secret));
	free(o->subscription), free(o->resource_group), free(o->vault), free(o->endpoint), free(o->api);
	free(o->credential), free(o->tenant), free(o->client_id), free(o->client_secret), free(o->certificate);
}

/* Every option; -1 with *why (heap) at the first that cannot be evaluated. */
static int read_options(const dr_runbook *rb, const cJSON *params, options *o, char **why)
{
	cfg_ctx c = {.rb = rb, .params = params, .scratch = cJSON_CreateArray()};
	struct {
		const char *key, *def;
		char **out;
		bool required;
	} keys[] = {
		{"subscription", NULL, &o->subscription, true},	   {"resource_group", NULL, &o->resource_group, true},
		{"vault", NULL, &o->vault, true},		   {"endpoint", DEFAULT_ENDPOINT, &o->endpoint, true},
		{"api_version", DEFAULT_API, &o->api, true},	   {"credential", "auto", &o->credential, true},
		{"tenant", NULL, &o->tenant, false},		   {"client_id", NULL, &o->client_id, false},
		{"client_secret", NULL, &o->client_secret, false}, {"client_certificate", NULL, &o->certificate, false},
	};
	int rc = 0;
	for (size_t i = 0; i < sizeof keys / sizeof keys[0] && rc == 0; i++) {
		*keys[i].out = option(&c, keys[i].key, keys[i].def, why);
		if (*why || (keys[i].required && !*keys[i].out)) {
			if (!*why) {
				dr_buf b;
				dr_buf_init(&b);
				dr_buf_printf(&b, "backend.%s is required for kind: azure", keys[i].key);
				*why = dr_buf_detach(&b);
			}
			rc = -1;
		}
	}
	cJSON *s;
	cJSON_ArrayForEach(s, c.scratch) if (cJSON_IsString(s)) explicit_bzero(s->valuestring, strlen(s->valuestring));
	cJSON_Delete(c.scratch);
	return rc;
}

static dr_auth_kind credential_kind(const char *name)
{
	for (int k = 0; k < DR_AUTH_COUNT; k++)
		if (strcmp(dr_auth_kind_names[k], name) == 0)
			return (dr_auth_kind)k;
	return DR_AUTH_AUTO;
}

/* ---- open, close ----------------------------------------------------------------------------------------- */

static void endpoint_trim(char *e)
{
	size_t n = strlen(e);
	while (n && e[n - 1] == '/')
		e[--n] = '\0';
}

static az *az_new(options *o)
{
	az *z = xcalloc(1, sizeof *z);
	z->base = (dr_backend){.ops = &azure_ops, .kind = "azure", .remote = true};
	endpoint_trim(o->endpoint);
	z->endpoint = o->endpoint, z->api = o->api, z->subscription = o->subscription;
	z->resource_group = o->resource_group, z->vault = o->vault;
	o->endpoint = o->api = o->subscription = o->resource_group = o->vault = NULL;
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "/subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s",
		      z->subscription, z->resource_group, z->vault);
	z->vault_path = dr_buf_detach(&b);
	pthread_mutex_init(&z->mu, NULL);
	dr_index_init(&z->rec_by_key), dr_index_init(&z->rec_by_job), dr_index_init(&z->rec_by_rid);
	dr_index_init(&z->rec_by_item_op), dr_index_init(&z->nm_by_id);
	dr_index_init(&z->pt_by_id), dr_index_init(&z->nm_by_name), dr_index_init(&z->jx_by_rid);
	dr_index_init(&z->lc_by_id), dr_index_init(&z->pp_by_key), dr_index_init(&z->mv_by_old);
	z->jx_at = -1;
	z->http = dr_http_client_new();
	/* 90% of ARM's buckets: the service's count then has room for the requests in flight */
	az_limit_cfg lc = {.read_rate = 22.5, .read_burst = 225, .write_rate = 9, .write_burst = 180};
	z->limit = az_limit_get(z->subscription, &lc);
	dr_auth_config ac = {.kind = credential_kind(o->credential), .tenant = o->tenant, .client_id = o->client_id,
			     .client_secret = o->client_secret, .certificate_path = o->certificate, .http = z->http};
	z->auth = dr_auth_new(&ac);
	return z;
}

dr_backend *dr_azure_open(const dr_runbook *rb, const cJSON *params, dr_arena *a, dr_be_error *err)
{
	options o = {0};
	char *why = NULL;
	if (read_options(rb, params, &o, &why) < 0) {
		dr_backend_fail(err, a, 0, DR_BE_ERR_PERMANENT, "BackendConfigInvalid", NULL,
				"Fix the backend's options (or set what they read), then run again.", "%s", why);
		free(why);
		options_dispose(&o);
		return NULL;
	}
	az *z = az_new(&o);
	options_dispose(&o);
	return &z->base;
}

static void close_(dr_backend *be)
{
	az *z = of(be);
	dr_auth_free(z->auth);
	dr_http_client_free(z->http);
	az_limit_put(z->limit);
	az_recs_free(z);
	az_cache_free(z);
	pthread_mutex_destroy(&z->mu);
	free(z->endpoint), free(z->api), free(z->subscription), free(z->resource_group), free(z->vault);
	free(z->vault_path);
	free(z);
}

const char *dr_azure_resume_url(const dr_backend *be, dr_arena *a, const char *job_id)
{
	const az *z = (const az *)be;
	return dr_arena_printf(a, "%s%s/resume?api-version=%s", z->endpoint, job_id, z->api);
}

void dr_azure_stats_get(dr_backend *be, dr_azure_stats *out)
{
	az *z = of(be);
	dr_http_stats hs;
	dr_http_client_stats(z->http, &hs);
	pthread_mutex_lock(&z->mu);
	*out = z->stats;
	pthread_mutex_unlock(&z->mu);
	out->connections = hs.connections;
	out->tokens = dr_auth_fetches(z->auth);
}

/* ---- reads --------------------------------------------------------------------------------------------------- */

typedef struct items_ctx {
	az *z;
	dr_arena *a;
	int64_t now;
	dr_be_item *v;
	size_t n, cap;
} items_ctx;

static int collect_item(void *ctx, const cJSON *v)
{
	items_ctx *c = ctx;
	c->v = az_grow(c->a, c->v, c->n, &c->cap, sizeof *c->v);
	if (az_parse_item(c->a, v, &c->v[c->n]))
		az_cache_listed(c->z, v, c->now);
	else /* listed all the same, so that a VM set that names it blocks the plan saying why, not loses it */
		az_parse_unreadable(c->a, v, c->n, &c->v[c->n]);
	c->n++;
	return 0;
}

static int list_items(dr_backend *be, dr_arena *a, int64_t now_ms, dr_be_item **out, size_t *n, dr_be_error *err)
{
	az *z = of(be);
	items_ctx c = {.z = z, .a = a, .now = now_ms};
	int rc = az_list(z, a, dr_arena_printf(a, "%s/replicationProtectedItems", z->vault_path), z->api, NULL,
			 collect_item, &c, err);
	if (rc == 0)
		az_note_names(z, c.v, c.n);
	*out = c.v, *n = c.n;
	return rc;
}

static int get_item(dr_backend *be, dr_arena *a, int64_t now_ms, const char *item_id, dr_be_item *out,
		    dr_be_error *err)
{
	az *z = of(be);
	const char *id = az_item_id(z, a, item_id, err);
	(void)now_ms;
	return id ? az_fetch_item(z, a, id, out, err) : -1;
}

/* dr_backend_peek_item: the last list's copy (azure_cache.c), else the service. */
static int peek_item(dr_backend *be, dr_arena *a, int64_t now_ms, const char *item_id, dr_be_item *out,
		     dr_be_error *err)
{
	az *z = of(be);
	const char *id = az_item_id(z, a, item_id, err);
	if (id && az_cache_take(z, a, id, now_ms, out))
		return 0;
	return id ? az_fetch_item(z, a, id, out, err) : -1;
}

typedef struct points_ctx {
	az *z;
	dr_arena *a;
	dr_be_point *v;
	size_t n, cap;
} points_ctx;

/* Every point listed is kept: one without a time or an id is undated (never chosen), and the plan counts it. */
static int collect_point(void *ctx, const cJSON *v)
{
	points_ctx *c = ctx;
	dr_be_point *p;
	c->v = az_grow(c->a, c->v, c->n, &c->cap, sizeof *c->v);
	p = &c->v[c->n];
	if (!az_parse_point(c->a, v, p))
		az_parse_point_unnamed(c->a, c->n, p);
	if (p->time_ms >= 0)
		az_note_point(c->z, p->id, p->time_ms);
	c->n++;
	return 0;
}

/* Always the service's list: a kept copy would miss the newest point and choose an older one. */
static int list_points(dr_backend *be, dr_arena *a, int64_t now_ms, const char *item_id, dr_be_point **out,
		       size_t *n, dr_be_error *err)
{
	az *z = of(be);
	points_ctx c = {.z = z, .a = a};
	const char *id = az_item_id(z, a, item_id, err);
	int rc = id ? az_list(z, a, dr_arena_printf(a, "%s/recoveryPoints", id), z->api, NULL, collect_point, &c, err)
		    : -1;
	(void)now_ms;
	az_sort_points(c.v, c.n);
	*out = c.v, *n = c.n;
	return rc;
}

static int start(dr_backend *be, dr_arena *a, int64_t now_ms, const dr_be_request *req, dr_be_started *out,
		 dr_be_error *err)
{
	return az_start(of(be), a, now_ms, req, out, err);
}

static int get_job(dr_backend *be, dr_arena *a, int64_t now_ms, const char *job_id, dr_be_job *out,
		   dr_be_error *err)
{
	return az_get_job(of(be), a, now_ms, job_id, out, err);
}

static int list_jobs(dr_backend *be, dr_arena *a, int64_t now_ms, const dr_be_job_filter *f, dr_be_job **out,
		     size_t *n, dr_be_error *err)
{
	return az_list_jobs(of(be), a, now_ms, f, out, n, err);
}

static int vm_facts(dr_backend *be, dr_arena *a, int64_t now_ms, dr_be_item *it, dr_be_error *err)
{
	(void)now_ms;
	return az_vm_facts(of(be), a, it, err);
}

static int64_t pace(dr_backend *be, const dr_be_request *req)
{
	return az_pace(of(be), req);
}

static void caller_retries(dr_backend *be, bool on)
{
	__atomic_store_n(&of(be)->caller_retries, on, __ATOMIC_RELAXED);
}

static const dr_backend_ops azure_ops = {
	.list_items = list_items,
	.get_item = get_item,
	.peek_item = peek_item,
	.list_points = list_points,
	.start = start,
	.get_job = get_job,
	.list_jobs = list_jobs,
	.flush = NULL,
	.vm_facts = vm_facts,
	.pace = pace,
	.caller_retries = caller_retries,
	.close = close_,
};
