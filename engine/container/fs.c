/*
 * fs.c - a container's files through the API: POST /commit, GET
 * /containers/{id}/changes, GET /containers/{id}/export, and HEAD/GET/PUT
 * /containers/{id}/archive (docker cp).
 *
 * Which view of the files each endpoint works on:
 *
 *   - changes and commit read the overlay upper dir (<dir>/fs/upper) and
 *     the image's layer dirs; nothing is mounted.
 *   - export, and archive reads of a container that is not running, mount a
 *     private read-only overlay (upper + layers as lower dirs) with the new
 *     mount API and never attach it anywhere: the mount is a file
 *     descriptor that goes when it is closed, so a crash leaves nothing
 *     mounted and a start or stop meanwhile is not disturbed.
 *   - archive reads and writes on a running (or paused) container go
 *     through /proc/<pid>/root: the container's own view, its volumes and
 *     bind mounts included, as dockerd shows them. Pseudo file systems
 *     (/proc, /sys, ...) are not descended into.
 *   - archive writes to a stopped container mount the overlay read-write
 *     (again as a detached mount) as one of the container's queued
 *     operations, so that no start can mount the same upper dir meanwhile.
 *     A path under a volume or bind mount of a stopped container is read
 *     and written in the mount's source directory.
 *
 * Every path a client gives is resolved inside the chosen root with
 * openat2(RESOLVE_IN_ROOT): symbolic links are followed as the container
 * would follow them and can never lead out of its root. Archive entries are
 * created with *at() calls relative to the directory fd so resolved, never
 * following a link in their last component.
 *
 * Blocking work runs in the thread pool (berth_api_defer, or the container's
 * operation queue); archives stream through a pump (engine/api/pump.h).
 */
#include "lazy_archive.h"
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "engine/api/pump.h"
#include "engine/image/image.h"
#include "engine/oci/oci.h"
#include "internal.h"

#define OPAQUE_XATTR "trusted.overlay.opaque"
#define CAP_XATTR "security.capability"

/* ================================================================ paths */

/* Go's filepath.Clean of "/" + p: absolute, no "." or "..", no doubled or
 * trailing slashes ("/" for the root). */
static char *path_clean(const char *p)
{
	char *abs cleanup_free = berth_xasprintf("/%s", p ? p : "");
	return berth_path_clean(abs);
}

/* The directory of a clean absolute path: "/a" for "/a/b", "/" for "/a". */
static char *path_dir(const char *p)
{
	const char *slash = strrchr(p, '/');
	if (slash == NULL || slash == p)
		return berth_xstrdup("/");
	return berth_xstrndup(p, (size_t)(slash - p));
}

static char *path_join(const char *dir, const char *name)
{
	if (*name == '\0')
		return berth_xstrdup(dir);
	return berth_xasprintf("%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/", name);
}

static bool ends_with_slash(const char *p)
{
	size_t n = strlen(p);
	return n > 0 && p[n - 1] == '/';
}

/* An archive entry's name made relative to the extraction point: "a/b",
 * or "" for the point itself. -1 when it climbs out of it (a leading "/"
 * is the extraction point too, so "/../a" climbs out). */
static int entry_clean(const char *name, char **out)
{
	while (*name == '/')
		name++;
	char *clean = berth_path_clean(name);
	/* Go's Clean keeps the ".." it cannot take back, and only in front */
	int rc = strcmp(clean, "..") == 0 || berth_str_has_prefix(clean, "../") ? -1 : 0;
	if (strcmp(clean, ".") == 0)
		clean[0] = '\0';
	*out = clean;
	return rc;
}

/* ============================================================ resolution */

/* Opens path (absolute in the root) with every symlink resolved inside the
 * root. Returns the fd, or -errno. */
static int open_in_root(int rootfd, const char *path, int flags)
{
	const char *rel = path;
	while (*rel == '/')
		rel++;
	if (*rel == '\0')
		rel = ".";
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	for (int attempt = 0;; attempt++) {
		long fd = syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		/* a rename or mount meanwhile: the kernel asks to retry */
		if (errno != EAGAIN || attempt >= 16)
			return -errno;
	}
}

/*
 * symlink.FollowSymlinkInScope: path with every symbolic link evaluated as
 * the container would, as an absolute path in the root. Parts that do not
 * exist stay as they are. Used for what clients are told (linkTarget) and
 * for deciding which mount a path is in; opening always goes through
 * open_in_root.
 */
static char *scope_resolve(int rootfd, const char *path)
{
	char *resolved = berth_xstrdup("/");
	char *todo = berth_xstrdup(path);
	int links = 0;
	while (*todo) {
		char *p = todo;
		while (*p == '/')
			p++;
		size_t n = strcspn(p, "/");
		char *comp = berth_xstrndup(p, n);
		char *rest = berth_xstrdup(p + n);
		free(todo);
		todo = rest;
		if (*comp == '\0' || strcmp(comp, ".") == 0) {
			free(comp);
			continue;
		}
		if (strcmp(comp, "..") == 0) {
			char *up = path_dir(resolved);
			free(resolved);
			resolved = up;
			free(comp);
			continue;
		}
		char *candidate = path_join(resolved, comp);
		free(comp);
		char target[4096];
		ssize_t len = -1;
		int fd = open_in_root(rootfd, candidate, O_PATH | O_NOFOLLOW);
		if (fd >= 0) {
			len = readlinkat(fd, "", target, sizeof(target) - 1);
			close(fd);
		}
		if (len < 0 || ++links > 255) {
			free(resolved);
			resolved = candidate;
			continue;
		}
		free(candidate);
		target[len] = '\0';
		char *next = berth_xasprintf("%s/%s", target, todo);
		free(todo);
		todo = next;
		if (target[0] == '/') {
			free(resolved);
			resolved = berth_xstrdup("/");
		}
	}
	free(todo);
	return resolved;
}

/* Whether fd is on a kernel pseudo file system a copy must not descend
 * into (a running container's /proc, /sys, ...). */
static bool on_pseudo_fs(int fd)
{
	static const unsigned long magics[] = {
		PROC_SUPER_MAGIC, SYSFS_MAGIC,	   CGROUP_SUPER_MAGIC, CGROUP2_SUPER_MAGIC,
		DEVPTS_SUPER_MAGIC, SECURITYFS_MAGIC, DEBUGFS_MAGIC,	 TRACEFS_MAGIC,
		BPF_FS_MAGIC,	  PSTOREFS_MAGIC,   0x19800202 /* mqueue */,
		0x65735543 /* fusectl */, 0x62656570 /* configfs */, 0xde5e81e4 /* efivarfs */,
	};
	struct statfs sfs;
	if (fstatfs(fd, &sfs) < 0)
		return false;
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(magics); i++)
		if ((unsigned long)sfs.f_type == magics[i])
			return true;
	return false;
}

/* ========================================================= sorted names */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in a directory, sorted bytewise as Go's Walk gives them;
 * NULL-terminated. The fd stays open. */
static int read_names(int fd, char ***out, berth_error **err)
{
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (dir == NULL) {
		int e = errno;
		if (dfd >= 0)
			close(dfd);
		return berth_error_set_errno(err, e, "read directory");
	}
	size_t n = 0, cap = 16;
	char **names = berth_xcalloc(cap + 1, sizeof(*names));
	for (struct dirent *de; (de = readdir(dir));) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (n == cap) {
			cap *= 2;
			names = berth_xrealloc(names, (cap + 1) * sizeof(*names));
		}
		names[n++] = berth_xstrdup(de->d_name);
	}
	names[n] = NULL;
	closedir(dir);
	qsort(names, n, sizeof(*names), cmp_str);
	*out = names;
	return 0;
}

/* ============================================================== changes */

/* A set of strings (the directories changes has seen). */
typedef struct str_set {
	char **slots;
	size_t cap, len;
} str_set;

static size_t str_hash(const char *s)
{
	size_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static bool str_set_has(const str_set *set, const char *s)
{
	if (set->cap == 0)
		return false;
	for (size_t i = str_hash(s) & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
		if (set->slots[i] == NULL)
			return false;
		if (strcmp(set->slots[i], s) == 0)
			return true;
	}
}

static void str_set_add(str_set *set, const char *s)
{
	if (str_set_has(set, s))
		return;
	if ((set->len + 1) * 2 > set->cap) {
		str_set bigger = {.cap = set->cap ? set->cap * 2 : 64};
		bigger.slots = berth_xcalloc(bigger.cap, sizeof(char *));
		for (size_t i = 0; i < set->cap; i++) {
			if (set->slots[i] == NULL)
				continue;
			size_t j = str_hash(set->slots[i]) & (bigger.cap - 1);
			while (bigger.slots[j])
				j = (j + 1) & (bigger.cap - 1);
			bigger.slots[j] = set->slots[i];
		}
		bigger.len = set->len;
		free(set->slots);
		*set = bigger;
	}
	size_t i = str_hash(s) & (set->cap - 1);
	while (set->slots[i])
		i = (i + 1) & (set->cap - 1);
	set->slots[i] = berth_xstrdup(s);
	set->len++;
}

static void str_set_free(str_set *set)
{
	for (size_t i = 0; i < set->cap; i++)
		free(set->slots[i]);
	free(set->slots);
}

enum { CHANGE_MODIFY = 0, CHANGE_ADD = 1, CHANGE_DELETE = 2 };

typedef struct changes_walk {
	int *lowers;      /* fds of the lower dirs, top first (-1: missing) */
	size_t nlowers;
	json_t *out;
	str_set dirs;     /* changedDirs */
} changes_walk;

static void change_add(changes_walk *w, const char *path, int kind)
{
	json_array_append_new(w->out, json_pack("{s:s, s:i}", "Path", path, "Kind", kind));
}

/* Go's sameFsTime: equal, or the same second with one side truncated. */
static bool same_fs_time(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec == b->tv_sec &&
	       (a->tv_nsec == b->tv_nsec || a->tv_nsec == 0 || b->tv_nsec == 0);
}

/* What a lower layer has at path (os.Stat: the last link followed, inside
 * the layer); false when nothing. */
static bool lower_stat(int lowerfd, const char *path, struct stat *st)
{
	if (lowerfd < 0)
		return false;
	int fd = open_in_root(lowerfd, path, O_PATH);
	if (fd < 0)
		return false;
	int rc = fstat(fd, st);
	close(fd);
	return rc == 0;
}

/*
 * The files berthd bind-mounts into every container: runc creates them in
 * the upper dir as empty mount points, where dockerd has them in the
 * container's init layer, which diff never shows. Left out while they are
 * those empty files; a directory holding them is not reported for its
 * changed mtime alone.
 */
static const char *const runtime_files[] = {"/etc/hostname", "/etc/hosts", "/etc/resolv.conf"};

static bool runtime_mount_point(const char *path, const struct stat *st)
{
	if (!S_ISREG(st->st_mode) || st->st_size != 0)
		return false;
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(runtime_files); i++)
		if (strcmp(path, runtime_files[i]) == 0)
			return true;
	return false;
}

static bool runtime_parent(const char *path)
{
	size_t n = strlen(path);
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(runtime_files); i++)
		if (strncmp(runtime_files[i], path, n) == 0 && runtime_files[i][n] == '/')
			return true;
	return false;
}

/* archive.OverlayChanges over one directory of the upper dir. */
static int changes_dir(changes_walk *w, int dirfd, const char *rel, berth_error **err)
{
	char **names = NULL;
	if (read_names(dirfd, &names, err) < 0)
		return -1;
	int rc = 0;
	for (char **name = names; *name && rc == 0; name++) {
		char *path cleanup_free = berth_xasprintf("%s/%s", rel, *name);
		struct stat st;
		if (fstatat(dirfd, *name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno != ENOENT)
				rc = berth_error_set_errno(err, errno, "lstat %s", path);
			continue;
		}
		int subfd cleanup_close = -1;
		if (S_ISDIR(st.st_mode)) {
			subfd = openat(dirfd, *name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (subfd < 0) {
				if (errno != ENOENT)
					rc = berth_error_set_errno(err, errno, "open %s", path);
				continue;
			}
		}
		int kind = CHANGE_ADD;
		bool record = true;
		char flag = 0;
		if (S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0)) {
			kind = CHANGE_DELETE;
		} else if (subfd >= 0 && fgetxattr(subfd, OPAQUE_XATTR, &flag, 1) == 1 && flag == 'y') {
			kind = CHANGE_DELETE;
		} else {
			for (size_t i = 0; i < w->nlowers; i++) {
				struct stat lst;
				if (!lower_stat(w->lowers[i], path, &lst))
					continue;
				/* a directory that is only there as the parent
				 * of a change is not a change itself */
				if (S_ISDIR(lst.st_mode) && S_ISDIR(st.st_mode) &&
				    lst.st_size == st.st_size && lst.st_mode == st.st_mode &&
				    (same_fs_time(&lst.st_mtim, &st.st_mtim) || runtime_parent(path)))
					record = false;
				kind = CHANGE_MODIFY;
				break;
			}
			if (kind == CHANGE_ADD && runtime_mount_point(path, &st))
				record = false;
		}
		if (record) {
			if (S_ISDIR(st.st_mode))
				str_set_add(&w->dirs, path);
			if (kind == CHANGE_ADD || kind == CHANGE_DELETE) {
				char *parent cleanup_free = path_dir(path);
				if (strcmp(parent, "/") != 0 && !str_set_has(&w->dirs, parent)) {
					change_add(w, parent, CHANGE_MODIFY);
					str_set_add(&w->dirs, parent);
				}
			}
			change_add(w, path, kind);
		}
		if (subfd >= 0)
			rc = changes_dir(w, subfd, path, err);
	}
	berth_strv_free(names);
	return rc;
}

int berth_container_fs_changes(const char *upper, char *const *lowers, json_t **out,
			       berth_error **err)
{
	*out = json_array();
	int top = open(upper, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top < 0)
		return errno == ENOENT ? 0 : berth_error_set_errno(err, errno, "open %s", upper);
	changes_walk w = {.out = *out, .nlowers = berth_strv_len(lowers)};
	w.lowers = berth_xcalloc(w.nlowers + 1, sizeof(int));
	for (size_t i = 0; i < w.nlowers; i++)
		w.lowers[i] = open(lowers[i], O_PATH | O_DIRECTORY | O_CLOEXEC);
	int rc = changes_dir(&w, top, "", err);
	for (size_t i = 0; i < w.nlowers; i++)
		if (w.lowers[i] >= 0)
			close(w.lowers[i]);
	free(w.lowers);
	str_set_free(&w.dirs);
	close(top);
	if (rc < 0) {
		json_decref(*out);
		*out = NULL;
	}
	return rc;
}

/* ================================================================ roots */

/* What a pool thread needs to reach a container's files, copied on the
 * loop. */
typedef struct fs_spec {
	char id[65];
	char *name;          /* as the client named the container */
	char *dir;           /* <data-root>/containers/<id> */
	char *fs_dir;        /* dir/fs: upper, work, merged */
	char *shim_dir;
	char **lowers;       /* the image's layer dirs, top first */
	int pid;             /* the init of a running container, else 0 */
	bool readonly_rootfs;
	json_t *mounts;      /* the record's Mounts */
	char *user;          /* Config.User */
} fs_spec;

static void spec_reset(fs_spec *s)
{
	free(s->name);
	free(s->dir);
	free(s->fs_dir);
	free(s->shim_dir);
	berth_strv_free(s->lowers);
	json_decref(s->mounts);
	free(s->user);
	memset(s, 0, sizeof(*s));
}

/* The diff dirs of an image's layers, top first, from its rootfs.diff_ids
 * (chain IDs as the image store names its layer directories). */
static int image_lowers(berth_daemon *d, const char *image_id, char ***out, berth_error **err)
{
	json_t *cfg cleanup_json = NULL;
	if (berth_image_config(d->images, image_id, &cfg, err) < 0)
		return -1;
	json_t *ids = json_object_get(json_object_get(cfg, "rootfs"), "diff_ids");
	size_t n = json_array_size(ids);
	char **lowers = berth_xcalloc(n + 1, sizeof(*lowers));
	char chain[72] = "";
	for (size_t i = 0; i < n; i++) {
		const char *diff = json_string_value(json_array_get(ids, i));
		if (diff == NULL || strlen(diff) != 71) {
			berth_strv_free(lowers);
			return berth_error_set(err, 500, "image %s: bad diff ID", image_id);
		}
		if (i == 0) {
			snprintf(chain, sizeof(chain), "%s", diff);
		} else {
			char *both cleanup_free = berth_xasprintf("%s %s", chain, diff);
			char hex[65];
			berth_sha256_hex(both, strlen(both), hex);
			snprintf(chain, sizeof(chain), "sha256:%s", hex);
		}
		lowers[n - 1 - i] = berth_xasprintf("%s/layers/%s/diff", berth_image_store_root(d->images),
						    chain + 7);
	}
	*out = lowers;
	return 0;
}

static int spec_fill(berth_container *c, const char *name, fs_spec *s, berth_error **err)
{
	berth_daemon *d = c->store->daemon;
	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", c->id);
	s->name = berth_xstrdup(name ? name : c->id);
	s->dir = berth_xstrdup(c->dir);
	s->fs_dir = berth_xasprintf("%s/fs", c->dir);
	s->shim_dir = berth_xstrdup(c->shim_dir);
	if (container_running(c))
		s->pid = (int)json_integer_value(json_object_get(container_state(c), "Pid"));
	const json_t *hc = json_object_get(c->record, "HostConfig");
	s->readonly_rootfs = json_is_true(json_object_get(hc, "ReadonlyRootfs"));
	s->mounts = json_deep_copy(json_object_get(c->record, "Mounts"));
	s->user = berth_xstrdup(berth_json_string(json_object_get(c->record, "Config"), "User") ?: "");
	if (image_lowers(d, berth_json_string(c->record, "Image") ?: "", &s->lowers, err) < 0) {
		spec_reset(s);
		return -1;
	}
	return 0;
}

/* The running container's own root (/proc/<pid>/root), checked to be the
 * overlay berthd mounted for it (the pid may have been reused). -1 without
 * an error when the container is not running any more. */
static int root_open_live(const fs_spec *s, int *out)
{
	if (s->pid <= 0)
		return -1;
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/root", s->pid);
	int fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char *merged cleanup_free = berth_xasprintf("%s/merged", s->fs_dir);
	struct stat a, b;
	if (fstat(fd, &a) < 0 || stat(merged, &b) < 0 || a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		close(fd);
		return -1;
	}
	*out = fd;
	return 0;
}

/* A detached overlay mount; the fd is its root. upper and work may be NULL
 * (read-only: then the lower dirs are at least two). */
static int overlay_detached(char *const *lowers, const char *upper, const char *work, int *out,
			    berth_error **err)
{
	int fs cleanup_close = fsopen("overlay", FSOPEN_CLOEXEC);
	if (fs < 0)
		return berth_error_set_errno(err, errno, "overlay");
	int rc = 0;
	for (char *const *l = lowers; *l && rc == 0; l++)
		rc = fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir+", *l, 0);
	if (rc < 0 && errno == EINVAL) { /* before Linux 6.8: one option */
		berth_buf all cleanup_buf = {0};
		for (char *const *l = lowers; *l; l++)
			berth_buf_printf(&all, "%s%s", l == lowers ? "" : ":", *l);
		rc = fsconfig(fs, FSCONFIG_SET_STRING, "lowerdir", all.data, 0);
	}
	if (rc == 0 && upper)
		rc = fsconfig(fs, FSCONFIG_SET_STRING, "upperdir", upper, 0);
	if (rc == 0 && work)
		rc = fsconfig(fs, FSCONFIG_SET_STRING, "workdir", work, 0);
	if (rc == 0) /* as berth_image_mount mounts it */
		fsconfig(fs, FSCONFIG_SET_STRING, "index", "off", 0);
	if (rc == 0)
		rc = fsconfig(fs, FSCONFIG_CMD_CREATE, NULL, NULL, 0);
	unsigned attrs = upper ? 0 : MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
					     MOUNT_ATTR_NOEXEC;
	int mnt = rc == 0 ? fsmount(fs, FSMOUNT_CLOEXEC, attrs) : -1;
	if (mnt < 0)
		return berth_error_set_errno(err, errno, "mount the container's file system");
	*out = mnt;
	return 0;
}

/* The container's files as they are now, read-only: its upper dir over the
 * image's layers. */
static int root_open_snapshot(const fs_spec *s, int *out, berth_error **err)
{
	char *upper cleanup_free = berth_xasprintf("%s/upper", s->fs_dir);
	if (berth_mkdir_all(upper, 0755, err) < 0)
		return -1;
	size_t n = berth_strv_len(s->lowers);
	if (n == 0) { /* no layers: the upper dir is all there is */
		int fd = open(upper, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (fd < 0)
			return berth_error_set_errno(err, errno, "open %s", upper);
		*out = fd;
		return 0;
	}
	char **dirs = berth_xcalloc(n + 2, sizeof(*dirs));
	dirs[0] = upper;
	for (size_t i = 0; i < n; i++)
		dirs[i + 1] = s->lowers[i];
	int rc = overlay_detached(dirs, NULL, NULL, out, err);
	free(dirs);
	return rc;
}

/* The container's root, writable: only from the container's operation
 * queue (nothing else mounts its upper dir meanwhile). */
static int root_open_rw(const fs_spec *s, int *out, berth_error **err)
{
	char *upper cleanup_free = berth_xasprintf("%s/upper", s->fs_dir);
	char *work cleanup_free = berth_xasprintf("%s/work", s->fs_dir);
	char *empty cleanup_free = berth_xasprintf("%s/empty", s->fs_dir);
	if (berth_mkdir_all(upper, 0755, err) < 0 || berth_mkdir_all(work, 0755, err) < 0)
		return -1;
	char *const only_empty[] = {empty, NULL};
	if (s->lowers[0] == NULL && berth_mkdir_all(empty, 0755, err) < 0)
		return -1;
	return overlay_detached(s->lowers[0] ? s->lowers : only_empty, upper, work, out, err);
}

/* The mount of the record's Mounts a path is under (the longest
 * Destination), or NULL. */
static const json_t *mount_of(const json_t *mounts, const char *path)
{
	const json_t *best = NULL;
	size_t best_len = 0, i;
	const json_t *m;
	json_array_foreach(mounts, i, m) {
		const char *dst = berth_json_string(m, "Destination");
		if (dst == NULL || *dst != '/')
			continue;
		char *clean cleanup_free = path_clean(dst);
		size_t n = strlen(clean);
		bool under = strcmp(clean, "/") == 0 ||
			     (strncmp(path, clean, n) == 0 && (path[n] == '\0' || path[n] == '/'));
		if (under && n >= best_len) {
			best = m;
			best_len = n;
		}
	}
	return best;
}

/*
 * The root to work in for a path, and the path inside it: a running
 * container's own root, else the container's overlay (read-only, or
 * writable when rw), or the source directory of the volume or bind mount
 * the path is in. *live tells the first case; *seen (not for live roots)
 * gets the path with its links resolved as the container sees it. abs is
 * absolute.
 */
static int root_for_path(const fs_spec *s, const char *abs, bool rw, int *rootfd, char **inner,
			 bool *live, char **seen, char **mount_dst, berth_error **err)
{
	*live = false;
	*seen = NULL;
	*mount_dst = NULL;
	if (root_open_live(s, rootfd) == 0) {
		*live = true;
		*inner = berth_xstrdup(abs);
		return 0;
	}
	if (rw && s->pid > 0)
		return berth_error_set(err, 409, "Container %s stopped during the copy", s->id);
	char *record cleanup_free = berth_xasprintf("%s/layers", s->fs_dir);
	char *merged cleanup_free = berth_xasprintf("%s/merged", s->fs_dir);
	if (rw && access(record, F_OK) == 0) {
		/* mounted by a start in progress (ours is the operation between
		 * its mount and its start): write through that mount */
		*rootfd = open(merged, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (*rootfd < 0)
			return berth_error_set_errno(err, errno, "open %s", merged);
	} else if ((rw ? root_open_rw(s, rootfd, err) : root_open_snapshot(s, rootfd, err)) < 0) {
		return -1;
	}
	*seen = scope_resolve(*rootfd, abs);
	/* which mount: reads look at the last element itself (a link is
	 * copied as a link), writes at where it leads */
	char *clean cleanup_free = path_clean(abs);
	char *base cleanup_free = berth_path_base(clean);
	char *dir cleanup_free = path_dir(clean);
	char *rdir cleanup_free = scope_resolve(*rootfd, dir);
	char *where cleanup_free = rw || strcmp(clean, "/") == 0 ? berth_xstrdup(*seen)
								 : path_join(rdir, base);
	const json_t *m = mount_of(s->mounts, where);
	const char *src = m ? berth_json_string(m, "Source") : NULL;
	int vfd = src && *src == '/' ? open(src, O_PATH | O_DIRECTORY | O_CLOEXEC) : -1;
	if (vfd < 0) {
		*inner = berth_xstrdup(abs);
		return 0;
	}
	char *dst cleanup_free = path_clean(berth_json_string(m, "Destination"));
	const char *rest = strcmp(dst, "/") == 0 ? where : where + strlen(dst);
	char *in cleanup_free = berth_xstrdup(*rest ? rest : "/");
	/* keep what the client's path says beyond its clean form */
	*inner = berth_path_preserve(in, abs);
	*mount_dst = berth_xstrdup(strcmp(dst, "/") == 0 ? "" : dst);
	close(*rootfd);
	*rootfd = vfd;
	return 0;
}

/* ============================================================ tar output */

/* Hard links: the first name each multiply linked inode was written as. */
typedef struct link_ent {
	dev_t dev;
	ino_t ino;
	char *name;
	struct link_ent *next;
} link_ent;

#define LINK_BUCKETS 1024

typedef struct tarw {
	struct archive *a;
	berth_image_write_fn write;
	void *ud;
	berth_error *werr;
	link_ent *links[LINK_BUCKETS];
	bool live;
	bool aborted;    /* failed: write nothing more, not even the trailer */
	char *buf;
} tarw;

static la_ssize_t tarw_out(struct archive *a, void *ud, const void *buf, size_t len)
{
	tarw *t = ud;
	if (t->aborted) {
		archive_set_error(a, EIO, "aborted");
		return -1;
	}
	if (t->write(t->ud, buf, len, &t->werr) < 0) {
		archive_set_error(a, EIO, "%s", t->werr ? t->werr->msg : "write failed");
		return -1;
	}
	return (la_ssize_t)len;
}

static int tarw_fail(tarw *t, berth_error **err)
{
	if (t->werr)
		return berth_error_propagate(&t->werr, err);
	return berth_error_set(err, 500, "tar: %s", archive_error_string(t->a));
}

static int tarw_open(tarw *t, berth_image_write_fn write, void *ud, bool live, berth_error **err)
{
	memset(t, 0, sizeof(*t));
	t->write = write;
	t->ud = ud;
	t->live = live;
	t->buf = berth_xmalloc(65536);
	t->a = archive_write_new();
	archive_write_set_format_pax_restricted(t->a);
	archive_write_set_bytes_per_block(t->a, 10240);
	archive_write_set_bytes_in_last_block(t->a, 1);
	if (archive_write_open(t->a, t, NULL, tarw_out, NULL) != ARCHIVE_OK)
		return tarw_fail(t, err);
	return 0;
}

static int tarw_close(tarw *t, bool ok, berth_error **err)
{
	int rc = 0;
	/* after a failure the client must not get what looks like a whole
	 * archive: no padding, no end-of-archive blocks */
	t->aborted = !ok;
	if (ok && archive_write_close(t->a) != ARCHIVE_OK)
		rc = tarw_fail(t, err);
	t->aborted = true;
	archive_write_free(t->a);
	for (size_t i = 0; i < LINK_BUCKETS; i++) {
		for (link_ent *l = t->links[i], *next; l; l = next) {
			next = l->next;
			free(l->name);
			free(l);
		}
	}
	berth_error_free(&t->werr);
	free(t->buf);
	return rc;
}

/* The name an inode was first written as, or NULL after remembering it. */
static const char *tarw_link(tarw *t, const struct stat *st, const char *name)
{
	size_t b = (size_t)(st->st_ino ^ st->st_dev * 31) % LINK_BUCKETS;
	for (link_ent *l = t->links[b]; l; l = l->next)
		if (l->dev == st->st_dev && l->ino == st->st_ino)
			return l->name;
	link_ent *l = berth_xcalloc(1, sizeof(*l));
	l->dev = st->st_dev;
	l->ino = st->st_ino;
	l->name = berth_xstrdup(name);
	l->next = t->links[b];
	t->links[b] = l;
	return NULL;
}

static int tarw_add(tarw *t, int dirfd, const char *name, const char *arcname, berth_error **err);

/* The entries of a directory, named prefix/child (child alone when prefix
 * is NULL). */
static int tarw_children(tarw *t, int fd, const char *prefix, berth_error **err)
{
	char **names = NULL;
	if (read_names(fd, &names, err) < 0)
		return -1;
	int rc = 0;
	for (char **n = names; *n && rc == 0; n++) {
		char *arc cleanup_free = prefix ? berth_xasprintf("%s/%s", prefix, *n) : berth_xstrdup(*n);
		rc = tarw_add(t, fd, *n, arc, err);
	}
	berth_strv_free(names);
	return rc;
}

/* One file (and a directory's contents), as dockerd's tar writer puts it:
 * mtime in whole seconds, no atime/ctime, security.capability kept, hard
 * links as links to the first name, sockets left out. Files that vanish
 * meanwhile are skipped. */
static int tarw_add(tarw *t, int dirfd, const char *name, const char *arcname, berth_error **err)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : berth_error_set_errno(err, errno, "lstat %s", arcname);
	if (S_ISSOCK(st.st_mode))
		return 0;
	int fd cleanup_close = -1;
	if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
		fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC |
						 (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
		if (fd < 0)
			return errno == ENOENT || errno == ELOOP || errno == ENOTDIR
				       ? 0 : berth_error_set_errno(err, errno, "open %s", arcname);
		if (fstat(fd, &st) < 0)
			return berth_error_set_errno(err, errno, "stat %s", arcname);
	}
	bool dir = S_ISDIR(st.st_mode);
	char *path cleanup_free = dir && !ends_with_slash(arcname) ? berth_xasprintf("%s/", arcname)
								    : berth_xstrdup(arcname);
	struct archive_entry *e = archive_entry_new();
	archive_entry_copy_stat(e, &st);
	archive_entry_set_mtime(e, st.st_mtim.tv_sec, 0);
	archive_entry_unset_atime(e);
	archive_entry_unset_ctime(e);
	archive_entry_unset_birthtime(e);
	archive_entry_set_pathname(e, path);
	const char *first = !dir && st.st_nlink > 1 ? tarw_link(t, &st, path) : NULL;
	if (first) {
		archive_entry_set_hardlink(e, first);
		archive_entry_set_size(e, 0);
	} else if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		archive_entry_set_symlink(e, target);
		archive_entry_set_size(e, 0);
	} else if (!S_ISREG(st.st_mode)) {
		archive_entry_set_size(e, 0);
	} else {
		char cap[1024];
		ssize_t n = fgetxattr(fd, CAP_XATTR, cap, sizeof(cap));
		if (n > 0)
			archive_entry_xattr_add_entry(e, CAP_XATTR, cap, (size_t)n);
	}
	int rc = archive_write_header(t->a, e) >= ARCHIVE_WARN ? 0 : tarw_fail(t, err);
	archive_entry_free(e);
	if (rc == 0 && S_ISREG(st.st_mode) && !first) {
		ssize_t n;
		while ((n = read(fd, t->buf, 65536)) > 0) {
			la_ssize_t w = archive_write_data(t->a, t->buf, (size_t)n);
			if (w < 0)
				return tarw_fail(t, err);
			if (w < n) /* the file grew: the header said less */
				break;
		}
		if (n < 0)
			return berth_error_set_errno(err, errno, "read %s", arcname);
	}
	if (rc < 0 || !dir || (t->live && on_pseudo_fs(fd)))
		return rc;
	return tarw_children(t, fd, arcname, err);
}

/* ================================================================ jobs */

typedef struct fs_job {
	berth_daemon *d;
	berth_container *c;         /* referenced until the job ends */
	fs_spec spec;
	berth_api_hold *hold;       /* for replies from the operation queue */
	pump *pump;
	bool head;

	/* archive */
	char *path;                 /* as the client gave it */
	int rootfd;
	bool live;
	char *abs;                  /* its absolute form in the root */
	int dirfd;                  /* the directory holding the target */
	char *base;                 /* the target's name there ("." for itself) */
	char *arcname;              /* the target's name in the archive */
	char *stat_header;          /* X-Docker-Container-Path-Stat */
	berth_api_kept_body body;   /* PUT: the archive */
	bool no_overwrite_dir_non_dir, copy_uid_gid;

	/* changes */
	json_t *result;

	/* commit */
	json_t *config;             /* the new image's config, without rootfs */
	char *image;                /* the container's image ID */
	char *repo, *tag, *comment;
	bool pause;
	char *new_id, *familiar;
} fs_job;

static fs_job *job_new(berth_daemon *d, berth_container *c)
{
	fs_job *j = berth_xcalloc(1, sizeof(*j));
	j->d = d;
	j->c = c;
	j->rootfd = j->dirfd = -1;
	container_ref(c);
	return j;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void job_free(fs_job *j)
{
	close_fd(&j->dirfd);
	close_fd(&j->rootfd);
	spec_reset(&j->spec);
	berth_api_hold_free(j->hold);
	free(j->path);
	free(j->abs);
	free(j->base);
	free(j->arcname);
	free(j->stat_header);
	berth_api_body_release(&j->body);
	json_decref(j->result);
	json_decref(j->config);
	free(j->image);
	free(j->repo);
	free(j->tag);
	free(j->comment);
	free(j->new_id);
	free(j->familiar);
	container_unref(j->c);
	free(j);
}

static void job_event(fs_job *j, const char *action, json_t *attrs)
{
	if (!j->c->removed)
		container_event(j->c, action, attrs);
	else
		json_decref(attrs);
}

/* Queues pool work for a job; on failure the job ends here. */
static int job_defer(fs_job *j, berth_api_req *req, berth_api_work_fn work,
		     berth_api_done_fn done, berth_error **err)
{
	if (berth_api_defer(j->d, req, work, done, j) == 0)
		return 0;
	if (j->pump)
		pump_finish(j->pump, NULL, 0);
	job_free(j);
	return berth_error_set(err, 500, "could not queue the work");
}

static int pump_writer(void *ud, const void *data, size_t len, berth_error **err)
{
	fs_job *j = ud;
	return pump_write(j->pump, data, len, err);
}

/* A container by the {id} of the route. */
static int find(berth_daemon *d, const char *name, berth_container **c, berth_error **err)
{
	return berth_container_find(d->containers, name, c, err);
}

/* ============================================================== changes */

static int changes_work(void *ud, berth_error **err)
{
	fs_job *j = ud;
	char *upper cleanup_free = berth_xasprintf("%s/upper", j->spec.fs_dir);
	return berth_container_fs_changes(upper, j->spec.lowers, &j->result, err);
}

static int changes_done(berth_daemon *d, berth_api_req *req, void *ud, berth_error *work_err,
			berth_error **err)
{
	fs_job *j = ud;
	int rc = 0;
	if (work_err)
		rc = berth_error_set(err, work_err->status, "%s", work_err->msg);
	else if (req)
		/* dockerd's nil slice: null when nothing changed */
		berth_api_reply_json(req, 200, json_array_size(j->result) ? json_incref(j->result)
									   : json_null());
	job_free(j);
	return rc;
}

int berth_container_api_changes(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	berth_container *c;
	const char *name = berth_api_param(req, "id");
	if (find(d, name, &c, err) < 0)
		return -1;
	fs_job *j = job_new(d, c);
	if (spec_fill(c, name, &j->spec, err) < 0) {
		job_free(j);
		return -1;
	}
	return job_defer(j, req, changes_work, changes_done, err);
}

/* =============================================================== export */

static int export_open_work(void *ud, berth_error **err)
{
	fs_job *j = ud;
	return root_open_snapshot(&j->spec, &j->rootfd, err);
}

static int export_work(void *ud, berth_error **err)
{
	fs_job *j = ud;
	tarw t;
	int rc = tarw_open(&t, pump_writer, j, false, err);
	if (rc == 0)
		rc = tarw_children(&t, j->rootfd, NULL, err);
	if (tarw_close(&t, rc == 0, rc == 0 ? err : NULL) < 0)
		rc = -1;
	close_fd(&j->rootfd);
	return rc;
}

static int export_done(berth_daemon *d, berth_api_req *req, void *ud, berth_error *work_err,
		       berth_error **err)
{
	fs_job *j = ud;
	if (work_err)
		berth_warn("export of container %s failed: %s", j->spec.id, work_err->msg);
	else
		job_event(j, "export", NULL);
	pump_finish(j->pump, NULL, 0);
	job_free(j);
	return 0;
}

static int export_opened(berth_daemon *d, berth_api_req *req, void *ud, berth_error *work_err,
			 berth_error **err)
{
	fs_job *j = ud;
	if (work_err || req == NULL) {
		int rc = work_err ? berth_error_set(err, work_err->status, "%s", work_err->msg) : 0;
		job_free(j);
		return rc;
	}
	j->pump = pump_start(d, req, "application/x-tar");
	if (j->pump == NULL) {
		job_free(j);
		return berth_error_set(err, 500, "could not start the response");
	}
	return job_defer(j, req, export_work, export_done, err);
}

int berth_container_api_export(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	berth_container *c;
	const char *name = berth_api_param(req, "id");
	if (find(d, name, &c, err) < 0)
		return -1;
	if (c->removing)
		return berth_error_set(err, 409, "container %s is marked for removal and cannot be "
						 "exported", c->id);
	fs_job *j = job_new(d, c);
	if (spec_fill(c, name, &j->spec, err) < 0) {
		job_free(j);
		return -1;
	}
	return job_defer(j, req, export_open_work, export_opened, err);
}

/* ============================================================ path stat */

/* Go's os.FileMode bits of a stat mode (what the docker CLI decodes). */
static uint32_t go_file_mode(mode_t m)
{
	uint32_t out = m & 0777;
	switch (m & S_IFMT) {
	case S_IFBLK: out |= 1u << 26; break;                 /* ModeDevice */
	case S_IFCHR: out |= 1u << 26 | 1u << 21; break;      /* | ModeCharDevice */
	case S_IFDIR: out |= 1u << 31; break;
	case S_IFIFO: out |= 1u << 25; break;
	case S_IFLNK: out |= 1u << 27; break;
	case S_IFSOCK: out |= 1u << 24; break;
	}
	if (m & S_ISUID)
		out |= 1u << 23;
	if (m & S_ISGID)
		out |= 1u << 22;
	if (m & S_ISVTX)
		out |= 1u << 20;
	return out;
}

/* A time as Go's encoding/json writes it: RFC 3339, the fraction's trailing
 * zeros cut. */
static void go_time(const struct timespec *ts, char *out, size_t outlen)
{
	struct tm tm;
	gmtime_r(&ts->tv_sec, &tm);
	char base[32], frac[16] = "";
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	if (ts->tv_nsec) {
		snprintf(frac, sizeof(frac), ".%09ld", ts->tv_nsec);
		for (size_t n = strlen(frac); frac[n - 1] == '0'; n--)
			frac[n - 1] = '\0';
	}
	snprintf(out, outlen, "%s%sZ", base, frac);
}

/* Go's wording of an errno ("not a directory"). */
static char *go_strerror(int e)
{
	char *s = berth_xstrdup(strerror(e));
	s[0] = (char)tolower((unsigned char)s[0]);
	return s;
}

static int lstat_failed(const fs_job *j, int e, berth_error **err)
{
	char *why cleanup_free = go_strerror(e);
	return berth_error_set(err, 500, "lstat %s: %s", j->path, why);
}

static int not_found(const fs_job *j, berth_error **err)
{
	return berth_error_set(err, 404, "Could not find the file %s in container %s", j->path,
			       j->spec.name);
}

/*
 * container.ResolvePath + StatPath: the directory part of the path is
 * resolved (links followed inside the root), the last element is not,
 * unless the path ends in "/" or "/.". inner is the path in the root the
 * work happens in; mount_dst (NULL when that is the container's root) the
 * mount that root is. Fills dirfd, base, arcname and the stat header.
 */
static int target_resolve(fs_job *j, const char *inner, const char *mount_dst, berth_error **err)
{
	char *clean cleanup_free = path_clean(inner);
	char *abs = berth_path_preserve(clean, inner);
	j->abs = abs;
	const char *slash = strrchr(abs, '/');
	char *dir cleanup_free = berth_xstrndup(abs, (size_t)(slash - abs + 1));
	const char *base = slash + 1;
	int fd = open_in_root(j->rootfd, dir, O_PATH | O_DIRECTORY);
	if (fd == -ENOENT)
		return not_found(j, err);
	if (fd < 0)
		return lstat_failed(j, -fd, err);
	j->dirfd = fd;
	j->base = berth_xstrdup(*base ? base : ".");
	struct stat st;
	if (fstatat(fd, j->base, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? not_found(j, err) : lstat_failed(j, errno, err);
	/* the archive's names start with the last element of the client's
	 * path, or "/" for the root (whose entries then read "/bin", ...) */
	char *given cleanup_free = berth_xasprintf("/%s", j->path);
	char *given_clean cleanup_free = path_clean(given);
	char *given_abs cleanup_free = berth_path_preserve(given_clean, given);
	char *name cleanup_free = berth_path_base(given_abs);
	j->arcname = strcmp(name, "/") == 0 ? berth_xstrdup("") : berth_xstrdup(name);
	char *link cleanup_free = NULL;
	if (S_ISLNK(st.st_mode)) {
		char *in_root cleanup_free = scope_resolve(j->rootfd, abs);
		link = mount_dst ? berth_xasprintf("%s%s", mount_dst, in_root) : berth_xstrdup(in_root);
	}
	char mtime[64];
	go_time(&st.st_mtim, mtime, sizeof(mtime));
	json_t *stat = json_pack("{s:s, s:I, s:I, s:s, s:s}", "name", name, "size",
				 (json_int_t)st.st_size, "mode", (json_int_t)go_file_mode(st.st_mode),
				 "mtime", mtime, "linkTarget", link ? link : "");
	char *text cleanup_free = berth_json_dump(stat);
	json_decref(stat);
	j->stat_header = berth_base64(text, strlen(text));
	return 0;
}

/* ======================================================= archive: reads */

static int archive_stat_work(void *ud, berth_error **err)
{
	fs_job *j = ud;
	char *inner cleanup_free = NULL, *seen cleanup_free = NULL, *mnt cleanup_free = NULL;
	char *abs cleanup_free = berth_xasprintf("/%s", j->path);
	int rc = root_for_path(&j->spec, abs, false, &j->rootfd, &inner, &j->live, &seen, &mnt, err);
	if (rc == 0)
		rc = target_resolve(j, inner, mnt, err);
	if (rc < 0 || j->head) {
		close_fd(&j->dirfd);
		close_fd(&j->rootfd);
	}
	return rc;
}

static int archive_tar_work(void *ud, berth_error **err)
{
	fs_job *j = ud;
	tarw t;
	int rc = tarw_open(&t, pump_writer, j, j->live, err);
	if (rc == 0)
		rc = tarw_add(&t, j->dirfd, j->base, j->arcname, err);
	if (tarw_close(&t, rc == 0, rc == 0 ? err : NULL) < 0)
		rc = -1;
	close_fd(&j->dirfd);
	close_fd(&j->rootfd);
	return rc;
}

static int archive_tar_done(berth_daemon *d, berth_api_req *req, void *ud, berth_error *work_err,
			    berth_error **err)
{
	fs_job *j = ud;
	if (work_err)
		berth_warn("copy from container %s failed: %s", j->spec.id, work_err->msg);
	pump_finish(j->pump, NULL, 0);
	job_free(j);
	return 0;
}

static int archive_stat_done(berth_daemon *d, berth_api_req *req, void *ud, berth_error *work_err,
			     berth_error **err)
{
	fs_job *j = ud;
	if (work_err || req == NULL) {
		int rc = work_err ? berth_error_set(err, work_err->status, "%s", work_err->msg) : 0;
		job_free(j);
		return rc;
	}
	berth_api_add_header(req, "X-Docker-Container-Path-Stat", j->stat_header);
	if (j->head) {
		job_free(j);
		return berth_api_reply_empty(req, 200);
	}
	job_event(j, "archive-path", NULL);
	j->pump = pump_start(d, req, "application/x-tar");
	if (j->pump == NULL) {
		job_free(j);
		return berth_error_set(err, 500, "could not start the response");
	}
	return job_defer(j, req, archive_tar_work, archive_tar_done, err);
}

/* ====================================================== archive: writes */

typedef struct dir_time {
	char *path;      /* absolute in the root */
	struct timespec times[2];
} dir_time;

typedef struct extractor {
	int rootfd;
	const char *dest;            /* the extraction point, absolute, resolved */
	bool no_overwrite_dir_non_dir;
	bool chown_all;              /* copyUIDGID with a user: everything to uid:gid */
	uid_t uid;
	gid_t gid;
	char *cached;                /* the directory last opened, and its fd */
	int cached_fd;
	dir_time *dirs;
	size_t ndirs;
} extractor;

static void ex_uncache(extractor *x)
{
	free(x->cached);
	x->cached = NULL;
	close_fd(&x->cached_fd);
}

/* Opens (O_PATH) the directory at path, creating what is missing with mode
 * 0755 as dockerd's createImpliedDirectories does. The fd is the cache's. */
static int ex_dir(extractor *x, const char *path, int *out, berth_error **err)
{
	if (x->cached && strcmp(x->cached, path) == 0) {
		*out = x->cached_fd;
		return 0;
	}
	int fd = open_in_root(x->rootfd, path, O_PATH | O_DIRECTORY);
	if (fd == -ENOENT && strcmp(path, "/") != 0) {
		char *parent cleanup_free = path_dir(path);
		char *leaf cleanup_free = berth_path_base(path);
		int pfd;
		if (ex_dir(x, parent, &pfd, err) < 0)
			return -1;
		if (mkdirat(pfd, leaf, 0755) < 0 && errno != EEXIST)
			return berth_error_set_errno(err, errno, "mkdir %s", path);
		fd = open_in_root(x->rootfd, path, O_PATH | O_DIRECTORY);
	}
	if (fd < 0)
		return berth_error_set(err, 500, "open %s: %s", path, strerror(-fd));
	ex_uncache(x);
	x->cached = berth_xstrdup(path);
	x->cached_fd = fd;
	*out = fd;
	return 0;
}

/* os.RemoveAll of dirfd/name, never following links. */
static int remove_at(int dirfd, const char *name)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	char **names = NULL;
	int rc = read_names(fd, &names, NULL);
	for (char **n = names; rc == 0 && n && *n; n++)
		rc = remove_at(fd, *n);
	berth_strv_free(names);
	close(fd);
	if (rc == 0 && unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		rc = -1;
	return rc;
}

/* Owner, extended attributes, mode and times of what fd (a real fd, not
 * O_PATH) is, after its contents are in. */
static int ex_meta_fd(extractor *x, int fd, struct archive_entry *e, const char *path,
		      berth_error **err)
{
	uid_t uid = x->chown_all ? x->uid : (uid_t)archive_entry_uid(e);
	gid_t gid = x->chown_all ? x->gid : (gid_t)archive_entry_gid(e);
	if (fchown(fd, uid, gid) < 0)
		return berth_error_set_errno(err, errno, "lchown %s", path);
	archive_entry_xattr_reset(e);
	const char *name;
	const void *value;
	size_t size;
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		if (fsetxattr(fd, name, value, size, 0) < 0 && errno != ENOTSUP && errno != EPERM)
			return berth_error_set_errno(err, errno, "setxattr %s %s", path, name);
	}
	/* after chown, which clears set-user-ID */
	if (fchmod(fd, archive_entry_perm(e) | (archive_entry_mode(e) & (S_ISUID | S_ISGID | S_ISVTX))) < 0)
		return berth_error_set_errno(err, errno, "chmod %s", path);
	return 0;
}

/* atime: the later of the entry's atime and mtime, as dockerd sets them. */
static void ex_times(struct archive_entry *e, struct timespec ts[2])
{
	ts[1].tv_sec = archive_entry_mtime(e);
	ts[1].tv_nsec = archive_entry_mtime_nsec(e);
	ts[0] = ts[1];
	if (archive_entry_atime_is_set(e) && archive_entry_atime(e) > ts[1].tv_sec) {
		ts[0].tv_sec = archive_entry_atime(e);
		ts[0].tv_nsec = archive_entry_atime_nsec(e);
	}
}

static int ex_file(extractor *x, struct archive *a, struct archive_entry *e, int pfd,
		   const char *leaf, const char *path, berth_error **err)
{
	int fd cleanup_close = openat(pfd, leaf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				      0600);
	if (fd < 0)
		return berth_error_set_errno(err, errno, "open %s", path);
	const void *buf;
	size_t len;
	la_int64_t off;
	int r;
	while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
		for (size_t done = 0; done < len;) {
			ssize_t n = pwrite(fd, (const char *)buf + done, len - done, off + (off_t)done);
			if (n < 0)
				return berth_error_set_errno(err, errno, "write %s", path);
			done += (size_t)n;
		}
	}
	if (r != ARCHIVE_EOF)
		return berth_error_set(err, 500, "unexpected EOF reading the archive: %s",
				       archive_error_string(a));
	if (ftruncate(fd, archive_entry_size(e)) < 0) /* trailing holes */
		return berth_error_set_errno(err, errno, "truncate %s", path);
	if (ex_meta_fd(x, fd, e, path, err) < 0)
		return -1;
	struct timespec ts[2];
	ex_times(e, ts);
	futimens(fd, ts);
	return 0;
}

/* Applies one entry under dest; dockerd's Unpack/createTarFile. */
static int ex_entry(extractor *x, struct archive *a, struct archive_entry *e, berth_error **err)
{
	const char *raw = archive_entry_pathname(e);
	char *rel cleanup_free = NULL;
	if (raw == NULL || entry_clean(raw, &rel) < 0)
		return berth_error_set(err, 500, "\"%s\" is outside of \"%s\"", raw ? raw : "",
				       x->dest);
	if (*rel == '\0') /* the extraction point itself */
		return 0;
	char *path cleanup_free = path_join(x->dest, rel);
	char *parent cleanup_free = path_dir(path);
	char *leaf cleanup_free = berth_path_base(path);
	mode_t type = archive_entry_filetype(e);
	const char *hardlink = archive_entry_hardlink(e);
	if (hardlink)
		type = AE_IFREG;
	int pfd;
	if (ex_dir(x, parent, &pfd, err) < 0)
		return -1;

	struct stat old;
	if (fstatat(pfd, leaf, &old, AT_SYMLINK_NOFOLLOW) == 0) {
		bool old_dir = S_ISDIR(old.st_mode), new_dir = type == AE_IFDIR;
		if (x->no_overwrite_dir_non_dir && old_dir && !new_dir)
			return berth_error_set(err, 500, "cannot overwrite directory \"%s\" with "
							 "non-directory \"%s\"", path, x->dest);
		if (x->no_overwrite_dir_non_dir && !old_dir && new_dir)
			return berth_error_set(err, 500, "cannot overwrite non-directory \"%s\" with "
							 "directory \"%s\"", path, x->dest);
		if (!(old_dir && new_dir)) {
			if (remove_at(pfd, leaf) < 0)
				return berth_error_set_errno(err, errno, "remove %s", path);
			if (old_dir)
				ex_uncache(x);
			if (ex_dir(x, parent, &pfd, err) < 0)
				return -1;
		}
	}

	uid_t uid = x->chown_all ? x->uid : (uid_t)archive_entry_uid(e);
	gid_t gid = x->chown_all ? x->gid : (gid_t)archive_entry_gid(e);
	struct timespec ts[2];
	ex_times(e, ts);
	if (hardlink) {
		char *target_rel cleanup_free = NULL;
		if (entry_clean(hardlink, &target_rel) < 0)
			return berth_error_set(err, 500, "invalid hardlink \"%s\" -> \"%s\"", path,
					       hardlink);
		char *target cleanup_free = path_join(x->dest, target_rel);
		int tfd = open_in_root(x->rootfd, target, O_PATH | O_NOFOLLOW);
		if (tfd < 0)
			return berth_error_set(err, 500, "link %s %s: %s", target, path, strerror(-tfd));
		int rc = linkat(tfd, "", pfd, leaf, AT_EMPTY_PATH);
		int e2 = errno;
		close(tfd);
		return rc < 0 ? berth_error_set_errno(err, e2, "link %s %s", target, path) : 0;
	}
	switch (type) {
	case AE_IFDIR: {
		if (mkdirat(pfd, leaf, 0700) < 0 && errno != EEXIST)
			return berth_error_set_errno(err, errno, "mkdir %s", path);
		int fd cleanup_close = openat(pfd, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			return berth_error_set_errno(err, errno, "open %s", path);
		if (ex_meta_fd(x, fd, e, path, err) < 0)
			return -1;
		/* times once the directory's entries are in */
		x->dirs = berth_xrealloc(x->dirs, (x->ndirs + 1) * sizeof(*x->dirs));
		x->dirs[x->ndirs].path = berth_xstrdup(path);
		memcpy(x->dirs[x->ndirs].times, ts, sizeof(ts));
		x->ndirs++;
		return 0;
	}
	case AE_IFREG:
		return ex_file(x, a, e, pfd, leaf, path, err);
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(e);
		if (target == NULL)
			target = "";
		/* dockerd refuses a relative link whose target is outside the
		 * extraction point */
		if (target[0] != '/') {
			const char *slash = strrchr(rel, '/');
			char *t cleanup_free = slash ? berth_xasprintf("%.*s/%s", (int)(slash - rel), rel,
								       target)
						     : berth_xstrdup(target);
			char *clean cleanup_free = NULL;
			if (entry_clean(t, &clean) < 0)
				return berth_error_set(err, 500, "invalid symlink \"%s\" -> \"%s\"", path,
						       target);
		}
		if (symlinkat(target, pfd, leaf) < 0)
			return berth_error_set_errno(err, errno, "symlink %s %s", target, path);
		if (fchownat(pfd, leaf, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
			return berth_error_set_errno(err, errno, "lchown %s", path);
		utimensat(pfd, leaf, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	case AE_IFCHR:
	case AE_IFBLK:
	case AE_IFIFO: {
		mode_t mode = type | (archive_entry_perm(e) & 0777);
		if (mknodat(pfd, leaf, mode, archive_entry_rdev(e)) < 0)
			return berth_error_set_errno(err, errno, "mknod %s", path);
		/* owner and mode through an O_PATH fd: never through a link a
		 * container could swap in */
		int fd cleanup_close = openat(pfd, leaf, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (fd < 0 || fstat(fd, &st) < 0 || (st.st_mode & S_IFMT) != type)
			return berth_error_set(err, 500, "mknod %s: replaced meanwhile", path);
		if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH) < 0)
			return berth_error_set_errno(err, errno, "lchown %s", path);
		char proc[64];
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		if (chmod(proc, archive_entry_perm(e) | (archive_entry_mode(e) & (S_ISUID | S_ISGID | S_ISVTX))) < 0)
			return berth_error_set_errno(err, errno, "chmod %s", path);
		utimensat(pfd, leaf, ts, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	default: /* sockets and the like: dockerd skips them too */
		return 0;
	}
}

/* Numeric or a name in the container's /etc/passwd (/etc/group). */
static bool lookup_id(int rootfd, const char *file, const char *name, unsigned *id,
		      unsigned *primary_gid)
{
	char *end;
	unsigned long n = strtoul(name, &end, 10);
	bool numeric = *name && *end == '\0';
	int fd = open_in_root(rootfd, file, O_RDONLY);
	FILE *f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (f == NULL && fd >= 0)
		close(fd);
	char line[1024];
	bool found = false;
	while (f && !found && fgets(line, sizeof(line), f)) {
		char **fields = berth_str_split(line, ':');
		if (berth_strv_len(fields) >= 3) {
			unsigned long fid = strtoul(fields[2], NULL, 10);
			if (numeric ? fid == n : strcmp(fields[0], name) == 0) {
				*id = (unsigned)fid;
				if (primary_gid && berth_strv_len(fields) >= 4)
					*primary_gid = (unsigned)strtoul(fields[3], NULL, 10);
				found = true;
			}
		}
		berth_strv_free(fields);
	}
	if (f)
		fclose(f);
	if (!found && numeric) {
		*id = (unsigned)n;
		if (primary_gid)
			*primary_gid = (unsigned)n;
		found = true;
	}
	return found;
}

/* copyUIDGID: dockerd's tarCopyOptions give everything the container's
 * user (and its primary group, or the group it names). */
static int ex_user(extractor *x, const char *user, berth_error **err)
{
	char *u cleanup_free = berth_xstrdup(user);
	char *group = strchr(u, ':');
	if (group)
		*group++ = '\0';
	unsigned uid = 0, gid = 0;
	if (!lookup_id(x->rootfd, "/etc/passwd", u, &uid, &gid))
		return berth_error_set(err, 500, "Unable to find user %s: no matching entries in "
						 "passwd file", u);
	if (group && *group && !lookup_id(x->rootfd, "/etc/group", group, &gid, NULL))
		return berth_error_set(err, 500, "Unable to find group %s: no matching entries in "
						 "group file", group);
	x->chown_all = true;
	x->uid = uid;
	x->gid = gid;
	return 0;
}

static int extract_into(fs_job *j, berth_error **err)
{
	char *abs cleanup_free = berth_xasprintf("/%s", j->path);
	char *inner cleanup_free = NULL, *seen cleanup_free = NULL, *mnt cleanup_free = NULL;
	if (root_for_path(&j->spec, abs, true, &j->rootfd, &inner, &j->live, &seen, &mnt, err) < 0)
		return -1;
	/* the extraction point: every link followed, the last one too */
	char *clean cleanup_free = path_clean(inner);
	char *point cleanup_free = berth_path_preserve(clean, inner);
	int dfd = open_in_root(j->rootfd, point, O_PATH);
	if (dfd == -ENOENT)
		return not_found(j, err);
	if (dfd < 0)
		return lstat_failed(j, -dfd, err);
	struct stat st;
	int rc = fstat(dfd, &st);
	close(dfd);
	if (rc < 0 || !S_ISDIR(st.st_mode))
		return berth_error_set(err, 400, "extraction point is not a directory");
	char *dest cleanup_free = scope_resolve(j->rootfd, point);
	/* writes into a read-only volume or rootfs are refused as dockerd
	 * refuses them (the path as the container sees it) */
	const json_t *m = mount_of(j->spec.mounts, j->live ? dest : seen);
	if (m && json_is_false(json_object_get(m, "RW")))
		return berth_error_set(err, 400, "mounted volume is marked read-only");
	if (m == NULL && j->spec.readonly_rootfs)
		return berth_error_set(err, 400, "container rootfs is marked read-only");

	extractor x = {.rootfd = j->rootfd, .dest = dest, .cached_fd = -1,
		       .no_overwrite_dir_non_dir = j->no_overwrite_dir_non_dir};
	if (j->copy_uid_gid && *j->spec.user && ex_user(&x, j->spec.user, err) < 0)
		return -1;
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	rc = 0;
	if (archive_read_open_memory(a, j->body.data, j->body.len) != ARCHIVE_OK)
		rc = berth_error_set(err, 400, "%s", archive_error_string(a));
	struct archive_entry *e;
	int r = ARCHIVE_OK;
	while (rc == 0 && ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN))
		rc = ex_entry(&x, a, e, err);
	if (rc == 0 && r != ARCHIVE_EOF && j->body.len > 0)
		rc = berth_error_set(err, 500, "%s", archive_error_string(a));
	archive_read_free(a);
	for (size_t i = 0; i < x.ndirs; i++) {
		int fd = rc == 0 ? open_in_root(j->rootfd, x.dirs[i].path,
						O_RDONLY | O_DIRECTORY | O_NOFOLLOW) : -1;
		if (fd >= 0) {
			futimens(fd, x.dirs[i].times);
			close(fd);
		}
		free(x.dirs[i].path);
	}
	free(x.dirs);
	ex_uncache(&x);
	close_fd(&j->rootfd);
	return rc;
}

static int extract_work(void *ud, berth_error **err)
{
	fs_job *j = ud;
	int rc = extract_into(j, err);
	berth_api_body_release(&j->body); /* unmapping a large archive: not on the loop */
	return rc;
}

static void extract_reply(fs_job *j, berth_api_req *req, const berth_error *work_err)
{
	if (work_err == NULL)
		job_event(j, "extract-to-dir", NULL);
	if (req && work_err)
		berth_api_reply_error(req, work_err);
	else if (req)
		berth_api_reply_empty(req, 200);
}

static int extract_done(berth_daemon *d, berth_api_req *req, void *ud, berth_error *work_err,
			berth_error **err)
{
	fs_job *j = ud;
	extract_reply(j, req, work_err);
	job_free(j);
	return 0;
}

static void extract_op_done(berth_container *c, void *data, berth_error *work_err)
{
	fs_job *j = data;
	extract_reply(j, berth_api_hold_req(j->hold), work_err);
	job_free(j);
}

/* ============================================================= archive */

int berth_container_api_archive(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	const char *method = berth_api_method(req);
	const char *name = berth_api_param(req, "id");
	const char *path = berth_api_query(req, "path");
	if (path == NULL || *path == '\0')
		return berth_error_set(err, 400, "bad parameter: 'path' cannot be empty");
	berth_container *c;
	if (find(d, name, &c, err) < 0)
		return -1;
	fs_job *j = job_new(d, c);
	j->path = berth_xstrdup(path);
	if (spec_fill(c, name, &j->spec, err) < 0) {
		job_free(j);
		return -1;
	}
	if (strcmp(method, "PUT") != 0) {
		j->head = strcmp(method, "HEAD") == 0;
		return job_defer(j, req, archive_stat_work, archive_stat_done, err);
	}
	j->no_overwrite_dir_non_dir = berth_api_query_bool(req, "noOverwriteDirNonDir", false);
	j->copy_uid_gid = berth_api_query_bool(req, "copyUIDGID", false);
	/* kept: the request may go before the work ends */
	berth_api_body_keep(req, &j->body);
	if (j->spec.pid > 0)
		return job_defer(j, req, extract_work, extract_done, err);
	/* a stopped container's upper dir is written through a mount of its
	 * own: in turn with start and the rest of the container's operations */
	j->hold = berth_api_hold_new(req);
	container_op_queue(c, extract_work, extract_op_done, j);
	return 0;
}

/* ============================================================== commit */

/* Go's time.Time in JSON for a config's created fields. */
static void go_time_now(char *out, size_t outlen)
{
	int64_t ns = berth_time_now_ns();
	struct timespec ts = {.tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000};
	go_time(&ts, out, outlen);
}

/* The new image's config as dockerd's NewChildImage writes it (rootfs is
 * the store's): Go's field order, the parent's platform and history with
 * one entry appended. */
static json_t *commit_config(const json_t *parent, json_t *config, const json_t *container_config,
			     const char *container_id, const char *author, const char *comment)
{
	char created[64];
	go_time_now(created, sizeof(created));
	json_t *img = json_object();
	if (comment && *comment)
		json_object_set_new(img, "comment", json_string(comment));
	json_object_set_new(img, "created", json_string(created));
	json_object_set_new(img, "container", json_string(container_id));
	json_object_set_new(img, "container_config", json_deep_copy(container_config));
	if (author && *author)
		json_object_set_new(img, "author", json_string(author));
	json_object_set(img, "config", config);
	const char *keys[] = {"architecture", "variant", "os"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++) {
		const char *v = berth_json_string(parent, keys[i]);
		if (v && *v)
			json_object_set_new(img, keys[i], json_string(v));
	}
	if (json_object_get(img, "os") == NULL)
		json_object_set_new(img, "os", json_string("linux"));
	json_t *history = json_is_array(json_object_get(parent, "history"))
				  ? json_deep_copy(json_object_get(parent, "history")) : json_array();
	json_t *h = json_pack("{s:s}", "created", created);
	if (author && *author)
		json_object_set_new(h, "author", json_string(author));
	berth_buf by cleanup_buf = {0};
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(container_config, "Cmd"), i, v)
		berth_buf_printf(&by, "%s%s", i ? " " : "", json_string_value(v) ?: "");
	if (by.len)
		json_object_set_new(h, "created_by", json_string(by.data));
	if (comment && *comment)
		json_object_set_new(h, "comment", json_string(comment));
	json_array_append_new(history, h);
	json_object_set_new(img, "history", history);
	const char *more[] = {"os.version", "os.features"};
	for (size_t k = 0; k < BERTH_ARRAY_SIZE(more); k++) {
		json_t *mv = json_object_get(parent, more[k]);
		if (mv)
			json_object_set(img, more[k], mv);
	}
	return img;
}

static int diff_to_fd(void *ud, const void *data, size_t len, berth_error **err)
{
	int *fd = ud;
	if (berth_write_all(*fd, data, len) < 0)
		return berth_error_set_errno(err, errno, "write the layer");
	return 0;
}

static int shim_cmd(const char *shim_dir, const char *cmd, berth_error **err)
{
	json_t *req cleanup_json = json_pack("{s:s}", "cmd", cmd);
	return container_shim_call(shim_dir, req, NULL, err);
}

static int commit_work(void *ud, berth_error **err)
{
	fs_job *j = ud;
	char *upper cleanup_free = berth_xasprintf("%s/upper", j->spec.fs_dir);
	if (berth_mkdir_all(upper, 0755, err) < 0)
		return -1;
	/* the layer goes to an unnamed file beside the container: nothing to
	 * clean up after a crash, and memory stays bounded */
	int fd cleanup_close = open(j->spec.dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return berth_error_set_errno(err, errno, "create the layer file");
	berth_error *perr cleanup_error = NULL;
	bool paused = j->pause && shim_cmd(j->spec.shim_dir, "pause", &perr) == 0;
	if (j->pause && !paused)
		berth_warn("commit of %s: not paused: %s", j->spec.id, perr->msg);
	int rc = berth_image_diff(upper, diff_to_fd, &fd, err);
	berth_error *rerr cleanup_error = NULL;
	if (paused && shim_cmd(j->spec.shim_dir, "resume", &rerr) < 0)
		berth_warn("commit of %s: resume: %s", j->spec.id, rerr->msg);
	if (rc < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) < 0)
		return berth_error_set_errno(err, errno, "stat the layer file");
	void *data = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (data == MAP_FAILED)
		return berth_error_set_errno(err, errno, "map the layer file");
	berth_image_source src = {data, (size_t)st.st_size};
	rc = berth_image_create(j->d->images, j->image, &src, j->config, &j->new_id, err);
	munmap(data, (size_t)st.st_size);
	if (rc == 0 && j->repo && *j->repo)
		rc = berth_image_tag(j->d->images, j->new_id, j->repo, j->tag, NULL, &j->familiar, err);
	return rc;
}

static void commit_done(berth_container *c, void *data, berth_error *work_err)
{
	fs_job *j = data;
	berth_api_req *req = berth_api_hold_req(j->hold);
	if (work_err == NULL) {
		if (j->familiar)
			berth_events_publish(j->d->events, "image", "tag", j->new_id,
					     berth_image_event_attributes(j->d->images, j->new_id,
									  j->familiar));
		job_event(j, "commit", json_pack("{s:s, s:s, s:s}", "comment",
						 j->comment ? j->comment : "", "imageID", j->new_id,
						 "imageRef", j->familiar ? j->familiar : ""));
	}
	if (req && work_err)
		berth_api_reply_error(req, work_err);
	else if (req)
		berth_api_reply_json(req, 201, json_pack("{s:s}", "Id", j->new_id));
	job_free(j);
}

/* The request body's Config, or NULL when there is none (the docker CLI
 * sends no body: the container's Config is used). */
static int commit_body(berth_api_req *req, json_t **out, berth_error **err)
{
	size_t len;
	const char *body = berth_api_body(req, &len);
	size_t skip = 0;
	while (skip < len && isspace((unsigned char)body[skip]))
		skip++;
	*out = NULL;
	if (skip == len || (len - skip >= 4 && strncmp(body + skip, "null", 4) == 0))
		return 0;
	json_t *cfg = NULL;
	if (berth_json_parse_object(body, len, &cfg, err) < 0)
		return -1;
	json_object_del(cfg, "HostConfig");
	json_object_del(cfg, "NetworkingConfig");
	*out = cfg;
	return 0;
}

int berth_container_api_commit(berth_daemon *d, berth_api_req *req, berth_error **err)
{
	const char *name = berth_api_query(req, "container");
	berth_container *c;
	if (find(d, name ? name : "", &c, err) < 0)
		return -1;
	if (strcmp(container_status(c) ?: "", "dead") == 0)
		return berth_error_set(err, 409, "You cannot commit container %s which is Dead", c->id);
	if (c->removing)
		return berth_error_set(err, 409, "You cannot commit container %s which is being "
						 "removed", c->id);
	const char *repo = berth_api_query(req, "repo");
	const char *tag = berth_api_query(req, "tag");
	if (repo && *repo) {
		berth_image_ref ref;
		if (berth_image_ref_parse(repo, &ref, err) < 0)
			return -1;
		bool digest = ref.digest != NULL;
		berth_image_ref_reset(&ref);
		if (digest)
			return berth_error_set(err, 400, "cannot import digest reference");
	}
	/* pause defaults to true (API 1.13 and later) */
	bool pause = berth_api_query(req, "pause") == NULL || berth_api_query_bool(req, "pause", true);
	const json_t *cconfig = json_object_get(c->record, "Config");
	json_t *config cleanup_json = NULL;
	if (commit_body(req, &config, err) < 0)
		return -1;
	if (config == NULL)
		config = json_deep_copy(cconfig);
	char **changes = berth_api_query_all(req, "changes");
	int rc = berth_image_apply_changes(config, changes, err);
	berth_strv_free(changes);
	if (rc < 0 || berth_oci_config_merge(config, cconfig, err) < 0)
		return -1;
	const char *image = berth_json_string(c->record, "Image");
	json_t *parent cleanup_json = NULL;
	if (berth_image_config(d->images, image ? image : "", &parent, err) < 0)
		return -1;
	fs_job *j = job_new(d, c);
	if (spec_fill(c, name, &j->spec, err) < 0) {
		job_free(j);
		return -1;
	}
	const char *author = berth_api_query(req, "author");
	const char *comment = berth_api_query(req, "comment");
	j->config = commit_config(parent, config, cconfig, c->id, author, comment);
	j->image = berth_xstrdup(image);
	j->repo = repo && *repo ? berth_xstrdup(repo) : NULL;
	j->tag = tag && *tag ? berth_xstrdup(tag) : NULL;
	j->comment = berth_xstrdup(comment ? comment : "");
	j->pause = pause && container_running(c) && !container_paused(c);
	j->hold = berth_api_hold_new(req);
	container_op_queue(c, commit_work, commit_done, j);
	return 0;
}
