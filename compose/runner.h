/* runner.h - services run in dependency order, in parallel where they can. */
#ifndef BERTH_COMPOSE_RUNNER_H
#define BERTH_COMPOSE_RUNNER_H

#include <pthread.h>

#include "engine.h"

enum { COMPOSE_TASK_PENDING, COMPOSE_TASK_DONE, COMPOSE_TASK_FAILED };

typedef struct compose_graph compose_graph;

typedef struct compose_task {
	const char *name;
	const json_t *svc;
	bool selected;      /* runs; the others count as done */
	int state;
	bool recreated;     /* up: its containers were replaced (dependents follow) */
	json_t *existing;   /* up: its containers before */
	berth_error *err;
	pthread_t thread;
	compose_graph *graph;
} compose_task;

typedef int (*compose_task_fn)(compose_graph *g, compose_task *t, berth_client *cl,
			       berth_error **err);

struct compose_graph {
	berth_compose_ctx *c;
	compose_task *tasks; /* dependency order */
	size_t n;
	bool reverse;        /* dependents first (stop, down) */
	compose_task_fn fn;
	void *userdata;
	pthread_mutex_t mu;
	pthread_cond_t cond;
};

/* Tasks for the project's services; services NULL: all, else those (and
 * with_deps: what they depend on). */
void compose_graph_init(compose_graph *g, berth_compose_ctx *c, char *const *services,
			bool with_deps);
int compose_graph_run(compose_graph *g, berth_error **err);
compose_task *compose_graph_find(compose_graph *g, const char *name);
void compose_graph_reset(compose_graph *g);

#endif
