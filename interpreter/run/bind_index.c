/*
 * bind_index.c - a vm_set's candidate VMs from sorted names and tag values
 * (see bind_index.h).
 */
#include "run/bind_index.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "util/index.h"
#include "util/xalloc.h"

typedef struct entry {
	const char *text;
	size_t vm;
} entry;

/* The names (key NULL) or one tag key's values, sorted by text. */
typedef struct sorted {
	const char *key;
	entry *v;
	size_t n;
} sorted;

struct dr_bind_index {
	const dr_vm *vms;
	size_t n_vms;
	sorted names;
	sorted *tags; /* per tag key a filter asked about */
	size_t n_tags;
};

const char *dr_bind_tag_value(const dr_vm *vm, const char *key)
{
	for (size_t i = 0; i < vm->n_tags; i++)
		if (strcmp(vm->tag_keys[i], key) == 0)
			return vm->tag_values[i];
	return NULL;
}

static int cmp_entry(const void *x, const void *y)
{
	const entry *a = x, *b = y;
	int c = strcmp(a->text, b->text);
	return c ? c : (a->vm > b->vm) - (a->vm < b->vm);
}

/* A distinct text of the entries, and how many entries have it. */
typedef struct group {
	const char *text;
	size_t count, start;
} group;

static int cmp_group(const void *x, const void *y)
{
	return strcmp(((const group *)x)->text, ((const group *)y)->text);
}

/*
 * Sort v[0..n) (in VM order) by text, VMs of the same text in VM order: the
 * distinct texts are sorted, then each entry goes to its text's place. A tag
 * has a few values over thousands of VMs (tier: web, db, ...): sorting the
 * values, not every entry, saves most of the comparisons.
 */
static void sort_entries(entry *v, size_t n)
{
	dr_strmap seen = {0};
	group *g = xcalloc(n, sizeof *g);
	size_t *of = xcalloc(n, sizeof *of), d = 0;
	dr_strmap_reserve(&seen, n);
	for (size_t i = 0; i < n; i++) {
		if (!dr_strmap_get(&seen, v[i].text, &of[i])) {
			g[d].text = v[i].text;
			dr_strmap_put(&seen, v[i].text, of[i] = d++);
		}
		g[of[i]].count++;
	}
	size_t *rank = xcalloc(d, sizeof *rank);
	for (size_t k = 0; k < d; k++)
		g[k].start = k; /* the group's number, until the sort moves it */
	qsort(g, d, sizeof *g, cmp_group);
	for (size_t k = 0, at = 0; k < d; at += g[k++].count) {
		rank[g[k].start] = k;
		g[k].start = at;
	}
	entry *out = xcalloc(n, sizeof *out);
	for (size_t i = 0; i < n; i++)
		out[g[rank[of[i]]].start++] = v[i];
	memcpy(v, out, n * sizeof *v);
	free(out);
	free(rank);
	free(of);
	free(g);
	dr_strmap_dispose(&seen);
}

static void fill(sorted *s, const dr_bind_index *ix)
{
	s->v = xcalloc(ix->n_vms + 1, sizeof *s->v);
	for (size_t i = 0; i < ix->n_vms; i++) {
		const char *t = s->key ? dr_bind_tag_value(&ix->vms[i], s->key) : ix->vms[i].name;
		if (t)
			s->v[s->n++] = (entry){t, i};
	}
	if (s->n > 1 && s->key)
		sort_entries(s->v, s->n);
	else if (s->n > 1) /* names: (nearly) every one distinct */
		qsort(s->v, s->n, sizeof *s->v, cmp_entry);
}

dr_bind_index *dr_bind_index_new(const dr_vm *vms, size_t n)
{
	dr_bind_index *ix = xcalloc(1, sizeof *ix);
	ix->vms = vms;
	ix->n_vms = n;
	fill(&ix->names, ix);
	return ix;
}

void dr_bind_index_free(dr_bind_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->n_tags; i++)
		free(ix->tags[i].v);
	free(ix->tags);
	free(ix->names.v);
	free(ix);
}

/* The values of tag key, sorted on first use. */
static const sorted *tag_values(dr_bind_index *ix, const char *key)
{
	for (size_t i = 0; i < ix->n_tags; i++)
		if (strcmp(ix->tags[i].key, key) == 0)
			return &ix->tags[i];
	ix->tags = xrealloc(ix->tags, (ix->n_tags + 1) * sizeof *ix->tags);
	sorted *s = &ix->tags[ix->n_tags++];
	*s = (sorted){.key = key};
	fill(s, ix);
	return s;
}

static bool literal(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr("-_/:@,=%~", c));
}

/*
 * The literal text every match of re must begin the subject with, its
 * length in *len (0: none known). Only a pattern that starts with ^, has no
 * alternation, and that PCRE2 itself says is anchored and case-sensitive;
 * a literal followed by ?, * or { may be absent, so it is not counted.
 */
static const char *anchored_literal(const dr_regex *re, size_t *len)
{
	const char *p = re->source;
	uint32_t opts = 0;
	*len = 0;
	if (!re->code || !p || p[0] != '^' || strchr(p, '|'))
		return p;
	if (pcre2_pattern_info(re->code, PCRE2_INFO_ALLOPTIONS, &opts) != 0 || !(opts & PCRE2_ANCHORED) ||
	    (opts & (PCRE2_CASELESS | PCRE2_MULTILINE | PCRE2_EXTENDED | PCRE2_EXTENDED_MORE | PCRE2_LITERAL)))
		return p;
	size_t n = 0;
	while (literal(p[1 + n]))
		n++;
	if (n && p[1 + n] && strchr("?*{", p[1 + n]))
		n--;
	*len = n;
	return p + 1;
}

/* The first entry at or after index from whose text compared with lit[0..len) is above want (-1 or 0). */
static size_t bound(const sorted *s, const char *lit, size_t len, int want)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strncmp(s->v[mid].text, lit, len) <= want)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Keep in *best the narrower of it and the entries of s that re may find (all of s without a literal). */
static void narrow(const sorted *s, const dr_regex *re, const entry **best, size_t *n_best)
{
	size_t len;
	const char *lit = anchored_literal(re, &len);
	size_t from = len ? bound(s, lit, len, -1) : 0, to = len ? bound(s, lit, len, 0) : s->n;
	if (to - from < *n_best) {
		*best = s->v + from;
		*n_best = to - from;
	}
}

static int cmp_size(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	return (a > b) - (a < b);
}

size_t dr_bind_index_candidates(dr_bind_index *ix, const dr_vm_filter *m, size_t **out)
{
	const entry *best = NULL;
	size_t n = SIZE_MAX;
	if (m->present && m->name.code)
		narrow(&ix->names, &m->name, &best, &n);
	for (size_t t = 0; m->present && t < m->n_tags; t++)
		if (m->tags[t].value.code) /* a tag without a pattern is not required */
			narrow(tag_values(ix, m->tags[t].key), &m->tags[t].value, &best, &n);
	size_t *v = xcalloc((best ? n : ix->n_vms) + 1, sizeof *v);
	if (!best) {
		for (size_t i = 0; i < ix->n_vms; i++)
			v[i] = i;
		*out = v;
		return ix->n_vms;
	}
	for (size_t i = 0; i < n; i++)
		v[i] = best[i].vm;
	qsort(v, n, sizeof *v, cmp_size);
	*out = v;
	return n;
}
