/*
 * preflight.h - what a run would do to each VM, and everything that would
 * stop it, decided before anything is touched.
 *
 * The one place where a runbook is bound to the items a backend protects
 * and checked against them: `drover plan` draws its view from it
 * (views/planview.c), and `drover run`, `drill`, `failback` and `resume`
 * refuse a blocked plan with it before their first mutating call
 * (docs/execution.md, "Preflight"). It speaks only the backend interface
 * (backends/backend.h): list_items and list_points, nothing that changes
 * the service.
 *
 * Two stages. dr_preflight_bind lists the items, resolves every vm_set
 * (its expect: counts are blockers) and each step's VMs; the executor runs
 * on that binding. dr_preflight_check then walks each VM through the
 * plan's dr.* operations in the order they would start (the service's
 * allowed operations first, then the protection state machine of
 * docs/backends.md), picks the recovery point of its first failover by the
 * policy (its fallbacks, max_age), and checks the test network of each
 * test failover. A resumed run checks only what has not started
 * (dr_preflight_opts.task).
 *
 * What only the run can know is not a blocker. A step's when: is evaluated
 * per VM where the plan can read it (params, a composite's inputs, the
 * target's name, tags and the state the walk predicts): false skips the
 * operation; when it reads anything else, the step is assumed to run but
 * its refusal does not block. A step with on_failure: continue is refused
 * without blocking either. A point given as ${...} of something other
 * than the parameters is chosen when the failover starts, and a VM whose
 * operation is in flight (resume) is settled by its probe.
 *
 * Cost: linear in VMs, steps and the sum of the steps' VMs; one list_points
 * call per VM that fails over. Memory: everything in the caller's arena.
 */
#ifndef DR_PREFLIGHT_H
#define DR_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions/action.h"
#include "backends/backend.h"
#include "front/plan.h"
#include "front/runbook.h"
#include "run/bind.h"
#include "run/modes.h"
#include "util/arena.h"
#include "util/buf.h"

struct cJSON;

#define DR_PF_NO_VM ((size_t)-1)

/* Why a plan cannot run as written. */
typedef enum dr_blocker_kind {
	DR_BLOCK_VM_SET, /* a set binds to a number of VMs its expect: refuses */
	DR_BLOCK_STATE, /* the service would refuse an operation in the VM's state or direction */
	DR_BLOCK_RPO, /* no recovery point satisfies the policy, its fallbacks and max_age */
	DR_BLOCK_NETWORK, /* a test failover has no isolated network to join */
	DR_BLOCK_BACKEND, /* the service could not be asked (an item's recovery points) */
	DR_BLOCK__COUNT
} dr_blocker_kind;

/* "vm_set", "state", "rpo", "network", "backend" (the view's and events' "kind"). */
const char *dr_preflight_kind_name(dr_blocker_kind k);

typedef struct dr_blocker {
	dr_blocker_kind kind;
	size_t vm; /* inventory index; DR_PF_NO_VM when it is not one VM's */
	size_t node; /* plan index of the step it is about; (size_t)-1 when none */
	const char *message; /* a sentence naming the VM, as drover plan prints it */
} dr_blocker;

/* One operation of a VM's walk. */
typedef struct dr_pf_op {
	size_t node; /* plan index of its step */
	dr_be_op op;
	dr_be_state from, to; /* to: meaningless when refused */
	const char *refused; /* why the service would refuse it; NULL: allowed */
	bool tolerated; /* refused, but not a blocker (the walk goes on): on_failure: continue, or conditional */
	bool conditional; /* its step's when: reads what only the run knows: it may not run at all */
	size_t next; /* the VM's next op (index into dr_preflight.ops); DR_PF_NO_VM: last */
} dr_pf_op;

/* What the policy picks for a VM's first failover (or a drill's test failover). */
typedef enum dr_pf_verdict {
	DR_PF_NO_POINT, /* the plan does not fail this VM over (or refuses before it does) */
	DR_PF_POINT_OK,
	DR_PF_POINT_TOO_OLD, /* the policy's point, and every fallback's, is older than max_age */
	DR_PF_POINT_NONE, /* no point fits the policy nor any fallback */
	DR_PF_POINT_NOT_REPLICATING, /* not protected now: its points exist only later (e.g. after reprotect) */
	DR_PF_POINT_AT_RUN_TIME, /* the policy is only known when the failover starts */
	DR_PF_POINT_NO_POLICY, /* recovery.point is known, and no policy: the failover would be refused (a blocker) */
} dr_pf_verdict;

/* "", "ok", "too_old", "none", "not_replicating", "at_run_time", "no_policy". */
const char *dr_preflight_verdict_name(dr_pf_verdict v);

typedef struct dr_pf_point {
	dr_pf_verdict verdict;
	size_t node; /* the failover step */
	dr_point_policy policy; /* the policy that picked it (a fallback's when fell_back) */
	dr_point_policy asked; /* the policy asked first */
	bool fell_back;
	bool override; /* the run's --recovery-point decided it */
	bool pinned; /* a saved plan's point (dr_preflight_opts.pins) decided it */
	const dr_be_point *point; /* NULL: none, or latest (pending data) */
	const char *point_id; /* what the failover would pass (dr_be_choice.point_id); NULL for latest */
	int64_t time_ms, age_ms, max_age_ms; /* max_age -1: no guard */
	bool no_policy; /* NO_POLICY: the runbook's recovery.point gives text that is no policy (one plan blocker says so) */
	const char *note; /* AT_RUN_TIME, NO_POLICY: why; else what the choice left out (undated points) */
	size_t undated; /* points the service listed without a time (dr_be_point.time_ms -1): never chosen */
	const char *error; /* NONE because the backend could not list the points: its error (a DR_BLOCK_BACKEND) */
} dr_pf_point;

typedef struct dr_pf_vm {
	bool in_plan; /* a member of some vm_set */
	bool blocked; /* a blocker names it */
	bool unsettled; /* resume: an operation of it is in flight; nothing after it was checked */
	size_t first_op, last_op; /* its walk (dr_preflight.ops); DR_PF_NO_VM: none */
	size_t refused_op; /* the first operation the service would refuse, not tolerated (its walk stops there); DR_PF_NO_VM: none */
	bool walked; /* it has operations and none was refused */
	dr_be_state ends_in; /* the state the walk ends in (walked) */
	dr_pf_point point;
} dr_pf_vm;

/* How far a task of a resumed run got (dr_preflight_opts.task). */
typedef enum dr_pf_task {
	DR_PF_TASK_TO_START, /* it will make a call: check it */
	DR_PF_TASK_DONE, /* it ended (its effect is in the item's state now): skip it */
	DR_PF_TASK_IN_FLIGHT, /* its call may be half-way: its probe decides; the VM's later ops are not checked */
} dr_pf_task;

/*
 * An incident decision that overrides the runbook's recovery point policy
 * for every failover (--recovery-point): a policy, a point's id or name, or
 * a time (the newest point at or before it).
 */
typedef struct dr_point_override {
	bool present;
	dr_point_policy policy; /* a named policy, or DR_POINT_CUSTOM with id or time */
	const char *id;
	int64_t time_ms;
	const char *text; /* as given */
} dr_point_override;

typedef struct dr_preflight_opts {
	dr_run_mode mode;
	dr_be_direction direction;
	const struct cJSON *params; /* typed parameter values (dr_params_bind) */
	int64_t now_ms; /* Unix ms the run starts at (the caller's clock) */
	const dr_point_override *point; /* NULL or !present: the runbook's policy */
	/* a saved plan's points: per inventory VM, the point (id or name) its first failover uses; NULL: none */
	const char *const *pins;
	/* resume: how far the task of plan node `node` on VM `vm` (DR_PF_NO_VM: not fanned out) got; NULL: none started */
	dr_pf_task (*task)(void *ctx, size_t node, size_t vm);
	void *ctx;
} dr_preflight_opts;

/* An arena of the preflight's that can be let go before its own (preflight.c). */
typedef struct dr_pf_sub dr_pf_sub;

typedef struct dr_preflight {
	const dr_runbook *rb;
	const dr_plan *plan;
	dr_backend *be;
	dr_arena *a;
	dr_pf_sub *listed, *checked; /* the items as listed; the last check's results (dr_preflight_compact) */
	int64_t service_now; /* the service's time for now_ms (a simulator may run ahead) */
	/* the binding (dr_preflight_bind) */
	dr_be_item *items; /* what the backend protects, in its order */
	dr_vm *vms; /* the same, as the executor's inventory */
	size_t n;
	bool borrowed; /* vms' strings are the listing's (dr_preflight_bind_view), else copies in a */
	dr_binding bind;
	size_t **step_vms; /* per plan node: its VMs (inventory indexes, ascending) */
	size_t *n_step_vms;
	size_t *order; /* plan nodes in the order they would start: main steps by wave, then finally */
	/* the check (dr_preflight_check) */
	dr_pf_vm *vm; /* per inventory item */
	dr_pf_op *ops;
	size_t n_ops, cap_ops;
	dr_blocker *blockers; /* vm_set first, then per VM in inventory order, then per step */
	size_t n_blockers, cap_blockers;
	size_t n_blocked_vms;
	dr_arena *scratch; /* during a check: each VM's point listing, emptied once its choice is kept */
	struct { /* the runbook's point policy (dr_preflight_runbook_policy), worked out once per check */
		bool done, known;
		bool no_policy; /* recovery.point's text is no policy (a misspelt value) */
		dr_be_point_query q;
		const char *why;
	} policy;
} dr_preflight;

/*
 * List the items be protects at now_ms and bind rb (compiled without
 * errors; a drill already made) to them into pf (zeroed by this call):
 * vm_sets (expect: failures become DR_BLOCK_VM_SET blockers), each plan
 * node's VMs, the start order. Returns 0, or -1 with a sentence appended to
 * err when the backend cannot list its items. Everything lives in a, and is
 * freed with it; the items as listed and the check's results in arenas of
 * their own, which dr_preflight_compact frees earlier.
 */
int dr_preflight_bind(dr_preflight *pf, dr_arena *a, const dr_runbook *rb, dr_backend *be, int64_t now_ms,
		      dr_buf *err);

/*
 * dr_preflight_bind for a check that is read and let go (a plan view):
 * pf->vms borrow the strings of the items as listed instead of copies in a
 * (11 strings a VM). They live as long as the listing: until
 * dr_preflight_compact, which copies them into a before it lets the
 * listing go, so a compacted pf is the same whichever bind made it.
 */
int dr_preflight_bind_view(dr_preflight *pf, dr_arena *a, const dr_runbook *rb, dr_backend *be, int64_t now_ms,
			   dr_buf *err);

/*
 * Ask the backend again for the items of pf (bound earlier) as they are at
 * now_ms: their states, active sides, allowed operations and jobs (a
 * resumed run binds at its start and checks after its replay). Items are
 * matched by id; one the backend no longer lists keeps what it had.
 * Returns 0, or -1 with a sentence appended to err.
 */
int dr_preflight_refresh(dr_preflight *pf, int64_t now_ms, dr_buf *err);

/*
 * Walk every VM of pf (bound by dr_preflight_bind) through the plan as o
 * says, pick each failover's recovery point and collect the blockers into
 * pf. Backend errors while listing points are blockers (DR_BLOCK_BACKEND),
 * never C errors. Call it once per pf.
 */
void dr_preflight_check(dr_preflight *pf, const dr_preflight_opts *o);

/*
 * A run past its check keeps only what it goes on with: the VMs (pf->vms,
 * their strings in pf->a), the binding, each step's VMs and the start
 * order. The items as listed and the check's results (pf->items, vm, ops,
 * blockers) are freed: about 1.9 KB a VM, 19 MB at 10,000 VMs. They read
 * NULL (and dr_preflight_runnable true) afterwards; no other dr_preflight_*
 * may be called but dr_preflight_exclude.
 */
void dr_preflight_compact(dr_preflight *pf);

/* True when the check found nothing that stops the run. */
bool dr_preflight_runnable(const dr_preflight *pf);

/*
 * True when every blocker is one VM's (state, rpo, backend): then the run
 * may go on without those VMs (--exclude-blocked). vm_set and network
 * blockers are never excused.
 */
bool dr_preflight_excusable(const dr_preflight *pf);

/*
 * Remove the VMs excluded[0..n) (inventory indexes) from pf's binding: from
 * every vm_set's members and every step's VMs, so no task is made for them.
 */
void dr_preflight_exclude(dr_preflight *pf, const size_t *excluded, size_t n);

/*
 * The runbook's recovery policy with ${params...} evaluated (or the
 * override), into *q (max_age included: -1 without recovery:). False with
 * a sentence in *why (in a) when it is not known before the run.
 */
bool dr_preflight_runbook_policy(const dr_runbook *rb, const struct cJSON *params, const dr_point_override *ov,
				 dr_arena *a, dr_be_point_query *q, const char **why);

/*
 * Parse --recovery-point's value: a policy name, an RFC 3339 time, or
 * anything else as a point's id or name. Returns false (nothing filled) for
 * an empty value. text is kept (not copied).
 */
bool dr_preflight_parse_override(const char *text, dr_point_override *out);

#endif
