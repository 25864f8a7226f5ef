/*
 * volumes.c - the volume API group: list, create, inspect, remove, prune,
 * and PUT (swarm cluster volumes only).
 *
 * Every call runs in the thread pool: the store takes its mutex across disk
 * writes and mounts (see engine/volume/volume.h). The done callback flushes
 * the store's queued events before replying, so a client that asks
 * /events right after sees what it just did.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api.h"
#include "engine/engine.h"
#include "engine/volume/volume.h"

typedef struct volume_job {
	berth_volume_store *s;
	char *name, *driver;
	json_t *opts, *labels;
	bool force;
	berth_filters *filters;
	json_t *result; /* replied as it is */
	int status; /* of the reply; 204 replies no body */
} volume_job;

static volume_job *job_new(berth_daemon *d, int status)
{
	volume_job *j = berth_xcalloc(1, sizeof(*j));
	j->s = d->volumes;
	j->status = status;
	return j;
}

static void job_free(volume_job *j)
{
	free(j->name);
	free(j->driver);
	json_decref(j->opts);
	json_decref(j->labels);
	berth_filters_free(j->filters);
	json_decref(j->result);
	free(j);
}

static char *dup_or_null(const char *s)
{
	return s ? berth_xstrdup(s) : NULL;
}

/* One done callback for every call: events first, then the reply. */
static int job_done(berth_daemon *d, berth_api_req *req, void *ud, berth_error *work_err,
		    berth_error **err)
{
	volume_job *j = ud;
	berth_volume_events_flush(j->s);
	if (work_err == NULL && req) {
		if (j->status == 204)
			berth_api_reply_empty(req, 204);
		else
			berth_api_reply_json(req, j->status, json_incref(j->result));
	}
	job_free(j);
	return work_err ? -1 : 0;
}

static int run(berth_daemon *d, berth_api_req *req, berth_api_work_fn work, volume_job *j)
{
	return berth_api_defer(d, req, work, job_done, j);
}

static int parse_filters(berth_api_req *req, volume_job *j, berth_error **err)
{
	if (berth_filters_parse(berth_api_query(req, "filters"), &j->filters, err) == 0)
		return 0;
	job_free(j);
	return -1;
}

/* ------------------------------------------------------------------- list */

static int list_work(void *ud, berth_error **err)
{
	volume_job *j = ud;
	json_t *list;
	if (berth_volume_list(j->s, j->filters, &list, err) < 0)
		return -1;
	j->result = json_pack("{s:o, s:n}", "Volumes", list, "Warnings");
	return 0;
}

static int volumes_list(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	volume_job *j = job_new(d, 200);
	if (parse_filters(req, j, err) < 0)
		return berth_error_wrap(err, "error reading volume filters");
	return run(d, req, list_work, j);
}

/* ----------------------------------------------------------------- create */

/* httputils.CheckForJSON: a body must say it is JSON. */
static int check_json_type(berth_api_req *req, berth_error **err)
{
	size_t len;
	berth_api_body(req, &len);
	const char *ct = berth_api_header(req, "content-type") /* h2o keeps names lowercase */;
	if (len == 0 && (ct == NULL || *ct == '\0'))
		return 0;
	if (ct == NULL || *ct == '\0')
		return berth_error_set(err, 400,
				       "malformed Content-Type header (): mime: no media type");
	size_t n = strcspn(ct, "; \t");
	if (n == strlen("application/json") && strncasecmp(ct, "application/json", n) == 0)
		return 0;
	return berth_error_set(err, 400,
			       "unsupported Content-Type header (%s): must be "
			       "'application/json'",
			       ct);
}

static int member_object(const json_t *body, const char *key, json_t **out, berth_error **err)
{
	json_t *v = json_object_get(body, key);
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return berth_error_set(err, 400, "invalid JSON: %s must be an object", key);
	*out = json_incref(v);
	return 0;
}

static int create_work(void *ud, berth_error **err)
{
	volume_job *j = ud;
	return berth_volume_create(j->s, j->name, j->driver, j->opts, j->labels, &j->result, err);
}

static int volumes_create(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	json_t *body cleanup_json = NULL;
	const char *name = NULL, *driver = NULL;
	if (check_json_type(req, err) < 0 || berth_api_body_json(req, true, &body, err) < 0 ||
	    berth_json_get_string(body, "Name", &name, err) < 0 ||
	    berth_json_get_string(body, "Driver", &driver, err) < 0)
		return -1;
	volume_job *j = job_new(d, 201);
	j->name = dup_or_null(name);
	j->driver = dup_or_null(driver);
	if (member_object(body, "DriverOpts", &j->opts, err) < 0 ||
	    member_object(body, "Labels", &j->labels, err) < 0) {
		job_free(j);
		return -1;
	}
	return run(d, req, create_work, j);
}

/* ---------------------------------------------------- inspect, remove, put */

static int inspect_work(void *ud, berth_error **err)
{
	volume_job *j = ud;
	return berth_volume_inspect(j->s, j->name, &j->result, err);
}

static int volumes_inspect(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	volume_job *j = job_new(d, 200);
	j->name = berth_xstrdup(berth_api_param(req, "name"));
	return run(d, req, inspect_work, j);
}

static int remove_work(void *ud, berth_error **err)
{
	volume_job *j = ud;
	return berth_volume_remove(j->s, j->name, j->force, err);
}

static int volumes_remove(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	volume_job *j = job_new(d, 204);
	j->name = berth_xstrdup(berth_api_param(req, "name"));
	j->force = berth_api_query_bool(req, "force", false);
	return run(d, req, remove_work, j);
}

/* PUT /volumes/{name} updates swarm cluster volumes only. */
static int volumes_update(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	return berth_error_set(err, 503,
			       "volume update only valid for cluster volumes, but swarm "
			       "is unavailable");
}

/* ------------------------------------------------------------------ prune */

static int prune_work(void *ud, berth_error **err)
{
	volume_job *j = ud;
	return berth_volume_prune(j->s, j->filters, &j->result, err);
}

static int volumes_prune(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	volume_job *j = job_new(d, 200);
	if (parse_filters(req, j, err) < 0)
		return -1;
	/* API 1.42 made prune spare named volumes unless all=true; older
	 * clients keep pruning every unused volume. */
	if (berth_api_version_below(req, "1.42"))
		berth_filters_add(j->filters, "all", "true");
	return run(d, req, prune_work, j);
}

const berth_api_route berth_api_volume_routes[] = {
	{"GET", "/volumes", volumes_list},
	{"POST", "/volumes/create", volumes_create},
	{"POST", "/volumes/prune", volumes_prune},
	{"GET", "/volumes/{name}", volumes_inspect},
	{"PUT", "/volumes/{name}", volumes_update},
	{"DELETE", "/volumes/{name}", volumes_remove},
	{NULL, NULL, NULL},
};
