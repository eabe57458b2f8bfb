/*
 * params.h - run-time parameter values: `--param NAME=VALUE` typed by the
 * runbook's params: declarations, defaults for the rest.
 */
#ifndef DR_PARAMS_H
#define DR_PARAMS_H

#include <stddef.h>

#include "front/runbook.h"
#include "util/buf.h"

struct cJSON;

/*
 * Bind kv[0..n) ("NAME=VALUE" each) and the defaults into *out, a new
 * object {NAME: value}: strings, numbers (int and number), booleans
 * (true/false); durations stay text ("30s"). Each problem is one line in
 * err naming the parameter and its type: a malformed pair, an unknown name
 * (with a suggestion), a value of the wrong type or outside the enum, a
 * required parameter without a value (not also for one given with a wrong
 * value), a name given twice. Returns the
 * number of problems; *out is set either way (the caller frees it).
 */
size_t dr_params_bind(const dr_runbook *rb, const char *const *kv, size_t n, struct cJSON **out, dr_buf *err);

/* "string", "int", "number", "bool", "duration". */
const char *dr_param_type_name(dr_param_type t);

#endif
