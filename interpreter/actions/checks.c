/*
 * actions/checks.c - the check.* actions: probes of the recovered service.
 *
 * Every check is a validation (DR_AF_VALIDATION): a dr.commit must be
 * preceded by one that covers its targets (DR405). Checks change nothing;
 * use foreach: to run one per VM with ${target.*} in the inputs. All of
 * them block (DR_AF_BLOCKING: a worker thread runs them): check.http in
 * check_http.c, check.tcp and check.dns in check_net.c, check.exec in
 * exec_proc.c. Their runtime rules are docs/checks.md.
 * TLS certificates are always verified: there is deliberately no option to
 * turn that off, and plain http:// goes to loopback addresses only.
 */
#include "actions/family.h"

#include <stddef.h>

/* --- check.http ------------------------------------------------------ */

static const char *const http_methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", NULL};
static const dr_type http_method = {.kind = DR_T_ENUM, .enum_values = http_methods};

static const dr_type http_status = {.kind = DR_T_INT, .flags = DR_TF_EXPR, .min = 100, .max = 599};
static const dr_type http_status_list = {.kind = DR_T_SEQ, .flags = DR_TF_NONEMPTY, .items = &http_status};
static const dr_type *const http_status_alts[] = {&http_status, &http_status_list, NULL};
static const dr_type http_statuses = {
	.kind = DR_T_ONEOF, .alts = http_status_alts, .doc = "A status code, or a list of them."};

static const dr_type json_value = {.kind = DR_T_ANY, .doc = "The expected value (compared as JSON)."};
static const dr_type json_expect = {
	.kind = DR_T_DICT,
	.flags = DR_TF_KEY_ANY,
	.items = &json_value,
	.doc = "JSON pointer (RFC 6901) -> expected value.",
};

static const dr_field http_expect_fields[] = {
	{"status", &http_statuses, false, "200",
	 "The status code(s) that count as success. Listing a 3xx turns redirects off: the redirect is the answer."},
	{"body", &dr_action_t_regex, false, NULL,
	 "A PCRE2 pattern the response body (its first 1 MiB, as UTF-8 text) must match somewhere; anchor with ^...$."},
	{"json", &json_expect, false, NULL,
	 "Values the JSON body must hold, by JSON pointer: {\"/status\": ok, \"/db/up\": true}."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type http_expect = {.kind = DR_T_MAP, .fields = http_expect_fields};

static const dr_field http_fields[] = {
	{"url", &dr_action_t_url, true, NULL,
	 "The URL to request: https:// (the certificate is always verified), or http:// to a loopback address only."},
	{"method", &http_method, false, "GET", "The HTTP method."},
	{"headers", &dr_action_t_headers, false, NULL, "Request headers (Name: value)."},
	{"body", &dr_action_t_text, false, NULL, "The request body."},
	{"expect", &http_expect, false, NULL, "What the response must look like (default: status 200)."},
	{"timeout", &dr_action_t_duration, false, "10s",
	 "Limit for the request, connection and redirects included; the attempt's deadline applies too."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type http_input = {.kind = DR_T_MAP, .fields = http_fields};

/* --- check.tcp ------------------------------------------------------- */

static const dr_type tcp_port = {.kind = DR_T_INT, .flags = DR_TF_EXPR, .min = 1, .max = 65535};

static const dr_field tcp_fields[] = {
	{"host", &dr_action_t_text_req, true, NULL, "Host name or address, e.g. `${target.recovery_ip}`."},
	{"port", &tcp_port, true, NULL, "The TCP port."},
	{"timeout", &dr_action_t_duration, false, "5s",
	 "Limit for the lookup and the connection together; the attempt's deadline applies too."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type tcp_input = {.kind = DR_T_MAP, .fields = tcp_fields};

/* --- check.dns ------------------------------------------------------- */

static const dr_type dns_addr_list = {.kind = DR_T_SEQ, .flags = DR_TF_NONEMPTY, .items = &dr_action_t_text_req};
static const dr_type *const dns_expect_alts[] = {&dr_action_t_text_req, &dns_addr_list, NULL};
static const dr_type dns_expect = {
	.kind = DR_T_ONEOF, .alts = dns_expect_alts, .doc = "An address, or a list of addresses."};

static const dr_field dns_fields[] = {
	{"name", &dr_action_t_text_req, true, NULL, "The name to resolve."},
	{"expect", &dns_expect, false, NULL,
	 "Address(es) the name must resolve to (any one of them suffices); default: it resolves at all."},
	{"timeout", &dr_action_t_duration, false, "5s", "Limit for the lookup; the attempt's deadline applies too."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type dns_input = {.kind = DR_T_MAP, .fields = dns_fields};

/* --- check.exec ------------------------------------------------------ */

static const dr_field check_exec_fields[] = {
	{"argv", &dr_action_t_argv, true, NULL, "The program and its arguments; run directly, never through a shell."},
	{"expect_exit", &dr_action_t_exit_codes, false, "0", "The exit status, or list of statuses, that counts as healthy."},
	{"timeout", &dr_action_t_duration, false, NULL, "Kill the probe after this long (default: the step's attempt_timeout)."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type check_exec_input = {.kind = DR_T_MAP, .fields = check_exec_fields};

/* --- check.ssh ------------------------------------------------------- */

static const dr_type max_output = {.kind = DR_T_INT, .flags = DR_TF_EXPR, .min = 1, .max = 1 << 20};

static const dr_field ssh_fields[] = {
	{"host", &dr_action_t_text_req, true, NULL, "Host name or address, e.g. `${target.recovery_ip}`."},
	{"port", &tcp_port, false, "22", "The SSH port."},
	{"user", &dr_action_t_text, false, NULL, "The user to log in as (default: ssh's, the local user's name)."},
	{"key", &dr_action_t_text, false, NULL,
	 "The private key file (relative paths from the runbook's folder; `~/` is the home folder). Only this key "
	 "is offered, never an agent's. Default: ssh's default keys."},
	{"known_hosts", &dr_action_t_text_req, true, NULL,
	 "How the host key is checked, always explicitly: a known_hosts file that must list the host's key "
	 "(relative paths from the runbook's folder), or `accept-new`: the key is accepted on first use and "
	 "recorded in the outputs (`host_key`)."},
	{"command", &dr_action_t_text, false, "exit 0", "The command the remote shell runs."},
	{"expect_exit", &dr_action_t_exit_codes, false, "0", "The exit status, or list of statuses, that counts as healthy."},
	{"stdout_match", &dr_action_t_regex, false, NULL, "A PCRE2 pattern the command's standard output must match."},
	{"connect_timeout", &dr_action_t_duration, false, "10s", "Limit for the connection (ssh's ConnectTimeout)."},
	{"timeout", &dr_action_t_duration, false, "30s",
	 "Limit for the whole check, login and command; the attempt's deadline applies too."},
	{"max_output", &max_output, false, "65536", "Bytes of standard output and of standard error kept."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type ssh_input = {.kind = DR_T_MAP, .fields = ssh_fields};

/* --- check.rdp ------------------------------------------------------- */

static const char *const rdp_protocols[] = {"rdp", "tls", "hybrid", "rdstls", "hybrid_ex", "rdsaad", NULL};
static const dr_type rdp_protocol = {.kind = DR_T_ENUM, .enum_values = rdp_protocols};
static const dr_type rdp_protocol_list = {.kind = DR_T_SEQ, .flags = DR_TF_NONEMPTY, .items = &rdp_protocol};

static const dr_field rdp_fields[] = {
	{"host", &dr_action_t_text_req, true, NULL, "Host name or address, e.g. `${target.recovery_ip}`."},
	{"port", &tcp_port, false, "3389", "The Remote Desktop port."},
	{"protocols", &rdp_protocol_list, false, "[tls, hybrid]",
	 "The security protocols offered; the server must select one of them (`rdp` is Standard RDP Security, "
	 "`hybrid` CredSSP, i.e. Network Level Authentication)."},
	{"timeout", &dr_action_t_duration, false, "5s",
	 "Limit for the lookup, the connection and the handshake; the attempt's deadline applies too."},
	{NULL, NULL, false, NULL, NULL},
};
static const dr_type rdp_input = {.kind = DR_T_MAP, .fields = rdp_fields};

/* --- the rows -------------------------------------------------------- */

const dr_action dr_actions_checks[] = {
	{
		.name = "check.http",
		.summary = "Request a URL and check the status, the body (regex) and JSON values.",
		.input = &http_input,
		.flags = DR_AF_VALIDATION | DR_AF_BLOCKING,
		.run = dr_action_check_http_run,
		.outputs_doc = "status (number); elapsed_ms (number); body (string): the first 4 KiB of the body as "
			       "text; matched (string or null): what `expect.body` matched.",
	},
	{
		.name = "check.tcp",
		.summary = "Open a TCP connection to host:port.",
		.input = &tcp_input,
		.flags = DR_AF_VALIDATION | DR_AF_BLOCKING,
		.run = dr_action_check_tcp_run,
		.outputs_doc = "host (string); port (number); address (string): the address that accepted the "
			       "connection; elapsed_ms (number): lookup and connection.",
	},
	{
		.name = "check.dns",
		.summary = "Resolve a name and optionally check the addresses it resolves to.",
		.input = &dns_input,
		.flags = DR_AF_VALIDATION | DR_AF_BLOCKING,
		.run = dr_action_check_dns_run,
		.outputs_doc = "name (string); addresses (list of string): each address once, in the resolver's order; "
			       "elapsed_ms (number).",
	},
	{
		.name = "check.exec",
		.summary = "Run a local probe program (no shell) and check its exit status.",
		.input = &check_exec_input,
		.flags = DR_AF_VALIDATION | DR_AF_BLOCKING,
		.run = dr_action_check_exec_run,
		.outputs_doc = "As `exec`'s: exit_code (number, or null after a signal); signal (string or null); stdout, "
			       "stderr (string, at most 1 MiB each); truncated (bool); duration_ms (number). An exit "
			       "status not in expect_exit fails the attempt as transient.",
	},
	{
		.name = "check.ssh",
		.summary = "Log in with the system's OpenSSH client, run a command, check its exit status and output.",
		.input = &ssh_input,
		.flags = DR_AF_VALIDATION | DR_AF_BLOCKING,
		.run = dr_action_check_ssh_run,
		.outputs_doc = "host (string); port (number); host_key_type, host_key_fingerprint (string): the key the "
			       "server presented (`SHA256:...`); host_key (string or null): with `known_hosts: accept-new`, "
			       "the key accepted; exit_status (number); stdout, stderr (string, at most max_output bytes "
			       "each, secrets redacted); truncated (bool); elapsed_ms (number).",
	},
	{
		.name = "check.rdp",
		.summary = "Open a Remote Desktop connection's handshake and check the security protocol selected.",
		.input = &rdp_input,
		.flags = DR_AF_VALIDATION | DR_AF_BLOCKING,
		.run = dr_action_check_rdp_run,
		.outputs_doc = "host (string); port (number); address (string); selected_protocol (string: rdp, tls, "
			       "hybrid, ...); flags (number): the negotiation response's; elapsed_ms (number).",
	},
	{.name = NULL},
};
