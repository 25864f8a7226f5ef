/*
 * attach.c - POST /containers/{id}/attach: the hijacked connection is
 * spliced with the shim's attach socket. A client may attach before the
 * container starts (docker run does): it then waits, and start connects it
 * before the process runs.
 */
#include <stdlib.h>
#include <string.h>

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

int berth_container_attach(berth_container_store *s, berth_api_req *req, const char *name,
			   berth_error **err)
{
	berth_container *c;
	if (berth_container_find(s, name, &c, err) < 0)
		return -1;
	if (c->removing)
		return berth_error_set(err, 409, "container %s is being removed", c->id);
	bool running = container_running(c);
	bool exited = !running && strcmp(container_status(c), "created") != 0;
	if (exited && !berth_api_query_bool(req, "logs", false))
		return berth_error_set(err, 409, "You cannot attach to a stopped container, start it first");
	const char *keys = berth_api_query(req, "detachKeys");
	json_t *hello = json_pack("{s:b, s:b, s:b}", "stdin", berth_api_query_bool(req, "stdin", false),
				  "stdout", berth_api_query_bool(req, "stdout", false), "stderr",
				  berth_api_query_bool(req, "stderr", false));
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
	if (!running)
		return 0; /* connected by start */
	char *path cleanup_free = berth_xasprintf("%s/%s", c->shim_dir, BERTH_SHIM_ATTACH_SOCK);
	int fd = -1;
	berth_error *e cleanup_error = NULL;
	a->connected = true;
	if (berth_shim_connect(path, &fd, &e) < 0) {
		berth_api_splice_close(a->splice);
		return 0;
	}
	berth_api_splice_connect(a->splice, fd, a->hello);
	return 0;
}
