/* pump.c - see pump.h. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "engine/engine.h"
#include "pump.h"

#define QUEUE_LIMIT ((size_t)4 << 20)  /* the worker waits above this */
#define STREAM_LIMIT ((size_t)8 << 20) /* unsent bytes we let the stream hold */
#define DRAIN_POLL_MS 5

struct pump {
	uv_async_t async;
	uv_timer_t timer;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	berth_buf queue;     /* worker -> loop, under mu */
	bool gone;           /* the client went away, under mu */
	int open_handles;
	berth_api_stream *stream; /* loop only; NULL once closed or ended */
};

static void on_client_gone(berth_api_stream *s, void *userdata)
{
	pump *p = userdata;
	p->stream = NULL;
	pthread_mutex_lock(&p->mu);
	p->gone = true;
	berth_buf_reset(&p->queue);
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->mu);
}

static void drain(pump *p);

static void on_timer(uv_timer_t *t)
{
	drain(t->data);
}

/* Moves queued bytes to the stream while it is not backed up; polls until
 * it drains otherwise (streams have no drain callback). */
static void drain(pump *p)
{
	if (p->stream == NULL)
		return;
	if (berth_api_stream_pending(p->stream) > STREAM_LIMIT) {
		uv_timer_start(&p->timer, on_timer, DRAIN_POLL_MS, 0);
		return;
	}
	pthread_mutex_lock(&p->mu);
	berth_buf out = p->queue;
	memset(&p->queue, 0, sizeof(p->queue));
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->mu);
	if (out.len)
		berth_api_stream_write(p->stream, out.data, out.len);
	berth_buf_reset(&out);
}

static void on_async(uv_async_t *a)
{
	drain(a->data);
}

pump *pump_start(berth_daemon *d, berth_api_req *req, const char *content_type)
{
	pump *p = berth_xcalloc(1, sizeof(*p));
	p->stream = berth_api_stream_start(req, 200, content_type, on_client_gone, p);
	if (p->stream == NULL) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cond, NULL);
	uv_async_init(d->loop, &p->async, on_async);
	uv_timer_init(d->loop, &p->timer);
	p->async.data = p;
	p->timer.data = p;
	p->open_handles = 2;
	return p;
}

int pump_write(pump *p, const void *data, size_t len, berth_error **err)
{
	pthread_mutex_lock(&p->mu);
	while (!p->gone && p->queue.len > QUEUE_LIMIT)
		pthread_cond_wait(&p->cond, &p->mu);
	bool gone = p->gone;
	if (!gone)
		berth_buf_append(&p->queue, data, len);
	pthread_mutex_unlock(&p->mu);
	if (gone)
		return berth_error_set(err, 499, "the client went away");
	uv_async_send(&p->async);
	return 0;
}

static void on_closed(uv_handle_t *h)
{
	pump *p = h->data;
	if (--p->open_handles > 0)
		return;
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cond);
	berth_buf_reset(&p->queue);
	free(p);
}

void pump_finish(pump *p, const void *tail, size_t tail_len)
{
	uv_timer_stop(&p->timer);
	if (p->stream) {
		/* the worker is done: the rest goes out whatever the backlog
		 * (a write may find the client gone, which takes mu) */
		pthread_mutex_lock(&p->mu);
		berth_buf out = p->queue;
		memset(&p->queue, 0, sizeof(p->queue));
		pthread_mutex_unlock(&p->mu);
		if (out.len)
			berth_api_stream_write(p->stream, out.data, out.len);
		berth_buf_reset(&out);
		if (p->stream && tail_len)
			berth_api_stream_write(p->stream, tail, tail_len);
		if (p->stream)
			berth_api_stream_end(p->stream);
		p->stream = NULL;
	}
	uv_close((uv_handle_t *)&p->async, on_closed);
	uv_close((uv_handle_t *)&p->timer, on_closed);
}
