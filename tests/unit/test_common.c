/* common/: errors, buffers, files, JSON getters, time, sizes, filters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "common.h"

static void test_errors(void **state)
{
	berth_error *err = NULL;
	assert_int_equal(berth_error_set(&err, 404, "no such %s", "thing"), -1);
	assert_int_equal(err->status, 404);
	berth_error_wrap(&err, "outer");
	assert_string_equal(err->msg, "outer: no such thing");
	berth_error *to = NULL;
	berth_error_propagate(&err, &to);
	assert_null(err);
	assert_string_equal(to->msg, "outer: no such thing");
	berth_error_free(&to);
	berth_error_set_errno(&err, 2, "open x");
	assert_int_equal(err->status, 500);
	assert_string_equal(err->msg, "open x: no such file or directory");
	berth_error_free(&err);
	assert_int_equal(berth_error_set(NULL, 400, "ignored"), -1);
}

static void test_buf(void **state)
{
	berth_buf b cleanup_buf = {0};
	berth_buf_puts(&b, "hello");
	berth_buf_printf(&b, " %d", 42);
	assert_string_equal(b.data, "hello 42");
	berth_buf_consume(&b, 6);
	assert_string_equal(b.data, "42");
	for (int i = 0; i < 1000; i++)
		berth_buf_append(&b, "x", 1);
	assert_int_equal(b.len, 1002);
	char *s = berth_buf_steal(&b);
	assert_int_equal(strlen(s), 1002);
	free(s);
	assert_int_equal(b.len, 0);
}

static void test_files(void **state)
{
	char dir[] = "/tmp/berth-unit.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *sub cleanup_free = berth_xasprintf("%s/a/b/c", dir);
	berth_error *err = NULL;
	assert_int_equal(berth_mkdir_all(sub, 0755, &err), 0);
	assert_int_equal(berth_mkdir_all(sub, 0755, &err), 0);
	char *file cleanup_free = berth_xasprintf("%s/f.json", sub);
	assert_int_equal(berth_file_write_atomic(file, "{}", 2, 0600, &err), 0);
	assert_int_equal(berth_file_write_atomic(file, "{\"a\":1}", 7, 0600, &err), 0);
	char *data cleanup_free = NULL;
	size_t len;
	assert_int_equal(berth_file_read_all(file, &data, &len, &err), 0);
	assert_string_equal(data, "{\"a\":1}");
	char *missing cleanup_free = berth_xasprintf("%s/none", dir);
	char *none = NULL;
	assert_int_equal(berth_file_read_all(missing, &none, &len, &err), -1);
	assert_int_equal(err->status, 404);
	berth_error_free(&err);
	char *cmd cleanup_free = berth_xasprintf("rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_json_getters(void **state)
{
	json_t *o cleanup_json = json_pack("{s:s, s:i, s:b, s:n, s:i}", "s", "x", "i", 3, "b", 1, "n", "wrong", 5);
	berth_error *err = NULL;
	const char *s = "default";
	json_int_t i = 7;
	bool b = false;
	assert_int_equal(berth_json_get_string(o, "s", &s, &err), 0);
	assert_string_equal(s, "x");
	assert_int_equal(berth_json_get_string(o, "n", &s, &err), 0); /* null keeps default */
	assert_string_equal(s, "x");
	assert_int_equal(berth_json_get_int(o, "i", &i, &err), 0);
	assert_int_equal(i, 3);
	assert_int_equal(berth_json_get_bool(o, "b", &b, &err), 0);
	assert_true(b);
	assert_int_equal(berth_json_get_string(o, "wrong", &s, &err), -1);
	assert_string_equal(err->msg, "invalid JSON: field wrong must be a string");
	assert_int_equal(err->status, 400);
	berth_error_free(&err);
	json_t *j = NULL;
	assert_int_equal(berth_json_parse("", 0, &j, &err), -1);
	berth_error_free(&err);
	assert_int_equal(berth_json_parse("{\"a\":1,\"a\":2}", 13, &j, &err), -1);
	berth_error_free(&err);

	/* bytewise, as Go orders map keys: upper case before lower case */
	size_t n;
	const char **keys cleanup_free = berth_json_sorted_keys(o, &n);
	assert_int_equal(n, 5);
	const char *want[] = {"b", "i", "n", "s", "wrong"};
	for (size_t k = 0; k < n; k++)
		assert_string_equal(keys[k], want[k]);
	json_t *mixed cleanup_json = json_pack("{s:i, s:i, s:i}", "b", 1, "B", 2, "a", 3);
	const char **mk cleanup_free = berth_json_sorted_keys(mixed, &n);
	assert_int_equal(n, 3);
	assert_string_equal(mk[0], "B");
	assert_string_equal(mk[1], "a");
	assert_string_equal(mk[2], "b");
	const char **none cleanup_free = berth_json_sorted_keys(json_null(), &n);
	assert_int_equal(n, 0);
	assert_null(none[0]);
}

static void test_time_parse(void **state)
{
	int64_t now = 1700000000LL * 1000000000LL, t;
	berth_error *err = NULL;
	assert_int_equal(berth_time_parse("1700000000", now, &t, &err), 0);
	assert_true(t == now);
	assert_int_equal(berth_time_parse("1700000000.5", now, &t, &err), 0);
	assert_true(t == now + 500000000LL);
	assert_int_equal(berth_time_parse("10m", now, &t, &err), 0);
	assert_true(t == now - 600LL * 1000000000LL);
	assert_int_equal(berth_time_parse("1h30m", now, &t, &err), 0);
	assert_true(t == now - 5400LL * 1000000000LL);
	assert_int_equal(berth_time_parse("2023-11-14T22:13:20Z", now, &t, &err), 0);
	assert_true(t == now);
	assert_int_equal(berth_time_parse("2023-11-14T23:13:20+01:00", now, &t, &err), 0);
	assert_true(t == now);
	assert_int_equal(berth_time_parse("2023-11-14T22:13:20.25Z", now, &t, &err), 0);
	assert_true(t == now + 250000000LL);
	assert_int_equal(berth_time_parse("yesterday", now, &t, &err), -1);
	assert_int_equal(err->status, 400);
	berth_error_free(&err);
	int64_t d;
	assert_int_equal(berth_duration_parse("1.5s", &d, &err), 0);
	assert_true(d == 1500000000LL);
	assert_int_equal(berth_duration_parse("300ms", &d, &err), 0);
	assert_true(d == 300000000LL);
	assert_int_equal(berth_duration_parse("5", &d, &err), -1);
	berth_error_free(&err);
	char out[64];
	berth_time_format_rfc3339(now + 5, out, sizeof(out));
	assert_string_equal(out, "2023-11-14T22:13:20.000000005Z");
}

static void test_go_duration(void **state)
{
	/* time.Duration.String() */
	static const struct {
		int64_t ns;
		const char *want;
	} cases[] = {{0, "0s"}, {1, "1ns"}, {1500, "1.5µs"}, {300000000, "300ms"},
		     {1500000000, "1.5s"}, {90000000000LL, "1m30s"}, {3600000000000LL, "1h0m0s"},
		     {-2000000000, "-2s"}, {INT64_MIN, "-2562047h47m16.854775808s"}};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(cases); i++) {
		berth_buf b cleanup_buf = {0};
		berth_go_duration(&b, cases[i].ns);
		assert_string_equal(b.data, cases[i].want);
	}
}

static void test_human(void **state)
{
	char out[32];
	berth_human_size(1978000, 3, out, sizeof(out));
	assert_string_equal(out, "1.98MB");
	berth_human_size(512, 3, out, sizeof(out));
	assert_string_equal(out, "512B");
	berth_human_size(4300000000LL, 4, out, sizeof(out));
	assert_string_equal(out, "4.3GB");
	berth_human_bytes_binary(25275494400LL, out, sizeof(out));
	assert_string_equal(out, "23.54GiB");
	berth_human_duration(120LL * 1000000000LL, out, sizeof(out));
	assert_string_equal(out, "2 minutes");
	berth_human_duration(3600LL * 1000000000LL, out, sizeof(out));
	assert_string_equal(out, "About an hour");
	berth_human_duration(500000000LL, out, sizeof(out));
	assert_string_equal(out, "Less than a second");
	berth_human_duration(3LL * 86400 * 1000000000LL, out, sizeof(out));
	assert_string_equal(out, "3 days");
}

static void test_versions_strings_urls(void **state)
{
	assert_true(berth_version_compare("1.41", "1.47") < 0);
	assert_true(berth_version_compare("1.47", "1.47") == 0);
	assert_true(berth_version_compare("1.100", "1.47") > 0);
	assert_true(berth_version_compare("2", "1.47") > 0);
	char **v = berth_str_split("a,,b", ',');
	assert_int_equal(berth_strv_len(v), 3);
	assert_string_equal(v[2], "b");
	berth_strv_free(v);
	char *d = berth_url_decode("a%20b+c%zz%4", 12);
	assert_string_equal(d, "a b c%zz%4");
	free(d);
	char *e = berth_url_encode("{\"a\":1}");
	assert_string_equal(e, "%7B%22a%22%3A1%7D");
	free(e);
	char id[65], sum[65];
	berth_random_id(id);
	assert_int_equal(strlen(id), 64);
	berth_sha256_hex("", 0, sum);
	assert_string_equal(sum, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_paths(void **state)
{
	/* what Go's path.Clean and filepath.Base give */
	static const char *const cleaned[][2] = {
		{"", "."}, {".", "."}, {"a/b/", "a/b"}, {"a//b/./c", "a/b/c"},
		{"a/../..", ".."}, {"../a/..", ".."}, {"/../a", "/a"}, {"/a/b/../../..", "/"},
		{"//", "/"}, {"a/./", "a"}, {"/x/./y/", "/x/y"}, {"../../b", "../../b"},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(cleaned); i++) {
		char *c cleanup_free = berth_path_clean(cleaned[i][0]);
		if (strcmp(c, cleaned[i][1]) != 0)
			fail_msg("clean [%s]: got [%s], want [%s]", cleaned[i][0], c, cleaned[i][1]);
	}
	static const char *const bases[][2] = {
		{"", "."}, {"/", "/"}, {"///", "/"}, {"a", "a"}, {"/a/b", "b"}, {"a/b//", "b"},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(bases); i++) {
		char *b cleanup_free = berth_path_base(bases[i][0]);
		if (strcmp(b, bases[i][1]) != 0)
			fail_msg("base [%s]: got [%s], want [%s]", bases[i][0], b, bases[i][1]);
	}
	/* cleaned, as the client wrote it, and what docker's cp keeps of it */
	static const char *const kept[][3] = {
		{"a", "a/.", "a/."}, {"a", "a/", "a/"}, {"a/b", "a//b", "a/b"},
		{"/", "/.", "/."}, {".", "./", "./"}, {"/x", "/x/./", "/x/./"},
	};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(kept); i++) {
		char *p cleanup_free = berth_path_preserve(kept[i][0], kept[i][1]);
		if (strcmp(p, kept[i][2]) != 0)
			fail_msg("preserve [%s] [%s]: got [%s], want [%s]", kept[i][0], kept[i][1], p,
				 kept[i][2]);
	}
}

static void test_filters(void **state)
{
	berth_filters *f = NULL;
	berth_error *err = NULL;
	assert_int_equal(berth_filters_parse("{\"type\":{\"container\":true,\"image\":false},\"label\":[\"a\",\"b=2\"]}", &f, &err), 0);
	assert_true(berth_filters_match(f, "type", "container"));
	assert_false(berth_filters_match(f, "type", "image"));
	assert_true(berth_filters_match(f, "absent", "anything"));
	json_t *labels = json_pack("{s:s, s:s}", "a", "x", "b", "2");
	assert_true(berth_filters_match_labels(f, "label", labels));
	json_object_set_new(labels, "b", json_string("3"));
	assert_false(berth_filters_match_labels(f, "label", labels));
	json_decref(labels);
	static const char *const allowed[] = {"type", NULL};
	assert_int_equal(berth_filters_validate(f, allowed, &err), -1);
	assert_string_equal(err->msg, "invalid filter 'label'");
	berth_error_free(&err);
	char *enc = berth_filters_encode(f);
	assert_string_equal(enc, "{\"type\":{\"container\":true},\"label\":{\"a\":true,\"b=2\":true}}");
	free(enc);
	berth_filters_free(f);
	assert_int_equal(berth_filters_parse("{\"type\":1}", &f, &err), -1);
	berth_error_free(&err);
	assert_int_equal(berth_filters_parse("[]", &f, &err), -1);
	berth_error_free(&err);
	assert_int_equal(berth_filters_parse(NULL, &f, &err), 0);
	assert_true(berth_filters_empty(f));
	assert_int_equal(berth_filters_add_arg(f, "name=web", &err), 0);
	assert_int_equal(berth_filters_add_arg(f, "novalue", &err), -1);
	berth_error_free(&err);
	assert_string_equal(berth_filters_get(f, "name")[0], "web");
	berth_filters_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),	  cmocka_unit_test(test_buf),
		cmocka_unit_test(test_files),	  cmocka_unit_test(test_json_getters),
		cmocka_unit_test(test_time_parse), cmocka_unit_test(test_go_duration),
		cmocka_unit_test(test_human),
		cmocka_unit_test(test_versions_strings_urls), cmocka_unit_test(test_filters),
		cmocka_unit_test(test_paths),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
