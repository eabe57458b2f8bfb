/*
 * planview.h - `drover plan`: what a run would do, computed against the
 * backend without touching anything.
 *
 * The view binds the runbook to the items the backend protects (opened
 * read-only), resolves every VM set, picks each failed-over VM's recovery
 * point by the runbook's policy (and its fallbacks) with its age against
 * max_age, lists the operations in the order they would run (wave by wave:
 * steps of one wave may run at the same time), names what is irreversible,
 * and walks each VM through the protection state machine step by step to
 * find what would be refused. Whatever stops the run is a blocker.
 *
 * The view is one cJSON object (the JSON format prints it as is; the text
 * format is drawn from it), so both formats always say the same thing. The
 * text format's view is made without its "vm_sets", "vms", "operations" and
 * "irreversible" (dr_planview_opts.vms): each of their rows is printed from
 * the preflight the objects would be made of, the same fields read the same
 * way (test_modes compares the two).
 * docs/plan.md describes both.
 */
#ifndef DR_PLANVIEW_H
#define DR_PLANVIEW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "backends/backend.h"
#include "run/modes.h"
#include "run/preflight.h"
#include "front/runbook.h"
#include "util/buf.h"

struct cJSON;
typedef struct dr_planview_vms dr_planview_vms;

typedef struct dr_planview_opts {
	dr_run_mode mode;
	dr_be_direction direction;
	const struct cJSON *params; /* typed parameter values (dr_params_bind) */
	int64_t now_ms; /* the caller's time (Unix ms) the run would start at */
	const char *history; /* --estimate: the duration history a run would order its tasks by (history.h); NULL: none */
	const dr_point_override *point; /* --recovery-point; NULL: the runbook's policy */
	const char *backend_id; /* dr_journal_backend_id, for a saved plan */
	struct cJSON **file; /* plan -o: the plan file (planfile.h) is made here too; NULL: not wanted */
	struct dr_planview_vms **vms; /* NULL: the view holds its "vm_sets", "vms", "operations" and "irreversible";
					 else it is made without them and *vms keeps the preflight they are drawn
					 from (the text format's way) */
} dr_planview_opts;

/*
 * The plan view of rb (compiled without errors; for a drill already made
 * by dr_modes_make_drill) against be. Returns a new object (the caller
 * frees it, before rb: the view refers to rb's ids and names instead of
 * copying them; a cJSON_Duplicate of it owns its strings), or NULL with a
 * sentence in err when the backend cannot be asked (its error, verbatim).
 */
struct cJSON *dr_planview_build(const dr_runbook *rb, dr_backend *be, const dr_planview_opts *o, dr_buf *err);

/* The preflight the VMs of a view made with dr_planview_opts.vms are drawn from; v keeps it. */
const dr_preflight *dr_planview_vms_preflight(const struct dr_planview_vms *v);

/* The mode the view of v was made for. */
dr_run_mode dr_planview_vms_mode(const struct dr_planview_vms *v);

/* "exactly 2", "2 to 4", "at least 1", "at most 3": set s's expect: as the view says it, in buf; NULL: none. */
const char *dr_planview_expectation(const dr_vm_set *s, char *buf, size_t n);

/* The names of the error classes in on (DR_RETRY_ON_*), in the view's order, into names (room for 4); how many. */
size_t dr_planview_retry_classes(unsigned on, const char **names);

/* Why an irreversible operation is: the view's "irreversible" entries' "why". */
extern const char dr_planview_irreversible_why[];

/* Frees v (NULL: nothing) and the preflight it holds; the backend and the runbook are the caller's. */
void dr_planview_vms_free(struct dr_planview_vms *v);

/* True when the view has no blockers. */
bool dr_planview_runnable(const struct cJSON *view);

/*
 * The view as text for people. vms: where the view's VMs are when it was
 * made without them (dr_planview_opts.vms), else NULL: they are the view's.
 */
void dr_planview_print_text(const struct cJSON *view, const struct dr_planview_vms *vms, FILE *out);

#endif
