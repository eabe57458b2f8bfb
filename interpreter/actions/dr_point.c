/*
 * actions/dr_point.c - which recovery point an operation uses, decided at
 * the moment it starts (the point list moves: new points appear, old ones
 * are purged, a failover freezes them, a commit deletes them).
 *
 * The run itself decides first (dr_exec_point_query): the point a saved
 * plan chose for the VM (drover run --plan), or --recovery-point; then
 * no fallback is tried. Otherwise what is asked comes from the step's
 * with.recovery_point when it has one
 * (a policy, ${...}, {id: ...} or {time: ...}), else from the runbook's
 * recovery: (point, possibly ${...}; with custom, id or time), followed by
 * recovery.fallback's policies in order. The first choice that exists and
 * passes the RPO guard (recovery.max_age) wins; when none does, the
 * operation fails permanently with what each one found, so nothing starts
 * on a point older than the runbook accepts.
 *
 *   latest                   no point: the service processes pending data
 *   latest-processed         the newest processed point
 *   latest-app-consistent    the newest processed app-consistent point
 *   latest-crash-consistent  the newest processed crash-consistent point
 *   custom {id}              that point (by id or name)
 *   custom {time}            the newest point at or before the time
 *
 * A change of recovery point happens after the failover, on the frozen
 * list: there `latest` is the newest point still listed, and ages count
 * from the failover's start (the data a point misses is what changed
 * between it and the failover).
 */
#include "actions/dr_int.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "run/exec.h"
#include "util/buf.h"
#include "util/text.h"
#include "util/xalloc.h"

#define MAX_WANTS 8

/* One choice to try: a query for dr_backend_choose_point and how to name it. */
typedef struct want {
	dr_be_point_query q;
	const char *policy;
	bool fallback;
} want;

typedef struct wants {
	want v[MAX_WANTS];
	size_t n;
	int64_t max_age_ms;
} wants;

__attribute__((format(printf, 2, 3))) static int fail(char **msg, const char *fmt, ...)
{
	va_list ap;
	dr_buf b;
	dr_buf_init(&b);
	va_start(ap, fmt);
	dr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	*msg = dr_buf_detach(&b);
	return -1;
}

/* Append a choice (fallbacks past MAX_WANTS are dropped; the first always fits). */
static want *add(wants *w, dr_point_policy p, bool fallback)
{
	want *x = &w->v[w->n < MAX_WANTS ? w->n++ : MAX_WANTS - 1];
	*x = (want){.q = {.policy = p, .max_age_ms = -1}, .policy = dr_point_policy_name(p), .fallback = fallback};
	return x;
}

/* A custom point by id (a string) or by time (RFC 3339). */
static int custom(wants *w, const char *id, const char *time, const char *where, char **msg)
{
	want *x = add(w, DR_POINT_CUSTOM, false);
	if (id && *id) {
		x->q.custom_id = id;
		return 0;
	}
	if (time && dr_backend_parse_time(time, &x->q.custom_time_ms))
		return 0;
	if (time)
		return fail(msg, "%s: '%s' is not an RFC 3339 time", where, time);
	return fail(msg, "%s: a custom recovery point needs an id or a time (recovery: id: or time:)", where);
}

/* The string value of a runbook node, evaluated when it holds ${...}; NULL with *msg on failure. */
static const char *node_text(dr_call *call, dr_arena *a, const dr_node *n, const char *where, char **msg)
{
	char *err = NULL;
	cJSON *v = dr_exec_eval_node(call->run, call, n, where, &err);
	const char *s = NULL;
	if (v && cJSON_IsString(v))
		s = dr_arena_strdup(a, v->valuestring);
	else if (v)
		fail(msg, "%s: expected a string", where);
	else
		*msg = err ? err : xstrdup(where);
	if (v && err)
		free(err);
	cJSON_Delete(v);
	return s;
}

/* recovery: custom, with its id (maybe ${...}) or time. */
static int runbook_custom(dr_call *call, dr_arena *a, const dr_runbook *rb, wants *w, char **msg)
{
	const dr_recovery *r = &rb->recovery;
	const dr_node *rec = dr_node_get(rb->root, "recovery");
	const dr_node *id = rec ? dr_node_get(rec, "id") : NULL, *time = rec ? dr_node_get(rec, "time") : NULL;
	if (id) {
		const char *s = node_text(call, a, id, "recovery.id", msg);
		return s ? custom(w, s, NULL, "recovery.id", msg) : -1;
	}
	if (r->custom_time)
		return custom(w, NULL, r->custom_time, "recovery.time", msg);
	const char *t = time ? node_text(call, a, time, "recovery.time", msg) : NULL;
	if (time && !t)
		return -1;
	return custom(w, NULL, t, "recovery", msg);
}

/* A policy given as text (a name, or what ${...} gave). */
static int named(dr_call *call, dr_arena *a, const dr_runbook *rb, const char *s, const char *where, wants *w,
		 char **msg)
{
	dr_point_policy p;
	if (!dr_point_policy_parse(s, &p))
		return fail(msg, "%s: '%s' is not a recovery point policy (latest, latest-processed, "
				 "latest-app-consistent, latest-crash-consistent, custom)", where, s);
	if (p != DR_POINT_CUSTOM) {
		add(w, p, false);
		return 0;
	}
	if (rb)
		return runbook_custom(call, a, rb, w, msg);
	return fail(msg, "%s: custom needs {id: ...} or {time: ...}", where);
}

/* with.recovery_point: a policy name (already evaluated), {id: ...} or {time: ...}. */
static int from_with(dr_call *call, dr_arena *a, const dr_runbook *rb, const cJSON *v, wants *w, char **msg)
{
	const char *where = "with.recovery_point";
	if (cJSON_IsString(v))
		return named(call, a, rb, v->valuestring, where, w, msg);
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(v, "id");
	const cJSON *time = cJSON_GetObjectItemCaseSensitive(v, "time");
	if (cJSON_IsObject(v) && (cJSON_IsString(id) || cJSON_IsString(time)))
		return custom(w, cJSON_IsString(id) ? id->valuestring : NULL,
			      cJSON_IsString(time) ? time->valuestring : NULL, where, msg);
	return fail(msg, "%s: expected a policy name, {id: ...} or {time: ...}", where);
}

/* The runbook's recovery: point (or latest), then its fallbacks. */
static int from_runbook(dr_call *call, dr_arena *a, const dr_runbook *rb, wants *w, char **msg)
{
	const dr_recovery *r = &rb->recovery;
	int rc;
	if (!r->present) {
		add(w, DR_POINT_LATEST, false);
		rc = 0;
	} else if (r->point == DR_POINT_FROM_EXPR) {
		const char *s = node_text(call, a, r->point_node, "recovery.point", msg);
		rc = s ? named(call, a, rb, s, "recovery.point", w, msg) : -1;
	} else if (r->point == DR_POINT_CUSTOM) {
		rc = runbook_custom(call, a, rb, w, msg);
	} else {
		add(w, r->point, false);
		rc = 0;
	}
	for (size_t i = 0; rc == 0 && i < r->n_fallback; i++)
		add(w, r->fallback[i], true);
	return rc;
}

/* What to try, in order; -1 with *msg when the request itself is wrong. */
static int wanted(dr_call *call, dr_arena *a, wants *w, char **msg)
{
	const dr_runbook *rb = dr_exec_runbook(call->run);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(call->with, "recovery_point");
	memset(w, 0, sizeof *w);
	w->max_age_ms = rb && rb->recovery.present ? rb->recovery.max_age_ms : -1;
	int rc = 0;
	dr_be_point_query forced;
	if (dr_exec_point_query(call->run, call, &forced)) /* a saved plan's point, or --recovery-point: no fallback */
		add(w, forced.policy, false)->q = forced;
	else if (v)
		rc = from_with(call, a, rb, v, w, msg);
	else if (rb)
		rc = from_runbook(call, a, rb, w, msg);
	else
		add(w, DR_POINT_LATEST, false);
	for (size_t i = 0; i < w->n; i++)
		w->v[i].q.max_age_ms = w->max_age_ms;
	return rc;
}

/* ---- describing choices ----------------------------------------------------------------- */

static const char *time_text(dr_arena *a, int64_t ms)
{
	char t[40];
	dr_backend_format_time(ms, t, sizeof t);
	return dr_arena_strdup(a, t);
}

static const char *dur_text(dr_arena *a, int64_t ms)
{
	char d[40];
	dr_text_human_duration(ms, d, sizeof d);
	return dr_arena_strdup(a, d);
}

/* "the newest processed point", "the point 'x'", ... */
static const char *what(dr_arena *a, const want *x)
{
	switch (x->q.policy) {
	case DR_POINT_LATEST: return "the latest data (processed on demand)";
	case DR_POINT_LATEST_PROCESSED: return "the newest processed point";
	case DR_POINT_LATEST_APP_CONSISTENT: return "the newest processed app-consistent point";
	case DR_POINT_LATEST_CRASH_CONSISTENT: return "the newest processed crash-consistent point";
	default:
		if (x->q.custom_id)
			return dr_arena_printf(a, "the point '%s'", x->q.custom_id);
		if (x->q.custom_time_ms == INT64_MAX)
			return "the newest point";
		return dr_arena_printf(a, "the newest point at or before %s", time_text(a, x->q.custom_time_ms));
	}
}

/* What the item's point list looks like, for a "none fits" message; undated points (no time) are counted apart. */
static const char *list_text(dr_arena *a, const dr_be_item *item, const dr_be_point *pts, size_t n)
{
	if (!n)
		return dr_arena_printf(a, "the VM has no recovery points (its state: %s)", dr_backend_state_name(item->state));
	int64_t lo = INT64_MAX, hi = -1;
	size_t undated = 0;
	for (size_t i = 0; i < n; i++) {
		undated += pts[i].time_ms < 0;
		lo = pts[i].time_ms >= 0 && pts[i].time_ms < lo ? pts[i].time_ms : lo;
		hi = pts[i].time_ms > hi ? pts[i].time_ms : hi;
	}
	const char *none_dated = undated ? dr_arena_printf(a, "; %zu of them %s no time: never chosen, %s age is unknown",
							   undated, undated == 1 ? "has" : "have", undated == 1 ? "its" : "their")
					 : "";
	if (undated == n)
		return dr_arena_printf(a, "the VM has %zu point%s, none with a time (the service gave none): no policy "
					  "chooses a point whose age is unknown",
				       n, n == 1 ? "" : "s");
	return dr_arena_printf(a, "the VM has %zu point%s, from %s to %s%s", n, n == 1 ? "" : "s", time_text(a, lo),
			       time_text(a, hi), none_dated);
}

/* One try's result as a phrase: "1h2m old (taken ...)" or "none". */
static const char *result_text(dr_arena *a, dr_be_pick r, const dr_be_choice *c)
{
	if (r == DR_BE_PICK_NONE)
		return "none";
	return dr_arena_printf(a, "%s old (taken %s)", dur_text(a, c->age_ms), time_text(a, c->time_ms));
}

/* ---- choosing --------------------------------------------------------------------------- */

int64_t dr_point_failover_start(dr_backend *be, dr_arena *a, const char *item_id, int64_t now_ms, int64_t fallback)
{
	dr_be_job *jobs;
	size_t n;
	dr_be_error e;
	dr_be_job_filter f = {.item_id = item_id, .since_ms = -1};
	int64_t best = -1;
	if (dr_backend_list_jobs(be, a, now_ms, &f, &jobs, &n, &e) < 0)
		return fallback;
	for (size_t i = 0; i < n; i++)
		if (jobs[i].op == DR_BE_OP_FAILOVER && jobs[i].state == DR_BE_JOB_SUCCEEDED && jobs[i].start_ms > best)
			best = jobs[i].start_ms;
	return best >= 0 ? best : fallback;
}

static void pick_of(const want *x, const dr_be_choice *c, dr_point_pick *out)
{
	*out = (dr_point_pick){
		.point_id = c->point_id, .policy = x->policy, .time_ms = c->time_ms, .age_ms = c->age_ms,
		.fallback = x->fallback,
		.type = c->point ? dr_backend_point_type_name(c->point->type) : "Latest",
	};
}

static int none_fits(dr_arena *a, const dr_be_item *item, const wants *w, const dr_be_pick *r,
		     const dr_be_choice *c, const dr_be_point *pts, size_t n, char **msg)
{
	dr_buf b;
	dr_buf_init(&b);
	const want *x = &w->v[0];
	if (r[0] == DR_BE_PICK_TOO_OLD)
		dr_buf_printf(&b, "RPO guard: %s (%s) is %s old (taken %s), more than recovery.max_age %s allows",
			      what(a, x), x->policy, dur_text(a, c[0].age_ms), time_text(a, c[0].time_ms),
			      dur_text(a, w->max_age_ms));
	else
		dr_buf_printf(&b, "no recovery point fits %s (%s): %s%s", what(a, x), x->policy, list_text(a, item, pts, n),
			      item->rpo_ms >= 0 && x->q.policy != DR_POINT_CUSTOM
				      ? "; it replicates, so new points keep coming (every few minutes, processed soon "
					"after): wait for one, or use latest"
				      : "");
	for (size_t i = 1; i < w->n; i++)
		dr_buf_printf(&b, "%s%s: %s", i == 1 ? "; the fallbacks did no better: " : ", ", w->v[i].policy,
			      result_text(a, r[i], &c[i]));
	*msg = dr_buf_detach(&b);
	return -1;
}

dr_err_class dr_op_errclass(dr_be_errclass c)
{
	return c == DR_BE_ERR_TRANSIENT	  ? DR_ERRC_TRANSIENT
	       : c == DR_BE_ERR_THROTTLED ? DR_ERRC_THROTTLED
	       : c == DR_BE_ERR_CANCELLED ? DR_ERRC_CANCELLED
					  : DR_ERRC_PERMANENT;
}

/*
 * Whether every policy tried is a latest-* one outside a change of point:
 * then the backend's newest points give the same choice as all of them
 * (dr_backend_list_newest_points; the simulator's day holds 288 per VM).
 */
static bool only_latest(const wants *w, dr_be_op op)
{
	for (size_t i = 0; i < w->n; i++)
		if (w->v[i].q.policy == DR_POINT_CUSTOM ||
		    (op == DR_BE_OP_CHANGE_POINT && w->v[i].q.policy == DR_POINT_LATEST))
			return false;
	return true;
}

/*
 * The item's recovery points, listed only when a choice needs them ("latest"
 * does not: no point id); newest: only those a latest-* policy chooses from.
 */
static int list(dr_backend *be, dr_arena *a, const dr_be_item *item, int64_t now_ms, bool newest, dr_be_point **pts,
		size_t *n, char **msg, dr_err_class *cls, int64_t *retry_after)
{
	dr_be_error e;
	if ((newest ? dr_backend_list_newest_points : dr_backend_list_points)(be, a, now_ms, item->id, pts, n, &e) == 0)
		return 0;
	*cls = dr_op_errclass(e.cls);
	*retry_after = e.retry_after_ms;
	return fail(msg, "its recovery points cannot be listed: %s", dr_backend_error_text(a, &e));
}

int dr_point_choose(dr_call *call, dr_backend *be, dr_arena *a, const dr_be_item *item, dr_be_op op,
		    int64_t now_ms, dr_point_pick *out, char **msg, dr_err_class *cls)
{
	wants w;
	dr_be_point *pts = NULL;
	size_t n = 0;
	bool listed = false;
	*cls = DR_ERRC_PERMANENT;
	out->retry_after_ms = -1;
	if (wanted(call, a, &w, msg) < 0)
		return -1;
	bool newest = only_latest(&w, op);
	int64_t svc = dr_backend_now(be, now_ms); /* ages count on the service's clock */
	int64_t ref = op == DR_BE_OP_CHANGE_POINT ? dr_point_failover_start(be, a, item->id, now_ms, svc) : svc;
	dr_be_pick r[MAX_WANTS];
	dr_be_choice c[MAX_WANTS];
	for (size_t i = 0; i < w.n; i++) {
		want *x = &w.v[i];
		if (op == DR_BE_OP_CHANGE_POINT && x->q.policy == DR_POINT_LATEST)
			x->q = (dr_be_point_query){.policy = DR_POINT_CUSTOM, .custom_time_ms = INT64_MAX,
						   .max_age_ms = x->q.max_age_ms};
		if (x->q.policy != DR_POINT_LATEST && !listed) {
			if (list(be, a, item, now_ms, newest, &pts, &n, msg, cls, &out->retry_after_ms) < 0)
				return -1;
			listed = true;
		}
		r[i] = dr_backend_choose_point(item, pts, n, &x->q, ref, &c[i]);
		if (r[i] == DR_BE_PICK_OK) {
			pick_of(x, &c[i], out);
			return 0;
		}
	}
	if ((!listed || newest) && list(be, a, item, now_ms, false, &pts, &n, msg, cls, &out->retry_after_ms) < 0) /* the message counts all */
		return -1;
	return none_fits(a, item, &w, r, c, pts, n, msg);
}
