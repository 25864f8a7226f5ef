/*
 * archive.c - an index of an image archive (docker save or OCI layout) held
 * in memory, so that load can read its JSON documents by name and then
 * stream each layer straight from the archive bytes, without unpacking the
 * archive to a temporary directory first as dockerd does.
 *
 * A compressed archive (docker load < image.tar.gz) is decompressed once
 * into a staging file that is then mapped and indexed the same way.
 */
#include "lazy_archive.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "archive_index.h"

#define JSON_MAX ((int64_t)64 << 20) /* configs, manifests, indexes */
#define LINK_DEPTH 16

/* Archive paths: "./a//b" -> "a/b"; ".." resolved, never above the root. */
static char *clean_archive_path(const char *dir, const char *name)
{
	berth_buf b = {0};
	berth_buf_puts(&b, "");
	if (name == NULL)
		name = "";
	if (dir && name[0] != '/')
		berth_buf_puts(&b, dir);
	const char *p = name;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.') {
			char *slash = b.len ? strrchr(b.data, '/') : NULL;
			b.len = slash ? (size_t)(slash - b.data) : 0;
			b.data[b.len] = '\0';
		} else if (n > 0 && !(n == 1 && p[0] == '.')) {
			if (b.len)
				berth_buf_puts(&b, "/");
			berth_buf_append(&b, p, n);
		}
		p += n;
		p += (*p == '/');
	}
	return berth_buf_steal(&b);
}

static void add_file(arc_index *idx, arc_file *f)
{
	void *old = map_get(&idx->paths, f->path);
	if (old) { /* a later entry of the same name wins, as untar would */
		arc_file *prev = &idx->files[(size_t)old - 1];
		free(prev->content);
		free(prev->link);
		free(prev->path);
		*prev = *f;
		return;
	}
	idx->files = berth_xrealloc(idx->files, (idx->n + 1) * sizeof(*idx->files));
	idx->files[idx->n++] = *f;
	map_put(&idx->paths, f->path, (void *)idx->n);
}

static int read_content(struct archive *a, arc_file *f, berth_error **err)
{
	f->content = berth_xmalloc((size_t)f->size + 1);
	la_ssize_t n = archive_read_data(a, f->content, (size_t)f->size);
	if (n != f->size)
		return berth_error_set(err, 400, "invalid archive: %s: %s", f->path,
				       n < 0 ? archive_error_string(a) : "unexpected EOF");
	f->content[f->size] = '\0';
	f->content_len = (size_t)f->size;
	return 0;
}

/* JSON documents are read now; layers (which never start with '{' or '[')
 * are only located. */
static int index_entry(arc_index *idx, struct archive *a, struct archive_entry *e,
		       berth_error **err)
{
	arc_file f = {.offset = -1};
	f.path = clean_archive_path(NULL, archive_entry_pathname(e));
	const char *slash = strrchr(f.path, '/');
	char *dir cleanup_free = berth_xstrndup(f.path, slash ? (size_t)(slash - f.path) : 0);
	const char *hard = archive_entry_hardlink(e);
	if (hard) {
		f.link = clean_archive_path(NULL, hard);
	} else if (archive_entry_filetype(e) == AE_IFLNK) {
		f.link = clean_archive_path(dir, archive_entry_symlink(e));
	} else if (archive_entry_filetype(e) != AE_IFREG) {
		free(f.path);
		return 0;
	} else {
		f.size = archive_entry_size(e);
		f.offset = archive_filter_bytes(a, 0);
		const char *data = idx->data;
		if (f.offset < 0 || f.size < 0 || f.offset + f.size > (int64_t)idx->len) {
			free(f.path);
			return berth_error_set(err, 400, "invalid archive: unexpected EOF");
		}
		if (f.size > 0 && f.size <= JSON_MAX &&
		    (data[f.offset] == '{' || data[f.offset] == '[') && read_content(a, &f, err) < 0) {
			free(f.path);
			free(f.content);
			return -1;
		}
	}
	add_file(idx, &f);
	return 0;
}

static int index_archive(arc_index *idx, bool *compressed, berth_error **err)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	int rc = 0;
	if (archive_read_open_memory(a, idx->data, idx->len) != ARCHIVE_OK) {
		rc = berth_error_set(err, 400, "invalid archive: %s", archive_error_string(a));
		goto out;
	}
	struct archive_entry *e;
	for (;;) {
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			rc = berth_error_set(err, 400, "invalid archive: %s", archive_error_string(a));
			break;
		}
		if (archive_filter_count(a) > 1) {
			*compressed = true; /* offsets are not archive bytes: start over */
			break;
		}
		if (index_entry(idx, a, e, err) < 0) {
			rc = -1;
			break;
		}
	}
out:
	archive_read_free(a);
	return rc;
}

/* Writes the uncompressed archive to a staging file and maps it. */
static int decompress(berth_image_store *s, arc_index *idx, berth_error **err)
{
	if (store_tmpdir(s, &idx->tmpdir, err) < 0)
		return -1;
	char *path cleanup_free = berth_xasprintf("%s/archive.tar", idx->tmpdir);
	int fd cleanup_close = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return berth_error_set_errno(err, errno, "create %s", path);
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	struct archive_entry *e;
	int rc = 0;
	if (archive_read_open_memory(a, idx->data, idx->len) != ARCHIVE_OK ||
	    archive_read_next_header(a, &e) != ARCHIVE_OK ||
	    archive_read_data_into_fd(a, fd) != ARCHIVE_OK)
		rc = berth_error_set(err, 400, "invalid archive: %s", archive_error_string(a));
	archive_read_free(a);
	if (rc < 0)
		return -1;
	off_t len = lseek(fd, 0, SEEK_END);
	void *map = len > 0 ? mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
	if (map == MAP_FAILED)
		return berth_error_set(err, 400, "invalid archive: empty after decompression");
	idx->mapped = map;
	idx->mapped_len = (size_t)len;
	idx->data = map;
	idx->len = (size_t)len;
	return 0;
}

int arc_index_open(berth_image_store *s, const berth_image_source *src, arc_index *idx,
		   berth_error **err)
{
	memset(idx, 0, sizeof(*idx));
	idx->data = src->data;
	idx->len = src->len;
	if (src->len == 0)
		return berth_error_set(err, 400, "unexpected EOF");
	bool compressed = false;
	if (index_archive(idx, &compressed, err) < 0)
		return -1;
	if (!compressed)
		return 0;
	if (decompress(s, idx, err) < 0)
		return -1;
	compressed = false;
	if (index_archive(idx, &compressed, err) < 0)
		return -1;
	return compressed ? berth_error_set(err, 400, "invalid archive: compressed twice") : 0;
}

void arc_index_free(arc_index *idx)
{
	for (size_t i = 0; i < idx->n; i++) {
		free(idx->files[i].path);
		free(idx->files[i].content);
		free(idx->files[i].link);
	}
	free(idx->files);
	map_free(&idx->paths);
	if (idx->mapped)
		munmap(idx->mapped, idx->mapped_len);
	if (idx->tmpdir) {
		remove_tree(idx->tmpdir);
		free(idx->tmpdir);
	}
	memset(idx, 0, sizeof(*idx));
}

const arc_file *arc_find(const arc_index *idx, const char *path)
{
	char *p = clean_archive_path(NULL, path);
	const arc_file *f = NULL;
	for (int depth = 0; depth < LINK_DEPTH; depth++) {
		void *i = map_get(&idx->paths, p);
		f = i ? &idx->files[(size_t)i - 1] : NULL;
		if (f == NULL || f->link == NULL)
			break;
		free(p);
		p = berth_xstrdup(f->link);
		f = NULL;
	}
	free(p);
	return f;
}

int arc_json(const arc_index *idx, const char *path, json_t **out, berth_error **err)
{
	const arc_file *f = arc_find(idx, path);
	if (f == NULL)
		return berth_error_set(err, 400, "invalid archive: %s: no such file", path);
	if (f->content == NULL)
		return berth_error_set(err, 400, "invalid archive: %s: not a JSON document", path);
	json_error_t jerr;
	*out = json_loadb(f->content, f->content_len, 0, &jerr);
	if (*out == NULL)
		return berth_error_set(err, 400, "invalid archive: %s: %s", path, jerr.text);
	return 0;
}

void arc_file_reader(const arc_index *idx, const arc_file *f, mem_reader *m)
{
	memset(m, 0, sizeof(*m));
	m->data = (const char *)idx->data + f->offset;
	m->len = (size_t)f->size;
}
