/*
 * report_dr.h - what a run achieved against its objectives (RTO, RPO), and
 * a drill's last check, for people and for the event stream. The figures
 * come from the run model (journal/runinfo.h, dr_runinfo_objectives), so
 * the summary, the screen, `drover status` and reports state the same ones.
 */
#ifndef DR_REPORT_DR_H
#define DR_REPORT_DR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "util/buf.h"

struct cJSON;
struct dr_backend;
struct dr_events;
struct dr_runinfo;

/*
 * At the end of a run (after finally:, before its status is decided), on
 * the thread that runs it: a drill asks be, at wall_now (Unix ms), whether
 * test VMs of the run's VMs are left and emits drill.verify; then a run
 * that fails VMs over, sets recovery points or declares objectives emits
 * run.objectives with the model's figures. ri must be fed by ev (it then
 * holds both). be may be NULL (a drill then reports "error").
 */
void dr_report_dr_finish(struct dr_runinfo *ri, struct dr_events *ev, struct dr_backend *be, int64_t wall_now,
			 bool drill);

/* True when the drill's verification found test VMs left, or could not ask: the drill fails. */
bool dr_report_dr_failed(const struct dr_runinfo *ri);

/*
 * Where an ended drill left its test VMs, for the advice at its end (the
 * summary's next:, `drover status`), from drill.verify: "its test VMs are
 * cleaned up (verified with the backend)", "N test VMs are left behind
 * (named above)", or "whether its test VMs are cleaned up is not known
 * (...)". Static text or text in b.
 */
const char *dr_report_dr_drill_left(dr_buf *b, const struct dr_runinfo *ri);

/*
 * A drill's leftovers ([{vm, state}], drill.verify) appended to b as
 * " vm (state)" for the first 10, then " ... and N more (more)": a
 * summary, an event's line or a verdict stays a line at any estate; the
 * JSON report and the event name them all.
 */
void dr_report_dr_leftovers(dr_buf *b, const struct cJSON *leftovers, const char *more);

/* The summary's lines: the drill's verification, RTO and the RPO of every VM, each against its objective. */
void dr_report_dr_print(const struct dr_runinfo *ri, FILE *out);

struct dr_ri_objectives;

/*
 * What objectives.enforce did to an ended run, into b: "enforced
 * (objectives.enforce: drill): met" or "...: missed, so the run fails";
 * for a run it does not hold to them, "not enforced in a failover (...)"
 * only when an objective was missed. False (b untouched) when there is
 * nothing to say (no objective declared; not enforced and met).
 */
bool dr_report_dr_enforcement(dr_buf *b, const struct dr_runinfo *ri, const struct dr_ri_objectives *o);

/* The plain line of run.objectives, drill.verify and fallback.* into b; false for other types. */
bool dr_report_dr_line(dr_buf *b, const struct cJSON *ev, const char *type);

/* An objective's verdict for people: "met" (met 1), "MISSED" (0), "not judged" (-1: nothing measured). */
const char *dr_report_dr_verdict(int met);

/* A duration for people into out: whole seconds from 10s on ("6m47s"), else as is ("950ms"); "none" when < 0. */
void dr_report_dr_duration(int64_t ms, char *out, size_t n);

#endif
