/*
 * status.c - `drover status RUN-ID`: one run as its journal tells it, laid
 * out like the service's Jobs page: the run, its steps (state, tasks,
 * failures, time), its VMs (what each step did to each), what needs a look
 * (failures with their errors and attempts, operations in flight, open
 * approvals), and what is safe to do next. Reads only the journal
 * (runinfo.h): it works while the run runs, after it died, and after it
 * ended. --format json prints the same as one JSON object.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "run/clock.h"
#include "journal/runinfo.h"

static int status_main(int argc, char **argv);

const dr_command dr_cmd_status = {
	.name = "status",
	.summary = "Show one run from its journal: steps, VMs, attempts, errors, what to do next.",
	.usage = "[--state-dir DIR] [--format text|json] RUN-ID",
	.help = "Options:\n"
		"      --state-dir DIR   where the runs are (default: $DROVER_STATE_DIR, else .drover)\n"
		"      --format FORMAT   text (default) or json\n"
		"  -h, --help            show this help\n"
		"\nA run's status: succeeded, failed, rolled_back, cancelled (it ended); running (a drover holds\n"
		"its lock now); interrupted (drover stopped without ending it: resume it); suspended (a resume\n"
		"could not tell what became of an operation: check it, then resume). Exit status 0, or 2 when\n"
		"the run is unknown or its journal is corrupted. Details: docs/journal.md.\n",
	.main = status_main,
};

/* --- text ------------------------------------------------------------------ */

static void elapsed(int64_t ms, char *out, size_t n)
{
	if (ms < 0)
		snprintf(out, n, "-");
	else
		dr_clock_format_elapsed(ms, out, n);
}

static const char *step_name(const dr_runinfo_step *s, char *buf, size_t n)
{
	if (s->undoes)
		snprintf(buf, n, "undo %s", s->undoes);
	else if (s->phase && !strcmp(s->phase, "finally"))
		snprintf(buf, n, "finally %s", s->id);
	else if (s->phase && !strcmp(s->phase, "rollback"))
		snprintf(buf, n, "rollback %s", s->id);
	else
		snprintf(buf, n, "%s", s->id);
	return buf;
}

static void print_run(const dr_runinfo *ri)
{
	char started[40], el[32], down[32];
	dr_clock_format_wall(ri->started_wall, started, sizeof started);
	elapsed(ri->elapsed_ms, el, sizeof el);
	elapsed(ri->downtime_ms, down, sizeof down);
	printf("run %s: %s\n", ri->run, ri->status);
	printf("  runbook   %s (%s)%s\n", ri->runbook ? ri->runbook : "?", ri->path ? ri->path : "?",
	       ri->runbook_changed ? "; the file has changed since" : "");
	printf("  mode      %s, %s; %s clock\n", ri->mode ? ri->mode : "?", ri->direction ? ri->direction : "?",
	       ri->clock ? ri->clock : "?");
	printf("  started   %s; elapsed %s", started, el);
	if (ri->sessions > 1)
		printf(" over %zu sessions (drover down %s)", ri->sessions, down);
	printf("\n  journal   %s: %zu records", ri->f.path, ri->f.n + 1);
	if (ri->f.torn)
		printf("; the last line (%zu) is torn (%zu bytes) and left out", ri->f.torn_line, ri->f.torn_bytes);
	printf("\n");
	if (ri->reason)
		printf("  why       %s\n", ri->reason);
}

static void print_steps(const dr_runinfo *ri)
{
	int w = 4;
	char name[256], el[32];
	for (size_t i = 0; i < ri->n_steps; i++)
		w = (int)strlen(step_name(&ri->steps[i], name, sizeof name)) > w ? (int)strlen(name) : w;
	printf("\n%-*s  %-24s %-11s %5s %5s %6s %7s %9s  %s\n", w, "STEP", "ACTION", "STATE", "TASKS", "OK", "FAILED",
	       "SKIPPED", "CANCELLED", "ELAPSED");
	for (size_t i = 0; i < ri->n_steps; i++) {
		const dr_runinfo_step *s = &ri->steps[i];
		int64_t end = s->ended_ms >= 0 ? s->ended_ms : ri->elapsed_ms;
		elapsed(s->started_ms >= 0 ? end - s->started_ms : -1, el, sizeof el);
		char tasks[16];
		snprintf(tasks, sizeof tasks, s->n_tasks >= 0 ? "%d" : "-", s->n_tasks);
		printf("%-*s  %-24s %-11s %5s %5d %6d %7d %9d  %s\n", w, step_name(s, name, sizeof name),
		       s->action ? s->action : "", s->state, tasks, s->ok, s->failed, s->skipped, s->cancelled, el);
	}
}

/* The VMs, each with what every step did to it. */
static void print_vms(const dr_runinfo *ri)
{
	const char **vms = calloc(ri->n_tasks + 1, sizeof *vms);
	size_t n = 0;
	int w = 2;
	for (size_t i = 0; i < ri->n_tasks; i++) {
		const char *t = ri->tasks[i].target;
		bool seen = !t;
		for (size_t k = 0; k < n && !seen; k++)
			seen = !strcmp(vms[k], t);
		if (!seen) {
			vms[n++] = t;
			w = (int)strlen(t) > w ? (int)strlen(t) : w;
		}
	}
	if (n)
		printf("\nVM%*s  STEPS\n", w - 2, "");
	for (size_t k = 0; k < n; k++) {
		printf("%-*s  ", w, vms[k]);
		size_t shown = 0;
		for (size_t i = 0; i < ri->n_tasks; i++) {
			const dr_runinfo_task *t = &ri->tasks[i];
			if (!t->target || strcmp(t->target, vms[k]))
				continue;
			printf("%s%s%s %s", shown++ ? ", " : "", t->undoes ? "undo " : "", t->undoes ? t->undoes : t->step,
			       !strcmp(t->state, "running") ? "in flight" : t->state);
			if (t->attempt > 1)
				printf(" (attempt %d)", t->attempt);
		}
		printf("\n");
	}
	free(vms);
}

static void print_task_line(const dr_runinfo_task *t)
{
	char label[512], at[32];
	snprintf(label, sizeof label, "%s%s%s%s%s", t->undoes ? "undo " : "", t->undoes ? t->undoes : t->step,
		 t->target ? "[" : "", t->target ? t->target : "", t->target ? "]" : "");
	elapsed(t->started_ms, at, sizeof at);
	if (!strcmp(t->state, "running") && t->approval_open)
		printf("  %s: waiting for an approval (drover approve)\n", label);
	else if (!strcmp(t->state, "running"))
		printf("  %s: in flight, attempt %d of %s%s, started at %s, no result recorded%s%s\n", label, t->attempt,
		       t->action ? t->action : "?", t->mutating ? " (changes the service)" : "", at,
		       t->probe ? "; last probe: " : "", t->probe ? t->probe : "");
	else
		printf("  %s: %s after %d attempt%s%s%s%s\n", label, t->state, t->attempt, t->attempt == 1 ? "" : "s",
		       t->cls ? " (" : "", t->cls ? t->cls : "", t->cls ? ")" : "");
	if (t->message && strcmp(t->state, "running") && strcmp(t->state, "succeeded"))
		printf("      %s\n", t->message);
}

static void print_attention(const dr_runinfo *ri)
{
	size_t n = 0;
	for (size_t i = 0; i < ri->n_tasks; i++) {
		const dr_runinfo_task *t = &ri->tasks[i];
		bool look = !strcmp(t->state, "running") || !strcmp(t->state, "failed") || !strcmp(t->state, "retrying");
		if (!look)
			continue;
		if (!n++)
			printf("\nNEEDS A LOOK\n");
		print_task_line(t);
	}
}

/* A run that ended and did not succeed: retry it from its failure when the journal allows (journal_retry.c). */
static void print_next_ended(const dr_runinfo *ri)
{
	dr_buf msg;
	dr_buf_init(&msg);
	if (dr_journal_retry_check(&ri->f, ri->run, &msg) == DR_RETRY_OK) {
		printf("  The run is over (failed). What completed stays in place (above: the steps that succeeded and "
		       "the VMs they changed).\n  Fix the cause, then go on from the failure: drover resume %s "
		       "--retry-failed\n  (the failed tasks get new attempts, the tasks that never started run, what "
		       "completed is not run again).\n",
		       ri->run);
		if (ri->runbook_changed)
			printf("  The runbook changed since the run started: the retry refuses it unless --force, and says "
			       "what each change means.\n");
	} else {
		printf("  The run is over (%s). What completed stays in place (above: the steps that succeeded and the "
		       "VMs they changed);\n  fix the cause and start a new run (drover run) to go on from the service's "
		       "state.\n",
		       ri->status);
		if (!strcmp(ri->status, "failed") && msg.len)
			printf("  No retry (drover resume --retry-failed): %s.\n", msg.data);
	}
	dr_buf_dispose(&msg);
}

static void print_next(const dr_runinfo *ri)
{
	const char *s = ri->status, *id = ri->run;
	printf("\nNEXT\n");
	if (!strcmp(s, "running")) {
		printf("  A drover is running it now. Wait for it%s.\n", ri->open_approvals ? ", or answer its open approvals: "
											     "drover approve RUN-ID STEP"
											   : "");
	} else if (!strcmp(s, "interrupted") || !strcmp(s, "cancelled") || !strcmp(s, "suspended")) {
		if (!strcmp(s, "suspended"))
			printf("  A resume stopped because the service could not tell what became of the operations "
			       "in flight above. Check them in the service, then resume.\n");
		printf("  drover resume %s  goes on from the journal: what finished is not repeated%s", id,
		       ri->in_flight ? "; " : ".\n");
		if (ri->in_flight)
			printf("the %zu operation%s in flight %s settled by asking the service first.\n", ri->in_flight,
			       ri->in_flight == 1 ? "" : "s", ri->in_flight == 1 ? "is" : "are");
		if (!strcmp(s, "cancelled"))
			printf("  The tasks the cancellation left undone will run; the finally steps run again at the end.\n");
		if (ri->runbook_changed)
			printf("  The runbook changed since the run started: resume refuses it unless --force.\n");
		printf("  Do not start a new run of this runbook against the same backend before this one is settled.\n");
	} else if (!strcmp(s, "succeeded")) {
		printf("  Nothing: the run succeeded.\n");
	} else {
		print_next_ended(ri);
	}
}

/* --- json ------------------------------------------------------------------ */

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
}

static cJSON *task_json(const dr_runinfo_task *t)
{
	cJSON *o = cJSON_CreateObject();
	add_str(o, "step", t->step);
	add_str(o, "target", t->target);
	add_str(o, "phase", t->phase);
	add_str(o, "undoes", t->undoes);
	add_str(o, "state", t->state);
	add_str(o, "action", t->action);
	cJSON_AddNumberToObject(o, "attempt", t->attempt);
	add_str(o, "class", t->cls);
	add_str(o, "message", t->message);
	add_str(o, "job_id", t->job);
	add_str(o, "probe", t->probe);
	if (t->approval_open)
		cJSON_AddBoolToObject(o, "approval_open", true);
	return o;
}

static void print_json(const dr_runinfo *ri)
{
	cJSON *o = cJSON_CreateObject();
	add_str(o, "run", ri->run);
	add_str(o, "status", ri->status);
	add_str(o, "reason", ri->reason);
	add_str(o, "runbook", ri->runbook);
	add_str(o, "file", ri->path);
	cJSON_AddBoolToObject(o, "runbook_changed", ri->runbook_changed);
	add_str(o, "mode", ri->mode);
	add_str(o, "direction", ri->direction);
	cJSON_AddNumberToObject(o, "started_ms", (double)ri->started_wall);
	cJSON_AddNumberToObject(o, "elapsed_ms", (double)ri->elapsed_ms);
	cJSON_AddNumberToObject(o, "downtime_ms", (double)ri->downtime_ms);
	cJSON_AddNumberToObject(o, "sessions", (double)ri->sessions);
	cJSON_AddNumberToObject(o, "in_flight", (double)ri->in_flight);
	if (ri->f.torn)
		cJSON_AddNumberToObject(o, "torn_line", (double)ri->f.torn_line);
	cJSON *steps = cJSON_AddArrayToObject(o, "steps"), *tasks = cJSON_AddArrayToObject(o, "tasks");
	for (size_t i = 0; i < ri->n_steps; i++) {
		const dr_runinfo_step *s = &ri->steps[i];
		cJSON *j = cJSON_CreateObject();
		add_str(j, "step", s->id);
		add_str(j, "phase", s->phase);
		add_str(j, "undoes", s->undoes);
		add_str(j, "action", s->action);
		add_str(j, "state", s->state);
		if (s->n_tasks >= 0)
			cJSON_AddNumberToObject(j, "tasks", s->n_tasks);
		add_str(j, "reason", s->reason);
		cJSON_AddItemToArray(steps, j);
	}
	for (size_t i = 0; i < ri->n_tasks; i++)
		cJSON_AddItemToArray(tasks, task_json(&ri->tasks[i]));
	char *text = cJSON_Print(o);
	puts(text);
	cJSON_free(text);
	cJSON_Delete(o);
}

static int status_main(int argc, char **argv)
{
	const char *state;
	bool json;
	int rc = dr_cli_parse_state_options(&dr_cmd_status, argc, argv, &state, &json);
	if (rc >= 0)
		return rc;
	if (optind + 1 != argc)
		return dr_cli_usage_error(&dr_cmd_status, optind >= argc ? "which run? ('drover runs' lists them)"
									 : "one run at a time");
	dr_runinfo ri;
	dr_buf err;
	dr_buf_init(&err);
	rc = DR_EXIT_OK;
	if (dr_runinfo_load(dr_journal_state_dir(state), argv[optind], &ri, &err) < 0) {
		fprintf(stderr, "drover status: %s\n", err.data);
		rc = DR_EXIT_INVALID;
	} else if (json) {
		print_json(&ri);
	} else {
		print_run(&ri);
		print_steps(&ri);
		print_vms(&ri);
		print_attention(&ri);
		print_next(&ri);
	}
	dr_runinfo_dispose(&ri);
	dr_buf_dispose(&err);
	return rc;
}
