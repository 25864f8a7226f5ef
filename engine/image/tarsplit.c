/*
 * tarsplit.c - rebuilding a layer's tar byte for byte from its directory.
 *
 * An image's config names its layers by the sha256 of their uncompressed
 * tars (diff IDs), so `save` must reproduce those exact bytes. Like dockerd's
 * tar-split, extraction records every byte of the tar that is not a regular
 * file's contents (headers, padding, the end blocks) and, in between,
 * references to the extracted files that supply the rest:
 *
 *   'R' u32 length, bytes          raw tar bytes
 *   'F' u64 size, u32 length, path  size bytes of diff/<path>
 *
 * (little-endian). Consecutive raw bytes are coalesced into one record.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"

#define RAW_FLUSH (1 << 20)

struct tarsplit_writer {
	FILE *f;
	char *path;
	berth_buf raw;
	bool failed;
};

static void put_u32(FILE *f, uint32_t v)
{
	unsigned char b[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};
	fwrite(b, 1, 4, f);
}

static void put_u64(FILE *f, uint64_t v)
{
	put_u32(f, (uint32_t)v);
	put_u32(f, (uint32_t)(v >> 32));
}

int tarsplit_open(const char *path, tarsplit_writer **out, berth_error **err)
{
	tarsplit_writer *w = berth_xcalloc(1, sizeof(*w));
	w->path = berth_xstrdup(path);
	w->f = fopen(path, "we");
	if (w->f == NULL) {
		int e = errno;
		free(w->path);
		free(w);
		return berth_error_set_errno(err, e, "create %s", path);
	}
	*out = w;
	return 0;
}

static void flush_raw(tarsplit_writer *w)
{
	if (w->raw.len == 0)
		return;
	fputc('R', w->f);
	put_u32(w->f, (uint32_t)w->raw.len);
	fwrite(w->raw.data, 1, w->raw.len, w->f);
	w->raw.len = 0;
}

void tarsplit_raw(tarsplit_writer *w, const void *data, size_t len)
{
	berth_buf_append(&w->raw, data, len);
	if (w->raw.len >= RAW_FLUSH)
		flush_raw(w);
}

void tarsplit_file(tarsplit_writer *w, const char *path, int64_t size)
{
	flush_raw(w);
	fputc('F', w->f);
	put_u64(w->f, (uint64_t)size);
	put_u32(w->f, (uint32_t)strlen(path));
	fputs(path, w->f);
}

int tarsplit_close(tarsplit_writer *w, bool commit, berth_error **err)
{
	int rc = 0;
	if (commit) {
		flush_raw(w);
		if (fflush(w->f) != 0 || ferror(w->f) || fsync(fileno(w->f)) < 0)
			rc = berth_error_set_errno(err, errno, "write %s", w->path);
	}
	fclose(w->f);
	berth_buf_reset(&w->raw);
	free(w->path);
	free(w);
	return rc;
}

/* ------------------------------------------------------------- assembly */

typedef struct assembler {
	FILE *f;
	int rootfd;
	sha256_ctx *hash;
	berth_image_write_fn write;
	void *userdata;
	char buf[1 << 16];
} assembler;

static int emit(assembler *as, const void *data, size_t len, berth_error **err)
{
	sha256_update(as->hash, data, len);
	return as->write(as->userdata, data, len, err);
}

static int get_u32(FILE *f, uint32_t *v)
{
	unsigned char b[4];
	if (fread(b, 1, 4, f) != 4)
		return -1;
	*v = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
	return 0;
}

static int copy_raw(assembler *as, uint32_t len, berth_error **err)
{
	while (len > 0) {
		size_t n = len < sizeof(as->buf) ? len : sizeof(as->buf);
		if (fread(as->buf, 1, n, as->f) != n)
			return berth_error_set(err, 500, "tar-split: truncated record");
		if (emit(as, as->buf, n, err) < 0)
			return -1;
		len -= (uint32_t)n;
	}
	return 0;
}

static int copy_file(assembler *as, const char *path, uint64_t size, berth_error **err)
{
	struct open_how how = {.flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW,
			       .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
	int fd cleanup_close = (int)syscall(SYS_openat2, as->rootfd, path, &how, sizeof(how));
	if (fd < 0)
		return berth_error_set_errno(err, errno, "layer file %s", path);
	while (size > 0) {
		size_t want = size < sizeof(as->buf) ? (size_t)size : sizeof(as->buf);
		ssize_t n = read(fd, as->buf, want);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return berth_error_set(err, 500, "layer file %s is shorter than its tar entry",
					       path);
		if (emit(as, as->buf, (size_t)n, err) < 0)
			return -1;
		size -= (uint64_t)n;
	}
	return 0;
}

static int assemble_records(assembler *as, berth_error **err)
{
	int type;
	while ((type = fgetc(as->f)) != EOF) {
		uint32_t len = 0, hi = 0;
		if (type == 'R') {
			if (get_u32(as->f, &len) < 0 || copy_raw(as, len, err) < 0)
				return err && *err ? -1 : berth_error_set(err, 500, "tar-split: bad record");
			continue;
		}
		uint32_t lo = 0;
		if (type != 'F' || get_u32(as->f, &lo) < 0 || get_u32(as->f, &hi) < 0 ||
		    get_u32(as->f, &len) < 0 || len == 0 || len > 65536)
			return berth_error_set(err, 500, "tar-split: bad record");
		char *path cleanup_free = berth_xmalloc(len + 1);
		if (fread(path, 1, len, as->f) != len)
			return berth_error_set(err, 500, "tar-split: truncated record");
		path[len] = '\0';
		if (copy_file(as, path, (uint64_t)hi << 32 | lo, err) < 0)
			return -1;
	}
	return 0;
}

int tarsplit_assemble(const char *layer_dir, const char *diff_id, berth_image_write_fn write,
		      void *userdata, berth_error **err)
{
	char *split cleanup_free = berth_xasprintf("%s/tar-split", layer_dir);
	char *diff cleanup_free = berth_xasprintf("%s/diff", layer_dir);
	assembler *as cleanup_free = berth_xcalloc(1, sizeof(*as));
	as->write = write;
	as->userdata = userdata;
	as->f = fopen(split, "re");
	if (as->f == NULL)
		return berth_error_set_errno(err, errno, "open %s", split);
	as->rootfd = open(diff, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (as->rootfd < 0) {
		int e = errno;
		fclose(as->f);
		return berth_error_set_errno(err, e, "open %s", diff);
	}
	as->hash = sha256_new();
	int rc = assemble_records(as, err);
	fclose(as->f);
	close(as->rootfd);
	char got[DIGEST_LEN + 1];
	sha256_final(as->hash, got);
	if (rc == 0 && strcmp(got, diff_id) != 0)
		return berth_error_set(err, 500,
				       "layer %s: the rebuilt tar does not match its diff ID (got %s)",
				       diff_id, got);
	return rc;
}
