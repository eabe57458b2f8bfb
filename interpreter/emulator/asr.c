/*
 * emulator/asr.c - the ASR routes over the simulator: protected items
 * (list with nextLink paging, get), recovery points (listed unsorted, as
 * the service does), the item operations and switch protection (202 +
 * Location + Azure-AsyncOperation + Retry-After), their long-running
 * operation URLs, jobs (get, list with $filter and paging), and the vault
 * objects reprotect discovers (fabrics, containers, mappings, policies).
 *
 * Items are named by their GUID in paths, under the fabric and container
 * of their primary region, all compared ignoring case; a VM's name is not
 * an item name. Refusals are the simulator's, with its codes, in ASR's
 * envelope (payload.c).
 */
#include "emulator/emu_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "backends/sim.h"
#include "util/xalloc.h"

/* ---- small helpers ------------------------------------------------------------------------- */

static const char *lower(dr_arena *a, const char *s)
{
	char *o = dr_arena_strdup(a, s);
	for (char *p = o; *p; p++)
		*p = (char)tolower((unsigned char)*p);
	return o;
}

static const char *last_segment(const char *id)
{
	const char *s = strrchr(id, '/');
	return s ? s + 1 : id;
}

static void fail(emu_call *c, int status, const char *code, const char *causes, const char *action, const char *msg)
{
	dr_be_error err = {.http_status = status, .code = code, .message = msg, .possible_causes = causes,
			   .recommended_action = action, .retry_after_ms = -1};
	emu_asr_error(c, &err);
}

static void url_encode(dr_buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (isalnum(ch) || strchr("-._~", ch))
			dr_buf_putc(b, (char)ch);
		else
			dr_buf_printf(b, "%%%02X", ch);
	}
}

/* The request's own URL with skipToken=next (and its $filter), for nextLink. */
static const char *next_link(dr_emu *e, emu_call *c, size_t next)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s%s?api-version=", e->base_url, c->rq->path);
	url_encode(&b, c->api_version);
	const char *filter = emu_query(c->rq, "$filter");
	if (filter) {
		dr_buf_puts(&b, "&%24filter=");
		url_encode(&b, filter);
	}
	dr_buf_printf(&b, "&skipToken=%zu", next);
	const char *s = dr_arena_strdup(c->a, b.data);
	dr_buf_dispose(&b);
	return s;
}

/* skipToken as an offset; false (400 answered) when it is not one the emulator wrote. */
static bool skip_token(emu_call *c, size_t *from)
{
	const char *t = emu_query(c->rq, "skipToken");
	char *end;
	if (!t)
		t = emu_query(c->rq, "$skipToken");
	*from = 0;
	if (!t)
		return true;
	unsigned long long v = strtoull(t, &end, 10);
	if (!*t || *end) {
		fail(c, 400, "InvalidSkipToken", "The token was not taken from a nextLink of this list.",
		     "Follow the nextLink as given.", "The skip token is invalid.");
		return false;
	}
	*from = (size_t)v;
	return true;
}

static void page_answer(dr_emu *e, emu_call *c, cJSON *value, size_t next, bool more)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddItemToObject(o, "value", value);
	if (more)
		cJSON_AddStringToObject(o, "nextLink", next_link(e, c, next));
	emu_json(c->rs, 200, o);
}

/* ---- $filter: "a eq 'x' and b eq 'y'" --------------------------------------------------------------- */

typedef struct filter {
	const char *k[8], *v[8];
	size_t n;
} filter;

static bool parse_filter(emu_call *c, filter *f)
{
	const char *s = emu_query(c->rq, "$filter");
	f->n = 0;
	while (s && *s) {
		char key[64], val[256];
		int used = 0;
		while (*s == ' ')
			s++;
		if (f->n == 8 || sscanf(s, "%63[A-Za-z] eq '%255[^']'%n", key, val, &used) != 2 || used == 0) {
			fail(c, 400, "InvalidFilter", "The emulator understands filters of the form name eq 'value' "
						      "joined by 'and'.",
			     "Fix the $filter expression.", dr_arena_printf(c->a, "The filter '%s' is invalid.",
									    emu_query(c->rq, "$filter")));
			return false;
		}
		f->k[f->n] = dr_arena_strdup(c->a, key);
		f->v[f->n++] = dr_arena_strdup(c->a, val);
		s += used;
		while (*s == ' ')
			s++;
		if (strncasecmp(s, "and ", 4) == 0)
			s += 4;
		else if (*s)
			s = "!"; /* trailing junk: parsed as an error next round */
	}
	return true;
}

static const char *filter_get(const filter *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++)
		if (emu_ieq(f->k[i], key))
			return f->v[i];
	return NULL;
}

static bool filter_only(emu_call *c, const filter *f, const char *const *known)
{
	for (size_t i = 0; i < f->n; i++) {
		bool ok = false;
		for (size_t j = 0; known[j]; j++)
			ok |= emu_ieq(f->k[i], known[j]);
		if (!ok) {
			fail(c, 400, "InvalidFilter", "The emulator doesn't filter on this property.",
			     "Filter on the client, or remove the term.",
			     dr_arena_printf(c->a, "The filter property '%s' isn't supported.", f->k[i]));
			return false;
		}
	}
	return true;
}

/* ---- items ------------------------------------------------------------------------------------- */

/* The segment of id after "/<kind>/" (replicationFabrics, replicationProtectionContainers), in a; "" when none. */
static const char *id_segment(dr_arena *a, const char *id, const char *kind)
{
	const char *at = strcasestr(id, dr_arena_printf(a, "/%s/", kind)), *end;
	if (!at)
		return "";
	at += strlen(kind) + 2;
	end = strchr(at, '/');
	return dr_arena_strndup(a, at, end ? (size_t)(end - at) : strlen(at));
}

/*
 * The item the path names (GUID, and the fabric and container that hold
 * it now: those of the side it is protected from, which A2A reprotect
 * changes); false: 404 answered.
 */
static bool find_item(dr_emu *e, emu_call *c, const char *name, dr_be_item *out)
{
	dr_be_error err;
	const char *want = lower(c->a, name);
	int64_t now = emu_now(e, c->rq);
	bool ok = dr_backend_get_item(e->be, c->a, now, want, out, &err) == 0 &&
		  strcmp(last_segment(out->id), want) == 0;
	if (ok && c->n_caps > 4)
		ok = emu_ieq(emu_cap(c, "fabric"), id_segment(c->a, out->id, "replicationFabrics")) &&
		     emu_ieq(emu_cap(c, "container"), id_segment(c->a, out->id, "replicationProtectionContainers"));
	if (!ok)
		fail(c, 404, "ReplicationProtectedItemNotFound",
		     "The item doesn't exist in this vault, or the fabric or container in the path isn't its own.",
		     "List the vault's replicationProtectedItems and use an item's id as given.",
		     dr_arena_printf(c->a, "The replication protected item '%s' wasn't found.", name));
	return ok;
}

void emu_asr_item(dr_emu *e, emu_call *c)
{
	dr_be_item it;
	if (find_item(e, c, emu_cap(c, "item"), &it))
		emu_json(c->rs, 200, emu_item_json(e, c->a, emu_now(e, c->rq), &it));
}

static bool item_matches(dr_emu *e, emu_call *c, const filter *f, const dr_be_item *it)
{
	const char *fabric = filter_get(f, "sourceFabricName"), *type = filter_get(f, "instanceType");
	const char *own = id_segment(c->a, it->id, "replicationFabrics");
	if (c->n_caps > 4 && !emu_ieq(emu_cap(c, "container"), id_segment(c->a, it->id, "replicationProtectionContainers")))
		return false;
	if (fabric && !emu_ieq(fabric, own) && !emu_ieq(dr_arena_printf(c->a, "asr-a2a-default-%s", fabric), own))
		return false;
	const char *provider = emu_faults_provider(e, it->name);
	return !type || emu_ieq(type, provider ? provider : "A2A");
}

void emu_asr_items(dr_emu *e, emu_call *c)
{
	static const char *const known[] = {"sourceFabricName", "instanceType", NULL};
	size_t from, n, total;
	filter f;
	dr_be_item *items;
	if (!skip_token(c, &from) || !parse_filter(c, &f) || !filter_only(c, &f, known))
		return;
	dr_sim_list_items_page(e->be, c->a, emu_now(e, c->rq), from, e->o.page_size, &items, &n, &total);
	cJSON *value = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		if (item_matches(e, c, &f, &items[i]))
			cJSON_AddItemToArray(value, emu_item_json(e, c->a, emu_now(e, c->rq), &items[i]));
	page_answer(e, c, value, from + n, from + n < total);
}

/* ---- recovery points ----------------------------------------------------------------------------- */

/* The service lists points in no particular order: a fixed shuffle, so clients must sort. */
static int by_scramble(const void *pa, const void *pb)
{
	const dr_be_point *a = pa, *b = pb;
	unsigned long long ha = strtoull(a->name, NULL, 16), hb = strtoull(b->name, NULL, 16);
	return ha < hb ? -1 : ha > hb;
}

/*
 * The item's points, with the one its last (test) failover or change used
 * when that is not a scheduled one: "latest" makes a point of the data
 * processed at failover, which the service then lists and serves by id (a
 * client reads its time for the RPO). Not after a commit: no point is left.
 */
static bool list_points(dr_emu *e, emu_call *c, const dr_be_item *it, dr_be_point **pts, size_t *n)
{
	dr_be_error err;
	if (dr_backend_list_points(e->be, c->a, emu_now(e, c->rq), it->id, pts, n, &err) < 0) {
		emu_asr_error(c, &err);
		return false;
	}
	const char *fp = it->failover_point_id ? last_segment(it->failover_point_id) : NULL;
	for (size_t i = 0; fp && i < *n; i++)
		if (strcmp((*pts)[i].name, fp) == 0)
			return true;
	if (!fp || *n == 0 || it->failover_point_ms < 0)
		return true;
	*pts = dr_arena_grow(c->a, *pts, *n, *n + 1, sizeof **pts);
	(*pts)[(*n)++] = (dr_be_point){.id = it->failover_point_id, .name = fp, .time_ms = it->failover_point_ms,
				       .type = DR_BE_POINT_CRASH_CONSISTENT, .processed = true};
	return true;
}

static int by_time_desc(const void *pa, const void *pb)
{
	const dr_be_point *a = pa, *b = pb;
	return a->time_ms < b->time_ms ? 1 : a->time_ms > b->time_ms ? -1 : 0;
}

/* The time from which an `undated-points` fault serves its points without a time (INT64_MAX: none is undated). */
static int64_t undated_from(dr_emu *e, const dr_be_item *it, dr_be_point *pts, size_t n)
{
	int64_t k = emu_faults_undated(e, it->name);
	if (k <= 0 || n == 0)
		return INT64_MAX;
	if ((uint64_t)k >= n)
		return INT64_MIN;
	qsort(pts, n, sizeof *pts, by_time_desc);
	return pts[k - 1].time_ms;
}

void emu_asr_points(dr_emu *e, emu_call *c)
{
	dr_be_item it;
	dr_be_point *pts;
	size_t n = 0;
	if (!find_item(e, c, emu_cap(c, "item"), &it) || !list_points(e, c, &it, &pts, &n))
		return;
	int64_t from = undated_from(e, &it, pts, n);
	if (n > 1)
		qsort(pts, n, sizeof *pts, by_scramble);
	cJSON *value = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(value, emu_point_json(e, c->a, &it, &pts[i], pts[i].time_ms >= from));
	page_answer(e, c, value, 0, false);
}

void emu_asr_point(dr_emu *e, emu_call *c)
{
	dr_be_item it;
	dr_be_point *pts;
	size_t n = 0;
	const char *name = emu_cap(c, "point");
	if (!find_item(e, c, emu_cap(c, "item"), &it) || !list_points(e, c, &it, &pts, &n))
		return;
	int64_t from = undated_from(e, &it, pts, n);
	for (size_t i = 0; i < n; i++)
		if (emu_ieq(pts[i].name, name)) {
			emu_json(c->rs, 200, emu_point_json(e, c->a, &it, &pts[i], pts[i].time_ms >= from));
			return;
		}
	fail(c, 404, "RecoveryPointNotFound",
	     "The point was purged (older than the retention window), deleted by a commit, or belongs to another "
	     "item.",
	     "List the item's recovery points and pick one of them.",
	     dr_arena_printf(c->a, "The recovery point '%s' doesn't exist for the protected item '%s'.", name,
			     it.name));
}

/* ---- starting operations ---------------------------------------------------------------------------- */

static const struct {
	const char *segment;
	dr_be_op op;
	bool body_required;
} op_routes[] = {
	{"unplannedFailover", DR_BE_OP_FAILOVER, true},	  {"testFailover", DR_BE_OP_TEST_FAILOVER, true},
	{"testFailoverCleanup", DR_BE_OP_TEST_CLEANUP, true}, {"applyRecoveryPoint", DR_BE_OP_CHANGE_POINT, true},
	{"failoverCommit", DR_BE_OP_COMMIT, false},	  {"failoverCancel", DR_BE_OP_CANCEL_FAILOVER, false},
	{"reProtect", DR_BE_OP_REPROTECT, true},
};

static const char *str_at(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool bad_input(emu_call *c, const char *code, const char *msg, const char *action)
{
	fail(c, 400, code, NULL, action, msg);
	return false;
}

static bool read_direction(emu_call *c, const cJSON *props, dr_be_request *req)
{
	const char *d = str_at(props, "failoverDirection");
	if (!d)
		return true;
	c->rs->audit_direction = dr_arena_strdup(c->a, d); /* as sent: the body is freed before the audit */
	if (emu_ieq(d, "PrimaryToRecovery"))
		req->direction = DR_BE_DIR_PRIMARY_TO_RECOVERY;
	else if (emu_ieq(d, "RecoveryToPrimary"))
		req->direction = DR_BE_DIR_RECOVERY_TO_PRIMARY;
	else
		return bad_input(c, "InvalidFailoverDirection",
				 dr_arena_printf(c->a, "The failover direction '%s' is invalid.", d),
				 "Use PrimaryToRecovery or RecoveryToPrimary.");
	return true;
}

/* providerSpecificDetails: A2A for these items; its recoveryPointId (null: latest). */
static bool read_provider(emu_call *c, const cJSON *props, dr_be_request *req)
{
	const cJSON *psd = cJSON_GetObjectItemCaseSensitive(props, "providerSpecificDetails");
	if (!psd || cJSON_IsNull(psd))
		return true;
	const char *type = str_at(psd, "instanceType");
	if (!type || !emu_ieq(type, "A2A"))
		return bad_input(c, "InvalidProviderSpecificInput",
				 dr_arena_printf(c->a, "The provider-specific input '%s' doesn't match the item's "
						       "replication provider 'A2A'.",
						 type ? type : "(none)"),
				 "Send providerSpecificDetails with instanceType 'A2A' for Azure-to-Azure items.");
	if (str_at(psd, "recoveryPointId"))
		req->point_id = str_at(psd, "recoveryPointId");
	return true;
}

static bool read_inputs(emu_call *c, const cJSON *props, dr_be_request *req)
{
	if (!read_direction(c, props, req) || !read_provider(c, props, req))
		return false;
	const char *sso = str_at(props, "sourceSiteOperations");
	if (sso && !emu_ieq(sso, "Required") && !emu_ieq(sso, "NotRequired"))
		return bad_input(c, "InvalidSourceSiteOperations",
				 dr_arena_printf(c->a, "The source site operations value '%s' is invalid.", sso),
				 "Use Required (shut the source VM down first) or NotRequired.");
	req->shutdown_source = sso && emu_ieq(sso, "Required");
	req->network = str_at(props, "networkId");
	req->comments = str_at(props, "comments");
	if (req->op == DR_BE_OP_CHANGE_POINT && str_at(props, "recoveryPointId"))
		req->point_id = str_at(props, "recoveryPointId");
	return true;
}

/* The body's "properties" object; false (400 answered) when the body is required and missing or not JSON. */
static bool read_body(emu_call *c, bool required, cJSON **root, const cJSON **props)
{
	*root = NULL;
	*props = NULL;
	if (!c->rq->body) {
		if (required)
			return bad_input(c, "InvalidRequestContent", "The request body is required for this operation.",
					 "Send the operation's input as JSON: {\"properties\": {...}}.");
		return true;
	}
	*root = cJSON_ParseWithLength(c->rq->body, c->rq->body_len);
	if (!cJSON_IsObject(*root)) {
		cJSON_Delete(*root);
		*root = NULL;
		return bad_input(c, "InvalidRequestContent",
				 "The request content was invalid and could not be deserialized: not a JSON object.",
				 "Send the operation's input as JSON: {\"properties\": {...}}.");
	}
	*props = cJSON_GetObjectItemCaseSensitive(*root, "properties");
	if (required && !cJSON_IsObject(*props)) {
		cJSON_Delete(*root);
		*root = NULL;
		return bad_input(c, "InvalidRequestContent", "The request content has no 'properties' object.",
				 "Send the operation's input as JSON: {\"properties\": {...}}.");
	}
	return true;
}

/* A Retry-After (whole seconds, at least 1) and retry-after-ms for a job polled now. */
static void retry_headers(dr_emu *e, emu_call *c, const char *job_id)
{
	dr_be_job j;
	dr_be_error err;
	int64_t ms = 10000;
	char buf[32];
	if (dr_backend_get_job(e->be, c->a, emu_now(e, c->rq), job_id, &j, &err) == 0 && j.poll_after_ms >= 0)
		ms = j.poll_after_ms;
	snprintf(buf, sizeof buf, "%lld", (long long)(ms < 1000 ? 1 : (ms + 999) / 1000));
	emu_header(c->rs, c->a, "Retry-After", buf);
	snprintf(buf, sizeof buf, "%lld", (long long)(ms < 1 ? 1 : ms));
	emu_header(c->rs, c->a, "retry-after-ms", buf);
}

static void accepted(dr_emu *e, emu_call *c, const char *resource_id, const char *job_id)
{
	const char *guid = last_segment(job_id);
	emu_header(c->rs, c->a, "Location",
		   dr_arena_printf(c->a, "%s%s/operationresults/%s?api-version=%s", e->base_url, resource_id, guid,
				   c->api_version));
	emu_header(c->rs, c->a, "Azure-AsyncOperation",
		   dr_arena_printf(c->a, "%s%s/replicationOperationStatus/%s?api-version=%s", e->base_url,
				   e->vault_id, guid, c->api_version));
	retry_headers(e, c, job_id);
	c->rs->status = 202;
	c->rs->audit_job = dr_arena_strdup(c->a, guid);
	dr_buf_reset(&c->rs->body);
}

/*
 * The simulator's refusal of a failover direction, told in the terms of
 * the item as served: a reprotected item is served from its new primary
 * side (emu_view), so the direction the client sent, the item's
 * activeLocation and the direction to use are ARM's, not the simulator's
 * first-direction ones (which would tell the client to send the very
 * direction it was just refused for).
 */
static void served_terms(emu_call *c, const dr_be_item *it, dr_be_direction sent, dr_be_error *err)
{
	if (!err->code || strcmp(err->code, "InvalidFailoverDirection") != 0 || sent == DR_BE_DIR_AUTO)
		return;
	dr_be_item v = emu_view(c->a, it);
	bool rec = v.active_location == DR_BE_RECOVERY;
	const char *where = rec ? v.recovery_region : v.primary_region;
	err->possible_causes = dr_arena_printf(c->a, "The item's activeLocation is %s: its VM runs in %s.",
					       dr_backend_location_name(v.active_location), where);
	err->recommended_action = dr_arena_printf(c->a, "Send failoverDirection %s for this item (from %s, where it "
							 "runs, to %s).",
						  rec ? "RecoveryToPrimary" : "PrimaryToRecovery", where,
						  rec ? v.primary_region : v.recovery_region);
	err->message = dr_arena_printf(c->a, "The failover direction %s doesn't match the item '%s', which runs in "
					     "its %s region (%s).",
				       dr_backend_direction_name(sent), it->name, rec ? "recovery" : "primary", where);
}

/* Start req; answer 202 (durable first) or the refusal (it: the item as the simulator has it, NULL: none;
   sent: the failoverDirection as the client sent it). */
static void start(dr_emu *e, emu_call *c, dr_be_request *req, const char *resource_id, const dr_be_item *it,
		  dr_be_direction sent)
{
	static unsigned long long seq;
	dr_be_started st;
	dr_be_error err;
	char why[512];
	pthread_mutex_lock(&e->mu);
	unsigned long long n = ++seq;
	pthread_mutex_unlock(&e->mu);
	req->idempotency_key = dr_arena_printf(c->a, "emulator/%lld-%d/%llu", (long long)e->wall0, (int)getpid(), n);
	if (emu_start(e, c, req, &st, &err) < 0) {
		if (it)
			served_terms(c, it, sent, &err);
		emu_asr_error(c, &err);
		return;
	}
	if (emu_commit(e, st.replayed, why, sizeof why) < 0) {
		emu_arm_error(c->rs, 500, "InternalServerError",
			      "The operation started, but the emulator could not save its state (%s): it is lost if "
			      "the emulator stops before the next save.",
			      why);
		return;
	}
	accepted(e, c, resource_id, st.job_id);
	if (st.replayed) /* an earlier call's operation: this one started nothing */
		c->rs->audit_job = NULL, c->rs->audit_note = "Replayed";
}

/* An item a `provider` fault says another provider protects: A2A's operations are refused (answered: true). */
static bool foreign(dr_emu *e, emu_call *c, const dr_be_item *it)
{
	const char *provider = emu_faults_provider(e, it->name);
	if (provider)
		fail(c, 400, "InvalidProviderSpecificInput",
		     dr_arena_printf(c->a, "The item is protected by %s; the input is for Azure-to-Azure (A2A).", provider),
		     dr_arena_printf(c->a, "Send the %s input of the operation.", provider),
		     dr_arena_printf(c->a, "The provider specific input isn't valid for the protected item '%s'.",
				     it->name));
	return provider != NULL;
}

void emu_asr_operation(dr_emu *e, emu_call *c)
{
	const char *seg = last_segment(c->rq->path);
	dr_be_request req = {.direction = DR_BE_DIR_AUTO};
	dr_be_item it;
	cJSON *root;
	const cJSON *props;
	size_t i = 0;
	while (i < sizeof op_routes / sizeof op_routes[0] && !emu_ieq(op_routes[i].segment, seg))
		i++;
	req.op = op_routes[i].op;
	if (!find_item(e, c, emu_cap(c, "item"), &it) || foreign(e, c, &it) ||
	    !read_body(c, op_routes[i].body_required, &root, &props))
		return;
	req.item_id = it.id;
	if (!props || read_inputs(c, props, &req)) {
		dr_be_direction sent = req.direction;
		req.direction = emu_sim_direction(c->a, &it, sent);
		start(e, c, &req, it.id, &it, sent);
	}
	cJSON_Delete(root);
}

void emu_asr_planned(dr_emu *e, emu_call *c)
{
	dr_be_item it;
	if (!find_item(e, c, emu_cap(c, "item"), &it))
		return;
	fail(c, 400, "OperationNotSupported",
	     "Planned failover is for Hyper-V and VMware replication; Azure-to-Azure (A2A) items fail over with "
	     "unplannedFailover.",
	     "Use unplannedFailover with sourceSiteOperations 'Required' to shut the source VM down first.",
	     dr_arena_printf(c->a, "Planned failover isn't supported for the A2A protected item '%s'.", it.name));
}

/* ---- switch protection (A2A reprotect) ------------------------------------------------------------------ */

static bool check_switch(dr_emu *e, emu_call *c, const cJSON *psd, const dr_be_item *it)
{
	const char *type = str_at(psd, "instanceType"), *rc = str_at(psd, "recoveryContainerId");
	const char *policy = str_at(psd, "policyId");
	const char *want = emu_container_id(e, c->a, it->active_location == DR_BE_PRIMARY ? it->recovery_region
											     : it->primary_region);
	if (!type || !emu_ieq(type, "A2A"))
		return bad_input(c, "InvalidProviderSpecificInput",
				 "Switch protection of an Azure-to-Azure item needs providerSpecificDetails with "
				 "instanceType 'A2A'.",
				 "Send the A2A switch protection input.");
	if (rc && !emu_ieq(rc, want))
		return bad_input(c, "InvalidRecoveryContainer",
				 dr_arena_printf(c->a, "The recovery container '%s' isn't the target of the reverse "
						       "container mapping ('%s').", rc, want),
				 "Take recoveryContainerId from the mapping whose target fabric is the region the "
				 "item should replicate to.");
	if (policy && !emu_ieq(policy, emu_policy_id(e, c->a)))
		return bad_input(c, "InvalidPolicyId", dr_arena_printf(c->a, "The policy '%s' doesn't exist.", policy),
				 "Take policyId from the reverse container mapping.");
	return true;
}

void emu_asr_switch(dr_emu *e, emu_call *c)
{
	cJSON *root;
	const cJSON *props, *psd;
	dr_be_item it;
	if (!read_body(c, true, &root, &props))
		return;
	const char *name = str_at(props, "replicationProtectedItemName");
	psd = cJSON_GetObjectItemCaseSensitive(props, "providerSpecificDetails");
	if (!name)
		bad_input(c, "InvalidRequestContent", "Switch protection needs properties.replicationProtectedItemName.",
			  "Name the protected item (its GUID) to reprotect.");
	else if (find_item(e, c, name, &it) && !foreign(e, c, &it) && check_switch(e, c, psd, &it)) {
		dr_be_request req = {.op = DR_BE_OP_REPROTECT, .item_id = it.id, .direction = DR_BE_DIR_AUTO};
		const char *at = strcasestr(it.id, "/replicationProtectedItems/");
		start(e, c, &req, dr_arena_strndup(c->a, it.id, (size_t)(at - it.id)), NULL, DR_BE_DIR_AUTO);
	}
	cJSON_Delete(root);
}

/* ---- jobs and long-running operation URLs --------------------------------------------------------------- */

static bool find_job(dr_emu *e, emu_call *c, dr_be_job *j)
{
	dr_be_error err;
	const char *name = lower(c->a, emu_cap(c, "job"));
	if (dr_backend_get_job(e->be, c->a, emu_now(e, c->rq), name, j, &err) == 0)
		return true;
	fail(c, 404, "ReplicationJobNotFound", "The job doesn't exist in this vault.",
	     "Take the job's name from the Location header or from the list of jobs.",
	     dr_arena_printf(c->a, "The job '%s' wasn't found.", emu_cap(c, "job")));
	return false;
}

void emu_asr_job(dr_emu *e, emu_call *c)
{
	dr_be_job j;
	if (!find_job(e, c, &j))
		return;
	if (!dr_backend_job_done(j.state)) /* as the service's job GET does (ReplicationJobs_Get: Retry-After) */
		retry_headers(e, c, j.id);
	emu_json(c->rs, 200, emu_job_json(e, c->a, &j));
}

/*
 * A person resumes a job that waits for a manual action (Jobs_Resume):
 * the manual action ends and the job goes on. 200 with the job; 400
 * JobNotSuspended for a job that waits for nobody. Saved at once (a
 * snapshot: resumes are rare), and in the audit log as accepted.
 */
void emu_asr_job_resume(dr_emu *e, emu_call *c)
{
	dr_be_job j;
	dr_be_error err;
	char why[512];
	if (!find_job(e, c, &j))
		return;
	pthread_mutex_lock(&e->wal_mu);
	int rc = dr_sim_resume_job(e->be, c->a, emu_now(e, c->rq), j.name, &err);
	pthread_mutex_unlock(&e->wal_mu);
	if (rc < 0) {
		emu_asr_error(c, &err);
		return;
	}
	if (dr_emu_flush(e, why, sizeof why) < 0) {
		fail(c, 500, "InternalServerError", NULL, NULL, dr_arena_printf(c->a, "The emulator could not save its state: %s", why));
		return;
	}
	if (!find_job(e, c, &j))
		return;
	c->rs->audit_job = j.name;
	emu_json(c->rs, 200, emu_job_json(e, c->a, &j));
}

static const char *op_status(const dr_be_job *j)
{
	switch (j->state) {
	case DR_BE_JOB_SUCCEEDED: return "Succeeded";
	case DR_BE_JOB_FAILED: return "Failed";
	case DR_BE_JOB_CANCELLED: return "Canceled";
	default: return "InProgress";
	}
}

static void job_failure(emu_call *c, const dr_be_job *j)
{
	for (size_t i = 0; i < j->n_errors; i++)
		if (!j->errors[i].warning) {
			dr_be_error err = j->errors[i].error;
			err.http_status = err.http_status >= 400 ? err.http_status : 500;
			err.retry_after_ms = -1;
			emu_asr_error(c, &err);
			return;
		}
	fail(c, 500, "JobFailed", NULL, "Look at the job's tasks and errors.",
	     dr_arena_printf(c->a, "The job '%s' failed.", j->name));
}

void emu_asr_opresult(dr_emu *e, emu_call *c)
{
	dr_be_job j;
	dr_be_item it;
	if (!find_job(e, c, &j))
		return;
	if (!dr_backend_job_done(j.state)) {
		emu_header(c->rs, c->a, "Location",
			   dr_arena_printf(c->a, "%s%s?api-version=%s", e->base_url, c->rq->path, c->api_version));
		retry_headers(e, c, j.id);
		c->rs->status = 202;
		return;
	}
	if (j.state != DR_BE_JOB_SUCCEEDED) {
		job_failure(c, &j);
		return;
	}
	dr_be_error err;
	if (dr_backend_get_item(e->be, c->a, emu_now(e, c->rq), j.item_id, &it, &err) < 0) {
		emu_asr_error(c, &err);
		return;
	}
	if (*emu_cap(c, "item"))
		emu_json(c->rs, 200, emu_item_json(e, c->a, emu_now(e, c->rq), &it));
	else
		emu_asr_container(e, c);
}

void emu_asr_opstatus(dr_emu *e, emu_call *c)
{
	dr_be_job j;
	if (!find_job(e, c, &j))
		return;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", dr_arena_printf(c->a, "%s/replicationOperationStatus/%s", e->vault_id, j.name));
	cJSON_AddStringToObject(o, "name", j.name);
	cJSON_AddStringToObject(o, "status", op_status(&j));
	cJSON_AddStringToObject(o, "startTime", emu_time(c->a, j.start_ms));
	if (j.end_ms >= 0)
		cJSON_AddStringToObject(o, "endTime", emu_time(c->a, j.end_ms));
	for (size_t i = 0; i < j.n_errors && j.state == DR_BE_JOB_FAILED; i++)
		if (!j.errors[i].warning) {
			cJSON *err = cJSON_AddObjectToObject(o, "error");
			cJSON_AddStringToObject(err, "code", j.errors[i].error.code);
			cJSON_AddStringToObject(err, "message", j.errors[i].error.message);
			break;
		}
	if (!dr_backend_job_done(j.state))
		retry_headers(e, c, j.id);
	emu_json(c->rs, 200, o);
}

static bool job_matches(emu_call *c, const filter *f, const dr_be_job *j, int64_t until)
{
	const char *status = filter_get(f, "jobStatus"), *name = filter_get(f, "jobName");
	(void)c;
	if (until >= 0 && j->start_ms > until)
		return false;
	if (status && !emu_ieq(status, dr_backend_job_state_name(j->state)))
		return false;
	return !name || emu_ieq(name, j->scenario) || emu_ieq(name, j->name);
}

static bool filter_time(emu_call *c, const filter *f, const char *key, int64_t *out)
{
	const char *v = filter_get(f, key);
	*out = -1;
	if (!v || dr_backend_parse_time(v, out))
		return true;
	return bad_input(c, "InvalidFilter", dr_arena_printf(c->a, "The %s '%s' isn't a date and time.", key, v),
			 "Write times in ISO 8601, e.g. 2026-01-01T00:00:00Z.");
}

void emu_asr_jobs(dr_emu *e, emu_call *c)
{
	static const char *const known[] = {"startTime", "endTime", "jobStatus", "jobName", "affectedObjectTypes",
					    "fabricId", "jobOutputType", "timezoneOffset", NULL};
	size_t from, n;
	filter f;
	int64_t since, until;
	dr_be_job *jobs;
	dr_be_error err;
	if (!skip_token(c, &from) || !parse_filter(c, &f) || !filter_only(c, &f, known) ||
	    !filter_time(c, &f, "startTime", &since) || !filter_time(c, &f, "endTime", &until))
		return;
	dr_be_job_filter jf = {.since_ms = since};
	if (dr_backend_list_jobs(e->be, c->a, emu_now(e, c->rq), &jf, &jobs, &n, &err) < 0) {
		emu_asr_error(c, &err);
		return;
	}
	cJSON *value = cJSON_CreateArray();
	size_t seen = 0, put = 0;
	bool more = false;
	for (size_t k = n; k > 0 && !more; k--) { /* newest first */
		const dr_be_job *j = &jobs[k - 1];
		if (!job_matches(c, &f, j, until) || seen++ < from)
			continue;
		if (put == e->o.page_size)
			more = true;
		else
			cJSON_AddItemToArray(value, emu_job_json(e, c->a, j)), put++;
	}
	page_answer(e, c, value, from + put, more);
}

/* ---- fabrics, containers, mappings, policies ------------------------------------------------------------------ */

static bool has(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

static void add_pair(dr_emu *e, const char *src, const char *dst)
{
	for (size_t i = 0; i < e->n_pairs; i++)
		if (strcmp(e->pair_src[i], src) == 0 && strcmp(e->pair_dst[i], dst) == 0)
			return;
	e->pair_src = xrealloc(e->pair_src, (e->n_pairs + 1) * sizeof *e->pair_src);
	e->pair_dst = xrealloc(e->pair_dst, (e->n_pairs + 1) * sizeof *e->pair_dst);
	e->pair_src[e->n_pairs] = xstrdup(src);
	e->pair_dst[e->n_pairs++] = xstrdup(dst);
}

void emu_asr_index_regions(dr_emu *e)
{
	dr_arena *a = dr_arena_new();
	dr_be_item *items;
	dr_be_error err;
	size_t n = 0;
	if (dr_backend_list_items(e->be, a, emu_wall_ms(), &items, &n, &err) < 0)
		n = 0;
	for (size_t i = 0; i < n; i++) {
		const char *r[2] = {items[i].primary_region, items[i].recovery_region};
		for (int k = 0; k < 2; k++)
			if (!has(e->regions, e->n_regions, r[k])) {
				e->regions = xrealloc(e->regions, (e->n_regions + 1) * sizeof *e->regions);
				e->regions[e->n_regions++] = xstrdup(r[k]);
			}
		add_pair(e, r[0], r[1]);
		add_pair(e, r[1], r[0]);
	}
	dr_arena_free(a);
}

void emu_asr_free_regions(dr_emu *e)
{
	for (size_t i = 0; i < e->n_regions; i++)
		free(e->regions[i]);
	for (size_t i = 0; i < e->n_pairs; i++)
		free(e->pair_src[i]), free(e->pair_dst[i]);
	free(e->regions);
	free(e->pair_src);
	free(e->pair_dst);
}

static cJSON *fabric_json(dr_emu *e, emu_call *c, const char *region)
{
	cJSON *o = cJSON_CreateObject(), *p, *d;
	cJSON_AddStringToObject(o, "id", dr_arena_printf(c->a, "%s/replicationFabrics/%s", e->vault_id,
							 emu_fabric_name(c->a, region)));
	cJSON_AddStringToObject(o, "name", emu_fabric_name(c->a, region));
	cJSON_AddStringToObject(o, "type", "Microsoft.RecoveryServices/vaults/replicationFabrics");
	cJSON_AddStringToObject(o, "location", region);
	p = cJSON_AddObjectToObject(o, "properties");
	cJSON_AddStringToObject(p, "friendlyName", region);
	cJSON_AddStringToObject(p, "health", "Normal");
	d = cJSON_AddObjectToObject(p, "customDetails");
	cJSON_AddStringToObject(d, "instanceType", "Azure");
	cJSON_AddStringToObject(d, "location", region);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(d, "containerIds"),
			     cJSON_CreateString(emu_container_id(e, c->a, region)));
	return o;
}

static cJSON *container_json(dr_emu *e, emu_call *c, const char *region)
{
	cJSON *o = cJSON_CreateObject(), *p;
	cJSON_AddStringToObject(o, "id", emu_container_id(e, c->a, region));
	cJSON_AddStringToObject(o, "name", emu_container_name(c->a, region));
	cJSON_AddStringToObject(o, "type",
				"Microsoft.RecoveryServices/vaults/replicationFabrics/replicationProtectionContainers");
	cJSON_AddStringToObject(o, "location", region);
	p = cJSON_AddObjectToObject(o, "properties");
	cJSON_AddStringToObject(p, "fabricFriendlyName", region);
	cJSON_AddStringToObject(p, "friendlyName", emu_container_name(c->a, region));
	cJSON_AddStringToObject(p, "fabricType", "Azure");
	cJSON_AddStringToObject(p, "pairingStatus", "Paired");
	cJSON_AddStringToObject(p, "role", "Primary");
	return o;
}

/* The region whose fabric (and container, when in the path) the path names; NULL: 404 answered. */
static const char *path_region(dr_emu *e, emu_call *c)
{
	char **regions = e->regions;
	size_t n = e->n_regions;
	const char *fabric = emu_cap(c, "fabric"), *container = emu_cap(c, "container");
	for (size_t i = 0; i < n; i++)
		if (emu_ieq(fabric, emu_fabric_name(c->a, regions[i])) &&
		    (!*container || emu_ieq(container, emu_container_name(c->a, regions[i]))))
			return regions[i];
	fail(c, 404, *container ? "ProtectionContainerNotFound" : "FabricNotFound", NULL,
	     "List the vault's replicationFabrics and their containers.",
	     dr_arena_printf(c->a, "The %s '%s' wasn't found.", *container ? "protection container" : "fabric",
			     *container ? container : fabric));
	return NULL;
}

void emu_asr_fabrics(dr_emu *e, emu_call *c)
{
	cJSON *value = cJSON_CreateArray();
	for (size_t i = 0; i < e->n_regions; i++)
		cJSON_AddItemToArray(value, fabric_json(e, c, e->regions[i]));
	page_answer(e, c, value, 0, false);
}

void emu_asr_fabric(dr_emu *e, emu_call *c)
{
	const char *r = path_region(e, c);
	if (r)
		emu_json(c->rs, 200, fabric_json(e, c, r));
}

void emu_asr_containers(dr_emu *e, emu_call *c)
{
	char **regions = e->regions;
	size_t n = e->n_regions;
	const char *only = *emu_cap(c, "fabric") ? path_region(e, c) : NULL;
	if (*emu_cap(c, "fabric") && !only)
		return;
	cJSON *value = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		if (!only || strcmp(only, regions[i]) == 0)
			cJSON_AddItemToArray(value, container_json(e, c, regions[i]));
	page_answer(e, c, value, 0, false);
}

void emu_asr_container(dr_emu *e, emu_call *c)
{
	const char *r = path_region(e, c);
	if (r)
		emu_json(c->rs, 200, container_json(e, c, r));
}

static cJSON *mapping_json(dr_emu *e, emu_call *c, const char *src, const char *dst)
{
	cJSON *o = cJSON_CreateObject(), *p, *d;
	const char *name = dr_arena_printf(c->a, "%s-to-%s", src, dst);
	cJSON_AddStringToObject(o, "id", dr_arena_printf(c->a, "%s/replicationProtectionContainerMappings/%s",
							 emu_container_id(e, c->a, src), name));
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "type", "Microsoft.RecoveryServices/vaults/replicationFabrics/"
					   "replicationProtectionContainers/replicationProtectionContainerMappings");
	p = cJSON_AddObjectToObject(o, "properties");
	cJSON_AddStringToObject(p, "targetProtectionContainerId", emu_container_id(e, c->a, dst));
	cJSON_AddStringToObject(p, "targetProtectionContainerFriendlyName", emu_container_name(c->a, dst));
	cJSON_AddStringToObject(p, "health", "Normal");
	cJSON_AddArrayToObject(p, "healthErrorDetails");
	cJSON_AddStringToObject(p, "policyId", emu_policy_id(e, c->a));
	cJSON_AddStringToObject(p, "state", "Paired");
	cJSON_AddStringToObject(p, "sourceProtectionContainerFriendlyName", emu_container_name(c->a, src));
	cJSON_AddStringToObject(p, "sourceFabricFriendlyName", src);
	cJSON_AddStringToObject(p, "targetFabricFriendlyName", dst);
	cJSON_AddStringToObject(p, "policyFriendlyName", "24-hour-retention-policy");
	d = cJSON_AddObjectToObject(p, "providerSpecificDetails");
	cJSON_AddStringToObject(d, "instanceType", "A2A");
	cJSON_AddStringToObject(d, "agentAutoUpdateStatus", "Disabled");
	return o;
}

/* Each pair of regions some item replicates between, both ways, from src and named name when given. */
static cJSON *mappings(dr_emu *e, emu_call *c, const char *src, const char *name)
{
	cJSON *value = cJSON_CreateArray();
	for (size_t i = 0; i < e->n_pairs; i++) {
		const char *s = e->pair_src[i], *d = e->pair_dst[i];
		if ((src && strcmp(src, s) != 0) || (name && !emu_ieq(name, dr_arena_printf(c->a, "%s-to-%s", s, d))))
			continue;
		cJSON_AddItemToArray(value, mapping_json(e, c, s, d));
	}
	return value;
}

void emu_asr_mappings(dr_emu *e, emu_call *c)
{
	const char *src = *emu_cap(c, "container") ? path_region(e, c) : NULL;
	if (*emu_cap(c, "container") && !src)
		return;
	page_answer(e, c, mappings(e, c, src, NULL), 0, false);
}

void emu_asr_mapping(dr_emu *e, emu_call *c)
{
	const char *src = path_region(e, c);
	if (!src)
		return;
	cJSON *list = mappings(e, c, src, emu_cap(c, "mapping"));
	cJSON *first = cJSON_DetachItemFromArray(list, 0);
	cJSON_Delete(list);
	if (first)
		emu_json(c->rs, 200, first);
	else
		fail(c, 404, "ProtectionContainerMappingNotFound", NULL, "List the container's mappings.",
		     dr_arena_printf(c->a, "The protection container mapping '%s' wasn't found.", emu_cap(c, "mapping")));
}

static cJSON *policy_json(dr_emu *e, emu_call *c)
{
	cJSON *o = cJSON_CreateObject(), *p, *d;
	cJSON_AddStringToObject(o, "id", emu_policy_id(e, c->a));
	cJSON_AddStringToObject(o, "name", "24-hour-retention-policy");
	cJSON_AddStringToObject(o, "type", "Microsoft.RecoveryServices/vaults/replicationPolicies");
	p = cJSON_AddObjectToObject(o, "properties");
	cJSON_AddStringToObject(p, "friendlyName", "24-hour-retention-policy");
	d = cJSON_AddObjectToObject(p, "providerSpecificDetails");
	cJSON_AddStringToObject(d, "instanceType", "A2A");
	cJSON_AddNumberToObject(d, "recoveryPointHistory", 1440);
	cJSON_AddNumberToObject(d, "appConsistentFrequencyInMinutes", 60);
	cJSON_AddNumberToObject(d, "crashConsistentFrequencyInMinutes", 5);
	cJSON_AddStringToObject(d, "multiVmSyncStatus", "Enable");
	return o;
}

void emu_asr_policies(dr_emu *e, emu_call *c)
{
	cJSON *value = cJSON_CreateArray();
	cJSON_AddItemToArray(value, policy_json(e, c));
	page_answer(e, c, value, 0, false);
}

void emu_asr_policy(dr_emu *e, emu_call *c)
{
	if (emu_ieq(emu_cap(c, "policy"), "24-hour-retention-policy"))
		emu_json(c->rs, 200, policy_json(e, c));
	else
		fail(c, 404, "PolicyNotFound", NULL, "List the vault's replicationPolicies.",
		     dr_arena_printf(c->a, "The replication policy '%s' wasn't found.", emu_cap(c, "policy")));
}
