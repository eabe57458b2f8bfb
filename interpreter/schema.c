/* schema.c - STUB */
#include "schema.h"
#include <string.h>
const dr_type dr_schema_step = {.kind = DR_T_MAP};
const dr_type dr_schema_runbook = {.kind = DR_T_MAP};
const dr_type dr_schema_composite = {.kind = DR_T_MAP};
void dr_schema_print_json(FILE *out) { fputs("{}\n", out); }
