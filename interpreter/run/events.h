/*
 * events.h - the run's event stream: one JSON object per transition.
 *
 * Every event has "ts" (RFC 3339 UTC, milliseconds, from the run's clock),
 * "t_ms" (milliseconds since the run started, on the same clock) and
 * "event" (its type, e.g. "task.end"), then the fields of its type. The
 * types and fields are documented in docs/events.md; reports and the
 * journal are built on them.
 *
 * A stream writes JSON lines to a FILE (optional) and hands each event to
 * listeners (the screen view). Known secret values (and their encoded
 * forms, secrets.h) are replaced by "***" in the free text of everything
 * written: messages, reasons, errors, comments and the outputs' strings,
 * never identifiers (step, target, status, the service's ids). Emission is
 * serialised by a mutex, so any thread may emit; listeners run under that
 * mutex, in emission order.
 *
 * Ownership: dr_events_emit takes the event (it frees it).
 */
#ifndef DR_EVENTS_H
#define DR_EVENTS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "run/clock.h"

struct cJSON;

typedef struct dr_events dr_events;

typedef void (*dr_event_listener)(void *ctx, const struct cJSON *ev);

/*
 * The typed path: the fields of a task's start, end and cancellation before
 * it ended (task.cancel: a task that never started, or a retrying one the
 * run stopped) and of the run's stop and end, as the executor has them, for a listener that reads only those
 * (plan --estimate) without a JSON event being built for it. Each is what the
 * JSON event of that type holds under the same key (docs/events.md); NULL or
 * -1 where the JSON event has no such key. Free text (message, reason) is
 * redacted as in the JSON event. Borrowed for the call.
 */
typedef struct dr_event_fields {
	const char *type; /* "task.start", "task.end", "task.cancel", "run.stopping" or "run.end" */
	int64_t t_ms; /* set by dr_events_tell from the stream's clock */
	const char *step, *target, *phase;
	const char *status, *klass, *message, *reason; /* klass: the JSON key "class" */
	int64_t elapsed_ms;
	bool will_retry, replayed;
} dr_event_fields;
typedef void (*dr_event_typed_listener)(void *ctx, const dr_event_fields *f);

/*
 * A stream on clock c. out may be NULL (no JSON lines); with flush_each
 * every line is flushed as it is written, so a reader (or a crash) sees
 * whole lines. The stream does not close out.
 */
dr_events *dr_events_new(dr_clock *c, FILE *out, bool flush_each);
void dr_events_free(dr_events *e);

/* Listen to every event; at most 4 listeners. */
void dr_events_listen(dr_events *e, dr_event_listener fn, void *ctx);

/* Listen to the typed path (dr_events_tell); at most one typed listener. */
void dr_events_listen_typed(dr_events *e, dr_event_typed_listener fn, void *ctx);
/*
 * Whether anyone reads JSON events: a FILE or a listener (dr_events_listen).
 * When no one does, the executor builds no JSON for the events it also tells
 * on the typed path (a task's start and end), nor for a task's notes and
 * logs; nothing else changes. Any thread.
 */
bool dr_events_json_wanted(dr_events *e);
/* Hand f (t_ms and replayed set here, free text redacted) to the typed listener, if any, under the stream's lock. */
void dr_events_tell(dr_events *e, const dr_event_fields *f);
/* Redact the value of secrets.NAME (at least 4 bytes; shorter ones are not redacted) from everything written from now on. */
void dr_events_add_secret(dr_events *e, const char *name, const char *value);

/* The stream's secrets, for redacting free text written elsewhere (secrets.h); owned by the stream. */
struct dr_secrets;
struct dr_secrets *dr_events_secrets(dr_events *e);

/* A new event of this type with ts, t_ms and event set; the caller adds fields, then emits it. */
struct cJSON *dr_event_new(dr_events *e, const char *type);

/*
 * Add key: value to ev without copying either: key a literal, value an
 * identifier (a step id, a VM name, a state's name) that outlives the event
 * (emitted and freed by dr_events_emit). Never for free text: redaction
 * replaces free text in place. A copy of ev (cJSON_Duplicate) owns its strings.
 */
void dr_event_add_name(struct cJSON *ev, const char *key, const char *value);

/* Write ev (redacted) and pass it to the listeners; frees ev. */
void dr_events_emit(dr_events *e, struct cJSON *ev);

/* A heap copy of the free text s with every known secret replaced by "***"; the caller frees it. Any thread. */
char *dr_events_redact(dr_events *e, const char *s);

/*
 * Resuming a run: while on, every event emitted gets "replayed": true (it
 * retells what the journal says happened before drover stopped).
 */
void dr_events_set_replay(dr_events *e, bool on);

/* Lines written so far (for tests and benchmarks). */
unsigned long dr_events_count(dr_events *e);

#endif
