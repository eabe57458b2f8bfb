/*
 * progress.c - what a person sees while a run executes.
 *
 * The view listens to the event stream (events.h), so the screen and the
 * JSON lines cannot disagree. Two modes:
 *
 *   plain  one line per transition, prefixed with the run's elapsed clock
 *          time: for pipes, CI logs and golden tests.
 *   live   on a terminal: a frame of steps and their running tasks (state,
 *          attempt, elapsed), redrawn in place at most every 100 ms, with
 *          lasting lines (logs, failures, approvals) printed above it.
 *
 * Colour only when the caller allows it (a terminal, NO_COLOR unset).
 * The frame reads the scheduler's step runs, so it is only drawn on the
 * scheduler thread; an event from a worker thread (a log line of a blocking
 * action) prints its line and marks the frame dirty.
 */
#include "run/exec_int.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "util/buf.h"
#include "util/text.h"

#define REDRAW_MS 100
#define MAX_TASK_LINES 5
#define MAX_STEP_LINES 30

struct progress {
	dr_exec *x;
	FILE *out;
	bool live, color, paused;
	int drawn; /* lines of the frame on screen */
	int64_t last_draw; /* real monotonic ms */
	pthread_t owner; /* the scheduler thread */
	dr_buf frame;
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

progress *progress_new(dr_exec *x)
{
	progress *p = calloc(1, sizeof *p);
	if (!p)
		abort();
	p->x = x;
	p->out = x->o.screen;
	p->live = x->o.view == DR_VIEW_LIVE;
	p->color = x->o.color;
	p->owner = pthread_self();
	dr_buf_init(&p->frame);
	return p;
}

void progress_free(progress *p)
{
	if (!p)
		return;
	dr_buf_dispose(&p->frame);
	free(p);
}

/* --- colour ---------------------------------------------------------- */

static const char *paint(const progress *p, const char *status)
{
	static const struct {
		const char *status, *code;
	} colours[] = {
		{"succeeded", "\033[32m"}, {"failed", "\033[31m"},  {"cancelled", "\033[33m"},
		{"skipped", "\033[2m"},	   {"running", "\033[36m"}, {"waiting", "\033[36m"},
		{"retrying", "\033[33m"},  {"rolled_back", "\033[35m"},
	};
	if (!p->color || !status)
		return "";
	for (size_t i = 0; i < sizeof colours / sizeof colours[0]; i++)
		if (!strcmp(colours[i].status, status))
			return colours[i].code;
	return "";
}

static const char *reset(const progress *p)
{
	return p->color ? "\033[0m" : "";
}

/* --- plain lines ----------------------------------------------------- */

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
	dr_text_format_duration((int64_t)ms, d, sizeof d);
	dr_buf_puts(b, d);
}

static void line_task_end(progress *p, dr_buf *b, const cJSON *ev)
{
	const char *status = str(ev, "status");
	who(b, ev);
	if (num(ev, "attempt") == 0) {
		dr_buf_printf(b, ": could not start (%s): %s", str(ev, "class"), str(ev, "message"));
		return;
	}
	dr_buf_printf(b, ": attempt %d %s%s%s after ", (int)num(ev, "attempt"), paint(p, status), status, reset(p));
	dur(b, num(ev, "elapsed_ms"));
	if (str(ev, "class") && strcmp(status, "succeeded"))
		dr_buf_printf(b, " (%s): %s", str(ev, "class"), str(ev, "message"));
}

static void line_task_retry(dr_buf *b, const cJSON *ev)
{
	who(b, ev);
	dr_buf_printf(b, ": retrying (%s), attempt %d of %d in ", str(ev, "reason"), (int)num(ev, "attempt"),
		      (int)num(ev, "attempts"));
	dur(b, num(ev, "delay_ms"));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "retry_after")))
		dr_buf_puts(b, " (the service's Retry-After)");
}

static void line_step_end(progress *p, dr_buf *b, const cJSON *ev)
{
	const char *status = str(ev, "status");
	dr_buf_puts(b, "step ");
	who(b, ev);
	dr_buf_printf(b, " %s%s%s: %d succeeded", paint(p, status), status, reset(p), (int)num(ev, "succeeded"));
	static const char *const more[] = {"failed", "skipped", "cancelled"};
	for (size_t i = 0; i < 3; i++)
		if (num(ev, more[i]))
			dr_buf_printf(b, ", %d %s", (int)num(ev, more[i]), more[i]);
	if (str(ev, "reason"))
		dr_buf_printf(b, " (%s)", str(ev, "reason"));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "tolerated")))
		dr_buf_puts(b, "; tolerated (on_failure: continue)");
}

static void line_approval(dr_buf *b, const cJSON *ev, const char *type)
{
	who(b, ev);
	if (!strcmp(type, "approval.request")) {
		dr_buf_printf(b, ": waiting for approval: %s", str(ev, "message"));
		if (str(ev, "command"))
			dr_buf_printf(b, " (answer with: %s)", str(ev, "command"));
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

static void line_run(dr_buf *b, const cJSON *ev, const char *type)
{
	if (!strcmp(type, "run.start")) {
		int n = (int)num(ev, "steps"), v = (int)num(ev, "vms");
		dr_buf_printf(b, "run %s started: %d step%s, %d finally, %d VM%s, %s clock", str(ev, "run"), n,
			      n == 1 ? "" : "s", (int)num(ev, "finally"), v, v == 1 ? "" : "s", str(ev, "clock"));
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "auto_approve")))
			dr_buf_puts(b, "; --yes: approvals are granted without asking");
	} else if (!strcmp(type, "run.end")) {
		dr_buf_printf(b, "run %s after ", str(ev, "status"));
		dur(b, num(ev, "elapsed_ms"));
	} else if (!strcmp(type, "run.stopping")) {
		dr_buf_printf(b, "stopping (%s): %s; %d task%s still running", str(ev, "policy"), str(ev, "reason"),
			      (int)num(ev, "running"), num(ev, "running") == 1 ? "" : "s");
	} else {
		dr_buf_printf(b, "%s: %s", !strcmp(type, "run.cancel") ? "cancelling" : "run timeout", str(ev, "reason"));
		if (str(ev, "note"))
			dr_buf_printf(b, "; %s", str(ev, "note"));
		else
			dr_buf_printf(b, "; running tasks get %s to stop", "the grace period");
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

/* The plain line for ev; false for events that have none. */
static bool plain_line(progress *p, dr_buf *b, const cJSON *ev)
{
	const char *type = str(ev, "event");
	if (report_dr_line(b, ev, type)) {
		/* run.objectives, drill.verify, fallback.* (report_dr.c) */
	} else if (journal_line(b, ev, type)) {
		/* run.resume, task.probe (journal_run.c) */
	} else if (preflight_line(b, ev, type)) {
		/* run.preflight (exec_preflight.c) */
	} else if (!strcmp(type, "task.start")) {
		who(b, ev);
		dr_buf_printf(b, ": attempt %d started", (int)num(ev, "attempt"));
	} else if (!strcmp(type, "task.end")) {
		line_task_end(p, b, ev);
	} else if (!strcmp(type, "task.retry")) {
		line_task_retry(b, ev);
	} else if (!strcmp(type, "task.skip") || !strcmp(type, "task.cancel") || !strcmp(type, "task.giveup")) {
		who(b, ev);
		dr_buf_printf(b, ": %s: %s", !strcmp(type, "task.skip") ? "skipped" : !strcmp(type, "task.cancel") ? "cancelled" : "failed",
			      str(ev, "reason"));
	} else if (!strcmp(type, "step.start")) {
		dr_buf_puts(b, "step ");
		who(b, ev);
		dr_buf_printf(b, " started: %d task%s", (int)num(ev, "tasks"), num(ev, "tasks") == 1 ? "" : "s");
		if (str(ev, "order")) /* order.c: the history decides which tasks take the slots first */
			dr_buf_printf(b, ", longest expected first (the history knows %d)", (int)num(ev, "known"));
	} else if (!strcmp(type, "step.end")) {
		line_step_end(p, b, ev);
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

/* Lasting lines in live mode: what the frame does not show. */
static bool lasting(const char *type, const cJSON *ev)
{
	const char *status = str(ev, "status");
	if (!strcmp(type, "task.end") || !strcmp(type, "step.end"))
		return status && strcmp(status, "succeeded") != 0;
	return strcmp(type, "task.start") && strcmp(type, "step.start") && strcmp(type, "task.retry");
}

/* --- the live frame -------------------------------------------------- */

static void erase(progress *p)
{
	if (p->drawn)
		fprintf(p->out, "\033[%dA\r\033[J", p->drawn);
	p->drawn = 0;
}

static const char *mark(sstate s)
{
	static const char *const marks[SS__COUNT] = {"○", "●", "✓", "✗", "-", "⊘", "↺"};
	return marks[s];
}

static int frame_task(progress *p, const task *t, int64_t now)
{
	const char *st = sched_tstate_name(t->state);
	char el[32];
	dr_text_format_duration(now - t->started_at, el, sizeof el);
	dr_buf_printf(&p->frame, "\r\033[2K      %-24s %s%-9s%s attempt %d  %s\n", p->x->vms[t->vm].name,
		      paint(p, st), st, reset(p), t->attempt, el);
	return 1;
}

static int frame_step(progress *p, const srun *s, int64_t now)
{
	const char *st = sched_sstate_name(s->state);
	char el[32] = "";
	if (s->started)
		dr_text_format_duration((s->ended_at ? s->ended_at : now) - s->started_at, el, sizeof el);
	dr_buf_printf(&p->frame, "\r\033[2K  %s%s %-24s %-11s%s %zu/%zu", paint(p, st), mark(s->state), s->id, st,
		      reset(p), s->n_done, s->n_tasks);
	if (s->n_failed)
		dr_buf_printf(&p->frame, " ✗%zu", s->n_failed);
	if (s->n_tasks == 1 && s->tasks[0].attempt > 1)
		dr_buf_printf(&p->frame, " attempt %d", s->tasks[0].attempt);
	dr_buf_printf(&p->frame, "  %s\n", el);
	int lines = 1, shown = 0;
	for (size_t k = 0; s->state == SS_RUNNING && s->n_tasks > 1 && k < s->n_tasks; k++) {
		const task *t = &s->tasks[k];
		if (t->vm == NO_VM || t->state < TS_RUNNING || t->state > TS_RETRYING)
			continue;
		if (shown++ < MAX_TASK_LINES)
			lines += frame_task(p, t, now);
	}
	if (shown > MAX_TASK_LINES) {
		dr_buf_printf(&p->frame, "\r\033[2K      ... and %d more running\n", shown - MAX_TASK_LINES);
		lines++;
	}
	return lines;
}

static int frame_phase(progress *p, const srun *runs, size_t n, int64_t now, int budget)
{
	int lines = 0;
	for (size_t i = 0; i < n && lines < budget; i++)
		lines += frame_step(p, &runs[i], now);
	return lines;
}

static void draw(progress *p)
{
	dr_exec *x = p->x;
	int64_t now = dr_clock_now(x->clock);
	char el[32];
	dr_text_format_duration(now, el, sizeof el);
	dr_buf_reset(&p->frame);
	dr_buf_printf(&p->frame, "\r\033[2K drover run %s  %s\n", x->run_id, el);
	int lines = 1 + frame_phase(p, x->main, x->n_main, now, MAX_STEP_LINES);
	if (x->ph >= PH_FINALLY)
		lines += frame_phase(p, x->fin, x->n_fin, now, MAX_STEP_LINES);
	erase(p);
	fputs(p->frame.data, p->out);
	fflush(p->out);
	p->drawn = lines;
	p->last_draw = mono_ms();
}

static bool on_owner(const progress *p)
{
	return pthread_equal(pthread_self(), p->owner);
}

static void maybe_draw(progress *p, bool force)
{
	if (!p->live || !on_owner(p) || p->paused || !p->x->main)
		return; /* no frame before the steps exist */
	if (force || mono_ms() - p->last_draw >= REDRAW_MS)
		draw(p);
}

/* --- the listener ---------------------------------------------------- */

static void print_line(progress *p, const char *text, double t_ms)
{
	char el[32];
	dr_clock_format_elapsed((int64_t)t_ms, el, sizeof el);
	if (p->live && on_owner(p) && !p->paused)
		erase(p);
	fprintf(p->out, "%s%s%s %s\n", p->color ? "\033[2m" : "", el, reset(p), text);
	if (!p->live)
		fflush(p->out);
}

void progress_event(void *ctx, const cJSON *ev)
{
	progress *p = ctx;
	const char *type = str(ev, "event");
	dr_buf b;
	dr_buf_init(&b);
	if (str(ev, "phase"))
		dr_buf_printf(&b, "[%s] ", str(ev, "phase"));
	if (plain_line(p, &b, ev) && (!p->live || lasting(type, ev)))
		print_line(p, b.data, num(ev, "t_ms"));
	dr_buf_dispose(&b);
	maybe_draw(p, !strcmp(type, "run.end"));
}

void progress_say(progress *p, const char *text)
{
	if (p->live && on_owner(p) && !p->paused)
		erase(p);
	fprintf(p->out, "%s\n", text);
	fflush(p->out);
	maybe_draw(p, true);
}

void progress_pause(progress *p, bool paused)
{
	if (paused && p->live && on_owner(p))
		erase(p);
	p->paused = paused;
	if (!paused)
		maybe_draw(p, true);
}

void progress_tick(progress *p)
{
	maybe_draw(p, false);
}

void progress_final(progress *p)
{
	if (p->live && on_owner(p) && !p->paused)
		draw(p);
	p->drawn = 0;
	fflush(p->out);
}
