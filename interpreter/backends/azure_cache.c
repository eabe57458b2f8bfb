/*
 * backends/azure_cache.c - what the service said a moment ago, for items
 * nothing was started on since.
 *
 * A run lists the vault's items to bind its VM sets; the preflight then
 * looks at every item and its recovery points, and each task looks again
 * before it starts (state, allowed operations, current job, the point to
 * use). At 1,000 VMs each of those looks is 1,000 reads of ARM's read
 * budget (25 a second) for what the service said seconds before. So an
 * item's copy from the last list, and its last list of recovery points,
 * answer for AZ_CACHE_TTL_MS - unless this backend started an operation on
 * the item since: from then on only the service says what the item is. A
 * copy that turns out stale costs nothing worse than the service's refusal
 * of the operation, which is checked as any refusal is.
 */
#include "backends/azure_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/xalloc.h"

typedef struct az_cached {
	char *id;
	char *json, *points; /* the item; its recovery points (a JSON array); NULL: none kept */
	int64_t listed_ms, points_ms;
	bool dropped; /* an operation was started on it: ask the service */
} az_cached;

static uint64_t ihash(const char *s)
{
	uint64_t h = DR_INDEX_SEED;
	for (; *s; s++) {
		h ^= (unsigned char)(*s >= 'A' && *s <= 'Z' ? *s - 'A' + 'a' : *s);
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

/* The entry of id (z->mu held); a new one when make, else NULL when there is none. */
static az_cached *find(az *z, const char *id, bool make)
{
	for (size_t pos = 0, v; (v = dr_index_next(&z->lc_by_id, ihash(id), &pos)) != DR_INDEX_NONE;)
		if (strcasecmp(z->lc[v].id, id) == 0)
			return &z->lc[v];
	if (!make)
		return NULL;
	if (z->n_lc == z->cap_lc) {
		z->cap_lc = z->cap_lc ? z->cap_lc * 2 : 256;
		z->lc = xrealloc(z->lc, z->cap_lc * sizeof *z->lc);
	}
	z->lc[z->n_lc] = (az_cached){.id = xstrdup(id)};
	dr_index_put(&z->lc_by_id, ihash(id), z->n_lc);
	return &z->lc[z->n_lc++];
}

static bool fresh(int64_t at, int64_t now)
{
	return now >= at && now - at <= AZ_CACHE_TTL_MS;
}

/* Keep json (taken) as id's item copy or its points, seen at now_ms; not once an operation touched it. */
static void keep(az *z, const char *id, char *json, bool points, int64_t now_ms)
{
	pthread_mutex_lock(&z->mu);
	az_cached *c = find(z, id, true);
	char **slot = points ? &c->points : &c->json;
	if (!c->dropped) {
		free(*slot);
		*slot = json, json = NULL;
		*(points ? &c->points_ms : &c->listed_ms) = now_ms;
	}
	pthread_mutex_unlock(&z->mu);
	free(json);
}

void az_cache_listed(az *z, const cJSON *v, int64_t now_ms)
{
	const char *id = az_str(v, "id");
	char *json = id ? cJSON_PrintUnformatted(v) : NULL;
	if (json)
		keep(z, id, json, false, now_ms);
}

/* A copy of what is kept (heap) when it may still answer, else NULL. */
static char *take(az *z, const char *id, int64_t now_ms, bool points)
{
	char *out = NULL;
	pthread_mutex_lock(&z->mu);
	az_cached *c = find(z, id, false);
	if (c && !c->dropped && points && c->points && fresh(c->points_ms, now_ms))
		out = xstrdup(c->points);
	if (c && !c->dropped && !points && c->json && fresh(c->listed_ms, now_ms))
		out = xstrdup(c->json);
	pthread_mutex_unlock(&z->mu);
	return out;
}

bool az_cache_take(az *z, dr_arena *a, const char *id, int64_t now_ms, dr_be_item *out)
{
	char *json = take(z, id, now_ms, false);
	cJSON *v = json ? cJSON_Parse(json) : NULL;
	bool ok = v && az_parse_item(a, v, out);
	cJSON_Delete(v);
	free(json);
	return ok;
}

void az_cache_points_put(az *z, const char *id, const cJSON *values, int64_t now_ms)
{
	char *json = cJSON_PrintUnformatted(values);
	if (json)
		keep(z, id, json, true, now_ms);
}

cJSON *az_cache_points_take(az *z, const char *id, int64_t now_ms)
{
	char *json = take(z, id, now_ms, true);
	cJSON *v = json ? cJSON_Parse(json) : NULL;
	free(json);
	return v;
}

void az_cache_drop(az *z, const char *id)
{
	pthread_mutex_lock(&z->mu);
	az_cached *c = find(z, id, true);
	c->dropped = true;
	free(c->json), free(c->points);
	c->json = c->points = NULL;
	pthread_mutex_unlock(&z->mu);
}

void az_cache_free(az *z)
{
	for (size_t i = 0; i < z->n_lc; i++)
		free(z->lc[i].id), free(z->lc[i].json), free(z->lc[i].points);
	free(z->lc);
	dr_index_dispose(&z->lc_by_id);
}
