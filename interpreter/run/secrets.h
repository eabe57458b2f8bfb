/*
 * secrets.h - a run's secrets (`secrets:`): read once, before any step
 * runs, and kept out of everything drover writes or prints.
 *
 * Loading. Each declared secret comes from an environment variable or a
 * file. A file must be a regular file, readable by its owner only (no
 * group or other permission bits), of at most DR_SECRET_MAX_BYTES, and not
 * empty; it is opened without following a link and without blocking (a
 * FIFO is refused, never waited on), and checked with fstat before a byte
 * is read. Trailing newlines are dropped. A missing variable, or a file
 * that breaks a rule, is an error before anything runs.
 *
 * Redaction. A value (at least DR_SECRET_MIN_BYTES long) is registered with
 * the forms it takes on the way out: base64 and base64url at each of the
 * three byte alignments (the part of the encoding that only the secret's
 * bytes decide, so it is found inside "user:password" encodings too),
 * percent-encoded (upper- and lower-case hex, and with '+' for a space) and
 * JSON-escaped. Redacting free text replaces every form by "***" (a text
 * that is exactly a secret's value by its reference, "${secrets.NAME}"). What is
 * redacted is free text only (messages, captured output, bodies, errors):
 * identifiers (step and VM names, states, record types, the service's ids)
 * are never touched, so nothing drover reads back can change meaning.
 *
 * A text that is cut (a capture of at most N bytes) is redacted whole
 * first, then cut, and a tail the cut leaves that could be the start of a
 * secret is dropped: dr_secrets_redact_cut. Whoever reads a capture reads
 * dr_secrets_slack more bytes than it keeps, so a secret that starts before
 * the cut is always whole when it is redacted.
 *
 * Thread safety: any thread may redact while another adds (a read-write
 * lock); values are copied in.
 */
#ifndef DR_SECRETS_H
#define DR_SECRETS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

struct dr_runbook;
struct dr_secret;

#define DR_SECRET_MIN_BYTES 4 /* shorter values are not redacted (they would blank out ordinary words) */
#define DR_SECRET_MAX_BYTES 65536 /* a secret file's size limit */

typedef struct dr_secrets dr_secrets;

dr_secrets *dr_secrets_new(void);
void dr_secrets_free(dr_secrets *s);

/*
 * Read one declared secret: from its environment variable, or from its file
 * (relative to dir). Returns the value (heap, the caller frees it), or NULL
 * with one sentence in err naming the secret, the source and what is wrong
 * with it ("secrets.db: '/run/db.pw' can be read by other users (mode
 * 0644): make it owner-only (chmod 600)").
 */
char *dr_secrets_read(const struct dr_secret *sec, const char *dir, dr_buf *err);

/* dr_secrets_read with files relative to the folder of rb's file (for readers outside a run: a backend's options). */
char *dr_secrets_read_runbook(const struct dr_runbook *rb, const struct dr_secret *sec, dr_buf *err);

/*
 * Register value (and its encoded forms) for redaction; name (may be NULL)
 * is the secret's, so a text that is the value and nothing else (an input
 * a step passed on, echoed in its outputs) reads as the reference
 * "${secrets.NAME}" rather than "***". Shorter than DR_SECRET_MIN_BYTES:
 * ignored.
 */
void dr_secrets_add(dr_secrets *s, const char *name, const char *value);

/* True when no value is registered (redaction is then a copy). */
bool dr_secrets_none(dr_secrets *s);

/* text with every form of every value replaced by "***"; NULL when it holds none (nothing to replace). */
char *dr_secrets_redact(dr_secrets *s, const char *text);

/*
 * The first len bytes of text, redacted, cut to at most max bytes (on a
 * UTF-8 boundary) with any tail that could begin a secret's form dropped.
 * Returns a heap string (never NULL); *cut says whether anything was cut.
 */
char *dr_secrets_redact_cut(dr_secrets *s, const char *text, size_t len, size_t max, bool *cut);

/*
 * A heap copy of text with every secret of rb that can be read (files
 * relative to rb's folder) redacted, for a command that prints a backend's
 * refusal without running (drover plan: ARM echoes a vault's name). A
 * secret that cannot be read is passed over: a run refuses it. Never NULL.
 */
char *dr_secrets_redact_runbook(const struct dr_runbook *rb, const char *text);

/* How many bytes past a cut a reader must read so a secret starting before it is whole: the longest form. */
size_t dr_secrets_slack(dr_secrets *s);

#endif
