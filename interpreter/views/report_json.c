/*
 * report_json.c - the JSON report written as it is made (report_int.h):
 * the head walked member by member and each list streamed an item at a
 * time, in the very bytes cJSON_Print gives for the whole document (tabs,
 * "key":<tab>value, array items joined by ", "), so the text is the same
 * as when it was printed whole, without ever holding it whole.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "actions/action.h"
#include "views/report.h"
#include "views/report_int.h"

static void tabs(dr_buf *b, int depth)
{
	for (int i = 0; i < depth; i++)
		dr_buf_putc(b, '\t');
}

/* v as cJSON prints it on its own, placed at depth: each of its lines after the first indented depth more. */
static void placed(dr_rep *r, const cJSON *v, int depth)
{
	char *s = cJSON_Print(v);
	for (const char *p = s, *nl; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		if (!nl) {
			dr_buf_puts(r->out, p);
			break;
		}
		dr_buf_append(r->out, p, (size_t)(nl - p + 1));
		tabs(r->out, depth);
	}
	cJSON_free(s);
}

/* An item of a list, placed, freed, and the text written out when there is enough of it. */
static void item(dr_rep *r, cJSON *v, int depth)
{
	placed(r, v, depth);
	cJSON_Delete(v);
	dr_rep_flush(r, false);
}

typedef cJSON *(*build_fn)(const dr_rep *r, size_t i);

/* Whether task i belongs in a list of tasks (approvals, a drill's cleanup). */
static bool approval_of(const dr_ri_task *t) { return t->approval.requested; }
static bool cleanup_of(const dr_ri_task *t) { return (t->flags & DR_AF_TEST_CLEANUP) != 0; }

/* "[a, b, ...]": n items built by build, of the tasks that pass keep (NULL: all), at depth. */
static void stream(dr_rep *r, size_t n, build_fn build, bool (*keep)(const dr_ri_task *), int depth)
{
	size_t k = 0;
	dr_buf_putc(r->out, '[');
	for (size_t i = 0; i < n; i++) {
		if (keep && !keep(&r->ri->tasks[i]))
			continue;
		if (k++)
			dr_buf_puts(r->out, ", ");
		item(r, build(r, i), depth + 1); /* cJSON places an array's items a level deeper */
	}
	dr_buf_putc(r->out, ']');
}

/* A list of the head (list[]) written in full; false when v is not one. */
static bool list(dr_rep *r, const cJSON *v, int depth)
{
	const dr_runinfo *ri = r->ri;
	if (v == r->list[DR_REP_STEPS])
		stream(r, ri->n_steps, dr_rep_step, NULL, depth);
	else if (v == r->list[DR_REP_TASKS])
		stream(r, ri->n_tasks, dr_rep_task, NULL, depth);
	else if (v == r->list[DR_REP_APPROVALS])
		stream(r, ri->n_tasks, dr_rep_approval, approval_of, depth);
	else if (v == r->list[DR_REP_VMS])
		stream(r, ri->n_vms, dr_rep_vm, NULL, depth);
	else if (v == r->list[DR_REP_RPO_VMS])
		stream(r, r->o.n_vms, dr_rep_rpo_vm, NULL, depth);
	else if (v == r->list[DR_REP_CLEANUP])
		stream(r, ri->n_tasks, dr_rep_cleanup, cleanup_of, depth);
	else
		return false;
	return true;
}

static void value(dr_rep *r, const cJSON *v, int depth);

/* An object as cJSON_Print formats it at depth: members one a line, one tab deeper; the brace at depth. */
static void object(dr_rep *r, const cJSON *o, int depth)
{
	dr_buf_puts(r->out, "{\n");
	for (const cJSON *m = o->child; m; m = m->next) {
		tabs(r->out, depth + 1);
		dr_buf_printf(r->out, "\"%s\":\t", m->string); /* the report's own keys: nothing to escape */
		value(r, m, depth + 1);
		dr_buf_puts(r->out, m->next ? ",\n" : "\n");
	}
	tabs(r->out, depth);
	dr_buf_putc(r->out, '}');
}

/* The head's objects member by member (their keys are the report's own), the rest as cJSON prints it. */
static void value(dr_rep *r, const cJSON *v, int depth)
{
	if (list(r, v, depth))
		return;
	if (cJSON_IsObject(v))
		object(r, v, depth);
	else
		placed(r, v, depth); /* a value, or a short list (rollback.not_undone, drill.leftovers) */
}

void dr_report_json(dr_rep *r)
{
	value(r, r->doc, 0);
	dr_buf_putc(r->out, '\n');
}
