/*
 * runinfo.h - what a run's journal says about it, for people: `drover runs`
 * and `drover status` (docs/journal.md). Reads the journal only (not the
 * runbook, not the service), so it works for any run, also one whose
 * runbook has changed or whose drover died.
 *
 * Strings point into the journal's records; everything belongs to the
 * dr_runinfo until dr_runinfo_dispose.
 */
#ifndef DR_RUNINFO_H
#define DR_RUNINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "journal/journal.h"
#include "util/buf.h"

typedef struct dr_runinfo_task {
	const char *step, *target, *phase, *undoes;
	const char *state; /* running, retrying, succeeded, failed, cancelled, skipped */
	const char *action;
	bool mutating;
	int attempt;
	const char *cls, *message; /* the last failure */
	const char *job; /* outputs.job_id, when the action gave one */
	const char *probe; /* what a resume's probe said about it (task.probe) */
	bool approval_open; /* waiting for someone's answer (approval.request) */
	const char *approved_by;
	int64_t started_ms, ended_ms; /* clock time; -1 unknown */
} dr_runinfo_task;

typedef struct dr_runinfo_step {
	const char *id, *phase, *undoes, *action;
	const char *state; /* pending (never started), running, succeeded, failed, skipped, cancelled */
	int n_tasks; /* -1 until it started */
	int ok, failed, skipped, cancelled;
	const char *reason;
	int64_t started_ms, ended_ms;
} dr_runinfo_step;

typedef struct dr_runinfo {
	dr_journal_file f;
	const char *state_dir, *run, *runbook, *path, *abs, *digest, *mode, *direction, *clock;
	int64_t started_wall; /* Unix ms */
	/*
	 * succeeded, failed, rolled_back, cancelled, internal_error (ended);
	 * running (a live drover holds its lock); suspended (a resume stopped,
	 * unable to settle what was in flight); interrupted (drover stopped
	 * without ending it: crash, kill, power loss).
	 */
	const char *status;
	const char *reason; /* why it stopped, from run.end/run.suspend/run.stopping */
	int exit_code; /* ended runs: the run's exit status */
	int64_t elapsed_ms; /* clock time of its last record */
	int64_t downtime_ms; /* between sessions (real clock) */
	size_t sessions;
	bool runbook_changed; /* the runbook file's digest differs now (or it is gone) */
	dr_runinfo_step *steps;
	size_t n_steps;
	dr_runinfo_task *tasks;
	size_t n_tasks;
	size_t in_flight; /* tasks started and not ended */
	size_t open_approvals;
} dr_runinfo;

/*
 * Load run_id's journal under state_dir. Returns 0, or -1 with err (no
 * such run, unreadable or corrupted journal: the message names the line).
 */
int dr_runinfo_load(const char *state_dir, const char *run_id, dr_runinfo *out, dr_buf *err);
void dr_runinfo_dispose(dr_runinfo *ri);

/* The runs under state_dir (ids, sorted by start time, then id), heap; the caller frees each and the array. */
char **dr_runinfo_list(const char *state_dir, size_t *n);

#endif
