/*
 * actions/notify.c - the notify.* actions: telling people what happens.
 *
 * A notification changes nothing in the protected service, so it carries no
 * planner flags but DR_AF_BLOCKING (a worker thread sends it: run() in
 * notify_webhook.c); put it under finally: to send it on every path.
 */
#include "actions/family.h"

#include <stddef.h>

static const dr_field webhook_fields[] = {
	{"url", &dr_action_t_url, true, NULL,
	 "Where to POST, usually `${secrets.NAME}` (Slack, Teams and most chat tools accept this form): https://, "
	 "or http:// to a loopback address only. Messages name its host only."},
	{"text", &dr_action_t_text_req, true, NULL,
	 "The message; sent as the JSON body {\"text\": ...}."},
	{"headers", &dr_action_t_headers, false, NULL, "Extra request headers (Name: value)."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type webhook_input = {.kind = DR_T_MAP, .fields = webhook_fields};

const dr_action dr_actions_notify[] = {
	{
		.name = "notify.webhook",
		.summary = "POST a JSON message {\"text\": ...} to a webhook (TLS always verified).",
		.input = &webhook_input,
		.flags = DR_AF_BLOCKING,
		.run = dr_action_notify_webhook_run,
		.outputs_doc = "status (number): the HTTP status (2xx); elapsed_ms (number).",
	},
	{.name = NULL},
};
