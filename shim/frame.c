/* frame.c - Docker's stream multiplexing (stdcopy): an 8-byte header, then
 * the payload. The header is {stream, 0, 0, 0, big-endian uint32 length}. */
#include "shim/internal.h"

void berth_shim_frame_header(uint8_t hdr[BERTH_SHIM_FRAME_HEADER], int stream, uint32_t len)
{
	hdr[0] = (uint8_t)stream;
	hdr[1] = hdr[2] = hdr[3] = 0;
	hdr[4] = (uint8_t)(len >> 24);
	hdr[5] = (uint8_t)(len >> 16);
	hdr[6] = (uint8_t)(len >> 8);
	hdr[7] = (uint8_t)len;
}

long berth_shim_frame_parse(const void *buf, size_t len, int *stream, const char **payload,
			    size_t *payload_len)
{
	const uint8_t *b = buf;
	if (len < BERTH_SHIM_FRAME_HEADER)
		return 0;
	if (b[0] > BERTH_SHIM_STDERR)
		return -1;
	uint32_t n = (uint32_t)b[4] << 24 | (uint32_t)b[5] << 16 | (uint32_t)b[6] << 8 | b[7];
	if (len - BERTH_SHIM_FRAME_HEADER < n)
		return 0;
	*stream = b[0];
	*payload = (const char *)b + BERTH_SHIM_FRAME_HEADER;
	*payload_len = n;
	return (long)(BERTH_SHIM_FRAME_HEADER + n);
}
