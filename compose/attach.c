/*
 * attach.c - `up` without -d: the containers' output with service prefixes
 * until they have all exited, "name exited with code N" as each one ends;
 * with --abort-on-container-exit the first exit stops the others, and
 * --exit-code-from picks whose code `up` returns. Ctrl-C stops the project
 * gracefully, as Docker Compose does.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "logs.h"
#include "runner.h"

typedef struct attach_run attach_run;

typedef struct waiter {
	attach_run *run;
	char *id, *name, *service, *prefix;
	pthread_t thread;
	void *reader;
	int code;
} waiter;

struct attach_run {
	berth_compose_ctx *c;
	compose_log_printer pr;
	pthread_mutex_t mu;
	pthread_cond_t cond;
	size_t running;
	waiter *first_exit;
};

static volatile sig_atomic_t interrupted;

static void on_sigint(int sig)
{
	interrupted = 1;
}

static void *waiter_main(void *arg)
{
	waiter *w = arg;
	berth_client *cl = NULL;
	berth_error *err cleanup_error = NULL;
	json_t *out cleanup_json = NULL;
	char *path cleanup_free = berth_xasprintf("/containers/%s/wait?condition=not-running", w->id);
	w->code = -1;
	if (compose_client_new(w->run->c, &cl, &err) == 0 &&
	    compose_api(cl, "POST", path, NULL, &out, &err) == 0)
		w->code = (int)json_integer_value(json_object_get(out, "StatusCode"));
	berth_client_free(cl);
	attach_run *r = w->run;
	/* its last lines before the line that says it exited */
	compose_log_reader_drain(&r->pr, w->reader);
	char *msg cleanup_free = berth_xasprintf("%s exited with code %d", w->name, w->code);
	pthread_mutex_lock(&r->mu);
	if (r->first_exit == NULL)
		r->first_exit = w;
	r->running--;
	pthread_cond_broadcast(&r->cond);
	pthread_mutex_unlock(&r->mu);
	compose_log_line(&r->pr, "", msg, strlen(msg));
	return NULL;
}

/* Waits until every container exited, or (abort) one did, or Ctrl-C. */
static void wait_exits(attach_run *r, bool abort_on_exit)
{
	pthread_mutex_lock(&r->mu);
	while (r->running > 0 && !(abort_on_exit && r->first_exit) && !interrupted) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 100 * 1000 * 1000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&r->cond, &r->mu, &ts);
	}
	pthread_mutex_unlock(&r->mu);
}

static char *since_started(berth_compose_ctx *c, const char *id)
{
	char *path cleanup_free = berth_xasprintf("/containers/%s/json", id);
	json_t *info cleanup_json = NULL;
	berth_error *err cleanup_error = NULL;
	int64_t ns = 0;
	if (compose_api(c->client, "GET", path, NULL, &info, &err) < 0 ||
	    berth_time_parse(berth_json_string(json_object_get(info, "State"), "StartedAt") ?: "",
			     0, &ns, &err) < 0 || ns <= 0)
		return berth_xstrdup("&follow=1");
	return berth_xasprintf("&follow=1&since=%lld.%09lld", (long long)(ns / 1000000000),
			       (long long)(ns % 1000000000));
}

static int start_waiters(attach_run *r, const json_t *list, waiter *ws, size_t *started,
			 berth_error **err)
{
	int width = compose_log_name_width(list);
	size_t i;
	json_t *ct;
	json_array_foreach(list, i, ct) {
		waiter *w = &ws[i];
		w->run = r;
		w->id = berth_xstrdup(berth_json_string(ct, "Id"));
		w->name = berth_xstrdup(compose_container_name(ct));
		w->service = berth_xstrdup(compose_label(ct, COMPOSE_LABEL_SERVICE));
		w->prefix = compose_log_prefix(&r->pr, w->name, (int)i, width);
		/* this run's output: what an earlier run printed stays out */
		char *query cleanup_free = since_started(r->c, w->id);
		if (compose_log_printer_add(&r->pr, ct, query, w->prefix, &w->reader, err) < 0)
			return -1;
		pthread_mutex_lock(&r->mu);
		r->running++;
		pthread_mutex_unlock(&r->mu);
		if (pthread_create(&w->thread, NULL, waiter_main, w) != 0) {
			pthread_mutex_lock(&r->mu);
			r->running--;
			pthread_mutex_unlock(&r->mu);
			return berth_error_set(err, 500, "cannot start a thread");
		}
		(*started)++;
	}
	return 0;
}

static int exit_status(const berth_compose_up_opts *o, waiter *ws, size_t n, waiter *first)
{
	if (o->exit_code_from) {
		for (size_t i = 0; i < n; i++)
			if (strcmp(ws[i].service, o->exit_code_from) == 0)
				return ws[i].code;
		return 0;
	}
	if (o->abort_on_exit && first)
		return first->code;
	return 0;
}

static bool listed(char *const *services, const char *name)
{
	for (char *const *s = services; s && *s; s++)
		if (strcmp(*s, name) == 0)
			return true;
	return false;
}

/* --attach and --no-attach: whose logs up follows (and whose exit it sees) */
static void attached_only(const berth_compose_up_opts *o, json_t *list)
{
	for (size_t i = json_array_size(list); i-- > 0;) {
		const char *svc = compose_label(json_array_get(list, i), COMPOSE_LABEL_SERVICE);
		if ((o->attach && !listed(o->attach, svc)) || listed(o->no_attach, svc))
			json_array_remove(list, i);
	}
}

int compose_attach(berth_compose_ctx *c, const berth_compose_up_opts *o, int *exit_code,
		   berth_error **err)
{
	json_t *list cleanup_json = NULL;
	if (compose_list(c->client, c->project->name, o->services, true, false, &list, err) < 0)
		return -1;
	attached_only(o, list);
	berth_buf names cleanup_buf = {0};
	size_t i;
	json_t *ct;
	json_array_foreach(list, i, ct)
		berth_buf_printf(&names, "%s%s", names.len ? ", " : "", compose_container_name(ct));
	fprintf(c->io.out, "Attaching to %s\n", names.data ? names.data : "");
	fflush(c->io.out);
	attach_run r = {.c = c};
	pthread_mutex_init(&r.mu, NULL);
	pthread_cond_init(&r.cond, NULL);
	compose_log_printer_init(&r.pr, c);
	size_t n = json_array_size(list), started = 0;
	waiter *ws = berth_xcalloc(n + 1, sizeof(waiter));
	struct sigaction sa = {.sa_handler = on_sigint}, old;
	sigaction(SIGINT, &sa, &old);
	interrupted = 0;
	int rc = start_waiters(&r, list, ws, &started, err);
	if (rc == 0)
		wait_exits(&r, o->abort_on_exit);
	if (rc < 0 || interrupted || (o->abort_on_exit && r.running > 0)) {
		fputs(interrupted ? "Gracefully stopping... (press Ctrl+C again to force)\n"
				  : "Aborting on container exit...\n",
		      c->io.err);
		sigaction(SIGINT, &old, NULL);
		berth_compose_action_opts so = {.services = o->services, .timeout = o->timeout};
		berth_error *e cleanup_error = NULL;
		if (berth_compose_act(c, BERTH_COMPOSE_STOP, &so, &e) < 0 && rc == 0)
			rc = berth_error_propagate(&e, err);
	}
	for (i = 0; i < started; i++)
		pthread_join(ws[i].thread, NULL);
	compose_log_printer_wait(&r.pr);
	sigaction(SIGINT, &old, NULL);
	if (exit_code)
		*exit_code = interrupted ? 130 : exit_status(o, ws, started, r.first_exit);
	for (i = 0; i < n; i++) {
		free(ws[i].id);
		free(ws[i].name);
		free(ws[i].service);
		free(ws[i].prefix);
	}
	free(ws);
	pthread_mutex_destroy(&r.mu);
	pthread_cond_destroy(&r.cond);
	return rc;
}
