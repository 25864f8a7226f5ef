/*
 * events.c - the store's event queue. Volumes change on pool threads, but
 * the event bus lives on the loop: events wait here and an async handle
 * (or a handler's explicit flush) publishes them on the loop.
 */
#include <stdlib.h>

#include "engine/engine.h"
#include "internal.h"

void events_queue(berth_volume_store *s, const char *action, const char *id, json_t *attrs)
{
	json_t *ev = json_pack("{s:s, s:s, s:o}", "Action", action, "ID", id ? id : "",
			       "Attributes", attrs ? attrs : json_object());
	pthread_mutex_lock(&s->ev_mu);
	json_array_append_new(s->events, ev);
	if (s->async)
		uv_async_send(s->async);
	pthread_mutex_unlock(&s->ev_mu);
}

json_t *berth_volume_events_take(berth_volume_store *s)
{
	pthread_mutex_lock(&s->ev_mu);
	json_t *out = s->events;
	s->events = json_array();
	pthread_mutex_unlock(&s->ev_mu);
	return out;
}

void berth_volume_events_flush(berth_volume_store *s)
{
	if (s == NULL || s->bus == NULL)
		return;
	json_t *events = berth_volume_events_take(s);
	size_t i;
	json_t *ev;
	json_array_foreach(events, i, ev) {
		json_t *attrs = json_object_get(ev, "Attributes");
		berth_events_publish(s->bus, "volume", berth_json_string(ev, "Action"),
				     berth_json_string(ev, "ID"), json_incref(attrs));
	}
	json_decref(events);
}

static void on_async(uv_async_t *h)
{
	berth_volume_events_flush(h->data);
}

static void free_handle(uv_handle_t *h)
{
	free(h);
}

void berth_volume_store_publish_to(berth_volume_store *s, uv_loop_t *loop, struct berth_events *bus)
{
	uv_async_t *h = berth_xcalloc(1, sizeof(*h));
	uv_async_init(loop, h, on_async);
	h->data = s;
	/* The queue must not keep the loop alive at shutdown. */
	uv_unref((uv_handle_t *)h);
	pthread_mutex_lock(&s->ev_mu);
	s->async = h;
	s->bus = bus;
	pthread_mutex_unlock(&s->ev_mu);
	uv_async_send(h); /* what was queued before */
}

/* The daemon closes every handle of its loop before it frees the stores;
 * otherwise close ours here (still on the loop thread). */
void events_close(berth_volume_store *s)
{
	uv_async_t *h = s->async;
	s->async = NULL;
	s->bus = NULL;
	if (h == NULL)
		return;
	if (uv_is_closing((uv_handle_t *)h))
		free(h); /* closed by the daemon's walk, its loop already gone */
	else
		uv_close((uv_handle_t *)h, free_handle);
}
