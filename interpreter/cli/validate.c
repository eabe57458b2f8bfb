/*
 * validate.c - `drover validate`: run the front end over runbooks and print
 * every diagnostic, like a compiler, or in a form a CI system reads (JSON,
 * GitHub workflow annotations, SARIF 2.1.0; docs/ci.md). Exit 0 when all
 * files are valid (warnings allowed), 2 when any has an error.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "backends/sim.h"
#include "cli/cli.h"
#include "config.h"
#include "front/plan.h"
#include "front/runbook.h"

static int validate_main(int argc, char **argv);

const dr_command dr_cmd_validate = {
	.name = "validate",
	.summary = "Check runbooks: YAML, schema, expressions, the step graph and DR ordering rules.",
	.usage = "[--format text|json|github|sarif] [--stdlib DIR] [--quiet] FILE...",
	.help = "Options:\n"
		"  -f, --format FMT   text (default; diagnostics on stderr), json (one array on stdout),\n"
		"                     github (GitHub Actions annotations on stdout: ::error file=...,line=...)\n"
		"                     or sarif (one SARIF 2.1.0 log on stdout, for code scanning)\n"
		"      --stdlib DIR   where use: finds composite actions (default: $DROVER_STDLIB, then the\n"
		"                     checkout's or installed stdlib)\n"
		"  -q, --quiet        print nothing for valid files\n"
		"  -h, --help         show this help\n"
		"\nA valid file prints 'FILE: ok (N steps, M VM sets)', or 'FILE: valid, 1 warning (...)' when it has\n"
		"warnings; the last line counts what was found ('2 errors, 1 warning').\n"
		"Exit status: 0 valid (warnings allowed), 2 invalid (or a usage error).\n"
		"Text diagnostics look like  path:line:col: error: message [DRnnn]  followed by the source\n"
		"line and a caret; colour only on a terminal and never when NO_COLOR is set.\n"
		"docs/ci.md shows the github and sarif forms in pull-request workflows.\n",
	.main = validate_main,
};

typedef enum format { FMT_TEXT, FMT_JSON, FMT_GITHUB, FMT_SARIF } format;

static const char *const format_names[] = {"text", "json", "github", "sarif"};

typedef struct options {
	format fmt;
	bool quiet;
	const char *stdlib;
} options;

static bool parse_format(const char *s, format *out)
{
	for (size_t i = 0; i < sizeof format_names / sizeof format_names[0]; i++)
		if (strcmp(s, format_names[i]) == 0) {
			*out = (format)i;
			return true;
		}
	return false;
}

static int one_option(void *ctx, int c, const char *arg)
{
	options *o = ctx;
	switch (c) {
	case 'f':
		if (!parse_format(arg, &o->fmt))
			return dr_cli_usage_error(&dr_cmd_validate, "unknown format '%s' (text, json, github or sarif)", arg);
		return -1;
	case 'S': o->stdlib = arg; return -1;
	default: o->quiet = true; return -1;
	}
}

static int parse_options(int argc, char **argv, options *o)
{
	static const struct option longopts[] = {
		{"format", required_argument, NULL, 'f'}, {"stdlib", required_argument, NULL, 'S'},
		{"quiet", no_argument, NULL, 'q'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	int rc = dr_cli_parse(&dr_cmd_validate, argc, argv, "f:qh", longopts, one_option, o);
	if (rc >= 0)
		return rc;
	if (optind >= argc)
		return dr_cli_usage_error(&dr_cmd_validate, "no runbook given");
	return -1;
}

/*
 * The simulator's own options as a run reads them (its inventory file, its fault spec): a missing inventory is
 * DR901 here, not at the run. A backend of inline vms: alone has nothing outside the runbook to read: not opened
 * (opening one of 10,000 VMs cost validate more than a third of its time).
 */
static void check_sim(const dr_runbook *rb, const char *path, dr_diags *d, size_t errors_before)
{
	if (!rb || rb->is_composite || rb->backend.kind != DR_BACKEND_SIM || dr_diags_errors(d) > errors_before)
		return;
	if (!dr_node_get(rb->backend.node, "inventory") && !dr_node_get(rb->backend.node, "faults"))
		return;
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, (size_t)(slash - path)) : NULL;
	dr_sim_check(rb->backend.node, dir ? dir : ".", d);
	free(dir);
}

/* "ok (10 steps, 3 VM sets)": "ok" only without warnings, else "valid, 1 warning (...)". */
static void summarise_valid(const dr_runbook *rb, const char *path, size_t warnings)
{
	size_t n = rb->n_steps + rb->n_finally;
	if (warnings)
		printf("%s: valid, %zu warning%s ", path, warnings, warnings == 1 ? "" : "s");
	else
		printf("%s: ok ", path);
	if (rb->is_composite)
		printf("(composite '%s', %zu step%s)\n", rb->composite_name ? rb->composite_name : "?", n,
		       n == 1 ? "" : "s");
	else
		printf("(%zu step%s, %zu VM set%s)\n", n, n == 1 ? "" : "s", rb->n_vm_sets, rb->n_vm_sets == 1 ? "" : "s");
}

/* The last line: "2 errors, 1 warning", "1 warning"; nothing when there is neither. */
static void print_counts(size_t errors, size_t warnings)
{
	if (errors)
		fprintf(stderr, "%zu error%s%s", errors, errors == 1 ? "" : "s", warnings ? ", " : "\n");
	if (warnings)
		fprintf(stderr, "%zu warning%s\n", warnings, warnings == 1 ? "" : "s");
}

static int validate_main(int argc, char **argv)
{
	options o = {0};
	int rc = parse_options(argc, argv, &o);
	if (rc >= 0)
		return rc;
	const char *stdlib = dr_cli_stdlib_dir(o.stdlib);
	dr_diags *all = dr_diags_new();
	size_t errors = 0, warnings = 0;
	bool text = o.fmt == FMT_TEXT;
	for (int i = optind; i < argc; i++) {
		dr_diags *d = text ? dr_diags_new() : all;
		size_t before = dr_diags_errors(d), wbefore = dr_diags_warnings(d);
		dr_runbook *rb = dr_runbook_compile(argv[i], d, stdlib);
		check_sim(rb, argv[i], d, before);
		size_t mine = dr_diags_errors(d) - before, mine_w = dr_diags_warnings(d) - wbefore;
		errors += mine;
		warnings += mine_w;
		if (text) {
			dr_diags_render_text(d, stderr, dr_cli_use_color(stderr));
			if (!mine && rb && !o.quiet)
				summarise_valid(rb, argv[i], mine_w);
			dr_diags_free(d);
		}
		dr_runbook_free(rb);
	}
	if (o.fmt == FMT_JSON)
		dr_diags_render_json(all, stdout);
	else if (o.fmt == FMT_GITHUB)
		dr_diags_render_github(all, stdout);
	else if (o.fmt == FMT_SARIF)
		dr_diags_render_sarif(all, DROVER_VERSION, stdout);
	if (o.fmt != FMT_JSON && o.fmt != FMT_SARIF && (errors || (warnings && !o.quiet)))
		print_counts(errors, warnings);
	dr_diags_free(all);
	return errors ? DR_EXIT_INVALID : DR_EXIT_OK;
}
