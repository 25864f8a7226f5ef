/*
 * libFuzzer target: request decoding and routing, JSON bodies, filters and
 * event matching, time arguments. Input: "METHOD PATH?QUERY\nBODY".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "engine/api/api.h"
#include "engine/api/internal.h"
#include "engine/engine.h"

static void exercise_query(berth_api_req *req)
{
	berth_error *err = NULL;
	berth_filters *f = NULL;
	if (berth_filters_parse(berth_api_query(req, "filters"), &f, &err) == 0) {
		json_t *msg = json_pack("{s:s, s:s, s:s, s:{s:s, s:{s:s, s:s}}}", "Type", "container",
					"Action", "start", "scope", "local", "Actor", "ID", "abc",
					"Attributes", "name", "web", "image", "busybox");
		(void)berth_api_event_matches(msg, f);
		char *enc = berth_filters_encode(f);
		free(enc);
		json_decref(msg);
		berth_filters_free(f);
	}
	berth_error_free(&err);
	int64_t t;
	const char *since = berth_api_query(req, "since");
	if (since)
		berth_time_parse(since, 0, &t, &err);
	berth_error_free(&err);
	(void)berth_api_query_bool(req, "all", false);
	(void)berth_api_query_int(req, "limit", 0, &t, &err);
	berth_error_free(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	const char *nl = memchr(s, '\n', size);
	size_t line = nl ? (size_t)(nl - s) : size;
	const char *sp = memchr(s, ' ', line);
	if (sp == NULL)
		return 0;
	char *method = strndup(s, (size_t)(sp - s));
	const char *path = sp + 1;
	size_t path_len = line - (size_t)(path - s);
	const char *body = nl ? nl + 1 : NULL;
	size_t body_len = nl ? size - line - 1 : 0;
	berth_api_req *req = berth_api_req_new(method, path, path_len, body, body_len);
	exercise_query(req);
	json_t *j = NULL;
	berth_error *err = NULL;
	if (berth_api_body_json(req, true, &j, &err) == 0)
		json_decref(j);
	berth_error_free(&err);
	(void)berth_api_param(req, "id");
	(void)berth_api_param(req, "name");
	/* routing errors are replied through the capturing transport; handlers
	 * need a daemon and are exercised by the integration tests */
	if (req->route_err)
		berth_api_dispatch(NULL, req);
	berth_api_req_free(req);
	free(method);
	return 0;
}
