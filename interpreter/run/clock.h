/*
 * clock.h - the one clock every wait of a run goes through.
 *
 * A clock tells two times: now (milliseconds on the run's own monotonic
 * time line, 0 when the clock was made) and wall (Unix milliseconds, for
 * timestamps in events). Two kinds:
 *
 *   real     now from CLOCK_MONOTONIC, wall from CLOCK_REALTIME; waits are
 *            pthread_cond_timedwait on a condition made by dr_clock_cond_init.
 *            A real clock may run faster than real time (dr_clock_set_rate).
 *   virtual  now only moves when the scheduler says nothing else can happen
 *            (no worker busy, nothing runnable): then a wait jumps straight to
 *            its deadline. wall is its start (dr_clock_set_start, by default
 *            DR_CLOCK_VIRTUAL_EPOCH_MS) + now, so event streams are exact and
 *            the same for the same start.
 *
 * Thread safety: dr_clock_now and dr_clock_wall may be called from any
 * thread; dr_clock_wait from the one thread that owns the schedule.
 */
#ifndef DR_CLOCK_H
#define DR_CLOCK_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* 2026-01-01T00:00:00Z: where virtual time starts. */
#define DR_CLOCK_VIRTUAL_EPOCH_MS INT64_C(1767225600000)
/* A deadline that never comes. */
#define DR_CLOCK_NEVER INT64_MAX

typedef enum dr_clock_kind { DR_CLOCK_REAL, DR_CLOCK_VIRTUAL } dr_clock_kind;

typedef struct dr_clock dr_clock;

/* A new clock of that kind, now == 0. Never NULL. Free with dr_clock_free. */
dr_clock *dr_clock_new(dr_clock_kind kind);
void dr_clock_free(dr_clock *c);

dr_clock_kind dr_clock_kind_of(const dr_clock *c);
/* "real" or "virtual". */
const char *dr_clock_kind_name(dr_clock_kind kind);

/* Milliseconds since the clock was made (monotonic). */
int64_t dr_clock_now(dr_clock *c);

/* Unix time in milliseconds of clock time t (t from dr_clock_now). */
int64_t dr_clock_wall_at(dr_clock *c, int64_t t);

/* Unix time in milliseconds, now. */
int64_t dr_clock_wall(dr_clock *c);

/*
 * Initialise a condition variable that dr_clock_wait can time out on
 * (CLOCK_MONOTONIC). Returns 0 or an errno value.
 */
int dr_clock_cond_init(pthread_cond_t *cv);

/*
 * Wait, with m locked, until cv is signalled or clock time reaches
 * deadline (DR_CLOCK_NEVER: no deadline). With a virtual clock and
 * may_jump, time jumps to the deadline and the call returns at once;
 * without may_jump a virtual clock waits for cv only (time stands still
 * while workers run). Returns true when the deadline has been reached.
 * Spurious wake-ups return false; callers re-check their state.
 */
bool dr_clock_wait(dr_clock *c, pthread_mutex_t *m, pthread_cond_t *cv, int64_t deadline, bool may_jump);

/*
 * A real clock that runs rate times faster than real time (backend.speed of
 * a simulator): now is the real time elapsed times rate, and a wait for a
 * deadline lasts (deadline - now) / rate of real time. rate <= 0 or 1: real
 * time. Call right after dr_clock_new; no-op for a virtual clock.
 */
void dr_clock_set_rate(dr_clock *c, double rate);

/*
 * The Unix ms a virtual clock's time 0 stands for (default
 * DR_CLOCK_VIRTUAL_EPOCH_MS): a run on the virtual clock starts at a real
 * point in time (the simulator's own time). No-op for a real clock. Call
 * before anything reads the clock.
 */
void dr_clock_set_start(dr_clock *c, int64_t wall_ms);

/* Move a virtual clock forward to t (no-op for real clocks or t in the past). For tests. */
void dr_clock_advance_to(dr_clock *c, int64_t t);

/*
 * Resuming a run (journal): make now read now_ms from this instant on. A
 * real clock moves its origin (and its wall origin) back by the real time
 * that makes now_ms (now_ms / rate), so that wall_at(0) is when the run
 * first started and the downtime counts; a virtual clock jumps to now_ms.
 * Call before anything reads the clock.
 */
void dr_clock_rebase(dr_clock *c, int64_t now_ms);

/*
 * Replaying a journal: dr_clock_now answers t (the replayed record's time)
 * until dr_clock_unpin, so what the replay computes (deadlines, retry times,
 * event timestamps) is what the original run computed. Scheduler thread.
 */
void dr_clock_pin(dr_clock *c, int64_t t);
void dr_clock_unpin(dr_clock *c);

/* RFC 3339 UTC with milliseconds, "2026-01-01T00:00:05.250Z", into out (at least 32 bytes). */
void dr_clock_format_wall(int64_t wall_ms, char *out, size_t outsz);

/* Elapsed time as "HH:MM:SS.mmm" (hours grow past 99 if they must), into out. */
void dr_clock_format_elapsed(int64_t ms, char *out, size_t outsz);

#endif
