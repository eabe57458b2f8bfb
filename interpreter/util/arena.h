/*
 * arena.h - region allocation for everything a loaded runbook owns.
 *
 * Ownership rule: every object reachable from a loaded runbook (node tree,
 * strings, diagnostics text, the checked model, the plan) lives in one arena
 * and is freed by one dr_arena_free(). Resources that are not memory from the
 * arena (compiled PCRE2 patterns, heap buffers of libraries) are registered
 * with dr_arena_defer() and released, in reverse order, by the same call.
 */
#ifndef DR_ARENA_H
#define DR_ARENA_H

#include <stdarg.h>
#include <stddef.h>

typedef struct dr_arena dr_arena;

/* A new, empty arena. Never NULL (aborts when out of memory). */
dr_arena *dr_arena_new(void);

/* Run the deferred cleanups (last registered first), then free every block. NULL is a no-op. */
void dr_arena_free(dr_arena *a);

/*
 * Empty a for reuse, as if new: the cleanups run, every block but the
 * newest (the largest) is freed, and that one is handed out again. For a
 * scratch arena asked for the same shape of data many times over (one
 * listing per VM): one block, warm in the cache, instead of an arena each.
 */
void dr_arena_reset(dr_arena *a);

/*
 * The caller is about to allocate about n bytes: the next block is made
 * that big (up to the largest block, 4 MiB), so they come from huge pages
 * instead of a chain of small blocks faulted in 4 KiB at a time. A hint;
 * nothing is allocated now.
 */
void dr_arena_expect(dr_arena *a, size_t n);

/* n bytes, zeroed, aligned for any type; valid until dr_arena_free(). */
void *dr_arena_alloc(dr_arena *a, size_t n);

/* n bytes, NOT zeroed, aligned for any type: for buffers filled at once. */
void *dr_arena_alloc_uninit(dr_arena *a, size_t n);

/* Zeroed array of n objects of size sz (aborts on overflow). */
void *dr_arena_calloc(dr_arena *a, size_t n, size_t sz);

/* Grow an array held in the arena: returns a copy of old (old_n objects) with room for new_n. */
void *dr_arena_grow(dr_arena *a, void *old, size_t old_n, size_t new_n, size_t sz);

/* Copies of strings, NUL-terminated, owned by the arena. */
char *dr_arena_strdup(dr_arena *a, const char *s);
char *dr_arena_strndup(dr_arena *a, const char *s, size_t n);

/* The n strings of parts one after another, NUL-terminated, in the arena (no format to parse: for ids made per item or per task). */
char *dr_arena_join(dr_arena *a, const char *const *parts, size_t n);

/* printf into the arena. */
char *dr_arena_printf(dr_arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
char *dr_arena_vprintf(dr_arena *a, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

/* Register fn(p) to run when the arena is freed. */
void dr_arena_defer(dr_arena *a, void (*fn)(void *), void *p);

/* Bytes handed out so far (for benchmarks and limits). */
size_t dr_arena_used(const dr_arena *a);

#endif
