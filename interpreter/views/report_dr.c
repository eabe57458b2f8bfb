/*
 * report_dr.c - what a run achieved against its objectives, and a drill's
 * last check: is any test VM left?
 *
 * At the end of every run (after finally:, before its status is decided)
 * the executor calls dr_report_dr_finish, which:
 *
 *   - for a drill, asks the backend for items of the run's VMs still in a
 *     test failover (a test VM exists, or cleanup is pending or running)
 *     and emits drill.verify; any such VM fails the run, loudly, by name;
 *   - emits run.objectives: the RTO and the worst RPO that the run model
 *     computes (dr_runinfo_objectives), each against objectives.rto /
 *     objectives.rpo, with how many VMs were measured and over the
 *     objective and the worst few by name (its size does not grow with the
 *     estate: every VM's RPO is in the task events).
 *
 * Everything is read from the run model (journal/runinfo.h), which the
 * events feed, so the summary (dr_report_dr_print), `drover status` and
 * reports state the same figures live and from the journal.
 */
#include "views/report_dr.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backends/backend.h"
#include "journal/runinfo.h"
#include "run/events.h"
#include "run/modes.h"
#include "util/arena.h"
#include "util/text.h"

#define INLINE_VMS 8 /* more VMs than this: the per-VM RPO list gets lines of its own */
#define WORST_VMS 10 /* run.objectives names the VMs of the worst RPOs, at most this many; so does a long summary */
#define LISTED_VMS 24 /* more VMs than this: the summary names the WORST_VMS worst, not every VM */
#define WRAP 100

/* --- a drill's verification --------------------------------------------------- */

static void verify_drill(const dr_runinfo *ri, dr_events *ev, dr_backend *be, int64_t wall_now)
{
	dr_arena *a = dr_arena_new();
	const char **names = dr_arena_calloc(a, ri->n_vms + 1, sizeof *names);
	for (size_t v = 0; v < ri->n_vms; v++)
		names[v] = ri->vms[v].name;
	dr_drill_leftover *left = NULL;
	dr_be_error e;
	long n_left = !be ? -1 : ri->n_vms ? dr_modes_verify_drill(be, a, wall_now, names, ri->n_vms, &left, &e) : 0;
	cJSON *o = dr_event_new(ev, "drill.verify");
	cJSON_AddStringToObject(o, "status", n_left == 0 ? "clean" : n_left > 0 ? "leftovers" : "error");
	cJSON_AddNumberToObject(o, "vms", (double)ri->n_vms);
	cJSON *l = cJSON_AddArrayToObject(o, "leftovers");
	for (long i = 0; i < n_left; i++) {
		cJSON *it = cJSON_CreateObject();
		cJSON_AddStringToObject(it, "vm", left[i].vm);
		cJSON_AddStringToObject(it, "state", left[i].state);
		if (left[i].test_vm_id)
			cJSON_AddStringToObject(it, "test_vm_id", left[i].test_vm_id);
		cJSON_AddItemToArray(l, it);
	}
	if (n_left < 0)
		cJSON_AddStringToObject(o, "message", be ? dr_backend_error_text(a, &e) : "the run has no backend");
	dr_events_emit(ev, o);
	dr_arena_free(a);
}

/* --- objectives ----------------------------------------------------------------- */

static void add_ms(cJSON *o, const char *key, int64_t ms)
{
	if (ms < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddNumberToObject(o, key, (double)ms);
}

static void add_met(cJSON *o, const char *key, int met)
{
	if (met < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddBoolToObject(o, key, met);
}

static void add_str(cJSON *o, const char *key, const char *s)
{
	if (s)
		cJSON_AddStringToObject(o, key, s);
}

/* Of the k worst RPOs kept in w[0..*n) (worst first), where VM i goes: its place, or k when it is not among them. */
static size_t place(const dr_ri_objectives *o, const size_t *w, size_t n, size_t i)
{
	size_t at = n;
	while (at > 0 && o->vms[w[at - 1]].rpo_ms < o->vms[i].rpo_ms)
		at--;
	return at;
}

/* The WORST_VMS VMs of the worst RPO, worst first (of equal ones, the first in vms[]), into w; how many. */
static size_t worst_vms(const dr_ri_objectives *o, size_t w[WORST_VMS])
{
	size_t n = 0;
	for (size_t i = 0; i < o->n_vms; i++) { /* one pass, each VM placed among at most WORST_VMS: linear */
		size_t at = place(o, w, n, i);
		if (at == WORST_VMS)
			continue;
		n += n < WORST_VMS;
		memmove(&w[at + 1], &w[at], (n - 1 - at) * sizeof *w);
		w[at] = i;
	}
	return n;
}

/*
 * The RPO per VM in proportion to what a reader of the event needs: how
 * many VMs were measured and how many were over the objective, and the
 * worst WORST_VMS by name (every VM's RPO is in its task's events, which
 * status and the reports read), where run.objectives once listed every VM.
 */
static void add_vms(cJSON *ev, const dr_ri_objectives *o)
{
	size_t w[WORST_VMS], over = 0;
	for (size_t i = 0; i < o->n_vms; i++)
		over += o->vms[i].met == 0;
	cJSON_AddNumberToObject(ev, "rpo_vms", (double)o->n_vms);
	cJSON_AddNumberToObject(ev, "rpo_over", (double)over);
	cJSON *vms = cJSON_AddArrayToObject(ev, "rpo_worst");
	for (size_t k = 0, n = worst_vms(o, w); k < n; k++) {
		const dr_ri_rpo *r = &o->vms[w[k]];
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "vm", r->vm);
		cJSON_AddNumberToObject(e, "rpo_ms", (double)r->rpo_ms);
		add_str(e, "point", r->point);
		add_str(e, "point_time", r->point_time);
		add_str(e, "policy", r->policy);
		add_str(e, "step", r->step);
		cJSON_AddItemToArray(vms, e);
	}
}

static void emit_objectives(const dr_runinfo *ri, const dr_ri_objectives *o, dr_events *events)
{
	cJSON *ev = dr_event_new(events, "run.objectives");
	add_str(ev, "mode", ri->mode);
	add_str(ev, "direction", ri->direction);
	cJSON_AddBoolToObject(ev, "recovers", o->recovers);
	add_ms(ev, "rto_ms", o->rto_ms);
	add_ms(ev, "rto_objective_ms", o->rto_objective_ms);
	add_met(ev, "rto_met", o->rto_met);
	if (o->rto_ms >= 0) {
		cJSON_AddStringToObject(ev, "rto_measured_to", o->rto_measured_to);
		cJSON_AddStringToObject(ev, "rto_task", o->rto_task);
	} else if (o->rto_unreached[0]) {
		cJSON_AddStringToObject(ev, "rto_not_reached", o->rto_unreached);
	}
	add_str(ev, "rto_not_judged", o->rto_unjudged);
	add_vms(ev, o);
	add_ms(ev, "rpo_ms", o->rpo_ms);
	add_ms(ev, "rpo_objective_ms", o->rpo_objective_ms);
	add_met(ev, "rpo_met", o->rpo_met);
	add_str(ev, "rpo_not_measured", o->rpo_unmeasured);
	add_str(ev, "enforce", ri->enforce);
	cJSON_AddBoolToObject(ev, "enforced", o->enforced);
	/* a cancelled run is not judged: it stopped short of its objectives because someone stopped it */
	cJSON_AddBoolToObject(ev, "fails_run", o->enforced && dr_ri_objectives_missed(o) && !ri->cancelled);
	dr_events_emit(events, ev);
}

void dr_report_dr_finish(dr_runinfo *ri, dr_events *ev, dr_backend *be, int64_t wall_now, bool drill)
{
	if (drill)
		verify_drill(ri, ev, be, wall_now);
	dr_ri_objectives o;
	dr_runinfo_objectives(ri, &o);
	if (o.applies)
		emit_objectives(ri, &o, ev);
	dr_ri_objectives_dispose(&o);
}

bool dr_report_dr_failed(const dr_runinfo *ri)
{
	return ri->drill.verified && ri->drill.status && strcmp(ri->drill.status, "clean") != 0;
}

/* --- the summary ------------------------------------------------------------------ */

void dr_report_dr_duration(int64_t ms, char *out, size_t n)
{
	if (ms < 0)
		snprintf(out, n, "none");
	else
		dr_text_human_duration(ms, out, n);
}

const char *dr_report_dr_verdict(int met) { return met > 0 ? "met" : met == 0 ? "MISSED" : "not judged"; }

/*
 * "RTO 27m55s (objective 30m: met)"; "RTO not reached: validation app-up[web-1] failed (objective 30m: MISSED)":
 * an RTO not reached is missed, unless a person stopped the run ("... (objective 30m: not judged, the run was
 * cancelled)": unjudged, why); "RPO worst not measured: no failover completed (objective 5m: not judged)": an
 * RPO not measured (unmeasured: why) is not judged, as objectives.enforce judges them.
 */
static void figure(dr_buf *b, const char *what, int64_t ms, int64_t objective, const char *unreached,
		   const char *unmeasured, const char *unjudged)
{
	char a[32], o[32];
	dr_report_dr_duration(ms, a, sizeof a);
	dr_report_dr_duration(objective, o, sizeof o);
	int met = ms >= 0 ? ms <= objective : unmeasured || unjudged ? -1 : 0;
	if (ms >= 0)
		dr_buf_printf(b, "%s %s", what, a);
	else if (unmeasured)
		dr_buf_printf(b, "%s not measured: %s", what, unmeasured);
	else
		dr_buf_printf(b, "%s not reached%s%s", what, unreached && *unreached ? ": " : "", unreached ? unreached : "");
	if (objective >= 0)
		dr_buf_printf(b, " (objective %s: %s%s%s)", o, dr_report_dr_verdict(met), ms < 0 && unjudged ? ", " : "",
			      ms < 0 && unjudged ? unjudged : "");
}

/* The VMs at w[0..n) (indexes into o->vms), wrapped on lines of their own when wrap; "!" marks one over the objective. */
static void vm_list(dr_buf *b, const dr_ri_objectives *o, const size_t *w, size_t n, bool wrap)
{
	size_t col = WRAP;
	for (size_t k = 0; k < n; k++) {
		const dr_ri_rpo *r = &o->vms[w ? w[k] : k];
		char d[32];
		dr_report_dr_duration(r->rpo_ms, d, sizeof d);
		size_t need = strlen(r->vm) + strlen(d) + 4;
		if (wrap && col + need > WRAP) {
			dr_buf_puts(b, k ? ",\n    " : "\n    ");
			col = 4;
		} else if (k) {
			dr_buf_puts(b, ", ");
		}
		dr_buf_printf(b, "%s %s%s", r->vm, d, r->met == 0 ? "!" : "");
		col += need;
	}
}

/*
 * Every VM's RPO, inline for a few, else wrapped on lines of their own; beyond LISTED_VMS, the WORST_VMS worst
 * and how many are over the objective (drover status lists every VM), so a large estate's summary stays short.
 */
static void rpo_vms(dr_buf *b, const dr_runinfo *ri, const dr_ri_objectives *o)
{
	size_t w[WORST_VMS], over = 0;
	if (o->n_vms <= LISTED_VMS) {
		dr_buf_puts(b, o->n_vms > INLINE_VMS ? "; per VM:" : "; per VM: ");
		vm_list(b, o, NULL, o->n_vms, o->n_vms > INLINE_VMS);
	} else {
		dr_buf_printf(b, "; the %d worst of %zu VMs:", WORST_VMS, o->n_vms);
		vm_list(b, o, w, worst_vms(o, w), true);
	}
	for (size_t i = 0; i < o->n_vms; i++)
		over += o->vms[i].met == 0;
	if (over)
		dr_buf_printf(b, "\n    (!: over the RPO objective: %zu VM%s)", over, over == 1 ? "" : "s");
	if (o->n_vms > LISTED_VMS) {
		dr_buf c;
		dr_buf_init(&c);
		dr_buf_printf(b, "\n    (every VM's RPO: %s)", dr_journal_command(&c, "status", ri->state_dir, ri->run));
		dr_buf_dispose(&c);
	}
}

static void print_drill(const dr_ri_drill *d, FILE *out)
{
	if (!d->verified)
		return;
	if (!strcmp(d->status, "clean")) {
		fputs("  drill: no test VM is left (verified with the backend)\n", out);
		return;
	}
	if (!strcmp(d->status, "error")) {
		fprintf(out, "  DRILL NOT VERIFIED: the backend could not say whether test VMs are left: %s\n",
			d->message ? d->message : "?");
		return;
	}
	int n = cJSON_GetArraySize(d->leftovers);
	dr_buf b;
	dr_buf_init(&b);
	dr_report_dr_leftovers(&b, d->leftovers, "drover report names them all");
	fprintf(out, "  DRILL LEFT %d TEST VM%s BEHIND:%s", n, n == 1 ? "" : "S", b.data);
	dr_buf_dispose(&b);
	fputs("\n    clean them up now: drover run a runbook with dr.test_cleanup of these VMs, or the service's "
	      "Cleanup test failover\n",
	      out);
}

void dr_report_dr_leftovers(dr_buf *b, const cJSON *leftovers, const char *more)
{
	const cJSON *e;
	int k = 0, n = cJSON_GetArraySize(leftovers);
	cJSON_ArrayForEach(e, leftovers)
	{
		if (k++ == WORST_VMS)
			break;
		const char *vm = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "vm"));
		const char *st = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "state"));
		dr_buf_printf(b, " %s (%s)", vm ? vm : "?", st ? st : "?");
	}
	if (n > WORST_VMS)
		dr_buf_printf(b, " ... and %d more (%s)", n - WORST_VMS, more);
}

const char *dr_report_dr_drill_left(dr_buf *b, const dr_runinfo *ri)
{
	const dr_ri_drill *d = &ri->drill;
	if (!d->verified)
		return "whether its test VMs are cleaned up is not known (the drill stopped before it checked): look for "
		       "test failovers of its VMs in the service";
	if (!strcmp(d->status, "clean"))
		return "its test VMs are cleaned up (verified with the backend)";
	if (!strcmp(d->status, "error"))
		return "whether its test VMs are cleaned up is not known (the backend could not say): look for test "
		       "failovers of its VMs in the service";
	int n = cJSON_GetArraySize(d->leftovers);
	dr_buf_printf(b, "%d test VM%s %s left behind (named above%s)", n, n == 1 ? "" : "s", n == 1 ? "is" : "are",
		      n > WORST_VMS ? ", the first 10; drover report names them all" : "");
	return b->data;
}

/* "a drill", "a failover", "a failback": the run's mode for people. */
static const char *a_mode(const char *mode)
{
	return !mode ? "this run" : !strcmp(mode, "drill") ? "a drill" : !strcmp(mode, "failback") ? "a failback" : "a failover";
}

bool dr_report_dr_enforcement(dr_buf *b, const dr_runinfo *ri, const dr_ri_objectives *o)
{
	const char *e = ri->enforce ? ri->enforce : "never";
	bool missed = dr_ri_objectives_missed(o);
	if (o->rto_objective_ms < 0 && o->rpo_objective_ms < 0)
		return false;
	if (o->enforced && (missed || o->rto_unjudged) && ri->cancelled)
		dr_buf_printf(b, "enforced (objectives.enforce: %s): not judged, the run was cancelled", e);
	else if (o->enforced)
		dr_buf_printf(b, "enforced (objectives.enforce: %s): %s", e, missed ? "missed, so the run fails" : "met");
	else if (missed)
		dr_buf_printf(b, "not enforced in %s (objectives.enforce: %s): the miss is reported, the exit status is the "
				 "run's own",
			      a_mode(ri->mode), e);
	return o->enforced || missed;
}

void dr_report_dr_print(const dr_runinfo *ri, FILE *out)
{
	print_drill(&ri->drill, out);
	dr_ri_objectives o;
	dr_runinfo_objectives(ri, &o);
	bool any = o.n_vms > 0 || o.rto_ms >= 0 || o.rto_objective_ms >= 0 || o.rpo_objective_ms >= 0;
	if (o.applies && any) {
		dr_buf b;
		dr_buf_init(&b);
		if (o.recovers) {
			figure(&b, "  RTO", o.rto_ms, o.rto_objective_ms, o.rto_unreached, NULL, o.rto_unjudged);
			dr_buf_putc(&b, '\n');
		}
		figure(&b, "  RPO worst", o.rpo_ms, o.rpo_objective_ms, NULL,
		       o.rpo_unmeasured ? o.rpo_unmeasured : "no failover completed", NULL);
		if (o.n_vms)
			rpo_vms(&b, ri, &o);
		dr_buf_putc(&b, '\n');
		fputs(b.data, out);
		dr_buf_reset(&b);
		if (dr_report_dr_enforcement(&b, ri, &o))
			fprintf(out, "  objectives %s\n", b.data);
		dr_buf_dispose(&b);
	}
	dr_ri_objectives_dispose(&o);
}

/* --- lines on the screen -------------------------------------------------------------- */

static const char *sv(const cJSON *ev, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static int64_t nv(const cJSON *ev, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, k);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
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
	const cJSON *left = cJSON_GetObjectItemCaseSensitive(ev, "leftovers");
	dr_buf_printf(b, "DRILL LEFT %d TEST VM(S) BEHIND:", cJSON_GetArraySize(left));
	dr_report_dr_leftovers(b, left, "the event names them all");
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

/* The run.objectives line's verdict of objectives.enforce: what dr_report_dr_print says, from the event alone. */
static void line_enforce(dr_buf *b, const cJSON *ev)
{
	bool enforced = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "enforced"));
	bool missed = cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(ev, "rto_met")) ||
		      cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(ev, "rpo_met"));
	const char *e = sv(ev, "enforce");
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "fails_run")))
		dr_buf_printf(b, "; enforced (objectives.enforce: %s): the run fails", e);
	else if (enforced && (nv(ev, "rto_objective_ms") >= 0 || nv(ev, "rpo_objective_ms") >= 0))
		dr_buf_printf(b, "; enforced (objectives.enforce: %s)", e);
	else if (missed)
		dr_buf_printf(b, "; not enforced in %s (objectives.enforce: %s)", a_mode(sv(ev, "mode")), *e ? e : "never");
}

bool dr_report_dr_line(dr_buf *b, const cJSON *ev, const char *type)
{
	if (!strcmp(type, "run.objectives")) {
		bool rec = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "recovers"));
		if (rec) {
			const char *unjudged = sv(ev, "rto_not_judged"); /* absent from journals before it was recorded */
			figure(b, "objectives: RTO", nv(ev, "rto_ms"), nv(ev, "rto_objective_ms"), sv(ev, "rto_not_reached"), NULL,
			       *unjudged ? unjudged : NULL);
			dr_buf_puts(b, ", ");
		}
		const char *why = sv(ev, "rpo_not_measured"); /* absent from journals before it was recorded */
		figure(b, rec ? "RPO worst" : "objectives: RPO worst", nv(ev, "rpo_ms"), nv(ev, "rpo_objective_ms"), NULL,
		       *why ? why : "no failover completed", NULL);
		line_enforce(b, ev);
	} else if (!strcmp(type, "drill.verify")) {
		line_drill(b, ev);
	} else if (!strncmp(type, "fallback.", 9)) {
		line_fallback(b, ev, type);
	} else {
		return false;
	}
	return true;
}
