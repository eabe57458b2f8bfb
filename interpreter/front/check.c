/*
 * check.c - stage 2: validate the node tree against the schema (schema.h)
 * and build the checked runbook (runbook.h).
 *
 * Two passes. The walker checks any node against a dr_type and reports
 * every mismatch it finds (wrong type, missing and unknown keys, bad enum
 * values, ranges, durations, identifiers, regexes, timestamps, empty lists)
 * without ever stopping at the first. The builder then reads the tree into
 * the model with quiet converters: a value the walker rejected is skipped
 * and its default kept, so the semantic checks (versions, duplicate ids,
 * actions and their `with:`, VM sets, exclusive keys, params, secrets,
 * recovery points) still run on everything else. Only the builder knows
 * what a value means; only the walker reports shape.
 *
 * Positions: unknown and duplicate keys point at the key, wrong values at
 * the value (or at the offending character inside it), missing keys at the
 * mapping that lacks them.
 */
#include "front/runbook.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "actions/action.h"
#include "front/cleartext.h"
#include "front/schema.h"
#include "util/buf.h"
#include "util/text.h"
#include "util/url.h"
#include "util/xalloc.h"


#define SUPPORTED_VERSION 1
#define MAX_PATH 64
#define MAX_FIELDS 64
#define REGEX_FLAGS PCRE2_UTF

/* ---- context ------------------------------------------------------------ */

typedef struct seg {
	const char *key; /* NULL: an index into a list */
	size_t index;
} seg;

/* Names seen so far (step ids, VM sets): an open-addressing hash table in the arena. */
typedef struct name_entry {
	const char *name;
	const dr_node *node;
} name_entry;

typedef struct name_table {
	name_entry *slots;
	size_t cap, n;
} name_table;

typedef struct ck {
	dr_arena *a;
	dr_diags *d;
	dr_runbook *rb;
	seg path[MAX_PATH];
	size_t depth;
	char where[512];
	const dr_action *with_action; /* set while walking a step's with: */
	name_table step_ids;
	name_table vm_sets;
	dr_retry *inherited; /* the retry of every step without retry: (defaults.retry, not present); made once */
	const char **vm_set_names; /* NULL-terminated, for suggestions */
	/* the mapping types of the sections, looked up once */
	const dr_type *t_root, *t_backend, *t_param, *t_secret, *t_vm_set, *t_filter, *t_expect;
	const dr_type *t_recovery, *t_objectives, *t_defaults, *t_retry, *t_step;
} ck;

static void walk(ck *c, const dr_node *n, const dr_type *t);

/* ---- small helpers ---------------------------------------------------- */

static void push_key(ck *c, const char *key)
{
	if (c->depth < MAX_PATH)
		c->path[c->depth] = (seg){key, 0};
	c->depth++;
}

static void push_index(ck *c, size_t i)
{
	if (c->depth < MAX_PATH)
		c->path[c->depth] = (seg){NULL, i};
	c->depth++;
}

static void pop(ck *c)
{
	c->depth--;
}

/* The current path as text, e.g. "steps[2].retry"; "top level" at the root. */
static const char *where(ck *c)
{
	size_t used = 0, depth = c->depth < MAX_PATH ? c->depth : MAX_PATH;
	c->where[0] = '\0';
	for (size_t i = 0; i < depth && used < sizeof c->where; i++) {
		const seg *s = &c->path[i];
		int w = s->key ? snprintf(c->where + used, sizeof c->where - used, "%s%s", i ? "." : "", s->key)
			       : snprintf(c->where + used, sizeof c->where - used, "[%zu]", s->index);
		if (w > 0)
			used += (size_t)w;
	}
	return depth ? c->where : "top level";
}

static bool is_map(const dr_node *n)
{
	return n && n->kind == DR_NODE_MAP;
}

static bool is_scalar(const dr_node *n)
{
	return n && n->kind == DR_NODE_SCALAR;
}

/*
 * The loader types plain scalars only, and a null, boolean or number can
 * only start with one of these bytes: anything else is a string without
 * asking the loader (the hot path: most scalars of a big runbook are names).
 */
static bool maybe_typed(const dr_node *n)
{
	static const bool first[256] = {
		['~'] = 1, ['n'] = 1, ['N'] = 1, ['t'] = 1, ['T'] = 1, ['f'] = 1, ['F'] = 1, ['+'] = 1, ['-'] = 1,
		['.'] = 1, ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
		['8'] = 1, ['9'] = 1,
	};
	const char *s = n->u.scalar.str;
	size_t len = n->u.scalar.len;
	if (n->style != DR_STYLE_PLAIN)
		return false;
	if (len == 0)
		return true;
	if (!first[(unsigned char)s[0]])
		return false;
	const char *dot = memchr(s, '.', len); /* a number has at most one: 10.0.0.1 is a string */
	return !dot || !memchr(dot + 1, '.', len - (size_t)(dot + 1 - s));
}

static bool is_null(const dr_node *n)
{
	return is_scalar(n) && maybe_typed(n) && dr_node_is_null(n);
}

static bool is_string(const dr_node *n)
{
	return is_scalar(n) && (!maybe_typed(n) || strcmp(dr_node_type_name(n), "string") == 0);
}

/* A string that holds a ${...} expression (evaluated later, by resolve). */
static bool is_expr(const dr_node *n)
{
	return is_string(n) && strstr(n->u.scalar.str, "${") != NULL;
}

static const dr_node *get(const dr_node *map, const char *key)
{
	return is_map(map) ? dr_node_get(map, key) : NULL;
}

/* The position of key inside map (for diagnostics about the key itself). */
static dr_loc key_loc(const dr_node *map, const char *key)
{
	const dr_pair *p = dr_node_get_pair(map, key);
	return p ? dr_node_loc(p->key) : dr_node_loc(map);
}

/* The type of a field of a section type; the tables and this file must agree. */
static const dr_type *ftype(const dr_type *map, const char *key)
{
	const dr_field *f = dr_schema_field(map, key);
	if (!f) {
		fprintf(stderr, "drover: internal error: schema has no field '%s'\n", key);
		abort();
	}
	return f->type;
}

static const char *fdefault(const dr_type *map, const char *key)
{
	const dr_field *f = dr_schema_field(map, key);
	return f ? f->default_text : NULL;
}

/* Scalar text for a message: quoted, shortened when long. */
static const char *shown(ck *c, const dr_node *n)
{
	const char *s = dr_node_str(n);
	if (!s)
		return "";
	if (strlen(s) <= 48)
		return s;
	return dr_arena_printf(c->a, "%.45s...", s);
}

static const char *article(const char *word)
{
	return strchr("aeiou", word[0]) ? "an" : "a";
}

static void no_expr_hint(dr_diag *g, const dr_node *n)
{
	if (is_expr(n))
		dr_diag_set_hint(g, "this key does not take ${...} expressions: write the value itself");
}

/* The place of the bad byte at off inside n; the whole value when off is 0. */
static dr_loc loc_at(const dr_node *n, size_t off)
{
	return off ? dr_node_loc_at(n, off, 1) : dr_node_loc(n);
}

static bool yaml11_bool(const dr_node *n)
{
	static const char *const words[] = {"yes", "no", "on", "off", "y", "n", "Yes", "No", "YES", "NO", "On", "Off", NULL};
	const char *s = dr_node_str(n);
	for (size_t i = 0; s && words[i]; i++)
		if (strcmp(s, words[i]) == 0)
			return true;
	return false;
}

/* ---- describing types and values (for messages) -------------------------- */

static void describe(char *out, size_t sz, const dr_type *t, bool with_expr);

static const char *const kind_text[] = {
	[DR_T_ANY] = "any value",
	[DR_T_STRING] = "a string",
	[DR_T_INT] = "an integer",
	[DR_T_NUMBER] = "a number",
	[DR_T_BOOL] = "true or false",
	[DR_T_DURATION] = "a duration like 30s",
	[DR_T_REGEX] = "a regular expression (a string)",
	[DR_T_TIMESTAMP] = "an RFC 3339 timestamp like 2024-05-01T12:00:00Z",
	[DR_T_ID] = "an identifier",
	[DR_T_PERCENT_OR_INT] = "a count like 3 or a percentage like 10%",
	[DR_T_MAP] = "a mapping (key: value lines)",
	[DR_T_DICT] = "a mapping (name: value lines)",
	[DR_T_SEQ] = "a list",
};

static void describe_enum(char *out, size_t sz, const dr_type *t)
{
	size_t used = (size_t)snprintf(out, sz, "one of ");
	for (size_t i = 0; t->enum_values[i] && used < sz; i++)
		used += (size_t)snprintf(out + used, sz - used, "%s%s", i ? ", " : "", t->enum_values[i]);
}

static void describe_oneof(char *out, size_t sz, const dr_type *t)
{
	size_t used = 0;
	out[0] = '\0';
	for (size_t i = 0; t->alts[i] && used < sz; i++) {
		char alt[256];
		describe(alt, sizeof alt, t->alts[i], false);
		used += (size_t)snprintf(out + used, sz - used, "%s%s", i ? " or " : "", alt);
	}
}

static void describe(char *out, size_t sz, const dr_type *t, bool with_expr)
{
	if (t->kind == DR_T_ENUM)
		describe_enum(out, sz, t);
	else if (t->kind == DR_T_ONEOF)
		describe_oneof(out, sz, t);
	else if (t->kind == DR_T_STRING && (t->flags & DR_TF_NONEMPTY))
		snprintf(out, sz, "a non-empty string");
	else
		snprintf(out, sz, "%s", kind_text[t->kind]);
	size_t used = strlen(out);
	if (with_expr && (t->flags & DR_TF_EXPR) && t->kind != DR_T_STRING && used < sz)
		snprintf(out + used, sz - used, " or a ${...} expression");
}

/* "a list", "'abc' (a string)", "an empty value". */
static const char *describe_node(ck *c, const dr_node *n)
{
	const char *type = dr_node_type_name(n);
	if (n->kind != DR_NODE_SCALAR)
		return dr_arena_printf(c->a, "%s %s", article(type), type);
	if (is_null(n))
		return "an empty value";
	return dr_arena_printf(c->a, "'%s' (%s %s)", shown(c, n), article(type), type);
}

/* ---- reporting ------------------------------------------------------------ */

static void wrong_type(ck *c, const dr_node *n, const dr_type *t)
{
	char want[512];
	describe(want, sizeof want, t, true);
	dr_diag *g = dr_diag_error(c->d, DR201, dr_node_loc(n), "%s: expected %s, got %s", where(c), want,
				   describe_node(c, n));
	if (is_scalar(n) && is_null(n))
		dr_diag_set_hint(g, "write a value after the colon, or remove the key");
	else if (t->kind == DR_T_STRING && is_scalar(n))
		dr_diag_set_hint(g, "quote it to make it a string: \"%s\"", shown(c, n));
	else if (t->kind == DR_T_BOOL && yaml11_bool(n))
		dr_diag_set_hint(g, "drover reads YAML 1.2, where '%s' is a string: write true or false", shown(c, n));
	else
		no_expr_hint(g, n);
}

/* Common misnamings from other tools, offered when edit distance finds nothing. */
static const struct {
	const char *wrong, *right;
} key_aliases[] = {
	{"depends_on", "needs"}, {"dependsOn", "needs"}, {"depends", "needs"}, {"after", "needs"},
	{"requires", "needs"}, {"if", "when"}, {"condition", "when"}, {"args", "with"},
	{"inputs", "with"}, {"params", "with"}, {"parameters", "with"}, {"retries", "retry"},
	{"run", "action"}, {"uses", "use"}, {"target", "targets"}, {"for_each", "foreach"},
	{"version", "drover"}, {"title", "name"}, {"on_error", "on_failure"}, {"vms", "vm_sets"},
};

static const char *suggest_key(const char *key, const dr_type *map)
{
	const char *names[MAX_FIELDS];
	dr_schema_field_names(map, names, MAX_FIELDS);
	const char *s = dr_text_suggest(key, names);
	for (size_t i = 0; !s && i < sizeof key_aliases / sizeof key_aliases[0]; i++)
		if (strcmp(key, key_aliases[i].wrong) == 0 && dr_schema_field(map, key_aliases[i].right))
			s = key_aliases[i].right;
	return s;
}

/* For a backend option given under the wrong kind: the kind it belongs to. */
static const char *other_backend_kind(ck *c, const dr_type *map, const char *key)
{
	const char *const *kinds = ftype(c->t_backend, "kind")->enum_values;
	bool is_backend = false;
	for (size_t i = 0; kinds[i]; i++)
		is_backend |= dr_schema_backend(kinds[i]) == map;
	for (size_t i = 0; is_backend && kinds[i]; i++)
		if (dr_schema_backend(kinds[i]) != map && dr_schema_field(dr_schema_backend(kinds[i]), key))
			return kinds[i];
	return NULL;
}

static void key_list_hint(dr_diag *g, const dr_type *map)
{
	char list[1024];
	size_t used = 0;
	list[0] = '\0';
	for (const dr_field *f = map->fields; f && f->name && used < sizeof list; f++)
		used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", f->name);
	dr_diag_set_hint(g, used ? "valid keys here: %s" : "nothing is allowed here%s", list);
}

static void unknown_key(ck *c, const dr_node *key, const dr_type *map)
{
	const char *k = dr_node_str(key);
	dr_diag *g;
	if (c->with_action && map == c->with_action->input)
		g = dr_diag_error(c->d, DR203, dr_node_loc(key), "%s: action '%s' has no input '%s'", where(c),
				  c->with_action->name, k);
	else
		g = dr_diag_error(c->d, DR203, dr_node_loc(key), "%s: unknown key '%s'", where(c), k);
	const char *s = suggest_key(k, map);
	const char *other = other_backend_kind(c, map, k);
	if (s)
		dr_diag_set_hint(g, "did you mean '%s'?", s);
	else if (c->with_action && map == c->with_action->input && !(map->fields && map->fields[0].name))
		dr_diag_set_hint(g, "%s takes no inputs: remove with:", c->with_action->name);
	else if (other)
		dr_diag_set_hint(g, "'%s' is an option of the %s backend (kind: %s)", k, other, other);
	else
		key_list_hint(g, map);
}

static void missing_key(ck *c, const dr_node *map, const dr_field *f)
{
	dr_diag *g = dr_diag_error(c->d, DR202, dr_node_loc(map), "%s: missing required key '%s'", where(c), f->name);
	if (f->doc)
		dr_diag_set_hint(g, "%s: %s", f->name, f->doc);
}

static void out_of_range(ck *c, const dr_node *n, const dr_type *t, const char *lo, const char *hi)
{
	if (t->max == INT64_MAX)
		dr_diag_error(c->d, DR205, dr_node_loc(n), "%s: %s is too small: the minimum is %s", where(c),
			      shown(c, n), lo);
	else
		dr_diag_error(c->d, DR205, dr_node_loc(n), "%s: %s is out of range: allowed are %s to %s", where(c),
			      shown(c, n), lo, hi);
}

static bool has_bounds(const dr_type *t)
{
	return t->min < t->max;
}

static void check_int_range(ck *c, const dr_node *n, const dr_type *t, double v)
{
	if (!has_bounds(t) || (v >= (double)t->min && v <= (double)t->max))
		return;
	char lo[32], hi[32];
	snprintf(lo, sizeof lo, "%lld", (long long)t->min);
	snprintf(hi, sizeof hi, "%lld", (long long)t->max);
	out_of_range(c, n, t, lo, hi);
}

/* ---- quiet converters (the builder's view; the walker reported already) ---- */

static bool in_range(const dr_type *t, double v)
{
	return !has_bounds(t) || (v >= (double)t->min && v <= (double)t->max);
}

static bool q_int(const dr_node *n, const dr_type *t, int64_t *out)
{
	int64_t v;
	if (!n || !dr_node_as_int(n, &v) || !in_range(t, (double)v))
		return false;
	*out = v;
	return true;
}

static bool q_number(const dr_node *n, const dr_type *t, double *out)
{
	double v;
	if (!n || !dr_node_as_number(n, &v) || !in_range(t, v))
		return false;
	*out = v;
	return true;
}

static bool q_duration(const dr_node *n, const dr_type *t, int64_t *out)
{
	int64_t v;
	size_t bad;
	if (!is_string(n) || !dr_text_parse_duration(n->u.scalar.str, &v, &bad) || !in_range(t, (double)v))
		return false;
	*out = v;
	return true;
}

static int q_enum(const dr_node *n, const dr_type *t)
{
	const char *s = is_scalar(n) && !is_null(n) ? dr_node_str(n) : NULL;
	for (int i = 0; s && t->enum_values[i]; i++)
		if (strcmp(s, t->enum_values[i]) == 0)
			return i;
	return -1;
}

static const char *q_string(const dr_node *n)
{
	return is_string(n) ? n->u.scalar.str : NULL;
}

static bool q_ident(const dr_node *n)
{
	return is_scalar(n) && !is_null(n) && dr_text_is_ident(dr_node_str(n));
}

/* Fill *out with the duration of map.key when valid; else leave it. */
static void dur_field(const dr_node *map, const dr_type *mt, const char *key, int64_t *out)
{
	q_duration(get(map, key), ftype(mt, key), out);
}

static void int_field(const dr_node *map, const dr_type *mt, const char *key, int64_t *out)
{
	q_int(get(map, key), ftype(mt, key), out);
}

/* ---- timestamps (RFC 3339) -------------------------------------------------- */

static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
	y -= m <= 2;
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	int64_t yoe = y - era * 400;
	int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
	static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : days[m - 1];
}

/* Read n digits at s[*i]; false (and *i at the offender) when one is missing. */
static bool digits(const char *s, size_t *i, int n, int *out)
{
	*out = 0;
	for (int k = 0; k < n; k++, (*i)++) {
		if (!isdigit((unsigned char)s[*i]))
			return false;
		*out = *out * 10 + (s[*i] - '0');
	}
	return true;
}

static bool expect_char(const char *s, size_t *i, const char *allowed)
{
	if (!s[*i] || !strchr(allowed, s[*i]))
		return false;
	(*i)++;
	return true;
}

typedef struct ts_parts {
	int year, month, day, hour, min, sec, ms, off_min;
} ts_parts;

static bool ts_zone(const char *s, size_t *i, ts_parts *p, size_t *bad_at, const char **why)
{
	if (s[*i] == 'Z' || s[*i] == 'z') {
		(*i)++;
		return true;
	}
	int sign = s[*i] == '-' ? -1 : 1, oh, om;
	*why = "a time zone (Z or +HH:MM) is required";
	if (!expect_char(s, i, "+-") || !digits(s, i, 2, &oh) || !expect_char(s, i, ":") || !digits(s, i, 2, &om)) {
		*bad_at = *i;
		return false;
	}
	if (oh > 23 || om > 59) {
		*bad_at = *i - 5;
		*why = "the time zone offset is out of range";
		return false;
	}
	p->off_min = sign * (oh * 60 + om);
	return true;
}

static bool ts_fields(const char *s, size_t *i, ts_parts *p, size_t *bad_at, const char **why)
{
	*why = "expected the form YYYY-MM-DDTHH:MM:SSZ";
	bool ok = digits(s, i, 4, &p->year) && expect_char(s, i, "-") && digits(s, i, 2, &p->month) &&
		  expect_char(s, i, "-") && digits(s, i, 2, &p->day) && expect_char(s, i, "Tt") &&
		  digits(s, i, 2, &p->hour) && expect_char(s, i, ":") && digits(s, i, 2, &p->min) &&
		  expect_char(s, i, ":") && digits(s, i, 2, &p->sec);
	if (!ok) {
		*bad_at = *i;
		return false;
	}
	if (s[*i] == '.') {
		(*i)++;
		int scale = 100, any = 0;
		for (; isdigit((unsigned char)s[*i]); (*i)++, any++, scale /= 10)
			p->ms += (s[*i] - '0') * scale;
		if (!any) {
			*bad_at = *i;
			*why = "digits must follow the decimal point";
			return false;
		}
	}
	return ts_zone(s, i, p, bad_at, why);
}

static bool ts_ranges(const ts_parts *p, size_t *bad_at, const char **why)
{
	static const struct {
		size_t off;
		const char *why;
	} errs[] = {
		{5, "the month is out of range"}, {8, "the day is out of range for that month"},
		{11, "the hour is out of range"}, {14, "the minute is out of range"},
		{17, "the second is out of range"},
	};
	bool bad[] = {
		p->month < 1 || p->month > 12,
		p->month >= 1 && p->month <= 12 && (p->day < 1 || p->day > days_in_month(p->year, p->month)),
		p->hour > 23, p->min > 59, p->sec > 60,
	};
	for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
		if (bad[k]) {
			*bad_at = errs[k].off;
			*why = errs[k].why;
			return false;
		}
	return true;
}

/* Parse an RFC 3339 date-time into Unix milliseconds; on failure *bad_at and *why say where and why. */
static bool parse_timestamp(const char *s, int64_t *ms, size_t *bad_at, const char **why)
{
	ts_parts p = {0};
	size_t i = 0;
	if (!ts_fields(s, &i, &p, bad_at, why))
		return false;
	if (s[i]) {
		*bad_at = i;
		*why = "unexpected text after the time zone";
		return false;
	}
	if (!ts_ranges(&p, bad_at, why))
		return false;
	int64_t days = days_from_civil(p.year, p.month, p.day);
	int64_t secs = days * 86400 + p.hour * 3600 + p.min * 60 + (p.sec > 59 ? 59 : p.sec) - p.off_min * 60;
	*ms = secs * 1000 + p.ms;
	return true;
}

/* ---- the walker: scalar kinds -------------------------------------------- */

static void walk_any(ck *c, const dr_node *n, const dr_type *t)
{
	(void)c, (void)n, (void)t;
}

/* A NUL byte ("\0" in a double-quoted string): everything after it would be dropped without a word. */
static void check_nul(ck *c, const dr_node *n)
{
	const char *nul = memchr(n->u.scalar.str, '\0', n->u.scalar.len);
	if (!nul)
		return;
	dr_diag *g = dr_diag_error(c->d, DR220, dr_node_loc(n),
				   "%s: the string holds a NUL byte at offset %zu; the text after it would be lost", where(c),
				   (size_t)(nul - n->u.scalar.str));
	dr_diag_set_hint(g, "remove the \\0 (or \\x00, \\u0000) escape");
}

static void url_hint(dr_diag *g)
{
	dr_diag_set_hint(g, "https:// (its certificate verified) reaches other hosts; http:// is for a service on this machine");
}

/* One value params.name may take (v: its default or an enum choice) as the whole URL n: DR221 when refused. */
static void url_value(ck *c, const dr_node *n, const dr_node *v, const char *name, const char *which)
{
	const char *why = q_string(v) ? dr_url_refusal(q_string(v)) : NULL;
	if (why)
		url_hint(dr_diag_error(c->d, DR221, dr_node_loc(n),
				       "%s: the URL is ${params.%s}, and %s '%s' would be refused when the step runs: %s",
				       where(c), name, which, shown(c, v), why));
}

/*
 * A URL that is ${params.NAME} alone: each value NAME may take (its enum:
 * choices, else its default:) is checked as if written there. Any other
 * URL without a written scheme (${secrets.X}, an output, ${env.X}) is known
 * only when the step runs, and its request applies the rule then: no
 * diagnostic, as a webhook's URL is a secret by design.
 */
static void url_from_param(ck *c, const dr_node *n)
{
	const char *s = n->u.scalar.str;
	size_t len = strlen(s);
	if (len < 11 || strncmp(s, "${params.", 9) || s[len - 1] != '}' || strpbrk(s + 9, "}$ ") != s + len - 1)
		return;
	const char *name = dr_arena_printf(c->a, "%.*s", (int)(len - 10), s + 9);
	const dr_node *m = get(get(c->rb->root, "params"), name), *choices = get(m, "enum");
	if (choices && choices->kind == DR_NODE_SEQ)
		for (size_t i = 0; i < choices->u.seq.n; i++)
			url_value(c, n, choices->u.seq.items[i], name, "its choice");
	else
		url_value(c, n, get(m, "default"), name, "its default");
}

/*
 * A URL's scheme and host as written (up to its path): a request there
 * would be refused when the step runs (plain http:// to a host that is not
 * loopback), after the failover it validates. An error when they are
 * literal (or the URL is a parameter whose values are); a warning when the
 * host of an http:// URL comes from ${...}.
 */
static void check_url(ck *c, const dr_node *n)
{
	const char *s = n->u.scalar.str, *sep = strstr(s, "://");
	if (!sep) {
		url_from_param(c, n);
		return;
	}
	size_t len = strcspn(sep + 3, "/?#");
	const char *at = memchr(sep + 3, '@', len), *host = at ? at + 1 : sep + 3; /* user:password@ not repeated */
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%.*s%.*s", (int)(sep + 3 - s), s, (int)(sep + 3 + len - host), host);
	char *origin = dr_buf_detach(&b);
	const char *why = strstr(origin, "${") ? NULL : dr_url_refusal(origin);
	dr_diag *g = NULL;
	if (why)
		g = dr_diag_error(c->d, DR221, dr_node_loc(n), "%s: a request to %s would be refused when the step runs: %s",
				  where(c), origin, why);
	else if (strstr(origin, "${") && !strncasecmp(s, "http://", 7))
		g = dr_diag_warning(c->d, DR221, dr_node_loc(n),
				    "%s: plain http:// goes to loopback addresses only (127.0.0.0/8, ::1, localhost): unless "
				    "the host of %s is one, the request is refused when the step runs",
				    where(c), origin);
	if (g)
		url_hint(g);
	free(origin);
}

static void cleartext_hint(dr_diag *g, const char *how)
{
	dr_diag_set_hint(g, "declare it under secrets: (env: or file:) and write %s: drover keeps only secrets out of "
			    "what it prints and writes", how);
}

/* A credential in a URL as written: user:password@, or ?token=... (DR216, a warning). */
static void cleartext_url(ck *c, const dr_node *n)
{
	size_t off, len, name_len;
	const char *name;
	if (!dr_cleartext_in_url(n->u.scalar.str, &off, &len, &name, &name_len))
		return;
	dr_diag *g = name ? dr_diag_warning(c->d, DR216, dr_node_loc_at(n, off, len),
					    "%s: the URL's query parameter '%.*s' is written into the runbook in clear text",
					    where(c), (int)name_len, name)
			  : dr_diag_warning(c->d, DR216, dr_node_loc_at(n, off, len),
					    "%s: the URL's password is written into the runbook in clear text", where(c));
	cleartext_hint(g, "the whole URL as ${secrets.NAME}");
}

/* A literal value of a header or environment variable named as a credential (DR216, a warning). */
static void cleartext_value(ck *c, const char *key, const dr_node *v)
{
	if (!is_string(v) || is_expr(v) || !v->u.scalar.len || !dr_cleartext_name(key, false))
		return;
	dr_diag *g = dr_diag_warning(c->d, DR216, dr_node_loc(v), "%s: a credential is written into the runbook in clear text",
				     where(c));
	cleartext_hint(g, strcasestr(key, "authorization") ? "\"Bearer ${secrets.NAME}\" (or the scheme it uses) here"
							  : "${secrets.NAME} here");
}

static void walk_string(ck *c, const dr_node *n, const dr_type *t)
{
	if (!is_string(n)) {
		wrong_type(c, n, t);
	} else if ((t->flags & DR_TF_NONEMPTY) && n->u.scalar.len == 0) {
		dr_diag_error(c->d, DR201, dr_node_loc(n), "%s: expected a non-empty string, got an empty string",
			      where(c));
	} else {
		check_nul(c, n);
		if (t->flags & DR_TF_URL) {
			check_url(c, n);
			cleartext_url(c, n);
		}
	}
}

static void walk_int(ck *c, const dr_node *n, const dr_type *t)
{
	int64_t v;
	if (!dr_node_as_int(n, &v))
		wrong_type(c, n, t);
	else
		check_int_range(c, n, t, (double)v);
}

static void walk_number(ck *c, const dr_node *n, const dr_type *t)
{
	double v;
	if (!dr_node_as_number(n, &v))
		wrong_type(c, n, t);
	else
		check_int_range(c, n, t, v);
}

static void walk_bool(ck *c, const dr_node *n, const dr_type *t)
{
	bool v;
	if (!dr_node_as_bool(n, &v))
		wrong_type(c, n, t);
}

static void duration_range(ck *c, const dr_node *n, const dr_type *t, int64_t ms)
{
	if (!has_bounds(t) || (ms >= t->min && ms <= t->max))
		return;
	char lo[32], hi[32];
	dr_text_format_duration(t->min, lo, sizeof lo);
	dr_text_format_duration(t->max, hi, sizeof hi);
	out_of_range(c, n, t, lo, hi);
}

static void walk_duration(ck *c, const dr_node *n, const dr_type *t)
{
	int64_t ms;
	size_t bad = 0;
	if (!is_scalar(n) || is_null(n) || (!is_string(n) && !dr_node_as_int(n, &ms))) {
		wrong_type(c, n, t);
		return;
	}
	const char *s = dr_node_str(n);
	if (dr_text_parse_duration(s, &ms, &bad)) {
		duration_range(c, n, t, ms);
		return;
	}
	dr_diag *g;
	if (dr_node_as_int(n, &ms)) {
		g = dr_diag_error(c->d, DR206, dr_node_loc(n), "%s: '%s' is not a duration: the unit is missing",
				  where(c), s);
		dr_diag_set_hint(g, "did you mean '%ss'? units are ms, s, m, h and d", s);
		return;
	}
	g = dr_diag_error(c->d, DR206, loc_at(n, bad), "%s: '%s' is not a duration", where(c),
			  shown(c, n));
	if (is_expr(n))
		no_expr_hint(g, n);
	else
		dr_diag_set_hint(g, "write numbers with units, largest first, without spaces: 250ms, 30s, 5m, "
				    "1h30m, 2d");
}

/* The value a longer or shorter spelling of it names ("integer" for int, "boolean" for bool), or NULL. */
static const char *spelt_out(const char *word, const char *const *values)
{
	size_t wn = word ? strlen(word) : 0;
	for (size_t i = 0; wn >= 3 && values && values[i]; i++) {
		size_t vn = strlen(values[i]);
		if (vn >= 3 && !strncmp(word, values[i], wn < vn ? wn : vn))
			return values[i];
	}
	return NULL;
}

static void walk_enum(ck *c, const dr_node *n, const dr_type *t)
{
	if (!is_scalar(n) || is_null(n)) {
		wrong_type(c, n, t);
		return;
	}
	if (q_enum(n, t) >= 0)
		return;
	char want[512];
	describe_enum(want, sizeof want, t);
	dr_diag *g = dr_diag_error(c->d, DR204, dr_node_loc(n), "%s: '%s' is not valid here: expected %s", where(c),
				   shown(c, n), want);
	const char *s = dr_text_suggest(dr_node_str(n), t->enum_values);
	if (!s)
		s = spelt_out(dr_node_str(n), t->enum_values);
	if (s)
		dr_diag_set_hint(g, "did you mean '%s'?", s);
	else
		no_expr_hint(g, n);
}

static void regex_error(ck *c, const dr_node *n, int err, size_t off)
{
	PCRE2_UCHAR msg[256];
	if (pcre2_get_error_message(err, msg, sizeof msg) < 0)
		snprintf((char *)msg, sizeof msg, "error %d", err);
	dr_diag *g = dr_diag_error(c->d, DR211, dr_node_loc_at(n, off, 1),
				   "%s: the regular expression does not compile: %s", where(c), (const char *)msg);
	dr_diag_set_hint(g, "patterns are PCRE2 (Perl syntax); in double-quoted YAML write \\\\ for a backslash, "
			    "or use single quotes");
}

static void walk_regex(ck *c, const dr_node *n, const dr_type *t)
{
	if (!is_string(n)) {
		wrong_type(c, n, t);
		return;
	}
	int err;
	PCRE2_SIZE off;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)n->u.scalar.str, n->u.scalar.len, REGEX_FLAGS, &err, &off, NULL);
	if (code)
		pcre2_code_free(code);
	else
		regex_error(c, n, err, off);
}

static void walk_timestamp(ck *c, const dr_node *n, const dr_type *t)
{
	if (!is_string(n)) {
		wrong_type(c, n, t);
		return;
	}
	int64_t ms;
	size_t bad = 0;
	const char *why = "";
	if (parse_timestamp(n->u.scalar.str, &ms, &bad, &why))
		return;
	dr_diag *g = dr_diag_error(c->d, DR217, loc_at(n, bad),
				   "%s: '%s' is not an RFC 3339 timestamp: %s", where(c), shown(c, n), why);
	if (is_expr(n))
		no_expr_hint(g, n);
	else
		dr_diag_set_hint(g, "write e.g. 2024-05-01T12:00:00Z or 2024-05-01T14:00:00+02:00");
}

/* Byte offset of the first character that makes s an invalid identifier. */
static size_t ident_bad_at(const char *s)
{
	size_t i = 0;
	if (islower((unsigned char)s[0]) || isdigit((unsigned char)s[0]))
		for (i = 1; s[i] && i < 64; i++)
			if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '_' || s[i] == '-'))
				break;
	return i;
}

/* A valid identifier close to s ("Fail over DB" -> "fail-over-db"), or NULL. */
static const char *ident_fix(ck *c, const char *s)
{
	char out[65];
	size_t n = 0;
	for (; *s && n < 64; s++) {
		unsigned char ch = (unsigned char)tolower((unsigned char)*s);
		bool ok = islower(ch) || isdigit(ch) || ch == '_' || ch == '-';
		if (!ok)
			ch = '-';
		if ((ch == '-' || ch == '_') && (n == 0 || out[n - 1] == '-'))
			continue;
		out[n++] = (char)ch;
	}
	while (n && out[n - 1] == '-')
		n--;
	out[n] = '\0';
	return dr_text_is_ident(out) ? dr_arena_strdup(c->a, out) : NULL;
}

static void bad_ident(ck *c, const dr_node *n, const char *what)
{
	const char *s = dr_node_str(n);
	dr_diag *g = dr_diag_error(c->d, DR209, dr_node_loc_at(n, ident_bad_at(s), 1), "%s: '%s' is not a valid %s",
				   where(c), shown(c, n), what);
	const char *fix = ident_fix(c, s);
	if (is_expr(n))
		no_expr_hint(g, n);
	else if (fix)
		dr_diag_set_hint(g, "use lowercase letters, digits, '-' and '_', starting with a letter or digit "
				    "(at most 64): e.g. '%s'", fix);
	else
		dr_diag_set_hint(g, "use lowercase letters, digits, '-' and '_', starting with a letter or digit "
				    "(at most 64)");
}

static void walk_id(ck *c, const dr_node *n, const dr_type *t)
{
	if (!is_scalar(n) || is_null(n))
		wrong_type(c, n, t);
	else if (!dr_text_is_ident(dr_node_str(n)))
		bad_ident(c, n, "identifier");
}

/* "10%" -> 10 (pct true); "3" -> 3. Returns false when malformed; *bad_at the offender. */
static bool parse_percent(const char *s, int64_t *v, size_t *bad_at)
{
	size_t i = 0;
	*v = 0;
	for (; isdigit((unsigned char)s[i]) && i < 9; i++)
		*v = *v * 10 + (s[i] - '0');
	if (i == 0 || s[i] != '%' || s[i + 1]) {
		*bad_at = i == 0 ? 0 : s[i] == '%' ? i + 1 : i;
		return false;
	}
	return true;
}

static void walk_percent_or_int(ck *c, const dr_node *n, const dr_type *t)
{
	int64_t v;
	size_t bad = 0;
	if (!is_scalar(n) || is_null(n) || dr_node_as_bool(n, &(bool){0})) {
		wrong_type(c, n, t);
		return;
	}
	if (dr_node_as_int(n, &v)) {
		if (v < 0)
			dr_diag_error(c->d, DR205, dr_node_loc(n), "%s: %lld is negative: a count of failures is 0 or more",
				      where(c), (long long)v);
		return;
	}
	if (!parse_percent(dr_node_str(n), &v, &bad)) {
		dr_diag *g = dr_diag_error(c->d, DR214, loc_at(n, bad),
					   "%s: '%s' is neither a count nor a percentage", where(c), shown(c, n));
		dr_diag_set_hint(g, "write a whole count of targets (3) or a whole percentage (10%%)");
		return;
	}
	if (v > 100)
		dr_diag_error(c->d, DR205, dr_node_loc(n), "%s: %s is out of range: a percentage is 0%% to 100%%",
			      where(c), shown(c, n));
}

/* ---- the walker: collections --------------------------------------------- */

static void walk_map(ck *c, const dr_node *n, const dr_type *t)
{
	if (!is_map(n)) {
		wrong_type(c, n, t);
		return;
	}
	for (size_t i = 0; i < n->u.map.n; i++) {
		const dr_pair *p = &n->u.map.items[i];
		const char *key = dr_node_str(p->key);
		const dr_field *f = key ? dr_schema_field(t, key) : NULL;
		if (!f) {
			unknown_key(c, p->key, t);
			continue;
		}
		push_key(c, f->name);
		walk(c, p->value, f->type);
		pop(c);
	}
	for (const dr_field *f = t->fields; f && f->name; f++)
		if (f->required && !dr_node_get(n, f->name))
			missing_key(c, n, f);
}

static void walk_dict(ck *c, const dr_node *n, const dr_type *t)
{
	if (!is_map(n)) {
		wrong_type(c, n, t);
		return;
	}
	if ((t->flags & DR_TF_NONEMPTY) && n->u.map.n == 0)
		dr_diag_error(c->d, DR218, dr_node_loc(n), "%s: the mapping is empty; give at least one entry", where(c));
	for (size_t i = 0; i < n->u.map.n; i++) {
		const dr_pair *p = &n->u.map.items[i];
		const char *key = dr_node_str(p->key);
		if (!(t->flags & DR_TF_KEY_ANY) && !dr_text_is_ident(key))
			bad_ident(c, p->key, "name");
		push_key(c, key);
		walk(c, p->value, t->items);
		if (t->flags & DR_TF_CREDENTIAL_KEYS)
			cleartext_value(c, key, p->value);
		pop(c);
	}
}

static void walk_seq(ck *c, const dr_node *n, const dr_type *t)
{
	if (n->kind != DR_NODE_SEQ) {
		wrong_type(c, n, t);
		return;
	}
	if ((t->flags & DR_TF_NONEMPTY) && n->u.seq.n == 0) {
		dr_diag *g = dr_diag_error(c->d, DR218, dr_node_loc(n), "%s: the list is empty", where(c));
		dr_diag_set_hint(g, "give at least one entry, or remove the key");
	}
	for (size_t i = 0; i < n->u.seq.n; i++) {
		push_index(c, i);
		walk(c, n->u.seq.items[i], t->items);
		pop(c);
	}
}

static bool shape_matches(const dr_type *t, const dr_node *n)
{
	switch (t->kind) {
	case DR_T_ANY: return true;
	case DR_T_MAP:
	case DR_T_DICT: return n->kind == DR_NODE_MAP;
	case DR_T_SEQ: return n->kind == DR_NODE_SEQ;
	case DR_T_ONEOF: return false;
	default: return n->kind == DR_NODE_SCALAR && !is_null(n);
	}
}

static void walk_oneof(ck *c, const dr_node *n, const dr_type *t)
{
	for (size_t i = 0; t->alts[i]; i++)
		if (shape_matches(t->alts[i], n)) {
			walk(c, n, t->alts[i]);
			return;
		}
	wrong_type(c, n, t);
}

/* backend: a tagged union; check kind first, then the options of that kind. */
static void walk_backend(ck *c, const dr_node *n, const dr_type *t)
{
	if (!is_map(n)) {
		wrong_type(c, n, t);
		return;
	}
	const dr_node *kind = dr_node_get(n, "kind");
	if (!kind) {
		dr_diag *g = dr_diag_error(c->d, DR202, dr_node_loc(n), "%s: missing required key 'kind'", where(c));
		dr_diag_set_hint(g, "kind: sim (the embedded simulator) or kind: azure (Azure Site Recovery)");
		return;
	}
	const dr_type *variant = q_enum(kind, ftype(t, "kind")) >= 0 ? dr_schema_backend(dr_node_str(kind)) : NULL;
	if (variant) {
		walk_map(c, n, variant);
		return;
	}
	push_key(c, "kind");
	walk(c, kind, ftype(t, "kind"));
	pop(c);
}

typedef void (*walk_fn)(ck *c, const dr_node *n, const dr_type *t);

static const walk_fn walkers[] = {
	[DR_T_ANY] = walk_any,
	[DR_T_STRING] = walk_string,
	[DR_T_INT] = walk_int,
	[DR_T_NUMBER] = walk_number,
	[DR_T_BOOL] = walk_bool,
	[DR_T_DURATION] = walk_duration,
	[DR_T_ENUM] = walk_enum,
	[DR_T_REGEX] = walk_regex,
	[DR_T_TIMESTAMP] = walk_timestamp,
	[DR_T_ID] = walk_id,
	[DR_T_PERCENT_OR_INT] = walk_percent_or_int,
	[DR_T_MAP] = walk_map,
	[DR_T_DICT] = walk_dict,
	[DR_T_SEQ] = walk_seq,
	[DR_T_ONEOF] = walk_oneof,
};

/* Validate n against t, reporting every mismatch; ${...} strings pass where t allows them. */
static void walk(ck *c, const dr_node *n, const dr_type *t)
{
	if (!n || !t)
		return;
	if ((t->flags & DR_TF_EXPR) && is_expr(n)) {
		if (t->flags & DR_TF_URL) {
			check_url(c, n); /* what of it is written out: its scheme, maybe its host */
			cleartext_url(c, n);
		}
		return;
	}
	if (t == c->t_backend)
		walk_backend(c, n, t);
	else
		walkers[t->kind](c, n, t);
}

/* ---- name tables ---------------------------------------------------------- */

static size_t hash_name(const char *s)
{
	size_t h = 1469598103934665603u;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

static name_entry *name_slot(const name_table *t, const char *name)
{
	size_t i = hash_name(name) & (t->cap - 1);
	while (t->slots[i].name && strcmp(t->slots[i].name, name) != 0)
		i = (i + 1) & (t->cap - 1);
	return &t->slots[i];
}

/* Name tables are heap scratch, freed when dr_check returns (the tables of 50,000 step ids were 4 MB). */
static void name_grow(name_table *t)
{
	name_table old = *t;
	t->cap = old.cap ? old.cap * 2 : 64;
	t->slots = xcalloc(t->cap, sizeof *t->slots);
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].name)
			*name_slot(t, old.slots[i].name) = old.slots[i];
	free(old.slots);
}

/* Add name (written at node); returns the node of an earlier entry of the same name, else NULL. */
static const dr_node *name_add(name_table *t, const char *name, const dr_node *node)
{
	if (2 * (t->n + 1) > t->cap)
		name_grow(t);
	name_entry *e = name_slot(t, name);
	if (e->name)
		return e->node;
	*e = (name_entry){name, node};
	t->n++;
	return NULL;
}

static bool name_has(const name_table *t, const char *name)
{
	return t->cap && name_slot(t, name)->name != NULL;
}

/* ---- regexes -------------------------------------------------------------- */

static void free_code(void *p)
{
	pcre2_code_free(p);
}

/* Compile a pattern the walker accepted; the code is freed with the arena. */
static bool compile_regex(ck *c, const dr_node *n, dr_regex *out)
{
	int err;
	PCRE2_SIZE off;
	if (!is_string(n))
		return false;
	pcre2_code *code = pcre2_compile((PCRE2_SPTR)n->u.scalar.str, n->u.scalar.len, REGEX_FLAGS, &err, &off, NULL);
	if (!code)
		return false;
	dr_arena_defer(c->a, free_code, code);
	*out = (dr_regex){n->u.scalar.str, code, dr_node_loc(n)};
	return true;
}

/* ---- params, secrets -------------------------------------------------------- */

static const char *const param_type_names[] = {"a string", "an integer", "a number", "a boolean", "a duration"};

/* Does v fit param type ty? (strings accept any scalar: command-line values are text) */
static bool param_value_ok(const dr_node *v, dr_param_type ty, size_t *bad_at)
{
	int64_t i;
	double d;
	bool b;
	*bad_at = 0;
	if (!is_scalar(v) || is_null(v))
		return false;
	switch (ty) {
	case DR_PARAM_STRING: return true;
	case DR_PARAM_INT: return dr_node_as_int(v, &i);
	case DR_PARAM_NUMBER: return dr_node_as_number(v, &d);
	case DR_PARAM_BOOL: return dr_node_as_bool(v, &b);
	case DR_PARAM_DURATION: return is_string(v) && dr_text_parse_duration(v->u.scalar.str, &i, bad_at);
	}
	return false;
}

static void bad_param_value(ck *c, const dr_node *v, const dr_param *p, size_t bad_at)
{
	dr_diag *g = dr_diag_error(c->d, DR215, loc_at(v, bad_at), "%s: %s is not %s, the parameter's type", where(c),
				   is_scalar(v) && !is_null(v) ? dr_arena_printf(c->a, "'%s'", shown(c, v))
								       : describe_node(c, v),
				   param_type_names[p->type]);
	if (p->type == DR_PARAM_BOOL)
		dr_diag_set_hint(g, "write true or false");
	else if (p->type == DR_PARAM_DURATION)
		dr_diag_set_hint(g, "write a duration like 30s, 5m or 1h30m");
	else if (p->type == DR_PARAM_INT)
		dr_diag_set_hint(g, "write a whole number (or change the parameter's type)");
	else
		dr_diag_set_hint(g, "write a single value (or change the parameter's type)");
}

static void param_choices(ck *c, const dr_node *list, dr_param *p)
{
	if (!list || list->kind != DR_NODE_SEQ || list->u.seq.n == 0)
		return;
	const char **choices = dr_arena_calloc(c->a, list->u.seq.n + 1, sizeof *choices);
	size_t n = 0, bad;
	push_key(c, "enum");
	for (size_t i = 0; i < list->u.seq.n; i++) {
		const dr_node *v = list->u.seq.items[i];
		push_index(c, i);
		if (param_value_ok(v, p->type, &bad))
			choices[n++] = dr_node_str(v);
		else
			bad_param_value(c, v, p, bad);
		pop(c);
	}
	pop(c);
	p->choices = choices;
}

static void param_default(ck *c, const dr_node *v, dr_param *p)
{
	size_t bad;
	if (!v)
		return;
	push_key(c, "default");
	if (!param_value_ok(v, p->type, &bad)) {
		bad_param_value(c, v, p, bad);
	} else {
		p->default_value = v;
		bool listed = !p->choices;
		for (size_t i = 0; p->choices && p->choices[i]; i++)
			listed |= strcmp(p->choices[i], dr_node_str(v)) == 0;
		if (!listed) {
			dr_diag *g = dr_diag_error(c->d, DR215, dr_node_loc(v), "%s: '%s' is not one of the choices in enum:",
						   where(c), shown(c, v));
			const char *s = dr_text_suggest(dr_node_str(v), p->choices);
			if (s)
				dr_diag_set_hint(g, "did you mean '%s'?", s);
		}
	}
	pop(c);
}

static void build_param(ck *c, const dr_pair *pair, dr_param *p)
{
	const dr_node *m = pair->value;
	p->name = (dr_ref){dr_node_str(pair->key), pair->key};
	int ty = q_enum(get(m, "type"), ftype(c->t_param, "type"));
	p->type = ty >= 0 ? (dr_param_type)ty : DR_PARAM_STRING;
	p->description = q_string(get(m, "description"));
	push_key(c, p->name.name);
	param_choices(c, get(m, "enum"), p);
	param_default(c, get(m, "default"), p);
	pop(c);
}

static void build_params(ck *c, const dr_node *dict, const char *key, dr_param **out, size_t *n_out)
{
	if (!is_map(dict))
		return;
	dr_param *ps = dr_arena_calloc(c->a, dict->u.map.n, sizeof *ps);
	size_t n = 0;
	push_key(c, key);
	for (size_t i = 0; i < dict->u.map.n; i++)
		if (is_map(dict->u.map.items[i].value))
			build_param(c, &dict->u.map.items[i], &ps[n++]);
	pop(c);
	*out = ps;
	*n_out = n;
}

static bool env_name_ok(const char *s)
{
	if (!s || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

static void secret_source(ck *c, const dr_node *m, dr_secret *s)
{
	const dr_node *env = get(m, "env"), *file = get(m, "file");
	if (env && file) {
		dr_diag *g = dr_diag_error(c->d, DR216, key_loc(m, "file"),
					   "%s: secret '%s' has both env: and file:; it must come from exactly one",
					   where(c), s->name.name);
		dr_diag_set_hint(g, "remove env: or file:");
	} else if (!env && !file) {
		dr_diag *g = dr_diag_error(c->d, DR216, dr_node_loc(m), "%s: secret '%s' says nowhere to read it from",
					   where(c), s->name.name);
		dr_diag_set_hint(g, "give env: VARIABLE_NAME or file: path/to/secret");
	}
	if (q_string(env) && !env_name_ok(q_string(env))) {
		push_key(c, "env");
		dr_diag *g = dr_diag_error(c->d, DR216, dr_node_loc(env),
					   "%s: '%s' is not a valid environment variable name", where(c), shown(c, env));
		dr_diag_set_hint(g, "use letters, digits and '_', not starting with a digit, e.g. SLACK_WEBHOOK_URL");
		pop(c);
	}
}

static void build_secrets(ck *c, const dr_node *dict)
{
	dr_runbook *rb = c->rb;
	if (!is_map(dict))
		return;
	rb->secrets = dr_arena_calloc(c->a, dict->u.map.n, sizeof *rb->secrets);
	push_key(c, "secrets");
	for (size_t i = 0; i < dict->u.map.n; i++) {
		const dr_pair *p = &dict->u.map.items[i];
		if (!is_map(p->value))
			continue;
		dr_secret *s = &rb->secrets[rb->n_secrets++];
		s->name = (dr_ref){dr_node_str(p->key), p->key};
		s->env = q_string(get(p->value, "env"));
		s->file = q_string(get(p->value, "file"));
		s->description = q_string(get(p->value, "description"));
		push_key(c, s->name.name);
		secret_source(c, p->value, s);
		pop(c);
	}
	pop(c);
}

/* ---- vm_sets -------------------------------------------------------------- */

static void build_filter(ck *c, const dr_node *m, dr_vm_filter *f)
{
	if (!is_map(m))
		return;
	f->present = true;
	compile_regex(c, get(m, "name"), &f->name);
	const dr_node *tags = get(m, "tags");
	if (!is_map(tags))
		return;
	f->tags = dr_arena_calloc(c->a, tags->u.map.n, sizeof *f->tags);
	for (size_t i = 0; i < tags->u.map.n; i++) {
		dr_tag_match *tm = &f->tags[f->n_tags];
		tm->key = dr_node_str(tags->u.map.items[i].key);
		if (compile_regex(c, tags->u.map.items[i].value, &tm->value))
			f->n_tags++;
	}
}

static void build_expect(ck *c, const dr_node *m, dr_vm_set *v)
{
	v->expect_count = v->expect_min = v->expect_max = -1;
	if (!is_map(m))
		return;
	int_field(m, c->t_expect, "count", &v->expect_count);
	int_field(m, c->t_expect, "min", &v->expect_min);
	int_field(m, c->t_expect, "max", &v->expect_max);
	push_key(c, "expect");
	if (get(m, "count") && (get(m, "min") || get(m, "max"))) {
		const char *other = get(m, "min") ? "min" : "max";
		dr_diag *g = dr_diag_error(c->d, DR213, key_loc(m, other), "%s: count: and %s: exclude each other",
					   where(c), other);
		dr_diag_set_hint(g, "count: asks for an exact number; use min:/max: for a range");
	}
	if (v->expect_min >= 0 && v->expect_max >= 0 && v->expect_min > v->expect_max)
		dr_diag_error(c->d, DR205, dr_node_loc(get(m, "max")), "%s: max %lld is below min %lld", where(c),
			      (long long)v->expect_max, (long long)v->expect_min);
	pop(c);
}

static void build_vm_sets(ck *c, const dr_node *dict)
{
	dr_runbook *rb = c->rb;
	if (!is_map(dict))
		return;
	rb->vm_sets = dr_arena_calloc(c->a, dict->u.map.n, sizeof *rb->vm_sets);
	c->vm_set_names = dr_arena_calloc(c->a, dict->u.map.n + 1, sizeof *c->vm_set_names);
	push_key(c, "vm_sets");
	for (size_t i = 0; i < dict->u.map.n; i++) {
		const dr_pair *p = &dict->u.map.items[i];
		dr_vm_set *v = &rb->vm_sets[rb->n_vm_sets];
		v->name = (dr_ref){dr_node_str(p->key), p->key};
		c->vm_set_names[rb->n_vm_sets++] = v->name.name;
		name_add(&c->vm_sets, v->name.name, p->key);
		push_key(c, v->name.name);
		build_filter(c, get(p->value, "match"), &v->match);
		build_filter(c, get(p->value, "exclude"), &v->exclude);
		build_expect(c, get(p->value, "expect"), v);
		v->description = q_string(get(p->value, "description"));
		pop(c);
	}
	pop(c);
}

/* ---- recovery, objectives, defaults, backend ------------------------------- */

static void recovery_fallback(ck *c, const dr_node *list, dr_recovery *r)
{
	if (!list || list->kind != DR_NODE_SEQ)
		return;
	r->fallback = dr_arena_calloc(c->a, list->u.seq.n, sizeof *r->fallback);
	push_key(c, "fallback");
	for (size_t i = 0; i < list->u.seq.n; i++) {
		const dr_node *it = list->u.seq.items[i];
		int p = q_enum(it, ftype(c->t_recovery, "point"));
		if (p == DR_POINT_CUSTOM) {
			push_index(c, i);
			dr_diag *g = dr_diag_error(c->d, DR219, dr_node_loc(it), "%s: 'custom' cannot be a fallback",
						   where(c));
			dr_diag_set_hint(g, "a fallback is a policy (latest, latest-processed, latest-app-consistent, "
					    "latest-crash-consistent); put a custom point in point:, id: and time:");
			pop(c);
		} else if (p >= 0) {
			r->fallback[r->n_fallback++] = (dr_point_policy)p;
		}
	}
	pop(c);
}

static void recovery_custom(ck *c, const dr_node *m, dr_recovery *r)
{
	const dr_node *id = get(m, "id"), *time = get(m, "time");
	if (r->point == DR_POINT_CUSTOM && !id && !time) {
		dr_diag *g = dr_diag_error(c->d, DR219, dr_node_loc(r->point_node),
					   "%s: point: custom needs id: or time: to say which recovery point", where(c));
		dr_diag_set_hint(g, "add id: <recovery point id>, or time: 2024-05-01T12:00:00Z for the newest point "
				    "at or before that time");
	} else if (r->point == DR_POINT_CUSTOM && id && time) {
		dr_diag *g = dr_diag_error(c->d, DR219, key_loc(m, "time"),
					   "%s: id: and time: both choose the custom point; give only one", where(c));
		dr_diag_set_hint(g, "remove id: or time:");
	} else if (r->point != DR_POINT_CUSTOM && r->point != DR_POINT_FROM_EXPR && (id || time)) {
		const char *k = id ? "id" : "time";
		const char *pt = r->point_node ? shown(c, r->point_node) : "latest (the default)";
		dr_diag *g = dr_diag_error(c->d, DR219, key_loc(m, k), "%s: %s: is only used with point: custom, but point is %s",
					   where(c), k, pt);
		dr_diag_set_hint(g, "set point: custom, or remove %s:", k);
	}
}

/* v, a value recovery.point may take from parameter name: DR219 unless it is a point policy. */
static void policy_value(ck *c, const dr_node *v, const char *name)
{
	dr_point_policy p;
	if (!q_string(v) || dr_point_policy_parse(dr_node_str(v), &p))
		return;
	const char *names[DR_POINT_CUSTOM + 2];
	for (int i = DR_POINT_LATEST; i <= DR_POINT_CUSTOM; i++)
		names[i] = dr_point_policy_name((dr_point_policy)i);
	names[DR_POINT_CUSTOM + 1] = NULL;
	dr_diag *g = dr_diag_error(c->d, DR219, dr_node_loc(v),
				   "params.%s: '%s' is no recovery point policy, and recovery.point is ${params.%s}: a failover "
				   "with it would be refused",
				   name, shown(c, v), name);
	const char *near = dr_text_suggest(dr_node_str(v), names + DR_POINT_LATEST);
	if (near)
		dr_diag_set_hint(g, "did you mean '%s'?", near);
	else
		dr_diag_set_hint(g, "one of: latest, latest-processed, latest-app-consistent, latest-crash-consistent, custom");
}

/* recovery.point: ${params.NAME} alone: each value NAME may take (its enum: choices, else its default:) is a policy. */
static void point_from_param(ck *c, const dr_recovery *r)
{
	const char *s = r->point == DR_POINT_FROM_EXPR ? dr_node_str(r->point_node) : NULL;
	size_t n = s ? strlen(s) : 0;
	if (n < 11 || strncmp(s, "${params.", 9) || s[n - 1] != '}')
		return;
	const char *name = dr_arena_printf(c->a, "%.*s", (int)(n - 10), s + 9);
	const dr_node *m = get(get(c->rb->root, "params"), name), *choices = get(m, "enum");
	if (choices && choices->kind == DR_NODE_SEQ)
		for (size_t i = 0; i < choices->u.seq.n; i++)
			policy_value(c, choices->u.seq.items[i], name);
	else
		policy_value(c, get(m, "default"), name);
}

static void build_recovery(ck *c, const dr_node *m)
{
	dr_recovery *r = &c->rb->recovery;
	if (!is_map(m))
		return;
	r->present = true;
	r->loc = dr_node_loc(m);
	r->point_node = get(m, "point");
	int p = q_enum(r->point_node, ftype(c->t_recovery, "point"));
	if (is_expr(r->point_node))
		r->point = DR_POINT_FROM_EXPR;
	else if (p >= 0)
		r->point = (dr_point_policy)p;
	r->custom_id = is_expr(get(m, "id")) ? NULL : q_string(get(m, "id")); /* ${...}: evaluated when the point is chosen */
	const char *why;
	size_t bad;
	if (q_string(get(m, "time")) && parse_timestamp(q_string(get(m, "time")), &r->custom_time_unix_ms, &bad, &why))
		r->custom_time = q_string(get(m, "time"));
	dur_field(m, c->t_recovery, "max_age", &r->max_age_ms);
	push_key(c, "recovery");
	recovery_fallback(c, get(m, "fallback"), r);
	point_from_param(c, r);
	if (r->point_node == NULL || p >= 0 || r->point == DR_POINT_FROM_EXPR)
		recovery_custom(c, m, r);
	pop(c);
}

/* The built-in retry policy: the defaults written in the schema table. */
static void builtin_retry(ck *c, dr_retry *r)
{
	const dr_type *t = c->t_retry;
	size_t bad;
	*r = (dr_retry){.attempts = 1, .backoff = 1, .max_delay_ms = -1};
	r->attempts = strtoll(fdefault(t, "attempts"), NULL, 10);
	dr_text_parse_duration(fdefault(t, "delay"), &r->delay_ms, &bad);
	r->backoff = strtod(fdefault(t, "backoff"), NULL);
	const char *const *jit = ftype(t, "jitter")->enum_values;
	for (int i = 0; jit[i]; i++)
		if (strcmp(jit[i], fdefault(t, "jitter")) == 0)
			r->jitter = (dr_jitter)i;
	const char *const *classes = ftype(t, "on")->items->alts[0]->enum_values;
	const char *on = fdefault(t, "on");
	for (int i = 0; classes[i]; i++)
		if (strstr(on, classes[i]))
			r->on |= 1u << i;
}

static void retry_on(ck *c, const dr_node *list, dr_retry *r)
{
	if (!list || list->kind != DR_NODE_SEQ || list->u.seq.n == 0)
		return;
	const dr_type *classes = ftype(c->t_retry, "on")->items->alts[0];
	r->on = 0;
	r->on_match = dr_arena_calloc(c->a, list->u.seq.n, sizeof *r->on_match);
	r->n_on_match = 0;
	for (size_t i = 0; i < list->u.seq.n; i++) {
		const dr_node *it = list->u.seq.items[i];
		int k = q_enum(it, classes);
		if (k >= 0)
			r->on |= 1u << k;
		else if (compile_regex(c, get(it, "match"), &r->on_match[r->n_on_match]))
			r->n_on_match++;
	}
}

/* A retry: block over base (defaults.retry, or the built-in policy). */
static void build_retry(ck *c, const dr_node *m, const dr_retry *base, dr_retry *out)
{
	const dr_type *t = c->t_retry;
	*out = *base;
	out->present = false;
	if (!is_map(m))
		return;
	out->present = true;
	int_field(m, t, "attempts", &out->attempts);
	dur_field(m, t, "delay", &out->delay_ms);
	q_number(get(m, "backoff"), ftype(t, "backoff"), &out->backoff);
	dur_field(m, t, "max_delay", &out->max_delay_ms);
	int j = q_enum(get(m, "jitter"), ftype(t, "jitter"));
	if (j >= 0)
		out->jitter = (dr_jitter)j;
	retry_on(c, get(m, "on"), out);
}

/* A step's retry: its own (arena), or the one all steps without retry: share. */
static const dr_retry *step_retry(ck *c, const dr_node *m)
{
	if (!is_map(m) && c->inherited)
		return c->inherited;
	dr_retry *r = dr_arena_alloc(c->a, sizeof *r);
	build_retry(c, m, &c->rb->default_retry, r);
	if (!is_map(m))
		c->inherited = r;
	return r;
}

static void build_defaults(ck *c, const dr_node *m)
{
	dr_runbook *rb = c->rb;
	dr_retry builtin;
	builtin_retry(c, &builtin);
	rb->default_retry = builtin;
	if (!is_map(m))
		return;
	dur_field(m, c->t_defaults, "timeout", &rb->default_timeout_ms);
	dur_field(m, c->t_defaults, "attempt_timeout", &rb->default_attempt_timeout_ms);
	dur_field(m, c->t_defaults, "run_timeout", &rb->run_timeout_ms);
	int_field(m, c->t_defaults, "concurrency", &rb->default_concurrency);
	int order = q_enum(get(m, "order"), ftype(c->t_defaults, "order"));
	if (order >= 0)
		rb->default_order = (dr_order)(order + 1);
	build_retry(c, get(m, "retry"), &builtin, &rb->default_retry);
}

static void build_objectives(ck *c, const dr_node *m)
{
	dur_field(m, c->t_objectives, "rto", &c->rb->rto_ms);
	dur_field(m, c->t_objectives, "rpo", &c->rb->rpo_ms);
	int e = q_enum(get(m, "enforce"), ftype(c->t_objectives, "enforce"));
	if (e >= 0)
		c->rb->enforce = (dr_enforce)e;
}

static void build_backend(ck *c, const dr_node *m)
{
	dr_backend_cfg *b = &c->rb->backend;
	b->kind = DR_BACKEND_SIM;
	b->node = is_map(m) ? m : NULL;
	int k = q_enum(get(m, "kind"), ftype(c->t_backend, "kind"));
	if (k >= 0)
		b->kind = (dr_backend_kind)k;
	const dr_node *secret = get(m, "client_secret");
	if (b->kind == DR_BACKEND_AZURE && is_string(secret) && !is_expr(secret) && secret->u.scalar.len) {
		dr_diag *g = dr_diag_warning(c->d, DR216, dr_node_loc(secret),
					     "backend.client_secret is written into the runbook in clear text");
		dr_diag_set_hint(g, "declare it under secrets: (env: or file:) and write client_secret: "
				    "${secrets.NAME}");
	}
}

/* ---- steps ---------------------------------------------------------------- */

static void build_steps(ck *c, const dr_node *seq, const char *key, dr_step **out, size_t *n_out, bool in_finally);

static void step_id(ck *c, const dr_node *m, dr_step *s)
{
	const dr_node *id = get(m, "id");
	s->id = (dr_ref){"", m};
	if (!is_scalar(id) || is_null(id))
		return;
	s->id = (dr_ref){dr_node_str(id), id};
	if (!q_ident(id))
		return;
	const dr_node *first = name_add(&c->step_ids, s->id.name, id);
	if (!first)
		return;
	dr_diag *g = dr_diag_error(c->d, DR208, dr_node_loc(id), "%s: step id '%s' is already used", where(c),
				   s->id.name);
	dr_diag_set_hint(g, "first defined at line %d; ids must be unique across steps, finally and rollback steps",
			 first->line);
}

static void unknown_action(ck *c, const dr_node *n)
{
	dr_diag *g = dr_diag_error(c->d, DR210, dr_node_loc(n), "%s: unknown action '%s'", where(c), shown(c, n));
	const char *s = dr_text_suggest(dr_node_str(n), dr_action_names());
	if (s)
		dr_diag_set_hint(g, "did you mean '%s'?", s);
	else
		dr_diag_set_hint(g, "`drover actions` lists the actions (docs/actions.md); for a stdlib composite "
				    "write use: instead of action:");
}

static void step_action(ck *c, const dr_node *m, dr_step *s)
{
	const dr_node *act = get(m, "action"), *use = get(m, "use");
	s->action_name = (dr_ref){"", m};
	if (act && use) {
		dr_diag *g = dr_diag_error(c->d, DR213, key_loc(m, "use"), "%s: a step has action: or use:, not both",
					   where(c));
		dr_diag_set_hint(g, "action: runs one action; use: expands a stdlib composite; remove one of them");
	} else if (!act && !use) {
		dr_diag *g = dr_diag_error(c->d, DR213, dr_node_loc(m), "%s: the step has neither action: nor use:",
					   where(c));
		dr_diag_set_hint(g, "add action: NAME (e.g. dr.failover), or use: NAME for a stdlib composite");
	}
	if (q_ident(use) && !act) { /* with both, keep action: only, so later stages do not pile on */
		s->use = (dr_ref){dr_node_str(use), use};
		return;
	}
	if (!q_string(act) || act->u.scalar.len == 0)
		return;
	s->action_name = (dr_ref){act->u.scalar.str, act};
	push_key(c, "action");
	s->action = dr_action_find(s->action_name.name);
	if (!s->action)
		unknown_action(c, act);
	pop(c);
}

static void expr_not_allowed(ck *c, const dr_node *n, const char *key)
{
	dr_diag *g = dr_diag_error(c->d, DR201, dr_node_loc(n), "%s: expected %s, got the expression '%s'", where(c),
				   strcmp(key, "needs") == 0 ? "a step id" : "a VM set name", shown(c, n));
	dr_diag_set_hint(g, "${inputs.NAME} is allowed in %s: only inside composite files (stdlib/)", key);
}

static void unknown_vm_set(ck *c, const dr_node *n)
{
	const char *name = dr_node_str(n);
	dr_diag *g = dr_diag_error(c->d, DR212, dr_node_loc(n), "%s: unknown VM set '%s'", where(c), shown(c, n));
	const char *s = c->vm_set_names ? dr_text_suggest(name, c->vm_set_names) : NULL;
	if (s)
		dr_diag_set_hint(g, "did you mean '%s'?", s);
	else if (c->rb->n_vm_sets)
		dr_diag_set_hint(g, "declare it under vm_sets:");
	else
		dr_diag_set_hint(g, "declare it under vm_sets:, e.g. vm_sets: { %s: { match: { name: \"^%s-\" } } }", name,
				 name);
}

/* Read a name or a list of names (needs:, targets:, foreach:) into refs. */
static dr_ref *ref_list(ck *c, const dr_node *n, const char *key, size_t *count, bool vm_sets)
{
	size_t total = n->kind == DR_NODE_SEQ ? n->u.seq.n : 1;
	dr_ref *refs = dr_arena_calloc(c->a, total, sizeof *refs);
	push_key(c, key);
	for (size_t i = 0; i < total; i++) {
		const dr_node *it = n->kind == DR_NODE_SEQ ? n->u.seq.items[i] : n;
		if (n->kind == DR_NODE_SEQ)
			push_index(c, i);
		bool expr = is_expr(it);
		if (expr && !c->rb->is_composite)
			expr_not_allowed(c, it, key);
		else if (expr || q_ident(it))
			refs[(*count)++] = (dr_ref){dr_node_str(it), it};
		if (vm_sets && !expr && q_ident(it) && !c->rb->is_composite && !name_has(&c->vm_sets, dr_node_str(it)))
			unknown_vm_set(c, it);
		if (n->kind == DR_NODE_SEQ)
			pop(c);
	}
	pop(c);
	return refs;
}

static bool ref_shape(const dr_node *n)
{
	return n && (n->kind == DR_NODE_SEQ || (n->kind == DR_NODE_SCALAR && !is_null(n)));
}

static void step_refs(ck *c, const dr_node *m, dr_step *s)
{
	const dr_node *needs = get(m, "needs"), *targets = get(m, "targets"), *each = get(m, "foreach");
	if (ref_shape(needs))
		s->needs = ref_list(c, needs, "needs", &s->n_needs, false);
	if (targets && each) {
		dr_diag *g = dr_diag_error(c->d, DR213, key_loc(m, "foreach"),
					   "%s: targets: and foreach: exclude each other", where(c));
		dr_diag_set_hint(g, "targets: runs the action on the VMs; foreach: repeats the step per VM with "
				    "${target.*}; keep one");
	}
	if (ref_shape(targets)) {
		s->targets = ref_list(c, targets, "targets", &s->n_targets, true);
	} else if (each && each->kind == DR_NODE_SCALAR && !is_null(each)) {
		s->targets = ref_list(c, each, "foreach", &s->n_targets, true);
		s->foreach = true;
	}
}

static void step_needs_targets(ck *c, const dr_node *m, const dr_step *s)
{
	if (!s->action || !(s->action->flags & DR_AF_PER_TARGET) || get(m, "targets") || get(m, "foreach"))
		return;
	dr_diag *g = dr_diag_error(c->d, DR202, dr_node_loc(m), "%s: %s needs targets: (the VM sets it acts on)",
				   where(c), s->action->name);
	if (c->rb->n_vm_sets)
		dr_diag_set_hint(g, "add targets: [%s] (or another VM set from vm_sets:)", c->rb->vm_sets[0].name.name);
	else
		dr_diag_set_hint(g, "declare VM sets under vm_sets: and name them in targets:");
}

static void step_with(ck *c, const dr_node *m, dr_step *s)
{
	const dr_node *w = get(m, "with");
	s->with = is_map(w) ? w : NULL; /* a with: of the wrong type was reported by the walker */
	const dr_action *act = s->action;
	if (!act || s->use.name || (w && !is_map(w)))
		return;
	if (!w) {
		for (const dr_field *f = act->input ? act->input->fields : NULL; f && f->name; f++)
			if (f->required) {
				dr_diag *g = dr_diag_error(c->d, DR202, dr_node_loc(m), "%s: %s needs with: %s", where(c),
							   act->name, f->name);
				if (f->doc)
					dr_diag_set_hint(g, "%s: %s", f->name, f->doc);
			}
		return;
	}
	static const dr_field no_fields[] = {{NULL, NULL, false, NULL, NULL}};
	const dr_type none = {.kind = DR_T_MAP, .fields = no_fields};
	dr_action shadow = *act;
	shadow.input = act->input ? act->input : &none;
	push_key(c, "with");
	c->with_action = &shadow;
	walk(c, w, shadow.input);
	c->with_action = NULL;
	pop(c);
}

static void step_limits(ck *c, const dr_node *m, dr_step *s)
{
	const dr_type *t = c->t_step;
	s->name = q_string(get(m, "name"));
	s->description = q_string(get(m, "description"));
	dur_field(m, t, "timeout", &s->timeout_ms);
	dur_field(m, t, "attempt_timeout", &s->attempt_timeout_ms);
	int_field(m, t, "concurrency", &s->concurrency);
	bool b;
	const dr_node *pipeline = get(m, "pipeline");
	if (pipeline && dr_node_as_bool(pipeline, &b))
		s->pipeline = b;
	const dr_node *when = get(m, "when");
	if (when && (is_expr(when) || dr_node_as_bool(when, &b)))
		s->when = when;
	int of = q_enum(get(m, "on_failure"), ftype(t, "on_failure"));
	if (of >= 0)
		s->on_failure = (dr_on_failure)(of + 1);
	int order = q_enum(get(m, "order"), ftype(t, "order"));
	if (order >= 0)
		s->order = (dr_order)(order + 1);
	const dr_node *mf = get(m, "max_failures");
	int64_t v;
	size_t bad;
	if (mf && dr_node_as_int(mf, &v) && v >= 0)
		s->max_failures = v;
	else if (is_string(mf) && parse_percent(mf->u.scalar.str, &v, &bad) && v <= 100)
		s->max_failures = v, s->max_failures_pct = true;
}

static void build_step(ck *c, const dr_node *m, dr_step *s, bool in_finally)
{
	s->node = m;
	s->loc = dr_node_loc(m);
	s->in_finally = in_finally;
	s->timeout_ms = s->attempt_timeout_ms = -1;
	s->max_failures = -1;
	s->on_failure = DR_ONFAIL_INHERIT;
	step_id(c, m, s);
	step_action(c, m, s);
	step_refs(c, m, s);
	step_needs_targets(c, m, s);
	step_limits(c, m, s);
	s->retry = step_retry(c, get(m, "retry"));
	step_with(c, m, s);
	build_steps(c, get(m, "rollback"), "rollback", &s->rollback, &s->n_rollback, false);
}

static void build_steps(ck *c, const dr_node *seq, const char *key, dr_step **out, size_t *n_out, bool in_finally)
{
	if (!seq || seq->kind != DR_NODE_SEQ)
		return;
	dr_step *steps = dr_arena_calloc(c->a, seq->u.seq.n, sizeof *steps);
	size_t n = 0;
	push_key(c, key);
	for (size_t i = 0; i < seq->u.seq.n; i++) {
		if (!is_map(seq->u.seq.items[i]))
			continue;
		push_index(c, i);
		build_step(c, seq->u.seq.items[i], &steps[n++], in_finally);
		pop(c);
	}
	pop(c);
	*out = steps;
	*n_out = n;
}

/* ---- the root ------------------------------------------------------------- */

static void check_version(ck *c, const dr_node *root)
{
	const dr_node *v = get(root, "drover");
	int64_t ver;
	if (!v || !dr_node_as_int(v, &ver))
		return;
	c->rb->version = ver;
	if (ver == SUPPORTED_VERSION)
		return;
	dr_diag *g = dr_diag_error(c->d, DR207, dr_node_loc(v), "runbook format version %lld is not supported",
				   (long long)ver);
	dr_diag_set_hint(g, "this drover reads format version %d only; write drover: %d", SUPPORTED_VERSION,
			 SUPPORTED_VERSION);
}

static void lookup_types(ck *c)
{
	const dr_type *rb = &dr_schema_runbook;
	c->t_backend = dr_schema_backend_base();
	c->t_param = ftype(rb, "params")->items;
	c->t_secret = ftype(rb, "secrets")->items;
	c->t_vm_set = ftype(rb, "vm_sets")->items;
	c->t_filter = ftype(c->t_vm_set, "match");
	c->t_expect = ftype(c->t_vm_set, "expect");
	c->t_recovery = ftype(rb, "recovery");
	c->t_objectives = ftype(rb, "objectives");
	c->t_defaults = ftype(rb, "defaults");
	c->t_retry = ftype(c->t_defaults, "retry");
	c->t_step = &dr_schema_step;
}

static dr_runbook *new_runbook(dr_arena *a, const dr_node *root, const char *path)
{
	dr_runbook *rb = dr_arena_alloc(a, sizeof *rb);
	rb->arena = a;
	rb->path = path;
	rb->root = root;
	rb->rto_ms = rb->rpo_ms = -1;
	rb->enforce = DR_ENFORCE_DRILL;
	rb->default_timeout_ms = rb->default_attempt_timeout_ms = rb->run_timeout_ms = -1;
	rb->on_failure = DR_ONFAIL_STOP;
	rb->recovery.point = DR_POINT_LATEST;
	rb->recovery.max_age_ms = -1;
	rb->backend.kind = DR_BACKEND_SIM;
	return rb;
}

static void build_root(ck *c, const dr_node *root)
{
	dr_runbook *rb = c->rb;
	check_version(c, root);
	rb->name = q_ident(get(root, "name")) ? dr_node_str(get(root, "name")) : NULL;
	rb->description = q_string(get(root, "description"));
	if (rb->is_composite) {
		rb->composite_name = q_ident(get(root, "composite")) ? dr_node_str(get(root, "composite")) : NULL;
		build_params(c, get(root, "inputs"), "inputs", &rb->inputs, &rb->n_inputs);
	}
	build_backend(c, get(root, "backend"));
	build_params(c, get(root, "params"), "params", &rb->params, &rb->n_params);
	build_secrets(c, get(root, "secrets"));
	build_vm_sets(c, get(root, "vm_sets"));
	build_recovery(c, get(root, "recovery"));
	build_objectives(c, get(root, "objectives"));
	build_defaults(c, get(root, "defaults"));
	int of = q_enum(get(root, "on_failure"), ftype(&dr_schema_runbook, "on_failure"));
	if (of >= 0)
		rb->on_failure = (dr_on_failure)(of + 1);
	build_steps(c, get(root, "steps"), "steps", &rb->steps, &rb->n_steps, false);
	build_steps(c, get(root, "finally"), "finally", &rb->finally_steps, &rb->n_finally, true);
}

/*
 * Validate root (a runbook, or a composite file when it has `composite:`)
 * and build its model in a. Every problem goes to diags; the model is built
 * from whatever is valid, so later stages can still run. NULL only for a
 * NULL root.
 */
dr_runbook *dr_check(dr_arena *a, dr_diags *diags, const dr_node *root, const char *path)
{
	if (!root)
		return NULL;
	ck c = {.a = a, .d = diags};
	c.rb = new_runbook(a, root, path);
	lookup_types(&c);
	if (!is_map(root)) {
		dr_diag *g = dr_diag_error(diags, DR201, dr_node_loc(root), "top level: expected a mapping, got %s",
					   describe_node(&c, root));
		dr_diag_set_hint(g, "a runbook starts with drover: 1, name: ..., steps: ...");
		return c.rb;
	}
	c.rb->is_composite = dr_node_get(root, "composite") != NULL;
	walk(&c, root, c.rb->is_composite ? &dr_schema_composite : &dr_schema_runbook);
	build_root(&c, root);
	free(c.step_ids.slots);
	free(c.vm_sets.slots);
	return c.rb;
}
