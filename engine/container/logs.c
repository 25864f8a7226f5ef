/*
 * logs.c - GET /containers/{id}/logs from the json-file log the shim writes.
 *
 * The reading runs on a pool thread and writes through a pump (back-pressure
 * from a slow client); with follow it keeps reading as the file grows until
 * the shim has exited (its control socket is gone) and the file is drained.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine/api/pump.h"
#include "internal.h"
#include "shim/shim.h"

typedef struct logs_job {
	char *log_path;
	char *control_path;
	bool tty, want_stdout, want_stderr, timestamps, follow;
	int64_t since_ns, until_ns;
	long tail;                  /* -1: all */
	pump *pump;
	berth_buf frame;
	long lines;                 /* counted by the tail pass */
	long skip;                  /* lines to pass over before emitting */
} logs_job;

/* One log entry out: Docker's stream frame, unless the container has a TTY. */
static int emit(logs_job *j, const json_t *entry, berth_error **err)
{
	const char *stream = berth_json_string(entry, "stream");
	bool is_err = stream && strcmp(stream, "stderr") == 0;
	if ((is_err && !j->want_stderr) || (!is_err && !j->want_stdout))
		return 0;
	const char *text = berth_json_string(entry, "log");
	const char *time = berth_json_string(entry, "time");
	if (text == NULL)
		return 0;
	j->frame.len = 0;
	if (!j->tty)
		berth_buf_append(&j->frame, "\0\0\0\0\0\0\0\0", 8);
	if (j->timestamps && time)
		berth_buf_printf(&j->frame, "%s ", time);
	berth_buf_puts(&j->frame, text);
	if (!j->tty) {
		uint32_t len = (uint32_t)(j->frame.len - 8);
		unsigned char *h = (unsigned char *)j->frame.data;
		h[0] = is_err ? 2 : 1;
		h[4] = (unsigned char)(len >> 24);
		h[5] = (unsigned char)(len >> 16);
		h[6] = (unsigned char)(len >> 8);
		h[7] = (unsigned char)len;
	}
	return pump_write(j->pump, j->frame.data, j->frame.len, err);
}

static bool in_window(logs_job *j, const json_t *entry)
{
	if (j->since_ns <= 0 && j->until_ns <= 0)
		return true;
	int64_t t = 0;
	berth_time_parse(berth_json_string(entry, "time") ?: "0", 0, &t, NULL);
	return (j->since_ns <= 0 || t >= j->since_ns) && (j->until_ns <= 0 || t <= j->until_ns);
}

/* Calls fn for each complete line of f from *offset on; advances *offset. */
typedef int (*line_fn)(logs_job *j, const char *line, size_t len, berth_error **err);

static int read_lines(logs_job *j, FILE *f, long *offset, line_fn fn, berth_error **err)
{
	char *line = NULL;
	size_t cap = 0;
	fseek(f, *offset, SEEK_SET);
	ssize_t n;
	int rc = 0;
	while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] != '\n')
			break; /* the shim is mid-write: read it next time */
		*offset += n;
		rc = fn(j, line, (size_t)n, err);
	}
	clearerr(f);
	free(line);
	return rc;
}

static int count_line(logs_job *j, const char *line, size_t len, berth_error **err)
{
	j->lines++;
	return 0;
}

static int emit_line(logs_job *j, const char *line, size_t len, berth_error **err)
{
	if (j->skip > 0) {
		j->skip--;
		return 0;
	}
	json_t *entry = NULL;
	if (berth_json_parse_object(line, len, &entry, NULL) < 0)
		return 0; /* a damaged line is skipped, as dockerd does */
	int rc = in_window(j, entry) ? emit(j, entry, err) : 0;
	json_decref(entry);
	return rc;
}

static int logs_work(void *data, berth_error **err)
{
	logs_job *j = data;
	FILE *f = fopen(j->log_path, "r");
	if (f == NULL)
		return 0; /* nothing logged yet */
	long offset = 0;
	if (j->tail >= 0) {
		read_lines(j, f, &offset, count_line, err);
		j->skip = j->lines > j->tail ? j->lines - j->tail : 0;
		offset = 0;
	}
	int rc = read_lines(j, f, &offset, emit_line, err);
	while (rc == 0 && j->follow) {
		bool alive = access(j->control_path, F_OK) == 0;
		rc = read_lines(j, f, &offset, emit_line, err);
		if (!alive || rc < 0 || pump_write(j->pump, "", 0, err) < 0)
			break;
		usleep(50000);
	}
	fclose(f);
	return rc < 0 ? -1 : 0;
}

static int logs_done(berth_daemon *d, berth_api_req *req, void *userdata, berth_error *work_err,
		     berth_error **err)
{
	logs_job *j = userdata;
	pump_finish(j->pump, NULL, 0);
	free(j->log_path);
	free(j->control_path);
	berth_buf_reset(&j->frame);
	free(j);
	return 0;
}

int berth_container_logs(berth_container_store *s, berth_api_req *req, const char *name,
			 berth_error **err)
{
	berth_container *c;
	if (berth_container_find(s, name, &c, err) < 0)
		return -1;
	bool out = berth_api_query_bool(req, "stdout", false);
	bool errs = berth_api_query_bool(req, "stderr", false);
	if (!out && !errs)
		return berth_error_set(err, 400, "Bad parameters: you must choose at least one stream");
	int64_t now = berth_time_now_ns(), since = 0, until = 0;
	const char *q;
	if ((q = berth_api_query(req, "since")) && *q && strcmp(q, "0") != 0 &&
	    berth_time_parse(q, now, &since, err) < 0)
		return -1;
	if ((q = berth_api_query(req, "until")) && *q && strcmp(q, "0") != 0 &&
	    berth_time_parse(q, now, &until, err) < 0)
		return -1;
	long tail = -1;
	if ((q = berth_api_query(req, "tail")) && *q && strcmp(q, "all") != 0) {
		char *end;
		tail = strtol(q, &end, 10);
		if (*end || tail < 0)
			tail = -1;
	}
	logs_job *j = berth_xcalloc(1, sizeof(*j));
	j->log_path = berth_xstrdup(berth_json_string(c->record, "LogPath") ?: "");
	j->control_path = berth_xasprintf("%s/%s", c->shim_dir, BERTH_SHIM_CONTROL_SOCK);
	j->tty = json_is_true(json_object_get(json_object_get(c->record, "Config"), "Tty"));
	j->want_stdout = out;
	j->want_stderr = errs;
	j->timestamps = berth_api_query_bool(req, "timestamps", false);
	j->follow = berth_api_query_bool(req, "follow", false) && container_running(c);
	j->since_ns = since;
	j->until_ns = until;
	j->tail = tail;
	j->pump = pump_start(s->daemon, req, j->tty ? "application/vnd.docker.raw-stream"
						  : "application/vnd.docker.multiplexed-stream");
	if (j->pump == NULL) {
		free(j->log_path);
		free(j->control_path);
		free(j);
		return berth_error_set(err, 500, "could not start the logs stream");
	}
	return berth_api_defer(s->daemon, req, logs_work, logs_done, j);
}
