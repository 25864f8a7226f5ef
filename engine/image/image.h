/*
 * image.h - the image store: content-addressed images and their layers.
 *
 * On disk, under <data-root>/image:
 *
 *   blobs/sha256/<hex>      content store: image configs as stored (an image
 *                           ID is the sha256 of these bytes, as in dockerd)
 *   images/<hex>            one record per image: parent, last tag time; its
 *                           presence is what makes an image exist
 *   repositories.json       the tag index, dockerd's shape: full reference
 *                           ("docker.io/library/busybox:latest") -> image ID
 *   layers/<chain-hex>/     one extracted layer: diff/ (the directory overlayfs
 *                           stacks), meta.json (diff ID, parent, sizes) and
 *                           tar-split (how to rebuild the layer tar byte for
 *                           byte from diff/, so save reproduces the diff ID)
 *   tmp/                    staging; emptied at open
 *
 * Every change becomes visible through one rename (a layer directory, a blob,
 * an image record, the tag index), so a crash leaves the old state or the new
 * one. What a crash strands (staging, layers and blobs no image references)
 * is collected at open.
 *
 * Threads: every function is safe to call from any thread. Reads (list,
 * inspect, history, df) only touch memory and may run on the loop; anything
 * that writes (load, save, import, tag, delete, prune, mount) blocks on disk
 * and belongs in the thread pool (berth_api_defer).
 */
#ifndef BERTH_IMAGE_H
#define BERTH_IMAGE_H

#include <sys/types.h>

#include "common.h"

typedef struct berth_image_store berth_image_store;

/* ------------------------------------------------------------ references */

/*
 * A normalized reference, as distribution/reference's ParseNormalizedNamed
 * gives it: "busybox" is name "docker.io/library/busybox", tag NULL.
 */
typedef struct berth_image_ref {
	char *name;   /* "docker.io/library/busybox", "localhost:5000/a/b" */
	char *tag;    /* "latest", or NULL */
	char *digest; /* "sha256:<hex>", or NULL */
} berth_image_ref;

/* Errors are 400 with distribution/reference's wording ("invalid reference
 * format", "... must be lowercase", "cannot specify 64-byte hexadecimal"). */
int berth_image_ref_parse(const char *s, berth_image_ref *out, berth_error **err);
void berth_image_ref_reset(berth_image_ref *r);
/* "docker.io/library/busybox:latest" (the name when neither tag nor digest). */
char *berth_image_ref_string(const berth_image_ref *r);
/* As the docker CLI shows it: "busybox:latest", "localhost:5000/a/b@sha256:..". */
char *berth_image_ref_familiar(const berth_image_ref *r);
/* "busybox" for a full name "docker.io/library/busybox". */
char *berth_image_familiar_name(const char *name);
/* Familiar form of a full reference string (a key of the tag index). */
char *berth_image_familiar_string(const char *full);

/* ------------------------------------------------------------------ store */

int berth_image_store_open(const char *data_root, berth_image_store **out, berth_error **err);
void berth_image_store_close(berth_image_store *s);
/* <data-root>/image */
const char *berth_image_store_root(const berth_image_store *s);

/*
 * The container module tells the store which images containers use, so that
 * delete and prune answer 409 as dockerd does and df counts them. The
 * callback runs with the store's lock held: it must not call back into the
 * store. IDs it gives must stay valid until it is called again.
 */
typedef struct berth_image_usage {
	int count;           /* containers using the image */
	const char *running; /* a running one's ID, or NULL */
	const char *stopped; /* a stopped one's ID, or NULL */
} berth_image_usage;
typedef void (*berth_image_usage_fn)(void *userdata, const char *image_id,
				     berth_image_usage *out);
void berth_image_store_set_usage(berth_image_store *s, berth_image_usage_fn fn, void *userdata);

/* Resolves a name as dockerd's GetImage: a full ID ("sha256:<hex>" or 64 hex),
 * a reference in the tag index, else a unique ID prefix. *id gets
 * "sha256:<hex>". 404 "No such image: busybox:latest". */
int berth_image_resolve(berth_image_store *s, const char *name, char **id, berth_error **err);

/* ------------------------------------------------------------------ reads */

typedef struct berth_image_filters {
	bool all;
	int dangling;           /* -1 unset, 0 false, 1 true */
	char *const *labels;     /* "k" or "k=v"; NULL-terminated or NULL */
	char *const *labels_not; /* label! */
	char *const *references; /* shell patterns against familiar references */
	char *const *before;     /* image names */
	char *const *since;
	int64_t until_ns;       /* 0: unset */
} berth_image_filters;

/* GET /images/json: Docker's ImageSummary objects, newest first (RepoTags and
 * RepoDigests arrays are empty for untagged images; the API adds the legacy
 * "<none>" placeholders for old versions). */
int berth_image_list(berth_image_store *s, const berth_image_filters *f, json_t **out,
		     berth_error **err);
/* The same list as JSON text, API 1.44+ shape: entries are cached, so a
 * thousand images list in a few milliseconds. */
int berth_image_list_text(berth_image_store *s, const berth_image_filters *f, char **out,
			  berth_error **err);
/* GET /images/{name}/json, API 1.47 shape. */
int berth_image_inspect(berth_image_store *s, const char *name, json_t **out, berth_error **err);
/* GET /images/{name}/history, newest first. */
int berth_image_history(berth_image_store *s, const char *name, json_t **out, berth_error **err);
/* The images part of GET /system/df: {"LayersSize": N, "Images": [...]}. */
int berth_image_df(berth_image_store *s, json_t **out, berth_error **err);
/* The parsed config of an image (a new reference), for containers. */
int berth_image_config(berth_image_store *s, const char *id, json_t **out, berth_error **err);
/* A container config with every member Go's encoding/json writes for
 * dockerd's container.Config (zero values filled in, omitempty ones left
 * out when absent, unknown ones dropped): configs the builder writes are
 * shaped as dockerd's. A new reference; NULL or a non-object gives the
 * zero config. */
json_t *berth_image_config_full(const json_t *config);
/* Attributes for an image event: {"name": name} plus the image's labels. */
json_t *berth_image_event_attributes(berth_image_store *s, const char *id, const char *name);

/* ---------------------------------------------------------------- changes */

/* POST /images/{name}/tag. *id and *familiar (may be NULL) describe the
 * result for the "tag" event. */
int berth_image_tag(berth_image_store *s, const char *name, const char *repo, const char *tag,
		    char **id, char **familiar, berth_error **err);

/* DELETE /images/{name}: *report gets dockerd's list of {"Untagged": ..} and
 * {"Deleted": ..}, in order; *events (may be NULL) the events to publish,
 * [["untag" or "delete", image ID], ...]. */
int berth_image_delete(berth_image_store *s, const char *name, bool force, bool prune,
		       json_t **report, json_t **events, berth_error **err);

/* POST /images/prune (filters dangling, until, label, label!):
 * {"ImagesDeleted": [...] or null, "SpaceReclaimed": N}; events as above. */
int berth_image_prune(berth_image_store *s, const berth_image_filters *f, json_t **report,
		      json_t **events, berth_error **err);

/* -------------------------------------------------------- archives, import */

/* Progress of a long operation, called from the working thread: one
 * newline-free JSON message in dockerd's jsonmessage shape at a time. */
typedef void (*berth_image_progress_fn)(void *userdata, json_t *msg);

/* Where an archive comes from: all of it in memory (a request body). */
typedef struct berth_image_source {
	const void *data;
	size_t len;
} berth_image_source;

/*
 * POST /images/load: a docker-archive (manifest.json, repositories, configs
 * and layer tars, in the pre-25 or the 25+ layout) or an OCI image layout
 * archive, optionally compressed. Layers are checked against the config's
 * diff IDs before the image becomes visible. `out` receives the messages
 * dockerd streams: {"stream": "Loaded image: busybox:latest\n"} always,
 * "Loading layer" progress unless quiet. *loaded gets the IDs loaded, for
 * the "load" events.
 */
int berth_image_load(berth_image_store *s, const berth_image_source *src, bool quiet,
		     berth_image_progress_fn out, void *userdata, json_t **loaded,
		     berth_error **err);

/* Writes archive bytes; returns -1 (with *err) to abort. */
typedef int (*berth_image_write_fn)(void *userdata, const void *data, size_t len,
				    berth_error **err);

/*
 * GET /images/{name}/get and /images/get?names=: docker save's format with
 * the OCI index as Docker 25+ writes it. Saving has two steps so that a bad
 * name is an HTTP error before the first byte: prepare resolves the names
 * and pins the images' layers (memory only), write produces the archive
 * (disk; the thread pool).
 */
typedef struct berth_image_save_plan berth_image_save_plan;
int berth_image_save_prepare(berth_image_store *s, char *const *names,
			     berth_image_save_plan **out, berth_error **err);
int berth_image_save_write(berth_image_save_plan *p, berth_image_write_fn write, void *userdata,
			   berth_error **err);
/* The IDs saved, for the "save" events. */
json_t *berth_image_save_ids(const berth_image_save_plan *p);
void berth_image_save_free(berth_image_save_plan *p);
/* The three in one. */
int berth_image_save(berth_image_store *s, char *const *names, berth_image_write_fn write,
		     void *userdata, json_t **ids, berth_error **err);

/* One line of a progress stream as dockerd writes it: Go's JSON escaping,
 * then "\r\n". */
char *berth_image_json_line(const json_t *msg);

typedef struct berth_image_import_opts {
	const char *repo;      /* may be NULL or "" */
	const char *tag;
	const char *message;   /* the comment; NULL gives "Imported from -" */
	char *const *changes;  /* Dockerfile instructions: CMD, ENV, WORKDIR... */
	const char *platform;  /* "linux/amd64"; NULL for the host's */
} berth_image_import_opts;

/* POST /images/create?fromSrc=-: the body is a (compressed) tar of a root
 * filesystem. *id gets the new image's ID. */
int berth_image_import(berth_image_store *s, const berth_image_source *src,
		       const berth_image_import_opts *opts, char **id, berth_error **err);

/* Applies Dockerfile-style changes ("CMD [\"sh\"]", "ENV A=b") to a
 * container config object in place. 400 "X is not a valid change command". */
int berth_image_apply_changes(json_t *config, char *const *changes, berth_error **err);

/* --------------------------------------------------- layers for containers */

/*
 * Mounts an image's layers as an overlay root at <dir>/merged, with <dir>/upper
 * and <dir>/work (created when missing: a fresh upper for a new container).
 * The layers stay pinned until berth_image_unmount, which finds them again
 * through <dir>/layers. *merged gets the mount point.
 */
int berth_image_mount(berth_image_store *s, const char *image_id, const char *dir, char **merged,
		      berth_error **err);
int berth_image_unmount(berth_image_store *s, const char *dir, berth_error **err);
/* After a restart: counts again the pins of a root mounted at dir before
 * (its <dir>/layers record), so that the unmount to come balances them. */
int berth_image_repin(berth_image_store *s, const char *dir, berth_error **err);

/* Writes the changes recorded in an overlay upper dir as a layer tar with
 * whiteouts (.wh.name for a whiteout device, .wh..wh..opq for an opaque
 * directory), for commit and the builder. */
int berth_image_diff(const char *upper, berth_image_write_fn write, void *userdata,
		     berth_error **err);

/*
 * Registers a new image from a layer tar (uncompressed or compressed) on top
 * of parent_id's layers (NULL for none) and a config whose rootfs.diff_ids the
 * store completes: config is a JSON object without rootfs, history appended by
 * the caller. For commit and the builder. *id gets the image ID. A NULL
 * layer adds none (the builder's metadata-only steps).
 */
int berth_image_create(berth_image_store *s, const char *parent_id, const berth_image_source *layer,
		       json_t *config, char **id, berth_error **err);

/* Registers an image whose config (rootfs included) names only layers the
 * store has: the builder's --cache-from, which rebuilds an image's ancestor
 * from the layers it shares with it. 404 when a layer is missing. */
int berth_image_create_config(berth_image_store *s, const char *parent_id, json_t *config,
			      char **id, berth_error **err);

/* ------------------------------------------------------- registry pulls */

/* Reads the next bytes of a stream into *buf (valid until the next call);
 * 0 at the end, -1 with *err on failure. */
typedef ssize_t (*berth_image_read_fn)(void *userdata, const void **buf, berth_error **err);

/*
 * An image arriving from a registry: start with its config (which layers
 * the store has already are pinned), extract each missing layer from its
 * stream as it arrives (any thread, several at once), then commit: layers
 * bottom up, checked against the config's diff IDs and blobs[i] (the
 * manifest's digests, as the streams' bytes were), then the image and refs
 * (full references, tags and "name@digest"). Nothing is visible before the
 * commit, and free after a failure leaves nothing behind. Blocking.
 */
typedef struct berth_image_pull berth_image_pull;
int berth_image_pull_start(berth_image_store *s, const char *config, size_t len,
			   size_t nlayers, berth_image_pull **out, berth_error **err);
/* "sha256:<hex>" of the config: the image ID. */
const char *berth_image_pull_id(const berth_image_pull *p);
bool berth_image_pull_have(const berth_image_pull *p, size_t i);
const char *berth_image_pull_diff_id(const berth_image_pull *p, size_t i);
int berth_image_pull_layer(berth_image_pull *p, size_t i, berth_image_read_fn read,
			   void *userdata, berth_error **err);
int berth_image_pull_commit(berth_image_pull *p, char *const *blobs, char *const *refs,
			    berth_error **err);
void berth_image_pull_free(berth_image_pull *p);

/* An image's config and layer tars for a push; its layers stay pinned until
 * close. Layer tars are rebuilt byte for byte (their diff IDs). */
typedef struct berth_image_layers berth_image_layers;
int berth_image_layers_open(berth_image_store *s, const char *name, berth_image_layers **out,
			    berth_error **err);
const char *berth_image_layers_id(const berth_image_layers *h);
const char *berth_image_layers_config(const berth_image_layers *h, size_t *len);
size_t berth_image_layers_count(const berth_image_layers *h);
const char *berth_image_layers_diff_id(const berth_image_layers *h, size_t i);
int64_t berth_image_layers_tar_size(const berth_image_layers *h, size_t i);
int berth_image_layers_write(const berth_image_layers *h, size_t i, berth_image_write_fn write,
			     void *userdata, berth_error **err);
void berth_image_layers_close(berth_image_layers *h);

/* Where a layer's compressed blob is known to exist: [{"Digest", "Size",
 * "SourceRepository"}], newest first (never NULL). Recorded by pulls and
 * pushes so that the next push skips or mounts the blob. */
json_t *berth_image_blob_sources(berth_image_store *s, const char *diff_id);
int berth_image_blob_source_add(berth_image_store *s, const char *diff_id, const char *digest,
				int64_t size, const char *repo, berth_error **err);

#endif
