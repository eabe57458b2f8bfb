/*
 * bind.h - from a checked runbook and an inventory to concrete targets.
 *
 * The inventory is a plain array of dr_vm (actions/action.h). For now it
 * comes from the sim backend's `vms:` list and `inventory:` file
 * (dr_bind_sim_inventory); the backend interface will hand over the same
 * array later, so nothing else here cares where VMs come from.
 *
 * Binding resolves every vm_set (match: regexes over the name and tags,
 * minus exclude:, then expect: count/min/max) and tells each step which
 * VMs it fans out over. Everything lives in the caller's arena.
 */
#ifndef DR_BIND_H
#define DR_BIND_H

#include <stdbool.h>
#include <stddef.h>

#include "actions/action.h"
#include "runbook.h"
#include "util/arena.h"
#include "util/buf.h"

typedef struct dr_binding {
	const dr_vm *vms; /* the inventory, borrowed */
	size_t n_vms;
	size_t **members; /* per rb->vm_sets[i]: indexes into vms, inventory order */
	size_t *n_members;
	size_t n_sets;
} dr_binding;

/*
 * The VMs of rb's sim backend: `inventory:` (a YAML file with a `vms:`
 * list, relative to the runbook) first, then the inline `vms:`. A sim VM's
 * id is its name. Returns 0, or -1 with a message appended to err (what
 * failed and where). The array and its strings live in a.
 */
int dr_bind_sim_inventory(dr_arena *a, const dr_runbook *rb, dr_vm **out, size_t *n_out, dr_buf *err);

/*
 * Resolve rb's vm_sets against vms[0..n). Each set whose size breaks its
 * expect: adds one line to err, naming the set, where it is declared, the
 * VMs it matched and what it expected. Returns the number of such errors;
 * out is filled either way.
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
