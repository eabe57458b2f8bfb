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
 *
 * Strict (docs/journal.md, "Reading a journal"): a line is one JSON object
 * and nothing after it; every record has a whole, non-negative "t_ms";
 * every number outside "outputs" and "params" is a whole number in range
 * (milliseconds, "*_ms", within 2^53; counts within an int), so no reader
 * casts a double it cannot represent; the header names everything resume
 * takes up again (clock, direction, shape, ...), with known values; the
 * records resume applies carry what it needs (a step, an attempt, a status).
 */
#include "journal/journal.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "run/clock.h"
#include "run/modes.h"
#include "util/xalloc.h"

#define MAX_MS 9007199254740992.0 /* 2^53: every whole number up to it is exact in a double */

static int slurp(const char *path, dr_buf *out, dr_buf *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		dr_buf_printf(err, "cannot read the journal '%s': %s", path, strerror(e));
		errno = e;
		return -1;
	}
	struct stat sb;
	size_t got;
	if (fstat(fileno(f), &sb) == 0 && sb.st_size > 0)
		dr_buf_reserve(out, (size_t)sb.st_size); /* one allocation, read in place */
	do {
		dr_buf_reserve(out, 65536);
		got = fread(out->data + out->len, 1, out->cap - out->len - 1, f);
		out->len += got;
		out->data[out->len] = '\0';
	} while (got > 0);
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
	const char *end = NULL;
	cJSON *v = cJSON_ParseWithLengthOpts(p, n, &end, false);
	if (!v) {
		*why = "it is not valid JSON";
		return NULL;
	}
	while (end < p + n && (*end == ' ' || *end == '\t' || *end == '\r'))
		end++;
	if (end < p + n) {
		*why = "it has more after the record";
		cJSON_Delete(v);
		return NULL;
	}
	if (!cJSON_IsObject(v) || !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(v, "event"))) {
		*why = cJSON_IsObject(v) ? "it has no \"event\"" : "it is not a JSON object";
		cJSON_Delete(v);
		return NULL;
	}
	return v;
}

/* --- what a record must hold ------------------------------------------------ */

/* Where a problem's text is made when it names a field (why_text). */
typedef struct why_text {
	char s[160];
} why_text;

/* Format into why; returns the text. */
__attribute__((format(printf, 2, 3))) static const char *say(why_text *why, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why->s, sizeof why->s, fmt, ap);
	va_end(ap);
	return why->s;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

/* A number drover wrote: whole, and within what its readers cast it to. */
static bool number_ok(const cJSON *v, const char *key)
{
	double d = v->valuedouble, max = key && ends_with(key, "_ms") ? MAX_MS : (double)INT_MAX;
	return isfinite(d) && d == floor(d) && d >= -max && d <= max;
}

/* The first number under v (outside outputs and params) that is not one drover writes; NULL: none. */
static const cJSON *bad_number(const cJSON *v, const char *key)
{
	if (cJSON_IsNumber(v))
		return number_ok(v, key) ? NULL : v;
	for (const cJSON *c = v->child; c; c = c->next) {
		if (!cJSON_IsNumber(c) && !cJSON_IsObject(c) && !cJSON_IsArray(c))
			continue; /* a string, a boolean, null: no number in it */
		if (c->string && (!strcmp(c->string, "outputs") || !strcmp(c->string, "params")))
			continue;
		const cJSON *bad = bad_number(c, c->string ? c->string : key);
		if (bad)
			return bad;
	}
	return NULL;
}

static const char *const phases[] = {"rollback", "finally", NULL};
static const char *const task_statuses[] = {"succeeded", "failed", "cancelled", NULL};
static const char *const clocks[] = {"real", "virtual", NULL};

static bool one_of(const char *s, const char *const *names)
{
	for (size_t i = 0; s && names[i]; i++)
		if (!strcmp(s, names[i]))
			return true;
	return false;
}

static bool mode_known(const char *s)
{
	for (int m = DR_MODE_FAILOVER; s && m <= DR_MODE_FAILBACK; m++)
		if (!strcmp(s, dr_mode_name((dr_run_mode)m)))
			return true;
	return false;
}

static bool direction_known(const char *s)
{
	return s && (!strcmp(s, dr_mode_direction_name(DR_BE_DIR_PRIMARY_TO_RECOVERY)) ||
		     !strcmp(s, dr_mode_direction_name(DR_BE_DIR_RECOVERY_TO_PRIMARY)));
}

static bool digits(const char *s)
{
	if (!s || !*s)
		return false;
	while (*s >= '0' && *s <= '9')
		s++;
	return !*s;
}

/* The field, when it is there and of this kind (cJSON_IsString, ...). */
static const cJSON *field_of(const cJSON *o, const char *key, cJSON_bool (*is)(const cJSON *))
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return v && is(v) ? v : NULL;
}

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = field_of(o, key, cJSON_IsString);
	return v ? v->valuestring : NULL;
}

/* What the header lacks or has wrong (resume takes each of these up again); NULL: nothing. */
static const char *header_problem(const cJSON *h, why_text *why)
{
	static const struct {
		const char *key;
		cJSON_bool (*is)(const cJSON *);
	} need[] = {
		{"run", cJSON_IsString},     {"runbook", cJSON_IsObject}, {"params", cJSON_IsObject},
		{"backend", cJSON_IsObject}, {"shape", cJSON_IsObject},	  {"started_ms", cJSON_IsNumber},
	};
	for (size_t i = 0; i < sizeof need / sizeof need[0]; i++)
		if (!field_of(h, need[i].key, need[i].is))
			return say(why, "the header has no \"%s\" of the right kind", need[i].key);
	if (!mode_known(str_of(h, "mode")))
		return "the header's \"mode\" is missing or not one drover runs";
	if (!direction_known(str_of(h, "direction")))
		return "the header's \"direction\" is missing or unknown";
	if (!one_of(str_of(h, "clock"), clocks))
		return "the header's \"clock\" is missing or neither real nor virtual";
	if (!digits(str_of(h, "seed")))
		return "the header's \"seed\" is missing or not a number in a string";
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(h, "concurrency");
	if (c && !cJSON_IsNull(c) && !(cJSON_IsNumber(c) && c->valuedouble >= 0))
		return "the header's \"concurrency\" is neither a count nor null";
	if (!str_of(cJSON_GetObjectItemCaseSensitive(h, "runbook"), "path"))
		return "the header's \"runbook\" has no \"path\"";
	return NULL;
}

/* What a record resume applies lacks (task.start, task.end, step.timeout); NULL: nothing. */
static const char *applied_problem(const cJSON *v, const char *type)
{
	bool start = !strcmp(type, "task.start"), end = !strcmp(type, "task.end");
	if (!start && !end && strcmp(type, "step.timeout"))
		return NULL;
	if (!str_of(v, "step"))
		return "it names no \"step\"";
	const cJSON *a = field_of(v, "attempt", cJSON_IsNumber);
	if ((start || end) && (!a || a->valuedouble < (start ? 1 : 0)))
		return start ? "its \"attempt\" is missing or below 1" : "its \"attempt\" is missing or negative";
	if (end && !one_of(str_of(v, "status"), task_statuses))
		return "its \"status\" is missing or not succeeded, failed or cancelled";
	return NULL;
}

/* Why v is not a record (or header) drover writes; NULL when it is one. why may hold the text. */
static const char *record_problem(const cJSON *v, bool header, why_text *why)
{
	const cJSON *t = field_of(v, "t_ms", cJSON_IsNumber);
	if (!t)
		return "it has no \"t_ms\"";
	const cJSON *bad = bad_number(v, NULL);
	if (bad)
		return say(why, "\"%s\" is %g, not a whole number drover could have written",
			   bad->string ? bad->string : "?", bad->valuedouble);
	if (t->valuedouble < 0)
		return "its \"t_ms\" is negative";
	static const char *const names[] = {"step", "target", "undoes", "action", NULL};
	for (size_t i = 0; names[i]; i++) {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(v, names[i]);
		if (s && !cJSON_IsString(s))
			return say(why, "its \"%s\" is not a string", names[i]);
	}
	const char *ph = str_of(v, "phase");
	if (cJSON_GetObjectItemCaseSensitive(v, "phase") && !one_of(ph, phases))
		return "its \"phase\" is neither rollback nor finally";
	return header ? header_problem(v, why) : applied_problem(v, str_of(v, "event"));
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

/* A header of this format and a version this drover reads. */
static bool ours(const cJSON *h)
{
	const char *fmt = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "format"));
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(h, "version");
	return fmt && !strcmp(fmt, DR_JOURNAL_FORMAT) && cJSON_IsNumber(ver) && ver->valuedouble <= DR_JOURNAL_VERSION;
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

/* Where a record is read to: kept in the file's recs, or handed to each (dr_journal_read_each). */
typedef struct sink {
	void (*each)(void *ctx, cJSON *rec);
	void *ctx;
	size_t cap;
} sink;

/* ended/end/sessions as the records go by; then the record to its sink. */
static void take_rec(dr_journal_file *f, cJSON *v, size_t line, sink *to)
{
	const char *ev = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "event"));
	if (!strcmp(ev, "run.resume")) {
		f->sessions++;
		f->ended = false;
		f->end = NULL;
	} else if (!strcmp(ev, "run.end")) {
		f->ended = true;
		f->end = to->each ? NULL : v; /* handed on: the caller has it */
	}
	if (!to->each) {
		add_rec(f, v, line, &to->cap);
		return;
	}
	f->n++;
	to->each(to->ctx, v);
}

/* One line [p, p+n) numbered line; last: nothing follows it (complete says whether it ended with '\n'). */
static int one_line(dr_journal_file *f, const char *p, size_t n, size_t line, bool last, bool complete, sink *to,
		    dr_buf *err)
{
	const char *why = "it is incomplete";
	cJSON *v = complete ? parse_line(p, n, &why) : NULL, *before = NULL, *after = NULL;
	if (v && line == 1 && ours(v))
		dr_journal_expand_shape(v);
	else if (v && line > 1 && f->version >= 3)
		dr_journal_unfold(v, f->header, &f->last_t_ms, &before, &after);
	else if (v && line > 1 && f->version >= 2)
		dr_journal_expand(v, f->header);
	if (!v && last) {
		f->torn = true;
		f->torn_line = line;
		f->torn_bytes = n + complete;
		return 0;
	}
	why_text text;
	/* a header of another format or version is check_header's to report */
	const char *wrong = v && (line > 1 || ours(v)) ? record_problem(v, line == 1, &text) : NULL;
	if (v && !wrong) {
		if (line == 1) {
			const cJSON *ver = cJSON_GetObjectItemCaseSensitive(v, "version");
			const cJSON *t = cJSON_GetObjectItemCaseSensitive(v, "t_ms");
			f->header = v;
			f->version = cJSON_IsNumber(ver) ? (int)ver->valuedouble : 1;
			/* ours: record_problem found it whole, within 2^53, not negative; another format's is not read on */
			f->last_t_ms = ours(v) ? (int64_t)t->valuedouble : -1;
			return 0;
		}
		if (before) /* a version 3 line's step records, around its own (dr_journal_unfold) */
			take_rec(f, before, line, to);
		take_rec(f, v, line, to);
		if (after)
			take_rec(f, after, line, to);
		return 0;
	}
	cJSON_Delete(before);
	cJSON_Delete(after);
	cJSON_Delete(v);
	dr_buf_printf(err, "%s:%zu: the journal is corrupted: line %zu %s (%s)", f->path, line, line,
		      wrong ? "is not a record drover writes" : "cannot be read", wrong ? wrong : why);
	excerpt(err, p, n);
	dr_buf_puts(err, ".\nA crash only ever tears the last line; this damage came from elsewhere (an edit, a disk "
			 "error). ");
	if (line == 1)
		dr_buf_puts(err, "The header is what a resume takes the run up from, and drover will not guess it: restore "
				 "the file from a copy, or look at what the run did in the service and start a new run.");
	else
		dr_buf_puts(err, "drover will not guess what happened after it: look at the file, and if you cut it off "
				 "from this line on, a resume asks the service about the attempts whose results are lost.");
	return -1;
}

static int read_all(const char *path, dr_journal_file *f, sink *to, dr_buf *err)
{
	*f = (dr_journal_file){.path = xstrdup(path), .sessions = 1};
	dr_buf b;
	dr_buf_init(&b);
	int rc = slurp(path, &b, err);
	size_t line = 0;
	for (size_t off = 0; rc == 0 && off < b.len; line++) {
		const char *p = b.data + off, *nl = memchr(p, '\n', b.len - off);
		size_t n = nl ? (size_t)(nl - p) : b.len - off;
		bool last = !nl || off + n + 1 >= b.len;
		rc = one_line(f, p, n, line + 1, last, nl != NULL, to, err);
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
	dr_buf_dispose(&b);
	return rc;
}

int dr_journal_read(const char *path, dr_journal_file *f, dr_buf *err)
{
	sink to = {0};
	return read_all(path, f, &to, err);
}

int dr_journal_read_each(const char *path, dr_journal_file *f, void (*each)(void *ctx, struct cJSON *rec), void *ctx,
			 dr_buf *err)
{
	sink to = {each, ctx, 0};
	return read_all(path, f, &to, err);
}

/* --- the two ends, read alone ------------------------------------------------ */

static FILE *open_journal(const char *path, dr_buf *err)
{
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		int e = errno;
		dr_buf_printf(err, "cannot read the journal '%s': %s", path, strerror(e));
		errno = e;
	}
	return fp;
}

/* Line 1 of fp into f, checked as read_all checks it: 0, or -1 with err. */
static int header_of(FILE *fp, dr_journal_file *f, dr_buf *err)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, fp);
	bool complete = n > 0 && line[n - 1] == '\n';
	int last = n <= 0 || getc(fp) == EOF; /* a header alone, and torn: no header at all */
	sink to = {0};
	int rc = n > 0 ? one_line(f, line, (size_t)n - complete, 1, last, complete, &to, err) : 0;
	free(line);
	if (rc == 0 && !f->header) {
		dr_buf_printf(err, "%s: the journal has no complete header: the run never started (drover stopped while "
				   "creating it); there is nothing to resume",
			      f->path);
		rc = -1;
	}
	return rc == 0 ? check_header(f, err) : rc;
}

int dr_journal_read_header(const char *path, dr_journal_file *f, dr_buf *err)
{
	*f = (dr_journal_file){.path = xstrdup(path), .sessions = 1};
	FILE *fp = open_journal(path, err);
	if (!fp)
		return -1;
	int rc = header_of(fp, f, err);
	fclose(fp);
	return rc;
}

enum { TAIL_CHUNK = 4096 };

typedef enum { TAIL_EVENT, TAIL_MORE, TAIL_DAMAGED } tail_verdict;

/*
 * The event of the last record in buf, the file's last n bytes (whole: all of it), as read_all reads it back:
 * what follows the last '\n' is a torn fragment; the last complete line, when it is the file's very last one
 * and does not parse, is torn too, and the line before it is the last record. *ev NULL: no record but the header.
 */
static tail_verdict last_event(char *buf, size_t n, bool whole, char **ev)
{
	*ev = NULL;
	char *end = memrchr(buf, '\n', n);
	bool may_be_torn = end == buf + n - 1;
	while (end) {
		char *start = memrchr(buf, '\n', (size_t)(end - buf));
		if (!start && !whole)
			return TAIL_MORE; /* the line may begin before the window */
		const char *why, *from = start ? start + 1 : buf;
		cJSON *v = parse_line(from, (size_t)(end - from), &why);
		if (v)
			*ev = xstrdup(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "event")));
		cJSON_Delete(v);
		if (*ev || !start)
			return TAIL_EVENT; /* line 1 is the header, which header_of checked */
		if (!may_be_torn)
			return TAIL_DAMAGED; /* a line before the last that is no record: read_all calls it corruption */
		may_be_torn = false;
		end = start;
	}
	return TAIL_EVENT;
}

/* Whether the last record of fp (size bytes) is a run.end: 1 or 0; -1 when the lines at its end are damaged. */
static int tail_ended(FILE *fp, off_t size)
{
	for (off_t want = TAIL_CHUNK;; want *= 2) {
		off_t from = size > want ? size - want : 0;
		size_t n = (size_t)(size - from);
		char *buf = xmalloc(n + 1), *ev = NULL;
		bool got = fseeko(fp, from, SEEK_SET) == 0 && fread(buf, 1, n, fp) == n;
		tail_verdict v = got ? last_event(buf, n, from == 0, &ev) : TAIL_DAMAGED;
		free(buf);
		int rc = v == TAIL_DAMAGED ? -1 : ev && !strcmp(ev, "run.end");
		free(ev);
		if (v != TAIL_MORE)
			return rc;
	}
}

int dr_journal_read_ended(const char *path, bool *ended, dr_buf *err)
{
	dr_journal_file f = {.path = xstrdup(path), .sessions = 1};
	*ended = false;
	FILE *fp = open_journal(path, err);
	int e = errno, rc = fp ? header_of(fp, &f, err) : -1;
	struct stat sb;
	if (rc == 0)
		rc = fstat(fileno(fp), &sb) == 0 ? tail_ended(fp, sb.st_size) : -1;
	if (rc < 0 && fp && !err->len)
		dr_buf_printf(err, "%s: the journal's last lines are not records drover writes (damaged)", path);
	if (fp)
		fclose(fp);
	dr_journal_file_dispose(&f);
	*ended = rc == 1;
	errno = fp ? 0 : e;
	return rc < 0 ? -1 : 0;
}

void dr_journal_file_dispose(dr_journal_file *f)
{
	if (!f)
		return;
	cJSON_Delete(f->header);
	for (size_t i = 0; f->recs && i < f->n; i++) /* dr_journal_read_each keeps none */
		cJSON_Delete(f->recs[i]);
	free(f->recs);
	free(f->lines);
	free(f->path);
	*f = (dr_journal_file){0};
}
