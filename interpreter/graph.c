/*
 * graph.c - `drover graph`: the plan's step graph as Mermaid, DOT or JSON.
 *
 * Nodes are printed in declaration order (steps, then finally steps in a
 * group of their own; the steps a use: expanded into are grouped under the
 * use step's id); an edge runs from a needed step to the step that
 * needs it, i.e. in execution order. A node's label is its id, its action
 * and its targets. Irreversible steps (dr.commit) are drawn in red with a
 * heavy border, approval gates as hexagons, validations with rounded ends,
 * so a reviewer sees the point of no return and what guards it.
 *
 * Mermaid renders in pull requests; the DOT is accepted by `dot -Tsvg` (every
 * id is quoted, so '-' and '.' in ids are fine); the JSON is for tools.
 */
#include "plan.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "actions/action.h"
#include "util/buf.h"

/* --- labels ----------------------------------------------------------- */

static const dr_action *node_action(const dr_step *s)
{
	if (s->action)
		return s->action;
	return s->action_name.name && *s->action_name.name ? dr_action_find(s->action_name.name) : NULL;
}

static unsigned node_flags(const dr_step *s)
{
	const dr_action *a = node_action(s);
	return a ? a->flags : 0;
}

static const char *node_id(const dr_step *s) { return s->id.name && *s->id.name ? s->id.name : "(no id)"; }

/* "dr.failover", "use: tier-failover", or "?" when the step names neither. */
static void action_text(dr_buf *b, const dr_step *s)
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

/* The label's lines joined by sep: id, action, targets. */
static void label_text(dr_buf *b, const dr_step *s, const char *sep)
{
	dr_buf_puts(b, node_id(s));
	dr_buf_puts(b, sep);
	action_text(b, s);
	if (s->n_targets) {
		dr_buf_puts(b, sep);
		targets_text(b, s);
	}
}

/*
 * The end of the run of main steps from i that share i's composite (steps a
 * use: expanded into sit next to each other); just i + 1 for a plain step.
 */
static size_t group_end(const dr_plan *p, size_t i)
{
	const char *use = p->nodes[i].step->from_composite;
	size_t j = i + 1;
	while (use && j < p->n_main && p->nodes[j].step->from_composite &&
	       strcmp(p->nodes[j].step->from_composite, use) == 0)
		j++;
	return j;
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

static void mermaid_node(FILE *out, const dr_plan *p, size_t i, const char *indent)
{
	const dr_step *s = p->nodes[i].step;
	unsigned f = node_flags(s);
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
	label_text(&raw, s, "\n");
	mermaid_escape(&esc, raw.data);
	fprintf(out, "%sn%zu%s%s%s\n", indent, i, open, esc.data, close);
	dr_buf_dispose(&raw);
	dr_buf_dispose(&esc);
}

static void mermaid_classes(FILE *out, const dr_plan *p)
{
	fputs("    classDef irreversible fill:#fde2e2,stroke:#c62828,stroke-width:3px,color:#000\n"
	      "    classDef approval fill:#fff4d6,stroke:#b7791f,color:#000\n",
	      out);
	for (size_t i = 0; i < p->n; i++) {
		unsigned f = node_flags(p->nodes[i].step);
		if (f & DR_AF_IRREVERSIBLE)
			fprintf(out, "    class n%zu irreversible\n", i);
		else if (f & DR_AF_APPROVAL)
			fprintf(out, "    class n%zu approval\n", i);
	}
}

static void print_mermaid(const dr_plan *p, FILE *out)
{
	fputs("flowchart TD\n", out);
	for (size_t i = 0; i < p->n_main;) {
		size_t end = group_end(p, i);
		const char *use = p->nodes[i].step->from_composite;
		if (use) {
			dr_buf b;
			dr_buf_init(&b);
			mermaid_escape(&b, use);
			fprintf(out, "    subgraph u%zu [\"use: %s\"]\n", i, b.data);
			dr_buf_dispose(&b);
		}
		for (; i < end; i++)
			mermaid_node(out, p, i, use ? "        " : "    ");
		if (use)
			fputs("    end\n", out);
	}
	if (p->n > p->n_main) {
		fputs("    subgraph finally [\"finally (always runs)\"]\n", out);
		for (size_t i = p->n_main; i < p->n; i++)
			mermaid_node(out, p, i, "        ");
		fputs("    end\n", out);
	}
	for (size_t i = 0; i < p->n; i++)
		for (size_t k = 0; k < p->nodes[i].n_deps; k++)
			fprintf(out, "    n%zu --> n%zu\n", p->nodes[i].deps[k], i);
	mermaid_classes(out, p);
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

static void dot_node(FILE *out, const dr_plan *p, size_t i, const char *indent)
{
	const dr_step *s = p->nodes[i].step;
	unsigned f = node_flags(s);
	dr_buf b;
	dr_buf_init(&b);
	label_text(&b, s, "\n");
	fputs(indent, out);
	dot_string(out, node_id(s));
	fputs(" [label=", out);
	dot_string(out, b.data);
	if (f & DR_AF_IRREVERSIBLE)
		fputs(", style=\"filled,bold\", fillcolor=\"#fde2e2\", color=\"#c62828\", penwidth=3", out);
	else if (f & DR_AF_APPROVAL)
		fputs(", shape=hexagon, style=filled, fillcolor=\"#fff4d6\", color=\"#b7791f\"", out);
	else if (f & DR_AF_VALIDATION)
		fputs(", style=rounded", out);
	fputs("];\n", out);
	dr_buf_dispose(&b);
}

static void dot_main_nodes(const dr_plan *p, FILE *out)
{
	for (size_t i = 0; i < p->n_main;) {
		size_t end = group_end(p, i);
		const char *use = p->nodes[i].step->from_composite;
		if (use) {
			fprintf(out, "    subgraph \"cluster_u%zu\" {\n        label=\"use: ", i);
			dot_escape(out, use);
			fputs("\";\n        style=dotted;\n", out);
		}
		for (; i < end; i++)
			dot_node(out, p, i, use ? "        " : "    ");
		if (use)
			fputs("    }\n", out);
	}
}

static void dot_finally_nodes(const dr_plan *p, FILE *out)
{
	if (p->n == p->n_main)
		return;
	fputs("    subgraph \"cluster_finally\" {\n"
	      "        label=\"finally (always runs)\";\n        style=dashed;\n",
	      out);
	for (size_t i = p->n_main; i < p->n; i++)
		dot_node(out, p, i, "        ");
	fputs("    }\n", out);
}

static void print_dot(const dr_plan *p, FILE *out)
{
	fputs("digraph ", out);
	dot_string(out, p->rb && p->rb->name ? p->rb->name : "runbook");
	fputs(" {\n"
	      "    graph [rankdir=TB, fontname=\"Helvetica\"];\n"
	      "    node [shape=box, fontname=\"Helvetica\"];\n"
	      "    edge [fontname=\"Helvetica\"];\n",
	      out);
	dot_main_nodes(p, out);
	dot_finally_nodes(p, out);
	for (size_t i = 0; i < p->n; i++)
		for (size_t k = 0; k < p->nodes[i].n_deps; k++) {
			fputs("    ", out);
			dot_string(out, node_id(p->nodes[p->nodes[i].deps[k]].step));
			fputs(" -> ", out);
			dot_string(out, node_id(p->nodes[i].step));
			fputs(";\n", out);
		}
	fputs("}\n", out);
}

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
	action_text(&b, s);
	cJSON_AddStringToObject(o, "id", node_id(s));
	cJSON_AddStringToObject(o, "action", b.data);
	dr_buf_dispose(&b);
	cJSON *targets = cJSON_AddArrayToObject(o, "targets");
	for (size_t t = 0; t < s->n_targets; t++)
		cJSON_AddItemToArray(targets, cJSON_CreateString(s->targets[t].name ? s->targets[t].name : "?"));
	cJSON_AddBoolToObject(o, "foreach", s->foreach);
	cJSON *needs = cJSON_AddArrayToObject(o, "needs");
	for (size_t k = 0; k < nd->n_deps; k++)
		cJSON_AddItemToArray(needs, cJSON_CreateString(node_id(p->nodes[nd->deps[k]].step)));
	cJSON_AddItemToObject(o, "flags", flags_json(node_flags(s)));
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
			cJSON_AddStringToObject(e, "from", node_id(p->nodes[p->nodes[i].deps[k]].step));
			cJSON_AddStringToObject(e, "to", node_id(p->nodes[i].step));
			cJSON_AddItemToArray(edges, e);
		}
		cJSON_AddItemToArray(order, cJSON_CreateString(node_id(p->nodes[p->order[i]].step)));
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
