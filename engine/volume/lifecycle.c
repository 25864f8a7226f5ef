/*
 * lifecycle.c - a container's volumes across start, stop and removal:
 * device volumes are mounted by their first running user and unmounted by
 * the last, -v host directories appear at start, and rm -v takes the
 * container's anonymous volumes with it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

static bool is_type(const json_t *mp, const char *type)
{
	return strcmp(berth_json_string(mp, "Type"), type) == 0;
}

/* dockerd creates a missing -v host directory (0755) at start; a file in
 * its place is left for the runtime to mount. */
static int create_source(const json_t *mp, berth_error **err)
{
	const char *src = berth_json_string(mp, "Source");
	if (!json_is_true(json_object_get(mp, "CreateSource")))
		return 0;
	struct stat st;
	berth_error *e cleanup_error = NULL;
	if (stat(src, &st) == 0 || berth_mkdir_all(src, 0755, &e) == 0 || e->errnum == ENOTDIR)
		return 0;
	return berth_error_set(err, 500, "error while creating mount source path '%s': %s", src,
			       e->msg);
}

/* Drops one running user of a volume; the last one unmounts its device. */
static void volume_put(berth_volume_store *s, const json_t *mp)
{
	volume *v = store_find(s, berth_json_string(mp, "Name"));
	if (v == NULL)
		return;
	if (v->active > 0)
		v->active--;
	if (v->active == 0 && v->mounted)
		volume_device_unmount(v);
}

static int volume_get(berth_volume_store *s, const json_t *mp, berth_error **err)
{
	const char *name = berth_json_string(mp, "Name");
	volume *v = store_find(s, name);
	if (v == NULL)
		return berth_error_set(err, 404, "get %s: no such volume", name);
	if (v->options && !v->mounted && volume_device_mount(v, err) < 0)
		return -1;
	v->active++;
	return 0;
}

/* Takes the volumes of the first n mount points back. */
static void put_first(berth_volume_store *s, const container_rec *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const json_t *mp = json_array_get(r->mounts, i);
		if (is_type(mp, "volume"))
			volume_put(s, mp);
	}
}

static void queue_mount_events(berth_volume_store *s, const container_rec *r)
{
	size_t i;
	json_t *mp;
	json_array_foreach(r->mounts, i, mp) {
		if (!is_type(mp, "volume"))
			continue;
		bool rw = json_is_true(json_object_get(mp, "RW"));
		events_queue(s, "mount", berth_json_string(mp, "Name"),
			     json_pack("{s:s, s:s, s:s, s:s, s:s}", "driver", VOLUME_DRIVER,
				       "container", r->id, "destination",
				       berth_json_string(mp, "Destination"), "read/write",
				       rw ? "true" : "false", "propagation",
				       berth_json_string(mp, "Propagation")));
	}
}

static int start_locked(berth_volume_store *s, container_rec *r, berth_error **err)
{
	size_t n = json_array_size(r->mounts), taken;
	int rc = 0;
	for (taken = 0; taken < n && rc == 0; taken++) {
		const json_t *mp = json_array_get(r->mounts, taken);
		rc = is_type(mp, "bind")     ? create_source(mp, err)
		     : is_type(mp, "volume") ? volume_get(s, mp, err)
					     : 0;
		if (rc < 0)
			break; /* this one took nothing */
	}
	if (rc == 0) {
		r->running = true;
		rc = store_save_record(s, r, err);
		r->running = rc == 0;
	}
	if (rc < 0) {
		put_first(s, r, taken);
		return -1;
	}
	queue_mount_events(s, r);
	return 0;
}

int berth_volume_mount(berth_volume_store *s, const char *container_id, const char *rootfs_path,
		       json_t **oci_mounts, berth_error **err)
{
	pthread_mutex_lock(&s->mu);
	container_rec *r = store_record(s, container_id);
	int rc = r && !r->running ? start_locked(s, r, err) : 0;
	pthread_mutex_unlock(&s->mu);
	if (rc < 0)
		return -1;
	if (mounts_copy_up(s, container_id, rootfs_path, err) < 0) {
		berth_volume_unmount(s, container_id);
		return -1;
	}
	pthread_mutex_lock(&s->mu);
	r = store_record(s, container_id);
	json_t *mounts cleanup_json = r ? json_deep_copy(r->mounts) : json_array();
	pthread_mutex_unlock(&s->mu);
	return mount_points_oci(mounts, oci_mounts, err);
}

void berth_volume_unmount(berth_volume_store *s, const char *container_id)
{
	pthread_mutex_lock(&s->mu);
	container_rec *r = store_record(s, container_id);
	if (r && r->running) {
		size_t i;
		json_t *mp;
		json_array_foreach(r->mounts, i, mp) {
			if (!is_type(mp, "volume"))
				continue;
			volume_put(s, mp);
			events_queue(s, "unmount", berth_json_string(mp, "Name"),
				     json_pack("{s:s, s:s}", "driver", VOLUME_DRIVER, "container",
					       r->id));
		}
		r->running = false;
		berth_error *err cleanup_error = NULL;
		if (store_save_record(s, r, &err) < 0)
			berth_warn("volume store: %s", err->msg);
	}
	pthread_mutex_unlock(&s->mu);
}

/* The anonymous volumes of a record (dockerd: mounts whose spec named no
 * volume), before the record goes. */
static json_t *anonymous_volumes(const container_rec *r)
{
	json_t *names = json_array();
	size_t i;
	json_t *mp;
	json_array_foreach(r->mounts, i, mp)
		if (is_type(mp, "volume") && json_is_true(json_object_get(mp, "Anonymous")))
			json_array_append(names, json_object_get(mp, "Name"));
	return names;
}

/* Removes the volumes nobody else uses (mu held); in-use ones are an
 * implementation detail, not an error, as in dockerd. */
static int remove_unused(berth_volume_store *s, const json_t *names, json_t *trash,
			 berth_buf *errors)
{
	size_t i;
	json_t *name;
	json_array_foreach(names, i, name) {
		volume *v = store_find(s, json_string_value(name));
		json_t *users cleanup_json = v ? store_users(s, v->name) : NULL;
		char *t = NULL;
		berth_error *err cleanup_error = NULL;
		if (v == NULL || json_array_size(users) > 0)
			continue;
		if (volume_remove_locked(s, v, &t, &err) == 0)
			json_array_append_new(trash, json_string(t));
		else
			berth_buf_printf(errors, "%s%s", errors->len ? "\n" : "", err->msg);
		free(t);
	}
	return errors->len ? -1 : 0;
}

int berth_volume_release(berth_volume_store *s, const char *container_id, bool remove_anonymous,
			 berth_error **err)
{
	berth_volume_unmount(s, container_id);
	json_t *trash cleanup_json = json_array();
	berth_buf errors cleanup_buf = {0};
	int rc = 0;
	pthread_mutex_lock(&s->mu);
	container_rec *r = store_record(s, container_id);
	json_t *anon cleanup_json = r && remove_anonymous ? anonymous_volumes(r) : NULL;
	if (r)
		store_drop_record(s, container_id);
	if (anon)
		rc = remove_unused(s, anon, trash, &errors);
	pthread_mutex_unlock(&s->mu);
	size_t i;
	json_t *t;
	json_array_foreach(trash, i, t)
		store_empty_trash(json_string_value(t));
	if (rc < 0)
		return berth_error_set(err, 500, "Error removing volumes:\n%s", errors.data);
	return 0;
}

void berth_volume_sync_containers(berth_volume_store *s, berth_volume_container_state_fn fn,
				  void *userdata)
{
	json_t *ids cleanup_json = json_array();
	pthread_mutex_lock(&s->mu);
	for (size_t i = 0; i < s->nrecs; i++)
		json_array_append_new(ids, json_string(s->recs[i]->id));
	pthread_mutex_unlock(&s->mu);
	size_t i;
	json_t *id;
	json_array_foreach(ids, i, id) {
		bool running = false;
		if (!fn(userdata, json_string_value(id), &running))
			berth_volume_release(s, json_string_value(id), false, NULL);
		else if (!running)
			berth_volume_unmount(s, json_string_value(id));
	}
}
