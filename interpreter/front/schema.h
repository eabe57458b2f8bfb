/*
 * schema.h - the runbook schema as data.
 *
 * One table describes every key of the format: its type, whether it is
 * required, its default, its allowed range or choices, and its doc string.
 * The checker (check.c), `drover schema` (JSON Schema draft-07), the docs and
 * the action input schemas all read these tables, so they cannot drift.
 */
#ifndef DR_SCHEMA_H
#define DR_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef enum dr_type_kind {
	DR_T_ANY, /* anything */
	DR_T_STRING,
	DR_T_INT,
	DR_T_NUMBER,
	DR_T_BOOL,
	DR_T_DURATION, /* "30s", "1h30m" */
	DR_T_ENUM, /* a string out of enum_values */
	DR_T_REGEX, /* a PCRE2 pattern, compiled at check time */
	DR_T_TIMESTAMP, /* RFC 3339 */
	DR_T_ID, /* an identifier: [a-z0-9][a-z0-9_-]* */
	DR_T_PERCENT_OR_INT, /* 3 or "10%" */
	DR_T_MAP, /* fixed keys: fields */
	DR_T_DICT, /* free keys (identifiers unless key_any), each value of type items */
	DR_T_SEQ, /* a list of items */
	DR_T_ONEOF, /* the first alternative whose shape matches (scalar/map/seq) */
} dr_type_kind;

/* Type flags. */
enum {
	DR_TF_EXPR = 1u << 0, /* the value may be a ${...} expression evaluated at run time */
	DR_TF_NONEMPTY = 1u << 1, /* strings, lists and maps must not be empty */
	DR_TF_KEY_ANY = 1u << 2, /* DICT: keys are free text, not identifiers */
	DR_TF_URL = 1u << 3, /* STRING: a URL requested under the HTTP rules (DR221 when its scheme and host as written would be refused) */
	DR_TF_CREDENTIAL_KEYS = 1u << 4, /* DICT: a literal value under a credential's name (Authorization, *TOKEN*, *PASSWORD*...) is a DR216 warning */
};

typedef struct dr_field dr_field;

typedef struct dr_type {
	dr_type_kind kind;
	unsigned flags;
	const dr_field *fields; /* MAP: terminated by a field with name == NULL */
	const struct dr_type *items; /* SEQ element, DICT value */
	const char *const *enum_values; /* ENUM: NULL-terminated */
	const struct dr_type *const *alts; /* ONEOF: NULL-terminated */
	int64_t min, max; /* INT, DURATION (ms), NUMBER (as integers): bounds when min < max */
	const char *doc; /* for the JSON Schema and docs when the type stands alone */
} dr_type;

struct dr_field {
	const char *name;
	const dr_type *type;
	bool required;
	const char *default_text; /* as it would be written in YAML, or NULL */
	const char *doc;
};

/* The root of a runbook file (drover: 1 ... steps: ...). */
extern const dr_type dr_schema_runbook;
/* The root of a stdlib composite action file (drover: 1, composite: NAME ...). */
extern const dr_type dr_schema_composite;
/* One step (used by both roots, by finally: and rollback:). */
extern const dr_type dr_schema_step;

/* Find a field of a MAP type by name; NULL when absent. */
const dr_field *dr_schema_field(const dr_type *map, const char *name);

/*
 * Collect the field names of a MAP type into out (NULL-terminated, at most
 * cap-1 names) for "did you mean" suggestions. Returns the count.
 */
size_t dr_schema_field_names(const dr_type *map, const char **out, size_t cap);

/* Print the JSON Schema (draft-07) for runbook files to out, pretty, ending in a newline. */
void dr_schema_print_json(FILE *out);

/*
 * Print the key reference of the format as Markdown (one section and table
 * per mapping type: key, type, default, description) to out; this is the
 * generated part of docs/language.md.
 */
void dr_schema_print_markdown(FILE *out);

/*
 * backend: is a tagged union on `kind`. dr_schema_backend_base() is the MAP
 * type holding only `kind` (its enum lists the kinds); dr_schema_backend()
 * gives the full option map of one kind ("sim", "azure"), or NULL.
 */
const dr_type *dr_schema_backend_base(void);
const dr_type *dr_schema_backend(const char *kind);

#endif
