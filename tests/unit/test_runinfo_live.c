/*
 * test_runinfo_live.c - a run reports the same whether read live or from
 * its journal. Each case runs a runbook through the executor with the
 * journal on and a caller's run model (dr_exec_opts.model, fed by the
 * events), then loads the journal into a second model (dr_runinfo_load)
 * and compares the two, field by field, as text: every step, every task,
 * every attempt, approvals, rollback, the drill's check, RTO and RPO.
 *
 * Cases: a failover with validations and an approval (succeeded); a
 * rollback; retries that end in a failure tolerated by on_failure:
 * continue; a cancellation mid-failover (cancelled), then its resume (the
 * resumed session's live model against the whole journal); a drill with an
 * objective missed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "front/runbook.h"
#include "journal/journal.h"
#include "journal/runinfo.h"
#include "run/exec.h"
#include "run/modes.h"
#include "fixture.h"

static int setup(void **state)
{
	(void)state;
	unsetenv("DROVER_SIM_STATE");
	unsetenv("DROVER_SIM_FAULTS");
	return 0;
}

/* --- a model as text ---------------------------------------------------------- */

static void s(dr_buf *b, const char *k, const char *v)
{
	dr_buf_printf(b, " %s=%s", k, v ? v : "-");
}

static void n(dr_buf *b, const char *k, long long v)
{
	dr_buf_printf(b, " %s=%lld", k, v);
}

static void json(dr_buf *b, const char *k, const cJSON *v)
{
	char *t = v ? cJSON_PrintUnformatted(v) : NULL;
	s(b, k, t);
	free(t);
}

static void dump_attempt(dr_buf *b, const dr_ri_attempt *a)
{
	dr_buf_puts(b, "\n    attempt");
	n(b, "n", a->n);
	s(b, "state", dr_ri_state_name(a->state));
	n(b, "started", a->started_ms);
	n(b, "ended", a->ended_ms);
	s(b, "class", a->cls);
	s(b, "message", a->message);
	s(b, "recommended", a->recommended_action);
	n(b, "will_retry", a->will_retry);
	n(b, "called", a->called);
	s(b, "probe", a->probe);
	n(b, "delay", a->retry_delay_ms);
	s(b, "retry_reason", a->retry_reason);
}

static void dump_task(dr_buf *b, const dr_runinfo *ri, const dr_ri_task *t)
{
	char label[512];
	dr_buf_printf(b, "\n  task %s", dr_runinfo_task_label(ri, t, label, sizeof label));
	s(b, "state", dr_ri_state_name(t->state));
	s(b, "action", t->action);
	n(b, "mutating", t->mutating);
	s(b, "reason", t->reason);
	s(b, "job", t->job);
	n(b, "started", t->started_ms);
	n(b, "ended", t->ended_ms);
	n(b, "job_started", t->job_started_ms);
	n(b, "job_ended", t->job_ended_ms);
	s(b, "point", t->point.name);
	s(b, "point_time", t->point.time);
	s(b, "policy", t->point.policy);
	n(b, "rpo", t->point.rpo_ms);
	s(b, "fallback", t->fallback.name);
	const dr_ri_approval *p = &t->approval;
	if (p->requested) {
		s(b, "approval", p->decision);
		s(b, "by", p->by);
		s(b, "via", p->via);
		n(b, "asked", p->requested_ms);
		n(b, "answered", p->answered_ms);
	}
	for (size_t i = 0; i < t->n_attempts; i++)
		dump_attempt(b, &t->attempts[i]);
}

static void dump_step(dr_buf *b, const dr_runinfo *ri, const dr_ri_step *st)
{
	dr_buf_printf(b, "\nstep %s", st->id);
	s(b, "phase", st->phase);
	s(b, "undoes", st->undoes);
	s(b, "action", st->action);
	s(b, "state", dr_ri_state_name(st->state));
	n(b, "tasks", st->n_tasks);
	for (int k = 0; k < DR_RI__STATES; k++)
		n(b, dr_ri_state_name((dr_ri_state)k), (long long)st->count[k]);
	s(b, "reason", st->reason);
	n(b, "tolerated", st->tolerated);
	n(b, "has_undo", st->has_undo);
	n(b, "started", st->started_ms);
	n(b, "ended", st->ended_ms);
	for (size_t k = 0; k < st->n_task_refs; k++)
		dump_task(b, ri, &ri->tasks[st->tasks[k]]);
}

static void dump_objectives(dr_buf *b, const dr_runinfo *ri)
{
	dr_ri_objectives o;
	dr_runinfo_objectives(ri, &o);
	dr_buf_puts(b, "\nobjectives");
	n(b, "applies", o.applies);
	n(b, "rto", o.rto_ms);
	s(b, "to", o.rto_measured_to);
	s(b, "task", o.rto_task);
	n(b, "rto_met", o.rto_met);
	n(b, "rpo", o.rpo_ms);
	n(b, "rpo_met", o.rpo_met);
	for (size_t i = 0; i < o.n_vms; i++) {
		s(b, "vm", o.vms[i].vm);
		n(b, "ms", o.vms[i].rpo_ms);
		s(b, "point", o.vms[i].point);
		s(b, "step", o.vms[i].step);
	}
	dr_ri_objectives_dispose(&o);
}

static char *dump(const dr_runinfo *ri)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_puts(&b, "run");
	s(&b, "id", ri->run);
	s(&b, "runbook", ri->runbook);
	s(&b, "mode", ri->mode);
	s(&b, "direction", ri->direction);
	n(&b, "started", ri->started_wall);
	s(&b, "status", ri->status);
	n(&b, "exit", ri->exit_code);
	s(&b, "reason", ri->reason);
	s(&b, "error", ri->error);
	n(&b, "cancelled", ri->cancelled);
	n(&b, "elapsed", ri->elapsed_ms);
	n(&b, "sessions", (long long)ri->sessions);
	n(&b, "journal", ri->journal);
	n(&b, "in_flight", (long long)ri->in_flight);
	n(&b, "rto_objective", ri->rto_objective_ms);
	n(&b, "rpo_objective", ri->rpo_objective_ms);
	n(&b, "rollback", ri->rollback.started);
	s(&b, "rollback_why", ri->rollback.why);
	s(&b, "rollback_status", ri->rollback.status);
	s(&b, "barrier", ri->rollback.barrier);
	for (size_t i = 0; i < ri->n_not_undone; i++)
		s(&b, "not_undone", ri->not_undone[i]);
	s(&b, "drill", ri->drill.status);
	json(&b, "leftovers", ri->drill.leftovers);
	for (size_t i = 0; i < ri->n_steps; i++)
		dump_step(&b, ri, &ri->steps[i]);
	for (size_t v = 0; v < ri->n_vms; v++)
		dr_buf_printf(&b, "\nvm %s: %zu tasks", ri->vms[v].name, ri->vms[v].n_tasks);
	dump_objectives(&b, ri);
	return dr_buf_detach(&b);
}

/* --- running a case -------------------------------------------------------------- */

static void opts(dr_exec_opts *o, const char *state, const char *id, dr_runinfo *live)
{
	dr_exec_opts_init(o);
	o->clock = DR_CLOCK_VIRTUAL;
	o->state_dir = state;
	o->journal = true;
	o->auto_approve = true;
	o->run_id = id;
	o->model = live;
}

/* The live model equals the journal's, as text. */
static void same_as_journal(dr_runinfo *live, const char *state, const char *id)
{
	dr_runinfo read;
	dr_buf err;
	dr_buf_init(&err);
	if (dr_runinfo_load(state, id, &read, &err) < 0)
		fail_msg("%s", err.data);
	char *a = dump(live), *b = dump(&read);
	if (strcmp(a, b)) {
		fprintf(stderr, "--- live\n%s\n--- journal\n%s\n", a, b);
		fail_msg("run %s: the live model differs from its journal's", id);
	}
	free(a);
	free(b);
	dr_runinfo_dispose(&read);
	dr_buf_dispose(&err);
}

/* Run rb as id; the live model against the journal's; returns the status. */
static dr_run_status run_case(dr_runbook *rb, const char *id, dr_exec_opts *o, dr_runinfo *live)
{
	dr_buf err;
	dr_buf_init(&err);
	dr_run_status st = dr_exec_run(rb, o, &err);
	if (err.len)
		fprintf(stderr, "run %s: %s", id, err.data);
	dr_buf_dispose(&err);
	same_as_journal(live, o->state_dir, id);
	return st;
}

#define INVENTORY                                                                                                    \
	"backend:\n  kind: sim\n  vms:\n"                                                                            \
	"    - { name: db-1, tags: { tier: db } }\n    - { name: web-1, tags: { tier: web } }\n"                      \
	"    - { name: web-2, tags: { tier: web } }\n    - { name: web-3, tags: { tier: web } }\n"                    \
	"vm_sets:\n  db: { match: { tags: { tier: db } } }\n  web: { match: { tags: { tier: web } } }\n"

static const char *const failover_yaml =
	"drover: 1\nname: live\n" INVENTORY
	"objectives: { rto: 1h, rpo: 5m }\n"
	"steps:\n"
	"  - { id: failover-db, action: dr.failover, targets: db }\n"
	"  - { id: db-up, action: dr.probe, foreach: db, needs: failover-db, retry: { attempts: 10, delay: 15s } }\n"
	"  - { id: failover-web, action: dr.failover, targets: web, needs: db-up, concurrency: 2 }\n"
	"  - { id: web-up, action: dr.probe, foreach: web, needs: failover-web, retry: { attempts: 10, delay: 15s } }\n"
	"  - { id: go, action: approve, needs: web-up, with: { message: commit? } }\n"
	"  - { id: commit, action: dr.commit, targets: [db, web], needs: go }\n"
	"finally:\n  - { id: report, action: log, with: { message: 'done ${run.status}' } }\n";

static void test_failover(void **state)
{
	(void)state;
	const char *st = fx_mkdir("failover");
	dr_runbook *rb = fx_compile("failover.yaml", failover_yaml);
	dr_runinfo live;
	dr_runinfo_init(&live);
	dr_exec_opts o;
	opts(&o, st, "live-1", &live);
	assert_int_equal(run_case(rb, "live-1", &o, &live), DR_RUN_SUCCEEDED);
	assert_string_equal(live.status, "succeeded");
	assert_string_equal(live.tasks[dr_runinfo_find_task(&live, dr_runinfo_find_step(&live, "go", NULL, NULL), NULL) -
				       live.tasks]
				    .approval.via,
			    "--yes");
	dr_runinfo_dispose(&live);
	dr_runbook_free(rb);
}

static const char *const rollback_yaml =
	"drover: 1\nname: back\non_failure: rollback\n"
	"steps:\n"
	"  - id: prepare\n    action: log\n    with: { message: prepare }\n"
	"    rollback: [ { id: unprepare, action: log, with: { message: undo } } ]\n"
	"  - id: switch\n    action: sleep\n    needs: prepare\n    with: { duration: 1m }\n"
	"    rollback: [ { id: back-1, action: log, with: { message: one } }, { id: back-2, action: log, with: { message: two } } ]\n"
	"  - { id: verify, action: fail, needs: switch, with: { message: broken } }\n";

static void test_rollback(void **state)
{
	(void)state;
	const char *st = fx_mkdir("rollback");
	dr_runbook *rb = fx_compile("rollback.yaml", rollback_yaml);
	dr_runinfo live;
	dr_runinfo_init(&live);
	dr_exec_opts o;
	opts(&o, st, "back-1", &live);
	assert_int_equal(run_case(rb, "back-1", &o, &live), DR_RUN_ROLLED_BACK);
	assert_int_equal(dr_runinfo_find_step(&live, "switch", NULL, NULL)->state, DR_RI_ROLLED_BACK);
	assert_int_equal(dr_runinfo_find_step(&live, "prepare", NULL, NULL)->state, DR_RI_ROLLED_BACK);
	assert_true(live.rollback.started);
	dr_runinfo_dispose(&live);
	dr_runbook_free(rb);
}

static const char *const retry_yaml =
	"drover: 1\nname: flaky\n" INVENTORY
	"steps:\n"
	"  - { id: check, action: fail, foreach: web, on_failure: continue, with: { message: 'nope. Recommended action: wait.' },"
	" retry: { attempts: 3, delay: 10s, on: [any] } }\n"
	"  - { id: after, action: log, needs: check, with: { message: went on } }\n";

static void test_retries(void **state)
{
	(void)state;
	const char *st = fx_mkdir("retry");
	dr_runbook *rb = fx_compile("retry.yaml", retry_yaml);
	dr_runinfo live;
	dr_runinfo_init(&live);
	dr_exec_opts o;
	opts(&o, st, "flaky-1", &live);
	assert_int_equal(run_case(rb, "flaky-1", &o, &live), DR_RUN_SUCCEEDED);
	const dr_ri_step *c = dr_runinfo_find_step(&live, "check", NULL, NULL);
	assert_true(c->tolerated);
	assert_int_equal(c->count[DR_RI_FAILED], 3);
	const dr_ri_task *t = dr_runinfo_find_task(&live, c, "web-2");
	assert_int_equal(t->n_attempts, 3);
	assert_string_equal(t->attempts[2].recommended_action, "wait.");
	assert_int_equal(t->attempts[1].started_ms, t->attempts[0].ended_ms + t->attempts[0].retry_delay_ms);
	dr_runinfo_dispose(&live);
	dr_runbook_free(rb);
}

/* Cancelled mid-failover (the signal hook), then resumed: each session's live model against the journal. */
static void test_cancel_and_resume(void **state)
{
	(void)state;
	const char *st = fx_mkdir("cancel");
	dr_runbook *rb = fx_compile("cancel.yaml", failover_yaml);
	dr_runinfo live;
	dr_runinfo_init(&live);
	dr_exec_opts o;
	opts(&o, st, "cut-1", &live);
	o.handle_signals = true;
	o.signal_at_ms = 12 * 60000; /* while the web tier fails over */
	assert_int_equal(run_case(rb, "cut-1", &o, &live), DR_RUN_CANCELLED);
	assert_true(live.cancelled);
	size_t interrupted = 0;
	for (size_t i = 0; i < live.n_tasks; i++)
		interrupted += dr_runinfo_task_interrupted(&live.tasks[i]);
	assert_true(interrupted > 0);
	dr_runinfo_dispose(&live);

	dr_journal_file f;
	dr_buf err;
	dr_buf_init(&err);
	char *path = dr_journal_path(st, "cut-1");
	assert_int_equal(dr_journal_read(path, &f, &err), 0);
	free(path);
	dr_runinfo_init(&live);
	opts(&o, st, "cut-1", &live);
	o.resume = &f;
	assert_int_equal(run_case(rb, "cut-1", &o, &live), DR_RUN_SUCCEEDED);
	assert_int_equal(live.sessions, 2);
	for (size_t i = 0; i < live.n_tasks; i++)
		assert_false(dr_runinfo_task_interrupted(&live.tasks[i]));
	dr_journal_file_dispose(&f);
	dr_buf_dispose(&err);
	dr_runinfo_dispose(&live);
	dr_runbook_free(rb);
}

static void test_drill(void **state)
{
	(void)state;
	const char *st = fx_mkdir("drill");
	dr_runbook *rb = fx_compile("drill.yaml", failover_yaml);
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_modes_make_drill(rb, DR_DRILL_DEFAULT_NETWORK, &err), 0);
	dr_runinfo live;
	dr_runinfo_init(&live);
	dr_exec_opts o;
	opts(&o, st, "drill-1", &live);
	o.mode = DR_MODE_DRILL;
	dr_run_status s_ = run_case(rb, "drill-1", &o, &live);
	assert_true(s_ == DR_RUN_SUCCEEDED || s_ == DR_RUN_FAILED);
	assert_true(live.drill.verified);
	assert_string_equal(live.drill.status, "clean");
	assert_string_equal(live.mode, "drill");
	dr_buf_dispose(&err);
	dr_runinfo_dispose(&live);
	dr_runbook_free(rb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_failover),	  cmocka_unit_test(test_rollback),
		cmocka_unit_test(test_retries),		  cmocka_unit_test(test_cancel_and_resume),
		cmocka_unit_test(test_drill),
	};
	return cmocka_run_group_tests(tests, setup, NULL);
}
