/*
 * emulator/compute.c - the Compute and Network routes that give the facts
 * a runbook uses about a VM: tags, size, power state and guest agent
 * status (virtual machine get with $expand=instanceView, or instanceView),
 * private IPs (network interface get), and power off as an asynchronous
 * operation (202 + Azure-AsyncOperation + Location on Compute's operations
 * URL).
 *
 * The simulator's VMs: for each protected item, its primary VM in resource
 * group drover-sim-<primary region>, its failed-over VM in
 * drover-sim-<recovery region>-asr and a test failover's VM named
 * <name>-test in drover-sim-<region>-asr; each has one network interface
 * <vm>-nic beside it. A VM that does not exist (not failed over yet, or
 * deleted by a cancel) is ARM's 404. The fault `forbidden` answers 403
 * here, as a principal without Reader on the VMs sees.
 */
#include "emulator/emu_int.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "backends/sim.h"

/* The VM a compute path names: its item and which of the item's VMs; NULL: not found (404 answered). */
static const dr_be_vm *find_vm(dr_emu *e, emu_call *c, const char *vm_name, dr_be_item *it)
{
	dr_be_error err;
	char name[256];
	const char *rg = emu_cap(c, "rg");
	size_t n = strlen(vm_name);
	bool test = n > 5 && emu_ieq(vm_name + n - 5, "-test");
	snprintf(name, sizeof name, "%.*s", (int)(test ? n - 5 : n), vm_name);
	if (dr_backend_get_item(e->be, c->a, emu_now(e, c->rq), name, it, &err) == 0) {
		const dr_be_vm *vms[] = {&it->primary_vm, &it->recovery_vm, &it->test_vm};
		for (int i = test ? 2 : 0; i < (test ? 3 : 2); i++) {
			const char *want = dr_arena_printf(c->a, "/resourceGroups/%s/providers/", rg);
			if (vms[i]->exists && vms[i]->id && strcasestr(vms[i]->id, want) &&
			    emu_ieq(strrchr(vms[i]->id, '/') + 1, vm_name))
				return vms[i];
		}
	}
	emu_arm_error(c->rs, 404, "ResourceNotFound",
		      "The Resource 'Microsoft.Compute/virtualMachines/%s' under resource group '%s' was not found. "
		      "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
		      vm_name, rg);
	return NULL;
}

/* A power off runs on the item's VM (the simulator's shutdown job): Compute says "stopping" meanwhile. */
static bool stopping(dr_emu *e, emu_call *c, const dr_be_item *it, const dr_be_vm *vm)
{
	dr_be_job *jobs;
	size_t n;
	dr_be_error err;
	dr_be_job_filter f = {.item_id = it->id, .running_only = true, .since_ms = -1};
	if (vm != dr_backend_active_vm(it) || vm->power != DR_BE_POWER_RUNNING ||
	    dr_backend_list_jobs(e->be, c->a, emu_now(e, c->rq), &f, &jobs, &n, &err) < 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (jobs[i].op == DR_BE_OP_SHUTDOWN)
			return true;
	return false;
}

static const char *power_code(const dr_be_vm *vm, bool stop)
{
	return stop ? "PowerState/stopping" : vm->power == DR_BE_POWER_RUNNING ? "PowerState/running" : "PowerState/deallocated";
}

static const char *power_display(const dr_be_vm *vm, bool stop)
{
	return stop ? "VM stopping" : vm->power == DR_BE_POWER_RUNNING ? "VM running" : "VM deallocated";
}

static cJSON *status(const char *code, const char *display, const char *message, const char *time)
{
	cJSON *s = cJSON_CreateObject();
	cJSON_AddStringToObject(s, "code", code);
	cJSON_AddStringToObject(s, "level", "Info");
	cJSON_AddStringToObject(s, "displayStatus", display);
	if (message)
		cJSON_AddStringToObject(s, "message", message);
	if (time)
		cJSON_AddStringToObject(s, "time", time);
	return s;
}

static cJSON *agent_json(const dr_be_vm *vm, const char *time)
{
	cJSON *a = cJSON_CreateObject(), *st = cJSON_AddArrayToObject(a, "statuses");
	cJSON_AddStringToObject(a, "vmAgentVersion", "2.10.0.8");
	if (vm->power != DR_BE_POWER_RUNNING)
		return a;
	if (vm->health == DR_BE_HEALTH_HEALTHY)
		cJSON_AddItemToArray(st, status("ProvisioningState/succeeded", "Ready", "Guest Agent is running", time));
	else
		cJSON_AddItemToArray(st, status("ProvisioningState/Unavailable", "Not Ready",
						vm->health == DR_BE_HEALTH_BOOTING
							? "VM status blob is found but not yet populated."
							: "VM Agent is unresponsive.",
						time));
	return a;
}

static cJSON *instance_view(dr_arena *a, const dr_be_vm *vm, const char *name, bool stop)
{
	const char *time = emu_time(a, vm->since_ms >= 0 ? vm->since_ms : 0);
	cJSON *iv = cJSON_CreateObject(), *st;
	cJSON_AddStringToObject(iv, "computerName", name);
	cJSON_AddItemToObject(iv, "vmAgent", agent_json(vm, time));
	st = cJSON_AddArrayToObject(iv, "statuses");
	cJSON_AddItemToArray(st, status("ProvisioningState/succeeded", "Provisioning succeeded", NULL, time));
	cJSON_AddItemToArray(st, status(power_code(vm, stop), power_display(vm, stop), NULL, NULL));
	return iv;
}

static const char *nic_id(dr_arena *a, const dr_be_vm *vm)
{
	const char *providers = strstr(vm->id, "/providers/");
	return dr_arena_printf(a, "%.*s/providers/Microsoft.Network/networkInterfaces/%s-nic",
			       (int)(providers - vm->id), vm->id, strrchr(vm->id, '/') + 1);
}

static cJSON *vm_json(dr_emu *e, emu_call *c, const dr_be_item *it, const dr_be_vm *vm, bool expand)
{
	cJSON *o = cJSON_CreateObject(), *p, *tags, *net, *nic;
	const char *name = strrchr(vm->id, '/') + 1;
	cJSON_AddStringToObject(o, "id", vm->id);
	cJSON_AddStringToObject(o, "name", name);
	cJSON_AddStringToObject(o, "type", "Microsoft.Compute/virtualMachines");
	cJSON_AddStringToObject(o, "location", vm->region);
	tags = cJSON_AddObjectToObject(o, "tags");
	for (size_t i = 0; i < it->n_tags; i++)
		cJSON_AddStringToObject(tags, it->tag_keys[i], it->tag_values[i]);
	p = cJSON_AddObjectToObject(o, "properties");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(p, "hardwareProfile"), "vmSize", it->size);
	net = cJSON_AddArrayToObject(cJSON_AddObjectToObject(p, "networkProfile"), "networkInterfaces");
	nic = cJSON_CreateObject();
	cJSON_AddStringToObject(nic, "id", nic_id(c->a, vm));
	cJSON_AddBoolToObject(cJSON_AddObjectToObject(nic, "properties"), "primary", true);
	cJSON_AddItemToArray(net, nic);
	cJSON_AddStringToObject(p, "provisioningState", "Succeeded");
	if (expand)
		cJSON_AddItemToObject(p, "instanceView", instance_view(c->a, vm, name, stopping(e, c, it, vm)));
	return o;
}

void emu_compute_vm(dr_emu *e, emu_call *c)
{
	dr_be_item it;
	const char *name = emu_cap(c, "vm"), *expand = emu_query(c->rq, "$expand");
	if (emu_faults_forbidden(e, c, name))
		return;
	const dr_be_vm *vm = find_vm(e, c, name, &it);
	if (vm)
		emu_json(c->rs, 200, vm_json(e, c, &it, vm, expand && emu_ieq(expand, "instanceView")));
}

void emu_compute_instance_view(dr_emu *e, emu_call *c)
{
	dr_be_item it;
	const char *name = emu_cap(c, "vm");
	if (emu_faults_forbidden(e, c, name))
		return;
	const dr_be_vm *vm = find_vm(e, c, name, &it);
	if (vm)
		emu_json(c->rs, 200, instance_view(c->a, vm, name, stopping(e, c, &it, vm)));
}

static const char *operation_url(dr_emu *e, emu_call *c, const char *region, const char *job, bool monitor)
{
	return dr_arena_printf(c->a, "%s/subscriptions/%s/providers/Microsoft.Compute/locations/%s/operations/%s"
				     "?%sapi-version=%s",
			       e->base_url, e->subscription, region, job, monitor ? "monitor=true&" : "",
			       c->api_version);
}

void emu_compute_power_off(dr_emu *e, emu_call *c)
{
	dr_be_item it;
	dr_be_started st;
	dr_be_error err;
	char why[512];
	const char *name = emu_cap(c, "vm");
	if (emu_faults_forbidden(e, c, name))
		return;
	const dr_be_vm *vm = find_vm(e, c, name, &it);
	if (!vm)
		return;
	if (vm != dr_backend_active_vm(&it)) {
		emu_arm_error(c->rs, 409, "OperationNotAllowed",
			      "The emulator powers off only the VM where '%s' runs now (its %s location).", it.name,
			      dr_backend_location_name(it.active_location));
		return;
	}
	dr_be_request req = {.op = DR_BE_OP_SHUTDOWN, .item_id = it.id,
			     .idempotency_key = dr_arena_printf(c->a, "emulator/%lld/poweroff/%s/%lld",
								(long long)e->wall0, name, (long long)c->rq->now_ms)};
	if (emu_start(e, c, &req, &st, &err) < 0) {
		emu_asr_error(c, &err);
		return;
	}
	if (emu_commit(e, st.replayed, why, sizeof why) < 0) {
		emu_arm_error(c->rs, 500, "InternalServerError", "The emulator could not save its state: %s", why);
		return;
	}
	const char *job = strrchr(st.job_id, '/') + 1;
	emu_header(c->rs, c->a, "Azure-AsyncOperation", operation_url(e, c, vm->region, job, false));
	emu_header(c->rs, c->a, "Location", operation_url(e, c, vm->region, job, true));
	emu_header(c->rs, c->a, "Retry-After", "1");
	c->rs->status = 202;
	/* a resend in the same millisecond has the first one's key: the simulator answers with the first power off,
	   which this call did not start (one power off, one accepted line in the audit log) */
	c->rs->audit_job = st.replayed ? NULL : job;
	c->rs->audit_note = st.replayed ? "Replayed" : NULL;
}

void emu_compute_operation(dr_emu *e, emu_call *c)
{
	dr_be_job j;
	dr_be_error err;
	const char *id = emu_cap(c, "op"), *monitor = emu_query(c->rq, "monitor");
	if (dr_backend_get_job(e->be, c->a, emu_now(e, c->rq), id, &j, &err) < 0 || j.op != DR_BE_OP_SHUTDOWN) {
		emu_arm_error(c->rs, 404, "NotFound", "The operation '%s' wasn't found.", id);
		return;
	}
	bool done = dr_backend_job_done(j.state);
	if (monitor && emu_ieq(monitor, "true")) {
		c->rs->status = done ? 200 : 202;
		if (!done)
			emu_header(c->rs, c->a, "Retry-After", "1");
		return;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", j.name);
	cJSON_AddStringToObject(o, "startTime", emu_time(c->a, j.start_ms));
	if (done)
		cJSON_AddStringToObject(o, "endTime", emu_time(c->a, j.end_ms));
	cJSON_AddStringToObject(o, "status", !done				 ? "InProgress"
					     : j.state == DR_BE_JOB_SUCCEEDED ? "Succeeded"
									      : "Failed");
	if (done && j.state != DR_BE_JOB_SUCCEEDED && j.n_errors) {
		cJSON *er = cJSON_AddObjectToObject(o, "error");
		cJSON_AddStringToObject(er, "code", j.errors[0].error.code);
		cJSON_AddStringToObject(er, "message", j.errors[0].error.message);
	}
	if (!done)
		emu_header(c->rs, c->a, "Retry-After", "1");
	emu_json(c->rs, 200, o);
}

void emu_network_nic(dr_emu *e, emu_call *c)
{
	dr_be_item it;
	const char *nic = emu_cap(c, "nic");
	size_t n = strlen(nic);
	char vm_name[256];
	if (n <= 4 || !emu_ieq(nic + n - 4, "-nic")) {
		emu_arm_error(c->rs, 404, "ResourceNotFound",
			      "The Resource 'Microsoft.Network/networkInterfaces/%s' under resource group '%s' was not "
			      "found.",
			      nic, emu_cap(c, "rg"));
		return;
	}
	snprintf(vm_name, sizeof vm_name, "%.*s", (int)(n - 4), nic);
	if (emu_faults_forbidden(e, c, vm_name))
		return;
	const dr_be_vm *vm = find_vm(e, c, vm_name, &it);
	if (!vm)
		return;
	cJSON *o = cJSON_CreateObject(), *p, *ipc, *ipp;
	cJSON_AddStringToObject(o, "id", nic_id(c->a, vm));
	cJSON_AddStringToObject(o, "name", nic);
	cJSON_AddStringToObject(o, "type", "Microsoft.Network/networkInterfaces");
	cJSON_AddStringToObject(o, "location", vm->region);
	p = cJSON_AddObjectToObject(o, "properties");
	cJSON_AddStringToObject(p, "provisioningState", "Succeeded");
	cJSON_AddBoolToObject(p, "primary", true);
	cJSON_AddStringToObject(cJSON_AddObjectToObject(p, "virtualMachine"), "id", vm->id);
	ipc = cJSON_CreateObject();
	cJSON_AddStringToObject(ipc, "name", "ipconfig1");
	cJSON_AddStringToObject(ipc, "id", dr_arena_printf(c->a, "%s/ipConfigurations/ipconfig1", nic_id(c->a, vm)));
	ipp = cJSON_AddObjectToObject(ipc, "properties");
	cJSON_AddStringToObject(ipp, "privateIPAddress", vm->ip);
	cJSON_AddStringToObject(ipp, "privateIPAllocationMethod", "Static");
	cJSON_AddStringToObject(ipp, "privateIPAddressVersion", "IPv4");
	cJSON_AddBoolToObject(ipp, "primary", true);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(p, "ipConfigurations"), ipc);
	emu_json(c->rs, 200, o);
	(void)it;
}
