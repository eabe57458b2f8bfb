/*
 * arena.c - a bump allocator over a chain of blocks, plus a cleanup list.
 *
 * Blocks grow geometrically up to 1 MiB; a request larger than a block gets a
 * block of its own. Nothing is freed individually.
 */
#include "arena.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

#define ARENA_ALIGN 16
#define ARENA_FIRST_BLOCK 4096
#define ARENA_MAX_BLOCK (4u << 20)
#define HUGE_PAGE (2u << 20) /* as xmalloc_huge's */

typedef struct block {
	struct block *next;
	size_t size;
	size_t used;
	_Alignas(ARENA_ALIGN) unsigned char data[];
} block;

typedef struct deferred {
	struct deferred *next;
	void (*fn)(void *);
	void *p;
} deferred;

struct dr_arena {
	block *head;
	deferred *cleanups;
	size_t next_size;
	size_t used;
};

dr_arena *dr_arena_new(void)
{
	dr_arena *a = xcalloc(1, sizeof *a);
	a->next_size = ARENA_FIRST_BLOCK;
	return a;
}

static void free_blocks(block *b)
{
	while (b) {
		block *next = b->next;
		free(b);
		b = next;
	}
}

static void run_cleanups(dr_arena *a)
{
	for (deferred *d = a->cleanups; d; d = d->next)
		d->fn(d->p);
	a->cleanups = NULL;
}

void dr_arena_free(dr_arena *a)
{
	if (!a)
		return;
	run_cleanups(a);
	free_blocks(a->head);
	free(a);
}

void dr_arena_reset(dr_arena *a)
{
	run_cleanups(a);
	if (a->head) {
		free_blocks(a->head->next);
		a->head->next = NULL;
		a->head->used = 0;
	}
	a->used = 0;
}

/*
 * Blocks of 2 MiB and more come from huge pages (xmalloc_huge): a big
 * runbook's node tree is tens of MB touched once, and page faults were a
 * fifth of `drover validate`'s time.
 */
static block *alloc_block(size_t bytes)
{
	return bytes < HUGE_PAGE ? xmalloc(bytes) : xmalloc_huge(bytes);
}

static block *new_block(dr_arena *a, size_t need)
{
	size_t size = a->next_size;
	if (size < need)
		size = need;
	if (a->next_size < ARENA_MAX_BLOCK)
		a->next_size *= 2;
	size_t total = sizeof(block) + size;
	if (total >= HUGE_PAGE) /* use all of the huge pages: a header past a 2 MiB boundary cost a whole page */
		total = (total + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	block *b = alloc_block(total);
	b->size = total - sizeof(block);
	b->used = 0;
	b->next = a->head;
	a->head = b;
	return b;
}

void dr_arena_expect(dr_arena *a, size_t n)
{
	if (n > ARENA_MAX_BLOCK)
		n = ARENA_MAX_BLOCK;
	if (n > a->next_size)
		a->next_size = n;
}

void *dr_arena_alloc_uninit(dr_arena *a, size_t n)
{
	size_t rounded = (n + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (rounded < n)
		abort();
	block *b = a->head;
	if (!b || b->size - b->used < rounded)
		b = new_block(a, rounded);
	void *p = b->data + b->used;
	b->used += rounded;
	a->used += rounded;
	return p;
}

void *dr_arena_alloc(dr_arena *a, size_t n)
{
	void *p = dr_arena_alloc_uninit(a, n);
	memset(p, 0, n);
	return p;
}

void *dr_arena_calloc(dr_arena *a, size_t n, size_t sz)
{
	if (sz && n > SIZE_MAX / sz) {
		fprintf(stderr, "drover: arena allocation overflow\n");
		abort();
	}
	return dr_arena_alloc(a, n * sz);
}

void *dr_arena_grow(dr_arena *a, void *old, size_t old_n, size_t new_n, size_t sz)
{
	void *p = dr_arena_calloc(a, new_n, sz);
	if (old && old_n)
		memcpy(p, old, (old_n < new_n ? old_n : new_n) * sz);
	return p;
}

char *dr_arena_strndup(dr_arena *a, const char *s, size_t n)
{
	char *p = dr_arena_alloc_uninit(a, n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *dr_arena_strdup(dr_arena *a, const char *s)
{
	return dr_arena_strndup(a, s, strlen(s));
}

char *dr_arena_join(dr_arena *a, const char *const *parts, size_t n)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += strlen(parts[i]);
	char *out = dr_arena_alloc_uninit(a, total + 1), *p = out;
	*p = '\0'; /* n == 0 */
	for (size_t i = 0; i < n; i++)
		p = stpcpy(p, parts[i]); /* one pass over each part: the lengths above sized it */
	return out;
}

/* Formatted once into a buffer on the stack, copied when it fits (glibc's sizing pass alone costs a format). */
char *dr_arena_vprintf(dr_arena *a, const char *fmt, va_list ap)
{
	char small[512];
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(small, sizeof small, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return dr_arena_strdup(a, "");
	char *p = dr_arena_alloc_uninit(a, (size_t)n + 1);
	if ((size_t)n < sizeof small)
		memcpy(p, small, (size_t)n + 1);
	else
		vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *dr_arena_printf(dr_arena *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *p = dr_arena_vprintf(a, fmt, ap);
	va_end(ap);
	return p;
}

void dr_arena_defer(dr_arena *a, void (*fn)(void *), void *p)
{
	deferred *d = dr_arena_alloc(a, sizeof *d);
	d->fn = fn;
	d->p = p;
	d->next = a->cleanups;
	a->cleanups = d;
}

size_t dr_arena_used(const dr_arena *a)
{
	return a->used;
}
