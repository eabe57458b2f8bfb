/*
 * main.c - drover's entry point: global options and the command table.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "config.h"
#include "util/text.h"


static const dr_command *const commands[] = {
	/* check and look */
	&dr_cmd_validate,
	&dr_cmd_graph,
	&dr_cmd_plan,
	/* run */
	&dr_cmd_run,
	&dr_cmd_drill,
	&dr_cmd_failback,
	&dr_cmd_approve,
	/* after a run */
	&dr_cmd_resume,
	&dr_cmd_runs,
	&dr_cmd_status,
	&dr_cmd_report,
	/* reference and tools */
	&dr_cmd_actions,
	&dr_cmd_schema,
	&dr_cmd_sim,
	&dr_cmd_emulator,
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void print_usage(FILE *out)
{
	fputs("Usage: drover [--version] [--help] COMMAND [ARGS...]\n\n"
	      "drover runs disaster-recovery runbooks: YAML plans that fail VMs over, validate them,\n"
	      "commit and reprotect, checked like a compiler before they touch anything.\n\n"
	      "Commands:\n",
	      out);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
	fputs("\nRun 'drover COMMAND --help' for a command's options; they go before or after its operands\n"
	      "('--' ends them). Manual: man drover (after make install; in a checkout: man docs/drover.1).\n",
	      out);
}

static const dr_command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (strcmp(commands[i]->name, name) == 0)
			return commands[i];
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_usage(stderr);
		return DR_EXIT_INVALID;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
		const dr_command *cmd = argc > 2 ? find_command(argv[2]) : NULL;
		if (cmd)
			dr_cli_print_help(cmd, stdout);
		else
			print_usage(stdout);
		return dr_cli_finish_stdout("help", false, DR_EXIT_OK);
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("drover %s\n", DROVER_VERSION);
		return dr_cli_finish_stdout("version", false, DR_EXIT_OK);
	}
	const dr_command *cmd = find_command(argv[1]);
	if (!cmd) {
		const char *names[N_COMMANDS + 1] = {0};
		for (size_t i = 0; i < N_COMMANDS; i++)
			names[i] = commands[i]->name;
		const char *near = dr_text_suggest(argv[1], names);
		fprintf(stderr, "drover: unknown %s '%s'", argv[1][0] == '-' ? "option" : "command", argv[1]);
		if (near)
			fprintf(stderr, "; did you mean '%s'?", near);
		fputs("\nRun 'drover --help' for the list of commands.\n", stderr);
		return DR_EXIT_INVALID;
	}
	return dr_cli_finish_stdout(cmd->name, cmd->journaled, cmd->main(argc - 1, argv + 1));
}
