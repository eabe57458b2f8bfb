/*
 * actions/net.c - what the network actions share (contract in net.h): time
 * limits against the attempt's deadline, request headers from with:,
 * failed HTTP requests as outcomes, body snippets for messages.
 */
#include "actions/net.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/eval.h"
#include "run/exec.h"
#include "front/runbook.h"
#include "util/buf.h"
#include "util/text.h"
#include "util/xalloc.h"

static bool set_err(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool set_err(char **err, const char *fmt, ...)
{
	dr_buf b;
	dr_buf_init(&b);
	va_list ap;
	va_start(ap, fmt);
	dr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	*err = dr_buf_detach(&b);
	return false;
}

/* ---------------------------------------------------------------- limits */

bool dr_net_limit_get(const dr_call *call, const cJSON *v, const char *key, int64_t dflt_ms, dr_net_limit *out,
		      char **err)
{
	int64_t ms = dflt_ms;
	size_t bad_at = 0;
	if (v && cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 9e15)
		ms = (int64_t)v->valuedouble;
	else if (v && !(cJSON_IsString(v) && dr_text_parse_duration(v->valuestring, &ms, &bad_at)))
		return set_err(err, "with.%s: a duration like 10s is required", key);
	if (ms <= 0)
		return set_err(err, "with.%s: must be longer than 0s", key);
	*out = (dr_net_limit){.ms = ms};
	if (call->deadline_ms != INT64_MAX) {
		int64_t left = call->deadline_ms > call->now_ms ? call->deadline_ms - call->now_ms : 0;
		if (left < ms)
			*out = (dr_net_limit){.ms = left, .by_deadline = true};
	}
	return true;
}

void dr_net_limit_text(const dr_net_limit *l, char *out, size_t outsz)
{
	char d[32];
	dr_text_human_duration(l->ms, d, sizeof d);
	snprintf(out, outsz, "%s (%s)", d, l->by_deadline ? "the attempt's deadline" : "with.timeout");
}

dr_err_class dr_net_limit_class(const dr_net_limit *l)
{
	return l->by_deadline ? DR_ERRC_TIMEOUT : DR_ERRC_TRANSIENT;
}

bool dr_net_cancelled(const dr_call *call)
{
	return call->cancel_requested && __atomic_load_n(call->cancel_requested, __ATOMIC_RELAXED);
}

bool dr_net_input_is_secret(const dr_call *call, const char *key)
{
	const dr_node *with = call->step ? call->step->with : NULL;
	const dr_node *n = with ? dr_node_get(with, key) : NULL;
	return n && dr_node_reads_secret(n);
}

/* --------------------------------------------------------------- headers */

/* An HTTP token (RFC 9110): what a header name may be made of. */
static bool is_token(const char *s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      strchr(extra, *s)))
			return false;
	return true;
}

bool dr_net_headers(const cJSON *v, char ***out, char **err)
{
	*out = NULL;
	if (v && !cJSON_IsObject(v))
		return set_err(err, "with.headers: a mapping Name: value is required, not a %s", dr_eval_type_name(v));
	char **lines = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof *lines);
	size_t n = 0;
	for (const cJSON *it = v ? v->child : NULL; it; it = it->next) {
		const char *problem = NULL;
		if (!is_token(it->string))
			problem = "is not a valid header name";
		else if (!cJSON_IsString(it) && !cJSON_IsNumber(it) && !cJSON_IsBool(it))
			problem = "must be text";
		char *value = problem ? NULL : dr_eval_to_text(it);
		if (value && strpbrk(value, "\r\n"))
			problem = "must not contain a line break";
		if (problem) {
			free(value);
			dr_net_headers_free(lines);
			return set_err(err, "with.headers: '%s' %s", it->string, problem);
		}
		dr_buf b;
		dr_buf_init(&b);
		dr_buf_printf(&b, "%s: %s", it->string, value);
		free(value);
		lines[n++] = dr_buf_detach(&b);
	}
	*out = lines;
	return true;
}

void dr_net_headers_free(char **lines)
{
	for (size_t i = 0; lines && lines[i]; i++)
		free(lines[i]);
	free(lines);
}

/* ------------------------------------------------------------- failures */

dr_outcome dr_net_http_failure(const dr_http_response *r, const char *what, const dr_net_limit *l)
{
	char limit[64];
	switch (r->error) {
	case DR_HTTP_E_TIMEOUT:
		dr_net_limit_text(l, limit, sizeof limit);
		return dr_outcome_fail(dr_net_limit_class(l), "%s: no complete response within %s", what, limit);
	case DR_HTTP_E_CANCELLED:
		return dr_outcome_fail(DR_ERRC_CANCELLED, "%s: cancelled", what);
	case DR_HTTP_E_URL:
	case DR_HTTP_E_REDIRECTS:
		return dr_outcome_fail(DR_ERRC_PERMANENT, "%s: %s", what, r->message);
	case DR_HTTP_E_TLS:
		return dr_outcome_fail(DR_ERRC_PERMANENT, "%s: TLS verification failed: %s", what, r->message);
	case DR_HTTP_E_CONNECT:
	case DR_HTTP_E_TRANSFER:
	case DR_HTTP_OK:
	default:
		return dr_outcome_fail(DR_ERRC_TRANSIENT, "%s: %s", what, r->message ? r->message : "no response");
	}
}

char *dr_net_snippet(dr_exec *run, const char *body, size_t len, size_t max)
{
	char *clean = dr_text_clean_utf8(body, len);
	bool cut;
	char *text = dr_exec_redact_cut(run, clean, strlen(clean), max, &cut);
	free(clean);
	dr_buf b;
	dr_buf_init(&b);
	bool blank = true; /* drop leading blanks, squeeze runs */
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		bool space = *p < 0x20 || *p == 0x7F || *p == ' ';
		if (space && !blank)
			dr_buf_putc(&b, ' ');
		else if (!space)
			dr_buf_putc(&b, (char)*p);
		blank = space;
	}
	while (b.len && b.data[b.len - 1] == ' ')
		b.data[--b.len] = '\0';
	if (cut)
		dr_buf_puts(&b, "...");
	free(text);
	return dr_buf_detach(&b);
}
