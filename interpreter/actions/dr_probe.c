/*
 * actions/dr_probe.c - dr.probe: is the VM up, and does it answer?
 *
 * The VM looked at is the one a validation cares about: the test VM while a
 * test failover has one (a drill), else the VM at the item's active
 * location (after a failover, the one in the recovery region). The probe
 * reads the service's instance view through the backend (dr_be_vm: power
 * state and guest health) and asks again every few seconds of the run's
 * clock until the expectation holds or its time runs out:
 *
 *   expect: running   the VM exists and runs (it may still be booting)
 *   expect: healthy   it runs and its guest answers: the heartbeat / login
 *                     probe of the service's health model (the default)
 *   port: N           also the port answers; in the health model a port
 *                     answers exactly when the guest is healthy (a booting
 *                     or unhealthy guest answers on no port)
 *
 * Not yet is not a failure: the probe waits (WAIT) while the failover
 * creates, starts and boots the VM. Its time: with.timeout, else the
 * attempt's deadline (attempt_timeout), else 10 minutes. When it runs out,
 * the attempt fails as transient with what the VM looked like last, so a
 * retry policy can probe again.
 *
 * A read the service did not answer (throttled: a 429; transient: a 5xx, a
 * lost answer) is not "could not see": the probe asks again no sooner than
 * the service's Retry-After. Its time bounds the probe all the same: when
 * it runs out on such a read, the attempt fails as transient too, saying
 * the read was throttled, so the built-in retry of a step without retry:
 * (throttled only, run/retry.h) does not probe for up to 5 times its time:
 * the probe's own loop was its retry of the 429s. A written retry: on
 * transient probes again, each attempt for the probe's time.
 */
#include "actions/dr_int.h"

#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "run/exec.h"
#include "util/text.h"
#include "util/xalloc.h"

#define PROBE_EVERY_MS 5000
#define PROBE_DEFAULT_MS (10 * 60000)

typedef struct vstate {
	int64_t first_ms, until_ms; /* the run's clock */
	int polls;
} vstate;

typedef struct look {
	const dr_be_vm *vm;
	const char *side; /* "test", "primary", "recovery" */
	bool running, healthy, port_open, pass;
	int64_t port; /* 0: none asked */
} look;

/* How long to keep probing: with.timeout, else the attempt's deadline, else 10 minutes. */
static int64_t until(const dr_call *call)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(call->with, "timeout");
	int64_t ms;
	size_t bad;
	if (cJSON_IsString(t) && dr_text_parse_duration(t->valuestring, &ms, &bad))
		return call->now_ms + ms;
	if (call->deadline_ms != INT64_MAX)
		return call->deadline_ms;
	return call->now_ms + PROBE_DEFAULT_MS;
}

static void observe(const dr_call *call, const dr_be_item *it, look *l)
{
	const char *expect = "healthy";
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(call->with, "expect");
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(call->with, "port");
	if (cJSON_IsString(e))
		expect = e->valuestring;
	*l = (look){.port = cJSON_IsNumber(p) ? (int64_t)p->valuedouble : cJSON_IsString(p) ? atoll(p->valuestring) : 0};
	if (it->test_vm.exists) {
		l->vm = &it->test_vm;
		l->side = "test";
	} else {
		l->vm = dr_backend_active_vm(it);
		l->side = it->active_location == DR_BE_RECOVERY ? "recovery" : "primary";
	}
	l->running = l->vm->exists && l->vm->power == DR_BE_POWER_RUNNING;
	l->healthy = l->running && l->vm->health == DR_BE_HEALTH_HEALTHY;
	l->port_open = l->healthy;
	l->pass = (strcmp(expect, "running") == 0 ? l->running : l->healthy) && (!l->port || l->port_open);
}

/* What the VM looks like, in words, for a failure. */
static const char *looks(dr_arena *a, const dr_be_item *it, const look *l)
{
	const char *where = dr_arena_printf(a, "the %s VM of '%s'%s%s%s", l->side, it->name, l->vm->ip ? " (" : "",
					    l->vm->ip ? l->vm->ip : "", l->vm->ip ? ")" : "");
	if (!l->vm->exists)
		return dr_arena_printf(a, "%s does not exist (the item is %s)", where, dr_backend_state_name(it->state));
	if (!l->running)
		return dr_arena_printf(a, "%s is %s", where, dr_backend_power_name(l->vm->power));
	if (l->vm->health == DR_BE_HEALTH_UNHEALTHY)
		return dr_arena_printf(a, "%s runs but is unhealthy: its guest never became ready%s", where,
				       l->port ? dr_arena_printf(a, " and port %lld does not answer", (long long)l->port) : "");
	if (!l->healthy)
		return dr_arena_printf(a, "%s runs but its guest is still %s", where, dr_backend_health_name(l->vm->health));
	return dr_arena_printf(a, "%s is healthy", where);
}

/* looks(), and what the backend could not see about the VM. */
static const char *looks_and_unseen(dr_arena *a, const dr_be_item *it, const look *l)
{
	const char *s = looks(a, it, l);
	return it->unseen ? dr_arena_printf(a, "%s; drover could not see: %s", s, it->unseen) : s;
}

static cJSON *outputs(const dr_call *call, const vstate *st, const dr_be_item *it, const look *l)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "vm", it->name);
	cJSON_AddStringToObject(o, "side", l->side);
	if (l->vm->id)
		cJSON_AddStringToObject(o, "vm_id", l->vm->id);
	cJSON_AddStringToObject(o, "region", l->vm->region ? l->vm->region : "");
	cJSON_AddStringToObject(o, "ip", l->vm->ip ? l->vm->ip : "");
	cJSON_AddStringToObject(o, "state", dr_backend_power_name(l->vm->power));
	cJSON_AddStringToObject(o, "health", dr_backend_health_name(l->vm->health));
	cJSON_AddBoolToObject(o, "healthy", l->healthy);
	if (l->port) {
		cJSON_AddNumberToObject(o, "port", (double)l->port);
		cJSON_AddBoolToObject(o, "port_open", l->port_open);
	}
	cJSON_AddNumberToObject(o, "polls", st->polls);
	cJSON_AddNumberToObject(o, "duration_ms", (double)(call->now_ms - st->first_ms));
	return o;
}

static dr_outcome done(dr_call *call, dr_outcome o)
{
	free(call->state);
	call->state = NULL;
	return o;
}

/* Out of time: what the VM looked like last (looks), or the read the service did not answer (e); transient either way. */
static dr_outcome gave_up(const dr_call *call, const vstate *st, dr_arena *a, const dr_be_error *e, const char *looks)
{
	char d[40];
	dr_text_human_duration(call->now_ms - st->first_ms, d, sizeof d);
	if (!e)
		return dr_outcome_fail(DR_ERRC_TRANSIENT, "probe of '%s' gave up after %s: %s", call->target->name, d, looks);
	dr_outcome o = dr_outcome_fail(DR_ERRC_TRANSIENT, "probe of '%s' gave up after %s: the service did not answer "
							  "its last read of the VM (%s): %s",
				       call->target->name, d, e->cls == DR_BE_ERR_THROTTLED ? "throttled" : "transient",
				       dr_backend_error_text(a, e));
	o.retry_after_ms = e->retry_after_ms;
	return o;
}

static dr_outcome step(dr_call *call, vstate *st, dr_backend *be, dr_arena *a)
{
	dr_be_item it;
	dr_be_error e;
	look l = {0};
	st->polls++;
	int64_t now = dr_exec_wall(call->run, call->now_ms);
	int rc = dr_backend_get_item(be, a, now, call->target->id, &it, &e);
	if (rc == 0)
		rc = dr_backend_vm_facts(be, a, now, &it, &e);
	if (rc < 0 && e.cls == DR_BE_ERR_PERMANENT)
		return done(call, dr_outcome_fail(DR_ERRC_PERMANENT, "probe of '%s': %s", call->target->name,
						  dr_backend_error_text(a, &e)));
	if (rc == 0) {
		observe(call, &it, &l);
		if (l.pass)
			return done(call, dr_outcome_ok(outputs(call, st, &it, &l)));
	}
	if (dr_exec_cancelled(call))
		return done(call, dr_outcome_fail(DR_ERRC_CANCELLED, "probe of '%s' stopped: the run is stopping",
						  call->target->name));
	if (call->now_ms >= st->until_ms)
		return done(call, gave_up(call, st, a, rc == 0 ? NULL : &e, rc == 0 ? looks_and_unseen(a, &it, &l) : NULL));
	int64_t left = st->until_ms - call->now_ms, every = PROBE_EVERY_MS;
	if (rc < 0 && e.retry_after_ms > every) /* the service said when to ask again */
		every = e.retry_after_ms;
	return dr_outcome_wait(left < every ? left : every);
}

dr_outcome dr_vm_probe_run(dr_call *call)
{
	dr_backend *be = dr_exec_backend(call->run);
	if (!call->target)
		return dr_outcome_fail(DR_ERRC_PERMANENT, "dr.probe needs targets: (it probes each VM of a VM set)");
	if (!be)
		return dr_outcome_fail(DR_ERRC_PERMANENT, "probe of '%s': no backend (dr.* actions run inside a run)",
				       call->target->name);
	vstate *st = call->state;
	if (!st) {
		st = call->state = xcalloc(1, sizeof *st);
		st->first_ms = call->now_ms;
		st->until_ms = until(call);
	}
	dr_arena *a = dr_arena_new();
	dr_outcome o = step(call, st, be, a);
	dr_arena_free(a);
	return o;
}

void dr_vm_probe_cancel(dr_call *call)
{
	free(call->state);
	call->state = NULL;
}
