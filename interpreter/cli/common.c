/*
 * common.c - helpers shared by the commands: help text, usage errors,
 * colour decisions, finding the stdlib.
 */
#include "cli/cli.h"
#include "config.h"
#include "journal/runinfo.h"
#include "util/buf.h"
#include "util/fs.h"
#include "util/text.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


void dr_cli_print_help(const dr_command *cmd, FILE *out)
{
	fprintf(out, "Usage: drover %s %s\n\n%s\n", cmd->name, cmd->usage, cmd->summary);
	if (cmd->help && *cmd->help)
		fprintf(out, "\n%s", cmd->help);
}

int dr_cli_usage_error(const dr_command *cmd, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "drover %s: ", cmd->name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nUsage: drover %s %s\nTry 'drover %s --help' for more.\n", cmd->name, cmd->usage,
		cmd->name);
	return DR_EXIT_INVALID;
}

/* The folder path's file goes in: "." for a bare name, "/" for one in the root. Heap. */
static char *folder_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	if (!slash)
		return xstrdup(".");
	return slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
}

/* Why the file path cannot be made in folder dir and what to do (into why), or false when it can. */
static bool output_unwritable(const char *path, const char *dir, const char *state, dr_buf *why)
{
	struct stat st;
	if (!*path)
		dr_buf_puts(why, "no file named: name one");
	else if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode) && !(stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
		/* a device, FIFO or link (/dev/null, /dev/stdout): written in place (DR_FS_NAMED), its folder untouched */
		if (access(path, W_OK) != 0)
			dr_buf_printf(why, "cannot write to it (%s): name one you may write to", strerror(errno));
	} else if (stat(dir, &st) != 0 && errno == ENOENT)
		dr_buf_printf(why, "the folder '%s' does not exist, and drover makes folders only in its state directory "
				   "('%s'): create it or fix the path",
			      dir, state);
	else if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
		dr_buf_printf(why, "'%s' is not a folder: fix the path", dir);
	else if (access(dir, W_OK | X_OK) != 0)
		dr_buf_printf(why, "cannot write in the folder '%s' (%s): name one you may write in", dir, strerror(errno));
	else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		dr_buf_puts(why, "that is a folder: name a file in it");
	return why->len > 0;
}

/* Folder dir is state or in it, as written ("./x/" is "x"): drover's own tree, whose folders it makes. */
static bool in_state_dir(const char *dir, const char *state)
{
	while (dir[0] == '.' && dir[1] == '/')
		dir += 2;
	while (state[0] == '.' && state[1] == '/')
		state += 2;
	size_t n = strlen(state);
	while (n > 1 && state[n - 1] == '/')
		n--;
	return !strncmp(dir, state, n) && (dir[n] == '\0' || dir[n] == '/');
}

int dr_cli_check_output(const dr_command *cmd, const char *state, const char *option, const char *path)
{
	if (!path || !strcmp(path, "-"))
		return -1;
	char *dir = folder_of(path);
	dr_buf why;
	dr_buf_init(&why);
	int rc = -1;
	state = dr_journal_state_dir(state);
	if (in_state_dir(dir, state) && access(dir, F_OK) != 0 && errno == ENOENT) {
		/* in the state directory: drover makes it now (mode 0700), as it makes the rest of its tree */
		if (dr_fs_mkdirs(dir, &why) < 0) {
			fprintf(stderr, "drover %s: %s '%s': %s. Nothing was %s.\n", cmd->name, option, path, why.data,
				cmd->journaled ? "run" : "written");
			rc = DR_EXIT_INVALID;
		}
	} else if (output_unwritable(path, dir, state, &why)) {
		fprintf(stderr, "drover %s: %s '%s': %s. Nothing was %s.\n", cmd->name, option, path, why.data,
			cmd->journaled ? "run" : "written");
		rc = DR_EXIT_INVALID;
	}
	dr_buf_dispose(&why);
	free(dir);
	return rc;
}

bool dr_cli_use_color(FILE *f)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");
	if (no && *no)
		return false;
	if (term && strcmp(term, "dumb") == 0)
		return false;
	return isatty(fileno(f));
}

static bool is_dir(const char *p)
{
	struct stat st;
	return p && stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The checkout's stdlib/ when the binary runs from build/<variant>/drover. */
static const char *checkout_stdlib(void)
{
	static char path[PATH_MAX];
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	for (int up = 0; up < 3; up++) {
		char *slash = strrchr(exe, '/');
		if (!slash)
			return NULL;
		*slash = '\0';
	}
	if (snprintf(path, sizeof path, "%s/stdlib", exe) >= (int)sizeof path)
		return NULL;
	char marker[PATH_MAX + 32];
	snprintf(marker, sizeof marker, "%s/interpreter/cli", exe);
	return is_dir(path) && is_dir(marker) ? path : NULL;
}

const char *dr_cli_stdlib_dir(const char *explicit_dir)
{
	if (explicit_dir)
		return explicit_dir;
	const char *env = getenv("DROVER_STDLIB");
	if (env && *env)
		return env;
	const char *co = checkout_stdlib();
	if (co)
		return co;
	return is_dir(DROVER_DATADIR "/stdlib") ? DROVER_DATADIR "/stdlib" : NULL;
}

/* The long options whose names start with the n bytes of name; *match gets the last one. */
static int prefix_matches(const struct option *longopts, const char *name, size_t n, const struct option **match)
{
	int k = 0;
	for (const struct option *o = longopts; o->name; o++)
		if (strncmp(o->name, name, n) == 0) {
			if (strlen(o->name) == n) { /* an exact match is never ambiguous */
				*match = o;
				return 1;
			}
			*match = o;
			k++;
		}
	return k;
}

/* "unknown option '--frmat'; did you mean '--format'?" or "ambiguous option '--st' (--state-dir, --stdlib)". */
static int bad_long(const dr_command *cmd, const char *elem, const struct option *longopts)
{
	const char *name = elem + 2;
	size_t n = strcspn(name, "=");
	const struct option *m = NULL;
	int k = prefix_matches(longopts, name, n, &m);
	if (k == 1 && name[n] == '=')
		return dr_cli_usage_error(cmd, "option '--%s' takes no value", m->name);
	if (k > 1) {
		dr_buf all;
		dr_buf_init(&all);
		for (const struct option *o = longopts; o->name; o++)
			if (strncmp(o->name, name, n) == 0)
				dr_buf_printf(&all, "%s--%s", all.len ? ", " : "", o->name);
		int rc = dr_cli_usage_error(cmd, "ambiguous option '--%.*s' (%s)", (int)n, name, all.data);
		dr_buf_dispose(&all);
		return rc;
	}
	size_t count = 0;
	while (longopts[count].name)
		count++;
	const char **names = xcalloc(count + 1, sizeof *names);
	for (size_t i = 0; i < count; i++)
		names[i] = longopts[i].name;
	char *word = xstrndup(name, n);
	const char *near = dr_text_suggest(word, names);
	int rc = near ? dr_cli_usage_error(cmd, "unknown option '--%s'; did you mean '--%s'?", word, near)
		      : dr_cli_usage_error(cmd, "unknown option '--%s'", word);
	free(word);
	free(names);
	return rc;
}

/* getopt returned '?' or ':' for the element argv[at] (which may be a cluster of short options). */
static int bad_option(const dr_command *cmd, int c, const char *elem, const struct option *longopts)
{
	bool is_long = elem[0] == '-' && elem[1] == '-';
	if (c == ':' && is_long)
		return dr_cli_usage_error(cmd, "option '%.*s' needs a value", (int)strcspn(elem, "="), elem);
	if (c == ':')
		return dr_cli_usage_error(cmd, "option '-%c' needs a value", optopt);
	if (is_long)
		return bad_long(cmd, elem, longopts);
	return dr_cli_usage_error(cmd, "unknown option '-%c'", optopt);
}

/*
 * getopt_long took elem as the long option o: true unless elem only began
 * o's name (getopt accepts any unambiguous prefix). A prefix is refused:
 * `run --state F` meant a simulator state file, not --state-dir.
 */
static bool abbreviated(const char *elem, const struct option *o)
{
	if (elem[0] != '-' || elem[1] != '-')
		return false;
	size_t n = strcspn(elem + 2, "=");
	return strlen(o->name) != n || strncmp(o->name, elem + 2, n) != 0;
}

/* Move the n operands (then those after "--", argv[optind..argc)) to argv's end, in order; optind at the first. */
static void place_operands(int argc, char **argv, char **operands, int n)
{
	int rest = argc - optind, total = n + rest;
	char **all = xcalloc((size_t)total + 1, sizeof *all);
	memcpy(all, operands, (size_t)n * sizeof *all);
	memcpy(all + n, argv + optind, (size_t)rest * sizeof *all);
	memcpy(argv + argc - total, all, (size_t)total * sizeof *all);
	free(all);
	optind = argc - total;
}

int dr_cli_parse(const dr_command *cmd, int argc, char **argv, const char *shortopts, const struct option *longopts,
		 dr_cli_option_fn on_option, void *ctx)
{
	/* '-': operands come back in order as option 1 (whatever POSIXLY_CORRECT says); ':': a missing value is ':'. */
	dr_buf spec;
	dr_buf_init(&spec);
	dr_buf_printf(&spec, "-:%s", shortopts);
	char **operands = xcalloc((size_t)argc + 1, sizeof *operands);
	int n = 0, c, rc = -1;
	opterr = 0;
	optind = 0; /* 0: getopt starts afresh, also when a process parses twice */
	for (;;) {
		int at = optind ? optind : 1, idx = -1; /* the element getopt looks at (mid-cluster it has not moved on) */
		if ((c = getopt_long(argc, argv, spec.data, longopts, &idx)) == -1)
			break;
		if (idx >= 0 && at < argc && abbreviated(argv[at], &longopts[idx]))
			rc = dr_cli_usage_error(cmd, "unknown option '%.*s'; did you mean '--%s'? (long options are written in full)",
						(int)strcspn(argv[at], "="), argv[at], longopts[idx].name);
		else if (c == 1)
			operands[n++] = optarg;
		else if (c == 'h')
			rc = (dr_cli_print_help(cmd, stdout), DR_EXIT_OK);
		else if (c == '?' || c == ':')
			rc = bad_option(cmd, c, argv[at < argc ? at : argc - 1], longopts);
		else
			rc = on_option(ctx, c, optarg);
		if (rc >= 0)
			break;
	}
	if (rc < 0)
		place_operands(argc, argv, operands, n);
	free(operands);
	dr_buf_dispose(&spec);
	return rc;
}

typedef struct state_opts {
	const char **state;
	const char *format;
} state_opts;

static int state_option(void *ctx, int c, const char *arg)
{
	state_opts *s = ctx;
	if (c == 's')
		*s->state = arg;
	else
		s->format = arg;
	return -1;
}

int dr_cli_parse_state_options(const dr_command *cmd, int argc, char **argv, const char **state, bool *json)
{
	static const struct option longopts[] = {
		{"state-dir", required_argument, NULL, 's'}, {"format", required_argument, NULL, 'f'},
		{"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0},
	};
	state_opts s = {.state = state, .format = "text"};
	*state = NULL;
	int rc = dr_cli_parse(cmd, argc, argv, "h", longopts, state_option, &s);
	if (rc >= 0)
		return rc;
	if (strcmp(s.format, "text") && strcmp(s.format, "json"))
		return dr_cli_usage_error(cmd, "--format '%s': expected text or json", s.format);
	*json = strcmp(s.format, "json") == 0;
	return -1;
}

bool dr_cli_runs_readable(const char *state, dr_buf *err)
{
	dr_buf runs;
	dr_buf_init(&runs);
	dr_buf_printf(&runs, "%s/runs", state);
	DIR *d = opendir(runs.data);
	int e = errno;
	if (d)
		closedir(d);
	else if (e != ENOENT)
		dr_buf_printf(err, "cannot read the runs in %s: %s; nothing was changed (give this user read access to "
				   "it, or name another place with --state-dir or $DROVER_STATE_DIR)",
			      runs.data, strerror(e));
	dr_buf_dispose(&runs);
	return d || e == ENOENT;
}

char *dr_cli_latest_run(const char *state, dr_buf *err)
{
	if (!dr_cli_runs_readable(state, err))
		return NULL;
	size_t n;
	char **ids = dr_runinfo_list(state, &n);
	char *id = n ? ids[0] : NULL;
	for (size_t i = 1; i < n; i++)
		free(ids[i]);
	free(ids);
	if (!id)
		dr_buf_printf(err, "no runs in %s/runs (a run of drover run, drill or failback keeps its journal there; "
				   "--state-dir or $DROVER_STATE_DIR choose another place)",
			      state);
	return id;
}

/* The newest run of runbook (NULL: any) under state that was not refused (blocked), in brief into b; its id, or NULL. */
static char *last_run_of(const char *state, const char *runbook, dr_runinfo_brief *b)
{
	size_t n;
	char **ids = dr_runinfo_list(state, &n);
	char *found = NULL;
	dr_buf err;
	dr_buf_init(&err);
	for (size_t i = 0; i < n; i++) {
		bool mine = !found && dr_runinfo_brief_load(state, ids[i], b, &err) == 0;
		if (mine && b->runbook && (!runbook || !strcmp(b->runbook, runbook)) && strcmp(b->status, "blocked"))
			found = ids[i];
		else
			free(ids[i]);
		if (mine && !found)
			dr_runinfo_brief_dispose(b);
	}
	dr_buf_dispose(&err);
	free(ids);
	return found;
}

void dr_cli_hint_resume(const dr_command *cmd, const char *state, const char *runbook)
{
	state = dr_journal_state_dir(state);
	dr_runinfo_brief b;
	char *id = last_run_of(state, runbook, &b);
	if (!id)
		return;
	bool failed = !strcmp(b.status, "failed");
	if (failed || !strcmp(b.status, "cancelled") || !strcmp(b.status, "interrupted")) {
		dr_buf c;
		dr_buf_init(&c);
		dr_journal_command(&c, "resume", state, id);
		fprintf(stderr, "drover %s: the last run %s, %s (%s%s%s), ended %s: to go on with it from where it stopped, run "
				"%s%s (what completed is not run again)%s.\n",
			cmd->name, runbook ? "of this runbook" : "here", id, runbook ? "" : b.runbook, runbook ? "" : ", ",
			b.mode ? b.mode : "?", b.status, c.data, failed ? " --retry-failed" : "",
			runbook ? "; a new run starts from the first step" : "");
		dr_buf_dispose(&c);
	}
	dr_runinfo_brief_dispose(&b);
	free(id);
}

void dr_cli_put_term(const char *text, FILE *out)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_text_escape_term(&b, text, strlen(text), DR_TEXT_KEEP_NEWLINE);
	fputs(b.data, out);
	dr_buf_dispose(&b);
}

void dr_cli_add_param(const char ***params, size_t *n, const char *kv)
{
	const char **grown = realloc(*params, (*n + 1) * sizeof *grown);
	if (!grown)
		abort();
	grown[(*n)++] = kv;
	*params = grown;
}

int dr_cli_finish_stdout(const char *name, bool journaled, int rc)
{
	errno = 0;
	bool lost = fflush(stdout) != 0 || ferror(stdout);
	int e = errno;
	if (!lost || e == EPIPE || rc == DR_EXIT_INTERNAL)
		return rc;
	fprintf(stderr, "drover %s: standard output could not be written (%s): what it printed there is incomplete. %s\n",
		name, e ? strerror(e) : "a write failed",
		journaled ? "The run is as its journal says, whatever its output lost: drover status shows it."
			  : "Nothing else depends on that output: run the command again with it going where there is room.");
	return rc == DR_EXIT_OK ? DR_EXIT_INTERNAL : rc;
}

int dr_cli_test_signal_at(const dr_command *cmd, int64_t *at_ms, int *sig)
{
	const char *v = getenv("DROVER_TEST_SIGNAL_AT");
	if (!v || !*v)
		return -1;
	const char *colon = strchr(v, ':');
	char *d = xstrndup(v, colon ? (size_t)(colon - v) : strlen(v));
	size_t bad;
	bool ok = dr_text_parse_duration(d, at_ms, &bad) && (!colon || !strcmp(colon, ":TERM") || !strcmp(colon, ":INT"));
	free(d);
	if (!ok)
		return dr_cli_usage_error(cmd, "DROVER_TEST_SIGNAL_AT='%s': expected a duration, then :TERM or :INT (default)", v);
	*sig = colon && !strcmp(colon, ":TERM") ? SIGTERM : SIGINT;
	return -1;
}
