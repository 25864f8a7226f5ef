/* test_registry_gzip.c - the push's parallel gzip stream (registry/gzip.c):
 * what it sends inflates back to the input (all gzip members), the same
 * input gives the same digest, and a failing producer is the error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <zlib.h>

#include "registry/internal.h"

#define MIB (1024 * 1024)

typedef struct input {
	const unsigned char *data;
	size_t len, piece; /* written in pieces of this size */
	bool fail_midway;
} input;

static int fill(void *ud, reg_gzip *gz, berth_error **err)
{
	input *in = ud;
	for (size_t off = 0; off < in->len; off += in->piece) {
		if (in->fail_midway && off >= in->len / 2)
			return berth_error_set(err, 500, "layer store broke");
		size_t n = in->len - off < in->piece ? in->len - off : in->piece;
		if (reg_gzip_write(gz, in->data + off, n, err) < 0)
			return -1;
	}
	return 0;
}

/* Everything the upload would send, read through odd-sized buffers. */
static int run(input *in, berth_buf *out, char digest[DIGEST_LEN + 1], berth_error **err)
{
	reg_gzip *gz = reg_gzip_start(fill, in);
	char buf[7000];
	size_t n;
	while ((n = reg_gzip_read(buf, 1, sizeof(buf), gz)) > 0 && n != CURL_READFUNC_ABORT)
		berth_buf_append(out, buf, n);
	int64_t size = -1;
	int rc = reg_gzip_finish(gz, digest, &size, err);
	if (rc == 0) {
		assert_int_equal(size, out->len);
		char hex[65];
		berth_sha256_hex(out->data, out->len, hex);
		assert_string_equal(digest + 7, hex);
	}
	return rc;
}

/* Inflates every gzip member in turn, as Go's and libarchive's readers do. */
static void inflate_all(const berth_buf *gz, berth_buf *plain)
{
	z_stream z = {0};
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)gz->data;
	z.avail_in = (uInt)gz->len;
	unsigned char out[65536];
	for (;;) {
		z.next_out = out;
		z.avail_out = sizeof(out);
		int zr = inflate(&z, Z_NO_FLUSH);
		assert_true(zr == Z_OK || zr == Z_STREAM_END);
		berth_buf_append(plain, out, sizeof(out) - z.avail_out);
		if (zr == Z_STREAM_END) {
			if (z.avail_in == 0)
				break;
			assert_int_equal(inflateReset(&z), Z_OK);
		}
	}
	inflateEnd(&z);
}

static unsigned char *make(size_t len, bool random)
{
	unsigned char *p = malloc(len ? len : 1);
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		p[i] = random ? (unsigned char)x : (unsigned char)("layer tar "[i % 10] + (i / 4096) % 3);
	}
	return p;
}

static void roundtrip(size_t len, bool random, size_t piece)
{
	unsigned char *data = make(len, random);
	input in = {.data = data, .len = len, .piece = piece};
	berth_buf a = {0}, b = {0}, plain = {0};
	char d1[DIGEST_LEN + 1], d2[DIGEST_LEN + 1];
	berth_error *err = NULL;
	assert_int_equal(run(&in, &a, d1, &err), 0);
	inflate_all(&a, &plain);
	assert_int_equal(plain.len, len);
	assert_memory_equal(plain.data ? plain.data : "", data, len);
	/* other write sizes, same bytes: the chunks are cut at the same offsets */
	in.piece = piece * 3 + 1;
	assert_int_equal(run(&in, &b, d2, &err), 0);
	assert_string_equal(d1, d2);
	if (!random && len > MIB)
		assert_true(a.len < len / 2);
	if (random && len > MIB)
		assert_true(a.len < len + len / 1000); /* stored, not expanded */
	berth_buf_reset(&a);
	berth_buf_reset(&b);
	berth_buf_reset(&plain);
	free(data);
}

static void test_empty(void **state)
{
	roundtrip(0, false, 1);
}

static void test_small(void **state)
{
	roundtrip(10000, false, 333);
}

static void test_chunk_edges(void **state)
{
	roundtrip(MIB, false, 65536);
	roundtrip(MIB + 1, true, 65536);
	roundtrip(2 * MIB - 1, false, 100000);
}

static void test_many_chunks(void **state)
{
	roundtrip(9 * MIB + 12345, false, 1 << 20);
	roundtrip(9 * MIB + 12345, true, 200000);
}

static void test_fill_error(void **state)
{
	size_t len = 12 * MIB;
	unsigned char *data = make(len, false);
	input in = {.data = data, .len = len, .piece = 65536, .fail_midway = true};
	berth_buf out = {0};
	char digest[DIGEST_LEN + 1];
	berth_error *err = NULL;
	assert_int_equal(run(&in, &out, digest, &err), -1);
	assert_string_equal(err->msg, "layer store broke");
	berth_error_free(&err);
	berth_buf_reset(&out);
	free(data);
}

/* The upload gives up after a few bytes: the producer stops and nothing leaks. */
static void test_reader_stops(void **state)
{
	size_t len = 20 * MIB;
	unsigned char *data = make(len, false);
	input in = {.data = data, .len = len, .piece = 65536};
	reg_gzip *gz = reg_gzip_start(fill, &in);
	char buf[1000];
	assert_true(reg_gzip_read(buf, 1, sizeof(buf), gz) > 0);
	char digest[DIGEST_LEN + 1];
	int64_t size = 0;
	berth_error *err = NULL;
	assert_int_equal(reg_gzip_finish(gz, digest, &size, &err), 0);
	assert_null(err);
	free(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_small),
		cmocka_unit_test(test_chunk_edges),
		cmocka_unit_test(test_many_chunks),
		cmocka_unit_test(test_fill_error),
		cmocka_unit_test(test_reader_stops),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
