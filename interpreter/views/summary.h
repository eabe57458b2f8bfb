/*
 * summary.h - the report printed when a run ends (how it ended, what failed
 * and why, what state things are left in, what is safe to do next), from
 * the run model.
 */
#ifndef DR_SUMMARY_H
#define DR_SUMMARY_H

#include <stdio.h>

struct dr_runinfo;

/*
 * Print the summary of ri (a model that has folded the run's run.end) to
 * out. The model is built from the event stream, whose free text is
 * redacted already (and whose identifiers never are: a VM named like a
 * secret shows as it is). Call it on the thread that ran the run, after it
 * ended.
 */
void dr_summary_print(const struct dr_runinfo *ri, FILE *out);

/*
 * Only the summary's next: lines ("  - ..."), without their heading: what
 * the run completed and left in place, what to do next. `drover status`
 * gives them for a drill that did not succeed, so that it and the summary
 * say the same about where the drill's test VMs are. Escaped for the
 * terminal; nothing for a run that succeeded.
 */
void dr_summary_print_next(const struct dr_runinfo *ri, FILE *out);

#endif
