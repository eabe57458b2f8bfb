/*
 * fuzz_run.c - libFuzzer target for binding and executing a runbook: the
 * bytes are a runbook file, compiled as fuzz_frontend does; one without
 * errors is run (dr_exec_run) on the simulator kept in memory, on the
 * virtual clock, with every approval granted: its inventory and VM sets
 * bound (bind.c), its steps scheduled with their retries, timeouts,
 * failure policies, rollback and finally steps (exec*.c, sched.c), its
 * expressions evaluated at run time, its actions' inputs checked, the
 * events and the screen's plain lines written to /dev/null.
 *
 * Runbooks with actions that block (local programs, the network: exec,
 * check.*, notify.webhook) or another backend than the simulator are left
 * out: a fuzzer must not run programs or reach the network.
 *
 * The promise under test: whatever the runbook, a run ends with a status;
 * never a crash, a leak, undefined behaviour or a hang. `make fuzz` runs it
 * (tests/fuzz/README.md), seeded with the shipped runbooks and the golden
 * cases.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/action.h"
#include "front/diag.h"
#include "front/load.h"
#include "front/plan.h"
#include "front/runbook.h"
#include "run/exec.h"
#include "util/arena.h"
#include "fuzz_util.h"
#include "util/buf.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char stdlib_dir[4096];
static FILE *devnull;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_path(stdlib_dir, sizeof stdlib_dir, "../../stdlib");
	setenv("DROVER_SIM_STATE", ":memory:", 1);
	unsetenv("DROVER_SIM_FAULTS");
	devnull = fuzz_devnull();
	return 0;
}

/* Whether any of the n steps (or their rollback steps) runs a program or goes to the network. */
static bool blocks(const dr_step *st, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!st[i].action || (st[i].action->flags & DR_AF_BLOCKING) || blocks(st[i].rollback, st[i].n_rollback))
			return true;
	return false;
}

static void run(dr_runbook *rb)
{
	dr_exec_opts o;
	dr_exec_opts_init(&o);
	o.clock = DR_CLOCK_VIRTUAL;
	fuzz_quiet(&o, devnull);
	dr_buf err;
	dr_buf_init(&err);
	dr_exec_run(rb, &o, &err);
	dr_buf_dispose(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dr_diags *diags = dr_diags_new();
	dr_arena *a = dr_arena_new();
	dr_node *root = dr_load_string(a, diags, "fuzz.yaml", (const char *)data, size, NULL);
	dr_runbook *rb = root ? dr_check(a, diags, root, "fuzz.yaml") : NULL;
	if (rb) {
		dr_resolve(rb, diags, stdlib_dir);
		rb->plan = dr_plan_build(rb, diags);
	}
	if (rb && !dr_diags_errors(diags) && rb->plan && rb->plan->acyclic && rb->backend.kind == DR_BACKEND_SIM &&
	    !blocks(rb->steps, rb->n_steps) && !blocks(rb->finally_steps, rb->n_finally))
		run(rb);
	dr_arena_free(a);
	dr_diags_free(diags);
	return 0;
}
