/*
 * backends/auth_cli.c - the Azure CLI's token, for people at their desks:
 * `az account get-access-token --output json --resource R [--tenant T]`,
 * run with posix_spawnp as an argv (never a shell), stdin from /dev/null,
 * its output read through pipes for at most a minute. The answer's
 * accessToken and expires_on (Unix seconds; older CLIs give only
 * expiresOn in local time).
 *
 * `az` missing from PATH, or not logged in ("az login"), makes the
 * credential unavailable: the chain moves on. Any other failure is the
 * CLI's first line of stderr, verbatim.
 */
#include "backends/auth_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util/buf.h"
#include "util/xalloc.h"

#define CLI_TIMEOUT_MS 60000
#define CLI_MAX_OUTPUT (256 * 1024)

extern char **environ;

typedef struct proc {
	pid_t pid;
	int out, err; /* read ends; -1 once closed */
	dr_buf stdout_, stderr_;
	int status;
	bool timed_out;
} proc;

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Spawn argv with stdout and stderr on pipes; 0, or an errno value. */
static int spawn(proc *p, const char *const argv[])
{
	int o[2], e[2];
	if (pipe2(o, O_CLOEXEC) != 0)
		return errno;
	if (pipe2(e, O_CLOEXEC) != 0) {
		int rc = errno;
		close(o[0]), close(o[1]);
		return rc;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, o[1], 1);
	posix_spawn_file_actions_adddup2(&fa, e[1], 2);
	int rc = posix_spawnp(&p->pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(o[1]), close(e[1]);
	p->out = o[0], p->err = e[0];
	if (rc != 0) {
		close(o[0]), close(e[0]);
		p->out = p->err = -1;
	}
	return rc;
}

/* Read what fd has into b (capped); close it at EOF. */
static void drain(int *fd, dr_buf *b)
{
	char chunk[4096];
	ssize_t n = read(*fd, chunk, sizeof chunk);
	if (n > 0 && b->len < CLI_MAX_OUTPUT)
		dr_buf_append(b, chunk, (size_t)n);
	if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
		close(*fd);
		*fd = -1;
	}
}

/* Read both pipes until they close or the time is up, then reap the child. */
static void collect(proc *p)
{
	int64_t end = mono_ms() + CLI_TIMEOUT_MS;
	while (p->out >= 0 || p->err >= 0) {
		int64_t left = end - mono_ms();
		if (left <= 0) {
			p->timed_out = true;
			kill(p->pid, SIGKILL);
			break;
		}
		struct pollfd fds[2] = {{.fd = p->out, .events = POLLIN}, {.fd = p->err, .events = POLLIN}};
		if (poll(fds, 2, (int)left) < 0 && errno != EINTR)
			break;
		if (p->out >= 0 && fds[0].revents)
			drain(&p->out, &p->stdout_);
		if (p->err >= 0 && fds[1].revents)
			drain(&p->err, &p->stderr_);
	}
	if (p->out >= 0)
		close(p->out);
	if (p->err >= 0)
		close(p->err);
	while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
		;
}

/* expiresOn "2026-01-01 12:00:00.000000", local time (CLIs before expires_on). */
static bool local_time(const char *s, int64_t *out_ms)
{
	struct tm tm = {0};
	const char *end = strptime(s, "%Y-%m-%d %H:%M:%S", &tm);
	if (!end)
		return false;
	tm.tm_isdst = -1;
	*out_ms = (int64_t)mktime(&tm) * 1000;
	return true;
}

static int parse(const dr_auth *au, const char *who, const char *json, auth_token *tok, dr_auth_error *err)
{
	cJSON *j = cJSON_Parse(json);
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(j, "accessToken");
	const cJSON *on = cJSON_GetObjectItemCaseSensitive(j, "expires_on");
	const cJSON *on_text = cJSON_GetObjectItemCaseSensitive(j, "expiresOn");
	int64_t exp = 0;
	bool have = cJSON_IsNumber(on) ? (exp = (int64_t)on->valuedouble * 1000, true)
				       : cJSON_IsString(on_text) && local_time(on_text->valuestring, &exp);
	int rc = AUTH_FAILED;
	if (!cJSON_IsString(at) || !at->valuestring[0] || !have)
		auth_fail(err, rc, false, who, "BadCliOutput",
			  "`az account get-access-token` printed no accessToken and expiry: update the Azure CLI");
	else {
		tok->value = xstrdup(at->valuestring);
		tok->expires_ms = exp;
		rc = 0;
	}
	(void)au;
	if (j && cJSON_IsString(at))
		explicit_bzero(at->valuestring, strlen(at->valuestring));
	cJSON_Delete(j);
	return rc;
}

/* The CLI's complaint: its first stderr line. */
static int failed(const proc *p, const char *who, dr_auth_error *err)
{
	const char *e = p->stderr_.data ? p->stderr_.data : "";
	size_t n = strcspn(e, "\r\n");
	char *line = xstrndup(e, n < 300 ? n : 300);
	bool login = strstr(e, "az login") != NULL;
	char code[32];
	snprintf(code, sizeof code, "AzExit%d", WIFEXITED(p->status) ? WEXITSTATUS(p->status) : -1);
	int rc = auth_fail(err, login ? AUTH_UNAVAILABLE : AUTH_FAILED, false, who, code, "%s%s",
			   p->timed_out ? "`az account get-access-token` did not finish within a minute" : line,
			   login ? " (run `az login`, then drover again)" : "");
	free(line);
	return rc;
}

int auth_cli(dr_auth *au, auth_token *tok, dr_auth_error *err)
{
	char *who = auth_describe(au, DR_AUTH_AZURE_CLI);
	const char *argv[] = {au->az, "account", "get-access-token", "--output", "json", "--resource", au->resource,
			      au->tenant ? "--tenant" : NULL, au->tenant, NULL};
	proc p = {.out = -1, .err = -1};
	dr_buf_init(&p.stdout_);
	dr_buf_init(&p.stderr_);
	int rc, sp = spawn(&p, argv);
	if (sp != 0) {
		rc = auth_fail(err, sp == ENOENT ? AUTH_UNAVAILABLE : AUTH_FAILED, false, who, "AzNotRunnable",
			       "cannot run '%s': %s%s", au->az, strerror(sp),
			       sp == ENOENT ? " (install the Azure CLI, or pick another backend.credential)" : "");
	} else {
		collect(&p);
		bool ok = !p.timed_out && WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0;
		rc = ok ? parse(au, who, p.stdout_.data ? p.stdout_.data : "", tok, err) : failed(&p, who, err);
	}
	if (p.stdout_.data)
		explicit_bzero(p.stdout_.data, p.stdout_.len);
	dr_buf_dispose(&p.stdout_);
	dr_buf_dispose(&p.stderr_);
	free(who);
	return rc;
}
