/*
 * emulator/contract.h - an OpenAPI (Swagger 2.0) contract checker.
 *
 * Loads Microsoft's contract of the ASR API (shared/reference/
 * asr-openapi-*.json) with cJSON and checks requests and responses against
 * it, so that the emulator and drover's client cannot agree on something
 * the real service would refuse. A request is matched to an operation by
 * method and path template (literal segments compare case-insensitively,
 * as ARM does), then checked:
 *
 *   - path parameters: present, non-empty, the common types' rules
 *     (subscriptionId a UUID, resourceGroupName 1-90 of [-\w._()]);
 *   - query: api-version required and equal to the contract's version,
 *     every declared parameter's type, no undeclared parameter (except the
 *     paging tokens `skipToken` / `$skipToken`, which only come back in a
 *     nextLink the service wrote);
 *   - body: present when required, JSON, and valid against the operation's
 *     schema: $ref, allOf, type, format (int32, int64, date-time, uuid),
 *     enum, required, minLength/maxLength, pattern-free, no property the
 *     schema does not declare, and the instanceType discriminator (the
 *     value must name a subtype of the declared base). A null value is
 *     taken as absent: the service reads null as "not given", as the
 *     contract's own descriptions say ("In case of latest recovery point,
 *     null should be passed").
 *
 * References outside the file (Azure's common types: ProxyResource,
 * ErrorResponse, the api-version, subscription and resource group
 * parameters) are known by name. Problems are sentences naming the place:
 * "body.properties.providerSpecificDetails.instanceType: 'A3A' is not a
 * subtype of UnplannedFailoverProviderSpecificInput (A2A, HyperVReplicaAzure,
 * ...)". Thread safety: a loaded contract is read-only; any number of
 * threads may check at once. Memory: results live in the caller's arena.
 */
#ifndef DR_CONTRACT_H
#define DR_CONTRACT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/arena.h"

typedef struct dr_contract dr_contract;

/* Load the contract at path. NULL with why in err (unreadable, not JSON, not Swagger 2.0). */
dr_contract *dr_contract_load(const char *path, char *err, size_t errsz);
void dr_contract_free(dr_contract *c);

/* The contract's api-version (info.version). */
const char *dr_contract_version(const dr_contract *c);

typedef struct dr_contract_result {
	const char *operation_id; /* the matched operation; NULL when no operation has this method and path */
	const char **problems; /* sentences, in the caller's arena */
	size_t n_problems;
} dr_contract_result;

/*
 * Check a request: method, decoded path (no query), decoded query pairs,
 * body (NULL when none). Returns the number of problems (0: valid, or no
 * operation matched: see out->operation_id).
 */
size_t dr_contract_check_request(const dr_contract *c, dr_arena *a, const char *method, const char *path,
				 const char *const *qk, const char *const *qv, size_t nq, const char *body,
				 size_t body_len, dr_contract_result *out);

/*
 * Check a response of the operation at method and path: status must be one
 * the operation declares, and a body must be valid against that status's
 * schema. Returns the number of problems.
 */
size_t dr_contract_check_response(const dr_contract *c, dr_arena *a, const char *method, const char *path,
				  int status, const char *body, size_t body_len, dr_contract_result *out);

/*
 * Check a JSON text against the named definition ("UnplannedFailoverInput").
 * where prefixes the problems ("body"). Returns the number of problems; an
 * unknown definition is one.
 */
size_t dr_contract_check_definition(const dr_contract *c, dr_arena *a, const char *definition, const char *json,
				    size_t len, const char *where, dr_contract_result *out);

#endif
