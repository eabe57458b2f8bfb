/*
 * holder.h - who holds a lock file: the record its holder writes into the
 * file it flocks, and what a later reader can tell of it.
 *
 * The record is one line of JSON, {"pid", "host", ..., "since"}: the
 * process and the machine that took the lock, the caller's own fields
 * (the run lock: run, runbook, backend; the simulator's state lock: run
 * and state_dir once a run names itself), and when it was taken (UTC).
 * The holder empties the file when it lets go, so a record under a free
 * lock was left by a holder that stopped without letting go (killed).
 * Users: journal/runlock.c, backends/sim_state.c, cli/sim.c. The bytes are
 * the journal.md and backends.md formats: tests read them.
 *
 * Records are cJSON objects (the caller frees them with cJSON_Delete).
 * Every function may be called from any thread; a writer holds the flock.
 */
#ifndef DR_HOLDER_H
#define DR_HOLDER_H

#include <cjson/cJSON.h>

/* A new record naming this process: {"pid": getpid(), "host": its host name, or "?"}. Caller frees. */
cJSON *dr_holder_new(void);

/* Add "since": now on the wall clock, UTC, to the whole second ("2026-12-06T21:51:06.000Z"). */
void dr_holder_add_since(cJSON *h);

/*
 * Make h the whole content of the lock file fd (unformatted, no newline),
 * durable (fdatasync) before it returns. 0, or -1 with errno set.
 */
int dr_holder_write(int fd, const cJSON *h);

/* Empty the lock file fd, durably: its holder lets go. 0, or -1 with errno set. */
int dr_holder_clear(int fd);

/*
 * The record in the lock file fd (read from offset 0, at most 64 KiB), or
 * NULL when the file is empty, unreadable, or holds no JSON object.
 */
cJSON *dr_holder_read(int fd);

/* The string field key of h (h may be NULL), or "?" when absent or not a string. */
const char *dr_holder_field(const cJSON *h, const char *key);

/* The pid of h (h may be NULL), or 0 when it names none. */
long dr_holder_pid(const cJSON *h);

/*
 * For a record found under a free lock, what became of the process it
 * names, as a phrase: "no longer running"; another host's, which cannot be
 * checked; or a live process with that pid, which cannot be the holder
 * (the pid was reused). A static string.
 */
const char *dr_holder_liveness(const cJSON *h);

#endif
