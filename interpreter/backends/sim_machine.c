/*
 * backends/sim_machine.c - ASR's protection state machine (asr-api.md §1.7).
 *
 *   Protected --failover--> [failing over] --> failed over (commit pending)
 *      ^  ^                                     |  change point (loops here)
 *      |  +-----------cancel failover-----------+  commit
 *      |                                        v
 *      +--[reprotecting: seed, then deltas]-- committed (points deleted)
 *   Protected --test failover--> test failed over --cleanup--> Protected
 *
 * Reprotect leaves the item Protected in the other direction (its active
 * location stays where the failover put it), so failback is the same
 * failover again. Two tables: what each state shows and allows, and what
 * each operation's job does to the state while it runs, when it succeeds
 * and when it fails. Everything else (VMs stopping and starting) happens
 * in the job's tasks (sim_jobs.c).
 */
#include "backends/sim_int.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define B(op) DR_BE_OP_BIT(DR_BE_OP_##op)

/* In-progress strings are not verified against the real service (asr-api.md §1.7 [U]). */
static const sim_state_info states[DR_BE_ST_COUNT] = {
	[DR_BE_ST_PROTECTED] = {"Protected", "Protected", "None", "", B(FAILOVER) | B(TEST_FAILOVER)},
	[DR_BE_ST_FAILING_OVER] = {"UnplannedFailoverInProgress", "Failover in progress", "None", "", 0},
	[DR_BE_ST_FAILED_OVER] = {"UnplannedFailoverCommitPendingStatesBegin", "Failover completed", "None", "",
				  B(COMMIT) | B(CHANGE_POINT) | B(CANCEL_FAILOVER)},
	[DR_BE_ST_CHANGING_POINT] = {"ChangeRecoveryPointInProgress", "Changing the recovery point", "None", "", 0},
	[DR_BE_ST_COMMITTING] = {"UnplannedFailoverCommitInProgress", "Committing the failover", "None", "", 0},
	[DR_BE_ST_CANCELLING] = {"CancelFailoverInProgress", "Cancelling the failover", "None", "", 0},
	[DR_BE_ST_COMMITTED] = {"UnplannedFailoverCommitted", "Failover committed", "None", "", B(REPROTECT)},
	[DR_BE_ST_REPROTECTING] = {"ReprotectInProgress", "Reprotect in progress (initial replication)", "None", "",
				   0},
	[DR_BE_ST_TEST_FAILING_OVER] = {"Protected", "Test failover in progress", "InProgress",
					"Test failover in progress", 0},
	[DR_BE_ST_TEST_FAILED_OVER] = {"Protected", "Cleanup test failover pending", "WaitingForCompletion",
				       "Waiting for user input", B(TEST_CLEANUP)},
	[DR_BE_ST_TEST_CLEANING] = {"Protected", "Cleaning up test failover", "MarkedForDeletion",
				    "Cleaning up test environment", 0},
	[DR_BE_ST_OTHER] = {"Other", "Unknown", "None", "", 0},
};

/* What an operation's job does to the item's state; KEEP: nothing (shutdown). */
#define KEEP DR_BE_ST_COUNT
static const struct op_row {
	dr_be_state running, ok, fail;
	const char *scenario, *friendly;
	const char *advice; /* recommended action when the op is refused in the item's state */
} ops[DR_BE_OP_COUNT] = {
	[DR_BE_OP_FAILOVER] = {DR_BE_ST_FAILING_OVER, DR_BE_ST_FAILED_OVER, DR_BE_ST_PROTECTED, "UnplannedFailover",
			       "Failover",
			       "Fail over only a protected item: finish (commit and reprotect) an earlier failover or "
			       "clean up a test failover first."},
	[DR_BE_OP_TEST_FAILOVER] = {DR_BE_ST_TEST_FAILING_OVER, DR_BE_ST_TEST_FAILED_OVER,
				    DR_BE_ST_TEST_FAILED_OVER, "TestFailover", "Test failover",
				    "Test only a protected item: clean up the previous test failover first."},
	[DR_BE_OP_TEST_CLEANUP] = {DR_BE_ST_TEST_CLEANING, DR_BE_ST_PROTECTED, DR_BE_ST_TEST_FAILED_OVER,
				   "TestFailoverCleanup", "Test failover cleanup",
				   "There is no test failover to clean up: it was never started or is already cleaned "
				   "up."},
	[DR_BE_OP_CHANGE_POINT] = {DR_BE_ST_CHANGING_POINT, DR_BE_ST_FAILED_OVER, DR_BE_ST_FAILED_OVER,
				   "ChangeRecoveryPoint", "Change recovery point",
				   "The recovery point can be changed only after a failover and before it is "
				   "committed (commit deletes the recovery points)."},
	[DR_BE_OP_COMMIT] = {DR_BE_ST_COMMITTING, DR_BE_ST_COMMITTED, DR_BE_ST_FAILED_OVER, "CommitFailover", "Commit",
			     "Commit follows a completed failover: fail the item over first."},
	[DR_BE_OP_CANCEL_FAILOVER] = {DR_BE_ST_CANCELLING, DR_BE_ST_PROTECTED, DR_BE_ST_FAILED_OVER, "CancelFailover",
				      "Cancel failover",
				      "Only a failover that is not committed can be cancelled; after commit, reprotect "
				      "and fail back instead."},
	[DR_BE_OP_REPROTECT] = {DR_BE_ST_REPROTECTING, DR_BE_ST_PROTECTED, DR_BE_ST_COMMITTED, "Reprotect", "Reprotect",
				"Reprotect needs the 'Failover committed' state: commit the failover first."},
	[DR_BE_OP_SHUTDOWN] = {KEEP, KEEP, KEEP, "ShutdownVm", "Shut down the virtual machine", NULL},
};

const sim_state_info *sim_state_info_of(dr_be_state st)
{
	return &states[st < DR_BE_ST_COUNT ? st : DR_BE_ST_OTHER];
}

bool sim_state_parse(const char *name, dr_be_state *out)
{
	for (int i = 0; i < DR_BE_ST_COUNT; i++)
		if (strcmp(dr_backend_state_name((dr_be_state)i), name) == 0) {
			*out = (dr_be_state)i;
			return true;
		}
	return false;
}

const char *sim_op_scenario(dr_be_op op)
{
	return ops[op].scenario;
}

const char *sim_op_friendly(dr_be_op op)
{
	return ops[op].friendly;
}

/* ---- checks ----------------------------------------------------------------------- */

static int busy(sim *s, sim_item *it, int64_t job, const dr_be_request *req, int64_t t, dr_arena *a,
		dr_be_error *err)
{
	bool ok;
	int64_t end = sim_job_end(&s->jobs[job], &ok);
	int64_t wait = end == SIM_NEVER || end - t > SIM_MIN ? SIM_MIN : end - t;
	dr_backend_fail(err, a, 409, DR_BE_ERR_TRANSIENT, "OperationInProgress",
			"Another job is running on the item.", "Wait for the running job to finish, then retry.",
			"The operation '%s' can't start on '%s': a %s job (%s) is in progress.",
			dr_backend_op_name(req->op), it->name, sim_op_friendly(s->jobs[job].op), s->jobs[job].guid);
	err->retry_after_ms = wait < 1000 ? 1000 : wait;
	return -1;
}

static int not_allowed(sim_item *it, dr_be_op op, dr_arena *a, dr_be_error *err)
{
	const sim_state_info *si = sim_state_info_of(it->state);
	const char *name = dr_backend_op_asr_name(op);
	const char *causes = dr_arena_printf(a, "The protected item is in the state '%s' (%s), which allows: %s.",
					     si->protection, si->description, dr_backend_allowed_text(a, si->allowed));
	return dr_backend_fail(err, a, 400, DR_BE_ERR_PERMANENT, "OperationNotAllowedInCurrentState", causes,
			       ops[op].advice, "The operation '%s' isn't allowed for the protected item '%s' in its "
			       "current state '%s'.", name, it->name, si->description);
}

static int check_direction(sim_item *it, const dr_be_request *req, dr_arena *a, dr_be_error *err)
{
	if (req->direction == DR_BE_DIR_AUTO)
		return 0;
	int from = req->direction == DR_BE_DIR_PRIMARY_TO_RECOVERY ? DR_BE_PRIMARY : DR_BE_RECOVERY;
	if (from == it->active)
		return 0;
	/* the simulator's terms: one view of the item for its whole life (the emulator retells it as served) */
	const char *where = it->region[it->active], *other = it->region[1 - it->active];
	return dr_backend_fail(err, a, 400, DR_BE_ERR_PERMANENT, "InvalidFailoverDirection",
			       dr_arena_printf(a, "The item's active location is %s: its VM runs in %s.",
					       dr_backend_location_name((dr_be_location)it->active), where),
			       dr_arena_printf(a, "Use %s for this item (from %s, where it runs, to %s).",
					       it->active == DR_BE_RECOVERY ? "RecoveryToPrimary (failback)" : "PrimaryToRecovery",
					       where, other),
			       "The direction %s doesn't match the item '%s', which runs in its %s location (%s).",
			       dr_backend_direction_name(req->direction), it->name,
			       dr_backend_location_name((dr_be_location)it->active), where);
}

static int check_point(sim_item *it, const dr_be_request *req, int64_t t, dr_arena *a, dr_be_error *err)
{
	int64_t when;
	bool processed;
	if (!req->point_id) {
		if (req->op != DR_BE_OP_CHANGE_POINT)
			return 0;
		return dr_backend_fail(err, a, 400, DR_BE_ERR_PERMANENT, "RecoveryPointIdRequired", NULL,
				       "Pass the id of one of the item's recovery points.",
				       "Changing the recovery point of '%s' needs a recovery point id.", it->name);
	}
	if (sim_points_find(it, req->point_id, t, &when, &processed))
		return 0;
	return dr_backend_fail(err, a, 400, DR_BE_ERR_PERMANENT, "RecoveryPointNotFound",
			       "The point was purged (older than the retention window), deleted by a commit, or "
			       "belongs to another item.",
			       "List the item's recovery points and pick one of them.",
			       "The recovery point '%s' doesn't exist for the protected item '%s'.", req->point_id,
			       it->name);
}

static int check_inputs(sim_item *it, const dr_be_request *req, int64_t t, dr_arena *a, dr_be_error *err)
{
	dr_be_op op = req->op;
	if ((op == DR_BE_OP_FAILOVER || op == DR_BE_OP_TEST_FAILOVER || op == DR_BE_OP_REPROTECT) &&
	    check_direction(it, req, a, err) < 0)
		return -1;
	if (op == DR_BE_OP_TEST_FAILOVER && (!req->network || !*req->network))
		return dr_backend_fail(err, a, 400, DR_BE_ERR_PERMANENT, "NetworkIdRequired", NULL,
				       "Name the isolated network the test VM should join.",
				       "A test failover of '%s' needs a network.", it->name);
	if (op == DR_BE_OP_FAILOVER || op == DR_BE_OP_TEST_FAILOVER || op == DR_BE_OP_CHANGE_POINT)
		return check_point(it, req, t, a, err);
	return 0;
}

int sim_machine_check(sim *s, sim_item *it, const dr_be_request *req, int64_t t, dr_arena *a, dr_be_error *err)
{
	if (req->op == DR_BE_OP_SHUTDOWN)
		return it->vm_job >= 0 ? busy(s, it, it->vm_job, req, t, a, err) : 0;
	if (it->job >= 0)
		return busy(s, it, it->job, req, t, a, err);
	if (!(sim_state_info_of(it->state)->allowed & DR_BE_OP_BIT(req->op)))
		return not_allowed(it, req->op, a, err);
	return check_inputs(it, req, t, a, err);
}

/* ---- begin and finish --------------------------------------------------------------- */

static void set_str(char **slot, const char *v)
{
	free(*slot);
	*slot = v ? xstrdup(v) : NULL;
}

/* The point a (test) failover or change uses: the one asked for, or "latest" (now minus the lag). */
static void choose_point(sim_item *it, sim_job *j, const dr_be_request *req, int64_t t)
{
	char name[40];
	bool processed;
	if (req->point_id && sim_points_find(it, req->point_id, t, &j->point_ms, &processed)) {
		sim_points_name(it, j->point_ms, name);
	} else {
		j->point_ms = t - it->rpo_ms;
		j->point_ms -= j->point_ms % 1000;
		sim_points_name(it, j->point_ms, name);
	}
	set_str(&j->point_id, name);
}

void sim_machine_begin(sim *s, sim_item *it, sim_job *j, const dr_be_request *req, int64_t t)
{
	(void)s;
	dr_be_op op = req->op;
	bool stays = op == DR_BE_OP_CHANGE_POINT || op == DR_BE_OP_COMMIT || op == DR_BE_OP_SHUTDOWN;
	j->src = it->active;
	j->dst = stays ? it->active : !it->active;
	if (op == DR_BE_OP_FAILOVER || op == DR_BE_OP_TEST_FAILOVER || op == DR_BE_OP_CHANGE_POINT)
		choose_point(it, j, req, t);
	if (op == DR_BE_OP_FAILOVER)
		it->pts_until = t; /* replication stops: the points freeze */
	if (ops[op].running != KEEP)
		it->state = ops[op].running;
	set_str(&j->network, req->network);
	set_str(&j->comments, req->comments);
}

static void on_success(sim_item *it, sim_job *j, int64_t end)
{
	switch (j->op) {
	case DR_BE_OP_FAILOVER:
		it->active = j->dst;
		it->last_fo_ms = end;
		/* fall through */
	case DR_BE_OP_CHANGE_POINT:
		set_str(&it->point_id, j->point_id);
		it->point_ms = j->point_ms;
		break;
	case DR_BE_OP_TEST_FAILOVER:
		it->last_tfo_ms = end;
		set_str(&it->point_id, j->point_id);
		it->point_ms = j->point_ms;
		set_str(&it->network, j->network);
		break;
	case DR_BE_OP_TEST_CLEANUP: set_str(&it->network, NULL); break;
	case DR_BE_OP_COMMIT: it->pts_since = it->pts_until = SIM_NEVER; break;
	case DR_BE_OP_CANCEL_FAILOVER:
		it->active = j->dst;
		it->pts_until = SIM_NEVER;
		set_str(&it->point_id, NULL);
		it->point_ms = -1;
		break;
	case DR_BE_OP_REPROTECT:
		it->pts_since = end;
		it->pts_until = SIM_NEVER;
		break;
	default: break;
	}
}

void sim_machine_finish(sim *s, sim_item *it, sim_job *j, bool ok, int64_t end)
{
	(void)s;
	const struct op_row *r = &ops[j->op];
	if (r->ok == KEEP)
		return;
	it->state = ok ? r->ok : r->fail;
	if (ok)
		on_success(it, j, end);
	else if (j->op == DR_BE_OP_FAILOVER)
		it->pts_until = SIM_NEVER; /* replication resumes */
	else if (j->op == DR_BE_OP_TEST_FAILOVER)
		set_str(&it->network, j->network); /* cleanup is still needed */
}
