/*
 * params.c - typing --param values by the runbook's declarations (see
 * params.h). The same rules type a default written in the runbook, so a
 * default and a --param of the same text give the same value.
 */
#include "front/params.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "util/text.h"
#include "util/xalloc.h"

static const char *const type_names[] = {
	[DR_PARAM_STRING] = "string", [DR_PARAM_INT] = "int",		 [DR_PARAM_NUMBER] = "number",
	[DR_PARAM_BOOL] = "bool",     [DR_PARAM_DURATION] = "duration",
};

const char *dr_param_type_name(dr_param_type t)
{
	return type_names[t];
}

static bool parse_int(const char *s, double *out)
{
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno)
		return false;
	*out = (double)v;
	return true;
}

static bool parse_number(const char *s, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (!*s || *end || errno || !isfinite(v))
		return false;
	*out = v;
	return true;
}

/* The value of text s as type t, or NULL with *why set. */
static cJSON *typed(dr_param_type t, const char *s, const char **why)
{
	double num;
	int64_t ms;
	size_t bad;
	switch (t) {
	case DR_PARAM_INT:
		if (parse_int(s, &num))
			return cJSON_CreateNumber(num);
		*why = "is not an integer";
		return NULL;
	case DR_PARAM_NUMBER:
		if (parse_number(s, &num))
			return cJSON_CreateNumber(num);
		*why = "is not a number";
		return NULL;
	case DR_PARAM_BOOL:
		if (!strcmp(s, "true") || !strcmp(s, "false"))
			return cJSON_CreateBool(!strcmp(s, "true"));
		*why = "is not true or false";
		return NULL;
	case DR_PARAM_DURATION:
		if (dr_text_parse_duration(s, &ms, &bad))
			return cJSON_CreateString(s);
		*why = "is not a duration like 30s, 5m or 1h30m";
		return NULL;
	case DR_PARAM_STRING:
	default:
		return cJSON_CreateString(s);
	}
}

static bool in_enum(const dr_param *p, const char *s)
{
	if (!p->choices)
		return true;
	for (size_t i = 0; p->choices[i]; i++)
		if (!strcmp(p->choices[i], s))
			return true;
	return false;
}

static void enum_list(dr_buf *b, const dr_param *p)
{
	for (size_t i = 0; p->choices[i]; i++)
		dr_buf_printf(b, "%s%s", i ? ", " : "", p->choices[i]);
}

static const char **param_names(const dr_runbook *rb)
{
	const char **names = xcalloc(rb->n_params + 1, sizeof *names);
	for (size_t i = 0; i < rb->n_params; i++)
		names[i] = rb->params[i].name.name;
	return names;
}

static size_t unknown(const dr_runbook *rb, const char *name, dr_buf *err)
{
	const char **names = param_names(rb);
	const char *near = dr_text_suggest(name, names);
	dr_buf_printf(err, "--param %s: the runbook has no parameter '%s'", name, name);
	if (near)
		dr_buf_printf(err, "; did you mean '%s'?", near);
	else if (!rb->n_params)
		dr_buf_puts(err, " (it declares none)");
	dr_buf_putc(err, '\n');
	free(names);
	return 1;
}

/* Bind one NAME=VALUE; returns the number of problems (0 or 1). A declared NAME goes into given, even with a bad value. */
static size_t bind_one(const dr_runbook *rb, const char *kv, cJSON *out, cJSON *given, dr_buf *err)
{
	const char *eq = strchr(kv, '=');
	if (!eq || eq == kv) {
		dr_buf_printf(err, "--param '%s': expected NAME=VALUE\n", kv);
		if (dr_runbook_param(rb, kv) && !cJSON_HasObjectItem(given, kv))
			cJSON_AddNullToObject(given, kv);
		return 1;
	}
	char *name = xstrndup(kv, (size_t)(eq - kv));
	if (dr_runbook_param(rb, name) && !cJSON_HasObjectItem(given, name))
		cJSON_AddNullToObject(given, name);
	const char *val = eq + 1, *why = NULL;
	const dr_param *p = dr_runbook_param(rb, name);
	size_t bad = 0;
	cJSON *v = NULL;
	if (!p) {
		bad = unknown(rb, name, err);
	} else if (cJSON_HasObjectItem(out, name)) {
		dr_buf_printf(err, "--param %s is given twice\n", name);
		bad = 1;
	} else if (!(v = typed(p->type, val, &why))) {
		dr_buf_printf(err, "--param %s=%s: '%s' %s (parameter '%s' is of type %s)\n", name, val, val, why, name,
			      type_names[p->type]);
		bad = 1;
	} else if (!in_enum(p, val)) {
		dr_buf_printf(err, "--param %s=%s: '%s' must be one of: ", name, val, name);
		enum_list(err, p);
		dr_buf_putc(err, '\n');
		cJSON_Delete(v);
		bad = 1;
	} else {
		cJSON_AddItemToObject(out, name, v);
	}
	free(name);
	return bad;
}

static size_t bind_default(const dr_param *p, cJSON *out, dr_buf *err)
{
	const char *why = NULL;
	if (!p->default_value) {
		dr_buf_printf(err, "missing --param %s=VALUE: parameter '%s' (%s) has no default\n", p->name.name,
			      p->name.name, type_names[p->type]);
		return 1;
	}
	const char *text = dr_node_str(p->default_value);
	cJSON *v = text ? typed(p->type, text, &why) : NULL;
	if (!v) {
		dr_buf_printf(err, "the default of parameter '%s' is not a valid %s\n", p->name.name, type_names[p->type]);
		return 1;
	}
	cJSON_AddItemToObject(out, p->name.name, v);
	return 0;
}

size_t dr_params_bind(const dr_runbook *rb, const char *const *kv, size_t n, cJSON **out, dr_buf *err)
{
	size_t problems = 0;
	cJSON *o = cJSON_CreateObject(), *given = cJSON_CreateObject();
	for (size_t i = 0; i < n; i++)
		problems += bind_one(rb, kv[i], o, given, err);
	for (size_t i = 0; i < rb->n_params; i++) /* a value given but wrong is one problem, not also a missing one */
		if (!cJSON_HasObjectItem(given, rb->params[i].name.name))
			problems += bind_default(&rb->params[i], o, err);
	cJSON_Delete(given);
	/* Declaration order, whatever order --param came in. */
	cJSON *sorted = cJSON_CreateObject();
	for (size_t i = 0; i < rb->n_params; i++) {
		cJSON *v = cJSON_DetachItemFromObjectCaseSensitive(o, rb->params[i].name.name);
		if (v)
			cJSON_AddItemToObject(sorted, rb->params[i].name.name, v);
	}
	cJSON_Delete(o);
	*out = sorted;
	return problems;
}
