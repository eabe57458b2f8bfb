/*
 * approvals.h - the file handshake between a run waiting at an approval
 * gate and `drover approve` in another shell.
 *
 * Under the run's directory (<state-dir>/runs/<run-id>/approvals/):
 *   KEY.request  written by the run when the gate opens (JSON: run, step,
 *                target, message, approvers, requested_at); removed when
 *                the gate closes. Its presence means "waiting".
 *   KEY.answer   written by `drover approve` (JSON: approved, by, user,
 *                as, comment, answered_at): first to a temporary file, then
 *                link()ed into place, so it appears whole and only once
 *                (a second answer is refused). "by" is the operating-system
 *                user who ran it (dr_approval_user), "as" what --as said:
 *                a note, never an identity. The run takes an answer only
 *                from a file owned by itself or root (the state directory
 *                is owner-only), and only from one of approvers:.
 * KEY is the step id, or STEP@VM for a task of a fanned-out step.
 */
#ifndef DR_APPROVALS_H
#define DR_APPROVALS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

struct cJSON;

/* The key of a gate: "step" or "step@vm" ('/' in names becomes '_'). Heap; the caller frees it. */
char *dr_approval_key(const char *step, const char *vm);

/*
 * Open the gate: create the directories, drop an answer older than the
 * question (one with no request beside it: a request still present is the
 * same gate reopened by a resume, and its answer stays), write
 * KEY.request atomically. Returns 0, or -1 with the reason in err.
 */
int dr_approval_post(const char *run_dir, const char *key, const struct cJSON *request, dr_buf *err);

/*
 * 1 and *answer (the caller frees it) when KEY.answer exists, 0 when not
 * yet, -1 with err when it is unreadable or owned by another user than the
 * run's or root (then it is removed: it cannot be an answer).
 */
int dr_approval_poll(const char *run_dir, const char *key, struct cJSON **answer, dr_buf *err);

/* Remove KEY.answer (an answer the run refused), so another can be given. */
void dr_approval_drop_answer(const char *run_dir, const char *key);

/* Whether user may answer a gate with this approvers: list (a JSON array of names; NULL or empty: anyone). */
bool dr_approval_allowed(const struct cJSON *approvers, const char *user);

/* Close the gate: remove KEY.request and KEY.answer, then approvals/, the run's directory, runs/ and
 * the state directory, each only when empty. */
void dr_approval_withdraw(const char *run_dir, const char *key);

/*
 * For `drover approve`: answer every open gate of step (KEY == step or
 * step@*; with "step@vm" just that one). answer is written as is. Returns
 * the number of gates answered (0: none open, with the open ones listed in
 * err), or -1 with err. Each gate answered adds one line to out.
 */
int dr_approval_answer(const char *run_dir, const char *step, const struct cJSON *answer, dr_buf *out, dr_buf *err);

/*
 * The gates of the run in run_dir that wait for an answer, appended to out
 * as "waiting for: KEY, KEY\n", or "the run is not waiting for any
 * approval\n". Any thread.
 */
void dr_approval_list_waiting(const char *run_dir, dr_buf *out);

/*
 * Who is answering, as the operating system says (never $USER, never
 * --as): the name of the real user id, or, for root running under sudo,
 * the user who ran sudo (SUDO_USER, when the password database gives that
 * name the uid SUDO_UID). Else "uid N".
 */
void dr_approval_user(char *out, size_t outsz);

#endif
