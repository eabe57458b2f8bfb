/*
 * backends/azure_arm.c - the ARM client: one function that sends a call
 * the way Azure Resource Manager expects it and reads the answer the way
 * it gives it.
 *
 *   URL          the endpoint + the path (or an absolute nextLink / LRO URL),
 *                ?api-version= unless the URL carries it
 *   headers      Authorization: Bearer (the credential's cached token),
 *                x-ms-client-request-id (the caller's, derived from an
 *                idempotency key for operations; random otherwise),
 *                x-ms-return-client-request-id, Accept, Content-Type
 *   pacing       a token from the subscription's limiter before every try;
 *                the answer's x-ms-ratelimit-remaining-* lowers it; a 429
 *                pauses it for Retry-After
 *   401          once per call: a fresh token, and the call again
 *   retries      reads: up to 4 tries on 429, 5xx and lost answers, no
 *                faster than Retry-After; writes: as the caller says (ARM
 *                has no idempotency key: azure_ops.c decides); one try of
 *                anything while the caller retries (a run's steps: their
 *                retry: is the only policy, dr_backend_caller_retries)
 *   Retry-After  retry-after-ms, else Retry-After (seconds or an HTTP
 *                date: libcurl reads both), at most AZ_RETRY_AFTER_MAX_MS
 *   errors       ARM's and ASR's envelopes verbatim (azure_parse.c), with
 *                the request id; a lost answer of a write is flagged
 *                (`unknown`): the service may have acted on it
 *
 * Nothing here logs: the Authorization header and tokens appear nowhere
 * but in the request itself.
 */
#include "backends/azure_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/buf.h"
#include "util/xalloc.h"

#define CALL_TIMEOUT_MS 60000
#define CONNECT_TIMEOUT_MS 10000
#define MAX_BODY (16 * 1024 * 1024)
#define MAX_RETRY_WAIT_MS 60000
#define MAX_PAGES 100000

static void count(az *z, uint64_t *field, uint64_t n)
{
	pthread_mutex_lock(&z->mu);
	*field += n;
	pthread_mutex_unlock(&z->mu);
}

static void pause_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

static const char *url_of(az *z, dr_arena *a, const az_req *r)
{
	bool absolute = strncasecmp(r->url, "http://", 7) == 0 || strncasecmp(r->url, "https://", 8) == 0;
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s%s", absolute ? "" : z->endpoint, r->url);
	char sep = strchr(b.data, '?') ? '&' : '?';
	if (r->api) {
		dr_buf_printf(&b, "%capi-version=%s", sep, r->api);
		sep = '&';
	}
	if (r->query && *r->query)
		dr_buf_printf(&b, "%c%s", sep, r->query);
	const char *out = dr_arena_strdup(a, b.data);
	dr_buf_dispose(&b);
	return out;
}

/* The header lines of one try (auth is the Authorization line, wiped by the caller). */
static void headers_of(char lines[3][128], const char **out, const char *auth, const char *rid)
{
	snprintf(lines[0], sizeof lines[0], "x-ms-client-request-id: %s", rid);
	snprintf(lines[1], sizeof lines[1], "x-ms-return-client-request-id: true");
	snprintf(lines[2], sizeof lines[2], "Accept: application/json");
	out[0] = lines[0], out[1] = lines[1], out[2] = lines[2], out[3] = auth, out[4] = NULL;
}

/* A millisecond count from a header (retry-after-ms), or -1. */
static int64_t header_ms(const char *v)
{
	char *end = NULL;
	long long n = v ? strtoll(v, &end, 10) : -1;
	return v && end != v && n >= 0 ? (int64_t)n : -1;
}

static const char *header_copy(dr_arena *a, const dr_http_response *r, const char *name)
{
	const char *v = dr_http_response_header(r, name);
	return v ? dr_arena_strdup(a, v) : NULL;
}

/* Headers the backend reads, and the limiter's view of what is left. */
static void read_headers(az *z, dr_arena *a, const dr_http_response *hr, bool write, az_reply *rep)
{
	rep->status = hr->status;
	rep->location = header_copy(a, hr, "Location");
	rep->async_op = header_copy(a, hr, "Azure-AsyncOperation");
	rep->ms_request_id = header_copy(a, hr, "x-ms-request-id");
	int64_t ms = header_ms(dr_http_response_header(hr, "retry-after-ms"));
	rep->retry_after_ms = ms >= 0 ? ms : hr->retry_after_ms;
	if (rep->retry_after_ms > AZ_RETRY_AFTER_MAX_MS)
		rep->retry_after_ms = AZ_RETRY_AFTER_MAX_MS;
	const char *left = dr_http_response_header(hr, write ? "x-ms-ratelimit-remaining-subscription-writes"
							     : "x-ms-ratelimit-remaining-subscription-reads");
	if (left)
		az_limit_observe(z->limit, write, atof(left));
}

/* A transport failure as an error: nothing sent (connect) or maybe sent (the rest). */
static int transport_error(az *z, dr_arena *a, const dr_http_response *hr, const char *rid, dr_be_error *err)
{
	bool permanent = hr->error == DR_HTTP_E_URL || hr->error == DR_HTTP_E_TLS;
	dr_backend_fail(err, a, 0, permanent ? DR_BE_ERR_PERMANENT : DR_BE_ERR_TRANSIENT,
			hr->error == DR_HTTP_E_TIMEOUT ? "RequestTimeout" : "ServiceUnreachable",
			permanent ? "The endpoint's URL or certificate is not acceptable." : NULL,
			permanent ? "Check backend.endpoint (https://, or http:// on loopback only)."
				  : "Check the network path to Azure Resource Manager; drover retries.",
			"Azure Resource Manager at %s did not answer: %s", z->endpoint, hr->message);
	err->request_id = dr_arena_strdup(a, rid);
	return -1;
}

/* The credential could not give a token. */
static int token_error(dr_arena *a, dr_auth_error *ae, const char *rid, dr_be_error *err)
{
	dr_backend_fail(err, a, 401, ae->transient ? DR_BE_ERR_TRANSIENT : DR_BE_ERR_PERMANENT, ae->code, NULL,
			"Fix the credential (docs/backends.md, \"Credentials\"), then run again.", "no access token: %s: %s",
			ae->credential, ae->message);
	err->request_id = dr_arena_strdup(a, rid);
	dr_auth_error_dispose(ae);
	return -1;
}

/* What to do about ARM's own refusals, which carry no recommended action. */
static const struct {
	const char *code, *action;
} arm_advice[] = {
	{"ResourceNotFound", "Check backend.subscription, backend.resource_group and backend.vault: they must name "
			     "the Recovery Services vault that protects the VMs."},
	{"ResourceGroupNotFound", "Check backend.resource_group (and that backend.subscription is the vault's)."},
	{"SubscriptionNotFound", "Check backend.subscription: the vault's subscription id."},
	{"NoRegisteredProviderFound", "Set backend.api_version to one the message lists (drover is tested with "
				      "2025-08-01), or remove it to use that default."},
	{"InvalidApiVersionParameter", "Set backend.api_version to a date such as 2025-08-01."},
	{"AuthorizationFailed", "Give the credential's identity the role docs/backends.md (\"Permissions\") lists "
				"for this call, on the vault or the VMs."},
	{"InvalidAuthenticationToken", "The token was refused twice: check the credential's tenant and that it is "
				       "for the Azure Resource Manager endpoint drover calls (backend.endpoint)."},
	{"ExpiredAuthenticationToken", "The token expired twice in a row: check the clock of this machine."},
	{"AuthenticationFailed", "Check the credential (docs/backends.md, \"Credentials\")."},
};

static void advise(dr_arena *a, dr_be_error *err)
{
	for (size_t i = 0; !err->recommended_action && i < sizeof arm_advice / sizeof arm_advice[0]; i++)
		if (err->code && strcmp(err->code, arm_advice[i].code) == 0)
			err->recommended_action = dr_arena_strdup(a, arm_advice[i].action);
}

static bool retryable(long status)
{
	return status == 429 || status == 408 || status >= 500 || status < 300; /* < 300: a read's body that is not JSON */
}

/* The start of a body that is not JSON, on one line (control characters as spaces), for a message; in a. */
static const char *snippet(dr_arena *a, const char *body, size_t len)
{
	enum { MAX = 160 };
	char *s = dr_arena_strndup(a, body, len < MAX ? len : MAX);
	for (char *p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return len > MAX ? dr_arena_printf(a, "%s...", s) : s;
}

/*
 * A read answered 2xx with a body that is not JSON (a proxy's login page, a
 * cut answer): an error, transient, never an empty list or a missing item.
 */
static void not_json(dr_arena *a, const char *url, long status, const char *raw, const char *rid, dr_be_error *err)
{
	dr_backend_fail(err, a, (int)status, DR_BE_ERR_TRANSIENT, "BadResponse",
			"A proxy or gateway between drover and Azure answered in the service's place, or the answer "
			"was cut short.",
			"Check the network path to backend.endpoint (a proxy that intercepts TLS, a captive portal), "
			"then run again.",
			"The service answered HTTP %ld to GET %s with %s%s%s", status, url,
			*raw ? "a body that is not JSON: '" : "no JSON object (a list is {value, nextLink})", raw, *raw ? "'" : "");
	err->request_id = dr_arena_strdup(a, rid);
}

/* How long to wait before try k+1 (1-based k): Retry-After, else 0.5 s doubling. */
static int64_t backoff(const az_reply *rep, int k)
{
	int64_t ms = rep->retry_after_ms >= 0 ? rep->retry_after_ms : (int64_t)500 << (k - 1);
	return ms > MAX_RETRY_WAIT_MS ? MAX_RETRY_WAIT_MS : ms;
}

/* The wait for the subscription's limiter was ended by the thread's stop flag: nothing was sent. */
static void stopped(dr_arena *a, const az_req *r, const char *rid, dr_be_error *err)
{
	dr_backend_fail(err, a, 0, DR_BE_ERR_CANCELLED, "Stopped", NULL,
			"Nothing was sent: the request left no trace in the service.",
			"%s %s was not sent: the attempt was stopped (its deadline, the step's timeout or a cancel) while it "
			"waited for the subscription's request budget (a 429's Retry-After or ARM's rate)",
			r->method, r->url);
	err->request_id = dr_arena_strdup(a, rid);
}

/* One try. 1: the answer is in rep (any status); 0: a transport error (in err); -1: no token, or stopped (in err). */
static int try_once(az *z, dr_arena *a, const az_req *r, const char *url, const char *rid, const char *stale,
		    bool prepaid, char **token, dr_http_response *hr, dr_be_error *err)
{
	bool write = strcmp(r->method, "GET") != 0;
	dr_auth_error ae;
	int64_t waited = prepaid ? az_limit_spend(z->limit, write) : az_limit_take(z->limit, write);
	if (waited < 0)
		return stopped(a, r, rid, err), -1;
	pthread_mutex_lock(&z->mu);
	z->stats.limiter_wait_ms += waited;
	*(write ? &z->stats.writes : &z->stats.reads) += 1;
	pthread_mutex_unlock(&z->mu);
	if (!(*token = dr_auth_token(z->auth, stale, &ae)))
		return token_error(a, &ae, rid, err), -1;
	char lines[3][128], auth[8192];
	const char *hdrs[5];
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", *token);
	headers_of(lines, hdrs, auth, rid);
	dr_http_request q = {.method = r->method, .url = url, .headers = hdrs,
			     .content_type = r->body ? "application/json" : NULL, .body = r->body,
			     .body_len = r->body ? strlen(r->body) : 0, .timeout_ms = CALL_TIMEOUT_MS,
			     .connect_timeout_ms = CONNECT_TIMEOUT_MS, .max_body = MAX_BODY, .client = z->http};
	dr_http_send(hr, &q);
	explicit_bzero(auth, sizeof auth);
	return hr->error == DR_HTTP_OK ? 1 : 0;
}

bool az_caller_retries(az *z)
{
	return __atomic_load_n(&z->caller_retries, __ATOMIC_RELAXED);
}

int az_send(az *z, dr_arena *a, const az_req *r, az_reply *rep, dr_be_error *err)
{
	bool write = strcmp(r->method, "GET") != 0;
	int refreshed = 0;
	int tries = r->tries > 0 ? r->tries : write || az_caller_retries(z) ? 1 : 4;
	char ridbuf[37], *stale = NULL;
	if (!r->rid)
		dr_auth_uuid_random(ridbuf);
	const char *rid = dr_arena_strdup(a, r->rid ? r->rid : ridbuf), *url = url_of(z, a, r);
	*rep = (az_reply){.retry_after_ms = -1, .request_id = rid};
	int rc = -1;
	for (int k = 1; k <= tries; k++) {
		dr_http_response hr = {0};
		char *token = NULL;
		int got = try_once(z, a, r, url, rid, stale, r->prepaid && k == 1 && !refreshed, &token, &hr, err);
		free(stale);
		stale = NULL;
		if (got < 0) {
			dr_http_response_dispose(&hr);
			break;
		}
		if (k > 1)
			count(z, &z->stats.retries, 1);
		if (!got) {
			rep->unknown = write && hr.error != DR_HTTP_E_CONNECT && hr.error != DR_HTTP_E_URL;
			transport_error(z, a, &hr, rid, err);
			bool again = k < tries && err->cls == DR_BE_ERR_TRANSIENT;
			dr_http_response_dispose(&hr);
			free(token);
			if (!again)
				break;
			pause_ms(backoff(rep, k));
			continue;
		}
		rep->unknown = false;
		read_headers(z, a, &hr, write, rep);
		cJSON_Delete(rep->json);
		rep->json = hr.body_len ? cJSON_ParseWithLength(hr.body, hr.body_len) : NULL;
		const char *raw = hr.body_len && !rep->json ? snippet(a, hr.body, hr.body_len) : NULL;
		dr_http_response_dispose(&hr);
		/*
		 * The token expired or was revoked: once more with a new one. Twice at most: the
		 * first new token may be one another thread fetched a moment ago, and dead too.
		 */
		if (rep->status == 401 && refreshed < 2) {
			refreshed++;
			stale = token;
			count(z, &z->stats.unauthorized, 1);
			k--;
			continue;
		}
		free(token);
		if (rep->status >= 200 && rep->status < 300 && !(raw && !write)) {
			rc = 0;
			break;
		}
		if (rep->status < 300) {
			not_json(a, url, rep->status, raw, rid, err);
		} else {
			az_parse_error(a, rep->status, rep->json, rid, err);
			if (raw) /* a gateway's page: its words, not only the status */
				err->message = dr_arena_printf(a, "The service answered HTTP %ld with a body that is not JSON: "
								  "'%s'.", rep->status, raw);
		}
		advise(a, err);
		err->retry_after_ms = rep->retry_after_ms;
		if (rep->status == 429) {
			count(z, &z->stats.throttled, 1);
			az_limit_pause(z->limit, rep->retry_after_ms);
		}
		if (k == tries || !retryable(rep->status))
			break;
		if (rep->status != 429) /* the limiter already waits out a 429 */
			pause_ms(backoff(rep, k));
	}
	free(stale);
	return rc;
}

void az_reply_dispose(az_reply *rep)
{
	cJSON_Delete(rep->json);
	rep->json = NULL;
}

/* A list whose nextLinks do not end: an error, never the pages read so far taken for the whole list. */
static int endless(dr_arena *a, const char *path, int pages, const char *why, dr_be_error *err)
{
	return dr_backend_fail(err, a, 200, DR_BE_ERR_TRANSIENT, "BadResponse", NULL,
			       "Run again; if it stays so, report it to Azure support with the list's path.",
			       "The service's list %s did not end after %d pages: %s, so drover cannot know its "
			       "whole content",
			       path, pages, why);
}

int az_list(az *z, dr_arena *a, const char *path, const char *api, const char *query,
	    int (*each)(void *ctx, const cJSON *v), void *ctx, dr_be_error *err)
{
	az_req r = {.method = "GET", .url = path, .api = api, .query = query};
	const char *prev = NULL;
	for (int page = 0; page < MAX_PAGES; page++) {
		az_reply rep;
		if (az_send(z, a, &r, &rep, err) < 0) {
			az_reply_dispose(&rep);
			return -1;
		}
		if (!cJSON_IsObject(rep.json)) { /* an empty answer is not an empty list */
			not_json(a, r.url, rep.status, "", rep.request_id, err);
			az_reply_dispose(&rep);
			return -1;
		}
		const cJSON *v;
		int stop = 0;
		cJSON_ArrayForEach(v, cJSON_GetObjectItem(rep.json, "value")) if (!stop) stop = each(ctx, v);
		const char *next = az_str(rep.json, "nextLink");
		next = next && *next && !stop ? dr_arena_strdup(a, next) : NULL;
		az_reply_dispose(&rep);
		if (!next)
			return 0;
		if (prev && strcmp(prev, next) == 0)
			return endless(a, path, page + 1, "its nextLink names the page just read", err);
		prev = next;
		r = (az_req){.method = "GET", .url = next};
	}
	return endless(a, path, MAX_PAGES, "it has more pages than any vault's list", err);
}
