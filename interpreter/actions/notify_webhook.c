/*
 * actions/notify_webhook.c - notify.webhook: POST the JSON {"text": ...}
 * to a webhook URL (Slack's incoming webhooks, and the many chat tools that
 * accept the same form), through the HTTP layer (backends/http.h: TLS
 * always verified, plain http only to loopback).
 *
 * A webhook URL is a credential (Slack's path is the secret), so messages
 * name its host only, whether or not it reads ${secrets...}. Any 2xx is
 * success. 429 is THROTTLED with the Retry-After; 408, 425 and 5xx are
 * TRANSIENT; any other status is PERMANENT: a webhook that answers 404 or
 * 403 has been revoked or mistyped, and retrying does not heal it.
 * Failures without a response are classed as net.h says.
 */
#include "actions/family.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "actions/net.h"
#include "run/eval.h"
#include "util/buf.h"
#include "util/text.h"

enum {
	TIMEOUT_MS = 10000, /* for the whole request; the attempt's deadline may cut it shorter */
	MAX_BODY = 65536, /* of the answer: only a snippet of it is ever shown */
	SNIPPET = 200,
	MAX_REDIRECTS = 5,
};

static dr_err_class status_class(long status)
{
	if (status == 429)
		return DR_ERRC_THROTTLED;
	if (status == 408 || status == 425 || status >= 500)
		return DR_ERRC_TRANSIENT;
	return DR_ERRC_PERMANENT;
}

static dr_outcome judge(struct dr_exec *run, const dr_http_response *r, const char *what)
{
	if (r->status >= 200 && r->status < 300) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "status", (double)r->status);
		cJSON_AddNumberToObject(o, "elapsed_ms", (double)r->elapsed_ms);
		return dr_outcome_ok(o);
	}
	char *snip = dr_net_snippet(run, r->body, r->body_len, SNIPPET);
	dr_outcome o = dr_outcome_fail(status_class(r->status), "%s: HTTP %ld (expected 2xx)%s%s", what, r->status,
				       *snip ? "; body: " : "", snip);
	o.retry_after_ms = r->retry_after_ms;
	free(snip);
	return o;
}

/* The JSON body: {"text": text}. The caller frees it. */
static char *message_body(const cJSON *text)
{
	char *t = dr_eval_to_text(text);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "text", t);
	char *body = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	free(t);
	if (!body)
		abort(); /* out of memory: as xalloc */
	return body;
}

static dr_outcome post(dr_call *call, const char *url, const cJSON *text, char **headers, const dr_net_limit *l)
{
	char *host = dr_http_url_display(url, true), *body = message_body(text);
	dr_buf what;
	dr_buf_init(&what);
	dr_buf_printf(&what, "POST to %s", host);
	dr_http_request req = {
		.method = "POST",
		.url = url,
		.headers = (const char *const *)headers,
		.content_type = "application/json",
		.body = body,
		.body_len = strlen(body),
		.timeout_ms = l->ms,
		.max_body = MAX_BODY,
		.max_redirects = MAX_REDIRECTS,
		.cancel = call->cancel_requested,
		.secret_url = true,
	};
	dr_http_response r = {.retry_after_ms = -1};
	dr_outcome o;
	if (l->ms <= 0)
		o = dr_outcome_fail(DR_ERRC_TIMEOUT, "%s was not sent: no time left before the attempt's deadline",
				    what.data);
	else if (dr_http_send(&r, &req) == DR_HTTP_OK)
		o = judge(call->run, &r, what.data);
	else
		o = dr_net_http_failure(&r, what.data, l);
	dr_http_response_dispose(&r);
	dr_buf_dispose(&what);
	free(host);
	free(body);
	return o;
}

/*
 * POST {"text": with.text} to with.url. OK with outputs {status,
 * elapsed_ms}; FAIL as the file's comment says. Blocks; never returns WAIT.
 */
dr_outcome dr_action_notify_webhook_run(dr_call *call)
{
	const cJSON *w = call->with;
	const cJSON *url = cJSON_GetObjectItemCaseSensitive(w, "url"), *text = cJSON_GetObjectItemCaseSensitive(w, "text");
	char **headers = NULL, *err = NULL;
	dr_net_limit limit;
	if (dr_net_cancelled(call))
		return dr_outcome_fail(DR_ERRC_CANCELLED, "cancelled before the message was sent");
	if (!cJSON_IsString(url) || !url->valuestring[0])
		return dr_outcome_fail(DR_ERRC_PERMANENT, "with.url: a URL (a non-empty string) is required");
	if (!text)
		return dr_outcome_fail(DR_ERRC_PERMANENT, "with.text: the message is required");
	if (!cJSON_IsString(text) && !cJSON_IsNumber(text) && !cJSON_IsBool(text))
		return dr_outcome_fail(DR_ERRC_PERMANENT, "with.text: text is required, not a %s", dr_eval_type_name(text));
	if (!dr_net_headers(cJSON_GetObjectItemCaseSensitive(w, "headers"), &headers, &err) ||
	    !dr_net_limit_get(call, NULL, "timeout", TIMEOUT_MS, &limit, &err)) {
		dr_outcome o = dr_outcome_fail(DR_ERRC_PERMANENT, "%s", err);
		free(err);
		return o;
	}
	dr_outcome o = post(call, url->valuestring, text, headers, &limit);
	dr_net_headers_free(headers);
	return o;
}
