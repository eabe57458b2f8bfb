/*
 * xalloc.h - allocation that never returns NULL.
 *
 * Out of memory is not a condition drover tries to survive: the journal makes
 * a run resumable, so these abort with a message instead (as tmux and jq do).
 */
#ifndef DR_XALLOC_H
#define DR_XALLOC_H

#include <stddef.h>

/* Allocate n bytes; aborts on failure. The caller owns the result. */
void *xmalloc(size_t n);

/* Allocate n zeroed objects of size sz; aborts on failure or overflow. */
void *xcalloc(size_t n, size_t sz);

/*
 * Allocate n bytes to be filled at once, in full (a file read whole): from
 * 1 MiB up, aligned to 2 MiB huge pages and the kernel asked to back them so,
 * a few page faults where 4 KiB pages took hundreds. Freed with free();
 * aborts on failure.
 */
void *xmalloc_huge(size_t n);

/* Resize p to n bytes; aborts on failure. */
void *xrealloc(void *p, size_t n);

/* Duplicate a NUL-terminated string; aborts on failure. */
char *xstrdup(const char *s);

/* Duplicate the first n bytes of s and NUL-terminate; aborts on failure. */
char *xstrndup(const char *s, size_t n);

#endif
