/*
 * actions/core.c - the core actions: log, sleep, fail, assert, exec, approve.
 *
 * These do not talk to the DR service. Each row gives the input schema the
 * checker applies to the step's `with:` map, the flags the planner reads,
 * and what the action returns (for docs/actions.md), and the functions that
 * run it: log, sleep, fail and assert in basic.c, approve in approve.c (all
 * inline on the scheduler thread), exec in exec_proc.c (DR_AF_BLOCKING: on a
 * worker thread).
 */
#include "actions/family.h"

#include <stddef.h>

/* --- log ------------------------------------------------------------- */

static const char *const log_levels[] = {"debug", "info", "warn", "error", NULL};
static const dr_type log_level = {.kind = DR_T_ENUM, .enum_values = log_levels};

static const dr_field log_fields[] = {
	{"message", &dr_action_t_text_req, true, NULL, "The text to write to the run's log and events."},
	{"level", &log_level, false, "info", "Severity of the log line."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type log_input = {.kind = DR_T_MAP, .fields = log_fields};

/* --- sleep ----------------------------------------------------------- */

static const dr_field sleep_fields[] = {
	{"duration", &dr_action_t_duration, true, NULL,
	 "How long to wait, e.g. 30s or 5m (on the run's clock: virtual with the sim backend)."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type sleep_input = {.kind = DR_T_MAP, .fields = sleep_fields};

/* --- fail ------------------------------------------------------------ */

static const char *const fail_classes[] = {"transient", "throttled", "timeout", "permanent", NULL};
static const dr_type fail_class = {.kind = DR_T_ENUM, .flags = DR_TF_EXPR, .enum_values = fail_classes};
static const dr_type fail_times = {.kind = DR_T_INT, .min = 0, .max = 1000000, .doc = "A number of attempts."};

static const dr_field fail_fields[] = {
	{"message", &dr_action_t_text_req, true, NULL, "The error message the step fails with."},
	{"class", &fail_class, false, "permanent",
	 "Outcome class of the failure, as matched by retry.on (permanent failures are retried only by "
	 "`on: [any]` or a matching `{match: REGEX}`)."},
	{"retry_after", &dr_action_t_duration, false, NULL,
	 "Delay the service asks for before the next attempt (as a Retry-After header would)."},
	{"times", &fail_times, false, NULL,
	 "Fail only the first N attempts of each task, then succeed (to drill retries); default: every attempt."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type fail_input = {.kind = DR_T_MAP, .fields = fail_fields};

/* --- assert ---------------------------------------------------------- */

static const dr_type assert_that = {
	.kind = DR_T_BOOL, .flags = DR_TF_EXPR, .doc = "A boolean, normally a ${...} expression."};

static const dr_field assert_fields[] = {
	{"that", &assert_that, true, NULL,
	 "The condition that must hold, e.g. `${steps.db-up.outputs.latency_ms < 50}`."},
	{"message", &dr_action_t_text, false, NULL, "The error message when the condition is false."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type assert_input = {.kind = DR_T_MAP, .fields = assert_fields};

/* --- exec ------------------------------------------------------------ */

static const dr_type exec_max_output = {
	.kind = DR_T_INT, .min = 1, .max = 64 << 20, .doc = "A size in bytes."};

static const dr_field exec_fields[] = {
	{"argv", &dr_action_t_argv, true, NULL,
	 "The program and its arguments; run directly, never through a shell."},
	{"env", &dr_action_t_env, false, NULL,
	 "Variables added to the environment drover runs with (NAME: value; a value that evaluates to null "
	 "removes the variable). "
	 "Pass secrets here, never in argv."},
	{"cwd", &dr_action_t_text, false, NULL,
	 "Working directory; relative to the directory of the file the step is written in, which is also the "
	 "default (the runbook's directory for its own steps)."},
	{"expect_exit", &dr_action_t_exit_codes, false, "0", "The exit status, or list of statuses, that counts as success."},
	{"stdout_match", &dr_action_t_regex, false, NULL, "A PCRE2 pattern standard output must match."},
	{"stderr_match", &dr_action_t_regex, false, NULL, "A PCRE2 pattern standard error must match."},
	{"retry_exit", &dr_action_t_exit_codes, false, NULL,
	 "The exit statuses that fail the attempt as transient (retried by `retry.on: [transient]`); the "
	 "other failing statuses are then permanent. Without it, any failed run of the program is transient."},
	{"timeout", &dr_action_t_duration, false, NULL,
	 "Stop the process group after this long; the attempt's deadline (attempt_timeout) applies too, the "
	 "earlier wins."},
	{"kill_grace", &dr_action_t_duration, false, "5s",
	 "On timeout or cancellation, the time between SIGTERM and SIGKILL to the process group."},
	{"max_output", &exec_max_output, false, "1048576",
	 "Bytes of each output stream kept; the rest is discarded and reported as truncated."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type exec_input = {.kind = DR_T_MAP, .fields = exec_fields};

/* --- approve --------------------------------------------------------- */

static const char *const on_timeout_values[] = {"deny", "approve", NULL};
static const dr_type approve_on_timeout = {.kind = DR_T_ENUM, .enum_values = on_timeout_values};
static const dr_type approve_approvers = {
	.kind = DR_T_SEQ, .flags = DR_TF_NONEMPTY, .items = &dr_action_t_text_req};

static const dr_field approve_fields[] = {
	{"message", &dr_action_t_text_req, true, NULL, "The question put to the approver."},
	{"timeout", &dr_action_t_duration, false, NULL,
	 "How long to wait for an answer, in real time even on the virtual clock (a person's time), whatever "
	 "defaults.timeout says (default: no limit)."},
	{"on_timeout", &approve_on_timeout, false, "deny", "The answer assumed when the timeout expires."},
	{"approvers", &approve_approvers, false, NULL,
	 "Who may answer (user names as `drover approve --as` records them); default: anyone."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type approve_input = {.kind = DR_T_MAP, .fields = approve_fields};

/* --- the rows -------------------------------------------------------- */

const dr_action dr_actions_core[] = {
	{
		.name = "log",
		.summary = "Write a message to the run's log and event stream.",
		.input = &log_input,
		.outputs_doc = "message (string): the text as written.",
		.run = dr_action_log_run,
	},
	{
		.name = "sleep",
		.summary = "Wait for a fixed time.",
		.input = &sleep_input,
		.outputs_doc = "slept_ms (number): the time waited, in milliseconds.",
		.run = dr_action_sleep_run,
		.cancel = dr_action_sleep_cancel,
	},
	{
		.name = "fail",
		.summary = "Fail the step with a given message and outcome class (for tests and guards).",
		.input = &fail_input,
		.outputs_doc = "Nothing while it fails; with `times`, once it succeeds: failed_attempts (number).",
		.run = dr_action_fail_run,
	},
	{
		.name = "assert",
		.summary = "Fail unless a condition holds; counts as a validation.",
		.input = &assert_input,
		.flags = DR_AF_VALIDATION,
		.outputs_doc = "value (bool): the condition's value (always true when the step succeeds).",
		.run = dr_action_assert_run,
	},
	{
		.name = "exec",
		.summary = "Run a local program (no shell) and check its exit status and output.",
		.input = &exec_input,
		.flags = DR_AF_BLOCKING,
		.run = dr_action_exec_run,
		.cancel = dr_action_exec_cancel,
		.outputs_doc = "exit_code (number): the exit status; signal (string or null): the signal that ended "
			       "the program, e.g. \"SIGKILL\" (then exit_code is null); stdout, stderr (string): the "
			       "captured output, at most max_output bytes each; truncated (bool); duration_ms (number).",
	},
	{
		.name = "approve",
		.summary = "Wait until a person approves (TTY prompt or `drover approve RUN STEP`), in real time.",
		.input = &approve_input,
		.flags = DR_AF_APPROVAL | DR_AF_BLOCKING,
		.outputs_doc = "approved (bool); by (string): who answered, or \"timeout\"; at (string): when, "
			       "RFC 3339; via (string): terminal, drover approve, --yes or timeout; comment (string); "
			       "waited_ms (number).",
		.run = dr_action_approve_run,
		.cancel = dr_action_approve_cancel,
	},
	{.name = NULL},
};
