/*
 * backends/auth_int.h - private to the credential files:
 *
 *   auth.c        configuration from the environment, the cache, the chain
 *   auth_entra.c  the Entra token endpoint: secret, certificate, federated token
 *   auth_cert.c   the certificate's JWT assertion (OpenSSL libcrypto)
 *   auth_imds.c   managed identity through the instance metadata endpoint
 *   auth_cli.c    the Azure CLI's token (`az account get-access-token`)
 *
 * A fetcher returns 0 with *tok, AUTH_FAILED with *err, or
 * AUTH_UNAVAILABLE with *err when the credential is not set up here (the
 * chain then tries the next one and keeps err->message as the reason).
 */
#ifndef DR_AUTH_INT_H
#define DR_AUTH_INT_H

#include <pthread.h>

#include "backends/auth.h"

enum { AUTH_FAILED = -1, AUTH_UNAVAILABLE = -2 };

typedef struct auth_token {
	char *value; /* heap */
	int64_t expires_ms; /* Unix ms */
} auth_token;

struct dr_auth {
	dr_auth_kind kind; /* configured */
	dr_auth_kind used; /* the one that gave the cached token (auto: the chain's choice), or AUTO */
	char *tenant, *client_id, *client_secret, *cert_path, *cert_password, *token_file;
	char *authority; /* "https://login.microsoftonline.com", no trailing slash */
	char *imds; /* "http://169.254.169.254", no trailing slash */
	char *resource; /* "https://management.azure.com/" */
	char *az;
	bool send_chain; /* AZURE_CLIENT_SEND_CERTIFICATE_CHAIN: x5c in the assertion */
	dr_http_client *http;
	int64_t (*clock_ms)(void);
	pthread_mutex_t mu;
	auth_token cached; /* value NULL: none */
	int64_t cached_at;
	int fetches;
};

/* auth.c */
int64_t auth_now(const dr_auth *au);
/* Fill *err (heap strings; fmt is the message). Returns rc. */
int auth_fail(dr_auth_error *err, int rc, bool transient, const char *credential, const char *code, const char *fmt,
	      ...) __attribute__((format(printf, 6, 7)));
/* "client secret (tenant T, client C)" and the like (heap). */
char *auth_describe(const dr_auth *au, dr_auth_kind k);

/* auth_entra.c */
int auth_entra_secret(dr_auth *au, auth_token *tok, dr_auth_error *err);
int auth_entra_certificate(dr_auth *au, auth_token *tok, dr_auth_error *err);
int auth_entra_federated(dr_auth *au, auth_token *tok, dr_auth_error *err);
/* A token answer's access_token and expiry (expires_in, else expires_on); 0, or -1 with *why (static). */
int auth_parse_token(const dr_auth *au, const char *body, auth_token *tok, const char **why);
/* The token endpoint: <authority>/<tenant>/oauth2/v2.0/token (heap). */
char *auth_entra_endpoint(const dr_auth *au);

/* auth_cert.c: a signed client assertion (heap), or NULL with *why (heap) */
char *auth_cert_assertion(const dr_auth *au, const char *audience, char **why);

/* auth_imds.c */
int auth_imds(dr_auth *au, bool probing, auth_token *tok, dr_auth_error *err);

/* auth_cli.c */
int auth_cli(dr_auth *au, auth_token *tok, dr_auth_error *err);

#endif
