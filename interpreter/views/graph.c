/*
 * graph.c - `drover graph`: the plan's step graph as Mermaid, DOT or JSON,
 * and the drawing of any marked view (graph.h) that `drover graph --diff`
 * also uses.
 *
 * Nodes are printed in the view's order (steps, then finally steps in a
 * group of their own; the steps a use: expanded into are grouped under the
 * use step's id); an edge runs from a needed step to the step that
 * needs it, i.e. in execution order. A node's label is its id, its action
 * and its targets, then the view's note. Irreversible steps (dr.commit) are
 * drawn in red with a heavy border, approval gates as hexagons, validations
 * with rounded ends, so a reviewer sees the point of no return and what
 * guards it. Marks (a diff's added, removed, changed) colour the fill; an
 * irreversible step keeps its heavy red border whatever its mark, and
 * removed steps and edges are dashed and grey.
 *
 * Mermaid renders in pull requests; the DOT is accepted by `dot -Tsvg` (every
 * id is quoted, so '-' and '.' in ids are fine); the JSON is for tools.
 */
#include "views/graph.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "actions/action.h"
#include "util/xalloc.h"

/* --- labels ----------------------------------------------------------- */

static const dr_action *node_action(const dr_step *s)
{
	if (s->action)
		return s->action;
	return s->action_name.name && *s->action_name.name ? dr_action_find(s->action_name.name) : NULL;
}

unsigned dr_graph_flags(const dr_step *s)
{
	const dr_action *a = node_action(s);
	return a ? a->flags : 0;
}

const char *dr_graph_id(const dr_step *s) { return s->id.name && *s->id.name ? s->id.name : "(no id)"; }

void dr_graph_action(dr_buf *b, const dr_step *s)
{
	if (s->action_name.name && *s->action_name.name)
		dr_buf_puts(b, s->action_name.name);
	else if (s->use.name)
		dr_buf_printf(b, "use: %s", s->use.name);
	else
		dr_buf_putc(b, '?');
}

/* "targets: db, web" or "foreach: db"; nothing when the step has no targets. */
static void targets_text(dr_buf *b, const dr_step *s)
{
	if (!s->n_targets)
		return;
	dr_buf_puts(b, s->foreach ? "foreach: " : "targets: ");
	for (size_t t = 0; t < s->n_targets; t++)
		dr_buf_printf(b, "%s%s", t ? ", " : "", s->targets[t].name ? s->targets[t].name : "?");
}

void dr_graph_describe(dr_buf *b, const dr_step *s, const char *sep)
{
	dr_graph_action(b, s);
	if (s->n_targets) {
		dr_buf_puts(b, sep);
		targets_text(b, s);
	}
}

/* The label's lines joined by sep: id, action, targets, the view's note. */
static void label_text(dr_buf *b, const dr_graph_node *nd, const char *sep)
{
	dr_buf_puts(b, dr_graph_id(nd->step));
	dr_buf_puts(b, sep);
	dr_graph_describe(b, nd->step, sep);
	if (nd->note) {
		dr_buf_puts(b, sep);
		dr_buf_puts(b, nd->note);
	}
}

/*
 * The end of the run of main steps from i that share i's composite (steps a
 * use: expanded into sit next to each other); just i + 1 for a plain step.
 */
static size_t group_end(const dr_graph_view *v, size_t i)
{
	const char *use = v->nodes[i].step->from_composite;
	size_t j = i + 1;
	while (use && j < v->n_main && v->nodes[j].step->from_composite &&
	       strcmp(v->nodes[j].step->from_composite, use) == 0)
		j++;
	return j;
}

/* --- marks ------------------------------------------------------------ */

/*
 * How each mark is drawn in both forms: a node's fill and border, an edge's
 * colour; removed ones dashed with grey text. The legend's lines say it in
 * words. Irreversible steps keep IRREVERSIBLE_STROKE at width 3 whatever
 * their mark.
 */
static const struct mark_style {
	const char *name; /* Mermaid class; with "irreversible_" before it for irreversible steps */
	const char *fill, *stroke, *text;
	bool dashed;
	const char *legend;
} mark_styles[] = {
	[DR_MARK_ADDED] = {"added", "#dafbe1", "#1a7f37", "#000", false, "added step\nadded edge: bold, green"},
	[DR_MARK_REMOVED] = {"removed", "#f6f8fa", "#8c959f", "#57606a", true, "removed step\nremoved edge: dashed, grey"},
	[DR_MARK_CHANGED] = {"changed", "#ddf4ff", "#0969da", "#000", false, "changed step\nchanged: what changed"},
};

#define IRREVERSIBLE_FILL "#fde2e2"
#define IRREVERSIBLE_STROKE "#c62828"
#define APPROVAL_FILL "#fff4d6"
#define APPROVAL_STROKE "#b7791f"

static const struct mark_style *mark_style(dr_mark m)
{
	return m != DR_MARK_SAME && (unsigned)m < sizeof mark_styles / sizeof mark_styles[0] ? &mark_styles[m] : NULL;
}

/* --- Mermaid ---------------------------------------------------------- */

/* Append s for a Mermaid "quoted" label: quotes and angle brackets as entities, '\n' as <br/>. */
static void mermaid_escape(dr_buf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			dr_buf_puts(b, "<br/>");
		else if (*s == '"')
			dr_buf_puts(b, "#quot;");
		else if (*s == '<')
			dr_buf_puts(b, "#lt;");
		else if (*s == '>')
			dr_buf_puts(b, "#gt;");
		else
			dr_buf_putc(b, *s);
	}
}

static void mermaid_node(FILE *out, const dr_graph_view *v, size_t i, const char *indent)
{
	const dr_graph_node *nd = &v->nodes[i];
	unsigned f = dr_graph_flags(nd->step);
	const char *open = "[\"", *close = "\"]";
	if (f & DR_AF_APPROVAL) {
		open = "{{\"";
		close = "\"}}";
	} else if (f & DR_AF_VALIDATION) {
		open = "([\"";
		close = "\"])";
	}
	dr_buf raw, esc;
	dr_buf_init(&raw);
	dr_buf_init(&esc);
	label_text(&raw, nd, "\n");
	mermaid_escape(&esc, raw.data);
	fprintf(out, "%sn%zu%s%s%s\n", indent, i, open, esc.data, close);
	dr_buf_dispose(&raw);
	dr_buf_dispose(&esc);
}

/* The mark's classDef, plain and for irreversible steps (which keep their border). */
static void mermaid_mark_classdefs(FILE *out, const struct mark_style *m)
{
	const char *dash = m->dashed ? ",stroke-dasharray: 5 5" : "";
	fprintf(out, "    classDef %s fill:%s,stroke:%s,stroke-width:2px%s,color:%s\n", m->name, m->fill, m->stroke,
		dash, m->text);
	fprintf(out, "    classDef irreversible_%s fill:%s,stroke:" IRREVERSIBLE_STROKE ",stroke-width:3px%s,color:%s\n",
		m->name, m->fill, dash, m->text);
}

/* Print the class statement of node i ("class n4 irreversible"), if it has a class. */
static void mermaid_class(FILE *out, const dr_graph_node *nd, size_t i)
{
	unsigned f = dr_graph_flags(nd->step);
	const struct mark_style *m = mark_style(nd->mark);
	if (m)
		fprintf(out, "    class n%zu %s%s\n", i, f & DR_AF_IRREVERSIBLE ? "irreversible_" : "", m->name);
	else if (f & DR_AF_IRREVERSIBLE)
		fprintf(out, "    class n%zu irreversible\n", i);
	else if (f & DR_AF_APPROVAL)
		fprintf(out, "    class n%zu approval\n", i);
}

static void mermaid_classes(FILE *out, const dr_graph_view *v)
{
	fputs("    classDef irreversible fill:" IRREVERSIBLE_FILL ",stroke:" IRREVERSIBLE_STROKE
	      ",stroke-width:3px,color:#000\n"
	      "    classDef approval fill:" APPROVAL_FILL ",stroke:" APPROVAL_STROKE ",color:#000\n",
	      out);
	for (size_t m = 0; v->legend && m < sizeof mark_styles / sizeof mark_styles[0]; m++)
		if (mark_style((dr_mark)m))
			mermaid_mark_classdefs(out, &mark_styles[m]);
	for (size_t i = 0; i < v->n; i++)
		mermaid_class(out, &v->nodes[i], i);
}

/* The legend: a group of sample nodes, one per mark and one irreversible step. */
static void mermaid_legend(FILE *out)
{
	fputs("    subgraph legend [\"legend\"]\n", out);
	for (size_t m = 0; m < sizeof mark_styles / sizeof mark_styles[0]; m++) {
		const struct mark_style *s = mark_style((dr_mark)m);
		if (!s)
			continue;
		dr_buf b;
		dr_buf_init(&b);
		mermaid_escape(&b, s->legend);
		fprintf(out, "        legend_%s[\"%s\"]\n", s->name, b.data);
		dr_buf_dispose(&b);
	}
	fputs("        legend_irreversible[\"irreversible step<br/>(heavy red border)\"]\n    end\n", out);
}

static void mermaid_legend_classes(FILE *out)
{
	for (size_t m = 0; m < sizeof mark_styles / sizeof mark_styles[0]; m++)
		if (mark_style((dr_mark)m))
			fprintf(out, "    class legend_%s %s\n", mark_styles[m].name, mark_styles[m].name);
	fputs("    class legend_irreversible irreversible\n", out);
}

/* Edges: plain, bold (==>) when added, dotted (-.->) when removed; coloured by linkStyle. */
static void mermaid_edges(FILE *out, const dr_graph_view *v)
{
	static const char *const arrows[] = {
		[DR_MARK_SAME] = "-->", [DR_MARK_ADDED] = "==>", [DR_MARK_REMOVED] = "-.->", [DR_MARK_CHANGED] = "-->",
	};
	for (size_t k = 0; k < v->n_edges; k++)
		fprintf(out, "    n%zu %s n%zu\n", v->edges[k].from, arrows[v->edges[k].mark], v->edges[k].to);
}

static void mermaid_link_styles(FILE *out, const dr_graph_view *v)
{
	for (size_t k = 0; k < v->n_edges; k++) {
		const struct mark_style *m = mark_style(v->edges[k].mark);
		if (m)
			fprintf(out, "    linkStyle %zu stroke:%s,stroke-width:%s\n", k, m->stroke,
				v->edges[k].mark == DR_MARK_ADDED ? "3px" : "2px");
	}
}

static void draw_mermaid(const dr_graph_view *v, FILE *out)
{
	fputs("flowchart TD\n", out);
	for (size_t i = 0; i < v->n_main;) {
		size_t end = group_end(v, i);
		const char *use = v->nodes[i].step->from_composite;
		if (use) {
			dr_buf b;
			dr_buf_init(&b);
			mermaid_escape(&b, use);
			fprintf(out, "    subgraph u%zu [\"use: %s\"]\n", i, b.data);
			dr_buf_dispose(&b);
		}
		for (; i < end; i++)
			mermaid_node(out, v, i, use ? "        " : "    ");
		if (use)
			fputs("    end\n", out);
	}
	if (v->n > v->n_main) {
		fputs("    subgraph finally [\"finally (always runs)\"]\n", out);
		for (size_t i = v->n_main; i < v->n; i++)
			mermaid_node(out, v, i, "        ");
		fputs("    end\n", out);
	}
	if (v->legend)
		mermaid_legend(out);
	mermaid_edges(out, v);
	mermaid_classes(out, v);
	if (v->legend) {
		mermaid_legend_classes(out);
		mermaid_link_styles(out, v);
	}
}

/* --- DOT -------------------------------------------------------------- */

/* Print s for the inside of a DOT double-quoted string; '\n' in s becomes a centred line break. */
static void dot_escape(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		if (*s == '\n')
			fputs("\\n", out);
		else
			fputc(*s, out);
	}
}

static void dot_string(FILE *out, const char *s)
{
	fputc('"', out);
	dot_escape(out, s);
	fputc('"', out);
}

/* The attributes after a node's label for an unmarked step (as `drover graph` draws it). */
static void dot_plain_attrs(FILE *out, unsigned f)
{
	if (f & DR_AF_IRREVERSIBLE)
		fputs(", style=\"filled,bold\", fillcolor=\"" IRREVERSIBLE_FILL "\", color=\"" IRREVERSIBLE_STROKE
		      "\", penwidth=3",
		      out);
	else if (f & DR_AF_APPROVAL)
		fputs(", shape=hexagon, style=filled, fillcolor=\"" APPROVAL_FILL "\", color=\"" APPROVAL_STROKE "\"", out);
	else if (f & DR_AF_VALIDATION)
		fputs(", style=rounded", out);
}

/* The attributes of a marked step: the mark's fill, its shape kept, an irreversible step's border kept. */
static void dot_marked_attrs(FILE *out, unsigned f, const struct mark_style *m)
{
	bool irreversible = f & DR_AF_IRREVERSIBLE;
	if (f & DR_AF_APPROVAL)
		fputs(", shape=hexagon", out);
	fprintf(out, ", style=\"%s%s%s\", fillcolor=\"%s\", color=\"%s\", penwidth=%d",
		(f & (DR_AF_VALIDATION | DR_AF_APPROVAL | DR_AF_IRREVERSIBLE)) == DR_AF_VALIDATION ? "rounded," : "",
		irreversible ? "filled,bold" : "filled", m->dashed ? ",dashed" : "", m->fill,
		irreversible ? IRREVERSIBLE_STROKE : m->stroke, irreversible ? 3 : 2);
	if (strcmp(m->text, "#000") != 0)
		fprintf(out, ", fontcolor=\"%s\"", m->text);
}

static void dot_node(FILE *out, const dr_graph_view *v, size_t i, const char *indent)
{
	const dr_graph_node *nd = &v->nodes[i];
	const struct mark_style *m = mark_style(nd->mark);
	dr_buf b;
	dr_buf_init(&b);
	label_text(&b, nd, "\n");
	fputs(indent, out);
	dot_string(out, dr_graph_id(nd->step));
	fputs(" [label=", out);
	dot_string(out, b.data);
	if (m)
		dot_marked_attrs(out, dr_graph_flags(nd->step), m);
	else
		dot_plain_attrs(out, dr_graph_flags(nd->step));
	fputs("];\n", out);
	dr_buf_dispose(&b);
}

static void dot_main_nodes(const dr_graph_view *v, FILE *out)
{
	for (size_t i = 0; i < v->n_main;) {
		size_t end = group_end(v, i);
		const char *use = v->nodes[i].step->from_composite;
		if (use) {
			fprintf(out, "    subgraph \"cluster_u%zu\" {\n        label=\"use: ", i);
			dot_escape(out, use);
			fputs("\";\n        style=dotted;\n", out);
		}
		for (; i < end; i++)
			dot_node(out, v, i, use ? "        " : "    ");
		if (use)
			fputs("    }\n", out);
	}
}

static void dot_finally_nodes(const dr_graph_view *v, FILE *out)
{
	if (v->n == v->n_main)
		return;
	fputs("    subgraph \"cluster_finally\" {\n"
	      "        label=\"finally (always runs)\";\n        style=dashed;\n",
	      out);
	for (size_t i = v->n_main; i < v->n; i++)
		dot_node(out, v, i, "        ");
	fputs("    }\n", out);
}

/* The legend: a cluster of sample nodes in a row (their ids have a space, so no step id can clash). */
static void dot_legend(FILE *out)
{
	fputs("    subgraph \"cluster_legend\" {\n        label=\"legend\";\n        style=dotted;\n", out);
	for (size_t m = 0; m < sizeof mark_styles / sizeof mark_styles[0]; m++) {
		const struct mark_style *s = mark_style((dr_mark)m);
		if (!s)
			continue;
		fprintf(out, "        \"legend %s\" [label=", s->name);
		dot_string(out, s->legend);
		dot_marked_attrs(out, 0, s);
		fputs("];\n", out);
	}
	fputs("        \"legend irreversible\" [label=\"irreversible step\"", out);
	dot_plain_attrs(out, DR_AF_IRREVERSIBLE);
	fputs("];\n        ", out);
	for (size_t m = 0; m < sizeof mark_styles / sizeof mark_styles[0]; m++)
		if (mark_style((dr_mark)m))
			fprintf(out, "\"legend %s\" -> ", mark_styles[m].name);
	fputs("\"legend irreversible\" [style=invis];\n        { rank=same;", out);
	for (size_t m = 0; m < sizeof mark_styles / sizeof mark_styles[0]; m++)
		if (mark_style((dr_mark)m))
			fprintf(out, " \"legend %s\";", mark_styles[m].name);
	fputs(" \"legend irreversible\"; }\n    }\n", out);
}

static void dot_edge(FILE *out, const dr_graph_view *v, const dr_graph_edge *e)
{
	const struct mark_style *m = mark_style(e->mark);
	fputs("    ", out);
	dot_string(out, dr_graph_id(v->nodes[e->from].step));
	fputs(" -> ", out);
	dot_string(out, dr_graph_id(v->nodes[e->to].step));
	if (m)
		fprintf(out, " [color=\"%s\", penwidth=%d%s]", m->stroke, e->mark == DR_MARK_ADDED ? 3 : 2,
			m->dashed ? ", style=dashed" : "");
	fputs(";\n", out);
}

/*
 * finally: runs after the last step, but has no edge from it: invisible
 * edges from every main step nothing follows to every finally step nothing
 * precedes put the cluster below the plan instead of beside its first step.
 */
static void dot_finally_rank(const dr_graph_view *v, FILE *out)
{
	if (v->n == v->n_main || v->n_main == 0)
		return;
	bool *has_out = xcalloc(v->n, sizeof *has_out), *has_in = xcalloc(v->n, sizeof *has_in);
	for (size_t k = 0; k < v->n_edges; k++) {
		has_out[v->edges[k].from] = true;
		has_in[v->edges[k].to] = true;
	}
	for (size_t i = 0; i < v->n_main; i++)
		for (size_t j = v->n_main; j < v->n && !has_out[i]; j++)
			if (!has_in[j]) {
				fputs("    ", out);
				dot_string(out, dr_graph_id(v->nodes[i].step));
				fputs(" -> ", out);
				dot_string(out, dr_graph_id(v->nodes[j].step));
				fputs(" [style=invis];\n", out);
			}
	free(has_out);
	free(has_in);
}

static void draw_dot(const dr_graph_view *v, FILE *out)
{
	fputs("digraph ", out);
	dot_string(out, v->name ? v->name : "runbook");
	fputs(" {\n"
	      "    graph [rankdir=TB, fontname=\"Helvetica\"];\n"
	      "    node [shape=box, fontname=\"Helvetica\"];\n"
	      "    edge [fontname=\"Helvetica\"];\n",
	      out);
	dot_main_nodes(v, out);
	dot_finally_nodes(v, out);
	if (v->legend)
		dot_legend(out);
	for (size_t k = 0; k < v->n_edges; k++)
		dot_edge(out, v, &v->edges[k]);
	dot_finally_rank(v, out);
	fputs("}\n", out);
}

/*
 * Draw v to out as Mermaid or DOT (see the top of this file). Each form ends
 * with a newline; other formats draw nothing.
 */
void dr_graph_draw(const dr_graph_view *v, dr_graph_format fmt, FILE *out)
{
	if (fmt == DR_GRAPH_MERMAID)
		draw_mermaid(v, out);
	else if (fmt == DR_GRAPH_DOT)
		draw_dot(v, out);
}

/* A plan as a view with nothing marked: its nodes in order, an edge per need. Free with view_dispose. */
static dr_graph_view plan_view(const dr_plan *p)
{
	size_t n_edges = 0;
	for (size_t i = 0; i < p->n; i++)
		n_edges += p->nodes[i].n_deps;
	dr_graph_node *nodes = xcalloc(p->n + 1, sizeof *nodes);
	dr_graph_edge *edges = xcalloc(n_edges + 1, sizeof *edges);
	size_t k = 0;
	for (size_t i = 0; i < p->n; i++) {
		nodes[i].step = p->nodes[i].step;
		for (size_t d = 0; d < p->nodes[i].n_deps; d++)
			edges[k++] = (dr_graph_edge){.from = p->nodes[i].deps[d], .to = i};
	}
	return (dr_graph_view){.name = p->rb && p->rb->name ? p->rb->name : NULL, .nodes = nodes, .n = p->n,
			       .n_main = p->n_main, .edges = edges, .n_edges = n_edges};
}

static void view_dispose(dr_graph_view *v)
{
	free((void *)v->nodes);
	free((void *)v->edges);
}

static void print_drawing(const dr_plan *p, dr_graph_format fmt, FILE *out)
{
	dr_graph_view v = plan_view(p);
	dr_graph_draw(&v, fmt, out);
	view_dispose(&v);
}

static void print_mermaid(const dr_plan *p, FILE *out) { print_drawing(p, DR_GRAPH_MERMAID, out); }

static void print_dot(const dr_plan *p, FILE *out) { print_drawing(p, DR_GRAPH_DOT, out); }

/* --- JSON ------------------------------------------------------------- */

static cJSON *flags_json(unsigned flags)
{
	cJSON *arr = cJSON_CreateArray();
	for (unsigned bit = 1; bit && bit <= flags; bit <<= 1)
		if ((flags & bit) && dr_action_flag_name(bit))
			cJSON_AddItemToArray(arr, cJSON_CreateString(dr_action_flag_name(bit)));
	return arr;
}

static cJSON *node_json(const dr_plan *p, size_t i)
{
	const dr_plan_node *nd = &p->nodes[i];
	const dr_step *s = nd->step;
	cJSON *o = cJSON_CreateObject();
	dr_buf b;
	dr_buf_init(&b);
	dr_graph_action(&b, s);
	cJSON_AddStringToObject(o, "id", dr_graph_id(s));
	cJSON_AddStringToObject(o, "action", b.data);
	dr_buf_dispose(&b);
	cJSON *targets = cJSON_AddArrayToObject(o, "targets");
	for (size_t t = 0; t < s->n_targets; t++)
		cJSON_AddItemToArray(targets, cJSON_CreateString(s->targets[t].name ? s->targets[t].name : "?"));
	cJSON_AddBoolToObject(o, "foreach", s->foreach);
	cJSON *needs = cJSON_AddArrayToObject(o, "needs");
	for (size_t k = 0; k < nd->n_deps; k++)
		cJSON_AddItemToArray(needs, cJSON_CreateString(dr_graph_id(p->nodes[nd->deps[k]].step)));
	cJSON_AddItemToObject(o, "flags", flags_json(dr_graph_flags(s)));
	cJSON_AddNumberToObject(o, "level", (double)nd->level);
	cJSON_AddBoolToObject(o, "finally", i >= p->n_main);
	if (s->from_composite)
		cJSON_AddStringToObject(o, "composite", s->from_composite);
	return o;
}

static void print_json(const dr_plan *p, FILE *out)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "name", p->rb && p->rb->name ? p->rb->name : "");
	cJSON_AddBoolToObject(root, "acyclic", p->acyclic);
	cJSON *nodes = cJSON_AddArrayToObject(root, "nodes");
	cJSON *edges = cJSON_AddArrayToObject(root, "edges");
	cJSON *order = cJSON_AddArrayToObject(root, "order");
	for (size_t i = 0; i < p->n; i++) {
		cJSON_AddItemToArray(nodes, node_json(p, i));
		for (size_t k = 0; k < p->nodes[i].n_deps; k++) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "from", dr_graph_id(p->nodes[p->nodes[i].deps[k]].step));
			cJSON_AddStringToObject(e, "to", dr_graph_id(p->nodes[i].step));
			cJSON_AddItemToArray(edges, e);
		}
		cJSON_AddItemToArray(order, cJSON_CreateString(dr_graph_id(p->nodes[p->order[i]].step)));
	}
	char *s = cJSON_Print(root);
	fputs(s, out);
	fputc('\n', out);
	cJSON_free(s);
	cJSON_Delete(root);
}

/* --- entry point ------------------------------------------------------ */

static void (*const printers[])(const dr_plan *, FILE *) = {
	[DR_GRAPH_MERMAID] = print_mermaid,
	[DR_GRAPH_DOT] = print_dot,
	[DR_GRAPH_JSON] = print_json,
};

/*
 * Print p's step graph to out in fmt (Mermaid, DOT or JSON; see the top of
 * this file). Each form ends with a newline. An unknown fmt prints nothing.
 */
void dr_plan_print_graph(const dr_plan *p, dr_graph_format fmt, FILE *out)
{
	if (p && (unsigned)fmt < sizeof printers / sizeof printers[0] && printers[fmt])
		printers[fmt](p, out);
}
