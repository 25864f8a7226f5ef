/*
 * overlay.c - an image's layers as an overlay root, and the layer tar of
 * what a container changed (its upper dir) with whiteouts in the image
 * format's spelling.
 */
#include "lazy_archive.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "internal.h"

#define OPAQUE_XATTR "trusted.overlay.opaque"

/* ------------------------------------------------------------------ mount */

/* The new mount API takes each lower dir on its own ("lowerdir+", Linux
 * 6.8), so deep images never hit mount(2)'s one-page option limit. */
static int mount_fsconfig(char **lowers, size_t n, const char *upper, const char *work,
			  const char *target)
{
	int fs = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		return -1;
	int rc = 0;
	for (size_t i = 0; i < n && rc == 0; i++)
		rc = fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", lowers[i], 0);
	if (rc == 0)
		rc = fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0);
	if (rc == 0)
		rc = fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0);
	if (rc == 0)
		fsconfig(fs, FSCONFIG_SET_STRING, "index", "off", 0);
	if (rc == 0)
		rc = fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
	int mnt = rc == 0 ? fsmount(fs, FSMOUNT_CLOEXEC, 0) : -1;
	int e = errno;
	close(fs);
	if (mnt < 0) {
		errno = e;
		return -1;
	}
	rc = move_mount(mnt, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH);
	e = errno;
	close(mnt);
	errno = e;
	return rc;
}

static int mount_legacy(char **lowers, size_t n, const char *upper, const char *work,
			const char *target)
{
	berth_buf opts = {0};
	berth_buf_puts(&opts, "lowerdir=");
	for (size_t i = 0; i < n; i++)
		berth_buf_printf(&opts, "%s%s", i ? ":" : "", lowers[i]);
	berth_buf_printf(&opts, ",upperdir=%s,workdir=%s,index=off", upper, work);
	int rc = mount("overlay", target, "overlay", 0, opts.data);
	berth_buf_reset(&opts);
	return rc;
}

/* Pins an image's chain under mu and lists its diff dirs, top first. */
static layer *pin_image(berth_image_store *s, const char *name, char ***lowers, size_t *n,
			berth_error **err)
{
	pthread_mutex_lock(&s->mu);
	image *img = image_lookup(s, name, err);
	layer *top = NULL;
	if (img) {
		*n = img->nlayers;
		*lowers = berth_xcalloc(img->nlayers + 1, sizeof(**lowers));
		for (size_t i = 0; i < img->nlayers; i++) {
			img->layers[i]->refs++;
			char *dir cleanup_free = layer_dir(s, img->layers[i]->chain);
			(*lowers)[img->nlayers - 1 - i] = berth_xasprintf("%s/diff", dir);
		}
		top = img->nlayers ? img->layers[img->nlayers - 1] : NULL;
	}
	pthread_mutex_unlock(&s->mu);
	return img ? top : (layer *)-1;
}

static void unpin_chain(berth_image_store *s, layer *top)
{
	while (top) {
		layer *parent = top->parent;
		layer_unpin(s, top);
		top = parent;
	}
}

int berth_image_mount(berth_image_store *s, const char *image_id, const char *dir, char **merged,
		      berth_error **err)
{
	char **lowers = NULL;
	size_t n = 0;
	layer *top = pin_image(s, image_id, &lowers, &n, err);
	if (top == (layer *)-1)
		return -1;
	char *upper cleanup_free = berth_xasprintf("%s/upper", dir);
	char *work cleanup_free = berth_xasprintf("%s/work", dir);
	char *target = berth_xasprintf("%s/merged", dir);
	char *empty cleanup_free = berth_xasprintf("%s/empty", dir);
	char *record cleanup_free = berth_xasprintf("%s/layers", dir);
	int rc = 0;
	const char *dirs[] = {upper, work, target, n ? NULL : empty};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(dirs) && rc == 0; i++)
		if (dirs[i])
			rc = berth_mkdir_all(dirs[i], 0755, err);
	if (n == 0) { /* overlay needs a lower dir even for an image without layers */
		lowers = berth_xrealloc(lowers, 2 * sizeof(*lowers));
		lowers[n++] = berth_xstrdup(empty);
		lowers[n] = NULL;
	}
	const char *top_chain = top ? top->chain : "";
	/* unsynced: it matters while the mount does, and no mount outlives a
	 * power loss */
	if (rc == 0)
		rc = berth_file_replace(record, top_chain, strlen(top_chain), 0600, false, err);
	if (rc == 0 && mount_fsconfig(lowers, n, upper, work, target) < 0 &&
	    mount_legacy(lowers, n, upper, work, target) < 0)
		rc = berth_error_set_errno(err, errno, "mount overlay on %s", target);
	berth_strv_free(lowers);
	if (rc < 0) {
		unpin_chain(s, top);
		free(target);
		return -1;
	}
	*merged = target;
	return 0;
}

int berth_image_repin(berth_image_store *s, const char *dir, berth_error **err)
{
	char *record cleanup_free = berth_xasprintf("%s/layers", dir);
	char *chain cleanup_free = NULL;
	if (berth_file_read_all(record, &chain, NULL, NULL) < 0)
		return 0; /* not mounted */
	pthread_mutex_lock(&s->mu);
	layer *top = *chain ? map_get(&s->layers, chain) : NULL;
	for (layer *l = top; l; l = l->parent)
		l->refs++;
	pthread_mutex_unlock(&s->mu);
	if (*chain && top == NULL)
		return berth_error_set(err, 500, "layer %s mounted at %s is gone", chain, dir);
	return 0;
}

int berth_image_unmount(berth_image_store *s, const char *dir, berth_error **err)
{
	char *target cleanup_free = berth_xasprintf("%s/merged", dir);
	char *record cleanup_free = berth_xasprintf("%s/layers", dir);
	if (umount2(target, 0) < 0 && errno != EINVAL && errno != ENOENT)
		return berth_error_set_errno(err, errno, "unmount %s", target);
	char *chain cleanup_free = NULL;
	if (berth_file_read_all(record, &chain, NULL, NULL) < 0)
		return 0; /* never mounted, or unpinned already */
	unlink(record);
	pthread_mutex_lock(&s->mu);
	layer *top = *chain ? map_get(&s->layers, chain) : NULL;
	pthread_mutex_unlock(&s->mu);
	unpin_chain(s, top);
	return 0;
}

/* ------------------------------------------------------------------- diff */

typedef struct differ {
	struct archive *a;
	berth_image_write_fn write;
	void *userdata;
	berth_error *werr;
	map inodes; /* "dev:ino" -> first path, for hard links */
} differ;

static la_ssize_t diff_out(struct archive *a, void *ud, const void *buf, size_t len)
{
	differ *d = ud;
	if (d->write(d->userdata, buf, len, &d->werr) < 0) {
		archive_set_error(a, EIO, "%s", d->werr ? d->werr->msg : "write failed");
		return -1;
	}
	return (la_ssize_t)len;
}

static int diff_fail(differ *d, berth_error **err)
{
	if (d->werr)
		return berth_error_propagate(&d->werr, err);
	return berth_error_set(err, 500, "diff: %s", archive_error_string(d->a));
}

/* xattrs, without overlay's own. */
static void add_xattrs(struct archive_entry *e, const char *path)
{
	char names[4096];
	ssize_t n = llistxattr(path, names, sizeof(names));
	for (ssize_t off = 0; n > 0 && off < n; off += (ssize_t)strlen(names + off) + 1) {
		const char *name = names + off;
		if (berth_str_has_prefix(name, "trusted.overlay."))
			continue;
		char value[4096];
		ssize_t vlen = lgetxattr(path, name, value, sizeof(value));
		if (vlen >= 0)
			archive_entry_xattr_add_entry(e, name, value, (size_t)vlen);
	}
}

static int put_header(differ *d, struct archive_entry *e, berth_error **err)
{
	return archive_write_header(d->a, e) == ARCHIVE_OK ? 0 : diff_fail(d, err);
}

static int put_marker(differ *d, const char *name, const struct stat *st, mode_t mode,
		      berth_error **err)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, mode);
	archive_entry_set_uid(e, st->st_uid);
	archive_entry_set_gid(e, st->st_gid);
	archive_entry_set_mtime(e, st->st_mtim.tv_sec, st->st_mtim.tv_nsec);
	archive_entry_set_size(e, 0);
	int rc = put_header(d, e, err);
	archive_entry_free(e);
	return rc;
}

static int put_data(differ *d, const char *path, berth_error **err)
{
	int fd cleanup_close = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return berth_error_set_errno(err, errno, "open %s", path);
	char buf[65536];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(d->a, buf, (size_t)n) != n)
			return diff_fail(d, err);
	return n < 0 ? berth_error_set_errno(err, errno, "read %s", path) : 0;
}

static int diff_tree(differ *d, const char *root, const char *rel, berth_error **err);

static int diff_entry(differ *d, const char *root, const char *rel, berth_error **err)
{
	char *path cleanup_free = berth_xasprintf("%s/%s", root, rel);
	struct stat st;
	if (lstat(path, &st) < 0)
		return berth_error_set_errno(err, errno, "stat %s", path);
	if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) { /* a whiteout */
		const char *slash = strrchr(rel, '/');
		char *wh cleanup_free = slash ? berth_xasprintf("%.*s/.wh.%s", (int)(slash - rel), rel,
							       slash + 1)
					      : berth_xasprintf(".wh.%s", rel);
		return put_marker(d, wh, &st, 0600, err);
	}
	struct archive_entry *e = archive_entry_new();
	archive_entry_copy_stat(e, &st);
	char *name cleanup_free = S_ISDIR(st.st_mode) ? berth_xasprintf("%s/", rel)
						      : berth_xstrdup(rel);
	archive_entry_set_pathname(e, name);
	char key[64];
	snprintf(key, sizeof(key), "%lu:%lu", (unsigned long)st.st_dev, (unsigned long)st.st_ino);
	const char *first = !S_ISDIR(st.st_mode) && st.st_nlink > 1 ? map_get(&d->inodes, key) : NULL;
	if (first) {
		archive_entry_set_hardlink(e, first);
		archive_entry_set_size(e, 0);
	} else if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		archive_entry_set_symlink(e, target);
		archive_entry_set_size(e, 0);
	} else if (!S_ISREG(st.st_mode)) {
		archive_entry_set_size(e, 0);
	}
	if (!first && !S_ISDIR(st.st_mode) && st.st_nlink > 1)
		map_put(&d->inodes, key, berth_xstrdup(rel));
	add_xattrs(e, path);
	int rc = put_header(d, e, err);
	archive_entry_free(e);
	if (rc == 0 && S_ISREG(st.st_mode) && !first)
		rc = put_data(d, path, err);
	if (rc < 0 || !S_ISDIR(st.st_mode))
		return rc;
	char flag = 0;
	if (lgetxattr(path, OPAQUE_XATTR, &flag, 1) == 1 && flag == 'y') {
		char *opq cleanup_free = berth_xasprintf("%s/.wh..wh..opq", rel);
		if (put_marker(d, opq, &st, st.st_mode & 0777, err) < 0)
			return -1;
	}
	return diff_tree(d, root, rel, err);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int skip_dots(const struct dirent *de)
{
	return strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
}

/* Lexical order, as Go's filepath.Walk gives dockerd. */
static int diff_tree(differ *d, const char *root, const char *rel, berth_error **err)
{
	char *dir cleanup_free = *rel ? berth_xasprintf("%s/%s", root, rel) : berth_xstrdup(root);
	struct dirent **names = NULL;
	int n = scandir(dir, &names, skip_dots, by_name);
	if (n < 0)
		return berth_error_set_errno(err, errno, "read %s", dir);
	int rc = 0;
	for (int i = 0; i < n; i++) {
		if (rc == 0) {
			char *child cleanup_free = *rel ? berth_xasprintf("%s/%s", rel, names[i]->d_name)
						      : berth_xstrdup(names[i]->d_name);
			rc = diff_entry(d, root, child, err);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

int berth_image_diff(const char *upper, berth_image_write_fn write, void *userdata,
		     berth_error **err)
{
	differ d = {.write = write, .userdata = userdata};
	d.a = archive_write_new();
	archive_write_set_format_pax_restricted(d.a);
	archive_write_set_bytes_in_last_block(d.a, 1);
	int rc = archive_write_open(d.a, &d, NULL, diff_out, NULL) == ARCHIVE_OK
			 ? diff_tree(&d, upper, "", err) : diff_fail(&d, err);
	if (rc == 0 && archive_write_close(d.a) != ARCHIVE_OK)
		rc = diff_fail(&d, err);
	archive_write_free(d.a);
	map_entry *e;
	for (size_t i = 0; map_next(&d.inodes, &i, &e);)
		free(e->value);
	map_free(&d.inodes);
	berth_error_free(&d.werr);
	return rc;
}
