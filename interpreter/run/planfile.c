/*
 * planfile.c - saved plans (see planfile.h): build, write, read, and the
 * drift between a plan and the world now.
 *
 *   {"format": "drover-plan", "version": 1, "created": "...", "created_ms": N,
 *    "drover": "...", "runbook": {name, path, digest, shape}, "mode",
 *    "direction", "params", "recovery_point", "backend": {kind, id},
 *    "vm_sets": [{name, vms}], "vms": [{name, id, state, active, point}],
 *    "runnable", "blockers": [{kind, vm, step}]}
 *
 * Lookups by VM name go through a sorted index, so a drift check is
 * O(n log n) in the VMs.
 */
#include "run/planfile.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "config.h"
#include "journal/journal.h"
#include "util/fs.h"
#include "util/text.h"

static const char *str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static cJSON *item(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static void add_time(cJSON *o, const char *key, int64_t ms)
{
	char t[40];
	dr_backend_format_time(ms, t, sizeof t);
	cJSON_AddStringToObject(o, key, t);
}

static void add_str_or_null(cJSON *o, const char *key, const char *s)
{
	if (s)
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

/* --- building ------------------------------------------------------------- */

static cJSON *runbook_object(const dr_runbook *rb, dr_buf *err)
{
	char digest[40];
	if (dr_journal_file_digest(rb->path, digest, sizeof digest, NULL, err) < 0)
		return NULL;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", rb->name ? rb->name : "");
	cJSON_AddStringToObject(o, "path", rb->path);
	cJSON_AddStringToObject(o, "digest", digest);
	cJSON_AddItemToObject(o, "shape", dr_journal_runbook_digests(rb));
	return o;
}

static cJSON *point_object(const dr_preflight *pf, const dr_pf_point *pt)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "step", pf->plan->nodes[pt->node].step->id.name);
	cJSON_AddStringToObject(o, "verdict", dr_preflight_verdict_name(pt->verdict));
	if (pt->verdict != DR_PF_POINT_OK && pt->verdict != DR_PF_POINT_TOO_OLD)
		return o;
	cJSON_AddStringToObject(o, "policy", dr_point_policy_name(pt->policy));
	add_str_or_null(o, "id", pt->point ? pt->point->name : NULL);
	add_time(o, "time", pt->time_ms);
	cJSON_AddStringToObject(o, "type", pt->point ? dr_backend_point_type_name(pt->point->type) : "Latest");
	return o;
}

static cJSON *vm_object(const dr_preflight *pf, size_t i)
{
	const dr_be_item *it = &pf->items[i];
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", it->name);
	cJSON_AddStringToObject(o, "id", it->id);
	cJSON_AddStringToObject(o, "state", dr_backend_state_name(it->state));
	cJSON_AddStringToObject(o, "active", dr_backend_location_name(it->active_location));
	if (pf->vm[i].point.verdict != DR_PF_NO_POINT)
		cJSON_AddItemToObject(o, "point", point_object(pf, &pf->vm[i].point));
	return o;
}

static cJSON *set_members(const dr_preflight *pf, size_t s)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t k = 0; k < pf->bind.n_members[s]; k++)
		cJSON_AddItemToArray(a, cJSON_CreateString(pf->items[pf->bind.members[s][k]].name));
	return a;
}

static void add_binding(cJSON *plan, const dr_preflight *pf)
{
	cJSON *sets = cJSON_AddArrayToObject(plan, "vm_sets");
	for (size_t s = 0; s < pf->bind.n_sets; s++) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", pf->rb->vm_sets[s].name.name);
		cJSON_AddItemToObject(o, "vms", set_members(pf, s));
		cJSON_AddItemToArray(sets, o);
	}
	cJSON *vms = cJSON_AddArrayToObject(plan, "vms");
	for (size_t i = 0; i < pf->n; i++)
		if (pf->vm[i].in_plan)
			cJSON_AddItemToArray(vms, vm_object(pf, i));
}

static void add_blockers(cJSON *plan, const dr_preflight *pf)
{
	cJSON_AddBoolToObject(plan, "runnable", dr_preflight_runnable(pf));
	cJSON *arr = cJSON_AddArrayToObject(plan, "blockers");
	for (size_t i = 0; i < pf->n_blockers; i++) { /* no messages: they name ages, which move with the clock */
		const dr_blocker *b = &pf->blockers[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", dr_preflight_kind_name(b->kind));
		add_str_or_null(o, "vm", b->vm != DR_PF_NO_VM ? pf->items[b->vm].name : NULL);
		add_str_or_null(o, "step", b->node != (size_t)-1 ? pf->plan->nodes[b->node].step->id.name : NULL);
		cJSON_AddItemToArray(arr, o);
	}
}

cJSON *dr_planfile_build(const dr_preflight *pf, const dr_planfile_ctx *c, dr_buf *err)
{
	cJSON *rbj = runbook_object(c->rb, err);
	if (!rbj)
		return NULL;
	cJSON *plan = cJSON_CreateObject();
	cJSON_AddStringToObject(plan, "format", DR_PLANFILE_FORMAT);
	cJSON_AddNumberToObject(plan, "version", DR_PLANFILE_VERSION);
	add_time(plan, "created", c->now_ms);
	cJSON_AddNumberToObject(plan, "created_ms", (double)c->now_ms);
	cJSON_AddStringToObject(plan, "drover", DROVER_VERSION);
	cJSON_AddItemToObject(plan, "runbook", rbj);
	cJSON_AddStringToObject(plan, "mode", dr_mode_name(c->mode));
	cJSON_AddStringToObject(plan, "direction", dr_mode_direction_name(c->direction));
	cJSON_AddItemToObject(plan, "params", c->params ? cJSON_Duplicate(c->params, true) : cJSON_CreateObject());
	add_str_or_null(plan, "recovery_point", c->point && c->point->present ? c->point->text : NULL);
	cJSON *be = cJSON_AddObjectToObject(plan, "backend");
	cJSON_AddStringToObject(be, "kind", pf->be->kind);
	add_str_or_null(be, "id", c->backend_id);
	add_binding(plan, pf);
	add_blockers(plan, pf);
	return plan;
}

/* --- files ----------------------------------------------------------------- */

int dr_planfile_write(const char *path, const cJSON *plan, dr_buf *err)
{
	char *text = cJSON_Print(plan);
	if (!text)
		abort();
	size_t n = strlen(text);
	text[n] = '\n'; /* replaces the terminator: written with its length */
	int rc = dr_fs_write_atomic(path, text, n + 1, DR_FS_NAMED, err);
	free(text);
	return rc;
}

static char *slurp(const char *path, dr_buf *err)
{
	dr_buf b;
	dr_buf_init(&b);
	if (dr_fs_read_all(path, 0, &b) < 0) {
		dr_buf_printf(err, "cannot read the plan '%s': %s\n", path, strerror(errno));
		dr_buf_dispose(&b);
		return NULL;
	}
	return dr_buf_detach(&b);
}

cJSON *dr_planfile_read(const char *path, dr_buf *err)
{
	char *text = slurp(path, err);
	if (!text)
		return NULL;
	cJSON *plan = cJSON_Parse(text);
	free(text);
	const cJSON *v = item(plan, "version");
	const char *fmt = str(plan, "format");
	if (!plan || !fmt || strcmp(fmt, DR_PLANFILE_FORMAT) || !cJSON_IsNumber(v) || !cJSON_IsNumber(item(plan, "created_ms"))) {
		dr_buf_printf(err, "'%s' is not a drover plan (drover plan -o FILE writes one)\n", path);
	} else if (v->valuedouble != DR_PLANFILE_VERSION) {
		dr_buf_printf(err, "the plan '%s' is of version %g; this drover reads version %d: make the plan again\n", path,
			      v->valuedouble, DR_PLANFILE_VERSION);
	} else {
		return plan;
	}
	cJSON_Delete(plan);
	return NULL;
}

/* --- points ----------------------------------------------------------------- */

cJSON *dr_planfile_points(const cJSON *plan)
{
	cJSON *out = cJSON_CreateObject();
	const cJSON *vm;
	cJSON_ArrayForEach(vm, item(plan, "vms"))
	{
		const char *id = str(item(vm, "point"), "id");
		if (id && str(vm, "name"))
			cJSON_AddStringToObject(out, str(vm, "name"), id);
	}
	return out;
}

/* pf's items by name, for lookups (an arena array of indexes sorted by name). */
typedef struct byname {
	const char *name;
	size_t i;
} byname;

static int cmp_byname(const void *a, const void *b)
{
	return strcmp(((const byname *)a)->name, ((const byname *)b)->name);
}

static byname *index_items(const dr_preflight *pf, dr_arena *a)
{
	byname *v = dr_arena_calloc(a, pf->n + 1, sizeof *v);
	for (size_t i = 0; i < pf->n; i++)
		v[i] = (byname){pf->items[i].name, i};
	qsort(v, pf->n, sizeof *v, cmp_byname);
	return v;
}

static size_t find_item(const byname *v, size_t n, const char *name)
{
	byname key = {name, 0};
	const byname *hit = name ? bsearch(&key, v, n, sizeof *v, cmp_byname) : NULL;
	return hit ? hit->i : DR_PF_NO_VM;
}

const char **dr_planfile_pins(const cJSON *points, const dr_preflight *pf, dr_arena *a)
{
	const char **pins = dr_arena_calloc(a, pf->n + 1, sizeof *pins);
	byname *idx = index_items(pf, a);
	const cJSON *p;
	cJSON_ArrayForEach(p, points)
	{
		size_t i = cJSON_IsString(p) ? find_item(idx, pf->n, p->string) : DR_PF_NO_VM;
		if (i != DR_PF_NO_VM)
			pins[i] = dr_arena_strdup(a, p->valuestring);
	}
	return pins;
}

/* --- drift ------------------------------------------------------------------- */

typedef struct drift {
	const cJSON *plan;
	const dr_preflight *pf;
	const dr_planfile_ctx *now;
	dr_buf *out, *notes;
	size_t n;
	dr_arena *a;
} drift;

__attribute__((format(printf, 2, 3))) static void say(drift *d, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	dr_buf_vprintf(d->out, fmt, ap);
	va_end(ap);
	dr_buf_putc(d->out, '\n');
	d->n++;
}

static void check_age(drift *d, int64_t max_age_ms)
{
	int64_t made = (int64_t)cJSON_GetNumberValue(item(d->plan, "created_ms")), age = d->now->now_ms - made;
	char a[32], m[32];
	dr_text_human_duration(age, a, sizeof a);
	dr_text_human_duration(max_age_ms, m, sizeof m);
	if (age > max_age_ms)
		say(d, "the plan was made at %s, %s ago: older than --plan-max-age %s allows", str(d->plan, "created"), a, m);
	else if (age < -60000)
		say(d, "the plan was made at %s, after this run started: its clock or this one is wrong",
		    str(d->plan, "created"));
}

static void check_runbook(drift *d)
{
	const cJSON *rbj = item(d->plan, "runbook");
	char digest[40];
	dr_buf err, diff;
	dr_buf_init(&err);
	dr_buf_init(&diff);
	if (dr_journal_file_digest(d->now->rb->path, digest, sizeof digest, NULL, &err) == 0 && str(rbj, "digest") &&
	    !strcmp(digest, str(rbj, "digest")))
		goto out;
	cJSON *shape = dr_journal_runbook_digests(d->now->rb);
	size_t n = dr_journal_runbook_diff(item(rbj, "shape"), shape, &diff);
	cJSON_Delete(shape);
	for (size_t i = 0; n && i + 1 < diff.len; i++) /* one line: the changes joined by "; " */
		if (diff.data[i] == '\n')
			diff.data[i] = ';';
	if (n && diff.data[diff.len - 1] == '\n')
		diff.data[--diff.len] = '\0';
	if (n)
		say(d, "the runbook changed since the plan was made (%s, now %s): %s", str(rbj, "digest"), digest,
		    diff.data);
	else
		dr_buf_printf(d->notes, "%s changed since the plan was made, but not its steps or settings (comments or "
					"layout only)\n",
			      d->now->rb->path);
out:
	dr_buf_dispose(&err);
	dr_buf_dispose(&diff);
}

static const char *text_of(dr_arena *a, const cJSON *v)
{
	if (!v)
		return "nothing";
	char *s = cJSON_PrintUnformatted(v);
	const char *t = dr_arena_strdup(a, s ? s : "?");
	free(s);
	return t;
}

static void check_params(drift *d)
{
	const cJSON *was = item(d->plan, "params"), *now = d->now->params, *p;
	cJSON_ArrayForEach(p, was)
	{
		const cJSON *q = cJSON_GetObjectItemCaseSensitive(now, p->string);
		if (!q || !cJSON_Compare(p, q, true))
			say(d, "parameter %s: the plan has %s, this run %s", p->string, text_of(d->a, p), text_of(d->a, q));
	}
	cJSON_ArrayForEach(p, now)
	if (!cJSON_GetObjectItemCaseSensitive(was, p->string))
		say(d, "parameter %s: the plan has none, this run %s", p->string, text_of(d->a, p));
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static void check_settings(drift *d)
{
	const char *mode = dr_mode_name(d->now->mode), *dir = dr_mode_direction_name(d->now->direction);
	if (!same_str(str(d->plan, "mode"), mode) || !same_str(str(d->plan, "direction"), dir))
		say(d, "the plan is a %s (%s), this run a %s (%s)", str(d->plan, "mode"), str(d->plan, "direction"), mode,
		    dir);
	const char *rp = d->now->point && d->now->point->present ? d->now->point->text : NULL;
	if (!same_str(str(d->plan, "recovery_point"), rp))
		say(d, "--recovery-point: the plan has %s, this run %s",
		    str(d->plan, "recovery_point") ? str(d->plan, "recovery_point") : "none", rp ? rp : "none");
	const char *be = str(item(d->plan, "backend"), "id");
	if (!same_str(be, d->now->backend_id))
		say(d, "the backend: the plan was made against %s, this run acts on %s", be ? be : "a simulator in memory",
		    d->now->backend_id ? d->now->backend_id : "a simulator in memory");
}

static void check_sets(drift *d)
{
	const cJSON *set;
	cJSON_ArrayForEach(set, item(d->plan, "vm_sets"))
	{
		size_t s = 0;
		while (s < d->pf->bind.n_sets && !same_str(d->pf->rb->vm_sets[s].name.name, str(set, "name")))
			s++;
		cJSON *now = s < d->pf->bind.n_sets ? set_members(d->pf, s) : cJSON_CreateArray();
		if (!cJSON_Compare(item(set, "vms"), now, true))
			say(d, "vm_set '%s' targets %s when planned, now %s", str(set, "name"), text_of(d->a, item(set, "vms")),
			    text_of(d->a, now));
		cJSON_Delete(now);
	}
}

static void check_vms(drift *d)
{
	byname *idx = index_items(d->pf, d->a);
	const cJSON *vm;
	cJSON_ArrayForEach(vm, item(d->plan, "vms"))
	{
		size_t i = find_item(idx, d->pf->n, str(vm, "name"));
		if (i == DR_PF_NO_VM) {
			say(d, "%s: planned, but the backend no longer protects it", str(vm, "name"));
			continue;
		}
		const dr_be_item *it = &d->pf->items[i];
		const char *st = dr_backend_state_name(it->state), *act = dr_backend_location_name(it->active_location);
		if (!same_str(str(vm, "state"), st) || !same_str(str(vm, "active"), act))
			say(d, "%s: %s in %s when planned, now %s in %s", it->name, str(vm, "state"), str(vm, "active"), st,
			    act);
	}
}

size_t dr_planfile_drift(const cJSON *plan, const dr_preflight *pf, const dr_planfile_ctx *now, int64_t max_age_ms,
			 dr_buf *out, dr_buf *notes)
{
	drift d = {.plan = plan, .pf = pf, .now = now, .out = out, .notes = notes, .a = pf->a};
	check_age(&d, max_age_ms);
	check_runbook(&d);
	check_settings(&d);
	check_params(&d);
	check_sets(&d);
	check_vms(&d);
	return d.n;
}
