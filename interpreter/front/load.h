/*
 * load.h - stage 1: YAML bytes to a node tree that remembers positions.
 *
 * Only load.c includes <yaml.h>; after load nothing sees YAML types. Every
 * node carries its 1-based line and column. Aliases are resolved by sharing:
 * an alias node is the anchored node itself (so a tree may be a DAG); the
 * loader bounds the expanded size, so walking it is safe. Merge keys ("<<")
 * are applied at load time. Plain scalars keep their text; typing (int,
 * bool, null) is decided by the dr_node_as_* helpers with YAML 1.2 core
 * schema rules, so "yes" is a string and 010 is decimal 10.
 */
#ifndef DR_LOAD_H
#define DR_LOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "front/diag.h"
#include "util/arena.h"

typedef enum dr_node_kind { DR_NODE_SCALAR, DR_NODE_MAP, DR_NODE_SEQ } dr_node_kind;

typedef enum dr_scalar_style {
	DR_STYLE_PLAIN,
	DR_STYLE_SINGLE, /* 'quoted' */
	DR_STYLE_DOUBLE, /* "quoted" */
	DR_STYLE_LITERAL, /* | */
	DR_STYLE_FOLDED, /* > */
} dr_scalar_style;

typedef struct dr_node dr_node;
struct dr_template;

typedef struct dr_pair {
	dr_node *key; /* always a scalar */
	dr_node *value;
} dr_pair;

/*
 * 32 bytes a node: a big runbook is millions of them (a 50,000-step file is
 * 550,000), so the layout is packed - the file is an index into the loader's
 * table of file names (dr_node_file), a scalar's end is its span on its
 * first line, kind and style are bit-fields, and a scalar's compiled
 * template sits in front of its text (dr_node_template).
 */
struct dr_node {
	union {
		struct {
			const char *str; /* NUL-terminated, may contain NUL only if len says so */
			uint32_t len;
			/*
			 * Set by the loader for dr_node_loc_at (0 = unknown, e.g. a node
			 * made by hand): for block scalars the 1-based column of the
			 * content; for the others how many leading bytes of str sit on
			 * the node's first line where load.c's model puts them.
			 */
			int32_t src_map;
		} scalar;
		struct {
			dr_pair *items;
			size_t n;
		} map;
		struct {
			dr_node **items;
			size_t n;
		} seq;
	} u;
	int line, col; /* 1-based start */
	int span; /* scalars: columns from col to the node's end when it ends on its first line, else -1 */
	uint16_t file_id; /* dr_node_file; 0: none */
	dr_node_kind kind : 2;
	dr_scalar_style style : 3; /* scalars */
	bool templated : 1; /* dr_node_set_template gave it a template */
};

typedef struct dr_load_limits {
	size_t max_file_bytes; /* default 8 MiB */
	size_t max_expanded_nodes; /* default 4,000,000 (alias bomb guard) */
	size_t max_depth; /* default 200 */
} dr_load_limits;

extern const dr_load_limits dr_load_default_limits;

/*
 * Load the YAML file at path into a - the tree and all its strings live in
 * the arena. Problems go to diags (codes DR1xx, DR901); the file's text is
 * registered with diags for caret rendering. Returns the root node, or NULL
 * when the file could not be loaded at all (DR101, DR103, DR105, DR107,
 * DR108, DR110, DR901); after the other load diagnostics the tree is
 * returned with the offending part dropped, so later stages still report.
 * limits may be NULL: the defaults, except that the environment variable
 * DROVER_LOAD_MAX_BYTES (a decimal byte count) overrides max_file_bytes -
 * for tests, so a golden case need not commit a huge file.
 */
dr_node *dr_load_file(dr_arena *a, dr_diags *diags, const char *path, const dr_load_limits *limits);

/*
 * dr_load_file (default limits) of a file another file names: when path
 * cannot be opened or read, its DR901 points at named_by, the node that
 * names it (file:line:col of e.g. an inventory: key's value), not at path.
 */
dr_node *dr_load_file_named(dr_arena *a, dr_diags *diags, const char *path, const dr_node *named_by);

/* The same for text already in memory; name is used in positions. */
dr_node *dr_load_string(dr_arena *a, dr_diags *diags, const char *name, const char *text, size_t len,
			const dr_load_limits *limits);

/*
 * The file a node was loaded from (NULL for a node made by hand without
 * one). Names live in one table for the process (interned: each distinct
 * name once, never freed); any thread.
 */
const char *dr_node_file(const dr_node *n);
/* Give n the file name file (interned; NULL: none). Any thread. */
void dr_node_set_file(dr_node *n, const char *file);

/* The compiled template of scalar n (resolve's), or NULL: a literal, a collection, not compiled yet. */
const struct dr_template *dr_node_template(const dr_node *n);
/*
 * Give scalar n its compiled template t (NULL: none). The pointer is kept
 * in front of a copy of n's text made in a (once per node; n->u.scalar.str
 * then points at the copy, the same text). One thread per node.
 */
void dr_node_set_template(dr_arena *a, dr_node *n, const struct dr_template *t);

/* A dr_loc covering the node (for scalars: its text; for collections: their first line). */
dr_loc dr_node_loc(const dr_node *n);

/*
 * A dr_loc for byte offset off (length len) inside a scalar's value: exact
 * for plain and quoted scalars on one line without escapes before off;
 * otherwise the best line the loader can tell.
 */
dr_loc dr_node_loc_at(const dr_node *n, size_t off, size_t len);

/* Mapping lookup by key; NULL when absent or n is not a map. */
dr_node *dr_node_get(const dr_node *n, const char *key);
/* The pair for key (to get the key's own position); NULL when absent. */
const dr_pair *dr_node_get_pair(const dr_node *n, const char *key);

/* Scalar typing, YAML 1.2 core schema. Each returns false when n is not of that type. */
bool dr_node_is_null(const dr_node *n);
bool dr_node_as_bool(const dr_node *n, bool *out);
bool dr_node_as_int(const dr_node *n, int64_t *out);
bool dr_node_as_number(const dr_node *n, double *out);
/* Any scalar's text (including numbers and booleans as written); NULL for collections. */
const char *dr_node_str(const dr_node *n);
/* "string", "integer", "number", "boolean", "null", "mapping", "list": for messages. */
const char *dr_node_type_name(const dr_node *n);

#endif
