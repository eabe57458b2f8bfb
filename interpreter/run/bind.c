/*
 * bind.c - inventory, vm_sets and step targets (see bind.h).
 *
 * Matching a VM against a filter: the name regex (when given) must find a
 * match in the name, and every tag regex must find one in the value of that
 * tag (a VM without the tag does not match). A set is match: minus
 * exclude:; a set without match: selects every VM.
 */
#include "run/bind.h"

#include <string.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "backends/backend.h"
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

static bool finds(const dr_regex *re, const char *s)
{
	if (!re->code)
		return true; /* no pattern: anything */
	if (!s)
		return false;
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re->code, NULL);
	int rc = pcre2_match(re->code, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

static const char *tag_value(const dr_vm *vm, const char *key)
{
	for (size_t i = 0; i < vm->n_tags; i++)
		if (strcmp(vm->tag_keys[i], key) == 0)
			return vm->tag_values[i];
	return NULL;
}

bool dr_bind_filter_matches(const dr_vm_filter *f, const dr_vm *vm)
{
	if (!f->present || (!f->name.code && !f->n_tags))
		return false;
	if (!finds(&f->name, vm->name))
		return false;
	for (size_t i = 0; i < f->n_tags; i++)
		if (!finds(&f->tags[i].value, tag_value(vm, f->tags[i].key)))
			return false;
	return true;
}

static bool in_set(const dr_vm_set *s, const dr_vm *vm)
{
	const dr_vm_filter *m = &s->match;
	bool all = !m->present || (!m->name.code && !m->n_tags); /* no match: or match: {} */
	return (all || dr_bind_filter_matches(m, vm)) && !dr_bind_filter_matches(&s->exclude, vm);
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

static void report_expect(dr_buf *err, const dr_vm_set *s, const dr_vm *vms, const size_t *idx, size_t n,
			  const char *want)
{
	dr_buf_printf(err, "%s:%d:%d: error: vm_set '%s' matched %zu VM%s", s->name.loc.file ? s->name.loc.file : "?",
		      s->name.loc.line, s->name.loc.col, s->name.name, n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n && i < 10; i++)
		dr_buf_printf(err, "%s%s", i ? ", " : " (", vms[idx[i]].name);
	dr_buf_printf(err, "%s but expects %s\n", n > 10 ? ", ...)" : n ? ")" : "", want);
}

size_t dr_bind_sets(dr_arena *a, const dr_runbook *rb, const dr_vm *vms, size_t n, dr_binding *out, dr_buf *err)
{
	size_t errors = 0;
	*out = (dr_binding){.vms = vms, .n_vms = n, .n_sets = rb->n_vm_sets};
	out->members = dr_arena_calloc(a, rb->n_vm_sets + 1, sizeof *out->members);
	out->n_members = dr_arena_calloc(a, rb->n_vm_sets + 1, sizeof *out->n_members);
	for (size_t s = 0; s < rb->n_vm_sets; s++) {
		const dr_vm_set *set = &rb->vm_sets[s];
		size_t *idx = xcalloc(n + 1, sizeof *idx), k = 0;
		for (size_t i = 0; i < n; i++)
			if (in_set(set, &vms[i]))
				idx[k++] = i;
		out->members[s] = dr_arena_calloc(a, k + 1, sizeof *idx); /* its size, not the inventory's */
		memcpy(out->members[s], idx, k * sizeof *idx);
		free(idx);
		idx = out->members[s];
		out->n_members[s] = k;
		const char *want = broken_expectation(a, set, k);
		if (want) {
			report_expect(err, set, vms, idx, k, want);
			errors++;
		}
	}
	return errors;
}

static size_t set_index(const dr_runbook *rb, const char *name)
{
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
		size_t s = set_index(rb, st->targets[t].name);
		total += s != (size_t)-1 ? b->n_members[s] : 0;
	}
	size_t *idx = dr_arena_calloc(a, total + 1, sizeof *idx);
	for (size_t t = 0; t < st->n_targets; t++) {
		size_t s = set_index(rb, st->targets[t].name);
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
