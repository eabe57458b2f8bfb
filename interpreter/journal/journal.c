/*
 * journal.c - the journal's writer (group commit) and the digests its
 * header carries (see journal.h; the format is docs/journal.md).
 *
 * Group commit: dr_journal_append serialises a record into a pending
 * buffer under a mutex and returns at once; dr_journal_sync takes the whole
 * buffer, writes it with one write() and makes it durable with one
 * fdatasync(). What is appended while a sync runs waits for the next one.
 * The file is opened O_APPEND, so a batch lands after the previous one even
 * if an earlier write was short; a short or failed write fails the journal
 * (later syncs fail too): the executor then stops issuing mutating calls.
 *
 * Digests are FNV-1a 64: they detect an edited runbook (a changed byte
 * changes the digest with overwhelming likelihood); they are not meant to
 * resist someone who forges a collision, which someone able to edit the
 * runbook does not need to do.
 */
#include "journal/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "front/runbook.h"
#include "util/fs.h"
#include "util/index.h"
#include "util/json_print.h"
#include "util/text.h"
#include "util/xalloc.h"

/* --- digests ----------------------------------------------------------- */

uint64_t dr_fnv1a(uint64_t h, const void *data, size_t n)
{
	const unsigned char *p = data;
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

int dr_journal_file_digest(const char *path, char *out, size_t outsz, int64_t *size, dr_buf *err)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		dr_buf_printf(err, "cannot read '%s': %s", path, strerror(errno));
		return -1;
	}
	uint64_t h = DR_FNV_INIT;
	int64_t total = 0;
	char chunk[65536];
	size_t got;
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
		h = dr_fnv1a(h, chunk, got);
		total += (int64_t)got;
	}
	bool bad = ferror(f);
	fclose(f);
	if (bad) {
		dr_buf_printf(err, "cannot read '%s': %s", path, strerror(errno));
		return -1;
	}
	snprintf(out, outsz, "fnv1a64:%016" PRIx64, h);
	if (size)
		*size = total;
	return 0;
}

static uint64_t hash_str(uint64_t h, const char *s)
{
	return dr_fnv1a(h, s ? s : "", (s ? strlen(s) : 0) + 1);
}

/* The canonical form of a node: a tag per kind, then keys and values; positions and styles left out. */
static uint64_t hash_node(uint64_t h, const dr_node *n)
{
	if (!n)
		return hash_str(h, "\001absent");
	switch (n->kind) {
	case DR_NODE_SCALAR:
		h = hash_str(h, "\x02s");
		return dr_fnv1a(h, n->u.scalar.str, n->u.scalar.len);
	case DR_NODE_MAP:
		h = hash_str(h, "\x02m");
		for (size_t i = 0; i < n->u.map.n; i++)
			h = hash_node(hash_node(h, n->u.map.items[i].key), n->u.map.items[i].value);
		return hash_str(h, "\x03");
	case DR_NODE_SEQ:
		h = hash_str(h, "\x02q");
		for (size_t i = 0; i < n->u.seq.n; i++)
			h = hash_node(h, n->u.seq.items[i]);
		return hash_str(h, "\x03");
	}
	return h;
}

/* 16 lower-case hex digits, as "%016" PRIx64 writes them, by hand: the header has seven per step. */
static void hex(uint64_t h, char *out, size_t outsz)
{
	static const char digits[] = "0123456789abcdef";
	char text[16];
	for (int i = 15; i >= 0; i--, h >>= 4)
		text[i] = digits[h & 15];
	if (!outsz)
		return;
	size_t n = outsz > 16 ? 16 : outsz - 1; /* cut as snprintf cuts */
	memcpy(out, text, n);
	out[n] = '\0';
}

void dr_journal_node_digest(const dr_node *n, char *out, size_t outsz)
{
	hex(hash_node(DR_FNV_INIT, n), out, outsz);
}

/* Keys of a step that have a part of their own; everything else is "policy". */
static const char *const own_parts[] = {"id", "name", "description", "action", "use", "with", "needs",
					"targets", "foreach", "when", "rollback", NULL};

static bool is_own_part(const char *key)
{
	for (size_t i = 0; own_parts[i]; i++)
		if (!strcmp(own_parts[i], key))
			return true;
	return false;
}

static uint64_t hash_policy(const dr_node *step)
{
	uint64_t h = DR_FNV_INIT;
	for (size_t i = 0; step && step->kind == DR_NODE_MAP && i < step->u.map.n; i++) {
		const dr_pair *p = &step->u.map.items[i];
		if (!is_own_part(dr_node_str(p->key)))
			h = hash_node(hash_node(h, p->key), p->value);
	}
	return h;
}

static uint64_t hash_refs(const dr_ref *r, size_t n, bool foreach)
{
	uint64_t h = hash_str(DR_FNV_INIT, foreach ? "foreach" : "targets");
	for (size_t i = 0; i < n; i++)
		h = hash_str(h, r[i].name);
	return h;
}

static void add_hex(cJSON *o, const char *key, uint64_t h)
{
	char d[20];
	hex(h, d, sizeof d);
	cJSON_AddStringToObject(o, key, d);
}

static cJSON *step_entry(const dr_step *st)
{
	cJSON *e = cJSON_CreateObject(), *parts = cJSON_CreateObject();
	const char *action = st->action_name.name && *st->action_name.name ? st->action_name.name : st->use.name;
	cJSON_AddStringToObject(e, "action", action ? action : "");
	uint64_t with = hash_node(hash_node(DR_FNV_INIT, st->with), st->composite_with);
	uint64_t h[] = {with, hash_refs(st->needs, st->n_needs, false), hash_refs(st->targets, st->n_targets, st->foreach),
			hash_node(DR_FNV_INIT, st->when), hash_node(DR_FNV_INIT, dr_node_get(st->node, "rollback")),
			hash_policy(st->node)};
	static const char *const names[] = {"with", "needs", "targets", "when", "rollback", "policy"};
	uint64_t all = hash_str(DR_FNV_INIT, action);
	for (size_t i = 0; i < sizeof h / sizeof h[0]; i++) {
		add_hex(parts, names[i], h[i]);
		all = dr_fnv1a(all, &h[i], sizeof h[i]);
	}
	add_hex(e, "digest", all);
	cJSON_AddItemToObject(e, "parts", parts);
	return e;
}

static const char *const sections[] = {"params", "secrets", "vm_sets", "backend", "recovery",
				       "objectives", "defaults", "on_failure", NULL};

cJSON *dr_journal_runbook_digests(const dr_runbook *rb)
{
	cJSON *o = cJSON_CreateObject(), *steps = cJSON_AddObjectToObject(o, "steps");
	for (size_t i = 0; i < rb->n_steps; i++)
		cJSON_AddItemToObject(steps, rb->steps[i].id.name, step_entry(&rb->steps[i]));
	for (size_t i = 0; i < rb->n_finally; i++) {
		cJSON *e = step_entry(&rb->finally_steps[i]);
		cJSON_AddBoolToObject(e, "finally", true);
		cJSON_AddItemToObject(steps, rb->finally_steps[i].id.name, e);
	}
	cJSON *sec = cJSON_AddObjectToObject(o, "sections");
	for (size_t i = 0; sections[i]; i++)
		add_hex(sec, sections[i], hash_node(DR_FNV_INIT, dr_node_get(rb->root, sections[i])));
	return o;
}

static const char *str_of(const cJSON *o, const char *key)
{
	const char *s = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
	return s ? s : "";
}

/* "with, needs": the parts of a step that differ. */
static void changed_parts(const cJSON *a, const cJSON *b, dr_buf *out)
{
	const cJSON *pa = cJSON_GetObjectItemCaseSensitive(a, "parts"), *pb = cJSON_GetObjectItemCaseSensitive(b, "parts");
	size_t n = 0;
	if (strcmp(str_of(a, "action"), str_of(b, "action")))
		dr_buf_printf(out, "%saction %s -> %s", n++ ? ", " : "", str_of(a, "action"), str_of(b, "action"));
	for (const cJSON *p = pa ? pa->child : NULL; p; p = p->next)
		if (strcmp(str_of(pa, p->string), str_of(pb, p->string)))
			dr_buf_printf(out, "%s%s", n++ ? ", " : "", p->string);
	if (!n)
		dr_buf_puts(out, "changed");
}

static size_t diff_steps(const cJSON *before, const cJSON *after, dr_buf *out)
{
	size_t n = 0;
	for (const cJSON *s = before ? before->child : NULL; s; s = s->next) {
		const cJSON *now = cJSON_GetObjectItemCaseSensitive(after, s->string);
		if (!now) {
			dr_buf_printf(out, "  - step %s (%s): removed\n", s->string, str_of(s, "action"));
			n++;
		} else if (strcmp(str_of(s, "digest"), str_of(now, "digest"))) {
			dr_buf_printf(out, "  ~ step %s (%s): ", s->string, str_of(now, "action"));
			changed_parts(s, now, out);
			dr_buf_putc(out, '\n');
			n++;
		}
	}
	for (const cJSON *s = after ? after->child : NULL; s; s = s->next)
		if (!cJSON_GetObjectItemCaseSensitive(before, s->string)) {
			dr_buf_printf(out, "  + step %s (%s): added\n", s->string, str_of(s, "action"));
			n++;
		}
	return n;
}

size_t dr_journal_runbook_diff(const cJSON *before, const cJSON *after, dr_buf *out)
{
	size_t n = diff_steps(cJSON_GetObjectItemCaseSensitive(before, "steps"),
			      cJSON_GetObjectItemCaseSensitive(after, "steps"), out);
	const cJSON *sa = cJSON_GetObjectItemCaseSensitive(before, "sections");
	const cJSON *sb = cJSON_GetObjectItemCaseSensitive(after, "sections");
	for (const cJSON *s = sa ? sa->child : NULL; s; s = s->next)
		if (strcmp(str_of(sa, s->string), str_of(sb, s->string))) {
			dr_buf_printf(out, "  ~ %s: changed\n", s->string);
			n++;
		}
	return n;
}

/* --- writer ------------------------------------------------------------ */

typedef enum kill_mode { KILL_NONE, KILL_AFTER_SYNC, KILL_BEFORE, KILL_TORN } kill_mode;

struct dr_journal {
	int fd;
	char *path;
	pthread_mutex_t mu;
	dr_buf pending; /* lines appended, not written yet */
	uint64_t appended, written, durable; /* records: appended; write()n to the file; fdatasync'ed */
	bool failed;
	dr_journal_stats st;
	kill_mode kill;
	uint64_t kill_at;
	size_t kill_off, kill_len; /* torn: where record kill_at sits in pending */
	int version; /* the file's format version: how records are written */
	/* version 3 (journal_compact.c): what is held back to be folded into a task's line */
	struct held_start {
		char *step;
		int64_t t_ms;
		bool out; /* written or folded since */
	} *starts; /* step.starts of one-task steps, in order, waiting for their task.start */
	size_t n_starts, cap_starts;
	dr_strmap start_ix; /* step -> index in starts (keys: the steps' strings above) */
	dr_buf end; /* a task.end's line (no newline), waiting for its one-task step's step.end; len 0: none */
	char *end_step;
	int64_t end_t, end_elapsed;
	int64_t last_t; /* the t_ms of the last line (-1: unknown) */
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static dr_journal *journal_new(int fd, const char *path, int version)
{
	dr_journal *j = xcalloc(1, sizeof *j);
	j->fd = fd;
	j->version = version;
	j->path = xstrdup(path);
	pthread_mutex_init(&j->mu, NULL);
	dr_buf_init(&j->pending);
	dr_buf_init(&j->end);
	j->last_t = -1;
	return j;
}

static void drop_starts(dr_journal *j)
{
	dr_strmap_dispose(&j->start_ix);
	for (size_t i = 0; i < j->n_starts; i++)
		free(j->starts[i].step);
	j->n_starts = 0;
}

static void journal_free(dr_journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	drop_starts(j);
	free(j->starts);
	dr_buf_dispose(&j->end);
	free(j->end_step);
	dr_buf_dispose(&j->pending);
	pthread_mutex_destroy(&j->mu);
	free(j->path);
	free(j);
}

dr_journal *dr_journal_create(const char *dir, const cJSON *header, dr_buf *err)
{
	if (dr_fs_mkdirs(dir, err) < 0)
		return NULL;
	dr_buf path, line;
	dr_buf_init(&path);
	dr_buf_init(&line);
	dr_buf_printf(&path, "%s/%s", dir, DR_JOURNAL_FILE);
	dr_json_print(&line, header);
	dr_buf_putc(&line, '\n');
	/* the header is published whole or not at all: a journal never exists without it */
	int fd = -1;
	if (dr_fs_write_atomic(path.data, line.data, line.len, DR_FS_EXCLUSIVE, NULL) == 0)
		fd = open(path.data, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
	dr_journal *j = NULL;
	if (fd < 0) {
		dr_buf_printf(err, "cannot create the journal '%s': %s", path.data, strerror(errno));
	} else {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(header, "version");
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(header, "t_ms");
		j = journal_new(fd, path.data, cJSON_IsNumber(v) ? (int)v->valuedouble : DR_JOURNAL_VERSION);
		j->last_t = cJSON_IsNumber(t) ? (int64_t)t->valuedouble : -1;
		j->appended = j->written = j->durable = j->st.records = j->st.syncs = 1;
		j->st.bytes = line.len;
		dr_fs_sync_parent(dir); /* runs/ holds the new run directory */
	}
	dr_buf_dispose(&path);
	dr_buf_dispose(&line);
	return j;
}

dr_journal *dr_journal_reopen(const char *path, off_t valid_bytes, int version, dr_buf *err)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0) {
		dr_buf_printf(err, "cannot open the journal '%s': %s", path, strerror(errno));
		return NULL;
	}
	struct stat sb;
	if (fstat(fd, &sb) == 0 && sb.st_size > valid_bytes &&
	    (ftruncate(fd, valid_bytes) != 0 || fdatasync(fd) != 0)) {
		dr_buf_printf(err, "cannot cut the torn last line off the journal '%s': %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	return journal_new(fd, path, version);
}

static void kill_now(void)
{
	raise(SIGKILL);
	_exit(137); /* not reached */
}

/* One whole line into the pending batch (under mu): numbered, and where the kill hooks look. */
static void put_line(dr_journal *j, const char *text, size_t len)
{
	uint64_t n = ++j->appended;
	if (j->kill != KILL_NONE && n == j->kill_at) {
		if (j->kill == KILL_BEFORE)
			kill_now();
		j->kill_off = j->pending.len;
		j->kill_len = len + 1;
	}
	dr_buf_append(&j->pending, text, len);
	dr_buf_putc(&j->pending, '\n');
}

static bool is_type(const char *type, const char *want)
{
	return type && !strcmp(type, want);
}

static void put_record(dr_journal *j, const cJSON *rec, bool folded)
{
	dr_buf line;
	dr_buf_init(&line);
	dr_journal_compact_line3(&line, rec, folded, &j->last_t);
	put_line(j, line.data, line.len);
	dr_buf_dispose(&line);
}

/* The held step.start of step (its index in starts), or (size_t)-1. */
static size_t start_of(const dr_journal *j, const char *step)
{
	size_t i;
	return dr_strmap_get(&j->start_ix, step, &i) && !j->starts[i].out ? i : (size_t)-1;
}

/* Write held step.start i as its own line. */
static void put_start(dr_journal *j, size_t i)
{
	cJSON *rec = cJSON_CreateObject();
	cJSON_AddNumberToObject(rec, "t_ms", (double)j->starts[i].t_ms);
	cJSON_AddStringToObject(rec, "event", "step.start");
	cJSON_AddStringToObject(rec, "step", j->starts[i].step);
	cJSON_AddNumberToObject(rec, "tasks", 1);
	put_record(j, rec, false);
	cJSON_Delete(rec);
	j->starts[i].out = true;
}

static void put_starts(dr_journal *j)
{
	for (size_t i = 0; i < j->n_starts; i++)
		if (!j->starts[i].out)
			put_start(j, i);
	drop_starts(j);
}

static void put_end(dr_journal *j, bool folded)
{
	if (!j->end.len)
		return;
	if (folded) { /* "...}" -> "...,"tasks":1}" */
		j->end.len--;
		dr_buf_puts(&j->end, ",\"tasks\":1}");
	}
	put_line(j, j->end.data, j->end.len);
	dr_buf_reset(&j->end);
	free(j->end_step);
	j->end_step = NULL;
}

/* Everything held back goes out as it is, in order: before a write, or a record of the run as a whole. */
static void put_held(dr_journal *j)
{
	put_end(j, false);
	put_starts(j);
}

/* What append3 looks at in a record, found in one pass over its fields (-1: absent, or not a count). */
typedef struct recf {
	const char *type, *step, *status;
	int64_t t_ms, elapsed_ms, tasks, n[4]; /* n: succeeded, failed, skipped, cancelled */
	bool phase; /* a phase or undoes: not the main phase */
	bool other; /* a field that is none of ts, t_ms, event, step, status, tasks, the counts, elapsed_ms */
} recf;

static int64_t count_of(const cJSON *v)
{
	return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 9007199254740992.0 ? (int64_t)v->valuedouble
											       : -1;
}

static void read_fields(const cJSON *rec, recf *f)
{
	static const char *const counts[] = {"succeeded", "failed", "skipped", "cancelled"};
	*f = (recf){.t_ms = -1, .elapsed_ms = -1, .tasks = -1, .n = {-1, -1, -1, -1}};
	for (const cJSON *c = rec->child; c; c = c->next) {
		const char *k = c->string ? c->string : "";
		size_t i = 0;
		if (!strcmp(k, "event") || !strcmp(k, "step") || !strcmp(k, "status")) {
			const char **to = k[0] == 'e' ? &f->type : k[1] == 't' && k[2] == 'e' ? &f->step : &f->status;
			*to = cJSON_IsString(c) ? c->valuestring : NULL;
		} else if (!strcmp(k, "t_ms")) {
			f->t_ms = count_of(c);
		} else if (!strcmp(k, "elapsed_ms")) {
			f->elapsed_ms = count_of(c);
		} else if (!strcmp(k, "tasks")) {
			f->tasks = count_of(c);
		} else if (!strcmp(k, "phase") || !strcmp(k, "undoes")) {
			f->phase = f->other = true;
		} else if (strcmp(k, "ts")) {
			while (i < 4 && strcmp(k, counts[i]))
				i++;
			if (i < 4)
				f->n[i] = count_of(c);
			else
				f->other = true;
		}
	}
}

static bool no_counts(const recf *f)
{
	return f->n[0] < 0 && f->n[1] < 0 && f->n[2] < 0 && f->n[3] < 0;
}

/* A step.start of a one-task step in the main phase: nothing the task.start's line cannot say. */
static bool start_foldable(const recf *f)
{
	return f->tasks == 1 && f->step && f->t_ms >= 0 && !f->other && !f->status && f->elapsed_ms < 0 && no_counts(f);
}

/* A succeeded task.end of the main phase, which its step's step.end may follow. */
static bool end_holdable(const recf *f)
{
	return f->step && is_type(f->status, "succeeded") && f->t_ms >= 0 && !f->phase && f->tasks < 0;
}

/* rec is exactly the step.end the held task.end stands for (dr_journal_unfold). */
static bool end_folds(const dr_journal *j, const recf *f)
{
	return !f->other && is_type(f->step, j->end_step) && is_type(f->status, "succeeded") && f->t_ms == j->end_t &&
	       f->elapsed_ms == j->end_elapsed && f->tasks == 1 && f->n[0] == 1 && f->n[1] == 0 && f->n[2] == 0 &&
	       f->n[3] == 0;
}

static void hold_start(dr_journal *j, const recf *f)
{
	if (j->n_starts == j->cap_starts) {
		j->cap_starts = j->cap_starts ? 2 * j->cap_starts : 64;
		j->starts = xrealloc(j->starts, j->cap_starts * sizeof *j->starts);
	}
	j->starts[j->n_starts] = (struct held_start){xstrdup(f->step), f->t_ms, false};
	dr_strmap_put(&j->start_ix, j->starts[j->n_starts].step, j->n_starts);
	j->n_starts++;
}

static void hold_end(dr_journal *j, const cJSON *rec, const recf *f)
{
	dr_journal_compact_line3(&j->end, rec, false, &j->last_t);
	j->end_step = xstrdup(f->step);
	j->end_t = f->t_ms;
	j->end_elapsed = cJSON_GetObjectItemCaseSensitive(rec, "elapsed_ms") ? f->elapsed_ms : 0; /* left out: 0 */
}

/*
 * Version 3 (under mu): a one-task step's step.start waits for its
 * task.start and its step.end folds into the task.end just before it
 * (docs/journal.md, "Version 3"). Step and task records of other steps
 * may pass a held step.start (each step's own records keep their order);
 * any other record (run.*, approval.*, ...), or a write, lets everything
 * held out first.
 */
static void append3(dr_journal *j, const cJSON *rec)
{
	recf f;
	read_fields(rec, &f);
	if (j->end.len && is_type(f.type, "step.end") && end_folds(j, &f)) {
		put_end(j, true);
		return;
	}
	put_end(j, false);
	if (!f.step || !f.type || (strncmp(f.type, "step.", 5) && strncmp(f.type, "task.", 5))) {
		put_starts(j);
	} else if (is_type(f.type, "step.start") && start_foldable(&f) && start_of(j, f.step) == (size_t)-1) {
		hold_start(j, &f);
		return;
	}
	size_t i = f.step && j->n_starts ? start_of(j, f.step) : (size_t)-1;
	if (i != (size_t)-1 && is_type(f.type, "task.start") && f.t_ms == j->starts[i].t_ms && !f.phase && f.tasks < 0) {
		j->starts[i].out = true;
		put_record(j, rec, true);
		return;
	}
	if (i != (size_t)-1)
		put_start(j, i);
	if (is_type(f.type, "task.end") && end_holdable(&f))
		hold_end(j, rec, &f);
	else
		put_record(j, rec, false);
}

uint64_t dr_journal_append(dr_journal *j, const cJSON *rec)
{
	if (j->version >= 3) {
		pthread_mutex_lock(&j->mu);
		append3(j, rec);
		j->st.records++;
		uint64_t n = j->appended;
		pthread_mutex_unlock(&j->mu);
		return n;
	}
	dr_buf line;
	dr_buf_init(&line);
	if (j->version >= 2) {
		dr_journal_compact_line(&line, rec);
	} else {
		char *text = cJSON_PrintUnformatted(rec);
		if (!text)
			abort(); /* cJSON fails only when out of memory */
		dr_buf_puts(&line, text);
		cJSON_free(text);
	}
	pthread_mutex_lock(&j->mu);
	put_line(j, line.data, line.len);
	j->st.records++;
	uint64_t n = j->appended;
	pthread_mutex_unlock(&j->mu);
	dr_buf_dispose(&line);
	return n;
}

bool dr_journal_pending(dr_journal *j)
{
	pthread_mutex_lock(&j->mu);
	bool p = j->pending.len > 0 || j->end.len > 0 || j->n_starts > 0;
	pthread_mutex_unlock(&j->mu);
	return p;
}

/* The torn hook: write the batch up to the middle of record kill_at, make that durable, die. */
static void write_torn(dr_journal *j, const dr_buf *batch, size_t off, size_t len)
{
	size_t cut = off + (len > 2 ? len / 2 : 1);
	if (cut > batch->len)
		cut = batch->len;
	if (dr_fs_write_all(j->fd, batch->data, cut) == 0)
		fdatasync(j->fd);
	kill_now();
}

/* Write what is pending, then fdatasync it when sync; the kill hooks of the torture tests apply to both. */
static int write_pending(dr_journal *j, bool sync, dr_buf *err)
{
	pthread_mutex_lock(&j->mu);
	put_held(j);
	dr_buf batch = j->pending;
	dr_buf_init(&j->pending);
	uint64_t last = j->appended, first = j->written + 1;
	size_t koff = j->kill_off, klen = j->kill_len;
	bool failed = j->failed;
	pthread_mutex_unlock(&j->mu);
	bool hooked = j->kill != KILL_NONE && j->kill_at >= first && j->kill_at <= last;
	if (hooked && j->kill == KILL_TORN)
		write_torn(j, &batch, koff, klen);
	int rc = 0;
	int64_t t0 = mono_ns();
	if (failed || (batch.len && dr_fs_write_all(j->fd, batch.data, batch.len) < 0) ||
	    (sync && j->durable < last && fdatasync(j->fd) < 0)) {
		if (err)
			dr_buf_printf(err, "cannot write the journal '%s': %s", j->path,
				      failed ? "an earlier write failed" : strerror(errno));
		j->failed = true;
		rc = -1;
	} else {
		int64_t dt = mono_ns() - t0;
		j->st.bytes += batch.len;
		j->written = last;
		if (sync && j->durable < last) {
			j->st.syncs++;
			j->st.sync_ns += dt;
			if (dt > j->st.max_sync_ns)
				j->st.max_sync_ns = dt;
			j->durable = last;
		} else if (batch.len) {
			j->st.writes++;
		}
	}
	dr_buf_dispose(&batch);
	if (rc == 0 && hooked && j->kill == KILL_AFTER_SYNC)
		kill_now();
	return rc;
}

int dr_journal_sync(dr_journal *j, dr_buf *err)
{
	return write_pending(j, true, err);
}

int dr_journal_write(dr_journal *j, dr_buf *err)
{
	return write_pending(j, false, err);
}

size_t dr_journal_pending_bytes(dr_journal *j)
{
	pthread_mutex_lock(&j->mu);
	size_t n = j->pending.len;
	pthread_mutex_unlock(&j->mu);
	return n;
}

uint64_t dr_journal_durable(dr_journal *j)
{
	return j->durable;
}

int dr_journal_close(dr_journal *j, dr_buf *err)
{
	if (!j)
		return 0;
	int rc = dr_journal_sync(j, err);
	journal_free(j);
	return rc;
}

void dr_journal_discard(dr_journal *j)
{
	if (j)
		journal_free(j);
}

void dr_journal_stats_get(dr_journal *j, dr_journal_stats *out)
{
	*out = j->st;
}

int dr_journal_set_kill_hook(dr_journal *j, const char *spec, dr_buf *err)
{
	if (!spec || !*spec)
		return 0;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(spec, &end, 10);
	kill_mode m = !*end ? KILL_AFTER_SYNC : !strcmp(end, ":before") ? KILL_BEFORE : !strcmp(end, ":torn") ? KILL_TORN
													  : KILL_NONE;
	if (errno || end == spec || n == 0 || m == KILL_NONE || *spec == '-') {
		dr_buf_printf(err, "DROVER_TEST_KILL_AT='%s': expected N, N:before or N:torn (N >= 1)", spec);
		return -1;
	}
	j->kill = m;
	j->kill_at = n;
	return 0;
}

/* --- paths ------------------------------------------------------------- */

static bool id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
	       c == '-';
}

bool dr_journal_run_id_ok(const char *id, dr_buf *err)
{
	size_t n = strlen(id), i = 0;
	while (i < n && id_char(id[i]))
		i++;
	bool first = n && id_char(id[0]) && id[0] != '.' && id[0] != '-' && id[0] != '_';
	if (i == n && first && n <= DR_RUN_ID_MAX)
		return true;
	dr_buf_puts(err, "'");
	for (size_t k = 0; k < n && k < 80; k++) /* shown with control characters escaped */
		dr_buf_printf(err, (unsigned char)id[k] < 32 || id[k] == 127 ? "\\x%02x" : "%c", (unsigned char)id[k]);
	dr_buf_printf(err, "%s' is not a run id: a run id is 1 to %d letters, digits, '.', '_' and '-', starting with a "
			   "letter or a digit",
		      n > 80 ? "..." : "", DR_RUN_ID_MAX);
	return false;
}

char *dr_journal_path(const char *state_dir, const char *run_id)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s/runs/%s/%s", state_dir, run_id, DR_JOURNAL_FILE);
	return dr_buf_detach(&b);
}

const char *dr_journal_state_dir(const char *explicit_dir)
{
	if (explicit_dir && *explicit_dir)
		return explicit_dir;
	const char *env = getenv("DROVER_STATE_DIR");
	return env && *env ? env : ".drover";
}

const char *dr_journal_command(dr_buf *b, const char *verb, const char *state_dir, const char *run)
{
	dr_buf_printf(b, "drover %s", verb);
	if (state_dir && strcmp(state_dir, dr_journal_state_dir(NULL))) {
		dr_buf_puts(b, " --state-dir ");
		dr_text_shell_word(b, state_dir);
	}
	if (run) {
		dr_buf_putc(b, ' ');
		dr_text_shell_word(b, run);
	}
	return b->data;
}
