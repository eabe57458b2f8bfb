/*
 * secrets.c - reading secrets and redacting them (see secrets.h).
 *
 * The forms of a value are kept in one list; redaction finds every
 * occurrence of every form in the original text (memmem), merges the
 * spans that overlap and copies the text with each span replaced by
 * "***". Spans are found in the original text, so a cut is made at an
 * original offset and never lands inside a replaced span.
 */
#include "run/secrets.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>

#include "backends/http.h"
#include "front/runbook.h"
#include "util/text.h"
#include "util/xalloc.h"

#define MASK "***"

struct dr_secrets {
	pthread_rwlock_t lock;
	char **forms; /* every form of every value, each once */
	size_t n, cap;
	size_t longest;
	char **values, **refs; /* each value, and "${secrets.NAME}" for it */
	size_t n_values;
};

dr_secrets *dr_secrets_new(void)
{
	dr_secrets *s = xcalloc(1, sizeof *s);
	pthread_rwlock_init(&s->lock, NULL);
	return s;
}

void dr_secrets_free(dr_secrets *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		free(s->forms[i]);
	free(s->forms);
	for (size_t i = 0; i < s->n_values; i++) {
		free(s->values[i]);
		free(s->refs[i]);
	}
	free(s->values);
	free(s->refs);
	pthread_rwlock_destroy(&s->lock);
	free(s);
}

/* --- reading ----------------------------------------------------------------- */

/* Why the open file fd (stat sb) cannot hold a secret; NULL when it can. */
static const char *unfit(const struct stat *sb, char *why, size_t n)
{
	if (S_ISDIR(sb->st_mode))
		return "it is a directory";
	if (S_ISFIFO(sb->st_mode))
		return "it is a FIFO (a pipe): drover reads secrets from regular files only, and never waits on one";
	if (!S_ISREG(sb->st_mode))
		return "it is not a regular file (a device or a socket)";
	if (sb->st_mode & 077) {
		snprintf(why, n, "it can be read or written by %s (mode %04o): make it owner-only (chmod 600)",
			 sb->st_mode & 007 ? "other users" : "its group", (unsigned)(sb->st_mode & 07777));
		return why;
	}
	if (sb->st_size > DR_SECRET_MAX_BYTES) {
		snprintf(why, n, "it is %lld bytes, more than a secret's limit of %d", (long long)sb->st_size,
			 DR_SECRET_MAX_BYTES);
		return why;
	}
	return NULL;
}

/* Read the regular file fd holds (at most DR_SECRET_MAX_BYTES) into b; false with why. */
static bool read_fd(int fd, dr_buf *b, const char **why)
{
	char chunk[4096];
	for (;;) {
		ssize_t got = read(fd, chunk, sizeof chunk);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			*why = strerror(errno);
			return false;
		}
		if (got == 0)
			return true;
		dr_buf_append(b, chunk, (size_t)got);
		if (b->len > DR_SECRET_MAX_BYTES) {
			*why = "it grew past a secret's size limit while it was read";
			return false;
		}
	}
}

/* The value b holds: trailing newlines dropped; false with why when nothing is left or it holds a NUL. */
static bool value_of(dr_buf *b, const char **why)
{
	if (memchr(b->data, '\0', b->len)) {
		*why = "it holds a NUL byte";
		return false;
	}
	while (b->len && (b->data[b->len - 1] == '\n' || b->data[b->len - 1] == '\r'))
		b->data[--b->len] = '\0';
	if (!b->len)
		*why = "it is empty";
	return b->len > 0;
}

static char *read_file(const char *path, const char **why, char *buf, size_t bufsz)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC); /* a FIFO opens without a writer, and is refused below */
	if (fd < 0) {
		*why = strerror(errno);
		return NULL;
	}
	struct stat sb;
	dr_buf b;
	dr_buf_init(&b);
	bool ok = false;
	if (fstat(fd, &sb) != 0)
		*why = strerror(errno);
	else if (!(*why = unfit(&sb, buf, bufsz)))
		ok = read_fd(fd, &b, why) && value_of(&b, why);
	close(fd);
	if (ok)
		return dr_buf_detach(&b);
	dr_buf_dispose(&b);
	return NULL;
}

char *dr_secrets_read(const dr_secret *sec, const char *dir, dr_buf *err)
{
	const char *name = sec->name.name, *why = NULL;
	if (sec->env) {
		const char *v = getenv(sec->env);
		if (v && *v)
			return xstrdup(v);
		dr_buf_printf(err, "secrets.%s: the environment variable %s is %s\n", name, sec->env, v ? "empty" : "not set");
		return NULL;
	}
	if (!sec->file) {
		dr_buf_printf(err, "secrets.%s says nowhere to read it from (env: or file:)\n", name);
		return NULL;
	}
	bool here = sec->file[0] == '/' || !dir || !strcmp(dir, ".");
	char *path = here ? xstrdup(sec->file) : NULL, buf[160];
	if (!path) {
		dr_buf p;
		dr_buf_init(&p);
		dr_buf_printf(&p, "%s/%s", dir ? dir : ".", sec->file);
		path = dr_buf_detach(&p);
	}
	char *v = read_file(path, &why, buf, sizeof buf);
	if (!v) {
		char *shown = dr_text_term(path);
		dr_buf_printf(err, "secrets.%s: cannot use the file '%s': %s\n", name, shown, why);
		free(shown);
	}
	free(path);
	return v;
}

char *dr_secrets_read_runbook(const dr_runbook *rb, const dr_secret *sec, dr_buf *err)
{
	const char *slash = rb->path ? strrchr(rb->path, '/') : NULL;
	char *dir = slash ? xstrndup(rb->path, (size_t)(slash - rb->path + (slash == rb->path))) : NULL;
	char *v = dr_secrets_read(sec, dir, err);
	free(dir);
	return v;
}

char *dr_secrets_redact_runbook(const dr_runbook *rb, const char *text)
{
	dr_secrets *s = dr_secrets_new();
	dr_buf why;
	dr_buf_init(&why);
	for (size_t i = 0; i < rb->n_secrets; i++) {
		char *v = dr_secrets_read_runbook(rb, &rb->secrets[i], &why);
		if (v)
			dr_secrets_add(s, rb->secrets[i].name.name, v), explicit_bzero(v, strlen(v));
		free(v);
	}
	char *r = dr_secrets_redact(s, text);
	dr_buf_dispose(&why);
	dr_secrets_free(s);
	return r ? r : xstrdup(text);
}

/* --- the forms of a value ------------------------------------------------------ */

static void add_form(dr_secrets *s, const char *form, size_t n)
{
	if (n < DR_SECRET_MIN_BYTES)
		return;
	for (size_t i = 0; i < s->n; i++)
		if (strlen(s->forms[i]) == n && !memcmp(s->forms[i], form, n))
			return;
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->forms = xrealloc(s->forms, s->cap * sizeof *s->forms);
	}
	s->forms[s->n++] = xstrndup(form, n);
	if (n > s->longest)
		s->longest = n;
}

static void add_whole_base64(dr_secrets *s, char *enc)
{
	add_form(s, enc, strlen(enc));
	char *url = xstrdup(enc);
	size_t n = 0;
	for (char *p = url; *p && *p != '='; p++, n++)
		*p = *p == '+' ? '-' : *p == '/' ? '_' : *p;
	add_form(s, url, n);
	free(url);
}

/*
 * The base64 forms: value after k = 0, 1, 2 other bytes. Of each encoding
 * only the characters whose six bits all come from the value are kept:
 * that part appears wherever the value is encoded at that alignment.
 */
static void add_base64(dr_secrets *s, const char *v, size_t n)
{
	for (size_t k = 0; k < 3; k++) {
		size_t in = k + n, out = 4 * ((in + 2) / 3) + 1;
		unsigned char *raw = xcalloc(1, in + 1), *enc = xmalloc(out);
		memcpy(raw + k, v, n);
		EVP_EncodeBlock(enc, raw, (int)in);
		if (k == 0) /* the whole encoding (padded; base64url unpadded): its last characters carry a few bits too */
			add_whole_base64(s, (char *)enc);
		size_t first = (8 * k + 5) / 6, last = 8 * in / 6; /* characters [first, last) */
		if (last > first) {
			add_form(s, (char *)enc + first, last - first);
			for (size_t i = first; i < last; i++) /* base64url */
				enc[i] = enc[i] == '+' ? '-' : enc[i] == '/' ? '_' : enc[i];
			add_form(s, (char *)enc + first, last - first);
		}
		free(raw);
		free(enc);
	}
}

/* e, and e with '+' for each "%20" (form encoding). */
static void add_with_plus(dr_secrets *s, const char *e)
{
	add_form(s, e, strlen(e));
	dr_buf b;
	dr_buf_init(&b);
	for (const char *p = e; *p; p++) {
		if (!strncmp(p, "%20", 3)) {
			dr_buf_putc(&b, '+');
			p += 2;
		} else {
			dr_buf_putc(&b, *p);
		}
	}
	add_form(s, b.data, b.len);
	dr_buf_dispose(&b);
}

/* Percent-encoded (as curl escapes: upper-case hex) and with lower-case hex, each also form-encoded. */
static void add_url_forms(dr_secrets *s, const char *v)
{
	char *e = dr_http_escape(v);
	add_with_plus(s, e);
	for (char *p = e; *p; p++)
		if (*p == '%' && p[1] && p[2]) {
			p[1] = (char)(p[1] >= 'A' && p[1] <= 'F' ? p[1] + 32 : p[1]);
			p[2] = (char)(p[2] >= 'A' && p[2] <= 'F' ? p[2] + 32 : p[2]);
		}
	add_with_plus(s, e);
	free(e);
}

static void add_json_form(dr_secrets *s, const char *v)
{
	cJSON *str = cJSON_CreateString(v);
	char *j = cJSON_PrintUnformatted(str);
	if (j && strlen(j) >= 2)
		add_form(s, j + 1, strlen(j) - 2);
	cJSON_free(j);
	cJSON_Delete(str);
}

static void add_value(dr_secrets *s, const char *name, const char *value)
{
	if (!name)
		return;
	s->values = xrealloc(s->values, (s->n_values + 1) * sizeof *s->values);
	s->refs = xrealloc(s->refs, (s->n_values + 1) * sizeof *s->refs);
	s->values[s->n_values] = xstrdup(value);
	dr_buf r;
	dr_buf_init(&r);
	dr_buf_printf(&r, "${secrets.%s}", name);
	s->refs[s->n_values++] = dr_buf_detach(&r);
}

void dr_secrets_add(dr_secrets *s, const char *name, const char *value)
{
	if (!value || strlen(value) < DR_SECRET_MIN_BYTES)
		return;
	pthread_rwlock_wrlock(&s->lock);
	size_t n = strlen(value);
	add_value(s, name, value);
	add_form(s, value, n);
	add_base64(s, value, n);
	add_url_forms(s, value);
	add_json_form(s, value);
	pthread_rwlock_unlock(&s->lock);
}

bool dr_secrets_none(dr_secrets *s)
{
	pthread_rwlock_rdlock(&s->lock);
	bool none = s->n == 0;
	pthread_rwlock_unlock(&s->lock);
	return none;
}

size_t dr_secrets_slack(dr_secrets *s)
{
	pthread_rwlock_rdlock(&s->lock);
	size_t n = s->longest;
	pthread_rwlock_unlock(&s->lock);
	return n;
}

/* --- redaction ----------------------------------------------------------------- */

typedef struct span {
	size_t from, to;
} span;

typedef struct spans {
	span *v;
	size_t n, cap;
} spans;

static void add_span(spans *sp, size_t from, size_t to)
{
	if (sp->n == sp->cap) {
		sp->cap = sp->cap ? 2 * sp->cap : 16;
		sp->v = xrealloc(sp->v, sp->cap * sizeof *sp->v);
	}
	sp->v[sp->n++] = (span){from, to};
}

static int by_start(const void *a, const void *b)
{
	const span *x = a, *y = b;
	return x->from < y->from ? -1 : x->from > y->from ? 1 : x->to < y->to ? 1 : x->to > y->to ? -1 : 0;
}

/* Every occurrence of every form in the len bytes at t, sorted by start. Call with the lock held. */
static void find_all(const dr_secrets *s, const char *t, size_t len, spans *sp)
{
	for (size_t i = 0; i < s->n; i++) {
		size_t fl = strlen(s->forms[i]);
		for (const char *p = t; (p = memmem(p, len - (size_t)(p - t), s->forms[i], fl)); p++)
			add_span(sp, (size_t)(p - t), (size_t)(p - t) + fl);
	}
	if (sp->n > 1)
		qsort(sp->v, sp->n, sizeof *sp->v, by_start);
}

/* Where a cut at max must be made so no form is left cut in half at the end of the len bytes at t. */
static size_t safe_cut(const dr_secrets *s, const char *t, size_t len, size_t max)
{
	size_t cut = max;
	for (size_t i = 0; i < s->n; i++) {
		size_t fl = strlen(s->forms[i]);
		for (size_t k = fl - 1 < len ? fl - 1 : len; k > 0; k--)
			if (len - k < cut && !memcmp(t + len - k, s->forms[i], k)) {
				cut = len - k; /* t ends with the start of a form that begins before the cut */
				break;
			}
	}
	return cut;
}

/* The len bytes at t up to offset max with every span replaced by MASK, into out. */
static void copy_masked(dr_buf *out, const char *t, size_t max, const spans *sp)
{
	size_t at = 0;
	for (size_t i = 0; i < sp->n && sp->v[i].from < max; i++) {
		if (sp->v[i].to <= at)
			continue; /* inside the span masked before */
		if (sp->v[i].from > at)
			dr_buf_append(out, t + at, sp->v[i].from - at);
		if (sp->v[i].from >= at)
			dr_buf_puts(out, MASK);
		at = sp->v[i].to;
	}
	if (at < max)
		dr_buf_append(out, t + at, max - at);
}

char *dr_secrets_redact(dr_secrets *s, const char *text)
{
	if (!text)
		return NULL;
	pthread_rwlock_rdlock(&s->lock);
	spans sp = {0};
	size_t len = strlen(text);
	char *r = NULL;
	for (size_t i = 0; i < s->n_values && !r; i++)
		if (!strcmp(text, s->values[i]))
			r = xstrdup(s->refs[i]); /* the whole text is the value: an input passed on */
	if (s->n && !r)
		find_all(s, text, len, &sp);
	if (sp.n) {
		dr_buf b;
		dr_buf_init(&b);
		copy_masked(&b, text, len, &sp);
		r = dr_buf_detach(&b);
	}
	pthread_rwlock_unlock(&s->lock);
	free(sp.v);
	return r;
}

char *dr_secrets_redact_cut(dr_secrets *s, const char *text, size_t len, size_t max, bool *cut)
{
	pthread_rwlock_rdlock(&s->lock);
	spans sp = {0};
	find_all(s, text, len, &sp);
	size_t end = len <= max ? len : dr_text_utf8_prefix(text, len, safe_cut(s, text, len, max));
	*cut = end < len;
	dr_buf b;
	dr_buf_init(&b);
	copy_masked(&b, text, end, &sp);
	pthread_rwlock_unlock(&s->lock);
	free(sp.v);
	return dr_buf_detach(&b);
}
