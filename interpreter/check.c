/* check.c - STUB */
#include "runbook.h"
dr_runbook *dr_check(dr_arena *a, dr_diags *diags, const dr_node *root, const char *path)
{
	(void)diags;
	if (!root)
		return NULL;
	dr_runbook *rb = dr_arena_alloc(a, sizeof *rb);
	rb->arena = a;
	rb->path = path;
	rb->root = root;
	return rb;
}
