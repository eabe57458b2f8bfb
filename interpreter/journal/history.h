/*
 * history.h - how long actions took on each VM in earlier runs: the
 * duration history the executor orders ready tasks by (longest expected
 * first) when a step's tasks outnumber its concurrency slots.
 *
 * One small JSON file per state directory, <state-dir>/history.json
 * (docs/execution.md, "Order", describes the format). Per (action, VM): an
 * exponentially weighted mean of the durations of its successful attempts
 * (the estimate), the last one, how many were seen, and when (the number
 * of the update that last touched it). Keys are action names and VM names
 * only: no inputs, outputs or messages, so nothing secret can get in.
 *
 * The file is an optimisation, never a source of truth: a missing file is
 * an empty history; an unreadable, damaged or foreign one is ignored with a
 * warning (never a crash, never a failed run). It is replaced atomically
 * (temporary file, fsync, rename, fsync of the directory) under a lock, by
 * merging a run's samples into what is on disk at that moment, so two runs
 * sharing a state directory do not lose each other's samples. It holds at
 * most DR_HISTORY_MAX_ENTRIES entries: the least recently updated go first.
 */
#ifndef DR_HISTORY_H
#define DR_HISTORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define DR_HISTORY_FORMAT "drover-history"
#define DR_HISTORY_VERSION 1
#define DR_HISTORY_MAX_ENTRIES 20000
#define DR_HISTORY_MAX_BYTES (16 * 1024 * 1024) /* a bigger file is not ours: ignored */
#define DR_HISTORY_ALPHA 0.3 /* weight of the newest sample in the mean */

typedef struct dr_history dr_history;

/* One (action, VM) of the history. */
typedef struct dr_history_entry {
	const char *action, *vm; /* owned by the history */
	int64_t ewma_ms; /* the estimate: new = ALPHA * sample + (1 - ALPHA) * old (the first sample as is) */
	int64_t last_ms; /* the latest sample */
	int64_t n; /* samples seen */
	int64_t seen; /* the history's update counter when this entry last got a sample */
} dr_history_entry;

/* An empty history. */
dr_history *dr_history_new(void);
void dr_history_free(dr_history *h);

/*
 * Read path into h (replacing what h held). Returns 0 when the file was
 * read or does not exist (h is then empty), 1 when it was read but some
 * entries were malformed and left out, -1 when it cannot be used (h is
 * empty): unreadable, too big, not JSON, not a drover history. For 1 and
 * -1 a sentence saying what and why is appended to warn. A file of a newer
 * format version is -1 and marks h read-only (dr_history_read_only), so a
 * merge never overwrites a newer drover's file.
 */
int dr_history_load(dr_history *h, const char *path, dr_buf *warn);

/* The expected duration (the mean) of action on vm in ms, or -1 when the history does not know it. */
int64_t dr_history_expect(const dr_history *h, const char *action, const char *vm);

/* The entry of (action, vm), or NULL. */
const dr_history_entry *dr_history_get(const dr_history *h, const char *action, const char *vm);

/*
 * Record one successful attempt of action on vm that took ms (>= 0):
 * updates the mean, the last value, the count, and stamps the entry with
 * the update counter plus one (the update that dr_history_save makes).
 */
void dr_history_note(dr_history *h, const char *action, const char *vm, int64_t ms);

/* Set an entry as given (tests, the benchmark's perturbed histories). */
void dr_history_set(dr_history *h, const dr_history_entry *e);

/* How many entries h holds; the i-th in key order (action, then VM), for i < count (valid until h changes). */
size_t dr_history_count(const dr_history *h);
const dr_history_entry *dr_history_at(dr_history *h, size_t i);

/* True when h came from a newer format version: dr_history_save refuses to replace it. */
bool dr_history_read_only(const dr_history *h);

/*
 * Write h to path atomically (creating path's directory when missing),
 * bumping the update counter and keeping the DR_HISTORY_MAX_ENTRIES most
 * recently updated entries. Returns 0, or -1 with a sentence in err.
 */
int dr_history_save(dr_history *h, const char *path, dr_buf *err);

/*
 * A run's end: under the lock <path>.lock, read path afresh, apply the
 * samples (n of them: actions[i], vms[i], ms[i], in the order they
 * happened) and save. A damaged file is kept as <path>.bad and replaced.
 * Returns 0, or -1 with a sentence in warn (the history is left as it was).
 */
int dr_history_merge(const char *path, const char *const *actions, const char *const *vms, const int64_t *ms,
		     size_t n, dr_buf *warn);

#endif
