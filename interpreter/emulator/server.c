/*
 * emulator/server.c - the emulator's HTTP server over libmicrohttpd: the
 * only file that includes <microhttpd.h>.
 *
 * A thread per connection (so a slow answer or a fault's delay holds only
 * its own connection); each request's headers, query arguments and body are
 * collected into an emu_req, handed to dr_emu_handle, and its emu_resp is
 * sent, or the connection is reset (SO_LINGER 0, then closed) when a fault
 * says so. Bodies are capped at EMU_MAX_BODY (413 beyond). Listening is on
 * loopback only: the emulator speaks plain HTTP.
 */
#include "emulator/emu_int.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include "util/xalloc.h"

/* One request in progress. */
typedef struct conn_ctx {
	dr_arena *a;
	dr_buf body;
	bool too_big;
	const char **qk, **qv;
	size_t nq, capq;
	struct MHD_PostProcessor *pp; /* for form bodies */
	const char **fk, **fv;
	size_t nf, capf;
} conn_ctx;

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static enum MHD_Result add_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
	conn_ctx *x = cls;
	(void)kind;
	if (x->nq == x->capq) {
		size_t cap = x->capq ? x->capq * 2 : 8;
		x->qk = dr_arena_grow(x->a, x->qk, x->capq, cap, sizeof *x->qk);
		x->qv = dr_arena_grow(x->a, x->qv, x->capq, cap, sizeof *x->qv);
		x->capq = cap;
	}
	x->qk[x->nq] = dr_arena_strdup(x->a, key);
	x->qv[x->nq++] = dr_arena_strdup(x->a, value ? value : "");
	return MHD_YES;
}

static enum MHD_Result add_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
				 const char *content_type, const char *encoding, const char *data, uint64_t off,
				 size_t size)
{
	conn_ctx *x = cls;
	(void)kind, (void)filename, (void)content_type, (void)encoding;
	if (off > 0 && x->nf > 0 && strcmp(x->fk[x->nf - 1], key) == 0) { /* a value in pieces */
		x->fv[x->nf - 1] = dr_arena_printf(x->a, "%s%.*s", x->fv[x->nf - 1], (int)size, data);
		return MHD_YES;
	}
	if (x->nf == x->capf) {
		size_t cap = x->capf ? x->capf * 2 : 8;
		x->fk = dr_arena_grow(x->a, x->fk, x->capf, cap, sizeof *x->fk);
		x->fv = dr_arena_grow(x->a, x->fv, x->capf, cap, sizeof *x->fv);
		x->capf = cap;
	}
	x->fk[x->nf] = dr_arena_strdup(x->a, key);
	x->fv[x->nf++] = dr_arena_strndup(x->a, data ? data : "", size);
	return MHD_YES;
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
	return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

static void build_req(struct MHD_Connection *conn, conn_ctx *x, const char *method, const char *url, emu_req *rq)
{
	memset(rq, 0, sizeof *rq);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, add_arg, x);
	rq->method = method;
	rq->path = url;
	rq->qk = x->qk;
	rq->qv = x->qv;
	rq->n_query = x->nq;
	rq->fk = x->fk;
	rq->fv = x->fv;
	rq->n_form = x->nf;
	rq->authorization = header(conn, "Authorization");
	rq->client_request_id = header(conn, "x-ms-client-request-id");
	rq->metadata = header(conn, "Metadata");
	rq->content_type = header(conn, "Content-Type");
	rq->body = x->body.len ? x->body.data : NULL;
	rq->body_len = x->body.len;
	rq->body_too_big = x->too_big;
	rq->now_ms = wall_ms();
	rq->a = x->a;
}

/* A reset as a client sees one: RST instead of FIN. */
static void reset_connection(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	struct linger lg = {.l_onoff = 1, .l_linger = 0};
	if (ci)
		setsockopt(ci->connect_fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
}

static void sleep_ms(int64_t ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static enum MHD_Result send_resp(struct MHD_Connection *conn, emu_resp *rs)
{
	struct MHD_Response *r =
		MHD_create_response_from_buffer(rs->body.len, rs->body.data, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	bool typed = false; /* a fault's body says its own Content-Type */
	for (size_t i = 0; i < rs->n_headers; i++) {
		MHD_add_response_header(r, rs->hk[i], rs->hv[i]);
		typed |= strcasecmp(rs->hk[i], "Content-Type") == 0;
	}
	if (rs->body.len && !typed)
		MHD_add_response_header(r, "Content-Type", "application/json; charset=utf-8");
	enum MHD_Result ok = MHD_queue_response(conn, (unsigned)rs->status, r);
	MHD_destroy_response(r);
	return ok;
}

static enum MHD_Result answer(dr_emu *e, struct MHD_Connection *conn, conn_ctx *x, const char *method,
			      const char *url)
{
	emu_req rq;
	emu_resp rs;
	memset(&rs, 0, sizeof rs);
	dr_buf_init(&rs.body);
	build_req(conn, x, method, url, &rq);
	dr_emu_handle(e, &rq, &rs);
	if (rs.delay_ms > 0)
		sleep_ms(rs.delay_ms);
	enum MHD_Result ok = MHD_NO;
	if (rs.reset)
		reset_connection(conn);
	else
		ok = send_resp(conn, &rs);
	dr_buf_dispose(&rs.body);
	return ok;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
				  const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	(void)version;
	conn_ctx *x = *con_cls;
	if (!x) {
		x = xcalloc(1, sizeof *x);
		x->a = dr_arena_new();
		dr_buf_init(&x->body);
		*con_cls = x;
		const char *ct = header(conn, "Content-Type");
		if (ct && strncasecmp(ct, MHD_HTTP_POST_ENCODING_FORM_URLENCODED,
				      strlen(MHD_HTTP_POST_ENCODING_FORM_URLENCODED)) == 0)
			x->pp = MHD_create_post_processor(conn, 16384, add_field, x);
		return MHD_YES;
	}
	if (*upload_size) {
		if (x->body.len + *upload_size > EMU_MAX_BODY)
			x->too_big = true;
		else
			dr_buf_append(&x->body, upload, *upload_size);
		if (x->pp && !x->too_big)
			MHD_post_process(x->pp, upload, *upload_size);
		*upload_size = 0;
		return MHD_YES;
	}
	return answer(cls, conn, x, method, url);
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	(void)cls, (void)conn, (void)toe;
	conn_ctx *x = *con_cls;
	if (!x)
		return;
	if (x->pp)
		MHD_destroy_post_processor(x->pp);
	dr_buf_dispose(&x->body);
	dr_arena_free(x->a);
	free(x);
	*con_cls = NULL;
}

/* "127.0.0.1:8080" into a loopback address; -1 with why. */
static int parse_listen(const char *listen, struct sockaddr_in *sin, char *err, size_t errsz)
{
	char host[64];
	const char *colon = strrchr(listen, ':');
	char *end;
	if (!colon || (size_t)(colon - listen) >= sizeof host) {
		snprintf(err, errsz, "--listen '%s': expected HOST:PORT, e.g. 127.0.0.1:0", listen);
		return -1;
	}
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	long port = strtol(colon + 1, &end, 10);
	memset(sin, 0, sizeof *sin);
	sin->sin_family = AF_INET;
	if (!*(colon + 1) || *end || port < 0 || port > 65535) {
		snprintf(err, errsz, "--listen '%s': the port must be 0-65535", listen);
		return -1;
	}
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1 || (ntohl(sin->sin_addr.s_addr) >> 24) != 127) {
		snprintf(err, errsz,
			 "--listen '%s': the emulator speaks plain HTTP and listens on loopback only "
			 "(127.0.0.0/8 or localhost)",
			 listen);
		return -1;
	}
	sin->sin_port = htons((uint16_t)port);
	return 0;
}

int dr_emu_start(dr_emu *e, char *url, size_t urlsz, char *err, size_t errsz)
{
	struct sockaddr_in sin;
	if (parse_listen(e->o.listen ? e->o.listen : "127.0.0.1:0", &sin, err, errsz) < 0)
		return -1;
	struct MHD_Daemon *d = MHD_start_daemon(
		MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, on_request, e,
		MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin, MHD_OPTION_NOTIFY_COMPLETED, on_done, e,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120, MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000,
		MHD_OPTION_END);
	if (!d) {
		snprintf(err, errsz, "cannot listen on %s (the port may be in use)", e->o.listen);
		return -1;
	}
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
	char host[INET_ADDRSTRLEN];
	inet_ntop(AF_INET, &sin.sin_addr, host, sizeof host);
	snprintf(e->base_url, sizeof e->base_url, "http://%s:%u", host, di ? (unsigned)di->port : 0u);
	snprintf(url, urlsz, "%s", e->base_url);
	e->daemon = d;
	return 0;
}

void dr_emu_stop(dr_emu *e)
{
	if (!e || !e->daemon)
		return;
	MHD_stop_daemon(e->daemon);
	e->daemon = NULL;
}
