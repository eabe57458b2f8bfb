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
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

/* Each record as the reader checks it: the header first (it is read before any record), then the record. */
static void fold_record(void *ctx, cJSON *rec)
{
	dr_runinfo *ri = ctx;
	if (!ri->journal && ri->f.header)
		dr_runinfo_apply_header(ri, ri->f.header);
	dr_runinfo_take(ri, rec);
}

int dr_runinfo_load(const char *state_dir, const char *run_id, dr_runinfo *ri, dr_buf *err)
{
	dr_runinfo_init(ri);
	ri->state_dir = state_dir;
	char *path = dr_journal_path(state_dir, run_id);
	int rc = dr_journal_read_each(path, &ri->f, fold_record, ri, err);
	if (rc < 0 && access(path, F_OK) != 0 && errno == ENOENT) /* not EACCES: say that, not "no run" */
		no_such_run(state_dir, run_id, err);
	free(path);
	if (rc < 0) {
		dr_runinfo_dispose(ri); /* nothing to read: disposing it again is harmless */
		return -1;
	}
	if (!ri->journal) /* a journal of a header only */
		dr_runinfo_apply_header(ri, ri->f.header);
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

/* --- a run in brief ----------------------------------------------------------- */

#define TAIL_CHUNK 4096

static char *dup_or(const char *s, const char *dflt)
{
	return xstrdup(s ? s : dflt);
}

/* The first line of f as a JSON object (the header), or NULL. */
static cJSON *first_line(FILE *f)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);
	cJSON *h = n > 1 && line[n - 1] == '\n' ? cJSON_ParseWithLength(line, (size_t)n - 1) : NULL;
	free(line);
	return h;
}

/* The last complete line of f that is a JSON object (a torn tail is passed over), or NULL. */
static cJSON *last_record(FILE *f, off_t size)
{
	for (off_t want = TAIL_CHUNK;; want *= 2) {
		off_t from = size > want ? size - want : 0;
		size_t n = (size_t)(size - from);
		char *buf = xmalloc(n + 1);
		cJSON *rec = NULL;
		if (fseeko(f, from, SEEK_SET) == 0 && fread(buf, 1, n, f) == n) {
			buf[n] = '\0';
			char *end = memrchr(buf, '\n', n); /* lines end with '\n': what follows the last one is torn */
			while (end && !rec) {
				*end = '\0';
				char *start = memrchr(buf, '\n', (size_t)(end - buf));
				if (!start && from > 0)
					break; /* the line may begin before the window: a wider one */
				rec = cJSON_Parse(start ? start + 1 : buf);
				if (rec && !cJSON_IsObject(rec))
					cJSON_Delete(rec), rec = NULL;
				end = start;
			}
		}
		free(buf);
		if (rec || from == 0)
			return rec;
	}
}

static void brief_counts(dr_runinfo_brief *b, const cJSON *counts)
{
	for (const cJSON *c = counts ? counts->child : NULL; c; c = c->next) {
		size_t v = cJSON_IsNumber(c) ? (size_t)c->valuedouble : 0;
		b->steps_total += v;
		if (!strcmp(c->string, "succeeded") || !strcmp(c->string, "skipped"))
			b->steps_done += v;
	}
}

/* From the header and a last word (run.end or run.suspend). */
static void brief_ended(dr_runinfo_brief *b, const cJSON *h, const cJSON *end)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(end, "t_ms"), *st = cJSON_GetObjectItemCaseSensitive(h, "started_ms");
	bool suspended = !strcmp(sval(end, "event"), "run.suspend") || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(end, "suspended"));
	b->runbook = dup_or(sval(cJSON_GetObjectItemCaseSensitive(h, "runbook"), "name"), "?");
	b->mode = dup_or(sval(h, "mode"), "?");
	b->status = dup_or(suspended ? "suspended" : sval(end, "status"), "failed");
	b->started_wall = cJSON_IsNumber(st) ? (int64_t)st->valuedouble : 0;
	b->elapsed_ms = cJSON_IsNumber(t) ? (int64_t)t->valuedouble : 0;
	brief_counts(b, cJSON_GetObjectItemCaseSensitive(end, "steps"));
	brief_counts(b, cJSON_GetObjectItemCaseSensitive(end, "finally"));
	if (!cJSON_GetObjectItemCaseSensitive(end, "steps")) /* refused before any step (blocked, busy): the runbook's */
		b->steps_total = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
			cJSON_GetObjectItemCaseSensitive(h, "shape"), "steps"));
}

/* A run that has not ended: the whole fold. */
static int brief_whole(const char *state_dir, const char *run_id, dr_runinfo_brief *b, dr_buf *err)
{
	dr_runinfo ri;
	if (dr_runinfo_load(state_dir, run_id, &ri, err) < 0)
		return -1;
	for (size_t i = 0; i < ri.n_steps; i++) {
		const dr_ri_step *s = &ri.steps[i];
		if (s->undoes || (s->phase && !strcmp(s->phase, "rollback")))
			continue;
		b->steps_total++;
		b->steps_done += s->state == DR_RI_SUCCEEDED || s->state == DR_RI_SKIPPED;
	}
	b->runbook = dup_or(ri.runbook, "?");
	b->mode = dup_or(ri.mode, "?");
	b->status = dup_or(ri.status, "?");
	b->started_wall = ri.started_wall;
	b->elapsed_ms = ri.elapsed_ms;
	b->in_flight = ri.in_flight;
	b->whole = true;
	dr_runinfo_dispose(&ri);
	return 0;
}

int dr_runinfo_brief_load(const char *state_dir, const char *run_id, dr_runinfo_brief *b, dr_buf *err)
{
	*b = (dr_runinfo_brief){0};
	char *path = dr_journal_path(state_dir, run_id);
	FILE *f = fopen(path, "rb");
	free(path);
	struct stat sb;
	cJSON *h = f ? first_line(f) : NULL, *end = NULL;
	if (h && fstat(fileno(f), &sb) == 0)
		end = last_record(f, sb.st_size);
	if (f)
		fclose(f);
	const char *type = sval(end, "event");
	bool ended = type && (!strcmp(type, "run.end") || !strcmp(type, "run.suspend"));
	if (ended && cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(h, "version")) &&
	    cJSON_GetObjectItemCaseSensitive(h, "version")->valuedouble >= 2) {
		dr_journal_expand_shape(h);
		dr_journal_expand(end, h);
	}
	if (ended)
		brief_ended(b, h, end);
	cJSON_Delete(h);
	cJSON_Delete(end);
	return ended ? 0 : brief_whole(state_dir, run_id, b, err);
}

void dr_runinfo_brief_dispose(dr_runinfo_brief *b)
{
	free(b->runbook);
	free(b->mode);
	free(b->status);
	*b = (dr_runinfo_brief){0};
}
