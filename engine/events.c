/* events.c - the in-process event bus (see engine.h). */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

struct berth_events_sub {
	berth_events_cb cb;
	void *userdata;
	berth_events_sub *next;
	bool dead;
};

struct berth_events {
	json_t **ring;          /* the last `cap` messages, oldest at `head` */
	size_t cap, head, count;
	berth_events_sub *subs;
	int publishing;         /* >0 while callbacks run: unlink later */
	int64_t last_ns;        /* keeps timeNano strictly increasing */
};

berth_events *berth_events_new(size_t history)
{
	berth_events *bus = berth_xcalloc(1, sizeof(*bus));
	bus->cap = history ? history : 1;
	bus->ring = berth_xcalloc(bus->cap, sizeof(json_t *));
	return bus;
}

void berth_events_free(berth_events *bus)
{
	if (bus == NULL)
		return;
	for (size_t i = 0; i < bus->count; i++)
		json_decref(bus->ring[(bus->head + i) % bus->cap]);
	free(bus->ring);
	for (berth_events_sub *s = bus->subs, *next; s; s = next) {
		next = s->next;
		free(s);
	}
	free(bus);
}

static json_t *event_message(berth_events *bus, const char *type, const char *action,
			     const char *actor_id, json_t *attributes)
{
	int64_t now = berth_time_now_ns();
	if (now <= bus->last_ns)
		now = bus->last_ns + 1;
	bus->last_ns = now;
	json_t *attrs = attributes ? attributes : json_object();
	json_t *msg = json_pack("{s:s, s:s, s:{s:s, s:o}, s:s, s:I, s:I}", "Type", type, "Action",
				action, "Actor", "ID", actor_id ? actor_id : "", "Attributes", attrs,
				"scope", "local", "time", (json_int_t)(now / 1000000000LL), "timeNano",
				(json_int_t)now);
	/* API < 1.22 fields that the docker CLI still reads for these types */
	if (strcmp(type, "container") == 0 || strcmp(type, "image") == 0) {
		json_object_set_new(msg, "status", json_string(action));
		json_object_set_new(msg, "id", json_string(actor_id ? actor_id : ""));
		const char *from = berth_json_string(attrs, "image");
		if (from)
			json_object_set_new(msg, "from", json_string(from));
	}
	return msg;
}

static void remember(berth_events *bus, json_t *msg)
{
	if (bus->count == bus->cap) {
		json_decref(bus->ring[bus->head]);
		bus->ring[bus->head] = json_incref(msg);
		bus->head = (bus->head + 1) % bus->cap;
	} else {
		bus->ring[(bus->head + bus->count) % bus->cap] = json_incref(msg);
		bus->count++;
	}
}

static void reap_dead(berth_events *bus)
{
	for (berth_events_sub **p = &bus->subs; *p;) {
		if ((*p)->dead) {
			berth_events_sub *s = *p;
			*p = s->next;
			free(s);
		} else {
			p = &(*p)->next;
		}
	}
}

void berth_events_publish(berth_events *bus, const char *type, const char *action,
			  const char *actor_id, json_t *attributes)
{
	json_t *msg cleanup_json = event_message(bus, type, action, actor_id, attributes);
	remember(bus, msg);
	bus->publishing++;
	for (berth_events_sub *s = bus->subs; s; s = s->next) {
		if (!s->dead)
			s->cb(msg, s->userdata);
	}
	if (--bus->publishing == 0)
		reap_dead(bus);
}

berth_events_sub *berth_events_subscribe(berth_events *bus, berth_events_cb cb, void *userdata)
{
	berth_events_sub *s = berth_xcalloc(1, sizeof(*s));
	s->cb = cb;
	s->userdata = userdata;
	s->next = bus->subs;
	bus->subs = s;
	return s;
}

void berth_events_unsubscribe(berth_events *bus, berth_events_sub *sub)
{
	if (sub == NULL)
		return;
	sub->dead = true;
	if (bus->publishing == 0)
		reap_dead(bus);
}

void berth_events_replay(berth_events *bus, int64_t since_ns, int64_t until_ns,
			 berth_events_cb cb, void *userdata)
{
	for (size_t i = 0; i < bus->count; i++) {
		json_t *msg = bus->ring[(bus->head + i) % bus->cap];
		int64_t t = json_integer_value(json_object_get(msg, "timeNano"));
		if (t >= since_ns && t <= until_ns)
			cb(msg, userdata);
	}
}

size_t berth_events_listeners(const berth_events *bus)
{
	size_t n = 0;
	for (const berth_events_sub *s = bus->subs; s; s = s->next)
		n += !s->dead;
	return n;
}
