/*
 * pump.h - bytes produced on a pool thread, written to a stream on the loop.
 *
 * A long handler (load's progress, save's archive) starts its stream on the
 * loop, creates a pump, and defers its work; the work calls pump_write from
 * the pool thread, which blocks while too much is queued (back-pressure from
 * a slow client) and fails once the client has gone. The done callback calls
 * pump_finish, which flushes what is left, ends the stream and frees the
 * pump once libuv has closed its handles.
 */
#ifndef BERTH_API_PUMP_H
#define BERTH_API_PUMP_H

#include "api.h"

typedef struct pump pump;

/* Starts the stream (status 200, content_type) and the pump. NULL when the
 * stream could not start. */
pump *pump_start(berth_daemon *d, berth_api_req *req, const char *content_type);
/* Pool thread: queues bytes. -1 with *err once the client has gone. */
int pump_write(pump *p, const void *data, size_t len, berth_error **err);
/* Loop: writes what is queued, then `tail` (may be NULL), ends the stream
 * and releases the pump. */
void pump_finish(pump *p, const void *tail, size_t tail_len);

#endif
