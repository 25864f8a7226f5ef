/*
 * websocket.c - the RFC 6455 codec behind attach/ws (see websocket.h); it
 * needs only common/ and libcrypto, so that it is fuzzed alone. Written here
 * rather than through h2o's websocket support: that needs wslay's headers
 * and owns the socket, while attach needs the splice's flow control with
 * the shim's socket.
 */
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>

#include "websocket.h"

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

void berth_ws_accept(const char *key, char out[29])
{
	char *s cleanup_free = berth_xasprintf("%s%s", key, WS_GUID);
	unsigned char md[SHA_DIGEST_LENGTH];
	SHA1((const unsigned char *)s, strlen(s), md);
	EVP_EncodeBlock((unsigned char *)out, md, sizeof(md));
}

void berth_ws_encode(berth_buf *out, unsigned opcode, bool fin, const uint8_t *mask,
		     const void *payload, size_t len)
{
	uint8_t h[14];
	size_t n = 2;
	h[0] = (uint8_t)((fin ? 0x80 : 0) | (opcode & 0x0f));
	if (len < 126) {
		h[1] = (uint8_t)len;
	} else if (len <= 0xffff) {
		h[1] = 126;
		h[n++] = (uint8_t)(len >> 8);
		h[n++] = (uint8_t)len;
	} else {
		h[1] = 127;
		for (int shift = 56; shift >= 0; shift -= 8)
			h[n++] = (uint8_t)((uint64_t)len >> shift);
	}
	if (mask) {
		h[1] |= 0x80;
		memcpy(h + n, mask, 4);
		n += 4;
	}
	berth_buf_append(out, h, n);
	if (len == 0)
		return;
	size_t at = out->len;
	berth_buf_append(out, payload, len);
	if (mask) {
		uint8_t *p = (uint8_t *)out->data + at;
		for (size_t i = 0; i < len; i++)
			p[i] ^= mask[i & 3];
	}
}

void berth_ws_encode_close(berth_buf *out, uint16_t code, const uint8_t *mask)
{
	uint8_t p[2] = {(uint8_t)(code >> 8), (uint8_t)code};
	berth_ws_encode(out, BERTH_WS_CLOSE, true, mask, p, code ? 2 : 0);
}

/* ----------------------------------------------------------------- decoder */

void berth_ws_decoder_init(berth_ws_decoder *d, bool server)
{
	memset(d, 0, sizeof(*d));
	d->server = server;
}

static berth_ws_state ws_fail(berth_ws_decoder *d, berth_buf *reply)
{
	berth_ws_encode_close(reply, BERTH_WS_CLOSE_PROTOCOL, NULL);
	return d->state = BERTH_WS_FAILED;
}

static bool is_control(unsigned opcode)
{
	return opcode & 0x8;
}

/* The codes a peer may send (RFC 6455 7.4): not the reserved ones, nor
 * those that only describe a connection locally (1005, 1006, 1015). */
static bool close_code_valid(unsigned code)
{
	if (code >= 3000 && code <= 4999)
		return true;
	return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006;
}

static berth_ws_state ws_control(berth_ws_decoder *d, berth_buf *reply)
{
	switch (d->opcode) {
	case BERTH_WS_PING:
		berth_ws_encode(reply, BERTH_WS_PONG, true, NULL, d->ctl, d->ctl_len);
		return d->state;
	case BERTH_WS_PONG:
		return d->state;
	default: /* close: echo its code */
		if (d->ctl_len == 1)
			return ws_fail(d, reply);
		if (d->ctl_len == 0) {
			berth_ws_encode_close(reply, 0, NULL);
			return d->state = BERTH_WS_CLOSED;
		}
		unsigned code = (unsigned)d->ctl[0] << 8 | d->ctl[1];
		if (!close_code_valid(code))
			return ws_fail(d, reply);
		berth_ws_encode_close(reply, (uint16_t)code, NULL);
		return d->state = BERTH_WS_CLOSED;
	}
}

/* Bytes of header needed, given what is read: 2, then the length's and
 * the mask's. */
static size_t header_size(const berth_ws_decoder *d)
{
	if (d->hdr_len < 2)
		return 2;
	size_t n = 2;
	unsigned len7 = d->hdr[1] & 0x7f;
	n += len7 == 126 ? 2 : len7 == 127 ? 8 : 0;
	return n + ((d->hdr[1] & 0x80) ? 4 : 0);
}

/* The first two bytes: everything that can be refused before the rest. */
static bool header_start_valid(const berth_ws_decoder *d)
{
	unsigned opcode = d->hdr[0] & 0x0f;
	bool fin = d->hdr[0] & 0x80;
	bool masked = d->hdr[1] & 0x80;
	if (d->hdr[0] & 0x70) /* RSV1-3: no extension was negotiated */
		return false;
	if (masked != d->server)
		return false;
	if (is_control(opcode))
		return opcode <= BERTH_WS_PONG && fin && (d->hdr[1] & 0x7f) <= 125;
	if (opcode == BERTH_WS_CONT)
		return d->in_message;
	return (opcode == BERTH_WS_TEXT || opcode == BERTH_WS_BINARY) && !d->in_message;
}

/* The whole header is read: starts the payload. */
static bool header_finish(berth_ws_decoder *d)
{
	unsigned len7 = d->hdr[1] & 0x7f;
	size_t n = 2;
	d->opcode = d->hdr[0] & 0x0f;
	d->fin = d->hdr[0] & 0x80;
	d->masked = d->hdr[1] & 0x80;
	if (len7 < 126) {
		d->left = len7;
	} else {
		size_t bytes = len7 == 126 ? 2 : 8;
		d->left = 0;
		for (size_t i = 0; i < bytes; i++)
			d->left = d->left << 8 | d->hdr[n++];
		if (d->left >> 63)
			return false;
	}
	if (d->masked)
		memcpy(d->mask, d->hdr + n, 4);
	d->pos = 0;
	d->ctl_len = 0;
	d->in_frame = true;
	return true;
}

/* The frame's payload is all read. */
static berth_ws_state frame_end(berth_ws_decoder *d, berth_buf *reply)
{
	d->in_frame = false;
	d->hdr_len = 0;
	if (is_control(d->opcode))
		return ws_control(d, reply);
	d->in_message = !d->fin;
	return d->state;
}

static size_t payload_feed(berth_ws_decoder *d, const uint8_t *p, size_t len, berth_buf *data)
{
	size_t n = len < d->left ? len : (size_t)d->left;
	uint8_t *dst;
	if (is_control(d->opcode)) {
		dst = d->ctl + d->ctl_len;
		d->ctl_len += n;
		memcpy(dst, p, n);
	} else {
		size_t at = data->len;
		berth_buf_append(data, p, n);
		dst = (uint8_t *)data->data + at;
	}
	if (d->masked) {
		for (size_t i = 0; i < n; i++)
			dst[i] ^= d->mask[(d->pos + i) & 3];
	}
	d->pos += n;
	d->left -= n;
	return n;
}

berth_ws_state berth_ws_decode(berth_ws_decoder *d, const void *in, size_t len, berth_buf *data,
			       berth_buf *reply)
{
	const uint8_t *p = in;
	while (d->state == BERTH_WS_OPEN && (len > 0 || (d->in_frame && d->left == 0))) {
		if (d->in_frame) {
			size_t n = payload_feed(d, p, len, data);
			p += n;
			len -= n;
			if (d->left == 0)
				frame_end(d, reply);
			continue;
		}
		d->hdr[d->hdr_len++] = *p++;
		len--;
		if (d->hdr_len == 2 && !header_start_valid(d))
			return ws_fail(d, reply);
		if (d->hdr_len == header_size(d) && !header_finish(d))
			return ws_fail(d, reply);
	}
	return d->state;
}

/* ------------------------------------------------------------------ output */

void berth_ws_output_init(berth_ws_output *o, bool multiplexed, unsigned opcode)
{
	memset(o, 0, sizeof(*o));
	o->multiplexed = multiplexed;
	o->opcode = opcode;
}

void berth_ws_output_feed(berth_ws_output *o, const void *in, size_t len, berth_buf *out)
{
	const uint8_t *p = in;
	if (!o->multiplexed) {
		if (len)
			berth_ws_encode(out, o->opcode, true, NULL, p, len);
		return;
	}
	while (len > 0) {
		if (o->left == 0) {
			o->hdr[o->hdr_len++] = *p++;
			len--;
			if (o->hdr_len == sizeof(o->hdr)) {
				o->left = (uint32_t)o->hdr[4] << 24 | (uint32_t)o->hdr[5] << 16 |
					  (uint32_t)o->hdr[6] << 8 | o->hdr[7];
				o->hdr_len = 0;
			}
			continue;
		}
		size_t n = len < o->left ? len : o->left;
		berth_ws_encode(out, o->opcode, true, NULL, p, n);
		p += n;
		len -= n;
		o->left -= (uint32_t)n;
	}
}
