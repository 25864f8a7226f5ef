/* FROM --platform specifiers: containerd's parse and normalization, the
 * match of an image's platform. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "builder/internal.h"
#include "unit_json.h"

static char *parsed(const char *spec)
{
	build_platform p;
	berth_error *err = NULL;
	if (build_platform_parse(spec, &p, &err) < 0) {
		char *msg = berth_xstrdup(err->msg);
		berth_error_free(&err);
		return msg;
	}
	char *s = build_platform_format(&p);
	build_platform_reset(&p);
	return s;
}

static void expect(const char *spec, const char *want)
{
	char *got = parsed(spec);
	assert_string_equal(got, want);
	free(got);
}

static void test_normalized(void **state)
{
	build_platform host;
	build_platform_host(&host);
	char *host_s = build_platform_format(&host);
	expect("linux/amd64", "linux/amd64");
	expect("Linux/X86_64", "linux/amd64");
	expect("linux/aarch64", "linux/arm64");
	expect("linux/arm64/v8", "linux/arm64");
	expect("linux/armhf", "linux/arm/v7");
	expect("linux/arm/7", "linux/arm/v7");
	expect("linux/i386", "linux/386");
	expect("arm64", "linux/arm64");   /* an architecture alone: the host's OS */
	expect("linux", host_s);           /* an OS alone: the host's architecture */
	expect("windows/amd64", "windows/amd64");
	free(host_s);
	build_platform_reset(&host);
}

static void test_refused(void **state)
{
	expect("a/b/c/d", "\"a/b/c/d\": cannot parse platform specifier: invalid argument");
	expect("", "\"\" is an invalid component of \"\": platform specifier component must "
		   "match \"^[A-Za-z0-9_-]+$\": invalid argument");
	expect("linux//amd64", "\"\" is an invalid component of \"linux//amd64\": platform "
			       "specifier component must match \"^[A-Za-z0-9_-]+$\": invalid argument");
	expect("linux/*", "\"linux/*\": wildcards not yet supported: invalid argument");
	expect("plan10", "\"plan10\": unknown operating system or architecture: invalid argument");
}

static void test_match(void **state)
{
	build_platform want;
	assert_int_equal(build_platform_parse("linux/arm64", &want, NULL), 0);
	assert_true(build_platform_match(&want, "linux", "arm64", NULL));
	assert_true(build_platform_match(&want, "linux", "aarch64", "v8"));
	assert_false(build_platform_match(&want, "linux", "amd64", NULL));
	assert_false(build_platform_match(&want, "windows", "arm64", NULL));
	build_platform_reset(&want);
	assert_int_equal(build_platform_parse("linux/arm/v7", &want, NULL), 0);
	assert_true(build_platform_match(&want, "linux", "arm", "v7"));
	assert_true(build_platform_match(&want, "linux", "arm", NULL));
	assert_false(build_platform_match(&want, "linux", "arm", "v6"));
	build_platform_reset(&want);
}

static void test_args(void **state)
{
	build_platform build, target;
	assert_int_equal(build_platform_parse("linux/amd64", &build, NULL), 0);
	assert_int_equal(build_platform_parse("linux/arm/v7", &target, NULL), 0);
	json_t *args = build_platform_args(&build, &target);
	check_json_strings(args, "BUILDPLATFORM", "linux/amd64", "BUILDVARIANT", "",
			   "TARGETPLATFORM", "linux/arm/v7", "TARGETOS", "linux", "TARGETARCH", "arm",
			   "TARGETVARIANT", "v7", NULL);
	json_decref(args);
	build_platform_reset(&build);
	build_platform_reset(&target);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalized),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_args),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
