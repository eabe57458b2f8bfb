/*
 * emulator/auth.c - Microsoft Entra ID as far as drover needs it: the
 * client-credentials token endpoint (/{tenant}/oauth2/v2.0/token, with a
 * client secret or a client assertion: a certificate's or a federated
 * token, asr-api.md §3.1, checked in jwt.c), the instance-metadata endpoint
 * (/metadata/identity/oauth2/token with `Metadata: true`, §3.2), and the
 * bearer-token check of every ARM request: only tokens this emulator
 * issued and that have not expired are accepted (401 otherwise, with ARM's
 * codes and a WWW-Authenticate challenge).
 *
 * Tokens are opaque random strings (getrandom) kept in a table with their
 * expiry; a token-expiry fault makes new tokens expire sooner than the
 * expires_in they announce, as a revoked or clock-skewed token does.
 * Secrets are compared, never logged or echoed.
 */
#include "emulator/emu_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <cjson/cJSON.h>

#include "util/xalloc.h"

typedef struct emu_token {
	char *token;
	int64_t expires_ms;
} emu_token;

#define ASSERTION_TYPE "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

static void aad_error(emu_resp *rs, int status, const char *error, const char *description)
{
	cJSON *o = cJSON_CreateObject(), *codes = cJSON_AddArrayToObject(o, "error_codes");
	int code = 0;
	cJSON_AddStringToObject(o, "error", error);
	cJSON_AddStringToObject(o, "error_description", description);
	if (sscanf(description, "AADSTS%d", &code) == 1)
		cJSON_AddItemToArray(codes, cJSON_CreateNumber(code));
	rs->audit_note = error;
	emu_json(rs, status, o);
}

static char *new_token(void)
{
	unsigned char r[24];
	static const char digits[] = "0123456789abcdef";
	const char *prefix = "drover-emulator.";
	size_t p = strlen(prefix);
	if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r)
		abort(); /* the kernel's random numbers are not optional */
	char *t = xmalloc(p + 2 * sizeof r + 1);
	memcpy(t, prefix, p);
	for (size_t i = 0; i < sizeof r; i++) {
		t[p + 2 * i] = digits[r[i] >> 4];
		t[p + 2 * i + 1] = digits[r[i] & 15];
	}
	t[p + 2 * sizeof r] = '\0';
	return t;
}

/* Record a token valid until now + lifetime (or the fault's shorter one); drops expired ones. */
static const char *issue(dr_emu *e, emu_call *c)
{
	int64_t now = c->rq->now_ms, life = emu_faults_token_lifetime(e);
	char *t = new_token();
	pthread_mutex_lock(&e->mu);
	size_t keep = 0;
	for (size_t i = 0; i < e->n_tokens; i++) {
		if (e->tokens[i].expires_ms > now)
			e->tokens[keep++] = e->tokens[i];
		else
			free(e->tokens[i].token);
	}
	e->n_tokens = keep;
	if (e->n_tokens == e->cap_tokens) {
		e->cap_tokens = e->cap_tokens ? e->cap_tokens * 2 : 8;
		e->tokens = xrealloc(e->tokens, e->cap_tokens * sizeof *e->tokens);
	}
	e->tokens[e->n_tokens++] = (emu_token){t, now + (life >= 0 ? life : e->o.token_lifetime_ms)};
	pthread_mutex_unlock(&e->mu);
	return dr_arena_strdup(c->a, t);
}

/* The principal's secret; NULL when the client id is unknown. */
static const char *secret_of(dr_emu *e, const char *client)
{
	if (!e->n_clients)
		return strcmp(client, DR_EMU_CLIENT_ID) == 0 ? DR_EMU_CLIENT_SECRET : NULL;
	for (size_t i = 0; i < e->n_clients; i++)
		if (strcmp(e->client_ids[i], client) == 0)
			return e->client_secrets[i];
	return NULL;
}

static bool check_credential(dr_emu *e, emu_call *c, const char *tenant, const char *client)
{
	const char *secret = emu_form(c->rq, "client_secret"), *atype = emu_form(c->rq, "client_assertion_type");
	const char *assertion = emu_form(c->rq, "client_assertion"), *want = secret_of(e, client);
	if (!want) {
		aad_error(c->rs, 400, "unauthorized_client",
			  dr_arena_printf(c->a, "AADSTS700016: Application with identifier '%s' was not found in the "
						"directory '%s'.", client, tenant));
		return false;
	}
	if (secret) {
		if (strcmp(secret, want) == 0)
			return true;
		aad_error(c->rs, 401, "invalid_client",
			  dr_arena_printf(c->a, "AADSTS7000215: Invalid client secret provided. Ensure the secret being "
						"sent in the request is the client secret value, not the client secret "
						"ID, for a secret added to app '%s'.", client));
		return false;
	}
	if (!assertion || !atype || strcmp(atype, ASSERTION_TYPE) != 0) {
		aad_error(c->rs, 401, "invalid_client",
			  "AADSTS7000218: The request body must contain the following parameter: 'client_assertion' "
			  "(with client_assertion_type jwt-bearer) or 'client_secret'.");
		return false;
	}
	const char *why = emu_jwt_check(e, c->a, assertion, client, tenant, c->rq->now_ms);
	if (why)
		aad_error(c->rs, 401, "invalid_client", why);
	return !why;
}

void emu_auth_token(dr_emu *e, emu_call *c)
{
	const char *tenant = emu_cap(c, "tenant"), *grant = emu_form(c->rq, "grant_type");
	const char *client = emu_form(c->rq, "client_id"), *scope = emu_form(c->rq, "scope");
	size_t sl = scope ? strlen(scope) : 0;
	if (!grant || strcmp(grant, "client_credentials") != 0) {
		aad_error(c->rs, 400, "unsupported_grant_type",
				 "AADSTS70003: The app requested an unsupported grant type; the emulator serves "
				 "'client_credentials'.");
		return;
	}
	if (!client || !*client) {
		aad_error(c->rs, 400, "invalid_request",
				 "AADSTS900144: The request body must contain the following parameter: 'client_id'.");
		return;
	}
	if (sl < 9 || strcmp(scope + sl - 9, "/.default") != 0) {
		aad_error(c->rs, 400, "invalid_scope",
				 dr_arena_printf(c->a, "AADSTS70011: The provided value for the input parameter "
						       "'scope' is not valid. The scope '%s' isn't a resource's "
						       "'/.default'.", scope ? scope : ""));
		return;
	}
	if (!check_credential(e, c, tenant, client))
		return;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "token_type", "Bearer");
	cJSON_AddNumberToObject(o, "expires_in", (double)(e->o.token_lifetime_ms / 1000));
	cJSON_AddNumberToObject(o, "ext_expires_in", (double)(e->o.token_lifetime_ms / 1000));
	cJSON_AddStringToObject(o, "access_token", issue(e, c));
	emu_json(c->rs, 200, o);
}

void emu_auth_imds(dr_emu *e, emu_call *c)
{
	const char *md = c->rq->metadata, *resource = emu_query(c->rq, "resource");
	if (!md || strcmp(md, "true") != 0) {
		aad_error(c->rs, 400, "invalid_request", "Required metadata header not specified");
		return;
	}
	if (!emu_query(c->rq, "api-version")) {
		aad_error(c->rs, 400, "invalid_request", "Required query variable 'api-version' is missing");
		return;
	}
	if (!resource || !*resource) {
		aad_error(c->rs, 400, "invalid_request", "Required query variable 'resource' is missing");
		return;
	}
	char num[32];
	int64_t secs = c->rq->now_ms / 1000, life = e->o.token_lifetime_ms / 1000;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "access_token", issue(e, c));
	cJSON_AddStringToObject(o, "refresh_token", "");
	snprintf(num, sizeof num, "%lld", (long long)life);
	cJSON_AddStringToObject(o, "expires_in", num);
	snprintf(num, sizeof num, "%lld", (long long)(secs + life));
	cJSON_AddStringToObject(o, "expires_on", num);
	snprintf(num, sizeof num, "%lld", (long long)secs);
	cJSON_AddStringToObject(o, "not_before", num);
	cJSON_AddStringToObject(o, "resource", resource);
	cJSON_AddStringToObject(o, "token_type", "Bearer");
	emu_json(c->rs, 200, o);
}

static bool unauthorized(emu_call *c, const char *code, const char *msg)
{
	emu_header(c->rs, c->a, "WWW-Authenticate",
		   dr_arena_printf(c->a, "Bearer authorization_uri=\"/common\", error=\"invalid_token\", "
					 "error_description=\"%s\"", msg));
	emu_arm_error(c->rs, 401, code, "%s", msg);
	return false;
}

bool emu_auth_check(dr_emu *e, emu_call *c)
{
	const char *h = c->rq->authorization;
	if (!h)
		return unauthorized(c, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is "
							       "missing.");
	if (strncasecmp(h, "Bearer ", 7) != 0 || !h[7])
		return unauthorized(c, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is "
							       "provided in an invalid format.");
	int64_t expires = -1;
	pthread_mutex_lock(&e->mu);
	for (size_t i = 0; i < e->n_tokens && expires < 0; i++)
		if (strcmp(e->tokens[i].token, h + 7) == 0)
			expires = e->tokens[i].expires_ms;
	pthread_mutex_unlock(&e->mu);
	if (expires < 0)
		return unauthorized(c, "InvalidAuthenticationToken", "The access token is invalid.");
	if (expires <= c->rq->now_ms)
		return unauthorized(c, "ExpiredAuthenticationToken",
				    dr_arena_printf(c->a, "The access token expiry UTC time '%s' is earlier than "
							  "current UTC time '%s'.",
						    emu_time(c->a, expires), emu_time(c->a, c->rq->now_ms)));
	return true;
}

void emu_auth_free(dr_emu *e)
{
	for (size_t i = 0; i < e->n_tokens; i++)
		free(e->tokens[i].token);
	free(e->tokens);
	for (size_t i = 0; i < e->n_clients; i++) {
		free(e->client_ids[i]);
		free(e->client_secrets[i]);
	}
	free(e->client_ids);
	free(e->client_secrets);
}
