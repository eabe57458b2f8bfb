/*
 * plan.h - stage 4: the static step graph and DR ordering rules.
 *
 * Nodes are the runbook's steps (after use: expansion) plus finally steps;
 * edges are needs: and the implicit dependencies of ${steps.X...} reads.
 * The plan lives in the runbook's arena.
 */
#ifndef DR_PLAN_H
#define DR_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "front/diag.h"
#include "front/runbook.h"

typedef struct dr_plan_node {
	dr_step *step;
	size_t *deps; /* indexes of the steps this one needs */
	size_t n_deps;
	size_t *succs; /* indexes of the steps that need this one */
	size_t n_succs;
	size_t level; /* longest path from a root, for layout */
} dr_plan_node;

typedef struct dr_plan {
	const dr_runbook *rb;
	dr_plan_node *nodes; /* steps first, then finally steps */
	size_t n;
	size_t n_main; /* nodes[0..n_main) are steps:, the rest finally: */
	size_t *order; /* a topological order of nodes[0..n) (valid when acyclic) */
	bool acyclic;
} dr_plan;

/*
 * Build the graph and apply the ordering rules (DR4xx). Diagnostics go to
 * diags. Returns the plan (never NULL); when it has a cycle, acyclic is
 * false and order is partial.
 */
dr_plan *dr_plan_build(dr_runbook *rb, dr_diags *diags);

/* Index of the step with this id; (size_t)-1 when absent. */
size_t dr_plan_index(const dr_plan *p, const char *id);

/*
 * Reachability. Memory is linear in steps and needs (no n x n table): the
 * plan keeps its strongly connected components and, per node, a summary of
 * its ancestors; questions are answered by walks that these prune. The walks
 * use marks kept in the plan, so these functions are not reentrant on one
 * plan: call them from one thread at a time, and not from inside fn.
 */

/* True when step a is reachable from step b through needs (a runs before b). */
bool dr_plan_precedes(const dr_plan *p, size_t a, size_t b);

/* Called once per node reached; return false to stop the walk. */
typedef bool (*dr_plan_visit_fn)(void *ctx, size_t node);

/* Every ancestor of node i (what it needs, transitively), each once; i itself only on a cycle. O(ancestors). */
void dr_plan_each_ancestor(const dr_plan *p, size_t i, dr_plan_visit_fn fn, void *ctx);

/* Every descendant of node i (what needs it, transitively), each once; i itself only on a cycle. */
void dr_plan_each_descendant(const dr_plan *p, size_t i, dr_plan_visit_fn fn, void *ctx);

/* The OR of the action flags (DR_AF_*) of node i's ancestors, in O(1): 0 when it has none. */
unsigned dr_plan_ancestor_flags(const dr_plan *p, size_t i);

/* How a step graph is printed; TEXT is for diffs only (graphdiff.h). */
typedef enum dr_graph_format { DR_GRAPH_MERMAID, DR_GRAPH_DOT, DR_GRAPH_JSON, DR_GRAPH_TEXT } dr_graph_format;

/* Print the graph as Mermaid, DOT or JSON (graph.c; TEXT prints nothing). */
void dr_plan_print_graph(const dr_plan *p, dr_graph_format fmt, FILE *out);

#endif
