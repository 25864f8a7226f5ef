/*
 * oci.h - the OCI runtime spec (runc's config.json) of a container, built the
 * way dockerd builds it (moby's daemon/oci_linux.go, oci/defaults.go,
 * daemon/create.go's merge, profiles/seccomp).
 *
 * One call turns what the container module knows into a spec:
 *
 *   berth_oci_input in = {
 *           .id = id, .image_config = img, .config = cfg, .host_config = hc,
 *           .rootfs = merged_dir, .hosts_path = ..., .hostname_path = ...,
 *           .resolv_conf_path = ..., .mounts = volume_mounts,
 *           .cgroup_driver = "cgroupfs", .cgroup2 = berth_oci_cgroup2_host(),
 *   };
 *   json_t *spec cleanup_json = NULL;
 *   if (berth_oci_spec_generate(&in, &spec, &err) < 0 ||
 *       berth_oci_spec_write(spec, "<bundle>/config.json", &err) < 0)
 *           ...
 *
 * The generator is pure in the sense that matters for tests: it only reads
 * JSON in and hands JSON back. The few facts it takes from the host are the
 * ones dockerd takes too: /etc/passwd and /etc/group inside the rootfs (the
 * user), device nodes (Devices, --privileged, blkio device limits), the
 * seccomp profile file, the capabilities the daemon holds (what "ALL" means),
 * the kernel version (seccomp's minKernel), whether the default network
 * sysctls exist, whether a cgroup v1 host accounts swap, berthd's own
 * RLIMIT_NOFILE, and the host's name (NetworkMode host).
 *
 * Errors follow common.h: 400 with Docker's wording for what the request got
 * wrong ("unknown capability: \"CAP_FOO\"", "unable to find user foo: no
 * matching entries in passwd file", "No command specified"), 500 for the host.
 */
#ifndef BERTH_OCI_H
#define BERTH_OCI_H

#include <stdint.h>

#include "common.h"

/* The runtime-spec version written into ociVersion (runc 1.1 and crun read it). */
#define BERTH_OCI_VERSION "1.0.2"

/* Docker's default seccomp profile as installed; berthd passes the installed
 * path in berth_oci_input.seccomp_profile, tests the tree's
 * contrib/seccomp/default.json. */
#ifndef BERTH_OCI_SECCOMP_PROFILE
#define BERTH_OCI_SECCOMP_PROFILE "/usr/local/share/berth/seccomp/default.json"
#endif

/* --init: Debian's tini, bind-mounted where docker-init goes. The static
 * build from the same package: /usr/bin/tini needs glibc, which busybox or
 * alpine images do not have (Docker's docker-init is static too). */
#ifndef BERTH_OCI_INIT_PATH
#define BERTH_OCI_INIT_PATH "/usr/bin/tini-static"
#endif
#define BERTH_OCI_INIT_TARGET "/sbin/docker-init"

/* dockerd's defaults. */
#define BERTH_OCI_DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
#define BERTH_OCI_DEFAULT_SHM_SIZE (64LL * 1024 * 1024)
/* RLIMIT_NOFILE when neither the container nor the daemon sets "nofile": what
 * a dockerd container inherits under systemd (LimitNOFILE=1024:524288),
 * lowered to berthd's own hard limit when that is smaller (raising it needs
 * CAP_SYS_RESOURCE). */
#define BERTH_OCI_NOFILE_SOFT 1024
#define BERTH_OCI_NOFILE_HARD 524288

/*
 * What the container module hands the generator. Everything but id and
 * rootfs may be NULL/false; JSON objects are only read.
 */
typedef struct berth_oci_input {
	const char *id;                 /* the 64-hex container ID */

	/* Docker shapes: the image config's "config" object (Env, Cmd,
	 * Entrypoint, WorkingDir, User, ...) and the create request's Config
	 * and HostConfig as the client sent them. The generator applies
	 * dockerd's merge of image and request itself (berth_oci_config_merge);
	 * a caller that stores the merged Config sets config_merged. An empty
	 * Config.Hostname becomes what dockerd fills in at create: the short
	 * ID, or the host's name with NetworkMode host; with NetworkMode
	 * "container:<x>" the caller puts x's Hostname/Domainname there. */
	const json_t *image_config;
	const json_t *config;
	const json_t *host_config;
	bool config_merged;

	const char *rootfs;             /* the container's overlay mount */
	/* The container's own files, bind-mounted (rw unless ReadonlyRootfs)
	 * on /etc/hosts, /etc/hostname, /etc/resolv.conf; NULL: not mounted. */
	const char *hosts_path;
	const char *hostname_path;
	const char *resolv_conf_path;
	/* Volumes, binds and --mount results: an array of OCI mounts
	 * ({destination, type, source, options}) used as they are. */
	const json_t *mounts;

	/* cgroupsPath: "cgroupfs" (default) gives <parent>/<id> with parent
	 * "/berth"; "systemd" gives <parent>:berth:<id> with parent
	 * "system.slice". HostConfig.CgroupParent, then cgroup_parent (the
	 * daemon's --cgroup-parent), replace the parent. */
	const char *cgroup_driver;
	const char *cgroup_parent;
	bool cgroup2;                   /* unified hierarchy: private cgroupns by default */

	/* Namespaces to join, which only the caller can know: NetworkMode
	 * "container:<x>" (or a network namespace the caller made for a
	 * bridge network; NULL there means a fresh one), PidMode and IpcMode
	 * "container:<x>" (/proc/<pid>/ns/...). */
	const char *netns_path;
	const char *pidns_path;
	const char *ipcns_path;
	/* The directory bind-mounted on /dev/shm for IpcMode "shareable",
	 * "container:<x>" (the other container's) and "host" (default
	 * /dev/shm). NULL for shareable/container: a private tmpfs. */
	const char *shm_path;

	const char *init_path;          /* NULL: BERTH_OCI_INIT_PATH */
	bool init_default;              /* dockerd --init: when HostConfig.Init is null */
	bool no_new_privileges_default; /* dockerd --no-new-privileges */
	/* The default seccomp profile file (Docker's format; NULL:
	 * BERTH_OCI_SECCOMP_PROFILE); "unconfined" runs without one, as
	 * dockerd --seccomp-profile=unconfined does. */
	const char *seccomp_profile;
	/* daemon.json "default-ulimits": {"nofile": {"Name":..,"Soft":..,"Hard":..}} */
	const json_t *default_ulimits;
	bool console;                   /* process.terminal: a TTY is wanted (Config.Tty) */
} berth_oci_input;

/* Builds the spec. *spec is a new object the caller owns. */
int berth_oci_spec_generate(const berth_oci_input *in, json_t **spec, berth_error **err);

/* Serializes a spec as runc reads it. Use these rather than json_dumps: an
 * unlimited ulimit (-1) is RLIM_INFINITY, 2^64-1, which jansson cannot hold
 * as an integer (the spec carries BERTH_OCI_RLIM_INFINITY instead). */
#define BERTH_OCI_RLIM_INFINITY INT64_MIN
char *berth_oci_spec_dump(const json_t *spec);
/* Writes config.json atomically (mode 0600: it holds the environment). */
int berth_oci_spec_write(const json_t *spec, const char *path, berth_error **err);

/* ------------------------------------------------------- the pieces */

/*
 * dockerd's merge of the image config into the request's Config, in place
 * (what `docker inspect` then shows as Config): User, WorkingDir,
 * StopSignal, Env (request's first, then the image's keys it lacks),
 * ExposedPorts, Volumes, Labels, Healthcheck, and Entrypoint/Cmd: an
 * Entrypoint in the request replaces the image's and drops the image's Cmd
 * unless the request has one; Entrypoint [""] clears it. String forms of
 * Cmd/Entrypoint become arrays. image_config may be NULL.
 */
int berth_oci_config_merge(json_t *config, const json_t *image_config, berth_error **err);

/* process.args of a merged Config: Entrypoint + Cmd, or Cmd.
 * 400 "No command specified" when both are empty. */
int berth_oci_command(const json_t *config, json_t **argv, berth_error **err);

/* process.env of a merged Config: PATH (default unless set), HOSTNAME,
 * TERM=xterm with a TTY, then Config.Env replacing by key ("KEY" alone
 * unsets). */
json_t *berth_oci_env(const json_t *config, const char *hostname, bool tty);

/*
 * Resolves "", "name", "uid", "name:group", "uid:gid" like runc's
 * GetExecUser against <rootfs>/etc/passwd and /etc/group (missing files
 * are fine for numeric IDs). *additional_gids gets a new array: the primary
 * gid, then the user's supplementary groups (only when no group was given).
 * 400 "unable to find user foo: no matching entries in passwd file",
 * "unable to find group bar: no matching entries in group file".
 */
int berth_oci_user_resolve(const char *rootfs, const char *user, uint32_t *uid, uint32_t *gid,
			   json_t **additional_gids, berth_error **err);
/* HostConfig.GroupAdd (names or gids) appended to gids, skipping repeats.
 * 400 "Unable to find group foo". */
int berth_oci_groups_add(const char *rootfs, const json_t *group_add, json_t *gids,
			 berth_error **err);

/* The capability list for CapAdd/CapDrop (names with or without CAP_, any
 * case, "ALL") and Privileged, as moby's TweakCapabilities. 400 "unknown
 * capability: \"CAP_FOO\"". */
int berth_oci_caps(const json_t *cap_add, const json_t *cap_drop, bool privileged, json_t **caps,
		   berth_error **err);

/* A Docker-format seccomp profile (JSON text) resolved to an OCI
 * linux.seccomp object for this machine's architecture, kernel and the
 * container's bounding capabilities (includes/excludes). *seccomp is NULL
 * when the profile disables seccomp. 400 "Decoding seccomp profile failed:
 * ...". */
int berth_oci_seccomp_resolve(const char *profile, size_t len, const json_t *caps,
			      json_t **seccomp, berth_error **err);

/* Docker's tmpfs options: "noexec,nosuid,nodev,rprivate" merged with the
 * user's (later wins per flag or key). 400 "invalid tmpfs option [\"x\"]". */
int berth_oci_tmpfs_options(const char *data, json_t **options, berth_error **err);

/*
 * The checks dockerd makes on a HostConfig at create (and that the generator
 * repeats): memory/swap/reservation minimums and order, CPU period/quota
 * ranges and NanoCpus conflicts, blkio weight, OomScoreAdj, ShmSize, the
 * namespace modes, SecurityOpt syntax, Tmpfs destinations. Warnings, when
 * not NULL, is an array that gets Docker's warning strings.
 */
int berth_oci_hostconfig_validate(const json_t *host_config, json_t *warnings, berth_error **err);

/* linux.resources (memory, cpu, pids, blockIO) of a HostConfig alone, as
 * the spec would carry them: what `runc update --resources` takes for
 * POST /containers/{id}/update. *resources is a new object. */
int berth_oci_resources(const json_t *host_config, bool cgroup2, json_t **resources,
			berth_error **err);

/* True when /sys/fs/cgroup is the cgroup v2 unified hierarchy. */
bool berth_oci_cgroup2_host(void);

#endif
