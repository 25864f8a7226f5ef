/* system.c - GET/HEAD /_ping, GET /version, GET /info, GET /events. */
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "engine/container/container.h"
#include "engine/engine.h"
#include "engine/image/image.h"
#include "engine/volume/volume.h"

static int system_ping(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	berth_api_add_header(req, "Builder-Version", "1");
	berth_api_add_header(req, "Swarm", "inactive");
	berth_api_add_header(req, "Cache-Control", "no-cache, no-store, must-revalidate");
	berth_api_add_header(req, "Pragma", "no-cache");
	if (strcmp(berth_api_method(req), "HEAD") == 0)
		return berth_api_reply_raw(req, 200, "text/plain; charset=utf-8", "", 0);
	return berth_api_reply_raw(req, 200, "text/plain; charset=utf-8", "OK", 2);
}

static int system_version(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	return berth_api_reply_json(req, 200, json_incref(d->version));
}

static json_int_t count_dir_entries(const char *path)
{
	DIR *dir = opendir(path);
	if (dir == NULL)
		return 0;
	json_int_t n = 0;
	for (struct dirent *e; (e = readdir(dir));)
		n += e->d_name[0] != '.';
	closedir(dir);
	return n;
}

static json_int_t thread_count(void)
{
	char *status cleanup_free = NULL;
	if (berth_file_read_all("/proc/self/status", &status, NULL, NULL) < 0)
		return 0;
	const char *t = strstr(status, "\nThreads:");
	return t ? strtoll(t + 9, NULL, 10) : 0;
}

static json_t *runtimes_json(const berth_config *c)
{
	json_t *out = json_object();
	const char *name;
	json_t *rt;
	json_object_foreach(c->runtimes, name, rt)
		json_object_set_new(out, name, json_pack("{s:O}", "path", json_object_get(rt, "path")));
	return out;
}

static int system_info(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	const berth_config *c = d->config;
	json_t *info = json_deep_copy(d->info_static);
	char now[64];
	berth_time_format_rfc3339(berth_time_now_ns(), now, sizeof(now));
	int total, running, paused, stopped;
	berth_container_counts(d->containers, &total, &running, &paused, &stopped);
	json_t *images = NULL;
	berth_image_filters all = {.dangling = -1};
	if (d->images == NULL || berth_image_list(d->images, &all, &images, NULL) < 0)
		images = json_array();
	json_int_t nimages = (json_int_t)json_array_size(images);
	json_decref(images);
	json_t *dyn = json_pack(
		"{s:i, s:i, s:i, s:i, s:I, s:b, s:I, s:I, s:I, s:s, s:O, s:s, s:s, s:s, s:b, s:b}",
		"Containers", total, "ContainersRunning", running, "ContainersPaused", paused,
		"ContainersStopped", stopped, "Images", nimages, "Debug", c->debug, "NFd", count_dir_entries("/proc/self/fd"),
		"NGoroutines", thread_count(), "NEventsListener",
		(json_int_t)berth_events_listeners(d->events), "SystemTime", now, "Labels", c->labels,
		"DefaultRuntime", c->default_runtime, "InitBinary",
		"docker-init", "IndexServerAddress", "https://index.docker.io/v1/", "ExperimentalBuild",
		c->experimental, "LiveRestoreEnabled", c->live_restore);
	json_object_set_new(dyn, "Runtimes", runtimes_json(c));
	json_object_set_new(dyn, "Plugins",
			    /* PluginsInfo's field order, which docker's {{json}} keeps */
			    json_pack("{s:[s], s:[s,s,s,s], s:n, s:[s]}", "Volume", "local", "Network",
				      "bridge", "host", "none", "null", "Authorization", "Log",
				      "json-file"));
	json_object_set_new(dyn, "Swarm",
			    json_pack("{s:s, s:s, s:s, s:b, s:s, s:n}", "NodeID", "", "NodeAddr", "",
				      "LocalNodeState", "inactive", "ControlAvailable", false, "Error",
				      "", "RemoteManagers"));
	json_object_set_new(dyn, "SecurityOptions",
			    json_pack("[s,s]", "name=seccomp,profile=builtin", "name=cgroupns"));
	json_object_set_new(dyn, "RegistryConfig",
			    json_pack("{s:[], s:[s,s], s:{s:{s:s, s:[], s:b, s:b}}}", "AllowNondistributableArtifactsCIDRs",
				      "InsecureRegistryCIDRs", "::1/128", "127.0.0.0/8", "IndexConfigs",
				      "docker.io", "Name", "docker.io", "Mirrors", "Secure", true,
				      "Official", true));
	json_object_set_new(dyn, "Warnings", json_array());
	json_object_update(info, dyn);
	json_decref(dyn);
	return berth_api_reply_json(req, 200, info);
}

/* ---------------------------------------------------------- /system/df */

/* Each part of GET /system/df comes from the module that owns it. */
static int df_images(berth_daemon *d, json_t *out, berth_error **err)
{
	json_t *df = NULL;
	if (berth_image_df(d->images, &df, err) < 0)
		return -1;
	json_object_update(out, df);
	json_decref(df);
	return 0;
}

static int df_containers(berth_daemon *d, json_t *out, berth_error **err)
{
	json_t *list = NULL;
	if (berth_container_list(d->containers, true, -1, true, NULL, &list, err) < 0)
		return -1;
	return json_object_set_new(out, "Containers", list);
}

static int df_volumes(berth_daemon *d, json_t *out, berth_error **err)
{
	json_t *list = NULL;
	if (berth_volume_df(d->volumes, &list, err) < 0)
		return -1;
	return json_object_set_new(out, "Volumes", list);
}

/* No builder yet, so no build cache. */
static int df_build_cache(berth_daemon *d, json_t *out, berth_error **err)
{
	return json_object_set_new(out, "BuildCache", json_array());
}

static int system_df(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	static const struct {
		const char *type;
		int (*fill)(berth_daemon *d, json_t *out, berth_error **err);
	} parts[] = {
		{"image", df_images}, {"container", df_containers},
		{"volume", df_volumes}, {"build-cache", df_build_cache},
	};
	char **wanted = berth_api_query_all(req, "type");
	json_t *out = json_object();
	int rc = 0;
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(parts) && rc == 0; i++) {
		bool want = wanted[0] == NULL;
		for (char **t = wanted; *t && !want; t++)
			want = strcmp(*t, parts[i].type) == 0;
		if (want)
			rc = parts[i].fill(d, out, err);
	}
	berth_strv_free(wanted);
	if (rc < 0) {
		json_decref(out);
		return -1;
	}
	return berth_api_reply_json(req, 200, out);
}

/* ------------------------------------------------------------- /events */

static const char *const event_filter_keys[] = {
	"config", "container", "daemon", "event", "image", "label", "network", "node",
	"plugin", "scope", "secret", "service", "type", "volume", NULL,
};

/* Object types whose filter matches the actor's ID or name by prefix, as
 * dockerd's FuzzyMatch does. */
static const char *const actor_types[] = {
	"config", "container", "daemon", "network", "node", "plugin", "secret", "service", "volume",
};

typedef struct events_watch {
	berth_daemon *daemon;
	berth_api_stream *stream;
	berth_events_sub *sub;
	berth_filters *filters;
	uv_timer_t *until_timer;
} events_watch;

static bool fuzzy_match(const berth_filters *f, const char *key, const char *value)
{
	char *const *values = berth_filters_get(f, key);
	if (values == NULL)
		return true;
	for (char *const *v = values; value && *v; v++) {
		if (berth_str_has_prefix(value, *v))
			return true;
	}
	return false;
}

/* The image filter matches image events by ID or name, and container events
 * by the image they run. */
static bool image_match(const berth_filters *f, const char *type, const char *id,
			const json_t *attrs)
{
	if (berth_filters_get(f, "image") == NULL)
		return true;
	const char *image = berth_json_string(attrs, "image");
	if (strcmp(type, "image") == 0)
		return fuzzy_match(f, "image", id) || fuzzy_match(f, "image", berth_json_string(attrs, "name"));
	return image && berth_filters_match(f, "image", image);
}

/* event: exact, except that health_status, exec_create and exec_start
 * without a colon match their "health_status: healthy" forms by prefix
 * (dockerd's #25798). */
static bool event_match(const berth_filters *f, const char *action)
{
	static const char *const prefixed[] = {"health_status", "exec_create", "exec_start"};
	char *const *want = berth_filters_get(f, "event");
	if (want == NULL)
		return true;
	for (char *const *w = want; *w; w++) {
		bool prefix = false;
		for (size_t i = 0; i < BERTH_ARRAY_SIZE(prefixed); i++)
			prefix = prefix || strcmp(*w, prefixed[i]) == 0;
		if (strcmp(*w, action) == 0 ||
		    (prefix && berth_str_has_prefix(action, *w) && action[strlen(*w)] == ':'))
			return true;
	}
	return false;
}

bool berth_api_event_matches(const json_t *msg, const berth_filters *f)
{
	const char *type = berth_json_string(msg, "Type");
	const char *action = berth_json_string(msg, "Action");
	const json_t *actor = json_object_get(msg, "Actor");
	const char *id = berth_json_string(actor, "ID");
	const json_t *attrs = json_object_get(actor, "Attributes");
	if (!berth_filters_match(f, "type", type) || !event_match(f, action) ||
	    !berth_filters_match(f, "scope", berth_json_string(msg, "scope")) ||
	    !berth_filters_match_labels(f, "label", attrs) || !image_match(f, type, id, attrs))
		return false;
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(actor_types); i++) {
		const char *key = actor_types[i];
		if (berth_filters_get(f, key) && !(strcmp(type, key) == 0 &&
						   (fuzzy_match(f, key, id) ||
						    fuzzy_match(f, key, berth_json_string(attrs, "name")))))
			return false;
	}
	return true;
}

static void events_send(const json_t *msg, void *userdata)
{
	events_watch *w = userdata;
	if (w->stream && berth_api_event_matches(msg, w->filters))
		berth_api_stream_write_json(w->stream, json_incref((json_t *)msg));
}

static void events_timer_closed(uv_handle_t *h)
{
	free(h);
}

static void events_watch_free(events_watch *w)
{
	berth_events_unsubscribe(w->daemon->events, w->sub);
	if (w->until_timer)
		uv_close((uv_handle_t *)w->until_timer, events_timer_closed);
	berth_filters_free(w->filters);
	free(w);
}

static void events_client_gone(berth_api_stream *s, void *userdata)
{
	events_watch_free(userdata);
}

static void events_until_reached(uv_timer_t *t)
{
	events_watch *w = t->data;
	berth_api_stream *s = w->stream;
	w->stream = NULL;
	berth_api_stream_end(s);
	events_watch_free(w);
}

static int system_events(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	int64_t now = berth_time_now_ns(), since = -1, until = -1;
	const char *s = berth_api_query(req, "since"), *u = berth_api_query(req, "until");
	if (s && *s && berth_time_parse(s, now, &since, err) < 0)
		return -1;
	if (u && *u && berth_time_parse(u, now, &until, err) < 0)
		return -1;
	berth_filters *f cleanup_filters = NULL;
	if (berth_filters_parse(berth_api_query(req, "filters"), &f, err) < 0 ||
	    berth_filters_validate(f, event_filter_keys, err) < 0)
		return -1;

	events_watch *w = berth_xcalloc(1, sizeof(*w));
	w->daemon = d;
	w->filters = berth_steal_ptr(&f);
	w->stream = berth_api_stream_start(req, 200, "application/json", events_client_gone, w);
	if (since >= 0)
		berth_events_replay(d->events, since, until >= 0 && until < now ? until : now,
				    events_send, w);
	if (until >= 0 && until <= now) {
		/* only the past was asked for: the stream is complete */
		berth_api_stream *st = w->stream;
		w->stream = NULL;
		berth_api_stream_end(st);
		events_watch_free(w);
		return 0;
	}
	w->sub = berth_events_subscribe(d->events, events_send, w);
	if (until >= 0) {
		w->until_timer = berth_xmalloc(sizeof(uv_timer_t));
		uv_timer_init(d->loop, w->until_timer);
		w->until_timer->data = w;
		uv_timer_start(w->until_timer, events_until_reached, (uint64_t)((until - now) / 1000000), 0);
	}
	return 0;
}

const berth_api_route berth_api_system_routes[] = {
	{"GET", "/_ping", system_ping},
	{"HEAD", "/_ping", system_ping},
	{"GET", "/version", system_version},
	{"GET", "/info", system_info},
	{"GET", "/events", system_events},
	{"GET", "/system/df", system_df},
	{NULL, NULL, NULL},
};
