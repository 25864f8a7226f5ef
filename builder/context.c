/*
 * context.c - build contexts: the tar stream of POST /build (plain, gzip,
 * bzip2, xz or zstd; libarchive detects which), unpacked below a directory
 * with every path resolved inside it, leaving out what the context's own
 * .dockerignore excludes. The Dockerfile and .dockerignore are unpacked in
 * any case; berth_build_prepare removes them after reading when excluded,
 * as dockerd does.
 */
#include "lazy_archive.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

static struct archive *open_archive(const void *data, size_t len, berth_error **err)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_empty(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		berth_error_set(err, 400, "failed to read the build context: %s", archive_error_string(a));
		archive_read_free(a);
		return NULL;
	}
	return a;
}

/* The context's .dockerignore, when it has one. */
static int read_ignore(const void *data, size_t len, berth_dockerignore **out, berth_error **err)
{
	*out = NULL;
	struct archive *a = open_archive(data, len, err);
	if (a == NULL)
		return -1;
	struct archive_entry *e;
	int rc = 0;
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		char *name cleanup_free = berth_path_clean(archive_entry_pathname(e));
		if (strcmp(name, ".dockerignore") != 0)
			continue;
		berth_buf content cleanup_buf = {0};
		char buf[8192];
		la_ssize_t r;
		while ((r = archive_read_data(a, buf, sizeof(buf))) > 0)
			berth_buf_append(&content, buf, (size_t)r);
		berth_dockerignore_free(*out);
		*out = NULL;
		rc = berth_dockerignore_parse(content.data ? content.data : "", content.len, out, err);
		break;
	}
	archive_read_free(a);
	return rc;
}

/* The docker CLI ends a context whose Dockerfile it added (-f outside the
 * context) without the last entry's padding and the end blocks; dockerd's
 * reader takes that as the end, and so do we once the data is complete. */
static bool truncated_after(struct archive *a, bool complete)
{
	const char *msg = archive_error_string(a);
	return complete && msg && strstr(msg, "Truncated") != NULL;
}

static int write_file(struct archive *a, int pfd, const char *name, mode_t mode, la_int64_t want,
		      const char *path, berth_error **err)
{
	unlinkat(pfd, name, 0);
	int fd cleanup_close = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return berth_error_set_errno(err, errno, "create %s", path);
	const void *buf;
	size_t size;
	la_int64_t off, done = 0;
	int r;
	while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
		if (pwrite(fd, buf, size, off) != (ssize_t)size)
			return berth_error_set_errno(err, errno, "write %s", path);
		done = off + (la_int64_t)size;
	}
	if (r != ARCHIVE_EOF && !truncated_after(a, done >= want))
		return berth_error_set(err, 400, "failed to read the build context: %s",
				       archive_error_string(a));
	/* a sparse tail: the file's size is the header's */
	fchmod(fd, mode & 07777);
	return 0;
}

/* One tar entry at path below root, owned as the archive says or by root. */
static int extract_entry(struct archive *a, struct archive_entry *e, int root, const char *path,
			 bool owners, berth_error **err)
{
	char *parent cleanup_free = berth_xstrdup(path);
	char *slash = strrchr(parent, '/');
	const char *name = slash ? slash + 1 : parent;
	if (slash)
		*slash = '\0';
	const char *pdir = slash ? parent : ".";
	if (copy_mkdir_in(root, pdir, 0, 0, err) < 0)
		return -1;
	int pfd cleanup_close = copy_open_in(root, pdir, O_PATH | O_DIRECTORY, err);
	if (pfd < 0)
		return -1;
	mode_t mode = archive_entry_mode(e);
	int rc = 0;
	if (archive_entry_hardlink(e)) {
		char *target cleanup_free = berth_path_clean(archive_entry_hardlink(e));
		int tfd cleanup_close = copy_open_in(root, target, O_PATH | O_NOFOLLOW, err);
		if (tfd < 0)
			return -1;
		unlinkat(pfd, name, 0);
		if (linkat(tfd, "", pfd, name, AT_EMPTY_PATH) < 0)
			rc = berth_error_set_errno(err, errno, "link %s", path);
	} else if (S_ISDIR(mode)) {
		if (mkdirat(pfd, name, 0755) < 0 && errno != EEXIST)
			return berth_error_set_errno(err, errno, "mkdir %s", path);
		int dfd cleanup_close = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd >= 0)
			fchmod(dfd, mode & 07777);
	} else if (S_ISLNK(mode)) {
		unlinkat(pfd, name, 0);
		if (symlinkat(archive_entry_symlink(e) ?: "", pfd, name) < 0)
			rc = berth_error_set_errno(err, errno, "symlink %s", path);
	} else if (S_ISREG(mode)) {
		rc = write_file(a, pfd, name, mode, archive_entry_size(e), path, err);
	}
	if (rc == 0 && owners && !archive_entry_hardlink(e)) {
		uid_t uid = (uid_t)archive_entry_uid(e);
		gid_t gid = (gid_t)archive_entry_gid(e);
		fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
		/* chown clears set-id bits: the archive's mode goes on after */
		if (!S_ISLNK(mode))
			fchmodat(pfd, name, mode & 07777, 0);
	}
	if (rc == 0) {
		struct timespec t[2] = {{archive_entry_mtime(e), archive_entry_mtime_nsec(e)},
					{archive_entry_mtime(e), archive_entry_mtime_nsec(e)}};
		utimensat(pfd, name, t, AT_SYMLINK_NOFOLLOW);
	}
	return rc;
}

/* Paths of an archive's entries, cleaned; NULL for those that would leave
 * the directory they are unpacked in. */
static char *entry_path(struct archive_entry *e, const char *prefix)
{
	char *path = berth_path_clean(archive_entry_pathname(e) ?: "");
	if (strcmp(path, "..") == 0 || berth_str_has_prefix(path, "../") || path[0] == '/' ||
	    strcmp(path, ".") == 0) {
		free(path);
		return NULL;
	}
	if (archive_entry_hardlink(e)) {
		char *t = berth_path_clean(archive_entry_hardlink(e));
		char *full = berth_xasprintf("%s/%s", prefix, t);
		archive_entry_copy_hardlink(e, full);
		free(full);
		free(t);
	}
	char *full = berth_xasprintf("%s/%s", prefix, path);
	free(path);
	return full;
}

static struct archive *open_fd_archive(int fd)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	if (archive_read_open_fd(a, fd, 65536) != ARCHIVE_OK) {
		archive_read_free(a);
		return NULL;
	}
	return a;
}

bool ctx_is_archive(int fd)
{
	struct archive *a = open_fd_archive(fd);
	struct archive_entry *e;
	bool yes = a && archive_read_next_header(a, &e) == ARCHIVE_OK;
	if (a)
		archive_read_free(a);
	lseek(fd, 0, SEEK_SET);
	return yes;
}

int ctx_extract_fd(int fd, int root, const char *dest, bool owners, berth_error **err)
{
	struct archive *a = open_fd_archive(fd);
	if (a == NULL)
		return berth_error_set(err, 400, "failed to read the archive");
	struct archive_entry *e;
	int rc = 0, r;
	while (rc == 0 && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		char *path cleanup_free = entry_path(e, dest);
		if (path)
			rc = extract_entry(a, e, root, path, owners, err);
	}
	if (rc == 0 && r != ARCHIVE_EOF)
		rc = berth_error_set(err, 400, "failed to read the archive: %s", archive_error_string(a));
	archive_read_free(a);
	return rc;
}

int berth_builder_context_extract(const void *data, size_t len, const char *dir,
				  const char *dockerfile, berth_error **err)
{
	berth_dockerignore *di = NULL;
	if (berth_mkdir_all(dir, 0755, err) < 0 || read_ignore(data, len, &di, err) < 0)
		return -1;
	int root cleanup_close = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	struct archive *a = root >= 0 ? open_archive(data, len, err) : NULL;
	if (a == NULL) {
		berth_dockerignore_free(di);
		return root < 0 ? berth_error_set_errno(err, errno, "open %s", dir) : -1;
	}
	char *df cleanup_free = berth_path_clean(dockerfile && *dockerfile ? dockerfile : "Dockerfile");
	struct archive_entry *e;
	int rc = 0, r;
	while (rc == 0 && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		char *path cleanup_free = berth_path_clean(archive_entry_pathname(e));
		if (strcmp(path, ".") == 0 || strcmp(path, "..") == 0 || berth_str_has_prefix(path, "../") ||
		    path[0] == '/')
			continue;
		bool keep = strcmp(path, ".dockerignore") == 0 || strcmp(path, df) == 0 ||
			    !berth_dockerignore_excluded(di, path);
		if (keep)
			rc = extract_entry(a, e, root, path, false, err);
	}
	if (rc == 0 && r != ARCHIVE_EOF && !truncated_after(a, archive_file_count(a) > 0))
		rc = berth_error_set(err, 400, "failed to read the build context: %s", archive_error_string(a));
	archive_read_free(a);
	berth_dockerignore_free(di);
	return rc;
}
