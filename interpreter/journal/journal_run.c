/*
 * journal_run.c - a run's journal, from the executor's side: the run lock,
 * the header, what of the event stream goes in, and when it becomes
 * durable (docs/journal.md).
 *
 * The journal is built on the events: a listener appends the transitions
 * that matter for resuming and for `drover status` (already redacted, as
 * every event is), and the scheduler adds the intent record of each attempt
 * itself, right after task.start, because the intent decides when the call
 * may go out:
 *
 *   launch --task.start--> intent appended --(mutating)--> held
 *   end of the turn: backend flushed, ONE fdatasync for every record
 *   appended this turn, then the held calls are issued in launch order
 *
 * A turn launches everything the limits allow, so one sync covers all the
 * intents of a fan-out (group commit). Other records become durable at the
 * next turn with held calls, or when the loop is about to wait; a result
 * that is lost in a crash is not a problem, because its intent is durable:
 * resume asks the service (resume.c). The backend is flushed before every
 * sync (dr_exec_backend_flush), so a durable record never names a job the
 * service could forget.
 */
#include "journal/journal_int.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backends/backend.h"
#include "backends/sim.h"
#include "config.h"
#include "run/modes.h"
#include "util/fs.h"
#include "util/holder.h"
#include "util/text.h"
#include "util/xalloc.h"

/* --- identities ---------------------------------------------------------- */

/* An absolute form of path, the same whether or not it and its directories exist yet, in a. */
static const char *absolute(dr_arena *a, const char *path)
{
	char buf[PATH_MAX];
	if (realpath(path, buf))
		return dr_arena_strdup(a, buf);
	const char *slash = strrchr(path, '/');
	if (slash && !slash[1]) /* "dir/": as "dir" */
		return absolute(a, dr_arena_strndup(a, path, (size_t)(slash - path)));
	const char *dir = slash ? dr_arena_strndup(a, path, (size_t)(slash - path)) : ".";
	if (slash == path)
		dir = "/";
	const char *d = strcmp(dir, path) ? absolute(a, dir) : dir; /* a directory not made yet: its parent's */
	return dr_arena_printf(a, "%s/%s", strcmp(d, "/") ? d : "", slash ? slash + 1 : path);
}

static const char *cfg_str(const dr_node *n, const char *key)
{
	const char *s = dr_node_str(dr_node_get(n, key));
	return s ? s : "";
}

const char *dr_journal_backend_id(dr_arena *a, const dr_runbook *rb, const char *state_path, const char *state_dir)
{
	char buf[PATH_MAX];
	if (rb->backend.kind == DR_BACKEND_SIM) {
		const char *p = dr_sim_state_path(state_path, state_dir, buf, sizeof buf);
		return strcmp(p, DR_SIM_STATE_MEMORY) ? dr_arena_printf(a, "sim:%s", absolute(a, p)) : NULL;
	}
	const dr_node *n = rb->backend.node;
	char d[20];
	dr_journal_node_digest(n, d, sizeof d);
	return dr_arena_printf(a, "azure:%s/%s/%s#%s", cfg_str(n, "subscription"), cfg_str(n, "resource_group"),
			       cfg_str(n, "vault"), d);
}

/* Which service the run acts on (dr_journal_backend_id, or the backend the caller opened); NULL: none to lock. */
static const char *backend_identity(dr_exec *x)
{
	if (x->o.backend && !dr_sim_is(x->o.backend))
		return dr_arena_printf(x->a, "%s:%p", x->o.backend->kind, (void *)x->o.backend);
	if (x->o.backend) {
		const char *p = dr_sim_path(x->o.backend);
		return *p ? dr_arena_printf(x->a, "sim:%s", absolute(x->a, p)) : NULL;
	}
	return dr_journal_backend_id(x->a, x->rb, NULL, x->state_dir);
}

const char *journal_backend_id(dr_exec *x)
{
	return backend_identity(x);
}

static bool exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

static bool has_journal(const char *run_dir)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s/%s", run_dir, DR_JOURNAL_FILE);
	bool e = exists(b.data);
	dr_buf_dispose(&b);
	return e;
}

/*
 * A fresh run's id must be new (a run directory without a journal is a run
 * that never started): an explicit one is refused when taken, a made-up one
 * gets -2, -3, ...
 */
static const char *claim_run_id(dr_exec *x, dr_buf *err)
{
	const char *base = x->run_id;
	for (int n = 2; has_journal(x->run_dir); n++) {
		if (x->o.run_id) {
			dr_buf_printf(err, "run %s exists already (%s): resume it (", x->run_id, x->run_dir);
			dr_journal_command(err, "resume", x->state_dir, x->run_id);
			dr_buf_puts(err, ") or choose another --run-id\n");
			return "the run id is taken";
		}
		x->run_id = dr_arena_printf(x->a, "%s-%d", base, n);
		x->run_dir = dr_arena_printf(x->a, "%s/runs/%s", x->state_dir, x->run_id);
	}
	return NULL;
}

static const char *dir_runs(dr_exec *x)
{
	return dr_arena_printf(x->a, "%s/runs", x->state_dir);
}

/* --- the header -------------------------------------------------------- */

static const char *drill_network(const dr_runbook *rb)
{
	for (size_t i = 0; i < rb->n_steps; i++)
		if (rb->steps[i].action && rb->steps[i].action->flags & DR_AF_TEST_FAILOVER &&
		    dr_node_str(dr_node_get(rb->steps[i].with, "network")))
			return dr_node_str(dr_node_get(rb->steps[i].with, "network"));
	return NULL;
}

static cJSON *runbook_json(dr_exec *x, dr_buf *err)
{
	char digest[40];
	int64_t size = 0;
	if (dr_journal_file_digest(x->rb->path, digest, sizeof digest, &size, err) < 0)
		return NULL;
	cJSON *r = cJSON_CreateObject();
	cJSON_AddStringToObject(r, "name", x->rb->name ? x->rb->name : "");
	cJSON_AddStringToObject(r, "path", x->rb->path);
	cJSON_AddStringToObject(r, "abs", absolute(x->a, x->rb->path));
	cJSON_AddStringToObject(r, "digest", digest);
	cJSON_AddNumberToObject(r, "bytes", (double)size);
	return r;
}

/* "user": who started the run (the effective user's login name, else its uid), for reports. */
static void add_user(cJSON *h)
{
	char buf[1024], name[64];
	struct passwd pw, *found = NULL;
	if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &found) == 0 && found && found->pw_name)
		cJSON_AddStringToObject(h, "user", found->pw_name);
	else {
		snprintf(name, sizeof name, "uid %lu", (unsigned long)geteuid());
		cJSON_AddStringToObject(h, "user", name);
	}
}

static void add_settings(dr_exec *x, cJSON *h)
{
	char seed[32], host[256] = "?";
	cJSON_AddStringToObject(h, "mode", dr_mode_name(x->o.mode));
	cJSON_AddStringToObject(h, "direction", dr_mode_direction_name(x->o.direction));
	const char *net = x->o.mode == DR_MODE_DRILL ? drill_network(x->rb) : NULL;
	if (net)
		cJSON_AddStringToObject(h, "drill_network", net);
	cJSON_AddItemToObject(h, "params", x->params ? cJSON_Duplicate(x->params, true) : cJSON_CreateObject());
	cJSON *be = cJSON_AddObjectToObject(h, "backend");
	cJSON_AddStringToObject(be, "kind", x->rb->backend.kind == DR_BACKEND_AZURE ? "azure" : "sim");
	const char *id = backend_identity(x);
	cJSON_AddStringToObject(be, "id", id ? id : "sim:memory");
	cJSON_AddStringToObject(h, "clock", dr_clock_kind_name(dr_clock_kind_of(x->clock)));
	snprintf(seed, sizeof seed, "%llu", (unsigned long long)x->seed);
	cJSON_AddStringToObject(h, "seed", seed);
	if (x->limit > 0)
		cJSON_AddNumberToObject(h, "concurrency", (double)x->limit);
	else
		cJSON_AddNullToObject(h, "concurrency");
	cJSON_AddBoolToObject(h, "auto_approve", x->o.auto_approve);
	cJSON_AddStringToObject(h, "drover", DROVER_VERSION);
	gethostname(host, sizeof host - 1);
	cJSON_AddStringToObject(h, "host", host);
	add_user(h);
	cJSON_AddNumberToObject(h, "pid", (double)getpid());
	cJSON_AddNumberToObject(h, "started_ms", (double)x->started_wall);
	if (x->point)
		cJSON_AddStringToObject(h, "recovery_point", x->point->text);
	if (x->o.plan) {
		cJSON *p = cJSON_AddObjectToObject(h, "plan");
		cJSON_AddStringToObject(p, "file", x->o.plan_path ? x->o.plan_path : "");
		const char *made = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(x->o.plan, "created"));
		cJSON_AddStringToObject(p, "created", made ? made : "");
		cJSON_AddItemToObject(p, "points", cJSON_Duplicate(x->plan_points, true));
	}
}

static cJSON *header(dr_exec *x, dr_buf *err)
{
	cJSON *rbj = runbook_json(x, err);
	if (!rbj)
		return NULL;
	cJSON *h = dr_event_new(x->ev, "journal.header");
	cJSON_AddStringToObject(h, "format", DR_JOURNAL_FORMAT);
	cJSON_AddNumberToObject(h, "version", DR_JOURNAL_VERSION);
	cJSON_AddStringToObject(h, "run", x->run_id);
	cJSON_AddItemToObject(h, "runbook", rbj);
	add_settings(x, h);
	cJSON *obj = cJSON_AddObjectToObject(h, "objectives"); /* what RTO and RPO are measured against (runinfo.h) */
	if (x->rb->rto_ms >= 0)
		cJSON_AddNumberToObject(obj, "rto_ms", (double)x->rb->rto_ms);
	if (x->rb->rpo_ms >= 0)
		cJSON_AddNumberToObject(obj, "rpo_ms", (double)x->rb->rpo_ms);
	cJSON_AddStringToObject(obj, "enforce", dr_enforce_name(x->rb->enforce));
	cJSON_AddItemToObject(h, "shape", dr_journal_runbook_digests(x->rb)); /* version 1's form: see journal_open */
	return h;
}

/* --- the listener ------------------------------------------------------ */

/* The events the journal keeps (task.start is the intent, written by journal_intent). */
static const char *const kept[] = {
	"step.start",	   "step.end",	      "task.end",	 "task.retry",	    "task.skip",
	"task.cancel",	   "task.giveup",     "task.probe",	 "approval.request", "approval.granted",
	"approval.denied", "approval.timeout", "rollback.start", "rollback.skip",   "rollback.end",
	"run.stopping",	   "run.cancel",      "run.timeout",	 "run.resume",	    "run.objectives",
	"run.end",	   "run.retry",	      "run.preflight",	 "fallback.end",    "drill.verify",
	"task.person",	   NULL,
};

static bool keeps(const char *type)
{
	for (size_t i = 0; kept[i]; i++)
		if (!strcmp(kept[i], type))
			return true;
	return false;
}

static void on_event(void *ctx, const cJSON *ev)
{
	dr_exec *x = ctx;
	struct jrun *jr = x->jr;
	const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "event"));
	if (!jr || jr->replaying || jr->signalled || !jr->j || !type || !keeps(type) ||
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "replayed")))
		return; /* the journal has it (journal_told) */
	if (!strcmp(type, "run.end") && jr->suspended) {
		cJSON *s = cJSON_Duplicate(ev, true);
		cJSON_ReplaceItemInObjectCaseSensitive(s, "event", cJSON_CreateString("run.suspend"));
		cJSON_DeleteItemFromObjectCaseSensitive(s, "exit");
		dr_journal_append(jr->j, s);
		cJSON_Delete(s);
		return;
	}
	dr_journal_append(jr->j, ev);
	if (!strcmp(type, "run.end"))
		jr->ended = true;
}

/* --- hooks --------------------------------------------------------------- */

static const char *take_lock(dr_exec *x, dr_buf *err)
{
	const char *be = backend_identity(x);
	if (!be)
		return NULL; /* an in-memory simulator: nothing shared to protect */
	dr_runlock_req req = {
		.state_dir = x->state_dir, .runbook = absolute(x->a, x->rb->path), .backend = be, .run_id = x->run_id,
		.resuming = x->o.resume != NULL, .force = x->o.force,
	};
	dr_buf note;
	dr_buf_init(&note);
	int rc = dr_runlock_acquire(&req, &x->jr->lock, &note, err);
	if (note.len)
		dr_exec_say(x, dr_arena_strndup(x->a, note.data, note.len - 1));
	dr_buf_dispose(&note);
	if (rc < 0)
		dr_buf_putc(err, '\n');
	x->lock_busy = rc == DR_RUNLOCK_BUSY;
	x->lock_stale = rc == DR_RUNLOCK_STALE;
	if (rc == DR_RUNLOCK_STALE)
		return "an earlier run of this runbook against this backend did not finish (see above)";
	if (rc == DR_RUNLOCK_BUSY)
		return "another run holds the lock of this runbook and backend (see above)";
	if (rc < 0)
		return x->o.resume ? "the run lock could not be taken (see above); make the state directory writable, then "
				     "resume again"
				   : "the run lock could not be taken (see above); make the state directory writable, or give "
				     "another --state-dir, then run again";
	return NULL;
}

/* A resumed run's clock: real time goes on from the first start (the downtime counts); virtual time from the last record. */
static void rebase_clock(dr_exec *x)
{
	const dr_journal_file *f = x->o.resume;
	int64_t at = 0;
	const cJSON *t = f->n ? cJSON_GetObjectItemCaseSensitive(f->recs[f->n - 1], "t_ms") : NULL;
	int64_t last = cJSON_IsNumber(t) ? (int64_t)t->valuedouble : 0;
	if (dr_clock_kind_of(x->clock) == DR_CLOCK_REAL) {
		/* the real time since the run started, on the run's timeline: a faster clock's (backend.speed) is rate times it */
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(f->header, "started_ms");
		double rate = x->o.clock_rate > 0 ? x->o.clock_rate : 1;
		int64_t real_now = rate == 1 ? dr_clock_wall(x->clock) : dr_clock_wall_at(x->clock, 0);
		at = cJSON_IsNumber(s) ? (int64_t)((double)(real_now - (int64_t)s->valuedouble) * rate) : 0;
		at = at < last ? last : at; /* never before what the journal holds (a wall clock set back) */
	} else {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(f->header, "started_ms"); /* where its virtual time started */
		if (cJSON_IsNumber(s))
			dr_clock_set_start(x->clock, (int64_t)s->valuedouble);
		at = last;
	}
	dr_clock_rebase(x->clock, at < 0 ? 0 : at);
	x->started_wall = dr_clock_wall_at(x->clock, 0);
}

/*
 * The state directory holds what the run trusts (its journal, locks,
 * approvals, the simulator's state): refused when another user owns it or
 * could write to it (it and what drover keeps directly in it), and created
 * now, so a read-only or full disk is named before anything runs.
 */
static const char *check_state_dir(dr_exec *x, dr_buf *err)
{
	static const char *const subdirs[] = {"", "/runs", "/locks", NULL};
	for (size_t i = 0; subdirs[i]; i++) {
		const char *d = dr_arena_printf(x->a, "%s%s", x->state_dir, subdirs[i]);
		if (dr_fs_check_private_dir(d, i ? "the directory" : "the state directory", err) < 0) {
			dr_buf_putc(err, '\n');
			return "the state directory is not safe to use (see above)";
		}
	}
	if (dr_fs_mkdirs(dir_runs(x), err) < 0) {
		dr_buf_putc(err, '\n');
		return "the state directory cannot be written (see above); make it writable, or give another --state-dir, "
		       "then run again";
	}
	return NULL;
}

const char *journal_prepare(dr_exec *x, dr_buf *err)
{
	if (!x->o.journal && !x->o.resume)
		return NULL;
	x->jr = xcalloc(1, sizeof *x->jr);
	dr_buf_init(&x->jr->notes);
	if (x->o.run_id && !dr_journal_run_id_ok(x->o.run_id, err)) {
		dr_buf_putc(err, '\n');
		return "--run-id is not a valid run id";
	}
	const char *why = check_state_dir(x, err);
	if (why)
		return why;
	if (x->o.resume) {
		rebase_clock(x);
	} else if ((why = claim_run_id(x, err))) {
		return why;
	}
	return take_lock(x, err);
}

static const char *fail_open(dr_exec *x, dr_buf *err)
{
	dr_buf_puts(err, "\n");
	return x->o.resume ? "the journal could not be written (see above); make the state directory writable, then "
			     "resume again"
			   : "the journal could not be written (see above); make the state directory writable, or give "
			     "another --state-dir, then run again";
}

/* The run model knows what the header says, as the reader gives it back (version 1's shape); then the shape is compacted. */
static void model_header(dr_exec *x, cJSON *h)
{
	dr_runinfo_apply_header(x->model, h);
	cJSON *shape = cJSON_GetObjectItemCaseSensitive(h, "shape");
	cJSON_ReplaceItemInObjectCaseSensitive(h, "shape", dr_journal_compact_shape(shape));
}

/*
 * The simulator's lock named another run when this one took it: that run was killed, and unless its journal says it
 * ended, its operations may be half done in the state this run now changes. A note, as `drover sim advance` gives
 * (cli/sim.c): the other run's resume will find the service as this one leaves it; its record stays in the lock
 * after this run. Its own runbook's next run was refused already (the run lock); a resume of that run is the run.
 */
static void note_left_run(dr_exec *x)
{
	const cJSON *h = dr_sim_lock_left(dr_exec_backend(x));
	const char *run = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "run"));
	const char *dir = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(h, "state_dir"));
	if (!run || !dir || !strcmp(run, x->run_id) || dr_journal_run_over(dir, run))
		return;
	dr_sim_lock_keep_left(dr_exec_backend(x)); /* still unfinished when this run lets go */
	dr_buf c;
	dr_buf_init(&c);
	dr_exec_say(x, dr_arena_printf(x->a,
				       "note: run %s did not finish: it stopped (pid %ld on %s, since %s) without letting go of "
				       "the simulator state %s, and its operations may be half done in it. This run goes on over "
				       "what it left; its resume (%s) will find the service as this run leaves it",
				       run, dr_holder_pid(h), dr_holder_field(h, "host"), dr_holder_field(h, "since"),
				       dr_sim_path(dr_exec_backend(x)), dr_journal_command(&c, "resume", dir, run)));
	dr_buf_dispose(&c);
}

const char *journal_open(dr_exec *x, dr_buf *err)
{
	struct jrun *jr = x->jr;
	if (!jr)
		return NULL;
	if (x->o.resume) {
		jr->rs = x->o.resume;
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(jr->rs->header, "version");
		jr->j = dr_journal_reopen(jr->rs->path, jr->rs->valid_bytes, cJSON_IsNumber(v) ? (int)v->valuedouble : 1,
					  err);
	} else {
		cJSON *h = header(x, err);
		if (h)
			model_header(x, h);
		/* under mu: a second signal's message (run/workers.c exit_now) never finds the journal there unsaid */
		pthread_mutex_lock(&x->mu);
		jr->j = h ? dr_journal_create(x->run_dir, h, err) : NULL;
		x->journaled = jr->j != NULL;
		pthread_mutex_unlock(&x->mu);
		cJSON_Delete(h);
	}
	if (!jr->j)
		return fail_open(x, err);
	/* the simulator's lock names the run: killed, it is told from a live one and from a run that ended (cli/sim.c) */
	note_left_run(x);
	dr_sim_lock_note_run(dr_exec_backend(x), x->run_id, absolute(x->a, x->state_dir));
	if (dr_journal_set_kill_hook(jr->j, getenv("DROVER_TEST_KILL_AT"), err) < 0)
		return fail_open(x, err);
	dr_events_listen(x->ev, on_event, x);
	if (jr->rs)
		resume_begin(x);
	return NULL;
}

/* Write (and on the real clock, sync) at most this often when only results are pending. */
enum { IDLE_WRITE_BYTES = 1024 * 1024, IDLE_SYNC_MS = 1000 };

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Flush the backend, then write the journal's pending records, made durable when sync. */
static bool flush_records(dr_exec *x, bool sync)
{
	struct jrun *jr = x->jr;
	if (jr->failed)
		return false;
	dr_buf why;
	dr_buf_init(&why);
	if (dr_exec_backend_flush(x, &why) < 0 || (sync ? dr_journal_sync(jr->j, &why) : dr_journal_write(jr->j, &why)) < 0) {
		jr->failed = true;
		exec_state_failed(x, why.data);
	}
	dr_buf_dispose(&why);
	if (sync)
		jr->last_sync_ms = mono_ms();
	return !jr->failed;
}

bool journal_sync_now(dr_exec *x)
{
	return flush_records(x, true);
}

bool journal_intent(dr_exec *x, task *t)
{
	struct jrun *jr = x->jr;
	if (!jr || !jr->j)
		return false;
	char key[512];
	cJSON *rec = sched_event(x, "task.start", t->s, t);
	cJSON_AddNumberToObject(rec, "attempt", t->attempt);
	if (!cJSON_GetObjectItemCaseSensitive(rec, "action"))
		cJSON_AddStringToObject(rec, "action", t->s->act ? t->s->act->name : "");
	dr_exec_idempotency_key(&t->call, key, sizeof key);
	cJSON_AddStringToObject(rec, "key", key);
	bool mutating = t->s->act && (t->s->act->flags & DR_AF_MUTATING);
	if (mutating)
		cJSON_AddBoolToObject(rec, "mutating", true);
	dr_journal_append(jr->j, rec);
	cJSON_Delete(rec);
	if (!mutating)
		return false;
	if (jr->n_held == jr->cap_held) {
		jr->cap_held = jr->cap_held ? 2 * jr->cap_held : 64;
		jr->held = xrealloc(jr->held, jr->cap_held * sizeof *jr->held);
	}
	jr->held[jr->n_held++] = t;
	return true;
}

bool journal_turn(dr_exec *x)
{
	struct jrun *jr = x->jr;
	if (!jr || !jr->n_held)
		return false;
	bool ok = journal_sync_now(x);
	size_t n = jr->n_held;
	task **held = xmalloc(n * sizeof *held);
	memcpy(held, jr->held, n * sizeof *held);
	jr->n_held = 0;
	for (size_t i = 0; i < n; i++) {
		if (held[i]->state != TS_RUNNING)
			continue;
		if (!ok)
			sched_outcome(x, held[i],
				      dr_outcome_fail(DR_ERRC_PERMANENT, "not started: the journal could not record its intent"));
		else if (x->stopping) /* an earlier call of this turn stopped the run: as if never launched */
			sched_outcome(x, held[i], dr_outcome_fail(DR_ERRC_CANCELLED, "not started: the run is stopping"));
		else
			sched_call(x, held[i]);
	}
	free(held);
	if (ok) { /* what the calls started is saved once per turn: the backend's own group commit */
		dr_buf why;
		dr_buf_init(&why);
		if (dr_exec_backend_flush(x, &why) < 0)
			exec_state_failed(x, why.data);
		dr_buf_dispose(&why);
	}
	return true;
}

/*
 * Before the scheduler waits. Nothing pending here is an intent (those were
 * synced by journal_turn): results, skips, step ends, whose loss in a crash
 * costs a probe on resume. On the real clock they are written before every
 * wait, so that drover status sees them, and synced at most once a second;
 * on the virtual clock a wait takes no time, and they go out in 1 MiB
 * batches. The backend is flushed before anything is written, so a record
 * never names a job the service could forget, even after a kill. Returns
 * false when the run keeps no journal (the caller flushes the backend).
 */
bool journal_idle(dr_exec *x)
{
	struct jrun *jr = x->jr;
	if (!jr || !jr->j)
		return false;
	bool real = dr_clock_kind_of(x->clock) == DR_CLOCK_REAL;
	/* a busy worker (an approval gate waiting for a person, an exec) holds the virtual clock: it waits in real
	   time too, and what the run did meanwhile must be there for drover status (and a kill) */
	bool waits = real || x->busy > 0;
	if (!dr_journal_pending(jr->j) || (!waits && dr_journal_pending_bytes(jr->j) < IDLE_WRITE_BYTES))
		return true;
	flush_records(x, real && mono_ms() - jr->last_sync_ms >= IDLE_SYNC_MS);
	return true;
}

void journal_note_timeout(dr_exec *x, srun *s)
{
	if (!x->jr || !x->jr->j || x->jr->replaying)
		return;
	cJSON *rec = sched_event(x, "step.timeout", s, NULL);
	dr_journal_append(x->jr->j, rec);
	cJSON_Delete(rec);
}

bool journal_suspended(const dr_exec *x)
{
	return x->jr && x->jr->suspended;
}

bool journal_signalled(const dr_exec *x)
{
	return x->jr && x->jr->signalled;
}

/* DROVER_JOURNAL_STATS=1: the writer's figures on stderr at the end (benchmarks, docs/journal.md). */
static void print_stats(dr_journal *j)
{
	const char *env = getenv("DROVER_JOURNAL_STATS");
	if (!env || !*env || !strcmp(env, "0"))
		return;
	dr_journal_sync(j, NULL);
	dr_journal_stats st;
	dr_journal_stats_get(j, &st);
	fprintf(stderr, "journal stats: %llu records, %llu syncs, %llu writes, %llu bytes, %.3f ms in write+fdatasync (max %.3f ms)\n",
		(unsigned long long)st.records, (unsigned long long)st.syncs, (unsigned long long)st.writes,
		(unsigned long long)st.bytes,
		(double)st.sync_ns / 1e6, (double)st.max_sync_ns / 1e6);
}

void journal_finish(dr_exec *x)
{
	struct jrun *jr = x->jr;
	if (!jr)
		return;
	bool durable = true;
	if (jr->j) {
		dr_buf err;
		dr_buf_init(&err);
		print_stats(jr->j);
		/* after the backend failed to save, nothing more may become durable: it could name a forgotten job */
		bool saved = !jr->failed && !jr->signalled && dr_exec_backend_flush(x, NULL) == 0;
		if (saved)
			durable = dr_journal_close(jr->j, &err) == 0;
		else
			dr_journal_discard(jr->j); /* a signal in the replay: the journal is as the last session left it */
		durable = durable && saved;
		if (!durable && !jr->signalled)
			fprintf(stderr, "drover: %s\n", err.len ? err.data : "the backend could not save its state");
		dr_buf_dispose(&err);
	}
	/* the lock is left stale unless the run's end is durable (or nothing ran); a resume stopped by a signal in
	   its replay leaves it as the journal is: let go (emptied) when the run had ended before it */
	bool over = (jr->ended && durable) || (!jr->j && !x->o.resume) ||
		    (jr->signalled && dr_journal_run_over(x->state_dir, x->run_id));
	dr_runlock_release(jr->lock, over);
	resume_dispose(jr);
	dr_buf_dispose(&jr->notes);
	free(jr->held);
	free(jr);
	x->jr = NULL;
}
