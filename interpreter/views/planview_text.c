/*
 * planview_text.c - `drover plan`'s text format, drawn from the view
 * object planview.c builds (so the text and JSON formats cannot disagree);
 * plan's own view is made without its sets, VMs and operations, whose rows
 * are printed from the preflight the same way (test_modes compares the two).
 *
 *   plan shop-failover: failover, primary-to-recovery, sim backend, at 2026-01-01T00:00:00Z
 *     recovery point: latest-processed, max_age 1h, fallback: latest-app-consistent
 *     objectives: RTO 30m, RPO 15m
 *
 *   VM sets
 *     db   2 VMs, expects exactly 2: shop-db-1, shop-db-2
 *   VMs
 *     shop-db-1   protected  Primary  latest-processed 2026-...Z CrashConsistent  age 4m   ok
 *   Operations, in order (the steps of one wave may run at the same time)
 *     1  wave 1  shutdown-source  dr.shutdown  6 VMs (db, app, web)
 *   Irreversible
 *   Blockers
 */
#include "views/planview.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "actions/action.h"
#include "front/plan.h"
#include "run/retry.h"
#include "util/text.h"
#include "views/lines.h"

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const char *or(const char *s, const char *dflt)
{
	return s ? s : dflt;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static void print_list(FILE *out, const cJSON *arr, const char *sep)
{
	const cJSON *it;
	bool first = true;
	cJSON_ArrayForEach(it, arr)
	{
		fprintf(out, "%s%s", first ? "" : sep, cJSON_IsString(it) ? it->valuestring : "?");
		first = false;
	}
}

static void print_header(const cJSON *v, FILE *out)
{
	fprintf(out, "plan %s: %s, %s, %s backend, at %s\n", or(str(v, "runbook"), "?"), str(v, "mode"),
		str(v, "direction"), str(v, "backend"), str(v, "at"));
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(v, "recovery");
	fprintf(out, "  recovery point: %s", or(str(r, "point"), "latest"));
	if (str(r, "max_age"))
		fprintf(out, ", max_age %s", str(r, "max_age"));
	const cJSON *fb = cJSON_GetObjectItemCaseSensitive(r, "fallback");
	if (cJSON_GetArraySize(fb) > 0) {
		fputs(", fallback: ", out);
		print_list(out, fb, ", ");
	}
	if (str(r, "override"))
		fprintf(out, "; --recovery-point %s: every failover uses it instead (no fallback; max_age still applies)",
			str(r, "override"));
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(v, "objectives");
	fprintf(out, "\n  objectives: RTO %s, RPO %s\n", or(str(o, "rto"), "none"), or(str(o, "rpo"), "none"));
}

static void row_sets(const dr_preflight *pf, FILE *out);

static void print_sets(const cJSON *v, const dr_planview_vms *vms, FILE *out)
{
	const cJSON *s;
	fputs("\nVM sets\n", out);
	if (vms) {
		row_sets(dr_planview_vms_preflight(vms), out);
		return;
	}
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(v, "vm_sets"))
	{
		const cJSON *members = cJSON_GetObjectItemCaseSensitive(s, "vms");
		int n = cJSON_GetArraySize(members);
		fprintf(out, "  %-12s %d VM%s", str(s, "name"), n, n == 1 ? "" : "s");
		if (str(s, "expect"))
			fprintf(out, ", expects %s", str(s, "expect"));
		fputs(n ? ": " : "", out);
		print_list(out, members, ", ");
		fputc('\n', out);
	}
}

static void print_point(const cJSON *p, FILE *out)
{
	const char *verdict = or(str(p, "verdict"), "?");
	if (!strcmp(verdict, "at_run_time")) {
		fprintf(out, "  point chosen at run time (%s)", or(str(p, "note"), ""));
		return;
	}
	if (!strcmp(verdict, "no_policy")) {
		fprintf(out, "  NO POINT (%s; see Blockers)", or(str(p, "note"), ""));
		return;
	}
	if (!strcmp(verdict, "not_replicating")) {
		fprintf(out, "  %s: none (not replicating)", or(str(p, "policy"), "?"));
		return;
	}
	fprintf(out, "  %s", or(str(p, "policy"), "?"));
	if (str(p, "time"))
		fprintf(out, " %s %s, age %s", str(p, "time"), or(str(p, "type"), "(pending data)"), or(str(p, "age"), "?"));
	if (str(p, "fallback_from"))
		fprintf(out, " (fallback: %s is too old)", str(p, "fallback_from"));
	if (!strcmp(verdict, "ok"))
		fprintf(out, "  ok%s%s%s", str(p, "max_age") ? " (max_age " : "", or(str(p, "max_age"), ""),
			str(p, "max_age") ? ")" : "");
	else
		fprintf(out, "  %s", !strcmp(verdict, "too_old") ? "TOO OLD" : "NONE");
	if (num(p, "undated_points") > 0)
		fprintf(out, " (%s)", or(str(p, "note"), ""));
}

/* The first operation of a VM's walk the service would refuse (not tolerated): what blocks it; NULL when none. */
static const cJSON *refused_op(const cJSON *m)
{
	const cJSON *op;
	cJSON_ArrayForEach(op, cJSON_GetObjectItemCaseSensitive(m, "operations"))
		if (str(op, "refused") && !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(op, "tolerated")))
			return op;
	return NULL;
}

static void print_vm(const cJSON *m, FILE *out)
{
	fprintf(out, "  %-14s %-13s %-9s", str(m, "name"), str(m, "state"), str(m, "active"));
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(m, "recovery_point");
	if (p)
		print_point(p, out);
	else if (str(m, "ends_in"))
		fputs("  (not failed over by this plan)", out);
	if (str(m, "running_job"))
		fputs("  a job is running on it", out);
	const cJSON *blocked = refused_op(m); /* its column would say nothing, or too little */
	if (blocked)
		fprintf(out, "  BLOCKED: step '%s' would be refused: %s", or(str(blocked, "step"), "?"), str(blocked, "refused"));
	fputc('\n', out);
}

/* --- a VM's row drawn from the preflight itself (plan's text: its view is made without "vms") --- */

/* s as the terminal may show it: s itself, or an escaped copy kept in *keep (freed by the caller). */
static const char *term(const char *s, char **keep)
{
	if (!s || !dr_text_needs_escape(s))
		return s;
	free(*keep);
	*keep = dr_text_term(s);
	return *keep;
}

/*
 * A VM's row is gathered here and written with one fwrite: the 10,000 rows
 * of a big plan cost 40,000 fprintf calls. Texts longer than the room are
 * written through (a row's order is kept).
 */
typedef struct row {
	FILE *out;
	size_t n;
	char b[256];
} row;

static void row_flush(row *r)
{
	fwrite(r->b, 1, r->n, r->out);
	r->n = 0;
}

/* s (NULL as printf's %s writes it) and spaces up to width bytes, as %-Ns. */
static void row_put(row *r, const char *s, size_t width)
{
	s = s ? s : "(null)";
	size_t n = strlen(s), pad = n < width ? width - n : 0;
	if (r->n + n + pad > sizeof r->b) {
		row_flush(r);
		if (n + pad > sizeof r->b) {
			fputs(s, r->out);
			n = 0;
		}
	}
	memcpy(r->b + r->n, s, n);
	memset(r->b + r->n + n, ' ', pad);
	r->n += n + pad;
}

#define ROW(r, ...)                                                                             \
	do {                                                                                    \
		const char *const parts_[] = {__VA_ARGS__};                                   \
		for (size_t i_ = 0; i_ < sizeof parts_ / sizeof *parts_; i_++)                  \
			row_put(r, parts_[i_], 0);                                              \
	} while (0)

/* What print_point prints from the view's recovery_point, from the preflight's point (vm_object's fields). */
static void row_point(const dr_pf_point *pt, row *r)
{
	char *kept = NULL;
	if (pt->verdict == DR_PF_POINT_AT_RUN_TIME || pt->verdict == DR_PF_POINT_NO_POLICY) {
		const char *note = or(term(pt->note, &kept), "");
		if (pt->verdict == DR_PF_POINT_NO_POLICY)
			ROW(r, "  NO POINT (", note, "; see Blockers)");
		else
			ROW(r, "  point chosen at run time (", note, ")");
		free(kept);
		return;
	}
	const char *policy = dr_point_policy_name(pt->policy);
	if (pt->verdict == DR_PF_POINT_NOT_REPLICATING) {
		ROW(r, "  ", policy, ": none (not replicating)");
		return;
	}
	ROW(r, "  ", policy);
	if (pt->verdict == DR_PF_POINT_OK || pt->verdict == DR_PF_POINT_TOO_OLD) {
		char t[40], age[32];
		dr_backend_format_time(pt->time_ms, t, sizeof t);
		if (pt->age_ms >= 0)
			dr_text_human_duration(pt->age_ms, age, sizeof age);
		ROW(r, " ", t, " ", pt->point ? dr_backend_point_type_name(pt->point->type) : "(pending data)", ", age ",
		    pt->age_ms >= 0 ? age : "?");
	}
	if (pt->fell_back)
		ROW(r, " (fallback: ", dr_point_policy_name(pt->asked), " is too old)");
	if (pt->verdict == DR_PF_POINT_OK && pt->max_age_ms >= 0) {
		char max[32];
		dr_text_human_duration(pt->max_age_ms, max, sizeof max);
		ROW(r, "  ok (max_age ", max, ")");
	} else {
		ROW(r, pt->verdict == DR_PF_POINT_OK ? "  ok" : pt->verdict == DR_PF_POINT_TOO_OLD ? "  TOO OLD" : "  NONE");
	}
	if (pt->undated)
		ROW(r, " (", pt->note, ")");
}

/* The first operation of the VM's walk the service would refuse (not tolerated); NULL when none. */
static const dr_pf_op *row_refused(const dr_preflight *pf, size_t vm)
{
	size_t k = pf->vm[vm].refused_op;
	return k != DR_PF_NO_VM ? &pf->ops[k] : NULL;
}

/* print_vm of the object vm_object would make for inventory VM vm. */
static void print_row(const dr_preflight *pf, size_t vm, FILE *out)
{
	const dr_be_item *it = &pf->items[vm];
	char *kept = NULL;
	row r = {.out = out};
	row_put(&r, "  ", 0);
	row_put(&r, term(it->name, &kept), 14);
	row_put(&r, " ", 0);
	row_put(&r, dr_backend_state_name(it->state), 13);
	row_put(&r, " ", 0);
	row_put(&r, dr_backend_location_name(it->active_location), 9);
	if (pf->vm[vm].point.verdict != DR_PF_NO_POINT)
		row_point(&pf->vm[vm].point, &r);
	else if (pf->vm[vm].walked)
		ROW(&r, "  (not failed over by this plan)");
	if (it->current_job_id)
		ROW(&r, "  a job is running on it");
	const dr_pf_op *blocked = row_refused(pf, vm);
	if (blocked) {
		ROW(&r, "  BLOCKED: step '", term(pf->plan->nodes[blocked->node].step->id.name, &kept), "' would be refused: ");
		ROW(&r, term(blocked->refused, &kept));
	}
	ROW(&r, "\n");
	row_flush(&r);
	free(kept);
}

/* print_sets' rows of the objects add_sets would make, from the binding. */
static void row_sets(const dr_preflight *pf, FILE *out)
{
	const dr_binding *b = &pf->bind;
	char *kept = NULL, buf[64];
	for (size_t s = 0; s < b->n_sets; s++) {
		const dr_vm_set *set = &pf->rb->vm_sets[s];
		int n = (int)b->n_members[s];
		fprintf(out, "  %-12s %d VM%s", term(set->name.name, &kept), n, n == 1 ? "" : "s");
		const char *want = dr_planview_expectation(set, buf, sizeof buf);
		if (want)
			fprintf(out, ", expects %s", want);
		fputs(n ? ": " : "", out);
		for (size_t k = 0; k < b->n_members[s]; k++) {
			fputs(k ? ", " : "", out);
			fputs(term(pf->vms[b->members[s][k]].name, &kept), out);
		}
		fputc('\n', out);
	}
	free(kept);
}

/* From the preflight (vms), each row is printed from what the preflight holds: no VM is made an object. */
static void print_vms(const cJSON *v, const dr_planview_vms *vms, FILE *out)
{
	fputs("\nVMs (state, active side, recovery point)\n", out);
	if (vms) {
		const dr_preflight *pf = dr_planview_vms_preflight(vms);
		for (size_t i = 0; i < pf->n; i++)
			if (pf->vm[i].in_plan)
				print_row(pf, i, out);
		return;
	}
	const cJSON *m;
	cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(v, "vms")) print_vm(m, out);
}

/* "  retry: built-in (5 attempts on throttled)": the policy the runbook does not show; a declared one it does. */
static void print_retry(const cJSON *r, FILE *out)
{
	if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, "builtin")))
		return;
	fprintf(out, "  retry: built-in (%d attempts on ", (int)num(r, "attempts"));
	print_list(out, cJSON_GetObjectItemCaseSensitive(r, "on"), ", ");
	fputc(')', out);
}

static void print_op(const cJSON *o, FILE *out)
{
	char where[24];
	if (!strcmp(or(str(o, "phase"), ""), "finally"))
		snprintf(where, sizeof where, "finally");
	else
		snprintf(where, sizeof where, "wave %d", (int)num(o, "wave"));
	fprintf(out, "  %2d  %-8s %-22s %-24s", (int)num(o, "order"), where, str(o, "step"), str(o, "action"));
	if (cJSON_HasObjectItem(o, "vms")) {
		fprintf(out, " %d VM%s (", (int)num(o, "vms"), num(o, "vms") == 1 ? "" : "s");
		print_list(out, cJSON_GetObjectItemCaseSensitive(o, "targets"), ", ");
		fputc(')', out);
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "conditional")))
		fputs(" [when:]", out);
	print_retry(cJSON_GetObjectItemCaseSensitive(o, "retry"), out);
	if (str(o, "skipped"))
		fprintf(out, "  SKIPPED: %s", str(o, "skipped"));
	else if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "irreversible")))
		fputs("  IRREVERSIBLE", out);
	fputc('\n', out);
}

/* --- the operations drawn from the plan and the preflight (plan's text: its view is made without them) --- */

/* print_retry of the retry object op_object would make for st. */
static void row_retry(const dr_runbook *rb, const dr_step *st, FILE *out, char **kept)
{
	bool builtin;
	const dr_retry *r = dr_retry_of_step(rb, st, &builtin);
	if (!builtin)
		return;
	fprintf(out, "  retry: built-in (%d attempts on ", (int)r->attempts);
	const char *names[4];
	size_t n = dr_planview_retry_classes(r->on, names);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%s%s", i ? ", " : "", names[i]);
	for (size_t i = 0; i < r->n_on_match; i++)
		fprintf(out, "%s%s", i + n ? ", " : "", term(r->on_match[i].source, kept));
	fputc(')', out);
}

/* Whether plan node i is irreversible in the view (its action's flag) and, in a drill, why it is skipped. */
static bool irreversible(const dr_plan_node *pn)
{
	return pn->step->action && (pn->step->action->flags & DR_AF_IRREVERSIBLE);
}

static const char *skipped(dr_run_mode mode, const dr_runbook *rb, size_t node)
{
	const char *why = NULL;
	return mode == DR_MODE_DRILL && dr_modes_skips(rb, node, &why) ? why : NULL;
}

/* print_op of the object op_object would make for plan node `node`, k-th in order. */
static void row_op(const dr_preflight *pf, dr_run_mode mode, size_t node, size_t k, FILE *out)
{
	const dr_plan_node *pn = &pf->plan->nodes[node];
	const dr_step *st = pn->step;
	char where[24], *kept = NULL;
	if (node >= pf->plan->n_main)
		snprintf(where, sizeof where, "finally");
	else
		snprintf(where, sizeof where, "wave %d", (int)pn->level + 1);
	fprintf(out, "  %2d  %-8s %-22s ", (int)k, where, term(st->id.name, &kept));
	fprintf(out, "%-24s", term(st->action ? st->action->name : st->action_name.name, &kept));
	if (st->n_targets) {
		fprintf(out, " %d VM%s (", (int)pf->n_step_vms[node], pf->n_step_vms[node] == 1 ? "" : "s");
		for (size_t i = 0; i < st->n_targets; i++)
			fprintf(out, "%s%s", i ? ", " : "", term(st->targets[i].name, &kept));
		fputc(')', out);
	}
	if (st->when)
		fputs(" [when:]", out);
	row_retry(pf->rb, st, out, &kept);
	const char *why = skipped(mode, pf->rb, node);
	if (why)
		fprintf(out, "  SKIPPED: %s", term(why, &kept));
	else if (irreversible(pn))
		fputs("  IRREVERSIBLE", out);
	fputc('\n', out);
	free(kept);
}

static void print_ops(const cJSON *v, const dr_planview_vms *vms, FILE *out)
{
	const cJSON *o;
	fputs("\nOperations, in order (the steps of one wave may run at the same time)\n", out);
	if (vms) {
		const dr_preflight *pf = dr_planview_vms_preflight(vms);
		for (size_t k = 0; k < pf->plan->n; k++)
			row_op(pf, dr_planview_vms_mode(vms), pf->order[k], k + 1, out);
		return;
	}
	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(v, "operations")) print_op(o, out);
}

/* print_irreversible's lines of the entries add_operations would make. */
static void row_irreversible(const dr_preflight *pf, dr_run_mode mode, FILE *out)
{
	bool any = false;
	char *kept = NULL;
	for (size_t k = 0; k < pf->plan->n; k++) {
		size_t node = pf->order[k];
		if (!irreversible(&pf->plan->nodes[node]) || skipped(mode, pf->rb, node))
			continue;
		fputs(any ? "" : "\nIrreversible\n", out);
		any = true;
		fprintf(out, "  %s (%d VMs): %s\n", term(pf->plan->nodes[node].step->id.name, &kept),
			(int)pf->n_step_vms[node], dr_planview_irreversible_why);
	}
	if (!any)
		fputs("\nIrreversible: nothing (every operation can be undone or is skipped)\n", out);
	free(kept);
}

static void print_irreversible(const cJSON *v, const dr_planview_vms *vms, FILE *out)
{
	if (vms) {
		row_irreversible(dr_planview_vms_preflight(vms), dr_planview_vms_mode(vms), out);
		return;
	}
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(v, "irreversible"), *i;
	if (cJSON_GetArraySize(arr) == 0) {
		fputs("\nIrreversible: nothing (every operation can be undone or is skipped)\n", out);
		return;
	}
	fputs("\nIrreversible\n", out);
	cJSON_ArrayForEach(i, arr)
	fprintf(out, "  %s (%d VMs): %s\n", str(i, "step"), (int)num(i, "vms"), str(i, "why"));
}

static void print_blockers(const cJSON *v, FILE *out)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(v, "blockers"), *b;
	int n = cJSON_GetArraySize(arr);
	if (!n) {
		fputs("\nBlockers: none. The plan is runnable.\n", out);
		return;
	}
	fprintf(out, "\nBlockers (%d)\n", n);
	cJSON_ArrayForEach(b, arr) fprintf(out, "  - %s\n", str(b, "message"));
	fputs("The plan is blocked: nothing would run as written.\n", out);
}

static void clock_text(double ms, char *out, size_t n)
{
	long long s = (long long)(ms / 1000 + 0.5);
	snprintf(out, n, "%lld:%02d:%02d", s / 3600, (int)(s / 60 % 60), (int)(s % 60));
}

/* One line per hop; a run of hops of one step through its concurrency slots is one line. */
static void print_path(const cJSON *path, FILE *out)
{
	int n = cJSON_GetArraySize(path);
	for (int i = 0; i < n;) {
		const cJSON *h = cJSON_GetArrayItem(path, i);
		int j = i + 1;
		while (j < n && !strcmp(or(str(cJSON_GetArrayItem(path, j), "via"), ""), "slot") &&
		       !strcmp(str(cJSON_GetArrayItem(path, j), "step"), str(h, "step")))
			j++;
		const cJSON *last = cJSON_GetArrayItem(path, j - 1);
		char a[64], b[64];
		clock_text(num(h, "start_ms"), a, sizeof a);
		clock_text(num(last, "end_ms"), b, sizeof b);
		if (j - i == 1)
			fprintf(out, "    %s -> %s  %s\n", a, b, str(h, "task"));
		else
			fprintf(out, "    %s -> %s  %s: %d tasks one after another in a concurrency slot (%s ... %s)\n", a, b,
				str(h, "step"), j - i, str(h, "task"), str(last, "task"));
		i = j;
	}
}

/* Which task fails first and why, and why the run stops, when the estimate predicts a failure. */
static void print_failure(const cJSON *e, FILE *out)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, "first_failure");
	if (f) {
		char at[64];
		clock_text(num(f, "at_ms"), at, sizeof at);
		fprintf(out, "  first failure at %s: %s", at, or(str(f, "task"), "?"));
		if (str(f, "class") && *str(f, "class"))
			fprintf(out, " (%s)", str(f, "class"));
		fprintf(out, ": %s\n", or(str(f, "message"), "no message"));
	}
	if (str(e, "stopped"))
		fprintf(out, "  the run would stop: %s\n", str(e, "stopped"));
}

/*
 * The estimate's error, a text of several lines whose line feeds the
 * terminal escape made visible ("\\n"): each line on its own, indented. A
 * run refused as blocked says only its first line: its blockers are the
 * plan's, listed above (at 10,000 VMs, thousands of lines).
 */
static void print_error(const char *err, bool first_only, FILE *out)
{
	for (const char *at = err; *at;) {
		const char *nl = strstr(at, "\\n");
		size_t n = nl ? (size_t)(nl - at) : strlen(at);
		if (n)
			fprintf(out, "  %.*s\n", (int)n, at);
		if (!nl || first_only)
			break;
		at = nl + 2;
	}
}

static void print_estimate(const cJSON *v, FILE *out)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(v, "estimate");
	if (!e)
		return;
	fputs("\nEstimate (the plan run on a private copy of the simulator, virtual clock, approvals granted)\n", out);
	if (str(e, "error") && !cJSON_HasObjectItem(e, "makespan")) {
		fprintf(out, "  not possible: %s\n", str(e, "error"));
		return;
	}
	const cJSON *met = cJSON_GetObjectItemCaseSensitive(e, "rto_met");
	char obj[32];
	dr_text_human_duration((int64_t)num(e, "rto_objective_ms"), obj, sizeof obj);
	if (str(e, "rto"))
		fprintf(out, "  predicted RTO %s", str(e, "rto"));
	else /* as the run's summary says it */
		fprintf(out, "  predicted RTO not reached: %s", or(str(e, "rto_not_reached"), "no failover completed"));
	if (met)
		fprintf(out, " (objective %s: %s)", obj, cJSON_IsTrue(met) ? "met" : "MISSED");
	fputc('\n', out);
	fprintf(out, "  the run would end %s after %s\n", or(str(e, "status"), "?"), or(str(e, "makespan"), "?"));
	print_failure(e, out);
	if (str(e, "error"))
		print_error(str(e, "error"), strcmp(or(str(e, "status"), ""), "blocked") == 0, out);
	const cJSON *path = cJSON_GetObjectItemCaseSensitive(e, "critical_path");
	if (!cJSON_GetArraySize(path))
		return; /* refused before any task: no path to show */
	fputs(str(e, "rto") ? "  critical path (to the task that decides the RTO):\n"
			    : "  critical path (to the task that leaves the RTO unreached):\n",
	      out);
	print_path(path, out);
}

void dr_planview_print_text(const cJSON *shown, const dr_planview_vms *vms, FILE *out)
{
	cJSON *safe = dr_lines_term_event(shown); /* VM names and the service's words, escaped for the terminal */
	const cJSON *view = safe ? safe : shown;
	print_header(view, out);
	print_sets(view, vms, out);
	print_vms(view, vms, out);
	print_ops(view, vms, out);
	print_irreversible(view, vms, out);
	print_blockers(view, out);
	print_estimate(view, out);
	cJSON_Delete(safe);
}
