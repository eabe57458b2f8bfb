/*
 * journal_read.c - reading a journal back (see journal.h): the header, the
 * records in order, and what is wrong with the file if anything is.
 *
 * What a crash can leave: the writer appends whole batches of lines with
 * one write() and makes them durable with fdatasync(), so a process killed
 * at any point leaves whole lines, and only a power loss (or a full disk)
 * can leave part of the last batch: a last line without its newline, or
 * with bytes that never reached the disk (often zeros). Both are "torn":
 * the line is left out and reported, and a resumed run cuts it off. Damage
 * anywhere else cannot come from a crash; it is reported as corruption,
 * with the line, and nothing is guessed.
 */
#include "journal/journal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/xalloc.h"

static int slurp(const char *path, dr_buf *out, dr_buf *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		dr_buf_printf(err, "cannot read the journal '%s': %s", path, strerror(e));
		errno = e;
		return -1;
	}
	char chunk[65536];
	size_t got;
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0)
		dr_buf_append(out, chunk, got);
	bool bad = ferror(f);
	fclose(f);
	if (bad) {
		dr_buf_printf(err, "cannot read the journal '%s': %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

/* A JSON object with a string "event", or NULL with why. */
static cJSON *parse_line(const char *p, size_t n, const char **why)
{
	if (memchr(p, '\0', n)) {
		*why = "it holds NUL bytes";
		return NULL;
	}
	cJSON *v = cJSON_ParseWithLength(p, n);
	if (!v) {
		*why = "it is not valid JSON";
		return NULL;
	}
	if (!cJSON_IsObject(v) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(v, "event"))) {
		*why = cJSON_IsObject(v) ? "it has no \"event\"" : "it is not a JSON object";
		cJSON_Delete(v);
		return NULL;
	}
	return v;
}

static void add_rec(dr_journal_file *f, cJSON *v, size_t line, size_t *cap)
{
	if (f->n == *cap) {
		*cap = *cap ? 2 * *cap : 256;
		f->recs = xrealloc(f->recs, *cap * sizeof *f->recs);
		f->lines = xrealloc(f->lines, *cap * sizeof *f->lines);
	}
	f->recs[f->n] = v;
	f->lines[f->n++] = line;
}

static void excerpt(dr_buf *err, const char *p, size_t n)
{
	size_t k = n > 60 ? 60 : n;
	dr_buf_puts(err, ": ");
	for (size_t i = 0; i < k; i++)
		dr_buf_putc(err, p[i] >= 32 && p[i] < 127 ? p[i] : '?');
	if (k < n)
		dr_buf_puts(err, "...");
}

static int check_header(dr_journal_file *f, dr_buf *err)
{
	const cJSON *h = f->header;
	const char *fmt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "format"));
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(h, "version");
	if (!fmt || strcmp(fmt, DR_JOURNAL_FORMAT) || !cJSON_IsNumber(ver)) {
		dr_buf_printf(err, "%s:1: not a drover journal (its first line is not a journal header)", f->path);
		return -1;
	}
	if (ver->valuedouble > DR_JOURNAL_VERSION) {
		dr_buf_printf(err, "%s:1: journal format version %d is newer than this drover reads (%d); use a newer drover",
			      f->path, (int)ver->valuedouble, DR_JOURNAL_VERSION);
		return -1;
	}
	return 0;
}

/* Set ended/end/sessions from the records. */
static void scan(dr_journal_file *f)
{
	f->sessions = 1;
	for (size_t i = 0; i < f->n; i++) {
		const char *ev = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(f->recs[i], "event"));
		if (!strcmp(ev, "run.resume")) {
			f->sessions++;
			f->ended = false;
			f->end = NULL;
		} else if (!strcmp(ev, "run.end")) {
			f->ended = true;
			f->end = f->recs[i];
		}
	}
}

/* One line [p, p+n) numbered line; last: nothing follows it (complete says whether it ended with '\n'). */
static int one_line(dr_journal_file *f, const char *p, size_t n, size_t line, bool last, bool complete, size_t *cap,
		    dr_buf *err)
{
	const char *why = "it is incomplete";
	cJSON *v = complete ? parse_line(p, n, &why) : NULL;
	if (v) {
		if (line == 1)
			f->header = v;
		else
			add_rec(f, v, line, cap);
		return 0;
	}
	if (last) {
		f->torn = true;
		f->torn_line = line;
		f->torn_bytes = n + complete;
		return 0;
	}
	dr_buf_printf(err, "%s:%zu: the journal is corrupted: line %zu cannot be read (%s)", f->path, line, line, why);
	excerpt(err, p, n);
	dr_buf_puts(err, ".\nA crash only ever tears the last line; this damage came from elsewhere (an edit, a disk "
			 "error). drover will not guess what happened after it: look at the file, and if you cut it "
			 "off from this line on, a resume asks the service about the attempts whose results are lost.");
	return -1;
}

int dr_journal_read(const char *path, dr_journal_file *f, dr_buf *err)
{
	*f = (dr_journal_file){.path = xstrdup(path)};
	dr_buf b;
	dr_buf_init(&b);
	int rc = slurp(path, &b, err);
	size_t cap = 0, line = 0;
	for (size_t off = 0; rc == 0 && off < b.len; line++) {
		const char *p = b.data + off, *nl = memchr(p, '\n', b.len - off);
		size_t n = nl ? (size_t)(nl - p) : b.len - off;
		bool last = !nl || off + n + 1 >= b.len;
		rc = one_line(f, p, n, line + 1, last, nl != NULL, &cap, err);
		if (rc == 0 && !f->torn)
			f->valid_bytes = (off_t)(off + n + 1);
		off += n + 1;
	}
	if (rc == 0 && !f->header) {
		dr_buf_printf(err, "%s: the journal has no complete header: the run never started (drover stopped while "
				   "creating it); there is nothing to resume",
			      path);
		rc = -1;
	}
	if (rc == 0)
		rc = check_header(f, err);
	if (rc == 0)
		scan(f);
	dr_buf_dispose(&b);
	return rc;
}

void dr_journal_file_dispose(dr_journal_file *f)
{
	if (!f)
		return;
	cJSON_Delete(f->header);
	for (size_t i = 0; i < f->n; i++)
		cJSON_Delete(f->recs[i]);
	free(f->recs);
	free(f->lines);
	free(f->path);
	*f = (dr_journal_file){0};
}
