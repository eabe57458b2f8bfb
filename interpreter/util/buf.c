/*
 * buf.c - growable NUL-terminated byte buffers.
 */
#include "buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

void dr_buf_init(dr_buf *b)
{
	b->cap = 64;
	b->len = 0;
	b->data = xmalloc(b->cap);
	b->data[0] = '\0';
}

void dr_buf_dispose(dr_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

void dr_buf_reset(dr_buf *b)
{
	b->len = 0;
	if (b->data)
		b->data[0] = '\0';
}

char *dr_buf_detach(dr_buf *b)
{
	char *s = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return s;
}

static void reserve(dr_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap * 2 : 64;
	while (cap < b->len + extra + 1)
		cap *= 2;
	b->data = xrealloc(b->data, cap);
	b->cap = cap;
}

void dr_buf_reserve(dr_buf *b, size_t n)
{
	reserve(b, n);
}

void dr_buf_append(dr_buf *b, const char *s, size_t n)
{
	reserve(b, n);
	memcpy(b->data + b->len, s, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void dr_buf_puts(dr_buf *b, const char *s)
{
	dr_buf_append(b, s, strlen(s));
}

void dr_buf_putc(dr_buf *b, char c)
{
	dr_buf_append(b, &c, 1);
}

void dr_buf_vprintf(dr_buf *b, const char *fmt, va_list ap)
{
	va_list ap2;
	va_copy(ap2, ap);
	int n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n <= 0)
		return;
	reserve(b, (size_t)n);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
}

void dr_buf_printf(dr_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	dr_buf_vprintf(b, fmt, ap);
	va_end(ap);
}

/* One character that JSON cannot hold as it is. */
static void escape_one(dr_buf *b, unsigned char c)
{
	switch (c) {
	case '"': dr_buf_puts(b, "\\\""); break;
	case '\\': dr_buf_puts(b, "\\\\"); break;
	case '\n': dr_buf_puts(b, "\\n"); break;
	case '\r': dr_buf_puts(b, "\\r"); break;
	case '\t': dr_buf_puts(b, "\\t"); break;
	default: dr_buf_printf(b, "\\u%04x", c);
	}
}

/* Runs of plain characters go out in one append each (a journal escapes every string it writes). */
void dr_buf_json_escape(dr_buf *b, const char *s, size_t n)
{
	size_t run = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		dr_buf_append(b, s + run, i - run);
		escape_one(b, c);
		run = i + 1;
	}
	dr_buf_append(b, s + run, n - run);
}
