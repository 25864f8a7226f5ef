/*
 * logs.c - `berth logs`: GET /containers/{id}/logs, demultiplexed to stdout
 * and stderr (raw when the container has a TTY), followed with -f.
 */
#include <signal.h>
#include <string.h>

#include "container.h"

typedef struct logs_opts {
	bool details, follow, timestamps;
	const char *since, *until, *tail;
} logs_opts;

typedef struct logs_stream {
	berth_cli *cli;
	bool tty;
	berth_demux demux;
	berth_error *err;
} logs_stream;

static int write_log(void *userdata, int stream, const char *data, size_t len)
{
	logs_stream *l = userdata;
	return berth_cli_write_stream(stream == 2 ? l->cli->err : l->cli->out, data, len);
}

static int on_logs(void *userdata, const char *data, size_t len)
{
	logs_stream *l = userdata;
	if (l->tty)
		return write_log(l, 1, data, len) < 0 ? 1 : 0;
	return berth_demux_feed(&l->demux, data, len, write_log, l, &l->err) < 0 ? 1 : 0;
}

static char *logs_path(const char *id, const logs_opts *o, berth_error **err)
{
	berth_buf q cleanup_buf = {0};
	berth_buf_puts(&q, "?stdout=1&stderr=1");
	int64_t now = berth_time_now_ns();
	if (berth_cli_timestamp_query(o->since, now, &q, "since", err) < 0) {
		berth_error_wrap(err, "invalid value for \"since\"");
		return NULL;
	}
	if (berth_cli_timestamp_query(o->until, now, &q, "until", err) < 0) {
		berth_error_wrap(err, "invalid value for \"until\"");
		return NULL;
	}
	if (o->timestamps)
		berth_buf_puts(&q, "&timestamps=1");
	if (o->details)
		berth_buf_puts(&q, "&details=1");
	if (o->follow)
		berth_buf_puts(&q, "&follow=1");
	char *tail cleanup_free = berth_url_encode(o->tail);
	berth_buf_printf(&q, "&tail=%s", tail);
	return berth_xasprintf("/containers/%s/logs%s", id, q.data);
}

static int logs_run(berth_cli *cli, const char *name, const logs_opts *o)
{
	signal(SIGPIPE, SIG_IGN); /* a closed stdout is seen as EPIPE (and ends us then) */
	berth_error *err cleanup_error = NULL;
	json_t *c cleanup_json = NULL;
	berth_client *client;
	if (berth_cli_inspect_container(cli, name, &c, &err) < 0)
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	char *path cleanup_free = logs_path(berth_cli_str(c, "Id"), o, &err);
	if (path == NULL || berth_cli_client(cli, &client, &err) < 0)
		return berth_cli_fail(cli, &err, BERTH_EXIT_ERROR);
	logs_stream l = {.cli = cli};
	l.tty = json_is_true(json_object_get(json_object_get(c, "Config"), "Tty"));
	long status = 0;
	int r = berth_client_stream(client, "GET", path, NULL, NULL, 0, &status, on_logs, &l, &err);
	berth_demux_reset(&l.demux);
	if (l.err)
		return berth_cli_fail(cli, &l.err, BERTH_EXIT_ERROR);
	if (r < 0 && status >= 400)
		berth_error_wrap(&err, "Error response from daemon");
	return r < 0 ? berth_cli_fail(cli, &err, BERTH_EXIT_ERROR) : BERTH_EXIT_OK;
}

int berth_cli_logs(berth_invocation *inv)
{
	logs_opts o = {.tail = "all"};
	berth_flag flags[] = {
		{"details", 0, BERTH_FLAG_BOOL, &o.details, "Show extra details provided to logs"},
		{"follow", 'f', BERTH_FLAG_BOOL, &o.follow, "Follow log output"},
		{"since", 0, BERTH_FLAG_STRING, &o.since,
		 "Show logs since timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. "
		 "\"42m\" for 42 minutes)"},
		{"tail", 'n', BERTH_FLAG_STRING, &o.tail,
		 "Number of lines to show from the end of the logs", .def = "all"},
		{"timestamps", 't', BERTH_FLAG_BOOL, &o.timestamps, "Show timestamps"},
		{"until", 0, BERTH_FLAG_STRING, &o.until,
		 "Show logs before a timestamp (e.g. \"2013-01-02T13:23:37Z\") or relative (e.g. "
		 "\"42m\" for 42 minutes)"},
	};
	int status;
	if (!berth_cli_parse(inv, flags, BERTH_ARRAY_SIZE(flags), &status))
		return status;
	return logs_run(inv->cli, inv->args.v[0], &o);
}
