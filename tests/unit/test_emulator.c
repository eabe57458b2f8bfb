/*
 * test_emulator.c - the emulator's server with many clients at once: eight
 * threads, each with drover's own HTTP client (backends/http.h), take
 * tokens, page through the items, fail their own VMs over, poll the jobs as
 * Retry-After says and read the items back, while the emulator serves them
 * on its connection threads. Run under ThreadSanitizer (make check-tsan),
 * this is the emulator's race test; the shell suite (tests/emulator/run.sh)
 * covers the routes one by one.
 */
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

#include "backends/http.h"
#include "emulator/emulator.h"

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
	char dir[] = "/tmp/drover-emulator-test-XXXXXX", inv[128], err[512];
	assert_non_null(mkdtemp(dir));
	snprintf(inv, sizeof inv, "%s/inventory.yaml", dir);
	FILE *f = fopen(inv, "w");
	assert_non_null(f);
	fputs("vms:\n", f);
	for (int t = 0; t < THREADS; t++)
		for (int k = 0; k < PER_THREAD; k++)
			fprintf(f, "  - {name: vm-%d-%d}\n", t, k);
	fclose(f);
	dr_diags *d = dr_diags_new();
	dr_emu_opts o = {.listen = "127.0.0.1:0", .inventory = inv, .speed = 3000, .page_size = 5};
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
	dr_emu_free(e);
	dr_diags_free(d);
	unlink(inv);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_clients_at_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
