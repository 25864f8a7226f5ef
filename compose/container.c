/*
 * container.c - one container at a time: create (pulling a missing image
 * first, as Compose's pull_policy "missing" does), start, stop, remove,
 * each with Docker Compose v2's progress lines.
 */
#include <stdlib.h>
#include <string.h>

#include "engine.h"

int compose_pull_image(berth_compose_ctx *c, berth_client *cl, const char *image,
		       berth_error **err)
{
	/* "name:tag" or "name@digest"; a ':' after the last '/' is a tag */
	char *name cleanup_free = berth_xstrdup(image);
	const char *tag = "latest";
	char *at = strchr(name, '@');
	char *colon = strrchr(name, ':');
	if (at) {
		tag = NULL;
	} else if (colon && !strchr(colon, '/')) {
		*colon = '\0';
		tag = colon + 1;
	}
	char *qn cleanup_free = berth_url_encode(name);
	char *path cleanup_free = tag ? berth_xasprintf("/images/create?fromImage=%s&tag=%s", qn, tag)
				      : berth_xasprintf("/images/create?fromImage=%s", qn);
	berth_client_response resp = {0};
	compose_registry_auth(c, cl, image);
	int r = berth_client_request(cl, "POST", path, NULL, NULL, 0, &resp, err);
	compose_registry_auth(c, cl, NULL);
	if (r < 0)
		return -1;
	if (resp.status >= 400) {
		char *msg cleanup_free = berth_client_error_message(&resp);
		r = berth_error_set(err, (int)resp.status, "Error response from daemon: %s", msg);
	} else if (resp.body.data && strstr(resp.body.data, "\"error\"")) {
		/* the stream reports a failed pull in its last message */
		r = berth_error_set(err, 500, "pull access denied or image %s not found", image);
	}
	berth_client_response_reset(&resp);
	return r;
}

void compose_registry_auth(berth_compose_ctx *c, berth_client *cl, const char *image)
{
	if (c->registry_auth == NULL)
		return;
	char *auth cleanup_free = image ? c->registry_auth(c->auth_data, image) : NULL;
	berth_client_set_header(cl, "X-Registry-Auth", auth);
}

/* Engines before API 1.44 take one network at create: the others are
 * connected afterwards, as Compose does. Returns {network: EndpointConfig}. */
static json_t *split_endpoints(json_t *body)
{
	json_t *eps = json_object_get(json_object_get(body, "NetworkingConfig"), "EndpointsConfig");
	const char *primary = berth_json_string(json_object_get(body, "HostConfig"), "NetworkMode");
	json_t *others = json_object();
	const char *k;
	json_t *v;
	void *tmp;
	json_object_foreach_safe(eps, tmp, k, v)
		if (primary == NULL || strcmp(k, primary) != 0) {
			json_object_set(others, k, v);
			json_object_del(eps, k);
		}
	return others;
}

static int connect_others(berth_client *cl, const char *id, const json_t *others,
			  berth_error **err)
{
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)others, k, v) {
		char *q cleanup_free = berth_url_encode(k);
		char *path cleanup_free = berth_xasprintf("/networks/%s/connect", q);
		json_t *body cleanup_json = json_pack("{ss sO}", "Container", id, "EndpointConfig", v);
		if (compose_api(cl, "POST", path, body, NULL, err) < 0)
			return -1;
	}
	return 0;
}

static int pull_logged(berth_compose_ctx *c, berth_client *cl, const char *image,
		       berth_error **err)
{
	compose_progress(c, "Image", image, "Pulling");
	if (compose_pull_image(c, cl, image, err) < 0)
		return -1;
	compose_progress(c, "Image", image, "Pulled");
	return 0;
}

int compose_container_create(berth_compose_ctx *c, berth_client *cl, const char *service,
			     const json_t *svc, int number, bool oneoff, bool networks,
			     const json_t *inherit, char **id, char **name, berth_error **err)
{
	const berth_compose_project *p = c->project;
	const char *fixed = berth_json_string(svc, "container_name");
	char *n cleanup_free = NULL;
	if (fixed) {
		n = berth_xstrdup(fixed);
	} else if (oneoff) {
		char rnd[65];
		berth_random_id(rnd);
		n = berth_xasprintf("%s-%s-run-%.12s", p->name, service, rnd);
	} else {
		n = berth_xasprintf("%s-%s-%d", p->name, service, number);
	}
	json_t *body cleanup_json = berth_compose_create_body(p, service, svc, number, oneoff, networks);
	if (inherit)
		compose_inherit_volumes(body, inherit);
	json_t *others cleanup_json = split_endpoints(body);
	char *qn cleanup_free = berth_url_encode(n);
	char *path cleanup_free = berth_xasprintf("/containers/create?name=%s", qn);
	if (!oneoff)
		compose_progress(c, "Container", n, "Creating");
	json_t *out cleanup_json = NULL;
	berth_error *e cleanup_error = NULL;
	/* --pull over the service's pull_policy; a built image is never pulled */
	const char *policy = c->pull_policy ?: berth_json_string(svc, "pull_policy") ?: "missing";
	const char *image = berth_json_string(svc, "image");
	bool built = json_object_get(svc, "build") != NULL;
	bool always = strcmp(policy, "always") == 0 && image && !built;
	if (always && pull_logged(c, cl, image, err) < 0)
		return -1;
	if (compose_api(cl, "POST", path, body, &out, &e) < 0) {
		if (e->status != 404 || strcmp(policy, "never") == 0 || built || always || !image)
			return berth_error_propagate(&e, err);
		berth_error_free(&e);
		if (pull_logged(c, cl, image, err) < 0)
			return -1;
		json_decref(out);
		out = NULL;
		if (compose_api(cl, "POST", path, body, &out, err) < 0)
			return -1;
	}
	*id = berth_xstrdup(berth_json_string(out, "Id") ?: "");
	if (connect_others(cl, *id, others, err) < 0)
		return -1;
	if (!oneoff)
		compose_progress(c, "Container", n, "Created");
	if (name)
		*name = berth_steal_ptr(&n);
	return 0;
}

static bool is_anonymous(const berth_compose_project *p, const char *name)
{
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(p->model, "volumes"), k, v)
		if (strcmp(berth_json_string(v, "name") ?: k, name) == 0)
			return false;
	/* an engine names an anonymous volume with 64 hex digits */
	return strlen(name) == 64 && strspn(name, "0123456789abcdef") == 64;
}

int compose_anon_volumes(berth_compose_ctx *c, berth_client *cl, const char *id, json_t **out,
			 berth_error **err)
{
	char *path cleanup_free = berth_xasprintf("/containers/%s/json", id);
	json_t *info cleanup_json = NULL;
	if (compose_api(cl, "GET", path, NULL, &info, err) < 0)
		return -1;
	json_t *anon = json_object();
	size_t i;
	json_t *m;
	json_array_foreach(json_object_get(info, "Mounts"), i, m) {
		const char *name = berth_json_string(m, "Name");
		const char *dst = berth_json_string(m, "Destination");
		if (strcmp(berth_json_string(m, "Type") ?: "", "volume") == 0 && name && dst &&
		    is_anonymous(c->project, name))
			json_object_set_new(anon, dst, json_string(name));
	}
	*out = anon;
	return 0;
}

int compose_container_post(const berth_compose_ctx *c, berth_client *cl, const char *path,
			   const char *name, const char *doing, const char *done,
			   berth_error **err)
{
	compose_progress(c, "Container", name, doing);
	if (compose_api(cl, "POST", path, NULL, NULL, err) < 0)
		return -1;
	compose_progress(c, "Container", name, done);
	return 0;
}

int compose_container_start(berth_compose_ctx *c, berth_client *cl, const char *id,
			    const char *name, berth_error **err)
{
	char *path cleanup_free = berth_xasprintf("/containers/%s/start", id);
	return compose_container_post(c, cl, path, name, "Starting", "Started", err);
}

int compose_container_stop(berth_compose_ctx *c, berth_client *cl, const char *id,
			   const char *name, int timeout, berth_error **err)
{
	char *path cleanup_free = timeout >= 0
					  ? berth_xasprintf("/containers/%s/stop?t=%d", id, timeout)
					  : berth_xasprintf("/containers/%s/stop", id);
	return compose_container_post(c, cl, path, name, "Stopping", "Stopped", err);
}

int compose_container_remove(berth_compose_ctx *c, berth_client *cl, const char *id,
			     const char *name, bool volumes, berth_error **err)
{
	char *path cleanup_free = berth_xasprintf("/containers/%s?force=1%s", id, volumes ? "&v=1" : "");
	compose_progress(c, "Container", name, "Removing");
	berth_error *e cleanup_error = NULL;
	if (compose_api(cl, "DELETE", path, NULL, NULL, &e) < 0 && e->status != 404)
		return berth_error_propagate(&e, err);
	compose_progress(c, "Container", name, "Removed");
	return 0;
}

bool compose_engine_has_networks(berth_client *cl)
{
	berth_error *err cleanup_error = NULL;
	json_t *list cleanup_json = NULL;
	return compose_api(cl, "GET", "/networks", NULL, &list, &err) == 0;
}

int berth_compose_create_oneoff(berth_compose_ctx *c, const char *service, const json_t *svc,
				char **id, char **name, berth_error **err)
{
	bool networks = compose_engine_has_networks(c->client);
	return compose_container_create(c, c->client, service, svc, 1, true, networks, NULL, id,
					name, err);
}
