/*
 * runbook.c - the front end in one call: load, check, resolve, plan.
 */
#include "front/runbook.h"

#include <string.h>

#include "front/plan.h"

dr_runbook *dr_runbook_compile(const char *path, dr_diags *diags, const char *stdlib_dir)
{
	dr_arena *a = dr_arena_new();
	dr_node *root = dr_load_file(a, diags, path, NULL);
	if (!root) {
		dr_arena_free(a);
		return NULL;
	}
	dr_runbook *rb = dr_check(a, diags, root, path);
	dr_resolve(rb, diags, stdlib_dir);
	rb->plan = dr_plan_build(rb, diags);
	dr_diags_sort(diags);
	return rb;
}

dr_loc dr_ref_loc(const dr_ref *r)
{
	return r && r->node ? dr_node_loc(r->node) : (dr_loc){0};
}

void dr_runbook_free(dr_runbook *rb)
{
	if (rb)
		dr_arena_free(rb->arena);
}

dr_step *dr_runbook_step(const dr_runbook *rb, const char *id)
{
	for (size_t i = 0; i < rb->n_steps; i++)
		if (strcmp(rb->steps[i].id.name, id) == 0)
			return &rb->steps[i];
	for (size_t i = 0; i < rb->n_finally; i++)
		if (strcmp(rb->finally_steps[i].id.name, id) == 0)
			return &rb->finally_steps[i];
	return NULL;
}

const dr_vm_set *dr_runbook_vm_set(const dr_runbook *rb, const char *name)
{
	for (size_t i = 0; i < rb->n_vm_sets; i++)
		if (strcmp(rb->vm_sets[i].name.name, name) == 0)
			return &rb->vm_sets[i];
	return NULL;
}

const dr_param *dr_runbook_param(const dr_runbook *rb, const char *name)
{
	for (size_t i = 0; i < rb->n_params; i++)
		if (strcmp(rb->params[i].name.name, name) == 0)
			return &rb->params[i];
	return NULL;
}

const dr_secret *dr_runbook_secret(const dr_runbook *rb, const char *name)
{
	for (size_t i = 0; i < rb->n_secrets; i++)
		if (strcmp(rb->secrets[i].name.name, name) == 0)
			return &rb->secrets[i];
	return NULL;
}

/* ---- recovery point policies ---------------------------------------------------- */

static const char *const point_policy_names[] = {
	[DR_POINT_LATEST] = "latest",
	[DR_POINT_LATEST_PROCESSED] = "latest-processed",
	[DR_POINT_LATEST_APP_CONSISTENT] = "latest-app-consistent",
	[DR_POINT_LATEST_CRASH_CONSISTENT] = "latest-crash-consistent",
	[DR_POINT_CUSTOM] = "custom",
	[DR_POINT_FROM_EXPR] = "",
};

const char *dr_point_policy_name(dr_point_policy p)
{
	return point_policy_names[p];
}

const char *dr_enforce_name(dr_enforce e)
{
	static const char *const names[] = {[DR_ENFORCE_DRILL] = "drill", [DR_ENFORCE_ALWAYS] = "always",
					    [DR_ENFORCE_NEVER] = "never"};
	return names[e];
}

bool dr_point_policy_parse(const char *s, dr_point_policy *out)
{
	for (int i = DR_POINT_LATEST; s && i <= DR_POINT_CUSTOM; i++)
		if (strcmp(s, point_policy_names[i]) == 0) {
			*out = (dr_point_policy)i;
			return true;
		}
	return false;
}
