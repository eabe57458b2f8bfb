/*
 * modes_cli.c - what `drover run`, `drover drill`, `drover failback` and
 * `drover plan` share: compiling a runbook for a command, the --direction
 * option, the drill's network, and the clock a runbook runs on by default.
 */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backends/backend.h"
#include "backends/sim.h"
#include "cli/cli.h"
#include "front/load.h"

dr_runbook *dr_cli_compile(const dr_command *cmd, const char *file, const char *stdlib)
{
	dr_diags *d = dr_diags_new();
	dr_runbook *rb = dr_runbook_compile(file, d, dr_cli_stdlib_dir(stdlib));
	size_t errors = dr_diags_errors(d);
	dr_diags_render_text(d, stderr, dr_cli_use_color(stderr));
	if (errors || !rb) {
		fprintf(stderr, "drover %s: %s has %zu error%s; nothing was run\n", cmd->name, file, errors ? errors : 1,
			errors == 1 || !errors ? "" : "s");
		dr_runbook_free(rb);
		rb = NULL;
	}
	dr_diags_free(d);
	return rb;
}

int dr_cli_parse_direction(const char *s, dr_be_direction *out)
{
	static const struct {
		const char *name;
		dr_be_direction dir;
	} names[] = {
		{"failover", DR_BE_DIR_PRIMARY_TO_RECOVERY}, {"primary-to-recovery", DR_BE_DIR_PRIMARY_TO_RECOVERY},
		{"failback", DR_BE_DIR_RECOVERY_TO_PRIMARY}, {"recovery-to-primary", DR_BE_DIR_RECOVERY_TO_PRIMARY},
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].dir;
			return 0;
		}
	return -1;
}

const char *dr_cli_drill_network(const dr_runbook *rb, const cJSON *params, const char *explicit_network)
{
	if (explicit_network && *explicit_network)
		return explicit_network;
	const cJSON *v = dr_runbook_param(rb, "drill_network") ? cJSON_GetObjectItemCaseSensitive(params, "drill_network")
							       : NULL;
	return cJSON_IsString(v) && *v->valuestring ? v->valuestring : DR_DRILL_DEFAULT_NETWORK;
}

dr_clock_kind dr_cli_default_clock(const dr_runbook *rb)
{
	const char *env = getenv("DROVER_CLOCK");
	if (env && *env)
		return strcmp(env, "virtual") == 0 ? DR_CLOCK_VIRTUAL : DR_CLOCK_REAL;
	if (!rb || rb->backend.kind != DR_BACKEND_SIM || !rb->backend.node)
		return DR_CLOCK_REAL; /* no backend: (a runbook of checks and programs) the real world's time */
	const dr_node *speed = dr_node_get(rb->backend.node, "speed");
	double v = 0;
	return !speed || (dr_node_as_number(speed, &v) && v == 0) ? DR_CLOCK_VIRTUAL : DR_CLOCK_REAL;
}

int64_t dr_cli_virtual_start(const dr_runbook *rb, const char *state_path, const char *state_dir)
{
	if (!rb || rb->backend.kind != DR_BACKEND_SIM)
		return -1;
	dr_arena *a = dr_arena_new();
	dr_diags *d = dr_diags_new();
	dr_be_error e;
	dr_backend_opts bo = {.state_path = state_path, .state_dir = state_dir, .read_only = true};
	dr_backend *be = dr_backend_open(rb, &bo, a, d, &e);
	int64_t t = be ? dr_sim_state_time(be) : -1; /* the run reports any problem opening it itself */
	dr_backend_close(be);
	dr_diags_free(d);
	dr_arena_free(a);
	return t;
}

double dr_cli_sim_speed(const dr_runbook *rb)
{
	const dr_node *speed = rb && rb->backend.kind == DR_BACKEND_SIM && rb->backend.node
				       ? dr_node_get(rb->backend.node, "speed")
				       : NULL;
	double v = 0;
	return speed && dr_node_as_number(speed, &v) && v > 0 ? v : 0;
}
