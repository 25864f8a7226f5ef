/*
 * volume.h - named volumes (the "local" driver) and the mounts of containers:
 * bind mounts, volumes and tmpfs.
 *
 * On disk, under <data-root>/volumes, dockerd's layout:
 *
 *   <name>/_data          the volume's content, or where its device is mounted
 *   <name>/opts.json      driver options as dockerd writes them
 *                         {"MountType","MountOpts","MountDevice","Quota"}; only
 *                         for volumes created with type/device/o
 *   <name>/meta.json      what dockerd keeps in metadata.db: name, driver,
 *                         labels, options, creation time
 *   .containers/<id>.json the mounts resolved for one container (the
 *                         references that make a volume "in use", and whether
 *                         the container runs, i.e. holds its volumes mounted)
 *   .tmp-*, .trash-*      staging and removal; emptied at open
 *
 * A volume becomes visible through one rename of its staged directory and
 * disappears through one rename into the trash, so a crash leaves it whole or
 * absent. Volume names cannot start with '.', so the dot entries never clash.
 *
 * Container lifecycle (engine/container calls these, in the thread pool):
 *
 *   create  berth_volume_resolve_mounts()   validate, create volumes, reference
 *   start   berth_volume_mount()            mount device volumes on first use,
 *                                           copy the image's content up, give
 *                                           the spec's mounts; "mount" events
 *   stop    berth_volume_unmount()          "unmount" events; the last user of
 *                                           a device volume unmounts it
 *   rm      berth_volume_release()          drop the references (rm -v: and
 *                                           the container's anonymous volumes)
 *
 * The references survive berthd restarts in .containers/, so a restarted
 * daemon still refuses to remove a volume a container uses, and containers
 * that kept running (live restore) keep their device volumes mounted.
 *
 * Threads: every function is safe from any thread and may block (disk,
 * mount(2), the store's mutex, which is held across small disk writes): call
 * them from the thread pool (berth_api_defer), never on the loop. Copying a
 * volume's content up and sizing volumes for df run outside the mutex.
 *
 * Events (volume create/destroy/mount/unmount/prune, with Docker's
 * attributes) are queued by whatever thread causes them and published on the
 * loop: berth_volume_store_publish_to() wires the queue to the event bus.
 */
#ifndef BERTH_VOLUME_H
#define BERTH_VOLUME_H

#include <uv.h>

#include "common.h"

typedef struct berth_volume_store berth_volume_store;
struct berth_events;

/* The label dockerd gives volumes created without a name. */
#define BERTH_VOLUME_ANONYMOUS_LABEL "com.docker.volume.anonymous"

/* ------------------------------------------------------------------ store */

int berth_volume_store_open(const char *data_root, berth_volume_store **out, berth_error **err);
void berth_volume_store_close(berth_volume_store *s);
/* <data-root>/volumes */
const char *berth_volume_store_root(const berth_volume_store *s);

/* Publishes queued events on bus from the loop (call on the loop thread,
 * once, after open). Without it events stay queued for
 * berth_volume_events_take(). */
void berth_volume_store_publish_to(berth_volume_store *s, uv_loop_t *loop,
				   struct berth_events *bus);
/* Publishes what is queued now; on the loop thread. API handlers call it
 * before replying so a client sees the events of what it just did. */
void berth_volume_events_flush(berth_volume_store *s);
/* The queued events, oldest first: [{"Action","ID","Attributes"}, ...]. */
json_t *berth_volume_events_take(berth_volume_store *s);

/* ---------------------------------------------------------------- volumes */

/*
 * POST /volumes/create. name NULL or "" makes an anonymous volume (64 hex
 * characters, labelled BERTH_VOLUME_ANONYMOUS_LABEL). driver NULL, "" or
 * "local"; driver_opts and labels are objects of strings (may be NULL).
 * Creating a volume that exists returns it unchanged, as dockerd does.
 * *out gets Docker's Volume object. Errors in dockerd's wording: 400
 * `create x: volume name is too short, ...`, `create x: invalid option: "foo"`,
 * 404 `create x: error looking up volume plugin foo: plugin "foo" not found`.
 */
int berth_volume_create(berth_volume_store *s, const char *name, const char *driver,
			const json_t *driver_opts, const json_t *labels, json_t **out,
			berth_error **err);
/* GET /volumes/{name}. 404 `get x: no such volume`. */
int berth_volume_inspect(berth_volume_store *s, const char *name, json_t **out, berth_error **err);

/* GET /volumes: Docker's Volume objects sorted by name. f may hold dangling,
 * driver, label and name (a regular expression, as dockerd matches it); 400
 * for other keys and for a dangling value that is not a boolean. */
int berth_volume_list(berth_volume_store *s, const berth_filters *f, json_t **out,
		      berth_error **err);

/* DELETE /volumes/{name}. 409 `remove x: volume is in use - [id, ...]`
 * (force does not change that, as in dockerd); with force a missing volume
 * is not an error. Publishes "destroy". */
int berth_volume_remove(berth_volume_store *s, const char *name, bool force, berth_error **err);

/*
 * POST /volumes/prune: removes the local volumes no container references,
 * skipping those with driver options (dockerd's rule: their space is not
 * local). f holds label, label! and all; without all=true only anonymous
 * volumes go (API >= 1.42: the API layer adds all=true for older clients).
 * *report: {"VolumesDeleted": [...], "SpaceReclaimed": N}. Publishes
 * "destroy" for each and one "prune". 409 when a prune is running.
 */
int berth_volume_prune(berth_volume_store *s, const berth_filters *f, json_t **report,
		       berth_error **err);

/* The volumes part of GET /system/df: the local volumes without driver
 * options, each a Volume object with "UsageData": {"Size": N, "RefCount": N}
 * (Size -1 when it cannot be measured). Walks every volume: slow. */
int berth_volume_df(berth_volume_store *s, json_t **out, berth_error **err);

/* ------------------------------------------------------- container mounts */

/* Resolves a HostConfig.VolumesFrom entry's container name or ID prefix to
 * the container's full ID; 404 "No such container: x" style errors. */
typedef int (*berth_volume_container_fn)(void *userdata, const char *name_or_id, char **id,
					 berth_error **err);

typedef struct berth_volume_from {
	berth_volume_container_fn resolve;
	void *userdata;
} berth_volume_from;

/*
 * At container create. hostconfig is the create request's HostConfig (Binds,
 * Mounts, Tmpfs, VolumesFrom, VolumeDriver are read); image_volumes is the
 * merged Config.Volumes object ({"/data": {}}) of the image and the request
 * (may be NULL). Validates everything first, with dockerd's errors (400:
 * `invalid volume specification: 'a:b:c:d'`, `invalid mode: foo`,
 * `invalid mount config for type "bind": bind source path does not exist: /x`,
 * `Duplicate mount point: /a`, ...), then creates the named and anonymous
 * volumes it needs and records the container's references.
 *
 * rootfs_path (may be NULL) is the container's root filesystem: with it,
 * image volumes over a file are refused as dockerd does, and empty volumes
 * get the image's content copied up now; without it the copy waits for
 * berth_volume_mount(). from resolves VolumesFrom names (NULL: every name is
 * "No such container").
 *
 * *oci_mounts (may be NULL): the runtime spec's mounts, sorted parents
 * first, [{"destination","type","source","options"}]. *mount_points: Docker's
 * inspect "Mounts" array [{Type, Name, Source, Destination, Driver, Mode, RW,
 * Propagation}]. Calling it again for the same container keeps its earlier
 * mounts (and anonymous volumes) where the new config does not replace them.
 */
int berth_volume_resolve_mounts(berth_volume_store *s, const char *container_id,
				const json_t *hostconfig, const json_t *image_volumes,
				const char *rootfs_path, const berth_volume_from *from,
				json_t **oci_mounts, json_t **mount_points, berth_error **err);

/* At container start: mounts device volumes (type/device/o) their first
 * user needs, creates missing -v host directories, copies image content into
 * empty volumes that still want it (rootfs_path may be NULL to skip), and
 * gives the spec's mounts. Publishes "mount" per volume. Calling it for a
 * running container just gives the mounts again. A container without mounts
 * gets []. Error: `error while mounting volume '<path>': failed to mount
 * local volume: mount ...: <reason>`. */
int berth_volume_mount(berth_volume_store *s, const char *container_id, const char *rootfs_path,
		       json_t **oci_mounts, berth_error **err);
/* At container stop (and for a container found dead after a restart):
 * publishes "unmount" per volume; the last user of a device volume unmounts
 * it. A container that is not mounted is a no-op. */
void berth_volume_unmount(berth_volume_store *s, const char *container_id);
/* At container removal: unmounts if needed and drops the container's
 * references; with remove_anonymous (rm -v, --rm) also removes its anonymous
 * volumes that no other container uses. Returns -1 when one of those could
 * not be removed (the references are gone either way). */
int berth_volume_release(berth_volume_store *s, const char *container_id, bool remove_anonymous,
			 berth_error **err);

/* At daemon start, once the containers are loaded: fn tells whether a
 * container exists and whether it runs. Records of containers that are gone
 * (removed while berthd was down, or a create that failed after resolving)
 * are released, keeping their volumes; containers that died meanwhile are
 * unmounted. */
typedef bool (*berth_volume_container_state_fn)(void *userdata, const char *container_id,
						bool *running);
void berth_volume_sync_containers(berth_volume_store *s, berth_volume_container_state_fn fn,
				  void *userdata);

/* The inspect "Mounts" of a container (for GET /containers/{id}/json and the
 * `volume` filter of GET /containers/json); [] when it has none. */
json_t *berth_volume_container_mounts(berth_volume_store *s, const char *container_id);

#endif
