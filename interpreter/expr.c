/* expr.c - STUB */
#include "expr.h"
dr_template *dr_template_parse(dr_arena *a, dr_diags *diags, const dr_node *scalar)
{ (void)a; (void)diags; (void)scalar; return NULL; }
