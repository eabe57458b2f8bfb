/*
 * test_auth.c - the credentials (backends/auth.h) against a token service
 * and an instance-metadata endpoint played here by libmicrohttpd on
 * 127.0.0.1 (AZURE_AUTHORITY_HOST and AZURE_POD_IDENTITY_AUTHORITY_HOST
 * point at it), and a stand-in `az` program written for the test.
 *
 * The server checks what a real one would: the form's grant, scope and
 * client id; for a certificate, the JWT's RS256 signature against the
 * certificate generated here, its x5t thumbprint and its claims; for a
 * federated token, the file's current content; for IMDS, the Metadata
 * header and the api-version. Time is a clock the tests move.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <cmocka.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backends/auth.h"
#include "fixture.h"

#define SECRET "s3cr3t/with+chars&more"

static struct {
	struct MHD_Daemon *d;
	int port;
	pthread_mutex_t mu;
	int token_calls, imds_calls;
	int imds_fail_next; /* answer 500 this many times */
	int expires_in;
	char last_assertion[8192];
	char last_imds_query[512];
	char last_error[256]; /* why the server refused the last request */
} srv = {.mu = PTHREAD_MUTEX_INITIALIZER, .expires_in = 3600};

static const char *dir; /* fx_dir(): the program's scratch folder */
static char cert_pem[300], az_path[300], az_args[300], fed_file[300];
static EVP_PKEY *cert_key;
static X509 *cert_x509;
static int64_t fake_now = INT64_C(1767225600000);

static int64_t test_clock(void)
{
	return __atomic_load_n(&fake_now, __ATOMIC_RELAXED);
}

/* ---- the server -------------------------------------------------------------------- */

typedef struct upload {
	char data[16384];
	size_t len;
} upload;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Content-Type", "application/json");
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

/* The value of key in a form body (decoded into out); false when absent. */
static bool form_get(const char *form, const char *key, char *out, size_t outsz)
{
	size_t kl = strlen(key);
	for (const char *p = form; p && *p; p = strchr(p, '&') ? strchr(p, '&') + 1 : NULL) {
		if (strncmp(p, key, kl) != 0 || p[kl] != '=')
			continue;
		size_t n = strcspn(p + kl + 1, "&");
		if (n >= outsz)
			return false;
		memcpy(out, p + kl + 1, n);
		out[n] = '\0';
		MHD_http_unescape(out);
		return true;
	}
	return false;
}

static void refuse_reason(const char *why)
{
	pthread_mutex_lock(&srv.mu);
	snprintf(srv.last_error, sizeof srv.last_error, "%s", why);
	pthread_mutex_unlock(&srv.mu);
}

/* Base64url (unpadded, n bytes of s) to bytes (heap), or NULL. */
static unsigned char *b64url_decode(const char *s, size_t n, size_t *out_len)
{
	size_t pad = (4 - n % 4) % 4, total = n + pad;
	char *t = calloc(1, total + 1);
	for (size_t i = 0; i < n; i++)
		t[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	memset(t + n, '=', pad);
	unsigned char *out = calloc(1, total);
	int got = EVP_DecodeBlock(out, (unsigned char *)t, (int)total);
	free(t);
	if (got < 0 || (size_t)got < pad) {
		free(out);
		return NULL;
	}
	*out_len = (size_t)got - pad; /* EVP_DecodeBlock counts the padding as zero bytes */
	return out;
}

static cJSON *jwt_part(const char *s, size_t n)
{
	size_t len = 0;
	unsigned char *raw = b64url_decode(s, n, &len);
	cJSON *j = raw ? cJSON_ParseWithLength((const char *)raw, len) : NULL;
	free(raw);
	return j;
}

/* What Entra checks of a certificate assertion; NULL when good, else why not. */
static const char *check_jwt(const char *jwt, const char *client_id, const char *aud)
{
	const char *d1 = strchr(jwt, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	if (!d2)
		return "not three parts";
	cJSON *h = jwt_part(jwt, (size_t)(d1 - jwt)), *p = jwt_part(d1 + 1, (size_t)(d2 - d1 - 1));
	const char *why = NULL;
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdn = 0;
	X509_digest(cert_x509, EVP_sha1(), md, &mdn);
	size_t tl = 0;
	const cJSON *x5t = cJSON_GetObjectItem(h, "x5t");
	unsigned char *t = cJSON_IsString(x5t) ? b64url_decode(x5t->valuestring, strlen(x5t->valuestring), &tl) : NULL;
	if (!h || !p)
		why = "header or claims not JSON";
	else if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(h, "alg")), "RS256") != 0)
		why = "alg";
	else if (!t || tl != mdn || memcmp(t, md, mdn) != 0)
		why = "x5t is not the certificate's SHA-1 thumbprint";
	else if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(p, "aud")), aud) != 0)
		why = "aud";
	else if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(p, "iss")), client_id) != 0 ||
		 strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(p, "sub")), client_id) != 0)
		why = "iss/sub";
	else if (cJSON_GetNumberValue(cJSON_GetObjectItem(p, "exp")) <= (double)(test_clock() / 1000))
		why = "expired";
	else if (!cJSON_IsString(cJSON_GetObjectItem(p, "jti")))
		why = "jti";
	if (!why) {
		size_t sl = 0;
		unsigned char *sig = b64url_decode(d2 + 1, strlen(d2 + 1), &sl);
		EVP_MD_CTX *ctx = EVP_MD_CTX_new();
		bool ok = sig && EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, X509_get0_pubkey(cert_x509)) == 1 &&
			  EVP_DigestVerify(ctx, sig, sl, (const unsigned char *)jwt, (size_t)(d2 - jwt)) == 1;
		why = ok ? NULL : "signature does not verify";
		EVP_MD_CTX_free(ctx);
		free(sig);
	}
	free(t);
	cJSON_Delete(h);
	cJSON_Delete(p);
	return why;
}

static enum MHD_Result token_endpoint(struct MHD_Connection *c, const char *url, const upload *u)
{
	char form[16384], v[8192], aud[256], cid[128];
	snprintf(form, sizeof form, "%.*s", (int)u->len, u->data);
	snprintf(aud, sizeof aud, "http://127.0.0.1:%d%s", srv.port, url);
	pthread_mutex_lock(&srv.mu);
	srv.token_calls++;
	int n = srv.token_calls, exp = srv.expires_in;
	pthread_mutex_unlock(&srv.mu);
	if (!form_get(form, "grant_type", v, sizeof v) || strcmp(v, "client_credentials") != 0 ||
	    !form_get(form, "scope", v, sizeof v) || strcmp(v, "https://management.azure.com/.default") != 0 ||
	    !form_get(form, "client_id", cid, sizeof cid) || strcmp(url, "/tenant-1/oauth2/v2.0/token") != 0)
		return refuse_reason("grant, scope, client id or tenant"),
		       reply(c, 400, "{\"error\":\"invalid_request\",\"error_description\":\"AADSTS900144: bad form\"}");
	bool good = false;
	if (form_get(form, "client_secret", v, sizeof v)) {
		good = strcmp(v, SECRET) == 0;
	} else if (form_get(form, "client_assertion", v, sizeof v)) {
		pthread_mutex_lock(&srv.mu);
		snprintf(srv.last_assertion, sizeof srv.last_assertion, "%s", v);
		pthread_mutex_unlock(&srv.mu);
		const char *why = strncmp(v, "federated-", 10) == 0 ? NULL : check_jwt(v, cid, aud);
		if (why)
			refuse_reason(why);
		good = !why;
	}
	if (!good)
		return reply(c, 401, "{\"error\":\"invalid_client\",\"error_description\":\"AADSTS7000215: Invalid "
				     "client secret provided. Ensure the secret being sent in the request is the client "
				     "secret value.\\r\\nTrace ID: 0000\\r\\nCorrelation ID: 1111\",\"error_codes\":[7000215]}");
	char body[256];
	snprintf(body, sizeof body, "{\"token_type\":\"Bearer\",\"expires_in\":%d,\"access_token\":\"tok-%d\"}", exp, n);
	return reply(c, 200, body);
}

static enum MHD_Result imds_endpoint(struct MHD_Connection *c)
{
	const char *meta = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Metadata");
	const char *api = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "api-version");
	const char *res = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "resource");
	const char *cid = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "client_id");
	pthread_mutex_lock(&srv.mu);
	int n = ++srv.imds_calls, fail = srv.imds_fail_next > 0 ? srv.imds_fail_next-- : 0;
	snprintf(srv.last_imds_query, sizeof srv.last_imds_query, "resource=%s client_id=%s", res ? res : "-",
		 cid ? cid : "-");
	pthread_mutex_unlock(&srv.mu);
	if (!meta || strcmp(meta, "true") != 0 || !api || strcmp(api, "2018-02-01") != 0)
		return reply(c, 400, "{\"error\":\"invalid_request\",\"error_description\":\"Required metadata header "
				     "not specified\"}");
	if (fail)
		return reply(c, 500, "{\"error\":\"unknown\",\"error_description\":\"try again\"}");
	char body[256];
	snprintf(body, sizeof body, "{\"access_token\":\"mi-%d\",\"expires_in\":\"3599\",\"expires_on\":\"1\","
				    "\"token_type\":\"Bearer\",\"resource\":\"https://management.azure.com/\"}", n);
	return reply(c, 200, body);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			       const char *version, const char *data, size_t *size, void **req)
{
	(void)cls, (void)version;
	upload *u = *req;
	if (!u) {
		*req = calloc(1, sizeof *u);
		return MHD_YES;
	}
	if (*size) {
		size_t n = *size < sizeof u->data - u->len ? *size : sizeof u->data - u->len;
		memcpy(u->data + u->len, data, n);
		u->len += n;
		*size = 0;
		return MHD_YES;
	}
	if (strcmp(method, "POST") == 0 && strstr(url, "/oauth2/v2.0/token"))
		return token_endpoint(c, url, u);
	if (strcmp(method, "GET") == 0 && strcmp(url, "/metadata/identity/oauth2/token") == 0)
		return imds_endpoint(c);
	return reply(c, 404, "{}");
}

static void completed(void *cls, struct MHD_Connection *c, void **req, enum MHD_RequestTerminationCode why)
{
	(void)cls, (void)c, (void)why;
	free(*req);
	*req = NULL;
}

/* ---- fixtures --------------------------------------------------------------------------- */

static void write_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

/* A self-signed RSA certificate and its key, in one PEM file, made with libcrypto. */
static void make_certificate(void)
{
	cert_key = EVP_RSA_gen(2048);
	cert_x509 = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(cert_x509), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert_x509), 0);
	X509_gmtime_adj(X509_getm_notAfter(cert_x509), 3600);
	X509_set_pubkey(cert_x509, cert_key);
	X509_NAME *name = X509_get_subject_name(cert_x509);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"drover-test", -1, -1, 0);
	X509_set_issuer_name(cert_x509, name);
	X509_sign(cert_x509, cert_key, EVP_sha256());
	snprintf(cert_pem, sizeof cert_pem, "%s/app.pem", dir);
	FILE *f = fopen(cert_pem, "w");
	PEM_write_PrivateKey(f, cert_key, NULL, NULL, 0, NULL, NULL);
	PEM_write_X509(f, cert_x509);
	fclose(f);
}

/* A stand-in for the Azure CLI: records its argv, prints a token (or what $FAKE_AZ says). */
static void make_az(void)
{
	char script[1024];
	snprintf(az_args, sizeof az_args, "%s/az-args", dir);
	snprintf(az_path, sizeof az_path, "%s/az", dir);
	snprintf(script, sizeof script,
		 "#!/bin/sh\n"
		 "printf '%%s\\n' \"$@\" > '%s'\n"
		 "case \"$FAKE_AZ\" in\n"
		 "  logged-out) echo \"ERROR: Please run 'az login' to setup account.\" >&2; exit 1;;\n"
		 "  broken) echo 'ERROR: The command failed with an unexpected error.' >&2; exit 2;;\n"
		 "esac\n"
		 "echo '{\"accessToken\": \"cli-token\", \"expires_on\": 1767229200, \"tokenType\": \"Bearer\"}'\n",
		 az_args);
	write_file(az_path, script, 0755);
}

static void clear_env(void)
{
	const char *vars[] = {"AZURE_TENANT_ID", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_CLIENT_CERTIFICATE_PATH",
			      "AZURE_FEDERATED_TOKEN_FILE", "AZURE_CLIENT_CERTIFICATE_PASSWORD", "FAKE_AZ",
			      "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN"};
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++)
		unsetenv(vars[i]);
}

static int setup(void **state)
{
	(void)state;
	dir = fx_dir();
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	srv.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
				 handler, NULL, MHD_OPTION_SOCK_ADDR, &sin, MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
				 MHD_OPTION_END);
	if (!srv.d)
		return -1;
	srv.port = MHD_get_daemon_info(srv.d, MHD_DAEMON_INFO_BIND_PORT)->port;
	char host[64];
	snprintf(host, sizeof host, "http://127.0.0.1:%d/", srv.port);
	setenv("AZURE_AUTHORITY_HOST", host, 1);
	setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", host, 1);
	unsetenv("http_proxy");
	make_certificate();
	make_az();
	snprintf(fed_file, sizeof fed_file, "%s/federated-token", dir);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	MHD_stop_daemon(srv.d);
	EVP_PKEY_free(cert_key);
	X509_free(cert_x509);
	return 0; /* the files go with fx_dir() at exit */
}

static int per_test(void **state)
{
	(void)state;
	clear_env();
	pthread_mutex_lock(&srv.mu);
	srv.token_calls = srv.imds_calls = srv.imds_fail_next = 0;
	srv.expires_in = 3600;
	srv.last_error[0] = '\0';
	pthread_mutex_unlock(&srv.mu);
	fake_now = INT64_C(1767225600000);
	return 0;
}

static int calls(int *which)
{
	pthread_mutex_lock(&srv.mu);
	int n = *which;
	pthread_mutex_unlock(&srv.mu);
	return n;
}

static dr_auth *new_auth(dr_auth_kind kind)
{
	dr_auth_config cfg = {.kind = kind, .clock_ms = test_clock, .az_command = az_path};
	return dr_auth_new(&cfg);
}

static void set_app(void)
{
	setenv("AZURE_TENANT_ID", "tenant-1", 1);
	setenv("AZURE_CLIENT_ID", "client-1", 1);
}

static char *token_ok(dr_auth *au, const char *stale)
{
	dr_auth_error e;
	char *t = dr_auth_token(au, stale, &e);
	if (!t) {
		char *msg = dr_auth_error_text(&e);
		fail_msg("no token: %s (server: %s)", msg, srv.last_error);
	}
	return t;
}

/* ---- tests -------------------------------------------------------------------------------- */

static void test_client_secret_and_cache(void **state)
{
	(void)state;
	set_app();
	setenv("AZURE_CLIENT_SECRET", SECRET, 1);
	dr_auth *au = new_auth(DR_AUTH_CLIENT_SECRET);
	char *t1 = token_ok(au, NULL), *t2 = token_ok(au, NULL);
	assert_string_equal(t1, "tok-1");
	assert_string_equal(t2, "tok-1"); /* cached */
	assert_int_equal(calls(&srv.token_calls), 1);
	assert_string_equal(dr_auth_credential(au), "client secret");
	free(t1), free(t2);
	dr_auth_free(au);
}

static void test_refresh_five_minutes_before_expiry(void **state)
{
	(void)state;
	set_app();
	setenv("AZURE_CLIENT_SECRET", SECRET, 1);
	dr_auth *au = new_auth(DR_AUTH_CLIENT_SECRET);
	free(token_ok(au, NULL));
	fake_now += (3600 - 301) * INT64_C(1000);
	char *t = token_ok(au, NULL);
	assert_string_equal(t, "tok-1");
	free(t);
	fake_now += 2000; /* 299 s left: inside the margin */
	t = token_ok(au, NULL);
	assert_string_equal(t, "tok-2");
	free(t);
	/* a short-lived token (60 s): refreshed at half its life, not at every call */
	pthread_mutex_lock(&srv.mu);
	srv.expires_in = 60;
	pthread_mutex_unlock(&srv.mu);
	fake_now += 3600 * INT64_C(1000);
	free(token_ok(au, NULL)); /* tok-3, 60 s */
	fake_now += 29000;
	t = token_ok(au, NULL);
	assert_string_equal(t, "tok-3");
	free(t);
	fake_now += 2000;
	t = token_ok(au, NULL);
	assert_string_equal(t, "tok-4");
	free(t);
	dr_auth_free(au);
}

static void test_refused_token_is_refreshed_once(void **state)
{
	(void)state;
	set_app();
	setenv("AZURE_CLIENT_SECRET", SECRET, 1);
	dr_auth *au = new_auth(DR_AUTH_CLIENT_SECRET);
	char *t1 = token_ok(au, NULL);
	char *t2 = token_ok(au, t1); /* the service said 401 to t1 */
	assert_string_equal(t2, "tok-2");
	char *t3 = token_ok(au, t1); /* another thread also saw t1 refused: t2 is already new */
	assert_string_equal(t3, "tok-2");
	assert_int_equal(calls(&srv.token_calls), 2);
	free(t1), free(t2), free(t3);
	dr_auth_free(au);
}

static void test_bad_secret_error_names_credential_and_code(void **state)
{
	(void)state;
	set_app();
	setenv("AZURE_CLIENT_SECRET", "wrong-" SECRET, 1);
	dr_auth *au = new_auth(DR_AUTH_CLIENT_SECRET);
	dr_auth_error e;
	assert_null(dr_auth_token(au, NULL, &e));
	char *text = dr_auth_error_text(&e);
	assert_string_equal(e.credential, "client secret (tenant tenant-1, client client-1)");
	assert_string_equal(e.code, "invalid_client AADSTS7000215");
	assert_non_null(strstr(e.message, "Invalid client secret provided"));
	assert_non_null(strstr(e.message, "HTTP 401"));
	assert_null(strstr(text, "Trace ID")); /* the first line of the description only */
	assert_null(strstr(text, SECRET));
	assert_false(e.transient);
	free(text);
	dr_auth_error_dispose(&e);
	dr_auth_free(au);
}

static void test_missing_settings_are_named(void **state)
{
	(void)state;
	setenv("AZURE_CLIENT_ID", "client-1", 1);
	dr_auth *au = new_auth(DR_AUTH_CLIENT_SECRET);
	dr_auth_error e;
	assert_null(dr_auth_token(au, NULL, &e));
	assert_string_equal(e.code, "CredentialUnavailable");
	assert_string_equal(e.message, "AZURE_TENANT_ID, AZURE_CLIENT_SECRET not set");
	assert_int_equal(calls(&srv.token_calls), 0);
	dr_auth_error_dispose(&e);
	dr_auth_free(au);
}

static void test_client_certificate_assertion(void **state)
{
	(void)state;
	set_app();
	setenv("AZURE_CLIENT_CERTIFICATE_PATH", cert_pem, 1);
	dr_auth *au = new_auth(DR_AUTH_CLIENT_CERTIFICATE);
	char *t = token_ok(au, NULL); /* the server verified signature, thumbprint and claims */
	assert_string_equal(t, "tok-1");
	free(t);
	dr_auth_free(au);
	/* a key the certificate does not match fails at the service, not in drover */
	char other[320];
	snprintf(other, sizeof other, "%s/other.pem", dir);
	EVP_PKEY *k = EVP_RSA_gen(2048);
	FILE *f = fopen(other, "w");
	PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL);
	PEM_write_X509(f, cert_x509);
	fclose(f);
	EVP_PKEY_free(k);
	setenv("AZURE_CLIENT_CERTIFICATE_PATH", other, 1);
	au = new_auth(DR_AUTH_CLIENT_CERTIFICATE);
	dr_auth_error e;
	assert_null(dr_auth_token(au, NULL, &e));
	assert_string_equal(srv.last_error, "signature does not verify");
	assert_string_equal(e.code, "invalid_client AADSTS7000215");
	dr_auth_error_dispose(&e);
	dr_auth_free(au);
	unlink(other);
	/* an unreadable file is drover's own error, with the path */
	setenv("AZURE_CLIENT_CERTIFICATE_PATH", "/nonexistent/app.pem", 1);
	au = new_auth(DR_AUTH_CLIENT_CERTIFICATE);
	assert_null(dr_auth_token(au, NULL, &e));
	assert_string_equal(e.code, "CertificateUnusable");
	assert_non_null(strstr(e.message, "/nonexistent/app.pem"));
	dr_auth_error_dispose(&e);
	dr_auth_free(au);
}

static void test_workload_identity_reads_the_file_each_time(void **state)
{
	(void)state;
	set_app();
	setenv("AZURE_FEDERATED_TOKEN_FILE", fed_file, 1);
	write_file(fed_file, "federated-one\n", 0600);
	dr_auth *au = new_auth(DR_AUTH_WORKLOAD_IDENTITY);
	char *t = token_ok(au, NULL);
	assert_string_equal(srv.last_assertion, "federated-one");
	write_file(fed_file, "federated-two", 0600); /* the kubelet rotated it */
	char *t2 = token_ok(au, t);
	assert_string_equal(srv.last_assertion, "federated-two");
	free(t), free(t2);
	dr_auth_free(au);
}

static void test_managed_identity(void **state)
{
	(void)state;
	setenv("AZURE_CLIENT_ID", "user-assigned-1", 1);
	pthread_mutex_lock(&srv.mu);
	srv.imds_fail_next = 1; /* IMDS answers 500 once: retried */
	pthread_mutex_unlock(&srv.mu);
	dr_auth *au = new_auth(DR_AUTH_MANAGED_IDENTITY);
	char *t = token_ok(au, NULL);
	assert_string_equal(t, "mi-2");
	assert_string_equal(srv.last_imds_query, "resource=https://management.azure.com/ client_id=user-assigned-1");
	assert_string_equal(dr_auth_credential(au), "managed identity");
	free(t);
	dr_auth_free(au);
}

static void test_azure_cli(void **state)
{
	(void)state;
	dr_auth *au = new_auth(DR_AUTH_AZURE_CLI);
	char *t = token_ok(au, NULL);
	assert_string_equal(t, "cli-token");
	free(t);
	FILE *f = fopen(az_args, "r");
	char args[512] = "";
	size_t n = fread(args, 1, sizeof args - 1, f);
	args[n] = '\0';
	fclose(f);
	assert_string_equal(args, "account\nget-access-token\n--output\njson\n--resource\nhttps://management.azure.com/\n");
	dr_auth_free(au);
	setenv("FAKE_AZ", "logged-out", 1);
	au = new_auth(DR_AUTH_AZURE_CLI);
	dr_auth_error e;
	assert_null(dr_auth_token(au, NULL, &e));
	assert_string_equal(e.code, "AzExit1");
	assert_non_null(strstr(e.message, "Please run 'az login'"));
	dr_auth_error_dispose(&e);
	dr_auth_free(au);
}

static void test_chain_picks_the_first_configured(void **state)
{
	(void)state;
	set_app();
	setenv("AZURE_CLIENT_SECRET", SECRET, 1);
	dr_auth *au = new_auth(DR_AUTH_AUTO);
	char *t = token_ok(au, NULL);
	assert_string_equal(t, "tok-1");
	assert_string_equal(dr_auth_credential(au), "client secret");
	assert_int_equal(calls(&srv.imds_calls), 0);
	free(t);
	dr_auth_free(au);
	/* nothing in the environment: managed identity answers (the test's IMDS) */
	clear_env();
	au = new_auth(DR_AUTH_AUTO);
	t = token_ok(au, NULL);
	assert_string_equal(t, "mi-1");
	assert_string_equal(dr_auth_credential(au), "managed identity");
	free(t);
	dr_auth_free(au);
}

static void test_chain_with_nothing_says_why(void **state)
{
	(void)state;
	setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:9", 1); /* the discard port: refused */
	setenv("FAKE_AZ", "logged-out", 1);
	dr_auth *au = new_auth(DR_AUTH_AUTO);
	dr_auth_error e;
	assert_null(dr_auth_token(au, NULL, &e));
	assert_string_equal(e.code, "CredentialUnavailable");
	assert_non_null(strstr(e.message, "client certificate (tenant unset, client unset): AZURE_TENANT_ID"));
	assert_non_null(strstr(e.message, "workload identity"));
	assert_non_null(strstr(e.message, "managed identity: no instance metadata service answers"));
	assert_non_null(strstr(e.message, "Azure CLI: ERROR: Please run 'az login'"));
	dr_auth_error_dispose(&e);
	dr_auth_free(au);
	char host[64];
	snprintf(host, sizeof host, "http://127.0.0.1:%d/", srv.port);
	setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", host, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_client_secret_and_cache, per_test),
		cmocka_unit_test_setup(test_refresh_five_minutes_before_expiry, per_test),
		cmocka_unit_test_setup(test_refused_token_is_refreshed_once, per_test),
		cmocka_unit_test_setup(test_bad_secret_error_names_credential_and_code, per_test),
		cmocka_unit_test_setup(test_missing_settings_are_named, per_test),
		cmocka_unit_test_setup(test_client_certificate_assertion, per_test),
		cmocka_unit_test_setup(test_workload_identity_reads_the_file_each_time, per_test),
		cmocka_unit_test_setup(test_managed_identity, per_test),
		cmocka_unit_test_setup(test_azure_cli, per_test),
		cmocka_unit_test_setup(test_chain_picks_the_first_configured, per_test),
		cmocka_unit_test_setup(test_chain_with_nothing_says_why, per_test),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
