/*
 * graph.c - `drover graph`: print the step graph as Mermaid (renders in pull
 * requests), DOT (for `dot -Tsvg`) or JSON.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "plan.h"
#include "runbook.h"

static int graph_main(int argc, char **argv);

const dr_command dr_cmd_graph = {
	.name = "graph",
	.summary = "Print a runbook's step graph.",
	.usage = "[--format mermaid|dot|json] [--stdlib DIR] FILE",
	.help = "Options:\n"
		"  -f, --format FMT   mermaid (default), dot or json\n"
		"      --stdlib DIR   where use: finds composite actions\n"
		"  -h, --help         show this help\n"
		"\nThe runbook must be valid; otherwise its diagnostics are printed and the exit status is 2.\n"
		"Example: drover graph --format dot runbook.yaml | dot -Tsvg > plan.svg\n",
	.main = graph_main,
};

static bool parse_format(const char *s, dr_graph_format *out)
{
	static const struct { const char *name; dr_graph_format fmt; } formats[] = {
		{"mermaid", DR_GRAPH_MERMAID}, {"dot", DR_GRAPH_DOT}, {"json", DR_GRAPH_JSON},
	};
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (strcmp(s, formats[i].name) == 0) {
			*out = formats[i].fmt;
			return true;
		}
	return false;
}

static int graph_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"format", required_argument, NULL, 'f'}, {"stdlib", required_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	dr_graph_format fmt = DR_GRAPH_MERMAID;
	const char *stdlib = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (!parse_format(optarg, &fmt))
				return dr_cli_usage_error(&dr_cmd_graph, "unknown format '%s' (mermaid, dot or json)", optarg);
			break;
		case 'S': stdlib = optarg; break;
		case 'h': dr_cli_print_help(&dr_cmd_graph, stdout); return DR_EXIT_OK;
		default: return dr_cli_usage_error(&dr_cmd_graph, "unrecognised option");
		}
	}
	if (argc - optind != 1)
		return dr_cli_usage_error(&dr_cmd_graph, "expected exactly one runbook");
	dr_diags *d = dr_diags_new();
	dr_runbook *rb = dr_runbook_compile(argv[optind], d, dr_cli_stdlib_dir(stdlib));
	dr_diags_render_text(d, stderr, dr_cli_use_color(stderr));
	int rc = DR_EXIT_INVALID;
	if (rb && dr_diags_errors(d) == 0) {
		dr_plan_print_graph(rb->plan, fmt, stdout);
		rc = DR_EXIT_OK;
	}
	dr_runbook_free(rb);
	dr_diags_free(d);
	return rc;
}
