/*
 * resolve.c - a container's mounts at create, in dockerd's order
 * (registerMountPoints, then the image's volumes):
 *
 *   1. the mounts the container already has (a repeated call keeps them)
 *   2. VolumesFrom: the other containers' mounts, without copying data
 *   3. Binds, Mounts and Tmpfs, which override the above
 *   4. an anonymous volume for each image volume nothing else covers
 *
 * Every spec is parsed and checked before the store changes, so a bad
 * request leaves no volume behind; if creating volumes fails halfway, the
 * ones this call created are removed again.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

typedef struct plan {
	json_t *mounts; /* destination -> mount point (Tmpfs, Binds, Mounts) */
	json_t *from; /* [[container ID, mode], ...] */
	json_t *image; /* [destination, ...] */
	const char *driver; /* HostConfig.VolumeDriver */
} plan;

static void plan_reset(plan *p)
{
	json_decref(p->mounts);
	json_decref(p->from);
	json_decref(p->image);
}

/* ---------------------------------------------------------------- parsing */

/* What can be refused before any volume exists: a duplicate destination,
 * a driver other than local, a bad volume name. */
static int plan_check(const plan *p, const json_t *mp, berth_error **err)
{
	const char *dest = berth_json_string(mp, "Destination");
	const char *name = berth_json_string(mp, "Name");
	if (json_object_get(p->mounts, dest))
		return berth_error_set(err, 400, "Duplicate mount point: %s", dest);
	if (strcmp(berth_json_string(mp, "Type"), "volume") != 0 || *name == '\0')
		return 0;
	if (volume_check_driver(name, berth_json_string(mp, "Driver"), err) < 0)
		return -1;
	if (volume_validate_name(name, err) < 0)
		return berth_error_wrap(err, "create %s", name);
	return 0;
}

static int plan_add(plan *p, json_t *mp, berth_error **err)
{
	const char *dest = berth_json_string(mp, "Destination");
	if (plan_check(p, mp, err) < 0) {
		json_decref(mp);
		return -1;
	}
	json_object_set_new(p->mounts, dest, mp);
	return 0;
}

static int member_array(const json_t *hc, const char *key, const json_t **out, berth_error **err)
{
	const json_t *v = json_object_get(hc, key);
	*out = json_is_null(v) ? NULL : v;
	if (*out && !json_is_array(*out))
		return berth_error_set(err, 400, "invalid JSON: HostConfig.%s must be an array",
				       key);
	return 0;
}

static int parse_tmpfs(plan *p, const json_t *hc, berth_error **err)
{
	const json_t *tmpfs = json_object_get(hc, "Tmpfs");
	if (tmpfs == NULL || json_is_null(tmpfs))
		return 0;
	if (!json_is_object(tmpfs))
		return berth_error_set(err, 400,
				       "invalid JSON: HostConfig.Tmpfs must be an object");
	const char *dest;
	json_t *data;
	json_object_foreach((json_t *)tmpfs, dest, data) {
		json_t *mp;
		if (!json_is_string(data))
			return berth_error_set(
				err, 400, "invalid JSON: HostConfig.Tmpfs values must be strings");
		if (volume_parse_tmpfs(dest, json_string_value(data), &mp, err) < 0 ||
		    plan_add(p, mp, err) < 0)
			return -1;
	}
	return 0;
}

static int parse_binds_mounts(plan *p, const json_t *hc, berth_error **err)
{
	const json_t *binds, *mounts;
	if (member_array(hc, "Binds", &binds, err) < 0 ||
	    member_array(hc, "Mounts", &mounts, err) < 0)
		return -1;
	size_t i;
	json_t *item, *mp;
	json_array_foreach(binds, i, item) {
		if (!json_is_string(item))
			return berth_error_set(err, 400,
					       "invalid JSON: HostConfig.Binds must hold strings");
		if (volume_parse_bind(json_string_value(item), p->driver, &mp, err) < 0 ||
		    plan_add(p, mp, err) < 0)
			return -1;
	}
	json_array_foreach(mounts, i, item) {
		if (volume_parse_mount(item, &mp, err) < 0 || plan_add(p, mp, err) < 0)
			return -1;
	}
	return 0;
}

static int parse_from(plan *p, const json_t *hc, const berth_volume_from *from, berth_error **err)
{
	const json_t *list;
	if (member_array(hc, "VolumesFrom", &list, err) < 0)
		return -1;
	size_t i;
	json_t *item;
	json_array_foreach(list, i, item) {
		char *name cleanup_free = NULL, *mode cleanup_free = NULL, *id cleanup_free = NULL;
		if (volume_parse_volumes_from(json_string_value(item), &name, &mode, err) < 0)
			return -1;
		if (from == NULL || from->resolve == NULL)
			return berth_error_set(err, 400, "No such container: %s", name);
		if (from->resolve(from->userdata, name, &id, err) < 0)
			return -1;
		json_array_append_new(p->from, json_pack("[s, s]", id, mode));
	}
	return 0;
}

static int parse_image(plan *p, const json_t *image_volumes)
{
	const char *dest;
	json_t *v;
	json_object_foreach((json_t *)image_volumes, dest, v) {
		char *clean cleanup_free = berth_path_clean(dest);
		json_array_append_new(p->image, json_string(clean));
	}
	return 0;
}

static int plan_parse(plan *p, const json_t *hc, const json_t *image_volumes,
		      const berth_volume_from *from, berth_error **err)
{
	p->mounts = json_object();
	p->from = json_array();
	p->image = json_array();
	if (hc && !json_is_object(hc))
		return berth_error_set(err, 400, "invalid JSON: HostConfig must be an object");
	if (berth_json_get_string(hc, "VolumeDriver", &p->driver, err) < 0 ||
	    parse_tmpfs(p, hc, err) < 0 || parse_binds_mounts(p, hc, err) < 0 ||
	    parse_from(p, hc, from, err) < 0)
		return -1;
	return image_volumes && json_is_object(image_volumes) ? parse_image(p, image_volumes) : 0;
}

/* -------------------------------------------------------------- resolving */

typedef struct resolving {
	berth_volume_store *s;
	const char *id, *rootfs;
	json_t *result; /* destination -> mount point */
	json_t *created; /* names of the volumes this call created */
} resolving;

static json_t *copy_from(const json_t *mp, const char *mode)
{
	json_t *cp = json_deep_copy(mp);
	json_object_set_new(
		cp, "RW",
		json_boolean(json_is_true(json_object_get(mp, "RW")) && volume_mode_rw(mode)));
	json_object_set_new(cp, "Mode", json_string(""));
	json_object_set_new(cp, "CopyData", json_false());
	return cp;
}

static int add_from(resolving *rs, const json_t *from, berth_error **err)
{
	size_t i;
	json_t *pair;
	json_array_foreach(from, i, pair) {
		const container_rec *r =
			store_record(rs->s, json_string_value(json_array_get(pair, 0)));
		size_t j;
		json_t *mp;
		json_array_foreach(r ? r->mounts : NULL, j, mp) {
			const char *name = berth_json_string(mp, "Name");
			if (json_is_true(json_object_get(mp, "Hidden")))
				continue;
			if (strcmp(berth_json_string(mp, "Type"), "volume") == 0 &&
			    !store_find(rs->s, name))
				return berth_error_set(err, 404, "get %s: no such volume", name);
			json_object_set_new(
				rs->result, berth_json_string(mp, "Destination"),
				copy_from(mp, json_string_value(json_array_get(pair, 1))));
		}
	}
	return 0;
}

/* Creates (or finds) the volume of a mount point and fills in its name and
 * source, as dockerd does once the volume exists. */
static int attach_volume(resolving *rs, json_t *mp, berth_error **err)
{
	char anon[65];
	const char *name = berth_json_string(mp, "Name");
	json_t *labels cleanup_json = json_incref(json_object_get(mp, "VolumeLabels"));
	if (name == NULL || *name == '\0') {
		berth_random_id(anon);
		name = anon;
		json_decref(labels);
		labels = json_pack("{s:s}", BERTH_VOLUME_ANONYMOUS_LABEL, "");
	}
	volume *v;
	bool created;
	if (volume_ensure(rs->s, name, berth_json_string(mp, "Driver"),
			  json_object_get(mp, "DriverOpts"), labels, &v, &created, err) < 0)
		return -1;
	if (created)
		json_array_append_new(rs->created, json_string(v->name));
	json_object_set_new(mp, "Name", json_string(v->name));
	json_object_set_new(mp, "Source", json_string(v->path));
	json_object_set_new(mp, "Driver", json_string(VOLUME_DRIVER));
	json_object_del(mp, "VolumeLabels");
	json_object_del(mp, "DriverOpts");
	return 0;
}

/* dockerd's validateBindDaemonRoot: a bind of the data root, or of a
 * directory holding it, must not leak the mounts made under it into the
 * container or back, so it gets rslave unless it asks for rslave/rshared. */
static int check_daemon_root(const resolving *rs, json_t *mp, berth_error **err)
{
	const char *src = berth_json_string(mp, "Source");
	const char *root = rs->s->data_root;
	const char *prop = berth_json_string(mp, "Propagation");
	bool given = json_is_true(json_object_get(mp, "PropagationGiven"));
	json_object_del(mp, "PropagationGiven");
	if (!berth_str_has_prefix(src, root) && !berth_str_has_prefix(root, src))
		return 0;
	if (!given) {
		json_object_set_new(mp, "Propagation", json_string("rslave"));
		return 0;
	}
	if (strcmp(prop, "rslave") == 0 || strcmp(prop, "rshared") == 0)
		return 0;
	return berth_error_set(
		err, 400,
		"invalid mount config: must use either propagation mode \"rslave\" or "
		"\"rshared\" when mount source is within the daemon root, daemon root: "
		"\"%s\", bind mount source: \"%s\", propagation: \"%s\"",
		root, src, prop);
}

static int add_own(resolving *rs, const json_t *mounts, berth_error **err)
{
	const char *dest;
	json_t *spec;
	json_object_foreach((json_t *)mounts, dest, spec) {
		json_t *mp = json_deep_copy(spec);
		bool is_volume = strcmp(berth_json_string(mp, "Type"), "volume") == 0;
		bool is_bind = strcmp(berth_json_string(mp, "Type"), "bind") == 0;
		if ((is_volume && attach_volume(rs, mp, err) < 0) ||
		    (is_bind && check_daemon_root(rs, mp, err) < 0)) {
			json_decref(mp);
			return -1;
		}
		/* dockerd's setBindModeIfNull for local volumes */
		if (is_volume && *berth_json_string(mp, "Mode") == '\0')
			json_object_set_new(mp, "Mode", json_string("z"));
		json_object_set_new(rs->result, dest, mp);
	}
	return 0;
}

static bool covered(const resolving *rs, const json_t *mounts, const char *dest)
{
	return json_object_get(rs->result, dest) || json_object_get(mounts, dest);
}

static int add_image(resolving *rs, const plan *p, berth_error **err)
{
	size_t i;
	json_t *d;
	json_array_foreach(p->image, i, d) {
		const char *dest = json_string_value(d);
		if (covered(rs, p->mounts, dest))
			continue;
		char *inside cleanup_free = rs->rootfs ? fs_scoped_path(rs->rootfs, dest) : NULL;
		struct stat st;
		if (inside && stat(inside, &st) == 0 && !S_ISDIR(st.st_mode))
			return berth_error_set(err, 400,
					       "cannot mount volume over existing file, file "
					       "exists %s",
					       inside);
		json_t *mp = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s, s:b, s:s, s:b, s:b}",
				       "Type", "volume", "Name", "", "Source", "", "Destination",
				       dest, "Driver", p->driver, "Mode", "", "RW", true,
				       "Propagation", "", "Anonymous", true, "CopyData", true);
		if (attach_volume(rs, mp, err) < 0) {
			json_decref(mp);
			return -1;
		}
		json_object_set_new(rs->result, dest, mp);
	}
	return 0;
}

static int by_destination(const void *a, const void *b)
{
	return strcmp(berth_json_string(*(json_t *const *)a, "Destination"),
		      berth_json_string(*(json_t *const *)b, "Destination"));
}

static json_t *sorted_values(const json_t *obj)
{
	size_t n = json_object_size(obj), i = 0;
	json_t **items = berth_xcalloc(n + 1, sizeof(*items));
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v)
		items[i++] = v;
	qsort(items, n, sizeof(*items), by_destination);
	json_t *list = json_array();
	for (i = 0; i < n; i++)
		json_array_append(list, items[i]);
	free(items);
	return list;
}

static int save(resolving *rs, berth_error **err)
{
	container_rec *r = store_record(rs->s, rs->id);
	bool fresh = r == NULL;
	if (fresh)
		r = store_new_record(rs->s, rs->id);
	json_t *old = r->mounts;
	r->mounts = sorted_values(rs->result);
	if (store_save_record(rs->s, r, err) == 0) {
		json_decref(old);
		return 0;
	}
	json_decref(r->mounts);
	r->mounts = old;
	if (fresh)
		store_drop_record(rs->s, rs->id);
	return -1;
}

/* Undoes the volumes of a failed call (mu held); trash goes to *trash. */
static void rollback(resolving *rs, json_t *trash)
{
	size_t i;
	json_t *name;
	json_array_foreach(rs->created, i, name) {
		volume *v = store_find(rs->s, json_string_value(name));
		char *t = NULL;
		if (v && volume_remove_locked(rs->s, v, &t, NULL) == 0)
			json_array_append_new(trash, json_string(t));
		free(t);
	}
}

static int resolve_locked(resolving *rs, const plan *p, berth_error **err)
{
	const container_rec *old = store_record(rs->s, rs->id);
	size_t i;
	json_t *mp;
	json_array_foreach(old ? old->mounts : NULL, i, mp)
		json_object_set(rs->result, berth_json_string(mp, "Destination"), mp);
	if (add_from(rs, p->from, err) < 0 || add_own(rs, p->mounts, err) < 0 ||
	    add_image(rs, p, err) < 0)
		return -1;
	return save(rs, err);
}

static void empty_all(const json_t *trash)
{
	size_t i;
	json_t *t;
	json_array_foreach(trash, i, t)
		store_empty_trash(json_string_value(t));
}

static int outputs(berth_volume_store *s, const char *id, json_t **oci, json_t **points,
		   berth_error **err)
{
	pthread_mutex_lock(&s->mu);
	container_rec *r = store_record(s, id);
	json_t *mounts cleanup_json = r ? json_deep_copy(r->mounts) : json_array();
	pthread_mutex_unlock(&s->mu);
	if (oci && mount_points_oci(mounts, oci, err) < 0)
		return -1;
	json_t *list = json_array();
	size_t i;
	json_t *mp;
	json_array_foreach(mounts, i, mp) {
		json_t *view = mount_point_inspect(mp);
		if (view)
			json_array_append_new(list, view);
	}
	*points = list;
	return 0;
}

int berth_volume_resolve_mounts(berth_volume_store *s, const char *container_id,
				const json_t *hostconfig, const json_t *image_volumes,
				const char *rootfs_path, const berth_volume_from *from,
				json_t **oci_mounts, json_t **mount_points, berth_error **err)
{
	plan p = {0};
	if (plan_parse(&p, hostconfig, image_volumes, from, err) < 0) {
		plan_reset(&p);
		return -1;
	}
	resolving rs = {.s = s,
			.id = container_id,
			.rootfs = rootfs_path,
			.result = json_object(),
			.created = json_array()};
	json_t *trash cleanup_json = json_array();
	pthread_mutex_lock(&s->mu);
	int r = resolve_locked(&rs, &p, err);
	if (r < 0)
		rollback(&rs, trash);
	pthread_mutex_unlock(&s->mu);
	empty_all(trash);
	plan_reset(&p);
	json_decref(rs.result);
	json_decref(rs.created);
	if (r < 0 || mounts_copy_up(s, container_id, rootfs_path, err) < 0)
		return -1;
	return outputs(s, container_id, oci_mounts, mount_points, err);
}

json_t *berth_volume_container_mounts(berth_volume_store *s, const char *container_id)
{
	json_t *points = NULL;
	if (outputs(s, container_id, NULL, &points, NULL) < 0)
		return json_array();
	return points;
}
