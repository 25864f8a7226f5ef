/*
 * build.c - `berth build` (and `berth image build`): packs the context
 * directory as the docker CLI does (honouring .dockerignore, owners 0:0, a
 * Dockerfile from outside the context added under a hidden name), posts it
 * to /build and prints the classic builder's stream; a failed RUN's exit
 * code becomes the command's.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builder/builder.h"
#include "lazy_archive.h"
#include "cli.h"

typedef struct packer {
	struct archive *a;
	struct archive *disk;
	const berth_dockerignore *di;
	berth_buf out;
	berth_error *err;
} packer;

static la_ssize_t pack_write(struct archive *a, void *ud, const void *buf, size_t len)
{
	berth_buf_append(&((packer *)ud)->out, buf, len);
	return (la_ssize_t)len;
}

static int pack_fail(packer *p, const char *what)
{
	if (p->err == NULL)
		berth_error_set(&p->err, 400, "%s: %s", what, archive_error_string(p->a) ?: "");
	return -1;
}

/* Adds one file of the context under name (its path in the archive). */
static int pack_file(packer *p, const char *path, const char *name, const struct stat *st)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_copy_pathname(e, name);
	archive_entry_copy_sourcepath(e, path);
	int fd = S_ISREG(st->st_mode) ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	archive_read_disk_entry_from_file(p->disk, e, fd, st);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	archive_entry_set_uname(e, "");
	archive_entry_set_gname(e, "");
	int rc = archive_write_header(p->a, e) == ARCHIVE_OK ? 0 : pack_fail(p, name);
	char buf[65536];
	ssize_t r;
	while (rc == 0 && fd >= 0 && (r = read(fd, buf, sizeof(buf))) > 0)
		if (archive_write_data(p->a, buf, (size_t)r) < 0)
			rc = pack_fail(p, name);
	if (fd >= 0)
		close(fd);
	archive_entry_free(e);
	return rc;
}

static int pack_bytes(packer *p, const char *name, const char *data, size_t len)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_copy_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0600);
	archive_entry_set_size(e, (la_int64_t)len);
	archive_entry_set_mtime(e, time(NULL), 0);
	int rc = archive_write_header(p->a, e) == ARCHIVE_OK &&
			 archive_write_data(p->a, data, len) == (la_ssize_t)len ? 0 : pack_fail(p, name);
	archive_entry_free(e);
	return rc;
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Walks dir (rel below the context), in name order. */
static int pack_dir(packer *p, const char *dir, const char *rel)
{
	DIR *d = opendir(dir);
	if (d == NULL)
		return berth_error_set_errno(&p->err, errno, "open %s", dir);
	berth_strlist names cleanup_strlist = {0};
	struct dirent *de;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			berth_strlist_push(&names, de->d_name);
	closedir(d);
	if (names.n)
		qsort(names.v, names.n, sizeof(char *), name_cmp);
	for (size_t i = 0; i < names.n; i++) {
		char *path cleanup_free = berth_xasprintf("%s/%s", dir, names.v[i]);
		char *name cleanup_free = *rel ? berth_xasprintf("%s/%s", rel, names.v[i])
					       : berth_xstrdup(names.v[i]);
		struct stat st;
		if (lstat(path, &st) < 0)
			return berth_error_set_errno(&p->err, errno, "stat %s", path);
		bool excluded = berth_dockerignore_excluded(p->di, name);
		if (excluded && !(S_ISDIR(st.st_mode) && berth_dockerignore_descend(p->di, name)))
			continue;
		if (!excluded && pack_file(p, path, name, &st) < 0)
			return -1;
		if (S_ISDIR(st.st_mode) && pack_dir(p, path, name) < 0)
			return -1;
	}
	return 0;
}

/* The context as a tar; *dockerfile gets its name inside (a Dockerfile
 * from elsewhere is added as ".dockerfile.<random>" and ignored). */
static int pack_context(const char *dir, const char *file, berth_buf *out, char **dockerfile,
			berth_error **err)
{
	char *ignore_path cleanup_free = berth_xasprintf("%s/.dockerignore", dir);
	char *ignore cleanup_free = NULL;
	size_t ignore_len = 0;
	berth_file_read_all(ignore_path, &ignore, &ignore_len, NULL);
	char *ctx_real cleanup_free = realpath(dir, NULL);
	char *df_real cleanup_free = file && *file ? realpath(file, NULL) : NULL;
	if (ctx_real == NULL)
		return berth_error_set(err, 400, "unable to prepare context: path \"%s\" not found", dir);
	if (file && *file && df_real == NULL)
		return berth_error_set(err, 400, "unable to prepare context: unable to evaluate symlinks in "
						 "Dockerfile path: lstat %s: no such file or directory", file);
	size_t cl = strlen(ctx_real);
	bool outside = df_real && !(strncmp(df_real, ctx_real, cl) == 0 && df_real[cl] == '/');
	char rnd[65];
	berth_random_id(rnd);
	*dockerfile = outside ? berth_xasprintf(".dockerfile.%.20s", rnd)
		      : df_real ? berth_xstrdup(df_real + cl + 1) : berth_xstrdup("Dockerfile");
	berth_buf rules cleanup_buf = {0};
	berth_buf_append(&rules, ignore ? ignore : "", ignore_len);
	if (outside)
		berth_buf_printf(&rules, "\n%s\n.dockerignore\n", *dockerfile);
	berth_dockerignore *di = NULL;
	if (berth_dockerignore_parse(rules.data ? rules.data : "", rules.len, &di, err) < 0)
		return -1;
	packer p = {.di = di};
	p.a = archive_write_new();
	p.disk = archive_read_disk_new();
	archive_write_set_format_pax_restricted(p.a);
	archive_write_open(p.a, &p, NULL, pack_write, NULL);
	int rc = pack_dir(&p, ctx_real, "");
	char *df_data cleanup_free = NULL;
	size_t df_len = 0;
	if (rc == 0 && outside && berth_file_read_all(df_real, &df_data, &df_len, &p.err) == 0)
		rc = pack_bytes(&p, *dockerfile, df_data, df_len);
	if (rc == 0 && outside)
		rc = pack_bytes(&p, ".dockerignore", rules.data, rules.len);
	if (archive_write_close(p.a) != ARCHIVE_OK && rc == 0)
		rc = pack_fail(&p, "write the context");
	archive_write_free(p.a);
	archive_read_free(p.disk);
	berth_dockerignore_free(di);
	*out = p.out;
	if (p.err)
		return berth_error_propagate(&p.err, err);
	return rc;
}

/* ---------------------------------------------------------------- output */

typedef struct build_output {
	berth_cli *cli;
	berth_buf pending;
	char *image_id;
	char *error;
	int code;
} build_output;

static void show(build_output *o, const json_t *msg)
{
	const json_t *detail = json_object_get(msg, "errorDetail");
	const char *error = berth_json_string(msg, "error");
	if (detail || error) {
		free(o->error);
		o->error = berth_xstrdup(berth_json_string(detail, "message") ?: error);
		o->code = (int)json_integer_value(json_object_get(detail, "code"));
		return;
	}
	const char *id = berth_json_string(json_object_get(msg, "aux"), "ID");
	if (id) {
		free(o->image_id);
		o->image_id = berth_xstrdup(id);
	}
	const char *text = berth_json_string(msg, "stream");
	const char *status = berth_json_string(msg, "status");
	const char *pid = berth_json_string(msg, "id");
	if (text)
		fputs(text, o->cli->out);
	else if (status && !berth_json_string(msg, "progress")) /* pulls: no progress bars */
		fprintf(o->cli->out, "%s%s%s\n", pid ? pid : "", pid ? ": " : "", status);
}

static int on_chunk(void *ud, const char *data, size_t len)
{
	build_output *o = ud;
	berth_buf_append(&o->pending, data, len);
	char *nl;
	while ((nl = memchr(o->pending.data, '\n', o->pending.len)) != NULL) {
		size_t n = (size_t)(nl - o->pending.data) + 1;
		json_t *msg = json_loadb(o->pending.data, n, JSON_DISABLE_EOF_CHECK, NULL);
		if (msg)
			show(o, msg);
		json_decref(msg);
		berth_buf_consume(&o->pending, n);
	}
	fflush(o->cli->out);
	return 0;
}

/* ---------------------------------------------------------------- query */

static void add_json_map(berth_buf *q, const char *key, const berth_strlist *pairs)
{
	if (pairs->n == 0)
		return;
	json_t *m = json_object();
	for (size_t i = 0; i < pairs->n; i++) {
		const char *eq = strchr(pairs->v[i], '=');
		char *k cleanup_free = berth_xstrndup(pairs->v[i], eq ? (size_t)(eq - pairs->v[i])
								 : strlen(pairs->v[i]));
		const char *env = eq ? NULL : getenv(k);
		json_object_set_new(m, k, eq ? json_string(eq + 1) : env ? json_string(env) : json_null());
	}
	char *text cleanup_free = berth_json_dump(m);
	char *enc cleanup_free = berth_url_encode(text);
	berth_buf_printf(q, "&%s=%s", key, enc);
	json_decref(m);
}

static void add_param(berth_buf *q, const char *key, const char *value)
{
	if (value == NULL || *value == '\0')
		return;
	char *enc cleanup_free = berth_url_encode(value);
	berth_buf_printf(q, "&%s=%s", key, enc);
}

int berth_cli_build(berth_invocation *inv)
{
	berth_strlist tags cleanup_strlist = {0}, build_args cleanup_strlist = {0};
	berth_strlist labels cleanup_strlist = {0}, hosts cleanup_strlist = {0};
	berth_strlist cache_from cleanup_strlist = {0};
	const char *file = NULL, *target = NULL, *iidfile = NULL, *network = NULL, *platform = NULL;
	bool no_cache = false, quiet = false, pull = false, force_rm = false, rm = true;
	berth_flag flags[] = {
		{"add-host", 0, BERTH_FLAG_LIST, &hosts, "Add a custom host-to-IP mapping (\"host:ip\")", .type_name = "list"},
		{"build-arg", 0, BERTH_FLAG_LIST, &build_args, "Set build-time variables", .type_name = "list"},
		{"cache-from", 0, BERTH_FLAG_LIST, &cache_from, "Images to consider as cache sources", .type_name = "strings"},
		{"file", 'f', BERTH_FLAG_STRING, &file, "Name of the Dockerfile (Default is \"PATH/Dockerfile\")", .type_name = "string"},
		{"force-rm", 0, BERTH_FLAG_BOOL, &force_rm, "Always remove intermediate containers"},
		{"iidfile", 0, BERTH_FLAG_STRING, &iidfile, "Write the image ID to the file", .type_name = "string"},
		{"label", 0, BERTH_FLAG_LIST, &labels, "Set metadata for an image", .type_name = "list"},
		{"network", 0, BERTH_FLAG_STRING, &network, "Set the networking mode for the RUN instructions during build", .type_name = "string", .def = "default"},
		{"no-cache", 0, BERTH_FLAG_BOOL, &no_cache, "Do not use cache when building the image"},
		{"platform", 0, BERTH_FLAG_STRING, &platform, "Set platform if server is multi-platform capable", .type_name = "string"},
		{"pull", 0, BERTH_FLAG_BOOL, &pull, "Always attempt to pull a newer version of the image"},
		{"quiet", 'q', BERTH_FLAG_BOOL, &quiet, "Suppress the build output and print image ID on success"},
		{"rm", 0, BERTH_FLAG_BOOL, &rm, "Remove intermediate containers after a successful build", .def = "true"},
		{"tag", 't', BERTH_FLAG_LIST, &tags, "Name and optionally a tag in the \"name:tag\" format", .type_name = "list"},
		{"target", 0, BERTH_FLAG_STRING, &target, "Set the target build stage to build.", .type_name = "string"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	berth_error *err cleanup_error = NULL;
	berth_buf body cleanup_buf = {0};
	char *dockerfile cleanup_free = NULL;
	if (pack_context(inv->args.v[0], file, &body, &dockerfile, &err) < 0)
		return berth_cli_fail(inv->cli, &err, BERTH_EXIT_ERROR);
	berth_buf q cleanup_buf = {0};
	berth_buf_printf(&q, "/build?rm=%d&forcerm=%d&nocache=%d&q=%d&pull=%d", rm, force_rm, no_cache,
			 quiet, pull);
	add_param(&q, "dockerfile", dockerfile);
	for (size_t i = 0; i < tags.n; i++)
		add_param(&q, "t", tags.v[i]);
	add_param(&q, "target", target);
	add_param(&q, "platform", platform);
	if (cache_from.n) {
		json_t *names = json_array();
		for (size_t i = 0; i < cache_from.n; i++)
			json_array_append_new(names, json_string(cache_from.v[i]));
		char *text cleanup_free = berth_json_dump(names);
		json_decref(names);
		add_param(&q, "cachefrom", text);
	}
	add_param(&q, "networkmode", network);
	for (size_t i = 0; i < hosts.n; i++)
		add_param(&q, "extrahosts", hosts.v[i]);
	add_json_map(&q, "buildargs", &build_args);
	add_json_map(&q, "labels", &labels);
	build_output o = {.cli = inv->cli};
	int rc = berth_cli_stream(inv->cli, "POST", q.data, body.data, body.len, on_chunk, &o, &err);
	on_chunk(&o, "\n", 1);
	berth_buf_reset(&o.pending);
	int exit = BERTH_EXIT_OK;
	if (rc < 0) {
		exit = berth_cli_fail(inv->cli, &err, BERTH_EXIT_ERROR);
	} else if (o.error) {
		fprintf(inv->cli->err, "%s\n", o.error);
		exit = o.code ? o.code : BERTH_EXIT_ERROR;
	} else if (iidfile && *iidfile && o.image_id &&
		   berth_file_write_atomic(iidfile, o.image_id, strlen(o.image_id), 0644, &err) < 0) {
		exit = berth_cli_fail(inv->cli, &err, BERTH_EXIT_ERROR);
	}
	free(o.image_id);
	free(o.error);
	return exit;
}
