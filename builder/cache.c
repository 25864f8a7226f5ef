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
