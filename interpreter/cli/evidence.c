/*
 * evidence.c - `--report FILE` and `--metrics FILE` of run, drill and
 * failback (and resume): when the run ends, its report and metrics are
 * written from its journal, read back as `drover report` reads it, so the
 * file is the same report `drover report RUN-ID` gives later.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "journal/runinfo.h"
#include "util/xalloc.h"
#include "views/report.h"

int dr_cli_add_report(const dr_command *cmd, dr_cli_reports *r, const char *path)
{
	dr_report_format f;
	if (!dr_report_format_of_path(path, &f))
		return dr_cli_usage_error(cmd, "--report '%s': the extension says the format: .json, .xml (JUnit), .md or .html",
					  path);
	r->paths = xrealloc(r->paths, (r->n + 1) * sizeof *r->paths);
	r->paths[r->n++] = path;
	return -1;
}

int dr_cli_check_run_outputs(const dr_command *cmd, const char *state, const char *events, const dr_cli_reports *r,
			     const char *metrics)
{
	int rc = dr_cli_check_output(cmd, state, "--events", events);
	for (size_t i = 0; rc < 0 && i < r->n; i++)
		rc = dr_cli_check_output(cmd, state, "--report", r->paths[i]);
	return rc < 0 ? dr_cli_check_output(cmd, state, "--metrics", metrics) : rc;
}

static int write_metrics(const dr_runinfo *ri, const char *path, dr_buf *err)
{
	dr_metrics m;
	dr_metrics_init(&m);
	dr_report_metrics(ri, &m);
	int rc = dr_metrics_write(&m, path, err);
	dr_metrics_dispose(&m);
	return rc;
}

static int write_both(const dr_command *cmd, const dr_runinfo *ri, const dr_cli_reports *r, const char *metrics)
{
	dr_buf err;
	dr_buf_init(&err);
	int rc = 0;
	for (size_t i = 0; i < r->n; i++) {
		dr_report_format f = DR_REPORT_JSON;
		dr_buf_reset(&err);
		if (!dr_report_format_of_path(r->paths[i], &f) || dr_report_write(ri, f, r->paths[i], &err) < 0) {
			dr_buf c;
			dr_buf_init(&c);
			fprintf(stderr, "drover %s: no report: %s; the run itself is as its journal says (%s)\n", cmd->name,
				err.data, dr_journal_command(&c, "report", ri->state_dir, ri->run));
			dr_buf_dispose(&c);
			rc = -1;
		}
	}
	dr_buf_reset(&err);
	if (metrics && write_metrics(ri, metrics, &err) < 0) {
		fprintf(stderr, "drover %s: no metrics: %s\n", cmd->name, err.data);
		rc = -1;
	}
	dr_buf_dispose(&err);
	return rc;
}

static int write_evidence(const dr_command *cmd, const char *state_dir, const char *run_id, const dr_cli_reports *r,
			  const char *metrics)
{
	dr_runinfo ri;
	dr_buf err;
	dr_buf_init(&err);
	if (!run_id || !*run_id || dr_runinfo_load(dr_journal_state_dir(state_dir), run_id, &ri, &err) < 0) {
		fprintf(stderr, "drover %s: no report or metrics: %s\n", cmd->name,
			err.len ? err.data : "the run did not start, so it has no journal");
		dr_buf_dispose(&err);
		return -1;
	}
	int rc = write_both(cmd, &ri, r, metrics);
	dr_runinfo_dispose(&ri);
	dr_buf_dispose(&err);
	return rc;
}

int dr_cli_write_evidence(const dr_command *cmd, const char *state_dir, const char *run_id, dr_cli_reports *r,
			  const char *metrics)
{
	int rc = r->n || metrics ? write_evidence(cmd, state_dir, run_id, r, metrics) : 0;
	free(r->paths);
	*r = (dr_cli_reports){0};
	return rc;
}

int dr_cli_close_events(const dr_command *cmd, FILE *f, const char *path, const char *state_dir, const char *run_id)
{
	errno = 0;
	bool lost = fflush(f) != 0 || ferror(f);
	int e = errno;
	if (fclose(f) != 0 && !lost) {
		lost = true;
		e = errno;
	}
	if (!lost)
		return 0;
	dr_buf c;
	dr_buf_init(&c);
	fprintf(stderr, "drover %s: the events file '%s' is incomplete: a write to it failed%s%s. The run is as its journal "
			"says (%s); its events are in the journal too.\n",
		cmd->name, path, e ? ": " : " during the run", e ? strerror(e) : "",
		run_id && *run_id ? dr_journal_command(&c, "status", state_dir, run_id)
				  : dr_journal_command(&c, "runs", state_dir, NULL));
	dr_buf_dispose(&c);
	return -1;
}
