/*
 * copy.c - COPY, ADD and WORKDIR's directory: files are written into an
 * overlay mount of the step's image (its upper dir becomes the layer), every
 * path resolved with RESOLVE_IN_ROOT so that neither the context nor the
 * image can lead a write or a read outside its root. Sources are walked
 * once to checksum them for the cache, then copied.
 */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <dirent.h>

#include "engine/image/image.h"
#include "internal.h"

/* ------------------------------------------------------------ paths */

/* Opens path below root, resolving symlinks and ".." inside root. */
int copy_open_in(int root, const char *path, int flags, berth_error **err)
{
	struct open_how how = {.flags = (uint64_t)(flags | O_CLOEXEC),
			       .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	const char *p = *path ? path : ".";
	while (*p == '/')
		p++;
	int fd = (int)syscall(SYS_openat2, root, *p ? p : ".", &how, sizeof(how));
	if (fd < 0 && err)
		return berth_error_set_errno(err, errno, "open %s", path);
	return fd;
}

/* mkdir -p below root; new directories get mode 0755 and uid:gid. */
int copy_mkdir_in(int root, const char *path, uid_t uid, gid_t gid, berth_error **err)
{
	char *clean cleanup_free = berth_path_clean(path);
	berth_buf prefix cleanup_buf = {0};
	berth_buf_puts(&prefix, "");
	char **parts = berth_str_split(clean, '/');
	int rc = 0;
	for (size_t i = 0; parts[i] && rc == 0; i++) {
		if (!*parts[i] || strcmp(parts[i], ".") == 0)
			continue;
		int parent = copy_open_in(root, prefix.data, O_PATH | O_DIRECTORY, err);
		if (parent < 0) {
			rc = -1;
			break;
		}
		berth_buf_printf(&prefix, "/%s", parts[i]);
		int fd = copy_open_in(root, prefix.data, O_PATH | O_DIRECTORY, NULL);
		if (fd >= 0) {
			close(fd);
		} else if (errno == ENOENT) {
			if (mkdirat(parent, parts[i], 0755) < 0 && errno != EEXIST)
				rc = berth_error_set_errno(err, errno, "mkdir %s", prefix.data);
			else
				fchownat(parent, parts[i], uid, gid, AT_SYMLINK_NOFOLLOW);
		} else {
			rc = berth_error_set(err, 400, "mkdir %s: not a directory", prefix.data);
		}
		close(parent);
	}
	berth_strv_free(parts);
	return rc;
}

/* ----------------------------------------------------------- step fs */

typedef struct step_fs {
	berth_image_store *images;
	const char *state_dir;
	char *dir, *upper;
	bool mounted;
	int root;
} step_fs;

static void fs_close(step_fs *fs)
{
	if (fs->root >= 0)
		close(fs->root);
	fs->root = -1;
	berth_error *err cleanup_error = NULL;
	if (fs->mounted && berth_image_unmount(fs->images, fs->dir, &err) < 0)
		berth_warn("build: unmount %s: %s", fs->dir, err->msg);
	fs->mounted = false;
	if (fs->dir)
		berth_builder_discard(fs->state_dir, fs->dir);
	free(fs->dir);
	free(fs->upper);
	fs->dir = fs->upper = NULL;
}

/* An overlay of image_id (or an empty dir for scratch) to write into. */
static int fs_open(berth_build *b, const char *image_id, step_fs *fs, berth_error **err)
{
	char rnd[65];
	berth_random_id(rnd);
	memset(fs, 0, sizeof(*fs));
	fs->root = -1;
	fs->images = b->env->images;
	fs->state_dir = b->env->state_dir;
	fs->dir = berth_xasprintf("%s/tmp/%.16s", b->env->state_dir, rnd);
	fs->upper = berth_xasprintf("%s/upper", fs->dir);
	char *merged cleanup_free = NULL;
	if (image_id) {
		if (berth_image_mount(fs->images, image_id, fs->dir, &merged, err) < 0) {
			fs_close(fs);
			return -1;
		}
		fs->mounted = true;
	} else if (berth_mkdir_all(fs->upper, 0755, err) < 0) {
		fs_close(fs);
		return -1;
	}
	fs->root = open(merged ? merged : fs->upper, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->root < 0) {
		berth_error_set_errno(err, errno, "open the step's root");
		fs_close(fs);
		return -1;
	}
	return 0;
}

/* Unmounts and commits the upper dir as the step's layer. */
static int fs_commit(berth_build *b, build_state *st, step_fs *fs, const json_t *cmd,
		     berth_error **err)
{
	close(fs->root);
	fs->root = -1;
	if (fs->mounted && berth_image_unmount(fs->images, fs->dir, err) < 0)
		return -1;
	fs->mounted = false;
	return build_commit_upper(b, st, cmd, fs->upper, err);
}

int build_workdir_fs(berth_build *b, build_state *st, const char *dir, berth_error **err)
{
	char *comment cleanup_free = berth_xasprintf("WORKDIR %s", dir);
	json_t *cmd cleanup_json = build_nop_cmd_joined(st, comment);
	step_fs fs;
	if (fs_open(b, st->image_id, &fs, err) < 0)
		return -1;
	int rc = copy_mkdir_in(fs.root, dir, 0, 0, err);
	if (rc == 0)
		rc = fs_commit(b, st, &fs, cmd, err);
	fs_close(&fs);
	return rc;
}

/* ---------------------------------------------------------- ownership */

/* A name or number from the image's passwd or group file. */
static int lookup_id(int root, const char *file, const char *name, long *out, long *gid_out,
		     berth_error **err)
{
	char *end;
	long v = strtol(name, &end, 10);
	if (*name && *end == '\0') {
		*out = v;
		return 0;
	}
	int fd = copy_open_in(root, file, O_RDONLY, NULL);
	FILE *f cleanup_file = fd >= 0 ? fdopen(fd, "r") : NULL;
	char line[1024];
	while (f && fgets(line, sizeof(line), f)) {
		char **cols = berth_str_split(line, ':');
		bool match = berth_strv_len(cols) >= 4 && strcmp(cols[0], name) == 0;
		if (match) {
			*out = strtol(cols[2], NULL, 10);
			if (gid_out)
				*gid_out = strtol(cols[3], NULL, 10);
		}
		berth_strv_free(cols);
		if (match)
			return 0;
	}
	if (f == NULL && fd >= 0)
		close(fd);
	return berth_error_set(err, 400, "unable to find %s %s: no matching entries in %s file",
			       gid_out ? "user" : "group", name, gid_out ? "passwd" : "group");
}

static int parse_chown(int root, const char *spec, uid_t *uid, gid_t *gid, berth_error **err)
{
	char *user cleanup_free = berth_xstrndup(spec, strcspn(spec, ":"));
	const char *group = strchr(spec, ':');
	long u = 0, g = -1;
	if (lookup_id(root, "/etc/passwd", user, &u, &g, err) < 0)
		return -1;
	if (g < 0)
		g = u;
	if (group && lookup_id(root, "/etc/group", group + 1, &g, NULL, err) < 0)
		return -1;
	*uid = (uid_t)u;
	*gid = (gid_t)g;
	return 0;
}

/* ------------------------------------------------------------ sources */

typedef struct copy_entry {
	char *src;     /* path in the source root (absolute for a download) */
	char *dst;     /* path in the image */
	struct stat st;
	char *link;    /* symlink target */
	bool download; /* src is a file ADD fetched, outside the source root */
	bool extract;  /* ADD of a local archive: unpacked at dst */
} copy_entry;

typedef struct copy_plan {
	copy_entry *e;
	size_t n;
	char **hashes;   /* each source's, dockerd's way (tarsum.c) */
	size_t nhashes;
	char *downloads; /* where ADD's URLs were fetched to */
	const char *state_dir;
} copy_plan;

static int open_src(int root, const copy_entry *e, int flags, berth_error **err)
{
	if (!e->download)
		return copy_open_in(root, e->src, flags, err);
	int fd = open(e->src, flags | O_CLOEXEC);
	return fd < 0 && err ? berth_error_set_errno(err, errno, "open %s", e->src) : fd;
}

static void plan_add(copy_plan *p, const char *src, const char *dst, const struct stat *st,
		     const char *link)
{
	p->e = berth_xrealloc(p->e, (p->n + 1) * sizeof(*p->e));
	p->e[p->n++] = (copy_entry){berth_xstrdup(src), berth_xstrdup(dst), *st,
				    link ? berth_xstrdup(link) : NULL};
}

static void plan_free(copy_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->e[i].src);
		free(p->e[i].dst);
		free(p->e[i].link);
	}
	free(p->e);
	for (size_t i = 0; i < p->nhashes; i++)
		free(p->hashes[i]);
	free(p->hashes);
	if (p->downloads)
		berth_builder_discard(p->state_dir, p->downloads);
	free(p->downloads);
}

static void plan_hash(copy_plan *p, char *hash)
{
	p->hashes = berth_xrealloc(p->hashes, (p->nhashes + 1) * sizeof(char *));
	p->hashes[p->nhashes++] = hash;
}

char **copy_list_dir(int dirfd, berth_error **err)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d == NULL) {
		berth_error_set_errno(err, errno, "read directory");
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	char **names = berth_xcalloc(1, sizeof(char *));
	size_t n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		names = berth_xrealloc(names, (n + 2) * sizeof(char *));
		names[n++] = berth_xstrdup(e->d_name);
		names[n] = NULL;
	}
	closedir(d);
	qsort(names, n, sizeof(char *), build_str_cmp);
	return names;
}

/* Adds src (a file, link or directory below root) to be copied to dst. */
static int plan_walk(copy_plan *p, int root, const char *src, const char *dst, bool top,
		     berth_error **err)
{
	/* a source named in the instruction is followed (inside the root) */
	int fd = copy_open_in(root, src, O_PATH | (top ? 0 : O_NOFOLLOW), err);
	if (fd < 0)
		return -1;
	struct stat st;
	fstat(fd, &st);
	char link[4096] = "";
	if (S_ISLNK(st.st_mode)) {
		ssize_t l = readlinkat(fd, "", link, sizeof(link) - 1);
		link[l > 0 ? l : 0] = '\0';
	}
	close(fd);
	plan_add(p, src, dst, &st, S_ISLNK(st.st_mode) ? link : NULL);
	if (!S_ISDIR(st.st_mode))
		return 0;
	int dfd = copy_open_in(root, src, O_RDONLY | O_DIRECTORY, err);
	if (dfd < 0)
		return -1;
	char **names = copy_list_dir(dfd, err);
	close(dfd);
	if (names == NULL)
		return -1;
	int rc = 0;
	for (char **nm = names; *nm && rc == 0; nm++) {
		char *s cleanup_free = berth_xasprintf("%s/%s", src, *nm);
		char *d cleanup_free = berth_xasprintf("%s/%s", dst, *nm);
		rc = plan_walk(p, root, s, d, false, err);
	}
	berth_strv_free(names);
	return rc;
}

/* Expands a source pattern against the context ("*.txt", "dir/a?"). */
static char **glob_sources(int root, const char *pattern, berth_error **err)
{
	char **out = berth_xcalloc(1, sizeof(char *));
	if (!strpbrk(pattern, "*?[")) {
		out = berth_xrealloc(out, 2 * sizeof(char *));
		out[0] = berth_xstrdup(pattern);
		out[1] = NULL;
		return out;
	}
	const char *slash = strrchr(pattern, '/');
	char *dir cleanup_free = slash ? berth_xstrndup(pattern, (size_t)(slash - pattern)) : berth_xstrdup(".");
	const char *base = slash ? slash + 1 : pattern;
	size_t n = 0;
	char **parents = glob_sources(root, dir, err);
	for (char **pd = parents; pd && *pd; pd++) {
		int dfd = copy_open_in(root, *pd, O_RDONLY | O_DIRECTORY, NULL);
		if (dfd < 0)
			continue;
		char **names = copy_list_dir(dfd, NULL);
		close(dfd);
		for (char **nm = names; nm && *nm; nm++) {
			if (fnmatch(base, *nm, FNM_PERIOD & 0) != 0)
				continue;
			out = berth_xrealloc(out, (n + 2) * sizeof(char *));
			out[n++] = strcmp(*pd, ".") == 0 ? berth_xstrdup(*nm) : berth_xasprintf("%s/%s", *pd, *nm);
			out[n] = NULL;
		}
		berth_strv_free(names);
	}
	berth_strv_free(parents);
	return out;
}

/* ------------------------------------------------------------ writing */

static int copy_data(int in, int out, berth_error **err)
{
	for (;;) {
		ssize_t r = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
		if (r == 0)
			return 0;
		if (r > 0)
			continue;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
			return berth_error_set_errno(err, errno, "copy");
		break;
	}
	char buf[65536];
	ssize_t r;
	while ((r = read(in, buf, sizeof(buf))) > 0)
		if (berth_write_all(out, buf, (size_t)r) < 0)
			return berth_error_set_errno(err, errno, "copy");
	return r < 0 ? berth_error_set_errno(err, errno, "copy") : 0;
}

typedef struct copy_opts {
	bool chown;
	uid_t uid;
	gid_t gid;
	int chmod;     /* -1: keep the source's */
	bool keep_owner; /* --from without --chown: the source's owners, as dockerd does */
} copy_opts;

/* Writes one entry at e->dst below the image root. */
/* The directory the last entry went to: entries come in walk order, so
 * most share it, and resolving it again for each is most of the cost. */
typedef struct parent_cache {
	char *path;
	int fd;
} parent_cache;

static void parent_cache_reset(parent_cache *pc)
{
	free(pc->path);
	if (pc->fd >= 0)
		close(pc->fd);
	pc->path = NULL;
	pc->fd = -1;
}

static int parent_dir(int dst_root, parent_cache *pc, const char *parent, const copy_opts *o,
		      berth_error **err)
{
	if (pc->path && strcmp(pc->path, parent) == 0)
		return pc->fd;
	parent_cache_reset(pc);
	if (copy_mkdir_in(dst_root, parent, o->chown ? o->uid : 0, o->chown ? o->gid : 0, err) < 0)
		return -1;
	pc->fd = copy_open_in(dst_root, parent, O_PATH | O_DIRECTORY, err);
	if (pc->fd >= 0)
		pc->path = berth_xstrdup(parent);
	return pc->fd;
}

static int write_entry(int src_root, int dst_root, parent_cache *pc, const copy_entry *e,
		       const copy_opts *o, bool top, berth_error **err)
{
	char *parent cleanup_free = berth_xstrdup(e->dst);
	char *slash = strrchr(parent, '/');
	const char *name = slash ? slash + 1 : parent;
	if (slash)
		*slash = '\0';
	int pfd = parent_dir(dst_root, pc, *parent ? parent : "/", o, err);
	if (pfd < 0)
		return -1;
	/* keeping the owners stops at the destination directory itself */
	bool keep = o->keep_owner && !(top && S_ISDIR(e->st.st_mode));
	uid_t uid = o->chown ? o->uid : keep ? e->st.st_uid : 0;
	gid_t gid = o->chown ? o->gid : keep ? e->st.st_gid : 0;
	mode_t mode = o->chmod >= 0 ? (mode_t)o->chmod : e->st.st_mode & 07777;
	struct timespec times[2] = {e->st.st_atim, e->st.st_mtim};
	struct stat cur;
	bool exists = fstatat(pfd, name, &cur, AT_SYMLINK_NOFOLLOW) == 0;
	if (S_ISDIR(e->st.st_mode)) {
		if (exists && !S_ISDIR(cur.st_mode))
			unlinkat(pfd, name, 0);
		if ((!exists || !S_ISDIR(cur.st_mode)) && mkdirat(pfd, name, 0755) < 0)
			return berth_error_set_errno(err, errno, "mkdir %s", e->dst);
		if (top && exists && S_ISDIR(cur.st_mode))
			return 0; /* an existing destination keeps its owner and mode */
		int dfd cleanup_close = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (dfd < 0)
			return berth_error_set_errno(err, errno, "open %s", e->dst);
		if (fchown(dfd, uid, gid) < 0 || fchmod(dfd, mode) < 0)
			return berth_error_set_errno(err, errno, "chown %s", e->dst);
		futimens(dfd, times);
		return 0;
	}
	if (exists && S_ISDIR(cur.st_mode))
		return berth_error_set(err, 400, "cannot overwrite directory %s with a file", e->dst);
	if (exists)
		unlinkat(pfd, name, 0);
	if (S_ISLNK(e->st.st_mode)) {
		if (symlinkat(e->link, pfd, name) < 0)
			return berth_error_set_errno(err, errno, "symlink %s", e->dst);
		fchownat(pfd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
		utimensat(pfd, name, times, AT_SYMLINK_NOFOLLOW);
		return 0;
	}
	if (!S_ISREG(e->st.st_mode))
		return 0; /* devices, sockets and fifos in a context are skipped */
	int in cleanup_close = open_src(src_root, e, O_RDONLY, err);
	if (in < 0)
		return -1;
	if (e->extract) {
		/* dockerd's classic builder unpacks with the archive's owners:
		 * --chown does not reach into it */
		return copy_mkdir_in(dst_root, e->dst, 0, 0, err) < 0 ||
			       ctx_extract_fd(in, dst_root, e->dst, true, err) < 0 ? -1 : 0;
	}
	int out cleanup_close = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return berth_error_set_errno(err, errno, "create %s", e->dst);
	if (copy_data(in, out, err) < 0)
		return -1;
	if (fchown(out, uid, gid) < 0 || fchmod(out, mode) < 0)
		return berth_error_set_errno(err, errno, "chown %s", e->dst);
	futimens(out, times);
	return 0;
}

/* ------------------------------------------------------------- sources */

/* Where the sources come from: the context, or --from's stage or image. */
typedef struct copy_source {
	int root;
	step_fs fs;      /* a mount of --from's image */
	char *from;      /* for the history */
} copy_source;

static int source_open(berth_build *b, const berth_df_instr *in, copy_source *cs, berth_error **err)
{
	memset(cs, 0, sizeof(*cs));
	cs->fs.root = -1;
	cs->root = -1;
	const char *from = berth_df_flag(in, "from");
	if (from == NULL) {
		cs->root = open(b->context, O_PATH | O_DIRECTORY | O_CLOEXEC);
		return cs->root < 0 ? berth_error_set_errno(err, errno, "open the context") : 0;
	}
	cs->from = berth_xstrdup(from);
	const char *id = NULL;
	char *end;
	long idx = strtol(from, &end, 10);
	for (size_t i = 0; i < b->nstages && id == NULL; i++) {
		bool byname = b->stages[i].name && strcasecmp(b->stages[i].name, from) == 0;
		bool byindex = *from && *end == '\0' && (long)i == idx;
		if ((byname || byindex) && b->stages[i].image_id)
			id = b->stages[i].image_id;
	}
	char *resolved cleanup_free = NULL;
	berth_error *rerr cleanup_error = NULL;
	if (id == NULL && *from && *end == '\0')
		return berth_error_set(err, 400, "invalid from flag value %s: refers to current build stage", from);
	if (id == NULL && berth_image_resolve(b->env->images, from, &resolved, &rerr) < 0)
		return berth_error_set(err, 404, "invalid from flag value %s: pull access denied for %s, "
						 "repository does not exist or may require 'docker login'",
				       from, from);
	if (fs_open(b, id ? id : resolved, &cs->fs, err) < 0)
		return -1;
	cs->root = dup(cs->fs.root);
	return 0;
}

static void source_close(copy_source *cs)
{
	if (cs->root >= 0)
		close(cs->root);
	if (cs->fs.dir)
		fs_close(&cs->fs);
	free(cs->from);
}

/* ------------------------------------------------------------ COPY/ADD */

static bool is_url(const char *s)
{
	return berth_str_has_prefix(s, "http://") || berth_str_has_prefix(s, "https://");
}

/* ADD of a local tar (maybe compressed) unpacks it into the destination
 * directory instead of copying it. */
static void mark_archive(copy_entry *e, int root, const char *target)
{
	int fd = copy_open_in(root, e->src, O_RDONLY, NULL);
	if (fd < 0)
		return;
	if (ctx_is_archive(fd)) {
		e->extract = true;
		free(e->dst);
		e->dst = berth_xstrdup(target);
	}
	close(fd);
}

/* ADD <url>: fetched now (the cache key is its content), written at
 * dest/<last path segment> or dest, mode 0600, Last-Modified as mtime. */
static int plan_download(berth_build *b, copy_plan *p, const char *url, const char *target,
			 bool dest_dir, berth_error **err)
{
	p->state_dir = b->env->state_dir;
	if (p->downloads == NULL) {
		char rnd[65];
		berth_random_id(rnd);
		p->downloads = berth_xasprintf("%s/tmp/download-%.16s", b->env->state_dir, rnd);
		if (berth_mkdir_all(p->downloads, 0700, err) < 0)
			return -1;
	}
	char *base cleanup_free = NULL;
	if (url_basename(url, &base, err) < 0)
		return -1;
	char *tmp cleanup_free = berth_xasprintf("%s/%zu", p->downloads, p->n);
	int64_t mtime = 0;
	if (build_fetch(url, tmp, &mtime, err) < 0)
		return -1;
	struct stat st;
	if (stat(tmp, &st) < 0)
		return berth_error_set_errno(err, errno, "stat %s", tmp);
	st.st_mode = S_IFREG | 0600;
	if (mtime > 0) {
		st.st_mtim.tv_sec = mtime;
		st.st_mtim.tv_nsec = 0;
		st.st_atim = st.st_mtim;
	}
	char *to cleanup_free = dest_dir ? berth_xasprintf("%s/%s", strcmp(target, "/") ? target : "", base)
					 : berth_xstrdup(target);
	plan_add(p, tmp, to, &st, NULL);
	p->e[p->n - 1].download = true;
	plan_hash(p, sum_file(tmp, base, &st));
	return 0;
}

/* The sources and destination of one COPY/ADD, expanded and planned. */
static int plan_copy(berth_build *b, build_state *st, const berth_df_instr *in, copy_source *cs,
		     copy_plan *p, char **dest_out, char **written_out, berth_error **err)
{
	char *dest cleanup_free = NULL;
	if (build_expand(b, st, in->args[in->nargs - 1], &dest, err) < 0)
		return -1;
	*written_out = berth_xstrdup(dest);
	size_t dl = strlen(dest);
	bool dest_dir = dl == 0 || dest[dl - 1] == '/' || strcmp(dest, ".") == 0 ||
			(dl >= 2 && strcmp(dest + dl - 2, "/.") == 0);
	const char *wd = berth_json_string(st->config, "WorkingDir");
	char *abs cleanup_free = dest[0] == '/' ? berth_xstrdup(dest)
						: berth_xasprintf("%s/%s", wd && *wd ? wd : "/", dest);
	char *target cleanup_free = berth_path_clean(abs);
	if (in->nargs > 2 && !dest_dir)
		return berth_error_set(err, 400, "When using %s with more than one source file, the "
						 "destination must be a directory and end with a /",
				       in->cmd == BERTH_DF_ADD ? "ADD" : "COPY");
	for (size_t i = 0; i + 1 < in->nargs; i++) {
		char *src cleanup_free = NULL;
		if (build_expand(b, st, in->args[i], &src, err) < 0)
			return -1;
		if (is_url(src) && in->cmd == BERTH_DF_COPY)
			return berth_error_set(err, 400, "source can't be a URL for COPY");
		if (is_url(src)) {
			if (plan_download(b, p, src, target, dest_dir, err) < 0)
				return -1;
			continue;
		}
		char *clean cleanup_free = berth_path_clean(src[0] == '/' ? src + 1 : src);
		if (cs->from == NULL && (strcmp(clean, "..") == 0 || berth_str_has_prefix(clean, "../")))
			return berth_error_set(err, 400, "forbidden path outside the build context: %s ()", src);
		char **matches = glob_sources(cs->root, clean, err);
		if (matches[0] == NULL) {
			berth_strv_free(matches);
			return berth_error_set(err, 400, "COPY failed: no source files were specified");
		}
		for (char **m = matches; *m; m++) {
			struct stat sst;
			int fd = copy_open_in(cs->root, *m, O_PATH, NULL);
			if (fd < 0 || fstat(fd, &sst) < 0) {
				if (fd >= 0)
					close(fd);
				berth_error_set(err, 400, "COPY failed: file not found in build context or "
							  "excluded by .dockerignore: stat %s: file does not exist", *m);
				berth_strv_free(matches);
				return -1;
			}
			close(fd);
			/* a directory's contents go into the destination; a file goes
			 * into it when it is a directory (or written as one) */
			char *to = NULL;
			if (S_ISDIR(sst.st_mode)) {
				to = berth_xstrdup(target);
			} else {
				const char *base = strrchr(*m, '/') ? strrchr(*m, '/') + 1 : *m;
				to = dest_dir || in->nargs > 2 || matches[1] || strpbrk(clean, "*?[")
					     ? berth_xasprintf("%s/%s", strcmp(target, "/") ? target : "", base)
					     : berth_xstrdup(target);
			}
			int rc = plan_walk(p, cs->root, *m, to, true, err);
			free(to);
			plan_hash(p, sum_source(cs->root, *m, cs->from ? SUM_LAZY : SUM_ARCHIVE));
			if (rc == 0 && in->cmd == BERTH_DF_ADD && S_ISREG(p->e[p->n - 1].st.st_mode))
				mark_archive(&p->e[p->n - 1], cs->root, target);
			if (rc < 0) {
				berth_strv_free(matches);
				return -1;
			}
		}
		berth_strv_free(matches);
	}
	*dest_out = berth_steal_ptr(&target);
	return 0;
}

/* dockerd's history comment: "COPY --chown=1:2file:<hex> in /dest " (the
 * owner glued to the hash as dockerd writes it, the destination as
 * written). */
static char *plan_comment(const berth_df_instr *in, const copy_plan *p, const char *chown,
			  const char *chmod, const char *dest)
{
	char *hash cleanup_free = sum_sources(p->hashes, p->nhashes);
	return berth_xasprintf("%s %s%s%s%s%s in %s ", in->cmd == BERTH_DF_ADD ? "ADD" : "COPY",
			       chown ? "--chown=" : "", chown ? chown : "", chmod ? "--chmod=" : "",
			       chmod ? chmod : "", hash, dest);
}

/* When the destination is an existing directory in the image, a single
 * file goes inside it rather than replacing it. */
static void retarget_into_dirs(copy_plan *p, int root, const berth_df_instr *in)
{
	if (p->n == 0 || S_ISDIR(p->e[0].st.st_mode) || in->nargs > 2 || p->e[0].extract ||
	    p->e[0].download)
		return;
	struct stat st;
	int fd = copy_open_in(root, p->e[0].dst, O_PATH, NULL);
	bool dir = fd >= 0 && fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
	if (fd >= 0)
		close(fd);
	if (!dir)
		return;
	const char *base = strrchr(p->e[0].src, '/') ? strrchr(p->e[0].src, '/') + 1 : p->e[0].src;
	char *to = berth_xasprintf("%s/%s", strcmp(p->e[0].dst, "/") ? p->e[0].dst : "", base);
	free(p->e[0].dst);
	p->e[0].dst = to;
}

static int parse_copy_opts(const char *chown, const char *chmod, int root, copy_opts *o,
			   berth_error **err)
{
	o->chown = false;
	o->chmod = -1;
	if (chown && *chown) {
		if (parse_chown(root, chown, &o->uid, &o->gid, err) < 0)
			return -1;
		o->chown = true;
	}
	if (chmod && *chmod) {
		char *end;
		long m = strtol(chmod, &end, 8);
		if (*end || m < 0 || m > 07777)
			return berth_error_set(err, 400, "invalid chmod parameter: %s", chmod);
		o->chmod = (int)m;
	}
	return 0;
}

int build_copy(berth_build *b, build_state *st, const berth_df_instr *in, berth_error **err)
{
	copy_source cs;
	if (source_open(b, in, &cs, err) < 0) {
		source_close(&cs);
		return -1;
	}
	copy_plan p = {0};
	char *dest cleanup_free = NULL, *written cleanup_free = NULL;
	char *comment cleanup_free = NULL;
	json_t *cmd cleanup_json = NULL;
	/* dockerd expands --chown; --chmod (BuildKit's) is taken as written */
	const char *chown_flag = berth_df_flag(in, "chown"), *chmod = berth_df_flag(in, "chmod");
	char *chown cleanup_free = NULL;
	int rc = chown_flag && *chown_flag ? build_expand(b, st, chown_flag, &chown, err) : 0;
	if (rc == 0)
		rc = plan_copy(b, st, in, &cs, &p, &dest, &written, err);
	if (rc == 0) {
		comment = plan_comment(in, &p, chown && *chown ? chown : NULL,
				       chmod && *chmod ? chmod : NULL, written);
		cmd = build_nop_cmd_joined(st, comment);
		rc = build_probe(b, st, cmd, err);
	}
	if (rc != 0) {
		plan_free(&p);
		source_close(&cs);
		return rc < 0 ? -1 : 0;
	}
	step_fs fs;
	rc = fs_open(b, st->image_id, &fs, err);
	copy_opts o = {.chmod = -1};
	if (rc == 0)
		rc = parse_copy_opts(chown, chmod, fs.root, &o, err);
	o.keep_owner = cs.from != NULL && !o.chown;
	if (rc == 0)
		retarget_into_dirs(&p, fs.root, in);
	parent_cache pc = {NULL, -1};
	for (size_t i = 0; i < p.n && rc == 0; i++)
		rc = write_entry(cs.root, fs.root, &pc, &p.e[i], &o, strcmp(p.e[i].dst, dest) == 0, err);
	parent_cache_reset(&pc);
	if (rc == 0)
		rc = fs_commit(b, st, &fs, cmd, err);
	if (fs.dir)
		fs_close(&fs);
	plan_free(&p);
	source_close(&cs);
	return rc;
}
