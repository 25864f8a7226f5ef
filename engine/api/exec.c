/* exec.c - the Exec API group. */
#include "api.h"
#include "engine/container/container.h"
#include "engine/engine.h"

static int exec_create(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	json_t *body cleanup_json = NULL;
	char *id cleanup_free = NULL;
	if (berth_api_body_json(req, false, &body, err) < 0 ||
	    berth_container_exec_create(d->containers, berth_api_param(req, "id"), body, &id, err) < 0)
		return -1;
	return berth_api_reply_json(req, 201, json_pack("{s:s}", "Id", id));
}

static int exec_start(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	json_t *body cleanup_json = NULL;
	if (berth_api_body_json(req, true, &body, err) < 0)
		return -1;
	return berth_container_exec_start(d->containers, req, berth_api_param(req, "id"), body, err);
}

static int exec_inspect(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	json_t *doc = NULL;
	if (berth_container_exec_inspect(d->containers, berth_api_param(req, "id"), &doc, err) < 0)
		return -1;
	return berth_api_reply_json(req, 200, doc);
}

static int exec_resize(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	int64_t h, w;
	if (berth_api_query_int(req, "h", 0, &h, err) < 0 || berth_api_query_int(req, "w", 0, &w, err) < 0 ||
	    berth_container_exec_resize(d->containers, berth_api_param(req, "id"), h, w, err) < 0)
		return -1;
	return berth_api_reply_raw(req, 200, "text/plain; charset=utf-8", "", 0);
}

const berth_api_route berth_api_exec_routes[] = {
	{"POST", "/containers/{id}/exec", exec_create},
	{"POST", "/exec/{id}/start", exec_start},
	{"POST", "/exec/{id}/resize", exec_resize},
	{"GET", "/exec/{id}/json", exec_inspect},
	{NULL, NULL, NULL},
};
