/*
 * stats.c - GET /containers/{id}/stats, streamed or one sample.
 *
 * A timer on the loop takes a sample every second in the thread pool and
 * writes it with the previous one's CPU figures as precpu_stats, as dockerd's
 * collector does. Without stream (and without one-shot) the first sample only
 * primes precpu and the second is sent, so the docker CLI can compute CPU %.
 * The job looks its container up by ID on every tick: a removed container
 * ends the stream, and no reference pins it.
 */
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define STATS_INTERVAL_MS 1000
/* A client that does not read gets no more samples queued past this. */
#define STATS_MAX_PENDING (256 * 1024)

typedef struct stats_job {
	uv_work_t work;
	uv_timer_t timer;
	berth_container_store *store;
	berth_api_stream *stream;
	char id[65];
	char *name;
	int pid;                    /* 0: not running; an empty sample */
	bool stream_mode, prime;    /* prime: the next sample is not sent */
	bool busy, closed;
	json_t *sample;             /* the work's result */
	json_t *prev_cpu;
	char prev_read[40];
} stats_job;

static void job_free_cb(uv_handle_t *h)
{
	stats_job *j = h->data;
	json_decref(j->prev_cpu);
	json_decref(j->sample);
	free(j->name);
	free(j);
}

/* Ends the stream (unless the client already went) and frees the job once
 * no work is in flight. */
static void job_end(stats_job *j)
{
	if (!j->closed && j->stream) {
		berth_api_stream *s = j->stream;
		j->stream = NULL;
		j->closed = true;
		berth_api_stream_end(s);
	}
	j->closed = true;
	if (!j->busy && !uv_is_closing((uv_handle_t *)&j->timer))
		uv_close((uv_handle_t *)&j->timer, job_free_cb);
}

static void on_stream_close(berth_api_stream *s, void *userdata)
{
	stats_job *j = userdata;
	j->stream = NULL;
	job_end(j);
}

static void sample_work(uv_work_t *w)
{
	stats_job *j = w->data;
	j->sample = NULL;
	if (j->pid > 0 && container_stats_sample(j->pid, j->name, j->id, &j->sample, NULL) == 0)
		return;
	j->sample = container_stats_empty(j->name, j->id);
}

static void tick(uv_timer_t *t);

static void sample_done(uv_work_t *w, int status)
{
	stats_job *j = w->data;
	j->busy = false;
	json_t *s = j->sample;
	j->sample = NULL;
	if (j->closed) {
		json_decref(s);
		job_end(j);
		return;
	}
	json_object_set(s, "precpu_stats", j->prev_cpu);
	json_object_set_new(s, "preread", json_string(j->prev_read));
	json_decref(j->prev_cpu);
	j->prev_cpu = json_incref(json_object_get(s, "cpu_stats"));
	snprintf(j->prev_read, sizeof(j->prev_read), "%s", berth_json_string(s, "read") ?: "");
	if (j->prime) {
		j->prime = false;
		json_decref(s);
		uv_timer_start(&j->timer, tick, STATS_INTERVAL_MS, 0);
		return;
	}
	if (berth_api_stream_pending(j->stream) < STATS_MAX_PENDING)
		berth_api_stream_write_json(j->stream, s);
	else
		json_decref(s);
	if (!j->stream_mode) {
		job_end(j);
		return;
	}
	uv_timer_start(&j->timer, tick, STATS_INTERVAL_MS, 0);
}

static void tick(uv_timer_t *t)
{
	stats_job *j = t->data;
	berth_container *c = NULL;
	if (berth_container_find(j->store, j->id, &c, NULL) < 0) {
		job_end(j); /* removed */
		return;
	}
	j->pid = container_running(c) ? (int)json_integer_value(json_object_get(container_state(c), "Pid")) : 0;
	free(j->name);
	j->name = berth_xstrdup(c->name);
	j->busy = true;
	j->work.data = j;
	if (uv_queue_work(t->loop, &j->work, sample_work, sample_done) < 0) {
		j->busy = false;
		job_end(j);
	}
}

int berth_container_stats(berth_container_store *s, berth_api_req *req, const char *name,
			  berth_error **err)
{
	berth_container *c;
	if (berth_container_find(s, name, &c, err) < 0)
		return -1;
	bool stream = berth_api_query_bool(req, "stream", true);
	bool one_shot = berth_api_query_bool(req, "one-shot", false);
	if (one_shot && stream)
		return berth_error_set(err, 400, "cannot have stream=true and one-shot=true");
	stats_job *j = berth_xcalloc(1, sizeof(*j));
	j->store = s;
	snprintf(j->id, sizeof(j->id), "%s", c->id);
	j->stream_mode = stream;
	/* dockerd answers a stopped container at once, without priming */
	j->prime = !stream && !one_shot && container_running(c);
	json_t *empty cleanup_json = container_stats_empty(c->name, c->id);
	j->prev_cpu = json_incref(json_object_get(empty, "cpu_stats"));
	snprintf(j->prev_read, sizeof(j->prev_read), "%s", CONTAINER_ZERO_TIME);
	uv_timer_init(s->daemon->loop, &j->timer);
	j->timer.data = j;
	j->stream = berth_api_stream_start(req, 200, "application/json", on_stream_close, j);
	if (j->stream == NULL) {
		j->closed = true;
		uv_close((uv_handle_t *)&j->timer, job_free_cb);
		return berth_error_set(err, 500, "could not start the stats stream");
	}
	uv_timer_start(&j->timer, tick, 0, 0);
	return 0;
}
