/*
 * test_exec.c - the executor end to end, in process: runbooks compiled from
 * text, run on the virtual clock (mostly), their event streams parsed and
 * checked for the invariants the scheduler promises:
 *
 *   - concurrency (global and per step) is never exceeded;
 *   - every task.start has exactly one task.end before the task starts again;
 *   - the same runbook and seed give the same stream, byte for byte;
 *   - blocking actions run on the worker pool (TSan checks the hand-off);
 *   - rollback stops at an irreversible step and uses an action's undo;
 *   - cancellation reaches running tasks, and abandons those that ignore it
 *     after the grace period;
 *   - a step timeout cancels a task running on a worker.
 *
 * Test actions (rows made here) replace a step's action after compiling, so
 * the runbook text stays valid for the checker. The runs are fixture.h's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <cmocka.h>

#include "actions/action.h"
#include "run/exec.h"
#include "front/plan.h"
#include "front/runbook.h"
#include "fixture.h"

/* --- reading the stream -------------------------------------------------- */

static const char *run_status(const fx_run *r)
{
	const cJSON *end = fx_first(r, "run.end", NULL, NULL);
	return end ? fx_str(end, "status") : "";
}

/* --- the invariants ------------------------------------------------------ */

#define MAX_STEPS 64

typedef struct gauge {
	char step[64];
	int now, max;
} gauge;

static gauge *gauge_of(gauge *g, size_t *n, const char *step)
{
	for (size_t i = 0; i < *n; i++)
		if (!strcmp(g[i].step, step))
			return &g[i];
	assert_true(*n < MAX_STEPS);
	snprintf(g[*n].step, sizeof g[*n].step, "%s", step);
	g[*n].now = g[*n].max = 0;
	return &g[(*n)++];
}

/* Walk the stream: running tasks per step and overall, from task.start/task.end. */
static void check_concurrency(const fx_run *r, int global_limit, const char *step, int step_limit, int *global_max)
{
	gauge g[MAX_STEPS];
	size_t ng = 0;
	int running = 0;
	*global_max = 0;
	for (size_t i = 0; i < r->n; i++) {
		const cJSON *ev = r->ev[i];
		int d = fx_is(ev, "task.start", NULL, NULL) ? 1 : fx_is(ev, "task.end", NULL, NULL) && fx_num(ev, "attempt") > 0 ? -1 : 0;
		if (!d)
			continue;
		gauge *s = gauge_of(g, &ng, fx_str(ev, "step"));
		s->now += d;
		running += d;
		assert_true(s->now >= 0 && running >= 0);
		if (s->now > s->max)
			s->max = s->now;
		if (running > *global_max)
			*global_max = running;
	}
	assert_int_equal(running, 0);
	if (global_limit > 0)
		assert_true(*global_max <= global_limit);
	for (size_t i = 0; step && i < ng; i++)
		if (!strcmp(g[i].step, step))
			assert_true(g[i].max <= step_limit);
}

/* Every task.start is closed by one task.end of the same task before it starts again. */
static void check_pairs(const fx_run *r)
{
	char open[4096][96];
	size_t n = 0;
	for (size_t i = 0; i < r->n; i++) {
		const cJSON *ev = r->ev[i];
		if (!fx_is(ev, "task.start", NULL, NULL) && !(fx_is(ev, "task.end", NULL, NULL) && fx_num(ev, "attempt") > 0))
			continue;
		char key[96];
		snprintf(key, sizeof key, "%s/%s/%s", fx_str(ev, "phase"), fx_str(ev, "step"), fx_str(ev, "target"));
		size_t k = 0;
		while (k < n && strcmp(open[k], key))
			k++;
		if (fx_is(ev, "task.start", NULL, NULL)) {
			assert_true(k == n); /* not already open */
			assert_true(n < 4096);
			snprintf(open[n++], sizeof open[0], "%s", key);
		} else {
			assert_true(k < n); /* was open */
			memcpy(open[k], open[--n], sizeof open[0]);
		}
	}
	assert_int_equal(n, 0);
}

/* --- test actions -------------------------------------------------------- */

static dr_outcome ok_empty(dr_call *call)
{
	(void)call;
	return dr_outcome_ok(NULL);
}

/* Blocking: sleeps 1-3 ms of real time on a worker, stopping early when asked. */
static dr_outcome blocking_run(dr_call *call)
{
	struct timespec ts = {0, 1000000L * (1 + (call->target ? (long)(strlen(call->target->name) % 3) : 0))};
	if (dr_exec_cancelled(call))
		return dr_outcome_fail(DR_ERRC_CANCELLED, "cancelled before start");
	nanosleep(&ts, NULL);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "attempt", call->attempt);
	return dr_outcome_ok(o);
}

/* Blocking: runs (on real time) until asked to stop. */
static dr_outcome blocking_until_cancelled(dr_call *call)
{
	struct timespec ts = {0, 1000000L};
	while (!dr_exec_cancelled(call))
		nanosleep(&ts, NULL);
	return dr_outcome_fail(DR_ERRC_CANCELLED, "stopped as asked");
}

/* Inline: waits forever and ignores cancellation (an action that cannot stop). */
static int stubborn_cancels;
static dr_outcome stubborn_run(dr_call *call)
{
	if (!call->state)
		call->state = malloc(1);
	return dr_outcome_wait(60000);
}
static void stubborn_cancel(dr_call *call)
{
	stubborn_cancels++;
	free(call->state);
	call->state = NULL;
}

static const dr_action act_blocking = {.name = "test.blocking", .flags = DR_AF_BLOCKING, .run = blocking_run};
static const dr_action act_until_cancelled = {
	.name = "test.until_cancelled", .flags = DR_AF_BLOCKING, .run = blocking_until_cancelled};
static const dr_action act_stubborn = {.name = "test.stubborn", .run = stubborn_run, .cancel = stubborn_cancel};
static const dr_action act_commit = {.name = "test.commit", .flags = DR_AF_IRREVERSIBLE | DR_AF_MUTATING, .run = ok_empty};
/* Undone by `log`: the undo gets the inputs `log` accepts (message) from the original with:. */
static const dr_action act_undoable = {.name = "test.undoable", .flags = DR_AF_MUTATING, .undo = "log", .run = ok_empty};
static const dr_action act_no_undo = {.name = "test.no_undo", .flags = DR_AF_MUTATING, .run = ok_empty};

static void set_action(dr_runbook *rb, const char *id, const dr_action *a)
{
	dr_step *st = dr_runbook_step(rb, id);
	assert_non_null(st);
	st->action = a;
}

/* --- tests --------------------------------------------------------------- */

static const char *wide_yaml =
	"drover: 1\nname: wide\nbackend:\n  kind: sim\n  vms:\n"
	"    [{name: a1}, {name: a2}, {name: a3}, {name: a4}, {name: a5}, {name: a6}, {name: a7}, {name: a8},\n"
	"     {name: b1}, {name: b2}, {name: b3}, {name: b4}, {name: b5}, {name: b6}, {name: b7}, {name: b8}]\n"
	"vm_sets:\n  all: { match: { name: '.' } }\n  a: { match: { name: '^a' } }\n"
	"steps:\n"
	"  - { id: s1, action: sleep, foreach: all, concurrency: 3, with: { duration: 1m } }\n"
	"  - { id: s2, action: sleep, foreach: a, with: { duration: 2m } }\n"
	"  - { id: s3, action: fail, foreach: all, needs: s2, max_failures: 100%, retry: { attempts: 3, delay: 30s },\n"
	"      with: { message: busy, class: transient, times: 1 } }\n"
	"  - { id: s4, action: sleep, needs: [s1, s3], foreach: a, pipeline: false, with: { duration: 10s } }\n";

static void concurrency_never_exceeded(void **state)
{
	(void)state;
	for (int limit = 1; limit <= 6; limit++) {
		fx_run r;
		fx_run_init(&r, wide_yaml);
		r.o.concurrency = limit;
		fx_run_exec(&r);
		assert_int_equal(r.status, DR_RUN_SUCCEEDED);
		int max;
		check_concurrency(&r, limit, "s1", 3, &max);
		assert_int_equal(max, limit); /* the limit is reached, not just respected */
		check_pairs(&r);
		fx_run_free(&r);
	}
}

static void unlimited_runs_everything_at_once(void **state)
{
	(void)state;
	fx_run r;
	fx_run_init(&r, wide_yaml);
	fx_run_exec(&r);
	int max;
	check_concurrency(&r, 0, "s1", 3, &max);
	assert_int_equal(max, 3 + 8); /* s1 at its step limit, s2 all at once */
	fx_run_free(&r);
}

static void same_seed_same_stream(void **state)
{
	(void)state;
	fx_run a, b;
	fx_run_init(&a, wide_yaml);
	fx_run_init(&b, wide_yaml);
	a.o.seed = b.o.seed = 7;
	a.o.seed_given = b.o.seed_given = true;
	fx_run_exec(&a);
	fx_run_exec(&b);
	/* The file name differs; everything else is the same. */
	assert_int_equal(a.n, b.n);
	for (size_t i = 1; i < a.n; i++) {
		char *x = cJSON_PrintUnformatted(a.ev[i]), *y = cJSON_PrintUnformatted(b.ev[i]);
		assert_string_equal(x, y);
		free(x);
		free(y);
	}
	fx_run_free(&a);
	fx_run_free(&b);
}

static const char *blocking_yaml =
	"drover: 1\nname: blocking\nbackend:\n  kind: sim\n  vms:\n"
	"    [{name: v01}, {name: v02}, {name: v03}, {name: v04}, {name: v05}, {name: v06}, {name: v07},\n"
	"     {name: v08}, {name: v09}, {name: v10}, {name: v11}, {name: v12}, {name: v13}, {name: v14}]\n"
	"vm_sets:\n  all: { match: { name: '^v' } }\n"
	"steps:\n"
	"  - { id: work, action: log, foreach: all, concurrency: 5, with: { message: x } }\n"
	"  - { id: more, action: log, foreach: all, needs: work, pipeline: true, with: { message: y } }\n"
	"  - { id: join, action: log, needs: more, with: { message: '${steps.more.outputs.v07.attempt}' } }\n";

static void blocking_actions_on_workers(void **state)
{
	(void)state;
	for (int clock = 0; clock < 2; clock++) {
		fx_run r;
		fx_run_init(&r, blocking_yaml);
		set_action(r.rb, "work", &act_blocking);
		set_action(r.rb, "more", &act_blocking);
		r.o.clock = clock ? DR_CLOCK_REAL : DR_CLOCK_VIRTUAL;
		r.o.concurrency = 8;
		r.o.workers = 4;
		fx_run_exec(&r);
		assert_int_equal(r.status, DR_RUN_SUCCEEDED);
		int max;
		check_concurrency(&r, 8, "work", 5, &max);
		check_pairs(&r);
		assert_int_equal(fx_count(&r, "task.end", "work", NULL), 14);
		assert_int_equal(fx_count(&r, "task.end", "more", NULL), 14);
		const cJSON *log = fx_first(&r, "log", "join", NULL);
		assert_non_null(log);
		assert_string_equal(fx_str(log, "message"), "1");
		fx_run_free(&r);
	}
}

static const char *rollback_yaml =
	"drover: 1\nname: rb\non_failure: rollback\n"
	"backend:\n  kind: sim\n  vms: [{name: v1}, {name: v2}]\n"
	"vm_sets:\n  all: { match: { name: '^v' } }\n"
	"steps:\n"
	"  - { id: before, action: log, with: { message: 'before the commit' } }\n"
	"  - { id: commit, action: log, needs: before, with: { message: commit } }\n"
	"  - { id: change, action: log, needs: commit, foreach: all, with: { message: 'undo ${target.name}' } }\n"
	"  - { id: keep, action: log, needs: change, with: { message: kept } }\n"
	"  - { id: boom, action: fail, needs: keep, with: { message: boom } }\n";

static void rollback_stops_at_irreversible_and_uses_undo(void **state)
{
	(void)state;
	fx_run r;
	fx_run_init(&r, rollback_yaml);
	set_action(r.rb, "before", &act_undoable);
	set_action(r.rb, "commit", &act_commit);
	set_action(r.rb, "change", &act_undoable);
	set_action(r.rb, "keep", &act_no_undo);
	fx_run_exec(&r);
	const cJSON *start = fx_first(&r, "rollback.start", NULL, NULL);
	assert_non_null(start);
	assert_string_equal(fx_str(start, "barrier"), "commit");
	/* keep has no undo: reported; change is undone per VM by `log` with its own message; before is not touched. */
	const cJSON *skip = fx_first(&r, "rollback.skip", "keep", NULL);
	assert_non_null(skip);
	assert_int_equal(fx_count(&r, "task.end", "change", NULL), 2 + 2);
	size_t undo_logs = 0;
	for (size_t i = 0; i < r.n; i++)
		if (fx_is(r.ev[i], "log", NULL, NULL) && !strcmp(fx_str(r.ev[i], "phase"), "rollback")) {
			undo_logs++;
			assert_string_equal(fx_str(r.ev[i], "undoes"), "change");
			assert_true(!strncmp(fx_str(r.ev[i], "message"), "undo v", 6));
		}
	assert_int_equal(undo_logs, 2);
	assert_null(fx_first(&r, "log", "before", NULL));
	/* Newest first: v2 completed after v1, so it is undone first. */
	for (size_t i = 0; i < r.n; i++)
		if (fx_is(r.ev[i], "task.start", NULL, NULL) && !strcmp(fx_str(r.ev[i], "phase"), "rollback")) {
			assert_string_equal(fx_str(r.ev[i], "target"), "v2");
			break;
		}
	/* Partial (barrier, and keep not undone): failed, not rolled back. */
	assert_string_equal(run_status(&r), "failed");
	fx_run_free(&r);
}

static const char *cancel_yaml = "drover: 1\nname: cancel\n"
				 "steps:\n"
				 "  - { id: stubborn, action: log, with: { message: x } }\n"
				 "  - { id: worker, action: log, with: { message: x } }\n"
				 "  - { id: after, action: log, needs: [stubborn, worker], with: { message: never } }\n"
				 "finally:\n"
				 "  - { id: tidy, action: log, with: { message: 'tidy after ${run.status}' } }\n";

/* Real clock: on the virtual one time stands still while a worker runs, and this worker runs until asked to stop. */
static void cancellation_grace_and_finally(void **state)
{
	(void)state;
	fx_run r;
	fx_run_init(&r, cancel_yaml);
	set_action(r.rb, "stubborn", &act_stubborn);
	set_action(r.rb, "worker", &act_until_cancelled);
	r.o.clock = DR_CLOCK_REAL;
	r.o.signal_at_ms = 100; /* no signal thread here: the hook cancels directly */
	r.o.grace_ms = 200;
	stubborn_cancels = 0;
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_CANCELLED);
	assert_int_equal(dr_exec_exit_code(r.status), 4);
	const cJSON *c = fx_first(&r, "run.cancel", NULL, NULL);
	assert_non_null(c);
	assert_true(fx_num(c, "t_ms") >= 100);
	/* The worker stopped when asked; the stubborn one was abandoned at the end of the grace period. */
	const cJSON *w = fx_first(&r, "task.end", "worker", NULL);
	assert_string_equal(fx_str(w, "status"), "cancelled");
	const cJSON *s = fx_first(&r, "task.end", "stubborn", NULL);
	assert_string_equal(fx_str(s, "status"), "cancelled");
	assert_true(fx_num(s, "t_ms") >= 300);
	assert_int_equal(stubborn_cancels, 1);
	assert_string_equal(fx_str(fx_first(&r, "task.cancel", "after", NULL), "step"), "after");
	const cJSON *tidy = fx_first(&r, "log", "tidy", NULL);
	assert_string_equal(fx_str(tidy, "message"), "tidy after cancelled");
	check_pairs(&r);
	fx_run_free(&r);
}

static const char *timeout_yaml = "drover: 1\nname: timeouts\n"
				  "steps:\n"
				  "  - { id: worker, action: log, timeout: 300ms, with: { message: x } }\n";

static void step_timeout_stops_a_worker(void **state)
{
	(void)state;
	fx_run r;
	fx_run_init(&r, timeout_yaml);
	set_action(r.rb, "worker", &act_until_cancelled);
	r.o.clock = DR_CLOCK_REAL;
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_FAILED);
	const cJSON *end = fx_first(&r, "task.end", "worker", NULL);
	assert_string_equal(fx_str(end, "status"), "failed");
	assert_string_equal(fx_str(end, "class"), "timeout");
	assert_true(fx_num(end, "t_ms") >= 300 && fx_num(end, "t_ms") < 2000);
	fx_run_free(&r);
}

static void unknown_inventory_expectation_runs_nothing(void **state)
{
	(void)state;
	fx_run r;
	fx_run_init(&r, "drover: 1\nname: x\nbackend: {kind: sim, vms: [{name: a}]}\n"
		     "vm_sets: { two: { match: { name: '.' }, expect: { count: 2 } } }\n"
		     "steps: [{ id: s, action: log, foreach: two, with: { message: x } }]\n");
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_BLOCKED); /* a preflight blocker, as drover plan shows it */
	assert_int_equal(dr_exec_exit_code(r.status), 1);
	assert_non_null(strstr(r.err, "vm_set 'two' matched 1 VM (a) but expects exactly 2"));
	assert_null(fx_first(&r, "task.start", NULL, NULL));
	assert_string_equal(run_status(&r), "blocked");
	fx_run_free(&r);
}

static void empty_vm_set_step_is_skipped(void **state)
{
	(void)state;
	fx_run r;
	fx_run_init(&r, "drover: 1\nname: x\nbackend: {kind: sim, vms: [{name: a}]}\n"
		     "vm_sets: { none: { match: { name: '^zzz' }, expect: { min: 0 } } }\n" /* allowed to be empty (else DR501) */
		     "steps:\n"
		     "  - { id: s, action: log, foreach: none, with: { message: x } }\n"
		     "  - { id: t, action: log, needs: s, with: { message: 'after ${steps.s.status}' } }\n");
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED);
	assert_string_equal(fx_str(fx_first(&r, "step.end", "s", NULL), "status"), "skipped");
	assert_string_equal(fx_str(fx_first(&r, "log", "t", NULL), "message"), "after skipped");
	fx_run_free(&r);
}

static const char *exec_yaml =
	"drover: 1\nname: procs\nbackend:\n  kind: sim\n  vms:\n"
	"    [{name: p1}, {name: p2}, {name: p3}, {name: p4}, {name: p5}, {name: p6}, {name: p7}, {name: p8}]\n"
	"vm_sets:\n  all: { match: { name: '^p' } }\n"
	"on_failure: continue\n"
	"steps:\n"
	"  - { id: true, action: exec, foreach: all, concurrency: 4, with: { argv: [/bin/sh, -c, 'echo ${target.name}'],\n"
	"      stdout_match: '^p[0-9]' } }\n"
	"  - { id: exit3, action: exec, retry: { attempts: 2, delay: 10ms, on: [transient] },\n"
	"      with: { argv: [/bin/sh, -c, 'exit 3'], retry_exit: [3] } }\n"
	"  - { id: slow, action: exec, attempt_timeout: 300ms, with: { argv: [/bin/sleep, '30'], kill_grace: 100ms } }\n"
	"  - { id: join, action: log, needs: true, with: { message: '${steps.true.outputs.p5.stdout}' } }\n";

/* The exec action (real processes) through the worker pool, on the real clock. */
static void real_processes_through_the_pool(void **state)
{
	(void)state;
	fx_run r;
	fx_run_init(&r, exec_yaml);
	r.o.clock = DR_CLOCK_REAL;
	r.o.concurrency = 6;
	fx_run_exec(&r);
	assert_int_equal(r.status, DR_RUN_SUCCEEDED); /* the failures are tolerated */
	int max;
	check_concurrency(&r, 6, "true", 4, &max);
	check_pairs(&r);
	assert_int_equal(fx_count(&r, "task.end", "true", NULL), 8);
	assert_string_equal(fx_str(fx_first(&r, "log", "join", NULL), "message"), "p5\n");
	assert_int_equal(fx_count(&r, "task.retry", "exit3", NULL), 1);
	const cJSON *slow = fx_first(&r, "task.end", "slow", NULL);
	assert_string_equal(fx_str(slow, "class"), "timeout");
	assert_true(fx_num(slow, "elapsed_ms") < 3000); /* killed, not waited for */
	fx_run_free(&r);
}

/* The key as it was written with snprintf: dr_exec_idempotency_key puts it together by hand, byte for byte the same. */
static void key_as_printf(const dr_call *c, char *out, size_t outsz)
{
	char label[256];
	if (c->target)
		snprintf(label, sizeof label, "%s[%s]", c->step->id.name, c->target->name);
	else
		snprintf(label, sizeof label, "%s", c->step->id.name);
	snprintf(out, outsz, "%s/%s/%s/%d", "test-run", label, c->action ? c->action->name : "?", c->attempt);
}

static void idempotency_key_as_printf(void **state)
{
	(void)state;
	char long_step[400], long_vm[300];
	memset(long_step, 's', sizeof long_step - 1);
	long_step[sizeof long_step - 1] = '\0';
	memset(long_vm, 'v', sizeof long_vm - 1);
	long_vm[sizeof long_vm - 1] = '\0';
	const char *steps[] = {"failover-db", long_step, "x"};
	const char *vms[] = {NULL, "db-1", long_vm};
	const size_t sizes[] = {512, 256, 40, 10, 1};
	static const dr_action act = {.name = "dr.failover"};
	for (size_t i = 0; i < 3; i++)
		for (size_t j = 0; j < 3; j++)
			for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
				dr_step st = {.id = {.name = steps[i]}};
				dr_vm vm = {.name = vms[j]};
				dr_call c = {.step = &st, .target = vms[j] ? &vm : NULL, .attempt = (int)(k * 7 + 1),
					     .action = j == 1 ? NULL : &act};
				char want[600], got[600];
				memset(got, '#', sizeof got);
				key_as_printf(&c, want, sizes[k]);
				dr_exec_idempotency_key(&c, got, sizes[k]);
				assert_string_equal(got, want);
			}
}

int main(void)
{
	setenv("DROVER_SIM_STATE", ":memory:", 1); /* each run starts from its own runbook's inventory */
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(idempotency_key_as_printf),
		cmocka_unit_test(concurrency_never_exceeded),
		cmocka_unit_test(unlimited_runs_everything_at_once),
		cmocka_unit_test(same_seed_same_stream),
		cmocka_unit_test(blocking_actions_on_workers),
		cmocka_unit_test(rollback_stops_at_irreversible_and_uses_undo),
		cmocka_unit_test(cancellation_grace_and_finally),
		cmocka_unit_test(step_timeout_stops_a_worker),
		cmocka_unit_test(unknown_inventory_expectation_runs_nothing),
		cmocka_unit_test(empty_vm_set_step_is_skipped),
		cmocka_unit_test(real_processes_through_the_pool),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
