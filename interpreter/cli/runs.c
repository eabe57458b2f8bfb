/*
 * runs.c - `drover runs`: the runs kept under the state directory, newest
 * first, each with its status as its journal tells it (runinfo.h): ended
 * (succeeded, failed, rolled_back, cancelled), running (a drover holds its
 * lock), interrupted (drover stopped without ending it) or suspended; STEPS
 * counts the steps done (succeeded or skipped) of the runbook's. A run that
 * ended is read from its journal's header and last line only
 * (dr_runinfo_brief_load), so listing 100 runs of 10,000 VMs reads kilobytes,
 * not their journals. A journal that cannot be read is listed with its
 * problem.
 */
#include <getopt.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "run/clock.h"
#include "journal/runinfo.h"

static int runs_main(int argc, char **argv);

const dr_command dr_cmd_runs = {
	.name = "runs",
	.summary = "List the runs in the state directory with their status, newest first.",
	.usage = "[--state-dir DIR] [--format text|json]",
	.help = "Options:\n"
		"      --state-dir DIR   where the runs are (default: $DROVER_STATE_DIR, else .drover)\n"
		"      --format FORMAT   text (default) or json\n"
		"  -h, --help            show this help\n"
		"\n'drover status RUN-ID' shows one run; 'drover resume RUN-ID' goes on with an interrupted one.\n",
	.main = runs_main,
};

typedef struct row {
	char id[256], runbook[128], mode[32], started[40], elapsed[32], status[32], steps[32], note[160];
} row;

static void fill(row *r, const char *id, const char *state)
{
	dr_runinfo_brief ri;
	dr_buf err;
	dr_buf_init(&err);
	snprintf(r->id, sizeof r->id, "%s", id);
	if (dr_runinfo_brief_load(state, id, &ri, &err) < 0) {
		snprintf(r->status, sizeof r->status, "unreadable");
		snprintf(r->note, sizeof r->note, "%.150s", err.data);
	} else {
		snprintf(r->runbook, sizeof r->runbook, "%s", ri.runbook);
		snprintf(r->mode, sizeof r->mode, "%s", ri.mode);
		dr_clock_format_wall(ri.started_wall, r->started, sizeof r->started);
		r->started[19] = '\0'; /* to the second */
		dr_clock_format_elapsed(ri.elapsed_ms, r->elapsed, sizeof r->elapsed);
		snprintf(r->status, sizeof r->status, "%s", ri.status);
		snprintf(r->steps, sizeof r->steps, "%zu/%zu", ri.steps_done, ri.steps_total);
		if (ri.in_flight && strcmp(ri.status, "running"))
			snprintf(r->note, sizeof r->note, "%zu in flight", ri.in_flight);
	}
	dr_runinfo_brief_dispose(&ri);
	dr_buf_dispose(&err);
}

static int width(const row *rows, size_t n, size_t off, int min)
{
	int w = min;
	for (size_t i = 0; i < n; i++) {
		int l = (int)strlen((const char *)&rows[i] + off);
		w = l > w ? l : w;
	}
	return w;
}

static void print_text(const row *rows, size_t n)
{
	int wi = width(rows, n, offsetof(row, id), 3), wr = width(rows, n, offsetof(row, runbook), 7);
	int ws = width(rows, n, offsetof(row, status), 6);
	printf("%-*s  %-*s  %-8s  %-19s  %-12s  %-*s  %-5s  NOTE\n", wi, "RUN", wr, "RUNBOOK", "MODE", "STARTED",
	       "ELAPSED", ws, "STATUS", "STEPS");
	for (size_t i = 0; i < n; i++) {
		char line[1024];
		int len = snprintf(line, sizeof line, "%-*s  %-*s  %-8s  %-19s  %-12s  %-*s  %-5s  %s", wi, rows[i].id, wr,
				   rows[i].runbook, rows[i].mode, rows[i].started, rows[i].elapsed, ws, rows[i].status,
				   rows[i].steps, rows[i].note);
		if (len >= (int)sizeof line)
			len = (int)sizeof line - 1;
		while (len > 0 && line[len - 1] == ' ')
			line[--len] = '\0'; /* no trailing blanks when there is no note */
		puts(line);
	}
}

static void print_json(const row *rows, size_t n)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "run", rows[i].id);
		cJSON_AddStringToObject(o, "runbook", rows[i].runbook);
		cJSON_AddStringToObject(o, "mode", rows[i].mode);
		cJSON_AddStringToObject(o, "started", rows[i].started);
		cJSON_AddStringToObject(o, "elapsed", rows[i].elapsed);
		cJSON_AddStringToObject(o, "status", rows[i].status);
		cJSON_AddStringToObject(o, "steps", rows[i].steps);
		cJSON_AddStringToObject(o, "note", rows[i].note);
		cJSON_AddItemToArray(a, o);
	}
	char *text = cJSON_Print(a);
	puts(text);
	cJSON_free(text);
	cJSON_Delete(a);
}

static int runs_main(int argc, char **argv)
{
	const char *state;
	bool json;
	int rc = dr_cli_parse_state_options(&dr_cmd_runs, argc, argv, &state, &json);
	if (rc >= 0)
		return rc;
	if (optind != argc)
		return dr_cli_usage_error(&dr_cmd_runs, "unexpected argument '%s'", argv[optind]);
	state = dr_journal_state_dir(state);
	dr_buf err;
	dr_buf_init(&err);
	if (!dr_cli_runs_readable(state, &err)) {
		fprintf(stderr, "drover runs: %s\n", err.data);
		dr_buf_dispose(&err);
		return DR_EXIT_INVALID;
	}
	dr_buf_dispose(&err);
	size_t n;
	char **ids = dr_runinfo_list(state, &n);
	row *rows = calloc(n + 1, sizeof *rows);
	for (size_t i = 0; i < n; i++)
		fill(&rows[i], ids[i], state);
	if (json)
		print_json(rows, n);
	else if (n)
		print_text(rows, n);
	else
		printf("no runs in %s/runs\n", state);
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
	free(rows);
	return DR_EXIT_OK;
}
