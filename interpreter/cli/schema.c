/*
 * schema.c - `drover schema`: print the JSON Schema (draft-07) of runbook
 * files, generated from the same table the checker uses.
 */
#include <getopt.h>
#include <string.h>

#include "cli/cli.h"
#include "front/schema.h"

static int schema_main(int argc, char **argv);

const dr_command dr_cmd_schema = {
	.name = "schema",
	.summary = "Print the JSON Schema (draft-07) of runbook files.",
	.usage = "[--format json|markdown]",
	.help = "Options:\n"
		"  -f, --format FMT   json (default: JSON Schema draft-07) or markdown (the key reference\n"
		"                     of docs/language.md)\n"
		"  -h, --help         show this help\n"
		"\nEditors validate runbooks that start with the modeline\n"
		"  # yaml-language-server: $schema=<path or URL of docs/runbook.schema.json>\n"
		"docs/runbook.schema.json is this command's output; `make check` fails when it is stale.\n",
	.main = schema_main,
};

static int one_option(void *ctx, int c, const char *arg)
{
	bool *markdown = ctx;
	(void)c; /* only --format */
	if (strcmp(arg, "json") && strcmp(arg, "markdown"))
		return dr_cli_usage_error(&dr_cmd_schema, "--format '%s': expected json or markdown", arg);
	*markdown = strcmp(arg, "markdown") == 0;
	return -1;
}

static int schema_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"format", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	bool markdown = false;
	int rc = dr_cli_parse(&dr_cmd_schema, argc, argv, "f:h", longopts, one_option, &markdown);
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return dr_cli_usage_error(&dr_cmd_schema, "unexpected argument '%s'", argv[optind]);
	if (markdown)
		dr_schema_print_markdown(stdout);
	else
		dr_schema_print_json(stdout);
	return DR_EXIT_OK;
}
