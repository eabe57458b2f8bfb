/*
 * run.c - `drover run`: compile a runbook, bind its parameters and run it.
 *
 * The runbook is checked first, exactly as `drover validate` does: with an
 * error nothing runs (exit 2). Parameter problems are usage errors (exit
 * 2). Then the executor runs the plan; the exit status is the run's
 * (dr_exec_exit_code: 0 succeeded, 1 failed or rolled back, 3 internal
 * error, 4 cancelled, 5 busy, 6 stale).
 *
 * Where things go: the events (--events FILE, or - for stdout) as JSON
 * lines; the human view on stdout, or on stderr when the events take
 * stdout; diagnostics and errors on stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "run/exec.h"
#include "run/planfile.h"
#include "front/params.h"
#include "front/runbook.h"
#include "util/fs.h"
#include "util/text.h"

static int run_main(int argc, char **argv);

const dr_command dr_cmd_run = {
	.name = "run",
	.summary = "Run a runbook: its steps, retries, rollbacks, approvals and finally steps.",
	.usage = "[--param NAME=VALUE]... [--yes] [--events FILE|-] [--clock real|virtual] [--concurrency N] "
		 "[--order declared|longest-first] [--seed N] [--state-dir DIR] [--exclude-blocked] [--plan PLAN.json "
		 "[--plan-max-age DURATION]] [--recovery-point POLICY|ID|TIME] [--report FILE] [--metrics FILE] FILE",
	.help = "Options:\n"
		"  -p, --param NAME=VALUE  a parameter (repeatable); typed as the runbook declares it. Parameters\n"
		"                          without a default are required\n"
		"  -y, --yes               approve every approval gate without asking (recorded in the events)\n"
		"  -e, --events FILE       write the event stream (JSON lines) to FILE; - for standard output\n"
		"                          (the screen view then goes to standard error)\n"
		"      --clock KIND        real or virtual: time jumps to the next deadline whenever nothing\n"
		"                          runs, so waits take no time and event streams are exact (default:\n"
		"                          $DROVER_CLOCK, else virtual for a runbook on the simulator at speed 0,\n"
		"                          its default, else real)\n"
"  -j, --concurrency N     at most N tasks running at once, over all steps (default: no limit)\n"
		"      --order ORDER       which ready tasks take free concurrency slots first, in every step:\n"
		"                          longest-first (those that took longest in earlier runs, from the\n"
		"                          duration history in the state directory) or declared (inventory\n"
		"                          order) (default: each step's order:, else defaults.order, else\n"
		"                          longest-first)\n"
		"      --seed N            seed of the retry jitter (default: 1 on the virtual clock, random on\n"
		"                          the real one; the seed used is in the run.start event)\n"
		"      --state-dir DIR     where runs keep their files, e.g. approval requests (default:\n"
		"                          $DROVER_STATE_DIR, else .drover); owner-only: refused when\n"
		"                          another user owns it or can write to it\n"
		"      --run-id ID         the run's id: letters, digits, '.', '_' and '-', starting with a letter\n"
		"                          or digit, at most 128 (default: NAME-YYYYMMDDTHHMMSSZ-XXXX, the\n"
		"                          runbook's name, the start in UTC and 4 random hex digits; on the\n"
		"                          virtual clock NAME-20260101T000000Z, the same every time)\n"
		"      --grace DURATION    how long running tasks get to stop after SIGINT/SIGTERM (default 30s)\n"
		"      --stdlib DIR        where use: finds composites (as for validate)\n"
		"  -q, --quiet             no progress on the screen, only the summary (and a line when an\n"
		"                          approval waits for an answer)\n"
		"      --plain             the plain log even on a terminal: a line per step transition and per\n"
		"                          failure, in full (not the redrawn screen)\n"
		"  -v, --verbose           also a line for every VM's transition (each attempt started and\n"
		"                          ended, each skip and cancellation)\n"
		"      --direction DIR     failover (default: primary to recovery) or failback (recovery back to\n"
		"                          primary, as drover failback)\n"
		"      --report FILE       when the run ends, write its report to FILE; the extension says the\n"
		"                          format: .json, .xml (JUnit), .md or .html (as drover report);\n"
		"                          repeatable, one file per format\n"
		"      --metrics FILE      when the run ends, write its outcome as Prometheus metrics for\n"
		"                          node_exporter's textfile collector (docs/scheduling.md)\n"
		"      --force             start even though an earlier run of this runbook against the same\n"
		"                          backend did not finish (a stale run lock; see drover status)\n"
		"      --exclude-blocked   run without the VMs the preflight finds blocked (each is named on the\n"
		"                          screen, in the events and in the journal, and left as it is); blockers\n"
		"                          that are not one VM's (vm_set expect:, a test network) still refuse\n"
		"      --plan PLAN.json    run exactly the plan drover plan -o saved: each VM's first failover on\n"
		"                          the point it chose; refused when anything drifted since (the runbook,\n"
		"                          parameters, backend, VM sets, a VM's state, a point gone or now older\n"
		"                          than max_age), each difference named (docs/plan.md, \"Saved plans\")\n"
		"      --plan-max-age D    how old a saved plan may be (default 1h)\n"
		"      --recovery-point P  every failover's point, whatever the runbook says (an incident\n"
		"                          decision, kept in the journal): a policy (latest, latest-processed,\n"
		"                          latest-app-consistent, latest-crash-consistent), an RFC 3339 time (the\n"
		"                          newest point at or before it) or a point's id or name; max_age still\n"
		"                          applies and no fallback is tried\n"
		"  -h, --help              show this help\n"
		"\nBefore anything starts, the run binds and plans as drover plan does and checks every task it\n"
		"will start against the backend (state and direction, recovery point and max_age, vm_set\n"
		"expect:, test networks); a blocked plan is refused with nothing sent to the service.\n"
		"Exit status: 0 succeeded, 1 failed, rolled back or blocked (the preflight refused it), 2 invalid\n"
		"runbook, parameters, secrets or backend, or a state directory that cannot be written (read-only,\n"
		"or a full disk before the run started; nothing ran), 3 internal error, or a run that succeeded but\n"
		"whose output, --events or --report file could not be written (a full disk; its journal is whole), 4\n"
		"cancelled (SIGINT/SIGTERM; a second signal exits at once), 5 busy (another run of this runbook\n"
		"against the same backend holds its lock; nothing ran), 6 stale (an earlier run of it did not\n"
		"finish and left its lock: resume that run, or --force; nothing ran). Semantics:\n"
		"docs/execution.md; events: docs/events.md.\n",
	.main = run_main,
	.journaled = true,
};

typedef struct options {
	const char **params;
	size_t n_params;
	const char *events, *stdlib, *file, *metrics;
	dr_cli_reports reports;
	bool quiet, plain;
	dr_exec_opts x;
	const char *network; /* drill: --network */
	bool clock_given; /* --clock or $DROVER_CLOCK: else dr_cli_default_clock */
	dr_point_override point; /* --recovery-point */
	cJSON *plan; /* --plan, read */
} options;

/* The command running: run, drill or failback (usage messages and help name it). */
static const dr_command *cur = &dr_cmd_run;

static int bad_number(const char *opt, const char *v)
{
	return dr_cli_usage_error(cur, "%s '%s': expected a whole number", opt, v);
}

static bool parse_count(const char *v, int64_t min, int64_t *out)
{
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (!*v || *end || errno || n < min)
		return false;
	*out = n;
	return true;
}

static int set_clock(options *o, const char *v)
{
	if (!strcmp(v, "virtual"))
		o->x.clock = DR_CLOCK_VIRTUAL;
	else if (!strcmp(v, "real"))
		o->x.clock = DR_CLOCK_REAL;
	else
		return dr_cli_usage_error(cur, "--clock '%s': expected real or virtual", v);
	o->clock_given = true;
	return -1;
}

static int set_grace(options *o, const char *v)
{
	size_t bad;
	if (!dr_text_parse_duration(v, &o->x.grace_ms, &bad))
		return dr_cli_usage_error(cur, "--grace '%s': expected a duration like 30s", v);
	return -1;
}

static int set_plan_max_age(options *o, const char *v)
{
	size_t bad;
	if (!dr_text_parse_duration(v, &o->x.plan_max_age_ms, &bad))
		return dr_cli_usage_error(cur, "--plan-max-age '%s': expected a duration like 1h", v);
	return -1;
}

static int set_seed(options *o, const char *v)
{
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (!*v || *end || errno || *v == '-')
		return bad_number("--seed", v);
	o->x.seed = n;
	o->x.seed_given = true;
	return -1;
}

static int set_order(options *o, const char *v)
{
	if (!strcmp(v, "declared"))
		o->x.order = DR_ORDER_DECLARED;
	else if (!strcmp(v, "longest-first"))
		o->x.order = DR_ORDER_LONGEST_FIRST;
	else
		return dr_cli_usage_error(cur, "--order '%s': expected declared or longest-first", v);
	return -1;
}

enum { OPT_CLOCK = 256, OPT_SEED, OPT_STATE, OPT_RUNID, OPT_GRACE, OPT_STDLIB, OPT_PLAIN, OPT_DIRECTION, OPT_NETWORK, OPT_FORCE,
       OPT_ORDER, OPT_EXCLUDE_BLOCKED, OPT_REPORT, OPT_METRICS, OPT_PLAN, OPT_PLAN_MAX_AGE, OPT_POINT };

static const struct option longopts[] = {
	{"param", required_argument, NULL, 'p'},     {"yes", no_argument, NULL, 'y'},
	{"events", required_argument, NULL, 'e'},    {"clock", required_argument, NULL, OPT_CLOCK},
	{"concurrency", required_argument, NULL, 'j'}, {"seed", required_argument, NULL, OPT_SEED},
	{"state-dir", required_argument, NULL, OPT_STATE}, {"run-id", required_argument, NULL, OPT_RUNID},
	{"grace", required_argument, NULL, OPT_GRACE}, {"stdlib", required_argument, NULL, OPT_STDLIB},
	{"quiet", no_argument, NULL, 'q'},	       {"plain", no_argument, NULL, OPT_PLAIN},
	{"direction", required_argument, NULL, OPT_DIRECTION}, {"network", required_argument, NULL, OPT_NETWORK},
	{"force", no_argument, NULL, OPT_FORCE},       {"order", required_argument, NULL, OPT_ORDER},
	{"exclude-blocked", no_argument, NULL, OPT_EXCLUDE_BLOCKED},
	{"report", required_argument, NULL, OPT_REPORT}, {"metrics", required_argument, NULL, OPT_METRICS},
	{"plan", required_argument, NULL, OPT_PLAN},
	{"plan-max-age", required_argument, NULL, OPT_PLAN_MAX_AGE}, {"recovery-point", required_argument, NULL, OPT_POINT},
	{"verbose", no_argument, NULL, 'v'},	       {"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int one_option(void *ctx, int c, const char *arg)
{
	options *o = ctx;
	switch (c) {
	case 'p':
		dr_cli_add_param(&o->params, &o->n_params, arg);
		return -1;
	case 'y': o->x.auto_approve = true; return -1;
	case 'e': o->events = arg; return -1;
	case OPT_CLOCK: return set_clock(o, arg);
	case 'j':
		return parse_count(arg, 1, &o->x.concurrency) ? -1
			: dr_cli_usage_error(cur, "--concurrency '%s': expected a whole number >= 1", arg);
	case OPT_SEED: return set_seed(o, arg);
	case OPT_STATE: o->x.state_dir = arg; return -1;
	case OPT_RUNID: o->x.run_id = arg; return -1;
	case OPT_GRACE: return set_grace(o, arg);
	case OPT_STDLIB: o->stdlib = arg; return -1;
	case 'q': o->quiet = true; return -1;
	case 'v': o->x.verbose = true; return -1;
	case OPT_PLAIN: o->plain = true; return -1;
	case OPT_DIRECTION:
		if (dr_cli_parse_direction(arg, &o->x.direction) < 0)
			return dr_cli_usage_error(cur, "--direction '%s': expected failover or failback", arg);
		if (cur == &dr_cmd_failback && o->x.direction != DR_BE_DIR_RECOVERY_TO_PRIMARY)
			return dr_cli_usage_error(cur, "--direction '%s': drover failback goes recovery-to-primary; "
						       "drover run fails over", arg);
		if (o->x.mode != DR_MODE_DRILL) /* outside drills the direction is the mode */
			o->x.mode = o->x.direction == DR_BE_DIR_RECOVERY_TO_PRIMARY ? DR_MODE_FAILBACK : DR_MODE_FAILOVER;
		return -1;
	case OPT_NETWORK:
		if (o->x.mode != DR_MODE_DRILL)
			return dr_cli_usage_error(cur, "--network is for drover drill");
		o->network = arg;
		return -1;
	case OPT_FORCE: o->x.force = true; return -1;
	case OPT_EXCLUDE_BLOCKED: o->x.exclude_blocked = true; return -1;
	case OPT_REPORT: return dr_cli_add_report(cur, &o->reports, arg);
	case OPT_METRICS: o->metrics = arg; return -1;
	case OPT_PLAN: o->x.plan_path = arg; return -1;
	case OPT_PLAN_MAX_AGE: return set_plan_max_age(o, arg);
	case OPT_POINT:
		if (!dr_preflight_parse_override(arg, &o->point))
			return dr_cli_usage_error(cur, "--recovery-point '': expected a policy, a time or a point's id");
		o->x.point = &o->point;
		return -1;
	default: return set_order(o, arg); /* OPT_ORDER */
	}
}

static int parse_options(int argc, char **argv, options *o)
{
	const char *env_clock = getenv("DROVER_CLOCK");
	if (env_clock && *env_clock && set_clock(o, env_clock) >= 0)
		return DR_EXIT_INVALID;
	int rc = dr_cli_parse(cur, argc, argv, "p:ye:j:qvh", longopts, one_option, o);
	if (rc >= 0)
		return rc;
	if (optind >= argc)
		return dr_cli_usage_error(cur, "no runbook given");
	if (optind + 1 < argc)
		return dr_cli_usage_error(cur, "one runbook at a time ('%s' is extra)", argv[optind + 1]);
	o->file = argv[optind];
	if (o->x.plan_path && o->x.exclude_blocked)
		return dr_cli_usage_error(cur, "--plan runs a saved plan as it is; --exclude-blocked is for a plan made now "
					       "(drover plan shows which VMs are blocked)");
	return dr_cli_check_run_outputs(cur, o->x.state_dir, o->events, &o->reports, o->metrics);
}

/* --plan: the saved plan, read (docs/plan.md, "Saved plans"); -1 to go on, or the exit status. */
static int read_plan(options *o)
{
	if (!o->x.plan_path)
		return -1;
	dr_buf err;
	dr_buf_init(&err);
	o->plan = dr_planfile_read(o->x.plan_path, &err);
	if (!o->plan)
		fprintf(stderr, "drover %s: %snothing was run\n", cur->name, err.data);
	dr_buf_dispose(&err);
	o->x.plan = o->plan;
	return o->plan ? -1 : DR_EXIT_INVALID;
}

static int bind_params(dr_runbook *rb, options *o, cJSON **params)
{
	dr_buf err;
	dr_buf_init(&err);
	size_t problems = dr_params_bind(rb, o->params, o->n_params, params, &err);
	if (problems) {
		fprintf(stderr, "%s", err.data);
		fprintf(stderr, "drover %s: %zu parameter problem%s; nothing was run\n", cur->name, problems,
			problems == 1 ? "" : "s");
	}
	dr_buf_dispose(&err);
	return problems ? DR_EXIT_INVALID : -1;
}

static FILE *open_events(const options *o)
{
	if (!o->events)
		return NULL;
	if (!strcmp(o->events, "-"))
		return stdout;
	FILE *f = dr_fs_create_output(o->events); /* owner-only (issue 10) */
	if (!f)
		fprintf(stderr, "drover %s: cannot write events to '%s': %s; nothing was run\n", cur->name, o->events,
			strerror(errno));
	return f;
}

static void choose_view(options *o)
{
	FILE *screen = o->x.events == stdout ? stderr : stdout;
	o->x.screen = screen;
	bool tty = isatty(fileno(screen));
	o->x.view = o->quiet ? DR_VIEW_QUIET : tty && !o->plain ? DR_VIEW_LIVE : DR_VIEW_PLAIN;
	o->x.color = dr_cli_use_color(screen);
	o->x.interactive = !o->x.auto_approve && isatty(STDIN_FILENO) && tty;
	o->x.handle_signals = true;
	o->x.events_flush = true;
	o->x.journal = true; /* docs/journal.md: <state-dir>/runs/<run-id>/journal.jsonl, and the run lock */
}

static int execute(dr_runbook *rb, options *o)
{
	cJSON *params = NULL;
	int rc = bind_params(rb, o, &params);
	if (rc >= 0) {
		cJSON_Delete(params);
		return rc;
	}
	o->x.params = params;
	if (!o->clock_given)
		o->x.clock = dr_cli_default_clock(rb);
	if (o->x.clock == DR_CLOCK_VIRTUAL)
		o->x.start_ms = dr_cli_virtual_start(rb, NULL, o->x.state_dir); /* the simulator's own time */
	else
		o->x.clock_rate = dr_cli_sim_speed(rb); /* backend.speed: N times faster than real time */
	if (o->x.mode == DR_MODE_DRILL) {
		dr_buf derr;
		dr_buf_init(&derr);
		rc = dr_modes_make_drill(rb, dr_cli_drill_network(rb, params, o->network), &derr);
		fprintf(stderr, "%s", derr.data ? derr.data : "");
		dr_buf_dispose(&derr);
		if (rc < 0) {
			cJSON_Delete(params);
			return DR_EXIT_INVALID;
		}
	}
	o->x.events = open_events(o);
	if (o->events && !o->x.events) {
		cJSON_Delete(params);
		return DR_EXIT_INVALID;
	}
	choose_view(o);
	dr_buf err, id;
	dr_buf_init(&err);
	dr_buf_init(&id);
	o->x.run_id_out = &id;
	dr_run_status st = dr_exec_run(rb, &o->x, &err);
	dr_cli_put_term(err.data, stderr);
	dr_buf_dispose(&err);
	if (st == DR_RUN_BLOCKED)
		dr_cli_hint_resume(cur, o->x.state_dir, rb->name);
	rc = dr_exec_exit_code(st);
	if (dr_cli_write_evidence(cur, o->x.state_dir, id.data, &o->reports, o->metrics) < 0 && rc == DR_EXIT_OK)
		rc = DR_EXIT_INTERNAL; /* the run succeeded; its evidence is missing */
	if (o->x.events && o->x.events != stdout &&
	    dr_cli_close_events(cur, o->x.events, o->events, o->x.state_dir, id.data) < 0 && rc == DR_EXIT_OK)
		rc = DR_EXIT_INTERNAL; /* as a missing report */
	dr_buf_dispose(&id);
	cJSON_Delete(params);
	return rc;
}

static int run_main(int argc, char **argv)
{
	return dr_cli_run_mode(&dr_cmd_run, DR_MODE_FAILOVER, argc, argv);
}

int dr_cli_run_mode(const dr_command *cmd, dr_run_mode mode, int argc, char **argv)
{
	options o = {0};
	cur = cmd;
	dr_exec_opts_init(&o.x);
	o.x.mode = mode;
	o.x.direction = dr_mode_default_direction(mode);
	int rc = parse_options(argc, argv, &o);
	if (rc < 0)
		rc = dr_cli_test_signal_at(cur, &o.x.signal_at_ms, &o.x.signal_at_sig);
	if (rc < 0)
		rc = read_plan(&o);
	if (rc >= 0) {
		free(o.params);
		free(o.reports.paths);
		cJSON_Delete(o.plan);
		return rc;
	}
	dr_exec_signals_early(NULL, NULL); /* a Ctrl-C while a big runbook compiles: nothing is run (dr_exec_run says so) */
	dr_runbook *rb = dr_cli_compile(cur, o.file, o.stdlib);
	rc = rb ? execute(rb, &o) : DR_EXIT_INVALID;
	dr_runbook_free(rb);
	free(o.params);
	free(o.reports.paths);
	cJSON_Delete(o.plan);
	return rc;
}
