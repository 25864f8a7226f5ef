/*
 * internal.h - shared by the volume module's files; not for other modules
 * (the unit tests include it for the parsers).
 *
 * Locking: `mu` guards the volume list, the container records and the
 * mounted state; it is held across the small disk writes that commit a
 * change (a meta.json, a record, a rename, mount(2)) so that a reference
 * check and the change it allows are one step. Long work runs outside it:
 * copying content up (serialized by `copy_mu` so two containers never fill
 * the same empty volume at once), sizing trees, deleting removed trees.
 * `ev_mu` guards only the event queue, so the loop never waits behind a disk.
 */
#ifndef BERTH_VOLUME_INTERNAL_H
#define BERTH_VOLUME_INTERNAL_H

#include <pthread.h>
#include <sys/stat.h>

#include "volume.h"

#define VOLUME_DRIVER "local"
#define CONTAINERS_DIR ".containers"

typedef struct volume {
	char *name;
	json_t *labels; /* object, or NULL when created without labels */
	json_t *options; /* driver options object, or NULL */
	int64_t created_ns;
	char *dir; /* <root>/<name> */
	char *path; /* <root>/<name>/_data: the Mountpoint */
	int active; /* running containers using it */
	bool mounted; /* its device is mounted on path */
} volume;

/*
 * A container's mounts, as resolved at create. Each mount point is an object
 * with Docker's inspect fields (Type, Name, Source, Destination, Driver,
 * Mode, RW, Propagation) and the ones the lifecycle needs:
 *   Anonymous     the user named no volume: rm -v removes it
 *   CopyData      copy the image's content up while the volume is empty
 *   CreateSource  a bind whose missing host directory is made at start (-v)
 *   TmpfsOptions  a tmpfs's data ("size=1m,mode=700")
 *   Hidden        from HostConfig.Tmpfs: not in inspect's Mounts, like dockerd
 *   Subpath       VolumeOptions.Subpath
 */
typedef struct container_rec {
	char *id;
	bool running;
	json_t *mounts;
} container_rec;

struct berth_volume_store {
	char *root;
	char *data_root; /* binds around it get rslave propagation */
	pthread_mutex_t mu;
	volume **vols;
	size_t nvols;
	container_rec **recs;
	size_t nrecs;
	bool pruning;
	pthread_mutex_t copy_mu;

	pthread_mutex_t ev_mu;
	json_t *events; /* queued [{"Action","ID","Attributes"}] */
	uv_async_t *async; /* wakes the loop to publish them */
	struct berth_events *bus;
};

/* ------------------------------------------------------------------ store */

/* With mu held. */
volume *store_find(const berth_volume_store *s, const char *name);
container_rec *store_record(const berth_volume_store *s, const char *id);
/* IDs of the containers whose records mount the volume (a new array). */
json_t *store_users(const berth_volume_store *s, const char *name);
/* A new, empty record in memory (mu held). */
container_rec *store_new_record(berth_volume_store *s, const char *id);
/* Writes a record atomically (mu held). */
int store_save_record(berth_volume_store *s, container_rec *r, berth_error **err);
void store_drop_record(berth_volume_store *s, const char *id);
void volume_free(volume *v);

/* Creates a local volume (mu held). *created tells whether it is new. */
int store_create(berth_volume_store *s, const char *name, const json_t *opts, const json_t *labels,
		 volume **out, bool *created, berth_error **err);
/* Takes it out of the store into the trash (mu held, no user check); the
 * returned trash path is deleted by the caller outside the lock. */
int store_unlink(berth_volume_store *s, volume *v, char **trash, berth_error **err);
/* Deletes a trash directory (no lock needed). */
void store_empty_trash(const char *trash);

/* Finds or creates a local volume (mu held): the driver is checked first,
 * an existing volume is returned as it is, a new name and its options are
 * checked; errors read "create <name>: ...". Queues "create". */
int volume_ensure(berth_volume_store *s, const char *name, const char *driver, const json_t *opts,
		  const json_t *labels, volume **out, bool *created, berth_error **err);
/* 404 `create <name>: error looking up volume plugin ...` unless local. */
int volume_check_driver(const char *name, const char *driver, berth_error **err);
/* Removes a volume no container uses (mu held; 409 when one does); the
 * caller empties *trash once unlocked. Queues "destroy". */
int volume_remove_locked(berth_volume_store *s, volume *v, char **trash, berth_error **err);

/* Docker's Volume object. */
json_t *volume_json(const volume *v);
bool volume_is_anonymous(const volume *v);

/* ----------------------------------------------------------------- events */

/* Queues an event; takes the reference to attrs. Any thread. */
void events_queue(berth_volume_store *s, const char *action, const char *id, json_t *attrs);
void events_close(berth_volume_store *s);

/* ---------------------------------------------------------------- options */

/* [a-zA-Z0-9][a-zA-Z0-9_.-]+, in dockerd's words (400, without the
 * "create <name>: " prefix the callers add). */
int volume_validate_name(const char *name, berth_error **err);
/* The local driver's options: type, device, o (size needs quotas: refused). */
int volume_validate_opts(const json_t *opts, berth_error **err);
/* dockerd's opts.json: {"MountType","MountOpts","MountDevice","Quota"}. */
char *volume_opts_file(const json_t *opts);
/* Mounts / unmounts the device of a volume with options (mu held). */
int volume_device_mount(volume *v, berth_error **err);
void volume_device_unmount(volume *v);
/* A mount(8) option's flag; false for data options ("size=1m").
 * *propagation tells the shared/private/slave/unbindable family. */
bool mount_option_flag(const char *name, unsigned long *flag, bool *propagation);
/* Whether path is a mount point (its device differs from its parent's). */
bool path_is_mountpoint(const char *path);

/* ----------------------------------------------------------------- parser */

/*
 * dockerd's volume/mounts Linux parser. Each gives a mount point object (see
 * container_rec) before volumes are created: a volume's Name may be "" (an
 * anonymous one) and its Source is filled at resolve; parse-only members
 * "VolumeLabels", "DriverOpts" (Mounts' VolumeOptions) and a bind's
 * "PropagationGiven" ride along.
 */
/* HostConfig.Binds entry: "/host:/ctr[:mode]", "name:/ctr[:mode]", "/ctr".
 * A bind's host path is not checked: dockerd creates it at start. */
int volume_parse_bind(const char *raw, const char *volume_driver, json_t **out, berth_error **err);
/* HostConfig.Mounts entry (a bind's source must exist unless
 * BindOptions.CreateMountpoint). */
int volume_parse_mount(const json_t *spec, json_t **out, berth_error **err);
/* HostConfig.Tmpfs entry. */
int volume_parse_tmpfs(const char *dest, const char *data, json_t **out, berth_error **err);
/* HostConfig.VolumesFrom entry "name[:mode]": *mode "rw" by default. */
int volume_parse_volumes_from(const char *spec, char **name, char **mode, berth_error **err);
/* Whether a Binds mode string is valid; and whether it leaves the mount
 * writable. */
bool volume_mode_valid(const char *mode);
bool volume_mode_rw(const char *mode);

/* ------------------------------------------------------------ mount points */

/* The inspect form of a mount point, or NULL for hidden ones. */
json_t *mount_point_inspect(const json_t *mp);
/* The runtime spec's mounts of a container's mount points, parents first.
 * 400 for tmpfs options the kernel would refuse, as dockerd's start does. */
int mount_points_oci(const json_t *mounts, json_t **out, berth_error **err);
/* Copies the image's content into the empty volumes that want it and clears
 * their CopyData (mu not held; takes it to update the record). */
int mounts_copy_up(berth_volume_store *s, const char *container_id, const char *rootfs,
		   berth_error **err);

/* --------------------------------------------------------------------- fs */

/*
 * Copies the content of directory src into the empty directory dst,
 * preserving file types, ownership, modes, times, extended attributes and
 * hard links; dst takes src's own ownership, mode and times. Never follows
 * symbolic links and never leaves src's file system.
 */
int fs_copy_tree(const char *src, const char *dst, berth_error **err);
/* Whether a directory has no entries (false when it cannot be read). */
bool fs_dir_empty(const char *path);
/* Bytes in a tree, as dockerd's directory.Size: regular files and links
 * once per inode, directories not counted; -1 on error. */
int64_t fs_tree_size(const char *path);
/* rm -rf that stays on path's file system. */
int fs_remove_tree(const char *path);
/* Resolves dest inside rootfs as if rootfs were "/", following symbolic
 * links without leaving it (dockerd's FollowSymlinkInScope). */
char *fs_scoped_path(const char *rootfs, const char *dest);

#endif
