/*
 * status.c - `drover status [RUN-ID]`: one run as its journal tells it (the
 * latest run when no id is given), laid out like the service's Jobs page:
 * the run, what it achieved against its objectives (RTO, RPO), its steps
 * (state, tasks, failures, time), its VMs (what each step did to each, and
 * each VM's RPO), what needs a look (failures with their errors and
 * attempts, operations in flight, open approvals), and what is safe to do
 * next. Reads only the run model folded from the journal (runinfo.h): it
 * works while the run runs, after it died, and after it ended. Every part
 * is one pass over the model (no scan per VM or per step), so a run of
 * 10,000 VMs shows at the speed its journal parses. --format json prints
 * the same as one JSON object.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "actions/action.h"
#include "cli/cli.h"
#include "run/clock.h"
#include "journal/runinfo.h"
#include "util/text.h"
#include "util/xalloc.h"
#include "views/lines.h"
#include "views/summary.h"
#include "views/report_dr.h"

static int status_main(int argc, char **argv);

const dr_command dr_cmd_status = {
	.name = "status",
	.summary = "Show one run from its journal: steps, VMs, attempts, errors, what to do next.",
	.usage = "[--state-dir DIR] [--format text|json] [RUN-ID]",
	.help = "Options:\n"
		"      --state-dir DIR   where the runs are (default: $DROVER_STATE_DIR, else .drover)\n"
		"      --format FORMAT   text (default) or json\n"
		"  -h, --help            show this help\n"
		"\nWithout RUN-ID: the latest run (the first that 'drover runs' lists). A run's status:\n"
		"succeeded, failed, rolled_back, cancelled (it ended); running (a drover holds its lock now);\n"
		"interrupted (drover stopped without ending it: resume it); suspended (a resume could not tell\n"
		"what became of an operation: check it, then resume). RTO and RPO are shown against the\n"
		"runbook's objectives, each met or MISSED. Exit status 0, or 2 when the run is unknown, there\n"
		"is no run, or its journal is corrupted. Details: docs/journal.md.\n",
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

/* s escaped for the terminal (dr_text_escape_term), in b (reset first): a name or a text from a runbook, an inventory, a service or a person. */
static const char *term(dr_buf *b, const char *s)
{
	dr_buf_reset(b);
	if (s)
		dr_text_escape_term(b, s, strlen(s), 0);
	return b->data;
}

static void print_run(const dr_runinfo *ri)
{
	char started[40], el[32], down[32];
	dr_clock_format_wall(ri->started_wall, started, sizeof started);
	elapsed(ri->elapsed_ms, el, sizeof el);
	elapsed(ri->downtime_ms, down, sizeof down);
	printf("run %s: %s\n", ri->run, ri->status);
	dr_buf t;
	dr_buf_init(&t);
	printf("  runbook   %s (%s)%s\n", ri->runbook ? ri->runbook : "?", term(&t, ri->path ? ri->path : "?"),
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
		printf("  why       %s\n", term(&t, ri->reason));
	dr_buf_dispose(&t);
}

/* --- objectives ---------------------------------------------------------------- */

/* " (objective 30m: met)"; why, when not NULL, follows a verdict of -1: " (objective 30m: not judged, why)". */
static void print_verdict(int64_t objective, int met, const char *why)
{
	char d[32];
	if (objective < 0)
		return;
	dr_report_dr_duration(objective, d, sizeof d);
	printf(" (objective %s: %s%s%s)", d, dr_report_dr_verdict(met), why ? ", " : "", why ? why : "");
}

/* The run is over: its figures are final (a suspended run is not over). */
static bool over(const dr_runinfo *ri)
{
	return ri->ended && strcmp(ri->status, "suspended");
}

/* The run was refused before any step ran: nothing to measure. */
static bool refused(const dr_runinfo *ri)
{
	return !strcmp(ri->status, "blocked") || !strcmp(ri->status, "busy") || !strcmp(ri->status, "stale") ||
	       !strcmp(ri->status, "invalid");
}

static void print_objectives(const dr_runinfo *ri, const dr_ri_objectives *o)
{
	char d[32];
	if (!o->applies || refused(ri))
		return;
	if (o->recovers && !over(ri)) {
		printf("  RTO       not reached yet (the run has not ended)");
	} else if (o->recovers && o->rto_ms >= 0) {
		dr_report_dr_duration(o->rto_ms, d, sizeof d);
		dr_buf t;
		dr_buf_init(&t);
		printf("  RTO       %s, to the last %s that passed: %s", d, o->rto_measured_to, term(&t, o->rto_task));
		dr_buf_dispose(&t);
		print_verdict(o->rto_objective_ms, o->rto_met, NULL);
	} else if (o->recovers) {
		dr_buf t;
		dr_buf_init(&t);
		printf("  RTO       not reached%s%s", o->rto_unreached[0] ? ": " : "", term(&t, o->rto_unreached));
		dr_buf_dispose(&t);
		print_verdict(o->rto_objective_ms, o->rto_unjudged ? -1 : 0, o->rto_unjudged);
	}
	if (o->recovers)
		printf("\n");
	if (o->rpo_ms >= 0) {
		dr_report_dr_duration(o->rpo_ms, d, sizeof d);
		printf("  RPO       worst %s", d);
		print_verdict(o->rpo_objective_ms, o->rpo_met, NULL);
		printf(", over %zu VM%s (each below)\n", o->n_vms, o->n_vms == 1 ? "" : "s");
	} else if (over(ri)) { /* not measured is not missed: objectives.enforce does not count it */
		printf("  RPO       not measured: %s", o->rpo_unmeasured);
		print_verdict(o->rpo_objective_ms, -1, NULL);
		printf("\n");
	} else {
		printf("  RPO       none yet (%s)\n", o->rpo_unmeasured);
	}
	dr_buf e;
	dr_buf_init(&e);
	if (over(ri) && dr_report_dr_enforcement(&e, ri, o))
		printf("  enforce   %s\n", e.data);
	dr_buf_dispose(&e);
}

/* --- steps ------------------------------------------------------------------------ */

static void print_steps(const dr_runinfo *ri)
{
	int w = 4;
	char name[256], el[32], tasks[16];
	for (size_t i = 0; i < ri->n_steps; i++)
		w = (int)strlen(dr_runinfo_step_label(&ri->steps[i], name, sizeof name)) > w ? (int)strlen(name) : w;
	printf("\n%-*s  %-24s %-11s %5s %5s %6s %7s %9s  %s\n", w, "STEP", "ACTION", "STATE", "TASKS", "OK", "FAILED",
	       "SKIPPED", "CANCELLED", "ELAPSED");
	for (size_t i = 0; i < ri->n_steps; i++) {
		const dr_ri_step *s = &ri->steps[i];
		int64_t end = s->ended_ms >= 0 ? s->ended_ms : ri->elapsed_ms;
		elapsed(s->started_ms >= 0 ? end - s->started_ms : -1, el, sizeof el);
		snprintf(tasks, sizeof tasks, s->n_tasks >= 0 ? "%d" : "-", s->n_tasks);
		printf("%-*s  %-24s %-11s %5s %5zu %6zu %7zu %9zu  %s\n", w, dr_runinfo_step_label(s, name, sizeof name),
		       s->action ? s->action : "", dr_ri_state_name(s->state), tasks,
		       s->count[DR_RI_SUCCEEDED] + s->count[DR_RI_ROLLED_BACK], s->count[DR_RI_FAILED],
		       s->count[DR_RI_SKIPPED], s->count[DR_RI_CANCELLED], el);
	}
}

/* --- VMs -------------------------------------------------------------------------- */

static int vm_width(const dr_runinfo *ri)
{
	int w = 2;
	for (size_t v = 0; v < ri->n_vms; v++)
		w = (int)strlen(ri->vms[v].name) > w ? (int)strlen(ri->vms[v].name) : w;
	return w;
}

static void print_vm_steps(const dr_runinfo *ri, const dr_ri_vm *vm)
{
	for (size_t k = 0; k < vm->n_tasks; k++) {
		const dr_ri_task *t = &ri->tasks[vm->tasks[k]];
		const dr_ri_step *s = dr_runinfo_task_step(ri, t);
		const dr_ri_attempt *a = dr_runinfo_last_attempt(t);
		printf("%s%s%s %s", k ? ", " : "", s->undoes ? "undo " : "", s->undoes ? s->undoes : s->id,
		       dr_runinfo_person_wait(t, NULL) >= 0 ? "waiting for a person"
		       : t->state == DR_RI_RUNNING	    ? "in flight"
							    : dr_ri_state_name(t->state));
		if (a && a->n > 1)
			printf(" (attempt %d)", a->n);
	}
}

/* The VMs, each with its RPO and what every step did to it: one pass over each VM's own tasks. */
static void print_vms(const dr_runinfo *ri, const dr_ri_objectives *o)
{
	if (!ri->n_vms)
		return;
	int w = vm_width(ri);
	bool rpo = o->n_vms > 0;
	printf("\nVM%*s  %sSTEPS\n", w - 2, "", rpo ? "RPO      " : "");
	for (size_t v = 0, r = 0; v < ri->n_vms; v++) {
		char d[32] = "-";
		if (r < o->n_vms && o->vms[r].vm == ri->vms[v].name) { /* o->vms follows vms[] */
			dr_report_dr_duration(o->vms[r].rpo_ms, d, sizeof d);
			if (o->vms[r++].met == 0)
				strcat(d, "!");
		}
		dr_buf t;
		dr_buf_init(&t);
		printf("%-*s  ", w, term(&t, ri->vms[v].name));
		dr_buf_dispose(&t);
		if (rpo)
			printf("%-8s ", d);
		print_vm_steps(ri, &ri->vms[v]);
		printf("\n");
	}
	if (rpo && o->rpo_objective_ms >= 0 && o->rpo_met == 0)
		printf("(!: over the RPO objective)\n");
}

/* --- what needs a look ----------------------------------------------------------------- */

/* An open approval: since when, who may answer, what was asked, and the command that answers it (the run's, lines.h). */
static void print_approval(const dr_runinfo *ri, const dr_ri_task *t, const char *label, int64_t since_ms)
{
	dr_buf cmd, shown, msg, who;
	char since[32];
	elapsed(since_ms, since, sizeof since);
	if (!t->approval.requested) { /* drover stopped before its request was written: a resume asks again */
		printf("  %s: waiting for a person since %s: an approval (what was asked is not in the journal: drover "
		       "stopped before writing it; a resume asks again)\n", label, since);
		return;
	}
	dr_buf_init(&cmd);
	dr_buf_init(&shown);
	dr_buf_init(&msg);
	dr_buf_init(&who);
	dr_lines_approve_command(&cmd, t->approval.command, ri->run, dr_runinfo_task_step(ri, t)->id);
	printf("  %s: waiting for a person since %s: an approval, asked of %s: %s\n      answer with: %s\n", label, since,
	       t->approval.approvers ? term(&who, t->approval.approvers) : "anyone who can answer (the gate names no approvers)",
	       term(&msg, t->approval.message), term(&shown, cmd.data));
	dr_buf_dispose(&cmd);
	dr_buf_dispose(&shown);
	dr_buf_dispose(&msg);
	dr_buf_dispose(&who);
}

/* An attempt whose job waits for a manual action in the service (task.person): since when, and what the service asks. */
static void print_person(const dr_ri_task *t, const char *label, int64_t since_ms, const char *asked)
{
	dr_buf msg;
	char since[32];
	dr_buf_init(&msg);
	elapsed(since_ms, since, sizeof since);
	const dr_ri_attempt *a = dr_runinfo_last_attempt(t);
	printf("  %s: waiting for a person since %s, attempt %d of %s%s: %s\n", label, since, a ? a->n : 0,
	       t->action ? t->action : "?", t->mutating ? " (changes the service)" : "",
	       asked ? term(&msg, asked) : "its job waits for a manual action in the service");
	printf("      the step's timeout stands still while a person is awaited; once the job is resumed in the service, "
	       "the run goes on with it (a resumed run finds the job and posts nothing again)\n");
	dr_buf_dispose(&msg);
}

static void print_task_line(const dr_runinfo *ri, const dr_ri_task *t)
{
	char raw[512], at[32];
	const dr_ri_attempt *a = dr_runinfo_last_attempt(t);
	int n = a ? a->n : 0;
	dr_buf lb, mb;
	dr_buf_init(&lb);
	dr_buf_init(&mb);
	const char *label = term(&lb, dr_runinfo_task_label(ri, t, raw, sizeof raw));
	elapsed(a ? a->started_ms : t->started_ms, at, sizeof at);
	const char *asked;
	int64_t person = dr_runinfo_person_wait(t, &asked);
	if (person >= 0 && (t->approval.open || (t->flags & DR_AF_APPROVAL)))
		print_approval(ri, t, label, person);
	else if (person >= 0)
		print_person(t, label, person, asked);
	else if (t->state == DR_RI_RUNNING)
		printf("  %s: in flight, attempt %d of %s%s, started at %s, no result recorded%s%s\n", label, n,
		       t->action ? t->action : "?", t->mutating ? " (changes the service)" : "", at,
		       a && a->probe ? "; last probe: " : "", a && a->probe ? a->probe : "");
	else
		printf("  %s: %s after %d attempt%s%s%s%s\n", label, dr_ri_state_name(t->state), n, n == 1 ? "" : "s",
		       a && a->cls ? " (" : "", a && a->cls ? a->cls : "", a && a->cls ? ")" : "");
	const char *msg = a && a->message ? a->message : t->reason;
	if (msg && t->state != DR_RI_RUNNING && t->state != DR_RI_SUCCEEDED)
		printf("      %s\n", term(&mb, msg));
	if (a && a->not_retried && t->state == DR_RI_FAILED)
		printf("      %s\n", term(&mb, a->not_retried));
	dr_buf_dispose(&lb);
	dr_buf_dispose(&mb);
}

static void print_attention(const dr_runinfo *ri)
{
	size_t n = 0;
	for (size_t i = 0; i < ri->n_tasks; i++) {
		const dr_ri_task *t = &ri->tasks[i];
		if (t->state != DR_RI_RUNNING && t->state != DR_RI_FAILED && t->state != DR_RI_RETRYING)
			continue;
		if (!n++)
			printf("\nNEEDS A LOOK\n");
		print_task_line(ri, t);
	}
}

/* --- what to do next ---------------------------------------------------------------------- */

/* A run that ended and did not succeed: retry it from its failure when the journal allows (journal_retry.c). */
static void print_next_ended(const dr_runinfo *ri)
{
	dr_buf msg, err;
	dr_buf_init(&msg);
	dr_buf_init(&err);
	dr_journal_file f; /* the retry's rules read the records: read them (only for a run that ended failed) */
	bool retry = dr_journal_read(ri->f.path, &f, &err) == 0 && dr_journal_retry_check(&f, ri->state_dir, ri->run, &msg) == DR_RETRY_OK;
	dr_journal_file_dispose(&f);
	dr_buf_dispose(&err);
	if (retry) {
		dr_buf c, shown;
		dr_buf_init(&c);
		dr_buf_init(&shown);
		printf("  The run is over (failed). What completed stays in place (above: the steps that succeeded and "
		       "the VMs they changed).\n  Fix the cause, then go on from the failure: %s "
		       "--retry-failed\n  (the failed tasks get new attempts, the tasks that never started run, what "
		       "completed is not run again).\n",
		       term(&shown, dr_journal_command(&c, "resume", ri->state_dir, ri->run)));
		dr_buf_dispose(&c);
		dr_buf_dispose(&shown);
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

/* Approval gates waiting for a person (not operations in the service: a resume asks them again). */
static size_t open_gates(const dr_runinfo *ri)
{
	size_t n = 0;
	for (size_t i = 0; i < ri->n_tasks; i++)
		n += (ri->tasks[i].flags & DR_AF_APPROVAL) && dr_runinfo_person_wait(&ri->tasks[i], NULL) >= 0;
	return n;
}

static void print_next_unended(const dr_runinfo *ri)
{
	const char *s = ri->status;
	dr_buf c, shown;
	dr_buf_init(&c);
	dr_buf_init(&shown);
	if (!strcmp(s, "suspended"))
		printf("  A resume stopped because the service could not tell what became of the operations "
		       "in flight above. Check them in the service, then resume.\n");
	size_t gates = open_gates(ri), ops = ri->in_flight - (gates < ri->in_flight ? gates : ri->in_flight);
	printf("  %s  goes on from the journal: what finished is not repeated%s",
	       term(&shown, dr_journal_command(&c, "resume", ri->state_dir, ri->run)), ops || gates ? "; " : ".\n");
	dr_buf_dispose(&c);
	dr_buf_dispose(&shown);
	if (ops)
		printf("the %zu operation%s in flight %s settled by asking the service first%s", ops, ops == 1 ? "" : "s",
		       ops == 1 ? "is" : "are", gates ? "; " : ".\n");
	if (gates)
		printf("the %zu approval%s waiting for a person %s asked again.\n", gates, gates == 1 ? "" : "s",
		       gates == 1 ? "is" : "are");
	if (!strcmp(s, "cancelled"))
		printf("  The tasks the cancellation left undone will run; the finally steps run again at the end.\n");
	if (ri->runbook_changed)
		printf("  The runbook changed since the run started: resume refuses it unless --force.\n");
	printf("  Do not start a new run of this runbook against the same backend before this one is settled.\n");
}

/* The preflight refused the run (docs/execution.md, "Preflight"): its blockers, as the run printed them. */
static void print_next_blocked(const dr_runinfo *ri)
{
	dr_buf b;
	dr_buf_init(&b);
	if (ri->error) /* lines drover wrote, with names and messages from the service in them */
		dr_text_escape_term(&b, ri->error, strlen(ri->error), DR_TEXT_KEEP_NEWLINE);
	printf("  ");
	for (const char *e = b.data; *e; e++)
		printf(e[0] == '\n' && e[1] ? "\n  " : "%c", *e);
	printf("\n");
	dr_buf_dispose(&b);
}

/* A drill that ended and did not succeed: its finally: ran its cleanup, so it is not resumed or retried. */
static bool drill_over(const dr_runinfo *ri)
{
	const char *s = ri->status;
	return ri->mode && !strcmp(ri->mode, "drill") && ri->ended &&
	       (!strcmp(s, "failed") || !strcmp(s, "cancelled") || !strcmp(s, "rolled_back"));
}

static void print_next(const dr_runinfo *ri)
{
	const char *s = ri->status;
	printf("\nNEXT\n");
	if (drill_over(ri) || (ri->ended && !strcmp(s, "cancelled"))) {
		fflush(stdout);
		dr_summary_print_next(ri, stdout); /* what the summary said: where it was cancelled, where its test VMs are */
		if (!drill_over(ri) && ri->runbook_changed)
			printf("  The runbook changed since the run started: resume refuses it unless --force.\n");
	} else if (!strcmp(s, "running"))
		printf("  A drover is running it now. Wait for it%s.\n",
		       ri->open_approvals ? ", or answer its open approvals: drover approve RUN-ID STEP" : "");
	else if (!strcmp(s, "interrupted") || !strcmp(s, "cancelled") || !strcmp(s, "suspended"))
		print_next_unended(ri);
	else if (!strcmp(s, "succeeded"))
		printf("  Nothing: the run succeeded.\n");
	else if (!strcmp(s, "blocked"))
		print_next_blocked(ri);
	else
		print_next_ended(ri);
}

static void print_text(const dr_runinfo *ri)
{
	dr_ri_objectives o;
	dr_runinfo_objectives(ri, &o);
	print_run(ri);
	print_objectives(ri, &o);
	print_steps(ri);
	print_vms(ri, &o);
	print_attention(ri);
	print_next(ri);
	dr_ri_objectives_dispose(&o);
}

/* --- json ------------------------------------------------------------------ */

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
}

static cJSON *task_json(const dr_runinfo *ri, const dr_ri_task *t)
{
	const dr_ri_step *s = dr_runinfo_task_step(ri, t);
	const dr_ri_attempt *a = dr_runinfo_last_attempt(t);
	cJSON *o = cJSON_CreateObject();
	add_str(o, "step", s->id);
	add_str(o, "target", t->target);
	add_str(o, "phase", s->phase);
	add_str(o, "undoes", s->undoes);
	add_str(o, "state", dr_ri_state_name(t->state));
	add_str(o, "action", t->action);
	cJSON_AddNumberToObject(o, "attempt", a ? a->n : 0);
	add_str(o, "class", a ? a->cls : NULL);
	add_str(o, "message", a && a->message ? a->message : t->reason);
	add_str(o, "job_id", t->job);
	add_str(o, "probe", a ? a->probe : NULL);
	if (t->approval.open)
		cJSON_AddBoolToObject(o, "approval_open", true);
	const char *asked;
	int64_t since = dr_runinfo_person_wait(t, &asked);
	if (since >= 0) { /* an open approval, or a job that waits for a manual action */
		cJSON *p = cJSON_AddObjectToObject(o, "waiting_for_person");
		add_str(p, "kind", t->flags & DR_AF_APPROVAL ? "approval" : "job");
		cJSON_AddNumberToObject(p, "since_ms", (double)since);
		add_str(p, "asked", asked);
		add_str(p, "approvers", t->approval.open ? t->approval.approvers : NULL);
	}
	return o;
}

static void add_ms(cJSON *o, const char *k, int64_t ms)
{
	if (ms < 0)
		cJSON_AddNullToObject(o, k);
	else
		cJSON_AddNumberToObject(o, k, (double)ms);
}

static void add_met(cJSON *o, const char *k, int met)
{
	if (met < 0)
		cJSON_AddNullToObject(o, k);
	else
		cJSON_AddBoolToObject(o, k, met);
}

/* final: the run is over (an RTO measured before its end is not the run's RTO yet). */
static cJSON *objectives_json(const dr_runinfo *ri, const dr_ri_objectives *ob, bool final)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "final", final);
	cJSON_AddBoolToObject(o, "recovers", ob->recovers);
	add_ms(o, "rto_ms", ob->rto_ms);
	add_ms(o, "rto_objective_ms", ob->rto_objective_ms);
	add_met(o, "rto_met", ob->rto_met);
	add_str(o, "rto_measured_to", ob->rto_measured_to);
	if (ob->rto_ms >= 0)
		add_str(o, "rto_task", ob->rto_task);
	else if (ob->rto_unreached[0])
		add_str(o, "rto_not_reached", ob->rto_unreached);
	add_ms(o, "rpo_ms", ob->rpo_ms);
	add_ms(o, "rpo_objective_ms", ob->rpo_objective_ms);
	add_met(o, "rpo_met", ob->rpo_met);
	add_str(o, "rpo_not_measured", ob->rpo_unmeasured);
	add_str(o, "enforce", ri->enforce);
	cJSON_AddBoolToObject(o, "enforced", ob->enforced);
	if (final)
		cJSON_AddBoolToObject(o, "fails_run", ri->objectives_failed);
	cJSON *vms = cJSON_AddArrayToObject(o, "vms");
	for (size_t i = 0; i < ob->n_vms; i++) {
		const dr_ri_rpo *r = &ob->vms[i];
		cJSON *e = cJSON_CreateObject();
		add_str(e, "vm", r->vm);
		cJSON_AddNumberToObject(e, "rpo_ms", (double)r->rpo_ms);
		add_met(e, "rpo_met", r->met);
		add_str(e, "point", r->point);
		add_str(e, "point_time", r->point_time);
		add_str(e, "policy", r->policy);
		add_str(e, "step", r->step);
		cJSON_AddItemToArray(vms, e);
	}
	return o;
}

static cJSON *step_json(const dr_ri_step *s)
{
	cJSON *j = cJSON_CreateObject();
	add_str(j, "step", s->id);
	add_str(j, "phase", s->phase);
	add_str(j, "undoes", s->undoes);
	add_str(j, "action", s->action);
	add_str(j, "state", dr_ri_state_name(s->state));
	if (s->n_tasks >= 0)
		cJSON_AddNumberToObject(j, "tasks", s->n_tasks);
	add_str(j, "reason", s->reason);
	return j;
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
	dr_ri_objectives ob;
	dr_runinfo_objectives(ri, &ob);
	if (ob.applies)
		cJSON_AddItemToObject(o, "objectives", objectives_json(ri, &ob, over(ri)));
	dr_ri_objectives_dispose(&ob);
	cJSON *steps = cJSON_AddArrayToObject(o, "steps"), *tasks = cJSON_AddArrayToObject(o, "tasks");
	for (size_t i = 0; i < ri->n_steps; i++)
		cJSON_AddItemToArray(steps, step_json(&ri->steps[i]));
	for (size_t i = 0; i < ri->n_tasks; i++)
		cJSON_AddItemToArray(tasks, task_json(ri, &ri->tasks[i]));
	char *text = cJSON_Print(o);
	puts(text);
	cJSON_free(text);
	cJSON_Delete(o);
}

/* --- the command ------------------------------------------------------------ */

static int status_main(int argc, char **argv)
{
	const char *state;
	bool json;
	int rc = dr_cli_parse_state_options(&dr_cmd_status, argc, argv, &state, &json);
	if (rc >= 0)
		return rc;
	if (optind + 1 < argc)
		return dr_cli_usage_error(&dr_cmd_status, "one run at a time");
	state = dr_journal_state_dir(state);
	dr_runinfo ri = {0}; /* disposed even when the id is refused before it is loaded */
	dr_buf err;
	dr_buf_init(&err);
	char *id = optind < argc ? xstrdup(argv[optind]) : dr_cli_latest_run(state, &err);
	rc = DR_EXIT_OK;
	if (!id || !dr_journal_run_id_ok(id, &err) || dr_runinfo_load(state, id, &ri, &err) < 0) {
		fprintf(stderr, "drover status: %s\n", err.data);
		rc = DR_EXIT_INVALID;
	} else if (json) {
		print_json(&ri);
	} else {
		print_text(&ri);
	}
	if (id)
		dr_runinfo_dispose(&ri);
	free(id);
	dr_buf_dispose(&err);
	return rc;
}
