/*
 * test_preflight.c - the plan as the gate of every run (run/preflight.h):
 * the walk through the protection state machine, the state and direction
 * refusals, tolerated and conditional steps, when: evaluated on the
 * predicted state, the recovery point with fallbacks and an override, the
 * test network, vm_set expect:, a resumed run's task states, the
 * exclusion of blocked VMs, and a refresh of the items.
 *
 * Each case compiles a runbook, opens its simulator in memory and, where a
 * VM must be in another state first, starts that operation on the
 * simulator and looks an hour later.
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
#include "front/params.h"
#include "front/runbook.h"
#include "run/planfile.h"
#include "run/preflight.h"
#include "fixture.h"

#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00Z */
#define HOUR INT64_C(3600000)

typedef struct pf {
	dr_runbook *rb;
	dr_arena *a;
	dr_backend *be;
	cJSON *params;
	dr_preflight pf;
	dr_preflight_opts o;
} pf;

/* yaml compiled with its parameters' defaults, its simulator in memory, the options of a failover at T0. */
static void pf_init(pf *f, const char *yaml)
{
	memset(f, 0, sizeof *f);
	f->rb = fx_compile(NULL, yaml);
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_params_bind(f->rb, NULL, 0, &f->params, &err), 0);
	dr_buf_dispose(&err);
	f->a = dr_arena_new();
	f->be = fx_backend(f->rb, NULL, f->a);
	f->o = (dr_preflight_opts){.mode = DR_MODE_FAILOVER, .direction = DR_BE_DIR_PRIMARY_TO_RECOVERY,
				   .params = f->params, .now_ms = T0};
}

static void pf_free(pf *f)
{
	cJSON_Delete(f->params);
	dr_backend_close(f->be);
	dr_arena_free(f->a);
	dr_runbook_free(f->rb);
}

/* Start op on vm at t (as an operator would by hand). */
static void by_hand(pf *f, const char *vm, dr_be_op op, int64_t t)
{
	char key[64];
	snprintf(key, sizeof key, "by-hand/%s/%d", vm, (int)op);
	dr_be_request rq = {.op = op, .item_id = vm, .idempotency_key = key,
			    .direction = DR_BE_DIR_PRIMARY_TO_RECOVERY};
	dr_be_started st;
	dr_be_error e;
	assert_int_equal(dr_backend_start(f->be, f->a, t, &rq, &st, &e), 0);
}

static void check_at(pf *f, int64_t now)
{
	dr_buf err;
	dr_buf_init(&err);
	f->o.now_ms = now;
	assert_int_equal(dr_preflight_bind(&f->pf, f->a, f->rb, f->be, now, &err), 0);
	dr_buf_dispose(&err);
	dr_preflight_check(&f->pf, &f->o);
}

static size_t vm_index(const pf *f, const char *name)
{
	for (size_t i = 0; i < f->pf.n; i++)
		if (!strcmp(f->pf.items[i].name, name))
			return i;
	fail_msg("no VM %s", name);
	return 0;
}

static const dr_blocker *blocker_of(const pf *f, const char *vm)
{
	size_t i = vm_index(f, vm);
	for (size_t k = 0; k < f->pf.n_blockers; k++)
		if (f->pf.blockers[k].vm == i)
			return &f->pf.blockers[k];
	return NULL;
}

static size_t n_ops(const pf *f, const char *vm)
{
	size_t n = 0;
	for (size_t k = f->pf.vm[vm_index(f, vm)].first_op; k != DR_PF_NO_VM; k = f->pf.ops[k].next)
		n++;
	return n;
}

#define SHOP                                                                                                       \
	"backend:\n  kind: sim\n  vms: [{name: db-1, tags: {tier: db}}, {name: web-1, tags: {tier: web}},\n"        \
	"        {name: web-2, tags: {tier: web}}]\n"                                                               \
	"vm_sets:\n  db: { match: { tags: { tier: db } } }\n  web: { match: { tags: { tier: web } } }\n"

#define LIFECYCLE                                                                                                  \
	"steps:\n"                                                                                                   \
	"  - { id: off, action: dr.shutdown, targets: [db, web] }\n"                                                \
	"  - { id: fo-db, action: dr.failover, targets: db, needs: off }\n"                                          \
	"  - { id: fo-web, action: dr.failover, targets: web, needs: fo-db }\n"                                      \
	"  - { id: commit, action: dr.commit, targets: [db, web], needs: fo-web }\n"                                 \
	"  - { id: reprotect, action: dr.reprotect, targets: [db, web], needs: commit }\n"

/* --- the walk ------------------------------------------------------------------------- */

static void protected_estate_walks_the_whole_lifecycle(void **state)
{
	(void)state;
	pf f;
	pf_init(&f, "drover: 1\nname: p\n" SHOP "recovery: { point: latest-processed, max_age: 1h }\n" LIFECYCLE);
	check_at(&f, T0);
	assert_true(dr_preflight_runnable(&f.pf));
	size_t db = vm_index(&f, "db-1");
	assert_true(f.pf.vm[db].walked);
	assert_int_equal(f.pf.vm[db].ends_in, DR_BE_ST_PROTECTED);
	assert_int_equal(n_ops(&f, "db-1"), 4); /* shutdown, failover, commit, reprotect */
	const dr_pf_op *op = &f.pf.ops[f.pf.vm[db].first_op];
	op = &f.pf.ops[op->next]; /* the failover */
	assert_int_equal(op->op, DR_BE_OP_FAILOVER);
	assert_int_equal(op->from, DR_BE_ST_PROTECTED);
	assert_int_equal(op->to, DR_BE_ST_FAILED_OVER);
	assert_int_equal(f.pf.vm[db].point.verdict, DR_PF_POINT_OK);
	assert_string_equal(dr_point_policy_name(f.pf.vm[db].point.policy), "latest-processed");
	assert_true(f.pf.vm[db].point.age_ms <= HOUR);
	pf_free(&f);
}

static void a_vm_failed_over_by_hand_blocks_before_anything(void **state)
{
	(void)state;
	pf f;
	pf_init(&f, "drover: 1\nname: h\n" SHOP LIFECYCLE);
	by_hand(&f, "web-1", DR_BE_OP_FAILOVER, T0);
	check_at(&f, T0 + HOUR);
	assert_false(dr_preflight_runnable(&f.pf));
	assert_int_equal(f.pf.n_blockers, 1);
	const dr_blocker *b = blocker_of(&f, "web-1");
	assert_non_null(b);
	assert_int_equal(b->kind, DR_BLOCK_STATE);
	assert_string_equal(b->message, "web-1: step 'fo-web' would be refused: the service refuses failover in state "
					"failed_over (allowed: ChangePit, Commit, CancelFailover): it already failed over, "
					"and that failover is not committed yet: nothing is left to fail over; commit it "
					"(dr.commit), or undo it (dr.cancel_failover)");
	assert_true(dr_preflight_excusable(&f.pf)); /* one VM's: --exclude-blocked may leave it out */
	assert_null(blocker_of(&f, "db-1"));
	pf_free(&f);
}

/* A rerun of a failover that succeeded and was committed: the blocker says nothing is left, and the way back. */
static void a_committed_failover_says_what_is_left(void **state)
{
	(void)state;
	pf f;
	pf_init(&f, "drover: 1\nname: c\n" SHOP LIFECYCLE);
	by_hand(&f, "web-1", DR_BE_OP_FAILOVER, T0);
	by_hand(&f, "web-1", DR_BE_OP_COMMIT, T0 + HOUR);
	check_at(&f, T0 + 2 * HOUR);
	const dr_blocker *b = blocker_of(&f, "web-1");
	assert_non_null(b);
	assert_string_equal(b->message, "web-1: step 'fo-web' would be refused: the service refuses failover in state "
					"committed (allowed: ReverseReplicate): it already failed over, and that failover "
					"is committed: nothing is left to fail over; to go back, reprotect it "
					"(dr.reprotect), then fail it back with drover failback");
	pf_free(&f);
}

/* An item the backend cannot operate (another provider, an unreadable answer) blocks its first operation, naming why. */
static void an_unusable_item_blocks_its_first_operation(void **state)
{
	(void)state;
	pf f;
	pf_init(&f, "drover: 1\nname: u\n" SHOP LIFECYCLE);
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_preflight_bind(&f.pf, f.a, f.rb, f.be, T0, &err), 0);
	dr_buf_dispose(&err);
	f.pf.items[vm_index(&f, "web-1")].unusable = "it is protected by InMageRcm, not Azure-to-Azure (A2A)";
	dr_preflight_check(&f.pf, &f.o);
	assert_false(dr_preflight_runnable(&f.pf));
	assert_int_equal(f.pf.n_blockers, 1);
	const dr_blocker *b = blocker_of(&f, "web-1");
	assert_non_null(b);
	assert_int_equal(b->kind, DR_BLOCK_STATE);
	assert_string_equal(b->message, "web-1: step 'off' would be refused: it is protected by InMageRcm, not "
					"Azure-to-Azure (A2A)"); /* even the power off: its first operation */
	assert_true(dr_preflight_excusable(&f.pf)); /* --exclude-blocked may leave it out */
	pf_free(&f);
}

/* The preflight of a db set and an item "1f0c-guid" in no set, which the backend cannot read; nameless as given. */
static void check_unread(pf *f, bool nameless)
{
	pf_init(f, "drover: 1\nname: u\n"
		   "backend:\n  kind: sim\n  vms: [{name: db-1, tags: {tier: db}}, {name: 1f0c-guid}]\n"
		   "vm_sets:\n  db: { match: { tags: { tier: db } } }\n"
		   "steps:\n  - { id: fo, action: dr.failover, targets: db }\n");
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_preflight_bind(&f->pf, f->a, f->rb, f->be, T0, &err), 0);
	dr_buf_dispose(&err);
	dr_be_item *it = &f->pf.items[vm_index(f, "1f0c-guid")];
	it->unusable = "the service's answer for this item lacks properties";
	it->nameless = nameless;
	dr_preflight_check(&f->pf, &f->o);
}

/*
 * An item the vault lists without its VM's name (no properties): no VM set can tell whether it is one of
 * theirs, so it blocks the plan though no set took it, rather than the VM silently leaving its set.
 */
static void a_nameless_item_blocks_though_no_set_takes_it(void **state)
{
	(void)state;
	pf f;
	check_unread(&f, false);
	assert_true(dr_preflight_runnable(&f.pf)); /* named, and in no set: not the runbook's */
	pf_free(&f);
	check_unread(&f, true);
	assert_int_equal(f.pf.n_blockers, 1);
	const dr_blocker *b = blocker_of(&f, "1f0c-guid");
	assert_non_null(b);
	assert_int_equal(b->kind, DR_BLOCK_VM_SET);
	assert_string_equal(b->message, "1f0c-guid: no VM set can tell whether this item is one of its VMs, as the vault "
					"does not say its VM's name: the service's answer for this item lacks properties");
	assert_true(dr_preflight_excusable(&f.pf)); /* --exclude-blocked may go on without it */
	pf_free(&f);
}

static void a_running_job_allows_nothing(void **state)
{
	(void)state;
	pf f;
	pf_init(&f, "drover: 1\nname: j\n" SHOP LIFECYCLE);
	by_hand(&f, "db-1", DR_BE_OP_FAILOVER, T0);
	check_at(&f, T0 + 1000); /* the failover job still runs */
	const dr_blocker *b = blocker_of(&f, "db-1");
	assert_non_null(b);
	assert_non_null(strstr(b->message, "step 'fo-db' would be refused: the service refuses failover in state "
					   "failing_over (allowed: none): a job on it is still running: wait until it ends, then "
					   "plan again"));
	pf_free(&f);
}

static void failback_needs_the_recovery_side(void **state)
{
	(void)state;
	pf f;
	pf_init(&f, "drover: 1\nname: fb\n" SHOP "steps:\n  - { id: fo, action: dr.failover, targets: db }\n");
	f.o.direction = DR_BE_DIR_RECOVERY_TO_PRIMARY;
	f.o.mode = DR_MODE_FAILBACK;
	check_at(&f, T0);
	const dr_blocker *b = blocker_of(&f, "db-1");
	assert_non_null(b);
	assert_non_null(strstr(b->message, "it is active in Primary, so a recovery-to-primary failover is not possible "
					   "(it has not failed over: use drover run)"));
	pf_free(&f);
}

static void continue_and_unknowable_when_do_not_block(void **state)
{
	(void)state;
	pf f;
	pf_init(&f, "drover: 1\nname: c\n" SHOP
		    "params: { go: { type: bool, default: false } }\n"
		    "steps:\n"
		    "  - { id: commit, action: dr.commit, targets: db, on_failure: continue }\n"
		    "  - { id: check, action: log, with: { message: x } }\n"
		    "  - { id: commit2, action: dr.commit, targets: web, needs: check,\n"
		    "      when: \"${steps.check.status == 'succeeded'}\" }\n"
		    "  - { id: commit3, action: dr.commit, targets: web, when: '${params.go}' }\n");
	check_at(&f, T0);
	assert_true(dr_preflight_runnable(&f.pf));
	size_t db = vm_index(&f, "db-1"), web = vm_index(&f, "web-1");
	const dr_pf_op *op = &f.pf.ops[f.pf.vm[db].first_op];
	assert_non_null(op->refused); /* refused, but tolerated: on_failure: continue */
	assert_true(op->tolerated);
	assert_false(op->conditional);
	op = &f.pf.ops[f.pf.vm[web].first_op];
	assert_true(op->tolerated && op->conditional); /* when: reads a step's status: only the run knows */
	assert_int_equal(n_ops(&f, "web-1"), 1); /* commit3's when: is false with the parameters: left out */
	pf_free(&f);
}

#define COMMIT_WHEN_FAILED_OVER                                                                                    \
	"steps:\n"                                                                                                   \
	"  - { id: commit, action: dr.commit, targets: db, when: \"${target.state == 'failed_over'}\" }\n"             \
	"  - { id: reprotect, action: dr.reprotect, targets: db, needs: commit }\n"

static void when_reads_the_predicted_state(void **state)
{
	(void)state;
	pf f;
	/* the tutorial's reprotect: commit what is not committed yet, then reprotect */
	pf_init(&f, "drover: 1\nname: w\n" SHOP COMMIT_WHEN_FAILED_OVER);
	by_hand(&f, "db-1", DR_BE_OP_FAILOVER, T0);
	check_at(&f, T0 + HOUR);
	assert_true(dr_preflight_runnable(&f.pf)); /* failed over: commit, then reprotect */
	assert_int_equal(n_ops(&f, "db-1"), 2);
	pf_free(&f);

	pf_init(&f, "drover: 1\nname: w\n" SHOP COMMIT_WHEN_FAILED_OVER);
	check_at(&f, T0); /* protected: no commit, and then the reprotect is refused */
	assert_int_equal(n_ops(&f, "db-1"), 1);
	const dr_blocker *b = blocker_of(&f, "db-1");
	assert_non_null(b);
	assert_non_null(strstr(b->message, "step 'reprotect' would be refused: the service refuses reprotect in state "
					   "protected"));
	pf_free(&f);
}

/* target.name, target.tags.KEY and target.state, each read on its own or together; a field the walk does not know is no value. */
static void when_reads_each_field_of_the_target(void **state)
{
	(void)state;
	pf f;
	pf_init(&f, "drover: 1\nname: w\n" SHOP
		    "steps:\n"
		    "  - { id: off, action: dr.shutdown, targets: [db, web], when: \"${target.name == 'web-2'}\" }\n"
		    "  - { id: fo, action: dr.failover, targets: [db, web], needs: off,\n"
		    "      when: \"${target.tags.tier == 'db' || target.name == 'web-1'}\" }\n"
		    "  - { id: commit, action: dr.commit, targets: [db, web], needs: fo,\n"
		    "      when: \"${target.state == 'failed_over' && target.tags.tier == 'web'}\" }\n"
		    "  - { id: cancel, action: dr.cancel_failover, targets: db, needs: commit, when: \"${target.tags.tier == 'db'}\" }\n"
		    "  - { id: again, action: dr.commit, targets: db, needs: cancel, when: \"${target.size == 'Standard_D2s_v5'}\" }\n");
	check_at(&f, T0);
	assert_int_equal(n_ops(&f, "web-2"), 1); /* off only */
	assert_int_equal(n_ops(&f, "web-1"), 2); /* fo, commit */
	assert_int_equal(n_ops(&f, "db-1"), 3); /* fo, cancel, and again: refused, but its when: is for the run to decide */
	const dr_pf_op *last = &f.pf.ops[f.pf.vm[vm_index(&f, "db-1")].last_op];
	assert_non_null(last->refused);
	assert_true(last->conditional && last->tolerated);
	assert_true(dr_preflight_runnable(&f.pf));
	pf_free(&f);
}

/* --- recovery points -------------------------------------------------------------------- */

static void rpo_guard_blocks_with_and_without_fallback(void **state)
{
	(void)state;
	pf f;
	pf_init(&f, "drover: 1\nname: r\n" SHOP "recovery: { point: latest-processed, max_age: 1m }\n" LIFECYCLE);
	check_at(&f, T0);
	assert_int_equal(f.pf.n_blockers, 3);
	const dr_blocker *b = blocker_of(&f, "web-2");
	assert_int_equal(b->kind, DR_BLOCK_RPO);
	assert_non_null(strstr(b->message, "web-2: its latest-processed recovery point is "));
	assert_non_null(strstr(b->message, "older than max_age 1m (the RPO guard)"));
	assert_int_equal(f.pf.vm[vm_index(&f, "web-2")].point.verdict, DR_PF_POINT_TOO_OLD);
	assert_int_equal(f.pf.blockers[0].node, dr_plan_index(f.rb->plan, "fo-db")); /* per VM, in inventory order */
	pf_free(&f);

	pf_init(&f, "drover: 1\nname: r\n" SHOP "recovery: { point: latest-app-consistent, max_age: 2h, fallback: "
		    "[latest-processed] }\n" LIFECYCLE);
	check_at(&f, T0);
	assert_true(dr_preflight_runnable(&f.pf));
	pf_free(&f);
}

static void the_override_wins_over_the_runbook_and_its_fallbacks(void **state)
{
	(void)state;
	pf f;
	pf_init(&f, "drover: 1\nname: o\n" SHOP
		    "recovery: { point: latest-processed, max_age: 2h, fallback: [latest-crash-consistent] }\n" LIFECYCLE);
	dr_point_override ov;
	assert_true(dr_preflight_parse_override("2025-12-31T20:00:00Z", &ov));
	assert_int_equal(ov.policy, DR_POINT_CUSTOM);
	assert_null(ov.id);
	f.o.point = &ov;
	check_at(&f, T0);
	/* the newest point at or before 20:00 is 4h old: the RPO guard still applies, no fallback is tried */
	const dr_blocker *b = blocker_of(&f, "db-1");
	assert_non_null(b);
	assert_non_null(strstr(b->message, "its --recovery-point 2025-12-31T20:00:00Z recovery point is 4h"));
	assert_true(f.pf.vm[vm_index(&f, "db-1")].point.override);
	pf_free(&f);

	assert_true(dr_preflight_parse_override("latest-app-consistent", &ov));
	assert_int_equal(ov.policy, DR_POINT_LATEST_APP_CONSISTENT);
	assert_true(dr_preflight_parse_override("rp-123", &ov));
	assert_string_equal(ov.id, "rp-123");
	assert_false(dr_preflight_parse_override("", &ov));
}

static void expression_policies_from_params_and_inputs(void **state)
{
	(void)state;
	pf f;
	pf_init(&f, "drover: 1\nname: e\n" SHOP "params: { p: { type: string, default: latest-crash-consistent } }\n"
		    "recovery: { point: '${params.p}' }\n"
		    "steps:\n  - { id: fo, action: dr.failover, targets: db }\n"
		    "  - { id: fo2, action: dr.failover, targets: web, with: { recovery_point: latest-app-consistent } }\n");
	check_at(&f, T0);
	assert_string_equal(dr_point_policy_name(f.pf.vm[vm_index(&f, "db-1")].point.policy),
			    "latest-crash-consistent");
	assert_string_equal(dr_point_policy_name(f.pf.vm[vm_index(&f, "web-1")].point.policy),
			    "latest-app-consistent");
	pf_free(&f);
}

/* --- other blockers ----------------------------------------------------------------------- */

static void expect_and_network_are_not_excusable(void **state)
{
	(void)state;
	pf f;
	pf_init(&f, "drover: 1\nname: n\n"
		    "backend:\n  kind: sim\n  vms: [{name: db-1}]\n"
		    "params: { net: { type: string, default: '' } }\n"
		    "vm_sets:\n  db: { match: { name: db }, expect: { count: 2 } }\n"
		    "steps:\n  - { id: t, action: dr.test_failover, targets: db, with: { network: '${params.net}' } }\n"
		    "finally:\n  - { id: c, action: dr.test_cleanup, targets: db }\n");
	check_at(&f, T0);
	assert_int_equal(f.pf.n_blockers, 2);
	assert_int_equal(f.pf.blockers[0].kind, DR_BLOCK_VM_SET);
	assert_non_null(strstr(f.pf.blockers[0].message, "vm_set 'db' matched 1 VM (db-1) but expects exactly 2"));
	assert_int_equal(f.pf.blockers[1].kind, DR_BLOCK_NETWORK);
	assert_string_equal(f.pf.blockers[1].message, "step 't': a test failover needs an isolated network to join "
						      "(with.network), and it names none");
	assert_false(dr_preflight_excusable(&f.pf));
	pf_free(&f);
}

/* --- resume and exclusion ------------------------------------------------------------------- */

typedef struct progress_map {
	size_t done_node, flight_node;
} progress_map;

static dr_pf_task progress_of(void *ctx, size_t node, size_t vm)
{
	const progress_map *m = ctx;
	(void)vm;
	if (node == m->done_node)
		return DR_PF_TASK_DONE;
	return node == m->flight_node ? DR_PF_TASK_IN_FLIGHT : DR_PF_TASK_TO_START;
}

static void a_resume_checks_only_what_has_not_started(void **state)
{
	(void)state;
	pf f;
	pf_init(&f, "drover: 1\nname: rs\n" SHOP LIFECYCLE);
	by_hand(&f, "db-1", DR_BE_OP_FAILOVER, T0); /* what the first session did */
	progress_map m = {.done_node = dr_plan_index(f.rb->plan, "fo-db"),
			  .flight_node = dr_plan_index(f.rb->plan, "fo-web")};
	f.o.task = progress_of;
	f.o.ctx = &m;
	by_hand(&f, "web-1", DR_BE_OP_FAILOVER, T0);
	check_at(&f, T0 + 1000); /* db-1's failover done in the journal, its job still running here */
	/* db-1: its failover is done (not checked again); its commit waits for fo-web: checked from failing_over */
	const dr_blocker *b = blocker_of(&f, "db-1");
	assert_non_null(b);
	assert_non_null(strstr(b->message, "step 'commit' would be refused"));
	/* web-1, web-2: their failover is in flight: the probe settles it, nothing after it is checked */
	assert_null(blocker_of(&f, "web-1"));
	assert_true(f.pf.vm[vm_index(&f, "web-1")].unsettled);
	pf_free(&f);

	pf_init(&f, "drover: 1\nname: rs\n" SHOP LIFECYCLE);
	by_hand(&f, "db-1", DR_BE_OP_FAILOVER, T0);
	m.flight_node = (size_t)-2;
	f.o.task = progress_of;
	f.o.ctx = &m;
	check_at(&f, T0 + HOUR);
	assert_true(dr_preflight_runnable(&f.pf)); /* failed over: the rest of its walk starts from there */
	pf_free(&f);
}

static void excluded_vms_leave_every_set_and_step(void **state)
{
	(void)state;
	pf f;
	pf_init(&f, "drover: 1\nname: x\n" SHOP LIFECYCLE);
	by_hand(&f, "web-1", DR_BE_OP_FAILOVER, T0);
	check_at(&f, T0 + HOUR);
	size_t web1 = vm_index(&f, "web-1");
	assert_true(f.pf.vm[web1].blocked);
	assert_int_equal(f.pf.n_blocked_vms, 1);
	dr_preflight_exclude(&f.pf, &web1, 1);
	size_t web_set = 1, commit = dr_plan_index(f.rb->plan, "commit");
	assert_int_equal(f.pf.bind.n_members[web_set], 1);
	assert_int_equal(f.pf.n_step_vms[commit], 2);
	for (size_t k = 0; k < f.pf.n_step_vms[commit]; k++)
		assert_int_not_equal(f.pf.step_vms[commit][k], web1);
	pf_free(&f);
}

/*
 * A run past its check keeps only what it goes on with (issue 11: the
 * preflight kept about 25 MB at 10,000 VMs for the whole run): the VMs,
 * the binding, each step's VMs. The listing (~1.1 KB a VM) and the check's
 * walk, operations and points (~0.8 KB) live in arenas of their own, let go
 * by dr_preflight_compact (the run calls it once its preflight passed).
 */
static void a_run_keeps_only_what_it_goes_on_with(void **state)
{
	(void)state;
	enum { N = 1000 };
	dr_buf y;
	dr_buf_init(&y);
	dr_buf_puts(&y, "drover: 1\nname: big\nbackend:\n  kind: sim\n  vms:\n");
	for (int i = 1; i <= N; i++)
		dr_buf_printf(&y, "    - { name: vm-%04d, tags: { tier: %s } }\n", i, i % 2 ? "db" : "web");
	dr_buf_puts(&y, "vm_sets:\n  db: { match: { tags: { tier: db } } }\n  web: { match: { tags: { tier: web } } }\n" LIFECYCLE);
	pf f;
	pf_init(&f, y.data);
	dr_buf_dispose(&y);
	size_t before = dr_arena_used(f.a);
	check_at(&f, T0);
	assert_int_equal(f.pf.n, N);
	assert_int_equal(f.pf.n_blockers, 0);
	assert_int_equal(n_ops(&f, "vm-0001"), 4); /* shutdown, failover, commit, reprotect */
	size_t kept = dr_arena_used(f.a) - before;
	/* the VMs with their own strings (~250 bytes of them the item's resource id), the binding, the steps'
	 * VMs: about 600 bytes a VM; all in one arena it was about 1,900 */
	assert_true(kept < N * 800);
	dr_preflight_compact(&f.pf);
	assert_null(f.pf.items);
	assert_null(f.pf.vm);
	assert_null(f.pf.ops);
	assert_true(dr_preflight_runnable(&f.pf));
	/* what the run goes on with is whole (under ASan: nothing of it was in what was let go) */
	assert_string_equal(f.pf.vms[N - 1].name, "vm-1000");
	assert_non_null(strstr(f.pf.vms[N - 1].id, "/replicationProtectedItems/"));
	assert_int_equal(f.pf.vms[N - 1].n_tags, 1);
	assert_string_equal(f.pf.vms[N - 1].tag_values[0], "web");
	assert_non_null(f.pf.vms[0].primary_region);
	size_t commit = dr_plan_index(f.rb->plan, "commit");
	assert_int_equal(f.pf.n_step_vms[commit], N);
	assert_int_equal(f.pf.bind.n_members[0], N / 2);
	pf_free(&f);
}

/*
 * A plan view's binding borrows the listing's strings (dr_preflight_bind_view); a compaction makes them the
 * preflight's own before it lets the listing go, so a run handed such a preflight keeps whole VMs (under ASan:
 * nothing is read from what was freed).
 */
static void a_view_binding_is_whole_after_a_compaction(void **state)
{
	(void)state;
	pf f;
	pf_init(&f, "drover: 1\nname: v\n" SHOP LIFECYCLE);
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_preflight_bind_view(&f.pf, f.a, f.rb, f.be, T0, &err), 0);
	dr_buf_dispose(&err);
	assert_true(f.pf.borrowed);
	assert_ptr_equal(f.pf.vms[0].name, f.pf.items[0].name); /* the listing's, not a copy */
	dr_preflight_check(&f.pf, &f.o);
	assert_true(dr_preflight_runnable(&f.pf));
	dr_preflight_compact(&f.pf);
	assert_false(f.pf.borrowed);
	assert_null(f.pf.items);
	assert_string_equal(f.pf.vms[2].name, "web-2");
	assert_string_equal(f.pf.vms[2].tag_keys[0], "tier");
	assert_string_equal(f.pf.vms[2].tag_values[0], "web");
	assert_non_null(strstr(f.pf.vms[2].id, "/replicationProtectedItems/"));
	assert_non_null(f.pf.vms[2].primary_ip);
	dr_preflight_compact(&f.pf); /* again: nothing left to copy or free */
	assert_string_equal(f.pf.vms[0].name, "db-1");
	pf_free(&f);
}

static void a_refresh_sees_what_happened_since_the_binding(void **state)
{
	(void)state;
	pf f;
	pf_init(&f, "drover: 1\nname: rf\n" SHOP LIFECYCLE);
	dr_buf err;
	dr_buf_init(&err);
	assert_int_equal(dr_preflight_bind(&f.pf, f.a, f.rb, f.be, T0, &err), 0);
	by_hand(&f, "db-1", DR_BE_OP_FAILOVER, T0);
	assert_int_equal(dr_preflight_refresh(&f.pf, T0 + HOUR, &err), 0);
	dr_buf_dispose(&err);
	assert_int_equal(f.pf.items[vm_index(&f, "db-1")].state, DR_BE_ST_FAILED_OVER);
	dr_preflight_check(&f.pf, &f.o);
	assert_non_null(blocker_of(&f, "db-1"));
	pf_free(&f);
}


/* --- saved plans ------------------------------------------------------------------------------ */

static cJSON *plan_of(pf *f, int64_t at, dr_planfile_ctx *c)
{
	check_at(f, at);
	*c = (dr_planfile_ctx){.rb = f->rb, .params = f->params, .mode = DR_MODE_FAILOVER,
			       .direction = DR_BE_DIR_PRIMARY_TO_RECOVERY, .backend_id = "sim:x", .now_ms = at};
	dr_buf err;
	dr_buf_init(&err);
	cJSON *plan = dr_planfile_build(&f->pf, c, &err);
	assert_non_null(plan);
	dr_buf_dispose(&err);
	return plan;
}

static void a_plan_is_the_same_bytes_but_for_its_time(void **state)
{
	(void)state;
	pf f;
	pf_init(&f, "drover: 1\nname: d\n" SHOP "recovery: { point: latest-processed, max_age: 1h }\n" LIFECYCLE);
	dr_planfile_ctx c;
	cJSON *a = plan_of(&f, T0, &c), *b = plan_of(&f, T0 + 1000, &c);
	cJSON_DeleteItemFromObject(a, "created");
	cJSON_DeleteItemFromObject(a, "created_ms");
	cJSON_DeleteItemFromObject(b, "created");
	cJSON_DeleteItemFromObject(b, "created_ms");
	char *sa = cJSON_Print(a), *sb = cJSON_Print(b);
	assert_string_equal(sa, sb);
	cJSON *points = dr_planfile_points(a);
	assert_int_equal(cJSON_GetArraySize(points), 3);
	const char **pins = dr_planfile_pins(points, &f.pf, f.a);
	assert_string_equal(pins[vm_index(&f, "web-2")], cJSON_GetStringValue(cJSON_GetObjectItem(points, "web-2")));
	free(sa);
	free(sb);
	cJSON_Delete(points);
	cJSON_Delete(a);
	cJSON_Delete(b);
	pf_free(&f);
}

static void drift_names_what_moved(void **state)
{
	(void)state;
	pf f;
	pf_init(&f, "drover: 1\nname: d\n" SHOP LIFECYCLE);
	dr_planfile_ctx c;
	cJSON *plan = plan_of(&f, T0, &c);
	/* the world moves: web-1 fails over by hand, the set web loses web-2 in the plan's eyes, a parameter appears */
	by_hand(&f, "web-1", DR_BE_OP_FAILOVER, T0);
	cJSON *sets = cJSON_GetObjectItem(plan, "vm_sets");
	cJSON *web = cJSON_GetObjectItem(cJSON_GetArrayItem(sets, 1), "vms");
	cJSON_DeleteItemFromArray(web, 1);
	cJSON *params = cJSON_CreateObject();
	cJSON_AddStringToObject(params, "extra", "x");
	check_at(&f, T0 + HOUR);
	dr_planfile_ctx now = c;
	now.params = params;
	now.now_ms = T0 + 2 * HOUR;
	now.mode = DR_MODE_DRILL;
	dr_buf out, notes;
	dr_buf_init(&out);
	dr_buf_init(&notes);
	assert_int_equal(dr_planfile_drift(plan, &f.pf, &now, HOUR, &out, &notes), 5);
	assert_non_null(strstr(out.data, "the plan was made at 2026-01-01T00:00:00Z, 2h ago: older than --plan-max-age 1h allows\n"));
	assert_non_null(strstr(out.data, "the plan is a failover (primary-to-recovery), this run a drill (primary-to-recovery)\n"));
	assert_non_null(strstr(out.data, "parameter extra: the plan has none, this run \"x\"\n"));
	assert_non_null(strstr(out.data, "vm_set 'web' targets [\"web-1\"] when planned, now [\"web-1\",\"web-2\"]\n"));
	assert_non_null(strstr(out.data, "web-1: protected in Primary when planned, now failed_over in Recovery\n"));
	assert_int_equal(notes.len, 0);
	dr_buf_dispose(&out);
	dr_buf_dispose(&notes);
	cJSON_Delete(params);
	cJSON_Delete(plan);
	pf_free(&f);
}

static void a_plan_of_another_version_is_refused(void **state)
{
	(void)state;
	const char *path = fx_write("plan-v2.json", "{\"format\": \"drover-plan\", \"version\": 2, \"created_ms\": 0}");
	dr_buf err;
	dr_buf_init(&err);
	assert_null(dr_planfile_read(path, &err));
	assert_non_null(strstr(err.data, "is of version 2; this drover reads version 1: make the plan again"));
	dr_buf_dispose(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(protected_estate_walks_the_whole_lifecycle),
		cmocka_unit_test(a_vm_failed_over_by_hand_blocks_before_anything),
		cmocka_unit_test(a_committed_failover_says_what_is_left),
		cmocka_unit_test(an_unusable_item_blocks_its_first_operation),
		cmocka_unit_test(a_nameless_item_blocks_though_no_set_takes_it),
		cmocka_unit_test(a_running_job_allows_nothing),
		cmocka_unit_test(failback_needs_the_recovery_side),
		cmocka_unit_test(continue_and_unknowable_when_do_not_block),
		cmocka_unit_test(when_reads_the_predicted_state),
		cmocka_unit_test(when_reads_each_field_of_the_target),
		cmocka_unit_test(rpo_guard_blocks_with_and_without_fallback),
		cmocka_unit_test(the_override_wins_over_the_runbook_and_its_fallbacks),
		cmocka_unit_test(expression_policies_from_params_and_inputs),
		cmocka_unit_test(expect_and_network_are_not_excusable),
		cmocka_unit_test(a_resume_checks_only_what_has_not_started),
		cmocka_unit_test(excluded_vms_leave_every_set_and_step),
		cmocka_unit_test(a_view_binding_is_whole_after_a_compaction),
		cmocka_unit_test(a_refresh_sees_what_happened_since_the_binding),
		cmocka_unit_test(a_run_keeps_only_what_it_goes_on_with),
		cmocka_unit_test(a_plan_is_the_same_bytes_but_for_its_time),
		cmocka_unit_test(drift_names_what_moved),
		cmocka_unit_test(a_plan_of_another_version_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
