/*
 * exit.c - watching running containers, and what happens when one exits:
 * state, events, waiters, cleanup, restart policies and auto-removal.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "engine/image/image.h"
#include "engine/network/network.h"
#include "engine/volume/volume.h"
#include "internal.h"
#include "shim/shim.h"

int container_shim_call(const char *shim_dir, json_t *req, json_t **reply, berth_error **err)
{
	return berth_shim_call(shim_dir, req, reply, err);
}

/* ------------------------------------------------------------- monitor */

/*
 * A "wait" call held open on a shim's control socket: the shim answers with
 * the status object when the process (the container's init, or an exec)
 * has exited and its output is logged. A shim that goes away without an
 * answer gives NULL.
 */
typedef struct shim_wait {
	uv_pipe_t pipe;
	berth_buf buf;
	shim_wait_cb cb;
	void *userdata;
	bool answered;
	struct shim_wait *prev, *next;
} shim_wait;

/* The open waits (loop thread only), for berthd's exit: they are closed
 * then without an answer, while the shims and their containers go on. */
static shim_wait *open_waits;

static void shim_wait_closed(uv_handle_t *h)
{
	shim_wait *w = h->data;
	if (w->prev)
		w->prev->next = w->next;
	else
		open_waits = w->next;
	if (w->next)
		w->next->prev = w->prev;
	berth_buf_reset(&w->buf);
	free(w);
}

void container_shim_waits_close(void)
{
	for (shim_wait *w = open_waits; w; w = w->next) {
		if (!uv_is_closing((uv_handle_t *)&w->pipe))
			uv_close((uv_handle_t *)&w->pipe, shim_wait_closed);
	}
}

static void shim_wait_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	buf->base = berth_xmalloc(4096);
	buf->len = 4096;
}

static void shim_wait_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
	shim_wait *w = s->data;
	if (nread > 0)
		berth_buf_append(&w->buf, buf->base, (size_t)nread);
	free(buf->base);
	char *nl = w->buf.data ? memchr(w->buf.data, '\n', w->buf.len) : NULL;
	if (nl == NULL && nread >= 0)
		return;
	json_t *status = NULL;
	if (nl)
		berth_json_parse_object(w->buf.data, (size_t)(nl - w->buf.data), &status, NULL);
	uv_close((uv_handle_t *)&w->pipe, shim_wait_closed);
	w->cb(w->userdata, status);
	json_decref(status);
}

int container_shim_wait(uv_loop_t *loop, const char *shim_dir, const char *exec_id,
			shim_wait_cb cb, void *userdata, berth_error **err)
{
	char *path cleanup_free = berth_xasprintf("%s/%s", shim_dir, BERTH_SHIM_CONTROL_SOCK);
	int fd = -1;
	if (berth_shim_connect(path, &fd, err) < 0)
		return -1;
	json_t *req = exec_id ? json_pack("{s:s, s:s}", "cmd", "wait", "exec_id", exec_id)
			      : json_pack("{s:s}", "cmd", "wait");
	char *line cleanup_free = berth_json_dump(req);
	json_decref(req);
	if (berth_write_all(fd, line, strlen(line)) < 0 || berth_write_all(fd, "\n", 1) < 0) {
		close(fd);
		return berth_error_set_errno(err, errno, "shim %s", shim_dir);
	}
	shim_wait *w = berth_xcalloc(1, sizeof(*w));
	uv_pipe_init(loop, &w->pipe, 0);
	uv_pipe_open(&w->pipe, fd);
	w->pipe.data = w;
	w->cb = cb;
	w->userdata = userdata;
	w->next = open_waits;
	if (open_waits)
		open_waits->prev = w;
	open_waits = w;
	uv_read_start((uv_stream_t *)&w->pipe, shim_wait_alloc, shim_wait_read);
	return 0;
}

json_t *container_shim_status(const char *shim_dir)
{
	char *path cleanup_free = berth_xasprintf("%s/%s", shim_dir, BERTH_SHIM_STATUS_FILE);
	char *data cleanup_free = NULL;
	size_t len;
	json_t *st = NULL;
	if (berth_file_read_all(path, &data, &len, NULL) < 0)
		return NULL;
	/* one that does not parse tells no status */
	return berth_json_parse_object(data, len, &st, NULL) == 0 ? st : json_object();
}

/* The shim went away without answering: its status file says how far the
 * container got. */
static json_t *read_status_file(berth_container *c)
{
	json_t *st = container_shim_status(c->shim_dir);
	if (st == NULL || strcmp(berth_json_string(st, "status") ?: "", "exited") != 0) {
		json_decref(st);
		st = json_pack("{s:i, s:s}", "exit_code", 255, "error", "berth-shim died");
	}
	return st;
}

static void container_wait_answered(void *userdata, json_t *status)
{
	berth_container *c = userdata;
	c->monitoring = false;
	json_t *st = status ? json_incref(status) : read_status_file(c);
	if (!c->removed)
		container_exited(c, st);
	json_decref(st);
	container_unref(c);
}

int container_monitor(berth_container *c, berth_error **err)
{
	berth_error *e cleanup_error = NULL;
	container_ref(c);
	c->monitoring = true;
	if (container_shim_wait(c->store->daemon->loop, c->shim_dir, NULL, container_wait_answered,
				c, &e) < 0)
		container_wait_answered(c, NULL); /* the shim is gone */
	return 0;
}

/* ------------------------------------------------------------- waiters */

static void waiter_free(container_waiter *w)
{
	if (w->timer) {
		uv_timer_stop(w->timer);
		uv_close((uv_handle_t *)w->timer, (uv_close_cb)free);
	}
	berth_api_hold_free(w->hold);
	free(w);
}

static void waiter_unlink(berth_container *c, container_waiter *w)
{
	for (container_waiter **p = &c->waiters; *p; p = &(*p)->next) {
		if (*p == w) {
			*p = w->next;
			return;
		}
	}
}

static void waiter_stream_closed(berth_api_stream *s, void *userdata)
{
	container_waiter *w = userdata;
	w->stream = NULL;
	waiter_unlink(w->c, w);
	container_unref(w->c);
	waiter_free(w);
}

container_waiter *container_add_waiter(berth_container *c, waiter_kind kind, berth_api_req *req,
				       int reply_status)
{
	container_waiter *w = berth_xcalloc(1, sizeof(*w));
	w->kind = kind;
	w->c = c;
	w->hold = req ? berth_api_hold_new(req) : NULL;
	w->reply_status = reply_status;
	w->next = c->waiters;
	c->waiters = w;
	container_ref(c);
	if (req && reply_status == 0) {
		/* wait: dockerd sends the head at once so the client knows it
		 * is registered before it starts the container */
		w->stream = berth_api_stream_start(req, 200, "application/json", waiter_stream_closed, w);
	}
	return w;
}

static void waiter_reply(container_waiter *w, int exit_code, const char *error)
{
	if (w->stream) {
		json_t *body = json_pack("{s:i, s:n}", "StatusCode", exit_code, "Error");
		if (error && *error)
			json_object_set_new(body, "Error", json_pack("{s:s}", "Message", error));
		berth_api_stream *s = w->stream;
		w->stream = NULL;
		berth_api_stream_write_json(s, body);
		berth_api_stream_end(s);
		return;
	}
	berth_api_req *req = w->hold ? berth_api_hold_req(w->hold) : NULL;
	if (req)
		berth_api_reply_empty(req, w->reply_status);
}

void container_wake_waiters(berth_container *c, waiter_kind kind, int exit_code)
{
	container_waiter **p = &c->waiters;
	while (*p) {
		container_waiter *w = *p;
		bool wake = w->kind == kind || (kind == WAIT_EXIT && w->kind == WAIT_NOT_RUNNING);
		if (!wake) {
			p = &w->next;
			continue;
		}
		*p = w->next;
		if (w->fn)
			w->fn(c, w, exit_code);
		else
			waiter_reply(w, exit_code, NULL);
		waiter_free(w);
		container_unref(c);
	}
}

/* ------------------------------------------------------------- cleanup */

/*
 * What a container holds once its process is gone: its network namespace,
 * volume and root mounts, and the exec-root dir of its bundle and shim. After
 * an exit the cleanup runs in the container's op queue (a start after it
 * finds everything released); after a removal, with the data dir too, once
 * the removal has been answered.
 */
typedef struct teardown_job {
	berth_image_store *images;
	berth_volume_store *volumes;
	char id[65];
	char *fs_dir, *run_dir, *shim_dir;
	char *dir;                  /* the data dir, when the container is removed */
	berth_network_sandbox *net;
} teardown_job;

/* The shim tells the exit before `runc delete` and holds its lock until it
 * is done: neither a new shim for the container nor the removal of the dir
 * runc logs into may come before that. A shim that hangs is not waited for
 * more than 10 s. */
static void wait_shim_gone(const char *shim_dir)
{
	char *path cleanup_free = berth_xasprintf("%s/%s", shim_dir, BERTH_SHIM_LOCK_FILE);
	int fd cleanup_close = open(path, O_RDONLY | O_CLOEXEC);
	useconds_t delay = 500;
	for (useconds_t waited = 0; fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0; waited += delay) {
		if (waited >= 10000000) {
			berth_warn("berth-shim of %s still runs 10 s after the exit", shim_dir);
			return;
		}
		usleep(delay);
		delay = delay < 8000 ? delay * 2 : delay;
	}
}

static int teardown_work_fn(void *data, berth_error **err)
{
	teardown_job *j = data;
	berth_error *e cleanup_error = NULL;
	wait_shim_gone(j->shim_dir);
	berth_network_teardown(j->net);
	berth_volume_unmount(j->volumes, j->id);
	if (berth_image_unmount(j->images, j->fs_dir, &e) < 0)
		berth_warn("unmount %s: %s", j->fs_dir, e->msg);
	if (berth_remove_all(j->run_dir, err) < 0)
		return -1;
	return j->dir ? berth_remove_all(j->dir, err) : 0;
}

static teardown_job *teardown_job_new(berth_container *c, bool with_dir)
{
	teardown_job *j = berth_xcalloc(1, sizeof(*j));
	j->images = c->store->daemon->images;
	j->volumes = c->store->daemon->volumes;
	snprintf(j->id, sizeof(j->id), "%s", c->id);
	j->fs_dir = berth_xasprintf("%s/fs", c->dir);
	j->run_dir = berth_xstrdup(c->run_dir);
	j->shim_dir = berth_xstrdup(c->shim_dir);
	j->dir = with_dir ? berth_xstrdup(c->dir) : NULL;
	j->net = berth_network_release(c->store->daemon->networks, c->record);
	return j;
}

static void teardown_job_free(teardown_job *j)
{
	berth_network_sandbox_free(j->net);
	free(j->fs_dir);
	free(j->run_dir);
	free(j->shim_dir);
	free(j->dir);
	free(j);
}

static void cleanup_done(berth_container *c, void *data, berth_error *work_err)
{
	teardown_job *j = data;
	if (work_err)
		berth_warn("container %s cleanup: %s", c->id, work_err->msg);
	if (j->net && !j->dir)
		c->net_teardowns--;
	teardown_job_free(j);
}

static void cleanup_queue(berth_container *c)
{
	teardown_job *j = teardown_job_new(c, false);
	if (j->net) {
		container_save(c, NULL);
		c->net_teardowns++; /* a removal waits for it (lifecycle.c) */
	}
	container_op_queue(c, teardown_work_fn, cleanup_done, j);
}

/* Queued: after an exit's cleanup that may still run, never beside it. The
 * container is out of the store by then; the queue holds it until done. */
void container_teardown_detached(berth_container *c)
{
	container_op_queue(c, teardown_work_fn, cleanup_done, teardown_job_new(c, true));
}

typedef struct kill_job {
	char *shim_dir;
	int signum;
	bool all;
	berth_api_hold *hold;
} kill_job;

static int kill_work(void *data, berth_error **err)
{
	kill_job *j = data;
	json_t *req cleanup_json = json_pack("{s:s, s:i, s:b}", "cmd", "kill", "signal", j->signum,
					     "all", j->all);
	return container_shim_call(j->shim_dir, req, NULL, err);
}

static void kill_done(berth_container *c, void *data, berth_error *work_err)
{
	kill_job *j = data;
	berth_api_req *req = j->hold ? berth_api_hold_req(j->hold) : NULL;
	if (req && work_err)
		berth_api_reply_error(req, work_err);
	else if (req)
		berth_api_reply_empty(req, 204);
	berth_api_hold_free(j->hold);
	free(j->shim_dir);
	free(j);
}

void container_kill_queue(berth_container *c, int signum, berth_api_req *req)
{
	kill_job *j = berth_xcalloc(1, sizeof(*j));
	j->shim_dir = berth_xstrdup(c->shim_dir);
	j->signum = signum;
	j->all = signum == 9;
	j->hold = req ? berth_api_hold_new(req) : NULL;
	container_op_queue(c, kill_work, kill_done, j);
}

void container_stop_shim(berth_container *c)
{
	container_kill_queue(c, 9, NULL);
	cleanup_queue(c);
}

/* -------------------------------------------------------- restart policy */

static void restart_timer_fired(uv_timer_t *t)
{
	berth_container *c = t->data;
	uv_close((uv_handle_t *)t, (uv_close_cb)free);
	c->restart_timer = NULL;
	if (!c->removed && !c->stop_requested && !container_running(c)) {
		json_t *rc = json_object_get(c->record, "RestartCount");
		json_object_set_new(c->record, "RestartCount", json_integer(json_integer_value(rc) + 1));
		container_start_queue(c, NULL);
	}
	container_unref(c);
}

/* Docker's policies and backoff: the delay doubles from 100 ms, and resets
 * after a run of 10 seconds or more. */
static bool maybe_restart(berth_container *c, int exit_code, int64_t ran_ns)
{
	const json_t *rp = json_object_get(json_object_get(c->record, "HostConfig"), "RestartPolicy");
	const char *policy = berth_json_string(rp, "Name");
	json_int_t max = json_integer_value(json_object_get(rp, "MaximumRetryCount"));
	json_int_t count = json_integer_value(json_object_get(c->record, "RestartCount"));
	bool restart = false;
	if (policy == NULL || c->stop_requested || c->removing)
		restart = false;
	else if (strcmp(policy, "always") == 0 || strcmp(policy, "unless-stopped") == 0)
		restart = true;
	else if (strcmp(policy, "on-failure") == 0)
		restart = exit_code != 0 && (max == 0 || count < max);
	if (!restart)
		return false;
	c->restart_delay_ms = ran_ns >= 10LL * 1000000000LL || c->restart_delay_ms == 0
				      ? 100
				      : (c->restart_delay_ms * 2 > 60000 ? 60000 : c->restart_delay_ms * 2);
	container_set_state(c, "restarting");
	c->restart_timer = berth_xmalloc(sizeof(uv_timer_t));
	uv_timer_init(c->store->daemon->loop, c->restart_timer);
	c->restart_timer->data = c;
	container_ref(c);
	uv_timer_start(c->restart_timer, restart_timer_fired, (uint64_t)c->restart_delay_ms, 0);
	return true;
}

void container_restart_at_boot(berth_container *c)
{
	const json_t *rp = json_object_get(json_object_get(c->record, "HostConfig"), "RestartPolicy");
	const char *policy = berth_json_string(rp, "Name") ?: "";
	const json_t *state = container_state(c);
	const char *started = berth_json_string(state, "StartedAt") ?: CONTAINER_ZERO_TIME;
	if (container_running(c) || strcmp(started, CONTAINER_ZERO_TIME) == 0)
		return; /* never started: nothing to bring back */
	bool manual = json_is_true(json_object_get(c->record, "HasBeenManuallyStopped"));
	json_int_t max = json_integer_value(json_object_get(rp, "MaximumRetryCount"));
	json_int_t count = json_integer_value(json_object_get(c->record, "RestartCount"));
	bool restart = strcmp(policy, "always") == 0 ||
		       (strcmp(policy, "unless-stopped") == 0 && !manual) ||
		       (strcmp(policy, "on-failure") == 0 && (max == 0 || count < max) &&
			json_integer_value(json_object_get(state, "ExitCode")) != 0);
	if (restart)
		container_start_queue(c, NULL);
}

/* -------------------------------------------------------------- exiting */

void container_exited(berth_container *c, json_t *status)
{
	json_t *state = container_state(c);
	int exit_code = (int)json_integer_value(json_object_get(status, "exit_code"));
	bool oom = json_is_true(json_object_get(status, "oom_killed"));
	const char *finished = berth_json_string(status, "finished_at");
	char now[64];
	berth_time_format_rfc3339(berth_time_now_ns(), now, sizeof(now));
	int64_t started_ns = 0;
	berth_time_parse(berth_json_string(state, "StartedAt") ?: "0", 0, &started_ns, NULL);
	container_health_stop(c);
	container_set_state(c, "exited");
	json_object_set_new(state, "Pid", json_integer(0));
	json_object_set_new(state, "ExitCode", json_integer(exit_code));
	json_object_set_new(state, "OOMKilled", json_boolean(oom));
	json_object_set_new(state, "FinishedAt", json_string(finished && *finished ? finished : now));
	const char *error = berth_json_string(status, "error");
	json_object_set_new(state, "Error", json_string(error ? error : ""));
	bool autoremove = json_is_true(json_object_get(json_object_get(c->record, "HostConfig"),
						       "AutoRemove"));
	bool remove = c->remove_after_exit || (autoremove && !c->removing);
	/* A removal to come (this one, or rm -f's) releases everything itself,
	 * after it has been answered; the record it drops is not written
	 * (a berthd that dies first finds the shim's exit again). */
	bool removal = remove || c->removing;
	if (removal)
		container_usage_update(c->store);
	else
		container_save(c, NULL);
	if (oom)
		container_event(c, "oom", NULL);
	char code[16];
	snprintf(code, sizeof(code), "%d", exit_code);
	container_event(c, "die", json_pack("{s:s}", "exitCode", code));
	if (!removal)
		cleanup_queue(c);
	container_wake_waiters(c, WAIT_EXIT, exit_code);
	if (remove) {
		c->removing = true;
		container_remove_queue(c, autoremove);
		return;
	}
	maybe_restart(c, exit_code, berth_time_now_ns() - started_ns);
}
