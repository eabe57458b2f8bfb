/*
 * runinfo_read.c - the run model from a run's journal (dr_runinfo_load),
 * and the list of the runs under a state directory.
 *
 * The journal is read whole and checked (journal_read.c: a torn last line
 * is left out, corruption is an error naming its line); the header declares
 * the run and its steps, then every record of every session is folded in
 * order. A run whose journal has no last word (run.end, run.suspend) is
 * running when a live drover holds its lock, else interrupted.
 */
#include "journal/runinfo.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util/xalloc.h"

static const char *sval(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/* The runbook file's digest differs from the journal's (or the file is gone). */
static bool changed_since(const dr_runinfo *ri)
{
	char d[40];
	dr_buf e;
	dr_buf_init(&e);
	const char *p = ri->abs && access(ri->abs, R_OK) == 0 ? ri->abs : ri->path;
	bool changed = !p || dr_journal_file_digest(p, d, sizeof d, NULL, &e) < 0 || !ri->digest || strcmp(d, ri->digest);
	dr_buf_dispose(&e);
	return changed;
}

/* A run without its last word: is a live drover running it (it holds the run lock)? */
static const char *live_status(const dr_runinfo *ri)
{
	const cJSON *be = cJSON_GetObjectItemCaseSensitive(ri->f.header, "backend");
	const char *abs = ri->abs ? ri->abs : "", *id = sval(be, "id") ? sval(be, "id") : "";
	char *lock = dr_runlock_path(ri->state_dir, abs, id);
	bool held = dr_runlock_held(lock, ri->run);
	free(lock);
	return held ? "running" : "interrupted";
}

static void no_such_run(const char *state_dir, const char *run_id, dr_buf *err)
{
	dr_buf_reset(err);
	dr_buf_printf(err, "no run '%s' in %s/runs ('drover runs' lists the runs there; --state-dir or $DROVER_STATE_DIR "
			   "choose another place)",
		      run_id, state_dir);
}

int dr_runinfo_load(const char *state_dir, const char *run_id, dr_runinfo *ri, dr_buf *err)
{
	dr_runinfo_init(ri);
	ri->state_dir = state_dir;
	char *path = dr_journal_path(state_dir, run_id);
	int rc = dr_journal_read(path, &ri->f, err);
	if (rc < 0 && access(path, F_OK) != 0)
		no_such_run(state_dir, run_id, err);
	free(path);
	if (rc < 0)
		return -1;
	dr_runinfo_seed(ri, &ri->f);
	if (!ri->ended)
		ri->status = live_status(ri);
	ri->runbook_changed = changed_since(ri);
	return 0;
}

/* --- listing ---------------------------------------------------------------- */

typedef struct listed {
	char *id;
	int64_t started;
} listed;

/* Newest first: the later start, then the greater id (run ids of one second get -2, -3, ...). */
static int newest_first(const void *a, const void *b)
{
	const listed *x = a, *y = b;
	if (x->started != y->started)
		return x->started > y->started ? -1 : 1;
	return -strcmp(x->id, y->id);
}

/* The header's started_ms, read from the first line only; -1 when the run has no readable header. */
static int64_t started_of(const char *state_dir, const char *id)
{
	char *path = dr_journal_path(state_dir, id);
	FILE *f = fopen(path, "rb");
	free(path);
	if (!f)
		return -1;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);
	fclose(f);
	cJSON *h = n > 0 ? cJSON_ParseWithLength(line, (size_t)n) : NULL;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(h, "started_ms");
	int64_t started = cJSON_IsNumber(t) ? (int64_t)t->valuedouble : h ? 0 : -1;
	cJSON_Delete(h);
	free(line);
	return started;
}

char **dr_runinfo_list(const char *state_dir, size_t *n)
{
	dr_buf dir;
	dr_buf_init(&dir);
	dr_buf_printf(&dir, "%s/runs", state_dir);
	DIR *d = opendir(dir.data);
	dr_buf_dispose(&dir);
	listed *v = NULL;
	size_t cap = 0;
	*n = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		int64_t t = started_of(state_dir, e->d_name);
		if (t < 0)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			v = xrealloc(v, cap * sizeof *v);
		}
		v[(*n)++] = (listed){xstrdup(e->d_name), t};
	}
	if (d)
		closedir(d);
	if (*n)
		qsort(v, *n, sizeof *v, newest_first);
	char **ids = xcalloc(*n + 1, sizeof *ids);
	for (size_t i = 0; i < *n; i++)
		ids[i] = v[i].id;
	free(v);
	return ids;
}
