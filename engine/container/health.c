/*
 * health.c - HEALTHCHECK: probes run as exec processes through the shim,
 * State.Health kept as dockerd keeps it, health_status events.
 *
 * One timer per running container with a healthcheck schedules the probes:
 * StartInterval while the start period lasts and the container has not been
 * healthy yet, Interval afterwards. A probe blocks a pool thread for at most
 * its Timeout (it prepares an exec, reads its output from the exec's attach
 * socket, then waits for its exit); the result is applied on the loop with
 * dockerd's rules (handleProbeResult): success resets the failing streak,
 * failures inside the start period do not count, Retries failures in a row
 * make the container unhealthy. The last 5 results are kept in the log.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "shim/shim.h"

#define NS_PER_MS 1000000LL
#define HEALTH_DEFAULT_INTERVAL (30000 * NS_PER_MS)
#define HEALTH_DEFAULT_TIMEOUT (30000 * NS_PER_MS)
#define HEALTH_DEFAULT_START_INTERVAL (5000 * NS_PER_MS)
#define HEALTH_DEFAULT_RETRIES 3
#define HEALTH_MAX_OUTPUT 4096 /* dockerd's maxOutputLen */
#define HEALTH_MAX_LOG 5

struct container_health {
	berth_container *c;
	uv_timer_t timer;
	uv_work_t work;
	bool busy;                  /* a probe is in the pool */
	bool stopped;               /* the container stopped: free when idle */
	/* the probe's inputs (set on the loop before it is queued) */
	json_t *exec_config;        /* {"Cmd": [...]} as an exec's */
	char *shim_dir, *bundle_config, *process_path;
	int64_t timeout_ns;
	/* its result */
	int exit_code;
	berth_buf output;
	int64_t start_ns, end_ns;
};

static int64_t hc_duration(const json_t *hc, const char *key, int64_t def)
{
	json_int_t v = json_integer_value(json_object_get(hc, key));
	return v > 0 ? v : def;
}

/* The probe's argv from Test: ["CMD", args...] or ["CMD-SHELL", "cmd"]
 * (through Config.Shell, default /bin/sh -c). NULL: no healthcheck. */
static json_t *probe_argv(const json_t *config)
{
	const json_t *test = json_object_get(json_object_get(config, "Healthcheck"), "Test");
	const char *kind = json_string_value(json_array_get(test, 0));
	if (kind == NULL || json_array_size(test) < 2)
		return NULL;
	if (strcmp(kind, "CMD") == 0) {
		json_t *argv = json_deep_copy(test);
		json_array_remove(argv, 0);
		return argv;
	}
	if (strcmp(kind, "CMD-SHELL") != 0)
		return NULL; /* "NONE" */
	const json_t *shell = json_object_get(config, "Shell");
	json_t *argv = json_array_size(shell) ? json_deep_copy(shell) : json_pack("[s, s]", "/bin/sh", "-c");
	json_array_append(argv, json_array_get(test, 1));
	return argv;
}

/* ------------------------------------------------------- the probe (pool) */

/* Reads the exec's framed output until EOF or the deadline; false on timeout. */
static bool read_output(container_health *h, int fd, int64_t deadline_ns)
{
	berth_buf in cleanup_buf = {0};
	char buf[4096];
	for (;;) {
		int64_t left = (deadline_ns - berth_time_now_ns()) / NS_PER_MS;
		if (left <= 0)
			return false;
		struct pollfd p = {.fd = fd, .events = POLLIN};
		int r = poll(&p, 1, (int)(left > 1000 ? 1000 : left));
		if (r < 0 && errno != EINTR)
			return true;
		if (r <= 0)
			continue;
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			return true;
		berth_buf_append(&in, buf, (size_t)n);
		int stream;
		const char *payload;
		size_t plen;
		long used;
		while ((used = berth_shim_frame_parse(in.data, in.len, &stream, &payload, &plen)) > 0) {
			size_t room = HEALTH_MAX_OUTPUT - h->output.len;
			berth_buf_append(&h->output, payload, plen < room ? plen : room);
			memmove(in.data, in.data + used, in.len - (size_t)used);
			in.len -= (size_t)used;
		}
	}
}

static int probe_run(container_health *h, const char *exec_id, berth_error **err)
{
	json_t *proc cleanup_json = NULL;
	if (container_exec_process(h->exec_config, h->bundle_config, &proc, err) < 0)
		return -1;
	char *text cleanup_free = berth_json_dump(proc);
	if (berth_file_replace(h->process_path, text, strlen(text), 0600, false, err) < 0)
		return -1;
	json_t *prep cleanup_json = json_pack("{s:s, s:s, s:s, s:b}", "cmd", "exec", "exec_id", exec_id,
					      "process", h->process_path, "stdin", false);
	if (container_shim_call(h->shim_dir, prep, NULL, err) < 0)
		return -1;
	char *sock cleanup_free = berth_xasprintf("%s/%s/%s/%s", h->shim_dir, BERTH_SHIM_EXEC_DIR,
						  exec_id, BERTH_SHIM_ATTACH_SOCK);
	int fd cleanup_close = -1;
	static const char hello[] = "{\"stdin\":false,\"stdout\":true,\"stderr\":true}\n";
	if (berth_shim_connect(sock, &fd, err) < 0 || berth_write_all(fd, hello, strlen(hello)) < 0)
		return -1;
	json_t *start cleanup_json = json_pack("{s:s, s:s}", "cmd", "start", "exec_id", exec_id);
	if (container_shim_call(h->shim_dir, start, NULL, err) < 0)
		return -1;
	if (!read_output(h, fd, h->start_ns + h->timeout_ns)) {
		json_t *kill cleanup_json = json_pack("{s:s, s:s, s:i}", "cmd", "kill", "exec_id", exec_id,
						      "signal", 9);
		container_shim_call(h->shim_dir, kill, NULL, NULL);
		h->output.len = 0;
		berth_buf_puts(&h->output, "Health check exceeded timeout (");
		berth_go_duration(&h->output, h->timeout_ns);
		berth_buf_puts(&h->output, ")");
		h->exit_code = -1;
		return 0;
	}
	json_t *wait cleanup_json = json_pack("{s:s, s:s}", "cmd", "wait", "exec_id", exec_id);
	json_t *status cleanup_json = NULL;
	if (container_shim_call(h->shim_dir, wait, &status, err) < 0)
		return -1;
	h->exit_code = (int)json_integer_value(json_object_get(status, "exit_code"));
	return 0;
}

static void probe_work(uv_work_t *w)
{
	container_health *h = w->data;
	char exec_id[65];
	berth_random_id(exec_id);
	h->output.len = 0;
	h->start_ns = berth_time_now_ns();
	berth_error *err cleanup_error = NULL;
	if (probe_run(h, exec_id, &err) < 0) {
		/* dockerd reports a probe it could not run as exit code -1 */
		h->exit_code = -1;
		h->output.len = 0;
		berth_buf_printf(&h->output, "%s", err->msg);
	}
	unlink(h->process_path);
	h->end_ns = berth_time_now_ns();
}

/* -------------------------------------------------------- results (loop) */

static json_t *health_state(berth_container *c)
{
	json_t *st = container_state(c);
	json_t *health = json_object_get(st, "Health");
	if (!json_is_object(health)) {
		health = json_pack("{s:s, s:i, s:[]}", "Status", "starting", "FailingStreak", 0, "Log");
		json_object_set_new(st, "Health", health);
	}
	return health;
}

static bool in_start_period(berth_container *c, int64_t at_ns)
{
	const json_t *hc = json_object_get(json_object_get(c->record, "Config"), "Healthcheck");
	int64_t started = 0;
	berth_time_parse(berth_json_string(container_state(c), "StartedAt") ?: "0", 0, &started, NULL);
	return at_ns - started < hc_duration(hc, "StartPeriod", 0);
}

static void set_status(berth_container *c, json_t *health, const char *status)
{
	const char *old = berth_json_string(health, "Status") ?: "";
	if (strcmp(old, status) == 0)
		return;
	json_object_set_new(health, "Status", json_string(status));
	char *action cleanup_free = berth_xasprintf("health_status: %s", status);
	container_event(c, action, NULL);
}

static void apply_result(container_health *h)
{
	berth_container *c = h->c;
	json_t *health = health_state(c);
	char start[40], end[40];
	berth_time_format_rfc3339(h->start_ns, start, sizeof(start));
	berth_time_format_rfc3339(h->end_ns, end, sizeof(end));
	json_t *log = json_object_get(health, "Log");
	json_array_append_new(log, json_pack("{s:s, s:s, s:i, s:s%}", "Start", start, "End", end,
					     "ExitCode", h->exit_code, "Output",
					     h->output.data ? h->output.data : "", h->output.len));
	while (json_array_size(log) > HEALTH_MAX_LOG)
		json_array_remove(log, 0);
	const json_t *hc = json_object_get(json_object_get(c->record, "Config"), "Healthcheck");
	json_int_t retries = json_integer_value(json_object_get(hc, "Retries"));
	if (retries <= 0)
		retries = HEALTH_DEFAULT_RETRIES;
	if (h->exit_code == 0) {
		json_object_set_new(health, "FailingStreak", json_integer(0));
		set_status(c, health, "healthy");
	} else if (strcmp(berth_json_string(health, "Status") ?: "", "starting") != 0 ||
		   !in_start_period(c, h->start_ns)) {
		json_int_t streak = json_integer_value(json_object_get(health, "FailingStreak")) + 1;
		json_object_set_new(health, "FailingStreak", json_integer(streak));
		if (streak >= retries)
			set_status(c, health, "unhealthy");
	}
	container_save(c, NULL);
}

static void health_release(container_health *h)
{
	json_decref(h->exec_config);
	free(h->shim_dir);
	free(h->bundle_config);
	free(h->process_path);
	berth_buf_reset(&h->output);
	free(h);
}

static void health_free(uv_handle_t *handle)
{
	container_health *h = handle->data;
	berth_container *c = h->c;
	health_release(h);
	container_unref(c);
}

static void schedule(container_health *h);

static void probe_done(uv_work_t *w, int status)
{
	container_health *h = w->data;
	h->busy = false;
	if (h->stopped) {
		uv_close((uv_handle_t *)&h->timer, health_free);
		return;
	}
	apply_result(h);
	schedule(h);
}

static void probe_due(uv_timer_t *t)
{
	container_health *h = t->data;
	berth_container *c = h->c;
	if (container_paused(c)) { /* dockerd does not probe a paused container */
		schedule(h);
		return;
	}
	json_t *config = json_object_get(c->record, "Config");
	h->timeout_ns = hc_duration(json_object_get(config, "Healthcheck"), "Timeout",
				    HEALTH_DEFAULT_TIMEOUT);
	h->busy = true;
	h->work.data = h;
	if (uv_queue_work(t->loop, &h->work, probe_work, probe_done) < 0) {
		h->busy = false;
		schedule(h);
	}
}

static void schedule(container_health *h)
{
	berth_container *c = h->c;
	const json_t *hc = json_object_get(json_object_get(c->record, "Config"), "Healthcheck");
	const char *status = berth_json_string(health_state(c), "Status") ?: "";
	int64_t delay = hc_duration(hc, "Interval", HEALTH_DEFAULT_INTERVAL);
	if (strcmp(status, "starting") == 0 && in_start_period(c, berth_time_now_ns()))
		delay = hc_duration(hc, "StartInterval", HEALTH_DEFAULT_START_INTERVAL);
	uv_timer_start(&h->timer, probe_due, (uint64_t)(delay / NS_PER_MS), 0);
}

void container_health_start(berth_container *c, bool fresh)
{
	json_t *config = json_object_get(c->record, "Config");
	json_t *argv = probe_argv(config);
	if (argv == NULL || c->health)
		return (void)json_decref(argv);
	container_health *h = berth_xcalloc(1, sizeof(*h));
	h->c = c;
	container_ref(c);
	h->exec_config = json_pack("{s:o}", "Cmd", argv);
	h->shim_dir = berth_xstrdup(c->shim_dir);
	h->bundle_config = berth_xasprintf("%s/bundle/config.json", c->run_dir);
	h->process_path = berth_xasprintf("%s/health.json", c->run_dir);
	uv_timer_init(c->store->daemon->loop, &h->timer);
	h->timer.data = h;
	c->health = h;
	/* a new start begins "starting" afresh (dockerd's initHealthMonitor):
	 * schedule's health_state makes the new object */
	if (fresh)
		json_object_del(container_state(c), "Health");
	schedule(h);
}

void container_health_stop(berth_container *c)
{
	container_health *h = c->health;
	if (h == NULL)
		return;
	c->health = NULL;
	h->stopped = true;
	uv_timer_stop(&h->timer);
	json_t *health = json_object_get(container_state(c), "Health");
	if (json_is_object(health))
		json_object_set_new(health, "Status", json_string("unhealthy"));
	if (!h->busy)
		uv_close((uv_handle_t *)&h->timer, health_free);
}

void container_health_release(berth_container *c)
{
	container_health *h = c->health;
	if (h == NULL)
		return;
	c->health = NULL;
	health_release(h);
}
