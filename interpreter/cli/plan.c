/*
 * plan.c - `drover plan`: what a run would do, touching nothing.
 *
 * The runbook is compiled as for validate, its parameters bound as for run,
 * and the backend opened read-only (the simulator reads its state file and
 * never writes or locks it). The view (planview.h) goes to stdout as text
 * or JSON. With --estimate the plan is also run on a private copy of the
 * simulator on the virtual clock (estimate.h), and the predicted RTO and
 * critical path are added. With --metrics the plan's readiness is also
 * written as Prometheus metrics (metrics.h), for a timer that plans every
 * few minutes and an alert that fires before a disaster.
 *
 * Exit status: 0 the plan is runnable, 1 it is blocked (the blockers say
 * why), 2 the runbook, parameters or options are invalid or the backend
 * cannot be read, 3 the --metrics file cannot be written.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "backends/backend.h"
#include "backends/sim.h"
#include "cli/cli.h"
#include "run/clock.h"
#include "views/estimate.h"
#include "views/metrics.h"
#include "run/modes.h"
#include "front/params.h"
#include "journal/journal.h"
#include "run/planfile.h"
#include "run/secrets.h"
#include "views/planview.h"
#include "front/runbook.h"
#include "util/text.h"

static int plan_main(int argc, char **argv);

const dr_command dr_cmd_plan = {
	.name = "plan",
	.summary = "Show what a run would do against the backend, touching nothing; --estimate predicts the RTO.",
	.usage = "[--param NAME=VALUE]... [--format text|json] [--direction failover|failback] [--drill [--network "
		 "NAME]] [--recovery-point POLICY|ID|TIME] [-o PLAN.json] [--estimate] [--metrics FILE] [--now TIME] "
		 "[--state FILE] [--state-dir DIR] FILE",
	.help = "Options:\n"
		"  -p, --param NAME=VALUE  a parameter (repeatable), as for run\n"
		"  -f, --format FMT        text (default) or json\n"
		"      --direction DIR     failover (default) or failback: plan the way back to primary\n"
		"      --drill             plan the drill (drover drill) instead of the failover\n"
		"      --network NAME      the drill's isolated network (as for drover drill)\n"
		"      --recovery-point P  every failover's point, whatever the runbook says (as for drover run):\n"
		"                          a policy (latest, latest-processed, latest-app-consistent,\n"
		"                          latest-crash-consistent), an RFC 3339 time (the newest point at or\n"
		"                          before it) or a point's id or name; max_age still applies\n"
		"  -o, --output PLAN.json  also save the plan (owner-only): what it saw and decided, for\n"
		"                          drover run|drill|failback --plan PLAN.json, which runs exactly it or\n"
		"                          refuses what drifted (docs/plan.md, \"Saved plans\")\n"
		"      --estimate          also run the plan on a private copy of the simulator, on the virtual\n"
		"                          clock, and print the predicted RTO and the critical path (tasks\n"
		"                          start in the order a run would give them, from the state directory's\n"
		"                          duration history; the simulated run adds nothing to it); exec,\n"
		"                          check.* and notify.* are not run (they succeed at once)\n"
		"      --metrics FILE      also write the plan's readiness as Prometheus metrics for\n"
		"                          node_exporter's textfile collector (atomically): runnable, blockers,\n"
		"                          per VM the recovery point's age against max_age and replication\n"
		"                          health; written also when the backend cannot be read\n"
		"                          (drover_readiness_check_ok 0). docs/scheduling.md\n"
		"      --now TIME          when the run would start, RFC 3339 (default: now; on a simulator that\n"
		"                          runs on the virtual clock, where its runs start)\n"
		"  -s, --state FILE        the simulator's state file (default as for drover sim)\n"
		"      --state-dir DIR     the state directory (default: $DROVER_STATE_DIR, else .drover)\n"
		"      --stdlib DIR        where use: finds composites\n"
		"  -h, --help              show this help\n"
		"\nThe plan binds the runbook to the VMs the backend protects (opened read-only) and prints the\n"
		"VMs of each set, each VM's recovery point and its age against max_age, the operations in\n"
		"order, what is irreversible and what blocks the plan.\n"
		"Exit status: 0 runnable, 1 blocked, 2 invalid runbook, parameters or backend, 3 the --metrics\n"
		"or --output file could not be written. docs/plan.md.\n",
	.main = plan_main,
};

typedef struct options {
	const char **params;
	size_t n_params;
	const char *file, *stdlib, *state, *state_dir, *network, *metrics, *out;
	bool json, estimate, now_given;
	dr_point_override point;
	dr_planview_opts v;
} options;

enum { OPT_DIRECTION = 256, OPT_DRILL, OPT_NETWORK, OPT_ESTIMATE, OPT_NOW, OPT_STATE_DIR, OPT_STDLIB, OPT_METRICS,
       OPT_POINT };

static const struct option longopts[] = {
	{"param", required_argument, NULL, 'p'},	  {"format", required_argument, NULL, 'f'},
	{"direction", required_argument, NULL, OPT_DIRECTION}, {"drill", no_argument, NULL, OPT_DRILL},
	{"network", required_argument, NULL, OPT_NETWORK}, {"estimate", no_argument, NULL, OPT_ESTIMATE},
	{"now", required_argument, NULL, OPT_NOW},	  {"state", required_argument, NULL, 's'},
	{"state-dir", required_argument, NULL, OPT_STATE_DIR}, {"stdlib", required_argument, NULL, OPT_STDLIB},
	{"metrics", required_argument, NULL, OPT_METRICS}, {"help", no_argument, NULL, 'h'},
	{"output", required_argument, NULL, 'o'},	  {"recovery-point", required_argument, NULL, OPT_POINT},
	{NULL, 0, NULL, 0},
};

static int set_direction(options *o, const char *v)
{
	if (dr_cli_parse_direction(v, &o->v.direction) < 0)
		return dr_cli_usage_error(&dr_cmd_plan, "--direction '%s': expected failover or failback", v);
	if (o->v.mode != DR_MODE_DRILL) /* outside drills the direction is the mode */
		o->v.mode = o->v.direction == DR_BE_DIR_RECOVERY_TO_PRIMARY ? DR_MODE_FAILBACK : DR_MODE_FAILOVER;
	return -1;
}

static int one_option(void *ctx, int c, const char *arg)
{
	options *o = ctx;
	switch (c) {
	case 'p':
		dr_cli_add_param(&o->params, &o->n_params, arg);
		return -1;
	case 'f':
		if (strcmp(arg, "text") && strcmp(arg, "json"))
			return dr_cli_usage_error(&dr_cmd_plan, "--format '%s': expected text or json", arg);
		o->json = !strcmp(arg, "json");
		return -1;
	case OPT_DIRECTION: return set_direction(o, arg);
	case OPT_DRILL: o->v.mode = DR_MODE_DRILL; return -1;
	case OPT_NETWORK: o->network = arg; return -1;
	case OPT_ESTIMATE: o->estimate = true; return -1;
	case OPT_METRICS: o->metrics = arg; return -1;
	case 'o': o->out = arg; return -1;
	case OPT_POINT:
		if (!dr_preflight_parse_override(arg, &o->point))
			return dr_cli_usage_error(&dr_cmd_plan, "--recovery-point '': expected a policy, a time or a point's id");
		o->v.point = &o->point;
		return -1;
	case OPT_NOW:
		if (!dr_backend_parse_time(arg, &o->v.now_ms))
			return dr_cli_usage_error(&dr_cmd_plan, "--now '%s': expected an RFC 3339 time", arg);
		o->now_given = true;
		return -1;
	case 's': o->state = arg; return -1;
	case OPT_STATE_DIR: o->state_dir = arg; return -1;
	default: o->stdlib = arg; return -1; /* OPT_STDLIB */
	}
}

static int parse_options(int argc, char **argv, options *o)
{
	int rc = dr_cli_parse(&dr_cmd_plan, argc, argv, "p:f:s:o:h", longopts, one_option, o);
	if (rc >= 0)
		return rc;
	if (optind >= argc)
		return dr_cli_usage_error(&dr_cmd_plan, "no runbook given");
	if (optind + 1 < argc)
		return dr_cli_usage_error(&dr_cmd_plan, "one runbook at a time ('%s' is extra)", argv[optind + 1]);
	o->file = argv[optind];
	if (o->v.mode == DR_MODE_DRILL && o->v.direction == DR_BE_DIR_AUTO)
		o->v.direction = DR_BE_DIR_PRIMARY_TO_RECOVERY;
	rc = dr_cli_check_output(&dr_cmd_plan, o->state_dir, "-o", o->out);
	return rc < 0 ? dr_cli_check_output(&dr_cmd_plan, o->state_dir, "--metrics", o->metrics) : rc;
}

static int64_t wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* --metrics: the readiness of view (NULL: the backend could not be read). Returns 0, or -1 (said on stderr). */
static int write_metrics(const dr_runbook *rb, const options *o, const cJSON *view)
{
	if (!o->metrics)
		return 0;
	dr_metrics m;
	dr_buf err;
	dr_metrics_init(&m);
	dr_buf_init(&err);
	dr_metrics_add_readiness(&m, rb->name, dr_mode_name(o->v.mode), view, wall_now());
	int rc = dr_metrics_write(&m, o->metrics, &err);
	if (rc < 0)
		fprintf(stderr, "drover plan: %s; the plan itself is unaffected, nothing was changed\n", err.data);
	dr_buf_dispose(&err);
	dr_metrics_dispose(&m);
	return rc;
}

/* Where a run on the virtual clock would start: the simulator's own time (else the epoch), from be, already open. */
static int64_t virtual_start(dr_backend *be)
{
	int64_t t = dr_sim_is(be) ? dr_sim_state_time(be) : -1;
	return t >= 0 ? t : DR_CLOCK_VIRTUAL_EPOCH_MS;
}

/* -o: the saved plan (NULL: the view could not be made). Returns 0, or -1 (said on stderr). */
/* The command that runs the saved plan: with the options the plan depends on, as they were given here. */
static void plan_command(dr_buf *b, const dr_runbook *rb, const options *o)
{
	dr_buf_printf(b, "drover %s",
		      o->v.mode == DR_MODE_DRILL ? "drill" : o->v.mode == DR_MODE_FAILBACK ? "failback" : "run");
	const char *opt[] = {"--state-dir", "--network", "--recovery-point"};
	const char *val[] = {o->state_dir, o->network, o->v.point ? o->point.text : NULL};
	for (size_t i = 0; i < sizeof opt / sizeof *opt; i++)
		if (val[i]) {
			dr_buf_printf(b, " %s ", opt[i]);
			dr_text_shell_word(b, val[i]);
		}
	for (size_t i = 0; i < o->n_params; i++) {
		dr_buf_puts(b, " --param ");
		dr_text_shell_word(b, o->params[i]);
	}
	dr_buf_puts(b, " --plan ");
	dr_text_shell_word(b, o->out);
	dr_buf_putc(b, ' ');
	dr_text_shell_word(b, rb->path);
}

static int write_plan(const dr_runbook *rb, const options *o, const cJSON *saved, const cJSON *view)
{
	if (!o->out || !saved)
		return 0;
	dr_buf err, cmd;
	dr_buf_init(&err);
	dr_buf_init(&cmd);
	int rc = dr_planfile_write(o->out, saved, &err);
	plan_command(&cmd, rb, o);
	if (rc < 0)
		fprintf(stderr, "drover plan: %snothing was changed\n", err.data);
	else if (view && !dr_planview_runnable(view))
		fprintf(stderr, "drover plan: saved to %s, but the plan is blocked: %s refuses it; fix the blockers and "
				"plan again\n", o->out, cmd.data);
	else
		fprintf(stderr, "drover plan: saved to %s; run exactly this plan with: %s\n", o->out, cmd.data);
	dr_buf_dispose(&err);
	dr_buf_dispose(&cmd);
	return rc;
}

/* The view, printed; returns the exit status. */
static int show(dr_runbook *rb, dr_backend *be, options *o)
{
	dr_buf err;
	dr_buf_init(&err);
	cJSON *saved = NULL;
	dr_planview_vms *vms = NULL;
	o->v.file = o->out ? &saved : NULL;
	o->v.vms = o->json || o->metrics ? NULL : &vms; /* the text needs each VM only while it prints it */
	cJSON *view = dr_planview_build(rb, be, &o->v, &err);
	int rc = DR_EXIT_INVALID;
	if (view && o->estimate)
		dr_estimate_add(rb, be, &o->v, view);
	if (write_metrics(rb, o, view) < 0 || write_plan(rb, o, saved, view) < 0)
		rc = DR_EXIT_INTERNAL;
	else if (view)
		rc = dr_planview_runnable(view) ? DR_EXIT_OK : DR_EXIT_FAILED;
	if (view) {
		if (o->json) {
			char *s = cJSON_Print(view);
			printf("%s\n", s);
			free(s);
		} else {
			dr_planview_print_text(view, vms, stdout);
		}
	} else {
		char *shown = dr_secrets_redact_runbook(rb, err.data ? err.data : "");
		fprintf(stderr, "drover plan: %s", shown);
		free(shown);
	}
	cJSON_Delete(view);
	dr_planview_vms_free(vms);
	cJSON_Delete(saved);
	dr_buf_dispose(&err);
	return rc;
}

static int with_backend(dr_runbook *rb, options *o)
{
	dr_arena *a = dr_arena_new();
	dr_diags *d = dr_diags_new();
	dr_be_error e;
	dr_backend_opts bo = {.state_path = o->state, .state_dir = o->state_dir, .read_only = true, .params = o->v.params};
	dr_backend *be = dr_backend_open(rb, &bo, a, d, &e);
	dr_diags_render_text(d, stderr, dr_cli_use_color(stderr));
	o->v.backend_id = dr_journal_backend_id(a, rb, o->state, o->state_dir);
	int rc = DR_EXIT_INVALID;
	if (!be) {
		char *shown = e.code ? dr_secrets_redact_runbook(rb, dr_backend_error_text(a, &e)) : NULL;
		if (shown)
			fprintf(stderr, "drover plan: cannot open the %s backend: %s\n",
				rb->backend.kind == DR_BACKEND_SIM ? "sim" : "azure", shown);
		free(shown);
		write_metrics(rb, o, NULL);
	} else {
		if (!o->now_given)
			o->v.now_ms = dr_cli_default_clock(rb) == DR_CLOCK_VIRTUAL ? virtual_start(be) : wall_now();
		rc = show(rb, be, o);
	}
	dr_backend_close(be);
	dr_diags_free(d);
	dr_arena_free(a);
	return rc;
}

static int plan_runbook(dr_runbook *rb, options *o)
{
	cJSON *params = NULL;
	dr_buf err;
	dr_buf_init(&err);
	int rc = DR_EXIT_INVALID;
	size_t problems = dr_params_bind(rb, o->params, o->n_params, &params, &err);
	if (problems) {
		fprintf(stderr, "%sdrover plan: %zu parameter problem%s\n", err.data, problems, problems == 1 ? "" : "s");
	} else if (o->v.mode == DR_MODE_DRILL &&
		   dr_modes_make_drill(rb, dr_cli_drill_network(rb, params, o->network), &err) < 0) {
		fprintf(stderr, "drover plan: %s", err.data);
	} else {
		o->v.params = params;
		rc = with_backend(rb, o);
	}
	cJSON_Delete(params);
	dr_buf_dispose(&err);
	return rc;
}

static int plan_main(int argc, char **argv)
{
	options o = {.v = {.mode = DR_MODE_FAILOVER, .direction = DR_BE_DIR_PRIMARY_TO_RECOVERY}};
	int rc = parse_options(argc, argv, &o);
	if (rc >= 0) {
		free(o.params);
		return rc;
	}
	const char *env_state = getenv("DROVER_STATE_DIR");
	const char *state_dir = o.state_dir ? o.state_dir : env_state && *env_state ? env_state : ".drover";
	dr_buf history; /* what --estimate orders tasks by, as drover run would (docs/execution.md, "Order") */
	dr_buf_init(&history);
	dr_buf_printf(&history, "%s/history.json", state_dir);
	o.v.history = history.data;
	dr_runbook *rb = dr_cli_compile(&dr_cmd_plan, o.file, o.stdlib);
	rc = rb ? plan_runbook(rb, &o) : DR_EXIT_INVALID;
	dr_runbook_free(rb);
	dr_buf_dispose(&history);
	free(o.params);
	return rc;
}
