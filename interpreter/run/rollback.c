/*
 * rollback.c - the rollback phase: undo what the run completed, newest
 * first, never across an irreversible step.
 *
 * When a step fails with on_failure: rollback, the main phase stops (no new
 * tasks; running ones end), then rollback_build turns the succeeded tasks
 * into a chain of units, one after the other:
 *
 *   1. The barrier: the latest completion of a task of an irreversible step
 *      (dr.commit). Tasks that ended before it are never undone.
 *   2. The remaining succeeded tasks, newest completion first, grouped by
 *      step in the order of each step's newest completion.
 *   3. Per step: its own rollback: steps (run in the order written, each
 *      fanned out over its own targets), else its action's default undo
 *      (one task per succeeded task, newest first, with the inputs the undo
 *      action accepts taken from the original task's evaluated with:), else
 *      nothing: `rollback: []` or an action that changes nothing needs no
 *      undo; a mutating action without either is reported as not undone.
 *
 * A unit that fails stops the rollback (the units after it do not run):
 * undoing further on top of a failed undo could make things worse.
 */
#include "run/exec_int.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/xalloc.h"

static int by_newest(const void *a, const void *b)
{
	const task *x = *(task *const *)a, *y = *(task *const *)b;
	return x->done_seq < y->done_seq ? 1 : x->done_seq > y->done_seq ? -1 : 0;
}

/* The succeeded main tasks, newest first; sets x->barrier_seq from irreversible steps. */
static task **candidates(dr_exec *x, size_t *n_out)
{
	size_t n = 0;
	for (size_t i = 0; i < x->n_main; i++)
		n += x->main[i].n_ok;
	task **v = dr_arena_calloc(x->a, n + 1, sizeof *v);
	n = 0;
	for (size_t i = 0; i < x->n_main; i++) {
		srun *s = &x->main[i];
		bool irreversible = s->act && (s->act->flags & DR_AF_IRREVERSIBLE);
		for (size_t k = 0; k < s->n_tasks; k++) {
			task *t = &s->tasks[k];
			if (t->state != TS_SUCCEEDED)
				continue;
			if (irreversible && t->done_seq > x->barrier_seq) {
				x->barrier_seq = t->done_seq;
				x->barrier_step = s->id;
			}
			v[n++] = t;
		}
	}
	qsort(v, n, sizeof *v, by_newest);
	while (n && v[n - 1]->done_seq <= x->barrier_seq)
		n--;
	*n_out = n;
	return v;
}

static void add_unit(dr_exec *x, srun *u, size_t *cap)
{
	if (x->n_units == *cap) {
		size_t c = *cap ? 2 * *cap : 8;
		x->units = dr_arena_grow(x->a, x->units, x->n_units, c, sizeof *x->units);
		*cap = c;
	}
	if (x->n_units)
		exec_srun_edge(x, x->units[x->n_units - 1], u, false);
	x->units[x->n_units++] = u;
}

/* The inputs of the original task that the undo action accepts. */
static cJSON *undo_inputs(const dr_action *undo, const cJSON *with)
{
	cJSON *o = cJSON_CreateObject();
	for (const cJSON *it = with ? with->child : NULL; it; it = it->next)
		if (undo->input && dr_schema_field(undo->input, it->string))
			cJSON_AddItemToObject(o, it->string, cJSON_Duplicate(it, true));
	return o;
}

/* One unit of the undo action over s's candidate tasks (in v, newest first). */
static srun *undo_unit(dr_exec *x, srun *s, const dr_action *undo, task **v, size_t n)
{
	srun *u = dr_arena_calloc(x->a, 1, sizeof *u);
	exec_srun_init(x, u, s->st, undo, PH_ROLLBACK);
	u->undoes = s;
	u->group_last = true;
	size_t k = 0;
	for (size_t i = 0; i < n; i++)
		k += v[i]->s == s;
	u->tasks = dr_arena_calloc(x->a, k + 1, sizeof *u->tasks);
	for (size_t i = 0; i < n; i++) {
		if (v[i]->s != s)
			continue;
		task *t = &u->tasks[u->n_tasks++];
		*t = (task){.s = u, .vm = v[i]->vm, .label = exec_task_label(x, v[i]), .undoes = v[i]};
		t->with = undo_inputs(undo, v[i]->with);
	}
	return u;
}

static void note_skip(dr_exec *x, srun *s, const char *reason, bool not_undone)
{
	cJSON *ev = sched_event(x, "rollback.skip", s, NULL);
	cJSON_AddStringToObject(ev, "reason", reason);
	dr_events_emit(x->ev, ev);
	if (!not_undone)
		return;
	x->not_undone = dr_arena_grow(x->a, x->not_undone, x->n_not_undone, x->n_not_undone + 1, sizeof *x->not_undone);
	x->not_undone[x->n_not_undone++] = s->id;
}

/* The units that undo step s (appended to x->units). */
static void units_for(dr_exec *x, srun *s, task **v, size_t n, size_t *cap)
{
	const dr_step *st = s->st;
	size_t before = x->n_units;
	if (dr_node_get(st->node, "rollback") && !st->n_rollback) {
		note_skip(x, s, "rollback: [] says the step needs no undo", false);
	} else if (st->n_rollback) {
		for (size_t r = 0; r < st->n_rollback; r++) {
			srun *u = dr_arena_calloc(x->a, 1, sizeof *u);
			exec_srun_init(x, u, &st->rollback[r], st->rollback[r].action, PH_ROLLBACK);
			u->undoes = s;
			u->group_last = r + 1 == st->n_rollback;
			exec_srun_tasks(x, u);
			add_unit(x, u, cap);
		}
	} else if (s->act && s->act->undo && dr_action_find(s->act->undo)) {
		add_unit(x, undo_unit(x, s, dr_action_find(s->act->undo), v, n), cap);
	} else if (s->act && (s->act->flags & DR_AF_MUTATING)) {
		note_skip(x, s,
			  dr_arena_printf(x->a, "action '%s' has no default undo and the step has no rollback: steps; "
						"its changes stay in place", s->act->name),
			  true);
	}
	s->has_undo = x->n_units > before;
}

size_t rollback_build(dr_exec *x)
{
	size_t n, cap = 0;
	task **v = candidates(x, &n);
	cJSON *ev = sched_event(x, "rollback.start", NULL, NULL);
	cJSON_AddStringToObject(ev, "reason", x->stop_reason ? x->stop_reason : "");
	cJSON_AddNumberToObject(ev, "tasks", (double)n);
	if (x->barrier_step)
		cJSON_AddStringToObject(ev, "barrier", x->barrier_step);
	dr_events_emit(x->ev, ev);
	unsigned char *seen = dr_arena_calloc(x->a, x->n_main + 1, 1);
	for (size_t i = 0; i < n; i++) {
		size_t si = (size_t)(v[i]->s - x->main);
		if (seen[si])
			continue;
		seen[si] = 1;
		units_for(x, v[i]->s, v, n, &cap);
	}
	x->rollback_blocked = x->barrier_step != NULL;
	return x->n_units;
}

void rollback_unit_done(dr_exec *x, srun *u)
{
	srun *s = u->undoes;
	if (!s || !u->group_last || u->state != SS_SUCCEEDED)
		return;
	for (size_t k = 0; k < s->n_tasks; k++) {
		task *t = &s->tasks[k];
		if (t->state == TS_SUCCEEDED && t->done_seq > x->barrier_seq) {
			t->state = TS_ROLLED_BACK;
			s->n_undone++;
		}
	}
	if (s->n_undone == s->n_ok)
		s->state = SS_ROLLED_BACK;
}
