/*
 * test_checks.c - check.http, check.tcp, check.dns, check.exec and
 * notify.webhook against servers started here, on 127.0.0.1 with
 * ephemeral ports. Nothing goes beyond loopback: the only other address
 * used, 192.0.2.1 (TEST-NET-1), is one drover must refuse before any
 * traffic, and the tests prove it did.
 *
 * The HTTP server is libmicrohttpd, a thread per connection, with routes
 * for statuses, bodies, JSON, 429 with Retry-After, a slow answer,
 * redirects, header echoes and a webhook receiver that records what it
 * got; a second one speaks TLS with a self-signed certificate (verification
 * must fail). Each call is built by hand, as the executor would: with: as
 * JSON, a deadline, a cancellation flag.
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
#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "actions/family.h"
#include "backends/http.h"
#include "util/url.h"

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ the server */

/* A self-signed certificate for 127.0.0.1 (valid until 2126), for the TLS server only. */
static const char tls_key[] = "-----BEGIN PRIVATE KEY-----\n"
			      "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgEadcfV4noj/Q4snb\n"
			      "I5qESfmpInLa527k5HecQ3IbXrqhRANCAARIy2feiLindJFaKzy2dsztxAjy04T3\n"
			      "ilC0M5Gll6I7Z2Ss+6pJtagLr1j23yAAp1NJrTP+UTwghe9yF1tu6UWg\n"
			      "-----END PRIVATE KEY-----\n";
static const char tls_cert[] = "-----BEGIN CERTIFICATE-----\n"
			       "MIIBlDCCATqgAwIBAgIUDSmq0vsFqoC/JhsJ4DF2gIlV8q0wCgYIKoZIzj0EAwIw\n"
			       "FjEUMBIGA1UEAwwLZHJvdmVyLXRlc3QwIBcNMjYxMTI2MTk1OTMxWhgPMjEyNjEx\n"
			       "MDIxOTU5MzFaMBYxFDASBgNVBAMMC2Ryb3Zlci10ZXN0MFkwEwYHKoZIzj0CAQYI\n"
			       "KoZIzj0DAQcDQgAESMtn3oi4p3SRWis8tnbM7cQI8tOE94pQtDORpZeiO2dkrPuq\n"
			       "SbWoC69Y9t8gAKdTSa0z/lE8IIXvchdbbulFoKNkMGIwHQYDVR0OBBYEFGXhIRl5\n"
			       "TAzSkYdHqb2TwVTvoLQuMB8GA1UdIwQYMBaAFGXhIRl5TAzSkYdHqb2TwVTvoLQu\n"
			       "MA8GA1UdEwEB/wQFMAMBAf8wDwYDVR0RBAgwBocEfwAAATAKBggqhkjOPQQDAgNI\n"
			       "ADBFAiBFPGXAUEgG4qPo/VEVKyXO3h8yyCGur9fRoaxmcquHGQIhAPrM89lAV59U\n"
			       "8LNE+x5q5HDvOIldrK2AXS0ffagogIOp\n"
			       "-----END CERTIFICATE-----\n";

static const char json_doc[] = "{\"status\": \"ok\", \"db\": {\"up\": true, \"lag\": 3}, \"tiers\": [\"db\", \"web\"], "
			       "\"a/b\": 1, \"m~n\": 2}";

static struct server {
	struct MHD_Daemon *d, *tls;
	int port, tls_port;
	int stopping; /* atomic: the slow route gives up */
	pthread_mutex_t mu; /* guards what follows */
	int requests; /* every request received, by either daemon */
	char hook_body[1024], hook_type[128], hook_token[128];
} srv = {.mu = PTHREAD_MUTEX_INITIALIZER};

/* One request's upload, collected across the handler's calls. */
typedef struct upload {
	char data[4096];
	size_t len;
} upload;

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *body, size_t len,
			     const char *hname, const char *hvalue)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(len, (void *)body, MHD_RESPMEM_MUST_COPY);
	if (hname)
		MHD_add_response_header(r, hname, hvalue);
	enum MHD_Result rc = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return rc;
}

static enum MHD_Result reply_text(struct MHD_Connection *c, unsigned status, const char *body)
{
	return reply(c, status, body, strlen(body), NULL, NULL);
}

static enum MHD_Result slow(struct MHD_Connection *c)
{
	for (int i = 0; i < 500 && !__atomic_load_n(&srv.stopping, __ATOMIC_RELAXED); i++)
		usleep(10000);
	return reply_text(c, 200, "late");
}

/* 2 MiB of 'a' ending in "needle": more than check.http reads. */
static enum MHD_Result big(struct MHD_Connection *c)
{
	size_t n = 2u << 20;
	char *b = malloc(n);
	memset(b, 'a', n);
	memcpy(b + n - 6, "needle", 6);
	enum MHD_Result rc = reply(c, 200, b, n, NULL, NULL);
	free(b);
	return rc;
}

static enum MHD_Result hook(struct MHD_Connection *c, const upload *u)
{
	const char *type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
	const char *token = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Token");
	pthread_mutex_lock(&srv.mu);
	snprintf(srv.hook_body, sizeof srv.hook_body, "%.*s", (int)u->len, u->data);
	snprintf(srv.hook_type, sizeof srv.hook_type, "%s", type ? type : "");
	snprintf(srv.hook_token, sizeof srv.hook_token, "%s", token ? token : "");
	pthread_mutex_unlock(&srv.mu);
	return reply_text(c, 200, "ok");
}

static enum MHD_Result route(struct MHD_Connection *c, const char *url, const char *method, const upload *u)
{
	char buf[4200];
	int status;
	if (strcmp(url, "/ok") == 0)
		return reply(c, 200, json_doc, strlen(json_doc), "Content-Type", "application/json");
	if (sscanf(url, "/status/%d", &status) == 1) {
		snprintf(buf, sizeof buf, "status %d", status);
		return reply_text(c, (unsigned)status, buf);
	}
	if (strcmp(url, "/text") == 0)
		return reply_text(c, 200, "hello\nservice: healthy\n");
	if (strcmp(url, "/bin") == 0)
		return reply(c, 200, "ok\xff\x00!", 5, NULL, NULL);
	if (strcmp(url, "/throttle") == 0)
		return reply(c, 429, "slow down", 9, "Retry-After", "7");
	if (strcmp(url, "/slow") == 0)
		return slow(c);
	if (strcmp(url, "/big") == 0)
		return big(c);
	if (strcmp(url, "/redirect") == 0)
		return reply(c, 302, "", 0, "Location", "/ok");
	if (strcmp(url, "/redirect-loop") == 0)
		return reply(c, 302, "", 0, "Location", "/redirect-loop");
	if (strcmp(url, "/redirect-off") == 0)
		return reply(c, 302, "", 0, "Location", "http://192.0.2.1/health");
	if (strcmp(url, "/redirect-post") == 0)
		return reply(c, 307, "", 0, "Location", "/method");
	if (strcmp(url, "/redirect-origin") == 0) { /* localhost is another origin than 127.0.0.1 */
		snprintf(buf, sizeof buf, "http://localhost:%d/echo", srv.port);
		return reply(c, 307, "", 0, "Location", buf);
	}
	if (strcmp(url, "/echo") == 0) {
		const char *v = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Secret");
		return reply_text(c, 200, v ? v : "(none)");
	}
	if (strcmp(url, "/method") == 0) {
		snprintf(buf, sizeof buf, "%s:%.*s", method, (int)u->len, u->data);
		return reply_text(c, 200, buf);
	}
	if (strcmp(url, "/hook") == 0)
		return hook(c, u);
	if (strcmp(url, "/hook-gone") == 0)
		return reply_text(c, 404, "no_service");
	return reply_text(c, 404, "no such route");
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			       const char *version, const char *data, size_t *size, void **req)
{
	(void)cls, (void)version;
	upload *u = *req;
	if (!u) {
		*req = calloc(1, sizeof *u);
		pthread_mutex_lock(&srv.mu);
		srv.requests++;
		pthread_mutex_unlock(&srv.mu);
		return MHD_YES;
	}
	if (*size) {
		size_t n = *size < sizeof u->data - u->len ? *size : sizeof u->data - u->len;
		memcpy(u->data + u->len, data, n);
		u->len += n;
		*size = 0;
		return MHD_YES;
	}
	return route(c, url, method, u);
}

static void completed(void *cls, struct MHD_Connection *c, void **req, enum MHD_RequestTerminationCode why)
{
	(void)cls, (void)c, (void)why;
	free(*req);
	*req = NULL;
}

static int requests_seen(void)
{
	pthread_mutex_lock(&srv.mu);
	int n = srv.requests;
	pthread_mutex_unlock(&srv.mu);
	return n;
}

static struct MHD_Daemon *start(unsigned flags, int *port, bool tls)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	flags |= MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION;
	struct MHD_Daemon *d =
		tls ? MHD_start_daemon(flags | MHD_USE_TLS, 0, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, &sin,
				       MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_HTTPS_MEM_KEY, tls_key,
				       MHD_OPTION_HTTPS_MEM_CERT, tls_cert, MHD_OPTION_END)
		    : MHD_start_daemon(flags, 0, NULL, NULL, handler, NULL, MHD_OPTION_SOCK_ADDR, &sin,
				       MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_END);
	if (d)
		*port = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT)->port;
	return d;
}

/* A port on 127.0.0.1 that refuses connections: bound (so nothing else takes it) but not listening. */
static int closed_fd = -1, closed_port;

static int setup(void **state)
{
	(void)state;
	srv.d = start(0, &srv.port, false);
	if (!srv.d)
		return -1;
	if (MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES)
		srv.tls = start(0, &srv.tls_port, true);
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof sin;
	closed_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (closed_fd < 0 || bind(closed_fd, (struct sockaddr *)&sin, sizeof sin) != 0 ||
	    getsockname(closed_fd, (struct sockaddr *)&sin, &len) != 0)
		return -1;
	closed_port = ntohs(sin.sin_port);
	unsetenv("http_proxy");
	unsetenv("https_proxy");
	unsetenv("all_proxy");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	__atomic_store_n(&srv.stopping, 1, __ATOMIC_RELAXED);
	if (srv.tls)
		MHD_stop_daemon(srv.tls);
	MHD_stop_daemon(srv.d);
	close(closed_fd);
	return 0;
}

/* ------------------------------------------------------------ the calls */

typedef dr_outcome (*run_fn)(dr_call *);

/* Call run with the with: object given as JSON (printf format; every %d is the server's port). */
static dr_outcome vcall(run_fn run, int64_t deadline_left, const volatile int *cancel, const char *fmt, va_list ap)
{
	char json[4096];
	vsnprintf(json, sizeof json, fmt, ap);
	cJSON *with = cJSON_Parse(json);
	if (!with)
		fail_msg("bad JSON in test: %s", json);
	dr_call call = {
		.with = with,
		.attempt = 1,
		.now_ms = 5000,
		.deadline_ms = deadline_left < 0 ? INT64_MAX : 5000 + deadline_left,
		.cancel_requested = cancel,
	};
	dr_outcome o = run(&call);
	cJSON_Delete(with);
	return o;
}

static dr_outcome call(run_fn run, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static dr_outcome call(run_fn run, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	dr_outcome o = vcall(run, -1, NULL, fmt, ap);
	va_end(ap);
	return o;
}

static dr_outcome call_by(run_fn run, int64_t deadline_left, const volatile int *cancel, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static dr_outcome call_by(run_fn run, int64_t deadline_left, const volatile int *cancel, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	dr_outcome o = vcall(run, deadline_left, cancel, fmt, ap);
	va_end(ap);
	return o;
}

static void dispose(dr_outcome *o)
{
	free(o->message);
	cJSON_Delete(o->outputs);
}

static const char *str_out(const dr_outcome *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o->outputs, key));
}

static double num_out(const dr_outcome *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o->outputs, key);
	if (!cJSON_IsNumber(v))
		fail_msg("output %s is not a number", key);
	return v->valuedouble;
}

static void expect_ok(const dr_outcome *o)
{
	if (o->status != DR_ACT_OK)
		fail_msg("expected OK, got FAIL class %d: %s", o->cls, o->message ? o->message : "(no message)");
}

/* FAIL with class cls and a message containing fragment. */
static void expect_fail(const dr_outcome *o, dr_err_class cls, const char *fragment)
{
	if (o->status != DR_ACT_FAIL || o->cls != cls || !o->message || !strstr(o->message, fragment))
		fail_msg("expected FAIL class %d with '%s', got status %d class %d: %s", cls, fragment, o->status, o->cls,
			 o->message ? o->message : "(no message)");
	assert_null(o->outputs);
}

/* ------------------------------------------------------------ the rows */

static void test_rows(void **state)
{
	(void)state;
	static const char *const names[] = {"check.http", "check.tcp", "check.dns", "check.exec", "notify.webhook"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const dr_action *a = dr_action_find(names[i]);
		assert_non_null(a);
		assert_non_null(a->run);
		assert_true(a->flags & DR_AF_BLOCKING);
		assert_null(a->probe); /* they change nothing: a resumed run calls them again */
	}
}

/* ------------------------------------------------------------ check.http */

#define OK_ -1

typedef struct hcase {
	const char *with; /* JSON; %d is the port */
	int cls; /* OK_ or a dr_err_class */
	long status; /* OK: the status output */
	const char *text; /* OK: the body output (NULL: not checked); FAIL: a fragment of the message */
} hcase;

static const hcase http_cases[] = {
	/* statuses */
	{"{\"url\": \"http://127.0.0.1:%d/ok\"}", OK_, 200, json_doc},
	{"{\"url\": \"http://localhost:%d/status/204\", \"expect\": {\"status\": 204}}", OK_, 204, ""},
	{"{\"url\": \"http://127.0.0.1:%d/status/204\", \"expect\": {\"status\": [200, 204]}}", OK_, 204, ""},
	{"{\"url\": \"http://127.0.0.1:%d/status/503\"}", DR_ERRC_TRANSIENT, 0, "HTTP 503 (expected 200); body: status 503"},
	{"{\"url\": \"http://127.0.0.1:%d/status/404\", \"expect\": {\"status\": [200, 204]}}", DR_ERRC_TRANSIENT, 0,
	 "/status/404: HTTP 404 (expected 200, 204)"},
	{"{\"url\": \"http://127.0.0.1:%d/status/500\", \"expect\": {\"status\": 500}}", OK_, 500, "status 500"},
	/* the body */
	{"{\"url\": \"http://127.0.0.1:%d/text\", \"expect\": {\"body\": \"(?m)^service: (healthy|ok)$\"}}", OK_, 200,
	 "hello\nservice: healthy\n"},
	{"{\"url\": \"http://127.0.0.1:%d/text\", \"expect\": {\"body\": \"^down$\"}}", DR_ERRC_TRANSIENT, 0,
	 "GET http://127.0.0.1:%d/text: the body does not match /^down$/; body: hello service: healthy"},
	{"{\"url\": \"http://127.0.0.1:%d/bin\"}", OK_, 200, "ok\xEF\xBF\xBD\xEF\xBF\xBD!"},
	/* JSON */
	{"{\"url\": \"http://127.0.0.1:%d/ok\", \"expect\": {\"json\": {\"/status\": \"ok\", \"/db/up\": true, "
	 "\"/db/lag\": 3.0, \"/tiers/1\": \"web\", \"/a~1b\": 1, \"/m~0n\": 2, \"/db\": {\"lag\": 3, \"up\": true}}}}",
	 OK_, 200, NULL},
	{"{\"url\": \"http://127.0.0.1:%d/ok\", \"expect\": {\"json\": {\"/db/up\": false}}}", DR_ERRC_TRANSIENT, 0,
	 "'/db/up' is true, expected false"},
	{"{\"url\": \"http://127.0.0.1:%d/ok\", \"expect\": {\"json\": {\"/status\": \"OK\"}}}", DR_ERRC_TRANSIENT, 0,
	 "'/status' is \"ok\", expected \"OK\""},
	{"{\"url\": \"http://127.0.0.1:%d/ok\", \"expect\": {\"json\": {\"/db/lag\": \"3\"}}}", DR_ERRC_TRANSIENT, 0,
	 "'/db/lag' is 3, expected \"3\""},
	{"{\"url\": \"http://127.0.0.1:%d/ok\", \"expect\": {\"json\": {\"/db/missing\": 1}}}", DR_ERRC_TRANSIENT, 0,
	 "the JSON body has no '/db/missing'"},
	{"{\"url\": \"http://127.0.0.1:%d/ok\", \"expect\": {\"json\": {\"/tiers/01\": \"web\"}}}", DR_ERRC_TRANSIENT,
	 0, "has no '/tiers/01'"},
	{"{\"url\": \"http://127.0.0.1:%d/text\", \"expect\": {\"json\": {\"/x\": 1}}}", DR_ERRC_TRANSIENT, 0,
	 "the body is not JSON; body: hello"},
	/* redirects */
	{"{\"url\": \"http://127.0.0.1:%d/redirect\", \"expect\": {\"json\": {\"/status\": \"ok\"}}}", OK_, 200, NULL},
	{"{\"url\": \"http://127.0.0.1:%d/redirect\", \"expect\": {\"status\": [301, 302]}}", OK_, 302, ""},
	{"{\"url\": \"http://127.0.0.1:%d/redirect-loop\"}", DR_ERRC_PERMANENT, 0, "more than 5 redirects"},
	{"{\"url\": \"http://127.0.0.1:%d/redirect-off\"}", DR_ERRC_PERMANENT, 0,
	 "the redirect to http://192.0.2.1/health was refused: plain http:// is allowed only to loopback addresses"},
	{"{\"url\": \"http://127.0.0.1:%d/redirect-post\", \"method\": \"POST\", \"body\": \"p\"}", OK_, 200, "POST:p"},
	/* methods and bodies */
	{"{\"url\": \"http://127.0.0.1:%d/method\", \"method\": \"POST\", \"body\": \"payload\"}", OK_, 200,
	 "POST:payload"},
	{"{\"url\": \"http://127.0.0.1:%d/method\", \"method\": \"PUT\", \"body\": 42}", OK_, 200, "PUT:42"},
	{"{\"url\": \"http://127.0.0.1:%d/method\", \"method\": \"DELETE\"}", OK_, 200, "DELETE:"},
	{"{\"url\": \"http://127.0.0.1:%d/ok\", \"method\": \"HEAD\"}", OK_, 200, ""},
	/* the HTTP rules */
	{"{\"url\": \"http://192.0.2.1:%d/health\"}", DR_ERRC_PERMANENT, 0,
	 "GET http://192.0.2.1:%d/health: plain http:// is allowed only to loopback addresses (127.0.0.0/8, ::1, "
	 "localhost); use https://"},
	{"{\"url\": \"ftp://127.0.0.1:%d/x\"}", DR_ERRC_PERMANENT, 0, "only http:// and https:// URLs are supported"},
	{"{\"url\": \"http://localhost.:%d/ok\"}", DR_ERRC_PERMANENT, 0,
	 "plain http:// is allowed only to loopback addresses (127.0.0.0/8, ::1, localhost); use https://"},
	{"{\"url\": \"127.0.0.1:%d/no-scheme\"}", DR_ERRC_PERMANENT, 0, "not a valid URL"},
	/* inputs the checker would have refused, or that evaluated badly */
	{"{\"url\": \"\", \"x\": %d}", DR_ERRC_PERMANENT, 0, "with.url: a URL (a non-empty string) is required"},
	{"{\"url\": \"http://127.0.0.1:%d/ok\", \"method\": \"BREW\"}", DR_ERRC_PERMANENT, 0, "with.method: one of"},
	{"{\"url\": \"http://127.0.0.1:%d/ok\", \"expect\": {\"status\": 99}}", DR_ERRC_PERMANENT, 0,
	 "with.expect.status: a status is an integer from 100 to 599"},
	{"{\"url\": \"http://127.0.0.1:%d/ok\", \"expect\": {\"body\": \"(\"}}", DR_ERRC_PERMANENT, 0,
	 "with.expect.body: bad regular expression at offset 1"},
	{"{\"url\": \"http://127.0.0.1:%d/ok\", \"expect\": {\"json\": {\"db\": 1}}}", DR_ERRC_PERMANENT, 0,
	 "with.expect.json: 'db' is not a JSON pointer"},
	{"{\"url\": \"http://127.0.0.1:%d/ok\", \"headers\": {\"Bad Name\": \"x\"}}", DR_ERRC_PERMANENT, 0,
	 "with.headers: 'Bad Name' is not a valid header name"},
	{"{\"url\": \"http://127.0.0.1:%d/ok\", \"timeout\": \"soon\"}", DR_ERRC_PERMANENT, 0,
	 "with.timeout: a duration like 10s is required"},
	{"{\"url\": \"http://127.0.0.1:%d/ok\", \"timeout\": \"0s\"}", DR_ERRC_PERMANENT, 0,
	 "with.timeout: must be longer than 0s"},
};

static void test_http_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof http_cases / sizeof http_cases[0]; i++) {
		const hcase *c = &http_cases[i];
		char text[512];
		if (c->text)
			snprintf(text, sizeof text, c->text, srv.port);
		dr_outcome o = call(dr_action_check_http_run, c->with, srv.port);
		if (c->cls == OK_) {
			if (o.status != DR_ACT_OK)
				fail_msg("%s: expected OK, got FAIL: %s", c->with, o.message);
			assert_int_equal(num_out(&o, "status"), c->status);
			assert_true(num_out(&o, "elapsed_ms") >= 0);
			if (c->text && strcmp(str_out(&o, "body"), text) != 0)
				fail_msg("%s: body output '%s', expected '%s'", c->with, str_out(&o, "body"), text);
		} else if (o.status != DR_ACT_FAIL || (int)o.cls != c->cls || !strstr(o.message, text)) {
			fail_msg("%s: expected FAIL class %d with '%s', got status %d class %d: %s", c->with, c->cls, text,
				 o.status, o.cls, o.message ? o.message : "(none)");
		}
		dispose(&o);
	}
}

static void test_http_matched(void **state)
{
	(void)state;
	dr_outcome o = call(dr_action_check_http_run,
			    "{\"url\": \"http://127.0.0.1:%d/text\", \"expect\": {\"body\": \"service: \\\\w+\"}}", srv.port);
	expect_ok(&o);
	assert_string_equal(str_out(&o, "matched"), "service: healthy");
	dispose(&o);
	o = call(dr_action_check_http_run, "{\"url\": \"http://127.0.0.1:%d/text\"}", srv.port);
	expect_ok(&o);
	assert_true(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o.outputs, "matched")));
	dispose(&o);
}

static void test_http_throttled(void **state)
{
	(void)state;
	dr_outcome o = call(dr_action_check_http_run, "{\"url\": \"http://127.0.0.1:%d/throttle\"}", srv.port);
	expect_fail(&o, DR_ERRC_THROTTLED, "HTTP 429 (expected 200); Retry-After: 7s; body: slow down");
	assert_int_equal(o.retry_after_ms, 7000);
	dispose(&o);
	o = call(dr_action_check_http_run, "{\"url\": \"http://127.0.0.1:%d/status/503\"}", srv.port);
	assert_int_equal(o.retry_after_ms, -1);
	dispose(&o);
}

static void test_http_refused(void **state)
{
	(void)state;
	dr_outcome o = call(dr_action_check_http_run, "{\"url\": \"http://127.0.0.1:%d/\"}", closed_port);
	expect_fail(&o, DR_ERRC_TRANSIENT, "GET http://127.0.0.1:");
	dispose(&o);
}

static void test_http_timeout(void **state)
{
	(void)state;
	int64_t t0 = mono_ms();
	dr_outcome o = call(dr_action_check_http_run, "{\"url\": \"http://127.0.0.1:%d/slow\", \"timeout\": \"200ms\"}",
			    srv.port);
	expect_fail(&o, DR_ERRC_TRANSIENT, "/slow: no complete response within 200ms (with.timeout)");
	assert_true(mono_ms() - t0 < 2000);
	dispose(&o);

	/* the attempt's deadline is shorter than with.timeout (10s by default): class timeout */
	t0 = mono_ms();
	o = call_by(dr_action_check_http_run, 300, NULL, "{\"url\": \"http://127.0.0.1:%d/slow\"}", srv.port);
	expect_fail(&o, DR_ERRC_TIMEOUT, "no complete response within 300ms (the attempt's deadline)");
	assert_true(mono_ms() - t0 < 2000);
	dispose(&o);

	o = call_by(dr_action_check_http_run, 0, NULL, "{\"url\": \"http://127.0.0.1:%d/ok\"}", srv.port);
	expect_fail(&o, DR_ERRC_TIMEOUT, "was not sent: no time left before the attempt's deadline");
	dispose(&o);
}

static volatile int cancel_flag;

static void *cancel_later(void *arg)
{
	(void)arg;
	usleep(150000);
	__atomic_store_n(&cancel_flag, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void test_http_cancel(void **state)
{
	(void)state;
	pthread_t th;
	__atomic_store_n(&cancel_flag, 0, __ATOMIC_RELAXED);
	pthread_create(&th, NULL, cancel_later, NULL);
	int64_t t0 = mono_ms();
	dr_outcome o = call_by(dr_action_check_http_run, -1, &cancel_flag, "{\"url\": \"http://127.0.0.1:%d/slow\"}",
			       srv.port);
	int64_t took = mono_ms() - t0;
	pthread_join(th, NULL);
	expect_fail(&o, DR_ERRC_CANCELLED, "cancelled");
	assert_true(took < 1000); /* seen within 50 ms of the flag, plus slack for sanitizers */
	dispose(&o);

	o = call_by(dr_action_check_http_run, -1, &cancel_flag, "{\"url\": \"http://127.0.0.1:%d/ok\"}", srv.port);
	expect_fail(&o, DR_ERRC_CANCELLED, "cancelled before the request was sent");
	dispose(&o);
}

/* Plain http to anything but loopback is refused before any traffic, even through a proxy. */
static void test_http_plain_refused_without_traffic(void **state)
{
	(void)state;
	char proxy[64];
	snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", srv.port);
	setenv("http_proxy", proxy, 1); /* had curl been asked, the request would reach our server */
	int before = requests_seen();
	int64_t t0 = mono_ms();
	dr_outcome o = call(dr_action_check_http_run, "{\"url\": \"http://192.0.2.1/health?x=%d\"}", 1);
	expect_fail(&o, DR_ERRC_PERMANENT, "use https://");
	dispose(&o);
	o = call(dr_action_notify_webhook_run, "{\"url\": \"http://192.0.2.1/hook/%d\", \"text\": \"x\"}", 1);
	expect_fail(&o, DR_ERRC_PERMANENT, "POST to 192.0.2.1: plain http:// is allowed only to loopback addresses");
	dispose(&o);
	assert_int_equal(requests_seen(), before);
	assert_true(mono_ms() - t0 < 1000);

	/* and loopback never goes through a proxy: a dead one does not stop it */
	snprintf(proxy, sizeof proxy, "http://127.0.0.1:%d", closed_port);
	setenv("http_proxy", proxy, 1);
	o = call(dr_action_check_http_run, "{\"url\": \"http://127.0.0.1:%d/ok\"}", srv.port);
	expect_ok(&o);
	dispose(&o);
	unsetenv("http_proxy");
}

static void test_http_tls_verified(void **state)
{
	(void)state;
	if (!srv.tls)
		skip(); /* libmicrohttpd built without TLS */
	dr_outcome o = call(dr_action_check_http_run, "{\"url\": \"https://127.0.0.1:%d/ok\"}", srv.tls_port);
	expect_fail(&o, DR_ERRC_PERMANENT, "TLS verification failed");
	dispose(&o);
	o = call(dr_action_notify_webhook_run, "{\"url\": \"https://127.0.0.1:%d/hook\", \"text\": \"x\"}", srv.tls_port);
	expect_fail(&o, DR_ERRC_PERMANENT, "POST to 127.0.0.1: TLS verification failed");
	dispose(&o);
}

static void test_http_truncated(void **state)
{
	(void)state;
	dr_outcome o = call(dr_action_check_http_run, "{\"url\": \"http://127.0.0.1:%d/big\"}", srv.port);
	expect_ok(&o);
	assert_int_equal(strlen(str_out(&o, "body")), 4096);
	dispose(&o);
	o = call(dr_action_check_http_run, "{\"url\": \"http://127.0.0.1:%d/big\", \"expect\": {\"body\": \"needle\"}}",
		 srv.port);
	expect_fail(&o, DR_ERRC_TRANSIENT, "does not match /needle/ (only its first 1 MiB was read); body: aaaa");
	assert_true(strlen(o.message) < 400);
	dispose(&o);
}

/* Secrets: header values never in messages, headers never to another origin, URLs without query or userinfo. */
static void test_http_secrets(void **state)
{
	(void)state;
	dr_outcome o = call(dr_action_check_http_run,
			    "{\"url\": \"http://127.0.0.1:%d/echo\", \"headers\": {\"X-Secret\": \"s3cret\"}}", srv.port);
	expect_ok(&o);
	assert_string_equal(str_out(&o, "body"), "s3cret");
	dispose(&o);
	o = call(dr_action_check_http_run,
		 "{\"url\": \"http://127.0.0.1:%d/redirect-origin\", \"headers\": {\"X-Secret\": \"s3cret\"}}", srv.port);
	expect_ok(&o);
	assert_string_equal(str_out(&o, "body"), "(none)");
	dispose(&o);
	o = call(dr_action_check_http_run,
		 "{\"url\": \"http://user:pw@127.0.0.1:%d/status/500?token=t0ken#frag\", \"headers\": {\"X-Secret\": "
		 "\"s3cret\"}, \"body\": \"b0dy\", \"method\": \"POST\"}",
		 srv.port);
	assert_int_equal(o.status, DR_ACT_FAIL);
	assert_non_null(strstr(o.message, "POST http://127.0.0.1:"));
	assert_non_null(strstr(o.message, "/status/500: HTTP 500"));
	static const char *const hidden[] = {"s3cret", "t0ken", "frag", "b0dy", "user", "pw@"};
	for (size_t i = 0; i < sizeof hidden / sizeof hidden[0]; i++)
		if (strstr(o.message, hidden[i]))
			fail_msg("'%s' shows in: %s", hidden[i], o.message);
	dispose(&o);
	o = call(dr_action_check_http_run, "{\"url\": \"http://127.0.0.1:%d/ok\", \"headers\": {\"X-A\": \"v\\r\\nX-B: s3cret\"}}",
		 srv.port);
	expect_fail(&o, DR_ERRC_PERMANENT, "with.headers: 'X-A' must not contain a line break");
	assert_null(strstr(o.message, "s3cret"));
	dispose(&o);
}

static void test_http_url_display(void **state)
{
	(void)state;
	static const struct {
		const char *url;
		bool secret;
		const char *shown;
	} cases[] = {
		{"https://u:p@h.example:8443/a/b?k=v#f", false, "https://h.example:8443/a/b"},
		{"https://h.example", false, "https://h.example/"},
		{"https://hooks.slack.com/services/T0/B0/XXXX", true, "hooks.slack.com"},
		{"http://[::1]:8080/x?y", false, "http://[::1]:8080/x"},
		{"not a url", false, "(a malformed URL)"},
		{"", true, "(a malformed URL)"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *s = dr_http_url_display(cases[i].url, cases[i].secret);
		assert_string_equal(s, cases[i].shown);
		free(s);
	}
}

static void test_http_loopback(void **state)
{
	(void)state;
	static const char *const yes[] = {"localhost", "LocalHost", "127.0.0.1", "127.255.1.2",
					  "::1", "[::1]", "[::ffff:127.0.0.1]", "0:0:0:0:0:0:0:1"};
	static const char *const no[] = {"", "10.0.0.1", "192.0.2.1", "128.0.0.1", "[::2]", "::", "localhost.example.com",
					 "localhost.", "LOCALHOST.", /* issue 10: the DNS resolves a name with a trailing dot */
					 "127.0.0.1.example.com", "mylocalhost", "[127.0.0.1]", "0.0.0.0"};
	for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++)
		if (!dr_url_host_is_loopback(yes[i]))
			fail_msg("'%s' should be loopback", yes[i]);
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		if (dr_url_host_is_loopback(no[i]))
			fail_msg("'%s' should not be loopback", no[i]);
}

/* DR221's rule on a URL as written (util/url.c) says what the request's own check (curl's parse) says: each URL
   it refuses, dr_http_send refuses with the same words before any traffic; each it lets go is not refused so. */
static void test_url_rule_as_written(void **state)
{
	(void)state;
	static const struct {
		const char *url, *why; /* why: a word of the refusal; NULL: allowed */
	} cases[] = {
		{"http://10.20.0.4/status", "loopback"},
		{"HTTP://10.20.0.4:8080/x", "loopback"},
		{"http://127.0.0.1@10.20.0.9/metrics", "loopback"}, /* user info, not the host */
		{"http://user:pw@127.0.0.1:1/x", NULL},
		{"http://localhost.:1/", "loopback"},
		{"http://[::1]:1/", NULL},
		{"http://LocalHost:1/x?y#z", NULL},
		{"http://127.0.0.1:1", NULL},
		{"ftp://hooks.example.com/drover", "only http"},
		{"gopher://127.0.0.1:1/", "only http"},
		{"http://[::2]:1/", "loopback"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const char *why = dr_url_refusal(cases[i].url);
		if (cases[i].why ? !why || !strstr(why, cases[i].why) : why != NULL)
			fail_msg("%s: the rule as written says '%s'", cases[i].url, why ? why : "(allowed)");
		dr_http_request req = {.url = cases[i].url, .timeout_ms = 2000};
		dr_http_response r;
		dr_http_error e = dr_http_send(&r, &req);
		if ((e == DR_HTTP_E_URL) != (why != NULL) || (why && !strstr(r.message, why)))
			fail_msg("%s: the request says %d '%s', the rule as written '%s'", cases[i].url, e,
				 r.message ? r.message : "", why ? why : "(allowed)");
		dr_http_response_dispose(&r);
	}
	assert_null(dr_url_refusal("${secrets.hook}")); /* no scheme written: the request decides */
	assert_null(dr_url_refusal("not a url"));
}

/* The HTTP layer itself: a cap on the body, the redirect count, 0 redirects. */
static void test_http_layer(void **state)
{
	(void)state;
	char url[128];
	snprintf(url, sizeof url, "http://127.0.0.1:%d/text", srv.port);
	dr_http_request req = {.url = url, .timeout_ms = 5000, .max_body = 5, .max_redirects = 5};
	dr_http_response r;
	assert_int_equal(dr_http_send(&r, &req), DR_HTTP_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body_len, 5);
	assert_string_equal(r.body, "hello");
	assert_true(r.truncated);
	assert_null(r.message);
	dr_http_response_dispose(&r);

	snprintf(url, sizeof url, "http://127.0.0.1:%d/redirect", srv.port);
	req.max_body = 1 << 16;
	assert_int_equal(dr_http_send(&r, &req), DR_HTTP_OK);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.redirects, 1);
	dr_http_response_dispose(&r);
	req.max_redirects = 0;
	assert_int_equal(dr_http_send(&r, &req), DR_HTTP_OK);
	assert_int_equal(r.status, 302);
	assert_int_equal(r.redirects, 0);
	dr_http_response_dispose(&r);

	snprintf(url, sizeof url, "http://127.0.0.1:%d/", closed_port);
	assert_int_equal(dr_http_send(&r, &req), DR_HTTP_E_CONNECT);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.body, "");
	assert_non_null(r.message);
	dr_http_response_dispose(&r);
}

typedef struct par {
	dr_outcome o;
	run_fn run;
	const char *fmt;
} par;

static void *run_par(void *arg)
{
	par *p = arg;
	p->o = call(p->run, p->fmt, srv.port);
	return NULL;
}

/* Several threads at once (ThreadSanitizer runs this too). */
static void test_concurrent(void **state)
{
	(void)state;
	enum { N = 8 };
	pthread_t th[N];
	par ps[N];
	static const char *const fmts[] = {
		"{\"url\": \"http://127.0.0.1:%d/ok\", \"expect\": {\"json\": {\"/db/up\": true}}}",
		"{\"host\": \"127.0.0.1\", \"port\": %d}",
		"{\"url\": \"http://127.0.0.1:%d/hook\", \"text\": \"hi\"}",
		"{\"name\": \"localhost\", \"expect\": \"127.0.0.1\", \"x\": %d}",
	};
	static const run_fn runs[] = {dr_action_check_http_run, dr_action_check_tcp_run, dr_action_notify_webhook_run,
				      dr_action_check_dns_run};
	for (int i = 0; i < N; i++) {
		ps[i] = (par){.run = runs[i % 4], .fmt = fmts[i % 4]};
		pthread_create(&th[i], NULL, run_par, &ps[i]);
	}
	for (int i = 0; i < N; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < N; i++) {
		expect_ok(&ps[i].o);
		dispose(&ps[i].o);
	}
}

/* ------------------------------------------------------------ check.tcp */

static void test_tcp(void **state)
{
	(void)state;
	dr_outcome o = call(dr_action_check_tcp_run, "{\"host\": \"127.0.0.1\", \"port\": %d}", srv.port);
	expect_ok(&o);
	assert_string_equal(str_out(&o, "host"), "127.0.0.1");
	assert_int_equal(num_out(&o, "port"), srv.port);
	assert_string_equal(str_out(&o, "address"), "127.0.0.1");
	assert_true(num_out(&o, "elapsed_ms") >= 0);
	dispose(&o);

	o = call(dr_action_check_tcp_run, "{\"host\": \"localhost\", \"port\": \"%d\", \"timeout\": \"2s\"}", srv.port);
	expect_ok(&o);
	assert_string_equal(str_out(&o, "address"), "127.0.0.1");
	dispose(&o);

	o = call(dr_action_check_tcp_run, "{\"host\": \"127.0.0.1\", \"port\": %d}", closed_port);
	expect_fail(&o, DR_ERRC_TRANSIENT, ": connection refused");
	dispose(&o);
	o = call(dr_action_check_tcp_run, "{\"host\": \"localhost\", \"port\": %d}", closed_port);
	expect_fail(&o, DR_ERRC_TRANSIENT, "localhost:");
	assert_non_null(strstr(o.message, "connection refused (127.0.0.1)"));
	dispose(&o);
}

static void test_tcp_inputs(void **state)
{
	(void)state;
	static const struct {
		const char *with;
		dr_err_class cls;
		const char *msg;
	} cases[] = {
		{"{\"host\": \"127.0.0.1\", \"port\": 0, \"x\": %d}", DR_ERRC_PERMANENT, "with.port: a port number"},
		{"{\"host\": \"127.0.0.1\", \"port\": 70000, \"x\": %d}", DR_ERRC_PERMANENT, "with.port: a port number"},
		{"{\"host\": \"127.0.0.1\", \"port\": \"http\", \"x\": %d}", DR_ERRC_PERMANENT, "with.port: a port number"},
		{"{\"host\": \"\", \"port\": %d}", DR_ERRC_PERMANENT, "with.host: a host name or address"},
		{"{\"host\": [], \"port\": %d}", DR_ERRC_PERMANENT, "with.host: a host name or address"},
		{"{\"host\": \"127.0.0.1\", \"port\": %d, \"timeout\": \"x\"}", DR_ERRC_PERMANENT, "with.timeout:"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		dr_outcome o = call(dr_action_check_tcp_run, cases[i].with, srv.port);
		expect_fail(&o, cases[i].cls, cases[i].msg);
		dispose(&o);
	}
	dr_outcome o = call_by(dr_action_check_tcp_run, 0, NULL, "{\"host\": \"127.0.0.1\", \"port\": %d}", srv.port);
	expect_fail(&o, DR_ERRC_TIMEOUT, "no time left before the attempt's deadline");
	dispose(&o);
}

/* ------------------------------------------------------------ check.dns */

static void test_dns(void **state)
{
	(void)state;
	dr_outcome o = call(dr_action_check_dns_run, "{\"name\": \"localhost\", \"x\": %d}", 0);
	expect_ok(&o);
	assert_string_equal(str_out(&o, "name"), "localhost");
	const cJSON *addrs = cJSON_GetObjectItemCaseSensitive(o.outputs, "addresses");
	assert_true(cJSON_IsArray(addrs) && cJSON_GetArraySize(addrs) >= 1);
	bool v4 = false;
	for (const cJSON *it = addrs->child; it; it = it->next)
		v4 |= strcmp(it->valuestring, "127.0.0.1") == 0;
	assert_true(v4);
	dispose(&o);

	static const struct {
		const char *with;
		int cls;
		const char *msg;
	} cases[] = {
		{"{\"name\": \"localhost\", \"expect\": \"127.0.0.1\", \"x\": %d}", OK_, NULL},
		{"{\"name\": \"localhost\", \"expect\": [\"10.9.9.9\", \"127.0.0.1\"], \"x\": %d}", OK_, NULL},
		{"{\"name\": \"127.0.0.1\", \"expect\": \"127.0.0.1\", \"x\": %d}", OK_, NULL},
		{"{\"name\": \"localhost\", \"expect\": \"10.9.9.9\", \"x\": %d}", DR_ERRC_TRANSIENT,
		 "localhost resolves to 127.0.0.1"},
		{"{\"name\": \"localhost\", \"expect\": [\"10.9.9.9\", \"10.9.9.8\"], \"x\": %d}", DR_ERRC_TRANSIENT,
		 "; expected one of 10.9.9.9, 10.9.9.8"},
		{"{\"name\": \"localhost\", \"expect\": \"db.example.com\", \"x\": %d}", DR_ERRC_PERMANENT,
		 "with.expect: 'db.example.com' is not an IP address"},
		{"{\"name\": \"\", \"x\": %d}", DR_ERRC_PERMANENT, "with.name: a name"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		o = call(dr_action_check_dns_run, cases[i].with, 0);
		if (cases[i].cls == OK_)
			expect_ok(&o);
		else
			expect_fail(&o, (dr_err_class)cases[i].cls, cases[i].msg);
		dispose(&o);
	}
}

/* ------------------------------------------------------------ check.exec */

static void test_check_exec(void **state)
{
	(void)state;
	dr_outcome o = call(dr_action_check_exec_run, "{\"argv\": [\"sh\", \"-c\", \"echo up; exit %d\"]}", 0);
	expect_ok(&o);
	assert_int_equal(num_out(&o, "exit_code"), 0);
	assert_string_equal(str_out(&o, "stdout"), "up\n");
	dispose(&o);
	/* not healthy yet: transient, as for exec (a plain retry: retries both) */
	o = call(dr_action_check_exec_run, "{\"argv\": [\"sh\", \"-c\", \"echo booting >&2; exit %d\"]}", 3);
	expect_fail(&o, DR_ERRC_TRANSIENT, "sh exited with status 3 (expected 0); stderr: booting");
	dispose(&o);
	o = call(dr_action_exec_run, "{\"argv\": [\"sh\", \"-c\", \"exit %d\"]}", 3);
	expect_fail(&o, DR_ERRC_TRANSIENT, "sh exited with status 3");
	dispose(&o);
	o = call(dr_action_check_exec_run, "{\"argv\": [\"sh\", \"-c\", \"exit %d\"], \"expect_exit\": [0, 3]}", 3);
	expect_ok(&o);
	dispose(&o);
	o = call(dr_action_check_exec_run, "{\"argv\": [\"drover-no-such-probe-%d\"]}", 1);
	expect_fail(&o, DR_ERRC_PERMANENT, "command not found: drover-no-such-probe-1");
	dispose(&o);
	o = call_by(dr_action_check_exec_run, 200, NULL, "{\"argv\": [\"sleep\", \"%d\"]}", 5);
	expect_fail(&o, DR_ERRC_TIMEOUT, "sleep timed out after 200ms (the attempt's deadline)");
	dispose(&o);
}

/* ------------------------------------------------------------ notify.webhook */

static void test_webhook(void **state)
{
	(void)state;
	dr_outcome o = call(dr_action_notify_webhook_run,
			    "{\"url\": \"http://127.0.0.1:%d/hook\", \"text\": \"failover \\\"shop\\\": done\\nRTO 4m\", "
			    "\"headers\": {\"X-Token\": \"tok\"}}",
			    srv.port);
	expect_ok(&o);
	assert_int_equal(num_out(&o, "status"), 200);
	assert_true(num_out(&o, "elapsed_ms") >= 0);
	dispose(&o);
	pthread_mutex_lock(&srv.mu);
	cJSON *got = cJSON_Parse(srv.hook_body);
	assert_string_equal(srv.hook_type, "application/json");
	assert_string_equal(srv.hook_token, "tok");
	pthread_mutex_unlock(&srv.mu);
	assert_non_null(got);
	assert_int_equal(cJSON_GetArraySize(got), 1);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(got, "text")),
			    "failover \"shop\": done\nRTO 4m");
	cJSON_Delete(got);

	o = call(dr_action_notify_webhook_run, "{\"url\": \"http://localhost:%d/hook\", \"text\": 42}", srv.port);
	expect_ok(&o);
	dispose(&o);
	pthread_mutex_lock(&srv.mu);
	assert_string_equal(srv.hook_body, "{\"text\":\"42\"}");
	pthread_mutex_unlock(&srv.mu);
}

static void test_webhook_failures(void **state)
{
	(void)state;
	static const struct {
		const char *with;
		dr_err_class cls;
		const char *msg;
	} cases[] = {
		{"{\"url\": \"http://127.0.0.1:%d/hook-gone/T0/SECRET\", \"text\": \"x\"}", DR_ERRC_PERMANENT,
		 "POST to 127.0.0.1: HTTP 404 (expected 2xx); body: no such route"},
		{"{\"url\": \"http://127.0.0.1:%d/hook-gone\", \"text\": \"x\"}", DR_ERRC_PERMANENT,
		 "POST to 127.0.0.1: HTTP 404 (expected 2xx); body: no_service"},
		{"{\"url\": \"http://127.0.0.1:%d/status/503\", \"text\": \"x\"}", DR_ERRC_TRANSIENT, "HTTP 503"},
		{"{\"url\": \"http://127.0.0.1:%d/status/408\", \"text\": \"x\"}", DR_ERRC_TRANSIENT, "HTTP 408"},
		{"{\"url\": \"http://127.0.0.1:%d/throttle\", \"text\": \"x\"}", DR_ERRC_THROTTLED, "HTTP 429"},
		{"{\"url\": \"http://127.0.0.1:%d/redirect-off\", \"text\": \"x\"}", DR_ERRC_PERMANENT,
		 "POST to 127.0.0.1: the redirect to 192.0.2.1 was refused"},
		{"{\"url\": \"http://hooks.example.com/services/T0/B0/SECRET%d\", \"text\": \"x\"}", DR_ERRC_PERMANENT,
		 "POST to hooks.example.com: plain http:// is allowed only to loopback addresses"},
		{"{\"url\": \"https://x:%d/\"}", DR_ERRC_PERMANENT, "with.text: the message is required"},
		{"{\"url\": \"https://x:%d/\", \"text\": {}}", DR_ERRC_PERMANENT, "with.text: text is required, not a mapping"},
		{"{\"url\": \"https://x:%d/\", \"text\": \"x\", \"headers\": {\"A\": [1]}}", DR_ERRC_PERMANENT,
		 "with.headers: 'A' must be text"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		dr_outcome o = call(dr_action_notify_webhook_run, cases[i].with, srv.port);
		expect_fail(&o, cases[i].cls, cases[i].msg);
		if (strstr(o.message, "SECRET") || strstr(o.message, "/hook"))
			fail_msg("the webhook's path shows in: %s", o.message);
		if (cases[i].cls == DR_ERRC_THROTTLED)
			assert_int_equal(o.retry_after_ms, 7000);
		dispose(&o);
	}
	dr_outcome o = call(dr_action_notify_webhook_run, "{\"url\": \"http://127.0.0.1:%d/\", \"text\": \"x\"}", closed_port);
	expect_fail(&o, DR_ERRC_TRANSIENT, "POST to 127.0.0.1: ");
	dispose(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_http_table),
		cmocka_unit_test(test_http_matched),
		cmocka_unit_test(test_http_throttled),
		cmocka_unit_test(test_http_refused),
		cmocka_unit_test(test_http_timeout),
		cmocka_unit_test(test_http_cancel),
		cmocka_unit_test(test_http_plain_refused_without_traffic),
		cmocka_unit_test(test_http_tls_verified),
		cmocka_unit_test(test_http_truncated),
		cmocka_unit_test(test_http_secrets),
		cmocka_unit_test(test_http_url_display),
		cmocka_unit_test(test_http_loopback),
		cmocka_unit_test(test_url_rule_as_written),
		cmocka_unit_test(test_http_layer),
		cmocka_unit_test(test_concurrent),
		cmocka_unit_test(test_tcp),
		cmocka_unit_test(test_tcp_inputs),
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_check_exec),
		cmocka_unit_test(test_webhook),
		cmocka_unit_test(test_webhook_failures),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
