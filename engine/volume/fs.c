/*
 * fs.c - file trees: copying an image's content up into a volume, sizing a
 * volume, deleting one, and resolving a path inside a root file system.
 *
 * Everything walks with directory file descriptors and never follows a
 * symbolic link: the trees come from images and containers, and a link must
 * not make berthd read or write outside them.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "internal.h"

#define DIR_FLAGS (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)

/* Calls fn for each entry of the directory fd (not "." and ".."). */
typedef int (*entry_fn)(void *ctx, int dirfd, const char *name, const struct stat *st);

static int each_entry(int dirfd, entry_fn fn, void *ctx)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	int rc = 0;
	for (struct dirent *e; rc == 0 && (e = readdir(d));) {
		struct stat st;
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = errno == ENOENT ? 0 : -1;
			continue;
		}
		rc = fn(ctx, dirfd, e->d_name, &st);
	}
	int e = errno;
	closedir(d);
	errno = e;
	return rc;
}

bool fs_dir_empty(const char *path)
{
	DIR *d = opendir(path);
	if (d == NULL)
		return false;
	bool empty = true;
	for (struct dirent *e; empty && (e = readdir(d));)
		empty = strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0;
	closedir(d);
	return empty;
}

/* ------------------------------------------------------------------- copy */

typedef struct link_seen {
	dev_t dev;
	ino_t ino;
	char *path; /* relative to the destination root */
} link_seen;

typedef struct copier {
	dev_t dev; /* the source's file system */
	int dst_root;
	link_seen *links;
	size_t nlinks;
	berth_buf path; /* the entry being copied, relative, for links and errors */
	berth_error **err;
} copier;

/* Extended attributes the destination cannot take (another file system,
 * trusted.* without privilege) are skipped, as continuity's copier does. */
static void copy_xattrs(int sfd, int dfd)
{
	char names[8192], value[65536];
	ssize_t len = flistxattr(sfd, names, sizeof(names));
	for (ssize_t off = 0; len > 0 && off < len; off += (ssize_t)strlen(names + off) + 1) {
		ssize_t vlen = fgetxattr(sfd, names + off, value, sizeof(value));
		if (vlen >= 0 && fsetxattr(dfd, names + off, value, (size_t)vlen, 0) < 0)
			berth_debug("copy-up: xattr %s: %s", names + off, strerror(errno));
	}
}

/* Ownership first: chown clears set-id bits that chmod then restores. */
static int copy_meta(int fd, const struct stat *st)
{
	struct timespec times[2] = {st->st_atim, st->st_mtim};
	if (fchown(fd, st->st_uid, st->st_gid) < 0 || fchmod(fd, st->st_mode & 07777) < 0)
		return -1;
	return futimens(fd, times);
}

static int copy_meta_at(int dirfd, const char *name, const struct stat *st)
{
	struct timespec times[2] = {st->st_atim, st->st_mtim};
	if (fchownat(dirfd, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (!S_ISLNK(st->st_mode) && fchmodat(dirfd, name, st->st_mode & 07777, 0) < 0)
		return -1;
	return utimensat(dirfd, name, times, AT_SYMLINK_NOFOLLOW);
}

static int copy_data(int in, int out)
{
	for (;;) {
		ssize_t n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (n == 0)
			return 0;
		if (n > 0)
			continue;
		if (errno != EXDEV && errno != ENOSYS && errno != EINVAL && errno != EOPNOTSUPP)
			return -1;
		break; /* not between these file systems: plain reads and writes */
	}
	char buf[65536];
	for (ssize_t n; (n = read(in, buf, sizeof(buf))) != 0;) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || berth_write_all(out, buf, (size_t)n) < 0)
			return -1;
	}
	return 0;
}

/* A second name of a file already copied becomes a hard link to the copy. */
static const char *link_target(copier *c, const struct stat *st)
{
	for (size_t i = 0; st->st_nlink > 1 && i < c->nlinks; i++)
		if (c->links[i].dev == st->st_dev && c->links[i].ino == st->st_ino)
			return c->links[i].path;
	return NULL;
}

static void remember_link(copier *c, const struct stat *st)
{
	if (st->st_nlink < 2)
		return;
	c->links = berth_xrealloc(c->links, (c->nlinks + 1) * sizeof(*c->links));
	c->links[c->nlinks++] = (link_seen){st->st_dev, st->st_ino, berth_xstrdup(c->path.data)};
}

static int copy_file(copier *c, int sdir, int ddir, const char *name, const struct stat *st)
{
	const char *first = link_target(c, st);
	if (first)
		return linkat(c->dst_root, first, ddir, name, 0);
	int in = openat(sdir, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int out = in < 0 ? -1
			 : openat(ddir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				  0600);
	int rc = out < 0 || copy_data(in, out) < 0 || copy_meta(out, st) < 0 ? -1 : 0;
	if (rc == 0) {
		copy_xattrs(in, out);
		remember_link(c, st);
	}
	int e = errno;
	if (in >= 0)
		close(in);
	if (out >= 0)
		close(out);
	errno = e;
	return rc;
}

static int copy_special(int sdir, int ddir, const char *name, const struct stat *st)
{
	if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlinkat(sdir, name, target, sizeof(target) - 1);
		if (n < 0)
			return -1;
		target[n] = '\0';
		if (symlinkat(target, ddir, name) < 0)
			return -1;
	} else if (mknodat(ddir, name, st->st_mode & S_IFMT, st->st_rdev) < 0) {
		return -1;
	}
	return copy_meta_at(ddir, name, st);
}

/* One directory level: where its entries are copied to. */
typedef struct copy_level {
	copier *c;
	int ddir;
} copy_level;

static int copy_entry(void *ctx, int sdir, const char *name, const struct stat *st);

static int copy_dir(copier *c, int sdir, int ddir, const char *name, const struct stat *st)
{
	if (mkdirat(ddir, name, 0700) < 0)
		return -1;
	/* Another file system mounted inside is not the image's content. */
	if (st->st_dev != c->dev)
		return copy_meta_at(ddir, name, st);
	int s = openat(sdir, name, DIR_FLAGS);
	int d = s < 0 ? -1 : openat(ddir, name, DIR_FLAGS);
	copy_level level = {c, d};
	int rc = d < 0 || each_entry(s, copy_entry, &level) < 0 || copy_meta(d, st) < 0 ? -1 : 0;
	if (rc == 0)
		copy_xattrs(s, d);
	int e = errno;
	if (s >= 0)
		close(s);
	if (d >= 0)
		close(d);
	errno = e;
	return rc;
}

static int copy_entry(void *ctx, int sdir, const char *name, const struct stat *st)
{
	copy_level *level = ctx;
	copier *c = level->c;
	size_t mark = c->path.len;
	berth_buf_printf(&c->path, "%s%s", mark ? "/" : "", name);
	int rc = 0;
	if (S_ISDIR(st->st_mode))
		rc = copy_dir(c, sdir, level->ddir, name, st);
	else if (S_ISREG(st->st_mode))
		rc = copy_file(c, sdir, level->ddir, name, st);
	else if (!S_ISSOCK(st->st_mode)) /* sockets are not content */
		rc = copy_special(sdir, level->ddir, name, st);
	if (rc < 0 && c->err && *c->err == NULL)
		berth_error_set_errno(c->err, errno, "copy %s", c->path.data);
	c->path.len = mark;
	c->path.data[mark] = '\0';
	return rc;
}

int fs_copy_tree(const char *src, const char *dst, berth_error **err)
{
	int s = open(src, DIR_FLAGS), d = open(dst, DIR_FLAGS);
	struct stat st;
	copier c = {.dst_root = d, .err = err};
	int rc = -1;
	if (s < 0 || d < 0 || fstat(s, &st) < 0) {
		berth_error_set_errno(err, errno, "copy %s to %s", src, dst);
	} else {
		c.dev = st.st_dev;
		copy_level level = {&c, d};
		berth_buf_puts(&c.path, "");
		rc = each_entry(s, copy_entry, &level);
		if (rc < 0 && *err == NULL)
			berth_error_set_errno(err, errno, "copy %s", src);
		if (rc == 0 && copy_meta(d, &st) == 0)
			copy_xattrs(s, d);
	}
	for (size_t i = 0; i < c.nlinks; i++)
		free(c.links[i].path);
	free(c.links);
	berth_buf_reset(&c.path);
	if (s >= 0)
		close(s);
	if (d >= 0)
		close(d);
	return rc;
}

/* ------------------------------------------------------------------- size */

typedef struct sizer {
	dev_t dev;
	int64_t total;
	ino_t *seen; /* inodes with several names, counted once */
	size_t nseen;
} sizer;

static bool seen_before(sizer *z, const struct stat *st)
{
	if (st->st_nlink < 2)
		return false;
	for (size_t i = 0; i < z->nseen; i++)
		if (z->seen[i] == st->st_ino)
			return true;
	z->seen = berth_xrealloc(z->seen, (z->nseen + 1) * sizeof(*z->seen));
	z->seen[z->nseen++] = st->st_ino;
	return false;
}

static int size_entry(void *ctx, int dirfd, const char *name, const struct stat *st)
{
	sizer *z = ctx;
	if (!S_ISDIR(st->st_mode)) {
		if (!seen_before(z, st))
			z->total += st->st_size;
		return 0;
	}
	if (st->st_dev != z->dev)
		return 0;
	int fd = openat(dirfd, name, DIR_FLAGS);
	if (fd < 0)
		return -1;
	int rc = each_entry(fd, size_entry, z);
	close(fd);
	return rc;
}

int64_t fs_tree_size(const char *path)
{
	sizer z = {0};
	struct stat st;
	int fd = open(path, DIR_FLAGS);
	int rc = fd < 0 || fstat(fd, &st) < 0 ? -1 : 0;
	if (rc == 0) {
		z.dev = st.st_dev;
		rc = each_entry(fd, size_entry, &z);
	}
	if (fd >= 0)
		close(fd);
	free(z.seen);
	return rc < 0 ? -1 : z.total;
}

/* ----------------------------------------------------------------- remove */

typedef struct remover {
	dev_t dev;
} remover;

static int remove_entry(void *ctx, int dirfd, const char *name, const struct stat *st)
{
	remover *r = ctx;
	if (S_ISDIR(st->st_mode)) {
		/* A mount point is left alone: its rmdir fails and says so. */
		int fd = st->st_dev == r->dev ? openat(dirfd, name, DIR_FLAGS) : -1;
		if (fd >= 0) {
			each_entry(fd, remove_entry, r);
			close(fd);
		}
		return unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT ? -1 : 0;
	}
	return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
}

int fs_remove_tree(const char *path)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	int fd = open(path, DIR_FLAGS);
	if (fd < 0)
		return -1;
	remover r = {st.st_dev};
	int rc = each_entry(fd, remove_entry, &r);
	close(fd);
	if (rmdir(path) < 0 && errno != ENOENT)
		return -1;
	return rc;
}

/* ------------------------------------------------------------ scoped path */

/* Moves the first component of *rest into comp (empty at the end). */
static void next_component(berth_buf *rest, berth_buf *comp)
{
	berth_buf_reset(comp);
	size_t i = 0;
	while (i < rest->len && rest->data[i] == '/')
		i++;
	size_t start = i;
	while (i < rest->len && rest->data[i] != '/')
		i++;
	berth_buf_append(comp, rest->data + start, i - start);
	berth_buf_consume(rest, i);
}

static void pop_component(berth_buf *resolved)
{
	char *slash = resolved->len ? strrchr(resolved->data, '/') : NULL;
	resolved->len = slash ? (size_t)(slash - resolved->data) : 0;
	if (resolved->data)
		resolved->data[resolved->len] = '\0';
}

char *fs_scoped_path(const char *rootfs, const char *dest)
{
	berth_buf resolved = {0}, rest = {0}, comp = {0};
	berth_buf_puts(&resolved, "");
	berth_buf_puts(&rest, dest);
	for (int links = 0; rest.len > 0;) {
		next_component(&rest, &comp);
		if (comp.len == 0 || strcmp(comp.data, ".") == 0)
			continue;
		if (strcmp(comp.data, "..") == 0) {
			pop_component(&resolved);
			continue;
		}
		size_t mark = resolved.len;
		berth_buf_printf(&resolved, "/%s", comp.data);
		char *full cleanup_free = berth_xasprintf("%s%s", rootfs, resolved.data);
		char target[PATH_MAX];
		struct stat st;
		ssize_t n;
		if (links >= 255 || lstat(full, &st) < 0 || !S_ISLNK(st.st_mode) ||
		    (n = readlink(full, target, sizeof(target) - 1)) < 0)
			continue;
		target[n] = '\0';
		links++;
		/* The link is replaced by its target, read relative to where it is,
		 * or to the root when absolute. */
		resolved.len = target[0] == '/' ? 0 : mark;
		resolved.data[resolved.len] = '\0';
		char *more cleanup_free =
			berth_xasprintf("%s/%s", target, rest.data ? rest.data : "");
		berth_buf_reset(&rest);
		berth_buf_puts(&rest, more);
	}
	char *out = berth_xasprintf("%s%s", rootfs, resolved.data);
	berth_buf_reset(&resolved);
	berth_buf_reset(&rest);
	berth_buf_reset(&comp);
	return out;
}
