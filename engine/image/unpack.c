/*
 * unpack.c - writing a layer's tar entries into its directory, safely.
 *
 * Every path is resolved beneath the layer root with openat2(RESOLVE_BENEATH):
 * an entry naming "..", an absolute path, or a parent that a symlink leads
 * out of the root is refused instead of written. Whiteouts become what
 * overlayfs reads: ".wh.name" a 0:0 character device, ".wh..wh..opq" the
 * trusted.overlay.opaque xattr on its directory.
 */
#include "lazy_archive.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "internal.h"
#include "unpack.h"

#define WH_PREFIX ".wh."
#define WH_OPAQUE ".wh..wh..opq"
#define OPAQUE_XATTR "trusted.overlay.opaque"

typedef struct dir_time {
	char *path;
	struct timespec times[2];
} dir_time;

struct unpacker {
	int rootfd;
	char *cached_parent; /* the parent dir last resolved, and its fd */
	int cached_fd;
	dir_time *dirs;      /* directory times, set at the end */
	size_t ndirs;
	char *clean;         /* the current entry's cleaned path */
	bool stale;          /* something was removed: the cache may lie */
	bool root_user;
	uid_t euid;
	gid_t new_gid;       /* the group new entries of the cached parent get */
	mode_t umask;
};

static int xopenat2(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)flags | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	return (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/* The process umask, read without changing it (umask(2) would race with
 * the other threads creating files). */
static mode_t current_umask(void)
{
	char *status cleanup_free = NULL;
	if (berth_file_read_all("/proc/self/status", &status, NULL, NULL) < 0)
		return 0777; /* unknown: chmod everything */
	const char *line = strstr(status, "\nUmask:");
	return line ? (mode_t)strtol(line + 8, NULL, 8) : 0777;
}

int unpack_open(const char *dir, unpacker **out, berth_error **err)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return berth_error_set_errno(err, errno, "mkdir %s", dir);
	unpacker *u = berth_xcalloc(1, sizeof(*u));
	u->cached_fd = -1;
	u->euid = geteuid();
	u->root_user = u->euid == 0;
	u->umask = current_umask();
	u->rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (u->rootfd < 0) {
		int e = errno;
		free(u);
		return berth_error_set_errno(err, e, "open %s", dir);
	}
	*out = u;
	return 0;
}

static void forget_parent(unpacker *u)
{
	if (u->cached_fd >= 0)
		close(u->cached_fd);
	u->cached_fd = -1;
	free(u->cached_parent);
	u->cached_parent = NULL;
}

void unpack_free(unpacker *u)
{
	if (u == NULL)
		return;
	forget_parent(u);
	for (size_t i = 0; i < u->ndirs; i++)
		free(u->dirs[i].path);
	free(u->dirs);
	free(u->clean);
	if (u->rootfd >= 0)
		close(u->rootfd);
	free(u);
}

/* "./a//b/" -> "a/b"; "" for the root. Refuses absolute paths and "..". */
static int clean_path(const char *name, char **out, berth_error **err)
{
	if (name == NULL)
		return berth_error_set(err, 400, "invalid tar entry: no name");
	if (name[0] == '/')
		return berth_error_set(err, 400, "invalid tar entry \"%s\": absolute path", name);
	berth_buf b = {0};
	const char *p = name;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			berth_buf_reset(&b);
			return berth_error_set(err, 400,
					       "invalid tar entry \"%s\": path escapes the layer", name);
		}
		if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (b.len)
				berth_buf_puts(&b, "/");
			berth_buf_append(&b, p, n);
		}
		p += n;
		p += (*p == '/');
	}
	*out = berth_buf_steal(&b);
	return 0;
}

static int escape_error(const char *name, int e, berth_error **err)
{
	if (e == EXDEV || e == ELOOP)
		return berth_error_set(err, 400,
				       "invalid tar entry \"%s\": path escapes the layer through a "
				       "symlink", name);
	return berth_error_set_errno(err, e, "resolve parent of %s", name);
}

/* Opens the directory `path` beneath the root, creating missing parents as
 * the docker daemon does (mode 0755). */
static int open_dir(unpacker *u, const char *path, const char *entry, berth_error **err)
{
	if (*path == '\0')
		return fcntl(u->rootfd, F_DUPFD_CLOEXEC, 0);
	int fd = xopenat2(u->rootfd, path, O_RDONLY | O_DIRECTORY);
	if (fd >= 0 || errno != ENOENT)
		return fd >= 0 ? fd : escape_error(entry, errno, err);
	int dirfd = fcntl(u->rootfd, F_DUPFD_CLOEXEC, 0);
	char *copy cleanup_free = berth_xstrdup(path);
	char *save = NULL;
	for (char *comp = strtok_r(copy, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		if (mkdirat(dirfd, comp, 0755) < 0 && errno != EEXIST) {
			int e = errno;
			close(dirfd);
			return berth_error_set_errno(err, e, "mkdir %s", path);
		}
		int next = xopenat2(dirfd, comp, O_RDONLY | O_DIRECTORY);
		int e = errno;
		close(dirfd);
		if (next < 0)
			return escape_error(entry, e, err);
		dirfd = next;
	}
	return dirfd;
}

/* The fd of the entry's parent directory, cached across entries: entries
 * come grouped by directory. Only a removal can change what an existing
 * path resolves to, and every removal drops the cache. */
static int parent_fd(unpacker *u, const char *clean, const char **base, berth_error **err)
{
	const char *slash = strrchr(clean, '/');
	*base = slash ? slash + 1 : clean;
	size_t plen = slash ? (size_t)(slash - clean) : 0;
	if (u->stale)
		forget_parent(u);
	u->stale = false;
	if (u->cached_parent && strlen(u->cached_parent) == plen &&
	    memcmp(u->cached_parent, clean, plen) == 0)
		return u->cached_fd;
	forget_parent(u);
	char *parent = berth_xstrndup(clean, plen);
	int fd = open_dir(u, parent, clean, err);
	if (fd < 0) {
		free(parent);
		return -1;
	}
	u->cached_parent = parent;
	u->cached_fd = fd;
	struct stat st;
	u->new_gid = fstat(fd, &st) == 0 && (st.st_mode & S_ISGID) ? st.st_gid : getegid();
	return fd;
}

/* rm -rf of dirfd/name without following symlinks. */
static int remove_at(int dirfd, const char *name)
{
	if (unlinkat(dirfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (d == NULL) {
		close(fd);
		return -1;
	}
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			rc |= remove_at(fd, de->d_name);
	}
	closedir(d);
	return rc < 0 ? -1 : unlinkat(dirfd, name, AT_REMOVEDIR);
}

/* Makes room for a new entry: anything there goes, except a directory that
 * a directory entry only updates. Returns 1 when a directory stays. */
static int make_room(unpacker *u, int dirfd, const char *base, bool is_dir, berth_error **err)
{
	struct stat st;
	if (fstatat(dirfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : berth_error_set_errno(err, errno, "stat %s", u->clean);
	if (is_dir && S_ISDIR(st.st_mode))
		return 1;
	/* what the cached parent path resolves to may change: a symlink on it
	 * replaced, or a directory above it removed */
	u->stale = true;
	if (remove_at(dirfd, base) < 0)
		return berth_error_set_errno(err, errno, "remove %s", u->clean);
	return 0;
}

/* What a creation needs; one of the create_* functions uses it. */
typedef struct create_args {
	mode_t mode;
	dev_t dev;
	const char *target;
	int target_dirfd;
} create_args;

typedef int (*create_fn)(int dirfd, const char *base, const create_args *a);

static int create_file(int dirfd, const char *base, const create_args *a)
{
	return openat(dirfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, a->mode);
}

static int create_dir(int dirfd, const char *base, const create_args *a)
{
	return mkdirat(dirfd, base, a->mode);
}

static int create_symlink(int dirfd, const char *base, const create_args *a)
{
	return symlinkat(a->target, dirfd, base);
}

static int create_node(int dirfd, const char *base, const create_args *a)
{
	return mknodat(dirfd, base, a->mode, a->dev);
}

static int create_link(int dirfd, const char *base, const create_args *a)
{
	return linkat(a->target_dirfd, a->target, dirfd, base, 0);
}

/* Creates an entry; when its name is taken, makes room once and retries,
 * so the common case (a new name) costs one system call. Returns what fn
 * returned (an fd for files), 0 when an existing directory stays, or -1
 * with *err. */
static int create_at(unpacker *u, int dirfd, const char *base, bool is_dir, create_fn fn,
		     const create_args *a, const char *what, berth_error **err)
{
	int rc = fn(dirfd, base, a);
	if (rc < 0 && errno == EEXIST) {
		int room = make_room(u, dirfd, base, is_dir, err);
		if (room < 0)
			return -1;
		rc = room == 1 ? 0 : fn(dirfd, base, a);
	}
	if (rc < 0)
		return berth_error_set_errno(err, errno, "%s %s", what, u->clean);
	return rc;
}

static void apply_xattrs(int fd, struct archive_entry *e)
{
	const char *name;
	const void *value;
	size_t size;
	archive_entry_xattr_reset(e);
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		/* overlay's own attributes come only from whiteouts, never from
		 * an image: they would change what the merged root shows */
		if (berth_str_has_prefix(name, "trusted.overlay."))
			continue;
		if (fsetxattr(fd, name, value, size, 0) < 0 && errno != ENOTSUP)
			berth_debug("unpack: setxattr %s: %s", name, strerror(errno));
	}
}

static void entry_times(struct archive_entry *e, struct timespec t[2])
{
	t[0].tv_sec = archive_entry_atime_is_set(e) ? archive_entry_atime(e) : archive_entry_mtime(e);
	t[0].tv_nsec = archive_entry_atime_is_set(e) ? archive_entry_atime_nsec(e)
						    : archive_entry_mtime_nsec(e);
	t[1].tv_sec = archive_entry_mtime(e);
	t[1].tv_nsec = archive_entry_mtime_nsec(e);
}

/* Owner, then mode (chown clears set-id bits), xattrs, times. A file just
 * created already has our owner and its mode (less the umask): those
 * calls are skipped when they would change nothing, which is most files. */
static int set_meta_fd(unpacker *u, int fd, struct archive_entry *e, bool fresh, bool times,
		       berth_error **err)
{
	uid_t uid = (uid_t)archive_entry_uid(e);
	gid_t gid = (gid_t)archive_entry_gid(e);
	mode_t perm = archive_entry_perm(e);
	if (!(fresh && uid == u->euid && gid == u->new_gid) && fchown(fd, uid, gid) < 0 &&
	    u->root_user)
		return berth_error_set_errno(err, errno, "chown %s", u->clean);
	if (!(fresh && (perm & (07000 | u->umask)) == 0) && fchmod(fd, perm) < 0)
		return berth_error_set_errno(err, errno, "chmod %s", u->clean);
	apply_xattrs(fd, e);
	if (times) {
		struct timespec t[2];
		entry_times(e, t);
		futimens(fd, t);
	}
	return 0;
}

static int write_data(struct archive *a, int fd, const char *name, berth_error **err)
{
	const void *buf;
	size_t size;
	la_int64_t offset, end = 0;
	for (;;) {
		int r = archive_read_data_block(a, &buf, &size, &offset);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return berth_error_set(err, 400, "%s", archive_error_string(a));
		if (offset != end && lseek(fd, offset, SEEK_SET) < 0)
			return berth_error_set_errno(err, errno, "seek %s", name);
		if (berth_write_all(fd, buf, size) < 0)
			return berth_error_set_errno(err, errno, "write %s", name);
		end = offset + (la_int64_t)size;
	}
	return 0;
}

static int unpack_file(unpacker *u, struct archive *a, struct archive_entry *e, int dirfd,
		       const char *base, berth_error **err)
{
	create_args ca = {.mode = archive_entry_perm(e) & 0777};
	int fd cleanup_close = create_at(u, dirfd, base, false, create_file, &ca, "create", err);
	if (fd < 0)
		return -1;
	if (write_data(a, fd, u->clean, err) < 0)
		return -1;
	/* a sparse file may end in a hole */
	if (archive_entry_sparse_count(e) > 0 && ftruncate(fd, archive_entry_size(e)) < 0)
		return berth_error_set_errno(err, errno, "truncate %s", u->clean);
	return set_meta_fd(u, fd, e, true, true, err);
}

static int unpack_dir(unpacker *u, struct archive_entry *e, int dirfd, const char *base,
		      berth_error **err)
{
	int fd cleanup_close = -1;
	if (*base == '\0') {
		fd = fcntl(u->rootfd, F_DUPFD_CLOEXEC, 0);
	} else {
		create_args ca = {.mode = 0700};
		if (create_at(u, dirfd, base, true, create_dir, &ca, "mkdir", err) < 0)
			return -1;
		fd = openat(dirfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	}
	if (fd < 0)
		return berth_error_set_errno(err, errno, "open %s", u->clean);
	if (set_meta_fd(u, fd, e, false, false, err) < 0)
		return -1;
	/* children change a directory's mtime: set it when they are all in */
	u->dirs = berth_xrealloc(u->dirs, (u->ndirs + 1) * sizeof(*u->dirs));
	u->dirs[u->ndirs].path = berth_xstrdup(u->clean);
	entry_times(e, u->dirs[u->ndirs].times);
	u->ndirs++;
	return 0;
}

/* For an entry just created (a symlink, a node): as for files, an owner it
 * already has is not set again. */
static int set_meta_at(unpacker *u, int dirfd, const char *base, struct archive_entry *e,
		       bool chmod_ok, berth_error **err)
{
	uid_t uid = (uid_t)archive_entry_uid(e);
	gid_t gid = (gid_t)archive_entry_gid(e);
	if (!(uid == u->euid && gid == u->new_gid) &&
	    fchownat(dirfd, base, uid, gid, AT_SYMLINK_NOFOLLOW) < 0 && u->root_user)
		return berth_error_set_errno(err, errno, "chown %s", u->clean);
	if (chmod_ok && fchmodat(dirfd, base, archive_entry_perm(e), 0) < 0)
		return berth_error_set_errno(err, errno, "chmod %s", u->clean);
	struct timespec t[2];
	entry_times(e, t);
	utimensat(dirfd, base, t, AT_SYMLINK_NOFOLLOW);
	return 0;
}

static int unpack_hardlink(unpacker *u, const char *target, int dirfd, const char *base,
			   berth_error **err)
{
	char *clean cleanup_free = NULL;
	if (clean_path(target, &clean, err) < 0)
		return -1;
	const char *slash = strrchr(clean, '/');
	char *tparent cleanup_free = berth_xstrndup(clean, slash ? (size_t)(slash - clean) : 0);
	int tfd cleanup_close = open_dir(u, tparent, target, err);
	if (tfd < 0)
		return -1;
	create_args ca = {.target = slash ? slash + 1 : clean, .target_dirfd = tfd};
	return create_at(u, dirfd, base, false, create_link, &ca, "invalid hardlink", err) < 0
		       ? -1 : 0;
}

static int unpack_whiteout(unpacker *u, int dirfd, const char *base, berth_error **err)
{
	if (strcmp(base, WH_OPAQUE) == 0) {
		if (fsetxattr(dirfd, OPAQUE_XATTR, "y", 1, 0) < 0)
			return berth_error_set_errno(err, errno, "set opaque on %s", u->clean);
		return 0;
	}
	const char *name = base + strlen(WH_PREFIX);
	if (*name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return berth_error_set(err, 400, "invalid whiteout \"%s\"", u->clean);
	create_args ca = {.mode = S_IFCHR | 0600, .dev = makedev(0, 0)};
	return create_at(u, dirfd, name, false, create_node, &ca, "create whiteout", err) < 0
		       ? -1 : 0;
}

int unpack_entry(unpacker *u, struct archive *a, struct archive_entry *e, unpack_info *info,
		 berth_error **err)
{
	memset(info, 0, sizeof(*info));
	free(u->clean);
	u->clean = NULL;
	if (clean_path(archive_entry_pathname(e), &u->clean, err) < 0)
		return -1;
	const char *base;
	int dirfd = parent_fd(u, u->clean, &base, err);
	if (dirfd < 0)
		return -1;
	if (berth_str_has_prefix(base, WH_PREFIX))
		return unpack_whiteout(u, dirfd, base, err);

	mode_t type = archive_entry_filetype(e);
	const char *hardlink = archive_entry_hardlink(e);
	if (*base == '\0')
		return type == AE_IFDIR ? unpack_dir(u, e, dirfd, base, err) : 0;
	if (hardlink)
		return unpack_hardlink(u, hardlink, dirfd, base, err);
	switch (type) {
	case AE_IFREG:
		info->size = archive_entry_size(e);
		info->file = archive_entry_sparse_count(e) == 0 ? u->clean : NULL;
		return unpack_file(u, a, e, dirfd, base, err);
	case AE_IFDIR:
		return unpack_dir(u, e, dirfd, base, err);
	case AE_IFLNK: {
		create_args ca = {.target = archive_entry_symlink(e)};
		if (ca.target == NULL)
			return berth_error_set(err, 400, "invalid tar entry \"%s\": symlink without "
							 "target", u->clean);
		if (create_at(u, dirfd, base, false, create_symlink, &ca, "symlink", err) < 0)
			return -1;
		info->size = (int64_t)strlen(ca.target);
		return set_meta_at(u, dirfd, base, e, false, err);
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO: {
		create_args ca = {.mode = type | archive_entry_perm(e),
				  .dev = makedev(archive_entry_rdevmajor(e), archive_entry_rdevminor(e))};
		if (create_at(u, dirfd, base, false, create_node, &ca, "mknod", err) < 0)
			return -1;
		return set_meta_at(u, dirfd, base, e, true, err);
	}
	default:
		return 0; /* sockets and unknown types are skipped, as dockerd does */
	}
}

int unpack_finish(unpacker *u, berth_error **err)
{
	forget_parent(u);
	for (size_t i = u->ndirs; i-- > 0;) {
		const char *p = u->dirs[i].path;
		int fd = *p ? xopenat2(u->rootfd, p, O_RDONLY | O_DIRECTORY) :
			      fcntl(u->rootfd, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			continue; /* removed by a later entry */
		futimens(fd, u->dirs[i].times);
		close(fd);
	}
	return 0;
}
