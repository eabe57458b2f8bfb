/*
 * runinfo_objectives.c - what a run achieved against its objectives, from
 * the run model's tasks (docs/execution.md, "Objectives"):
 *
 *   RTO  run start to the last validation that passed; with no validation,
 *        to the end of the last failover as the service's job times say
 *        (outputs.ended_at), so an operation that ended while drover was
 *        down counts when it ended, not when a resume learnt of it. Not
 *        reached when a failover did not complete or a validation failed.
 *   RPO  per VM, of the newest recovery point set (the last successful
 *        failover, test failover, change of recovery point or fallback):
 *        the job's start minus the point's time (outputs.rpo_ms).
 *
 * Times are on the run's clock, across every session, so a run that was
 * cancelled and resumed reports what an uninterrupted run would have.
 */
#include "journal/runinfo.h"

#include <stdlib.h>
#include <string.h>

#include "actions/action.h"
#include "util/xalloc.h"

#define FAILOVERS (DR_AF_FAILOVER | DR_AF_TEST_FAILOVER)

static bool main_step(const dr_ri_step *s)
{
	return !s->phase && !s->undoes;
}

static bool sets_point(const dr_ri_step *s)
{
	return (s->flags & FAILOVERS) || (s->action && !strcmp(s->action, "dr.change_recovery_point"));
}

/* When the service says the task's job ended, on the run's clock; else when the task ended. */
static int64_t job_end(const dr_ri_task *t)
{
	return t->job_ended_ms >= 0 ? t->job_ended_ms : t->ended_ms;
}

typedef struct rto_scan {
	int64_t val, fo; /* the last validation passed, the last failover ended */
	const dr_ri_task *vt, *ft;
	const dr_ri_task *vfail, *vcancel, *ffail; /* the first validation that failed, was cancelled; failover that failed */
	bool failed, recovered, undone;
} rto_scan;

static void rto_task(const dr_ri_step *s, const dr_ri_task *t, rto_scan *r)
{
	bool ok = t->state == DR_RI_SUCCEEDED; /* a rolled-back failover recovered nothing */
	if ((s->flags & DR_AF_VALIDATION) && ok && t->ended_ms > r->val)
		r->val = t->ended_ms, r->vt = t;
	if ((s->flags & DR_AF_VALIDATION) && (t->state == DR_RI_FAILED || t->state == DR_RI_CANCELLED)) {
		const dr_ri_task **first = t->state == DR_RI_FAILED ? &r->vfail : &r->vcancel;
		r->failed = true;
		if (!*first || (first == &r->vcancel && !dr_runinfo_last_attempt(*first) && dr_runinfo_last_attempt(t)))
			*first = t; /* the first; of the cancelled, the first that had started */
	}
	r->undone = r->undone || ((s->flags & FAILOVERS) && t->state == DR_RI_ROLLED_BACK);
	if ((s->flags & FAILOVERS) && t->state == DR_RI_FAILED && !r->ffail)
		r->ffail = t;
	if ((s->flags & FAILOVERS) && ok) {
		int64_t end = job_end(t);
		r->recovered = true;
		if (end > r->fo)
			r->fo = end, r->ft = t;
	}
}

static int verdict(int64_t achieved, int64_t objective)
{
	return achieved < 0 || objective < 0 ? -1 : achieved <= objective;
}

/*
 * Why recovery was not reached: a validation failed, a failover failed, no failover completed (or every one was
 * rolled back), a validation was cancelled; "" while it may yet be.
 */
static void unreached(const dr_runinfo *ri, const rto_scan *r, dr_ri_objectives *o)
{
	char label[512];
	if (r->vfail)
		snprintf(o->rto_unreached, sizeof o->rto_unreached, "validation %s failed",
			 dr_runinfo_task_label(ri, r->vfail, label, sizeof label));
	else if (r->ffail)
		snprintf(o->rto_unreached, sizeof o->rto_unreached, "%s %s failed",
			 r->ffail->flags & DR_AF_TEST_FAILOVER ? "test failover" : "failover",
			 dr_runinfo_task_label(ri, r->ffail, label, sizeof label));
	else if (!r->recovered && (ri->ended || ri->cancelled || ri->timed_out)) /* nothing more will fail over */
		snprintf(o->rto_unreached, sizeof o->rto_unreached, "%s",
			 r->undone ? "the failovers were rolled back" : "no failover completed");
	else if (r->vcancel && dr_runinfo_last_attempt(r->vcancel))
		snprintf(o->rto_unreached, sizeof o->rto_unreached, "validation %s was cancelled",
			 dr_runinfo_task_label(ri, r->vcancel, label, sizeof label));
	else if (r->vcancel) /* cancelled before it started: the run was stopped before it validated */
		snprintf(o->rto_unreached, sizeof o->rto_unreached, "the run was cancelled before validation %s started",
			 dr_runinfo_task_label(ri, r->vcancel, label, sizeof label));
}

static void rto(const dr_runinfo *ri, dr_ri_objectives *o)
{
	rto_scan r = {.val = -1, .fo = -1};
	for (size_t i = 0; i < ri->n_tasks; i++) {
		const dr_ri_step *s = &ri->steps[ri->tasks[i].step];
		o->recovers = o->recovers || (main_step(s) && (s->flags & FAILOVERS));
		if (main_step(s))
			rto_task(s, &ri->tasks[i], &r);
	}
	for (size_t i = 0; i < ri->n_steps; i++) /* declared steps that have no task yet */
		o->recovers = o->recovers || (main_step(&ri->steps[i]) && (ri->steps[i].flags & FAILOVERS));
	const dr_ri_task *by = r.val >= 0 ? r.vt : r.ft;
	o->rto_ms = !r.recovered || r.failed ? -1 : r.val >= 0 ? r.val : r.fo;
	if (o->rto_ms >= 0 && by) {
		o->rto_measured_to = r.val >= 0 ? "validation" : "failover";
		dr_runinfo_task_label(ri, by, o->rto_task, sizeof o->rto_task);
	}
	if (o->rto_ms < 0)
		unreached(ri, &r, o);
	if (o->rto_ms < 0 && ri->cancelled)
		o->rto_unjudged = "the run was cancelled";
	o->rto_objective_ms = ri->rto_objective_ms;
	o->rto_met = verdict(o->rto_ms, o->rto_objective_ms);
}

/* The point a task set: its fallback's when one was applied (it came later), else its own. */
static const dr_ri_point *point_set(const dr_ri_step *s, const dr_ri_task *t)
{
	if (t->fallback.set)
		return &t->fallback;
	return sets_point(s) && t->state == DR_RI_SUCCEEDED && t->point.set ? &t->point : NULL;
}

/* The newest point set on VM v: the task that set it last, or NULL. */
static const dr_ri_task *newest_point(const dr_runinfo *ri, const dr_ri_vm *v)
{
	const dr_ri_task *best = NULL;
	for (size_t k = 0; k < v->n_tasks; k++) {
		const dr_ri_task *t = &ri->tasks[v->tasks[k]];
		const dr_ri_step *s = &ri->steps[t->step];
		if (main_step(s) && point_set(s, t) && (!best || t->seq > best->seq))
			best = t;
	}
	return best;
}

/* A task of VM v that set a point was rolled back. */
static bool rolled_back(const dr_runinfo *ri, const dr_ri_vm *v)
{
	for (size_t k = 0; k < v->n_tasks; k++) {
		const dr_ri_task *t = &ri->tasks[v->tasks[k]];
		if (t->state == DR_RI_ROLLED_BACK && main_step(&ri->steps[t->step]) && sets_point(&ri->steps[t->step]))
			return true;
	}
	return false;
}

static void rpo(const dr_runinfo *ri, dr_ri_objectives *o)
{
	o->vms = xcalloc(ri->n_vms + 1, sizeof *o->vms);
	o->rpo_ms = -1;
	bool untimed = false, undone = false; /* a point set whose time the service did not give; one rolled back */
	for (size_t v = 0; v < ri->n_vms; v++) {
		undone = undone || rolled_back(ri, &ri->vms[v]);
		const dr_ri_task *t = newest_point(ri, &ri->vms[v]);
		const dr_ri_point *p = t ? point_set(&ri->steps[t->step], t) : NULL;
		untimed = untimed || (p && p->rpo_ms < 0);
		if (!p || p->rpo_ms < 0)
			continue;
		dr_ri_rpo *r = &o->vms[o->n_vms++];
		*r = (dr_ri_rpo){.vm = ri->vms[v].name, .rpo_ms = p->rpo_ms, .point = p->name, .point_time = p->time,
				 .policy = p->policy, .step = ri->steps[t->step].id};
		r->met = verdict(r->rpo_ms, ri->rpo_objective_ms);
		o->rpo_ms = r->rpo_ms > o->rpo_ms ? r->rpo_ms : o->rpo_ms;
	}
	if (o->rpo_ms < 0)
		o->rpo_unmeasured = untimed ? "the service did not give the recovery point's time"
				    : undone ? "the failovers were rolled back"
					     : "no failover completed";
	o->rpo_objective_ms = ri->rpo_objective_ms;
	o->rpo_met = verdict(o->rpo_ms, o->rpo_objective_ms);
}

/* objectives.enforce: always; drill (the default) in a drill; never, or a journal from before it was recorded. */
static bool enforced(const dr_runinfo *ri)
{
	if (!ri->enforce)
		return false;
	return !strcmp(ri->enforce, "always") || (!strcmp(ri->enforce, "drill") && ri->mode && !strcmp(ri->mode, "drill"));
}

bool dr_ri_objectives_missed(const dr_ri_objectives *o)
{
	bool unreached = o->recovers && o->rto_ms < 0 && o->rto_objective_ms >= 0 && !o->rto_unjudged;
	return o->rto_met == 0 || o->rpo_met == 0 || unreached;
}

void dr_runinfo_objectives(const dr_runinfo *ri, dr_ri_objectives *o)
{
	*o = (dr_ri_objectives){.rto_ms = -1, .rpo_ms = -1};
	rto(ri, o);
	rpo(ri, o);
	o->enforced = enforced(ri);
	o->applies = ri->rto_objective_ms >= 0 || ri->rpo_objective_ms >= 0;
	for (size_t i = 0; i < ri->n_steps && !o->applies; i++)
		o->applies = main_step(&ri->steps[i]) && sets_point(&ri->steps[i]);
}

void dr_ri_objectives_dispose(dr_ri_objectives *o)
{
	free(o->vms);
	o->vms = NULL;
	o->n_vms = 0;
}
