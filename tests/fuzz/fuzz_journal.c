/*
 * fuzz_journal.c - libFuzzer target for what reads a journal back: the
 * bytes are a journal file (<state>/runs/fz/journal.jsonl), read by
 * dr_journal_read; when the reader accepts it, the run model is loaded
 * from it (dr_runinfo_load, what `drover status` and `runs` show) and its
 * summary rendered, then the run is resumed from it (dr_exec_run with
 * resume, as `drover resume fz` does) onto tests/fuzz/journal.yaml on the
 * simulator kept in memory, on the header's clock, seed and concurrency.
 * The resumed session appends to the file; the next input rewrites it.
 *
 * The promise under test: a journal that is damaged, edited or of another
 * runbook is refused with a message, or replayed; never a crash, a leak,
 * undefined behaviour (a number out of range cast to an integer) or a hang.
 * `make fuzz` runs it (tests/fuzz/README.md); its seeds are journals of
 * journal.yaml (tests/fuzz/seeds/journal/) and the golden cases'.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "front/diag.h"
#include "front/runbook.h"
#include "journal/journal.h"
#include "journal/runinfo.h"
#include "run/exec.h"
#include "util/buf.h"
#include "views/summary.h"
#include "fuzz_util.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char state[64], journal[128], runbook[4096];
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_path(runbook, sizeof runbook, "journal.yaml");
	snprintf(state, sizeof state, "/tmp/drover-fuzz-journal-XXXXXX");
	if (!mkdtemp(state))
		abort();
	char runs[96];
	snprintf(runs, sizeof runs, "%s/runs", state);
	mkdir(runs, 0700);
	snprintf(journal, sizeof journal, "%s/runs/fz", state);
	mkdir(journal, 0700);
	snprintf(journal, sizeof journal, "%s/runs/fz/journal.jsonl", state);
	setenv("DROVER_SIM_STATE", ":memory:", 1); /* nothing shared: no run lock, no state file */
	unsetenv("DROVER_TEST_KILL_AT");
	devnull = fuzz_devnull();
	return 0;
}

static void put(const uint8_t *data, size_t size)
{
	FILE *f = fopen(journal, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
}

static const char *hs(const cJSON *h, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, key));
}

/* The settings `drover resume` takes from the header (cli/resume.c). */
static void settings(const cJSON *h, dr_exec_opts *o)
{
	const char *clock = hs(h, "clock"), *seed = hs(h, "seed");
	const cJSON *conc = cJSON_GetObjectItemCaseSensitive(h, "concurrency");
	o->clock = clock && !strcmp(clock, "virtual") ? DR_CLOCK_VIRTUAL : DR_CLOCK_REAL;
	o->seed = seed ? strtoull(seed, NULL, 10) : 1;
	o->seed_given = true;
	o->concurrency = cJSON_IsNumber(conc) ? (int64_t)conc->valuedouble : 0;
	o->params = cJSON_GetObjectItemCaseSensitive(h, "params");
}

static void resume(dr_journal_file *f)
{
	if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(f->header, "clock")) ||
	    strcmp(hs(f->header, "clock"), "virtual"))
		return; /* the real clock would wait for real: replay only what runs on the virtual one */
	dr_diags *d = dr_diags_new();
	dr_runbook *rb = dr_runbook_compile(runbook, d, NULL);
	if (!rb || dr_diags_errors(d))
		abort(); /* journal.yaml is valid */
	dr_exec_opts o;
	dr_exec_opts_init(&o);
	settings(f->header, &o);
	fuzz_quiet(&o, devnull);
	o.state_dir = state;
	o.journal = true;
	o.resume = f;
	dr_buf err;
	dr_buf_init(&err);
	dr_exec_run(rb, &o, &err);
	dr_buf_dispose(&err);
	dr_runbook_free(rb);
	dr_diags_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	put(data, size);
	dr_journal_file f;
	dr_buf err;
	dr_buf_init(&err);
	int rc = dr_journal_read(journal, &f, &err);
	dr_journal_file_dispose(&f);
	if (rc == 0) {
		dr_runinfo ri;
		dr_buf_reset(&err);
		if (dr_runinfo_load(state, "fz", &ri, &err) == 0)
			dr_summary_print(&ri, devnull);
		dr_runinfo_dispose(&ri);
		if (dr_journal_read(journal, &f, &err) == 0)
			resume(&f);
		dr_journal_file_dispose(&f);
	}
	dr_buf_dispose(&err);
	return 0;
}
