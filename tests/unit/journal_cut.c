/*
 * journal_cut.c - the journal-cut tests' service and records (journal_cut.h).
 */
#include "journal_cut.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fixture.h"
#include "run/exec.h"

jc_op jc_ops[JC_MAX_OPS];
size_t jc_n_ops;
const char *jc_journal_file;

jc_op *jc_find(const char *key)
{
	for (size_t i = 0; i < jc_n_ops; i++)
		if (!strcmp(jc_ops[i].key, key))
			return &jc_ops[i];
	return NULL;
}

size_t jc_starts_of(const char *label)
{
	size_t n = 0;
	for (size_t i = 0; i < jc_n_ops; i++)
		n += !strcmp(jc_ops[i].label, label);
	return n;
}

/* The intent of this call is in the journal file on disk (written; the writer fsyncs before it returns). */
static void check_intent_durable(const char *key)
{
	if (!jc_journal_file)
		return;
	FILE *f = fopen(jc_journal_file, "r");
	assert_non_null(f);
	char line[4096], needle[300];
	bool found = false;
	snprintf(needle, sizeof needle, "\"key\":\"%s\"", key);
	while (!found && fgets(line, sizeof line, f))
		found = strstr(line, "\"event\":\"task.start\"") && strstr(line, needle);
	fclose(f);
	if (!found)
		fail_msg("the call with key %s was issued before its intent was in the journal", key);
}

jc_op *jc_start(dr_call *call, bool fail_first)
{
	char key[256];
	dr_exec_idempotency_key(call, key, sizeof key);
	check_intent_durable(key);
	jc_op *o = jc_find(key);
	if (!o) {
		assert_true(jc_n_ops < JC_MAX_OPS);
		o = &jc_ops[jc_n_ops++];
		snprintf(o->key, sizeof o->key, "%s", key);
		dr_exec_task_label(call, o->label, sizeof o->label);
		o->failed = fail_first && call->attempt == 1;
	}
	return o;
}

void jc_recs_parse(const char *text, size_t len, jc_recs *r)
{
	r->v = calloc(len, sizeof *r->v);
	r->end = calloc(len, sizeof *r->end);
	r->n = 0;
	for (size_t off = 0; off < len;) {
		const char *nl = strchr(text + off, '\n');
		size_t l = (size_t)(nl - (text + off));
		r->v[r->n] = cJSON_ParseWithLength(text + off, l);
		r->end[r->n++] = off + l + 1;
		off += l + 1;
	}
}

void jc_recs_free(jc_recs *r)
{
	for (size_t i = 0; i < r->n; i++)
		cJSON_Delete(r->v[i]);
	free(r->v);
	free(r->end);
}

int jc_attempt_of(const cJSON *o)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(o, "attempt");
	return a ? a->valueint : 1;
}

static bool same_attempt(const cJSON *a, const cJSON *b)
{
	return !strcmp(fx_str(a, "step"), fx_str(b, "step")) && !strcmp(fx_str(a, "target"), fx_str(b, "target")) &&
	       !strcmp(fx_str(a, "phase"), fx_str(b, "phase")) && jc_attempt_of(a) == jc_attempt_of(b);
}

/* Whether op's intent (and, with lost_calls, its result) ends within the first n bytes. */
static bool happened(const jc_recs *r, const jc_op *o, size_t n, bool lost_calls)
{
	for (size_t i = 0; i < r->n; i++) {
		if (strcmp(fx_str(r->v[i], "event"), "task.start") || strcmp(fx_str(r->v[i], "key"), o->key))
			continue;
		if (r->end[i] > n)
			return false; /* its intent was not durable: the call was never made */
		if (!lost_calls)
			return true;
		for (size_t j = i + 1; j < r->n; j++)
			if (!strcmp(fx_str(r->v[j], "event"), "task.end") && same_attempt(r->v[i], r->v[j]))
				return r->end[j] <= n; /* no result in the prefix: say the call never went out */
		return false;
	}
	return false;
}

void jc_service_at(const jc_op *all, size_t n_all, const jc_recs *r, size_t n, bool lost_calls)
{
	jc_n_ops = 0;
	for (size_t i = 0; i < n_all; i++)
		if (happened(r, &all[i], n, lost_calls))
			jc_ops[jc_n_ops++] = all[i];
}
