/*
 * journal_int.h - private to journal_run.c and resume.c: what a run keeps
 * about its journal (x->jr), between the executor's hooks (exec_int.h,
 * "journal") and the journal module (journal.h).
 */
#ifndef DR_JOURNAL_INT_H
#define DR_JOURNAL_INT_H

#include "run/exec_int.h"
#include "journal/journal.h"
#include "util/index.h"

/*
 * resume --retry-failed: the journal is cut into segments at each retry (a
 * run.resume with "retry_failed"). Every segment but the last ended in a
 * failed run that a later session retried, and so does the last one when
 * this session retries. resume.c replays a retried segment without what
 * its failure caused (see there).
 */
typedef struct retry_seg {
	bool retried; /* it ended in a failed run that is retried (the next run.resume says so, or this session) */
	const char **failed; /* its main steps that failed the run (step.end failed, not tolerated) */
	size_t n_failed;
} retry_seg;

struct jrun {
	dr_journal *j; /* NULL until journal_open */
	dr_runlock *lock;
	const dr_journal_file *rs; /* resume: the journal being replayed */
	/* mutating calls waiting for their intent to be durable, in launch order */
	task **held;
	size_t n_held, cap_held;
	bool failed; /* a sync failed: no mutating call may be issued any more */
	bool ended; /* run.end was journaled */
	bool suspended; /* resume stopped before the run could go on (journal_replay returned -1) */
	bool signalled; /* ... by a signal during the replay: nothing of this session is journaled (status cancelled) */
	int64_t last_sync_ms; /* monotonic time of the last sync (journal_idle syncs results at most once a second) */
	/* replay (resume.c) */
	bool replaying;
	size_t next; /* the next record of rs to replay */
	size_t end; /* past the last record that changes state: the replay ends there */
	bool after_cancel; /* past a run.cancel of the session being replayed */
	size_t replayed, ignored; /* records applied / left aside */
	dr_strmap vm_index; /* a VM's name -> its index in x->vms */
	/* segment and task (decision_key) -> its when: as the journal tells it: 1 went, 0 skipped, 2 failed before starting */
	dr_strmap decided;
	dr_strmap told; /* a task.skip past the replay's end (decision_key) -> 1 until the scheduler skips the task again */
	dr_buf notes; /* what the replay has to say at its end */
	retry_seg *segs; /* in the run's arena */
	size_t n_segs, seg; /* seg: the segment of the records being replayed */
};

/* resume.c: set up the replay (called by journal_open when resuming). */
void resume_begin(dr_exec *x);

/* resume.c: free what the replay holds. */
void resume_dispose(struct jrun *jr);

/* journal_run.c: sync now (flushing the backend first); false when the journal failed. */
bool journal_sync_now(dr_exec *x);

#endif
