/*
 * text.h - small text utilities: "did you mean" suggestions, durations,
 * identifiers. Nothing here knows about runbooks.
 */
#ifndef DR_TEXT_H
#define DR_TEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Levenshtein distance between a and b, capped at cap+1 (cheap early exit). */
size_t dr_text_distance(const char *a, const char *b, size_t cap);

/*
 * The candidate closest to word, or NULL when none is close enough to be a
 * plausible typo (distance at most 1/3 of the word's length, at least 1; a
 * case-insensitive match always qualifies; a word over 256 bytes gets only
 * that). candidates is NULL-terminated.
 */
const char *dr_text_suggest(const char *word, const char *const *candidates);

/*
 * For many lookups in one long list (step ids): an index of candidates (a
 * NULL-terminated list, borrowed, which must outlive it) that answers exactly
 * as dr_text_suggest does, in O(word length) lookups when a candidate is
 * within distance 1. Heap-allocated; free with dr_suggest_index_free. A
 * built index is read-only: lookups may run in any thread.
 */
typedef struct dr_suggest_index dr_suggest_index;
dr_suggest_index *dr_suggest_index_new(const char *const *candidates);
const char *dr_suggest_index_best(const dr_suggest_index *ix, const char *word);
void dr_suggest_index_free(dr_suggest_index *ix);

/*
 * Parse a duration like "30s", "5m", "1h30m", "250ms", "2d" (units ms, s, m,
 * h, d; at least one; each unit at most once, largest first) into
 * milliseconds. Returns true on success; on failure *bad_at is the byte
 * offset of the first offending character.
 */
bool dr_text_parse_duration(const char *s, int64_t *out_ms, size_t *bad_at);

/*
 * Unix milliseconds as an RFC 3339 UTC time, "2026-01-01T00:00:00.000Z"
 * (always_ms false: without ".000" on a whole second) into out (at least
 * 25 bytes for the years 0 to 9999, which are written by hand: every event
 * and every job's times carry one; other years through snprintf).
 */
void dr_text_format_utc(int64_t unix_ms, bool always_ms, char *out, size_t outsz);

/*
 * Format milliseconds as the canonical duration text ("1h30m", "250ms",
 * "0s"), exact to the millisecond: what the language's parser reads back
 * (a duration in a diagnostic about the runbook, an expression's value).
 */
void dr_text_format_duration(int64_t ms, char *out, size_t outsz);

/*
 * A duration for people, the one form every duration drover shows a
 * person takes (the summary, the screen, the log, messages, reports, plan,
 * status): whole seconds from 10 s up, rounded to the nearest ("58m44s",
 * "1h2m"), the milliseconds below ("2s25ms", "250ms"); "0s" for 0 or less.
 */
void dr_text_human_duration(int64_t ms, char *out, size_t outsz);

/* True when s is a valid identifier: [a-z0-9][a-z0-9_-]*, at most 64 bytes. */
bool dr_text_is_ident(const char *s);

/* True when the n bytes at s are well-formed UTF-8; else *bad_at gets the offset. */
bool dr_text_valid_utf8(const char *s, size_t n, size_t *bad_at);

/*
 * The n bytes at data as valid UTF-8 text: each byte that does not start a
 * valid character, and each NUL, becomes U+FFFD. Never NULL; the caller
 * frees it.
 */
char *dr_text_clean_utf8(const char *data, size_t n);

/* The length of the longest prefix of the n bytes of UTF-8 at s that is at most max and ends on a character. */
size_t dr_text_utf8_prefix(const char *s, size_t n, size_t max);

/*
 * Text from runbooks, inventories, services or people, made safe to print
 * on a terminal: nothing in it can move the cursor, clear the screen,
 * retitle the window, start a new line or reorder what follows. Control
 * characters become visible escapes: \n, \r, \t, \e (ESC), \xNN (other C0,
 * DEL), \u{NNNN} (C1 controls such as CSI U+009B, and the bidirectional
 * overrides U+202A..U+202E, U+2066..U+2069); a byte that is not UTF-8
 * becomes \xNN. Everything else, a backslash too, is kept as it is.
 * DR_TEXT_KEEP_TAB keeps tabs (source lines in diagnostics);
 * DR_TEXT_KEEP_NEWLINE keeps line feeds (a text of several lines drover
 * composed, whose parts were escaped when they were put in).
 */
#define DR_TEXT_KEEP_TAB 1u
#define DR_TEXT_KEEP_NEWLINE 2u
struct dr_buf;
void dr_text_escape_term(struct dr_buf *out, const char *s, size_t n, unsigned flags);

/*
 * Append s to out as one POSIX shell word, for a command drover prints for
 * people to paste: as it is when it holds only characters no shell reads
 * specially, else in single quotes (a ' inside as '\''). Never fails.
 */
void dr_text_shell_word(struct dr_buf *out, const char *s);

/* dr_text_escape_term of the string s, as a new string (the caller frees it); NULL stays NULL. */
char *dr_text_term(const char *s);

/* True when dr_text_term would change s. */
bool dr_text_needs_escape(const char *s);

#endif
