/*
 * extract.c - one pass over a layer stream: decompress, hash, unpack, and
 * record the tar-split.
 *
 * Two libarchive readers are stacked: `raw` undoes any compression (gzip,
 * zstd, xz, or none) and `tar` parses what it yields. Between them, every
 * decompressed byte goes through tar_read(), which hashes it (the diff ID)
 * and keeps the bytes that are not regular files' contents in a small
 * window, from which the tar-split's raw records are cut. libarchive tells
 * where each entry's data starts (its filter position after the header),
 * so a file's contents are never copied, only referenced.
 */
#include "lazy_archive.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "internal.h"
#include "unpack.h"

typedef struct xstream {
	read_fn read;
	void *userdata;
	berth_error *src_err;   /* the source's own failure, preferred in messages */
	sha256_ctx *blob_hash;  /* over the bytes as read; NULL once they are
				 * known to be the tar itself */
	sha256_ctx *diff_hash;  /* over the uncompressed tar */
	struct archive *raw;
	struct archive *tar;
	int64_t pos;            /* uncompressed bytes handed to `tar` so far */
	berth_buf win;          /* win.data[head..len) are the bytes from win_base */
	size_t head;
	int64_t win_base;
	int64_t keep_from;      /* bytes below this are not needed any more */
	bool blob_elsewhere;    /* LAYER_BLOB_ELSEWHERE */
	bool tar_is_blob;       /* no compression */
} xstream;

static la_ssize_t source_read(struct archive *a, void *ud, const void **buf)
{
	xstream *xs = ud;
	berth_error_free(&xs->src_err);
	ssize_t n = xs->read(xs->userdata, buf, &xs->src_err);
	if (n < 0) {
		archive_set_error(a, EIO, "%s", xs->src_err ? xs->src_err->msg : "read error");
		return -1;
	}
	if (xs->blob_hash)
		sha256_update(xs->blob_hash, *buf, (size_t)n);
	return n;
}

/* The next block of uncompressed bytes: 0 at the end, -1 on error. */
static ssize_t raw_block(xstream *xs, const void **buf)
{
	size_t size = 0;
	la_int64_t offset;
	int r = archive_read_data_block(xs->raw, buf, &size, &offset);
	if (r == ARCHIVE_EOF)
		return 0;
	if (r < ARCHIVE_WARN)
		return -1;
	return (ssize_t)size;
}

static void window_append(xstream *xs, const char *data, size_t n)
{
	int64_t at = xs->pos;
	int64_t start = at > xs->keep_from ? at : xs->keep_from;
	if (start >= at + (int64_t)n)
		return;
	if (xs->win.len == xs->head) {
		xs->win.len = xs->head = 0;
		xs->win_base = start;
	}
	berth_buf_append(&xs->win, data + (start - at), (size_t)(at + (int64_t)n - start));
}

/* Everything before `to` has been recorded (or is a file's contents). The
 * front is dropped by moving `head`, and compacted only now and then: a
 * memmove per entry would copy the window once per file. */
static void window_advance(xstream *xs, int64_t to)
{
	int64_t end = xs->win_base + (int64_t)(xs->win.len - xs->head);
	if (to >= end) {
		xs->win.len = xs->head = 0;
		xs->win_base = to;
	} else if (to > xs->win_base) {
		xs->head += (size_t)(to - xs->win_base);
		xs->win_base = to;
		if (xs->head > (1 << 20) && xs->head > xs->win.len / 2) {
			berth_buf_consume(&xs->win, xs->head);
			xs->head = 0;
		}
	}
	xs->keep_from = to;
}

static la_ssize_t tar_read(struct archive *a, void *ud, const void **buf)
{
	xstream *xs = ud;
	ssize_t n = raw_block(xs, buf);
	if (n < 0) {
		archive_set_error(a, EIO, "%s", archive_error_string(xs->raw));
		return -1;
	}
	if (xs->diff_hash)
		sha256_update(xs->diff_hash, *buf, (size_t)n);
	window_append(xs, *buf, (size_t)n);
	xs->pos += n;
	return n;
}

static void record_raw(xstream *xs, tarsplit_writer *ts, int64_t from, int64_t to)
{
	if (to > from)
		tarsplit_raw(ts, xs->win.data + xs->head + (from - xs->win_base), (size_t)(to - from));
}

static int stream_error(xstream *xs, struct archive *a, berth_error **err)
{
	if (xs->src_err)
		return berth_error_set(err, xs->src_err->status, "%s", xs->src_err->msg);
	const char *msg = archive_error_string(a);
	return berth_error_set(err, 400, "%s", msg ? msg : "unexpected EOF");
}

static int open_readers(xstream *xs, berth_error **err)
{
	xs->raw = archive_read_new();
	archive_read_support_filter_all(xs->raw);
	archive_read_support_format_raw(xs->raw);
	struct archive_entry *e;
	if (archive_read_open(xs->raw, xs, NULL, source_read, NULL) != ARCHIVE_OK ||
	    archive_read_next_header(xs->raw, &e) != ARCHIVE_OK)
		return stream_error(xs, xs->raw, err);
	/* an uncompressed layer is its own blob: hashing every byte twice
	 * would cost as much as writing it */
	if (archive_filter_count(xs->raw) <= 1) {
		xs->tar_is_blob = true;
		sha256_free(xs->blob_hash);
		xs->blob_hash = NULL;
		if (xs->blob_elsewhere) {
			sha256_free(xs->diff_hash);
			xs->diff_hash = NULL;
		}
	}
	xs->tar = archive_read_new();
	archive_read_support_format_tar(xs->tar);
	archive_read_support_format_gnutar(xs->tar);
	if (archive_read_open(xs->tar, xs, NULL, tar_read, NULL) != ARCHIVE_OK)
		return stream_error(xs, xs->tar, err);
	return 0;
}

/* Plain regular files are the ones whose data the tar-split references. */
static bool plain_file(struct archive_entry *e)
{
	if (archive_entry_filetype(e) != AE_IFREG || archive_entry_hardlink(e) ||
	    archive_entry_sparse_count(e) > 0 || archive_entry_size(e) <= 0)
		return false;
	const char *name = archive_entry_pathname(e);
	const char *base = name ? strrchr(name, '/') : NULL;
	base = base ? base + 1 : name;
	return base && !berth_str_has_prefix(base, ".wh.");
}

static int extract_entries(xstream *xs, unpacker *u, tarsplit_writer *ts, int64_t *size,
			   berth_error **err)
{
	int64_t cursor = 0;
	struct archive_entry *e;
	for (;;) {
		int r = archive_read_next_header(xs->tar, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN)
			return stream_error(xs, xs->tar, err);
		int64_t data_start = archive_filter_bytes(xs->tar, 0);
		record_raw(xs, ts, cursor, data_start);
		bool file = plain_file(e);
		cursor = data_start + (file ? archive_entry_size(e) : 0);
		window_advance(xs, cursor);
		unpack_info info;
		if (unpack_entry(u, xs->tar, e, &info, err) < 0) {
			if (xs->src_err || archive_errno(xs->tar) == EIO)
				return stream_error(xs, xs->tar, err);
			return -1;
		}
		if (file)
			tarsplit_file(ts, info.file, archive_entry_size(e));
		*size += info.size;
	}
	/* the end blocks and whatever padding follows them belong to the tar
	 * too: the diff ID covers every byte */
	for (;;) {
		const void *buf;
		ssize_t n = raw_block(xs, &buf);
		if (n < 0)
			return stream_error(xs, xs->raw, err);
		if (n == 0)
			break;
		if (xs->diff_hash)
			sha256_update(xs->diff_hash, buf, (size_t)n);
		window_append(xs, buf, (size_t)n);
		xs->pos += n;
	}
	record_raw(xs, ts, cursor, xs->pos);
	return 0;
}

/* Reads what the decompressor left of the source, so the blob digest covers
 * every byte given. */
static int drain_source(xstream *xs, berth_error **err)
{
	for (;;) {
		const void *buf;
		ssize_t n = xs->read(xs->userdata, &buf, err);
		if (n < 0)
			return -1;
		if (n == 0)
			return 0;
		if (xs->blob_hash)
			sha256_update(xs->blob_hash, buf, (size_t)n);
	}
}

/* Writes a digest, or "" when nothing was hashed here. */
static void digest_final(sha256_ctx *c, char out[DIGEST_LEN + 1])
{
	if (c)
		sha256_final(c, out);
	else
		*out = '\0';
}

int layer_extract(read_fn read, void *userdata, const char *dir, int flags, extract_result *res,
		  berth_error **err)
{
	memset(res, 0, sizeof(*res));
	char *diff cleanup_free = berth_xasprintf("%s/diff", dir);
	char *split cleanup_free = berth_xasprintf("%s/tar-split", dir);
	unpacker *u = NULL;
	tarsplit_writer *ts = NULL;
	if (unpack_open(diff, &u, err) < 0)
		return -1;
	if (tarsplit_open(split, &ts, err) < 0) {
		unpack_free(u);
		return -1;
	}
	xstream xs = {.read = read, .userdata = userdata,
		      .blob_elsewhere = flags & LAYER_BLOB_ELSEWHERE};
	xs.blob_hash = xs.blob_elsewhere ? NULL : sha256_new();
	xs.diff_hash = sha256_new();
	int rc = open_readers(&xs, err);
	if (rc == 0)
		rc = extract_entries(&xs, u, ts, &res->size, err);
	if (rc == 0)
		rc = unpack_finish(u, err);
	if (rc == 0)
		rc = drain_source(&xs, err);
	if (tarsplit_close(ts, rc == 0, rc == 0 ? err : NULL) < 0)
		rc = -1;
	unpack_free(u);
	if (xs.tar)
		archive_read_free(xs.tar);
	if (xs.raw)
		archive_read_free(xs.raw);
	berth_error_free(&xs.src_err);
	berth_buf_reset(&xs.win);
	res->tar_size = xs.pos;
	digest_final(xs.diff_hash, res->diff_id);
	digest_final(xs.blob_hash, res->blob_digest);
	if (xs.tar_is_blob && !xs.blob_elsewhere)
		memcpy(res->blob_digest, res->diff_id, sizeof(res->blob_digest));
	return rc;
}

ssize_t mem_read(void *userdata, const void **buf, berth_error **err)
{
	mem_reader *m = userdata;
	size_t chunk = m->chunk ? m->chunk : (size_t)1 << 20;
	size_t n = m->len - m->off < chunk ? m->len - m->off : chunk;
	*buf = m->data + m->off;
	m->off += n;
	return (ssize_t)n;
}
