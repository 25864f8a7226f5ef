/* containers.c - the Container API group: thin handlers over engine/container. */
#include <string.h>

#include "api.h"
#include "websocket.h"
#include "engine/container/container.h"
#include "engine/engine.h"

#define STORE(d) ((d)->containers)
#define ID(req) berth_api_param(req, "id")

static int containers_create(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	json_t *body cleanup_json = NULL;
	if (berth_api_body_json(req, false, &body, err) < 0)
		return -1;
	char *id cleanup_free = NULL;
	json_t *warnings = NULL;
	if (berth_container_create(STORE(d), berth_api_query(req, "name"), body, &id, &warnings, err) < 0)
		return -1;
	return berth_api_reply_json(req, 201, json_pack("{s:s, s:o}", "Id", id, "Warnings", warnings));
}

static int containers_list(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	berth_filters *f cleanup_filters = NULL;
	int64_t limit;
	if (berth_filters_parse(berth_api_query(req, "filters"), &f, err) < 0 ||
	    berth_api_query_int(req, "limit", -1, &limit, err) < 0)
		return -1;
	json_t *list = NULL;
	bool size = berth_api_query_bool(req, "size", false);
	if (berth_container_list(STORE(d), berth_api_query_bool(req, "all", false), limit, size, f,
				 &list, err) < 0)
		return -1;
	if (size)
		return berth_container_reply_with_sizes(STORE(d), req, list);
	return berth_api_reply_json(req, 200, list);
}

static int containers_inspect(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	json_t *doc = NULL;
	bool size = berth_api_query_bool(req, "size", false);
	if (berth_container_inspect(STORE(d), ID(req), size, &doc, err) < 0)
		return -1;
	if (size)
		return berth_container_reply_with_sizes(STORE(d), req, doc);
	return berth_api_reply_json(req, 200, doc);
}

static int containers_start(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	return berth_container_start(STORE(d), req, ID(req), err);
}

/* stop and restart take t (seconds; -1 the container's default) and signal. */
static int stop_args(berth_api_req *req, int64_t *timeout, berth_error **err)
{
	return berth_api_query_int(req, "t", -1, timeout, err);
}

static int containers_stop(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	int64_t t;
	if (stop_args(req, &t, err) < 0)
		return -1;
	return berth_container_stop(STORE(d), req, ID(req), berth_api_query(req, "signal"), t, err);
}

static int containers_restart(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	int64_t t;
	if (stop_args(req, &t, err) < 0)
		return -1;
	return berth_container_restart(STORE(d), req, ID(req), berth_api_query(req, "signal"), t, err);
}

static int containers_kill(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	return berth_container_kill(STORE(d), req, ID(req), berth_api_query(req, "signal"), err);
}

static int containers_pause(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	return berth_container_pause(STORE(d), req, ID(req), true, err);
}

static int containers_unpause(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	return berth_container_pause(STORE(d), req, ID(req), false, err);
}

static int containers_wait(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	return berth_container_wait(STORE(d), req, ID(req), berth_api_query(req, "condition"), err);
}

static int containers_delete(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	return berth_container_remove(STORE(d), req, ID(req), berth_api_query_bool(req, "force", false),
				      berth_api_query_bool(req, "v", false), err);
}

static int containers_rename(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	if (berth_container_rename(STORE(d), ID(req), berth_api_query(req, "name"), err) < 0)
		return -1;
	return berth_api_reply_empty(req, 204);
}

static int containers_resize(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	int64_t h, w;
	if (berth_api_query_int(req, "h", 0, &h, err) < 0 || berth_api_query_int(req, "w", 0, &w, err) < 0)
		return -1;
	if (berth_container_resize(STORE(d), ID(req), h, w, err) < 0)
		return -1;
	return berth_api_reply_raw(req, 200, "text/plain; charset=utf-8", "", 0);
}

static int containers_logs(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	return berth_container_logs(STORE(d), req, ID(req), err);
}

static int containers_top(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	return berth_container_top(STORE(d), req, ID(req), berth_api_query(req, "ps_args"), err);
}

static int containers_stats(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	return berth_container_stats(STORE(d), req, ID(req), err);
}

static int containers_update(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	json_t *body cleanup_json = NULL;
	if (berth_api_body_json(req, false, &body, err) < 0)
		return -1;
	return berth_container_update(STORE(d), req, ID(req), body, err);
}

static int containers_prune(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	berth_filters *f cleanup_filters = NULL;
	if (berth_filters_parse(berth_api_query(req, "filters"), &f, err) < 0)
		return -1;
	return berth_container_prune(STORE(d), req, f, err);
}

static int containers_attach(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	return berth_container_attach(STORE(d), req, ID(req), err);
}

/* The same attach, framed as a websocket by the server's splice. A missing
 * container is a 404 before any handshake error, as with dockerd. */
static int containers_attach_ws(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	/* dockerd checks the container before the websocket handshake */
	if (berth_container_attach_check(STORE(d), req, ID(req), err) < 0 ||
	    berth_api_websocket_begin(req, err) < 0)
		return -1;
	return berth_container_attach(STORE(d), req, ID(req), err);
}

const berth_api_route berth_api_container_routes[] = {
	{"POST", "/containers/create", containers_create},
	{"GET", "/containers/json", containers_list},
	{"GET", "/containers/{id}/json", containers_inspect},
	{"POST", "/containers/{id}/start", containers_start},
	{"POST", "/containers/{id}/stop", containers_stop},
	{"POST", "/containers/{id}/restart", containers_restart},
	{"POST", "/containers/{id}/kill", containers_kill},
	{"POST", "/containers/{id}/pause", containers_pause},
	{"POST", "/containers/{id}/unpause", containers_unpause},
	{"POST", "/containers/{id}/wait", containers_wait},
	{"DELETE", "/containers/{id}", containers_delete},
	{"POST", "/containers/{id}/rename", containers_rename},
	{"POST", "/containers/{id}/resize", containers_resize},
	{"GET", "/containers/{id}/logs", containers_logs},
	{"GET", "/containers/{id}/top", containers_top},
	{"POST", "/containers/{id}/attach", containers_attach},
	{"GET", "/containers/{id}/attach/ws", containers_attach_ws},
	{"GET", "/containers/{id}/stats", containers_stats},
	{"POST", "/containers/{id}/update", containers_update},
	{"POST", "/containers/prune", containers_prune},
	{"GET", "/containers/{id}/changes", berth_container_api_changes},
	{"GET", "/containers/{id}/export", berth_container_api_export},
	{"HEAD", "/containers/{id}/archive", berth_container_api_archive},
	{"GET", "/containers/{id}/archive", berth_container_api_archive},
	{"PUT", "/containers/{id}/archive", berth_container_api_archive},
	{"POST", "/commit", berth_container_api_commit},
	{NULL, NULL, NULL},
};
