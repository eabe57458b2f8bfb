/*
 * report_md.c - the report as concise Markdown, for a pull-request comment
 * or a ticket: the verdict first, then the steps, and only what needs a
 * reader's attention (failures with the service's recommended action,
 * approvals, the rollback, a drill's cleanup, VMs that missed the RPO).
 * Runbook and service text sits in code spans (markdown.h).
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "actions/action.h"
#include "views/markdown.h"
#include "views/report.h"
#include "views/report_int.h"

#define STEP_ROWS 40 /* the steps table's rows at most (steps): below, every step */
#define LISTED 10 /* a list longer than this names its first LISTED and counts the rest: a comment stays short at any estate */

static void code(dr_buf *b, const char *s) { dr_md_code(b, s ? s : "?"); }

/* The tail of a list cut at LISTED: "- ... and 12 more (the JSON report lists them all)". */
static void more(dr_buf *b, size_t n, const char *what)
{
	if (n > LISTED)
		dr_buf_printf(b, "- ... and %zu more %s (the JSON and HTML reports list them all)\n", n - LISTED, what);
}

static void title(dr_buf *b, const cJSON *doc)
{
	const cJSON *run = dr_rep_obj(doc, "run");
	const char *status = dr_rep_str(run, "status") ? dr_rep_str(run, "status") : "unknown";
	int met = dr_rep_bool(dr_rep_obj(doc, "objectives"), "met");
	bool good = strcmp(status, "succeeded") == 0 && met != 0;
	dr_buf_printf(b, "### %s drover %s ", good ? "✅" : "❌", dr_rep_str(run, "mode") ? dr_rep_str(run, "mode") : "run");
	code(b, dr_rep_str(run, "runbook"));
	dr_buf_printf(b, ": %s\n\n", status);
	dr_buf headline;
	dr_buf_init(&headline);
	dr_rep_headline(doc, &headline);
	const char *rest = strchr(headline.data, ';');
	if (rest)
		dr_buf_printf(b, "%s\n\n", rest + 2);
	dr_buf_dispose(&headline);
}

static void facts(dr_buf *b, const cJSON *doc)
{
	const cJSON *run = dr_rep_obj(doc, "run"), *ses = dr_rep_obj(doc, "sessions");
	char took[32];
	dr_rep_duration(dr_rep_ms(run, "duration_ms"), took, sizeof took);
	dr_buf_puts(b, "Run ");
	code(b, dr_rep_str(run, "id"));
	dr_buf_printf(b, " · %s, %s · started %s by ", dr_rep_str(run, "mode") ? dr_rep_str(run, "mode") : "?",
		      dr_rep_str(run, "direction") ? dr_rep_str(run, "direction") : "?",
		      dr_rep_str(run, "started") ? dr_rep_str(run, "started") : "?");
	code(b, dr_rep_str(run, "user"));
	dr_buf_puts(b, " on ");
	code(b, dr_rep_str(run, "host"));
	dr_buf_printf(b, " · took %s", took);
	if (dr_rep_int(ses, "count") > 1)
		dr_buf_printf(b, " · resumed (%d sessions)", dr_rep_int(ses, "count"));
	dr_buf_puts(b, " · runbook ");
	code(b, dr_rep_str(run, "file"));
	dr_buf_puts(b, " ");
	code(b, dr_rep_str(run, "digest"));
	dr_buf_puts(b, "\n\n");
}

/*
 * A step's tasks by what became of them: "2/2 ok", "1/2 ok, 1 failed", "6 skipped", "1 failed, 1 cancelled"
 * (a step none of whose tasks ran is not "0/6 ok").
 */
static void task_counts(dr_buf *b, const cJSON *step)
{
	static const char *const others[] = {"failed", "rolled_back", "skipped", "cancelled", "running", "retrying", "pending"};
	const cJSON *counts = dr_rep_obj(step, "counts");
	int ok = dr_rep_int(counts, "succeeded"), n = 0;
	if (dr_rep_ms(step, "tasks") < 0)
		return;
	if (ok || !dr_rep_int(step, "tasks"))
		dr_buf_printf(b, "%d/%d ok", ok, dr_rep_int(step, "tasks")), n++;
	for (size_t i = 0; i < sizeof others / sizeof others[0]; i++) {
		int k = dr_rep_int(counts, others[i]);
		if (k)
			dr_buf_printf(b, "%s%d %s", n++ ? ", " : "", k, strcmp(others[i], "rolled_back") ? others[i] : "rolled back");
	}
}

/* A step that went as planned: succeeded, or skipped (its when: was false, or a drill leaves it out). */
static bool as_planned(const dr_ri_step *s) { return s->state == DR_RI_SUCCEEDED || s->state == DR_RI_SKIPPED; }

/*
 * The last row of a table cut at STEP_ROWS: "| 1,990 more steps | 1,980 succeeded, 10 skipped | | |", the steps
 * left out counted by state, in the order of the states' first appearance.
 */
static void more_steps(dr_buf *b, const dr_runinfo *ri, const bool *shown)
{
	static const char *const states[] = {"succeeded", "skipped", "failed", "cancelled", "rolled_back", "running", "retrying", "pending"};
	size_t count[sizeof states / sizeof states[0] + 1] = {0}, n = 0;
	for (size_t i = 0; i < ri->n_steps; i++) {
		size_t k = 0;
		while (k < sizeof states / sizeof states[0] && strcmp(dr_ri_state_name(ri->steps[i].state), states[k]))
			k++;
		if (!shown[i])
			count[k]++, n++;
	}
	if (!n)
		return;
	dr_buf_printf(b, "| %zu more step%s | ", n, n == 1 ? "" : "s");
	for (size_t k = 0, w = 0; k <= sizeof states / sizeof states[0]; k++)
		if (count[k])
			dr_buf_printf(b, "%s%zu %s", w++ ? ", " : "", count[k], k < sizeof states / sizeof states[0] ? states[k] : "other");
	dr_buf_puts(b, " | | |\n");
}

static void step_row(dr_buf *b, const cJSON *s)
{
	char name[300], took[32];
	dr_rep_step_name(s, name, sizeof name);
	dr_rep_duration(dr_rep_ms(s, "duration_ms"), took, sizeof took);
	dr_buf_puts(b, "| ");
	code(b, name);
	dr_buf_printf(b, " | %s%s | ", dr_rep_str(s, "state") ? dr_rep_str(s, "state") : "?",
		      dr_rep_bool(s, "tolerated") == 1 ? " (tolerated)" : "");
	task_counts(b, s);
	dr_buf_printf(b, " | %s |\n", dr_rep_ms(s, "duration_ms") >= 0 ? took : "");
}

/*
 * The steps table. A runbook of more than STEP_ROWS steps gets the rows of the steps that did not go as planned
 * first (failed, cancelled, running, ...), up to STEP_ROWS rows in all, filled up with the others in runbook
 * order, and a last row that counts the rest: a comment stays a comment at any estate (GitHub takes 65,536
 * characters); the JSON and HTML reports have every step. Picked from the model: only the rows shown are built.
 */
static void steps(dr_rep *r)
{
	const dr_runinfo *ri = r->ri;
	size_t n = ri->n_steps, rows = 0;
	bool *shown = calloc(n + 1, sizeof *shown);
	for (size_t i = 0; i < n && rows < STEP_ROWS; i++) /* what needs a reader first */
		if (n <= STEP_ROWS || !as_planned(&ri->steps[i]))
			shown[i] = true, rows++;
	for (size_t i = 0; i < n && rows < STEP_ROWS; i++) /* then the rest, while there is room */
		if (!shown[i])
			shown[i] = true, rows++;
	dr_buf_puts(r->out, "| step | state | tasks | took |\n|---|---|---|---|\n");
	for (size_t i = 0; i < n; i++) {
		if (!shown[i])
			continue;
		cJSON *s = dr_rep_step(r, i);
		step_row(r->out, s);
		cJSON_Delete(s);
	}
	more_steps(r->out, ri, shown);
	dr_buf_putc(r->out, '\n');
	free(shown);
}

static void failure(dr_buf *b, const cJSON *t)
{
	const cJSON *att = dr_rep_obj(t, "attempts");
	const cJSON *last = cJSON_GetArrayItem(att, cJSON_GetArraySize(att) - 1);
	dr_buf_puts(b, "- ");
	code(b, dr_rep_str(t, "label"));
	dr_buf_printf(b, ": %d attempt%s", cJSON_GetArraySize(att), cJSON_GetArraySize(att) == 1 ? "" : "s");
	if (last && dr_rep_str(last, "class"))
		dr_buf_printf(b, ", last %s", dr_rep_str(last, "class"));
	if (last && dr_rep_str(last, "message")) {
		dr_buf_puts(b, ": ");
		code(b, dr_rep_str(last, "message"));
	}
	if (last && dr_rep_str(last, "recommended_action")) {
		dr_buf_puts(b, " — recommended action: ");
		code(b, dr_rep_str(last, "recommended_action"));
	}
	dr_buf_putc(b, '\n');
}

/* The failed tasks: the first LISTED built and named, the rest counted off the model. */
static void failures(dr_rep *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->ri->n_tasks; i++) {
		if (r->ri->tasks[i].state != DR_RI_FAILED)
			continue;
		if (!n++)
			dr_buf_puts(r->out, "**Failures**\n\n");
		if (n > LISTED)
			continue;
		cJSON *t = dr_rep_task(r, i);
		failure(r->out, t);
		cJSON_Delete(t);
	}
	more(r->out, n, "failed tasks");
	if (n)
		dr_buf_putc(r->out, '\n');
}

/* "`label` since 2m, asked of `alice, bob`: `what`": a task waiting for a person (w: its waiting_for_person). */
static void waiting_item(dr_buf *b, const cJSON *t, const cJSON *w)
{
	char since[32];
	dr_rep_duration(dr_rep_ms(w, "since_ms"), since, sizeof since);
	code(b, dr_rep_str(t, "label"));
	dr_buf_printf(b, " since %s", since);
	if (dr_rep_str(w, "approvers")) {
		dr_buf_puts(b, ", asked of ");
		code(b, dr_rep_str(w, "approvers"));
	}
	dr_buf_puts(b, ": ");
	if (dr_rep_str(w, "asked"))
		code(b, dr_rep_str(w, "asked"));
	else
		dr_buf_puts(b, dr_rep_waiting_unsaid(w));
	dr_buf_putc(b, '\n');
}

/* Tasks that wait for a person as the report is made (a run stopped or still running during the wait). */
static void waiting(dr_rep *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->ri->n_tasks; i++) {
		if (dr_runinfo_person_wait(&r->ri->tasks[i], NULL) < 0 || ++n > LISTED)
			continue;
		cJSON *t = dr_rep_task(r, i);
		dr_buf_puts(r->out, n > 1 ? "- " : "**Waiting for a person**\n\n- ");
		waiting_item(r->out, t, dr_rep_obj(t, "waiting_for_person"));
		cJSON_Delete(t);
	}
	more(r->out, n, "tasks waiting");
	if (n)
		dr_buf_putc(r->out, '\n');
}

static void approval(dr_buf *b, const cJSON *a)
{
	char waited[32];
	dr_rep_duration(dr_rep_ms(a, "waited_ms"), waited, sizeof waited);
	dr_buf_puts(b, "- ");
	code(b, dr_rep_str(a, "step"));
	dr_buf_printf(b, ": %s", dr_rep_str(a, "decision") ? dr_rep_str(a, "decision") : "unanswered");
	if (dr_rep_str(a, "by")) {
		dr_buf_puts(b, " by ");
		code(b, dr_rep_str(a, "by"));
	}
	if (dr_rep_str(a, "via"))
		dr_buf_printf(b, " via %s", dr_rep_str(a, "via"));
	if (dr_rep_str(a, "at"))
		dr_buf_printf(b, " at %s", dr_rep_str(a, "at"));
	dr_buf_printf(b, "%s%s%s\n", dr_rep_bool(a, "timed_out") == 1 ? " (timed out)" : "",
		      dr_rep_ms(a, "waited_ms") >= 0 ? " after " : "", dr_rep_ms(a, "waited_ms") >= 0 ? waited : "");
}

static void approvals(dr_rep *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->ri->n_tasks; i++) {
		if (!r->ri->tasks[i].approval.requested)
			continue;
		dr_buf_puts(r->out, n++ ? "" : "**Approvals**\n\n");
		cJSON *a = dr_rep_approval(r, i);
		approval(r->out, a);
		cJSON_Delete(a);
	}
	if (n)
		dr_buf_putc(r->out, '\n');
}

static void rollback(dr_buf *b, const cJSON *doc)
{
	const cJSON *r = dr_rep_obj(doc, "rollback"), *nu;
	if (dr_rep_bool(r, "started") != 1)
		return;
	dr_buf_printf(b, "**Rollback**: %s, %d task%s to undo", dr_rep_str(r, "status") ? dr_rep_str(r, "status") : "running",
		      dr_rep_int(r, "tasks"), dr_rep_int(r, "tasks") == 1 ? "" : "s");
	if (dr_rep_str(r, "why")) {
		dr_buf_puts(b, ", after ");
		code(b, dr_rep_str(r, "why"));
	}
	if (dr_rep_str(r, "barrier")) {
		dr_buf_puts(b, "; stopped at the irreversible step ");
		code(b, dr_rep_str(r, "barrier"));
	}
	int k = 0;
	cJSON_ArrayForEach(nu, dr_rep_obj(r, "not_undone"))
	{
		dr_buf_puts(b, k++ ? ", " : "; not undone: ");
		code(b, cJSON_IsString(nu) ? nu->valuestring : "?");
	}
	dr_buf_puts(b, "\n\n");
}

/* " (6 skipped)": the cleanups that did not succeed, by state (count: a drill's cleanup tasks by state). */
static void cleanup_others(dr_buf *b, const size_t *count)
{
	static const dr_ri_state states[] = {DR_RI_FAILED, DR_RI_SKIPPED, DR_RI_CANCELLED, DR_RI_RUNNING, DR_RI_RETRYING, DR_RI_PENDING};
	int n = 0;
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++)
		if (count[states[i]])
			dr_buf_printf(b, "%s%zu %s", n++ ? ", " : " (", count[states[i]], dr_ri_state_name(states[i]));
	if (n)
		dr_buf_putc(b, ')');
}

static void drill(dr_rep *r)
{
	dr_buf *b = r->out;
	const cJSON *d = dr_rep_obj(r->doc, "drill"), *c;
	if (dr_rep_bool(d, "verified") != 1)
		return;
	size_t count[DR_RI__STATES] = {0}, n = 0;
	for (size_t i = 0; i < r->ri->n_tasks; i++)
		if (r->ri->tasks[i].flags & DR_AF_TEST_CLEANUP)
			count[r->ri->tasks[i].state]++, n++;
	dr_buf_printf(b, "**Drill cleanup**: %zu/%zu test cleanups succeeded", count[DR_RI_SUCCEEDED], n);
	if (count[DR_RI_SUCCEEDED] < n) /* skipped: nothing to clean up (no test failover completed); or failed, cancelled */
		cleanup_others(b, count);
	dr_buf_printf(b, "; verified against the service: %s", dr_rep_str(d, "status") ? dr_rep_str(d, "status") : "?");
	int k = 0, left = cJSON_GetArraySize(dr_rep_obj(d, "leftovers"));
	cJSON_ArrayForEach(c, dr_rep_obj(d, "leftovers"))
	{
		if (k == LISTED) {
			dr_buf_printf(b, " and %d more (the JSON report names them all)", left - LISTED);
			break;
		}
		dr_buf_puts(b, k++ ? ", " : " — left behind: ");
		code(b, dr_rep_str(c, "vm"));
	}
	if (dr_rep_str(d, "message")) {
		dr_buf_puts(b, " — ");
		code(b, dr_rep_str(d, "message"));
	}
	dr_buf_puts(b, "\n\n");
}

/* VMs whose RPO missed the objective (the worst is in the headline). */
static void rpo_missed(dr_buf *b, const dr_ri_objectives *o)
{
	size_t n = 0;
	for (size_t i = 0; i < o->n_vms; i++) {
		const dr_ri_rpo *v = &o->vms[i];
		if (v->met != 0 || ++n > LISTED)
			continue;
		char d[32];
		dr_rep_duration(v->rpo_ms, d, sizeof d);
		dr_buf_puts(b, n > 1 ? ", " : "**RPO missed**: ");
		code(b, v->vm);
		dr_buf_printf(b, " %s", d);
	}
	if (n > LISTED)
		dr_buf_printf(b, " and %zu more (the JSON report lists them all)", n - LISTED);
	if (n)
		dr_buf_puts(b, "\n\n");
}

void dr_report_markdown(dr_rep *r)
{
	title(r->out, r->doc);
	facts(r->out, r->doc);
	steps(r);
	failures(r);
	waiting(r);
	rpo_missed(r->out, &r->o);
	approvals(r);
	rollback(r->out, r->doc);
	drill(r);
	dr_rep_flush(r, false);
}
