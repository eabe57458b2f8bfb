/*
 * lines.h - one line of text for people per event (docs/events.md): what
 * the plain log prints, and the lasting lines above the live screen.
 */
#ifndef DR_LINES_H
#define DR_LINES_H

#include <stdbool.h>

#include "util/buf.h"

struct cJSON;

/*
 * Append the line of ev (an event of the stream; "[phase] " first for a
 * rollback or finally step) to b, with ANSI colours when color is true.
 * Returns false, appending nothing, for events that have no line.
 */
bool dr_lines_format(dr_buf *b, const struct cJSON *ev, bool color);

/*
 * A copy of ev whose strings (at any depth) can go to a terminal: control
 * characters escaped (dr_text_escape_term), so a name or a message from a
 * runbook, an inventory, a service or a person cannot move the cursor,
 * clear the screen, retitle the window or start a line of its own. NULL
 * when ev needs none (print ev itself); else the caller deletes the copy.
 */
struct cJSON *dr_lines_term_event(const struct cJSON *ev);

/*
 * How to answer an open approval from another shell, into b: the command
 * the run recorded when it began to wait (approval.request's command, with
 * --state-dir when the run's is not the default one, its words quoted for
 * a shell); for a journal written before the command was recorded,
 * "drover approve RUN STEP". Nothing when command and run are both NULL.
 * The one wording of the plain line, the live screen and `drover status`.
 */
void dr_lines_approve_command(dr_buf *b, const char *command, const char *run, const char *step);

/* The ANSI colour of a state or status name ("" without colour or for an unknown name), and the reset. */
const char *dr_lines_paint(bool color, const char *status);
const char *dr_lines_reset(bool color);

#endif
