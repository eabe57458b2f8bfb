/*
 * backends/sim_faults.c - deterministic fault injection.
 *
 * A fault spec is a list (backend.faults in the runbook, and/or the
 * DROVER_SIM_FAULTS environment variable) of maps, each with a kind:
 *
 *   fail            the operation fails: refused at the request (class
 *                   transient -> 503, permanent -> 400, throttled -> 429) or,
 *                   with `at: job`, accepted and its job fails at a task
 *   throttle        429 bursts: mutating calls after+1 .. after+burst (and
 *                   again every `every` calls) are throttled with Retry-After
 *   hang            the job never finishes (its main task, or `task: N`)
 *   unhealthy       the VM the job starts never becomes healthy
 *   slow            the job's tasks take `factor` times longer
 *   shutdown-fails  shutting the source VM down fails: the failover goes
 *                   on with a warning; dr.shutdown's job fails
 *   suspend         a manual action: the job is Suspended when it reaches
 *                   its main task (or `task: N`) until a person resumes it
 *                   (`message`: the instructions the task shows)
 *   read-fails      reading the protected item (get_item: target.state,
 *                   the dr.* actions' reads, the emulator's GET) fails
 *                   with `class` (transient -> 503, throttled -> 429 with
 *                   `retry_after`, permanent -> 400)
 *
 * Selectors: `op` (dr.* action names without "dr.", or ASR names; one or a
 * list), `vms` (a regex over the VM name, or a list of names), `times`
 * (per VM; default: every time), `probability` (default 1). Draws hash the
 * seed, the fault, the VM and its call or operation count, so a run is
 * reproducible; hit counters are kept per VM in the state file, keyed by a
 * hash of the fault's text.
 */
#include "backends/sim_int.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/text.h"
#include "util/xalloc.h"

static const char *const kind_names[] = {"fail",	   "throttle", "hang",	     "unhealthy",
					 "slow",   "shutdown-fails", "suspend", "read-fails", NULL};

#define K(x) (1u << SIM_F_##x)
#define ALL (K(FAIL) | K(THROTTLE) | K(HANG) | K(UNHEALTHY) | K(SLOW) | K(SHUTDOWN_FAILS) | K(SUSPEND) | K(READ_FAILS))
#define ON_VMS (ALL & ~K(THROTTLE))
#define FAILS (K(FAIL) | K(READ_FAILS))

/* The keys a fault may have, and for which kinds. */
static const struct key_row {
	const char *name;
	unsigned kinds;
} key_rows[] = {
	{"kind", ALL}, {"op", ALL & ~K(READ_FAILS)}, {"vms", ON_VMS}, {"times", ON_VMS}, {"probability", ALL},
	{"class", FAILS}, {"at", K(FAIL)}, {"task", K(FAIL) | K(HANG) | K(SUSPEND)}, {"code", FAILS},
	{"message", FAILS | K(SUSPEND)}, {"after", K(THROTTLE)}, {"burst", K(THROTTLE)}, {"every", K(THROTTLE)},
	{"retry_after", K(THROTTLE) | FAILS}, {"factor", K(SLOW)}, {NULL, 0},
};

#define B(op) DR_BE_OP_BIT(DR_BE_OP_##op)
static const unsigned default_ops[] = {
	[SIM_F_FAIL] = 0, [SIM_F_THROTTLE] = 0, [SIM_F_HANG] = 0,
	[SIM_F_UNHEALTHY] = B(FAILOVER) | B(TEST_FAILOVER) | B(CHANGE_POINT) | B(CANCEL_FAILOVER),
	[SIM_F_SLOW] = 0, [SIM_F_SHUTDOWN_FAILS] = B(FAILOVER) | B(SHUTDOWN), [SIM_F_SUSPEND] = 0,
	[SIM_F_READ_FAILS] = 0,
};

typedef struct pctx {
	dr_diags *d;
	size_t errors;
	sim_fault *f;
	const dr_node *map;
} pctx;

/* ---- parsing ----------------------------------------------------------------------- */

static void bad(pctx *c, dr_code code, const dr_node *n, const char *fmt, const char *a1, const char *a2)
{
	dr_diag_error(c->d, code, dr_node_loc(n), fmt, a1, a2);
	c->errors++;
}

static bool want_int(pctx *c, const dr_node *n, const char *key, int64_t min, int64_t *out)
{
	if (!dr_node_as_int(n, out)) {
		bad(c, DR201, n, "fault: '%s' must be an integer, not %s", key, dr_node_type_name(n));
		return false;
	}
	if (*out < min) {
		char lo[24];
		snprintf(lo, sizeof lo, "%lld", (long long)min);
		bad(c, DR205, n, "fault: '%s' must be at least %s", key, lo);
		return false;
	}
	return true;
}

static bool want_number(pctx *c, const dr_node *n, const char *key, double lo, double hi, double *out)
{
	if (!dr_node_as_number(n, out)) {
		bad(c, DR201, n, "fault: '%s' must be a number, not %s", key, dr_node_type_name(n));
		return false;
	}
	if (*out < lo || *out > hi) {
		bad(c, DR205, n, "fault: '%s' is out of range%s", key, lo == 0 ? " (0 to 1)" : " (above 0)");
		return false;
	}
	return true;
}

static const char *want_string(pctx *c, const dr_node *n, const char *key)
{
	const char *s = n->kind == DR_NODE_SCALAR ? dr_node_str(n) : NULL;
	if (!s || !*s)
		bad(c, DR201, n, "fault: '%s' must be a non-empty string, not %s", key, dr_node_type_name(n));
	return s && *s ? s : NULL;
}

static void parse_op_one(pctx *c, const dr_node *n)
{
	const char *s = want_string(c, n, "op");
	dr_be_op op;
	if (!s)
		return;
	if (strncmp(s, "dr.", 3) == 0)
		s += 3;
	if (dr_backend_op_parse(s, &op)) {
		c->f->ops |= DR_BE_OP_BIT(op);
		return;
	}
	static const char *const names[] = {"failover", "test_failover", "test_cleanup", "change_recovery_point",
					    "commit", "cancel_failover", "reprotect", "shutdown", NULL};
	dr_diag *g = dr_diag_error(c->d, DR204, dr_node_loc(n), "fault: unknown operation '%s'", s);
	const char *near = dr_text_suggest(s, names);
	if (near)
		dr_diag_set_hint(g, "did you mean '%s'?", near);
	else
		dr_diag_set_hint(g, "one of: failover, test_failover, test_cleanup, change_recovery_point, "
				    "commit, cancel_failover, reprotect, shutdown");
	c->errors++;
}

static void parse_op(pctx *c, const dr_node *n)
{
	if (n->kind != DR_NODE_SEQ) {
		parse_op_one(c, n);
		return;
	}
	for (size_t i = 0; i < n->u.seq.n; i++)
		parse_op_one(c, n->u.seq.items[i]);
}

static void parse_vms(pctx *c, const dr_node *n)
{
	sim_fault *f = c->f;
	if (n->kind == DR_NODE_SEQ) {
		f->vms = xcalloc(n->u.seq.n + 1, sizeof *f->vms);
		for (size_t i = 0; i < n->u.seq.n; i++) {
			const char *s = want_string(c, n->u.seq.items[i], "vms");
			if (s)
				f->vms[f->n_vms++] = xstrdup(s);
		}
		return;
	}
	const char *s = want_string(c, n, "vms");
	int code;
	PCRE2_SIZE off;
	if (!s)
		return;
	f->vms_re = pcre2_compile((PCRE2_SPTR)s, PCRE2_ZERO_TERMINATED, PCRE2_UTF, &code, &off, NULL);
	if (!f->vms_re) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(code, msg, sizeof msg);
		bad(c, DR211, n, "fault: 'vms' is not a valid regular expression: %s%s", (const char *)msg, "");
	}
}

static int enum_index(pctx *c, const dr_node *n, const char *key, const char *const *values)
{
	const char *s = want_string(c, n, key);
	for (int i = 0; s && values[i]; i++)
		if (strcmp(values[i], s) == 0)
			return i;
	if (s) {
		dr_diag *g = dr_diag_error(c->d, DR204, dr_node_loc(n), "fault: '%s' cannot be '%s'", key, s);
		const char *near = dr_text_suggest(s, values);
		if (near)
			dr_diag_set_hint(g, "did you mean '%s'?", near);
		c->errors++;
	}
	return -1;
}

static void parse_duration(pctx *c, const dr_node *n, const char *key, int64_t *out)
{
	const char *s = want_string(c, n, key);
	size_t at;
	if (s && !dr_text_parse_duration(s, out, &at))
		bad(c, DR206, n, "fault: '%s' is not a duration like 10s or 1m: '%s'", key, s);
}

static void parse_class(pctx *c, const dr_node *n)
{
	static const char *const classes[] = {"transient", "permanent", "throttled", NULL};
	static const dr_be_errclass map[] = {DR_BE_ERR_TRANSIENT, DR_BE_ERR_PERMANENT, DR_BE_ERR_THROTTLED};
	int i = enum_index(c, n, "class", classes);
	if (i >= 0)
		c->f->cls = map[i];
}

/* One key of a fault (the kind is known). */
static void parse_key(pctx *c, const char *key, const dr_node *v)
{
	sim_fault *f = c->f;
	static const char *const ats[] = {"request", "job", NULL};
	int64_t i64;
	if (strcmp(key, "op") == 0) parse_op(c, v);
	else if (strcmp(key, "vms") == 0) parse_vms(c, v);
	else if (strcmp(key, "times") == 0) want_int(c, v, key, 1, &f->times);
	else if (strcmp(key, "probability") == 0) want_number(c, v, key, 0, 1, &f->probability);
	else if (strcmp(key, "class") == 0) parse_class(c, v);
	else if (strcmp(key, "at") == 0) f->at_job = enum_index(c, v, key, ats) == 1;
	else if (strcmp(key, "task") == 0 && want_int(c, v, key, 1, &i64)) f->task = i64 > SIM_MAX_TASKS ? SIM_MAX_TASKS : (int)i64;
	else if (strcmp(key, "code") == 0 && want_string(c, v, key)) f->code = xstrdup(dr_node_str(v));
	else if (strcmp(key, "message") == 0 && want_string(c, v, key)) f->message = xstrdup(dr_node_str(v));
	else if (strcmp(key, "after") == 0) want_int(c, v, key, 0, &f->after);
	else if (strcmp(key, "burst") == 0) want_int(c, v, key, 1, &f->burst);
	else if (strcmp(key, "every") == 0) want_int(c, v, key, 1, &f->every);
	else if (strcmp(key, "retry_after") == 0) parse_duration(c, v, key, &f->retry_after_ms);
	else if (strcmp(key, "factor") == 0) want_number(c, v, key, 1e-3, 1e6, &f->factor);
}

static const struct key_row *find_key(const char *name)
{
	for (const struct key_row *r = key_rows; r->name; r++)
		if (strcmp(r->name, name) == 0)
			return r;
	return NULL;
}

static void unknown_key(pctx *c, const dr_node *k, const char *kind)
{
	const char *names[32];
	size_t n = 0;
	for (const struct key_row *r = key_rows; r->name; r++)
		names[n++] = r->name;
	names[n] = NULL;
	const char *s = dr_node_str(k);
	if (find_key(s)) {
		bad(c, DR203, k, "fault: '%s' is not an option of a '%s' fault", s, kind);
		return;
	}
	dr_diag *g = dr_diag_error(c->d, DR203, dr_node_loc(k), "fault: unknown key '%s'", s);
	const char *near = dr_text_suggest(s, names);
	if (near)
		dr_diag_set_hint(g, "did you mean '%s'?", near);
	c->errors++;
}

/* The fault as one line of text: its identity (hit counters) and how messages name it. */
static void render(dr_buf *b, const dr_node *n)
{
	if (n->kind == DR_NODE_SCALAR) {
		dr_buf_puts(b, dr_node_str(n));
		return;
	}
	bool map = n->kind == DR_NODE_MAP;
	size_t count = map ? n->u.map.n : n->u.seq.n;
	dr_buf_putc(b, map ? '{' : '[');
	for (size_t i = 0; i < count; i++) {
		if (i)
			dr_buf_puts(b, ", ");
		if (map) {
			dr_buf_printf(b, "%s: ", dr_node_str(n->u.map.items[i].key));
			render(b, n->u.map.items[i].value);
		} else {
			render(b, n->u.seq.items[i]);
		}
	}
	dr_buf_putc(b, map ? '}' : ']');
}

static void defaults(sim_fault *f)
{
	f->times = -1;
	f->probability = 1;
	f->cls = DR_BE_ERR_TRANSIENT;
	f->burst = 3;
	f->retry_after_ms = -1;
	f->factor = 3;
}

static void parse_one(pctx *c, const dr_node *m)
{
	if (m->kind != DR_NODE_MAP) {
		bad(c, DR201, m, "fault: each fault must be a mapping with a kind, not %s%s", dr_node_type_name(m), "");
		return;
	}
	const dr_node *kn = dr_node_get(m, "kind");
	if (!kn) {
		dr_diag *g = dr_diag_error(c->d, DR202, dr_node_loc(m), "fault: missing key 'kind'");
		dr_diag_set_hint(g, "one of: fail, throttle, hang, unhealthy, slow, shutdown-fails, suspend, read-fails");
		c->errors++;
		return;
	}
	int kind = enum_index(c, kn, "kind", kind_names);
	if (kind < 0)
		return;
	c->f->kind = (sim_fault_kind)kind;
	for (size_t i = 0; i < m->u.map.n; i++) {
		const char *key = dr_node_str(m->u.map.items[i].key);
		const struct key_row *r = find_key(key);
		if (!r || !(r->kinds & (1u << kind)))
			unknown_key(c, m->u.map.items[i].key, kind_names[kind]);
		else if (strcmp(key, "kind") != 0)
			parse_key(c, key, m->u.map.items[i].value);
	}
}

static void free_fault(sim_fault *f)
{
	pcre2_code_free(f->vms_re);
	for (size_t i = 0; i < f->n_vms; i++)
		free(f->vms[i]);
	free(f->vms);
	free(f->code);
	free(f->message);
	free(f->spec);
}

size_t sim_faults_parse(sim *s, const dr_node *list, dr_diags *diags)
{
	pctx c = {.d = diags};
	if (!list)
		return 0;
	if (list->kind != DR_NODE_SEQ) {
		bad(&c, DR201, list, "faults must be a list of faults, not %s%s", dr_node_type_name(list), "");
		return c.errors;
	}
	for (size_t i = 0; i < list->u.seq.n; i++) {
		sim_fault f = {0};
		size_t before = c.errors;
		defaults(&f);
		c.f = &f;
		parse_one(&c, list->u.seq.items[i]);
		if (c.errors != before) {
			free_fault(&f);
			continue;
		}
		dr_buf b;
		dr_buf_init(&b);
		render(&b, list->u.seq.items[i]);
		f.key = sim_hash(b.data);
		f.spec = dr_buf_detach(&b);
		s->faults = xrealloc(s->faults, (s->n_faults + 1) * sizeof *s->faults);
		s->faults[s->n_faults++] = f;
	}
	return c.errors;
}

void sim_faults_free(sim *s)
{
	for (size_t i = 0; i < s->n_faults; i++)
		free_fault(&s->faults[i]);
	free(s->faults);
	s->faults = NULL;
	s->n_faults = 0;
}

/* ---- decisions -------------------------------------------------------------------- */

static bool vm_matches(const sim_fault *f, const sim_item *it)
{
	if (f->vms_re) {
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(f->vms_re, NULL);
		int rc = pcre2_match(f->vms_re, (PCRE2_SPTR)it->name, strlen(it->name), 0, 0, md, NULL);
		pcre2_match_data_free(md);
		return rc >= 0;
	}
	if (!f->vms)
		return true;
	for (size_t i = 0; i < f->n_vms; i++)
		if (strcmp(f->vms[i], it->name) == 0)
			return true;
	return false;
}

static bool op_matches(const sim_fault *f, dr_be_op op)
{
	unsigned ops = f->ops ? f->ops : default_ops[f->kind];
	return !ops || (ops & DR_BE_OP_BIT(op));
}

uint32_t *sim_item_hits(sim_item *it, uint64_t fault)
{
	for (size_t i = 0; i < it->n_hits; i++)
		if (it->hits[i].fault == fault)
			return &it->hits[i].n;
	it->hits = xrealloc(it->hits, (it->n_hits + 1) * sizeof *it->hits);
	it->hits[it->n_hits] = (sim_hit){fault, 0};
	return &it->hits[it->n_hits++].n;
}

/* Whether f fires now for it (draw: the item's call or operation count); counts the hit. */
static bool fire(const sim *s, const sim_fault *f, sim_item *it, uint64_t draw)
{
	uint32_t *hits = sim_item_hits(it, f->key);
	if (f->times >= 0 && (int64_t)*hits >= f->times)
		return false;
	if (f->probability < 1 &&
	    sim_unit(sim_mix(sim_mix(s->seed, f->key), sim_mix(sim_hash(it->name), draw))) >= f->probability)
		return false;
	(*hits)++;
	return true;
}

const sim_fault *sim_faults_throttle(sim *s, dr_be_op op)
{
	for (size_t i = 0; i < s->n_faults; i++) {
		const sim_fault *f = &s->faults[i];
		if (f->kind != SIM_F_THROTTLE || !op_matches(f, op) || (int64_t)s->calls <= f->after)
			continue;
		int64_t d = (int64_t)s->calls - f->after - 1;
		bool in = f->every > 0 ? d % f->every < f->burst : d < f->burst;
		if (in && (f->probability >= 1 || sim_unit(sim_mix(sim_mix(s->seed, f->key), s->calls)) < f->probability))
			return f;
	}
	return NULL;
}

const sim_fault *sim_faults_read(sim *s, sim_item *it)
{
	for (size_t i = 0; i < s->n_faults; i++) {
		const sim_fault *f = &s->faults[i];
		if (f->kind == SIM_F_READ_FAILS && vm_matches(f, it) && fire(s, f, it, ++s->reads))
			return f;
	}
	return NULL;
}

const sim_fault *sim_faults_request(sim *s, sim_item *it, dr_be_op op)
{
	for (size_t i = 0; i < s->n_faults; i++) {
		const sim_fault *f = &s->faults[i];
		if (f->kind == SIM_F_FAIL && !f->at_job && op_matches(f, op) && vm_matches(f, it) &&
		    fire(s, f, it, it->n_calls))
			return f;
	}
	return NULL;
}

static int task_index(const sim_job *j, int task)
{
	if (task <= 0)
		return sim_job_main_task(j);
	return task <= j->n_tasks ? task - 1 : j->n_tasks - 1;
}

/* The index of the job's source shutdown task, or -1. */
static int shutdown_task(const sim_job *j)
{
	for (int i = 0; i < j->n_tasks; i++) {
		const char *k = sim_task_key(j->tasks[i].kind);
		if (strcmp(k, "shutdown_source") == 0 || strcmp(k, "shutdown_vm") == 0)
			return i;
	}
	return -1;
}

static void fail_task(sim_job *j, int i, const sim_fault *f, const sim_item *it, const char *dflt_code)
{
	j->tasks[i].outcome = SIM_FAIL;
	free(j->err_code);
	free(j->err_msg);
	j->err_code = xstrdup(f && f->code ? f->code : dflt_code);
	char msg[512];
	snprintf(msg, sizeof msg, "%s of '%s' failed at '%s' (injected fault: %s).", sim_op_friendly(j->op), it->name,
		 sim_task_name(j->tasks[i].kind), f ? f->spec : "?");
	j->err_msg = xstrdup(f && f->message ? f->message : msg);
}

static void apply_job_fault(sim_job *j, const sim_fault *f, const sim_item *it, int shut)
{
	switch (f->kind) {
	case SIM_F_HANG: j->tasks[task_index(j, f->task)].outcome = SIM_HANG; break;
	case SIM_F_SUSPEND:
		j->tasks[task_index(j, f->task)].outcome = SIM_SUSPEND;
		free(j->err_msg);
		j->err_msg = xstrdup(f->message ? f->message : "Do the manual step, then resume the job.");
		break;
	case SIM_F_FAIL: fail_task(j, task_index(j, f->task), f, it, "InjectedFault"); break;
	case SIM_F_UNHEALTHY: j->unhealthy = true; break;
	case SIM_F_SLOW:
		for (int i = 0; i < j->n_tasks; i++)
			j->tasks[i].end = (int64_t)((double)j->tasks[i].end * f->factor);
		break;
	case SIM_F_SHUTDOWN_FAILS:
		if (j->op == DR_BE_OP_FAILOVER)
			j->tasks[shut].outcome = SIM_WARN;
		else
			fail_task(j, shut, f, it, "VmShutdownFailed");
		break;
	default: break;
	}
}

void sim_faults_job(sim *s, sim_item *it, sim_job *j)
{
	for (size_t i = 0; i < s->n_faults; i++) {
		const sim_fault *f = &s->faults[i];
		if (f->kind == SIM_F_THROTTLE || (f->kind == SIM_F_FAIL && !f->at_job) || !op_matches(f, j->op) ||
		    !vm_matches(f, it) || j->n_tasks == 0)
			continue;
		int shut = shutdown_task(j);
		if (f->kind == SIM_F_SHUTDOWN_FAILS && shut < 0)
			continue;
		if (fire(s, f, it, it->n_ops))
			apply_job_fault(j, f, it, shut);
	}
}
