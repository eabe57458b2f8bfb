/*
 * fuzz_util.h - what the fuzz targets share (header only: each target is
 * one file the Makefile compiles by absolute path, so __FILE__ names this
 * directory): paths next to the harnesses, /dev/null, a quiet run's options.
 */
#ifndef DR_FUZZ_UTIL_H
#define DR_FUZZ_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "run/exec.h"

/* <the directory of this file>/rel into out. */
static inline void fuzz_path(char *out, size_t n, const char *rel)
{
	const char *self = __FILE__, *slash = strrchr(self, '/');
	snprintf(out, n, "%.*s/%s", slash ? (int)(slash - self) : 1, slash ? self : ".", rel);
}

/* /dev/null for writing; aborts when it cannot be opened. */
static inline FILE *fuzz_devnull(void)
{
	FILE *f = fopen("/dev/null", "w");
	if (!f)
		abort();
	return f;
}

/* A quiet run's options on top of o: approvals granted, no duration history, events and screen to devnull (plain view), run id "fz". */
static inline void fuzz_quiet(dr_exec_opts *o, FILE *devnull)
{
	o->auto_approve = true;
	o->history = DR_HISTORY_OFF;
	o->events = devnull;
	o->screen = devnull;
	o->view = DR_VIEW_PLAIN;
	o->run_id = "fz";
}

#endif
