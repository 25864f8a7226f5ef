/*
 * control.c - the control socket: one JSON request per line, one JSON reply
 * per line, in order (the protocol is documented in shim.h). A "wait" holds
 * its connection: later requests on it are read only after it is answered.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "shim/internal.h"

#define REQUEST_MAX (64 * 1024)

typedef struct ctl_client {
	struct shim_control *ctl;
	int fd;
	shim_watch w;
	shim_timer resume;      /* reads buffered requests after a wait */
	berth_buf in, out;
	bool waiting;
	bool read_eof;
	struct ctl_client *next;
} ctl_client;

struct shim_control {
	shim *s;
	int lfd;
	shim_watch lw;
	ctl_client *clients;
};

typedef int (*ctl_fn)(ctl_client *cl, json_t *req, shim_proc *p, json_t *reply, berth_error **err);

static void client_update(ctl_client *cl);
static void process_input(ctl_client *cl);

static void client_close(ctl_client *cl)
{
	shim_control *c = cl->ctl;
	for (ctl_client **pp = &c->clients; *pp; pp = &(*pp)->next) {
		if (*pp == cl) {
			*pp = cl->next;
			break;
		}
	}
	shim_proc_drop_waiters(c->s, cl);
	shim_timer_stop(c->s->loop, &cl->resume);
	shim_loop_remove(c->s->loop, &cl->w);
	close(cl->fd);
	berth_buf_reset(&cl->in);
	berth_buf_reset(&cl->out);
	free(cl);
}

/* Returns false when the client was closed. */
static bool client_flush(ctl_client *cl)
{
	while (cl->out.len > 0) {
		ssize_t n = send(cl->fd, cl->out.data, cl->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (n < 0) {
			client_close(cl);
			return false;
		}
		berth_buf_consume(&cl->out, (size_t)n);
	}
	if (cl->read_eof && !cl->waiting && cl->in.len == 0) {
		client_close(cl);
		return false;
	}
	return true;
}

static void reply(ctl_client *cl, json_t *j)
{
	char *text cleanup_free = berth_json_dump(j);
	berth_buf_puts(&cl->out, text);
	berth_buf_append(&cl->out, "\n", 1);
}

static void reply_error(ctl_client *cl, const berth_error *err)
{
	json_t *j cleanup_json = json_pack("{s:b,s:i,s:s}", "ok", 0, "status", err->status, "error",
					   err->msg);
	reply(cl, j);
}

/* ---------------------------------------------------------------- commands */

static int cmd_start(ctl_client *cl, json_t *req, shim_proc *p, json_t *out, berth_error **err)
{
	if (shim_proc_start(p, err) < 0)
		return -1;
	/* the status with it: berthd needs no "state" call, which would wait
	 * behind the teardown of a container that exited at once */
	json_t *st cleanup_json = shim_proc_status_json(p);
	json_object_update(out, st);
	return 0;
}

static int cmd_kill(ctl_client *cl, json_t *req, shim_proc *p, json_t *out, berth_error **err)
{
	json_int_t sig = SIGKILL;
	bool all = false;
	if (berth_json_get_int(req, "signal", &sig, err) < 0 ||
	    berth_json_get_bool(req, "all", &all, err) < 0)
		return -1;
	return shim_proc_kill(p, (int)sig, all, err);
}

static int cmd_pause(ctl_client *cl, json_t *req, shim_proc *p, json_t *out, berth_error **err)
{
	return shim_proc_pause(p, true, err);
}

static int cmd_resume(ctl_client *cl, json_t *req, shim_proc *p, json_t *out, berth_error **err)
{
	return shim_proc_pause(p, false, err);
}

static int cmd_state(ctl_client *cl, json_t *req, shim_proc *p, json_t *out, berth_error **err)
{
	shim *s = cl->ctl->s;
	json_t *st cleanup_json = shim_proc_status_json(p);
	json_object_update(out, st);
	if (p == s->init) {
		json_t *ids = json_array();
		for (size_t i = 0; i < s->nexecs; i++)
			json_array_append_new(ids, json_string(s->execs[i]->exec_id));
		json_object_set_new(out, "execs", ids);
		json_object_set_new(out, "oom_kill", json_integer(shim_cgroup_oom_count(s->oom_file)));
	}
	return 0;
}

static void resume_cb(shim_timer *t)
{
	ctl_client *cl = t->data;
	process_input(cl);
}

static void wait_done(void *data, shim_proc *p)
{
	ctl_client *cl = data;
	json_t *j cleanup_json = shim_proc_status_json(p);
	json_object_set_new(j, "ok", json_true());
	reply(cl, j);
	cl->waiting = false;
	/* Not from here: we may be inside the loop over p's waiters. */
	shim_timer_start(cl->ctl->s->loop, &cl->resume, 0, resume_cb, cl);
}

static int cmd_wait(ctl_client *cl, json_t *req, shim_proc *p, json_t *out, berth_error **err)
{
	cl->waiting = true;
	shim_proc_on_final(p, wait_done, cl);
	return 1;
}

static int cmd_resize(ctl_client *cl, json_t *req, shim_proc *p, json_t *out, berth_error **err)
{
	json_int_t h = 0, w = 0;
	if (berth_json_get_int(req, "height", &h, err) < 0 ||
	    berth_json_get_int(req, "width", &w, err) < 0)
		return -1;
	if (h < 0 || w < 0 || h > 65535 || w > 65535)
		return berth_error_set(err, 400, "invalid TTY size %lldx%lld", (long long)h, (long long)w);
	return shim_io_resize(&p->io, (unsigned)h, (unsigned)w, err);
}

static int cmd_close_stdin(ctl_client *cl, json_t *req, shim_proc *p, json_t *out,
			   berth_error **err)
{
	shim_io_close_stdin(&p->io);
	return 0;
}

static int cmd_exec(ctl_client *cl, json_t *req, shim_proc *p, json_t *out, berth_error **err)
{
	const char *id = NULL, *process = NULL;
	bool in = false, once = true;
	if (berth_json_get_string(req, "exec_id", &id, err) < 0 ||
	    berth_json_get_string(req, "process", &process, err) < 0 ||
	    berth_json_get_bool(req, "stdin", &in, err) < 0 ||
	    berth_json_get_bool(req, "stdin_once", &once, err) < 0)
		return -1;
	if (id == NULL)
		return berth_error_set(err, 400, "exec needs \"exec_id\"");
	return shim_proc_exec_create(cl->ctl->s, id, process, in, once, err);
}

static const struct {
	const char *name;
	ctl_fn fn;
	bool takes_exec;        /* "exec_id" addresses an exec process */
} commands[] = {
	{"start", cmd_start, true},   {"kill", cmd_kill, true},     {"pause", cmd_pause, false},
	{"resume", cmd_resume, false}, {"state", cmd_state, true},   {"wait", cmd_wait, true},
	{"resize", cmd_resize, true}, {"close-stdin", cmd_close_stdin, true},
	{"exec", cmd_exec, false},
};

/* Returns 0 with a reply queued, 1 when the reply comes later. */
static int dispatch(ctl_client *cl, json_t *req, berth_error **err)
{
	const char *cmd = NULL, *exec_id = NULL;
	if (berth_json_get_string(req, "cmd", &cmd, err) < 0 ||
	    berth_json_get_string(req, "exec_id", &exec_id, err) < 0)
		return -1;
	for (size_t i = 0; cmd && i < BERTH_ARRAY_SIZE(commands); i++) {
		if (strcmp(cmd, commands[i].name) != 0)
			continue;
		shim_proc *p = shim_find_proc(cl->ctl->s, commands[i].takes_exec ? exec_id : NULL, err);
		if (p == NULL)
			return -1;
		json_t *out cleanup_json = json_pack("{s:b}", "ok", 1);
		int r = commands[i].fn(cl, req, p, out, err);
		if (r == 0)
			reply(cl, out);
		return r;
	}
	return berth_error_set(err, 400, "unknown command \"%s\"", cmd ? cmd : "");
}

static void handle_line(ctl_client *cl, const char *line, size_t len)
{
	berth_error *err cleanup_error = NULL;
	json_t *req cleanup_json = NULL;
	if (berth_json_parse_object(line, len, &req, &err) < 0 || dispatch(cl, req, &err) < 0)
		reply_error(cl, err);
}

static void process_input(ctl_client *cl)
{
	char *nl;
	while (!cl->waiting && cl->in.len && (nl = memchr(cl->in.data, '\n', cl->in.len)) != NULL) {
		size_t len = (size_t)(nl - cl->in.data);
		char *line cleanup_free = berth_xstrndup(cl->in.data, len);
		berth_buf_consume(&cl->in, len + 1);
		if (len > 0)
			handle_line(cl, line, len);
	}
	if (!cl->waiting && cl->read_eof)
		berth_buf_reset(&cl->in); /* an unterminated last line is dropped */
	if (client_flush(cl))
		client_update(cl);
}

static void client_update(ctl_client *cl)
{
	short ev = 0;
	if (!cl->read_eof && !cl->waiting)
		ev |= POLLIN;
	if (cl->out.len)
		ev |= POLLOUT;
	cl->w.events = ev;
}

static void client_cb(shim_watch *w, int revents)
{
	ctl_client *cl = w->data;
	if (revents & POLLIN) {
		char buf[4096];
		ssize_t n = recv(cl->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			berth_buf_append(&cl->in, buf, (size_t)n);
		else if (n == 0 || (errno != EAGAIN && errno != EINTR))
			cl->read_eof = true;
		if (cl->in.len > REQUEST_MAX) {
			client_close(cl);
			return;
		}
		process_input(cl);
		return;
	}
	if ((revents & (POLLERR | POLLNVAL)) || ((revents & POLLHUP) && !(revents & POLLOUT))) {
		client_close(cl);
		return;
	}
	if (client_flush(cl))
		client_update(cl);
}

static void listen_cb(shim_watch *w, int revents)
{
	shim_control *c = w->data;
	for (;;) {
		int fd = accept4(c->lfd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
		if (fd < 0)
			return;
		ctl_client *cl = berth_xcalloc(1, sizeof(*cl));
		cl->ctl = c;
		cl->fd = fd;
		cl->resume.slot = -1;
		cl->next = c->clients;
		c->clients = cl;
		shim_loop_add(c->s->loop, &cl->w, fd, POLLIN, client_cb, cl);
	}
}

int shim_control_listen(shim *s, berth_error **err)
{
	int fd;
	if (shim_listen(BERTH_SHIM_CONTROL_SOCK, &fd, err) < 0)
		return -1;
	shim_control *c = berth_xcalloc(1, sizeof(*c));
	c->s = s;
	c->lfd = fd;
	shim_loop_add(s->loop, &c->lw, fd, POLLIN, listen_cb, c);
	s->control = c;
	return 0;
}

void shim_control_flush(shim_control *c)
{
	for (ctl_client *cl = c ? c->clients : NULL; cl; cl = cl->next) {
		while (cl->out.len > 0) {
			ssize_t n = send(cl->fd, cl->out.data, cl->out.len, MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				break; /* the loop finishes it, or closes the client */
			berth_buf_consume(&cl->out, (size_t)n);
		}
	}
}

void shim_control_free(shim_control *c)
{
	if (c == NULL)
		return;
	shim_loop_remove(c->s->loop, &c->lw);
	close(c->lfd);
	unlink(BERTH_SHIM_CONTROL_SOCK);
	while (c->clients) {
		/* Last words (a wait's answer) go out before the shim exits. */
		ctl_client *cl = c->clients;
		if (cl->out.len)
			(void)berth_write_all(cl->fd, cl->out.data, cl->out.len);
		client_close(cl);
	}
	free(c);
}
