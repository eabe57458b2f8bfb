/*
 * backends/sim_log.c - the simulator's change log: what changed since the
 * state file's last snapshot, so that a flush costs what changed, not the
 * estate.
 *
 * "<state>.changes" holds groups of JSON lines, one group per save: each
 * item, job and audit record that changed or is new (as the state file
 * writes them), then a commit line with the head (seed, times, call count)
 * and the epoch of the snapshot the group follows. A group is written with
 * one write() and made durable with one fdatasync(). On load, the groups
 * of the state file's epoch are applied in order; an item or job replaces
 * the one of its name or GUID.
 *
 * A crash leaves whole groups and at most a torn tail: lines after the last
 * commit (a group half written, or written and never synced). That tail
 * was never acknowledged (the save never returned) and is left out. Any
 * other line that cannot be read is corruption, named by file and line.
 *
 * When the log would outgrow the state file, the next save is a snapshot:
 * the state file rewritten with a new epoch, then the log replaced by an
 * empty one. A kill between the two leaves groups of the old epoch, which
 * the new snapshot already holds: they are skipped. So each snapshot's
 * O(estate) cost follows at least as many bytes of logged changes: linear.
 */
#include "backends/sim_int.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/fs.h"
#include "util/json_print.h"
#include "util/xalloc.h"

#define MIN_SNAPSHOT_BYTES 4096 /* a tiny state is rewritten no more often than every 4 KiB of changes */

char *sim_log_path(const char *state_path)
{
	size_t n = strlen(state_path) + sizeof ".changes";
	char *p = xmalloc(n);
	snprintf(p, n, "%s.changes", state_path);
	return p;
}

/* ---- what changed ---------------------------------------------------------------------------- */

static void push(size_t **v, size_t *n, size_t *cap, size_t x)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*v = xrealloc(*v, *cap * sizeof **v);
	}
	(*v)[(*n)++] = x;
}

void sim_item_touch(sim *s, sim_item *it)
{
	if (it->touched)
		return;
	it->touched = true;
	push(&s->touched, &s->n_touched, &s->cap_touched, (size_t)(it - s->items));
}

void sim_job_touch(sim *s, sim_job *j)
{
	size_t i = (size_t)(j - s->jobs);
	if (j->touched || i >= s->saved_jobs) /* a new job is written anyway */
		return;
	j->touched = true;
	push(&s->touched_jobs, &s->n_touched_jobs, &s->cap_touched_jobs, i);
}

void sim_log_saved(sim *s)
{
	for (size_t i = 0; i < s->n_touched; i++)
		s->items[s->touched[i]].touched = false;
	for (size_t i = 0; i < s->n_touched_jobs; i++)
		s->jobs[s->touched_jobs[i]].touched = false;
	s->n_touched = s->n_touched_jobs = 0;
	s->saved_jobs = s->n_jobs;
	s->saved_audit = s->n_audit;
}

/* ---- the crash hook of the tests --------------------------------------------------------------- */

/*
 * $DROVER_TEST_SIM_KILL = "N:append" (the Nth save of the session: its group
 * written, not synced), "N:torn" (half its group written and synced),
 * "N:snapshot" (the Nth save is a snapshot, killed with its temporary file
 * half written) or "N:swap" (a snapshot, killed after the new state file is
 * in place, before the log is emptied). drover dies with SIGKILL there.
 */
static bool hook_wants(uint64_t save, const char *where)
{
	const char *spec = getenv("DROVER_TEST_SIM_KILL");
	char *end;
	if (!spec || !*spec)
		return false;
	unsigned long long n = strtoull(spec, &end, 10);
	return n == save && *end == ':' && strcmp(end + 1, where) == 0;
}

void sim_log_hook(sim *s, const char *where)
{
	if (hook_wants(s->saves, where))
		raise(SIGKILL);
}

/* The save the hook kills in a snapshot is made a snapshot. */
static bool hook_snapshot(const sim *s)
{
	return hook_wants(s->saves + 1, "snapshot") || hook_wants(s->saves + 1, "swap");
}

/* ---- writing ------------------------------------------------------------------------------------- */

static void put_line(dr_buf *b, const char *kind, cJSON *v)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, kind, v);
	dr_json_print(b, o);
	dr_buf_putc(b, '\n');
	cJSON_Delete(o);
}

static void put_commit(dr_buf *b, const sim *s)
{
	dr_buf_printf(b, "{\"commit\":\"%016llx\",\"seed\":\"%llu\"", (unsigned long long)s->epoch,
		      (unsigned long long)s->seed);
	if (s->created_ms != SIM_UNSET)
		dr_buf_printf(b, ",\"created\":%lld", (long long)s->created_ms);
	if (s->last_ms != SIM_UNSET)
		dr_buf_printf(b, ",\"time\":%lld", (long long)s->last_ms);
	dr_buf_printf(b, ",\"calls\":%llu}\n", (unsigned long long)s->calls);
}

/* The group of what changed since the last save. */
static void build_group(const sim *s, dr_buf *b)
{
	for (size_t i = 0; i < s->n_touched; i++)
		put_line(b, "item", sim_state_item_json(s, &s->items[s->touched[i]]));
	for (size_t i = 0; i < s->n_touched_jobs; i++)
		put_line(b, "job", sim_state_job_json(s, &s->jobs[s->touched_jobs[i]]));
	for (size_t i = s->saved_jobs; i < s->n_jobs; i++)
		put_line(b, "job", sim_state_job_json(s, &s->jobs[i]));
	for (size_t i = s->saved_audit; i < s->n_audit; i++)
		put_line(b, "audit", sim_state_audit_json(&s->audit[i]));
	put_commit(b, s);
}

/* Write and sync the group; the hook may die half way or before the sync. */
static int append(sim *s, const dr_buf *b)
{
	size_t first = hook_wants(s->saves, "torn") ? b->len / 2 : b->len;
	if (dr_fs_write_all(s->log_fd, b->data, first) < 0)
		return -1;
	if (first < b->len) {
		fdatasync(s->log_fd);
		raise(SIGKILL);
	}
	sim_log_hook(s, "append");
	return fdatasync(s->log_fd);
}

int sim_log_save(sim *s, dr_arena *a, dr_be_error *err)
{
	if (s->need_snapshot || s->log_fd < 0 || hook_snapshot(s))
		return sim_state_snapshot(s, a, err);
	dr_buf b;
	dr_buf_init(&b);
	build_group(s, &b);
	uint64_t limit = s->state_bytes > MIN_SNAPSHOT_BYTES ? s->state_bytes : MIN_SNAPSHOT_BYTES;
	if (s->log_bytes + b.len > limit) {
		dr_buf_dispose(&b);
		return sim_state_snapshot(s, a, err);
	}
	s->saves++;
	int rc = append(s, &b);
	if (rc < 0) {
		int e = errno;
		/* what reached the file is a torn tail at best: the next save rewrites the state */
		s->need_snapshot = true;
		errno = e;
		rc = dr_backend_fail(err, a, 0, DR_BE_ERR_PERMANENT, "StateFileError", NULL, NULL,
				     "cannot write the change log '%s': %s", s->log_path, strerror(e));
	} else {
		s->log_bytes += b.len;
		sim_log_saved(s);
		s->dirty = false;
	}
	dr_buf_dispose(&b);
	return rc;
}

int sim_log_restart(sim *s)
{
	if (s->log_fd >= 0)
		close(s->log_fd);
	s->log_fd = -1;
	s->log_bytes = 0;
	if (dr_fs_write_atomic(s->log_path, "", 0, 0, NULL) < 0)
		return -1;
	s->log_fd = open(s->log_path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	return s->log_fd < 0 ? -1 : 0;
}

/* ---- replaying ------------------------------------------------------------------------------------ */

/* The lines of one group, parsed, until its commit line. */
typedef struct group {
	cJSON **lines;
	size_t *lineno;
	size_t n, cap;
	size_t bad; /* the first line that is not a JSON object; 0 */
} group;

static void group_add(group *g, cJSON *o, size_t lineno)
{
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		g->lines = xrealloc(g->lines, g->cap * sizeof *g->lines);
		g->lineno = xrealloc(g->lineno, g->cap * sizeof *g->lineno);
	}
	g->lines[g->n] = o;
	g->lineno[g->n++] = lineno;
}

static void group_clear(group *g)
{
	for (size_t i = 0; i < g->n; i++)
		cJSON_Delete(g->lines[i]);
	g->n = 0;
	g->bad = 0;
}

static char *slurp_fd(int fd, size_t *len)
{
	dr_buf b;
	char chunk[65536];
	ssize_t n;
	dr_buf_init(&b);
	while ((n = read(fd, chunk, sizeof chunk)) > 0)
		dr_buf_append(&b, chunk, (size_t)n);
	*len = b.len;
	dr_buf_puts(&b, "");
	return n < 0 ? (dr_buf_dispose(&b), NULL) : dr_buf_detach(&b);
}

/* What a replay found: where the last whole group ends, and whether any was of another epoch. */
typedef struct replay_st {
	const char *text;
	size_t len, end;
	bool stale;
} replay_st;

static int corrupt_line(const sim *s, size_t line, dr_arena *a, dr_be_error *err)
{
	return dr_backend_fail(err, a, 0, DR_BE_ERR_PERMANENT, "StateFileCorrupt",
			       "A crash only ever tears the log's last lines; this damage came from elsewhere.",
			       "Run 'drover sim reset' (or remove the state file and its log) to start the simulator afresh.",
			       "the simulator state's change log '%s' is corrupt: line %zu is not a JSON object",
			       s->log_path, line);
}

/* A commit line (o, its "commit" c) closes the group g: apply it when it follows s's snapshot. */
static int commit(sim *s, group *g, const cJSON *o, const cJSON *c, size_t line, replay_st *st, dr_arena *a,
		  dr_be_error *err)
{
	if (g->bad)
		return corrupt_line(s, g->bad, a, err);
	char *end = NULL;
	const char *hex = cJSON_IsString(c) ? c->valuestring : "";
	uint64_t epoch = strtoull(hex, &end, 16);
	if (!*hex || *end)
		return corrupt_line(s, line, a, err);
	if (epoch != s->epoch || epoch == 0) {
		st->stale = true; /* a snapshot taken after it holds it */
		return 0;
	}
	return sim_state_apply(s, g->lines, g->lineno, g->n, o, s->log_path, a, err);
}

static int replay_lines(sim *s, replay_st *st, dr_arena *a, dr_be_error *err)
{
	group g = {0};
	size_t lineno = 0;
	int rc = 0;
	const char *p = st->text, *nl;
	while (rc == 0 && (nl = memchr(p, '\n', st->len - (size_t)(p - st->text)))) {
		cJSON *o = cJSON_ParseWithLength(p, (size_t)(nl - p));
		const cJSON *c = cJSON_IsObject(o) ? cJSON_GetObjectItemCaseSensitive(o, "commit") : NULL;
		lineno++;
		p = nl + 1;
		if (!cJSON_IsObject(o)) {
			g.bad = g.bad ? g.bad : lineno;
			cJSON_Delete(o);
		} else if (!c) {
			group_add(&g, o, lineno);
		} else {
			rc = commit(s, &g, o, c, lineno, st, a, err);
			cJSON_Delete(o);
			group_clear(&g);
			st->end = (size_t)(p - st->text);
		}
	}
	group_clear(&g);
	free(g.lines);
	free(g.lineno);
	return rc;
}

int sim_log_replay(sim *s, int fd, dr_arena *a, dr_be_error *err)
{
	replay_st st = {0};
	char *text = NULL;
	if (fd >= 0 && !(text = slurp_fd(fd, &st.len)))
		return dr_backend_fail(err, a, 0, DR_BE_ERR_PERMANENT, "StateFileError", NULL, NULL,
				       "cannot read the change log '%s': %s", s->log_path, strerror(errno));
	st.text = text;
	int rc = text ? replay_lines(s, &st, a, err) : 0;
	free(text);
	sim_log_saved(s); /* what was loaded is saved */
	if (rc < 0 || s->read_only)
		return rc;
	s->log_bytes = st.end;
	/* a torn tail, an older epoch's groups, no log, an older drover's file: rewrite before appending */
	s->need_snapshot = fd < 0 || st.end != st.len || st.stale || s->epoch == 0;
	if (!s->need_snapshot) {
		s->log_fd = open(s->log_path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
		s->need_snapshot = s->log_fd < 0;
	}
	return 0;
}
