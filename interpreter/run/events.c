/*
 * events.c - the event stream (see events.h).
 *
 * Redaction walks the event's free text before anything sees them, so the
 * JSON lines, the journal and the screen show the same, redacted, text.
 * Free text is what people, programs and services wrote: the fields in
 * free_text below, and every string under "outputs" except those of the
 * keys in identifiers (what names a thing in the service or the
 * inventory). Identifiers and structural fields (step, target, status,
 * event, ...) are never touched: a journal read back means what it said.
 * With no secrets known (the common case) the walk is skipped.
 */
#include "run/events.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "run/secrets.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define MAX_LISTENERS 4

struct dr_events {
	pthread_mutex_t mu;
	dr_clock *clock;
	FILE *out;
	bool flush_each;
	struct {
		dr_event_listener fn;
		void *ctx;
	} listeners[MAX_LISTENERS];
	size_t n_listeners;
	dr_event_typed_listener typed;
	void *typed_ctx;
	dr_secrets *secrets;
	unsigned long count;
	bool replay; /* dr_events_set_replay */
};

dr_events *dr_events_new(dr_clock *c, FILE *out, bool flush_each)
{
	dr_events *e = xcalloc(1, sizeof *e);
	pthread_mutex_init(&e->mu, NULL);
	e->clock = c;
	e->out = out;
	e->flush_each = flush_each;
	e->secrets = dr_secrets_new();
	return e;
}

void dr_events_free(dr_events *e)
{
	if (!e)
		return;
	if (e->out)
		fflush(e->out);
	dr_secrets_free(e->secrets);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

void dr_events_listen(dr_events *e, dr_event_listener fn, void *ctx)
{
	pthread_mutex_lock(&e->mu);
	if (e->n_listeners < MAX_LISTENERS) {
		e->listeners[e->n_listeners].fn = fn;
		e->listeners[e->n_listeners++].ctx = ctx;
	}
	pthread_mutex_unlock(&e->mu);
}

void dr_events_listen_typed(dr_events *e, dr_event_typed_listener fn, void *ctx)
{
	pthread_mutex_lock(&e->mu);
	e->typed = fn;
	e->typed_ctx = ctx;
	pthread_mutex_unlock(&e->mu);
}

bool dr_events_json_wanted(dr_events *e)
{
	pthread_mutex_lock(&e->mu);
	bool wanted = e->out || e->n_listeners;
	pthread_mutex_unlock(&e->mu);
	return wanted;
}

void dr_events_tell(dr_events *e, const dr_event_fields *f)
{
	pthread_mutex_lock(&e->mu);
	if (e->typed) {
		dr_event_fields g = *f;
		g.t_ms = dr_clock_now(e->clock);
		g.replayed = e->replay;
		char *message = NULL, *reason = NULL;
		if (!dr_secrets_none(e->secrets)) { /* the free text, as redact_event redacts it */
			if (g.message && (message = dr_secrets_redact(e->secrets, g.message)))
				g.message = message;
			if (g.reason && (reason = dr_secrets_redact(e->secrets, g.reason)))
				g.reason = reason;
		}
		e->typed(e->typed_ctx, &g);
		free(message);
		free(reason);
	}
	pthread_mutex_unlock(&e->mu);
}

void dr_events_add_secret(dr_events *e, const char *name, const char *value)
{
	dr_secrets_add(e->secrets, name, value);
}

dr_secrets *dr_events_secrets(dr_events *e)
{
	return e->secrets;
}

cJSON *dr_event_new(dr_events *e, const char *type)
{
	char ts[40];
	int64_t now = dr_clock_now(e->clock);
	dr_clock_format_wall(dr_clock_wall_at(e->clock, now), ts, sizeof ts);
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddItemToObjectCS(ev, "ts", cJSON_CreateString(ts));
	cJSON_AddItemToObjectCS(ev, "t_ms", cJSON_CreateNumber((double)now));
	dr_event_add_name(ev, "event", type);
	return ev;
}

void dr_event_add_name(cJSON *ev, const char *key, const char *value)
{
	cJSON_AddItemToObjectCS(ev, key, cJSON_CreateStringReference(value));
}

/* The fields of an event that hold free text (at its top level). */
static const char *const free_text[] = {"message", "reason", "comment", "error", "note", "after", NULL};

/* Keys under "outputs" whose strings name things (in the service, the inventory, the run): never redacted. */
static const char *const identifiers[] = {
	"active_location", "address", "addresses", "approved", "at", "by", "code", "decision", "direction", "ended_at",
	"health", "name", "started_at",
	"host_key", "host_key_fingerprint", "host_key_type", "id", "ip", "item_id", "job_id", "operation", "point",
	"point_id", "point_time", "policy", "protection_state", "region", "request_id", "requested_at",
	"selected_protocol", "shutdown_source", "side", "signal", "state", "status", "step", "target", "task",
	"test_vm_id", "test_vm_ip", "time", "type", "via", "vm", "vm_id", NULL,
};

static bool listed(const char *key, const char *const *list)
{
	for (size_t i = 0; key && list[i]; i++)
		if (!strcmp(key, list[i]))
			return true;
	return false;
}

static void redact_string(dr_events *e, cJSON *c)
{
	char *r = dr_secrets_redact(e->secrets, c->valuestring);
	if (!r)
		return;
	cJSON_free(c->valuestring);
	c->valuestring = (char *)cJSON_malloc(strlen(r) + 1);
	strcpy(c->valuestring, r);
	free(r);
}

/* Every string under v (outputs), except the values of identifier keys. */
static void redact_outputs(dr_events *e, cJSON *v)
{
	for (cJSON *c = v->child; c; c = c->next) {
		if (c->string && listed(c->string, identifiers))
			continue;
		if (cJSON_IsString(c) && c->valuestring)
			redact_string(e, c);
		else if (cJSON_IsObject(c) || cJSON_IsArray(c))
			redact_outputs(e, c);
	}
}

static void redact_event(dr_events *e, cJSON *ev)
{
	for (cJSON *c = ev->child; c; c = c->next) {
		if (cJSON_IsString(c) && c->valuestring && listed(c->string, free_text))
			redact_string(e, c);
		else if (c->string && !strcmp(c->string, "outputs") && (cJSON_IsObject(c) || cJSON_IsArray(c)))
			redact_outputs(e, c);
	}
}

static void write_line(dr_events *e, const cJSON *ev)
{
	char *line = cJSON_PrintUnformatted(ev);
	if (!line)
		return;
	fputs(line, e->out);
	fputc('\n', e->out);
	if (e->flush_each)
		fflush(e->out);
	cJSON_free(line);
}

void dr_events_emit(dr_events *e, cJSON *ev)
{
	pthread_mutex_lock(&e->mu);
	if (e->replay)
		cJSON_AddBoolToObject(ev, "replayed", true);
	if (!dr_secrets_none(e->secrets))
		redact_event(e, ev);
	if (e->out)
		write_line(e, ev);
	e->count++;
	for (size_t i = 0; i < e->n_listeners; i++)
		e->listeners[i].fn(e->listeners[i].ctx, ev);
	pthread_mutex_unlock(&e->mu);
	cJSON_Delete(ev);
}

char *dr_events_redact(dr_events *e, const char *s)
{
	char *r = dr_secrets_redact(e->secrets, s);
	return r ? r : xstrdup(s);
}

void dr_events_set_replay(dr_events *e, bool on)
{
	pthread_mutex_lock(&e->mu);
	e->replay = on;
	pthread_mutex_unlock(&e->mu);
}

unsigned long dr_events_count(dr_events *e)
{
	pthread_mutex_lock(&e->mu);
	unsigned long n = e->count;
	pthread_mutex_unlock(&e->mu);
	return n;
}
