/*
 * emulator/wal.c - the emulator's durability: a write-ahead log beside the
 * simulator's state file, so that answering a mutating call costs one
 * appended line, not a rewrite of the whole state.
 *
 * Every operation the emulator asks of the simulator (accepted or refused)
 * is appended to <state>.log as one JSON line, in the order the simulator
 * saw them (one mutex around the call and the append): the request, its
 * idempotency key, the client's activity id and the simulator's time. An
 * accepted call is answered only once its line is on disk: the first caller
 * to reach emu_commit runs fdatasync for every line appended so far (group
 * commit). When the log holds as many lines as the estate has VMs (at least
 * 256), the state file is rewritten and the log emptied, so a snapshot's
 * O(VMs) cost is spread over O(VMs) calls: linear overall.
 *
 * At start, the lines of the log are replayed through the simulator at
 * their recorded times, then a snapshot is taken. A line whose operation
 * the snapshot already holds is harmless: its idempotency key (unique per
 * call) makes the simulator return the original job and start nothing. A
 * torn last line (a kill in mid-write) was never acknowledged and is
 * dropped.
 */
#include "emulator/emu_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backends/sim.h"
#include "util/fs.h"
#include "util/xalloc.h"

#define MIN_LINES_PER_SNAPSHOT 256

/* ---- lines -------------------------------------------------------------------------------------- */

static void put(cJSON *o, const char *key, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, key, v);
}

static char *line_of(const dr_be_request *req, const char *activity, int64_t t)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "t", (double)t);
	cJSON_AddStringToObject(o, "op", dr_backend_op_name(req->op));
	put(o, "item", req->item_id);
	put(o, "key", req->idempotency_key);
	put(o, "activity", activity);
	cJSON_AddNumberToObject(o, "direction", (double)req->direction);
	put(o, "point", req->point_id);
	if (req->shutdown_source)
		cJSON_AddTrueToObject(o, "shutdown");
	put(o, "network", req->network);
	put(o, "comments", req->comments);
	char *s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	return s;
}

static const char *get(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Replay one line; false when it is not a line this file writes. */
static bool replay_line(dr_emu *e, dr_arena *a, const char *text, size_t len)
{
	cJSON *o = cJSON_ParseWithLength(text, len);
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "t"), *d = cJSON_GetObjectItemCaseSensitive(o, "direction");
	dr_be_request req = {0};
	bool ok = cJSON_IsNumber(t) && cJSON_IsNumber(d) && get(o, "op") && dr_backend_op_parse(get(o, "op"), &req.op);
	if (ok) {
		dr_be_started st;
		dr_be_error err;
		req.item_id = get(o, "item");
		req.idempotency_key = get(o, "key");
		req.direction = (dr_be_direction)d->valueint;
		req.point_id = get(o, "point");
		req.shutdown_source = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "shutdown"));
		req.network = get(o, "network");
		req.comments = get(o, "comments");
		dr_sim_start(e->be, a, (int64_t)t->valuedouble, &req, get(o, "activity"), &st, &err); /* refusals replay too */
	}
	cJSON_Delete(o);
	return ok;
}

static char *slurp_fd(int fd, size_t *len)
{
	dr_buf b;
	char chunk[65536];
	ssize_t n;
	dr_buf_init(&b);
	lseek(fd, 0, SEEK_SET);
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		dr_buf_append(&b, chunk, (size_t)n);
	*len = b.len;
	return b.data ? dr_buf_detach(&b) : xstrdup("");
}

/* Replay the log; -1 with why when a whole line is not ours (a torn last line is dropped). */
static int replay(dr_emu *e, char *err, size_t errsz)
{
	size_t len, lineno = 0;
	char *text = slurp_fd(e->wal_fd, &len);
	dr_arena *a = dr_arena_new();
	int rc = 0;
	for (char *p = text, *nl; rc == 0 && (nl = memchr(p, '\n', len - (size_t)(p - text))); p = nl + 1) {
		lineno++;
		if (!replay_line(e, a, p, (size_t)(nl - p))) {
			snprintf(err, errsz, "the emulator's log '%s' is corrupt at line %zu; move it away to start from "
					     "the state file alone (operations acknowledged after its last save are then lost)",
				 e->wal_path, lineno);
			rc = -1;
		}
	}
	e->wal_replayed = lineno;
	dr_arena_free(a);
	free(text);
	return rc;
}

/* ---- snapshots ---------------------------------------------------------------------------------- */

/* Rewrite the state file and empty the log (wal_mu held). */
static int snapshot(dr_emu *e, char *err, size_t errsz)
{
	if (emu_save(e, err, errsz) < 0)
		return -1;
	if (ftruncate(e->wal_fd, 0) < 0 || fdatasync(e->wal_fd) < 0) {
		snprintf(err, errsz, "cannot empty the emulator's log '%s': %s", e->wal_path, strerror(errno));
		return -1;
	}
	e->wal_lines = 0;
	pthread_mutex_lock(&e->mu);
	e->saves++;
	pthread_mutex_unlock(&e->mu);
	return 0;
}

int emu_wal_open(dr_emu *e, char *err, size_t errsz)
{
	if (!e->o.state_path)
		return 0;
	size_t n = strlen(e->o.state_path) + 5;
	e->wal_path = xmalloc(n);
	snprintf(e->wal_path, n, "%s.log", e->o.state_path);
	e->wal_fd = open(e->wal_path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (e->wal_fd < 0) {
		snprintf(err, errsz, "cannot open the emulator's log '%s': %s", e->wal_path, strerror(errno));
		return -1;
	}
	if (replay(e, err, errsz) < 0)
		return -1;
	return snapshot(e, err, errsz);
}

void emu_wal_close(dr_emu *e)
{
	if (e->wal_fd >= 0)
		close(e->wal_fd);
	free(e->wal_path);
}

/* ---- calls -------------------------------------------------------------------------------------- */

int emu_start(dr_emu *e, emu_call *c, const dr_be_request *req, dr_be_started *out, dr_be_error *err)
{
	int64_t now = emu_now(e, c->rq);
	pthread_mutex_lock(&e->wal_mu);
	int64_t t = dr_sim_time(e->be, now);
	int rc = dr_sim_start(e->be, c->a, now, req, c->rq->client_request_id, out, err);
	dr_be_job j;
	dr_be_error jerr;
	if (rc == 0 && !out->replayed && dr_backend_get_job(e->be, c->a, now, out->job_id, &j, &jerr) == 0)
		t = j.start_ms; /* exactly when the simulator started it */
	if (e->wal_fd >= 0) {
		char *line = line_of(req, c->rq->client_request_id, t);
		size_t len = strlen(line);
		line[len] = '\n'; /* replaces the NUL: the line goes out in one write */
		if (dr_fs_write_all(e->wal_fd, line, len + 1) < 0 && rc == 0) {
			rc = dr_backend_fail(err, c->a, 500, DR_BE_ERR_TRANSIENT, "StateNotWritten", NULL,
					     "Free space for the emulator's state, then retry.",
					     "The emulator could not write its log: %s", strerror(errno));
		}
		cJSON_free(line);
		e->wal_lines++;
	}
	pthread_mutex_unlock(&e->wal_mu);
	return rc;
}

static int counted(dr_emu *e, bool replayed, int rc)
{
	pthread_mutex_lock(&e->mu);
	if (rc == 0)
		*(replayed ? &e->resent : &e->accepted) += 1;
	pthread_mutex_unlock(&e->mu);
	return rc;
}

int emu_commit(dr_emu *e, bool replayed, char *err, size_t errsz)
{
	int rc = 0;
	if (e->wal_fd < 0)
		return counted(e, replayed, 0);
	pthread_mutex_lock(&e->mu);
	uint64_t mine = ++e->gen;
	pthread_mutex_unlock(&e->mu);
	pthread_mutex_lock(&e->flush_mu);
	if (e->flushed_gen < mine) {
		pthread_mutex_lock(&e->mu);
		uint64_t upto = e->gen;
		pthread_mutex_unlock(&e->mu);
		if (fdatasync(e->wal_fd) < 0) {
			snprintf(err, errsz, "cannot sync the emulator's log '%s': %s", e->wal_path, strerror(errno));
			rc = -1;
		} else {
			e->flushed_gen = upto;
			pthread_mutex_lock(&e->mu);
			e->syncs++;
			pthread_mutex_unlock(&e->mu);
		}
	}
	pthread_mutex_lock(&e->wal_mu);
	if (rc == 0 && e->wal_lines >= e->wal_snapshot_every)
		rc = snapshot(e, err, errsz);
	pthread_mutex_unlock(&e->wal_mu);
	pthread_mutex_unlock(&e->flush_mu);
	return counted(e, replayed, rc);
}

int dr_emu_flush(dr_emu *e, char *err, size_t errsz)
{
	if (e->wal_fd < 0)
		return emu_save(e, err, errsz);
	pthread_mutex_lock(&e->flush_mu);
	pthread_mutex_lock(&e->wal_mu);
	int rc = snapshot(e, err, errsz);
	pthread_mutex_unlock(&e->wal_mu);
	pthread_mutex_unlock(&e->flush_mu);
	return rc;
}
