/*
 * json_print.h - compact JSON text of a cJSON value, written into a dr_buf
 * without printf for whole numbers (cJSON prints every number with
 * sprintf and checks it with sscanf: most of the cost of a large document
 * such as the simulator's state, or of a journal).
 */
#ifndef DR_JSON_PRINT_H
#define DR_JSON_PRINT_H

#include "util/buf.h"

struct cJSON;

/*
 * Append v as compact JSON, the text cJSON_PrintUnformatted gives but for
 * whole numbers (below 2^53 in magnitude: decimal digits by hand, never an
 * exponent) and strings (escaped by dr_buf_json_escape). Fractions go
 * through cJSON's printer. Any thread.
 */
void dr_json_print(dr_buf *out, const struct cJSON *v);

/* Append s as a JSON string, quotes included. */
void dr_json_put_string(dr_buf *out, const char *s);

/* Append n as decimal digits. */
void dr_json_put_whole(dr_buf *out, long long n);

#endif
