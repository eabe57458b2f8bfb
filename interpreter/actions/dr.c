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
 * `drover drill` which operations it skips. What each row does is in
 * dr_run.c (the operations, and their probes for resume), dr_point.c (the
 * recovery point policy) and dr_probe.c (dr.probe); see dr_int.h.
 */
#include "actions/dr_int.h"
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
static const dr_type probe_port = {.kind = DR_T_INT, .flags = DR_TF_EXPR, .min = 1, .max = 65535};

static const dr_field no_fields[] = {{NULL, NULL, false, NULL, NULL}};
static const dr_type no_input = {.kind = DR_T_MAP, .fields = no_fields, .doc = "No inputs."};

static const dr_field failover_fields[] = {
	{"recovery_point", &recovery_point, false, NULL,
	 "Overrides the runbook's recovery: policy for this step: the RPO guard max_age still applies, its "
	 "fallback policies do not."},
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
	{"recovery_point", &recovery_point, true, NULL,
	 "The recovery point to switch the failed-over VMs to; `latest` is the newest point the VM still has."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type change_point_input = {.kind = DR_T_MAP, .fields = change_point_fields};

static const dr_field probe_fields[] = {
	{"expect", &probe_expect, false, "healthy",
	 "running: the VM is up; healthy: it is up and its guest heartbeat/login probe answers."},
	{"timeout", &dr_action_t_duration, false, NULL,
	 "How long to keep probing (every 5s, or the service's Retry-After after a read it did not answer) before "
	 "failing as transient, also when its last read was throttled: the probe's whole time, which the built-in "
	 "retry of a step without retry: (throttled only) does not repeat (default: until the attempt's deadline, "
	 "attempt_timeout; without one, 10m)."},
	{"port", &probe_port, false, NULL,
	 "Also require this port to answer. In the service's health model a port answers exactly when the "
	 "guest is healthy (on the simulator: any port of a healthy VM). For a real TCP connection use check.tcp."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type probe_input = {.kind = DR_T_MAP, .fields = probe_fields};

static const dr_field reprotect_fields[] = {
	{"policy", &dr_action_t_text, false, NULL,
	 "Azure: the replication policy's resource id for the reverse direction (default: the policy of the "
	 "container mapping that replicates back to the VM's old primary container)."},
	{"recovery_container", &dr_action_t_text, false, NULL,
	 "Azure: the protection container to replicate into (default: that mapping's target, the old primary's)."},
	{"recovery_resource_group", &dr_action_t_text, false, NULL,
	 "Azure: the resource group id the replica is created in (default: the resource group of the VM's old "
	 "primary)."},
	{"staging_storage", &dr_action_t_text, false, NULL,
	 "Azure: the cache storage account id on the side that is now the source (default: the one the item "
	 "reports for its disks; the service refuses one in the wrong region)."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type reprotect_input = {.kind = DR_T_MAP, .fields = reprotect_fields};

#define PER_VM (DR_AF_MUTATING | DR_AF_PER_TARGET | DR_AF_BACKEND)
#define JOB_DOC                                                                                                     \
	"job_id (string): the service's job (resource id); item_id (string): the protected item; vm (string); "   \
	"operation (string); status (string): Completed, or CompletedWithInformation when a task failed without "   \
	"failing the job; started_at, ended_at (RFC 3339, the service's clock) and duration_ms (number): the job; "  \
	"tasks (list of {name, state}): the job's tasks as the service's Jobs page shows them; warnings (list of "  \
	"{code, message, task, recommended_action}): what went wrong without failing the job (each also logged)"
#define POINT_DOC                                                                                                   \
	"recovery_point ({id, name, time, type, policy, fallback}): the point used, type CrashConsistent, "          \
	"ApplicationConsistent or Latest (pending data processed on demand), policy the one that chose it "          \
	"(fallback: true when a recovery.fallback policy did); "
#define OPS(name) .run = dr_##name##_run, .cancel = dr_op_cancel, .probe = dr_##name##_probe

const dr_action dr_actions_dr[] = {
	{
		.name = "dr.failover",
		.summary = "Fail the target VMs over onto a recovery point (unplanned failover).",
		.input = &failover_input,
		.flags = PER_VM | DR_AF_FAILOVER,
		.undo = "dr.cancel_failover",
		.outputs_doc = JOB_DOC "; " POINT_DOC "rpo_ms (number): the data lost, the failover's start minus the "
				       "point's time; shutdown_source (string): done, failed (the failover went on: see "
				       "warnings) or skipped; active_location (string): Recovery after a failover, Primary "
				       "after a failback.",
		OPS(failover),
	},
	{
		.name = "dr.test_failover",
		.summary = "Start a drill: bring copies of the target VMs up in an isolated network.",
		.input = &test_failover_input,
		.flags = PER_VM | DR_AF_TEST_FAILOVER,
		.undo = "dr.test_cleanup",
		.outputs_doc = JOB_DOC "; " POINT_DOC "rpo_ms (number): as dr.failover; network (string): the network "
				       "asked for; test_vm_id (string) and test_vm_ip (string): the test VM.",
		OPS(test_failover),
	},
	{
		.name = "dr.test_cleanup",
		.summary = "End a drill: delete the test VMs a test failover created. A VM without a test failover (it "
			   "never started) has nothing to clean: the task succeeds at once and sends nothing.",
		.input = &test_cleanup_input,
		.flags = PER_VM | DR_AF_TEST_CLEANUP,
		.outputs_doc = JOB_DOC "; with nothing to clean (the service says the VM has no test failover and no "
				       "test VM): cleaned (false), reason (string), protection_state (string) instead.",
		OPS(test_cleanup),
	},
	{
		.name = "dr.change_recovery_point",
		.summary = "Switch failed-over VMs to another recovery point (only before commit). Skipped in drills.",
		.input = &change_point_input,
		.flags = PER_VM | DR_AF_SKIP_IN_DRILL | DR_AF_CHANGE_POINT,
		.outputs_doc = JOB_DOC "; " POINT_DOC "rpo_ms (number): the data lost with the new point, counted from "
				       "the failover's start. `latest` means the newest point still listed; recovery.max_age "
				       "applies, counted from the failover's start.",
		OPS(change_point),
	},
	{
		.name = "dr.commit",
		.summary = "Commit the failover: the point of no return; the service deletes the recovery points.",
		.input = &no_input,
		.flags = PER_VM | DR_AF_IRREVERSIBLE | DR_AF_COMMIT | DR_AF_SKIP_IN_DRILL,
		.outputs_doc = JOB_DOC "; committed_at (RFC 3339).",
		OPS(commit),
	},
	{
		.name = "dr.cancel_failover",
		.summary = "Undo an uncommitted failover: the VMs return to the primary side. Skipped in drills.",
		.input = &no_input,
		.flags = PER_VM | DR_AF_SKIP_IN_DRILL | DR_AF_CANCEL_FAILOVER,
		.outputs_doc = JOB_DOC "; active_location (string): where the VM runs now (the failover's source).",
		OPS(cancel_failover),
	},
	{
		.name = "dr.reprotect",
		.summary = "After commit, replicate the other way (seed the old primary, then deltas). Skipped in drills.",
		.input = &reprotect_input,
		.flags = PER_VM | DR_AF_REPROTECT | DR_AF_SKIP_IN_DRILL,
		.outputs_doc = JOB_DOC "; protection_state (string): the state reached (protected: replicating the other "
				       "way, seeding done); active_location (string).",
		OPS(reprotect),
	},
	{
		.name = "dr.shutdown",
		.summary = "Shut down the source VMs (before a planned failover). Skipped in drills.",
		.input = &no_input,
		.flags = PER_VM | DR_AF_SKIP_IN_DRILL,
		.outputs_doc = JOB_DOC "; state (string): the power state of the VM at the active location afterwards "
				       "(stopped).",
		OPS(shutdown),
	},
	{
		.name = "dr.probe",
		.summary = "Check that the failed-over VMs run (and answer their health probe); counts as a validation.",
		.input = &probe_input,
		.flags = DR_AF_PER_TARGET | DR_AF_VALIDATION | DR_AF_BACKEND,
		.outputs_doc = "vm (string); side (string): test (the drill's test VM, while it exists), recovery or "
			       "primary (the active location); vm_id, region and ip (string): that VM; state (string): its "
			       "power state; health (string): unknown, booting, healthy or unhealthy; healthy (bool); "
			       "port (number) and port_open (bool), when port is given; polls (number); duration_ms "
			       "(number): time until the probe passed.",
		.run = dr_vm_probe_run,
		.cancel = dr_vm_probe_cancel,
	},
	{.name = NULL},
};
