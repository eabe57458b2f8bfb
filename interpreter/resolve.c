/* resolve.c - STUB */
#include "runbook.h"
size_t dr_resolve(dr_runbook *rb, dr_diags *diags, const char *stdlib_dir)
{ (void)rb; (void)diags; (void)stdlib_dir; return 0; }
