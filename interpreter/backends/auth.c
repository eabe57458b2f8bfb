/*
 * backends/auth.c - the credential chain and the token cache (contract in
 * auth.h): configuration read once from the runbook's values and the
 * environment, one token cached under a mutex, refreshed at the margin
 * before expiry or when the service refused it.
 */
#include "backends/auth_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/buf.h"
#include "util/xalloc.h"

#define DEFAULT_AUTHORITY "https://login.microsoftonline.com"
#define DEFAULT_IMDS "http://169.254.169.254"
#define DEFAULT_RESOURCE "https://management.azure.com/"
#define REFRESH_MARGIN_MS (5 * 60 * 1000)

const char *const dr_auth_kind_names[] = {"auto",		   "client_secret",    "client_certificate",
					  "workload_identity", "managed_identity", "azure_cli",
					  NULL};

const char *dr_auth_kind_name(dr_auth_kind k)
{
	return (unsigned)k < DR_AUTH_COUNT ? dr_auth_kind_names[k] : "?";
}

/* ---- errors -------------------------------------------------------------------- */

int auth_fail(dr_auth_error *err, int rc, bool transient, const char *credential, const char *code, const char *fmt,
	      ...)
{
	dr_buf b;
	dr_buf_init(&b);
	va_list ap;
	va_start(ap, fmt);
	dr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	dr_auth_error_dispose(err);
	*err = (dr_auth_error){.credential = xstrdup(credential ? credential : "credential"),
			       .code = xstrdup(code ? code : "CredentialUnavailable"),
			       .message = dr_buf_detach(&b),
			       .transient = transient};
	return rc;
}

char *dr_auth_error_text(const dr_auth_error *e)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s: %s: %s", e->credential ? e->credential : "credential", e->code ? e->code : "Error",
		      e->message ? e->message : "");
	return dr_buf_detach(&b);
}

void dr_auth_error_dispose(dr_auth_error *e)
{
	free(e->credential);
	free(e->code);
	free(e->message);
	*e = (dr_auth_error){0};
}

/* ---- configuration -------------------------------------------------------------------- */

/* given, else the environment variable, else def; NULL when all are empty (heap). */
static char *pick(const char *given, const char *var, const char *def)
{
	const char *env = var ? getenv(var) : NULL;
	const char *v = given && *given ? given : env && *env ? env : def;
	return v ? xstrdup(v) : NULL;
}

/* A base URL without trailing slashes, https:// added when it has no scheme. */
static char *base_url(char *v)
{
	if (!v)
		return NULL;
	size_t n = strlen(v);
	while (n && v[n - 1] == '/')
		v[--n] = '\0';
	if (strstr(v, "://"))
		return v;
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "https://%s", v);
	free(v);
	return dr_buf_detach(&b);
}

static int64_t real_clock_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

dr_auth *dr_auth_new(const dr_auth_config *cfg)
{
	dr_auth *au = xcalloc(1, sizeof *au);
	const char *chain = getenv("AZURE_CLIENT_SEND_CERTIFICATE_CHAIN");
	au->kind = au->used = cfg->kind;
	if (au->kind == DR_AUTH_AUTO)
		au->used = DR_AUTH_AUTO;
	au->tenant = pick(cfg->tenant, "AZURE_TENANT_ID", NULL);
	au->client_id = pick(cfg->client_id, "AZURE_CLIENT_ID", NULL);
	au->client_secret = pick(cfg->client_secret, "AZURE_CLIENT_SECRET", NULL);
	au->cert_path = pick(cfg->certificate_path, "AZURE_CLIENT_CERTIFICATE_PATH", NULL);
	au->cert_password = pick(NULL, "AZURE_CLIENT_CERTIFICATE_PASSWORD", NULL);
	au->token_file = pick(NULL, "AZURE_FEDERATED_TOKEN_FILE", NULL);
	au->authority = base_url(pick(NULL, "AZURE_AUTHORITY_HOST", DEFAULT_AUTHORITY));
	au->imds = base_url(pick(NULL, "AZURE_POD_IDENTITY_AUTHORITY_HOST", DEFAULT_IMDS));
	au->resource = pick(cfg->resource, NULL, DEFAULT_RESOURCE);
	au->az = pick(cfg->az_command, NULL, "az");
	au->send_chain = chain && (strcmp(chain, "1") == 0 || strcasecmp(chain, "true") == 0);
	au->http = cfg->http;
	au->clock_ms = cfg->clock_ms ? cfg->clock_ms : real_clock_ms;
	pthread_mutex_init(&au->mu, NULL);
	return au;
}

/* Free a secret after overwriting it. */
static void wipe(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void dr_auth_free(dr_auth *au)
{
	if (!au)
		return;
	wipe(au->client_secret);
	wipe(au->cert_password);
	wipe(au->cached.value);
	free(au->tenant);
	free(au->client_id);
	free(au->cert_path);
	free(au->token_file);
	free(au->authority);
	free(au->imds);
	free(au->resource);
	free(au->az);
	pthread_mutex_destroy(&au->mu);
	free(au);
}

int64_t auth_now(const dr_auth *au)
{
	return au->clock_ms();
}

char *auth_describe(const dr_auth *au, dr_auth_kind k)
{
	static const char *const what[DR_AUTH_COUNT] = {
		[DR_AUTH_AUTO] = "the credential chain",	   [DR_AUTH_CLIENT_SECRET] = "client secret",
		[DR_AUTH_CLIENT_CERTIFICATE] = "client certificate", [DR_AUTH_WORKLOAD_IDENTITY] = "workload identity",
		[DR_AUTH_MANAGED_IDENTITY] = "managed identity",	   [DR_AUTH_AZURE_CLI] = "Azure CLI",
	};
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_puts(&b, what[(unsigned)k < DR_AUTH_COUNT ? k : 0]);
	if (k == DR_AUTH_CLIENT_SECRET || k == DR_AUTH_CLIENT_CERTIFICATE || k == DR_AUTH_WORKLOAD_IDENTITY)
		dr_buf_printf(&b, " (tenant %s, client %s)", au->tenant ? au->tenant : "unset",
			      au->client_id ? au->client_id : "unset");
	else if (k == DR_AUTH_MANAGED_IDENTITY && au->client_id)
		dr_buf_printf(&b, " (client %s)", au->client_id);
	return dr_buf_detach(&b);
}

const char *dr_auth_credential(dr_auth *au)
{
	static const char *const names[DR_AUTH_COUNT] = {
		[DR_AUTH_AUTO] = "the credential chain",	   [DR_AUTH_CLIENT_SECRET] = "client secret",
		[DR_AUTH_CLIENT_CERTIFICATE] = "client certificate", [DR_AUTH_WORKLOAD_IDENTITY] = "workload identity",
		[DR_AUTH_MANAGED_IDENTITY] = "managed identity",	   [DR_AUTH_AZURE_CLI] = "Azure CLI",
	};
	pthread_mutex_lock(&au->mu);
	dr_auth_kind k = au->used;
	pthread_mutex_unlock(&au->mu);
	return names[k];
}

int dr_auth_fetches(dr_auth *au)
{
	pthread_mutex_lock(&au->mu);
	int n = au->fetches;
	pthread_mutex_unlock(&au->mu);
	return n;
}

/* ---- fetching ------------------------------------------------------------------------------ */

static int fetch_one(dr_auth *au, dr_auth_kind k, bool probing, auth_token *tok, dr_auth_error *err)
{
	switch (k) {
	case DR_AUTH_CLIENT_SECRET: return auth_entra_secret(au, tok, err);
	case DR_AUTH_CLIENT_CERTIFICATE: return auth_entra_certificate(au, tok, err);
	case DR_AUTH_WORKLOAD_IDENTITY: return auth_entra_federated(au, tok, err);
	case DR_AUTH_MANAGED_IDENTITY: return auth_imds(au, probing, tok, err);
	case DR_AUTH_AZURE_CLI: return auth_cli(au, tok, err);
	default: return auth_fail(err, AUTH_FAILED, false, "credential", "CredentialUnavailable", "unknown credential");
	}
}

/* The environment credential of the chain: a secret first, else a certificate. */
static dr_auth_kind environment_kind(const dr_auth *au)
{
	return au->client_secret ? DR_AUTH_CLIENT_SECRET : DR_AUTH_CLIENT_CERTIFICATE;
}

/*
 * The chain: each credential that is set up here is tried in turn; one
 * that is set up but fails stops the chain (as Azure's SDKs do for the
 * environment and workload identity), except managed identity, after which
 * the Azure CLI is still tried. When none answers, the error lists why each
 * was passed over.
 */
static int fetch_chain(dr_auth *au, auth_token *tok, dr_auth_error *err)
{
	const dr_auth_kind order[] = {environment_kind(au), DR_AUTH_WORKLOAD_IDENTITY, DR_AUTH_MANAGED_IDENTITY,
				      DR_AUTH_AZURE_CLI};
	dr_buf why;
	dr_buf_init(&why);
	int rc = AUTH_UNAVAILABLE;
	for (size_t i = 0; i < sizeof order / sizeof order[0] && rc != 0; i++) {
		dr_auth_error e = {0};
		rc = fetch_one(au, order[i], true, tok, &e);
		if (rc == 0) {
			au->used = order[i];
		} else if (rc == AUTH_FAILED && order[i] != DR_AUTH_MANAGED_IDENTITY) {
			dr_buf_dispose(&why);
			*err = e;
			return rc;
		} else {
			dr_buf_printf(&why, "%s%s: %s", why.len ? "; " : "", e.credential, e.message);
			rc = AUTH_UNAVAILABLE;
		}
		dr_auth_error_dispose(&e);
	}
	if (rc != 0)
		auth_fail(err, AUTH_FAILED, false, "the credential chain", "CredentialUnavailable",
			  "no credential is set up here (%s). Set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET "
			  "(or AZURE_CLIENT_CERTIFICATE_PATH), run on Azure with a managed identity, or log in with "
			  "`az login`; backend.credential picks one",
			  why.data ? why.data : "");
	dr_buf_dispose(&why);
	return rc;
}

static int fetch(dr_auth *au, auth_token *tok, dr_auth_error *err)
{
	au->fetches++;
	if (au->kind == DR_AUTH_AUTO && au->used == DR_AUTH_AUTO)
		return fetch_chain(au, tok, err);
	int rc = fetch_one(au, au->used, false, tok, err);
	return rc == AUTH_UNAVAILABLE ? AUTH_FAILED : rc;
}

/* Whether the cached token is still good at now: outside the refresh margin. */
static bool fresh(const dr_auth *au, int64_t now)
{
	int64_t life = au->cached.expires_ms - au->cached_at, margin = REFRESH_MARGIN_MS;
	if (life / 2 < margin)
		margin = life / 2;
	return au->cached.value && now < au->cached.expires_ms - margin;
}

char *dr_auth_token(dr_auth *au, const char *stale, dr_auth_error *err)
{
	*err = (dr_auth_error){0};
	pthread_mutex_lock(&au->mu);
	bool refused = stale && au->cached.value && strcmp(stale, au->cached.value) == 0;
	int64_t now = auth_now(au);
	if (refused || !fresh(au, now)) {
		auth_token tok = {0};
		if (fetch(au, &tok, err) != 0) {
			pthread_mutex_unlock(&au->mu);
			return NULL;
		}
		wipe(au->cached.value);
		au->cached = tok;
		au->cached_at = now;
	}
	char *out = xstrdup(au->cached.value);
	pthread_mutex_unlock(&au->mu);
	return out;
}
