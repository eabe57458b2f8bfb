/*
 * actions/check_http.c - check.http: request a URL through the HTTP layer
 * (backends/http.h, which enforces TLS verification and the plain-http
 * rule) and judge the answer, in this order: the status, then
 * expect.body (a PCRE2 pattern, compiled here from the evaluated value:
 * the checker compiles it only to report mistakes), then expect.json
 * (RFC 6901 pointers, values compared as JSON).
 *
 * Up to MAX_BODY bytes of the body are read and judged; the outputs keep
 * the first OUTPUT_BODY bytes. Redirects are followed (at most 5), except
 * when expect.status lists a 3xx: then the redirect itself is the answer.
 *
 * Classes (net.h): a status that is not expected, a body that does not
 * match and JSON that does not hold the values are TRANSIENT - the service
 * may still be starting - except 429, THROTTLED with its Retry-After.
 * Messages name the method and the URL without its query (the host alone
 * when with.url reads a secret), and never a request header or body.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "actions/family.h"

#include <cjson/cJSON.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "actions/net.h"
#include "run/eval.h"
#include "run/exec.h"
#include "util/buf.h"
#include "util/text.h"
#include "util/xalloc.h"

enum {
	DEFAULT_TIMEOUT_MS = 10000, /* as in checks.c's schema */
	MAX_BODY = 1 << 20, /* bytes of the response body read and judged */
	OUTPUT_BODY = 4096, /* bytes of it in the outputs */
	SNIPPET = 200, /* bytes of it quoted in a failure message */
	SHOWN_VALUE = 100, /* bytes of a JSON value quoted in a failure message */
	MAX_REDIRECTS = 5,
	STATUS_MAX = 599,
};

static const char *const methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", NULL};

/* ------------------------------------------------------- the with: spec */

typedef struct hspec {
	const char *url; /* borrowed from with */
	const char *method;
	char *body; /* NULL: none */
	char **headers;
	dr_net_limit limit;
	bool want[STATUS_MAX + 1]; /* expected statuses */
	bool want_redirect; /* a 3xx is expected: redirects are not followed */
	pcre2_code *re;
	const char *pattern; /* borrowed */
	const cJSON *json; /* expect.json, borrowed */
	char *what; /* "GET https://host/path": how messages name the request */
	char *err; /* the first problem with the inputs */
	struct dr_exec *run; /* the call's run: its secrets are redacted from what is shown of the response */
} hspec;

static bool bad(hspec *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool bad(hspec *s, const char *fmt, ...)
{
	if (!s->err) {
		dr_buf b;
		dr_buf_init(&b);
		va_list ap;
		va_start(ap, fmt);
		dr_buf_vprintf(&b, fmt, ap);
		va_end(ap);
		s->err = dr_buf_detach(&b);
	}
	return false;
}

static bool decode_method(hspec *s, const cJSON *v)
{
	s->method = "GET";
	if (!v)
		return true;
	for (size_t i = 0; cJSON_IsString(v) && methods[i]; i++)
		if (strcmp(v->valuestring, methods[i]) == 0) {
			s->method = methods[i];
			return true;
		}
	return bad(s, "with.method: one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS is required");
}

static bool decode_status(hspec *s, const cJSON *v)
{
	if (!cJSON_IsNumber(v) || v->valuedouble != (int)v->valuedouble || v->valuedouble < 100 ||
	    v->valuedouble > STATUS_MAX)
		return bad(s, "with.expect.status: a status is an integer from 100 to %d", STATUS_MAX);
	s->want[(int)v->valuedouble] = true;
	s->want_redirect |= v->valuedouble >= 300 && v->valuedouble < 400;
	return true;
}

static bool decode_statuses(hspec *s, const cJSON *v)
{
	if (!v) {
		s->want[200] = true;
		return true;
	}
	if (!cJSON_IsArray(v))
		return decode_status(s, v);
	if (!v->child)
		return bad(s, "with.expect.status: the list of statuses is empty");
	for (const cJSON *it = v->child; it; it = it->next)
		if (!decode_status(s, it))
			return false;
	return true;
}

static bool decode_regex(hspec *s, const cJSON *v)
{
	if (!v)
		return true;
	if (!cJSON_IsString(v))
		return bad(s, "with.expect.body: a regular expression (a string) is required");
	int code;
	PCRE2_SIZE at;
	s->pattern = v->valuestring;
	s->re = pcre2_compile((PCRE2_SPTR)v->valuestring, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &at, NULL);
	if (s->re)
		return true;
	PCRE2_UCHAR msg[256];
	pcre2_get_error_message(code, msg, sizeof msg);
	return bad(s, "with.expect.body: bad regular expression at offset %zu: %s", (size_t)at, (const char *)msg);
}

/* RFC 6901: "" or "/a/b", with ~ only in ~0 and ~1. */
static bool valid_pointer(const char *p)
{
	if (*p && *p != '/')
		return false;
	for (; *p; p++)
		if (*p == '~' && p[1] != '0' && p[1] != '1')
			return false;
	return true;
}

static bool decode_json(hspec *s, const cJSON *v)
{
	if (!v)
		return true;
	if (!cJSON_IsObject(v))
		return bad(s, "with.expect.json: a mapping of JSON pointer to value is required");
	for (const cJSON *it = v->child; it; it = it->next)
		if (!valid_pointer(it->string))
			return bad(s, "with.expect.json: '%s' is not a JSON pointer (RFC 6901: \"/a/b\", ~0 for ~, ~1 for /)",
				   it->string);
	s->json = v;
	return true;
}

static bool decode_expect(hspec *s, const cJSON *v)
{
	if (v && !cJSON_IsObject(v))
		return bad(s, "with.expect: a mapping is required, not a %s", dr_eval_type_name(v));
	const cJSON *status = v ? cJSON_GetObjectItemCaseSensitive(v, "status") : NULL;
	return decode_statuses(s, status) && decode_regex(s, v ? cJSON_GetObjectItemCaseSensitive(v, "body") : NULL) &&
	       decode_json(s, v ? cJSON_GetObjectItemCaseSensitive(v, "json") : NULL);
}

static bool decode_body(hspec *s, const cJSON *v)
{
	if (!v || cJSON_IsNull(v))
		return true;
	if (!cJSON_IsString(v) && !cJSON_IsNumber(v) && !cJSON_IsBool(v))
		return bad(s, "with.body: text is required, not a %s", dr_eval_type_name(v));
	s->body = dr_eval_to_text(v);
	return true;
}

static bool decode(hspec *s, const dr_call *call)
{
	const cJSON *w = call->with;
	*s = (hspec){.url = NULL, .run = call->run};
	const cJSON *url = cJSON_GetObjectItemCaseSensitive(w, "url");
	if (!cJSON_IsString(url) || !url->valuestring[0])
		return bad(s, "with.url: a URL (a non-empty string) is required");
	s->url = url->valuestring;
	if (!decode_method(s, cJSON_GetObjectItemCaseSensitive(w, "method")))
		return false;
	char *shown = dr_http_url_display(s->url, dr_net_input_is_secret(call, "url"));
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s %s", s->method, shown);
	free(shown);
	s->what = dr_buf_detach(&b);
	char *err = NULL;
	if (!dr_net_headers(cJSON_GetObjectItemCaseSensitive(w, "headers"), &s->headers, &err) ||
	    !dr_net_limit_get(call, cJSON_GetObjectItemCaseSensitive(w, "timeout"), "timeout", DEFAULT_TIMEOUT_MS,
			      &s->limit, &err)) {
		s->err = err;
		return false;
	}
	return decode_body(s, cJSON_GetObjectItemCaseSensitive(w, "body")) &&
	       decode_expect(s, cJSON_GetObjectItemCaseSensitive(w, "expect"));
}

static void spec_dispose(hspec *s)
{
	free(s->body);
	dr_net_headers_free(s->headers);
	pcre2_code_free(s->re);
	free(s->what);
	free(s->err);
}

/* ------------------------------------------------------------ judgement */

static void put_statuses(dr_buf *b, const hspec *s)
{
	const char *sep = "";
	for (int i = 100; i <= STATUS_MAX; i++)
		if (s->want[i]) {
			dr_buf_printf(b, "%s%d", sep, i);
			sep = ", ";
		}
}

static void put_snippet(dr_buf *b, const hspec *s, const dr_http_response *r)
{
	char *snip = dr_net_snippet(s->run, r->body, r->body_len, SNIPPET);
	if (*snip)
		dr_buf_printf(b, "; body: %s", snip);
	free(snip);
}

static dr_outcome fail_buf(dr_err_class cls, dr_buf *b, int64_t retry_after_ms)
{
	dr_outcome o = dr_outcome_fail(cls, "%s", b->data);
	o.retry_after_ms = retry_after_ms;
	dr_buf_dispose(b);
	return o;
}

/* The status is not one of expect.status: 429 throttled, anything else transient. */
static dr_outcome wrong_status(const hspec *s, const dr_http_response *r)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s: HTTP %ld (expected ", s->what, r->status);
	put_statuses(&b, s);
	dr_buf_putc(&b, ')');
	if (r->retry_after_ms >= 0) {
		char d[32];
		dr_text_human_duration(r->retry_after_ms, d, sizeof d);
		dr_buf_printf(&b, "; Retry-After: %s", d);
	}
	put_snippet(&b, s, r);
	return fail_buf(r->status == 429 ? DR_ERRC_THROTTLED : DR_ERRC_TRANSIENT, &b, r->retry_after_ms);
}

/* expect.body: NULL when it does not match; else the text it matched (heap). */
static char *match_body(const hspec *s, const char *text)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(s->re, NULL);
	int rc = pcre2_match(s->re, (PCRE2_SPTR)text, strlen(text), 0, 0, md, NULL);
	char *matched = NULL;
	if (rc >= 0) {
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
		matched = xstrndup(text + ov[0], ov[1] > ov[0] ? ov[1] - ov[0] : 0);
	}
	pcre2_match_data_free(md);
	return matched;
}

/* One reference token of a pointer into an array: "0" or digits without a leading zero. */
static const cJSON *array_item(const cJSON *a, const char *tok)
{
	size_t n = strlen(tok);
	if (!n || n > 9 || strspn(tok, "0123456789") != n || (tok[0] == '0' && n > 1))
		return NULL;
	return cJSON_GetArrayItem(a, atoi(tok));
}

/* RFC 6901: the value at ptr (already validated) in doc, or NULL. */
static const cJSON *pointer_get(const cJSON *doc, const char *ptr)
{
	const cJSON *v = doc;
	dr_buf tok;
	dr_buf_init(&tok);
	while (v && *ptr == '/') {
		dr_buf_reset(&tok);
		for (ptr++; *ptr && *ptr != '/'; ptr++) {
			if (*ptr == '~') {
				dr_buf_putc(&tok, *++ptr == '0' ? '~' : '/');
				continue;
			}
			dr_buf_putc(&tok, *ptr);
		}
		v = cJSON_IsObject(v)  ? cJSON_GetObjectItemCaseSensitive(v, tok.data)
		    : cJSON_IsArray(v) ? array_item(v, tok.data)
				       : NULL;
	}
	dr_buf_dispose(&tok);
	return v;
}

/* A JSON value for a message: redacted, then cut to SHOWN_VALUE bytes. */
static void put_value(dr_buf *b, const hspec *s, const cJSON *v)
{
	char *text = cJSON_PrintUnformatted(v);
	bool cut = false;
	char *shown = text ? dr_exec_redact_cut(s->run, text, strlen(text), SHOWN_VALUE, &cut) : NULL;
	dr_buf_printf(b, "%s%s", shown ? shown : "?", cut ? "..." : "");
	free(shown);
	free(text);
}

/* expect.json: false with a message in b when the body is not JSON or a value differs. */
static bool check_json(const hspec *s, const dr_http_response *r, dr_buf *b)
{
	cJSON *doc = cJSON_ParseWithLength(r->body, r->body_len);
	if (!doc) {
		dr_buf_printf(b, "%s: the body is not JSON%s", s->what,
			      r->truncated ? " (only its first 1 MiB was read)" : "");
		put_snippet(b, s, r);
		return false;
	}
	for (const cJSON *it = s->json->child; it && !b->len; it = it->next) {
		const cJSON *have = pointer_get(doc, it->string);
		if (!have) {
			dr_buf_printf(b, "%s: the JSON body has no '%s'", s->what, it->string);
		} else if (!cJSON_Compare(have, it, true)) {
			dr_buf_printf(b, "%s: '%s' is ", s->what, it->string);
			put_value(b, s, have);
			dr_buf_puts(b, ", expected ");
			put_value(b, s, it);
		}
	}
	cJSON_Delete(doc);
	return b->len == 0;
}

static cJSON *outputs(const hspec *s, const dr_http_response *r, const char *text, const char *matched)
{
	cJSON *o = cJSON_CreateObject();
	bool cut;
	cJSON_AddNumberToObject(o, "status", (double)r->status);
	cJSON_AddNumberToObject(o, "elapsed_ms", (double)r->elapsed_ms);
	char *kept = dr_exec_redact_cut(s->run, text, strlen(text), OUTPUT_BODY, &cut); /* no secret cut in half */
	cJSON_AddStringToObject(o, "body", kept);
	free(kept);
	if (matched)
		cJSON_AddStringToObject(o, "matched", matched);
	else
		cJSON_AddNullToObject(o, "matched");
	return o;
}

/* A response arrived: status, body pattern, JSON values, in that order. */
static dr_outcome judge(const hspec *s, const dr_http_response *r)
{
	if (r->status < 100 || r->status > STATUS_MAX || !s->want[r->status])
		return wrong_status(s, r);
	char *text = dr_text_clean_utf8(r->body, r->body_len), *matched = NULL;
	dr_buf b;
	dr_buf_init(&b);
	if (s->re && !(matched = match_body(s, text))) {
		dr_buf_printf(&b, "%s: the body does not match /%s/%s", s->what, s->pattern,
			      r->truncated ? " (only its first 1 MiB was read)" : "");
		put_snippet(&b, s, r);
	} else if (s->json) {
		check_json(s, r, &b);
	}
	dr_outcome o = b.len ? fail_buf(DR_ERRC_TRANSIENT, &b, -1) : dr_outcome_ok(outputs(s, r, text, matched));
	dr_buf_dispose(&b);
	free(matched);
	free(text);
	return o;
}

/* ------------------------------------------------------------ the action */

static dr_outcome request(const hspec *s, const dr_call *call)
{
	dr_http_request req = {
		.method = s->method,
		.url = s->url,
		.headers = (const char *const *)s->headers,
		.body = s->body,
		.body_len = s->body ? strlen(s->body) : 0,
		.timeout_ms = s->limit.ms,
		.max_body = MAX_BODY,
		.max_redirects = s->want_redirect ? 0 : MAX_REDIRECTS,
		.cancel = call->cancel_requested,
		.secret_url = dr_net_input_is_secret(call, "url"),
	};
	dr_http_response r;
	dr_outcome o;
	if (s->limit.ms <= 0)
		return dr_outcome_fail(DR_ERRC_TIMEOUT, "%s was not sent: no time left before the attempt's deadline",
				       s->what);
	if (dr_http_send(&r, &req) == DR_HTTP_OK)
		o = judge(s, &r);
	else
		o = dr_net_http_failure(&r, s->what, &s->limit);
	dr_http_response_dispose(&r);
	return o;
}

/*
 * Request with.url and judge the response. OK with outputs {status,
 * elapsed_ms, body (the first 4 KiB, as text), matched (what expect.body
 * matched, or null)}; FAIL as the file's comment says. Blocks; never
 * returns WAIT.
 */
dr_outcome dr_action_check_http_run(dr_call *call)
{
	hspec s;
	dr_outcome o;
	if (dr_net_cancelled(call))
		return dr_outcome_fail(DR_ERRC_CANCELLED, "cancelled before the request was sent");
	if (decode(&s, call))
		o = request(&s, call);
	else
		o = dr_outcome_fail(DR_ERRC_PERMANENT, "%s", s.err);
	spec_dispose(&s);
	return o;
}
