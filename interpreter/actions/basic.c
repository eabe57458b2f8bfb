/*
 * actions/basic.c - log, sleep, fail, assert: the actions that test and
 * drill the engine itself. Their rows (input schemas) are in core.c.
 *
 * All four are non-blocking: they run inline on the scheduler thread. sleep
 * waits by returning WAIT, so a virtual clock skips the time and a real one
 * spends no thread on it.
 */
#include "actions/family.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "run/eval.h"
#include "run/exec.h"
#include "front/runbook.h"
#include "util/text.h"
#include "util/xalloc.h"

static const cJSON *in(const dr_call *call, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(call->with, key);
}

/* An input as text (numbers and booleans as a template would show them); NULL when absent or null. */
static char *text_in(const dr_call *call, const char *key)
{
	const cJSON *v = in(call, key);
	return v && !cJSON_IsNull(v) ? dr_eval_to_text(v) : NULL;
}

/* A duration input ("30s") in ms; -1 when absent; -2 (with *bad set) when malformed. */
static int64_t duration_in(const dr_call *call, const char *key, const char **bad)
{
	const cJSON *v = in(call, key);
	int64_t ms;
	size_t at;
	if (!v || cJSON_IsNull(v))
		return -1;
	if (cJSON_IsString(v) && dr_text_parse_duration(v->valuestring, &ms, &at))
		return ms;
	*bad = cJSON_IsString(v) ? v->valuestring : "a non-text value";
	return -2;
}

/* --- log ------------------------------------------------------------- */

dr_outcome dr_action_log_run(dr_call *call)
{
	char *msg = text_in(call, "message"), *level = text_in(call, "level");
	dr_exec_log(call->run, call, level ? level : "info", msg ? msg : "");
	cJSON *out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "message", msg ? msg : "");
	free(msg);
	free(level);
	return dr_outcome_ok(out);
}

/* --- sleep ----------------------------------------------------------- */

typedef struct nap {
	int64_t until, ms;
} nap;

dr_outcome dr_action_sleep_run(dr_call *call)
{
	nap *n = call->state;
	if (!n) {
		const char *bad = NULL;
		int64_t ms = duration_in(call, "duration", &bad);
		if (ms < 0)
			return dr_outcome_fail(DR_ERRC_PERMANENT, "sleep: duration '%s' is not a duration like 30s or 5m",
					       bad ? bad : "(missing)");
		n = call->state = xcalloc(1, sizeof *n);
		n->ms = ms;
		n->until = call->now_ms + ms;
	}
	if (dr_exec_cancelled(call) || call->now_ms >= n->until) {
		bool cancelled = call->now_ms < n->until;
		int64_t ms = n->ms;
		dr_action_sleep_cancel(call);
		if (cancelled)
			return dr_outcome_fail(DR_ERRC_CANCELLED, "sleep interrupted: the run is stopping");
		cJSON *out = cJSON_CreateObject();
		cJSON_AddNumberToObject(out, "slept_ms", (double)ms);
		return dr_outcome_ok(out);
	}
	return dr_outcome_wait(n->until - call->now_ms);
}

void dr_action_sleep_cancel(dr_call *call)
{
	free(call->state);
	call->state = NULL;
}

/* --- fail ------------------------------------------------------------ */

static const struct {
	const char *name;
	dr_err_class cls;
} fail_classes[] = {
	{"permanent", DR_ERRC_PERMANENT},
	{"transient", DR_ERRC_TRANSIENT},
	{"throttled", DR_ERRC_THROTTLED},
	{"timeout", DR_ERRC_TIMEOUT},
};

static dr_err_class class_in(const dr_call *call)
{
	const cJSON *v = in(call, "class");
	for (size_t i = 0; cJSON_IsString(v) && i < sizeof fail_classes / sizeof fail_classes[0]; i++)
		if (!strcmp(fail_classes[i].name, v->valuestring))
			return fail_classes[i].cls;
	return DR_ERRC_PERMANENT;
}

dr_outcome dr_action_fail_run(dr_call *call)
{
	const cJSON *times = in(call, "times");
	if (cJSON_IsNumber(times) && call->attempt > times->valuedouble) {
		cJSON *out = cJSON_CreateObject();
		cJSON_AddNumberToObject(out, "failed_attempts", times->valuedouble);
		return dr_outcome_ok(out);
	}
	const char *bad = NULL;
	int64_t after = duration_in(call, "retry_after", &bad);
	if (after == -2)
		return dr_outcome_fail(DR_ERRC_PERMANENT, "fail: retry_after '%s' is not a duration", bad);
	char *msg = text_in(call, "message");
	dr_outcome o = dr_outcome_fail(class_in(call), "%s", msg ? msg : "failed");
	o.retry_after_ms = after;
	free(msg);
	return o;
}

/* --- assert ---------------------------------------------------------- */

dr_outcome dr_action_assert_run(dr_call *call)
{
	const cJSON *that = in(call, "that");
	if (cJSON_IsBool(that) ? cJSON_IsTrue(that) : dr_eval_truthy(that)) {
		cJSON *out = cJSON_CreateObject();
		cJSON_AddBoolToObject(out, "value", true);
		return dr_outcome_ok(out);
	}
	char *msg = text_in(call, "message");
	const dr_node *src = call->step ? dr_node_get(call->step->with, "that") : NULL;
	const char *expr = src ? dr_node_str(src) : NULL;
	dr_outcome o = msg ? dr_outcome_fail(DR_ERRC_PERMANENT, "%s", msg)
			   : dr_outcome_fail(DR_ERRC_PERMANENT, "assertion failed: %s is false", expr ? expr : "that");
	free(msg);
	return o;
}
