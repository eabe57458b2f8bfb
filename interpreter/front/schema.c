/*
 * schema.c - the runbook format (version 1) as data, and its two printers.
 *
 * Every key a runbook file may hold is one dr_field row below: its type,
 * whether it is required, its default as written in YAML, and its doc
 * string. check.c walks these tables to validate a file; the JSON Schema
 * (draft-07, docs/runbook.schema.json) and the Markdown key reference
 * (docs/language.md) are printed from the same rows, so the three cannot
 * drift. Per-action `with:` schemas come from the action table (action.h).
 *
 * Reading order: scalar types, then one block per section of the format,
 * bottom-up (retry and steps before the root), then the printers.
 */
#include "front/schema.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "actions/action.h"
#include "util/buf.h"
#include "util/text.h"

#define UNBOUNDED INT64_MAX

/* ---- scalar types ------------------------------------------------------- */

static const dr_type t_string = {.kind = DR_T_STRING};
static const dr_type t_text = {.kind = DR_T_STRING, .flags = DR_TF_NONEMPTY};
static const dr_type t_text_expr = {.kind = DR_T_STRING, .flags = DR_TF_NONEMPTY | DR_TF_EXPR};
static const dr_type t_id = {.kind = DR_T_ID};
static const dr_type t_id_expr = {.kind = DR_T_ID, .flags = DR_TF_EXPR};
static const dr_type t_bool = {.kind = DR_T_BOOL};
static const dr_type t_bool_expr = {.kind = DR_T_BOOL, .flags = DR_TF_EXPR};
static const dr_type t_int = {.kind = DR_T_INT};
static const dr_type t_any = {.kind = DR_T_ANY};
static const dr_type t_regex = {.kind = DR_T_REGEX};
static const dr_type t_timestamp = {.kind = DR_T_TIMESTAMP};
static const dr_type t_duration = {.kind = DR_T_DURATION};
static const dr_type t_timeout = {.kind = DR_T_DURATION, .min = 1, .max = UNBOUNDED};
static const dr_type t_version = {.kind = DR_T_INT};
static const dr_type t_count = {.kind = DR_T_INT, .min = 0, .max = UNBOUNDED};
static const dr_type t_concurrency = {.kind = DR_T_INT, .min = 1, .max = UNBOUNDED};
static const dr_type t_attempts = {.kind = DR_T_INT, .min = 1, .max = 10000};
static const dr_type t_backoff = {.kind = DR_T_NUMBER, .min = 1, .max = 100};
static const dr_type t_speed = {.kind = DR_T_NUMBER, .min = 0, .max = 1000000};
static const dr_type t_max_failures = {.kind = DR_T_PERCENT_OR_INT};

static const char *const on_failure_values[] = {"stop", "continue", "rollback", NULL};
static const dr_type t_on_failure = {.kind = DR_T_ENUM, .enum_values = on_failure_values};
static const char *const order_values[] = {"declared", "longest-first", NULL};
static const dr_type t_order = {.kind = DR_T_ENUM, .enum_values = order_values};

/* ---- params, secrets (inputs: of composites has the params shape) ------- */

static const char *const param_type_values[] = {"string", "int", "number", "bool", "duration", NULL};
static const dr_type t_param_type = {.kind = DR_T_ENUM, .enum_values = param_type_values};
static const dr_type t_choices = {.kind = DR_T_SEQ, .flags = DR_TF_NONEMPTY, .items = &t_any};

static const dr_field param_fields[] = {
	{"type", &t_param_type, false, "string",
	 "The value's type. A value given on the command line (`--param NAME=VALUE`) is converted to it."},
	{"default", &t_any, false, NULL,
	 "The value when none is given at run time; it must match `type` (and `enum`). "
	 "Without a default the parameter must be given at run time."},
	{"enum", &t_choices, false, NULL, "The allowed values; each must match `type`."},
	{"description", &t_string, false, NULL, "What the parameter is for."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type t_param = {
	.kind = DR_T_MAP, .fields = param_fields,
	.doc = "A typed run-time input, read as `${params.NAME}` (in composite files `inputs:` has the "
	       "same shape and is read as `${inputs.NAME}`).",
};
static const dr_type t_params = {.kind = DR_T_DICT, .items = &t_param,
				 .doc = "Parameters by name (identifiers)."};

static const dr_field secret_fields[] = {
	{"env", &t_text, false, NULL, "Read the secret from this environment variable (set and not empty)."},
	{"file", &t_text, false, NULL,
	 "Read the secret from this file (relative paths are relative to the runbook): a regular file, "
	 "readable by its owner only (mode 0600 or 0400), not empty, at most 64 KiB; trailing newlines are "
	 "removed."},
	{"description", &t_string, false, NULL, "What the secret is for."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type t_secret = {
	.kind = DR_T_MAP, .fields = secret_fields,
	.doc = "Where a secret comes from: exactly one of `env` or `file`. Read as `${secrets.NAME}`.",
};
static const dr_type t_secrets = {.kind = DR_T_DICT, .items = &t_secret};

/* ---- vm_sets ------------------------------------------------------------ */

static const dr_type t_tag_patterns = {.kind = DR_T_DICT, .flags = DR_TF_KEY_ANY, .items = &t_regex};
static const dr_field filter_fields[] = {
	{"name", &t_regex, false, NULL,
	 "PCRE2 pattern searched in the VM's name. Unanchored: write `^` and `$` to match the whole name."},
	{"tags", &t_tag_patterns, false, NULL,
	 "Tag name to PCRE2 pattern: the VM must carry every tag listed, each value matching its pattern."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type t_filter = {
	.kind = DR_T_MAP, .fields = filter_fields,
	.doc = "A VM filter. Every condition given must hold; an empty filter matches every VM.",
};
static const dr_field expect_fields[] = {
	{"count", &t_count, false, NULL, "Exactly this many VMs must match. Excludes `min` and `max`."},
	{"min", &t_count, false, NULL, "At least this many VMs must match."},
	{"max", &t_count, false, NULL, "At most this many VMs may match."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type t_expect = {
	.kind = DR_T_MAP, .fields = expect_fields,
	.doc = "A guard on the size of a VM set, checked before anything runs: a wrong count stops the run.",
};
static const dr_field vm_set_fields[] = {
	{"match", &t_filter, true, NULL, "The VMs that belong to the set."},
	{"exclude", &t_filter, false, NULL, "VMs matched by this filter are removed from the set."},
	{"expect", &t_expect, false, NULL, "How many VMs the set must hold."},
	{"description", &t_string, false, NULL, "What the set is."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type t_vm_set = {
	.kind = DR_T_MAP, .fields = vm_set_fields,
	.doc = "A named selection of protected VMs, resolved against the backend's inventory when the run "
	       "starts. Steps name it in `targets:` or `foreach:`.",
};
static const dr_type t_vm_sets = {.kind = DR_T_DICT, .items = &t_vm_set};

/* ---- recovery, objectives ----------------------------------------------- */

static const char *const point_values[] = {
	"latest", "latest-processed", "latest-app-consistent", "latest-crash-consistent", "custom", NULL,
};
static const dr_type t_point = {.kind = DR_T_ENUM, .flags = DR_TF_EXPR, .enum_values = point_values};
static const dr_type t_fallback_point = {.kind = DR_T_ENUM, .enum_values = point_values};
static const dr_type t_fallback = {.kind = DR_T_SEQ, .items = &t_fallback_point};

static const dr_field recovery_fields[] = {
	{"point", &t_point, false, "latest",
	 "Which recovery point to fail over to: `latest` (lowest data loss), `latest-processed` "
	 "(fastest failover), `latest-app-consistent`, `latest-crash-consistent`, or `custom` "
	 "(with `id` or `time`). May be an expression such as `${params.recovery_point}`."},
	{"id", &t_text_expr, false, NULL,
	 "The recovery point id (or name), with `point: custom`; may be a `${...}` of the parameters, evaluated when the "
	 "point is chosen."},
	{"time", &t_timestamp, false, NULL,
	 "With `point: custom`: the newest recovery point taken at or before this RFC 3339 time."},
	{"max_age", &t_duration, false, NULL,
	 "RPO guard: refuse a recovery point older than this when the run starts."},
	{"fallback", &t_fallback, false, NULL,
	 "Policies tried in order when the chosen point does not exist or is older than `max_age`. "
	 "`custom` cannot be a fallback."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type t_recovery = {
	.kind = DR_T_MAP, .fields = recovery_fields,
	.doc = "The recovery point policy for failover steps.",
};

static const char *const enforce_values[] = {"drill", "always", "never", NULL};
static const dr_type t_enforce = {.kind = DR_T_ENUM, .enum_values = enforce_values};
static const dr_field objectives_fields[] = {
	{"rto", &t_timeout, false, NULL,
	 "Recovery time objective: the run reports when it is exceeded (it does not stop the run)."},
	{"rpo", &t_timeout, false, NULL, "Recovery point objective: the report compares the point's age to it."},
	{"enforce", &t_enforce, false, "drill",
	 "Which runs a missed objective fails (exit 1) once every step is done: `drill` (a drill fails so a scheduler "
	 "alerts; a real run reports the miss and keeps its exit status), `always`, or `never`."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type t_objectives = {
	.kind = DR_T_MAP, .fields = objectives_fields,
	.doc = "Service objectives, reported against after every run; `enforce` says which runs fail when they miss one.",
};

/* ---- retry -------------------------------------------------------------- */

static const char *const jitter_values[] = {"none", "full", "equal", NULL};
static const dr_type t_jitter = {.kind = DR_T_ENUM, .enum_values = jitter_values};
static const char *const retry_class_values[] = {"transient", "throttled", "timeout", "any", NULL};
static const dr_type t_retry_class = {.kind = DR_T_ENUM, .enum_values = retry_class_values};
static const dr_field retry_match_fields[] = {
	{"match", &t_regex, true, NULL, "PCRE2 pattern searched in the error message."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type t_retry_match = {.kind = DR_T_MAP, .fields = retry_match_fields};
static const dr_type *const retry_on_alts[] = {&t_retry_class, &t_retry_match, NULL};
static const dr_type t_retry_on_item = {.kind = DR_T_ONEOF, .alts = retry_on_alts};
static const dr_type t_retry_on = {.kind = DR_T_SEQ, .flags = DR_TF_NONEMPTY, .items = &t_retry_on_item};

static const dr_field retry_fields[] = {
	{"attempts", &t_attempts, false, "1", "Total attempts, the first included (1 means no retry)."},
	{"delay", &t_duration, false, "5s", "Wait before the second attempt."},
	{"backoff", &t_backoff, false, "2", "Each later wait is the previous one times this factor."},
	{"max_delay", &t_duration, false, NULL, "Upper bound of a single wait (none by default)."},
	{"jitter", &t_jitter, false, "full",
	 "Randomise waits: `none`; `full` (uniform between 0 and the wait); `equal` "
	 "(half the wait plus uniform up to the other half)."},
	{"on", &t_retry_on, false, "[transient, throttled, timeout]",
	 "Which failures are retried: `transient` (5xx, connection errors), `throttled` (HTTP 429), "
	 "`timeout` (an attempt exceeded `attempt_timeout`), `any`, or `{match: REGEX}` over the error "
	 "message."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type t_retry = {
	.kind = DR_T_MAP, .fields = retry_fields,
	.doc = "When and how often a failed step is attempted again. Keys not given come from "
	       "`defaults.retry`, then from the defaults below. A `dr.*` step with no `retry:` written "
	       "(nor in `defaults`) has a built-in one instead: 5 attempts on `throttled` only.",
};

/* ---- steps ---------------------------------------------------------------- */

static const dr_type t_steps = {.kind = DR_T_SEQ, .flags = DR_TF_NONEMPTY, .items = &dr_schema_step};
static const dr_type t_step_list = {.kind = DR_T_SEQ, .items = &dr_schema_step};
static const dr_type t_with = {.kind = DR_T_DICT, .flags = DR_TF_KEY_ANY, .items = &t_any};
static const dr_type t_id_list = {.kind = DR_T_SEQ, .items = &t_id_expr};
static const dr_type t_id_nonempty_list = {.kind = DR_T_SEQ, .flags = DR_TF_NONEMPTY, .items = &t_id_expr};
static const dr_type *const needs_alts[] = {&t_id_expr, &t_id_list, NULL};
static const dr_type t_needs = {.kind = DR_T_ONEOF, .alts = needs_alts};
static const dr_type *const targets_alts[] = {&t_id_expr, &t_id_nonempty_list, NULL};
static const dr_type t_targets = {.kind = DR_T_ONEOF, .alts = targets_alts};

static const dr_field step_fields[] = {
	{"id", &t_id, true, NULL,
	 "Unique among all steps, `finally` steps and rollback steps. Other steps refer to it in "
	 "`needs:` and `${steps.ID...}`."},
	{"name", &t_string, false, NULL, "A display name for reports and graphs (default: the id)."},
	{"description", &t_string, false, NULL, "What the step does and why."},
	{"action", &t_text, false, NULL,
	 "The action to run, e.g. `dr.failover` (see docs/actions.md). Exactly one of `action` and `use`."},
	{"use", &t_id, false, NULL,
	 "A stdlib composite action to expand in place of this step (`stdlib/NAME.yaml`). "
	 "Exactly one of `action` and `use`."},
	{"with", &t_with, false, NULL,
	 "The action's inputs, checked against its input schema (docs/actions.md); for `use:`, the "
	 "composite's inputs. Values may be `${...}` expressions where the input allows them."},
	{"needs", &t_needs, false, NULL,
	 "Step ids that must finish before this step starts. In composite files also exactly `${inputs.NAME}`."},
	{"targets", &t_targets, false, NULL,
	 "VM sets the step acts on (a name or a list); the action runs once per VM. "
	 "Not together with `foreach`. In composite files also exactly `${inputs.NAME}`."},
	{"foreach", &t_id_expr, false, NULL,
	 "A VM set: run the step once per VM of the set, with `${target.*}` bound to it. "
	 "Not together with `targets`. In composite files also exactly `${inputs.NAME}`."},
	{"pipeline", &t_bool, false, "false",
	 "Start the step for a VM as soon as the needed steps finished for that same VM, instead of "
	 "waiting for all of them."},
	{"when", &t_bool_expr, false, NULL, "Run the step only when this is true; skipped otherwise."},
	{"retry", &t_retry, false, NULL, "Retry policy; keys not given come from `defaults.retry`."},
	{"timeout", &t_timeout, false, NULL, "Limit for the whole step, all attempts included."},
	{"attempt_timeout", &t_timeout, false, NULL, "Limit for one attempt."},
	{"concurrency", &t_concurrency, false, NULL, "How many targets run at the same time (default: all)."},
	{"order", &t_order, false, NULL,
	 "Which ready targets take the free `concurrency` slots first: `longest-first` (those whose action "
	 "took longest in earlier runs, from the duration history in the state directory; targets it does "
	 "not know go first) or `declared` (inventory order). Matters only when the targets outnumber the "
	 "slots (default: `defaults.order`)."},
	{"max_failures", &t_max_failures, false, "0",
	 "How many targets may fail before the step fails: a count (`3`) or a percentage of the step's "
	 "targets (`10%`)."},
	{"on_failure", &t_on_failure, false, NULL,
	 "What the run does when this step fails: `stop`, `continue` or `rollback` "
	 "(default: the runbook's `on_failure`)."},
	{"rollback", &t_step_list, false, NULL,
	 "Steps that undo this step, run (in reverse order of completion) when the run rolls back. "
	 "Without it an action's default undo is used; `rollback: []` disables it."},
	{NULL, NULL, false, NULL, NULL},
};
const dr_type dr_schema_step = {
	.kind = DR_T_MAP, .fields = step_fields,
	.doc = "One unit of work: an action (or a composite) with its inputs, dependencies, targets and "
	       "failure handling.",
};

/* ---- defaults ------------------------------------------------------------- */

static const dr_field defaults_fields[] = {
	{"timeout", &t_timeout, false, NULL, "`timeout` of steps that set none."},
	{"attempt_timeout", &t_timeout, false, NULL, "`attempt_timeout` of steps that set none."},
	{"run_timeout", &t_timeout, false, NULL, "Limit for the whole run; `finally` steps still run after it."},
	{"retry", &t_retry, false, NULL, "Retry policy of steps that set none, and the base of those that do."},
	{"concurrency", &t_concurrency, false, NULL, "`concurrency` of steps that set none (default: unlimited)."},
	{"order", &t_order, false, "longest-first",
	 "`order` of steps that set none. Without a duration history `longest-first` is the declared "
	 "order; `drover run --order` overrides both."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type t_defaults = {
	.kind = DR_T_MAP, .fields = defaults_fields,
	.doc = "Values every step inherits unless it sets its own.",
};

/* ---- backend ------------------------------------------------------------ */

static const char *const backend_kind_values[] = {"sim", "azure", NULL};
static const dr_type t_backend_kind = {.kind = DR_T_ENUM, .enum_values = backend_kind_values};
static const dr_type t_tags = {.kind = DR_T_DICT, .flags = DR_TF_KEY_ANY, .items = &t_string};
static const dr_type t_faults = {.kind = DR_T_SEQ, .items = &t_any};

static const dr_field sim_vm_fields[] = {
	{"name", &t_text, true, NULL, "The VM's name."},
	{"tags", &t_tags, false, NULL, "Tags (name to string value)."},
	{"primary_region", &t_string, false, NULL, "Where the VM runs before failover."},
	{"recovery_region", &t_string, false, NULL, "Where it runs after failover."},
	{"size", &t_string, false, NULL, "The VM size, e.g. `Standard_D4s_v5`."},
	{"primary_ip", &t_string, false, NULL, "Its address in the primary region."},
	{"recovery_ip", &t_string, false, NULL, "Its address in the recovery region."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type t_sim_vm = {.kind = DR_T_MAP, .fields = sim_vm_fields, .doc = "A simulated protected VM."};
static const dr_type t_sim_vms = {.kind = DR_T_SEQ, .items = &t_sim_vm};

static const dr_field backend_sim_fields[] = {
	{"kind", &t_backend_kind, true, NULL, "`sim`."},
	{"inventory", &t_text, false, NULL, "A YAML file with a `vms:` list, relative to the runbook."},
	{"vms", &t_sim_vms, false, NULL, "Protected VMs, added to those of `inventory`."},
	{"seed", &t_int, false, "0", "Seed of the simulator's random choices (jitter, faults)."},
	{"speed", &t_speed, false, "0",
	 "How fast virtual time runs: 0 as fast as possible, 1 real time, 10 ten times faster."},
	{"faults", &t_faults, false, NULL, "Faults to inject (see the simulator's documentation)."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type t_backend_sim = {
	.kind = DR_T_MAP, .fields = backend_sim_fields,
	.doc = "The embedded simulator: deterministic, no cloud account needed.",
};

static const char *const credential_values[] = {"auto",		  "client_secret",    "client_certificate",
						"workload_identity", "managed_identity", "azure_cli",
						NULL};
static const dr_type t_credential = {.kind = DR_T_ENUM, .enum_values = credential_values};

static const dr_field backend_azure_fields[] = {
	{"kind", &t_backend_kind, true, NULL, "`azure`."},
	{"subscription", &t_text_expr, true, NULL, "Subscription id of the Recovery Services vault."},
	{"resource_group", &t_text_expr, true, NULL, "Resource group of the vault."},
	{"vault", &t_text_expr, true, NULL, "Name of the Recovery Services vault."},
	{"api_version", &t_text, false, "2025-08-01", "Azure Site Recovery REST api-version."},
	{"endpoint", &t_text_expr, false, "https://management.azure.com",
	 "Azure Resource Manager endpoint (https://, or http:// to loopback for `drover emulator`)."},
	{"credential", &t_credential, false, "auto",
	 "How drover logs in: `auto` tries, in order, the environment's service principal (secret, then "
	 "certificate), workload identity, managed identity and the Azure CLI; the others pick one."},
	{"tenant", &t_text_expr, false, NULL, "Entra ID tenant (default: `AZURE_TENANT_ID`)."},
	{"client_id", &t_text_expr, false, NULL,
	 "Application (client) id (default: `AZURE_CLIENT_ID`); with a managed identity, the user-assigned one."},
	{"client_secret", &t_text_expr, false, NULL,
	 "Service principal secret: write `${secrets.NAME}`, never the secret itself (default: "
	 "`AZURE_CLIENT_SECRET`)."},
	{"client_certificate", &t_text_expr, false, NULL,
	 "PEM (key and certificate) or PKCS#12 file of a certificate credential (default: "
	 "`AZURE_CLIENT_CERTIFICATE_PATH`)."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type t_backend_azure = {
	.kind = DR_T_MAP, .fields = backend_azure_fields,
	.doc = "Azure Site Recovery through the Azure Resource Manager REST API.",
};

static const dr_field backend_fields[] = {
	{"kind", &t_backend_kind, true, NULL, "Which backend: `sim` or `azure`; it decides the other keys."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type t_backend = {
	.kind = DR_T_MAP, .fields = backend_fields,
	.doc = "Where the runbook acts. `kind` selects the backend and the keys allowed beside it.",
};

static const struct {
	const char *kind;
	const dr_type *type;
} backend_kinds[] = {
	{"sim", &t_backend_sim},
	{"azure", &t_backend_azure},
};

/* ---- roots -------------------------------------------------------------- */

static const dr_field runbook_fields[] = {
	{"drover", &t_version, true, NULL, "The runbook format version. This is version 1."},
	{"name", &t_id, true, NULL, "The runbook's name, an identifier; it names runs and journals."},
	{"description", &t_string, false, NULL, "What the runbook recovers, and when to use it."},
	{"backend", &t_backend, false, "{kind: sim}", "Where the runbook acts."},
	{"params", &t_params, false, NULL, "Run-time inputs by name, read as `${params.NAME}`."},
	{"secrets", &t_secrets, false, NULL, "Secrets by name, read as `${secrets.NAME}`."},
	{"vm_sets", &t_vm_sets, false, NULL, "Named VM selections that steps target."},
	{"recovery", &t_recovery, false, NULL, "The recovery point policy."},
	{"objectives", &t_objectives, false, NULL, "RTO and RPO."},
	{"defaults", &t_defaults, false, NULL, "Values steps inherit."},
	{"steps", &t_steps, true, NULL, "The steps; they run in dependency order (`needs:`), in parallel where possible."},
	{"finally", &t_step_list, false, NULL,
	 "Steps that run after the others whatever happened (notifications, cleanup)."},
	{"on_failure", &t_on_failure, false, "stop",
	 "What the run does when a step fails: `stop` (start nothing new, run `finally`), `continue` "
	 "(tolerate the failure: dependents still run), or `rollback` (undo completed steps "
	 "in reverse order, then run `finally`)."},
	{NULL, NULL, false, NULL, NULL},
};
const dr_type dr_schema_runbook = {
	.kind = DR_T_MAP, .fields = runbook_fields,
	.doc = "A runbook file: the top level.",
};

static const dr_field composite_fields[] = {
	{"drover", &t_version, true, NULL, "The runbook format version. This is version 1."},
	{"composite", &t_id, true, NULL, "The composite's name; it must match the file name (`stdlib/NAME.yaml`)."},
	{"description", &t_string, false, NULL, "What the composite does."},
	{"inputs", &t_params, false, NULL, "Inputs, given by the using step's `with:`, read as `${inputs.NAME}`."},
	{"steps", &t_steps, true, NULL,
	 "The steps expanded in place of the using step; `targets`, `foreach` and `needs` may be exactly "
	 "`${inputs.NAME}`."},
	{NULL, NULL, false, NULL, NULL},
};
const dr_type dr_schema_composite = {
	.kind = DR_T_MAP, .fields = composite_fields,
	.doc = "A stdlib composite action file (`stdlib/NAME.yaml`), used by a step's `use: NAME`.",
};

/* The types that get a name: a JSON Schema definition and a Markdown section each. */
static const struct named {
	const char *name;
	const dr_type *type;
} named_types[] = {
	{"runbook", &dr_schema_runbook},
	{"step", &dr_schema_step},
	{"retry", &t_retry},
	{"defaults", &t_defaults},
	{"param", &t_param},
	{"secret", &t_secret},
	{"vm-set", &t_vm_set},
	{"vm-filter", &t_filter},
	{"vm-expect", &t_expect},
	{"recovery", &t_recovery},
	{"objectives", &t_objectives},
	{"backend", &t_backend},
	{"backend-sim", &t_backend_sim},
	{"sim-vm", &t_sim_vm},
	{"backend-azure", &t_backend_azure},
	{"composite", &dr_schema_composite},
};
#define N_NAMED (sizeof named_types / sizeof named_types[0])

/* ---- lookups ------------------------------------------------------------ */

const dr_field *dr_schema_field(const dr_type *map, const char *name)
{
	if (!map || map->kind != DR_T_MAP || !map->fields)
		return NULL;
	for (const dr_field *f = map->fields; f->name; f++)
		if (f->name[0] == name[0] && strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

size_t dr_schema_field_names(const dr_type *map, const char **out, size_t cap)
{
	size_t n = 0;
	if (cap == 0)
		return 0;
	if (map && map->kind == DR_T_MAP && map->fields)
		for (const dr_field *f = map->fields; f->name && n + 1 < cap; f++)
			out[n++] = f->name;
	out[n] = NULL;
	return n;
}

const dr_type *dr_schema_backend(const char *kind)
{
	for (size_t i = 0; kind && i < sizeof backend_kinds / sizeof backend_kinds[0]; i++)
		if (strcmp(backend_kinds[i].kind, kind) == 0)
			return backend_kinds[i].type;
	return NULL;
}

const dr_type *dr_schema_backend_base(void)
{
	return &t_backend;
}

static const char *type_name(const dr_type *t)
{
	for (size_t i = 0; i < N_NAMED; i++)
		if (named_types[i].type == t)
			return named_types[i].name;
	return NULL;
}

/* ---- JSON Schema -------------------------------------------------------- */

#define IDENT_PATTERN "^[a-z0-9][a-z0-9_-]*$"
#define EXPR_PATTERN "\\$\\{"
#define DURATION_PATTERN "^(?=\\d)(\\d+d)?(\\d+h)?(\\d+m)?(\\d+s)?(\\d+ms)?$"
#define NONZERO_DURATION_PATTERN "^(?=\\d)(?=.*[1-9])(\\d+d)?(\\d+h)?(\\d+m)?(\\d+s)?(\\d+ms)?$"
#define PERCENT_PATTERN "^(100|[1-9]?[0-9])%$"

/* Constraints JSON Schema needs beyond the field rows (the checker has them in code). */
static const struct {
	const dr_type *type;
	const char *json;
} json_extras[] = {
	{&t_secret, "{\"oneOf\":[{\"required\":[\"env\"]},{\"required\":[\"file\"]}]}"},
	{&t_expect, "{\"not\":{\"anyOf\":[{\"required\":[\"count\",\"min\"]},{\"required\":[\"count\",\"max\"]}]}}"},
	{&t_recovery, "{\"not\":{\"required\":[\"id\",\"time\"]},"
		      "\"if\":{\"properties\":{\"point\":{\"const\":\"custom\"}},\"required\":[\"point\"]},"
		      "\"then\":{\"anyOf\":[{\"required\":[\"id\"]},{\"required\":[\"time\"]}]},"
		      "\"else\":{\"properties\":{\"id\":false,\"time\":false}}}"},
	{&t_fallback_point, "{\"not\":{\"const\":\"custom\"}}"},
	{&dr_schema_step, "{\"oneOf\":[{\"required\":[\"action\"]},{\"required\":[\"use\"]}],"
			  "\"not\":{\"required\":[\"targets\",\"foreach\"]}}"},
};

typedef struct jctx {
	const dr_type *self; /* the definition being written: not replaced by a $ref */
	bool expr_all; /* inside an action's with: every value may be an expression */
} jctx;

static cJSON *json_type(const dr_type *t, jctx *jc);

static void json_merge(cJSON *dst, const char *src_text)
{
	cJSON *src = cJSON_Parse(src_text);
	if (!src)
		return;
	while (src->child) {
		cJSON *it = cJSON_DetachItemViaPointer(src, src->child);
		cJSON_AddItemToObject(dst, it->string, it);
	}
	cJSON_Delete(src);
}

static void json_add_extras(cJSON *o, const dr_type *t)
{
	for (size_t i = 0; i < sizeof json_extras / sizeof json_extras[0]; i++)
		if (json_extras[i].type == t)
			json_merge(o, json_extras[i].json);
}

static void json_bounds(cJSON *o, const dr_type *t)
{
	if (t->min >= t->max)
		return;
	cJSON_AddNumberToObject(o, "minimum", (double)t->min);
	if (t->max != UNBOUNDED)
		cJSON_AddNumberToObject(o, "maximum", (double)t->max);
}

static cJSON *json_string_pattern(const char *pattern)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "string");
	cJSON_AddStringToObject(o, "pattern", pattern);
	return o;
}

static void json_enum(cJSON *o, const char *const *values)
{
	cJSON *e = cJSON_AddArrayToObject(o, "enum");
	for (size_t i = 0; values[i]; i++)
		cJSON_AddItemToArray(e, cJSON_CreateString(values[i]));
}

static cJSON *json_scalar(const dr_type *t)
{
	cJSON *o = cJSON_CreateObject();
	switch (t->kind) {
	case DR_T_STRING:
		cJSON_AddStringToObject(o, "type", "string");
		if (t->flags & DR_TF_NONEMPTY)
			cJSON_AddNumberToObject(o, "minLength", 1);
		break;
	case DR_T_INT:
		cJSON_AddStringToObject(o, "type", "integer");
		json_bounds(o, t);
		break;
	case DR_T_NUMBER:
		cJSON_AddStringToObject(o, "type", "number");
		json_bounds(o, t);
		break;
	case DR_T_BOOL:
		cJSON_AddStringToObject(o, "type", "boolean");
		break;
	case DR_T_ENUM:
		json_enum(o, t->enum_values);
		break;
	case DR_T_REGEX:
		cJSON_AddStringToObject(o, "type", "string");
		cJSON_AddStringToObject(o, "format", "regex");
		break;
	case DR_T_TIMESTAMP:
		cJSON_AddStringToObject(o, "type", "string");
		cJSON_AddStringToObject(o, "format", "date-time");
		break;
	default:
		break;
	}
	return o;
}

/* A duration; one with a minimum (a timeout: at least 1ms) must not be all zeros. */
static cJSON *json_duration(const dr_type *t)
{
	return json_string_pattern(t->min >= 1 ? NONZERO_DURATION_PATTERN : DURATION_PATTERN);
}

static cJSON *json_id(void)
{
	cJSON *o = json_string_pattern(IDENT_PATTERN);
	cJSON_AddNumberToObject(o, "maxLength", 64);
	return o;
}

static cJSON *json_percent_or_int(void)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *alts = cJSON_AddArrayToObject(o, "anyOf");
	cJSON *count = cJSON_CreateObject();
	cJSON_AddStringToObject(count, "type", "integer");
	cJSON_AddNumberToObject(count, "minimum", 0);
	cJSON_AddItemToArray(alts, count);
	cJSON_AddItemToArray(alts, json_string_pattern(PERCENT_PATTERN));
	return o;
}

/* text as the number or boolean t takes (a count for PERCENT_OR_INT); NULL when t takes none or text is not one. */
static cJSON *json_scalar_default(const dr_type *t, const char *text)
{
	bool num = t->kind == DR_T_INT || t->kind == DR_T_NUMBER || t->kind == DR_T_PERCENT_OR_INT;
	if (!num && t->kind != DR_T_BOOL)
		return NULL;
	cJSON *v = cJSON_ParseWithOpts(text, NULL, 1);
	if (v && (num ? cJSON_IsNumber(v) : cJSON_IsBool(v)))
		return v;
	cJSON_Delete(v);
	return NULL;
}

/* A default written in YAML (default_text) as a JSON value of the field's type (of a union: its first fitting alternative). */
static cJSON *json_default(const dr_type *t, const char *text)
{
	for (size_t i = 0; t->kind == DR_T_ONEOF && t->alts && t->alts[i]; i++) {
		cJSON *v = json_scalar_default(t->alts[i], text);
		if (v)
			return v;
	}
	cJSON *v = json_scalar_default(t, text);
	if (v)
		return v;
	if (t->kind == DR_T_SEQ && text[0] == '[') {
		cJSON *arr = cJSON_CreateArray();
		const char *p = text + 1;
		while (*p && *p != ']') {
			size_t n = strcspn(p, ",]");
			while (n && p[n - 1] == ' ')
				n--;
			char item[64];
			snprintf(item, sizeof item, "%.*s", (int)n, p);
			cJSON_AddItemToArray(arr, cJSON_CreateString(item));
			p += strcspn(p, ",]");
			p += strspn(p, ", ");
		}
		return arr;
	}
	if (t->kind == DR_T_MAP)
		return NULL; /* e.g. backend's {kind: sim}: described in prose */
	return cJSON_CreateString(text);
}

/* A field's schema with its doc and default; a $ref is wrapped (draft-07 ignores its siblings). */
static cJSON *json_field(const dr_field *f, jctx *jc)
{
	cJSON *p = json_type(f->type, jc);
	if (cJSON_GetObjectItem(p, "$ref")) {
		cJSON *wrap = cJSON_CreateObject();
		cJSON_AddItemToArray(cJSON_AddArrayToObject(wrap, "allOf"), p);
		p = wrap;
	}
	if (f->doc)
		cJSON_AddStringToObject(p, "description", f->doc);
	cJSON *dflt = f->default_text ? json_default(f->type, f->default_text) : NULL;
	if (dflt)
		cJSON_AddItemToObject(p, "default", dflt);
	return p;
}

static cJSON *json_map(const dr_type *t, jctx *jc)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "object");
	cJSON *props = cJSON_AddObjectToObject(o, "properties");
	cJSON *req = cJSON_CreateArray();
	for (const dr_field *f = t->fields; f && f->name; f++) {
		cJSON *p = json_field(f, jc);
		cJSON_AddItemToObject(props, f->name, p);
		if (f->required)
			cJSON_AddItemToArray(req, cJSON_CreateString(f->name));
	}
	if (cJSON_GetArraySize(req))
		cJSON_AddItemToObject(o, "required", req);
	else
		cJSON_Delete(req);
	cJSON_AddBoolToObject(o, "additionalProperties", 0);
	return o;
}

static cJSON *json_dict(const dr_type *t, jctx *jc)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "object");
	if (!(t->flags & DR_TF_KEY_ANY))
		cJSON_AddItemToObject(o, "propertyNames", json_id());
	if (t->flags & DR_TF_NONEMPTY)
		cJSON_AddNumberToObject(o, "minProperties", 1);
	if (t->items && t->items->kind != DR_T_ANY)
		cJSON_AddItemToObject(o, "additionalProperties", json_type(t->items, jc));
	return o;
}

static cJSON *json_seq(const dr_type *t, jctx *jc)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "array");
	if (t->flags & DR_TF_NONEMPTY)
		cJSON_AddNumberToObject(o, "minItems", 1);
	if (t->items && t->items->kind != DR_T_ANY)
		cJSON_AddItemToObject(o, "items", json_type(t->items, jc));
	return o;
}

static cJSON *json_oneof(const dr_type *t, jctx *jc)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *alts = cJSON_AddArrayToObject(o, "anyOf");
	for (size_t i = 0; t->alts && t->alts[i]; i++)
		cJSON_AddItemToArray(alts, json_type(t->alts[i], jc));
	return o;
}

static cJSON *json_backend(jctx *jc)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "type", "object");
	cJSON *props = cJSON_AddObjectToObject(o, "properties");
	cJSON_AddItemToObject(props, "kind", json_scalar(&t_backend_kind));
	cJSON_AddItemToObject(o, "required", cJSON_CreateStringArray((const char *const[]){"kind"}, 1));
	cJSON *all = cJSON_AddArrayToObject(o, "allOf");
	for (size_t i = 0; i < sizeof backend_kinds / sizeof backend_kinds[0]; i++) {
		cJSON *rule = cJSON_CreateObject();
		cJSON *cond = cJSON_AddObjectToObject(rule, "if");
		cJSON *kind = cJSON_AddObjectToObject(cJSON_AddObjectToObject(cond, "properties"), "kind");
		cJSON_AddStringToObject(kind, "const", backend_kinds[i].kind);
		cJSON_AddItemToObject(rule, "then", json_type(backend_kinds[i].type, jc));
		cJSON_AddItemToArray(all, rule);
	}
	return o;
}

static cJSON *json_kind(const dr_type *t, jctx *jc)
{
	if (t == &t_backend)
		return json_backend(jc);
	if (t == &t_version) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "const", 1);
		return o;
	}
	switch (t->kind) {
	case DR_T_ANY: return cJSON_CreateObject();
	case DR_T_DURATION: return json_duration(t);
	case DR_T_ID: return json_id();
	case DR_T_PERCENT_OR_INT: return json_percent_or_int();
	case DR_T_MAP: return json_map(t, jc);
	case DR_T_DICT: return json_dict(t, jc);
	case DR_T_SEQ: return json_seq(t, jc);
	case DR_T_ONEOF: return json_oneof(t, jc);
	default: return json_scalar(t);
	}
}

static bool is_scalar_kind(dr_type_kind k)
{
	return k != DR_T_ANY && k != DR_T_MAP && k != DR_T_DICT && k != DR_T_SEQ && k != DR_T_ONEOF;
}

/* The schema of t: a $ref for named types, else inline; expressions as an alternative. */
static cJSON *json_type(const dr_type *t, jctx *jc)
{
	const char *name = type_name(t);
	if (name && t != jc->self && !jc->expr_all) {
		cJSON *o = cJSON_CreateObject();
		char ref[64];
		snprintf(ref, sizeof ref, "#/definitions/%s", name);
		cJSON_AddStringToObject(o, "$ref", ref);
		return o;
	}
	const dr_type *self = jc->self;
	if (t == jc->self)
		jc->self = NULL;
	cJSON *o = json_kind(t, jc);
	jc->self = self;
	json_add_extras(o, t);
	bool expr = (t->flags & DR_TF_EXPR) || (jc->expr_all && is_scalar_kind(t->kind));
	if (!expr || t->kind == DR_T_STRING)
		return o;
	cJSON *any = cJSON_CreateObject();
	cJSON *alts = cJSON_AddArrayToObject(any, "anyOf");
	cJSON_AddItemToArray(alts, o);
	cJSON *e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "$ref", "#/definitions/expression");
	cJSON_AddItemToArray(alts, e);
	return any;
}

/* One if/then rule per action: its with: schema, and targets for per-target actions. */
static cJSON *json_action_rule(const dr_action *act)
{
	cJSON *rule = cJSON_CreateObject();
	cJSON *cond = cJSON_AddObjectToObject(rule, "if");
	cJSON *p = cJSON_AddObjectToObject(cJSON_AddObjectToObject(cond, "properties"), "action");
	cJSON_AddStringToObject(p, "const", act->name);
	cJSON_AddItemToObject(cond, "required", cJSON_CreateStringArray((const char *const[]){"action"}, 1));
	cJSON *then = cJSON_AddObjectToObject(rule, "then");
	jctx jc = {.self = NULL, .expr_all = true};
	cJSON *with;
	if (act->input) {
		with = json_type(act->input, &jc);
	} else {
		with = cJSON_CreateObject();
		cJSON_AddNumberToObject(with, "maxProperties", 0);
	}
	if (act->summary)
		cJSON_AddStringToObject(with, "description", act->summary);
	cJSON_AddItemToObject(cJSON_AddObjectToObject(then, "properties"), "with", with);
	bool needs_with = false;
	for (const dr_field *f = act->input ? act->input->fields : NULL; f && f->name; f++)
		needs_with |= f->required;
	if (needs_with)
		cJSON_AddItemToObject(then, "required", cJSON_CreateStringArray((const char *const[]){"with"}, 1));
	if (act->flags & DR_AF_PER_TARGET)
		json_merge(then, "{\"anyOf\":[{\"required\":[\"targets\"]},{\"required\":[\"foreach\"]}]}");
	return rule;
}

static void json_add_actions(cJSON *step)
{
	size_t n = 0;
	const dr_action *const *all = dr_action_all(&n);
	if (!all || n == 0)
		return;
	cJSON *rules = cJSON_AddArrayToObject(step, "allOf");
	cJSON *known = cJSON_CreateObject();
	cJSON *names = cJSON_AddArrayToObject(known, "enum");
	for (size_t i = 0; i < n; i++) {
		cJSON_AddItemToArray(rules, json_action_rule(all[i]));
		cJSON_AddItemToArray(names, cJSON_CreateString(all[i]->name));
	}
	cJSON *props = cJSON_GetObjectItem(step, "properties");
	cJSON *action = cJSON_GetObjectItem(props, "action");
	if (action)
		cJSON_AddItemToObject(action, "enum", cJSON_DetachItemFromObject(known, "enum"));
	cJSON_Delete(known);
}

static cJSON *json_definitions(void)
{
	cJSON *defs = cJSON_CreateObject();
	cJSON *e = cJSON_AddObjectToObject(defs, "expression");
	cJSON_AddStringToObject(e, "type", "string");
	cJSON_AddStringToObject(e, "pattern", EXPR_PATTERN);
	cJSON_AddStringToObject(e, "description", "A ${...} expression, evaluated at run time (docs/expressions.md).");
	for (size_t i = 0; i < N_NAMED; i++) {
		jctx jc = {.self = named_types[i].type, .expr_all = false};
		cJSON *d = json_type(named_types[i].type, &jc);
		if (named_types[i].type->doc)
			cJSON_AddStringToObject(d, "description", named_types[i].type->doc);
		if (named_types[i].type == &dr_schema_step)
			json_add_actions(d);
		cJSON_AddItemToObject(defs, named_types[i].name, d);
	}
	return defs;
}

/*
 * Strict validators (ajv's strictRequired) want every name a `required` lists
 * defined in the `properties` beside it, also in the if/not/oneOf branches of
 * the extras: add those as `true` (no constraint). Objects that close their
 * properties (additionalProperties: false) list their required keys already.
 */
static void json_strict_required(cJSON *node)
{
	cJSON *req = cJSON_GetObjectItemCaseSensitive(node, "required");
	if (cJSON_IsArray(req) && !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(node, "additionalProperties"))) {
		cJSON *props = cJSON_GetObjectItemCaseSensitive(node, "properties");
		if (!props)
			props = cJSON_AddObjectToObject(node, "properties");
		for (const cJSON *r = req->child; r; r = r->next)
			if (cJSON_IsString(r) && !cJSON_GetObjectItemCaseSensitive(props, r->valuestring))
				cJSON_AddTrueToObject(props, r->valuestring);
	}
	for (cJSON *c = node->child; c; c = c->next)
		if (cJSON_IsObject(c) || cJSON_IsArray(c))
			json_strict_required(c);
}

/* The whole JSON Schema document as a cJSON tree (the caller deletes it). */
static cJSON *schema_json(void)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "$schema", "http://json-schema.org/draft-07/schema#");
	cJSON_AddStringToObject(root, "title", "drover runbook, format version 1");
	cJSON_AddStringToObject(root, "description",
				"A drover disaster-recovery runbook, or a stdlib composite action file (with "
				"`composite:`). Generated by `drover schema`; the reference is docs/language.md.");
	cJSON_AddItemToObject(root, "definitions", json_definitions());
	json_merge(root, "{\"if\":{\"type\":\"object\",\"required\":[\"composite\"]},"
			 "\"then\":{\"$ref\":\"#/definitions/composite\"},"
			 "\"else\":{\"$ref\":\"#/definitions/runbook\"}}");
	json_strict_required(root);
	return root;
}

void dr_schema_print_json(FILE *out)
{
	cJSON *root = schema_json();
	char *s = cJSON_Print(root);
	fputs(s, out);
	fputc('\n', out);
	cJSON_free(s);
	cJSON_Delete(root);
}

/* ---- Markdown ----------------------------------------------------------- */

static void md_type(dr_buf *b, const dr_type *t, bool link);

static void md_bounds(dr_buf *b, const dr_type *t)
{
	if (t->min >= t->max)
		return;
	char lo[32], hi[32];
	if (t->kind == DR_T_DURATION) {
		dr_text_format_duration(t->min, lo, sizeof lo);
		dr_text_format_duration(t->max, hi, sizeof hi);
	} else {
		snprintf(lo, sizeof lo, "%lld", (long long)t->min);
		snprintf(hi, sizeof hi, "%lld", (long long)t->max);
	}
	if (t->max == UNBOUNDED)
		dr_buf_printf(b, ", at least %s", lo);
	else
		dr_buf_printf(b, ", %s to %s", lo, hi);
}

static void md_enum(dr_buf *b, const dr_type *t)
{
	dr_buf_puts(b, "one of ");
	for (size_t i = 0; t->enum_values[i]; i++)
		dr_buf_printf(b, "%s`%s`", i ? ", " : "", t->enum_values[i]);
}

static const char *const md_scalar_names[] = {
	[DR_T_ANY] = "any value",
	[DR_T_STRING] = "string",
	[DR_T_INT] = "integer",
	[DR_T_NUMBER] = "number",
	[DR_T_BOOL] = "boolean",
	[DR_T_DURATION] = "[duration](#durations)",
	[DR_T_REGEX] = "[regex](#regular-expressions)",
	[DR_T_TIMESTAMP] = "[timestamp](#timestamps)",
	[DR_T_ID] = "[identifier](#identifiers)",
	[DR_T_PERCENT_OR_INT] = "count or percentage (`3`, `10%`)",
};

/* An anonymous mapping by its keys: "mapping `{match}`". */
static void md_map_keys(dr_buf *b, const dr_type *t)
{
	dr_buf_puts(b, "mapping `{");
	for (const dr_field *f = t->fields; f && f->name; f++)
		dr_buf_printf(b, "%s%s", f == t->fields ? "" : ", ", f->name);
	dr_buf_puts(b, "}`");
}

static void md_kind(dr_buf *b, const dr_type *t)
{
	switch (t->kind) {
	case DR_T_ENUM: md_enum(b, t); break;
	case DR_T_MAP: md_map_keys(b, t); break;
	case DR_T_DICT:
		dr_buf_puts(b, t->flags & DR_TF_KEY_ANY ? "map of key to " : "map of identifier to ");
		md_type(b, t->items, true);
		break;
	case DR_T_SEQ:
		dr_buf_puts(b, t->flags & DR_TF_NONEMPTY ? "non-empty list of " : "list of ");
		md_type(b, t->items, true);
		break;
	case DR_T_ONEOF:
		for (size_t i = 0; t->alts[i]; i++) {
			dr_buf_puts(b, i ? " or " : "");
			md_type(b, t->alts[i], true);
		}
		break;
	default:
		dr_buf_puts(b, md_scalar_names[t->kind]);
		if (t->kind == DR_T_STRING && (t->flags & DR_TF_NONEMPTY))
			dr_buf_puts(b, ", not empty");
		md_bounds(b, t);
		break;
	}
}

static void md_type(dr_buf *b, const dr_type *t, bool link)
{
	const char *name = type_name(t);
	if (link && name)
		dr_buf_printf(b, "[%s](#%s)", name, name);
	else if (t == &t_backend)
		dr_buf_puts(b, "[backend-sim](#backend-sim) or [backend-azure](#backend-azure)");
	else if (t == &t_version)
		dr_buf_puts(b, "`1`");
	else
		md_kind(b, t);
	if ((t->flags & DR_TF_EXPR) && t->kind == DR_T_STRING)
		dr_buf_puts(b, ", may use `${…}`");
	else if (t->flags & DR_TF_EXPR)
		dr_buf_puts(b, " or `${…}`");
}

/* Table cells: no newlines, and a | would end the cell. */
static void md_cell(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputs("\\|", out);
		else
			fputc(*s == '\n' ? ' ' : *s, out);
	}
}

static void md_section(FILE *out, const char *name, const dr_type *t)
{
	fprintf(out, "### %s\n\n", name);
	if (t->doc)
		fprintf(out, "%s\n\n", t->doc);
	fputs("| Key | Type | Default | Description |\n|---|---|---|---|\n", out);
	for (const dr_field *f = t->fields; f && f->name; f++) {
		dr_buf b;
		dr_buf_init(&b);
		md_type(&b, f->type, true);
		fprintf(out, "| `%s`%s | ", f->name, f->required ? " **(required)**" : "");
		md_cell(out, b.data);
		fputs(" | ", out);
		if (f->default_text) {
			fputc('`', out);
			md_cell(out, f->default_text);
			fputc('`', out);
		}
		fputs(" | ", out);
		md_cell(out, f->doc ? f->doc : "");
		fputs(" |\n", out);
		dr_buf_dispose(&b);
	}
	fputc('\n', out);
}

void dr_schema_print_markdown(FILE *out)
{
	fputs("<!-- generated by dr_schema_print_markdown (interpreter/front/schema.c); do not edit -->\n\n", out);
	for (size_t i = 0; i < N_NAMED; i++)
		md_section(out, named_types[i].name, named_types[i].type);
}
