/*
 * backends/sim.c - the simulator behind the backend interface: opening it,
 * sim time, lookups, and the calls of the vtable.
 *
 * Every call takes the sim's mutex, turns the caller's now_ms into sim time
 * (never backwards, see dr_sim_time), settles the items it touches (applies
 * what their jobs did by then) and answers from the model. Lookups are hash
 * maps (item by name or GUID, job by GUID, job by idempotency key), so a
 * call costs O(1) whatever the inventory's size; only the list calls walk.
 *
 * A mutating call goes: count it, find the item, throttling faults, replay
 * of a known idempotency key, the state machine's checks, request faults
 * (they fail operations that would otherwise start), then a new job
 * (planned with its faults) and the item's running state.
 * Each call, accepted or not, is appended to the audit log.
 */
#include "backends/sim_int.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/xalloc.h"

static sim *of(dr_backend *be)
{
	return (sim *)be;
}

/* ---- items and jobs --------------------------------------------------------------- */

void sim_items_reserve(sim *s, size_t more)
{
	size_t n = s->n_items + more;
	if (n > s->cap_items) {
		s->cap_items = n;
		/* a fresh array of 2 MiB and more (10,000 VMs: 3.6 MB) from huge pages: a fault per 2 MiB, not per 4 KiB */
		s->items = s->items ? xrealloc(s->items, n * sizeof *s->items) : xmalloc_huge(n * sizeof *s->items);
	}
	dr_strmap_reserve(&s->item_by_name, n);
	dr_strmap_reserve(&s->item_by_guid, n);
}

sim_item *sim_item_add(sim *s, const char *name)
{
	if (s->n_items == s->cap_items) {
		s->cap_items = s->cap_items ? s->cap_items * 2 : 16;
		s->items = xrealloc(s->items, s->cap_items * sizeof *s->items);
	}
	sim_item *it = &s->items[s->n_items];
	char guid[40];
	memset(it, 0, sizeof *it);
	uint64_t h = sim_hash(name);
	sim_guid(h, sim_mix(h, 1), guid);
	it->name = xstrdup(name);
	it->guid = xstrdup(guid);
	it->state = DR_BE_ST_PROTECTED;
	it->active = DR_BE_PRIMARY;
	it->pts_since = SIM_UNSET;
	it->pts_until = SIM_NEVER;
	it->phase_ms = sim_between(sim_mix(h, 2), 0, 299) * 1000;
	it->lag_ms = sim_between(sim_mix(h, 3), 60, 360) * 1000;
	it->rpo_ms = sim_between(sim_mix(h, 4), 20, 120) * 1000;
	it->job = it->vm_job = -1;
	it->point_ms = it->last_fo_ms = it->last_tfo_ms = -1;
	dr_strmap_put(&s->item_by_name, it->name, s->n_items);
	dr_strmap_put(&s->item_by_guid, it->guid, s->n_items);
	s->n_items++;
	sim_item_touch(s, it);
	return it;
}

/* An id's last path segment: ".../replicationProtectedItems/<guid>" -> "<guid>". */
static const char *last_segment(const char *id)
{
	const char *slash = strrchr(id, '/');
	return slash ? slash + 1 : id;
}

sim_item *sim_item_find(sim *s, const char *id)
{
	size_t i;
	if (!id)
		return NULL;
	if (dr_strmap_get(&s->item_by_guid, last_segment(id), &i) || dr_strmap_get(&s->item_by_name, id, &i))
		return &s->items[i];
	return NULL;
}

sim_job *sim_job_new(sim *s)
{
	if (s->n_jobs == s->cap_jobs) {
		s->cap_jobs = s->cap_jobs ? s->cap_jobs * 2 : 64;
		s->jobs = xrealloc(s->jobs, s->cap_jobs * sizeof *s->jobs);
	}
	sim_job *j = &s->jobs[s->n_jobs++];
	memset(j, 0, sizeof *j);
	j->point_ms = -1;
	return j;
}

sim_job *sim_job_find(sim *s, const char *id)
{
	size_t i;
	if (id && dr_strmap_get(&s->job_by_guid, last_segment(id), &i))
		return &s->jobs[i];
	return NULL;
}

void sim_init_new_items(sim *s, int64_t t)
{
	for (size_t i = 0; i < s->n_items; i++) {
		sim_item *it = &s->items[i];
		if (it->pts_since != SIM_UNSET)
			continue;
		it->pts_since = t - 2 * SIM_RETENTION; /* replicating for long: a full retention window */
		it->vm[DR_BE_PRIMARY] = (sim_vmst){.exists = true, .running = true, .since_ms = t - 30 * 24 * SIM_HOUR,
						   .boot_ms = 60000};
		sim_item_touch(s, it);
	}
}

static void free_item(sim_item *it)
{
	free(it->name);
	free(it->guid);
	for (size_t i = 0; i < it->n_tags; i++) {
		free(it->tag_k[i]);
		free(it->tag_v[i]);
	}
	free(it->tag_k);
	free(it->tag_v);
	for (int i = 0; i < 2; i++) {
		free(it->region[i]);
		free(it->ip[i]);
	}
	free(it->size);
	free(it->point_id);
	free(it->network);
	free(it->hits);
	free(it->jobs);
	sim_item_forget_ids(it);
}

static void free_job(sim_job *j)
{
	free(j->guid);
	free(j->point_id);
	free(j->key);
	free(j->err_code);
	free(j->err_msg);
	free(j->network);
	free(j->comments);
	free(j->activity);
}

void sim_free(sim *s)
{
	for (size_t i = 0; i < s->n_items; i++)
		free_item(&s->items[i]);
	for (size_t i = 0; i < s->n_jobs; i++)
		free_job(&s->jobs[i]);
	for (size_t i = 0; i < s->n_audit; i++) {
		free(s->audit[i].item);
		free(s->audit[i].key);
		free(s->audit[i].job);
		free(s->audit[i].code);
	}
	free(s->items);
	free(s->jobs);
	free(s->audit);
	free(s->touched);
	free(s->touched_jobs);
	if (s->log_fd >= 0)
		close(s->log_fd);
	free(s->log_path);
	dr_strmap_dispose(&s->item_by_name);
	dr_strmap_dispose(&s->item_by_guid);
	dr_strmap_dispose(&s->job_by_guid);
	dr_strmap_dispose(&s->job_by_key);
	sim_faults_free(s);
	sim_state_unlock(s);
	free(s->path);
	free(s->vault_id);
	free(s->subscription);
	pthread_mutex_destroy(&s->mu);
	free(s);
}

/* ---- time ------------------------------------------------------------------------------ */

/* Sim time of now_ms; the first call of a session fixes the offset (mutex held). */
static int64_t sim_now(sim *s, int64_t now_ms)
{
	if (!s->time_set) {
		if (s->last_ms == SIM_UNSET)
			s->created_ms = s->last_ms = now_ms;
		s->offset = s->last_ms > now_ms ? s->last_ms - now_ms : 0;
		s->time_set = true;
		sim_init_new_items(s, now_ms + s->offset);
	}
	int64_t t = now_ms + s->offset;
	if (t < s->last_ms)
		t = s->last_ms;
	s->last_ms = t;
	return t;
}

int64_t dr_sim_time(dr_backend *be, int64_t now_ms)
{
	sim *s = of(be);
	pthread_mutex_lock(&s->mu);
	int64_t t = sim_now(s, now_ms);
	pthread_mutex_unlock(&s->mu);
	return t;
}

int64_t dr_sim_state_time(dr_backend *be)
{
	sim *s = of(be);
	pthread_mutex_lock(&s->mu);
	int64_t t = s->last_ms == SIM_UNSET ? -1 : s->last_ms;
	pthread_mutex_unlock(&s->mu);
	return t;
}

int64_t dr_sim_advance(dr_backend *be, int64_t now_ms, int64_t by_ms)
{
	sim *s = of(be);
	pthread_mutex_lock(&s->mu);
	int64_t t = sim_now(s, now_ms) + by_ms;
	s->offset += by_ms;
	s->last_ms = t;
	for (size_t i = 0; i < s->n_items; i++)
		sim_settle(s, &s->items[i], t);
	s->dirty = true;
	pthread_mutex_unlock(&s->mu);
	return t;
}

/* ---- views -------------------------------------------------------------------------------- */

/* A VM of the item; its region and IP are the item view's copies of them (view: regions then IPs, by location). */
static void vm_view(const sim *s, const sim_item *it, const sim_vmst *v, int loc, bool test, int64_t t,
		    dr_arena *a, const dr_be_item *view, dr_be_vm *out)
{
	memset(out, 0, sizeof *out);
	out->exists = v->exists;
	out->region = loc == DR_BE_PRIMARY ? view->primary_region : view->recovery_region;
	out->ip = loc == DR_BE_PRIMARY ? view->primary_ip : view->recovery_ip;
	out->since_ms = v->since_ms ? v->since_ms : -1;
	if (!v->exists)
		return;
	const char *parts[] = {"/subscriptions/", s->subscription, "/resourceGroups/drover-sim-", it->region[loc],
			       loc == DR_BE_RECOVERY || test ? "-asr" : "", "/providers/Microsoft.Compute/virtualMachines/",
			       it->name, test ? "-test" : ""};
	out->id = dr_arena_join(a, parts, sizeof parts / sizeof parts[0]); /* by hand: one per VM view */
	out->power = v->running ? DR_BE_POWER_RUNNING : DR_BE_POWER_STOPPED;
	if (!v->running)
		out->health = DR_BE_HEALTH_UNKNOWN;
	else if (t < v->since_ms + v->boot_ms)
		out->health = DR_BE_HEALTH_BOOTING;
	else
		out->health = v->unhealthy ? DR_BE_HEALTH_UNHEALTHY : DR_BE_HEALTH_HEALTHY;
}

static const char **copy_strs(dr_arena *a, char *const *v, size_t n)
{
	const char **out = dr_arena_calloc(a, n + 1, sizeof *out);
	for (size_t i = 0; i < n; i++)
		out[i] = dr_arena_strdup(a, v[i]);
	return out;
}

static void item_view(sim *s, const sim_item *it, int64_t t, dr_arena *a, dr_be_item *out)
{
	const sim_state_info *si = sim_state_info_of(it->state);
	memset(out, 0, sizeof *out);
	out->id = sim_item_id(s, it, a);
	out->name = dr_arena_strdup(a, it->name);
	out->tag_keys = copy_strs(a, it->tag_k, it->n_tags);
	out->tag_values = copy_strs(a, it->tag_v, it->n_tags);
	out->n_tags = it->n_tags;
	out->primary_region = dr_arena_strdup(a, it->region[0]);
	out->recovery_region = dr_arena_strdup(a, it->region[1]);
	out->primary_ip = dr_arena_strdup(a, it->ip[0]);
	out->recovery_ip = dr_arena_strdup(a, it->ip[1]);
	out->size = dr_arena_strdup(a, it->size);
	out->state = it->state;
	out->protection_state = si->protection;
	out->protection_state_description = si->description;
	out->test_failover_state = si->tfo;
	out->test_failover_state_description = si->tfo_description;
	out->active_location = (dr_be_location)it->active;
	out->allowed_ops = it->job >= 0 ? 0 : si->allowed;
	out->replication_health = "Normal";
	out->rpo_ms = sim_points_replicating(it) ? it->rpo_ms : -1;
	out->current_job_id = it->job >= 0 ? sim_job_id(s, &s->jobs[it->job], a)
					   : NULL;
	out->failover_point_id = it->point_id ? sim_child_id(a, out->id, "recoveryPoints", it->point_id) : NULL;
	out->failover_point_ms = it->point_id ? it->point_ms : -1;
	out->last_failover_ms = it->last_fo_ms;
	out->last_test_failover_ms = it->last_tfo_ms;
	vm_view(s, it, &it->vm[0], DR_BE_PRIMARY, false, t, a, out, &out->primary_vm);
	vm_view(s, it, &it->vm[1], DR_BE_RECOVERY, false, t, a, out, &out->recovery_vm);
	vm_view(s, it, &it->test_vm, !it->active, true, t, a, out, &out->test_vm);
}

/* ---- the vtable: reads ---------------------------------------------------------------------- */

static int not_found(dr_arena *a, dr_be_error *err, const char *what, const char *code, const char *id)
{
	return dr_backend_fail(err, a, 404, DR_BE_ERR_PERMANENT, code, NULL, "Check the id (list to see them).",
			       "The %s '%s' doesn't exist.", what, id ? id : "(null)");
}

static int list_items(dr_backend *be, dr_arena *a, int64_t now_ms, dr_be_item **out, size_t *n, dr_be_error *err)
{
	sim *s = of(be);
	(void)err;
	pthread_mutex_lock(&s->mu);
	int64_t t = sim_now(s, now_ms);
	/* an item's view and its strings (ids, tags, regions, IPs) take about 1.2 KB: from huge pages at 10,000 */
	dr_arena_expect(a, s->n_items * (sizeof **out + 832));
	*out = dr_arena_alloc_uninit(a, (s->n_items ? s->n_items : 1) * sizeof **out); /* item_view fills each */
	for (size_t i = 0; i < s->n_items; i++) {
		sim_settle(s, &s->items[i], t);
		item_view(s, &s->items[i], t, a, &(*out)[i]);
	}
	*n = s->n_items;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

int dr_sim_list_items_page(dr_backend *be, dr_arena *a, int64_t now_ms, size_t from, size_t max, dr_be_item **out,
			   size_t *n, size_t *total)
{
	sim *s = of(be);
	pthread_mutex_lock(&s->mu);
	int64_t t = sim_now(s, now_ms);
	size_t end = from < s->n_items ? (s->n_items - from > max ? from + max : s->n_items) : from;
	*out = dr_arena_calloc(a, end > from ? end - from : 1, sizeof **out);
	*n = 0;
	for (size_t i = from; i < end; i++) {
		sim_settle(s, &s->items[i], t);
		item_view(s, &s->items[i], t, a, &(*out)[(*n)++]);
	}
	*total = s->n_items;
	pthread_mutex_unlock(&s->mu);
	return 0;
}

static int read_refused(const sim_fault *f, const sim_item *it, dr_arena *a, dr_be_error *err);

static int get_item(dr_backend *be, dr_arena *a, int64_t now_ms, const char *id, dr_be_item *out, dr_be_error *err)
{
	sim *s = of(be);
	pthread_mutex_lock(&s->mu);
	int64_t t = sim_now(s, now_ms);
	sim_item *it = sim_item_find(s, id);
	const sim_fault *f = it && s->n_faults ? sim_faults_read(s, it) : NULL;
	if (f)
		sim_item_touch(s, it); /* its fault hits */
	else if (it) {
		sim_settle(s, it, t);
		item_view(s, it, t, a, out);
	}
	pthread_mutex_unlock(&s->mu);
	if (f)
		return read_refused(f, it, a, err);
	return it ? 0 : not_found(a, err, "protected item", "ReplicationProtectedItemNotFound", id);
}

static int points_of(dr_backend *be, dr_arena *a, int64_t now_ms, const char *id, bool newest, dr_be_point **out,
		     size_t *n, dr_be_error *err)
{
	sim *s = of(be);
	pthread_mutex_lock(&s->mu);
	int64_t t = sim_now(s, now_ms);
	sim_item *it = sim_item_find(s, id);
	if (it) {
		sim_settle(s, it, t);
		*n = newest ? sim_points_newest(s, it, t, a, out) : sim_points_list(s, it, t, a, out);
	}
	pthread_mutex_unlock(&s->mu);
	return it ? 0 : not_found(a, err, "protected item", "ReplicationProtectedItemNotFound", id);
}

static int list_points(dr_backend *be, dr_arena *a, int64_t now_ms, const char *id, dr_be_point **out, size_t *n,
		       dr_be_error *err)
{
	return points_of(be, a, now_ms, id, false, out, n, err);
}

static int list_newest_points(dr_backend *be, dr_arena *a, int64_t now_ms, const char *id, dr_be_point **out,
			      size_t *n, dr_be_error *err)
{
	return points_of(be, a, now_ms, id, true, out, n, err);
}

static int get_job(dr_backend *be, dr_arena *a, int64_t now_ms, const char *id, dr_be_job *out, dr_be_error *err)
{
	sim *s = of(be);
	pthread_mutex_lock(&s->mu);
	int64_t t = sim_now(s, now_ms);
	sim_job *j = sim_job_find(s, id);
	if (j) {
		sim_settle(s, &s->items[j->item], t);
		sim_job_view(s, j, t, a, out);
	}
	pthread_mutex_unlock(&s->mu);
	return j ? 0 : not_found(a, err, "job", "ReplicationJobNotFound", id);
}

static bool job_wanted(const sim_job *j, const dr_be_job_filter *f, int64_t t)
{
	bool ok;
	if (f && f->since_ms >= 0 && j->start < f->since_ms)
		return false;
	int64_t end = sim_job_end(j, &ok);
	return !(f && f->running_only) || end == SIM_NEVER || end > t;
}

/* The first of jobs[idx[0..n)] (start times never decrease) that started at or after since. */
static size_t first_since(const sim *s, const size_t *idx, size_t n, int64_t since)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->jobs[idx ? idx[mid] : mid].start < since)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Jobs by filter: an item's own list or all jobs, from the first one at or after since_ms (mutex held). */
static void collect_jobs(sim *s, const sim_item *only, const dr_be_job_filter *f, int64_t t, dr_arena *a,
			 dr_be_job **out, size_t *n)
{
	const size_t *idx = only ? only->jobs : NULL;
	size_t total = only ? only->n_jobs : s->n_jobs;
	size_t from = f && f->since_ms >= 0 ? first_since(s, idx, total, f->since_ms) : 0;
	*out = dr_arena_calloc(a, total - from ? total - from : 1, sizeof **out);
	*n = 0;
	for (size_t i = from; i < total; i++) {
		const sim_job *j = &s->jobs[idx ? idx[i] : i];
		if (job_wanted(j, f, t))
			sim_job_view(s, j, t, a, &(*out)[(*n)++]);
	}
}

static int list_jobs(dr_backend *be, dr_arena *a, int64_t now_ms, const dr_be_job_filter *f, dr_be_job **out,
		     size_t *n, dr_be_error *err)
{
	sim *s = of(be);
	pthread_mutex_lock(&s->mu);
	int64_t t = sim_now(s, now_ms);
	sim_item *only = f && f->item_id ? sim_item_find(s, f->item_id) : NULL;
	if (f && f->item_id && !only) {
		pthread_mutex_unlock(&s->mu);
		return not_found(a, err, "protected item", "ReplicationProtectedItemNotFound", f->item_id);
	}
	collect_jobs(s, only, f, t, a, out, n);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/* ---- the vtable: starting operations ----------------------------------------------------------- */

static void audit(sim *s, int64_t t, const dr_be_request *req, const sim_item *it, const char *result,
		  const sim_job *j, const char *code)
{
	if (s->n_audit == s->cap_audit) {
		s->cap_audit = s->cap_audit ? s->cap_audit * 2 : 64;
		s->audit = xrealloc(s->audit, s->cap_audit * sizeof *s->audit);
	}
	sim_audit *r = &s->audit[s->n_audit++];
	r->t = t;
	r->op = req->op;
	r->item = xstrdup(it ? it->name : req->item_id ? req->item_id : "");
	r->key = xstrdup(req->idempotency_key ? req->idempotency_key : "");
	r->job = j ? xstrdup(j->guid) : NULL;
	r->code = code ? xstrdup(code) : NULL;
	r->result = result;
	s->dirty = true;
}

static int refuse(sim *s, int64_t t, const dr_be_request *req, const sim_item *it, const char *result,
		  dr_be_error *err)
{
	audit(s, t, req, it, result, NULL, err->code);
	return -1;
}

static int throttled(const sim_fault *f, dr_arena *a, dr_be_error *err)
{
	dr_backend_fail(err, a, 429, DR_BE_ERR_THROTTLED, "TooManyRequests",
			"Too many write requests for the subscription in this region.",
			"Wait for the time in Retry-After, then retry.",
			"The request was throttled (injected fault: %s).", f->spec);
	err->retry_after_ms = f->retry_after_ms >= 0 ? f->retry_after_ms : 10000;
	return -1;
}

/* A fail or read-fails fault's error: its class's status and code, its message or dflt. */
static int fault_error(const sim_fault *f, dr_arena *a, const char *dflt, dr_be_error *err)
{
	static const int status[] = {[DR_BE_ERR_PERMANENT] = 400, [DR_BE_ERR_TRANSIENT] = 503,
				     [DR_BE_ERR_THROTTLED] = 429};
	static const char *const code[] = {[DR_BE_ERR_PERMANENT] = "InjectedFault",
					   [DR_BE_ERR_TRANSIENT] = "ServiceUnavailable",
					   [DR_BE_ERR_THROTTLED] = "TooManyRequests"};
	dr_backend_fail(err, a, status[f->cls], f->cls, f->code ? f->code : code[f->cls],
			"A fault injected into the simulator.", "Retry, or remove the fault from the spec.", "%s",
			f->message ? f->message : dflt);
	err->retry_after_ms = f->retry_after_ms >= 0 ? f->retry_after_ms : f->cls == DR_BE_ERR_THROTTLED ? 10000 : -1;
	return -1;
}

static int injected(const sim_fault *f, const sim_item *it, dr_be_op op, dr_arena *a, dr_be_error *err)
{
	return fault_error(f, a,
			   dr_arena_printf(a, "The operation '%s' on '%s' failed (injected fault: %s).",
					   dr_backend_op_name(op), it->name, f->spec),
			   err);
}

/* A read-fails fault's answer to a read of it. */
static int read_refused(const sim_fault *f, const sim_item *it, dr_arena *a, dr_be_error *err)
{
	return fault_error(f, a,
			   dr_arena_printf(a, "Reading the protected item '%s' failed (injected fault: %s).", it->name,
					   f->spec),
			   err);
}

/* The job a key already started: 1 replayed, 0 unknown key, -1 key reused for something else. */
static int replay(sim *s, const dr_be_request *req, const sim_item *it, dr_arena *a, sim_job **out, dr_be_error *err)
{
	size_t i;
	if (!req->idempotency_key || !dr_strmap_get(&s->job_by_key, req->idempotency_key, &i))
		return 0;
	*out = &s->jobs[i];
	if ((*out)->op == req->op && &s->items[(*out)->item] == it)
		return 1;
	return dr_backend_fail(err, a, 409, DR_BE_ERR_PERMANENT, "IdempotencyKeyConflict",
			       "The key was used before for another operation or item.",
			       "Use a new key for a new operation.",
			       "The idempotency key '%s' already started %s on '%s'.", req->idempotency_key,
			       dr_backend_op_name((*out)->op), s->items[(*out)->item].name);
}

/* A replay_only request with a key no call started with. */
static int key_unknown(dr_arena *a, const dr_be_request *req, const sim_item *it, dr_be_error *err)
{
	return dr_backend_fail(err, a, 404, DR_BE_ERR_PERMANENT, "IdempotencyKeyNotFound", NULL, NULL,
			       "No %s of '%s' was started with the key '%s'.", dr_backend_op_name(req->op), it->name,
			       req->idempotency_key ? req->idempotency_key : "");
}

void sim_item_add_job(sim_item *it, size_t job)
{
	if (it->n_jobs == it->cap_jobs) {
		it->cap_jobs = it->cap_jobs ? it->cap_jobs * 2 : 4;
		it->jobs = xrealloc(it->jobs, it->cap_jobs * sizeof *it->jobs);
	}
	it->jobs[it->n_jobs++] = job;
}

static sim_job *begin_job(sim *s, sim_item *it, const dr_be_request *req, const char *activity, int64_t t)
{
	char guid[40];
	sim_job *j = sim_job_new(s);
	size_t idx = (size_t)(j - s->jobs);
	uint64_t h = sim_mix(sim_mix(s->seed, sim_hash(it->name)), it->n_ops);
	sim_guid(h, sim_mix(h, (uint64_t)req->op), guid);
	j->guid = xstrdup(guid);
	j->item = (size_t)(it - s->items);
	j->op = req->op;
	j->key = req->idempotency_key ? xstrdup(req->idempotency_key) : NULL;
	j->activity = activity ? xstrdup(activity) : NULL;
	sim_item_add_job(it, idx);
	sim_machine_begin(s, it, j, req, t);
	sim_jobs_plan(s, it, j, req, t);
	it->n_ops++;
	if (req->op == DR_BE_OP_SHUTDOWN)
		it->vm_job = (int64_t)idx, it->vm_applied = 0;
	else
		it->job = (int64_t)idx, it->applied = 0;
	dr_strmap_put(&s->job_by_guid, j->guid, idx);
	if (j->key)
		dr_strmap_put(&s->job_by_key, j->key, idx);
	return j;
}

/* The steps of a mutating call, mutex held. */
static int start_locked(sim *s, dr_arena *a, int64_t t, const dr_be_request *req, const char *activity,
			dr_be_started *out, dr_be_error *err)
{
	sim_job *j = NULL;
	const sim_fault *f;
	s->calls++;
	sim_item *it = sim_item_find(s, req->item_id);
	if (!it) {
		not_found(a, err, "protected item", "ReplicationProtectedItemNotFound", req->item_id);
		return refuse(s, t, req, NULL, "refused", err);
	}
	it->n_calls++;
	sim_item_touch(s, it); /* its call count, fault hits, state, jobs */
	if ((f = sim_faults_throttle(s, req->op)))
		return throttled(f, a, err), refuse(s, t, req, it, "throttled", err);
	int r = replay(s, req, it, a, &j, err);
	if (r < 0)
		return refuse(s, t, req, it, "refused", err);
	if (r == 0 && req->replay_only)
		return key_unknown(a, req, it, err), refuse(s, t, req, it, "refused", err);
	if (r == 0) {
		sim_settle(s, it, t);
		if (sim_machine_check(s, it, req, t, a, err) < 0)
			return refuse(s, t, req, it, "refused", err);
		if ((f = sim_faults_request(s, it, req->op)))
			return injected(f, it, req->op, a, err),
			       refuse(s, t, req, it, f->cls == DR_BE_ERR_THROTTLED ? "throttled" : "refused", err);
		j = begin_job(s, it, req, activity, t);
	}
	out->job_id = sim_job_id(s, j, a);
	out->replayed = r == 1;
	audit(s, t, req, it, r == 1 ? "replayed" : "accepted", j, NULL);
	return 0;
}

int dr_sim_start(dr_backend *be, dr_arena *a, int64_t now_ms, const dr_be_request *req, const char *activity,
		 dr_be_started *out, dr_be_error *err)
{
	sim *s = of(be);
	if ((unsigned)req->op >= DR_BE_OP_COUNT)
		return dr_backend_fail(err, a, 400, DR_BE_ERR_PERMANENT, "InvalidOperation", NULL, NULL,
				       "Unknown operation %d.", (int)req->op);
	pthread_mutex_lock(&s->mu);
	int64_t t = sim_now(s, now_ms);
	int rc = start_locked(s, a, t, req, activity, out, err);
	if (s->autosave && s->path && !s->read_only) {
		dr_be_error e2;
		if (sim_state_save(s, a, &e2) < 0 && rc == 0)
			rc = -1, *err = e2;
	}
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static int start(dr_backend *be, dr_arena *a, int64_t now_ms, const dr_be_request *req, dr_be_started *out,
		 dr_be_error *err)
{
	return dr_sim_start(be, a, now_ms, req, NULL, out, err);
}

int dr_sim_resume_job(dr_backend *be, dr_arena *a, int64_t now_ms, const char *job_id, dr_be_error *err)
{
	sim *s = of(be);
	pthread_mutex_lock(&s->mu);
	int64_t t = sim_now(s, now_ms);
	sim_job *j = sim_job_find(s, job_id);
	if (j)
		sim_settle(s, &s->items[j->item], t);
	bool resumed = j && sim_job_resume(j, t);
	if (resumed) {
		sim_job_touch(s, j);
		s->dirty = true;
	}
	pthread_mutex_unlock(&s->mu);
	if (!j)
		return not_found(a, err, "job", "ReplicationJobNotFound", job_id);
	if (!resumed)
		return dr_backend_fail(err, a, 400, DR_BE_ERR_PERMANENT, "JobNotSuspended", NULL,
				       "Resume only a job that waits for a manual action (state Suspended).",
				       "The job '%s' is not suspended.", job_id);
	return 0;
}

const char *dr_sim_job_activity(dr_backend *be, dr_arena *a, const char *job_id)
{
	sim *s = of(be);
	pthread_mutex_lock(&s->mu);
	sim_job *j = sim_job_find(s, job_id);
	const char *r = j ? dr_arena_strdup(a, j->activity ? j->activity : "") : NULL;
	pthread_mutex_unlock(&s->mu);
	return r;
}

/* ---- the vtable: lifetime --------------------------------------------------------------------- */

static int flush(dr_backend *be, dr_arena *a, dr_be_error *err)
{
	sim *s = of(be);
	pthread_mutex_lock(&s->mu);
	int rc = s->dirty && s->path && !s->read_only ? sim_state_save(s, a, err) : 0;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

int dr_sim_save(dr_backend *be, dr_arena *a, dr_be_error *err)
{
	sim *s = of(be);
	pthread_mutex_lock(&s->mu);
	int rc = s->path && !s->read_only ? sim_state_snapshot(s, a, err) : 0;
	pthread_mutex_unlock(&s->mu);
	return rc;
}

static void close_sim(dr_backend *be)
{
	sim *s = of(be);
	if (s->path && !s->read_only && (s->dirty || s->time_set)) {
		dr_arena *a = dr_arena_new();
		dr_be_error err;
		sim_state_save(s, a, &err); /* errors are lost here: flush first to see them */
		dr_arena_free(a);
	}
	sim_free(s);
}

static const dr_backend_ops sim_ops = {
	.list_items = list_items,
	.get_item = get_item,
	.list_points = list_points,
	.list_newest_points = list_newest_points,
	.start = start,
	.get_job = get_job,
	.list_jobs = list_jobs,
	.flush = flush,
	.close = close_sim,
};

/* ---- opening ------------------------------------------------------------------------------------ */

static size_t read_options(sim *s, const dr_node *cfg, dr_diags *d)
{
	const dr_node *n;
	int64_t seed = 0;
	double speed = 0;
	if (cfg && (n = dr_node_get(cfg, "seed")) && !dr_node_as_int(n, &seed)) {
		dr_diag_error(d, DR201, dr_node_loc(n), "backend: 'seed' must be an integer");
		return 1;
	}
	s->seed_given = cfg && dr_node_get(cfg, "seed");
	if (cfg && (n = dr_node_get(cfg, "speed")) && !dr_node_as_number(n, &speed)) {
		dr_diag_error(d, DR201, dr_node_loc(n), "backend: 'speed' must be a number");
		return 1;
	}
	s->seed = (uint64_t)seed;
	s->base.speed = speed;
	return 0;
}

/* Faults of cfg, then of $DROVER_SIM_FAULTS. */
static size_t read_faults(sim *s, const dr_node *cfg, dr_diags *d)
{
	size_t errors = sim_faults_parse(s, cfg ? dr_node_get(cfg, "faults") : NULL, d);
	const char *env = getenv("DROVER_SIM_FAULTS");
	if (!env || !*env)
		return errors;
	dr_arena *a = dr_arena_new();
	size_t before = dr_diags_errors(d);
	dr_node *root = dr_load_string(a, d, "DROVER_SIM_FAULTS", env, strlen(env), NULL);
	if (!root || dr_diags_errors(d) != before)
		errors++;
	else
		errors += sim_faults_parse(s, root, d);
	dr_arena_free(a);
	return errors;
}

static int open_state(sim *s, const dr_sim_opts *o, dr_arena *a, dr_be_error *err)
{
	char path[4096];
	if (o->in_memory)
		return 0;
	s->path = xstrdup(o->state_path ? o->state_path : dr_sim_state_path(NULL, NULL, path, sizeof path));
	s->log_path = sim_log_path(s->path);
	if (!s->read_only && sim_state_lock(s, o->make_folder, a, err) < 0)
		return -1;
	int rc = o->fresh ? 1 : sim_state_load(s, s->path, a, err);
	s->need_snapshot |= rc == 1; /* no state (or a fresh one): the first save writes it */
	return rc < 0 ? -1 : 0;
}

dr_backend *dr_sim_open(const dr_node *cfg, const dr_sim_opts *o, dr_arena *a, dr_diags *diags, dr_be_error *err)
{
	static const dr_sim_opts none = {0};
	sim *s = xcalloc(1, sizeof *s);
	o = o ? o : &none;
	s->base = (dr_backend){.ops = &sim_ops, .kind = "sim", .simulated = true, .held = true};
	pthread_mutex_init(&s->mu, NULL);
	s->lock_fd = s->log_fd = -1;
	s->created_ms = s->last_ms = SIM_UNSET;
	s->read_only = o->read_only;
	s->autosave = o->autosave;
	s->subscription = xstrdup(o->subscription ? o->subscription : DR_SIM_SUBSCRIPTION);
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "/Subscriptions/%s/resourceGroups/%s/providers/Microsoft.RecoveryServices/vaults/%s",
		      s->subscription, o->resource_group ? o->resource_group : DR_SIM_RESOURCE_GROUP,
		      o->vault ? o->vault : DR_SIM_VAULT);
	s->vault_id = dr_buf_detach(&b);
	s->job_speed = o->job_speed > 0 ? o->job_speed : 1;
	memset(err, 0, sizeof *err);
	/* every mistake of cfg is reported at once; the state file only when cfg is sound */
	size_t errors = read_options(s, cfg, diags) + read_faults(s, cfg, diags);
	if (errors == 0 && open_state(s, o, a, err) < 0)
		errors++;
	else
		errors += sim_inventory_load(s, cfg, o->base_dir, diags);
	if (errors > 0) {
		sim_free(s);
		return NULL;
	}
	if (o->fresh)
		s->dirty = true;
	return &s->base;
}

size_t dr_sim_check(const dr_node *cfg, const char *base_dir, dr_diags *diags)
{
	dr_sim_opts o = {.in_memory = true, .base_dir = base_dir};
	dr_arena *a = dr_arena_new();
	dr_be_error err;
	size_t before = dr_diags_errors(diags);
	dr_backend_close(dr_sim_open(cfg, &o, a, diags, &err));
	dr_arena_free(a);
	return dr_diags_errors(diags) - before;
}

bool dr_sim_is(const dr_backend *be)
{
	return be && be->ops == &sim_ops;
}

const char *dr_sim_path(const dr_backend *be)
{
	const sim *s = (const sim *)be;
	return s->path ? s->path : "";
}

const char *dr_sim_vault_id(const dr_backend *be)
{
	return ((const sim *)be)->vault_id;
}

uint64_t dr_sim_seed(const dr_backend *be)
{
	return ((const sim *)be)->seed;
}

const char *dr_sim_state_path(const char *explicit_path, const char *state_dir, char *out, size_t outsz)
{
	const char *env = getenv("DROVER_SIM_STATE");
	const char *dir = state_dir ? state_dir : getenv("DROVER_STATE_DIR");
	if (explicit_path)
		snprintf(out, outsz, "%s", explicit_path);
	else if (env && *env)
		snprintf(out, outsz, "%s", env);
	else
		snprintf(out, outsz, "%s/sim-state.json", dir && *dir ? dir : ".drover");
	return out;
}

bool dr_sim_state_in_dir(const char *explicit_path)
{
	const char *env = getenv("DROVER_SIM_STATE");
	return !explicit_path && !(env && *env);
}

size_t dr_sim_audit(dr_backend *be, dr_arena *a, dr_sim_audit_rec **out)
{
	sim *s = of(be);
	pthread_mutex_lock(&s->mu);
	size_t n = s->n_audit;
	*out = dr_arena_calloc(a, n ? n : 1, sizeof **out);
	for (size_t i = 0; i < n; i++) {
		const sim_audit *r = &s->audit[i];
		(*out)[i] = (dr_sim_audit_rec){
			.time_ms = r->t, .op = dr_backend_op_name(r->op), .item = dr_arena_strdup(a, r->item),
			.key = dr_arena_strdup(a, r->key), .result = r->result,
			.job = r->job ? dr_arena_strdup(a, r->job) : NULL,
			.code = r->code ? dr_arena_strdup(a, r->code) : NULL,
		};
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}
