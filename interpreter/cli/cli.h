/*
 * cli.h - the command-line interface: one file per command, one table.
 *
 * Each command is a row: name, one-line summary, usage, a help text and its
 * entry point, which returns the process exit status (see docs/drover.1):
 * 0 success, 1 run failed or plan blocked, 2 invalid runbook or usage,
 * 3 internal error, 4 cancelled.
 */
#ifndef DR_CLI_H
#define DR_CLI_H

#include <stdbool.h>
#include <stdio.h>

enum { DR_EXIT_OK = 0, DR_EXIT_FAILED = 1, DR_EXIT_INVALID = 2, DR_EXIT_INTERNAL = 3, DR_EXIT_CANCELLED = 4 };

typedef struct dr_command {
	const char *name;
	const char *summary;
	const char *usage; /* after "drover NAME " */
	const char *help; /* options and details, shown by --help */
	int (*main)(int argc, char **argv); /* argv[0] is the command name */
} dr_command;

extern const dr_command dr_cmd_validate;
extern const dr_command dr_cmd_graph;
extern const dr_command dr_cmd_schema;
extern const dr_command dr_cmd_actions;
extern const dr_command dr_cmd_sim;
extern const dr_command dr_cmd_run, dr_cmd_approve;

/* Print "Usage: drover NAME USAGE" and the help text to out. */
void dr_cli_print_help(const dr_command *cmd, FILE *out);

/* Report a usage error for cmd on stderr and return DR_EXIT_INVALID. */
int dr_cli_usage_error(const dr_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when colour should be used on stream f: a TTY, NO_COLOR unset or empty, TERM not "dumb". */
bool dr_cli_use_color(FILE *f);

/*
 * The stdlib directory to use: the explicit one when given, else
 * $DROVER_STDLIB, else "stdlib" beside the source tree the binary was built
 * in (for running from a checkout), else the installed DROVER_DATADIR/stdlib.
 * Returns a static or given string; NULL when none exists.
 */
const char *dr_cli_stdlib_dir(const char *explicit_dir);

#endif
