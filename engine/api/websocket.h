/*
 * websocket.h - RFC 6455 for GET /containers/{id}/attach/ws.
 *
 * The codec does no I/O, so that it can be tested and fuzzed alone: the
 * server's splice feeds it the client's bytes and the shim's output and
 * writes what it produces. Output frames carry the container's raw output
 * (the shim's 8-byte stream headers removed, stdout and stderr interleaved),
 * as dockerd sends them; input frames' payloads become the process's stdin.
 */
#ifndef BERTH_API_WEBSOCKET_H
#define BERTH_API_WEBSOCKET_H

#include "api.h"

enum {
	BERTH_WS_CONT = 0x0,
	BERTH_WS_TEXT = 0x1,
	BERTH_WS_BINARY = 0x2,
	BERTH_WS_CLOSE = 0x8,
	BERTH_WS_PING = 0x9,
	BERTH_WS_PONG = 0xa,
};

enum {
	BERTH_WS_CLOSE_NORMAL = 1000,
	BERTH_WS_CLOSE_PROTOCOL = 1002,
};

/* What the decoder makes of the peer so far. */
typedef enum berth_ws_state {
	BERTH_WS_OPEN,
	BERTH_WS_CLOSED,  /* the peer sent a close: the echo is in the reply */
	BERTH_WS_FAILED,  /* a protocol error: a close with its reason is in the reply */
} berth_ws_state;

/* The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key. */
void berth_ws_accept(const char *key, char out[29]);

/* Appends one frame; mask NULL sends it unmasked (server to client). */
void berth_ws_encode(berth_buf *out, unsigned opcode, bool fin, const uint8_t *mask,
		     const void *payload, size_t len);
/* Appends a close frame with a status code (0: no code). */
void berth_ws_encode_close(berth_buf *out, uint16_t code, const uint8_t *mask);

/*
 * An incremental decoder: bytes may arrive split anywhere. Data frames are
 * streamed (their payload is passed on as it comes, whatever its length);
 * control frames are answered (ping with pong, close with close). A server
 * decoder requires masked frames, a client one unmasked frames. Once the
 * state is not OPEN, further input is ignored.
 */
typedef struct berth_ws_decoder {
	bool server;
	berth_ws_state state;
	uint8_t hdr[14];
	size_t hdr_len;
	bool in_frame;        /* the header is read, the payload is coming */
	unsigned opcode;
	bool fin;
	uint8_t mask[4];
	bool masked;
	uint64_t left;        /* payload bytes still to come */
	uint64_t pos;         /* payload bytes seen, for the mask's phase */
	bool in_message;      /* a fragmented data message is open */
	uint8_t ctl[125];
	size_t ctl_len;
} berth_ws_decoder;

void berth_ws_decoder_init(berth_ws_decoder *d, bool server);
/* Feeds bytes: data payloads are appended to data, answers for the peer to
 * reply. Returns the state after them. */
berth_ws_state berth_ws_decode(berth_ws_decoder *d, const void *in, size_t len, berth_buf *data,
			       berth_buf *reply);

/*
 * The output side: the shim's attach stream turned into frames of opcode
 * (binary since API 1.28, text before, as dockerd). A multiplexed stream
 * (no TTY) loses its 8-byte headers; a raw one (TTY) is sent as it comes.
 */
typedef struct berth_ws_output {
	bool multiplexed;
	unsigned opcode;
	uint8_t hdr[8];
	size_t hdr_len;
	uint32_t left;        /* payload bytes of the current stream frame */
} berth_ws_output;

void berth_ws_output_init(berth_ws_output *o, bool multiplexed, unsigned opcode);
void berth_ws_output_feed(berth_ws_output *o, const void *in, size_t len, berth_buf *out);

/*
 * (request.c) Checks the request's handshake (GET with Upgrade: websocket, Connection:
 * upgrade, a Sec-WebSocket-Key and version 13; 400 otherwise) and marks it
 * so that berth_api_hijack answers "101 Switching Protocols" and frames the
 * splice. Before API 1.42 the stream selection is not read, as dockerd: all
 * of stdin, stdout and stderr are attached.
 */
int berth_api_websocket_begin(berth_api_req *req, berth_error **err);

#endif
