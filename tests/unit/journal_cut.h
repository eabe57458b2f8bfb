/*
 * journal_cut.h - what the journal-cut tests share (test_journal_resume.c,
 * test_journal_retry.c): a "service" that is a table of idempotency keys,
 * each operation with its task's label and whether its job failed, that
 * checks a call's intent is durable in the journal before it takes the call;
 * and a journal read as records with where each line ends, to rebuild the
 * service a crash after any prefix of the journal leaves.
 *
 * One service per test program (globals); not thread-safe, as the tests run
 * their executor with one worker per call and cmocka in one thread.
 */
#ifndef DR_TEST_JOURNAL_CUT_H
#define DR_TEST_JOURNAL_CUT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "actions/action.h"

#define JC_MAX_OPS 512

typedef struct jc_op {
	char key[256], label[128];
	bool failed;
} jc_op;

extern jc_op jc_ops[JC_MAX_OPS]; /* what the service has started, in order */
extern size_t jc_n_ops;
extern const char *jc_journal_file; /* when set, jc_start asserts the call's intent is in this file */

/* The operation with idempotency key key; NULL when the service has not started it. */
jc_op *jc_find(const char *key);

/*
 * The operation of call's idempotency key: started (recorded) on its first
 * call, failed when fail_first and it is attempt 1; later calls get it as
 * it is. Fails the test when jc_journal_file is set and holds no task.start
 * of that key (a call issued before its intent was durable).
 */
jc_op *jc_start(dr_call *call, bool fail_first);

/* How many operations the task labelled label (dr_exec_task_label) started. */
size_t jc_starts_of(const char *label);

/* A journal's records, each with the offset just past its line. */
typedef struct jc_recs {
	cJSON **v;
	size_t *end;
	size_t n;
} jc_recs;

/* text (len bytes of whole lines) parsed into r; jc_recs_free frees it. */
void jc_recs_parse(const char *text, size_t len, jc_recs *r);
void jc_recs_free(jc_recs *r);

/* A journal line's attempt: format version 2 leaves out attempt 1 (docs/journal.md). */
int jc_attempt_of(const cJSON *o);

/*
 * The service a crash after the first n bytes of r's journal left: of the
 * n_all operations in all, those whose intent is within the n bytes (with
 * lost_calls, whose result is there too: a call with no result in the prefix
 * is taken as never sent), in jc_ops.
 */
void jc_service_at(const jc_op *all, size_t n_all, const jc_recs *r, size_t n, bool lost_calls);

#endif
