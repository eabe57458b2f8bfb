/*
 * markdown.h - putting text from runbooks and services into Markdown
 * (pull-request comments, reports) so that it reads as written and never
 * as markup: in code spans fenced past its own backticks, safe in tables.
 */
#ifndef DR_MARKDOWN_H
#define DR_MARKDOWN_H

#include <stddef.h>

#include "util/buf.h"

/* The longest run of backticks in s[0, n). */
size_t dr_md_longest_backticks(const char *s, size_t n);

/* n backticks. */
void dr_md_fence(dr_buf *b, size_t n);

/*
 * s as a code span that is safe in a GFM table cell: fenced with one
 * backtick more than its longest run of backticks (padded with a space when
 * it starts or ends with one), | escaped, line breaks as spaces.
 */
void dr_md_code(dr_buf *b, const char *s);

#endif
