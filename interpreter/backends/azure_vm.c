/*
 * backends/azure_vm.c - what ASR does not say about a VM, from the
 * Compute and Network APIs: its power state and guest agent (virtual
 * machine get with $expand=instanceView), and its private address (the
 * primary network interface) when ASR gave none.
 *
 * Which VMs: the one at the item's active location, and a test failover's
 * VM while it exists - what dr.probe and the operations' outputs look at.
 *
 * Without access (403) or when the VM is absent (404), drover goes on
 * from ASR's own data: the VM's facts stay unknown (power none, health
 * unknown; 404 also means "does not exist"), and item->unseen says what
 * could not be seen and why, for the plan and the probes to show.
 */
#include "backends/azure_int.h"

#include <string.h>
#include <strings.h>

#include "util/buf.h"

/* Power and guest health from an instance view's statuses and vmAgent. */
static void read_instance_view(const cJSON *iv, dr_be_vm *vm)
{
	const cJSON *s;
	vm->power = DR_BE_POWER_NONE;
	cJSON_ArrayForEach(s, cJSON_GetObjectItem(iv, "statuses"))
	{
		const char *code = az_str(s, "code");
		if (!code || strncasecmp(code, "PowerState/", 11) != 0)
			continue;
		code += 11;
		vm->power = strcasecmp(code, "running") == 0 || strcasecmp(code, "starting") == 0 ? DR_BE_POWER_RUNNING
												     : DR_BE_POWER_STOPPED;
	}
	vm->health = DR_BE_HEALTH_UNKNOWN;
	if (vm->power != DR_BE_POWER_RUNNING)
		return;
	vm->health = DR_BE_HEALTH_BOOTING; /* running, no agent report yet */
	cJSON_ArrayForEach(s, az_path(iv, "vmAgent", "statuses", NULL))
	{
		const char *shown = az_str(s, "displayStatus");
		if (shown && strcasecmp(shown, "Ready") == 0)
			vm->health = DR_BE_HEALTH_HEALTHY;
	}
}

/* The primary NIC's id from a VM's networkProfile. */
static const char *primary_nic(const cJSON *vmj)
{
	const cJSON *n, *first = NULL;
	cJSON_ArrayForEach(n, az_path(vmj, "properties", "networkProfile", "networkInterfaces", NULL))
	{
		if (cJSON_IsTrue(az_path(n, "properties", "primary", NULL)))
			return az_str(n, "id");
		if (!first)
			first = n;
	}
	return az_str(first, "id");
}

/* The NIC's primary private address, or NULL. */
static const char *nic_address(az *z, dr_arena *a, const char *nic, dr_buf *unseen)
{
	az_reply rep;
	dr_be_error e;
	az_req r = {.method = "GET", .url = nic, .api = AZ_NETWORK_API};
	const char *ip = NULL;
	if (az_send(z, a, &r, &rep, &e) < 0) {
		dr_buf_printf(unseen, "%saddress of %s: Microsoft.Network answered %d %s", unseen->len ? "; " : "",
			      strrchr(nic, '/') ? strrchr(nic, '/') + 1 : nic, e.http_status, e.code);
	} else {
		const cJSON *c;
		cJSON_ArrayForEach(c, az_path(rep.json, "properties", "ipConfigurations", NULL))
		{
			const char *addr = az_str(cJSON_GetObjectItem(c, "properties"), "privateIPAddress");
			if (addr && (!ip || cJSON_IsTrue(az_path(c, "properties", "primary", NULL))))
				ip = dr_arena_strdup(a, addr);
		}
	}
	az_reply_dispose(&rep);
	return ip;
}

/* The VM's facts; -1 with *err when Compute could not be asked (429, 5xx, a lost answer: it may answer later). */
static int one_vm(az *z, dr_arena *a, dr_be_vm *vm, dr_buf *unseen, dr_be_error *err)
{
	az_reply rep;
	dr_be_error e;
	const char *name = strrchr(vm->id, '/') ? strrchr(vm->id, '/') + 1 : vm->id;
	az_req r = {.method = "GET", .url = vm->id, .api = AZ_COMPUTE_API, .query = "$expand=instanceView"};
	if (az_send(z, a, &r, &rep, &e) < 0) {
		az_reply_dispose(&rep);
		if (e.cls != DR_BE_ERR_PERMANENT) {
			*err = e;
			return -1;
		}
		if (e.http_status == 404)
			vm->exists = false;
		dr_buf_printf(unseen, "%spower state and guest agent of %s: %s", unseen->len ? "; " : "", name,
			      e.http_status == 404   ? "the VM does not exist (404)"
			      : e.http_status == 403 ? dr_arena_printf(a, "no access to Microsoft.Compute (403 %s)", e.code)
						     : dr_arena_printf(a, "Microsoft.Compute answered %d %s", e.http_status, e.code));
		return 0;
	}
	vm->exists = true;
	read_instance_view(az_path(rep.json, "properties", "instanceView", NULL), vm);
	const char *nic = primary_nic(rep.json);
	if (!vm->ip && nic)
		vm->ip = nic_address(z, a, dr_arena_strdup(a, nic), unseen);
	az_reply_dispose(&rep);
	return 0;
}

int az_vm_facts(az *z, dr_arena *a, dr_be_item *it, dr_be_error *err)
{
	dr_buf unseen;
	dr_buf_init(&unseen);
	dr_be_vm *active = it->active_location == DR_BE_RECOVERY ? &it->recovery_vm : &it->primary_vm;
	int rc = 0;
	if (active->id)
		rc = one_vm(z, a, active, &unseen, err);
	else
		dr_buf_printf(&unseen, "the VM at the %s location: the item names none",
			      dr_backend_location_name(it->active_location));
	if (rc == 0 && it->test_vm.exists && it->test_vm.id)
		rc = one_vm(z, a, &it->test_vm, &unseen, err);
	it->unseen = unseen.len ? dr_arena_strdup(a, unseen.data) : NULL;
	dr_buf_dispose(&unseen);
	return rc;
}

const char *az_vm_power(az *z, dr_arena *a, const char *vm_id, dr_be_error *err)
{
	az_reply rep;
	az_req r = {.method = "GET", .url = dr_arena_printf(a, "%s/instanceView", vm_id), .api = AZ_COMPUTE_API};
	const char *out = NULL;
	if (az_send(z, a, &r, &rep, err) == 0) {
		const cJSON *s;
		cJSON_ArrayForEach(s, cJSON_GetObjectItem(rep.json, "statuses"))
		{
			const char *code = az_str(s, "code");
			if (code && strncasecmp(code, "PowerState/", 11) == 0)
				out = dr_arena_strdup(a, code + 11);
		}
		if (!out)
			dr_backend_fail(err, a, 502, DR_BE_ERR_TRANSIENT, "PowerStateUnknown", NULL, NULL,
					"The instance view of %s has no power state.", vm_id);
	}
	az_reply_dispose(&rep);
	return out;
}
