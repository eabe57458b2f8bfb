/*
 * front/cleartext.c - credentials written into a runbook as literal text
 * (cleartext.h). The checker (check.c) calls these for the values of
 * header and environment maps and for URLs; it says where and why.
 */
#include "front/cleartext.h"

#include <string.h>
#include <strings.h>

static bool holds(const char *name, size_t n, const char *part)
{
	size_t k = strlen(part);
	for (size_t i = 0; i + k <= n; i++)
		if (strncasecmp(name + i, part, k) == 0)
			return true;
	return false;
}

static bool is(const char *name, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(name, word, n) == 0;
}

static bool credential_name(const char *name, size_t n, bool query)
{
	static const char *const parts[] = {"token",   "secret",     "passw",	   "auth",	     "apikey", "api-key",
					    "api_key", "access_key", "private_key", "credential", "signature", "cookie"};
	for (size_t i = 0; i < sizeof parts / sizeof *parts; i++)
		if (holds(name, n, parts[i]))
			return true;
	return query && (is(name, n, "key") || is(name, n, "sig") || is(name, n, "code"));
}

bool dr_cleartext_name(const char *name, bool query)
{
	return name && credential_name(name, strlen(name), query);
}

static bool literal(const char *s, size_t n)
{
	return n > 0 && !memchr(s, '$', n);
}

/* user:password@ in the authority: the password's bytes. */
static bool password(const char *url, size_t *off, size_t *len)
{
	const char *sep = strstr(url, "://");
	if (!sep)
		return false;
	const char *auth = sep + 3;
	size_t n = strcspn(auth, "/?#");
	const char *at = memchr(auth, '@', n), *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	if (!colon || !literal(colon + 1, (size_t)(at - colon - 1)))
		return false;
	*off = (size_t)(colon + 1 - url);
	*len = (size_t)(at - colon - 1);
	return true;
}

/* The first query parameter NAME=VALUE whose name is a credential's and whose value is literal. */
static bool query_param(const char *url, size_t *off, size_t *len, const char **name, size_t *name_len)
{
	const char *q = strchr(url, '?');
	if (!q)
		return false;
	size_t end = strcspn(q + 1, "#");
	for (const char *p = q + 1, *stop = q + 1 + end; p < stop;) {
		size_t n = strcspn(p, "&#");
		if (p + n > stop)
			n = (size_t)(stop - p);
		const char *eq = memchr(p, '=', n);
		if (eq && credential_name(p, (size_t)(eq - p), true) && literal(eq + 1, (size_t)(p + n - eq - 1))) {
			*name = p;
			*name_len = (size_t)(eq - p);
			*off = (size_t)(eq + 1 - url);
			*len = (size_t)(p + n - eq - 1);
			return true;
		}
		p += n + 1;
	}
	return false;
}

bool dr_cleartext_in_url(const char *url, size_t *off, size_t *len, const char **name, size_t *name_len)
{
	*name = NULL;
	*name_len = 0;
	if (!url)
		return false;
	return password(url, off, len) || query_param(url, off, len, name, name_len);
}
