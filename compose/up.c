/*
 * up.c - `up` and `create`: networks and volumes first, then every service
 * converges to its replicas in dependency order (independent services in
 * parallel). A container whose com.docker.compose.config-hash matches is
 * left alone; a changed service is recreated, and so are the services that
 * depend on it; replicas above the scale are removed, missing ones created.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runner.h"

typedef struct up_state {
	const berth_compose_up_opts *o;
	bool networks; /* the engine has /networks */
} up_state;

/* --------------------------------------------------- networks and volumes */

static void set_if(json_t *obj, const char *key, const char *value)
{
	if (value)
		json_object_set_new(obj, key, json_string(value));
}

static json_t *resource_labels(const berth_compose_project *p, const char *kind, const char *key,
			       const json_t *def)
{
	json_t *labels = json_object();
	const char *k;
	json_t *v;
	json_object_foreach(json_object_get(def, "labels"), k, v)
		json_object_set(labels, k, v);
	json_object_set_new(labels, COMPOSE_LABEL_PROJECT, json_string(p->name));
	json_object_set_new(labels, kind, json_string(key));
	json_object_set_new(labels, COMPOSE_LABEL_VERSION, json_string(COMPOSE_VERSION));
	return labels;
}

/* *supported becomes false when the engine has no /networks at all (its 404
 * is a missing route, not a missing network): the project then runs on the
 * engine's default network. */
static int ensure_network(berth_compose_ctx *c, const char *key, const json_t *def,
			  bool *supported, berth_error **err)
{
	const char *name = berth_json_string(def, "name");
	char *q cleanup_free = berth_url_encode(name);
	char *path cleanup_free = berth_xasprintf("/networks/%s", q);
	berth_error *e cleanup_error = NULL;
	if (compose_api(c->client, "GET", path, NULL, NULL, &e) == 0)
		return 0;
	if (e->status == 404 && strstr(e->msg, "page not found")) {
		*supported = false;
		return 0;
	}
	if (e->status != 404)
		return berth_error_propagate(&e, err);
	if (json_is_true(json_object_get(def, "external")))
		return berth_error_set(err, 404,
				       "network %s declared as external, but could not be found", name);
	json_t *body cleanup_json = json_pack(
		"{ss ss so sb sb sb}", "Name", name, "Driver",
		berth_json_string(def, "driver") ?: "bridge", "Labels",
		resource_labels(c->project, COMPOSE_LABEL_NETWORK, key, def), "CheckDuplicate", 1,
		"Internal", json_is_true(json_object_get(def, "internal")), "Attachable",
		json_is_true(json_object_get(def, "attachable")));
	json_t *opts = json_object_get(def, "driver_opts");
	if (opts)
		json_object_set(body, "Options", opts);
	if (json_is_true(json_object_get(def, "enable_ipv6")))
		json_object_set_new(body, "EnableIPv6", json_true());
	json_t *ipam = json_object_get(def, "ipam");
	if (ipam) {
		json_t *configs = json_array();
		size_t i;
		json_t *cfg;
		json_array_foreach(json_object_get(ipam, "config"), i, cfg) {
			json_t *one = json_object();
			set_if(one, "Subnet", berth_json_string(cfg, "subnet"));
			set_if(one, "Gateway", berth_json_string(cfg, "gateway"));
			set_if(one, "IPRange", berth_json_string(cfg, "ip_range"));
			json_array_append_new(configs, one);
		}
		json_object_set_new(body, "IPAM", json_pack("{ss so}", "Driver",
							    berth_json_string(ipam, "driver") ?: "default",
							    "Config", configs));
	}
	compose_progress(c, "Network", name, "Creating");
	if (compose_api(c->client, "POST", "/networks/create", body, NULL, err) < 0)
		return -1;
	compose_progress(c, "Network", name, "Created");
	return 0;
}

static int ensure_volume(berth_compose_ctx *c, const char *key, const json_t *def,
			 berth_error **err)
{
	const char *name = berth_json_string(def, "name");
	char *path cleanup_free = berth_xasprintf("/volumes/%s", name);
	berth_error *e cleanup_error = NULL;
	if (compose_api(c->client, "GET", path, NULL, NULL, &e) == 0)
		return 0;
	if (e->status != 404)
		return berth_error_propagate(&e, err);
	if (json_is_true(json_object_get(def, "external")))
		return berth_error_set(err, 404, "external volume \"%s\" not found", name);
	json_t *body cleanup_json = json_pack(
		"{ss ss so}", "Name", name, "Driver", berth_json_string(def, "driver") ?: "local",
		"Labels", resource_labels(c->project, COMPOSE_LABEL_VOLUME, key, def));
	json_t *opts = json_object_get(def, "driver_opts");
	if (opts)
		json_object_set(body, "DriverOpts", opts);
	char *quoted cleanup_free = berth_xasprintf("\"%s\"", name);
	compose_progress(c, "Volume", quoted, "Creating");
	if (compose_api(c->client, "POST", "/volumes/create", body, NULL, err) < 0)
		return -1;
	compose_progress(c, "Volume", quoted, "Created");
	return 0;
}

/* Only the networks and volumes the selected services use. */
static int ensure_resources(compose_graph *g, bool *networks, berth_error **err)
{
	berth_compose_ctx *c = g->c;
	const json_t *m = c->project->model;
	for (size_t i = 0; i < g->n; i++) {
		if (!g->tasks[i].selected)
			continue;
		const json_t *svc = g->tasks[i].svc;
		const char *k;
		json_t *v;
		json_object_foreach(*networks ? json_object_get(svc, "networks") : NULL, k, v)
			if (ensure_network(c, k, json_object_get(json_object_get(m, "networks"), k),
					   networks, err) < 0)
				return -1;
		size_t j;
		json_array_foreach(json_object_get(svc, "volumes"), j, v) {
			const char *src = berth_json_string(v, "source");
			const json_t *def = json_object_get(json_object_get(m, "volumes"), src ?: "");
			if (def && strcmp(berth_json_string(v, "type") ?: "", "volume") == 0 &&
			    ensure_volume(c, src, def, err) < 0)
				return -1;
		}
	}
	return 0;
}

/* ----------------------------------------------------------- conditions */

static int inspect(berth_client *cl, const char *id, json_t **out, berth_error **err)
{
	char *path cleanup_free = berth_xasprintf("/containers/%s/json", id);
	return compose_api(cl, "GET", path, NULL, out, err);
}

/* service_healthy: polls until every container of dep is healthy. */
static int wait_healthy(berth_compose_ctx *c, berth_client *cl, const char *id,
			const char *name, int64_t deadline, int timeout, berth_error **err)
{
	compose_progress(c, "Container", name, "Waiting");
	for (;; usleep(100 * 1000)) {
		if (deadline && berth_time_now_ns() > deadline) {
			berth_buf d cleanup_buf = {0};
			berth_go_duration(&d, (int64_t)timeout * 1000000000);
			return berth_error_set(err, 500, "application not healthy after %s", d.data);
		}
		json_t *info cleanup_json = NULL;
		if (inspect(cl, id, &info, err) < 0)
			return -1;
		const json_t *state = json_object_get(info, "State");
		const json_t *health = json_object_get(state, "Health");
		const char *status = berth_json_string(health, "Status");
		if (status == NULL)
			return berth_error_set(err, 400, "container %s has no healthcheck configured",
					       name);
		if (strcmp(status, "healthy") == 0)
			break;
		if (strcmp(status, "unhealthy") == 0)
			return berth_error_set(err, 500, "dependency failed to start: container %s is "
						 "unhealthy", name);
		if (!json_is_true(json_object_get(state, "Running")))
			return berth_error_set(err, 500, "dependency failed to start: container %s "
						 "exited (%d)", name,
					       (int)json_integer_value(json_object_get(state, "ExitCode")));
	}
	compose_progress(c, "Container", name, "Healthy");
	return 0;
}

/* service_completed_successfully: waits for the exit, which must be 0. */
static int wait_completed(berth_compose_ctx *c, berth_client *cl, const char *id,
			  const char *name, const char *service, berth_error **err)
{
	compose_progress(c, "Container", name, "Waiting");
	char *path cleanup_free = berth_xasprintf("/containers/%s/wait", id);
	json_t *out cleanup_json = NULL;
	if (compose_api(cl, "POST", path, NULL, &out, err) < 0)
		return -1;
	int code = (int)json_integer_value(json_object_get(out, "StatusCode"));
	if (code != 0)
		return berth_error_set(err, 500, "service \"%s\" didn't complete successfully: exit %d",
				       service, code);
	compose_progress(c, "Container", name, "Exited");
	return 0;
}

static int wait_conditions(compose_graph *g, compose_task *t, berth_client *cl,
			   berth_error **err)
{
	const char *dep;
	json_t *d;
	json_object_foreach(json_object_get(t->svc, "depends_on"), dep, d) {
		const char *cond = berth_json_string(d, "condition") ?: "service_started";
		compose_task *dt = compose_graph_find(g, dep);
		if (dt == NULL || strcmp(cond, "service_started") == 0)
			continue;
		char *const only[] = {(char *)dep, NULL};
		json_t *list cleanup_json = NULL;
		if (compose_list(cl, g->c->project->name, only, true, false, &list, err) < 0)
			return -1;
		size_t i;
		json_t *ct;
		json_array_foreach(list, i, ct) {
			const char *id = berth_json_string(ct, "Id");
			const char *name = compose_container_name(ct);
			int r = strcmp(cond, "service_healthy") == 0
					? wait_healthy(g->c, cl, id, name, 0, 0, err)
					: wait_completed(g->c, cl, id, name, dep, err);
			if (r < 0)
				return -1;
		}
	}
	return 0;
}

/* --wait: every container running, and healthy when it has a healthcheck,
 * within --wait-timeout seconds (0: no limit). */
static int wait_ready(berth_compose_ctx *c, char *const *services, int timeout,
		      berth_error **err)
{
	int64_t deadline = timeout > 0 ? berth_time_now_ns() + (int64_t)timeout * 1000000000 : 0;
	json_t *list cleanup_json = NULL;
	if (compose_list(c->client, c->project->name, services, true, false, &list, err) < 0)
		return -1;
	size_t i;
	json_t *ct;
	json_array_foreach(list, i, ct) {
		const char *id = berth_json_string(ct, "Id");
		const char *name = compose_container_name(ct);
		json_t *info cleanup_json = NULL;
		if (inspect(c->client, id, &info, err) < 0)
			return -1;
		const json_t *state = json_object_get(info, "State");
		if (json_object_get(state, "Health")) {
			if (wait_healthy(c, c->client, id, name, deadline, timeout, err) < 0)
				return -1;
		} else if (!json_is_true(json_object_get(state, "Running"))) {
			return berth_error_set(err, 500, "container %s exited (%d)", name,
					       (int)json_integer_value(json_object_get(state, "ExitCode")));
		} else {
			compose_progress(c, "Container", name, "Healthy");
		}
	}
	return 0;
}

/* -------------------------------------------------------------- converge */

static bool deps_recreated(compose_graph *g, compose_task *t)
{
	const char *dep;
	json_t *d;
	json_object_foreach(json_object_get(t->svc, "depends_on"), dep, d) {
		compose_task *dt = compose_graph_find(g, dep);
		if (dt && dt->recreated)
			return true;
	}
	return false;
}

static int create_and_start(compose_graph *g, compose_task *t, berth_client *cl, int number,
			    const json_t *inherit, berth_error **err)
{
	up_state *s = g->userdata;
	char *id cleanup_free = NULL, *name cleanup_free = NULL;
	if (compose_container_create(g->c, cl, t->name, t->svc, number, false, s->networks,
				     inherit, &id, &name, err) < 0)
		return -1;
	if (s->o->no_start)
		return 0;
	return compose_container_start(g->c, cl, id, name, err);
}

static int recreate(compose_graph *g, compose_task *t, berth_client *cl, const json_t *old,
		    int number, berth_error **err)
{
	up_state *s = g->userdata;
	const char *id = berth_json_string(old, "Id");
	const char *name = compose_container_name(old);
	compose_progress(g->c, "Container", name, "Recreate");
	int timeout = s->o->timeout >= 0 ? s->o->timeout : compose_stop_timeout(t->svc);
	/* the data of anonymous volumes survives a recreate, unless -V */
	json_t *inherit cleanup_json = NULL;
	if (!s->o->renew_anon_volumes && compose_anon_volumes(g->c, cl, id, &inherit, err) < 0)
		return -1;
	if (strcmp(berth_json_string(old, "State") ?: "", "running") == 0 &&
	    compose_container_stop(g->c, cl, id, name, timeout, err) < 0)
		return -1;
	if (compose_container_remove(g->c, cl, id, name, false, err) < 0)
		return -1;
	/* replicas of one service are recreated on threads of their own */
	__atomic_store_n(&t->recreated, true, __ATOMIC_RELAXED);
	return create_and_start(g, t, cl, number, inherit, err);
}

/* Whether a service was named on the command line (none named: all were). */
static bool named(char *const *services, const char *name)
{
	for (char *const *s = services; s && *s; s++)
		if (strcmp(*s, name) == 0)
			return true;
	return services == NULL;
}

static int converge_one(compose_graph *g, compose_task *t, berth_client *cl, const json_t *ct,
			const char *hash, bool dep_changed, berth_error **err)
{
	up_state *s = g->userdata;
	int number = atoi(compose_label(ct, COMPOSE_LABEL_NUMBER));
	const char *name = compose_container_name(ct);
	bool changed = strcmp(compose_label(ct, COMPOSE_LABEL_HASH), hash) != 0;
	bool force = s->o->force_recreate ||
		     (s->o->always_recreate_deps && !named(s->o->services, t->name));
	if (!s->o->no_recreate && (force || changed || dep_changed))
		return recreate(g, t, cl, ct, number, err);
	const char *state = berth_json_string(ct, "State") ?: "";
	if (strcmp(state, "running") == 0 || s->o->no_start) {
		compose_progress(g->c, "Container", name, "Running");
		return 0;
	}
	return compose_container_start(g->c, cl, berth_json_string(ct, "Id"), name, err);
}

/* One replica's work: remove it (scaled down), converge it, or create it. */
typedef struct replica_job {
	compose_graph *g;
	compose_task *t;
	const json_t *ct; /* NULL: a replica to create */
	int number;
	bool remove;
	const char *hash;
	bool dep_changed;
	pthread_t thread;
	bool started;
	berth_error *err;
	int r;
} replica_job;

static int replica_run(replica_job *j, berth_client *cl, berth_error **err)
{
	up_state *s = j->g->userdata;
	if (j->ct == NULL)
		return create_and_start(j->g, j->t, cl, j->number, NULL, err);
	if (!j->remove)
		return converge_one(j->g, j->t, cl, j->ct, j->hash, j->dep_changed, err);
	const char *id = berth_json_string(j->ct, "Id");
	const char *name = compose_container_name(j->ct);
	int timeout = s->o->timeout >= 0 ? s->o->timeout : compose_stop_timeout(j->t->svc);
	if (compose_container_stop(j->g->c, cl, id, name, timeout, err) < 0)
		return -1;
	return compose_container_remove(j->g->c, cl, id, name, false, err);
}

static void *replica_main(void *arg)
{
	replica_job *j = arg;
	berth_client *cl = NULL;
	j->r = compose_client_new(j->g->c, &cl, &j->err);
	if (j->r == 0)
		j->r = replica_run(j, cl, &j->err);
	berth_client_free(cl);
	return NULL;
}

/* The replicas of a service: existing ones above the scale removed, the
 * others converged, missing numbers created; all of them at once, as
 * Compose does (one job runs on the task's own thread and client). */
static int run_replicas(replica_job *jobs, size_t n, berth_client *cl, berth_error **err)
{
	for (size_t i = 1; i < n; i++) {
		jobs[i].started = pthread_create(&jobs[i].thread, NULL, replica_main, &jobs[i]) == 0;
		if (!jobs[i].started)
			berth_error_set(&jobs[i].err, 500, "cannot start a thread");
	}
	int r = n ? replica_run(&jobs[0], cl, err) : 0;
	for (size_t i = 1; i < n; i++) {
		if (jobs[i].started)
			pthread_join(jobs[i].thread, NULL);
		if (jobs[i].err && r == 0)
			r = berth_error_propagate(&jobs[i].err, err);
		berth_error_free(&jobs[i].err);
	}
	return r;
}

static int converge(compose_graph *g, compose_task *t, berth_client *cl, berth_error **err)
{
	up_state *s = g->userdata;
	if (wait_conditions(g, t, cl, err) < 0)
		return -1;
	int replicas = berth_compose_replicas(t->svc);
	json_t *scale = json_object_get(s->o->scale, t->name);
	if (json_is_integer(scale))
		replicas = (int)json_integer_value(scale);
	char hash[65];
	berth_compose_config_hash(t->svc, hash);
	bool dep_changed = deps_recreated(g, t);
	bool *have = berth_xcalloc((size_t)replicas + 2, sizeof(bool));
	replica_job *jobs = berth_xcalloc(json_array_size(t->existing) + (size_t)replicas + 1,
					  sizeof(replica_job));
	size_t n = 0, i;
	json_t *ct;
	json_array_foreach(t->existing, i, ct) {
		int number = atoi(compose_label(ct, COMPOSE_LABEL_NUMBER));
		/* scaled down, or a number already taken: removed */
		bool remove = number < 1 || number > replicas || have[number];
		if (!remove)
			have[number] = true;
		jobs[n++] = (replica_job){.g = g, .t = t, .ct = ct, .number = number,
					  .remove = remove, .hash = hash, .dep_changed = dep_changed};
	}
	for (int k = 1; k <= replicas; k++)
		if (!have[k])
			jobs[n++] = (replica_job){.g = g, .t = t, .number = k};
	int r = run_replicas(jobs, n, cl, err);
	free(jobs);
	free(have);
	return r;
}

/* ------------------------------------------------------------------- up */

static int orphans(berth_compose_ctx *c, const json_t *containers, bool remove,
		   berth_error **err)
{
	const json_t *m = c->project->model;
	berth_buf names cleanup_buf = {0};
	size_t i;
	json_t *ct;
	json_array_foreach(containers, i, ct) {
		const char *svc = compose_label(ct, COMPOSE_LABEL_SERVICE);
		if (json_object_get(json_object_get(m, "services"), svc) ||
		    json_object_get(c->project->disabled, svc))
			continue;
		if (remove) {
			const char *id = berth_json_string(ct, "Id");
			if (compose_container_stop(c, c->client, id, compose_container_name(ct), -1, err) < 0 ||
			    compose_container_remove(c, c->client, id, compose_container_name(ct), false, err) < 0)
				return -1;
		} else {
			berth_buf_printf(&names, "%s%s", names.len ? ", " : "", compose_container_name(ct));
		}
	}
	if (names.len)
		fprintf(c->io.err,
			"WARN[0000] Found orphan containers ([%s]) for this project. If you removed or "
			"renamed this service in your compose file, you can run this command with the "
			"--remove-orphans flag to clean it up.\n",
			names.data);
	return 0;
}

int berth_compose_up(berth_compose_ctx *c, const berth_compose_up_opts *o, int *exit_code,
		     berth_error **err)
{
	if (compose_check_services(c->project, o->services, err) < 0)
		return -1;
	up_state s = {.o = o, .networks = true};
	compose_graph g __attribute__((cleanup(compose_graph_reset))) = {0};
	compose_graph_init(&g, c, o->services, !o->no_deps);
	g.fn = converge;
	g.userdata = &s;
	json_t *all cleanup_json = NULL;
	if (compose_list(c->client, c->project->name, NULL, true, false, &all, err) < 0 ||
	    orphans(c, all, o->remove_orphans, err) < 0 || ensure_resources(&g, &s.networks, err) < 0)
		return -1;
	for (size_t i = 0; i < g.n; i++) {
		g.tasks[i].existing = json_array();
		size_t j;
		json_t *ct;
		json_array_foreach(all, j, ct)
			if (strcmp(compose_label(ct, COMPOSE_LABEL_SERVICE), g.tasks[i].name) == 0)
				json_array_append(g.tasks[i].existing, ct);
	}
	if (exit_code)
		*exit_code = 0;
	if (compose_graph_run(&g, err) < 0)
		return -1;
	if (o->wait)
		return wait_ready(c, o->services, o->wait_timeout, err);
	return o->detach || o->no_start ? 0 : compose_attach(c, o, exit_code, err);
}
