/*
 * run_metrics.c - how the last run went, as Prometheus metrics (report.h),
 * read off the report (its head and the model, report_int.h) so the
 * metrics say what the report says. Each
 * family is labelled runbook and mode; docs/scheduling.md lists them with
 * alert rules (a failed drill, a missed objective, a drill overdue).
 */
#include <math.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backends/backend.h"
#include "views/report.h"
#include "views/report_int.h"

typedef struct labels {
	const char *runbook, *mode;
} labels;

static void gauge(dr_metrics *m, const labels *l, const char *name, const char *help, double v)
{
	if (isnan(v))
		return; /* nothing measured: no sample (an alert on it stays quiet rather than firing on a guess) */
	dr_metrics_family(m, name, "gauge", help);
	dr_metrics_sample(m, name, (const char *[]){"runbook", l->runbook, "mode", l->mode, NULL}, v);
}

static double seconds(int64_t ms) { return ms >= 0 ? (double)ms / 1000 : NAN; }

/* Every status a run can have, so that status="succeeded" is 0 (not absent) after a failure. */
static void status_set(dr_metrics *m, const labels *l, const char *status)
{
	static const char *const all[] = {"succeeded", "failed", "rolled_back", "cancelled", "invalid",
					  "internal_error", "busy", "stale", "blocked", "interrupted", "suspended", "running"};
	const char *name = "drover_run_status";
	dr_metrics_family(m, name, "gauge", "1 for the last run's status, 0 for the others.");
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		dr_metrics_sample(m, name, (const char *[]){"runbook", l->runbook, "mode", l->mode, "status", all[i], NULL},
				  status && strcmp(status, all[i]) == 0);
}

static void per_vm_rpo(dr_metrics *m, const labels *l, const dr_ri_objectives *o)
{
	if (!o->n_vms)
		return;
	const char *name = "drover_run_vm_rpo_seconds";
	dr_metrics_family(m, name, "gauge", "Each VM's achieved RPO in the last run (failover time minus the point's time).");
	for (size_t i = 0; i < o->n_vms; i++)
		if (o->vms[i].rpo_ms >= 0)
			dr_metrics_sample(m, name, (const char *[]){"runbook", l->runbook, "mode", l->mode, "vm", o->vms[i].vm, NULL},
					  seconds(o->vms[i].rpo_ms));
}

static double failed_steps(const dr_runinfo *ri)
{
	double n = 0;
	for (size_t i = 0; i < ri->n_steps; i++)
		n += ri->steps[i].state == DR_RI_FAILED;
	return n;
}

static double end_time(const cJSON *run)
{
	int64_t start;
	const char *s = dr_rep_str(run, "started");
	if (!s || !dr_backend_parse_time(s, &start))
		return NAN;
	return (double)(start + (dr_rep_ms(run, "duration_ms") > 0 ? dr_rep_ms(run, "duration_ms") : 0)) / 1000;
}

void dr_report_metrics(const dr_runinfo *ri, dr_metrics *m)
{
	dr_buf unused;
	dr_buf_init(&unused);
	dr_rep r;
	dr_rep_open(&r, ri, &unused, -1); /* the head of the report: the lists are read off the model */
	const cJSON *doc = r.doc;
	const cJSON *run = dr_rep_obj(doc, "run"), *obj = dr_rep_obj(doc, "objectives");
	const cJSON *rto = dr_rep_obj(obj, "rto"), *rpo = dr_rep_obj(obj, "rpo"), *drill = dr_rep_obj(doc, "drill");
	labels l = {dr_rep_str(run, "runbook"), dr_rep_str(run, "mode")};
	int met = dr_rep_bool(obj, "met");
	gauge(m, &l, "drover_run_last_timestamp_seconds", "When the last run ended (Unix time; its last record).",
	      end_time(run));
	status_set(m, &l, dr_rep_str(run, "status"));
	gauge(m, &l, "drover_run_duration_seconds", "How long the last run took.", seconds(dr_rep_ms(run, "duration_ms")));
	gauge(m, &l, "drover_run_rto_seconds", "RTO achieved: run start to the last validation that passed.",
	      seconds(dr_rep_ms(rto, "achieved_ms")));
	gauge(m, &l, "drover_run_rto_objective_seconds", "objectives.rto of the runbook.", seconds(dr_rep_ms(rto, "objective_ms")));
	gauge(m, &l, "drover_run_rpo_worst_seconds", "The worst VM's RPO achieved.", seconds(dr_rep_ms(rpo, "worst_ms")));
	gauge(m, &l, "drover_run_rpo_objective_seconds", "objectives.rpo of the runbook.", seconds(dr_rep_ms(rpo, "objective_ms")));
	gauge(m, &l, "drover_run_objectives_met", "1 when every objective was met, 0 when one was missed.",
	      met < 0 ? NAN : met);
	gauge(m, &l, "drover_run_steps_failed", "Steps that failed in the last run.", failed_steps(ri));
	if (dr_rep_bool(drill, "verified") == 1)
		gauge(m, &l, "drover_run_drill_leftovers", "Test VMs a drill left behind (0: the cleanup was verified clean).",
		      cJSON_GetArraySize(dr_rep_obj(drill, "leftovers")));
	per_vm_rpo(m, &l, &r.o);
	dr_rep_close(&r);
	dr_buf_dispose(&unused);
}
