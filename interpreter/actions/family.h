/*
 * actions/family.h - private to interpreter/actions/: how the family files
 * (core.c, dr.c, checks.c, notify.c) hand their rows to table.c, and the
 * input types they share.
 *
 * Each family exports one array of rows ending with a row whose name is
 * NULL. table.c concatenates the families in a fixed order (core, dr,
 * checks, notify); nothing outside actions/ includes this header.
 */
#ifndef DR_ACTIONS_FAMILY_H
#define DR_ACTIONS_FAMILY_H

#include "actions/action.h"

extern const dr_action dr_actions_core[];
extern const dr_action dr_actions_dr[];
extern const dr_action dr_actions_checks[];
extern const dr_action dr_actions_notify[];

/* Input types more than one family uses (defined in table.c). */
extern const dr_type dr_action_t_text; /* a string, may be ${...} */
extern const dr_type dr_action_t_text_req; /* a non-empty string, may be ${...} */
extern const dr_type dr_action_t_duration; /* "30s", or ${...} */
extern const dr_type dr_action_t_bool; /* true/false, or ${...} */
extern const dr_type dr_action_t_regex; /* a PCRE2 pattern, compiled at check time */
extern const dr_type dr_action_t_argv; /* a non-empty list of strings, each may be ${...} */
extern const dr_type dr_action_t_env; /* NAME: value, free keys, values may be ${...} */
extern const dr_type dr_action_t_headers; /* HTTP headers, free keys, values may be ${...} */
extern const dr_type dr_action_t_exit_codes; /* 0, or [0, 3] */
extern const dr_type dr_action_t_url; /* an http(s) URL, may be ${...} */

/*
 * exec_proc.c: the `exec` action. run() blocks until the program ends (the row
 * is DR_AF_BLOCKING: call it on a worker thread); it never returns WAIT, so
 * cancel() has nothing to release. Contract at the top of exec_proc.c and in
 * docs/execution.md.
 */
dr_outcome dr_action_exec_run(dr_call *call);
void dr_action_exec_cancel(dr_call *call);

/*
 * exec_proc.c's machinery for other actions (check.ssh): run argv (no
 * shell; drover's environment; stdin /dev/null) until it exits, limit_ms
 * real milliseconds pass (-1: no limit) or the run is cancelled; then its
 * process group gets SIGTERM and, 5s later, SIGKILL. Keeps at most
 * max_output bytes of each stream. Blocks; thread-safe as exec is.
 * Release the result with dr_proc_result_dispose.
 */
typedef enum dr_proc_end {
	DR_PROC_EXITED, /* status holds the wait status */
	DR_PROC_TIMED_OUT,
	DR_PROC_CANCELLED,
	DR_PROC_NOT_STARTED, /* spawn_errno says why (ENOENT: not found) */
} dr_proc_end;

typedef struct dr_proc_result {
	dr_proc_end end;
	int status, spawn_errno;
	char *out, *err; /* valid UTF-8 (bad bytes replaced), NUL-terminated; owned */
	bool truncated;
	int64_t duration_ms;
} dr_proc_result;

void dr_proc_run(const dr_call *call, char *const *argv, int64_t limit_ms, size_t max_output, dr_proc_result *r);
void dr_proc_result_dispose(dr_proc_result *r);

/*
 * The checks and notifications that block (DR_AF_BLOCKING, on a worker
 * thread): check.exec in exec_proc.c (exec's machinery, an unexpected exit
 * status transient), check.http in check_http.c, check.tcp and check.dns
 * in check_net.c, notify.webhook in notify_webhook.c (shared parts in
 * actions/net.h). None returns WAIT or keeps state, so none has cancel().
 */
dr_outcome dr_action_check_exec_run(dr_call *call);
dr_outcome dr_action_check_http_run(dr_call *call);
dr_outcome dr_action_check_tcp_run(dr_call *call);
dr_outcome dr_action_check_dns_run(dr_call *call);
dr_outcome dr_action_check_ssh_run(dr_call *call); /* check_ssh.c, on dr_proc_run */
dr_outcome dr_action_check_rdp_run(dr_call *call); /* check_rdp.c */
dr_outcome dr_action_notify_webhook_run(dr_call *call);

/*
 * basic.c and approve.c: the engine's own actions (executor issue). All run
 * inline on the scheduler thread: log, fail and assert answer at once; sleep
 * and approve return WAIT until their time or their answer comes, and
 * release their state in cancel().
 */
dr_outcome dr_action_log_run(dr_call *call);
dr_outcome dr_action_sleep_run(dr_call *call);
void dr_action_sleep_cancel(dr_call *call);
dr_outcome dr_action_fail_run(dr_call *call);
dr_outcome dr_action_assert_run(dr_call *call);
dr_outcome dr_action_approve_run(dr_call *call);
void dr_action_approve_cancel(dr_call *call);

#endif
