/*
 * internal.h - shared between the API layer's files and engine/server.c; not
 * for handlers. A request is transport-neutral: server.c plugs in the h2o
 * transport, and berth_api_req_new() a capturing one for tests and fuzzing.
 */
#ifndef BERTH_API_INTERNAL_H
#define BERTH_API_INTERNAL_H

#include "api.h"

typedef struct berth_api_transport {
	/* Sends a complete response. headers is a list of name/value pairs. */
	void (*reply)(berth_api_req *req, int status, const char *content_type, const void *body,
		      size_t len);
	/* Streams: start sends status + headers; write queues; end finishes. */
	int (*stream_start)(berth_api_stream *s, int status, const char *content_type);
	void (*stream_write)(berth_api_stream *s, const void *data, size_t len);
	void (*stream_end)(berth_api_stream *s);
	/* Answers 101 and turns the connection into a splice (see api.h). */
	berth_api_splice *(*hijack)(berth_api_req *req, const char *content_type,
				    berth_api_splice_done_cb on_done, void *userdata,
				    berth_error **err);
	/* A request header by name (case-insensitive), or NULL. */
	const char *(*header)(const berth_api_req *req, const char *name);
	/* The file the body sits in, when the transport buffers it in one: a
	 * new descriptor and the body's offset in it; -1 otherwise. May be
	 * NULL. */
	int (*body_file)(const berth_api_req *req, off_t *offset);
} berth_api_transport;

typedef struct berth_api_query_kv {
	char *key;
	char *value;
} berth_api_query_kv;

struct berth_api_req {
	const berth_api_transport *transport;
	void *transport_data;           /* h2o_req_t * for the server */
	berth_daemon *daemon;
	char *method;
	char *path;                     /* without version prefix and query */
	char version[16];
	berth_api_match match;
	berth_api_query_kv *query;
	size_t nquery;
	const char *body;
	size_t body_len;
	char **headers;                 /* capturing transport: name, value, ..., NULL */
	char **resp_headers;            /* set by berth_api_add_header */
	berth_error *route_err;         /* bad version or no route: replied by dispatch */
	bool replied;
	/* Set by berth_api_websocket_begin: the hijack upgrades to a websocket. */
	char ws_accept[29];
	unsigned ws_opcode;
	struct berth_api_hold *holds;   /* async work waiting on this request */
	/* The capturing transport's record, for tests. */
	int captured_status;
	berth_buf captured_body;
	bool captured_ended;
};

struct berth_api_stream {
	berth_api_req *req;
	berth_api_stream_close_cb on_close;
	void *userdata;
	bool closed;     /* the client went away */
	bool ended;      /* berth_api_stream_end was called */
	berth_buf pending;   /* queued, not yet handed to the socket */
	berth_buf inflight;  /* handed to the socket, awaiting completion */
	bool sending;
	void *transport_data;
};

/* Fills req->method/path/version/query/match from the request line. A bad
 * version or an unknown route is kept in req->route_err for dispatch. */
void berth_api_req_init(berth_api_req *req, const char *method, size_t method_len,
			const char *path_and_query, size_t len);
void berth_api_req_release(berth_api_req *req);
/* Marks a stream's client as gone and runs on_close once. */
void berth_api_stream_closed(berth_api_stream *s);

#endif
