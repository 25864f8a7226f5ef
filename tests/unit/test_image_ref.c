/* Image references: normalization as dockerd stores them, the familiar form
 * the docker CLI prints, and distribution/reference's errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "engine/image/image.h"

static void expect_ref(const char *in, const char *full, const char *familiar)
{
	berth_image_ref r;
	berth_error *err = NULL;
	if (berth_image_ref_parse(in, &r, &err) < 0)
		fail_msg("%s: %s", in, err->msg);
	char *f = berth_image_ref_string(&r);
	char *fam = berth_image_ref_familiar(&r);
	assert_string_equal(f, full);
	assert_string_equal(fam, familiar);
	char *back = berth_image_familiar_string(f);
	assert_string_equal(back, familiar);
	free(back);
	free(f);
	free(fam);
	berth_image_ref_reset(&r);
}

static void expect_error(const char *in, const char *msg)
{
	berth_image_ref r;
	berth_error *err = NULL;
	assert_int_equal(berth_image_ref_parse(in, &r, &err), -1);
	assert_int_equal(err->status, 400);
	assert_string_equal(err->msg, msg);
	berth_error_free(&err);
}

static void test_normalize(void **state)
{
	expect_ref("busybox", "docker.io/library/busybox", "busybox");
	expect_ref("busybox:1.36", "docker.io/library/busybox:1.36", "busybox:1.36");
	expect_ref("library/busybox:latest", "docker.io/library/busybox:latest", "busybox:latest");
	expect_ref("docker.io/busybox", "docker.io/library/busybox", "busybox");
	expect_ref("index.docker.io/library/busybox", "docker.io/library/busybox", "busybox");
	expect_ref("user/app:v1", "docker.io/user/app:v1", "user/app:v1");
	expect_ref("localhost:5000/a/b:t", "localhost:5000/a/b:t", "localhost:5000/a/b:t");
	expect_ref("localhost/app", "localhost/app", "localhost/app");
	expect_ref("example.com/x_y.z--w__v", "example.com/x_y.z--w__v", "example.com/x_y.z--w__v");
	expect_ref("docker.io/library/a/b", "docker.io/library/a/b", "library/a/b");
	expect_ref("busybox@sha256:"
		   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		   "docker.io/library/busybox@sha256:"
		   "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		   "busybox@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	expect_ref("[::1]:5000/app:latest", "[::1]:5000/app:latest", "[::1]:5000/app:latest");
}

static void test_errors(void **state)
{
	expect_error("Busybox", "invalid reference format: repository name (library/Busybox) must "
				"be lowercase");
	expect_error("busybox:", "invalid reference format");
	expect_error("bad..name", "invalid reference format");
	expect_error("-lead", "invalid reference format");
	expect_error("a:b:c", "invalid reference format");
	expect_error("", "invalid reference format");
	expect_error("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		     "invalid repository name (0123456789abcdef0123456789abcdef0123456789abcdef"
		     "0123456789abcdef), cannot specify 64-byte hexadecimal strings");
	expect_error("busybox@sha256:abc", "invalid checksum digest format");
}

static void test_familiar_name(void **state)
{
	char *n = berth_image_familiar_name("docker.io/library/busybox");
	assert_string_equal(n, "busybox");
	free(n);
	n = berth_image_familiar_name("quay.io/library/busybox");
	assert_string_equal(n, "quay.io/library/busybox");
	free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalize),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_familiar_name),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
