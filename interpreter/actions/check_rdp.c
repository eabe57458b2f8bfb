/*
 * actions/check_rdp.c - check.rdp: a Windows VM's Remote Desktop service
 * answers its protocol's handshake, not just an open port.
 *
 * The check connects (as check.tcp does, dr_net_connect), sends the X.224
 * Connection Request that opens every RDP connection, with an RDP
 * Negotiation Request of the security protocols in with.protocols
 * ([MS-RDPBCGR] 2.2.1.1), and reads the X.224 Connection Confirm
 * (2.2.1.2): its RDP Negotiation Response names the protocol the server
 * selected; an RDP Negotiation Failure says why it selected none. Then it
 * closes the connection; nothing is authenticated.
 *
 * Classes: no connection, a connection closed or reset before the
 * confirm, and no answer within with.timeout are TRANSIENT (the VM and its
 * Remote Desktop service are starting), so a plain `retry:` waits; an
 * answer that is not RDP, a negotiation failure, or a protocol that was not
 * asked for are PERMANENT (the service is up and answered: retrying will
 * not change its configuration); the attempt's deadline gives TIMEOUT.
 */
#include "actions/family.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "actions/net.h"
#include "run/eval.h"
#include "util/buf.h"
#include "util/xalloc.h"

enum {
	TICK_MS = 50,
	DEFAULT_PORT = 3389,
	DEFAULT_TIMEOUT_MS = 5000, /* as in checks.c's schema */
	CR_LEN = 19, /* TPKT 4 + X.224 CR 7 + RDP_NEG_REQ 8 */
	CC_MAX = 512, /* a confirm is 11 or 19 bytes; anything longer is not read */
	TYPE_RDP_NEG_RSP = 0x02,
	TYPE_RDP_NEG_FAILURE = 0x03,
	X224_CONNECTION_CONFIRM = 0xD0,
};

/* The security protocols by name ([MS-RDPBCGR] 2.2.1.1.1); rdp is "none of the others". */
static const struct proto {
	const char *name;
	uint32_t bit;
	const char *doc;
} protos[] = {
	{"rdp", 0x0, "Standard RDP Security"}, {"tls", 0x1, "TLS"}, {"hybrid", 0x2, "CredSSP (NLA)"},
	{"rdstls", 0x4, "RDSTLS"}, {"hybrid_ex", 0x8, "CredSSP with Early User Authorization"},
	{"rdsaad", 0x10, "RDS AAD authentication"},
};
#define N_PROTOS (sizeof protos / sizeof protos[0])

/* The failure codes of an RDP Negotiation Failure (2.2.1.2.2), and what they mean for an operator. */
static const char *const failures[] = {
	[1] = "SSL_REQUIRED_BY_SERVER: the server requires TLS or CredSSP",
	[2] = "SSL_NOT_ALLOWED_BY_SERVER: the server allows only Standard RDP Security",
	[3] = "SSL_CERT_NOT_ON_SERVER: the server has no certificate for TLS",
	[4] = "INCONSISTENT_FLAGS: the requested protocols contradict the one in effect",
	[5] = "HYBRID_REQUIRED_BY_SERVER: the server requires CredSSP (Network Level Authentication)",
	[6] = "SSL_WITH_USER_AUTH_REQUIRED_BY_SERVER: the server requires TLS with user authentication",
};

typedef struct rdp_spec {
	char *host, *what;
	char port[8];
	uint32_t requested;
	bool allowed[N_PROTOS];
	dr_net_limit limit;
	char *err;
} rdp_spec;

static int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---------------------------------------------------------------- inputs */

static bool bad(rdp_spec *s, const char *msg)
{
	if (!s->err)
		s->err = xstrdup(msg);
	return false;
}

static bool decode_port(rdp_spec *s, const cJSON *v)
{
	double d = DEFAULT_PORT;
	char *end = NULL;
	if (cJSON_IsNumber(v))
		d = v->valuedouble;
	else if (cJSON_IsString(v))
		d = *v->valuestring ? strtod(v->valuestring, &end) : -1;
	else if (v)
		d = -1;
	if ((end && *end) || d < 1 || d > 65535 || d != (int)d)
		return bad(s, "with.port: a port number from 1 to 65535 is required");
	snprintf(s->port, sizeof s->port, "%d", (int)d);
	return true;
}

static bool add_proto(rdp_spec *s, const char *name)
{
	for (size_t i = 0; name && i < N_PROTOS; i++)
		if (strcmp(name, protos[i].name) == 0) {
			s->requested |= protos[i].bit;
			s->allowed[i] = true;
			return true;
		}
	return bad(s, "with.protocols: each is one of rdp, tls, hybrid, rdstls, hybrid_ex, rdsaad");
}

static bool decode_protocols(rdp_spec *s, const cJSON *v)
{
	if (!v)
		return add_proto(s, "tls") && add_proto(s, "hybrid"); /* what Windows' own client asks for */
	if (!cJSON_IsArray(v) || !v->child)
		return bad(s, "with.protocols: a non-empty list of security protocols is required");
	for (const cJSON *it = v->child; it; it = it->next)
		if (!add_proto(s, cJSON_GetStringValue(it)))
			return false;
	return true;
}

static bool decode(rdp_spec *s, const dr_call *call)
{
	const cJSON *w = call->with, *host = cJSON_GetObjectItemCaseSensitive(w, "host");
	if (!(cJSON_IsString(host) || cJSON_IsNumber(host)) || !*(s->host = dr_eval_to_text(host)))
		return bad(s, "with.host: a host name or address (a non-empty string) is required");
	if (!decode_port(s, cJSON_GetObjectItemCaseSensitive(w, "port")) ||
	    !decode_protocols(s, cJSON_GetObjectItemCaseSensitive(w, "protocols")))
		return false;
	char *err = NULL;
	if (!dr_net_limit_get(call, cJSON_GetObjectItemCaseSensitive(w, "timeout"), "timeout", DEFAULT_TIMEOUT_MS,
			      &s->limit, &err)) {
		s->err = err;
		return false;
	}
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, strchr(s->host, ':') ? "[%s]:%s" : "%s:%s", s->host, s->port);
	s->what = dr_buf_detach(&b);
	return true;
}

/* ------------------------------------------------------------- the wire */

/* The X.224 Connection Request with an RDP Negotiation Request (2.2.1.1). */
static void connection_request(unsigned char *p, uint32_t requested)
{
	static const unsigned char head[11] = {
		0x03, 0x00, 0x00, CR_LEN, /* TPKT: version 3, length */
		CR_LEN - 5, 0xE0, 0x00, 0x00, 0x00, 0x00, 0x00, /* X.224: LI, CR, DST-REF, SRC-REF, class 0 */
	};
	memcpy(p, head, sizeof head);
	p[11] = 0x01; /* TYPE_RDP_NEG_REQ */
	p[12] = 0x00; /* flags */
	p[13] = 0x08; /* length, little-endian */
	p[14] = 0x00;
	for (int i = 0; i < 4; i++)
		p[15 + i] = (unsigned char)(requested >> (8 * i));
}

typedef enum io_status { IO_OK, IO_EOF, IO_ERROR, IO_TIMEOUT, IO_CANCELLED } io_status;

/* Wait until fd is ready for events, by end; IO_OK or why not. */
static io_status wait_fd(int fd, short events, int64_t end, const dr_call *call)
{
	for (;;) {
		if (dr_net_cancelled(call))
			return IO_CANCELLED;
		int64_t left = end - mono_ms();
		if (left <= 0)
			return IO_TIMEOUT;
		struct pollfd p = {.fd = fd, .events = events};
		int n = poll(&p, 1, (int)(left < TICK_MS ? left : TICK_MS));
		if (n > 0)
			return IO_OK;
		if (n < 0 && errno != EINTR)
			return IO_ERROR;
	}
}

static io_status send_all(int fd, const unsigned char *p, size_t n, int64_t end, const dr_call *call)
{
	while (n) {
		io_status st = wait_fd(fd, POLLOUT, end, call);
		if (st != IO_OK)
			return st;
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
		if (k < 0 && errno != EAGAIN && errno != EINTR)
			return IO_ERROR;
		if (k > 0) {
			p += k;
			n -= (size_t)k;
		}
	}
	return IO_OK;
}

/* Read exactly n bytes into p by end. */
static io_status recv_all(int fd, unsigned char *p, size_t n, int64_t end, const dr_call *call)
{
	while (n) {
		io_status st = wait_fd(fd, POLLIN, end, call);
		if (st != IO_OK)
			return st;
		ssize_t k = recv(fd, p, n, 0);
		if (k == 0)
			return IO_EOF;
		if (k < 0 && errno != EAGAIN && errno != EINTR)
			return IO_ERROR;
		if (k > 0) {
			p += k;
			n -= (size_t)k;
		}
	}
	return IO_OK;
}

/* The TPKT packet of the answer: its length in *len (at most CC_MAX bytes are kept). */
static io_status read_answer(int fd, unsigned char *p, size_t *len, int64_t end, const dr_call *call)
{
	io_status st = recv_all(fd, p, 4, end, call);
	if (st != IO_OK)
		return st;
	*len = 4;
	if (p[0] != 0x03)
		return IO_OK; /* not TPKT: judged by the caller */
	size_t total = (size_t)p[2] << 8 | p[3];
	if (total < 4 || total > CC_MAX)
		return IO_OK;
	st = recv_all(fd, p + 4, total - 4, end, call);
	if (st == IO_OK)
		*len = total;
	return st;
}

/* ------------------------------------------------------------- judgement */

static const struct proto *proto_of(uint32_t bit)
{
	for (size_t i = 0; i < N_PROTOS; i++)
		if (protos[i].bit == bit)
			return &protos[i];
	return NULL;
}

static dr_outcome io_failed(const rdp_spec *s, io_status st, int e)
{
	char limit[64];
	dr_net_limit_text(&s->limit, limit, sizeof limit);
	if (st == IO_ERROR && (e == ECONNRESET || e == EPIPE))
		st = IO_EOF; /* a reset is a close */
	switch (st) {
	case IO_CANCELLED: return dr_outcome_fail(DR_ERRC_CANCELLED, "%s: cancelled during the RDP handshake", s->what);
	case IO_TIMEOUT:
		return dr_outcome_fail(dr_net_limit_class(&s->limit), "%s: no RDP connection confirm within %s", s->what,
				       limit);
	case IO_EOF:
		return dr_outcome_fail(DR_ERRC_TRANSIENT,
				       "%s: the connection was closed before the RDP connection confirm (the Remote "
				       "Desktop service may still be starting)",
				       s->what);
	default:
		return dr_outcome_fail(DR_ERRC_TRANSIENT, "%s: the RDP handshake failed: %s", s->what, strerror(e));
	}
}

static dr_outcome not_rdp(const rdp_spec *s, const unsigned char *p, size_t n)
{
	dr_buf b;
	dr_buf_init(&b);
	dr_buf_printf(&b, "%s: the answer is not an RDP connection confirm (first bytes:", s->what);
	for (size_t i = 0; i < n && i < 8; i++)
		dr_buf_printf(&b, " %02x", p[i]);
	dr_buf_puts(&b, "); is another service on this port?");
	dr_outcome o = dr_outcome_fail(DR_ERRC_PERMANENT, "%s", b.data);
	dr_buf_dispose(&b);
	return o;
}

static uint32_t le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static cJSON *outputs(const rdp_spec *s, const char *address, const struct proto *pr, int flags, int64_t ms)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "host", s->host);
	cJSON_AddNumberToObject(o, "port", atoi(s->port));
	cJSON_AddStringToObject(o, "address", address);
	cJSON_AddStringToObject(o, "selected_protocol", pr->name);
	cJSON_AddNumberToObject(o, "flags", flags);
	cJSON_AddNumberToObject(o, "elapsed_ms", (double)ms);
	return o;
}

/* The Connection Confirm in p[0..n): the selected protocol, a failure, or not RDP at all. */
static dr_outcome judge(const rdp_spec *s, const unsigned char *p, size_t n, const char *address, int64_t ms)
{
	if (n < 11 || p[0] != 0x03 || (size_t)(p[2] << 8 | p[3]) != n || p[4] + 5u > n ||
	    (p[5] & 0xF0) != X224_CONNECTION_CONFIRM)
		return not_rdp(s, p, n);
	uint32_t selected = 0;
	int flags = 0;
	if (n >= 19 && p[11] == TYPE_RDP_NEG_FAILURE) {
		uint32_t code = le32(p + 15);
		const char *why = code < sizeof failures / sizeof failures[0] && failures[code] ? failures[code] : NULL;
		return dr_outcome_fail(DR_ERRC_PERMANENT, "%s: the server refused every requested security protocol: %s%s",
				       s->what, why ? why : "failure code ", why ? "" : "unknown");
	}
	if (n >= 19 && p[11] == TYPE_RDP_NEG_RSP) {
		selected = le32(p + 15);
		flags = p[12];
	} else if (n != 11) {
		return not_rdp(s, p, n);
	}
	const struct proto *pr = proto_of(selected);
	if (!pr || !s->allowed[pr - protos])
		return dr_outcome_fail(DR_ERRC_PERMANENT,
				       "%s: the server selected %s (0x%x), which was not requested (with.protocols)", s->what,
				       pr ? pr->doc : "an unknown security protocol", (unsigned)selected);
	return dr_outcome_ok(outputs(s, address, pr, flags, ms));
}

static dr_outcome handshake(const rdp_spec *s, const dr_call *call)
{
	int64_t start = mono_ms(), end = start + s->limit.ms;
	char address[INET6_ADDRSTRLEN + 1];
	int fd = -1;
	dr_outcome fail;
	if (!dr_net_connect(call, s->host, s->port, s->what, &s->limit, end, &fd, address, sizeof address, &fail))
		return fail;
	unsigned char req[CR_LEN], ans[CC_MAX];
	size_t n = 0;
	connection_request(req, s->requested);
	io_status st = send_all(fd, req, sizeof req, end, call);
	if (st == IO_OK)
		st = read_answer(fd, ans, &n, end, call);
	int e = errno;
	close(fd);
	if (st != IO_OK)
		return io_failed(s, st, e);
	return judge(s, ans, n, address, mono_ms() - start);
}

/*
 * Connect to with.host:with.port, send an X.224 Connection Request with an
 * RDP Negotiation Request of with.protocols, and expect a Connection
 * Confirm selecting one of them. OK with outputs {host, port, address,
 * selected_protocol, flags (the response's), elapsed_ms}. Blocks; never
 * returns WAIT.
 */
dr_outcome dr_action_check_rdp_run(dr_call *call)
{
	rdp_spec s = {0};
	dr_outcome o;
	if (dr_net_cancelled(call))
		return dr_outcome_fail(DR_ERRC_CANCELLED, "cancelled before connecting");
	if (!decode(&s, call))
		o = dr_outcome_fail(DR_ERRC_PERMANENT, "%s", s.err);
	else if (s.limit.ms <= 0)
		o = dr_outcome_fail(DR_ERRC_TIMEOUT, "%s: not tried: no time left before the attempt's deadline", s.what);
	else
		o = handshake(&s, call);
	free(s.host);
	free(s.what);
	free(s.err);
	return o;
}
