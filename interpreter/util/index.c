/*
 * index.c - the hash index (see index.h): linear probing over a power of
 * two slots; a slot holds a hash and a value. The string map keeps its
 * entries in arrays and indexes them by the hash of their key.
 */
#include "util/index.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

void dr_index_init(dr_index *ix)
{
	*ix = (dr_index){0};
}

void dr_index_dispose(dr_index *ix)
{
	free(ix->hashes);
	free(ix->vals);
	*ix = (dr_index){0};
}

uint64_t dr_index_hash(uint64_t h, const char *s)
{
	if (!s)
		return (h ^ 0xffu) * UINT64_C(0x100000001b3);
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
	return (h ^ 0x1fu) * UINT64_C(0x100000001b3); /* a separator: ("ab", "c") differs from ("a", "bc") */
}

static void place(dr_index *ix, uint64_t h, size_t val)
{
	size_t mask = ix->cap - 1, i = (size_t)(h ^ (h >> 29)) & mask;
	while (ix->vals[i] != DR_INDEX_NONE)
		i = (i + 1) & mask;
	ix->hashes[i] = h;
	ix->vals[i] = val;
}

/* A table of cap slots (a power of two), the old one's values moved in. */
static void rehash(dr_index *ix, size_t cap)
{
	size_t old = ix->cap;
	uint64_t *hs = ix->hashes;
	size_t *vs = ix->vals;
	ix->cap = cap;
	ix->hashes = xmalloc(ix->cap * sizeof *ix->hashes);
	ix->vals = xmalloc(ix->cap * sizeof *ix->vals);
	for (size_t i = 0; i < ix->cap; i++)
		ix->vals[i] = DR_INDEX_NONE;
	for (size_t i = 0; i < old; i++)
		if (vs[i] != DR_INDEX_NONE)
			place(ix, hs[i], vs[i]);
	free(hs);
	free(vs);
}

void dr_index_reserve(dr_index *ix, size_t n)
{
	size_t cap = ix->cap ? ix->cap : 64;
	while (2 * n > cap)
		cap *= 2;
	if (cap > ix->cap)
		rehash(ix, cap);
}

void dr_index_put(dr_index *ix, uint64_t h, size_t val)
{
	if (2 * (ix->n + 1) > ix->cap)
		rehash(ix, ix->cap ? 2 * ix->cap : 64);
	place(ix, h, val);
	ix->n++;
}

size_t dr_index_next(const dr_index *ix, uint64_t h, size_t *pos)
{
	if (!ix->cap)
		return DR_INDEX_NONE;
	size_t mask = ix->cap - 1, start = (size_t)(h ^ (h >> 29)) & mask;
	for (size_t k = *pos; k < ix->cap; k++) {
		size_t i = (start + k) & mask;
		if (ix->vals[i] == DR_INDEX_NONE)
			return DR_INDEX_NONE;
		if (ix->hashes[i] == h) {
			*pos = k + 1;
			return ix->vals[i];
		}
	}
	return DR_INDEX_NONE;
}

/* ---- the string map ---------------------------------------------------------------------------- */

static size_t entry_of(const dr_strmap *m, const char *key, uint64_t h)
{
	size_t e;
	for (size_t pos = 0; (e = dr_index_next(&m->ix, h, &pos)) != DR_INDEX_NONE;)
		if (strcmp(m->keys[e], key) == 0)
			return e;
	return DR_INDEX_NONE;
}

void dr_strmap_put(dr_strmap *m, const char *key, size_t val)
{
	uint64_t h = dr_index_hash(DR_INDEX_SEED, key);
	size_t e = entry_of(m, key, h);
	if (e != DR_INDEX_NONE) {
		m->vals[e] = val;
		return;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 16;
		m->keys = xrealloc(m->keys, m->cap * sizeof *m->keys);
		m->vals = xrealloc(m->vals, m->cap * sizeof *m->vals);
	}
	m->keys[m->n] = key;
	m->vals[m->n] = val;
	dr_index_put(&m->ix, h, m->n++);
}

void dr_strmap_reserve(dr_strmap *m, size_t n)
{
	if (n > m->cap) {
		m->cap = n;
		m->keys = xrealloc(m->keys, m->cap * sizeof *m->keys);
		m->vals = xrealloc(m->vals, m->cap * sizeof *m->vals);
	}
	dr_index_reserve(&m->ix, n);
}

bool dr_strmap_get(const dr_strmap *m, const char *key, size_t *val)
{
	if (!key || !m->n)
		return false;
	size_t e = entry_of(m, key, dr_index_hash(DR_INDEX_SEED, key));
	if (e == DR_INDEX_NONE)
		return false;
	*val = m->vals[e];
	return true;
}

void dr_strmap_dispose(dr_strmap *m)
{
	dr_index_dispose(&m->ix);
	free(m->keys);
	free(m->vals);
	*m = (dr_strmap){0};
}
