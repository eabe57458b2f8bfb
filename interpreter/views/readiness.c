/*
 * readiness.c - `drover plan --metrics FILE`: is the plan runnable now, and
 * how close is each VM to not being? Read off the plan view (planview.h),
 * which already holds every fact, so the metrics and `drover plan` never
 * disagree. Scheduled every few minutes, these let an alert fire before a
 * disaster: a point older than max_age, replication not healthy, a blocker.
 *
 * Linear in VMs and blockers: blockers are counted per VM through a sorted
 * list of their VM names, not a scan per VM.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/text.h"
#include "util/xalloc.h"
#include "views/metrics.h"

typedef struct labels {
	const char *runbook, *mode;
} labels;

static void gauge(dr_metrics *m, const char *name, const char *help, const labels *l, double v)
{
	dr_metrics_family(m, name, "gauge", help);
	dr_metrics_sample(m, name, (const char *[]){"runbook", l->runbook, "mode", l->mode, NULL}, v);
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* The VM names the blockers name, sorted (heap; the strings are the view's). */
static const char **blocker_vms(const cJSON *blockers, size_t *n_out)
{
	const char **v = xcalloc((size_t)cJSON_GetArraySize(blockers) + 1, sizeof *v);
	size_t n = 0;
	const cJSON *b;
	cJSON_ArrayForEach(b, blockers)
		if (str(b, "vm"))
			v[n++] = str(b, "vm");
	qsort(v, n, sizeof *v, cmp_str);
	*n_out = n;
	return v;
}

/* How many times name occurs in the sorted list. */
static size_t count_of(const char **sorted, size_t n, const char *name)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(sorted[mid], name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	size_t k = lo;
	while (k < n && strcmp(sorted[k], name) == 0)
		k++;
	return k - lo;
}

/* One per-VM family: HELP/TYPE, then a sample per VM from get (NaN: no sample). */
typedef double (*vm_value)(const cJSON *vm, const char **extra_name, const char **extra_value, void *ctx);

static void vm_family(dr_metrics *m, const labels *l, const cJSON *vms, const char *name, const char *help,
		      vm_value get, void *ctx)
{
	dr_metrics_family(m, name, "gauge", help);
	const cJSON *vm;
	cJSON_ArrayForEach(vm, vms)
	{
		const char *xn = NULL, *xv = NULL;
		double v = get(vm, &xn, &xv, ctx);
		if (!isnan(v))
			dr_metrics_sample(m, name,
					  (const char *[]){"runbook", l->runbook, "mode", l->mode, "vm", str(vm, "name"),
							   xn, xv, NULL},
					  v);
	}
}

static const cJSON *point(const cJSON *vm) { return cJSON_GetObjectItemCaseSensitive(vm, "recovery_point"); }

static double age_s(const cJSON *vm, const char **xn, const char **xv, void *ctx)
{
	(void)xn, (void)xv, (void)ctx;
	const cJSON *age = cJSON_GetObjectItemCaseSensitive(point(vm), "age_ms");
	return cJSON_IsNumber(age) ? age->valuedouble / 1000 : NAN;
}

static double max_age_s(const cJSON *vm, const char **xn, const char **xv, void *ctx)
{
	(void)xn, (void)xv, (void)ctx;
	int64_t ms;
	const char *s = str(point(vm), "max_age");
	return s && dr_text_parse_duration(s, &ms, NULL) ? (double)ms / 1000 : NAN;
}

static double point_ok(const cJSON *vm, const char **xn, const char **xv, void *ctx)
{
	(void)ctx;
	const char *verdict = str(point(vm), "verdict");
	if (!verdict)
		return NAN; /* no failover of this VM in the plan, or refused before it */
	*xn = "verdict";
	*xv = verdict;
	return strcmp(verdict, "ok") == 0 || strcmp(verdict, "at_run_time") == 0;
}

static double health(const cJSON *vm, const char **xn, const char **xv, void *ctx)
{
	(void)ctx;
	*xn = "health";
	*xv = str(vm, "replication_health");
	return *xv && strcmp(*xv, "Normal") == 0;
}

static double state(const cJSON *vm, const char **xn, const char **xv, void *ctx)
{
	(void)ctx;
	*xn = "state";
	*xv = str(vm, "state");
	return 1;
}

typedef struct sorted_names {
	const char **v;
	size_t n;
} sorted_names;

static double vm_blockers(const cJSON *vm, const char **xn, const char **xv, void *ctx)
{
	(void)xn, (void)xv;
	const sorted_names *b = ctx;
	const char *name = str(vm, "name");
	return name ? (double)count_of(b->v, b->n, name) : 0;
}

static void per_vm(dr_metrics *m, const labels *l, const cJSON *view)
{
	const cJSON *vms = cJSON_GetObjectItemCaseSensitive(view, "vms");
	sorted_names b;
	b.v = blocker_vms(cJSON_GetObjectItemCaseSensitive(view, "blockers"), &b.n);
	vm_family(m, l, vms, "drover_readiness_vm_blockers", "What blocks the plan on this VM (0: nothing).",
		  vm_blockers, &b);
	vm_family(m, l, vms, "drover_readiness_vm_recovery_point_age_seconds",
		  "Age of the recovery point the runbook's policy would pick for this VM now.", age_s, NULL);
	vm_family(m, l, vms, "drover_readiness_vm_recovery_point_max_age_seconds",
		  "The runbook's recovery.max_age (the RPO guard) for this VM's point.", max_age_s, NULL);
	vm_family(m, l, vms, "drover_readiness_vm_recovery_point_ok",
		  "1 when the point the policy would pick passes the RPO guard; verdict says why not.", point_ok, NULL);
	vm_family(m, l, vms, "drover_readiness_vm_replication_healthy",
		  "1 when the service reports the VM's replication health as Normal.", health, NULL);
	vm_family(m, l, vms, "drover_readiness_vm_state", "The VM's protection state now (always 1; see state).",
		  state, NULL);
	free(b.v);
}

void dr_metrics_add_readiness(dr_metrics *m, const char *runbook, const char *mode, const cJSON *view,
			      int64_t checked_ms)
{
	labels l = {runbook, mode};
	gauge(m, "drover_readiness_check_ok", "1 when drover could read the backend and build the plan.", &l, view != NULL);
	gauge(m, "drover_readiness_checked_timestamp_seconds", "When the plan was checked (Unix time).", &l,
	      (double)checked_ms / 1000);
	if (!view)
		return;
	gauge(m, "drover_readiness_runnable", "1 when the plan has no blockers: a run would start.", &l,
	      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(view, "runnable")));
	gauge(m, "drover_readiness_blockers", "Blockers of the plan (drover plan lists them).", &l,
	      cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(view, "blockers")));
	gauge(m, "drover_readiness_vms", "VMs the plan binds.", &l,
	      cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(view, "vms")));
	per_vm(m, &l, view);
}
