/*
 * emulator/routes.c - the routes the emulator serves, as one table.
 *
 * A pattern is a path of segments; "{name}" captures one segment. Literal
 * segments match ignoring case, as ARM's do ("/Subscriptions/..." and
 * "/subscriptions/..." are the same resource). Matching walks the table
 * (about forty rows) segment by segment; a request costs O(rows x depth)
 * whatever the estate's size.
 */
#include "emulator/emu_int.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SUB "subscriptions/{sub}/resourceGroups/{rg}/providers/"
#define V SUB "Microsoft.RecoveryServices/vaults/{vault}/"
#define C V "replicationFabrics/{fabric}/replicationProtectionContainers/{container}/"
#define RPI C "replicationProtectedItems/{item}/"
#define VM SUB "Microsoft.Compute/virtualMachines/{vm}"

static const emu_route routes[] = {
	/* identity */
	{"POST", "{tenant}/oauth2/v2.0/token", emu_auth_token, EMU_API_IDENTITY},
	{"GET", "metadata/identity/oauth2/token", emu_auth_imds, EMU_API_IDENTITY},
	/* ASR: items and recovery points */
	{"GET", V "replicationProtectedItems", emu_asr_items, EMU_API_ASR},
	{"GET", C "replicationProtectedItems", emu_asr_items, EMU_API_ASR},
	{"GET", RPI "", emu_asr_item, EMU_API_ASR},
	{"GET", RPI "recoveryPoints", emu_asr_points, EMU_API_ASR},
	{"GET", RPI "recoveryPoints/{point}", emu_asr_point, EMU_API_ASR},
	/* ASR: operations on an item, and their long-running operation URLs */
	{"POST", RPI "unplannedFailover", emu_asr_operation, EMU_API_ASR},
	{"POST", RPI "testFailover", emu_asr_operation, EMU_API_ASR},
	{"POST", RPI "testFailoverCleanup", emu_asr_operation, EMU_API_ASR},
	{"POST", RPI "applyRecoveryPoint", emu_asr_operation, EMU_API_ASR},
	{"POST", RPI "failoverCommit", emu_asr_operation, EMU_API_ASR},
	{"POST", RPI "failoverCancel", emu_asr_operation, EMU_API_ASR},
	{"POST", RPI "reProtect", emu_asr_operation, EMU_API_ASR},
	{"POST", RPI "plannedFailover", emu_asr_planned, EMU_API_ASR},
	{"POST", C "switchprotection", emu_asr_switch, EMU_API_ASR},
	{"GET", RPI "operationresults/{job}", emu_asr_opresult, EMU_API_ASR},
	{"GET", C "operationresults/{job}", emu_asr_opresult, EMU_API_ASR},
	{"GET", V "replicationOperationStatus/{job}", emu_asr_opstatus, EMU_API_ASR},
	/* ASR: jobs */
	{"GET", V "replicationJobs", emu_asr_jobs, EMU_API_ASR},
	{"GET", V "replicationJobs/{job}", emu_asr_job, EMU_API_ASR},
	{"POST", V "replicationJobs/{job}/resume", emu_asr_job_resume, EMU_API_ASR},
	/* ASR: what reprotect discovers */
	{"GET", V "replicationFabrics", emu_asr_fabrics, EMU_API_ASR},
	{"GET", V "replicationFabrics/{fabric}", emu_asr_fabric, EMU_API_ASR},
	{"GET", V "replicationFabrics/{fabric}/replicationProtectionContainers", emu_asr_containers, EMU_API_ASR},
	{"GET", C "", emu_asr_container, EMU_API_ASR},
	{"GET", V "replicationProtectionContainers", emu_asr_containers, EMU_API_ASR},
	{"GET", C "replicationProtectionContainerMappings", emu_asr_mappings, EMU_API_ASR},
	{"GET", C "replicationProtectionContainerMappings/{mapping}", emu_asr_mapping, EMU_API_ASR},
	{"GET", V "replicationProtectionContainerMappings", emu_asr_mappings, EMU_API_ASR},
	{"GET", V "replicationPolicies", emu_asr_policies, EMU_API_ASR},
	{"GET", V "replicationPolicies/{policy}", emu_asr_policy, EMU_API_ASR},
	/* Compute and Network: VM facts, power off */
	{"GET", VM, emu_compute_vm, EMU_API_COMPUTE},
	{"GET", VM "/instanceView", emu_compute_instance_view, EMU_API_COMPUTE},
	{"POST", VM "/powerOff", emu_compute_power_off, EMU_API_COMPUTE},
	{"GET", "subscriptions/{sub}/providers/Microsoft.Compute/locations/{location}/operations/{op}",
	 emu_compute_operation, EMU_API_COMPUTE},
	{"GET", SUB "Microsoft.Network/networkInterfaces/{nic}", emu_network_nic, EMU_API_NETWORK},
};

#define N_ROUTES (sizeof routes / sizeof routes[0])

bool emu_ieq(const char *s, const char *t)
{
	return s && t && strcasecmp(s, t) == 0;
}

/* The next segment of *p (skipping slashes) into [*s, *s + *n); false at the end. */
static bool next_segment(const char **p, const char **s, size_t *n)
{
	while (**p == '/')
		(*p)++;
	if (!**p)
		return false;
	*s = *p;
	while (**p && **p != '/')
		(*p)++;
	*n = (size_t)(*p - *s);
	return true;
}

static bool match_one(const emu_route *r, const char *path, emu_call *c)
{
	const char *p = path, *q = r->pattern, *ps, *qs;
	size_t pn, qn;
	c->n_caps = 0;
	for (;;) {
		bool more_p = next_segment(&p, &ps, &pn), more_q = next_segment(&q, &qs, &qn);
		if (!more_p || !more_q)
			return more_p == more_q;
		if (qs[0] == '{') {
			if (c->n_caps == EMU_MAX_CAPS)
				return false;
			c->cap_k[c->n_caps] = dr_arena_strndup(c->a, qs + 1, qn - 2);
			c->cap_v[c->n_caps++] = dr_arena_strndup(c->a, ps, pn);
		} else if (pn != qn || strncasecmp(ps, qs, pn) != 0) {
			return false;
		}
	}
}

/* Literal segments count more than captures: "replicationJobs/{job}" beats "{tenant}/...". */
static int literal_count(const emu_route *r)
{
	int n = 0;
	for (const char *s = r->pattern; *s; s++)
		n += (*s == '/' && s[1] && s[1] != '{') || (s == r->pattern && *s != '{');
	return n;
}

const emu_route *emu_route_match(const char *method, const char *path, emu_call *c, bool *path_known)
{
	const emu_route *best = NULL;
	emu_call tmp = *c;
	*path_known = false;
	for (size_t i = 0; i < N_ROUTES; i++) {
		if (!match_one(&routes[i], path, &tmp))
			continue;
		*path_known = true;
		if (strcmp(routes[i].method, method) != 0)
			continue;
		if (!best || literal_count(&routes[i]) > literal_count(best)) {
			best = &routes[i];
			memcpy(c->cap_k, tmp.cap_k, sizeof c->cap_k);
			memcpy(c->cap_v, tmp.cap_v, sizeof c->cap_v);
			c->n_caps = tmp.n_caps;
		}
	}
	c->route = best;
	return best;
}

const char *emu_cap(const emu_call *c, const char *name)
{
	for (size_t i = 0; i < c->n_caps; i++)
		if (strcmp(c->cap_k[i], name) == 0)
			return c->cap_v[i];
	return "";
}

const char *emu_query(const emu_req *rq, const char *name)
{
	for (size_t i = 0; i < rq->n_query; i++)
		if (emu_ieq(rq->qk[i], name))
			return rq->qv[i];
	return NULL;
}

const char *emu_form(const emu_req *rq, const char *name)
{
	for (size_t i = 0; i < rq->n_form; i++)
		if (strcmp(rq->fk[i], name) == 0)
			return rq->fv[i];
	return NULL;
}
