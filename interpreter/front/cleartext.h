/*
 * cleartext.h - credentials written into a runbook as literal text.
 *
 * A runbook lives in git and is read in pull requests; only values under
 * secrets: are kept out of what drover prints and writes. The checker warns
 * (DR216) when a value that names itself a credential is written out: an
 * HTTP header or environment variable called Authorization, *TOKEN*,
 * *PASSWORD* and the like, a URL's user:password@, or a URL query parameter
 * such as ?token= or ?sig=. Nothing here knows the checker; pure functions.
 */
#ifndef DR_CLEARTEXT_H
#define DR_CLEARTEXT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Whether name (a header, environment variable or query parameter name,
 * any case) names a credential: Authorization, Cookie, or a name holding
 * token, secret, passw(ord), auth, apikey/api-key/api_key, access_key,
 * private_key, credential or signature; a query parameter also when it is
 * exactly key, sig or code (Azure Functions' key). Thread-safe, allocates
 * nothing.
 */
bool dr_cleartext_name(const char *name, bool query);

/*
 * Where a literal credential sits in url: returns true and sets *off and
 * *len to the bytes of the first one (the password of user:password@, or the
 * value of a credential query parameter); false when none, or when the value
 * holds ${...} (it comes from elsewhere). *name and *name_len give the query
 * parameter's name (NULL and 0 for a password). Thread-safe, allocates
 * nothing.
 */
bool dr_cleartext_in_url(const char *url, size_t *off, size_t *len, const char **name, size_t *name_len);

#endif
