/*
 * journal.h - the run's write-ahead log: one JSON-lines file per run,
 * <state-dir>/runs/<run-id>/journal.jsonl, documented in docs/journal.md.
 *
 * Three parts, none of which knows about the executor:
 *
 *   writer   records are appended to a buffer and made durable in groups
 *            (dr_journal_sync: one write and one fdatasync for everything
 *            appended since the last one). The executor decides when
 *            (journal_run.c): before it issues any mutating call whose
 *            intent is in the buffer; results and other records are
 *            written in groups (dr_journal_write) and synced at most once
 *            a second while the run waits on the real clock.
 *   reader   dr_journal_read parses a whole file: the header, the records,
 *            a torn last line (tolerated and reported) or a corrupted one
 *            before it (an error naming the line).
 *   lock     dr_runlock_acquire: an flock on <state-dir>/locks/<key>.lock,
 *            key from the runbook's path and the backend's identity, with
 *            the holder's pid, host and run recorded inside, so a second
 *            run is refused and a lock left by a dead process is reported
 *            with what to do.
 *
 * Plus the digests the header carries (FNV-1a 64 over the runbook's bytes,
 * and per step over its canonical YAML), used to refuse a changed runbook on
 * resume and to say what changed.
 *
 * Ownership: cJSON values passed in are borrowed; values handed out (a read
 * journal's records) belong to the dr_journal_file until it is disposed.
 */
#ifndef DR_JOURNAL_H
#define DR_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "front/load.h"
#include "util/buf.h"

struct cJSON;
struct dr_runbook;

#define DR_JOURNAL_FILE "journal.jsonl"
#define DR_JOURNAL_FORMAT "drover-journal"
#define DR_JOURNAL_VERSION 3 /* written; 1 and 2 are still read (journal_compact.c) */

/* --- digests ----------------------------------------------------------- */

/* FNV-1a, 64 bits, continuing from h (start with DR_FNV_INIT). */
#define DR_FNV_INIT UINT64_C(0xcbf29ce484222325)
uint64_t dr_fnv1a(uint64_t h, const void *data, size_t n);

/*
 * The digest of a file's bytes: "fnv1a64:<16 hex digits>", and its size,
 * into out (at least 32 bytes). Returns 0, or -1 with err (cannot read).
 */
int dr_journal_file_digest(const char *path, char *out, size_t outsz, int64_t *size, dr_buf *err);

/*
 * A digest of one YAML node (its canonical form: kinds, keys, scalar
 * values; not positions, comments or quoting), as 16 hex digits into out
 * (at least 17 bytes). A NULL node hashes as "absent".
 */
void dr_journal_node_digest(const dr_node *n, char *out, size_t outsz);

/*
 * What the header keeps of rb's shape, for resume's diff: {"steps": {id:
 * {"action", "digest", "parts": {"with", "needs", "targets", "when",
 * "rollback", "policy"}}}, "sections": {"params", "vm_sets", "backend",
 * ...}}, every value a node digest. Steps are the main and finally steps
 * after composites are expanded (a step's rollback: is one of its parts).
 * The caller frees it.
 */
struct cJSON *dr_journal_runbook_digests(const struct dr_runbook *rb);

/*
 * What changed between two dr_journal_runbook_digests, one line each,
 * diff-like: "+ step id (action)" added, "- step id (action)" removed,
 * "~ step id: with, needs" changed (which parts), "~ vm_sets" for a
 * top-level section. Appends to out; returns the number of lines.
 */
size_t dr_journal_runbook_diff(const struct cJSON *before, const struct cJSON *after, dr_buf *out);

/*
 * Which service a run of rb acts on, as the run lock and the header name
 * it: "sim:<absolute state file>" (state_path, else the state directory's;
 * NULL for a simulator in memory), "azure:<subscription>/<group>/<vault>#<digest
 * of the backend's options>". In a.
 */
const char *dr_journal_backend_id(dr_arena *a, const struct dr_runbook *rb, const char *state_path,
				  const char *state_dir);

/* --- writer ------------------------------------------------------------ */

typedef struct dr_journal dr_journal;

typedef struct dr_journal_stats {
	uint64_t records; /* appended by this writer (header included when it wrote one) */
	uint64_t syncs; /* fdatasync calls */
	uint64_t writes; /* write() calls of records that were not synced right after (dr_journal_write) */
	uint64_t bytes; /* written by this writer */
	int64_t sync_ns; /* time spent in write + fdatasync */
	int64_t max_sync_ns;
} dr_journal_stats;

/*
 * Create dir (and its parents, mode 0700) and dir/journal.jsonl, which must
 * not exist, and make header its first line, durable (the file and the
 * directory entry are fsynced). Returns the writer, or NULL with err.
 */
dr_journal *dr_journal_create(const char *dir, const struct cJSON *header, dr_buf *err);

/*
 * Open an existing journal to append to it (resume). valid_bytes is where
 * its last complete line ends (dr_journal_file.valid_bytes): a torn tail
 * after it is cut off (made durable) before anything is appended. Records
 * are appended in the journal's format version (its header's). NULL with
 * err on failure.
 */
dr_journal *dr_journal_reopen(const char *path, off_t valid_bytes, int version, dr_buf *err);

/* --- format version 2 (journal_compact.c) ----------------------------- */

/* Append rec as one version 2 line (no newline): without what the reader restores. Any thread. */
void dr_journal_compact_line(dr_buf *out, const struct cJSON *rec);

/* A shape (dr_journal_runbook_digests) in version 2's form, each digest once; the caller's. */
struct cJSON *dr_journal_compact_shape(const struct cJSON *shape);

/* Restore a version 2 record (in place) to its version 1 object; header: the journal's, expanded. */
void dr_journal_expand(struct cJSON *rec, const struct cJSON *header);

/*
 * The version 3 line of rec (docs/journal.md, "Version 3"): version 2's,
 * without t_ms when it equals *last_t (step.* and task.* records), with
 * "tasks":1 when folded (a task.start that stands for its one-task step's
 * step.start too, or a task.end for its step.end). *last_t gets rec's
 * t_ms; last_t NULL writes version 2. Any thread.
 */
void dr_journal_compact_line3(dr_buf *out, const struct cJSON *rec, bool folded, int64_t *last_t);

/*
 * Restore a version 3 record (in place) to its version 1 object, as
 * dr_journal_expand does, plus: a left-out t_ms is *last_t (the previous
 * line's; -1: unknown, left out), and a folded line's step record is
 * handed out: *before, a step.start to take before rec, or *after, a
 * step.end to take after it (new objects, the caller's; NULL when rec is
 * not folded). *last_t gets rec's t_ms.
 */
void dr_journal_unfold(struct cJSON *rec, const struct cJSON *header, int64_t *last_t, struct cJSON **before,
		       struct cJSON **after);

/* Restore a version 2 header's shape (in place) to the version 1 form. */
void dr_journal_expand_shape(struct cJSON *header);

/* Append a record (serialised as one line, in the journal's version). Any thread. Returns its number in this writer, from 1. */
uint64_t dr_journal_append(dr_journal *j, const struct cJSON *rec);

/* True when records were appended that are not durable yet. */
bool dr_journal_pending(dr_journal *j);

/*
 * Make every record appended so far durable: one write() of the batch and
 * one fdatasync(). Returns 0, or -1 with err (the batch is kept; the journal
 * is then failed: later syncs fail too). The scheduler thread calls it.
 */
int dr_journal_sync(dr_journal *j, dr_buf *err);

/*
 * Write what is pending without making it durable: other processes (drover
 * status) see it, and it survives the process being killed, but not a power
 * loss. Errors as dr_journal_sync. The scheduler thread calls it.
 */
int dr_journal_write(dr_journal *j, dr_buf *err);

/* How many bytes are appended and not written yet. Any thread. */
size_t dr_journal_pending_bytes(dr_journal *j);

/* The number of the last durable record. */
uint64_t dr_journal_durable(dr_journal *j);

/* Sync (errors go to err when not NULL), close and free. NULL is a no-op. */
int dr_journal_close(dr_journal *j, dr_buf *err);

/* Close and free without writing what is pending (the run's state could not be saved). NULL is a no-op. */
void dr_journal_discard(dr_journal *j);

void dr_journal_stats_get(dr_journal *j, dr_journal_stats *out);

/*
 * The crash-test hook, from $DROVER_TEST_KILL_AT (docs/journal.md): "N"
 * raises SIGKILL right after the sync that made this writer's record N
 * durable; "N:before" when record N is appended (nothing of its batch
 * written); "N:torn" in the middle of writing the batch holding record N
 * (the file ends with a torn line). Empty or unset: no hook. Returns -1
 * (with err) for a malformed value.
 */
int dr_journal_set_kill_hook(dr_journal *j, const char *spec, dr_buf *err);

/* --- reader ------------------------------------------------------------ */

typedef struct dr_journal_file {
	char *path;
	struct cJSON *header; /* line 1 */
	struct cJSON **recs; /* the records of lines 2.., in order (a version 3 line may hold two) */
	size_t *lines; /* the line number of each record */
	size_t n;
	off_t valid_bytes; /* where the last complete, valid line ends */
	bool torn; /* the last line was incomplete or unreadable: ignored */
	size_t torn_line; /* its number */
	size_t torn_bytes; /* its length */
	bool ended; /* the last session wrote run.end */
	const struct cJSON *end; /* that run.end record */
	size_t sessions; /* 1 + the number of run.resume records */
	int version; /* the header's format version (records of versions 2 and 3 are read back as version 1's) */
	int64_t last_t_ms; /* version 3: the last line's t_ms, which a step or task line that leaves it out has */
} dr_journal_file;

/*
 * Read and check a journal. A last line without its newline, or one that is
 * not a JSON object, is torn: it is left out (torn, torn_line, torn_bytes
 * say so). Any other line that is not a JSON object with an "event", or a
 * first line that is not a header of a known version, is corruption:
 * returns -1 with err naming the file and the line. Missing file: -1 with
 * err, and errno ENOENT.
 */
int dr_journal_read(const char *path, dr_journal_file *out, dr_buf *err);
void dr_journal_file_dispose(dr_journal_file *f);

/*
 * As dr_journal_read, with the same checks, but each record is handed to
 * each (which owns it from then on) as it is read, instead of being kept:
 * f->recs stays empty (f->n counts the records) and f->end is NULL (ended
 * still says whether the last session wrote run.end). For readers that fold
 * a journal once (the run model), in the memory of one record. When it
 * returns -1, each may have had the records before the problem.
 */
int dr_journal_read_each(const char *path, dr_journal_file *f, void (*each)(void *ctx, struct cJSON *rec), void *ctx,
			 dr_buf *err);

/*
 * Only the header (line 1, read alone), checked and read back as
 * dr_journal_read does: f->header, f->version and f->path are set, no
 * records (f->n 0, ended false). What it reads does not grow with the
 * journal (drover approve). Returns 0, or -1 with err (missing file: errno
 * ENOENT). Dispose f either way.
 */
int dr_journal_read_header(const char *path, dr_journal_file *f, dr_buf *err);

/*
 * Whether the last session of the journal at path wrote run.end
 * (dr_journal_file.ended), from its header and its last lines only, read
 * from the end (a torn last line is passed over, as dr_journal_read does):
 * what it reads does not grow with the journal (the run lock's stale check).
 * Returns 0 with *ended, or -1 with err when the file is missing (errno
 * ENOENT), its header is not one drover reads, or its last lines are not
 * records (errno 0 for those). Lines between are not checked.
 */
int dr_journal_read_ended(const char *path, bool *ended, dr_buf *err);

/*
 * Whether run run_id of state_dir is over: its journal's last session wrote
 * run.end (dr_journal_read_ended), or it has no journal (it never started).
 * A journal that cannot be read says not over. For a lock its holder left.
 */
bool dr_journal_run_over(const char *state_dir, const char *run_id);

/* The longest run id. */
#define DR_RUN_ID_MAX 128

/*
 * Whether id may name a run (--run-id, resume, status, approve): 1 to
 * DR_RUN_ID_MAX letters, digits, '.', '_' and '-', starting with a letter
 * or a digit, so it is one file name in <state-dir>/runs (never "..", no
 * '/'), one line and one shell word. Otherwise false with a sentence in
 * err ("'../x' is not a run id: ...").
 */
bool dr_journal_run_id_ok(const char *id, dr_buf *err);

/* The path of a run's journal: <state_dir>/runs/<run_id>/journal.jsonl (heap). */
char *dr_journal_path(const char *state_dir, const char *run_id);

/* The state directory to use: explicit, else $DROVER_STATE_DIR, else ".drover". */
const char *dr_journal_state_dir(const char *explicit_dir);

/*
 * A command about a run that works when pasted, appended to b: "drover
 * VERB RUN", with "--state-dir DIR" when state_dir (the run's) is not the
 * default one (dr_journal_state_dir(NULL)): "drover resume --state-dir
 * /srv/dr shop-20260101T000000Z"; without RUN when run is NULL ("drover
 * runs --state-dir /srv/dr"). Words quoted for a shell; the caller appends
 * options that go after RUN. The one builder of the commands drover prints
 * for people (views, the executor, the CLI). Returns b->data.
 */
const char *dr_journal_command(dr_buf *b, const char *verb, const char *state_dir, const char *run);

/* --- retrying a failed run (journal_retry.c) ------------------------------ */

/* A run.resume record of a session that retried the failed run (--retry-failed). */
bool dr_journal_is_retry(const struct cJSON *rec);

typedef enum dr_retry_verdict {
	DR_RETRY_REFUSED = -1, /* not a run to retry (msg: why, and what to do instead) */
	DR_RETRY_OK, /* it ended failed: its failed tasks may get new attempts */
	DR_RETRY_NOTHING, /* it succeeded (msg says so) */
	DR_RETRY_ONGOING, /* a retry of it was interrupted: a plain resume goes on with it (msg: a note) */
} dr_retry_verdict;

/*
 * Whether run id (journal f, in state_dir) may be retried with `drover
 * resume --retry-failed` (docs/journal.md, "Retrying a failed run"): it
 * ended failed, it is not a drill, and no rollback began to undo it.
 * Otherwise appends to msg one sentence: why not, and what to do (the
 * commands it names carry --state-dir when state_dir is not the default).
 */
dr_retry_verdict dr_journal_retry_check(const dr_journal_file *f, const char *state_dir, const char *id, dr_buf *msg);

/*
 * The id of a run under state_dir of the same runbook (its absolute path)
 * against the same backend as f's run that started after it (heap), or
 * NULL: a retry of f's run would go on from what that run may have changed.
 */
char *dr_journal_later_run(const char *state_dir, const dr_journal_file *f);

/*
 * For a retry onto a changed runbook: what each changed, added or removed
 * step (now: dr_journal_runbook_digests of the runbook now) means for the
 * retry, from how it ended in the run ("  ~ step X: failed: its failed
 * tasks run again, with the change"), one line each into out. Returns the
 * number of lines.
 */
size_t dr_journal_retry_notes(const dr_journal_file *f, const struct cJSON *now, dr_buf *out);

/* --- lock ---------------------------------------------------------------- */

typedef struct dr_runlock dr_runlock;

typedef struct dr_runlock_req {
	const char *state_dir;
	const char *runbook; /* the runbook's absolute path */
	const char *backend; /* the backend's identity (journal_run.c: "sim:<state file>") */
	const char *run_id; /* the run taking the lock */
	bool resuming; /* run_id is being resumed: its own stale lock is taken over */
	bool force; /* take over a stale lock of another, unfinished run */
} dr_runlock_req;

/* dr_runlock_acquire's failures. */
enum { DR_RUNLOCK_ERROR = -1, DR_RUNLOCK_STALE = -2, DR_RUNLOCK_BUSY = -3 };

/*
 * Take the lock of (runbook, backend). Held by a live process:
 * DR_RUNLOCK_BUSY with err starting "busy: run X holds the lock" and saying
 * who holds it (pid, host, since when) and what to do. Left by a process
 * that is gone while its run had not ended: taken over when resuming that
 * run or with force (a sentence in note), else DR_RUNLOCK_STALE with err
 * (which run, which pid, and: resume it, or --force). A system error (the
 * lock file cannot be created, opened or written): DR_RUNLOCK_ERROR with
 * err naming the file and the cause. 0 and *out on success.
 */
int dr_runlock_acquire(const dr_runlock_req *req, dr_runlock **out, dr_buf *note, dr_buf *err);

/*
 * Release: with run_ended the lock file is emptied (no stale lock is left);
 * without it the record of this process stays, so the next run learns that
 * this run did not finish. NULL is a no-op.
 */
void dr_runlock_release(dr_runlock *l, bool run_ended);

/*
 * For `drover runs` and `drover status`: true when a live process holds the
 * lock file at path (for run_id, when not NULL: the holder's record names it).
 */
bool dr_runlock_held(const char *path, const char *run_id);

/* The lock file of (runbook, backend) (heap). */
char *dr_runlock_path(const char *state_dir, const char *runbook, const char *backend);

#endif
