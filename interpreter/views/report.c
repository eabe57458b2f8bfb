/*
 * report.c - the JSON report of a run, built from the run model
 * (report.h): its head and its lists an item at a time (report_int.h),
 * and the dispatch to the forms, each written as it grows.
 * docs/report.md is the schema; every field here is listed there.
 *
 * Times: "_ms" fields are on the run's clock (ms since the run started),
 * -1 in the model is null here. RFC 3339 times are wall-clock (the run's
 * start plus its clock time).
 */
#include "views/report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "actions/action.h"
#include "config.h"
#include "run/clock.h"
#include "util/fs.h"
#include "util/xalloc.h"
#include "views/report_int.h"

/* --- small builders ------------------------------------------------------------- */

static void add_str(cJSON *o, const char *key, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static void add_ms(cJSON *o, const char *key, int64_t ms)
{
	if (ms >= 0)
		cJSON_AddNumberToObject(o, key, (double)ms);
	else
		cJSON_AddNullToObject(o, key);
}

/* A verdict: true (met), false (missed), null (no objective or nothing measured). */
static void add_met(cJSON *o, const char *key, int met)
{
	if (met < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddBoolToObject(o, key, met);
}

static void add_wall(cJSON *o, const char *key, const dr_runinfo *ri, int64_t t_ms)
{
	char ts[40];
	if (t_ms < 0 || ri->started_wall <= 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	dr_clock_format_wall(ri->started_wall + t_ms, ts, sizeof ts);
	cJSON_AddStringToObject(o, key, ts);
}

static void add_span(cJSON *o, int64_t start, int64_t end)
{
	add_ms(o, "started_ms", start);
	add_ms(o, "ended_ms", end);
	add_ms(o, "duration_ms", start >= 0 && end >= start ? end - start : -1);
}

/* --- the run ------------------------------------------------------------------ */

static cJSON *run_json(const dr_runinfo *ri)
{
	cJSON *r = cJSON_CreateObject();
	add_str(r, "id", ri->run);
	add_str(r, "runbook", ri->runbook);
	add_str(r, "file", ri->path);
	add_str(r, "digest", ri->digest);
	add_str(r, "mode", ri->mode);
	add_str(r, "direction", ri->direction);
	add_str(r, "clock", ri->clock);
	add_str(r, "host", ri->host);
	add_str(r, "user", ri->user);
	add_wall(r, "started", ri, 0);
	add_wall(r, "ended", ri, ri->ended ? ri->elapsed_ms : -1);
	add_ms(r, "duration_ms", ri->elapsed_ms);
	add_str(r, "status", ri->status);
	if (ri->ended)
		cJSON_AddNumberToObject(r, "exit_code", ri->exit_code);
	else
		cJSON_AddNullToObject(r, "exit_code");
	add_str(r, "reason", ri->reason);
	add_str(r, "error", ri->error);
	cJSON_AddBoolToObject(r, "cancelled", ri->cancelled);
	cJSON_AddBoolToObject(r, "timed_out", ri->timed_out);
	return r;
}

static cJSON *sessions_json(const dr_runinfo *ri)
{
	cJSON *s = cJSON_CreateObject();
	cJSON_AddNumberToObject(s, "count", (double)(ri->sessions ? ri->sessions : 1));
	add_ms(s, "downtime_ms", ri->sessions > 1 ? ri->downtime_ms : 0);
	return s;
}

/* --- objectives ----------------------------------------------------------------- */

static cJSON *rto_json(const dr_ri_objectives *o)
{
	cJSON *r = cJSON_CreateObject();
	add_ms(r, "achieved_ms", o->rto_ms);
	add_ms(r, "objective_ms", o->rto_objective_ms);
	add_met(r, "met", o->rto_met);
	add_str(r, "measured_to", o->rto_ms >= 0 ? o->rto_measured_to : NULL);
	add_str(r, "task", o->rto_task[0] ? o->rto_task : NULL);
	add_str(r, "not_reached", o->rto_ms < 0 && o->rto_unreached[0] ? o->rto_unreached : NULL); /* why */
	add_str(r, "not_judged", o->rto_unjudged); /* why a null met is no verdict: "the run was cancelled" */
	return r;
}

static cJSON *rpo_json(const dr_ri_objectives *o)
{
	cJSON *r = cJSON_CreateObject();
	add_ms(r, "worst_ms", o->rpo_ms);
	add_ms(r, "objective_ms", o->rpo_objective_ms);
	add_met(r, "met", o->rpo_met);
	add_str(r, "not_measured", o->rpo_unmeasured); /* why, when worst_ms is null: not missed, not judged */
	cJSON_AddArrayToObject(r, "vms"); /* dr_rep_rpo_vm */
	return r;
}

cJSON *dr_rep_rpo_vm(const dr_rep *r, size_t k)
{
	const dr_ri_rpo *p = &r->o.vms[k];
	cJSON *v = cJSON_CreateObject();
	add_str(v, "vm", p->vm);
	add_ms(v, "rpo_ms", p->rpo_ms);
	add_met(v, "met", p->met);
	add_str(v, "point", p->point);
	add_str(v, "point_time", p->point_time);
	add_str(v, "policy", p->policy);
	add_str(v, "step", p->step);
	return v;
}

/* Met when every verdict given is met; null when there is none. */
static int all_met(const dr_ri_objectives *o)
{
	if (o->rto_met < 0 && o->rpo_met < 0)
		return -1;
	return o->rto_met != 0 && o->rpo_met != 0;
}

static cJSON *objectives_json(const dr_runinfo *ri, const dr_ri_objectives *o)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddBoolToObject(j, "applies", o->applies);
	add_met(j, "met", all_met(o));
	add_str(j, "enforce", ri->enforce);
	cJSON_AddBoolToObject(j, "enforced", o->enforced);
	cJSON_AddBoolToObject(j, "fails_run", ri->objectives_failed);
	cJSON_AddItemToObject(j, "rto", rto_json(o));
	cJSON_AddItemToObject(j, "rpo", rpo_json(o));
	return j;
}

/* --- steps and tasks ------------------------------------------------------------- */

static cJSON *step_json(const dr_ri_step *s)
{
	cJSON *j = cJSON_CreateObject();
	add_str(j, "id", s->id);
	add_str(j, "phase", s->phase ? s->phase : "main");
	add_str(j, "undoes", s->undoes);
	add_str(j, "action", s->action);
	add_str(j, "state", dr_ri_state_name(s->state));
	if (s->n_tasks >= 0)
		cJSON_AddNumberToObject(j, "tasks", s->n_tasks);
	else
		cJSON_AddNullToObject(j, "tasks");
	cJSON *counts = cJSON_AddObjectToObject(j, "counts");
	for (int k = 0; k < DR_RI__STATES; k++)
		if (s->count[k])
			cJSON_AddNumberToObject(counts, dr_ri_state_name((dr_ri_state)k), (double)s->count[k]);
	add_span(j, s->started_ms, s->ended_ms);
	add_str(j, "reason", s->reason);
	cJSON_AddBoolToObject(j, "tolerated", s->tolerated);
	cJSON *ix = cJSON_AddArrayToObject(j, "task_indexes");
	for (size_t i = 0; i < s->n_task_refs; i++)
		cJSON_AddItemToArray(ix, cJSON_CreateNumber((double)s->tasks[i]));
	return j;
}

static cJSON *attempt_json(const dr_ri_attempt *a)
{
	cJSON *j = cJSON_CreateObject();
	cJSON_AddNumberToObject(j, "n", a->n);
	add_str(j, "state", dr_ri_state_name(a->state));
	add_span(j, a->started_ms, a->ended_ms);
	add_str(j, "class", a->cls);
	add_str(j, "message", a->message);
	add_str(j, "recommended_action", a->recommended_action);
	add_ms(j, "retry_delay_ms", a->will_retry ? a->retry_delay_ms : -1);
	add_str(j, "retry_reason", a->will_retry ? a->retry_reason : NULL);
	add_str(j, "probe", a->probe);
	if (a->person_since_ms < 0) {
		cJSON_AddNullToObject(j, "person");
		return j;
	}
	cJSON *p = cJSON_AddObjectToObject(j, "person"); /* its job waited for a manual action in the service */
	add_ms(p, "since_ms", a->person_since_ms);
	add_ms(p, "until_ms", a->person_until_ms);
	add_ms(p, "waited_ms", a->person_until_ms >= 0 ? a->person_until_ms - a->person_since_ms : -1);
	add_str(p, "asked", a->person_asked);
	return j;
}

static cJSON *approval_json(const dr_ri_approval *ap)
{
	cJSON *j = cJSON_CreateObject();
	add_str(j, "message", ap->message);
	add_str(j, "approvers", ap->approvers);
	add_str(j, "decision", ap->decision);
	add_str(j, "by", ap->by);
	add_str(j, "via", ap->via);
	add_str(j, "at", ap->at);
	add_str(j, "comment", ap->comment);
	cJSON_AddBoolToObject(j, "timed_out", ap->timed_out);
	add_ms(j, "requested_ms", ap->requested_ms);
	add_ms(j, "answered_ms", ap->answered_ms);
	add_ms(j, "waited_ms", ap->waited_ms);
	return j;
}

static cJSON *task_json(const dr_runinfo *ri, const dr_ri_task *t, bool critical)
{
	const dr_ri_step *s = &ri->steps[t->step];
	char label[512];
	cJSON *j = cJSON_CreateObject();
	add_str(j, "label", dr_runinfo_task_label(ri, t, label, sizeof label));
	add_str(j, "step", s->id);
	add_str(j, "phase", s->phase ? s->phase : "main");
	add_str(j, "target", t->target);
	add_str(j, "action", t->action);
	cJSON_AddBoolToObject(j, "mutating", t->mutating);
	cJSON_AddBoolToObject(j, "validation", (t->flags & DR_AF_VALIDATION) != 0);
	add_str(j, "state", dr_ri_state_name(t->state));
	add_span(j, t->started_ms, t->ended_ms);
	add_str(j, "job", t->job);
	add_str(j, "reason", t->reason);
	cJSON_AddBoolToObject(j, "critical", critical);
	cJSON *at = cJSON_AddArrayToObject(j, "attempts");
	for (size_t i = 0; i < t->n_attempts; i++)
		cJSON_AddItemToArray(at, attempt_json(&t->attempts[i]));
	if (t->approval.requested)
		cJSON_AddItemToObject(j, "approval", approval_json(&t->approval));
	const char *asked;
	int64_t since = dr_runinfo_person_wait(t, &asked);
	if (since < 0) {
		cJSON_AddNullToObject(j, "waiting_for_person");
		return j;
	}
	cJSON *w = cJSON_AddObjectToObject(j, "waiting_for_person"); /* when the report was made */
	add_str(w, "kind", t->flags & DR_AF_APPROVAL ? "approval" : "job");
	add_ms(w, "since_ms", since);
	add_str(w, "asked", asked);
	add_str(w, "approvers", t->approval.open ? t->approval.approvers : NULL);
	return j;
}

/* --- the critical path ------------------------------------------------------------- */

typedef struct ended {
	int64_t end, start;
	size_t task;
} ended;

static int cmp_ended(const void *pa, const void *pb)
{
	const ended *a = pa, *b = pb;
	if (a->end != b->end)
		return a->end < b->end ? -1 : 1;
	if (a->start != b->start) /* of those that ended together, the one that took longest last */
		return a->start > b->start ? -1 : 1;
	return a->task < b->task ? -1 : a->task > b->task;
}

/* The task whose label is label (the RTO's task); DR_INDEX_NONE when none. */
static size_t task_by_label(const dr_runinfo *ri, const char *label)
{
	char buf[512];
	for (size_t i = 0; label[0] && i < ri->n_tasks; i++)
		if (strcmp(dr_runinfo_task_label(ri, &ri->tasks[i], buf, sizeof buf), label) == 0)
			return i;
	return DR_INDEX_NONE;
}

/* The last position in e[0, hi) whose task ended by t; hi when none. */
static size_t last_ended_by(const ended *e, size_t hi, int64_t t)
{
	size_t lo = 0, top = hi;
	while (lo < top) {
		size_t mid = lo + (top - lo) / 2;
		if (e[mid].end <= t)
			lo = mid + 1;
		else
			top = mid;
	}
	return lo ? lo - 1 : hi;
}

/*
 * The chain of main tasks that ends at the task deciding the RTO, each the
 * last to end before the next one started (what it waited for: a needed
 * step, a concurrency slot, an approval) and itself started earlier (a task
 * of no duration that ended as the next began did not hold it up); of
 * those that ended together, the longest. on[i] marks task i. The position
 * bound only falls, so the walk ends.
 */
static void critical_path(const dr_runinfo *ri, const char *rto_task, bool *on)
{
	size_t cur = task_by_label(ri, rto_task), n = 0;
	if (cur == DR_INDEX_NONE)
		return;
	ended *e = xcalloc(ri->n_tasks + 1, sizeof *e);
	for (size_t i = 0; i < ri->n_tasks; i++)
		if (ri->tasks[i].ended_ms >= 0 && !ri->steps[ri->tasks[i].step].phase)
			e[n++] = (ended){ri->tasks[i].ended_ms, ri->tasks[i].started_ms, i};
	qsort(e, n, sizeof *e, cmp_ended);
	size_t hi = n;
	for (size_t k = 0; k < n; k++)
		if (e[k].task == cur)
			hi = k;
	for (on[cur] = true; hi < n && ri->tasks[cur].started_ms > 0;) {
		size_t p = last_ended_by(e, hi, ri->tasks[cur].started_ms);
		while (p != hi && p > 0 && e[p].start >= ri->tasks[cur].started_ms)
			p--;
		if (p == hi || e[p].start >= ri->tasks[cur].started_ms)
			break;
		cur = e[p].task;
		on[cur] = true;
		hi = p;
	}
	free(e);
}

/* --- rollback, drill, VMs -------------------------------------------------------- */

static cJSON *rollback_json(const dr_runinfo *ri)
{
	const dr_ri_rollback *rb = &ri->rollback;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddBoolToObject(j, "started", rb->started);
	add_str(j, "why", rb->why);
	cJSON_AddNumberToObject(j, "tasks", (double)rb->tasks);
	add_str(j, "barrier", rb->barrier);
	add_str(j, "status", rb->status);
	add_str(j, "stopped", rb->stopped);
	cJSON *nu = cJSON_AddArrayToObject(j, "not_undone");
	for (size_t i = 0; i < ri->n_not_undone; i++)
		cJSON_AddItemToArray(nu, cJSON_CreateString(ri->not_undone[i]));
	return j;
}

static cJSON *drill_json(const dr_runinfo *ri)
{
	const dr_ri_drill *d = &ri->drill;
	cJSON *j = cJSON_CreateObject();
	cJSON_AddBoolToObject(j, "verified", d->verified);
	add_str(j, "status", d->status);
	add_str(j, "message", d->message);
	cJSON_AddNumberToObject(j, "vms", (double)d->vms);
	if (d->leftovers) /* the model's own list, not a copy */
		cJSON_AddItemReferenceToObject(j, "leftovers", (cJSON *)d->leftovers);
	else
		cJSON_AddArrayToObject(j, "leftovers");
	cJSON_AddArrayToObject(j, "cleanup"); /* dr_rep_cleanup */
	return j;
}

cJSON *dr_rep_cleanup(const dr_rep *r, size_t task)
{
	const dr_ri_task *t = &r->ri->tasks[task];
	cJSON *c = cJSON_CreateObject();
	add_str(c, "vm", t->target);
	add_str(c, "state", dr_ri_state_name(t->state));
	add_str(c, "job", t->job);
	return c;
}

/* A VM: its tasks (indexes into tasks[]) and how many failed. */
cJSON *dr_rep_vm(const dr_rep *r, size_t v)
{
	const dr_runinfo *ri = r->ri;
	const dr_ri_vm *vm = &ri->vms[v];
	cJSON *j = cJSON_CreateObject();
	size_t failed = 0;
	cJSON *tasks = cJSON_CreateArray();
	for (size_t k = 0; k < vm->n_tasks; k++) {
		failed += ri->tasks[vm->tasks[k]].state == DR_RI_FAILED;
		cJSON_AddItemToArray(tasks, cJSON_CreateNumber((double)vm->tasks[k]));
	}
	add_str(j, "name", vm->name);
	cJSON_AddNumberToObject(j, "failed", (double)failed);
	cJSON_AddItemToObject(j, "tasks", tasks);
	return j;
}

/* --- the report ----------------------------------------------------------------- */

cJSON *dr_rep_step(const dr_rep *r, size_t step) { return step_json(&r->ri->steps[step]); }

cJSON *dr_rep_task(const dr_rep *r, size_t task) { return task_json(r->ri, &r->ri->tasks[task], r->critical[task]); }

cJSON *dr_rep_approval(const dr_rep *r, size_t task)
{
	cJSON *a = approval_json(&r->ri->tasks[task].approval);
	cJSON_AddStringToObject(a, "step", r->ri->steps[r->ri->tasks[task].step].id);
	return a;
}

/* The head: every member in the report's order, the lists empty (list[]). */
static cJSON *head(dr_rep *r)
{
	const dr_runinfo *ri = r->ri;
	cJSON *doc = cJSON_CreateObject(), *obj = objectives_json(ri, &r->o), *drill = drill_json(ri);
	cJSON_AddStringToObject(doc, "schema", "drover-report");
	cJSON_AddNumberToObject(doc, "version", DR_REPORT_VERSION);
	cJSON_AddStringToObject(doc, "drover", DROVER_VERSION);
	cJSON_AddItemToObject(doc, "run", run_json(ri));
	cJSON_AddItemToObject(doc, "sessions", sessions_json(ri));
	cJSON_AddItemToObject(doc, "objectives", obj);
	r->list[DR_REP_STEPS] = cJSON_AddArrayToObject(doc, "steps");
	r->list[DR_REP_TASKS] = cJSON_AddArrayToObject(doc, "tasks");
	r->list[DR_REP_APPROVALS] = cJSON_AddArrayToObject(doc, "approvals");
	r->list[DR_REP_VMS] = cJSON_AddArrayToObject(doc, "vms");
	cJSON_AddItemToObject(doc, "rollback", rollback_json(ri));
	cJSON_AddItemToObject(doc, "drill", drill);
	r->list[DR_REP_RPO_VMS] = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(obj, "rpo"), "vms");
	r->list[DR_REP_CLEANUP] = cJSON_GetObjectItemCaseSensitive(drill, "cleanup");
	return doc;
}

void dr_rep_open(dr_rep *r, const dr_runinfo *ri, dr_buf *out, int fd)
{
	*r = (dr_rep){.ri = ri, .out = out, .fd = fd};
	dr_runinfo_objectives(ri, &r->o);
	dr_ri_objectives *o = &r->o;
	if (ri->ended && o->recovers && o->rto_ms < 0 && o->rto_objective_ms >= 0 && !o->rto_unjudged)
		o->rto_met = 0; /* the run is over and recovery was never reached: the objective is missed */
	r->critical = xcalloc(ri->n_tasks + 1, sizeof *r->critical);
	critical_path(ri, o->rto_task, r->critical);
	r->doc = head(r);
}

enum { FLUSH_AT = 64 * 1024 };

int dr_rep_flush(dr_rep *r, bool all)
{
	if (r->out->len > r->most)
		r->most = r->out->len;
	if (r->fd < 0 || (!all && r->out->len < FLUSH_AT))
		return r->err ? -1 : 0;
	if (!r->err && dr_fs_write_all(r->fd, r->out->data, r->out->len) < 0)
		r->err = errno ? errno : EIO;
	dr_buf_reset(r->out);
	return r->err ? -1 : 0;
}

int dr_rep_close(dr_rep *r)
{
	int rc = dr_rep_flush(r, true), e = r->err;
	cJSON_Delete(r->doc);
	free(r->critical);
	dr_ri_objectives_dispose(&r->o);
	errno = e;
	return rc;
}

/* --- formats and files ----------------------------------------------------------- */

static const struct {
	const char *name;
	dr_report_format f;
} format_names[] = {
	{"json", DR_REPORT_JSON}, {"junit", DR_REPORT_JUNIT}, {"markdown", DR_REPORT_MARKDOWN},
	{"md", DR_REPORT_MARKDOWN}, {"html", DR_REPORT_HTML},
};

bool dr_report_parse_format(const char *name, dr_report_format *out)
{
	for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
		if (strcmp(name, format_names[i].name) == 0) {
			*out = format_names[i].f;
			return true;
		}
	return false;
}

bool dr_report_format_of_path(const char *path, dr_report_format *out)
{
	static const struct {
		const char *ext;
		dr_report_format f;
	} exts[] = {{".json", DR_REPORT_JSON}, {".xml", DR_REPORT_JUNIT}, {".md", DR_REPORT_MARKDOWN},
		    {".markdown", DR_REPORT_MARKDOWN}, {".html", DR_REPORT_HTML}, {".htm", DR_REPORT_HTML}};
	const char *dot = strrchr(path, '.');
	for (size_t i = 0; dot && i < sizeof exts / sizeof exts[0]; i++)
		if (strcasecmp(dot, exts[i].ext) == 0) {
			*out = exts[i].f;
			return true;
		}
	return false;
}

static void render(dr_rep *r, dr_report_format f)
{
	if (f == DR_REPORT_JUNIT)
		dr_report_junit(r);
	else if (f == DR_REPORT_MARKDOWN)
		dr_report_markdown(r);
	else if (f == DR_REPORT_HTML)
		dr_report_html(r);
	else
		dr_report_json(r);
}

void dr_report_render(const dr_runinfo *ri, dr_report_format f, dr_buf *out)
{
	dr_rep r;
	dr_rep_open(&r, ri, out, -1);
	render(&r, f);
	dr_rep_close(&r);
}

cJSON *dr_report_build(const dr_runinfo *ri)
{
	dr_buf text;
	dr_buf_init(&text);
	dr_report_render(ri, DR_REPORT_JSON, &text);
	cJSON *doc = cJSON_Parse(text.data);
	dr_buf_dispose(&text);
	return doc;
}

typedef struct writing {
	const dr_runinfo *ri;
	dr_report_format f;
} writing;

/* The report into fd as it grows (dr_fs_fill_fn): 0, or -1 with errno. */
static int fill(void *ctx, int fd)
{
	const writing *w = ctx;
	dr_buf text;
	dr_buf_init(&text);
	dr_rep r;
	dr_rep_open(&r, w->ri, &text, fd);
	render(&r, w->f);
	int rc = dr_rep_close(&r), e = errno;
	dr_buf_dispose(&text);
	errno = e;
	return rc;
}

int dr_report_write(const dr_runinfo *ri, dr_report_format f, const char *path, dr_buf *err)
{
	writing w = {ri, f};
	if (path && strcmp(path, "-") != 0)
		return dr_fs_write_atomic_with(path, DR_FS_NAMED, fill, &w, err);
	if (fflush(stdout) != 0 || fill(&w, STDOUT_FILENO) < 0) {
		dr_buf_printf(err, "cannot write the report to standard output: %s", strerror(errno));
		return -1;
	}
	return 0;
}
