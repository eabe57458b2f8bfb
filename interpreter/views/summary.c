/*
 * summary.c - the report printed when a run ends: how it ended, what
 * failed and why, what state things are left in, and what is safe to do
 * next. It reads the step runs after the scheduler has stopped.
 *
 *   run NAME-ID failed after 1m5s (exit 1)
 *     steps: 3 succeeded, 1 failed, 2 cancelled
 *     failed: failover-app: 2 of 4 tasks failed (max_failures allows 0)
 *       failover-app[shop-app-1]: connection reset (transient, attempt 3)
 *     ...
 *   next:
 *     - ...
 */
#include "run/exec_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/text.h"

#define MAX_LISTED 8

typedef struct names {
	dr_buf b;
	size_t n;
} names;

static void names_add(names *l, const char *name)
{
	if (l->n < MAX_LISTED)
		dr_buf_printf(&l->b, "%s%s", l->n ? ", " : "", name);
	else if (l->n == MAX_LISTED)
		dr_buf_puts(&l->b, ", ...");
	l->n++;
}

/* The steps of runs[0..n) in state st, by id. */
static void collect(names *l, const srun *runs, size_t n, sstate st)
{
	for (size_t i = 0; i < n; i++)
		if (runs[i].state == st)
			names_add(l, runs[i].id);
}

static void print_counts_of(const srun *runs, size_t n, const char *what, FILE *out)
{
	size_t c[SS__COUNT] = {0};
	for (size_t i = 0; i < n; i++)
		c[runs[i].state]++;
	if (!n)
		return;
	fprintf(out, "  %s:", what);
	const char *sep = " ";
	for (int s = 0; s < SS__COUNT; s++)
		if (c[s]) {
			fprintf(out, "%s%zu %s", sep, c[s], sched_sstate_name((sstate)s));
			sep = ", ";
		}
	fputc('\n', out);
}

static void print_counts(const dr_exec *x, FILE *out)
{
	print_counts_of(x->main, x->n_main, "steps", out);
	print_counts_of(x->fin, x->n_fin, "finally", out);
}

static void print_failed_tasks(const srun *s, FILE *out)
{
	size_t shown = 0;
	for (size_t k = 0; k < s->n_tasks; k++) {
		const task *t = &s->tasks[k];
		if (t->state != TS_FAILED)
			continue;
		if (shown++ == MAX_LISTED) {
			fprintf(out, "      ... and %zu more\n", s->n_failed - MAX_LISTED);
			break;
		}
		fprintf(out, "      %s: %s (%s, attempt %d)\n", t->label, t->message ? t->message : "failed",
			dr_err_class_name(t->cls), t->attempt);
	}
}

static void print_failures(const srun *runs, size_t n, const char *what, FILE *out)
{
	for (size_t i = 0; i < n; i++) {
		const srun *s = &runs[i];
		if (s->state != SS_FAILED)
			continue;
		fprintf(out, "  %s %s: %s%s\n", what, s->id, s->fail_reason ? s->fail_reason : "failed",
			s->tolerated ? " (tolerated: on_failure: continue)" : "");
		if (s->n_tasks > 1)
			print_failed_tasks(s, out);
	}
}

static void print_interrupted(const dr_exec *x, FILE *out)
{
	names l = {.n = 0};
	dr_buf_init(&l.b);
	for (size_t i = 0; i < x->n_main; i++)
		for (size_t k = 0; k < x->main[i].n_tasks; k++) {
			const task *t = &x->main[i].tasks[k];
			if (t->state == TS_CANCELLED && t->attempt > 0)
				names_add(&l, t->label);
		}
	if (l.n)
		fprintf(out, "  - Interrupted while running (their operations may be half-way): %s. Check the state of "
			     "these targets before anything else.\n",
			l.b.data);
	dr_buf_dispose(&l.b);
}

static bool ever_ran(const srun *s)
{
	for (size_t k = 0; k < s->n_tasks; k++)
		if (s->tasks[k].attempt > 0)
			return true;
	return false;
}

static void print_in_place(const dr_exec *x, FILE *out, const char *lead)
{
	names done = {.n = 0}, never = {.n = 0};
	dr_buf_init(&done.b);
	dr_buf_init(&never.b);
	collect(&done, x->main, x->n_main, SS_SUCCEEDED);
	for (size_t i = 0; i < x->n_main; i++)
		if (x->main[i].state == SS_CANCELLED && !ever_ran(&x->main[i]))
			names_add(&never, x->main[i].id);
	if (done.n)
		fprintf(out, "  - %s: %s.\n", lead, done.b.data);
	if (never.n)
		fprintf(out, "  - Never started: %s.\n", never.b.data);
	dr_buf_dispose(&done.b);
	dr_buf_dispose(&never.b);
}

static void print_rollback(const dr_exec *x, FILE *out)
{
	names undone = {.n = 0}, left = {.n = 0};
	dr_buf_init(&undone.b);
	dr_buf_init(&left.b);
	collect(&undone, x->main, x->n_main, SS_ROLLED_BACK);
	for (size_t i = 0; i < x->n_main; i++)
		if (x->main[i].has_undo && x->main[i].state != SS_ROLLED_BACK)
			names_add(&left, x->main[i].id);
	fprintf(out, "  - The rollback did not complete%s%s.\n", x->rollback_reason ? ": " : "",
		x->rollback_reason ? x->rollback_reason : "");
	if (undone.n)
		fprintf(out, "  - Undone: %s.\n", undone.b.data);
	if (left.n)
		fprintf(out, "  - Not undone, as the run left them: %s. Check their state before anything else.\n",
			left.b.data);
	if (x->barrier_step)
		fprintf(out, "  - Nothing before the irreversible step %s was rolled back.\n", x->barrier_step);
	dr_buf_dispose(&undone.b);
	dr_buf_dispose(&left.b);
}

/* A rollback began to undo the run: some undo task started. */
static bool undo_started(const dr_exec *x)
{
	for (size_t u = 0; u < x->n_units; u++)
		if (ever_ran(x->units[u]))
			return true;
	return false;
}

/* A recovery point fallback changed a VM's point: the journal does not keep it, so the run cannot be retried. */
static bool fallback_applied_any(const dr_exec *x)
{
	uint64_t seq;
	for (size_t i = 0; i < x->n_main; i++)
		for (size_t k = 0; k < x->main[i].n_tasks; k++)
			if (fallback_point(&x->main[i].tasks[k], &seq))
				return true;
	return false;
}

/* What is safe to do about a failed run: retry it from its failure when its journal allows (journal_retry.c). */
static void print_retry(const dr_exec *x, FILE *out)
{
	bool failed = x->status == DR_RUN_FAILED && x->jr;
	if (x->state_error && x->jr)
		fprintf(out, "  - Its state could not be saved (see internal error above): make room on that file system, or "
			     "make it writable, then go on with it: drover resume %s (what completed is not run again; what "
			     "was in flight is settled by asking the service first).\n",
			x->run_id);
	else if (failed && x->o.mode == DR_MODE_DRILL)
		fputs("  - Fix the cause shown above, then run the drill again: a drill cleans up its test failovers when it "
		      "ends, so there is nothing to retry from.\n",
		      out);
	else if (failed && undo_started(x))
		fputs("  - A retry cannot go on from a rollback that began: check what was and was not undone, fix the cause, "
		      "then start a new run (steps that succeeded run again too, so make sure they are safe to repeat).\n",
		      out);
	else if (failed && fallback_applied_any(x))
		fputs("  - A retry cannot go on from a recovery point fallback (the journal does not keep it): check the VMs, "
		      "fix the cause, then start a new run (steps that succeeded run again too, so make sure they are safe "
		      "to repeat).\n",
		      out);
	else if (failed)
		fprintf(out, "  - Fix the cause shown above, then go on from the failure: drover resume %s --retry-failed. The "
			     "failed tasks get new attempts, the tasks that never started run, and what completed is not run "
			     "again (a changed runbook needs --force).\n",
			x->run_id);
	else if (x->jr)
		fputs("  - Fix the cause shown above, then run again: steps that succeeded run again too, so make sure "
		      "they are safe to repeat.\n",
		      out);
	else
		fputs("  - Fix the cause shown above, then run again: steps that succeeded run again too (this run kept no "
		      "journal to go on from), so make sure they are safe to repeat.\n",
		      out);
}

static void next_failed(const dr_exec *x, FILE *out)
{
	if (x->run_timed_out)
		fputs("  - The run's timeout (defaults.run_timeout) ran out; running tasks were asked to stop.\n", out);
	print_interrupted(x, out);
	if (x->n_units)
		print_rollback(x, out);
	else if (x->o.mode == DR_MODE_DRILL)
		print_in_place(x, out, "Completed in the drill (its test VMs are cleaned up under finally:)");
	else
		print_in_place(x, out, "Completed, and left in place (nothing was rolled back)");
	for (size_t i = 0; i < x->n_not_undone; i++)
		fprintf(out, "  - Not undone: %s has no undo; undo it by hand if needed.\n", x->not_undone[i]);
	print_retry(x, out);
}

static void next_steps(const dr_exec *x, FILE *out)
{
	if (journal_suspended(x))
		return; /* a resume stopped before going on: resume.c said what to check */
	switch (x->status) {
	case DR_RUN_SUCCEEDED:
		return;
	case DR_RUN_ROLLED_BACK:
		fputs("next:\n  - Every completed task was undone, newest first. Fix the cause shown above, then run "
		      "again.\n",
		      out);
		return;
	case DR_RUN_CANCELLED:
		fputs("next:\n", out);
		print_interrupted(x, out);
		print_in_place(x, out, "Completed before the cancellation, and left in place");
		if (x->jr)
			fprintf(out, "  - Go on with it when ready: drover resume %s (what completed is not run again; what the "
				     "cancellation interrupted is settled by asking the service first; the finally: steps run again at "
				     "the end).\n",
			x->run_id);
		else
			fputs("  - Run again when ready; the finally: steps have run.\n", out);
		return;
	default:
		fputs("next:\n", out);
		next_failed(x, out);
		return;
	}
}

static void write_summary(dr_exec *x, FILE *out)
{
	char el[32];
	dr_text_format_duration(dr_clock_now(x->clock), el, sizeof el);
	fprintf(out, "run %s %s after %s (exit %d)\n", x->run_id, dr_run_status_name(x->status), el,
		dr_exec_exit_code(x->status));
	print_counts(x, out);
	report_dr_print(x, out);
	if (x->stop_reason)
		fprintf(out, "  stopped: %s\n", x->stop_reason);
	print_failures(x->main, x->n_main, "failed:", out);
	print_failures(x->fin, x->n_fin, "finally failed:", out);
	if (x->rollback_reason)
		fprintf(out, "  rollback stopped: %s\n", x->rollback_reason);
	if (x->internal_error)
		fprintf(out, "  internal error: %s\n", x->internal_error);
	next_steps(x, out);
}

void summary_print(dr_exec *x, FILE *out)
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	if (!mem)
		return;
	write_summary(x, mem);
	fclose(mem);
	char *clean = dr_events_redact(x->ev, text);
	fputs(clean, out);
	fflush(out);
	free(clean);
	free(text);
}
