/*
 * server.c - the HTTP side of berthd: h2o on the daemon's libuv loop.
 *
 * Listeners: unix:///path (mode 0660, --group), tcp://host:port (TLS through
 * h2o's accept context; mutual TLS with --tlsverify) and fd:// (systemd socket
 * activation). Every request goes to one h2o handler that wraps it in a
 * transport-neutral berth_api_req and dispatches it (engine/api/request.c).
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <h2o.h>
#include <h2o/http1.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/internal.h"
#include "api/websocket.h"
#include "engine.h"

/* Bodies above this are refused with 413; uploads (load, build) need more
 * than h2o's 1 GiB default only with streaming, which is measured first. */
#define BERTH_MAX_BODY ((size_t)1 << 30)
/* A client that does not read its stream is dropped past this much backlog. */
#define BERTH_MAX_STREAM_BACKLOG ((size_t)64 << 20)

typedef struct listener {
	union {
		uv_handle_t handle;
		uv_stream_t stream;
		uv_pipe_t pipe;
		uv_tcp_t tcp;
	} u;
	h2o_accept_ctx_t accept_ctx;
	berth_server *server;
	char *unix_path;        /* to unlink at stop */
	bool is_pipe;
} listener;

struct berth_server {
	berth_daemon *daemon;
	h2o_globalconf_t config;
	h2o_context_t ctx;
	listener **listeners;
	size_t nlisteners;
	SSL_CTX *ssl_ctx;
	struct conn_handle *conns;  /* open connections */
	struct h2o_stream *streams; /* open streamed responses */
	bool stopped;
	bool disposed;
};

/* h2o keeps its handler's state in the handler object it allocates. */
typedef struct berth_handler {
	h2o_handler_t super;
	berth_server *server;
} berth_handler;

typedef struct berth_api_deferred {
	uv_work_t work;
	berth_daemon *daemon;
	berth_api_hold *hold;
	berth_api_work_fn work_fn;
	berth_api_done_fn done_fn;
	void *userdata;
	berth_error *work_err;
	int rc;
} berth_api_deferred;

typedef struct h2o_stream {
	h2o_generator_t generator;
	berth_api_stream *stream;
	bool final_sent;
	bool chunked;               /* we frame the chunks, not h2o's filter */
	char chunk_head[24];
	berth_server *server;
	struct h2o_stream *prev, *next; /* the server's open streams */
} h2o_stream;

static const char *status_reason(int status)
{
	static const struct {
		int status;
		const char *reason;
	} reasons[] = {
		{101, "UPGRADED"},	      {200, "OK"},
		{201, "Created"},	      {204, "No Content"},
		{304, "Not Modified"},	      {400, "Bad Request"},
		{401, "Unauthorized"},	      {403, "Forbidden"},
		{404, "Not Found"},	      {405, "Method Not Allowed"},
		{409, "Conflict"},	      {413, "Request Entity Too Large"},
		{500, "Internal Server Error"}, {501, "Not Implemented"},
		{503, "Service Unavailable"},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(reasons); i++) {
		if (reasons[i].status == status)
			return reasons[i].reason;
	}
	return "Unknown";
}

static void add_header(h2o_req_t *req, const char *name, const char *value)
{
	size_t vlen = strlen(value);
	char *v = h2o_mem_alloc_pool(&req->pool, vlen + 1);
	memcpy(v, value, vlen + 1);
	h2o_add_header_by_str(&req->pool, &req->res.headers, name, strlen(name), 1, NULL, v, vlen);
}

/* The headers dockerd puts on every response. */
static void set_response_head(berth_api_req *r, int status, const char *content_type)
{
	h2o_req_t *req = r->transport_data;
	req->res.status = status;
	req->res.reason = status_reason(status);
	h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL,
		       content_type ? content_type : "text/plain; charset=utf-8",
		       strlen(content_type ? content_type : "text/plain; charset=utf-8"));
	h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("Api-Version"), 0, NULL,
			      H2O_STRLIT(BERTH_API_VERSION));
	h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("Ostype"), 0, NULL,
			      H2O_STRLIT("linux"));
	bool exp = r->daemon && r->daemon->config->experimental;
	h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("Docker-Experimental"), 0,
			      NULL, exp ? "true" : "false", exp ? 4 : 5);
	for (char **h = r->resp_headers; h && h[0] && h[1]; h += 2)
		add_header(req, h[0], h[1]);
}

static void h2o_reply(berth_api_req *r, int status, const char *content_type, const void *body,
		      size_t len)
{
	h2o_req_t *req = r->transport_data;
	set_response_head(r, status, content_type);
	req->res.content_length = len;
	h2o_send_inline(req, body, len);
}

static const char *h2o_header(const berth_api_req *r, const char *name)
{
	h2o_req_t *req = r->transport_data;
	/* h2o keeps request header names lowercased */
	char lower[64];
	size_t n = strlen(name);
	if (n >= sizeof(lower))
		return NULL;
	for (size_t k = 0; k <= n; k++)
		lower[k] = (char)tolower((unsigned char)name[k]);
	ssize_t i = h2o_find_header_by_str(&req->headers, lower, n, -1);
	h2o_iovec_t v;
	if (i >= 0)
		v = req->headers.entries[i].value;
	else if (strcmp(lower, "upgrade") == 0 && req->upgrade.base) /* h2o keeps it apart */
		v = req->upgrade;
	else
		return NULL;
	/* header values in h2o are not terminated: copy into the pool once */
	char *s = h2o_mem_alloc_pool(&req->pool, v.len + 1);
	memcpy(s, v.base, v.len);
	s[v.len] = '\0';
	return s;
}

/* -------------------------------------------------------------- streams */

/*
 * HTTP/1.1 streams are chunked by us rather than by h2o's chunked filter:
 * the filter swallows an empty send, so a response head would only leave
 * with the first body bytes, and clients such as `docker stats` wait for the
 * head of /events before they do anything else.
 */
static void stream_flush(h2o_stream *hs)
{
	berth_api_stream *s = hs->stream;
	h2o_req_t *req = s->req->transport_data;
	if (s->sending || hs->final_sent || (s->closed && !s->ended))
		return;
	if (s->pending.len == 0 && !s->ended)
		return;
	/* swap: what was pending is now in flight until h2o calls proceed */
	berth_buf tmp = s->inflight;
	s->inflight = s->pending;
	s->pending = tmp;
	s->pending.len = 0;
	h2o_iovec_t bufs[4];
	size_t n = 0;
	if (hs->chunked && s->inflight.len > 0) {
		int len = snprintf(hs->chunk_head, sizeof(hs->chunk_head), "%zx\r\n", s->inflight.len);
		bufs[n++] = h2o_iovec_init(hs->chunk_head, (size_t)len);
	}
	if (s->inflight.len > 0)
		bufs[n++] = h2o_iovec_init(s->inflight.data, s->inflight.len);
	if (hs->chunked && s->inflight.len > 0)
		bufs[n++] = h2o_iovec_init(H2O_STRLIT("\r\n"));
	if (hs->chunked && s->ended)
		bufs[n++] = h2o_iovec_init(H2O_STRLIT("0\r\n\r\n"));
	h2o_send_state_t state = s->ended ? H2O_SEND_STATE_FINAL : H2O_SEND_STATE_IN_PROGRESS;
	hs->final_sent = s->ended;
	s->sending = true;
	h2o_send(req, bufs, n, state);
}

static void stream_on_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
	h2o_stream *hs = (h2o_stream *)gen;
	hs->stream->sending = false;
	hs->stream->inflight.len = 0;
	stream_flush(hs);
}

static void stream_on_stop(h2o_generator_t *gen, h2o_req_t *req)
{
	h2o_stream *hs = (h2o_stream *)gen;
	berth_api_stream_closed(hs->stream);
}

static void stream_unlist(h2o_stream *hs)
{
	if (hs->server == NULL)
		return;
	if (hs->prev)
		hs->prev->next = hs->next;
	else
		hs->server->streams = hs->next;
	if (hs->next)
		hs->next->prev = hs->prev;
	hs->server = NULL;
}

static void stream_dispose(void *p)
{
	h2o_stream *hs = p;
	berth_api_stream *s = hs->stream;
	stream_unlist(hs);
	berth_api_stream_closed(s);
	berth_buf_reset(&s->pending);
	berth_buf_reset(&s->inflight);
	free(s);
}

static int h2o_stream_start(berth_api_stream *s, int status, const char *content_type)
{
	h2o_req_t *req = s->req->transport_data;
	h2o_stream *hs = h2o_mem_alloc_shared(&req->pool, sizeof(*hs), stream_dispose);
	memset(hs, 0, sizeof(*hs));
	hs->generator.proceed = stream_on_proceed;
	hs->generator.stop = stream_on_stop;
	hs->stream = s;
	s->transport_data = hs;
	hs->server = s->req->daemon->server;
	hs->next = hs->server->streams;
	if (hs->next)
		hs->next->prev = hs;
	hs->server->streams = hs;
	set_response_head(s->req, status, content_type);
	if (req->version == 0x101 && status == 200 &&
	    !h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD"))) {
		hs->chunked = true;
		h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_TRANSFER_ENCODING, NULL,
			       H2O_STRLIT("chunked"));
	}
	h2o_start_response(req, &hs->generator);
	/* send the head now: clients wait for it before reading the stream */
	s->sending = true;
	h2o_send(req, NULL, 0, H2O_SEND_STATE_IN_PROGRESS);
	return 0;
}

static void h2o_stream_write(berth_api_stream *s, const void *data, size_t len)
{
	if (berth_api_stream_pending(s) + len > BERTH_MAX_STREAM_BACKLOG) {
		berth_warn("dropping a stream whose client does not read");
		berth_api_stream_closed(s);
		return;
	}
	berth_buf_append(&s->pending, data, len);
	stream_flush(s->transport_data);
}

static void h2o_stream_end(berth_api_stream *s)
{
	stream_flush(s->transport_data);
}

static berth_api_splice *h2o_hijack(berth_api_req *r, const char *content_type,
				    berth_api_splice_done_cb on_done, void *userdata,
				    berth_error **err);

/* h2o holds a body larger than its mmap threshold in an unlinked temp file
 * mapped at the buffer's start (h2o_buffer_t, then the bytes). */
static int h2o_body_file(const berth_api_req *r, off_t *offset)
{
	h2o_req_t *req = r->transport_data;
	h2o_socket_t *sock = req->conn->callbacks->get_socket ?
				     req->conn->callbacks->get_socket(req->conn) : NULL;
	h2o_buffer_t *in = sock ? sock->input : NULL;
	if (in == NULL || in->_fd < 0 || req->entity.base == NULL ||
	    req->entity.base < in->bytes || req->entity.base + req->entity.len > in->bytes + in->size)
		return -1;
	*offset = req->entity.base - (char *)in;
	return fcntl(in->_fd, F_DUPFD_CLOEXEC, 0);
}

static const berth_api_transport h2o_transport = {
	.hijack = h2o_hijack,
	.reply = h2o_reply,
	.stream_start = h2o_stream_start,
	.stream_write = h2o_stream_write,
	.stream_end = h2o_stream_end,
	.header = h2o_header,
	.body_file = h2o_body_file,
};


/* ------------------------------------------------------------- hijacking */

/*
 * A hijacked connection spliced with a UNIX socket. Each direction has at
 * most one write in flight and stops reading its source meanwhile, so a slow
 * reader slows the writer down instead of filling memory. A websocket splice
 * (attach/ws) frames what goes to the client and decodes what comes from it;
 * its answers to pings and closes queue behind the output.
 */
#define SPLICE_WS_BACKLOG (64 * 1024) /* queued answers that pause the client's input */
#define SPLICE_WS_LINGER_MS 2000      /* how long a server's close waits for the client's */

typedef struct splice_ws {
	berth_ws_decoder in;
	berth_ws_output out;
	bool closing;              /* the connection ends once the queue is written */
	bool input_paused;         /* the client does not read its answers */
	bool await_close;          /* the close is ours: the client's answer is awaited */
	bool lingering;            /* awaiting it now */
	bool timer_busy;           /* the linger timer is initialised and not yet closed */
	uv_timer_t linger;
} splice_ws;

struct berth_api_splice {
	uv_pipe_t pipe;            /* the shim's attach socket */
	h2o_socket_t *sock;        /* the client, once upgraded */
	char *hello;
	berth_buf out;             /* for the client, not written yet (log replay, frames) */
	char *to_client;           /* being written to the client */
	char *to_pipe;             /* read from the client, being written to the pipe */
	uv_write_t pipe_write;
	uv_write_t hello_write;
	uv_shutdown_t shutdown;
	bool pipe_open;            /* connected to a socket yet */
	bool client_eof;           /* the client half-closed before connect */
	bool pipe_closed, sock_closed, done;
	splice_ws *ws;             /* a websocket, or NULL */
	berth_api_splice_done_cb on_done;
	void *userdata;
};
typedef struct berth_api_splice splice_t;

static void splice_maybe_done(splice_t *sp)
{
	if (!sp->pipe_closed || !sp->sock_closed || sp->done || (sp->ws && sp->ws->timer_busy))
		return;
	sp->done = true;
	if (sp->on_done)
		sp->on_done(sp, sp->userdata);
	free(sp->hello);
	berth_buf_reset(&sp->out);
	free(sp->to_client);
	free(sp->to_pipe);
	free(sp->ws);
	free(sp);
}

static void splice_pipe_closed(uv_handle_t *h)
{
	splice_t *sp = h->data;
	sp->pipe_closed = true;
	splice_maybe_done(sp);
}

static void splice_close_pipe(splice_t *sp)
{
	if (!uv_is_closing((uv_handle_t *)&sp->pipe))
		uv_close((uv_handle_t *)&sp->pipe, splice_pipe_closed);
}

static void splice_start_copying(splice_t *sp);

static void splice_linger_closed(uv_handle_t *h)
{
	splice_t *sp = h->data;
	sp->ws->timer_busy = false;
	splice_maybe_done(sp);
}

static void splice_close_sock(splice_t *sp)
{
	if (sp->sock) {
		h2o_socket_t *sock = sp->sock;
		sp->sock = NULL;
		h2o_socket_close(sock);
	}
	sp->sock_closed = true;
	if (sp->ws && sp->ws->timer_busy && !uv_is_closing((uv_handle_t *)&sp->ws->linger))
		uv_close((uv_handle_t *)&sp->ws->linger, splice_linger_closed);
	splice_maybe_done(sp);
}

static void splice_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	buf->base = berth_xmalloc(65536);
	buf->len = 65536;
}

static void splice_pipe_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void splice_sock_read(h2o_socket_t *sock, const char *err);
static void splice_client_written(h2o_socket_t *sock, const char *err);

/* Writes what is queued for the client; false when no write was started. */
static bool splice_client_flush(splice_t *sp)
{
	if (sp->to_client || sp->sock == NULL || sp->out.len == 0)
		return false;
	size_t len = sp->out.len;
	sp->to_client = berth_buf_steal(&sp->out);
	h2o_iovec_t iov = h2o_iovec_init(sp->to_client, len);
	h2o_socket_write(sp->sock, &iov, 1, splice_client_written);
	return true;
}

static void splice_ws_drained(uv_shutdown_t *req, int status)
{
	splice_close_pipe(req->data);
}

static void splice_linger_expired(uv_timer_t *t)
{
	splice_close_sock(t->data);
}

/* Our close frame is written. RFC 6455 7.1.1: the client answers it and
 * then the server ends the TCP connection, so a closing client can still
 * write its answer; one that does not answer is cut off after a while. */
static void splice_ws_closed_by_us(splice_t *sp)
{
	splice_ws *ws = sp->ws;
	if (!ws->await_close || sp->sock == NULL) {
		splice_close_sock(sp);
		return;
	}
	ws->lingering = true;
	ws->timer_busy = true;
	uv_timer_init(sp->pipe.loop, &ws->linger);
	ws->linger.data = sp;
	uv_timer_start(&ws->linger, splice_linger_expired, SPLICE_WS_LINGER_MS, 0);
	h2o_socket_read_start(sp->sock, splice_sock_read);
}

/* Reads the client's answer to our close: anything else is dropped. */
static void splice_ws_linger_read(splice_t *sp, const char *err)
{
	h2o_socket_t *sock = sp->sock;
	if (err == NULL) {
		berth_buf data cleanup_buf = {0}, reply cleanup_buf = {0};
		berth_ws_state st = berth_ws_decode(&sp->ws->in, sock->input->bytes,
						    sock->input->size, &data, &reply);
		h2o_buffer_consume(&sock->input, sock->input->size);
		if (st == BERTH_WS_OPEN)
			return;
	}
	splice_close_sock(sp);
}

/* Ends a websocket splice: what is queued for the client (its close frame)
 * goes last. drain lets the stdin written so far reach the process first. */
static void splice_ws_end(splice_t *sp, bool drain)
{
	if (sp->ws->closing)
		return;
	sp->ws->closing = true;
	if (sp->sock)
		h2o_socket_read_stop(sp->sock);
	bool pipe_live = sp->pipe_open && !uv_is_closing((uv_handle_t *)&sp->pipe);
	sp->shutdown.data = sp;
	if (!drain || !pipe_live ||
	    uv_shutdown(&sp->shutdown, (uv_stream_t *)&sp->pipe, splice_ws_drained) != 0)
		splice_close_pipe(sp);
	if (!splice_client_flush(sp) && sp->to_client == NULL)
		splice_ws_closed_by_us(sp);
}

/* Our side ends a websocket splice: a normal close, whose answer is awaited. */
static void splice_ws_close(splice_t *sp)
{
	if (sp->ws->closing)
		return;
	berth_ws_encode_close(&sp->out, BERTH_WS_CLOSE_NORMAL, NULL);
	sp->ws->await_close = true;
	splice_ws_end(sp, false);
}

static void splice_client_written(h2o_socket_t *sock, const char *err)
{
	splice_t *sp = sock->data;
	free(sp->to_client);
	sp->to_client = NULL;
	if (err != NULL) {
		splice_close_sock(sp);
		splice_close_pipe(sp);
		return;
	}
	if (splice_client_flush(sp))
		return;
	if (sp->ws && sp->ws->closing) {
		splice_ws_closed_by_us(sp);
		return;
	}
	if (sp->ws && sp->ws->input_paused) {
		sp->ws->input_paused = false;
		h2o_socket_read_start(sp->sock, splice_sock_read);
	}
	if (!uv_is_closing((uv_handle_t *)&sp->pipe))
		uv_read_start((uv_stream_t *)&sp->pipe, splice_alloc, splice_pipe_read);
}

static void splice_pipe_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	splice_t *sp = s->data;
	if (nread == 0 || (sp->ws && sp->ws->closing)) {
		free(buf->base);
		return;
	}
	if (nread < 0 || sp->sock == NULL) {
		/* the process's output ended: so does the client's connection */
		free(buf->base);
		if (sp->ws && sp->sock) {
			splice_ws_close(sp);
			return;
		}
		splice_close_pipe(sp);
		splice_close_sock(sp);
		return;
	}
	if (sp->ws) {
		berth_ws_output_feed(&sp->ws->out, buf->base, (size_t)nread, &sp->out);
		free(buf->base);
		if (sp->out.len > 0) {
			uv_read_stop(s);
			splice_client_flush(sp);
		}
		return;
	}
	uv_read_stop(s);
	sp->to_client = buf->base;
	h2o_iovec_t iov = h2o_iovec_init(buf->base, (size_t)nread);
	h2o_socket_write(sp->sock, &iov, 1, splice_client_written);
}

static void splice_pipe_written(uv_write_t *w, int status)
{
	splice_t *sp = w->data;
	free(sp->to_pipe);
	sp->to_pipe = NULL;
	if (status == 0 && sp->sock && !(sp->ws && (sp->ws->closing || sp->ws->input_paused)))
		h2o_socket_read_start(sp->sock, splice_sock_read);
}

static void splice_shutdown_done(uv_shutdown_t *req, int status)
{
}

/* Hands bytes read from the client to the process's stdin. */
static void splice_write_pipe(splice_t *sp, char *data, size_t len)
{
	sp->to_pipe = data;
	uv_buf_t b = uv_buf_init(sp->to_pipe, (unsigned)len);
	sp->pipe_write.data = sp;
	if (uv_write(&sp->pipe_write, (uv_stream_t *)&sp->pipe, &b, 1, splice_pipe_written) != 0) {
		free(sp->to_pipe);
		sp->to_pipe = NULL;
	}
}

/* A websocket client's bytes: payloads go to stdin, answers to the client. */
static void splice_ws_input(splice_t *sp)
{
	h2o_socket_t *sock = sp->sock;
	berth_buf data = {0};
	berth_ws_state st = berth_ws_decode(&sp->ws->in, sock->input->bytes, sock->input->size,
					    &data, &sp->out);
	h2o_buffer_consume(&sock->input, sock->input->size);
	sp->ws->input_paused = st == BERTH_WS_OPEN && sp->out.len >= SPLICE_WS_BACKLOG;
	if (data.len > 0) {
		size_t len = data.len;
		splice_write_pipe(sp, berth_buf_steal(&data), len);
	} else if (st == BERTH_WS_OPEN && !sp->ws->input_paused) {
		h2o_socket_read_start(sock, splice_sock_read);
	}
	if (st != BERTH_WS_OPEN)
		splice_ws_end(sp, st == BERTH_WS_CLOSED);
	else
		splice_client_flush(sp);
}

static void splice_sock_read(h2o_socket_t *sock, const char *err)
{
	splice_t *sp = sock->data;
	if (sp->ws && sp->ws->lingering) {
		splice_ws_linger_read(sp, err);
		return;
	}
	if (err != NULL) {
		/* the client closed its side: end the process's stdin, keep
		 * sending output until the process is done (a websocket has
		 * no half-close: it ends) */
		h2o_socket_read_stop(sock);
		if (!sp->pipe_open) {
			sp->client_eof = true;
			return;
		}
		if (sp->ws) {
			splice_ws_end(sp, true);
			return;
		}
		if (!uv_is_closing((uv_handle_t *)&sp->pipe)) {
			sp->shutdown.data = sp;
			uv_shutdown(&sp->shutdown, (uv_stream_t *)&sp->pipe, splice_shutdown_done);
		}
		return;
	}
	size_t len = sock->input->size;
	if (len == 0)
		return;
	h2o_socket_read_stop(sock);
	if (!sp->pipe_open)
		return; /* kept in sock->input until the socket is connected */
	if (sp->ws) {
		splice_ws_input(sp);
		return;
	}
	char *copy = berth_xmalloc(len);
	memcpy(copy, sock->input->bytes, len);
	h2o_buffer_consume(&sock->input, len);
	splice_write_pipe(sp, copy, len);
}

static void splice_hello_written(uv_write_t *w, int status)
{
}

static void splice_start_copying(splice_t *sp)
{
	if (sp->sock == NULL || !sp->pipe_open)
		return;
	/* the socket is read once the queue (the log replay) is written */
	if (!splice_client_flush(sp))
		uv_read_start((uv_stream_t *)&sp->pipe, splice_alloc, splice_pipe_read);
	if (sp->client_eof)
		splice_sock_read(sp->sock, "eof");
	else if (sp->sock->input->size > 0)
		splice_sock_read(sp->sock, NULL); /* bytes that came early */
	else
		h2o_socket_read_start(sp->sock, splice_sock_read);
}

static void splice_upgraded(void *userdata, h2o_socket_t *sock, size_t reqsize)
{
	splice_t *sp = userdata;
	if (sock == NULL) {
		splice_close_pipe(sp);
		sp->sock_closed = true;
		splice_maybe_done(sp);
		return;
	}
	h2o_buffer_consume(&sock->input, reqsize);
	sp->sock = sock;
	sock->data = sp;
	if (sp->pipe_open)
		splice_start_copying(sp);
	else
		h2o_socket_read_start(sock, splice_sock_read); /* to notice EOF */
}

void berth_api_splice_connect(berth_api_splice *sp, int fd, const char *hello)
{
	int rc = uv_pipe_open(&sp->pipe, fd);
	if (rc != 0) {
		close(fd);
		berth_api_splice_close(sp);
		return;
	}
	sp->pipe_open = true;
	if (hello && *hello) {
		sp->hello = berth_xstrdup(hello);
		uv_buf_t b = uv_buf_init(sp->hello, (unsigned)strlen(sp->hello));
		sp->hello_write.data = sp;
		uv_write(&sp->hello_write, (uv_stream_t *)&sp->pipe, &b, 1, splice_hello_written);
	}
	splice_start_copying(sp);
}

void berth_api_splice_prefix(berth_api_splice *sp, const void *data, size_t len)
{
	if (sp->ws)
		berth_ws_output_feed(&sp->ws->out, data, len, &sp->out);
	else
		berth_buf_append(&sp->out, data, len);
}

void berth_api_splice_close(berth_api_splice *sp)
{
	if (sp->ws && sp->sock) {
		splice_ws_close(sp);
		return;
	}
	splice_close_pipe(sp);
	splice_close_sock(sp);
}

static berth_api_splice *h2o_hijack(berth_api_req *r, const char *content_type,
				    berth_api_splice_done_cb on_done, void *userdata,
				    berth_error **err)
{
	h2o_req_t *req = r->transport_data;
	splice_t *sp = berth_xcalloc(1, sizeof(*sp));
	sp->on_done = on_done;
	sp->userdata = userdata;
	uv_pipe_init(r->daemon->loop, &sp->pipe, 0);
	sp->pipe.data = sp;
	if (r->ws_accept[0]) {
		/* what the content type names is the shim's framing, which the
		 * websocket removes */
		sp->ws = berth_xcalloc(1, sizeof(*sp->ws));
		berth_ws_decoder_init(&sp->ws->in, true);
		berth_ws_output_init(&sp->ws->out, strstr(content_type, "multiplexed") != NULL,
				     r->ws_opcode);
		req->res.status = 101;
		req->res.reason = "Switching Protocols";
		h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_UPGRADE, NULL,
			       H2O_STRLIT("websocket"));
		add_header(req, "Sec-WebSocket-Accept", r->ws_accept);
	} else {
		set_response_head(r, 101, content_type);
		req->res.reason = "UPGRADED";
		h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_UPGRADE, NULL,
			       H2O_STRLIT("tcp"));
	}
	h2o_http1_upgrade(req, NULL, 0, splice_upgraded, sp);
	return sp;
}

/* ------------------------------------------------------------- requests */

static void req_dispose(void *p)
{
	berth_api_req_release(p);
}

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
	berth_handler *h = (berth_handler *)self;
	berth_api_req *r = h2o_mem_alloc_shared(&req->pool, sizeof(*r), req_dispose);
	memset(r, 0, sizeof(*r));
	r->transport = &h2o_transport;
	r->transport_data = req;
	r->daemon = h->server->daemon;
	berth_api_req_init(r, req->method.base, req->method.len, req->path.base, req->path.len);
	r->body = req->entity.base ? req->entity.base : "";
	r->body_len = req->entity.base ? req->entity.len : 0;
	berth_api_dispatch(h->server->daemon, r);
	return 0;
}

/* ---------------------------------------------------------- deferred work */

static void deferred_work(uv_work_t *w)
{
	berth_api_deferred *def = w->data;
	def->rc = def->work_fn(def->userdata, &def->work_err);
}

static void deferred_done(uv_work_t *w, int status)
{
	berth_api_deferred *def = w->data;
	berth_api_req *req = berth_api_hold_req(def->hold);
	berth_error *err cleanup_error = NULL;
	berth_api_hold_free(def->hold);
	int rc = def->done_fn(def->daemon, req, def->userdata, def->rc < 0 ? def->work_err : NULL,
			      &err);
	if (req && !req->replied) {
		const berth_error *e = err ? err : def->work_err;
		if (rc < 0 && e)
			berth_api_reply_error(req, e);
		else if (!req->replied)
			berth_api_reply_empty(req, 204);
	}
	berth_error_free(&def->work_err);
	free(def);
}

int berth_api_defer(berth_daemon *d, berth_api_req *req, berth_api_work_fn work,
		    berth_api_done_fn done, void *userdata)
{
	berth_api_deferred *def = berth_xcalloc(1, sizeof(*def));
	def->work.data = def;
	def->daemon = d;
	def->hold = berth_api_hold_new(req);
	def->work_fn = work;
	def->done_fn = done;
	def->userdata = userdata;
	int rc = uv_queue_work(d->loop, &def->work, deferred_work, deferred_done);
	if (rc != 0) {
		berth_api_hold_free(def->hold);
		free(def);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ listeners */

/* An accepted connection's handle, listed so that shutdown can end the
 * connections still open (h2o then closes them the usual way). */
typedef struct conn_handle {
	union {
		uv_handle_t handle;
		uv_stream_t stream;
		uv_pipe_t pipe;
		uv_tcp_t tcp;
	} u;
	berth_server *server;
	struct conn_handle *prev, *next;
} conn_handle;

static void conn_closed(uv_handle_t *h)
{
	conn_handle *c = (conn_handle *)h;
	if (c->prev)
		c->prev->next = c->next;
	else
		c->server->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c);
}

static void on_accept(uv_stream_t *server_handle, int status)
{
	listener *l = server_handle->data;
	if (status != 0)
		return;
	conn_handle *c = berth_xcalloc(1, sizeof(*c));
	if (l->is_pipe)
		uv_pipe_init(server_handle->loop, &c->u.pipe, 0);
	else
		uv_tcp_init(server_handle->loop, &c->u.tcp);
	if (uv_accept(server_handle, &c->u.stream) != 0) {
		uv_close(&c->u.handle, (uv_close_cb)free);
		return;
	}
	c->server = l->server;
	c->next = l->server->conns;
	if (c->next)
		c->next->prev = c;
	l->server->conns = c;
	h2o_socket_t *sock = h2o_uv_socket_create(&c->u.stream, conn_closed);
	h2o_accept(&l->accept_ctx, sock);
}

static listener *listener_new(berth_server *s, bool is_pipe)
{
	listener *l = berth_xcalloc(1, sizeof(*l));
	l->server = s;
	l->is_pipe = is_pipe;
	l->accept_ctx.ctx = &s->ctx;
	l->accept_ctx.hosts = s->config.hosts;
	if (is_pipe)
		uv_pipe_init(s->daemon->loop, &l->u.pipe, 0);
	else
		uv_tcp_init(s->daemon->loop, &l->u.tcp);
	l->u.handle.data = l;
	s->listeners = berth_xrealloc(s->listeners, (s->nlisteners + 1) * sizeof(*s->listeners));
	s->listeners[s->nlisteners++] = l;
	return l;
}

static int listen_on(listener *l, const char *host, berth_error **err)
{
	int rc = uv_listen(&l->u.stream, 1024, on_accept);
	if (rc != 0)
		return berth_error_set(err, 500, "listen on %s: %s", host, uv_strerror(rc));
	return 0;
}

/* Group for the sockets: --group, else "docker" when it exists (dockerd's
 * default), else root. */
static int socket_group(const char *name, gid_t *gid, berth_error **err)
{
	*gid = 0;
	struct group *g = getgrnam(name ? name : "docker");
	if (g) {
		*gid = g->gr_gid;
		return 0;
	}
	if (name == NULL)
		return 0;
	char *end;
	long n = strtol(name, &end, 10);
	if (*name && *end == '\0') {
		*gid = (gid_t)n;
		return 0;
	}
	return berth_error_set(err, 400, "group %s not found", name);
}

static int listen_unix(berth_server *s, const char *host, const char *path, berth_error **err)
{
	if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return berth_error_set(err, 400, "socket path too long: %s", path);
	gid_t gid;
	if (socket_group(s->daemon->config->group, &gid, err) < 0)
		return -1;
	struct stat st;
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path); /* stale: the data root lock says no other berthd owns it */
	char *dir cleanup_free = berth_xstrdup(path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		if (berth_mkdir_all(dir, 0755, err) < 0)
			return -1;
	}
	listener *l = listener_new(s, true);
	int rc = uv_pipe_bind(&l->u.pipe, path);
	if (rc != 0)
		return berth_error_set(err, 500, "listen on %s: %s", host, uv_strerror(rc));
	l->unix_path = berth_xstrdup(path);
	if (chmod(path, 0660) < 0 || chown(path, 0, gid) < 0)
		return berth_error_set_errno(err, errno, "set owner and mode of %s", path);
	return listen_on(l, host, err);
}

static int listen_tcp(berth_server *s, const char *host, const char *addr, berth_error **err)
{
	char *copy cleanup_free = berth_xstrdup(addr);
	char *colon = strrchr(copy, ':');
	if (colon == NULL)
		return berth_error_set(err, 400, "invalid tcp address %s: missing port", host);
	*colon = '\0';
	const char *name = copy;
	if (*name == '[') { /* [::1]:2376 */
		name++;
		char *close = strchr(copy, ']');
		if (close)
			*close = '\0';
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_PASSIVE | AI_NUMERICSERV};
	struct addrinfo *ai = NULL;
	int gai = getaddrinfo(*name ? name : NULL, colon + 1, &hints, &ai);
	if (gai != 0)
		return berth_error_set(err, 400, "invalid tcp address %s: %s", host, gai_strerror(gai));
	listener *l = listener_new(s, false);
	l->accept_ctx.ssl_ctx = s->ssl_ctx;
	int rc = uv_tcp_bind(&l->u.tcp, ai->ai_addr, 0);
	freeaddrinfo(ai);
	if (rc != 0)
		return berth_error_set(err, 500, "listen on %s: %s", host, uv_strerror(rc));
	return listen_on(l, host, err);
}

/* systemd socket activation: LISTEN_FDS sockets from fd 3 on. */
static int listen_fds(berth_server *s, const char *host, berth_error **err)
{
	const char *pid = getenv("LISTEN_PID");
	const char *nfds = getenv("LISTEN_FDS");
	if (nfds == NULL || (pid && atol(pid) != (long)getpid()))
		return berth_error_set(err, 400, "no sockets found via socket activation: make sure "
						 "the service was started by systemd");
	int n = atoi(nfds);
	for (int fd = 3; fd < 3 + n; fd++) {
		struct sockaddr_storage ss;
		socklen_t len = sizeof(ss);
		if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
			return berth_error_set_errno(err, errno, "socket activation fd %d", fd);
		listener *l = listener_new(s, ss.ss_family == AF_UNIX);
		l->accept_ctx.ssl_ctx = ss.ss_family == AF_UNIX ? NULL : s->ssl_ctx;
		int rc = l->is_pipe ? uv_pipe_open(&l->u.pipe, fd) : uv_tcp_open(&l->u.tcp, fd);
		if (rc != 0)
			return berth_error_set(err, 500, "socket activation fd %d: %s", fd, uv_strerror(rc));
		if (listen_on(l, host, err) < 0)
			return -1;
	}
	return 0;
}

static int tls_error(berth_error **err, const char *what, const char *file)
{
	char buf[256];
	ERR_error_string_n(ERR_get_error(), buf, sizeof(buf));
	return berth_error_set(err, 400, "%s %s: %s", what, file, buf);
}

static int setup_tls(berth_server *s, berth_error **err)
{
	const berth_config *c = s->daemon->config;
	if (!c->tls && !c->tlsverify)
		return 0;
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	s->ssl_ctx = ctx;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	if (SSL_CTX_use_certificate_chain_file(ctx, c->tlscert) != 1)
		return tls_error(err, "could not load TLS certificate", c->tlscert);
	if (SSL_CTX_use_PrivateKey_file(ctx, c->tlskey, SSL_FILETYPE_PEM) != 1)
		return tls_error(err, "could not load TLS key", c->tlskey);
	if (c->tlsverify) {
		if (SSL_CTX_load_verify_locations(ctx, c->tlscacert, NULL) != 1)
			return tls_error(err, "could not read CA certificate", c->tlscacert);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	return 0;
}

static int listen_host(berth_server *s, const char *host, berth_error **err)
{
	if (berth_str_has_prefix(host, "unix://"))
		return listen_unix(s, host, host + 7, err);
	if (berth_str_has_prefix(host, "tcp://"))
		return listen_tcp(s, host, host + 6, err);
	if (berth_str_has_prefix(host, "fd://"))
		return listen_fds(s, host, err);
	return berth_error_set(err, 400, "invalid bind address format: %s", host);
}

int berth_server_start(berth_daemon *d, berth_server **out, berth_error **err)
{
	berth_server *s = berth_xcalloc(1, sizeof(*s));
	s->daemon = d;
	*out = s;
	h2o_config_init(&s->config);
	s->config.server_name = h2o_iovec_init(H2O_STRLIT("berth/" BERTH_VERSION " (linux)"));
	s->config.max_request_entity_size = BERTH_MAX_BODY;
	h2o_hostconf_t *host = h2o_config_register_host(&s->config,
							  h2o_iovec_init(H2O_STRLIT("default")), 65535);
	h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
	berth_handler *h = (berth_handler *)h2o_create_handler(path, sizeof(*h));
	h->super.on_req = on_req;
	h->server = s;
	h2o_context_init(&s->ctx, d->loop, &s->config);
	if (setup_tls(s, err) < 0)
		return -1;
	for (size_t i = 0; i < d->config->nhosts; i++) {
		if (listen_host(s, d->config->hosts[i], err) < 0)
			return -1;
		berth_info("API listen on %s", d->config->hosts[i]);
	}
	return 0;
}

void berth_server_stop(berth_server *s)
{
	if (s == NULL || s->stopped)
		return;
	s->stopped = true;
	/* streamed responses end: their owners let go, the clients get the
	 * end of the body */
	while (s->streams) {
		h2o_stream *hs = s->streams;
		stream_unlist(hs);
		berth_api_stream_closed(hs->stream);
		hs->stream->ended = true;
		stream_flush(hs);
	}
	/* clients see the end of their connections (an events stream, a
	 * pending wait); h2o closes each on the EOF it then reads */
	for (struct conn_handle *c = s->conns; c; c = c->next) {
		uv_os_fd_t fd;
		if (uv_fileno(&c->u.handle, &fd) == 0)
			shutdown(fd, SHUT_RDWR);
	}
	for (size_t i = 0; i < s->nlisteners; i++) {
		listener *l = s->listeners[i];
		if (l->unix_path)
			unlink(l->unix_path);
		if (!uv_is_closing(&l->u.handle))
			uv_close(&l->u.handle, NULL);
	}
}

void berth_server_dispose(berth_server *s)
{
	if (s == NULL || s->disposed)
		return;
	berth_server_stop(s);
	s->disposed = true;
	h2o_context_dispose(&s->ctx);
}

void berth_server_free(berth_server *s)
{
	if (s == NULL)
		return;
	berth_server_dispose(s);
	h2o_config_dispose(&s->config);
	for (size_t i = 0; i < s->nlisteners; i++) {
		free(s->listeners[i]->unix_path);
		free(s->listeners[i]);
	}
	free(s->listeners);
	if (s->ssl_ctx)
		SSL_CTX_free(s->ssl_ctx);
	free(s);
}
