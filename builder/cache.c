/*
 * cache.c - the build cache: a step's key is the parent image and the run
 * config its container had (the Cmd carries the instruction with its
 * resolved args, and for COPY/ADD the checksum of the sources), as dockerd's
 * classic cache compares them. The index is one file per key under
 * <data-root>/builder/cache naming the image, so it survives a restart; a
 * hit counts only while that image still exists.
 */
#include <stdlib.h>
#include <string.h>

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

int berth_builder_prune(const berth_builder_env *env, int64_t *reclaimed, berth_error **err)
{
	*reclaimed = 0;
	char *dir cleanup_free = berth_xasprintf("%s/cache", env->state_dir);
	return berth_remove_all(dir, err);
}
