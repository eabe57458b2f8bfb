/*
 * emulator/faults.c - the emulator's fault spec (--faults): the
 * simulator's list syntax (docs/backends.md, "Faults"), with kinds of its
 * own for what only a wire can do:
 *
 *   status        answer with this HTTP status (429 with Retry-After, 500,
 *                 503, ...) in ARM's envelope, or with `body` as written
 *                 (text/html: a gateway's page, a proxy's 200 login page)
 *   reset         drop the connection without an answer (a TCP reset)
 *   delay         answer `delay` later (slow answers)
 *   token-expiry  tokens issued expire after `lifetime`, long before the
 *                 expires_in they announce (a revoked or skewed token)
 *   forbidden     403 AuthorizationFailed on Compute and Network (`api`:
 *                 compute, network or all; `vms`: a regex over VM names)
 *   provider      the items of `vms` are protected by another provider
 *                 (`provider`: HyperVReplicaAzure, InMageRcm, ...): served
 *                 with its providerSpecificDetails, their operations refused
 *   no-properties the items of `vms` are listed and served without
 *                 `properties` (an answer a client cannot read)
 *   undated-points the recovery points of `vms` are served without
 *                 `recoveryPointTime` (optional in the contract): the
 *                 newest `points` of each VM, or every one
 *   job-state     the running jobs of `vms` are served in `state` (ASR's
 *                 "Other", or a state newer than the contract)
 *   unmanaged-disks the items of `vms` replicate unmanaged disks
 *                 (protectedDisks, no protectedManagedDisks)
 *
 * status, reset and delay select requests by `method` and `path` (a
 * case-insensitive PCRE2 regex), then count them: the requests after+1 ..
 * after+burst fire (and again every `every` requests), at most `times` in
 * all, each with `probability` (a hash of the seed, the fault and the
 * count, so a run is reproducible). `at: after` lets the request be handled
 * first and replaces its answer: the operation may have started, and the
 * client never hears of it (a lost answer). The simulator's kinds (fail,
 * throttle, hang, unhealthy, slow, shutdown-fails, suspend, read-fails) go to the
 * simulator unchanged: failed, hung and suspended jobs (resumed by
 * POST .../replicationJobs/{job}/resume), 429 bursts on mutating calls.
 */
#include "emulator/emu_int.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "backends/sim_int.h"
#include "front/load.h"
#include "util/buf.h"
#include "util/text.h"
#include "util/xalloc.h"

typedef enum kind {
	F_STATUS, F_RESET, F_DELAY, F_TOKEN_EXPIRY, F_FORBIDDEN, F_PROVIDER, F_NO_PROPERTIES, F_UNDATED, F_JOB_STATE, F_UNMANAGED,
	F_COUNT
} kind;

static const char *const kind_names[] = {"status", "reset", "delay", "token-expiry", "forbidden", "provider",
					 "no-properties", "undated-points", "job-state", "unmanaged-disks", NULL};
static const char *const all_kinds[] = {"status", "reset", "delay", "token-expiry", "forbidden", "provider",
					"no-properties", "undated-points", "job-state", "unmanaged-disks", "fail", "throttle", "hang", "unhealthy", "slow",
					"shutdown-fails", "suspend", "read-fails", NULL};

struct emu_fault {
	kind k;
	int status;
	char *method;
	char *provider; /* F_PROVIDER: the instanceType served */
	char *state; /* F_JOB_STATE: the state a running job is served in */
	char *body; /* F_STATUS: the answer's body as written (text/html), not ARM's envelope; NULL: the envelope */
	pcre2_code *path_re, *vms_re;
	double probability;
	int64_t after, burst, every, times; /* burst, every, times: -1 when not given */
	int64_t retry_after_ms, delay_ms, lifetime_ms;
	int64_t points; /* F_UNDATED: how many of each VM's newest points are undated; -1: all */
	int api; /* forbidden: bit 1 compute, bit 2 network */
	bool at_after;
	bool date; /* Retry-After as an HTTP date (retry_after_as: date), not seconds */
	uint64_t key, seen, fired;
};

#define K(x) (1u << (x))
static const struct {
	const char *name;
	unsigned kinds;
} keys[] = {
	{"kind", 0x3ff}, {"method", K(F_STATUS) | K(F_RESET) | K(F_DELAY)},
	{"path", K(F_STATUS) | K(F_RESET) | K(F_DELAY)}, {"probability", K(F_STATUS) | K(F_RESET) | K(F_DELAY) | K(F_FORBIDDEN)},
	{"after", K(F_STATUS) | K(F_RESET) | K(F_DELAY)}, {"burst", K(F_STATUS) | K(F_RESET) | K(F_DELAY)},
	{"every", K(F_STATUS) | K(F_RESET) | K(F_DELAY)}, {"times", K(F_STATUS) | K(F_RESET) | K(F_DELAY)},
	{"at", K(F_STATUS) | K(F_RESET)}, {"code", K(F_STATUS)}, {"retry_after", K(F_STATUS)},
	{"retry_after_as", K(F_STATUS)}, {"body", K(F_STATUS)},
	{"delay", K(F_DELAY)}, {"lifetime", K(F_TOKEN_EXPIRY)}, {"api", K(F_FORBIDDEN)},
	{"vms", K(F_FORBIDDEN) | K(F_PROVIDER) | K(F_NO_PROPERTIES) | K(F_UNDATED) | K(F_JOB_STATE) | K(F_UNMANAGED)},
	{"provider", K(F_PROVIDER)}, {"points", K(F_UNDATED)}, {"state", K(F_JOB_STATE)},
	{NULL, 0},
};

typedef struct pctx {
	dr_diags *d;
	size_t errors;
	emu_fault *f;
} pctx;

/* ---- parsing ------------------------------------------------------------------------------------ */

static void bad(pctx *c, dr_code code, const dr_node *n, const char *fmt, const char *arg)
{
	dr_diag_error(c->d, code, dr_node_loc(n), fmt, arg);
	c->errors++;
}

static const char *want_string(pctx *c, const dr_node *n, const char *key)
{
	const char *s = n->kind == DR_NODE_SCALAR && !dr_node_is_null(n) ? dr_node_str(n) : NULL;
	if (!s || !*s)
		bad(c, DR201, n, "fault: '%s' must be a non-empty string", key);
	return s && *s ? s : NULL;
}

static void want_int(pctx *c, const dr_node *n, const char *key, int64_t min, int64_t max, int64_t *out)
{
	if (!dr_node_as_int(n, out) || *out < min || *out > max) {
		char range[64];
		snprintf(range, sizeof range, "%s: an integer from %lld to %lld", key, (long long)min, (long long)max);
		bad(c, DR205, n, "fault: '%s'", range);
	}
}

static void want_duration(pctx *c, const dr_node *n, const char *key, int64_t *out)
{
	const char *s = want_string(c, n, key);
	size_t at;
	if (s && !dr_text_parse_duration(s, out, &at))
		bad(c, DR206, n, "fault: '%s' is not a duration like 10s or 1m", key);
}

static pcre2_code *want_regex(pctx *c, const dr_node *n, const char *key)
{
	const char *s = want_string(c, n, key);
	int code;
	PCRE2_SIZE off;
	if (!s)
		return NULL;
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_CASELESS, &code,
				       &off, NULL);
	if (!re)
		bad(c, DR211, n, "fault: '%s' is not a valid regular expression", key);
	return re;
}

static void parse_api(pctx *c, const dr_node *n)
{
	const char *s = want_string(c, n, "api");
	if (!s)
		return;
	c->f->api = strcmp(s, "compute") == 0 ? 1 : strcmp(s, "network") == 0 ? 2 : strcmp(s, "all") == 0 ? 3 : 0;
	if (!c->f->api)
		bad(c, DR204, n, "fault: 'api' cannot be '%s' (compute, network or all)", s);
}

static void parse_at(pctx *c, const dr_node *n)
{
	const char *s = want_string(c, n, "at");
	if (s && strcmp(s, "before") != 0 && strcmp(s, "after") != 0)
		bad(c, DR204, n, "fault: 'at' cannot be '%s' (before or after)", s);
	c->f->at_after = s && strcmp(s, "after") == 0;
}

static void parse_retry_after_as(pctx *c, const dr_node *n)
{
	const char *s = want_string(c, n, "retry_after_as");
	if (s && strcmp(s, "seconds") != 0 && strcmp(s, "date") != 0)
		bad(c, DR204, n, "fault: 'retry_after_as' cannot be '%s' (seconds or date)", s);
	c->f->date = s && strcmp(s, "date") == 0;
}

static void parse_key(pctx *c, const char *key, const dr_node *v)
{
	emu_fault *f = c->f;
	double p;
	int64_t i;
	if (strcmp(key, "method") == 0 && want_string(c, v, key)) f->method = xstrdup(dr_node_str(v));
	else if (strcmp(key, "provider") == 0 && want_string(c, v, key)) f->provider = xstrdup(dr_node_str(v));
	else if (strcmp(key, "state") == 0 && want_string(c, v, key)) f->state = xstrdup(dr_node_str(v));
	else if (strcmp(key, "body") == 0 && want_string(c, v, key)) f->body = xstrdup(dr_node_str(v));
	else if (strcmp(key, "path") == 0) f->path_re = want_regex(c, v, key);
	else if (strcmp(key, "vms") == 0) f->vms_re = want_regex(c, v, key);
	else if (strcmp(key, "probability") == 0) {
		if (!dr_node_as_number(v, &p) || p < 0 || p > 1)
			bad(c, DR205, v, "fault: '%s' must be a number from 0 to 1", key);
		else
			f->probability = p;
	}
	else if (strcmp(key, "after") == 0) want_int(c, v, key, 0, INT64_MAX, &f->after);
	else if (strcmp(key, "burst") == 0) want_int(c, v, key, 1, INT64_MAX, &f->burst);
	else if (strcmp(key, "every") == 0) want_int(c, v, key, 1, INT64_MAX, &f->every);
	else if (strcmp(key, "times") == 0) want_int(c, v, key, 1, INT64_MAX, &f->times);
	else if (strcmp(key, "points") == 0) want_int(c, v, key, 1, INT64_MAX, &f->points);
	else if (strcmp(key, "code") == 0) { want_int(c, v, key, 200, 599, &i); f->status = (int)i; }
	else if (strcmp(key, "retry_after") == 0) want_duration(c, v, key, &f->retry_after_ms);
	else if (strcmp(key, "delay") == 0) want_duration(c, v, key, &f->delay_ms);
	else if (strcmp(key, "lifetime") == 0) want_duration(c, v, key, &f->lifetime_ms);
	else if (strcmp(key, "api") == 0) parse_api(c, v);
	else if (strcmp(key, "at") == 0) parse_at(c, v);
	else if (strcmp(key, "retry_after_as") == 0) parse_retry_after_as(c, v);
}

static void check_key(pctx *c, const dr_node *k, kind kd)
{
	const char *name = dr_node_str(k);
	const char *names[32];
	size_t n = 0;
	for (size_t i = 0; keys[i].name; i++) {
		if (strcmp(keys[i].name, name) == 0 && (keys[i].kinds & K(kd)))
			return;
		if (keys[i].kinds & K(kd))
			names[n++] = keys[i].name;
	}
	names[n] = NULL;
	dr_diag *g = dr_diag_error(c->d, DR203, dr_node_loc(k), "fault: '%s' is not an option of a '%s' fault", name,
				   kind_names[kd]);
	const char *near = dr_text_suggest(name, names);
	if (near)
		dr_diag_set_hint(g, "did you mean '%s'?", near);
	c->errors++;
}

static void defaults(emu_fault *f, kind k, uint64_t key)
{
	memset(f, 0, sizeof *f);
	f->k = k;
	f->key = key;
	f->probability = 1;
	f->burst = f->every = f->times = -1;
	f->retry_after_ms = f->delay_ms = f->lifetime_ms = f->points = -1;
	f->status = k == F_STATUS ? 503 : 0;
	f->api = 3;
}

static void finish(pctx *c, const dr_node *map)
{
	emu_fault *f = c->f;
	if (f->k == F_DELAY && f->delay_ms < 0)
		bad(c, DR202, map, "fault: a '%s' fault needs 'delay' (e.g. delay: 2s)", "delay");
	if (f->k == F_TOKEN_EXPIRY && f->lifetime_ms < 0)
		bad(c, DR202, map, "fault: a '%s' fault needs 'lifetime' (e.g. lifetime: 30s)", "token-expiry");
	if (f->k == F_PROVIDER && !f->provider)
		bad(c, DR202, map, "fault: a '%s' fault needs 'provider' (e.g. provider: InMageRcm)", "provider");
	if (f->k == F_JOB_STATE && !f->state)
		bad(c, DR202, map, "fault: a '%s' fault needs 'state' (e.g. state: Other)", "job-state");
	if (f->k == F_PROVIDER && f->provider && strcasecmp(f->provider, "A2A") == 0)
		bad(c, DR204, map, "fault: a '%s' fault's 'provider' must be another than A2A", "provider");
}

static bool parse_own(dr_emu *e, pctx *c, const dr_node *map, kind k)
{
	e->faults = xrealloc(e->faults, (e->n_faults + 1) * sizeof *e->faults);
	c->f = &e->faults[e->n_faults++];
	defaults(c->f, k, sim_mix(e->o.seed, e->n_faults));
	for (size_t i = 0; i < map->u.map.n; i++) {
		const dr_pair *p = &map->u.map.items[i];
		if (strcmp(dr_node_str(p->key), "kind") == 0)
			continue;
		check_key(c, p->key, k);
		parse_key(c, dr_node_str(p->key), p->value);
	}
	finish(c, map);
	return true;
}

/* One entry: ours parsed, the simulator's kept for it; false when the kind is unknown. */
static bool parse_entry(dr_emu *e, pctx *c, const dr_node *entry, bool *ours)
{
	const dr_node *kn = entry->kind == DR_NODE_MAP ? dr_node_get(entry, "kind") : NULL;
	const char *k = kn ? want_string(c, kn, "kind") : NULL;
	*ours = false;
	if (!kn) {
		bad(c, entry->kind == DR_NODE_MAP ? DR202 : DR201, entry,
		    "fault: each fault is a mapping with a 'kind'%s", "");
		return false;
	}
	for (int i = 0; k && kind_names[i]; i++)
		if (strcmp(kind_names[i], k) == 0) {
			*ours = true;
			return parse_own(e, c, entry, (kind)i);
		}
	for (int i = 0; k && all_kinds[i]; i++)
		if (strcmp(all_kinds[i], k) == 0)
			return true;
	if (k) {
		dr_diag *g = dr_diag_error(c->d, DR204, dr_node_loc(kn), "fault: unknown kind '%s'", k);
		const char *near = dr_text_suggest(k, all_kinds);
		if (near) {
			dr_diag_set_hint(g, "did you mean '%s'?", near);
		} else {
			dr_buf b;
			dr_buf_init(&b);
			for (int i = 0; all_kinds[i]; i++)
				dr_buf_printf(&b, "%s%s", i ? ", " : "", all_kinds[i]);
			dr_diag_set_hint(g, "one of: %s", b.data);
			dr_buf_dispose(&b);
		}
		c->errors++;
	}
	return false;
}

size_t emu_faults_parse(dr_emu *e, const char *spec, dr_arena *a, dr_node **sim_faults, dr_diags *diags)
{
	pctx c = {.d = diags};
	size_t before = dr_diags_errors(diags);
	*sim_faults = NULL;
	if (!spec || !*spec)
		return 0;
	dr_node *root = spec[0] == '@' ? dr_load_file(a, diags, spec + 1, NULL)
				       : dr_load_string(a, diags, "--faults", spec, strlen(spec), NULL);
	if (!root || dr_diags_errors(diags) != before)
		return dr_diags_errors(diags) - before + (dr_diags_errors(diags) == before);
	if (root->kind != DR_NODE_SEQ) {
		bad(&c, DR201, root, "fault: the spec must be a list of faults, e.g. [{kind: reset, probability: %s}]",
		    "0.1");
		return c.errors;
	}
	dr_node *list = dr_arena_calloc(a, 1, sizeof *list);
	*list = *root;
	list->u.seq.items = dr_arena_calloc(a, root->u.seq.n + 1, sizeof *list->u.seq.items);
	list->u.seq.n = 0;
	for (size_t i = 0; i < root->u.seq.n; i++) {
		bool ours;
		if (parse_entry(e, &c, root->u.seq.items[i], &ours) && !ours)
			list->u.seq.items[list->u.seq.n++] = root->u.seq.items[i];
	}
	*sim_faults = list->u.seq.n ? list : NULL;
	return c.errors;
}

void emu_faults_free(dr_emu *e)
{
	for (size_t i = 0; i < e->n_faults; i++) {
		free(e->faults[i].method);
		free(e->faults[i].provider);
		free(e->faults[i].state);
		free(e->faults[i].body);
		pcre2_code_free(e->faults[i].path_re);
		pcre2_code_free(e->faults[i].vms_re);
	}
	free(e->faults);
}

/* ---- decisions ------------------------------------------------------------------------------------ */

static bool re_match(const pcre2_code *re, const char *s)
{
	if (!re)
		return true;
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	int rc = pcre2_match(re, (PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

/* Count a matching request and decide whether f fires for it (e->mu held). */
static bool fires(dr_emu *e, emu_fault *f)
{
	uint64_t k = ++f->seen;
	(void)e;
	if ((int64_t)k <= f->after || (f->times >= 0 && (int64_t)f->fired >= f->times))
		return false;
	uint64_t rel = k - (uint64_t)f->after - 1;
	if (f->burst >= 0 && (f->every >= 0 ? (int64_t)(rel % (uint64_t)f->every) : (int64_t)rel) >= f->burst)
		return false;
	if (f->probability < 1 && sim_unit(sim_mix(f->key, k)) >= f->probability)
		return false;
	f->fired++;
	return true;
}

/* An HTTP date (RFC 9110 IMF-fixdate, "Sun, 06 Dec 2026 14:01:02 GMT") for Unix time t, in a. */
static const char *http_date(dr_arena *a, int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;
	char buf[40];
	gmtime_r(&tt, &tm);
	strftime(buf, sizeof buf, "%a, %d %b %Y %H:%M:%S GMT", &tm); /* the C locale's day and month names */
	return dr_arena_strdup(a, buf);
}

static void apply(emu_fault *f, const emu_req *rq, emu_resp *rs)
{
	static const struct {
		int status;
		const char *code;
	} codes[] = {{429, "TooManyRequests"}, {500, "InternalServerError"}, {502, "BadGateway"},
		     {503, "ServiceUnavailable"}, {504, "GatewayTimeout"}, {0, "InjectedFault"}};
	size_t i = 0;
	if (f->k == F_RESET) {
		rs->reset = true;
		return;
	}
	dr_buf_reset(&rs->body);
	rs->n_headers = 0;
	if (f->status == 429 || f->status == 503 || f->retry_after_ms >= 0) {
		int64_t secs = f->retry_after_ms >= 0 ? (f->retry_after_ms + 999) / 1000 : 1;
		emu_header(rs, rq->a, "Retry-After", f->date ? http_date(rq->a, rq->now_ms / 1000 + secs)
							      : dr_arena_printf(rq->a, "%lld", (long long)secs));
	}
	if (f->body) {
		rs->status = f->status;
		dr_buf_puts(&rs->body, f->body);
		emu_header(rs, rq->a, "Content-Type", "text/html; charset=utf-8");
		rs->audit_note = "InjectedBody";
		return;
	}
	while (codes[i].status && codes[i].status != f->status)
		i++;
	emu_arm_error(rs, f->status, codes[i].code, "An injected fault answered %d (drover emulator --faults).",
		      f->status);
}

/* The status, reset and delay faults for this request, in spec order, before or after it is handled. */
static bool run(dr_emu *e, const emu_req *rq, emu_resp *rs, bool after)
{
	bool answered = false;
	pthread_mutex_lock(&e->mu);
	for (size_t i = 0; i < e->n_faults && !answered; i++) {
		emu_fault *f = &e->faults[i];
		if (f->k > F_DELAY || (f->k != F_DELAY && f->at_after != after) || (f->k == F_DELAY && after))
			continue;
		if ((f->method && strcmp(f->method, rq->method) != 0) || !re_match(f->path_re, rq->path) || !fires(e, f))
			continue;
		if (f->k == F_DELAY)
			rs->delay_ms += f->delay_ms;
		else
			apply(f, rq, rs), answered = true;
	}
	pthread_mutex_unlock(&e->mu);
	return answered;
}

bool emu_faults_before(dr_emu *e, const emu_req *rq, emu_resp *rs)
{
	return e->n_faults && run(e, rq, rs, false);
}

bool emu_faults_after(dr_emu *e, const emu_req *rq, emu_resp *rs)
{
	return e->n_faults && run(e, rq, rs, true);
}

bool emu_faults_forbidden(dr_emu *e, emu_call *c, const char *vm)
{
	int api = c->route->api == EMU_API_COMPUTE ? 1 : 2;
	for (size_t i = 0; i < e->n_faults; i++) {
		emu_fault *f = &e->faults[i];
		if (f->k != F_FORBIDDEN || !(f->api & api) || !re_match(f->vms_re, vm))
			continue;
		pthread_mutex_lock(&e->mu);
		bool go = fires(e, f);
		pthread_mutex_unlock(&e->mu);
		if (!go)
			continue;
		emu_arm_error(c->rs, 403, "AuthorizationFailed",
			      "The client does not have authorization to perform action '%s' over scope "
			      "'/subscriptions/%s/resourceGroups/%s' or the scope is invalid. If access was recently "
			      "granted, please refresh your credentials.",
			      api == 1 ? "Microsoft.Compute/virtualMachines/read" : "Microsoft.Network/networkInterfaces/read",
			      emu_cap(c, "sub"), emu_cap(c, "rg"));
		return true;
	}
	return false;
}

const char *emu_faults_provider(const dr_emu *e, const char *vm)
{
	for (size_t i = 0; i < e->n_faults; i++)
		if (e->faults[i].k == F_PROVIDER && re_match(e->faults[i].vms_re, vm))
			return e->faults[i].provider;
	return NULL;
}

bool emu_faults_no_properties(const dr_emu *e, const char *vm)
{
	for (size_t i = 0; i < e->n_faults; i++)
		if (e->faults[i].k == F_NO_PROPERTIES && re_match(e->faults[i].vms_re, vm))
			return true;
	return false;
}

int64_t emu_faults_undated(const dr_emu *e, const char *vm)
{
	for (size_t i = 0; i < e->n_faults; i++)
		if (e->faults[i].k == F_UNDATED && re_match(e->faults[i].vms_re, vm))
			return e->faults[i].points < 0 ? INT64_MAX : e->faults[i].points;
	return 0;
}

bool emu_faults_unmanaged(const dr_emu *e, const char *vm)
{
	for (size_t i = 0; i < e->n_faults; i++)
		if (e->faults[i].k == F_UNMANAGED && re_match(e->faults[i].vms_re, vm))
			return true;
	return false;
}

const char *emu_faults_job_state(const dr_emu *e, const char *vm)
{
	for (size_t i = 0; vm && i < e->n_faults; i++)
		if (e->faults[i].k == F_JOB_STATE && re_match(e->faults[i].vms_re, vm))
			return e->faults[i].state;
	return NULL;
}

int64_t emu_faults_token_lifetime(dr_emu *e)
{
	for (size_t i = 0; i < e->n_faults; i++)
		if (e->faults[i].k == F_TOKEN_EXPIRY)
			return e->faults[i].lifetime_ms;
	return -1;
}
