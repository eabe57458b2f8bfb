/*
 * report_html.c - the report as one self-contained HTML page: inline CSS
 * and SVG, no script, nothing fetched. From the top: the verdict (status,
 * RTO and worst RPO against the objectives), the facts of the run, a
 * timeline, the verdicts, the tasks (a table per step, folded unless it
 * needs a reader), approvals, the rollback and a drill's
 * cleanup.
 *
 * The timeline puts each step on a row and each of its tasks (one per VM)
 * in a lane of that row, on one time axis from the run's start: every
 * attempt is a bar coloured by how it ended, the wait before a retry a
 * hatched gap, an approval's wait amber, and the tasks of the critical path
 * (the chain that ended at the task deciding the RTO) outlined in black,
 * with the achieved RTO and the objective as vertical lines. Every bar has
 * a tooltip. Rows are capped in height, so 10,000 tasks still make a page
 * a browser draws; a lane is at least LANE_MIN px high (what a reader can
 * see and point at), so a step of more tasks than its row has lanes folds
 * the tasks that need no reader into lanes of several, in the order they
 * started (one bar from the first start to the last end, a tooltip that
 * counts them, outlined when one is on the critical path), and keeps a
 * lane of its own for each task that failed, runs or waits for a person.
 *
 * All text from runbooks and services is escaped for HTML (text and
 * attribute values alike).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "actions/action.h"
#include "views/report.h"
#include "util/xalloc.h"
#include "views/report_int.h"

enum { LABEL_W = 230, CHART_W = 860, AXIS_H = 28, ROW_GAP = 6, MAX_ROW_H = 168, LANE_MAX = 14, TITLE_H = 16, LANE_MIN = 4,
       LANES = MAX_ROW_H / LANE_MIN, FOLDS_MIN = 8 };

static void esc(dr_buf *b, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '&': dr_buf_puts(b, "&amp;"); break;
		case '<': dr_buf_puts(b, "&lt;"); break;
		case '>': dr_buf_puts(b, "&gt;"); break;
		case '"': dr_buf_puts(b, "&quot;"); break;
		case '\'': dr_buf_puts(b, "&#39;"); break;
		default: dr_buf_putc(b, *s);
		}
	}
}

static const char *or_dash(const char *s) { return s ? s : "-"; }

static const char css[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;color:#1f2328;background:#fff}"
	"main,.wrap{max-width:1160px;margin:0 auto;padding:0 20px 40px}.wrap{padding:0 20px}"
	"header.verdict{padding:18px 20px;margin:0 0 16px;border-bottom:4px solid}"
	"header.ok{background:#dafbe1;border-color:#1a7f37}header.bad{background:#ffebe9;border-color:#cf222e}"
	"header h1{margin:0 0 4px;font-size:24px}header .figures{font-size:17px;margin:0}"
	".facts{color:#57606a;margin:0 0 12px}h2{font-size:18px;margin:26px 0 8px;border-bottom:1px solid #d0d7de}"
	"table{border-collapse:collapse;width:100%;font-size:13px}th,td{text-align:left;padding:4px 8px;"
	"border-bottom:1px solid #eaeef2;vertical-align:top}th{background:#f6f8fa}"
	".succeeded{color:#1a7f37}.failed,.missed{color:#cf222e;font-weight:600}.skipped,.cancelled,.pending{color:#6e7781}"
	".met{color:#1a7f37;font-weight:600}code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace;"
	"background:#f6f8fa;padding:1px 4px;border-radius:4px}.legend span{margin-right:14px;white-space:nowrap}"
	".sw{display:inline-block;width:14px;height:10px;margin-right:4px;vertical-align:middle;border:1px solid #0003}"
	"svg text{font:11px system-ui,sans-serif;fill:#1f2328}svg .step{font-weight:600;font-size:12px}"
	"svg .vm{fill:#57606a;font-size:10px}.crit{stroke:#000;stroke-width:2}"
	"details{margin:0 0 6px}summary{cursor:pointer;padding:3px 0}#tasks table{margin:2px 0 8px;table-layout:fixed}"
	"#tasks td{overflow-wrap:anywhere}#tasks th:nth-child(1){width:22%}#tasks th:nth-child(2){width:10%}"
	"#tasks th:nth-child(3){width:8%}#tasks th:nth-child(n+4):nth-child(-n+6){width:6.5%}";

/* --- the header ------------------------------------------------------------------ */

static void head(dr_buf *b, const cJSON *doc)
{
	const cJSON *run = dr_rep_obj(doc, "run");
	dr_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		       "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>drover ");
	esc(b, or_dash(dr_rep_str(run, "mode")));
	dr_buf_putc(b, ' ');
	esc(b, or_dash(dr_rep_str(run, "runbook")));
	dr_buf_puts(b, ": ");
	esc(b, or_dash(dr_rep_str(run, "status")));
	dr_buf_printf(b, "</title>\n<style>%s</style>\n</head>\n<body>\n", css);
}

static void verdict(dr_buf *b, const cJSON *doc)
{
	const cJSON *run = dr_rep_obj(doc, "run");
	const char *status = or_dash(dr_rep_str(run, "status"));
	bool good = strcmp(status, "succeeded") == 0 && dr_rep_bool(dr_rep_obj(doc, "objectives"), "met") != 0;
	dr_buf headline;
	dr_buf_init(&headline);
	dr_rep_headline(doc, &headline);
	const char *rest = strchr(headline.data, ';');
	dr_buf_printf(b, "<header class=\"verdict %s\" id=\"verdict\"><div class=\"wrap\">\n<h1>%s drover ", good ? "ok" : "bad",
		      good ? "&#10004;" : "&#10008;");
	esc(b, or_dash(dr_rep_str(run, "mode")));
	dr_buf_puts(b, " <code>");
	esc(b, or_dash(dr_rep_str(run, "runbook")));
	dr_buf_puts(b, "</code>: ");
	esc(b, status);
	dr_buf_puts(b, "</h1>\n<p class=\"figures\">");
	esc(b, rest ? rest + 2 : "no recovery objectives apply to this run");
	dr_buf_puts(b, "</p>\n</div></header>\n<main>\n");
	dr_buf_dispose(&headline);
}

static void facts(dr_buf *b, const cJSON *doc)
{
	const cJSON *run = dr_rep_obj(doc, "run"), *ses = dr_rep_obj(doc, "sessions");
	char took[32], down[32];
	dr_rep_duration(dr_rep_ms(run, "duration_ms"), took, sizeof took);
	dr_rep_duration(dr_rep_ms(ses, "downtime_ms"), down, sizeof down);
	static const char *const keys[] = {"id", "mode", "direction", "started", "ended", "user", "host", "file", "digest"};
	dr_buf_puts(b, "<p class=\"facts\">");
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		dr_buf_printf(b, "%s%s <code>", i ? " &middot; " : "", keys[i]);
		esc(b, or_dash(dr_rep_str(run, keys[i])));
		dr_buf_puts(b, "</code>");
	}
	dr_buf_printf(b, " &middot; took %s", took);
	if (dr_rep_int(ses, "count") > 1)
		dr_buf_printf(b, " &middot; resumed: %d sessions, drover down %s", dr_rep_int(ses, "count"), down);
	if (dr_rep_str(run, "reason")) {
		dr_buf_puts(b, " &middot; why it stopped: ");
		esc(b, dr_rep_str(run, "reason"));
	}
	dr_buf_puts(b, "</p>\n");
}

/* --- the timeline --------------------------------------------------------------- */

typedef struct axis {
	int64_t total; /* ms across CHART_W */
	double y; /* the next row's top */
	bool folded; /* a row folded tasks into shared lanes: the legend says so */
} axis;

static double xpos(const axis *ax, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	return LABEL_W + (double)ms * CHART_W / (double)(ax->total > 0 ? ax->total : 1);
}

static const char *attempt_color(const char *state)
{
	if (!state)
		return "#8c959f";
	if (!strcmp(state, "succeeded"))
		return "#2da44e";
	if (!strcmp(state, "failed"))
		return "#cf222e";
	if (!strcmp(state, "running") || !strcmp(state, "retrying"))
		return "#0969da";
	return "#8c959f";
}

static void tooltip(dr_buf *b, const cJSON *t, const cJSON *a)
{
	char took[32];
	dr_rep_duration(dr_rep_ms(a, "duration_ms"), took, sizeof took);
	dr_buf_puts(b, "<title>");
	esc(b, or_dash(dr_rep_str(t, "label")));
	dr_buf_printf(b, " (%s) attempt %d: %s, %s", or_dash(dr_rep_str(t, "action")), dr_rep_int(a, "n"),
		      or_dash(dr_rep_str(a, "state")), took);
	if (dr_rep_str(a, "message")) {
		dr_buf_puts(b, ": ");
		esc(b, dr_rep_str(a, "message"));
	}
	if (dr_rep_bool(t, "critical") == 1)
		dr_buf_puts(b, " [critical path]");
	dr_buf_puts(b, "</title>");
}

/* One bar from start to end (ms), h high at y. */
static void bar(dr_buf *b, const axis *ax, double y, double h, int64_t start, int64_t end, const char *fill,
		const char *cls)
{
	double x0 = xpos(ax, start), x1 = xpos(ax, end);
	dr_buf_printf(b, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"%s%s%s>", x0, y,
		      x1 - x0 < 1.5 ? 1.5 : x1 - x0, h, fill, cls ? " class=\"" : "", cls ? cls : "", cls ? "\"" : "");
}

/* A task's lane: its attempts, the waits between them, an approval's wait. */
static void lane(dr_buf *b, const axis *ax, const cJSON *run, const cJSON *t, double y, double h)
{
	const cJSON *a, *prev = NULL;
	bool crit = dr_rep_bool(t, "critical") == 1, approval = dr_rep_obj(t, "approval") != NULL;
	int64_t run_end = dr_rep_ms(run, "duration_ms");
	cJSON_ArrayForEach(a, dr_rep_obj(t, "attempts"))
	{
		int64_t s = dr_rep_ms(a, "started_ms"), e = dr_rep_ms(a, "ended_ms");
		if (s < 0)
			continue;
		if (prev && dr_rep_ms(prev, "ended_ms") >= 0 && dr_rep_ms(prev, "ended_ms") < s) {
			bar(b, ax, y, h, dr_rep_ms(prev, "ended_ms"), s, "url(#wait)", NULL);
			dr_buf_puts(b, "<title>waiting to retry</title></rect>");
		}
		const char *fill = approval ? "#d4a72c" : attempt_color(dr_rep_str(a, "state"));
		int64_t end = e >= 0 ? e : run_end, least = ax->total / (CHART_W / 4); /* at least 4 px: a refusal shows */
		bar(b, ax, y, h, s, end - s < least ? s + least : end, fill, crit ? "crit" : NULL);
		tooltip(b, t, a);
		dr_buf_puts(b, "</rect>");
		prev = a;
	}
	int64_t waited_from = prev ? dr_rep_ms(prev, "ended_ms") : -1, end = dr_rep_ms(t, "ended_ms");
	if (prev && dr_rep_ms(prev, "retry_delay_ms") >= 0 && waited_from >= 0 && end > waited_from) {
		bar(b, ax, y, h, waited_from, end, "url(#wait)", NULL); /* a retry that never got to start */
		dr_buf_puts(b, "<title>waiting to retry, then ");
		esc(b, or_dash(dr_rep_str(t, "state")));
		dr_buf_puts(b, ": ");
		esc(b, or_dash(dr_rep_str(t, "reason")));
		dr_buf_puts(b, "</title></rect>");
	}
}

/* The height of a step's row of n lanes (capped: 10,000 tasks still make a page a browser draws). */
static double lane_height(size_t n)
{
	double lane_h = n ? (double)MAX_ROW_H / (double)n : LANE_MAX;
	return lane_h > LANE_MAX ? LANE_MAX : lane_h;
}

static double row_height(size_t n) { return TITLE_H + (n ? lane_height(n) * (double)n : 2); }

/*
 * Task k keeps a lane of its own in a folded row: it failed, or runs (or
 * waits for a person). The critical path may be a long chain through one
 * step's concurrency slots: its tasks may share lanes (outlined, counted).
 */
static bool own_lane(const dr_rep *r, size_t k)
{
	dr_ri_state s = r->ri->tasks[k].state;
	return s == DR_RI_FAILED || s == DR_RI_RUNNING || s == DR_RI_RETRYING;
}

/*
 * How step st's tasks share lanes: *own of them have a lane each, the rest
 * fill the other lanes, several to a lane (*folds lanes; 0: no lane is
 * shared, every task has its own). Returns the lanes.
 */
static size_t lanes_of(const dr_rep *r, const dr_ri_step *st, size_t *own, size_t *folds)
{
	size_t n = st->n_task_refs;
	*own = n;
	*folds = 0;
	if (n <= LANES)
		return n;
	*own = 0;
	for (size_t j = 0; j < n; j++)
		*own += own_lane(r, st->tasks[j]);
	size_t rest = n - *own, want = *own < LANES - FOLDS_MIN ? LANES - *own : FOLDS_MIN;
	*folds = rest < want ? rest : want;
	return *own + *folds;
}

/* The lane of one task, its VM named when the lane is tall enough. */
static void task_lane(dr_rep *r, const axis *ax, size_t k, double ly, double lane_h)
{
	dr_buf *b = r->out;
	cJSON *t = dr_rep_task(r, k);
	if (lane_h >= 11 && dr_rep_str(t, "target")) {
		dr_buf_printf(b, "<text class=\"vm\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">", LABEL_W - 6, ly + lane_h - 3);
		esc(b, dr_rep_str(t, "target"));
		dr_buf_puts(b, "</text>");
	}
	lane(b, ax, dr_rep_obj(r->doc, "run"), t, ly + 1, lane_h > 3 ? lane_h - 2 : lane_h);
	cJSON_Delete(t);
	dr_rep_flush(r, false);
}

typedef struct started {
	int64_t at; /* the task's start (-1: never started) */
	size_t k; /* the task */
} started;

static int by_start(const void *x, const void *y)
{
	const started *a = x, *c = y;
	return a->at != c->at ? (a->at > c->at) - (a->at < c->at) : (a->k > c->k) - (a->k < c->k);
}

/* One shared lane: tasks v[0..n) as one bar from the first start to the last end, a tooltip that counts them. */
static void fold_lane(dr_rep *r, const axis *ax, const started *v, size_t n, double ly, double lane_h)
{
	const dr_runinfo *ri = r->ri;
	size_t count[DR_RI__STATES] = {0}, crit = 0;
	int64_t from = -1, to = -1, run_end = dr_rep_ms(dr_rep_obj(r->doc, "run"), "duration_ms");
	for (size_t i = 0; i < n; i++) {
		const dr_ri_task *t = &ri->tasks[v[i].k];
		int64_t end = t->ended_ms >= 0 ? t->ended_ms : run_end;
		count[t->state]++;
		crit += r->critical[v[i].k];
		if (t->started_ms >= 0 && (from < 0 || t->started_ms < from))
			from = t->started_ms;
		if (t->started_ms >= 0 && end > to)
			to = end;
	}
	if (from < 0)
		return; /* none started (skipped, cancelled): nothing to draw; the tables list them */
	char first[300], last[300], a[32], z[32];
	dr_rep_duration(from, a, sizeof a);
	dr_rep_duration(to, z, sizeof z);
	const char *fill = count[DR_RI_SUCCEEDED] ? "#2da44e" : "#8c959f";
	bar(r->out, ax, ly + 1, lane_h > 3 ? lane_h - 2 : lane_h, from, to, fill, crit ? "fold crit" : "fold");
	dr_buf_printf(r->out, "<title>%zu tasks, ", n);
	esc(r->out, dr_runinfo_task_label(ri, &ri->tasks[v[0].k], first, sizeof first));
	dr_buf_puts(r->out, n > 1 ? " ... " : "");
	if (n > 1)
		esc(r->out, dr_runinfo_task_label(ri, &ri->tasks[v[n - 1].k], last, sizeof last));
	dr_buf_printf(r->out, ", from +%s to +%s:", a, z);
	for (int s = 0; s < DR_RI__STATES; s++)
		if (count[s])
			dr_buf_printf(r->out, " %zu %s", count[s], dr_ri_state_name((dr_ri_state)s));
	if (crit)
		dr_buf_printf(r->out, " [critical path: %zu]", crit);
	dr_buf_puts(r->out, "</title></rect>");
	dr_rep_flush(r, false);
}

/* The lanes of a step of more tasks than fit: the tasks that need no reader, folded in the order they started, then the rest one a lane. */
static void folded_lanes(dr_rep *r, axis *ax, const dr_ri_step *st, size_t folds, double y, double lane_h)
{
	size_t n = st->n_task_refs, m = 0, k = 0;
	started *rest = xcalloc(n + 1, sizeof *rest);
	for (size_t j = 0; j < n; j++)
		if (!own_lane(r, st->tasks[j]))
			rest[m++] = (started){r->ri->tasks[st->tasks[j]].started_ms, st->tasks[j]};
	qsort(rest, m, sizeof *rest, by_start);
	if (!ax->folded) /* the style of a shared lane, in the timeline that has one (a small run's page is unchanged) */
		dr_buf_puts(r->out, "<style>.fold{opacity:.6}</style>");
	for (size_t f = 0; f < folds; f++, k++)
		fold_lane(r, ax, rest + f * m / folds, (f + 1) * m / folds - f * m / folds, y + k * lane_h, lane_h);
	for (size_t j = 0; j < n; j++)
		if (own_lane(r, st->tasks[j]))
			task_lane(r, ax, st->tasks[j], y + (double)k++ * lane_h, lane_h);
	free(rest);
	ax->folded = true;
}

/* A step's row: its name, a lane per task (each built in turn; folded when they are many), a word when it never ran. */
static void step_row(dr_rep *r, axis *ax, size_t i)
{
	dr_buf *b = r->out;
	const dr_ri_step *st = &r->ri->steps[i];
	size_t own, folds, n = lanes_of(r, st, &own, &folds);
	double lane_h = lane_height(n), row_h = row_height(n), y = ax->y;
	char name[300];
	cJSON *step = dr_rep_step(r, i);
	dr_rep_step_name(step, name, sizeof name);
	dr_buf_printf(b, "<g class=\"row\"><rect x=\"0\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"#f6f8fa\"/>"
			 "<text class=\"step\" x=\"6\" y=\"%.1f\">", y, LABEL_W + CHART_W, row_h, y + 12);
	esc(b, name);
	dr_buf_puts(b, "</text>");
	if (folds)
		folded_lanes(r, ax, st, folds, y + TITLE_H, lane_h);
	else
		for (size_t j = 0; j < n; j++)
			task_lane(r, ax, st->tasks[j], y + TITLE_H + (double)j * lane_h, lane_h);
	const char *state = dr_rep_str(step, "state");
	if (state && (!strcmp(state, "skipped") || !strcmp(state, "pending") || !strcmp(state, "cancelled"))) {
		dr_buf_printf(b, "<text class=\"vm\" x=\"%d\" y=\"%.1f\">%s", LABEL_W + 6, y + 12, state);
		if (dr_rep_str(step, "reason")) {
			dr_buf_puts(b, ": ");
			esc(b, dr_rep_str(step, "reason"));
		}
		dr_buf_puts(b, "</text>");
	}
	cJSON_Delete(step);
	dr_buf_puts(b, "</g>\n");
	ax->y += row_h + ROW_GAP;
}

/* A tick every step ms: 1s .. 1d, at most 12 ticks. */
static int64_t tick_step(int64_t total)
{
	static const int64_t steps[] = {1000, 5000, 10000, 30000, 60000, 120000, 300000, 600000, 900000,
					1800000, 3600000, 7200000, 21600000, 43200000, 86400000};
	for (size_t i = 0; i < sizeof steps / sizeof steps[0]; i++)
		if (total / steps[i] <= 12)
			return steps[i];
	return total / 12 + 1;
}

static void time_axis(dr_buf *b, const axis *ax, double height)
{
	int64_t step = tick_step(ax->total);
	for (int64_t t = 0; t <= ax->total; t += step) {
		double x = xpos(ax, t);
		dr_buf_printf(b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#d0d7de\"/>"
				 "<text x=\"%.1f\" y=\"16\" text-anchor=\"middle\">%lld:%02lld:%02lld</text>\n",
			      x, AXIS_H - 6, x, height, x, (long long)(t / 3600000), (long long)(t / 60000 % 60),
			      (long long)(t / 1000 % 60));
	}
}

/* A vertical marker at ms: the RTO achieved, or the objective (dashed). */
static void marker(dr_buf *b, const axis *ax, double height, int64_t ms, const char *color, bool dashed,
		   const char *label)
{
	if (ms < 0 || ms > ax->total)
		return;
	double x = xpos(ax, ms);
	bool right = x > LABEL_W + CHART_W * 0.8; /* label to the left of the line near the right edge */
	dr_buf_printf(b, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"%s/>"
			 "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\" style=\"fill:%s;font-weight:600\">%s</text>\n",
		      x, AXIS_H - 4, x, height, color, dashed ? " stroke-dasharray=\"6 4\"" : "", right ? x - 4 : x + 4,
		      height - 4, right ? "end" : "start", color, label);
}

static int64_t axis_total(const dr_rep *r)
{
	int64_t total = dr_rep_ms(dr_rep_obj(r->doc, "run"), "duration_ms");
	for (size_t i = 0; i < r->ri->n_tasks; i++) {
		int64_t end = r->ri->tasks[i].ended_ms >= 0 ? r->ri->tasks[i].ended_ms : -1;
		total = end > total ? end : total;
	}
	int64_t objective = dr_rep_ms(dr_rep_obj(dr_rep_obj(r->doc, "objectives"), "rto"), "objective_ms");
	if (objective > total && objective <= 2 * total)
		total = objective; /* show the objective when it is near */
	return total > 0 ? total : 1000;
}

/* The timeline's height: every row's, known before a row is written (the rows stream after the axis). */
static double timeline_height(const dr_rep *r)
{
	double y = AXIS_H;
	for (size_t i = 0; i < r->ri->n_steps; i++) {
		size_t own, folds;
		y += row_height(lanes_of(r, &r->ri->steps[i], &own, &folds)) + ROW_GAP;
	}
	return y + 4;
}

static void timeline(dr_rep *r)
{
	dr_buf *b = r->out;
	const cJSON *doc = r->doc;
	axis ax = {.total = axis_total(r), .y = AXIS_H};
	double height = timeline_height(r);
	const cJSON *rto = dr_rep_obj(dr_rep_obj(doc, "objectives"), "rto");
	char d[32], label[64];
	dr_buf_printf(b, "<h2>Timeline</h2>\n<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" "
			 "height=\"%.0f\" viewBox=\"0 0 %d %.0f\" role=\"img\" aria-label=\"timeline of the run\">\n"
			 "<defs><pattern id=\"wait\" width=\"6\" height=\"6\" patternUnits=\"userSpaceOnUse\" "
			 "patternTransform=\"rotate(45)\"><rect width=\"6\" height=\"6\" fill=\"#fff8c5\"/>"
			 "<line x1=\"0\" y1=\"0\" x2=\"0\" y2=\"6\" stroke=\"#bf8700\" stroke-width=\"2\"/></pattern></defs>\n",
		      LABEL_W + CHART_W + 40, height, LABEL_W + CHART_W + 40, height);
	time_axis(b, &ax, height);
	for (size_t i = 0; i < r->ri->n_steps; i++)
		step_row(r, &ax, i);
	dr_rep_duration(dr_rep_ms(rto, "achieved_ms"), d, sizeof d);
	snprintf(label, sizeof label, "RTO %s", d);
	marker(b, &ax, height, dr_rep_ms(rto, "achieved_ms"), "#0550ae", false, label);
	dr_rep_duration(dr_rep_ms(rto, "objective_ms"), d, sizeof d);
	snprintf(label, sizeof label, "objective %s", d);
	marker(b, &ax, height - 16, dr_rep_ms(rto, "objective_ms"), "#cf222e", true, label);
	dr_buf_puts(b, "</svg>\n<p class=\"legend\"><span><i class=\"sw\" style=\"background:#2da44e\"></i>attempt "
		       "succeeded</span><span><i class=\"sw\" style=\"background:#cf222e\"></i>attempt failed</span>"
		       "<span><i class=\"sw\" style=\"background:#fff8c5\"></i>waiting to retry</span><span><i class=\"sw\" "
		       "style=\"background:#d4a72c\"></i>approval</span><span><i class=\"sw\" style=\"background:#8c959f\">"
		       "</i>cancelled</span><span><i class=\"sw\" style=\"border:2px solid #000\"></i>critical path "
		       "(decided the RTO)</span>");
	if (ax.folded)
		dr_buf_puts(b, "<span><i class=\"sw\" style=\"background:#2da44e;opacity:.6\"></i>several tasks in one lane, "
			       "each in the table of its step (a step of more tasks than its row has lanes; each failed, "
			       "running or waiting task keeps its own)</span>");
	dr_buf_puts(b, "</p>\n");
}

/* The critical path in words, off the model. */
static void critical_text(dr_rep *r)
{
	size_t k = 0;
	for (size_t i = 0; i < r->ri->n_tasks; i++) {
		char label[512];
		if (!r->critical[i])
			continue;
		dr_buf_puts(r->out, k++ ? " &rarr; " : "<p id=\"critical-path\">Critical path (each task the last to end "
						       "before the next started): ");
		dr_buf_puts(r->out, "<code>");
		esc(r->out, dr_runinfo_task_label(r->ri, &r->ri->tasks[i], label, sizeof label));
		dr_buf_puts(r->out, "</code>");
	}
	if (k)
		dr_buf_puts(r->out, "</p>\n");
}

/* --- tables ---------------------------------------------------------------------- */

static void verdicts(dr_buf *b, const dr_rep *r)
{
	size_t n;
	dr_rep_verdict *v = dr_rep_verdicts(r, &n);
	dr_buf_puts(b, "<h2>Verdicts</h2>\n<table id=\"verdicts\"><tr><th>check</th><th>result</th></tr>\n");
	for (size_t i = 0; i < n; i++) {
		dr_buf_puts(b, "<tr><td>");
		esc(b, v[i].name);
		dr_buf_printf(b, "</td><td class=\"%s\">", v[i].failure ? "missed" : v[i].skipped ? "skipped" : "met");
		esc(b, v[i].failure ? v[i].failure : v[i].skipped ? v[i].skipped : "passed");
		dr_buf_puts(b, "</td></tr>\n");
	}
	dr_buf_puts(b, "</table>\n");
	dr_rep_verdicts_dispose(v, n);
}

static void task_error(dr_buf *b, const cJSON *t)
{
	const cJSON *att = dr_rep_obj(t, "attempts");
	const cJSON *last = cJSON_GetArrayItem(att, cJSON_GetArraySize(att) - 1);
	const char *msg = last ? dr_rep_str(last, "message") : NULL;
	esc(b, msg ? msg : dr_rep_str(t, "reason"));
	if (last && dr_rep_str(last, "recommended_action")) {
		dr_buf_puts(b, "<br><b>recommended action:</b> ");
		esc(b, dr_rep_str(last, "recommended_action"));
	}
}

/* A task waiting for a person as the report is made: since when, who was asked, what. */
static void task_waiting(dr_buf *b, const cJSON *w)
{
	char since[32];
	dr_rep_duration(dr_rep_ms(w, "since_ms"), since, sizeof since);
	dr_buf_printf(b, "<b>waiting for a person</b> since +%s", since);
	if (dr_rep_str(w, "approvers")) {
		dr_buf_puts(b, ", asked of ");
		esc(b, dr_rep_str(w, "approvers"));
	}
	dr_buf_puts(b, ": ");
	esc(b, dr_rep_str(w, "asked") ? dr_rep_str(w, "asked") : dr_rep_waiting_unsaid(w));
}

static void task_row(dr_buf *b, const cJSON *t)
{
	char at[40] = "-", took[32] = "-"; /* a task that never started (skipped, cancelled): no time */
	if (dr_rep_ms(t, "started_ms") >= 0) {
		at[0] = '+';
		dr_rep_duration(dr_rep_ms(t, "started_ms"), at + 1, sizeof at - 1);
	}
	if (dr_rep_ms(t, "duration_ms") >= 0)
		dr_rep_duration(dr_rep_ms(t, "duration_ms"), took, sizeof took);
	const char *state = or_dash(dr_rep_str(t, "state"));
	dr_buf_puts(b, "<tr><td><code>");
	esc(b, or_dash(dr_rep_str(t, "label")));
	dr_buf_puts(b, "</code></td><td>");
	esc(b, or_dash(dr_rep_str(t, "action")));
	dr_buf_printf(b, "</td><td class=\"%s\">%s</td><td>%d</td><td>%s</td><td>%s</td><td>", state, state,
		      cJSON_GetArraySize(dr_rep_obj(t, "attempts")), at, took);
	if (cJSON_IsObject(dr_rep_obj(t, "waiting_for_person")))
		task_waiting(b, dr_rep_obj(t, "waiting_for_person"));
	else if (strcmp(state, "succeeded"))
		task_error(b, t);
	dr_buf_puts(b, "</td></tr>\n");
}

/* A step's tasks need a reader: one failed, or waits for a person. */
static bool needs_reader(const dr_runinfo *ri, const dr_ri_step *st)
{
	if (st->count[DR_RI_FAILED])
		return true;
	for (size_t k = 0; k < st->n_task_refs; k++)
		if (dr_runinfo_person_wait(&ri->tasks[st->tasks[k]], NULL) >= 0)
			return true;
	return false;
}

/* "22 tasks: 21 succeeded, 1 failed": a folded step's line. */
static void task_states(dr_buf *b, const dr_ri_step *st)
{
	static const dr_ri_state order[] = {DR_RI_SUCCEEDED, DR_RI_FAILED, DR_RI_SKIPPED, DR_RI_CANCELLED, DR_RI_ROLLED_BACK,
					    DR_RI_RUNNING, DR_RI_RETRYING, DR_RI_PENDING};
	dr_buf_printf(b, "%zu task%s", st->n_task_refs, st->n_task_refs == 1 ? "" : "s");
	for (size_t i = 0, k = 0; i < sizeof order / sizeof order[0]; i++)
		if (st->count[order[i]])
			dr_buf_printf(b, "%s%zu %s", k++ ? ", " : ": ", st->count[order[i]], dr_ri_state_name(order[i]));
}

/*
 * Every task, a table per step, each folded (<details>) unless it needs a reader or the run is small
 * (OPEN_ALL tasks): a browser lays out only what is open, so a drill of 10,000 VMs (111,753 tasks)
 * opens in seconds, where one table of every task took minutes; every task is still in the page.
 */
enum { OPEN_ALL = 500 };

static void task_table(dr_rep *r)
{
	const dr_runinfo *ri = r->ri;
	dr_buf_puts(r->out, "<h2>Tasks</h2>\n<div id=\"tasks\">\n");
	for (size_t i = 0; i < ri->n_steps; i++) {
		const dr_ri_step *st = &ri->steps[i];
		char name[300];
		if (!st->n_task_refs)
			continue;
		cJSON *step = dr_rep_step(r, i);
		dr_rep_step_name(step, name, sizeof name);
		cJSON_Delete(step);
		dr_buf_printf(r->out, "<details%s><summary><code>", ri->n_tasks <= OPEN_ALL || needs_reader(ri, st) ? " open" : "");
		esc(r->out, name);
		dr_buf_printf(r->out, "</code> <span class=\"%s\">%s</span>, ", dr_ri_state_name(st->state), dr_ri_state_name(st->state));
		task_states(r->out, st);
		dr_buf_puts(r->out, "</summary>\n<table><tr><th>task</th><th>action</th><th>state</th><th>attempts</th>"
				    "<th>started</th><th>took</th><th>error</th></tr>\n");
		for (size_t k = 0; k < st->n_task_refs; k++) {
			cJSON *t = dr_rep_task(r, st->tasks[k]);
			task_row(r->out, t);
			cJSON_Delete(t);
			dr_rep_flush(r, false);
		}
		dr_buf_puts(r->out, "</table></details>\n");
	}
	dr_buf_puts(r->out, "</div>\n");
}

static void approval_row(dr_buf *b, const cJSON *a)
{
	char waited[32];
	dr_rep_duration(dr_rep_ms(a, "waited_ms"), waited, sizeof waited);
	static const char *const keys[] = {"step", "message", "decision", "by", "via", "at"};
	dr_buf_puts(b, "<tr>");
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
		dr_buf_puts(b, "<td>");
		esc(b, or_dash(dr_rep_str(a, keys[i])));
		dr_buf_puts(b, "</td>");
	}
	dr_buf_printf(b, "<td>%s%s</td></tr>\n", waited, dr_rep_bool(a, "timed_out") == 1 ? " (timed out)" : "");
}

static void approvals(dr_rep *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->ri->n_tasks; i++) {
		if (!r->ri->tasks[i].approval.requested)
			continue;
		if (!n++)
			dr_buf_puts(r->out, "<h2>Approvals</h2>\n<table id=\"approvals\"><tr><th>step</th><th>asked</th>"
					    "<th>decision</th><th>by</th><th>via</th><th>at</th><th>waited</th></tr>\n");
		cJSON *a = dr_rep_approval(r, i);
		approval_row(r->out, a);
		cJSON_Delete(a);
		dr_rep_flush(r, false);
	}
	if (n)
		dr_buf_puts(r->out, "</table>\n");
}

static void rollback_and_drill(dr_rep *r)
{
	dr_buf *b = r->out;
	const cJSON *rb = dr_rep_obj(r->doc, "rollback"), *d = dr_rep_obj(r->doc, "drill"), *c;
	if (dr_rep_bool(rb, "started") == 1) {
		dr_buf_printf(b, "<h2>Rollback</h2>\n<p id=\"rollback\">%s, %d task(s) to undo; after: ",
			      or_dash(dr_rep_str(rb, "status")), dr_rep_int(rb, "tasks"));
		esc(b, or_dash(dr_rep_str(rb, "why")));
		if (dr_rep_str(rb, "barrier")) {
			dr_buf_puts(b, "; stopped at the irreversible step ");
			esc(b, dr_rep_str(rb, "barrier"));
		}
		dr_buf_puts(b, "</p>\n");
	}
	if (dr_rep_bool(d, "verified") != 1)
		return;
	dr_buf_puts(b, "<h2>Drill cleanup</h2>\n<p id=\"drill\">Verified against the service: <b>");
	esc(b, or_dash(dr_rep_str(d, "status")));
	dr_buf_puts(b, "</b>. Cleaned up:");
	for (size_t i = 0; i < r->ri->n_tasks; i++) {
		const dr_ri_task *t = &r->ri->tasks[i];
		if (!(t->flags & DR_AF_TEST_CLEANUP))
			continue;
		dr_buf_puts(b, " <code>");
		esc(b, or_dash(t->target));
		dr_buf_printf(b, "</code> %s", dr_ri_state_name(t->state));
		dr_rep_flush(r, false);
	}
	cJSON_ArrayForEach(c, dr_rep_obj(d, "leftovers"))
	{
		dr_buf_puts(b, " &middot; <b class=\"failed\">left behind</b> <code>");
		esc(b, or_dash(dr_rep_str(c, "vm")));
		dr_buf_puts(b, "</code>");
	}
	dr_buf_puts(b, "</p>\n");
}

void dr_report_html(dr_rep *r)
{
	head(r->out, r->doc);
	verdict(r->out, r->doc);
	facts(r->out, r->doc);
	timeline(r);
	critical_text(r);
	verdicts(r->out, r);
	task_table(r);
	approvals(r);
	rollback_and_drill(r);
	dr_buf_printf(r->out, "<p class=\"facts\">drover report, schema version %d.</p>\n</main>\n</body>\n</html>\n",
		      dr_rep_int(r->doc, "version"));
}
