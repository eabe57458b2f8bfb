/*
 * report_int.h - what the report's forms share: the report being written
 * (report.c: its head and its lists an item at a time), reading its JSON
 * defensively, step names, times and the verdicts every form states
 * (report_util.c). Private to views/report*.c.
 */
#ifndef DR_REPORT_INT_H
#define DR_REPORT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "journal/runinfo.h"
#include "util/buf.h"

struct cJSON;

/*
 * A report being written. Its JSON (docs/report.md) is never whole in
 * memory: doc is its head, every member but the lists that grow with the
 * run (steps, tasks, approvals, vms, the RPO of every VM, a drill's
 * cleanup), which are empty arrays there (list[], in that order); each form
 * builds their items one at a time (dr_rep_step, dr_rep_task, ...) from the
 * run model, or reads the model for what it only counts or picks. With
 * fd >= 0 the text goes out as it grows (dr_rep_flush), so the report takes
 * the model's memory plus one item's, at any estate.
 */
enum { DR_REP_STEPS, DR_REP_TASKS, DR_REP_APPROVALS, DR_REP_VMS, DR_REP_RPO_VMS, DR_REP_CLEANUP, DR_REP__LISTS };

typedef struct dr_rep {
	const dr_runinfo *ri;
	struct cJSON *doc; /* the head */
	const struct cJSON *list[DR_REP__LISTS]; /* where each list goes in doc (an empty array) */
	dr_ri_objectives o; /* the objectives as the report states them (a run over and never recovered missed its RTO) */
	bool *critical; /* per task: on the critical path (the chain that ended at the task deciding the RTO) */
	dr_buf *out; /* the text not yet written */
	int fd; /* where it goes as it grows; -1: it all stays in out */
	int err; /* errno of the first write that failed (the rest is dropped); 0 */
	size_t most; /* the most text out held at a flush (a test's bound) */
} dr_rep;

/* Open a report of ri (ended, or held still) appending to out, written to fd as it grows (-1: kept in out). */
void dr_rep_open(dr_rep *r, const dr_runinfo *ri, dr_buf *out, int fd);

/* Write out what out holds (when fd >= 0), all of it at the end, else once it passes 64 KiB. Returns -1 once a write failed. */
int dr_rep_flush(dr_rep *r, bool all);

/* Free the head and what the report keeps (not out); 0, or -1 with errno when a write failed. */
int dr_rep_close(dr_rep *r);

/* Items of the lists, each a new object the caller deletes: as in the JSON report. */
struct cJSON *dr_rep_step(const dr_rep *r, size_t step);
struct cJSON *dr_rep_task(const dr_rep *r, size_t task);
struct cJSON *dr_rep_approval(const dr_rep *r, size_t task); /* task's approval, with its step: only when requested */
struct cJSON *dr_rep_vm(const dr_rep *r, size_t vm);
struct cJSON *dr_rep_rpo_vm(const dr_rep *r, size_t k); /* r->o.vms[k] */
struct cJSON *dr_rep_cleanup(const dr_rep *r, size_t task); /* a drill's cleanup task (DR_AF_TEST_CLEANUP) */

/* The forms, one file each. */
void dr_report_json(dr_rep *r);
void dr_report_junit(dr_rep *r);
void dr_report_markdown(dr_rep *r);
void dr_report_html(dr_rep *r);

/* A member of o (NULL when o is NULL or has none); a string member (NULL unless a string). */
const struct cJSON *dr_rep_obj(const struct cJSON *o, const char *key);
const char *dr_rep_str(const struct cJSON *o, const char *key);
/* A number member as ms (-1 when null or absent); as an int (0 when absent). */
int64_t dr_rep_ms(const struct cJSON *o, const char *key);
int dr_rep_int(const struct cJSON *o, const char *key);
/* A boolean member: 1 true, 0 false, -1 null or absent. */
int dr_rep_bool(const struct cJSON *o, const char *key);

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

dr_rep_verdict *dr_rep_verdicts(const dr_rep *r, size_t *n);
void dr_rep_verdicts_dispose(dr_rep_verdict *v, size_t n);

/*
 * One line that says how the run went: "succeeded; RTO 19m41s (objective 30m: met); worst RPO ...", then
 * "; enforced (objectives.enforce: drill)" when the objectives held the run (": the run fails" when missed).
 */
void dr_rep_headline(const struct cJSON *doc, dr_buf *out);

#endif
