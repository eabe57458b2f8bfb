/*
 * diffreport.c - the Markdown pull-request comment of `drover graph --diff
 * --format markdown` (diffreport.h): predicted RTO of both revisions and
 * why it moved, a table of what changed, the Mermaid diff.
 *
 * Runbook text only ever appears inside code spans (md_code), which are
 * made safe for table cells; everything else is drover's own words.
 */
#include "views/diffreport.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/buf.h"
#include "util/text.h"
#include "views/markdown.h"

/* --- Markdown ----------------------------------------------------------------- */

static void duration(dr_buf *b, int64_t ms)
{
	char d[32];
	if (ms < 0) {
		dr_buf_puts(b, "none");
		return;
	}
	dr_text_human_duration(ms, d, sizeof d);
	dr_buf_puts(b, d);
}

/* One table row: | change | where | what | (where and what already Markdown). */
static void row(dr_buf *b, const char *change, const char *where, const char *what)
{
	dr_buf_printf(b, "| %s | %s | %s |\n", change, where, what ? what : "");
}

/* A row whose where is one code span. */
static void row_code(dr_buf *b, const char *change, const char *where, const char *what)
{
	dr_buf w;
	dr_buf_init(&w);
	dr_md_code(&w, where);
	row(b, change, w.data, what);
	dr_buf_dispose(&w);
}

/* --- steps and edges ------------------------------------------------------------ */

static void step_row(dr_buf *b, const dr_graphdiff_step *s)
{
	static const char *const change[] = {[DR_MARK_ADDED] = "step added", [DR_MARK_REMOVED] = "step removed",
					     [DR_MARK_CHANGED] = "step changed"};
	dr_buf what, raw;
	dr_buf_init(&what);
	dr_buf_init(&raw);
	if (s->mark == DR_MARK_CHANGED)
		for (size_t i = 0; i < s->n_fields; i++)
			dr_buf_printf(&raw, "%s%s", i ? ", " : "", s->fields[i]);
	else
		dr_graph_describe(&raw, s->step, ", ");
	dr_md_code(&what, raw.data);
	if (s->retry_old) { /* the policy it ran with and runs with (built-in, written, defaults.retry) */
		dr_buf_puts(&what, ": was ");
		dr_md_code(&what, s->retry_old);
		dr_buf_puts(&what, ", now ");
		dr_md_code(&what, s->retry_new);
	}
	row_code(b, change[s->mark], dr_graph_id(s->step), what.data);
	dr_buf_dispose(&raw);
	dr_buf_dispose(&what);
}

static void edge_row(dr_buf *b, const dr_graphdiff *d, const dr_graph_edge *e)
{
	const char *from = dr_graph_id(d->steps[e->from].step), *to = dr_graph_id(d->steps[e->to].step);
	dr_buf w, what;
	dr_buf_init(&w);
	dr_buf_init(&what);
	dr_md_code(&w, from);
	dr_buf_puts(&w, " → ");
	dr_md_code(&w, to);
	dr_md_code(&what, to);
	dr_buf_puts(&what, e->mark == DR_MARK_ADDED ? " now waits for " : " no longer waits for ");
	dr_md_code(&what, from);
	row(b, e->mark == DR_MARK_ADDED ? "edge added" : "edge removed", w.data, what.data);
	dr_buf_dispose(&what);
	dr_buf_dispose(&w);
}

static size_t graph_rows(dr_buf *b, const dr_graphdiff *d)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n; i++)
		if (d->steps[i].mark != DR_MARK_SAME) {
			step_row(b, &d->steps[i]);
			n++;
		}
	for (size_t k = 0; k < d->n_edges; k++)
		if (d->edges[k].mark == DR_MARK_ADDED || d->edges[k].mark == DR_MARK_REMOVED) {
			edge_row(b, d, &d->edges[k]);
			n++;
		}
	return n;
}

/* --- the runbook around the graph: VM sets, recovery, objectives ---------------- */

static bool same_str(const char *a, const char *b) { return a == b || (a && b && strcmp(a, b) == 0); }

/* "old → new" with both in code spans (a missing one is "none"). */
static void old_new(dr_buf *b, const char *old, const char *new)
{
	if (old)
		dr_md_code(b, old);
	else
		dr_buf_puts(b, "none");
	dr_buf_puts(b, " → ");
	if (new)
		dr_md_code(b, new);
	else
		dr_buf_puts(b, "none");
}

static bool tags_same(const dr_vm_filter *a, const dr_vm_filter *b)
{
	if (a->n_tags != b->n_tags)
		return false;
	for (size_t i = 0; i < a->n_tags; i++)
		if (!same_str(a->tags[i].key, b->tags[i].key) || !same_str(a->tags[i].value.source, b->tags[i].value.source))
			return false;
	return true;
}

static bool filter_same(const dr_vm_filter *a, const dr_vm_filter *b)
{
	return a->present == b->present && same_str(a->name.source, b->name.source) && tags_same(a, b);
}

static void set_changes(dr_buf *what, const dr_vm_set *a, const dr_vm_set *b)
{
	const char *sep = "";
	if (!same_str(a->match.name.source, b->match.name.source)) {
		dr_buf_puts(what, "match.name ");
		old_new(what, a->match.name.source, b->match.name.source);
		sep = "; ";
	}
	if (!tags_same(&a->match, &b->match)) {
		dr_buf_printf(what, "%smatch.tags", sep);
		sep = "; ";
	}
	if (!filter_same(&a->exclude, &b->exclude)) {
		dr_buf_printf(what, "%sexclude", sep);
		sep = "; ";
	}
	if (a->expect_count != b->expect_count || a->expect_min != b->expect_min || a->expect_max != b->expect_max)
		dr_buf_printf(what, "%sexpect", sep);
}

static bool set_same(const dr_vm_set *a, const dr_vm_set *b)
{
	return filter_same(&a->match, &b->match) && filter_same(&a->exclude, &b->exclude) &&
	       a->expect_count == b->expect_count && a->expect_min == b->expect_min && a->expect_max == b->expect_max;
}

static size_t set_rows(dr_buf *b, const dr_runbook *old, const dr_runbook *new)
{
	size_t n = 0;
	for (size_t i = 0; i < new->n_vm_sets; i++) {
		const dr_vm_set *s = &new->vm_sets[i], *o = dr_runbook_vm_set(old, s->name.name);
		if (o && set_same(o, s))
			continue;
		dr_buf what;
		dr_buf_init(&what);
		if (o)
			set_changes(&what, o, s);
		else if (s->match.name.source)
			dr_md_code(&what, s->match.name.source);
		row_code(b, o ? "VM set changed" : "VM set added", s->name.name, what.data);
		dr_buf_dispose(&what);
		n++;
	}
	for (size_t i = 0; i < old->n_vm_sets; i++)
		if (!dr_runbook_vm_set(new, old->vm_sets[i].name.name)) {
			row_code(b, "VM set removed", old->vm_sets[i].name.name, NULL);
			n++;
		}
	return n;
}

/* A row "label | key | old → new" for two durations (-1: none) when they differ. */
static size_t duration_row(dr_buf *b, const char *label, const char *key, int64_t old, int64_t new)
{
	if (old == new)
		return 0;
	dr_buf what;
	dr_buf_init(&what);
	duration(&what, old);
	dr_buf_puts(&what, " → ");
	duration(&what, new);
	row(b, label, key, what.data);
	dr_buf_dispose(&what);
	return 1;
}

/* The recovery point as written: the scalar of point: ("latest", "${params.p}"), or "custom". */
static const char *point_text(const dr_recovery *r)
{
	if (!r->present)
		return NULL;
	const char *s = r->point_node ? dr_node_str(r->point_node) : NULL;
	return s ? s : r->custom_id ? r->custom_id : r->custom_time ? r->custom_time : "custom";
}

static bool fallback_same(const dr_recovery *a, const dr_recovery *b)
{
	if (a->n_fallback != b->n_fallback)
		return false;
	for (size_t i = 0; i < a->n_fallback; i++)
		if (a->fallback[i] != b->fallback[i])
			return false;
	return true;
}

static size_t policy_rows(dr_buf *b, const dr_runbook *old, const dr_runbook *new)
{
	const dr_recovery *a = &old->recovery, *c = &new->recovery;
	size_t n = 0;
	if (!same_str(point_text(a), point_text(c))) {
		dr_buf what;
		dr_buf_init(&what);
		old_new(&what, point_text(a), point_text(c));
		row(b, "recovery", "point", what.data);
		dr_buf_dispose(&what);
		n++;
	}
	n += duration_row(b, "recovery", "max_age", a->present ? a->max_age_ms : -1, c->present ? c->max_age_ms : -1);
	if (!fallback_same(a, c)) {
		row(b, "recovery", "fallback", "changed");
		n++;
	}
	n += duration_row(b, "objectives", "rto", old->rto_ms, new->rto_ms);
	n += duration_row(b, "objectives", "rpo", old->rpo_ms, new->rpo_ms);
	return n;
}

/* --- the estimate ----------------------------------------------------------------- */

static int64_t rto_of(const cJSON *est)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(est, "rto_ms");
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* True when the diff adds the edge from -> to. */
static bool edge_added(const dr_graphdiff *d, const char *from, const char *to)
{
	for (size_t k = 0; k < d->n_edges; k++) {
		const dr_graph_edge *e = &d->edges[k];
		if (e->mark == DR_MARK_ADDED && strcmp(dr_graph_id(d->steps[e->to].step), to) == 0 &&
		    strcmp(dr_graph_id(d->steps[e->from].step), from) == 0)
			return true;
	}
	return false;
}

/* Why NEW's critical path moved: each step on it that is new, changed or waits on a new edge. */
static void reasons(dr_buf *b, const dr_graphdiff *d, const cJSON *path)
{
	const cJSON *prev = NULL, *cur;
	size_t n = 0;
	cJSON_ArrayForEach(cur, path)
	{
		const char *step = str_of(cur, "step");
		const dr_graphdiff_step *s = step ? dr_graphdiff_find(d, step) : NULL;
		const char *before = prev ? str_of(prev, "step") : NULL;
		const char *via = str_of(cur, "via");
		prev = cur;
		if (!s || (before && strcmp(before, step) == 0))
			continue;
		bool new_edge = before && via && strcmp(via, "needs") == 0 && edge_added(d, before, step);
		if (!new_edge && s->mark == DR_MARK_SAME)
			continue;
		dr_buf_puts(b, n++ ? "; " : "");
		dr_md_code(b, step);
		if (s->mark == DR_MARK_ADDED) {
			dr_buf_puts(b, " is new on the critical path");
		} else if (new_edge) {
			dr_buf_puts(b, " now waits for ");
			dr_md_code(b, before);
		} else {
			dr_buf_puts(b, " changed (");
			for (size_t i = 0; i < s->n_fields; i++)
				dr_buf_printf(b, "%s%s", i ? ", " : "", s->fields[i]);
			dr_buf_puts(b, ")");
		}
	}
	if (!n)
		dr_buf_puts(b, "no changed step is on the critical path (task order or durations moved)");
}

static void estimate_line(dr_buf *b, const char *which, const cJSON *est)
{
	const char *err = str_of(est, "error");
	dr_buf_printf(b, "- %s: ", which);
	if (err)
		dr_md_code(b, err);
	else
		dr_buf_puts(b, "no validation passes, so no RTO is predicted");
	dr_buf_putc(b, '\n');
}

static void objective(dr_buf *b, const cJSON *est)
{
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(est, "rto_objective_ms");
	if (!cJSON_IsNumber(obj))
		return;
	dr_buf_puts(b, ", objective ");
	duration(b, (int64_t)obj->valuedouble);
	dr_buf_puts(b, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(est, "rto_met")) ? ": met" : ": **missed**");
}

static void estimates(dr_buf *b, const dr_diffreport_input *in)
{
	int64_t a = rto_of(in->est_old), c = rto_of(in->est_new);
	if (a < 0 || c < 0) {
		dr_buf_puts(b, "Predicted RTO (`drover plan --estimate` of both revisions):\n\n");
		if (a < 0)
			estimate_line(b, "before", in->est_old);
		if (c < 0)
			estimate_line(b, "after", in->est_new);
		dr_buf_putc(b, '\n');
		return;
	}
	dr_buf_puts(b, "**Predicted RTO: ");
	duration(b, a);
	dr_buf_puts(b, " → ");
	duration(b, c);
	dr_buf_puts(b, "**");
	objective(b, in->est_new);
	dr_buf_puts(b, " (`drover plan --estimate` of both revisions on the simulator)\n\n");
	if (a == c) {
		dr_buf_puts(b, "No change in predicted RTO.\n\n");
		return;
	}
	dr_buf_puts(b, a < c ? "**+" : "**−");
	duration(b, a < c ? c - a : a - c);
	dr_buf_puts(b, "**: ");
	reasons(b, in->diff, cJSON_GetObjectItemCaseSensitive(in->est_new, "critical_path"));
	dr_buf_puts(b, ".\n\n");
}

/* --- the comment ---------------------------------------------------------------- */

static void mermaid(dr_buf *b, const dr_graphdiff *d)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return;
	dr_graphdiff_print(d, DR_GRAPH_MERMAID, f);
	fclose(f);
	size_t longest = dr_md_longest_backticks(text, len);
	dr_buf_puts(b, "<details><summary>Step graph, with what changed marked</summary>\n\n");
	dr_md_fence(b, longest < 3 ? 3 : longest + 1);
	dr_buf_printf(b, "mermaid\n%s", text);
	dr_md_fence(b, longest < 3 ? 3 : longest + 1);
	dr_buf_puts(b, "\n\n</details>\n");
	free(text);
}

void dr_diffreport_markdown(const dr_diffreport_input *in, FILE *out)
{
	dr_buf b, rows;
	dr_buf_init(&b);
	dr_buf_init(&rows);
	dr_buf_puts(&b, "### drover: runbook ");
	dr_md_code(&b, in->new->name ? in->new->name : "?");
	dr_buf_puts(&b, "\n\n");
	if (in->est_old && in->est_new)
		estimates(&b, in);
	size_t n = graph_rows(&rows, in->diff) + set_rows(&rows, in->old, in->new) + policy_rows(&rows, in->old, in->new);
	if (n) {
		dr_buf_puts(&b, "| change | where | what |\n|---|---|---|\n");
		dr_buf_puts(&b, rows.data);
		dr_buf_putc(&b, '\n');
	} else {
		dr_buf_puts(&b, "No change to the steps, their edges, the VM sets, the recovery policy or the objectives.\n\n");
	}
	mermaid(&b, in->diff);
	fputs(b.data, out);
	dr_buf_dispose(&rows);
	dr_buf_dispose(&b);
}
