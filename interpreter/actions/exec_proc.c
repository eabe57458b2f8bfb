/*
 * actions/exec_proc.c - the `exec` and `check.exec` actions: run a local
 * program, never through a shell, and judge its exit status and output.
 *
 * run() decodes the evaluated with: object into a spec, starts argv[0]
 * with posix_spawnp in a process group of its own (stdin /dev/null, stdout
 * and stderr on O_CLOEXEC pipes, every other descriptor closed, signal mask
 * emptied and dispositions reset), reads both pipes with poll() keeping at
 * most max_output bytes of each, and waits for the program to exit.
 *
 * The exit is seen through a pidfd (where there is none, by asking waitid
 * every 10 ms) with WNOWAIT: the program stays a zombie, so its process
 * group id stays reserved, until after the group has been signalled -
 * kill(-pgid) can never reach a recycled id. On timeout or cancellation
 * the group gets SIGTERM, kill_grace later SIGKILL, and the program is
 * reaped. On a normal exit, background processes it left in its group are
 * left alone (as a shell would); their output is no longer read.
 *
 * check.exec runs on the same machinery with its own inputs (a subset of
 * exec's): the only difference is that an exit status it does not expect
 * is a transient failure - a probe that says "not yet" is retried while the
 * service comes up - where exec's is permanent.
 *
 * Thread safety: everything lives on the stack or the heap of this call;
 * no signal handler, no SIGCHLD, waitpid only on our own child. The
 * environment is read (never written) to build the child's.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "actions/family.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <pcre2.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "run/eval.h"
#include "run/exec.h"
#include "front/runbook.h"
#include "util/buf.h"
#include "util/text.h"
#include "util/xalloc.h"

extern char **environ;

enum {
	DEFAULT_MAX_OUTPUT = 1048576, /* as in core.c's schema */
	DEFAULT_GRACE_MS = 5000,
	TICK_MS = 50, /* cancellation is checked at least this often */
	EXIT_POLL_MS = 10, /* without a pidfd: how often waitid is asked */
	CHUNK = 16384,
	PUMP_MAX = 4 * CHUNK, /* bytes read per stream per wake-up, so deadlines are checked */
	DRAIN_MAX = 1 << 20, /* bytes read after the exit: a pipe's buffer at most */
	TAIL_BYTES = 200, /* of output quoted in a failure message */
};

/* ------------------------------------------------------------- outcomes */

static dr_outcome failed(dr_err_class cls, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static dr_outcome failed(dr_err_class cls, const char *fmt, ...)
{
	dr_buf b;
	dr_buf_init(&b);
	va_list ap;
	va_start(ap, fmt);
	dr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	return (dr_outcome){.status = DR_ACT_FAIL, .cls = cls, .message = b.data, .retry_after_ms = -1};
}

static dr_outcome succeeded(cJSON *outputs)
{
	return (dr_outcome){.status = DR_ACT_OK, .outputs = outputs, .retry_after_ms = -1};
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *errtext(int e, char *buf, size_t n)
{
	return strerror_r(e, buf, n); /* GNU: returns the message */
}

/* ------------------------------------------------------- the with: spec */

enum { OUT, ERR }; /* stream indexes */
static const char *const stream_names[] = {"standard output", "standard error"};
static const char *const match_keys[] = {"stdout_match", "stderr_match"};

typedef struct spec {
	char **argv; /* NULL-terminated; owned */
	char **envp; /* NULL-terminated; [0, n_inherited) borrowed from environ, the rest owned */
	size_t n_inherited, n_env;
	char *cwd; /* NULL: drover's own */
	bool expect[256], retry[256]; /* exit statuses that succeed / fail transiently */
	bool retry_listed; /* with.retry_exit was given: the other failing statuses are permanent */
	pcre2_code *match[2];
	const char *pattern[2];
	size_t max_output;
	size_t slack; /* read this much past max_output, so a secret the cut would halve is whole when redacted */
	int64_t timeout_ms; /* -1: none */
	int64_t grace_ms;
	dr_err_class bad_exit; /* the class of a failed run of the program (an exit status, a signal, an output) */
	char *err; /* the first problem with the inputs */
} spec;

static bool bad(spec *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool bad(spec *s, const char *fmt, ...)
{
	if (!s->err) {
		dr_buf b;
		dr_buf_init(&b);
		va_list ap;
		va_start(ap, fmt);
		dr_buf_vprintf(&b, fmt, ap);
		va_end(ap);
		s->err = b.data;
	}
	return false;
}

/* Strings, numbers and booleans become text (as in templates); the rest is refused. */
static bool is_text(const cJSON *v) { return cJSON_IsString(v) || cJSON_IsNumber(v) || cJSON_IsBool(v); }

static bool decode_argv(spec *s, const cJSON *v)
{
	if (!cJSON_IsArray(v) || !v->child)
		return bad(s, "with.argv: a non-empty list (the program and its arguments) is required");
	s->argv = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof *s->argv);
	size_t i = 0;
	for (const cJSON *it = v->child; it; it = it->next, i++) {
		if (!is_text(it))
			return bad(s, "with.argv[%zu]: an argument is text, not a %s", i, dr_eval_type_name(it));
		s->argv[i] = dr_eval_to_text(it);
	}
	return s->argv[0][0] ? true : bad(s, "with.argv[0]: the program name is empty");
}

/* True when the environment entry "NAME=value" is named in with.env. */
static bool overridden(const cJSON *env, const char *entry)
{
	const char *eq = strchr(entry, '=');
	size_t n = eq ? (size_t)(eq - entry) : strlen(entry);
	for (const cJSON *it = env ? env->child : NULL; it; it = it->next)
		if (strlen(it->string) == n && memcmp(it->string, entry, n) == 0)
			return true;
	return false;
}

static bool add_env(spec *s, const cJSON *it)
{
	const char *name = it->string;
	if (!*name || strchr(name, '='))
		return bad(s, "with.env: '%s' is not a variable name", name);
	if (cJSON_IsNull(it))
		return true; /* null: removed from the child's environment */
	if (!is_text(it))
		return bad(s, "with.env.%s: a value is text, not a %s", name, dr_eval_type_name(it));
	char *value = dr_eval_to_text(it);
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s=%s", name, value);
	free(value);
	s->envp[s->n_env++] = b.data;
	return true;
}

/* drover's environment, minus what with.env names, plus with.env's values. */
static bool decode_env(spec *s, const cJSON *env)
{
	if (env && !cJSON_IsObject(env))
		return bad(s, "with.env: a mapping NAME: value is required, not a %s", dr_eval_type_name(env));
	size_t n = 0;
	while (environ && environ[n])
		n++;
	s->envp = xcalloc(n + (size_t)cJSON_GetArraySize(env) + 1, sizeof *s->envp);
	for (size_t i = 0; i < n; i++)
		if (!overridden(env, environ[i]))
			s->envp[s->n_env++] = environ[i];
	s->n_inherited = s->n_env;
	for (const cJSON *it = env ? env->child : NULL; it; it = it->next)
		if (!add_env(s, it))
			return false;
	return true;
}

static bool decode_code(spec *s, const cJSON *v, const char *key, bool *set)
{
	if (!cJSON_IsNumber(v) || v->valuedouble != (int)v->valuedouble || v->valuedouble < 0 || v->valuedouble > 255)
		return bad(s, "with.%s: an exit status is an integer from 0 to 255", key);
	set[(int)v->valuedouble] = true;
	return true;
}

/* An exit status or a list of them; absent: dflt (or nothing when dflt < 0). */
static bool decode_codes(spec *s, const cJSON *v, const char *key, bool *set, int dflt)
{
	if (!v) {
		if (dflt >= 0)
			set[dflt] = true;
		return true;
	}
	if (!cJSON_IsArray(v))
		return decode_code(s, v, key, set);
	for (const cJSON *it = v->child; it; it = it->next)
		if (!decode_code(s, it, key, set))
			return false;
	return true;
}

static bool decode_regex(spec *s, const cJSON *v, int which)
{
	if (!v)
		return true;
	if (!cJSON_IsString(v))
		return bad(s, "with.%s: a regular expression (a string) is required", match_keys[which]);
	int code;
	PCRE2_SIZE at;
	s->pattern[which] = v->valuestring;
	s->match[which] = pcre2_compile((PCRE2_SPTR)v->valuestring, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &at, NULL);
	if (s->match[which])
		return true;
	PCRE2_UCHAR msg[256];
	pcre2_get_error_message(code, msg, sizeof msg);
	return bad(s, "with.%s: bad regular expression at offset %zu: %s", match_keys[which], (size_t)at,
		   (const char *)msg);
}

/* A duration: text like "30s", or a number of milliseconds. */
static bool decode_duration(spec *s, const cJSON *v, const char *key, int64_t *out)
{
	size_t bad_at = 0;
	if (!v)
		return true;
	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 9e15) {
		*out = (int64_t)v->valuedouble;
		return true;
	}
	if (cJSON_IsString(v) && dr_text_parse_duration(v->valuestring, out, &bad_at))
		return true;
	return bad(s, "with.%s: a duration like 30s is required", key);
}

static bool decode_size(spec *s, const cJSON *v)
{
	if (!v)
		return true;
	if (!cJSON_IsNumber(v) || v->valuedouble < 1 || v->valuedouble > (double)(64 << 20) ||
	    v->valuedouble != (double)(size_t)v->valuedouble)
		return bad(s, "with.max_output: a size in bytes from 1 to %d is required", 64 << 20);
	s->max_output = (size_t)v->valuedouble;
	return true;
}

/* The directory of the file that declares the step (the runbook's, for its own steps). */
static char *step_dir(const dr_call *call)
{
	const char *f = call->step ? call->step->loc.file : NULL;
	const char *slash = f ? strrchr(f, '/') : NULL;
	return slash ? xstrndup(f, slash == f ? 1 : (size_t)(slash - f)) : NULL;
}

/* with.cwd, relative to the step's directory; that directory when absent. Must exist. */
static bool decode_cwd(spec *s, const cJSON *v, const dr_call *call)
{
	if (v && !cJSON_IsString(v))
		return bad(s, "with.cwd: a directory (a string) is required, not a %s", dr_eval_type_name(v));
	char *base = step_dir(call);
	const char *dir = v ? v->valuestring : "";
	if (*dir == '/' || (*dir && !base))
		s->cwd = xstrdup(dir);
	else if (*dir) {
		dr_buf b;
		dr_buf_init(&b);
		dr_buf_printf(&b, "%s/%s", base, dir);
		s->cwd = b.data;
	} else
		s->cwd = base ? xstrdup(base) : NULL;
	free(base);
	struct stat st;
	char e[128];
	if (s->cwd && stat(s->cwd, &st) != 0)
		return bad(s, "with.cwd: '%s': %s", s->cwd, errtext(errno, e, sizeof e));
	if (s->cwd && !S_ISDIR(st.st_mode))
		return bad(s, "with.cwd: '%s' is not a directory", s->cwd);
	return true;
}

static bool decode(spec *s, const dr_call *call)
{
	const cJSON *w = call->with;
	*s = (spec){.max_output = DEFAULT_MAX_OUTPUT, .timeout_ms = -1, .grace_ms = DEFAULT_GRACE_MS,
		    .slack = dr_exec_secret_slack(call->run)};
	if (!cJSON_IsObject(w))
		return bad(s, "with: a mapping of inputs is required");
	s->retry_listed = cJSON_GetObjectItemCaseSensitive(w, "retry_exit") != NULL;
	return decode_argv(s, cJSON_GetObjectItemCaseSensitive(w, "argv")) &&
	       decode_env(s, cJSON_GetObjectItemCaseSensitive(w, "env")) &&
	       decode_cwd(s, cJSON_GetObjectItemCaseSensitive(w, "cwd"), call) &&
	       decode_codes(s, cJSON_GetObjectItemCaseSensitive(w, "expect_exit"), "expect_exit", s->expect, 0) &&
	       decode_codes(s, cJSON_GetObjectItemCaseSensitive(w, "retry_exit"), "retry_exit", s->retry, -1) &&
	       decode_regex(s, cJSON_GetObjectItemCaseSensitive(w, "stdout_match"), OUT) &&
	       decode_regex(s, cJSON_GetObjectItemCaseSensitive(w, "stderr_match"), ERR) &&
	       decode_duration(s, cJSON_GetObjectItemCaseSensitive(w, "timeout"), "timeout", &s->timeout_ms) &&
	       decode_duration(s, cJSON_GetObjectItemCaseSensitive(w, "kill_grace"), "kill_grace", &s->grace_ms) &&
	       decode_size(s, cJSON_GetObjectItemCaseSensitive(w, "max_output"));
}

static void spec_dispose(spec *s)
{
	for (size_t i = 0; s->argv && s->argv[i]; i++)
		free(s->argv[i]);
	free(s->argv);
	for (size_t i = s->n_inherited; i < s->n_env; i++)
		free(s->envp[i]);
	free(s->envp);
	free(s->cwd);
	pcre2_code_free(s->match[OUT]);
	pcre2_code_free(s->match[ERR]);
	free(s->err);
}

/* ---------------------------------------------------------- the process */

typedef struct stream {
	int fd; /* read end, non-blocking; -1 after EOF */
	dr_buf kept; /* at most max bytes */
	size_t max;
	bool truncated;
} stream;

typedef struct proc {
	pid_t pid;
	int pidfd; /* -1 when the kernel has none */
	stream s[2];
	int status; /* from waitpid */
	int64_t started, ended; /* monotonic ms */
	int last_signal; /* the last signal we sent the group: 0, SIGTERM or SIGKILL */
	bool term_ignored; /* still alive when the grace ended */
} proc;

static void set_nonblock(int fd) { fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK); }

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	int fd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (fd >= 0) {
		fcntl(fd, F_SETFD, FD_CLOEXEC);
		return fd;
	}
#endif
	(void)pid;
	return -1;
}

/* stdin from /dev/null, stdout and stderr to the pipes, nothing else open, in the step's directory. */
static int file_actions(posix_spawn_file_actions_t *fa, int out, int err, const char *cwd)
{
	int rc = posix_spawn_file_actions_init(fa);
	if (!rc)
		rc = posix_spawn_file_actions_addopen(fa, 0, "/dev/null", O_RDONLY, 0);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(fa, out, 1);
	if (!rc)
		rc = posix_spawn_file_actions_adddup2(fa, err, 2);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
	if (!rc)
		rc = posix_spawn_file_actions_addclosefrom_np(fa, 3);
#endif
	if (!rc && cwd)
		rc = posix_spawn_file_actions_addchdir_np(fa, cwd);
	return rc;
}

/* A process group of its own; no blocked signals; every disposition back to the default. */
static int attributes(posix_spawnattr_t *at)
{
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	int rc = posix_spawnattr_init(at);
	if (!rc)
		rc = posix_spawnattr_setflags(at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (!rc)
		rc = posix_spawnattr_setpgroup(at, 0);
	if (!rc)
		rc = posix_spawnattr_setsigmask(at, &none);
	if (!rc)
		rc = posix_spawnattr_setsigdefault(at, &all);
	return rc;
}

static void close_pair(int p[2])
{
	for (int i = 0; i < 2; i++)
		if (p[i] >= 0)
			close(p[i]);
}

/* Start the program; 0 or an errno value (ENOENT: not found). */
static int start(proc *p, const spec *s)
{
	int out[2] = {-1, -1}, err[2] = {-1, -1};
	if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
		int e = errno;
		close_pair(out);
		close_pair(err);
		return e;
	}
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	int rc = file_actions(&fa, out[1], err[1], s->cwd);
	if (!rc)
		rc = attributes(&at);
	if (!rc) {
		rc = posix_spawnp(&p->pid, s->argv[0], &fa, &at, s->argv, s->envp);
		posix_spawnattr_destroy(&at);
	}
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(err[1]);
	if (rc) {
		close(out[0]);
		close(err[0]);
		return rc;
	}
	int fds[2] = {out[0], err[0]};
	for (int i = 0; i < 2; i++) {
		set_nonblock(fds[i]);
		p->s[i] = (stream){.fd = fds[i], .max = s->max_output + s->slack};
		dr_buf_init(&p->s[i].kept);
	}
	p->pidfd = open_pidfd(p->pid);
	return 0;
}

static void keep(stream *st, const char *data, size_t n)
{
	size_t room = st->max - st->kept.len;
	if (n > room)
		st->truncated = true;
	dr_buf_append(&st->kept, data, n < room ? n : room);
}

/* Read up to limit bytes of what the pipe holds now; closes it at EOF. */
static void read_stream(stream *st, size_t limit)
{
	char chunk[CHUNK];
	size_t got = 0;
	while (st->fd >= 0 && got < limit) {
		ssize_t n = read(st->fd, chunk, sizeof chunk);
		if (n > 0) {
			keep(st, chunk, (size_t)n);
			got += (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && errno == EAGAIN) {
			return;
		} else {
			close(st->fd);
			st->fd = -1;
		}
	}
}

/* Wait up to ms for output or the exit, and read what came. */
static void pump(proc *p, int ms)
{
	struct pollfd fds[3] = {
		{.fd = p->s[OUT].fd, .events = POLLIN},
		{.fd = p->s[ERR].fd, .events = POLLIN},
		{.fd = p->pidfd, .events = POLLIN},
	};
	if (poll(fds, 3, ms < 0 ? 0 : ms) <= 0)
		return;
	for (int i = 0; i < 2; i++)
		if (fds[i].revents)
			read_stream(&p->s[i], PUMP_MAX);
}

/* Has the program exited? It is left a zombie (WNOWAIT): its group id stays ours. */
static bool exited(const proc *p)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	return waitid(P_PID, (id_t)p->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == p->pid;
}

static bool cancel_requested(const dr_call *call)
{
	return call->cancel_requested && __atomic_load_n(call->cancel_requested, __ATOMIC_RELAXED);
}

enum ending { ENDED, TIMED_OUT, CANCELLED };

/* Read output until the program exits, the limit (ms from start, -1: none) passes, or the run is cancelled. */
static enum ending supervise(proc *p, const dr_call *call, int64_t limit)
{
	int64_t end = limit < 0 ? -1 : p->started + limit;
	for (;;) {
		if (exited(p))
			return ENDED;
		if (cancel_requested(call))
			return CANCELLED;
		int64_t now = mono_ms(), wait = p->pidfd >= 0 ? TICK_MS : EXIT_POLL_MS;
		if (end >= 0 && now >= end)
			return TIMED_OUT;
		if (end >= 0 && end - now < wait)
			wait = end - now;
		pump(p, (int)wait);
	}
}

/* SIGTERM to the group, up to grace ms for the program to go, then SIGKILL to whatever is left. */
static void terminate(proc *p, int64_t grace)
{
	kill(-p->pid, SIGTERM);
	p->last_signal = SIGTERM;
	int64_t end = mono_ms() + grace;
	for (int64_t now = mono_ms(); !exited(p) && now < end; now = mono_ms())
		pump(p, (int)(end - now < TICK_MS ? end - now : TICK_MS));
	if (!exited(p)) {
		p->term_ignored = true;
		p->last_signal = SIGKILL;
	}
	kill(-p->pid, SIGKILL); /* also the members that outlived the program */
}

/* Reap the program, read what its pipes still hold, close everything. */
static void finish(proc *p)
{
	while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
		;
	p->ended = mono_ms();
	for (int i = 0; i < 2; i++) {
		read_stream(&p->s[i], DRAIN_MAX);
		if (p->s[i].fd >= 0)
			close(p->s[i].fd);
	}
	if (p->pidfd >= 0)
		close(p->pidfd);
}

/* ------------------------------------------------------------ judgement */

/* ": <last line of text>" for a failure message, at most TAIL_BYTES; "" when the text is blank. */
static void put_tail(dr_buf *b, const char *label, const char *text)
{
	size_t n = strlen(text);
	while (n && strchr(" \t\r\n", text[n - 1]))
		n--;
	size_t start = n;
	while (start && text[start - 1] != '\n')
		start--;
	if (start == n)
		return;
	bool cut = n - start > TAIL_BYTES;
	if (cut)
		for (start = n - TAIL_BYTES; (text[start] & 0xC0) == 0x80; start++)
			;
	dr_buf_printf(b, "; %s: %s%.*s", label, cut ? "..." : "", (int)(n - start), text + start);
}

/* The last line of standard error, else of standard output. */
static void put_output_tail(dr_buf *b, char *const text[2])
{
	size_t before = b->len;
	put_tail(b, "stderr", text[ERR]);
	if (b->len == before)
		put_tail(b, "stdout", text[OUT]);
}

static void put_codes(dr_buf *b, const bool *set)
{
	const char *sep = "";
	for (int i = 0; i < 256; i++)
		if (set[i]) {
			dr_buf_printf(b, "%s%d", sep, i);
			sep = ", ";
		}
}

static const char *signal_name(int sig, char *buf, size_t n)
{
	const char *abbrev = sigabbrev_np(sig);
	if (abbrev)
		snprintf(buf, n, "SIG%s", abbrev);
	else
		snprintf(buf, n, "signal %d", sig);
	return buf;
}

static cJSON *outputs(const proc *p, char *const text[2])
{
	char sig[32];
	cJSON *o = cJSON_CreateObject();
	if (WIFEXITED(p->status))
		cJSON_AddNumberToObject(o, "exit_code", WEXITSTATUS(p->status));
	else
		cJSON_AddNullToObject(o, "exit_code");
	if (WIFSIGNALED(p->status))
		cJSON_AddStringToObject(o, "signal", signal_name(WTERMSIG(p->status), sig, sizeof sig));
	else
		cJSON_AddNullToObject(o, "signal");
	cJSON_AddStringToObject(o, "stdout", text[OUT]);
	cJSON_AddStringToObject(o, "stderr", text[ERR]);
	cJSON_AddBoolToObject(o, "truncated", p->s[OUT].truncated || p->s[ERR].truncated);
	cJSON_AddNumberToObject(o, "duration_ms", (double)(p->ended - p->started));
	return o;
}

/* Timeout or cancellation: what was done to the group. */
static dr_outcome stopped(const proc *p, const spec *s, enum ending how, int64_t limit, const char *why)
{
	char d[32], g[32];
	dr_text_human_duration(limit, d, sizeof d);
	dr_text_human_duration(s->grace_ms, g, sizeof g);
	dr_buf b;
	dr_buf_init(&b);
	if (how == TIMED_OUT)
		dr_buf_printf(&b, "%s timed out after %s (%s)", s->argv[0], d, why);
	else
		dr_buf_printf(&b, "cancelled while %s was running", s->argv[0]);
	dr_buf_printf(&b, "; its process group was sent SIGTERM");
	if (p->term_ignored)
		dr_buf_printf(&b, " and, %s later, SIGKILL", g);
	dr_outcome o = failed(how == TIMED_OUT ? DR_ERRC_TIMEOUT : DR_ERRC_CANCELLED, "%s", b.data);
	dr_buf_dispose(&b);
	return o;
}

/* The program ended by itself: exit status, then the output expectations. */
static dr_outcome judge(const proc *p, const spec *s, char *const raw[2], char *const text[2])
{
	char sig[32];
	dr_buf b;
	dr_buf_init(&b);
	dr_err_class cls = s->bad_exit;
	if (WIFSIGNALED(p->status)) {
		dr_buf_printf(&b, "%s was killed by %s", s->argv[0], signal_name(WTERMSIG(p->status), sig, sizeof sig));
		put_output_tail(&b, text);
	} else if (!s->expect[WEXITSTATUS(p->status)]) {
		cls = s->retry[WEXITSTATUS(p->status)] ? DR_ERRC_TRANSIENT : s->retry_listed ? DR_ERRC_PERMANENT : s->bad_exit;
		dr_buf_printf(&b, "%s exited with status %d (expected ", s->argv[0], WEXITSTATUS(p->status));
		put_codes(&b, s->expect);
		if (s->retry_listed && cls == DR_ERRC_PERMANENT) {
			dr_buf_puts(&b, "; retry_exit lists ");
			put_codes(&b, s->retry);
		}
		dr_buf_puts(&b, ")");
		put_output_tail(&b, text);
	} else {
		for (int i = 0; i < 2 && !b.len; i++) {
			if (!s->match[i])
				continue;
			pcre2_match_data *md = pcre2_match_data_create_from_pattern(s->match[i], NULL);
			int rc = pcre2_match(s->match[i], (PCRE2_SPTR)raw[i], strlen(raw[i]), 0, 0, md, NULL);
			pcre2_match_data_free(md);
			if (rc < 0)
				dr_buf_printf(&b, "%s of %s does not match /%s/%s", stream_names[i], s->argv[0], s->pattern[i],
					      p->s[i].truncated ? " (only the first max_output bytes are kept)" : "");
		}
	}
	dr_outcome o = b.len ? failed(cls, "%s", b.data) : succeeded(outputs(p, text));
	dr_buf_dispose(&b);
	return o;
}

/* ------------------------------------------------------------ the action */

static dr_outcome spawn_failure(const spec *s, int e)
{
	char buf[128];
	if (e == ENOENT)
		return failed(DR_ERRC_PERMANENT, "command not found: %s", s->argv[0]);
	if (e == EACCES)
		return failed(DR_ERRC_PERMANENT, "permission denied: %s", s->argv[0]);
	if (e == ENOEXEC)
		return failed(DR_ERRC_PERMANENT, "not an executable: %s", s->argv[0]);
	dr_err_class cls = e == EAGAIN || e == ENOMEM || e == EMFILE || e == ENFILE ? DR_ERRC_TRANSIENT : DR_ERRC_PERMANENT;
	return failed(cls, "cannot run %s: %s", s->argv[0], errtext(e, buf, sizeof buf));
}

/* The smaller of with.timeout and the attempt's deadline, in ms (-1: none), and which it was. */
static int64_t time_limit(const spec *s, const dr_call *call, const char **why)
{
	int64_t limit = s->timeout_ms;
	*why = "with.timeout";
	if (call->deadline_ms != INT64_MAX) {
		int64_t left = call->deadline_ms > call->now_ms ? call->deadline_ms - call->now_ms : 0;
		if (limit < 0 || left < limit) {
			limit = left;
			*why = "the attempt's deadline";
		}
	}
	return limit;
}

/*
 * What of a stream the run may show (outputs, messages): valid UTF-8, at
 * most max bytes, every secret redacted, none cut in half at the end (the
 * stream read slack bytes past max). Marks the stream truncated when it
 * was cut. The caller frees it.
 */
static char *shown_text(const dr_call *call, stream *st, size_t max)
{
	char *clean = dr_text_clean_utf8(st->kept.data, st->kept.len);
	bool cut;
	char *r = dr_exec_redact_cut(call ? call->run : NULL, clean, strlen(clean), max, &cut);
	free(clean);
	st->truncated = st->truncated || cut;
	return r;
}

/* Run the process to its end and judge it. */
static dr_outcome run_spec(const spec *s, dr_call *call)
{
	const char *why;
	int64_t limit = time_limit(s, call, &why);
	if (limit == 0)
		return failed(DR_ERRC_TIMEOUT, "%s was not started: no time left (%s)", s->argv[0], why);
	proc p = {.pidfd = -1, .started = mono_ms()};
	int e = start(&p, s);
	if (e)
		return spawn_failure(s, e);
	enum ending how = supervise(&p, call, limit);
	if (how != ENDED)
		terminate(&p, s->grace_ms);
	finish(&p);
	char *raw[2], *text[2];
	for (int i = 0; i < 2; i++) {
		raw[i] = dr_text_clean_utf8(p.s[i].kept.data, dr_text_utf8_prefix(p.s[i].kept.data, p.s[i].kept.len, s->max_output));
		text[i] = shown_text(call, &p.s[i], s->max_output);
	}
	dr_outcome o = how == ENDED ? judge(&p, s, raw, text) : stopped(&p, s, how, limit, why);
	for (int i = 0; i < 2; i++) {
		free(raw[i]);
		free(text[i]);
		dr_buf_dispose(&p.s[i].kept);
	}
	return o;
}

void dr_proc_run(const dr_call *call, char *const *argv, int64_t limit_ms, size_t max_output, dr_proc_result *r)
{
	spec s = {.argv = (char **)argv, .envp = environ, .max_output = max_output, .grace_ms = DEFAULT_GRACE_MS,
		  .slack = dr_exec_secret_slack(call ? call->run : NULL)};
	proc p = {.pidfd = -1, .started = mono_ms()};
	*r = (dr_proc_result){.end = DR_PROC_NOT_STARTED};
	if ((r->spawn_errno = start(&p, &s)) != 0)
		return;
	enum ending how = supervise(&p, call, limit_ms);
	if (how != ENDED)
		terminate(&p, s.grace_ms);
	finish(&p);
	r->end = how == ENDED ? DR_PROC_EXITED : how == TIMED_OUT ? DR_PROC_TIMED_OUT : DR_PROC_CANCELLED;
	r->status = p.status;
	r->out = shown_text(call, &p.s[OUT], max_output); /* redacted: check.ssh shows and judges what it may show */
	r->err = shown_text(call, &p.s[ERR], max_output);
	r->truncated = p.s[OUT].truncated || p.s[ERR].truncated;
	r->duration_ms = p.ended - p.started;
	for (int i = 0; i < 2; i++)
		dr_buf_dispose(&p.s[i].kept);
}

void dr_proc_result_dispose(dr_proc_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}

/*
 * Run with.argv as a child process and wait for it. OK with outputs
 * {exit_code, signal, stdout, stderr, truncated, duration_ms}; FAIL
 * PERMANENT for what no retry can fix: bad inputs, a program that cannot
 * be started ("command not found: X"); bad_exit for a run that failed (an
 * exit status not in expect_exit, a signal, an unmatched output pattern),
 * but when with.retry_exit lists statuses, exactly those are TRANSIENT and
 * the other statuses PERMANENT; TIMEOUT and CANCELLED after the process
 * group was stopped. Blocks; never returns
 * WAIT. The inputs exec's row declares are read; absent ones take their
 * defaults, so any row whose inputs are a subset (check.exec) can use it.
 */
static dr_outcome run_program(dr_call *call, dr_err_class bad_exit)
{
	spec s;
	dr_outcome o;
	if (cancel_requested(call))
		return failed(DR_ERRC_CANCELLED, "cancelled before the program was started");
	if (decode(&s, call)) {
		s.bad_exit = bad_exit;
		o = run_spec(&s, call);
	} else {
		o = failed(DR_ERRC_PERMANENT, "%s", s.err);
	}
	spec_dispose(&s);
	return o;
}

/* exec: a run that failed is transient, so a plain retry: retries it (issue 8); retry_exit narrows it. */
dr_outcome dr_action_exec_run(dr_call *call)
{
	return run_program(call, DR_ERRC_TRANSIENT);
}

/* check.exec: an unexpected exit status is transient (the probe is asked again while the service boots). */
dr_outcome dr_action_check_exec_run(dr_call *call)
{
	return run_program(call, DR_ERRC_TRANSIENT);
}

/* exec keeps no state across calls (it never waits through WAIT): nothing to release. */
void dr_action_exec_cancel(dr_call *call)
{
	(void)call;
}
