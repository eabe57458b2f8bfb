/*
 * resume.c - `drover resume RUN-ID`: go on with a run whose drover stopped
 * (a crash, a kill, a power loss, a cancellation) from its journal
 * (docs/journal.md).
 *
 * The run is taken up as it was: the same runbook (its digest is checked;
 * a changed one is refused, with what changed, unless --force), the same
 * parameters, mode, direction, clock kind, seed and concurrency, the same
 * run id (so the same idempotency keys). The executor replays the journal,
 * settles what was in flight by asking the service, and goes on. A run
 * that has ended is not run again: resume says so and exits with that
 * run's status, so `drover resume ID` can be repeated until it is done.
 *
 * --retry-failed takes up a run that ended failed: the journal is replayed
 * without what the failure caused (resume.c), the failed tasks get new
 * attempts, what never started runs, and what completed is not repeated.
 * A run that cannot be retried (rolled back, a drill, a rollback begun,
 * cancelled, not ended) is refused with what to do instead
 * (journal_retry.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/cli.h"
#include "run/exec.h"
#include "journal/journal.h"
#include "util/fs.h"
#include "util/text.h"

static int resume_main(int argc, char **argv);

const dr_command dr_cmd_resume = {
	.name = "resume",
	.summary = "Go on with a run whose drover stopped (crash, kill, cancel), or retry a failed one, from its journal.",
	.usage = "[--retry-failed] [--force] [--yes] [--events FILE|-] [--state-dir DIR] [--report FILE] [--metrics FILE] "
		 "RUN-ID",
	.help = "Options:\n"
		"      --retry-failed      the run ended failed: go on from its failure, once its cause is fixed.\n"
		"                          The failed tasks get new attempts (numbered on, so with new\n"
		"                          idempotency keys), the tasks that never started run, what completed\n"
		"                          is not run again, and the finally steps run again at the end\n"
		"      --force             resume even though the runbook changed since the run started (the\n"
		"                          journal's records that no longer fit are left aside), or take over\n"
		"                          a stale lock of another run\n"
		"  -y, --yes               approve the approval gates still open without asking (the gates\n"
		"                          answered before stay answered)\n"
		"  -e, --events FILE       write this session's events (JSON lines) to FILE; - for standard\n"
		"                          output. What the journal replays is marked \"replayed\": true\n"
		"      --state-dir DIR     where the runs are (default: $DROVER_STATE_DIR, else .drover)\n"
		"      --grace DURATION    as for drover run (default 30s)\n"
		"      --report FILE       when the run ends, write its report (as drover run --report)\n"
		"      --metrics FILE      when the run ends, write its metrics (as drover run --metrics)\n"
		"      --stdlib DIR        where use: finds composites\n"
		"  -q, --quiet             no progress on the screen, only the summary (and a line when an\n"
		"                          approval waits for an answer)\n"
		"      --plain             one line per transition even on a terminal\n"
		"  -h, --help              show this help\n"
		"\nThe finished tasks are not run again. An operation started before drover stopped and never\n"
		"seen to end is settled by asking the service (its action's probe): done, still running (wait\n"
		"for that job), not started (start it, with the same idempotency key) or failed. When the\n"
		"service cannot tell, nothing is started and resume says what to check.\n"
		"\nA run that ended failed is taken up only with --retry-failed: fix the cause (in the service,\n"
		"or in the runbook: then add --force, and resume says what each change means for the retry),\n"
		"then drover resume RUN-ID --retry-failed. Refused for a run that was rolled back (the undo\n"
		"already happened), whose rollback began, or that is a drill (run it again); a cancelled or\n"
		"interrupted run goes on with plain resume, but a cancelled drill, whose cleanup (finally:)\n"
		"removed its test VMs: run the drill again.\n"
		"\nExit status: as drover run; for a run that has ended already, that run's status (with\n"
		"--retry-failed: 0 for a run that succeeded, 2 for one that cannot be retried).\n"
		"'drover runs' lists the runs, 'drover status RUN-ID' shows one. Details: docs/journal.md.\n",
	.main = resume_main,
	.journaled = true,
};

typedef struct options {
	const char *events, *stdlib, *run_id, *metrics;
	dr_cli_reports reports;
	bool quiet, plain, yes, retry;
	dr_exec_opts x;
} options;

enum { OPT_STATE = 256, OPT_GRACE, OPT_STDLIB, OPT_PLAIN, OPT_FORCE, OPT_RETRY, OPT_REPORT, OPT_METRICS };

static const struct option longopts[] = {
	{"yes", no_argument, NULL, 'y'},		  {"events", required_argument, NULL, 'e'},
	{"state-dir", required_argument, NULL, OPT_STATE}, {"grace", required_argument, NULL, OPT_GRACE},
	{"stdlib", required_argument, NULL, OPT_STDLIB},   {"quiet", no_argument, NULL, 'q'},
	{"plain", no_argument, NULL, OPT_PLAIN},	   {"force", no_argument, NULL, OPT_FORCE},
	{"retry-failed", no_argument, NULL, OPT_RETRY},	   {"help", no_argument, NULL, 'h'},
	{"report", required_argument, NULL, OPT_REPORT},   {"metrics", required_argument, NULL, OPT_METRICS},
	{NULL, 0, NULL, 0},
};

static int one_option(void *ctx, int c, const char *arg)
{
	options *o = ctx;
	size_t bad;
	switch (c) {
	case 'y': o->yes = true; return -1;
	case 'e': o->events = arg; return -1;
	case OPT_STATE: o->x.state_dir = arg; return -1;
	case OPT_GRACE:
		return dr_text_parse_duration(arg, &o->x.grace_ms, &bad)
			       ? -1
			       : dr_cli_usage_error(&dr_cmd_resume, "--grace '%s': expected a duration like 30s", arg);
	case OPT_STDLIB: o->stdlib = arg; return -1;
	case 'q': o->quiet = true; return -1;
	case OPT_PLAIN: o->plain = true; return -1;
	case OPT_FORCE: o->x.force = true; return -1;
	case OPT_REPORT: return dr_cli_add_report(&dr_cmd_resume, &o->reports, arg);
	case OPT_METRICS: o->metrics = arg; return -1;
	default: o->retry = true; return -1; /* OPT_RETRY */
	}
}

/* No run id: a usage error whose hint works when pasted (in o's state directory): how to list the runs. */
static int which_run(const options *o)
{
	dr_buf list, err;
	dr_buf_init(&list);
	dr_buf_init(&err);
	dr_journal_command(&list, "runs", o->x.state_dir, NULL);
	char *id = dr_cli_latest_run(o->x.state_dir, &err);
	int rc = id ? dr_cli_usage_error(&dr_cmd_resume, "which run? (to list them: %s)", list.data)
		    : dr_cli_usage_error(&dr_cmd_resume, "which run? (%s)", err.data);
	free(id);
	dr_buf_dispose(&list);
	dr_buf_dispose(&err);
	return rc;
}

static int parse_options(int argc, char **argv, options *o)
{
	int rc = dr_cli_parse(&dr_cmd_resume, argc, argv, "ye:qh", longopts, one_option, o);
	if (rc >= 0)
		return rc;
	o->x.state_dir = dr_journal_state_dir(o->x.state_dir);
	if (optind >= argc) {
		rc = which_run(o);
		dr_cli_hint_resume(&dr_cmd_resume, o->x.state_dir, NULL); /* the run to go on with, if one is */
		return rc;
	}
	if (optind + 1 < argc)
		return dr_cli_usage_error(&dr_cmd_resume, "one run at a time ('%s' is extra)", argv[optind + 1]);
	o->run_id = argv[optind];
	rc = dr_cli_check_run_outputs(&dr_cmd_resume, o->x.state_dir, o->events, &o->reports, o->metrics);
	if (rc >= 0)
		return rc;
	if ((rc = dr_cli_test_signal_at(&dr_cmd_resume, &o->x.signal_at_ms, &o->x.signal_at_sig)) >= 0)
		return rc;
	dr_buf err;
	dr_buf_init(&err);
	rc = dr_journal_run_id_ok(o->run_id, &err) ? -1 : dr_cli_usage_error(&dr_cmd_resume, "%s", err.data);
	dr_buf_dispose(&err);
	return rc;
}

static const char *hs(const cJSON *h, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, key));
}

/* A command about run id in the state directory of o (dr_journal_command), in c; returns c->data. */
static const char *command(dr_buf *c, const options *o, const char *verb, const char *id)
{
	dr_buf_init(c);
	return dr_journal_command(c, verb, o->x.state_dir, id);
}

/* A run that ended is done; a cancelled one goes on, but a drill (cleaned up). Returns the exit status, or -1 to resume. */
static int ended(const options *o, const dr_journal_file *f)
{
	const char *id = o->run_id;
	if (!f->ended)
		return -1;
	const char *status = hs(f->end, "status");
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(f->end, "exit");
	dr_buf c;
	bool drill = hs(f->header, "mode") && !strcmp(hs(f->header, "mode"), "drill");
	if (status && !strcmp(status, "cancelled") && !drill)
		return -1;
	if (status && !strcmp(status, "cancelled")) { /* its finally: cleaned the test VMs up: nothing is left to go on from */
		const char *path = hs(cJSON_GetObjectItemCaseSensitive(f->header, "runbook"), "path");
		fprintf(stderr, "run %s is a drill that was cancelled: its cleanup (finally:) removed its test VMs, so "
				"there is nothing to go on from. Run the drill again: %s\n",
			id, command(&c, o, "drill", path ? path : "FILE"));
		dr_buf_dispose(&c);
		return cJSON_IsNumber(ex) ? (int)ex->valuedouble : DR_EXIT_CANCELLED;
	}
	fprintf(stderr, "run %s has ended already: %s at %s; nothing to resume (to see it: %s)\n", id,
		status ? status : "?", hs(f->end, "ts") ? hs(f->end, "ts") : "?", command(&c, o, "status", id));
	dr_buf_dispose(&c);
	if (status && !strcmp(status, "failed"))
		fprintf(stderr, "to go on from its failure once the cause is fixed: %s --retry-failed\n",
			command(&c, o, "resume", id));
	dr_buf_dispose(&c);
	return cJSON_IsNumber(ex) ? (int)ex->valuedouble : DR_EXIT_FAILED;
}

/* A later run of the runbook against the same backend may have changed what this one left: refused unless --force. */
static int later_run(const options *o, const dr_journal_file *f)
{
	char *later = dr_journal_later_run(o->x.state_dir, f);
	if (!later)
		return -1;
	int rc = -1;
	dr_buf c;
	if (o->x.force) {
		fprintf(stderr, "drover resume: --force: retrying although run %s of this runbook against the same backend "
			"started after it\n",
		later);
	} else {
		fprintf(stderr, "drover resume: refused: run %s of this runbook against the same backend started after run %s, "
			"and may have changed what it left (its journal does not know). Look at it (%s); "
			"retry with --force only if it changed nothing of run %s\n",
		later, o->run_id, command(&c, o, "status", later), o->run_id);
		dr_buf_dispose(&c);
		rc = DR_EXIT_INVALID;
	}
	free(later);
	return rc;
}

/* --retry-failed: may the run be retried? Returns the exit status, or -1 to go on (x.retry_failed: retrying). */
static int retry_verdict(options *o, const dr_journal_file *f)
{
	dr_buf msg;
	dr_buf_init(&msg);
	int rc = -1;
	switch (dr_journal_retry_check(f, o->x.state_dir, o->run_id, &msg)) {
	case DR_RETRY_OK:
		rc = later_run(o, f);
		o->x.retry_failed = rc < 0;
		break;
	case DR_RETRY_ONGOING: fprintf(stderr, "drover resume: note: %s\n", msg.data); break;
	case DR_RETRY_NOTHING:
		fprintf(stderr, "drover resume: %s\n", msg.data);
		rc = DR_EXIT_OK;
		break;
	default:
		fprintf(stderr, "drover resume: refused: %s\n", msg.data);
		rc = DR_EXIT_INVALID;
		break;
	}
	dr_buf_dispose(&msg);
	return rc;
}

/* The runbook as the run had it: the absolute path when it is there, else the path as given then. */
static const char *runbook_path(const cJSON *h)
{
	const cJSON *rb = cJSON_GetObjectItemCaseSensitive(h, "runbook");
	const char *abs = hs(rb, "abs"), *path = hs(rb, "path");
	return abs && access(abs, R_OK) == 0 ? abs : path;
}

/* How messages name it: as it was given to drover run. */
static const char *runbook_name(const cJSON *h)
{
	const char *path = hs(cJSON_GetObjectItemCaseSensitive(h, "runbook"), "path");
	return path ? path : "?";
}

static int set_mode(const cJSON *h, dr_runbook *rb, dr_exec_opts *x)
{
	const char *mode = hs(h, "mode"), *dir = hs(h, "direction");
	for (int m = DR_MODE_FAILOVER; m <= DR_MODE_FAILBACK && mode; m++)
		if (!strcmp(dr_mode_name((dr_run_mode)m), mode))
			x->mode = (dr_run_mode)m;
	if (dir)
		dr_cli_parse_direction(dir, &x->direction);
	if (x->mode != DR_MODE_DRILL)
		return 0;
	dr_buf err;
	dr_buf_init(&err);
	const char *net = hs(h, "drill_network");
	int rc = dr_modes_make_drill(rb, net ? net : DR_DRILL_DEFAULT_NETWORK, &err);
	dr_cli_put_term(err.data, stderr);
	dr_buf_dispose(&err);
	return rc;
}

/* For a retry: what each change means for it. */
static void retry_notes(const dr_journal_file *f, const cJSON *now)
{
	dr_buf notes;
	dr_buf_init(&notes);
	if (dr_journal_retry_notes(f, now, &notes))
		fprintf(stderr, "drover resume: what the changes mean for the retry:\n%s", notes.data);
	dr_buf_dispose(&notes);
}

/* Refuse a changed runbook unless --force: say what changed (for a retry, what it means). Returns -1 to refuse. */
static int check_changes(const dr_journal_file *f, const dr_runbook *rb, const char *path, const dr_exec_opts *x)
{
	const cJSON *h = f->header, *rbj = cJSON_GetObjectItemCaseSensitive(h, "runbook");
	char digest[40];
	dr_buf err, diff;
	dr_buf_init(&err);
	dr_buf_init(&diff);
	int rc = 0;
	if (dr_journal_file_digest(path, digest, sizeof digest, NULL, &err) == 0 && hs(rbj, "digest") &&
	    !strcmp(digest, hs(rbj, "digest")))
		goto out;
	cJSON *now = dr_journal_runbook_digests(rb);
	size_t n = dr_journal_runbook_diff(cJSON_GetObjectItemCaseSensitive(h, "shape"), now, &diff);
	if (!n) {
		cJSON_Delete(now);
		fprintf(stderr, "drover resume: note: %s changed since the run started, but not its steps or settings "
				"(comments or layout only)\n",
			runbook_name(h));
		goto out;
	}
	fprintf(stderr, "drover resume: %s changed since run %s started (%s, now %s):\n%s", runbook_name(h), hs(h, "run"),
		hs(rbj, "digest"), digest, diff.data);
	if (x->retry_failed)
		retry_notes(f, now);
	cJSON_Delete(now);
	if (x->force) {
		fputs("drover resume: --force: resuming with the changed runbook\n", stderr);
	} else if (x->retry_failed) {
		dr_buf c;
		dr_buf_init(&c);
		fprintf(stderr,
			"drover resume: refused: the journal records what the old runbook did, and replaying it onto\n"
			"another one could repeat or skip operations. Restore the runbook as it was, or, when the changes\n"
			"above are the fix and safe as listed, retry with them: %s --retry-failed --force\n",
			dr_journal_command(&c, "resume", x->state_dir, hs(h, "run")));
		dr_buf_dispose(&c);
		rc = -1;
	} else {
		fputs("drover resume: refused: the journal records what the old runbook did, and replaying it onto\n"
		      "another one could repeat or skip operations. Restore the runbook as it was, or resume with\n"
		      "--force once you have checked that the changes above are safe to apply mid-run.\n",
		      stderr);
		rc = -1;
	}
out:
	dr_buf_dispose(&err);
	dr_buf_dispose(&diff);
	return rc;
}

static void settings(const cJSON *h, options *o)
{
	const char *clock = hs(h, "clock"), *seed = hs(h, "seed");
	const cJSON *conc = cJSON_GetObjectItemCaseSensitive(h, "concurrency");
	o->x.clock = clock && !strcmp(clock, "virtual") ? DR_CLOCK_VIRTUAL : DR_CLOCK_REAL;
	o->x.seed = seed ? strtoull(seed, NULL, 10) : 1;
	o->x.seed_given = true;
	o->x.concurrency = cJSON_IsNumber(conc) ? (int64_t)conc->valuedouble : 0;
	o->x.auto_approve = o->yes || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(h, "auto_approve"));
	o->x.params = cJSON_GetObjectItemCaseSensitive(h, "params");
	o->x.run_id = o->run_id;
	o->x.journal = true;
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
}

static int run(options *o, dr_runbook *rb)
{
	if (o->events && strcmp(o->events, "-") && !(o->x.events = dr_fs_create_output(o->events))) {
		fprintf(stderr, "drover resume: cannot write events to '%s': %s; nothing was run\n", o->events, strerror(errno));
		return DR_EXIT_INVALID;
	}
	if (o->events && !strcmp(o->events, "-"))
		o->x.events = stdout;
	choose_view(o);
	dr_buf err;
	dr_buf_init(&err);
	dr_run_status st = dr_exec_run(rb, &o->x, &err);
	dr_cli_put_term(err.data, stderr);
	dr_buf_dispose(&err);
	int rc = dr_exec_exit_code(st);
	if (o->x.events && o->x.events != stdout &&
	    dr_cli_close_events(&dr_cmd_resume, o->x.events, o->events, o->x.state_dir, o->run_id) < 0 && rc == DR_EXIT_OK)
		rc = DR_EXIT_INTERNAL; /* the run succeeded; its event file is incomplete */
	if (dr_cli_write_evidence(&dr_cmd_resume, o->x.state_dir, o->run_id, &o->reports, o->metrics) < 0 && rc == DR_EXIT_OK)
		rc = DR_EXIT_INTERNAL; /* the run succeeded; its evidence is missing */
	return rc;
}

static int resume_journal(options *o, dr_journal_file *f)
{
	int rc = o->retry ? retry_verdict(o, f) : ended(o, f);
	if (rc >= 0)
		return rc;
	const char *path = runbook_path(f->header);
	dr_runbook *rb = path ? dr_cli_compile(&dr_cmd_resume, path, o->stdlib) : NULL;
	if (!rb) {
		fprintf(stderr, "drover resume: cannot resume run %s without its runbook %s\n", o->run_id,
			runbook_name(f->header));
		return DR_EXIT_INVALID;
	}
	settings(f->header, o);
	if (o->x.clock == DR_CLOCK_REAL)
		o->x.clock_rate = dr_cli_sim_speed(rb); /* backend.speed, as the run had it */
	if (set_mode(f->header, rb, &o->x) < 0 || check_changes(f, rb, path, &o->x) < 0)
		rc = DR_EXIT_INVALID;
	else
		rc = run(o, rb);
	dr_runbook_free(rb);
	return rc;
}

/* Why the journal at path could not be taken up, when it is not that it is damaged (read_err): 0 when it is. */
static int why_unreadable(const options *o, const char *path, dr_buf *b)
{
	struct stat st;
	dr_buf c;
	dr_buf_init(&c);
	char *dir = dr_journal_path(o->x.state_dir, o->run_id);
	dir[strlen(dir) - strlen("/journal.jsonl")] = '\0';
	int e = stat(path, &st) == 0 ? (S_ISREG(st.st_mode) ? access(path, R_OK) == 0 ? 0 : errno : EISDIR) : errno;
	if (e == ENOENT && stat(dir, &st) != 0 && errno == ENOENT)
		dr_buf_printf(b, "no run '%s' in %s/runs (to list them: %s)", o->run_id, o->x.state_dir,
			      dr_journal_command(&c, "runs", o->x.state_dir, NULL));
	else if (e == ENOENT)
		dr_buf_printf(b, "run '%s' has no journal: %s is missing (the run never got to write it, or it was removed), "
				 "so there is nothing to resume from. If the run did start, what it did is only in the service: "
				 "look there (drover sim show, or the vault's jobs) before running the runbook again",
			      o->run_id, path);
	else if (e == EISDIR)
		dr_buf_printf(b, "the journal of run %s, %s, is not a file (a directory or another kind of file is in its "
				 "place): nothing was read or changed. Put the journal back (from a copy), then resume again (%s)",
			      o->run_id, path, dr_journal_command(&c, "resume", o->x.state_dir, o->run_id));
	else if (e)
		dr_buf_printf(b, "cannot read the journal of run %s, %s: %s. Nothing was read or changed: the run is as its "
				 "last session left it. Resume it as the user that ran it (the state directory's owner), or make "
				 "the file and its folders readable to you, then resume again (%s)",
			      o->run_id, path, strerror(e), dr_journal_command(&c, "resume", o->x.state_dir, o->run_id));
	dr_buf_dispose(&c);
	free(dir);
	return e;
}

/* The journal could not be taken up: which file, what is wrong with it, what state the run is in, what to do. */
static void unreadable(const options *o, const char *path, const char *read_err)
{
	dr_buf b;
	dr_buf_init(&b);
	if (!why_unreadable(o, path, &b)) /* readable but damaged: the reader says where and what to do */
		dr_buf_printf(&b, "%s%s", read_err, strstr(read_err, "nothing to resume") ? "" : " Nothing was resumed.");
	fputs("drover resume: ", stderr);
	dr_cli_put_term(b.data, stderr);
	fputc('\n', stderr);
	dr_buf_dispose(&b);
}

static int resume_main(int argc, char **argv)
{
	options o = {0};
	dr_exec_opts_init(&o.x);
	int rc = parse_options(argc, argv, &o);
	if (rc >= 0) {
		free(o.reports.paths);
		return rc;
	}
	dr_exec_signals_early(o.x.state_dir, o.run_id); /* a Ctrl-C while the journal is read counts */
	char *path = dr_journal_path(o.x.state_dir, o.run_id);
	dr_journal_file f;
	dr_buf err;
	dr_buf_init(&err);
	if (dr_journal_read(path, &f, &err) < 0) {
		unreadable(&o, path, err.data);
		rc = DR_EXIT_INVALID;
	} else {
		if (f.torn)
			fprintf(stderr, "drover resume: note: %s:%zu, the last line, is torn (%zu bytes: drover stopped while "
					"writing it); it is left out and cut off\n",
				path, f.torn_line, f.torn_bytes);
		o.x.resume = &f;
		rc = resume_journal(&o, &f);
	}
	dr_journal_file_dispose(&f);
	dr_buf_dispose(&err);
	free(path);
	free(o.reports.paths); /* when the run did not get to write them */
	return rc;
}
