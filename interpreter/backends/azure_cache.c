/*
 * backends/azure_cache.c - what the last list said about an item, for the
 * one look that may use it: a dr.* action's look before it posts
 * (dr_backend_peek_item), whose conclusion the service checks again.
 *
 * A run lists the vault's items to bind its VM sets and again in the
 * preflight; each task then looks at its item before it starts (state,
 * allowed operations, current job). At 1,000 VMs those looks are 1,000
 * reads of ARM's read budget (25 a second) for what the service said
 * seconds before. So an item's copy from the last list answers a peek for
 * AZ_CACHE_TTL_MS - unless this backend started an operation on the item
 * since, after which only the service says what the item is. A stale copy
 * costs no more than the service's refusal of the post, checked as any
 * refusal is; its replication lag is aged by the copy's age (what a copy
 * cannot know is only that replication stalled), so an RPO guard never
 * passes on a copy. Nothing else reads a copy: probes, target.state, the
 * preflight, outputs and recovery points always ask the service - except
 * the failoverDirection of the post the peek decided on (az_cache_json):
 * it depends on the item's regions (its fabrics and initial fabric
 * locations), which an item id keeps for its life (switch protection
 * makes a new item in the other container), and, for a direction left to
 * the service's view, on its activeLocation, which only an operation the
 * service would refuse this post after could have changed. So a failover
 * or test failover after a peek costs no GET of the item.
 */
#include "backends/azure_int.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/xalloc.h"

typedef struct az_cached {
	char *id;
	char *json; /* the item as listed; NULL: none kept */
	int64_t listed_ms;
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

void az_cache_listed(az *z, const cJSON *v, int64_t now_ms)
{
	const char *id = az_str(v, "id");
	char *json = id ? cJSON_PrintUnformatted(v) : NULL;
	if (!json)
		return;
	pthread_mutex_lock(&z->mu);
	az_cached *c = find(z, id, true);
	if (!c->dropped) { /* once an operation touched it, never again */
		free(c->json);
		c->json = json, json = NULL;
		c->listed_ms = now_ms;
	}
	pthread_mutex_unlock(&z->mu);
	free(json);
}

/* A copy of the kept item (heap) when it may still answer, else NULL; *at: when it was listed. */
static char *take(az *z, const char *id, int64_t now_ms, int64_t *at)
{
	char *out = NULL;
	pthread_mutex_lock(&z->mu);
	az_cached *c = find(z, id, false);
	if (c && !c->dropped && c->json && fresh(c->listed_ms, now_ms))
		out = xstrdup(c->json), *at = c->listed_ms;
	pthread_mutex_unlock(&z->mu);
	return out;
}

cJSON *az_cache_json(az *z, const char *id, int64_t now_ms)
{
	int64_t at;
	char *json = take(z, id, now_ms, &at);
	cJSON *v = json ? cJSON_Parse(json) : NULL;
	free(json);
	return v;
}

bool az_cache_take(az *z, dr_arena *a, const char *id, int64_t now_ms, dr_be_item *out)
{
	int64_t at = now_ms;
	char *json = take(z, id, now_ms, &at);
	cJSON *v = json ? cJSON_Parse(json) : NULL;
	bool ok = v && az_parse_item(a, v, out);
	if (ok && out->rpo_ms >= 0)
		out->rpo_ms += now_ms - at; /* as if nothing replicated since the list */
	cJSON_Delete(v);
	free(json);
	return ok;
}

void az_cache_drop(az *z, const char *id)
{
	pthread_mutex_lock(&z->mu);
	az_cached *c = find(z, id, true);
	c->dropped = true;
	free(c->json);
	c->json = NULL;
	pthread_mutex_unlock(&z->mu);
}

void az_cache_free(az *z)
{
	for (size_t i = 0; i < z->n_lc; i++)
		free(z->lc[i].id), free(z->lc[i].json);
	free(z->lc);
	dr_index_dispose(&z->lc_by_id);
}
