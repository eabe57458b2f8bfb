/*
 * cli/emulator.c - `drover emulator`: serve Azure Site Recovery's wire
 * protocol on loopback over the simulator (emulator/emulator.h), for the
 * Azure backend's end-to-end tests and for teams that drill runbooks in CI
 * without a cloud account.
 *
 * It prints the URL it listens on as one line on stdout (and into
 * --port-file), serves until SIGTERM or SIGINT, then stops accepting,
 * finishes the requests in progress, saves the simulator's state and exits
 * 0. Mistakes in the options or their files, and a state file that cannot
 * be opened (corrupt, locked by another writer), exit 2 with the reason; a
 * state that cannot be saved at the end exits 3.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "emulator/emulator.h"
#include "util/fs.h"

static int emulator_main(int argc, char **argv);

const dr_command dr_cmd_emulator = {
	.name = "emulator",
	.summary = "Serve Azure Site Recovery's API on loopback over the simulator (tests, CI drills).",
	.usage = "[--listen 127.0.0.1:PORT] [--state FILE] [--inventory FILE] [--faults SPEC] [--audit FILE] "
		 "[--speed N] [--contract FILE] [OPTIONS]",
	.help = "Serves the ARM routes of Azure Site Recovery (protected items, recovery points, failover,\n"
		"test failover, commit, change point, cancel, switch protection, jobs), Compute and Network\n"
		"(VM facts, power off), a token endpoint (/{tenant}/oauth2/v2.0/token) and an instance-metadata\n"
		"endpoint, over the same simulator as backend kind sim. Point a runbook's backend at it:\n"
		"  backend: {kind: azure, endpoint: http://127.0.0.1:PORT, subscription: ..., ...}\n"
		"\nOptions:\n"
		"  -l, --listen ADDR      127.0.0.1:PORT, loopback only (default 127.0.0.1:0: a free port); the\n"
		"                         URL is printed as one line on stdout\n"
		"      --port-file FILE   also write the URL into FILE (atomically), for scripts\n"
		"  -s, --state FILE       keep the simulated service in FILE across restarts (default: memory)\n"
		"  -i, --inventory FILE   the VMs: a file with a vms: list, or a runbook (its backend.vms and\n"
		"                         backend.inventory); default: the quickstart's six shop VMs\n"
		"      --faults SPEC      faults to inject: a YAML/JSON list, or @FILE (docs/emulator.md)\n"
		"      --seed N           seed of the faults' and durations' random draws (default: 0, or the\n"
		"                         state file's)\n"
		"      --audit FILE       append every mutating call as a JSON line to FILE\n"
		"      --speed N          jobs run N times faster than the service's (default 1)\n"
		"      --contract FILE    check every ASR request against this OpenAPI file; violations get 400\n"
		"      --subscription ID, --resource-group NAME, --vault NAME\n"
		"                         the vault served (default 00000000-0000-0000-0000-000000000000,\n"
		"                         drover-sim, drover-sim-vault)\n"
		"      --client ID:SECRET a principal the token endpoint accepts (repeatable; default\n"
		"                         drover-emulator-client:drover-emulator-secret)\n"
		"      --client-cert ID:FILE  the PEM certificate client ID signs its assertions with (verified:\n"
		"                         RS256 signature, x5t, iss = sub = ID, audience, time)\n"
		"      --page-size N      items and jobs per page before a nextLink (default 100)\n"
		"      --no-limits        no token bucket (ARM's 250 reads / 200 writes, refilled 25/s and 10/s)\n"
		"  -h, --help             show this help\n"
		"\nStops cleanly on SIGTERM or SIGINT (state saved). docs/emulator.md has a CI example.\n",
	.main = emulator_main,
};

typedef struct cli_opts {
	dr_emu_opts e;
	const char *port_file;
	const char **clients, **certs;
	size_t n_clients, n_certs;
} cli_opts;

enum { O_PORT_FILE = 256, O_FAULTS, O_SEED, O_AUDIT, O_SPEED, O_CONTRACT, O_SUB, O_RG, O_VAULT, O_CLIENT,
       O_PAGE, O_NO_LIMITS, O_CLIENT_CERT };

static int bad_number(const char *opt, const char *v)
{
	return dr_cli_usage_error(&dr_cmd_emulator, "%s: '%s' is not a valid number", opt, v);
}

static int one_option(void *ctx, int c, const char *v)
{
	cli_opts *o = ctx;
	char *end;
	switch (c) {
	case 'l': o->e.listen = v; break;
	case 's': o->e.state_path = v; break;
	case 'i': o->e.inventory = v; break;
	case O_PORT_FILE: o->port_file = v; break;
	case O_FAULTS: o->e.faults = v; break;
	case O_AUDIT: o->e.audit_path = v; break;
	case O_CONTRACT: o->e.contract_path = v; break;
	case O_SUB: o->e.subscription = v; break;
	case O_RG: o->e.resource_group = v; break;
	case O_VAULT: o->e.vault = v; break;
	case O_NO_LIMITS: o->e.no_limits = true; break;
	case O_CLIENT_CERT:
		o->certs = realloc(o->certs, (o->n_certs + 1) * sizeof *o->certs);
		o->certs[o->n_certs++] = v;
		break;
	case O_CLIENT:
		o->clients = realloc(o->clients, (o->n_clients + 1) * sizeof *o->clients);
		o->clients[o->n_clients++] = v;
		break;
	case O_SEED:
		errno = 0;
		o->e.seed = strtoull(v, &end, 10);
		o->e.seed_given = true;
		if (!*v || *end || errno)
			return bad_number("--seed", v);
		break;
	case O_SPEED:
		o->e.speed = strtod(v, &end);
		if (!*v || *end || !(o->e.speed > 0) || o->e.speed > 1e6)
			return dr_cli_usage_error(&dr_cmd_emulator, "--speed: '%s' must be a number above 0", v);
		break;
	case O_PAGE:
		o->e.page_size = (size_t)strtoul(v, &end, 10);
		if (!*v || *end || o->e.page_size == 0)
			return bad_number("--page-size", v);
		break;
	default: return dr_cli_usage_error(&dr_cmd_emulator, "unrecognised option");
	}
	return -1;
}

static int parse_args(int argc, char **argv, cli_opts *o)
{
	static const struct option longopts[] = {
		{"listen", required_argument, NULL, 'l'}, {"state", required_argument, NULL, 's'},
		{"inventory", required_argument, NULL, 'i'}, {"port-file", required_argument, NULL, O_PORT_FILE},
		{"faults", required_argument, NULL, O_FAULTS}, {"seed", required_argument, NULL, O_SEED},
		{"audit", required_argument, NULL, O_AUDIT}, {"speed", required_argument, NULL, O_SPEED},
		{"contract", required_argument, NULL, O_CONTRACT}, {"subscription", required_argument, NULL, O_SUB},
		{"resource-group", required_argument, NULL, O_RG}, {"vault", required_argument, NULL, O_VAULT},
		{"client", required_argument, NULL, O_CLIENT}, {"page-size", required_argument, NULL, O_PAGE},
		{"no-limits", no_argument, NULL, O_NO_LIMITS}, {"client-cert", required_argument, NULL, O_CLIENT_CERT},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	o->e.listen = "127.0.0.1:0";
	int rc = dr_cli_parse(&dr_cmd_emulator, argc, argv, "l:s:i:h", longopts, one_option, o);
	if (rc >= 0)
		return rc;
	if (optind < argc)
		return dr_cli_usage_error(&dr_cmd_emulator, "unexpected argument '%s' (the emulator takes options only)",
					  argv[optind]);
	rc = dr_cli_check_output(&dr_cmd_emulator, NULL, "--port-file", o->port_file);
	if (rc >= 0 || (rc = dr_cli_check_output(&dr_cmd_emulator, NULL, "--audit", o->e.audit_path)) >= 0)
		return rc; /* a mistyped folder is refused before the emulator listens, not made */
	o->e.clients = o->clients;
	o->e.n_clients = o->n_clients;
	o->e.client_certs = o->certs;
	o->e.n_client_certs = o->n_certs;
	return -1;
}

static int write_port_file(const char *path, const char *url)
{
	char line[256];
	dr_buf why;
	int n = snprintf(line, sizeof line, "%s\n", url);
	dr_buf_init(&why);
	int rc = dr_fs_write_atomic(path, line, (size_t)n, DR_FS_NAMED, &why);
	if (rc < 0)
		fprintf(stderr, "drover emulator: cannot write --port-file '%s': %s\n", path, why.data ? why.data : "");
	dr_buf_dispose(&why);
	return rc;
}

/* Serve until SIGTERM, SIGINT or SIGHUP (blocked in every thread, taken here). */
static int serve(dr_emu *e, const cli_opts *o, const sigset_t *set)
{
	char url[160], err[512];
	int sig;
	if (dr_emu_start(e, url, sizeof url, err, sizeof err) < 0) {
		fprintf(stderr, "drover emulator: %s\n", err);
		return DR_EXIT_INVALID;
	}
	if (o->port_file && write_port_file(o->port_file, url) < 0)
		return DR_EXIT_INTERNAL;
	printf("%s\n", url);
	fflush(stdout);
	sigwait(set, &sig);
	dr_emu_stop(e);
	if (dr_emu_flush(e, err, sizeof err) < 0) {
		fprintf(stderr, "drover emulator: stopped, but the state was not saved: %s\n", err);
		return DR_EXIT_INTERNAL;
	}
	return DR_EXIT_OK;
}

static int emulator_main(int argc, char **argv)
{
	cli_opts o = {0};
	char err[1024];
	sigset_t set;
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0) {
		free(o.clients);
		free(o.certs);
		return rc;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL); /* before any thread starts: they all inherit it */
	signal(SIGPIPE, SIG_IGN);
	dr_diags *d = dr_diags_new();
	dr_emu *e = dr_emu_new(&o.e, d, err, sizeof err);
	if (!e) {
		dr_diags_sort(d);
		dr_diags_render_text(d, stderr, dr_cli_use_color(stderr));
		if (err[0])
			fprintf(stderr, "drover emulator: %s\n", err);
		rc = DR_EXIT_INVALID;
	} else {
		rc = serve(e, &o, &set);
	}
	dr_emu_free(e);
	dr_diags_free(d);
	free(o.clients);
	free(o.certs);
	return rc;
}
