/*
 * metrics.h - Prometheus metrics for node_exporter's textfile collector
 * (docs/scheduling.md lists every metric drover writes).
 *
 * A dr_metrics collects metric families in the Prometheus text exposition
 * format (version 0.0.4): each family's # HELP and # TYPE once, then its
 * samples, label values escaped (\\, \" and \n), no timestamps (the
 * collector refuses them). dr_metrics_write publishes the text atomically
 * (temp file, fsync, rename: util/fs.h), so the collector never reads half
 * a file. Two producers fill one: the readiness of a plan (`drover plan
 * --metrics`, from the plan view) and the outcome of a run (`--metrics` on
 * run, drill and failback, from the run model).
 *
 * Single-threaded; the caller owns the dr_metrics (init/dispose).
 */
#ifndef DR_METRICS_H
#define DR_METRICS_H

#include <stdint.h>

#include "util/buf.h"

struct cJSON;
struct dr_runinfo;

typedef struct dr_metrics {
	dr_buf text;
} dr_metrics;

void dr_metrics_init(dr_metrics *m);
void dr_metrics_dispose(dr_metrics *m);

/* Start a family: "# HELP name help" and "# TYPE name type" (gauge, counter, ...). */
void dr_metrics_family(dr_metrics *m, const char *name, const char *type, const char *help);

/*
 * One sample of the current family: name{k1="v1",...} value. labels is a
 * NULL-terminated list of names and values in turn (NULL or empty: none);
 * a NULL value is written as "". Values print as integers when whole,
 * NaN and +Inf as Prometheus spells them.
 */
void dr_metrics_sample(dr_metrics *m, const char *name, const char *const *labels, double value);

/*
 * Write the collected text to path atomically and durably. The file gets
 * mode 0644: node_exporter runs as another user and must read it; metrics
 * hold nothing private, and only the owner can write. Returns 0, or -1
 * with a sentence naming the file in err.
 */
int dr_metrics_write(const dr_metrics *m, const char *path, dr_buf *err);

/* --- readiness.c: `drover plan --metrics` -------------------------------------- */

/*
 * The readiness of a plan view (planview.h; NULL when the backend could not
 * be read: then only drover_readiness_check_ok 0) as metrics, labelled
 * with runbook and mode: whether it is runnable, its blockers, and per VM
 * the age of the point the policy would pick against max_age, the
 * replication health and the VM's blockers. checked_ms is when (Unix ms).
 */
void dr_metrics_add_readiness(dr_metrics *m, const char *runbook, const char *mode, const struct cJSON *view,
			      int64_t checked_ms);

#endif
