/*
 * api.h - the Engine API layer: routes, request accessors, replies.
 *
 * Each API group lives in one file (system.c, images.c, containers.c, ...)
 * that exports a route table; router.c matches a request against all tables
 * and server.c runs the handler. A handler reads its request through the
 * accessors below and either replies (berth_api_reply_*, or a stream) and
 * returns 0, or returns -1 with *err set: the server then answers
 * {"message": err->msg} with err->status, so no handler formats errors itself.
 *
 * The request type is opaque so that handlers do not depend on h2o, and so
 * that the router and decoding can be fuzzed without a server.
 */
#ifndef BERTH_API_H
#define BERTH_API_H

#include "common.h"

typedef struct berth_daemon berth_daemon;
typedef struct berth_api_req berth_api_req;
typedef struct berth_api_stream berth_api_stream;

typedef int (*berth_api_handler)(berth_daemon *d, berth_api_req *req, berth_error **err);

/* One route: "GET", "/containers/{id}/json". A parameter written {name*}
 * matches one or more path segments (image names contain slashes), so
 * "/images/{name*}/json" matches "/images/library/busybox/json". */
typedef struct berth_api_route {
	const char *method;
	const char *pattern;
	berth_api_handler handler;
} berth_api_route;

/* The route tables of every API group, ended by a {NULL} entry. */
extern const berth_api_route berth_api_system_routes[];
extern const berth_api_route berth_api_image_routes[];
extern const berth_api_route berth_api_volume_routes[];
extern const berth_api_route berth_api_container_routes[];
extern const berth_api_route berth_api_exec_routes[];
extern const berth_api_route berth_api_build_routes[];
extern const berth_api_route berth_api_network_routes[];
extern const berth_api_route berth_api_distribution_routes[];
/* POST /images/create?fromImage (distribution.c; images.c routes it). */
int berth_api_distribution_pull(berth_daemon *d, berth_api_req *req, berth_error **err);

/* ------------------------------------------------------------- routing */

#define BERTH_API_MAX_PARAMS 4

typedef struct berth_api_match {
	const berth_api_route *route;
	size_t nparams;
	struct {
		const char *name;   /* points into the route pattern, not terminated */
		size_t name_len;
		char *value;        /* decoded, owned by the match */
	} params[BERTH_API_MAX_PARAMS];
} berth_api_match;

/* Strips an optional "/v1.NN" prefix. *version gets "1.NN" (or the
 * server's version when absent). 400 with Docker's message when the version
 * is newer than BERTH_API_VERSION or older than BERTH_API_MIN_VERSION. */
int berth_api_split_version(const char *path, size_t len, char version[16], size_t *rest_off,
			    berth_error **err);
/* Finds the route for method + path (without version prefix or query).
 * 404 {"message":"page not found"} when nothing matches; 405-free like dockerd. */
int berth_api_route_match(const char *method, const char *path, size_t len,
			  berth_api_match *match, berth_error **err);
void berth_api_match_reset(berth_api_match *match);

/* ------------------------------------------------------------ requests */

/* A request decoded from the wire. The server fills it; tests and the
 * fuzzer can build one with berth_api_req_new. */
berth_api_req *berth_api_req_new(const char *method, const char *path_and_query, size_t len,
				 const char *body, size_t body_len);
void berth_api_req_free(berth_api_req *req);
/* For tests: a request header, and what a handler replied (status; body). */
void berth_api_req_set_header(berth_api_req *req, const char *name, const char *value);
int berth_api_req_captured(const berth_api_req *req, const char **body, size_t *len);
/* Runs the routed handler (or replies the routing error). */
void berth_api_dispatch(berth_daemon *d, berth_api_req *req);

const char *berth_api_method(const berth_api_req *req);
/* The negotiated API version of this request ("1.47"). */
const char *berth_api_version(const berth_api_req *req);
/* True when the request's API version is below v ("1.44"). */
bool berth_api_version_below(const berth_api_req *req, const char *v);
/* A path parameter by name ("id"), or NULL. */
const char *berth_api_param(const berth_api_req *req, const char *name);
/* The first query value for key (decoded), or NULL when absent. */
const char *berth_api_query(const berth_api_req *req, const char *key);
/* Every value of a repeated query key (names=a&names=b), NULL-terminated;
 * free with berth_strv_free. */
char **berth_api_query_all(const berth_api_req *req, const char *key);
/* Docker's booleans: "1", "true", "True" are true; absent gives def;
 * anything else is false like Go's strconv.ParseBool failures are for dockerd. */
bool berth_api_query_bool(const berth_api_req *req, const char *key, bool def);
/* An integer query value; 400 when it is not a number. */
int berth_api_query_int(const berth_api_req *req, const char *key, int64_t def, int64_t *out,
			berth_error **err);
/* The request body (may be empty, never NULL). */
const char *berth_api_body(const berth_api_req *req, size_t *len);
/*
 * The body, kept for work that outlives the request (a client may go while
 * its upload is being loaded). A large body sits in h2o's file-backed buffer:
 * it is mapped once more rather than copied, so keeping a 1 GiB upload costs
 * no copy and no time on the loop; a small one is copied.
 */
typedef struct berth_api_kept_body {
	const char *data;
	size_t len;
	void *map;        /* what to unmap, or NULL when data is a copy */
	size_t map_len;
} berth_api_kept_body;
void berth_api_body_keep(const berth_api_req *req, berth_api_kept_body *out);
void berth_api_body_release(berth_api_kept_body *b);
/* The body as a JSON object; an empty body gives an empty object when
 * allow_empty, else 400. */
int berth_api_body_json(const berth_api_req *req, bool allow_empty, json_t **out,
			berth_error **err);
/* A request header (case-insensitive), or NULL. */
const char *berth_api_header(const berth_api_req *req, const char *name);

/* ------------------------------------------------------------- replies */

/* Replies with a JSON body; takes the reference to body. */
int berth_api_reply_json(berth_api_req *req, int status, json_t *body);
/* Replies with a raw body of the given content type (copied). */
int berth_api_reply_raw(berth_api_req *req, int status, const char *content_type,
			const void *body, size_t len);
/* Replies with no body (204 No Content, 201, 304...). */
int berth_api_reply_empty(berth_api_req *req, int status);
/* Replies {"message": ...} with err's status: for answers given later
 * (handlers just return -1). */
void berth_api_reply_error(berth_api_req *req, const berth_error *err);
/* Adds a response header; call before replying. Strings are copied. */
void berth_api_add_header(berth_api_req *req, const char *name, const char *value);

/* ------------------------------------------------------------- streams */

/*
 * A streamed response (chunked): events, pull/push/load progress, logs.
 * berth_api_stream_start sends the status and headers at once. Writes are
 * buffered and flushed as the socket drains; a stream never blocks the loop.
 * When the client goes away, on_close runs (once) and the stream must not be
 * written to after it returns. berth_api_stream_end finishes the response;
 * the stream is freed by the server after on_close or end, whichever is last
 * for the server, so the owner must drop its pointer in on_close or at end.
 */
typedef void (*berth_api_stream_close_cb)(berth_api_stream *s, void *userdata);

berth_api_stream *berth_api_stream_start(berth_api_req *req, int status, const char *content_type,
					 berth_api_stream_close_cb on_close, void *userdata);
void berth_api_stream_write(berth_api_stream *s, const void *data, size_t len);
/* Writes a JSON value followed by "\n" (newline-delimited JSON); takes the reference. */
void berth_api_stream_write_json(berth_api_stream *s, json_t *j);
void berth_api_stream_end(berth_api_stream *s);
/* Bytes written but not yet flushed to the socket (for back-pressure). */
size_t berth_api_stream_pending(const berth_api_stream *s);

/* ---------------------------------------------------------------- events */

/* Whether an EventMessage passes /events filters, with dockerd's rules. */
bool berth_api_event_matches(const json_t *msg, const berth_filters *f);

/* ---------------------------------------------------------------- hijack */

/*
 * attach and exec take the connection over, as dockerd does: the server
 * answers "101 UPGRADED" (Upgrade: tcp) with content_type
 * (application/vnd.docker.raw-stream for a TTY, else
 * application/vnd.docker.multiplexed-stream) and the connection becomes a
 * splice. Once given a connected UNIX socket (a shim's attach socket, whose
 * framing already is Docker's) it copies bytes both ways; until then the
 * client waits (docker run attaches before the container starts). `hello`
 * is written to the socket first (the shim's stream selection line). A
 * client that half-closes ends the process's stdin; when the socket's output
 * ends the client's connection is closed. on_done runs once, when both sides
 * are closed: the owner drops its pointer then.
 */
typedef struct berth_api_splice berth_api_splice;
typedef void (*berth_api_splice_done_cb)(berth_api_splice *sp, void *userdata);

berth_api_splice *berth_api_hijack(berth_api_req *req, const char *content_type,
				   berth_api_splice_done_cb on_done, void *userdata,
				   berth_error **err);
/* Starts copying; the splice owns fd from now on. */
void berth_api_splice_connect(berth_api_splice *sp, int fd, const char *hello);
/* Bytes for the client ahead of the socket's output (attach's log replay);
 * before berth_api_splice_connect. */
void berth_api_splice_prefix(berth_api_splice *sp, const void *data, size_t len);
/* Ends the splice without a socket (the process never started). */
void berth_api_splice_close(berth_api_splice *sp);

/* ----------------------------------------------------------------- holds */

/*
 * A request outlives its handler when the answer comes later (a container
 * exits, thread-pool work finishes). A hold tracks it: berth_api_hold_req()
 * gives the request while its client is still connected and NULL once the
 * client went away (the server frees the request then). Free the hold when
 * done with it, before or after the request goes.
 */
typedef struct berth_api_hold berth_api_hold;

berth_api_hold *berth_api_hold_new(berth_api_req *req);
berth_api_req *berth_api_hold_req(const berth_api_hold *h);
void berth_api_hold_free(berth_api_hold *h);

/* --------------------------------------------------------- deferred work */

/*
 * Work that may block (archive extraction, file trees, runtime calls) runs in
 * the thread pool, never on the loop. `work` runs on a pool thread and must
 * not touch the loop, the daemon's maps or the request; `done` runs back on
 * the loop with the request, or with req == NULL when the client has gone
 * away meanwhile (then it must only clean up). work_err is what `work` set
 * when it returned -1 (done may hand it on by returning -1 with *err). A
 * done that returns -1 with *err set gets the usual error reply.
 */
typedef int (*berth_api_work_fn)(void *userdata, berth_error **err);
typedef int (*berth_api_done_fn)(berth_daemon *d, berth_api_req *req, void *userdata,
				 berth_error *work_err, berth_error **err);

/* Called from a handler, which then returns 0 without replying. */
int berth_api_defer(berth_daemon *d, berth_api_req *req, berth_api_work_fn work,
		    berth_api_done_fn done, void *userdata);

#endif
