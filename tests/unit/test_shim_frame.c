/* shim/: Docker's stream framing, detach keys, the poll loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "shim/internal.h"

static void test_frame_header(void **state)
{
	uint8_t h[BERTH_SHIM_FRAME_HEADER];
	berth_shim_frame_header(h, BERTH_SHIM_STDERR, 0x01020304);
	const uint8_t want[] = {2, 0, 0, 0, 1, 2, 3, 4};
	assert_memory_equal(h, want, sizeof(want));
	berth_shim_frame_header(h, BERTH_SHIM_STDOUT, 5);
	const uint8_t want2[] = {1, 0, 0, 0, 0, 0, 0, 5};
	assert_memory_equal(h, want2, sizeof(want2));
}

static void test_frame_parse(void **state)
{
	berth_buf b = {0};
	uint8_t h[BERTH_SHIM_FRAME_HEADER];
	berth_shim_frame_header(h, BERTH_SHIM_STDOUT, 6);
	berth_buf_append(&b, h, sizeof(h));
	berth_buf_append(&b, "hello\n", 6);
	berth_shim_frame_header(h, BERTH_SHIM_STDERR, 3);
	berth_buf_append(&b, h, sizeof(h));
	berth_buf_append(&b, "err", 3);

	int stream;
	const char *p;
	size_t n;
	/* incomplete header, incomplete payload */
	assert_int_equal(berth_shim_frame_parse(b.data, 7, &stream, &p, &n), 0);
	assert_int_equal(berth_shim_frame_parse(b.data, 13, &stream, &p, &n), 0);
	long used = berth_shim_frame_parse(b.data, b.len, &stream, &p, &n);
	assert_int_equal(used, 14);
	assert_int_equal(stream, BERTH_SHIM_STDOUT);
	assert_int_equal(n, 6);
	assert_memory_equal(p, "hello\n", 6);
	used = berth_shim_frame_parse(b.data + 14, b.len - 14, &stream, &p, &n);
	assert_int_equal(used, 11);
	assert_int_equal(stream, BERTH_SHIM_STDERR);
	assert_memory_equal(p, "err", 3);
	/* an empty frame is valid; a stream byte > 2 is not */
	berth_shim_frame_header(h, BERTH_SHIM_STDOUT, 0);
	assert_int_equal(berth_shim_frame_parse(h, sizeof(h), &stream, &p, &n), 8);
	assert_int_equal(n, 0);
	h[0] = 3;
	assert_int_equal(berth_shim_frame_parse(h, sizeof(h), &stream, &p, &n), -1);
	berth_buf_reset(&b);
}

static void test_escape_parse(void **state)
{
	shim_escape e;
	berth_error *err = NULL;
	assert_int_equal(shim_escape_parse(&e, "ctrl-p,ctrl-q", &err), 0);
	assert_int_equal(e.nkeys, 2);
	assert_int_equal(e.keys[0], 16);
	assert_int_equal(e.keys[1], 17);
	assert_int_equal(shim_escape_parse(&e, "a,ctrl-@,ctrl-[,ctrl-_,CTRL-A", &err), 0);
	const char want[] = {'a', 0, 27, 31, 1};
	assert_memory_equal(e.keys, want, sizeof(want));
	static const char *const bad[] = {"", "ctrl-", "ctrl-1", "ab", "a,,b", "shift-a"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(bad); i++) {
		assert_int_equal(shim_escape_parse(&e, bad[i], &err), -1);
		assert_int_equal(err->status, 400);
		assert_non_null(strstr(err->msg, "Invalid detach keys"));
		berth_error_free(&err);
	}
}

static void test_escape_filter(void **state)
{
	shim_escape e;
	berth_error *err = NULL;
	assert_int_equal(shim_escape_parse(&e, "ctrl-p,ctrl-q", &err), 0);
	berth_buf out = {0};
	/* plain input passes */
	assert_false(shim_escape_filter(&e, "abc", 3, &out));
	assert_string_equal(out.data, "abc");
	/* a held ctrl-p is released when the next key is not ctrl-q */
	out.len = 0;
	assert_false(shim_escape_filter(&e, "x\x10", 2, &out));
	assert_int_equal(out.len, 1);
	assert_false(shim_escape_filter(&e, "y", 1, &out));
	assert_memory_equal(out.data, "x\x10y", 3);
	/* ctrl-p ctrl-p ctrl-q: the first is data, the pair detaches */
	out.len = 0;
	assert_true(shim_escape_filter(&e, "\x10\x10\x11tail", 7, &out));
	assert_memory_equal(out.data, "\x10", 1);
	assert_int_equal(out.len, 1);
	/* split across reads */
	out.len = 0;
	assert_false(shim_escape_filter(&e, "z\x10", 2, &out));
	assert_true(shim_escape_filter(&e, "\x11", 1, &out));
	assert_int_equal(out.len, 1);
	berth_buf_reset(&out);
}

/* ------------------------------------------------------------------ loop */

static int fired;

static void stop_timer(shim_timer *t)
{
	fired++;
	shim_loop_stop(t->data);
}

static void read_and_remove(shim_watch *w, int revents)
{
	char c;
	assert_int_equal(read(w->fd, &c, 1), 1);
	fired += 10;
	shim_loop_remove(w->data, w); /* removing itself while dispatching */
}

static void test_loop(void **state)
{
	shim_loop *l = shim_loop_new();
	int p[2];
	assert_int_equal(pipe(p), 0);
	shim_watch w = {.slot = -1};
	shim_timer t = {.slot = -1};
	shim_loop_add(l, &w, p[0], POLLIN, read_and_remove, l);
	assert_int_equal(write(p[1], "x", 1), 1);
	shim_timer_start(l, &t, 20, stop_timer, l);
	fired = 0;
	shim_loop_run(l);
	assert_int_equal(fired, 11);
	/* a stopped timer never fires; removing twice is harmless */
	shim_timer_start(l, &t, 0, stop_timer, l);
	shim_timer_stop(l, &t);
	shim_loop_remove(l, &w);
	shim_timer t2 = {.slot = -1};
	shim_timer_start(l, &t2, 1, stop_timer, l);
	fired = 0;
	shim_loop_run(l);
	assert_int_equal(fired, 1);
	close(p[0]);
	close(p[1]);
	shim_loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frame_header),
		cmocka_unit_test(test_frame_parse),
		cmocka_unit_test(test_escape_parse),
		cmocka_unit_test(test_escape_filter),
		cmocka_unit_test(test_loop),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
