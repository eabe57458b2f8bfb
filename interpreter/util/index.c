/*
 * index.c - the hash index (see index.h): linear probing over a power of
 * two slots; a slot holds a hash and a value.
 */
#include "util/index.h"

#include <stdlib.h>

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

static void grow(dr_index *ix)
{
	size_t old = ix->cap;
	uint64_t *hs = ix->hashes;
	size_t *vs = ix->vals;
	ix->cap = old ? 2 * old : 64;
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

void dr_index_put(dr_index *ix, uint64_t h, size_t val)
{
	if (2 * (ix->n + 1) > ix->cap)
		grow(ix);
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
