/*
 * actions/table.c - the action table: every family's rows in one list.
 *
 * The families (core.c, dr.c, checks.c, notify.c) each export an array of
 * rows; this file concatenates them once, in family order, and answers
 * lookups. It also holds the input types several families share, and
 * prints the Markdown reference (docs/actions.md) from the same rows, so
 * the docs cannot drift from what the checker enforces.
 */
#include "actions/family.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

/* --- shared input types ---------------------------------------------- */

const dr_type dr_action_t_text = {.kind = DR_T_STRING, .flags = DR_TF_EXPR};
const dr_type dr_action_t_text_req = {.kind = DR_T_STRING, .flags = DR_TF_EXPR | DR_TF_NONEMPTY};
const dr_type dr_action_t_url = {
	.kind = DR_T_STRING, .flags = DR_TF_EXPR | DR_TF_NONEMPTY | DR_TF_URL, .doc = "An http:// or https:// URL."};
const dr_type dr_action_t_duration = {.kind = DR_T_DURATION, .flags = DR_TF_EXPR};
const dr_type dr_action_t_bool = {.kind = DR_T_BOOL, .flags = DR_TF_EXPR};
const dr_type dr_action_t_regex = {.kind = DR_T_REGEX};
const dr_type dr_action_t_argv = {.kind = DR_T_SEQ, .flags = DR_TF_NONEMPTY, .items = &dr_action_t_text};
const dr_type dr_action_t_env = {
	.kind = DR_T_DICT, .flags = DR_TF_KEY_ANY | DR_TF_CREDENTIAL_KEYS, .items = &dr_action_t_text};
const dr_type dr_action_t_headers = {
	.kind = DR_T_DICT, .flags = DR_TF_KEY_ANY | DR_TF_CREDENTIAL_KEYS, .items = &dr_action_t_text};

static const dr_type exit_code = {.kind = DR_T_INT, .flags = DR_TF_EXPR, .min = 0, .max = 255};
static const dr_type exit_code_list = {.kind = DR_T_SEQ, .flags = DR_TF_NONEMPTY, .items = &exit_code};
static const dr_type *const exit_code_alts[] = {&exit_code, &exit_code_list, NULL};
const dr_type dr_action_t_exit_codes = {
	.kind = DR_T_ONEOF, .alts = exit_code_alts, .doc = "An exit status, or a list of them."};

/* --- the concatenated table ------------------------------------------ */

/* Families in table (and docs) order, with their section titles. */
static const struct family {
	const dr_action *rows;
	const char *title;
	const char *intro;
} families[] = {
	{dr_actions_core, "Core actions",
	 "Local actions: logging, waiting, assertions, local programs and approval gates."},
	{dr_actions_dr, "DR operations (`dr.*`)",
	 "Operations of the DR service's protection state machine, run once per VM of the step's targets. "
	 "failover -> (validate, change_recovery_point) -> commit -> reprotect; "
	 "test_failover -> (validate) -> test_cleanup.\n\n"
	 "Each operation starts one job in the service (with an idempotency key made of the run id, the task and "
	 "the attempt: `RUN/STEP[VM]/ACTION/ATTEMPT`) and follows it until it ends; the task's log says which job "
	 "and which recovery point. A refused request fails the task with the service's error verbatim (code, "
	 "message, possible causes, recommended action), classed for `retry.on`: `permanent` (the item's state "
	 "does not allow the operation, unknown point), `transient` (the item is busy, the service is unavailable) "
	 "or `throttled` (with the service's Retry-After). A job that fails fails the task with its error and the "
	 "task it failed at. A retry never starts an operation twice: when the item is busy or its state no longer "
	 "allows the operation, an earlier attempt's job is followed instead. Each mutating operation has a probe "
	 "that tells a resumed run whether it already happened (docs/execution.md, \"Probes\")."},
	{dr_actions_checks, "Checks (`check.*`)",
	 "Probes of the recovered service. Every check is a validation: a `dr.commit` must be preceded by "
	 "one covering its targets. TLS certificates are always verified; there is no option to skip that, and "
	 "plain `http://` goes to loopback addresses only. What they do at run time (the HTTP rules, time limits, "
	 "failure classes): [checks.md](checks.md)."},
	{dr_actions_notify, "Notifications (`notify.*`)",
	 "Messages to people; put them under `finally:` to send them on every path. At run time: "
	 "[checks.md](checks.md#notifywebhook)."},
};
#define N_FAMILIES (sizeof families / sizeof families[0])
#define MAX_ACTIONS 128

static const dr_action *all_rows[MAX_ACTIONS + 1];
static const char *all_names[MAX_ACTIONS + 1];
static size_t n_rows;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build(void)
{
	for (size_t f = 0; f < N_FAMILIES; f++)
		for (const dr_action *a = families[f].rows; a->name; a++) {
			if (n_rows == MAX_ACTIONS) {
				fputs("drover: internal error: too many actions (raise MAX_ACTIONS)\n", stderr);
				abort();
			}
			all_rows[n_rows] = a;
			all_names[n_rows++] = a->name;
		}
}

const dr_action *const *dr_action_all(size_t *n)
{
	pthread_once(&once, build);
	if (n)
		*n = n_rows;
	return all_rows;
}

const char *const *dr_action_names(void)
{
	pthread_once(&once, build);
	return all_names;
}

const dr_action *dr_action_find(const char *name)
{
	if (!name)
		return NULL;
	size_t n;
	const dr_action *const *rows = dr_action_all(&n);
	for (size_t i = 0; i < n; i++)
		if (strcmp(rows[i]->name, name) == 0)
			return rows[i];
	return NULL;
}

/* --- flags ----------------------------------------------------------- */

static const struct flag_info {
	unsigned flag;
	const char *name;
	const char *doc;
} flag_table[] = {
	{DR_AF_MUTATING, "mutating", "changes the protected service's state"},
	{DR_AF_IRREVERSIBLE, "irreversible", "cannot be undone; nothing rolls back across it"},
	{DR_AF_PER_TARGET, "per-target", "needs `targets:` or `foreach:`; one task per VM"},
	{DR_AF_VALIDATION, "validation", "counts as a validation of its targets before a commit"},
	{DR_AF_FAILOVER, "failover", "a failover: a commit of its targets comes after it (DR414); none in the same direction after that commit (DR413)"},
	{DR_AF_TEST_FAILOVER, "test-failover", "a test failover: needs a `dr.test_cleanup` under `finally:` (DR407)"},
	{DR_AF_TEST_CLEANUP, "test-cleanup", "cleans up a test failover"},
	{DR_AF_COMMIT, "commit", "a commit: needs a validation before it (DR405), allows reprotect (DR404)"},
	{DR_AF_REPROTECT, "reprotect", "a reprotect: needs a commit of the same targets before it (DR404)"},
	{DR_AF_APPROVAL, "approval", "waits for a person"},
	{DR_AF_SKIP_IN_DRILL, "skip-in-drill", "skipped (and reported) by `drover drill`"},
	{DR_AF_BLOCKING, "blocking", "runs on a worker thread (a process or the network)"},
	{DR_AF_BACKEND, "backend", "calls the backend; on a worker thread when the backend is remote (Azure)"},
	{DR_AF_CHANGE_POINT, "change-point", "changes a failed-over VM's recovery point: never after its commit (DR411)"},
	{DR_AF_CANCEL_FAILOVER, "cancel-failover", "undoes a failover: never after its commit (DR406, DR412)"},
};
#define N_FLAGS (sizeof flag_table / sizeof flag_table[0])

const char *dr_action_flag_name(unsigned flag)
{
	for (size_t i = 0; i < N_FLAGS; i++)
		if (flag_table[i].flag == flag)
			return flag_table[i].name;
	return NULL;
}

/* --- Markdown -------------------------------------------------------- */

/* Append s with '|' escaped, for a table cell. */
static void cell(dr_buf *b, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '|')
			dr_buf_putc(b, '\\');
		dr_buf_putc(b, *s == '\n' ? ' ' : *s);
	}
}

static void type_text(dr_buf *b, const dr_type *t);
static void type_base(dr_buf *b, const dr_type *t);

static void enum_text(dr_buf *b, const char *const *values)
{
	dr_buf_puts(b, "one of ");
	for (size_t i = 0; values && values[i]; i++)
		dr_buf_printf(b, "%s`%s`", i ? ", " : "", values[i]);
}

static void alts_text(dr_buf *b, const dr_type *const *alts)
{
	for (size_t i = 0; alts && alts[i]; i++) {
		if (i)
			dr_buf_puts(b, "; or ");
		type_text(b, alts[i]);
	}
}

static const char *const kind_names[] = {
	[DR_T_ANY] = "any value", [DR_T_STRING] = "string", [DR_T_INT] = "integer",
	[DR_T_NUMBER] = "number", [DR_T_BOOL] = "boolean", [DR_T_DURATION] = "duration",
	[DR_T_REGEX] = "regex (PCRE2)", [DR_T_TIMESTAMP] = "timestamp (RFC 3339)",
	[DR_T_ID] = "identifier", [DR_T_PERCENT_OR_INT] = "count or percentage", [DR_T_MAP] = "map",
};

static void item_text(dr_buf *b, const dr_type *items)
{
	type_base(b, items);
	if (items->flags & DR_TF_EXPR)
		dr_buf_puts(b, " (each may be `${...}`)");
}

/* A short human description of a type, without the ${...} note: "list of string". */
static void type_base(dr_buf *b, const dr_type *t)
{
	switch (t->kind) {
	case DR_T_ENUM:
		enum_text(b, t->enum_values);
		break;
	case DR_T_SEQ:
		dr_buf_puts(b, t->flags & DR_TF_NONEMPTY ? "non-empty list of " : "list of ");
		item_text(b, t->items);
		break;
	case DR_T_DICT:
		dr_buf_puts(b, "map of name to ");
		item_text(b, t->items);
		break;
	case DR_T_ONEOF:
		alts_text(b, t->alts);
		break;
	default:
		dr_buf_puts(b, kind_names[t->kind] ? kind_names[t->kind] : "value");
		if (t->kind == DR_T_INT && t->min < t->max)
			dr_buf_printf(b, " %lld..%lld", (long long)t->min, (long long)t->max);
		break;
	}
}

/* The type's description, with ", or ${...}" when the value itself may be an expression. */
static void type_text(dr_buf *b, const dr_type *t)
{
	type_base(b, t);
	if (t->kind != DR_T_SEQ && t->kind != DR_T_DICT && (t->flags & DR_TF_EXPR))
		dr_buf_puts(b, ", or `${...}`");
}

/* The MAP a field's rows nest into: the type itself, or a MAP alternative of a ONEOF. */
static const dr_type *nested_map(const dr_type *t)
{
	if (t->kind == DR_T_MAP && t->fields && t->fields[0].name)
		return t;
	for (size_t i = 0; t->kind == DR_T_ONEOF && t->alts && t->alts[i]; i++)
		if (t->alts[i]->kind == DR_T_MAP)
			return t->alts[i];
	return NULL;
}

static void field_rows(FILE *out, const dr_type *map, const char *prefix)
{
	for (const dr_field *f = map->fields; f && f->name; f++) {
		dr_buf b;
		dr_buf_init(&b);
		dr_buf_printf(&b, "| `%s%s` | ", prefix, f->name);
		type_text(&b, f->type);
		dr_buf_printf(&b, " | %s | ", f->required ? "yes" : "no");
		if (f->default_text)
			dr_buf_printf(&b, "`%s`", f->default_text);
		dr_buf_puts(&b, " | ");
		cell(&b, f->doc);
		fprintf(out, "%s |\n", b.data);
		const dr_type *sub = nested_map(f->type);
		if (sub) {
			dr_buf_reset(&b);
			dr_buf_printf(&b, "%s%s.", prefix, f->name);
			field_rows(out, sub, b.data);
		}
		dr_buf_dispose(&b);
	}
}

/* GitHub's heading anchor for "`dr.test_failover`": lower case, punctuation but - and _ dropped. */
static void anchor(FILE *out, const char *name)
{
	for (; *name; name++)
		if (isalnum((unsigned char)*name) || *name == '-' || *name == '_')
			fputc(tolower((unsigned char)*name), out);
}

static void print_flags(FILE *out, unsigned flags)
{
	if (!flags)
		return;
	fputs("- **Flags:**", out);
	const char *sep = " ";
	for (size_t i = 0; i < N_FLAGS; i++)
		if (flags & flag_table[i].flag) {
			fprintf(out, "%s%s", sep, flag_table[i].name);
			sep = ", ";
		}
	fputc('\n', out);
}

static void print_action(FILE *out, const dr_action *a)
{
	fprintf(out, "### `%s`\n\n%s\n\n", a->name, a->summary);
	print_flags(out, a->flags);
	if (a->undo) {
		fprintf(out, "- **Default undo:** [`%s`](#", a->undo);
		anchor(out, a->undo);
		fputs(")\n", out);
	}
	fprintf(out, "- **Outputs:** %s\n\n", a->outputs_doc ? a->outputs_doc : "none.");
	if (!a->input || !a->input->fields || !a->input->fields[0].name) {
		fputs("No inputs: `with:` must be absent or empty.\n\n", out);
		return;
	}
	fputs("| Input | Type | Required | Default | Description |\n|---|---|---|---|---|\n", out);
	field_rows(out, a->input, "");
	fputc('\n', out);
}

static void print_index(FILE *out)
{
	fputs("| Action | Summary |\n|---|---|\n", out);
	for (size_t f = 0; f < N_FAMILIES; f++)
		for (const dr_action *a = families[f].rows; a->name; a++) {
			fprintf(out, "| [`%s`](#", a->name);
			anchor(out, a->name);
			fprintf(out, ") | %s |\n", a->summary);
		}
	fputc('\n', out);
}

/* The planner's DR ordering rules, in the words of the flags above. */
static void print_rules(FILE *out)
{
	fputs("## Ordering rules\n\n"
	      "`drover validate` checks the step graph against the DR operations' order. \"Before\" means "
	      "through `needs:`, directly or transitively; targets are compared by VM set name, and a step "
	      "without targets stands for every VM set.\n\n"
	      "- DR404: a `dr.reprotect` must come after a `dr.commit` of each of its targets.\n"
	      "- DR405 (warning): a `dr.commit` should come after a validation (`check.*`, `dr.probe`, "
	      "`assert`) of each of its targets; `approve` is not a validation.\n"
	      "- DR406: after a commit, no step may have `on_failure: rollback`, and no `rollback:` step may "
	      "cancel or repeat the failover of committed targets (a failback after a reprotect is fine); "
	      "a run-level `on_failure: rollback` stops at the first commit (a warning).\n"
	      "- DR407: the targets of every `dr.test_failover` must be cleaned up by a `dr.test_cleanup` "
	      "under `finally:`, which runs on every path.\n"
	      "- DR408: a step may read `${steps.X.outputs...}` or `${steps.X.status}` only when it needs X "
	      "(directly or transitively); a `finally:` step may read any step under `steps:`.\n"
	      "- DR409: with `pipeline: true`, every needed step must target each of the step's VM sets.\n"
	      "- DR410: `finally:` steps run after every step has ended, so `needs:` never links a step under "
	      "`steps:` with one under `finally:`.\n"
	      "- DR411, DR412, DR413 (the commit barrier): after the commit of a VM set, no step (nor `rollback:` "
	      "step, nor `finally:` step) changes its recovery point (DR411), cancels its failover (DR412) or "
	      "fails it over again in the same direction (DR413; a failover that writes another `with: "
	      "direction` is a failback and opens the set again). A step with `when:` is not judged: its "
	      "condition may be the commit's status.\n"
	      "- DR414: a `dr.commit` comes after the `dr.failover` of each of its targets that the runbook "
	      "fails over (a runbook of commits only, after a failover run, is fine).\n\n",
	      out);
}

static void print_flag_legend(FILE *out)
{
	fputs("## Flags\n\nThe planner and `drover drill` read these; they are listed under each action.\n\n"
	      "| Flag | Meaning |\n|---|---|\n",
	      out);
	for (size_t i = 0; i < N_FLAGS; i++)
		fprintf(out, "| %s | %s |\n", flag_table[i].name, flag_table[i].doc);
	fputc('\n', out);
}

void dr_action_print_markdown(FILE *out)
{
	fputs("# Actions\n\n"
	      "<!-- Generated from the action table (interpreter/actions/*.c) by "
	      "`drover actions --format markdown`. Do not edit by hand. -->\n\n"
	      "Every step names one action (`action: NAME`) and gives its inputs under `with:`. The inputs "
	      "are checked against the schemas below when the runbook is validated: unknown keys, missing "
	      "required keys and wrong types are diagnostics. Where the type says `${...}`, the value may be "
	      "an expression evaluated at run time. A step's outputs are read by later steps as "
	      "`${steps.ID.outputs.NAME}` (the reading step must need the step it reads, DR408).\n\n",
	      out);
	print_index(out);
	print_flag_legend(out);
	print_rules(out);
	for (size_t f = 0; f < N_FAMILIES; f++) {
		fprintf(out, "## %s\n\n%s\n\n", families[f].title, families[f].intro);
		for (const dr_action *a = families[f].rows; a->name; a++)
			print_action(out, a);
	}
}
