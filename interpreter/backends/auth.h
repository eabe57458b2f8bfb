/*
 * backends/auth.h - Microsoft Entra ID access tokens for Azure Resource
 * Manager: the credentials Azure's own tools use, each selectable, tokens
 * cached in memory and refreshed before they expire.
 *
 * Credentials (docs/backends.md, "Credentials"):
 *   client_secret       AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET:
 *                       the client-credentials grant at the tenant's token endpoint
 *   client_certificate  ... and AZURE_CLIENT_CERTIFICATE_PATH (PEM with the key,
 *                       or PKCS#12 with AZURE_CLIENT_CERTIFICATE_PASSWORD): the
 *                       same grant with a JWT assertion signed by libcrypto
 *   workload_identity   AZURE_FEDERATED_TOKEN_FILE (Kubernetes): the file's token
 *                       as the assertion, read afresh for each request
 *   managed_identity    the instance metadata endpoint (IMDS), at
 *                       http://169.254.169.254 or AZURE_POD_IDENTITY_AUTHORITY_HOST;
 *                       AZURE_CLIENT_ID picks a user-assigned identity
 *   azure_cli           `az account get-access-token` run as an argv, no shell
 *   auto                the chain, in the order of Azure's DefaultAzureCredential:
 *                       environment (secret, then certificate), workload identity,
 *                       managed identity, Azure CLI; the first that is configured
 *                       is used from then on
 * The token endpoint's host is AZURE_AUTHORITY_HOST (default
 * https://login.microsoftonline.com). Values given in the configuration
 * win over the environment.
 *
 * Cache. A token is reused until the refresh margin before its expiry
 * (5 minutes, or half its lifetime when that is shorter), then fetched
 * again; a token the service refused (401) is refreshed once, by whichever
 * thread asks first.
 *
 * Errors name the credential tried, the service's error code and what to
 * do; they never hold a secret, a token or an assertion.
 *
 * Threads: any number of threads may ask for tokens at once (one fetches,
 * the others wait for it). Ownership: dr_auth_new copies what it keeps;
 * tokens returned are the caller's (free them).
 */
#ifndef DR_AUTH_H
#define DR_AUTH_H

#include <stdbool.h>
#include <stdint.h>

#include "backends/http.h"

typedef enum dr_auth_kind {
	DR_AUTH_AUTO,
	DR_AUTH_CLIENT_SECRET,
	DR_AUTH_CLIENT_CERTIFICATE,
	DR_AUTH_WORKLOAD_IDENTITY,
	DR_AUTH_MANAGED_IDENTITY,
	DR_AUTH_AZURE_CLI,
	DR_AUTH_COUNT
} dr_auth_kind;

/* "auto", "client_secret", ...: the names the runbook's credential: takes. */
const char *dr_auth_kind_name(dr_auth_kind k);
/* The names above, NULL-terminated (schema enum). */
extern const char *const dr_auth_kind_names[];

typedef struct dr_auth_config {
	dr_auth_kind kind;
	/* NULL: from the environment variables above */
	const char *tenant, *client_id, *client_secret, *certificate_path;
	const char *resource; /* the token's audience; NULL: "https://management.azure.com/" */
	dr_http_client *http; /* borrowed; NULL: a connection per request */
	const char *az_command; /* the Azure CLI program; NULL: "az" on PATH */
	int64_t (*clock_ms)(void); /* Unix ms; NULL: the system's real-time clock (tests pass their own) */
} dr_auth_config;

typedef struct dr_auth_error {
	char *credential; /* which credential: "client secret (tenant contoso, client 1111...)" */
	char *code; /* the service's error code ("invalid_client AADSTS7000215"), or drover's */
	char *message; /* what happened and what to do; never a secret */
	bool transient; /* the service or the network failed: the same request may work later */
} dr_auth_error;

typedef struct dr_auth dr_auth;

/* A token source for cfg (strings copied; the environment is read now). Never NULL. */
dr_auth *dr_auth_new(const dr_auth_config *cfg);
void dr_auth_free(dr_auth *au);

/*
 * A bearer token for the resource (heap, the caller frees it), or NULL with
 * *err filled (dispose it). stale: a token the service just refused (401),
 * or NULL; when it is still the cached one, a new token is fetched.
 */
char *dr_auth_token(dr_auth *au, const char *stale, dr_auth_error *err);

/* The credential in use ("managed identity"), or the one configured when none fetched a token yet. */
const char *dr_auth_credential(dr_auth *au);

/* Tokens fetched so far (each a request to the token service, or a run of az). */
int dr_auth_fetches(dr_auth *au);

/*
 * A name-based UUID (RFC 4122 version 5: SHA-1 of drover's namespace and
 * name) into out: the same name always gives the same id. The client
 * request id of an operation is the UUID of its idempotency key.
 */
void dr_auth_uuid_of(const char *name, char out[37]);
/* A random UUID (version 4) into out. */
void dr_auth_uuid_random(char out[37]);

/* "credential: code: message" in one line (heap). */
char *dr_auth_error_text(const dr_auth_error *e);
void dr_auth_error_dispose(dr_auth_error *e);

#endif
