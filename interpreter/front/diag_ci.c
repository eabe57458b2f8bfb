/*
 * diag_ci.c - diagnostics in the forms CI systems read: GitHub Actions
 * workflow commands (annotations on the lines of a pull request) and SARIF
 * 2.1.0 (code-scanning views). diag.c keeps the diagnostics and the text and
 * JSON forms; this file only renders.
 *
 * Diagnostic columns are bytes; both forms here count characters (SARIF's
 * columnKind unicodeCodePoints), read off the registered source line.
 */
#include "front/diag.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/buf.h"

static bool is_continuation(char c) { return ((unsigned char)c & 0xC0) == 0x80; }

/* The 1-based character column of byte column col on the diagnostic's line (col itself without the source). */
static int char_col(const dr_diags *d, const dr_loc *loc, int col)
{
	const char *line;
	size_t len;
	if (col < 1 || !dr_diags_source_line(d, loc->file, loc->line, &line, &len))
		return col;
	int n = 1;
	for (size_t i = 0; i < (size_t)(col - 1); i++)
		n += i >= len || !is_continuation(line[i]);
	return n;
}

/* --- GitHub workflow commands ------------------------------------------------ */

/* Append s escaped as a workflow command's message (property: also ':' and ','). */
static void gh_escape(dr_buf *b, const char *s, bool property)
{
	for (; *s; s++) {
		if (*s == '%')
			dr_buf_puts(b, "%25");
		else if (*s == '\r')
			dr_buf_puts(b, "%0D");
		else if (*s == '\n')
			dr_buf_puts(b, "%0A");
		else if (property && *s == ':')
			dr_buf_puts(b, "%3A");
		else if (property && *s == ',')
			dr_buf_puts(b, "%2C");
		else
			dr_buf_putc(b, *s);
	}
}

static const char *gh_command(dr_severity s)
{
	return s == DR_SEV_ERROR ? "error" : s == DR_SEV_WARNING ? "warning" : "notice";
}

static void gh_one(const dr_diags *d, const dr_diag *g, dr_buf *b)
{
	dr_buf_printf(b, "::%s file=", gh_command(g->sev));
	gh_escape(b, g->loc.file, true);
	if (g->loc.line > 0) {
		int col = char_col(d, &g->loc, g->loc.col);
		int end = char_col(d, &g->loc, g->loc.col + (g->loc.len > 0 ? g->loc.len : 1));
		dr_buf_printf(b, ",line=%d,col=%d,endColumn=%d", g->loc.line, col, end > col ? end : col + 1);
	}
	dr_buf_printf(b, ",title=%s ", dr_code_id(g->code));
	gh_escape(b, dr_code_name(g->code), true);
	dr_buf_puts(b, "::");
	gh_escape(b, g->msg, false);
	if (g->hint) {
		dr_buf_puts(b, "%0Ahint: ");
		gh_escape(b, g->hint, false);
	}
	dr_buf_putc(b, '\n');
}

void dr_diags_render_github(const dr_diags *d, FILE *out)
{
	dr_buf b;
	dr_buf_init(&b);
	for (size_t i = 0; i < dr_diags_count(d); i++)
		gh_one(d, dr_diags_get(d, i), &b);
	fputs(b.data, out);
	dr_buf_dispose(&b);
}

/* --- SARIF 2.1.0 ----------------------------------------------------------- */

static const char *sarif_level(dr_severity s)
{
	return s == DR_SEV_ERROR ? "error" : s == DR_SEV_WARNING ? "warning" : "note";
}

/* A file path as a URI reference: relative paths stay relative; bytes outside RFC 3986's unreserved set and '/' are %XX. */
static char *path_uri(const char *path)
{
	dr_buf b;
	dr_buf_init(&b);
	if (path[0] == '/')
		dr_buf_puts(&b, "file://");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr("-._~/", *p))
			dr_buf_putc(&b, (char)*p);
		else
			dr_buf_printf(&b, "%%%02X", *p);
	}
	return dr_buf_detach(&b);
}

/* The rule index of code c in rules (added on first use); index_of[c] remembers it. */
static int rule_index(cJSON *rules, int *index_of, dr_code c)
{
	if (index_of[c] >= 0)
		return index_of[c];
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "id", dr_code_id(c));
	cJSON_AddStringToObject(r, "name", dr_code_name(c));
	cJSON *sd = cJSON_AddObjectToObject(r, "shortDescription");
	cJSON_AddStringToObject(sd, "text", dr_code_summary(c));
	cJSON_AddItemToArray(rules, r);
	index_of[c] = cJSON_GetArraySize(rules) - 1;
	return index_of[c];
}

static cJSON *sarif_location(const dr_diags *d, const dr_diag *g)
{
	cJSON *loc = cJSON_CreateObject();
	cJSON *phys = cJSON_AddObjectToObject(loc, "physicalLocation");
	cJSON *art = cJSON_AddObjectToObject(phys, "artifactLocation");
	char *uri = path_uri(g->loc.file);
	cJSON_AddStringToObject(art, "uri", uri);
	free(uri);
	if (g->loc.line > 0) {
		int col = char_col(d, &g->loc, g->loc.col);
		int end = char_col(d, &g->loc, g->loc.col + (g->loc.len > 0 ? g->loc.len : 1));
		cJSON *region = cJSON_AddObjectToObject(phys, "region");
		cJSON_AddNumberToObject(region, "startLine", g->loc.line);
		cJSON_AddNumberToObject(region, "startColumn", col > 0 ? col : 1);
		cJSON_AddNumberToObject(region, "endColumn", end > col ? end : col + 1);
	}
	return loc;
}

static cJSON *sarif_result(const dr_diags *d, const dr_diag *g, cJSON *rules, int *index_of)
{
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "ruleId", dr_code_id(g->code));
	cJSON_AddNumberToObject(r, "ruleIndex", rule_index(rules, index_of, g->code));
	cJSON_AddStringToObject(r, "level", sarif_level(g->sev));
	cJSON *msg = cJSON_AddObjectToObject(r, "message");
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_puts(&b, g->msg);
	if (g->hint)
		dr_buf_printf(&b, "\nhint: %s", g->hint);
	cJSON_AddStringToObject(msg, "text", b.data);
	dr_buf_dispose(&b);
	cJSON *locs = cJSON_AddArrayToObject(r, "locations");
	cJSON_AddItemToArray(locs, sarif_location(d, g));
	return r;
}

static cJSON *sarif_run(const dr_diags *d, const char *version)
{
	cJSON *run = cJSON_CreateObject();
	cJSON *driver = cJSON_AddObjectToObject(cJSON_AddObjectToObject(run, "tool"), "driver");
	cJSON_AddStringToObject(driver, "name", "drover");
	if (version)
		cJSON_AddStringToObject(driver, "semanticVersion", version);
	cJSON *rules = cJSON_AddArrayToObject(driver, "rules");
	cJSON *inv = cJSON_CreateObject();
	cJSON_AddBoolToObject(inv, "executionSuccessful", true);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(run, "invocations"), inv);
	cJSON_AddStringToObject(run, "columnKind", "unicodeCodePoints");
	cJSON *results = cJSON_AddArrayToObject(run, "results");
	int index_of[DR_CODE_COUNT];
	for (size_t c = 0; c < DR_CODE_COUNT; c++)
		index_of[c] = -1;
	for (size_t i = 0; i < dr_diags_count(d); i++)
		cJSON_AddItemToArray(results, sarif_result(d, dr_diags_get(d, i), rules, index_of));
	return run;
}

void dr_diags_render_sarif(const dr_diags *d, const char *version, FILE *out)
{
	cJSON *log = cJSON_CreateObject();
	cJSON_AddStringToObject(log, "$schema", "https://json.schemastore.org/sarif-2.1.0.json");
	cJSON_AddStringToObject(log, "version", "2.1.0");
	cJSON_AddItemToArray(cJSON_AddArrayToObject(log, "runs"), sarif_run(d, version));
	char *s = cJSON_Print(log);
	fputs(s, out);
	fputc('\n', out);
	cJSON_free(s);
	cJSON_Delete(log);
}
