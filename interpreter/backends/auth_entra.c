/*
 * backends/auth_entra.c - the Microsoft Entra ID token endpoint (OAuth 2.0
 * client-credentials grant, asr-api.md §3.1): with a client secret, with a
 * certificate's signed assertion (auth_cert.c), or with a federated token
 * from a file (workload identity). One form POST each; the answer's token
 * and lifetime, or the service's error code and description.
 */
#include "backends/auth_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/buf.h"
#include "util/xalloc.h"

#define TOKEN_TIMEOUT_MS 30000
#define TOKEN_CONNECT_MS 10000
#define TOKEN_MAX_BODY (64 * 1024)
#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

char *auth_entra_endpoint(const dr_auth *au)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s/%s/oauth2/v2.0/token", au->authority, au->tenant ? au->tenant : "organizations");
	return dr_buf_detach(&b);
}

/* "key=value" appended to a form body, the value percent-encoded. */
static void form_add(dr_buf *b, const char *key, const char *value)
{
	char *e = dr_http_escape(value);
	dr_buf_printf(b, "%s%s=%s", b->len ? "&" : "", key, e);
	explicit_bzero(e, strlen(e));
	free(e);
}

/* The scope for the resource: "https://management.azure.com/.default". */
static void form_scope(dr_buf *b, const dr_auth *au)
{
	dr_buf s;
	dr_buf_init(&s);
	size_t n = strlen(au->resource);
	dr_buf_printf(&s, "%s%s.default", au->resource, n && au->resource[n - 1] == '/' ? "" : "/");
	form_add(b, "scope", s.data);
	dr_buf_dispose(&s);
}

/* A number that may come as a string (IMDS writes "3599"). */
static bool json_number(const cJSON *v, double *out)
{
	if (cJSON_IsNumber(v)) {
		*out = v->valuedouble;
		return true;
	}
	char *end = NULL;
	if (!cJSON_IsString(v) || !v->valuestring[0])
		return false;
	*out = strtod(v->valuestring, &end);
	return *end == '\0';
}

/*
 * A token answer: access_token, and expires_in (seconds from now) or
 * expires_on (Unix seconds). 0, or -1 with *why (static text).
 */
int auth_parse_token(const dr_auth *au, const char *body, auth_token *tok, const char **why)
{
	cJSON *j = cJSON_Parse(body);
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(j, "access_token");
	double in = 0, on = 0;
	bool has_in = json_number(cJSON_GetObjectItemCaseSensitive(j, "expires_in"), &in);
	bool has_on = json_number(cJSON_GetObjectItemCaseSensitive(j, "expires_on"), &on);
	int rc = -1;
	if (!j)
		*why = "the answer is not JSON";
	else if (!cJSON_IsString(at) || !at->valuestring[0])
		*why = "the answer has no access_token";
	else if (!has_in && !has_on)
		*why = "the answer says neither expires_in nor expires_on";
	else {
		tok->value = xstrdup(at->valuestring);
		tok->expires_ms = has_in ? auth_now(au) + (int64_t)(in * 1000) : (int64_t)(on * 1000);
		rc = 0;
	}
	cJSON_Delete(j);
	return rc;
}

/* The first line of s, at most 300 bytes (Entra's descriptions go on with trace ids). */
static char *first_line(const char *s)
{
	size_t n = strcspn(s, "\r\n");
	return xstrndup(s, n < 300 ? n : 300);
}

/* What the service said was wrong: its error code(s) and description. */
static int service_error(const dr_auth *au, const char *who, const dr_http_response *r, dr_auth_error *err)
{
	cJSON *j = cJSON_Parse(r->body);
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "error");
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(j, "error_description");
	const cJSON *codes = cJSON_GetObjectItemCaseSensitive(j, "error_codes");
	const cJSON *first = cJSON_IsArray(codes) ? cJSON_GetArrayItem(codes, 0) : NULL;
	char c[160];
	snprintf(c, sizeof c, "%s%s", cJSON_IsString(code) ? code->valuestring : "HTTP error", "");
	if (cJSON_IsNumber(first))
		snprintf(c + strlen(c), sizeof c - strlen(c), " AADSTS%.0f", first->valuedouble);
	char *d = first_line(cJSON_IsString(desc) ? desc->valuestring : "no description");
	bool transient = r->status == 429 || r->status >= 500;
	size_t dl = strlen(d);
	while (dl && (d[dl - 1] == '.' || d[dl - 1] == ' '))
		d[--dl] = '\0';
	auth_fail(err, AUTH_FAILED, transient, who, c,
		  "the token service (%s) refused the request (HTTP %ld): %s. %s", au->authority, r->status, d,
		  transient ? "It may work later; drover tries again on the next call"
			    : "Check the tenant, the client id and the secret or certificate registered for the "
			      "application in Entra ID");
	free(d);
	cJSON_Delete(j);
	return AUTH_FAILED;
}

/* POST the form to the token endpoint; the token, or the service's error. */
static int token_request(dr_auth *au, dr_auth_kind k, const char *form, auth_token *tok, dr_auth_error *err)
{
	char *url = auth_entra_endpoint(au), *who = auth_describe(au, k);
	dr_http_request req = {
		.method = "POST", .url = url, .content_type = "application/x-www-form-urlencoded", .body = form,
		.body_len = strlen(form), .timeout_ms = TOKEN_TIMEOUT_MS, .connect_timeout_ms = TOKEN_CONNECT_MS,
		.max_body = TOKEN_MAX_BODY, .client = au->http,
	};
	dr_http_response r;
	const char *why = NULL;
	int rc = AUTH_FAILED;
	if (dr_http_send(&r, &req) != DR_HTTP_OK)
		auth_fail(err, rc, r.error != DR_HTTP_E_URL && r.error != DR_HTTP_E_TLS, who, "TokenServiceUnreachable",
			  "cannot reach the token service (%s): %s", au->authority, r.message);
	else if (r.status != 200)
		service_error(au, who, &r, err);
	else if (auth_parse_token(au, r.body, tok, &why) != 0)
		auth_fail(err, rc, true, who, "BadTokenResponse", "the token service (%s) answered oddly: %s",
			  au->authority, why);
	else
		rc = 0;
	dr_http_response_dispose(&r);
	free(url);
	free(who);
	return rc;
}

/* Whether tenant, client id and the credential's own setting (var) are known; else AUTH_UNAVAILABLE. */
static int need_app(dr_auth *au, dr_auth_kind k, const char *var, const char *thing, dr_auth_error *err)
{
	if (au->tenant && au->client_id && thing)
		return 0;
	dr_buf miss;
	dr_buf_init(&miss);
	if (!au->tenant)
		dr_buf_puts(&miss, "AZURE_TENANT_ID");
	if (!au->client_id)
		dr_buf_printf(&miss, "%sAZURE_CLIENT_ID", miss.len ? ", " : "");
	if (!thing)
		dr_buf_printf(&miss, "%s%s", miss.len ? ", " : "", var);
	char *who = auth_describe(au, k);
	auth_fail(err, AUTH_UNAVAILABLE, false, who, "CredentialUnavailable", "%s not set", miss.data);
	free(who);
	dr_buf_dispose(&miss);
	return AUTH_UNAVAILABLE;
}

static void form_app(dr_buf *b, const dr_auth *au)
{
	form_add(b, "client_id", au->client_id);
	form_scope(b, au);
	form_add(b, "grant_type", "client_credentials");
}

int auth_entra_secret(dr_auth *au, auth_token *tok, dr_auth_error *err)
{
	if (need_app(au, DR_AUTH_CLIENT_SECRET, "AZURE_CLIENT_SECRET", au->client_secret, err) < 0)
		return AUTH_UNAVAILABLE;
	dr_buf f;
	dr_buf_init(&f);
	form_app(&f, au);
	form_add(&f, "client_secret", au->client_secret);
	int rc = token_request(au, DR_AUTH_CLIENT_SECRET, f.data, tok, err);
	explicit_bzero(f.data, f.len);
	dr_buf_dispose(&f);
	return rc;
}

/* The form of a grant with an assertion (a signed JWT, or a federated token). */
static int assertion_request(dr_auth *au, dr_auth_kind k, const char *assertion, auth_token *tok, dr_auth_error *err)
{
	dr_buf f;
	dr_buf_init(&f);
	form_app(&f, au);
	form_add(&f, "client_assertion_type", ASSERTION_TYPE);
	form_add(&f, "client_assertion", assertion);
	int rc = token_request(au, k, f.data, tok, err);
	explicit_bzero(f.data, f.len);
	dr_buf_dispose(&f);
	return rc;
}

int auth_entra_certificate(dr_auth *au, auth_token *tok, dr_auth_error *err)
{
	if (need_app(au, DR_AUTH_CLIENT_CERTIFICATE, "AZURE_CLIENT_CERTIFICATE_PATH", au->cert_path, err) < 0)
		return AUTH_UNAVAILABLE;
	char *aud = auth_entra_endpoint(au), *why = NULL;
	char *jwt = auth_cert_assertion(au, aud, &why);
	free(aud);
	int rc;
	if (!jwt) {
		char *who = auth_describe(au, DR_AUTH_CLIENT_CERTIFICATE);
		rc = auth_fail(err, AUTH_FAILED, false, who, "CertificateUnusable", "%s", why);
		free(who);
	} else {
		rc = assertion_request(au, DR_AUTH_CLIENT_CERTIFICATE, jwt, tok, err);
		explicit_bzero(jwt, strlen(jwt));
	}
	free(jwt);
	free(why);
	return rc;
}

/* The federated token file's content, trailing white space removed (heap); NULL with *why. */
static char *read_token_file(const char *path, char **why)
{
	FILE *f = fopen(path, "rb");
	dr_buf b;
	dr_buf_init(&b);
	if (!f) {
		dr_buf_printf(&b, "cannot read AZURE_FEDERATED_TOKEN_FILE '%s': %s", path, strerror(errno));
		*why = dr_buf_detach(&b);
		return NULL;
	}
	char chunk[4096];
	size_t got;
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0 && b.len < 64 * 1024)
		dr_buf_append(&b, chunk, got);
	fclose(f);
	while (b.len && strchr(" \t\r\n", b.data[b.len - 1]))
		b.data[--b.len] = '\0';
	if (!b.len) {
		dr_buf_printf(&b, "AZURE_FEDERATED_TOKEN_FILE '%s' is empty", path);
		*why = dr_buf_detach(&b);
		return NULL;
	}
	return dr_buf_detach(&b);
}

int auth_entra_federated(dr_auth *au, auth_token *tok, dr_auth_error *err)
{
	if (need_app(au, DR_AUTH_WORKLOAD_IDENTITY, "AZURE_FEDERATED_TOKEN_FILE", au->token_file, err) < 0)
		return AUTH_UNAVAILABLE;
	char *why = NULL, *assertion = read_token_file(au->token_file, &why);
	int rc;
	if (!assertion) {
		char *who = auth_describe(au, DR_AUTH_WORKLOAD_IDENTITY);
		rc = auth_fail(err, AUTH_FAILED, false, who, "FederatedTokenUnreadable", "%s", why);
		free(who);
	} else {
		rc = assertion_request(au, DR_AUTH_WORKLOAD_IDENTITY, assertion, tok, err);
		explicit_bzero(assertion, strlen(assertion));
	}
	free(assertion);
	free(why);
	return rc;
}
