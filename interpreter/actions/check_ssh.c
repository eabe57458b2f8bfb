/*
 * actions/check_ssh.c - check.ssh: log in to a VM with the system's
 * OpenSSH client, run a command, and judge its exit status and output.
 *
 * ssh runs as an argv (never through a shell) on exec_proc.c's machinery
 * (dr_proc_run), with every choice made explicit so that neither the
 * user's ~/.ssh/config nor an agent changes what the check means:
 * BatchMode (no prompt, ever), public-key authentication only, the host
 * key checked against with.known_hosts (StrictHostKeyChecking=yes) or, with
 * `known_hosts: accept-new`, accepted on first use into a file of this
 * attempt only and recorded in the outputs. ssh logs at DEBUG1 into a file
 * of its own (-E), which tells this code what happened - the host key the
 * server presented, whether the login succeeded, the remote exit status -
 * apart from the remote command's output.
 *
 * Classes (docs/checks.md, "check.ssh"): what heals while a VM boots (no
 * route, refused, reset, closed, no answer in time, a command that does not
 * answer as expected yet) is TRANSIENT, so a plain `retry:` waits for it; a
 * host key that changed or is unknown, a refused login, an unusable key
 * file and bad inputs are PERMANENT; the attempt's deadline gives TIMEOUT.
 *
 * Thread safety: all state is this call's (a worker thread runs it).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "actions/family.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdarg.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actions/net.h"
#include "front/runbook.h"
#include "run/eval.h"
#include "run/exec.h"
#include "util/buf.h"
#include "util/xalloc.h"

enum {
	DEFAULT_PORT = 22,
	DEFAULT_TIMEOUT_MS = 30000, /* as in checks.c's schema */
	DEFAULT_CONNECT_MS = 10000,
	DEFAULT_MAX_OUTPUT = 65536,
	MAX_MAX_OUTPUT = 1 << 20,
	LOG_MAX = 256 * 1024, /* of ssh's debug log read back */
};

#define ACCEPT_NEW "accept-new"

typedef struct ssh_spec {
	char *host, *user, *key, *known_hosts, *command;
	int port;
	bool accept_new;
	bool expect[256];
	pcre2_code *match;
	const char *pattern;
	int64_t connect_ms;
	size_t max_output;
	dr_net_limit limit;
	char *what; /* "user@host:port" for messages */
	char *err;
} ssh_spec;

static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *vformat(const char *fmt, va_list ap)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_vprintf(&b, fmt, ap);
	return dr_buf_detach(&b);
}

static bool bad(ssh_spec *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool bad(ssh_spec *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (!s->err)
		s->err = vformat(fmt, ap);
	va_end(ap);
	return false;
}

/* ---------------------------------------------------------------- inputs */

static const cJSON *in(const dr_call *call, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(call->with, key);
}

/* A text input: strings, and numbers as text; NULL when absent. */
static bool text_in(ssh_spec *s, const dr_call *call, const char *key, bool required, char **out)
{
	const cJSON *v = in(call, key);
	if (!v || cJSON_IsNull(v))
		return required ? bad(s, "with.%s is required", key) : true;
	if (!cJSON_IsString(v) && !cJSON_IsNumber(v))
		return bad(s, "with.%s: text is required, not a %s", key, dr_eval_type_name(v));
	*out = dr_eval_to_text(v);
	if (**out)
		return true;
	return bad(s, "with.%s: must not be empty", key);
}

/* The runbook's directory, for relative paths (also of a composite's steps: the caller wrote the path). */
static char *base_dir(const dr_call *call)
{
	const char *d = call->run ? dr_exec_runbook_dir(call->run) : NULL;
	if (d && *d)
		return xstrdup(d);
	const char *f = call->step ? call->step->loc.file : NULL;
	const char *slash = f ? strrchr(f, '/') : NULL;
	return slash ? xstrndup(f, slash == f ? 1 : (size_t)(slash - f)) : NULL;
}

/* path as ssh will read it: ~/ from $HOME, relative to the runbook's folder; replaces *path. */
static void resolve_path(const dr_call *call, char **path)
{
	const char *home = getenv("HOME");
	char *base = base_dir(call);
	dr_buf b;
	dr_buf_init(&b);
	if ((*path)[0] == '~' && (*path)[1] == '/' && home)
		dr_buf_printf(&b, "%s%s", home, *path + 1);
	else if ((*path)[0] != '/' && base)
		dr_buf_printf(&b, "%s/%s", base, *path);
	else
		dr_buf_puts(&b, *path);
	free(base);
	free(*path);
	*path = dr_buf_detach(&b);
}

static bool readable_file(ssh_spec *s, const char *key, const char *path)
{
	struct stat st;
	if (stat(path, &st) != 0)
		return bad(s, "with.%s: '%s': %s", key, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return bad(s, "with.%s: '%s' is not a file", key, path);
	if (access(path, R_OK) != 0)
		return bad(s, "with.%s: '%s' cannot be read: %s", key, path, strerror(errno));
	return true;
}

static bool decode_port(ssh_spec *s, const dr_call *call)
{
	const cJSON *v = in(call, "port");
	double d = DEFAULT_PORT;
	char *end = NULL;
	if (cJSON_IsNumber(v))
		d = v->valuedouble;
	else if (cJSON_IsString(v))
		d = *v->valuestring ? strtod(v->valuestring, &end) : -1;
	else if (v)
		d = -1;
	if ((end && *end) || d < 1 || d > 65535 || d != (int)d)
		return bad(s, "with.port: a port number from 1 to 65535 is required");
	s->port = (int)d;
	return true;
}

static bool decode_expect(ssh_spec *s, const dr_call *call)
{
	const cJSON *v = in(call, "expect_exit");
	if (!v) {
		s->expect[0] = true;
		return true;
	}
	const cJSON *one = cJSON_IsArray(v) ? v->child : v;
	for (; one; one = cJSON_IsArray(v) ? one->next : NULL) {
		if (!cJSON_IsNumber(one) || one->valuedouble != (int)one->valuedouble || one->valuedouble < 0 ||
		    one->valuedouble > 255)
			return bad(s, "with.expect_exit: an exit status is an integer from 0 to 255");
		s->expect[(int)one->valuedouble] = true;
	}
	return true;
}

static bool decode_match(ssh_spec *s, const dr_call *call)
{
	const cJSON *v = in(call, "stdout_match");
	if (!v)
		return true;
	if (!cJSON_IsString(v))
		return bad(s, "with.stdout_match: a regular expression (a string) is required");
	int code;
	PCRE2_SIZE at;
	s->pattern = v->valuestring;
	s->match = pcre2_compile((PCRE2_SPTR)v->valuestring, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &at, NULL);
	return s->match ? true : bad(s, "with.stdout_match: bad regular expression at offset %zu", (size_t)at);
}

static bool decode_numbers(ssh_spec *s, const dr_call *call)
{
	dr_net_limit c;
	char *err = NULL;
	if (!dr_net_limit_get(call, in(call, "connect_timeout"), "connect_timeout", DEFAULT_CONNECT_MS, &c, &err) ||
	    !dr_net_limit_get(call, in(call, "timeout"), "timeout", DEFAULT_TIMEOUT_MS, &s->limit, &err)) {
		bad(s, "%s", err);
		free(err);
		return false;
	}
	s->connect_ms = c.ms < s->limit.ms ? c.ms : s->limit.ms;
	const cJSON *m = in(call, "max_output");
	s->max_output = DEFAULT_MAX_OUTPUT;
	if (m && (!cJSON_IsNumber(m) || m->valuedouble < 1 || m->valuedouble > MAX_MAX_OUTPUT ||
		  m->valuedouble != (int)m->valuedouble))
		return bad(s, "with.max_output: a size in bytes from 1 to %d is required", MAX_MAX_OUTPUT);
	if (m)
		s->max_output = (size_t)m->valuedouble;
	return true;
}

static bool decode_files(ssh_spec *s, const dr_call *call)
{
	if (!text_in(s, call, "known_hosts", true, &s->known_hosts))
		return false;
	s->accept_new = strcmp(s->known_hosts, ACCEPT_NEW) == 0;
	if (!s->accept_new) {
		resolve_path(call, &s->known_hosts);
		if (!readable_file(s, "known_hosts", s->known_hosts))
			return false;
	}
	if (!text_in(s, call, "key", false, &s->key))
		return false;
	if (s->key)
		resolve_path(call, &s->key);
	return !s->key || readable_file(s, "key", s->key);
}

static bool decode(ssh_spec *s, const dr_call *call)
{
	if (!text_in(s, call, "host", true, &s->host) || !text_in(s, call, "user", false, &s->user) ||
	    !decode_port(s, call) || !decode_files(s, call) || !text_in(s, call, "command", false, &s->command) ||
	    !decode_expect(s, call) || !decode_match(s, call) || !decode_numbers(s, call))
		return false;
	if (s->host[0] == '-')
		return bad(s, "with.host: '%s' is not a host name", s->host);
	if (!s->command)
		s->command = xstrdup("exit 0");
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s%s%s:%d", s->user ? s->user : "", s->user ? "@" : "", s->host, s->port);
	s->what = dr_buf_detach(&b);
	return true;
}

static void spec_dispose(ssh_spec *s)
{
	free(s->host);
	free(s->user);
	free(s->key);
	free(s->known_hosts);
	free(s->command);
	free(s->what);
	free(s->err);
	pcre2_code_free(s->match);
}

/* ------------------------------------------------------------- the argv */

typedef struct argv_b {
	char **v;
	size_t n;
} argv_b;

static void arg(argv_b *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void arg(argv_b *a, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	a->v = xrealloc(a->v, (a->n + 2) * sizeof *a->v);
	a->v[a->n++] = vformat(fmt, ap);
	a->v[a->n] = NULL;
	va_end(ap);
}

static void argv_free(argv_b *a)
{
	for (size_t i = 0; i < a->n; i++)
		free(a->v[i]);
	free(a->v);
}

/* Options that keep the user's configuration, agents and forwardings out of the check. */
static const char *const fixed_options[] = {
	"BatchMode=yes", "PasswordAuthentication=no", "KbdInteractiveAuthentication=no",
	"GlobalKnownHostsFile=/dev/null", "HashKnownHosts=no", "UpdateHostKeys=no", "CheckHostIP=no",
	"ConnectionAttempts=1", "ServerAliveInterval=5", "ServerAliveCountMax=3", "ControlMaster=no",
	"ControlPath=none", "ForwardAgent=no", "ForwardX11=no", "ClearAllForwardings=yes", "LogLevel=DEBUG1",
	NULL,
};

/* ssh's argv for s; its log goes to log, a fresh known_hosts for accept-new is tofu. */
static void build_argv(argv_b *a, const ssh_spec *s, const char *log, const char *tofu)
{
	arg(a, "ssh");
	arg(a, "-F");
	arg(a, "/dev/null");
	arg(a, "-T");
	for (size_t i = 0; fixed_options[i]; i++) {
		arg(a, "-o");
		arg(a, "%s", fixed_options[i]);
	}
	arg(a, "-o");
	arg(a, "StrictHostKeyChecking=%s", s->accept_new ? "accept-new" : "yes");
	arg(a, "-o");
	arg(a, "UserKnownHostsFile=%s", s->accept_new ? tofu : s->known_hosts);
	arg(a, "-o");
	arg(a, "ConnectTimeout=%lld", (long long)((s->connect_ms + 999) / 1000));
	if (s->key) {
		arg(a, "-o");
		arg(a, "IdentitiesOnly=yes");
		arg(a, "-o");
		arg(a, "IdentityAgent=none");
		arg(a, "-i");
		arg(a, "%s", s->key);
	}
	if (s->user) {
		arg(a, "-l");
		arg(a, "%s", s->user);
	}
	arg(a, "-p");
	arg(a, "%d", s->port);
	arg(a, "-E");
	arg(a, "%s", log);
	arg(a, "--");
	arg(a, "%s", s->host);
	arg(a, "%s", s->command);
}

/* ------------------------------------------------------- what ssh said */

typedef struct ssh_log {
	char key_type[64], fingerprint[128];
	bool authenticated, key_changed, key_unknown, denied;
	int remote_exit; /* -1: never seen */
	char problem[512]; /* the last line that is not debug output */
} ssh_log;

static char *read_file(const char *path, size_t max)
{
	FILE *f = fopen(path, "re");
	dr_buf b;
	dr_buf_init(&b);
	if (f) {
		char chunk[4096];
		size_t n;
		while (b.len < max && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
			dr_buf_append(&b, chunk, n);
		fclose(f);
	}
	dr_buf_puts(&b, "");
	return dr_buf_detach(&b);
}

static void log_line(ssh_log *l, const char *line)
{
	const char *p;
	if ((p = strstr(line, "Server host key: ")) != NULL)
		sscanf(p + 17, "%63s %127s", l->key_type, l->fingerprint);
	else if (strstr(line, "Authenticated to "))
		l->authenticated = true;
	else if ((p = strstr(line, "Exit status ")) != NULL)
		l->remote_exit = atoi(p + 12);
	if (strstr(line, "REMOTE HOST IDENTIFICATION HAS CHANGED") || strstr(line, "Host key for ") ||
	    strstr(line, "has changed and you have requested strict checking"))
		l->key_changed = true;
	if (strstr(line, "host key is known for"))
		l->key_unknown = true;
	if (strstr(line, "Permission denied ("))
		l->denied = true;
	if (strncmp(line, "debug", 5) != 0 && line[strspn(line, "@ \t")] && !strstr(line, "WARNING:") &&
	    strncmp(line, "Warning: Permanently added", 26) != 0)
		snprintf(l->problem, sizeof l->problem, "%s", line);
}

static void parse_log(ssh_log *l, const char *path)
{
	*l = (ssh_log){.remote_exit = -1};
	char *text = read_file(path, LOG_MAX);
	for (char *save = NULL, *line = strtok_r(text, "\r\n", &save); line; line = strtok_r(NULL, "\r\n", &save))
		log_line(l, line);
	free(text);
}

/* The key accept-new recorded ("ssh-ed25519 AAAA..."), from the attempt's known_hosts; NULL when none. */
static char *tofu_key(const char *path)
{
	char *text = read_file(path, 64 * 1024);
	char *key = NULL, *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line && !key; line = strtok_r(NULL, "\n", &save)) {
		char *sp = strchr(line, ' ');
		if (line[0] != '#' && sp && sp[1])
			key = xstrdup(sp + 1);
	}
	free(text);
	return key;
}

/* ------------------------------------------------------------- judgement */

static dr_outcome fail_buf(dr_err_class cls, dr_buf *b)
{
	dr_outcome o = dr_outcome_fail(cls, "%s", b->data);
	dr_buf_dispose(b);
	return o;
}

static void put_key(dr_buf *b, const ssh_log *l)
{
	if (l->fingerprint[0])
		dr_buf_printf(b, "%s %s", l->key_type, l->fingerprint);
	else
		dr_buf_puts(b, "(not seen)");
}

/* A problem ssh itself reported (exit 255 before the command ran). */
static dr_outcome ssh_failed(const ssh_spec *s, const ssh_log *l)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s: ", s->what);
	if (l->key_changed || l->key_unknown) {
		dr_buf_printf(&b, "host key verification failed: the server presented ");
		put_key(&b, l);
		dr_buf_printf(&b, l->key_changed ? ", which is not the key %s lists for it (if the VM was rebuilt, "
						   "put its new key there; otherwise someone may be in the middle)"
						 : ", and %s has no key for this host (add it, or use known_hosts: accept-new)",
			      s->known_hosts);
		return fail_buf(DR_ERRC_PERMANENT, &b);
	}
	if (l->denied) {
		const char *why = strstr(l->problem, "Permission denied");
		dr_buf_printf(&b, "login refused: %s: the server does not accept %s%s%s", why ? why : l->problem,
			      s->key ? "the key " : "the default keys", s->key ? s->key : "",
			      s->user ? " for this user" : "");
		return fail_buf(DR_ERRC_PERMANENT, &b);
	}
	if (strstr(l->problem, "UNPROTECTED PRIVATE KEY") || strstr(l->problem, "bad permissions") ||
	    strstr(l->problem, "Load key")) {
		dr_buf_printf(&b, "the key file cannot be used: %s", l->problem);
		return fail_buf(DR_ERRC_PERMANENT, &b);
	}
	dr_buf_printf(&b, "no login: %s", l->problem[0] ? l->problem : "ssh exited with status 255");
	return fail_buf(DR_ERRC_TRANSIENT, &b); /* refused, unreachable, closed, reset: a VM that boots */
}

static cJSON *outputs(const ssh_spec *s, const ssh_log *l, const dr_proc_result *r, const char *tofu, int code)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "host", s->host);
	cJSON_AddNumberToObject(o, "port", s->port);
	cJSON_AddStringToObject(o, "host_key_type", l->key_type);
	cJSON_AddStringToObject(o, "host_key_fingerprint", l->fingerprint);
	char *key = s->accept_new ? tofu_key(tofu) : NULL;
	if (key)
		cJSON_AddStringToObject(o, "host_key", key);
	else
		cJSON_AddNullToObject(o, "host_key");
	free(key);
	cJSON_AddNumberToObject(o, "exit_status", code);
	cJSON_AddStringToObject(o, "stdout", r->out);
	cJSON_AddStringToObject(o, "stderr", r->err);
	cJSON_AddBoolToObject(o, "truncated", r->truncated);
	cJSON_AddNumberToObject(o, "elapsed_ms", (double)r->duration_ms);
	return o;
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

/* The command ran: its exit status, then its output. */
static dr_outcome command_ran(const ssh_spec *s, const ssh_log *l, const dr_proc_result *r, const char *tofu,
			      int code)
{
	dr_buf b;
	dr_buf_init(&b);
	if (!s->expect[code]) {
		dr_buf_printf(&b, "%s: '%s' exited with status %d (expected ", s->what, s->command, code);
		put_codes(&b, s->expect);
		dr_buf_puts(&b, ")");
		char *tail = dr_net_snippet(NULL, r->err[0] ? r->err : r->out, strlen(r->err[0] ? r->err : r->out), 200); /* redacted already */
		if (*tail)
			dr_buf_printf(&b, ": %s", tail);
		free(tail);
		return fail_buf(DR_ERRC_TRANSIENT, &b);
	}
	if (s->match) {
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(s->match, NULL);
		int rc = pcre2_match(s->match, (PCRE2_SPTR)r->out, strlen(r->out), 0, 0, md, NULL);
		pcre2_match_data_free(md);
		if (rc < 0) {
			dr_buf_printf(&b, "%s: the output of '%s' does not match /%s/%s", s->what, s->command, s->pattern,
				      r->truncated ? " (only the first max_output bytes are kept)" : "");
			return fail_buf(DR_ERRC_TRANSIENT, &b);
		}
	}
	dr_buf_dispose(&b);
	return dr_outcome_ok(outputs(s, l, r, tofu, code));
}

static dr_outcome stopped(const ssh_spec *s, const ssh_log *l, const dr_proc_result *r)
{
	char limit[64];
	dr_net_limit_text(&s->limit, limit, sizeof limit);
	if (r->end == DR_PROC_CANCELLED)
		return dr_outcome_fail(DR_ERRC_CANCELLED, "%s: cancelled; ssh was stopped", s->what);
	if (l->authenticated)
		return dr_outcome_fail(dr_net_limit_class(&s->limit), "%s: '%s' did not finish within %s", s->what,
				       s->command, limit);
	return dr_outcome_fail(dr_net_limit_class(&s->limit), "%s: no login within %s%s%s", s->what, limit,
			       l->problem[0] ? ": " : "", l->problem);
}

static dr_outcome judge(const ssh_spec *s, const dr_proc_result *r, const char *log, const char *tofu)
{
	ssh_log l;
	parse_log(&l, log);
	if (r->end == DR_PROC_NOT_STARTED)
		return r->spawn_errno == ENOENT
			       ? dr_outcome_fail(DR_ERRC_PERMANENT, "ssh is not installed (the OpenSSH client, "
								    "Debian's openssh-client, is needed for check.ssh)")
			       : dr_outcome_fail(DR_ERRC_TRANSIENT, "cannot run ssh: %s", strerror(r->spawn_errno));
	if (r->end != DR_PROC_EXITED)
		return stopped(s, &l, r);
	if (WIFSIGNALED(r->status))
		return dr_outcome_fail(DR_ERRC_TRANSIENT, "%s: ssh was killed by signal %d", s->what, WTERMSIG(r->status));
	int code = WEXITSTATUS(r->status);
	if (l.remote_exit < 0 && code == 255)
		return ssh_failed(s, &l);
	return command_ran(s, &l, r, tofu, code);
}

/* --------------------------------------------------------------- the run */

static dr_outcome check(const ssh_spec *s, const dr_call *call)
{
	const char *tmp = getenv("TMPDIR");
	dr_buf dir;
	dr_buf_init(&dir);
	dr_buf_printf(&dir, "%s/drover-ssh-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir.data)) {
		dr_outcome o = dr_outcome_fail(DR_ERRC_TRANSIENT, "%s: cannot make a temporary directory for ssh's log: %s",
					       s->what, strerror(errno));
		dr_buf_dispose(&dir);
		return o;
	}
	char log[4200], tofu[4200];
	snprintf(log, sizeof log, "%s/log", dir.data);
	snprintf(tofu, sizeof tofu, "%s/known_hosts", dir.data);
	argv_b a = {0};
	build_argv(&a, s, log, tofu);
	dr_proc_result r;
	dr_proc_run(call, a.v, s->limit.ms, s->max_output, &r);
	dr_outcome o = judge(s, &r, log, tofu);
	dr_proc_result_dispose(&r);
	argv_free(&a);
	unlink(log);
	unlink(tofu);
	rmdir(dir.data);
	dr_buf_dispose(&dir);
	return o;
}

/*
 * Log in to with.host as with.user with with.key, the host key checked by
 * with.known_hosts, run with.command, and expect with.expect_exit and
 * with.stdout_match. OK with outputs {host, port, host_key_type,
 * host_key_fingerprint, host_key (accept-new: the key accepted; else null),
 * exit_status, stdout, stderr (at most max_output bytes each), truncated,
 * elapsed_ms}. Blocks; never returns WAIT.
 */
dr_outcome dr_action_check_ssh_run(dr_call *call)
{
	ssh_spec s = {0};
	dr_outcome o;
	if (dr_net_cancelled(call))
		return dr_outcome_fail(DR_ERRC_CANCELLED, "cancelled before ssh was started");
	if (!decode(&s, call))
		o = dr_outcome_fail(DR_ERRC_PERMANENT, "%s", s.err);
	else if (s.limit.ms <= 0)
		o = dr_outcome_fail(DR_ERRC_TIMEOUT, "%s: not tried: no time left before the attempt's deadline", s.what);
	else
		o = check(&s, call);
	spec_dispose(&s);
	return o;
}
