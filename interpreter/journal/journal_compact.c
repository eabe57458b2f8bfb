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
#include "util/json_print.h"
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

static bool ms_ok(const cJSON *v);

/* What kind of record a line is, for what it leaves out (found once a record, not once a field). */
typedef struct kind {
	bool task_start, task_end, step_end, mutating;
} kind;

/* Whether version 2 leaves this field of a record of this kind out. */
static bool elided(const kind *r, const cJSON *item)
{
	const char *k = item->string;
	switch (k[0]) {
	case 't':
		return is(k, "ts");
	case 'a':
		return (r->task_start || r->task_end) && is(k, "attempt") && number_is(item, 1);
	case 'e':
		return (r->task_end || r->step_end) && is(k, "elapsed_ms") && number_is(item, 0);
	case 'k':
		return r->task_start && is(k, "key") && !r->mutating;
	default:
		return r->step_end && in(k, counts) && number_is(item, 0);
	}
}

/*
 * Append rec as one version 2 line (without its newline) to out. A task.end
 * without an attempt gets "attempt":0, so that the reader's default of 1
 * applies only to what was left out. Any thread.
 */
void dr_journal_compact_line(dr_buf *out, const cJSON *rec)
{
	dr_journal_compact_line3(out, rec, false, NULL);
}

/* Records whose t_ms version 3 leaves out when it is the previous line's: every step.* and task.* record. */
static bool step_or_task(const char *type)
{
	return type && (!strncmp(type, "step.", 5) || !strncmp(type, "task.", 5));
}

/*
 * The version 3 line of rec: version 2's, without t_ms when it is *last_t
 * (a step.* or task.* record; last_t NULL: version 2), with "tasks":1 when
 * folded (the record stands for its one-task step's start or end too).
 * *last_t gets the record's t_ms. Any thread.
 */
void dr_journal_compact_line3(dr_buf *out, const cJSON *rec, bool folded, int64_t *last_t)
{
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "event"));
	kind r = {is(type, "task.start"), is(type, "task.end"), is(type, "step.end"),
		  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "mutating"))};
	bool first = true;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(rec, "t_ms");
	int64_t t_ms = ms_ok(t) ? (int64_t)t->valuedouble : -1;
	bool same_t = last_t && t_ms >= 0 && t_ms == *last_t && step_or_task(type);
	if (last_t)
		*last_t = t_ms;
	dr_buf_putc(out, '{');
	for (const cJSON *item = rec->child; item; item = item->next) {
		if (!item->string || elided(&r, item) || (same_t && item == t))
			continue;
		dr_buf_puts(out, first ? "\"" : ",\"");
		dr_buf_json_escape(out, item->string, strlen(item->string));
		dr_buf_puts(out, "\":");
		dr_json_print(out, item);
		first = false;
	}
	if (r.task_end && !cJSON_GetObjectItemCaseSensitive(rec, "attempt")) {
		dr_buf_puts(out, first ? "\"attempt\":0" : ",\"attempt\":0");
		first = false;
	}
	if (folded)
		dr_buf_puts(out, first ? "\"tasks\":1" : ",\"tasks\":1");
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

/* --- version 3: a one-task step folded into its task's lines --------------- */

/* t_ms at the front (ts goes before it later), as the event stream has it. */
static void put_t_ms(cJSON *rec, int64_t t_ms)
{
	cJSON *t = cJSON_CreateNumber((double)t_ms);
	cJSON_AddItemToObject(rec, "t_ms", t); /* names it; then moved to the front */
	cJSON_DetachItemViaPointer(rec, t);
	cJSON_InsertItemInArray(rec, 0, t);
}

/* The step's own record at the time of rec: ts, t_ms, event, step. */
static cJSON *step_record(const cJSON *rec, const char *type, const char *step)
{
	cJSON *s = cJSON_CreateObject();
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(rec, "ts");
	if (cJSON_IsString(ts))
		cJSON_AddStringToObject(s, "ts", ts->valuestring);
	cJSON_AddItemToObject(s, "t_ms", cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(rec, "t_ms"), false));
	cJSON_AddStringToObject(s, "event", type);
	cJSON_AddStringToObject(s, "step", step);
	return s;
}

/* The step.end a folded task.end stands for: its step ended with it, as it did, at once. */
static cJSON *step_end_of(const cJSON *rec, const char *step)
{
	cJSON *s = step_record(rec, "step.end", step);
	const char *status = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "status"));
	cJSON_AddStringToObject(s, "status", status ? status : "");
	cJSON_AddNumberToObject(s, "tasks", 1);
	for (size_t i = 0; counts[i]; i++)
		cJSON_AddNumberToObject(s, counts[i], is(status, counts[i]));
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(rec, "elapsed_ms");
	cJSON_AddItemToObject(s, "elapsed_ms", cJSON_IsNumber(e) ? cJSON_Duplicate(e, false) : cJSON_CreateNumber(0));
	return s;
}

void dr_journal_unfold(cJSON *rec, const cJSON *header, int64_t *last_t, cJSON **before, cJSON **after)
{
	*before = *after = NULL;
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "event"));
	if (!cJSON_IsObject(rec) || !type)
		return;
	if (!cJSON_GetObjectItemCaseSensitive(rec, "t_ms") && step_or_task(type) && *last_t >= 0)
		put_t_ms(rec, *last_t);
	dr_journal_expand(rec, header);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(rec, "t_ms");
	if (ms_ok(t) && t->valuedouble >= 0)
		*last_t = (int64_t)t->valuedouble;
	const char *step = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rec, "step"));
	bool start = is(type, "task.start"), end = is(type, "task.end");
	if ((!start && !end) || !number_is(cJSON_GetObjectItemCaseSensitive(rec, "tasks"), 1) || !step || !ms_ok(t))
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "tasks");
	if (end) {
		*after = step_end_of(rec, step);
		return;
	}
	*before = step_record(rec, "step.start", step);
	cJSON_AddNumberToObject(*before, "tasks", 1);
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

/* The digests list's items by index (cJSON's arrays are lists: an index read walks them). */
typedef struct digests {
	const cJSON **v;
	size_t n;
} digests;

/* The digest at index ix of the list; "" when ix is not a whole number within it (a damaged header: never cast out of range). */
static cJSON *digest_at(const digests *list, const cJSON *ix)
{
	double i = cJSON_IsNumber(ix) ? ix->valuedouble : -1;
	bool in = i >= 0 && i < (double)list->n && i == (double)(size_t)i;
	const cJSON *d = in ? list->v[(size_t)i] : NULL;
	return cJSON_CreateString(cJSON_IsString(d) ? d->valuestring : "");
}

static cJSON *expand_step(const digests *list, const cJSON *a)
{
	cJSON *e = cJSON_CreateObject(), *p = cJSON_CreateObject();
	const cJSON *f[9] = {NULL}, *c = a->child; /* [action, digest, parts..., finally] read in one walk */
	for (size_t k = 0; c && k < 9; c = c->next)
		f[k++] = c;
	cJSON_AddStringToObject(e, "action", cJSON_IsString(f[0]) ? f[0]->valuestring : "");
	cJSON_AddItemToObject(e, "digest", digest_at(list, f[1]));
	for (int i = 0; parts[i]; i++)
		cJSON_AddItemToObject(p, parts[i], digest_at(list, f[2 + i]));
	cJSON_AddItemToObject(e, "parts", p);
	if (cJSON_IsTrue(f[8]))
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
	digests d = {.v = xcalloc((size_t)cJSON_GetArraySize(list) + 1, sizeof *d.v), .n = 0};
	for (const cJSON *c = list->child; c; c = c->next)
		d.v[d.n++] = c;
	for (const cJSON *a = steps->child; a; a = a->next)
		if (cJSON_IsArray(a))
			cJSON_AddItemToObject(out, a->string, expand_step(&d, a));
	free(d.v);
	cJSON_ReplaceItemInObjectCaseSensitive(shape, "steps", out);
	cJSON_DeleteItemFromObjectCaseSensitive(shape, "digests");
}
