/* actions/core.c - STUB */
#include "actions/action.h"
#include <string.h>
const dr_action *dr_action_find(const char *name) { (void)name; return NULL; }
