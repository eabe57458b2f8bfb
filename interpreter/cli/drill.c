/*
 * drill.c - `drover drill` and `drover failback`: `drover run` in another
 * mode (run.c does the work, modes.h says what each mode changes).
 *
 * A drill runs the runbook as a test failover into an isolated network:
 * commit, reprotect, shutdown and changes of recovery point are skipped and
 * reported as skipped, a cleanup of every test VM runs at the end on every
 * path, and the drill then asks the backend whether any test VM is left
 * (it fails loudly if one is). A failback runs the same runbook from the
 * recovery side back to the primary side.
 */
#include "cli/cli.h"

static int drill_main(int argc, char **argv)
{
	return dr_cli_run_mode(&dr_cmd_drill, DR_MODE_DRILL, argc, argv);
}

static int failback_main(int argc, char **argv)
{
	return dr_cli_run_mode(&dr_cmd_failback, DR_MODE_FAILBACK, argc, argv);
}

#define COMMON_HELP                                                                                                \
	"  -p, --param NAME=VALUE  a parameter (repeatable)\n"                                                   \
	"  -y, --yes               approve every approval gate without asking (recorded in the events)\n"       \
	"  -e, --events FILE       write the event stream (JSON lines) to FILE; - for standard output\n"        \
	"      --clock KIND        real or virtual (default: virtual for the simulator at speed 0, else real)\n" \
	"  -j, --concurrency N     at most N tasks running at once, over all steps\n"                           \
	"      --order ORDER       longest-first or declared: which ready tasks take free slots first\n"        \
	"      --seed N            seed of the retry jitter\n"                                                  \
	"      --state-dir DIR     where runs keep their files (default: $DROVER_STATE_DIR, else .drover)\n"    \
	"      --run-id ID         the run's id: letters, digits, '.', '_' and '-' (at most 128)\n"             \
	"      --grace DURATION    how long running tasks get to stop after SIGINT/SIGTERM (default 30s)\n"     \
	"      --stdlib DIR        where use: finds composites\n"                                               \
	"  -q, --quiet             only the summary (and a line when an approval waits for an answer)\n"       \
	"      --plain             one line per transition even on a terminal\n"                                \
	"  -v, --verbose           also a line for every VM's transition\n"                                     \
	"      --report FILE       when the run ends, write its report to FILE (.json, .xml, .md or .html:\n"   \
	"                          the extension says the format; repeatable), as drover report\n"             \
	"      --metrics FILE      when the run ends, write its outcome as Prometheus metrics\n"               \
	"                          (docs/scheduling.md)\n"                                                     \
	"      --force             start even though an earlier run of this runbook against the same\n"        \
	"                          backend did not finish (a stale run lock; see drover status)\n"              \
	"      --exclude-blocked   run without the VMs the preflight finds blocked (named on the screen, in the\n" \
	"                          events and the journal); other blockers still refuse the run\n"               \
	"      --plan PLAN.json    run exactly a plan drover plan -o saved; refused when anything drifted\n"     \
	"      --plan-max-age D    how old a saved plan may be (default 1h)\n"                                 \
	"      --recovery-point P  every failover's point: a policy, an RFC 3339 time or a point's id\n"       \
	"  -h, --help              show this help\n"

const dr_command dr_cmd_drill = {
	.name = "drill",
	.summary = "Run a runbook as a drill: test failover into an isolated network, validate, always clean up.",
	.usage = "[--network NAME] [--direction failover|failback] [--param NAME=VALUE]... [--yes] [--events FILE|-] "
		 "FILE",
	.help = "Options:\n"
		"      --network NAME      the isolated network the test VMs join (default: the runbook's\n"
		"                          drill_network parameter when it declares one, else drover-drill-network)\n"
		"      --direction DIR     failover (default) or failback: drill the way back to primary\n" COMMON_HELP
		"\nLike drover run, the drill first checks every task it will start (preflight) and refuses a\n"
		"blocked plan with nothing started.\n"
		"What changes: each dr.failover becomes a dr.test_failover into the network; dr.commit,\n"
		"dr.reprotect, dr.shutdown, dr.change_recovery_point and dr.cancel_failover are skipped (and so\n"
		"is an approval that only guards them); validations run against the test VMs; a drill-cleanup\n"
		"step (dr.test_cleanup) is added under finally: so it runs after a failure or a cancellation\n"
		"too. At the end the drill asks the backend whether any test VM is left and fails if one is.\n"
		"Exit status: 0 the drill passed and left nothing, 1 it failed, left test VMs or missed an\n"
		"objective (objectives.enforce: drill, the default), 2 invalid (runbook, parameters, secrets,\n"
		"backend) or a state directory that cannot be written (nothing ran), 3 internal error, 4 cancelled,\n"
		"5 busy (another run holds the lock), 6 stale (an earlier run did not finish and left the lock).\n"
		"docs/execution.md, \"Modes\".\n",
	.main = drill_main,
	.journaled = true,
};

const dr_command dr_cmd_failback = {
	.name = "failback",
	.summary = "Run a runbook from the recovery side back to the primary side (after failover and reprotect).",
	.usage = "[--param NAME=VALUE]... [--yes] [--events FILE|-] [--exclude-blocked] [--plan PLAN.json] "
		 "[--recovery-point POLICY|ID|TIME] FILE",
	.help = "Options:\n" COMMON_HELP
		"\nThe same as drover run --direction failback: every failover goes recovery-to-primary, and\n"
		"target.primary_* and target.recovery_* keep meaning where a VM runs before and after this\n"
		"run's failover (so a validation of ${target.recovery_ip} probes the primary side). The VMs\n"
		"must be Protected in the reverse direction (failed over, committed and reprotected).\n"
		"Exit status as for drover run. docs/execution.md, \"Modes\".\n",
	.main = failback_main,
	.journaled = true,
};
