/*
 * lines.c - the line of each event (see lines.h): tasks, steps, approvals,
 * the run, the preflight, the rollback, a resume's replay and probes; run.objectives,
 * drill.verify and fallback.* come from report_dr.c.
 */
#include "views/lines.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "journal/journal.h"
#include "util/text.h"
#include "views/report_dr.h"

const char *dr_lines_paint(bool color, const char *status)
{
	static const struct {
		const char *status, *code;
	} colours[] = {
		{"succeeded", "\033[32m"}, {"failed", "\033[31m"},  {"cancelled", "\033[33m"},
		{"skipped", "\033[2m"},	   {"running", "\033[36m"}, {"waiting", "\033[36m"},
		{"retrying", "\033[33m"},  {"rolled_back", "\033[35m"}, {"pending", "\033[2m"},
	};
	if (!color || !status)
		return "";
	for (size_t i = 0; i < sizeof colours / sizeof colours[0]; i++)
		if (!strcmp(colours[i].status, status))
			return colours[i].code;
	return "";
}

const char *dr_lines_reset(bool color)
{
	return color ? "\033[0m" : "";
}

static const char *str(const cJSON *ev, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *ev, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, key);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static bool flag(const cJSON *ev, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, key));
}

static void who(dr_buf *b, const cJSON *ev)
{
	const char *step = str(ev, "step"), *target = str(ev, "target");
	dr_buf_printf(b, "%s%s%s%s", step ? step : "", target ? "[" : "", target ? target : "", target ? "]" : "");
	if (str(ev, "undoes"))
		dr_buf_printf(b, " (%s, undoing %s)", str(ev, "action") ? str(ev, "action") : "undo", str(ev, "undoes"));
}

static void dur(dr_buf *b, double ms)
{
	char d[32];
	dr_text_human_duration((int64_t)ms, d, sizeof d);
	dr_buf_puts(b, d);
}

/* --- tasks ----------------------------------------------------------------- */

static void line_task_end(dr_buf *b, const cJSON *ev, bool color)
{
	const char *status = str(ev, "status") ? str(ev, "status") : "?";
	who(b, ev);
	if (num(ev, "attempt") == 0) {
		dr_buf_printf(b, ": could not start (%s): %s", str(ev, "class"), str(ev, "message"));
		return;
	}
	dr_buf_printf(b, ": attempt %d %s%s%s after ", (int)num(ev, "attempt"), dr_lines_paint(color, status), status,
		      dr_lines_reset(color));
	dur(b, num(ev, "elapsed_ms"));
	if (str(ev, "class") && strcmp(status, "succeeded"))
		dr_buf_printf(b, " (%s): %s", str(ev, "class"), str(ev, "message"));
	if (str(ev, "not_retried"))
		dr_buf_printf(b, "; %s", str(ev, "not_retried"));
}

static void line_task_retry(dr_buf *b, const cJSON *ev)
{
	who(b, ev);
	dr_buf_printf(b, ": retrying (%s), attempt %d of %d in ", str(ev, "reason"), (int)num(ev, "attempt"),
		      (int)num(ev, "attempts"));
	dur(b, num(ev, "delay_ms"));
	if (flag(ev, "retry_after"))
		dr_buf_puts(b, " (the service's Retry-After)");
}

static bool line_task(dr_buf *b, const cJSON *ev, const char *type, bool color)
{
	if (!strcmp(type, "task.start")) {
		who(b, ev);
		dr_buf_printf(b, ": attempt %d started", (int)num(ev, "attempt"));
	} else if (!strcmp(type, "task.end")) {
		line_task_end(b, ev, color);
	} else if (!strcmp(type, "task.retry")) {
		line_task_retry(b, ev);
	} else if (!strcmp(type, "task.skip") || !strcmp(type, "task.cancel") || !strcmp(type, "task.giveup")) {
		who(b, ev);
		dr_buf_printf(b, ": %s: %s", !strcmp(type, "task.skip") ? "skipped" : !strcmp(type, "task.cancel") ? "cancelled" : "failed",
			      str(ev, "reason"));
	} else {
		return false;
	}
	return true;
}

/* --- steps ----------------------------------------------------------------- */

static void line_step_end(dr_buf *b, const cJSON *ev, bool color)
{
	const char *status = str(ev, "status") ? str(ev, "status") : "?";
	dr_buf_puts(b, "step ");
	who(b, ev);
	dr_buf_printf(b, " %s%s%s: %d succeeded", dr_lines_paint(color, status), status, dr_lines_reset(color),
		      (int)num(ev, "succeeded"));
	static const char *const more[] = {"failed", "skipped", "cancelled"};
	for (size_t i = 0; i < 3; i++)
		if (num(ev, more[i]))
			dr_buf_printf(b, ", %d %s", (int)num(ev, more[i]), more[i]);
	if (str(ev, "reason"))
		dr_buf_printf(b, " (%s)", str(ev, "reason"));
	if (flag(ev, "tolerated"))
		dr_buf_puts(b, "; tolerated (on_failure: continue)");
}

static bool line_step(dr_buf *b, const cJSON *ev, const char *type, bool color)
{
	if (!strcmp(type, "step.start")) {
		dr_buf_puts(b, "step ");
		who(b, ev);
		dr_buf_printf(b, " started: %d task%s", (int)num(ev, "tasks"), num(ev, "tasks") == 1 ? "" : "s");
		if (str(ev, "order")) /* order.c: the history decides which tasks take the slots first */
			dr_buf_printf(b, ", longest expected first (the history knows %d)", (int)num(ev, "known"));
	} else if (!strcmp(type, "step.end")) {
		line_step_end(b, ev, color);
	} else {
		return false;
	}
	return true;
}

/* --- approvals --------------------------------------------------------------- */

void dr_lines_approve_command(dr_buf *b, const char *command, const char *run, const char *step)
{
	if (command) {
		dr_buf_puts(b, command);
	} else if (run) {
		dr_buf_puts(b, "drover approve ");
		dr_text_shell_word(b, run);
		dr_buf_putc(b, ' ');
		dr_text_shell_word(b, step ? step : "STEP");
	}
}

static void line_approval(dr_buf *b, const cJSON *ev, const char *type)
{
	who(b, ev);
	if (!strcmp(type, "approval.request")) {
		dr_buf_printf(b, ": waiting for approval: %s", str(ev, "message"));
		if (str(ev, "command")) {
			dr_buf_puts(b, " (answer with: ");
			dr_lines_approve_command(b, str(ev, "command"), NULL, NULL);
			dr_buf_putc(b, ')');
		}
		return;
	}
	if (!strcmp(type, "approval.timeout")) {
		dr_buf_printf(b, ": no answer in time; on_timeout: %s", str(ev, "decision"));
		return;
	}
	dr_buf_printf(b, ": %s by %s", !strcmp(type, "approval.granted") ? "approved" : "denied", str(ev, "by"));
	if (str(ev, "via"))
		dr_buf_printf(b, " (%s)", str(ev, "via"));
	if (str(ev, "comment") && *str(ev, "comment"))
		dr_buf_printf(b, ": %s", str(ev, "comment"));
}

/* --- the run ----------------------------------------------------------------- */

static void line_run(dr_buf *b, const cJSON *ev, const char *type)
{
	if (!strcmp(type, "run.start")) {
		int n = (int)num(ev, "steps"), v = (int)num(ev, "vms");
		dr_buf_printf(b, "run %s started: %d step%s, %d finally, %d VM%s, %s clock", str(ev, "run"), n,
			      n == 1 ? "" : "s", (int)num(ev, "finally"), v, v == 1 ? "" : "s", str(ev, "clock"));
		if (flag(ev, "auto_approve"))
			dr_buf_puts(b, "; --yes: approvals are granted without asking");
	} else if (!strcmp(type, "run.end")) {
		dr_buf_printf(b, "run %s after ", str(ev, "status"));
		dur(b, num(ev, "elapsed_ms"));
	} else if (!strcmp(type, "run.stopping")) {
		dr_buf_printf(b, "stopping (%s): %s; %d task%s still running", str(ev, "policy"), str(ev, "reason"),
			      (int)num(ev, "running"), num(ev, "running") == 1 ? "" : "s");
	} else {
		dr_buf_printf(b, "%s: %s", !strcmp(type, "run.cancel") ? "cancelling" : "run timeout", str(ev, "reason"));
		if (str(ev, "note")) {
			dr_buf_printf(b, "; %s", str(ev, "note"));
		} else if (num(ev, "grace_ms") > 0) {
			dr_buf_puts(b, "; running tasks get ");
			dur(b, num(ev, "grace_ms"));
			dr_buf_printf(b, " (--grace) to stop, then the finally: steps run%s",
				      !strcmp(type, "run.cancel") ? "; a second signal exits at once" : "");
		} else {
			dr_buf_puts(b, "; running tasks get the grace period to stop");
		}
	}
}

static void line_rollback(dr_buf *b, const cJSON *ev, const char *type)
{
	if (!strcmp(type, "rollback.start")) {
		dr_buf_printf(b, "rolling back %d completed task%s, newest first", (int)num(ev, "tasks"),
			      num(ev, "tasks") == 1 ? "" : "s");
		if (str(ev, "barrier"))
			dr_buf_printf(b, " (not across the irreversible step %s)", str(ev, "barrier"));
	} else if (!strcmp(type, "rollback.end")) {
		dr_buf_printf(b, "rollback %s", str(ev, "status"));
	} else {
		dr_buf_printf(b, "rollback of %s skipped: %s", str(ev, "step"), str(ev, "reason"));
	}
}

/* --- a resume (journal.md) ------------------------------------------------------ */

static void line_resume(dr_buf *b, const cJSON *ev)
{
	dr_buf_printf(b, "resuming run %s (session %d): replaying %d journal records; drover was down for ", str(ev, "run"),
		      (int)num(ev, "session"), (int)num(ev, "records"));
	dur(b, num(ev, "downtime_ms"));
	if (cJSON_GetObjectItemCaseSensitive(ev, "torn_line"))
		dr_buf_printf(b, "; the torn last line %d (%d bytes) was cut off", (int)num(ev, "torn_line"),
			      (int)num(ev, "torn_bytes"));
	if (flag(ev, "retry_failed"))
		dr_buf_puts(b, "; --retry-failed: the run's failure is not replayed");
}

/*
 * Up to 8 of the tasks named in `tasks` that are (anew) or are not (!anew)
 * in `decided_anew`, appended to b after lead: the two arrays are in the same
 * order (decided_anew is a subsequence), so one walk of each. Returns how many.
 */
static int retry_list(dr_buf *b, const cJSON *tasks, const cJSON *decided, bool anew, const char *lead)
{
	const cJSON *d = decided ? decided->child : NULL, *t;
	int n = 0;
	cJSON_ArrayForEach(t, tasks)
	{
		const char *name = cJSON_GetStringValue(t);
		bool in = d && name && cJSON_GetStringValue(d) && !strcmp(cJSON_GetStringValue(d), name);
		d = in ? d->next : d;
		if (in != anew || !name)
			continue;
		if (n < 8)
			dr_buf_printf(b, "%s%s", n ? ", " : lead, name);
		n++;
	}
	if (n > 8)
		dr_buf_printf(b, " and %d more", n - 8);
	return n;
}

/* run.retry (resume.c): what runs again; a task that failed before its first attempt gets no "new" attempt: it is decided anew. */
static void line_retry(dr_buf *b, const cJSON *ev)
{
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(ev, "tasks");
	const cJSON *anew = cJSON_GetObjectItemCaseSensitive(ev, "decided_anew");
	int fresh = (int)num(ev, "not_started"), flight = (int)num(ev, "in_flight");
	dr_buf_puts(b, "retrying the failed run: ");
	int again = retry_list(b, tasks, anew, false, "new attempts for ");
	int n = retry_list(b, tasks, anew, true, again ? "; decided anew, having failed before a first attempt: " :
							 "decided anew, having failed before a first attempt: ");
	if (!again && !n)
		dr_buf_puts(b, "nothing in the steps to run again");
	if (fresh)
		dr_buf_printf(b, "; %d task%s that never started will run", fresh, fresh == 1 ? "" : "s");
	if (flight)
		dr_buf_printf(b, "; %d attempt%s cut short by the stop %s settled by asking the service first", flight,
			      flight == 1 ? "" : "s", flight == 1 ? "is" : "are");
	dr_buf_puts(b, "; what completed is not run again");
	if (num(ev, "finally"))
		dr_buf_puts(b, "; the finally steps run again at the end");
}

static const struct {
	const char *probe, *text;
} probe_texts[] = {
	{"done", "the service says it is done: its outputs are taken"},
	{"running", "the service says it is still running: waiting for its job"},
	{"not_started", "the service says it never started: starting it now, with the same idempotency key"},
	{"failed", "the service says it failed"},
	{"unknown", "the service cannot tell"},
	{"rerun", "it changes nothing in the service: running it again"},
};

static void line_probe(dr_buf *b, const cJSON *ev)
{
	const char *probe = str(ev, "probe"), *text = probe;
	for (size_t i = 0; probe && i < sizeof probe_texts / sizeof probe_texts[0]; i++)
		if (!strcmp(probe, probe_texts[i].probe))
			text = probe_texts[i].text;
	who(b, ev);
	dr_buf_printf(b, ": attempt %d was in flight when drover stopped; %s", (int)num(ev, "attempt"), text ? text : "?");
	if (str(ev, "message"))
		dr_buf_printf(b, ": %s", str(ev, "message"));
}

static bool line_journal(dr_buf *b, const cJSON *ev, const char *type)
{
	if (!strcmp(type, "run.resume"))
		line_resume(b, ev);
	else if (!strcmp(type, "task.probe"))
		line_probe(b, ev);
	else if (!strcmp(type, "run.retry"))
		line_retry(b, ev);
	else
		return false;
	return true;
}

/* run.preflight (run/exec_preflight.c): what the check of the plan against the service found. */
static void line_preflight(dr_buf *b, const cJSON *ev)
{
	int vms = (int)num(ev, "vms");
	int blockers = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ev, "blockers"));
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(ev, "excluded");
	dr_buf_printf(b, "preflight%s: %d VM%s checked against the service: ", flag(ev, "resumed") ? " (what has not started)" : "",
		      vms, vms == 1 ? "" : "s");
	if (!blockers)
		dr_buf_puts(b, "nothing blocks the plan");
	else if (flag(ev, "runnable"))
		dr_buf_printf(b, "%d blocker%s, runnable without the VMs --exclude-blocked leaves out", blockers,
			      blockers == 1 ? "" : "s");
	else
		dr_buf_printf(b, "BLOCKED (%d blocker%s, listed at the end); nothing is started", blockers,
			      blockers == 1 ? "" : "s");
	int n = cJSON_GetArraySize(ex);
	for (int i = 0; i < n; i++)
		dr_buf_printf(b, "%s%s", i ? ", " : "; excluded: ", cJSON_GetStringValue(cJSON_GetArrayItem(ex, i)));
}

/* --- all of them ----------------------------------------------------------------- */

static bool line_of(dr_buf *b, const cJSON *ev, const char *type, bool color)
{
	if (dr_report_dr_line(b, ev, type) || line_journal(b, ev, type) || line_task(b, ev, type, color) ||
	    line_step(b, ev, type, color))
		return true;
	if (!strcmp(type, "run.preflight")) {
		line_preflight(b, ev);
	} else if (!strcmp(type, "history.warning")) {
		dr_buf_printf(b, "warning: %s", str(ev, "message"));
	} else if (!strcmp(type, "log")) {
		who(b, ev);
		dr_buf_printf(b, ": %s: %s", str(ev, "level"), str(ev, "message"));
	} else if (!strncmp(type, "approval.", 9)) {
		line_approval(b, ev, type);
	} else if (!strncmp(type, "run.", 4)) {
		line_run(b, ev, type);
	} else if (!strncmp(type, "rollback.", 9)) {
		line_rollback(b, ev, type);
	} else {
		return false;
	}
	return true;
}

bool dr_lines_format(dr_buf *b, const cJSON *ev, bool color)
{
	const char *type = str(ev, "event");
	size_t len = b->len;
	if (!type)
		return false;
	if (str(ev, "phase"))
		dr_buf_printf(b, "[%s] ", str(ev, "phase"));
	if (line_of(b, ev, type, color))
		return true;
	b->len = len; /* no line: take the phase back */
	b->data[len] = '\0';
	return false;
}

/* --- text for a terminal ----------------------------------------------------------- */

static bool needs_escape(const cJSON *v)
{
	if (cJSON_IsString(v) && v->valuestring)
		return dr_text_needs_escape(v->valuestring);
	for (const cJSON *c = v->child; c; c = c->next)
		if (needs_escape(c) || (c->string && dr_text_needs_escape(c->string)))
			return true;
	return false;
}

static void escape_all(cJSON *v)
{
	if (cJSON_IsString(v) && v->valuestring && dr_text_needs_escape(v->valuestring)) {
		char *t = dr_text_term(v->valuestring);
		cJSON_free(v->valuestring);
		v->valuestring = (char *)cJSON_malloc(strlen(t) + 1);
		strcpy(v->valuestring, t);
		free(t);
	}
	for (cJSON *c = v->child; c; c = c->next)
		escape_all(c);
}

cJSON *dr_lines_term_event(const cJSON *ev)
{
	if (!needs_escape(ev))
		return NULL;
	cJSON *copy = cJSON_Duplicate(ev, true);
	escape_all(copy);
	return copy;
}
