/* oci_mounts.c - mounts, masked and read-only paths (moby's DefaultSpec
 * mounts and dockerd's WithMounts): the default filesystems, then the
 * container's own mounts (network files, /dev/shm, tmpfs, volumes) by
 * depth, --read-only and --privileged adjustments. */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MAX_OPTS 6

/* moby's oci/defaults.go, in its order. /dev/shm gets size= from ShmSize. */
static const struct {
	const char *dest, *type, *source;
	const char *opts[MAX_OPTS];
} default_mounts[] = {
	{"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
	{"/dev", "tmpfs", "tmpfs", {"nosuid", "strictatime", "mode=755", "size=65536k"}},
	{"/dev/pts", "devpts", "devpts",
	 {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"}},
	{"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
	{"/sys/fs/cgroup", "cgroup", "cgroup", {"ro", "nosuid", "noexec", "nodev"}},
	{"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
	{"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777"}},
};

static const char *const masked_paths[] = {
	"/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats",
	"/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi",
	"/sys/firmware", "/sys/devices/virtual/powercap",
};

static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

/* Left writable under --read-only: the kernel's own filesystems. */
static const char *const readonly_exempt[] = {"/proc", "/dev/pts", "/dev/shm", "/dev/mqueue",
					      "/dev"};

static const char *dest_of(const json_t *m)
{
	return berth_json_string(m, "destination") ?: "";
}

static bool has_dest(const json_t *mounts, const char *dest)
{
	size_t i;
	const json_t *m;
	json_array_foreach(mounts, i, m) {
		if (strcmp(dest_of(m), dest) == 0)
			return true;
	}
	return false;
}

/* Path depth, as strings.Count(filepath.Clean(dest), "/"). */
static int depth(const char *dest)
{
	int n = 0;
	for (const char *p = dest; *p; p++) {
		if (*p == '/' && p[1] != '/' && p[1] != '\0')
			n++;
	}
	return n == 0 && *dest == '/' ? 1 : n;
}

/* Parents before children; a stable insertion sort keeps the given order
 * among equals (dockerd's sort is not stable, so any order is its order). */
static void sort_by_depth(json_t *mounts)
{
	size_t n = json_array_size(mounts);
	for (size_t i = 1; i < n; i++) {
		json_t *m = json_incref(json_array_get(mounts, i));
		int d = depth(dest_of(m));
		size_t j = i;
		while (j > 0 && depth(dest_of(json_array_get(mounts, j - 1))) > d) {
			json_array_set(mounts, j, json_array_get(mounts, j - 1));
			j--;
		}
		json_array_set_new(mounts, j, m);
	}
}

static json_t *bind_mount(const char *src, const char *dest, bool ro)
{
	json_t *opts = json_pack("[s]", "rbind");
	if (ro)
		json_array_append_new(opts, json_string("ro"));
	json_array_append_new(opts, json_string("rprivate"));
	return json_pack("{s:s, s:s, s:s, s:o}", "destination", dest, "type", "bind", "source", src,
			 "options", opts);
}

static int tmpfs_mounts(oci_ctx *c, json_t *user, berth_error **err)
{
	const json_t *tmpfs = NULL;
	if (oci_object(c->hc, "Tmpfs", &tmpfs, err) < 0)
		return -1;
	const char *dest;
	const json_t *data;
	json_object_foreach((json_t *)tmpfs, dest, data) {
		json_t *opts = NULL;
		if (!json_is_string(data))
			return berth_error_set(err, 400, "invalid JSON: Tmpfs values must be "
							 "strings");
		if (berth_oci_tmpfs_options(json_string_value(data), &opts, err) < 0)
			return -1;
		json_array_append_new(user, json_pack("{s:s, s:s, s:s, s:o}", "destination", dest,
						      "type", "tmpfs", "source", "tmpfs", "options",
						      opts));
	}
	return 0;
}

/* The mounts dockerd calls the container's own: volumes and binds from the
 * caller, /etc/{hosts,hostname,resolv.conf}, a shared /dev/shm, tmpfs. */
static int user_mounts(oci_ctx *c, json_t *user, berth_error **err)
{
	const berth_oci_input *in = c->in;
	const struct {
		const char *path, *dest;
	} files[] = {
		{in->resolv_conf_path, "/etc/resolv.conf"},
		{in->hostname_path, "/etc/hostname"},
		{in->hosts_path, "/etc/hosts"},
	};
	size_t i;
	const json_t *m;
	if (in->mounts != NULL && !json_is_array(in->mounts))
		return berth_error_set(err, 500, "mounts must be an array of OCI mounts");
	json_array_foreach(in->mounts, i, m) {
		if (!json_is_string(json_object_get(m, "destination")))
			return berth_error_set(err, 500, "OCI mount without a destination");
		json_array_append(user, (json_t *)m);
	}
	for (i = 0; i < BERTH_ARRAY_SIZE(files); i++) {
		if (files[i].path && !has_dest(in->mounts, files[i].dest))
			json_array_append_new(user, bind_mount(files[i].path, files[i].dest,
							       c->readonly_rootfs));
	}
	/* IpcMode shareable/container:/host: a /dev/shm that outlives or is
	 * shared with others, kept by the caller (host: the host's). */
	const char *shm = NULL;
	if (c->ipc == OCI_NS_HOST)
		shm = in->shm_path ? in->shm_path : "/dev/shm";
	else if (c->ipc == OCI_NS_SHAREABLE || c->ipc == OCI_NS_CONTAINER)
		shm = in->shm_path;
	if (shm && !has_dest(in->mounts, "/dev/shm"))
		json_array_append_new(user, bind_mount(shm, "/dev/shm", false));
	return tmpfs_mounts(c, user, err);
}

static void drop_option(json_t *m, const char *opt)
{
	json_t *opts = json_object_get(m, "options");
	for (size_t i = json_array_size(opts); i-- > 0;) {
		if (strcmp(json_string_value(json_array_get(opts, i)), opt) == 0)
			json_array_remove(opts, i);
	}
}

static void add_option(json_t *m, const char *opt)
{
	json_t *opts = json_object_get(m, "options");
	if (!json_is_array(opts)) {
		opts = json_array();
		json_object_set_new(m, "options", opts);
	}
	if (!oci_array_has_string(opts, opt))
		json_array_append_new(opts, json_string(opt));
}

/* The defaults, minus what the container mounts itself, all of /dev's if
 * it mounts /dev, and /dev/shm with IpcMode none. */
static int default_mounts_add(oci_ctx *c, json_t *out, const json_t *user, berth_error **err)
{
	json_int_t shm_size;
	if (oci_int(c->hc, "ShmSize", 0, &shm_size, err) < 0)
		return -1;
	if (shm_size <= 0)
		shm_size = BERTH_OCI_DEFAULT_SHM_SIZE;
	bool user_dev = has_dest(user, "/dev");
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(default_mounts); i++) {
		const char *dest = default_mounts[i].dest;
		bool shm = strcmp(dest, "/dev/shm") == 0;
		if (has_dest(user, dest) || (user_dev && berth_str_has_prefix(dest, "/dev/")) ||
		    (shm && c->ipc == OCI_NS_NONE))
			continue;
		size_t n = 0;
		while (n < MAX_OPTS && default_mounts[i].opts[n])
			n++;
		json_t *opts = oci_string_list(default_mounts[i].opts, n);
		if (shm) {
			char *size cleanup_free = berth_xasprintf("size=%lld", (long long)shm_size);
			json_array_append_new(opts, json_string(size));
		}
		json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:o}", "destination", dest,
						     "type", default_mounts[i].type, "source",
						     default_mounts[i].source, "options", opts));
	}
	return 0;
}

/* --read-only makes the defaults ro but for the kernel's own filesystems;
 * --privileged gets a writable /sys and cgroup tree (writable-cgroups the
 * latter only). */
static void adjust_default(const oci_ctx *c, json_t *m)
{
	const char *dest = dest_of(m);
	bool exempt = false;
	for (size_t k = 0; k < BERTH_ARRAY_SIZE(readonly_exempt); k++)
		exempt |= strcmp(dest, readonly_exempt[k]) == 0;
	if (c->readonly_rootfs && !exempt)
		add_option(m, "ro");
	if (c->privileged && strcmp(dest, "/sys") == 0)
		drop_option(m, "ro");
	if ((c->privileged || c->sec.writable_cgroups) &&
	    strcmp(berth_json_string(m, "type") ?: "", "cgroup") == 0)
		drop_option(m, "ro");
}

/* A caller's shared or slave bind needs the root's propagation to match. */
static void root_propagation(oci_ctx *c, const json_t *user)
{
	size_t i;
	const json_t *m;
	const char *prop = NULL;
	json_array_foreach(user, i, m) {
		const json_t *opts = json_object_get(m, "options");
		if (oci_array_has_string(opts, "shared") || oci_array_has_string(opts, "rshared"))
			prop = "shared";
		else if (!prop && (oci_array_has_string(opts, "slave") ||
				   oci_array_has_string(opts, "rslave")))
			prop = "rslave";
	}
	if (prop != NULL)
		json_object_set_new(c->linux_, "rootfsPropagation", json_string(prop));
}

/* maskedPaths/readonlyPaths: Docker's lists, none when privileged, the
 * HostConfig's when it gives them. */
static int paths(oci_ctx *c, berth_error **err)
{
	const json_t *masked = NULL, *ro = NULL;
	if (oci_string_array(c->hc, "MaskedPaths", &masked, err) < 0 ||
	    oci_string_array(c->hc, "ReadonlyPaths", &ro, err) < 0)
		return -1;
	if (!c->privileged) {
		json_t *m = oci_string_list(masked_paths, BERTH_ARRAY_SIZE(masked_paths));
		json_t *r = oci_string_list(readonly_paths, BERTH_ARRAY_SIZE(readonly_paths));
		json_object_set_new(c->linux_, "maskedPaths", m);
		json_object_set_new(c->linux_, "readonlyPaths", r);
	}
	if (masked != NULL)
		json_object_set_new(c->linux_, "maskedPaths", json_deep_copy(masked));
	if (ro != NULL)
		json_object_set_new(c->linux_, "readonlyPaths", json_deep_copy(ro));
	return 0;
}

int oci_mounts(oci_ctx *c, berth_error **err)
{
	json_t *user cleanup_json = json_array();
	json_t *out = json_array();
	json_object_set_new(c->spec, "mounts", out);
	if (user_mounts(c, user, err) < 0 || default_mounts_add(c, out, user, err) < 0)
		return -1;
	sort_by_depth(user);
	/* --init's binary belongs with the defaults: --read-only leaves it be
	 * (it is ro already) and a mount of the user's replaces it. */
	if (c->init != NULL && !has_dest(user, BERTH_OCI_INIT_TARGET)) {
		json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:[ss]}", "destination",
						     BERTH_OCI_INIT_TARGET, "type", "bind",
						     "source", c->init, "options", "bind", "ro"));
	}
	size_t i;
	json_t *m;
	json_array_foreach(out, i, m)
		adjust_default(c, m);
	json_array_extend(out, user);
	root_propagation(c, user);
	return paths(c, err);
}

/* ------------------------------------------------------ tmpfs options */

/* mount(8) flags a tmpfs accepts; a pair shares one slot (the last wins). */
static const struct {
	const char *set, *clear;
} tmpfs_flags[] = {
	{"ro", "rw"}, {"nosuid", "suid"}, {"nodev", "dev"}, {"noexec", "exec"},
	{"sync", "async"}, {"dirsync", NULL}, {"remount", NULL}, {"mand", "nomand"},
	{"noatime", "atime"}, {"nodiratime", "diratime"}, {"bind", NULL}, {"rbind", NULL},
	{"relatime", "norelatime"}, {"strictatime", "nostrictatime"},
	/* one propagation mode */
	{"private", "rprivate"}, {"shared", "rshared"}, {"slave", "rslave"},
	{"unbindable", "runbindable"},
};
#define PROPAGATION_FIRST 14
static const char *const tmpfs_data_keys[] = {"size", "mode", "uid", "gid", "nr_inodes",
					      "nr_blocks", "mpol"};

static int flag_slot(const char *opt)
{
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(tmpfs_flags); i++) {
		if (strcmp(opt, tmpfs_flags[i].set) == 0 ||
		    (tmpfs_flags[i].clear && strcmp(opt, tmpfs_flags[i].clear) == 0))
			return i >= PROPAGATION_FIRST ? PROPAGATION_FIRST : (int)i;
	}
	return -1;
}

/* mount.MergeTmpfsOptions: walk from the end keeping the first of each. */
int berth_oci_tmpfs_options(const char *data, json_t **options, berth_error **err)
{
	json_t *all cleanup_json = json_pack("[ssss]", "noexec", "nosuid", "nodev", "rprivate");
	char **user = berth_str_split(data ? data : "", ',');
	for (char **p = user; p && *p; p++) {
		if (**p)
			json_array_append_new(all, json_string(*p));
	}
	berth_strv_free(user);
	json_t *out = json_array();
	bool seen_flag[BERTH_ARRAY_SIZE(tmpfs_flags)] = {0};
	json_t *seen_key cleanup_json = json_object();
	for (size_t i = json_array_size(all); i-- > 0;) {
		const char *opt = json_string_value(json_array_get(all, i));
		if (strcmp(opt, "defaults") == 0)
			continue;
		int slot = flag_slot(opt);
		if (slot < 0) {
			const char *eq = strchr(opt, '=');
			size_t k = 0;
			while (eq && k < BERTH_ARRAY_SIZE(tmpfs_data_keys) &&
			       (strlen(tmpfs_data_keys[k]) != (size_t)(eq - opt) ||
				strncmp(opt, tmpfs_data_keys[k], (size_t)(eq - opt)) != 0))
				k++;
			if (eq == NULL || k == BERTH_ARRAY_SIZE(tmpfs_data_keys)) {
				/* Go's %q of the option split at '=': ["a"] or ["a" "b"]. */
				json_decref(out);
				if (eq == NULL)
					return berth_error_set(err, 400, "invalid tmpfs option "
									 "[\"%s\"]", opt);
				return berth_error_set(err, 400, "invalid tmpfs option "
								 "[\"%.*s\" \"%s\"]",
						       (int)(eq - opt), opt, eq + 1);
			}
			if (json_object_get(seen_key, tmpfs_data_keys[k]) != NULL)
				continue;
			json_object_set_new(seen_key, tmpfs_data_keys[k], json_true());
		} else if (seen_flag[slot]) {
			continue;
		} else {
			seen_flag[slot] = true;
		}
		json_array_insert_new(out, 0, json_string(opt));
	}
	*options = out;
	return 0;
}
