/*
 * start.c - starting a container: mount its root, write the OCI bundle,
 * start its berth-shim, connect the clients that attached while it was
 * created, then tell the shim to start (it runs `runc run --detach`).
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/image/image.h"
#include "engine/network/network.h"
#include "engine/volume/volume.h"
#include "internal.h"
#include "shim/shim.h"

extern char **environ;

typedef struct start_job {
	berth_container *c;
	berth_image_store *images;
	berth_volume_store *volumes;
	berth_network_store *networks;
	berth_network_sandbox *net; /* until committed to the record */
	char *image_id;
	char *fs_dir, *bundle_dir, *shim_dir, *log_path;
	char *shim_path, *runtime, *runc_root;
	json_t *record;             /* a copy: the pool thread reads it */
	bool tty, open_stdin, stdin_once;
	berth_api_hold *hold;       /* the start request, if any */
	json_t *status;             /* the shim's status after start */
} start_job;

static void start_job_free(start_job *j)
{
	berth_network_abort(j->networks, j->net);
	free(j->image_id);
	free(j->fs_dir);
	free(j->bundle_dir);
	free(j->shim_dir);
	free(j->log_path);
	free(j->shim_path);
	free(j->runtime);
	free(j->runc_root);
	json_decref(j->record);
	json_decref(j->status);
	berth_api_hold_free(j->hold);
	free(j);
}

/* runc's words, with dockerd's prefix the docker CLI matches on
 * ("executable file not found" gives exit code 127). */
static int create_task_error(const char *msg, berth_error **err)
{
	int code = strstr(msg, "not found") || strstr(msg, "no such file") ? 400 : 500;
	return berth_error_set(err, code, "failed to create task for container: %s", msg);
}

/* Runs the shim and reads its one-line report. The shim daemonizes: the
 * process we wait for exits as soon as the shim is ready for "start". */
static int spawn_shim(start_job *j, berth_error **err)
{
	const json_t *log_cfg = json_object_get(json_object_get(json_object_get(j->record, "HostConfig"),
								"LogConfig"), "Config");
	char *argv[32];
	int n = 0;
	char *opts[8];
	int nopts = 0;
	argv[n++] = j->shim_path;
	argv[n++] = "--id";
	argv[n++] = j->c->id;
	argv[n++] = "--bundle";
	argv[n++] = j->bundle_dir;
	argv[n++] = "--state-dir";
	argv[n++] = j->shim_dir;
	argv[n++] = "--runtime";
	argv[n++] = j->runtime;
	argv[n++] = "--runtime-root";
	argv[n++] = j->runc_root;
	argv[n++] = "--log-path";
	argv[n++] = j->log_path;
	const char *keys[] = {"max-size", "max-file"};
	for (size_t i = 0; i < BERTH_ARRAY_SIZE(keys); i++) {
		const char *v = berth_json_string(log_cfg, keys[i]);
		if (v) {
			opts[nopts] = berth_xasprintf("%s=%s", keys[i], v);
			argv[n++] = "--log-opt";
			argv[n++] = opts[nopts++];
		}
	}
	if (j->tty)
		argv[n++] = "--tty";
	if (j->open_stdin)
		argv[n++] = "--stdin";
	if (j->stdin_once)
		argv[n++] = "--stdin-once";
	argv[n] = NULL;

	int out[2], errp[2];
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0)
		return berth_error_set_errno(err, errno, "pipe");
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out[1], 1);
	posix_spawn_file_actions_adddup2(&fa, errp[1], 2);
	pid_t pid;
	int rc = posix_spawn(&pid, j->shim_path, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(out[1]);
	close(errp[1]);
	for (int i = 0; i < nopts; i++)
		free(opts[i]);
	berth_buf o cleanup_buf = {0}, e cleanup_buf = {0};
	char buf[4096];
	ssize_t r;
	while (rc == 0 && (r = read(out[0], buf, sizeof(buf))) > 0)
		berth_buf_append(&o, buf, (size_t)r);
	while (rc == 0 && (r = read(errp[0], buf, sizeof(buf))) > 0)
		berth_buf_append(&e, buf, (size_t)r);
	close(out[0]);
	close(errp[0]);
	if (rc != 0)
		return berth_error_set(err, 500, "start berth-shim %s: %s", j->shim_path, strerror(rc));
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		while (e.len && e.data[e.len - 1] == '\n')
			e.data[--e.len] = '\0';
		return create_task_error(e.len ? e.data : "berth-shim failed", err);
	}
	return 0;
}

static int start_work(void *data, berth_error **err)
{
	start_job *j = data;
	char *merged cleanup_free = NULL;
	if (berth_mkdir_all(j->bundle_dir, 0700, err) < 0)
		return -1;
	if (berth_image_mount(j->images, j->image_id, j->fs_dir, &merged, err) < 0)
		return -1;
	json_t *mounts = NULL;
	if (berth_volume_mount(j->volumes, j->c->id, merged, &mounts, err) < 0) {
		berth_image_unmount(j->images, j->fs_dir, NULL);
		return -1;
	}
	json_object_set_new(j->record, "OCIMounts", mounts);
	if (j->net && berth_network_setup(j->net, err) < 0) {
		berth_volume_unmount(j->volumes, j->c->id);
		berth_image_unmount(j->images, j->fs_dir, NULL);
		return -1;
	}
	if (container_write_bundle(j->c->store, j->record, merged, j->bundle_dir, err) < 0 ||
	    spawn_shim(j, err) < 0) {
		berth_network_teardown(j->net);
		berth_volume_unmount(j->volumes, j->c->id);
		berth_image_unmount(j->images, j->fs_dir, NULL);
		return -1;
	}
	return 0;
}

/* Clients that attached while the container was created are connected to
 * the shim's attach socket before the process starts, so they miss nothing. */
static void connect_pending_attaches(berth_container *c)
{
	for (container_attach *a = c->attaches; a; a = a->next) {
		if (a->connected || a->splice == NULL)
			continue;
		char *path cleanup_free = berth_xasprintf("%s/%s", c->shim_dir, BERTH_SHIM_ATTACH_SOCK);
		int fd = -1;
		berth_error *err cleanup_error = NULL;
		a->connected = true;
		if (berth_shim_connect(path, &fd, &err) < 0) {
			berth_api_splice_close(a->splice);
			continue;
		}
		berth_api_splice_connect(a->splice, fd, a->hello);
	}
}

static int start_run_work(void *data, berth_error **err)
{
	start_job *j = data;
	json_t *req cleanup_json = json_pack("{s:s}", "cmd", "start");
	berth_error *e cleanup_error = NULL;
	/* the answer carries the status (pid, started_at); the shim creates
	 * the container only now (runc run), so runc's errors come from here */
	if (container_shim_call(j->shim_dir, req, &j->status, &e) < 0)
		return create_task_error(e->msg, err);
	return 0;
}

static void start_failed(berth_container *c, start_job *j, const berth_error *err)
{
	c->starting = false;
	json_t *state = container_state(c);
	json_object_set_new(state, "Error", json_string(err->msg));
	int code = strstr(err->msg, "not found") || strstr(err->msg, "no such file") ? 127
		 : strstr(err->msg, "permission denied") ? 126 : 128;
	json_object_set_new(state, "ExitCode", json_integer(code));
	container_save(c, NULL);
	container_close_attaches(c);
	berth_api_req *req = j->hold ? berth_api_hold_req(j->hold) : NULL;
	if (req)
		berth_api_reply_error(req, err);
	/* dockerd removes an AutoRemove container whose start failed, and
	 * docker run --rm waits for that */
	if (json_is_true(json_object_get(json_object_get(c->record, "HostConfig"), "AutoRemove")) &&
	    !c->removing) {
		c->removing = true;
		container_remove_queue(c, true);
	}
}

static void start_run_done(berth_container *c, void *data, berth_error *work_err)
{
	start_job *j = data;
	if (work_err) {
		start_failed(c, j, work_err);
		container_stop_shim(c);
		start_job_free(j);
		return;
	}
	json_t *state = container_state(c);
	c->starting = false;
	container_set_state(c, "running");
	json_object_set(state, "Pid", json_object_get(j->status, "pid"));
	const char *started = berth_json_string(j->status, "started_at");
	json_object_set_new(state, "StartedAt", json_string(started ? started : ""));
	json_object_set_new(state, "ExitCode", json_integer(0));
	json_object_set_new(state, "Error", json_string(""));
	json_object_set_new(state, "OOMKilled", json_false());
	container_health_start(c, true);
	container_save(c, NULL);
	container_event(c, "start", NULL);
	berth_error *err cleanup_error = NULL;
	if (container_monitor(c, &err) < 0)
		berth_warn("container %s: %s", c->id, err->msg);
	berth_api_req *req = j->hold ? berth_api_hold_req(j->hold) : NULL;
	if (req)
		berth_api_reply_empty(req, 204);
	start_job_free(j);
}

static void start_done(berth_container *c, void *data, berth_error *work_err)
{
	start_job *j = data;
	if (work_err) {
		start_failed(c, j, work_err);
		start_job_free(j);
		return;
	}
	/* from here the exit cleanup gives the network back */
	if (j->net) {
		berth_network_commit(j->networks, j->net, c->record);
		j->net = NULL;
		container_save(c, NULL);
	}
	connect_pending_attaches(c);
	container_op_queue(c, start_run_work, start_run_done, j);
}

/* The namespace the container joins: container:X's, or berth's own for a
 * bridge network (taking its addresses and ports now, on the loop). */
static int start_network(start_job *j, berth_error **err)
{
	berth_container *c = j->c;
	const char *mode = berth_json_string(json_object_get(c->record, "HostConfig"), "NetworkMode");
	if (mode && berth_str_has_prefix(mode, "container:")) {
		berth_container *other;
		if (berth_container_find(c->store, mode + 10, &other, err) < 0)
			return -1;
		if (!container_running(other))
			return berth_error_set(err, 409, "cannot join network of a non running "
							 "container: %s", mode + 10);
		json_int_t pid = json_integer_value(json_object_get(container_state(other), "Pid"));
		char *path cleanup_free = berth_xasprintf("/proc/%lld/ns/net", (long long)pid);
		json_object_set_new(j->record, "NetNsPath", json_string(path));
		return 0;
	}
	if (berth_network_prepare(j->networks, c->record, &j->net, err) < 0)
		return -1;
	if (j->net)
		json_object_set_new(j->record, "NetNsPath",
				    json_string(berth_network_sandbox_path(j->net)));
	return 0;
}

/* Queues the start of a created or exited container; req may be NULL (a
 * restart policy). */
void container_start_queue(berth_container *c, berth_api_req *req)
{
	berth_container_store *s = c->store;
	start_job *j = berth_xcalloc(1, sizeof(*j));
	j->c = c;
	j->images = s->daemon->images;
	j->volumes = s->daemon->volumes;
	j->record = json_deep_copy(c->record);
	j->image_id = berth_xstrdup(berth_json_string(c->record, "Image"));
	j->fs_dir = berth_xasprintf("%s/fs", c->dir);
	j->bundle_dir = berth_xasprintf("%s/bundle", c->run_dir);
	j->shim_dir = berth_xstrdup(c->shim_dir);
	j->log_path = berth_xstrdup(berth_json_string(c->record, "LogPath"));
	j->shim_path = berth_xstrdup(s->shim_path);
	j->runc_root = berth_xstrdup(s->runc_root);
	j->runtime = container_runtime_path(s, json_object_get(c->record, "HostConfig"));
	const json_t *config = json_object_get(c->record, "Config");
	j->tty = json_is_true(json_object_get(config, "Tty"));
	j->open_stdin = json_is_true(json_object_get(config, "OpenStdin"));
	j->stdin_once = json_is_true(json_object_get(config, "StdinOnce"));
	j->hold = req ? berth_api_hold_new(req) : NULL;
	j->networks = s->daemon->networks;
	c->starting = true;
	container_set_stopped_by_user(c, false);
	berth_error *err cleanup_error = NULL;
	if (start_network(j, &err) < 0) {
		start_failed(c, j, err);
		start_job_free(j);
		return;
	}
	container_op_queue(c, start_work, start_done, j);
}

int berth_container_start(berth_container_store *s, berth_api_req *req, const char *name,
			  berth_error **err)
{
	berth_container *c;
	if (berth_container_find(s, name, &c, err) < 0)
		return -1;
	if (container_paused(c))
		return berth_error_set(err, 409, "cannot start a paused container, try unpause instead");
	if (container_running(c))
		return berth_api_reply_empty(req, 304);
	if (c->removing)
		return berth_error_set(err, 409, "container is marked for removal and cannot be started");
	const char *rt = berth_json_string(json_object_get(c->record, "HostConfig"), "Runtime");
	if (rt && *rt && json_object_get(s->daemon->config->runtimes, rt) == NULL)
		return berth_error_set(err, 400, "unknown or invalid runtime name: %s", rt);
	container_start_queue(c, req);
	return 0;
}
