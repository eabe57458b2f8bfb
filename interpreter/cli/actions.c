/*
 * actions.c - `drover actions`: list the action table, or show one action's
 * inputs, flags and outputs.
 */
#include <getopt.h>
#include <string.h>

#include "actions/action.h"
#include "cli/cli.h"
#include "util/text.h"

static int actions_main(int argc, char **argv);

const dr_command dr_cmd_actions = {
	.name = "actions",
	.summary = "List the actions steps can use, or describe one.",
	.usage = "[--format text|markdown] [NAME]",
	.help = "Options:\n"
		"  -f, --format FMT   text (default) or markdown (docs/actions.md is this output)\n"
		"  -h, --help         show this help\n",
	.main = actions_main,
};

static const char *type_name(const dr_type *t)
{
	static const char *const names[] = {
		[DR_T_ANY] = "any", [DR_T_STRING] = "string", [DR_T_INT] = "integer", [DR_T_NUMBER] = "number",
		[DR_T_BOOL] = "boolean", [DR_T_DURATION] = "duration", [DR_T_ENUM] = "enum", [DR_T_REGEX] = "regex",
		[DR_T_TIMESTAMP] = "timestamp", [DR_T_ID] = "id", [DR_T_PERCENT_OR_INT] = "count or percent",
		[DR_T_MAP] = "map", [DR_T_DICT] = "map", [DR_T_SEQ] = "list", [DR_T_ONEOF] = "one of",
	};
	return t && t->kind < sizeof names / sizeof names[0] ? names[t->kind] : "?";
}

static void describe(const dr_action *a)
{
	printf("%s - %s\n", a->name, a->summary ? a->summary : "");
	if (a->undo)
		printf("  undo: %s\n", a->undo);
	if (a->input && a->input->fields) {
		printf("  inputs:\n");
		for (const dr_field *f = a->input->fields; f->name; f++)
			printf("    %-16s %-10s %s%s%s%s\n", f->name, type_name(f->type), f->required ? "(required) " : "",
			       f->default_text ? "(default " : "", f->default_text ? f->default_text : "",
			       f->default_text ? ") " : "");
	}
	if (a->outputs_doc)
		printf("  outputs: %s\n", a->outputs_doc);
}

static int one_option(void *ctx, int c, const char *arg)
{
	bool *markdown = ctx;
	(void)c; /* only --format */
	if (strcmp(arg, "markdown") && strcmp(arg, "text"))
		return dr_cli_usage_error(&dr_cmd_actions, "--format '%s': expected text or markdown", arg);
	*markdown = strcmp(arg, "markdown") == 0;
	return -1;
}

static int actions_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"format", required_argument, NULL, 'f'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	bool markdown = false;
	int rc = dr_cli_parse(&dr_cmd_actions, argc, argv, "f:h", longopts, one_option, &markdown);
	if (rc >= 0)
		return rc;
	if (argc - optind > 1)
		return dr_cli_usage_error(&dr_cmd_actions, "one action at a time ('%s' is extra)", argv[optind + 1]);
	if (markdown) {
		dr_action_print_markdown(stdout);
		return DR_EXIT_OK;
	}
	size_t n;
	const dr_action *const *all = dr_action_all(&n);
	if (optind < argc) {
		const dr_action *a = dr_action_find(argv[optind]);
		if (!a) {
			const char *near = dr_text_suggest(argv[optind], dr_action_names());
			fprintf(stderr, "drover actions: unknown action '%s'%s%s%s\n", argv[optind],
				near ? "; did you mean '" : "", near ? near : "", near ? "'?" : "");
			return DR_EXIT_INVALID;
		}
		describe(a);
		return DR_EXIT_OK;
	}
	for (size_t i = 0; i < n; i++)
		printf("  %-24s %s\n", all[i]->name, all[i]->summary ? all[i]->summary : "");
	return DR_EXIT_OK;
}
