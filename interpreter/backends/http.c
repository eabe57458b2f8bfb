/*
 * backends/http.c - the HTTP client (contract and rules in http.h): the
 * only file that includes <curl/curl.h>.
 *
 * One easy handle per request, driven through a multi handle that is
 * polled every 50 ms, so a cancellation is seen quickly whatever curl is
 * waiting for (the progress callback checks it too). Redirects are
 * followed here, not by curl: every hop's URL goes through the same
 * url_refusal() as the first one, its protocols are pinned to that hop's
 * scheme (CURLOPT_PROTOCOLS_STR and CURLOPT_REDIR_PROTOCOLS_STR), the
 * caller's headers are dropped on a change of origin, and the time limit
 * covers all hops. For plain-http hops the proxy is off and the socket
 * callback refuses any address that is not loopback, so "localhost" in
 * /etc/hosts pointing elsewhere cannot carry plain http off the machine.
 *
 * TLS verification is never touched: CURLOPT_SSL_VERIFYPEER and
 * CURLOPT_SSL_VERIFYHOST keep curl's defaults (on), and nothing here sets
 * them.
 *
 * A request runs on a "slot": one multi handle and one easy handle. The
 * multi handle owns the connection cache, so a client (dr_http_client)
 * keeps its idle slots and lends one to each request: the next request
 * finds the previous one's connection alive (curl_easy_reset keeps live
 * connections). Connections are not shared between threads (curl does not
 * support that); a slot is used by one request at a time.
 */
#include "backends/http.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "config.h"
#include "util/buf.h"
#include "util/text.h"
#include "util/url.h"
#include "util/xalloc.h"

#if LIBCURL_VERSION_NUM < 0x075500
#error "drover needs libcurl 7.85 or later (CURLOPT_PROTOCOLS_STR)"
#endif

enum { POLL_MS = 50 };

/* The instance metadata service (Azure IMDS): plain http to it only with allow_imds. */
#define IMDS_HOST "169.254.169.254"
#define IMDS_ADDR 0xA9FEA9FEu

struct dr_http_client {
	pthread_mutex_t mu;
	struct slot *idle; /* slots no request uses, their connections kept alive */
	dr_http_stats stats;
};

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc;

static void global_init(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static bool cancelled(const dr_http_request *req)
{
	return req->cancel && __atomic_load_n(req->cancel, __ATOMIC_RELAXED);
}

/* ----------------------------------------------------------------- URLs */

/* Parse url; NULL when curl refuses it (no scheme, spaces, bad port...). */
static CURLU *url_parse(const char *url)
{
	CURLU *u = curl_url();
	if (!u)
		abort();
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK) {
		curl_url_cleanup(u);
		return NULL;
	}
	return u;
}

/* A part of u as a heap string (the caller frees it); NULL when u has none. */
static char *url_part(CURLU *u, CURLUPart what, unsigned flags)
{
	char *v = NULL;
	if (curl_url_get(u, what, &v, flags) != CURLUE_OK || !v)
		return NULL;
	char *copy = xstrdup(v);
	curl_free(v);
	return copy;
}

/* NULL when u may be requested under the rules (util/url.h); else why not. *plain: it is an allowed http:// URL. */
static const char *url_refusal(CURLU *u, bool *plain, bool allow_imds)
{
	char *scheme = url_part(u, CURLUPART_SCHEME, 0), *host = url_part(u, CURLUPART_HOST, 0);
	const char *why = dr_url_rule(scheme, host, allow_imds ? IMDS_HOST : NULL, plain);
	free(scheme);
	free(host);
	return why;
}

/* "scheme://host:port", lower case, the port always given: what decides where headers may go. */
static char *url_origin(CURLU *u)
{
	char *scheme = url_part(u, CURLUPART_SCHEME, 0), *host = url_part(u, CURLUPART_HOST, 0),
	     *port = url_part(u, CURLUPART_PORT, CURLU_DEFAULT_PORT);
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s://%s:%s", scheme ? scheme : "", host ? host : "", port ? port : "");
	for (char *p = b.data; *p; p++)
		*p = (char)(*p >= 'A' && *p <= 'Z' ? *p - 'A' + 'a' : *p);
	free(scheme);
	free(host);
	free(port);
	return dr_buf_detach(&b);
}

static char *display_parsed(CURLU *u, bool secret)
{
	char *scheme = url_part(u, CURLUPART_SCHEME, 0), *host = url_part(u, CURLUPART_HOST, 0),
	     *port = url_part(u, CURLUPART_PORT, 0), *path = url_part(u, CURLUPART_PATH, 0);
	dr_buf b;
	dr_buf_init(&b);
	if (secret)
		dr_buf_puts(&b, host ? host : "(a URL without a host)");
	else
		dr_buf_printf(&b, "%s://%s%s%s%s", scheme ? scheme : "?", host ? host : "", port ? ":" : "",
			      port ? port : "", path ? path : "/");
	free(scheme);
	free(host);
	free(port);
	free(path);
	return dr_buf_detach(&b);
}

char *dr_http_escape(const char *s)
{
	pthread_once(&global_once, global_init);
	char *e = curl_easy_escape(NULL, s ? s : "", 0);
	if (!e)
		abort(); /* out of memory: as xalloc */
	char *copy = xstrdup(e);
	curl_free(e);
	return copy;
}

char *dr_http_url_display(const char *url, bool secret)
{
	pthread_once(&global_once, global_init);
	CURLU *u = url ? url_parse(url) : NULL;
	if (!u)
		return xstrdup("(a malformed URL)");
	char *s = display_parsed(u, secret);
	curl_url_cleanup(u);
	return s;
}

/* ------------------------------------------------------------ transfers */

/* One request's state, shared with curl's callbacks. */
typedef struct xfer {
	const dr_http_request *req;
	dr_buf body;
	bool truncated;
	bool plain; /* this hop is plain http: the socket must be loopback (or IMDS, with allow_imds) */
	bool off_loopback; /* the socket callback refused a non-loopback address */
	char errbuf[CURL_ERROR_SIZE];
} xfer;

static size_t on_body(char *data, size_t size, size_t n, void *ctx)
{
	xfer *x = ctx;
	size_t len = size * n, room = x->req->max_body - x->body.len;
	if (len <= room) {
		dr_buf_append(&x->body, data, len);
		return len;
	}
	dr_buf_append(&x->body, data, room);
	x->truncated = true;
	return 0; /* stop the download: CURLE_WRITE_ERROR, which send() reads as a truncated success */
}

static int on_progress(void *ctx, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow)
{
	(void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
	return cancelled(((xfer *)ctx)->req) ? 1 : 0;
}

static bool sockaddr_is_loopback(const struct sockaddr *sa, unsigned len, bool imds)
{
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof ss);
	memcpy(&ss, sa, len < sizeof ss ? len : sizeof ss);
	if (ss.ss_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)&ss;
		return ntohl(in->sin_addr.s_addr) >> 24 == 127 || (imds && ntohl(in->sin_addr.s_addr) == IMDS_ADDR);
	}
	if (ss.ss_family == AF_INET6) {
		const struct in6_addr *a = &((const struct sockaddr_in6 *)&ss)->sin6_addr;
		return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
	}
	return false;
}

static curl_socket_t on_open_socket(void *ctx, curlsocktype purpose, struct curl_sockaddr *a)
{
	xfer *x = ctx;
	(void)purpose;
	if (x->plain && !sockaddr_is_loopback(&a->addr, a->addrlen, x->req->allow_imds)) {
		x->off_loopback = true;
		return CURL_SOCKET_BAD;
	}
	return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static struct curl_slist *slist_add(struct curl_slist *l, const char *line)
{
	struct curl_slist *r = curl_slist_append(l, line);
	if (!r)
		abort(); /* out of memory: as xalloc */
	return r;
}

/* One hop's request: where, how, with what. */
typedef struct hop {
	const char *url;
	const char *method;
	const char *body; /* NULL: none */
	size_t body_len;
	bool plain;
	bool same_origin; /* as the first URL: the caller's headers go along */
} hop;

static struct curl_slist *hop_headers(const dr_http_request *req, const hop *h)
{
	struct curl_slist *l = slist_add(NULL, "Expect:"); /* no 100-continue round trip */
	if (h->body && req->content_type) {
		dr_buf b;
		dr_buf_init(&b);
		dr_buf_printf(&b, "Content-Type: %s", req->content_type);
		l = slist_add(l, b.data);
		dr_buf_dispose(&b);
	}
	for (size_t i = 0; h->same_origin && req->headers && req->headers[i]; i++)
		l = slist_add(l, req->headers[i]);
	return l;
}

static void hop_method(CURL *c, const hop *h)
{
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, (char *)NULL);
	curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	if (strcmp(h->method, "HEAD") == 0) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
		return;
	}
	if (h->body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)h->body_len);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, h->body);
	}
	if (strcmp(h->method, h->body ? "POST" : "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, h->method);
}

static void hop_setup(CURL *c, xfer *x, const hop *h, struct curl_slist *headers, int64_t left_ms)
{
	const char *proto = h->plain ? "http" : "https";
	curl_easy_setopt(c, CURLOPT_URL, h->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, proto);
	curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, proto);
	curl_easy_setopt(c, CURLOPT_NOPROXY, h->plain ? "*" : (char *)NULL);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
	int64_t connect_ms = x->req->connect_timeout_ms > 0 && x->req->connect_timeout_ms < left_ms
				     ? x->req->connect_timeout_ms
				     : left_ms;
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)left_ms);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)connect_ms);
	hop_method(c, h);
	x->plain = h->plain;
	x->errbuf[0] = '\0';
	dr_buf_reset(&x->body);
	x->truncated = false;
}

/* Options that hold for every hop of a request (c is fresh or reset). */
static void handle_setup(CURL *c, xfer *x)
{
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, x->errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, x);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETFUNCTION, on_open_socket);
	curl_easy_setopt(c, CURLOPT_OPENSOCKETDATA, x);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "drover/" DROVER_VERSION);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
}

/* Run the easy handle to its end, waking at least every POLL_MS to see a cancellation. */
static CURLcode perform(CURLM *m, CURL *c, const dr_http_request *req)
{
	CURLcode rc = CURLE_FAILED_INIT;
	if (curl_multi_add_handle(m, c) != CURLM_OK)
		return rc;
	for (bool done = false; !done;) {
		int running = 0, left = 0;
		if (curl_multi_perform(m, &running) != CURLM_OK)
			break;
		for (CURLMsg *msg; (msg = curl_multi_info_read(m, &left)) != NULL;)
			if (msg->msg == CURLMSG_DONE && msg->easy_handle == c) {
				rc = msg->data.result;
				done = true;
			}
		if (!done && cancelled(req)) {
			rc = CURLE_ABORTED_BY_CALLBACK;
			done = true;
		}
		if (!done)
			curl_multi_poll(m, NULL, 0, POLL_MS, NULL);
	}
	curl_multi_remove_handle(m, c);
	return rc;
}

/* ------------------------------------------------------------- results */

static dr_http_error fail(dr_http_response *out, dr_http_error e, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static dr_http_error fail(dr_http_response *out, dr_http_error e, const char *fmt, ...)
{
	dr_buf b;
	dr_buf_init(&b);
	va_list ap;
	va_start(ap, fmt);
	dr_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	free(out->message);
	out->message = dr_buf_detach(&b);
	out->error = e;
	return e;
}

static dr_http_error curl_error_class(CURLcode rc)
{
	switch (rc) {
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return DR_HTTP_E_URL;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
		return DR_HTTP_E_TLS;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_COULDNT_CONNECT:
		return DR_HTTP_E_CONNECT;
	case CURLE_OPERATION_TIMEDOUT:
		return DR_HTTP_E_TIMEOUT;
	case CURLE_ABORTED_BY_CALLBACK:
		return DR_HTTP_E_CANCELLED;
	default:
		return DR_HTTP_E_TRANSFER;
	}
}

/* A failed hop: its class and curl's words (they name hosts and ports, never paths, queries or headers). */
static dr_http_error hop_failed(dr_http_response *out, const xfer *x, CURLcode rc, const dr_http_request *req)
{
	char limit[32];
	if (x->off_loopback)
		return fail(out, DR_HTTP_E_URL, "the name did not resolve to a loopback address: %s", dr_url_plain_refused);
	dr_http_error e = curl_error_class(rc);
	if (e == DR_HTTP_E_CANCELLED)
		return fail(out, e, "cancelled");
	if (e == DR_HTTP_E_TIMEOUT) {
		dr_text_human_duration(req->timeout_ms, limit, sizeof limit);
		return fail(out, e, "no complete response within %s", limit);
	}
	return fail(out, e, "%s%s", rc == CURLE_SSL_CONNECT_ERROR ? "TLS handshake failed: " : "",
		    x->errbuf[0] ? x->errbuf : curl_easy_strerror(rc));
}

static bool is_redirect(long status)
{
	return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* The request after a redirect with this status: 303, and 301/302 after a POST, continue as GET without a body. */
static void hop_redirected(hop *h, long status)
{
	bool to_get = (status == 303 && strcmp(h->method, "HEAD") != 0) ||
		      ((status == 301 || status == 302) && strcmp(h->method, "POST") == 0);
	if (to_get) {
		h->method = "GET";
		h->body = NULL;
		h->body_len = 0;
	}
}

/* The first hop's method and body: POST, PUT and PATCH always send one (maybe empty). */
static hop first_hop(const dr_http_request *req)
{
	hop h = {.url = req->url, .method = req->method ? req->method : "GET", .body = req->body,
		 .body_len = req->body ? req->body_len : 0, .same_origin = true};
	if (!h.body && (!strcmp(h.method, "POST") || !strcmp(h.method, "PUT") || !strcmp(h.method, "PATCH")))
		h.body = "";
	return h;
}

/* Check the hop's URL against the rules; 0, or the error already filled in out. */
static dr_http_error hop_check(dr_http_response *out, const dr_http_request *req, hop *h, const char *origin)
{
	CURLU *u = url_parse(h->url);
	if (!u)
		return out->redirects ? fail(out, DR_HTTP_E_URL, "the server redirected to a malformed URL")
				      : fail(out, DR_HTTP_E_URL, "not a valid URL");
	const char *why = url_refusal(u, &h->plain, req->allow_imds);
	char *o = url_origin(u);
	h->same_origin = strcmp(o, origin) == 0;
	free(o);
	if (why && out->redirects) {
		char *shown = display_parsed(u, req->secret_url);
		fail(out, DR_HTTP_E_URL, "the redirect to %s was refused: %s", shown, why);
		free(shown);
	} else if (why) {
		fail(out, DR_HTTP_E_URL, "%s", why);
	}
	curl_url_cleanup(u);
	return why ? out->error : DR_HTTP_OK;
}

static char *first_origin(const char *url)
{
	CURLU *u = url ? url_parse(url) : NULL;
	char *o = u ? url_origin(u) : xstrdup("");
	if (u)
		curl_url_cleanup(u);
	return o;
}

static void drop_headers(dr_http_response *out)
{
	for (size_t i = 0; i < out->n_headers; i++)
		free(out->headers[i]);
	free(out->headers);
	out->headers = NULL;
	out->n_headers = 0;
}

/* The headers of the hop that just ended, as "Name: value" lines (the last hop's are kept). */
static void keep_headers(dr_http_response *out, CURL *c)
{
	size_t cap = 0;
	drop_headers(out);
	for (struct curl_header *h = NULL; (h = curl_easy_nextheader(c, CURLH_HEADER, -1, h)) != NULL;) {
		if (out->n_headers == cap) {
			cap = cap ? cap * 2 : 16;
			out->headers = xrealloc(out->headers, cap * sizeof *out->headers);
		}
		dr_buf b;
		dr_buf_init(&b);
		dr_buf_printf(&b, "%s: %s", h->name, h->value ? h->value : "");
		out->headers[out->n_headers++] = dr_buf_detach(&b);
	}
}

static void count_connections(dr_http_response *out, CURL *c)
{
	long n = 0;
	if (curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &n) == CURLE_OK && n > 0)
		out->connections += (int)n;
}

/* Send the hops, following redirects; the body of the last response stays in x. */
static dr_http_error exchange(dr_http_response *out, const dr_http_request *req, xfer *x, CURLM *m, CURL *c)
{
	int64_t end = mono_ms() + (req->timeout_ms > 0 ? req->timeout_ms : 1);
	char *origin = first_origin(req->url), *next = NULL;
	hop h = first_hop(req);
	dr_http_error e = DR_HTTP_OK;
	for (;;) {
		if ((e = hop_check(out, req, &h, origin)) != DR_HTTP_OK)
			break;
		int64_t left = end - mono_ms();
		if (left <= 0) {
			e = hop_failed(out, x, CURLE_OPERATION_TIMEDOUT, req);
			break;
		}
		struct curl_slist *headers = hop_headers(req, &h);
		hop_setup(c, x, &h, headers, left);
		CURLcode rc = perform(m, c, req);
		curl_slist_free_all(headers);
		count_connections(out, c);
		if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && x->truncated)) {
			e = hop_failed(out, x, rc, req);
			break;
		}
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
		keep_headers(out, c);
		curl_off_t retry_after = 0;
		if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &retry_after) == CURLE_OK && retry_after > 0)
			out->retry_after_ms = retry_after < INT64_MAX / 1000 ? (int64_t)retry_after * 1000 : INT64_MAX;
		else
			out->retry_after_ms = -1;
		char *location = NULL;
		if (req->max_redirects <= 0 || !is_redirect(out->status) ||
		    curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &location) != CURLE_OK || !location)
			break;
		if (out->redirects == req->max_redirects) {
			e = fail(out, DR_HTTP_E_REDIRECTS, "more than %d redirects", req->max_redirects);
			break;
		}
		free(next);
		next = xstrdup(location);
		out->redirects++;
		hop_redirected(&h, out->status);
		h.url = next;
	}
	free(origin);
	free(next);
	return e;
}

/* ---------------------------------------------------------------- slots */

/* A multi handle (which owns the connection cache) and its easy handle. */
typedef struct slot {
	CURLM *m;
	CURL *c;
	struct slot *next;
} slot;

static void slot_free(slot *sl)
{
	if (!sl)
		return;
	if (sl->c)
		curl_easy_cleanup(sl->c);
	if (sl->m)
		curl_multi_cleanup(sl->m);
	free(sl);
}

/* An idle slot of cl, or a new one (cl NULL: always new); NULL when curl cannot start. */
static slot *slot_take(dr_http_client *cl)
{
	slot *sl = NULL;
	if (cl) {
		pthread_mutex_lock(&cl->mu);
		if ((sl = cl->idle) != NULL)
			cl->idle = sl->next;
		pthread_mutex_unlock(&cl->mu);
	}
	if (sl) {
		curl_easy_reset(sl->c); /* options back to defaults; live connections stay in sl->m */
		return sl;
	}
	sl = xcalloc(1, sizeof *sl);
	sl->m = global_rc == CURLE_OK ? curl_multi_init() : NULL;
	sl->c = sl->m ? curl_easy_init() : NULL;
	if (!sl->c) {
		slot_free(sl);
		return NULL;
	}
	return sl;
}

/* Give sl back to cl with what the request did (cl NULL: close it). */
static void slot_give(dr_http_client *cl, slot *sl, const dr_http_response *out)
{
	if (!cl) {
		slot_free(sl);
		return;
	}
	pthread_mutex_lock(&cl->mu);
	cl->stats.requests += (uint64_t)out->redirects + 1;
	cl->stats.connections += (uint64_t)out->connections;
	if (sl) {
		sl->next = cl->idle;
		cl->idle = sl;
	}
	pthread_mutex_unlock(&cl->mu);
}

dr_http_client *dr_http_client_new(void)
{
	dr_http_client *cl = xcalloc(1, sizeof *cl);
	pthread_mutex_init(&cl->mu, NULL);
	return cl;
}

void dr_http_client_free(dr_http_client *cl)
{
	if (!cl)
		return;
	for (slot *sl = cl->idle, *next; sl; sl = next) {
		next = sl->next;
		slot_free(sl);
	}
	pthread_mutex_destroy(&cl->mu);
	free(cl);
}

void dr_http_client_stats(dr_http_client *cl, dr_http_stats *out)
{
	pthread_mutex_lock(&cl->mu);
	*out = cl->stats;
	pthread_mutex_unlock(&cl->mu);
}

/* ---------------------------------------------------------------- send */

dr_http_error dr_http_send(dr_http_response *out, const dr_http_request *req)
{
	*out = (dr_http_response){.retry_after_ms = -1};
	int64_t started = mono_ms();
	pthread_once(&global_once, global_init);
	xfer x = {.req = req};
	dr_buf_init(&x.body);
	slot *sl = slot_take(req->client);
	if (!sl) {
		fail(out, DR_HTTP_E_TRANSFER, "the HTTP client could not start (curl initialisation failed)");
	} else if (cancelled(req)) {
		fail(out, DR_HTTP_E_CANCELLED, "cancelled");
	} else {
		handle_setup(sl->c, &x);
		out->error = exchange(out, req, &x, sl->m, sl->c);
	}
	slot_give(req->client, sl, out);
	if (out->error != DR_HTTP_OK) {
		out->status = 0;
		dr_buf_reset(&x.body);
		x.truncated = false;
		drop_headers(out);
	}
	out->truncated = x.truncated;
	out->body_len = x.body.len;
	out->body = dr_buf_detach(&x.body);
	out->elapsed_ms = mono_ms() - started;
	return out->error;
}

void dr_http_response_dispose(dr_http_response *r)
{
	free(r->body);
	free(r->message);
	r->body = r->message = NULL;
	drop_headers(r);
}

const char *dr_http_response_header(const dr_http_response *r, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < r->n_headers; i++)
		if (strncasecmp(r->headers[i], name, n) == 0 && r->headers[i][n] == ':')
			return r->headers[i] + n + 2;
	return NULL;
}
