/*
 * test_estimate.c - `plan --estimate` means what a virtual run of the same
 * plan does (views/estimate.h).
 *
 * Each case compiles a runbook on a fresh simulator, estimates it as
 * `drover plan --estimate` does (the backend opened read-only,
 * dr_estimate_add), runs it as `drover run --clock virtual --yes` does
 * (dr_exec_run on the virtual clock from the simulator's own time, journal
 * on, events as JSON lines), and reads the run's events with the
 * estimate's own reader (dr_estimate_from_events). The two must agree on
 * the status, the RTO, the makespan, the number of tasks and the critical
 * path, task by task. The estimate's RTO must also be the one the run
 * reports: the run model's, read from the run's journal (an RTO not
 * reached, and why, included).
 *
 * Shapes: waves with per-step concurrency limits; an approval gate; a
 * failover refused once and retried (a transient fault) with probes that
 * retry until their VM boots; fan-in (one step needing three); a run that
 * fails part-way (a failover that fails for good: the steps after it are
 * cancelled, as in bench's 10,000-VM runbook); reads of an item that fail
 * a number of times (read-fails with times:), retried or not.
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

#include "backends/backend.h"
#include "backends/sim.h"
#include "front/runbook.h"
#include "journal/journal.h"
#include "journal/runinfo.h"
#include "run/clock.h"
#include "run/events.h"
#include "run/exec.h"
#include "util/arena.h"
#include "util/buf.h"
#include "views/estimate.h"
#include "views/planview.h"
#include "fixture.h"

static int setup(void **state)
{
	(void)state;
	unsetenv("DROVER_SIM_STATE");
	unsetenv("DROVER_SIM_FAULTS");
	unsetenv("DROVER_STATE_DIR");
	return 0;
}

/* The backend of rb in state, opened read-only as plan opens it. */
static dr_backend *open_backend(dr_runbook *rb, const char *state, dr_arena *a)
{
	dr_backend_opts bo = {.state_dir = state, .read_only = true};
	return fx_backend(rb, &bo, a);
}

/* --recovery-point of the case (NULL: none), for the estimate and the run alike. */
static const dr_point_override *override;

/* `drover plan --estimate` (cli/plan.c): the plan view, then its "estimate" object (detached; the caller frees it). */
static cJSON *estimate(dr_runbook *rb, const char *state)
{
	dr_arena *a = dr_arena_new();
	dr_backend *be = open_backend(rb, state, a);
	char history[300];
	snprintf(history, sizeof history, "%s/history.json", state);
	int64_t now = dr_sim_state_time(be);
	dr_planview_opts o = {.mode = DR_MODE_FAILOVER, .direction = DR_BE_DIR_PRIMARY_TO_RECOVERY,
			      .now_ms = now >= 0 ? now : DR_CLOCK_VIRTUAL_EPOCH_MS, .history = history, .point = override};
	dr_buf err;
	dr_buf_init(&err);
	cJSON *view = dr_planview_build(rb, be, &o, &err); /* the plan reads the simulator first, at its time */
	assert_non_null(view);
	dr_buf_dispose(&err);
	dr_estimate_add(rb, be, &o, view);
	cJSON *est = cJSON_DetachItemFromObjectCaseSensitive(view, "estimate");
	cJSON_Delete(view);
	dr_backend_close(be);
	dr_arena_free(a);
	return est;
}

/* `drover run --clock virtual --yes`: its events, read by the estimate's reader. */
static cJSON *run_virtually(dr_runbook *rb, const char *state)
{
	dr_arena *a = dr_arena_new();
	dr_backend *be = open_backend(rb, state, a);
	int64_t start = dr_sim_state_time(be); /* dr_cli_virtual_start */
	dr_backend_close(be);
	dr_arena_free(a);
	fx_run r = {.rb = rb};
	dr_exec_opts_init(&r.o);
	r.o.clock = DR_CLOCK_VIRTUAL;
	r.o.start_ms = start;
	r.o.state_dir = state;
	r.o.journal = true;
	r.o.auto_approve = true;
	r.o.run_id = "virtual";
	r.o.point = override;
	fx_run_exec(&r);
	cJSON *est = dr_estimate_from_events(rb, r.events, r.len);
	fx_run_forget(&r); /* the runbook is the caller's */
	return est;
}

/* est and run agree on key; an optional key may be absent from both (no failure: no first_failure). */
static void same(const cJSON *est, const cJSON *run, const char *key, bool optional)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(est, key), *b = cJSON_GetObjectItemCaseSensitive(run, key);
	if (optional && !a && !b)
		return;
	if (!a || !b || !cJSON_Compare(a, b, true)) {
		char *x = a ? cJSON_Print(a) : NULL, *y = b ? cJSON_Print(b) : NULL;
		fail_msg("%s: the estimate says %s, the virtual run %s", key, x ? x : "nothing", y ? y : "nothing");
	}
}

/* The estimate's RTO is what the run reports: its run model's, from the journal of the run in state. */
static void reported_rto(const cJSON *est, const char *state)
{
	dr_runinfo ri;
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_runinfo_load(state, "virtual", &ri, &err), 0);
	dr_ri_objectives o;
	dr_runinfo_objectives(&ri, &o);
	const cJSON *rto = cJSON_GetObjectItemCaseSensitive(est, "rto_ms");
	const char *why = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(est, "rto_not_reached"));
	if (o.rto_ms >= 0 && (!cJSON_IsNumber(rto) || (int64_t)rto->valuedouble != o.rto_ms))
		fail_msg("rto_ms: the estimate says %s, the run reports %lld", why ? why : "a number", (long long)o.rto_ms);
	if (o.rto_ms < 0 && (!cJSON_IsNull(rto) || !why || strcmp(why, o.rto_unreached)))
		fail_msg("rto: the estimate says %.0f (%s), the run reports not reached: %s", cJSON_GetNumberValue(rto),
			 why ? why : "reached", o.rto_unreached);
	const cJSON *met = cJSON_GetObjectItemCaseSensitive(est, "rto_met");
	if (o.rto_objective_ms >= 0) /* the report's objectives.rto.met: false when not reached */
		assert_int_equal(cJSON_IsTrue(met), o.rto_met == 1);
	dr_ri_objectives_dispose(&o);
	dr_runinfo_dispose(&ri);
	dr_buf_dispose(&err);
}

/* The simulator of rb in state, its time moved on by ms from the virtual clock's epoch (drover sim advance), saved. */
static void advance(dr_runbook *rb, const char *state, int64_t ms)
{
	dr_arena *a = dr_arena_new();
	dr_backend_opts bo = {.state_dir = state};
	dr_backend *be = fx_backend(rb, &bo, a);
	dr_sim_advance(be, DR_CLOCK_VIRTUAL_EPOCH_MS, ms);
	dr_backend_close(be);
	dr_arena_free(a);
}

/* Estimate and run name's runbook on a simulator whose time is later_ms past the epoch; they agree; returns the estimate. */
static cJSON *agree_later(const char *name, const char *yaml, int64_t later_ms)
{
	dr_runbook *rb = fx_compile(NULL, yaml);
	const char *s1 = fx_mkdir("%s-plan", name), *s2 = fx_mkdir("%s-run", name); /* each case names its own */
	if (later_ms > 0) {
		advance(rb, s1, later_ms);
		advance(rb, s2, later_ms);
	}
	cJSON *est = estimate(rb, s1), *run = run_virtually(rb, s2);
	assert_null(cJSON_GetObjectItemCaseSensitive(est, "error"));
	const char *keys[] = {"status", "rto_ms", "makespan_ms", "tasks", "critical_path", "first_failure", "stopped",
			      "rto_not_reached"};
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		same(est, run, keys[i], i >= 5);
	reported_rto(est, s2);
	assert_true(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(est, "critical_path")) > 0);
	cJSON_Delete(run);
	dr_runbook_free(rb);
	return est;
}

/* Estimate and run name's runbook; they agree; returns the estimate (the caller frees it). */
static cJSON *agree(const char *name, const char *yaml)
{
	return agree_later(name, yaml, 0);
}

static double num(const cJSON *o, const char *key)
{
	return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static const char *str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* How many hops of the critical path came by via (a slot, a need). */
static int hops(const cJSON *est, const char *via)
{
	int n = 0;
	const cJSON *h;
	cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(est, "critical_path"))
	n += str(h, "via") && !strcmp(str(h, "via"), via);
	return n;
}

#define INVENTORY                                                                                                    \
	"backend:\n  kind: sim\n  vms:\n"                                                                            \
	"    - { name: db-1, tags: { tier: db } }\n    - { name: db-2, tags: { tier: db } }\n"                        \
	"    - { name: app-1, tags: { tier: app } }\n    - { name: app-2, tags: { tier: app } }\n"                    \
	"    - { name: web-1, tags: { tier: web } }\n    - { name: web-2, tags: { tier: web } }\n"                    \
	"    - { name: web-3, tags: { tier: web } }\n    - { name: web-4, tags: { tier: web } }\n"                    \
	"    - { name: web-5, tags: { tier: web } }\n"

#define SETS                                                                                                         \
	"vm_sets:\n  db: { match: { tags: { tier: db } } }\n  app: { match: { tags: { tier: app } } }\n"             \
	"  web: { match: { tags: { tier: web } } }\n"

#define PROBE(id, set, need)                                                                                         \
	"  - { id: " id ", action: dr.probe, foreach: " set ", needs: " need ", retry: { attempts: 20, delay: 15s } }\n"

/* What a typed listener (events.h) was told, one line per event: type step target phase t_ms status class will_retry. */
typedef struct told {
	dr_buf lines;
	size_t n;
} told;

static void tell_line(dr_buf *b, const char *type, const char *step, const char *target, const char *phase, double t_ms,
		      const char *status, const char *klass, bool will_retry)
{
	dr_buf_printf(b, "%s %s %s %s %.0f %s %s %d\n", type, step ? step : "-", target ? target : "-", phase ? phase : "-",
		      t_ms, status ? status : "-", klass ? klass : "-", will_retry);
}

static void on_told(void *ctx, const dr_event_fields *f)
{
	told *t = ctx;
	if (strncmp(f->type, "task.", 5) != 0)
		return;
	tell_line(&t->lines, f->type, f->step, f->target, f->phase, (double)f->t_ms, f->status, f->klass, f->will_retry);
	t->n++;
}

/* The same lines from the JSON events of a run. */
static void json_lines(const fx_run *r, dr_buf *b)
{
	for (size_t i = 0; i < r->n; i++) {
		const cJSON *ev = r->ev[i];
		const char *type = fx_str(ev, "event");
		if (strcmp(type, "task.start") && strcmp(type, "task.end") && strcmp(type, "task.cancel"))
			continue;
		const cJSON *ph = cJSON_GetObjectItemCaseSensitive(ev, "phase"), *tg = cJSON_GetObjectItemCaseSensitive(ev, "target");
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(ev, "status"), *cl = cJSON_GetObjectItemCaseSensitive(ev, "class");
		tell_line(b, type, fx_str(ev, "step"), cJSON_GetStringValue(tg), cJSON_GetStringValue(ph), fx_num(ev, "t_ms"),
			  cJSON_GetStringValue(st), cJSON_GetStringValue(cl),
			  cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "will_retry")));
	}
}

/* A journaled run, with or without a typed listener; its journal's bytes (the caller frees them). */
static char *journaled(const char *yaml, told *t, fx_run *r, size_t *len)
{
	memset(r, 0, sizeof *r);
	r->rb = fx_compile("typed.yaml", yaml); /* the journal names its runbook and its state folder: the same each time */
	dr_exec_opts_init(&r->o);
	r->o.clock = DR_CLOCK_VIRTUAL;
	fx_rmtree(fx_path("typed-state")); /* the journal names its state folder: one path for both runs */
	const char *state = r->o.state_dir = fx_mkdir("typed-state");
	r->o.journal = true;
	r->o.auto_approve = true;
	r->o.run_id = "typed";
	if (t) {
		r->o.on_fields = on_told;
		r->o.on_event_ctx = t;
	}
	fx_run_exec(r);
	char *path = dr_journal_path(state, "typed");
	char *bytes = fx_slurp(path, len);
	free(path);
	return bytes;
}

/*
 * The typed path changes nothing JSON readers see: a journaled run with a
 * typed listener writes the journal and events of one without, byte for
 * byte, and the listener is told every task.start and task.end the JSON
 * has, with the same fields, in the same order (retries and a failure
 * included).
 */
static void test_typed_path_leaves_json_alone(void **state)
{
	(void)state;
	const char *yaml = "drover: 1\nname: typed\n" INVENTORY
			   "  faults:\n    - { kind: fail, op: failover, vms: [app-2], times: 2, class: transient }\n" SETS
			   "steps:\n"
			   "  - id: fo-app\n    action: dr.failover\n    targets: app\n"
			   "    retry: { attempts: 4, delay: 1m }\n" PROBE("app-up", "app", "fo-app")
			   "  - { id: fo-db, action: dr.failover, targets: db, needs: app-up }\n";
	told t = {.n = 0};
	dr_buf_init(&t.lines);
	fx_run plain, typed;
	size_t n1, n2;
	char *j1 = journaled(yaml, NULL, &plain, &n1);
	char *j2 = journaled(yaml, &t, &typed, &n2);
	assert_non_null(j1);
	assert_non_null(j2);
	assert_true(n1 > 0);
	assert_int_equal(n1, n2);
	assert_memory_equal(j1, j2, n1);
	assert_int_equal(plain.len, typed.len);
	assert_memory_equal(plain.events, typed.events, plain.len);
	dr_buf want;
	dr_buf_init(&want);
	json_lines(&typed, &want);
	assert_true(t.n > 10);
	assert_string_equal(t.lines.data, want.data);
	assert_non_null(strstr(want.data, "task.end fo-app app-2 - ")); /* the refusals are there */
	free(j1);
	free(j2);
	dr_buf_dispose(&want);
	dr_buf_dispose(&t.lines);
	fx_run_free(&plain);
	fx_run_free(&typed);
}

/* The typed path redacts free text as the JSON does; JSON is wanted only when someone reads it. */
static void on_message(void *ctx, const dr_event_fields *f)
{
	dr_buf_printf(ctx, "%s|%s", f->message ? f->message : "-", f->reason ? f->reason : "-");
}

static void on_json(void *ctx, const cJSON *ev)
{
	(void)ctx, (void)ev;
}

static void test_typed_path_redacts(void **state)
{
	(void)state;
	dr_clock *c = dr_clock_new(DR_CLOCK_VIRTUAL);
	dr_events *e = dr_events_new(c, NULL, false);
	dr_buf got;
	dr_buf_init(&got);
	dr_events_add_secret(e, "pw", "hunter2-secret");
	dr_events_listen_typed(e, on_message, &got);
	assert_false(dr_events_json_wanted(e));
	dr_events_tell(e, &(dr_event_fields){.type = "task.end", .message = "login as hunter2-secret refused",
					     .reason = "hunter2-secret", .elapsed_ms = -1});
	char *m = dr_events_redact(e, "login as hunter2-secret refused"), *r = dr_events_redact(e, "hunter2-secret");
	dr_buf want;
	dr_buf_init(&want);
	dr_buf_printf(&want, "%s|%s", m, r); /* what the JSON event's message and reason would hold */
	assert_string_equal(got.data, want.data);
	assert_null(strstr(got.data, "hunter2"));
	free(m);
	free(r);
	dr_buf_dispose(&want);
	dr_events_listen(e, on_json, NULL);
	assert_true(dr_events_json_wanted(e));
	dr_buf_dispose(&got);
	dr_events_free(e);
	dr_clock_free(c);
}

static void test_waves_with_limits(void **state)
{
	(void)state;
	cJSON *est = agree("waves", "drover: 1\nname: waves\n" INVENTORY SETS "objectives: { rto: 2h }\nsteps:\n"
				    "  - { id: fo-db, action: dr.failover, targets: db, concurrency: 1 }\n" PROBE(
					    "db-up", "db", "fo-db") "  - { id: fo-web, action: dr.failover, targets: web, "
								    "needs: db-up, concurrency: 2 }\n" PROBE("web-up", "web",
													     "fo-web"));
	assert_string_equal(str(est, "status"), "succeeded");
	assert_true(num(est, "rto_ms") > 0);
	assert_true(hops(est, "slot") > 0); /* the limits show: a task waited for a slot on the way */
	cJSON_Delete(est);
}

static void test_gate(void **state)
{
	(void)state;
	cJSON *est = agree("gate", "drover: 1\nname: gate\n" INVENTORY SETS "steps:\n"
				   "  - { id: fo-db, action: dr.failover, targets: db }\n" PROBE("db-up", "db", "fo-db")
				   "  - { id: go, action: approve, needs: db-up, with: { message: 'fail the web over?' } }\n"
				   "  - { id: fo-web, action: dr.failover, targets: web, needs: go }\n" PROBE("web-up", "web",
													      "fo-web"));
	assert_string_equal(str(est, "status"), "succeeded");
	cJSON_Delete(est);
}

static void test_retried_failure(void **state)
{
	(void)state;
	cJSON *est = agree("retry", "drover: 1\nname: retry\n" INVENTORY
				    "  faults:\n    - { kind: fail, op: failover, vms: [app-2], times: 2, class: transient }\n" SETS
				    "steps:\n"
				    "  - id: fo-app\n    action: dr.failover\n    targets: app\n"
				    "    retry: { attempts: 4, delay: 1m }\n" PROBE("app-up", "app", "fo-app"));
	assert_string_equal(str(est, "status"), "succeeded");
	assert_true(num(est, "rto_ms") > 2 * 60000); /* two refusals, a minute each before the next attempt */
	cJSON_Delete(est);
}

/* A virtual run of yaml in state dir; JSON events read (outputs built), or the typed path only (outputs unread); the simulator's state file after it. */
static char *sim_after(const char *yaml, const char *dir, bool json)
{
	dr_runbook *rb = fx_compile("reads.yaml", yaml);
	dr_exec_opts o;
	dr_exec_opts_init(&o);
	o.clock = DR_CLOCK_VIRTUAL;
	o.auto_approve = true;
	o.run_id = "reads";
	o.state_dir = fx_mkdir("%s", dir);
	char *events = NULL;
	size_t len = 0;
	FILE *mem = json ? open_memstream(&events, &len) : NULL;
	told t = {.n = 0};
	dr_buf_init(&t.lines);
	o.events = mem;
	if (!json) { /* as plan --estimate runs: no JSON reader at all */
		o.on_fields = on_told;
		o.on_event_ctx = &t;
		o.model_unread = true;
	}
	dr_buf err;
	dr_buf_init(&err);
	dr_exec_run(rb, &o, &err);
	if (mem)
		fclose(mem);
	free(events);
	dr_buf_dispose(&err);
	dr_buf_dispose(&t.lines);
	dr_runbook_free(rb);
	char path[600];
	size_t n;
	snprintf(path, sizeof path, "%s/sim-state.json", o.state_dir);
	char *text = fx_slurp(path, &n);
	assert_non_null(text);
	cJSON *st = cJSON_Parse(text);
	assert_non_null(st);
	cJSON_DeleteItemFromObjectCaseSensitive(st, "epoch"); /* a new random name for each state file's change log */
	char *state = cJSON_PrintUnformatted(st);
	cJSON_Delete(st);
	free(text);
	return state;
}

/*
 * A run whose outputs no one reads (plan --estimate's: the typed path only)
 * builds none, but reads the service as building them does: with reads of
 * the items that fail at random (429; each read draws), the simulator ends in
 * the same state, fault hits included, as a run that builds them (skipping
 * those reads moves the draws: checked).
 */
static void test_outputs_reads_kept(void **state)
{
	(void)state;
	for (int seed = 1; seed <= 3; seed++) {
		char yaml[2048], a[32], b[32];
		snprintf(yaml, sizeof yaml,
			 "drover: 1\nname: reads\n" INVENTORY "  seed: %d\n"
			 "  faults:\n    - { kind: read-fails, class: throttled, probability: 0.3, retry_after: 5s }\n"
			 SETS "steps:\n"
			 "  - { id: fo, action: dr.failover, targets: app }\n"
			 "  - { id: fo-web, action: dr.failover, targets: web, needs: fo }\n"
			 "  - { id: fo-db, action: dr.failover, targets: db, needs: fo }\n"
			 "  - { id: co, action: dr.commit, targets: db, needs: fo-db }\n"
			 "  - { id: re, action: dr.reprotect, targets: db, needs: co }\n",
			 seed);
		snprintf(a, sizeof a, "reads-json-%d", seed);
		snprintf(b, sizeof b, "reads-type-%d", seed);
		char *built = sim_after(yaml, a, true), *unread = sim_after(yaml, b, false);
		assert_non_null(strstr(built, "\"fault_hits\":{\""));
		assert_string_equal(built, unread);
		free(built);
		free(unread);
	}
}

static void test_fan_in(void **state)
{
	(void)state;
	cJSON *est = agree("fanin", "drover: 1\nname: fanin\n" INVENTORY SETS "steps:\n"
				    "  - { id: fo-db, action: dr.failover, targets: db }\n"
				    "  - { id: fo-app, action: dr.failover, targets: app }\n"
				    "  - { id: fo-web, action: dr.failover, targets: web, concurrency: 3 }\n"
				    "  - { id: all-up, action: dr.probe, targets: [db, app, web], needs: [fo-db, fo-app, fo-web], "
				    "retry: { attempts: 20, delay: 15s } }\n");
	assert_string_equal(str(est, "status"), "succeeded");
	cJSON_Delete(est);
}

static void test_fails_part_way(void **state)
{
	(void)state;
	cJSON *est = agree("broken", "drover: 1\nname: broken\n" INVENTORY
				     "  faults:\n    - { kind: fail, op: failover, vms: [web-3], at: job }\n" SETS
				     "steps:\n"
				     "  - { id: fo-db, action: dr.failover, targets: db }\n" PROBE("db-up", "db", "fo-db")
				     "  - { id: fo-web, action: dr.failover, targets: web, needs: db-up, concurrency: 2 }\n"
					     PROBE("web-up", "web", "fo-web")
				     "  - { id: fo-app, action: dr.failover, targets: app, needs: web-up }\n");
	assert_string_equal(str(est, "status"), "failed");
	/* a predicted failure says which task fails first, when and why, and why the run stops */
	const cJSON *first = cJSON_GetObjectItemCaseSensitive(est, "first_failure");
	assert_non_null(first);
	assert_string_equal(str(first, "task"), "fo-web[web-3]");
	assert_string_equal(str(first, "step"), "fo-web");
	assert_true(num(first, "at_ms") > 0);
	assert_true(str(first, "class") && *str(first, "class"));
	assert_true(str(first, "message") && *str(first, "message"));
	assert_non_null(str(est, "stopped"));
	assert_non_null(strstr(str(est, "stopped"), "step 'fo-web' failed"));
	cJSON_Delete(est);
}

/*
 * Reads of app-2's item that fail `times` times (read-fails), with the
 * default retry (3 attempts): a shutdown, a failover and a probe each read
 * it. Few faults are retried away (the RTO later by the retries' delays);
 * more fail the shutdown, which stops the run before any app validation
 * starts (RTO not reached: "the run was cancelled before validation ...
 * started"), or, when the shutdown's failure is tolerated, the failover
 * ("failover fo-app[app-2] failed"). In every case the estimate says what
 * the run reports, a number or not reached and why (the old estimate gave
 * the last validation that passed, db-up's, as the RTO of a run that failed:
 * checked).
 */
static void test_read_faults_with_times(void **state)
{
	(void)state;
	int reached = 0, cancelled = 0, failovers = 0;
	for (int k = 0; k < 12; k++) {
		int times = 1 + k % 6;
		const char *tolerated = k < 6 ? "" : ", on_failure: continue";
		char yaml[2048], name[32];
		snprintf(yaml, sizeof yaml,
			 "drover: 1\nname: readfaults\n" INVENTORY
			 "  faults:\n    - { kind: read-fails, vms: [app-2], class: transient, times: %d }\n" SETS
			 "objectives: { rto: 1h }\n"
			 "defaults:\n  retry: { attempts: 3, delay: 10s, on: [transient] }\n"
			 "steps:\n"
			 "  - { id: fo-db, action: dr.failover, targets: db }\n" PROBE("db-up", "db", "fo-db")
			 "  - { id: stop-app, action: dr.shutdown, targets: app, needs: db-up%s }\n"
			 "  - { id: fo-app, action: dr.failover, targets: app, needs: stop-app, with: { shutdown_source: false } }\n"
			 PROBE("app-up", "app", "fo-app"),
			 times, tolerated);
		snprintf(name, sizeof name, "readfaults-%d", k);
		cJSON *est = agree(name, yaml);
		const char *why = str(est, "rto_not_reached");
		reached += !why;
		cancelled += why && !strcmp(why, "the run was cancelled before validation app-up[app-1] started");
		failovers += why && !strcmp(why, "failover fo-app[app-2] failed");
		if (why) /* a run that does not recover is not a met objective */
			assert_false(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(est, "rto_met")));
		cJSON_Delete(est);
	}
	assert_true(reached > 0 && cancelled > 0 && failovers > 0);
}

/* A validation that fails for good (its VM never becomes healthy) leaves the RTO unreached, as the run says. */
static void test_validation_fails(void **state)
{
	(void)state;
	cJSON *est = agree("valfails", "drover: 1\nname: valfails\n" INVENTORY
				       "  faults:\n    - { kind: unhealthy, vms: [db-2] }\n" SETS
				       "objectives: { rto: 1h }\nsteps:\n"
				       "  - { id: fo-db, action: dr.failover, targets: db }\n"
				       "  - { id: db-up, action: dr.probe, foreach: db, needs: fo-db, on_failure: continue,\n"
				       "      retry: { attempts: 2, delay: 15s } }\n"
				       "  - { id: fo-web, action: dr.failover, targets: web, needs: db-up }\n" PROBE("web-up", "web",
														"fo-web"));
	assert_null(str(est, "rto"));
	assert_string_equal(str(est, "rto_not_reached"), "validation db-up[db-2] failed");
	cJSON_Delete(est);
}

/*
 * A simulator whose state has a time (a run or `drover sim advance` left it
 * there; `drover sim reset` sets the wall clock): the estimate starts where
 * the simulator is, as the run does. The old estimate started its clock at
 * the virtual epoch, so the simulator's time stood still until the clock
 * caught up (it never goes back): jobs did not progress and failovers timed
 * out (checked: it failed where the run succeeds).
 */
static void test_simulator_with_a_time(void **state)
{
	(void)state;
	cJSON *est = agree_later("later", "drover: 1\nname: later\n" INVENTORY SETS "objectives: { rto: 1h }\nsteps:\n"
					  "  - { id: fo-db, action: dr.failover, targets: db, timeout: 30m }\n"
					  PROBE("db-up", "db", "fo-db"),
				 40 * 60000); /* longer than the failover's timeout */
	assert_string_equal(str(est, "status"), "succeeded");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(est, "rto_met")));
	cJSON_Delete(est);
}

/* The estimate does not feed the run model (no view of it reads it), except where the status depends on it. */
static void test_enforced_objective_fails_as_the_run_does(void **state)
{
	(void)state;
	cJSON *est = agree("enforced", "drover: 1\nname: enforced\n" INVENTORY SETS
				       "objectives: { rto: 1m, enforce: always }\nsteps:\n"
				       "  - { id: fo-db, action: dr.failover, targets: db }\n" PROBE("db-up", "db", "fo-db"));
	assert_string_equal(str(est, "status"), "failed"); /* every step succeeded; the RTO (minutes) missed 1m */
	assert_null(cJSON_GetObjectItemCaseSensitive(est, "first_failure"));
	cJSON_Delete(est);
}

static void test_no_failure_no_first_failure(void **state)
{
	(void)state;
	cJSON *est = agree("clean", "drover: 1\nname: clean\n" INVENTORY SETS "steps:\n"
				    "  - { id: fo-db, action: dr.failover, targets: db }\n" PROBE("db-up", "db", "fo-db"));
	assert_string_equal(str(est, "status"), "succeeded");
	assert_null(cJSON_GetObjectItemCaseSensitive(est, "first_failure"));
	assert_null(cJSON_GetObjectItemCaseSensitive(est, "stopped"));
	cJSON_Delete(est);
}

/*
 * --recovery-point: the estimate runs with the points the run would take.
 * It used to leave the override out: a time before every point blocks the
 * plan and refuses the run, yet the estimate said "succeeded".
 */
static void test_recovery_point_override(void **state)
{
	(void)state;
	const char *yaml = "drover: 1\nname: rp\n" INVENTORY SETS "steps:\n"
			   "  - { id: fo-db, action: dr.failover, targets: db }\n" PROBE("db-up", "db", "fo-db");
	dr_point_override before_all, crash;
	assert_true(dr_preflight_parse_override("2000-01-01T00:00:00Z", &before_all));
	assert_true(dr_preflight_parse_override("latest-crash-consistent", &crash));
	override = &before_all;
	dr_runbook *rb = fx_compile(NULL, yaml);
	cJSON *est = estimate(rb, fx_mkdir("rp-plan")), *run = run_virtually(rb, fx_mkdir("rp-run"));
	assert_string_equal(str(run, "status"), "blocked"); /* the run refuses: no point at or before 2000 */
	same(est, run, "status", false);
	same(est, run, "tasks", false);
	cJSON_Delete(est);
	cJSON_Delete(run);
	dr_runbook_free(rb);
	override = &crash; /* a policy the plan allows: the two agree task by task */
	est = agree("rp-crash", yaml);
	assert_string_equal(str(est, "status"), "succeeded");
	cJSON_Delete(est);
	override = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_typed_path_leaves_json_alone, setup),
		cmocka_unit_test_setup(test_typed_path_redacts, setup),
		cmocka_unit_test_setup(test_waves_with_limits, setup),
		cmocka_unit_test_setup(test_gate, setup),
		cmocka_unit_test_setup(test_retried_failure, setup),
		cmocka_unit_test_setup(test_outputs_reads_kept, setup),
		cmocka_unit_test_setup(test_fan_in, setup),
		cmocka_unit_test_setup(test_fails_part_way, setup),
		cmocka_unit_test_setup(test_read_faults_with_times, setup),
		cmocka_unit_test_setup(test_validation_fails, setup),
		cmocka_unit_test_setup(test_simulator_with_a_time, setup),
		cmocka_unit_test_setup(test_no_failure_no_first_failure, setup),
		cmocka_unit_test_setup(test_enforced_objective_fails_as_the_run_does, setup),
		cmocka_unit_test_setup(test_recovery_point_override, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
