/*
 * attach.c - POST /containers/{id}/attach: the hijacked connection is
 * spliced with the shim's attach socket. A client may attach before the
 * container starts (docker run does): it then waits, and start connects it
 * before the process runs.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "shim/shim.h"

static void attach_done(berth_api_splice *sp, void *userdata)
{
	berth_container *c = userdata;
	for (container_attach **p = &c->attaches; *p; p = &(*p)->next) {
		if ((*p)->splice == sp) {
			container_attach *a = *p;
			*p = a->next;
			free(a->hello);
			free(a);
			break;
		}
	}
	container_unref(c);
}

void container_close_attaches(berth_container *c)
{
	for (container_attach *a = c->attaches; a; a = a->next) {
		if (!a->connected) {
			a->connected = true;
			berth_api_splice_close(a->splice);
		}
	}
}

static const char *stream_content_type(const berth_container *c)
{
	return json_is_true(json_object_get(json_object_get(c->record, "Config"), "Tty"))
		       ? "application/vnd.docker.raw-stream"
		       : "application/vnd.docker.multiplexed-stream";
}

/* Connects an attach to the shim's live output, or, with nothing live to
 * show, to an empty socket: the client then gets what was queued for it
 * (the log replay) and the end of the stream. */
static void attach_connect(berth_container *c, container_attach *a, bool live)
{
	int fd = -1;
	a->connected = true;
	if (live) {
		char *path cleanup_free = berth_xasprintf("%s/%s", c->shim_dir, BERTH_SHIM_ATTACH_SOCK);
		berth_error *e cleanup_error = NULL;
		if (berth_shim_connect(path, &fd, &e) < 0) {
			berth_api_splice_close(a->splice);
			return;
		}
	} else {
		int pair[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
			berth_api_splice_close(a->splice);
			return;
		}
		close(pair[1]);
		fd = pair[0];
	}
	berth_api_splice_connect(a->splice, fd, live ? a->hello : NULL);
}

/* logs=1: the history goes first, rendered in the pool. */
typedef struct attach_replay {
	uv_work_t work;
	berth_container *c;
	container_attach *a;
	char *log_path;
	bool tty, out, err, live;
	berth_buf text;
} attach_replay;

static void replay_work(uv_work_t *w)
{
	attach_replay *r = w->data;
	container_logs_render(r->log_path, r->tty, r->out, r->err, &r->text, NULL);
}

static void replay_done(uv_work_t *w, int status)
{
	attach_replay *r = w->data;
	berth_container *c = r->c;
	for (container_attach *a = c->attaches; a; a = a->next) {
		if (a != r->a || a->connected)
			continue; /* gone, or closed by a removal meanwhile */
		if (r->text.len)
			berth_api_splice_prefix(a->splice, r->text.data, r->text.len);
		attach_connect(c, a, r->live && container_running(c));
	}
	berth_buf_reset(&r->text);
	free(r->log_path);
	free(r);
	container_unref(c);
}

static void attach_replay_queue(berth_container *c, container_attach *a, bool live, bool out,
				bool err)
{
	attach_replay *r = berth_xcalloc(1, sizeof(*r));
	r->c = c;
	r->a = a;
	r->log_path = berth_xstrdup(berth_json_string(c->record, "LogPath") ?: "");
	r->tty = json_is_true(json_object_get(json_object_get(c->record, "Config"), "Tty"));
	r->out = out;
	r->err = err;
	r->live = live;
	r->work.data = r;
	container_ref(c);
	if (uv_queue_work(c->store->daemon->loop, &r->work, replay_work, replay_done) < 0)
		replay_done(&r->work, 0);
}

int berth_container_attach_check(berth_container_store *s, berth_api_req *req, const char *name,
				 berth_error **err)
{
	berth_container *c;
	if (berth_container_find(s, name, &c, err) < 0)
		return -1;
	if (c->removing)
		return berth_error_set(err, 409, "container %s is being removed", c->id);
	bool created = strcmp(container_status(c), "created") == 0;
	if (!container_running(c) && !created && !berth_api_query_bool(req, "logs", false))
		return berth_error_set(err, 409, "You cannot attach to a stopped container, start it first");
	return 0;
}

int berth_container_attach(berth_container_store *s, berth_api_req *req, const char *name,
			   berth_error **err)
{
	berth_container *c;
	if (berth_container_attach_check(s, req, name, err) < 0 ||
	    berth_container_find(s, name, &c, err) < 0)
		return -1;
	bool running = container_running(c);
	bool created = strcmp(container_status(c), "created") == 0;
	bool logs = berth_api_query_bool(req, "logs", false);
	bool stream = berth_api_query_bool(req, "stream", false);
	bool out = berth_api_query_bool(req, "stdout", false);
	bool errs = berth_api_query_bool(req, "stderr", false);
	const char *keys = berth_api_query(req, "detachKeys");
	json_t *hello = json_pack("{s:b, s:b, s:b}", "stdin", berth_api_query_bool(req, "stdin", false),
				  "stdout", out, "stderr", errs);
	if (keys && *keys)
		json_object_set_new(hello, "detach_keys", json_string(keys));
	char *line = berth_json_dump(hello);
	json_decref(hello);
	container_attach *a = berth_xcalloc(1, sizeof(*a));
	a->hello = berth_xasprintf("%s\n", line);
	free(line);
	container_ref(c);
	a->splice = berth_api_hijack(req, stream_content_type(c), attach_done, c, err);
	if (a->splice == NULL) {
		free(a->hello);
		free(a);
		container_unref(c);
		return -1;
	}
	a->next = c->attaches;
	c->attaches = a;
	container_event(c, "attach", NULL);
	if (logs && !created)
		attach_replay_queue(c, a, stream && running, out, errs);
	else if (running)
		attach_connect(c, a, true);
	/* else: a created container; its start connects it */
	return 0;
}
