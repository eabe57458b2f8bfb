/*
 * actions/check_net.c - check.tcp (does host:port accept a connection) and
 * check.dns (does a name resolve, to one of the expected addresses).
 *
 * Lookups run getaddrinfo on a helper thread, so that the time limit and
 * a cancellation hold even when the resolver hangs (an unreachable DNS
 * server costs glibc its whole timeout × attempts, exactly what a disaster
 * brings): the caller waits at most until the limit, looking at the
 * cancellation every 50 ms, and when it gives up the lookup finishes on
 * its own and frees itself (the record is shared, counted and locked).
 * Literal addresses are converted at once (AI_NUMERICHOST), no thread.
 *
 * A connection is a non-blocking connect polled in 50 ms steps; the
 * addresses of the name are tried in turn, all within the one limit.
 *
 * Classes (net.h): no such name, no connection (refused, unreachable), no
 * answer within with.timeout, and addresses other than the expected ones
 * are TRANSIENT (a failed-over VM boots, DNS catches up); the attempt's
 * deadline gives TIMEOUT; bad inputs are PERMANENT.
 */
#include "actions/family.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "actions/net.h"
#include "run/eval.h"
#include "util/buf.h"
#include "util/xalloc.h"

enum {
	TICK_MS = 50, /* a cancellation is seen at least this often */
	DEFAULT_TIMEOUT_MS = 5000, /* check.tcp's and check.dns's, as in checks.c's schema */
};

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static dr_outcome failed_text(dr_err_class cls, dr_buf *b)
{
	dr_outcome o = dr_outcome_fail(cls, "%s", b->data);
	dr_buf_dispose(b);
	return o;
}

/* ---------------------------------------------------------------- lookups */

/* One getaddrinfo on a helper thread; freed by whichever of the waiter and the thread lets go last. */
typedef struct lookup {
	pthread_mutex_t mu;
	pthread_cond_t cv; /* on CLOCK_MONOTONIC */
	int refs;
	bool done;
	char *host, *service;
	int rc; /* getaddrinfo's result */
	struct addrinfo *res;
} lookup;

typedef enum lk_status { LK_OK, LK_FAILED, LK_TIMEOUT, LK_CANCELLED } lk_status;

static const struct addrinfo stream_hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};

static void lookup_unref(lookup *l)
{
	pthread_mutex_lock(&l->mu);
	int left = --l->refs;
	pthread_mutex_unlock(&l->mu);
	if (left)
		return;
	if (l->res)
		freeaddrinfo(l->res);
	pthread_cond_destroy(&l->cv);
	pthread_mutex_destroy(&l->mu);
	free(l->host);
	free(l->service);
	free(l);
}

static void *lookup_main(void *arg)
{
	lookup *l = arg;
	struct addrinfo *res = NULL;
	int rc = getaddrinfo(l->host, l->service, &stream_hints, &res);
	pthread_mutex_lock(&l->mu);
	l->rc = rc;
	l->res = rc == 0 ? res : NULL;
	l->done = true;
	pthread_cond_signal(&l->cv);
	pthread_mutex_unlock(&l->mu);
	lookup_unref(l);
	return NULL;
}

static lookup *lookup_new(const char *host, const char *service)
{
	lookup *l = xcalloc(1, sizeof *l);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&l->cv, &ca);
	pthread_condattr_destroy(&ca);
	pthread_mutex_init(&l->mu, NULL);
	l->refs = 2;
	l->host = xstrdup(host);
	l->service = service ? xstrdup(service) : NULL;
	return l;
}

/* Start the helper thread (detached); false when no thread can be made. */
static bool lookup_start(lookup *l)
{
	pthread_attr_t at;
	pthread_t th;
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&th, &at, lookup_main, l);
	pthread_attr_destroy(&at);
	return rc == 0;
}

/* Wait, with l->mu held, until the lookup is done, end (monotonic ms) passes or the call is cancelled. */
static lk_status lookup_wait(lookup *l, int64_t end, const dr_call *call)
{
	while (!l->done) {
		if (dr_net_cancelled(call))
			return LK_CANCELLED;
		int64_t now = mono_ms();
		if (now >= end)
			return LK_TIMEOUT;
		int64_t until = now + TICK_MS < end ? now + TICK_MS : end;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		int64_t ns = ts.tv_nsec + (until - now) * 1000000;
		ts.tv_sec += ns / 1000000000;
		ts.tv_nsec = ns % 1000000000;
		pthread_cond_timedwait(&l->cv, &l->mu, &ts);
	}
	return l->rc == 0 ? LK_OK : LK_FAILED;
}

/*
 * Resolve host (service: a port number, or NULL) to stream addresses by
 * end. LK_OK with *out (freeaddrinfo it); LK_FAILED with *gai, the
 * getaddrinfo error; LK_TIMEOUT; LK_CANCELLED.
 */
static lk_status resolve(const char *host, const char *service, int64_t end, const dr_call *call,
			 struct addrinfo **out, int *gai)
{
	struct addrinfo numeric = stream_hints;
	numeric.ai_flags = AI_NUMERICHOST;
	*out = NULL;
	if (getaddrinfo(host, service, &numeric, out) == 0)
		return LK_OK;
	*out = NULL;
	lookup *l = lookup_new(host, service);
	if (!lookup_start(l)) { /* no thread: block here instead */
		struct addrinfo *res = NULL;
		l->refs = 1;
		l->rc = getaddrinfo(host, service, &stream_hints, &res);
		l->res = l->rc == 0 ? res : NULL;
		l->done = true;
	}
	pthread_mutex_lock(&l->mu);
	lk_status st = lookup_wait(l, end, call);
	if (st == LK_OK) {
		*out = l->res;
		l->res = NULL;
	}
	*gai = l->rc;
	pthread_mutex_unlock(&l->mu);
	lookup_unref(l);
	return st;
}

/* The numeric text of an address ("10.0.0.4", "::1"). */
static void addr_text(const struct addrinfo *ai, char *out, size_t outsz)
{
	if (getnameinfo(ai->ai_addr, ai->ai_addrlen, out, (socklen_t)outsz, NULL, 0, NI_NUMERICHOST) != 0)
		snprintf(out, outsz, "?");
}

/* A lookup that did not give addresses, as an outcome; what names the lookup ("db1:5432", "db.example.com"). */
static dr_outcome lookup_failed(lk_status st, int gai, const char *what, const dr_net_limit *l)
{
	char limit[64];
	dr_net_limit_text(l, limit, sizeof limit);
	if (st == LK_CANCELLED)
		return dr_outcome_fail(DR_ERRC_CANCELLED, "%s: cancelled while the name was being resolved", what);
	if (st == LK_TIMEOUT)
		return dr_outcome_fail(dr_net_limit_class(l), "%s: the name did not resolve within %s", what, limit);
	return dr_outcome_fail(DR_ERRC_TRANSIENT, "%s: the name does not resolve: %s", what, gai_strerror(gai));
}

/* ------------------------------------------------------------ check.tcp */

typedef struct tcp_spec {
	char *host;
	char port[8];
	dr_net_limit limit;
	char *what; /* "host:port" ("[::1]:22") for messages */
} tcp_spec;

static bool text_value(const cJSON *v)
{
	return cJSON_IsString(v) || cJSON_IsNumber(v);
}

/* A port: an integer 1..65535, or text of one (a whole ${...} of a string parameter). */
static bool decode_port(const cJSON *v, char *out, size_t outsz)
{
	double d = -1;
	char *end = NULL;
	if (cJSON_IsNumber(v))
		d = v->valuedouble;
	else if (cJSON_IsString(v) && *v->valuestring) {
		d = strtod(v->valuestring, &end);
		if (*end)
			d = -1;
	}
	if (d < 1 || d > 65535 || d != (int)d)
		return false;
	snprintf(out, outsz, "%d", (int)d);
	return true;
}

static bool decode_tcp(tcp_spec *s, const dr_call *call, char **err)
{
	const cJSON *w = call->with, *host = cJSON_GetObjectItemCaseSensitive(w, "host");
	*s = (tcp_spec){.host = NULL};
	if (!text_value(host) || !*(s->host = dr_eval_to_text(host))) {
		*err = xstrdup("with.host: a host name or address (a non-empty string) is required");
		return false;
	}
	if (!decode_port(cJSON_GetObjectItemCaseSensitive(w, "port"), s->port, sizeof s->port)) {
		*err = xstrdup("with.port: a port number from 1 to 65535 is required");
		return false;
	}
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, strchr(s->host, ':') ? "[%s]:%s" : "%s:%s", s->host, s->port);
	s->what = dr_buf_detach(&b);
	return dr_net_limit_get(call, cJSON_GetObjectItemCaseSensitive(w, "timeout"), "timeout", DEFAULT_TIMEOUT_MS,
				&s->limit, err);
}

enum { CONNECT_TIMED_OUT = -1, CONNECT_CANCELLED = -2 };

/* Wait for a non-blocking connect on fd; 0, an errno value, or CONNECT_TIMED_OUT / CONNECT_CANCELLED. */
static int connect_wait(int fd, int64_t end, const dr_call *call)
{
	for (;;) {
		if (dr_net_cancelled(call))
			return CONNECT_CANCELLED;
		int64_t left = end - mono_ms();
		if (left <= 0)
			return CONNECT_TIMED_OUT;
		struct pollfd p = {.fd = fd, .events = POLLOUT};
		int n = poll(&p, 1, (int)(left < TICK_MS ? left : TICK_MS));
		if (n < 0 && errno != EINTR)
			return errno;
		if (n > 0) {
			int e = 0;
			socklen_t len = sizeof e;
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
				return errno;
			return e;
		}
	}
}

/* Connect to one address by end; 0 with *out the connected (non-blocking) socket, else as connect_wait. */
static int try_connect(const struct addrinfo *ai, int64_t end, const dr_call *call, int *out)
{
	int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
	if (fd < 0)
		return errno;
	int e = 0;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
		e = errno;
		if (e == EINPROGRESS || e == EINTR)
			e = connect_wait(fd, end, call);
	}
	if (e)
		close(fd);
	else
		*out = fd;
	return e;
}

static cJSON *tcp_outputs(const tcp_spec *s, const char *address, int64_t elapsed)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "host", s->host);
	cJSON_AddNumberToObject(o, "port", atoi(s->port));
	cJSON_AddStringToObject(o, "address", address);
	cJSON_AddNumberToObject(o, "elapsed_ms", (double)elapsed);
	return o;
}

/* No address took the connection: the last one's reason. */
static dr_outcome connect_failed(const char *what, const char *host, const dr_net_limit *l, int e, const char *address)
{
	char limit[64], why[128];
	dr_buf b;
	dr_buf_init(&b);
	if (e == CONNECT_CANCELLED)
		return dr_outcome_fail(DR_ERRC_CANCELLED, "%s: cancelled while connecting", what);
	if (e == CONNECT_TIMED_OUT) {
		dr_net_limit_text(l, limit, sizeof limit);
		dr_buf_printf(&b, "%s: no connection within %s", what, limit);
		return failed_text(dr_net_limit_class(l), &b);
	}
	dr_buf_printf(&b, "%s: %s", what, e == ECONNREFUSED ? "connection refused" : strerror_r(e, why, sizeof why));
	if (strcmp(address, host) != 0)
		dr_buf_printf(&b, " (%s)", address);
	return failed_text(DR_ERRC_TRANSIENT, &b);
}

bool dr_net_connect(const dr_call *call, const char *host, const char *port, const char *what, const dr_net_limit *l,
		    int64_t end, int *fd, char *address, size_t address_size, dr_outcome *fail)
{
	struct addrinfo *res = NULL;
	int gai = 0;
	lk_status st = resolve(host, port, end, call, &res, &gai);
	if (st != LK_OK) {
		*fail = lookup_failed(st, gai, what, l);
		return false;
	}
	snprintf(address, address_size, "?");
	int e = ECONNREFUSED;
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		addr_text(ai, address, address_size);
		if ((e = try_connect(ai, end, call, fd)) == 0 || e == CONNECT_TIMED_OUT || e == CONNECT_CANCELLED)
			break;
	}
	freeaddrinfo(res);
	if (e)
		*fail = connect_failed(what, host, l, e, address);
	return e == 0;
}

static dr_outcome tcp_check(const tcp_spec *s, const dr_call *call)
{
	int64_t start = mono_ms();
	char address[INET6_ADDRSTRLEN + 1];
	int fd = -1;
	dr_outcome fail;
	if (!dr_net_connect(call, s->host, s->port, s->what, &s->limit, start + s->limit.ms, &fd, address, sizeof address,
			    &fail))
		return fail;
	close(fd);
	return dr_outcome_ok(tcp_outputs(s, address, mono_ms() - start));
}

/*
 * Connect to with.host:with.port (each address of the name in turn) and
 * close at once. OK with outputs {host, port, address (the one that
 * answered), elapsed_ms}. Blocks; never returns WAIT.
 */
dr_outcome dr_action_check_tcp_run(dr_call *call)
{
	tcp_spec s;
	char *err = NULL;
	dr_outcome o;
	if (dr_net_cancelled(call))
		return dr_outcome_fail(DR_ERRC_CANCELLED, "cancelled before connecting");
	if (!decode_tcp(&s, call, &err))
		o = dr_outcome_fail(DR_ERRC_PERMANENT, "%s", err);
	else if (s.limit.ms <= 0)
		o = dr_outcome_fail(DR_ERRC_TIMEOUT, "%s: not tried: no time left before the attempt's deadline", s.what);
	else
		o = tcp_check(&s, call);
	free(err);
	free(s.host);
	free(s.what);
	return o;
}

/* ------------------------------------------------------------ check.dns */

typedef struct ip {
	int family;
	unsigned char bytes[16];
} ip;

typedef struct dns_spec {
	char *name;
	ip *expect;
	const char **expect_text; /* as written, for messages; borrowed */
	size_t n_expect;
	dr_net_limit limit;
} dns_spec;

static bool parse_ip(const char *text, ip *out)
{
	memset(out, 0, sizeof *out);
	if (inet_pton(AF_INET, text, out->bytes) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, text, out->bytes) == 1)
		out->family = AF_INET6;
	return out->family != 0;
}

static bool add_expected(dns_spec *s, const cJSON *v, char **err)
{
	if (!cJSON_IsString(v) || !parse_ip(v->valuestring, &s->expect[s->n_expect])) {
		char *shown = dr_eval_to_text(v);
		dr_buf b;
		dr_buf_init(&b);
		dr_buf_printf(&b, "with.expect: '%s' is not an IP address", shown);
		free(shown);
		*err = dr_buf_detach(&b);
		return false;
	}
	s->expect_text[s->n_expect++] = v->valuestring;
	return true;
}

static bool decode_dns(dns_spec *s, const dr_call *call, char **err)
{
	const cJSON *w = call->with, *name = cJSON_GetObjectItemCaseSensitive(w, "name"),
		    *expect = cJSON_GetObjectItemCaseSensitive(w, "expect");
	*s = (dns_spec){.name = NULL};
	if (!cJSON_IsString(name) || !name->valuestring[0]) {
		*err = xstrdup("with.name: a name (a non-empty string) is required");
		return false;
	}
	s->name = xstrdup(name->valuestring);
	if (expect && !cJSON_IsNull(expect)) {
		size_t n = cJSON_IsArray(expect) ? (size_t)cJSON_GetArraySize(expect) : 1;
		s->expect = xcalloc(n ? n : 1, sizeof *s->expect);
		s->expect_text = xcalloc(n ? n : 1, sizeof *s->expect_text);
		if (cJSON_IsArray(expect)) {
			for (const cJSON *it = expect->child; it; it = it->next)
				if (!add_expected(s, it, err))
					return false;
		} else if (!add_expected(s, expect, err)) {
			return false;
		}
	}
	return dr_net_limit_get(call, cJSON_GetObjectItemCaseSensitive(w, "timeout"), "timeout", DEFAULT_TIMEOUT_MS,
				&s->limit, err);
}

static bool expected(const dns_spec *s, const struct addrinfo *ai)
{
	ip have = {.family = ai->ai_family};
	if (ai->ai_family == AF_INET)
		memcpy(have.bytes, &((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr, 4);
	else if (ai->ai_family == AF_INET6)
		memcpy(have.bytes, &((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_addr, 16);
	for (size_t i = 0; i < s->n_expect; i++)
		if (s->expect[i].family == have.family && memcmp(s->expect[i].bytes, have.bytes, 16) == 0)
			return true;
	return false;
}

/* Each address once, in the resolver's order. */
static cJSON *address_list(const struct addrinfo *res)
{
	cJSON *list = cJSON_CreateArray();
	char text[INET6_ADDRSTRLEN + 1];
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		addr_text(ai, text, sizeof text);
		bool seen = false;
		for (const cJSON *it = list->child; it && !seen; it = it->next)
			seen = strcmp(it->valuestring, text) == 0;
		if (!seen)
			cJSON_AddItemToArray(list, cJSON_CreateString(text));
	}
	return list;
}

static dr_outcome dns_mismatch(const dns_spec *s, const cJSON *addresses)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s resolves to ", s->name);
	for (const cJSON *it = addresses->child; it; it = it->next)
		dr_buf_printf(&b, "%s%s", it == addresses->child ? "" : ", ", it->valuestring);
	dr_buf_puts(&b, s->n_expect > 1 ? "; expected one of " : "; expected ");
	for (size_t i = 0; i < s->n_expect; i++)
		dr_buf_printf(&b, "%s%s", i ? ", " : "", s->expect_text[i]);
	return failed_text(DR_ERRC_TRANSIENT, &b);
}

static dr_outcome dns_check(const dns_spec *s, const dr_call *call)
{
	int64_t start = mono_ms();
	struct addrinfo *res = NULL;
	int gai = 0;
	lk_status st = resolve(s->name, NULL, start + s->limit.ms, call, &res, &gai);
	if (st != LK_OK)
		return lookup_failed(st, gai, s->name, &s->limit);
	bool ok = s->n_expect == 0;
	for (const struct addrinfo *ai = res; ai && !ok; ai = ai->ai_next)
		ok = expected(s, ai);
	cJSON *addresses = address_list(res);
	freeaddrinfo(res);
	if (!ok) {
		dr_outcome o = dns_mismatch(s, addresses);
		cJSON_Delete(addresses);
		return o;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", s->name);
	cJSON_AddItemToObject(o, "addresses", addresses);
	cJSON_AddNumberToObject(o, "elapsed_ms", (double)(mono_ms() - start));
	return dr_outcome_ok(o);
}

/*
 * Resolve with.name; when with.expect is given, one of its addresses must
 * be among the answers. OK with outputs {name, addresses (each once, in
 * the resolver's order), elapsed_ms}. Blocks; never returns WAIT.
 */
dr_outcome dr_action_check_dns_run(dr_call *call)
{
	dns_spec s;
	char *err = NULL;
	dr_outcome o;
	if (dr_net_cancelled(call))
		return dr_outcome_fail(DR_ERRC_CANCELLED, "cancelled before the lookup");
	if (!decode_dns(&s, call, &err))
		o = dr_outcome_fail(DR_ERRC_PERMANENT, "%s", err);
	else if (s.limit.ms <= 0)
		o = dr_outcome_fail(DR_ERRC_TIMEOUT, "%s: not looked up: no time left before the attempt's deadline", s.name);
	else
		o = dns_check(&s, call);
	free(err);
	free(s.name);
	free(s.expect);
	free(s.expect_text);
	return o;
}
