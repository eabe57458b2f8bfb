/*
 * lookup.c - what ${...} references mean while a run executes: the lookup
 * callback eval.c asks for every reference, and the evaluation of a task's
 * with: and when:.
 *
 *   params.NAME          the typed value from --param or the default
 *   secrets.NAME         read before any step runs (lookup_load_secrets; on
 *                        first use in a run without a journal), and redacted
 *                        from the free text of every event and screen line
 *   env.NAME             the environment variable (an error when unset)
 *   steps.ID.status      the step's state: pending, running, succeeded, ...
 *   steps.ID.outputs     the action's object; for a fanned-out step a map
 *                        by VM name of the tasks that succeeded
 *   target.FIELD         the task's VM (inventory fields, tags.KEY, state)
 *   run.FIELD            id, name, mode, direction, status, started_at,
 *                        elapsed, rto
 *   recovery.FIELD       point, time, age (the policy until a backend binds it)
 *   inputs.NAME          the use step's with: value, evaluated here
 *
 * Values built for one evaluation (env strings, run.*) live in a scratch
 * array freed when the evaluation returns; the others are borrowed from
 * the run (params, secrets, target objects, task outputs).
 */
#include "run/exec_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backends/backend.h"
#include "run/eval.h"
#include "run/secrets.h"
#include "util/buf.h"
#include "util/text.h"
#include "util/xalloc.h"

typedef struct lctx {
	dr_exec *x;
	task *t;
	const dr_inputs *inputs; /* what ${inputs.*} reads here; NULL outside composites */
	cJSON *scratch;
	dr_eval_env env;
	dr_err_class read_cls; /* a read of the service that failed (target.state), DR_ERRC_NONE when none */
	int64_t read_retry_after; /* its Retry-After, -1 when none */
} lctx;

__attribute__((format(printf, 2, 3))) static const cJSON *fail(char **err, const char *fmt, ...)
{
	va_list ap;
	dr_buf b;
	dr_buf_init(&b);
	va_start(ap, fmt);
	dr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	*err = dr_buf_detach(&b);
	return NULL;
}

static const cJSON *keep(lctx *c, cJSON *v)
{
	cJSON_AddItemToArray(c->scratch, v);
	return v;
}

/* --- params, env, secrets ------------------------------------------------ */

static const cJSON *root_params(lctx *c, const char *const *path, size_t n, char **err)
{
	return dr_eval_walk(c->x->params, path, n, 1, err);
}

static const cJSON *root_env(lctx *c, const char *const *path, size_t n, char **err)
{
	if (n < 2)
		return fail(err, "env needs a variable name: env.NAME");
	const char *v = getenv(path[1]);
	if (!v)
		return fail(err, "env.%s: the environment variable %s is not set", path[1], path[1]);
	return dr_eval_walk(keep(c, cJSON_CreateString(v)), path, n, 2, err);
}

/* Read a declared secret and register it for redaction; the value in x->secrets, or NULL with why in err. */
static const cJSON *load_secret(dr_exec *x, const dr_secret *sec, dr_buf *err)
{
	char *value = dr_secrets_read(sec, x->rb_dir, err);
	if (!value)
		return NULL;
	dr_events_add_secret(x->ev, sec->name.name, value);
	if (!x->secrets)
		x->secrets = cJSON_CreateObject();
	cJSON *item = cJSON_AddStringToObject(x->secrets, sec->name.name, value);
	free(value);
	return item;
}

int lookup_load_secrets(dr_exec *x, dr_buf *err)
{
	int rc = 0;
	for (size_t i = 0; i < x->rb->n_secrets; i++)
		if (!cJSON_GetObjectItemCaseSensitive(x->secrets, x->rb->secrets[i].name.name) &&
		    !load_secret(x, &x->rb->secrets[i], err))
			rc = -1;
	return rc;
}

/* A run that did not load its secrets at the start (an estimate, a test) reads each on first use. */
static const cJSON *resolve_secret(dr_exec *x, const char *name, char **err)
{
	const cJSON *have = cJSON_GetObjectItemCaseSensitive(x->secrets, name);
	if (have)
		return have;
	const dr_secret *s = dr_runbook_secret(x->rb, name);
	if (!s)
		return fail(err, "secrets.%s is not declared under secrets:", name);
	dr_buf why;
	dr_buf_init(&why);
	const cJSON *v = load_secret(x, s, &why);
	if (!v) {
		while (why.len && why.data[why.len - 1] == '\n')
			why.data[--why.len] = '\0';
		fail(err, "%s", why.data);
	}
	dr_buf_dispose(&why);
	return v;
}

static const cJSON *root_secrets(lctx *c, const char *const *path, size_t n, char **err)
{
	if (n < 2)
		return fail(err, "secrets needs a name: secrets.NAME");
	const cJSON *v = resolve_secret(c->x, path[1], err);
	return v ? dr_eval_walk(v, path, n, 2, err) : NULL;
}

/* --- steps --------------------------------------------------------------- */

static const char *no_outputs_why(const dr_exec *x, const task *t)
{
	switch (t->state) {
	case TS_SKIPPED: return dr_arena_printf(x->a, "was skipped (%s)", t->why ? t->why : "skipped");
	case TS_FAILED: return dr_arena_printf(x->a, "failed: %s", t->message ? t->message : "");
	case TS_CANCELLED: return "was cancelled";
	default: return "has not finished";
	}
}

static const cJSON *task_outputs(lctx *c, const srun *s, const task *t, const char *const *path, size_t n,
				 size_t from, char **err)
{
	if (t->outputs)
		return dr_eval_walk(t->outputs, path, n, from, err);
	if (t->vm == NO_VM)
		return fail(err, "steps.%s.outputs: step '%s' %s, so it has no outputs", s->id, s->id,
			    no_outputs_why(c->x, t));
	return fail(err, "steps.%s.outputs.%s: the task of step '%s' for VM '%s' %s, so it has no outputs", s->id,
		    path[3], s->id, path[3], no_outputs_why(c->x, t));
}

static const task *task_named(const dr_exec *x, const srun *s, const char *vm)
{
	for (size_t i = 0; i < s->n_tasks; i++)
		if (s->tasks[i].vm != NO_VM && strcmp(x->vms[s->tasks[i].vm].name, vm) == 0)
			return &s->tasks[i];
	return NULL;
}

/* steps.ID.outputs of a fanned-out step: the map by VM name, or one VM's object. */
static const cJSON *fanned_outputs(lctx *c, const srun *s, const char *const *path, size_t n, char **err)
{
	if (n == 3) {
		cJSON *map = cJSON_CreateObject();
		for (size_t i = 0; i < s->n_tasks; i++)
			if (s->tasks[i].outputs)
				cJSON_AddItemReferenceToObject(map, c->x->vms[s->tasks[i].vm].name, s->tasks[i].outputs);
		return keep(c, map);
	}
	const task *t = task_named(c->x, s, path[3]);
	if (!t)
		return fail(err, "steps.%s.outputs.%s: step '%s' has no task for VM '%s' (it is not among its targets)",
			    s->id, path[3], s->id, path[3]);
	return task_outputs(c, s, t, path, n, 4, err);
}

static const cJSON *root_steps(lctx *c, const char *const *path, size_t n, char **err)
{
	if (n < 3)
		return fail(err, "steps.ID needs a field: steps.ID.outputs or steps.ID.status");
	const srun *s = sched_find(c->x, path[1]);
	if (!s)
		return fail(err, "steps.%s: no step '%s' in this run", path[1], path[1]);
	if (strcmp(path[2], "status") == 0)
		return dr_eval_walk(keep(c, cJSON_CreateString(sched_sstate_name(s->state))), path, n, 3, err);
	if (strcmp(path[2], "outputs") != 0)
		return fail(err, "steps.%s.%s: a step has outputs and status only", path[1], path[2]);
	if (s->state == SS_SKIPPED)
		return fail(err, "steps.%s.outputs: step '%s' was skipped, so it has no outputs", s->id, s->id);
	if (s->n_tasks == 1 && s->tasks[0].vm == NO_VM)
		return task_outputs(c, s, &s->tasks[0], path, n, 3, err);
	if (s->n_tasks == 0)
		return fail(err, "steps.%s.outputs: step '%s' had no VMs to run on, so it has no outputs", s->id, s->id);
	return fanned_outputs(c, s, path, n, err);
}

/* --- target, run, recovery ---------------------------------------------- */

static void add_opt(cJSON *o, const char *key, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, key, v);
}

/*
 * target.*: in a failback (modes.h) primary_* and recovery_* are swapped,
 * so they keep meaning where the VM runs before and after this run's
 * failover: the same runbook validates ${target.recovery_ip} both ways.
 */
/*
 * The VM's texts as target.FIELD names them, in the order ${target} lists
 * them (tags go after the first two), seen from the run's direction (back:
 * failback, where primary and recovery trade places). One table for
 * vm_object and vm_text. values[i] NULL: the inventory has none.
 */
enum { VM_TEXTS = 7, VM_TEXTS_BEFORE_TAGS = 2 };
static const char *const vm_text_names[VM_TEXTS] = {"name",	       "id",	"primary_ip", "recovery_ip",
						    "primary_region", "recovery_region", "size"};

static void vm_texts(const dr_vm *vm, bool back, const char *values[VM_TEXTS])
{
	values[0] = vm->name;
	values[1] = vm->id;
	values[2] = back ? vm->recovery_ip : vm->primary_ip;
	values[3] = back ? vm->primary_ip : vm->recovery_ip;
	values[4] = back ? vm->recovery_region : vm->primary_region;
	values[5] = back ? vm->primary_region : vm->recovery_region;
	values[6] = vm->size;
}

static cJSON *vm_object(const dr_vm *vm, bool back)
{
	const char *values[VM_TEXTS];
	vm_texts(vm, back, values);
	cJSON *o = cJSON_CreateObject();
	for (size_t i = 0; i < VM_TEXTS; i++) {
		if (i == VM_TEXTS_BEFORE_TAGS) {
			cJSON *tags = cJSON_AddObjectToObject(o, "tags");
			for (size_t k = 0; k < vm->n_tags; k++)
				cJSON_AddStringToObject(tags, vm->tag_keys[k], vm->tag_values[k]);
		}
		add_opt(o, vm_text_names[i], values[i]);
	}
	cJSON_AddStringToObject(o, "state", "protected");
	return o;
}

static dr_err_class read_class(dr_be_errclass c)
{
	return c == DR_BE_ERR_TRANSIENT	  ? DR_ERRC_TRANSIENT
	       : c == DR_BE_ERR_THROTTLED ? DR_ERRC_THROTTLED
	       : c == DR_BE_ERR_CANCELLED ? DR_ERRC_CANCELLED
					  : DR_ERRC_PERMANENT;
}

/*
 * target.state: the VM's protection state now, asked of the backend
 * (dr_backend_state_name). A failed read leaves its class in the context:
 * when:/with: hand it to the scheduler (x->read_cls), which may read again.
 */
static const cJSON *live_state(lctx *c, size_t vm, char **err)
{
	dr_exec *x = c->x;
	dr_arena *a = dr_arena_new();
	dr_be_item it;
	dr_be_error e;
	const dr_vm *v = &x->vms[vm];
	const cJSON *out = NULL;
	if (dr_backend_get_item(x->backend, a, dr_exec_wall(x, dr_clock_now(x->clock)), v->id ? v->id : v->name, &it, &e) < 0) {
		fail(err, "target.state: the service cannot say the state of '%s': %s", v->name, dr_backend_error_text(a, &e));
		c->read_cls = read_class(e.cls);
		c->read_retry_after = e.retry_after_ms;
	} else
		out = keep(c, cJSON_CreateString(dr_backend_state_name(it.state)));
	dr_arena_free(a);
	return out;
}

/*
 * target.FIELD of one of the VM's texts (vm_object's), answered from the
 * VM itself: NULL when FIELD is not one or the VM has none (vm_object then
 * decides, and says what is missing). A run reads ${target.recovery_ip} of
 * every VM of a step: no object is built for it, nor kept for the run.
 */
static const char *vm_text(const dr_vm *vm, const char *field, bool back)
{
	const char *values[VM_TEXTS];
	for (size_t i = 0; i < VM_TEXTS; i++)
		if (strcmp(field, vm_text_names[i]) == 0) {
			vm_texts(vm, back, values);
			return values[i];
		}
	return NULL;
}

static const cJSON *root_target(lctx *c, const char *const *path, size_t n, char **err)
{
	dr_exec *x = c->x;
	size_t vm = c->t ? c->t->vm : NO_VM;
	if (vm == NO_VM)
		return fail(err, "target.* is only defined in a step with targets: or foreach:");
	if (n == 2 && strcmp(path[1], "state") == 0 && x->backend)
		return live_state(c, vm, err);
	bool back = x->o.direction == DR_BE_DIR_RECOVERY_TO_PRIMARY;
	const char *text = n == 2 ? vm_text(&x->vms[vm], path[1], back) : NULL;
	if (text) {
		if (err)
			*err = NULL;
		return keep(c, cJSON_CreateString(text));
	}
	if (!x->vm_json[vm])
		x->vm_json[vm] = vm_object(&x->vms[vm], back);
	if (n >= 2 && !cJSON_HasObjectItem(x->vm_json[vm], path[1]) && strcmp(path[1], "tags") != 0)
		return fail(err, "target.%s: VM '%s' has no %s in the inventory", path[1], x->vms[vm].name, path[1]);
	return dr_eval_walk(x->vm_json[vm], path, n, 1, err);
}

static const char *run_status_now(const dr_exec *x)
{
	if (x->ph == PH_MAIN)
		return x->stopping ? "stopping" : "running";
	if (x->ph == PH_ROLLBACK)
		return "rolling_back";
	return dr_run_status_name(x->status);
}

static const cJSON *root_run(lctx *c, const char *const *path, size_t n, char **err)
{
	dr_exec *x = c->x;
	char buf[40];
	cJSON *o = (cJSON *)keep(c, cJSON_CreateObject());
	cJSON_AddStringToObject(o, "id", x->run_id);
	cJSON_AddStringToObject(o, "name", x->rb->name ? x->rb->name : "");
	cJSON_AddStringToObject(o, "mode", dr_mode_name(x->o.mode));
	cJSON_AddStringToObject(o, "direction", dr_mode_direction_name(x->o.direction));
	cJSON_AddStringToObject(o, "status", run_status_now(x));
	dr_clock_format_wall(x->started_wall, buf, sizeof buf);
	cJSON_AddStringToObject(o, "started_at", buf);
	dr_text_format_duration(dr_clock_now(x->clock), buf, sizeof buf);
	cJSON_AddStringToObject(o, "elapsed", buf);
	buf[0] = '\0';
	if (x->rb->rto_ms >= 0)
		dr_text_format_duration(x->rb->rto_ms, buf, sizeof buf);
	cJSON_AddStringToObject(o, "rto", buf);
	return dr_eval_walk(o, path, n, 1, err);
}

static const cJSON *root_recovery(lctx *c, const char *const *path, size_t n, char **err)
{
	const dr_recovery *r = &c->x->rb->recovery;
	cJSON *o = (cJSON *)keep(c, cJSON_CreateObject());
	const char *point = r->present ? dr_point_policy_name(r->point) : "latest";
	if (r->present && r->point == DR_POINT_FROM_EXPR && r->point_node && dr_node_template(r->point_node)) {
		cJSON *v = dr_template_eval(dr_node_template(r->point_node), &c->env, err);
		if (!v)
			return NULL;
		cJSON_AddItemToObject(o, "point", v);
	} else {
		cJSON_AddStringToObject(o, "point", point);
	}
	cJSON_AddStringToObject(o, "time", r->custom_time ? r->custom_time : "");
	cJSON_AddStringToObject(o, "age", "");
	return dr_eval_walk(o, path, n, 1, err);
}

static const dr_param *input_decl(const dr_inputs *b, const char *name)
{
	for (size_t i = 0; i < b->n_decl; i++)
		if (strcmp(b->decl[i].name.name, name) == 0)
			return &b->decl[i];
	return NULL;
}

/*
 * inputs.NAME: the use step's with: value, evaluated in the scope the use
 * step itself sits in (the parent binding), else the composite's default.
 */
static const cJSON *root_inputs(lctx *c, const char *const *path, size_t n, char **err)
{
	const dr_inputs *b = c->inputs;
	if (n < 2)
		return fail(err, "inputs needs a name: inputs.NAME");
	if (!b)
		return fail(err, "inputs.%s: only steps of a composite action have inputs", path[1]);
	const dr_node *v = b->with ? dr_node_get(b->with, path[1]) : NULL;
	const dr_param *decl = input_decl(b, path[1]);
	if (!v && decl)
		v = decl->default_value;
	if (!v)
		return fail(err, "inputs.%s: the use of composite step '%s' gives no value for it and it has no default",
			    path[1], b->use_id);
	lctx outer = *c;
	outer.inputs = b->parent;
	outer.env.ctx = &outer;
	char where[160];
	snprintf(where, sizeof where, "inputs.%s", path[1]);
	cJSON *val = dr_node_eval_at(v, where, &outer.env, err);
	return val ? dr_eval_walk(keep(c, val), path, n, 2, err) : NULL;
}

/* --- the callback -------------------------------------------------------- */

static const struct root {
	const char *name;
	const cJSON *(*fn)(lctx *c, const char *const *path, size_t n, char **err);
} roots[] = {
	{"params", root_params}, {"secrets", root_secrets}, {"env", root_env},		 {"steps", root_steps},
	{"target", root_target}, {"run", root_run},	    {"recovery", root_recovery}, {"inputs", root_inputs},
};

static const cJSON *lookup(void *ctx, const char *const *path, size_t n, char **err)
{
	for (size_t i = 0; i < sizeof roots / sizeof roots[0]; i++)
		if (strcmp(roots[i].name, path[0]) == 0)
			return roots[i].fn(ctx, path, n, err);
	return fail(err, "unknown reference root '%s'", path[0]);
}

static void ctx_init(lctx *c, dr_exec *x, task *t)
{
	*c = (lctx){.x = x, .t = t, .inputs = t ? t->s->st->inputs : NULL, .scratch = cJSON_CreateArray(),
		    .read_cls = DR_ERRC_NONE, .read_retry_after = -1};
	c->env = (dr_eval_env){.lookup = lookup, .ctx = c};
	if (!x->vm_json)
		x->vm_json = xcalloc(x->n_vms + 1, sizeof *x->vm_json);
	if (!x->secrets)
		x->secrets = cJSON_CreateObject();
}

/* The scheduler's evaluations (its thread) tell it of a failed read of the service; an action's do not. */
static void tell_read(dr_exec *x, const lctx *c)
{
	x->read_cls = c->read_cls;
	x->read_retry_after = c->read_retry_after;
}

/* True when n holds no ${...}: every task of its step gets the same value. */
static bool literal(const dr_node *n)
{
	if (!n)
		return true;
	if (n->kind == DR_NODE_MAP) {
		for (size_t i = 0; i < n->u.map.n; i++)
			if (!literal(n->u.map.items[i].value))
				return false;
		return true;
	}
	if (n->kind == DR_NODE_SEQ) {
		for (size_t i = 0; i < n->u.seq.n; i++)
			if (!literal(n->u.seq.items[i]))
				return false;
		return true;
	}
	return !dr_node_template(n);
}

/*
 * A with: of literals (no ${...}) is evaluated once per step and shared by
 * its tasks (the step owns it: lookup_with_drop); it cannot fail and reads
 * nothing, so no service read is left behind either (x->read_cls).
 */
static cJSON *shared_with(dr_exec *x, srun *s, char **err)
{
	if (!s->with_checked) {
		s->with_checked = true;
		s->with_literal = literal(s->st->with);
	}
	if (!s->with_literal)
		return NULL;
	if (!s->with_value) {
		lctx c;
		ctx_init(&c, x, NULL);
		s->with_value = dr_node_eval_at(s->st->with, "with", &c.env, err);
		cJSON_Delete(c.scratch);
	}
	x->read_cls = DR_ERRC_NONE;
	x->read_retry_after = -1;
	return s->with_value;
}

void lookup_with_drop(task *t)
{
	if (t->with != t->s->with_value)
		cJSON_Delete(t->with);
	t->with = NULL;
}

cJSON *lookup_eval_with(dr_exec *x, task *t, char **err)
{
	*err = NULL;
	cJSON *shared = shared_with(x, t->s, err);
	if (shared || *err)
		return shared;
	lctx c;
	ctx_init(&c, x, t);
	cJSON *v = dr_node_eval_at(t->s->st->with, "with", &c.env, err);
	cJSON_Delete(c.scratch);
	tell_read(x, &c);
	if (!v && !*err)
		*err = xstrdup("with: could not be evaluated");
	return v;
}

cJSON *lookup_eval_node(dr_exec *x, task *t, const dr_node *node, const char *where, char **err)
{
	lctx c;
	ctx_init(&c, x, t);
	cJSON *v = dr_node_eval_at(node, where, &c.env, err);
	cJSON_Delete(c.scratch);
	if (!v && !*err)
		fail(err, "%s could not be evaluated", where);
	return v;
}

int lookup_eval_when(dr_exec *x, task *t, bool *out, char **err)
{
	*out = true;
	if (!t->s->st->when)
		return 0;
	lctx c;
	ctx_init(&c, x, t);
	cJSON *v = dr_node_eval_at(t->s->st->when, "when", &c.env, err);
	cJSON_Delete(c.scratch);
	tell_read(x, &c);
	if (!v) {
		if (!*err)
			*err = xstrdup("when: could not be evaluated");
		return -1;
	}
	*out = dr_eval_truthy(v);
	cJSON_Delete(v);
	return 0;
}

void lookup_dispose(dr_exec *x)
{
	for (size_t i = 0; x->vm_json && i < x->n_vms; i++)
		cJSON_Delete(x->vm_json[i]);
	free(x->vm_json);
	x->vm_json = NULL;
	cJSON_Delete(x->secrets);
	x->secrets = NULL;
}

/* --- which steps' outputs are read ----------------------------------- */

typedef struct reads {
	dr_exec *x;
	const dr_step *st; /* the step whose templates are walked; NULL: the runbook's other sections */
} reads;

static void on_read(void *ctx, const dr_expr *e)
{
	const reads *r = ctx;
	if (e->op != DR_E_REF || e->u.ref.n < 1 || !e->u.ref.path[0] || strcmp(e->u.ref.path[0], "steps") != 0)
		return;
	if (e->u.ref.n < 2 || !e->u.ref.path[1]) { /* every step, or one named at run time */
		r->x->all_outputs_read = true;
		return;
	}
	if (e->u.ref.n >= 3 && e->u.ref.path[2] && !strcmp(e->u.ref.path[2], "status"))
		return;
	srun *s = sched_find(r->x, e->u.ref.path[1]);
	if (!s && r->st && r->st->from_composite) /* an id inside the composite this step comes from */
		s = sched_find(r->x, dr_arena_printf(r->x->a, "%s.%s", r->st->from_composite, e->u.ref.path[1]));
	if (s)
		s->outputs_read = true;
	else
		r->x->all_outputs_read = true;
}

static void walk_reads(reads *r, const dr_node *n)
{
	if (!n)
		return;
	if (n->kind == DR_NODE_SCALAR && dr_node_template(n))
		dr_template_each_ref(dr_node_template(n), on_read, r);
	for (size_t k = 0; n->kind == DR_NODE_MAP && k < n->u.map.n; k++)
		walk_reads(r, n->u.map.items[k].value);
	for (size_t k = 0; n->kind == DR_NODE_SEQ && k < n->u.seq.n; k++)
		walk_reads(r, n->u.seq.items[k]);
}

static void step_reads(dr_exec *x, const dr_step *st)
{
	reads r = {x, st};
	walk_reads(&r, st->node); /* its with:, when:, rollback: ... */
	walk_reads(&r, st->composite_with);
}

void lookup_mark_reads(dr_exec *x)
{
	for (size_t i = 0; i < x->n_main; i++)
		step_reads(x, x->main[i].st);
	for (size_t i = 0; i < x->n_fin; i++)
		step_reads(x, x->fin[i].st);
	const dr_node *root = x->rb->root; /* what else a run evaluates (recovery: ...); steps are walked above */
	reads r = {x, NULL};
	for (size_t k = 0; root && root->kind == DR_NODE_MAP && k < root->u.map.n; k++) {
		const char *key = dr_node_str(root->u.map.items[k].key);
		if (!key || (strcmp(key, "steps") && strcmp(key, "finally") && strcmp(key, "composites")))
			walk_reads(&r, root->u.map.items[k].value);
	}
}
