/*
 * exec.c - exec processes: POST /containers/{id}/exec, /exec/{id}/start,
 * /exec/{id}/json, /exec/{id}/resize. The shim runs them (`runc exec`)
 * from a process.json derived from the container's own process spec.
 */
#include <stdlib.h>
#include <string.h>

#include "engine/oci/oci.h"
#include "internal.h"
#include "shim/shim.h"

static container_exec *exec_find(berth_container_store *s, const char *id, berth_error **err)
{
	for (berth_container *c = s->list; c; c = c->next) {
		for (container_exec *e = c->execs; e; e = e->next) {
			if (strcmp(e->id, id) == 0)
				return e;
		}
	}
	berth_error_set(err, 404, "No such exec instance: %s", id);
	return NULL;
}

static char *exec_command_text(const container_exec *e)
{
	berth_buf b = {0};
	size_t i;
	json_t *a;
	json_array_foreach(json_object_get(e->config, "Cmd"), i, a)
		berth_buf_printf(&b, "%s%s", i ? " " : "", json_string_value(a));
	return berth_buf_steal(&b);
}

static void exec_event(container_exec *e, const char *what, json_t *extra)
{
	char *cmd cleanup_free = exec_command_text(e);
	char *action cleanup_free = strcmp(what, "exec_die") == 0 ? berth_xstrdup(what)
								 : berth_xasprintf("%s: %s", what, cmd);
	json_t *attrs = json_pack("{s:s}", "execID", e->id);
	if (extra) {
		json_object_update(attrs, extra);
		json_decref(extra);
	}
	container_event(e->c, action, attrs);
}

int berth_container_exec_create(berth_container_store *s, const char *name, json_t *body,
				char **exec_id, berth_error **err)
{
	berth_container *c;
	if (berth_container_find(s, name, &c, err) < 0)
		return -1;
	if (!container_running(c))
		return berth_error_set(err, 409, "Container %s is not running", c->id);
	if (container_paused(c))
		return berth_error_set(err, 409, "Container %s is paused, unpause the container before exec", c->id);
	json_t *cmd = json_object_get(body, "Cmd");
	if (json_is_string(cmd))
		json_object_set_new(body, "Cmd", json_pack("[s]", json_string_value(cmd)));
	if (json_array_size(json_object_get(body, "Cmd")) == 0)
		return berth_error_set(err, 400, "No exec command specified");
	container_exec *e = berth_xcalloc(1, sizeof(*e));
	berth_random_id(e->id);
	e->c = c;
	e->config = json_incref(body);
	e->next = c->execs;
	c->execs = e;
	exec_event(e, "exec_create", NULL);
	*exec_id = berth_xstrdup(e->id);
	return 0;
}

/* The exec's process: the container's process spec with the exec's args,
 * env, working dir, user and terminal. */
int container_exec_process(const json_t *cfg, const char *bundle_config, json_t **out,
			   berth_error **err)
{
	char *data cleanup_free = NULL;
	size_t len;
	json_t *spec cleanup_json = NULL;
	if (berth_file_read_all(bundle_config, &data, &len, err) < 0 ||
	    berth_json_parse_object(data, len, &spec, err) < 0)
		return -1;
	json_t *proc = json_deep_copy(json_object_get(spec, "process"));
	json_object_set(proc, "args", json_object_get(cfg, "Cmd"));
	json_object_set_new(proc, "terminal", json_boolean(json_is_true(json_object_get(cfg, "Tty"))));
	const char *wd = berth_json_string(cfg, "WorkingDir");
	if (wd && *wd)
		json_object_set_new(proc, "cwd", json_string(wd));
	json_t *env = json_object_get(proc, "env");
	size_t i;
	json_t *v;
	json_array_foreach(json_object_get(cfg, "Env"), i, v)
		json_array_append(env, v);
	const char *user = berth_json_string(cfg, "User");
	if (user && *user) {
		const char *rootfs = berth_json_string(json_object_get(spec, "root"), "path");
		uint32_t uid, gid;
		json_t *gids = NULL;
		if (berth_oci_user_resolve(rootfs, user, &uid, &gid, &gids, err) < 0) {
			json_decref(proc);
			return -1;
		}
		json_object_set_new(proc, "user", json_pack("{s:I, s:I, s:o}", "uid", (json_int_t)uid, "gid",
							   (json_int_t)gid, "additionalGids", gids));
	}
	if (json_is_true(json_object_get(cfg, "Privileged"))) {
		json_t *caps = NULL;
		if (berth_oci_caps(NULL, NULL, true, &caps, err) == 0) {
			json_object_set_new(proc, "capabilities",
					    json_pack("{s:O, s:O, s:O, s:O}", "bounding", caps, "effective",
						      caps, "permitted", caps, "inheritable", caps));
			json_decref(caps);
		}
	}
	*out = proc;
	return 0;
}

typedef struct exec_job {
	container_exec *e;
	char *shim_dir, *process_path, *bundle_config;
	bool open_stdin;
	berth_api_hold *hold;
	berth_api_splice *splice;
	char *hello;
	bool detach;
	json_t *status;
} exec_job;

static void exec_job_free(exec_job *j)
{
	free(j->shim_dir);
	free(j->process_path);
	free(j->bundle_config);
	free(j->hello);
	json_decref(j->status);
	berth_api_hold_free(j->hold);
	free(j);
}

static int exec_prepare_work(void *data, berth_error **err)
{
	exec_job *j = data;
	json_t *proc cleanup_json = NULL;
	if (container_exec_process(j->e->config, j->bundle_config, &proc, err) < 0)
		return -1;
	char *text cleanup_free = berth_json_dump(proc);
	if (berth_file_replace(j->process_path, text, strlen(text), 0600, false, err) < 0)
		return -1;
	json_t *req cleanup_json = json_pack("{s:s, s:s, s:s, s:b, s:b}", "cmd", "exec", "exec_id",
					     j->e->id, "process", j->process_path, "stdin",
					     j->open_stdin, "stdin_once", j->open_stdin);
	return container_shim_call(j->shim_dir, req, NULL, err);
}

static int exec_start_work(void *data, berth_error **err)
{
	exec_job *j = data;
	json_t *req cleanup_json = json_pack("{s:s, s:s}", "cmd", "start", "exec_id", j->e->id);
	if (container_shim_call(j->shim_dir, req, NULL, err) < 0)
		return -1;
	json_t *st cleanup_json = json_pack("{s:s, s:s}", "cmd", "state", "exec_id", j->e->id);
	return container_shim_call(j->shim_dir, st, &j->status, err);
}

/* Records the end of an exec once, whichever notices first: the held wait
 * call, or an inspect that asked the shim. */
static void exec_record_exit(container_exec *e, json_t *status)
{
	if (e->exited)
		return;
	e->exited = true;
	e->running = false;
	e->exit_code = status ? (int)json_integer_value(json_object_get(status, "exit_code")) : 126;
	char code[16];
	snprintf(code, sizeof(code), "%d", e->exit_code);
	exec_event(e, "exec_die", json_pack("{s:s}", "exitCode", code));
}

static void exec_exited(void *userdata, json_t *status)
{
	container_exec *e = userdata;
	exec_record_exit(e, status);
	container_unref(e->c);
}

static void exec_start_done(berth_container *c, void *data, berth_error *work_err)
{
	exec_job *j = data;
	berth_api_req *req = j->hold ? berth_api_hold_req(j->hold) : NULL;
	if (work_err) {
		if (j->splice)
			berth_api_splice_close(j->splice);
		else if (req)
			berth_api_reply_error(req, work_err);
		exec_job_free(j);
		return;
	}
	j->e->running = !j->e->exited;
	j->e->pid = (int)json_integer_value(json_object_get(j->status, "pid"));
	exec_event(j->e, "exec_start", NULL);
	container_ref(c);
	berth_error *err cleanup_error = NULL;
	if (container_shim_wait(c->store->daemon->loop, j->shim_dir, j->e->id, exec_exited, j->e, &err) < 0)
		exec_exited(j->e, NULL);
	if (req && j->detach)
		berth_api_reply_raw(req, 200, "application/json", "", 0);
	exec_job_free(j);
}

static void exec_prepare_done(berth_container *c, void *data, berth_error *work_err)
{
	exec_job *j = data;
	if (work_err) {
		exec_start_done(c, data, work_err);
		return;
	}
	if (j->splice) {
		char *path cleanup_free = berth_xasprintf("%s/%s/%s/%s", j->shim_dir, BERTH_SHIM_EXEC_DIR,
							  j->e->id, BERTH_SHIM_ATTACH_SOCK);
		int fd = -1;
		berth_error *err cleanup_error = NULL;
		if (berth_shim_connect(path, &fd, &err) < 0)
			berth_api_splice_close(j->splice);
		else
			berth_api_splice_connect(j->splice, fd, j->hello);
		j->splice = NULL;
	}
	container_op_queue(c, exec_start_work, exec_start_done, j);
}

static void exec_splice_done(berth_api_splice *sp, void *userdata)
{
}

int berth_container_exec_start(berth_container_store *s, berth_api_req *req, const char *exec_id,
			       json_t *body, berth_error **err)
{
	container_exec *e = exec_find(s, exec_id, err);
	if (e == NULL)
		return -1;
	if (e->started)
		return berth_error_set(err, 409, "Exec %s has already been started", exec_id);
	berth_container *c = e->c;
	if (!container_running(c))
		return berth_error_set(err, 409, "Container %s is not running", c->id);
	e->started = true;
	exec_job *j = berth_xcalloc(1, sizeof(*j));
	j->e = e;
	j->shim_dir = berth_xstrdup(c->shim_dir);
	j->process_path = berth_xasprintf("%s/exec-%s.json", c->run_dir, e->id);
	j->bundle_config = berth_xasprintf("%s/bundle/config.json", c->run_dir);
	j->detach = json_is_true(json_object_get(body, "Detach"));
	j->open_stdin = !j->detach && json_is_true(json_object_get(e->config, "AttachStdin"));
	j->hold = berth_api_hold_new(req);
	if (!j->detach) {
		bool tty = json_is_true(json_object_get(e->config, "Tty"));
		json_t *hello = json_pack("{s:b, s:b, s:b}", "stdin", j->open_stdin, "stdout",
					  !json_is_false(json_object_get(e->config, "AttachStdout")),
					  "stderr", !json_is_false(json_object_get(e->config, "AttachStderr")));
		const char *keys = berth_json_string(e->config, "DetachKeys");
		if (keys && *keys)
			json_object_set_new(hello, "detach_keys", json_string(keys));
		char *line cleanup_free = berth_json_dump(hello);
		json_decref(hello);
		j->hello = berth_xasprintf("%s\n", line);
		j->splice = berth_api_hijack(req, tty ? "application/vnd.docker.raw-stream"
						      : "application/vnd.docker.multiplexed-stream",
					     exec_splice_done, NULL, err);
		if (j->splice == NULL) {
			exec_job_free(j);
			return -1;
		}
	}
	container_op_queue(c, exec_prepare_work, exec_prepare_done, j);
	return 0;
}

int berth_container_exec_inspect(berth_container_store *s, const char *exec_id, json_t **out,
				 berth_error **err)
{
	container_exec *e = exec_find(s, exec_id, err);
	if (e == NULL)
		return -1;
	if (e->started && !e->exited) {
		/* the client read the whole output: the exit may be known to
		 * the shim before our wait call (or even the start) reports */
		json_t *req cleanup_json = json_pack("{s:s, s:s}", "cmd", "state", "exec_id", e->id);
		json_t *st cleanup_json = NULL;
		if (container_shim_call(e->c->shim_dir, req, &st, NULL) == 0 &&
		    strcmp(berth_json_string(st, "status") ?: "", "exited") == 0)
			exec_record_exit(e, st);
	}
	const json_t *cfg = e->config;
	json_t *cmd = json_object_get(cfg, "Cmd");
	json_t *args = json_deep_copy(cmd);
	json_array_remove(args, 0);
	const char *user = berth_json_string(cfg, "User");
	*out = json_pack("{s:s, s:b, s:o, s:b, s:b, s:b, s:b, s:s, s:s, s:i, s:{s:b, s:s, s:o, s:b, s:s}}",
			 "ID", e->id, "Running", e->started && !e->exited, "ExitCode",
			 e->exited ? json_integer(e->exit_code) : json_null(),
			 "OpenStdin", json_is_true(json_object_get(cfg, "AttachStdin")), "OpenStderr",
			 json_is_true(json_object_get(cfg, "AttachStderr")), "OpenStdout",
			 json_is_true(json_object_get(cfg, "AttachStdout")), "CanRemove", false,
			 "ContainerID", e->c->id, "DetachKeys", berth_json_string(cfg, "DetachKeys") ?: "",
			 "Pid", e->pid, "ProcessConfig", "tty", json_is_true(json_object_get(cfg, "Tty")),
			 "entrypoint", json_string_value(json_array_get(cmd, 0)) ?: "", "arguments", args,
			 "privileged", json_is_true(json_object_get(cfg, "Privileged")), "user",
			 user ? user : "");
	return 0;
}

int berth_container_exec_resize(berth_container_store *s, const char *exec_id, int64_t height,
				int64_t width, berth_error **err)
{
	container_exec *e = exec_find(s, exec_id, err);
	if (e == NULL)
		return -1;
	if (!e->running)
		return berth_error_set(err, 409, "Exec %s is not running", exec_id);
	json_t *req cleanup_json = json_pack("{s:s, s:s, s:I, s:I}", "cmd", "resize", "exec_id", e->id,
					     "height", (json_int_t)height, "width", (json_int_t)width);
	return container_shim_call(e->c->shim_dir, req, NULL, err);
}
