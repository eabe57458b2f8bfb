/*
 * runlock.c - one run of a runbook against a backend at a time (journal.h).
 *
 * The lock is an flock(LOCK_EX) on <state-dir>/locks/<h(runbook)>-<h(backend)>.lock,
 * held for the whole session. The kernel drops an flock when its process
 * dies, so a lock can never block forever; what a dead process leaves
 * behind is the file's content: {"pid", "host", "run", "runbook",
 * "backend", "since"} (a holder record: util/holder.h), written when the
 * lock is taken and emptied only when the run ends. Finding content under a free lock therefore means the last
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util/fs.h"
#include "util/holder.h"
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

static void describe_busy(const dr_runlock_req *req, const char *path, const cJSON *h, dr_buf *err)
{
	dr_buf c;
	dr_buf_init(&c);
	dr_journal_command(&c, "status", req->state_dir, h ? dr_holder_field(h, "run") : "RUN-ID");
	dr_buf_printf(err,
		      "busy: run %s holds the lock of this runbook and backend (pid %ld on %s, since %s).\n"
		      "Two runs at once could fail the same VMs over twice. Wait for it to end (%s), "
		      "or stop it (kill -INT %ld) and resume it later; the lock is %s (backend %s)",
		      dr_holder_field(h, "run"), dr_holder_pid(h), dr_holder_field(h, "host"), dr_holder_field(h, "since"),
		      c.data, dr_holder_pid(h), path, req->backend);
	dr_buf_dispose(&c);
}

static void describe_stale(const dr_runlock_req *req, const char *path, const cJSON *h, dr_buf *err)
{
	const char *run = dr_holder_field(h, "run");
	dr_buf status, resume;
	dr_buf_init(&status);
	dr_buf_init(&resume);
	dr_journal_command(&status, "status", req->state_dir, run);
	dr_journal_command(&resume, "resume", req->state_dir, run);
	dr_buf_printf(err,
		      "run %s of this runbook against the same backend did not finish: the drover that ran it (pid %ld "
		      "on %s, since %s) is %s, and left its lock %s.\n"
		      "Its operations may be half done. Look at it (%s) and resume it (%s); "
		      "or, if you are sure nothing of it is still in flight, start anew with --force",
		      run, dr_holder_pid(h), dr_holder_field(h, "host"), dr_holder_field(h, "since"), dr_holder_liveness(h),
		      path, status.data, resume.data);
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
	return dr_journal_run_over(req->state_dir, dr_holder_field(h, "run"));
}

static int write_holder(int fd, const dr_runlock_req *req)
{
	cJSON *h = dr_holder_new();
	cJSON_AddStringToObject(h, "run", req->run_id);
	cJSON_AddStringToObject(h, "runbook", req->runbook);
	cJSON_AddStringToObject(h, "backend", req->backend);
	dr_holder_add_since(h);
	int rc = dr_holder_write(fd, h);
	cJSON_Delete(h);
	return rc;
}

/* The lock is ours; decide about what the last holder left. */
static int check_stale(const dr_runlock_req *req, const char *path, const cJSON *h, dr_buf *note, dr_buf *err)
{
	if (!h || holder_run_over(req, h))
		return 0;
	bool own = req->resuming && !strcmp(dr_holder_field(h, "run"), req->run_id);
	if (!own && !req->force) {
		describe_stale(req, path, h, err);
		return DR_RUNLOCK_STALE;
	}
	dr_buf_printf(note, "%s the lock left by run %s (pid %ld on %s, %s)%s\n", own ? "taking over" : "--force: taking over",
		      dr_holder_field(h, "run"), dr_holder_pid(h), dr_holder_field(h, "host"), dr_holder_liveness(h),
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
			describe_busy(req, path, h = dr_holder_read(fd), err);
			rc = DR_RUNLOCK_BUSY;
		} else {
			dr_buf_printf(err, "cannot lock '%s': %s", path, strerror(errno));
		}
	} else if ((rc = check_stale(req, path, h = dr_holder_read(fd), note, err)) == 0 && write_holder(fd, req) < 0) {
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
	if (run_ended)
		dr_holder_clear(l->fd);
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
		cJSON *h = dr_holder_read(fd);
		held = h && !strcmp(dr_holder_field(h, "run"), run_id);
		cJSON_Delete(h);
	}
	close(fd);
	return held;
}
