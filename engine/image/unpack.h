/* unpack.h - applying tar entries to a layer directory (see unpack.c). */
#ifndef BERTH_IMAGE_UNPACK_H
#define BERTH_IMAGE_UNPACK_H

#include "lazy_archive.h"

#include "common.h"

typedef struct unpacker unpacker;

typedef struct unpack_info {
	const char *file; /* a regular file whose bytes are the entry's data */
	int64_t size;     /* what the entry adds to the layer's size */
} unpack_info;

int unpack_open(const char *dir, unpacker **out, berth_error **err);
/* Applies one entry, reading its data from a. */
int unpack_entry(unpacker *u, struct archive *a, struct archive_entry *e, unpack_info *info,
		 berth_error **err);
/* Sets directory times once every entry is in. */
int unpack_finish(unpacker *u, berth_error **err);
void unpack_free(unpacker *u);

#endif
