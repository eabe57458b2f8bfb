/*
 * actions/net.h - private to interpreter/actions/: what the network actions
 * share.
 *
 *   check_http.c      check.http
 *   check_net.c       check.tcp, check.dns
 *   notify_webhook.c  notify.webhook
 *   net.c             this header: time limits, header decoding, HTTP
 *                     failures as outcomes, body snippets for messages
 *
 * Every one of them is DR_AF_BLOCKING (it runs on a worker thread), keeps
 * nothing across calls (never returns WAIT, so needs no cancel()), and
 * stops within 50 ms of a cancellation. Classes follow one rule: what may
 * heal while the service comes up (no connection, no answer in time, 5xx,
 * an answer that is not the expected one yet) is TRANSIENT; 429 is
 * THROTTLED with the service's Retry-After; bad inputs, URLs refused by
 * the HTTP rules and certificates that do not verify are PERMANENT; the
 * attempt's deadline gives TIMEOUT and a cancellation CANCELLED.
 */
#ifndef DR_ACTIONS_NET_H
#define DR_ACTIONS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions/action.h"
#include "backends/http.h"

struct cJSON;

/* How long an attempt may take, in real milliseconds from its start. */
typedef struct dr_net_limit {
	int64_t ms;
	bool by_deadline; /* the attempt's deadline set it, not the action's own timeout */
} dr_net_limit;

/*
 * The smaller of v (the action's timeout: a duration like "10s", or a
 * number of ms; dflt_ms when v is NULL) and what is left of the call's
 * deadline; out->ms is 0 when the deadline has passed. Returns false, with
 * *err a heap message naming with.<key>, when v is not a duration longer
 * than 0.
 */
bool dr_net_limit_get(const dr_call *call, const struct cJSON *v, const char *key, int64_t dflt_ms,
		      dr_net_limit *out, char **err);

/* "10s (with.timeout)" or "2s (the attempt's deadline)", for messages. */
void dr_net_limit_text(const dr_net_limit *l, char *out, size_t outsz);

/* The class of a limit that ran out: TIMEOUT for the attempt's deadline, else TRANSIENT. */
dr_err_class dr_net_limit_class(const dr_net_limit *l);

/* True when the run asked this attempt to stop. */
bool dr_net_cancelled(const dr_call *call);

/*
 * True when the step's with.<key> reads a secret (statically): messages
 * then name the URL's host only. The executor also redacts every secret
 * value it has read from events, so this is the first of two guards.
 */
bool dr_net_input_is_secret(const dr_call *call, const char *key);

/*
 * Resolve host and connect to port (its addresses in turn) by end
 * (monotonic ms, l's limit), as check.tcp does. true with *fd a connected
 * non-blocking socket (the caller closes it) and address its numeric text;
 * false with *fail the outcome check.tcp would report ("<what>: connection
 * refused", TRANSIENT; the limit's class; CANCELLED). check_net.c.
 */
bool dr_net_connect(const dr_call *call, const char *host, const char *port, const char *what, const dr_net_limit *l,
		    int64_t end, int *fd, char *address, size_t address_size, dr_outcome *fail);

/*
 * with.headers (a mapping Name: value, NULL when absent) as "Name: value"
 * lines, NULL-terminated; free with dr_net_headers_free. Names must be
 * tokens and values must not hold line breaks; false with *err (which
 * names the header, never its value) otherwise.
 */
bool dr_net_headers(const struct cJSON *v, char ***out, char **err);
void dr_net_headers_free(char **lines);

/*
 * A request that got no response (r->error != DR_HTTP_OK) as a failed
 * outcome: "<what>: <why>". what names the request ("GET
 * https://host/path") and must be printable. Classes: URL refused and TLS
 * PERMANENT, too many redirects PERMANENT, time limit by l, cancelled
 * CANCELLED, no connection and broken exchanges TRANSIENT.
 */
dr_outcome dr_net_http_failure(const dr_http_response *r, const char *what, const dr_net_limit *l);

/*
 * Up to max bytes of a response body (or an output) for a message: valid
 * UTF-8, the run's secrets redacted before it is cut (dr_exec_redact_cut,
 * so none shows in half), one line (control characters become spaces, runs
 * of blanks one space), "..." when cut. "" for an empty body. run may be
 * NULL. The caller frees it.
 */
char *dr_net_snippet(struct dr_exec *run, const char *body, size_t len, size_t max);

#endif
