/*
 * markdown.c - Markdown for text drover does not control (markdown.h).
 */
#include "views/markdown.h"

#include <stdbool.h>
#include <string.h>

/* The longest run of backticks in s[0, n). */
size_t dr_md_longest_backticks(const char *s, size_t n)
{
	size_t run = 0, longest = 0;
	for (size_t i = 0; i < n; i++) {
		run = s[i] == '`' ? run + 1 : 0;
		longest = run > longest ? run : longest;
	}
	return longest;
}

void dr_md_fence(dr_buf *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dr_buf_putc(b, '`');
}

/*
 * s as a code span that is safe in a table cell: fenced with one backtick
 * more than its longest run of backticks, | escaped (GFM splits cells on it
 * even inside code), line breaks as spaces.
 */
void dr_md_code(dr_buf *b, const char *s)
{
	size_t longest = dr_md_longest_backticks(s, strlen(s));
	bool pad = *s == '`' || (*s && s[strlen(s) - 1] == '`');
	dr_md_fence(b, longest + 1);
	if (pad)
		dr_buf_putc(b, ' ');
	for (const char *p = s; *p; p++)
		if (*p == '|')
			dr_buf_puts(b, "\\|");
		else
			dr_buf_putc(b, *p == '\n' || *p == '\r' ? ' ' : *p);
	if (pad)
		dr_buf_putc(b, ' ');
	dr_md_fence(b, longest + 1);
}
