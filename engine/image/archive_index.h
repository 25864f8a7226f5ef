/* archive_index.h - an image archive indexed in memory (see archive.c). */
#ifndef BERTH_IMAGE_ARCHIVE_INDEX_H
#define BERTH_IMAGE_ARCHIVE_INDEX_H

#include "internal.h"

typedef struct arc_file {
	char *path;          /* cleaned */
	int64_t size;
	int64_t offset;      /* of the data in the uncompressed archive */
	char *content;       /* JSON documents, read at indexing */
	size_t content_len;
	char *link;          /* symlink or hard link target, cleaned */
} arc_file;

typedef struct arc_index {
	const void *data;    /* the uncompressed archive */
	size_t len;
	arc_file *files;
	size_t n;
	map paths;           /* path -> index + 1 */
	void *mapped;        /* a decompressed copy, when the archive was not */
	size_t mapped_len;
	char *tmpdir;
} arc_index;

int arc_index_open(berth_image_store *s, const berth_image_source *src, arc_index *idx,
		   berth_error **err);
void arc_index_free(arc_index *idx);
/* A regular file by path, following links inside the archive; NULL if none. */
const arc_file *arc_find(const arc_index *idx, const char *path);
/* A JSON document of the archive. */
int arc_json(const arc_index *idx, const char *path, json_t **out, berth_error **err);
/* A reader over a file's bytes. */
void arc_file_reader(const arc_index *idx, const arc_file *f, mem_reader *m);

#endif
