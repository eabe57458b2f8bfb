/*
 * common.c - helpers shared by the commands: help text, usage errors,
 * colour decisions, finding the stdlib.
 */
#include "cli/cli.h"
#include "config.h"

#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


void dr_cli_print_help(const dr_command *cmd, FILE *out)
{
	fprintf(out, "Usage: drover %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
	if (cmd->help && *cmd->help)
		fprintf(out, "\n%s", cmd->help);
}

int dr_cli_usage_error(const dr_command *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "drover %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nUsage: drover %s %s\nTry 'drover %s --help' for more.\n", cmd->name, cmd->usage,
		cmd->name);
	return DR_EXIT_INVALID;
}

bool dr_cli_use_color(FILE *f)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
	if (no && *no)
		return false;
	if (term && strcmp(term, "dumb") == 0)
		return false;
	return isatty(fileno(f));
}

static bool is_dir(const char *p)
{
	struct stat st;
	return p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The checkout's stdlib/ when the binary runs from build/<variant>/drover. */
static const char *checkout_stdlib(void)
{
	static char path[PATH_MAX];
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	for (int up = 0; up < 3; up++) {
		char *slash = strrchr(exe, '/');
		if (!slash)
			return NULL;
		*slash = '\0';
	}
	if (snprintf(path, sizeof path, "%s/stdlib", exe) >= (int)sizeof path)
		return NULL;
	char marker[PATH_MAX + 32];
	snprintf(marker, sizeof marker, "%s/interpreter/cli", exe);
	return is_dir(path) && is_dir(marker) ? path : NULL;
}

const char *dr_cli_stdlib_dir(const char *explicit_dir)
{
	if (explicit_dir)
		return explicit_dir;
	const char *env = getenv("DROVER_STDLIB");
	if (env && *env)
		return env;
	const char *co = checkout_stdlib();
	if (co)
		return co;
	return is_dir(DROVER_DATADIR "/stdlib") ? DROVER_DATADIR "/stdlib" : NULL;
}

int dr_cli_parse_state_options(const dr_command *cmd, int argc, char **argv, const char **state, bool *json)
{
	static const struct option longopts[] = {
		{"state-dir", required_argument, NULL, 's'}, {"format", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	const char *format = "text";
	int c;
	*state = NULL;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (c == 's')
			*state = optarg;
		else if (c == 'f')
			format = optarg;
		else if (c == 'h')
			return dr_cli_print_help(cmd, stdout), DR_EXIT_OK;
		else
			return dr_cli_usage_error(cmd, "unrecognised option");
	}
	if (strcmp(format, "text") && strcmp(format, "json"))
		return dr_cli_usage_error(cmd, "--format '%s': expected text or json", format);
	*json = strcmp(format, "json") == 0;
	return -1;
}
