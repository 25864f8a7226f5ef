/* Mount specs as dockerd's Linux parser reads them: HostConfig.Binds strings,
 * HostConfig.Mounts objects, Tmpfs and VolumesFrom entries, volume names and
 * local driver options, each with dockerd's error text; and the runtime
 * spec's mounts they turn into. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/volume/internal.h"

/* ------------------------------------------------------------------ Binds */

static json_t *bind_ok(const char *raw)
{
	json_t *mp = NULL;
	berth_error *err = NULL;
	if (volume_parse_bind(raw, NULL, &mp, &err) < 0)
		fail_msg("%s: %s", raw, err->msg);
	return mp;
}

static void bind_error(const char *raw, const char *msg)
{
	json_t *mp = NULL;
	berth_error *err = NULL;
	if (volume_parse_bind(raw, NULL, &mp, &err) == 0)
		fail_msg("%s parsed", raw);
	assert_int_equal(err->status, 400);
	if (strstr(err->msg, msg) == NULL)
		fail_msg("%s: got \"%s\", want \"%s\"", raw, err->msg, msg);
	berth_error_free(&err);
}

static void test_binds_valid(void **state)
{
	static const char *const valid[] = {
		"/home",
		"/home:/home",
		"/home:/something/else",
		"/with space",
		"/home:/with space",
		"relative:/absolute-path",
		"hostPath:/containerPath:ro",
		"/hostPath:/containerPath:rw",
		"/rw:/ro",
		"/hostPath:/containerPath:shared",
		"/hostPath:/containerPath:rslave",
		"/hostPath:/containerPath:ro,private",
		"/hostPath:/containerPath:ro,z,shared",
		"/hostPath:/containerPath:Z,ro,slave",
		"/hostPath:/containerPath:ro,Z,rprivate",
		"name:/x:nocopy",
		"name:/x:ro,nocopy,z",
		"/a:/b:cached",
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(valid); i++)
		json_decref(bind_ok(valid[i]));
}

static void test_binds_invalid(void **state)
{
	static const char *const cases[][2] = {
		{"", "invalid volume specification: ''"},
		{"./", "mount path must be absolute"},
		{"../", "mount path must be absolute"},
		{"/:../", "mount path must be absolute"},
		{"/:path", "mount path must be absolute"},
		{":", "invalid volume specification"},
		{"/tmp:", "invalid volume specification"},
		{":test", "invalid volume specification"},
		{":/test", "invalid volume specification"},
		{"tmp:", "invalid volume specification"},
		{"::", "invalid volume specification"},
		{"/tmp:::", "invalid volume specification"},
		{"/path:rw", "invalid volume specification"},
		{"path:ro", "invalid volume specification"},
		{"/path:/path:sw", "invalid mode: sw"},
		{"/path:/path:rwz", "invalid mode"},
		{"/path:/path:ro,rshared,rslave", "invalid mode"},
		{"/path:/path:ro,z,rshared,rslave", "invalid mode"},
		{"/path:shared", "invalid volume specification"},
		{"name:/absolute-path:shared", "invalid volume specification"},
		{"name:/absolute-path:rprivate", "invalid volume specification"},
		{"/tmp::/x", "invalid mode: /x"},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++)
		bind_error(cases[i][0], cases[i][1]);
}

/* The exact texts dockerd gives the docker CLI. */
static void test_binds_messages(void **state)
{
	bind_error("a:b:c:d", "invalid volume specification: 'a:b:c:d'");
	bind_error("/x:rel",
		   "invalid volume specification: '/x:rel': invalid mount config for "
		   "type \"bind\": invalid mount path: 'rel' mount path must be absolute");
	bind_error("vv:/", "invalid volume specification: 'vv:/': invalid mount config for type "
			   "\"volume\": invalid specification: destination can't be '/'");
	bind_error("ab:/y:shared", "invalid volume specification: 'ab:/y:shared': invalid mount "
				   "config for type \"volume\": field BindOptions must not be "
				   "specified");
	bind_error("/tmp:/x:nocopy", "invalid volume specification: '/tmp:/x:nocopy': invalid "
				     "mount config for type \"bind\": field VolumeOptions must not "
				     "be specified");
	bind_error("/x:/y:ro,rw", "invalid mode: ro,rw");
}

static void expect_field(const json_t *mp, const char *key, const char *want)
{
	const char *got = berth_json_string(mp, key);
	if (got == NULL || strcmp(got, want) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", key, got ? got : "(null)", want);
}

static void test_binds_split(void **state)
{
	static const struct {
		const char *raw, *type, *dest, *source, *name, *mode, *propagation;
		bool rw;
	} cases[] = {
		{"/tmp:/tmp1", "bind", "/tmp1", "/tmp", "", "", "rprivate", true},
		{"/tmp:/tmp2:ro", "bind", "/tmp2", "/tmp", "", "ro", "rprivate", false},
		{"/tmp/:/tmp3/:rw,rslave", "bind", "/tmp3", "/tmp", "", "rw,rslave", "rslave",
		 true},
		{"name:/named1", "volume", "/named1", "", "name", "", "", true},
		{"name:/named3:ro", "volume", "/named3", "", "name", "ro", "", false},
		{"local/name:/tmp:rw", "volume", "/tmp", "", "local/name", "rw", "", true},
		{"/anon//dir/", "volume", "/anon/dir", "", "", "", "", true},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
		json_t *mp = bind_ok(cases[i].raw);
		expect_field(mp, "Type", cases[i].type);
		expect_field(mp, "Destination", cases[i].dest);
		expect_field(mp, "Source", cases[i].source);
		expect_field(mp, "Name", cases[i].name);
		expect_field(mp, "Mode", cases[i].mode);
		expect_field(mp, "Propagation", cases[i].propagation);
		assert_int_equal(json_is_true(json_object_get(mp, "RW")), cases[i].rw);
		json_decref(mp);
	}
	json_t *mp = bind_ok("name:/x:nocopy");
	assert_true(json_is_false(json_object_get(mp, "CopyData")));
	assert_true(json_is_false(json_object_get(mp, "Anonymous")));
	json_decref(mp);
	mp = bind_ok("/only");
	assert_true(json_is_true(json_object_get(mp, "Anonymous")));
	assert_true(json_is_true(json_object_get(mp, "CopyData")));
	json_decref(mp);
	/* A -v host path is created at start, so its absence is fine here. */
	mp = bind_ok("/nonexistent-berth-test:/x");
	assert_true(json_is_true(json_object_get(mp, "CreateSource")));
	json_decref(mp);
	/* VolumeDriver goes to named and anonymous volumes, not to binds */
	berth_error *err = NULL;
	assert_int_equal(volume_parse_bind("v1:/x", "other", &mp, &err), 0);
	expect_field(mp, "Driver", "other");
	json_decref(mp);
}

/* ----------------------------------------------------------------- Mounts */

static void mount_error(const char *json, const char *msg)
{
	json_t *spec = json_loads(json, 0, NULL);
	assert_non_null(spec);
	json_t *mp = NULL;
	berth_error *err = NULL;
	if (volume_parse_mount(spec, &mp, &err) == 0)
		fail_msg("%s parsed", json);
	if (strcmp(err->msg, msg) != 0)
		fail_msg("%s: got \"%s\", want \"%s\"", json, err->msg, msg);
	assert_int_equal(err->status, 400);
	berth_error_free(&err);
	json_decref(spec);
}

static json_t *mount_ok(const char *json)
{
	json_t *spec = json_loads(json, 0, NULL);
	assert_non_null(spec);
	json_t *mp = NULL;
	berth_error *err = NULL;
	if (volume_parse_mount(spec, &mp, &err) < 0)
		fail_msg("%s: %s", json, err->msg);
	json_decref(spec);
	return mp;
}

static void test_mounts_errors(void **state)
{
	mount_error("{\"Type\":\"bind\",\"Source\":\"/nonexist-berth-q\",\"Target\":\"/x\"}",
		    "invalid mount config for type \"bind\": bind source path does not exist: "
		    "/nonexist-berth-q");
	mount_error("{\"Type\":\"bind\",\"Target\":\"/x\"}",
		    "invalid mount config for type \"bind\": field Source must not be empty");
	mount_error("{\"Type\":\"volume\",\"Target\":\"/x\",\"ReadOnly\":true}",
		    "invalid mount config for type \"volume\": must not set ReadOnly mode when "
		    "using anonymous volumes");
	mount_error("{\"Type\":\"tmpfs\",\"Source\":\"a\",\"Target\":\"/x\"}",
		    "invalid mount config for type \"tmpfs\": field Source must not be specified");
	mount_error("{\"Type\":\"bind\",\"Source\":\"/tmp\",\"Target\":\"/x\","
		    "\"BindOptions\":{\"Propagation\":\"foo\"}}",
		    "invalid mount config for type \"bind\": invalid propagation mode: foo");
	mount_error("{\"Type\":\"foo\",\"Target\":\"/x\"}",
		    "invalid mount config for type \"foo\": mount type unknown");
	mount_error(
		"{\"Type\":\"volume\",\"Source\":\"vv\",\"Target\":\"rel\"}",
		"invalid mount config for type \"volume\": invalid mount path: 'rel' mount path "
		"must be absolute");
	mount_error("{\"Type\":\"bind\",\"Source\":\"/tmp\",\"Target\":\"/\"}",
		    "invalid mount config for type \"bind\": invalid specification: destination "
		    "can't be '/'");
	mount_error("{\"Type\":\"volume\",\"Source\":\"vvv\",\"Target\":\"/a\","
		    "\"BindOptions\":{\"Propagation\":\"shared\"}}",
		    "invalid mount config for type \"volume\": field BindOptions must not be "
		    "specified");
	mount_error(
		"{\"Type\":\"bind\",\"Source\":\"/tmp\",\"Target\":\"/a\",\"VolumeOptions\":{}}",
		"invalid mount config for type \"bind\": field VolumeOptions must not be "
		"specified");
	mount_error("{\"Type\":\"volume\",\"Target\":\"/a\",\"VolumeOptions\":{\"Subpath\":\"x\"}}",
		    "invalid mount config for type \"volume\": must not set Subpath when using "
		    "anonymous volumes");
	mount_error(
		"{\"Type\":\"volume\",\"Source\":\"v\",\"Target\":\"/a\","
		"\"VolumeOptions\":{\"Subpath\":\"../x\"}}",
		"invalid mount config for type \"volume\": subpath must be a relative path within "
		"the volume");
	mount_error("{\"Type\":\"tmpfs\",\"Target\":\"/a\","
		    "\"TmpfsOptions\":{\"Options\":[[\"uid\",\"1\"]]}}",
		    "invalid mount config for type \"tmpfs\": invalid option: uid");
	mount_error("{\"Target\":\"/a\"}",
		    "invalid mount config for type \"\": mount type unknown");
}

static void test_mounts_points(void **state)
{
	json_t *mp = mount_ok("{\"Type\":\"bind\",\"Source\":\"/tmp/\",\"Target\":\"/a/\","
			      "\"ReadOnly\":true,\"BindOptions\":{\"Propagation\":\"rshared\"}}");
	expect_field(mp, "Source", "/tmp");
	expect_field(mp, "Destination", "/a");
	expect_field(mp, "Propagation", "rshared");
	assert_true(json_is_false(json_object_get(mp, "RW")));
	assert_true(json_is_false(json_object_get(mp, "CreateSource")));
	json_decref(mp);
	mp = mount_ok("{\"Type\":\"bind\",\"Source\":\"/nonexist-berth-cm\",\"Target\":\"/a\","
		      "\"BindOptions\":{\"CreateMountpoint\":true}}");
	assert_true(json_is_true(json_object_get(mp, "CreateSource")));
	json_decref(mp);
	mp = mount_ok(
		"{\"Type\":\"volume\",\"Source\":\"data\",\"Target\":\"/d\",\"VolumeOptions\":"
		"{\"NoCopy\":true,\"Labels\":{\"a\":\"b\"},\"DriverConfig\":{\"Name\":\"local\","
		"\"Options\":{\"type\":\"tmpfs\",\"device\":\"tmpfs\"}}}}");
	expect_field(mp, "Name", "data");
	expect_field(mp, "Driver", "local");
	expect_field(mp, "Mode", "");
	assert_true(json_is_false(json_object_get(mp, "CopyData")));
	expect_field(json_object_get(mp, "VolumeLabels"), "a", "b");
	expect_field(json_object_get(mp, "DriverOpts"), "type", "tmpfs");
	json_decref(mp);
	mp = mount_ok("{\"Type\":\"tmpfs\",\"Target\":\"/t\",\"ReadOnly\":true,\"TmpfsOptions\":"
		      "{\"SizeBytes\":3145728,\"Mode\":448,\"Options\":[[\"exec\"]]}}");
	expect_field(mp, "TmpfsOptions", "ro,mode=700,size=3m,exec");
	expect_field(mp, "Source", "");
	json_decref(mp);
	mp = mount_ok(
		"{\"Type\":\"tmpfs\",\"Target\":\"/t\",\"TmpfsOptions\":{\"SizeBytes\":1000}}");
	expect_field(mp, "TmpfsOptions", "size=1000");
	json_decref(mp);
}

/* ----------------------------------------------------- Tmpfs, VolumesFrom */

static void test_tmpfs_and_from(void **state)
{
	json_t *mp = NULL;
	berth_error *err = NULL;
	assert_int_equal(volume_parse_tmpfs("rel", "", &mp, &err), -1);
	assert_string_equal(err->msg, "invalid mount path: 'rel' mount path must be absolute");
	berth_error_free(&err);
	assert_int_equal(volume_parse_tmpfs("/", "", &mp, &err), -1);
	assert_string_equal(err->msg, "invalid specification: destination can't be '/'");
	berth_error_free(&err);
	assert_int_equal(volume_parse_tmpfs("/run/", "size=1m,ro", &mp, &err), 0);
	expect_field(mp, "Destination", "/run");
	assert_true(json_is_true(json_object_get(mp, "Hidden")));
	assert_true(json_is_false(json_object_get(mp, "RW")));
	assert_null(mount_point_inspect(mp));
	json_decref(mp);

	char *name = NULL, *mode = NULL;
	assert_int_equal(volume_parse_volumes_from("", &name, &mode, &err), -1);
	assert_string_equal(err->msg, "volumes-from specification cannot be an empty string");
	berth_error_free(&err);
	static const char *const bad[] = {"c1:foo", "c1:shared", "c1:nocopy", "c1:ro,rw"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(bad); i++) {
		assert_int_equal(volume_parse_volumes_from(bad[i], &name, &mode, &err), -1);
		assert_true(berth_str_has_prefix(err->msg, "invalid mode: "));
		berth_error_free(&err);
	}
	assert_int_equal(volume_parse_volumes_from("c1", &name, &mode, &err), 0);
	assert_string_equal(name, "c1");
	assert_string_equal(mode, "rw");
	free(name);
	free(mode);
	assert_int_equal(volume_parse_volumes_from("c1:ro,z", &name, &mode, &err), 0);
	assert_string_equal(mode, "ro,z");
	assert_false(volume_mode_rw(mode));
	free(name);
	free(mode);
}

/* ---------------------------------------------------------- names, options */

static void name_error(const char *name, const char *msg)
{
	berth_error *err = NULL;
	assert_int_equal(volume_validate_name(name, &err), -1);
	assert_string_equal(err->msg, msg);
	berth_error_free(&err);
}

static void test_names(void **state)
{
	static const char *const ok[] = {"ab", "a1", "9_x", "A.b-c_d", "0123456789abcdef"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(ok); i++)
		assert_int_equal(volume_validate_name(ok[i], NULL), 0);
	name_error("a", "volume name is too short, names should be at least two alphanumeric "
			"characters");
	name_error("-bad",
		   "\"-bad\" includes invalid characters for a local volume name, only "
		   "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
		   "directory, use absolute path");
	name_error("/abs",
		   "\"/abs\" includes invalid characters for a local volume name, only "
		   "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
		   "directory, use absolute path");
	name_error("", "\"\" includes invalid characters for a local volume name, only "
		       "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
		       "directory, use absolute path");
	name_error("a b",
		   "\"a b\" includes invalid characters for a local volume name, only "
		   "\"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host "
		   "directory, use absolute path");
}

static void opts_error(const char *json, const char *msg)
{
	json_t *o = json_loads(json, 0, NULL);
	berth_error *err = NULL;
	assert_int_equal(volume_validate_opts(o, &err), -1);
	assert_string_equal(err->msg, msg);
	berth_error_free(&err);
	json_decref(o);
}

static void test_options(void **state)
{
	opts_error("{\"foo\":\"bar\"}", "invalid option: \"foo\"");
	opts_error("{\"type\":\"tmpfs\"}", "missing required option: \"device\"");
	opts_error("{\"device\":\"tmpfs\"}", "missing required option: \"type\"");
	opts_error("{\"o\":\"size=1m\"}", "missing required option: \"device\"");
	opts_error("{\"size\":\"10m\"}", "quota size requested but no quota support");
	opts_error("{\"size\":\"ten\"}", "invalid size: 'ten'");
	json_t *o =
		json_pack("{s:s, s:s, s:s}", "type", "tmpfs", "device", "tmpfs", "o", "size=1m");
	assert_int_equal(volume_validate_opts(o, NULL), 0);
	char *file = volume_opts_file(o);
	assert_string_equal(file,
			    "{\"MountType\":\"tmpfs\",\"MountOpts\":\"size=1m\",\"MountDevice\":"
			    "\"tmpfs\",\"Quota\":{\"Size\":0}}");
	free(file);
	json_decref(o);
}

/* ------------------------------------------------------------------ paths */

static void test_path_clean(void **state)
{
	static const char *const cases[][2] = {
		{"/", "/"},	   {"", "."},
		{"/a/b/", "/a/b"}, {"/a//b/./c/..", "/a/b"},
		{"/../x", "/x"},   {"a/../../b", "../b"},
		{"./", "."},	   {"/a/b/../../..", "/"},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
		char *c = berth_path_clean(cases[i][0]);
		if (strcmp(c, cases[i][1]) != 0)
			fail_msg("clean(%s) = %s, want %s", cases[i][0], c, cases[i][1]);
		free(c);
	}
}

/* --------------------------------------------------------------------- OCI */

static void test_oci_mounts(void **state)
{
	json_t *mounts = json_array();
	json_array_append_new(mounts, bind_ok("/srv/a:/data/sub:ro,rslave"));
	json_array_append_new(mounts, bind_ok("/srv/b:/data"));
	json_t *t = NULL;
	assert_int_equal(volume_parse_tmpfs("/run", "size=1m,exec,size=2m,rw,shared", &t, NULL), 0);
	json_array_append_new(mounts, t);
	json_t *oci = NULL;
	berth_error *err = NULL;
	assert_int_equal(mount_points_oci(mounts, &oci, &err), 0);
	char *text = berth_json_dump(oci);
	assert_string_equal(
		text, "[{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/srv/b\","
		      "\"options\":[\"rbind\",\"rprivate\"]},"
		      "{\"destination\":\"/run\",\"type\":\"tmpfs\",\"source\":\"tmpfs\","
		      "\"options\":[\"nosuid\",\"nodev\",\"exec\",\"size=2m\",\"rw\",\"shared\"]},"
		      "{\"destination\":\"/data/sub\",\"type\":\"bind\",\"source\":\"/srv/a\","
		      "\"options\":[\"rbind\",\"ro\",\"rslave\"]}]");
	free(text);
	json_decref(oci);
	json_decref(mounts);

	mounts = json_array();
	assert_int_equal(volume_parse_tmpfs("/x", "foo=bar", &t, NULL), 0);
	json_array_append_new(mounts, t);
	assert_int_equal(mount_points_oci(mounts, &oci, &err), -1);
	assert_string_equal(err->msg, "invalid tmpfs option [\"foo\" \"bar\"]");
	berth_error_free(&err);
	json_decref(mounts);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_binds_valid),    cmocka_unit_test(test_binds_invalid),
		cmocka_unit_test(test_binds_messages), cmocka_unit_test(test_binds_split),
		cmocka_unit_test(test_mounts_errors),  cmocka_unit_test(test_mounts_points),
		cmocka_unit_test(test_tmpfs_and_from), cmocka_unit_test(test_names),
		cmocka_unit_test(test_options),	       cmocka_unit_test(test_path_clean),
		cmocka_unit_test(test_oci_mounts),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
