/*
 * actions/family.h - private to interpreter/actions/: how the family files
 * (core.c, dr.c, checks.c, notify.c) hand their rows to table.c, and the
 * input types they share.
 *
 * Each family exports one array of rows ending with a row whose name is
 * NULL. table.c concatenates the families in a fixed order (core, dr,
 * checks, notify); nothing outside actions/ includes this header.
 */
#ifndef DR_ACTIONS_FAMILY_H
#define DR_ACTIONS_FAMILY_H

#include "actions/action.h"

extern const dr_action dr_actions_core[];
extern const dr_action dr_actions_dr[];
extern const dr_action dr_actions_checks[];
extern const dr_action dr_actions_notify[];

/* Input types more than one family uses (defined in table.c). */
extern const dr_type dr_action_t_text; /* a string, may be ${...} */
extern const dr_type dr_action_t_text_req; /* a non-empty string, may be ${...} */
extern const dr_type dr_action_t_duration; /* "30s", or ${...} */
extern const dr_type dr_action_t_bool; /* true/false, or ${...} */
extern const dr_type dr_action_t_regex; /* a PCRE2 pattern, compiled at check time */
extern const dr_type dr_action_t_argv; /* a non-empty list of strings, each may be ${...} */
extern const dr_type dr_action_t_env; /* NAME: value, free keys, values may be ${...} */
extern const dr_type dr_action_t_headers; /* HTTP headers, free keys, values may be ${...} */
extern const dr_type dr_action_t_exit_codes; /* 0, or [0, 3] */
extern const dr_type dr_action_t_url; /* an http(s) URL, may be ${...} */

#endif
