/*
 * estimate.h - `drover plan --estimate`: run the plan on the simulator and
 * the virtual clock, and say how long it would take.
 *
 * The run happens on the backend the plan opened read-only (the simulator
 * then changes only its in-memory copy and never writes its state file),
 * on the virtual clock, with every approval granted, in a throw-away state
 * directory. From its events come the predicted RTO (run start to the last
 * validation passing), the makespan (run start to the end of its last main
 * step) and the critical path: the chain of tasks, each started by the end
 * of the one before (what it needed, or the concurrency slot it waited
 * for), that ends at the task deciding the RTO.
 */
#ifndef DR_ESTIMATE_H
#define DR_ESTIMATE_H

#include <stddef.h>

#include "backends/backend.h"
#include "views/planview.h"
#include "front/runbook.h"

struct cJSON;

/*
 * Run rb on be (a simulated backend opened read-only) with o's mode,
 * direction and parameters, and add "estimate" to view: status, rto_ms,
 * makespan_ms, objectives, critical_path [{task, start_ms, end_ms, via}],
 * when a task fails first_failure {task, step, at_ms, class, message} and
 * when the run stops stopped (why), or "error" when it cannot (not a
 * simulator, a system error).
 */
void dr_estimate_add(dr_runbook *rb, dr_backend *be, const dr_planview_opts *o, struct cJSON *view);

/*
 * The same figures from an event stream (JSON lines, as --events writes
 * them) and rb's plan: a new object (the caller frees it). Shared with
 * `drover report`-like tools and the benchmark.
 */
struct cJSON *dr_estimate_from_events(const dr_runbook *rb, const char *events, size_t len);

#endif
