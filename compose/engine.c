/*
 * engine.c - a canonical service as the Engine API sees it: the body of
 * POST /containers/create with Compose v2's labels and names, and the
 * requests every command shares (one JSON call, the project's containers).
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

/* ---------------------------------------------------------------- requests */

int compose_api(berth_client *cl, const char *method, const char *path, const json_t *body,
		json_t **out, berth_error **err)
{
	char *text cleanup_free = body ? json_dumps(body, JSON_COMPACT) : NULL;
	berth_client_response resp = {0};
	int r = berth_client_request(cl, method, path, text ? "application/json" : NULL, text,
				     text ? strlen(text) : 0, &resp, err);
	if (r < 0)
		return -1;
	if (resp.status >= 400) {
		char *msg cleanup_free = berth_client_error_message(&resp);
		int status = (int)resp.status;
		berth_client_response_reset(&resp);
		return berth_error_set(err, status, "Error response from daemon: %s", msg);
	}
	if (out) {
		json_error_t jerr;
		*out = resp.body.len ? json_loadb(resp.body.data, resp.body.len, JSON_DECODE_ANY, &jerr)
				     : json_null();
		if (*out == NULL)
			*out = json_null();
	}
	berth_client_response_reset(&resp);
	return 0;
}

int compose_client_new(const berth_compose_ctx *c, berth_client **out, berth_error **err)
{
	if (berth_client_new(c->host, c->tls, out, err) < 0)
		return -1;
	if (c->api_version)
		berth_client_set_version(*out, c->api_version);
	return 0;
}

void compose_progress(const berth_compose_ctx *c, const char *kind, const char *name,
		      const char *state)
{
	/* one fprintf: lines from parallel services do not interleave */
	fprintf(c->io.err, " %s %s  %s\n", kind, name, state);
	fflush(c->io.err);
}

/* ------------------------------------------------------------- containers */

static int by_service_number(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int s = strcmp(compose_label(x, COMPOSE_LABEL_SERVICE), compose_label(y, COMPOSE_LABEL_SERVICE));
	if (s)
		return s;
	return atoi(compose_label(x, COMPOSE_LABEL_NUMBER)) - atoi(compose_label(y, COMPOSE_LABEL_NUMBER));
}

const char *compose_label(const json_t *container, const char *label)
{
	const char *v = berth_json_string(json_object_get(container, "Labels"), label);
	return v ? v : "";
}

const char *compose_container_name(const json_t *container)
{
	const char *n = json_string_value(json_array_get(json_object_get(container, "Names"), 0));
	return n ? (n[0] == '/' ? n + 1 : n) : "";
}

bool compose_wanted(char *const *services, const char *name)
{
	if (services == NULL || services[0] == NULL)
		return true;
	for (char *const *s = services; *s; s++)
		if (strcmp(*s, name) == 0)
			return true;
	return false;
}

int compose_list(berth_client *cl, const char *project, char *const *services, bool all,
		 bool oneoff, json_t **out, berth_error **err)
{
	json_t *labels = json_object();
	json_t *filters cleanup_json = json_pack("{so}", "label", labels);
	char *pl cleanup_free = berth_xasprintf(COMPOSE_LABEL_PROJECT "=%s", project);
	json_object_set_new(labels, pl, json_true());
	if (!oneoff)
		json_object_set_new(labels, COMPOSE_LABEL_ONEOFF "=False", json_true());
	char *f cleanup_free = json_dumps(filters, JSON_COMPACT);
	char *q cleanup_free = berth_url_encode(f);
	char *path cleanup_free = berth_xasprintf("/containers/json?all=%d&filters=%s", all, q);
	json_t *list cleanup_json = NULL;
	if (compose_api(cl, "GET", path, NULL, &list, err) < 0)
		return -1;
	size_t n = json_array_size(list), i, k = 0;
	json_t **items = berth_xcalloc(n + 1, sizeof(json_t *));
	json_t *v;
	json_array_foreach(list, i, v)
		if (compose_wanted(services, compose_label(v, COMPOSE_LABEL_SERVICE)))
			items[k++] = v;
	qsort(items, k, sizeof(json_t *), by_service_number);
	json_t *sorted = json_array();
	for (i = 0; i < k; i++)
		json_array_append(sorted, items[i]);
	free(items);
	*out = sorted;
	return 0;
}

int berth_compose_containers(berth_compose_ctx *c, char *const *services, bool all, bool oneoff,
			     json_t **out, berth_error **err)
{
	return compose_list(c->client, c->project->name, services, all, oneoff, out, err);
}

int berth_compose_container_of(berth_compose_ctx *c, const char *service, int index,
			       json_t **out, berth_error **err)
{
	char *const services[] = {(char *)service, NULL};
	json_t *list cleanup_json = NULL;
	if (compose_list(c->client, c->project->name, services, index > 0, false, &list, err) < 0)
		return -1;
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v)
		if (index <= 0 || atoi(compose_label(v, COMPOSE_LABEL_NUMBER)) == index) {
			*out = json_incref(v);
			return 0;
		}
	if (index > 0)
		return berth_error_set(err, 404, "service \"%s\" is not running container #%d", service,
				       index);
	return berth_error_set(err, 404, "service \"%s\" is not running", service);
}

const char *berth_compose_label(const json_t *container, const char *label)
{
	return compose_label(container, label);
}

const char *berth_compose_container_name(const json_t *container)
{
	return compose_container_name(container);
}
