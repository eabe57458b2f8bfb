/*
 * journal_retry.c - what a journal says about retrying its run with
 * `drover resume RUN-ID --retry-failed` (docs/journal.md, "Retrying a
 * failed run"), for the CLI and the summary: whether the run may be
 * retried and why not, and what a changed runbook means for a retry.
 *
 * A retry is marked in the journal by its session's run.resume record
 * ("retry_failed": true); the records after the last such mark are the
 * run as it is now (its "last segment"). A run may be retried when it
 * ended failed, is not a drill, and no rollback began to undo it in its
 * last segment; and (the CLI asks) no later run of the same runbook against
 * the same backend may have changed what it left. The replay itself is
 * resume.c's.
 */
#include "journal/journal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "journal/runinfo.h"
#include "util/xalloc.h"

static const char *sval(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static bool is(const cJSON *rec, const char *type)
{
	const char *t = sval(rec, "event");
	return t && !strcmp(t, type);
}

bool dr_journal_is_retry(const cJSON *rec)
{
	return is(rec, "run.resume") && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "retry_failed"));
}

/* The index of the first record of the last segment (after the last retry mark). */
static size_t last_segment(const dr_journal_file *f)
{
	for (size_t i = f->n; i > 0; i--)
		if (dr_journal_is_retry(f->recs[i - 1]))
			return i;
	return 0;
}

/* "a, b": the steps a rollback of the last segment began to undo; 0 when none did. */
static size_t undo_started(const dr_journal_file *f, dr_buf *steps)
{
	size_t n = 0;
	for (size_t i = last_segment(f); i < f->n; i++) {
		const cJSON *r = f->recs[i];
		const char *ph = sval(r, "phase"), *undoes = sval(r, "undoes");
		if (!is(r, "task.start") || !ph || strcmp(ph, "rollback") || !undoes)
			continue;
		char needle[256];
		snprintf(needle, sizeof needle, "%s, ", undoes);
		if (steps->len && strstr(steps->data, needle))
			continue;
		dr_buf_printf(steps, "%s, ", undoes);
		n++;
	}
	if (steps->len > 2)
		steps->data[steps->len -= 2] = '\0';
	return n;
}

/*
 * The label of a main task whose attempts start again from 1 (a recovery
 * point fallback, which the journal does not keep yet, ran for it) into
 * label; false when there is none.
 */
static bool fallback_ran(const dr_journal_file *f, char *label, size_t n)
{
	cJSON *last = cJSON_CreateObject(); /* "step[target]" -> its last attempt */
	bool found = false;
	for (size_t i = 0; i < f->n && !found; i++) {
		const cJSON *r = f->recs[i];
		const cJSON *at = cJSON_GetObjectItemCaseSensitive(r, "attempt");
		if (!is(r, "task.start") || sval(r, "phase") || !sval(r, "step") || !cJSON_IsNumber(at))
			continue;
		const char *target = sval(r, "target");
		snprintf(label, n, "%s%s%s%s", sval(r, "step"), target ? "[" : "", target ? target : "", target ? "]" : "");
		cJSON *seen = cJSON_GetObjectItemCaseSensitive(last, label);
		found = seen && at->valuedouble <= seen->valuedouble;
		if (seen)
			cJSON_SetNumberValue(seen, at->valuedouble);
		else
			cJSON_AddNumberToObject(last, label, at->valuedouble);
	}
	cJSON_Delete(last);
	return found;
}

/* The commands a verdict names: about the run, in its state directory (dr_journal_command). */
typedef struct cmds {
	dr_buf status, resume;
} cmds;

static void cmds_init(cmds *c, const char *state_dir, const char *id)
{
	dr_buf_init(&c->status);
	dr_buf_init(&c->resume);
	dr_journal_command(&c->status, "status", state_dir, id);
	dr_journal_command(&c->resume, "resume", state_dir, id);
}

static void cmds_dispose(cmds *c)
{
	dr_buf_dispose(&c->status);
	dr_buf_dispose(&c->resume);
}

static dr_retry_verdict refuse_ended(const dr_journal_file *f, const char *id, const char *status, const cmds *c,
				     dr_buf *msg)
{
	const char *ts = sval(f->end, "ts") ? sval(f->end, "ts") : "?";
	if (!strcmp(status, "succeeded")) {
		dr_buf_printf(msg, "run %s succeeded at %s: nothing to retry (to see it: %s)", id, ts, c->status.data);
		return DR_RETRY_NOTHING;
	}
	if (!strcmp(status, "rolled_back"))
		dr_buf_printf(msg, "run %s was rolled back at %s: every task it completed was undone, newest first, so "
				   "there is nothing to retry from (the undo already happened). Fix the cause, then start "
				   "a new run (drover run)",
			      id, ts);
	else if (!strcmp(status, "cancelled"))
		dr_buf_printf(msg, "run %s was cancelled, not failed: a plain resume goes on with it (what was "
				   "interrupted is settled by asking the service first): %s",
			      id, c->resume.data);
	else
		dr_buf_printf(msg, "run %s ended %s at %s, not failed: --retry-failed retries a run whose steps "
				   "failed. Look at its output (%s), fix the cause, then start a new run",
			      id, status, ts, c->status.data);
	return DR_RETRY_REFUSED;
}

/* A run that ended failed: refused when it is a drill, or what is in place is not what its journal says. */
static dr_retry_verdict check_failed(const dr_journal_file *f, const char *id, const cmds *c, dr_buf *msg)
{
	const char *mode = sval(f->header, "mode");
	char label[256];
	dr_buf steps;
	dr_buf_init(&steps);
	dr_retry_verdict v = DR_RETRY_REFUSED;
	if (mode && !strcmp(mode, "drill"))
		dr_buf_printf(msg, "run %s is a drill: a drill cleans up its test failovers when it ends (finally:), so "
				   "there is nothing to retry from. Fix the cause and run the drill again (drover drill): "
				   "it changes nothing that a second drill would repeat",
			      id);
	else if (fallback_ran(f, label, sizeof label))
		dr_buf_printf(msg, "run %s tried another recovery point for %s (the recovery point fallback), which its "
				   "journal does not keep yet, so a replay cannot tell what is in place. Check the VMs "
				   "(%s), fix the cause, then start a new run",
			      id, label, c->status.data);
	else if (undo_started(f, &steps))
		dr_buf_printf(msg, "run %s failed and its rollback began to undo what it had completed (%s): the undo "
				   "already happened, in part or in full, so the journal no longer tells what is in place. "
				   "Check what was and was not undone (%s), fix the cause, then start a "
				   "new run",
			      id, steps.data, c->status.data);
	else
		v = DR_RETRY_OK;
	dr_buf_dispose(&steps);
	return v;
}

static dr_retry_verdict verdict(const dr_journal_file *f, const char *id, const cmds *c, dr_buf *msg)
{
	if (!f->ended && last_segment(f) > 0) {
		dr_buf_printf(msg, "run %s was being retried when drover stopped: going on with the retry", id);
		return DR_RETRY_ONGOING;
	}
	if (!f->ended) {
		dr_buf_printf(msg, "run %s has not ended (drover stopped while it ran): a plain resume goes on "
				   "with it (%s); --retry-failed is for a run that ended failed",
			      id, c->resume.data);
		return DR_RETRY_REFUSED;
	}
	const char *status = sval(f->end, "status") ? sval(f->end, "status") : "?";
	return strcmp(status, "failed") ? refuse_ended(f, id, status, c, msg) : check_failed(f, id, c, msg);
}

dr_retry_verdict dr_journal_retry_check(const dr_journal_file *f, const char *state_dir, const char *id, dr_buf *msg)
{
	cmds c;
	cmds_init(&c, state_dir, id);
	dr_retry_verdict v = verdict(f, id, &c, msg);
	cmds_dispose(&c);
	return v;
}

/* --- a later run of the same runbook and backend --------------------------- */

/* The header of the journal at path (its first line), or NULL. */
static cJSON *read_header(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	dr_buf b;
	dr_buf_init(&b);
	int c;
	while ((c = fgetc(f)) != EOF && c != '\n')
		dr_buf_putc(&b, (char)c);
	fclose(f);
	cJSON *h = b.len ? cJSON_Parse(b.data) : NULL;
	dr_buf_dispose(&b);
	return h;
}

static const char *rb_abs(const cJSON *h)
{
	return sval(cJSON_GetObjectItemCaseSensitive(h, "runbook"), "abs");
}

static const char *be_id(const cJSON *h)
{
	return sval(cJSON_GetObjectItemCaseSensitive(h, "backend"), "id");
}

static double started(const cJSON *h)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(h, "started_ms");
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

/* h is another run of f's runbook against f's backend that started after f's run. */
static bool later_sibling(const cJSON *h, const dr_journal_file *f)
{
	const cJSON *me = f->header;
	const char *a = rb_abs(h), *b = be_id(h), *id = sval(h, "run"), *mine = sval(me, "run");
	return a && b && id && mine && rb_abs(me) && be_id(me) && strcmp(id, mine) && !strcmp(a, rb_abs(me)) &&
	       !strcmp(b, be_id(me)) &&
	       (started(h) > started(me) || (started(h) == started(me) && strcmp(id, mine) > 0)); /* as drover runs lists them */
}

char *dr_journal_later_run(const char *state_dir, const dr_journal_file *f)
{
	size_t n;
	char **ids = dr_runinfo_list(state_dir, &n), *found = NULL;
	for (size_t i = 0; i < n; i++) {
		char *path = dr_journal_path(state_dir, ids[i]);
		cJSON *h = found ? NULL : read_header(path);
		if (h && later_sibling(h, f))
			found = xstrdup(ids[i]);
		cJSON_Delete(h);
		free(path);
		free(ids[i]);
	}
	free(ids);
	return found;
}

/* --- what a changed runbook means for a retry ----------------------------- */

/* The last step.end of step id in the main phase (NULL: it never ended). */
static const cJSON *last_end(const dr_journal_file *f, const char *id)
{
	for (size_t i = f->n; i > 0; i--) {
		const cJSON *r = f->recs[i - 1];
		const char *step = sval(r, "step");
		if (is(r, "step.end") && !sval(r, "phase") && step && !strcmp(step, id))
			return r;
	}
	return NULL;
}

static double num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static bool part_changed(const cJSON *before, const cJSON *after, const char *part)
{
	const char *a = sval(cJSON_GetObjectItemCaseSensitive(before, "parts"), part);
	const char *b = sval(cJSON_GetObjectItemCaseSensitive(after, "parts"), part);
	return !a || !b || strcmp(a, b);
}

/* What a change of a main step that ran means, from how it ended. */
static void changed_note(const cJSON *end, const cJSON *before, const cJSON *after, dr_buf *out)
{
	const char *status = sval(end, "status") ? sval(end, "status") : "?";
	bool tolerated = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(end, "tolerated"));
	bool ran = num(end, "succeeded") + num(end, "failed") + num(end, "skipped") > 0;
	if (!end) {
		dr_buf_puts(out, "never started: runs as changed");
	} else if (!strcmp(status, "failed") && !tolerated) {
		dr_buf_puts(out, "failed: its failed tasks run again, with the change");
	} else if (!strcmp(status, "cancelled") && !ran) {
		dr_buf_puts(out, "never started: runs as changed");
	} else if (!strcmp(status, "cancelled")) {
		dr_buf_puts(out, "cut short by the stop: its tasks that did not complete run, with the change; those "
				 "that completed are not run again");
	} else {
		dr_buf_printf(out, "%s%s: not run again; the change does not apply to what it did", status,
			      tolerated ? " (tolerated)" : "");
		if (part_changed(before, after, "needs") || part_changed(before, after, "targets") ||
		    part_changed(before, after, "when"))
			dr_buf_puts(out, ". Its needs/targets/when changed: records that no longer fit are left aside, "
					 "and a task whose records are left aside runs again");
	}
}

size_t dr_journal_retry_notes(const dr_journal_file *f, const cJSON *now, dr_buf *out)
{
	const cJSON *was = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(f->header, "shape"), "steps");
	const cJSON *is_now = cJSON_GetObjectItemCaseSensitive(now, "steps");
	size_t n = 0;
	for (const cJSON *s = was ? was->child : NULL; s; s = s->next) {
		const cJSON *after = cJSON_GetObjectItemCaseSensitive(is_now, s->string);
		const char *da = sval(s, "digest"), *db = sval(after, "digest");
		if (after && da && db && !strcmp(da, db))
			continue;
		const cJSON *end = last_end(f, s->string);
		bool fin = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "finally"));
		dr_buf_printf(out, "  %c step %s: ", after ? '~' : '-', s->string);
		if (!after)
			dr_buf_puts(out, end ? "removed: what it did stays in place; its records are left aside"
					     : "removed: it does not run");
		else if (fin)
			dr_buf_puts(out, "finally: runs again at the end, as changed");
		else
			changed_note(end, s, after, out);
		dr_buf_putc(out, '\n');
		n++;
	}
	for (const cJSON *s = is_now ? is_now->child : NULL; s; s = s->next)
		if (!cJSON_GetObjectItemCaseSensitive(was, s->string)) {
			dr_buf_printf(out, "  + step %s: added: runs once what it needs has ended\n", s->string);
			n++;
		}
	return n;
}
