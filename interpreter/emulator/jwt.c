/*
 * emulator/jwt.c - client assertions as Entra ID checks them, the one
 * emulator file that includes OpenSSL (libcrypto: base64, SHA-1, RSA).
 *
 * A certificate credential's assertion (aud: the token endpoint) must have
 * iss = sub = the client id, a time window around now (5 minutes of skew),
 * alg RS256, and, against the certificate registered for the client with
 * --client-cert, the x5t thumbprint (when sent) and a valid signature: a
 * client that signs wrongly is refused here as Entra ID would refuse it. A
 * federated token (aud api://AzureADTokenExchange, workload identity) is
 * checked for its claims and time only: its issuer's keys are the
 * cluster's, which the emulator does not have.
 */
#include "emulator/emu_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "util/xalloc.h"

#define SKEW_S 300
#define FEDERATED_AUDIENCE "api://AzureADTokenExchange"

typedef struct emu_cert {
	char *client;
	EVP_PKEY *key;
	char thumb[64]; /* base64url SHA-1 of the DER certificate */
} emu_cert;

/* ---- base64url ------------------------------------------------------------------------------ */

/* Decode base64url text (no padding) into a; NULL when it is not base64url. */
static unsigned char *b64url_decode(dr_arena *a, const char *s, size_t n, size_t *out_len)
{
	size_t padded = (n + 3) / 4 * 4;
	char *t = dr_arena_alloc(a, padded + 1);
	for (size_t i = 0; i < n; i++)
		t[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	for (size_t i = n; i < padded; i++)
		t[i] = '=';
	t[padded] = '\0';
	unsigned char *out = dr_arena_alloc(a, padded / 4 * 3 + 1);
	int len = EVP_DecodeBlock(out, (const unsigned char *)t, (int)padded);
	if (len < 0 || n % 4 == 1)
		return NULL;
	*out_len = (size_t)len - (padded - n); /* EVP_DecodeBlock counts the padding's zero bytes */
	out[*out_len] = '\0';
	return out;
}

static void b64url_encode(const unsigned char *in, size_t n, char *out, size_t outsz)
{
	char buf[128];
	if (4 * ((n + 2) / 3) + 1 > sizeof buf)
		return;
	int len = EVP_EncodeBlock((unsigned char *)buf, in, (int)n);
	size_t k = 0;
	for (int i = 0; i < len && buf[i] != '=' && k + 1 < outsz; i++)
		out[k++] = buf[i] == '+' ? '-' : buf[i] == '/' ? '_' : buf[i];
	out[k] = '\0';
}

/* ---- certificates ----------------------------------------------------------------------------- */

static int load_cert(emu_cert *c, const char *file, char *err, size_t errsz)
{
	BIO *bio = BIO_new_file(file, "r");
	X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
	unsigned char der_sha1[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	BIO_free(bio);
	if (!x) {
		snprintf(err, errsz, "--client-cert: '%s' has no PEM certificate (or cannot be read)", file);
		return -1;
	}
	c->key = X509_get_pubkey(x);
	X509_digest(x, EVP_sha1(), der_sha1, &n);
	b64url_encode(der_sha1, n, c->thumb, sizeof c->thumb);
	X509_free(x);
	return c->key ? 0 : -1;
}

int emu_jwt_load_certs(dr_emu *e, char *err, size_t errsz)
{
	emu_cert *certs = xcalloc(e->o.n_client_certs + 1, sizeof *certs);
	e->certs = certs;
	for (size_t i = 0; i < e->o.n_client_certs; i++) {
		const char *s = e->o.client_certs[i], *colon = strchr(s, ':');
		if (!colon || colon == s || !colon[1]) {
			snprintf(err, errsz, "--client-cert: expected CLIENT_ID:FILE, not '%s'", s);
			return -1;
		}
		certs[i].client = xstrndup(s, (size_t)(colon - s));
		e->n_certs++;
		if (load_cert(&certs[i], colon + 1, err, errsz) < 0)
			return -1;
	}
	return 0;
}

void emu_jwt_free(dr_emu *e)
{
	emu_cert *certs = e->certs;
	for (size_t i = 0; i < e->n_certs; i++) {
		free(certs[i].client);
		EVP_PKEY_free(certs[i].key);
	}
	free(certs);
}

static const emu_cert *cert_of(const dr_emu *e, const char *client)
{
	const emu_cert *certs = e->certs;
	for (size_t i = 0; i < e->n_certs; i++)
		if (strcmp(certs[i].client, client) == 0)
			return &certs[i];
	return NULL;
}

/* ---- the checks ------------------------------------------------------------------------------- */

static bool verify(const emu_cert *c, const char *signed_part, size_t n, const unsigned char *sig, size_t sig_len)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	bool ok = md && EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, c->key) == 1 &&
		  EVP_DigestVerify(md, sig, sig_len, (const unsigned char *)signed_part, n) == 1;
	EVP_MD_CTX_free(md);
	return ok;
}

static const char *str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double num(const cJSON *o, const char *key, double dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

/* The audience a certificate assertion names: this tenant's token endpoint (v2 or v1 path). */
static bool audience_ok(const char *aud, const char *tenant)
{
	char v2[256], v1[256];
	size_t n = aud ? strlen(aud) : 0;
	snprintf(v2, sizeof v2, "/%s/oauth2/v2.0/token", tenant);
	snprintf(v1, sizeof v1, "/%s/oauth2/token", tenant);
	return (n > strlen(v2) && strcmp(aud + n - strlen(v2), v2) == 0) ||
	       (n > strlen(v1) && strcmp(aud + n - strlen(v1), v1) == 0);
}

static const char *check_claims(dr_arena *a, const cJSON *hdr, const cJSON *claims, const char *client,
				const char *tenant, int64_t now_ms, bool *federated)
{
	const char *aud = str(claims, "aud"), *iss = str(claims, "iss"), *sub = str(claims, "sub");
	double now = (double)(now_ms / 1000), exp = num(claims, "exp", -1), nbf = num(claims, "nbf", 0);
	*federated = aud && strcmp(aud, FEDERATED_AUDIENCE) == 0;
	if (!str(hdr, "alg") || !iss || !sub || exp < 0)
		return "AADSTS50027: JWT token is invalid or malformed: it needs alg, iss, sub and exp.";
	if (exp + SKEW_S < now || nbf - SKEW_S > now)
		return "AADSTS700024: Client assertion is not within its valid time range.";
	if (*federated)
		return NULL;
	if (!audience_ok(aud, tenant))
		return dr_arena_printf(a, "AADSTS50027: JWT token is invalid or malformed: its audience '%s' is not "
					  "this tenant's token endpoint.", aud ? aud : "");
	if (strcmp(iss, client) != 0 || strcmp(sub, client) != 0)
		return "AADSTS50027: JWT token is invalid or malformed: iss and sub must be the client id.";
	if (strcmp(str(hdr, "alg"), "RS256") != 0)
		return dr_arena_printf(a, "AADSTS50027: JWT token is invalid or malformed: the algorithm '%s' isn't "
					  "RS256.", str(hdr, "alg"));
	return NULL;
}

const char *emu_jwt_check(dr_emu *e, dr_arena *a, const char *jwt, const char *client, const char *tenant,
			  int64_t now_ms)
{
	const char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	size_t hl, cl, sl;
	bool federated;
	if (!d2 || strchr(d2 + 1, '.'))
		return "AADSTS50027: JWT token is invalid or malformed.";
	unsigned char *h = b64url_decode(a, jwt, (size_t)(d1 - jwt), &hl);
	unsigned char *c = b64url_decode(a, d1 + 1, (size_t)(d2 - d1 - 1), &cl);
	unsigned char *sig = b64url_decode(a, d2 + 1, strlen(d2 + 1), &sl);
	cJSON *hdr = h ? cJSON_ParseWithLength((const char *)h, hl) : NULL;
	cJSON *claims = c ? cJSON_ParseWithLength((const char *)c, cl) : NULL;
	const char *why = !hdr || !claims || !sig ? "AADSTS50027: JWT token is invalid or malformed."
						  : check_claims(a, hdr, claims, client, tenant, now_ms, &federated);
	if (!why && !federated) {
		const emu_cert *cert = cert_of(e, client);
		const char *x5t = str(hdr, "x5t");
		if (!cert)
			why = dr_arena_printf(a, "AADSTS700027: Client assertion failed signature validation: no "
						 "certificate is registered for '%s' (drover emulator --client-cert).",
					      client);
		else if (x5t && strcmp(x5t, cert->thumb) != 0)
			why = "AADSTS700027: Client assertion failed signature validation: the x5t thumbprint "
			      "doesn't match the registered certificate.";
		else if (!verify(cert, jwt, (size_t)(d2 - jwt), sig, sl))
			why = "AADSTS700027: Client assertion failed signature validation.";
	}
	cJSON_Delete(hdr);
	cJSON_Delete(claims);
	return why;
}
