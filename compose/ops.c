/*
 * ops.c - down and the commands on existing containers (start, stop,
 * restart, kill, pause, unpause, rm): containers of the project found by
 * label, dependents stopped before what they depend on, started after.
 */
#include <stdlib.h>
#include <string.h>

#include "runner.h"

typedef struct act_state {
	berth_compose_action action;
	const berth_compose_action_opts *o;
	json_t *containers; /* all of the project's, listed once */
	bool volumes;
} act_state;

static const struct {
	const char *path;  /* NULL: not a POST on the container */
	const char *doing, *done;
	bool running_only;
} actions[] = {
	[BERTH_COMPOSE_START] = {"start", "Starting", "Started", false},
	[BERTH_COMPOSE_STOP] = {"stop", "Stopping", "Stopped", true},
	[BERTH_COMPOSE_RESTART] = {"restart", "Restarting", "Started", false},
	[BERTH_COMPOSE_KILL] = {"kill", "Killing", "Killed", true},
	[BERTH_COMPOSE_PAUSE] = {"pause", "Pausing", "Paused", true},
	[BERTH_COMPOSE_UNPAUSE] = {"unpause", "Unpausing", "Unpaused", false},
	[BERTH_COMPOSE_RM] = {NULL, "Removing", "Removed", false},
};

static int act_container(compose_graph *g, compose_task *t, berth_client *cl, const json_t *ct,
			 berth_error **err)
{
	act_state *s = g->userdata;
	const char *id = berth_json_string(ct, "Id");
	const char *name = compose_container_name(ct);
	const char *state = berth_json_string(ct, "State") ?: "";
	bool running = strcmp(state, "running") == 0 || strcmp(state, "paused") == 0;
	if (actions[s->action].running_only && !running)
		return 0;
	if (s->action == BERTH_COMPOSE_START && running)
		return 0;
	if (s->action == BERTH_COMPOSE_UNPAUSE && strcmp(state, "paused") != 0)
		return 0;
	int timeout = s->o->timeout >= 0 ? s->o->timeout : compose_stop_timeout(t ? t->svc : NULL);
	if (s->action == BERTH_COMPOSE_RM) {
		if (running && !s->o->stop_first)
			return 0;
		if (running && compose_container_stop(g->c, cl, id, name, timeout, err) < 0)
			return -1;
		return compose_container_remove(g->c, cl, id, name, s->o->volumes, err);
	}
	berth_buf path cleanup_buf = {0};
	berth_buf_printf(&path, "/containers/%s/%s", id, actions[s->action].path);
	if ((s->action == BERTH_COMPOSE_STOP || s->action == BERTH_COMPOSE_RESTART) && timeout >= 0)
		berth_buf_printf(&path, "?t=%d", timeout);
	if (s->action == BERTH_COMPOSE_KILL && s->o->signal) {
		char *sig cleanup_free = berth_url_encode(s->o->signal);
		berth_buf_printf(&path, "?signal=%s", sig);
	}
	return compose_container_post(g->c, cl, path.data, name, actions[s->action].doing,
				      actions[s->action].done, err);
}

static int act_service(compose_graph *g, compose_task *t, berth_client *cl, berth_error **err)
{
	act_state *s = g->userdata;
	size_t i;
	json_t *ct;
	json_array_foreach(s->containers, i, ct)
		if (strcmp(compose_label(ct, COMPOSE_LABEL_SERVICE), t->name) == 0 &&
		    act_container(g, t, cl, ct, err) < 0)
			return -1;
	return 0;
}

/* Containers of services the model does not know (a project named by -p
 * alone, orphans) are handled one by one, after the others. */
static int act_unknown(berth_compose_ctx *c, compose_graph *g, char *const *services,
		       berth_error **err)
{
	act_state *s = g->userdata;
	size_t i;
	json_t *ct;
	json_array_foreach(s->containers, i, ct) {
		const char *svc = compose_label(ct, COMPOSE_LABEL_SERVICE);
		if (compose_graph_find(g, svc) || (services && services[0]))
			continue;
		if (act_container(g, NULL, c->client, ct, err) < 0)
			return -1;
	}
	return 0;
}

int berth_compose_act(berth_compose_ctx *c, berth_compose_action a,
		      const berth_compose_action_opts *o, berth_error **err)
{
	if (compose_check_services(c->project, o->services, err) < 0)
		return -1;
	act_state s = {.action = a, .o = o};
	if (compose_list(c->client, c->project->name, o->services, true, a == BERTH_COMPOSE_RM,
			 &s.containers, err) < 0)
		return -1;
	compose_graph g __attribute__((cleanup(compose_graph_reset))) = {0};
	compose_graph_init(&g, c, o->services, false);
	g.fn = act_service;
	g.userdata = &s;
	g.reverse = a != BERTH_COMPOSE_START && a != BERTH_COMPOSE_UNPAUSE;
	int r = compose_graph_run(&g, err);
	if (r == 0)
		r = act_unknown(c, &g, o->services, err);
	json_decref(s.containers);
	return r;
}

/* ------------------------------------------------------------------ down */

static int remove_labelled(berth_compose_ctx *c, const char *kind, const char *list_path,
			   const char *items_key, berth_error **err)
{
	char *label cleanup_free = berth_xasprintf("{\"label\":{\"" COMPOSE_LABEL_PROJECT "=%s\":true}}",
						   c->project->name);
	char *q cleanup_free = berth_url_encode(label);
	char *path cleanup_free = berth_xasprintf("%s?filters=%s", list_path, q);
	json_t *out cleanup_json = NULL;
	berth_error *e cleanup_error = NULL;
	if (compose_api(c->client, "GET", path, NULL, &out, &e) < 0)
		return e->status == 404 ? 0 : berth_error_propagate(&e, err);
	json_t *items = items_key ? json_object_get(out, items_key) : out;
	size_t i;
	json_t *v;
	json_array_foreach(items, i, v) {
		const char *name = berth_json_string(v, "Name");
		/* the project's own, not an external one that carries its labels */
		const json_t *labels = json_object_get(v, "Labels");
		if (name == NULL || strcmp(berth_json_string(labels, COMPOSE_LABEL_PROJECT) ?: "",
					   c->project->name) != 0)
			continue;
		char *del cleanup_free = berth_xasprintf("%s/%s", strcmp(kind, "Network") ? "/volumes"
											: "/networks", name);
		compose_progress(c, kind, name, "Removing");
		berth_error *de cleanup_error = NULL;
		if (compose_api(c->client, "DELETE", del, NULL, NULL, &de) < 0 && de->status != 404) {
			fprintf(c->io.err, "%s\n", de->msg);
			continue;
		}
		compose_progress(c, kind, name, "Removed");
	}
	return 0;
}

static int remove_images(berth_compose_ctx *c, const char *rmi, berth_error **err)
{
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(c->project->model, "services"), k, v) {
		bool custom = berth_json_string(v, "image") != NULL;
		if (strcmp(rmi, "local") == 0 && custom)
			continue;
		char *image cleanup_free = compose_image_name(c->project, k, v);
		char *q cleanup_free = berth_url_encode(image);
		char *path cleanup_free = berth_xasprintf("/images/%s", q);
		compose_progress(c, "Image", image, "Removing");
		berth_error *e cleanup_error = NULL;
		if (compose_api(c->client, "DELETE", path, NULL, NULL, &e) < 0) {
			if (e->status != 404)
				fprintf(c->io.err, "%s\n", e->msg);
			continue;
		}
		compose_progress(c, "Image", image, "Removed");
	}
	return 0;
}

int berth_compose_down(berth_compose_ctx *c, const berth_compose_down_opts *o, berth_error **err)
{
	berth_compose_action_opts ao = {.timeout = o->timeout, .stop_first = true,
					.volumes = o->volumes};
	act_state s = {.action = BERTH_COMPOSE_RM, .o = &ao};
	if (compose_list(c->client, c->project->name, NULL, true, true, &s.containers, err) < 0)
		return -1;
	json_t *containers cleanup_json = s.containers;
	compose_graph g __attribute__((cleanup(compose_graph_reset))) = {0};
	compose_graph_init(&g, c, NULL, false);
	g.fn = act_service;
	g.userdata = &s;
	g.reverse = true;
	if (compose_graph_run(&g, err) < 0)
		return -1;
	bool no_model = json_object_size(json_object_get(c->project->model, "services")) == 0;
	berth_buf orphans cleanup_buf = {0};
	size_t i;
	json_t *ct;
	json_array_foreach(containers, i, ct) {
		const char *svc = compose_label(ct, COMPOSE_LABEL_SERVICE);
		if (compose_graph_find(&g, svc))
			continue;
		if (o->remove_orphans || no_model ||
		    strcmp(compose_label(ct, COMPOSE_LABEL_ONEOFF), "True") == 0) {
			if (act_container(&g, NULL, c->client, ct, err) < 0)
				return -1;
		} else {
			berth_buf_printf(&orphans, "%s%s", orphans.len ? ", " : "",
					 compose_container_name(ct));
		}
	}
	if (orphans.len)
		fprintf(c->io.err,
			"WARN[0000] Found orphan containers ([%s]) for this project. If you removed or "
			"renamed this service in your compose file, you can run this command with the "
			"--remove-orphans flag to clean it up.\n",
			orphans.data);
	if (remove_labelled(c, "Network", "/networks", NULL, err) < 0)
		return -1;
	if (o->volumes && remove_labelled(c, "Volume", "/volumes", "Volumes", err) < 0)
		return -1;
	return o->rmi ? remove_images(c, o->rmi, err) : 0;
}
