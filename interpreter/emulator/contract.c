/*
 * emulator/contract.c - the OpenAPI (Swagger 2.0) checker of contract.h.
 *
 * Loading parses the file once with cJSON and builds two indexes: the
 * operations by method with their path templates split into segments, and
 * for each definition the definitions that extend it through allOf (so a
 * discriminator value finds its subtype without walking all 600
 * definitions). Checking walks the schema and the value together; every
 * problem is a sentence with the JSON path where it is ("body.properties.
 * failoverDirection"). Nothing is written to the loaded tree, so checks run
 * concurrently.
 */
#include "emulator/contract.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "backends/backend.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/xalloc.h"

#define MAX_SEGS 24
#define MAX_DEPTH 64

typedef struct op {
	const char *method; /* "get", "post", ... */
	const char *path;
	const cJSON *node;
	char *copy; /* the path, cut into segs */
	const char *segs[MAX_SEGS];
	size_t n_segs, literals;
} op;

typedef struct def {
	const char *name;
	const cJSON *schema;
	size_t *children; /* definitions whose allOf names this one */
	size_t n_children;
} def;

struct dr_contract {
	cJSON *root;
	cJSON *builtins; /* the common types the file refers to outside itself */
	char *version;
	op *ops;
	size_t n_ops;
	def *defs; /* sorted by name */
	size_t n_defs;
};

/* Azure's common types (resource-management v5), as far as this contract uses them. */
static const char builtins_json[] =
	"{\"ProxyResource\":{\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\",\"readOnly\":true},"
	"\"name\":{\"type\":\"string\",\"readOnly\":true},\"type\":{\"type\":\"string\",\"readOnly\":true},"
	"\"systemData\":{\"type\":\"object\",\"readOnly\":true}}},"
	"\"ErrorResponse\":{\"type\":\"object\",\"properties\":{\"error\":{\"type\":\"object\"}}},"
	"\"ApiVersionParameter\":{\"name\":\"api-version\",\"in\":\"query\",\"required\":true,\"type\":\"string\","
	"\"minLength\":1},"
	"\"SubscriptionIdParameter\":{\"name\":\"subscriptionId\",\"in\":\"path\",\"required\":true,\"type\":"
	"\"string\",\"format\":\"uuid\"},"
	"\"ResourceGroupNameParameter\":{\"name\":\"resourceGroupName\",\"in\":\"path\",\"required\":true,"
	"\"type\":\"string\",\"minLength\":1,\"maxLength\":90}}";

/* ---- loading ------------------------------------------------------------------------------------ */

static int by_name(const void *a, const void *b)
{
	return strcmp(((const def *)a)->name, ((const def *)b)->name);
}

static const def *find_def(const dr_contract *c, const char *name)
{
	def key = {.name = name};
	return bsearch(&key, c->defs, c->n_defs, sizeof *c->defs, by_name);
}

static void split(op *o)
{
	char *save = NULL;
	o->copy = xstrdup(o->path);
	for (char *s = strtok_r(o->copy, "/", &save); s && o->n_segs < MAX_SEGS; s = strtok_r(NULL, "/", &save)) {
		o->segs[o->n_segs++] = s;
		o->literals += s[0] != '{';
	}
}

static void index_ops(dr_contract *c, const cJSON *paths)
{
	size_t n = 0;
	for (const cJSON *p = paths ? paths->child : NULL; p; p = p->next)
		n += (size_t)cJSON_GetArraySize(p);
	c->ops = xcalloc(n + 1, sizeof *c->ops);
	for (const cJSON *p = paths ? paths->child : NULL; p; p = p->next)
		for (const cJSON *m = p->child; m; m = m->next) {
			op *o = &c->ops[c->n_ops++];
			o->method = m->string;
			o->path = p->string;
			o->node = m;
			split(o);
		}
}

static const char *local_ref(const cJSON *schema)
{
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(schema, "$ref");
	if (!cJSON_IsString(r))
		return NULL;
	const char *hash = strrchr(r->valuestring, '/');
	return hash ? hash + 1 : r->valuestring;
}

static void add_child(def *parent, size_t child)
{
	parent->children = xrealloc(parent->children, (parent->n_children + 1) * sizeof *parent->children);
	parent->children[parent->n_children++] = child;
}

static void index_defs(dr_contract *c, const cJSON *defs)
{
	c->defs = xcalloc((size_t)cJSON_GetArraySize(defs) + 1, sizeof *c->defs);
	for (const cJSON *d = defs ? defs->child : NULL; d; d = d->next)
		c->defs[c->n_defs++] = (def){.name = d->string, .schema = d};
	qsort(c->defs, c->n_defs, sizeof *c->defs, by_name);
	for (size_t i = 0; i < c->n_defs; i++) {
		const cJSON *all = cJSON_GetObjectItemCaseSensitive(c->defs[i].schema, "allOf");
		for (const cJSON *a = all ? all->child : NULL; a; a = a->next) {
			const char *name = local_ref(a);
			def *parent = name ? (def *)find_def(c, name) : NULL;
			if (parent)
				add_child(parent, i);
		}
	}
}

dr_contract *dr_contract_load(const char *path, char *err, size_t errsz)
{
	dr_buf text;
	dr_buf_init(&text);
	if (dr_fs_read_all(path, 0, &text) < 0) {
		snprintf(err, errsz, "cannot read the contract '%s': %s", path, strerror(errno));
		dr_buf_dispose(&text);
		return NULL;
	}
	cJSON *root = cJSON_ParseWithLength(text.data, text.len);
	dr_buf_dispose(&text);
	const cJSON *sw = cJSON_GetObjectItemCaseSensitive(root, "swagger");
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "info"), "version");
	if (!cJSON_IsString(sw) || strcmp(sw->valuestring, "2.0") != 0 || !cJSON_IsString(ver)) {
		snprintf(err, errsz, "the contract '%s' is not an OpenAPI 2.0 (Swagger) document with info.version",
			 path);
		cJSON_Delete(root);
		return NULL;
	}
	dr_contract *c = xcalloc(1, sizeof *c);
	c->root = root;
	c->builtins = cJSON_Parse(builtins_json);
	c->version = xstrdup(ver->valuestring);
	index_ops(c, cJSON_GetObjectItemCaseSensitive(root, "paths"));
	index_defs(c, cJSON_GetObjectItemCaseSensitive(root, "definitions"));
	return c;
}

void dr_contract_free(dr_contract *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_ops; i++)
		free(c->ops[i].copy);
	for (size_t i = 0; i < c->n_defs; i++)
		free(c->defs[i].children);
	free(c->ops);
	free(c->defs);
	free(c->version);
	cJSON_Delete(c->builtins);
	cJSON_Delete(c->root);
	free(c);
}

const char *dr_contract_version(const dr_contract *c)
{
	return c->version;
}

/* ---- problems --------------------------------------------------------------------------------------- */

typedef struct vctx {
	const dr_contract *c;
	dr_arena *a;
	dr_contract_result *out;
	size_t cap;
	bool response; /* checking an answer: readOnly properties are expected */
} vctx;

__attribute__((format(printf, 3, 4))) static void problem(vctx *v, const char *where, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = dr_arena_vprintf(v->a, fmt, ap);
	va_end(ap);
	if (v->out->n_problems == v->cap) {
		size_t cap = v->cap ? v->cap * 2 : 4;
		v->out->problems = dr_arena_grow(v->a, v->out->problems, v->cap, cap, sizeof *v->out->problems);
		v->cap = cap;
	}
	v->out->problems[v->out->n_problems++] = dr_arena_printf(v->a, "%s: %s", where, msg);
}

/* ---- schemas ---------------------------------------------------------------------------------------- */

/* The schema a $ref names (local or a known common type); NULL for an unknown external one. */
static const cJSON *resolve(const vctx *v, const cJSON *s, const char **name)
{
	for (int hops = 0; s && hops < 16; hops++) {
		const char *ref = local_ref(s);
		if (!ref)
			return s;
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(s, "$ref");
		const def *d = strncmp(r->valuestring, "#/definitions/", 14) == 0 ? find_def(v->c, ref) : NULL;
		*name = ref;
		s = d ? d->schema : cJSON_GetObjectItemCaseSensitive(v->c->builtins, ref);
	}
	return s;
}

static const char *str_of(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void check(vctx *v, const cJSON *schema, const cJSON *value, const char *where, int depth);

/* The subtype of base (index) whose discriminator value is value; -1 when none. Depth-first over children. */
static long find_subtype(const dr_contract *c, const def *base, const char *value, int depth)
{
	for (size_t i = 0; i < base->n_children && depth < MAX_DEPTH; i++) {
		const def *d = &c->defs[base->children[i]];
		const char *dv = str_of(d->schema, "x-ms-discriminator-value");
		if (strcmp(dv ? dv : d->name, value) == 0)
			return (long)base->children[i];
		long deeper = find_subtype(c, d, value, depth + 1);
		if (deeper >= 0)
			return deeper;
	}
	return -1;
}

static void list_subtypes(const dr_contract *c, const def *base, dr_buf *b, int depth)
{
	for (size_t i = 0; i < base->n_children && depth < MAX_DEPTH && b->len < 400; i++) {
		const def *d = &c->defs[base->children[i]];
		const char *dv = str_of(d->schema, "x-ms-discriminator-value");
		dr_buf_printf(b, "%s%s", b->len ? ", " : "", dv ? dv : d->name);
		list_subtypes(c, d, b, depth + 1);
	}
}

/* Validate value against the subtype its discriminator names. True when handled (valid or not). */
static bool discriminate(vctx *v, const cJSON *s, const char *name, const cJSON *value, const char *where,
			 int depth)
{
	const char *prop = str_of(s, "discriminator");
	const char *dv = prop && name ? str_of(value, prop) : NULL;
	const char *own = name ? str_of(s, "x-ms-discriminator-value") : NULL;
	const def *base = name ? find_def(v->c, name) : NULL;
	if (!dv || !base || strcmp(dv, own ? own : name) == 0)
		return false;
	long sub = find_subtype(v->c, base, dv, 0);
	if (sub >= 0) {
		check(v, v->c->defs[sub].schema, value, where, depth + 1);
		return true;
	}
	dr_buf b;
	dr_buf_init(&b);
	list_subtypes(v->c, base, &b, 0);
	problem(v, dr_arena_printf(v->a, "%s.%s", where, prop), "'%s' is not a subtype of %s (%s)", dv, name,
		b.data ? b.data : "none");
	dr_buf_dispose(&b);
	return true;
}

/* The properties and required names of s and of everything its allOf brings in. */
typedef struct shape {
	const cJSON *props[32];
	const cJSON *required[32];
	const cJSON *additional;
	size_t n_props, n_required;
	const char *type;
} shape;

static void gather(const vctx *v, const cJSON *s, shape *sh, int depth)
{
	const char *name = NULL;
	s = resolve(v, s, &name);
	if (!s || depth > MAX_DEPTH)
		return;
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(s, "properties");
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(s, "required");
	const cJSON *add = cJSON_GetObjectItemCaseSensitive(s, "additionalProperties");
	if (p && sh->n_props < 32)
		sh->props[sh->n_props++] = p;
	if (r && sh->n_required < 32)
		sh->required[sh->n_required++] = r;
	if (add)
		sh->additional = add;
	if (!sh->type)
		sh->type = str_of(s, "type");
	const cJSON *all = cJSON_GetObjectItemCaseSensitive(s, "allOf");
	for (const cJSON *a = all ? all->child : NULL; a; a = a->next)
		gather(v, a, sh, depth + 1);
}

static const cJSON *shape_prop(const shape *sh, const char *key)
{
	for (size_t i = 0; i < sh->n_props; i++) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(sh->props[i], key);
		if (p)
			return p;
	}
	return NULL;
}

static void prop_names(const shape *sh, dr_buf *b)
{
	for (size_t i = 0; i < sh->n_props; i++)
		for (const cJSON *p = sh->props[i]->child; p && b->len < 300; p = p->next)
			dr_buf_printf(b, "%s%s", b->len ? ", " : "", p->string);
}

static void check_object(vctx *v, const shape *sh, const cJSON *value, const char *where, int depth)
{
	for (size_t i = 0; i < sh->n_required; i++)
		for (const cJSON *r = sh->required[i]->child; r; r = r->next) {
			const cJSON *got = cJSON_GetObjectItemCaseSensitive(value, r->valuestring);
			if (!got || cJSON_IsNull(got))
				problem(v, where, "the required property '%s' is missing", r->valuestring);
		}
	for (const cJSON *m = value->child; m; m = m->next) {
		const char *at = dr_arena_printf(v->a, "%s.%s", where, m->string);
		const cJSON *ps = shape_prop(sh, m->string);
		if (ps) {
			check(v, ps, m, at, depth + 1);
		} else if (cJSON_IsObject(sh->additional)) {
			check(v, sh->additional, m, at, depth + 1);
		} else if (!cJSON_IsTrue(sh->additional)) {
			dr_buf b;
			dr_buf_init(&b);
			prop_names(sh, &b);
			problem(v, at, "no such property (the schema has: %s)", b.data ? b.data : "none");
			dr_buf_dispose(&b);
		}
	}
}

static bool uuid_shaped(const char *s)
{
	static const int dash[] = {8, 13, 18, 23};
	if (strlen(s) != 36)
		return false;
	for (int i = 0, d = 0; i < 36; i++) {
		if (d < 4 && i == dash[d]) {
			if (s[i] != '-')
				return false;
			d++;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

static void check_string(vctx *v, const cJSON *s, const cJSON *value, const char *where)
{
	const char *fmt = str_of(s, "format"), *str = value->valuestring;
	const cJSON *en = cJSON_GetObjectItemCaseSensitive(s, "enum");
	const cJSON *minl = cJSON_GetObjectItemCaseSensitive(s, "minLength");
	const cJSON *maxl = cJSON_GetObjectItemCaseSensitive(s, "maxLength");
	int64_t ms;
	size_t n = strlen(str);
	if (fmt && strcmp(fmt, "date-time") == 0 && !dr_backend_parse_time(str, &ms))
		problem(v, where, "'%s' is not a date-time (RFC 3339)", str);
	if (fmt && strcmp(fmt, "uuid") == 0 && !uuid_shaped(str))
		problem(v, where, "'%s' is not a UUID", str);
	if (cJSON_IsNumber(minl) && (double)n < minl->valuedouble)
		problem(v, where, "shorter than %d characters", minl->valueint);
	if (cJSON_IsNumber(maxl) && (double)n > maxl->valuedouble)
		problem(v, where, "longer than %d characters", maxl->valueint);
	if (!en)
		return;
	dr_buf b;
	dr_buf_init(&b);
	for (const cJSON *e = en->child; e; e = e->next) {
		if (cJSON_IsString(e) && strcmp(e->valuestring, str) == 0)
			goto out;
		dr_buf_printf(&b, "%s%s", b.len ? ", " : "", cJSON_IsString(e) ? e->valuestring : "?");
	}
	problem(v, where, "'%s' is not one of: %s", str, b.data ? b.data : "");
out:
	dr_buf_dispose(&b);
}

static void check_number(vctx *v, const cJSON *s, const char *type, const cJSON *value, const char *where)
{
	const char *fmt = str_of(s, "format");
	double d = value->valuedouble;
	if (strcmp(type, "integer") == 0 && d != floor(d))
		problem(v, where, "%g is not an integer", d);
	if (fmt && strcmp(fmt, "int32") == 0 && (d < -2147483648.0 || d > 2147483647.0))
		problem(v, where, "%g is out of the int32 range", d);
}

static const char *json_type(const cJSON *v)
{
	return cJSON_IsObject(v) ? "an object" : cJSON_IsArray(v) ? "an array" : cJSON_IsString(v) ? "a string"
	       : cJSON_IsNumber(v) ? "a number" : cJSON_IsBool(v) ? "a boolean" : "null";
}

static bool type_ok(const char *type, const cJSON *value)
{
	if (strcmp(type, "object") == 0) return cJSON_IsObject(value);
	if (strcmp(type, "array") == 0) return cJSON_IsArray(value);
	if (strcmp(type, "string") == 0) return cJSON_IsString(value);
	if (strcmp(type, "integer") == 0 || strcmp(type, "number") == 0) return cJSON_IsNumber(value);
	if (strcmp(type, "boolean") == 0) return cJSON_IsBool(value);
	return true;
}

static void check_typed(vctx *v, const cJSON *s, const shape *sh, const cJSON *value, const char *where, int depth)
{
	const char *type = sh->type ? sh->type : sh->n_props ? "object" : NULL;
	if (!type)
		return;
	if (!type_ok(type, value)) {
		problem(v, where, "expected %s %s, not %s", strchr("aeiou", type[0]) ? "an" : "a", type,
			json_type(value));
		return;
	}
	if (strcmp(type, "object") == 0)
		check_object(v, sh, value, where, depth);
	else if (strcmp(type, "string") == 0)
		check_string(v, s, value, where);
	else if (strcmp(type, "integer") == 0 || strcmp(type, "number") == 0)
		check_number(v, s, type, value, where);
	else if (strcmp(type, "array") == 0) {
		const cJSON *items = cJSON_GetObjectItemCaseSensitive(s, "items");
		int i = 0;
		for (const cJSON *e = value->child; e && items; e = e->next, i++)
			check(v, items, e, dr_arena_printf(v->a, "%s[%d]", where, i), depth + 1);
	}
}

static void check(vctx *v, const cJSON *schema, const cJSON *value, const char *where, int depth)
{
	const char *name = NULL;
	const cJSON *s = resolve(v, schema, &name);
	if (!s || cJSON_IsNull(value) || depth > MAX_DEPTH)
		return; /* an unknown external type, or null: "not given" */
	if (cJSON_IsObject(value) && discriminate(v, s, name, value, where, depth))
		return;
	shape sh = {0};
	gather(v, s, &sh, 0);
	check_typed(v, s, &sh, value, where, depth);
}

size_t dr_contract_check_definition(const dr_contract *c, dr_arena *a, const char *definition, const char *json,
				    size_t len, const char *where, dr_contract_result *out)
{
	vctx v = {.c = c, .a = a, .out = out};
	memset(out, 0, sizeof *out);
	const def *d = find_def(c, definition);
	cJSON *value = cJSON_ParseWithLength(json, len);
	if (!d)
		problem(&v, where, "the contract has no definition '%s'", definition);
	else if (!value)
		problem(&v, where, "not JSON");
	else
		check(&v, d->schema, value, where, 0);
	cJSON_Delete(value);
	return out->n_problems;
}

/* ---- operations ------------------------------------------------------------------------------------ */

static const char *next_seg(const char **p, size_t *n)
{
	while (**p == '/')
		(*p)++;
	const char *s = *p;
	while (**p && **p != '/')
		(*p)++;
	*n = (size_t)(*p - s);
	return *n ? s : NULL;
}

/* The operation for method and path, and the path's segments (values of the template's parameters). */
static const op *match(const dr_contract *c, const char *method, const char *path, const char **vals,
		       size_t *lens)
{
	const op *best = NULL;
	const char *segs[MAX_SEGS];
	size_t lens_here[MAX_SEGS], n = 0, len;
	for (const char *p = path, *s; n < MAX_SEGS && (s = next_seg(&p, &len)); n++)
		segs[n] = s, lens_here[n] = len;
	for (size_t i = 0; i < c->n_ops; i++) {
		const op *o = &c->ops[i];
		bool ok = o->n_segs == n && strcasecmp(o->method, method) == 0;
		for (size_t k = 0; ok && k < n; k++)
			ok = o->segs[k][0] == '{' ||
			     (strlen(o->segs[k]) == lens_here[k] && strncasecmp(o->segs[k], segs[k], lens_here[k]) == 0);
		if (ok && (!best || o->literals > best->literals))
			best = o;
	}
	for (size_t k = 0; best && k < n; k++)
		vals[k] = segs[k], lens[k] = lens_here[k];
	return best;
}

static const cJSON *param(vctx *v, const cJSON *p)
{
	const char *name = NULL;
	return resolve(v, p, &name);
}

static const char *path_value(const op *o, const char *name, const char **vals, const size_t *lens, dr_arena *a)
{
	for (size_t k = 0; k < o->n_segs; k++)
		if (o->segs[k][0] == '{' && strncmp(o->segs[k] + 1, name, strlen(name)) == 0 &&
		    o->segs[k][strlen(name) + 1] == '}')
			return dr_arena_strndup(a, vals[k], lens[k]);
	return NULL;
}

static bool rg_char_ok(const char *s)
{
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("-_.()", *s) && !((unsigned char)*s & 0x80))
			return false;
	return true;
}

static const char *path_or_empty(const char *s)
{
	return s ? s : "";
}

static void check_path_param(vctx *v, const cJSON *p, const char *value)
{
	const char *name = path_or_empty(str_of(p, "name"));
	const char *where = dr_arena_printf(v->a, "path.%s", name);
	cJSON *s = cJSON_CreateString(value);
	if (!*value)
		problem(v, where, "empty");
	check_string(v, p, s, where);
	if (strcmp(name, "resourceGroupName") == 0 && !rg_char_ok(value))
		problem(v, where, "'%s' has characters a resource group name can't have", value);
	cJSON_Delete(s);
}

static const char *query_value(const char *name, const char *const *qk, const char *const *qv, size_t nq)
{
	for (size_t i = 0; i < nq; i++)
		if (strcmp(qk[i], name) == 0)
			return qv[i];
	return NULL;
}

static bool declared(vctx *v, const cJSON *params, const char *name)
{
	for (const cJSON *p = params ? params->child : NULL; p; p = p->next) {
		const cJSON *r = param(v, p);
		if (r && str_of(r, "in") && strcmp(str_of(r, "in"), "query") == 0 && strcmp(str_of(r, "name"), name) == 0)
			return true;
	}
	return strcmp(name, "skipToken") == 0 || strcmp(name, "$skipToken") == 0;
}

static void check_query(vctx *v, const cJSON *params, const cJSON *p, const char *const *qk,
			const char *const *qv, size_t nq)
{
	const char *name = path_or_empty(str_of(p, "name")), *val = query_value(name, qk, qv, nq);
	const char *where = dr_arena_printf(v->a, "query.%s", name);
	if (!val) {
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "required")))
			problem(v, where, "the required query parameter is missing");
		return;
	}
	if (strcmp(name, "api-version") == 0 && strcmp(val, v->c->version) != 0)
		problem(v, where, "'%s' is not the contract's version %s", val, v->c->version);
	(void)params;
}

static void check_body(vctx *v, const cJSON *p, const char *body, size_t len)
{
	const char *where = "body";
	if (!body || !len) {
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "required")))
			problem(v, where, "the operation requires a body (%s)",
				local_ref(cJSON_GetObjectItemCaseSensitive(p, "schema")) ? local_ref(cJSON_GetObjectItemCaseSensitive(p, "schema")) : "JSON");
		return;
	}
	cJSON *value = cJSON_ParseWithLength(body, len);
	if (!value)
		problem(v, where, "not JSON");
	else
		check(v, cJSON_GetObjectItemCaseSensitive(p, "schema"), value, where, 0);
	cJSON_Delete(value);
}

size_t dr_contract_check_request(const dr_contract *c, dr_arena *a, const char *method, const char *path,
				 const char *const *qk, const char *const *qv, size_t nq, const char *body,
				 size_t body_len, dr_contract_result *out)
{
	vctx v = {.c = c, .a = a, .out = out};
	const char *vals[MAX_SEGS];
	size_t lens[MAX_SEGS];
	bool has_body = false;
	memset(out, 0, sizeof *out);
	const op *o = match(c, method, path, vals, lens);
	if (!o)
		return 0;
	out->operation_id = str_of(o->node, "operationId");
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(o->node, "parameters");
	for (const cJSON *pp = params ? params->child : NULL; pp; pp = pp->next) {
		const cJSON *p = param(&v, pp);
		const char *in = p ? str_of(p, "in") : NULL;
		if (!in)
			continue;
		if (strcmp(in, "path") == 0)
			check_path_param(&v, p, path_or_empty(path_value(o, str_of(p, "name"), vals, lens, a)));
		else if (strcmp(in, "query") == 0)
			check_query(&v, params, p, qk, qv, nq);
		else if (strcmp(in, "body") == 0)
			has_body = true, check_body(&v, p, body, body_len);
	}
	for (size_t i = 0; i < nq; i++)
		if (!declared(&v, params, qk[i]))
			problem(&v, dr_arena_printf(a, "query.%s", qk[i]), "the operation has no such parameter");
	if (!has_body && body && body_len)
		problem(&v, "body", "the operation takes no body");
	return out->n_problems;
}

size_t dr_contract_check_response(const dr_contract *c, dr_arena *a, const char *method, const char *path,
				  int status, const char *body, size_t body_len, dr_contract_result *out)
{
	vctx v = {.c = c, .a = a, .out = out, .response = true};
	const char *vals[MAX_SEGS];
	size_t lens[MAX_SEGS];
	char code[16];
	memset(out, 0, sizeof *out);
	const op *o = match(c, method, path, vals, lens);
	if (!o) {
		problem(&v, "path", "no operation of the contract serves %s %s", method, path);
		return out->n_problems;
	}
	out->operation_id = str_of(o->node, "operationId");
	snprintf(code, sizeof code, "%d", status);
	const cJSON *resps = cJSON_GetObjectItemCaseSensitive(o->node, "responses");
	const cJSON *r = cJSON_GetObjectItemCaseSensitive(resps, code);
	if (!r && status < 400) {
		problem(&v, "status", "%d is not a status the operation declares", status);
		return out->n_problems;
	}
	const cJSON *schema = cJSON_GetObjectItemCaseSensitive(r ? r : cJSON_GetObjectItemCaseSensitive(resps, "default"),
							       "schema");
	if (!schema || !body || !body_len)
		return out->n_problems;
	cJSON *value = cJSON_ParseWithLength(body, body_len);
	if (!value)
		problem(&v, "body", "not JSON");
	else
		check(&v, schema, value, "body", 0);
	cJSON_Delete(value);
	return out->n_problems;
}
