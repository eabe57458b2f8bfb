/*
 * actions/dr_int.h - private to the dr.* action files:
 *
 *   dr.c        the rows: names, input schemas, flags, undo, outputs doc
 *   dr_run.c    the operations (failover, test failover, cleanup, change
 *               of recovery point, commit, cancel, reprotect, shutdown):
 *               start a job through the backend, poll it with WAIT, turn
 *               its end into outputs or a failure; their resume probes
 *   dr_point.c  the recovery point policy at the moment of the operation
 *               (the runbook's recovery:, a step's recovery_point, the RPO
 *               guard max_age and the fallback policies)
 *   dr_probe.c  dr.probe: is the VM up (and healthy, and its port open)
 *
 * Nothing outside interpreter/actions/ includes this header.
 */
#ifndef DR_ACTIONS_DR_INT_H
#define DR_ACTIONS_DR_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "actions/action.h"
#include "backends/backend.h"
#include "util/arena.h"

/* dr_run.c: run, cancel and probe of each operation row. */
#define DR_OP_FUNCS(name)                                                                                          \
	dr_outcome dr_##name##_run(dr_call *call);                                                                   \
	dr_probe_result dr_##name##_probe(dr_call *call);
DR_OP_FUNCS(failover)
DR_OP_FUNCS(test_failover)
DR_OP_FUNCS(test_cleanup)
DR_OP_FUNCS(change_point)
DR_OP_FUNCS(commit)
DR_OP_FUNCS(cancel_failover)
DR_OP_FUNCS(reprotect)
DR_OP_FUNCS(shutdown)
#undef DR_OP_FUNCS
void dr_op_cancel(dr_call *call);

/* dr_probe.c: dr.probe. */
dr_outcome dr_vm_probe_run(dr_call *call);
void dr_vm_probe_cancel(dr_call *call);

/* The recovery point an operation uses, as dr_point_choose found it (strings in the caller's arena). */
typedef struct dr_point_pick {
	const char *point_id; /* for dr_be_request.point_id; NULL: latest (the service processes pending data) */
	const char *policy; /* the policy that chose it: "latest-processed", "custom", ... */
	const char *type; /* "CrashConsistent", "ApplicationConsistent", or "Latest" */
	int64_t time_ms; /* the point's time (service time); latest: estimated from the replication lag */
	int64_t age_ms; /* how old it was when chosen, against the reference time */
	bool fallback; /* a fallback policy of recovery: chose it (the primary one gave nothing usable) */
	int64_t retry_after_ms; /* no choice because the service did not answer: its Retry-After; -1 when none */
} dr_point_pick;

/*
 * Choose the recovery point for op (FAILOVER, TEST_FAILOVER, CHANGE_POINT)
 * on item at now_ms (the caller's clock, as every backend call takes it;
 * ages are measured on the service's, dr_backend_now): call's with.recovery_point when
 * given, else the runbook's recovery: (point, id or time, evaluated when
 * it is ${...}), then each recovery.fallback in turn; every choice must
 * pass the RPO guard recovery.max_age. For a change of recovery point,
 * ages count from the failover's start (the data lost is what the VM
 * misses from then) and `latest` is the newest point the item still has.
 * Returns 0 with *out filled, or -1 with *msg (heap: what was asked, what
 * was found, why it does not do) and *cls (permanent, except when the
 * service could not be asked: then out->retry_after_ms is its Retry-After).
 */
int dr_point_choose(dr_call *call, dr_backend *be, dr_arena *a, const dr_be_item *item, dr_be_op op,
		    int64_t now_ms, dr_point_pick *out, char **msg, dr_err_class *cls);

/* When the item's newest succeeded failover started (service time), asked at now_ms (caller's); fallback when none. */
int64_t dr_point_failover_start(dr_backend *be, dr_arena *a, const char *item_id, int64_t now_ms, int64_t fallback);

/* The executor's class for a backend error class. */
dr_err_class dr_op_errclass(dr_be_errclass c);

#endif
