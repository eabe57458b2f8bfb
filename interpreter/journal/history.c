/*
 * history.c - the duration history (history.h): per (action, VM), how long
 * successful attempts took, kept in <state-dir>/history.json and read by
 * the executor to start the longest expected tasks first (order.c).
 *
 * In memory: a vector of entries and an open-addressing index over it
 * (FNV-1a of "action\0vm"). On disk: one JSON object, entries sorted by
 * action then VM, one per line, so the file diffs well and stays small
 * (about 70 bytes per entry, at most DR_HISTORY_MAX_ENTRIES of them).
 * Reading never trusts the file: anything that is not a well-formed
 * history of this version is left out with a warning.
 */
#include "journal/history.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util/fs.h"
#include "util/xalloc.h"

typedef struct slot {
	char *action, *vm;
	dr_history_entry e;
} slot;

struct dr_history {
	slot *v;
	size_t n, cap;
	size_t *index; /* positions in v plus one; 0: free */
	size_t index_cap; /* a power of two, at least twice n */
	int64_t updates; /* how many saves made this file */
	bool sorted;
	bool read_only;
};

/* --- the index ------------------------------------------------------- */

static uint64_t key_hash(const char *action, const char *vm)
{
	uint64_t h = 1469598103934665603ULL;
	for (const char *p = action; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ 0xffU) * 1099511628211ULL; /* a separator no name holds */
	for (const char *p = vm; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

static size_t *find_slot(const dr_history *h, const char *action, const char *vm)
{
	size_t mask = h->index_cap - 1;
	for (size_t i = key_hash(action, vm) & mask;; i = (i + 1) & mask) {
		size_t at = h->index[i];
		if (!at || (!strcmp(h->v[at - 1].action, action) && !strcmp(h->v[at - 1].vm, vm)))
			return &h->index[i];
	}
}

static void reindex(dr_history *h)
{
	size_t cap = 64;
	while (cap < 2 * h->n + 2)
		cap *= 2;
	free(h->index);
	h->index = xcalloc(cap, sizeof *h->index);
	h->index_cap = cap;
	for (size_t i = 0; i < h->n; i++)
		*find_slot(h, h->v[i].action, h->v[i].vm) = i + 1;
}

static slot *lookup(const dr_history *h, const char *action, const char *vm)
{
	if (!h || !h->n || !action || !vm)
		return NULL;
	size_t at = *find_slot(h, action, vm);
	return at ? &h->v[at - 1] : NULL;
}

static slot *insert(dr_history *h, const char *action, const char *vm)
{
	slot *s = lookup(h, action, vm);
	if (s)
		return s;
	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 64;
		h->v = xrealloc(h->v, h->cap * sizeof *h->v);
	}
	s = &h->v[h->n++];
	*s = (slot){.action = xstrdup(action), .vm = xstrdup(vm)};
	s->e.action = s->action;
	s->e.vm = s->vm;
	h->sorted = false;
	if (2 * h->n + 2 > h->index_cap)
		reindex(h);
	else
		*find_slot(h, action, vm) = h->n;
	return s;
}

/* --- the history ----------------------------------------------------- */

dr_history *dr_history_new(void)
{
	dr_history *h = xcalloc(1, sizeof *h);
	reindex(h);
	h->sorted = true;
	return h;
}

static void clear(dr_history *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].action);
		free(h->v[i].vm);
	}
	h->n = 0;
	h->updates = 0;
	h->read_only = false;
	h->sorted = true;
	reindex(h);
}

void dr_history_free(dr_history *h)
{
	if (!h)
		return;
	clear(h);
	free(h->v);
	free(h->index);
	free(h);
}

int64_t dr_history_expect(const dr_history *h, const char *action, const char *vm)
{
	const slot *s = lookup(h, action, vm);
	return s ? s->e.ewma_ms : -1;
}

const dr_history_entry *dr_history_get(const dr_history *h, const char *action, const char *vm)
{
	const slot *s = lookup(h, action, vm);
	return s ? &s->e : NULL;
}

void dr_history_note(dr_history *h, const char *action, const char *vm, int64_t ms)
{
	if (!h || !action || !vm || ms < 0)
		return;
	slot *s = insert(h, action, vm);
	dr_history_entry *e = &s->e;
	e->ewma_ms = e->n ? llround(DR_HISTORY_ALPHA * (double)ms + (1 - DR_HISTORY_ALPHA) * (double)e->ewma_ms) : ms;
	e->last_ms = ms;
	e->n++;
	e->seen = h->updates + 1;
}

void dr_history_set(dr_history *h, const dr_history_entry *e)
{
	if (!h || !e || !e->action || !e->vm)
		return;
	slot *s = insert(h, e->action, e->vm);
	s->e = *e;
	s->e.action = s->action;
	s->e.vm = s->vm;
}

size_t dr_history_count(const dr_history *h)
{
	return h ? h->n : 0;
}

bool dr_history_read_only(const dr_history *h)
{
	return h && h->read_only;
}

static int by_key(const void *a, const void *b)
{
	const slot *x = a, *y = b;
	int c = strcmp(x->action, y->action);
	return c ? c : strcmp(x->vm, y->vm);
}

static int by_recency(const void *a, const void *b)
{
	const slot *x = a, *y = b;
	if (x->e.seen != y->e.seen)
		return x->e.seen > y->e.seen ? -1 : 1;
	return by_key(a, b);
}

static void sort_by_key(dr_history *h)
{
	if (h->sorted)
		return;
	qsort(h->v, h->n, sizeof *h->v, by_key);
	for (size_t i = 0; i < h->n; i++) { /* the entries moved: their name pointers with them */
		h->v[i].e.action = h->v[i].action;
		h->v[i].e.vm = h->v[i].vm;
	}
	reindex(h);
	h->sorted = true;
}

const dr_history_entry *dr_history_at(dr_history *h, size_t i)
{
	if (!h || i >= h->n)
		return NULL;
	sort_by_key(h);
	return &h->v[i].e;
}

/* Keep the max most recently updated entries. */
static void evict(dr_history *h, size_t max)
{
	if (h->n <= max)
		return;
	qsort(h->v, h->n, sizeof *h->v, by_recency);
	for (size_t i = max; i < h->n; i++) {
		free(h->v[i].action);
		free(h->v[i].vm);
	}
	h->n = max;
	h->sorted = false;
	sort_by_key(h);
}

/* --- reading --------------------------------------------------------- */

static bool whole_number(const cJSON *o, const char *key, int64_t min, int64_t *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble < (double)min || v->valuedouble > 9e15)
		return false;
	*out = (int64_t)v->valuedouble;
	return (double)*out == v->valuedouble;
}

static bool read_entry(dr_history *h, const char *action, const cJSON *item)
{
	dr_history_entry e = {.action = action, .vm = item->string};
	if (!cJSON_IsObject(item) || !item->string || !*item->string || !whole_number(item, "ewma_ms", 0, &e.ewma_ms) ||
	    !whole_number(item, "last_ms", 0, &e.last_ms) || !whole_number(item, "n", 1, &e.n) ||
	    !whole_number(item, "seen", 0, &e.seen))
		return false;
	dr_history_set(h, &e);
	return true;
}

/* The entries of the "durations" object; returns how many were malformed. */
static size_t read_durations(dr_history *h, const cJSON *durations)
{
	size_t bad = 0;
	const cJSON *per_action;
	cJSON_ArrayForEach(per_action, durations) {
		if (!cJSON_IsObject(per_action) || !per_action->string || !*per_action->string) {
			bad++;
			continue;
		}
		const cJSON *item;
		cJSON_ArrayForEach(item, per_action)
			bad += !read_entry(h, per_action->string, item);
	}
	return bad;
}

static char *read_text(const char *path, size_t *len, dr_buf *warn)
{
	dr_buf b;
	dr_buf_init(&b);
	if (dr_fs_read_all(path, DR_HISTORY_MAX_BYTES, &b) < 0) {
		if (errno == EFBIG)
			dr_buf_printf(warn, "%s is too big to be a duration history", path);
		else if (errno != ENOENT)
			dr_buf_printf(warn, "%s cannot be read (%s)", path, strerror(errno));
		dr_buf_dispose(&b);
		return NULL;
	}
	*len = b.len;
	return dr_buf_detach(&b);
}

/* Check the header of root; -1 with a warning when it is not a history h can use. */
static int check_header(dr_history *h, const cJSON *root, const char *path, dr_buf *warn)
{
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(root, "format");
	int64_t version = 0;
	if (!cJSON_IsObject(root) || !cJSON_IsString(fmt) || strcmp(fmt->valuestring, DR_HISTORY_FORMAT) ||
	    !whole_number(root, "version", 1, &version)) {
		dr_buf_printf(warn, "%s is not a drover duration history (no \"format\": \"%s\" with a \"version\")", path,
			      DR_HISTORY_FORMAT);
		return -1;
	}
	if (version > DR_HISTORY_VERSION) {
		h->read_only = true;
		dr_buf_printf(warn, "%s is of format version %lld, newer than this drover's (%d): not used, and left as it is",
			      path, (long long)version, DR_HISTORY_VERSION);
		return -1;
	}
	if (!whole_number(root, "updates", 0, &h->updates) ||
	    !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "durations"))) {
		dr_buf_printf(warn, "%s is damaged: \"updates\" or \"durations\" is missing or of the wrong type", path);
		return -1;
	}
	return 0;
}

int dr_history_load(dr_history *h, const char *path, dr_buf *warn)
{
	clear(h);
	size_t len = 0;
	size_t before = warn->len;
	char *text = read_text(path, &len, warn);
	if (!text)
		return warn->len > before ? -1 : 0;
	const char *end = NULL;
	cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	int rc = 0;
	if (!root) {
		dr_buf_printf(warn, "%s is damaged: not valid JSON (at byte %zu)", path, end ? (size_t)(end - text) : (size_t)0);
		rc = -1;
	} else if ((rc = check_header(h, root, path, warn)) == 0) {
		size_t bad = read_durations(h, cJSON_GetObjectItemCaseSensitive(root, "durations"));
		if (bad) {
			dr_buf_printf(warn, "%s: %zu malformed entr%s left out", path, bad, bad == 1 ? "y" : "ies");
			rc = 1;
		}
	}
	if (rc < 0) {
		bool ro = h->read_only;
		clear(h);
		h->read_only = ro;
	}
	cJSON_Delete(root);
	free(text);
	return rc;
}

/* --- writing --------------------------------------------------------- */

static void put_string(dr_buf *b, const char *s)
{
	dr_buf_putc(b, '"');
	dr_buf_json_escape(b, s, strlen(s));
	dr_buf_putc(b, '"');
}

static void render(dr_history *h, dr_buf *b)
{
	sort_by_key(h);
	dr_buf_printf(b, "{\"format\":\"%s\",\"version\":%d,\"updates\":%lld,\"durations\":{", DR_HISTORY_FORMAT,
		      DR_HISTORY_VERSION, (long long)h->updates);
	for (size_t i = 0; i < h->n; i++) {
		const slot *s = &h->v[i];
		bool first_of_action = i == 0 || strcmp(h->v[i - 1].action, s->action) != 0;
		if (first_of_action) {
			dr_buf_puts(b, i ? "\n },\n " : "\n ");
			put_string(b, s->action);
			dr_buf_puts(b, ": {\n  ");
		} else {
			dr_buf_puts(b, ",\n  ");
		}
		put_string(b, s->vm);
		dr_buf_printf(b, ": {\"ewma_ms\":%lld,\"last_ms\":%lld,\"n\":%lld,\"seen\":%lld}", (long long)s->e.ewma_ms,
			      (long long)s->e.last_ms, (long long)s->e.n, (long long)s->e.seen);
	}
	dr_buf_puts(b, h->n ? "\n }\n}}\n" : "}}\n");
}

static int write_atomic(const char *path, const dr_buf *text, dr_buf *err)
{
	int rc = dr_fs_write_atomic(path, text->data, text->len, 0, NULL);
	if (rc < 0)
		dr_buf_printf(err, "%s cannot be written (%s)", path, strerror(errno));
	return rc;
}

int dr_history_save(dr_history *h, const char *path, dr_buf *err)
{
	if (h->read_only) {
		dr_buf_printf(err, "%s is of a newer format: not replaced", path);
		return -1;
	}
	h->updates++;
	evict(h, DR_HISTORY_MAX_ENTRIES);
	dr_buf text;
	dr_buf_init(&text);
	render(h, &text);
	int rc = write_atomic(path, &text, err);
	dr_buf_dispose(&text);
	return rc;
}

/* --- merging a run's samples ----------------------------------------- */

static int lock_history(const char *path)
{
	dr_buf lock;
	dr_buf_init(&lock);
	dr_buf_printf(&lock, "%s.lock", path);
	dr_fs_mkdirs_parent(path, NULL);
	int fd = open(lock.data, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	dr_buf_dispose(&lock);
	if (fd >= 0 && flock(fd, LOCK_EX) < 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* Load path for a merge: a damaged file is moved aside to <path>.bad (said in warn). */
static int load_for_merge(dr_history *h, const char *path, dr_buf *warn)
{
	dr_buf ignored;
	dr_buf_init(&ignored);
	int rc = dr_history_load(h, path, &ignored);
	dr_buf_dispose(&ignored);
	if (rc >= 0)
		return 0;
	if (h->read_only) {
		dr_buf_printf(warn, "%s is of a newer format version: this run's durations were not recorded", path);
		return -1;
	}
	dr_buf bad;
	dr_buf_init(&bad);
	dr_buf_printf(&bad, "%s.bad", path);
	if (rename(path, bad.data) == 0)
		dr_buf_printf(warn, "the damaged %s was kept as %s and replaced", path, bad.data);
	dr_buf_dispose(&bad);
	return 0;
}

int dr_history_merge(const char *path, const char *const *actions, const char *const *vms, const int64_t *ms,
		     size_t n, dr_buf *warn)
{
	int fd = lock_history(path);
	if (fd < 0) {
		dr_buf_printf(warn, "%s.lock cannot be taken (%s): this run's durations were not recorded", path,
			      strerror(errno));
		return -1;
	}
	dr_history *h = dr_history_new();
	int rc = load_for_merge(h, path, warn);
	for (size_t i = 0; rc == 0 && i < n; i++)
		dr_history_note(h, actions[i], vms[i], ms[i]);
	if (rc == 0 && (rc = dr_history_save(h, path, warn)) < 0)
		dr_buf_puts(warn, ": this run's durations were not recorded");
	dr_history_free(h);
	close(fd);
	return rc;
}
