/*
 * libFuzzer target: the attach/ws codec. Input: a mode byte (bit 0: server
 * decoder, the rest: where to split the input), then the bytes, fed to the
 * frame decoder in two pieces and to the shim-stream demultiplexer. A bad
 * frame must end in a 1002 close, never a crash or a read past the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/api/websocket.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	bool server = data[0] & 1;
	data++;
	size--;
	size_t split = size ? (size_t)(data[-1] >> 1) % (size + 1) : 0;
	berth_buf payload = {0}, reply = {0}, frames = {0};
	berth_ws_decoder d;
	berth_ws_decoder_init(&d, server);
	berth_ws_decode(&d, data, split, &payload, &reply);
	berth_ws_state st = berth_ws_decode(&d, data + split, size - split, &payload, &reply);
	if (payload.len > size)
		abort();
	if (st == BERTH_WS_FAILED &&
	    (reply.len < 4 || memcmp(reply.data + reply.len - 4, "\x88\x02\x03\xea", 4) != 0))
		abort();
	berth_ws_output out;
	berth_ws_output_init(&out, true, BERTH_WS_BINARY);
	berth_ws_output_feed(&out, data, split, &frames);
	berth_ws_output_feed(&out, data + split, size - split, &frames);
	berth_buf_reset(&payload);
	berth_buf_reset(&reply);
	berth_buf_reset(&frames);
	return 0;
}
