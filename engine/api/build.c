/*
 * build.c - POST /build and POST /build/prune: the classic builder.
 *
 * A build runs in two parts. A pool job unpacks the context and parses the
 * Dockerfile, so that a bad context or Dockerfile is an HTTP 400 as dockerd
 * answers it. Then the JSON stream starts and a thread of the build's own
 * runs the steps (RUN containers go through berthd's own API socket); it
 * ends with the image's ID, or an errorDetail carrying the failing
 * command's exit code.
 */
#include <libgen.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "builder/builder.h"
#include "engine/engine.h"
#include "engine/image/image.h"
#include "pump.h"
#include "registry/registry.h"

typedef struct build_job {
	berth_daemon *d;
	berth_builder_env env;
	berth_build_opts opts;
	char *state_dir, *api_host, *context;
	berth_api_kept_body body;  /* the context tar, until it is extracted */
	char *dockerfile, *target, *network_mode, *cpuset_cpus, *remote, *platform;
	char **tags, **extra_hosts, **cache_from;
	berth_registry_config reg_cfg;
	berth_registry_auth reg_auth;  /* anonymous: X-Registry-Config is not read yet */
	berth_build *build;
	pump *pump;
	char *id;
	int exit_code;
} build_job;

static void job_free(build_job *j)
{
	berth_build_free(j->build);
	berth_error *err cleanup_error = NULL;
	free(j->state_dir);
	free(j->api_host);
	free(j->context);
	berth_api_body_release(&j->body);
	free(j->dockerfile);
	free(j->target);
	free(j->network_mode);
	free(j->cpuset_cpus);
	free(j->remote);
	free(j->platform);
	berth_strv_free(j->tags);
	berth_strv_free(j->cache_from);
	berth_strv_free(j->extra_hosts);
	berth_registry_config_reset(&j->reg_cfg);
	berth_registry_auth_reset(&j->reg_auth);
	json_decref(j->opts.buildargs);
	json_decref(j->opts.labels);
	free(j->id);
	free(j);
}

static char *dup_query(berth_api_req *req, const char *key)
{
	const char *v = berth_api_query(req, key);
	return v && *v ? berth_xstrdup(v) : NULL;
}

/* A query value holding a JSON object ({"A": "1"}); absent gives NULL. */
static int query_object(berth_api_req *req, const char *key, json_t **out, berth_error **err)
{
	const char *v = berth_api_query(req, key);
	*out = NULL;
	if (v == NULL || *v == '\0')
		return 0;
	json_t *j = NULL;
	if (berth_json_parse(v, strlen(v), &j, err) < 0)
		return -1;
	if (!json_is_object(j) && !json_is_null(j)) {
		json_decref(j);
		return berth_error_set(err, 400, "invalid %s: not a JSON object", key);
	}
	*out = json_is_object(j) ? j : NULL;
	if (!*out)
		json_decref(j);
	return 0;
}

/* cachefrom: a JSON array of image names. */
static int query_names(berth_api_req *req, const char *key, char ***out, berth_error **err)
{
	const char *v = berth_api_query(req, key);
	*out = NULL;
	if (v == NULL || *v == '\0')
		return 0;
	json_t *j cleanup_json = NULL;
	if (berth_json_parse(v, strlen(v), &j, err) < 0)
		return -1;
	if (!json_is_array(j) && !json_is_null(j))
		return berth_error_set(err, 400, "invalid %s: not a JSON array", key);
	*out = berth_xcalloc(json_array_size(j) + 1, sizeof(char *));
	size_t i, n = 0;
	json_t *name;
	json_array_foreach(j, i, name)
		if (json_is_string(name) && *json_string_value(name))
			(*out)[n++] = berth_xstrdup(json_string_value(name));
	return 0;
}

static const char *api_host(const berth_daemon *d)
{
	for (size_t i = 0; i < d->config->nhosts; i++)
		if (berth_str_has_prefix(d->config->hosts[i], "unix://"))
			return d->config->hosts[i];
	return NULL;
}

static int read_options(berth_api_req *req, build_job *j, berth_error **err)
{
	berth_build_opts *o = &j->opts;
	const char *version = berth_api_query(req, "version");
	if (version && strcmp(version, "2") == 0)
		return berth_error_set(err, 400, "BuildKit is not supported by this daemon: build with "
						 "DOCKER_BUILDKIT=0");
	j->remote = dup_query(req, "remote");
	j->dockerfile = dup_query(req, "dockerfile");
	j->target = dup_query(req, "target");
	j->network_mode = dup_query(req, "networkmode");
	j->cpuset_cpus = dup_query(req, "cpusetcpus");
	j->tags = berth_api_query_all(req, "t");
	j->platform = dup_query(req, "platform");
	o->platform = j->platform;
	/* one "host:ip" a parameter, repeated, as the docker CLI sends them and
	 * dockerd reads them (r.Form["extrahosts"]) */
	j->extra_hosts = berth_api_query_all(req, "extrahosts");
	o->dockerfile = j->dockerfile;
	o->target = j->target;
	o->network_mode = j->network_mode && strcmp(j->network_mode, "default") ? j->network_mode : NULL;
	o->cpuset_cpus = j->cpuset_cpus;
	o->tags = j->tags;
	o->extra_hosts = j->extra_hosts;
	o->quiet = berth_api_query_bool(req, "q", false);
	o->nocache = berth_api_query_bool(req, "nocache", false);
	o->pull = berth_api_query_bool(req, "pull", false);
	o->rm = berth_api_query_bool(req, "rm", true);
	o->forcerm = berth_api_query_bool(req, "forcerm", false);
	for (char **t = j->tags; t && *t; t++) {
		berth_image_ref ref;
		if (berth_image_ref_parse(*t, &ref, err) < 0)
			return berth_error_wrap(err, "invalid tag %s", *t);
		berth_image_ref_reset(&ref);
	}
	if (berth_api_query_int(req, "shmsize", 0, &o->shm_size, err) < 0 ||
	    berth_api_query_int(req, "memory", 0, &o->memory, err) < 0)
		return -1;
	if (query_names(req, "cachefrom", &j->cache_from, err) < 0)
		return -1;
	o->cache_from = j->cache_from;
	return query_object(req, "buildargs", &o->buildargs, err) < 0 ||
		       query_object(req, "labels", &o->labels, err) < 0 ? -1 : 0;
}

/* ----------------------------------------------------------- the build */

/* FROM of an image the store does not have (or any, with pull=1): the
 * registry client pulls it, its progress in the build's stream. */
static void pull_progress(void *ud, json_t *msg)
{
	build_job *j = ud;
	char *line = berth_image_json_line(msg);
	json_decref(msg);
	pump_write(j->pump, line, strlen(line), NULL);
	free(line);
}

static int pull_image(void *ud, const char *ref, const char *platform, char **id,
		      berth_error **err)
{
	build_job *j = ud;
	berth_registry_op op = {.cfg = &j->reg_cfg, .store = j->d->images, .auth = &j->reg_auth,
				.progress = pull_progress, .userdata = j};
	berth_registry_pull_plan *plan = NULL;
	int rc = berth_registry_pull_prepare(&op, ref, platform, &plan, err);
	if (rc == 0)
		rc = berth_registry_pull_run(plan, id, err);
	berth_registry_pull_free(plan);
	return rc;
}

static int emit(void *ud, json_t *msg)
{
	build_job *j = ud;
	char *line = berth_image_json_line(msg);
	json_decref(msg);
	berth_error *err cleanup_error = NULL;
	int rc = pump_write(j->pump, line, strlen(line), &err);
	free(line);
	return rc;
}

static int run_work(void *ud, berth_error **err)
{
	build_job *j = ud;
	int rc = berth_build_run(j->build, emit, j, &j->id, &j->exit_code, err);
	berth_builder_discard(j->state_dir, j->context);
	return rc;
}

static void run_done(berth_daemon *d, build_job *j, berth_error *work_err)
{
	char *tail cleanup_free = NULL;
	if (work_err) {
		/* jsonmessage's field order: code, then message */
		json_t *detail = j->exit_code ? json_pack("{s:i}", "code", j->exit_code) : json_object();
		json_object_set_new(detail, "message", json_string(work_err->msg));
		json_t *msg = json_pack("{s:o, s:s}", "errorDetail", detail, "error", work_err->msg);
		tail = berth_image_json_line(msg);
		json_decref(msg);
		berth_info("build failed: %s", work_err->msg);
	} else {
		for (char **t = j->tags; t && *t; t++)
			berth_events_publish(d->events, "image", "tag", j->id,
					     berth_image_event_attributes(d->images, j->id, *t));
	}
	pump_finish(j->pump, tail, tail ? strlen(tail) : 0);
	job_free(j);
}

/*
 * The steps run on a thread of their own, not in libuv's pool: a RUN step
 * waits for its container, whose start and removal are pool work, so
 * builds holding every pool thread would wait for ever.
 */
typedef struct build_thread {
	uv_async_t async;
	berth_daemon *d;
	build_job *j;
	berth_error *err;
} build_thread;

static void *build_thread_main(void *arg)
{
	build_thread *t = arg;
	run_work(t->j, &t->err);
	uv_async_send(&t->async);
	return NULL;
}

static void build_thread_closed(uv_handle_t *h)
{
	free(h->data);
}

static void build_thread_done(uv_async_t *a)
{
	build_thread *t = a->data;
	run_done(t->d, t->j, t->err);
	berth_error_free(&t->err);
	uv_close((uv_handle_t *)&t->async, build_thread_closed);
}

static int start_build_thread(berth_daemon *d, build_job *j)
{
	build_thread *t = berth_xcalloc(1, sizeof(*t));
	t->d = d;
	t->j = j;
	uv_async_init(d->loop, &t->async, build_thread_done);
	t->async.data = t;
	pthread_t tid;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&tid, &attr, build_thread_main, t);
	pthread_attr_destroy(&attr);
	if (rc != 0)
		uv_close((uv_handle_t *)&t->async, build_thread_closed);
	return rc == 0 ? 0 : -1;
}

/* ------------------------------------------------- context and Dockerfile */

/* The first build of this berthd clears what an earlier one left. */
static void sweep_once(const char *state_dir)
{
	static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
	static bool swept;
	pthread_mutex_lock(&mu);
	if (!swept)
		berth_builder_sweep(state_dir);
	swept = true;
	pthread_mutex_unlock(&mu);
}

static int prepare_work(void *ud, berth_error **err)
{
	build_job *j = ud;
	sweep_once(j->state_dir);
	char *subdir cleanup_free = NULL;
	if (j->remote) {
		if (berth_builder_context_remote(j->remote, j->context, j->dockerfile, &subdir, err) < 0)
			return -1;
	} else if (berth_builder_context_extract(j->body.data, j->body.len, j->context, j->dockerfile,
						 err) < 0) {
		return -1;
	}
	berth_api_body_release(&j->body); /* unmapping a large context: not on the loop */
	char *dir cleanup_free = subdir ? berth_xasprintf("%s/%s", j->context, subdir)
					: berth_xstrdup(j->context);
	return berth_build_prepare(&j->env, dir, &j->opts, &j->build, err);
}

static int prepare_done(berth_daemon *d, berth_api_req *req, void *ud, berth_error *work_err,
			berth_error **err)
{
	build_job *j = ud;
	if (work_err == NULL && req != NULL) {
		j->pump = pump_start(d, req, "application/json");
		if (j->pump && start_build_thread(d, j) == 0)
			return 0;
		if (j->pump)
			pump_finish(j->pump, NULL, 0);
	}
	berth_builder_discard(j->state_dir, j->context);
	int rc = work_err ? berth_error_set(err, work_err->status, "%s", work_err->msg) : 0;
	job_free(j);
	return rc;
}

static int build_post(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	build_job *j = berth_xcalloc(1, sizeof(*j));
	j->d = d;
	if (read_options(req, j, err) < 0) {
		job_free(j);
		return -1;
	}
	j->state_dir = berth_xasprintf("%s/builder", d->config->data_root);
	j->api_host = api_host(d) ? berth_xstrdup(api_host(d)) : NULL;
	char rnd[65];
	berth_random_id(rnd);
	j->context = berth_xasprintf("%s/tmp/context-%.16s", j->state_dir, rnd);
	j->env = (berth_builder_env){.images = d->images, .state_dir = j->state_dir,
				     .api_host = j->api_host, .pull = pull_image, .pull_userdata = j};
	/* registry settings are read per build, so that a SIGHUP reload applies */
	const berth_config *c = d->config;
	char *cfg_dir cleanup_free = berth_xstrdup(c->config_file ? c->config_file : "/etc/berth/x");
	char *certs cleanup_free = berth_xasprintf("%s/certs.d", dirname(cfg_dir));
	berth_registry_config_init(&j->reg_cfg, c->file, certs, c->max_concurrent_downloads,
				   c->max_concurrent_uploads);
	berth_api_body_keep(req, &j->body);
	if (berth_api_defer(d, req, prepare_work, prepare_done, j) == 0)
		return 0;
	job_free(j);
	return berth_error_set(err, 500, "could not queue the work");
}

typedef struct prune_job {
	berth_builder_env env;
	char *state_dir;
	int64_t reclaimed;
} prune_job;

static int prune_work(void *ud, berth_error **err)
{
	prune_job *j = ud;
	return berth_builder_prune(&j->env, &j->reclaimed, err);
}

static int prune_done(berth_daemon *d, berth_api_req *req, void *ud, berth_error *work_err,
		      berth_error **err)
{
	prune_job *j = ud;
	int rc = 0;
	if (work_err)
		rc = berth_error_set(err, work_err->status, "%s", work_err->msg);
	else if (req)
		berth_api_reply_json(req, 200, json_pack("{s:[], s:I}", "CachesDeleted", "SpaceReclaimed",
							 (json_int_t)j->reclaimed));
	free(j->state_dir);
	free(j);
	return rc;
}

static int build_prune(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	prune_job *j = berth_xcalloc(1, sizeof(*j));
	j->state_dir = berth_xasprintf("%s/builder", d->config->data_root);
	j->env = (berth_builder_env){.images = d->images, .state_dir = j->state_dir};
	if (berth_api_defer(d, req, prune_work, prune_done, j) == 0)
		return 0;
	free(j->state_dir);
	free(j);
	return berth_error_set(err, 500, "could not queue the work");
}

const berth_api_route berth_api_build_routes[] = {
	{"POST", "/build", build_post},
	{"POST", "/build/prune", build_prune},
	{NULL, NULL, NULL},
};
