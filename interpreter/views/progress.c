/*
 * progress.c - the screen (see progress.h): which events print a line in
 * each mode, and the live frame drawn from the run model.
 *
 * The frame is built as a list of lines, fitted to the terminal (slowest
 * lines dropped first, then finished steps folded into one line, then
 * pending steps), each clipped to its width, and written at once:
 *
 *   ESC[?2026h  ESC[<n>A CR   (lasting lines ESC[K LF)...   (frame lines ESC[K LF)...   ESC[J  ESC[?2026l
 *
 * so the terminal never shows a half-drawn frame and never clears the
 * screen.
 */
#include "views/progress.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "journal/runinfo.h"
#include "run/clock.h"
#include "util/buf.h"
#include "util/text.h"
#include "util/xalloc.h"
#include "views/lines.h"

#define REDRAW_MS 100
#define BAR 20 /* columns of a progress bar */
#define SLOWEST 3 /* running VMs named per step */
#define FAILED_NAMED 3 /* failed VMs named per step */
#define PEOPLE 3 /* approvals listed; more are counted */
#define NAME_MAX_COLS 28
#define FAILURES_LIVE 3 /* failure lines per step above the live frame; the frame names the rest */

struct dr_progress {
	FILE *out;
	bool live, color, verbose, paused;
	dr_runinfo *ri;
	dr_clock *clock;
	pthread_t owner; /* the thread that draws */
	pthread_mutex_t mu; /* pending */
	dr_buf pending; /* lasting lines not on the screen yet (live) */
	dr_buf start; /* run.start's line (hold_start) */
	bool holding; /* start is held: the run has not begun yet */
	bool unbegun; /* the run ended before it began: no line says it started, no frame */
	int drawn; /* lines of the frame on the screen */
	size_t *failures; /* live: failure lines printed per step (index in the model's steps) */
	size_t n_failures;
	int64_t last_draw; /* monotonic ms */
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

dr_progress *dr_progress_new(const dr_progress_opts *o)
{
	dr_progress *p = xcalloc(1, sizeof *p);
	p->out = o->out;
	p->live = o->live;
	p->color = o->color;
	p->verbose = o->verbose;
	p->ri = o->model;
	p->clock = o->clock;
	p->owner = pthread_self();
	pthread_mutex_init(&p->mu, NULL);
	dr_buf_init(&p->pending);
	dr_buf_init(&p->start);
	return p;
}

void dr_progress_free(dr_progress *p)
{
	if (!p)
		return;
	dr_buf_dispose(&p->pending);
	dr_buf_dispose(&p->start);
	free(p->failures);
	pthread_mutex_destroy(&p->mu);
	free(p);
}

static bool on_owner(const dr_progress *p)
{
	return pthread_equal(pthread_self(), p->owner);
}

/* --- which events print a line --------------------------------------------------- */

static const char *str(const cJSON *ev, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, key));
}

static bool is(const char *a, const char *b)
{
	return a && !strcmp(a, b);
}

/* A VM's transition that is no failure: a line only with --verbose. */
static bool routine(const char *type, const cJSON *ev)
{
	if (is(type, "task.start") || is(type, "task.skip") || is(type, "task.cancel"))
		return true;
	if (is(type, "task.end")) /* a success, or a held call dropped before it was made ("not started") */
		return is(str(ev, "status"), "succeeded") || cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(ev, "called"));
	return false;
}

/* What the frame shows: no lasting line for it on a terminal. */
static bool in_frame(const char *type, const cJSON *ev)
{
	if (is(type, "step.start") || is(type, "task.retry"))
		return true;
	return is(type, "step.end") && (is(str(ev, "status"), "succeeded") || is(str(ev, "status"), "skipped"));
}

static bool is_failure(const char *type)
{
	return is(type, "task.end") || is(type, "task.giveup");
}

/*
 * On a terminal, a step's first failures print in full; past FAILURES_LIVE
 * one line says where the rest are (the frame names the VMs, `drover
 * status` and the plain log give every failure in full), so a mass failure
 * does not scroll the screen away. The count is kept per step of the model.
 */
static bool live_failure_wanted(dr_progress *p, const cJSON *ev, dr_buf *note)
{
	dr_runinfo_lock(p->ri);
	const dr_ri_step *s = dr_runinfo_find_step(p->ri, str(ev, "step"), str(ev, "phase"), str(ev, "undoes"));
	size_t i = s ? (size_t)(s - p->ri->steps) : 0;
	dr_runinfo_unlock(p->ri);
	if (!s)
		return true;
	pthread_mutex_lock(&p->mu);
	if (i >= p->n_failures) {
		p->failures = xrealloc(p->failures, (i + 1) * sizeof *p->failures);
		memset(p->failures + p->n_failures, 0, (i + 1 - p->n_failures) * sizeof *p->failures);
		p->n_failures = i + 1;
	}
	size_t n = ++p->failures[i];
	pthread_mutex_unlock(&p->mu);
	if (n == FAILURES_LIVE + 1) {
		dr_buf c;
		dr_buf_init(&c);
		dr_buf_printf(note, "%s: more failures than shown here: the screen names the VMs; '%s' lists each failure in full",
			      str(ev, "step"), dr_journal_command(&c, "status", p->ri->state_dir, p->ri->run));
		dr_buf_dispose(&c);
	}
	return n <= FAILURES_LIVE;
}

static bool wanted(dr_progress *p, const char *type, const cJSON *ev, dr_buf *note)
{
	if (p->verbose)
		return true;
	if (routine(type, ev) || (p->live && in_frame(type, ev)))
		return false;
	return !p->live || !is_failure(type) || live_failure_wanted(p, ev, note);
}

/* --- lines ------------------------------------------------------------------------ */

/* A step's end with tasks that never ran: why (the first such task's reason), for the plain log. */
static void step_end_why(dr_progress *p, dr_buf *b, const cJSON *ev)
{
	if (str(ev, "reason") || !str(ev, "step"))
		return;
	dr_runinfo_lock(p->ri);
	const dr_runinfo *ri = p->ri;
	const dr_ri_step *s = dr_runinfo_find_step(ri, str(ev, "step"), str(ev, "phase"), str(ev, "undoes"));
	for (size_t k = 0; s && k < s->n_task_refs; k++) {
		const dr_ri_task *t = &ri->tasks[s->tasks[k]];
		if ((t->state == DR_RI_SKIPPED || t->state == DR_RI_CANCELLED) && t->reason) {
			dr_buf_puts(b, " (");
			dr_text_escape_term(b, t->reason, strlen(t->reason), 0);
			dr_buf_putc(b, ')');
			break;
		}
	}
	dr_runinfo_unlock(p->ri);
}

/* The line of ev with its clock time, into b; false when ev has none here. */
static bool line(dr_progress *p, dr_buf *b, const cJSON *ev, const char *type)
{
	char el[32];
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(ev, "t_ms");
	dr_clock_format_elapsed(cJSON_IsNumber(t) ? (int64_t)t->valuedouble : 0, el, sizeof el);
	dr_buf_printf(b, "%s%s%s ", p->color ? "\033[2m" : "", el, dr_lines_reset(p->color));
	if (!dr_lines_format(b, ev, p->color))
		return false;
	if (!p->verbose && is(type, "step.end"))
		step_end_why(p, b, ev);
	return true;
}

/* Print now (plain, or paused), or leave it for the frame's next draw (live). */
static void put_line(dr_progress *p, const char *text)
{
	pthread_mutex_lock(&p->mu);
	if (p->live && !p->paused) {
		dr_buf_puts(&p->pending, text);
		dr_buf_puts(&p->pending, "\033[K\n");
	} else {
		fprintf(p->out, "%s\n", text);
		fflush(p->out);
	}
	pthread_mutex_unlock(&p->mu);
}

/*
 * run.start's line says the run started, which it has not while the preflight
 * may still refuse it, nor when its parameters, secrets, backend, inventory,
 * journal or run lock refuse it (run.end right after): so the line is held
 * until the first event of a run that begins, and dropped when the run ends
 * unbegun, as does the frame. What refused it is on stderr (and, for a
 * blocked run, in the preflight's line); a run ended unbegun by a refusal
 * printed on stderr (invalid, busy, stale, internal_error) prints no end line
 * either. line: ev's line, NULL when it prints none. Returns true when ev's
 * own line is not to be printed.
 */
static bool hold_start(dr_progress *p, const char *type, const cJSON *ev, const char *line)
{
	static const char *const said_on_stderr[] = {"invalid", "busy", "stale", "internal_error", NULL};
	bool skip = false;
	pthread_mutex_lock(&p->mu);
	if (is(type, "run.start")) {
		dr_buf_reset(&p->start);
		dr_buf_puts(&p->start, line ? line : "");
		skip = p->holding = true;
	} else if (p->holding && is(type, "run.end") && !is(str(ev, "status"), "succeeded")) {
		p->holding = false;
		p->unbegun = true;
		for (size_t i = 0; said_on_stderr[i]; i++)
			skip = skip || is(str(ev, "status"), said_on_stderr[i]);
	} else if (p->holding && !(is(type, "run.preflight") &&
				   cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(ev, "runnable")))) {
		p->holding = false; /* the run begins: its start line goes first */
		char *start = xstrdup(p->start.data ? p->start.data : "");
		pthread_mutex_unlock(&p->mu);
		put_line(p, start);
		free(start);
		return false;
	}
	pthread_mutex_unlock(&p->mu);
	return skip;
}

/* --- the frame -------------------------------------------------------------------- */

typedef enum kind { K_HEAD, K_STEP, K_SLOW, K_PERSON, K_FOLD } kind;

typedef struct fline {
	kind k;
	dr_ri_state st; /* K_STEP: its step's state */
	char *text;
} fline;

typedef struct frame {
	fline *v;
	size_t n, cap;
	const dr_progress *p;
	int64_t now;
} frame;

/* A name or a text from a runbook, an inventory or a person, escaped for the terminal. */
static void term(dr_buf *b, const char *s)
{
	dr_text_escape_term(b, s, strlen(s), 0);
}

static void add(frame *f, kind k, dr_ri_state st, dr_buf *b)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 32;
		f->v = xrealloc(f->v, f->cap * sizeof *f->v);
	}
	f->v[f->n++] = (fline){k, st, dr_buf_detach(b)};
}

static const char *mark(dr_ri_state s)
{
	static const char *const marks[DR_RI__STATES] = {"○", "●", "●", "✓", "✗", "-", "⊘", "↺"};
	return marks[s];
}

static void elapsed(dr_buf *b, int64_t ms)
{
	char d[32];
	dr_text_human_duration(ms, d, sizeof d);
	dr_buf_puts(b, d);
}

static size_t done_of(const dr_ri_step *s)
{
	return s->count[DR_RI_SUCCEEDED] + s->count[DR_RI_FAILED] + s->count[DR_RI_SKIPPED] +
	       s->count[DR_RI_CANCELLED] + s->count[DR_RI_ROLLED_BACK];
}

static void bar(const frame *f, dr_buf *b, const dr_ri_step *s)
{
	size_t total = (size_t)s->n_tasks, bad = s->count[DR_RI_FAILED] + s->count[DR_RI_CANCELLED];
	size_t full = done_of(s) * BAR / total, red = bad * BAR / total;
	red = red > full ? full : red;
	dr_buf_puts(b, " ");
	dr_buf_puts(b, dr_lines_paint(f->p->color, "succeeded"));
	for (size_t i = 0; i < full - red; i++)
		dr_buf_puts(b, "█");
	dr_buf_puts(b, dr_lines_paint(f->p->color, "failed"));
	for (size_t i = 0; i < red; i++)
		dr_buf_puts(b, "█");
	dr_buf_puts(b, dr_lines_paint(f->p->color, "pending"));
	for (size_t i = full; i < BAR; i++)
		dr_buf_puts(b, "░");
	dr_buf_puts(b, dr_lines_reset(f->p->color));
	dr_buf_printf(b, " %3zu%%", done_of(s) * 100 / total);
}

/* "✗ 3: db-4, db-9, +1": the step's failed VMs, the first named. */
static void failed_names(const dr_runinfo *ri, dr_buf *b, const dr_ri_step *s)
{
	size_t n = s->count[DR_RI_FAILED], shown = 0;
	if (!n)
		return;
	dr_buf_printf(b, "  ✗ %zu", n);
	for (size_t k = 0; k < s->n_task_refs && shown < FAILED_NAMED; k++) {
		const dr_ri_task *t = &ri->tasks[s->tasks[k]];
		if (t->state == DR_RI_FAILED && t->target) {
			dr_buf_puts(b, shown++ ? ", " : ": ");
			term(b, t->target);
		}
	}
	if (shown && n > shown)
		dr_buf_printf(b, ", +%zu", n - shown);
}

/* The one task of a step that is not fanned out: its attempt, or that it waits for a person. */
static void single(const dr_runinfo *ri, dr_buf *b, const dr_ri_step *s)
{
	const dr_ri_task *t = s->n_task_refs == 1 ? &ri->tasks[s->tasks[0]] : NULL;
	const dr_ri_attempt *a = t ? dr_runinfo_last_attempt(t) : NULL;
	if (t && t->approval.open)
		dr_buf_puts(b, "  waiting for approval");
	else if (t && t->state == DR_RI_RETRYING)
		dr_buf_printf(b, "  retrying after attempt %d", a ? a->n : 0);
	else if (a && a->n > 1)
		dr_buf_printf(b, "  attempt %d", a->n);
}

static void step_line(frame *f, const dr_ri_step *s, int w)
{
	const dr_runinfo *ri = f->p->ri;
	char name[256], count[48];
	dr_buf b;
	dr_buf_init(&b);
	const char *st = dr_ri_state_name(s->state);
	snprintf(count, sizeof count, s->n_tasks >= 0 ? "%zu/%d" : "-", done_of(s), s->n_tasks);
	dr_buf_printf(&b, "  %s%s %-*.*s%s %9s", dr_lines_paint(f->p->color, st), mark(s->state), w, w,
		      dr_runinfo_step_label(s, name, sizeof name), dr_lines_reset(f->p->color), count);
	if (s->n_tasks > 1)
		bar(f, &b, s);
	if (s->started_ms >= 0) {
		dr_buf_puts(&b, "  ");
		elapsed(&b, (s->ended_ms >= 0 ? s->ended_ms : f->now) - s->started_ms);
	}
	failed_names(ri, &b, s);
	if (s->n_tasks == 1)
		single(ri, &b, s);
	add(f, K_STEP, s->state, &b);
}

/* The running tasks of a fan-out step that have run longest (the current attempt), by name. */
static void slowest_line(frame *f, const dr_ri_step *s)
{
	const dr_runinfo *ri = f->p->ri;
	const dr_ri_task *top[SLOWEST] = {0};
	size_t n = 0, retrying = 0;
	for (size_t k = 0; k < s->n_task_refs; k++) {
		const dr_ri_task *t = &ri->tasks[s->tasks[k]];
		retrying += t->state == DR_RI_RETRYING;
		if (t->state != DR_RI_RUNNING || !t->target || !t->n_attempts)
			continue;
		int64_t at = dr_runinfo_last_attempt(t)->started_ms;
		size_t i = n < SLOWEST ? n++ : SLOWEST;
		while (i > 0 && dr_runinfo_last_attempt(top[i - 1])->started_ms > at) {
			if (i < SLOWEST)
				top[i] = top[i - 1];
			i--;
		}
		if (i < SLOWEST)
			top[i] = t;
	}
	if (!n && !retrying)
		return;
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "      %zu running", s->count[DR_RI_RUNNING]);
	for (size_t i = 0; i < n; i++) {
		dr_buf_puts(&b, i ? ", " : "; slowest ");
		term(&b, top[i]->target);
		dr_buf_putc(&b, ' ');
		elapsed(&b, f->now - dr_runinfo_last_attempt(top[i])->started_ms);
	}
	if (retrying)
		dr_buf_printf(&b, "; %zu waiting to retry", retrying);
	add(f, K_SLOW, DR_RI_RUNNING, &b);
}

/* "   answer with: drover approve --state-dir DIR RUN STEP": the command the run recorded (lines.h). */
static void answer_line(frame *f, const dr_ri_task *t)
{
	const dr_runinfo *ri = f->p->ri;
	dr_buf cmd, b;
	dr_buf_init(&cmd);
	dr_buf_init(&b);
	dr_lines_approve_command(&cmd, t->approval.command, ri->run, dr_runinfo_task_step(ri, t)->id);
	dr_buf_puts(&b, "   answer with: ");
	term(&b, cmd.data);
	dr_buf_dispose(&cmd);
	add(f, K_PERSON, DR_RI_RUNNING, &b);
}

static void people(frame *f)
{
	const dr_runinfo *ri = f->p->ri;
	size_t n = 0;
	char label[512];
	for (size_t i = 0; i < ri->n_tasks && ri->open_approvals; i++) {
		const dr_ri_task *t = &ri->tasks[i];
		if (!t->approval.open || n++ >= PEOPLE)
			continue;
		dr_buf b;
		dr_buf_init(&b);
		dr_buf_printf(&b, " %s⏸ ", f->p->color ? "\033[1;33m" : "");
		term(&b, dr_runinfo_task_label(ri, t, label, sizeof label));
		dr_buf_puts(&b, ": waiting for approval: ");
		term(&b, t->approval.message ? t->approval.message : "");
		dr_buf_puts(&b, dr_lines_reset(f->p->color));
		add(f, K_PERSON, DR_RI_RUNNING, &b);
		answer_line(f, t); /* a line of its own: the pasted command must be whole */
	}
	if (n > PEOPLE) {
		dr_buf b;
		dr_buf_init(&b);
		dr_buf_printf(&b, " ⏸ and %zu more approvals waiting ('drover status' lists them)", n - PEOPLE);
		add(f, K_PERSON, DR_RI_RUNNING, &b);
	}
}

static void head(frame *f)
{
	const dr_runinfo *ri = f->p->ri;
	char el[32];
	size_t failed = 0;
	for (size_t i = 0; i < ri->n_steps; i++)
		failed += ri->steps[i].count[DR_RI_FAILED];
	dr_clock_format_elapsed(f->now, el, sizeof el);
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, " drover %s  %s  %s  %zu running", ri->run ? ri->run : "", ri->mode ? ri->mode : "run", el,
		      ri->in_flight);
	if (failed)
		dr_buf_printf(&b, "  %s✗ %zu failed%s", dr_lines_paint(f->p->color, "failed"), failed,
			      dr_lines_reset(f->p->color));
	if (ri->open_approvals)
		dr_buf_printf(&b, "  ⏸ %zu waiting for a person", ri->open_approvals);
	add(f, K_HEAD, DR_RI_RUNNING, &b);
}

/* A finally step started: the finally steps show from then on. */
static bool finally_started(const dr_runinfo *ri)
{
	for (size_t i = 0; i < ri->n_steps; i++)
		if (ri->steps[i].phase && !strcmp(ri->steps[i].phase, "finally") && ri->steps[i].state != DR_RI_PENDING)
			return true;
	return false;
}

static int name_width(const dr_runinfo *ri)
{
	int w = 4;
	char name[256];
	for (size_t i = 0; i < ri->n_steps; i++) {
		int l = (int)strlen(dr_runinfo_step_label(&ri->steps[i], name, sizeof name));
		w = l > w ? l : w;
	}
	return w > NAME_MAX_COLS ? NAME_MAX_COLS : w;
}

/* The main steps, the rollback units (once there are any), the finally steps (once one started). */
static void build(frame *f)
{
	const dr_runinfo *ri = f->p->ri;
	int w = name_width(ri);
	bool fin = finally_started(ri);
	head(f);
	for (size_t i = 0; i < ri->n_steps; i++) {
		const dr_ri_step *s = &ri->steps[i];
		if (s->phase && !strcmp(s->phase, "finally") && !fin)
			continue;
		step_line(f, s, w);
		if (s->state == DR_RI_RUNNING && s->n_tasks > 1)
			slowest_line(f, s);
	}
	people(f);
}

/* --- fitting the frame to the terminal ----------------------------------------------- */

static void drop(frame *f, kind k)
{
	size_t j = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (f->v[i].k == k)
			free(f->v[i].text);
		else
			f->v[j++] = f->v[i];
	}
	f->n = j;
}

static bool finished(dr_ri_state s)
{
	return s == DR_RI_SUCCEEDED || s == DR_RI_SKIPPED || s == DR_RI_ROLLED_BACK;
}

/* Fold the steps in state test into one line where the first of them was: "✓ 12 steps done". */
static void fold(frame *f, bool (*test)(dr_ri_state), const char *fmt)
{
	size_t j = 0, n = 0, at = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (f->v[i].k == K_STEP && test(f->v[i].st)) {
			at = n++ ? at : j;
			free(f->v[i].text);
			if (n > 1)
				continue;
		}
		f->v[j++] = f->v[i];
	}
	f->n = j;
	if (!n)
		return;
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, fmt, n, n == 1 ? "" : "s");
	f->v[at] = (fline){K_FOLD, DR_RI_SUCCEEDED, dr_buf_detach(&b)};
}

static bool pending(dr_ri_state s)
{
	return s == DR_RI_PENDING;
}

static void fit(frame *f, int rows)
{
	if ((int)f->n > rows)
		drop(f, K_SLOW);
	if ((int)f->n > rows)
		fold(f, finished, "  ✓ %zu step%s done");
	if ((int)f->n > rows)
		fold(f, pending, "  ○ %zu step%s to go");
	while ((int)f->n > rows && f->n > 1) /* still too many: the last lines go */
		free(f->v[--f->n].text);
}

/* s clipped to cols display columns (escape sequences take none; a UTF-8 sequence takes one). */
static void clip(dr_buf *out, const char *s, int cols, bool color)
{
	int used = 0;
	for (const char *p = s; *p;) {
		size_t n = 1;
		if (*p == '\033') {
			while (p[n] && !((p[n] >= 'A' && p[n] <= 'Z') || (p[n] >= 'a' && p[n] <= 'z')))
				n++;
			n += p[n] != '\0';
		} else if (used++ >= cols) {
			if (color)
				dr_buf_puts(out, "\033[0m");
			return;
		} else {
			while ((p[n] & 0xC0) == 0x80)
				n++;
		}
		dr_buf_append(out, p, n);
		p += n;
	}
}

static void frame_text(dr_progress *p, int rows, int cols, dr_buf *out, int *lines)
{
	frame f = {.p = p, .now = dr_clock_now(p->clock)};
	dr_runinfo_lock(p->ri);
	build(&f);
	dr_runinfo_unlock(p->ri);
	fit(&f, rows);
	for (size_t i = 0; i < f.n; i++) {
		clip(out, f.v[i].text, cols, p->color);
		dr_buf_puts(out, "\033[K\n");
		free(f.v[i].text);
	}
	free(f.v);
	*lines = (int)f.n;
}

static void term_size(const dr_progress *p, int *rows, int *cols)
{
	struct winsize ws;
	*rows = 24, *cols = 80;
	if (ioctl(fileno(p->out), TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0)
		*rows = ws.ws_row, *cols = ws.ws_col;
}

int dr_progress_frame(dr_progress *p, int rows, int cols, char **out)
{
	dr_buf b;
	int n;
	dr_buf_init(&b);
	frame_text(p, rows, cols, &b, &n);
	*out = dr_buf_detach(&b);
	return n;
}

/* --- drawing ---------------------------------------------------------------------------- */

static void draw(dr_progress *p)
{
	int rows, cols, lines = 0;
	term_size(p, &rows, &cols);
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_puts(&b, "\033[?2026h");
	if (p->drawn)
		dr_buf_printf(&b, "\033[%dA\r", p->drawn);
	pthread_mutex_lock(&p->mu);
	dr_buf_append(&b, p->pending.data, p->pending.len);
	dr_buf_reset(&p->pending);
	pthread_mutex_unlock(&p->mu);
	if (p->ri->run && !p->unbegun) /* no frame before the run started, nor of a run that never began */
		frame_text(p, rows - 1 > 4 ? rows - 1 : 4, cols - 1 > 20 ? cols - 1 : 20, &b, &lines);
	dr_buf_puts(&b, "\033[J\033[?2026l");
	fwrite(b.data, 1, b.len, p->out);
	fflush(p->out);
	dr_buf_dispose(&b);
	p->drawn = lines;
	p->last_draw = mono_ms();
}

static void maybe_draw(dr_progress *p, bool force)
{
	if (!p->live || !on_owner(p) || p->paused)
		return;
	if (force || mono_ms() - p->last_draw >= REDRAW_MS)
		draw(p);
}

void dr_progress_event(void *ctx, const cJSON *ev)
{
	dr_progress *p = ctx;
	const char *type = str(ev, "event");
	if (!type)
		return;
	dr_buf b, note;
	dr_buf_init(&b);
	dr_buf_init(&note);
	cJSON *safe = dr_lines_term_event(ev); /* names and texts from runbooks, services, people: escaped */
	const cJSON *shown = safe ? safe : ev;
	bool lasting = wanted(p, type, shown, &note) && line(p, &b, shown, type);
	cJSON_Delete(safe);
	if (hold_start(p, type, ev, lasting ? b.data : NULL))
		lasting = false;
	if (lasting)
		put_line(p, b.data);
	if (note.len)
		put_line(p, note.data);
	lasting = lasting || note.len;
	dr_buf_dispose(&b);
	dr_buf_dispose(&note);
	maybe_draw(p, lasting || is(type, "run.end"));
}

void dr_progress_say(dr_progress *p, const char *text)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_text_escape_term(&b, text, strlen(text), DR_TEXT_KEEP_NEWLINE); /* drover's lines; nothing else moves the cursor */
	put_line(p, b.data);
	dr_buf_dispose(&b);
	maybe_draw(p, true);
}

void dr_progress_pause(dr_progress *p, bool paused)
{
	if (!p->live || !on_owner(p))
		return;
	if (paused) {
		draw(p); /* what is pending goes out first */
		if (p->drawn)
			fprintf(p->out, "\033[%dA\r\033[J", p->drawn);
		fflush(p->out);
		p->drawn = 0;
	}
	pthread_mutex_lock(&p->mu);
	p->paused = paused;
	pthread_mutex_unlock(&p->mu);
	if (!paused)
		draw(p);
}

void dr_progress_tick(dr_progress *p)
{
	maybe_draw(p, false);
}

void dr_progress_final(dr_progress *p)
{
	if (p->live && on_owner(p) && !p->paused)
		draw(p);
	p->drawn = 0;
	fflush(p->out);
}
