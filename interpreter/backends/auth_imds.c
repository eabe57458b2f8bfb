/*
 * backends/auth_imds.c - managed identity: a token from the instance
 * metadata service (asr-api.md §3.2). GET
 * <endpoint>/metadata/identity/oauth2/token?api-version=2018-02-01
 * &resource=...[&client_id=...] with "Metadata: true". The endpoint is
 * http://169.254.169.254 (plain http to that address is the one exception
 * the HTTP layer makes, and only for this request), or
 * AZURE_POD_IDENTITY_AUTHORITY_HOST as Azure's SDKs honour it (tests point
 * it at the emulator on loopback).
 *
 * The service asks clients to retry 404, 410 (it is updating), 429 and
 * 5xx; drover tries three times, 0.5 s and 1 s apart. In the chain (probing),
 * an endpoint that does not answer within a second means "not on Azure":
 * the credential is unavailable and the chain moves on.
 */
#include "backends/auth_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "util/buf.h"
#include "util/xalloc.h"

#define IMDS_PATH "/metadata/identity/oauth2/token"
#define IMDS_API "2018-02-01"
#define IMDS_TRIES 3

static char *imds_url(const dr_auth *au)
{
	char *res = dr_http_escape(au->resource), *cid = au->client_id ? dr_http_escape(au->client_id) : NULL;
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s%s?api-version=%s&resource=%s", au->imds, IMDS_PATH, IMDS_API, res);
	if (cid)
		dr_buf_printf(&b, "&client_id=%s", cid);
	free(res);
	free(cid);
	return dr_buf_detach(&b);
}

static bool retryable(const dr_http_response *r)
{
	if (r->error != DR_HTTP_OK)
		return r->error == DR_HTTP_E_CONNECT || r->error == DR_HTTP_E_TIMEOUT || r->error == DR_HTTP_E_TRANSFER;
	return r->status == 404 || r->status == 410 || r->status == 429 || r->status >= 500;
}

static void pause_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* The service's {error, error_description}, or the status. */
static int refused(const dr_auth *au, const char *who, const dr_http_response *r, dr_auth_error *err)
{
	cJSON *j = cJSON_Parse(r->body);
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(j, "error");
	const cJSON *desc = cJSON_GetObjectItemCaseSensitive(j, "error_description");
	auth_fail(err, AUTH_FAILED, retryable(r), who, cJSON_IsString(code) ? code->valuestring : "HTTP error",
		  "the instance metadata service (%s) refused the token request (HTTP %ld): %s. Check that the VM or "
		  "pod has a managed identity%s and that it may read the vault",
		  au->imds, r->status, cJSON_IsString(desc) ? desc->valuestring : "no description",
		  au->client_id ? " with this client id (AZURE_CLIENT_ID)" : "");
	cJSON_Delete(j);
	return AUTH_FAILED;
}

/* One request: 0 with *tok, or an error; *again: worth another try. */
static int ask(dr_auth *au, const char *who, bool probing, auth_token *tok, dr_auth_error *err, bool *again)
{
	static const char *const headers[] = {"Metadata: true", NULL};
	char *url = imds_url(au);
	dr_http_request req = {.url = url, .headers = headers, .timeout_ms = probing ? 3000 : 10000,
			       .connect_timeout_ms = probing ? 1000 : 5000, .max_body = 64 * 1024,
			       .allow_imds = true, .client = au->http};
	dr_http_response r;
	const char *why = NULL;
	int rc = AUTH_FAILED;
	*again = false;
	if (dr_http_send(&r, &req) != DR_HTTP_OK) {
		bool absent = probing && (r.error == DR_HTTP_E_CONNECT || r.error == DR_HTTP_E_TIMEOUT);
		rc = auth_fail(err, absent ? AUTH_UNAVAILABLE : AUTH_FAILED, true, who, "ImdsUnreachable",
			       "no instance metadata service answers at %s (%s)%s", au->imds, r.message,
			       absent ? ": not on an Azure VM" : "");
		*again = !absent && retryable(&r);
	} else if (r.status != 200) {
		refused(au, who, &r, err);
		*again = retryable(&r);
	} else if (auth_parse_token(au, r.body, tok, &why) != 0) {
		auth_fail(err, rc, true, who, "BadTokenResponse", "the instance metadata service answered oddly: %s", why);
	} else {
		rc = 0;
	}
	dr_http_response_dispose(&r);
	free(url);
	return rc;
}

int auth_imds(dr_auth *au, bool probing, auth_token *tok, dr_auth_error *err)
{
	char *who = auth_describe(au, DR_AUTH_MANAGED_IDENTITY);
	int rc = AUTH_FAILED;
	bool again = true;
	for (int i = 0; i < IMDS_TRIES && again; i++) {
		if (i)
			pause_ms(500 * i);
		rc = ask(au, who, probing, tok, err, &again);
		again = again && rc != 0;
	}
	if (rc == 0)
		dr_auth_error_dispose(err); /* an earlier try's */
	free(who);
	return rc;
}
