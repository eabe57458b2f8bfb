/*
 * bind_index.h - which VMs a vm_set's match: can select, without trying
 * its regexes on every VM (private to run/bind*.c).
 *
 * A regex anchored at the start whose first characters are literal
 * ("^payments-db-\d+$") can only find a name or tag value that begins with
 * them. The index keeps the inventory's names, and the values of each tag
 * key a filter asks about, sorted: a set's candidates are the VMs in the
 * narrowest such range of its match: (for a tag, at least the VMs that have
 * the tag). The caller still tries every candidate against the whole set
 * (match: and exclude:); the index only leaves out VMs that cannot match.
 * So binding 200 sets to 10,000 VMs tries each set's regexes on its own
 * few VMs, not on the whole inventory.
 */
#ifndef DR_BIND_INDEX_H
#define DR_BIND_INDEX_H

#include <stddef.h>

#include "actions/action.h"
#include "front/runbook.h"

typedef struct dr_bind_index dr_bind_index;

/* An index of vms[0..n) (borrowed: they must outlive it); heap, freed by dr_bind_index_free. */
dr_bind_index *dr_bind_index_new(const dr_vm *vms, size_t n);
void dr_bind_index_free(dr_bind_index *ix);

/*
 * The VMs match could select: their indexes, ascending, into *out (heap,
 * the caller frees), and their count. A filter the index cannot narrow
 * (none present, or no anchored literal and no tag) gives every VM.
 * Not thread-safe: a tag key's values are sorted on first use.
 */
size_t dr_bind_index_candidates(dr_bind_index *ix, const dr_vm_filter *match, size_t **out);

/* The value of vm's tag key, NULL when it has none. */
const char *dr_bind_tag_value(const dr_vm *vm, const char *key);

#endif
