/*
 * fuzz_graphdiff.c - libFuzzer target for `drover graph --diff`: the bytes
 * are two runbooks, OLD and NEW, split at the first line "#---8<---" (no
 * such line: OLD is the bytes, NEW the same bytes with every "a" turned
 * into "b", a small edit of names and values). Both are compiled as
 * fuzz_frontend does; when both compile without errors, their plans are
 * compared (dr_graphdiff_new) and the diff printed in every format (Mermaid,
 * DOT, JSON, text) and as the pull-request comment (Markdown) to /dev/null.
 *
 * The promise under test: any two runbooks give a diff; never a crash, a
 * leak, undefined behaviour or a hang. `make fuzz` runs it
 * (tests/fuzz/README.md).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "front/diag.h"
#include "front/load.h"
#include "front/plan.h"
#include "front/runbook.h"
#include "util/arena.h"
#include "fuzz_util.h"
#include "views/diffreport.h"
#include "views/graphdiff.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CUT "\n#---8<---\n"

static char stdlib_dir[4096];
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_path(stdlib_dir, sizeof stdlib_dir, "../../stdlib");
	devnull = fuzz_devnull();
	return 0;
}

/* The runbook in the n bytes at text, with its plan; NULL when it has errors (its arena is freed then). */
static dr_runbook *compile(dr_arena *a, const char *name, const char *text, size_t n)
{
	dr_diags *diags = dr_diags_new();
	dr_node *root = dr_load_string(a, diags, name, text, n, NULL);
	dr_runbook *rb = root ? dr_check(a, diags, root, name) : NULL;
	if (rb) {
		dr_resolve(rb, diags, stdlib_dir);
		rb->plan = dr_plan_build(rb, diags);
	}
	bool ok = rb && rb->plan && !dr_diags_errors(diags);
	dr_diags_free(diags);
	return ok ? rb : NULL;
}

static void diff(dr_runbook *old, dr_runbook *new)
{
	dr_graphdiff *d = dr_graphdiff_new(old->plan, new->plan);
	static const dr_graph_format fmts[] = {DR_GRAPH_MERMAID, DR_GRAPH_DOT, DR_GRAPH_JSON, DR_GRAPH_TEXT};
	for (size_t i = 0; i < sizeof fmts / sizeof fmts[0]; i++)
		dr_graphdiff_print(d, fmts[i], devnull);
	dr_diffreport_input in = {.diff = d, .old = old, .new = new};
	dr_diffreport_markdown(&in, devnull);
	dr_graphdiff_empty(d);
	dr_graphdiff_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *cut = memmem(text, size, CUT, sizeof CUT - 1);
	size_t n_old = cut ? (size_t)(cut - text) : size;
	const char *new_text = cut ? cut + sizeof CUT - 1 : NULL;
	size_t n_new = cut ? size - n_old - (sizeof CUT - 1) : size;
	char *edited = NULL;
	if (!cut) {
		edited = malloc(size + 1);
		if (!edited)
			abort();
		for (size_t i = 0; i < size; i++)
			edited[i] = text[i] == 'a' ? 'b' : text[i];
		new_text = edited;
	}
	dr_arena *ao = dr_arena_new(), *an = dr_arena_new();
	dr_runbook *old = compile(ao, "old.yaml", text, n_old), *new = compile(an, "new.yaml", new_text, n_new);
	if (old && new)
		diff(old, new);
	dr_arena_free(ao);
	dr_arena_free(an);
	free(edited);
	return 0;
}
