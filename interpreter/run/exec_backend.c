/*
 * exec_backend.c - the run's backend: opened once per run, the inventory
 * bound through it, flushed before the run waits and at its end, closed
 * with the run; and the services the dr.* actions call (exec.h).
 *
 * The run opens rb's backend (dr_backend_open) with its state directory,
 * read-only when no step of the plan (nor a rollback: step) can change the
 * service: a run of checks and logs neither locks nor writes the
 * simulator's state file. dr_exec_opts.backend replaces all of that with a
 * backend the caller opened and closes (plan --estimate, unit tests).
 *
 * Durability (docs/backends.md): whatever the backend accepted is flushed
 * each time the scheduler is about to wait (one group commit per instant
 * of the run's clock, a no-op when nothing was accepted) and at the end, so
 * the service never forgets an operation the run went on from; the journal
 * calls dr_exec_backend_flush before its own durability points.
 */
#include "run/exec_int.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backends/backend.h"
#include "util/xalloc.h"

/* True when a step among st[0..n) (or one of their rollback: steps) may change the service. */
static bool steps_mutate(const dr_step *st, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (st[i].action && (st[i].action->flags & DR_AF_MUTATING))
			return true;
		if (steps_mutate(st[i].rollback, st[i].n_rollback))
			return true;
	}
	return false;
}

static bool plan_mutates(const dr_plan *p)
{
	for (size_t i = 0; i < p->n; i++)
		if (steps_mutate(p->nodes[i].step, 1))
			return true;
	return false;
}

/* The backend's diagnostics (mistakes in its options, e.g. in $DROVER_SIM_FAULTS) as text. */
static void render_diags(dr_diags *d, dr_buf *err)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return;
	dr_diags_render_text(d, f, false);
	fclose(f);
	dr_buf_puts(err, text ? text : "");
	free(text);
}

int exec_backend_open(dr_exec *x, dr_buf *err)
{
	if (x->o.backend) {
		x->backend = x->o.backend;
		return 0;
	}
	dr_backend_opts bo = {.state_dir = x->state_dir, .read_only = !plan_mutates(x->plan), .params = x->params};
	dr_diags *d = dr_diags_new();
	dr_be_error e;
	x->backend = dr_backend_open(x->rb, &bo, x->a, d, &e);
	if (!x->backend && dr_diags_errors(d))
		render_diags(d, err);
	else if (!x->backend)
		dr_buf_printf(err, "cannot open the %s backend: %s\n", x->rb->backend.kind == DR_BACKEND_AZURE ? "azure" : "sim",
			      dr_backend_error_text(x->a, &e));
	dr_diags_free(d);
	x->backend_owned = x->backend != NULL;
	return x->backend ? 0 : -1;
}

void exec_backend_close(dr_exec *x)
{
	if (x->backend_owned)
		dr_backend_close(x->backend);
	x->backend = NULL;
	x->backend_owned = false;
}

/* --- services ------------------------------------------------------------ */

dr_backend *dr_exec_backend(dr_exec *x)
{
	return x ? x->backend : NULL;
}

const dr_runbook *dr_exec_runbook(dr_exec *x)
{
	return x ? x->rb : NULL;
}

/* Asked once per turn of the scheduler (its thread, as the journal's calls): one scratch arena, reset after each. */
int dr_exec_backend_flush(dr_exec *x, dr_buf *err)
{
	if (!x || !x->backend)
		return 0;
	if (!x->flush_a)
		x->flush_a = dr_arena_new();
	dr_be_error e;
	int rc = dr_backend_flush(x->backend, x->flush_a, &e);
	if (rc < 0 && err)
		dr_buf_printf(err, "the %s backend could not save what it accepted: %s\n", x->backend->kind,
			      dr_backend_error_text(x->flush_a, &e));
	dr_arena_reset(x->flush_a);
	return rc;
}

dr_be_direction dr_exec_direction(dr_exec *x)
{
	return x ? x->o.direction : DR_BE_DIR_PRIMARY_TO_RECOVERY;
}

/* Appends as much of text as out's size leaves room for (as snprintf cuts), keeping it terminated. */
static void put(char *out, size_t outsz, size_t *len, const char *text)
{
	size_t n = strlen(text);
	if (*len + 1 >= outsz)
		return;
	if (n > outsz - 1 - *len)
		n = outsz - 1 - *len;
	memcpy(out + *len, text, n);
	*len += n;
	out[*len] = '\0';
}

/* Put together by hand: asked at every dr.* call (the label is cut at 255 bytes, as dr_exec_task_label cuts it). */
void dr_exec_idempotency_key(const dr_call *call, char *out, size_t outsz)
{
	char label[256], attempt[16];
	size_t n = 0, k = 0;
	const dr_action *act = call->action ? call->action : call->step ? call->step->action : NULL;
	if (!outsz)
		return;
	out[0] = label[0] = '\0';
	put(label, sizeof label, &k, call->step ? call->step->id.name : "?");
	if (call->target) {
		put(label, sizeof label, &k, "[");
		put(label, sizeof label, &k, call->target->name);
		put(label, sizeof label, &k, "]");
	}
	snprintf(attempt, sizeof attempt, "%d", call->attempt);
	const char *parts[] = {dr_exec_run_id(call->run), "/", label, "/", act ? act->name : "?", "/", attempt};
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
		put(out, outsz, &n, parts[i]);
}

/* The task call belongs to (O(1): the scheduler names it in the call); NULL for a call made outside
   the scheduler (evaluated without target/inputs). */
static task *owning_task(dr_exec *x, const dr_call *call)
{
	return call->run == x ? call->sched_task : NULL;
}

cJSON *dr_exec_eval_node(dr_exec *x, const dr_call *call, const dr_node *node, const char *where, char **err)
{
	*err = NULL;
	if (!x) {
		*err = xstrdup("no run to evaluate in");
		return NULL;
	}
	return lookup_eval_node(x, owning_task(x, call), node, where, err);
}
