/*
 * graph.c - `drover graph`: print the step graph as Mermaid (renders in pull
 * requests), DOT (for `dot -Tsvg`) or JSON; with --diff OLD, the graph with
 * what changed since OLD marked (graphdiff.h), also as text for CI logs and
 * as a Markdown pull-request comment (diffreport.h) which, with --estimate,
 * states the change in predicted RTO from a plan estimate of each revision.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "front/params.h"
#include "front/plan.h"
#include "front/runbook.h"
#include "views/diffreport.h"
#include "views/estimate.h"
#include "views/graphdiff.h"
#include "views/planview.h"
#include "util/xalloc.h"

static int graph_main(int argc, char **argv);

const dr_command dr_cmd_graph = {
	.name = "graph",
	.summary = "Print a runbook's step graph, or what changed in it since another version.",
	.usage = "[--format mermaid|dot|json|text|markdown] [--diff OLD [--estimate [--param NAME=VALUE]... [--state FILE] [--state-dir DIR]]]"
		 " [--stdlib DIR] FILE",
	.help = "Options:\n"
		"  -f, --format FMT   mermaid (default), dot or json; with --diff also text, and markdown: a\n"
		"                     pull-request comment with a table of what changed (steps, edges, VM\n"
		"                     sets, recovery policy, objectives) and the Mermaid diff\n"
		"  -d, --diff OLD     FILE's graph with what changed since OLD (an earlier version) marked:\n"
		"                     added, removed (kept, dashed) and changed steps, the changed ones\n"
		"                     naming what changed (\"changed: with.port, retry\"), added and removed\n"
		"                     edges, and a legend. Steps are matched by id after use: expansion.\n"
		"                     json lists the changes; text prints one line per change\n"
		"                     (+ step, - step, ~ step: fields, + edge, - edge)\n"
		"      --estimate     with --diff --format markdown: estimate both revisions as drover plan\n"
		"                     --estimate does (--param, else parameter defaults; the simulator\n"
		"                     read-only, virtual clock) and state the change in predicted RTO and\n"
		"                     what caused it (\"+4m: failover-app now waits for db-up\")\n"
		"  -p, --param NAME=VALUE  a parameter for --estimate (repeatable), for each revision that\n"
		"                     declares it (one neither declares is an error)\n"
		"  -s, --state FILE   the simulator's state file for --estimate (default as for drover sim)\n"
		"      --state-dir DIR  the state directory for --estimate (duration history)\n"
		"      --stdlib DIR   where use: finds composite actions\n"
		"  -h, --help         show this help\n"
		"\nThe runbook must be valid (with --diff, both runbooks); otherwise the diagnostics are\n"
		"printed and the exit status is 2. A diff exits 0 whether or not anything changed.\n"
		"docs/graph.md describes both forms.\n"
		"Examples:\n"
		"  drover graph --format dot runbook.yaml | dot -Tsvg > plan.svg\n"
		"  git show main:./runbook.yaml > old.yaml && drover graph --diff old.yaml runbook.yaml\n"
		"  drover graph --diff old.yaml --format markdown --estimate runbook.yaml > comment.md\n",
	.main = graph_main,
};

static bool parse_format(const char *s, dr_graph_format *out)
{
	static const struct { const char *name; dr_graph_format fmt; } formats[] = {
		{"mermaid", DR_GRAPH_MERMAID}, {"dot", DR_GRAPH_DOT}, {"json", DR_GRAPH_JSON}, {"text", DR_GRAPH_TEXT},
	};
	for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++)
		if (strcmp(s, formats[i].name) == 0) {
			*out = formats[i].fmt;
			return true;
		}
	return false;
}

/* Compile path, its diagnostics on stderr; NULL (freed) when it has errors. */
static dr_runbook *compile(const char *path, const char *stdlib)
{
	dr_diags *d = dr_diags_new();
	dr_runbook *rb = dr_runbook_compile(path, d, dr_cli_stdlib_dir(stdlib));
	dr_diags_render_text(d, stderr, dr_cli_use_color(stderr));
	if (rb && dr_diags_errors(d)) {
		dr_runbook_free(rb);
		rb = NULL;
	}
	dr_diags_free(d);
	return rb;
}

typedef struct options {
	dr_graph_format fmt;
	bool markdown, estimate;
	const char *stdlib, *old, *state, *state_dir;
	const char **params; /* --param NAME=VALUE, for the estimates */
	size_t n_params;
} options;

/* --param's NAME: the text before '=' (all of it without one), in out. */
static const char *param_name(const char *kv, char *out, size_t n)
{
	size_t len = strcspn(kv, "=");
	snprintf(out, n, "%.*s", (int)(len < n ? len : n - 1), kv);
	return out;
}

static int64_t now_for(const dr_runbook *rb)
{
	if (dr_cli_default_clock(rb) == DR_CLOCK_VIRTUAL)
		return DR_CLOCK_VIRTUAL_EPOCH_MS;
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The plan view's estimate of rb on its backend (read-only), or NULL with a sentence in err. */
static cJSON *estimate_on(dr_runbook *rb, const options *o, const cJSON *params, dr_buf *err)
{
	dr_arena *a = dr_arena_new();
	dr_diags *d = dr_diags_new();
	dr_be_error e;
	dr_backend_opts bo = {.state_path = o->state, .state_dir = o->state_dir, .read_only = true};
	dr_backend *be = dr_backend_open(rb, &bo, a, d, &e);
	cJSON *est = NULL;
	if (!be) {
		dr_buf_printf(err, "cannot open the backend: %s", e.code ? dr_backend_error_text(a, &e) : "invalid options");
	} else {
		dr_planview_opts v = {.mode = DR_MODE_FAILOVER, .direction = DR_BE_DIR_PRIMARY_TO_RECOVERY,
				      .params = params, .now_ms = now_for(rb)};
		cJSON *view = dr_planview_build(rb, be, &v, err);
		if (view)
			dr_estimate_add(rb, be, &v, view);
		est = view ? cJSON_DetachItemFromObjectCaseSensitive(view, "estimate") : NULL;
		cJSON_Delete(view);
	}
	dr_backend_close(be);
	dr_diags_free(d);
	dr_arena_free(a);
	return est;
}

/* rb's estimate with the --param it declares and its defaults; {"error": why} when there is none. */
static cJSON *estimate(dr_runbook *rb, const options *o)
{
	cJSON *params = NULL, *est = NULL;
	dr_buf err;
	dr_buf_init(&err);
	const char **kv = xcalloc(o->n_params + 1, sizeof *kv);
	size_t given = 0;
	char name[256];
	for (size_t i = 0; i < o->n_params; i++) /* a parameter the other revision adds or removes is not this one's */
		if (dr_runbook_param(rb, param_name(o->params[i], name, sizeof name)))
			kv[given++] = o->params[i];
	size_t problems = dr_params_bind(rb, kv, given, &params, &err);
	free(kv);
	if (!problems)
		est = estimate_on(rb, o, params, &err);
	if (!est) {
		est = cJSON_CreateObject();
		size_t n = err.len;
		while (n && err.data[n - 1] == '\n')
			err.data[--n] = 0;
		cJSON_AddStringToObject(est, "error", err.data);
	}
	cJSON_Delete(params);
	dr_buf_dispose(&err);
	return est;
}

static void print_markdown(dr_runbook *old, dr_runbook *new, const dr_graphdiff *d, const options *o)
{
	dr_diffreport_input in = {.diff = d, .old = old, .new = new};
	cJSON *eo = o->estimate ? estimate(old, o) : NULL, *en = o->estimate ? estimate(new, o) : NULL;
	in.est_old = eo;
	in.est_new = en;
	dr_diffreport_markdown(&in, stdout);
	cJSON_Delete(eo);
	cJSON_Delete(en);
}

/* OLD's and NEW's diagnostics (both are always compiled), then the diff of their plans. */
static int print_diff(const char *new_path, const options *o)
{
	dr_runbook *old = compile(o->old, o->stdlib);
	dr_runbook *new = compile(new_path, o->stdlib);
	int rc = DR_EXIT_INVALID;
	char name[256];
	for (size_t i = 0; old && new && i < o->n_params; i++) {
		param_name(o->params[i], name, sizeof name);
		if (!dr_runbook_param(old, name) && !dr_runbook_param(new, name)) {
			fprintf(stderr, "drover graph: --param %s: neither revision declares a parameter '%s'\n", name, name);
			dr_runbook_free(old);
			dr_runbook_free(new);
			return DR_EXIT_INVALID;
		}
	}
	if (old && new) {
		dr_graphdiff *d = dr_graphdiff_new(old->plan, new->plan);
		if (o->markdown)
			print_markdown(old, new, d, o);
		else
			dr_graphdiff_print(d, o->fmt, stdout);
		dr_graphdiff_free(d);
		rc = DR_EXIT_OK;
	}
	dr_runbook_free(old);
	dr_runbook_free(new);
	return rc;
}

static int one_option(void *ctx, int c, const char *arg)
{
	options *o = ctx;
	switch (c) {
	case 'f':
		o->markdown = strcmp(arg, "markdown") == 0;
		if (!o->markdown && !parse_format(arg, &o->fmt))
			return dr_cli_usage_error(&dr_cmd_graph, "unknown format '%s' (mermaid, dot, json, text or markdown)",
						  arg);
		return -1;
	case 'd': o->old = arg; return -1;
	case 'E': o->estimate = true; return -1;
	case 's': o->state = arg; return -1;
	case 'D': o->state_dir = arg; return -1;
	case 'p':
		dr_cli_add_param(&o->params, &o->n_params, arg);
		return -1;
	default: o->stdlib = arg; return -1;
	}
}

/* After the options: the graph, or the diff of OLD and FILE. */
static int graph_run(int argc, char **argv, const options *o)
{
	if (argc - optind != 1)
		return dr_cli_usage_error(&dr_cmd_graph, "expected exactly one runbook");
	if ((o->fmt == DR_GRAPH_TEXT || o->markdown) && !o->old)
		return dr_cli_usage_error(&dr_cmd_graph, "--format %s needs --diff", o->markdown ? "markdown" : "text");
	if ((o->estimate || o->state || o->state_dir) && !o->markdown)
		return dr_cli_usage_error(&dr_cmd_graph, "--estimate, --state and --state-dir go with --diff --format markdown");
	if (o->n_params && !o->estimate)
		return dr_cli_usage_error(&dr_cmd_graph, "--param goes with --diff --format markdown --estimate");
	if (o->old)
		return print_diff(argv[optind], o);
	dr_runbook *rb = compile(argv[optind], o->stdlib);
	if (!rb)
		return DR_EXIT_INVALID;
	dr_plan_print_graph(rb->plan, o->fmt, stdout);
	dr_runbook_free(rb);
	return DR_EXIT_OK;
}

static int graph_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"format", required_argument, NULL, 'f'}, {"diff", required_argument, NULL, 'd'},
		{"stdlib", required_argument, NULL, 'S'}, {"help", no_argument, NULL, 'h'},
		{"estimate", no_argument, NULL, 'E'}, {"state", required_argument, NULL, 's'},
		{"state-dir", required_argument, NULL, 'D'}, {"param", required_argument, NULL, 'p'},
		{NULL, 0, NULL, 0},
	};
	options o = {.fmt = DR_GRAPH_MERMAID};
	int rc = dr_cli_parse(&dr_cmd_graph, argc, argv, "f:d:s:p:h", longopts, one_option, &o);
	if (rc < 0)
		rc = graph_run(argc, argv, &o);
	free(o.params);
	return rc;
}
