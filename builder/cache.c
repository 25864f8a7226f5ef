/*
 * cache.c - the build cache: a step's key is the parent image and the run
 * config its container had (the Cmd carries the instruction with its
 * resolved args, and for COPY/ADD the checksum of the sources), as dockerd's
 * classic cache compares them. The index is one file per key under
 * <data-root>/builder/cache naming the image, so it survives a restart; a
 * hit counts only while that image still exists.
 */
#include <dirent.h>
#include <pthread.h>
#include <sys/mount.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

char *cache_key(const char *parent, const json_t *config)
{
	char *cfg cleanup_free = json_dumps(config, JSON_COMPACT | JSON_SORT_KEYS);
	char *text cleanup_free = berth_xasprintf("%s\n%s", parent ? parent : "scratch", cfg ? cfg : "");
	char hex[65];
	berth_sha256_hex(text, strlen(text), hex);
	return berth_xstrdup(hex);
}

static char *entry_path(const berth_builder_env *env, const char *key)
{
	return berth_xasprintf("%s/cache/%s", env->state_dir, key);
}

char *cache_get(const berth_builder_env *env, const char *key)
{
	if (env->state_dir == NULL)
		return NULL;
	char *path cleanup_free = entry_path(env, key);
	char *data = NULL;
	size_t len = 0;
	if (berth_file_read_all(path, &data, &len, NULL) < 0)
		return NULL;
	if (len < 71 || strncmp(data, "sha256:", 7) != 0) {
		free(data);
		return NULL;
	}
	data[71] = '\0';
	return data;
}

void cache_put(const berth_builder_env *env, const char *key, const char *id)
{
	if (env->state_dir == NULL)
		return;
	char *dir cleanup_free = berth_xasprintf("%s/cache", env->state_dir);
	char *path cleanup_free = entry_path(env, key);
	berth_error *err cleanup_error = NULL;
	if (berth_mkdir_all(dir, 0700, &err) < 0 ||
	    berth_file_write_atomic(path, id, strlen(id), 0600, &err) < 0)
		berth_warn("build cache: %s", err->msg);
}

/* ------------------------------------------------------------ --cache-from */

void cache_from_load(berth_build *b)
{
	for (char *const *name = b->opts->cache_from; name && *name; name++) {
		char *id cleanup_free = NULL;
		json_t *img = NULL;
		berth_error *err cleanup_error = NULL;
		if (berth_image_resolve(b->env->images, *name, &id, &err) < 0 ||
		    berth_image_config(b->env->images, id, &img, &err) < 0) {
			berth_warn("Could not look up %s for cache resolution, skipping: %s", *name,
				   err->msg);
			continue;
		}
		json_object_set_new(img, "id", json_string(id));
		if (b->cache_from == NULL)
			b->cache_from = json_array();
		json_array_append_new(b->cache_from, img);
	}
}

static json_t *diff_ids(const json_t *img)
{
	return json_object_get(json_object_get(img, "rootfs"), "diff_ids");
}

/* dockerd's isValidParent: img's history and layers start with parent's
 * (NULL or empty: anything does). */
static bool extends(const json_t *img, const json_t *parent)
{
	const json_t *h = json_object_get(img, "history"), *ph = json_object_get(parent, "history");
	const json_t *d = diff_ids(img), *pd = diff_ids(parent);
	if (json_array_size(h) == 0)
		return false;
	if (parent == NULL || (json_array_size(ph) == 0 && json_array_size(pd) == 0))
		return true;
	if (json_array_size(ph) >= json_array_size(h) || json_array_size(pd) > json_array_size(d))
		return false;
	for (size_t i = 0; i < json_array_size(ph); i++)
		if (!json_equal(json_array_get(ph, i), json_array_get(h, i)))
			return false;
	for (size_t i = 0; i < json_array_size(pd); i++)
		if (!json_equal(json_array_get(pd, i), json_array_get(d, i)))
			return false;
	return true;
}

bool cache_from_trusts(const berth_build *b, const char *id)
{
	if (b->cache_from == NULL)
		return true;
	json_t *img cleanup_json = NULL;
	if (berth_image_config(b->env->images, id, &img, NULL) < 0)
		return false;
	size_t i;
	json_t *src;
	json_array_foreach(b->cache_from, i, src)
		if (strcmp(berth_json_string(src, "id") ?: "", id) == 0 ||
		    (json_equal(json_object_get(src, "history"), json_object_get(img, "history")) &&
		     json_equal(diff_ids(src), diff_ids(img))) || extends(src, img))
			return true;
	return false;
}

/* The diff ID the source's history entry `index` added, NULL for an empty
 * layer. */
static json_t *layer_of(const json_t *src, size_t index)
{
	const json_t *h = json_object_get(src, "history");
	size_t layer = 0;
	for (size_t i = 0; i < index; i++)
		if (!json_is_true(json_object_get(json_array_get(h, i), "empty_layer")))
			layer++;
	if (json_is_true(json_object_get(json_array_get(h, index), "empty_layer")))
		return NULL;
	return json_array_get(diff_ids(src), layer);
}

/* The source's ancestor made by its history entry `index` on top of the
 * current image: that entry and its layer, the step's run config. */
static int restore(berth_build *b, const build_state *st, const json_t *parent, const json_t *src,
		   size_t index, char **id, berth_error **err)
{
	json_t *entry = json_array_get(json_object_get(src, "history"), index);
	json_t *layer = layer_of(src, index);
	if (layer == NULL && !json_is_true(json_object_get(entry, "empty_layer")))
		return berth_error_set(err, 500, "cache source %s has fewer layers than its history",
				       berth_json_string(src, "id"));
	json_t *img cleanup_json = json_object();
	const char *keys[] = {"architecture", "variant", "os", "author"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++)
		if (json_is_string(json_object_get(src, keys[i])))
			json_object_set(img, keys[i], json_object_get(src, keys[i]));
	json_t *cfg = json_deep_copy(st->config);
	json_object_set_new(cfg, "Image", json_string(st->image_id ? st->image_id : ""));
	json_object_set_new(img, "config", cfg);
	if (json_is_string(json_object_get(entry, "created")))
		json_object_set(img, "created", json_object_get(entry, "created"));
	json_t *history = parent ? json_deep_copy(json_object_get(parent, "history")) : NULL;
	if (!json_is_array(history)) {
		json_decref(history);
		history = json_array();
	}
	json_array_append(history, entry);
	json_object_set_new(img, "history", history);
	json_t *diffs = parent ? json_deep_copy(diff_ids(parent)) : NULL;
	if (!json_is_array(diffs)) {
		json_decref(diffs);
		diffs = json_array();
	}
	if (layer)
		json_array_append(diffs, layer);
	json_object_set_new(img, "rootfs", json_pack("{s:s, s:o}", "type", "layers", "diff_ids", diffs));
	return berth_image_create_config(b->env->images, st->image_id, img, id, err);
}

int cache_from_probe(berth_build *b, const build_state *st, const json_t *cmd, char **id,
		     berth_error **err)
{
	*id = NULL;
	json_t *parent cleanup_json = NULL;
	if (st->image_id && berth_image_config(b->env->images, st->image_id, &parent, err) < 0)
		return -1;
	size_t depth = json_array_size(json_object_get(parent, "history"));
	char *by cleanup_free = build_join(cmd);
	size_t i;
	json_t *src;
	json_array_foreach(b->cache_from, i, src) {
		json_t *h = json_object_get(src, "history");
		const char *created_by = berth_json_string(json_array_get(h, depth), "created_by");
		if (!extends(src, parent) || created_by == NULL || strcmp(created_by, by) != 0)
			continue;
		if (json_array_size(h) == depth + 1) {
			*id = berth_xstrdup(berth_json_string(src, "id"));
			return 0;
		}
		if (restore(b, st, parent, src, depth, id, err) < 0)
			return -1;
		/* dockerd's choice: the rest of the build follows this source only */
		json_t *keep = json_incref(src);
		json_array_clear(b->cache_from);
		json_array_append_new(b->cache_from, keep);
		return 0;
	}
	return 0;
}

static void *discard_thread(void *arg)
{
	char *dir = arg;
	berth_error *err cleanup_error = NULL;
	if (berth_remove_all(dir, &err) < 0)
		berth_warn("build: remove %s: %s", dir, err->msg);
	free(dir);
	return NULL;
}

/* Trees of many files (a context, a COPY's upper dir) take seconds to
 * delete on a disk mounted with discard: they are moved aside at once and
 * deleted by a thread of their own; what a crash leaves in trash/ goes
 * with the next build's. */
void berth_builder_discard(const char *state_dir, const char *dir)
{
	char rnd[65];
	berth_random_id(rnd);
	char *trash cleanup_free = berth_xasprintf("%s/trash", state_dir);
	char *to = berth_xasprintf("%s/%.16s", trash, rnd);
	const char *doomed = dir;
	berth_error *err cleanup_error = NULL;
	if (berth_mkdir_all(trash, 0700, &err) == 0 && rename(dir, to) == 0) {
		pthread_t t;
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		int rc = pthread_create(&t, &attr, discard_thread, to);
		pthread_attr_destroy(&attr);
		if (rc == 0)
			return;
		doomed = to;
	}
	berth_error_free(&err);
	if (berth_remove_all(doomed, &err) < 0)
		berth_warn("build: remove %s: %s", doomed, err->msg);
	free(to);
}

/* What a berthd that stopped in the middle of builds left: step roots still
 * mounted under tmp/ (their merged dirs), contexts, trees not yet deleted. */
void berth_builder_sweep(const char *state_dir)
{
	char *tmp cleanup_free = berth_xasprintf("%s/tmp", state_dir);
	DIR *d = opendir(tmp);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		char *merged cleanup_free = berth_xasprintf("%s/%s/merged", tmp, e->d_name);
		umount2(merged, MNT_DETACH);
	}
	if (d)
		closedir(d);
	char rnd[65];
	berth_random_id(rnd);
	char *trash cleanup_free = berth_xasprintf("%s/trash", state_dir);
	char *old cleanup_free = berth_xasprintf("%s/trash-%.16s", state_dir, rnd);
	if (rename(trash, old) == 0)
		berth_builder_discard(state_dir, old);
	if (access(tmp, F_OK) == 0)
		berth_builder_discard(state_dir, tmp);
}

int berth_builder_prune(const berth_builder_env *env, int64_t *reclaimed, berth_error **err)
{
	*reclaimed = 0;
	char *dir cleanup_free = berth_xasprintf("%s/cache", env->state_dir);
	return berth_remove_all(dir, err);
}
