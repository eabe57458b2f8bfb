/*
 * progress.h - what a person sees while a run executes (docs/execution.md,
 * "The screen"). The view listens to the event stream and reads the run
 * model (journal/runinfo.h) that the same stream feeds, so the screen, the
 * JSON lines and the journal cannot disagree.
 *
 *   plain    for pipes, CI logs and golden tests: a line per step
 *            transition and per failure, in full (a failed attempt, a
 *            retry, a task given up, a cancelled attempt), approvals, log
 *            lines, the rollback, a resume's probes; tasks skipped or
 *            cancelled before they started are counted in their step's
 *            line, with the reason.
 *   live     on a terminal: a frame of one line per step (state, done of
 *            total, a progress bar for fan-out steps, elapsed, failed VMs
 *            named) with the slowest running VMs of each running step and
 *            a line for every approval waiting for a person, redrawn in
 *            place (cursor up, each line overwritten and erased to its end,
 *            one write per frame inside a synchronized update: no
 *            flicker), clipped to the terminal's width and fitted to its
 *            height (finished and pending steps fold into one line each
 *            when the steps do not fit). Lasting lines (failures,
 *            approvals, logs) print above the frame, a step's first three
 *            failures in full and then one line saying where the rest are.
 *   verbose  plain or live, plus a line for every VM transition (every
 *            attempt started and ended, every skip and cancellation).
 *
 * Threads: events may come from any thread; the frame is drawn only by
 * the thread that created the view (the scheduler), which also prints the
 * lasting lines other threads leave for it, at its next event or tick.
 */
#ifndef DR_PROGRESS_H
#define DR_PROGRESS_H

#include <stdbool.h>
#include <stdio.h>

struct cJSON;
struct dr_runinfo;
struct dr_clock;

typedef struct dr_progress dr_progress;

typedef struct dr_progress_opts {
	FILE *out; /* where the view goes (not closed) */
	bool live; /* a terminal: the redrawn frame */
	bool color; /* ANSI colours */
	bool verbose; /* every VM transition too */
	struct dr_runinfo *model; /* fed by the same stream before this view (dr_runinfo_listen first) */
	struct dr_clock *clock; /* the run's clock: the frame's elapsed times */
} dr_progress_opts;

/* A view; the caller registers dr_progress_event on the stream after the model's listener. */
dr_progress *dr_progress_new(const dr_progress_opts *o);
void dr_progress_free(dr_progress *p);

/* The listener (ctx: the view). */
void dr_progress_event(void *ctx, const struct cJSON *ev);

/* A lasting line of text (not an event: a note of the executor). Any thread. */
void dr_progress_say(dr_progress *p, const char *text);

/* Stop drawing (the terminal is lent to a prompt: the frame is erased) or start again. Creator's thread. */
void dr_progress_pause(dr_progress *p, bool paused);

/* Redraw if the frame is older than the redraw interval (the scheduler's tick on a real clock). */
void dr_progress_tick(dr_progress *p);

/* The run ended: print what is left and the final frame, which stays on the screen. */
void dr_progress_final(dr_progress *p);

/* The frame as it would be drawn now in rows x cols, into out (for tests); returns its number of lines. */
int dr_progress_frame(dr_progress *p, int rows, int cols, char **out);

#endif
