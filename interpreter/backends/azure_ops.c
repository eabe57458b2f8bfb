/*
 * backends/azure_ops.c - operations and jobs over ARM: the request bodies
 * of each operation (asr-api.md §1.3, checked against the OpenAPI
 * contract), the job a 202 names, exactly-once without an idempotency
 * key, A2A reprotect through switch protection, power off through Compute,
 * and reading jobs.
 *
 * Exactly once. ARM has no idempotency key, so (docs/backends.md, "Exactly
 * once"):
 *   - the client request id of a start is the UUID of its idempotency key
 *     (dr_auth_uuid_of): the same task attempt always sends the same id,
 *     and the service's job carries it at the start of its activityId;
 *   - a key this process has seen answers from memory (replayed);
 *   - a POST whose answer was lost (a reset, a timeout, a 5xx or 429 that
 *     may have come after the service acted) is never simply sent again
 *     and believed: a refusal that follows, or the end of the tries, makes
 *     the backend look for a job with that request id - the item's current
 *     job first, then the vault's jobs since the call - and go on with it;
 *   - replay_only (resume probes, retries that find the VM busy) only
 *     looks: from memory, the item's current job, the vault's recent jobs.
 * A resumed run therefore never posts an operation that already started.
 * A power off (Compute) has no ASR job to find: its lookup is the VM's
 * power state. A VM already stopping or stopped is never powered off again
 * (not after a lost answer, not on a retry, not on resume); its "job" is
 * the VM's power state, done when it is stopped.
 */
#include "backends/azure_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "util/buf.h"
#include "util/xalloc.h"

#define POST_TRIES 3
#define LOOKBACK_MS (72 * 3600 * INT64_C(1000)) /* how far back a lookup lists jobs without a better bound */
#define JOB_INDEX_FRESH_MS 15000
#define RECENT_MS (15 * 60 * INT64_C(1000)) /* a job this process's POST started began at most this long ago */
#define LOCAL_JOB "drover-local:"
#define VM_JOB "drover-vm:" /* a power off found by the VM's power state: "drover-vm:<VM id>" */
#define VM_POLL_MS 5000

/* ---- names, records, points (under z->mu) ------------------------------------------------------ */

static uint64_t ihash(const char *s)
{
	char buf[1024];
	size_t n = 0;
	for (; s && s[n] && n < sizeof buf - 1; n++)
		buf[n] = (char)(s[n] >= 'A' && s[n] <= 'Z' ? s[n] - 'A' + 'a' : s[n]);
	buf[n] = '\0';
	return dr_index_hash(DR_INDEX_SEED, buf);
}

static bool ieq(const char *a, const char *b)
{
	return a && b && strcasecmp(a, b) == 0;
}

static const char *last_segment(const char *id)
{
	const char *slash = id ? strrchr(id, '/') : NULL;
	return slash ? slash + 1 : id;
}

static char *opt_dup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static size_t find_rec(az *z, dr_index *ix, const char *key, bool by_key)
{
	uint64_t h = by_key ? dr_index_hash(DR_INDEX_SEED, key) : ihash(key);
	for (size_t pos = 0, v; (v = dr_index_next(ix, h, &pos)) != DR_INDEX_NONE;) {
		const az_rec *r = &z->recs[v];
		const char *have = ix == &z->rec_by_key ? r->key : ix == &z->rec_by_job ? r->job_id : r->rid;
		if (have && (by_key ? strcmp(have, key) == 0 : ieq(have, key)))
			return v;
	}
	return DR_INDEX_NONE;
}

/* A copy of record i in a. */
static az_rec *copy_rec(az *z, dr_arena *a, size_t i)
{
	if (i == DR_INDEX_NONE)
		return NULL;
	az_rec *c = dr_arena_calloc(a, 1, sizeof *c), *r = &z->recs[i];
	*c = *r;
	c->key = dr_arena_strdup(a, r->key);
	c->rid = dr_arena_strdup(a, r->rid);
	c->item_id = r->item_id ? dr_arena_strdup(a, r->item_id) : NULL;
	c->item_name = r->item_name ? dr_arena_strdup(a, r->item_name) : NULL;
	c->job_id = r->job_id ? dr_arena_strdup(a, r->job_id) : NULL;
	c->point_id = r->point_id ? dr_arena_strdup(a, r->point_id) : NULL;
	return c;
}

static az_rec *rec_of_key(az *z, dr_arena *a, const char *key)
{
	pthread_mutex_lock(&z->mu);
	az_rec *r = copy_rec(z, a, find_rec(z, &z->rec_by_key, key, true));
	pthread_mutex_unlock(&z->mu);
	return r;
}

const az_rec *az_rec_of_job(az *z, dr_arena *a, const char *job_id)
{
	pthread_mutex_lock(&z->mu);
	az_rec *r = copy_rec(z, a, find_rec(z, &z->rec_by_job, job_id, false));
	pthread_mutex_unlock(&z->mu);
	return r;
}

/* The key of rec_by_item_op: the item (any case) and the operation. */
static uint64_t item_op_hash(const char *item_id, dr_be_op op)
{
	return ihash(item_id) ^ ((uint64_t)op + 1) * UINT64_C(0x9e3779b97f4a7c15);
}

/* Record (or update) what the key's call did: its job, or NULL while the answer is lost. */
static void note_rec(az *z, const az_rec *r)
{
	pthread_mutex_lock(&z->mu);
	size_t i = find_rec(z, &z->rec_by_key, r->key, true);
	if (i == DR_INDEX_NONE) {
		if (z->n_recs == z->cap_recs) {
			z->cap_recs = z->cap_recs ? z->cap_recs * 2 : 64;
			z->recs = xrealloc(z->recs, z->cap_recs * sizeof *z->recs);
		}
		i = z->n_recs++;
		az_rec *n = &z->recs[i];
		*n = (az_rec){.key = xstrdup(r->key), .rid = xstrdup(r->rid), .item_id = opt_dup(r->item_id),
			      .item_name = opt_dup(r->item_name), .op = r->op, .point_id = opt_dup(r->point_id),
			      .point_ms = r->point_ms, .poll_ms = r->poll_ms};
		dr_index_put(&z->rec_by_key, dr_index_hash(DR_INDEX_SEED, n->key), i);
		dr_index_put(&z->rec_by_rid, ihash(n->rid), i);
		if (n->item_id)
			dr_index_put(&z->rec_by_item_op, item_op_hash(n->item_id, n->op), i);
	}
	az_rec *n = &z->recs[i];
	if (r->job_id && !n->job_id) {
		n->job_id = xstrdup(r->job_id);
		dr_index_put(&z->rec_by_job, ihash(n->job_id), i);
	}
	if (r->poll_ms > 0)
		n->poll_ms = r->poll_ms;
	pthread_mutex_unlock(&z->mu);
}

/* Another key's call on the same item and operation whose answer was lost (its outcome unknown), in a: the
   latest such record, found through rec_by_item_op (a start at 10,000 VMs compares a handful, not all). */
static az_rec *lost_rec(az *z, dr_arena *a, const char *item_id, dr_be_op op)
{
	size_t best = DR_INDEX_NONE;
	pthread_mutex_lock(&z->mu);
	uint64_t h = item_op_hash(item_id, op);
	for (size_t pos = 0, v; (v = dr_index_next(&z->rec_by_item_op, h, &pos)) != DR_INDEX_NONE;) {
		z->stats.rec_probes++;
		const az_rec *r = &z->recs[v];
		if (!r->job_id && r->op == op && ieq(r->item_id, item_id) && (best == DR_INDEX_NONE || v > best))
			best = v;
	}
	az_rec *out = copy_rec(z, a, best);
	pthread_mutex_unlock(&z->mu);
	return out;
}

void az_recs_free(az *z)
{
	for (size_t i = 0; i < z->n_recs; i++) {
		az_rec *r = &z->recs[i];
		free(r->key), free(r->rid), free(r->item_id), free(r->item_name), free(r->job_id), free(r->point_id);
	}
	free(z->recs);
	for (size_t i = 0; i < z->n_pts; i++)
		free(z->pt_ids[i]);
	free(z->pt_ids), free(z->pt_ms);
	for (size_t i = 0; i < z->n_nm; i++)
		free(z->nm_names[i]), free(z->nm_ids[i]);
	free(z->nm_names), free(z->nm_ids);
	for (size_t i = 0; i < z->n_jx; i++)
		free(z->jx_rids[i]), free(z->jx_jobs[i]);
	free(z->jx_rids), free(z->jx_jobs);
	for (size_t i = 0; i < z->n_mv; i++)
		free(z->mv_old[i]), free(z->mv_new[i]);
	free(z->mv_old), free(z->mv_new);
	dr_index_dispose(&z->mv_by_old);
	for (size_t i = 0; i < z->n_pp; i++)
		free(z->pp_keys[i]);
	free(z->pp_keys), free(z->pp_ready), free(z->pp_used);
	dr_index_dispose(&z->pp_by_key);
	dr_index_dispose(&z->rec_by_key), dr_index_dispose(&z->rec_by_job), dr_index_dispose(&z->rec_by_rid);
	dr_index_dispose(&z->rec_by_item_op);
	dr_index_dispose(&z->nm_by_id);
	dr_index_dispose(&z->pt_by_id), dr_index_dispose(&z->nm_by_name), dr_index_dispose(&z->jx_by_rid);
}

void az_note_point(az *z, const char *id, int64_t ms)
{
	pthread_mutex_lock(&z->mu);
	uint64_t h = ihash(id);
	bool have = false;
	for (size_t pos = 0, v; !have && (v = dr_index_next(&z->pt_by_id, h, &pos)) != DR_INDEX_NONE;)
		have = ieq(z->pt_ids[v], id);
	if (!have) {
		if (z->n_pts == z->cap_pts) {
			z->cap_pts = z->cap_pts ? z->cap_pts * 2 : 256;
			z->pt_ids = xrealloc(z->pt_ids, z->cap_pts * sizeof *z->pt_ids);
			z->pt_ms = xrealloc(z->pt_ms, z->cap_pts * sizeof *z->pt_ms);
		}
		z->pt_ids[z->n_pts] = xstrdup(id);
		z->pt_ms[z->n_pts] = ms;
		dr_index_put(&z->pt_by_id, h, z->n_pts++);
	}
	pthread_mutex_unlock(&z->mu);
}

static int64_t point_time(az *z, const char *id)
{
	int64_t ms = -1;
	if (!id)
		return -1;
	pthread_mutex_lock(&z->mu);
	uint64_t h = ihash(id);
	for (size_t pos = 0, v; ms < 0 && (v = dr_index_next(&z->pt_by_id, h, &pos)) != DR_INDEX_NONE;)
		if (ieq(z->pt_ids[v], id))
			ms = z->pt_ms[v];
	pthread_mutex_unlock(&z->mu);
	return ms;
}

void az_note_names(az *z, const dr_be_item *items, size_t n)
{
	pthread_mutex_lock(&z->mu);
	for (size_t i = 0; i < n; i++) {
		if (!items[i].name)
			continue;
		uint64_t h = ihash(items[i].name);
		size_t found = DR_INDEX_NONE;
		for (size_t pos = 0, v; found == DR_INDEX_NONE && (v = dr_index_next(&z->nm_by_name, h, &pos)) != DR_INDEX_NONE;)
			if (ieq(z->nm_names[v], items[i].name))
				found = v;
		if (found != DR_INDEX_NONE) {
			free(z->nm_ids[found]);
			z->nm_ids[found] = xstrdup(items[i].id);
			dr_index_put(&z->nm_by_id, ihash(items[i].id), found);
			continue;
		}
		if (z->n_nm == z->cap_nm) {
			z->cap_nm = z->cap_nm ? z->cap_nm * 2 : 256;
			z->nm_names = xrealloc(z->nm_names, z->cap_nm * sizeof *z->nm_names);
			z->nm_ids = xrealloc(z->nm_ids, z->cap_nm * sizeof *z->nm_ids);
		}
		z->nm_names[z->n_nm] = xstrdup(items[i].name);
		z->nm_ids[z->n_nm] = xstrdup(items[i].id);
		dr_index_put(&z->nm_by_id, ihash(items[i].id), z->n_nm);
		dr_index_put(&z->nm_by_name, h, z->n_nm++);
	}
	pthread_mutex_unlock(&z->mu);
}

static const char *name_to_id(az *z, dr_arena *a, const char *name)
{
	const char *out = NULL;
	pthread_mutex_lock(&z->mu);
	uint64_t h = ihash(name);
	for (size_t pos = 0, v; !out && (v = dr_index_next(&z->nm_by_name, h, &pos)) != DR_INDEX_NONE;)
		if (ieq(z->nm_names[v], name))
			out = dr_arena_strdup(a, z->nm_ids[v]);
	pthread_mutex_unlock(&z->mu);
	return out;
}

/* The VM name of an item id from the last list, else the id's last segment (in a). */
static const char *name_of(az *z, dr_arena *a, const char *id)
{
	const char *out = NULL;
	pthread_mutex_lock(&z->mu);
	for (size_t pos = 0, v; !out && (v = dr_index_next(&z->nm_by_id, ihash(id), &pos)) != DR_INDEX_NONE;)
		if (ieq(z->nm_ids[v], id))
			out = dr_arena_strdup(a, z->nm_names[v]);
	pthread_mutex_unlock(&z->mu);
	return out ? out : last_segment(id);
}

/* ---- reserved write tokens (dr_backend_pace) -------------------------------------------------------- */

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The reservation of key (z->mu held), or DR_INDEX_NONE. */
static size_t find_pp(az *z, const char *key)
{
	uint64_t h = dr_index_hash(DR_INDEX_SEED, key);
	for (size_t pos = 0, v; (v = dr_index_next(&z->pp_by_key, h, &pos)) != DR_INDEX_NONE;)
		if (strcmp(z->pp_keys[v], key) == 0)
			return v;
	return DR_INDEX_NONE;
}

int64_t az_pace(az *z, const dr_be_request *req)
{
	if (req->replay_only || !req->idempotency_key)
		return 0;
	pthread_mutex_lock(&z->mu);
	size_t i = find_pp(z, req->idempotency_key);
	bool started = find_rec(z, &z->rec_by_key, req->idempotency_key, true) != DR_INDEX_NONE;
	int64_t wait = i != DR_INDEX_NONE && !z->pp_used[i] ? z->pp_ready[i] - mono_ms() : 0;
	pthread_mutex_unlock(&z->mu);
	if (i != DR_INDEX_NONE || started)
		return wait > 0 ? wait : 0; /* reserved already, or nothing to send (a replay, a lost answer's lookup) */
	wait = az_limit_reserve(z->limit, true);
	pthread_mutex_lock(&z->mu);
	if (z->n_pp == z->cap_pp) {
		z->cap_pp = z->cap_pp ? z->cap_pp * 2 : 256;
		z->pp_keys = xrealloc(z->pp_keys, z->cap_pp * sizeof *z->pp_keys);
		z->pp_ready = xrealloc(z->pp_ready, z->cap_pp * sizeof *z->pp_ready);
		z->pp_used = xrealloc(z->pp_used, z->cap_pp * sizeof *z->pp_used);
	}
	z->pp_keys[z->n_pp] = xstrdup(req->idempotency_key);
	z->pp_ready[z->n_pp] = mono_ms() + wait;
	z->pp_used[z->n_pp] = false;
	dr_index_put(&z->pp_by_key, dr_index_hash(DR_INDEX_SEED, req->idempotency_key), z->n_pp++);
	pthread_mutex_unlock(&z->mu);
	return wait;
}

/* Whether key's start has a reserved token left (and use it). */
static bool take_prepaid(az *z, const char *key)
{
	pthread_mutex_lock(&z->mu);
	size_t i = find_pp(z, key);
	bool ok = i != DR_INDEX_NONE && !z->pp_used[i];
	if (ok)
		z->pp_used[i] = true;
	pthread_mutex_unlock(&z->mu);
	return ok;
}

/* ---- items ------------------------------------------------------------------------------------------ */

/* ---- items that moved (A2A reprotect makes a new item in the other container) ------------------------------ */

/* The id an item with this old id has now (z->mu held), or DR_INDEX_NONE. */
static size_t find_moved(az *z, const char *old)
{
	for (size_t pos = 0, v; (v = dr_index_next(&z->mv_by_old, ihash(old), &pos)) != DR_INDEX_NONE;)
		if (ieq(z->mv_old[v], old))
			return v;
	return DR_INDEX_NONE;
}

void az_note_moved(az *z, const char *old, const char *now)
{
	if (!old || !now || ieq(old, now))
		return;
	pthread_mutex_lock(&z->mu);
	size_t i = find_moved(z, old);
	if (i == DR_INDEX_NONE) {
		if (z->n_mv == z->cap_mv) {
			z->cap_mv = z->cap_mv ? z->cap_mv * 2 : 64;
			z->mv_old = xrealloc(z->mv_old, z->cap_mv * sizeof *z->mv_old);
			z->mv_new = xrealloc(z->mv_new, z->cap_mv * sizeof *z->mv_new);
		}
		i = z->n_mv++;
		z->mv_old[i] = xstrdup(old);
		z->mv_new[i] = NULL;
		dr_index_put(&z->mv_by_old, ihash(old), i);
	}
	free(z->mv_new[i]);
	z->mv_new[i] = xstrdup(now);
	pthread_mutex_unlock(&z->mu);
}

const char *az_moved(az *z, dr_arena *a, const char *id)
{
	const char *out = NULL;
	pthread_mutex_lock(&z->mu);
	for (int hops = 0; hops < 4; hops++) { /* moved back and forth: follow to the last */
		size_t i = find_moved(z, out ? out : id);
		if (i == DR_INDEX_NONE)
			break;
		out = dr_arena_strdup(a, z->mv_new[i]);
	}
	pthread_mutex_unlock(&z->mu);
	return out;
}

typedef struct seek {
	const char *name; /* the item's ARM name (the id's last segment) */
	const char *old, *found;
	dr_arena *a;
} seek;

static int seek_item(void *ctx, const cJSON *v)
{
	seek *s = ctx;
	const char *id = az_str(v, "id");
	if (!id || !ieq(last_segment(id), s->name) || ieq(id, s->old))
		return 0;
	s->found = dr_arena_strdup(s->a, id);
	return 1;
}

/* An item id that answered 404: the same item (its name) elsewhere in the vault, remembered; NULL: gone. */
static const char *relocate(az *z, dr_arena *a, const char *id)
{
	seek s = {.name = last_segment(id), .old = id, .a = a};
	dr_be_error e;
	if (az_list(z, a, dr_arena_printf(a, "%s/replicationProtectedItems", z->vault_path), z->api, NULL, seek_item, &s,
		    &e) < 0 || !s.found)
		return NULL;
	az_note_moved(z, id, s.found);
	return s.found;
}

static int fetch_once(az *z, dr_arena *a, const char *id, dr_be_item *out, dr_be_error *err)
{
	az_reply rep;
	az_req r = {.method = "GET", .url = id, .api = z->api};
	int rc = az_send(z, a, &r, &rep, err);
	if (rc == 0 && !az_parse_item(a, rep.json, out))
		rc = dr_backend_fail(err, a, 502, DR_BE_ERR_TRANSIENT, "BadResponse", NULL, NULL,
				     "The service's answer for %s is not a replication protected item: it has no '%s'.", id,
				     az_parse_lacks(rep.json, AZ_ITEM));
	az_reply_dispose(&rep);
	return rc;
}

int az_fetch_item(az *z, dr_arena *a, const char *id, dr_be_item *out, dr_be_error *err)
{
	const char *now = az_moved(z, a, id);
	int rc = fetch_once(z, a, now ? now : id, out, err);
	if (rc < 0 && err->http_status == 404 && (now = relocate(z, a, now ? now : id)) != NULL)
		rc = fetch_once(z, a, now, out, err);
	return rc;
}

static int collect_name(void *ctx, const cJSON *v)
{
	void **c = ctx;
	az *z = c[0];
	dr_arena *a = c[1];
	dr_be_item it;
	if (az_parse_item(a, v, &it))
		az_note_names(z, &it, 1);
	return 0;
}

const char *az_item_id(az *z, dr_arena *a, const char *id_or_name, dr_be_error *err)
{
	if (id_or_name && strcasestr(id_or_name, "/replicationProtectedItems/")) {
		const char *now = az_moved(z, a, id_or_name);
		return now ? now : id_or_name;
	}
	const char *id = name_to_id(z, a, id_or_name);
	if (id)
		return id;
	void *ctx[2] = {z, a};
	const char *path = dr_arena_printf(a, "%s/replicationProtectedItems", z->vault_path);
	if (az_list(z, a, path, z->api, NULL, collect_name, ctx, err) < 0)
		return NULL;
	if ((id = name_to_id(z, a, id_or_name)) != NULL)
		return id;
	dr_backend_fail(err, a, 404, DR_BE_ERR_PERMANENT, "ReplicationProtectedItemNotFound",
			"No protected item of the vault has this name.",
			"Check the VM's name, and that replication is enabled for it in this vault.",
			"The vault '%s' protects no VM named '%s'.", z->vault, id_or_name ? id_or_name : "");
	return NULL;
}

/* ---- request bodies ----------------------------------------------------------------------------------- */

/*
 * Which way the service must fail an item over, by region. The run names
 * its direction in its first direction's terms (failback: back to the
 * region the VMs ran in first); the service names failoverDirection from
 * the item's own view, which a reprotect turns round (the new item's
 * primary is the former recovery region). So: the region the run wants
 * the VMs in (the item's initial fabric locations; the item's own when it
 * reports none), then PrimaryToRecovery when that is the item's recovery
 * fabric location, RecoveryToPrimary when it is its primary one. A VM
 * that runs in that region already is the service's to refuse.
 */
static int sides_fail(dr_arena *a, const char *id, dr_be_error *err, const char *why)
{
	return dr_backend_fail(err, a, 409, DR_BE_ERR_PERMANENT, "FailoverDirectionUnknown",
			       "The item's regions, as the service reports them, do not say which way to fail it over.",
			       "Check the item in the vault (its primary and recovery regions and its active location); "
			       "drover sent nothing.",
			       "The direction of %s cannot be chosen: %s.", id, why);
}

/* The item's sides are complete and agree with each other; else an error. */
static int check_sides(dr_arena *a, const char *id, const az_sides *s, dr_be_error *err)
{
	if (!s->primary || !s->recovery || !*s->primary || !*s->recovery)
		return sides_fail(a, id, err, "it reports no primaryFabricLocation or recoveryFabricLocation");
	if (ieq(s->primary, s->recovery))
		return sides_fail(a, id, err, dr_arena_printf(a, "its primary and recovery regions are both %s",
							       s->primary));
	if (!ieq(s->active, "Primary") && !ieq(s->active, "Recovery"))
		return sides_fail(a, id, err, dr_arena_printf(a, "its activeLocation is '%s', neither Primary nor Recovery",
							       s->active ? s->active : "(none)"));
	if (!s->initial_primary != !s->initial_recovery)
		return sides_fail(a, id, err, "it reports only one of its initial fabric locations");
	bool same = ieq(s->initial_primary, s->primary) && ieq(s->initial_recovery, s->recovery);
	if (s->initial_primary && !same && !az_sides_flipped(s))
		return sides_fail(a, id, err, dr_arena_printf(a, "its initial regions (%s, %s) are not its regions (%s, %s)",
							       s->initial_primary, s->initial_recovery, s->primary,
							       s->recovery));
	return 0;
}

/* The region run's direction d takes the VMs to (AUTO: away from where they run now). */
static const char *goal_region(const az_sides *s, dr_be_direction d)
{
	const char *first_p = s->initial_primary ? s->initial_primary : s->primary;
	const char *first_r = s->initial_recovery ? s->initial_recovery : s->recovery;
	if (d == DR_BE_DIR_PRIMARY_TO_RECOVERY)
		return first_r;
	if (d == DR_BE_DIR_RECOVERY_TO_PRIMARY)
		return first_p;
	return ieq(s->active, "Recovery") ? s->primary : s->recovery;
}

int az_wire_direction(dr_arena *a, const cJSON *v, const char *id, dr_be_direction d, const char **out,
		      dr_be_error *err)
{
	az_sides s;
	az_parse_sides(v, &s);
	if (check_sides(a, id, &s, err) < 0)
		return -1;
	/* the side goal is on; a VM that runs there already is the service's to refuse (with its own error) */
	const char *goal = goal_region(&s, d);
	*out = ieq(goal, s.recovery) ? "PrimaryToRecovery" : "RecoveryToPrimary";
	return 0;
}

static cJSON *a2a(const char *point_id)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "instanceType", "A2A");
	if (point_id)
		cJSON_AddStringToObject(p, "recoveryPointId", point_id);
	return p;
}

/* The body of op (NULL: none); dir: failoverDirection (failover, test failover). */
static cJSON *body_of(const dr_be_request *req, const char *dir)
{
	cJSON *b = cJSON_CreateObject(), *p = cJSON_AddObjectToObject(b, "properties");
	switch (req->op) {
	case DR_BE_OP_FAILOVER:
		cJSON_AddStringToObject(p, "failoverDirection", dir);
		cJSON_AddStringToObject(p, "sourceSiteOperations", req->shutdown_source ? "Required" : "NotRequired");
		cJSON_AddItemToObject(p, "providerSpecificDetails", a2a(req->point_id));
		break;
	case DR_BE_OP_TEST_FAILOVER:
		cJSON_AddStringToObject(p, "failoverDirection", dir);
		cJSON_AddStringToObject(p, "networkType", "VmNetworkAsInput");
		if (req->network)
			cJSON_AddStringToObject(p, "networkId", req->network);
		cJSON_AddItemToObject(p, "providerSpecificDetails", a2a(req->point_id));
		break;
	case DR_BE_OP_TEST_CLEANUP:
		if (req->comments)
			cJSON_AddStringToObject(p, "comments", req->comments);
		break;
	case DR_BE_OP_CHANGE_POINT:
		if (req->point_id)
			cJSON_AddStringToObject(p, "recoveryPointId", req->point_id);
		cJSON_AddItemToObject(p, "providerSpecificDetails", a2a(NULL));
		break;
	default:
		cJSON_Delete(b);
		return NULL; /* commit, cancel: no body */
	}
	return b;
}

static const char *action_of(dr_be_op op)
{
	static const char *const names[DR_BE_OP_COUNT] = {
		[DR_BE_OP_FAILOVER] = "unplannedFailover", [DR_BE_OP_TEST_FAILOVER] = "testFailover",
		[DR_BE_OP_TEST_CLEANUP] = "testFailoverCleanup", [DR_BE_OP_CHANGE_POINT] = "applyRecoveryPoint",
		[DR_BE_OP_COMMIT] = "failoverCommit", [DR_BE_OP_CANCEL_FAILOVER] = "failoverCancel",
	};
	return (unsigned)op < DR_BE_OP_COUNT ? names[op] : NULL;
}

/* ---- A2A reprotect: switch protection ----------------------------------------------------------------------- */

/* The protection container of an item id: everything before /replicationProtectedItems/. */
static const char *container_of(dr_arena *a, const char *item_id)
{
	const char *at = strcasestr(item_id, "/replicationProtectedItems/");
	return at ? dr_arena_strndup(a, item_id, (size_t)(at - item_id)) : NULL;
}

/* "/subscriptions/S/resourceGroups/G" of a resource id, or NULL. */
static const char *group_of(dr_arena *a, const char *id)
{
	const char *rg = id ? strcasestr(id, "/resourceGroups/") : NULL;
	if (!rg)
		return NULL;
	const char *end = strchr(rg + strlen("/resourceGroups/"), '/');
	return end ? dr_arena_strndup(a, id, (size_t)(end - id)) : dr_arena_strdup(a, id);
}

typedef struct reverse {
	const char *from_container, *to_container; /* replicate from, into */
	const char *policy, *target; /* found in the mapping (in a) */
	dr_arena *a;
} reverse;

static int find_mapping(void *ctx, const cJSON *v)
{
	reverse *r = ctx;
	const cJSON *p = cJSON_GetObjectItem(v, "properties");
	const char *policy = az_str(p, AZK(MAP_POLICY)), *target = az_str(p, AZK(MAP_TARGET));
	if (!policy || !ieq(target, r->to_container))
		return 0;
	r->policy = dr_arena_strdup(r->a, policy); /* the page's JSON is gone after this call */
	r->target = dr_arena_strdup(r->a, target);
	return 1;
}

/* Discover (or take from req) the reverse mapping's policy and target container. */
static int discover_mapping(az *z, dr_arena *a, const dr_be_request *req, reverse *rv, dr_be_error *err)
{
	rv->policy = req->policy_id;
	rv->target = req->recovery_container_id;
	if (rv->policy && rv->target)
		return 0;
	reverse found = *rv;
	found.policy = found.target = NULL;
	found.a = a;
	const char *path = dr_arena_printf(a, "%s/replicationProtectionContainerMappings", rv->from_container);
	if (az_list(z, a, path, z->api, NULL, find_mapping, &found, err) < 0)
		return -1;
	if (!found.policy)
		return dr_backend_fail(err, a, 400, DR_BE_ERR_PERMANENT, "ReverseMappingNotFound",
				       "Reprotect needs a container mapping from the container the VM runs in back to the "
				       "one it came from.",
				       "Create the reverse container mapping in the vault (the portal does it when you "
				       "reprotect once), or give dr.reprotect's with.policy and with.recovery_container.",
				       "No protection container mapping of %s targets %s.", rv->from_container,
				       rv->to_container);
	rv->policy = rv->policy ? rv->policy : found.policy;
	rv->target = rv->target ? rv->target : found.target;
	return 0;
}

/* vmManagedDisks of the reverse replication: the disks the VM runs on now. */
static int reverse_disks(dr_arena *a, const cJSON *psd, bool back, const char *rg, const dr_be_request *req,
			 cJSON *out, dr_be_error *err)
{
	const cJSON *d;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(psd, AZK(A2A_DISKS)))
	{
		const char *disk = back && az_str(d, AZK(DISK_TARGET)) ? az_str(d, AZK(DISK_TARGET)) : az_str(d, AZK(DISK_ID));
		const char *staging = req->staging_storage_id ? req->staging_storage_id
							       : az_str(d, AZK(DISK_STAGING));
		if (!disk || !staging)
			return dr_backend_fail(err, a, 400, DR_BE_ERR_PERMANENT, "StagingStorageUnknown", NULL,
					       "Give dr.reprotect's with.staging_storage: a storage account in the region "
					       "the VM runs in now.",
					       "No cache storage account is known for the disk %s.",
					       disk ? disk : "(without an id)");
		cJSON *m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "diskId", disk);
		cJSON_AddStringToObject(m, "primaryStagingAzureStorageAccountId", staging);
		cJSON_AddStringToObject(m, "recoveryResourceGroupId", rg);
		if (az_str(d, AZK(DISK_REPLICA_TYPE))) /* the request's A2AVmManagedDiskInputDetails has the same names */
			cJSON_AddStringToObject(m, "recoveryReplicaDiskAccountType", az_str(d, AZK(DISK_REPLICA_TYPE)));
		if (az_str(d, AZK(DISK_TARGET_TYPE)))
			cJSON_AddStringToObject(m, "recoveryTargetDiskAccountType", az_str(d, AZK(DISK_TARGET_TYPE)));
		cJSON_AddItemToArray(out, m);
	}
	if (cJSON_GetArraySize(out) > 0)
		return 0;
	/* a switch protection without its disks would protect none: say why, send nothing */
	if (cJSON_GetArraySize(cJSON_GetObjectItem(psd, AZK(A2A_VHDS))) > 0)
		return dr_backend_fail(err, a, 400, DR_BE_ERR_PERMANENT, "ReprotectUnmanagedDisks",
				       "drover builds the switch protection of managed disks (vmManagedDisks) only.",
				       "Reprotect this VM in the portal (or with Azure's own tools), or move it to managed disks.",
				       "The VM's disks are unmanaged (protectedDisks, no protectedManagedDisks); nothing was sent.");
	return dr_backend_fail(err, a, 400, DR_BE_ERR_PERMANENT, "ReprotectDisksUnknown",
			       "The service's answer for the item lists no protected disks (protectedManagedDisks).",
			       "Check the item's disks in the vault (az site-recovery protected-item show), then run again.",
			       "A switch protection without the VM's disks would protect none; nothing was sent.");
}

/*
 * Where the VM of a reprotect runs now, as the service serves the item:
 * *back when on the item's recovery side. The run's direction d (which way
 * replication goes after the reprotect, in its first direction's terms)
 * must agree: a reprotect from the wrong region is an error, not a guess.
 */
static int reprotect_side(dr_arena *a, const cJSON *v, const char *id, dr_be_direction d, bool *back,
			  dr_be_error *err)
{
	az_sides s;
	az_parse_sides(v, &s);
	if (check_sides(a, id, &s, err) < 0)
		return -1;
	*back = ieq(s.active, "Recovery");
	const char *now = *back ? s.recovery : s.primary;
	const char *want = d == DR_BE_DIR_PRIMARY_TO_RECOVERY   ? goal_region(&s, DR_BE_DIR_RECOVERY_TO_PRIMARY)
			   : d == DR_BE_DIR_RECOVERY_TO_PRIMARY ? goal_region(&s, DR_BE_DIR_PRIMARY_TO_RECOVERY)
								: now;
	if (!ieq(want, now))
		return dr_backend_fail(err, a, 409, DR_BE_ERR_PERMANENT, "ReprotectFromWrongRegion",
				       "A reprotect replicates from the region the VM runs in.",
				       "Fail the VM over (or back) first; drover sent nothing.",
				       "A %s reprotect of %s replicates from %s, but the VM runs in %s (activeLocation %s).",
				       dr_backend_direction_name(d), id, want, now, s.active);
	return 0;
}

/*
 * Switch protection as Azure's own tools do an A2A reprotect: from the
 * container the VM runs in now to the other one, with the reverse
 * mapping's policy, the replica in the resource group of the VM on the
 * target side, each disk cached in the staging account.
 */
static int switch_body(az *z, dr_arena *a, const dr_be_request *req, const char *item_id, const char **path,
		       cJSON **body, dr_be_error *err)
{
	az_reply rep;
	az_req r = {.method = "GET", .url = item_id, .api = z->api};
	if (az_send(z, a, &r, &rep, err) < 0)
		return az_reply_dispose(&rep), -1;
	const cJSON *p = cJSON_GetObjectItem(rep.json, AZK(ITEM_PROPS)), *psd = cJSON_GetObjectItem(p, AZK(ITEM_PSD));
	bool back = false;
	if (az_provider_refusal(a, rep.json, req->op, err) < 0 ||
	    reprotect_side(a, rep.json, item_id, req->direction, &back, err) < 0)
		return az_reply_dispose(&rep), -1;
	/* The item lives in the container of the side it was protected from, and the VM failed over to the other
	   one (recoveryContainerId): replicate from there back into the item's own (the new item lives there). */
	const char *own = container_of(a, item_id), *other = az_str(p, AZK(ITEM_RECOVERY_CONTAINER));
	reverse rv = {.from_container = other ? dr_arena_strdup(a, other) : NULL, .to_container = own};
	const char *rg = req->recovery_resource_group_id
				 ? req->recovery_resource_group_id
				 : group_of(a, back ? az_str(psd, AZK(A2A_VM)) : az_str(psd, AZK(A2A_RECOVERY_RG)));
	int rc = -1;
	if (!rv.from_container || !rv.to_container || !rg)
		dr_backend_fail(err, a, 400, DR_BE_ERR_PERMANENT, "ReprotectDetailsUnknown", NULL,
				"Give dr.reprotect's with.recovery_container and with.recovery_resource_group.",
				"The item %s does not say its recovery container or resource groups.", item_id);
	else if (discover_mapping(z, a, req, &rv, err) == 0) {
		*body = cJSON_CreateObject();
		cJSON *pp = cJSON_AddObjectToObject(*body, "properties"), *d = cJSON_CreateObject();
		cJSON_AddStringToObject(pp, "replicationProtectedItemName", last_segment(item_id));
		cJSON_AddStringToObject(d, "instanceType", "A2A");
		cJSON_AddStringToObject(d, "recoveryContainerId", rv.target);
		cJSON_AddStringToObject(d, "policyId", rv.policy);
		cJSON_AddStringToObject(d, "recoveryResourceGroupId", rg);
		cJSON_AddItemToObject(pp, "providerSpecificDetails", d);
		rc = reverse_disks(a, psd, back, rg, req, cJSON_AddArrayToObject(d, "vmManagedDisks"), err);
		*path = dr_arena_printf(a, "%s/switchprotection", own);
	}
	az_reply_dispose(&rep);
	return rc;
}

/* ---- the POST's target ----------------------------------------------------------------------------------- */

typedef struct call {
	const char *path; /* the POST's path (or absolute URL) */
	const char *api;
	char *body; /* heap JSON, or NULL */
	const char *item_name;
	const char *vm_id; /* power off: the VM */
} call;

/* Power off: the VM where the item runs now (Compute). */
static int shutdown_call(az *z, dr_arena *a, const char *item_id, call *c, dr_be_error *err)
{
	dr_be_item it;
	if (az_fetch_item(z, a, item_id, &it, err) < 0)
		return -1;
	const dr_be_vm *vm = dr_backend_active_vm(&it);
	if (!vm->id)
		return dr_backend_fail(err, a, 400, DR_BE_ERR_PERMANENT, "VirtualMachineUnknown", NULL,
				       "Check the item in the vault: its VM's resource id is missing.",
				       "The item '%s' does not name the VM at its %s location.", it.name,
				       dr_backend_location_name(it.active_location));
	c->path = dr_arena_printf(a, "%s/powerOff", vm->id);
	c->vm_id = vm->id;
	c->api = AZ_COMPUTE_API;
	c->item_name = it.name;
	return 0;
}

/* failoverDirection of req on the item as the service serves it: the copy the peek just looked at (NULL: none,
   GET the item). */
static int served_direction(az *z, dr_arena *a, const dr_be_request *req, const char *item_id, const cJSON *copy,
			    const char **dir, dr_be_error *err)
{
	if (copy)
		return az_provider_refusal(a, copy, req->op, err) < 0
			       ? -1
			       : az_wire_direction(a, copy, item_id, req->direction, dir, err);
	az_reply rep;
	az_req r = {.method = "GET", .url = item_id, .api = z->api};
	int rc = az_send(z, a, &r, &rep, err);
	if (rc == 0)
		rc = az_provider_refusal(a, rep.json, req->op, err);
	if (rc == 0)
		rc = az_wire_direction(a, rep.json, item_id, req->direction, dir, err);
	az_reply_dispose(&rep);
	return rc;
}

static bool needs_direction(dr_be_op op)
{
	return op == DR_BE_OP_FAILOVER || op == DR_BE_OP_TEST_FAILOVER;
}

/* The POST of req on item_id (copy: the item as the last list showed it, or NULL). */
static int call_of(az *z, dr_arena *a, const dr_be_request *req, const char *item_id, const cJSON *copy, call *c,
		   dr_be_error *err)
{
	*c = (call){.api = z->api};
	if (req->op == DR_BE_OP_SHUTDOWN)
		return shutdown_call(z, a, item_id, c, err);
	if (req->op == DR_BE_OP_REPROTECT) {
		cJSON *b = NULL;
		int rc = switch_body(z, a, req, item_id, &c->path, &b, err);
		c->body = rc == 0 ? cJSON_PrintUnformatted(b) : NULL;
		cJSON_Delete(b);
		return rc;
	}
	const char *dir = NULL;
	if (needs_direction(req->op) && served_direction(z, a, req, item_id, copy, &dir, err) < 0)
		return -1;
	const char *action = action_of(req->op);
	if (!action)
		return dr_backend_fail(err, a, 400, DR_BE_ERR_PERMANENT, "InvalidOperation", NULL, NULL,
				       "Unknown operation %d.", (int)req->op);
	cJSON *b = body_of(req, dir);
	c->path = dr_arena_printf(a, "%s/%s", item_id, action);
	c->body = b ? cJSON_PrintUnformatted(b) : NULL;
	cJSON_Delete(b);
	return 0;
}

/* ---- lookups: the job a request id started ---------------------------------------------------------------- */

/* Jobs of a listing by request id, gathered before they go into the index. */
typedef struct listed {
	dr_arena *a;
	const char **rids, **ids;
	size_t n, cap;
} listed;

static int index_job(void *ctx, const cJSON *v)
{
	listed *l = ctx;
	const char *rid = az_parse_activity_rid(l->a, az_str(cJSON_GetObjectItem(v, AZK(JOB_PROPS)), AZK(JOB_ACTIVITY)));
	const char *id = az_str(v, "id");
	if (!rid || !*rid || !id)
		return 0;
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 256;
		const char **r = dr_arena_calloc(l->a, cap, sizeof *r), **i = dr_arena_calloc(l->a, cap, sizeof *i);
		if (l->n)
			memcpy(r, l->rids, l->n * sizeof *r), memcpy(i, l->ids, l->n * sizeof *i);
		l->rids = r, l->ids = i, l->cap = cap;
	}
	l->rids[l->n] = rid;
	l->ids[l->n++] = dr_arena_strdup(l->a, id);
	return 0;
}

static const char *jx_find(az *z, dr_arena *a, const char *rid)
{
	uint64_t h = ihash(rid);
	for (size_t pos = 0, v; (v = dr_index_next(&z->jx_by_rid, h, &pos)) != DR_INDEX_NONE;)
		if (ieq(z->jx_rids[v], rid))
			return dr_arena_strdup(a, z->jx_jobs[v]);
	return NULL;
}

/* Replace the index with a listing's jobs (z->mu held). */
static void jx_replace(az *z, const listed *l)
{
	for (size_t i = 0; i < z->n_jx; i++)
		free(z->jx_rids[i]), free(z->jx_jobs[i]);
	z->n_jx = 0;
	dr_index_dispose(&z->jx_by_rid);
	dr_index_init(&z->jx_by_rid);
	if (l->n > z->cap_jx) {
		z->cap_jx = l->n;
		z->jx_rids = xrealloc(z->jx_rids, z->cap_jx * sizeof *z->jx_rids);
		z->jx_jobs = xrealloc(z->jx_jobs, z->cap_jx * sizeof *z->jx_jobs);
	}
	for (size_t i = 0; i < l->n; i++) {
		z->jx_rids[i] = xstrdup(l->rids[i]);
		z->jx_jobs[i] = xstrdup(l->ids[i]);
		dr_index_put(&z->jx_by_rid, ihash(l->rids[i]), i);
	}
	z->n_jx = l->n;
}

static const char *iso(dr_arena *a, int64_t ms)
{
	char t[40];
	dr_backend_format_time(ms, t, sizeof t);
	return dr_arena_strdup(a, t);
}

/* err's strings copied into a (they were in an arena about to be freed). */
static void error_into(dr_arena *a, dr_be_error *err)
{
	const char **f[] = {&err->code, &err->message, &err->possible_causes, &err->recommended_action, &err->request_id};
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
		*f[i] = *f[i] ? dr_arena_strdup(a, *f[i]) : NULL;
}

/*
 * The vault's jobs since `since`, indexed by request id: listed again unless
 * a listing from at most JOB_INDEX_FRESH_MS ago covers that time (a resume
 * probing many VMs lists once). The index is rebuilt under z->mu.
 */
static const char *vault_jobs_find(az *z, dr_arena *a, int64_t now, int64_t since, const char *rid, bool fresh_only,
				   dr_be_error *err)
{
	pthread_mutex_lock(&z->mu);
	bool usable = z->jx_at >= 0 && now - z->jx_at < JOB_INDEX_FRESH_MS && z->jx_since <= since;
	const char *found = usable ? jx_find(z, a, rid) : NULL;
	pthread_mutex_unlock(&z->mu);
	if (found || (usable && fresh_only))
		return found;
	const char *filter = dr_arena_printf(a, "startTime eq '%s'", iso(a, since));
	char *q = dr_http_escape(filter);
	const char *query = dr_arena_printf(a, "$filter=%s", q);
	free(q);
	listed l = {.a = dr_arena_new()};
	int rc = az_list(z, l.a, dr_arena_printf(a, "%s/replicationJobs", z->vault_path), z->api, query, index_job, &l, err);
	if (rc < 0) /* its strings are in l.a, freed below: the caller's arena keeps them */
		error_into(a, err);
	pthread_mutex_lock(&z->mu);
	if (rc == 0) {
		jx_replace(z, &l);
		z->jx_at = now;
		z->jx_since = since;
		found = jx_find(z, a, rid);
	}
	pthread_mutex_unlock(&z->mu);
	dr_arena_free(l.a);
	return found;
}

/* The item's current job, when it carries rid. */
static const char *current_job_with(az *z, dr_arena *a, const char *item_id, const char *rid, dr_be_error *err)
{
	dr_be_item it;
	if (az_fetch_item(z, a, item_id, &it, err) < 0 || !it.current_job_id)
		return NULL;
	az_reply rep;
	az_req r = {.method = "GET", .url = it.current_job_id, .api = z->api};
	const char *found = NULL;
	if (az_send(z, a, &r, &rep, err) == 0) {
		const char *have = az_parse_activity_rid(a, az_str(cJSON_GetObjectItem(rep.json, AZK(JOB_PROPS)), AZK(JOB_ACTIVITY)));
		found = have && ieq(have, rid) ? it.current_job_id : NULL;
	}
	az_reply_dispose(&rep);
	return found;
}

static bool powering_off(const char *power)
{
	return power && (strcasecmp(power, "stopping") == 0 || strcasecmp(power, "stopped") == 0 ||
			 strncasecmp(power, "deallocat", 9) == 0);
}

/* A power off of vm_id is under way or done (the VM is stopping or stopped): its VM_JOB, else NULL. */
static const char *power_off_seen(az *z, dr_arena *a, const char *vm_id, dr_be_error *err)
{
	pthread_mutex_lock(&z->mu);
	z->stats.lookups++;
	pthread_mutex_unlock(&z->mu);
	memset(err, 0, sizeof *err);
	const char *power = vm_id ? az_vm_power(z, a, vm_id, err) : NULL;
	return powering_off(power) ? dr_arena_printf(a, "%s%s", VM_JOB, vm_id) : NULL;
}

/* The job rid started on the item, or NULL (err says why when the service could not be asked). */
static const char *lookup(az *z, dr_arena *a, int64_t now, const char *item_id, const char *rid, int64_t since,
			  dr_be_error *err)
{
	pthread_mutex_lock(&z->mu);
	z->stats.lookups++;
	pthread_mutex_unlock(&z->mu);
	memset(err, 0, sizeof *err);
	const char *job = item_id ? current_job_with(z, a, item_id, rid, err) : NULL;
	if (job)
		return job;
	if (err->code && err->cls != DR_BE_ERR_PERMANENT)
		return NULL;
	memset(err, 0, sizeof *err);
	return vault_jobs_find(z, a, now, since, rid, false, err);
}

/* ---- starting ------------------------------------------------------------------------------------------------ */

static int started(az *z, dr_arena *a, const az_rec *r, const char *job_id, bool replayed, dr_be_started *out)
{
	az_rec done = *r;
	done.job_id = (char *)job_id;
	note_rec(z, &done);
	*out = (dr_be_started){.job_id = dr_arena_strdup(a, job_id), .replayed = replayed,
			       .request_id = dr_arena_strdup(a, r->rid), .poll_after_ms = r->poll_ms > 0 ? r->poll_ms : -1};
	return 0;
}

/* The job an accepted POST names: Location (operationresults/{job}), Azure-AsyncOperation, x-ms-request-id. */
static const char *job_of_reply(az *z, dr_arena *a, const az_reply *rep, dr_be_op op, const char *rid)
{
	if (op == DR_BE_OP_SHUTDOWN) /* Compute's own operation, polled at its URL */
		return rep->async_op ? rep->async_op : rep->location;
	const char *name = az_parse_job_name(a, rep->location);
	if (!name)
		name = az_parse_job_name(a, rep->async_op);
	if (!name)
		name = az_parse_job_name(a, rep->ms_request_id);
	if (name)
		return dr_arena_printf(a, "%s/replicationJobs/%s", z->vault_path, name);
	return dr_arena_printf(a, "%s%s", LOCAL_JOB, rid); /* answered 200 at once: done, no job to poll */
}

static bool maybe_acted(const az_reply *rep)
{
	return rep->unknown || rep->status == 429 || rep->status >= 500;
}

static int64_t wait_before_retry(const az_reply *rep, int k)
{
	int64_t ms = rep->retry_after_ms >= 0 ? rep->retry_after_ms : (int64_t)1000 << (k - 1);
	return ms > 30000 ? 30000 : ms;
}

/*
 * The job a lost answer may have started since `since`, adopted when found.
 * *unasked: the service could not be asked (lookup's error, transient or
 * throttled, is in *e): nothing may be concluded from the refusal.
 */
static int adopt_lost(az *z, dr_arena *a, int64_t now, int64_t since, az_rec *r, const char *rid, dr_be_started *out,
		      bool *found, bool *unasked, dr_be_error *e)
{
	const char *job = lookup(z, a, now, r->item_id, rid, since, e);
	*found = job != NULL;
	*unasked = !job && e->code && e->cls != DR_BE_ERR_PERMANENT;
	return job ? started(z, a, r, job, false, out) : 0;
}

/* The refusal could not be checked against the service's jobs: a transient error that says so. */
static int unconfirmed(dr_arena *a, const az_rec *r, const dr_be_error *refusal, const dr_be_error *why, dr_be_error *err)
{
	return dr_backend_fail(
		err, a, why->http_status, why->cls == DR_BE_ERR_THROTTLED ? DR_BE_ERR_THROTTLED : DR_BE_ERR_TRANSIENT,
		why->code, NULL,
		"Try again: a retry looks for the job again before it posts anything (the service refuses a second "
		"copy of an operation it has started).",
		"%s of '%s' was refused (%s) after an earlier copy's answer was lost, and the service's jobs could not "
		"be read to tell whether that copy started it (%s); the operation may be running",
		dr_backend_op_name(r->op), last_segment(r->item_id), refusal->code ? refusal->code : "refused",
		why->message ? why->message : why->code);
}

/* A refusal that our own request may have caused: the item is busy, or its state moved on. */
static bool state_refusal(long status)
{
	return status == 400 || status == 409;
}

/*
 * POST with up to POST_TRIES tries. An answer that may have come after the
 * service acted (lost, 429, 5xx) is never believed to mean "not started";
 * and a refusal of the item's state is checked against the service's jobs
 * before it is believed: the refused request may be a second copy of ours
 * (a try after a lost answer, or the HTTP client's own silent resend on a
 * kept-alive connection that died), and the first copy started the job.
 */
static int post(az *z, dr_arena *a, int64_t now, az_rec *r, const call *c, dr_be_started *out, dr_be_error *err)
{
	bool unsure = false, found = false, refused = false, throttled = false;
	int tries = az_caller_retries(z) ? 1 : POST_TRIES; /* the step's retry: posts again, as a new attempt */
	for (int k = 1; k <= tries && !refused; k++) {
		az_reply rep;
		az_req q = {.method = "POST", .url = c->path, .api = c->api, .body = c->body ? c->body : NULL,
			    .rid = r->rid, .tries = 1, .prepaid = k == 1 && take_prepaid(z, r->key)};
		int rc = az_send(z, a, &q, &rep, err);
		if (rc == 0) {
			r->poll_ms = rep.retry_after_ms;
			const char *job = job_of_reply(z, a, &rep, r->op, r->rid);
			az_reply_dispose(&rep);
			return started(z, a, r, job, false, out);
		}
		bool acted = maybe_acted(&rep);
		throttled = rep.status == 429;
		int64_t wait = wait_before_retry(&rep, k);
		refused = state_refusal(rep.status);
		az_reply_dispose(&rep);
		if (!acted && !refused)
			return -1; /* refused for a reason of its own (a bad request, forbidden): never ours twice */
		if (acted) {
			unsure = true;
			note_rec(z, r); /* the outcome is unknown until the job is found */
		}
		dr_be_error e;
		const char *off = c->vm_id && (acted || refused) ? power_off_seen(z, a, c->vm_id, &e) : NULL;
		if (off) /* the lost or refused power off was ours, or the VM is off anyway: never a second one */
			return started(z, a, r, off, false, out);
		if (k < tries && !refused) {
			struct timespec ts = {.tv_sec = wait / 1000, .tv_nsec = wait % 1000 * 1000000};
			nanosleep(&ts, NULL);
		}
	}
	dr_be_error last = *err;
	if (c->vm_id) /* a power off: its power state was asked above */
		return -1;
	bool unasked = false;
	dr_be_error why = {0};
	/* after a 429 the lookup would be throttled too (every request waits out its Retry-After): the record says
	   the outcome is unknown, so the next attempt looks before it posts */
	if ((unsure || refused) && !throttled &&
	    adopt_lost(z, a, now, now - RECENT_MS, r, r->rid, out, &found, &unasked, &why) == 0 && found)
		return 0;
	if (unasked && refused) {
		note_rec(z, r); /* the outcome is unknown until the job is found: a retry looks before it posts */
		return unconfirmed(a, r, &last, &why, err);
	}
	*err = last;
	return -1;
}

/* The key's earlier call r was for another operation or item: refused, nothing sent. */
static int conflict(az *z, dr_arena *a, const dr_be_request *req, const az_rec *r, const char *item_id,
		    dr_be_error *err)
{
	const char *was = r->item_name ? r->item_name : name_of(z, a, r->item_id), *now = name_of(z, a, item_id);
	const char *then = r->job_id ? dr_arena_printf(a, "its job %s goes on", last_segment(r->job_id))
				     : "its answer was lost, so it may be running";
	return dr_backend_fail(
		err, a, 409, DR_BE_ERR_PERMANENT, "IdempotencyKeyConflict",
		"An idempotency key names one operation on one item: a retry of the same task sends it again, anything "
		"else needs its own.",
		dr_arena_printf(a, "Nothing was sent for '%s'. Check %s of '%s' in the vault (this refusal does not touch "
				   "it), then start %s of '%s' with a new key (a new run, or the task's next attempt).",
				now, dr_backend_op_name(r->op), was, dr_backend_op_name(req->op), now),
		"The idempotency key '%s' already started %s on '%s' (%s); it is not used again for %s on '%s'.",
		req->idempotency_key, dr_backend_op_name(r->op), was, then, dr_backend_op_name(req->op), now);
}

/* Whether the key's earlier call r was this request: the same operation on the same item (or where it moved). */
static bool same_call(az *z, dr_arena *a, const az_rec *r, const dr_be_request *req, const char *item_id)
{
	const char *moved = az_moved(z, a, r->item_id);
	return r->op == req->op && (ieq(r->item_id, item_id) || ieq(moved, item_id));
}

/* replay_only: the key's job from memory, else from the service; never a POST. */
static int replay(az *z, dr_arena *a, int64_t now, const dr_be_request *req, az_rec *r, dr_be_started *out,
		  dr_be_error *err)
{
	const char *job = lookup(z, a, now, r->item_id, r->rid, now - LOOKBACK_MS, err);
	if (job)
		return started(z, a, r, job, true, out);
	if (err->code && err->cls != DR_BE_ERR_PERMANENT)
		return -1; /* the service could not be asked: the caller must not conclude anything */
	return dr_backend_fail(err, a, 404, DR_BE_ERR_PERMANENT, "IdempotencyKeyNotFound", NULL, NULL,
			       "No %s of '%s' was started with the key '%s' (request id %s).", dr_backend_op_name(req->op),
			       last_segment(r->item_id), req->idempotency_key, r->rid);
}

/* az_start's start of req on item_id once the key is known to be new, or its earlier call's answer lost (seen). */
static int start_on(az *z, dr_arena *a, int64_t now_ms, const dr_be_request *req, const char *item_id,
		    const char *rid, az_rec *seen, const cJSON *copy, dr_be_started *out, dr_be_error *err)
{
	const char *key = req->idempotency_key ? req->idempotency_key : "";
	az_rec r = {.key = (char *)key, .rid = dr_arena_strdup(a, rid), .item_id = (char *)item_id, .op = req->op,
		    .point_id = (char *)req->point_id, .point_ms = point_time(z, req->point_id), .poll_ms = -1};
	if (req->replay_only)
		return replay(z, a, now_ms, req, &r, out, err);
	bool found = false, unasked = false;
	az_rec *lost = seen ? seen : lost_rec(z, a, item_id, req->op);
	if (lost && adopt_lost(z, a, now_ms, now_ms - LOOKBACK_MS, &r, lost->rid, out, &found, &unasked, err) == 0 &&
	    found)
		return 0; /* an earlier call's answer was lost, but it did start the job */
	if (unasked)
		return -1; /* whether the lost call started it is unknown: never post on a guess (err: transient) */
	memset(err, 0, sizeof *err);
	call c;
	if (call_of(z, a, req, item_id, copy, &c, err) < 0)
		return -1;
	r.item_name = (char *)c.item_name;
	dr_be_error e;
	const char *off = c.vm_id ? power_off_seen(z, a, c.vm_id, &e) : NULL;
	if (off) /* stopping or stopped already (a lost answer's, a resumed run's, or anyone's): nothing to post */
		return free(c.body), started(z, a, &r, off, false, out);
	int rc = post(z, a, now_ms, &r, &c, out, err);
	free(c.body);
	return rc;
}

int az_start(az *z, dr_arena *a, int64_t now_ms, const dr_be_request *req, dr_be_started *out, dr_be_error *err)
{
	char rid[37];
	const char *key = req->idempotency_key ? req->idempotency_key : "";
	az_rec *seen = rec_of_key(z, a, key);
	const char *item_id = az_item_id(z, a, req->item_id, err);
	if (!item_id)
		return -1;
	if (seen && !same_call(z, a, seen, req, item_id))
		return conflict(z, a, req, seen, item_id, err);
	if (seen && seen->job_id) {
		*out = (dr_be_started){.job_id = seen->job_id, .replayed = true, .request_id = seen->rid};
		return 0;
	}
	dr_auth_uuid_of(key, rid);
	/* the copy the peek before this post looked at, if any: its failoverDirection needs no GET (azure_cache.c) */
	cJSON *copy = needs_direction(req->op) && !req->replay_only ? az_cache_json(z, item_id, now_ms) : NULL;
	az_cache_drop(z, item_id); /* an operation on it, or a question about one: only the service says now */
	int rc = start_on(z, a, now_ms, req, item_id, rid, seen, copy, out, err);
	cJSON_Delete(copy);
	return rc;
}

/* ---- jobs ----------------------------------------------------------------------------------------------------------- */

/* A job the service finished at once (200 without an LRO): done when asked. */
static int local_job(az *z, dr_arena *a, const char *job_id, int64_t now, dr_be_job *out)
{
	const az_rec *r = az_rec_of_job(z, a, job_id);
	*out = (dr_be_job){.id = job_id, .name = job_id + strlen(LOCAL_JOB), .op = r ? r->op : DR_BE_OP_FAILOVER,
			   .scenario = "", .friendly_name = "", .item_id = r ? r->item_id : NULL,
			   .state = DR_BE_JOB_SUCCEEDED, .state_description = "Completed", .start_ms = now,
			   .end_ms = now, .point_id = r ? r->point_id : NULL, .point_ms = r ? r->point_ms : -1,
			   .poll_after_ms = -1};
	return 0;
}

/* Compute's asynchronous operation (power off): {status, startTime, endTime, error}. */
static void compute_job(dr_arena *a, const cJSON *j, const az_rec *r, const char *job_id, dr_be_job *out)
{
	const char *status = az_str(j, "status");
	int64_t start = -1, end = -1;
	dr_backend_parse_time(az_str(j, "startTime"), &start);
	*out = (dr_be_job){.id = job_id, .name = dr_arena_strdup(a, az_str(j, "name") ? az_str(j, "name") : "poweroff"),
			   .op = DR_BE_OP_SHUTDOWN, .scenario = "PowerOff", .friendly_name = "Power off the virtual machine",
			   .item_id = r ? r->item_id : NULL, .item_name = r ? r->item_name : NULL,
			   .state = az_parse_job_state(status), .start_ms = start, .end_ms = -1, .point_ms = -1};
	out->state_description = out->state == DR_BE_JOB_SUCCEEDED ? "Completed" : dr_arena_strdup(a, status ? status : "");
	if (dr_backend_job_done(out->state) && dr_backend_parse_time(az_str(j, "endTime"), &end))
		out->end_ms = end;
	const cJSON *e = cJSON_GetObjectItem(j, "error");
	if (out->state == DR_BE_JOB_FAILED && cJSON_IsObject(e)) {
		out->errors = dr_arena_calloc(a, 1, sizeof *out->errors);
		out->n_errors = 1;
		dr_backend_fail(&out->errors[0].error, a, 0, DR_BE_ERR_PERMANENT, az_str(e, "code") ? az_str(e, "code") : "Failed",
				NULL, NULL, "%s", az_str(e, "message") ? az_str(e, "message") : "The power off failed.");
	}
}

/* What the process knows about a job it started, over what the job says. */
static void merge_rec(const az_rec *r, bool op_known, dr_be_job *j)
{
	if (!r)
		return;
	if (!op_known)
		j->op = r->op;
	j->item_id = r->item_id;
	if (r->item_name && !j->item_name)
		j->item_name = r->item_name;
	if (!j->point_id && r->point_id)
		j->point_id = r->point_id;
	if (j->point_id && r->point_id && ieq(j->point_id, r->point_id))
		j->point_ms = r->point_ms;
}

/* The time of a point a job used that no listing showed (failover to latest): GET it once. */
static int64_t fetch_point_time(az *z, dr_arena *a, const char *point_id)
{
	az_reply rep;
	dr_be_error e;
	dr_be_point pt;
	az_req r = {.method = "GET", .url = point_id, .api = z->api};
	int64_t ms = -1;
	if (az_send(z, a, &r, &rep, &e) == 0 && az_parse_point(a, rep.json, &pt) && pt.time_ms >= 0) {
		az_note_point(z, pt.id, pt.time_ms);
		ms = pt.time_ms;
	}
	az_reply_dispose(&rep);
	return ms;
}

/* A power off found by its VM's power state: running while the VM stops, done when it is stopped. */
static int vm_job(az *z, dr_arena *a, const char *job_id, int64_t now, dr_be_job *out, dr_be_error *err)
{
	const char *vm_id = job_id + strlen(VM_JOB);
	const az_rec *r = az_rec_of_job(z, a, job_id);
	const char *power = az_vm_power(z, a, vm_id, err);
	if (!power)
		return -1;
	bool stopped = strcasecmp(power, "stopped") == 0 || strcasecmp(power, "deallocated") == 0;
	*out = (dr_be_job){.id = job_id, .name = last_segment(vm_id), .op = DR_BE_OP_SHUTDOWN, .scenario = "PowerOff",
			   .friendly_name = "Power off the virtual machine", .item_id = r ? r->item_id : NULL,
			   .item_name = r ? r->item_name : NULL, .start_ms = now, .end_ms = -1, .point_ms = -1,
			   .state_description = dr_arena_printf(a, "PowerState/%s", power)};
	out->state = stopped ? DR_BE_JOB_SUCCEEDED : powering_off(power) ? DR_BE_JOB_IN_PROGRESS : DR_BE_JOB_FAILED;
	out->end_ms = dr_backend_job_done(out->state) ? now : -1;
	out->poll_after_ms = dr_backend_job_done(out->state) ? -1 : VM_POLL_MS;
	if (out->state == DR_BE_JOB_FAILED) {
		out->errors = dr_arena_calloc(a, 1, sizeof *out->errors);
		out->n_errors = 1;
		dr_backend_fail(&out->errors[0].error, a, 0, DR_BE_ERR_TRANSIENT, "VirtualMachineRunning", NULL,
				"Power the VM off in the portal, or retry the step.",
				"The VM %s is %s: its power off did not finish, or it was started again.",
				last_segment(vm_id), power);
	}
	return 0;
}

int az_get_job(az *z, dr_arena *a, int64_t now_ms, const char *job_id, dr_be_job *out, dr_be_error *err)
{
	if (strncmp(job_id, LOCAL_JOB, strlen(LOCAL_JOB)) == 0)
		return local_job(z, a, job_id, now_ms, out);
	if (strncmp(job_id, VM_JOB, strlen(VM_JOB)) == 0)
		return vm_job(z, a, job_id, now_ms, out, err);
	bool compute = strncasecmp(job_id, "http", 4) == 0;
	az_reply rep;
	az_req r = {.method = "GET", .url = job_id, .api = compute ? NULL : z->api};
	pthread_mutex_lock(&z->mu);
	z->stats.polls++;
	pthread_mutex_unlock(&z->mu);
	if (az_send(z, a, &r, &rep, err) < 0)
		return az_reply_dispose(&rep), -1;
	const az_rec *rec = az_rec_of_job(z, a, job_id);
	bool op_known = true;
	int rc = 0;
	if (compute)
		compute_job(a, rep.json, rec, job_id, out);
	else if (!az_parse_job(a, rep.json, out, &op_known))
		rc = dr_backend_fail(err, a, 502, DR_BE_ERR_TRANSIENT, "BadResponse", NULL, NULL,
				     "The service's answer for %s is not a job: it has no '%s'.", job_id,
				     az_parse_lacks(rep.json, AZ_JOB));
	if (rc == 0) {
		merge_rec(rec, op_known, out);
		if (rec && rec->item_id)
			az_cache_drop(z, rec->item_id); /* the job changes the item */
		const char *moved = az_str(az_path(rep.json, AZK(JOB_PROPS), AZK(JOB_CUSTOM), NULL), AZK(SWITCH_NEW_ITEM));
		if (moved && out->item_id) { /* switch protection: a new item in the other container */
			az_note_moved(z, out->item_id, moved);
			az_cache_drop(z, moved);
		}
		if (out->point_id && out->point_ms < 0)
			out->point_ms = point_time(z, out->point_id);
		if (out->point_id && out->point_ms < 0 && out->state == DR_BE_JOB_SUCCEEDED && strncasecmp(out->point_id, "/", 1) == 0)
			out->point_ms = fetch_point_time(z, a, out->point_id);
		int64_t hint = rep.retry_after_ms > 0 ? rep.retry_after_ms : rec && rec->poll_ms > 0 ? rec->poll_ms : -1;
		out->poll_after_ms = dr_backend_job_done(out->state) ? -1 : hint > 0 ? hint : AZ_POLL_DEFAULT_MS;
	}
	az_reply_dispose(&rep);
	return rc;
}

/* ---- listing jobs -------------------------------------------------------------------------------------------------- */

typedef struct jobs_ctx {
	az *z;
	dr_arena *a;
	const dr_be_job_filter *f;
	const char *item_name; /* the filter item's last segment */
	dr_be_job *v;
	size_t n, cap;
} jobs_ctx;

static bool job_matches(const jobs_ctx *c, const dr_be_job *j)
{
	if (c->f->running_only && dr_backend_job_done(j->state))
		return false;
	if (c->f->since_ms >= 0 && j->start_ms >= 0 && j->start_ms < c->f->since_ms)
		return false;
	return !c->f->item_id || ieq(j->item_id, c->f->item_id) || ieq(last_segment(j->item_id), c->item_name);
}

static int collect_job(void *ctx, const cJSON *v)
{
	jobs_ctx *c = ctx;
	dr_be_job j;
	bool op_known;
	if (!az_parse_job(c->a, v, &j, &op_known))
		return 0;
	merge_rec(az_rec_of_job(c->z, c->a, j.id), op_known, &j);
	if (!op_known && !az_rec_of_job(c->z, c->a, j.id))
		return 0; /* a job of another kind (replication, plans): not one of the interface's operations */
	if (!job_matches(c, &j))
		return 0;
	c->v = az_grow(c->a, c->v, c->n, &c->cap, sizeof *c->v);
	c->v[c->n++] = j;
	return 0;
}

int az_list_jobs(az *z, dr_arena *a, int64_t now_ms, const dr_be_job_filter *f, dr_be_job **out, size_t *n,
		 dr_be_error *err)
{
	int64_t since = f->since_ms >= 0 ? f->since_ms : now_ms - LOOKBACK_MS;
	const char *filter = dr_arena_printf(a, "startTime eq '%s'", iso(a, since));
	char *q = dr_http_escape(filter);
	const char *query = dr_arena_printf(a, "$filter=%s", q);
	free(q);
	jobs_ctx c = {.z = z, .a = a, .f = f, .item_name = last_segment(f->item_id)};
	int rc = az_list(z, a, dr_arena_printf(a, "%s/replicationJobs", z->vault_path), z->api, query, collect_job, &c, err);
	*out = c.v, *n = c.n;
	return rc;
}
