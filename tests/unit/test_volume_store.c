/* The volume store: create/inspect/list/remove/prune with dockerd's rules
 * and errors, persistence and crash leftovers, a container's mounts from
 * create to removal (references, anonymous volumes, volumes-from, copy-up),
 * device volumes mounted by their first user and unmounted by the last,
 * events and df. Mounts made here are undone in teardown even on failure. */
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

#include "engine/volume/internal.h"

#define CTR_A "aaaa000000000000000000000000000000000000000000000000000000000001"
#define CTR_B "bbbb000000000000000000000000000000000000000000000000000000000002"

typedef struct fixture {
	char *dir;
	berth_volume_store *s;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));
	f->dir = strdup("/tmp/berth-volstore-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	berth_error *err = NULL;
	if (berth_volume_store_open(f->dir, &f->s, &err) < 0) {
		fprintf(stderr, "open: %s\n", err->msg);
		return -1;
	}
	*state = f;
	return 0;
}

/* Whatever a failed test left mounted under the data root goes first. */
static void unmount_all(const char *dir)
{
	char *info = NULL;
	if (berth_file_read_all("/proc/self/mountinfo", &info, NULL, NULL) < 0)
		return;
	for (char *line = strtok(info, "\n"); line; line = strtok(NULL, "\n")) {
		char mnt[4097];
		if (sscanf(line, "%*s %*s %*s %*s %4096s", mnt) == 1 &&
		    berth_str_has_prefix(mnt, dir))
			umount2(mnt, MNT_DETACH);
	}
	free(info);
}

static int teardown(void **state)
{
	fixture *f = *state;
	berth_volume_store_close(f->s);
	unmount_all(f->dir);
	fs_remove_tree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* ---------------------------------------------------------------- helpers */

static json_t *create(fixture *f, const char *name, const char *opts_json, const char *labels_json)
{
	json_t *opts = opts_json ? json_loads(opts_json, 0, NULL) : NULL;
	json_t *labels = labels_json ? json_loads(labels_json, 0, NULL) : NULL;
	json_t *out = NULL;
	berth_error *err = NULL;
	if (berth_volume_create(f->s, name, NULL, opts, labels, &out, &err) < 0)
		fail_msg("create %s: %s", name ? name : "(anonymous)", err->msg);
	json_decref(opts);
	json_decref(labels);
	return out;
}

static void expect_error(int rc, berth_error **err, int status, const char *msg)
{
	assert_int_equal(rc, -1);
	assert_non_null(*err);
	if (strcmp((*err)->msg, msg) != 0)
		fail_msg("got \"%s\", want \"%s\"", (*err)->msg, msg);
	assert_int_equal((*err)->status, status);
	berth_error_free(err);
}

static char *names_of(json_t *list)
{
	berth_buf b = {0};
	berth_buf_puts(&b, "");
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
		berth_buf_printf(&b, "%s%s", i ? "," : "", berth_json_string(v, "Name"));
	json_decref(list);
	return berth_buf_steal(&b);
}

static char *list_names(fixture *f, const char *filters_json)
{
	berth_filters *filters = NULL;
	berth_error *err = NULL;
	assert_int_equal(berth_filters_parse(filters_json, &filters, &err), 0);
	json_t *list = NULL;
	if (berth_volume_list(f->s, filters, &list, &err) < 0)
		fail_msg("list %s: %s", filters_json, err->msg);
	berth_filters_free(filters);
	return names_of(list);
}

static void expect_list(fixture *f, const char *filters_json, const char *want)
{
	char *got = list_names(f, filters_json);
	if (strcmp(got, want) != 0)
		fail_msg("list %s: got \"%s\", want \"%s\"", filters_json ? filters_json : "", got,
			 want);
	free(got);
}

/* Resolves a container's mounts from a HostConfig in JSON. */
static int resolve(fixture *f, const char *id, const char *hc_json, const char *image_json,
		   const char *rootfs, json_t **points, berth_error **err)
{
	json_t *hc = json_loads(hc_json, 0, NULL);
	json_t *image = image_json ? json_loads(image_json, 0, NULL) : NULL;
	assert_non_null(hc);
	json_t *oci = NULL, *mp = NULL;
	int rc = berth_volume_resolve_mounts(f->s, id, hc, image, rootfs, NULL, &oci, &mp, err);
	json_decref(hc);
	json_decref(image);
	json_decref(oci);
	if (points)
		*points = mp;
	else
		json_decref(mp);
	return rc;
}

static void resolve_ok(fixture *f, const char *id, const char *hc_json, const char *image_json,
		       const char *rootfs)
{
	berth_error *err = NULL;
	if (resolve(f, id, hc_json, image_json, rootfs, NULL, &err) < 0)
		fail_msg("resolve %s: %s", hc_json, err->msg);
}

static char *actions(fixture *f)
{
	json_t *events = berth_volume_events_take(f->s);
	berth_buf b = {0};
	berth_buf_puts(&b, "");
	size_t i;
	json_t *ev;
	json_array_foreach(events, i, ev)
		berth_buf_printf(&b, "%s%s", i ? "," : "", berth_json_string(ev, "Action"));
	json_decref(events);
	return berth_buf_steal(&b);
}

static void expect_actions(fixture *f, const char *want)
{
	char *got = actions(f);
	if (strcmp(got, want) != 0)
		fail_msg("events: got \"%s\", want \"%s\"", got, want);
	free(got);
}

static char *volume_path(fixture *f, const char *name, const char *rel)
{
	return berth_xasprintf("%s/volumes/%s/_data%s", f->dir, name, rel);
}

/* ------------------------------------------------------------------ tests */

static void test_create_inspect(void **state)
{
	fixture *f = *state;
	json_t *v = create(f, "data", NULL, "{\"b\":\"2\",\"a\":\"1\"}");
	char *mp = volume_path(f, "data", "");
	assert_string_equal(berth_json_string(v, "Mountpoint"), mp);
	assert_string_equal(berth_json_string(v, "Driver"), "local");
	assert_string_equal(berth_json_string(v, "Scope"), "local");
	assert_true(json_is_null(json_object_get(v, "Options")));
	/* labels in key order, as Go writes maps */
	char *labels = berth_json_dump(json_object_get(v, "Labels"));
	assert_string_equal(labels, "{\"a\":\"1\",\"b\":\"2\"}");
	const char *at = berth_json_string(v, "CreatedAt");
	assert_int_equal(strlen(at), 20);
	assert_int_equal(at[19], 'Z');
	struct stat st;
	assert_int_equal(stat(mp, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	json_decref(v);
	/* creating it again returns it unchanged */
	v = create(f, "data", NULL, "{\"c\":\"3\"}");
	assert_null(json_object_get(json_object_get(v, "Labels"), "c"));
	json_decref(v);
	v = create(f, NULL, NULL, NULL);
	char *anon = strdup(berth_json_string(v, "Name"));
	assert_int_equal(strlen(anon), 64);
	assert_non_null(
		json_object_get(json_object_get(v, "Labels"), BERTH_VOLUME_ANONYMOUS_LABEL));
	json_decref(v);
	expect_actions(f, "create,create");

	berth_error *err = NULL;
	json_t *out = NULL;
	expect_error(berth_volume_inspect(f->s, "nope", &out, &err), &err, 404,
		     "get nope: no such volume");
	expect_error(berth_volume_create(f->s, "x", "foo", NULL, NULL, &out, &err), &err, 404,
		     "create x: error looking up volume plugin foo: plugin \"foo\" not found");
	expect_error(berth_volume_create(f->s, "a", NULL, NULL, NULL, &out, &err), &err, 400,
		     "create a: volume name is too short, names should be at least two "
		     "alphanumeric characters");
	json_t *bad = json_pack("{s:s}", "foo", "bar");
	expect_error(berth_volume_create(f->s, "zz", NULL, bad, NULL, &out, &err), &err, 400,
		     "create zz: invalid option: \"foo\"");
	json_decref(bad);
	bad = json_pack("{s:i}", "type", 1);
	expect_error(berth_volume_create(f->s, "zz", NULL, bad, NULL, &out, &err), &err, 400,
		     "invalid JSON: DriverOpts.type must be a string");
	json_decref(bad);
	char *both = berth_xasprintf(strcmp(anon, "data") < 0 ? "%s,data" : "data,%s", anon);
	expect_list(f, NULL, both);
	free(both);
	free(anon);
	free(labels);
	free(mp);
}

static void test_persistence(void **state)
{
	fixture *f = *state;
	json_decref(create(f, "keep", "{\"type\":\"tmpfs\",\"device\":\"tmpfs\",\"o\":\"size=1m\"}",
			   "{\"x\":\"y\"}"));
	char *opts = berth_xasprintf("%s/volumes/keep/opts.json", f->dir);
	char *text = NULL;
	assert_int_equal(berth_file_read_all(opts, &text, NULL, NULL), 0);
	assert_string_equal(text, "{\"MountType\":\"tmpfs\",\"MountOpts\":\"size=1m\","
				  "\"MountDevice\":\"tmpfs\",\"Quota\":{\"Size\":0}}");
	free(text);
	free(opts);
	resolve_ok(f, CTR_A, "{\"Binds\":[\"keep:/k\"]}", NULL, NULL);
	/* what a crash leaves: staging and trash are swept at open */
	char *tmp = berth_xasprintf("%s/volumes/.tmp-crash", f->dir);
	char *trash = berth_xasprintf("%s/volumes/.trash-crash/gone/_data", f->dir);
	mkdir(tmp, 0700);
	berth_mkdir_all(trash, 0700, NULL);
	/* and a volume dockerd made: opts.json, no meta.json */
	char *theirs = berth_xasprintf("%s/volumes/theirs/_data", f->dir);
	berth_mkdir_all(theirs, 0755, NULL);
	berth_volume_store_close(f->s);
	berth_error *err = NULL;
	assert_int_equal(berth_volume_store_open(f->dir, &f->s, &err), 0);
	struct stat st;
	assert_int_equal(stat(tmp, &st), -1);
	assert_int_equal(stat(trash, &st), -1);
	json_t *v = NULL;
	assert_int_equal(berth_volume_inspect(f->s, "keep", &v, &err), 0);
	assert_string_equal(berth_json_string(json_object_get(v, "Labels"), "x"), "y");
	assert_string_equal(berth_json_string(json_object_get(v, "Options"), "o"), "size=1m");
	json_decref(v);
	expect_list(f, NULL, "keep,theirs");
	/* the reference survived the restart */
	expect_error(berth_volume_remove(f->s, "keep", true, &err), &err, 409,
		     "remove keep: volume is in use - [" CTR_A "]");
	free(tmp);
	free(trash);
	free(theirs);
}

static void test_list_filters(void **state)
{
	fixture *f = *state;
	json_decref(create(f, "web1", NULL, "{\"app\":\"web\",\"tier\":\"front\"}"));
	json_decref(create(f, "web2", NULL, "{\"app\":\"web\"}"));
	json_decref(create(f, "db", NULL, "{\"app\":\"db\"}"));
	resolve_ok(f, CTR_A, "{\"Binds\":[\"db:/db\"]}", NULL, NULL);
	expect_list(f, NULL, "db,web1,web2");
	expect_list(f, "{\"label\":[\"app=web\"]}", "web1,web2");
	expect_list(f, "{\"label\":[\"app=web\",\"tier\"]}", "web1");
	expect_list(f, "{\"name\":[\"web\"]}", "web1,web2");
	expect_list(f, "{\"name\":[\"^w.*2$\"]}", "web2");
	expect_list(f, "{\"driver\":[\"local\"]}", "db,web1,web2");
	expect_list(f, "{\"driver\":[\"other\"]}", "");
	expect_list(f, "{\"dangling\":[\"true\"]}", "web1,web2");
	expect_list(f, "{\"dangling\":[\"0\"]}", "db");
	berth_filters *bad = NULL;
	json_t *out = NULL;
	berth_error *err = NULL;
	berth_filters_parse("{\"dangling\":[\"maybe\"]}", &bad, NULL);
	expect_error(berth_volume_list(f->s, bad, &out, &err), &err, 400,
		     "invalid filter 'dangling=[maybe]'");
	berth_filters_free(bad);
	berth_filters_parse("{\"until\":[\"1h\"]}", &bad, NULL);
	expect_error(berth_volume_list(f->s, bad, &out, &err), &err, 400, "invalid filter 'until'");
	berth_filters_free(bad);
}

static void test_remove_and_prune(void **state)
{
	fixture *f = *state;
	json_decref(create(f, "named", NULL, NULL));
	json_decref(create(f, "used", NULL, "{\"keep\":\"1\"}"));
	json_decref(create(f, "dev", "{\"type\":\"tmpfs\",\"device\":\"tmpfs\"}", NULL));
	json_t *anon = create(f, NULL, NULL, NULL);
	char *anon_name = strdup(berth_json_string(anon, "Name"));
	json_decref(anon);
	char *file = volume_path(f, anon_name, "/blob");
	assert_int_equal(berth_file_write_atomic(file, "0123456789", 10, 0644, NULL), 0);
	resolve_ok(f, CTR_A, "{\"Binds\":[\"used:/u\"]}", NULL, NULL);
	json_decref(berth_volume_events_take(f->s));

	berth_error *err = NULL;
	expect_error(berth_volume_remove(f->s, "used", false, &err), &err, 409,
		     "remove used: volume is in use - [" CTR_A "]");
	expect_error(berth_volume_remove(f->s, "nope", false, &err), &err, 404,
		     "get nope: no such volume");
	assert_int_equal(berth_volume_remove(f->s, "nope", true, &err), 0);

	/* without all: anonymous ones only */
	berth_filters *flt = berth_filters_new();
	json_t *report = NULL;
	assert_int_equal(berth_volume_prune(f->s, flt, &report, &err), 0);
	char *text = berth_json_dump(report);
	char *want =
		berth_xasprintf("{\"VolumesDeleted\":[\"%s\"],\"SpaceReclaimed\":10}", anon_name);
	assert_string_equal(text, want);
	free(text), free(want);
	json_decref(report);
	expect_actions(f, "destroy,prune");
	/* all=true: named too, but never one in use or one with options */
	berth_filters_add(flt, "all", "true");
	berth_filters_add(flt, "label!", "keep");
	assert_int_equal(berth_volume_prune(f->s, flt, &report, &err), 0);
	text = berth_json_dump(json_object_get(report, "VolumesDeleted"));
	assert_string_equal(text, "[\"named\"]");
	free(text);
	json_decref(report);
	expect_list(f, NULL, "dev,used");
	berth_filters_free(flt);
	flt = NULL;
	berth_filters_parse("{\"all\":[\"yes\"]}", &flt, NULL);
	expect_error(berth_volume_prune(f->s, flt, &report, &err), &err, 400,
		     "invalid filter 'all': strconv.ParseBool: parsing \"yes\": invalid syntax");
	berth_filters_free(flt);
	assert_int_equal(berth_volume_remove(f->s, "dev", false, &err), 0);
	free(file);
	free(anon_name);
}

static void test_resolve(void **state)
{
	fixture *f = *state;
	/* a -v host path outside the data root (made at start, not checked) */
	char *host = berth_xstrdup("/srv/berth-test-host");
	char *hc = berth_xasprintf(
		"{\"Binds\":[\"named1:/data\",\"%s:/h:ro,z\"],"
		"\"Mounts\":[{\"Type\":\"tmpfs\",\"Target\":\"/t\","
		"\"TmpfsOptions\":{\"SizeBytes\":1048576}},"
		"{\"Type\":\"volume\",\"Target\":\"/m\",\"VolumeOptions\":{\"NoCopy\":true}}],"
		"\"Tmpfs\":{\"/t2\":\"size=2m,noexec\"}}",
		host);
	json_t *points = NULL, *oci = NULL;
	berth_error *err = NULL;
	json_t *hcj = json_loads(hc, 0, NULL),
	       *image = json_loads("{\"/other\":{},\"/data\":{},\"/t2\":{}}", 0, NULL);
	if (berth_volume_resolve_mounts(f->s, CTR_A, hcj, image, NULL, NULL, &oci, &points, &err) <
	    0)
		fail_msg("resolve: %s", err->msg);
	/* inspect's Mounts: no HostConfig.Tmpfs entry, Name/Driver only for volumes */
	assert_int_equal(json_array_size(points), 5);
	char *data = volume_path(f, "named1", "");
	char *want =
		berth_xasprintf("{\"Type\":\"volume\",\"Name\":\"named1\",\"Source\":\"%s\","
				"\"Destination\":\"/data\",\"Driver\":\"local\",\"Mode\":\"z\","
				"\"RW\":true,\"Propagation\":\"\"}",
				data);
	char *got = berth_json_dump(json_array_get(points, 0));
	assert_string_equal(got, want);
	free(got), free(want);
	want = berth_xasprintf("{\"Type\":\"bind\",\"Source\":\"%s\",\"Destination\":\"/h\","
			       "\"Mode\":\"ro,z\",\"RW\":false,\"Propagation\":\"rprivate\"}",
			       host);
	got = berth_json_dump(json_array_get(points, 1));
	assert_string_equal(got, want);
	free(got), free(want);
	got = berth_json_dump(json_array_get(points, 4));
	assert_string_equal(got, "{\"Type\":\"tmpfs\",\"Source\":\"\",\"Destination\":\"/t\","
				 "\"Mode\":\"\",\"RW\":true,\"Propagation\":\"\"}");
	free(got);
	/* the image's /other got an anonymous volume; /data and /t2 were covered */
	const json_t *other = json_array_get(points, 3);
	assert_string_equal(berth_json_string(other, "Destination"), "/other");
	assert_int_equal(strlen(berth_json_string(other, "Name")), 64);
	assert_string_equal(berth_json_string(other, "Mode"), "");
	/* the spec: parents first, tmpfs with dockerd's defaults */
	assert_int_equal(json_array_size(oci), 6);
	got = berth_json_dump(json_array_get(oci, 5));
	assert_string_equal(
		got, "{\"destination\":\"/t2\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
		     "\"options\":[\"nosuid\",\"nodev\",\"rprivate\",\"size=2m\",\"noexec\"]}");
	free(got);
	expect_actions(f, "create,create,create");
	char *all = list_names(f, NULL); /* every volume is CTR_A's */
	expect_list(f, "{\"dangling\":[\"false\"]}", all);
	free(all);
	json_decref(points), json_decref(oci), json_decref(hcj), json_decref(image);

	/* the container's Mounts are there for inspect */
	json_t *again = berth_volume_container_mounts(f->s, CTR_A);
	assert_int_equal(json_array_size(again), 5);
	json_decref(again);
	again = berth_volume_container_mounts(f->s, "unknown");
	assert_int_equal(json_array_size(again), 0);
	json_decref(again);

	/* rm -v: anonymous volumes go, named ones stay */
	assert_int_equal(berth_volume_release(f->s, CTR_A, true, &err), 0);
	expect_list(f, NULL, "named1");
	expect_actions(f, "destroy,destroy");
	free(hc), free(host), free(data);
}

static void test_resolve_errors(void **state)
{
	fixture *f = *state;
	berth_error *err = NULL;
	expect_error(
		resolve(f, CTR_A, "{\"Binds\":[\"/tmp:/a\",\"v2:/a\"]}", NULL, NULL, NULL, &err),
		&err, 400, "Duplicate mount point: /a");
	expect_error(resolve(f, CTR_A, "{\"Binds\":[\"/tmp:/data\"],\"Tmpfs\":{\"/data\":\"\"}}",
			     NULL, NULL, NULL, &err),
		     &err, 400, "Duplicate mount point: /data");
	expect_error(
		resolve(f, CTR_A, "{\"Binds\":[\"ok1:/a\",\"a:b:c:d\"]}", NULL, NULL, NULL, &err),
		&err, 400, "invalid volume specification: 'a:b:c:d'");
	expect_error(
		resolve(f, CTR_A, "{\"Binds\":[\"ok1:/a\",\"-bad:/y\"]}", NULL, NULL, NULL, &err),
		&err, 400,
		"create -bad: \"-bad\" includes invalid characters for a local volume "
		"name, only \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended "
		"to pass a host directory, use absolute path");
	expect_error(resolve(f, CTR_A, "{\"VolumeDriver\":\"foo\",\"Binds\":[\"nn:/a\"]}", NULL,
			     NULL, NULL, &err),
		     &err, 404,
		     "create nn: error looking up volume plugin foo: plugin \"foo\" not found");
	expect_error(resolve(f, CTR_A, "{\"VolumesFrom\":[\"other\"]}", NULL, NULL, NULL, &err),
		     &err, 400, "No such container: other");
	expect_error(resolve(f, CTR_A, "{\"Tmpfs\":{\"rel\":\"\"}}", NULL, NULL, NULL, &err), &err,
		     400, "invalid mount path: 'rel' mount path must be absolute");
	/* binds around the data root: rslave, or an error for other modes */
	json_t *points = NULL;
	char *hc = berth_xasprintf("{\"Binds\":[\"%s:/root\",\"/:/host:rshared\"]}", f->dir);
	if (resolve(f, CTR_A, hc, NULL, NULL, &points, &err) < 0)
		fail_msg("resolve: %s", err->msg);
	assert_string_equal(berth_json_string(json_array_get(points, 0), "Propagation"), "rshared");
	assert_string_equal(berth_json_string(json_array_get(points, 1), "Propagation"), "rslave");
	json_decref(points);
	assert_int_equal(berth_volume_release(f->s, CTR_A, true, &err), 0);
	free(hc);
	hc = berth_xasprintf("{\"Mounts\":[{\"Type\":\"bind\",\"Source\":\"%s\",\"Target\":\"/r\","
			     "\"BindOptions\":{\"Propagation\":\"private\"}}]}",
			     f->dir);
	char *root_msg = berth_xasprintf(
		"invalid mount config: must use either propagation mode \"rslave\" or \"rshared\" "
		"when mount source is within the daemon root, daemon root: \"%s\", bind mount "
		"source: "
		"\"%s\", propagation: \"private\"",
		f->dir, f->dir);
	expect_error(resolve(f, CTR_A, hc, NULL, NULL, NULL, &err), &err, 400, root_msg);
	free(hc), free(root_msg);
	/* a failure after volumes were made takes them back */
	char *rootfs = berth_xasprintf("%s/rootfs", f->dir);
	mkdir(rootfs, 0755);
	char *file = berth_xasprintf("%s/afile", rootfs);
	berth_file_write_atomic(file, "x", 1, 0644, NULL);
	char *msg = berth_xasprintf("cannot mount volume over existing file, file exists %s", file);
	expect_error(resolve(f, CTR_A, "{\"Binds\":[\"fresh:/f\"]}", "{\"/afile\":{}}", rootfs,
			     NULL, &err),
		     &err, 400, msg);
	free(msg);
	expect_list(f, NULL, "");
	expect_actions(f, "create,destroy");
	free(rootfs), free(file);
}

static int resolve_name(void *ud, const char *name, char **id, berth_error **err)
{
	if (strcmp(name, "first") != 0)
		return berth_error_set(err, 404, "No such container: %s", name);
	*id = strdup(CTR_A);
	return 0;
}

static void test_volumes_from(void **state)
{
	fixture *f = *state;
	resolve_ok(f, CTR_A, "{\"Binds\":[\"shared:/s\",\"/tmp:/host\"],\"Tmpfs\":{\"/run\":\"\"}}",
		   "{\"/anon\":{}}", NULL);
	json_t *hc = json_loads("{\"VolumesFrom\":[\"first:ro\"]}", 0, NULL);
	berth_volume_from from = {resolve_name, NULL};
	json_t *points = NULL;
	berth_error *err = NULL;
	if (berth_volume_resolve_mounts(f->s, CTR_B, hc, NULL, NULL, &from, NULL, &points, &err) <
	    0)
		fail_msg("resolve: %s", err->msg);
	/* everything but the hidden tmpfs, read-only now, without a mode */
	assert_int_equal(json_array_size(points), 3);
	size_t i;
	json_t *mp;
	json_array_foreach(points, i, mp) {
		assert_true(json_is_false(json_object_get(mp, "RW")));
		assert_string_equal(berth_json_string(mp, "Mode"), "");
	}
	json_decref(points);
	json_decref(hc);
	hc = json_loads("{\"VolumesFrom\":[\"second\"]}", 0, NULL);
	expect_error(berth_volume_resolve_mounts(f->s, CTR_B, hc, NULL, NULL, &from, NULL, &points,
						 &err),
		     &err, 404, "No such container: second");
	json_decref(hc);
	/* both use the volumes now */
	expect_error(berth_volume_remove(f->s, "shared", false, &err), &err, 409,
		     "remove shared: volume is in use - [" CTR_A ", " CTR_B "]");
	/* A's rm -v keeps the anonymous volume B still uses */
	assert_int_equal(berth_volume_release(f->s, CTR_A, true, &err), 0);
	char *names = list_names(f, NULL);
	assert_int_equal(strlen(names), strlen("shared") + 65);
	free(names);
	assert_int_equal(berth_volume_release(f->s, CTR_B, true, &err), 0);
	expect_list(f, NULL, "shared");
}

static void test_copy_up(void **state)
{
	fixture *f = *state;
	char *rootfs = berth_xasprintf("%s/rootfs", f->dir);
	char *dir = berth_xasprintf("%s/data/sub", rootfs);
	berth_mkdir_all(dir, 0755, NULL);
	chmod(dir, 0750);
	char *file = berth_xasprintf("%s/data/f", rootfs);
	berth_file_write_atomic(file, "image content", 13, 0644, NULL);
	if (geteuid() == 0)
		chown(dir, 1000, 1000);
	/* a named volume and an image volume get the image's content... */
	resolve_ok(f, CTR_A, "{\"Binds\":[\"filled:/data\",\"nocp:/data2:nocopy\"]}",
		   "{\"/data\":{},\"/data2\":{}}", rootfs);
	char *copied = volume_path(f, "filled", "/f"), *text = NULL;
	assert_int_equal(berth_file_read_all(copied, &text, NULL, NULL), 0);
	assert_string_equal(text, "image content");
	free(text);
	char *sub = volume_path(f, "filled", "/sub");
	struct stat st;
	assert_int_equal(stat(sub, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	if (geteuid() == 0)
		assert_int_equal(st.st_uid, 1000);
	/* ...nocopy does not */
	char *nocp = volume_path(f, "nocp", "");
	assert_true(fs_dir_empty(nocp));
	/* a volume with content keeps it */
	berth_file_write_atomic(file, "changed image", 13, 0644, NULL);
	resolve_ok(f, CTR_B, "{\"Binds\":[\"filled:/data\"]}", NULL, rootfs);
	assert_int_equal(berth_file_read_all(copied, &text, NULL, NULL), 0);
	assert_string_equal(text, "image content");
	free(text);
	/* without a rootfs at create, the copy waits for the start */
	berth_error *err = NULL;
	resolve_ok(f, "cccc", "{\"Binds\":[\"later:/data\"]}", NULL, NULL);
	char *later = volume_path(f, "later", "");
	assert_true(fs_dir_empty(later));
	json_t *oci = NULL;
	if (berth_volume_mount(f->s, "cccc", rootfs, &oci, &err) < 0)
		fail_msg("mount: %s", err->msg);
	assert_false(fs_dir_empty(later));
	json_decref(oci);
	free(rootfs), free(dir), free(file), free(copied), free(sub), free(nocp), free(later);
}

static bool mounted(fixture *f, const char *name)
{
	char *path = volume_path(f, name, "");
	bool m = path_is_mountpoint(path);
	free(path);
	return m;
}

static void test_device_volumes(void **state)
{
	fixture *f = *state;
	if (geteuid() != 0)
		skip();
	json_decref(create(f, "tv",
			   "{\"type\":\"tmpfs\",\"device\":\"tmpfs\",\"o\":\"size=1m,uid=1000\"}",
			   NULL));
	resolve_ok(f, CTR_A, "{\"Binds\":[\"tv:/x\"]}", NULL, NULL);
	resolve_ok(f, CTR_B, "{\"Binds\":[\"tv:/y:ro\"]}", NULL, NULL);
	json_decref(berth_volume_events_take(f->s));
	assert_false(mounted(f, "tv"));
	json_t *oci = NULL;
	berth_error *err = NULL;
	if (berth_volume_mount(f->s, CTR_A, NULL, &oci, &err) < 0)
		fail_msg("mount: %s", err->msg);
	char *want = volume_path(f, "tv", "");
	assert_string_equal(berth_json_string(json_array_get(oci, 0), "source"), want);
	json_decref(oci);
	assert_true(mounted(f, "tv"));
	struct stat st;
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(st.st_uid, 1000);
	/* a second start of the same container counts once */
	assert_int_equal(berth_volume_mount(f->s, CTR_A, NULL, &oci, &err), 0);
	json_decref(oci);
	assert_int_equal(berth_volume_mount(f->s, CTR_B, NULL, &oci, &err), 0);
	json_decref(oci);
	berth_volume_unmount(f->s, CTR_A);
	assert_true(mounted(f, "tv"));
	berth_volume_unmount(f->s, CTR_B);
	assert_false(mounted(f, "tv"));
	berth_volume_unmount(f->s, CTR_B); /* not running: nothing */
	json_t *events = berth_volume_events_take(f->s);
	assert_int_equal(json_array_size(events), 4);
	char *ev = berth_json_dump(json_array_get(events, 1));
	assert_string_equal(
		ev, "{\"Action\":\"mount\",\"ID\":\"tv\",\"Attributes\":{\"driver\":\"local\","
		    "\"container\":\"" CTR_B "\",\"destination\":\"/y\",\"read/write\":\"false\","
		    "\"propagation\":\"\"}}");
	free(ev);
	ev = berth_json_dump(json_array_get(events, 3));
	assert_string_equal(
		ev, "{\"Action\":\"unmount\",\"ID\":\"tv\",\"Attributes\":{\"driver\":\"local\","
		    "\"container\":\"" CTR_B "\"}}");
	free(ev);
	json_decref(events);

	/* live restore: a running container keeps its mount across a reopen */
	assert_int_equal(berth_volume_mount(f->s, CTR_A, NULL, &oci, &err), 0);
	json_decref(oci);
	berth_volume_store_close(f->s);
	assert_int_equal(berth_volume_store_open(f->dir, &f->s, &err), 0);
	assert_true(mounted(f, "tv"));
	berth_volume_unmount(f->s, CTR_A);
	assert_false(mounted(f, "tv"));

	/* a bind device, and a device that is not there */
	char *src = berth_xasprintf("%s/bindsrc", f->dir);
	mkdir(src, 0755);
	char *opts =
		berth_xasprintf("{\"type\":\"none\",\"device\":\"%s\",\"o\":\"bind,ro\"}", src);
	json_decref(create(f, "bv", opts, NULL));
	json_decref(create(f, "gone",
			   "{\"type\":\"none\",\"device\":\"/nonexistent-berth\",\"o\":\"bind\"}",
			   NULL));
	resolve_ok(f, "dddd", "{\"Binds\":[\"bv:/b\",\"gone:/g\"]}", NULL, NULL);
	char *gone = volume_path(f, "gone", "");
	char *msg = berth_xasprintf(
		"error while mounting volume '%s': failed to mount local volume: "
		"mount /nonexistent-berth:%s, flags: 0x1000: no such file or directory",
		gone, gone);
	expect_error(berth_volume_mount(f->s, "dddd", NULL, &oci, &err), &err, 500, msg);
	/* what the failed start mounted is undone */
	assert_false(mounted(f, "bv"));
	/* removal unmounts and never deletes the device's files */
	char *keep = berth_xasprintf("%s/precious", src);
	berth_file_write_atomic(keep, "x", 1, 0644, NULL);
	assert_int_equal(berth_volume_release(f->s, "dddd", false, &err), 0);
	assert_int_equal(berth_volume_remove(f->s, "bv", false, &err), 0);
	assert_int_equal(stat(keep, &st), 0);
	free(want), free(src), free(opts), free(gone), free(msg), free(keep);
}

static void test_df(void **state)
{
	fixture *f = *state;
	json_decref(create(f, "big", NULL, NULL));
	json_decref(create(f, "opt", "{\"type\":\"tmpfs\",\"device\":\"tmpfs\"}", NULL));
	char *file = volume_path(f, "big", "/f");
	berth_file_write_atomic(file, "12345678", 8, 0644, NULL);
	resolve_ok(f, CTR_A, "{\"Binds\":[\"big:/b\"]}", NULL, NULL);
	json_t *df = NULL;
	berth_error *err = NULL;
	assert_int_equal(berth_volume_df(f->s, &df, &err), 0);
	/* volumes with driver options are not local space: left out, as dockerd */
	assert_int_equal(json_array_size(df), 1);
	char *usage = berth_json_dump(json_object_get(json_array_get(df, 0), "UsageData"));
	assert_string_equal(usage, "{\"RefCount\":1,\"Size\":8}");
	free(usage);
	json_decref(df);
	free(file);
}

/* A is known and stopped, everything else is gone. */
static bool only_a_stopped(void *ud, const char *id, bool *running)
{
	*running = false;
	return strcmp(id, CTR_A) == 0;
}

static void test_sync_containers(void **state)
{
	fixture *f = *state;
	resolve_ok(f, CTR_A, "{\"Binds\":[\"va:/a\"]}", NULL, NULL);
	resolve_ok(f, CTR_B, "{\"Binds\":[\"vb:/b\"]}", NULL, NULL);
	json_t *oci = NULL;
	berth_error *err = NULL;
	assert_int_equal(berth_volume_mount(f->s, CTR_A, NULL, &oci, &err), 0);
	json_decref(oci);
	json_decref(berth_volume_events_take(f->s));
	berth_volume_sync_containers(f->s, only_a_stopped, NULL);
	expect_actions(f, "unmount");
	expect_list(f, "{\"dangling\":[\"true\"]}", "vb");
	assert_int_equal(berth_volume_remove(f->s, "vb", false, &err), 0);
	expect_error(berth_volume_remove(f->s, "va", false, &err), &err, 409,
		     "remove va: volume is in use - [" CTR_A "]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_create_inspect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_persistence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_filters, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_and_prune, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve, setup, teardown),
		cmocka_unit_test_setup_teardown(test_resolve_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_volumes_from, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy_up, setup, teardown),
		cmocka_unit_test_setup_teardown(test_device_volumes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_df, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_containers, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
