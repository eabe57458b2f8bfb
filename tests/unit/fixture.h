/*
 * fixture.h - what the unit tests that run runbooks share (tests/unit/fixture.c):
 * a scratch folder of the test program's own, runbooks compiled from
 * text, their backend opened as a command opens it, and runs on the
 * executor whose event streams are kept as parsed JSON lines.
 *
 * Each function asserts (cmocka) what it needs, so a runbook with errors,
 * a backend that does not open or an event line that is not JSON fails the
 * test where it happens, with the diagnostics printed. Not thread-safe:
 * call from the test's own thread.
 */
#ifndef DR_TEST_FIXTURE_H
#define DR_TEST_FIXTURE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "backends/backend.h"
#include "front/runbook.h"
#include "run/exec.h"
#include "util/arena.h"

/*
 * The program's scratch folder ($TMPDIR, else /tmp: drover-<program>-XXXXXX),
 * made on first use and removed with all it holds when the program exits.
 */
const char *fx_dir(void);

/* fx_dir()/<name, printf-formatted>; the string lives until exit. */
const char *fx_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* fx_path(<name, printf-formatted>), made as a folder (mode 0700) if it is not one yet; returns its path. */
const char *fx_mkdir(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Removes path and all it holds, when it is there (no shell); asserts it is gone. */
void fx_rmtree(const char *path);

/* path made anew: fx_rmtree, then made with its missing parents (mode 0700, dr_fs_mkdirs); asserts it is made. */
void fx_remake(const char *path);

/* A new empty folder in fx_dir() (d-1, d-2, ...): a test's own, e.g. from a cmocka setup. */
const char *fx_newdir(void);

/* Writes text to fx_path(name) (a file a runbook refers to, e.g. an inventory); returns its path. */
const char *fx_write(const char *name, const char *text);

/* A file for fx_stdlib: its name without .yaml, and its text. */
typedef struct fx_file {
	const char *name, *text;
} fx_file;

/* A new folder in fx_dir() (fx_newdir) holding NAME.yaml for each of the n files: a stdlib of composites for dr_resolve; returns its path. */
const char *fx_stdlib(const fx_file *files, size_t n);

/* The whole file at path, NUL-terminated, its length in *n (asserted readable); the caller frees it. */
char *fx_slurp(const char *path, size_t *n);

/*
 * yaml written to fx_path(name) (NULL: a name of its own, rb-N.yaml) and
 * compiled; asserts it compiles without errors, printing them when not. The
 * path lives until exit, as long as the runbook may. The caller frees the
 * runbook (dr_runbook_free).
 */
dr_runbook *fx_compile(const char *name, const char *yaml);

/*
 * rb's backend opened with bo (NULL: its simulator in memory), in a;
 * asserts it opens, printing the diagnostics and the error when not. The
 * caller closes it (dr_backend_close) before freeing a.
 */
dr_backend *fx_backend(const dr_runbook *rb, const dr_backend_opts *bo, dr_arena *a);

/* A runbook, the options of its next run, and what the last run gave. */
typedef struct fx_run {
	dr_runbook *rb;
	dr_exec_opts o; /* fx_run_init: dr_exec_opts_init, the virtual clock, state in fx_dir()/state */
	dr_arena *a; /* with be: the backend's arena */
	dr_backend *be; /* fx_run_keep_backend: the simulator every run uses, for the test to read; else NULL */
	char *events; /* the last run's event stream: JSON lines */
	size_t len;
	cJSON **ev; /* each line parsed */
	size_t n;
	dr_run_status status;
	char *err; /* what dr_exec_run wrote to its error buffer */
} fx_run;

/* r with yaml compiled (fx_compile) and the options above; nothing else set. */
void fx_run_init(fx_run *r, const char *yaml);

/* Opens rb's simulator in memory into r->be (its arena r->a): each run of r uses it, and the test can look at its items, jobs and audit log. */
void fx_run_keep_backend(fx_run *r);

/* Runs r->rb with r->o (and r->be when kept), events to memory, each line parsed into r->ev; returns r->status. The previous run's events must have been forgotten. */
dr_run_status fx_run_exec(fx_run *r);

/* Forgets the last run's events and error (the runbook, options and backend stay). */
void fx_run_forget(fx_run *r);

/* Forgets the events, closes the backend, frees the runbook. */
void fx_run_free(fx_run *r);

/* o[key] when it is a string, else "". */
const char *fx_str(const cJSON *o, const char *key);

/* o[key] when it is a number, else -1. */
double fx_num(const cJSON *o, const char *key);

/* ev is an event of this type, for step and target (either NULL: any). */
bool fx_is(const cJSON *ev, const char *type, const char *step, const char *target);

/* The first / the last event of r's run that fx_is; NULL when none. */
const cJSON *fx_first(const fx_run *r, const char *type, const char *step, const char *target);
const cJSON *fx_last(const fx_run *r, const char *type, const char *step, const char *target);

/* How many events of r's run fx_is. */
size_t fx_count(const fx_run *r, const char *type, const char *step, const char *target);

#endif
