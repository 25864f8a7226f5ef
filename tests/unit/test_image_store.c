/* The image store: import, tag, inspect, history, list filters, delete and
 * prune rules, save/load round trips, bad archives, crash recovery, and the
 * overlay mount and diff. */
#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "engine/image/internal.h"

typedef struct fixture {
	char *root;
	berth_image_store *s;
} fixture;

/* --------------------------------------------------------------- helpers */

typedef struct file_spec {
	const char *name;
	const char *data; /* NULL: a directory; "->x": a symlink to x */
} file_spec;

static void tar_of(const file_spec *files, size_t n, berth_buf *out)
{
	struct archive *a = archive_write_new();
	archive_write_set_format_pax_restricted(a);
	archive_write_add_filter_none(a);
	archive_write_set_bytes_in_last_block(a, 1);
	size_t cap = 1 << 20, used = 0;
	char *mem = malloc(cap);
	archive_write_open_memory(a, mem, cap, &used);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *e = archive_entry_new();
		archive_entry_set_pathname(e, files[i].name);
		archive_entry_set_mtime(e, 1700000000, 0);
		const char *d = files[i].data;
		bool link = d && strncmp(d, "->", 2) == 0;
		archive_entry_set_filetype(e, !d ? AE_IFDIR : link ? AE_IFLNK : AE_IFREG);
		archive_entry_set_perm(e, d ? 0644 : 0755);
		if (link)
			archive_entry_set_symlink(e, d + 2);
		archive_entry_set_size(e, d && !link ? (la_int64_t)strlen(d) : 0);
		archive_write_header(a, e);
		if (d && !link)
			archive_write_data(a, d, strlen(d));
		archive_entry_free(e);
	}
	archive_write_close(a);
	archive_write_free(a);
	berth_buf_append(out, mem, used);
	free(mem);
}

static char *import(fixture *f, const file_spec *files, size_t n, const char *repo,
		    char *const *changes)
{
	berth_buf tar = {0};
	tar_of(files, n, &tar);
	berth_image_source src = {tar.data, tar.len};
	berth_image_import_opts o = {.repo = repo, .changes = changes};
	char *id = NULL;
	berth_error *err = NULL;
	if (berth_image_import(f->s, &src, &o, &id, &err) < 0)
		fail_msg("import: %s", err->msg);
	berth_buf_reset(&tar);
	return id;
}

static const file_spec base_files[] = {
	{"bin/", NULL}, {"bin/sh", "#!shell"}, {"etc/", NULL}, {"etc/motd", "hello\n"},
	{"bin/ash", "->sh"},
};

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	f->root = strdup("/tmp/berth-store-XXXXXX");
	assert_non_null(mkdtemp(f->root));
	berth_error *err = NULL;
	if (berth_image_store_open(f->root, &f->s, &err) < 0)
		fail_msg("open: %s", err->msg);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;
	berth_image_store_close(f->s);
	remove_tree(f->root);
	free(f->root);
	free(f);
	return 0;
}

static void reopen(fixture *f)
{
	berth_image_store_close(f->s);
	berth_error *err = NULL;
	if (berth_image_store_open(f->root, &f->s, &err) < 0)
		fail_msg("reopen: %s", err->msg);
}

static size_t count_dir(const char *root, const char *sub)
{
	char *path = berth_xasprintf("%s/image/%s", root, sub);
	DIR *d = opendir(path);
	free(path);
	size_t n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static json_t *list(fixture *f, const berth_image_filters *filters)
{
	berth_image_filters none = {.dangling = -1};
	json_t *out = NULL;
	berth_error *err = NULL;
	if (berth_image_list(f->s, filters ? filters : &none, &out, &err) < 0)
		fail_msg("list: %s", err->msg);
	return out;
}

static int collect(void *ud, const void *data, size_t len, berth_error **err)
{
	berth_buf_append(ud, data, len);
	return 0;
}

/* ----------------------------------------------------------------- tests */

static void test_import_inspect(void **state)
{
	fixture *f = *state;
	char *changes[] = {"CMD [\"/bin/sh\", \"-c\", \"echo hi\"]", "ENV A=1 B=\"two words\"",
			   "WORKDIR /srv", "WORKDIR app", "LABEL team=core", "EXPOSE 80 53/udp",
			   NULL};
	char *id = import(f, base_files, BERTH_ARRAY_SIZE(base_files), "busybox", changes);
	json_t *insp = NULL;
	berth_error *err = NULL;
	assert_int_equal(berth_image_inspect(f->s, "busybox", &insp, &err), 0);
	assert_string_equal(berth_json_string(insp, "Id"), id);
	assert_string_equal(json_string_value(json_array_get(json_object_get(insp, "RepoTags"), 0)),
			    "busybox:latest");
	assert_string_equal(berth_json_string(insp, "Comment"), "Imported from -");
	json_t *cfg = json_object_get(insp, "Config");
	assert_string_equal(json_string_value(json_array_get(json_object_get(cfg, "Cmd"), 2)),
			    "echo hi");
	assert_string_equal(json_string_value(json_array_get(json_object_get(cfg, "Env"), 1)),
			    "B=two words");
	assert_string_equal(berth_json_string(cfg, "WorkingDir"), "/srv/app");
	assert_string_equal(berth_json_string(json_object_get(cfg, "Labels"), "team"), "core");
	assert_non_null(json_object_get(json_object_get(cfg, "ExposedPorts"), "53/udp"));
	assert_true(json_is_string(json_object_get(cfg, "Hostname")));
	assert_int_equal(json_integer_value(json_object_get(insp, "Size")), 7 + 6 + 2);
	json_t *layers = json_object_get(json_object_get(insp, "RootFS"), "Layers");
	assert_int_equal(json_array_size(layers), 1);
	json_decref(insp);
	/* a short ID prefix and the full ID both name it */
	char prefix[13];
	snprintf(prefix, sizeof(prefix), "%.12s", id + 7);
	assert_int_equal(berth_image_inspect(f->s, prefix, &insp, &err), 0);
	json_decref(insp);
	assert_int_equal(berth_image_inspect(f->s, "nosuch", &insp, &err), -1);
	assert_int_equal(err->status, 404);
	assert_string_equal(err->msg, "No such image: nosuch:latest");
	berth_error_free(&err);
	/* history: one entry carrying the image ID and its tag */
	json_t *hist = NULL;
	assert_int_equal(berth_image_history(f->s, id, &hist, &err), 0);
	assert_int_equal(json_array_size(hist), 1);
	assert_string_equal(berth_json_string(json_array_get(hist, 0), "Id"), id);
	json_decref(hist);
	free(id);
}

static void test_bad_change(void **state)
{
	json_t *cfg = json_object();
	char *bad[] = {"RUN echo", NULL};
	berth_error *err = NULL;
	assert_int_equal(berth_image_apply_changes(cfg, bad, &err), -1);
	assert_string_equal(err->msg, "run is not a valid change command");
	berth_error_free(&err);
	char *ok[] = {"ENTRYPOINT top -b", "USER nobody", "VOLUME [\"/data\"]", "STOPSIGNAL SIGINT",
		      "HEALTHCHECK --interval=5s CMD true", "ONBUILD run echo", NULL};
	assert_int_equal(berth_image_apply_changes(cfg, ok, &err), 0);
	assert_string_equal(json_string_value(json_array_get(json_object_get(cfg, "Entrypoint"), 2)),
			    "top -b");
	assert_true(json_is_null(json_object_get(cfg, "Cmd")));
	json_t *hc = json_object_get(cfg, "Healthcheck");
	assert_int_equal(json_integer_value(json_object_get(hc, "Interval")), 5000000000LL);
	assert_string_equal(json_string_value(json_array_get(json_object_get(hc, "Test"), 0)),
			    "CMD-SHELL");
	assert_string_equal(json_string_value(json_array_get(json_object_get(cfg, "OnBuild"), 0)),
			    "RUN echo");
	json_decref(cfg);
}

static void test_tag_delete_rules(void **state)
{
	fixture *f = *state;
	char *id = import(f, base_files, BERTH_ARRAY_SIZE(base_files), NULL, NULL);
	berth_error *err = NULL;
	assert_int_equal(berth_image_tag(f->s, id, "a", "1", NULL, NULL, &err), 0);
	assert_int_equal(berth_image_tag(f->s, id, "b", NULL, NULL, NULL, &err), 0);
	assert_int_equal(berth_image_tag(f->s, id, "sha256", "x", NULL, NULL, &err), -1);
	berth_error_free(&err);
	json_t *report = NULL, *events = NULL;
	assert_int_equal(berth_image_delete(f->s, id, false, true, &report, NULL, &err), -1);
	assert_int_equal(err->status, 409);
	assert_non_null(strstr(err->msg, "image is referenced in multiple repositories"));
	berth_error_free(&err);
	assert_int_equal(berth_image_delete(f->s, "a:1", false, true, &report, &events, &err), 0);
	assert_int_equal(json_array_size(report), 1);
	assert_string_equal(berth_json_string(json_array_get(report, 0), "Untagged"), "a:1");
	json_decref(report);
	json_decref(events);
	assert_int_equal(count_dir(f->root, "layers"), 1);
	assert_int_equal(berth_image_delete(f->s, "b", false, true, &report, &events, &err), 0);
	/* untagged, the image, then its layer */
	assert_int_equal(json_array_size(report), 3);
	assert_string_equal(berth_json_string(json_array_get(report, 0), "Untagged"), "b:latest");
	assert_string_equal(berth_json_string(json_array_get(report, 1), "Deleted"), id);
	assert_int_equal(json_array_size(events), 2);
	json_decref(report);
	json_decref(events);
	assert_int_equal(count_dir(f->root, "layers"), 0);
	assert_int_equal(count_dir(f->root, "images"), 0);
	assert_int_equal(count_dir(f->root, "blobs/sha256"), 0);
	free(id);
}

static void test_list_filters(void **state)
{
	fixture *f = *state;
	char *labels[] = {"LABEL tier=web", NULL};
	char *a = import(f, base_files, 2, "web", labels);
	const file_spec other[] = {{"x", "1"}};
	char *b = import(f, other, 1, NULL, NULL);
	json_t *all = list(f, NULL);
	assert_int_equal(json_array_size(all), 2);
	json_decref(all);
	berth_image_filters dangling = {.dangling = 1};
	json_t *d = list(f, &dangling);
	assert_int_equal(json_array_size(d), 1);
	assert_string_equal(berth_json_string(json_array_get(d, 0), "Id"), b);
	assert_int_equal(json_array_size(json_object_get(json_array_get(d, 0), "RepoTags")), 0);
	json_decref(d);
	char *lab[] = {"tier=web", NULL};
	berth_image_filters byl = {.dangling = -1, .labels = lab};
	json_t *l = list(f, &byl);
	assert_int_equal(json_array_size(l), 1);
	assert_string_equal(berth_json_string(json_array_get(l, 0), "Id"), a);
	json_decref(l);
	char *pat[] = {"w*", NULL};
	berth_image_filters byr = {.dangling = -1, .references = pat};
	json_t *r = list(f, &byr);
	assert_int_equal(json_array_size(r), 1);
	json_decref(r);
	json_t *df = NULL;
	berth_error *err = NULL;
	assert_int_equal(berth_image_df(f->s, &df, &err), 0);
	assert_int_equal(json_array_size(json_object_get(df, "Images")), 2);
	json_decref(df);
	/* prune takes the dangling one only, then -a the rest */
	berth_image_filters pd = {.dangling = -1};
	json_t *rep = NULL;
	assert_int_equal(berth_image_prune(f->s, &pd, &rep, NULL, &err), 0);
	assert_int_equal(json_array_size(json_object_get(rep, "ImagesDeleted")), 2);
	assert_true(json_integer_value(json_object_get(rep, "SpaceReclaimed")) > 0);
	json_decref(rep);
	berth_image_filters pa = {.dangling = 0};
	assert_int_equal(berth_image_prune(f->s, &pa, &rep, NULL, &err), 0);
	json_decref(rep);
	all = list(f, NULL);
	assert_int_equal(json_array_size(all), 0);
	json_decref(all);
	free(a);
	free(b);
}

static void save_all(fixture *f, char **names, berth_buf *out)
{
	berth_error *err = NULL;
	json_t *ids = NULL;
	if (berth_image_save(f->s, names, collect, out, &ids, &err) < 0)
		fail_msg("save: %s", err->msg);
	json_decref(ids);
}

static int load_buf(fixture *f, const berth_buf *b, json_t **loaded, berth_error **err)
{
	berth_image_source src = {b->data, b->len};
	return berth_image_load(f->s, &src, true, NULL, NULL, loaded, err);
}

static void test_save_load_roundtrip(void **state)
{
	fixture *f = *state;
	char *id = import(f, base_files, BERTH_ARRAY_SIZE(base_files), "rt:v1", NULL);
	char *names[] = {"rt:v1", NULL};
	berth_buf archive = {0};
	save_all(f, names, &archive);
	fixture g = {0};
	setup((void **)&g.root);
	fixture *h = (fixture *)g.root;
	json_t *loaded = NULL;
	berth_error *err = NULL;
	if (load_buf(h, &archive, &loaded, &err) < 0)
		fail_msg("load: %s", err->msg);
	assert_string_equal(json_string_value(json_array_get(loaded, 0)), id);
	json_decref(loaded);
	json_t *a = NULL, *b = NULL;
	assert_int_equal(berth_image_inspect(f->s, "rt:v1", &a, &err), 0);
	assert_int_equal(berth_image_inspect(h->s, "rt:v1", &b, &err), 0);
	assert_true(json_equal(json_object_get(a, "RootFS"), json_object_get(b, "RootFS")));
	json_decref(a);
	json_decref(b);
	/* a save of the loaded image is the same archive, byte for byte */
	berth_buf again = {0};
	save_all(h, names, &again);
	assert_int_equal(again.len, archive.len);
	assert_memory_equal(again.data, archive.data, archive.len);
	/* loading twice is fine and changes nothing */
	assert_int_equal(load_buf(h, &archive, NULL, &err), 0);
	teardown((void **)&h);
	berth_buf_reset(&archive);
	berth_buf_reset(&again);
	free(id);
}

/* Rewrites an archive through a filter on its entries. */
typedef void (*entry_edit)(const char *name, berth_buf *data, bool *drop);

static void rewrite(const berth_buf *in, entry_edit edit, berth_buf *out)
{
	struct archive *r = archive_read_new();
	archive_read_support_format_tar(r);
	archive_read_open_memory(r, in->data, in->len);
	struct archive *w = archive_write_new();
	archive_write_set_format_pax_restricted(w);
	size_t cap = in->len * 2 + 65536, used = 0;
	char *mem = malloc(cap);
	archive_write_open_memory(w, mem, cap, &used);
	struct archive_entry *e;
	while (archive_read_next_header(r, &e) == ARCHIVE_OK) {
		berth_buf data = {0};
		char buf[8192];
		la_ssize_t n;
		while ((n = archive_read_data(r, buf, sizeof(buf))) > 0)
			berth_buf_append(&data, buf, (size_t)n);
		bool drop = false;
		edit(archive_entry_pathname(e), &data, &drop);
		if (!drop) {
			archive_entry_set_size(e, (la_int64_t)data.len);
			archive_write_header(w, e);
			archive_write_data(w, data.data ? data.data : "", data.len);
		}
		berth_buf_reset(&data);
	}
	archive_write_close(w);
	archive_write_free(w);
	archive_read_free(r);
	berth_buf_append(out, mem, used);
	free(mem);
}

static void drop_manifest(const char *name, berth_buf *data, bool *drop)
{
	*drop = strcmp(name, "manifest.json") == 0 || strcmp(name, "repositories") == 0;
}

static void flip_layer_byte(const char *name, berth_buf *data, bool *drop)
{
	/* the layer tar is the blob that is not JSON; byte 1024 is the first
	 * byte of bin/sh's contents, after the headers of bin/ and bin/sh */
	if (berth_str_has_prefix(name, "blobs/sha256/") && data->len > 1024 && data->data[0] != '{')
		data->data[1024] ^= 1;
}

static void assert_no_trace(fixture *f)
{
	json_t *all = list(f, NULL);
	assert_int_equal(json_array_size(all), 0);
	json_decref(all);
	assert_int_equal(count_dir(f->root, "layers"), 0);
	assert_int_equal(count_dir(f->root, "images"), 0);
	assert_int_equal(count_dir(f->root, "tmp"), 0);
	assert_int_equal(count_dir(f->root, "blobs/sha256"), 0);
}

static void test_load_oci_layout(void **state)
{
	fixture *f = *state;
	char *id = import(f, base_files, BERTH_ARRAY_SIZE(base_files), "oci:t", NULL);
	char *names[] = {id, "oci:t", NULL};
	berth_buf archive = {0}, oci = {0};
	save_all(f, names, &archive);
	rewrite(&archive, drop_manifest, &oci);
	json_t *report = NULL;
	berth_error *err = NULL;
	assert_int_equal(berth_image_delete(f->s, id, true, true, &report, NULL, &err), 0);
	json_decref(report);
	assert_no_trace(f);
	json_t *loaded = NULL;
	if (load_buf(f, &oci, &loaded, &err) < 0)
		fail_msg("load: %s", err->msg);
	assert_string_equal(json_string_value(json_array_get(loaded, 0)), id);
	json_decref(loaded);
	char *resolved = NULL;
	assert_int_equal(berth_image_resolve(f->s, "oci:t", &resolved, &err), 0);
	assert_string_equal(resolved, id);
	free(resolved);
	berth_buf_reset(&archive);
	berth_buf_reset(&oci);
	free(id);
}

/* Adds a regular file or a symlink to an archive being written. */
static void put(struct archive *w, const char *name, const char *data, size_t len,
		const char *link)
{
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, link ? AE_IFLNK : AE_IFREG);
	archive_entry_set_perm(e, 0644);
	if (link)
		archive_entry_set_symlink(e, link);
	archive_entry_set_size(e, link ? 0 : (la_int64_t)len);
	archive_write_header(w, e);
	if (!link)
		archive_write_data(w, data, len);
	archive_entry_free(e);
}

/* docker save before Docker 25: <id>/layer.tar, <config>.json, and a
 * symlink for a layer used twice (here an image whose two layers have the
 * same bytes, so the same diff ID on two chains). */
static void test_load_legacy_layout(void **state)
{
	fixture *f = *state;
	berth_buf layer = {0};
	tar_of(base_files, 2, &layer);
	char diff[DIGEST_LEN + 1];
	digest_of(layer.data, layer.len, diff);
	char *config = berth_xasprintf("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{},"
				       "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\",\"%s\"]}}",
				       diff, diff);
	char id[DIGEST_LEN + 1];
	digest_of(config, strlen(config), id);
	char *cfg_name = berth_xasprintf("%s.json", HEX_OF(id));
	char *manifest = berth_xasprintf("[{\"Config\":\"%s\",\"RepoTags\":[\"legacy:1\"],"
					 "\"Layers\":[\"aaa/layer.tar\",\"bbb/layer.tar\"]}]",
					 cfg_name);
	struct archive *w = archive_write_new();
	archive_write_set_format_ustar(w);
	size_t cap = 1 << 20, used = 0;
	char *mem = malloc(cap);
	archive_write_open_memory(w, mem, cap, &used);
	put(w, "aaa/VERSION", "1.0", 3, NULL);
	put(w, "aaa/layer.tar", layer.data, layer.len, NULL);
	put(w, "bbb/layer.tar", NULL, 0, "../aaa/layer.tar");
	put(w, cfg_name, config, strlen(config), NULL);
	put(w, "manifest.json", manifest, strlen(manifest), NULL);
	archive_write_close(w);
	archive_write_free(w);
	berth_buf archive = {0};
	berth_buf_append(&archive, mem, used);
	free(mem);
	json_t *loaded = NULL;
	berth_error *err = NULL;
	if (load_buf(f, &archive, &loaded, &err) < 0)
		fail_msg("load: %s", err->msg);
	assert_string_equal(json_string_value(json_array_get(loaded, 0)), id);
	json_decref(loaded);
	assert_int_equal(count_dir(f->root, "layers"), 2);
	char *resolved = NULL;
	assert_int_equal(berth_image_resolve(f->s, "legacy:1", &resolved, &err), 0);
	assert_string_equal(resolved, id);
	free(resolved);
	free(config);
	free(cfg_name);
	free(manifest);
	berth_buf_reset(&layer);
	berth_buf_reset(&archive);
}

static void test_bad_archives(void **state)
{
	fixture *f = *state;
	char *id = import(f, base_files, BERTH_ARRAY_SIZE(base_files), "bad", NULL);
	char *names[] = {"bad", NULL};
	berth_buf archive = {0}, flipped = {0};
	save_all(f, names, &archive);
	json_t *report = NULL;
	berth_error *err = NULL;
	assert_int_equal(berth_image_delete(f->s, "bad", false, true, &report, NULL, &err), 0);
	json_decref(report);
	assert_no_trace(f);

	rewrite(&archive, flip_layer_byte, &flipped);
	assert_int_equal(load_buf(f, &flipped, NULL, &err), -1);
	if (strstr(err->msg, "invalid diffID for layer 0") == NULL)
		fail_msg("%s", err->msg);
	berth_error_free(&err);
	assert_no_trace(f);

	berth_buf cut = {0};
	berth_buf_append(&cut, archive.data, archive.len / 2);
	assert_int_equal(load_buf(f, &cut, NULL, &err), -1);
	berth_error_free(&err);
	assert_no_trace(f);

	/* a compressed archive whose stream breaks half way */
	struct archive *w = archive_write_new();
	archive_write_set_format_raw(w);
	archive_write_add_filter_gzip(w);
	size_t cap = archive.len + 65536, used = 0;
	char *gz = malloc(cap);
	archive_write_open_memory(w, gz, cap, &used);
	struct archive_entry *e = archive_entry_new();
	archive_entry_set_filetype(e, AE_IFREG);
	archive_write_header(w, e);
	archive_write_data(w, archive.data, archive.len);
	archive_entry_free(e);
	archive_write_close(w);
	archive_write_free(w);
	memset(gz + used / 2, 0x5a, 16);
	berth_buf bad_gz = {0};
	berth_buf_append(&bad_gz, gz, used);
	free(gz);
	assert_int_equal(load_buf(f, &bad_gz, NULL, &err), -1);
	berth_error_free(&err);
	assert_no_trace(f);
	berth_buf_reset(&bad_gz);

	berth_buf junk = {0};
	berth_buf_puts(&junk, "this is not an archive at all, not even close to one");
	assert_int_equal(load_buf(f, &junk, NULL, &err), -1);
	berth_error_free(&err);
	assert_no_trace(f);

	berth_buf_reset(&archive);
	berth_buf_reset(&flipped);
	berth_buf_reset(&cut);
	berth_buf_reset(&junk);
	free(id);
}

/* What a kill -9 leaves (staging, a committed layer no image holds, a stray
 * blob) is gone after the next open; the images stay. */
static void test_recovery(void **state)
{
	fixture *f = *state;
	char *id = import(f, base_files, BERTH_ARRAY_SIZE(base_files), "keep", NULL);
	const file_spec other[] = {{"orphan", "x"}};
	berth_buf tar = {0};
	tar_of(other, 1, &tar);
	mem_reader m = {.data = tar.data, .len = tar.len};
	layer *l = NULL;
	berth_error *err = NULL;
	assert_int_equal(layer_register(f->s, mem_read, &m, NULL, NULL, NULL, 0, &l, &err), 0);
	char *stage = berth_xasprintf("%s/image/tmp/stage-crash/diff", f->root);
	assert_int_equal(berth_mkdir_all(stage, 0700, &err), 0);
	char *blob = berth_xasprintf("%s/image/blobs/sha256/%064d", f->root, 0);
	assert_int_equal(berth_file_write_atomic(blob, "{}", 2, 0600, &err), 0);
	assert_int_equal(count_dir(f->root, "layers"), 2);
	reopen(f); /* the pinned orphan layer was never unpinned: like a crash */
	assert_int_equal(count_dir(f->root, "layers"), 1);
	assert_int_equal(count_dir(f->root, "tmp"), 0);
	assert_int_equal(count_dir(f->root, "blobs/sha256"), 1);
	char *resolved = NULL;
	assert_int_equal(berth_image_resolve(f->s, "keep", &resolved, &err), 0);
	assert_string_equal(resolved, id);
	free(resolved);
	free(stage);
	free(blob);
	berth_buf_reset(&tar);
	free(id);
}

static void test_mount_and_diff(void **state)
{
	fixture *f = *state;
	if (geteuid() != 0)
		skip();
	char *id = import(f, base_files, BERTH_ARRAY_SIZE(base_files), "m", NULL);
	char *dir = berth_xasprintf("%s/ctr", f->root);
	char *merged = NULL;
	berth_error *err = NULL;
	if (berth_image_mount(f->s, id, dir, &merged, &err) < 0) {
		/* overlay needs a filesystem that supports it under /tmp */
		berth_error_free(&err);
		free(dir);
		free(id);
		skip();
	}
	char *motd = berth_xasprintf("%s/etc/motd", merged);
	char *data = NULL;
	assert_int_equal(berth_file_read_all(motd, &data, NULL, &err), 0);
	assert_string_equal(data, "hello\n");
	free(data);
	unlink(motd);
	char *added = berth_xasprintf("%s/etc/added", merged);
	assert_int_equal(berth_file_write_atomic(added, "new", 3, 0644, &err), 0);
	/* the image cannot lose its layers while mounted */
	json_t *report = NULL;
	assert_int_equal(berth_image_delete(f->s, "m", true, true, &report, NULL, &err), 0);
	json_decref(report);
	assert_int_equal(count_dir(f->root, "layers"), 1);
	assert_int_equal(berth_image_unmount(f->s, dir, &err), 0);
	assert_int_equal(count_dir(f->root, "layers"), 0);
	char *upper = berth_xasprintf("%s/upper", dir);
	berth_buf tar = {0};
	assert_int_equal(berth_image_diff(upper, collect, &tar, &err), 0);
	/* the diff holds etc/, etc/added and the whiteout for etc/motd */
	struct archive *a = archive_read_new();
	archive_read_support_format_tar(a);
	archive_read_open_memory(a, tar.data, tar.len);
	struct archive_entry *e;
	berth_buf names = {0};
	while (archive_read_next_header(a, &e) == ARCHIVE_OK)
		berth_buf_printf(&names, "%s;", archive_entry_pathname(e));
	archive_read_free(a);
	assert_string_equal(names.data, "etc/;etc/added;etc/.wh.motd;");
	berth_buf_reset(&names);
	berth_buf_reset(&tar);
	free(upper);
	free(added);
	free(motd);
	free(merged);
	free(dir);
	free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_import_inspect, setup, teardown),
		cmocka_unit_test(test_bad_change),
		cmocka_unit_test_setup_teardown(test_tag_delete_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_save_load_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_oci_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_load_legacy_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_archives, setup, teardown),
		cmocka_unit_test_setup_teardown(test_recovery, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mount_and_diff, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
