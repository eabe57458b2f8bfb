/*
 * summary.c - the report printed when a run ends: how it ended, what
 * failed and why, what state things are left in, and what is safe to do
 * next. It reads the run model (journal/runinfo.h) once run.end is in it,
 * so it states what the events and the journal state.
 *
 *   run NAME-ID failed after 1m5s (exit 1)
 *     steps: 3 succeeded, 1 failed, 2 cancelled
 *     failed: failover-app: 2 of 4 tasks failed (max_failures allows 0)
 *       failover-app[shop-app-1]: connection reset (transient, attempt 3)
 *     ...
 *   next:
 *     - ...
 */
#include "views/summary.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal/runinfo.h"
#include "util/buf.h"
#include "util/text.h"
#include "views/report_dr.h"

#define MAX_LISTED 8

/* "drover VERB [--state-dir DIR] RUN" for this run, into b (a fresh buffer the caller disposes). */
static const char *cmd(dr_buf *b, const dr_runinfo *ri, const char *verb)
{
	dr_buf_init(b);
	return dr_journal_command(b, verb, ri->state_dir, ri->run);
}

/* "drover drill [--state-dir DIR] FILE": the drill of this run's runbook, as it was named, appended to b. */
static const char *drill_again(dr_buf *b, const dr_runinfo *ri)
{
	return dr_journal_command(b, "drill", ri->state_dir, ri->path ? ri->path : "FILE");
}

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

static bool is_main(const dr_ri_step *s)
{
	return !s->phase && !s->undoes;
}

static bool is_finally(const dr_ri_step *s)
{
	return s->phase && !strcmp(s->phase, "finally");
}

/* A task of the step made an attempt. */
static bool ever_ran(const dr_runinfo *ri, const dr_ri_step *s)
{
	for (size_t k = 0; k < s->n_task_refs; k++) {
		const dr_ri_attempt *a = dr_runinfo_last_attempt(&ri->tasks[s->tasks[k]]);
		if (a && a->n > 0)
			return true;
	}
	return false;
}

/* The main steps in state st, by id. */
static void collect(const dr_runinfo *ri, names *l, dr_ri_state st)
{
	for (size_t i = 0; i < ri->n_steps; i++)
		if (is_main(&ri->steps[i]) && ri->steps[i].state == st)
			names_add(l, ri->steps[i].id);
}

static void print_counts_of(const dr_runinfo *ri, bool (*in)(const dr_ri_step *), const char *what, FILE *out)
{
	size_t c[DR_RI__STATES] = {0}, n = 0;
	for (size_t i = 0; i < ri->n_steps; i++)
		if (in(&ri->steps[i]))
			c[ri->steps[i].state]++, n++;
	if (!n)
		return;
	fprintf(out, "  %s:", what);
	const char *sep = " ";
	for (int s = 0; s < DR_RI__STATES; s++)
		if (c[s]) {
			fprintf(out, "%s%zu %s", sep, c[s], dr_ri_state_name((dr_ri_state)s));
			sep = ", ";
		}
	fputc('\n', out);
}

/* s escaped for the terminal (dr_text_escape_term), in scratch (reset first): a text from a runbook, a service or a person. */
static const char *term(dr_buf *scratch, const char *s)
{
	dr_buf_reset(scratch);
	if (s)
		dr_text_escape_term(scratch, s, strlen(s), 0);
	return scratch->data;
}

static void print_failed_tasks(const dr_runinfo *ri, const dr_ri_step *s, FILE *out)
{
	size_t shown = 0;
	char label[512];
	for (size_t k = 0; k < s->n_task_refs; k++) {
		const dr_ri_task *t = &ri->tasks[s->tasks[k]];
		if (t->state != DR_RI_FAILED)
			continue;
		if (shown++ == MAX_LISTED) {
			dr_buf c;
			fprintf(out, "      ... and %zu more ('%s' lists them)\n", s->count[DR_RI_FAILED] - MAX_LISTED,
				cmd(&c, ri, "status"));
			dr_buf_dispose(&c);
			break;
		}
		const dr_ri_attempt *a = dr_runinfo_last_attempt(t);
		dr_buf m, l;
		dr_buf_init(&m);
		dr_buf_init(&l);
		fprintf(out, "      %s: %s (%s, attempt %d)\n", term(&l, dr_runinfo_task_label(ri, t, label, sizeof label)),
			term(&m, a && a->message ? a->message : "failed"), a && a->cls ? a->cls : "failed", a ? a->n : 0);
		dr_buf_dispose(&m);
		dr_buf_dispose(&l);
	}
}

static void print_failures(const dr_runinfo *ri, bool (*in)(const dr_ri_step *), const char *what, FILE *out)
{
	for (size_t i = 0; i < ri->n_steps; i++) {
		const dr_ri_step *s = &ri->steps[i];
		if (!in(s) || s->state != DR_RI_FAILED)
			continue;
		dr_buf r;
		dr_buf_init(&r);
		fprintf(out, "  %s %s: %s%s\n", what, s->id, term(&r, s->reason ? s->reason : "failed"),
			s->tolerated ? " (tolerated: on_failure: continue)" : "");
		dr_buf_dispose(&r);
		if (s->n_tasks > 1)
			print_failed_tasks(ri, s, out);
	}
}

static bool is_drill(const dr_runinfo *ri)
{
	return ri->mode && !strcmp(ri->mode, "drill");
}

/* A resume can go on with the run: it keeps a journal, it is not a drill (whose cleanup ran) and it was cancelled. */
static bool resumable(const dr_runinfo *ri)
{
	return ri->journal && !is_drill(ri) && !strcmp(ri->status, "cancelled");
}

/* The drill's last check found nothing left: what its test failovers did is gone. */
static bool drill_clean(const dr_runinfo *ri)
{
	return is_drill(ri) && ri->drill.verified && ri->drill.status && !strcmp(ri->drill.status, "clean");
}

/*
 * Tasks whose mutating call may have gone out and did not finish: never a probe, never one that did not start.
 * What to do about them: nothing in a drill whose cleanup the backend verified (their test failovers are gone);
 * else check them, or let drover resume ask the service how each one ended.
 */
static void print_interrupted(const dr_runinfo *ri, FILE *out)
{
	names l = {.n = 0};
	char label[512];
	dr_buf_init(&l.b);
	for (size_t i = 0; i < ri->n_tasks; i++)
		if (is_main(dr_runinfo_task_step(ri, &ri->tasks[i])) && dr_runinfo_task_interrupted(&ri->tasks[i]))
			names_add(&l, dr_runinfo_task_label(ri, &ri->tasks[i], label, sizeof label));
	if (!l.n)
		;
	else if (drill_clean(ri))
		fprintf(out, "  - Interrupted while running: %s. The drill's cleanup removed what %s made (verified "
			     "with the backend): nothing of %s is left to check.\n",
			l.b.data, l.n == 1 ? "its test failover" : "their test failovers", l.n == 1 ? "it" : "them");
	else if (resumable(ri))
		fprintf(out, "  - Interrupted while running (their operations may be half-way): %s. drover resume asks the "
			     "service how each one ended before it goes on; check the state of these targets before "
			     "changing them by hand.\n",
			l.b.data);
	else
		fprintf(out, "  - Interrupted while running (their operations may be half-way): %s. Check the state of "
			     "these targets before anything else.\n",
			l.b.data);
	dr_buf_dispose(&l.b);
}

static void list_steps(const dr_runinfo *ri, dr_buf *b, const size_t *steps, size_t n)
{
	for (size_t k = 0; k < n && k < MAX_LISTED; k++)
		dr_buf_printf(b, "%s%s", k ? ", " : "", ri->steps[steps[k]].id);
	if (n > MAX_LISTED)
		dr_buf_puts(b, ", ...");
}

/*
 * "; failover-db[shop-db-1] was waiting for a person (since 2m: job J is Suspended at ...)" (appended to b): the
 * tasks whose job waited for a manual action in the service when the cancellation came: paused there, not failed.
 */
static void waited_then(const dr_runinfo *ri, const dr_ri_cancel_point *p, dr_buf *b)
{
	char label[512], since[32];
	if (!p->n_waiting)
		return;
	const dr_ri_task *t = &ri->tasks[p->waiting[0]];
	const dr_ri_attempt *a = NULL;
	for (size_t k = 0; k < t->n_attempts; k++) /* the attempt that waited then */
		if (t->attempts[k].person_since_ms >= 0 && t->attempts[k].person_since_ms <= ri->cancel_ms)
			a = &t->attempts[k];
	dr_text_human_duration(a ? a->person_since_ms : 0, since, sizeof since);
	dr_buf_printf(b, "; %s was waiting for a person (since %s", dr_runinfo_task_label(ri, t, label, sizeof label), since);
	if (a && a->person_asked)
		dr_buf_printf(b, ": %s", a->person_asked);
	dr_buf_puts(b, ")");
	if (p->n_waiting > 1)
		dr_buf_printf(b, ", and %zu more task%s", p->n_waiting - 1, p->n_waiting == 2 ? "" : "s");
}

/* "during failover-db, which changes the service" (into b): the steps a cancellation found running, by kind. */
static const char *cancelled_during(const dr_runinfo *ri, const dr_ri_cancel_point *p, dr_buf *b)
{
	if (p->n_cleaning) {
		dr_buf_puts(b, "during the cleanup (finally: ");
		list_steps(ri, b, p->cleaning, p->n_cleaning);
		dr_buf_puts(b, "), which was let finish");
	} else if (p->n_changing) {
		dr_buf_puts(b, "during ");
		list_steps(ri, b, p->changing, p->n_changing);
		dr_buf_puts(b, ", while changing the service");
	} else if (p->n_reading == 1 && ri->steps[p->reading[0]].action && !strcmp(ri->steps[p->reading[0]].action, "approve")) {
		dr_buf_printf(b, "while %s waited for a person's approval (nothing was asked of the service)",
			      ri->steps[p->reading[0]].id);
	} else if (p->n_reading) {
		dr_buf_puts(b, "during ");
		list_steps(ri, b, p->reading, p->n_reading);
		dr_buf_printf(b, " (%s nothing)", p->n_reading == 1 ? "it changes" : "they change");
	} else {
		dr_buf_puts(b, "between steps, with no task running");
	}
	waited_then(ri, p, b);
	return b->data;
}

/*
 * The first line of a cancelled run's next: where the cancellation found it, and whether anything had changed.
 * Returns whether a mutating call had gone out by then (true when not known).
 */
static bool print_cancel_point(const dr_runinfo *ri, FILE *out)
{
	if (ri->cancel_ms < 0)
		return true;
	dr_ri_cancel_point p;
	dr_runinfo_cancel_point(ri, &p);
	char at[32];
	dr_text_human_duration(ri->cancel_ms, at, sizeof at);
	dr_buf b;
	dr_buf_init(&b);
	fprintf(out, "  - Cancelled at %s %s", at, cancelled_during(ri, &p, &b));
	if (!p.changed)
		fputs(", before any change was asked of the service: nothing was changed, so there is nothing to check or "
		      "undo",
		      out);
	fputs(".\n", out);
	dr_buf_dispose(&b);
	bool changed = p.changed;
	dr_ri_cancel_point_dispose(&p);
	return changed;
}

/*
 * The main steps that completed, under lead; when after is not NULL (a cancelled run), those that completed after the
 * cancellation (it let them finish) are apart, under after: the cancellation line names them as running when it came,
 * and they did not complete before it. Then the steps that never started.
 */
static void print_in_place_split(const dr_runinfo *ri, FILE *out, const char *lead, const char *after)
{
	names done = {.n = 0}, later = {.n = 0}, never = {.n = 0};
	dr_buf_init(&done.b);
	dr_buf_init(&later.b);
	dr_buf_init(&never.b);
	for (size_t i = 0; i < ri->n_steps; i++) {
		const dr_ri_step *s = &ri->steps[i];
		if (is_main(s) && s->state == DR_RI_SUCCEEDED)
			names_add(after && dr_runinfo_completed_after_cancel(ri, s) ? &later : &done, s->id);
		else if (is_main(s) && s->state == DR_RI_CANCELLED && !ever_ran(ri, s))
			names_add(&never, s->id);
	}
	if (done.n)
		fprintf(out, "  - %s: %s.\n", lead, done.b.data);
	if (later.n)
		fprintf(out, "  - %s: %s.\n", after, later.b.data);
	if (never.n)
		fprintf(out, "  - Never started: %s.\n", never.b.data);
	dr_buf_dispose(&done.b);
	dr_buf_dispose(&later.b);
	dr_buf_dispose(&never.b);
}

static void print_in_place(const dr_runinfo *ri, FILE *out, const char *lead)
{
	print_in_place_split(ri, out, lead, NULL);
}

/* What a drill completed (after: as print_in_place_split), then where its test VMs are now: cleaned up, left behind, or not known. */
static void print_drill_in_place(const dr_runinfo *ri, FILE *out, const char *lead, const char *after)
{
	dr_buf b;
	dr_buf_init(&b);
	print_in_place_split(ri, out, lead, after);
	const char *left = dr_report_dr_drill_left(&b, ri);
	fprintf(out, "  - %c%s.\n", toupper((unsigned char)left[0]), left + 1);
	dr_buf_dispose(&b);
}

static void print_rollback(const dr_runinfo *ri, FILE *out)
{
	names undone = {.n = 0}, left = {.n = 0};
	dr_buf_init(&undone.b);
	dr_buf_init(&left.b);
	collect(ri, &undone, DR_RI_ROLLED_BACK);
	for (size_t i = 0; i < ri->n_steps; i++)
		if (is_main(&ri->steps[i]) && ri->steps[i].has_undo && ri->steps[i].state != DR_RI_ROLLED_BACK)
			names_add(&left, ri->steps[i].id);
	const char *why = ri->rollback.stopped;
	fprintf(out, "  - The rollback did not complete%s%s.\n", why ? ": " : "", why ? why : "");
	if (undone.n)
		fprintf(out, "  - Undone: %s.\n", undone.b.data);
	if (left.n)
		fprintf(out, "  - Not undone, as the run left them: %s. Check their state before anything else.\n",
			left.b.data);
	if (ri->rollback.barrier)
		fprintf(out, "  - Nothing before the irreversible step %s was rolled back.\n", ri->rollback.barrier);
	dr_buf_dispose(&undone.b);
	dr_buf_dispose(&left.b);
}

/* A rollback began to undo the run: some undo task made an attempt. */
static bool undo_started(const dr_runinfo *ri)
{
	for (size_t i = 0; i < ri->n_steps; i++)
		if (ri->steps[i].undoes && ever_ran(ri, &ri->steps[i]))
			return true;
	return false;
}

/* A recovery point fallback changed a VM's point: a retry cannot go on from it. */
static bool fallback_applied_any(const dr_runinfo *ri)
{
	for (size_t i = 0; i < ri->n_tasks; i++)
		if (ri->tasks[i].fallback.set)
			return true;
	return false;
}

/* What is safe to do about a failed run: retry it from its failure when its journal allows (journal_retry.c). */
static void print_retry(const dr_runinfo *ri, FILE *out)
{
	dr_buf c, d;
	dr_buf_init(&d);
	const char *resume = cmd(&c, ri, "resume");
	bool failed = !strcmp(ri->status, "failed") && ri->journal;
	if (ri->state_error && ri->journal)
		fprintf(out, "  - Its state could not be saved (see internal error above): make room on that file system, or "
			     "make it writable, then go on with it: %s (what completed is not run again; what "
			     "was in flight is settled by asking the service first).\n",
			resume);
	else if (failed && is_drill(ri))
		fprintf(out, "  - %sFix the cause shown above, then run the drill again (%s): a drill cleans up its test "
			     "failovers when it ends, so there is nothing to retry from.\n",
			dr_report_dr_failed(ri) ? "Clean up the test VMs it left first (see above). " : "", drill_again(&d, ri));
	else if (failed && undo_started(ri))
		fputs("  - A retry cannot go on from a rollback that began: check what was and was not undone, fix the cause, "
		      "then start a new run (steps that succeeded run again too, so make sure they are safe to repeat).\n",
		      out);
	else if (failed && fallback_applied_any(ri))
		fputs("  - A retry cannot go on from a recovery point fallback (the journal does not keep it): check the VMs, "
		      "fix the cause, then start a new run (steps that succeeded run again too, so make sure they are safe "
		      "to repeat).\n",
		      out);
	else if (failed)
		fprintf(out, "  - Fix the cause shown above, then go on from the failure: %s --retry-failed. The "
			     "failed tasks get new attempts, the tasks that never started run, and what completed is not run "
			     "again (a changed runbook needs --force).\n",
			resume);
	else if (ri->journal)
		fputs("  - Fix the cause shown above, then run again: steps that succeeded run again too, so make sure "
		      "they are safe to repeat.\n",
		      out);
	else
		fputs("  - Fix the cause shown above, then run again: steps that succeeded run again too (this run kept no "
		      "journal to go on from), so make sure they are safe to repeat.\n",
		      out);
	dr_buf_dispose(&c);
	dr_buf_dispose(&d);
}

/* The run failed only because objectives.enforce held it to an objective it missed: no step failed, nothing timed out. */
static bool failed_by_objectives(const dr_runinfo *ri)
{
	if (!ri->objectives_failed || ri->timed_out || dr_report_dr_failed(ri))
		return false;
	for (size_t i = 0; i < ri->n_steps; i++)
		if (ri->steps[i].state == DR_RI_FAILED || ri->steps[i].state == DR_RI_CANCELLED)
			return false;
	return true;
}

static void next_objectives(const dr_runinfo *ri, FILE *out)
{
	dr_buf b;
	dr_buf_init(&b);
	if (is_drill(ri)) /* its finally: cleaned up what it did: nothing stays in place */
		fprintf(out, "  - Every step did its work and %s: nothing to undo or retry. The drill failed only because "
			     "it missed an objective that objectives.enforce: %s holds it to.\n",
			dr_report_dr_drill_left(&b, ri), ri->enforce ? ri->enforce : "drill");
	else
		fprintf(out, "  - Every step did its work, and what it did stays in place (nothing to undo or retry): the run "
			     "failed only because it missed an objective that objectives.enforce: %s holds it to.\n",
			ri->enforce ? ri->enforce : "drill");
	dr_buf_dispose(&b);
	fprintf(out,
		"  - Find what took longest (%s -o run.html draws the timeline; drover plan --estimate "
		"the critical path), make it faster or revise objectives:, then %s.\n",
		cmd(&b, ri, "report"), is_drill(ri) ? "drill again" : "check the next drill");
	dr_buf_dispose(&b);
}

static void next_failed(const dr_runinfo *ri, FILE *out)
{
	if (failed_by_objectives(ri)) {
		next_objectives(ri, out);
		return;
	}
	if (ri->timed_out)
		fputs("  - The run's timeout (defaults.run_timeout) ran out; running tasks were asked to stop.\n", out);
	if (ri->cancelled) /* a drill cancelled, then failed by what its cleanup left */
		print_cancel_point(ri, out);
	print_interrupted(ri, out);
	if (ri->rollback.started)
		print_rollback(ri, out);
	else if (is_drill(ri))
		print_drill_in_place(ri, out, "Completed in the drill", NULL);
	else
		print_in_place(ri, out, "Completed, and left in place (nothing was rolled back)");
	for (size_t i = 0; i < ri->n_not_undone; i++)
		fprintf(out, "  - Not undone: %s has no undo; undo it by hand if needed.\n", ri->not_undone[i]);
	print_retry(ri, out);
}

/* A cancelled drill: its cleanup ran, so it is run again, never resumed. */
static void next_cancelled_drill(const dr_runinfo *ri, bool changed, FILE *out)
{
	dr_buf d;
	dr_buf_init(&d);
	static const char after[] = "Completed in the drill after the cancellation (let finish)";
	if (!changed && drill_clean(ri)) {
		print_in_place_split(ri, out, "Completed in the drill before the cancellation", after);
		fprintf(out, "  - Run the drill again when ready: %s (it made no test VM, so there is nothing to clean up "
			     "or go on from).\n",
			drill_again(&d, ri));
	} else { /* its finally: cleaned the test VMs up: a resume would validate VMs that are gone */
		print_drill_in_place(ri, out, "Completed in the drill before the cancellation", after);
		fprintf(out, "  - %sun the drill again when ready: %s (its cleanup ran, so there is nothing to go on from).\n",
			dr_report_dr_failed(ri) ? "Clean up the test VMs it left first (see above), then r" : "R",
			drill_again(&d, ri));
	}
	dr_buf_dispose(&d);
}

static void next_cancelled(const dr_runinfo *ri, FILE *out)
{
	bool changed = print_cancel_point(ri, out);
	print_interrupted(ri, out);
	if (is_drill(ri)) {
		next_cancelled_drill(ri, changed, out);
		return;
	}
	print_in_place_split(ri, out, "Completed before the cancellation, and left in place",
			     "Completed after the cancellation (let finish), and left in place");
	if (!ri->journal) {
		fputs("  - Run again when ready; the finally: steps have run.\n", out);
		return;
	}
	dr_buf c;
	fprintf(out, "  - Go on with it when ready: %s (what completed is not run again; what the cancellation "
		     "interrupted is settled by asking the service first; the finally: steps run again at the end).\n",
		cmd(&c, ri, "resume"));
	dr_buf_dispose(&c);
}

/* The lines of next:, under head ("next:\n", or "" for drover status). */
static void next_steps(const dr_runinfo *ri, FILE *out, const char *head)
{
	const char *s = ri->status;
	if (!strcmp(s, "suspended") || !strcmp(s, "succeeded"))
		return; /* suspended: a resume stopped before going on, and resume.c said what to check */
	fputs(head, out);
	if (!strcmp(s, "rolled_back"))
		fputs("  - Every completed task was undone, newest first. Fix the cause shown above, then run again.\n", out);
	else if (!strcmp(s, "cancelled"))
		next_cancelled(ri, out);
	else
		next_failed(ri, out);
}

static const char *suspended_as(const dr_runinfo *ri)
{
	return !strcmp(ri->status, "suspended") ? "failed" : ri->status; /* a suspended session exits as failed */
}

static void write_summary(const dr_runinfo *ri, FILE *out)
{
	char el[32];
	dr_text_human_duration(ri->elapsed_ms, el, sizeof el);
	fprintf(out, "run %s %s after %s (exit %d)\n", ri->run, suspended_as(ri), el, ri->exit_code);
	print_counts_of(ri, is_main, "steps", out);
	print_counts_of(ri, is_finally, "finally", out);
	dr_report_dr_print(ri, out);
	dr_buf t;
	dr_buf_init(&t);
	if (ri->reason && ri->ended)
		fprintf(out, "  stopped: %s\n", term(&t, ri->reason));
	print_failures(ri, is_main, "failed:", out);
	print_failures(ri, is_finally, "finally failed:", out);
	if (ri->rollback.stopped)
		fprintf(out, "  rollback stopped: %s\n", term(&t, ri->rollback.stopped));
	if (!strcmp(ri->status, "internal_error") && ri->error)
		fprintf(out, "  internal error: %s\n", term(&t, ri->error));
	dr_buf_dispose(&t);
	next_steps(ri, out, "next:\n");
}

/* Write what write(ri, ...) writes to out, escaped for the terminal. */
static void print_escaped(const dr_runinfo *ri, FILE *out, void (*write)(const dr_runinfo *, FILE *))
{
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	if (!mem)
		return;
	write(ri, mem);
	fclose(mem);
	dr_buf safe; /* what any other line holds cannot drive the terminal either (its line feeds are the summary's) */
	dr_buf_init(&safe);
	dr_text_escape_term(&safe, text, strlen(text), DR_TEXT_KEEP_NEWLINE);
	fputs(safe.data, out);
	fflush(out);
	dr_buf_dispose(&safe);
	free(text);
}

void dr_summary_print(const dr_runinfo *ri, FILE *out) { print_escaped(ri, out, write_summary); }

static void write_next(const dr_runinfo *ri, FILE *out) { next_steps(ri, out, ""); }

void dr_summary_print_next(const dr_runinfo *ri, FILE *out) { print_escaped(ri, out, write_next); }
