/*
 * cli/sim.c - `drover sim reset|show|advance|resume`: look at, reset and
 * move the clock of the embedded simulator's state file, and resume a job
 * that waits for a person (the fault `suspend`) as a person would in the
 * service, the service that separate
 * `drover run` invocations share (failover today, commit and reprotect
 * tomorrow).
 *
 * show prints what the service would show: each protected item with its
 * protection state, active location, allowed operations, newest recovery
 * points and VM health, then the jobs in progress and the recent ones (the
 * Jobs page), and with --audit every mutating call. It never writes.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "backends/sim.h"
#include "cli/cli.h"
#include "front/runbook.h"
#include "journal/journal.h"
#include "util/fs.h"
#include "util/holder.h"
#include "util/text.h"

static int sim_main(int argc, char **argv);

const dr_command dr_cmd_sim = {
	.name = "sim",
	.summary = "Show or reset the embedded simulator's state, move its time forward, or resume a job.",
	.usage = "reset|show|advance DURATION|resume JOB [--state FILE|--state-dir DIR] [--format text|json] [--audit] [--now TIME] "
		 "[--force] [RUNBOOK]",
	.help = "Subcommands:\n"
		"  show    print the simulated service: VMs (protection state, active location, allowed\n"
		"          operations, newest recovery points, VM health), jobs in progress and recent jobs\n"
		"  reset   forget everything: with a RUNBOOK, start again from its inventory (every VM\n"
		"          Protected); without, remove the state file\n"
		"  advance DURATION\n"
		"          move the simulator's time forward (30m, 2h, 1d): jobs progress, replication goes on\n"
		"          and recovery points accrue, e.g. to wait for the first processed point after a\n"
		"          reprotect without waiting for real\n"
		"  resume JOB\n"
		"          a person resumes a job that waits for a manual action (Suspended; the fault\n"
		"          `suspend`): the manual action ends now and the job goes on, as Resume on the\n"
		"          Site Recovery jobs page does; JOB is the job's name (or id) drover printed.\n"
		"          Then `drover resume --retry-failed RUN` goes on with the job (posting nothing)\n"
		"\nOptions:\n"
		"  -s, --state FILE   the state file (default: $DROVER_SIM_STATE, else\n"
		"                     ${DROVER_STATE_DIR:-.drover}/sim-state.json)\n"
		"      --state-dir DIR\n"
		"                     the state directory of the runs (as run --state-dir): its\n"
		"                     sim-state.json, unless --state or $DROVER_SIM_STATE says otherwise\n"
		"  -f, --format FMT   text (default) or json (show)\n"
		"      --audit        also print the audit log of mutating calls (show)\n"
		"      --now TIME     the time to look at, RFC 3339 (default: the simulator's own time,\n"
		"                     where the last run left it, or the wall clock for a new state; the\n"
		"                     simulator never goes back in time); advance: the time to advance from;\n"
		"                     resume: when the person resumes\n"
		"      --stdlib DIR   where use: finds composite actions (RUNBOOK)\n"
		"      --force        reset even though a run that did not finish (its drover was killed)\n"
		"                     left the state: its operations may be half done in it\n"
		"  -h, --help         show this help\n"
		"\nWith a RUNBOOK, its backend options apply (inventory, seed, faults); VMs the state does\n"
		"not know yet are shown as Protected. docs/backends.md describes the simulator.\n"
		"Exit status: 0 done; 1 the service refused (a job that does not wait), no state to show;\n"
		"2 usage error or a runbook with errors; 5 busy: a run (or another drover) holds the state,\n"
		"nothing was changed; 6 stale (reset): a run that did not finish left the state (its drover\n"
		"was killed): nothing was changed, resume that run (or --force). advance and resume go on,\n"
		"with a note: they are what the service does while drover is down.\n"
		"Example: drover sim show --audit examples/quickstart.yaml\n",
	.main = sim_main,
};

typedef struct opts {
	const char *sub, *state, *state_dir, *runbook, *stdlib;
	bool json, audit, force;
	int64_t now_ms;
	bool now_given; /* --now */
	int64_t advance_ms; /* advance: how far */
	const char *job; /* resume: the job's name or id */
} opts;

static int64_t wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int one_option(void *ctx, int c, const char *arg)
{
	opts *o = ctx;
	switch (c) {
	case 's': o->state = arg; return -1;
	case 'd': o->state_dir = arg; return -1;
	case 'f':
		if (strcmp(arg, "text") != 0 && strcmp(arg, "json") != 0)
			return dr_cli_usage_error(&dr_cmd_sim, "unknown format '%s' (text or json)", arg);
		o->json = strcmp(arg, "json") == 0;
		return -1;
	case 'a': o->audit = true; return -1;
	case 'F': o->force = true; return -1;
	case 'n':
		if (!dr_backend_parse_time(arg, &o->now_ms))
			return dr_cli_usage_error(&dr_cmd_sim, "--now: '%s' is not an RFC 3339 time", arg);
		return -1;
	default: o->stdlib = arg; return -1; /* 'S' */
	}
}

static int parse_args(int argc, char **argv, opts *o)
{
	static const struct option longopts[] = {
		{"state", required_argument, NULL, 's'}, {"state-dir", required_argument, NULL, 'd'},
		{"format", required_argument, NULL, 'f'}, {"audit", no_argument, NULL, 'a'}, {"now", required_argument, NULL, 'n'},
		{"stdlib", required_argument, NULL, 'S'}, {"help", no_argument, NULL, 'h'}, {"force", no_argument, NULL, 'F'},
		{NULL, 0, NULL, 0},
	};
	int rc = dr_cli_parse(&dr_cmd_sim, argc, argv, "s:f:h", longopts, one_option, o);
	if (rc >= 0)
		return rc;
	int rest = argc - optind;
	if (rest < 1)
		return dr_cli_usage_error(&dr_cmd_sim, "expected reset, show, advance DURATION or resume JOB");
	o->sub = argv[optind++];
	rest--;
	if (strcmp(o->sub, "advance") == 0) {
		size_t bad;
		if (rest < 1)
			return dr_cli_usage_error(&dr_cmd_sim, "advance: how far? (a duration like 30m or 2h)");
		if (!dr_text_parse_duration(argv[optind], &o->advance_ms, &bad) || o->advance_ms <= 0)
			return dr_cli_usage_error(&dr_cmd_sim, "advance '%s': expected a duration longer than 0 like 30m",
						  argv[optind]);
		optind++;
		rest--;
	} else if (strcmp(o->sub, "resume") == 0) {
		if (rest < 1 || !*argv[optind])
			return dr_cli_usage_error(&dr_cmd_sim, "resume: which job? (its name, as drover printed it)");
		o->job = argv[optind++];
		rest--;
	} else if (strcmp(o->sub, "reset") != 0 && strcmp(o->sub, "show") != 0) {
		return dr_cli_usage_error(&dr_cmd_sim, "unknown subcommand '%s' (reset, show, advance or resume)", o->sub);
	}
	if (rest > 1)
		return dr_cli_usage_error(&dr_cmd_sim, "at most one runbook ('%s' is extra)", argv[optind + 1]);
	o->runbook = rest == 1 ? argv[optind] : NULL;
	return -1;
}

/* ---- formatting helpers ------------------------------------------------------------------- */

/* printf a table row without the padding a last empty column leaves. */
__attribute__((format(printf, 1, 2))) static void row(const char *fmt, ...)
{
	char line[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	size_t n = strlen(line);
	while (n && line[n - 1] == ' ')
		line[--n] = '\0';
	puts(line);
}

static const char *when(char *buf, size_t n, int64_t ms)
{
	if (ms < 0)
		return "-";
	dr_backend_format_time(ms, buf, n);
	return buf;
}

static const char *ago(char *buf, size_t n, int64_t now, int64_t then)
{
	char d[32];
	if (then < 0)
		return "-";
	dr_text_human_duration(now - then, d, sizeof d);
	snprintf(buf, n, "%s ago", d);
	return buf;
}

static const dr_be_point *newest(const dr_be_point *pts, size_t n, dr_point_policy policy, const dr_be_item *it,
				 int64_t now)
{
	dr_be_point_query q = {.policy = policy, .max_age_ms = -1};
	dr_be_choice c;
	return dr_backend_choose_point(it, pts, n, &q, now, &c) == DR_BE_PICK_OK ? c.point : NULL;
}

/* ---- text ------------------------------------------------------------------------------------------ */

static void vm_text(char *out, size_t n, const dr_be_item *it)
{
	const dr_be_vm *vm = it->test_vm.exists ? &it->test_vm : dr_backend_active_vm(it);
	if (!vm->exists) {
		snprintf(out, n, "none");
		return;
	}
	snprintf(out, n, "%s%s%s%s, %s", it->test_vm.exists ? "test VM " : "", dr_backend_power_name(vm->power),
		 vm->power == DR_BE_POWER_RUNNING ? ", " : "",
		 vm->power == DR_BE_POWER_RUNNING ? dr_backend_health_name(vm->health) : "", vm->ip);
}

/* now: the simulator's time (ages, point choice); caller: the time the backend calls take (dr_sim_time adds the offset). */
static void item_text(dr_backend *be, dr_arena *a, const dr_be_item *it, int64_t now, int64_t caller)
{
	dr_be_point *pts;
	size_t n;
	dr_be_error err;
	char b1[48], b2[48], vm[128];
	if (dr_backend_list_points(be, a, caller, it->id, &pts, &n, &err) < 0)
		n = 0;
	const dr_be_point *lp = newest(pts, n, DR_POINT_LATEST_PROCESSED, it, now);
	const dr_be_point *ap = newest(pts, n, DR_POINT_LATEST_APP_CONSISTENT, it, now);
	vm_text(vm, sizeof vm, it);
	row("%-16s %-34s %-9s %-38s %-13s %-13s %s", it->name, it->protection_state_description,
	       dr_backend_location_name(it->active_location), dr_backend_allowed_text(a, it->allowed_ops),
	       ago(b1, sizeof b1, now, lp ? lp->time_ms : -1), ago(b2, sizeof b2, now, ap ? ap->time_ms : -1), vm);
}

static const char *current_task(char *out, size_t n, const dr_be_job *j)
{
	for (size_t i = 0; i < j->n_tasks; i++)
		if (j->tasks[i].state == DR_BE_JOB_IN_PROGRESS || j->tasks[i].state == DR_BE_JOB_FAILED) {
			snprintf(out, n, "%s (%zu/%zu)", j->tasks[i].name, i + 1, j->n_tasks);
			return out;
		}
	return j->n_errors ? j->errors[0].error.message : "";
}

static void job_text(const dr_be_job *j, int64_t now)
{
	char start[40], dur[32], task[256];
	int64_t end = j->end_ms >= 0 ? j->end_ms : now;
	dr_text_human_duration(end - j->start_ms, dur, sizeof dur);
	row("%.8s  %-22s %-16s %-25s %-24s %-9s %s", j->name, j->friendly_name, j->item_name,
	       j->state == DR_BE_JOB_SUCCEEDED ? j->state_description : dr_backend_job_state_name(j->state),
	       when(start, sizeof start, j->start_ms), dur, current_task(task, sizeof task, j));
}

static void jobs_text(dr_be_job *jobs, size_t n, int64_t now)
{
	size_t running = 0, first_recent = n > 10 ? n - 10 : 0, shown = 0;
	for (size_t i = 0; i < n; i++)
		running += !dr_backend_job_done(jobs[i].state);
	printf("\nJobs: %zu in progress, %zu finished\n", running, n - running);
	if (!n)
		return;
	row("%-8s  %-22s %-16s %-25s %-24s %-9s %s", "JOB", "OPERATION", "VM", "STATUS", "STARTED",
	       "DURATION", "TASK");
	for (size_t i = 0; i < n; i++)
		if (!dr_backend_job_done(jobs[i].state) || i >= first_recent) {
			job_text(&jobs[i], now);
			shown++;
		}
	if (shown < n)
		printf("(%zu older finished jobs not shown; --format json lists them all)\n", n - shown);
}

static void audit_text(dr_sim_audit_rec *recs, size_t n)
{
	char t[40];
	printf("\nAudit log: %zu mutating call%s\n", n, n == 1 ? "" : "s");
	for (size_t i = 0; i < n; i++)
		row("%s  %-22s %-16s %-9s %-10s %s", when(t, sizeof t, recs[i].time_ms), recs[i].op, recs[i].item,
		       recs[i].result, *recs[i].key ? recs[i].key : "-",
		       recs[i].job ? recs[i].job : recs[i].code ? recs[i].code : "");
}

static void show_text(dr_backend *be, dr_arena *a, const opts *o, int64_t now, dr_be_item *items, size_t n,
		      dr_be_job *jobs, size_t nj)
{
	char t[40];
	printf("Simulator state: %s\nTime: %s (seed %llu)\n\n", *dr_sim_path(be) ? dr_sim_path(be) : "(none)",
	       when(t, sizeof t, now), (unsigned long long)dr_sim_seed(be));
	row("%-16s %-34s %-9s %-38s %-13s %-13s %s", "VM", "PROTECTION STATE", "ACTIVE", "ALLOWED OPERATIONS",
	       "LATEST POINT", "APP POINT", "VM (ACTIVE SIDE)");
	for (size_t i = 0; i < n; i++)
		item_text(be, a, &items[i], now, o->now_ms);
	jobs_text(jobs, nj, now);
	if (o->audit) {
		dr_sim_audit_rec *recs;
		size_t nr = dr_sim_audit(be, a, &recs);
		audit_text(recs, nr);
	}
}

/* ---- json ----------------------------------------------------------------------------------------- */

static void add_time(cJSON *o, const char *key, int64_t ms)
{
	char t[40];
	if (ms < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddStringToObject(o, key, when(t, sizeof t, ms));
}

static cJSON *point_json(const dr_be_point *p)
{
	if (!p)
		return cJSON_CreateNull();
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", p->id);
	add_time(o, "time", p->time_ms);
	cJSON_AddStringToObject(o, "type", dr_backend_point_type_name(p->type));
	return o;
}

static cJSON *vm_json(const dr_be_vm *vm)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "exists", vm->exists);
	cJSON_AddStringToObject(o, "power", dr_backend_power_name(vm->power));
	cJSON_AddStringToObject(o, "health", dr_backend_health_name(vm->health));
	cJSON_AddStringToObject(o, "region", vm->region ? vm->region : "");
	cJSON_AddStringToObject(o, "ip", vm->ip ? vm->ip : "");
	return o;
}

static cJSON *allowed_json(unsigned ops)
{
	cJSON *a = cJSON_CreateArray();
	for (int i = 0; i < DR_BE_OP_COUNT; i++)
		if ((ops & DR_BE_OP_BIT(i)) && dr_backend_op_asr_name((dr_be_op)i))
			cJSON_AddItemToArray(a, cJSON_CreateString(dr_backend_op_asr_name((dr_be_op)i)));
	return a;
}

static cJSON *item_json(dr_backend *be, dr_arena *a, const dr_be_item *it, int64_t now, int64_t caller)
{
	dr_be_point *pts;
	size_t n;
	dr_be_error err;
	if (dr_backend_list_points(be, a, caller, it->id, &pts, &n, &err) < 0)
		n = 0;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", it->name);
	cJSON_AddStringToObject(o, "id", it->id);
	cJSON_AddStringToObject(o, "state", dr_backend_state_name(it->state));
	cJSON_AddStringToObject(o, "protection_state", it->protection_state);
	cJSON_AddStringToObject(o, "protection_state_description", it->protection_state_description);
	cJSON_AddStringToObject(o, "test_failover_state", it->test_failover_state);
	cJSON_AddStringToObject(o, "active_location", dr_backend_location_name(it->active_location));
	cJSON_AddItemToObject(o, "allowed_operations", allowed_json(it->allowed_ops));
	it->rpo_ms >= 0 ? (void)cJSON_AddNumberToObject(o, "rpo_ms", (double)it->rpo_ms)
			: (void)cJSON_AddNullToObject(o, "rpo_ms");
	cJSON_AddNumberToObject(o, "recovery_points", (double)n);
	cJSON_AddItemToObject(o, "latest_processed_point", point_json(newest(pts, n, DR_POINT_LATEST_PROCESSED, it, now)));
	cJSON_AddItemToObject(o, "latest_app_consistent_point",
			      point_json(newest(pts, n, DR_POINT_LATEST_APP_CONSISTENT, it, now)));
	it->current_job_id ? (void)cJSON_AddStringToObject(o, "current_job", it->current_job_id)
			   : (void)cJSON_AddNullToObject(o, "current_job");
	cJSON *vms = cJSON_AddObjectToObject(o, "vms");
	cJSON_AddItemToObject(vms, "primary", vm_json(&it->primary_vm));
	cJSON_AddItemToObject(vms, "recovery", vm_json(&it->recovery_vm));
	cJSON_AddItemToObject(vms, "test", vm_json(&it->test_vm));
	return o;
}

static cJSON *job_json(const dr_be_job *j)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", j->id);
	cJSON_AddStringToObject(o, "operation", dr_backend_op_name(j->op));
	cJSON_AddStringToObject(o, "scenario", j->scenario);
	cJSON_AddStringToObject(o, "item", j->item_name);
	cJSON_AddStringToObject(o, "state", dr_backend_job_state_name(j->state));
	cJSON_AddStringToObject(o, "state_description", j->state_description);
	add_time(o, "start", j->start_ms);
	add_time(o, "end", j->end_ms);
	cJSON *tasks = cJSON_AddArrayToObject(o, "tasks");
	for (size_t i = 0; i < j->n_tasks; i++) {
		cJSON *t = cJSON_CreateObject();
		cJSON_AddStringToObject(t, "name", j->tasks[i].name);
		cJSON_AddStringToObject(t, "state", dr_backend_job_state_name(j->tasks[i].state));
		cJSON_AddItemToArray(tasks, t);
	}
	cJSON *errors = cJSON_AddArrayToObject(o, "errors");
	for (size_t i = 0; i < j->n_errors; i++) {
		cJSON *e = cJSON_CreateObject();
		cJSON_AddStringToObject(e, "level", j->errors[i].warning ? "Warning" : "Error");
		cJSON_AddStringToObject(e, "code", j->errors[i].error.code);
		cJSON_AddStringToObject(e, "message", j->errors[i].error.message);
		cJSON_AddItemToArray(errors, e);
	}
	return o;
}

static cJSON *audit_json(dr_backend *be, dr_arena *a)
{
	dr_sim_audit_rec *recs;
	size_t n = dr_sim_audit(be, a, &recs);
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++) {
		cJSON *r = cJSON_CreateObject();
		add_time(r, "time", recs[i].time_ms);
		cJSON_AddStringToObject(r, "op", recs[i].op);
		cJSON_AddStringToObject(r, "item", recs[i].item);
		cJSON_AddStringToObject(r, "key", recs[i].key);
		cJSON_AddStringToObject(r, "result", recs[i].result);
		recs[i].job ? (void)cJSON_AddStringToObject(r, "job", recs[i].job) : (void)cJSON_AddNullToObject(r, "job");
		recs[i].code ? (void)cJSON_AddStringToObject(r, "code", recs[i].code)
			     : (void)cJSON_AddNullToObject(r, "code");
		cJSON_AddItemToArray(arr, r);
	}
	return arr;
}

static void show_json(dr_backend *be, dr_arena *a, const opts *o, int64_t now, dr_be_item *items, size_t n,
		      dr_be_job *jobs, size_t nj)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "state_file", dr_sim_path(be));
	add_time(root, "time", now);
	cJSON_AddNumberToObject(root, "seed", (double)dr_sim_seed(be));
	cJSON *arr = cJSON_AddArrayToObject(root, "items");
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, item_json(be, a, &items[i], now, o->now_ms));
	arr = cJSON_AddArrayToObject(root, "jobs");
	for (size_t i = 0; i < nj; i++)
		cJSON_AddItemToArray(arr, job_json(&jobs[i]));
	if (o->audit)
		cJSON_AddItemToObject(root, "audit", audit_json(be, a));
	char *text = cJSON_Print(root);
	puts(text);
	free(text);
	cJSON_Delete(root);
}

/* ---- the subcommands ---------------------------------------------------------------------------------- */

static void put_message(const char *what, const dr_buf *b)
{
	fprintf(stderr, "drover sim %s: ", what);
	dr_cli_put_term(b->data, stderr);
}

/*
 * Another drover holds the simulator's state: busy (exit 5), in the words of a busy run lock - who holds it
 * (its lock says: dr_sim_lock_holder), that nothing was changed, and what to do.
 */
static int busy(const char *what, const char *path, dr_arena *a)
{
	bool held;
	cJSON *h = dr_sim_lock_holder(path, &held);
	const char *run = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "run"));
	dr_buf b, c;
	dr_buf_init(&b);
	dr_buf_init(&c);
	if (run)
		dr_buf_printf(&b,
			      "busy: run %s holds the simulator state %s (pid %ld on %s, since %s).\n"
			      "Changing the simulator under a run would change what the run finds. Wait for it to end (%s), "
			      "or stop it (kill -INT %ld) and resume it later; nothing was changed (the lock is %s.lock)\n",
			      run, path, dr_holder_pid(h), dr_holder_field(h, "host"), dr_holder_field(h, "since"),
			      dr_journal_command(&c, "status", dr_holder_field(h, "state_dir"), run), dr_holder_pid(h), path);
	else
		dr_buf_printf(&b,
			      "busy: another drover process%s holds the simulator state %s.\n"
			      "Changing the simulator under it would change what it finds. Wait for it to end, then try "
			      "again; nothing was changed (the lock is %s.lock)\n",
			      h ? dr_arena_printf(a, " (pid %ld on %s, since %s)", dr_holder_pid(h), dr_holder_field(h, "host"),
						  dr_holder_field(h, "since"))
				: "",
			      path, path);
	put_message(what, &b);
	dr_buf_dispose(&b);
	dr_buf_dispose(&c);
	cJSON_Delete(h);
	return DR_EXIT_BUSY;
}

/*
 * A run's holder left the lock: it did not finish. reset would lose what its operations did (exit 6, unless
 * --force); advance and resume JOB are what the service does while drover is down (time passes, a person
 * resumes a job): a note, with the run's resume command.
 */
static int left_by_run(const char *what, const char *path, const cJSON *h, bool force)
{
	const char *run = dr_holder_field(h, "run"), *dir = dr_holder_field(h, "state_dir");
	bool refuse = !force && !strcmp(what, "reset");
	dr_buf b, status, resume;
	dr_buf_init(&b);
	dr_buf_init(&status);
	dr_buf_init(&resume);
	if (!refuse)
		dr_buf_printf(&b, "%s: %s the simulator state %s, which run %s left when it stopped (pid %ld on %s, since %s) "
				  "without finishing; its operations may be half done in it, and its resume (%s) finds the "
				  "service as this leaves it\n",
			      force ? "--force" : "note", force ? "changing" : "going on with", path, run, dr_holder_pid(h),
			      dr_holder_field(h, "host"), dr_holder_field(h, "since"), dr_journal_command(&resume, "resume", dir, run));
	else
		dr_buf_printf(&b,
			      "run %s did not finish: the drover that ran it (pid %ld on %s, since %s) stopped without letting "
			      "go of the simulator state %s, and its operations may be half done in it.\n"
			      "Resetting the simulator now would lose what they did, and its resume could not settle them: "
			      "nothing was changed. Look at it (%s) and resume it (%s); or, if you are sure it is over with, "
			      "reset anyway with --force\n",
			      run, dr_holder_pid(h), dr_holder_field(h, "host"), dr_holder_field(h, "since"), path,
			      dr_journal_command(&status, "status", dir, run), dr_journal_command(&resume, "resume", dir, run));
	put_message(what, &b);
	dr_buf_dispose(&b);
	dr_buf_dispose(&status);
	dr_buf_dispose(&resume);
	return refuse ? DR_EXIT_STALE : -1;
}

/*
 * Before reset, advance or resume change the state: a lock its holder left (killed). A run's that did not
 * finish: left_by_run (*keep: the record stays after this command, but for a reset); another's (a killed sim
 * command or emulator, a run that had ended) gets a note. Returns -1 to go on, or the exit status.
 */
static int left_lock(const char *what, const char *path, bool force, bool *keep, dr_arena *a)
{
	bool held;
	cJSON *h = dr_sim_lock_holder(path, &held);
	if (!h || held) {
		cJSON_Delete(h);
		return -1; /* free, or busy: dr_sim_open says so */
	}
	const char *run = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "run"));
	const char *dir = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "state_dir"));
	int rc = -1;
	if (run && dir && !dr_journal_run_over(dir, run)) {
		rc = left_by_run(what, path, h, force);
		*keep = strcmp(what, "reset") != 0; /* advance, resume JOB: the run's record stays for its resume */
	} else {
		dr_buf b;
		dr_buf_init(&b);
		dr_buf_printf(&b, "note: the last holder of the simulator state %s (%s%spid %ld on %s, since %s) stopped "
				  "without letting go of it; %s\n",
			      path, run ? "run " : "", run ? dr_arena_printf(a, "%s, ", run) : "", dr_holder_pid(h),
			      dr_holder_field(h, "host"), dr_holder_field(h, "since"), run ? "that run had ended" : "it was no run");
		put_message(what, &b);
		dr_buf_dispose(&b);
	}
	cJSON_Delete(h);
	return rc;
}

static int system_error(const char *what, const char *path, dr_arena *a, const dr_be_error *err)
{
	if (err->code && !strcmp(err->code, "StateFileLocked"))
		return busy(what, path, a);
	fprintf(stderr, "drover sim %s: %s [%s]\n", what, err->message, err->code);
	if (err->possible_causes)
		fprintf(stderr, "  possible causes: %s\n", err->possible_causes);
	if (err->recommended_action)
		fprintf(stderr, "  recommended action: %s\n", err->recommended_action);
	return DR_EXIT_FAILED;
}

static int show(dr_backend *be, dr_arena *a, const opts *o)
{
	dr_be_item *items;
	dr_be_job *jobs;
	size_t n, nj;
	dr_be_error err;
	int64_t at = o->now_given || dr_sim_state_time(be) < 0 ? o->now_ms : dr_sim_state_time(be); /* its own time */
	int64_t now = dr_sim_time(be, at); /* backend calls take the caller's time: they add the offset themselves */
	if (dr_backend_list_items(be, a, at, &items, &n, &err) < 0 ||
	    dr_backend_list_jobs(be, a, at, NULL, &jobs, &nj, &err) < 0)
		return system_error("show", dr_sim_path(be), a, &err);
	opts own = *o;
	own.now_ms = at; /* what the items' points are asked at */
	if (o->json)
		show_json(be, a, &own, now, items, n, jobs, nj);
	else
		show_text(be, a, &own, now, items, n, jobs, nj);
	return DR_EXIT_OK;
}

static int reset(dr_backend *be, dr_arena *a, const opts *o)
{
	dr_be_error err;
	int64_t now = dr_sim_time(be, o->now_ms);
	dr_be_item *items;
	size_t n;
	char t[40];
	if (dr_backend_list_items(be, a, o->now_ms, &items, &n, &err) < 0 || dr_backend_flush(be, a, &err) < 0)
		return system_error("reset", dr_sim_path(be), a, &err);
	printf("Simulator state reset: %s (%zu VM%s, all Protected, seed %llu, time %s)\n", dr_sim_path(be), n,
	       n == 1 ? "" : "s", (unsigned long long)dr_sim_seed(be), when(t, sizeof t, now));
	return DR_EXIT_OK;
}

static int advance(dr_backend *be, dr_arena *a, const opts *o)
{
	dr_be_error err;
	char t0[40], t1[40], d[32];
	int64_t from = o->now_given ? o->now_ms : dr_sim_state_time(be); /* from where the service is, not the wall clock */
	if (from < 0)
		from = o->now_ms;
	int64_t before = dr_sim_time(be, from);
	int64_t after = dr_sim_advance(be, from, o->advance_ms);
	if (dr_backend_flush(be, a, &err) < 0)
		return system_error("advance", dr_sim_path(be), a, &err);
	dr_text_human_duration(o->advance_ms, d, sizeof d);
	printf("Simulator time advanced by %s: %s -> %s (%s)\n", d, when(t0, sizeof t0, before),
	       when(t1, sizeof t1, after), dr_sim_path(be));
	return DR_EXIT_OK;
}

/* A person resumes a Suspended job, at the service's own time (or --now). */
static int resume(dr_backend *be, dr_arena *a, const opts *o)
{
	dr_be_error err;
	dr_be_job j;
	char t[40];
	int64_t at = o->now_given || dr_sim_state_time(be) < 0 ? o->now_ms : dr_sim_state_time(be);
	if (dr_sim_resume_job(be, a, at, o->job, &err) < 0) {
		system_error("resume", dr_sim_path(be), a, &err);
		if (dr_backend_get_job(be, a, at, o->job, &j, &err) == 0)
			fprintf(stderr, "  the job is %s%s\n", dr_backend_job_state_name(j.state),
				j.item_name ? dr_arena_printf(a, " (%s of '%s')", dr_backend_op_name(j.op), j.item_name) : "");
		fprintf(stderr, "  nothing was changed: %s is as it was; 'drover sim show' lists the jobs\n", dr_sim_path(be));
		return DR_EXIT_FAILED;
	}
	if (dr_backend_flush(be, a, &err) < 0)
		return system_error("resume", dr_sim_path(be), a, &err);
	const char *state = dr_backend_get_job(be, a, at, o->job, &j, &err) == 0 ? dr_backend_job_state_name(j.state) : "?";
	printf("Job %s resumed at %s: the manual action is done and the job goes on (%s now; %s)\n", o->job,
	       when(t, sizeof t, dr_sim_time(be, at)), state, dr_sim_path(be));
	printf("A run that stopped waiting for it goes on with: drover resume --retry-failed RUN (it posts nothing again)\n");
	return DR_EXIT_OK;
}

static bool exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* reset without a runbook: remove the file. */
static int remove_state(const char *path, dr_arena *a)
{
	dr_be_error err;
	bool was = exists(path);
	if (dr_sim_remove_state(path, a, &err) < 0)
		return system_error("reset", path, a, &err);
	printf(was ? "Simulator state removed: %s\n" : "No simulator state at %s: nothing to reset\n", path);
	return DR_EXIT_OK;
}

/* The runbook's backend: node (NULL without a runbook); *rc set when it cannot be used. */
static const dr_node *runbook_backend(const opts *o, dr_runbook **rb, dr_diags *d, int *rc)
{
	if (!o->runbook)
		return NULL;
	*rb = dr_runbook_compile(o->runbook, d, dr_cli_stdlib_dir(o->stdlib));
	if (!*rb || dr_diags_errors(d) > 0) {
		*rc = DR_EXIT_INVALID;
		return NULL;
	}
	if ((*rb)->backend.kind != DR_BACKEND_SIM) {
		fprintf(stderr, "drover sim: %s does not use the simulator (backend.kind is not sim)\n", o->runbook);
		*rc = DR_EXIT_INVALID;
		return NULL;
	}
	return (*rb)->backend.node;
}

static int run(const opts *o, dr_arena *a)
{
	char path[4096];
	dr_diags *d = dr_diags_new();
	dr_runbook *rb = NULL;
	int rc = -1;
	const dr_node *cfg = runbook_backend(o, &rb, d, &rc);
	bool is_reset = strcmp(o->sub, "reset") == 0, is_advance = strcmp(o->sub, "advance") == 0;
	bool is_resume = strcmp(o->sub, "resume") == 0;
	const char *slash = o->runbook ? strrchr(o->runbook, '/') : NULL;
	dr_sim_opts so = {
		.state_path = dr_sim_state_path(o->state, o->state_dir, path, sizeof path),
		.base_dir = slash ? dr_arena_strndup(a, o->runbook, (size_t)(slash - o->runbook)) : ".",
		.read_only = !is_reset && !is_advance && !is_resume,
		.fresh = is_reset,
		.make_folder = dr_sim_state_in_dir(o->state),
	};
	bool keep = false;
	if (rc < 0 && (is_reset || is_advance || is_resume))
		rc = left_lock(o->sub, so.state_path, o->force, &keep, a); /* a run killed while it held the state */
	if (rc < 0 && is_reset && !o->runbook)
		rc = remove_state(so.state_path, a);
	if (rc < 0 && !is_reset && !o->runbook && !exists(so.state_path)) { /* show, advance, resume: there must be a state */
		fprintf(stderr, "drover sim: no simulator state at %s (a run creates it; so does 'drover sim reset "
				"RUNBOOK')\n", so.state_path);
		rc = DR_EXIT_FAILED;
	}
	if (rc < 0) {
		dr_be_error err;
		dr_backend *be = dr_sim_open(cfg, &so, a, d, &err);
		if (be && keep)
			dr_sim_lock_keep_left(be);
		rc = !be ? (err.message ? system_error(o->sub, so.state_path, a, &err) : DR_EXIT_INVALID)
			 : is_reset ? reset(be, a, o) : is_advance ? advance(be, a, o) : is_resume ? resume(be, a, o) : show(be, a, o);
		dr_backend_close(be);
	}
	dr_diags_render_text(d, stderr, dr_cli_use_color(stderr));
	dr_runbook_free(rb);
	dr_diags_free(d);
	return rc;
}

static int sim_main(int argc, char **argv)
{
	opts o = {.now_ms = -1};
	int rc = parse_args(argc, argv, &o);
	if (rc >= 0)
		return rc;
	o.now_given = o.now_ms >= 0;
	if (o.now_ms < 0)
		o.now_ms = wall_now();
	dr_arena *a = dr_arena_new();
	rc = run(&o, a);
	dr_arena_free(a);
	return rc;
}
