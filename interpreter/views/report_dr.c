/*
 * report_dr.c - what a run achieved against its objectives, and a drill's
 * last check: is any test VM left?
 *
 * At the end of every run (after finally:, before its status is decided):
 *
 *   - a drill asks the backend for items of the run's VMs still in a test
 *     failover (a test VM exists, or cleanup is pending or running) and
 *     emits drill.verify; any such VM fails the run, loudly, by name;
 *   - the run emits run.objectives: the RTO achieved (run start to the last
 *     validation that passed; with no validation, to the last failover) and
 *     the RPO achieved per VM (from the outputs of the VM's last successful
 *     dr.failover, dr.test_failover, dr.change_recovery_point or recovery
 *     point fallback: rpo_ms, the point's id and time), each against
 *     objectives.rto / objectives.rpo.
 *
 * The summary prints the same figures (report_dr_print).
 */
#include "views/report_dr.h"

#include "run/exec_int.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backends/backend.h"
#include "util/text.h"
#include "util/xalloc.h"

struct drreport {
	cJSON *objectives; /* the run.objectives event's fields */
	bool verified; /* a drill's verification ran */
	long n_left; /* test VMs left (-1: the backend could not say) */
	cJSON *left; /* [{vm, state, test_vm_id}] */
	char *verify_error;
};

static struct drreport *rep(dr_exec *x)
{
	if (!x->report)
		x->report = xcalloc(1, sizeof *x->report);
	return x->report;
}

/* --- a drill's verification --------------------------------------------------- */

/* The names of the VMs the run's tasks targeted. */
static const char **run_vms(dr_exec *x, size_t *n_out)
{
	unsigned char *seen = dr_arena_calloc(x->a, x->n_vms + 1, 1);
	const char **v = dr_arena_calloc(x->a, x->n_vms + 1, sizeof *v);
	size_t n = 0;
	for (size_t i = 0; i < x->n_main + x->n_fin; i++) {
		const srun *s = i < x->n_main ? &x->main[i] : &x->fin[i - x->n_main];
		for (size_t k = 0; k < s->n_tasks; k++)
			if (s->tasks[k].vm != NO_VM && !seen[s->tasks[k].vm]++)
				v[n++] = x->vms[s->tasks[k].vm].name;
	}
	*n_out = n;
	return v;
}

static void verify_drill(dr_exec *x)
{
	struct drreport *r = rep(x);
	dr_backend *be = dr_exec_backend(x);
	size_t n = 0;
	const char **names = run_vms(x, &n);
	dr_drill_leftover *left = NULL;
	dr_be_error e;
	dr_arena *a = dr_arena_new();
	r->verified = true;
	r->n_left = !be ? -1 : n ? dr_modes_verify_drill(be, a, dr_exec_wall(x, dr_clock_now(x->clock)), names, n, &left, &e) : 0;
	cJSON *ev = dr_event_new(x->ev, "drill.verify");
	r->left = cJSON_CreateArray();
	for (long i = 0; i < r->n_left; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "vm", left[i].vm);
		cJSON_AddStringToObject(o, "state", left[i].state);
		if (left[i].test_vm_id)
			cJSON_AddStringToObject(o, "test_vm_id", left[i].test_vm_id);
		cJSON_AddItemToArray(r->left, o);
	}
	if (r->n_left < 0)
		r->verify_error = xstrdup(be ? dr_backend_error_text(a, &e) : "the run has no backend");
	cJSON_AddStringToObject(ev, "status", r->n_left == 0 ? "clean" : r->n_left > 0 ? "leftovers" : "error");
	cJSON_AddNumberToObject(ev, "vms", (double)n);
	cJSON_AddItemToObject(ev, "leftovers", cJSON_Duplicate(r->left, true));
	if (r->verify_error)
		cJSON_AddStringToObject(ev, "message", r->verify_error);
	dr_events_emit(x->ev, ev);
	dr_arena_free(a);
}

/* --- objectives ----------------------------------------------------------------- */

static bool has_flag(const srun *s, unsigned f)
{
	return s->act && (s->act->flags & f);
}

static bool sets_point(const srun *s)
{
	return has_flag(s, DR_AF_FAILOVER | DR_AF_TEST_FAILOVER) ||
	       (s->act && strcmp(s->act->name, "dr.change_recovery_point") == 0);
}

typedef struct point_rec {
	const cJSON *outputs;
	uint64_t seq;
	const char *step;
} point_rec;

/* Each VM's newest point: the last successful task that set one (a fallback's change included). */
static point_rec *vm_points(dr_exec *x)
{
	point_rec *p = dr_arena_calloc(x->a, x->n_vms + 1, sizeof *p);
	for (size_t i = 0; i < x->n_main; i++) {
		const srun *s = &x->main[i];
		for (size_t k = 0; k < s->n_tasks; k++) {
			const task *t = &s->tasks[k];
			uint64_t seq = 0;
			const cJSON *fb = fallback_point(t, &seq);
			if (fb && t->vm != NO_VM && seq > p[t->vm].seq)
				p[t->vm] = (point_rec){fb, seq, s->id};
			if (t->vm != NO_VM && sets_point(s) && t->state == TS_SUCCEEDED && t->done_seq > p[t->vm].seq)
				p[t->vm] = (point_rec){t->outputs, t->done_seq, s->id};
		}
	}
	return p;
}

static void add_ms(cJSON *o, const char *key, int64_t ms)
{
	if (ms < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, (double)ms);
}

static void add_met(cJSON *o, const char *key, int64_t achieved, int64_t objective)
{
	if (achieved < 0 || objective < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddBoolToObject(o, key, achieved <= objective);
}

static int64_t rpo_section(dr_exec *x, cJSON *o)
{
	point_rec *p = vm_points(x);
	cJSON *vms = cJSON_AddArrayToObject(o, "vms");
	int64_t worst = -1;
	for (size_t v = 0; v < x->n_vms; v++) {
		const cJSON *rpo = p[v].outputs ? cJSON_GetObjectItemCaseSensitive(p[v].outputs, "rpo_ms") : NULL;
		if (!cJSON_IsNumber(rpo))
			continue;
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "vm", x->vms[v].name);
		cJSON_AddNumberToObject(e, "rpo_ms", rpo->valuedouble);
		const cJSON *pt = cJSON_GetObjectItemCaseSensitive(p[v].outputs, "recovery_point");
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(pt, "name");
		const cJSON *tm = cJSON_GetObjectItemCaseSensitive(pt, "time");
		const cJSON *pol = cJSON_GetObjectItemCaseSensitive(pt, "policy");
		if (cJSON_IsString(id))
			cJSON_AddStringToObject(e, "point", id->valuestring);
		if (cJSON_IsString(tm))
			cJSON_AddStringToObject(e, "point_time", tm->valuestring);
		if (cJSON_IsString(pol))
			cJSON_AddStringToObject(e, "policy", pol->valuestring);
		cJSON_AddStringToObject(e, "step", p[v].step);
		cJSON_AddItemToArray(vms, e);
		if ((int64_t)rpo->valuedouble > worst)
			worst = (int64_t)rpo->valuedouble;
	}
	return worst;
}

/* RTO: the end of the last validation that passed (else of the last failover); -1 when recovery never got there. */
static int64_t rto_of(dr_exec *x, const char **to, const char **label)
{
	int64_t val = -1, fo = -1;
	bool failed = false, recovered = false;
	const char *vl = NULL, *fl = NULL;
	for (size_t i = 0; i < x->n_main; i++) {
		const srun *s = &x->main[i];
		for (size_t k = 0; k < s->n_tasks; k++) {
			const task *t = &s->tasks[k];
			bool ok = t->state == TS_SUCCEEDED; /* a rolled-back failover recovered nothing */
			if (has_flag(s, DR_AF_VALIDATION) && ok && t->ended_at > val)
				val = t->ended_at, vl = t->label;
			if (has_flag(s, DR_AF_VALIDATION) && (t->state == TS_FAILED || t->state == TS_CANCELLED))
				failed = true;
			if (has_flag(s, DR_AF_FAILOVER | DR_AF_TEST_FAILOVER) && ok) {
				recovered = true;
				if (t->ended_at > fo)
					fo = t->ended_at, fl = t->label;
			}
		}
	}
	*to = val >= 0 ? "validation" : "failover";
	*label = val >= 0 ? vl : fl;
	return !recovered || failed ? -1 : val >= 0 ? val : fo;
}

static void objectives(dr_exec *x)
{
	struct drreport *r = rep(x);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "mode", dr_mode_name(x->o.mode));
	cJSON_AddStringToObject(o, "direction", dr_mode_direction_name(x->o.direction));
	const char *to = NULL, *label = NULL;
	int64_t rto = rto_of(x, &to, &label);
	bool recovers = false; /* the run fails VMs over: an RTO means something */
	for (size_t i = 0; i < x->n_main; i++)
		recovers = recovers || has_flag(&x->main[i], DR_AF_FAILOVER | DR_AF_TEST_FAILOVER);
	cJSON_AddBoolToObject(o, "recovers", recovers);
	add_ms(o, "rto_ms", rto);
	add_ms(o, "rto_objective_ms", x->rb->rto_ms);
	add_met(o, "rto_met", rto, x->rb->rto_ms);
	if (rto >= 0) {
		cJSON_AddStringToObject(o, "rto_measured_to", to);
		cJSON_AddStringToObject(o, "rto_task", label ? label : "");
	}
	int64_t worst = rpo_section(x, o);
	add_ms(o, "rpo_ms", worst);
	add_ms(o, "rpo_objective_ms", x->rb->rpo_ms);
	add_met(o, "rpo_met", worst, x->rb->rpo_ms);
	cJSON *ev = dr_event_new(x->ev, "run.objectives");
	for (cJSON *it = o->child; it; it = it->next)
		cJSON_AddItemToObject(ev, it->string, cJSON_Duplicate(it, true));
	dr_events_emit(x->ev, ev);
	r->objectives = o;
}

/* Whether the run has anything to report: objectives, or a step that sets VMs' recovery points. */
static bool has_dr(const dr_exec *x)
{
	if (x->rb->rto_ms >= 0 || x->rb->rpo_ms >= 0)
		return true;
	for (size_t i = 0; i < x->n_main; i++)
		if (sets_point(&x->main[i]))
			return true;
	return false;
}

void report_dr_finish(dr_exec *x)
{
	if (!x->main)
		return;
	if (x->o.mode == DR_MODE_DRILL)
		verify_drill(x);
	if (has_dr(x))
		objectives(x);
}

bool report_dr_failed(const dr_exec *x)
{
	return x->report && x->report->verified && x->report->n_left != 0;
}

/* --- the summary ------------------------------------------------------------------ */

void dr_report_dr_duration(int64_t ms, char *out, size_t n)
{
	if (ms < 0)
		snprintf(out, n, "none");
	else
		dr_text_format_duration(ms >= 10000 ? (ms + 500) / 1000 * 1000 : ms, out, n);
}

static void print_figure(FILE *out, const cJSON *o, const char *what, const char *key)
{
	char k1[48], k2[48], a[32], b[32];
	snprintf(k1, sizeof k1, "%s_ms", key);
	snprintf(k2, sizeof k2, "%s_objective_ms", key);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k1), *obj = cJSON_GetObjectItemCaseSensitive(o, k2);
	dr_report_dr_duration(cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1, a, sizeof a);
	dr_report_dr_duration(cJSON_IsNumber(obj) ? (int64_t)obj->valuedouble : -1, b, sizeof b);
	fprintf(out, "  %s %s", what, cJSON_IsNumber(v) ? a : !strcmp(key, "rpo") ? "none (no failover completed)" : "not reached");
	if (cJSON_IsNumber(obj))
		fprintf(out, " (objective %s: %s)", b,
			!cJSON_IsNumber(v) ? "MISSED" : v->valuedouble <= obj->valuedouble ? "met" : "MISSED");
}

static void print_rpo_vms(FILE *out, const cJSON *vms)
{
	const cJSON *e;
	int shown = 0, n = cJSON_GetArraySize(vms);
	cJSON_ArrayForEach(e, vms)
	{
		char d[32];
		dr_report_dr_duration((int64_t)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(e, "rpo_ms")), d, sizeof d);
		fprintf(out, "%s%s %s", shown ? ", " : "; per VM: ",
			cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "vm")), d);
		if (++shown == 8 && n > 8) {
			fprintf(out, ", ... (%d more in run.objectives)", n - 8);
			break;
		}
	}
}

static void print_drill(const struct drreport *r, FILE *out)
{
	if (!r->verified)
		return;
	if (r->n_left == 0) {
		fputs("  drill: no test VM is left (verified with the backend)\n", out);
		return;
	}
	if (r->n_left < 0) {
		fprintf(out, "  DRILL NOT VERIFIED: the backend could not say whether test VMs are left: %s\n",
			r->verify_error ? r->verify_error : "?");
		return;
	}
	fprintf(out, "  DRILL LEFT %ld TEST VM%s BEHIND:", r->n_left, r->n_left == 1 ? "" : "S");
	const cJSON *e;
	cJSON_ArrayForEach(e, r->left) fprintf(out, " %s (%s)", cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "vm")),
					       cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "state")));
	fputs("\n    clean them up now: drover run a runbook with dr.test_cleanup of these VMs, or the service's "
	      "Cleanup test failover\n",
	      out);
}

void report_dr_print(dr_exec *x, FILE *out)
{
	struct drreport *r = x->report;
	if (!r || !r->objectives)
		return;
	const cJSON *o = r->objectives;
	print_drill(r, out);
	bool any_rpo = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "vms")) > 0;
	bool any_rto = cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, "rto_ms"));
	if (!any_rpo && !any_rto && x->rb->rto_ms < 0 && x->rb->rpo_ms < 0)
		return;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "recovers"))) {
		print_figure(out, o, "RTO", "rto");
		fputc('\n', out);
	}
	print_figure(out, o, "RPO worst", "rpo");
	print_rpo_vms(out, cJSON_GetObjectItemCaseSensitive(o, "vms"));
	fputc('\n', out);
}

void report_dr_dispose(dr_exec *x)
{
	if (!x->report)
		return;
	cJSON_Delete(x->report->objectives);
	cJSON_Delete(x->report->left);
	free(x->report->verify_error);
	free(x->report);
	x->report = NULL;
}

/* --- lines on the screen -------------------------------------------------------------- */

static const char *sv(const cJSON *ev, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static void line_figure(dr_buf *b, const cJSON *ev, const char *what, const char *key)
{
	char k1[40], k2[40], a[32], o[32];
	snprintf(k1, sizeof k1, "%s_ms", key);
	snprintf(k2, sizeof k2, "%s_objective_ms", key);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, k1), *obj = cJSON_GetObjectItemCaseSensitive(ev, k2);
	dr_report_dr_duration(cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1, a, sizeof a);
	dr_report_dr_duration(cJSON_IsNumber(obj) ? (int64_t)obj->valuedouble : -1, o, sizeof o);
	dr_buf_printf(b, "%s %s", what, cJSON_IsNumber(v) ? a : !strcmp(key, "rpo") ? "none (no failover completed)" : "not reached");
	if (cJSON_IsNumber(obj))
		dr_buf_printf(b, " (objective %s: %s)", o,
			      cJSON_IsNumber(v) && v->valuedouble <= obj->valuedouble ? "met" : "MISSED");
}

static void line_drill(dr_buf *b, const cJSON *ev)
{
	const char *st = sv(ev, "status");
	if (!strcmp(st, "clean")) {
		dr_buf_puts(b, "drill verified: no test VM is left");
		return;
	}
	if (!strcmp(st, "error")) {
		dr_buf_printf(b, "DRILL NOT VERIFIED: %s", sv(ev, "message"));
		return;
	}
	const cJSON *e, *left = cJSON_GetObjectItemCaseSensitive(ev, "leftovers");
	dr_buf_printf(b, "DRILL LEFT %d TEST VM(S) BEHIND:", cJSON_GetArraySize(left));
	cJSON_ArrayForEach(e, left) dr_buf_printf(b, " %s (%s)", sv(e, "vm"), sv(e, "state"));
}

static void line_fallback(dr_buf *b, const cJSON *ev, const char *type)
{
	dr_buf_printf(b, "%s[%s]: ", sv(ev, "step"), sv(ev, "target"));
	if (!strcmp(type, "fallback.start"))
		dr_buf_printf(b, "validation failed (%s); applying fallback recovery point %s", sv(ev, "after"),
			      sv(ev, "point"));
	else if (!strcmp(type, "fallback.pass"))
		dr_buf_printf(b, "fallback recovery point %s passed over: %s", sv(ev, "point"), sv(ev, "reason"));
	else if (!strcmp(sv(ev, "status"), "applied"))
		dr_buf_printf(b, "fallback recovery point %s applied; validating again", sv(ev, "point"));
	else
		dr_buf_printf(b, "fallback recovery point %s failed: %s", sv(ev, "point"), sv(ev, "message"));
}

bool report_dr_line(dr_buf *b, const cJSON *ev, const char *type)
{
	if (!strcmp(type, "run.objectives")) {
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "recovers"))) {
			line_figure(b, ev, "objectives: RTO", "rto");
			line_figure(b, ev, ", RPO worst", "rpo");
		} else {
			line_figure(b, ev, "objectives: RPO worst", "rpo");
		}
	} else if (!strcmp(type, "drill.verify")) {
		line_drill(b, ev);
	} else if (!strncmp(type, "fallback.", 9)) {
		line_fallback(b, ev, type);
	} else {
		return false;
	}
	return true;
}
