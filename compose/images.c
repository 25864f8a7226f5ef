/*
 * images.c - pull and push of the project's images through the Engine API:
 * POST /images/create and /images/{name}/push. Builds go through `berth
 * build` (cli/compose_cmds.c), which owns the tarring of build contexts.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine.h"

int berth_compose_pull(berth_compose_ctx *c, char *const *services, bool ignore_failures,
		       berth_error **err)
{
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(c->project->model, "services"), k, v) {
		const char *image = berth_json_string(v, "image");
		if (!compose_wanted(services, k) || image == NULL)
			continue;
		/* a service that is built is pulled only when it asks to be */
		if (json_object_get(v, "build") &&
		    strcmp(berth_json_string(v, "pull_policy") ?: "", "always") != 0)
			continue;
		compose_progress(c, "", k, "Pulling");
		berth_error *e cleanup_error = NULL;
		if (compose_pull_image(c, c->client, image, &e) < 0) {
			if (!ignore_failures)
				return berth_error_propagate(&e, err);
			fprintf(c->io.err, " %s Warning %s\n", k, e->msg);
			continue;
		}
		compose_progress(c, "", k, "Pulled");
	}
	return 0;
}

/* The stream's last {"error": ...} message, if any. */
static int stream_error(const berth_client_response *resp, berth_error **err)
{
	const char *p = resp->body.data;
	while (p && (p = strstr(p, "\"error\"")) != NULL) {
		const char *line = p;
		while (line > resp->body.data && line[-1] != '\n')
			line--;
		const char *end = strchr(p, '\n');
		json_t *j cleanup_json = json_loadb(line, end ? (size_t)(end - line) : strlen(line), 0, NULL);
		const char *msg = berth_json_string(j, "error");
		if (msg)
			return berth_error_set(err, 500, "%s", msg);
		p++;
	}
	return 0;
}

static int post_stream(berth_client *cl, const char *path, const char *content_type,
		       const void *body, size_t len, berth_error **err)
{
	berth_client_response resp = {0};
	if (berth_client_request(cl, "POST", path, content_type, body, len, &resp, err) < 0)
		return -1;
	int r = 0;
	if (resp.status >= 400) {
		char *msg cleanup_free = berth_client_error_message(&resp);
		r = berth_error_set(err, (int)resp.status, "Error response from daemon: %s", msg);
	} else {
		r = stream_error(&resp, err);
	}
	berth_client_response_reset(&resp);
	return r;
}

int berth_compose_push(berth_compose_ctx *c, char *const *services, berth_error **err)
{
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(c->project->model, "services"), k, v) {
		const char *image = berth_json_string(v, "image");
		if (!compose_wanted(services, k) || image == NULL)
			continue;
		char *name cleanup_free = berth_xstrdup(image);
		char *colon = strrchr(name, ':');
		const char *tag = "latest";
		if (colon && !strchr(colon, '/')) {
			*colon = '\0';
			tag = colon + 1;
		}
		char *q cleanup_free = berth_url_encode(name);
		char *path cleanup_free = berth_xasprintf("/images/%s/push?tag=%s", q, tag);
		compose_progress(c, "", k, "Pushing");
		compose_registry_auth(c, c->client, image);
		int r = post_stream(c->client, path, NULL, NULL, 0, err);
		compose_registry_auth(c, c->client, NULL);
		if (r < 0)
			return -1;
		compose_progress(c, "", k, "Pushed");
	}
	return 0;
}

int berth_compose_to_build(berth_compose_ctx *c, char *const *services, bool only_missing,
			   json_t **out, berth_error **err)
{
	json_t *list = json_array();
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(c->project->model, "services"), k, v) {
		if (!compose_wanted(services, k) || !json_object_get(v, "build"))
			continue;
		if (only_missing) {
			char *image cleanup_free = compose_image_name(c->project, k, v);
			char *q cleanup_free = berth_url_encode(image);
			char *path cleanup_free = berth_xasprintf("/images/%s/json", q);
			berth_error *e cleanup_error = NULL;
			if (compose_api(c->client, "GET", path, NULL, NULL, &e) == 0)
				continue;
			if (e->status != 404) {
				json_decref(list);
				return berth_error_propagate(&e, err);
			}
		}
		json_array_append_new(list, json_string(k));
	}
	*out = list;
	return 0;
}
