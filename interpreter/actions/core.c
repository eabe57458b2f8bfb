/* actions/core.c - STUB */
#include "actions/action.h"
#include <string.h>
const dr_action *dr_action_find(const char *name) { (void)name; return NULL; }
/* STUB (lead): until table.c exists */
static const char *const no_names[] = {NULL};
const char *const *dr_action_names(void) { return no_names; }
const dr_action *const *dr_action_all(size_t *n) { *n = 0; return NULL; }
void dr_action_print_markdown(FILE *out) { (void)out; }
