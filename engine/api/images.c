/*
 * images.c - the image API group: list, inspect, history, tag, delete,
 * load, save, import, prune and the images part of /system/df.
 *
 * Reads answer from the store's memory on the loop. Everything that writes
 * runs in the thread pool (berth_api_defer); load and save stream through a
 * pump (pump.h) while they work. Events are published from the done
 * callbacks, on the loop.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/engine.h"
#include "engine/image/image.h"
#include "pump.h"

static const char *const list_filter_keys[] = {"dangling", "label", "label!", "before", "since",
					       "reference", "until", NULL};
static const char *const prune_filter_keys[] = {"dangling", "label", "label!", "until", NULL};

/* Work handed to the pool, and what it found. */
typedef struct image_job {
	berth_image_store *s;
	char *name, *repo, *tag, *message, *platform;
	char **changes;
	bool force, prune, quiet;
	berth_filters *raw;
	berth_image_filters filters;
	berth_api_kept_body body; /* kept: the request may go before the work ends */
	berth_image_save_plan *plan;
	pump *pump;
	json_t *result, *events;
	char *id, *familiar;
} image_job;

static image_job *job_new(berth_daemon *d)
{
	image_job *j = berth_xcalloc(1, sizeof(*j));
	j->s = d->images;
	return j;
}

static void job_free(image_job *j)
{
	free(j->name);
	free(j->repo);
	free(j->tag);
	free(j->message);
	free(j->platform);
	berth_strv_free(j->changes);
	berth_filters_free(j->raw);
	berth_api_body_release(&j->body);
	berth_image_save_free(j->plan);
	json_decref(j->result);
	json_decref(j->events);
	free(j->id);
	free(j->familiar);
	free(j);
}

static char *dup_or_null(const char *s)
{
	return s ? berth_xstrdup(s) : NULL;
}

/* Queues a job; when the pool refuses it, the job (and its stream) end here. */
static int defer_job(berth_daemon *d, berth_api_req *req, berth_api_work_fn work,
		     berth_api_done_fn done, image_job *j, berth_error **err)
{
	if (berth_api_defer(d, req, work, done, j) == 0)
		return 0;
	if (j->pump)
		pump_finish(j->pump, NULL, 0);
	job_free(j);
	return berth_error_set(err, 500, "could not queue the work");
}

/* ---------------------------------------------------------------- events */

static void image_event(berth_daemon *d, const char *action, const char *id, const char *name)
{
	berth_events_publish(d->events, "image", action, id,
			     berth_image_event_attributes(d->images, id, name));
}

/* [["untag", id], ["delete", id], ...] from delete and prune. */
static void publish_events(berth_daemon *d, const json_t *events)
{
	size_t i;
	json_t *e;
	json_array_foreach(events, i, e) {
		const char *id = json_string_value(json_array_get(e, 1));
		image_event(d, json_string_value(json_array_get(e, 0)), id, id);
	}
}

/* A stream's in-band error, as dockerd's streamformatter writes it. */
static char *error_line(const berth_error *err)
{
	json_t *msg = json_pack("{s:{s:s}, s:s}", "errorDetail", "message", err->msg, "error",
				err->msg);
	char *line = berth_image_json_line(msg);
	json_decref(msg);
	return line;
}

/* --------------------------------------------------------------- filters */

static int parse_bool(const char *v, int *out)
{
	static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True"};
	static const char *const no[] = {"0", "f", "F", "false", "FALSE", "False"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(yes); i++) {
		if (strcmp(v, yes[i]) == 0)
			return *out = 1, 0;
		if (strcmp(v, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

static int image_filters(berth_api_req *req, const char *const *allowed, int dangling_default,
			 berth_filters **raw, berth_image_filters *out, berth_error **err)
{
	if (berth_filters_parse(berth_api_query(req, "filters"), raw, err) < 0)
		return -1;
	const char *legacy = berth_api_query(req, "filter");
	if (legacy && *legacy && berth_api_version_below(req, "1.41"))
		berth_filters_add(*raw, "reference", legacy);
	if (berth_filters_validate(*raw, allowed, err) < 0)
		return -1;
	memset(out, 0, sizeof(*out));
	out->dangling = dangling_default;
	char *const *dangling = berth_filters_get(*raw, "dangling");
	if (dangling && (berth_strv_len(dangling) != 1 || parse_bool(dangling[0], &out->dangling) < 0))
		return berth_error_set(err, 400, "invalid filter 'dangling=%s'", dangling[0]);
	out->labels = berth_filters_get(*raw, "label");
	out->labels_not = berth_filters_get(*raw, "label!");
	out->references = berth_filters_get(*raw, "reference");
	out->before = berth_filters_get(*raw, "before");
	out->since = berth_filters_get(*raw, "since");
	char *const *until = berth_filters_get(*raw, "until");
	if (until && berth_strv_len(until) > 1)
		return berth_error_set(err, 400, "more than one until filter specified");
	if (until && berth_time_parse(until[0], berth_time_now_ns(), &out->until_ns, err) < 0)
		return -1;
	return 0;
}

/* ----------------------------------------------------------------- reads */

/* API versions before 1.43 show untagged images as "<none>" placeholders;
 * before 1.44 VirtualSize repeats Size. */
static void list_for_version(berth_api_req *req, json_t *list)
{
	bool none = berth_api_version_below(req, "1.43");
	bool virtual_size = berth_api_version_below(req, "1.44");
	size_t i;
	json_t *item;
	json_array_foreach(list, i, item) {
		json_t *tags = json_object_get(item, "RepoTags");
		json_t *digests = json_object_get(item, "RepoDigests");
		if (none && json_array_size(tags) == 0 && json_array_size(digests) == 0) {
			json_array_append_new(tags, json_string("<none>:<none>"));
			json_array_append_new(digests, json_string("<none>@<none>"));
		}
		if (virtual_size)
			json_object_set(item, "VirtualSize", json_object_get(item, "Size"));
	}
}

static int images_list(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	berth_filters *raw cleanup_filters = NULL;
	berth_image_filters f;
	if (image_filters(req, list_filter_keys, -1, &raw, &f, err) < 0)
		return -1;
	f.all = berth_api_query_bool(req, "all", false);
	if (!berth_api_version_below(req, "1.44")) {
		char *text cleanup_free = NULL;
		if (berth_image_list_text(d->images, &f, &text, err) < 0)
			return -1;
		return berth_api_reply_raw(req, 200, "application/json", text, strlen(text));
	}
	json_t *list = NULL;
	if (berth_image_list(d->images, &f, &list, err) < 0)
		return -1;
	list_for_version(req, list);
	return berth_api_reply_json(req, 200, list);
}

static int images_inspect(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	json_t *out = NULL;
	if (berth_image_inspect(d->images, berth_api_param(req, "name"), &out, err) < 0)
		return -1;
	if (berth_api_version_below(req, "1.44")) {
		if (json_object_get(out, "Created") == NULL)
			json_object_set_new(out, "Created", json_string("0001-01-01T00:00:00Z"));
	} else {
		json_object_del(out, "VirtualSize");
	}
	if (!berth_api_version_below(req, "1.45")) {
		json_object_del(out, "Container");
		json_object_del(out, "ContainerConfig");
	}
	return berth_api_reply_json(req, 200, out);
}

static int images_history(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	json_t *out = NULL;
	if (berth_image_history(d->images, berth_api_param(req, "name"), &out, err) < 0)
		return -1;
	return berth_api_reply_json(req, 200, out);
}

/* ------------------------------------------------------------------- tag */

static int tag_work(void *ud, berth_error **err)
{
	image_job *j = ud;
	return berth_image_tag(j->s, j->name, j->repo, j->tag, &j->id, &j->familiar, err);
}

static int tag_done(berth_daemon *d, berth_api_req *req, void *ud, berth_error *work_err,
		    berth_error **err)
{
	image_job *j = ud;
	int rc = work_err ? -1 : 0;
	if (rc == 0)
		image_event(d, "tag", j->id, j->familiar);
	job_free(j);
	if (rc == 0 && req)
		berth_api_reply_empty(req, 201);
	return rc;
}

static int images_tag(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	image_job *j = job_new(d);
	j->name = berth_xstrdup(berth_api_param(req, "name"));
	j->repo = dup_or_null(berth_api_query(req, "repo"));
	j->tag = dup_or_null(berth_api_query(req, "tag"));
	return defer_job(d, req, tag_work, tag_done, j, err);
}

/* ---------------------------------------------------------------- delete */

static int delete_work(void *ud, berth_error **err)
{
	image_job *j = ud;
	return berth_image_delete(j->s, j->name, j->force, j->prune, &j->result, &j->events, err);
}

static int delete_done(berth_daemon *d, berth_api_req *req, void *ud, berth_error *work_err,
		       berth_error **err)
{
	image_job *j = ud;
	int rc = work_err ? -1 : 0;
	publish_events(d, j->events);
	if (rc == 0 && req)
		berth_api_reply_json(req, 200, json_incref(j->result));
	job_free(j);
	return rc;
}

static int images_delete(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	image_job *j = job_new(d);
	j->name = berth_xstrdup(berth_api_param(req, "name"));
	j->force = berth_api_query_bool(req, "force", false);
	j->prune = !berth_api_query_bool(req, "noprune", false);
	return defer_job(d, req, delete_work, delete_done, j, err);
}

/* ----------------------------------------------------------------- prune */

static int prune_work(void *ud, berth_error **err)
{
	image_job *j = ud;
	return berth_image_prune(j->s, &j->filters, &j->result, &j->events, err);
}

static int prune_done(berth_daemon *d, berth_api_req *req, void *ud, berth_error *work_err,
		      berth_error **err)
{
	image_job *j = ud;
	int rc = work_err ? -1 : 0;
	publish_events(d, j->events);
	if (rc == 0) {
		char reclaimed[32];
		snprintf(reclaimed, sizeof(reclaimed), "%lld",
			 (long long)json_integer_value(json_object_get(j->result, "SpaceReclaimed")));
		berth_events_publish(d->events, "image", "prune", "",
				     json_pack("{s:s}", "reclaimed", reclaimed));
		if (req)
			berth_api_reply_json(req, 200, json_incref(j->result));
	}
	job_free(j);
	return rc;
}

static int images_prune(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	image_job *j = job_new(d);
	if (image_filters(req, prune_filter_keys, 1, &j->raw, &j->filters, err) < 0) {
		job_free(j);
		return -1;
	}
	return defer_job(d, req, prune_work, prune_done, j, err);
}

/* ------------------------------------------------------------------ load */

static void load_progress(void *ud, json_t *msg)
{
	image_job *j = ud;
	char *line = berth_image_json_line(msg);
	json_decref(msg);
	pump_write(j->pump, line, strlen(line), NULL); /* a gone client does not stop the load */
	free(line);
}

static int load_work(void *ud, berth_error **err)
{
	image_job *j = ud;
	berth_image_source src = {j->body.data, j->body.len};
	int rc = berth_image_load(j->s, &src, j->quiet, load_progress, j, &j->result, err);
	berth_api_body_release(&j->body); /* unmapping a large body takes a while: not on the loop */
	return rc;
}

/* dockerd answers 200 and reports a failed load in the stream. */
static int load_done(berth_daemon *d, berth_api_req *req, void *ud, berth_error *work_err,
		     berth_error **err)
{
	image_job *j = ud;
	size_t i;
	json_t *id;
	json_array_foreach(j->result, i, id)
		image_event(d, "load", json_string_value(id), json_string_value(id));
	char *tail cleanup_free = work_err ? error_line(work_err) : NULL;
	if (work_err)
		berth_info("image load failed: %s", work_err->msg);
	pump_finish(j->pump, tail, tail ? strlen(tail) : 0);
	job_free(j);
	return 0;
}

static int images_load(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	image_job *j = job_new(d);
	j->quiet = berth_api_query_bool(req, "quiet", true);
	berth_api_body_keep(req, &j->body);
	j->pump = pump_start(d, req, "application/json");
	if (j->pump == NULL) {
		job_free(j);
		return berth_error_set(err, 500, "could not start the response");
	}
	return defer_job(d, req, load_work, load_done, j, err);
}

/* ------------------------------------------------------------------ save */

static int save_write(void *ud, const void *data, size_t len, berth_error **err)
{
	image_job *j = ud;
	return pump_write(j->pump, data, len, err);
}

static int save_work(void *ud, berth_error **err)
{
	image_job *j = ud;
	return berth_image_save_write(j->plan, save_write, j, err);
}

static int save_done(berth_daemon *d, berth_api_req *req, void *ud, berth_error *work_err,
		     berth_error **err)
{
	image_job *j = ud;
	char *tail cleanup_free = NULL;
	if (work_err) {
		berth_warn("image save failed: %s", work_err->msg);
		tail = error_line(work_err);
	} else {
		json_t *ids cleanup_json = berth_image_save_ids(j->plan);
		size_t i;
		json_t *id;
		json_array_foreach(ids, i, id)
			image_event(d, "save", json_string_value(id), json_string_value(id));
	}
	pump_finish(j->pump, tail, tail ? strlen(tail) : 0);
	job_free(j);
	return 0;
}

static int save_names(berth_daemon *d, berth_api_req *req, char **names, berth_error **err)
{
	image_job *j = job_new(d);
	int rc = berth_image_save_prepare(d->images, names, &j->plan, err);
	berth_strv_free(names);
	if (rc == 0 && (j->pump = pump_start(d, req, "application/x-tar")) == NULL)
		rc = berth_error_set(err, 500, "could not start the response");
	if (rc < 0) {
		job_free(j);
		return -1;
	}
	return defer_job(d, req, save_work, save_done, j, err);
}

static int images_get(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	char **names = berth_xcalloc(2, sizeof(*names));
	names[0] = berth_xstrdup(berth_api_param(req, "name"));
	return save_names(d, req, names, err);
}

static int images_get_all(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	return save_names(d, req, berth_api_query_all(req, "names"), err);
}

/* ---------------------------------------------------------------- create */

static int import_work(void *ud, berth_error **err)
{
	image_job *j = ud;
	berth_image_source src = {j->body.data, j->body.len};
	berth_image_import_opts o = {.repo = j->repo, .tag = j->tag, .message = j->message,
				     .changes = j->changes, .platform = j->platform};
	int rc = berth_image_import(j->s, &src, &o, &j->id, err);
	berth_api_body_release(&j->body);
	return rc;
}

/* Nothing is streamed before the import ends, so a failure is an HTTP
 * error, as dockerd's unflushed output makes it. */
static int import_done(berth_daemon *d, berth_api_req *req, void *ud, berth_error *work_err,
		       berth_error **err)
{
	image_job *j = ud;
	int rc = work_err ? -1 : 0;
	if (rc == 0) {
		if (j->repo && *j->repo) {
			char *name = berth_xasprintf("%s%s%s", j->repo, j->tag && *j->tag ? ":" : "",
						     j->tag ? j->tag : "");
			berth_image_ref ref;
			char *fam = NULL;
			if (berth_image_ref_parse(name, &ref, NULL) == 0) {
				if (ref.tag == NULL)
					ref.tag = berth_xstrdup("latest");
				fam = berth_image_ref_familiar(&ref);
				berth_image_ref_reset(&ref);
			}
			image_event(d, "tag", j->id, fam ? fam : name);
			free(fam);
			free(name);
		}
		image_event(d, "import", j->id, j->id);
		if (req) {
			json_t *msg = json_pack("{s:s}", "status", j->id);
			char *line = berth_image_json_line(msg);
			json_decref(msg);
			berth_api_reply_raw(req, 200, "application/json", line, strlen(line));
			free(line);
		}
	}
	job_free(j);
	return rc;
}

static int images_create(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	const char *from_image = berth_api_query(req, "fromImage");
	const char *from_src = berth_api_query(req, "fromSrc");
	if (from_image && *from_image)
		return berth_api_distribution_pull(d, req, err);
	if (from_src == NULL || strcmp(from_src, "-") != 0)
		return berth_error_set(err, 501, "importing from a URL is not supported yet: send "
						 "the archive as the request body (fromSrc=-)");
	image_job *j = job_new(d);
	j->repo = dup_or_null(berth_api_query(req, "repo"));
	j->tag = dup_or_null(berth_api_query(req, "tag"));
	const char *msg = berth_api_query(req, "message");
	j->message = msg && *msg ? berth_xstrdup(msg) : berth_xasprintf("Imported from %s", from_src);
	j->changes = berth_api_query_all(req, "changes");
	if (!berth_api_version_below(req, "1.32"))
		j->platform = dup_or_null(berth_api_query(req, "platform"));
	berth_api_body_keep(req, &j->body);
	return defer_job(d, req, import_work, import_done, j, err);
}

const berth_api_route berth_api_image_routes[] = {
	{"GET", "/images/json", images_list},
	{"GET", "/images/get", images_get_all},
	{"POST", "/images/load", images_load},
	{"POST", "/images/create", images_create},
	{"POST", "/images/prune", images_prune},
	{"GET", "/images/{name*}/json", images_inspect},
	{"GET", "/images/{name*}/history", images_history},
	{"GET", "/images/{name*}/get", images_get},
	{"POST", "/images/{name*}/tag", images_tag},
	{"DELETE", "/images/{name*}", images_delete},
	{NULL, NULL, NULL},
};
