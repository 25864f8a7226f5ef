/*
 * runner.c - one thread per service, each waiting for the services it
 * depends on (or, in reverse, for those depending on it) before it runs:
 * independent services start in parallel, dependencies in order. Every
 * thread has its own API client (a client is one connection).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "runner.h"

compose_task *compose_graph_find(compose_graph *g, const char *name)
{
	for (size_t i = 0; i < g->n; i++)
		if (strcmp(g->tasks[i].name, name) == 0)
			return &g->tasks[i];
	return NULL;
}

/* Does a (forward: a depends on b) wait for b? */
static bool waits_for(compose_graph *g, const compose_task *a, const compose_task *b)
{
	const compose_task *from = g->reverse ? b : a, *to = g->reverse ? a : b;
	return json_object_get(json_object_get(from->svc, "depends_on"), to->name) != NULL;
}

/* Blocks until every task t waits for is finished; false when one failed. */
static bool wait_deps(compose_graph *g, compose_task *t, const char **failed)
{
	bool ok = true;
	pthread_mutex_lock(&g->mu);
	for (size_t i = 0; i < g->n; i++) {
		compose_task *d = &g->tasks[i];
		if (d == t || !d->selected || !waits_for(g, t, d))
			continue;
		while (d->state == COMPOSE_TASK_PENDING)
			pthread_cond_wait(&g->cond, &g->mu);
		if (d->state == COMPOSE_TASK_FAILED) {
			ok = false;
			*failed = d->name;
		}
	}
	pthread_mutex_unlock(&g->mu);
	return ok;
}

static void *task_main(void *arg)
{
	compose_task *t = arg;
	compose_graph *g = t->graph;
	const char *failed = NULL;
	berth_client *cl = NULL;
	int r;
	if (!wait_deps(g, t, &failed))
		r = berth_error_set(&t->err, 500, "dependency failed to start: service %s failed",
				    failed);
	else if ((r = compose_client_new(g->c, &cl, &t->err)) == 0)
		r = g->fn(g, t, cl, &t->err);
	berth_client_free(cl);
	pthread_mutex_lock(&g->mu);
	t->state = r < 0 ? COMPOSE_TASK_FAILED : COMPOSE_TASK_DONE;
	pthread_cond_broadcast(&g->cond);
	pthread_mutex_unlock(&g->mu);
	return NULL;
}

int compose_graph_run(compose_graph *g, berth_error **err)
{
	pthread_mutex_init(&g->mu, NULL);
	pthread_cond_init(&g->cond, NULL);
	for (size_t i = 0; i < g->n; i++) {
		compose_task *t = &g->tasks[i];
		t->graph = g;
		t->state = t->selected ? COMPOSE_TASK_PENDING : COMPOSE_TASK_DONE;
		if (t->selected && pthread_create(&t->thread, NULL, task_main, t) != 0) {
			t->selected = false;
			t->state = COMPOSE_TASK_FAILED;
			berth_error_set(&t->err, 500, "cannot start a thread");
		}
	}
	int r = 0;
	for (size_t i = 0; i < g->n; i++) {
		compose_task *t = &g->tasks[i];
		if (t->selected)
			pthread_join(t->thread, NULL);
	}
	for (size_t i = 0; i < g->n; i++) {
		compose_task *t = &g->tasks[i];
		/* the first error that is not a consequence of another one */
		if (t->err && r == 0 && !berth_str_has_prefix(t->err->msg, "dependency failed")) {
			berth_error_propagate(&t->err, err);
			r = -1;
		}
	}
	for (size_t i = 0; i < g->n; i++) {
		compose_task *t = &g->tasks[i];
		if (t->err && r == 0) {
			berth_error_propagate(&t->err, err);
			r = -1;
		}
		berth_error_free(&t->err);
	}
	pthread_mutex_destroy(&g->mu);
	pthread_cond_destroy(&g->cond);
	return r;
}

void compose_graph_init(compose_graph *g, berth_compose_ctx *c, char *const *services,
			bool with_deps)
{
	const json_t *all = json_object_get(c->project->model, "services");
	json_t *order cleanup_json = NULL;
	berth_error *err cleanup_error = NULL;
	if (berth_compose_order(all, &order, &err) < 0)
		order = json_array();
	g->c = c;
	g->n = json_array_size(order);
	g->tasks = berth_xcalloc(g->n + 1, sizeof(compose_task));
	size_t i;
	json_t *v;
	json_array_foreach(order, i, v) {
		g->tasks[i].name = berth_xstrdup(json_string_value(v));
		g->tasks[i].svc = json_object_get(all, g->tasks[i].name);
		g->tasks[i].selected = compose_wanted(services, g->tasks[i].name);
	}
	/* what the selected services depend on, transitively (the order has
	 * dependencies first: walk it backwards) */
	for (size_t k = g->n; with_deps && k-- > 0;) {
		if (!g->tasks[k].selected)
			continue;
		const char *dep;
		json_t *d;
		json_object_foreach(json_object_get(g->tasks[k].svc, "depends_on"), dep, d) {
			compose_task *t = compose_graph_find(g, dep);
			if (t)
				t->selected = true;
		}
	}
}

void compose_graph_reset(compose_graph *g)
{
	for (size_t i = 0; i < g->n; i++) {
		free((char *)g->tasks[i].name);
		json_decref(g->tasks[i].existing);
	}
	free(g->tasks);
	g->tasks = NULL;
	g->n = 0;
}
