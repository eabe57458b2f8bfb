/*
 * test_sim_helpers.h - what the simulator's unit tests (test_sim*.c) share:
 * opening a sim from YAML text, starting operations, and driving time
 * forward on a virtual clock until a job is done.
 */
#ifndef TEST_SIM_HELPERS_H
#define TEST_SIM_HELPERS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "backends/sim.h"
#include "front/diag.h"
#include "front/load.h"

#define T0 INT64_C(1767225600000) /* 2026-01-01T00:00:00Z, the virtual clock's epoch */
#define MINUTE INT64_C(60000)
#define HOUR (60 * MINUTE)

/* Open a sim from a backend: map written in YAML (NULL: one VM "vm-1"). Diagnostics go to *d_out when given. */
static inline dr_backend *sim_open_opts(const char *yaml, const dr_sim_opts *o, dr_arena *a, dr_diags **d_out,
					dr_be_error *err)
{
	dr_diags *d = dr_diags_new();
	dr_node *cfg = dr_load_string(a, d, "test.yaml", yaml ? yaml : "{kind: sim, vms: [{name: vm-1}]}",
				      strlen(yaml ? yaml : "{kind: sim, vms: [{name: vm-1}]}"), NULL);
	assert_non_null(cfg);
	dr_backend *be = dr_sim_open(cfg, o, a, d, err);
	if (d_out)
		*d_out = d;
	else {
		if (!be)
			dr_diags_render_text(d, stderr, false);
		dr_diags_free(d);
	}
	return be;
}

static inline dr_backend *sim_open(const char *yaml, dr_arena *a)
{
	dr_sim_opts o = {.in_memory = true};
	dr_be_error err;
	dr_backend *be = sim_open_opts(yaml, &o, a, NULL, &err);
	assert_non_null(be);
	return be;
}

/* Start op on item; returns the job id, or NULL with *err. */
static inline const char *sim_start_req(dr_backend *be, dr_arena *a, int64_t t, dr_be_request *req,
					dr_be_error *err)
{
	dr_be_started st;
	if (dr_backend_start(be, a, t, req, &st, err) < 0)
		return NULL;
	return st.job_id;
}

static inline const char *sim_start(dr_backend *be, dr_arena *a, int64_t t, dr_be_op op, const char *item,
				    const char *key, dr_be_error *err)
{
	dr_be_request req = {.op = op, .item_id = item, .idempotency_key = key, .network = "drill-vnet"};
	return sim_start_req(be, a, t, &req, err);
}

/* Poll the job as the executor would (exactly at poll_after_ms) until it is done; *t moves on. */
static inline dr_be_job sim_wait(dr_backend *be, dr_arena *a, int64_t *t, const char *job_id)
{
	dr_be_job j;
	dr_be_error err;
	for (int i = 0; i < 1000; i++) {
		assert_int_equal(dr_backend_get_job(be, a, *t, job_id, &j, &err), 0);
		if (dr_backend_job_done(j.state))
			return j;
		assert_true(j.poll_after_ms > 0);
		*t += j.poll_after_ms;
	}
	fail_msg("job %s never finished", job_id);
	return j;
}

/* Start op and wait for its job; asserts it was accepted. */
static inline dr_be_job sim_run(dr_backend *be, dr_arena *a, int64_t *t, dr_be_op op, const char *item)
{
	dr_be_error err;
	const char *id = sim_start(be, a, *t, op, item, NULL, &err);
	if (!id)
		fail_msg("%s on %s refused: %s: %s", dr_backend_op_name(op), item, err.code, err.message);
	return sim_wait(be, a, t, id);
}

static inline dr_be_item sim_item(dr_backend *be, dr_arena *a, int64_t t, const char *name)
{
	dr_be_item it;
	dr_be_error err;
	assert_int_equal(dr_backend_get_item(be, a, t, name, &it, &err), 0);
	return it;
}

#endif
