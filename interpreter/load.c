/* load.c - STUB: replaced by the loader implementation. */
#include "load.h"
const dr_load_limits dr_load_default_limits = {8u << 20, 4000000, 200};
dr_node *dr_load_file(dr_arena *a, dr_diags *diags, const char *path, const dr_load_limits *limits)
{ (void)a; (void)diags; (void)path; (void)limits; return NULL; }
