/*
 * runlock.c - one run of a runbook against a backend at a time (journal.h).
 *
 * The lock is an flock(LOCK_EX) on <state-dir>/locks/<h(runbook)>-<h(backend)>.lock,
 * held for the whole session. The kernel drops an flock when its process
 * dies, so a lock can never block forever; what a dead process leaves
 * behind is the file's content: {"pid", "host", "run", "runbook",
 * "backend", "since"}, written when the lock is taken and emptied only when
 * the run ends. Finding content under a free lock therefore means the last
 * run did not end: drover died (or was killed) mid-run, and its operations
 * may be half done. That stale lock is reported, with what to do: resume
 * that run, or take over with --force once its state is known.
 *
 * The lock files are never deleted: removing a file someone else may be
 * about to flock would let two processes lock two different files.
 */
#include "journal/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "run/clock.h"
#include "util/fs.h"
#include "util/xalloc.h"

struct dr_runlock {
	int fd;
	char *path;
};

char *dr_runlock_path(const char *state_dir, const char *runbook, const char *backend)
{
	uint64_t a = dr_fnv1a(DR_FNV_INIT, runbook, strlen(runbook));
	uint64_t b = dr_fnv1a(DR_FNV_INIT, backend, strlen(backend));
	dr_buf p;
	dr_buf_init(&p);
	dr_buf_printf(&p, "%s/locks/%08x-%08x.lock", state_dir, (unsigned)(a ^ (a >> 32)), (unsigned)(b ^ (b >> 32)));
	return dr_buf_detach(&p);
}

static cJSON *read_holder(int fd)
{
	dr_buf b;
	dr_buf_init(&b);
	char chunk[1024];
	ssize_t got;
	off_t off = 0;
	while ((got = pread(fd, chunk, sizeof chunk, off)) > 0) {
		dr_buf_append(&b, chunk, (size_t)got);
		off += got;
	}
	cJSON *v = b.len ? cJSON_Parse(b.data) : NULL;
	dr_buf_dispose(&b);
	if (v && !cJSON_IsObject(v)) {
		cJSON_Delete(v);
		v = NULL;
	}
	return v;
}

static const char *field(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
	return s ? s : "?";
}

static long pid_of(const cJSON *o)
{
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(o, "pid");
	return cJSON_IsNumber(p) ? (long)p->valuedouble : 0;
}

static void host_name(char *out, size_t n)
{
	if (gethostname(out, n) != 0)
		snprintf(out, n, "?");
	out[n - 1] = '\0';
}

/* Whether the process that wrote holder still runs (on this host; another host's cannot be checked). */
static const char *liveness(const cJSON *holder)
{
	char host[256];
	host_name(host, sizeof host);
	if (strcmp(field(holder, "host"), host))
		return "on another host: drover cannot check it";
	long pid = pid_of(holder);
	if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM))
		return "a process with that pid runs, but it does not hold the lock: the pid was reused";
	return "no longer running";
}

static void describe_busy(const dr_runlock_req *req, const char *path, const cJSON *h, dr_buf *err)
{
	dr_buf c;
	dr_buf_init(&c);
	dr_journal_command(&c, "status", req->state_dir, h ? field(h, "run") : "RUN-ID");
	dr_buf_printf(err,
		      "busy: run %s holds the lock of this runbook and backend (pid %ld on %s, since %s).\n"
		      "Two runs at once could fail the same VMs over twice. Wait for it to end (%s), "
		      "or stop it (kill -INT %ld) and resume it later; the lock is %s (backend %s)",
		      h ? field(h, "run") : "?", h ? pid_of(h) : 0L, h ? field(h, "host") : "?", h ? field(h, "since") : "?",
		      c.data, h ? pid_of(h) : 0L, path, req->backend);
	dr_buf_dispose(&c);
}

static void describe_stale(const dr_runlock_req *req, const char *path, const cJSON *h, dr_buf *err)
{
	dr_buf status, resume;
	dr_buf_init(&status);
	dr_buf_init(&resume);
	dr_journal_command(&status, "status", req->state_dir, field(h, "run"));
	dr_journal_command(&resume, "resume", req->state_dir, field(h, "run"));
	dr_buf_printf(err,
		      "run %s of this runbook against the same backend did not finish: the drover that ran it (pid %ld "
		      "on %s, since %s) is %s, and left its lock %s.\n"
		      "Its operations may be half done. Look at it (%s) and resume it (%s); "
		      "or, if you are sure nothing of it is still in flight, start anew with --force",
		      field(h, "run"), pid_of(h), field(h, "host"), field(h, "since"), liveness(h), path, status.data,
		      resume.data);
	dr_buf_dispose(&status);
	dr_buf_dispose(&resume);
}

bool dr_journal_run_over(const char *state_dir, const char *run_id)
{
	char *jp = dr_journal_path(state_dir, run_id);
	bool ended;
	dr_buf e;
	dr_buf_init(&e);
	int rc = dr_journal_read_ended(jp, &ended, &e); /* its two ends: not the whole journal (80,000 lines: 0.4 s) */
	bool over = rc == 0 ? ended : errno == ENOENT;
	dr_buf_dispose(&e);
	free(jp);
	return over;
}

/* True when the run the holder names has a journal that says it ended (or no journal at all). */
static bool holder_run_over(const dr_runlock_req *req, const cJSON *h)
{
	return dr_journal_run_over(req->state_dir, field(h, "run"));
}

static int write_holder(int fd, const dr_runlock_req *req)
{
	char host[256], since[40];
	host_name(host, sizeof host);
	dr_clock_format_wall((int64_t)time(NULL) * 1000, since, sizeof since);
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "pid", (double)getpid());
	cJSON_AddStringToObject(o, "host", host);
	cJSON_AddStringToObject(o, "run", req->run_id);
	cJSON_AddStringToObject(o, "runbook", req->runbook);
	cJSON_AddStringToObject(o, "backend", req->backend);
	cJSON_AddStringToObject(o, "since", since);
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	size_t n = strlen(text);
	int rc = ftruncate(fd, 0) == 0 && pwrite(fd, text, n, 0) == (ssize_t)n && fdatasync(fd) == 0 ? 0 : -1;
	cJSON_free(text);
	return rc;
}

/* The lock is ours; decide about what the last holder left. */
static int check_stale(const dr_runlock_req *req, const char *path, const cJSON *h, dr_buf *note, dr_buf *err)
{
	if (!h || holder_run_over(req, h))
		return 0;
	bool own = req->resuming && !strcmp(field(h, "run"), req->run_id);
	if (!own && !req->force) {
		describe_stale(req, path, h, err);
		return DR_RUNLOCK_STALE;
	}
	dr_buf_printf(note, "%s the lock left by run %s (pid %ld on %s, %s)%s\n", own ? "taking over" : "--force: taking over",
		      field(h, "run"), pid_of(h), field(h, "host"), liveness(h),
		      own ? "" : "; that run did not finish, and its operations may be half done");
	return 0;
}

int dr_runlock_acquire(const dr_runlock_req *req, dr_runlock **out, dr_buf *note, dr_buf *err)
{
	*out = NULL;
	char *path = dr_runlock_path(req->state_dir, req->runbook, req->backend);
	if (dr_fs_mkdirs_parent(path, err) < 0) {
		free(path);
		return DR_RUNLOCK_ERROR;
	}
	int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600); /* a planted link is not followed */
	if (fd < 0) {
		dr_buf_printf(err, "cannot open the run lock '%s': %s", path, strerror(errno));
		free(path);
		return -1;
	}
	cJSON *h = NULL;
	int rc = DR_RUNLOCK_ERROR;
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK) {
			describe_busy(req, path, h = read_holder(fd), err);
			rc = DR_RUNLOCK_BUSY;
		} else {
			dr_buf_printf(err, "cannot lock '%s': %s", path, strerror(errno));
		}
	} else if ((rc = check_stale(req, path, h = read_holder(fd), note, err)) == 0 && write_holder(fd, req) < 0) {
		dr_buf_printf(err, "cannot write the run lock '%s': %s", path, strerror(errno));
		rc = DR_RUNLOCK_ERROR;
	}
	cJSON_Delete(h);
	if (rc < 0) {
		close(fd);
		free(path);
		return rc;
	}
	dr_runlock *l = xcalloc(1, sizeof *l);
	l->fd = fd;
	l->path = path;
	*out = l;
	return 0;
}

void dr_runlock_release(dr_runlock *l, bool run_ended)
{
	if (!l)
		return;
	if (run_ended && ftruncate(l->fd, 0) == 0)
		fdatasync(l->fd);
	close(l->fd); /* drops the flock */
	free(l->path);
	free(l);
}

bool dr_runlock_held(const char *path, const char *run_id)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	bool held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	if (held && run_id) {
		cJSON *h = read_holder(fd);
		held = h && !strcmp(field(h, "run"), run_id);
		cJSON_Delete(h);
	}
	close(fd);
	return held;
}
