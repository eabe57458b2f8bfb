/*
 * backends/auth_cert.c - the client assertion of a certificate credential:
 * a JWT (RFC 7519) signed RS256 with the certificate's private key, as
 * Entra ID's certificate credentials expect: header {alg, typ, x5t (the
 * certificate's SHA-1 thumbprint), x5c with AZURE_CLIENT_SEND_CERTIFICATE_
 * CHAIN}, claims {aud: the token endpoint, iss = sub: the client id, jti,
 * nbf, iat, exp: ten minutes}. Everything cryptographic is OpenSSL's
 * libcrypto: reading PEM and PKCS#12, the digest, the signature, base64
 * (EVP_EncodeBlock, made URL-safe). This is the only file that includes
 * OpenSSL, so the UUIDs of auth.h (SHA-1 and the random source) live here
 * too.
 */
#include "backends/auth_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>

#include "util/buf.h"
#include "util/xalloc.h"

#define ASSERTION_LIFETIME_S 600
#define MAX_CERT_FILE (1024 * 1024)

typedef struct cert {
	EVP_PKEY *key;
	X509 *x509;
	STACK_OF(X509) *chain; /* the other certificates of the file (x5c); may be NULL */
} cert;

static void cert_dispose(cert *c)
{
	EVP_PKEY_free(c->key);
	X509_free(c->x509);
	sk_X509_pop_free(c->chain, X509_free);
	*c = (cert){0};
}

/* ---- base64 ------------------------------------------------------------------ */

/* Standard base64 of data (heap). */
static char *b64(const unsigned char *data, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, data, (int)n);
	return out;
}

/* Base64url without padding (RFC 7515 §2), appended to b. */
static void b64url(dr_buf *b, const unsigned char *data, size_t n)
{
	char *s = b64(data, n);
	for (char *p = s; *p && *p != '='; p++)
		dr_buf_putc(b, *p == '+' ? '-' : *p == '/' ? '_' : *p);
	free(s);
}

/* ---- reading the certificate ---------------------------------------------------------- */

static char *ssl_reason(const char *what)
{
	char e[256] = "no details";
	unsigned long code = ERR_get_error();
	if (code)
		ERR_error_string_n(code, e, sizeof e);
	ERR_clear_error();
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s (%s)", what, e);
	return dr_buf_detach(&b);
}

static int read_file(const char *path, dr_buf *out, char **why)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		dr_buf b;
		dr_buf_init(&b);
		dr_buf_printf(&b, "cannot read the certificate file '%s': %s", path, strerror(errno));
		*why = dr_buf_detach(&b);
		return -1;
	}
	char chunk[8192];
	size_t got;
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0 && out->len < MAX_CERT_FILE)
		dr_buf_append(out, chunk, got);
	fclose(f);
	return 0;
}

/* The password callback of PEM_read_bio_PrivateKey: AZURE_CLIENT_CERTIFICATE_PASSWORD, or none. */
static int pem_password(char *buf, int size, int rwflag, void *u)
{
	const char *pw = u;
	(void)rwflag;
	size_t n = pw ? strlen(pw) : 0;
	if (!pw || (int)n >= size)
		return 0;
	memcpy(buf, pw, n);
	return (int)n;
}

static int read_pem(const dr_buf *data, const char *password, cert *c, char **why)
{
	BIO *kb = BIO_new_mem_buf(data->data, (int)data->len), *cb = BIO_new_mem_buf(data->data, (int)data->len);
	c->key = PEM_read_bio_PrivateKey(kb, NULL, pem_password, (void *)password);
	if (c->key)
		c->x509 = PEM_read_bio_X509(cb, NULL, NULL, NULL);
	for (X509 *more; c->x509 && (more = PEM_read_bio_X509(cb, NULL, NULL, NULL)) != NULL;) {
		if (!c->chain)
			c->chain = sk_X509_new_null();
		sk_X509_push(c->chain, more);
	}
	ERR_clear_error(); /* the end of the PEM stream is an "error" */
	BIO_free(kb);
	BIO_free(cb);
	if (!c->key || !c->x509)
		*why = xstrdup(!c->key ? "the PEM file has no private key it could read (a password-protected key needs "
					 "AZURE_CLIENT_CERTIFICATE_PASSWORD)"
				       : "the PEM file has a private key but no certificate");
	return c->key && c->x509 ? 0 : -1;
}

static int read_p12(const dr_buf *data, const char *password, cert *c, char **why)
{
	BIO *bio = BIO_new_mem_buf(data->data, (int)data->len);
	PKCS12 *p12 = d2i_PKCS12_bio(bio, NULL);
	BIO_free(bio);
	if (!p12) {
		*why = ssl_reason("the certificate file is neither PEM nor PKCS#12");
		return -1;
	}
	int ok = PKCS12_parse(p12, password ? password : "", &c->key, &c->x509, &c->chain);
	PKCS12_free(p12);
	if (!ok || !c->key || !c->x509) {
		*why = ssl_reason("cannot open the PKCS#12 file (is AZURE_CLIENT_CERTIFICATE_PASSWORD right?)");
		return -1;
	}
	return 0;
}

static int read_cert(const char *path, const char *password, cert *c, char **why)
{
	dr_buf data;
	dr_buf_init(&data);
	int rc = read_file(path, &data, why);
	if (rc == 0)
		rc = data.len && strstr(data.data, "-----BEGIN") ? read_pem(&data, password, c, why)
								 : read_p12(&data, password, c, why);
	if (rc == 0 && EVP_PKEY_get_base_id(c->key) != EVP_PKEY_RSA) {
		*why = xstrdup("the certificate's key is not RSA: Entra ID certificate credentials sign with RS256");
		rc = -1;
	}
	explicit_bzero(data.data, data.len);
	dr_buf_dispose(&data);
	return rc;
}

/* ---- the JWT ------------------------------------------------------------------------------- */

/* A certificate's DER as standard base64 (x5c entries), into arr. */
static void add_x5c(cJSON *arr, X509 *x)
{
	unsigned char *der = NULL;
	int n = i2d_X509(x, &der);
	if (n <= 0)
		return;
	char *s = b64(der, (size_t)n);
	cJSON_AddItemToArray(arr, cJSON_CreateString(s));
	free(s);
	OPENSSL_free(der);
}

static char *header_json(const dr_auth *au, const cert *c)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	dr_buf t;
	dr_buf_init(&t);
	X509_digest(c->x509, EVP_sha1(), md, &n);
	b64url(&t, md, n);
	cJSON *h = cJSON_CreateObject();
	cJSON_AddStringToObject(h, "alg", "RS256");
	cJSON_AddStringToObject(h, "typ", "JWT");
	cJSON_AddStringToObject(h, "x5t", t.data);
	if (au->send_chain) {
		cJSON *x5c = cJSON_AddArrayToObject(h, "x5c");
		add_x5c(x5c, c->x509);
		for (int i = 0; c->chain && i < sk_X509_num(c->chain); i++)
			add_x5c(x5c, sk_X509_value(c->chain, i));
	}
	char *s = cJSON_PrintUnformatted(h);
	cJSON_Delete(h);
	dr_buf_dispose(&t);
	return s;
}

/* ---- UUIDs ----------------------------------------------------------------------------------- */

/* drover's namespace for name-based UUIDs (itself a version 5 UUID of "drover" in the URL namespace). */
static const unsigned char uuid_namespace[16] = {0x4f, 0x1e, 0x9b, 0x52, 0x7c, 0x0d, 0x5a, 0x3e,
						 0x9d, 0x21, 0x6b, 0x84, 0xc7, 0x3a, 0x10, 0xe5};

static void uuid_format(unsigned char r[16], int version, char out[37])
{
	r[6] = (unsigned char)((r[6] & 0x0f) | (version << 4));
	r[8] = (unsigned char)((r[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", r[0], r[1], r[2],
		 r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], r[12], r[13], r[14], r[15]);
}

void dr_auth_uuid_of(const char *name, char out[37])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	if (!c || EVP_DigestInit_ex(c, EVP_sha1(), NULL) != 1 ||
	    EVP_DigestUpdate(c, uuid_namespace, sizeof uuid_namespace) != 1 ||
	    EVP_DigestUpdate(c, name, strlen(name)) != 1 || EVP_DigestFinal_ex(c, md, &n) != 1)
		abort(); /* libcrypto without SHA-1: nothing drover can do */
	EVP_MD_CTX_free(c);
	uuid_format(md, 5, out);
}

void dr_auth_uuid_random(char out[37])
{
	unsigned char r[16];
	if (RAND_bytes(r, sizeof r) != 1)
		abort(); /* the system's random source failed */
	uuid_format(r, 4, out);
}

/* ---- claims ---------------------------------------------------------------------------------- */

static char *claims_json(const dr_auth *au, const char *audience)
{
	char jti[37];
	dr_auth_uuid_random(jti);
	double now = (double)(auth_now(au) / 1000);
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "aud", audience);
	cJSON_AddStringToObject(p, "iss", au->client_id);
	cJSON_AddStringToObject(p, "sub", au->client_id);
	cJSON_AddStringToObject(p, "jti", jti);
	cJSON_AddNumberToObject(p, "nbf", now);
	cJSON_AddNumberToObject(p, "iat", now);
	cJSON_AddNumberToObject(p, "exp", now + ASSERTION_LIFETIME_S);
	char *s = cJSON_PrintUnformatted(p);
	cJSON_Delete(p);
	return s;
}

/* RS256 over the signing input, appended base64url to jwt; 0 or -1 with *why. */
static int sign(dr_buf *jwt, EVP_PKEY *key, char **why)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t n = 0;
	unsigned char *sig = NULL;
	int ok = ctx && EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key) == 1 &&
		 EVP_DigestSign(ctx, NULL, &n, (const unsigned char *)jwt->data, jwt->len) == 1;
	if (ok) {
		sig = xmalloc(n);
		ok = EVP_DigestSign(ctx, sig, &n, (const unsigned char *)jwt->data, jwt->len) == 1;
	}
	if (ok) {
		dr_buf_putc(jwt, '.');
		b64url(jwt, sig, n);
	} else {
		*why = ssl_reason("cannot sign the client assertion with the certificate's key");
	}
	free(sig);
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -1;
}

char *auth_cert_assertion(const dr_auth *au, const char *audience, char **why)
{
	cert c = {0};
	if (read_cert(au->cert_path, au->cert_password, &c, why) < 0) {
		cert_dispose(&c);
		return NULL;
	}
	char *h = header_json(au, &c), *p = claims_json(au, audience);
	dr_buf jwt;
	dr_buf_init(&jwt);
	b64url(&jwt, (const unsigned char *)h, strlen(h));
	dr_buf_putc(&jwt, '.');
	b64url(&jwt, (const unsigned char *)p, strlen(p));
	int rc = sign(&jwt, c.key, why);
	free(h);
	free(p);
	cert_dispose(&c);
	if (rc < 0) {
		dr_buf_dispose(&jwt);
		return NULL;
	}
	return dr_buf_detach(&jwt);
}
