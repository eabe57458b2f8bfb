/*
 * modes.h - one runbook, three ways to run it: failover, drill, failback.
 *
 * `drover run` fails over (primary to recovery); `drover failback` (or
 * `drover run --direction failback`) runs the same steps from recovery back
 * to primary; `drover drill` runs them as a test failover: dr.failover
 * becomes dr.test_failover into an isolated network, the steps a drill must
 * not do (DR_AF_SKIP_IN_DRILL: commit, reprotect, shutdown, change of
 * recovery point, cancel) are skipped and reported as skipped, approval
 * gates that only guard skipped steps are skipped too, and a cleanup of
 * every test VM is added to finally: so it runs on every path. After the
 * run the drill asks the backend whether any test VM is left
 * (dr_modes_verify_drill). docs/execution.md ("Modes") is the user's view.
 *
 * The transformation rewrites the compiled runbook in place (its steps and
 * plan live in rb's arena) before the executor sees it; the executor only
 * asks dr_modes_skips() which steps to skip.
 */
#ifndef DR_MODES_H
#define DR_MODES_H

#include <stdbool.h>
#include <stddef.h>

#include "backends/backend.h"
#include "front/runbook.h"
#include "util/buf.h"

typedef enum dr_run_mode {
	DR_MODE_FAILOVER, /* drover run: the real thing */
	DR_MODE_DRILL, /* drover drill: test failover, skip what a drill must not do, always clean up */
	DR_MODE_FAILBACK, /* drover failback: the same steps from recovery back to primary */
} dr_run_mode;

/* "failover", "drill", "failback" (run.mode). */
const char *dr_mode_name(dr_run_mode m);

/* "primary-to-recovery" / "recovery-to-primary" (run.direction); "auto" for AUTO. */
const char *dr_mode_direction_name(dr_be_direction d);

/* The direction a mode runs in unless told otherwise: failback goes back, the others forward. */
dr_be_direction dr_mode_default_direction(dr_run_mode m);

/* The id of the cleanup step a drill adds under finally:. */
#define DR_DRILL_CLEANUP_ID "drill-cleanup"

/* The network test failovers join when nothing else says (drover drill --network). */
#define DR_DRILL_DEFAULT_NETWORK "drover-drill-network"

/*
 * Make rb (compiled without errors) a drill: each dr.failover step becomes
 * a dr.test_failover into network (its recovery_point and direction inputs
 * kept, shutdown_source dropped), and a finally step DR_DRILL_CLEANUP_ID
 * (dr.test_cleanup of every VM set a test failover targets, after the
 * runbook's own finally steps) is added unless the runbook's finally:
 * already cleans up each of those sets. The plan is rebuilt. network may
 * be NULL: the runbook's param drill_network when declared with a default,
 * else DR_DRILL_DEFAULT_NETWORK. Returns 0, or -1 with a sentence in err.
 */
int dr_modes_make_drill(dr_runbook *rb, const char *network, dr_buf *err);

/*
 * The step timeout of st once bound to n_tasks VMs, limit at a time (<= 0:
 * all at once), when it would inherit `inherited` (defaults.timeout; -1:
 * none). For the cleanup a drill adds (DR_DRILL_CLEANUP_ID, which no
 * runbook sets a timeout for) it is sized from what it cleans: 15 minutes
 * to wait out test failovers still running, plus 5 minutes per wave of
 * `limit` VMs, and never less than inherited; no limit stays none. Any other
 * step: inherited. Pure; any thread.
 */
int64_t dr_modes_cleanup_timeout(const dr_step *st, int64_t inherited, size_t n_tasks, int64_t limit);

/*
 * Whether a drill skips the main step at plan index i, and why (a static
 * sentence) in *why: steps whose action is DR_AF_SKIP_IN_DRILL, and
 * approval gates every one of whose dependents is skipped (a go/no-go
 * before commit has nothing to guard in a drill).
 */
bool dr_modes_skips(const dr_runbook *rb, size_t i, const char **why);

/* One test VM (or item in a test failover state) a drill left behind. */
typedef struct dr_drill_leftover {
	const char *vm;
	const char *state; /* dr_backend_state_name */
	const char *test_vm_id; /* NULL when the test VM is gone but the item is not Protected yet */
} dr_drill_leftover;

/*
 * Ask the backend, at now_ms, for items still in a test failover (a test
 * VM exists, or the state is a test failover state), among the VMs named
 * in vms[0..n) (all items when n is 0). Fills *out (in a) and returns how
 * many; -1 when the backend cannot be asked (*err filled).
 */
long dr_modes_verify_drill(dr_backend *be, dr_arena *a, int64_t now_ms, const char *const *vms, size_t n,
			   dr_drill_leftover **out, dr_be_error *err);

#endif
