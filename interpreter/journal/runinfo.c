/*
 * runinfo.c - a run's state as its journal tells it (see runinfo.h).
 *
 * The records are folded in order into steps and tasks, the latest record
 * about a task deciding its state. The journal holds each thing that
 * happened once (a resumed run does not journal what it replays), so the
 * fold over every session is the run's whole history. Steps that never
 * started come from the header's shape, in the runbook's order.
 */
#include "journal/runinfo.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "util/xalloc.h"

static const char *sval(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static double nval(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

/* --- steps and tasks ------------------------------------------------------ */

static dr_runinfo_step *step_of(dr_runinfo *ri, const cJSON *rec, size_t *cap)
{
	const char *id = sval(rec, "step"), *ph = sval(rec, "phase"), *undoes = sval(rec, "undoes");
	for (size_t i = 0; i < ri->n_steps; i++) {
		dr_runinfo_step *s = &ri->steps[i];
		if (same(s->id, id) && same(s->phase, ph) && same(s->undoes, undoes))
			return s;
	}
	if (ri->n_steps == *cap) {
		*cap = *cap ? 2 * *cap : 32;
		ri->steps = xrealloc(ri->steps, *cap * sizeof *ri->steps);
	}
	dr_runinfo_step *s = &ri->steps[ri->n_steps++];
	*s = (dr_runinfo_step){.id = id, .phase = ph, .undoes = undoes, .state = "pending", .n_tasks = -1,
			       .started_ms = -1, .ended_ms = -1, .action = sval(rec, "action")};
	return s;
}

static dr_runinfo_task *task_of(dr_runinfo *ri, const cJSON *rec, size_t *cap)
{
	const char *id = sval(rec, "step"), *ph = sval(rec, "phase"), *undoes = sval(rec, "undoes");
	const char *target = sval(rec, "target");
	for (size_t i = ri->n_tasks; i-- > 0;) {
		dr_runinfo_task *t = &ri->tasks[i];
		if (same(t->step, id) && same(t->target, target) && same(t->phase, ph) && same(t->undoes, undoes))
			return t;
	}
	if (ri->n_tasks == *cap) {
		*cap = *cap ? 2 * *cap : 64;
		ri->tasks = xrealloc(ri->tasks, *cap * sizeof *ri->tasks);
	}
	dr_runinfo_task *t = &ri->tasks[ri->n_tasks++];
	*t = (dr_runinfo_task){.step = id, .target = target, .phase = ph, .undoes = undoes, .state = "pending",
			       .started_ms = -1, .ended_ms = -1};
	return t;
}

static void fold_task(dr_runinfo_task *t, const char *type, const cJSON *rec, int64_t at)
{
	if (!strcmp(type, "task.start")) {
		t->state = "running";
		t->attempt = (int)nval(rec, "attempt", 0);
		t->action = sval(rec, "action");
		t->mutating = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "mutating"));
		t->started_ms = t->started_ms < 0 ? at : t->started_ms;
		t->probe = NULL;
	} else if (!strcmp(type, "task.end")) {
		bool retry = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rec, "will_retry"));
		t->state = retry ? "retrying" : sval(rec, "status") ? sval(rec, "status") : "failed";
		t->attempt = (int)nval(rec, "attempt", t->attempt);
		t->cls = sval(rec, "class");
		t->message = sval(rec, "message");
		const char *job = sval(cJSON_GetObjectItemCaseSensitive(rec, "outputs"), "job_id");
		t->job = job ? job : t->job;
		t->ended_ms = retry ? -1 : at;
	} else if (!strcmp(type, "task.skip") || !strcmp(type, "task.cancel") || !strcmp(type, "task.giveup")) {
		t->state = !strcmp(type, "task.skip") ? "skipped" : !strcmp(type, "task.cancel") ? "cancelled" : "failed";
		if (strcmp(type, "task.giveup"))
			t->message = sval(rec, "reason");
		t->ended_ms = at;
	} else if (!strcmp(type, "task.probe")) {
		t->probe = sval(rec, "probe");
	} else if (!strcmp(type, "approval.request")) {
		t->approval_open = true;
	} else if (!strncmp(type, "approval.", 9)) {
		t->approval_open = false;
		t->approved_by = !strcmp(type, "approval.granted") ? sval(rec, "by") : t->approved_by;
	}
}

static void fold_step(dr_runinfo_step *s, const char *type, const cJSON *rec, int64_t at)
{
	if (!strcmp(type, "step.start")) {
		s->state = "running";
		s->n_tasks = (int)nval(rec, "tasks", 0);
		s->started_ms = at;
		return;
	}
	s->state = sval(rec, "status") ? sval(rec, "status") : "?";
	s->n_tasks = (int)nval(rec, "tasks", s->n_tasks);
	s->ok = (int)nval(rec, "succeeded", 0);
	s->failed = (int)nval(rec, "failed", 0);
	s->skipped = (int)nval(rec, "skipped", 0);
	s->cancelled = (int)nval(rec, "cancelled", 0);
	s->reason = sval(rec, "reason");
	s->ended_ms = at;
}

/* The steps of the header's shape, in the runbook's order, so steps that never started show. */
static void declared_steps(dr_runinfo *ri, size_t *cap)
{
	const cJSON *steps = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ri->f.header, "shape"), "steps");
	for (const cJSON *s = steps ? steps->child : NULL; s; s = s->next) {
		cJSON *fake = cJSON_CreateObject();
		cJSON_AddStringToObject(fake, "step", s->string);
		if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "finally")))
			cJSON_AddStringToObject(fake, "phase", "finally");
		dr_runinfo_step *st = step_of(ri, fake, cap);
		st->id = s->string;
		st->phase = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(s, "finally")) ? "finally" : NULL;
		st->action = sval(s, "action");
		cJSON_Delete(fake);
	}
}

/* --- the run -------------------------------------------------------------- */

static void fold_run(dr_runinfo *ri, const char *type, const cJSON *rec)
{
	if (!strcmp(type, "run.resume")) {
		ri->downtime_ms += (int64_t)nval(rec, "downtime_ms", 0);
		ri->status = NULL;
		ri->reason = NULL;
	} else if (!strcmp(type, "run.end")) {
		ri->status = sval(rec, "status");
		ri->exit_code = (int)nval(rec, "exit", 1);
		ri->reason = sval(rec, "reason") ? sval(rec, "reason") : ri->reason;
	} else if (!strcmp(type, "run.suspend")) {
		ri->status = "suspended";
	} else if (!strcmp(type, "run.stopping") || !strcmp(type, "run.cancel") || !strcmp(type, "run.timeout")) {
		ri->reason = sval(rec, "reason");
	}
}

static void fold(dr_runinfo *ri, const cJSON *rec, size_t *scap, size_t *tcap)
{
	const char *type = sval(rec, "event");
	int64_t at = (int64_t)nval(rec, "t_ms", -1);
	ri->elapsed_ms = at > ri->elapsed_ms ? at : ri->elapsed_ms;
	if (!strncmp(type, "task.", 5) || !strncmp(type, "approval.", 9)) {
		if (sval(rec, "step"))
			fold_task(task_of(ri, rec, tcap), type, rec, at);
	} else if (!strncmp(type, "step.", 5) && strcmp(type, "step.timeout")) {
		fold_step(step_of(ri, rec, scap), type, rec, at);
	} else if (!strncmp(type, "run.", 4)) {
		fold_run(ri, type, rec);
	}
}

/* A step that has not ended: its counts so far, from its tasks. */
static void count_running(dr_runinfo *ri)
{
	for (size_t i = 0; i < ri->n_steps; i++) {
		dr_runinfo_step *s = &ri->steps[i];
		if (strcmp(s->state, "running"))
			continue;
		for (size_t k = 0; k < ri->n_tasks; k++) {
			const dr_runinfo_task *t = &ri->tasks[k];
			if (!same(t->step, s->id) || !same(t->phase, s->phase) || !same(t->undoes, s->undoes))
				continue;
			s->ok += !strcmp(t->state, "succeeded");
			s->failed += !strcmp(t->state, "failed");
			s->skipped += !strcmp(t->state, "skipped");
			s->cancelled += !strcmp(t->state, "cancelled");
		}
	}
}

static void read_header(dr_runinfo *ri)
{
	const cJSON *h = ri->f.header, *rb = cJSON_GetObjectItemCaseSensitive(h, "runbook");
	ri->run = sval(h, "run");
	ri->runbook = sval(rb, "name");
	ri->path = sval(rb, "path");
	ri->abs = sval(rb, "abs");
	ri->digest = sval(rb, "digest");
	ri->mode = sval(h, "mode");
	ri->direction = sval(h, "direction");
	ri->clock = sval(h, "clock");
	ri->started_wall = (int64_t)nval(h, "started_ms", 0);
}

static bool changed_since(const dr_runinfo *ri)
{
	char d[40];
	dr_buf e;
	dr_buf_init(&e);
	const char *p = ri->abs && access(ri->abs, R_OK) == 0 ? ri->abs : ri->path;
	bool changed = !p || dr_journal_file_digest(p, d, sizeof d, NULL, &e) < 0 || !ri->digest || strcmp(d, ri->digest);
	dr_buf_dispose(&e);
	return changed;
}

static const char *live_status(dr_runinfo *ri)
{
	const cJSON *be = cJSON_GetObjectItemCaseSensitive(ri->f.header, "backend");
	const char *abs = ri->abs ? ri->abs : "", *id = sval(be, "id") ? sval(be, "id") : "";
	char *lock = dr_runlock_path(ri->state_dir, abs, id);
	bool held = dr_runlock_held(lock, ri->run);
	free(lock);
	return held ? "running" : "interrupted";
}

int dr_runinfo_load(const char *state_dir, const char *run_id, dr_runinfo *ri, dr_buf *err)
{
	*ri = (dr_runinfo){.state_dir = state_dir, .elapsed_ms = 0};
	char *path = dr_journal_path(state_dir, run_id);
	int rc = dr_journal_read(path, &ri->f, err);
	if (rc < 0 && access(path, F_OK) != 0) {
		dr_buf_reset(err);
		dr_buf_printf(err, "no run '%s' in %s/runs ('drover runs' lists the runs there; --state-dir or "
				   "$DROVER_STATE_DIR choose another place)",
			      run_id, state_dir);
	}
	free(path);
	if (rc < 0)
		return -1;
	read_header(ri);
	size_t scap = 0, tcap = 0;
	declared_steps(ri, &scap);
	for (size_t i = 0; i < ri->f.n; i++)
		fold(ri, ri->f.recs[i], &scap, &tcap);
	count_running(ri);
	ri->sessions = ri->f.sessions;
	for (size_t i = 0; i < ri->n_tasks; i++) {
		ri->in_flight += !strcmp(ri->tasks[i].state, "running");
		ri->open_approvals += ri->tasks[i].approval_open;
	}
	if (!ri->status)
		ri->status = live_status(ri);
	ri->runbook_changed = changed_since(ri);
	return 0;
}

void dr_runinfo_dispose(dr_runinfo *ri)
{
	dr_journal_file_dispose(&ri->f);
	free(ri->steps);
	free(ri->tasks);
	*ri = (dr_runinfo){0};
}

/* --- listing ---------------------------------------------------------------- */

typedef struct listed {
	char *id;
	int64_t started;
} listed;

static int by_start(const void *a, const void *b)
{
	const listed *x = a, *y = b;
	if (x->started != y->started)
		return x->started < y->started ? -1 : 1;
	return strcmp(x->id, y->id);
}

/* The header's started_ms, read from the first line only. */
static int64_t started_of(const char *state_dir, const char *id)
{
	char *path = dr_journal_path(state_dir, id);
	FILE *f = fopen(path, "rb");
	free(path);
	if (!f)
		return -1;
	dr_buf b;
	dr_buf_init(&b);
	int c;
	while ((c = fgetc(f)) != EOF && c != '\n')
		dr_buf_putc(&b, (char)c);
	fclose(f);
	cJSON *h = cJSON_Parse(b.data);
	int64_t t = h ? (int64_t)nval(h, "started_ms", 0) : -1;
	cJSON_Delete(h);
	dr_buf_dispose(&b);
	return t;
}

char **dr_runinfo_list(const char *state_dir, size_t *n)
{
	dr_buf dir;
	dr_buf_init(&dir);
	dr_buf_printf(&dir, "%s/runs", state_dir);
	DIR *d = opendir(dir.data);
	dr_buf_dispose(&dir);
	listed *v = NULL;
	size_t cap = 0;
	*n = 0;
	for (struct dirent *e; d && (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		int64_t t = started_of(state_dir, e->d_name);
		if (t < 0)
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 16;
			v = xrealloc(v, cap * sizeof *v);
		}
		v[(*n)++] = (listed){xstrdup(e->d_name), t};
	}
	if (d)
		closedir(d);
	if (*n)
		qsort(v, *n, sizeof *v, by_start);
	char **ids = xcalloc(*n + 1, sizeof *ids);
	for (size_t i = 0; i < *n; i++)
		ids[i] = v[i].id;
	free(v);
	return ids;
}
