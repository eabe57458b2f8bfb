/*
 * test_runinfo.c - the run model (journal/runinfo.h) fed record by record,
 * as the journal or the event stream hands them over: task and step states
 * and their counts, attempts, a resume's second word about an attempt,
 * rollback, what counts as interrupted, approvals, the service's
 * recommended action, and RTO/RPO against objectives (the service's job
 * times, the newest recovery point of each VM).
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "fixture.h"
#include "journal/runinfo.h"
#include "views/summary.h"

/* Fold one record given as JSON text. */
static void ap(dr_runinfo *ri, const char *json)
{
	cJSON *r = cJSON_Parse(json);
	assert_non_null(r);
	dr_runinfo_apply(ri, r);
	cJSON_Delete(r);
}

static const dr_ri_task *task(const dr_runinfo *ri, const char *step, const char *target)
{
	for (size_t i = 0; i < ri->n_tasks; i++) {
		const dr_ri_step *s = dr_runinfo_task_step(ri, &ri->tasks[i]);
		if (!strcmp(s->id, step) && !s->undoes && ((!target && !ri->tasks[i].target) ||
							   (target && ri->tasks[i].target && !strcmp(ri->tasks[i].target, target))))
			return &ri->tasks[i];
	}
	fail_msg("no task %s[%s]", step, target ? target : "");
	return NULL;
}

static const dr_ri_step *step(const dr_runinfo *ri, const char *id)
{
	for (size_t i = 0; i < ri->n_steps; i++)
		if (!strcmp(ri->steps[i].id, id) && !ri->steps[i].undoes)
			return &ri->steps[i];
	fail_msg("no step %s", id);
	return NULL;
}

static void start_run(dr_runinfo *ri)
{
	dr_runinfo_init(ri);
	dr_runinfo_declare_step(ri, "failover", NULL, "dr.failover");
	dr_runinfo_declare_step(ri, "up", NULL, "dr.probe");
	dr_runinfo_declare_step(ri, "report", "finally", "log");
	ap(ri, "{\"event\":\"run.start\",\"ts\":\"2026-01-01T00:00:00.000Z\",\"t_ms\":0,\"run\":\"r1\",\"mode\":\"failover\"}");
}

/* States, counts and the in-flight count follow every record; steps declared but never started stay pending. */
static void test_states_and_counts(void **state)
{
	(void)state;
	dr_runinfo ri;
	start_run(&ri);
	assert_int_equal(ri.n_steps, 3);
	assert_int_equal(step(&ri, "up")->state, DR_RI_PENDING);
	ap(&ri, "{\"event\":\"step.start\",\"t_ms\":0,\"step\":\"failover\",\"tasks\":2}");
	ap(&ri, "{\"event\":\"task.start\",\"t_ms\":0,\"step\":\"failover\",\"target\":\"a\",\"attempt\":1}");
	ap(&ri, "{\"event\":\"task.start\",\"t_ms\":0,\"step\":\"failover\",\"target\":\"b\",\"attempt\":1}");
	assert_int_equal(ri.in_flight, 2);
	assert_int_equal(step(&ri, "failover")->count[DR_RI_RUNNING], 2);
	assert_true(task(&ri, "failover", "a")->mutating); /* from the step's action */
	ap(&ri, "{\"event\":\"task.end\",\"t_ms\":5000,\"step\":\"failover\",\"target\":\"a\",\"attempt\":1,"
		"\"status\":\"failed\",\"class\":\"transient\",\"message\":\"busy\",\"will_retry\":true}");
	ap(&ri, "{\"event\":\"task.retry\",\"t_ms\":5000,\"step\":\"failover\",\"target\":\"a\",\"attempt\":2,"
		"\"delay_ms\":10000,\"reason\":\"transient\"}");
	assert_int_equal(task(&ri, "failover", "a")->state, DR_RI_RETRYING);
	assert_int_equal(ri.in_flight, 1);
	ap(&ri, "{\"event\":\"task.start\",\"t_ms\":15000,\"step\":\"failover\",\"target\":\"a\",\"attempt\":2}");
	ap(&ri, "{\"event\":\"task.end\",\"t_ms\":20000,\"step\":\"failover\",\"target\":\"a\",\"attempt\":2,"
		"\"status\":\"succeeded\",\"outputs\":{\"job_id\":\"j-a\"}}");
	const dr_ri_task *a = task(&ri, "failover", "a");
	assert_int_equal(a->state, DR_RI_SUCCEEDED);
	assert_int_equal(a->n_attempts, 2);
	assert_string_equal(a->attempts[0].cls, "transient");
	assert_int_equal(a->attempts[0].retry_delay_ms, 10000);
	assert_int_equal(a->attempts[1].started_ms, 15000);
	assert_int_equal(a->started_ms, 0);
	assert_int_equal(a->ended_ms, 20000);
	assert_string_equal(a->job, "j-a");
	ap(&ri, "{\"event\":\"task.cancel\",\"t_ms\":21000,\"step\":\"up\",\"target\":\"b\",\"reason\":\"not started\"}");
	const dr_ri_step *f = step(&ri, "failover");
	assert_int_equal(f->count[DR_RI_SUCCEEDED], 1);
	assert_int_equal(f->count[DR_RI_RUNNING], 1);
	assert_int_equal(step(&ri, "up")->count[DR_RI_CANCELLED], 1);
	assert_int_equal(ri.n_vms, 2);
	assert_int_equal(ri.vms[1].n_tasks, 2); /* b: failover and up */
	assert_int_equal(ri.elapsed_ms, 21000);
	assert_string_equal(ri.status, "running");
	dr_runinfo_dispose(&ri);
}

/* A task failing before any attempt (attempt 0), a resume's probe and second end of the same attempt. */
static void test_attempt_zero_and_resume(void **state)
{
	(void)state;
	dr_runinfo ri;
	start_run(&ri);
	ap(&ri, "{\"event\":\"task.end\",\"t_ms\":10,\"step\":\"up\",\"target\":\"a\",\"attempt\":0,\"status\":\"failed\","
		"\"class\":\"permanent\",\"message\":\"with: bad\"}");
	const dr_ri_task *u = task(&ri, "up", "a");
	assert_int_equal(u->n_attempts, 1);
	assert_int_equal(u->attempts[0].n, 0);
	assert_int_equal(u->state, DR_RI_FAILED);
	assert_false(dr_runinfo_task_interrupted(u));

	ap(&ri, "{\"event\":\"task.start\",\"t_ms\":100,\"step\":\"failover\",\"target\":\"b\",\"attempt\":1,"
		"\"action\":\"dr.failover\",\"mutating\":true}");
	ap(&ri, "{\"event\":\"run.cancel\",\"t_ms\":200,\"reason\":\"cancelled (SIGINT)\"}");
	ap(&ri, "{\"event\":\"task.end\",\"t_ms\":300,\"step\":\"failover\",\"target\":\"b\",\"attempt\":1,\"status\":"
		"\"cancelled\",\"class\":\"cancelled\",\"message\":\"abandoned\"}");
	ap(&ri, "{\"event\":\"run.end\",\"t_ms\":300,\"status\":\"cancelled\",\"exit\":4,\"reason\":\"cancelled (SIGINT)\"}");
	assert_true(dr_runinfo_task_interrupted(task(&ri, "failover", "b")));
	assert_true(ri.cancelled);
	assert_string_equal(ri.status, "cancelled");
	ap(&ri, "{\"event\":\"run.resume\",\"t_ms\":300,\"downtime_ms\":60000}");
	assert_string_equal(ri.status, "running");
	assert_int_equal(ri.sessions, 2);
	ap(&ri, "{\"event\":\"task.probe\",\"t_ms\":300,\"step\":\"failover\",\"target\":\"b\",\"attempt\":1,\"probe\":\"done\"}");
	ap(&ri, "{\"event\":\"task.end\",\"t_ms\":300,\"step\":\"failover\",\"target\":\"b\",\"attempt\":1,\"status\":"
		"\"succeeded\",\"outputs\":{}}");
	const dr_ri_task *b = task(&ri, "failover", "b");
	assert_int_equal(b->n_attempts, 1); /* the same attempt, told again: not a new one */
	assert_int_equal(b->state, DR_RI_SUCCEEDED);
	assert_string_equal(b->attempts[0].probe, "done");
	assert_false(dr_runinfo_task_interrupted(b));
	assert_int_equal(step(&ri, "failover")->count[DR_RI_SUCCEEDED], 1);
	assert_int_equal(step(&ri, "failover")->count[DR_RI_CANCELLED], 0);
	assert_int_equal(ri.downtime_ms, 60000);
	dr_runinfo_dispose(&ri);
}

/* Interrupted: only a mutating action whose call may have gone out; never a probe, never a held call dropped. */
static void test_interrupted(void **state)
{
	(void)state;
	dr_runinfo ri;
	start_run(&ri);
	ap(&ri, "{\"event\":\"task.start\",\"t_ms\":0,\"step\":\"up\",\"target\":\"a\",\"attempt\":1}");
	ap(&ri, "{\"event\":\"task.start\",\"t_ms\":0,\"step\":\"failover\",\"target\":\"b\",\"attempt\":1}");
	ap(&ri, "{\"event\":\"task.start\",\"t_ms\":0,\"step\":\"failover\",\"target\":\"c\",\"attempt\":1}");
	assert_false(dr_runinfo_task_interrupted(task(&ri, "up", "a"))); /* a probe in flight */
	assert_true(dr_runinfo_task_interrupted(task(&ri, "failover", "b"))); /* a crash: its intent is durable */
	ap(&ri, "{\"event\":\"task.end\",\"t_ms\":0,\"step\":\"up\",\"target\":\"a\",\"attempt\":1,\"status\":\"cancelled\","
		"\"class\":\"cancelled\",\"message\":\"x\"}");
	ap(&ri, "{\"event\":\"task.end\",\"t_ms\":0,\"step\":\"failover\",\"target\":\"c\",\"attempt\":1,\"status\":"
		"\"cancelled\",\"class\":\"cancelled\",\"message\":\"not started: the run is stopping\",\"called\":false}");
	assert_false(dr_runinfo_task_interrupted(task(&ri, "up", "a")));
	assert_false(dr_runinfo_task_interrupted(task(&ri, "failover", "c")));
	assert_false(task(&ri, "failover", "c")->attempts[0].called);
	dr_runinfo_dispose(&ri);
}

/* An undo task undoes its main task; a unit's end that says so rolls the whole step back. */
static void test_rollback(void **state)
{
	(void)state;
	dr_runinfo ri;
	start_run(&ri);
	for (int i = 0; i < 2; i++) {
		char r[256];
		snprintf(r, sizeof r, "{\"event\":\"task.end\",\"t_ms\":1,\"step\":\"failover\",\"target\":\"v%d\","
				      "\"attempt\":1,\"status\":\"succeeded\",\"outputs\":{}}", i);
		ap(&ri, r);
	}
	ap(&ri, "{\"event\":\"rollback.start\",\"t_ms\":2,\"reason\":\"up failed\",\"tasks\":2}");
	ap(&ri, "{\"event\":\"task.end\",\"t_ms\":3,\"step\":\"undo-failover\",\"phase\":\"rollback\",\"undoes\":\"failover\","
		"\"action\":\"dr.cancel_failover\",\"target\":\"v0\",\"attempt\":1,\"status\":\"succeeded\",\"outputs\":{}}");
	assert_int_equal(task(&ri, "failover", "v0")->state, DR_RI_ROLLED_BACK);
	assert_int_equal(task(&ri, "failover", "v1")->state, DR_RI_SUCCEEDED);
	assert_true(step(&ri, "failover")->has_undo);
	ap(&ri, "{\"event\":\"step.end\",\"t_ms\":4,\"step\":\"undo-failover\",\"phase\":\"rollback\",\"undoes\":\"failover\","
		"\"action\":\"dr.cancel_failover\",\"status\":\"succeeded\",\"rolled_back\":true}");
	assert_int_equal(step(&ri, "failover")->state, DR_RI_ROLLED_BACK);
	assert_int_equal(step(&ri, "failover")->count[DR_RI_ROLLED_BACK], 2);
	ap(&ri, "{\"event\":\"rollback.end\",\"t_ms\":4,\"status\":\"incomplete\",\"reason\":\"undo of x failed\"}");
	assert_string_equal(ri.rollback.why, "up failed");
	assert_string_equal(ri.rollback.stopped, "undo of x failed");
	dr_runinfo_dispose(&ri);
}

/* Who approved, how and when; open approvals are counted. */
static void test_approvals(void **state)
{
	(void)state;
	dr_runinfo ri;
	start_run(&ri);
	ap(&ri, "{\"event\":\"approval.request\",\"t_ms\":5,\"step\":\"up\",\"message\":\"go?\"}");
	assert_int_equal(ri.open_approvals, 1);
	ap(&ri, "{\"event\":\"approval.granted\",\"t_ms\":9,\"step\":\"up\",\"by\":\"alice\",\"via\":\"drover approve\","
		"\"at\":\"2026-01-01T00:00:00.009Z\",\"waited_ms\":4}");
	const dr_ri_approval *p = &task(&ri, "up", NULL)->approval;
	assert_int_equal(ri.open_approvals, 0);
	assert_string_equal(p->decision, "granted");
	assert_string_equal(p->by, "alice");
	assert_string_equal(p->via, "drover approve");
	assert_int_equal(p->requested_ms, 5);
	assert_int_equal(p->answered_ms, 9);
	dr_runinfo_dispose(&ri);
}

/*
 * A job that waits for a person (task.person): the task waits for a person
 * since the record, with what the service asks, not "in flight"; a run
 * cancelled during the wait says so in its summary. An approval gate whose
 * request drover had no time to write waits for a person since its start.
 */
static void test_person_wait(void **state)
{
	(void)state;
	dr_runinfo ri;
	start_run(&ri);
	ap(&ri, "{\"event\":\"step.start\",\"t_ms\":0,\"step\":\"failover\",\"tasks\":1}");
	ap(&ri, "{\"event\":\"task.start\",\"t_ms\":0,\"step\":\"failover\",\"target\":\"vm-1\",\"attempt\":1,"
		"\"action\":\"dr.failover\",\"mutating\":true}");
	const char *asked = "x";
	assert_int_equal(dr_runinfo_person_wait(task(&ri, "failover", "vm-1"), &asked), -1);
	assert_null(asked);
	ap(&ri, "{\"event\":\"task.person\",\"t_ms\":30000,\"step\":\"failover\",\"target\":\"vm-1\",\"attempt\":1,"
		"\"waiting\":true,\"message\":\"job J is Suspended at task 'T': check the replica\"}");
	assert_int_equal(dr_runinfo_person_wait(task(&ri, "failover", "vm-1"), &asked), 30000);
	assert_string_equal(asked, "job J is Suspended at task 'T': check the replica");
	ap(&ri, "{\"event\":\"run.cancel\",\"t_ms\":60000,\"reason\":\"cancelled (SIGINT)\"}");
	ap(&ri, "{\"event\":\"task.person\",\"t_ms\":60000,\"step\":\"failover\",\"target\":\"vm-1\",\"attempt\":1,"
		"\"waiting\":false}");
	assert_int_equal(dr_runinfo_person_wait(task(&ri, "failover", "vm-1"), NULL), -1);
	ap(&ri, "{\"event\":\"task.end\",\"t_ms\":60000,\"step\":\"failover\",\"target\":\"vm-1\",\"attempt\":1,"
		"\"status\":\"cancelled\",\"class\":\"cancelled\",\"message\":\"stopped waiting\"}");
	ap(&ri, "{\"event\":\"step.end\",\"t_ms\":60000,\"step\":\"failover\",\"status\":\"cancelled\"}");
	ap(&ri, "{\"event\":\"run.end\",\"t_ms\":60000,\"status\":\"cancelled\",\"exit\":4}");
	const dr_ri_attempt *a = dr_runinfo_last_attempt(task(&ri, "failover", "vm-1"));
	assert_int_equal(a->person_since_ms, 30000);
	assert_int_equal(a->person_until_ms, 60000);
	dr_ri_cancel_point p;
	dr_runinfo_cancel_point(&ri, &p);
	assert_int_equal(p.n_waiting, 1);
	dr_ri_cancel_point_dispose(&p);
	char *text = NULL;
	size_t len = 0;
	FILE *mem = open_memstream(&text, &len);
	dr_summary_print(&ri, mem);
	fclose(mem);
	assert_non_null(strstr(text, "  - Cancelled at 1m during failover, while changing the service; failover[vm-1] was "
				     "waiting for a person (since 30s: job J is Suspended at task 'T': check the replica)."));
	free(text);
	dr_runinfo_dispose(&ri);
	dr_runinfo_init(&ri); /* a gate killed before its approval.request was written */
	dr_runinfo_declare_step(&ri, "go", NULL, "approve");
	ap(&ri, "{\"event\":\"task.start\",\"t_ms\":18,\"step\":\"go\",\"attempt\":1,\"action\":\"approve\"}");
	assert_int_equal(dr_runinfo_person_wait(task(&ri, "go", NULL), &asked), 18);
	assert_null(asked);
	dr_runinfo_dispose(&ri);
}

static void test_recommended_action(void **state)
{
	(void)state;
	dr_runinfo ri;
	start_run(&ri);
	ap(&ri, "{\"event\":\"task.end\",\"t_ms\":5,\"step\":\"failover\",\"target\":\"a\",\"attempt\":1,\"status\":\"failed\","
		"\"class\":\"permanent\",\"message\":\"E1: it broke. Possible causes: x. Recommended action: Retry it.\"}");
	assert_string_equal(task(&ri, "failover", "a")->attempts[0].recommended_action, "Retry it.");
	dr_runinfo_dispose(&ri);
}

#define FO_END(vm, t, start, end, rpo, point)                                                                         \
	"{\"event\":\"task.end\",\"t_ms\":" #t ",\"step\":\"failover\",\"target\":\"" vm "\",\"attempt\":1,\"status\":"   \
	"\"succeeded\",\"outputs\":{\"started_at\":\"" start "\",\"ended_at\":\"" end "\",\"rpo_ms\":" #rpo                \
	",\"recovery_point\":{\"name\":\"" point "\",\"time\":\"2025-12-31T23:59:00Z\",\"policy\":\"latest\"}}}"

/* RTO to the failover's end as the service's job says (no validation); RPO per VM; verdicts. */
static void test_objectives_failover_only(void **state)
{
	(void)state;
	dr_runinfo ri;
	dr_runinfo_init(&ri);
	dr_runinfo_declare_step(&ri, "failover", NULL, "dr.failover");
	ri.rto_objective_ms = 15 * 60000;
	ri.rpo_objective_ms = 60000;
	ap(&ri, "{\"event\":\"run.start\",\"ts\":\"2026-01-01T00:00:00.000Z\",\"t_ms\":0}");
	/* a resume learnt at 10m30s that the job had ended at 17m35s: the job's time counts */
	ap(&ri, FO_END("a", 630000, "2026-01-01T00:09:00Z", "2026-01-01T00:17:35.000Z", 59000, "p1"));
	ap(&ri, FO_END("b", 300000, "2026-01-01T00:01:00Z", "2026-01-01T00:05:00.000Z", 120000, "p2"));
	dr_ri_objectives o;
	dr_runinfo_objectives(&ri, &o);
	assert_true(o.applies);
	assert_true(o.recovers);
	assert_int_equal(o.rto_ms, 17 * 60000 + 35000);
	assert_string_equal(o.rto_measured_to, "failover");
	assert_string_equal(o.rto_task, "failover[a]");
	assert_int_equal(o.rto_met, 0);
	assert_int_equal(o.n_vms, 2);
	assert_string_equal(o.vms[0].vm, "a");
	assert_int_equal(o.vms[0].met, 1);
	assert_int_equal(o.vms[1].met, 0);
	assert_string_equal(o.vms[1].point, "p2");
	assert_int_equal(o.rpo_ms, 120000);
	assert_int_equal(o.rpo_met, 0);
	dr_ri_objectives_dispose(&o);
	dr_runinfo_dispose(&ri);
}

/* RTO to the last validation; a failed validation: not reached; a fallback's point is the VM's newest. */
static void test_objectives_validation(void **state)
{
	(void)state;
	dr_runinfo ri;
	start_run(&ri);
	ap(&ri, FO_END("a", 1000, "2026-01-01T00:00:00Z", "2026-01-01T00:00:01.000Z", 5000, "p1"));
	ap(&ri, "{\"event\":\"task.end\",\"t_ms\":7000,\"step\":\"up\",\"target\":\"a\",\"attempt\":1,\"status\":\"succeeded\"}");
	ap(&ri, "{\"event\":\"fallback.end\",\"t_ms\":8000,\"step\":\"up\",\"target\":\"a\",\"status\":\"applied\",\"outputs\":"
		"{\"rpo_ms\":9000,\"recovery_point\":{\"name\":\"p0\"}}}");
	dr_ri_objectives o;
	dr_runinfo_objectives(&ri, &o);
	assert_int_equal(o.rto_ms, 7000);
	assert_string_equal(o.rto_measured_to, "validation");
	assert_string_equal(o.rto_task, "up[a]");
	assert_int_equal(o.rto_met, -1); /* no objective */
	assert_int_equal(o.n_vms, 1);
	assert_string_equal(o.vms[0].point, "p0");
	assert_string_equal(o.vms[0].step, "up");
	assert_int_equal(o.rpo_ms, 9000);
	dr_ri_objectives_dispose(&o);
	ap(&ri, "{\"event\":\"task.end\",\"t_ms\":9000,\"step\":\"up\",\"target\":\"b\",\"attempt\":1,\"status\":\"failed\"}");
	dr_runinfo_objectives(&ri, &o);
	assert_int_equal(o.rto_ms, -1);
	dr_ri_objectives_dispose(&o);
	dr_runinfo_dispose(&ri);
}

/* Records about no step, unknown types and missing fields do not break the fold. */
static void test_defensive(void **state)
{
	(void)state;
	dr_runinfo ri;
	dr_runinfo_init(&ri);
	ap(&ri, "{\"event\":\"task.end\",\"t_ms\":1}");
	ap(&ri, "{\"event\":\"something.new\",\"t_ms\":2,\"step\":\"x\"}");
	ap(&ri, "{\"event\":\"step.end\",\"step\":\"x\"}");
	ap(&ri, "{\"event\":\"run.end\",\"status\":\"weird\"}");
	assert_int_equal(ri.n_tasks, 0);
	assert_int_equal(ri.n_steps, 1);
	assert_string_equal(ri.status, "failed");
	assert_int_equal(ri.elapsed_ms, 2);
	dr_runinfo_dispose(&ri);
}

/* --- drover runs: a run in brief ------------------------------------------------------ */

#define HEADER                                                                                                       \
	"{\"ts\":\"2026-01-01T00:00:00.000Z\",\"t_ms\":0,\"event\":\"journal.header\",\"format\":\"drover-journal\","  \
	"\"version\":1,\"run\":\"%s\",\"runbook\":{\"name\":\"shop\",\"path\":\"/nonexistent/r.yaml\"},"            \
	"\"params\":{},\"mode\":\"failover\",\"direction\":\"primary-to-recovery\",\"clock\":\"virtual\",\"seed\":\"1\","            \
	"\"backend\":{\"kind\":\"sim\",\"id\":\"sim:/nonexistent\"},\"started_ms\":1767225600000,"                       \
	"\"shape\":{\"steps\":{\"a\":{\"action\":\"log\"},\"b\":{\"action\":\"log\"}},\"sections\":{}}}\n"

static void write_run(const char *state, const char *id, const char *body)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/runs", state);
	assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
	snprintf(path, sizeof path, "%s/runs/%s", state, id);
	assert_int_equal(mkdir(path, 0700), 0);
	strcat(path, "/journal.jsonl");
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, HEADER, id);
	fputs(body, f);
	fclose(f);
}

/* A run that ended is read from its header and last line (a torn line after it passed over); one that has not, whole. */
static void test_brief(void **state)
{
	(void)state;
	const char *dir = fx_newdir();
	write_run(dir, "ended", "{\"t_ms\":5,\"event\":\"step.end\",\"step\":\"a\",\"status\":\"succeeded\",\"tasks\":1}\n"
				"{\"t_ms\":9,\"event\":\"run.end\",\"status\":\"failed\",\"exit\":1,"
				"\"steps\":{\"succeeded\":1,\"cancelled\":1},\"finally\":{}}\n{\"t_ms\":10,\"eve");
	write_run(dir, "cut", "{\"t_ms\":0,\"event\":\"task.start\",\"step\":\"a\",\"attempt\":1,\"action\":\"log\"}\n"
			      "{\"t_ms\":0,\"event\":\"task.start\",\"step\":\"b\",\"attempt\":1,\"action\":\"dr.failover\","
			      "\"mutating\":true}\n");
	dr_runinfo_brief b;
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_runinfo_brief_load(dir, "ended", &b, &err), 0);
	assert_false(b.whole);
	assert_string_equal(b.status, "failed");
	assert_string_equal(b.runbook, "shop");
	assert_int_equal(b.elapsed_ms, 9);
	assert_int_equal(b.steps_done, 1);
	assert_int_equal(b.steps_total, 2);
	dr_runinfo_brief_dispose(&b);
	if (dr_runinfo_brief_load(dir, "cut", &b, &err) < 0)
		fail_msg("%s", err.data);
	assert_true(b.whole);
	assert_string_equal(b.status, "interrupted");
	assert_int_equal(b.in_flight, 2);
	assert_int_equal(b.steps_total, 2);
	dr_runinfo_brief_dispose(&b);
	write_run(dir, "refused", "{\"t_ms\":0,\"event\":\"run.end\",\"status\":\"blocked\",\"exit\":1}\n");
	assert_int_equal(dr_runinfo_brief_load(dir, "refused", &b, &err), 0);
	assert_string_equal(b.status, "blocked");
	assert_int_equal(b.steps_done, 0);
	assert_int_equal(b.steps_total, 2); /* the runbook's, from the header */
	dr_runinfo_brief_dispose(&b);
	assert_int_equal(dr_runinfo_brief_load(dir, "nope", &b, &err), -1);
	dr_runinfo_brief_dispose(&b);
	size_t n;
	char **ids = dr_runinfo_list(dir, &n);
	assert_int_equal(n, 3);
	assert_string_equal(ids[0], "refused"); /* same start: the greater id first */
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	dr_buf_dispose(&err); /* the runs go with fx_dir() at exit */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_states_and_counts),
		cmocka_unit_test(test_attempt_zero_and_resume),
		cmocka_unit_test(test_interrupted),
		cmocka_unit_test(test_rollback),
		cmocka_unit_test(test_approvals),
		cmocka_unit_test(test_recommended_action),
		cmocka_unit_test(test_objectives_failover_only),
		cmocka_unit_test(test_objectives_validation),
		cmocka_unit_test(test_defensive),
		cmocka_unit_test(test_person_wait),
		cmocka_unit_test(test_brief),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
