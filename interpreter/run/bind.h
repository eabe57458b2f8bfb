/*
 * bind.h - from a checked runbook and an inventory to concrete targets.
 *
 * The inventory is a plain array of dr_vm (actions/action.h): the items the
 * run's backend protects (dr_bind_backend_inventory), or an array a test
 * gives; nothing else here cares where VMs come from.
 *
 * Binding resolves every vm_set (match: regexes over the name and tags,
 * minus exclude:, then expect: count/min/max) and tells each step which
 * VMs it fans out over. Everything lives in the caller's arena.
 */
#ifndef DR_BIND_H
#define DR_BIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions/action.h"
#include "front/runbook.h"
#include "util/arena.h"
#include "util/buf.h"

typedef struct dr_binding {
	const dr_vm *vms; /* the inventory, borrowed */
	size_t n_vms;
	size_t **members; /* per rb->vm_sets[i]: indexes into vms, inventory order */
	size_t *n_members;
	size_t n_sets;
	size_t *by_name; /* open addressing over set names: rb->vm_sets indexes, (size_t)-1 empty; name_cap slots */
	size_t name_cap; /* a power of two, or 0 (no table: a binding made by hand is scanned) */
} dr_binding;

struct dr_backend;

/*
 * The inventory: every item the backend protects at now_ms (Unix ms), in
 * the backend's order, as dr_vm (id: the item's id; for the sim, the items
 * of its state file and of the runbook's `inventory:` file and `vms:`).
 * Returns 0, or -1 with a sentence appended to err (the service's error).
 * The array and its strings live in a.
 */
int dr_bind_backend_inventory(dr_arena *a, struct dr_backend *be, int64_t now_ms, dr_vm **out, size_t *n_out,
			      dr_buf *err);

/*
 * Resolve rb's vm_sets against vms[0..n). Each set whose size breaks its
 * expect: adds one line to err, naming the set, where it is declared, the
 * VMs it matched and what it expected. Returns the number of such errors;
 * out is filled either way, with an index of the sets by name (in a), so
 * dr_bind_step_targets finds each target's set in constant time.
 */
size_t dr_bind_sets(dr_arena *a, const dr_runbook *rb, const dr_vm *vms, size_t n, dr_binding *out, dr_buf *err);

/* True when vm matches the filter (a filter that is not present matches nothing). */
bool dr_bind_filter_matches(const dr_vm_filter *f, const dr_vm *vm);

/*
 * The inventory indexes a step fans out over: the union of its targets'
 * members, in inventory order, each once. *n_out gets the count. Returns
 * NULL with *n_out 0 for a step without targets:/foreach:.
 */
size_t *dr_bind_step_targets(dr_arena *a, const dr_binding *b, const dr_runbook *rb, const dr_step *st,
			     size_t *n_out);

#endif
