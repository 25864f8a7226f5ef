/*
 * test_client.c - the API client against a tiny HTTP/1.1 server run by the
 * test itself, on a UNIX socket in a temporary directory.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common.h"

/* ---------------------------------------------------------- test server */

typedef struct request {
	char method[16];
	char target[512];
	char user_agent[128];
	char content_type[128];
	char body[512];
} request;

typedef struct server server;
/* Answers one request on fd; returns false to close the connection. */
typedef bool (*handler_fn)(server *s, int fd, const request *req);

struct server {
	char dir[64];
	char sock[128];
	char host[160];
	int lfd;
	pthread_t thread;
	handler_fn handler;
	request last;
	int requests;
	/* streaming handshake: the client's callback saw the first chunk */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool chunk_seen;
	bool waited_in_vain;
};

/* No cmocka assertion here: this runs on the server thread, and a client
 * that stops reading early makes writes fail. */
static void send_str(int fd, const char *s)
{
	(void)berth_write_all(fd, s, strlen(s));
}

static void send_fmt(int fd, const char *fmt, ...)
{
	berth_buf b = {0};
	va_list ap;
	va_start(ap, fmt);
	berth_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	send_str(fd, b.data);
	berth_buf_reset(&b);
}

static void send_chunk(int fd, const char *data)
{
	send_fmt(fd, "%zx\r\n%s\r\n", strlen(data), data);
}

static void header_value(const char *head, const char *name, char *out, size_t outlen)
{
	const char *p = strcasestr(head, name);
	out[0] = '\0';
	if (p == NULL)
		return;
	p += strlen(name);
	while (*p == ' ')
		p++;
	size_t len = strcspn(p, "\r\n");
	snprintf(out, outlen, "%.*s", (int)(len < outlen ? len : outlen - 1), p);
}

/* Reads one request; false at end of connection. */
static bool read_request(int fd, request *req)
{
	berth_buf b cleanup_buf = {0};
	char tmp[1024];
	char *end = NULL;
	while ((end = b.data ? strstr(b.data, "\r\n\r\n") : NULL) == NULL) {
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n <= 0)
			return false;
		berth_buf_append(&b, tmp, (size_t)n);
	}
	memset(req, 0, sizeof(*req));
	sscanf(b.data, "%15s %511s", req->method, req->target);
	header_value(b.data, "\r\nUser-Agent:", req->user_agent, sizeof(req->user_agent));
	header_value(b.data, "\r\nContent-Type:", req->content_type, sizeof(req->content_type));
	char cl[32];
	header_value(b.data, "\r\nContent-Length:", cl, sizeof(cl));
	size_t want = (size_t)atol(cl), head = (size_t)(end + 4 - b.data);
	while (b.len - head < want) {
		ssize_t n = read(fd, tmp, sizeof(tmp));
		if (n <= 0)
			return false;
		berth_buf_append(&b, tmp, (size_t)n);
	}
	snprintf(req->body, sizeof(req->body), "%.*s", (int)want, b.data + head);
	return true;
}

static void *server_main(void *arg)
{
	server *s = arg;
	for (;;) {
		int fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			return NULL;
		request req;
		while (read_request(fd, &req)) {
			s->last = req;
			s->requests++;
			if (!s->handler(s, fd, &req))
				break;
		}
		close(fd);
	}
}

static void server_start(server *s, handler_fn handler)
{
	memset(s, 0, sizeof(*s));
	strcpy(s->dir, "/tmp/berth-test-client-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->sock, sizeof(s->sock), "%s/api.sock", s->dir);
	snprintf(s->host, sizeof(s->host), "unix://%s", s->sock);
	s->handler = handler;
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->cond, NULL);
	s->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	assert_true(strlen(s->sock) < sizeof(addr.sun_path));
	memcpy(addr.sun_path, s->sock, strlen(s->sock) + 1);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(s->lfd, 4), 0);
	assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void server_stop(server *s)
{
	shutdown(s->lfd, SHUT_RDWR);
	pthread_join(s->thread, NULL);
	close(s->lfd);
	unlink(s->sock);
	rmdir(s->dir);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->cond);
}

static bool send_json(int fd, int status, const char *reason, const char *body)
{
	send_fmt(fd,
		 "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
		 status, reason, strlen(body), body);
	return true;
}

/* ---------------------------------------------------------------- cases */

static void test_missing_socket(void **state)
{
	berth_client *c = NULL;
	berth_error *err cleanup_error = NULL;
	assert_int_equal(berth_client_new("unix:///nonexistent/berth.sock", NULL, &c, &err), 0);
	berth_client_response resp = {0};
	assert_int_equal(berth_client_request(c, "GET", "/info", NULL, NULL, 0, &resp, &err), -1);
	assert_non_null(err);
	assert_int_equal(err->status, 500);
	assert_string_equal(err->msg, "Cannot connect to the Docker daemon at "
				      "unix:///nonexistent/berth.sock. Is the docker daemon running?");
	berth_error_free(&err);
	assert_int_equal(berth_client_ping(c, &err), -1);
	assert_non_null(strstr(err->msg, "Is the docker daemon running?"));
	berth_client_free(c);
}

static void test_refused_tcp(void **state)
{
	berth_client *c = NULL;
	berth_error *err cleanup_error = NULL;
	/* Port 1 on loopback: nothing listens there. */
	assert_int_equal(berth_client_new("tcp://127.0.0.1:1", NULL, &c, &err), 0);
	assert_int_equal(berth_client_ping(c, &err), -1);
	assert_string_equal(err->msg, "Cannot connect to the Docker daemon at tcp://127.0.0.1:1. "
				      "Is the docker daemon running?");
	berth_client_free(c);
}

static void test_bad_host(void **state)
{
	berth_client *c = NULL;
	berth_error *err cleanup_error = NULL;
	assert_int_equal(berth_client_new("ftp://x", NULL, &c, &err), -1);
	assert_null(c);
	assert_string_equal(err->msg, "unable to parse docker host `ftp://x`");
	berth_error_free(&err);
	assert_int_equal(berth_client_new("unix://", NULL, &c, &err), -1);
	berth_error_free(&err);
	assert_int_equal(berth_client_new("tcp://", NULL, &c, &err), -1);
}

static bool ping_handler(server *s, int fd, const request *req)
{
	if (strcmp(req->target, "/_ping") == 0) {
		send_str(fd, "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Length: 2\r\n\r\nOK");
		return true;
	}
	if (strcmp(req->target, "/v1.41/info") == 0)
		return send_json(fd, 200, "OK", "{\"ID\":\"x\"}");
	return send_json(fd, 404, "Not Found", "{\"message\":\"page not found\"}");
}

static void test_ping_negotiates(void **state)
{
	server s;
	server_start(&s, ping_handler);
	berth_client *c = NULL;
	berth_error *err cleanup_error = NULL;
	berth_client_response resp = {0};
	assert_int_equal(berth_client_new(s.host, NULL, &c, &err), 0);
	assert_int_equal(berth_client_ping(c, &err), 0);
	assert_string_equal(s.last.target, "/_ping");
	assert_string_equal(s.last.user_agent, "berth-cli/" BERTH_VERSION);
	assert_int_equal(berth_client_request(c, "GET", "/info", NULL, NULL, 0, &resp, &err), 0);
	assert_string_equal(s.last.target, "/v1.41/info");
	assert_int_equal(resp.status, 200);
	assert_string_equal(resp.body.data, "{\"ID\":\"x\"}");
	assert_string_equal(resp.content_type, "application/json");
	/* An explicit version wins; requests reuse one connection. */
	berth_client_set_version(c, "1.44");
	assert_int_equal(berth_client_request(c, "GET", "/info", NULL, NULL, 0, &resp, &err), 0);
	assert_string_equal(s.last.target, "/v1.44/info");
	assert_int_equal(resp.status, 404);
	char *msg = berth_client_error_message(&resp);
	assert_string_equal(msg, "page not found");
	free(msg);
	berth_client_response_reset(&resp);
	berth_client_free(c);
	server_stop(&s);
	assert_int_equal(s.requests, 3);
}

static bool newer_handler(server *s, int fd, const request *req)
{
	send_str(fd, "HTTP/1.1 200 OK\r\nAPI-VERSION:  1.99 \r\nContent-Length: 2\r\n\r\nOK");
	return true;
}

static void test_ping_keeps_ours_when_older(void **state)
{
	server s;
	server_start(&s, newer_handler);
	berth_client *c = NULL;
	berth_error *err cleanup_error = NULL;
	berth_client_response resp = {0};
	assert_int_equal(berth_client_new(s.host, NULL, &c, &err), 0);
	assert_int_equal(berth_client_ping(c, &err), 0);
	assert_int_equal(berth_client_request(c, "GET", "/version", NULL, NULL, 0, &resp, &err), 0);
	assert_string_equal(s.last.target, "/v" BERTH_API_VERSION "/version");
	berth_client_response_reset(&resp);
	berth_client_free(c);
	server_stop(&s);
}

static bool echo_handler(server *s, int fd, const request *req)
{
	/* No body, no Content-Length: the client must not wait for one. */
	if (strcmp(req->method, "DELETE") == 0) {
		send_str(fd, "HTTP/1.1 204 No Content\r\n\r\n");
		return true;
	}
	return send_json(fd, 201, "Created", req->body);
}

static void test_post_body(void **state)
{
	server s;
	server_start(&s, echo_handler);
	berth_client *c = NULL;
	berth_error *err cleanup_error = NULL;
	berth_client_response resp = {0};
	const char *body = "{\"Image\":\"busybox\"}";
	assert_int_equal(berth_client_new(s.host, NULL, &c, &err), 0);
	assert_int_equal(berth_client_request(c, "POST", "/containers/create?name=a%20b",
					      "application/json", body, strlen(body), &resp, &err),
			 0);
	assert_string_equal(s.last.method, "POST");
	assert_string_equal(s.last.target, "/v" BERTH_API_VERSION "/containers/create?name=a%20b");
	assert_string_equal(s.last.content_type, "application/json");
	assert_string_equal(s.last.body, body);
	assert_int_equal(resp.status, 201);
	assert_string_equal(resp.body.data, body);
	assert_int_equal(berth_client_request(c, "DELETE", "/containers/a", NULL, NULL, 0, &resp, &err),
			 0);
	assert_string_equal(s.last.method, "DELETE");
	assert_int_equal(resp.status, 204);
	assert_string_equal(resp.body.data, "");
	/* An empty error body still gives a message. */
	resp.status = 404;
	char *msg = berth_client_error_message(&resp);
	assert_non_null(strstr(msg, "Not Found"));
	free(msg);
	berth_client_response_reset(&resp);
	berth_client_free(c);
	server_stop(&s);
}

/* Sends the first chunk, then waits (5 s at most) until the client's
 * callback has seen it before sending the second: a client that buffered the
 * body would only see both after the wait. */
static bool stream_handler(server *s, int fd, const request *req)
{
	send_str(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		     "Transfer-Encoding: chunked\r\n\r\n");
	send_chunk(fd, "{\"Action\":\"start\"}\n");
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 5;
	pthread_mutex_lock(&s->lock);
	while (!s->chunk_seen) {
		if (pthread_cond_timedwait(&s->cond, &s->lock, &deadline) == ETIMEDOUT) {
			s->waited_in_vain = true;
			break;
		}
	}
	pthread_mutex_unlock(&s->lock);
	send_chunk(fd, "{\"Action\":\"stop\"}\n");
	send_str(fd, "0\r\n\r\n");
	return true;
}

typedef struct chunks {
	server *s;
	berth_buf all;
	int calls;
	int stop_after;
} chunks;

static int on_chunk(void *userdata, const char *data, size_t len)
{
	chunks *c = userdata;
	berth_buf_append(&c->all, data, len);
	c->calls++;
	pthread_mutex_lock(&c->s->lock);
	c->s->chunk_seen = true;
	pthread_cond_signal(&c->s->cond);
	pthread_mutex_unlock(&c->s->lock);
	return c->stop_after && c->calls >= c->stop_after;
}

static void test_stream_chunks_as_they_arrive(void **state)
{
	server s;
	server_start(&s, stream_handler);
	berth_client *c = NULL;
	berth_error *err cleanup_error = NULL;
	chunks got = {.s = &s};
	long status = 0;
	assert_int_equal(berth_client_new(s.host, NULL, &c, &err), 0);
	assert_int_equal(berth_client_stream(c, "GET", "/events", NULL, NULL, 0, &status, on_chunk,
					     &got, &err),
			 0);
	assert_int_equal(status, 200);
	assert_false(s.waited_in_vain);
	assert_true(got.calls >= 2);
	assert_string_equal(got.all.data, "{\"Action\":\"start\"}\n{\"Action\":\"stop\"}\n");
	berth_buf_reset(&got.all);
	berth_client_free(c);
	server_stop(&s);
}

static void test_stream_stops_on_request(void **state)
{
	server s;
	server_start(&s, stream_handler);
	berth_client *c = NULL;
	berth_error *err cleanup_error = NULL;
	chunks got = {.s = &s, .stop_after = 1};
	long status = 0;
	assert_int_equal(berth_client_new(s.host, NULL, &c, &err), 0);
	assert_int_equal(berth_client_stream(c, "GET", "/events", NULL, NULL, 0, &status, on_chunk,
					     &got, &err),
			 0);
	assert_null(err);
	assert_int_equal(got.calls, 1);
	assert_string_equal(got.all.data, "{\"Action\":\"start\"}\n");
	berth_buf_reset(&got.all);
	berth_client_free(c);
	server_stop(&s);
}

static bool error_handler(server *s, int fd, const request *req)
{
	return send_json(fd, 400, "Bad Request", "{\"message\":\"invalid filter 'foo'\"}");
}

static void test_stream_error_status(void **state)
{
	server s;
	server_start(&s, error_handler);
	berth_client *c = NULL;
	berth_error *err cleanup_error = NULL;
	chunks got = {.s = &s};
	long status = 0;
	assert_int_equal(berth_client_new(s.host, NULL, &c, &err), 0);
	assert_int_equal(berth_client_stream(c, "GET", "/events?filters=x", NULL, NULL, 0, &status,
					     on_chunk, &got, &err),
			 -1);
	assert_int_equal(status, 400);
	assert_int_equal(err->status, 400);
	assert_string_equal(err->msg, "invalid filter 'foo'");
	assert_int_equal(got.calls, 0);
	berth_client_free(c);
	server_stop(&s);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_missing_socket),
		cmocka_unit_test(test_refused_tcp),
		cmocka_unit_test(test_bad_host),
		cmocka_unit_test(test_ping_negotiates),
		cmocka_unit_test(test_ping_keeps_ours_when_older),
		cmocka_unit_test(test_post_body),
		cmocka_unit_test(test_stream_chunks_as_they_arrive),
		cmocka_unit_test(test_stream_stops_on_request),
		cmocka_unit_test(test_stream_error_status),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
