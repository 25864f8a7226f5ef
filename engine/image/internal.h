/*
 * internal.h - shared by the image module's files; not for other modules.
 *
 * Locking: `mu` guards the in-memory maps and is held only for memory work,
 * never across disk I/O, so readers on the loop never wait for a disk.
 * `wmu` serializes the commits of changes (tag index rewrites, record files,
 * removals) between pool threads; layer extraction runs under neither.
 */
#ifndef BERTH_IMAGE_INTERNAL_H
#define BERTH_IMAGE_INTERNAL_H

#include <pthread.h>

#include "image.h"

#define DIGEST_LEN 71 /* "sha256:" + 64 hex */
#define HEX_OF(digest) ((digest) + 7)

/* ------------------------------------------------------------------- map */

/* A string-keyed hash map (open addressing). Keys are copied. */
typedef struct map_entry {
	char *key;
	void *value;
} map_entry;

typedef struct map {
	map_entry *slots;
	size_t cap, len;
} map;

void *map_get(const map *m, const char *key);
/* Replaces and returns the old value, or NULL. */
void *map_put(map *m, const char *key, void *value);
void *map_del(map *m, const char *key);
void map_free(map *m);
/* Iterates: for (size_t i = 0; map_next(m, &i, &e);) */
bool map_next(const map *m, size_t *i, map_entry **e);

/* ---------------------------------------------------------------- digests */

typedef struct sha256_ctx sha256_ctx;
sha256_ctx *sha256_new(void);
void sha256_update(sha256_ctx *c, const void *data, size_t len);
/* Writes "sha256:<hex>" and frees the context. */
void sha256_final(sha256_ctx *c, char out[DIGEST_LEN + 1]);
void sha256_free(sha256_ctx *c);
/* "sha256:" + berth_sha256_hex(data). */
void digest_of(const void *data, size_t len, char out[DIGEST_LEN + 1]);
bool digest_valid(const char *d);
/* chain(parent, diff) = sha256("<parent> <diff>"), chain of the first = diff */
void chain_id(const char *parent_chain, const char *diff_id, char out[DIGEST_LEN + 1]);

/* ------------------------------------------------------------------ types */

typedef struct layer {
	char chain[DIGEST_LEN + 1];
	char diff[DIGEST_LEN + 1];
	char parent_chain[DIGEST_LEN + 1]; /* "" for a base layer */
	struct layer *parent;
	int64_t size;      /* of this layer's files, as dockerd's DiffSize */
	int64_t tar_size;  /* of the layer tar save rebuilds */
	int refs;          /* images whose chain holds it, mounts, pins */
} layer;

typedef struct image {
	char id[DIGEST_LEN + 1];
	json_t *config;        /* parsed */
	size_t config_len;
	int64_t created_ns;    /* 0 when the config has none */
	char *parent;          /* "sha256:.." or NULL */
	int64_t last_tag_ns;
	layer **layers;        /* bottom first */
	size_t nlayers;
	char **refs;           /* full references naming it (tags and digests) */
	size_t nrefs;
	char *summary;         /* its GET /images/json entry, NULL until listed */
} image;

struct berth_image_store {
	char *root;
	pthread_mutex_t mu;
	pthread_mutex_t wmu;
	map images;   /* "sha256:<hex>" -> image */
	map layers;   /* chain ID -> layer */
	map refs;     /* full reference -> image */
	berth_image_usage_fn usage;
	void *usage_ud;
};

/* --------------------------------------------------------------- helpers */

/* Path helpers: <root>/<what>/<hex of digest>. */
char *store_path(const berth_image_store *s, const char *what, const char *digest);
/* A fresh staging directory under <root>/tmp. */
int store_tmpdir(const berth_image_store *s, char **out, berth_error **err);
/* rm -rf, by renaming into tmp first so a crash never leaves half a tree in
 * a visible place. */
int store_remove_tree(const berth_image_store *s, const char *path, berth_error **err);
int remove_tree(const char *path);

/* Blobs. */
int blob_put(berth_image_store *s, const void *data, size_t len, char digest[DIGEST_LEN + 1],
	     berth_error **err);
int blob_get(berth_image_store *s, const char *digest, char **data, size_t *len,
	     berth_error **err);

/* Images (with mu held). */
image *image_lookup(berth_image_store *s, const char *name, berth_error **err);
int64_t image_size(const image *img);
bool image_has_children(berth_image_store *s, const image *img);
/* What containers use an image (nothing without the container module). */
void image_usage(berth_image_store *s, const image *img, berth_image_usage *out);
bool image_tagged(const image *img);
void image_free(image *img);
/* Builds an image from its config bytes; its layers must be in the map. */
int image_from_config(berth_image_store *s, const char *id, const char *data, size_t len,
		      image **out, berth_error **err);
/* Makes an image exist from its config bytes (see image.c). */
int store_commit_image(berth_image_store *s, const char *config, size_t len, const char *parent,
		       char id_out[DIGEST_LEN + 1], berth_error **err);
/* Renders every image's list entry now rather than at the first list. */
void store_warm_summaries(berth_image_store *s);
/* A container config with every field of Go's container.Config. */
json_t *container_config_full(const json_t *cfg);
/* Writes the record file (parent, last tag time). */
int image_write_record(berth_image_store *s, const image *img, berth_error **err);
/* Chain IDs of a config's rootfs.diff_ids, bottom first. */
int config_chain(const json_t *config, char (**chains)[DIGEST_LEN + 1], char (**diffs)[DIGEST_LEN + 1],
		 size_t *n, berth_error **err);

/* Adds an image (config blob, record and layers already on disk) to the maps;
 * with mu held. Takes ownership. An existing image with that ID is kept. */
image *store_add_image(berth_image_store *s, image *img);
/* Drops an image from the maps (refs too) and unreferences its layers; with
 * mu held. Layers left unreferenced are appended to *dead. */
void store_drop_image(berth_image_store *s, image *img, layer ***dead, size_t *ndead);
void layer_unref(berth_image_store *s, layer *l, layer ***dead, size_t *ndead);
/* Removes the directories of dead layers and frees them (no lock needed). */
void layers_destroy(berth_image_store *s, layer **dead, size_t ndead);

/* Tag index (with mu held for the maps; persist with wmu held). */
void refs_add(berth_image_store *s, const char *full, image *img);
void refs_del(berth_image_store *s, const char *full);
int refs_persist(berth_image_store *s, berth_error **err);
int refs_load(berth_image_store *s, berth_error **err);
/* Adds a tag for an image, replacing an older holder: with wmu held. */
int store_set_tag(berth_image_store *s, const char *full, const char *id, berth_error **err);

/* Layers. */
int layers_load(berth_image_store *s, berth_error **err);
char *layer_dir(const berth_image_store *s, const char *chain);
/* Pins (refs++) the layers of a chain that exist; returns how many of the
 * first n are present, with mu held. */
layer *layer_get(berth_image_store *s, const char *chain);

/* ------------------------------------------------------------- extraction */

/* Reads the next bytes of a stream; 0 at the end, -1 on error. */
typedef berth_image_read_fn read_fn;

typedef struct extract_result {
	char diff_id[DIGEST_LEN + 1];    /* of the uncompressed tar */
	char blob_digest[DIGEST_LEN + 1]; /* of the bytes as read */
	int64_t size;
	int64_t tar_size;
} extract_result;

/* Extracts a (compressed) layer tar into dir/diff, converting whiteouts,
 * refusing unsafe entries, and writes dir/tar-split. On failure dir is left
 * for the caller to remove. */
int layer_extract(read_fn read, void *userdata, const char *dir, int flags, extract_result *res,
		  berth_error **err);
/* A flag of layer_extract: the caller hashes the bytes it gives (the blob
 * digest) itself, in parallel. Extraction then hashes only what it
 * decompressed (the diff ID), and nothing for an uncompressed layer, whose
 * diff ID is its blob digest: it leaves "" in the digests it did not
 * compute, for the caller to fill in. */
#define LAYER_BLOB_ELSEWHERE 1

/* A read_fn over memory. */
typedef struct mem_reader {
	const char *data;
	size_t len, off, chunk;
} mem_reader;
ssize_t mem_read(void *userdata, const void **buf, berth_error **err);

/*
 * Stages a layer: extracts it into a staging dir and, unless a layer with its
 * chain ID appeared meanwhile, moves it into layers/ and adds it to the map.
 * The result is pinned (refs++): the caller unpins with layer_unpin.
 * expect_diff may be NULL (import), then the chain is computed from parent.
 * index numbers the layer in messages, as dockerd does.
 */
int layer_register(berth_image_store *s, read_fn read, void *userdata, layer *parent,
		   const char *expect_diff, const char *expect_blob, int index, layer **out,
		   berth_error **err);
void layer_unpin(berth_image_store *s, layer *l);
/* Pins an existing layer; NULL when there is none. */
layer *layer_pin(berth_image_store *s, const char *chain);

/* layer_register in two steps, so that loads extract layers in parallel and
 * commit them in chain order: extraction into staging (any thread, no
 * lock), then the checks and the commit. A failed commit or a discard
 * removes the staging directory. */
typedef struct layer_stage {
	char *dir;
	extract_result res;
} layer_stage;
int layer_stage_extract(berth_image_store *s, read_fn read, void *userdata, int flags,
			layer_stage *st, berth_error **err);
int layer_stage_commit(berth_image_store *s, layer_stage *st, layer *parent,
		       const char *expect_diff, const char *expect_blob, int index, layer **out,
		       berth_error **err);
void layer_stage_discard(layer_stage *st);

/* tar-split: the raw tar bytes that are not file contents, and references
 * to the files whose contents fill the rest. */
typedef struct tarsplit_writer tarsplit_writer;
int tarsplit_open(const char *path, tarsplit_writer **out, berth_error **err);
void tarsplit_raw(tarsplit_writer *w, const void *data, size_t len);
void tarsplit_file(tarsplit_writer *w, const char *path, int64_t size);
int tarsplit_close(tarsplit_writer *w, bool commit, berth_error **err);
/* Rebuilds the layer tar of a layer directory; checks its digest. */
int tarsplit_assemble(const char *layer_dir, const char *diff_id, berth_image_write_fn write,
		      void *userdata, berth_error **err);

/* Progress in dockerd's jsonmessage shape. */
json_t *progress_message(const char *id, const char *action, int64_t current, int64_t total);
json_t *stream_message(const char *text);

typedef struct progress_reader {
	read_fn inner;
	void *inner_ud;
	berth_image_progress_fn out; /* NULL: quiet */
	void *out_ud;
	const char *id, *action;
	int64_t current, total, last;
	bool done;
} progress_reader;
ssize_t progress_read(void *userdata, const void **buf, berth_error **err);

/* JSON helpers. */
int64_t parse_rfc3339(const char *s);
/* Go's RFC3339Nano: fraction without trailing zeros. */
void format_go_time(int64_t ns, char *out, size_t outlen);
/* Canonical JSON as Go's encoding/json writes it (compact, no escaping of
 * '/'); never NULL. */
char *json_go_dump(const json_t *j);

/* The host platform as Go names it. */
const char *host_arch(void);

#endif
