/*
 * graph.c - `drover graph`: print the step graph as Mermaid (renders in pull
 * requests), DOT (for `dot -Tsvg`) or JSON; with --diff OLD, the graph with
 * what changed since OLD marked (graphdiff.h), also as text for CI logs.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "views/graphdiff.h"
#include "front/plan.h"
#include "front/runbook.h"

static int graph_main(int argc, char **argv);

const dr_command dr_cmd_graph = {
	.name = "graph",
	.summary = "Print a runbook's step graph, or what changed in it since another version.",
	.usage = "[--format mermaid|dot|json|text] [--diff OLD] [--stdlib DIR] FILE",
	.help = "Options:\n"
		"  -f, --format FMT   mermaid (default), dot or json; with --diff also text\n"
		"  -d, --diff OLD     FILE's graph with what changed since OLD (an earlier version) marked:\n"
		"                     added, removed (kept, dashed) and changed steps, the changed ones\n"
		"                     naming what changed (\"changed: with.port, retry\"), added and removed\n"
		"                     edges, and a legend. Steps are matched by id after use: expansion.\n"
		"                     json lists the changes; text prints one line per change\n"
		"                     (+ step, - step, ~ step: fields, + edge, - edge)\n"
		"      --stdlib DIR   where use: finds composite actions\n"
		"  -h, --help         show this help\n"
		"\nThe runbook must be valid (with --diff, both runbooks); otherwise the diagnostics are\n"
		"printed and the exit status is 2. A diff exits 0 whether or not anything changed.\n"
		"docs/graph.md describes both forms.\n"
		"Examples:\n"
		"  drover graph --format dot runbook.yaml | dot -Tsvg > plan.svg\n"
		"  git show main:./runbook.yaml > old.yaml && drover graph --diff old.yaml runbook.yaml\n",
	.main = graph_main,
};

static bool parse_format(const char *s, dr_graph_format *out)
{
	static const struct { const char *name; dr_graph_format fmt; } formats[] = {
		{"mermaid", DR_GRAPH_MERMAID}, {"dot", DR_GRAPH_DOT}, {"json", DR_GRAPH_JSON}, {"text", DR_GRAPH_TEXT},
	};
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (strcmp(s, formats[i].name) == 0) {
			*out = formats[i].fmt;
			return true;
		}
	return false;
}

/* Compile path, its diagnostics on stderr; NULL (freed) when it has errors. */
static dr_runbook *compile(const char *path, const char *stdlib)
{
	dr_diags *d = dr_diags_new();
	dr_runbook *rb = dr_runbook_compile(path, d, dr_cli_stdlib_dir(stdlib));
	dr_diags_render_text(d, stderr, dr_cli_use_color(stderr));
	if (rb && dr_diags_errors(d)) {
		dr_runbook_free(rb);
		rb = NULL;
	}
	dr_diags_free(d);
	return rb;
}

/* OLD's and NEW's diagnostics (both are always compiled), then the diff of their plans. */
static int print_diff(const char *old_path, const char *new_path, const char *stdlib, dr_graph_format fmt)
{
	dr_runbook *old = compile(old_path, stdlib);
	dr_runbook *new = compile(new_path, stdlib);
	int rc = DR_EXIT_INVALID;
	if (old && new) {
		dr_graphdiff *d = dr_graphdiff_new(old->plan, new->plan);
		dr_graphdiff_print(d, fmt, stdout);
		dr_graphdiff_free(d);
		rc = DR_EXIT_OK;
	}
	dr_runbook_free(old);
	dr_runbook_free(new);
	return rc;
}

typedef struct options {
	dr_graph_format fmt;
	const char *stdlib, *old;
} options;

static int one_option(void *ctx, int c, const char *arg)
{
	options *o = ctx;
	switch (c) {
	case 'f':
		if (!parse_format(arg, &o->fmt))
			return dr_cli_usage_error(&dr_cmd_graph, "unknown format '%s' (mermaid, dot, json or text)", arg);
		return -1;
	case 'd': o->old = arg; return -1;
	default: o->stdlib = arg; return -1;
	}
}

static int graph_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"format", required_argument, NULL, 'f'}, {"diff", required_argument, NULL, 'd'},
		{"stdlib", required_argument, NULL, 'S'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	options o = {.fmt = DR_GRAPH_MERMAID};
	int rc = dr_cli_parse(&dr_cmd_graph, argc, argv, "f:d:h", longopts, one_option, &o);
	if (rc >= 0)
		return rc;
	dr_graph_format fmt = o.fmt;
	const char *stdlib = o.stdlib, *old = o.old;
	if (argc - optind != 1)
		return dr_cli_usage_error(&dr_cmd_graph, "expected exactly one runbook");
	if (fmt == DR_GRAPH_TEXT && !old)
		return dr_cli_usage_error(&dr_cmd_graph, "--format text needs --diff");
	if (old)
		return print_diff(old, argv[optind], stdlib, fmt);
	dr_runbook *rb = compile(argv[optind], stdlib);
	if (!rb)
		return DR_EXIT_INVALID;
	dr_plan_print_graph(rb->plan, fmt, stdout);
	dr_runbook_free(rb);
	return DR_EXIT_OK;
}
