/*
 * util/url.c - the rule of where a request may go (contract in url.h):
 * plain functions of text, no I/O and no lookups.
 */
#include "util/url.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char dr_url_plain_refused[] =
	"plain http:// is allowed only to loopback addresses (127.0.0.0/8, ::1, localhost); use https://";

bool dr_url_host_is_loopback(const char *host)
{
	char inner[INET6_ADDRSTRLEN + 1];
	size_t n = strlen(host);
	bool bracketed = n >= 2 && host[0] == '[' && host[n - 1] == ']'; /* an IPv6 literal as URLs write it */
	/*
	 * By name, before any lookup: a literal loopback address, or localhost
	 * (curl answers it with loopback addresses itself). Not "localhost.":
	 * the trailing dot makes it a name the system's DNS resolves.
	 */
	if (strcasecmp(host, "localhost") == 0)
		return true;
	if (bracketed) {
		if (n - 2 >= sizeof inner)
			return false;
		memcpy(inner, host + 1, n - 2);
		inner[n - 2] = '\0';
		host = inner;
	}
	struct in_addr a4;
	struct in6_addr a6;
	if (!bracketed && inet_pton(AF_INET, host, &a4) == 1)
		return ntohl(a4.s_addr) >> 24 == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6) || (IN6_IS_ADDR_V4MAPPED(&a6) && a6.s6_addr[12] == 127);
	return false;
}

const char *dr_url_rule(const char *scheme, const char *host, const char *also_plain, bool *plain)
{
	*plain = false;
	if (!scheme || !host || !*host)
		return "not an http:// or https:// URL with a host";
	if (strcmp(scheme, "https") == 0)
		return NULL;
	if (strcmp(scheme, "http") != 0)
		return "only http:// and https:// URLs are supported";
	if (!dr_url_host_is_loopback(host) && !(also_plain && strcmp(host, also_plain) == 0))
		return dr_url_plain_refused;
	*plain = true;
	return NULL;
}

/* The host of the authority a[0..n): after the last '@', up to the port (an IPv6 literal keeps its brackets). */
static char *host_of(const char *a, size_t n)
{
	const char *at = NULL;
	for (size_t i = 0; i < n; i++)
		if (a[i] == '@')
			at = a + i;
	if (at) {
		n -= (size_t)(at + 1 - a);
		a = at + 1;
	}
	const char *close = n && a[0] == '[' ? memchr(a, ']', n) : NULL;
	size_t len = close ? (size_t)(close + 1 - a) : strcspn(a, ":") < n ? strcspn(a, ":") : n;
	char *h = malloc(len + 1);
	if (!h)
		abort();
	for (size_t i = 0; i < len; i++)
		h[i] = (char)tolower((unsigned char)a[i]);
	h[len] = '\0';
	return h;
}

const char *dr_url_refusal(const char *url)
{
	const char *sep = strstr(url, "://");
	size_t sn = sep ? (size_t)(sep - url) : 0;
	if (!sn || !isalpha((unsigned char)url[0]) || strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-") != sn)
		return NULL;
	char scheme[16];
	if (sn >= sizeof scheme)
		return "only http:// and https:// URLs are supported";
	for (size_t i = 0; i < sn; i++)
		scheme[i] = (char)tolower((unsigned char)url[i]);
	scheme[sn] = '\0';
	const char *auth = sep + 3;
	char *host = host_of(auth, strcspn(auth, "/?#"));
	bool plain;
	const char *why = dr_url_rule(scheme, host, NULL, &plain);
	free(host);
	return why;
}
