/*
 * util/url.h - where drover sends a request: https:// anywhere, plain
 * http:// only to loopback (docs/checks.md, "HTTP rules"). One rule for
 * both sides of it: backends/http.c applies it to the URL curl parsed,
 * just before a request; front/check.c to a URL as the runbook writes it
 * (DR221), so that validate refuses what the step would refuse.
 */
#ifndef DR_URL_H
#define DR_URL_H

#include <stdbool.h>

/* What the rule says of plain http:// to a host that is not loopback (a static sentence). */
extern const char dr_url_plain_refused[];

/* True for "localhost" and literal 127.0.0.0/8 or ::1 (brackets allowed): where plain http may go. Any thread. */
bool dr_url_host_is_loopback(const char *host);

/*
 * The rule for a URL's scheme (lower case) and host (as a URL writes it:
 * an IPv6 literal in brackets): NULL when a request may go, else why not
 * (a static sentence: no scheme or host, a scheme other than http or
 * https, plain http to a host that is not loopback nor also_plain). *plain:
 * an allowed http:// URL. also_plain: one more host plain http may reach
 * (the instance metadata service), or NULL. Any thread.
 */
const char *dr_url_rule(const char *scheme, const char *host, const char *also_plain, bool *plain);

/*
 * The rule applied to url as written (its scheme and host; user:password@
 * and the port skipped): why a request there would be refused, or NULL
 * when it may go or when url has no "scheme://" to tell (the request
 * decides then). For checking text before the run; a request applies
 * dr_url_rule to what its HTTP library parsed. Any thread.
 */
const char *dr_url_refusal(const char *url);

#endif
