/*
 * action.h - the action table: every action a step can name is one row.
 *
 * A row gives the action's name, its input schema (the `with:` map, checked
 * by the same code as the rest of the runbook), its flags, and what it does.
 * Execution fields (exec, probe, undo) are filled in by the executor's issue;
 * the checker and planner only read names, schemas and flags.
 */
#ifndef DR_ACTION_H
#define DR_ACTION_H

#include <stdbool.h>
#include <stddef.h>

#include "schema.h"

/* What the planner needs to know about an action (DR ordering rules). */
enum {
	DR_AF_MUTATING = 1u << 0, /* changes the protected service's state */
	DR_AF_IRREVERSIBLE = 1u << 1, /* nothing can be undone across it (commit) */
	DR_AF_PER_TARGET = 1u << 2, /* needs targets: one task per VM */
	DR_AF_VALIDATION = 1u << 3, /* checks health; counts as validation before commit */
	DR_AF_FAILOVER = 1u << 4, /* dr.failover */
	DR_AF_TEST_FAILOVER = 1u << 5, /* dr.test_failover */
	DR_AF_TEST_CLEANUP = 1u << 6, /* dr.test_cleanup */
	DR_AF_COMMIT = 1u << 7, /* dr.commit */
	DR_AF_REPROTECT = 1u << 8, /* dr.reprotect */
	DR_AF_APPROVAL = 1u << 9, /* approve */
	DR_AF_SKIP_IN_DRILL = 1u << 10, /* skipped (and reported) by `drover drill` */
};

typedef struct dr_action {
	const char *name; /* "dr.failover" */
	const char *summary; /* one line, for docs and --help */
	const dr_type *input; /* a MAP type: the `with:` schema; NULL for no inputs */
	unsigned flags;
	const char *undo; /* name of the default undo action, or NULL */
	const char *outputs_doc; /* what the action returns, for docs */
} dr_action;

/* Look up an action by name; NULL when unknown. */
const dr_action *dr_action_find(const char *name);

/* Every action, in table order; *n gets the count. */
const dr_action *const *dr_action_all(size_t *n);

/* The NULL-terminated list of all action names (for suggestions). */
const char *const *dr_action_names(void);

/* The lower-case name of one DR_AF_* flag ("irreversible"); NULL for anything else. */
const char *dr_action_flag_name(unsigned flag);

/* The action reference (docs/actions.md) as Markdown, generated from the table. */
#include <stdio.h>
void dr_action_print_markdown(FILE *out);

#endif
