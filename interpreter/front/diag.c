/*
 * diag.c - collecting and rendering diagnostics.
 *
 * Diagnostics are kept in emission order and sorted by position before
 * rendering. Source texts are kept per file so the renderer can print the
 * offending line with a caret (jq's locfile does the same).
 */
#include "front/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/buf.h"
#include "util/index.h"
#include "util/text.h"
#include "util/xalloc.h"

typedef struct source {
	char *file;
	const char *text; /* inside buf */
	size_t len;
	size_t *lines; /* offsets of each line's start, built on the first render; NULL before */
	size_t n_lines;
	void *buf; /* what d owns (malloc'd): a copy, or the loader's buffer of the file */
} source;

struct dr_diags {
	dr_diag *items;
	size_t n, cap;
	source *sources;
	size_t n_sources;
	unsigned seq;
	dr_index at; /* dr_diags_has: items[0..n_at) by code and position (a cache; sorting drops it) */
	size_t n_at;
};

static const struct {
	const char *id, *name, *summary;
} code_table[] = {
#define DR_CODE(id, name, summary) {#id, name, summary},
#include "front/diag_codes.h"
#undef DR_CODE
};

const char *dr_code_id(dr_code c) { return c < DR_CODE_COUNT ? code_table[c].id : "DR000"; }
const char *dr_code_name(dr_code c) { return c < DR_CODE_COUNT ? code_table[c].name : "unknown"; }
const char *dr_code_summary(dr_code c) { return c < DR_CODE_COUNT ? code_table[c].summary : ""; }

dr_diags *dr_diags_new(void)
{
	return xcalloc(1, sizeof(dr_diags));
}

void dr_diags_free(dr_diags *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		free(d->items[i].msg);
		free(d->items[i].hint);
		free((char *)d->items[i].loc.file);
	}
	for (size_t i = 0; i < d->n_sources; i++) {
		free(d->sources[i].file);
		free(d->sources[i].buf);
		free(d->sources[i].lines);
	}
	free(d->sources);
	free(d->items);
	dr_index_dispose(&d->at);
	free(d);
}

static bool has_source(const dr_diags *d, const char *file)
{
	for (size_t i = 0; i < d->n_sources; i++)
		if (strcmp(d->sources[i].file, file) == 0)
			return true;
	return false;
}

static void put_source(dr_diags *d, const char *file, const char *text, size_t len, void *buf)
{
	d->sources = xrealloc(d->sources, (d->n_sources + 1) * sizeof *d->sources);
	d->sources[d->n_sources++] = (source){xstrdup(file), text, len, NULL, 0, buf};
}

void dr_diags_add_source(dr_diags *d, const char *file, const char *text, size_t len)
{
	if (!has_source(d, file)) {
		char *copy = xstrndup(text, len);
		put_source(d, file, copy, len, copy);
	}
}

bool dr_diags_adopt_source(dr_diags *d, const char *file, const char *text, size_t len, void *buf)
{
	if (has_source(d, file))
		return false;
	put_source(d, file, text, len, buf);
	return true;
}

static dr_diag *vadd(dr_diags *d, dr_severity sev, dr_code code, dr_loc loc, const char *fmt, va_list ap)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 16;
		d->items = xrealloc(d->items, d->cap * sizeof *d->items);
	}
	dr_diag *g = &d->items[d->n++];
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_vprintf(&b, fmt, ap);
	g->sev = sev;
	g->code = code;
	g->loc = loc;
	g->loc.file = xstrdup(loc.file ? loc.file : "<input>");
	if (g->loc.len < 1)
		g->loc.len = 1;
	g->msg = dr_buf_detach(&b);
	dr_buf_dispose(&b);
	g->hint = NULL;
	g->seq = d->seq++;
	return g;
}

dr_diag *dr_diag_add(dr_diags *d, dr_severity sev, dr_code code, dr_loc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	dr_diag *g = vadd(d, sev, code, loc, fmt, ap);
	va_end(ap);
	return g;
}

dr_diag *dr_diag_error(dr_diags *d, dr_code code, dr_loc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	dr_diag *g = vadd(d, DR_SEV_ERROR, code, loc, fmt, ap);
	va_end(ap);
	return g;
}

dr_diag *dr_diag_warning(dr_diags *d, dr_code code, dr_loc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	dr_diag *g = vadd(d, DR_SEV_WARNING, code, loc, fmt, ap);
	va_end(ap);
	return g;
}

void dr_diag_set_hint(dr_diag *g, const char *fmt, ...)
{
	dr_buf b;
	dr_buf_init(&b);
	va_list ap;
	va_start(ap, fmt);
	dr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	free(g->hint);
	g->hint = dr_buf_detach(&b);
	dr_buf_dispose(&b);
}

size_t dr_diags_count(const dr_diags *d) { return d->n; }

static size_t count_sev(const dr_diags *d, dr_severity sev)
{
	size_t n = 0;
	for (size_t i = 0; i < d->n; i++)
		n += d->items[i].sev == sev;
	return n;
}

size_t dr_diags_errors(const dr_diags *d) { return count_sev(d, DR_SEV_ERROR); }
size_t dr_diags_warnings(const dr_diags *d) { return count_sev(d, DR_SEV_WARNING); }

const dr_diag *dr_diags_get(const dr_diags *d, size_t i)
{
	return i < d->n ? &d->items[i] : NULL;
}

uint64_t dr_diag_key(dr_code code, int line, int col)
{
	uint64_t x = ((uint64_t)code << 48) ^ ((uint64_t)(uint32_t)line << 20) ^ (uint64_t)(uint32_t)col;
	x = (x ^ (x >> 30)) * UINT64_C(0xbf58476d1ce4e5b9); /* splitmix64's finaliser */
	x = (x ^ (x >> 27)) * UINT64_C(0x94d049bb133111eb);
	return x ^ (x >> 31);
}

/* Constant time: the items are indexed by code and position as they are asked about. */
bool dr_diags_has(const dr_diags *cd, dr_code code, int line, int col)
{
	dr_diags *d = (dr_diags *)cd; /* the index is a cache */
	for (; d->n_at < d->n; d->n_at++) {
		const dr_diag *g = &d->items[d->n_at];
		dr_index_put(&d->at, dr_diag_key(g->code, g->loc.line, g->loc.col), d->n_at);
	}
	uint64_t h = dr_diag_key(code, line, col);
	for (size_t pos = 0, v; (v = dr_index_next(&d->at, h, &pos)) != DR_INDEX_NONE;)
		if (d->items[v].code == code && d->items[v].loc.line == line && d->items[v].loc.col == col)
			return true;
	return false;
}

static int cmp_diag(const void *pa, const void *pb)
{
	const dr_diag *a = pa, *b = pb;
	int c = strcmp(a->loc.file, b->loc.file);
	if (c)
		return c;
	if (a->loc.line != b->loc.line)
		return a->loc.line < b->loc.line ? -1 : 1;
	if (a->loc.col != b->loc.col)
		return a->loc.col < b->loc.col ? -1 : 1;
	return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void dr_diags_sort(dr_diags *d)
{
	if (d->n > 1)
		qsort(d->items, d->n, sizeof *d->items, cmp_diag);
	dr_index_dispose(&d->at); /* the items moved */
	dr_index_init(&d->at);
	d->n_at = 0;
}

/* The source of file; not const: its line index is a cache built on the first lookup. */
static source *find_source(const dr_diags *d, const char *file)
{
	for (size_t i = 0; i < d->n_sources; i++)
		if (strcmp(d->sources[i].file, file) == 0)
			return &d->sources[i];
	return NULL;
}

/* Index s's line starts, once: every diagnostic's line is then found in O(1). */
static void index_lines(source *s)
{
	size_t cap = 64;
	s->lines = xmalloc(cap * sizeof *s->lines);
	s->lines[s->n_lines++] = 0;
	for (const char *p = s->text, *end = s->text + s->len; (p = memchr(p, '\n', (size_t)(end - p))); p++) {
		if (s->n_lines == cap)
			s->lines = xrealloc(s->lines, (cap *= 2) * sizeof *s->lines);
		s->lines[s->n_lines++] = (size_t)(p + 1 - s->text);
	}
}

/* The bytes of line (1-based) in s, without its newline; false when out of range. */
static bool source_line(source *s, int line, const char **start, size_t *len)
{
	if (!s->lines)
		index_lines(s);
	if (line < 1 || (size_t)line > s->n_lines)
		return false;
	const char *p = s->text + s->lines[line - 1], *end = s->text + s->len;
	const char *nl = memchr(p, '\n', (size_t)(end - p));
	*start = p;
	*len = (size_t)((nl ? nl : end) - p);
	if (*len && p[*len - 1] == '\r')
		(*len)--;
	return true;
}

bool dr_diags_source_line(const dr_diags *d, const char *file, int line, const char **start, size_t *len)
{
	source *s = file ? find_source(d, file) : NULL;
	return s && line >= 1 && source_line(s, line, start, len);
}

static const char *sev_name(dr_severity s)
{
	return s == DR_SEV_ERROR ? "error" : s == DR_SEV_WARNING ? "warning" : "note";
}

static const char *sev_color(dr_severity s)
{
	return s == DR_SEV_ERROR ? "\033[1;31m" : s == DR_SEV_WARNING ? "\033[1;35m" : "\033[1;36m";
}

static bool is_continuation(char c)
{
	return ((unsigned char)c & 0xC0) == 0x80;
}

/* Characters (not bytes) in line[from, to): columns are bytes, the screen shows characters. */
static int count_chars(const char *line, size_t from, size_t to)
{
	int n = 0;
	for (size_t i = from; i < to; i++)
		n += !is_continuation(line[i]);
	return n;
}

/*
 * The source line is echoed with its control characters escaped (a runbook
 * under review must not drive the reviewer's terminal); the caret pads by
 * what the escaped line shows, so it still lines up.
 */
static void render_caret(const dr_diags *d, const dr_diag *g, dr_buf *out, bool color)
{
	source *s = find_source(d, g->loc.file);
	const char *line;
	size_t len;
	if (!s || g->loc.line < 1 || !source_line(s, g->loc.line, &line, &len))
		return;
	dr_buf_printf(out, "%5d | ", g->loc.line);
	dr_text_escape_term(out, line, len, DR_TEXT_KEEP_TAB);
	dr_buf_puts(out, "\n      | ");
	size_t start = (size_t)(g->loc.col - 1) < len ? (size_t)(g->loc.col - 1) : len;
	dr_buf shown;
	dr_buf_init(&shown);
	dr_text_escape_term(&shown, line, start, DR_TEXT_KEEP_TAB);
	/* keep tabs in the padding so the caret lines up under them */
	for (size_t i = 0; i < shown.len; i++)
		if (!is_continuation(shown.data[i]))
			dr_buf_putc(out, shown.data[i] == '\t' ? '\t' : ' ');
	size_t end = start + (size_t)g->loc.len;
	dr_buf_reset(&shown);
	dr_text_escape_term(&shown, line + start, (end < len ? end : len) - start, DR_TEXT_KEEP_TAB);
	int span = count_chars(shown.data, 0, shown.len);
	dr_buf_dispose(&shown);
	if (span < 1)
		span = 1;
	dr_buf_puts(out, color ? "\033[1;32m^" : "^");
	for (int i = 1; i < span; i++)
		dr_buf_putc(out, '~');
	dr_buf_puts(out, color ? "\033[0m\n" : "\n");
}

static void render_one(const dr_diags *d, const dr_diag *g, dr_buf *out, bool color)
{
	const char *bold = color ? "\033[1m" : "", *reset = color ? "\033[0m" : "";
	dr_buf_puts(out, bold);
	dr_text_escape_term(out, g->loc.file, strlen(g->loc.file), 0);
	if (g->loc.line > 0)
		dr_buf_printf(out, ":%d:%d:%s ", g->loc.line, g->loc.col, reset);
	else
		dr_buf_printf(out, ":%s ", reset);
	dr_buf_printf(out, "%s%s:%s ", color ? sev_color(g->sev) : "", sev_name(g->sev), reset);
	dr_text_escape_term(out, g->msg, strlen(g->msg), 0); /* it quotes names and values from the runbook */
	dr_buf_printf(out, " [%s]\n", dr_code_id(g->code));
	render_caret(d, g, out, color);
	if (g->hint) {
		dr_buf_printf(out, "%shint:%s ", color ? "\033[1;36m" : "", reset);
		dr_text_escape_term(out, g->hint, strlen(g->hint), 0);
		dr_buf_putc(out, '\n');
	}
}

enum { RENDER_CHUNK = 64 * 1024 };

/* Rendered into a buffer and written in 64 KiB chunks: stderr is unbuffered, and 20,000 diagnostics were a million writes. */
void dr_diags_render_text(const dr_diags *d, FILE *out, bool color)
{
	dr_buf b;
	dr_buf_init(&b);
	for (size_t i = 0; i < d->n; i++) {
		render_one(d, &d->items[i], &b, color);
		if (b.len >= RENDER_CHUNK || i + 1 == d->n) {
			fwrite(b.data, 1, b.len, out);
			dr_buf_reset(&b);
		}
	}
	fflush(out);
	dr_buf_dispose(&b);
}

void dr_diags_render_json(const dr_diags *d, FILE *out)
{
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < d->n; i++) {
		const dr_diag *g = &d->items[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "file", g->loc.file);
		cJSON_AddNumberToObject(o, "line", g->loc.line);
		cJSON_AddNumberToObject(o, "column", g->loc.col);
		cJSON_AddNumberToObject(o, "end_column", g->loc.col + g->loc.len);
		cJSON_AddStringToObject(o, "severity", sev_name(g->sev));
		cJSON_AddStringToObject(o, "code", dr_code_id(g->code));
		cJSON_AddStringToObject(o, "name", dr_code_name(g->code));
		cJSON_AddStringToObject(o, "message", g->msg);
		if (g->hint)
			cJSON_AddStringToObject(o, "hint", g->hint);
		else
			cJSON_AddNullToObject(o, "hint");
		cJSON_AddItemToArray(arr, o);
	}
	char *s = cJSON_Print(arr);
	fputs(s, out);
	fputc('\n', out);
	cJSON_free(s);
	cJSON_Delete(arr);
}
