/*
 * backends/http.h - drover's HTTP client: one blocking request, with the
 * project's rules built in. http.c is the only file that includes
 * <curl/curl.h>; check.http, notify.webhook and (later) the Azure backend
 * all come through here.
 *
 * The rules (docs/checks.md, "HTTP rules"), none of which a caller can
 * turn off:
 *   - TLS certificates and host names are always verified.
 *   - Plain http:// is allowed only to loopback hosts (127.0.0.0/8, ::1,
 *     localhost), and the connection must then really go to a loopback
 *     address, never through a proxy. Any other http:// URL is refused
 *     before any traffic (DR_HTTP_E_URL, "... use https://").
 *   - Redirects (301, 302, 303, 307, 308 with a Location) are followed up
 *     to max_redirects hops, each hop checked by the same rules. 303, and
 *     301/302 after a POST, continue as GET without the body; 307 and 308
 *     keep the method and body. The caller's headers go only to the first
 *     URL's origin (scheme, host and port); a hop to another origin gets
 *     none of them (content_type stays).
 *   - The response body is kept up to max_body bytes; the rest is not
 *     downloaded (truncated is set, the response still counts).
 *   - Messages never hold header values, bodies, user information or query
 *     strings of URLs; with secret_url, they name the host only.
 *
 * Plain http:// also goes to the instance metadata service's link-local
 * address 169.254.169.254 (Azure managed identity), but only for requests
 * that ask for it (allow_imds), never through a proxy, and the socket
 * must really go to that address.
 *
 * Proxies: https requests honour the usual variables (https_proxy,
 * HTTPS_PROXY, no_proxy, NO_PROXY, all_proxy) as curl reads them; plain
 * http never uses a proxy.
 *
 * Connections: a request without a client opens its own connection and
 * closes it. Requests through a dr_http_client reuse the client's idle
 * connections (keep-alive, TLS sessions, resolved names): the client never
 * holds more connections than requests it has had in flight at once.
 *
 * Thread safety: any number of threads may call dr_http_send at once, with
 * or without a client; each call has its own handles (a client lends one of
 * its idle ones, under its mutex), and curl_global_init runs once
 * (pthread_once; curl_global_cleanup is never called). Signals are not used
 * (NOSIGNAL).
 */
#ifndef DR_HTTP_H
#define DR_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a request ended. Only DR_HTTP_OK has a response (of any status). */
typedef enum dr_http_error {
	DR_HTTP_OK = 0,
	DR_HTTP_E_URL, /* malformed, not http(s), or refused by the rules above: nothing was sent */
	DR_HTTP_E_TLS, /* the certificate or host name did not verify, or TLS is not set up locally */
	DR_HTTP_E_CONNECT, /* the name did not resolve, or no connection (refused, unreachable) */
	DR_HTTP_E_TIMEOUT, /* timeout_ms passed */
	DR_HTTP_E_TRANSFER, /* the exchange broke (reset, TLS handshake, bad or no response) */
	DR_HTTP_E_REDIRECTS, /* more than max_redirects redirects */
	DR_HTTP_E_CANCELLED, /* *cancel turned non-zero */
} dr_http_error;

/* A pool of keep-alive connections (see "Connections" above). */
typedef struct dr_http_client dr_http_client;

typedef struct dr_http_request {
	const char *method; /* "GET" when NULL; "HEAD" reads no body */
	const char *url; /* http:// or https:// */
	const char *const *headers; /* "Name: value" lines, NULL-terminated; NULL for none */
	const char *content_type; /* with a body: its Content-Type, sent on every hop; may be NULL */
	const char *body; /* NULL: none */
	size_t body_len;
	int64_t timeout_ms; /* the whole request, every hop included; at least 1 */
	int64_t connect_timeout_ms; /* each connection's setup (TCP and TLS); 0: up to timeout_ms */
	size_t max_body; /* response body bytes kept */
	int max_redirects; /* hops followed; 0: a redirect is the response */
	const volatile int *cancel; /* non-NULL: the request stops within 50 ms once it is non-zero */
	bool secret_url; /* the URL is a secret: messages name its host only */
	bool allow_imds; /* plain http:// may also go to 169.254.169.254 (instance metadata) */
	dr_http_client *client; /* reuse its connections; NULL: a connection of the request's own */
} dr_http_request;

typedef struct dr_http_response {
	dr_http_error error;
	long status; /* the last response's status; 0 when none arrived */
	char *body; /* heap, NUL-terminated (bytes may include NULs); "" when none; never NULL after send */
	size_t body_len;
	bool truncated; /* the body was longer than max_body */
	int64_t retry_after_ms; /* the Retry-After header (seconds or HTTP date) in ms; -1 when absent */
	int redirects; /* hops followed */
	int64_t elapsed_ms; /* wall time of the whole request */
	char *message; /* error != OK: why, without the URL (heap, safe to print); else NULL */
	char **headers; /* the last response's headers as "Name: value" (heap); NULL when none */
	size_t n_headers;
	int connections; /* new connections the request opened (0: it reused one) */
} dr_http_response;

/*
 * Send req and wait for the answer. Fills *out (dispose it with
 * dr_http_response_dispose whatever the result) and returns out->error.
 */
dr_http_error dr_http_send(dr_http_response *out, const dr_http_request *req);

void dr_http_response_dispose(dr_http_response *r);

/* The value of the last response's header name (case-insensitive; the first one), or NULL. Borrowed from r. */
const char *dr_http_response_header(const dr_http_response *r, const char *name);

/* A new client with no connections yet. Never NULL (out of memory aborts). */
dr_http_client *dr_http_client_new(void);

/* Close the client's connections and free it; no request may be using it. NULL is a no-op. */
void dr_http_client_free(dr_http_client *cl);

/* What a client did so far: requests sent (every hop), connections opened. */
typedef struct dr_http_stats {
	uint64_t requests;
	uint64_t connections;
} dr_http_stats;

void dr_http_client_stats(dr_http_client *cl, dr_http_stats *out);

/*
 * The URL as messages may show it: scheme://host[:port]/path, without user
 * information, query or fragment; with secret, the host alone. A URL that
 * does not parse is shown as "(a malformed URL)". The caller frees it.
 */
char *dr_http_url_display(const char *url, bool secret);

/* s percent-encoded for a URL query or an application/x-www-form-urlencoded body (heap). */
char *dr_http_escape(const char *s);


#endif
