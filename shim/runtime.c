/*
 * runtime.c - running runc. Every invocation gets the global flags berthd
 * chose (--root, --runtime-arg) and --log <state>/runc.log in JSON, because
 * runc's stderr is often the container's stderr pipe: errors are read back
 * from the log, never from the container's output.
 *
 * runc runs synchronously: run --detach, exec --detach, kill and delete
 * return in milliseconds, and waiting on runc's own pid (not -1) leaves the
 * container's exit to the loop's SIGCHLD handling.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shim/internal.h"

extern char **environ;

static char *runc_log_path(shim *s)
{
	return berth_xasprintf("%s/runc.log", s->state_dir);
}

/* The last error runc logged since offset, or NULL. */
static char *runc_error_since(const char *log, off_t offset)
{
	char *data cleanup_free = NULL;
	size_t len = 0;
	if (berth_file_read_all(log, &data, &len, NULL) < 0 || (size_t)offset >= len)
		return NULL;
	char *msg = NULL;
	char *save = NULL;
	for (char *line = strtok_r(data + offset, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_t *j cleanup_json = json_loads(line, 0, NULL);
		const char *level = berth_json_string(j, "level");
		const char *m = berth_json_string(j, "msg");
		if (m && level && (strcmp(level, "error") == 0 || strcmp(level, "fatal") == 0)) {
			free(msg);
			msg = berth_xstrdup(m);
		}
	}
	return msg;
}

static const char **build_argv(shim *s, const char *log, const char *const *args)
{
	size_t nargs = 0;
	while (args[nargs])
		nargs++;
	const char **argv = berth_xcalloc(8 + s->cfg.nruntime_args + nargs, sizeof(char *));
	size_t i = 0;
	argv[i++] = s->cfg.runtime;
	if (s->cfg.runtime_root) {
		argv[i++] = "--root";
		argv[i++] = s->cfg.runtime_root;
	}
	for (size_t k = 0; k < s->cfg.nruntime_args; k++)
		argv[i++] = s->cfg.runtime_args[k];
	argv[i++] = "--log";
	argv[i++] = log;
	argv[i++] = "--log-format";
	argv[i++] = "json";
	for (size_t k = 0; k < nargs; k++)
		argv[i++] = args[k];
	return argv;
}

static int spawn(const char **argv, const int stdio[3], pid_t *pid, berth_error **err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	int devnull cleanup_close = -1;
	if (stdio == NULL)
		devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; i < 3; i++)
		posix_spawn_file_actions_adddup2(&fa, stdio ? stdio[i] : devnull, i);
	/* The shim blocks SIGCHLD (signalfd) and ignores SIGPIPE: runc gets
	 * neither disposition. */
	sigset_t none, dfl;
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGCHLD);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	int r = posix_spawn(pid, argv[0], &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r != 0)
		return berth_error_set(err, 500, "exec %s: %s", argv[0], strerror(r));
	return 0;
}

static int run(shim *s, const char *const *args, const int stdio[3], berth_error **err)
{
	char *log cleanup_free = runc_log_path(s);
	struct stat st;
	off_t before = stat(log, &st) == 0 ? st.st_size : 0;
	const char **argv cleanup_free = build_argv(s, log, args);
	pid_t pid;
	if (spawn(argv, stdio, &pid, err) < 0)
		return -1;
	int ws;
	while (waitpid(pid, &ws, 0) < 0) {
		if (errno != EINTR)
			return berth_error_set_errno(err, errno, "wait for %s %s", s->cfg.runtime, args[0]);
	}
	if (WIFEXITED(ws) && WEXITSTATUS(ws) == 0)
		return 0;
	char *msg cleanup_free = runc_error_since(log, before);
	if (msg)
		return berth_error_set(err, 500, "%s", msg);
	if (WIFSIGNALED(ws))
		return berth_error_set(err, 500, "%s %s: killed by signal %d", s->cfg.runtime, args[0],
				       WTERMSIG(ws));
	return berth_error_set(err, 500, "%s %s: exit status %d", s->cfg.runtime, args[0],
			       WEXITSTATUS(ws));
}

int shim_runtime_run(shim *s, const char *pid_file, const int stdio[3], const char *console,
		     berth_error **err)
{
	const char *args[11] = {"run", "--detach", "--bundle", s->cfg.bundle, "--pid-file", pid_file};
	size_t i = 6;
	if (console) {
		args[i++] = "--console-socket";
		args[i++] = console;
	}
	args[i] = s->cfg.id;
	return run(s, args, stdio, err);
}

int shim_runtime_exec(shim *s, const char *process, const char *pid_file, const int stdio[3],
		      const char *console, berth_error **err)
{
	const char *args[10] = {"exec", "--process", process, "--detach", "--pid-file", pid_file};
	size_t i = 6;
	if (console) {
		args[i++] = "--console-socket";
		args[i++] = console;
	}
	args[i] = s->cfg.id;
	return run(s, args, stdio, err);
}

int shim_runtime_kill(shim *s, int sig, bool all, berth_error **err)
{
	char signum[16];
	snprintf(signum, sizeof(signum), "%d", sig);
	const char *args[5] = {"kill"};
	size_t i = 1;
	if (all)
		args[i++] = "--all";
	args[i++] = s->cfg.id;
	args[i] = signum;
	return run(s, args, NULL, err);
}

/* runc pause / resume. */
int shim_runtime_simple(shim *s, const char *cmd, berth_error **err)
{
	const char *args[] = {cmd, s->cfg.id, NULL};
	return run(s, args, NULL, err);
}

/* A cgroup goes once its last task is reaped: the container's orphans are
 * ours to reap (subreaper), and may still be zombies. 100 ms at most. */
static bool rmdir_cgroup(shim *s, const char *path)
{
	for (int i = 0; i < 100; i++) {
		if (rmdir(path) == 0 || errno == ENOENT)
			return true;
		if (errno != EBUSY)
			return false;
		shim_reap_children(s);
		usleep(1000);
	}
	return false;
}

/*
 * What `runc delete` does to a container whose processes are all gone, done
 * here: its cgroups (cgroupfs, as berthd runs runc) and its state dir. Only
 * when that is all there is to do: runc's own state.json, no hooks, no
 * systemd cgroups, the init alone in its PID namespace (nothing outlived
 * it). Anything else, or any step that fails, is left to runc delete.
 */
static bool delete_natively(shim *s)
{
	if (!s->own_pidns || s->cfg.runtime_root == NULL)
		return false;
	for (size_t i = 0; i < s->cfg.nruntime_args; i++)
		if (strstr(s->cfg.runtime_args[i], "systemd"))
			return false;
	char *dir cleanup_free = berth_xasprintf("%s/%s", s->cfg.runtime_root, s->cfg.id);
	char *path cleanup_free = berth_xasprintf("%s/state.json", dir);
	char *data cleanup_free = NULL;
	size_t len;
	json_t *state cleanup_json = NULL;
	if (berth_file_read_all(path, &data, &len, NULL) < 0 ||
	    berth_json_parse_object(data, len, &state, NULL) < 0)
		return false;
	const json_t *hooks = json_object_get(json_object_get(state, "config"), "Hooks");
	const json_t *paths = json_object_get(state, "cgroup_paths");
	const char *rdt = berth_json_string(state, "intel_rdt_path");
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)hooks, key, v) {
		if (json_array_size(v) > 0)
			return false;
	}
	if (!json_is_object(paths) || (rdt && *rdt))
		return false;
	json_object_foreach((json_t *)paths, key, v) {
		if (!json_is_string(v) || !rmdir_cgroup(s, json_string_value(v)))
			return false;
	}
	return berth_remove_all(dir, NULL) == 0;
}

int shim_runtime_delete(shim *s, berth_error **err)
{
	if (delete_natively(s))
		return 0;
	const char *args[] = {"delete", "--force", s->cfg.id, NULL};
	return run(s, args, NULL, err);
}

int shim_read_pid_file(const char *path, pid_t *out, berth_error **err)
{
	char *data cleanup_free = NULL;
	if (berth_file_read_all(path, &data, NULL, err) < 0)
		return -1;
	char *end;
	long v = strtol(data, &end, 10);
	if (end == data || v <= 0)
		return berth_error_set(err, 500, "bad pid file %s", path);
	*out = (pid_t)v;
	return 0;
}
