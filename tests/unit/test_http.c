/*
 * test_http.c - the HTTP layer's client features the Azure backend relies
 * on: connections kept alive and reused through a dr_http_client (counted
 * on the server's side, not only by the client), at most one connection
 * per request in flight, the response's headers, the connection timeout,
 * and the instance-metadata exception to the plain-http rule (refused
 * unless asked for, and then only for 169.254.169.254 - never contacted
 * here).
 *
 * The server is libmicrohttpd on 127.0.0.1 with an ephemeral port; it
 * counts the TCP connections it accepts.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <cmocka.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backends/http.h"

static struct {
	struct MHD_Daemon *d;
	int port;
	pthread_mutex_t mu;
	int connections, requests;
} srv = {.mu = PTHREAD_MUTEX_INITIALIZER};

static void on_connection(void *cls, struct MHD_Connection *c, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	(void)cls, (void)c, (void)socket_context;
	if (code != MHD_CONNECTION_NOTIFY_STARTED)
		return;
	pthread_mutex_lock(&srv.mu);
	srv.connections++;
	pthread_mutex_unlock(&srv.mu);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			       const char *version, const char *data, size_t *size, void **req)
{
	static int marker;
	(void)cls, (void)url, (void)method, (void)version, (void)data;
	if (!*req) {
		*req = &marker;
		return MHD_YES;
	}
	if (*size) {
		*size = 0;
		return MHD_YES;
	}
	pthread_mutex_lock(&srv.mu);
	srv.requests++;
	pthread_mutex_unlock(&srv.mu);
	static const char body[] = "{\"ok\": true}";
	struct MHD_Response *r = MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
	MHD_add_response_header(r, "Location", "http://127.0.0.1/operationresults/job-1?api-version=2025-08-01");
	MHD_add_response_header(r, "Retry-After", "7");
	MHD_add_response_header(r, "x-ms-request-id", "rid-42");
	enum MHD_Result rc = MHD_queue_response(c, 202, r);
	MHD_destroy_response(r);
	return rc;
}

static int counter(int *which)
{
	pthread_mutex_lock(&srv.mu);
	int n = *which;
	pthread_mutex_unlock(&srv.mu);
	return n;
}

static void reset_counters(void)
{
	pthread_mutex_lock(&srv.mu);
	srv.connections = srv.requests = 0;
	pthread_mutex_unlock(&srv.mu);
}

static int setup(void **state)
{
	(void)state;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	srv.d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION, 0, NULL, NULL,
				 handler, NULL, MHD_OPTION_SOCK_ADDR, &sin, MHD_OPTION_NOTIFY_CONNECTION, on_connection,
				 NULL, MHD_OPTION_CONNECTION_TIMEOUT, 30u, MHD_OPTION_END);
	if (!srv.d)
		return -1;
	srv.port = MHD_get_daemon_info(srv.d, MHD_DAEMON_INFO_BIND_PORT)->port;
	unsetenv("http_proxy");
	unsetenv("HTTP_PROXY");
	unsetenv("all_proxy");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	MHD_stop_daemon(srv.d);
	return 0;
}

static dr_http_error get(dr_http_client *cl, const char *path, dr_http_response *out)
{
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", srv.port, path);
	dr_http_request req = {.method = "GET", .url = url, .timeout_ms = 5000, .max_body = 4096, .client = cl};
	return dr_http_send(out, &req);
}

static void test_client_reuses_its_connection(void **state)
{
	(void)state;
	reset_counters();
	dr_http_client *cl = dr_http_client_new();
	for (int i = 0; i < 5; i++) {
		dr_http_response r;
		assert_int_equal(get(cl, "/x", &r), DR_HTTP_OK);
		assert_int_equal(r.status, 202);
		assert_int_equal(r.connections, i == 0 ? 1 : 0);
		dr_http_response_dispose(&r);
	}
	dr_http_stats st;
	dr_http_client_stats(cl, &st);
	assert_int_equal(st.requests, 5);
	assert_int_equal(st.connections, 1);
	assert_int_equal(counter(&srv.requests), 5);
	assert_int_equal(counter(&srv.connections), 1); /* the server agrees */
	dr_http_client_free(cl);
}

static void test_without_a_client_each_request_connects(void **state)
{
	(void)state;
	reset_counters();
	for (int i = 0; i < 3; i++) {
		dr_http_response r;
		assert_int_equal(get(NULL, "/x", &r), DR_HTTP_OK);
		assert_int_equal(r.connections, 1);
		dr_http_response_dispose(&r);
	}
	assert_int_equal(counter(&srv.connections), 3);
}

static void test_response_headers(void **state)
{
	(void)state;
	dr_http_response r;
	assert_int_equal(get(NULL, "/x", &r), DR_HTTP_OK);
	assert_string_equal(dr_http_response_header(&r, "location"),
			    "http://127.0.0.1/operationresults/job-1?api-version=2025-08-01");
	assert_string_equal(dr_http_response_header(&r, "X-MS-Request-Id"), "rid-42");
	assert_null(dr_http_response_header(&r, "x-ms-request"));
	assert_null(dr_http_response_header(&r, "Azure-AsyncOperation"));
	assert_int_equal(r.retry_after_ms, 7000);
	dr_http_response_dispose(&r);
	assert_null(r.headers);
	assert_int_equal(r.n_headers, 0);
}

enum { THREADS = 4, PER_THREAD = 10 };

static void *hammer(void *arg)
{
	dr_http_client *cl = arg;
	for (int i = 0; i < PER_THREAD; i++) {
		dr_http_response r;
		if (get(cl, "/x", &r) != DR_HTTP_OK || r.status != 202)
			abort();
		dr_http_response_dispose(&r);
	}
	return NULL;
}

/* Concurrent requests: never more connections than requests in flight at once. */
static void test_connections_bounded_by_concurrency(void **state)
{
	(void)state;
	reset_counters();
	dr_http_client *cl = dr_http_client_new();
	pthread_t th[THREADS];
	for (int i = 0; i < THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, hammer, cl), 0);
	for (int i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	dr_http_stats st;
	dr_http_client_stats(cl, &st);
	assert_int_equal(st.requests, THREADS * PER_THREAD);
	assert_true(st.connections >= 1 && st.connections <= THREADS);
	assert_int_equal(counter(&srv.connections), (int)st.connections);
	dr_http_client_free(cl);
}

/* Plain http to the metadata address only when asked for, and only to that address. */
static void test_imds_exception(void **state)
{
	(void)state;
	const char *urls[] = {"http://169.254.169.254/metadata/identity/oauth2/token", "http://169.254.169.253/",
			      "http://10.0.0.1/"};
	for (size_t i = 0; i < 3; i++) {
		dr_http_request req = {.url = urls[i], .timeout_ms = 1, .max_body = 10, .allow_imds = i != 0};
		dr_http_response r;
		/* i == 0 without allow_imds, the others with it: all refused before any traffic */
		assert_int_equal(dr_http_send(&r, &req), DR_HTTP_E_URL);
		assert_non_null(strstr(r.message, "loopback"));
		dr_http_response_dispose(&r);
	}
}

/* A bound port that does not listen: the refused connection fails at once as a connect error (nothing sent). */
static void test_refused_connection_is_a_connect_error(void **state)
{
	(void)state;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sin;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof sin), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	char url[64];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/", ntohs(sin.sin_port));
	dr_http_request req = {.url = url, .timeout_ms = 5000, .connect_timeout_ms = 1000, .max_body = 10};
	dr_http_response r;
	assert_int_equal(dr_http_send(&r, &req), DR_HTTP_E_CONNECT);
	assert_true(r.elapsed_ms < 1000);
	dr_http_response_dispose(&r);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_client_reuses_its_connection),
		cmocka_unit_test(test_without_a_client_each_request_connects),
		cmocka_unit_test(test_response_headers),
		cmocka_unit_test(test_connections_bounded_by_concurrency),
		cmocka_unit_test(test_imds_exception),
		cmocka_unit_test(test_refused_connection_is_a_connect_error),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
