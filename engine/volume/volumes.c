/*
 * volumes.c - the volume operations of the API: create, inspect, list,
 * remove, prune and the volumes part of df.
 */
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"

/* ------------------------------------------------------------------- JSON */

bool volume_is_anonymous(const volume *v)
{
	return v->labels && json_object_get(v->labels, BERTH_VOLUME_ANONYMOUS_LABEL) != NULL;
}

static bool has_options(const volume *v)
{
	return v->options && json_object_size(v->options) > 0;
}

/* Go's time.RFC3339 of the creation time, as dockerd shows it. */
static void created_at(int64_t ns, char out[32])
{
	time_t secs = (time_t)(ns / 1000000000LL);
	struct tm tm;
	gmtime_r(&secs, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

json_t *volume_json(const volume *v)
{
	char when[32];
	created_at(v->created_ns, when);
	return json_pack("{s:s, s:s, s:O?, s:s, s:s, s:O?, s:s}", "CreatedAt", when, "Driver",
			 VOLUME_DRIVER, "Labels", v->labels, "Mountpoint", v->path, "Name", v->name,
			 "Options", has_options(v) ? v->options : NULL, "Scope", "local");
}

/* ----------------------------------------------------------------- create */

/* dockerd checks the driver first, then whether the volume exists (an
 * existing one is returned as it is), then the local driver's name and
 * option rules. Errors read "create <name>: ...". */
int volume_check_driver(const char *name, const char *driver, berth_error **err)
{
	if (driver == NULL || *driver == '\0' || strcmp(driver, VOLUME_DRIVER) == 0)
		return 0;
	return berth_error_set(err, 404,
			       "create %s: error looking up volume plugin %s: plugin "
			       "\"%s\" not found",
			       name, driver, driver);
}

int volume_ensure(berth_volume_store *s, const char *name, const char *driver, const json_t *opts,
		  const json_t *labels, volume **out, bool *created, berth_error **err)
{
	*created = false;
	if (volume_check_driver(name, driver, err) < 0)
		return -1;
	if ((*out = store_find(s, name)) != NULL)
		return 0;
	if (volume_validate_name(name, err) < 0 || (opts && volume_validate_opts(opts, err) < 0))
		return berth_error_wrap(err, "create %s", name);
	if (store_create(s, name, opts, labels, out, created, err) < 0)
		return -1;
	events_queue(s, "create", name, json_pack("{s:s}", "driver", VOLUME_DRIVER));
	return 0;
}

static int check_strings(const json_t *o, const char *what, berth_error **err)
{
	const char *key;
	json_t *v;
	if (o && !json_is_object(o))
		return berth_error_set(err, 400, "invalid JSON: %s must be an object", what);
	json_object_foreach((json_t *)o, key, v)
		if (!json_is_string(v))
			return berth_error_set(err, 400, "invalid JSON: %s.%s must be a string",
					       what, key);
	return 0;
}

int berth_volume_create(berth_volume_store *s, const char *name, const char *driver,
			const json_t *driver_opts, const json_t *labels, json_t **out,
			berth_error **err)
{
	if (check_strings(driver_opts, "DriverOpts", err) < 0 ||
	    check_strings(labels, "Labels", err) < 0)
		return -1;
	char anon[65];
	json_t *all_labels cleanup_json = labels ? json_deep_copy(labels) : NULL;
	if (name == NULL || *name == '\0') {
		berth_random_id(anon);
		name = anon;
		if (all_labels == NULL)
			all_labels = json_object();
		json_object_set_new(all_labels, BERTH_VOLUME_ANONYMOUS_LABEL, json_string(""));
	}
	pthread_mutex_lock(&s->mu);
	volume *v = NULL;
	bool created;
	int r = volume_ensure(s, name, driver, driver_opts, all_labels, &v, &created, err);
	if (r == 0)
		*out = volume_json(v);
	pthread_mutex_unlock(&s->mu);
	return r;
}

static int no_such_volume(const char *name, berth_error **err)
{
	return berth_error_set(err, 404, "get %s: no such volume", name);
}

int berth_volume_inspect(berth_volume_store *s, const char *name, json_t **out, berth_error **err)
{
	pthread_mutex_lock(&s->mu);
	volume *v = store_find(s, name);
	if (v)
		*out = volume_json(v);
	pthread_mutex_unlock(&s->mu);
	return v ? 0 : no_such_volume(name, err);
}

/* ------------------------------------------------------------------- list */

/* Go's filters.Args.GetBoolOrDefault. */
static int filter_bool(const berth_filters *f, const char *key, int *out, berth_error **err)
{
	char *const *values = berth_filters_get(f, key);
	*out = -1;
	if (values == NULL)
		return 0;
	bool yes = false, no = false;
	for (char *const *v = values; *v; v++) {
		yes = yes || strcasecmp(*v, "true") == 0 || strcmp(*v, "1") == 0;
		no = no || strcasecmp(*v, "false") == 0 || strcmp(*v, "0") == 0;
	}
	if (yes != no) {
		*out = yes;
		return 0;
	}
	berth_buf b cleanup_buf = {0};
	for (char *const *v = values; *v; v++)
		berth_buf_printf(&b, "%s%s", v == values ? "" : " ", *v);
	return berth_error_set(err, 400, "invalid filter '%s=[%s]'", key, b.data ? b.data : "");
}

/* dockerd's Args.Match: an exact value, or a regular expression found in s. */
static bool filter_regex(const berth_filters *f, const char *key, const char *s)
{
	char *const *values = berth_filters_get(f, key);
	if (values == NULL)
		return true;
	for (char *const *v = values; *v; v++) {
		regex_t re;
		if (strcmp(*v, s) == 0)
			return true;
		if (regcomp(&re, *v, REG_EXTENDED | REG_NOSUB) != 0)
			continue;
		bool m = regexec(&re, s, 0, NULL, 0) == 0;
		regfree(&re);
		if (m)
			return true;
	}
	return false;
}

/* label!: none of the given labels may match. */
static bool labels_excluded(const berth_filters *f, const json_t *labels)
{
	char *const *values = berth_filters_get(f, "label!");
	for (char *const *v = values; v && *v; v++) {
		berth_filters *one cleanup_filters = berth_filters_new();
		berth_filters_add(one, "label", *v);
		if (berth_filters_match_labels(one, "label", labels))
			return true;
	}
	return false;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(berth_json_string(*(json_t *const *)a, "Name"),
		      berth_json_string(*(json_t *const *)b, "Name"));
}

static json_t *sorted(json_t *list)
{
	size_t n = json_array_size(list);
	json_t **items = berth_xcalloc(n + 1, sizeof(*items));
	for (size_t i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(list, i));
	qsort(items, n, sizeof(*items), by_name);
	json_array_clear(list);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, items[i]);
	free(items);
	return list;
}

int berth_volume_list(berth_volume_store *s, const berth_filters *f, json_t **out,
		      berth_error **err)
{
	static const char *const keys[] = {"dangling", "driver", "label", "name", NULL};
	int dangling;
	if (berth_filters_validate(f, keys, err) < 0 ||
	    filter_bool(f, "dangling", &dangling, err) < 0)
		return -1;
	json_t *list = json_array();
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->nvols; i++) {
		const volume *v = s->vols[i];
		json_t *users cleanup_json = dangling >= 0 ? store_users(s, v->name) : NULL;
		if (!berth_filters_match(f, "driver", VOLUME_DRIVER) ||
		    !filter_regex(f, "name", v->name) ||
		    !berth_filters_match_labels(f, "label", v->labels) ||
		    (dangling >= 0 && (json_array_size(users) == 0) != (dangling == 1)))
			continue;
		json_array_append_new(list, volume_json(v));
	}
	pthread_mutex_unlock(&s->mu);
	*out = sorted(list);
	return 0;
}

/* ----------------------------------------------------------------- remove */

static char *join_ids(const json_t *ids)
{
	berth_buf b = {0};
	size_t i;
	json_t *id;
	json_array_foreach(ids, i, id)
		berth_buf_printf(&b, "%s%s", i ? ", " : "", json_string_value(id));
	return berth_buf_steal(&b);
}

/* Takes an unused volume out of the store (mu held); its trash is for the
 * caller to empty once unlocked. */
int volume_remove_locked(berth_volume_store *s, volume *v, char **trash, berth_error **err)
{
	json_t *users cleanup_json = store_users(s, v->name);
	if (json_array_size(users) > 0) {
		char *ids cleanup_free = join_ids(users);
		return berth_error_set(err, 409, "remove %s: volume is in use - [%s]", v->name,
				       ids);
	}
	char *name cleanup_free = berth_xstrdup(v->name);
	if (store_unlink(s, v, trash, err) < 0)
		return -1;
	events_queue(s, "destroy", name, json_pack("{s:s}", "driver", VOLUME_DRIVER));
	return 0;
}

int berth_volume_remove(berth_volume_store *s, const char *name, bool force, berth_error **err)
{
	char *trash cleanup_free = NULL;
	pthread_mutex_lock(&s->mu);
	volume *v = store_find(s, name);
	int r = v ? volume_remove_locked(s, v, &trash, err) : force ? 0 : no_such_volume(name, err);
	pthread_mutex_unlock(&s->mu);
	if (trash)
		store_empty_trash(trash);
	return r;
}

/* ------------------------------------------------------------------ prune */

/* The "all" filter: one Go boolean. */
static int prune_all(const berth_filters *f, bool *all, berth_error **err)
{
	char *const *values = berth_filters_get(f, "all");
	*all = false;
	if (values == NULL)
		return 0;
	if (berth_strv_len(values) > 1) {
		berth_buf b cleanup_buf = {0};
		for (char *const *v = values; *v; v++)
			berth_buf_printf(&b, "%s%s", v == values ? "" : " ", *v);
		return berth_error_set(
			err, 400, "invalid filter 'all=[%s]': only one value is expected", b.data);
	}
	static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(yes); i++) {
		if (strcmp(values[0], yes[i]) == 0)
			return *all = true, 0;
		if (strcmp(values[0], no[i]) == 0)
			return 0;
	}
	return berth_error_set(err, 400,
			       "invalid filter 'all': strconv.ParseBool: parsing \"%s\": "
			       "invalid syntax",
			       values[0]);
}

static bool prunable(berth_volume_store *s, const volume *v, const berth_filters *f, bool all)
{
	json_t *users cleanup_json = store_users(s, v->name);
	return json_array_size(users) == 0 && !has_options(v) && (all || volume_is_anonymous(v)) &&
	       berth_filters_match_labels(f, "label", v->labels) && !labels_excluded(f, v->labels);
}

/* The names of the volumes to prune, with their paths for sizing. */
static json_t *prune_candidates(berth_volume_store *s, const berth_filters *f, bool all)
{
	json_t *c = json_array();
	for (size_t i = 0; i < s->nvols; i++)
		if (prunable(s, s->vols[i], f, all))
			json_array_append_new(c, json_pack("{s:s, s:s}", "Name", s->vols[i]->name,
							   "Path", s->vols[i]->path));
	return c;
}

/* Removes one candidate if it is still unused; returns its size or -1. */
static int64_t prune_one(berth_volume_store *s, const json_t *c, const berth_filters *f, bool all)
{
	int64_t size = fs_tree_size(berth_json_string(c, "Path"));
	char *trash cleanup_free = NULL;
	berth_error *err cleanup_error = NULL;
	pthread_mutex_lock(&s->mu);
	volume *v = store_find(s, berth_json_string(c, "Name"));
	int r = v && prunable(s, v, f, all) ? volume_remove_locked(s, v, &trash, &err) : -1;
	pthread_mutex_unlock(&s->mu);
	if (err)
		berth_warn("volume prune: %s", err->msg);
	if (trash)
		store_empty_trash(trash);
	return r < 0 ? -1 : size < 0 ? 0 : size;
}

int berth_volume_prune(berth_volume_store *s, const berth_filters *f, json_t **report,
		       berth_error **err)
{
	static const char *const keys[] = {"label", "label!", "all", NULL};
	bool all;
	if (berth_filters_validate(f, keys, err) < 0 || prune_all(f, &all, err) < 0)
		return -1;
	pthread_mutex_lock(&s->mu);
	bool busy = s->pruning;
	s->pruning = true;
	json_t *candidates cleanup_json = busy ? NULL : prune_candidates(s, f, all);
	pthread_mutex_unlock(&s->mu);
	if (busy)
		return berth_error_set(err, 409, "a prune operation is already running");
	json_t *deleted = json_array();
	int64_t reclaimed = 0;
	size_t i;
	json_t *c;
	json_array_foreach(candidates, i, c) {
		int64_t size = prune_one(s, c, f, all);
		if (size < 0)
			continue;
		reclaimed += size;
		json_array_append_new(deleted, json_string(berth_json_string(c, "Name")));
	}
	char text[32];
	snprintf(text, sizeof(text), "%lld", (long long)reclaimed);
	events_queue(s, "prune", "", json_pack("{s:s}", "reclaimed", text));
	pthread_mutex_lock(&s->mu);
	s->pruning = false;
	pthread_mutex_unlock(&s->mu);
	*report = json_pack("{s:o, s:I}", "VolumesDeleted", deleted, "SpaceReclaimed",
			    (json_int_t)reclaimed);
	return 0;
}

/* --------------------------------------------------------------------- df */

int berth_volume_df(berth_volume_store *s, json_t **out, berth_error **err)
{
	json_t *list = json_array();
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->nvols; i++) {
		const volume *v = s->vols[i];
		if (has_options(v))
			continue;
		json_t *users cleanup_json = store_users(s, v->name);
		json_t *item = volume_json(v);
		json_object_set_new(item, "UsageData",
				    json_pack("{s:I, s:I}", "RefCount",
					      (json_int_t)json_array_size(users), "Size",
					      (json_int_t)0));
		json_array_append_new(list, item);
	}
	pthread_mutex_unlock(&s->mu);
	/* Sizes are measured unlocked: a big volume must not stall the store. */
	size_t i;
	json_t *item;
	json_array_foreach(list, i, item) {
		json_t *usage = json_object_get(item, "UsageData");
		int64_t size = fs_tree_size(berth_json_string(item, "Mountpoint"));
		json_object_set_new(usage, "Size", json_integer(size));
	}
	*out = sorted(list);
	return 0;
}
