/*
 * attach.c - the attach socket. Each client chooses its streams with a first
 * JSON line, then receives the process's output (framed unless TTY) and may
 * write its stdin. Output is buffered per client; while one holds more than
 * HIGH_WATER bytes the io stops reading the process's output, so a slow
 * client slows the container rather than growing the shim (dockerd does the
 * same, through blocking writes).
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim/internal.h"

#define HIGH_WATER (64 * 1024)
#define HELLO_MAX 4096
#define FINISH_GRACE_MS 5000

typedef struct attach_client {
	struct shim_attach *a;
	int fd;
	shim_watch w;
	bool hello;             /* the first line was read */
	bool want_stdin, want_stdout, want_stderr;
	bool read_eof;
	bool use_escape;
	shim_escape esc;
	berth_buf in;           /* the first line, while it arrives */
	berth_buf out;          /* output not written yet */
	struct attach_client *next;
} attach_client;

struct shim_attach {
	shim_loop *loop;
	char *path;
	int lfd;
	shim_watch lw;
	bool tty;
	shim_attach_ops ops;
	void *data;
	attach_client *clients;
	bool stdin_paused;
	bool was_backlogged;
	bool finishing;
	bool finished;
	shim_timer grace;
};

static void client_update(attach_client *c);

static void client_close(attach_client *c)
{
	shim_attach *a = c->a;
	for (attach_client **pp = &a->clients; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	if (c->hello && c->want_stdin && !c->read_eof && a->ops.stdin_eof)
		a->ops.stdin_eof(a->data);
	shim_loop_remove(a->loop, &c->w);
	close(c->fd);
	berth_buf_reset(&c->in);
	berth_buf_reset(&c->out);
	free(c);
}

static void check_drained(shim_attach *a)
{
	if (a->was_backlogged && !shim_attach_backlogged(a)) {
		a->was_backlogged = false;
		if (a->ops.drained)
			a->ops.drained(a->data);
	}
}

static void check_finished(shim_attach *a)
{
	if (!a->finishing || a->clients != NULL || a->finished)
		return;
	a->finished = true;
	shim_timer_stop(a->loop, &a->grace);
	if (a->ops.finished)
		a->ops.finished(a->data);
}

/* Returns false when the client was closed. */
static bool client_flush(attach_client *c)
{
	while (c->out.len > 0) {
		ssize_t n = send(c->fd, c->out.data, c->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			client_close(c);
			return false;
		}
		berth_buf_consume(&c->out, (size_t)n);
	}
	if (c->out.len == 0 && c->out.cap > HIGH_WATER)
		berth_buf_reset(&c->out); /* give a burst's memory back */
	return true;
}

static int parse_hello(attach_client *c, const char *line, size_t len)
{
	json_t *j cleanup_json = NULL;
	berth_error *err cleanup_error = NULL;
	if (len > 0 && berth_json_parse_object(line, len, &j, &err) < 0)
		return -1;
	bool in = false, out = true, errs = true;
	const char *keys = NULL;
	if (j && (berth_json_get_bool(j, "stdin", &in, &err) < 0 ||
		  berth_json_get_bool(j, "stdout", &out, &err) < 0 ||
		  berth_json_get_bool(j, "stderr", &errs, &err) < 0 ||
		  berth_json_get_string(j, "detach_keys", &keys, &err) < 0))
		return -1;
	c->want_stdin = in;
	c->want_stdout = out;
	c->want_stderr = errs;
	/* dockerd only watches for detach keys on a TTY; ctrl-p,ctrl-q by default. */
	if (c->a->tty && in) {
		if (shim_escape_parse(&c->esc, keys && *keys ? keys : "ctrl-p,ctrl-q", &err) < 0)
			return -1;
		c->use_escape = true;
	}
	c->hello = true;
	return 0;
}

/* Returns false when the client was closed (it typed the detach keys). */
static bool client_stdin(attach_client *c, const char *buf, size_t len)
{
	shim_attach *a = c->a;
	if (!c->want_stdin || a->ops.stdin_data == NULL)
		return true;
	if (!c->use_escape) {
		a->ops.stdin_data(a->data, buf, len);
		return true;
	}
	berth_buf pass cleanup_buf = {0};
	bool detach = shim_escape_filter(&c->esc, buf, len, &pass);
	if (pass.len)
		a->ops.stdin_data(a->data, pass.data, pass.len);
	if (detach) {
		/* A detach is not the end of stdin: stdin-once must not fire. */
		c->read_eof = true;
		client_close(c);
		return false;
	}
	return true;
}

/* Until the first line is complete, input is that line. */
static bool client_hello(attach_client *c, const char *buf, size_t len)
{
	berth_buf_append(&c->in, buf, len);
	char *nl = memchr(c->in.data, '\n', c->in.len);
	if (nl == NULL) {
		if (c->in.len <= HELLO_MAX)
			return true;
		client_close(c);
		return false;
	}
	size_t line = (size_t)(nl - c->in.data);
	if (parse_hello(c, c->in.data, line) < 0) {
		client_close(c);
		return false;
	}
	berth_buf tail cleanup_buf = {0};
	berth_buf_append(&tail, nl + 1, c->in.len - line - 1);
	berth_buf_reset(&c->in);
	return tail.len == 0 || client_stdin(c, tail.data, tail.len);
}

/* Returns false when the client was closed. */
static bool client_read(attach_client *c)
{
	char buf[8192];
	ssize_t n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n < 0 && (errno == EAGAIN || errno == EINTR || errno == EWOULDBLOCK))
		return true;
	if (n > 0)
		return c->hello ? client_stdin(c, buf, (size_t)n) : client_hello(c, buf, (size_t)n);
	if (!c->hello) {
		client_close(c);
		return false;
	}
	bool was_stdin = c->want_stdin && !c->read_eof;
	c->read_eof = true;
	if (was_stdin && c->a->ops.stdin_eof)
		c->a->ops.stdin_eof(c->a->data);
	return true;
}

static void client_cb(shim_watch *w, int revents)
{
	attach_client *c = w->data;
	shim_attach *a = c->a;
	bool alive = true;
	if (revents & POLLIN)
		alive = client_read(c);
	if (alive && (revents & POLLOUT))
		alive = client_flush(c);
	/* POLLHUP without POLLIN: gone, or we stopped reading it; either way
	 * there is nobody left to talk to. */
	if (alive && ((revents & (POLLERR | POLLNVAL)) || ((revents & POLLHUP) && !(revents & POLLIN)) ||
		      (a->finishing && c->out.len == 0))) {
		client_close(c);
		alive = false;
	}
	if (alive)
		client_update(c);
	check_drained(a);
	check_finished(a);
}

static void client_update(attach_client *c)
{
	short ev = 0;
	if (!c->read_eof && !(c->hello && c->want_stdin && c->a->stdin_paused) && !c->a->finishing)
		ev |= POLLIN;
	if (c->out.len > 0)
		ev |= POLLOUT;
	c->w.events = ev;
}

static void accept_one(shim_attach *a, int fd)
{
	attach_client *c = berth_xcalloc(1, sizeof(*c));
	c->a = a;
	c->fd = fd;
	c->next = a->clients;
	a->clients = c;
	shim_loop_add(a->loop, &c->w, fd, POLLIN, client_cb, c);
}

static void listen_cb(shim_watch *w, int revents)
{
	shim_attach *a = w->data;
	for (;;) {
		int fd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		accept_one(a, fd);
	}
}

int shim_attach_listen(shim_loop *loop, const char *path, bool tty, const shim_attach_ops *ops,
		       void *data, shim_attach **out, berth_error **err)
{
	int fd;
	if (shim_listen(path, &fd, err) < 0)
		return -1;
	shim_attach *a = berth_xcalloc(1, sizeof(*a));
	a->loop = loop;
	a->path = berth_xstrdup(path);
	a->lfd = fd;
	a->tty = tty;
	a->ops = *ops;
	a->data = data;
	a->grace.slot = -1;
	shim_loop_add(loop, &a->lw, fd, POLLIN, listen_cb, a);
	*out = a;
	return 0;
}

void shim_attach_sync(shim_attach *a)
{
	listen_cb(&a->lw, POLLIN);
	for (attach_client *c = a->clients, *next; c; c = next) {
		next = c->next;
		if (!c->hello && client_read(c))
			client_update(c);
	}
}

static void queue(attach_client *c, int stream, const char *buf, size_t len)
{
	if (!c->a->tty) {
		uint8_t hdr[BERTH_SHIM_FRAME_HEADER];
		berth_shim_frame_header(hdr, stream, (uint32_t)len);
		berth_buf_append(&c->out, hdr, sizeof(hdr));
	}
	berth_buf_append(&c->out, buf, len);
}

void shim_attach_broadcast(shim_attach *a, int stream, const char *buf, size_t len)
{
	for (attach_client *c = a->clients, *next; c; c = next) {
		next = c->next;
		if (!c->hello || (stream == BERTH_SHIM_STDOUT ? !c->want_stdout : !c->want_stderr))
			continue;
		bool was_empty = c->out.len == 0;
		queue(c, stream, buf, len);
		if (was_empty && !client_flush(c))
			continue;
		client_update(c);
	}
	if (shim_attach_backlogged(a))
		a->was_backlogged = true;
}

bool shim_attach_backlogged(const shim_attach *a)
{
	for (const attach_client *c = a->clients; c; c = c->next)
		if (c->out.len >= HIGH_WATER)
			return true;
	return false;
}

void shim_attach_pause_stdin(shim_attach *a, bool paused)
{
	a->stdin_paused = paused;
	for (attach_client *c = a->clients; c; c = c->next)
		client_update(c);
}

static void grace_cb(shim_timer *t)
{
	shim_attach *a = t->data;
	while (a->clients)
		client_close(a->clients);
	check_finished(a);
}

void shim_attach_finish(shim_attach *a)
{
	if (a->finishing)
		return;
	a->finishing = true;
	shim_loop_remove(a->loop, &a->lw);
	close(a->lfd);
	a->lfd = -1;
	unlink(a->path);
	for (attach_client *c = a->clients, *next; c; c = next) {
		next = c->next;
		if (c->out.len == 0)
			client_close(c);
		else
			client_update(c);
	}
	if (a->clients)
		shim_timer_start(a->loop, &a->grace, FINISH_GRACE_MS, grace_cb, a);
	check_finished(a);
}

void shim_attach_free(shim_attach *a)
{
	if (a == NULL)
		return;
	a->ops.stdin_eof = NULL;
	while (a->clients)
		client_close(a->clients);
	shim_timer_stop(a->loop, &a->grace);
	if (a->lfd >= 0) {
		shim_loop_remove(a->loop, &a->lw);
		close(a->lfd);
		unlink(a->path);
	}
	free(a->path);
	free(a);
}
