/*
 * backends/sim_points.c - recovery points that appear over time.
 *
 * Points are not stored: an item replicates during [pts_since, pts_until]
 * and its points follow a fixed schedule in that window, one every 5
 * minutes from the item's phase, every 12th (hourly) app-consistent, the
 * others crash-consistent, kept for 24 hours. A point is processed lag_ms
 * after its time; until then it is listed with processed = false. A
 * failover freezes the window (replication stops), a commit deletes it,
 * reprotect starts a new one when its job ends. So listing is O(points in
 * the window) and finding a point by id is O(1): a point's name is a GUID
 * whose last 12 hex digits are its Unix time in seconds, checked against a
 * hash of the item and the time.
 */
#include "backends/sim_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/*
 * The region whose container holds the item: the side it is protected
 * from. A failover leaves it there until reprotect; A2A reprotect (switch
 * protection) makes a new item in the container of the side it now
 * replicates from - ASR's ARM id changes (SwitchProtectionJobDetails.
 * newReplicationProtectedItemId; A2A lifecycleId is what stays).
 */
static int home(const sim_item *it)
{
	switch (it->state) {
	case DR_BE_ST_FAILED_OVER:
	case DR_BE_ST_CHANGING_POINT:
	case DR_BE_ST_COMMITTING:
	case DR_BE_ST_CANCELLING:
	case DR_BE_ST_COMMITTED: return !it->active; /* failed over away from its container */
	default: return it->active;
	}
}

/* The parts put together in a heap string of just their size (*len: its length). */
static char *join_heap(const char *const *parts, size_t n, size_t *len)
{
	size_t total = 0;
	for (size_t i = 0; i < n; i++)
		total += strlen(parts[i]);
	char *out = xmalloc(total + 1), *p = out;
	*p = '\0';
	for (size_t i = 0; i < n; i++)
		p = stpcpy(p, parts[i]);
	*len = total;
	return out;
}

/*
 * The item's ARM id: asked for per item and per point by listings and views,
 * each time (a rehearsal's every poll), so it is put together once for each
 * region the item can call home, kept with the item, and copied. The cache is
 * filled under s->mu like every view; a const item's cache is still its own.
 */
const char *sim_item_id(const sim *s, const sim_item *it, dr_arena *a)
{
	int h = home(it);
	sim_item *mine = (sim_item *)it; /* the cache only */
	if (!mine->arm_id[h]) {
		const char *r = it->region[h];
		const char *parts[] = {s->vault_id, "/replicationFabrics/asr-a2a-default-", r,
				       "/replicationProtectionContainers/asr-a2a-default-", r,
				       "-container/replicationProtectedItems/", it->guid};
		mine->arm_id[h] = join_heap(parts, sizeof parts / sizeof parts[0], &mine->arm_id_len[h]);
	}
	return dr_arena_strndup(a, it->arm_id[h], it->arm_id_len[h]);
}

void sim_item_forget_ids(sim_item *it)
{
	for (int h = 0; h < 2; h++) {
		free(it->arm_id[h]);
		it->arm_id[h] = NULL;
	}
}

const char *sim_job_id(const sim *s, const sim_job *j, dr_arena *a)
{
	return dr_arena_join(a, (const char *const[]){s->vault_id, "/replicationJobs/", j->guid}, 3);
}

const char *sim_child_id(dr_arena *a, const char *parent, const char *collection, const char *name)
{
	return dr_arena_join(a, (const char *const[]){parent, "/", collection, "/", name}, 5);
}

bool sim_points_replicating(const sim_item *it)
{
	return it->pts_since != SIM_NEVER && it->pts_since != SIM_UNSET && it->pts_until == SIM_NEVER;
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;
	return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* The schedule indexes [*k0, *k1] of points listed at t; false when there are none. */
static bool window(const sim_item *it, int64_t t, int64_t *k0, int64_t *k1)
{
	if (it->pts_since == SIM_NEVER || it->pts_since == SIM_UNSET)
		return false;
	int64_t hi = it->pts_until < t ? it->pts_until : t;
	int64_t lo = hi - SIM_RETENTION > it->pts_since ? hi - SIM_RETENTION : it->pts_since;
	if (lo > hi)
		return false;
	*k0 = -floor_div(-(lo - it->phase_ms), SIM_POINT_EVERY); /* ceiling */
	*k1 = floor_div(hi - it->phase_ms, SIM_POINT_EVERY);
	return *k0 <= *k1;
}

static int64_t time_of(const sim_item *it, int64_t k)
{
	return it->phase_ms + k * SIM_POINT_EVERY;
}

/* name_of with the hash of the item's GUID given (a listing hashes it once). */
static void name_of(uint64_t guid_hash, int64_t time_ms, char *out)
{
	uint64_t secs = (uint64_t)(time_ms / 1000);
	uint64_t h = sim_mix(guid_hash, secs), low48 = UINT64_C(0xffffffffffff);
	sim_guid(h, (h & ~low48) | (secs & low48), out); /* the GUID of h whose last 12 hex digits are secs */
}

/* The point's name, a GUID made from the item and the time: 36 characters and a NUL into out. */
void sim_points_name(const sim_item *it, int64_t time_ms, char *out)
{
	name_of(sim_hash(it->guid), time_ms, out);
}

#define POINTS_SEGMENT "/recoveryPoints/"

/* One allocation per point: the id, whose last 36 characters are the name. */
static void fill(const sim_item *it, int64_t k, int64_t t, uint64_t guid_hash, const char *item_id, size_t id_len,
		 dr_arena *a, dr_be_point *p)
{
	size_t seg = sizeof POINTS_SEGMENT - 1;
	char *id = dr_arena_alloc_uninit(a, id_len + seg + 37);
	memcpy(id, item_id, id_len);
	memcpy(id + id_len, POINTS_SEGMENT, seg);
	p->time_ms = time_of(it, k);
	name_of(guid_hash, p->time_ms, id + id_len + seg);
	p->id = id;
	p->name = id + id_len + seg;
	p->type = k % SIM_APP_EVERY == 0 ? DR_BE_POINT_APP_CONSISTENT : DR_BE_POINT_CRASH_CONSISTENT;
	p->processed = p->time_ms + it->lag_ms <= t;
}

/* The newest max points of the window (newest first); every one when max is SIZE_MAX. */
static size_t list_newest(const sim *s, const sim_item *it, int64_t t, size_t max, dr_arena *a, dr_be_point **out)
{
	int64_t k0, k1;
	*out = NULL;
	if (!window(it, t, &k0, &k1))
		return 0;
	size_t n = (size_t)(k1 - k0 + 1);
	if (n > max)
		n = max;
	const char *item_id = sim_item_id(s, it, a);
	size_t id_len = strlen(item_id);
	uint64_t guid_hash = sim_hash(it->guid);
	dr_be_point *pts = dr_arena_calloc(a, n, sizeof *pts);
	for (size_t i = 0; i < n; i++)
		fill(it, k1 - (int64_t)i, t, guid_hash, item_id, id_len, a, &pts[i]);
	*out = pts;
	return n;
}

size_t sim_points_list(const sim *s, const sim_item *it, int64_t t, dr_arena *a, dr_be_point **out)
{
	return list_newest(s, it, t, SIZE_MAX, a, out);
}

/*
 * How many of the newest points hold the newest processed point of each
 * type: the points not yet processed (the replication lag), then back to
 * the last hourly app-consistent one - a dozen or so, not a day's 288.
 */
static size_t newest_needed(const sim_item *it, int64_t t, int64_t k0, int64_t k1)
{
	bool app = false, crash = false;
	int64_t k = k1;
	for (; k >= k0 && !(app && crash); k--) {
		if (time_of(it, k) + it->lag_ms > t)
			continue; /* not processed yet: no policy but custom picks it */
		if (k % SIM_APP_EVERY == 0)
			app = true;
		else
			crash = true;
	}
	return (size_t)(k1 - k);
}

size_t sim_points_newest(const sim *s, const sim_item *it, int64_t t, dr_arena *a, dr_be_point **out)
{
	int64_t k0, k1;
	*out = NULL;
	if (!window(it, t, &k0, &k1))
		return 0;
	return list_newest(s, it, t, newest_needed(it, t, k0, k1), a, out);
}

/* The Unix seconds a point name encodes, when it has the shape of one. */
static bool decode(const char *name, int64_t *secs)
{
	static const int dash[] = {8, 13, 18, 23};
	if (strlen(name) != 36)
		return false;
	for (int i = 0, d = 0; i < 36; i++) {
		if (d < 4 && i == dash[d]) {
			if (name[i] != '-')
				return false;
			d++;
		} else if (!strchr("0123456789abcdef", name[i])) {
			return false;
		}
	}
	*secs = (int64_t)strtoull(name + 24, NULL, 16);
	return true;
}

bool sim_points_find(const sim_item *it, const char *id, int64_t t, int64_t *time_ms, bool *processed)
{
	const char *slash = strrchr(id, '/');
	const char *name = slash ? slash + 1 : id;
	int64_t secs, k0, k1;
	char want[40];
	if (!decode(name, &secs) || !window(it, t, &k0, &k1))
		return false;
	sim_points_name(it, secs * 1000, want);
	if (strcmp(want, name) != 0)
		return false;
	int64_t ms = secs * 1000, rel = ms - it->phase_ms;
	if (rel % SIM_POINT_EVERY != 0 || rel / SIM_POINT_EVERY < k0 || rel / SIM_POINT_EVERY > k1)
		return false;
	*time_ms = ms;
	*processed = ms + it->lag_ms <= t;
	return true;
}

int64_t sim_points_latest_processed(const sim_item *it, int64_t t)
{
	int64_t k0, k1;
	if (!window(it, t, &k0, &k1))
		return SIM_NEVER;
	int64_t kp = floor_div(t - it->lag_ms - it->phase_ms, SIM_POINT_EVERY);
	if (kp > k1)
		kp = k1;
	return kp >= k0 ? time_of(it, kp) : SIM_NEVER;
}
