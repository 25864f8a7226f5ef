/* The event bus and /events filter matching. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "engine/api/api.h"
#include "engine/engine.h"

typedef struct seen {
	int n;
	char actions[16][32];
} seen;

static void record(const json_t *msg, void *ud)
{
	seen *s = ud;
	if (s->n < 16)
		snprintf(s->actions[s->n], 32, "%s", berth_json_string(msg, "Action"));
	s->n++;
}

static void test_publish_subscribe(void **state)
{
	berth_events *bus = berth_events_new(4);
	seen a = {0}, b = {0};
	berth_events_sub *sa = berth_events_subscribe(bus, record, &a);
	berth_events_subscribe(bus, record, &b);
	assert_int_equal(berth_events_listeners(bus), 2);
	berth_events_publish(bus, "container", "start", "abc", json_pack("{s:s}", "image", "busybox"));
	berth_events_unsubscribe(bus, sa);
	berth_events_publish(bus, "daemon", "reload", "id", NULL);
	assert_int_equal(a.n, 1);
	assert_int_equal(b.n, 2);
	assert_string_equal(b.actions[1], "reload");
	assert_int_equal(berth_events_listeners(bus), 1);
	berth_events_free(bus);
}

static void test_history_ring(void **state)
{
	berth_events *bus = berth_events_new(3);
	const char *actions[] = {"a", "b", "c", "d", "e"};
	for (size_t i = 0; i < 5; i++)
		berth_events_publish(bus, "daemon", actions[i], "id", NULL);
	seen s = {0};
	berth_events_replay(bus, 0, INT64_MAX, record, &s);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.actions[0], "c");
	assert_string_equal(s.actions[2], "e");
	seen none = {0};
	berth_events_replay(bus, INT64_MAX - 1, INT64_MAX, record, &none);
	assert_int_equal(none.n, 0);
	berth_events_free(bus);
}

static void capture_last(const json_t *msg, void *ud)
{
	json_t **out = ud;
	json_decref(*out);
	*out = json_incref((json_t *)msg);
}

static bool matches(const json_t *msg, const char *filters)
{
	berth_filters *f = NULL;
	berth_error *err = NULL;
	assert_int_equal(berth_filters_parse(filters, &f, &err), 0);
	bool m = berth_api_event_matches(msg, f);
	berth_filters_free(f);
	return m;
}

static void test_message_shape_and_filters(void **state)
{
	berth_events *bus = berth_events_new(8);
	json_t *msg = NULL;
	berth_events_subscribe(bus, capture_last, &msg);
	berth_events_publish(bus, "container", "start", "0123456789abcdef",
			     json_pack("{s:s, s:s, s:s}", "image", "busybox", "name", "web", "com.x", "1"));
	assert_string_equal(berth_json_string(msg, "status"), "start");
	assert_string_equal(berth_json_string(msg, "from"), "busybox");
	assert_string_equal(berth_json_string(msg, "scope"), "local");
	assert_true(json_integer_value(json_object_get(msg, "timeNano")) > 0);

	assert_true(matches(msg, NULL));
	assert_true(matches(msg, "{\"type\":[\"container\"]}"));
	assert_false(matches(msg, "{\"type\":[\"image\"]}"));
	assert_true(matches(msg, "{\"event\":[\"start\",\"die\"]}"));
	assert_false(matches(msg, "{\"event\":[\"die\"]}"));
	assert_true(matches(msg, "{\"container\":[\"web\"]}"));
	assert_true(matches(msg, "{\"container\":[\"0123\"]}"));
	assert_false(matches(msg, "{\"container\":[\"db\"]}"));
	assert_true(matches(msg, "{\"image\":[\"busybox\"]}"));
	assert_false(matches(msg, "{\"image\":[\"alpine\"]}"));
	assert_true(matches(msg, "{\"label\":[\"com.x=1\"]}"));
	assert_false(matches(msg, "{\"label\":[\"com.x=2\"]}"));
	assert_false(matches(msg, "{\"network\":[\"web\"]}"));
	assert_false(matches(msg, "{\"daemon\":[\"x\"]}"));

	berth_events_publish(bus, "daemon", "reload", "engine-id", json_pack("{s:s}", "name", "host1"));
	assert_null(json_object_get(msg, "status"));
	assert_true(matches(msg, "{\"daemon\":[\"host1\"]}"));
	assert_true(matches(msg, "{\"daemon\":[\"engine\"]}"));
	json_decref(msg);
	berth_events_free(bus);
}

static void test_time_strictly_increases(void **state)
{
	berth_events *bus = berth_events_new(8);
	json_t *msg = NULL;
	berth_events_subscribe(bus, capture_last, &msg);
	berth_events_publish(bus, "daemon", "a", "x", NULL);
	json_int_t t1 = json_integer_value(json_object_get(msg, "timeNano"));
	berth_events_publish(bus, "daemon", "b", "x", NULL);
	json_int_t t2 = json_integer_value(json_object_get(msg, "timeNano"));
	assert_true(t2 > t1);
	json_decref(msg);
	berth_events_free(bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_publish_subscribe),
		cmocka_unit_test(test_history_ring),
		cmocka_unit_test(test_message_shape_and_filters),
		cmocka_unit_test(test_time_strictly_increases),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
