/*
 * cli.h - the command-line interface: one file per command, one table.
 *
 * Each command is a row: name, one-line summary, usage, a help text and its
 * entry point, which returns the process exit status (see docs/drover.1):
 * 0 success, 1 run failed or plan blocked, 2 invalid runbook or usage,
 * 3 internal error, 4 cancelled, 5 busy (another run holds the run lock), 6 stale (an earlier run did not
 * finish and left its lock: resume it).
 */
#ifndef DR_CLI_H
#define DR_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "backends/backend.h"
#include "run/clock.h"
#include "run/modes.h"
#include "front/runbook.h"

struct cJSON;
struct option;

/* The exit statuses (docs/drover.1, EXIT STATUS): one table for every command. */
enum {
	DR_EXIT_OK = 0, /* success: valid, succeeded, runnable */
	DR_EXIT_FAILED = 1, /* the run failed or was rolled back, the drill left test VMs, the plan is blocked */
	DR_EXIT_INVALID = 2, /* invalid runbook, parameters, inventory, usage, an output file with no folder: nothing ran */
	DR_EXIT_INTERNAL = 3, /* drover itself failed */
	DR_EXIT_CANCELLED = 4, /* SIGINT or SIGTERM */
	DR_EXIT_BUSY = 5, /* another run holds the run lock of this runbook and backend: nothing ran */
	DR_EXIT_STALE = 6, /* an earlier run of this runbook and backend did not finish (its lock is stale): nothing ran */
};

typedef struct dr_command {
	const char *name;
	const char *summary;
	const char *usage; /* after "drover NAME " */
	const char *help; /* options and details, shown by --help */
	int (*main)(int argc, char **argv); /* argv[0] is the command name */
	bool journaled; /* runs a runbook under a journal: the journal, not its output, is the run's record */
} dr_command;

extern const dr_command dr_cmd_validate;
extern const dr_command dr_cmd_graph;
extern const dr_command dr_cmd_schema;
extern const dr_command dr_cmd_actions;
extern const dr_command dr_cmd_sim;
extern const dr_command dr_cmd_emulator;
extern const dr_command dr_cmd_run, dr_cmd_approve;
extern const dr_command dr_cmd_plan, dr_cmd_drill, dr_cmd_failback;
extern const dr_command dr_cmd_resume, dr_cmd_runs, dr_cmd_status; /* the journal: resume.c, runs.c, status.c */
extern const dr_command dr_cmd_report; /* drill evidence: report.c */

/*
 * Write text drover composed (lines it wrote, with names and messages from
 * runbooks, services and people in them) to a terminal stream: control
 * characters other than its line feeds escaped (dr_text_escape_term).
 */
void dr_cli_put_term(const char *text, FILE *out);

/* Print "Usage: drover NAME USAGE" and the help text to out. */
void dr_cli_print_help(const dr_command *cmd, FILE *out);

/* Report a usage error for cmd on stderr and return DR_EXIT_INVALID. */
int dr_cli_usage_error(const dr_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * One option, as dr_cli_parse hands it to a command: c is the option's short
 * letter or its longopts value, arg its argument (NULL for a flag). Returns
 * -1 to go on, or the exit status to stop with (after reporting, e.g. with
 * dr_cli_usage_error).
 */
typedef int (*dr_cli_option_fn)(void *ctx, int c, const char *arg);

/*
 * Parse cmd's options, the same way in every command: options may come
 * before, between and after the operands ("--" ends them; "-" is an
 * operand); -h/--help prints cmd's help (exit status 0); an unknown or
 * ambiguous option, a missing value or a value given to a flag is reported
 * once, as "drover CMD: unknown option '--x'" (with a suggestion when one is
 * near) and the usage (exit status 2). shortopts is getopt's short option
 * string without leading flags; longopts a getopt_long table. Every other
 * option goes to on_option(ctx, c, arg) in command-line order.
 *
 * Returns -1 when every option was taken: the operands, in their order, are
 * then argv[optind..argc) (argv's slots are rearranged; the strings are not
 * copied). Else the exit status to return. Uses getopt's globals: call from
 * the main thread only.
 */
int dr_cli_parse(const dr_command *cmd, int argc, char **argv, const char *shortopts, const struct option *longopts,
		 dr_cli_option_fn on_option, void *ctx);

/*
 * Parse the options of commands that read the state directory: --state-dir
 * DIR, --format text|json, --help. Sets *state (NULL when not given) and
 * *json. Returns -1 to go on (optind at the first operand), else the exit
 * status to return (help shown, or a usage error reported).
 */
int dr_cli_parse_state_options(const dr_command *cmd, int argc, char **argv, const char **state, bool *json);

/*
 * Whether the runs under state can be listed: true when state/runs is a
 * directory drover can read, or does not exist (no runs yet). Else false
 * with a sentence in err (what cannot be read and why, that nothing was
 * changed, what to do), so a directory drover may not read is never taken
 * for one without runs.
 */
bool dr_cli_runs_readable(const char *state, dr_buf *err);

/*
 * The latest run's id under state (the first that `drover runs` lists),
 * heap (the caller frees it); NULL with a sentence in err when there is none.
 */
char *dr_cli_latest_run(const char *state, dr_buf *err);

/*
 * After a run of runbook (its name) was refused as blocked, or drover resume
 * was given no run (runbook NULL: any runbook's): when the newest run of
 * that runbook under state (NULL: the default) that was not refused ended
 * cancelled, interrupted or failed, say on stderr that drover resume
 * (--retry-failed for a failed one) goes on with it, with the command; else
 * nothing. Reads the state's runs in brief.
 */
void dr_cli_hint_resume(const dr_command *cmd, const char *state, const char *runbook);

/*
 * After command name returned rc: when what it wrote to standard output did
 * not all get out (a full disk: fflush fails or the stream's error flag is
 * set), say so on stderr (what is incomplete, that what the command did
 * stands - for a journaled command, that its journal is the record - what
 * to do) and return DR_EXIT_INTERNAL in place of DR_EXIT_OK; else rc. A
 * broken pipe stays silent (a reader that stopped early), and so does a
 * command that returned DR_EXIT_INTERNAL (it reported its failure).
 */
int dr_cli_finish_stdout(const char *name, bool journaled, int rc);

/*
 * Before anything runs (after the options are parsed): whether the file
 * that option names can be made where it says. Its folder must exist -
 * drover makes folders only in its own tree, the state directory (state,
 * NULL: the default one) and folders in it, as written (made here, mode
 * 0700: the file's writer makes none), so a mistyped path
 * elsewhere is refused, not made (curl's --create-dirs is opt-in too) - and
 * be one drover may write in; the path must not be a folder. NULL (no such option) and "-"
 * (standard output) pass. Returns -1 to go on, else reports on stderr (the
 * option, the file, what is wrong, that nothing was run or written, what to
 * do) and returns DR_EXIT_INVALID. Any thread.
 */
int dr_cli_check_output(const dr_command *cmd, const char *state, const char *option, const char *path);

/* True when colour should be used on stream f: a TTY, NO_COLOR unset or empty, TERM not "dumb". */
bool dr_cli_use_color(FILE *f);

/*
 * The stdlib directory to use: the explicit one when given, else
 * $DROVER_STDLIB, else "stdlib" beside the source tree the binary was built
 * in (for running from a checkout), else the installed DROVER_DATADIR/stdlib.
 * Returns a static or given string; NULL when none exists.
 */
const char *dr_cli_stdlib_dir(const char *explicit_dir);

/* --- evidence.c: --report and --metrics of run, drill, failback and resume ---- */

/* A list of --report files (repeatable: one per format). */
typedef struct dr_cli_reports {
	const char **paths;
	size_t n;
} dr_cli_reports;

/* --report PATH: check its extension (a usage error otherwise) and add it to r. Returns -1 or the exit status. */
int dr_cli_add_report(const dr_command *cmd, dr_cli_reports *r, const char *path);

/*
 * Before a run starts: each of its output files (--events, each --report,
 * --metrics; NULL: not asked for) can be made where it says
 * (dr_cli_check_output, state the run's state directory). -1 to go on, else
 * the exit status, said on stderr.
 */
int dr_cli_check_run_outputs(const dr_command *cmd, const char *state, const char *events, const dr_cli_reports *r,
			     const char *metrics);

/*
 * After a run: its reports (each in the format of its extension) and its
 * metrics (NULL: none), from the run's journal under state_dir (NULL: the
 * default). Returns 0, or -1 when one could not be written (said on
 * stderr: what, and that the run is as its journal says). Frees r's list.
 */
int dr_cli_write_evidence(const dr_command *cmd, const char *state_dir, const char *run_id, dr_cli_reports *r,
			  const char *metrics);

/*
 * Close a run's event stream f, opened on path by --events (not standard
 * output: dr_cli_finish_stdout checks that). When any write failed (a full
 * disk), the file is incomplete: said on stderr, with where the whole run
 * is (its journal: drover status RUN-ID, with state_dir when not the
 * default). Returns 0, or -1 when the file is incomplete.
 */
int dr_cli_close_events(const dr_command *cmd, FILE *f, const char *path, const char *state_dir, const char *run_id);

/* --- modes_cli.c: shared by run, drill, failback and plan ------------------- */

/* --param NAME=VALUE (repeatable): append kv, borrowed from argv, to *params (grown with realloc; the caller frees it). */
void dr_cli_add_param(const char ***params, size_t *n, const char *kv);

/* Compile file (diagnostics on stderr); NULL with "drover CMD: FILE has N errors" when it has errors. */
dr_runbook *dr_cli_compile(const dr_command *cmd, const char *file, const char *stdlib);

/* --direction: failover | primary-to-recovery, failback | recovery-to-primary. Returns 0 or -1. */
int dr_cli_parse_direction(const char *s, dr_be_direction *out);

/* The drill's network: explicit, else the runbook's drill_network parameter, else DR_DRILL_DEFAULT_NETWORK. */
const char *dr_cli_drill_network(const dr_runbook *rb, const struct cJSON *params, const char *explicit_network);

/*
 * The clock a run of rb uses when --clock is not given: $DROVER_CLOCK, else
 * virtual when rb declares `backend: {kind: sim}` at speed 0 (its default:
 * as fast as possible), else real (also for a runbook without backend:).
 */
dr_clock_kind dr_cli_default_clock(const dr_runbook *rb);

/*
 * Where a run of rb on the virtual clock starts (Unix ms): the simulator's
 * own time, where the last run against its state (state_path, else
 * state_dir's) left it, so runs follow each other on its calendar and
 * their ids sort; -1 (the epoch, DR_CLOCK_VIRTUAL_EPOCH_MS) for a state
 * that has no time yet, a simulator in memory or another backend.
 */
int64_t dr_cli_virtual_start(const dr_runbook *rb, const char *state_path, const char *state_dir);

/* How much faster than real time a simulated run of rb goes on the real clock: backend.speed (0 when not given). */
double dr_cli_sim_speed(const dr_runbook *rb);

/*
 * The test hook DROVER_TEST_SIGNAL_AT=DURATION[:TERM] (docs/execution.md):
 * the run sends itself SIGINT (SIGTERM with :TERM) when its clock reaches
 * that time; *at_ms and *sig get them (left as they are when the variable
 * is unset). Returns -1, or a usage error of cmd (exit 2) for a value that
 * is not a duration.
 */
int dr_cli_test_signal_at(const dr_command *cmd, int64_t *at_ms, int *sig);

/*
 * `drover run` in a mode: the body of run, drill and failback (run.c).
 * cmd names the command in messages and --help.
 */
int dr_cli_run_mode(const dr_command *cmd, dr_run_mode mode, int argc, char **argv);

#endif
