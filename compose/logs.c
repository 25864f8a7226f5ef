/*
 * logs.c - the logs of a project's containers, one reader thread each,
 * every line prefixed "name  | " (names padded to the longest, in a colour
 * of their own on a terminal) as Docker Compose prints them.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "logs.h"

static const int colours[] = {36, 33, 32, 35, 34, 96, 93, 92, 95, 94};

typedef struct log_reader {
	compose_log_printer *pr;
	char *id;
	char *prefix;
	bool tty;
	char *path;
	berth_buf partial[3]; /* by stream: stdout, stderr */
	berth_buf frame;
	pthread_t thread;
	berth_error *err;
	bool done; /* the stream ended: every line is out */
} log_reader;

int compose_log_name_width(const json_t *containers)
{
	int width = 0;
	size_t i;
	json_t *ct;
	json_array_foreach(containers, i, ct)
		if ((int)strlen(compose_container_name(ct)) > width)
			width = (int)strlen(compose_container_name(ct));
	return width;
}

void compose_log_printer_init(compose_log_printer *pr, const berth_compose_ctx *c)
{
	memset(pr, 0, sizeof(*pr));
	pr->c = c;
	pthread_mutex_init(&pr->mu, NULL);
	pthread_cond_init(&pr->cond, NULL);
}

char *compose_log_prefix(const compose_log_printer *pr, const char *name, int index, int width)
{
	/* Compose pads to the longest name plus one */
	if (pr->c->io.no_color)
		return berth_xasprintf("%-*s | ", width + 1, name);
	return berth_xasprintf("\033[%dm%-*s | \033[0m", colours[index % BERTH_ARRAY_SIZE(colours)],
			       width + 1, name);
}

void compose_log_line(compose_log_printer *pr, const char *prefix, const char *line, size_t len)
{
	pthread_mutex_lock(&pr->mu);
	fprintf(pr->c->io.out, "%s%.*s\n", prefix, (int)len, line);
	fflush(pr->c->io.out);
	pthread_mutex_unlock(&pr->mu);
}

static void emit_lines(log_reader *r, berth_buf *b, bool flush)
{
	for (;;) {
		char *nl = b->len ? memchr(b->data, '\n', b->len) : NULL;
		if (nl == NULL)
			break;
		compose_log_line(r->pr, r->prefix, b->data, (size_t)(nl - b->data));
		berth_buf_consume(b, (size_t)(nl - b->data) + 1);
	}
	if (flush && b->len) {
		compose_log_line(r->pr, r->prefix, b->data, b->len);
		berth_buf_reset(b);
	}
}

/* Docker's stream framing: 8-byte headers (stream, 0, 0, 0, size BE). */
static int on_chunk(void *ud, const char *data, size_t len)
{
	log_reader *r = ud;
	if (r->tty) {
		berth_buf_append(&r->partial[1], data, len);
		emit_lines(r, &r->partial[1], false);
		return 0;
	}
	berth_buf_append(&r->frame, data, len);
	while (r->frame.len >= 8) {
		const unsigned char *h = (const unsigned char *)r->frame.data;
		size_t size = (size_t)h[4] << 24 | (size_t)h[5] << 16 | (size_t)h[6] << 8 | h[7];
		if (r->frame.len < 8 + size)
			break;
		int stream = h[0] == 2 ? 2 : 1;
		berth_buf_append(&r->partial[stream], r->frame.data + 8, size);
		emit_lines(r, &r->partial[stream], false);
		berth_buf_consume(&r->frame, 8 + size);
	}
	return 0;
}

static void *reader_main(void *arg)
{
	log_reader *r = arg;
	berth_client *cl = NULL;
	long status = 0;
	if (compose_client_new(r->pr->c, &cl, &r->err) == 0)
		berth_client_stream(cl, "GET", r->path, NULL, NULL, 0, &status, on_chunk, r, &r->err);
	emit_lines(r, &r->partial[1], true);
	emit_lines(r, &r->partial[2], true);
	berth_client_free(cl);
	pthread_mutex_lock(&r->pr->mu);
	r->done = true;
	pthread_cond_broadcast(&r->pr->cond);
	pthread_mutex_unlock(&r->pr->mu);
	return NULL;
}

int compose_log_printer_add(compose_log_printer *pr, const json_t *container, const char *query,
			    const char *prefix, void **handle, berth_error **err)
{
	const char *id = berth_json_string(container, "Id");
	char *ipath cleanup_free = berth_xasprintf("/containers/%s/json", id);
	json_t *info cleanup_json = NULL;
	if (compose_api(pr->c->client, "GET", ipath, NULL, &info, err) < 0)
		return -1;
	log_reader *r = berth_xcalloc(1, sizeof(*r));
	r->pr = pr;
	r->id = berth_xstrdup(id);
	r->prefix = berth_xstrdup(prefix);
	r->tty = json_is_true(json_object_get(json_object_get(info, "Config"), "Tty"));
	r->path = berth_xasprintf("/containers/%s/logs?stdout=1&stderr=1%s", id, query);
	if (pthread_create(&r->thread, NULL, reader_main, r) != 0) {
		free(r->id);
		free(r->prefix);
		free(r->path);
		free(r);
		return berth_error_set(err, 500, "cannot start a thread");
	}
	pr->readers = berth_xrealloc(pr->readers, (pr->n + 1) * sizeof(void *));
	pr->readers[pr->n++] = r;
	if (handle)
		*handle = r;
	return 0;
}

void compose_log_printer_wait(compose_log_printer *pr)
{
	for (size_t i = 0; i < pr->n; i++) {
		log_reader *r = pr->readers[i];
		pthread_join(r->thread, NULL);
		berth_error_free(&r->err);
		for (int k = 0; k < 3; k++)
			berth_buf_reset(&r->partial[k]);
		berth_buf_reset(&r->frame);
		free(r->id);
		free(r->prefix);
		free(r->path);
		free(r);
	}
	free(pr->readers);
	pr->readers = NULL;
	pr->n = 0;
	pthread_mutex_destroy(&pr->mu);
	pthread_cond_destroy(&pr->cond);
}

void compose_log_reader_drain(compose_log_printer *pr, void *handle)
{
	log_reader *r = handle;
	pthread_mutex_lock(&pr->mu);
	while (r && !r->done)
		pthread_cond_wait(&pr->cond, &pr->mu);
	pthread_mutex_unlock(&pr->mu);
}

int berth_compose_logs(berth_compose_ctx *c, const berth_compose_logs_opts *o, berth_error **err)
{
	json_t *list cleanup_json = NULL;
	if (compose_check_services(c->project, o->services, err) < 0)
		return -1;
	if (compose_list(c->client, c->project->name, o->services, true, false, &list, err) < 0)
		return -1;
	berth_buf q cleanup_buf = {0};
	berth_buf_puts(&q, "");
	if (o->follow)
		berth_buf_puts(&q, "&follow=1");
	if (o->timestamps)
		berth_buf_puts(&q, "&timestamps=1");
	if (o->tail && strcmp(o->tail, "all") != 0)
		berth_buf_printf(&q, "&tail=%s", o->tail);
	const char *times[][2] = {{"since", o->since}, {"until", o->until}};
	for (size_t t = 0; t < 2; t++) {
		int64_t ns;
		if (times[t][1] == NULL || *times[t][1] == '\0')
			continue;
		if (berth_time_parse(times[t][1], berth_time_now_ns(), &ns, err) < 0)
			return -1;
		berth_buf_printf(&q, "&%s=%lld.%09lld", times[t][0], (long long)(ns / 1000000000),
				 (long long)(ns % 1000000000));
	}
	int width = compose_log_name_width(list);
	size_t i;
	json_t *ct;
	compose_log_printer pr;
	compose_log_printer_init(&pr, c);
	int r = 0;
	json_array_foreach(list, i, ct) {
		if (o->index > 0 && atoi(compose_label(ct, COMPOSE_LABEL_NUMBER)) != o->index)
			continue;
		char *prefix cleanup_free = o->no_prefix ? berth_xstrdup("")
			: compose_log_prefix(&pr, compose_container_name(ct), (int)i, width);
		if ((r = compose_log_printer_add(&pr, ct, q.data, prefix, NULL, err)) < 0)
			break;
	}
	compose_log_printer_wait(&pr);
	return r;
}
