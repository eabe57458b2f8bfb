/*
 * diffreport.h - `drover graph --diff OLD NEW --format markdown`: a
 * pull-request comment on a runbook change (docs/ci.md).
 *
 * The comment has, in order: a heading with the runbook's name; with
 * estimates, the predicted RTO of both revisions and the change ("+4m:
 * failover-app now waits for db-up", read off NEW's critical path against
 * the diff); a table of what changed (steps added, removed and changed with
 * their fields, edges, and the runbook-level parts the step graph does not
 * show: VM sets, the recovery policy, objectives); the Mermaid diff in a
 * collapsed block. Text from runbooks sits in code spans, escaped for
 * Markdown tables (| and backticks), so no name can break the table or
 * inject markup.
 *
 * Borrows everything; writes to out only.
 */
#ifndef DR_DIFFREPORT_H
#define DR_DIFFREPORT_H

#include <stdio.h>

#include "front/runbook.h"
#include "views/graphdiff.h"

struct cJSON;

/*
 * The estimate of one revision: the plan view's "estimate" object
 * (estimate.h: rto_ms, critical_path, ...; or error), or NULL when none
 * was asked for.
 */
typedef struct dr_diffreport_input {
	const dr_graphdiff *diff;
	const dr_runbook *old, *new;
	const struct cJSON *est_old, *est_new;
} dr_diffreport_input;

/* Write the Markdown comment for in to out. */
void dr_diffreport_markdown(const dr_diffreport_input *in, FILE *out);

#endif
