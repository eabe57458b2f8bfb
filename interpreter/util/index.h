/*
 * index.h - a hash index: 64-bit hashes to values (size_t), open addressing.
 *
 * The index keeps no keys: the caller hashes its key (dr_index_hash), puts
 * (hash, value), and on lookup walks the values stored under that hash,
 * checking each against its own key. So one index serves any key shape
 * (a string, a tuple of strings) without building key strings.
 *
 *   uint64_t h = dr_index_hash(dr_index_hash(DR_INDEX_SEED, step), target);
 *   for (size_t pos = 0, v; (v = dr_index_next(&ix, h, &pos)) != DR_INDEX_NONE;)
 *           if (matches(items[v], step, target)) return v;
 *   dr_index_put(&ix, h, n_items);
 *
 * Lookups and inserts take constant time on average; the table doubles at
 * 50% load. Memory: heap, freed by dr_index_dispose. Not thread-safe.
 */
#ifndef DR_INDEX_H
#define DR_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DR_INDEX_NONE ((size_t)-1)
#define DR_INDEX_SEED UINT64_C(0xcbf29ce484222325)

typedef struct dr_index {
	uint64_t *hashes;
	size_t *vals; /* DR_INDEX_NONE: an empty slot */
	size_t cap, n;
} dr_index;

/* An empty index (no allocation until the first put). */
void dr_index_init(dr_index *ix);
void dr_index_dispose(dr_index *ix);

/* h extended with string s (FNV-1a; NULL differs from ""), for keys of several parts. */
uint64_t dr_index_hash(uint64_t h, const char *s);

/* Room for n values in all without growing (a count known up front: one table, no rehash). */
void dr_index_reserve(dr_index *ix, size_t n);

/* Store val (not DR_INDEX_NONE) under h; several values may share a hash. */
void dr_index_put(dr_index *ix, uint64_t h, size_t val);

/*
 * The next value stored under h, starting from *pos (0 for the first call),
 * or DR_INDEX_NONE when there are no more.
 */
size_t dr_index_next(const dr_index *ix, uint64_t h, size_t *pos);

/*
 * A string -> value map over the index. Keys are borrowed: they must
 * outlive the map. A put of a key the map holds replaces its value. A
 * zeroed dr_strmap is empty. Not thread-safe.
 */
typedef struct dr_strmap {
	dr_index ix; /* hash of the key -> entry */
	const char **keys;
	size_t *vals;
	size_t n, cap; /* entries, in the order they were put */
} dr_strmap;

void dr_strmap_put(dr_strmap *m, const char *key, size_t val);
/* Room for n keys in all without growing (dr_index_reserve). */
void dr_strmap_reserve(dr_strmap *m, size_t n);
/* Whether key (NULL: never) is in the map, its value in *val. */
bool dr_strmap_get(const dr_strmap *m, const char *key, size_t *val);
void dr_strmap_dispose(dr_strmap *m);

#endif
