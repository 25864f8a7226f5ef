/*
 * store.c - opening the store, staging, blobs, and the collection of what a
 * crash or a removal left unreferenced.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static const char *const store_dirs[] = {"blobs/sha256", "images", "layers", "tmp"};

char *store_path(const berth_image_store *s, const char *what, const char *digest)
{
	return berth_xasprintf("%s/%s/%s", s->root, what, HEX_OF(digest));
}

const char *berth_image_store_root(const berth_image_store *s)
{
	return s->root;
}

int store_tmpdir(const berth_image_store *s, char **out, berth_error **err)
{
	char *path = berth_xasprintf("%s/tmp/stage-XXXXXX", s->root);
	if (mkdtemp(path) == NULL) {
		int e = errno;
		free(path);
		return berth_error_set_errno(err, e, "create staging directory in %s/tmp", s->root);
	}
	*out = path;
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (flag == FTW_DP)
		return rmdir(path) < 0 && errno != ENOENT ? -1 : 0;
	return unlink(path) < 0 && errno != ENOENT ? -1 : 0;
}

/* Directories may lack write permission (a layer's chmod 0555 dir): give it
 * back before the walk so removal never stops halfway. */
static int make_writable(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (flag == FTW_D && (st->st_mode & 0700) != 0700)
		chmod(path, st->st_mode | 0700);
	return 0;
}

int remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	nftw(path, make_writable, 64, FTW_PHYS);
	return nftw(path, remove_entry, 64, FTW_DEPTH | FTW_PHYS);
}

int store_remove_tree(const berth_image_store *s, const char *path, berth_error **err)
{
	char *trash cleanup_free = NULL;
	if (store_tmpdir(s, &trash, err) < 0)
		return -1;
	char *dest cleanup_free = berth_xasprintf("%s/gone", trash);
	if (rename(path, dest) < 0 && errno != ENOENT) {
		int e = errno;
		rmdir(trash);
		return berth_error_set_errno(err, e, "remove %s", path);
	}
	if (remove_tree(trash) < 0)
		berth_warn("image store: could not remove %s: %s", trash, strerror(errno));
	return 0;
}

/* ------------------------------------------------------------------ blobs */

int blob_put(berth_image_store *s, const void *data, size_t len, char digest[DIGEST_LEN + 1],
	     berth_error **err)
{
	digest_of(data, len, digest);
	char *path cleanup_free = store_path(s, "blobs/sha256", digest);
	if (access(path, F_OK) == 0)
		return 0;
	return berth_file_write_atomic(path, data, len, 0644, err);
}

int blob_get(berth_image_store *s, const char *digest, char **data, size_t *len,
	     berth_error **err)
{
	char *path cleanup_free = store_path(s, "blobs/sha256", digest);
	return berth_file_read_all(path, data, len, err);
}

/* ------------------------------------------------------------------- open */

/* Everything in a directory that `keep` does not claim is removed. */
static void sweep_dir(berth_image_store *s, const char *what, bool (*keep)(berth_image_store *,
									      const char *))
{
	char *dir cleanup_free = berth_xasprintf("%s/%s", s->root, what);
	DIR *d = opendir(dir);
	if (d == NULL)
		return;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (keep && keep(s, de->d_name))
			continue;
		char *path cleanup_free = berth_xasprintf("%s/%s", dir, de->d_name);
		berth_debug("image store: collecting %s", path);
		if (remove_tree(path) < 0)
			berth_warn("image store: could not remove %s: %s", path, strerror(errno));
	}
	closedir(d);
}

static bool blob_in_use(berth_image_store *s, const char *hex)
{
	char *id cleanup_free = berth_xasprintf("sha256:%s", hex);
	return map_get(&s->images, id) != NULL;
}

static bool layer_in_use(berth_image_store *s, const char *hex)
{
	char *chain cleanup_free = berth_xasprintf("sha256:%s", hex);
	return map_get(&s->layers, chain) != NULL;
}

/* Layers no image holds are what an interrupted load or delete left. */
static void collect_layers(berth_image_store *s)
{
	layer **dead = NULL;
	size_t ndead = 0;
	map_entry *e;
	for (size_t i = 0; map_next(&s->layers, &i, &e);) {
		layer *l = e->value;
		if (l->refs == 0) {
			dead = berth_xrealloc(dead, (ndead + 1) * sizeof(*dead));
			dead[ndead++] = l;
		}
	}
	/* images hold every layer of their chain, so a layer nobody holds has
	 * no live child either */
	for (size_t i = 0; i < ndead; i++)
		map_del(&s->layers, dead[i]->chain);
	layers_destroy(s, dead, ndead);
}

static int load_images(berth_image_store *s, berth_error **err);

/*
 * Layers are staged in tmp/ and renamed into layers/. Marked as a top of
 * unrelated trees, ext4 spreads each staging directory over the block groups
 * (Orlov) instead of packing them all into tmp/'s group. That matters for
 * speed: the files of a new layer do not queue behind those of the layer
 * extracted beside it for the same inode bitmap, nor scan, one by one, past
 * the inodes an image removed a moment ago freed there (ext4 skips
 * recently freed inodes). Elsewhere the flag is unknown and this does nothing.
 */
static void spread_staging(const berth_image_store *s)
{
	char *dir cleanup_free = berth_xasprintf("%s/tmp", s->root);
	int fd cleanup_close = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int flags = 0;
	if (fd < 0 || ioctl(fd, FS_IOC_GETFLAGS, &flags) < 0 || (flags & FS_TOPDIR_FL))
		return;
	flags |= FS_TOPDIR_FL;
	if (ioctl(fd, FS_IOC_SETFLAGS, &flags) < 0)
		berth_debug("image store: %s: no top-directory flag: %s", dir, strerror(errno));
}

int berth_image_store_open(const char *data_root, berth_image_store **out, berth_error **err)
{
	berth_image_store *s = berth_xcalloc(1, sizeof(*s));
	s->root = berth_xasprintf("%s/image", data_root);
	pthread_mutex_init(&s->mu, NULL);
	pthread_mutex_init(&s->wmu, NULL);
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(store_dirs); i++) {
		char *dir cleanup_free = berth_xasprintf("%s/%s", s->root, store_dirs[i]);
		if (berth_mkdir_all(dir, 0700, err) < 0) {
			berth_image_store_close(s);
			return -1;
		}
	}
	sweep_dir(s, "tmp", NULL);
	spread_staging(s);
	if (layers_load(s, err) < 0 || load_images(s, err) < 0 || refs_load(s, err) < 0) {
		berth_image_store_close(s);
		return -1;
	}
	collect_layers(s);
	sweep_dir(s, "blobs/sha256", blob_in_use);
	sweep_dir(s, "layers", layer_in_use);
	store_warm_summaries(s);
	berth_info("image store: %zu images, %zu layers, %zu references", s->images.len,
		   s->layers.len, s->refs.len);
	*out = s;
	return 0;
}

/* An image whose config or layers are missing is dropped: its record was
 * written last, so only a damaged disk gets here. */
static int load_images(berth_image_store *s, berth_error **err)
{
	char *dir cleanup_free = berth_xasprintf("%s/images", s->root);
	DIR *d = opendir(dir);
	if (d == NULL)
		return berth_error_set_errno(err, errno, "open %s", dir);
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		char *id cleanup_free = berth_xasprintf("sha256:%s", de->d_name);
		char *cfg cleanup_free = NULL;
		size_t len = 0;
		berth_error *e cleanup_error = NULL;
		image *img = NULL;
		if (!digest_valid(id) || blob_get(s, id, &cfg, &len, &e) < 0 ||
		    image_from_config(s, id, cfg, len, &img, &e) < 0) {
			berth_warn("image store: dropping image %s: %s", de->d_name,
				   e ? e->msg : "bad name");
			char *path cleanup_free = berth_xasprintf("%s/%s", dir, de->d_name);
			unlink(path);
			continue;
		}
		char *rec cleanup_free = NULL;
		char *path cleanup_free = berth_xasprintf("%s/%s", dir, de->d_name);
		json_t *j cleanup_json = NULL;
		if (berth_file_read_all(path, &rec, NULL, NULL) == 0 &&
		    (j = json_loads(rec, 0, NULL)) != NULL) {
			const char *parent = berth_json_string(j, "parent");
			if (parent && digest_valid(parent))
				img->parent = berth_xstrdup(parent);
			img->last_tag_ns = parse_rfc3339(berth_json_string(j, "last_tag_time"));
		}
		store_add_image(s, img);
	}
	closedir(d);
	return 0;
}

void berth_image_store_set_usage(berth_image_store *s, berth_image_usage_fn fn, void *userdata)
{
	pthread_mutex_lock(&s->mu);
	s->usage = fn;
	s->usage_ud = userdata;
	pthread_mutex_unlock(&s->mu);
}

void berth_image_store_close(berth_image_store *s)
{
	if (s == NULL)
		return;
	map_entry *e;
	for (size_t i = 0; map_next(&s->images, &i, &e);)
		image_free(e->value);
	for (size_t i = 0; map_next(&s->layers, &i, &e);)
		free(e->value);
	map_free(&s->images);
	map_free(&s->layers);
	map_free(&s->refs);
	pthread_mutex_destroy(&s->mu);
	pthread_mutex_destroy(&s->wmu);
	free(s->root);
	free(s);
}
