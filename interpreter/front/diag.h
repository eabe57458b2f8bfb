/*
 * diag.h - diagnostics: runbook mistakes collected so one pass shows them all.
 *
 * Every stage reports into one dr_diags. Positions are 1-based line and
 * column (column in bytes). A diagnostic owns copies of its strings. The
 * renderer prints them gcc-style with the source line and a caret under the
 * span, or as JSON for editors and CI annotations.
 */
#ifndef DR_DIAG_H
#define DR_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum dr_code {
#define DR_CODE(id, name, summary) id,
#include "front/diag_codes.h"
#undef DR_CODE
	DR_CODE_COUNT
} dr_code;

typedef enum dr_severity { DR_SEV_ERROR, DR_SEV_WARNING, DR_SEV_NOTE } dr_severity;

/* A place in a source file. line == 0 means "the whole file". len is the span in bytes (>= 1). */
typedef struct dr_loc {
	const char *file;
	int line;
	int col;
	int len;
} dr_loc;

typedef struct dr_diag {
	dr_severity sev;
	dr_code code;
	dr_loc loc;
	char *msg;
	char *hint; /* "did you mean ...", or NULL */
	unsigned seq; /* order of emission, for a stable sort */
} dr_diag;

typedef struct dr_diags dr_diags;

dr_diags *dr_diags_new(void);
void dr_diags_free(dr_diags *d);

/*
 * Record the text of a source file so the renderer can show its lines. The
 * text is copied. Files never registered are rendered without a source line.
 */
void dr_diags_add_source(dr_diags *d, const char *file, const char *text, size_t len);

/*
 * dr_diags_add_source without the copy: d takes buf (malloc'd), in which
 * text (len bytes) lies, and frees it in dr_diags_free. A big runbook's text
 * is then never copied: the loader's buffer of the file (read, never mapped)
 * is what carets are drawn from. Returns false, leaving buf with the caller,
 * when file is registered already.
 */
bool dr_diags_adopt_source(dr_diags *d, const char *file, const char *text, size_t len, void *buf);

/* Add a diagnostic; returns it so a hint can be attached. file is copied. */
dr_diag *dr_diag_add(dr_diags *d, dr_severity sev, dr_code code, dr_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
dr_diag *dr_diag_error(dr_diags *d, dr_code code, dr_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
dr_diag *dr_diag_warning(dr_diags *d, dr_code code, dr_loc loc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void dr_diag_set_hint(dr_diag *g, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

size_t dr_diags_count(const dr_diags *d);
size_t dr_diags_errors(const dr_diags *d);
size_t dr_diags_warnings(const dr_diags *d);
const dr_diag *dr_diags_get(const dr_diags *d, size_t i);

/*
 * True when an error with this code at this line:col exists (dedup helper).
 * Constant time: the first call indexes the items (a cache inside d, kept
 * up to date as items are added, dropped by dr_diags_sort), so concurrent
 * calls on one list are not safe.
 */
bool dr_diags_has(const dr_diags *d, dr_code code, int line, int col);
/* A hash of a diagnostic's code and position (for indexes of diagnostics). */
uint64_t dr_diag_key(dr_code code, int line, int col);

/* Sort by file, line, column, then emission order. */
void dr_diags_sort(dr_diags *d);

/* "DR101" and "yaml-syntax" for a code. */
const char *dr_code_id(dr_code c);
const char *dr_code_name(dr_code c);
const char *dr_code_summary(dr_code c);

/*
 * Text form:
 *   path:line:col: error: message [DR203]
 *      12 |   timout: 5m
 *         |   ^~~~~~
 *   hint: did you mean 'timeout'?
 * color adds ANSI colours (callers decide: TTY and no NO_COLOR).
 */
void dr_diags_render_text(const dr_diags *d, FILE *out, bool color);

/*
 * The bytes of line (1-based) of a registered source file, without its line
 * end, borrowed from d. False when the file was never registered or has no
 * such line.
 */
bool dr_diags_source_line(const dr_diags *d, const char *file, int line, const char **start, size_t *len);

/* JSON form: one array of {file,line,column,end_column,severity,code,name,message,hint}. */
void dr_diags_render_json(const dr_diags *d, FILE *out);

/* --- diag_ci.c: the forms CI systems read ---------------------------------- */

/*
 * GitHub Actions workflow commands, one line per diagnostic:
 *   ::error file=F,line=L,col=C,endColumn=E,title=DR203 unknown-key::message
 * (::warning, ::notice for notes; the hint after the message on a line of
 * its own). Columns count characters, not bytes. Values are escaped as the
 * runner expects (%, CR, LF; and : , in properties), so nothing a runbook
 * holds can start a command of its own.
 */
void dr_diags_render_github(const dr_diags *d, FILE *out);

/*
 * A SARIF 2.1.0 log (one run, tool "drover" at version, a rule per code
 * that occurs, a result per diagnostic with its region in characters) for
 * code-scanning views. docs/ci.md shows how to upload it.
 */
void dr_diags_render_sarif(const dr_diags *d, const char *version, FILE *out);

#endif
