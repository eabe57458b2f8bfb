/*
 * approve.c - `drover approve RUN-ID STEP`: answer a run's approval gate
 * from another shell.
 *
 * A run waiting at an `approve` step has written a request file under
 * <state-dir>/runs/<run-id>/approvals/; this command writes the answer next
 * to it (approvals.h), which the run picks up within a second. STEP answers
 * every open gate of that step (one per VM of a fanned-out step); STEP@VM
 * answers one. Exit 0 when at least one gate was answered, 1 when none was
 * open (the open ones are listed), 2 for usage errors and a STEP that is no
 * approval gate of the run (its journal's header lists its steps).
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "journal/approvals.h"
#include "journal/journal.h"
#include "cli/cli.h"
#include "run/clock.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/text.h"
#include "util/xalloc.h"

static int approve_main(int argc, char **argv);

const dr_command dr_cmd_approve = {
	.name = "approve",
	.summary = "Answer a running runbook's approval gate from another shell.",
	.usage = "[--deny] [--comment TEXT] [--as NAME] [--state-dir DIR] RUN-ID STEP[@VM]",
	.help = "Options:\n"
		"      --deny          deny instead of approving\n"
		"  -m, --comment TEXT  a comment, recorded in the run's events with the answer\n"
		"      --as NAME       a name recorded with the answer, as a note: the approver is the\n"
		"                      operating-system user running this (under sudo, the user who ran\n"
		"                      sudo), and that user is checked against the step's approvers: list\n"
		"      --state-dir DIR the run's state directory (default: $DROVER_STATE_DIR, else .drover)\n"
		"  -h, --help          show this help\n"
		"\nThe run prints the exact command when it starts waiting. STEP answers every open gate of the\n"
		"step (one per VM when it is fanned out); STEP@VM answers one.\n"
		"When no drover runs the run now (it was killed while the gate waited), the answer is kept\n"
		"for its resume, and approve says so with the resume command.\n"
		"Exit status: 0 answered, 1 no open gate of that step (answered already, or not reached yet),\n"
		"2 usage error, or STEP is not an approval gate of the run (no such step, or another action).\n",
	.main = approve_main,
};

typedef struct options {
	bool deny;
	const char *comment, *as, *state_dir, *run_id, *step;
} options;

enum { OPT_DENY = 256, OPT_AS, OPT_STATE };

static int one_option(void *ctx, int c, const char *arg)
{
	options *o = ctx;
	switch (c) {
	case OPT_DENY: o->deny = true; return -1;
	case 'm': o->comment = arg; return -1;
	case OPT_AS: o->as = arg; return -1;
	default: o->state_dir = arg; return -1;
	}
}

/* -1 when id may name a run; else a usage error. */
static int run_id_ok(const char *id)
{
	dr_buf err;
	dr_buf_init(&err);
	int rc = dr_journal_run_id_ok(id, &err) ? -1 : dr_cli_usage_error(&dr_cmd_approve, "%s", err.data);
	dr_buf_dispose(&err);
	return rc;
}

static int parse_options(int argc, char **argv, options *o)
{
	static const struct option longopts[] = {
		{"deny", no_argument, NULL, OPT_DENY},		{"comment", required_argument, NULL, 'm'},
		{"as", required_argument, NULL, OPT_AS},	{"state-dir", required_argument, NULL, OPT_STATE},
		{"help", no_argument, NULL, 'h'},		{NULL, 0, NULL, 0},
	};
	int rc = dr_cli_parse(&dr_cmd_approve, argc, argv, "m:h", longopts, one_option, o);
	if (rc >= 0)
		return rc;
	if (argc - optind != 2)
		return dr_cli_usage_error(&dr_cmd_approve, "expected RUN-ID and STEP");
	o->run_id = argv[optind];
	o->step = argv[optind + 1];
	return run_id_ok(o->run_id);
}

static cJSON *answer_json(const options *o)
{
	char user[128], at[40];
	dr_approval_user(user, sizeof user);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	dr_clock_format_wall((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, at, sizeof at);
	cJSON *a = cJSON_CreateObject();
	cJSON_AddBoolToObject(a, "approved", !o->deny);
	cJSON_AddStringToObject(a, "by", user); /* the approver: who the operating system says runs this */
	cJSON_AddStringToObject(a, "user", user);
	if (o->as)
		cJSON_AddStringToObject(a, "as", o->as); /* a note, never an identity */
	cJSON_AddStringToObject(a, "comment", o->comment ? o->comment : "");
	cJSON_AddStringToObject(a, "answered_at", at);
	return a;
}

/* The approval gate of steps nearest to STEP (before any @VM), a copy, or NULL (dr_text_suggest's rule). */
static char *nearest_gate(const cJSON *steps, const char *step, size_t n)
{
	size_t k = 0, cap = 8;
	const char **gates = xmalloc(cap * sizeof *gates);
	for (const cJSON *st = steps ? steps->child : NULL; st; st = st->next) {
		const char *an = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "action"));
		if (!an || strcmp(an, "approve"))
			continue;
		if (k + 1 == cap)
			gates = xrealloc(gates, (cap *= 2) * sizeof *gates);
		gates[k++] = st->string;
	}
	gates[k] = NULL;
	char *word = xstrndup(step, n);
	const char *near = dr_text_suggest(word, gates);
	char *out = near ? xstrdup(near) : NULL;
	free(word);
	free(gates);
	return out;
}

/*
 * What STEP (before any @VM) is in the run's runbook, as its journal's header declares it: its action, or NULL;
 * for a step it does not have, *near is the gate nearest to it (or NULL). Both are the caller's.
 */
static char *step_action(const char *state, const options *o, bool *known, char **near)
{
	char *path = dr_journal_path(state, o->run_id), *action = NULL;
	size_t n = strcspn(o->step, "@");
	dr_journal_file f;
	dr_buf err;
	dr_buf_init(&err);
	*near = NULL;
	*known = dr_journal_read_header(path, &f, &err) == 0; /* line 1 alone: not the whole journal */
	const cJSON *steps = *known ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(f.header, "shape"), "steps") : NULL;
	*known = *known && cJSON_IsObject(steps);
	for (const cJSON *st = steps ? steps->child : NULL; st && !action; st = st->next) {
		const char *an = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(st, "action"));
		if (strlen(st->string) == n && !strncmp(st->string, o->step, n))
			action = xstrdup(an ? an : "?");
	}
	if (*known && !action)
		*near = nearest_gate(steps, o->step, n);
	dr_journal_file_dispose(&f);
	dr_buf_dispose(&err);
	free(path);
	return action;
}

/* A STEP that is no approval gate of the run (not a step of it, or another action): say so and which gates wait. */
static int no_such_gate(const char *state, const char *run_dir, const options *o)
{
	bool known;
	char *near;
	char *action = step_action(state, o, &known, &near);
	if (!known || (action && !strcmp(action, "approve"))) {
		free(action);
		free(near);
		return -1; /* a gate, or a journal that cannot tell (the answer says what is open) */
	}
	int n = (int)strcspn(o->step, "@");
	dr_buf b;
	dr_buf_init(&b);
	if (action)
		dr_buf_printf(&b, "step '%.*s' of run %s is a %s step, not an approval gate: nothing was answered; ", n,
			      o->step, o->run_id, action);
	else if (near)
		dr_buf_printf(&b, "run %s has no step '%.*s' (did you mean '%s'?), so no such gate is waiting: nothing was "
				  "answered; ", o->run_id, n, o->step, near);
	else
		dr_buf_printf(&b, "run %s has no step '%.*s', so no such gate is waiting: nothing was answered; ", o->run_id,
			      n, o->step);
	dr_approval_list_waiting(run_dir, &b);
	fputs("drover approve: ", stderr);
	dr_cli_put_term(b.data, stderr);
	dr_buf_dispose(&b);
	free(action);
	free(near);
	return DR_EXIT_INVALID;
}

/* Whether a live drover runs the run now (it holds the run lock its header names), as drover status tells it. */
static bool run_live(const char *state, const options *o)
{
	char *path = dr_journal_path(state, o->run_id);
	dr_journal_file f;
	dr_buf err;
	dr_buf_init(&err);
	bool live = true; /* a journal that cannot tell: say nothing */
	if (dr_journal_read_header(path, &f, &err) == 0) {
		const cJSON *rb = cJSON_GetObjectItemCaseSensitive(f.header, "runbook");
		const cJSON *be = cJSON_GetObjectItemCaseSensitive(f.header, "backend");
		const char *abs = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(rb, "abs"));
		const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(be, "id"));
		char *lock = dr_runlock_path(state, abs ? abs : "", id ? id : "");
		live = dr_runlock_held(lock, o->run_id);
		free(lock);
	}
	dr_journal_file_dispose(&f);
	dr_buf_dispose(&err);
	free(path);
	return live;
}

/* Answered, but no drover runs the run (it was killed, or stopped): the answer waits for its resume. */
static void say_not_running(const char *state, const options *o)
{
	dr_buf c;
	dr_buf_init(&c);
	dr_journal_command(&c, "resume", state, o->run_id);
	fprintf(stderr, "drover approve: note: no drover is running run %s now (it stopped while the gate waited): the "
			"answer is kept, and the gate takes it when the run goes on: ",
		o->run_id);
	dr_cli_put_term(c.data, stderr);
	fputc('\n', stderr);
	dr_buf_dispose(&c);
}

/* No open gate of that step, and the run is over: say so, and where its answers are (it said only "not reached yet"). */
static void say_if_ended(const char *state, const options *o)
{
	char *path = dr_journal_path(state, o->run_id);
	bool ended = false;
	dr_buf err, c;
	dr_buf_init(&err);
	dr_buf_init(&c);
	if (dr_journal_read_ended(path, &ended, &err) == 0 && ended) {
		dr_journal_command(&c, "status", state, o->run_id);
		fprintf(stderr, "drover approve: run %s has ended: no gate of it waits for an answer any more (how each was "
				"answered: ", o->run_id);
		dr_cli_put_term(c.data, stderr);
		fputs(")\n", stderr);
	}
	dr_buf_dispose(&err);
	dr_buf_dispose(&c);
	free(path);
}

static int approve_main(int argc, char **argv)
{
	options o = {0};
	int rc = parse_options(argc, argv, &o);
	if (rc >= 0)
		return rc;
	const char *env = getenv("DROVER_STATE_DIR");
	const char *state = o.state_dir ? o.state_dir : env && *env ? env : ".drover";
	dr_buf run_dir, out, err;
	dr_buf_init(&run_dir);
	dr_buf_init(&out);
	dr_buf_init(&err);
	dr_buf_printf(&run_dir, "%s/runs/%s", state, o.run_id);
	struct stat st;
	if (dr_fs_check_private_dir(state, "the state directory", &err) < 0) {
		fprintf(stderr, "drover approve: %s; nothing was answered\n", err.data);
		dr_buf_reset(&err);
		rc = DR_EXIT_INVALID;
	} else if (stat(run_dir.data, &st) != 0) {
		fprintf(stderr, "drover approve: run '%s' is not waiting for any approval (no %s; is --state-dir right?)\n",
			o.run_id, run_dir.data);
		rc = DR_EXIT_FAILED;
	} else if ((rc = no_such_gate(state, run_dir.data, &o)) < 0) {
		cJSON *a = answer_json(&o);
		int n = dr_approval_answer(run_dir.data, o.step, a, &out, &err);
		cJSON_Delete(a);
		dr_cli_put_term(out.data, stdout); /* gate keys hold VM names */
		if (err.len) {
			fputs("drover approve: ", stderr);
			dr_cli_put_term(err.data, stderr);
		}
		rc = n > 0 ? DR_EXIT_OK : DR_EXIT_FAILED;
		if (n > 0 && !run_live(state, &o))
			say_not_running(state, &o);
		else if (n == 0)
			say_if_ended(state, &o);
	}
	dr_buf_dispose(&run_dir);
	dr_buf_dispose(&out);
	dr_buf_dispose(&err);
	return rc;
}
