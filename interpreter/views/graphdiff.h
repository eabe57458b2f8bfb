/*
 * graphdiff.h - `drover graph --diff OLD NEW`: the step graph of NEW with
 * what changed since OLD marked, for reviewing a runbook's pull request.
 *
 * Steps are matched by id after use: expansion ("db.up"). A step only NEW
 * has is added; one only OLD has is removed and stays in the picture, drawn
 * where it was; one both have is changed when anything it does differs,
 * and the diff names what: "action", "with.port" (one name per with: key),
 * "inputs.port" (a composite input that the step reads, set by its use
 * step's with:), "targets", "pipeline", "when", "retry", "timeout",
 * "attempt_timeout", "concurrency", "order", "max_failures", "on_failure",
 * "rollback", "finally" (moved in or out of finally:), "name",
 * "description". Fields are compared on the checked model (so `5m` and
 * `300s` are the same timeout, and what a step inherits from its use step
 * counts); dynamic values (with:, when:, inputs) as YAML trees, ignoring
 * comments, key order and quoting that does not change a scalar's type.
 * needs: is not a field: its changes are the added and removed edges.
 * retry is the policy a step runs with (run/retry.h dr_retry_of_step), not
 * only what is written: adding or removing a dr.* step's retry: swaps it
 * for or from the built-in one, and a changed defaults.retry changes every
 * step that inherits it; the diff says what the policy was and becomes.
 * Edges are compared as (needed id, needing id) pairs.
 *
 * The diff borrows both plans (which must outlive it) and owns the rest.
 */
#ifndef DR_GRAPHDIFF_H
#define DR_GRAPHDIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "views/graph.h"
#include "front/plan.h"
#include "util/arena.h"

typedef struct dr_graphdiff_step {
	const dr_step *step; /* NEW's step; OLD's when removed */
	const dr_step *old; /* OLD's step; NULL when added */
	dr_mark mark;
	const char **fields; /* CHANGED: what changed, in the order of the list above */
	size_t n_fields;
	/* CHANGED retry: the policy each side runs with, in words ("built-in (5 attempts on throttled, delay 2s x2
	   up to 1m)", "written (3 attempts on transient, ...)", "defaults.retry (...)", "none (1 attempt)");
	   NULL when it did not change */
	const char *retry_old, *retry_new;
} dr_graphdiff_step;

typedef struct dr_graphdiff {
	dr_arena *arena; /* owns everything below */
	const dr_plan *old, *new;
	/*
	 * NEW's steps in NEW's order, each removed step of OLD after the step it
	 * followed in OLD (kept inside its use: group): main steps, then the
	 * finally steps from n_main on.
	 */
	dr_graphdiff_step *steps;
	size_t n, n_main;
	dr_graph_edge *edges; /* NEW's edges in NEW's order, then OLD's removed ones; indexes into steps */
	size_t n_edges;
	size_t added, removed, changed; /* steps */
	size_t edges_added, edges_removed;
} dr_graphdiff;

/* Compare two plans (both built without errors). Never NULL; free with dr_graphdiff_free(). */
dr_graphdiff *dr_graphdiff_new(const dr_plan *old, const dr_plan *new);

void dr_graphdiff_free(dr_graphdiff *d);

/* True when nothing changed: no step or edge added, removed or changed. */
bool dr_graphdiff_empty(const dr_graphdiff *d);

/* The entry of the step with this id (NEW's, or a removed one of OLD); NULL when neither has it. */
const dr_graphdiff_step *dr_graphdiff_find(const dr_graphdiff *d, const char *id);

/*
 * Print d to out: Mermaid or DOT (NEW's graph with the marks, removed steps
 * and edges dashed, a legend), JSON (the lists of added, removed and changed
 * steps and edges) or TEXT (one line per change, for CI logs).
 */
void dr_graphdiff_print(const dr_graphdiff *d, dr_graph_format fmt, FILE *out);

#endif
