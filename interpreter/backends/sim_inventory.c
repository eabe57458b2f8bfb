/*
 * backends/sim_inventory.c - the simulated VMs: from the runbook's
 * `backend.inventory` file (YAML or JSON with a `vms:` list, relative to the
 * runbook) and its inline `backend.vms`, in that order.
 *
 * Each VM becomes a protected item. A VM the state file already knows keeps
 * its protection state; its attributes (tags, regions, IPs, size) follow
 * the inventory. Missing attributes get defaults: West Europe to North
 * Europe, Standard_D2s_v5, 10.1.x.y / 10.2.x.y by position.
 */
#include "backends/sim_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/text.h"
#include "util/xalloc.h"

static const char *const vm_keys[] = {"name", "tags", "primary_region", "recovery_region", "size",
				      "primary_ip", "recovery_ip", NULL};

typedef struct ictx {
	sim *s;
	dr_diags *d;
	size_t errors;
	size_t index; /* position in the inventory, for default IPs */
	dr_strmap seen; /* names in this inventory */
} ictx;

static void set(char **slot, const char *v)
{
	free(*slot);
	*slot = xstrdup(v);
}

static const char *text(ictx *c, const dr_node *vm, const char *key)
{
	const dr_node *n = dr_node_get(vm, key);
	if (!n)
		return NULL;
	if (n->kind != DR_NODE_SCALAR || dr_node_is_null(n)) {
		dr_diag_error(c->d, DR201, dr_node_loc(n), "sim inventory: '%s' must be a string, not %s", key,
			      dr_node_type_name(n));
		c->errors++;
		return NULL;
	}
	return dr_node_str(n);
}

static void set_tags(ictx *c, sim_item *it, const dr_node *tags)
{
	for (size_t i = 0; i < it->n_tags; i++) {
		free(it->tag_k[i]);
		free(it->tag_v[i]);
	}
	it->n_tags = 0;
	if (!tags)
		return;
	if (tags->kind != DR_NODE_MAP) {
		dr_diag_error(c->d, DR201, dr_node_loc(tags), "sim inventory: 'tags' must be a mapping, not %s",
			      dr_node_type_name(tags));
		c->errors++;
		return;
	}
	it->tag_k = xrealloc(it->tag_k, (tags->u.map.n + 1) * sizeof *it->tag_k);
	it->tag_v = xrealloc(it->tag_v, (tags->u.map.n + 1) * sizeof *it->tag_v);
	for (size_t i = 0; i < tags->u.map.n; i++) {
		const dr_node *v = tags->u.map.items[i].value;
		it->tag_k[it->n_tags] = xstrdup(dr_node_str(tags->u.map.items[i].key));
		it->tag_v[it->n_tags++] = xstrdup(v->kind == DR_NODE_SCALAR ? dr_node_str(v) : "");
	}
}

static void check_keys(ictx *c, const dr_node *vm)
{
	for (size_t i = 0; i < vm->u.map.n; i++) {
		const dr_node *k = vm->u.map.items[i].key;
		const char *name = dr_node_str(k);
		bool known = false;
		for (size_t j = 0; vm_keys[j]; j++)
			known |= strcmp(vm_keys[j], name) == 0;
		if (known)
			continue;
		dr_diag *g = dr_diag_error(c->d, DR203, dr_node_loc(k), "sim inventory: unknown key '%s'", name);
		const char *near = dr_text_suggest(name, vm_keys);
		if (near)
			dr_diag_set_hint(g, "did you mean '%s'?", near);
		c->errors++;
	}
}

static void set_attrs(ictx *c, sim_item *it, const dr_node *vm)
{
	char ip[2][32];
	const char *v;
	snprintf(ip[0], sizeof ip[0], "10.1.%zu.%zu", c->index / 250 % 256, c->index % 250 + 4);
	snprintf(ip[1], sizeof ip[1], "10.2.%zu.%zu", c->index / 250 % 256, c->index % 250 + 4);
	set(&it->region[0], (v = text(c, vm, "primary_region")) ? v : "westeurope");
	set(&it->region[1], (v = text(c, vm, "recovery_region")) ? v : "northeurope");
	sim_item_forget_ids(it);
	set(&it->ip[0], (v = text(c, vm, "primary_ip")) ? v : ip[0]);
	set(&it->ip[1], (v = text(c, vm, "recovery_ip")) ? v : ip[1]);
	set(&it->size, (v = text(c, vm, "size")) ? v : "Standard_D2s_v5");
	set_tags(c, it, dr_node_get(vm, "tags"));
}

/* A hash of what the inventory sets: whether refreshing an item changed it. */
static uint64_t attrs_hash(const sim_item *it)
{
	uint64_t h = sim_hash(it->size ? it->size : "");
	for (int i = 0; i < 2; i++) {
		h = sim_mix(h, sim_hash(it->region[i] ? it->region[i] : ""));
		h = sim_mix(h, sim_hash(it->ip[i] ? it->ip[i] : ""));
	}
	for (size_t i = 0; i < it->n_tags; i++)
		h = sim_mix(sim_mix(h, sim_hash(it->tag_k[i])), sim_hash(it->tag_v[i]));
	return sim_mix(h, it->n_tags);
}

static void add_vm(ictx *c, const dr_node *vm)
{
	size_t dup;
	if (vm->kind != DR_NODE_MAP) {
		dr_diag_error(c->d, DR201, dr_node_loc(vm), "sim inventory: a VM must be a mapping, not %s",
			      dr_node_type_name(vm));
		c->errors++;
		return;
	}
	check_keys(c, vm);
	const char *name = text(c, vm, "name");
	if (!name || !*name) {
		if (!dr_node_get(vm, "name")) {
			dr_diag_error(c->d, DR202, dr_node_loc(vm), "sim inventory: a VM needs a 'name'");
			c->errors++;
		}
		return;
	}
	if (dr_strmap_get(&c->seen, name, &dup)) {
		dr_diag_error(c->d, DR208, dr_node_loc(dr_node_get(vm, "name")),
			      "sim inventory: two VMs are named '%s'", name);
		c->errors++;
		return;
	}
	sim_item *it = sim_item_find(c->s, name);
	if (!it)
		it = sim_item_add(c->s, name);
	dr_strmap_put(&c->seen, it->name, c->index);
	uint64_t before = attrs_hash(it);
	set_attrs(c, it, vm);
	if (attrs_hash(it) != before)
		sim_item_touch(c->s, it); /* the state file's copy follows the inventory */
	c->index++;
}

static void add_list(ictx *c, const dr_node *list)
{
	if (list->kind != DR_NODE_SEQ) {
		dr_diag_error(c->d, DR201, dr_node_loc(list), "sim inventory: 'vms' must be a list, not %s",
			      dr_node_type_name(list));
		c->errors++;
		return;
	}
	sim_items_reserve(c->s, list->u.seq.n); /* the most it adds: one table each, no copies while it grows */
	dr_strmap_reserve(&c->seen, c->seen.n + list->u.seq.n);
	for (size_t i = 0; i < list->u.seq.n; i++)
		add_vm(c, list->u.seq.items[i]);
}

static void add_file(ictx *c, const dr_node *file_node, const char *base_dir)
{
	const char *file = dr_node_str(file_node);
	dr_arena *a = dr_arena_new();
	const char *path = file[0] == '/' || !base_dir ? file : dr_arena_printf(a, "%s/%s", base_dir, file);
	size_t before = dr_diags_errors(c->d);
	dr_node *root = dr_load_file_named(a, c->d, path, file_node);
	if (!root || dr_diags_errors(c->d) != before) {
		c->errors++;
	} else if (!dr_node_get(root, "vms")) {
		dr_diag *g = dr_diag_error(c->d, DR202, dr_node_loc(root), "sim inventory '%s' has no 'vms:' list",
					   path);
		dr_diag_set_hint(g, "write vms: [{name: web-1, tags: {tier: web}}, ...]");
		c->errors++;
	} else {
		add_list(c, dr_node_get(root, "vms"));
	}
	dr_arena_free(a);
}

size_t sim_inventory_load(sim *s, const dr_node *cfg, const char *base_dir, dr_diags *diags)
{
	ictx c = {.s = s, .d = diags};
	const dr_node *file = cfg ? dr_node_get(cfg, "inventory") : NULL;
	const dr_node *vms = cfg ? dr_node_get(cfg, "vms") : NULL;
	if (file)
		add_file(&c, file, base_dir);
	if (vms)
		add_list(&c, vms);
	dr_strmap_dispose(&c.seen);
	return c.errors;
}
