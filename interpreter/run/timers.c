/*
 * timers.c - the scheduler's timer heap: a binary min-heap on (at, seq).
 *
 * Timers are never removed early: each carries the generation of the task
 * it is for, and the scheduler ignores a timer whose generation is stale.
 * seq breaks ties, so timers due at the same clock time fire in the order
 * they were set - one reason event streams on the virtual clock are exact.
 */
#include "run/exec_int.h"

#include <stdlib.h>

#include "util/xalloc.h"

static bool before(const timer *a, const timer *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void swap(timer *a, timer *b)
{
	timer t = *a;
	*a = *b;
	*b = t;
}

static void sift_up(timer_heap *h, size_t i)
{
	while (i > 0 && before(&h->v[i], &h->v[(i - 1) / 2])) {
		swap(&h->v[i], &h->v[(i - 1) / 2]);
		i = (i - 1) / 2;
	}
}

static void sift_down(timer_heap *h, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < h->n && before(&h->v[l], &h->v[m]))
			m = l;
		if (r < h->n && before(&h->v[r], &h->v[m]))
			m = r;
		if (m == i)
			return;
		swap(&h->v[i], &h->v[m]);
		i = m;
	}
}

void timers_push(timer_heap *h, int64_t at, timer_kind kind, void *p, uint32_t gen)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 64;
		h->v = xrealloc(h->v, h->cap * sizeof *h->v);
	}
	h->v[h->n] = (timer){.at = at, .seq = h->seq++, .kind = kind, .gen = gen, .p = p};
	sift_up(h, h->n++);
}

bool timers_pop_due(timer_heap *h, int64_t now, timer *out)
{
	if (!h->n || h->v[0].at > now)
		return false;
	*out = h->v[0];
	h->v[0] = h->v[--h->n];
	sift_down(h, 0);
	return true;
}

int64_t timers_next(const timer_heap *h)
{
	return h->n ? h->v[0].at : DR_CLOCK_NEVER;
}

void timers_dispose(timer_heap *h)
{
	free(h->v);
	*h = (timer_heap){0};
}
