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

#include "views/markdown.h"
#include "views/report.h"
#include "views/report_int.h"

static void code(dr_buf *b, const char *s) { dr_md_code(b, s ? s : "?"); }

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

static void steps(dr_buf *b, const cJSON *doc)
{
	const cJSON *s;
	dr_buf_puts(b, "| step | state | tasks | took |\n|---|---|---|---|\n");
	cJSON_ArrayForEach(s, dr_rep_obj(doc, "steps"))
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
	dr_buf_putc(b, '\n');
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

static void failures(dr_buf *b, const cJSON *doc)
{
	const cJSON *t;
	size_t n = 0;
	cJSON_ArrayForEach(t, dr_rep_obj(doc, "tasks"))
	{
		if (!dr_rep_str(t, "state") || strcmp(dr_rep_str(t, "state"), "failed") != 0)
			continue;
		if (!n++)
			dr_buf_puts(b, "**Failures**\n\n");
		failure(b, t);
	}
	if (n)
		dr_buf_putc(b, '\n');
}

static void approvals(dr_buf *b, const cJSON *doc)
{
	const cJSON *a;
	size_t n = 0;
	cJSON_ArrayForEach(a, dr_rep_obj(doc, "approvals"))
	{
		char waited[32];
		dr_rep_duration(dr_rep_ms(a, "waited_ms"), waited, sizeof waited);
		dr_buf_puts(b, n++ ? "" : "**Approvals**\n\n");
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
		dr_buf_printf(b, "%s after %s\n", dr_rep_bool(a, "timed_out") == 1 ? " (timed out)" : "", waited);
	}
	if (n)
		dr_buf_putc(b, '\n');
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

/* " (6 skipped)": the cleanups that did not succeed, by state. */
static void cleanup_others(dr_buf *b, const cJSON *d)
{
	static const char *const states[] = {"failed", "skipped", "cancelled", "running", "retrying", "pending"};
	int n = 0;
	for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
		int k = 0;
		const cJSON *c;
		cJSON_ArrayForEach(c, dr_rep_obj(d, "cleanup"))
			k += dr_rep_str(c, "state") && !strcmp(dr_rep_str(c, "state"), states[i]);
		if (k)
			dr_buf_printf(b, "%s%d %s", n++ ? ", " : " (", k, states[i]);
	}
	if (n)
		dr_buf_putc(b, ')');
}

static void drill(dr_buf *b, const cJSON *doc)
{
	const cJSON *d = dr_rep_obj(doc, "drill"), *c;
	if (dr_rep_bool(d, "verified") != 1)
		return;
	int ok = 0, n = 0;
	cJSON_ArrayForEach(c, dr_rep_obj(d, "cleanup"))
	{
		n++;
		ok += dr_rep_str(c, "state") && strcmp(dr_rep_str(c, "state"), "succeeded") == 0;
	}
	dr_buf_printf(b, "**Drill cleanup**: %d/%d test cleanups succeeded", ok, n);
	if (ok < n) /* skipped: nothing to clean up (no test failover completed); or failed, cancelled */
		cleanup_others(b, d);
	dr_buf_printf(b, "; verified against the service: %s", dr_rep_str(d, "status") ? dr_rep_str(d, "status") : "?");
	int k = 0;
	cJSON_ArrayForEach(c, dr_rep_obj(d, "leftovers"))
	{
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
static void rpo_missed(dr_buf *b, const cJSON *doc)
{
	const cJSON *v;
	size_t n = 0;
	cJSON_ArrayForEach(v, dr_rep_obj(dr_rep_obj(dr_rep_obj(doc, "objectives"), "rpo"), "vms"))
	{
		if (dr_rep_bool(v, "met") != 0)
			continue;
		char d[32];
		dr_rep_duration(dr_rep_ms(v, "rpo_ms"), d, sizeof d);
		dr_buf_puts(b, n++ ? ", " : "**RPO missed**: ");
		code(b, dr_rep_str(v, "vm"));
		dr_buf_printf(b, " %s", d);
	}
	if (n)
		dr_buf_puts(b, "\n\n");
}

void dr_report_markdown(const cJSON *doc, dr_buf *out)
{
	title(out, doc);
	facts(out, doc);
	steps(out, doc);
	failures(out, doc);
	rpo_missed(out, doc);
	approvals(out, doc);
	rollback(out, doc);
	drill(out, doc);
}
