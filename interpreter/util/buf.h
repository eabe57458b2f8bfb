/*
 * buf.h - a growable byte buffer, always NUL-terminated.
 *
 * Embedded (dr_buf_init/dr_buf_dispose); the caller owns buf.data and may
 * take it with dr_buf_detach(). Appends never fail (allocation aborts).
 */
#ifndef DR_BUF_H
#define DR_BUF_H

#include <stdarg.h>
#include <stddef.h>

typedef struct dr_buf {
	char *data; /* NUL-terminated; never NULL after init */
	size_t len;
	size_t cap;
} dr_buf;

void dr_buf_init(dr_buf *b);
void dr_buf_dispose(dr_buf *b);
void dr_buf_reset(dr_buf *b);

/* Hand the heap string to the caller (who frees it); b is left disposed (init it to reuse). */
char *dr_buf_detach(dr_buf *b);

/* Room for n more bytes (and the NUL) without another allocation. */
void dr_buf_reserve(dr_buf *b, size_t n);

void dr_buf_append(dr_buf *b, const char *s, size_t n);
void dr_buf_puts(dr_buf *b, const char *s);
void dr_buf_putc(dr_buf *b, char c);
void dr_buf_printf(dr_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void dr_buf_vprintf(dr_buf *b, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));

/* Append s as the inside of a JSON string (quotes not included). */
void dr_buf_json_escape(dr_buf *b, const char *s, size_t n);

#endif
