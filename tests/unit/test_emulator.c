/*
 * test_emulator.c - the emulator's server with many clients at once: eight
 * threads, each with drover's own HTTP client (backends/http.h), take
 * tokens, page through the items, fail their own VMs over, poll the jobs as
 * Retry-After says and read the items back, while the emulator serves them
 * on its connection threads. Run under ThreadSanitizer (make check-tsan),
 * this is the emulator's race test (its write-ahead log included); the shell suite (tests/emulator/run.sh)
 * covers the routes one by one.
 *
 * Then drover's own credentials (backends/auth.h) against the emulator's
 * token endpoints: a client secret, a certificate whose RS256 assertion the
 * emulator verifies against the registered certificate (and refuses when
 * signed by another key), a workload identity's federated token, managed
 * identity through the metadata endpoint; each token then opens an ARM
 * route. Certificates are made here with libcrypto.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <cmocka.h>
#include <pthread.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "backends/auth.h"
#include "backends/http.h"
#include "emulator/emulator.h"
#include "fixture.h"

#define THREADS 8
#define PER_THREAD 3
#define V "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/drover-sim/providers/" \
	  "Microsoft.RecoveryServices/vaults/drover-sim-vault"

static char url[160];

typedef struct worker {
	int index;
	char token[256];
	int items_seen, failed_over, polls;
	char problem[4096];
} worker;

static cJSON *send(worker *w, const char *method, const char *target, const char *ctype, const char *body,
		   long *status, int64_t *retry_ms)
{
	char auth[300];
	const char *headers[] = {auth, NULL};
	snprintf(auth, sizeof auth, "Authorization: Bearer %s", w->token);
	dr_http_request rq = {.method = method, .url = target, .headers = w->token[0] ? headers : NULL,
			      .content_type = ctype, .body = body, .body_len = body ? strlen(body) : 0,
			      .timeout_ms = 10000, .max_body = 1 << 22};
	dr_http_response rs;
	cJSON *v = NULL;
	if (dr_http_send(&rs, &rq) == DR_HTTP_OK) {
		*status = rs.status;
		v = cJSON_Parse(rs.body);
		if (retry_ms)
			*retry_ms = rs.retry_after_ms;
		for (size_t i = 0; retry_ms && i < rs.n_headers; i++)
			if (strncasecmp(rs.headers[i], "retry-after-ms:", 15) == 0)
				*retry_ms = atoll(rs.headers[i] + 15);
		for (size_t i = 0; i < rs.n_headers && strcmp(method, "POST") == 0; i++)
			if (strncasecmp(rs.headers[i], "Location:", 9) == 0 && !v) {
				v = cJSON_CreateString(rs.headers[i] + 10);
			}
	} else {
		*status = 0;
		snprintf(w->problem, sizeof w->problem, "%s %s: %s", method, target, rs.message);
	}
	dr_http_response_dispose(&rs);
	return v;
}

static bool get_token(worker *w)
{
	char target[300];
	long status;
	snprintf(target, sizeof target, "%s/tenant-%d/oauth2/v2.0/token", url, w->index);
	cJSON *t = send(w, "POST", target, "application/x-www-form-urlencoded",
			"grant_type=client_credentials&client_id=drover-emulator-client&client_secret="
			"drover-emulator-secret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default",
			&status, NULL);
	const cJSON *at = cJSON_GetObjectItemCaseSensitive(t, "access_token");
	if (status == 200 && cJSON_IsString(at))
		snprintf(w->token, sizeof w->token, "%s", at->valuestring);
	cJSON_Delete(t);
	return w->token[0] != '\0';
}

/* Page through the items; the ids of this worker's VMs (vm-<index>-<k>) into ids. */
static void list_items(worker *w, char ids[PER_THREAD][512])
{
	char next[2048];
	long status;
	snprintf(next, sizeof next, "%s" V "/replicationProtectedItems?api-version=2025-08-01", url);
	while (next[0]) {
		cJSON *page = send(w, "GET", next, NULL, NULL, &status, NULL);
		const cJSON *value = cJSON_GetObjectItemCaseSensitive(page, "value"), *e;
		next[0] = '\0';
		cJSON_ArrayForEach(e, value) {
			const char *name = cJSON_GetObjectItemCaseSensitive(
						   cJSON_GetObjectItemCaseSensitive(e, "properties"), "friendlyName")
						   ->valuestring;
			int t, k;
			w->items_seen++;
			if (sscanf(name, "vm-%d-%d", &t, &k) == 2 && t == w->index && k < PER_THREAD)
				snprintf(ids[k], 512, "%s", cJSON_GetObjectItemCaseSensitive(e, "id")->valuestring);
		}
		const cJSON *nl = cJSON_GetObjectItemCaseSensitive(page, "nextLink");
		if (cJSON_IsString(nl))
			snprintf(next, sizeof next, "%s", nl->valuestring);
		cJSON_Delete(page);
	}
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	nanosleep(&ts, NULL);
}

/* Fail one item over and poll its job (through Location) until it is done. */
static void fail_over(worker *w, const char id[512])
{
	char target[2048];
	long status;
	int64_t retry = -1;
	snprintf(target, sizeof target, "%s%s/unplannedFailover?api-version=2025-08-01", url, id);
	cJSON *loc = send(w, "POST", target, "application/json",
			  "{\"properties\":{\"failoverDirection\":\"PrimaryToRecovery\",\"providerSpecificDetails\":"
			  "{\"instanceType\":\"A2A\"}}}",
			  &status, &retry);
	if (status != 202 || !cJSON_IsString(loc)) {
		snprintf(w->problem, sizeof w->problem, "failover of %s: %ld", id, status);
		cJSON_Delete(loc);
		return;
	}
	snprintf(target, sizeof target, "%s", loc->valuestring);
	target[strcspn(target, "\r\n")] = '\0';
	cJSON_Delete(loc);
	for (status = 202; status == 202 && w->polls < 500; w->polls++) {
		sleep_ms(retry > 0 ? retry : 50);
		cJSON_Delete(send(w, "GET", target, NULL, NULL, &status, &retry));
	}
	if (status == 200)
		w->failed_over++;
	else
		snprintf(w->problem, sizeof w->problem, "the Location of %s answered %ld", id, status);
}

static void *work(void *p)
{
	worker *w = p;
	char ids[PER_THREAD][512] = {{0}};
	if (!get_token(w))
		return NULL;
	list_items(w, ids);
	for (int k = 0; k < PER_THREAD; k++)
		if (ids[k][0])
			fail_over(w, ids[k]);
	return NULL;
}

static void test_many_clients_at_once(void **state)
{
	(void)state;
	char err[512];
	const char *inv = fx_path("many-clients/inventory.yaml"), *statef = fx_path("many-clients/state.json");
	fx_mkdir("many-clients");
	FILE *f = fopen(inv, "w");
	assert_non_null(f);
	fputs("vms:\n", f);
	for (int t = 0; t < THREADS; t++)
		for (int k = 0; k < PER_THREAD; k++)
			fprintf(f, "  - {name: vm-%d-%d}\n", t, k);
	fclose(f);
	dr_diags *d = dr_diags_new();
	dr_emu_opts o = {.listen = "127.0.0.1:0", .inventory = inv, .state_path = statef, .speed = 3000, .page_size = 5};
	dr_emu *e = dr_emu_new(&o, d, err, sizeof err);
	assert_non_null(e);
	assert_int_equal(dr_emu_start(e, url, sizeof url, err, sizeof err), 0);
	worker w[THREADS];
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++) {
		memset(&w[i], 0, sizeof w[i]);
		w[i].index = i;
		assert_int_equal(pthread_create(&th[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < THREADS; i++) {
		pthread_join(th[i], NULL);
		if (w[i].problem[0])
			fprintf(stderr, "  worker %d: %s\n", i, w[i].problem);
		assert_int_equal(w[i].items_seen, THREADS * PER_THREAD);
		assert_int_equal(w[i].failed_over, PER_THREAD);
	}
	dr_emu_stats st;
	dr_emu_get_stats(e, &st);
	assert_int_equal(st.accepted, THREADS * PER_THREAD);
	assert_true(st.syncs >= 1 && st.syncs <= st.accepted); /* group commit */
	dr_emu_free(e);
	dr_diags_free(d); /* its files go with fx_dir() at exit */
}

/* ---- credentials ------------------------------------------------------------------------ */

/* A self-signed certificate with its key, as PEM (key then certificate) at path. */
static void make_cert(const char *path)
{
	EVP_PKEY *key = EVP_RSA_gen(2048);
	X509 *x = X509_new();
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, key);
	X509_NAME *name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"drover-emulator-test", -1, -1, 0);
	X509_set_issuer_name(x, name);
	X509_sign(x, key, EVP_sha256());
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
	PEM_write_X509(f, x);
	fclose(f);
	X509_free(x);
	EVP_PKEY_free(key);
}

/* A token from cfg, or NULL with the error's code in code. */
static char *token_for(const dr_auth_config *cfg, char *code, size_t codesz)
{
	dr_auth *au = dr_auth_new(cfg);
	dr_auth_error err = {0};
	char *t = dr_auth_token(au, NULL, &err);
	code[0] = '\0';
	if (!t)
		snprintf(code, codesz, "%s", err.code ? err.code : "?");
	dr_auth_error_dispose(&err);
	dr_auth_free(au);
	return t;
}

/* The token opens an ARM route of the emulator. */
static long arm_status(const char *token)
{
	worker w = {0};
	long status = 0;
	snprintf(w.token, sizeof w.token, "%s", token);
	char target[600];
	snprintf(target, sizeof target, "%s" V "/replicationPolicies?api-version=2025-08-01", url);
	cJSON_Delete(send(&w, "GET", target, NULL, NULL, &status, NULL));
	return status;
}

static void test_drover_credentials_against_the_emulator(void **state)
{
	(void)state;
	char spec_good[PATH_MAX + 16], spec_other[PATH_MAX + 16], err[512], code[256];
	const char *good = fx_path("app.pem"), *other = fx_path("other.pem"), *fed = fx_path("federated-token");
	make_cert(good);
	make_cert(other);
	snprintf(spec_good, sizeof spec_good, "app-cert:%s", good);
	snprintf(spec_other, sizeof spec_other, "app-other:%s", other);
	const char *certs[] = {spec_good, spec_other}, *clients[] = {"app-secret:pa55/+&word", "app-cert:x",
								   "app-other:x", "app-fed:x"};
	dr_diags *d = dr_diags_new();
	dr_emu_opts o = {.listen = "127.0.0.1:0", .clients = clients, .n_clients = 4, .client_certs = certs,
			 .n_client_certs = 2};
	dr_emu *e = dr_emu_new(&o, d, err, sizeof err);
	assert_non_null(e);
	assert_int_equal(dr_emu_start(e, url, sizeof url, err, sizeof err), 0);
	setenv("AZURE_AUTHORITY_HOST", url, 1);
	setenv("AZURE_POD_IDENTITY_AUTHORITY_HOST", url, 1);
	dr_auth_config secret = {.kind = DR_AUTH_CLIENT_SECRET, .tenant = "t1", .client_id = "app-secret",
				 .client_secret = "pa55/+&word"};
	char *t = token_for(&secret, code, sizeof code);
	assert_non_null(t);
	assert_int_equal(arm_status(t), 200);
	free(t);
	secret.client_secret = "wrong";
	assert_null(token_for(&secret, code, sizeof code));
	assert_non_null(strstr(code, "AADSTS7000215"));
	dr_auth_config cert = {.kind = DR_AUTH_CLIENT_CERTIFICATE, .tenant = "t1", .client_id = "app-cert",
			       .certificate_path = good};
	t = token_for(&cert, code, sizeof code);
	if (!t)
		fprintf(stderr, "  certificate: %s\n", code);
	assert_non_null(t);
	assert_int_equal(arm_status(t), 200);
	free(t);
	cert.client_id = "app-other"; /* signed with app.pem's key, registered with other.pem */
	assert_null(token_for(&cert, code, sizeof code));
	assert_non_null(strstr(code, "AADSTS700027"));
	FILE *f = fopen(fed, "w");
	assert_non_null(f);
	/* {"alg":"RS256","kid":"k"} . {"aud":"api://AzureADTokenExchange","iss":"https://oidc.example",
	   "sub":"system:serviceaccount:dr:drover","exp":4102444800} . a signature the emulator cannot check */
	fputs("eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJhdWQiOiJhcGk6Ly9BenVyZUFEVG9rZW5FeGNoYW5nZSIsImlzcyI6Imh0dHBz"
	      "Oi8vb2lkYy5leGFtcGxlIiwic3ViIjoic3lzdGVtOnNlcnZpY2VhY2NvdW50OmRyOmRyb3ZlciIsImV4cCI6NDEwMjQ0NDgw"
	      "MH0.c2lnbmF0dXJl\n", f);
	fclose(f);
	setenv("AZURE_FEDERATED_TOKEN_FILE", fed, 1);
	dr_auth_config wi = {.kind = DR_AUTH_WORKLOAD_IDENTITY, .tenant = "t1", .client_id = "app-fed"};
	t = token_for(&wi, code, sizeof code);
	if (!t)
		fprintf(stderr, "  workload identity: %s\n", code);
	assert_non_null(t);
	assert_int_equal(arm_status(t), 200);
	free(t);
	dr_auth_config mi = {.kind = DR_AUTH_MANAGED_IDENTITY};
	t = token_for(&mi, code, sizeof code);
	if (!t)
		fprintf(stderr, "  managed identity: %s\n", code);
	assert_non_null(t);
	assert_int_equal(arm_status(t), 200);
	free(t);
	unsetenv("AZURE_FEDERATED_TOKEN_FILE");
	unsetenv("AZURE_AUTHORITY_HOST");
	unsetenv("AZURE_POD_IDENTITY_AUTHORITY_HOST");
	dr_emu_free(e);
	dr_diags_free(d); /* its files go with fx_dir() at exit */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_clients_at_once),
		cmocka_unit_test(test_drover_credentials_against_the_emulator),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
