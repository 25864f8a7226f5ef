/*
 * mountpoints.c - what a container's mount points become: Docker's inspect
 * "Mounts", the runtime spec's mounts, and the image content copied up into
 * empty volumes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"

/* ---------------------------------------------------------------- inspect */

json_t *mount_point_inspect(const json_t *mp)
{
	if (json_is_true(json_object_get(mp, "Hidden")))
		return NULL;
	json_t *out = json_object();
	/* types.MountPoint's order; Name and Driver are omitempty. */
	static const char *const keys[] = {"Type",   "Name", "Source", "Destination",
					   "Driver", "Mode", "RW",     "Propagation"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++) {
		json_t *v = json_object_get(mp, keys[i]);
		bool omit = (strcmp(keys[i], "Name") == 0 || strcmp(keys[i], "Driver") == 0) &&
			    (v == NULL || *json_string_value(v) == '\0');
		if (!omit)
			json_object_set_new(out, keys[i], v ? json_incref(v) : json_string(""));
	}
	return out;
}

/* -------------------------------------------------------------------- OCI */

/* Go's %q of a []string: ["size" "1m"]. */
static char *go_quote_list(char *const *parts)
{
	berth_buf b = {0};
	berth_buf_puts(&b, "[");
	for (char *const *p = parts; *p; p++)
		berth_buf_printf(&b, "%s\"%s\"", p == parts ? "" : " ", *p);
	berth_buf_puts(&b, "]");
	return berth_buf_steal(&b);
}

static bool tmpfs_data_key(const char *opt, size_t len)
{
	static const char *const keys[] = {"size",	"mode",	     "uid", "gid",
					   "nr_inodes", "nr_blocks", "mpol"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++)
		if (strlen(keys[i]) == len && strncmp(opt, keys[i], len) == 0)
			return true;
	return false;
}

/* One option of dockerd's MergeTmpfsOptions, taken from the end: a later
 * flag of the same kind (ro/rw, exec/noexec, any propagation) or a later
 * size= wins. */
static int merge_tmpfs_option(const char *opt, json_t *seen, json_t *out, berth_error **err)
{
	unsigned long flag;
	bool prop;
	char key[64];
	if (strcmp(opt, "defaults") == 0)
		return 0;
	if (mount_option_flag(opt, &flag, &prop)) {
		snprintf(key, sizeof(key), "flag:%lx", prop ? 0UL : flag);
	} else {
		const char *eq = strchr(opt, '=');
		if (eq == NULL || !tmpfs_data_key(opt, (size_t)(eq - opt))) {
			char **parts = eq ? berth_xcalloc(3, sizeof(char *))
					  : berth_xcalloc(2, sizeof(char *));
			parts[0] =
				eq ? berth_xstrndup(opt, (size_t)(eq - opt)) : berth_xstrdup(opt);
			if (eq)
				parts[1] = berth_xstrdup(eq + 1);
			char *q cleanup_free = go_quote_list(parts);
			berth_strv_free(parts);
			return berth_error_set(err, 400, "invalid tmpfs option %s", q);
		}
		snprintf(key, sizeof(key), "data:%.*s", (int)(eq - opt), opt);
	}
	if (json_object_get(seen, key))
		return 0;
	json_object_set_new(seen, key, json_true());
	json_array_insert_new(out, 0, json_string(opt));
	return 0;
}

static int tmpfs_options(const char *data, json_t **out, berth_error **err)
{
	berth_buf all cleanup_buf = {0};
	berth_buf_puts(&all, "noexec,nosuid,nodev,rprivate");
	if (data && *data)
		berth_buf_printf(&all, ",%s", data);
	char **opts = berth_str_split(all.data, ',');
	json_t *seen cleanup_json = json_object();
	json_t *list = json_array();
	int r = 0;
	for (size_t i = berth_strv_len(opts); i-- > 0 && r == 0;)
		r = merge_tmpfs_option(opts[i], seen, list, err);
	berth_strv_free(opts);
	if (r < 0) {
		json_decref(list);
		return -1;
	}
	*out = list;
	return 0;
}

/* A volume's Subpath, resolved inside the volume; it must exist. */
static int subpath_source(const char *source, const char *subpath, char **out, berth_error **err)
{
	char *path = fs_scoped_path(source, subpath);
	struct stat st;
	if (stat(path, &st) < 0) {
		int e = errno;
		berth_error_set(err, 400, "cannot access path %s: %s", path, strerror(e));
		free(path);
		return -1;
	}
	*out = path;
	return 0;
}

static int oci_bind(const json_t *mp, json_t **out, berth_error **err)
{
	const char *subpath = berth_json_string(mp, "Subpath");
	const char *prop = berth_json_string(mp, "Propagation");
	char *source cleanup_free = NULL;
	if (subpath && *subpath &&
	    subpath_source(berth_json_string(mp, "Source"), subpath, &source, err) < 0)
		return -1;
	json_t *opts = json_pack("[s]", "rbind");
	if (!json_is_true(json_object_get(mp, "RW")))
		json_array_append_new(opts, json_string("ro"));
	json_array_append_new(opts, json_string(prop && *prop ? prop : "rprivate"));
	*out = json_pack("{s:s, s:s, s:s, s:o}", "destination",
			 berth_json_string(mp, "Destination"), "type", "bind", "source",
			 source ? source : berth_json_string(mp, "Source"), "options", opts);
	return 0;
}

static int oci_mount(const json_t *mp, json_t **out, berth_error **err)
{
	if (strcmp(berth_json_string(mp, "Type"), "tmpfs") != 0)
		return oci_bind(mp, out, err);
	json_t *opts;
	if (tmpfs_options(berth_json_string(mp, "TmpfsOptions"), &opts, err) < 0)
		return -1;
	*out = json_pack("{s:s, s:s, s:s, s:o}", "destination",
			 berth_json_string(mp, "Destination"), "type", "tmpfs", "source", "tmpfs",
			 "options", opts);
	return 0;
}

static size_t depth(const json_t *m)
{
	size_t n = 0;
	for (const char *p = berth_json_string(m, "destination"); *p; p++)
		n += *p == '/';
	return n;
}

/* Parents before children (dockerd sorts by path depth), then by path. */
static int by_depth(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	size_t dx = depth(x), dy = depth(y);
	if (dx != dy)
		return dx < dy ? -1 : 1;
	return strcmp(berth_json_string(x, "destination"), berth_json_string(y, "destination"));
}

int mount_points_oci(const json_t *mounts, json_t **out, berth_error **err)
{
	size_t n = json_array_size(mounts);
	json_t **items = berth_xcalloc(n + 1, sizeof(*items));
	int r = 0;
	for (size_t i = 0; i < n && r == 0; i++)
		r = oci_mount(json_array_get(mounts, i), &items[i], err);
	if (r == 0)
		qsort(items, n, sizeof(*items), by_depth);
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		if (items[i])
			json_array_append_new(list, items[i]);
	free(items);
	if (r < 0) {
		json_decref(list);
		return -1;
	}
	*out = list;
	return 0;
}

/* ---------------------------------------------------------------- copy-up */

static bool wants_copy(const json_t *mp)
{
	const char *subpath = berth_json_string(mp, "Subpath");
	return json_is_true(json_object_get(mp, "CopyData")) &&
	       strcmp(berth_json_string(mp, "Type"), "volume") == 0 && !(subpath && *subpath);
}

/* dockerd copies only into an empty volume, and only what is a directory
 * in the image; a missing path is nothing to copy. */
static int copy_one(const char *rootfs, const json_t *mp, berth_error **err)
{
	char *src cleanup_free = fs_scoped_path(rootfs, berth_json_string(mp, "Destination"));
	const char *dst = berth_json_string(mp, "Source");
	struct stat st;
	if (lstat(src, &st) < 0 || !S_ISDIR(st.st_mode) || !fs_dir_empty(dst))
		return 0;
	if (fs_copy_tree(src, dst, err) < 0)
		return berth_error_wrap(err, "copy the image's %s into volume %s",
					berth_json_string(mp, "Destination"),
					berth_json_string(mp, "Name"));
	return 0;
}

/* Marks the copies done in the record. */
static void clear_copy_flags(berth_volume_store *s, const char *id, const json_t *done)
{
	pthread_mutex_lock(&s->mu);
	container_rec *r = store_record(s, id);
	size_t i;
	json_t *mp;
	json_array_foreach(r ? r->mounts : NULL, i, mp) {
		size_t j;
		json_t *d;
		json_array_foreach(done, j, d)
			if (strcmp(json_string_value(d), berth_json_string(mp, "Destination")) == 0)
				json_object_set_new(mp, "CopyData", json_false());
	}
	berth_error *err cleanup_error = NULL;
	if (r && json_array_size(done) && store_save_record(s, r, &err) < 0)
		berth_warn("volume store: %s", err->msg);
	pthread_mutex_unlock(&s->mu);
}

int mounts_copy_up(berth_volume_store *s, const char *container_id, const char *rootfs,
		   berth_error **err)
{
	if (rootfs == NULL)
		return 0;
	pthread_mutex_lock(&s->copy_mu);
	pthread_mutex_lock(&s->mu);
	container_rec *r = store_record(s, container_id);
	json_t *mounts cleanup_json = r ? json_deep_copy(r->mounts) : json_array();
	pthread_mutex_unlock(&s->mu);
	json_t *done cleanup_json = json_array();
	int rc = 0;
	size_t i;
	json_t *mp;
	json_array_foreach(mounts, i, mp) {
		if (!wants_copy(mp))
			continue;
		if ((rc = copy_one(rootfs, mp, err)) < 0)
			break;
		json_array_append(done, json_object_get(mp, "Destination"));
	}
	clear_copy_flags(s, container_id, done);
	pthread_mutex_unlock(&s->copy_mu);
	return rc;
}
