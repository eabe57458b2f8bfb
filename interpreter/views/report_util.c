/*
 * report_util.c - helpers the report's forms share (report_int.h).
 */
#include "views/report_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backends/backend.h"
#include "run/clock.h"
#include "util/xalloc.h"
#include "views/report_dr.h"

const cJSON *dr_rep_obj(const cJSON *o, const char *key) { return o ? cJSON_GetObjectItemCaseSensitive(o, key) : NULL; }

const char *dr_rep_str(const cJSON *o, const char *key)
{
	const cJSON *v = dr_rep_obj(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int64_t dr_rep_ms(const cJSON *o, const char *key)
{
	const cJSON *v = dr_rep_obj(o, key);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

int dr_rep_int(const cJSON *o, const char *key)
{
	const cJSON *v = dr_rep_obj(o, key);
	return cJSON_IsNumber(v) ? v->valueint : 0;
}

int dr_rep_bool(const cJSON *o, const char *key)
{
	const cJSON *v = dr_rep_obj(o, key);
	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : -1;
}

void dr_rep_step_name(const cJSON *step, char *out, size_t n)
{
	const char *phase = dr_rep_str(step, "phase"), *undoes = dr_rep_str(step, "undoes");
	const char *id = dr_rep_str(step, "id") ? dr_rep_str(step, "id") : "?";
	if (undoes)
		snprintf(out, n, "rollback: undo %s", undoes);
	else if (phase && strcmp(phase, "main") != 0)
		snprintf(out, n, "%s: %s", phase, id);
	else
		snprintf(out, n, "%s", id);
}

void dr_rep_wall(const cJSON *doc, int64_t t_ms, char *out, size_t n)
{
	const char *started = dr_rep_str(dr_rep_obj(doc, "run"), "started");
	int64_t wall;
	*out = 0;
	if (started && t_ms >= 0 && dr_backend_parse_time(started, &wall))
		dr_clock_format_wall(wall + t_ms, out, n);
}

void dr_rep_duration(int64_t ms, char *out, size_t n) { dr_report_dr_duration(ms, out, n); }

const char *dr_rep_waiting_unsaid(const cJSON *waiting)
{
	const char *kind = dr_rep_str(waiting, "kind");
	return kind && !strcmp(kind, "approval") ? "an approval (what was asked is not in the journal)"
						 : "its job waits for a manual action in the service";
}

/* --- verdicts ----------------------------------------------------------------- */

typedef struct verdicts {
	dr_rep_verdict *v;
	size_t n, cap;
} verdicts;

/* fmt and ap printed into a new heap string. */
__attribute__((format(printf, 1, 0))) static char *vformat(const char *fmt, va_list ap)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_vprintf(&b, fmt, ap);
	return dr_buf_detach(&b);
}

__attribute__((format(printf, 3, 4))) static dr_rep_verdict *add(verdicts *vs, const char *failure, const char *fmt, ...)
{
	if (vs->n == vs->cap) {
		vs->cap = vs->cap ? 2 * vs->cap : 8;
		vs->v = xrealloc(vs->v, vs->cap * sizeof *vs->v);
	}
	va_list ap;
	va_start(ap, fmt);
	char *name = vformat(fmt, ap);
	va_end(ap);
	vs->v[vs->n] = (dr_rep_verdict){.name = name, .ms = -1, .failure = failure ? xstrdup(failure) : NULL};
	return &vs->v[vs->n++];
}

/* v's check, named the same from run to run ("RTO (objective 30m)"); returns v. */
__attribute__((format(printf, 2, 3))) static dr_rep_verdict *named(dr_rep_verdict *v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	v->check = vformat(fmt, ap);
	va_end(ap);
	return v;
}

static void status_verdict(verdicts *vs, const cJSON *run)
{
	const char *status = dr_rep_str(run, "status") ? dr_rep_str(run, "status") : "unknown";
	const char *reason = dr_rep_str(run, "reason");
	dr_buf f;
	dr_buf_init(&f);
	dr_buf_printf(&f, "the run is %s%s%s", status, reason ? ": " : "", reason ? reason : "");
	named(add(vs, strcmp(status, "succeeded") == 0 ? NULL : f.data, "run %s", status), "run status");
	dr_buf_dispose(&f);
}

/* The RTO achieved is a time (JUnit's testcase time charts it run after run); an RPO is not: -1. */
static int64_t rto_ms(const char *what, int64_t got) { return strcmp(what, "RTO") ? -1 : got; }

/* "what A (objective B)" and, when missed, the failure sentence. */
static void objective_verdict(verdicts *vs, const char *what, const cJSON *o, const char *achieved_key)
{
	int64_t got = dr_rep_ms(o, achieved_key), want = dr_rep_ms(o, "objective_ms");
	char a[32], b[32];
	dr_rep_duration(got, a, sizeof a);
	dr_rep_duration(want, b, sizeof b);
	if (want < 0) {
		if (got >= 0)
			named(add(vs, NULL, "%s %s (no objective)", what, a), "%s (no objective)", what)->ms = rto_ms(what, got);
		return;
	}
	if (got < 0 && dr_rep_str(o, "not_measured")) { /* an RPO with nothing measured: not missed, not judged */
		dr_buf f;
		dr_buf_init(&f);
		dr_buf_printf(&f, "%s not measured: %s; not judged against the objective %s", what,
			      dr_rep_str(o, "not_measured"), b);
		named(add(vs, NULL, "%s not measured (objective %s)", what, b), "%s (objective %s)", what, b)->skipped =
			dr_buf_detach(&f);
		return;
	}
	if (got < 0 && dr_rep_str(o, "not_judged")) { /* an RTO a person stopped the run short of: not missed */
		dr_buf f;
		dr_buf_init(&f);
		dr_buf_printf(&f, "%s not reached: %s; not judged against the objective %s: %s", what,
			      dr_rep_str(o, "not_reached") ? dr_rep_str(o, "not_reached") : "recovery did not complete", b,
			      dr_rep_str(o, "not_judged"));
		named(add(vs, NULL, "%s not reached (objective %s)", what, b), "%s (objective %s)", what, b)->skipped =
			dr_buf_detach(&f);
		return;
	}
	if (got < 0 && dr_rep_bool(o, "met") != 0)
		return; /* nothing measured and no verdict (a report from before not_measured) */
	dr_buf f;
	dr_buf_init(&f);
	if (got < 0)
		dr_buf_printf(&f, "%s not reached: %s (objective %s)", what,
			      dr_rep_str(o, "not_reached") ? dr_rep_str(o, "not_reached") : "recovery did not complete", b);
	else
		dr_buf_printf(&f, "%s %s missed the objective %s", what, a, b);
	named(add(vs, dr_rep_bool(o, "met") == 1 ? NULL : f.data, "%s %s (objective %s)", what, got < 0 ? "not reached" : a, b),
	      "%s (objective %s)", what, b)->ms = rto_ms(what, got);
	dr_buf_dispose(&f);
}

#define NAMED_VMS 10 /* a missed per-VM RPO names at most this many VMs, the worst first */

/* A VM's RPO as the report states it: -1 when not measured (null). */
static int64_t ms_of(const dr_ri_rpo *vm) { return vm->rpo_ms >= 0 ? vm->rpo_ms : -1; }

/* The VMs over the objective, worst first: at most NAMED_VMS (a running selection: linear in the VMs). */
static size_t worst_missed(const dr_ri_objectives *o, const dr_ri_rpo **w, size_t *missed)
{
	size_t n = 0;
	*missed = 0;
	for (size_t i = 0; i < o->n_vms; i++) {
		const dr_ri_rpo *vm = &o->vms[i];
		if (vm->met != 0)
			continue;
		++*missed;
		size_t k = n < NAMED_VMS ? n++ : NAMED_VMS;
		if (k == NAMED_VMS && ms_of(vm) <= ms_of(w[NAMED_VMS - 1]))
			continue;
		for (k = k == NAMED_VMS ? NAMED_VMS - 1 : k; k > 0 && ms_of(w[k - 1]) < ms_of(vm); k--)
			w[k] = w[k - 1];
		w[k] = vm;
	}
	return n;
}

/*
 * One check for every VM's RPO (its name does not change with the estate, so a dashboard follows it run to
 * run): failed when a VM missed the objective, naming how many and the NAMED_VMS worst (every VM's RPO is in
 * the JSON report and drover status); absent when no VM was measured (the worst RPO's check says why). Its
 * size does not grow with the VMs.
 */
static void rpo_verdicts(verdicts *vs, const cJSON *rpo, const dr_ri_objectives *o, const char *run)
{
	int64_t want = dr_rep_ms(rpo, "objective_ms");
	if (want < 0)
		return;
	const dr_ri_rpo *w[NAMED_VMS];
	size_t missed, measured = o->n_vms;
	size_t named = worst_missed(o, w, &missed);
	if (!measured)
		return; /* the worst RPO's check says why nothing was measured */
	char b[32];
	dr_rep_duration(want, b, sizeof b);
	dr_rep_verdict *v = add(vs, NULL, "RPO of every VM (objective %s)", b);
	if (!missed)
		return;
	dr_buf f;
	dr_buf_init(&f);
	dr_buf_printf(&f, "%zu of %zu VMs missed the RPO objective %s:", missed, measured, b);
	for (size_t k = 0; k < named; k++) {
		char d[32];
		dr_rep_duration(ms_of(w[k]), d, sizeof d);
		dr_buf_printf(&f, "%s %s %s", k ? "," : "", w[k]->vm ? w[k]->vm : "?", d);
	}
	if (missed > named)
		dr_buf_printf(&f, " (the %zu worst; every VM's RPO: drover status %s)", named, run ? run : "RUN-ID");
	v->failure = dr_buf_detach(&f);
}

static void drill_verdict(verdicts *vs, const cJSON *drill)
{
	if (dr_rep_bool(drill, "verified") != 1)
		return;
	const char *status = dr_rep_str(drill, "status") ? dr_rep_str(drill, "status") : "unknown";
	dr_buf f;
	dr_buf_init(&f);
	if (strcmp(status, "leftovers") == 0) {
		dr_buf_printf(&f, "%d test VMs left behind:", cJSON_GetArraySize(dr_rep_obj(drill, "leftovers")));
		dr_report_dr_leftovers(&f, dr_rep_obj(drill, "leftovers"), "the JSON report names them all");
	} else {
		dr_buf_printf(&f, "the cleanup could not be verified: %s",
			      dr_rep_str(drill, "message") ? dr_rep_str(drill, "message") : status);
	}
	named(add(vs, strcmp(status, "clean") == 0 ? NULL : f.data, "drill cleanup %s", status), "drill cleanup");
	dr_buf_dispose(&f);
}

dr_rep_verdict *dr_rep_verdicts(const dr_rep *r, size_t *n)
{
	verdicts vs = {0};
	const cJSON *doc = r->doc;
	const cJSON *obj = dr_rep_obj(doc, "objectives");
	status_verdict(&vs, dr_rep_obj(doc, "run"));
	objective_verdict(&vs, "RTO", dr_rep_obj(obj, "rto"), "achieved_ms");
	objective_verdict(&vs, "worst RPO", dr_rep_obj(obj, "rpo"), "worst_ms");
	rpo_verdicts(&vs, dr_rep_obj(obj, "rpo"), &r->o, dr_rep_str(dr_rep_obj(doc, "run"), "id"));
	drill_verdict(&vs, dr_rep_obj(doc, "drill"));
	*n = vs.n;
	return vs.v;
}

void dr_rep_verdicts_dispose(dr_rep_verdict *v, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].check);
		free(v[i].failure);
		free(v[i].skipped);
	}
	free(v);
}

/* "; RTO 19m41s (objective 30m: met)", "; worst RPO not measured: no failover completed (objective 5m: not judged)". */
static void figure(dr_buf *out, const char *what, const cJSON *o, const char *key)
{
	char a[32], b[32];
	int64_t got = dr_rep_ms(o, key), want = dr_rep_ms(o, "objective_ms");
	const char *why = dr_rep_str(o, "not_measured"), *unjudged = dr_rep_str(o, "not_judged");
	dr_rep_duration(got, a, sizeof a);
	dr_rep_duration(want, b, sizeof b);
	dr_buf_printf(out, "; %s ", what);
	if (got >= 0)
		dr_buf_puts(out, a);
	else if (why)
		dr_buf_printf(out, "not measured: %s", why);
	else
		dr_buf_printf(out, "not reached%s%s", dr_rep_str(o, "not_reached") ? ": " : "",
			      dr_rep_str(o, "not_reached") ? dr_rep_str(o, "not_reached") : "");
	int met = dr_rep_bool(o, "met");
	if (want >= 0)
		dr_buf_printf(out, " (objective %s: %s%s%s)", b, met == 1 ? "met" : met == 0 ? "missed" : "not judged",
			      got < 0 && unjudged ? ", " : "", got < 0 && unjudged ? unjudged : "");
}

void dr_rep_headline(const cJSON *doc, dr_buf *out)
{
	const cJSON *obj = dr_rep_obj(doc, "objectives");
	dr_buf_puts(out, dr_rep_str(dr_rep_obj(doc, "run"), "status") ? dr_rep_str(dr_rep_obj(doc, "run"), "status")
								    : "unknown");
	if (dr_rep_bool(obj, "applies") != 1)
		return;
	figure(out, "RTO", dr_rep_obj(obj, "rto"), "achieved_ms");
	figure(out, "worst RPO", dr_rep_obj(obj, "rpo"), "worst_ms");
	if (dr_rep_bool(obj, "enforced") == 1) /* objectives.enforce held the run to them */
		dr_buf_printf(out, "; enforced (objectives.enforce: %s)%s", dr_rep_str(obj, "enforce"),
			      dr_rep_bool(obj, "fails_run") == 1 ? ": the run fails" : "");
}
