/*
 * report.c - `drover report [RUN-ID]`: a run's evidence as JSON, JUnit XML,
 * Markdown or a self-contained HTML page (views/report.h, docs/report.md),
 * read from its journal, so it works for any run, long after it ended. The
 * latest run when no id is given, as for `drover status`.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "journal/runinfo.h"
#include "util/xalloc.h"
#include "views/report.h"

static int report_main(int argc, char **argv);

const dr_command dr_cmd_report = {
	.name = "report",
	.summary = "Write a run's evidence: JSON, JUnit XML, Markdown or an HTML timeline, from its journal.",
	.usage = "[--format json|junit|markdown|html] [-o FILE] [--state-dir DIR] [RUN-ID]",
	.help = "Options:\n"
		"  -f, --format FMT      json (a versioned schema for tools), junit (one testsuite per step, one\n"
		"                        testcase per task, a missed objective a failed testcase), markdown\n"
		"                        (concise, for a pull request or a ticket) or html (one self-contained\n"
		"                        page: the verdict, a timeline with the critical path, the tasks).\n"
		"                        Default: from -o's extension (.json .xml .md .html), else json\n"
		"  -o, --output FILE     write to FILE (atomically) instead of standard output\n"
		"      --state-dir DIR   where the runs are (default: $DROVER_STATE_DIR, else .drover)\n"
		"  -h, --help            show this help\n"
		"\nWithout RUN-ID: the latest run (the first that 'drover runs' lists). The report states who\n"
		"started the run and who approved what, the RTO and each VM's RPO against the objectives,\n"
		"every step and task with its attempts, errors and the service's recommended action, the\n"
		"rollback and a drill's cleanup. `drover run|drill|failback --report FILE` writes the same\n"
		"when the run ends. Exit status 0, 2 when the run is unknown or its journal is corrupted\n"
		"(or a usage error), 3 when the file cannot be written. docs/report.md.\n",
	.main = report_main,
};

typedef struct options {
	const char *state, *output;
	dr_report_format fmt;
	bool fmt_given;
} options;

static int one_option(void *ctx, int c, const char *arg)
{
	options *o = ctx;
	switch (c) {
	case 'f':
		if (!dr_report_parse_format(arg, &o->fmt))
			return dr_cli_usage_error(&dr_cmd_report, "--format '%s': expected json, junit, markdown or html", arg);
		o->fmt_given = true;
		return -1;
	case 'o': o->output = arg; return -1;
	default: o->state = arg; return -1;
	}
}

static int write_report(const char *state, const char *id, const options *o)
{
	dr_runinfo ri;
	dr_buf err;
	dr_buf_init(&err);
	int rc = DR_EXIT_OK;
	if (dr_runinfo_load(state, id, &ri, &err) < 0) {
		fprintf(stderr, "drover report: %s\n", err.data);
		dr_buf_dispose(&err);
		return DR_EXIT_INVALID;
	}
	if (dr_report_write(&ri, o->fmt, o->output, &err) < 0) {
		fprintf(stderr, "drover report: %s; the run and its journal are unchanged\n", err.data);
		rc = DR_EXIT_INTERNAL;
	}
	dr_runinfo_dispose(&ri);
	dr_buf_dispose(&err);
	return rc;
}

static int report_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"format", required_argument, NULL, 'f'}, {"output", required_argument, NULL, 'o'},
		{"state-dir", required_argument, NULL, 'S'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	options o = {.fmt = DR_REPORT_JSON};
	int rc = dr_cli_parse(&dr_cmd_report, argc, argv, "f:o:h", longopts, one_option, &o);
	if (rc >= 0)
		return rc;
	if (optind + 1 < argc)
		return dr_cli_usage_error(&dr_cmd_report, "one run at a time");
	if (!o.fmt_given && o.output && strcmp(o.output, "-") && !dr_report_format_of_path(o.output, &o.fmt))
		return dr_cli_usage_error(&dr_cmd_report, "-o '%s': say --format (the extension is not .json, .xml, .md "
							  "or .html)", o.output);
	rc = dr_cli_check_output(&dr_cmd_report, o.state, "-o", o.output);
	if (rc >= 0)
		return rc;
	const char *state = dr_journal_state_dir(o.state);
	dr_buf err;
	dr_buf_init(&err);
	char *id = optind < argc ? xstrdup(argv[optind]) : dr_cli_latest_run(state, &err);
	if (id)
		rc = write_report(state, id, &o);
	else {
		fprintf(stderr, "drover report: %s\n", err.data);
		rc = DR_EXIT_INVALID;
	}
	free(id);
	dr_buf_dispose(&err);
	return rc;
}
