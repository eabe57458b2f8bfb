/*
 * backends/backend.c - what every backend shares: opening one by the
 * runbook's `backend.kind`, the thin wrappers over the vtable, the names of
 * the interface's enums, recovery point selection by policy, errors, and
 * RFC 3339 times.
 */
#include "backends/backend.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "actions/action.h"
#include "backends/azure.h"
#include "backends/sim.h"
#include "util/buf.h"
#include "util/text.h"

/* ---- names -------------------------------------------------------------------------- */

static const struct {
	const char *name, *asr;
} op_names[DR_BE_OP_COUNT] = {
	[DR_BE_OP_FAILOVER] = {"failover", "UnplannedFailover"},
	[DR_BE_OP_TEST_FAILOVER] = {"test_failover", "TestFailover"},
	[DR_BE_OP_TEST_CLEANUP] = {"test_cleanup", "TestFailoverCleanup"},
	[DR_BE_OP_CHANGE_POINT] = {"change_recovery_point", "ChangePit"},
	[DR_BE_OP_COMMIT] = {"commit", "Commit"},
	[DR_BE_OP_CANCEL_FAILOVER] = {"cancel_failover", "CancelFailover"},
	[DR_BE_OP_REPROTECT] = {"reprotect", "ReverseReplicate"},
	[DR_BE_OP_SHUTDOWN] = {"shutdown", NULL},
};

const char *dr_backend_op_name(dr_be_op op)
{
	return (unsigned)op < DR_BE_OP_COUNT ? op_names[op].name : "?";
}

const char *dr_backend_op_asr_name(dr_be_op op)
{
	return (unsigned)op < DR_BE_OP_COUNT ? op_names[op].asr : NULL;
}

bool dr_backend_op_parse(const char *name, dr_be_op *out)
{
	for (int i = 0; name && i < DR_BE_OP_COUNT; i++)
		if (strcmp(op_names[i].name, name) == 0 || (op_names[i].asr && strcmp(op_names[i].asr, name) == 0)) {
			*out = (dr_be_op)i;
			return true;
		}
	return false;
}

const char *dr_backend_location_name(dr_be_location loc)
{
	return loc == DR_BE_RECOVERY ? "Recovery" : "Primary";
}

const char *dr_backend_direction_name(dr_be_direction d)
{
	static const char *const names[] = {"Auto", "PrimaryToRecovery", "RecoveryToPrimary"};
	return (unsigned)d < 3 ? names[d] : "?";
}

const char *dr_backend_errclass_name(dr_be_errclass c)
{
	static const char *const names[] = {"none", "permanent", "transient", "throttled"};
	return (unsigned)c < 4 ? names[c] : "?";
}

const char *dr_backend_state_name(dr_be_state s)
{
	static const char *const names[DR_BE_ST_COUNT] = {
		[DR_BE_ST_PROTECTED] = "protected", [DR_BE_ST_FAILING_OVER] = "failing_over",
		[DR_BE_ST_FAILED_OVER] = "failed_over", [DR_BE_ST_CHANGING_POINT] = "changing_point",
		[DR_BE_ST_COMMITTING] = "committing", [DR_BE_ST_CANCELLING] = "cancelling",
		[DR_BE_ST_COMMITTED] = "committed", [DR_BE_ST_REPROTECTING] = "reprotecting",
		[DR_BE_ST_TEST_FAILING_OVER] = "test_failing_over", [DR_BE_ST_TEST_FAILED_OVER] = "test_failed_over",
		[DR_BE_ST_TEST_CLEANING] = "test_cleaning", [DR_BE_ST_OTHER] = "other",
	};
	return (unsigned)s < DR_BE_ST_COUNT ? names[s] : "other";
}

const char *dr_backend_power_name(dr_be_power p)
{
	static const char *const names[] = {"none", "stopped", "running"};
	return (unsigned)p < 3 ? names[p] : "?";
}

const char *dr_backend_health_name(dr_be_health h)
{
	static const char *const names[] = {"unknown", "booting", "healthy", "unhealthy"};
	return (unsigned)h < 4 ? names[h] : "?";
}

const char *dr_backend_point_type_name(dr_be_point_type t)
{
	return t == DR_BE_POINT_APP_CONSISTENT ? "ApplicationConsistent" : "CrashConsistent";
}

const char *dr_backend_job_state_name(dr_be_job_state s)
{
	static const char *const names[] = {"NotStarted", "InProgress", "Succeeded", "Failed",
					    "Cancelled",  "Skipped",	"Suspended"};
	return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "?";
}

bool dr_backend_job_done(dr_be_job_state s)
{
	return s == DR_BE_JOB_SUCCEEDED || s == DR_BE_JOB_FAILED || s == DR_BE_JOB_CANCELLED;
}

/* "`drover sim resume JOB --state FILE`", each word as a shell word. */
static const char *sim_resume_command(const dr_backend *be, dr_arena *a, const char *job)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_puts(&b, "`drover sim resume ");
	dr_text_shell_word(&b, job);
	if (*dr_sim_path(be)) {
		dr_buf_puts(&b, " --state ");
		dr_text_shell_word(&b, dr_sim_path(be));
	}
	dr_buf_puts(&b, "`");
	const char *out = dr_arena_strdup(a, b.data);
	dr_buf_dispose(&b);
	return out;
}

const char *dr_backend_resume_how(const dr_backend *be, dr_arena *a, const dr_be_job *j)
{
	if (be && dr_sim_is(be))
		return dr_arena_printf(a, "with %s once this run has stopped (a run holds the simulator's state)",
				       sim_resume_command(be, a, j->name));
	if (be && dr_azure_is(be) && j->id)
		return dr_arena_printf(a, "in the portal (Site Recovery jobs, the job, Resume) or with `az rest --method "
					  "post --url '%s'`",
				       dr_azure_resume_url(be, a, j->id));
	return "in the service";
}

bool dr_backend_person_can_resume(const dr_backend *be)
{
	return !(be && be->held);
}

const char *dr_backend_pick_name(dr_be_pick p)
{
	static const char *const names[] = {"ok", "none", "too_old"};
	return (unsigned)p < 3 ? names[p] : "?";
}

/* ---- items ---------------------------------------------------------------------------- */

const dr_be_vm *dr_backend_active_vm(const dr_be_item *it)
{
	return it->active_location == DR_BE_RECOVERY ? &it->recovery_vm : &it->primary_vm;
}

const char *dr_backend_allowed_text(dr_arena *a, unsigned allowed_ops)
{
	dr_buf b;
	dr_buf_init(&b);
	for (int i = 0; i < DR_BE_OP_COUNT; i++)
		if ((allowed_ops & DR_BE_OP_BIT(i)) && op_names[i].asr) {
			if (b.len)
				dr_buf_puts(&b, ", ");
			dr_buf_puts(&b, op_names[i].asr);
		}
	const char *out = dr_arena_strdup(a, b.len ? b.data : "none");
	dr_buf_dispose(&b);
	return out;
}

void dr_backend_item_to_vm(const dr_be_item *it, dr_vm *out)
{
	*out = (dr_vm){
		.name = it->name, .id = it->id, .tag_keys = it->tag_keys, .tag_values = it->tag_values,
		.n_tags = it->n_tags, .primary_region = it->primary_region, .recovery_region = it->recovery_region,
		.primary_ip = it->primary_ip, .recovery_ip = it->recovery_ip, .size = it->size,
	};
}

/* ---- recovery point policy ------------------------------------------------------------------ */

/* Whether p qualifies for the policy q (custom by time: at or before the time). */
static bool qualifies(const dr_be_point *p, const dr_be_point_query *q)
{
	switch (q->policy) {
	case DR_POINT_LATEST_PROCESSED: return p->processed;
	case DR_POINT_LATEST_APP_CONSISTENT: return p->processed && p->type == DR_BE_POINT_APP_CONSISTENT;
	case DR_POINT_LATEST_CRASH_CONSISTENT: return p->processed && p->type == DR_BE_POINT_CRASH_CONSISTENT;
	case DR_POINT_CUSTOM: return p->time_ms <= q->custom_time_ms;
	default: return false;
	}
}

static const char *last_segment(const char *id)
{
	const char *slash = strrchr(id, '/');
	return slash ? slash + 1 : id;
}

static const dr_be_point *find(const dr_be_point *pts, size_t n, const dr_be_point_query *q)
{
	const dr_be_point *best = NULL;
	for (size_t i = 0; i < n; i++) {
		const dr_be_point *p = &pts[i];
		if (p->time_ms < 0)
			continue; /* undated: its age, and so the RPO it gives, is unknown */
		if (q->policy == DR_POINT_CUSTOM && q->custom_id) {
			if (strcmp(p->id, q->custom_id) == 0 || strcmp(p->name, last_segment(q->custom_id)) == 0)
				return p;
		} else if (qualifies(p, q) && (!best || p->time_ms > best->time_ms)) {
			best = p;
		}
	}
	return best;
}

dr_be_pick dr_backend_choose_point(const dr_be_item *item, const dr_be_point *pts, size_t n,
				   const dr_be_point_query *q, int64_t now_ms, dr_be_choice *out)
{
	memset(out, 0, sizeof *out);
	if (q->policy == DR_POINT_LATEST) {
		if (item->rpo_ms < 0)
			return DR_BE_PICK_NONE;
		out->time_ms = now_ms - item->rpo_ms;
	} else {
		const dr_be_point *p = find(pts, n, q);
		if (!p)
			return DR_BE_PICK_NONE;
		out->point = p;
		out->point_id = p->id;
		out->time_ms = p->time_ms;
	}
	out->age_ms = now_ms - out->time_ms;
	return q->max_age_ms >= 0 && out->age_ms > q->max_age_ms ? DR_BE_PICK_TOO_OLD : DR_BE_PICK_OK;
}

/* ---- errors ------------------------------------------------------------------------------------ */

int dr_backend_fail(dr_be_error *err, dr_arena *a, int http_status, dr_be_errclass cls, const char *code,
		    const char *causes, const char *action, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	*err = (dr_be_error){
		.http_status = http_status, .cls = cls, .code = dr_arena_strdup(a, code),
		.message = dr_arena_vprintf(a, fmt, ap), .possible_causes = causes ? dr_arena_strdup(a, causes) : NULL,
		.recommended_action = action ? dr_arena_strdup(a, action) : NULL, .retry_after_ms = -1,
	};
	va_end(ap);
	return -1;
}

const char *dr_backend_error_text(dr_arena *a, const dr_be_error *err)
{
	const char *msg = err->message ? err->message : "";
	size_t n = strlen(msg);
	const char *stop = n && msg[n - 1] != '.' && (err->possible_causes || err->recommended_action) ? "." : "";
	return dr_arena_printf(a, "%s: %s%s%s%s%s%s", err->code ? err->code : "Error", msg, stop,
			       err->possible_causes ? " Possible causes: " : "",
			       err->possible_causes ? err->possible_causes : "",
			       err->recommended_action ? " Recommended action: " : "",
			       err->recommended_action ? err->recommended_action : "");
}

/* ---- opening and the vtable ----------------------------------------------------------------------- */

static dr_backend *open_sim(const dr_runbook *rb, const dr_backend_opts *o, dr_arena *a, dr_diags *d,
			    dr_be_error *err)
{
	char path[4096];
	const char *slash = rb->path ? strrchr(rb->path, '/') : NULL;
	const char *state = dr_sim_state_path(o->state_path, o->state_dir, path, sizeof path);
	bool in_memory = o->in_memory || strcmp(state, DR_SIM_STATE_MEMORY) == 0;
	dr_sim_opts so = {
		.state_path = in_memory ? NULL : state,
		.base_dir = slash ? dr_arena_strndup(a, rb->path, (size_t)(slash - rb->path)) : ".",
		.in_memory = in_memory,
		.read_only = o->read_only,
		.make_folder = dr_sim_state_in_dir(o->state_path), /* folders only in the state directory */
	};
	return dr_sim_open(rb->backend.node, &so, a, d, err);
}

static dr_backend *open_azure(const dr_runbook *rb, const dr_backend_opts *o, dr_arena *a, dr_diags *d,
			      dr_be_error *err)
{
	(void)d;
	return dr_azure_open(rb, o->params, a, err);
}

dr_backend *dr_backend_open(const dr_runbook *rb, const dr_backend_opts *opts, dr_arena *a, dr_diags *diags,
			    dr_be_error *err)
{
	static const dr_backend_opts none = {0};
	static dr_backend *(*const openers[])(const dr_runbook *, const dr_backend_opts *, dr_arena *, dr_diags *,
					      dr_be_error *) = {[DR_BACKEND_SIM] = open_sim, [DR_BACKEND_AZURE] = open_azure};
	memset(err, 0, sizeof *err);
	return openers[rb->backend.kind](rb, opts ? opts : &none, a, diags, err);
}

int dr_backend_list_items(dr_backend *be, dr_arena *a, int64_t now_ms, dr_be_item **out, size_t *n,
			  dr_be_error *err)
{
	*out = NULL, *n = 0;
	return be->ops->list_items(be, a, now_ms, out, n, err);
}

int dr_backend_get_item(dr_backend *be, dr_arena *a, int64_t now_ms, const char *item_id, dr_be_item *out,
			dr_be_error *err)
{
	return be->ops->get_item(be, a, now_ms, item_id, out, err);
}

int dr_backend_list_points(dr_backend *be, dr_arena *a, int64_t now_ms, const char *item_id, dr_be_point **out,
			   size_t *n, dr_be_error *err)
{
	*out = NULL, *n = 0;
	return be->ops->list_points(be, a, now_ms, item_id, out, n, err);
}

int dr_backend_list_newest_points(dr_backend *be, dr_arena *a, int64_t now_ms, const char *item_id,
				  dr_be_point **out, size_t *n, dr_be_error *err)
{
	*out = NULL, *n = 0;
	if (!be->ops->list_newest_points)
		return be->ops->list_points(be, a, now_ms, item_id, out, n, err);
	return be->ops->list_newest_points(be, a, now_ms, item_id, out, n, err);
}

int dr_backend_start(dr_backend *be, dr_arena *a, int64_t now_ms, const dr_be_request *req, dr_be_started *out,
		     dr_be_error *err)
{
	memset(out, 0, sizeof *out);
	out->poll_after_ms = -1;
	return be->ops->start(be, a, now_ms, req, out, err);
}

int dr_backend_get_job(dr_backend *be, dr_arena *a, int64_t now_ms, const char *job_id, dr_be_job *out,
		       dr_be_error *err)
{
	return be->ops->get_job(be, a, now_ms, job_id, out, err);
}

int dr_backend_list_jobs(dr_backend *be, dr_arena *a, int64_t now_ms, const dr_be_job_filter *f, dr_be_job **out,
			 size_t *n, dr_be_error *err)
{
	*out = NULL, *n = 0;
	return be->ops->list_jobs(be, a, now_ms, f, out, n, err);
}

int dr_backend_peek_item(dr_backend *be, dr_arena *a, int64_t now_ms, const char *item_id, dr_be_item *out,
			 dr_be_error *err)
{
	if (be->ops->peek_item)
		return be->ops->peek_item(be, a, now_ms, item_id, out, err);
	return be->ops->get_item(be, a, now_ms, item_id, out, err);
}

int64_t dr_backend_pace(dr_backend *be, const dr_be_request *req)
{
	return be->ops->pace ? be->ops->pace(be, req) : 0;
}

static _Thread_local const volatile int *thread_stop;

void dr_backend_watch(const volatile int *stop)
{
	thread_stop = stop;
}

bool dr_backend_stop_asked(void)
{
	return thread_stop && __atomic_load_n(thread_stop, __ATOMIC_RELAXED);
}

void dr_backend_caller_retries(dr_backend *be, bool on)
{
	if (be && be->ops->caller_retries)
		be->ops->caller_retries(be, on);
}

int dr_backend_vm_facts(dr_backend *be, dr_arena *a, int64_t now_ms, dr_be_item *it, dr_be_error *err)
{
	return be->ops->vm_facts ? be->ops->vm_facts(be, a, now_ms, it, err) : 0;
}

int dr_backend_flush(dr_backend *be, dr_arena *a, dr_be_error *err)
{
	return be->ops->flush ? be->ops->flush(be, a, err) : 0;
}

int64_t dr_backend_now(dr_backend *be, int64_t now_ms)
{
	return dr_sim_is(be) ? dr_sim_time(be, now_ms) : now_ms;
}

void dr_backend_close(dr_backend *be)
{
	if (be)
		be->ops->close(be);
}

/* ---- time ---------------------------------------------------------------------------------------- */

void dr_backend_format_time(int64_t unix_ms, char *out, size_t outsz)
{
	dr_text_format_utc(unix_ms, false, out, outsz);
}

static bool digits(const char **p, int n, int *out)
{
	int v = 0;
	for (int i = 0; i < n; i++, (*p)++) {
		if (**p < '0' || **p > '9')
			return false;
		v = v * 10 + (**p - '0');
	}
	*out = v;
	return true;
}

static bool expect(const char **p, const char *chars)
{
	if (!**p || !strchr(chars, **p))
		return false;
	(*p)++;
	return true;
}

/* The fraction and the zone after the seconds: ms and the offset in minutes. */
static bool fraction_and_zone(const char *p, int *ms, int *offset_min)
{
	*ms = 0, *offset_min = 0;
	if (*p == '.') {
		int scale = 100;
		for (p++; *p >= '0' && *p <= '9'; p++, scale /= 10)
			*ms += (*p - '0') * scale;
	}
	if (expect(&p, "Zz"))
		return *p == '\0';
	int sign = *p == '-' ? -1 : 1, hh, mm;
	if (!expect(&p, "+-") || !digits(&p, 2, &hh) || !expect(&p, ":") || !digits(&p, 2, &mm))
		return false;
	*offset_min = sign * (hh * 60 + mm);
	return *p == '\0' && hh < 24 && mm < 60;
}

bool dr_backend_parse_time(const char *s, int64_t *out_ms)
{
	struct tm tm = {0};
	int y, mo, d, h, mi, sec, ms, off;
	const char *p = s;
	if (!s || !digits(&p, 4, &y) || !expect(&p, "-") || !digits(&p, 2, &mo) || !expect(&p, "-") ||
	    !digits(&p, 2, &d) || !expect(&p, "Tt ") || !digits(&p, 2, &h) || !expect(&p, ":") ||
	    !digits(&p, 2, &mi) || !expect(&p, ":") || !digits(&p, 2, &sec) || !fraction_and_zone(p, &ms, &off))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
		return false;
	tm.tm_year = y - 1900, tm.tm_mon = mo - 1, tm.tm_mday = d;
	tm.tm_hour = h, tm.tm_min = mi, tm.tm_sec = sec;
	*out_ms = ((int64_t)timegm(&tm) - (int64_t)off * 60) * 1000 + ms;
	return true;
}
