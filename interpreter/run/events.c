/*
 * events.c - the event stream (see events.h).
 *
 * Redaction walks the event's strings before anything sees them, so the
 * JSON lines and the screen show the same, redacted, text. With no secrets
 * known (the common case) the walk is skipped.
 */
#include "run/events.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/buf.h"
#include "util/xalloc.h"

#define MAX_LISTENERS 4
#define MIN_SECRET_LEN 4

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
	char **secrets;
	size_t n_secrets;
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
	return e;
}

void dr_events_free(dr_events *e)
{
	if (!e)
		return;
	if (e->out)
		fflush(e->out);
	for (size_t i = 0; i < e->n_secrets; i++)
		free(e->secrets[i]);
	free(e->secrets);
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

void dr_events_add_secret(dr_events *e, const char *value)
{
	if (!value || strlen(value) < MIN_SECRET_LEN)
		return;
	pthread_mutex_lock(&e->mu);
	for (size_t i = 0; i < e->n_secrets; i++)
		if (strcmp(e->secrets[i], value) == 0)
			goto out;
	e->secrets = xrealloc(e->secrets, (e->n_secrets + 1) * sizeof *e->secrets);
	e->secrets[e->n_secrets++] = xstrdup(value);
out:
	pthread_mutex_unlock(&e->mu);
}

cJSON *dr_event_new(dr_events *e, const char *type)
{
	char ts[40];
	int64_t now = dr_clock_now(e->clock);
	dr_clock_format_wall(dr_clock_wall_at(e->clock, now), ts, sizeof ts);
	cJSON *ev = cJSON_CreateObject();
	cJSON_AddStringToObject(ev, "ts", ts);
	cJSON_AddNumberToObject(ev, "t_ms", (double)now);
	cJSON_AddStringToObject(ev, "event", type);
	return ev;
}

/* s with every secret replaced; NULL when s holds none. Call with mu held. */
static char *redact_locked(dr_events *e, const char *s)
{
	char *cur = NULL;
	for (size_t i = 0; i < e->n_secrets; i++) {
		const char *src = cur ? cur : s, *hit = strstr(src, e->secrets[i]);
		if (!hit)
			continue;
		size_t n = strlen(e->secrets[i]);
		dr_buf b;
		dr_buf_init(&b);
		for (; hit; src = hit + n, hit = strstr(src, e->secrets[i])) {
			dr_buf_append(&b, src, (size_t)(hit - src));
			dr_buf_puts(&b, "***");
		}
		dr_buf_puts(&b, src);
		free(cur);
		cur = dr_buf_detach(&b);
	}
	return cur;
}

static void redact_tree(dr_events *e, cJSON *v)
{
	for (cJSON *c = v->child; c; c = c->next) {
		if (cJSON_IsString(c) && c->valuestring) {
			char *r = redact_locked(e, c->valuestring);
			if (r) {
				cJSON_free(c->valuestring);
				c->valuestring = (char *)cJSON_malloc(strlen(r) + 1);
				strcpy(c->valuestring, r);
				free(r);
			}
		} else if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
			redact_tree(e, c);
		}
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
	if (e->n_secrets)
		redact_tree(e, ev);
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
	pthread_mutex_lock(&e->mu);
	char *r = redact_locked(e, s);
	pthread_mutex_unlock(&e->mu);
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
