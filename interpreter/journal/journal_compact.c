/*
 * journal_compact.c - format version 2 of the journal: what a line leaves
 * out, and how the reader puts it back (docs/journal.md, "Version 2").
 *
 * A version 1 record is the event as the event stream has it. Version 2
 * writes the same record without what the reader can restore exactly:
 *
 *   ts                          every record: it is the header's started_ms + t_ms
 *   attempt 1                   task.start, task.end (the first attempt)
 *   elapsed_ms 0                task.end, step.end
 *   succeeded/failed/skipped/cancelled 0   step.end
 *   key                         task.start of an action that is not mutating
 *                               (only mutating calls carry it to a service)
 *
 * and the header's shape with each distinct digest once: "digests" is the
 * list, and each step is [action, digest, with, needs, targets, when,
 * rollback, policy] as indexes into it (true after them for a finally
 * step). dr_journal_expand* turn a version 2 line back into the version 1
 * object, so everything that reads records (resume, runinfo, status) reads
 * one shape. Version 1 journals are read as they are.
 */
#include "journal/journal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "run/clock.h"
#include "util/xalloc.h"

static const char *const parts[] = {"with", "needs", "targets", "when", "rollback", "policy", NULL};
static const char *const counts[] = {"succeeded", "failed", "skipped", "cancelled", NULL};

static bool is(const char *a, const char *b) { return a && !strcmp(a, b); }

static bool in(const char *s, const char *const *list)
{
	for (size_t i = 0; list[i]; i++)
		if (is(s, list[i]))
			return true;
	return false;
}

static bool number_is(const cJSON *v, double want) { return cJSON_IsNumber(v) && v->valuedouble == want; }

/* Whether version 2 leaves this field of a record of this type out. */
static bool elided(const char *type, const cJSON *item, bool mutating)
{
	const char *k = item->string;
	bool task = is(type, "task.start") || is(type, "task.end");
	if (is(k, "ts"))
		return true;
	if (task && is(k, "attempt"))
		return number_is(item, 1);
	if ((is(type, "task.end") || is(type, "step.end")) && is(k, "elapsed_ms"))
		return number_is(item, 0);
	if (is(type, "step.end") && in(k, counts))
		return number_is(item, 0);
	return is(type, "task.start") && is(k, "key") && !mutating;
}

static void put_value(dr_buf *out, const cJSON *v)
{
	if (cJSON_IsString(v)) {
		dr_buf_putc(out, '"');
		dr_buf_json_escape(out, v->valuestring, strlen(v->valuestring));
		dr_buf_putc(out, '"');
	} else if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 9007199254740992.0) {
		dr_buf_printf(out, "%lld", (long long)v->valuedouble);
	} else {
		char *s = cJSON_PrintUnformatted(v);
		dr_buf_puts(out, s);
		cJSON_free(s);
	}
}

/*
 * Append rec as one version 2 line (without its newline) to out. A task.end
 * without an attempt gets "attempt":0, so that the reader's default of 1
 * applies only to what was left out. Any thread.
 */
void dr_journal_compact_line(dr_buf *out, const cJSON *rec)
{
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "event"));
	bool mutating = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "mutating")), first = true;
	dr_buf_putc(out, '{');
	for (const cJSON *item = rec->child; item; item = item->next) {
		if (!item->string || elided(type, item, mutating))
			continue;
		dr_buf_puts(out, first ? "\"" : ",\"");
		dr_buf_json_escape(out, item->string, strlen(item->string));
		dr_buf_puts(out, "\":");
		put_value(out, item);
		first = false;
	}
	if (is(type, "task.end") && !cJSON_GetObjectItemCaseSensitive(rec, "attempt"))
		dr_buf_puts(out, first ? "\"attempt\":0" : ",\"attempt\":0");
	dr_buf_putc(out, '}');
}

static void put_default(cJSON *rec, const char *key, double value)
{
	if (!cJSON_GetObjectItemCaseSensitive(rec, key))
		cJSON_AddNumberToObject(rec, key, value);
}

/* A number of milliseconds a reader may convert (the reader refuses the record otherwise, after this). */
static bool ms_ok(const cJSON *v)
{
	return cJSON_IsNumber(v) && fabs(v->valuedouble) <= 9007199254740992.0;
}

/* ts goes first, as in the event stream. */
static void put_ts(cJSON *rec, const cJSON *header)
{
	const cJSON *started = cJSON_GetObjectItemCaseSensitive(header, "started_ms");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(rec, "t_ms");
	if (cJSON_GetObjectItemCaseSensitive(rec, "ts") || !ms_ok(started) || !ms_ok(t))
		return;
	char ts[40];
	dr_clock_format_wall((int64_t)started->valuedouble + (int64_t)t->valuedouble, ts, sizeof ts);
	cJSON *s = cJSON_CreateString(ts);
	cJSON_AddItemToObject(rec, "ts", s); /* names it; then moved to the front */
	cJSON_DetachItemViaPointer(rec, s);
	cJSON_InsertItemInArray(rec, 0, s);
}

/*
 * Put back into a version 2 record (parsed, not yet checked) what version 2
 * leaves out, so it reads as the version 1 record. header is the journal's
 * (already expanded) header.
 */
void dr_journal_expand(cJSON *rec, const cJSON *header)
{
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "event"));
	if (!cJSON_IsObject(rec) || !type)
		return;
	put_ts(rec, header);
	if (is(type, "task.start") || is(type, "task.end"))
		put_default(rec, "attempt", 1);
	if (is(type, "task.end") || is(type, "step.end"))
		put_default(rec, "elapsed_ms", 0);
	for (size_t i = 0; is(type, "step.end") && counts[i]; i++)
		put_default(rec, counts[i], 0);
}

/* --- the header's shape -------------------------------------------------- */

/* The index of digest d in list (appended when new); names: d -> index, linear probing over list. */
typedef struct dtab {
	cJSON *list;
	const char **keys;
	int *vals;
	size_t cap, n;
} dtab;

static size_t slot(const dtab *t, const char *d)
{
	uint64_t h = dr_fnv1a(DR_FNV_INIT, d, strlen(d));
	size_t i = (size_t)h & (t->cap - 1);
	while (t->keys[i] && strcmp(t->keys[i], d))
		i = (i + 1) & (t->cap - 1);
	return i;
}

static int digest_index(dtab *t, const char *d)
{
	size_t i = slot(t, d ? d : "");
	if (!t->keys[i]) {
		t->keys[i] = d ? d : "";
		t->vals[i] = (int)t->n++;
		cJSON_AddItemToArray(t->list, cJSON_CreateString(d ? d : ""));
	}
	return t->vals[i];
}

static cJSON *compact_step(dtab *t, const cJSON *e)
{
	cJSON *a = cJSON_CreateArray();
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(e, "parts");
	const char *action = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "action"));
	cJSON_AddItemToArray(a, cJSON_CreateString(action ? action : ""));
	cJSON_AddItemToArray(a, cJSON_CreateNumber(digest_index(t, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "digest")))));
	for (size_t i = 0; parts[i]; i++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber(digest_index(t, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, parts[i])))));
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "finally")))
		cJSON_AddItemToArray(a, cJSON_CreateTrue());
	return a;
}

/*
 * The version 2 form of a shape (dr_journal_runbook_digests): a new object,
 * the caller's. Steps keep their order.
 */
cJSON *dr_journal_compact_shape(const cJSON *shape)
{
	const cJSON *steps = cJSON_GetObjectItemCaseSensitive(shape, "steps");
	size_t n = (size_t)cJSON_GetArraySize(steps);
	dtab t = {.list = cJSON_CreateArray(), .cap = 16};
	while (t.cap < 2 * (8 * n + 1))
		t.cap *= 2;
	t.keys = xcalloc(t.cap, sizeof *t.keys);
	t.vals = xcalloc(t.cap, sizeof *t.vals);
	cJSON *out = cJSON_CreateObject(), *csteps = cJSON_CreateObject();
	for (const cJSON *e = steps ? steps->child : NULL; e; e = e->next)
		cJSON_AddItemToObject(csteps, e->string, compact_step(&t, e));
	cJSON_AddItemToObject(out, "digests", t.list);
	cJSON_AddItemToObject(out, "steps", csteps);
	const cJSON *sec = cJSON_GetObjectItemCaseSensitive(shape, "sections");
	if (sec)
		cJSON_AddItemToObject(out, "sections", cJSON_Duplicate(sec, true));
	free(t.keys);
	free(t.vals);
	return out;
}

/* The digest at index ix of list; "" when ix is not a whole number within it (a damaged header: never cast out of range). */
static cJSON *digest_at(const cJSON *list, const cJSON *ix)
{
	double i = cJSON_IsNumber(ix) ? ix->valuedouble : -1;
	bool in = i >= 0 && i < (double)cJSON_GetArraySize(list) && i == (double)(int)i;
	const cJSON *d = in ? cJSON_GetArrayItem(list, (int)i) : NULL;
	return cJSON_CreateString(cJSON_IsString(d) ? d->valuestring : "");
}

static cJSON *expand_step(const cJSON *list, const cJSON *a)
{
	cJSON *e = cJSON_CreateObject(), *p = cJSON_CreateObject();
	const cJSON *action = cJSON_GetArrayItem(a, 0);
	cJSON_AddStringToObject(e, "action", cJSON_IsString(action) ? action->valuestring : "");
	cJSON_AddItemToObject(e, "digest", digest_at(list, cJSON_GetArrayItem(a, 1)));
	for (int i = 0; parts[i]; i++)
		cJSON_AddItemToObject(p, parts[i], digest_at(list, cJSON_GetArrayItem(a, 2 + i)));
	cJSON_AddItemToObject(e, "parts", p);
	if (cJSON_IsTrue(cJSON_GetArrayItem(a, 8)))
		cJSON_AddBoolToObject(e, "finally", true);
	return e;
}

/* Turn a version 2 header's shape back into the version 1 form, in place; a shape without "digests" is left alone. */
void dr_journal_expand_shape(cJSON *header)
{
	cJSON *shape = cJSON_GetObjectItemCaseSensitive(header, "shape");
	const cJSON *list = cJSON_GetObjectItemCaseSensitive(shape, "digests");
	const cJSON *steps = cJSON_GetObjectItemCaseSensitive(shape, "steps");
	if (!cJSON_IsArray(list) || !cJSON_IsObject(steps))
		return;
	cJSON *out = cJSON_CreateObject();
	for (const cJSON *a = steps->child; a; a = a->next)
		if (cJSON_IsArray(a))
			cJSON_AddItemToObject(out, a->string, expand_step(list, a));
	cJSON_ReplaceItemInObjectCaseSensitive(shape, "steps", out);
	cJSON_DeleteItemFromObjectCaseSensitive(shape, "digests");
}
