/* Version prefixes, route matching and request decoding. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "engine/api/api.h"
#include "engine/engine.h"

static void split(const char *path, const char *want_version, size_t want_off, int want_status)
{
	char version[16];
	size_t off = 99;
	berth_error *err = NULL;
	int rc = berth_api_split_version(path, strlen(path), version, &off, &err);
	if (want_status) {
		assert_int_equal(rc, -1);
		assert_int_equal(err->status, want_status);
		berth_error_free(&err);
		return;
	}
	assert_int_equal(rc, 0);
	assert_string_equal(version, want_version);
	assert_int_equal(off, want_off);
}

static void test_split_version(void **state)
{
	split("/v1.47/version", "1.47", 6, 0);
	split("/v1.24/info", "1.24", 6, 0);
	split("/version", BERTH_API_VERSION, 0, 0);
	split("/v1.48/version", NULL, 0, 400);
	split("/v1.23/version", NULL, 0, 400);
	split("/v2/version", NULL, 0, 400);
	split("/volumes", BERTH_API_VERSION, 0, 0); /* 'v' then a letter: a route */
	split("/v1.4x/version", BERTH_API_VERSION, 0, 0);
}

static void test_split_version_message(void **state)
{
	char version[16];
	size_t off;
	berth_error *err = NULL;
	berth_api_split_version("/v1.99/x", 8, version, &off, &err);
	assert_string_equal(err->msg, "client version 1.99 is too new. Maximum supported API version is 1.47");
	berth_error_free(&err);
}

static void test_route_match(void **state)
{
	berth_api_match m;
	berth_error *err = NULL;
	assert_int_equal(berth_api_route_match("GET", "/_ping", 6, &m, &err), 0);
	assert_string_equal(m.route->pattern, "/_ping");
	berth_api_match_reset(&m);
	assert_int_equal(berth_api_route_match("HEAD", "/_ping", 6, &m, &err), 0);
	berth_api_match_reset(&m);
	assert_int_equal(berth_api_route_match("POST", "/_ping", 6, &m, &err), -1);
	assert_int_equal(err->status, 404);
	assert_string_equal(err->msg, "page not found");
	berth_error_free(&err);
	assert_int_equal(berth_api_route_match("GET", "", 0, &m, &err), -1);
	berth_error_free(&err);
	assert_int_equal(berth_api_route_match("GET", "/version/", 9, &m, &err), -1);
	berth_error_free(&err);
}

static void test_request_decoding(void **state)
{
	const char *url = "/v1.44/events?since=10&until=&filters=%7B%22type%22%3A%5B%22a%20b%22%5D%7D&flag&x=1+2";
	berth_api_req *req = berth_api_req_new("GET", url, strlen(url), NULL, 0);
	assert_string_equal(berth_api_version(req), "1.44");
	assert_true(berth_api_version_below(req, "1.45"));
	assert_false(berth_api_version_below(req, "1.44"));
	assert_string_equal(berth_api_query(req, "since"), "10");
	assert_string_equal(berth_api_query(req, "until"), "");
	assert_string_equal(berth_api_query(req, "filters"), "{\"type\":[\"a b\"]}");
	assert_string_equal(berth_api_query(req, "x"), "1 2");
	assert_true(berth_api_query_bool(req, "flag", false) == false); /* "" is false */
	assert_true(berth_api_query_bool(req, "since", false));
	assert_true(berth_api_query_bool(req, "absent", true));
	assert_null(berth_api_query(req, "nope"));
	int64_t n;
	berth_error *err = NULL;
	assert_int_equal(berth_api_query_int(req, "since", 0, &n, &err), 0);
	assert_int_equal(n, 10);
	assert_int_equal(berth_api_query_int(req, "filters", 0, &n, &err), -1);
	assert_int_equal(err->status, 400);
	berth_error_free(&err);
	berth_api_req_free(req);
}

static void test_dispatch_routing_errors(void **state)
{
	berth_api_req *req = berth_api_req_new("GET", "/nope", 5, NULL, 0);
	berth_api_dispatch(NULL, req);
	const char *body;
	assert_int_equal(berth_api_req_captured(req, &body, NULL), 404);
	assert_string_equal(body, "{\"message\":\"page not found\"}\n");
	berth_api_req_free(req);
	req = berth_api_req_new("GET", "/v9.0/_ping", 11, NULL, 0);
	berth_api_dispatch(NULL, req);
	assert_int_equal(berth_api_req_captured(req, NULL, NULL), 400);
	berth_api_req_free(req);
}

static void test_body_json(void **state)
{
	berth_error *err = NULL;
	json_t *j = NULL;
	berth_api_req *req = berth_api_req_new("POST", "/x", 2, "", 0);
	assert_int_equal(berth_api_body_json(req, true, &j, &err), 0);
	assert_true(json_is_object(j));
	json_decref(j);
	assert_int_equal(berth_api_body_json(req, false, &j, &err), -1);
	assert_int_equal(err->status, 400);
	berth_error_free(&err);
	berth_api_req_free(req);
	req = berth_api_req_new("POST", "/x", 2, "[1,2]", 5);
	assert_int_equal(berth_api_body_json(req, false, &j, &err), -1);
	assert_string_equal(err->msg, "invalid JSON: expected an object");
	berth_error_free(&err);
	berth_api_req_free(req);
	req = berth_api_req_new("POST", "/x", 2, "{\"a\":", 5);
	assert_int_equal(berth_api_body_json(req, false, &j, &err), -1);
	assert_true(strncmp(err->msg, "invalid JSON:", 13) == 0);
	berth_error_free(&err);
	berth_api_req_free(req);
}

/* A transport without a body file (tests, small bodies): the body is copied,
 * so it outlives the request; release is safe twice. */
static void test_body_keep_copies(void **state)
{
	char body[] = "layer bytes";
	berth_api_req *req = berth_api_req_new("POST", "/images/load", 12, body, sizeof(body) - 1);
	berth_api_kept_body kept;
	berth_api_body_keep(req, &kept);
	berth_api_req_free(req);
	memset(body, 'x', sizeof(body) - 1);
	assert_null(kept.map);
	assert_int_equal(kept.len, 11);
	assert_memory_equal(kept.data, "layer bytes", 11);
	berth_api_body_release(&kept);
	assert_null(kept.data);
	berth_api_body_release(&kept);
	req = berth_api_req_new("POST", "/images/load", 12, NULL, 0);
	berth_api_body_keep(req, &kept);
	assert_int_equal(kept.len, 0);
	assert_non_null(kept.data);
	berth_api_body_release(&kept);
	berth_api_req_free(req);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_version),
		cmocka_unit_test(test_split_version_message),
		cmocka_unit_test(test_route_match),
		cmocka_unit_test(test_request_decoding),
		cmocka_unit_test(test_dispatch_routing_errors),
		cmocka_unit_test(test_body_json),
		cmocka_unit_test(test_body_keep_copies),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
