/*
 * planfile.h - saved plans: `drover plan -o PLAN.json` writes what the plan
 * saw and decided; `drover run|drill|failback --plan PLAN.json` runs exactly
 * that plan (each VM's first failover on the point the plan chose) and
 * refuses it when the world has drifted. docs/plan.md ("Saved plans")
 * describes the format and the checks.
 *
 * The file is one JSON object, deterministic: the same runbook, parameters,
 * backend and service state give the same bytes, apart from "created".
 * Nothing in it depends on the wall clock but that (no ages: points by
 * their time). It is written owner-only (0600), atomically.
 *
 * Memory: cJSON values belong to the caller; strings from
 * dr_planfile_points live in the caller's arena.
 */
#ifndef DR_PLANFILE_H
#define DR_PLANFILE_H

#include <stdint.h>

#include "front/runbook.h"
#include "run/modes.h"
#include "run/preflight.h"
#include "util/buf.h"

struct cJSON;

#define DR_PLANFILE_FORMAT "drover-plan"
#define DR_PLANFILE_VERSION 1

/* What a plan (or a run checking one) is, besides the preflight's binding. */
typedef struct dr_planfile_ctx {
	const dr_runbook *rb;
	const struct cJSON *params; /* typed parameter values */
	dr_run_mode mode;
	dr_be_direction direction;
	const char *backend_id; /* dr_journal_backend_id; NULL: a simulator in memory */
	const dr_point_override *point; /* --recovery-point; NULL: none */
	int64_t now_ms; /* the plan's creation time, or the run's start (Unix ms) */
} dr_planfile_ctx;

/*
 * The plan file of pf (checked by dr_preflight_check) made in context c.
 * Returns a new object, or NULL with a sentence in err when the runbook
 * file cannot be read for its digest.
 */
struct cJSON *dr_planfile_build(const dr_preflight *pf, const dr_planfile_ctx *c, dr_buf *err);

/* Write plan to path, owner-only and atomically. Returns 0, or -1 with a sentence in err. */
int dr_planfile_write(const char *path, const struct cJSON *plan, dr_buf *err);

/*
 * Read a plan file: JSON of this format and a version this drover reads.
 * Returns a new object, or NULL with a sentence naming the file in err.
 */
struct cJSON *dr_planfile_read(const char *path, dr_buf *err);

/* The points a plan chose: a new object {vm name: point name} (VMs without a point left out). */
struct cJSON *dr_planfile_points(const struct cJSON *plan);

/*
 * Per VM of pf's inventory, the point of points ({vm: point}, as
 * dr_planfile_points gives or a journal header keeps) or NULL: an array of
 * pf->n entries in a, for dr_preflight_opts.pins.
 */
const char **dr_planfile_pins(const struct cJSON *points, const dr_preflight *pf, dr_arena *a);

/*
 * How the world drifted from plan: one line per difference appended to out
 * (each ends with a newline)
 * (what drifted, the plan's value and now's), e.g. "the plan is 2h old,
 * older than --plan-max-age 1h", "parameter point: the plan has
 * \"latest\", this run \"latest-processed\"", "shop-db-1: protected in
 * Primary when planned, now failed_over in Recovery". Its points are
 * checked by the preflight with dr_planfile_pins (gone, or older than
 * max_age now). Returns the number of lines. A runbook changed in its
 * comments or layout only is not a drift (a note is appended to notes).
 */
size_t dr_planfile_drift(const struct cJSON *plan, const dr_preflight *pf, const dr_planfile_ctx *now,
			 int64_t max_age_ms, dr_buf *out, dr_buf *notes);

#endif
