/*
 * util/json_print.c - compact JSON text of a cJSON value (json_print.h).
 */
#include "util/json_print.h"

#include <math.h>
#include <stdbool.h>
#include <string.h>

#include <cjson/cJSON.h>

void dr_json_put_string(dr_buf *out, const char *s)
{
	dr_buf_putc(out, '"');
	dr_buf_json_escape(out, s, strlen(s));
	dr_buf_putc(out, '"');
}

void dr_json_put_whole(dr_buf *out, long long n)
{
	char d[24];
	size_t k = sizeof d;
	unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
	do
		d[--k] = (char)('0' + u % 10);
	while ((u /= 10));
	if (n < 0)
		d[--k] = '-';
	dr_buf_append(out, d + k, sizeof d - k);
}

static void put_container(dr_buf *out, const cJSON *v)
{
	bool obj = cJSON_IsObject(v);
	dr_buf_putc(out, obj ? '{' : '[');
	for (const cJSON *c = v->child; c; c = c->next) {
		if (c != v->child)
			dr_buf_putc(out, ',');
		if (obj) {
			dr_json_put_string(out, c->string ? c->string : "");
			dr_buf_putc(out, ':');
		}
		dr_json_print(out, c);
	}
	dr_buf_putc(out, obj ? '}' : ']');
}

void dr_json_print(dr_buf *out, const cJSON *v)
{
	if (cJSON_IsString(v)) {
		dr_json_put_string(out, v->valuestring);
	} else if (cJSON_IsNumber(v) && v->valuedouble == floor(v->valuedouble) && fabs(v->valuedouble) < 9007199254740992.0) {
		dr_json_put_whole(out, (long long)v->valuedouble);
	} else if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
		put_container(out, v);
	} else if (cJSON_IsTrue(v) || cJSON_IsFalse(v) || cJSON_IsNull(v)) {
		dr_buf_puts(out, cJSON_IsTrue(v) ? "true" : cJSON_IsFalse(v) ? "false" : "null");
	} else { /* a fraction, or what only cJSON knows how to print */
		char *s = cJSON_PrintUnformatted(v);
		dr_buf_puts(out, s ? s : "null");
		cJSON_free(s);
	}
}
