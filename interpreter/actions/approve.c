/*
 * actions/approve.c - the `approve` gate: wait until a person answers.
 *
 * A person's time is real time. The gate blocks on a worker thread
 * (DR_AF_BLOCKING) and waits on the real clock: its timeout and waited_ms
 * are real, and while it waits a virtual clock stands still (the run's
 * clock never jumps while a worker runs), so an answer four seconds later
 * is four seconds later, not days of simulated time. On the real clock the
 * run's time goes on as always.
 *
 * The gate opens: with --yes it is granted at once (and the events say
 * so); otherwise a request file is written (approvals.h) and, when the run
 * is interactive and the terminal is free, a prompt is shown. Then, every
 * POLL_MS of real time, it looks for an answer: an answer file from
 * `drover approve RUN STEP [--deny]`, or a line typed at the prompt. When
 * timeout: passes first, on_timeout decides; a cancellation of the run
 * ends the wait within POLL_MS.
 *
 * A grant succeeds with outputs {approved, by, at, via, comment,
 * waited_ms}; a denial fails the task as permanent (never retried unless
 * retry.on says any), so the step's on_failure decides what the run does.
 * Every decision is an event: approval.request, approval.granted,
 * approval.denied, approval.timeout.
 */
#include "actions/family.h"

#include <ctype.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "journal/approvals.h"
#include "journal/journal.h"
#include "run/clock.h"
#include "run/eval.h"
#include "run/exec.h"
#include "front/runbook.h"
#include "util/buf.h"
#include "util/text.h"
#include "util/xalloc.h"

#define POLL_MS 250

typedef struct gate {
	char *key;
	char *message;
	int64_t opened, deadline; /* real time (CLOCK_MONOTONIC, ms); deadline DR_CLOCK_NEVER: none */
	bool approve_on_timeout;
	bool timed_out; /* decided by its timeout: it waited exactly deadline - opened */
	bool prompting;
	dr_buf line; /* typed at the prompt so far */
} gate;

typedef struct verdict {
	bool approved;
	const char *by, *via, *comment;
	const char *as; /* drover approve --as: a note, not an identity; NULL when none */
} verdict;

static const cJSON *in(const dr_call *call, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(call->with, key);
}

static void gate_free(gate *g)
{
	if (!g)
		return;
	free(g->key);
	free(g->message);
	dr_buf_dispose(&g->line);
	free(g);
}

static void close_gate(dr_call *call)
{
	gate *g = call->state;
	if (!g)
		return;
	dr_approval_withdraw(dr_exec_run_dir(call->run), g->key);
	if (g->prompting)
		dr_exec_prompt_release(call->run, call);
	gate_free(g);
	call->state = NULL;
}

/* A person's clock: real, monotonic, in ms. */
static int64_t real_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* When, on the run's clock (a virtual one stands still while the gate waits). */
static void at_text(const dr_call *call, char *out, size_t n)
{
	dr_clock_format_wall(dr_exec_wall(call->run, call->run ? dr_exec_now(call->run) : call->now_ms), out, n);
}

/* --- decisions ------------------------------------------------------- */

static dr_outcome decide(dr_call *call, const gate *g, verdict v)
{
	char at[40];
	at_text(call, at, sizeof at);
	int64_t waited = !g ? 0 : g->timed_out ? g->deadline - g->opened : real_ms() - g->opened;
	cJSON *ev = dr_exec_event(call->run, call, v.approved ? "approval.granted" : "approval.denied");
	cJSON_AddStringToObject(ev, "by", v.by);
	cJSON_AddStringToObject(ev, "via", v.via);
	cJSON_AddStringToObject(ev, "at", at);
	cJSON_AddStringToObject(ev, "comment", v.comment ? v.comment : "");
	if (v.as)
		cJSON_AddStringToObject(ev, "as", v.as);
	cJSON_AddNumberToObject(ev, "waited_ms", (double)waited);
	dr_exec_emit(call->run, ev);
	if (!v.approved)
		return dr_outcome_fail(DR_ERRC_PERMANENT, "denied by %s%s%s", v.by, v.comment && *v.comment ? ": " : "",
				       v.comment ? v.comment : "");
	cJSON *out = cJSON_CreateObject();
	cJSON_AddBoolToObject(out, "approved", true);
	cJSON_AddStringToObject(out, "by", v.by);
	cJSON_AddStringToObject(out, "at", at);
	cJSON_AddStringToObject(out, "via", v.via);
	cJSON_AddStringToObject(out, "comment", v.comment ? v.comment : "");
	if (v.as)
		cJSON_AddStringToObject(out, "as", v.as);
	cJSON_AddNumberToObject(out, "waited_ms", (double)waited);
	return dr_outcome_ok(out);
}

static dr_outcome timed_out(dr_call *call, gate *g)
{
	cJSON *ev = dr_exec_event(call->run, call, "approval.timeout");
	cJSON_AddStringToObject(ev, "decision", g->approve_on_timeout ? "approve" : "deny");
	cJSON_AddNumberToObject(ev, "waited_ms", (double)(g->deadline - g->opened)); /* its timeout, to the ms */
	dr_exec_emit(call->run, ev);
	char d[32];
	dr_text_human_duration(g->deadline - g->opened, d, sizeof d);
	g->timed_out = true; /* waited_ms: its timeout, as approval.timeout says, whenever the clock is read */
	if (g->approve_on_timeout)
		return decide(call, g, (verdict){true, "timeout", "timeout", NULL, NULL});
	return dr_outcome_fail(DR_ERRC_PERMANENT, "no answer within %s (on_timeout: deny)", d);
}

/* --- answers --------------------------------------------------------- */

/* An answer from someone who is not among approvers: a warning; the gate goes on waiting. */
static void refuse(dr_call *call, const char *who, const char *via)
{
	char *list = cJSON_PrintUnformatted(in(call, "approvers"));
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "an answer by %s (via %s) was ignored: not one of the approvers %s; still waiting", who, via,
		      list ? list : "[]");
	dr_exec_log(call->run, call, "warn", b.data);
	dr_buf_dispose(&b);
	cJSON_free(list);
}

/* An answer file's verdict: 1 with *o, or 0 when its author is not among approvers (the file is removed). */
static int judge_answer(dr_call *call, const gate *g, const cJSON *a, dr_outcome *o)
{
	const char *by = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "by"));
	const char *comment = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "comment"));
	const char *as = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(a, "as"));
	bool yes = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(a, "approved"));
	if (!dr_approval_allowed(in(call, "approvers"), by)) { /* the run decides, whatever wrote the file */
		refuse(call, by ? by : "unknown", "drover approve");
		dr_approval_drop_answer(dr_exec_run_dir(call->run), g->key);
		return 0;
	}
	*o = decide(call, g, (verdict){yes, by ? by : "unknown", "drover approve", comment, as});
	return 1;
}

static int file_answer(dr_call *call, const gate *g, dr_outcome *o)
{
	cJSON *a = NULL;
	dr_buf err;
	dr_buf_init(&err);
	int rc = dr_approval_poll(dr_exec_run_dir(call->run), g->key, &a, &err);
	if (rc < 0)
		dr_exec_log(call->run, call, "warn", err.data);
	dr_buf_dispose(&err);
	if (rc > 0)
		rc = judge_answer(call, g, a, o);
	cJSON_Delete(a);
	return rc > 0;
}

/* The command that answers g from another shell: with --state-dir when the run's is not the default one. */
static void answer_command(dr_buf *b, dr_call *call, const gate *g)
{
	dr_journal_command(b, "approve", dr_exec_state_dir(call->run), dr_exec_run_id(call->run));
	dr_buf_putc(b, ' ');
	dr_text_shell_word(b, g->key);
}

static void prompt(dr_call *call, const gate *g, const char *lead)
{
	dr_buf b;
	dr_buf_init(&b);
	char label[256];
	dr_exec_task_label(call, label, sizeof label);
	char *shown_label = dr_text_term(label), *shown = dr_text_term(g->message); /* one line each, nothing that moves the cursor */
	dr_buf cmd;
	dr_buf_init(&cmd);
	answer_command(&cmd, call, g);
	char *shown_cmd = dr_text_term(cmd.data);
	dr_buf_printf(&b, "%s%s: %s\n  Approve? Type yes or no (or from another shell: %s [--deny]): ", lead, shown_label,
		      shown, shown_cmd);
	free(shown_label);
	free(shown);
	free(shown_cmd);
	dr_buf_dispose(&cmd);
	dr_exec_say(call->run, b.data);
	dr_buf_dispose(&b);
}

/* Read what is typed without blocking; true when a whole line is there (in g->line). */
static bool typed_line(gate *g)
{
	struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
	char buf[256];
	while (!strchr(g->line.data, '\n') && poll(&p, 1, 0) == 1 && (p.revents & (POLLIN | POLLHUP))) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof buf);
		if (n <= 0)
			return false;
		dr_buf_append(&g->line, buf, (size_t)n);
	}
	return strchr(g->line.data, '\n') != NULL;
}

static int tty_answer(dr_call *call, gate *g, dr_outcome *o)
{
	if (!g->prompting || !typed_line(g))
		return 0;
	char *s = g->line.data;
	*strchr(s, '\n') = '\0';
	while (isspace((unsigned char)*s))
		s++;
	bool yes = !strcasecmp(s, "y") || !strcasecmp(s, "yes"), no = !strcasecmp(s, "n") || !strcasecmp(s, "no");
	dr_buf_reset(&g->line);
	if (!yes && !no) {
		prompt(call, g, "Please answer yes or no. ");
		return 0;
	}
	char user[128];
	dr_approval_user(user, sizeof user);
	if (!dr_approval_allowed(in(call, "approvers"), user)) {
		refuse(call, user, "the terminal");
		prompt(call, g, "Only an approver may answer. ");
		return 0;
	}
	*o = decide(call, g, (verdict){yes, user, "terminal", NULL, NULL});
	return 1;
}

/* --- opening the gate ------------------------------------------------ */

static cJSON *request_json(const dr_call *call, const gate *g)
{
	char at[40];
	at_text(call, at, sizeof at);
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "run", dr_exec_run_id(call->run));
	cJSON_AddStringToObject(r, "step", call->step ? call->step->id.name : "");
	if (call->target)
		cJSON_AddStringToObject(r, "target", call->target->name);
	cJSON_AddStringToObject(r, "message", g->message);
	const cJSON *ap = in(call, "approvers");
	cJSON_AddItemToObject(r, "approvers", ap ? cJSON_Duplicate(ap, true) : cJSON_CreateArray());
	cJSON_AddStringToObject(r, "requested_at", at);
	return r;
}

static void announce(dr_call *call, const gate *g)
{
	cJSON *ev = dr_exec_event(call->run, call, "approval.request");
	cJSON_AddStringToObject(ev, "message", g->message);
	const cJSON *ap = in(call, "approvers");
	if (ap)
		cJSON_AddItemToObject(ev, "approvers", cJSON_Duplicate(ap, true));
	if (g->deadline != DR_CLOCK_NEVER)
		cJSON_AddNumberToObject(ev, "timeout_ms", (double)(g->deadline - g->opened));
	dr_buf cmd;
	dr_buf_init(&cmd);
	answer_command(&cmd, call, g);
	cJSON_AddStringToObject(ev, "command", cmd.data);
	dr_buf_dispose(&cmd);
	dr_exec_emit(call->run, ev);
	dr_exec_wake(call->run); /* into the journal now, not when the gate is answered: status and a resume read it */
}

/* Parse the inputs into a new gate; NULL with *o set when they are unusable. */
static gate *gate_new(dr_call *call, dr_outcome *o)
{
	const cJSON *t = in(call, "timeout");
	int64_t ms = -1;
	size_t bad;
	if (t && !cJSON_IsNull(t) && !(cJSON_IsString(t) && dr_text_parse_duration(t->valuestring, &ms, &bad))) {
		*o = dr_outcome_fail(DR_ERRC_PERMANENT, "approve: timeout is not a duration like 30m");
		return NULL;
	}
	gate *g = xcalloc(1, sizeof *g);
	const cJSON *m = in(call, "message");
	char *text = m ? dr_eval_to_text(m) : xstrdup("Approve?");
	g->message = dr_exec_redact(call->run, text); /* the request file, the events and the prompt: no secret */
	free(text);
	g->key = dr_approval_key(call->step ? call->step->id.name : "approve", call->target ? call->target->name : NULL);
	g->opened = real_ms();
	g->deadline = ms >= 0 ? g->opened + ms : DR_CLOCK_NEVER;
	const cJSON *ot = in(call, "on_timeout");
	g->approve_on_timeout = cJSON_IsString(ot) && !strcmp(ot->valuestring, "approve");
	dr_buf_init(&g->line);
	return g;
}

static dr_outcome open_gate(dr_call *call)
{
	dr_outcome o;
	gate *g = gate_new(call, &o);
	if (!g)
		return o;
	if (dr_exec_auto_approve(call->run)) {
		char user[128];
		dr_approval_user(user, sizeof user);
		o = decide(call, NULL, (verdict){true, user, "--yes", NULL, NULL}); /* nobody was waited for: waited_ms 0 */
		gate_free(g);
		return o;
	}
	dr_buf err;
	dr_buf_init(&err);
	cJSON *req = request_json(call, g);
	int rc = dr_approval_post(dr_exec_run_dir(call->run), g->key, req, &err);
	cJSON_Delete(req);
	if (rc < 0) {
		o = dr_outcome_fail(DR_ERRC_PERMANENT, "cannot open the approval gate: %s (use --state-dir, or --yes to "
						       "approve without asking)", err.data);
		dr_buf_dispose(&err);
		gate_free(g);
		return o;
	}
	dr_buf_dispose(&err);
	call->state = g;
	announce(call, g);
	g->prompting = dr_exec_prompt_claim(call->run, call);
	if (g->prompting)
		prompt(call, g, "");
	return dr_outcome_wait(0); /* not a decision: the caller waits (call->state is the open gate) */
}

/* --- the entry points ------------------------------------------------ */

/* Sleep until something may have changed: a line typed (when prompting), or POLL_MS, or the deadline. */
static void nap(const gate *g)
{
	int64_t left = g->deadline == DR_CLOCK_NEVER ? POLL_MS : g->deadline - real_ms();
	int ms = left < POLL_MS ? (left > 0 ? (int)left : 0) : POLL_MS;
	struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
	if (g->prompting) {
		poll(&p, 1, ms);
		return;
	}
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* One look at the gate; true with *o when it is decided. */
static bool look(dr_call *call, gate *g, dr_outcome *o)
{
	if (dr_exec_cancelled(call)) {
		*o = dr_outcome_fail(DR_ERRC_CANCELLED, "the approval was abandoned: the run is stopping");
		return true;
	}
	if (!g->prompting && (g->prompting = dr_exec_prompt_claim(call->run, call)))
		prompt(call, g, "");
	if (file_answer(call, g, o) || tty_answer(call, g, o))
		return true;
	if (real_ms() < g->deadline)
		return false;
	*o = timed_out(call, g);
	return true;
}

dr_outcome dr_action_approve_run(dr_call *call)
{
	dr_outcome o = open_gate(call);
	if (!call->state)
		return o; /* granted by --yes, or the gate could not open */
	while (!look(call, call->state, &o))
		nap(call->state);
	close_gate(call);
	return o;
}

void dr_action_approve_cancel(dr_call *call)
{
	close_gate(call);
}
