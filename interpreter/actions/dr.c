/*
 * actions/dr.c - the dr.* actions: the DR service's protection operations.
 *
 * Each action is one operation of Azure Site Recovery's protection state
 * machine (shared/reference/asr-api.md §1.2-1.7), run per VM (one task per
 * target) through the backend interface:
 *
 *   Protected --failover--> failed over (commit pending) --commit--> committed
 *        ^                   |   change_recovery_point (only here)     |
 *        +--cancel_failover--+                                 reprotect
 *   Protected --test_failover--> test VMs up --test_cleanup--> Protected
 *
 * The flags tell the planner the DR ordering rules (commit is irreversible,
 * reprotect needs a commit, a test failover needs a cleanup) and tell
 * `drover drill` which operations it skips.
 */
#include "actions/family.h"

#include <stddef.h>

/* recovery_point: a policy name, ${...}, or a custom point {id: ...} | {time: ...}. */
static const char *const point_policies[] = {
	"latest", "latest-processed", "latest-app-consistent", "latest-crash-consistent", NULL};
static const dr_type point_policy = {
	.kind = DR_T_ENUM,
	.flags = DR_TF_EXPR,
	.enum_values = point_policies,
	.doc = "A recovery point policy (as recovery.point), or ${...}.",
};
static const dr_type point_time = {.kind = DR_T_TIMESTAMP, .flags = DR_TF_EXPR};
static const dr_field point_custom_fields[] = {
	{"id", &dr_action_t_text_req, false, NULL, "The recovery point's id (its name in the service)."},
	{"time", &point_time, false, NULL, "The newest recovery point at or before this time (RFC 3339)."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type point_custom = {
	.kind = DR_T_MAP, .fields = point_custom_fields, .doc = "A custom point: exactly one of id or time."};
static const dr_type *const point_alts[] = {&point_policy, &point_custom, NULL};
static const dr_type recovery_point = {
	.kind = DR_T_ONEOF,
	.alts = point_alts,
	.doc = "A policy (latest, latest-processed, latest-app-consistent, latest-crash-consistent), "
	       "${...}, or a custom point {id: ...} or {time: ...}.",
};

static const char *const directions[] = {"primary-to-recovery", "recovery-to-primary", "auto", NULL};
static const dr_type direction = {.kind = DR_T_ENUM, .flags = DR_TF_EXPR, .enum_values = directions};

static const char *const probe_states[] = {"healthy", "running", NULL};
static const dr_type probe_expect = {.kind = DR_T_ENUM, .enum_values = probe_states};

static const dr_field no_fields[] = {{NULL, NULL, false, NULL, NULL}};
static const dr_type no_input = {.kind = DR_T_MAP, .fields = no_fields, .doc = "No inputs."};

static const dr_field failover_fields[] = {
	{"recovery_point", &recovery_point, false, NULL,
	 "Overrides the runbook's recovery: policy for this step (the RPO guard max_age still applies)."},
	{"shutdown_source", &dr_action_t_bool, false, "true",
	 "Try to shut the source VMs down first; the failover goes on even if that shutdown fails."},
	{"direction", &direction, false, "auto",
	 "Which way to fail over; auto follows the run (`drover failback` runs recovery-to-primary)."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type failover_input = {.kind = DR_T_MAP, .fields = failover_fields};

static const dr_field test_failover_fields[] = {
	{"network", &dr_action_t_text_req, true, NULL,
	 "The isolated network the test VMs join (a network name or resource id); never the production network."},
	{"recovery_point", &recovery_point, false, NULL, "Overrides the runbook's recovery: policy for this step."},
	{"direction", &direction, false, "auto", "Which way to test; auto follows the run."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type test_failover_input = {.kind = DR_T_MAP, .fields = test_failover_fields};

static const dr_field test_cleanup_fields[] = {
	{"comments", &dr_action_t_text, false, NULL, "Notes recorded with the cleanup (the drill's findings)."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type test_cleanup_input = {.kind = DR_T_MAP, .fields = test_cleanup_fields};

static const dr_field change_point_fields[] = {
	{"recovery_point", &recovery_point, true, NULL, "The recovery point to switch the failed-over VMs to."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type change_point_input = {.kind = DR_T_MAP, .fields = change_point_fields};

static const dr_field probe_fields[] = {
	{"expect", &probe_expect, false, "healthy",
	 "running: the VM is up; healthy: it is up and its guest heartbeat/login probe answers."},
	{"timeout", &dr_action_t_duration, false, NULL,
	 "How long to keep probing before failing (default: the step's attempt_timeout)."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type probe_input = {.kind = DR_T_MAP, .fields = probe_fields};

#define PER_VM (DR_AF_MUTATING | DR_AF_PER_TARGET)
#define JOB_DOC "job_id (string): the service's job; duration_ms (number): the job's run time"

const dr_action dr_actions_dr[] = {
	{
		.name = "dr.failover",
		.summary = "Fail the target VMs over onto a recovery point (unplanned failover).",
		.input = &failover_input,
		.flags = PER_VM | DR_AF_FAILOVER,
		.undo = "dr.cancel_failover",
		.outputs_doc = JOB_DOC "; recovery_point_id (string) and recovery_point_time (RFC 3339): the point "
				       "used; rpo_ms (number): the data lost, failover start minus point time; "
				       "shutdown_source (string): done | failed | skipped.",
	},
	{
		.name = "dr.test_failover",
		.summary = "Start a drill: bring copies of the target VMs up in an isolated network.",
		.input = &test_failover_input,
		.flags = PER_VM | DR_AF_TEST_FAILOVER,
		.undo = "dr.test_cleanup",
		.outputs_doc = JOB_DOC "; recovery_point_id, recovery_point_time, rpo_ms: as dr.failover; "
				       "test_vm_id (string): the test VM.",
	},
	{
		.name = "dr.test_cleanup",
		.summary = "End a drill: delete the test VMs a test failover created.",
		.input = &test_cleanup_input,
		.flags = PER_VM | DR_AF_TEST_CLEANUP,
		.outputs_doc = JOB_DOC ".",
	},
	{
		.name = "dr.change_recovery_point",
		.summary = "Switch failed-over VMs to another recovery point (only before commit). Skipped in drills.",
		.input = &change_point_input,
		.flags = PER_VM | DR_AF_SKIP_IN_DRILL,
		.outputs_doc = JOB_DOC "; recovery_point_id, recovery_point_time, rpo_ms: the new point.",
	},
	{
		.name = "dr.commit",
		.summary = "Commit the failover: the point of no return; the service deletes the recovery points.",
		.input = &no_input,
		.flags = PER_VM | DR_AF_IRREVERSIBLE | DR_AF_COMMIT | DR_AF_SKIP_IN_DRILL,
		.outputs_doc = JOB_DOC "; committed_at (RFC 3339).",
	},
	{
		.name = "dr.cancel_failover",
		.summary = "Undo an uncommitted failover: the VMs return to the primary side. Skipped in drills.",
		.input = &no_input,
		.flags = PER_VM | DR_AF_SKIP_IN_DRILL,
		.outputs_doc = JOB_DOC ".",
	},
	{
		.name = "dr.reprotect",
		.summary = "After commit, replicate the other way (seed the old primary, then deltas). Skipped in drills.",
		.input = &no_input,
		.flags = PER_VM | DR_AF_REPROTECT | DR_AF_SKIP_IN_DRILL,
		.outputs_doc = JOB_DOC "; protection_state (string): the state reached (seeding continues in the service).",
	},
	{
		.name = "dr.shutdown",
		.summary = "Shut down the source VMs (before a planned failover). Skipped in drills.",
		.input = &no_input,
		.flags = PER_VM | DR_AF_SKIP_IN_DRILL,
		.outputs_doc = "state (string): the VM's power state afterwards; duration_ms (number).",
	},
	{
		.name = "dr.probe",
		.summary = "Check that the failed-over VMs run (and answer their health probe); counts as a validation.",
		.input = &probe_input,
		.flags = DR_AF_PER_TARGET | DR_AF_VALIDATION,
		.outputs_doc = "state (string): the VM's power state; healthy (bool); ip (string): its address on "
			       "the active side; duration_ms (number): time until the probe passed.",
	},
	{.name = NULL},
};
