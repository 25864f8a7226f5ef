/* The attach/ws codec: handshake key, frames both ways, bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "engine/api/internal.h"
#include "engine/api/websocket.h"

static const uint8_t MASK[4] = {0x37, 0xfa, 0x21, 0x3d};

static void test_accept_key(void **state)
{
	char out[29];
	/* RFC 6455 section 1.3's example */
	berth_ws_accept("dGhlIHNhbXBsZSBub25jZQ==", out);
	assert_string_equal(out, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

static void test_encode_lengths(void **state)
{
	/* RFC 6455 5.7: an unmasked and a masked "Hello" */
	berth_buf b cleanup_buf = {0};
	berth_ws_encode(&b, BERTH_WS_TEXT, true, NULL, "Hello", 5);
	assert_int_equal(b.len, 7);
	assert_memory_equal(b.data, "\x81\x05Hello", 7);
	berth_buf_reset(&b);
	berth_ws_encode(&b, BERTH_WS_TEXT, true, MASK, "Hello", 5);
	assert_memory_equal(b.data, "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", 11);
	/* 16-bit and 64-bit lengths */
	static char big[70000];
	berth_buf_reset(&b);
	berth_ws_encode(&b, BERTH_WS_BINARY, true, NULL, big, 256);
	assert_memory_equal(b.data, "\x82\x7e\x01\x00", 4);
	assert_int_equal(b.len, 4 + 256);
	berth_buf_reset(&b);
	berth_ws_encode(&b, BERTH_WS_BINARY, true, NULL, big, sizeof(big));
	assert_memory_equal(b.data, "\x82\x7f\x00\x00\x00\x00\x00\x01\x11\x70", 10);
	assert_int_equal(b.len, 10 + sizeof(big));
}

/* Feeds in one piece or byte by byte: the result must not depend on it. */
static berth_ws_state decode(berth_ws_decoder *d, const berth_buf *in, bool bytewise,
			     berth_buf *data, berth_buf *reply)
{
	if (!bytewise)
		return berth_ws_decode(d, in->data, in->len, data, reply);
	berth_ws_state st = d->state;
	for (size_t i = 0; i < in->len; i++)
		st = berth_ws_decode(d, in->data + i, 1, data, reply);
	return st;
}

static void test_decode_fragmented_masked(void **state)
{
	for (int bytewise = 0; bytewise < 2; bytewise++) {
		berth_buf in cleanup_buf = {0}, data cleanup_buf = {0}, reply cleanup_buf = {0};
		berth_ws_encode(&in, BERTH_WS_TEXT, false, MASK, "hel", 3);
		berth_ws_encode(&in, BERTH_WS_PING, true, MASK, "p!", 2); /* between fragments */
		berth_ws_encode(&in, BERTH_WS_CONT, false, MASK, "", 0);
		berth_ws_encode(&in, BERTH_WS_CONT, true, MASK, "lo\n", 3);
		static char big[300];
		memset(big, 'x', sizeof(big));
		berth_ws_encode(&in, BERTH_WS_BINARY, true, MASK, big, sizeof(big));
		berth_ws_decoder d;
		berth_ws_decoder_init(&d, true);
		assert_int_equal(decode(&d, &in, bytewise, &data, &reply), BERTH_WS_OPEN);
		assert_int_equal(data.len, 6 + sizeof(big));
		assert_memory_equal(data.data, "hello\n", 6);
		assert_memory_equal(data.data + 6, big, sizeof(big));
		/* the ping's answer: an unmasked pong with its payload */
		assert_int_equal(reply.len, 4);
		assert_memory_equal(reply.data, "\x8a\x02p!", 4);
	}
}

static void test_decode_close_echoed(void **state)
{
	berth_buf in cleanup_buf = {0}, data cleanup_buf = {0}, reply cleanup_buf = {0};
	berth_ws_encode(&in, BERTH_WS_BINARY, true, MASK, "a", 1);
	berth_ws_encode_close(&in, 1001, MASK);
	berth_ws_encode(&in, BERTH_WS_BINARY, true, MASK, "ignored", 7);
	berth_ws_decoder d;
	berth_ws_decoder_init(&d, true);
	assert_int_equal(decode(&d, &in, false, &data, &reply), BERTH_WS_CLOSED);
	assert_int_equal(data.len, 1);
	assert_memory_equal(reply.data, "\x88\x02\x03\xe9", 4);
	/* nothing more is taken after a close */
	assert_int_equal(berth_ws_decode(&d, "\x82\x81", 2, &data, &reply), BERTH_WS_CLOSED);
	assert_int_equal(data.len, 1);
}

/* One bad frame after a good one: the good payload, then a 1002 close. */
static void expect_protocol_error(const void *bad, size_t len, bool server)
{
	berth_buf in cleanup_buf = {0}, data cleanup_buf = {0}, reply cleanup_buf = {0};
	berth_ws_encode(&in, BERTH_WS_BINARY, true, server ? MASK : NULL, "ok", 2);
	berth_buf_append(&in, bad, len);
	berth_ws_decoder d;
	berth_ws_decoder_init(&d, server);
	assert_int_equal(decode(&d, &in, false, &data, &reply), BERTH_WS_FAILED);
	assert_int_equal(data.len, 2);
	assert_int_equal(reply.len, 4);
	assert_memory_equal(reply.data, "\x88\x02\x03\xea", 4);
}

static void test_decode_bad_frames(void **state)
{
	/* unmasked from a client */
	expect_protocol_error("\x82\x01x", 3, true);
	/* masked from a server */
	expect_protocol_error("\x82\x81\0\0\0\0x", 7, false);
	/* RSV bits without an extension */
	expect_protocol_error("\xc2\x81\0\0\0\0x", 7, true);
	/* reserved opcodes, data and control */
	expect_protocol_error("\x83\x80\0\0\0\0", 6, true);
	expect_protocol_error("\x8b\x80\0\0\0\0", 6, true);
	/* a continuation with no message open */
	expect_protocol_error("\x80\x80\0\0\0\0", 6, true);
	/* a new message inside a fragmented one */
	expect_protocol_error("\x01\x80\0\0\0\0\x81\x80\0\0\0\0", 12, true);
	/* a fragmented control frame; a control frame over 125 bytes */
	expect_protocol_error("\x09\x80\0\0\0\0", 6, true);
	expect_protocol_error("\x89\xfe\x00\x7e", 4, true);
	/* a 64-bit length with its top bit set */
	expect_protocol_error("\x82\xff\x80\0\0\0\0\0\0\0" "\0\0\0\0", 14, true);
	/* a close with a 1-byte payload; with a code no peer may send */
	expect_protocol_error("\x88\x81\0\0\0\0\x03", 7, true);
	expect_protocol_error("\x88\x82\0\0\0\0\x03\xed", 8, true); /* 1005 */
	expect_protocol_error("\x88\x82\0\0\0\0\x00\x10", 8, true); /* 16 */
}

static void test_decode_garbage_never_crashes(void **state)
{
	/* every single-byte continuation of every header start */
	for (unsigned a = 0; a < 256; a++) {
		for (unsigned b = 0; b < 256; b += 7) {
			uint8_t in[16] = {(uint8_t)a, (uint8_t)b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					  0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
			berth_buf data cleanup_buf = {0}, reply cleanup_buf = {0};
			berth_ws_decoder d;
			berth_ws_decoder_init(&d, true);
			berth_ws_state st = berth_ws_decode(&d, in, sizeof(in), &data, &reply);
			/* a ping's pong may come first; a failure ends with a 1002 close */
			if (st == BERTH_WS_FAILED)
				assert_memory_equal(reply.data + reply.len - 4, "\x88\x02\x03\xea", 4);
			assert_true(data.len <= sizeof(in));
		}
	}
}

/* The shim's multiplexed stream: headers go, payloads become frames,
 * whatever the read boundaries. */
static void test_output_demultiplexed(void **state)
{
	static const char mux[] = "\x01\0\0\0\0\0\0\x03one"
				  "\x02\0\0\0\0\0\0\x04two\n"
				  "\x01\0\0\0\0\0\0\x00";
	for (size_t step = 1; step <= sizeof(mux); step++) {
		berth_ws_output o;
		berth_ws_output_init(&o, true, BERTH_WS_BINARY);
		berth_buf frames cleanup_buf = {0}, payload cleanup_buf = {0}, reply cleanup_buf = {0};
		for (size_t i = 0; i < sizeof(mux) - 1; i += step) {
			size_t n = sizeof(mux) - 1 - i < step ? sizeof(mux) - 1 - i : step;
			berth_ws_output_feed(&o, mux + i, n, &frames);
		}
		/* a client decoder reads them back */
		berth_ws_decoder d;
		berth_ws_decoder_init(&d, false);
		assert_int_equal(berth_ws_decode(&d, frames.data, frames.len, &payload, &reply),
				 BERTH_WS_OPEN);
		assert_int_equal(payload.len, 7);
		assert_memory_equal(payload.data, "onetwo\n", 7);
		assert_int_equal(reply.len, 0);
		assert_int_equal((uint8_t)frames.data[0], 0x82);
	}
}

static void test_output_raw_text(void **state)
{
	berth_ws_output o;
	berth_ws_output_init(&o, false, BERTH_WS_TEXT);
	berth_buf frames cleanup_buf = {0};
	berth_ws_output_feed(&o, "\x01\0tty", 5, &frames);
	berth_ws_output_feed(&o, "", 0, &frames);
	assert_int_equal(frames.len, 7);
	assert_memory_equal(frames.data, "\x81\x05\x01\0tty", 7);
}

static berth_api_req *ws_request(const char *path, const char *upgrade, const char *version)
{
	berth_api_req *req = berth_api_req_new("GET", path, strlen(path), "", 0);
	if (upgrade)
		berth_api_req_set_header(req, "Upgrade", upgrade);
	berth_api_req_set_header(req, "Connection", "keep-alive, Upgrade");
	berth_api_req_set_header(req, "Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
	if (version)
		berth_api_req_set_header(req, "Sec-WebSocket-Version", version);
	return req;
}

static void test_handshake(void **state)
{
	berth_error *err = NULL;
	berth_api_req *req = ws_request("/v1.47/containers/x/attach/ws?stdout=1", "WebSocket", "13");
	assert_int_equal(berth_api_websocket_begin(req, &err), 0);
	assert_string_equal(req->ws_accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
	assert_int_equal(req->ws_opcode, BERTH_WS_BINARY);
	assert_false(berth_api_query_bool(req, "stdin", false)); /* 1.42+: as asked */
	berth_api_req_free(req);

	/* before 1.42 every stream is attached; before 1.28 frames are text */
	req = ws_request("/v1.27/containers/x/attach/ws?stdin=0", "websocket", "13");
	assert_int_equal(berth_api_websocket_begin(req, &err), 0);
	assert_int_equal(req->ws_opcode, BERTH_WS_TEXT);
	assert_true(berth_api_query_bool(req, "stdin", false));
	assert_true(berth_api_query_bool(req, "stdout", false));
	assert_true(berth_api_query_bool(req, "stderr", false));
	berth_api_req_free(req);

	req = ws_request("/containers/x/attach/ws", NULL, "13");
	assert_int_equal(berth_api_websocket_begin(req, &err), -1);
	assert_int_equal(err->status, 400);
	berth_error_free(&err);
	berth_api_req_free(req);

	req = ws_request("/containers/x/attach/ws", "websocket", "8");
	assert_int_equal(berth_api_websocket_begin(req, &err), -1);
	assert_int_equal(err->status, 400);
	berth_error_free(&err);
	berth_api_req_free(req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_key),
		cmocka_unit_test(test_encode_lengths),
		cmocka_unit_test(test_decode_fragmented_masked),
		cmocka_unit_test(test_decode_close_echoed),
		cmocka_unit_test(test_decode_bad_frames),
		cmocka_unit_test(test_decode_garbage_never_crashes),
		cmocka_unit_test(test_output_demultiplexed),
		cmocka_unit_test(test_output_raw_text),
		cmocka_unit_test(test_handshake),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
