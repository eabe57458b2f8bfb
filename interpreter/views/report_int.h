/*
 * report_int.h - what the report's forms share (report_util.c): reading the
 * JSON report (report.h) defensively, its tasks by index, step names, times
 * and the verdicts every form states. Private to views/report*.c.
 */
#ifndef DR_REPORT_INT_H
#define DR_REPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

struct cJSON;

/* A member of o (NULL when o is NULL or has none); a string member (NULL unless a string). */
const struct cJSON *dr_rep_obj(const struct cJSON *o, const char *key);
const char *dr_rep_str(const struct cJSON *o, const char *key);
/* A number member as ms (-1 when null or absent); as an int (0 when absent). */
int64_t dr_rep_ms(const struct cJSON *o, const char *key);
int dr_rep_int(const struct cJSON *o, const char *key);
/* A boolean member: 1 true, 0 false, -1 null or absent. */
int dr_rep_bool(const struct cJSON *o, const char *key);

/* The document's tasks as an array (heap; the caller frees it), for lookups by index in constant time. */
const struct cJSON **dr_rep_tasks(const struct cJSON *doc, size_t *n);

/* A step as people name it: "failover-db", "rollback: undo failover-db", "finally: report". */
void dr_rep_step_name(const struct cJSON *step, char *out, size_t n);

/* The wall time (RFC 3339, UTC) of a clock time of the run into out ("" when the start is unknown). */
void dr_rep_wall(const struct cJSON *doc, int64_t t_ms, char *out, size_t n);

/* A duration for people: "19m41s", "950ms", "none" when < 0. */
void dr_rep_duration(int64_t ms, char *out, size_t n);

/* What a task waiting for a person (its waiting_for_person) was asked when the run did not record it, by its kind. */
const char *dr_rep_waiting_unsaid(const struct cJSON *waiting);

/*
 * The run's verdicts, each a check that passes, fails or is not judged:
 * the run's status, the RTO, the worst RPO and every VM's RPO (one check,
 * naming the worst VMs that missed) against the objectives (only those
 * with an objective), and a drill's cleanup: their number does not grow
 * with the estate.
 * name says the check with its figure (for a page), check the check alone,
 * named the same from run to run so a CI dashboard follows it (JUnit).
 * failure is NULL when it passed, else a sentence; skipped is a sentence
 * when the check was not judged (an RPO objective with nothing measured:
 * objectives.enforce does not count it), else NULL. Heap; release with
 * dr_rep_verdicts_dispose.
 */
typedef struct dr_rep_verdict {
	char *name; /* the check with its figure: "RTO 19m41s (objective 30m)", "run succeeded" */
	char *check; /* the check alone, the same from run to run: "RTO (objective 30m)", "run status" (JUnit) */
	int64_t ms; /* the RTO achieved (JUnit: the testcase's time); -1 for the other checks */
	char *failure;
	char *skipped;
} dr_rep_verdict;

dr_rep_verdict *dr_rep_verdicts(const struct cJSON *doc, size_t *n);
void dr_rep_verdicts_dispose(dr_rep_verdict *v, size_t n);

/*
 * One line that says how the run went: "succeeded; RTO 19m41s (objective 30m: met); worst RPO ...", then
 * "; enforced (objectives.enforce: drill)" when the objectives held the run (": the run fails" when missed).
 */
void dr_rep_headline(const struct cJSON *doc, dr_buf *out);

#endif
