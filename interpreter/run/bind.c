/*
 * bind.c - inventory, vm_sets and step targets (see bind.h).
 *
 * Matching a VM against a filter: the name regex (when given) must find a
 * match in the name, and every tag regex must find one in the value of that
 * tag (a VM without the tag does not match). A set is match: minus
 * exclude:; a set without match: selects every VM. Only the VMs its match:
 * could select are tried (bind_index.h: sorted names and tag values and the
 * literal start of anchored regexes), so binding grows with sets x members,
 * not sets x inventory.
 */
#include "run/bind.h"

#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "backends/backend.h"
#include "run/bind_index.h"
#include "util/buf.h"
#include "util/text.h"
#include "util/xalloc.h"

/* ---- the inventory ---------------------------------------------------------- */

int dr_bind_backend_inventory(dr_arena *a, dr_backend *be, int64_t now_ms, dr_vm **out, size_t *n_out, dr_buf *err)
{
	dr_be_item *items;
	size_t n;
	dr_be_error e;
	*out = NULL;
	*n_out = 0;
	if (dr_backend_list_items(be, a, now_ms, &items, &n, &e) < 0) {
		dr_buf_printf(err, "cannot list the VMs the %s backend protects: %s\n", be->kind,
			      dr_backend_error_text(a, &e));
		return -1;
	}
	dr_vm *vms = dr_arena_calloc(a, n + 1, sizeof *vms);
	for (size_t i = 0; i < n; i++)
		dr_backend_item_to_vm(&items[i], &vms[i]);
	*out = vms;
	*n_out = n;
	return 0;
}

/* ---- vm_sets -------------------------------------------------------------- */

/* Characters PCRE2 takes as themselves outside a class (no extended mode). */
static bool plain(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c && strchr("-_/:@,=%~ ", c));
}

/*
 * Whether re is ^TEXT$ of plain characters, compiled without options that
 * change what ^ and $ mean or how letters compare, newlines being LF;
 * *len: TEXT's length. Such a pattern (a tag's '^db$') finds TEXT itself,
 * or TEXT and a final newline, which $ also matches before: a comparison
 * tells, at a tenth of a match's cost.
 */
static bool exact_text(const dr_regex *re, size_t *len)
{
	const char *p = re->source;
	uint32_t opts = 0, nl = 0;
	size_t n = 0;
	if (!p || p[0] != '^')
		return false;
	while (plain(p[1 + n]))
		n++;
	if (p[1 + n] != '$' || p[2 + n] ||
	    pcre2_pattern_info(re->code, PCRE2_INFO_NEWLINE, &nl) != 0 || nl != PCRE2_NEWLINE_LF ||
	    pcre2_pattern_info(re->code, PCRE2_INFO_ALLOPTIONS, &opts) != 0 ||
	    (opts & (PCRE2_CASELESS | PCRE2_MULTILINE | PCRE2_EXTENDED | PCRE2_EXTENDED_MORE | PCRE2_LITERAL |
		     PCRE2_DOLLAR_ENDONLY | PCRE2_ALT_CIRCUMFLEX)))
		return false;
	*len = n;
	return true;
}

static bool finds(const dr_regex *re, const char *s, pcre2_match_data *md)
{
	size_t n;
	if (!re->code)
		return true; /* no pattern: anything */
	if (!s)
		return false;
	if (exact_text(re, &n)) {
		size_t len = strlen(s);
		return (len == n || (len == n + 1 && s[n] == '\n')) && memcmp(s, re->source + 1, n) == 0;
	}
	return pcre2_match(re->code, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL) >= 0;
}

static bool filter_matches(const dr_vm_filter *f, const dr_vm *vm, pcre2_match_data *md)
{
	if (!f->present || (!f->name.code && !f->n_tags))
		return false;
	if (!finds(&f->name, vm->name, md))
		return false;
	for (size_t i = 0; i < f->n_tags; i++)
		if (!finds(&f->tags[i].value, dr_bind_tag_value(vm, f->tags[i].key), md))
			return false;
	return true;
}

bool dr_bind_filter_matches(const dr_vm_filter *f, const dr_vm *vm)
{
	pcre2_match_data *md = pcre2_match_data_create(1, NULL);
	bool yes = filter_matches(f, vm, md);
	pcre2_match_data_free(md);
	return yes;
}

static bool in_set(const dr_vm_set *s, const dr_vm *vm, pcre2_match_data *md)
{
	const dr_vm_filter *m = &s->match;
	bool all = !m->present || (!m->name.code && !m->n_tags); /* no match: or match: {} */
	return (all || filter_matches(m, vm, md)) && !filter_matches(&s->exclude, vm, md);
}

/* "exactly 2", "at least 3", "at most 4", "between 2 and 4"; NULL when n satisfies expect:. */
static const char *broken_expectation(dr_arena *a, const dr_vm_set *s, size_t n)
{
	long long c = s->expect_count, lo = s->expect_min, hi = s->expect_max, got = (long long)n;
	if (c >= 0 && got != c)
		return dr_arena_printf(a, "exactly %lld", c);
	if ((lo >= 0 && got < lo) || (hi >= 0 && got > hi)) {
		if (lo >= 0 && hi >= 0)
			return dr_arena_printf(a, "between %lld and %lld", lo, hi);
		return lo >= 0 ? dr_arena_printf(a, "at least %lld", lo) : dr_arena_printf(a, "at most %lld", hi);
	}
	return NULL;
}

/* A set whose size breaks its expect: guard: DR502, one line naming what it matched. */
static void report_expect(dr_buf *err, const dr_vm_set *s, const dr_vm *vms, const size_t *idx, size_t n,
			  const char *want)
{
	dr_loc l = dr_ref_loc(&s->name);
	dr_buf_printf(err, "%s:%d:%d: error: vm_set '%s' matched %zu VM%s", l.file ? l.file : "?", l.line, l.col,
		      s->name.name, n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n && i < 10; i++)
		dr_buf_printf(err, "%s%s", i ? ", " : " (", vms[idx[i]].name);
	dr_buf_printf(err, "%s but expects %s [DR502]\n", n > 10 ? ", ...)" : n ? ")" : "", want);
}

/* The leading literal text of a pattern ("^app-\\d+$" -> "app-"), in a. */
static char *literal_prefix(dr_arena *a, const char *pattern)
{
	const char *p = pattern + (*pattern == '^');
	size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-");
	return dr_arena_strndup(a, p, n);
}

/* The candidate whose prefix is nearest lit (a typo in the pattern's literal part), NULL when none is near. */
static const char *nearest(dr_arena *a, const char *lit, const char *const *cands, size_t n, size_t *plen)
{
	size_t len = strlen(lit), best = len / 3 + 1, cap = best;
	const char *found = NULL;
	for (size_t i = 0; i < n && len; i++)
		for (size_t l = len > 1 ? len - 1 : 1; l <= len + 1; l++) {
			char *pre = dr_arena_strndup(a, cands[i], strnlen(cands[i], l)); /* a shorter name: never past its end */
			size_t d = dr_text_distance(lit, pre, cap);
			if (d < best && d > 0 && strlen(pre) == l) {
				best = d;
				found = cands[i];
				*plen = l;
			}
		}
	return found;
}

enum { MAX_WORDS = 256 }; /* distinct tag values or keys looked at for a suggestion: the error path stays linear */

/* The values the inventory has for tag key (each once, at most MAX_WORDS), or every tag key when key is NULL. */
static const char **inventory_words(dr_arena *a, const dr_vm *vms, size_t n, const char *key, size_t *count)
{
	size_t cap = 16, k = 0;
	const char **out = dr_arena_calloc(a, cap, sizeof *out);
	for (size_t i = 0; i < n && k < MAX_WORDS; i++)
		for (size_t t = 0; t < vms[i].n_tags; t++) {
			const char *w = key ? (strcmp(vms[i].tag_keys[t], key) ? NULL : vms[i].tag_values[t]) : vms[i].tag_keys[t];
			bool seen = !w;
			for (size_t j = 0; j < k && !seen; j++)
				seen = strcmp(out[j], w) == 0;
			if (seen)
				continue;
			if (k + 1 == cap) {
				out = dr_arena_grow(a, out, cap, cap * 2, sizeof *out);
				cap *= 2;
			}
			out[k++] = w;
		}
	*count = k;
	return out;
}

/* "did you mean ..." for a set that matches nothing: its name pattern, or a tag's value, near the inventory's. */
static void empty_hint(dr_arena *a, dr_buf *err, const dr_vm_set *s, const dr_vm *vms, size_t n)
{
	const dr_vm_filter *m = &s->match;
	size_t plen = 0;
	if (m->name.source) {
		const char **names = dr_arena_calloc(a, n + 1, sizeof *names);
		for (size_t i = 0; i < n; i++)
			names[i] = vms[i].name;
		char *lit = literal_prefix(a, m->name.source);
		const char *near = nearest(a, lit, names, n, &plen);
		const char *at = near ? strstr(m->name.source, lit) : NULL;
		if (at) {
			dr_buf_printf(err, "; did you mean name '%.*s%.*s%s'? (%s would match)", (int)(at - m->name.source),
				      m->name.source, (int)plen, near, at + strlen(lit), near);
			return;
		}
	}
	for (size_t t = 0; t < m->n_tags; t++) {
		size_t k;
		const char **vals = inventory_words(a, vms, n, m->tags[t].key, &k);
		if (!k) {
			const char **keys = inventory_words(a, vms, n, NULL, &k);
			const char *near = nearest(a, m->tags[t].key, keys, k, &plen);
			if (near && strlen(near) == plen)
				dr_buf_printf(err, "; no VM has a tag '%s': did you mean '%s'?", m->tags[t].key, near);
			else
				dr_buf_printf(err, "; no VM has a tag '%s'%s%s%s", m->tags[t].key, k ? " (the inventory's tags: " : "",
					      k ? keys[0] : "", k > 1 ? ", ...)" : k ? ")" : "");
			return;
		}
		const char *src = m->tags[t].value.source ? m->tags[t].value.source : "";
		char *lit = literal_prefix(a, src);
		const char *near = nearest(a, lit, vals, k, &plen);
		const char *at = near ? strstr(src, lit) : NULL;
		if (at) {
			dr_buf_printf(err, "; did you mean %s: '%.*s%.*s%s'? (a %s the inventory has: %s)", m->tags[t].key,
				      (int)(at - src), src, (int)plen, near, at + strlen(lit), m->tags[t].key, near);
			return;
		}
	}
	dr_buf_printf(err, "; the backend protects %zu VM%s", n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n && i < 5; i++)
		dr_buf_printf(err, "%s%s", i ? ", " : ": ", vms[i].name);
	dr_buf_puts(err, n > 5 ? ", ..." : "");
}

/* A set that matches nothing, and whose expect: does not say that is fine: DR501, one line. */
static void report_empty(dr_arena *a, dr_buf *err, const dr_vm_set *s, const dr_vm *vms, size_t n)
{
	dr_loc l = dr_ref_loc(&s->name);
	dr_buf_printf(err, "%s:%d:%d: error: vm_set '%s' matches no VM", l.file ? l.file : "?", l.line, l.col,
		      s->name.name);
	empty_hint(a, err, s, vms, n);
	dr_buf_puts(err, " [DR501]\n");
}

static size_t name_slot(const dr_binding *b, const char *name)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * UINT64_C(0x100000001b3);
	return (size_t)h & (b->name_cap - 1);
}

/* The sets by name, so that each step's targets are found in constant time (not by scanning the sets). */
static void index_names(dr_arena *a, const dr_runbook *rb, dr_binding *b)
{
	b->name_cap = 16;
	while (b->name_cap < 2 * rb->n_vm_sets)
		b->name_cap *= 2;
	b->by_name = dr_arena_calloc(a, b->name_cap, sizeof *b->by_name);
	memset(b->by_name, 0xff, b->name_cap * sizeof *b->by_name);
	for (size_t s = 0; s < rb->n_vm_sets; s++) {
		size_t i = name_slot(b, rb->vm_sets[s].name.name);
		while (b->by_name[i] != (size_t)-1 && strcmp(rb->vm_sets[b->by_name[i]].name.name, rb->vm_sets[s].name.name))
			i = (i + 1) & (b->name_cap - 1);
		if (b->by_name[i] == (size_t)-1) /* a duplicate name (validate refuses it): the first one, as the scan found */
			b->by_name[i] = s;
	}
}

size_t dr_bind_sets(dr_arena *a, const dr_runbook *rb, const dr_vm *vms, size_t n, dr_binding *out, dr_buf *err)
{
	size_t errors = 0;
	*out = (dr_binding){.vms = vms, .n_vms = n, .n_sets = rb->n_vm_sets};
	index_names(a, rb, out);
	out->members = dr_arena_calloc(a, rb->n_vm_sets + 1, sizeof *out->members);
	out->n_members = dr_arena_calloc(a, rb->n_vm_sets + 1, sizeof *out->n_members);
	dr_bind_index *ix = dr_bind_index_new(vms, n);
	pcre2_match_data *md = pcre2_match_data_create(1, NULL); /* whether it matched is all we ask */
	for (size_t s = 0; s < rb->n_vm_sets; s++) {
		const dr_vm_set *set = &rb->vm_sets[s];
		size_t *idx, k = 0, n_cand = dr_bind_index_candidates(ix, &set->match, &idx);
		for (size_t i = 0; i < n_cand; i++)
			if (in_set(set, &vms[idx[i]], md))
				idx[k++] = idx[i];
		out->members[s] = dr_arena_calloc(a, k + 1, sizeof *idx); /* its size, not the inventory's */
		memcpy(out->members[s], idx, k * sizeof *idx);
		free(idx);
		idx = out->members[s];
		out->n_members[s] = k;
		const char *want = broken_expectation(a, set, k);
		if (want) {
			report_expect(err, set, vms, idx, k, want);
			errors++;
		} else if (k == 0 && set->expect_count != 0 && set->expect_min != 0) { /* expect: {count: 0} allows it */
			report_empty(a, err, set, vms, n);
			errors++;
		}
	}
	pcre2_match_data_free(md);
	dr_bind_index_free(ix);
	return errors;
}

static size_t set_index(const dr_binding *b, const dr_runbook *rb, const char *name)
{
	if (b->name_cap) {
		for (size_t i = name_slot(b, name); b->by_name[i] != (size_t)-1; i = (i + 1) & (b->name_cap - 1))
			if (strcmp(rb->vm_sets[b->by_name[i]].name.name, name) == 0)
				return b->by_name[i];
		return (size_t)-1;
	}
	for (size_t s = 0; s < rb->n_vm_sets; s++)
		if (strcmp(rb->vm_sets[s].name.name, name) == 0)
			return s;
	return (size_t)-1;
}

static int cmp_index(const void *x, const void *y)
{
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	return a < b ? -1 : a > b;
}

/* The members of the step's sets, in inventory order, each once: O(members), not O(inventory), per step. */
size_t *dr_bind_step_targets(dr_arena *a, const dr_binding *b, const dr_runbook *rb, const dr_step *st,
			     size_t *n_out)
{
	*n_out = 0;
	if (!st->n_targets)
		return NULL;
	size_t total = 0, k = 0;
	for (size_t t = 0; t < st->n_targets; t++) {
		size_t s = set_index(b, rb, st->targets[t].name);
		total += s != (size_t)-1 ? b->n_members[s] : 0;
	}
	size_t *idx = dr_arena_calloc(a, total + 1, sizeof *idx);
	for (size_t t = 0; t < st->n_targets; t++) {
		size_t s = set_index(b, rb, st->targets[t].name);
		for (size_t i = 0; s != (size_t)-1 && i < b->n_members[s]; i++)
			idx[k++] = b->members[s][i];
	}
	if (st->n_targets > 1) { /* each set's members are in inventory order; several sets may overlap */
		qsort(idx, k, sizeof *idx, cmp_index);
		size_t u = 0;
		for (size_t i = 0; i < k; i++)
			if (!u || idx[u - 1] != idx[i])
				idx[u++] = idx[i];
		k = u;
	}
	*n_out = k;
	return idx;
}
