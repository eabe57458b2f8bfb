/*
 * approvals.c - the approval handshake on files (see approvals.h).
 *
 * Nothing here holds state: the run polls, `drover approve` writes, and the
 * file system orders them. Atomicity: a request is written to a temporary
 * name and renamed; an answer is written to a temporary name and link()ed
 * to KEY.answer, which fails when an answer exists already.
 */
#include "journal/approvals.h"

#include <dirent.h>
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util/fs.h"
#include "util/xalloc.h"

#define REQ ".request"
#define ANS ".answer"

char *dr_approval_key(const char *step, const char *vm)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_puts(&b, step);
	if (vm)
		dr_buf_printf(&b, "@%s", vm);
	for (char *p = b.data; *p; p++)
		if (*p == '/')
			*p = '_';
	return dr_buf_detach(&b);
}

static char *path_of(const char *run_dir, const char *key, const char *suffix)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s/approvals%s%s%s", run_dir, key ? "/" : "", key ? key : "", suffix ? suffix : "");
	return dr_buf_detach(&b);
}

/* Write text and a newline to path atomically; exclusive publishes with link (one answer per gate). */
static int write_atomic(const char *path, const char *text, bool exclusive, dr_buf *err)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s\n", text);
	int rc = dr_fs_write_atomic(path, b.data, b.len, exclusive ? DR_FS_EXCLUSIVE : 0, NULL);
	if (rc != 0)
		dr_buf_printf(err, errno == EEXIST ? "'%s' exists already: %s" : "cannot create '%s': %s", path,
			      errno == EEXIST ? "it was answered before" : strerror(errno));
	dr_buf_dispose(&b);
	return rc;
}

int dr_approval_post(const char *run_dir, const char *key, const cJSON *request, dr_buf *err)
{
	char *dir = path_of(run_dir, NULL, NULL), *req = path_of(run_dir, key, REQ), *ans = path_of(run_dir, key, ANS);
	char *text = cJSON_PrintUnformatted(request);
	int rc = dr_fs_mkdirs(dir, err);
	if (rc == 0) {
		/*
		 * A gate closes by withdrawing its files, so a request still here
		 * is this same gate, opened before drover died: an answer given
		 * while it was down is for it and stays. Without a request, an
		 * answer is older than the question and cannot be for it.
		 */
		if (access(req, F_OK) != 0)
			unlink(ans);
		rc = write_atomic(req, text, false, err);
	}
	cJSON_free(text);
	free(dir);
	free(req);
	free(ans);
	return rc;
}

static cJSON *read_json(const char *path, dr_buf *err, bool *missing)
{
	dr_buf b;
	dr_buf_init(&b);
	int rc = dr_fs_read_all(path, 0, &b);
	*missing = rc < 0 && errno == ENOENT;
	if (rc < 0) {
		if (!*missing)
			dr_buf_printf(err, "cannot read '%s': %s", path, strerror(errno));
		dr_buf_dispose(&b);
		return NULL;
	}
	cJSON *v = cJSON_Parse(b.data);
	if (!v)
		dr_buf_printf(err, "'%s' is not valid JSON", path);
	dr_buf_dispose(&b);
	return v;
}

int dr_approval_poll(const char *run_dir, const char *key, cJSON **answer, dr_buf *err)
{
	char *ans = path_of(run_dir, key, ANS);
	bool missing;
	struct stat sb;
	*answer = NULL;
	if (lstat(ans, &sb) == 0 && (!S_ISREG(sb.st_mode) || (sb.st_uid != 0 && sb.st_uid != geteuid()))) {
		dr_buf_printf(err, "'%s' was not written by drover approve (owner uid %ld, or not a file): ignored", ans,
			      (long)sb.st_uid);
		unlink(ans);
		free(ans);
		return -1;
	}
	*answer = read_json(ans, err, &missing);
	free(ans);
	if (*answer)
		return 1;
	return missing ? 0 : -1;
}

void dr_approval_drop_answer(const char *run_dir, const char *key)
{
	char *ans = path_of(run_dir, key, ANS);
	unlink(ans);
	free(ans);
}

void dr_approval_withdraw(const char *run_dir, const char *key)
{
	char *req = path_of(run_dir, key, REQ), *ans = path_of(run_dir, key, ANS), *dir = path_of(run_dir, NULL, NULL);
	unlink(req);
	unlink(ans);
	if (rmdir(dir) == 0 && rmdir(run_dir) == 0) {
		char *runs = xstrdup(run_dir), *slash = strrchr(runs, '/');
		if (slash) {
			*slash = '\0';
			slash = strrchr(runs, '/');
			/* <state>/runs and <state>, when nothing else is there (rmdir only removes empty ones) */
			if (rmdir(runs) == 0 && slash) {
				*slash = '\0';
				rmdir(runs);
			}
		}
		free(runs);
	}
	free(req);
	free(ans);
	free(dir);
}

/* Does request file name `name` (KEY.request) belong to step? Sets *key (heap). */
static bool gate_of(const char *name, const char *step, char **key)
{
	size_t n = strlen(name), r = strlen(REQ), s = strlen(step);
	if (n <= r || strcmp(name + n - r, REQ) != 0)
		return false;
	bool match = strchr(step, '@') ? n - r == s && !strncmp(name, step, s)
				       : !strncmp(name, step, s) && (n - r == s || name[s] == '@');
	if (match)
		*key = xstrndup(name, n - r);
	return match;
}

bool dr_approval_allowed(const cJSON *approvers, const char *user)
{
	if (!cJSON_IsArray(approvers) || !cJSON_GetArraySize(approvers))
		return true;
	for (const cJSON *a = approvers->child; a; a = a->next)
		if (cJSON_IsString(a) && user && !strcmp(a->valuestring, user))
			return true;
	return false;
}

static bool may_answer(const cJSON *request, const cJSON *answer)
{
	return dr_approval_allowed(cJSON_GetObjectItemCaseSensitive(request, "approvers"),
				   cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer, "by")));
}

static int answer_gate(const char *run_dir, const char *key, const cJSON *answer, dr_buf *out, dr_buf *err)
{
	char *req = path_of(run_dir, key, REQ), *ans = path_of(run_dir, key, ANS);
	bool missing;
	cJSON *request = read_json(req, err, &missing);
	int rc = -1;
	if (!request) {
		if (missing)
			dr_buf_printf(err, "the gate %s closed before it could be answered\n", key);
	} else if (!may_answer(request, answer)) {
		char *list = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(request, "approvers"));
		dr_buf_printf(err, "%s: you are '%s' (the user running drover approve), not one of the approvers %s; "
				   "--as only adds a note\n",
			      key, cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(answer, "by")), list);
		cJSON_free(list);
	} else {
		char *text = cJSON_PrintUnformatted(answer);
		rc = write_atomic(ans, text, true, err);
		cJSON_free(text);
		if (rc == 0)
			dr_buf_printf(out, "%s: %s\n", key,
				      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(answer, "approved")) ? "approved" : "denied");
		else
			dr_buf_putc(err, '\n');
	}
	cJSON_Delete(request);
	free(req);
	free(ans);
	return rc;
}

static void list_open(const char *dirpath, dr_buf *err)
{
	DIR *d = opendir(dirpath);
	size_t n = 0, r = strlen(REQ);
	for (struct dirent *e; d && (e = readdir(d));) {
		size_t len = strlen(e->d_name);
		if (len > r && !strcmp(e->d_name + len - r, REQ))
			dr_buf_printf(err, "%s%.*s", n++ ? ", " : "waiting for: ", (int)(len - r), e->d_name);
	}
	if (d)
		closedir(d);
	dr_buf_puts(err, n ? "\n" : "the run is not waiting for any approval\n");
}

int dr_approval_answer(const char *run_dir, const char *step, const cJSON *answer, dr_buf *out, dr_buf *err)
{
	char *dirpath = path_of(run_dir, NULL, NULL);
	DIR *d = opendir(dirpath);
	int answered = 0, failed = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		char *key = NULL;
		if (!gate_of(e->d_name, step, &key))
			continue;
		if (answer_gate(run_dir, key, answer, out, err) == 0)
			answered++;
		else
			failed++;
		free(key);
	}
	if (d)
		closedir(d);
	if (!answered && !failed) {
		dr_buf_printf(err, "no open approval of step '%s' in %s (answered already, or not reached yet); ", step,
			      dirpath);
		list_open(dirpath, err);
	}
	free(dirpath);
	return failed && !answered ? -1 : answered;
}

void dr_approval_list_waiting(const char *run_dir, dr_buf *out)
{
	char *dirpath = path_of(run_dir, NULL, NULL);
	list_open(dirpath, out);
	free(dirpath);
}

/* Root under sudo: the user who ran sudo, when SUDO_USER and SUDO_UID agree with the password database. */
static bool sudo_caller(char *out, size_t outsz)
{
	const char *name = getenv("SUDO_USER"), *uid = getenv("SUDO_UID");
	struct passwd pw, *res = NULL;
	char buf[1024], *end;
	if (getuid() != 0 || !name || !*name || !uid || !*uid)
		return false;
	long id = strtol(uid, &end, 10);
	if (*end || getpwnam_r(name, &pw, buf, sizeof buf, &res) != 0 || !res || (long)res->pw_uid != id || id == 0)
		return false;
	snprintf(out, outsz, "%s", res->pw_name);
	return true;
}

void dr_approval_user(char *out, size_t outsz)
{
	if (sudo_caller(out, outsz))
		return;
	struct passwd pw, *res = NULL;
	char buf[1024];
	if (getpwuid_r(getuid(), &pw, buf, sizeof buf, &res) == 0 && res)
		snprintf(out, outsz, "%s", res->pw_name);
	else
		snprintf(out, outsz, "uid %ld", (long)getuid());
}
