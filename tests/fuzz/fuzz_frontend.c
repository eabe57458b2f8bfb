/*
 * fuzz_frontend.c - libFuzzer target for the whole front end: the bytes are
 * a runbook file, run through load, check, resolve (with the repository's
 * stdlib, so use: expands real composites) and plan, the way
 * dr_runbook_compile() does; the diagnostics are rendered as text (with and
 * without colour) and JSON to /dev/null, then everything is freed.
 *
 * The promise under test: every input gives diagnostics, never a crash, a
 * leak, undefined behaviour or a hang. `make fuzz` builds and runs it
 * (tests/fuzz/README.md).
 *
 * The stdlib directory is $DROVER_STDLIB when set, else <repo>/stdlib,
 * found from this file's path (the Makefile compiles it by absolute path).
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

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *stdlib_dir;
static FILE *devnull;

/* <dir of this file>/../../stdlib, or $DROVER_STDLIB. */
static char *find_stdlib(void)
{
	const char *env = getenv("DROVER_STDLIB");
	if (env && *env)
		return strdup(env);
	const char *self = __FILE__;
	const char *slash = strrchr(self, '/');
	size_t dir = slash ? (size_t)(slash - self) : 0;
	size_t size = dir + sizeof "/../../stdlib";
	char *path = malloc(size);
	if (!path)
		abort();
	snprintf(path, size, "%.*s/../../stdlib", (int)dir, self);
	return path;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	stdlib_dir = find_stdlib();
	devnull = fopen("/dev/null", "w");
	if (!devnull)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dr_diags *diags = dr_diags_new();
	dr_arena *a = dr_arena_new();
	dr_node *root = dr_load_string(a, diags, "fuzz.yaml", (const char *)data, size, NULL);
	if (root) {
		dr_runbook *rb = dr_check(a, diags, root, "fuzz.yaml");
		dr_resolve(rb, diags, stdlib_dir);
		rb->plan = dr_plan_build(rb, diags);
	}
	dr_diags_sort(diags);
	dr_diags_render_text(diags, devnull, false);
	dr_diags_render_text(diags, devnull, true);
	dr_diags_render_json(diags, devnull);
	dr_arena_free(a);
	dr_diags_free(diags);
	return 0;
}
