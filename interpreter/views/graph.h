/*
 * graph.h - drawing a step graph as Mermaid or DOT (graph.c).
 *
 * What is drawn is a view: steps and the edges between them, each with a
 * mark. `drover graph` draws one plan, every mark DR_MARK_SAME
 * (dr_plan_print_graph, plan.h); `drover graph --diff` draws the union of
 * two plans with what was added, removed or changed marked, and a legend
 * (graphdiff.c). A view borrows everything it points to.
 */
#ifndef DR_GRAPH_H
#define DR_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "front/plan.h"
#include "util/buf.h"

typedef enum dr_mark { DR_MARK_SAME, DR_MARK_ADDED, DR_MARK_REMOVED, DR_MARK_CHANGED } dr_mark;

typedef struct dr_graph_node {
	const dr_step *step;
	dr_mark mark;
	const char *note; /* one more label line ("changed: with.port"), or NULL */
} dr_graph_node;

typedef struct dr_graph_edge {
	size_t from, to; /* indexes into the view's nodes; from runs first */
	dr_mark mark; /* SAME, ADDED or REMOVED */
} dr_graph_edge;

typedef struct dr_graph_view {
	const char *name; /* the runbook's name: DOT's graph name */
	const dr_graph_node *nodes; /* steps, then finally steps; the steps of one use: next to each other */
	size_t n, n_main; /* nodes[n_main..n) are finally steps */
	const dr_graph_edge *edges;
	size_t n_edges;
	bool legend; /* draw a legend of the marks (diffs) */
} dr_graph_view;

/* Draw v to out as Mermaid or DOT (see graph.c); other formats draw nothing. */
void dr_graph_draw(const dr_graph_view *v, dr_graph_format fmt, FILE *out);

/* The flags of s's action (DR_AF_*), 0 when it has none or is unknown. */
unsigned dr_graph_flags(const dr_step *s);

/* s's id, or "(no id)". */
const char *dr_graph_id(const dr_step *s);

/* Append s's action to b: "dr.failover", "use: tier-failover" (not expanded), or "?". */
void dr_graph_action(dr_buf *b, const dr_step *s);

/* Append s's action and targets to b, joined by sep: "dr.commit" sep "targets: db, web". */
void dr_graph_describe(dr_buf *b, const dr_step *s, const char *sep);

#endif
