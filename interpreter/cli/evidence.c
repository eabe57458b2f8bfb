/*
 * evidence.c - `--report FILE` and `--metrics FILE` of run, drill and
 * failback (and resume): when the run ends, its report and metrics are
 * written from its journal, read back as `drover report` reads it, so the
 * file is the same report `drover report RUN-ID` gives later.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "journal/runinfo.h"
#include "views/report.h"

int dr_cli_check_report_path(const dr_command *cmd, const char *path)
{
	dr_report_format f;
	if (!path || dr_report_format_of_path(path, &f))
		return -1;
	return dr_cli_usage_error(cmd, "--report '%s': the extension says the format: .json, .xml (JUnit), .md or .html",
				  path);
}

static int write_metrics(const dr_runinfo *ri, const char *path, dr_buf *err)
{
	cJSON *doc = dr_report_build(ri);
	dr_metrics m;
	dr_metrics_init(&m);
	dr_report_metrics(doc, &m);
	int rc = dr_metrics_write(&m, path, err);
	dr_metrics_dispose(&m);
	cJSON_Delete(doc);
	return rc;
}

static int write_both(const dr_command *cmd, const dr_runinfo *ri, const char *report, const char *metrics)
{
	dr_buf err;
	dr_buf_init(&err);
	dr_report_format f = DR_REPORT_JSON;
	int rc = 0;
	if (report && (!dr_report_format_of_path(report, &f) || dr_report_write(ri, f, report, &err) < 0)) {
		fprintf(stderr, "drover %s: no report: %s; the run itself is as its journal says (drover report %s)\n",
			cmd->name, err.data, ri->run);
		rc = -1;
	}
	dr_buf_reset(&err);
	if (metrics && write_metrics(ri, metrics, &err) < 0) {
		fprintf(stderr, "drover %s: no metrics: %s\n", cmd->name, err.data);
		rc = -1;
	}
	dr_buf_dispose(&err);
	return rc;
}

int dr_cli_write_evidence(const dr_command *cmd, const char *state_dir, const char *run_id, const char *report,
			  const char *metrics)
{
	if (!report && !metrics)
		return 0;
	dr_runinfo ri;
	dr_buf err;
	dr_buf_init(&err);
	if (!run_id || !*run_id || dr_runinfo_load(dr_journal_state_dir(state_dir), run_id, &ri, &err) < 0) {
		fprintf(stderr, "drover %s: no report or metrics: %s\n", cmd->name,
			err.len ? err.data : "the run did not start, so it has no journal");
		dr_buf_dispose(&err);
		return -1;
	}
	int rc = write_both(cmd, &ri, report, metrics);
	dr_runinfo_dispose(&ri);
	dr_buf_dispose(&err);
	return rc;
}
