/*
 * distribution.c - the registry API group: pull (POST /images/create with
 * fromImage), push, POST /auth and GET /distribution/{name}/json.
 *
 * Registry work blocks on the network and the disk: it runs in the thread
 * pool. A pull first finds its manifest and config (so that "manifest
 * unknown" or "unauthorized" are HTTP errors, as dockerd answers them before
 * any progress), then streams progress through a pump while the layers
 * download. A push streams from the start, as dockerd's does.
 */
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "pump.h"
#include "registry/registry.h"

typedef struct dist_job {
	berth_registry_config cfg;
	berth_registry_auth auth;
	berth_registry_op op;
	char *ref, *platform, *tag;
	bool all_tags;        /* a pull of a name alone: every tag, as dockerd does */
	berth_registry_pull_plan *plan;
	pump *pump;
	json_t *result;
	char *id, *token;
} dist_job;

static void on_progress(void *ud, json_t *msg)
{
	dist_job *j = ud;
	char *line = berth_image_json_line(msg);
	json_decref(msg);
	pump_write(j->pump, line, strlen(line), NULL); /* a gone client does not stop the work */
	free(line);
}

/* Registry settings are read per request, so a SIGHUP reload applies. */
static dist_job *job_new(berth_daemon *d, berth_api_req *req)
{
	dist_job *j = berth_xcalloc(1, sizeof(*j));
	const berth_config *c = d->config;
	char *dir cleanup_free = berth_xstrdup(c->config_file ? c->config_file : "/etc/berth/x");
	char *certs cleanup_free = berth_xasprintf("%s/certs.d", dirname(dir));
	berth_registry_config_init(&j->cfg, c->file, certs, c->max_concurrent_downloads,
				   c->max_concurrent_uploads);
	berth_registry_auth_decode(berth_api_header(req, "X-Registry-Auth"), &j->auth);
	j->op = (berth_registry_op){.cfg = &j->cfg, .store = d->images, .auth = &j->auth,
				    .progress = on_progress, .userdata = j};
	return j;
}

static void job_free(dist_job *j)
{
	berth_registry_pull_free(j->plan);
	berth_registry_config_reset(&j->cfg);
	berth_registry_auth_reset(&j->auth);
	free(j->ref);
	free(j->platform);
	free(j->tag);
	json_decref(j->result);
	free(j->id);
	free(j->token);
	free(j);
}

static int defer_job(berth_daemon *d, berth_api_req *req, berth_api_work_fn work,
		     berth_api_done_fn done, dist_job *j, berth_error **err)
{
	if (berth_api_defer(d, req, work, done, j) == 0)
		return 0;
	if (j->pump)
		pump_finish(j->pump, NULL, 0);
	job_free(j);
	return berth_error_set(err, 500, "could not queue the work");
}

/* Ends a progress stream, with dockerd's in-band error when it failed. */
static void finish_stream(dist_job *j, const berth_error *work_err)
{
	char *tail cleanup_free = NULL;
	if (work_err) {
		json_t *msg = json_pack("{s:{s:s}, s:s}", "errorDetail", "message", work_err->msg,
					"error", work_err->msg);
		tail = berth_image_json_line(msg);
		json_decref(msg);
	}
	pump_finish(j->pump, tail, tail ? strlen(tail) : 0);
}

static void publish(berth_daemon *d, const char *action, const char *id, const char *name)
{
	berth_events_publish(d->events, "image", action, name,
			     berth_image_event_attributes(d->images, id, name));
}

/* ------------------------------------------------------------------ pull */

static int pull_run_work(void *ud, berth_error **err)
{
	dist_job *j = ud;
	return berth_registry_pull_run(j->plan, &j->id, err);
}

static int pull_run_done(berth_daemon *d, berth_api_req *req, void *ud, berth_error *work_err,
			 berth_error **err)
{
	dist_job *j = ud;
	if (work_err)
		berth_info("pull %s failed: %s", j->ref, work_err->msg);
	else if (j->id) /* an all-tags pull of a repository without tags pulls nothing */
		publish(d, "pull", j->id, berth_registry_pull_familiar(j->plan));
	finish_stream(j, work_err);
	job_free(j);
	return 0;
}

static int pull_prepare_work(void *ud, berth_error **err)
{
	dist_job *j = ud;
	if (j->all_tags)
		return berth_registry_pull_prepare_all(&j->op, j->ref, j->platform, &j->plan, err);
	return berth_registry_pull_prepare(&j->op, j->ref, j->platform, &j->plan, err);
}

static int pull_prepare_done(berth_daemon *d, berth_api_req *req, void *ud,
			     berth_error *work_err, berth_error **err)
{
	dist_job *j = ud;
	if (work_err || req == NULL) {
		job_free(j);
		return work_err ? -1 : 0;
	}
	j->pump = pump_start(d, req, "application/json");
	if (j->pump == NULL) {
		job_free(j);
		return berth_error_set(err, 500, "could not start the response");
	}
	return defer_job(d, req, pull_run_work, pull_run_done, j, err);
}

/* fromImage and tag as dockerd joins them: a tag that is a digest goes
 * after '@'; neither in either is every tag (*all). */
static char *pull_reference(const char *image, const char *tag, bool *all, berth_error **err)
{
	berth_image_ref ref;
	if (berth_image_ref_parse(image, &ref, err) < 0)
		return NULL;
	*all = !(tag && *tag) && !ref.tag && !ref.digest;
	char *s;
	if (tag && *tag && !ref.tag && !ref.digest)
		s = berth_xasprintf("%s%c%s", image, strncmp(tag, "sha256:", 7) == 0 ? '@' : ':', tag);
	else
		s = berth_xstrdup(image);
	berth_image_ref_reset(&ref);
	if (berth_image_ref_parse(s, &ref, err) < 0) {
		free(s);
		return NULL;
	}
	berth_image_ref_reset(&ref);
	return s;
}

int berth_api_distribution_pull(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	bool all = false;
	char *ref = pull_reference(berth_api_query(req, "fromImage"), berth_api_query(req, "tag"),
				   &all, err);
	if (ref == NULL)
		return -1;
	dist_job *j = job_new(d, req);
	j->ref = ref;
	j->all_tags = all;
	const char *platform = berth_api_query(req, "platform");
	if (platform && *platform && !berth_api_version_below(req, "1.32"))
		j->platform = berth_xstrdup(platform);
	return defer_job(d, req, pull_prepare_work, pull_prepare_done, j, err);
}

/* ------------------------------------------------------------------ push */

static int push_work(void *ud, berth_error **err)
{
	dist_job *j = ud;
	return berth_registry_push(&j->op, j->ref, j->tag, err);
}

static int push_done(berth_daemon *d, berth_api_req *req, void *ud, berth_error *work_err,
		     berth_error **err)
{
	dist_job *j = ud;
	if (work_err) {
		berth_info("push %s failed: %s", j->ref, work_err->msg);
	} else {
		char *id cleanup_free = NULL;
		char *name cleanup_free = j->tag && *j->tag ? berth_xasprintf("%s:%s", j->ref, j->tag)
							    : berth_xstrdup(j->ref);
		/* an all-tags push names the repository, which may have no image of its own */
		berth_image_resolve(d->images, name, &id, NULL);
		publish(d, "push", id ? id : "", name);
	}
	finish_stream(j, work_err);
	job_free(j);
	return 0;
}

static int images_push(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	berth_image_ref ref;
	if (berth_image_ref_parse(berth_api_param(req, "name"), &ref, err) < 0)
		return -1;
	berth_image_ref_reset(&ref);
	dist_job *j = job_new(d, req);
	j->ref = berth_xstrdup(berth_api_param(req, "name"));
	const char *tag = berth_api_query(req, "tag");
	j->tag = tag && *tag ? berth_xstrdup(tag) : NULL;
	j->pump = pump_start(d, req, "application/json");
	if (j->pump == NULL) {
		job_free(j);
		return berth_error_set(err, 500, "could not start the response");
	}
	return defer_job(d, req, push_work, push_done, j, err);
}

/* ------------------------------------------------------------------ auth */

static int auth_work(void *ud, berth_error **err)
{
	dist_job *j = ud;
	if (berth_registry_login(&j->cfg, &j->auth, &j->token, err) < 0)
		return -1;
	j->result = json_pack("{s:s, s:s}", "Status", "Login Succeeded", "IdentityToken",
			      j->token ? j->token : "");
	return 0;
}

/* Replies the work's JSON result (auth, inspect). */
static int result_done(berth_daemon *d, berth_api_req *req, void *ud, berth_error *work_err,
		       berth_error **err)
{
	dist_job *j = ud;
	if (work_err == NULL && req)
		berth_api_reply_json(req, 200, json_incref(j->result));
	job_free(j);
	return work_err ? -1 : 0;
}

static int system_auth(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	json_t *body cleanup_json = NULL;
	if (berth_api_body_json(req, false, &body, err) < 0)
		return -1;
	dist_job *j = job_new(d, req);
	berth_registry_auth_reset(&j->auth);
	berth_registry_auth_from_json(body, &j->auth);
	return defer_job(d, req, auth_work, result_done, j, err);
}

/* ----------------------------------------------------------- inspection */

static int inspect_work(void *ud, berth_error **err)
{
	dist_job *j = ud;
	return berth_registry_inspect(&j->cfg, &j->auth, j->ref, &j->result, err);
}

static int distribution_inspect(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	berth_image_ref ref;
	if (berth_image_ref_parse(berth_api_param(req, "name"), &ref, err) < 0)
		return -1;
	berth_image_ref_reset(&ref);
	dist_job *j = job_new(d, req);
	j->ref = berth_xstrdup(berth_api_param(req, "name"));
	return defer_job(d, req, inspect_work, result_done, j, err);
}

const berth_api_route berth_api_distribution_routes[] = {
	{"POST", "/images/{name*}/push", images_push},
	{"POST", "/auth", system_auth},
	{"GET", "/distribution/{name*}/json", distribution_inspect},
	{NULL, NULL, NULL},
};
