/*
 * fs.c - `berth commit`, `berth diff`, `berth export` and `berth cp`, as
 * docker's CLI does them.
 *
 * cp does the client half of docker's copy protocol (docker/cli cp.go and
 * moby's archive/copy.go): it stats both ends, decides into which directory
 * the archive is extracted and under which name its top entry goes, builds
 * or extracts the archive here, and sends or receives it with
 * /containers/{id}/archive. The client library gives no response headers,
 * so the type of a container path (X-Docker-Container-Path-Stat) is read
 * from the first entry of its archive instead: the transfer stops after it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lazy_archive.h"
#include "container.h"
#include "fs.h"

static int fail(berth_cli *cli, berth_error **err)
{
	return berth_cli_fail(cli, err, BERTH_EXIT_ERROR);
}


typedef struct fd_out {
	int fd;
	int64_t bytes;
	berth_error *err;
} fd_out;

static int on_chunk_to_fd(void *ud, const char *data, size_t len)
{
	fd_out *o = ud;
	if (berth_write_all(o->fd, data, len) < 0) {
		berth_error_set_errno(&o->err, errno, "write");
		return 1;
	}
	o->bytes += (int64_t)len;
	return 0;
}

/* ================================================================ commit */

int berth_cli_commit(berth_invocation *inv)
{
	const char *author = NULL, *message = NULL;
	berth_strlist changes cleanup_strlist = {0};
	bool pause = true, no_pause = false;
	berth_flag flags[] = {
		{"author", 'a', BERTH_FLAG_STRING, &author,
		 "Author (e.g., \"John Hannibal Smith <hannibal@a-team.com>\")", .type_name = "string"},
		{"change", 'c', BERTH_FLAG_LIST, &changes,
		 "Apply Dockerfile instruction to the created image", .type_name = "list"},
		{"message", 'm', BERTH_FLAG_STRING, &message, "Commit message", .type_name = "string"},
		{"no-pause", 0, BERTH_FLAG_BOOL, &no_pause, "Disable pausing container during commit"},
		{"pause", 'p', BERTH_FLAG_BOOL, &pause, "Pause container during commit (deprecated: "
							  "use --no-pause instead)", .def = "true",
		 .hidden = true},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	berth_error *err cleanup_error = NULL;
	berth_buf q cleanup_buf = {0};
	char *enc cleanup_free = berth_url_encode(inv->args.v[0]);
	berth_buf_printf(&q, "/commit?container=%s", enc);
	if (inv->args.n > 1) {
		/* REPOSITORY[:TAG]: the daemon checks the name */
		char *ref cleanup_free = berth_xstrdup(inv->args.v[1]);
		if (strchr(ref, '@')) {
			berth_error_set(&err, 400, "refusing to create a tag with a digest reference");
			return fail(inv->cli, &err);
		}
		char *slash = strrchr(ref, '/');
		char *colon = strrchr(slash ? slash : ref, ':');
		if (colon)
			*colon++ = '\0';
		char *r cleanup_free = berth_url_encode(ref);
		char *t cleanup_free = berth_url_encode(colon && *colon ? colon : "latest");
		berth_buf_printf(&q, "&repo=%s&tag=%s", r, t);
	}
	char *m cleanup_free = berth_url_encode(message ? message : "");
	char *a cleanup_free = berth_url_encode(author ? author : "");
	berth_buf_printf(&q, "&comment=%s&author=%s", m, a);
	for (size_t i = 0; i < changes.n; i++) {
		char *c cleanup_free = berth_url_encode(changes.v[i]);
		berth_buf_printf(&q, "&changes=%s", c);
	}
	if (!pause || no_pause)
		berth_buf_puts(&q, "&pause=0");
	json_t *out cleanup_json = NULL;
	if (berth_cli_call(inv->cli, "POST", q.data, NULL, &out, &err) < 0)
		return fail(inv->cli, &err);
	fprintf(inv->cli->out, "%s\n", berth_cli_str(out, "Id"));
	return BERTH_EXIT_OK;
}

/* ================================================================== diff */

int berth_cli_diff(berth_invocation *inv)
{
	int status;
	if (!berth_cli_parse(inv, NULL, 0, &status))
		return status;
	berth_error *err cleanup_error = NULL;
	char *path cleanup_free = berth_cli_container_path(inv->args.v[0], "/changes");
	json_t *out cleanup_json = NULL;
	if (berth_cli_call(inv->cli, "GET", path, NULL, &out, &err) < 0)
		return fail(inv->cli, &err);
	size_t i;
	json_t *c;
	json_array_foreach(out, i, c) {
		json_int_t kind = json_integer_value(json_object_get(c, "Kind"));
		fprintf(inv->cli->out, "%c %s\n", kind >= 0 && kind <= 2 ? "CAD"[kind] : '?',
			berth_cli_str(c, "Path"));
	}
	return BERTH_EXIT_OK;
}

/* ================================================================ export */

int berth_cli_export(berth_invocation *inv)
{
	const char *output;
	int status;
	if (!berth_cli_parse_output(inv, &output, &status))
		return status;
	char *path cleanup_free = berth_cli_container_path(inv->args.v[0], "/export");
	return berth_cli_download(inv->cli, path, output, "failed to export container", "open");
}

/* ==================================================================== cp */

/* ------------------------------------------------------------ paths */

static bool has_trailing_slash(const char *p)
{
	size_t n = strlen(p);
	return n > 0 && p[n - 1] == '/';
}

/* Go's filepath.Dir. */
static char *dir_of(const char *p)
{
	const char *slash = strrchr(p, '/');
	char *d = slash ? berth_xstrndup(p, (size_t)(slash - p + 1)) : berth_xstrdup(".");
	char *c = berth_path_clean(d);
	free(d);
	return c;
}

static bool specifies_current_dir(const char *p)
{
	char *b cleanup_free = berth_path_base(p);
	return strcmp(b, ".") == 0;
}

/* archive.SplitPathDirEntry */
static void split_dir_entry(const char *p, char **dir, char **base)
{
	char *c = berth_path_clean(p);
	if (specifies_current_dir(p)) {
		char *more = berth_xasprintf("%s/.", c);
		free(c);
		c = more;
	}
	*dir = dir_of(c);
	*base = berth_path_base(c);
	free(c);
}

/* docker's resolveLocalPath: absolute, keeping a trailing "/" or "/.". */
static char *local_abs(const char *p)
{
	char cwd[PATH_MAX] = "/";
	if (*p != '/' && getcwd(cwd, sizeof(cwd)) == NULL)
		strcpy(cwd, "/");
	char *joined cleanup_free = *p == '/' ? berth_xstrdup(p) : berth_xasprintf("%s/%s", cwd, p);
	char *c cleanup_free = berth_path_clean(joined);
	return berth_path_preserve(c, p);
}

/* archive.GetRebaseName */
static char *rebase_name(const char *path, char **resolved)
{
	if (specifies_current_dir(path) && !specifies_current_dir(*resolved)) {
		char *more = berth_xasprintf("%s/.", *resolved);
		free(*resolved);
		*resolved = more;
	}
	if (has_trailing_slash(path) && !has_trailing_slash(*resolved)) {
		char *more = berth_xasprintf("%s/", *resolved);
		free(*resolved);
		*resolved = more;
	}
	char *a cleanup_free = berth_path_base(path), *b cleanup_free = berth_path_base(*resolved);
	return strcmp(a, b) != 0 ? berth_xstrdup(a) : NULL;
}

/* strings.Replace(name, old, new, 1), as docker rebases archive entries. */
static char *rebase(const char *name, const char *old, const char *new)
{
	if (old == NULL || new == NULL)
		return berth_xstrdup(name);
	if (strcmp(old, "/") == 0)
		old = "";
	const char *at = strstr(name, old);
	if (at == NULL)
		return berth_xstrdup(name);
	return berth_xasprintf("%.*s%s%s", (int)(at - name), name, new, at + strlen(old));
}

/* ----------------------------------------------- container path types */

typedef struct probe {
	berth_buf head;      /* the first bytes of the archive */
} probe;

static int on_probe_chunk(void *ud, const char *data, size_t len)
{
	probe *p = ud;
	berth_buf_append(&p->head, data, len);
	return p->head.len >= 65536; /* enough for the first header: stop */
}

typedef struct ctr_stat {
	bool exists, is_dir, is_link;
	char *link;          /* a link's target as written */
} ctr_stat;

/* What a path in the container is: the first entry of its archive. As
 * docker's CLI ignores stat errors, any daemon error but a missing
 * container leaves exists false. */
static int ctr_stat_path(berth_cli *cli, const char *ctr, const char *path, ctr_stat *st,
			 berth_error **err)
{
	memset(st, 0, sizeof(*st));
	char *enc cleanup_free = berth_url_encode(path);
	char *suffix cleanup_free = berth_xasprintf("/archive?path=%s", enc);
	char *url cleanup_free = berth_cli_container_path(ctr, suffix);
	probe p = {0};
	berth_error *e = NULL;
	if (berth_cli_stream(cli, "GET", url, NULL, 0, on_probe_chunk, &p, &e) < 0) {
		berth_buf_reset(&p.head);
		if (e->status >= 400 && strstr(e->msg, "No such container") == NULL) {
			berth_error_free(&e);
			return 0;
		}
		return berth_error_propagate(&e, err);
	}
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	struct archive_entry *entry;
	int rc = 0;
	if (archive_read_open_memory(a, p.head.data ? p.head.data : "", p.head.len) == ARCHIVE_OK &&
	    archive_read_next_header(a, &entry) >= ARCHIVE_WARN) {
		st->exists = true;
		st->is_dir = archive_entry_filetype(entry) == AE_IFDIR;
		st->is_link = archive_entry_filetype(entry) == AE_IFLNK;
		if (st->is_link)
			st->link = berth_xstrdup(archive_entry_symlink(entry) ?: "");
	} else {
		rc = berth_error_set(err, 500, "reading the archive of %s:%s: %s", ctr, path,
				     archive_error_string(a) ?: "empty");
	}
	archive_read_free(a);
	berth_buf_reset(&p.head);
	return rc;
}

/* A link's target made absolute in the container, as docker joins it. */
static char *ctr_link_path(const char *path, const char *link)
{
	if (*link == '/')
		return berth_xstrdup(link);
	char *dir cleanup_free = NULL, *base cleanup_free = NULL;
	split_dir_entry(path, &dir, &base);
	char *joined cleanup_free = berth_xasprintf("%s/%s", dir, link);
	return berth_path_clean(joined);
}

/* --------------------------------------------------------- extraction */

typedef struct unpack {
	const char *old_base, *new_base; /* the rebase of entry names */
	int64_t bytes;
} unpack;

/* moby's Untar with NoLchown and NoOverwriteDirNonDir into the current
 * directory (the destination): names rebased, cleaned, never climbing out,
 * links never followed while writing. */
static int untar_here(struct archive *a, unpack *u, const char *dest, berth_error **err)
{
	struct archive *disk = archive_write_disk_new();
	archive_write_disk_set_options(disk, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
					     ARCHIVE_EXTRACT_XATTR | ARCHIVE_EXTRACT_UNLINK |
					     ARCHIVE_EXTRACT_SECURE_NODOTDOT |
					     ARCHIVE_EXTRACT_SECURE_SYMLINKS |
					     ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS);
	struct archive_entry *e;
	int r, rc = 0;
	while (rc == 0 && ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK || r == ARCHIVE_WARN)) {
		char *name cleanup_free = rebase(archive_entry_pathname(e) ?: "", u->old_base,
						  u->new_base);
		char *rel cleanup_free = berth_path_clean(*name == '/' ? name + 1 : name);
		if (strcmp(rel, "..") == 0 || strncmp(rel, "../", 3) == 0) {
			rc = berth_error_set(err, 500, "\"%s\" is outside of \"%s\"", name, dest);
			break;
		}
		struct stat old;
		bool exists = lstat(rel, &old) == 0;
		bool new_dir = archive_entry_filetype(e) == AE_IFDIR;
		if (exists && S_ISDIR(old.st_mode) && strcmp(rel, ".") == 0)
			continue;
		if (exists && S_ISDIR(old.st_mode) && !new_dir) {
			rc = berth_error_set(err, 500, "cannot overwrite directory \"%s/%s\" with "
							"non-directory \"%s\"", dest, rel, dest);
			break;
		}
		if (exists && !S_ISDIR(old.st_mode) && new_dir) {
			rc = berth_error_set(err, 500, "cannot overwrite non-directory \"%s/%s\" with "
							"directory \"%s\"", dest, rel, dest);
			break;
		}
		if (archive_entry_filetype(e) == AE_IFLNK) {
			/* a relative link may not point above the destination */
			const char *target = archive_entry_symlink(e) ?: "";
			char *dir cleanup_free = dir_of(rel);
			char *joined cleanup_free = berth_xasprintf("%s/%s", dir, target);
			char *c cleanup_free = berth_path_clean(joined);
			if (*target != '/' && (strcmp(c, "..") == 0 || strncmp(c, "../", 3) == 0)) {
				rc = berth_error_set(err, 500, "invalid symlink \"%s/%s\" -> \"%s\"", dest,
						     rel, target);
				break;
			}
		}
		const char *hard = archive_entry_hardlink(e);
		if (hard) {
			char *h cleanup_free = rebase(hard, u->old_base, u->new_base);
			char *hc cleanup_free = berth_path_clean(*h == '/' ? h + 1 : h);
			archive_entry_copy_hardlink(e, hc);
		}
		archive_entry_copy_pathname(e, rel);
		u->bytes += archive_entry_size(e);
		if (archive_write_header(disk, e) < ARCHIVE_WARN) {
			rc = berth_error_set(err, 500, "%s", archive_error_string(disk));
			break;
		}
		const void *buf;
		size_t len;
		la_int64_t off;
		while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
			if (archive_write_data_block(disk, buf, len, off) < ARCHIVE_WARN) {
				rc = berth_error_set(err, 500, "%s", archive_error_string(disk));
				break;
			}
		}
		if (rc == 0 && r != ARCHIVE_EOF)
			rc = berth_error_set(err, 500, "%s", archive_error_string(a));
		if (rc == 0 && archive_write_finish_entry(disk) < ARCHIVE_WARN)
			rc = berth_error_set(err, 500, "%s", archive_error_string(disk));
	}
	if (rc == 0 && r != ARCHIVE_EOF)
		rc = berth_error_set(err, 500, "%s", archive_error_string(a));
	if (archive_write_close(disk) < ARCHIVE_WARN && rc == 0)
		rc = berth_error_set(err, 500, "%s", archive_error_string(disk));
	archive_write_free(disk);
	return rc;
}

/* ------------------------------------------------------ local archives */

typedef struct link_seen {
	dev_t dev;
	ino_t ino;
	char *name;
} link_seen;

typedef struct packer {
	struct archive *a;
	link_seen *links;
	size_t nlinks;
	char buf[65536];
} packer;

static int pack(packer *p, const char *path, const char *name, berth_error **err);

/* One file (and a directory's contents) as TarWithOptions writes it. */
static int pack(packer *p, const char *path, const char *name, berth_error **err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return berth_error_set_errno(err, errno, "lstat %s", path);
	if (S_ISSOCK(st.st_mode))
		return 0;
	bool dir = S_ISDIR(st.st_mode);
	char *entry_name cleanup_free = dir && !has_trailing_slash(name)
						? berth_xasprintf("%s/", name) : berth_xstrdup(name);
	struct archive_entry *e = archive_entry_new();
	archive_entry_copy_stat(e, &st);
	archive_entry_set_mtime(e, st.st_mtim.tv_sec, 0);
	archive_entry_unset_atime(e);
	archive_entry_unset_ctime(e);
	archive_entry_unset_birthtime(e);
	archive_entry_set_pathname(e, entry_name);
	const char *first = NULL;
	if (!dir && st.st_nlink > 1) {
		for (size_t i = 0; i < p->nlinks && !first; i++)
			if (p->links[i].dev == st.st_dev && p->links[i].ino == st.st_ino)
				first = p->links[i].name;
		if (!first) {
			p->links = berth_xrealloc(p->links, (p->nlinks + 1) * sizeof(*p->links));
			p->links[p->nlinks++] = (link_seen){st.st_dev, st.st_ino, berth_xstrdup(entry_name)};
		}
	}
	if (first) {
		archive_entry_set_hardlink(e, first);
		archive_entry_set_size(e, 0);
	} else if (S_ISLNK(st.st_mode)) {
		char target[PATH_MAX];
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = '\0';
		archive_entry_set_symlink(e, target);
		archive_entry_set_size(e, 0);
	} else if (!S_ISREG(st.st_mode)) {
		archive_entry_set_size(e, 0);
	}
	int rc = archive_write_header(p->a, e) >= ARCHIVE_WARN
			 ? 0 : berth_error_set(err, 500, "%s", archive_error_string(p->a));
	archive_entry_free(e);
	if (rc == 0 && S_ISREG(st.st_mode) && !first) {
		int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
		if (fd < 0)
			return berth_error_set_errno(err, errno, "open %s", path);
		ssize_t n;
		while ((n = read(fd, p->buf, sizeof(p->buf))) > 0)
			if (archive_write_data(p->a, p->buf, (size_t)n) < n)
				break;
		close(fd);
	}
	if (rc < 0 || !dir)
		return rc;
	struct dirent **names = NULL;
	int n = scandir(path, &names, NULL, alphasort);
	if (n < 0)
		return berth_error_set_errno(err, errno, "read %s", path);
	for (int i = 0; i < n; i++) {
		const char *child = names[i]->d_name;
		if (rc == 0 && strcmp(child, ".") != 0 && strcmp(child, "..") != 0) {
			char *cpath cleanup_free = berth_xasprintf("%s/%s", path, child);
			char *cname cleanup_free = berth_xasprintf("%s/%s", name, child);
			rc = pack(p, cpath, cname, err);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

/* The archive of a local path, its top entry named top, in an unnamed
 * temp file mapped into memory. */
static int pack_local(const char *path, const char *top, void **data, size_t *len,
		      berth_error **err)
{
	FILE *f = tmpfile();
	if (f == NULL)
		return berth_error_set_errno(err, errno, "create a temporary file");
	packer *p = berth_xcalloc(1, sizeof(*p));
	p->a = archive_write_new();
	archive_write_set_format_pax_restricted(p->a);
	archive_write_set_bytes_in_last_block(p->a, 1);
	int rc = archive_write_open_fd(p->a, fileno(f)) == ARCHIVE_OK
			 ? pack(p, path, top, err) : berth_error_set(err, 500, "%s",
								     archive_error_string(p->a));
	if (archive_write_close(p->a) != ARCHIVE_OK && rc == 0)
		rc = berth_error_set(err, 500, "%s", archive_error_string(p->a));
	archive_write_free(p->a);
	for (size_t i = 0; i < p->nlinks; i++)
		free(p->links[i].name);
	free(p->links);
	free(p);
	struct stat st;
	if (rc == 0 && fstat(fileno(f), &st) < 0)
		rc = berth_error_set_errno(err, errno, "stat the archive");
	if (rc == 0) {
		*len = (size_t)st.st_size;
		*data = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fileno(f), 0);
		if (*data == MAP_FAILED)
			rc = berth_error_set_errno(err, errno, "map the archive");
	}
	fclose(f); /* the mapping stays */
	return rc;
}

/* ------------------------------------------------------------- copies */

typedef struct cp_opts {
	berth_cli *cli;
	const char *ctr;
	bool follow, archive, quiet;
} cp_opts;

static void copied(const cp_opts *o, int64_t bytes, const char *to)
{
	if (o->quiet)
		return;
	char size[32];
	berth_human_size(bytes, 3, size, sizeof(size));
	fprintf(o->cli->err, "Successfully copied %s to %s\n", size, to);
}

static int read_stdin(berth_buf *out, berth_error **err)
{
	char buf[65536];
	ssize_t n;
	while ((n = read(STDIN_FILENO, buf, sizeof(buf))) > 0)
		berth_buf_append(out, buf, (size_t)n);
	return n < 0 ? berth_error_set_errno(err, errno, "read stdin") : 0;
}

/* docker cp CONTAINER:SRC DEST */
static int cp_from(const cp_opts *o, const char *src_arg, const char *dst_arg, berth_error **err)
{
	char *src cleanup_free = berth_xstrdup(src_arg);
	bool to_stdout = strcmp(dst_arg, "-") == 0;
	char *dst cleanup_free = to_stdout ? berth_xstrdup("-") : local_abs(dst_arg);
	if (!to_stdout) {
		char *c cleanup_free = berth_path_clean(dst);
		char *parent cleanup_free = dir_of(c);
		struct stat st;
		if (stat(parent, &st) < 0 && errno == ENOENT)
			return berth_error_set(err, 400, "invalid output path: directory \"%s\" does "
							 "not exist", parent);
	}
	char *rebase_to cleanup_free = NULL;
	if (o->follow) {
		ctr_stat st = {0};
		if (ctr_stat_path(o->cli, o->ctr, src, &st, err) < 0)
			return -1;
		if (st.is_link) {
			char *target = ctr_link_path(src, st.link);
			rebase_to = rebase_name(src, &target);
			free(src);
			src = target;
		}
		free(st.link);
	}
	char *enc cleanup_free = berth_url_encode(src);
	char *suffix cleanup_free = berth_xasprintf("/archive?path=%s", enc);
	char *url cleanup_free = berth_cli_container_path(o->ctr, suffix);
	if (to_stdout) {
		fd_out out = {.fd = STDOUT_FILENO};
		int r = berth_cli_stream(o->cli, "GET", url, NULL, 0, on_chunk_to_fd, &out, err);
		if (out.err)
			return berth_error_propagate(&out.err, err);
		return r;
	}
	/* the archive goes to an unnamed temp file first: its first entry
	 * tells what the source is before anything is written */
	FILE *spool = tmpfile();
	if (spool == NULL)
		return berth_error_set_errno(err, errno, "create a temporary file");
	fd_out out = {.fd = fileno(spool)};
	int rc = berth_cli_stream(o->cli, "GET", url, NULL, 0, on_chunk_to_fd, &out, err);
	if (out.err) {
		fclose(spool);
		return berth_error_propagate(&out.err, err);
	}
	if (rc < 0) {
		fclose(spool);
		return -1;
	}
	bool src_dir = false;
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	struct archive_entry *e;
	lseek(out.fd, 0, SEEK_SET);
	if (archive_read_open_fd(a, out.fd, 65536) == ARCHIVE_OK &&
	    archive_read_next_header(a, &e) >= ARCHIVE_WARN)
		src_dir = archive_entry_filetype(e) == AE_IFDIR;
	archive_read_free(a);

	/* archive.CopyInfoDestinationPath: follow links at the destination */
	char *dpath cleanup_free = berth_xstrdup(dst);
	struct stat st;
	int lrc = lstat(dpath, &st);
	for (int n = 0; lrc == 0 && S_ISLNK(st.st_mode); n++) {
		char target[PATH_MAX];
		ssize_t len = readlink(dpath, target, sizeof(target) - 1);
		if (n > 10 || len < 0) {
			fclose(spool);
			return berth_error_set(err, 400, "too many symlinks in %s", dst);
		}
		target[len] = '\0';
		char *next = *target == '/' ? berth_xstrdup(target) : NULL;
		if (next == NULL) {
			char *d cleanup_free = NULL, *b cleanup_free = NULL;
			split_dir_entry(dpath, &d, &b);
			char *j cleanup_free = berth_xasprintf("%s/%s", d, target);
			next = berth_path_clean(j);
		}
		free(dpath);
		dpath = next;
		lrc = lstat(dpath, &st);
	}
	bool dst_exists = lrc == 0, dst_dir = lrc == 0 && S_ISDIR(st.st_mode);
	if (!dst_exists) {
		char *d cleanup_free = NULL, *b cleanup_free = NULL;
		split_dir_entry(dpath, &d, &b);
		struct stat pst;
		if (stat(d, &pst) < 0 || !S_ISDIR(pst.st_mode)) {
			fclose(spool);
			return berth_error_set(err, 400, "%s", stat(d, &pst) < 0 ? strerror(errno)
										 : "not a directory");
		}
	}
	/* archive.PrepareArchiveCopy */
	char *src_dir_part cleanup_free = NULL, *src_base cleanup_free = NULL;
	char *dst_dir_part cleanup_free = NULL, *dst_base cleanup_free = NULL;
	split_dir_entry(src, &src_dir_part, &src_base);
	split_dir_entry(dpath, &dst_dir_part, &dst_base);
	unpack u = {0};
	const char *into = dst_dir_part;
	if (dst_exists && dst_dir) {
		into = dpath;
		if (rebase_to) { /* -L: the entries take the link's name */
			u.old_base = src_base;
			u.new_base = rebase_to;
		}
	} else if (dst_exists && src_dir) {
		fclose(spool);
		return berth_error_set(err, 400, "cannot copy directory");
	} else if (!dst_exists && !src_dir && has_trailing_slash(dpath)) {
		fclose(spool);
		return berth_error_set(err, 400, "no such directory");
	} else {
		u.old_base = src_base;
		u.new_base = dst_base;
	}
	int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (chdir(into) < 0) {
		rc = berth_error_set_errno(err, errno, "chdir %s", into);
	} else {
		a = archive_read_new();
		archive_read_support_format_tar(a);
		lseek(out.fd, 0, SEEK_SET);
		if (archive_read_open_fd(a, out.fd, 65536) != ARCHIVE_OK)
			rc = berth_error_set(err, 500, "%s", archive_error_string(a));
		else {
			char *dest cleanup_free = berth_path_clean(into);
			rc = untar_here(a, &u, dest, err);
		}
		archive_read_free(a);
	}
	if (cwd >= 0) {
		if (fchdir(cwd) < 0)
			berth_warn("could not return to the working directory");
		close(cwd);
	}
	fclose(spool);
	if (rc == 0)
		copied(o, out.bytes, dst);
	return rc;
}

/* docker cp SRC CONTAINER:DEST */
static int cp_to(const cp_opts *o, const char *src_arg, const char *dst, berth_error **err)
{
	bool from_stdin = strcmp(src_arg, "-") == 0;
	char *src cleanup_free = from_stdin ? berth_xstrdup("-") : local_abs(src_arg);
	/* the destination: stat it, following one link as docker does */
	char *dpath cleanup_free = berth_xstrdup(dst);
	ctr_stat st = {0};
	if (ctr_stat_path(o->cli, o->ctr, dpath, &st, err) < 0)
		return -1;
	if (st.is_link) {
		char *target = ctr_link_path(dpath, st.link);
		free(dpath);
		dpath = target;
		free(st.link);
		if (ctr_stat_path(o->cli, o->ctr, dpath, &st, err) < 0)
			return -1;
	}
	free(st.link);
	char *put_dir cleanup_free = NULL;
	void *data = NULL;
	size_t len = 0;
	berth_buf in cleanup_buf = {0};
	if (from_stdin) {
		if (!st.is_dir)
			return berth_error_set(err, 400, "destination \"%s:%s\" must be a directory",
					       o->ctr, dst);
		if (read_stdin(&in, err) < 0)
			return -1;
		put_dir = berth_xstrdup(dpath);
		data = in.data ? in.data : "";
		len = in.len;
	} else {
		/* archive.CopyInfoSourcePath: the parent's links resolved, the
		 * last element's only with -L */
		char *resolved = NULL, *src_rebase cleanup_free = NULL;
		if (o->follow) {
			char real[PATH_MAX];
			if (realpath(src, real) == NULL)
				return berth_error_set_errno(err, errno, "lstat %s", src);
			resolved = berth_xstrdup(real);
			src_rebase = rebase_name(src, &resolved);
		} else {
			char *d cleanup_free = NULL;
			const char *slash = strrchr(src, '/');
			d = berth_xstrndup(src, (size_t)(slash - src + 1));
			char real[PATH_MAX];
			if (realpath(d, real) == NULL)
				return berth_error_set_errno(err, errno, "lstat %s", src);
			resolved = berth_xasprintf("%s%s%s", real, strcmp(real, "/") ? "/" : "", slash + 1);
			char *b1 cleanup_free = berth_path_base(src), *b2 cleanup_free = berth_path_base(resolved);
			if (has_trailing_slash(src) && strcmp(b1, b2) != 0)
				src_rebase = berth_xstrdup(b1);
		}
		char *spath cleanup_free = resolved;
		struct stat lst;
		if (lstat(spath, &lst) < 0)
			return berth_error_set_errno(err, errno, "lstat %s", spath);
		bool src_dir = S_ISDIR(lst.st_mode);
		char *sdir cleanup_free = NULL, *sbase cleanup_free = NULL;
		split_dir_entry(spath, &sdir, &sbase);
		const char *top = src_rebase ? src_rebase : sbase;
		/* archive.PrepareArchiveCopy, the rebase folded into the names */
		char *ddir cleanup_free = NULL, *dbase cleanup_free = NULL;
		split_dir_entry(dpath, &ddir, &dbase);
		if (st.exists && st.is_dir) {
			put_dir = berth_xstrdup(dpath);
		} else if (st.exists && src_dir) {
			return berth_error_set(err, 400, "cannot copy directory");
		} else if (!st.exists && !src_dir && has_trailing_slash(dpath)) {
			return berth_error_set(err, 400, "no such directory");
		} else {
			put_dir = berth_xstrdup(ddir);
			top = dbase;
		}
		/* a source "dir/." archives the directory's contents as "./..." */
		char *top_name cleanup_free = berth_xstrdup(top);
		char *walk cleanup_free = strcmp(sbase, ".") == 0 ? berth_xstrdup(sdir) : berth_xstrdup(spath);
		if (pack_local(walk, top_name, &data, &len, err) < 0)
			return -1;
	}
	berth_buf q cleanup_buf = {0};
	char *enc cleanup_free = berth_url_encode(put_dir);
	berth_buf_printf(&q, "/archive?path=%s&noOverwriteDirNonDir=true%s", enc,
			 o->archive ? "&copyUIDGID=true" : "");
	char *url cleanup_free = berth_cli_container_path(o->ctr, q.data);
	fd_out sink = {.fd = -1};
	int rc = berth_cli_stream(o->cli, "PUT", url, data, len, on_chunk_to_fd, &sink, err);
	if (!from_stdin && data)
		munmap(data, len);
	if (rc == 0) {
		char *to cleanup_free = berth_xasprintf("%s:%s", o->ctr, dpath);
		copied(o, (int64_t)len, to);
	}
	return rc;
}

/* docker's splitCpArg: "CONTAINER:PATH", or a local path (absolute, or
 * without ':' before any '/', or starting with '.'). */
static bool split_cp_arg(const char *arg, char **ctr, char **path)
{
	*ctr = NULL;
	const char *colon = strchr(arg, ':');
	if (*arg == '/' || colon == NULL || *arg == '.') {
		*path = berth_xstrdup(arg);
		return false;
	}
	*ctr = berth_xstrndup(arg, (size_t)(colon - arg));
	*path = berth_xstrdup(colon + 1);
	return true;
}

int berth_cli_cp(berth_invocation *inv)
{
	bool archive = false, follow = false, quiet = false;
	berth_flag flags[] = {
		{"archive", 'a', BERTH_FLAG_BOOL, &archive, "Archive mode (copy all uid/gid information)"},
		{"follow-link", 'L', BERTH_FLAG_BOOL, &follow, "Always follow symbol link in SRC_PATH"},
		{"quiet", 'q', BERTH_FLAG_BOOL, &quiet, "Suppress progress output during copy. Progress "
							"output is automatically suppressed if no "
							"terminal is attached"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	berth_error *err cleanup_error = NULL;
	char *sctr cleanup_free = NULL, *spath cleanup_free = NULL;
	char *dctr cleanup_free = NULL, *dpath cleanup_free = NULL;
	bool from = split_cp_arg(inv->args.v[0], &sctr, &spath);
	bool to = split_cp_arg(inv->args.v[1], &dctr, &dpath);
	if (*spath == '\0')
		berth_error_set(&err, 400, "source can not be empty");
	else if (*dpath == '\0')
		berth_error_set(&err, 400, "destination can not be empty");
	else if (from && to)
		berth_error_set(&err, 400, "copying between containers is not supported");
	else if (!from && !to)
		berth_error_set(&err, 400, "must specify at least one container source");
	if (err)
		return fail(inv->cli, &err);
	cp_opts o = {.cli = inv->cli, .ctr = from ? sctr : dctr, .follow = follow,
		     .archive = archive, .quiet = quiet || !isatty(STDERR_FILENO)};
	int rc = from ? cp_from(&o, spath, dpath, &err) : cp_to(&o, spath, dpath, &err);
	return rc < 0 ? fail(inv->cli, &err) : BERTH_EXIT_OK;
}
