/*
 * text.c - suggestions, durations, identifiers, UTF-8 validation and cleaning.
 */
#include "text.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "buf.h"
#include "xalloc.h"

static size_t min3(size_t a, size_t b, size_t c)
{
	size_t m = a < b ? a : b;
	return m < c ? m : c;
}

static bool same_char(char x, char y)
{
	return tolower((unsigned char)x) == tolower((unsigned char)y);
}

enum { ROW_ON_STACK = 257 };

/* Optimal string alignment distance: a swap of two neighbours costs 1, as typos do. */
size_t dr_text_distance(const char *a, const char *b, size_t cap)
{
	size_t la = strlen(a), lb = strlen(b);
	if ((la > lb ? la - lb : lb - la) > cap)
		return cap + 1;
	size_t stack[3][ROW_ON_STACK];
	size_t *heap = lb < ROW_ON_STACK ? NULL : xcalloc(3 * (lb + 1), sizeof(size_t));
	size_t *prev2 = heap ? heap : stack[0], *prev = heap ? heap + lb + 1 : stack[1];
	size_t *cur = heap ? heap + 2 * (lb + 1) : stack[2];
	for (size_t j = 0; j <= lb; j++)
		prev[j] = j;
	size_t result = cap + 1;
	for (size_t i = 1; i <= la; i++) {
		size_t best = cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = same_char(a[i - 1], b[j - 1]) ? 0 : 1;
			cur[j] = min3(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
			if (i > 1 && j > 1 && same_char(a[i - 1], b[j - 2]) && same_char(a[i - 2], b[j - 1]) &&
			    prev2[j - 2] + 1 < cur[j])
				cur[j] = prev2[j - 2] + 1;
			if (cur[j] < best)
				best = cur[j];
		}
		size_t *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
		if (best > cap)
			goto out;
	}
	result = prev[lb];
out:
	free(heap);
	return result;
}

/*
 * Longer words are compared only case-insensitively: the distance costs
 * length squared, and a 4 MB alias next to a similar anchor would take hours
 * (tests/fuzz/README.md). Nobody mistypes a name this long.
 */
enum { SUGGEST_MAX_LEN = 256 };

static size_t suggest_cap(size_t len) { return len / 3 ? len / 3 : 1; }

/* The first candidate strictly closer than *best_d (then *best_d is its distance), or NULL. */
static const char *scan_candidates(const char *word, const char *const *candidates, size_t *best_d)
{
	size_t len = strlen(word);
	const char *best = NULL;
	for (size_t i = 0; candidates && candidates[i] && *best_d > 0; i++) {
		if (strcasecmp(word, candidates[i]) == 0)
			return *best_d = 0, candidates[i];
		size_t d = len <= SUGGEST_MAX_LEN ? dr_text_distance(word, candidates[i], *best_d - 1) : *best_d;
		if (d < *best_d) {
			*best_d = d;
			best = candidates[i];
		}
	}
	return best;
}

const char *dr_text_suggest(const char *word, const char *const *candidates)
{
	size_t best_d = suggest_cap(strlen(word)) + 1;
	return scan_candidates(word, candidates, &best_d);
}

/* --- the suggestion index --------------------------------------------- */

/* One key of a candidate: the hash of its lowercased text with at most one byte deleted. */
typedef struct variant {
	uint64_t hash;
	size_t cand;
} variant;

struct dr_suggest_index {
	const char *const *candidates;
	size_t n;
	variant *keys;
	size_t n_keys;
};

/* FNV-1a of s (lowercased) without its byte at skip (skip >= len: none). */
static uint64_t variant_hash(const char *s, size_t len, size_t skip)
{
	uint64_t h = 1469598103934665603u;
	for (size_t i = 0; i < len; i++)
		if (i != skip) {
			h ^= (unsigned char)tolower((unsigned char)s[i]);
			h *= 1099511628211u;
		}
	return h;
}

static int by_hash(const void *x, const void *y)
{
	const variant *a = x, *b = y;
	return a->hash < b->hash ? -1 : a->hash > b->hash ? 1 : a->cand < b->cand ? -1 : a->cand > b->cand;
}

/*
 * Index candidates (a NULL-terminated list, borrowed: it must outlive the
 * index) by every one-byte deletion of each: two words within distance 1 (one
 * byte changed, added, removed, or two neighbours swapped) share such a key,
 * so those are found in O(length) lookups instead of a scan of the list.
 */
dr_suggest_index *dr_suggest_index_new(const char *const *candidates)
{
	dr_suggest_index *ix = xcalloc(1, sizeof *ix);
	ix->candidates = candidates;
	size_t total = 0;
	for (; candidates && candidates[ix->n]; ix->n++) {
		size_t len = strlen(candidates[ix->n]);
		total += len <= SUGGEST_MAX_LEN ? len + 1 : 1;
	}
	ix->keys = xcalloc(total + 1, sizeof *ix->keys);
	for (size_t i = 0; i < ix->n; i++) {
		size_t len = strlen(candidates[i]);
		for (size_t skip = len <= SUGGEST_MAX_LEN ? 0 : len; skip <= len; skip++)
			ix->keys[ix->n_keys++] = (variant){variant_hash(candidates[i], len, skip), i};
	}
	qsort(ix->keys, ix->n_keys, sizeof *ix->keys, by_hash);
	return ix;
}

void dr_suggest_index_free(dr_suggest_index *ix)
{
	if (!ix)
		return;
	free(ix->keys);
	free(ix);
}

/* The first key with this hash (keys sorted by hash). */
static size_t first_key(const dr_suggest_index *ix, uint64_t h)
{
	size_t lo = 0, hi = ix->n_keys;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ix->keys[mid].hash < h)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Among candidates sharing a key of word, the lowest index at distance d_max or less (d: its distance). */
static size_t near_candidate(const dr_suggest_index *ix, const char *word, size_t d_max, size_t *d)
{
	size_t len = strlen(word), found = ix->n;
	*d = d_max + 1;
	for (size_t skip = len <= SUGGEST_MAX_LEN ? 0 : len; skip <= len; skip++) {
		uint64_t h = variant_hash(word, len, skip);
		for (size_t k = first_key(ix, h); k < ix->n_keys && ix->keys[k].hash == h; k++) {
			size_t c = ix->keys[k].cand;
			if (c >= found && *d == 0)
				continue;
			size_t cd = strcasecmp(word, ix->candidates[c]) == 0 ? 0
				    : len <= SUGGEST_MAX_LEN     ? dr_text_distance(word, ix->candidates[c], d_max)
								 : d_max + 1;
			if (cd < *d || (cd == *d && cd <= d_max && c < found)) {
				*d = cd;
				found = c;
			}
		}
	}
	return found;
}

/*
 * The same answer as dr_text_suggest(word, candidates): the first closest
 * candidate within a third of word's length. Matches at distance 0 or 1 come
 * from the index; only when there are none and word is long enough to allow
 * more does it scan the list.
 */
const char *dr_suggest_index_best(const dr_suggest_index *ix, const char *word)
{
	size_t d, cap = suggest_cap(strlen(word));
	size_t c = near_candidate(ix, word, 1, &d);
	if (c < ix->n)
		return ix->candidates[c];
	if (cap < 2 || strlen(word) > SUGGEST_MAX_LEN)
		return NULL;
	size_t best_d = cap + 1;
	return scan_candidates(word, ix->candidates, &best_d);
}

static int unit_rank(const char *s, size_t *len, int64_t *mult)
{
	static const struct { const char *name; int64_t ms; } units[] = {
		{"d", 86400000}, {"h", 3600000}, {"ms", 1}, {"m", 60000}, {"s", 1000},
	};
	/* rank by size, largest first; "ms" must be tried before "m" */
	static const int rank[] = {0, 1, 4, 2, 3};
	for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
		size_t n = strlen(units[i].name);
		if (strncmp(s, units[i].name, n) == 0) {
			*len = n;
			*mult = units[i].ms;
			return rank[i];
		}
	}
	return -1;
}

bool dr_text_parse_duration(const char *s, int64_t *out_ms, size_t *bad_at)
{
	const char *p = s;
	int64_t total = 0;
	int last_rank = -1;
	if (!*p) {
		*bad_at = 0;
		return false;
	}
	while (*p) {
		if (!isdigit((unsigned char)*p))
			goto bad;
		int64_t n = 0;
		while (isdigit((unsigned char)*p)) {
			if (n > INT64_MAX / 10 - 10)
				goto bad;
			n = n * 10 + (*p++ - '0');
		}
		size_t ulen = 0;
		int64_t mult = 0;
		int rank = unit_rank(p, &ulen, &mult);
		if (rank <= last_rank || (n && mult > INT64_MAX / n) || total > INT64_MAX - n * mult)
			goto bad;
		last_rank = rank;
		total += n * mult;
		p += ulen;
	}
	*out_ms = total;
	return true;
bad:
	*bad_at = (size_t)(p - s);
	return false;
}

/* v (0 <= v < 10^width) in exactly width digits; returns the end. */
static char *put_digits(char *p, int v, int width)
{
	for (int i = width - 1; i >= 0; i--, v /= 10)
		p[i] = (char)('0' + v % 10);
	return p + width;
}

/*
 * The UTC calendar date of Unix seconds secs, by arithmetic (the proleptic
 * Gregorian calendar, days counted from 0000-03-01 in 400-year eras): what
 * gmtime_r says, at a tenth of its cost.
 */
static void utc_of(int64_t secs, int *year, int *month, int *day, int *hms)
{
	int64_t days = secs / 86400, rem = secs % 86400;
	if (rem < 0) {
		rem += 86400;
		days--;
	}
	days += 719468; /* 1970-01-01 from 0000-03-01 */
	int64_t era = (days >= 0 ? days : days - 146096) / 146097;
	int64_t doe = days - era * 146097; /* day of the era, 0..146096 */
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* from March 1st */
	int64_t mp = (5 * doy + 2) / 153;
	*month = (int)(mp < 10 ? mp + 3 : mp - 9);
	*year = (int)(yoe + era * 400 + (*month <= 2));
	*day = (int)(doy - (153 * mp + 2) / 5 + 1);
	*hms = (int)rem;
}

void dr_text_format_utc(int64_t unix_ms, bool always_ms, char *out, size_t outsz)
{
	int64_t secs = unix_ms / 1000;
	int ms = (int)(unix_ms % 1000), year, month, day, hms;
	if (ms < 0) {
		ms += 1000;
		secs--;
	}
	utc_of(secs, &year, &month, &day, &hms);
	if (year < 0 || year > 9999 || outsz < 25) {
		int n = snprintf(out, outsz, "%04d-%02d-%02dT%02d:%02d:%02d", year, month, day, hms / 3600, hms / 60 % 60,
				 hms % 60);
		if (n >= 0 && (size_t)n < outsz)
			snprintf(out + n, outsz - (size_t)n, always_ms || ms ? ".%03dZ" : "Z", ms);
		return;
	}
	char *p = put_digits(out, year, 4);
	*p++ = '-';
	p = put_digits(p, month, 2);
	*p++ = '-';
	p = put_digits(p, day, 2);
	*p++ = 'T';
	p = put_digits(p, hms / 3600, 2);
	*p++ = ':';
	p = put_digits(p, hms / 60 % 60, 2);
	*p++ = ':';
	p = put_digits(p, hms % 60, 2);
	if (always_ms || ms) {
		*p++ = '.';
		p = put_digits(p, ms, 3);
	}
	*p++ = 'Z';
	*p = '\0';
}

/* n (> 0) then unit at out[used], cut to outsz as snprintf would; returns the new length. */
static size_t put_count(char *out, size_t outsz, size_t used, int64_t n, const char *unit)
{
	char t[32];
	size_t k = sizeof t;
	t[--k] = '\0';
	for (size_t u = strlen(unit); u;)
		t[--k] = unit[--u];
	for (; n; n /= 10)
		t[--k] = (char)('0' + n % 10);
	for (const char *c = t + k; *c; c++, used++)
		if (used + 1 < outsz) {
			out[used] = *c;
			out[used + 1] = '\0';
		}
	return used;
}

void dr_text_format_duration(int64_t ms, char *out, size_t outsz)
{
	static const struct { const char *name; int64_t ms; } units[] = {
		{"d", 86400000}, {"h", 3600000}, {"m", 60000}, {"s", 1000}, {"ms", 1},
	};
	size_t used = 0;
	if (outsz)
		out[0] = '\0';
	if (ms <= 0) {
		snprintf(out, outsz, "0s");
		return;
	}
	for (size_t i = 0; i < sizeof units / sizeof units[0] && ms > 0; i++) {
		int64_t n = ms / units[i].ms;
		if (!n)
			continue;
		ms -= n * units[i].ms;
		used = put_count(out, outsz, used, n, units[i].name);
	}
}

void dr_text_human_duration(int64_t ms, char *out, size_t outsz)
{
	dr_text_format_duration(ms >= 10000 ? (ms + 500) / 1000 * 1000 : ms, out, outsz);
}

bool dr_text_is_ident(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64 || !(islower((unsigned char)s[0]) || isdigit((unsigned char)s[0])))
		return false;
	for (size_t i = 1; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (!(islower(c) || isdigit(c) || c == '_' || c == '-'))
			return false;
	}
	return true;
}

bool dr_text_valid_utf8(const char *s, size_t n, size_t *bad_at)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < n) {
		unsigned char c = u[i];
		size_t len;
		unsigned cp;
		if (c < 0x80) {
			i++;
			continue;
		} else if ((c & 0xE0) == 0xC0) {
			len = 2;
			cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			len = 3;
			cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			len = 4;
			cp = c & 0x07;
		} else {
			goto bad;
		}
		if (i + len > n)
			goto bad;
		for (size_t k = 1; k < len; k++) {
			if ((u[i + k] & 0xC0) != 0x80)
				goto bad;
			cp = (cp << 6) | (u[i + k] & 0x3F);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
		    (cp >= 0xD800 && cp <= 0xDFFF))
			goto bad;
		i += len;
	}
	return true;
bad:
	*bad_at = i;
	return false;
}

/* Length of the valid UTF-8 character at s (n bytes left); 0 when invalid (NUL counts as invalid). */
static size_t utf8_char(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	if (c >= 0x01 && c < 0x80)
		return 1;
	size_t len = c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3 : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
	if (!len || len > n)
		return 0;
	for (size_t i = 1; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) || (c == 0xF0 && s[1] < 0x90) ||
	    (c == 0xF4 && s[1] > 0x8F))
		return 0;
	return len;
}

char *dr_text_clean_utf8(const char *data, size_t n)
{
	dr_buf b;
	dr_buf_init(&b);
	const unsigned char *s = (const unsigned char *)data;
	for (size_t i = 0; i < n;) {
		size_t len = utf8_char(s + i, n - i);
		if (len)
			dr_buf_append(&b, data + i, len);
		else
			dr_buf_puts(&b, "\xEF\xBF\xBD");
		i += len ? len : 1;
	}
	return dr_buf_detach(&b);
}

size_t dr_text_utf8_prefix(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	while (max && ((unsigned char)s[max] & 0xC0) == 0x80)
		max--;
	return max;
}

/* --- text for a terminal ------------------------------------------------- */

/* The code point of the valid UTF-8 character of len bytes at s. */
static unsigned code_point(const unsigned char *s, size_t len)
{
	unsigned cp = len == 1 ? s[0] : len == 2 ? s[0] & 0x1Fu : len == 3 ? s[0] & 0x0Fu : s[0] & 0x07u;
	for (size_t i = 1; i < len; i++)
		cp = (cp << 6) | (s[i] & 0x3Fu);
	return cp;
}

/* A character a terminal acts on rather than shows. */
static bool unsafe_cp(unsigned cp, unsigned flags)
{
	if (cp == '\t')
		return !(flags & DR_TEXT_KEEP_TAB);
	if (cp == '\n')
		return !(flags & DR_TEXT_KEEP_NEWLINE);
	return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) ||
	       (cp >= 0x2066 && cp <= 0x2069);
}

static void put_escape(dr_buf *out, unsigned cp)
{
	static const char named[] = {['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', [0x1B] = 'e'};
	if (cp < sizeof named && named[cp])
		dr_buf_printf(out, "\\%c", named[cp]);
	else if (cp < 0x80)
		dr_buf_printf(out, "\\x%02x", cp);
	else
		dr_buf_printf(out, "\\u{%04x}", cp);
}

void dr_text_escape_term(dr_buf *out, const char *s, size_t n, unsigned flags)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t start = 0, i = 0;
	while (i < n) {
		size_t len = u[i] ? utf8_char(u + i, n - i) : 1;
		bool bad = len == 0;
		unsigned cp = bad ? u[i] : code_point(u + i, len);
		if (!bad && !unsafe_cp(cp, flags)) {
			i += len;
			continue;
		}
		dr_buf_append(out, s + start, i - start);
		if (bad)
			dr_buf_printf(out, "\\x%02x", u[i]);
		else
			put_escape(out, cp);
		i += bad ? 1 : len;
		start = i;
	}
	dr_buf_append(out, s + start, n - start);
}

char *dr_text_term(const char *s)
{
	if (!s)
		return NULL;
	dr_buf b;
	dr_buf_init(&b);
	dr_text_escape_term(&b, s, strlen(s), 0);
	return dr_buf_detach(&b);
}

bool dr_text_needs_escape(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		if (u[i] >= 0x20 && u[i] < 0x7F) { /* printable ASCII, nearly every byte of names and ids */
			i++;
			continue;
		}
		size_t len = utf8_char(u + i, n - i);
		if (!len || unsafe_cp(code_point(u + i, len), 0))
			return true;
		i += len;
	}
	return false;
}

void dr_text_shell_word(dr_buf *out, const char *s)
{
	if (*s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.,/:@+=%") == strlen(s)) {
		dr_buf_puts(out, s);
		return;
	}
	dr_buf_putc(out, '\'');
	for (; *s; s++)
		*s == '\'' ? dr_buf_puts(out, "'\\''") : dr_buf_putc(out, *s);
	dr_buf_putc(out, '\'');
}
