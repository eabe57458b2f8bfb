/*
 * xalloc.c - the one place that handles running out of memory: it aborts.
 */
#include "xalloc.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

static void out_of_memory(size_t n)
{
	fprintf(stderr, "drover: out of memory (allocating %zu bytes)\n", n);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		out_of_memory(n);
	return p;
}

#define HUGE_PAGE (2u << 20)

void *xmalloc_huge(size_t n)
{
	if (n < HUGE_PAGE / 2)
		return xmalloc(n);
	size_t rounded = (n + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
	if (rounded < n)
		out_of_memory(n);
	void *p = aligned_alloc(HUGE_PAGE, rounded);
	if (!p)
		out_of_memory(rounded);
#ifdef MADV_HUGEPAGE
	madvise(p, rounded, MADV_HUGEPAGE);
#endif
	return p;
}

void *xcalloc(size_t n, size_t sz)
{
	if (sz && n > SIZE_MAX / sz)
		out_of_memory(SIZE_MAX);
	void *p = calloc(n ? n : 1, sz ? sz : 1);
	if (!p)
		out_of_memory(n * sz);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		out_of_memory(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}
