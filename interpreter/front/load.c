/*
 * load.c - stage 1: YAML bytes to a node tree that remembers positions.
 *
 * The file is read once into memory, checked (size, UTF-8), registered with
 * the diagnostics for carets, and fed to libyaml's event parser. Events build
 * the tree bottom-up: each open collection is a frame whose children sit on
 * one shared scratch stack (grown geometrically, heap) and are copied into
 * the arena once, when the collection closes. Everything reachable from the
 * result lives in the arena; the scratch memory is freed before returning.
 *
 * Positions. libyaml marks are 0-based and count characters; drover's are
 * 1-based bytes. For an ASCII file they are the same numbers plus one; for
 * other files a line cursor converts them (marks arrive almost in order, so
 * the cursor moves forward; lines are counted at '\n', so a lone '\r' or a
 * Unicode line separator, which libyaml also counts, would shift positions -
 * runbooks do not use them). A node's position is its content: the anchor
 * and tag in front of it ("&a !!str x") are skipped, so carets point at the
 * value; the start of a quoted scalar is its opening quote and the start of
 * a block scalar its '|' or '>'.
 *
 * Aliases share the anchored node. Every node counts toward a running total
 * of the document's expanded size (an alias counts as its anchor's full
 * expanded size), and the load stops with DR103 as soon as the total passes
 * the limit, so an alias bomb costs a few microseconds. An alias to a node
 * still open (a recursive structure) is refused too: it would make a cycle.
 * A refused or undefined alias is dropped with its pair or list item, so the
 * later stages do not report the same mistake again as a missing value.
 *
 * Maps: keys must be scalars, duplicates (same text) are DR102 and dropped
 * (the first wins), merge keys ("<<" plain) are applied when the map closes:
 * explicit keys win, then earlier merge sources win over later ones; merged
 * pairs come after the explicit ones. Maps over 16 keys use a hash table, so
 * big maps stay linear.
 *
 * Tags: none, or the YAML core ones (!!str !!int !!bool !!float !!null !!map
 * !!seq, also written tag:yaml.org,2002:...), or the non-specific "!".
 * "!!str 42" and "! 42" on a plain scalar make it a string: the node's style
 * becomes DR_STYLE_DOUBLE, so the typing helpers (which type plain scalars
 * only) see a string - the same as if it had been written "42". Its position
 * stays that of the plain text; dr_node_loc_at tells the two apart by length.
 * !!int, !!bool, !!float and !!null on a quoted scalar make it plain when its
 * text fits the type (and are DR106 when it does not).
 */
#include "front/load.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "util/index.h"
#include "util/text.h"
#include "util/xalloc.h"

const dr_load_limits dr_load_default_limits = {8u << 20, 4000000, 200};

/*
 * File names, one table for the process: a node keeps a 16-bit index
 * (dr_node_file). Entries are added under the lock and never change or go
 * away, so reading an entry needs no lock: a node reaches another thread
 * only after its file's entry was written. The last entry stands for every
 * file past the table's capacity (a process never loads that many).
 */
enum { MAX_FILES = 65535 };
static const char *file_names[MAX_FILES + 1]; /* [0]: no file */
static size_t n_file_names = 1;
static dr_index file_index;
static pthread_mutex_t file_mu = PTHREAD_MUTEX_INITIALIZER;

static uint16_t intern_file(const char *file)
{
	if (!file)
		return 0;
	uint64_t h = dr_index_hash(DR_INDEX_SEED, file);
	pthread_mutex_lock(&file_mu);
	size_t id = DR_INDEX_NONE;
	for (size_t pos = 0, v; id == DR_INDEX_NONE && (v = dr_index_next(&file_index, h, &pos)) != DR_INDEX_NONE;)
		if (strcmp(file_names[v], file) == 0)
			id = v;
	if (id == DR_INDEX_NONE && n_file_names < MAX_FILES) {
		id = n_file_names++;
		file_names[id] = xstrdup(file);
		dr_index_put(&file_index, h, id);
	} else if (id == DR_INDEX_NONE) {
		if (!file_names[MAX_FILES])
			file_names[MAX_FILES] = "(one of too many files)";
		id = MAX_FILES;
	}
	pthread_mutex_unlock(&file_mu);
	return (uint16_t)id;
}

const char *dr_node_file(const dr_node *n)
{
	return file_names[n->file_id];
}

void dr_node_set_file(dr_node *n, const char *file)
{
	n->file_id = intern_file(file);
}

_Static_assert(sizeof(dr_node) <= 32, "a node is 32 bytes: big runbooks are millions of them");

const struct dr_template *dr_node_template(const dr_node *n)
{
	const struct dr_template *t = NULL;
	if (n && n->kind == DR_NODE_SCALAR && n->templated)
		memcpy(&t, n->u.scalar.str - sizeof t, sizeof t);
	return t;
}

void dr_node_set_template(dr_arena *a, dr_node *n, const struct dr_template *t)
{
	if (!t || n->templated) {
		if (t) /* our own copy, in front of the text */
			memcpy((char *)n->u.scalar.str - sizeof t, &t, sizeof t);
		n->templated = t != NULL;
		return;
	}
	char *p = dr_arena_alloc_uninit(a, sizeof t + n->u.scalar.len + 1);
	memcpy(p, &t, sizeof t);
	memcpy(p + sizeof t, n->u.scalar.str, n->u.scalar.len + 1);
	n->u.scalar.str = p + sizeof t;
	n->templated = true;
}

/* A byte position: offset in the text and the 1-based line and column. */
typedef struct pos {
	size_t off;
	int line, col;
} pos;

typedef struct hslot {
	uint32_t idx1; /* index + 1 of the entry; 0 = empty */
	uint32_t h;
} hslot;

/* Open-addressing hash index over an external array (anchors, map pairs). */
typedef struct htab {
	hslot *s;
	size_t cap; /* allocated slots */
	size_t mask; /* slots in use - 1 */
	size_t n;
} htab;

typedef struct anchor {
	const char *name;
	size_t len;
	dr_node *node;
	size_t expanded; /* 0 while the anchored collection is still open */
} anchor;

typedef struct frame {
	dr_node *node;
	size_t base; /* its first child on the scratch stack */
	size_t total0; /* the running total before this node */
	size_t anchor1; /* index + 1 of its anchor, 0 for none */
} frame;

typedef struct ld {
	dr_arena *a;
	dr_diags *d;
	const char *file; /* interned: file_names[file_id] */
	uint16_t file_id;
	const char *text;
	size_t len;
	char *own; /* the file's buffer (malloc'd) while the loader owns it (load_file; NULL: the caller's text) */
	bool ascii;
	dr_load_limits lim;
	yaml_parser_t parser;
	size_t cur_line, cur_ls; /* line cursor (0-based line, byte offset of its start) */
	frame *frames;
	size_t nframes, capframes;
	dr_node **kids;
	size_t nkids, capkids;
	anchor *anchors;
	size_t nanchors, capanchors;
	htab atab, ktab;
	char *slab; /* string storage being filled (arena) */
	size_t slab_left;
	struct istr *strs; /* short scalars' texts, each once (heap; freed after the load) */
	size_t strs_cap, n_strs;
	dr_node *nodes; /* node storage being filled (arena) */
	size_t nodes_left;
	size_t total;
	dr_node *root;
	dr_node hole; /* stands for a bad alias; dropped from its collection */
	pos doc_start; /* where the first document starts */
	int ndocs;
	bool fatal;
} ld;

/* ---- small helpers ---------------------------------------------------- */

/*
 * A hash of n bytes, eight at a time (every scalar of a big runbook is
 * hashed once to be interned: a byte loop was a tenth of the loader's own time).
 */
static uint32_t hash_bytes(const char *s, size_t n)
{
	uint64_t h = 0x9E3779B97F4A7C15ull ^ n, w;
	for (; n >= 8; s += 8, n -= 8) {
		memcpy(&w, s, 8);
		h = (h ^ w) * 0xFF51AFD7ED558CCDull;
		h ^= h >> 32;
	}
	if (n) {
		w = 0;
		memcpy(&w, s, n);
		h = (h ^ w) * 0xFF51AFD7ED558CCDull;
	}
	h ^= h >> 29;
	h *= 0xC4CEB9FE1A85EC53ull;
	return (uint32_t)(h ^ (h >> 32));
}

static void *grow(void *p, size_t *cap, size_t need, size_t sz)
{
	if (need <= *cap)
		return p;
	size_t c = *cap ? *cap : 64;
	while (c < need)
		c *= 2;
	*cap = c;
	return xrealloc(p, c * sz);
}

/* Make t empty with room for n entries at most half full. */
static void htab_prepare(htab *t, size_t n)
{
	size_t want = 32;
	while (want < 2 * n)
		want *= 2;
	if (want > t->cap) {
		free(t->s);
		t->s = xcalloc(want, sizeof *t->s);
		t->cap = want;
	} else {
		memset(t->s, 0, want * sizeof *t->s);
	}
	t->mask = want - 1;
	t->n = 0;
}

static bool is_break(char c) { return c == '\n' || c == '\r'; }
static bool is_blank(char c) { return c == ' ' || c == '\t'; }

static dr_loc loc_of(const ld *l, pos p, int len)
{
	return (dr_loc){l->file, p.line, p.col, len < 1 ? 1 : len};
}

static dr_loc whole_file(const char *file)
{
	return (dr_loc){file, 0, 0, 1};
}

/* The position of byte offset off, counting lines from the start (error paths only). */
static pos offset_pos(const char *text, size_t len, size_t off)
{
	pos p = {off, 1, 1};
	size_t ls = 0;
	for (size_t i = 0; i < off && i < len; i++)
		if (text[i] == '\n') {
			p.line++;
			ls = i + 1;
		}
	p.col = (int)(off - ls) + 1;
	return p;
}

/* A short text kept once: its hash, length and copy in the arena. */
typedef struct istr {
	uint32_t h, len;
	const char *p; /* NULL: an empty slot */
} istr;

enum { INTERN_MAX = 32 }; /* keys: "id", "action", "needs", a VM's "primary_ip" */

static istr *intern_slot(const ld *l, const char *s, size_t n, uint32_t h)
{
	size_t mask = l->strs_cap - 1, i = h & mask;
	while (l->strs[i].p && !(l->strs[i].h == h && l->strs[i].len == n && memcmp(l->strs[i].p, s, n) == 0))
		i = (i + 1) & mask;
	return &l->strs[i];
}

static void intern_grow(ld *l)
{
	istr *old = l->strs;
	size_t cap = l->strs_cap;
	l->strs_cap = cap ? 2 * cap : 1024;
	l->strs = xcalloc(l->strs_cap, sizeof *l->strs);
	for (size_t i = 0; i < cap; i++)
		if (old[i].p)
			*intern_slot(l, old[i].p, old[i].len, old[i].h) = old[i];
	free(old);
}

static char *copy_short(ld *l, const char *s, size_t n);

/*
 * A map key's text, shared with every equal key: a big runbook repeats the
 * same few dozen keys on every step and VM (nothing writes into a scalar's
 * text). Values are not interned: most are distinct (names, addresses), and
 * a table of them all was 60% of validate's page faults on bench's 10,000
 * VMs (4 MB touched at random, twice per growth) to save about 1 MB of copies.
 */
static const char *intern_text(ld *l, const char *s, size_t n)
{
	if (2 * (l->n_strs + 1) > l->strs_cap)
		intern_grow(l);
	uint32_t h = hash_bytes(s, n);
	istr *e = intern_slot(l, s, n, h);
	if (!e->p) {
		*e = (istr){h, (uint32_t)n, copy_short(l, s, n)};
		l->n_strs++;
	}
	return e->p;
}

/*
 * A copy of a scalar's text in the arena (key: it is a map key). Short
 * strings are packed into 64 KiB chunks with no per-string rounding: on a
 * big runbook most scalars are a few bytes and the arena would round each to 16.
 */
static const char *copy_text(ld *l, const char *s, size_t n, bool key)
{
	enum { SHORT = 256 };
	if (n >= SHORT)
		return dr_arena_strndup(l->a, s, n);
	return key && n <= INTERN_MAX ? intern_text(l, s, n) : copy_short(l, s, n);
}

static char *copy_short(ld *l, const char *s, size_t n)
{
	enum { SLAB = 64 * 1024 };
	if (n + 1 > l->slab_left) {
		l->slab = dr_arena_alloc_uninit(l->a, SLAB);
		l->slab_left = SLAB;
	}
	char *p = l->slab;
	memcpy(p, s, n);
	p[n] = '\0';
	l->slab += n + 1;
	l->slab_left -= n + 1;
	return p;
}

/* ---- positions ------------------------------------------------------- */

static void seek_line(ld *l, size_t line)
{
	while (l->cur_line < line) {
		const char *nl = memchr(l->text + l->cur_ls, '\n', l->len - l->cur_ls);
		if (!nl)
			return;
		l->cur_ls = (size_t)(nl - l->text) + 1;
		l->cur_line++;
	}
	while (l->cur_line > line && l->cur_ls > 0) {
		size_t p = l->cur_ls - 1;
		while (p > 0 && l->text[p - 1] != '\n')
			p--;
		l->cur_ls = p;
		l->cur_line--;
	}
}

static size_t utf8_width(unsigned char c)
{
	return c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

/* A libyaml mark (0-based, in characters) as a byte position. */
static pos mark_pos(ld *l, yaml_mark_t m)
{
	if (l->ascii)
		return (pos){m.index, (int)m.line + 1, (int)m.column + 1};
	seek_line(l, m.line);
	size_t b = l->cur_ls;
	for (size_t k = 0; k < m.column && b < l->len && l->text[b] != '\n'; k++)
		b += utf8_width((unsigned char)l->text[b]);
	if (b > l->len)
		b = l->len;
	return (pos){b, (int)m.line + 1, (int)(b - l->cur_ls) + 1};
}

/* Advance p over one byte of the text, keeping line and column. */
static void step(const ld *l, pos *p)
{
	if (l->text[p->off] == '\n') {
		p->line++;
		p->col = 1;
	} else {
		p->col++;
	}
	p->off++;
}

/* Skip one anchor or tag token at p; a tag's place goes to *tag. */
static void skip_property(const ld *l, pos *p, pos *tag, int *tag_len)
{
	const char *t = l->text;
	pos s = *p;
	bool verbatim = t[p->off] == '!' && p->off + 1 < l->len && t[p->off + 1] == '<';
	while (p->off < l->len && !is_blank(t[p->off]) && !is_break(t[p->off])) {
		char c = t[p->off];
		if (verbatim && c == '>') {
			step(l, p);
			break;
		}
		if (!verbatim && p->off > s.off && strchr(",[]{}", c))
			break;
		step(l, p);
	}
	if (t[s.off] == '!') {
		*tag = s;
		*tag_len = (int)(p->off - s.off);
	}
}

/*
 * Where a node's content starts: skip its anchor and tag, the blanks,
 * comments and line breaks after them. The tag's place goes to *tag.
 */
static pos skip_properties(const ld *l, pos p, pos *tag, int *tag_len)
{
	const char *t = l->text;
	while (p.off < l->len) {
		char c = t[p.off];
		if (c == '&' || c == '!')
			skip_property(l, &p, tag, tag_len);
		else if (is_blank(c) || is_break(c))
			step(l, &p);
		else if (c == '#')
			while (p.off < l->len && t[p.off] != '\n')
				step(l, &p);
		else
			break;
	}
	return p;
}

/* ---- diagnostics helpers --------------------------------------------- */

static void fatal(ld *l, dr_code code, pos at, int len, const char *msg, const char *hint)
{
	dr_diag *g = dr_diag_error(l->d, code, loc_of(l, at, len), "%s", msg);
	if (hint)
		dr_diag_set_hint(g, "%s", hint);
	l->fatal = true;
}

/* True when the byte at is a tab in its line's indentation (nothing but blanks before it). */
static bool tab_in_indent(const ld *l, pos at)
{
	if (at.off >= l->len || l->text[at.off] != '\t')
		return false;
	for (size_t i = at.off; i > 0 && l->text[i - 1] != '\n'; i--)
		if (!is_blank(l->text[i - 1]))
			return false;
	return true;
}

/* True when nothing but blanks and line breaks follows at: libyaml's problem is the end of the file. */
static bool at_end_of_text(const ld *l, pos at)
{
	for (size_t i = at.off; i < l->len; i++)
		if (!is_blank(l->text[i]) && !is_break(l->text[i]))
			return false;
	return true;
}

/* The mistakes people make, from libyaml's problem and the source at it; NULL when none fits. */
static const char *yaml_hint(const ld *l, pos at, const char *problem, bool at_end)
{
	if (tab_in_indent(l, at))
		return "YAML indents with spaces, never tabs: replace the tab at the start of this line with spaces";
	if (strstr(problem, "unknown escape character"))
		return "in double quotes a backslash starts an escape (\\n, \\t, ...): write a regular expression in "
		       "single quotes ('^db-\\d+$'), or double the backslash";
	if (at_end && strstr(problem, "quoted scalar"))
		return "add the closing quote";
	if (at_end && strstr(problem, "flow mapping"))
		return "add the closing '}'";
	if (at_end && strstr(problem, "flow sequence"))
		return "add the closing ']'";
	return NULL;
}

/* libyaml's context without its verb: "while scanning a quoted scalar" -> "a quoted scalar". */
static const char *context_noun(const char *context)
{
	const char *sp = strncmp(context, "while ", 6) == 0 ? strchr(context + 6, ' ') : NULL;
	return sp ? sp + 1 : context;
}

/* libyaml's own error as DR101, at its problem position (at the opening, for one never closed), with a hint. */
static void report_yaml_error(ld *l)
{
	yaml_parser_t *p = &l->parser;
	const char *problem = p->problem ? p->problem : "malformed YAML";
	dr_diag *g;
	if (p->error == YAML_MEMORY_ERROR)
		problem = "libyaml ran out of memory";
	pos at = p->error == YAML_READER_ERROR ? offset_pos(l->text, l->len, p->problem_offset) : mark_pos(l, p->problem_mark);
	bool at_end = p->context && p->error != YAML_READER_ERROR && at_end_of_text(l, at) &&
		      (strstr(p->context, "flow") || strstr(p->context, "quoted scalar")); /* what a bracket or quote closes */
	if (p->error == YAML_READER_ERROR && p->problem_value >= 0) {
		g = dr_diag_error(l->d, DR101, loc_of(l, at, 1), "%s (U+%04X)", problem, (unsigned)p->problem_value);
	} else if (at_end) { /* "found unexpected end of stream": where the unclosed thing opens */
		pos ctx = mark_pos(l, p->context_mark);
		problem = context_noun(p->context);
		g = dr_diag_error(l->d, DR101, loc_of(l, ctx, 1), "%s opens here and is never closed: the file ends first",
				  problem);
	} else if (p->context) {
		pos ctx = mark_pos(l, p->context_mark);
		g = dr_diag_error(l->d, DR101, loc_of(l, at, 1), "%s (%s at line %d, column %d)", problem, p->context,
				  ctx.line, ctx.col);
	} else {
		g = dr_diag_error(l->d, DR101, loc_of(l, at, 1), "%s", problem);
	}
	const char *hint = yaml_hint(l, at, at_end ? problem : p->problem ? p->problem : "", at_end);
	if (hint) {
		dr_diag_set_hint(g, "%s", hint);
	} else if (p->context && strstr(p->context, "flow") && strstr(problem, "did not find expected ','")) {
		pos ctx = mark_pos(l, p->context_mark);
		const char *noun = context_noun(p->context);
		dr_diag_set_hint(g, "close the %s that opens at line %d, column %d, or separate its items with commas",
				 strncmp(noun, "a ", 2) == 0 ? noun + 2 : noun, ctx.line, ctx.col);
	}
	l->fatal = true;
}

/* Count add more nodes toward the expanded size; false (DR103) past the limit. */
static bool count_nodes(ld *l, size_t add, pos at, int len, bool alias)
{
	l->total = add > SIZE_MAX - l->total ? SIZE_MAX : l->total + add;
	if (l->total <= l->lim.max_expanded_nodes)
		return true;
	dr_diag *g = dr_diag_error(l->d, DR103, loc_of(l, at, len),
				   alias ? "this alias expands the document past %zu nodes"
					 : "the document has more than %zu nodes",
				   l->lim.max_expanded_nodes);
	dr_diag_set_hint(g, "%s", alias ? "every alias counts as a full copy of its anchored node; the limit "
					  "guards against 'billion laughs' files"
					: "split the runbook; the limit guards against runaway inputs");
	l->fatal = true;
	return false;
}

/* ---- tags -------------------------------------------------------------- */

#define CORE_PREFIX "tag:yaml.org,2002:"

typedef enum tag_kind { TAG_NONE, TAG_ANY, TAG_STR, TAG_INT, TAG_BOOL, TAG_FLOAT, TAG_NULL, TAG_MAP, TAG_SEQ } tag_kind;

static const struct {
	const char *name;
	tag_kind kind;
} core_tags[] = {
	{"str", TAG_STR},     {"int", TAG_INT}, {"bool", TAG_BOOL}, {"float", TAG_FLOAT},
	{"null", TAG_NULL},   {"map", TAG_MAP}, {"seq", TAG_SEQ},
};

/* The kind of a resolved tag; TAG_ANY for "!", TAG_NONE for unsupported ones. */
static tag_kind classify_tag(const char *tag)
{
	if (strcmp(tag, "!") == 0)
		return TAG_ANY;
	if (strncmp(tag, CORE_PREFIX, sizeof CORE_PREFIX - 1) != 0)
		return TAG_NONE;
	for (size_t i = 0; i < sizeof core_tags / sizeof *core_tags; i++)
		if (strcmp(tag + sizeof CORE_PREFIX - 1, core_tags[i].name) == 0)
			return core_tags[i].kind;
	return TAG_NONE;
}

/* A tag as people write it: "!!int" for the core ones. */
static void short_tag(const char *tag, char *out, size_t outsz)
{
	if (strncmp(tag, CORE_PREFIX, sizeof CORE_PREFIX - 1) == 0)
		snprintf(out, outsz, "!!%s", tag + sizeof CORE_PREFIX - 1);
	else
		snprintf(out, outsz, "%s", tag);
}

static bool tag_fits(tag_kind k, dr_node_kind nk)
{
	if (k == TAG_ANY)
		return true;
	if (k == TAG_MAP || k == TAG_SEQ)
		return nk == (k == TAG_MAP ? DR_NODE_MAP : DR_NODE_SEQ);
	return nk == DR_NODE_SCALAR;
}

/* Does the scalar's text, read as plain, have the tag's type? */
static bool scalar_fits(tag_kind k, dr_node *n)
{
	dr_node tmp = *n;
	tmp.style = DR_STYLE_PLAIN;
	bool b;
	int64_t i;
	double x;
	switch (k) {
	case TAG_INT: return dr_node_as_int(&tmp, &i);
	case TAG_BOOL: return dr_node_as_bool(&tmp, &b);
	case TAG_FLOAT: return dr_node_as_number(&tmp, &x);
	case TAG_NULL: return dr_node_is_null(&tmp);
	default: return true;
	}
}

/* Check a node's tag (DR106) and apply it to a scalar's style. */
static void apply_tag(ld *l, dr_node *n, const char *tag, pos tag_at, int tag_len)
{
	tag_kind k = classify_tag(tag);
	char shown[128];
	short_tag(tag, shown, sizeof shown);
	if (k == TAG_NONE || !tag_fits(k, n->kind)) {
		dr_diag *g = dr_diag_error(l->d, DR106, loc_of(l, tag_at, tag_len),
					   k == TAG_NONE ? "unsupported YAML tag '%s'" : "the tag '%s' does not fit a %s",
					   shown, dr_node_type_name(n));
		dr_diag_set_hint(g, "drover accepts only the YAML core tags !!str, !!int, !!float, !!bool, !!null, "
				    "!!map and !!seq; remove the tag");
		return;
	}
	if (n->kind != DR_NODE_SCALAR)
		return;
	if ((k == TAG_STR || k == TAG_ANY) && n->style == DR_STYLE_PLAIN) {
		n->style = DR_STYLE_DOUBLE;
	} else if (k != TAG_STR && k != TAG_ANY) {
		if (!scalar_fits(k, n))
			dr_diag_error(l->d, DR106, loc_of(l, tag_at, tag_len), "'%s' is not a valid %s value",
				      n->u.scalar.str, shown);
		else
			n->style = DR_STYLE_PLAIN;
	}
}

/* ---- anchors ----------------------------------------------------------- */

/* The slot for name: the one holding its latest anchor, or the empty one where it goes. */
static hslot *anchor_slot(ld *l, const char *name, size_t len, uint32_t h)
{
	for (size_t i = h & l->atab.mask;; i = (i + 1) & l->atab.mask) {
		hslot *s = &l->atab.s[i];
		if (!s->idx1)
			return s;
		const anchor *an = &l->anchors[s->idx1 - 1];
		if (s->h == h && an->len == len && memcmp(an->name, name, len) == 0)
			return s;
	}
}

static void anchor_index(ld *l, size_t idx)
{
	const anchor *an = &l->anchors[idx];
	uint32_t h = hash_bytes(an->name, an->len);
	hslot *s = anchor_slot(l, an->name, an->len, h);
	if (!s->idx1)
		l->atab.n++;
	s->idx1 = (uint32_t)idx + 1;
	s->h = h;
}

/* Define an anchor (a later one with the same name wins); returns its index. */
static size_t anchor_define(ld *l, const char *name, dr_node *n, size_t expanded)
{
	l->anchors = grow(l->anchors, &l->capanchors, l->nanchors + 1, sizeof *l->anchors);
	size_t idx = l->nanchors++;
	size_t len = strlen(name);
	l->anchors[idx] = (anchor){dr_arena_strndup(l->a, name, len), len, n, expanded};
	if (2 * (l->atab.n + 1) > l->atab.mask + 1) {
		htab_prepare(&l->atab, 2 * l->nanchors);
		for (size_t i = 0; i < l->nanchors; i++)
			anchor_index(l, i);
	} else {
		anchor_index(l, idx);
	}
	return idx;
}

static anchor *anchor_find(ld *l, const char *name)
{
	if (!l->nanchors)
		return NULL;
	size_t len = strlen(name);
	hslot *s = anchor_slot(l, name, len, hash_bytes(name, len));
	return s->idx1 ? &l->anchors[s->idx1 - 1] : NULL;
}

/* DR109 with a "did you mean" over the anchors defined so far. */
static void report_undefined_alias(ld *l, const char *name, pos at, int len)
{
	dr_diag *g = dr_diag_error(l->d, DR109, loc_of(l, at, len), "the alias '*%s' refers to no anchor", name);
	const char **cands = xcalloc(l->nanchors + 1, sizeof *cands);
	for (size_t i = 0; i < l->nanchors; i++)
		cands[i] = l->anchors[i].name;
	const char *best = dr_text_suggest(name, cands);
	if (best)
		dr_diag_set_hint(g, "did you mean '*%s'?", best);
	else
		dr_diag_set_hint(g, "define '&%s' on a node before this alias", name);
	free(cands);
}

/* ---- building the tree -------------------------------------------------- */

/* A zeroed node from the arena, taken from chunks of 512 (one arena call per chunk). */
static dr_node *new_node(ld *l, dr_node_kind kind, pos s, pos e)
{
	enum { CHUNK = 512 };
	if (!l->nodes_left) {
		l->nodes = dr_arena_calloc(l->a, CHUNK, sizeof *l->nodes);
		l->nodes_left = CHUNK;
	}
	dr_node *n = l->nodes++;
	l->nodes_left--;
	n->kind = kind;
	n->file_id = l->file_id;
	n->line = s.line;
	n->col = s.col;
	n->span = e.line == s.line ? e.col - s.col : -1;
	return n;
}

static void add_child(ld *l, dr_node *n)
{
	if (!l->nframes) {
		l->root = n;
		return;
	}
	l->kids = grow(l->kids, &l->capkids, l->nkids + 1, sizeof *l->kids);
	l->kids[l->nkids++] = n;
}

/* The short escapes dr_node_loc_at assumes: value byte and the letter after '\'. */
static const char short_escapes[][2] = {
	{'\0', '0'}, {'\a', 'a'}, {'\b', 'b'}, {'\t', 't'},  {'\n', 'n'},  {'\v', 'v'},
	{'\f', 'f'}, {'\r', 'r'}, {'\x1b', 'e'}, {'"', '"'}, {'\\', '\\'},
};

/* The letter of c's short escape, or 0 when c is written as itself. */
static char escape_letter(char c)
{
	for (size_t i = 0; i < sizeof short_escapes / sizeof *short_escapes; i++)
		if (short_escapes[i][0] == c)
			return short_escapes[i][1];
	return 0;
}

/*
 * How many leading bytes of a flow scalar's value sit on its first source
 * line as dr_node_loc_at models them: plain bytes as themselves, a single
 * quote as '', the short_escapes as backslash pairs. Stops at the first
 * byte the model does not fit (a line fold, \x.., \u...).
 */
static int flow_src_map(const ld *l, const dr_node *n, yaml_scalar_style_t style, size_t off)
{
	const char *v = n->u.scalar.str, *t = l->text;
	size_t o = off + (style != YAML_PLAIN_SCALAR_STYLE), i = 0;
	for (; i < n->u.scalar.len && o < l->len && i < INT32_MAX; i++) {
		char c = v[i], esc = style == YAML_DOUBLE_QUOTED_SCALAR_STYLE ? escape_letter(c) : 0;
		if (t[o] == '\n')
			break;
		if (style == YAML_SINGLE_QUOTED_SCALAR_STYLE && c == '\'') {
			if (o + 1 >= l->len || t[o] != '\'' || t[o + 1] != '\'')
				break;
			o += 2;
		} else if (esc) {
			if (o + 1 >= l->len || t[o] != '\\' || t[o + 1] != esc)
				break;
			o += 2;
		} else if (t[o] == c && !(style == YAML_DOUBLE_QUOTED_SCALAR_STYLE && c == '\\')) {
			o++;
		} else {
			break;
		}
	}
	return (int)i;
}

/* A block scalar's content column: the indentation of its first non-blank line, + 1. */
static int block_src_map(const ld *l, size_t off, size_t end)
{
	const char *t = l->text;
	const char *nl = memchr(t + off, '\n', l->len - off);
	for (size_t p = nl ? (size_t)(nl - t) + 1 : l->len; p < l->len && p < end;) {
		size_t q = p;
		while (q < l->len && t[q] == ' ')
			q++;
		if (q < l->len && !is_break(t[q]))
			return (int)(q - p) + 1;
		const char *next = memchr(t + q, '\n', l->len - q);
		p = next ? (size_t)(next - t) + 1 : l->len;
	}
	return 0;
}

static int scalar_src_map(const ld *l, const dr_node *n, yaml_scalar_style_t style, pos s, pos e)
{
	if (style == YAML_LITERAL_SCALAR_STYLE || style == YAML_FOLDED_SCALAR_STYLE)
		return block_src_map(l, s.off, e.off);
	if (style == YAML_PLAIN_SCALAR_STYLE && s.line == e.line)
		return n->u.scalar.len > INT32_MAX ? INT32_MAX : (int)n->u.scalar.len;
	return flow_src_map(l, n, style, s.off);
}

static dr_scalar_style map_style(yaml_scalar_style_t s)
{
	static const dr_scalar_style table[] = {
		[YAML_ANY_SCALAR_STYLE] = DR_STYLE_PLAIN,	   [YAML_PLAIN_SCALAR_STYLE] = DR_STYLE_PLAIN,
		[YAML_SINGLE_QUOTED_SCALAR_STYLE] = DR_STYLE_SINGLE, [YAML_DOUBLE_QUOTED_SCALAR_STYLE] = DR_STYLE_DOUBLE,
		[YAML_LITERAL_SCALAR_STYLE] = DR_STYLE_LITERAL,	   [YAML_FOLDED_SCALAR_STYLE] = DR_STYLE_FOLDED,
	};
	return (size_t)s < sizeof table / sizeof *table ? table[s] : DR_STYLE_PLAIN;
}

/* Start of a node's content (after its properties) and where its tag is. */
static pos node_start(ld *l, yaml_mark_t m, bool props, pos *tag_at, int *tag_len)
{
	pos s = mark_pos(l, m);
	*tag_at = s;
	*tag_len = 1;
	return props ? skip_properties(l, s, tag_at, tag_len) : s;
}

/* Whether the next child of the open collection is a map key. */
static bool next_is_key(const ld *l)
{
	const frame *f = l->nframes ? &l->frames[l->nframes - 1] : NULL;
	return f && f->node->kind == DR_NODE_MAP && (l->nkids - f->base) % 2 == 0;
}

static bool on_scalar(ld *l, const yaml_event_t *e)
{
	const char *anch = (const char *)e->data.scalar.anchor, *tag = (const char *)e->data.scalar.tag;
	pos tag_at, end = mark_pos(l, e->end_mark);
	int tag_len;
	pos s = node_start(l, e->start_mark, anch || tag, &tag_at, &tag_len);
	if (s.off > end.off)
		s = mark_pos(l, e->start_mark); /* empty value after properties */
	dr_node *n = new_node(l, DR_NODE_SCALAR, s, end);
	n->u.scalar.str = copy_text(l, (const char *)e->data.scalar.value, e->data.scalar.length, next_is_key(l));
	n->u.scalar.len = e->data.scalar.length;
	n->style = map_style(e->data.scalar.style);
	n->u.scalar.src_map = scalar_src_map(l, n, e->data.scalar.style, s, end);
	if (tag)
		apply_tag(l, n, tag, tag_at, tag_len);
	if (!count_nodes(l, 1, s, 1, false))
		return false;
	if (anch)
		anchor_define(l, anch, n, 1);
	add_child(l, n);
	return true;
}

static bool on_alias(ld *l, const yaml_event_t *e)
{
	const char *name = (const char *)e->data.alias.anchor;
	pos s = mark_pos(l, e->start_mark), end = mark_pos(l, e->end_mark);
	int len = (int)(end.off - s.off);
	anchor *an = anchor_find(l, name);
	if (an && an->expanded) {
		if (!count_nodes(l, an->expanded, s, len, true))
			return false;
		add_child(l, an->node);
		return true;
	}
	if (an) {
		dr_diag *g = dr_diag_error(l->d, DR103, loc_of(l, s, len),
					   "the alias '*%s' is inside the node it refers to (infinite expansion)", name);
		dr_diag_set_hint(g, "a node cannot contain an alias to itself");
	} else {
		report_undefined_alias(l, name, s, len);
	}
	add_child(l, &l->hole); /* its pair or item is dropped: one diagnostic, no cascade */
	return true;
}

static bool on_open(ld *l, const yaml_event_t *e, dr_node_kind kind)
{
	bool map = kind == DR_NODE_MAP;
	const char *anch = (const char *)(map ? e->data.mapping_start.anchor : e->data.sequence_start.anchor);
	const char *tag = (const char *)(map ? e->data.mapping_start.tag : e->data.sequence_start.tag);
	pos tag_at;
	int tag_len;
	pos s = node_start(l, e->start_mark, anch || tag, &tag_at, &tag_len);
	dr_node *n = new_node(l, kind, s, s);
	if (tag)
		apply_tag(l, n, tag, tag_at, tag_len);
	if (l->nframes >= l->lim.max_depth) {
		char msg[96];
		snprintf(msg, sizeof msg, "nesting is deeper than %zu levels", l->lim.max_depth);
		fatal(l, DR110, s, 1, msg, NULL);
		return false;
	}
	size_t total0 = l->total;
	if (!count_nodes(l, 1, s, 1, false))
		return false;
	l->frames = grow(l->frames, &l->capframes, l->nframes + 1, sizeof *l->frames);
	l->frames[l->nframes++] = (frame){n, l->nkids, total0, anch ? anchor_define(l, anch, n, 0) + 1 : 0};
	return true;
}

/* ---- closing a map: keys, duplicates, merges --------------------------- */

typedef struct mapbuild {
	ld *l;
	dr_pair *out;
	size_t n;
	bool hashed;
	uint32_t h; /* hash of the key last looked up */
} mapbuild;

static bool same_text(const dr_node *a, const dr_node *b)
{
	return a->u.scalar.len == b->u.scalar.len && memcmp(a->u.scalar.str, b->u.scalar.str, a->u.scalar.len) == 0;
}

/* The pair holding key, or NULL; *slot gets the hash slot for an insert. */
static dr_pair *mb_find(mapbuild *mb, const dr_node *key, hslot **slot)
{
	if (!mb->hashed) {
		for (size_t i = 0; i < mb->n; i++)
			if (same_text(mb->out[i].key, key))
				return &mb->out[i];
		return NULL;
	}
	htab *t = &mb->l->ktab;
	mb->h = hash_bytes(key->u.scalar.str, key->u.scalar.len);
	for (size_t i = mb->h & t->mask;; i = (i + 1) & t->mask) {
		hslot *s = &t->s[i];
		if (!s->idx1) {
			*slot = s;
			return NULL;
		}
		if (s->h == mb->h && same_text(mb->out[s->idx1 - 1].key, key))
			return &mb->out[s->idx1 - 1];
	}
}

static void mb_add(mapbuild *mb, dr_node *k, dr_node *v, hslot *slot)
{
	if (mb->hashed) {
		slot->idx1 = (uint32_t)mb->n + 1;
		slot->h = mb->h;
	}
	mb->out[mb->n++] = (dr_pair){k, v};
}

static bool is_merge_key(const dr_node *k)
{
	return k->kind == DR_NODE_SCALAR && k->style == DR_STYLE_PLAIN && k->u.scalar.len == 2 &&
	       memcmp(k->u.scalar.str, "<<", 2) == 0;
}

/* Pairs a merge value may contribute (for sizing the result). */
static size_t merge_size(const dr_node *v)
{
	if (v->kind == DR_NODE_MAP)
		return v->u.map.n;
	size_t n = 0;
	if (v->kind == DR_NODE_SEQ)
		for (size_t i = 0; i < v->u.seq.n; i++)
			if (v->u.seq.items[i]->kind == DR_NODE_MAP)
				n += v->u.seq.items[i]->u.map.n;
	return n;
}

static void merge_map(mapbuild *mb, const dr_node *src)
{
	for (size_t i = 0; i < src->u.map.n; i++) {
		hslot *slot = NULL;
		if (!mb_find(mb, src->u.map.items[i].key, &slot))
			mb_add(mb, src->u.map.items[i].key, src->u.map.items[i].value, slot);
	}
}

/* DR111 at the "<<" key: the value may be an alias, whose node sits elsewhere. */
static void bad_merge(ld *l, const dr_node *key, const dr_node *v)
{
	dr_diag *g = dr_diag_error(l->d, DR111, dr_node_loc(key), "a merge key (<<) takes a mapping or a list of "
								   "mappings, not a %s", dr_node_type_name(v));
	dr_diag_set_hint(g, "write '<<: *anchor' or '<<: [*a, *b]' where the anchors name mappings");
}

static void merge_value(mapbuild *mb, const dr_node *key, const dr_node *v)
{
	if (v->kind == DR_NODE_MAP) {
		merge_map(mb, v);
		return;
	}
	if (v->kind != DR_NODE_SEQ) {
		bad_merge(mb->l, key, v);
		return;
	}
	for (size_t i = 0; i < v->u.seq.n; i++) {
		if (v->u.seq.items[i]->kind == DR_NODE_MAP)
			merge_map(mb, v->u.seq.items[i]);
		else
			bad_merge(mb->l, key, v->u.seq.items[i]);
	}
}

static void report_duplicate(ld *l, const dr_node *second, const dr_node *first)
{
	dr_diag *g = dr_diag_error(l->d, DR102, dr_node_loc(second), "duplicate key '%s'", second->u.scalar.str);
	dr_diag_set_hint(g, "the first '%s' is on line %d; a key may appear only once in a mapping",
			 first->u.scalar.str, first->line);
}

/* One explicit pair: DR112 for a collection key, DR102 for a repeated one, else kept. */
static void add_explicit(mapbuild *mb, dr_node *k, dr_node *v)
{
	hslot *slot = NULL;
	const dr_pair *first;
	if (k->kind != DR_NODE_SCALAR) {
		dr_diag *g = dr_diag_error(mb->l->d, DR112, dr_node_loc(k), "a mapping key must be a scalar, not a %s",
					   dr_node_type_name(k));
		dr_diag_set_hint(g, "drover's keys are names; write the key as plain text");
	} else if ((first = mb_find(mb, k, &slot))) {
		report_duplicate(mb->l, k, first->key);
	} else {
		mb_add(mb, k, v, slot);
	}
}

/*
 * Room the map needs: its pairs plus what its merge keys may bring. Pairs
 * holding a bad alias are dropped here (their key set to NULL).
 */
static size_t map_capacity(ld *l, dr_node **kv, size_t nkv, size_t *nmerge)
{
	size_t cap = nkv / 2;
	for (size_t i = 0; i + 1 < nkv; i += 2) {
		if (kv[i] == &l->hole || kv[i + 1] == &l->hole) {
			kv[i] = NULL;
		} else if (is_merge_key(kv[i])) {
			(*nmerge)++;
			cap += merge_size(kv[i + 1]);
		}
	}
	return cap;
}

/* Explicit pairs first, in order, then what the merge keys bring. */
static void build_map(ld *l, dr_node *n, dr_node **kv, size_t nkv)
{
	size_t nmerge = 0, cap = map_capacity(l, kv, nkv, &nmerge);
	mapbuild mb = {l, dr_arena_calloc(l->a, cap ? cap : 1, sizeof(dr_pair)), 0, cap > 16, 0};
	if (mb.hashed)
		htab_prepare(&l->ktab, cap);
	for (size_t i = 0; i + 1 < nkv; i += 2)
		if (kv[i] && !is_merge_key(kv[i]))
			add_explicit(&mb, kv[i], kv[i + 1]);
	for (size_t i = 0; nmerge && i + 1 < nkv; i += 2)
		if (kv[i] && is_merge_key(kv[i]))
			merge_value(&mb, kv[i], kv[i + 1]);
	n->u.map.items = mb.out;
	n->u.map.n = mb.n;
}

static void build_seq(ld *l, dr_node *n, dr_node **items, size_t count)
{
	n->u.seq.items = dr_arena_calloc(l->a, count ? count : 1, sizeof *items);
	for (size_t i = 0; i < count; i++)
		if (items[i] != &l->hole)
			n->u.seq.items[n->u.seq.n++] = items[i];
}

static bool on_close(ld *l)
{
	frame f = l->frames[--l->nframes];
	dr_node *n = f.node;
	/* no kids yet at all ("{ }" first): NULL + 0 is undefined */
	dr_node **kids = l->kids ? l->kids + f.base : NULL;
	if (n->kind == DR_NODE_MAP)
		build_map(l, n, kids, l->nkids - f.base);
	else
		build_seq(l, n, kids, l->nkids - f.base);
	l->nkids = f.base;
	if (f.anchor1)
		l->anchors[f.anchor1 - 1].expanded = l->total - f.total0;
	add_child(l, n);
	return true;
}

static bool on_document(ld *l, const yaml_event_t *e)
{
	pos s = mark_pos(l, e->start_mark), end = mark_pos(l, e->end_mark);
	if (l->ndocs++ == 0) {
		l->doc_start = s;
		return true;
	}
	dr_diag *g = dr_diag_error(l->d, DR104, loc_of(l, s, (int)(end.off - s.off)),
				   "a second YAML document starts here; a runbook file holds exactly one");
	dr_diag_set_hint(g, "remove this '---' and what follows it, or move it into a file of its own");
	return false;
}

/* One event; false stops the load (l->fatal tells whether the tree is usable). */
static bool on_event(ld *l, const yaml_event_t *e)
{
	switch (e->type) {
	case YAML_DOCUMENT_START_EVENT: return on_document(l, e);
	case YAML_SCALAR_EVENT: return on_scalar(l, e);
	case YAML_ALIAS_EVENT: return on_alias(l, e);
	case YAML_MAPPING_START_EVENT: return on_open(l, e, DR_NODE_MAP);
	case YAML_SEQUENCE_START_EVENT: return on_open(l, e, DR_NODE_SEQ);
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT: return on_close(l);
	default: return true;
	}
}

static void parse_events(ld *l)
{
	yaml_event_t e;
	for (;;) {
		if (!yaml_parser_parse(&l->parser, &e)) {
			report_yaml_error(l);
			return;
		}
		bool go = on_event(l, &e), end = e.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&e);
		if (!go || end)
			return;
	}
}

/* ---- entry points ------------------------------------------------------ */

static bool all_ascii(const char *s, size_t n)
{
	size_t i = 0;
	for (; i + 8 <= n; i += 8) {
		uint64_t w;
		memcpy(&w, s + i, 8);
		if (w & 0x8080808080808080ull)
			return false;
	}
	for (; i < n; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/* DR105 at the first byte that is not UTF-8; false when there is one. */
static bool check_utf8(ld *l)
{
	size_t bad;
	if (l->ascii || dr_text_valid_utf8(l->text, l->len, &bad))
		return true;
	pos at = offset_pos(l->text, l->len, bad);
	dr_diag *g = dr_diag_error(l->d, DR105, loc_of(l, at, 1), "the file is not valid UTF-8 (byte 0x%02x)",
				   (unsigned char)l->text[bad]);
	dr_diag_set_hint(g, "save the runbook as UTF-8 (for example: iconv -f latin1 -t utf-8)");
	return false;
}

static void dispose(ld *l)
{
	yaml_parser_delete(&l->parser);
	free(l->frames);
	free(l->kids);
	free(l->anchors);
	free(l->atab.s);
	free(l->ktab.s);
	free(l->strs);
}

/* The root, or NULL with DR108 when the document is missing or empty. */
static dr_node *finish(ld *l)
{
	if (l->fatal)
		return NULL;
	dr_node *r = l->root;
	if (r == &l->hole)
		return NULL;
	if (!r) {
		dr_diag_error(l->d, DR108, whole_file(l->file), "the file holds no YAML document");
		return NULL;
	}
	if (r->kind == DR_NODE_SCALAR && r->style == DR_STYLE_PLAIN && r->u.scalar.len == 0) {
		dr_diag_error(l->d, DR108, loc_of(l, l->doc_start, 1), "the YAML document is empty");
		return NULL;
	}
	return r;
}

static dr_node *load_text(ld *l)
{
	static const char bom[] = "\xEF\xBB\xBF";
	if (l->len >= 3 && memcmp(l->text, bom, 3) == 0) {
		l->text += 3;
		l->len -= 3;
	}
	if (!l->own)
		dr_diags_add_source(l->d, l->file, l->text, l->len);
	else if (dr_diags_adopt_source(l->d, l->file, l->text, l->len, l->own))
		l->own = NULL; /* the diagnostics keep the file's bytes: no copy */
	l->ascii = all_ascii(l->text, l->len);
	if (!check_utf8(l))
		return NULL;
	if (!yaml_parser_initialize(&l->parser)) {
		fprintf(stderr, "drover: out of memory\n");
		abort();
	}
	yaml_parser_set_input_string(&l->parser, (const unsigned char *)l->text, l->len);
	dr_arena_expect(l->a, 4 * l->len); /* the tree takes about four times the text */
	htab_prepare(&l->atab, 8);
	parse_events(l);
	dr_node *root = finish(l);
	dispose(l);
	return root;
}

static bool too_large(dr_diags *d, const char *file, size_t size, size_t max)
{
	if (max > UINT32_MAX)
		max = UINT32_MAX; /* a scalar's length is 32 bits (dr_node) */
	if (size <= max)
		return false;
	dr_diag *g = dr_diag_error(d, DR107, whole_file(file), "the file is %zu bytes; the limit is %zu bytes", size,
				   max);
	dr_diag_set_hint(g, "split the runbook into smaller files");
	return true;
}

/* Load l->text (set by the caller); the rest of l is set up here. */
static dr_node *load(ld *l, dr_arena *a, dr_diags *diags, const char *name, const dr_load_limits *limits)
{
	l->a = a;
	l->d = diags;
	l->file_id = intern_file(name);
	l->file = file_names[l->file_id];
	l->lim = limits ? *limits : dr_load_default_limits;
	if (too_large(diags, l->file, l->len, l->lim.max_file_bytes))
		return NULL;
	return load_text(l);
}

dr_node *dr_load_string(dr_arena *a, dr_diags *diags, const char *name, const char *text, size_t len,
			const dr_load_limits *limits)
{
	ld l = {0};
	l.text = text;
	l.len = len;
	return load(&l, a, diags, name, limits);
}

/* The limits for dr_load_file(limits == NULL): defaults, DROVER_LOAD_MAX_BYTES. */
static dr_load_limits env_limits(void)
{
	dr_load_limits lim = dr_load_default_limits;
	const char *s = getenv("DROVER_LOAD_MAX_BYTES");
	char *end;
	if (s && *s >= '0' && *s <= '9') {
		errno = 0;
		unsigned long long v = strtoull(s, &end, 10);
		if (!*end && !errno)
			lim.max_file_bytes = (size_t)v;
	}
	return lim;
}

/* DR901 at *at (the node that names path), else at the file itself. */
static void io_error(dr_diags *d, const char *path, int err, const dr_loc *at)
{
	dr_diag_error(d, DR901, at ? *at : whole_file(path), "cannot read '%s': %s", path, strerror(err));
}

/*
 * Read all of fd (at most max + 1 bytes) into memory of drover's own (huge
 * pages for a big file: few page faults); NULL with DR107 or DR901. Never a
 * mapping of the file: a file truncated while mapped (an editor saving in
 * place, a checkout) would kill drover with SIGBUS wherever the parse or a
 * caret read a page past its new end, and an edit would change the text under
 * the parse. Read, the parse and every caret see the same bytes.
 */
static char *read_all(int fd, const struct stat *st, dr_diags *d, const char *path, size_t max, size_t *len,
		      const dr_loc *at)
{
	size_t cap = S_ISREG(st->st_mode) ? (size_t)st->st_size + 1 : 65536, n = 0;
	char *buf = xmalloc_huge(cap);
	for (;;) {
		if (n == cap)
			buf = xrealloc(buf, cap *= 2);
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			io_error(d, path, errno, at);
			free(buf);
			return NULL;
		}
		if (r == 0)
			break;
		n += (size_t)r;
		if (n > max) {
			too_large(d, path, n, max);
			free(buf);
			return NULL;
		}
	}
	*len = n;
	return buf;
}

/* The bytes of path (malloc'd), read whole. NULL after DR107 or DR901. */
static char *read_file(dr_diags *d, const char *path, size_t max, size_t *len, const dr_loc *at)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) != 0) {
		io_error(d, path, errno, at);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	char *buf = NULL;
	if (S_ISDIR(st.st_mode)) {
		io_error(d, path, EISDIR, at);
	} else if (S_ISREG(st.st_mode) && too_large(d, path, (size_t)st.st_size, max)) {
		/* reported */
	} else {
		buf = read_all(fd, &st, d, path, max, len, at);
	}
	close(fd);
	return buf;
}

static dr_node *load_file(dr_arena *a, dr_diags *diags, const char *path, const dr_load_limits *limits,
			  const dr_loc *at)
{
	dr_load_limits lim = limits ? *limits : env_limits();
	ld l = {0};
	l.own = read_file(diags, path, lim.max_file_bytes, &l.len, at);
	if (!l.own)
		return NULL;
	l.text = l.own;
	dr_node *root = load(&l, a, diags, path, &lim);
	free(l.own); /* NULL when the diagnostics took it; else too large, or the file twice */
	return root;
}

dr_node *dr_load_file(dr_arena *a, dr_diags *diags, const char *path, const dr_load_limits *limits)
{
	return load_file(a, diags, path, limits, NULL);
}

dr_node *dr_load_file_named(dr_arena *a, dr_diags *diags, const char *path, const dr_node *named_by)
{
	dr_loc at = dr_node_loc(named_by);
	return load_file(a, diags, path, NULL, &at);
}

/* ---- node helpers -------------------------------------------------------- */

dr_loc dr_node_loc(const dr_node *n)
{
	dr_loc l = {dr_node_file(n), n->line, n->col, 1};
	if (n->kind != DR_NODE_SCALAR)
		return l;
	dr_scalar_style st = n->style;
	if (n->span >= 0)
		l.len = n->span;
	else if (st == DR_STYLE_PLAIN)
		l.len = n->u.scalar.src_map;
	else if (st == DR_STYLE_SINGLE || st == DR_STYLE_DOUBLE)
		l.len = 1 + n->u.scalar.src_map;
	if (l.len < 1)
		l.len = 1;
	return l;
}

/* Bytes the model adds before value offset off: one per '' or backslash pair. */
static size_t model_shift(const dr_node *n, size_t off, bool quoted)
{
	size_t shift = 0;
	for (size_t i = 0; quoted && i < off && i < n->u.scalar.len; i++) {
		char c = n->u.scalar.str[i];
		shift += n->style == DR_STYLE_SINGLE ? c == '\'' : escape_letter(c) != 0;
	}
	return shift;
}

static dr_loc flow_loc_at(const dr_node *n, size_t off, size_t len)
{
	/*
	 * A style may differ from the source's (a plain "!!str x" is DOUBLE, a
	 * quoted "!!int '1'" PLAIN); on one line the text is unquoted exactly
	 * when the node is as long as its value.
	 */
	bool one_line = n->span >= 0;
	bool bare = one_line && (size_t)n->span == n->u.scalar.len;
	bool quoted = n->style == DR_STYLE_PLAIN ? one_line && !bare : !bare;
	size_t exact = (size_t)(n->u.scalar.src_map > 0 ? n->u.scalar.src_map : 0);
	if (off > exact)
		return dr_node_loc(n);
	size_t start = off + model_shift(n, off, quoted);
	size_t stop = off + len <= exact ? off + len + model_shift(n, off + len, quoted) : start + len;
	return (dr_loc){dr_node_file(n), n->line, n->col + (int)quoted + (int)start, (int)(stop - start)};
}

static dr_loc block_loc_at(const dr_node *n, size_t off, size_t len)
{
	int content_col = n->u.scalar.src_map;
	if (content_col <= 0)
		return dr_node_loc(n);
	dr_loc l = {dr_node_file(n), n->line + 1, content_col, 1};
	if (n->style == DR_STYLE_FOLDED)
		return l; /* folding joins lines: the first content line is all we can tell */
	size_t ls = 0;
	for (size_t i = 0; i < off && i < n->u.scalar.len; i++)
		if (n->u.scalar.str[i] == '\n') {
			l.line++;
			ls = i + 1;
		}
	const char *nl = memchr(n->u.scalar.str + ls, '\n', n->u.scalar.len - ls);
	size_t line_end = nl ? (size_t)(nl - n->u.scalar.str) : n->u.scalar.len;
	l.col = content_col + (int)(off - ls);
	l.len = (int)(off + len <= line_end ? len : line_end > off ? line_end - off : 1);
	return l;
}

dr_loc dr_node_loc_at(const dr_node *n, size_t off, size_t len)
{
	if (n->kind != DR_NODE_SCALAR)
		return dr_node_loc(n);
	dr_loc l;
	if (n->style == DR_STYLE_LITERAL || n->style == DR_STYLE_FOLDED)
		l = block_loc_at(n, off, len);
	else
		l = flow_loc_at(n, off, len);
	if (l.len < 1)
		l.len = 1;
	return l;
}

const dr_pair *dr_node_get_pair(const dr_node *n, const char *key)
{
	if (!n || n->kind != DR_NODE_MAP)
		return NULL;
	size_t len = strlen(key);
	for (size_t i = 0; i < n->u.map.n; i++) {
		const dr_node *k = n->u.map.items[i].key;
		if (k->u.scalar.len == len && memcmp(k->u.scalar.str, key, len) == 0)
			return &n->u.map.items[i];
	}
	return NULL;
}

dr_node *dr_node_get(const dr_node *n, const char *key)
{
	const dr_pair *p = dr_node_get_pair(n, key);
	return p ? p->value : NULL;
}

/* The text of a plain scalar (the only kind the core schema types); false otherwise. */
static bool plain(const dr_node *n, const char **s, size_t *len)
{
	if (!n || n->kind != DR_NODE_SCALAR || n->style != DR_STYLE_PLAIN)
		return false;
	*s = n->u.scalar.str;
	*len = n->u.scalar.len;
	return true;
}

static bool text_is(const char *s, size_t len, const char *word)
{
	return strlen(word) == len && memcmp(s, word, len) == 0;
}

static bool text_in(const char *s, size_t len, const char *const *words)
{
	for (; *words; words++)
		if (text_is(s, len, *words))
			return true;
	return false;
}

bool dr_node_is_null(const dr_node *n)
{
	static const char *const nulls[] = {"~", "null", "Null", "NULL", NULL};
	const char *s;
	size_t len;
	return plain(n, &s, &len) && (len == 0 || text_in(s, len, nulls));
}

bool dr_node_as_bool(const dr_node *n, bool *out)
{
	static const char *const yes[] = {"true", "True", "TRUE", NULL}, *const no[] = {"false", "False", "FALSE", NULL};
	const char *s;
	size_t len;
	if (!plain(n, &s, &len))
		return false;
	if (text_in(s, len, yes) || text_in(s, len, no)) {
		*out = text_in(s, len, yes);
		return true;
	}
	return false;
}

static int digit_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return 99;
}

/* Digits in base, at least one, value at most limit. */
static bool parse_digits(const char *s, size_t n, unsigned base, uint64_t limit, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)digit_value(s[i]);
		if (d >= base || v > (limit - d) / base)
			return false;
		v = v * base + d;
	}
	*out = v;
	return true;
}

/* [-+]?[0-9]+ | 0o[0-7]+ | 0x[0-9a-fA-F]+, in int64 range. */
static bool core_int(const char *s, size_t len, int64_t *out)
{
	uint64_t v;
	if (len > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
		if (!parse_digits(s + 2, len - 2, s[1] == 'o' ? 8 : 16, INT64_MAX, &v))
			return false;
		*out = (int64_t)v;
		return true;
	}
	bool neg = len && s[0] == '-';
	size_t skip = len && (s[0] == '-' || s[0] == '+');
	if (!parse_digits(s + skip, len - skip, 10, neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX, &v))
		return false;
	*out = neg ? (v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v) : (int64_t)v;
	return true;
}

bool dr_node_as_int(const dr_node *n, int64_t *out)
{
	const char *s;
	size_t len;
	int64_t v;
	if (!plain(n, &s, &len) || !core_int(s, len, &v))
		return false;
	*out = v;
	return true;
}

static size_t count_digits(const char *s, size_t i, size_t len)
{
	size_t k = i;
	while (k < len && s[k] >= '0' && s[k] <= '9')
		k++;
	return k - i;
}

/* [-+]? ( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )? */
static bool core_float_syntax(const char *s, size_t len)
{
	size_t i = len && (s[0] == '-' || s[0] == '+');
	size_t whole = count_digits(s, i, len);
	i += whole;
	if (i < len && s[i] == '.') {
		size_t frac = count_digits(s, i + 1, len);
		if (!whole && !frac)
			return false;
		i += 1 + frac;
	} else if (!whole) {
		return false;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		i += i < len && (s[i] == '-' || s[i] == '+');
		size_t exp = count_digits(s, i, len);
		if (!exp)
			return false;
		i += exp;
	}
	return i == len;
}

/* .inf, -.Inf, .NaN and friends. */
static bool core_special_float(const char *s, size_t len, double *out)
{
	static const char *const infs[] = {".inf", ".Inf", ".INF", NULL}, *const nans[] = {".nan", ".NaN", ".NAN", NULL};
	if (text_in(s, len, nans)) {
		*out = NAN;
		return true;
	}
	size_t skip = len && (s[0] == '-' || s[0] == '+');
	if (!text_in(s + skip, len - skip, infs))
		return false;
	*out = s[0] == '-' ? -INFINITY : INFINITY;
	return true;
}

bool dr_node_as_number(const dr_node *n, double *out)
{
	const char *s;
	size_t len;
	int64_t i;
	if (!plain(n, &s, &len))
		return false;
	if (core_int(s, len, &i)) {
		*out = (double)i;
		return true;
	}
	if (core_special_float(s, len, out))
		return true;
	if (!core_float_syntax(s, len) || strlen(s) != len)
		return false;
	*out = strtod(s, NULL);
	return true;
}

const char *dr_node_str(const dr_node *n)
{
	return n && n->kind == DR_NODE_SCALAR ? n->u.scalar.str : NULL;
}

const char *dr_node_type_name(const dr_node *n)
{
	bool b;
	int64_t i;
	double x;
	if (!n)
		return "null";
	if (n->kind == DR_NODE_MAP)
		return "mapping";
	if (n->kind == DR_NODE_SEQ)
		return "list";
	if (dr_node_is_null(n))
		return "null";
	if (dr_node_as_bool(n, &b))
		return "boolean";
	if (dr_node_as_int(n, &i))
		return "integer";
	if (dr_node_as_number(n, &x))
		return "number";
	return "string";
}
