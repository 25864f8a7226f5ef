/*
 * store.c - opening the store, the volume and container-record lists, and
 * the on-disk steps of creating and removing a volume.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"

const char *berth_volume_store_root(const berth_volume_store *s)
{
	return s->root;
}

void volume_free(volume *v)
{
	if (v == NULL)
		return;
	free(v->name);
	json_decref(v->labels);
	json_decref(v->options);
	free(v->dir);
	free(v->path);
	free(v);
}

static void record_free(container_rec *r)
{
	if (r == NULL)
		return;
	free(r->id);
	json_decref(r->mounts);
	free(r);
}

volume *store_find(const berth_volume_store *s, const char *name)
{
	for (size_t i = 0; i < s->nvols; i++)
		if (strcmp(s->vols[i]->name, name) == 0)
			return s->vols[i];
	return NULL;
}

container_rec *store_record(const berth_volume_store *s, const char *id)
{
	for (size_t i = 0; i < s->nrecs; i++)
		if (strcmp(s->recs[i]->id, id) == 0)
			return s->recs[i];
	return NULL;
}

static bool mounts_volume(const json_t *mp, const char *name)
{
	const char *type = berth_json_string(mp, "Type");
	const char *n = berth_json_string(mp, "Name");
	return type && strcmp(type, "volume") == 0 && n && strcmp(n, name) == 0;
}

json_t *store_users(const berth_volume_store *s, const char *name)
{
	json_t *ids = json_array();
	for (size_t i = 0; i < s->nrecs; i++) {
		size_t j;
		json_t *mp;
		json_array_foreach(s->recs[i]->mounts, j, mp) {
			if (mounts_volume(mp, name)) {
				json_array_append_new(ids, json_string(s->recs[i]->id));
				break;
			}
		}
	}
	return ids;
}

static void add_volume(berth_volume_store *s, volume *v)
{
	s->vols = berth_xrealloc(s->vols, (s->nvols + 1) * sizeof(*s->vols));
	s->vols[s->nvols++] = v;
}

container_rec *store_new_record(berth_volume_store *s, const char *id)
{
	container_rec *r = berth_xcalloc(1, sizeof(*r));
	r->id = berth_xstrdup(id);
	r->mounts = json_array();
	s->recs = berth_xrealloc(s->recs, (s->nrecs + 1) * sizeof(*s->recs));
	s->recs[s->nrecs++] = r;
	return r;
}

static volume *volume_new(const berth_volume_store *s, const char *name)
{
	volume *v = berth_xcalloc(1, sizeof(*v));
	v->name = berth_xstrdup(name);
	v->dir = berth_xasprintf("%s/%s", s->root, name);
	v->path = berth_xasprintf("%s/_data", v->dir);
	return v;
}

/* ---------------------------------------------------------------- records */

static char *record_path(const berth_volume_store *s, const char *id)
{
	return berth_xasprintf("%s/" CONTAINERS_DIR "/%s.json", s->root, id);
}

int store_save_record(berth_volume_store *s, container_rec *r, berth_error **err)
{
	/* A container without mount points holds no volume: nothing of its
	 * record needs to outlive berthd (most containers; three fsyncs each) */
	if (json_array_size(r->mounts) == 0)
		return 0;
	char *path cleanup_free = record_path(s, r->id);
	json_t *doc cleanup_json = json_pack("{s:s, s:b, s:O}", "ID", r->id, "Running", r->running,
					     "MountPoints", r->mounts);
	char *text cleanup_free = berth_json_dump(doc);
	/* written at every create, start and exit: synced as dockerd syncs a
	 * container's record, without the directory */
	return berth_file_replace(path, text, strlen(text), 0600, true, err);
}

void store_drop_record(berth_volume_store *s, const char *id)
{
	for (size_t i = 0; i < s->nrecs; i++) {
		if (strcmp(s->recs[i]->id, id) != 0)
			continue;
		char *path cleanup_free = record_path(s, id);
		if (unlink(path) < 0 && errno != ENOENT)
			berth_warn("volume store: remove %s: %s", path, strerror(errno));
		record_free(s->recs[i]);
		s->recs[i] = s->recs[--s->nrecs];
		return;
	}
}

/* ------------------------------------------------------------------- meta */

static int by_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Labels and options in key order, as Go's encoding/json writes maps. */
static json_t *sorted_copy(const json_t *obj)
{
	if (obj == NULL || !json_is_object(obj))
		return NULL;
	size_t n = json_object_size(obj), i = 0;
	const char **keys = berth_xcalloc(n + 1, sizeof(*keys));
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)obj, key, v)
		keys[i++] = key;
	qsort(keys, n, sizeof(*keys), by_key);
	json_t *out = json_object();
	for (i = 0; i < n; i++)
		json_object_set(out, keys[i], json_object_get(obj, keys[i]));
	free(keys);
	return out;
}

static json_t *object_or_null(const json_t *o)
{
	json_t *copy = sorted_copy(o);
	return copy ? copy : json_null();
}

static int write_meta(const char *dir, const char *name, const json_t *opts, const json_t *labels,
		      int64_t created_ns, berth_error **err)
{
	json_t *meta cleanup_json =
		json_pack("{s:s, s:s, s:o, s:o, s:I}", "Name", name, "Driver", VOLUME_DRIVER,
			  "Labels", object_or_null(labels), "Options", object_or_null(opts),
			  "CreatedNs", (json_int_t)created_ns);
	char *text cleanup_free = berth_json_dump(meta);
	char *path cleanup_free = berth_xasprintf("%s/meta.json", dir);
	return berth_file_write_atomic(path, text, strlen(text), 0600, err);
}

/* A volume dockerd made has no meta.json: its options are in opts.json and
 * its creation time is its directory's. */
static void read_dockerd_opts(volume *v)
{
	char *path cleanup_free = berth_xasprintf("%s/opts.json", v->dir);
	char *text cleanup_free = NULL;
	size_t len = 0;
	json_t *o cleanup_json = NULL;
	if (berth_file_read_all(path, &text, &len, NULL) < 0 ||
	    berth_json_parse(text, len, &o, NULL) < 0)
		return;
	static const char *const keys[][2] = {
		{"MountType", "type"}, {"MountDevice", "device"}, {"MountOpts", "o"}};
	json_t *opts = json_object();
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++) {
		const char *val = berth_json_string(o, keys[i][0]);
		if (val && *val)
			json_object_set_new(opts, keys[i][1], json_string(val));
	}
	v->options = opts;
}

static void load_volume(berth_volume_store *s, const char *name)
{
	volume *v = volume_new(s, name);
	struct stat st;
	if (stat(v->path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		volume_free(v);
		return;
	}
	char *path cleanup_free = berth_xasprintf("%s/meta.json", v->dir);
	char *text cleanup_free = NULL;
	size_t len = 0;
	json_t *meta cleanup_json = NULL;
	if (berth_file_read_all(path, &text, &len, NULL) == 0 &&
	    berth_json_parse(text, len, &meta, NULL) == 0) {
		json_t *labels = json_object_get(meta, "Labels");
		json_t *opts = json_object_get(meta, "Options");
		v->labels = sorted_copy(labels);
		v->options = sorted_copy(opts);
		v->created_ns = json_integer_value(json_object_get(meta, "CreatedNs"));
	} else {
		read_dockerd_opts(v);
		if (stat(v->dir, &st) == 0)
			v->created_ns =
				(int64_t)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
	}
	add_volume(s, v);
}

static void load_record(berth_volume_store *s, const char *file)
{
	char *path cleanup_free = berth_xasprintf("%s/" CONTAINERS_DIR "/%s", s->root, file);
	char *text cleanup_free = NULL;
	size_t len = 0;
	json_t *doc cleanup_json = NULL;
	const char *id;
	if (berth_file_read_all(path, &text, &len, NULL) < 0 ||
	    berth_json_parse(text, len, &doc, NULL) < 0 ||
	    (id = berth_json_string(doc, "ID")) == NULL ||
	    !json_is_array(json_object_get(doc, "MountPoints"))) {
		berth_warn("volume store: ignoring unreadable record %s", path);
		return;
	}
	container_rec *r = store_new_record(s, id);
	r->running = json_is_true(json_object_get(doc, "Running"));
	json_decref(r->mounts);
	r->mounts = json_incref(json_object_get(doc, "MountPoints"));
}

/* ------------------------------------------------------------------- open */

static int scan(berth_volume_store *s, const char *dir,
		void (*fn)(berth_volume_store *, const char *), bool hidden, berth_error **err)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return berth_error_set_errno(err, errno, "open %s", dir);
	for (struct dirent *e; (e = readdir(d));) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if ((e->d_name[0] == '.') == hidden)
			fn(s, e->d_name);
	}
	closedir(d);
	return 0;
}

/* Staging and trash a crash left behind. */
static void sweep(berth_volume_store *s, const char *name)
{
	if (!berth_str_has_prefix(name, ".tmp-") && !berth_str_has_prefix(name, ".trash-"))
		return;
	char *path cleanup_free = berth_xasprintf("%s/%s", s->root, name);
	store_empty_trash(path);
}

static void load_record_file(berth_volume_store *s, const char *name)
{
	size_t len = strlen(name);
	if (len > 5 && strcmp(name + len - 5, ".json") == 0)
		load_record(s, name);
}

/* Device volumes: running containers (live restore) keep theirs mounted;
 * a mount nobody uses is what a crash left, and goes. */
static void restore_mounts(berth_volume_store *s)
{
	for (size_t i = 0; i < s->nrecs; i++) {
		if (!s->recs[i]->running)
			continue;
		size_t j;
		json_t *mp;
		json_array_foreach(s->recs[i]->mounts, j, mp) {
			volume *v = NULL;
			const char *name = berth_json_string(mp, "Name");
			if (name && mounts_volume(mp, name) && (v = store_find(s, name)))
				v->active++;
		}
	}
	for (size_t i = 0; i < s->nvols; i++) {
		volume *v = s->vols[i];
		if (v->options == NULL || !path_is_mountpoint(v->path))
			continue;
		v->mounted = true;
		if (v->active == 0)
			volume_device_unmount(v);
	}
}

int berth_volume_store_open(const char *data_root, berth_volume_store **out, berth_error **err)
{
	berth_volume_store *s = berth_xcalloc(1, sizeof(*s));
	s->root = berth_xasprintf("%s/volumes", data_root);
	s->data_root = berth_xstrdup(data_root);
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->copy_mu, NULL);
	pthread_mutex_init(&s->ev_mu, NULL);
	s->events = json_array();
	char *records cleanup_free = berth_xasprintf("%s/" CONTAINERS_DIR, s->root);
	/* 0701 as dockerd: others may reach a volume's _data by its path (a
	 * container running as another user) but not list the volumes. */
	if (berth_mkdir_all(s->root, 0701, err) < 0 || berth_mkdir_all(records, 0700, err) < 0 ||
	    scan(s, s->root, sweep, true, err) < 0 ||
	    scan(s, s->root, load_volume, false, err) < 0 ||
	    scan(s, records, load_record_file, false, err) < 0) {
		berth_volume_store_close(s);
		return -1;
	}
	restore_mounts(s);
	*out = s;
	return 0;
}

void berth_volume_store_close(berth_volume_store *s)
{
	if (s == NULL)
		return;
	events_close(s);
	for (size_t i = 0; i < s->nvols; i++)
		volume_free(s->vols[i]);
	free(s->vols);
	for (size_t i = 0; i < s->nrecs; i++)
		record_free(s->recs[i]);
	free(s->recs);
	json_decref(s->events);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->copy_mu);
	pthread_mutex_destroy(&s->ev_mu);
	free(s->root);
	free(s->data_root);
	free(s);
}

/* ---------------------------------------------------------- create, unlink */

static int fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int r = fsync(fd);
	close(fd);
	return r;
}

static int stage_volume(berth_volume_store *s, const char *name, const json_t *opts,
			const json_t *labels, int64_t now, char **out, berth_error **err)
{
	char *stage = berth_xasprintf("%s/.tmp-XXXXXX", s->root);
	if (mkdtemp(stage) == NULL) {
		int e = errno;
		free(stage);
		return berth_error_set_errno(err, e, "create %s", s->root);
	}
	char *data cleanup_free = berth_xasprintf("%s/_data", stage);
	char *opts_path cleanup_free = berth_xasprintf("%s/opts.json", stage);
	char *opts_text cleanup_free = opts ? volume_opts_file(opts) : NULL;
	int r = chmod(stage, 0701) < 0 || mkdir(data, 0755) < 0
			? berth_error_set_errno(err, errno, "create %s", data)
			: 0;
	if (r == 0 && opts_text)
		r = berth_file_write_atomic(opts_path, opts_text, strlen(opts_text), 0600, err);
	if (r == 0)
		r = write_meta(stage, name, opts, labels, now, err);
	if (r < 0) {
		store_empty_trash(stage);
		free(stage);
		return -1;
	}
	*out = stage;
	return 0;
}

int store_create(berth_volume_store *s, const char *name, const json_t *opts, const json_t *labels,
		 volume **out, bool *created, berth_error **err)
{
	*created = false;
	if ((*out = store_find(s, name)) != NULL)
		return 0;
	if (opts && json_object_size(opts) == 0)
		opts = NULL;
	int64_t now = berth_time_now_ns();
	char *stage cleanup_free = NULL;
	if (stage_volume(s, name, opts, labels, now, &stage, err) < 0)
		return -1;
	volume *v = volume_new(s, name);
	if (rename(stage, v->dir) < 0) {
		int e = errno;
		store_empty_trash(stage);
		volume_free(v);
		if (e == EEXIST || e == ENOTEMPTY)
			return berth_error_set(err, 500, "volume already exists under %s/%s",
					       s->root, name);
		return berth_error_set_errno(err, e, "create volume %s", name);
	}
	fsync_dir(s->root);
	v->options = sorted_copy(opts);
	v->labels = sorted_copy(labels);
	v->created_ns = now;
	add_volume(s, v);
	*out = v;
	*created = true;
	return 0;
}

int store_unlink(berth_volume_store *s, volume *v, char **trash, berth_error **err)
{
	if (v->mounted)
		volume_device_unmount(v);
	if (v->mounted)
		return berth_error_set(err, 500, "remove %s: %s is still mounted", v->name,
				       v->path);
	char *dir = berth_xasprintf("%s/.trash-XXXXXX", s->root);
	if (mkdtemp(dir) == NULL) {
		int e = errno;
		free(dir);
		return berth_error_set_errno(err, e, "remove %s", v->name);
	}
	char *gone cleanup_free = berth_xasprintf("%s/gone", dir);
	if (rename(v->dir, gone) < 0 && errno != ENOENT) {
		int e = errno;
		rmdir(dir);
		free(dir);
		return berth_error_set_errno(err, e, "remove %s", v->name);
	}
	fsync_dir(s->root);
	for (size_t i = 0; i < s->nvols; i++) {
		if (s->vols[i] == v) {
			memmove(&s->vols[i], &s->vols[i + 1],
				(s->nvols - i - 1) * sizeof(*s->vols));
			s->nvols--;
			break;
		}
	}
	volume_free(v);
	*trash = dir;
	return 0;
}

void store_empty_trash(const char *trash)
{
	if (fs_remove_tree(trash) < 0)
		berth_warn("volume store: could not remove %s: %s", trash, strerror(errno));
}
