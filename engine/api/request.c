/* request.c - transport-neutral requests: decoding, accessors, replies. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/engine.h"
#include "internal.h"
#include "websocket.h"

static void parse_query(berth_api_req *req, const char *q, size_t len)
{
	size_t n = 0;
	for (size_t i = 0; i < len; i++)
		n += (q[i] == '&');
	req->query = berth_xcalloc(n + 1, sizeof(*req->query));
	const char *end = q + len;
	while (q < end) {
		const char *amp = memchr(q, '&', (size_t)(end - q));
		const char *stop = amp ? amp : end;
		const char *eq = memchr(q, '=', (size_t)(stop - q));
		if (stop > q) {
			const char *kend = eq ? eq : stop;
			berth_api_query_kv *kv = &req->query[req->nquery++];
			kv->key = berth_url_decode(q, (size_t)(kend - q));
			kv->value = eq ? berth_url_decode(eq + 1, (size_t)(stop - eq - 1))
				       : berth_xstrdup("");
		}
		q = stop + 1;
	}
}

void berth_api_req_init(berth_api_req *req, const char *method, size_t method_len,
			const char *path_and_query, size_t len)
{
	req->method = berth_xstrndup(method, method_len);
	if (memchr(path_and_query, '\0', len) || memchr(method, '\0', method_len)) {
		berth_error_set(&req->route_err, 400, "invalid request: NUL byte in request line");
		return;
	}
	const char *qmark = memchr(path_and_query, '?', len);
	size_t path_len = qmark ? (size_t)(qmark - path_and_query) : len;
	if (qmark)
		parse_query(req, qmark + 1, len - path_len - 1);
	size_t off = 0;
	if (berth_api_split_version(path_and_query, path_len, req->version, &off, &req->route_err) < 0)
		return;
	req->path = berth_xstrndup(path_and_query + off, path_len - off);
	berth_api_route_match(req->method, req->path, path_len - off, &req->match, &req->route_err);
}

struct berth_api_hold {
	berth_api_req *req;
	berth_api_hold *next;
};

berth_api_hold *berth_api_hold_new(berth_api_req *req)
{
	berth_api_hold *h = berth_xcalloc(1, sizeof(*h));
	h->req = req;
	h->next = req->holds;
	req->holds = h;
	return h;
}

berth_api_req *berth_api_hold_req(const berth_api_hold *h)
{
	return h->req;
}

void berth_api_hold_free(berth_api_hold *h)
{
	if (h == NULL)
		return;
	if (h->req) {
		for (berth_api_hold **p = &h->req->holds; *p; p = &(*p)->next) {
			if (*p == h) {
				*p = h->next;
				break;
			}
		}
	}
	free(h);
}

void berth_api_req_release(berth_api_req *req)
{
	/* the client is gone: holders see NULL from now on */
	for (berth_api_hold *h = req->holds; h; h = h->next)
		h->req = NULL;
	req->holds = NULL;
	free(req->method);
	free(req->path);
	berth_api_match_reset(&req->match);
	for (size_t i = 0; i < req->nquery; i++) {
		free(req->query[i].key);
		free(req->query[i].value);
	}
	free(req->query);
	berth_strv_free(req->headers);
	berth_strv_free(req->resp_headers);
	berth_error_free(&req->route_err);
	berth_buf_reset(&req->captured_body);
}

/* ----------------------------------------------------- capturing transport */

static void capture_reply(berth_api_req *req, int status, const char *content_type,
			  const void *body, size_t len)
{
	req->captured_status = status;
	berth_buf_append(&req->captured_body, body, len);
	req->captured_ended = true;
}

static int capture_stream_start(berth_api_stream *s, int status, const char *content_type)
{
	s->req->captured_status = status;
	return 0;
}

static void capture_stream_write(berth_api_stream *s, const void *data, size_t len)
{
	berth_buf_append(&s->req->captured_body, data, len);
}

static void capture_stream_end(berth_api_stream *s)
{
	s->req->captured_ended = true;
	free(s);
}

static const char *capture_header(const berth_api_req *req, const char *name)
{
	for (char **h = req->headers; h && h[0] && h[1]; h += 2) {
		if (strcasecmp(h[0], name) == 0)
			return h[1];
	}
	return NULL;
}

static const berth_api_transport capture_transport = {
	.header = capture_header,
	.reply = capture_reply,
	.stream_start = capture_stream_start,
	.stream_write = capture_stream_write,
	.stream_end = capture_stream_end,
};

berth_api_req *berth_api_req_new(const char *method, const char *path_and_query, size_t len,
				 const char *body, size_t body_len)
{
	berth_api_req *req = berth_xcalloc(1, sizeof(*req));
	req->transport = &capture_transport;
	berth_api_req_init(req, method, strlen(method), path_and_query, len);
	req->body = body ? body : "";
	req->body_len = body ? body_len : 0;
	return req;
}

static void strv_append_pair(char ***v, const char *name, const char *value)
{
	size_t n = berth_strv_len(*v);
	*v = berth_xrealloc(*v, (n + 3) * sizeof(char *));
	(*v)[n] = berth_xstrdup(name);
	(*v)[n + 1] = berth_xstrdup(value);
	(*v)[n + 2] = NULL;
}

void berth_api_req_set_header(berth_api_req *req, const char *name, const char *value)
{
	strv_append_pair(&req->headers, name, value);
}

void berth_api_req_free(berth_api_req *req)
{
	if (req == NULL)
		return;
	berth_api_req_release(req);
	free(req);
}

int berth_api_req_captured(const berth_api_req *req, const char **body, size_t *len)
{
	if (body)
		*body = req->captured_body.data ? req->captured_body.data : "";
	if (len)
		*len = req->captured_body.len;
	return req->captured_status;
}

/* ------------------------------------------------------------- accessors */

const char *berth_api_method(const berth_api_req *req)
{
	return req->method;
}

const char *berth_api_version(const berth_api_req *req)
{
	return req->version;
}

bool berth_api_version_below(const berth_api_req *req, const char *v)
{
	return berth_version_compare(req->version, v) < 0;
}

const char *berth_api_param(const berth_api_req *req, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; i < req->match.nparams; i++) {
		if (req->match.params[i].name_len == n &&
		    memcmp(req->match.params[i].name, name, n) == 0)
			return req->match.params[i].value;
	}
	return NULL;
}

const char *berth_api_query(const berth_api_req *req, const char *key)
{
	for (size_t i = 0; i < req->nquery; i++) {
		if (strcmp(req->query[i].key, key) == 0)
			return req->query[i].value;
	}
	return NULL;
}

char **berth_api_query_all(const berth_api_req *req, const char *key)
{
	char **v = berth_xcalloc(req->nquery + 1, sizeof(*v));
	size_t n = 0;
	for (size_t i = 0; i < req->nquery; i++) {
		if (strcmp(req->query[i].key, key) == 0)
			v[n++] = berth_xstrdup(req->query[i].value);
	}
	return v;
}

bool berth_api_query_bool(const berth_api_req *req, const char *key, bool def)
{
	const char *v = berth_api_query(req, key);
	if (v == NULL)
		return def;
	/* dockerd's httputils.BoolValue: anything but "", "0", "no", "false", "none" */
	static const char *const falsy[] = {"", "0", "no", "false", "none"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(falsy); i++) {
		if (strcasecmp(v, falsy[i]) == 0)
			return false;
	}
	return true;
}

int berth_api_query_int(const berth_api_req *req, const char *key, int64_t def, int64_t *out,
			berth_error **err)
{
	const char *v = berth_api_query(req, key);
	*out = def;
	if (v == NULL || *v == '\0')
		return 0;
	char *end;
	long long n = strtoll(v, &end, 10);
	if (*end != '\0')
		return berth_error_set(err, 400, "invalid value for %s: %s", key, v);
	*out = n;
	return 0;
}

const char *berth_api_body(const berth_api_req *req, size_t *len)
{
	if (len)
		*len = req->body_len;
	return req->body;
}

/* A second mapping of the body's file, checked against the first. */
static bool body_map(const berth_api_req *req, berth_api_kept_body *out)
{
	if (req->transport->body_file == NULL)
		return false;
	off_t offset = 0;
	int fd = req->transport->body_file(req, &offset);
	if (fd < 0)
		return false;
	long page = sysconf(_SC_PAGESIZE);
	off_t start = offset - offset % page;
	size_t len = (size_t)(offset - start) + req->body_len;
	void *map = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, start);
	close(fd);
	if (map == MAP_FAILED)
		return false;
	const char *data = (const char *)map + (offset - start);
	/* the transport's idea of where the body sits must be right: both ends
	 * compared, a page each */
	size_t edge = req->body_len < 4096 ? req->body_len : 4096;
	if (memcmp(data, req->body, edge) != 0 ||
	    memcmp(data + req->body_len - edge, req->body + req->body_len - edge, edge) != 0) {
		berth_warn("request body: its file does not hold it; copying");
		munmap(map, len);
		return false;
	}
	*out = (berth_api_kept_body){.data = data, .len = req->body_len, .map = map, .map_len = len};
	return true;
}

void berth_api_body_keep(const berth_api_req *req, berth_api_kept_body *out)
{
	if (req->body_len > 0 && body_map(req, out))
		return;
	char *copy = berth_xmalloc(req->body_len + 1);
	memcpy(copy, req->body, req->body_len);
	copy[req->body_len] = '\0';
	*out = (berth_api_kept_body){.data = copy, .len = req->body_len};
}

void berth_api_body_release(berth_api_kept_body *b)
{
	if (b->map)
		munmap(b->map, b->map_len);
	else
		free((char *)b->data);
	memset(b, 0, sizeof(*b));
}

int berth_api_body_json(const berth_api_req *req, bool allow_empty, json_t **out,
			berth_error **err)
{
	if (req->body_len == 0 && allow_empty) {
		*out = json_object();
		return 0;
	}
	return berth_json_parse_object(req->body, req->body_len, out, err);
}

const char *berth_api_header(const berth_api_req *req, const char *name)
{
	return req->transport->header(req, name);
}

/* --------------------------------------------------------------- replies */

void berth_api_add_header(berth_api_req *req, const char *name, const char *value)
{
	strv_append_pair(&req->resp_headers, name, value);
}

int berth_api_reply_raw(berth_api_req *req, int status, const char *content_type,
			const void *body, size_t len)
{
	if (req->replied)
		return 0;
	req->replied = true;
	req->transport->reply(req, status, content_type, body, len);
	return 0;
}

int berth_api_reply_json(berth_api_req *req, int status, json_t *body)
{
	char *s cleanup_free = berth_json_dump(body);
	json_decref(body);
	size_t len = strlen(s);
	s[len] = '\n'; /* dockerd ends JSON bodies with a newline */
	return berth_api_reply_raw(req, status, "application/json", s, len + 1);
}

int berth_api_reply_empty(berth_api_req *req, int status)
{
	return berth_api_reply_raw(req, status, NULL, "", 0);
}

void berth_api_reply_error(berth_api_req *req, const berth_error *err)
{
	int status = err->status >= 400 && err->status <= 599 ? err->status : 500;
	berth_api_reply_json(req, status, json_pack("{s:s}", "message", err->msg));
}

void berth_api_dispatch(berth_daemon *d, berth_api_req *req)
{
	req->daemon = d;
	if (req->route_err) {
		berth_api_reply_error(req, req->route_err);
		return;
	}
	berth_error *err cleanup_error = NULL;
	int rc = req->match.route->handler(d, req, &err);
	if (rc < 0 && !req->replied) {
		if (err == NULL)
			berth_error_set(&err, 500, "internal error");
		if (err->status >= 500)
			berth_errorf("%s %s: %s", req->method, req->path, err->msg);
		berth_api_reply_error(req, err);
	}
}

/* ---------------------------------------------------------------- hijack */

berth_api_splice *berth_api_hijack(berth_api_req *req, const char *content_type,
				   berth_api_splice_done_cb on_done, void *userdata,
				   berth_error **err)
{
	if (req->transport->hijack == NULL) {
		berth_error_set(err, 500, "this connection cannot be hijacked");
		return NULL;
	}
	req->replied = true;
	return req->transport->hijack(req, content_type, on_done, userdata, err);
}

/* ------------------------------------------------------------- websocket */

static bool header_has_token(const char *value, const char *token)
{
	size_t tlen = strlen(token);
	for (const char *s = value; s && *s;) {
		s += strspn(s, " \t,");
		size_t n = strcspn(s, ",");
		size_t end = n;
		while (end > 0 && (s[end - 1] == ' ' || s[end - 1] == '\t'))
			end--;
		if (end == tlen && strncasecmp(s, token, tlen) == 0)
			return true;
		s += n;
	}
	return false;
}

static void query_force(berth_api_req *req, const char *key, const char *value)
{
	for (size_t i = 0; i < req->nquery; i++) {
		if (strcmp(req->query[i].key, key) == 0) {
			free(req->query[i].value);
			req->query[i].value = berth_xstrdup(value);
		}
	}
	if (berth_api_query(req, key))
		return;
	req->query = berth_xrealloc(req->query, (req->nquery + 2) * sizeof(*req->query));
	req->query[req->nquery].key = berth_xstrdup(key);
	req->query[req->nquery].value = berth_xstrdup(value);
	req->nquery++;
	memset(&req->query[req->nquery], 0, sizeof(*req->query));
}

int berth_api_websocket_begin(berth_api_req *req, berth_error **err)
{
	const char *upgrade = berth_api_header(req, "Upgrade");
	const char *connection = berth_api_header(req, "Connection");
	const char *key = berth_api_header(req, "Sec-WebSocket-Key");
	const char *version = berth_api_header(req, "Sec-WebSocket-Version");
	if (upgrade == NULL || !header_has_token(upgrade, "websocket") || connection == NULL ||
	    !header_has_token(connection, "upgrade"))
		return berth_error_set(err, 400, "not websocket protocol");
	if (key == NULL || *key == '\0')
		return berth_error_set(err, 400, "missing Sec-WebSocket-Key");
	if (version == NULL || strcmp(version, "13") != 0)
		return berth_error_set(err, 400, "unsupported websocket version %s",
				       version ? version : "(none)");
	berth_ws_accept(key, req->ws_accept);
	req->ws_opcode = berth_api_version_below(req, "1.28") ? BERTH_WS_TEXT : BERTH_WS_BINARY;
	if (berth_api_version_below(req, "1.42")) {
		static const char *const all[] = {"stdin", "stdout", "stderr"};
		for (size_t i = 0; i < BERTH_ARRAY_SIZE(all); i++)
			query_force(req, all[i], "1");
	}
	return 0;
}

/* --------------------------------------------------------------- streams */

berth_api_stream *berth_api_stream_start(berth_api_req *req, int status, const char *content_type,
					 berth_api_stream_close_cb on_close, void *userdata)
{
	berth_api_stream *s = berth_xcalloc(1, sizeof(*s));
	s->req = req;
	s->on_close = on_close;
	s->userdata = userdata;
	req->replied = true;
	if (req->transport->stream_start(s, status, content_type) < 0) {
		free(s);
		return NULL;
	}
	return s;
}

void berth_api_stream_write(berth_api_stream *s, const void *data, size_t len)
{
	if (s->closed || s->ended || len == 0)
		return;
	s->req->transport->stream_write(s, data, len);
}

void berth_api_stream_write_json(berth_api_stream *s, json_t *j)
{
	char *str cleanup_free = berth_json_dump(j);
	json_decref(j);
	size_t len = strlen(str);
	str[len] = '\n';
	berth_api_stream_write(s, str, len + 1);
}

void berth_api_stream_end(berth_api_stream *s)
{
	if (s->ended)
		return;
	s->ended = true;
	s->req->transport->stream_end(s);
}

size_t berth_api_stream_pending(const berth_api_stream *s)
{
	return s->pending.len + s->inflight.len;
}

void berth_api_stream_closed(berth_api_stream *s)
{
	if (s->closed)
		return;
	s->closed = true;
	/* after end the owner has dropped the stream: nobody to tell */
	if (s->on_close && !s->ended)
		s->on_close(s, s->userdata);
}
