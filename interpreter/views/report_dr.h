/*
 * report_dr.h - what a run achieved against its objectives (RTO, RPO), and
 * a drill's last check, for people: the lines of the summary, of the
 * screen and of `drover status`. The figures come from the run model
 * (journal/runinfo.h, dr_runinfo_objectives), so every view states the
 * same ones.
 */
#ifndef DR_REPORT_DR_H
#define DR_REPORT_DR_H

#include <stddef.h>
#include <stdint.h>

/* A duration for people into out: whole seconds from 10s on ("6m47s"), else as is ("950ms"); "none" when < 0. */
void dr_report_dr_duration(int64_t ms, char *out, size_t n);

#endif
