/* file.c - reading whole files and writing them atomically. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"

int berth_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int berth_file_read_all(const char *path, char **data, size_t *len, berth_error **err)
{
	int fd cleanup_close = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return berth_error_set(err, 404, "open %s: no such file or directory", path);
		return berth_error_set_errno(err, errno, "open %s", path);
	}
	berth_buf b = {0};
	char chunk[65536];
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			berth_buf_reset(&b);
			return berth_error_set_errno(err, e, "read %s", path);
		}
		if (n == 0)
			break;
		berth_buf_append(&b, chunk, (size_t)n);
	}
	if (len)
		*len = b.len;
	*data = berth_buf_steal(&b);
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char *copy cleanup_free = berth_xstrdup(path);
	int fd cleanup_close = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	return fsync(fd);
}

int berth_file_replace(const char *path, const void *data, size_t len, int mode, bool sync,
		       berth_error **err)
{
	char *tmp cleanup_free = berth_xasprintf("%s.tmp-XXXXXX", path);
	int fd cleanup_close = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return berth_error_set_errno(err, errno, "create temp file for %s", path);
	if (fchmod(fd, (mode_t)mode) < 0 || berth_write_all(fd, data, len) < 0 ||
	    (sync && fsync(fd) < 0)) {
		int e = errno;
		unlink(tmp);
		return berth_error_set_errno(err, e, "write %s", tmp);
	}
	if (rename(tmp, path) < 0) {
		int e = errno;
		unlink(tmp);
		return berth_error_set_errno(err, e, "rename %s", path);
	}
	return 0;
}

int berth_file_write_atomic(const char *path, const void *data, size_t len, int mode,
			    berth_error **err)
{
	if (berth_file_replace(path, data, len, mode, true, err) < 0)
		return -1;
	if (fsync_dir_of(path) < 0)
		return berth_error_set_errno(err, errno, "fsync directory of %s", path);
	return 0;
}

int berth_mkdir_all(const char *path, int mode, berth_error **err)
{
	char *p cleanup_free = berth_xstrdup(path);
	for (char *s = p + 1;; s++) {
		bool end = (*s == '\0');
		if (*s == '/' || end) {
			char saved = *s;
			*s = '\0';
			if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST)
				return berth_error_set_errno(err, errno, "mkdir %s", p);
			*s = saved;
		}
		if (end)
			break;
	}
	struct stat st;
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return berth_error_set(err, 500, "mkdir %s: not a directory", path);
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	int rc = (flag == FTW_DP) ? rmdir(path) : unlink(path);
	return (rc < 0 && errno != ENOENT) ? -1 : 0;
}

int berth_remove_all(const char *path, berth_error **err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : berth_error_set_errno(err, errno, "remove %s", path);
	if (nftw(path, remove_entry, 64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT) < 0)
		return berth_error_set_errno(err, errno, "remove %s", path);
	return 0;
}

/* nftw has no user pointer; each thread walks with its own total */
static __thread int64_t usage_total;

static int usage_add(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	if (type != FTW_D && type != FTW_DP)
		usage_total += st->st_size;
	return 0;
}

int64_t berth_dir_usage(const char *path)
{
	usage_total = 0;
	nftw(path, usage_add, 32, FTW_PHYS | FTW_MOUNT);
	return usage_total;
}
