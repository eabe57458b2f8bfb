/*
 * backends/sim_state.c - the simulator's state file: the whole simulated
 * service as one JSON document, so that separate invocations (failover,
 * commit, reprotect, failback) continue one history.
 *
 * The file is a snapshot: what changed after it is in its change log
 * (sim_log.c), replayed over it on load. A snapshot is written atomically:
 * a temporary file beside the target, fsync, rename, fsync of the
 * directory; a reader sees the old or the new state, never a mix. Each
 * snapshot has a new epoch (a random 64-bit number), and the log's groups
 * name the epoch they follow, so a log left over from before a snapshot is
 * never applied to it. A writer holds an flock on "<file>.lock" for its whole session, so
 * two runs cannot interleave. Loading checks every field: a torn or edited
 * file is a clear error naming the file and the field, never a crash.
 *
 * Times are Unix milliseconds; null means "never" (no points, a task that
 * never ends), an absent key "not set yet". docs/backends.md documents the
 * format.
 */
#include "backends/sim_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/holder.h"
#include "util/json_print.h"
#include "util/xalloc.h"

#define FORMAT "drover-sim-state"
#define VERSION 1
#define MAX_STATE_BYTES (1u << 30)

static const char *const loc_names[] = {"primary", "recovery"};
static const char *const outcome_names[] = {"ok", "fail", "warn", "hang", "suspend"};

static int io_error(dr_arena *a, dr_be_error *err, const char *what, const char *path)
{
	return dr_backend_fail(err, a, 0, DR_BE_ERR_PERMANENT, "StateFileError", NULL, NULL, "cannot %s '%s': %s",
			       what, path, strerror(errno));
}

/* ---- writing ------------------------------------------------------------------------- */

static void put_time(cJSON *o, const char *key, int64_t v)
{
	if (v == SIM_UNSET)
		return;
	cJSON_AddItemToObject(o, key, v == SIM_NEVER ? cJSON_CreateNull() : cJSON_CreateNumber((double)v));
}

static void put_str(cJSON *o, const char *key, const char *v)
{
	cJSON_AddItemToObject(o, key, v ? cJSON_CreateString(v) : cJSON_CreateNull());
}

static cJSON *vm_json(const sim_vmst *v)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "exists", v->exists);
	cJSON_AddBoolToObject(o, "running", v->running);
	cJSON_AddBoolToObject(o, "unhealthy", v->unhealthy);
	put_time(o, "since", v->since_ms);
	put_time(o, "boot", v->boot_ms);
	return o;
}

static cJSON *hits_json(const sim_item *it)
{
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; i < it->n_hits; i++) {
		char key[20];
		snprintf(key, sizeof key, "%016llx", (unsigned long long)it->hits[i].fault);
		cJSON_AddNumberToObject(o, key, it->hits[i].n);
	}
	return o;
}

static void item_attrs_json(cJSON *o, const sim_item *it)
{
	cJSON_AddStringToObject(o, "name", it->name);
	cJSON_AddStringToObject(o, "guid", it->guid);
	cJSON *tags = cJSON_AddObjectToObject(o, "tags");
	for (size_t i = 0; i < it->n_tags; i++)
		cJSON_AddStringToObject(tags, it->tag_k[i], it->tag_v[i]);
	cJSON_AddStringToObject(o, "primary_region", it->region[0]);
	cJSON_AddStringToObject(o, "recovery_region", it->region[1]);
	cJSON_AddStringToObject(o, "primary_ip", it->ip[0]);
	cJSON_AddStringToObject(o, "recovery_ip", it->ip[1]);
	cJSON_AddStringToObject(o, "size", it->size);
}

cJSON *sim_state_item_json(const sim *s, const sim_item *it)
{
	cJSON *o = cJSON_CreateObject();
	item_attrs_json(o, it);
	cJSON_AddStringToObject(o, "state", dr_backend_state_name(it->state));
	cJSON_AddStringToObject(o, "active", loc_names[it->active]);
	put_time(o, "points_since", it->pts_since);
	put_time(o, "points_until", it->pts_until);
	cJSON_AddNumberToObject(o, "phase", (double)it->phase_ms);
	cJSON_AddNumberToObject(o, "lag", (double)it->lag_ms);
	cJSON_AddNumberToObject(o, "rpo", (double)it->rpo_ms);
	put_str(o, "job", it->job >= 0 ? s->jobs[it->job].guid : NULL);
	cJSON_AddNumberToObject(o, "applied", it->applied);
	put_str(o, "vm_job", it->vm_job >= 0 ? s->jobs[it->vm_job].guid : NULL);
	cJSON_AddNumberToObject(o, "vm_applied", it->vm_applied);
	cJSON *vms = cJSON_AddObjectToObject(o, "vms");
	cJSON_AddItemToObject(vms, "primary", vm_json(&it->vm[0]));
	cJSON_AddItemToObject(vms, "recovery", vm_json(&it->vm[1]));
	cJSON_AddItemToObject(vms, "test", vm_json(&it->test_vm));
	put_str(o, "point", it->point_id);
	put_time(o, "point_time", it->point_id ? it->point_ms : SIM_UNSET);
	put_str(o, "network", it->network);
	put_time(o, "last_failover", it->last_fo_ms >= 0 ? it->last_fo_ms : SIM_UNSET);
	put_time(o, "last_test_failover", it->last_tfo_ms >= 0 ? it->last_tfo_ms : SIM_UNSET);
	cJSON_AddNumberToObject(o, "ops", (double)it->n_ops);
	cJSON_AddNumberToObject(o, "calls", (double)it->n_calls);
	cJSON_AddItemToObject(o, "fault_hits", hits_json(it));
	return o;
}

static cJSON *task_json(const sim_task *k)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "task", sim_task_key(k->kind));
	cJSON_AddStringToObject(o, "outcome", outcome_names[k->outcome]);
	put_time(o, "start", k->start);
	put_time(o, "end", k->end);
	return o;
}

cJSON *sim_state_job_json(const sim *s, const sim_job *j)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "guid", j->guid);
	cJSON_AddStringToObject(o, "item", s->items[j->item].name);
	cJSON_AddStringToObject(o, "op", dr_backend_op_name(j->op));
	cJSON_AddStringToObject(o, "from", loc_names[j->src]);
	cJSON_AddStringToObject(o, "to", loc_names[j->dst]);
	put_time(o, "start", j->start);
	cJSON *tasks = cJSON_AddArrayToObject(o, "tasks");
	for (int i = 0; i < j->n_tasks; i++)
		cJSON_AddItemToArray(tasks, task_json(&j->tasks[i]));
	put_str(o, "point", j->point_id);
	put_time(o, "point_time", j->point_id ? j->point_ms : SIM_UNSET);
	put_str(o, "key", j->key);
	cJSON_AddBoolToObject(o, "unhealthy", j->unhealthy);
	put_str(o, "error_code", j->err_code);
	put_str(o, "error_message", j->err_msg);
	put_str(o, "network", j->network);
	put_str(o, "comments", j->comments);
	put_str(o, "activity", j->activity);
	return o;
}

cJSON *sim_state_audit_json(const sim_audit *r)
{
	cJSON *o = cJSON_CreateObject();
	put_time(o, "time", r->t);
	cJSON_AddStringToObject(o, "op", dr_backend_op_name(r->op));
	cJSON_AddStringToObject(o, "item", r->item);
	cJSON_AddStringToObject(o, "key", r->key);
	cJSON_AddStringToObject(o, "result", r->result);
	put_str(o, "job", r->job);
	put_str(o, "code", r->code);
	return o;
}

static cJSON *head_json(const sim *s)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "format", FORMAT);
	cJSON_AddNumberToObject(o, "version", VERSION);
	char seed[24];
	snprintf(seed, sizeof seed, "%llu", (unsigned long long)s->seed);
	cJSON_AddStringToObject(o, "seed", seed); /* text: 64 bits do not fit a JSON number */
	put_time(o, "created", s->created_ms);
	put_time(o, "time", s->last_ms);
	cJSON_AddNumberToObject(o, "calls", (double)s->calls);
	char epoch[20];
	snprintf(epoch, sizeof epoch, "%016llx", (unsigned long long)s->epoch);
	cJSON_AddStringToObject(o, "epoch", epoch); /* its change log's groups name it */
	return o;
}

/* Append o printed compact to b (whole numbers without printf), and free it. */
static void put_json(dr_buf *b, cJSON *o)
{
	dr_json_print(b, o);
	cJSON_Delete(o);
}

static cJSON *item_at(const sim *s, size_t i) { return sim_state_item_json(s, &s->items[i]); }
static cJSON *job_at(const sim *s, size_t i) { return sim_state_job_json(s, &s->jobs[i]); }
static cJSON *audit_at(const sim *s, size_t i) { return sim_state_audit_json(&s->audit[i]); }

/* The state file as it is written: what is not written yet, where to, the first error, the size. */
typedef struct state_out {
	dr_buf b;
	int fd, err; /* err: errno of a failed write; 0 */
	uint64_t bytes;
} state_out;

enum { STATE_CHUNK = 1 << 20 };

/* Write what is buffered (all of it when done), so the text of 10,000 VMs is never whole in memory. */
static void spill(state_out *o, bool done)
{
	if (o->b.len < STATE_CHUNK && !done)
		return;
	if (!o->err && dr_fs_write_all(o->fd, o->b.data, o->b.len) < 0)
		o->err = errno ? errno : EIO;
	o->bytes += o->b.len;
	dr_buf_reset(&o->b);
}

static void put_list(state_out *o, const sim *s, const char *key, size_t n, cJSON *(*one)(const sim *, size_t))
{
	dr_buf_printf(&o->b, ",\"%s\":[", key);
	for (size_t i = 0; i < n; i++) {
		if (i)
			dr_buf_putc(&o->b, ',');
		put_json(&o->b, one(s, i));
		spill(o, false);
	}
	dr_buf_putc(&o->b, ']');
}

/*
 * The state as one compact JSON document, one element at a time: the same
 * text as printing one tree, without holding a tree of 10,000 VMs and their
 * jobs, nor the whole text (the state is saved at each group commit of a run).
 */
static int state_text(void *ctx, int fd)
{
	sim *s = ctx;
	state_out o = {.fd = fd};
	dr_buf_init(&o.b);
	put_json(&o.b, head_json(s));
	o.b.data[--o.b.len] = '\0'; /* reopen the head object */
	put_list(&o, s, "items", s->n_items, item_at);
	spill(&o, true);
	sim_log_hook(s, "snapshot"); /* the tests' kill in mid-snapshot: a temporary file half written */
	put_list(&o, s, "jobs", s->n_jobs, job_at);
	put_list(&o, s, "audit", s->n_audit, audit_at);
	dr_buf_puts(&o.b, "}\n");
	spill(&o, true);
	dr_buf_dispose(&o.b);
	s->state_bytes = o.bytes;
	errno = o.err;
	return o.err ? -1 : 0;
}

/* A new epoch: random, never 0 (0 is "none"). */
static uint64_t new_epoch(uint64_t old)
{
	uint64_t e = 0;
	if (getrandom(&e, sizeof e, GRND_NONBLOCK) != (ssize_t)sizeof e) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		e = sim_mix(sim_mix((uint64_t)ts.tv_sec, (uint64_t)ts.tv_nsec), sim_mix((uint64_t)getpid(), old));
	}
	return e && e != old ? e : old + 1;
}

/* Written compact (one line): `drover sim show` prints it for people. */
int sim_state_snapshot(sim *s, dr_arena *a, dr_be_error *err)
{
	uint64_t old = s->epoch;
	s->epoch = new_epoch(old);
	s->saves++;
	if (dr_fs_write_atomic_with(s->path, 0, state_text, s, NULL) < 0) {
		int e = errno;
		s->epoch = old; /* the file keeps the old epoch, and its log still follows it */
		errno = e;
		return io_error(a, err, "write", s->path);
	}
	sim_log_hook(s, "swap"); /* the tests' kill between the new snapshot and its empty log */
	sim_log_saved(s);
	s->dirty = false;
	s->need_snapshot = true; /* until the log is restarted: the old one's groups name the old epoch */
	if (sim_log_restart(s) < 0)
		return io_error(a, err, "start the change log", s->log_path);
	s->need_snapshot = false;
	return 0;
}

int sim_state_save(sim *s, dr_arena *a, dr_be_error *err)
{
	return sim_log_save(s, a, err);
}

/*
 * ---- the lock ---------------------------------------------------------------------------
 *
 * An flock on "<file>.lock", held for the whole session, and in the file who holds it: {"pid", "host",
 * "since"}, and {"run", "state_dir"} once a run names itself (dr_sim_lock_note_run). The file is emptied when
 * the holder lets go; a record under a free lock was left by a holder that stopped without letting go (killed),
 * which dr_sim_lock_holder tells apart from a live one. The file is never removed (journal/runlock.c: why).
 */

/* This process as the lock's holder: {"pid", "host", "since"}. */
static int claim_lock(int fd)
{
	cJSON *h = dr_holder_new();
	dr_holder_add_since(h);
	int rc = dr_holder_write(fd, h);
	cJSON_Delete(h);
	return rc;
}

/* " (run R, pid P on H, since S)" for the busy message: who holds the lock, as its record says; "" for none. */
static const char *holder_text(int fd, dr_arena *a)
{
	cJSON *h = dr_holder_read(fd);
	const char *run = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "run"));
	const char *t = dr_holder_pid(h) ? dr_arena_printf(a, " (%s%s%spid %ld on %s, since %s)", run ? "run " : "",
							    run ? run : "", run ? ", " : "", dr_holder_pid(h),
							    dr_holder_field(h, "host"), dr_holder_field(h, "since"))
					 : "";
	cJSON_Delete(h);
	return t;
}

static bool folder_exists(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	struct stat st;
	snprintf(dir, sizeof dir, "%.*s", slash == path ? 1 : slash ? (int)(slash - path) : 1, slash ? path : ".");
	return stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A state whose folder is not there: named, with what to do (drover makes folders only in its state directory). */
static int no_folder(const char *path, dr_arena *a, dr_be_error *err)
{
	const char *slash = strrchr(path, '/');
	const char *dir = slash == path ? "/" : dr_arena_strndup(a, path, (size_t)(slash - path));
	return dr_backend_fail(err, a, 0, DR_BE_ERR_PERMANENT, "StateFileError", NULL,
			       "Create that folder, or name a state file (--state, $DROVER_SIM_STATE) in a folder that "
			       "exists; drover makes folders only in its state directory.",
			       "cannot open the simulator state '%s': its folder '%s' does not exist", path, dir);
}

/* *left (when not NULL): the record a holder that stopped without letting go left under the free lock, or NULL. */
static int lock_file(const char *path, bool make_folder, int *fd_out, cJSON **left, dr_arena *a, dr_be_error *err)
{
	char lock[PATH_MAX + 16];
	snprintf(lock, sizeof lock, "%s.lock", path);
	if (make_folder && dr_fs_mkdirs_parent(path, NULL) < 0)
		return io_error(a, err, "create the directory of", path);
	int fd = open(lock, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 && errno == ENOENT && strchr(path, '/'))
		return no_folder(path, a, err);
	if (fd < 0)
		return io_error(a, err, "open", lock);
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		const char *who = holder_text(fd, a);
		close(fd);
		return dr_backend_fail(err, a, 0, DR_BE_ERR_TRANSIENT, "StateFileLocked", NULL,
				       "Wait for the other drover process to finish, then try again.",
				       "the simulator state '%s' is in use by another drover process%s", path, who);
	}
	if (left)
		*left = dr_holder_read(fd);
	if (claim_lock(fd) < 0) {
		int rc = io_error(a, err, "write", lock);
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
}

/* Let go: the record is emptied first, so what is left under a free lock is only ever a killed holder's. */
static void unlock_file(int fd)
{
	if (fd < 0)
		return;
	dr_holder_clear(fd);
	close(fd); /* releases the flock */
}

int sim_state_lock(sim *s, bool make_folder, dr_arena *a, dr_be_error *err)
{
	return lock_file(s->path, make_folder, &s->lock_fd, &s->lock_left, a, err);
}

void sim_state_unlock(sim *s)
{
	if (s->lock_fd >= 0 && s->keep_left && s->lock_left && dr_holder_write(s->lock_fd, s->lock_left) == 0) {
		close(s->lock_fd); /* the unfinished run's record outlives this holder */
		s->lock_fd = -1;
	}
	unlock_file(s->lock_fd);
	s->lock_fd = -1;
	cJSON_Delete(s->lock_left);
	s->lock_left = NULL;
}

const cJSON *dr_sim_lock_left(const dr_backend *be)
{
	return dr_sim_is(be) ? ((const sim *)be)->lock_left : NULL;
}

void dr_sim_lock_keep_left(dr_backend *be)
{
	if (dr_sim_is(be))
		((sim *)be)->keep_left = true;
}

int dr_sim_lock_note_run(dr_backend *be, const char *run_id, const char *state_dir)
{
	sim *s = (sim *)be;
	if (!dr_sim_is(be) || s->lock_fd < 0)
		return 0;
	cJSON *h = dr_holder_read(s->lock_fd);
	if (!h)
		h = cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(h, "run");
	cJSON_DeleteItemFromObjectCaseSensitive(h, "state_dir");
	cJSON_AddStringToObject(h, "run", run_id);
	cJSON_AddStringToObject(h, "state_dir", state_dir);
	int rc = dr_holder_write(s->lock_fd, h);
	cJSON_Delete(h);
	return rc;
}

cJSON *dr_sim_lock_holder(const char *path, bool *held)
{
	char lock[PATH_MAX + 16];
	snprintf(lock, sizeof lock, "%s.lock", path);
	*held = false;
	int fd = open(lock, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	*held = flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
	cJSON *h = dr_holder_read(fd);
	close(fd);
	if (!dr_holder_pid(h)) {
		cJSON_Delete(h);
		h = NULL;
	}
	return h;
}

int dr_sim_remove_state(const char *path, dr_arena *a, dr_be_error *err)
{
	int fd;
	if (!folder_exists(path))
		return 0; /* no folder: no state to remove */
	if (lock_file(path, false, &fd, NULL, a, err) < 0)
		return -1;
	char *log = sim_log_path(path);
	/* the state first: a log without its state file is never read */
	int rc = unlink(path) < 0 && errno != ENOENT ? io_error(a, err, "remove", path) : 0;
	if (rc == 0 && unlink(log) < 0 && errno != ENOENT)
		rc = io_error(a, err, "remove", log);
	free(log);
	unlock_file(fd);
	return rc;
}

/* ---- reading ------------------------------------------------------------------------------- */

/* A reader: the first problem wins and names the field. */
typedef struct rd {
	const char *path;
	dr_arena *a;
	dr_be_error *err;
	bool bad;
	bool replace; /* the change log: an item or job replaces the one of its name or GUID */
	char where[160];
} rd;

static void corrupt(rd *r, const char *key, const char *what)
{
	if (r->bad)
		return;
	r->bad = true;
	dr_backend_fail(r->err, r->a, 0, DR_BE_ERR_PERMANENT, "StateFileCorrupt", NULL,
			"Run 'drover sim reset' (or remove the file) to start the simulator afresh.",
			"the simulator state '%s' is corrupt: %s%s%s: %s", r->path, r->where, *r->where ? "." : "",
			key, what);
}

static const cJSON *field(rd *r, const cJSON *o, const char *key, bool required)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!v && required)
		corrupt(r, key, "missing");
	return v;
}

#define REQUIRED (INT64_MIN + 1) /* get_int's default for a key that must be there */

static int64_t get_int(rd *r, const cJSON *o, const char *key, int64_t dflt)
{
	const cJSON *v = field(r, o, key, dflt == REQUIRED);
	if (!v)
		return dflt;
	double d = v->valuedouble;
	if (!cJSON_IsNumber(v) || d != floor(d) || fabs(d) > 9.0e15) {
		corrupt(r, key, "expected an integer");
		return 0;
	}
	return (int64_t)d;
}

/* A time: absent is SIM_UNSET, null is SIM_NEVER. */
static int64_t get_time(rd *r, const cJSON *o, const char *key)
{
	const cJSON *v = field(r, o, key, false);
	if (!v)
		return SIM_UNSET;
	if (cJSON_IsNull(v))
		return SIM_NEVER;
	return get_int(r, o, key, REQUIRED);
}

static const char *get_str(rd *r, const cJSON *o, const char *key, bool required)
{
	const cJSON *v = field(r, o, key, required);
	if (!v || (!required && cJSON_IsNull(v)))
		return NULL;
	if (!cJSON_IsString(v)) {
		corrupt(r, key, "expected a string");
		return NULL;
	}
	return v->valuestring;
}

static bool get_bool(rd *r, const cJSON *o, const char *key)
{
	const cJSON *v = field(r, o, key, false);
	if (v && !cJSON_IsBool(v))
		corrupt(r, key, "expected true or false");
	return v && cJSON_IsTrue(v);
}

static int get_enum(rd *r, const cJSON *o, const char *key, const char *const *names, int n)
{
	const char *s = get_str(r, o, key, true);
	for (int i = 0; s && i < n; i++)
		if (strcmp(names[i], s) == 0)
			return i;
	if (s)
		corrupt(r, key, "unknown value");
	return 0;
}

static const cJSON *get_array(rd *r, const cJSON *o, const char *key)
{
	const cJSON *v = field(r, o, key, true);
	if (v && !cJSON_IsArray(v)) {
		corrupt(r, key, "expected a list");
		return NULL;
	}
	return v;
}

static const cJSON *get_object(rd *r, const cJSON *o, const char *key)
{
	const cJSON *v = field(r, o, key, true);
	if (v && !cJSON_IsObject(v)) {
		corrupt(r, key, "expected an object");
		return NULL;
	}
	return v;
}

static void set_where(rd *r, const char *list, size_t i, const char *sub)
{
	if (!r->bad)
		snprintf(r->where, sizeof r->where, "%s[%zu]%s%s", list, i, sub ? "." : "", sub ? sub : "");
}

static void dup_opt(char **slot, const char *v)
{
	free(*slot);
	*slot = v ? xstrdup(v) : NULL;
}

static void read_vm(rd *r, const cJSON *vms, const char *key, sim_vmst *v)
{
	const cJSON *o = get_object(r, vms, key);
	if (!o)
		return;
	v->exists = get_bool(r, o, "exists");
	v->running = get_bool(r, o, "running");
	v->unhealthy = get_bool(r, o, "unhealthy");
	v->since_ms = get_time(r, o, "since");
	v->boot_ms = get_time(r, o, "boot");
	if (v->since_ms == SIM_UNSET || v->since_ms == SIM_NEVER)
		v->since_ms = 0;
	if (v->boot_ms == SIM_UNSET || v->boot_ms == SIM_NEVER)
		v->boot_ms = 0;
}

static void read_tags(rd *r, const cJSON *o, sim_item *it)
{
	const cJSON *tags = get_object(r, o, "tags");
	size_t n = (size_t)cJSON_GetArraySize(tags);
	it->tag_k = xcalloc(n + 1, sizeof *it->tag_k);
	it->tag_v = xcalloc(n + 1, sizeof *it->tag_v);
	for (const cJSON *t = tags ? tags->child : NULL; t; t = t->next) {
		if (!cJSON_IsString(t)) {
			corrupt(r, "tags", "expected string values");
			return;
		}
		it->tag_k[it->n_tags] = xstrdup(t->string);
		it->tag_v[it->n_tags++] = xstrdup(t->valuestring);
	}
}

static void read_hits(rd *r, const cJSON *o, sim_item *it)
{
	const cJSON *h = field(r, o, "fault_hits", false);
	for (const cJSON *e = h ? h->child : NULL; e && !r->bad; e = e->next) {
		char *end;
		uint64_t key = strtoull(e->string, &end, 16);
		if (*end || !cJSON_IsNumber(e) || e->valuedouble < 0) {
			corrupt(r, "fault_hits", "expected hex keys and counts");
			return;
		}
		*sim_item_hits(it, key) = (uint32_t)e->valuedouble;
	}
}

static void read_item_attrs(rd *r, const cJSON *o, sim_item *it)
{
	dup_opt(&it->region[0], get_str(r, o, "primary_region", true));
	dup_opt(&it->region[1], get_str(r, o, "recovery_region", true));
	sim_item_forget_ids(it);
	dup_opt(&it->ip[0], get_str(r, o, "primary_ip", true));
	dup_opt(&it->ip[1], get_str(r, o, "recovery_ip", true));
	dup_opt(&it->size, get_str(r, o, "size", true));
	read_tags(r, o, it);
}

static void read_item_body(rd *r, const cJSON *o, sim_item *it)
{
	const char *st = get_str(r, o, "state", true);
	read_item_attrs(r, o, it);
	if (st && !sim_state_parse(st, &it->state))
		corrupt(r, "state", "unknown state");
	it->active = get_enum(r, o, "active", loc_names, 2);
	it->pts_since = get_time(r, o, "points_since");
	it->pts_until = get_time(r, o, "points_until");
	it->phase_ms = get_int(r, o, "phase", REQUIRED) % SIM_POINT_EVERY;
	it->lag_ms = get_int(r, o, "lag", REQUIRED);
	it->rpo_ms = get_int(r, o, "rpo", REQUIRED);
	if (it->pts_until == SIM_UNSET)
		it->pts_until = SIM_NEVER;
	const cJSON *vms = get_object(r, o, "vms");
	read_vm(r, vms, "primary", &it->vm[0]);
	read_vm(r, vms, "recovery", &it->vm[1]);
	read_vm(r, vms, "test", &it->test_vm);
	dup_opt(&it->point_id, get_str(r, o, "point", false));
	it->point_ms = it->point_id ? get_int(r, o, "point_time", REQUIRED) : -1;
	dup_opt(&it->network, get_str(r, o, "network", false));
	it->last_fo_ms = get_time(r, o, "last_failover");
	it->last_tfo_ms = get_time(r, o, "last_test_failover");
	it->last_fo_ms = it->last_fo_ms == SIM_UNSET ? -1 : it->last_fo_ms;
	it->last_tfo_ms = it->last_tfo_ms == SIM_UNSET ? -1 : it->last_tfo_ms;
	it->n_ops = (uint64_t)get_int(r, o, "ops", 0);
	it->n_calls = (uint64_t)get_int(r, o, "calls", 0);
	read_hits(r, o, it);
}

static void read_item(rd *r, sim *s, const cJSON *o)
{
	const char *name = get_str(r, o, "name", true);
	if (name && sim_item_find(s, name))
		corrupt(r, "name", "two items have this name");
	if (!name || r->bad)
		return;
	read_item_body(r, o, sim_item_add(s, name));
}

static void read_task(rd *r, const cJSON *o, sim_task *k)
{
	const char *key = get_str(r, o, "task", true);
	k->kind = key ? sim_task_parse(key) : 0;
	if (k->kind < 0)
		corrupt(r, "task", "unknown task"), k->kind = 0;
	k->outcome = (sim_outcome)get_enum(r, o, "outcome", outcome_names, 5);
	k->start = get_time(r, o, "start");
	k->end = get_time(r, o, "end");
	if (k->start == SIM_UNSET || k->end == SIM_UNSET)
		corrupt(r, "start", "tasks need a start and an end (null: never)");
}

static void read_job_tasks(rd *r, const cJSON *o, sim_job *j)
{
	const cJSON *tasks = get_array(r, o, "tasks");
	int n = cJSON_GetArraySize(tasks);
	if (n > SIM_MAX_TASKS)
		corrupt(r, "tasks", "too many tasks");
	for (const cJSON *t = tasks ? tasks->child : NULL; t && !r->bad && j->n_tasks < SIM_MAX_TASKS; t = t->next)
		read_task(r, t, &j->tasks[j->n_tasks++]);
}

static void read_job_body(rd *r, const cJSON *o, sim_job *j, dr_be_op opv)
{
	j->op = opv;
	j->src = get_enum(r, o, "from", loc_names, 2);
	j->dst = get_enum(r, o, "to", loc_names, 2);
	j->start = get_int(r, o, "start", REQUIRED);
	read_job_tasks(r, o, j);
	dup_opt(&j->point_id, get_str(r, o, "point", false));
	j->point_ms = j->point_id ? get_int(r, o, "point_time", REQUIRED) : -1;
	dup_opt(&j->key, get_str(r, o, "key", false));
	j->unhealthy = get_bool(r, o, "unhealthy");
	dup_opt(&j->err_code, get_str(r, o, "error_code", false));
	dup_opt(&j->err_msg, get_str(r, o, "error_message", false));
	dup_opt(&j->network, get_str(r, o, "network", false));
	dup_opt(&j->comments, get_str(r, o, "comments", false));
	dup_opt(&j->activity, get_str(r, o, "activity", false));
}

static void read_new_job(rd *r, sim *s, const cJSON *o)
{
	size_t idx;
	const char *guid = get_str(r, o, "guid", true);
	const char *item = get_str(r, o, "item", true);
	const char *op = get_str(r, o, "op", true);
	sim_item *it = item ? sim_item_find(s, item) : NULL;
	dr_be_op opv = DR_BE_OP_FAILOVER;
	if (r->bad || !it || dr_strmap_get(&s->job_by_guid, guid, &idx) || !dr_backend_op_parse(op, &opv)) {
		corrupt(r, !it ? "item" : !dr_backend_op_parse(op, &opv) ? "op" : "guid",
			!it ? "unknown item" : "unknown operation, or a duplicate job");
		return;
	}
	sim_job *j = sim_job_new(s);
	j->guid = xstrdup(guid);
	j->item = (size_t)(it - s->items);
	read_job_body(r, o, j, opv);
	if (j->start < (s->n_jobs > 1 ? s->jobs[s->n_jobs - 2].start : j->start))
		corrupt(r, "start", "earlier than the job before it (jobs are kept in start order)");
	dr_strmap_put(&s->job_by_guid, j->guid, s->n_jobs - 1);
	sim_item_add_job(it, s->n_jobs - 1);
	if (j->key)
		dr_strmap_put(&s->job_by_key, j->key, s->n_jobs - 1);
}

/* A job the log changes (resumed): the same job, new tasks; its GUID, item, start and key stay. */
static void reread_job(rd *r, sim *s, sim_job *j, const cJSON *o)
{
	dr_be_op opv = DR_BE_OP_FAILOVER;
	const char *op = get_str(r, o, "op", true), *item = get_str(r, o, "item", true);
	const char *key = get_str(r, o, "key", false);
	int64_t start = j->start;
	if (r->bad || !dr_backend_op_parse(op, &opv) || opv != j->op || !item ||
	    strcmp(item, s->items[j->item].name) != 0 || (key && (!j->key || strcmp(key, j->key) != 0))) {
		corrupt(r, "guid", "a job changed its operation, item or key");
		return;
	}
	char *keep_key = j->key; /* job_by_key borrows it */
	j->key = NULL;
	j->n_tasks = 0;
	read_job_body(r, o, j, opv); /* dup_opt frees what it replaces */
	free(j->key);
	j->key = keep_key;
	if (j->start != start)
		corrupt(r, "start", "a job changed its start");
}

static void read_job(rd *r, sim *s, const cJSON *o)
{
	size_t idx;
	const char *guid = get_str(r, o, "guid", true);
	if (guid && dr_strmap_get(&s->job_by_guid, guid, &idx) && r->replace)
		reread_job(r, s, &s->jobs[idx], o);
	else
		read_new_job(r, s, o);
}

/* An item's running job by GUID; the count of applied tasks must fit. */
static void link_job(rd *r, sim *s, const cJSON *o, const char *key, const char *applied, int64_t *slot, int *n)
{
	const char *guid = get_str(r, o, key, false);
	size_t idx;
	*slot = -1;
	*n = (int)get_int(r, o, applied, 0);
	if (!guid)
		return;
	if (!dr_strmap_get(&s->job_by_guid, guid, &idx)) {
		corrupt(r, key, "names a job that is not in the file");
		return;
	}
	*slot = (int64_t)idx;
	if (*n < 0 || *n > s->jobs[idx].n_tasks)
		corrupt(r, applied, "out of range");
}

static void read_audit(rd *r, sim *s, const cJSON *o)
{
	static const char *const results[] = {"accepted", "replayed", "refused", "throttled"};
	dr_be_op op = DR_BE_OP_FAILOVER;
	const char *ops = get_str(r, o, "op", true);
	if (ops && !dr_backend_op_parse(ops, &op))
		corrupt(r, "op", "unknown operation");
	int res = get_enum(r, o, "result", results, 4);
	const char *item = get_str(r, o, "item", true), *key = get_str(r, o, "key", true);
	if (r->bad)
		return;
	if (s->n_audit == s->cap_audit) {
		s->cap_audit = s->cap_audit ? s->cap_audit * 2 : 64;
		s->audit = xrealloc(s->audit, s->cap_audit * sizeof *s->audit);
	}
	sim_audit *a = &s->audit[s->n_audit++];
	memset(a, 0, sizeof *a);
	a->t = get_int(r, o, "time", REQUIRED);
	a->op = op;
	a->item = xstrdup(item);
	a->key = xstrdup(key);
	a->result = results[res];
	dup_opt(&a->job, get_str(r, o, "job", false));
	dup_opt(&a->code, get_str(r, o, "code", false));
}

static void read_list(rd *r, sim *s, const cJSON *root, const char *key, void (*fn)(rd *, sim *, const cJSON *))
{
	const cJSON *list = get_array(r, root, key);
	size_t i = 0;
	for (const cJSON *e = list ? list->child : NULL; e && !r->bad; e = e->next, i++) {
		set_where(r, key, i, NULL);
		if (!cJSON_IsObject(e))
			corrupt(r, "", "expected an object");
		else
			fn(r, s, e);
	}
	if (!r->bad)
		r->where[0] = '\0';
}

static void read_links(rd *r, sim *s, const cJSON *root)
{
	const cJSON *items = get_array(r, root, "items");
	size_t i = 0;
	for (const cJSON *e = items ? items->child : NULL; e && !r->bad; e = e->next, i++) {
		set_where(r, "items", i, NULL);
		link_job(r, s, e, "job", "applied", &s->items[i].job, &s->items[i].applied);
		link_job(r, s, e, "vm_job", "vm_applied", &s->items[i].vm_job, &s->items[i].vm_applied);
	}
}

/* The seed, times and call count: of the file's head, or of a commit line of its log. */
static void read_head(rd *r, sim *s, const cJSON *root)
{
	const char *seed = get_str(r, root, "seed", true);
	char *end = NULL;
	unsigned long long v = seed ? strtoull(seed, &end, 10) : 0;
	if (seed && (!*seed || *end))
		corrupt(r, "seed", "expected a decimal number");
	if (!s->seed_given)
		s->seed = v;
	s->created_ms = get_time(r, root, "created");
	s->last_ms = get_time(r, root, "time");
	if (s->last_ms == SIM_NEVER || s->created_ms == SIM_NEVER)
		corrupt(r, "time", "must be a time");
	s->calls = (uint64_t)get_int(r, root, "calls", 0);
}

/* The epoch of a snapshot or of a log's group (hex text): 0 when absent. */
static uint64_t read_epoch(rd *r, const cJSON *o, const char *key)
{
	const char *v = get_str(r, o, key, false);
	char *end = NULL;
	uint64_t e = v ? strtoull(v, &end, 16) : 0;
	if (v && (!*v || *end || e == 0))
		corrupt(r, key, "expected a hexadecimal epoch");
	return e;
}

static void read_root(rd *r, sim *s, const cJSON *root)
{
	const char *format = get_str(r, root, "format", true);
	if (format && strcmp(format, FORMAT) != 0)
		corrupt(r, "format", "not a drover simulator state");
	if (!r->bad && get_int(r, root, "version", REQUIRED) != VERSION)
		corrupt(r, "version", "written by another drover version");
	read_head(r, s, root);
	s->epoch = read_epoch(r, root, "epoch"); /* absent: an older drover's file, with no log */
	read_list(r, s, root, "items", read_item);
	read_list(r, s, root, "jobs", read_job);
	read_links(r, s, root);
	read_list(r, s, root, "audit", read_audit);
}

/* The file's bytes, NUL-terminated; NULL with errno set. */
static char *slurp(const char *path, size_t *len)
{
	dr_buf b;
	dr_buf_init(&b);
	if (dr_fs_read_all(path, MAX_STATE_BYTES, &b) < 0) {
		int e = errno;
		dr_buf_dispose(&b);
		errno = e;
		return NULL;
	}
	*len = b.len;
	return dr_buf_detach(&b);
}

/* ---- the change log's groups ---------------------------------------------------------------- */

/* An item line replaces the item: what it owns goes, its name, GUID and jobs stay. */
static void clear_item(sim_item *it)
{
	for (size_t i = 0; i < it->n_tags; i++) {
		free(it->tag_k[i]);
		free(it->tag_v[i]);
	}
	free(it->tag_k);
	free(it->tag_v);
	free(it->hits);
	it->tag_k = it->tag_v = NULL;
	it->hits = NULL;
	it->n_tags = it->n_hits = 0;
}

static void item_line(rd *r, sim *s, const cJSON *o)
{
	size_t i;
	const char *name = get_str(r, o, "name", true);
	if (!name || r->bad)
		return;
	sim_item *it = dr_strmap_get(&s->item_by_name, name, &i) ? &s->items[i] : sim_item_add(s, name);
	clear_item(it);
	read_item_body(r, o, it);
}

static void link_line(rd *r, sim *s, const cJSON *o)
{
	size_t i;
	const char *name = get_str(r, o, "name", true);
	if (!name || r->bad || !dr_strmap_get(&s->item_by_name, name, &i))
		return;
	link_job(r, s, o, "job", "applied", &s->items[i].job, &s->items[i].applied);
	link_job(r, s, o, "vm_job", "vm_applied", &s->items[i].vm_job, &s->items[i].vm_applied);
}

/* One pass over a group: each line's element of that kind, to fn. */
static void group_pass(rd *r, sim *s, cJSON *const *lines, const size_t *lineno, size_t n, const char *kind,
		       void (*fn)(rd *, sim *, const cJSON *))
{
	for (size_t i = 0; i < n && !r->bad; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(lines[i], kind);
		snprintf(r->where, sizeof r->where, "line %zu: %s", lineno[i], kind);
		if (v && !cJSON_IsObject(v))
			corrupt(r, "", "expected an object");
		else if (v)
			fn(r, s, v);
	}
}

static void check_kinds(rd *r, cJSON *const *lines, const size_t *lineno, size_t n)
{
	for (size_t i = 0; i < n && !r->bad; i++) {
		int kinds = !!cJSON_GetObjectItemCaseSensitive(lines[i], "item") +
			    !!cJSON_GetObjectItemCaseSensitive(lines[i], "job") +
			    !!cJSON_GetObjectItemCaseSensitive(lines[i], "audit");
		snprintf(r->where, sizeof r->where, "line %zu", lineno[i]);
		if (kinds != 1 || cJSON_GetArraySize(lines[i]) != 1)
			corrupt(r, "", "expected one item, job or audit record");
	}
}

int sim_state_apply(sim *s, cJSON *const *lines, const size_t *lineno, size_t n, const cJSON *commit,
		    const char *path, dr_arena *a, dr_be_error *err)
{
	rd r = {.path = path, .a = a, .err = err, .replace = true};
	check_kinds(&r, lines, lineno, n);
	group_pass(&r, s, lines, lineno, n, "item", item_line); /* items first: a new job's item may be new */
	group_pass(&r, s, lines, lineno, n, "job", read_job);
	group_pass(&r, s, lines, lineno, n, "item", link_line); /* then the jobs items run */
	group_pass(&r, s, lines, lineno, n, "audit", read_audit);
	if (!r.bad)
		r.where[0] = '\0';
	read_head(&r, s, commit);
	return r.bad ? -1 : 0;
}

/* ---- loading --------------------------------------------------------------------------------- */

int sim_state_load(sim *s, const char *path, dr_arena *a, dr_be_error *err)
{
	size_t len;
	/* the log before the state: a snapshot replaces the file first, then the log, so a log opened
	   first is never older than the state read after it (a reader needs no lock) */
	int log_fd = open(s->log_path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (log_fd < 0 && errno != ENOENT)
		return io_error(a, err, "open", s->log_path);
	char *text = slurp(path, &len);
	if (!text) {
		int e = errno;
		if (log_fd >= 0)
			close(log_fd);
		errno = e;
		return errno == ENOENT ? 1 : io_error(a, err, "read", path);
	}
	rd r = {.path = path, .a = a, .err = err};
	cJSON *root = cJSON_ParseWithLength(text, len);
	if (!root || !cJSON_IsObject(root)) {
		if (log_fd >= 0)
			close(log_fd);
		const char *at = cJSON_GetErrorPtr();
		long off = root || !at || at < text || at > text + len ? 0 : (long)(at - text);
		dr_backend_fail(err, a, 0, DR_BE_ERR_PERMANENT, "StateFileCorrupt", "The file was cut short or edited.",
				"Run 'drover sim reset' (or remove the file) to start the simulator afresh.",
				"the simulator state '%s' is corrupt: %s at byte %ld", path,
				len == 0 ? "the file is empty" : root ? "not a JSON object" : "not valid JSON", off);
		cJSON_Delete(root);
		free(text);
		return -1;
	}
	read_root(&r, s, root);
	cJSON_Delete(root);
	free(text);
	s->state_bytes = len;
	int rc = r.bad ? -1 : sim_log_replay(s, log_fd, a, err);
	if (log_fd >= 0)
		close(log_fd);
	return rc;
}
