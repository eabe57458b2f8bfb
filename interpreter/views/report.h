/*
 * report.h - drill evidence: a run's report as JSON, JUnit XML, Markdown or
 * one self-contained HTML page (docs/report.md), and its outcome as
 * Prometheus metrics.
 *
 * Every form is drawn from one document, the JSON report, which is built
 * from the run model (journal/runinfo.h) and nothing else; so the forms
 * never disagree, and a run reports the same whether the model was read
 * from the journal (`drover report`) or at the end of the run (`--report`).
 * The document is never whole in memory when a report is written: its
 * lists (steps, tasks, VMs) are built an item at a time and the text goes
 * out as it grows, so a report of 10,000 VMs takes little more than the
 * model's memory (views/report_int.h).
 * The journal holds no secret values (they are *** in messages already),
 * so neither does a report. Every form escapes runbook text for itself
 * (XML, HTML, Markdown, Prometheus labels).
 *
 * Single-threaded; the caller owns what it gets (cJSON, dr_buf).
 */
#ifndef DR_REPORT_H
#define DR_REPORT_H

#include <stdbool.h>

#include "journal/runinfo.h"
#include "util/buf.h"
#include "views/metrics.h"

struct cJSON;

/* The report's schema version (docs/report.md): "schema": "drover-report", "version": 1. */
enum { DR_REPORT_VERSION = 1 };

typedef enum dr_report_format { DR_REPORT_JSON, DR_REPORT_JUNIT, DR_REPORT_MARKDOWN, DR_REPORT_HTML } dr_report_format;

/* "json", "junit", "markdown" (or "md"), "html"; false for anything else. */
bool dr_report_parse_format(const char *name, dr_report_format *out);

/* The format a file name asks for: .json, .xml, .md or .markdown, .html or .htm; false otherwise. */
bool dr_report_format_of_path(const char *path, dr_report_format *out);

/*
 * The JSON report of ri (loaded, or a live model after its run ended) as
 * one document the caller frees: whole in memory, for tests and small
 * runs (a report to write: dr_report_write). docs/report.md describes
 * every field.
 */
struct cJSON *dr_report_build(const dr_runinfo *ri);

/* ri's report in a format, appended to out (whole: for tests and small runs). */
void dr_report_render(const dr_runinfo *ri, dr_report_format f, dr_buf *out);

/*
 * Write ri's report into path (atomically, mode 0600; a device, FIFO or
 * link in place: DR_FS_NAMED), or to stdout when path is NULL or "-", as
 * it is made: its memory does not grow with the tasks. Returns 0, or -1
 * with a sentence in err.
 */
int dr_report_write(const dr_runinfo *ri, dr_report_format f, const char *path, dr_buf *err);

/*
 * The run's outcome as metrics (run_metrics.c), labelled runbook and mode:
 * last run's timestamp and status, achieved RTO and worst RPO against the
 * objectives, objectives met, steps failed, duration. docs/scheduling.md.
 */
void dr_report_metrics(const dr_runinfo *ri, dr_metrics *m);

#endif
